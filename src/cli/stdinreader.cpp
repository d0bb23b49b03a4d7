#include "stdinreader.h"

#include <QtCore/qsocketnotifier.h>

#include <cerrno>
#include <utility>
#include <unistd.h>

namespace cli {

StdinReader::StdinReader(QObject *parent) : QObject(parent) { }

void StdinReader::start()
{
    if (m_active)
        return;
    m_active = true;
    if (!m_notifier) {
        m_notifier = new QSocketNotifier(STDIN_FILENO, QSocketNotifier::Read, this);
        connect(m_notifier, &QSocketNotifier::activated, this, &StdinReader::readAvailable);
    }
    m_notifier->setEnabled(true);
}

void StdinReader::stop()
{
    m_active = false;
    if (m_notifier)
        m_notifier->setEnabled(false);
}

void StdinReader::readAvailable()
{
    char chunk[4096];
    // One read per notification: the descriptor is readable, so it does not
    // block, and a second read might.
    const ssize_t count = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (count < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (count > 0) {
        m_buffer.append(chunk, qsizetype(count));
        emitLines();
        return;
    }
    // End of input: a last line without a terminator still counts.
    if (m_buffer.endsWith('\r'))
        m_buffer.chop(1);
    const QByteArray rest = std::exchange(m_buffer, QByteArray());
    if (!rest.isEmpty())
        Q_EMIT lineRead(rest);
    if (m_active) {
        stop();
        Q_EMIT finished();
    }
}

void StdinReader::emitLines()
{
    qsizetype end;
    while (m_active && (end = m_buffer.indexOf('\n')) >= 0) {
        QByteArray line = m_buffer.left(end);
        m_buffer.remove(0, end + 1);
        if (line.endsWith('\r'))
            line.chop(1);
        Q_EMIT lineRead(line);
    }
}

} // namespace cli
