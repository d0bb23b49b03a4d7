#pragma once

#include <QtCore/qbytearray.h>
#include <QtCore/qobject.h>

class QSocketNotifier;

namespace cli {

// Reads standard input line by line without blocking the event loop.
class StdinReader : public QObject
{
    Q_OBJECT

public:
    explicit StdinReader(QObject *parent = nullptr);

    void start();
    // No line is reported after this, even one already read.
    void stop();

Q_SIGNALS:
    // A line without its "\n" or "\r\n".
    void lineRead(const QByteArray &line);
    // The end of input, or a read error; a last line without "\n" comes first.
    void finished();

private:
    void readAvailable();
    void emitLines();

    QSocketNotifier *m_notifier = nullptr;
    QByteArray m_buffer;
    bool m_active = false;
};

} // namespace cli
