#include <wsqt/wsstream.h>

#include <wsqt/wssocket.h>

#include "transport/scheduleonce.h"

#include <QtCore/qbytearraylist.h>
#include <QtCore/qpointer.h>

#include <cstring>
#include <deque>

namespace {

// The message ws gives for a send on a socket that is not open.
QString notOpenMessage(WsSocket::ReadyState state)
{
    static const char *const names[] = {"CONNECTING", "OPEN", "CLOSING", "CLOSED"};
    return QStringLiteral("WebSocket is not open: readyState %1 (%2)")
            .arg(int(state))
            .arg(QLatin1String(names[state]));
}

} // namespace

class WsStreamPrivate
{
public:
    WsStreamPrivate(WsStream *q, WsSocket *socket, const WsStreamOptions &options)
        : q(q), socket(socket), options(options)
    {
    }

    void connectSocket();
    void sendUnsent();
    bool append(const QByteArray &data);
    void dataArrived();
    void pauseIfFull();
    void scheduleResumeCheck();
    void resumeIfRead();
    qint64 take(char *data, qint64 maxSize);
    WsError send(const QByteArray &message);
    void messageWritten(qint64 size, const WsError &error);
    void setError(const QString &message);
    void finishReading();
    void socketClosed();
    void socketDestroyed();
    void emitReadyRead();
    void emitBytesWritten(qint64 bytes);
    void release(bool terminate);

    WsStream *q;
    QPointer<WsSocket> socket;
    const WsStreamOptions options;

    // Messages received and not yet taken by QIODevice; the first one is
    // consumed up to headOffset.
    std::deque<QByteArray> received;
    qsizetype headOffset = 0;
    qint64 receivedBytes = 0;
    bool readFinished = false;      // the socket closed or failed: nothing more comes
    bool pausedSocket = false;      // this stream paused the socket
    bool resumeCheckScheduled = false;

    QByteArrayList unsent;          // written while the socket connects
    qint64 unconfirmed = 0;         // bytesToWrite()
    bool errorReported = false;

    bool emittingReadyRead = false;
    bool readyReadAgain = false;
    bool emittingBytesWritten = false;
    qint64 writtenToReport = 0;
};

void WsStreamPrivate::connectSocket()
{
    QObject::connect(socket, &WsSocket::opened, q, [this] { sendUnsent(); });
    QObject::connect(socket, &WsSocket::messageReceived, q, [this](const QByteArray &message) {
        if (append(message))
            dataArrived();
    });
    QObject::connect(socket, &WsSocket::fragmentsReceived, q, [this](const QByteArrayList &fragments) {
        bool added = false;
        for (const QByteArray &fragment : fragments)
            added |= append(fragment);
        if (added)
            dataArrived();
    });
    QObject::connect(socket, &WsSocket::errorOccurred, q, [this](const WsError &error) {
        // Every socket error ends the connection; nothing is received after it.
        setError(error.message());
        finishReading();
    });
    QObject::connect(socket, &WsSocket::closed, q, [this] { socketClosed(); });
    QObject::connect(socket, &QObject::destroyed, q, [this] { socketDestroyed(); });
}

void WsStreamPrivate::sendUnsent()
{
    const QByteArrayList messages = std::exchange(unsent, {});
    for (const QByteArray &message : messages) {
        if (const WsError error = send(message); error.isError())
            setError(error.message());
    }
}

// Empty messages add nothing to a byte stream.
bool WsStreamPrivate::append(const QByteArray &data)
{
    if (data.isEmpty())
        return false;
    received.push_back(data);
    receivedBytes += data.size();
    return true;
}

void WsStreamPrivate::dataArrived()
{
    pauseIfFull();
    emitReadyRead();
}

void WsStreamPrivate::pauseIfFull()
{
    if (options.readBufferLimit <= 0 || !socket || socket->isPaused()
        || q->bytesAvailable() <= options.readBufferLimit)
        return;
    socket->pause();
    pausedSocket = socket->isPaused();
}

void WsStreamPrivate::scheduleResumeCheck()
{
    // Checked once the read that took the data has returned, when
    // QIODevice's own buffer is counted right.
    wsqt::transport::scheduleOnce(q, resumeCheckScheduled, [this] { resumeIfRead(); });
}

void WsStreamPrivate::resumeIfRead()
{
    if (!pausedSocket || !socket)
        return;
    // Everything that arrived was taken: the reader wants more than there
    // is, even when a transaction put it back (a record larger than the limit).
    if (!received.empty() && q->bytesAvailable() > options.readBufferLimit)
        return;
    pausedSocket = false;
    socket->resume();
}

qint64 WsStreamPrivate::take(char *data, qint64 maxSize)
{
    qint64 copied = 0;
    while (copied < maxSize && !received.empty()) {
        const QByteArray &front = received.front();
        const qint64 count = qMin(maxSize - copied, qint64(front.size() - headOffset));
        std::memcpy(data + copied, front.constData() + headOffset, size_t(count));
        copied += count;
        headOffset += qsizetype(count);
        if (headOffset == front.size()) {
            received.pop_front();
            headOffset = 0;
        }
    }
    receivedBytes -= copied;
    return copied;
}

WsError WsStreamPrivate::send(const QByteArray &message)
{
    WsSendOptions sendOptions;
    sendOptions.binary = options.binary;
    const qint64 size = message.size();
    const QPointer<WsStream> guard(q);
    // The socket calls back exactly once, also when it refuses the message.
    return socket->send(message, sendOptions, [guard, size](const WsError &error) {
        if (guard)
            guard->d->messageWritten(size, error);
    });
}

void WsStreamPrivate::messageWritten(qint64 size, const WsError &error)
{
    if (!q->isOpen())
        return;
    unconfirmed -= size;
    if (error.isError())
        setError(error.message());
    else
        emitBytesWritten(size);
}

void WsStreamPrivate::setError(const QString &message)
{
    errorReported = true;
    q->setErrorString(message);
}

void WsStreamPrivate::finishReading()
{
    if (readFinished)
        return;
    readFinished = true;
    Q_EMIT q->readChannelFinished();
}

void WsStreamPrivate::socketClosed()
{
    if (!unsent.isEmpty()) {
        // The socket never opened; the reason was reported when it has one.
        for (const QByteArray &message : std::as_const(unsent))
            unconfirmed -= message.size();
        unsent.clear();
        if (!errorReported)
            setError(QStringLiteral("The WebSocket closed before the data was written"));
    }
    pausedSocket = false;
    finishReading();
}

void WsStreamPrivate::socketDestroyed()
{
    // Its pending callbacks went with it.
    unsent.clear();
    unconfirmed = 0;
    pausedSocket = false;
    if (!readFinished)
        setError(QStringLiteral("The WebSocket was destroyed"));
    finishReading();
}

void WsStreamPrivate::emitReadyRead()
{
    // Not emitted recursively (a receiver that runs an event loop); what
    // arrives meanwhile is announced once the receiver has returned.
    if (emittingReadyRead) {
        readyReadAgain = true;
        return;
    }
    const QPointer<WsStream> guard(q);
    emittingReadyRead = true;
    do {
        readyReadAgain = false;
        Q_EMIT q->readyRead();
        if (!guard)
            return;
    } while (readyReadAgain && q->isOpen());
    emittingReadyRead = false;
}

void WsStreamPrivate::emitBytesWritten(qint64 bytes)
{
    writtenToReport += bytes;
    if (emittingBytesWritten)
        return;
    const QPointer<WsStream> guard(q);
    emittingBytesWritten = true;
    while (writtenToReport > 0 && q->isOpen()) {
        Q_EMIT q->bytesWritten(std::exchange(writtenToReport, 0));
        if (!guard)
            return;
    }
    emittingBytesWritten = false;
}

void WsStreamPrivate::release(bool terminate)
{
    received.clear();
    headOffset = 0;
    receivedBytes = 0;
    unconfirmed = 0;
    const QByteArrayList messages = std::exchange(unsent, {});
    if (!socket)
        return;
    WsSocket *const target = socket;
    target->disconnect(q);
    if (std::exchange(pausedSocket, false)) {
        // A paused socket would not read the peer's close frame.
        target->resume();
    }
    if (terminate) {
        target->terminate();
        return;
    }
    switch (target->readyState()) {
    case WsSocket::Connecting: {
        // As ws's stream.end(): what was written goes out once the socket
        // is open, then it closes. The socket carries this on its own.
        WsSendOptions sendOptions;
        sendOptions.binary = options.binary;
        QObject::connect(target, &WsSocket::opened, target, [target, messages, sendOptions] {
            for (const QByteArray &message : messages)
                target->send(message, sendOptions);
            target->close();
        }, Qt::SingleShotConnection);
        break;
    }
    case WsSocket::Open:
        target->close();
        break;
    case WsSocket::Closing:
    case WsSocket::Closed:
        break;
    }
}

// ---- WsStream --------------------------------------------------------------

WsStream::WsStream(WsSocket *socket, const WsStreamOptions &options, QObject *parent)
    : QIODevice(parent), d(new WsStreamPrivate(this, socket, options))
{
    const WsSocket::ReadyState state = socket ? socket->readyState() : WsSocket::Closed;
    if (state == WsSocket::Closed) {
        setErrorString(notOpenMessage(state));
        return;
    }
    QIODevice::open(ReadWrite);
    d->connectSocket();
}

WsStream::~WsStream()
{
    close();
}

WsSocket *WsStream::socket() const
{
    return d->socket;
}

WsStreamOptions WsStream::options() const
{
    return d->options;
}

bool WsStream::open(OpenMode)
{
    setErrorString(QStringLiteral("A WsStream opens itself when it is created"));
    return false;
}

void WsStream::close()
{
    if (!isOpen())
        return;
    // aboutToClose() comes first: its receivers may still write.
    QIODevice::close();
    d->release(false);
}

void WsStream::abort()
{
    if (!isOpen())
        return;
    QIODevice::close();
    d->release(true);
}

bool WsStream::isSequential() const
{
    return true;
}

qint64 WsStream::bytesAvailable() const
{
    return d->receivedBytes + QIODevice::bytesAvailable();
}

qint64 WsStream::bytesToWrite() const
{
    return d->unconfirmed + QIODevice::bytesToWrite();
}

bool WsStream::canReadLine() const
{
    if (QIODevice::canReadLine())
        return true;
    qsizetype offset = d->headOffset;
    for (const QByteArray &message : d->received) {
        if (std::memchr(message.constData() + offset, '\n', size_t(message.size() - offset)))
            return true;
        offset = 0;
    }
    return false;
}

bool WsStream::atEnd() const
{
    return !isOpen() || (d->readFinished && bytesAvailable() == 0);
}

qint64 WsStream::readData(char *data, qint64 maxSize)
{
    const qint64 taken = d->take(data, maxSize);
    if (d->pausedSocket)
        d->scheduleResumeCheck();
    // Reading past the end is an error for a sequential device.
    if (taken == 0 && maxSize > 0 && d->readFinished)
        return -1;
    return taken;
}

qint64 WsStream::writeData(const char *data, qint64 size)
{
    // A byte stream has no empty message to send.
    if (size == 0)
        return 0;
    const WsSocket::ReadyState state = d->socket ? d->socket->readyState() : WsSocket::Closed;
    if (state == WsSocket::Connecting) {
        d->unsent.append(QByteArray(data, qsizetype(size)));
        d->unconfirmed += size;
        return size;
    }
    if (state != WsSocket::Open) {
        d->setError(notOpenMessage(state));
        return -1;
    }
    // A receiver of opened() connected before this stream writes ahead of
    // what waited for the connection: that goes first.
    d->sendUnsent();
    d->unconfirmed += size;
    if (const WsError error = d->send(QByteArray(data, qsizetype(size))); error.isError()) {
        d->setError(error.message());
        return -1;
    }
    return size;
}
