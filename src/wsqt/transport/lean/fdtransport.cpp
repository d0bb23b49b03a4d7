#include "fdtransport.h"

#include "core/liststorage.h"
#include "transport/scheduleonce.h"

#include <QtCore/qmetaobject.h>
#include <QtNetwork/qtcpsocket.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace wsqt::transport {

namespace {

// writev() takes at most this many pieces at a time (IOV_MAX is 1024 on Linux).
constexpr int kMaxIovecs = 64;
// At the end of a connection, the most of what the kernel still holds that
// is kept for the reader.
constexpr qsizetype kMaxDrainAtEnd = 256 * 1024;

QString errnoMessage(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

bool wouldBlock(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

} // namespace

// ---- FdDevice ----------------------------------------------------------------

FdDevice::FdDevice(FdTransport *transport) : QIODevice(transport), m_transport(transport)
{
    if (transport->isReadable())
        QIODevice::open(QIODevice::ReadWrite | QIODevice::Unbuffered);
}

qint64 FdDevice::bytesAvailable() const
{
    return m_transport->bytesAvailable();
}

qint64 FdDevice::bytesToWrite() const
{
    return m_transport->bytesToWrite();
}

void FdDevice::close()
{
    m_transport->finish({});
}

qint64 FdDevice::readData(char *data, qint64 maxSize)
{
    return m_transport->read(data, maxSize);
}

qint64 FdDevice::writeData(const char *data, qint64 size)
{
    return m_transport->writeNow(data, size);
}

void FdDevice::transportClosed()
{
    QIODevice::close();
}

// ---- FdTransport ---------------------------------------------------------------

FdTransport::FdTransport(qintptr descriptor, QObject *parent) : Transport(nullptr, parent), m_descriptor(descriptor)
{
    const int fd = int(descriptor);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    updateWatch();
}

FdTransport::~FdTransport()
{
    if (m_descriptor < 0)
        return;
    EpollSet::forThisThread()->forget(int(m_descriptor), this);
    ::close(int(m_descriptor));
}

QIODevice *FdTransport::makeDevice()
{
    m_adapter = new FdDevice(this);
    return m_adapter;
}

void FdTransport::ready(quint32 readiness)
{
    if (readiness & Failed) {
        drainAndFinish();
        return;
    }
    if (readiness & Writable)
        flushWrites();
    if (readiness & Readable && m_descriptor >= 0)
        onReadable();
}

void FdTransport::drainAndFinish()
{
    // A reset, or both directions closed: reported again and again until
    // the descriptor goes, whatever is watched. What the kernel still holds
    // is read ahead, for the reader to take after the end.
    const qsizetype old = m_readAhead.size();
    m_readAhead.resize(old + kMaxDrainAtEnd);
    const ssize_t n = ::read(int(m_descriptor), m_readAhead.data() + old, size_t(kMaxDrainAtEnd));
    m_readAhead.resize(old + qMax<qsizetype>(qsizetype(n), 0));
    if (m_readAhead.isEmpty())
        m_readAhead = QByteArray();
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(int(m_descriptor), SOL_SOCKET, SO_ERROR, &error, &length);
    finish(error ? errnoMessage(error) : QString());
}

qint64 FdTransport::bytesAvailable() const
{
    int pending = 0;
    if (m_descriptor < 0 || ::ioctl(int(m_descriptor), FIONREAD, &pending) != 0)
        pending = 0;
    return pending + m_readAhead.size();
}

bool FdTransport::isReadable() const
{
    return m_descriptor >= 0 || !m_readAhead.isEmpty();
}

qint64 FdTransport::read(char *data, qint64 maxSize)
{
    if (!m_readAhead.isEmpty()) {
        const qsizetype n = qsizetype(qMin<qint64>(maxSize, m_readAhead.size()));
        std::memcpy(data, m_readAhead.constData(), size_t(n));
        // Drained, it is freed: a resumed connection keeps no buffer here.
        if (n == m_readAhead.size())
            m_readAhead = QByteArray();
        else
            m_readAhead.remove(0, n);
        updateWatch();
        return n;
    }
    if (m_descriptor < 0 || m_peerEnded)
        return -1;
    const ssize_t n = ::read(int(m_descriptor), data, size_t(maxSize));
    if (n > 0)
        return n;
    if (n < 0 && wouldBlock(errno))
        return 0;
    peerEnded(n < 0 ? errnoMessage(errno) : QString());
    return -1;
}

void FdTransport::onReadable()
{
    if (m_readAheadLimit == 0) {
        // The listener may end the transport; it is deleted later, if at all.
        notifyReadable();
        if (m_adapter)
            Q_EMIT m_adapter->readyRead();
        return;
    }
    const qsizetype old = m_readAhead.size();
    const qsizetype room = qsizetype(m_readAheadLimit) - old;
    if (room <= 0 || m_descriptor < 0) {
        updateWatch();
        return;
    }
    m_readAhead.resize(old + room);
    const ssize_t n = ::read(int(m_descriptor), m_readAhead.data() + old, size_t(room));
    const int readError = errno;
    if (n > 0 || old > 0)
        m_readAhead.resize(old + qMax<qsizetype>(qsizetype(n), 0));
    else
        m_readAhead = QByteArray();   // nothing came: no buffer kept for it
    if (n > 0)
        updateWatch();
    else if (n == 0 || !wouldBlock(readError))
        peerEnded(n < 0 ? errnoMessage(readError) : QString());
}

void FdTransport::peerEnded(const QString &error)
{
    // The end of the stream: the connection ends once what is queued is sent.
    m_peerEnded = true;
    updateWatch();
    if (!error.isEmpty() || m_queue.isEmpty())
        finishLater(error);
}

qint64 FdTransport::writeNow(const char *data, qint64 size)
{
    if (m_descriptor < 0)
        return -1;
    qint64 sent = 0;
    if (m_queue.isEmpty()) {
        const ssize_t n = ::send(int(m_descriptor), data, size_t(size), MSG_NOSIGNAL);
        if (n < 0 && !wouldBlock(errno)) {
            finishLater(errnoMessage(errno));
            return -1;
        }
        sent = qMax<qint64>(n, 0);
        reportWritten(sent);
    }
    if (sent < size) {
        m_queue.append(QByteArray(data + sent, qsizetype(size - sent)));
        m_queuedBytes += size - sent;
        watchWritable(true);
    }
    return size;
}

void FdTransport::write(const QByteArray &chunk)
{
    if (m_descriptor < 0 || chunk.isEmpty())
        return;
    m_queue.append(chunk);
    m_queuedBytes += chunk.size();
}

void FdTransport::flushWrites()
{
    while (m_descriptor >= 0 && !m_queue.isEmpty()) {
        iovec pieces[kMaxIovecs];
        int count = 0;
        for (qsizetype i = 0; i < m_queue.size() && count < kMaxIovecs; ++i, ++count) {
            const qsizetype offset = i == 0 ? m_headOffset : 0;
            pieces[count].iov_base = const_cast<char *>(m_queue[i].constData() + offset);
            pieces[count].iov_len = size_t(m_queue[i].size() - offset);
        }
        ssize_t n;
        if (count == 1) {
            // The usual case, a batch coalesced into one chunk: send() skips
            // the copying in of a message header and an iovec array.
            n = ::send(int(m_descriptor), pieces[0].iov_base, pieces[0].iov_len, MSG_NOSIGNAL);
        } else {
            msghdr message = {};
            message.msg_iov = pieces;
            message.msg_iovlen = size_t(count);
            n = ::sendmsg(int(m_descriptor), &message, MSG_NOSIGNAL);
        }
        if (n < 0) {
            if (wouldBlock(errno)) {
                watchWritable(true);
                return;
            }
            finish(errnoMessage(errno));
            return;
        }
        m_queuedBytes -= n;
        reportWritten(n);
        qsizetype left = n;
        while (left > 0) {
            const qsizetype rest = m_queue.first().size() - m_headOffset;
            if (left < rest) {
                m_headOffset += left;
                break;
            }
            left -= rest;
            m_queue.removeFirst();
            m_headOffset = 0;
        }
        if (!m_queue.isEmpty() && count == kMaxIovecs)
            continue;   // more pieces than one call takes
        if (!m_queue.isEmpty()) {
            watchWritable(true);
            return;
        }
    }
    core::releaseIfEmpty(m_queue);
    watchWritable(false);
    if (m_descriptor < 0)
        return;
    if (m_shutdownPending) {
        m_shutdownPending = false;
        ::shutdown(int(m_descriptor), SHUT_WR);
    }
    if (m_peerEnded)
        finish({});
}

void FdTransport::end()
{
    if (m_descriptor < 0) {
        destroy();
        return;
    }
    // A FIN once everything queued is written.
    if (m_queue.isEmpty())
        ::shutdown(int(m_descriptor), SHUT_WR);
    else
        m_shutdownPending = true;
}

void FdTransport::destroy()
{
    finish({});
    emitDisconnectedOnce();
}

void FdTransport::setReadBufferLimit(qint64 bytes)
{
    m_readAheadLimit = bytes;
    updateWatch();
}

void FdTransport::stopReading()
{
    setReadBufferLimit(kStopped);
}

bool FdTransport::isReadWatched() const
{
    return !m_peerEnded && m_readAheadLimit != kStopped
            && (m_readAheadLimit == 0 || m_readAhead.size() < m_readAheadLimit);
}

void FdTransport::updateWatch()
{
    if (m_descriptor < 0)
        return;
    if (!EpollSet::forThisThread()->watch(int(m_descriptor), this, isReadWatched(), m_writeWatched))
        finishLater(QStringLiteral("epoll refused the descriptor"));
}

void FdTransport::reportWritten(qint64 bytes)
{
    // Posting an event for every write costs about as much as parsing a
    // small message, and most connections never ask how their writes go.
    if (bytes <= 0 || !m_writesWatched)
        return;
    // As a QTcpSocket reports bytesWritten(): never from inside a write.
    scheduleOnce(this, m_reportScheduled, [this] { notifyWritten(); });
}

void FdTransport::watchWritable(bool watch)
{
    if (watch == m_writeWatched)
        return;
    m_writeWatched = watch;
    updateWatch();
}

void FdTransport::finishLater(const QString &error)
{
    QMetaObject::invokeMethod(this, [this, error] { finish(error); }, Qt::QueuedConnection);
}

void FdTransport::finish(const QString &error)
{
    if (m_descriptor < 0)
        return;
    EpollSet::forThisThread()->forget(int(m_descriptor), this);
    ::close(int(m_descriptor));
    m_descriptor = -1;
    m_queue.clear();
    core::releaseIfEmpty(m_queue);
    m_queuedBytes = 0;
    // What was read ahead is still to be read: the device stays open for it.
    if (m_adapter && m_readAhead.isEmpty())
        m_adapter->transportClosed();
    if (!error.isEmpty())
        reportError(error);
    emitDisconnectedOnce();
}

namespace {

// The address and port of one end of a connected socket (null, 0 when unknown).
QPair<QHostAddress, quint16> socketName(qintptr descriptor, bool peer)
{
    sockaddr_storage storage = {};
    socklen_t length = sizeof storage;
    auto *raw = reinterpret_cast<sockaddr *>(&storage);
    if (descriptor < 0
        || (peer ? ::getpeername(int(descriptor), raw, &length) : ::getsockname(int(descriptor), raw, &length)) != 0)
        return {};
    const quint16 port = storage.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&storage)->sin6_port)
                                                       : ntohs(reinterpret_cast<sockaddr_in *>(&storage)->sin_port);
    return {QHostAddress(raw), port};
}

} // namespace

FdTransport *FdTransport::adopt(QTcpSocket *socket)
{
    // Closing the socket's own descriptor then ends nothing: no shutdown is
    // sent while another descriptor refers to the connection.
    const int descriptor = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    return descriptor < 0 ? nullptr : new FdTransport(descriptor);
}

QHostAddress FdTransport::peerAddress() const
{
    return socketName(m_descriptor, true).first;
}

quint16 FdTransport::peerPort() const
{
    return socketName(m_descriptor, true).second;
}

QHostAddress FdTransport::localAddress() const
{
    return socketName(m_descriptor, false).first;
}

quint16 FdTransport::localPort() const
{
    return socketName(m_descriptor, false).second;
}

QString FdTransport::peerName() const
{
    return peerAddress().toString();
}

} // namespace wsqt::transport
