#include "transport.h"

#include "logging.h"

#include <QtNetwork/qabstractsocket.h>
#include <QtNetwork/qlocalsocket.h>
#include <QtNetwork/qsslsocket.h>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

#include <functional>
#include <memory>

namespace wsqt::transport {

namespace {

constexpr qint64 kStoppedReadBufferSize = 64 * 1024;
// A Qt socket reads into a buffer of its own: without a limit, a fast peer
// fills it faster than the socket's reader takes its share of each turn.
constexpr qint64 kFlowingReadBufferSize = 1024 * 1024;

// Ends a socket like Node's socket.end(): once the write buffer is empty,
// shutdown(SHUT_WR) sends a FIN and the socket stays readable until the peer
// closes its side. Qt has no half-close; where the platform's is not at hand
// the socket is closed instead.
void halfCloseWhenFlushed(QIODevice *device, qintptr descriptor, const std::function<void()> &fallback)
{
    const auto shutdownNow = [descriptor, fallback] {
#ifdef Q_OS_UNIX
        if (descriptor >= 0 && ::shutdown(int(descriptor), SHUT_WR) == 0)
            return;
#else
        Q_UNUSED(descriptor);
#endif
        fallback();
    };
    if (device->bytesToWrite() == 0) {
        shutdownNow();
        return;
    }
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = QObject::connect(device, &QIODevice::bytesWritten, device, [=] {
        if (device->bytesToWrite() > 0)
            return;
        QObject::disconnect(*connection);
        shutdownNow();
    });
}

class TcpTransport final : public Transport
{
public:
    TcpTransport(QAbstractSocket *socket, QObject *parent) : Transport(socket, parent), m_socket(socket)
    {
        socket->setParent(this);
        connect(socket, &QIODevice::readyRead, this, &TcpTransport::notifyReadable);
        connect(socket, &QAbstractSocket::disconnected, this, &TcpTransport::emitDisconnectedOnce);
        connect(socket, &QAbstractSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
            // The peer closing is the normal end, reported by disconnected().
            if (error != QAbstractSocket::RemoteHostClosedError)
                reportError(m_socket->errorString());
            if (m_socket->state() == QAbstractSocket::UnconnectedState)
                emitDisconnectedOnce();
        });
    }

    bool isSecure() const override
    {
        auto *ssl = qobject_cast<QSslSocket *>(m_socket);
        return ssl && ssl->isEncrypted();
    }

    QSslCertificate peerCertificate() const override
    {
        auto *ssl = qobject_cast<QSslSocket *>(m_socket);
        return ssl ? ssl->peerCertificate() : QSslCertificate();
    }

    // QSslSocket counts only what it has not encrypted yet: a peer that
    // does not read leaves the rest encrypted in its buffers.
    qint64 bytesToWrite() const override
    {
        auto *ssl = qobject_cast<QSslSocket *>(m_socket);
        return m_socket->bytesToWrite() + (ssl ? ssl->encryptedBytesToWrite() : 0);
    }

    // Over TLS, the writes to the network: QSslSocket's bytesWritten()
    // comes as it encrypts, before the encrypted bytes are queued, when
    // bytesToWrite() would see nothing left.
    void watchWrites(bool watch) override
    {
        auto *ssl = qobject_cast<QSslSocket *>(m_socket);
        if (!ssl) {
            Transport::watchWrites(watch);
            return;
        }
        if (watch == bool(m_encryptedWriteWatch))
            return;
        if (watch)
            m_encryptedWriteWatch = connect(ssl, &QSslSocket::encryptedBytesWritten, this, &TcpTransport::notifyWritten);
        else
            disconnect(std::exchange(m_encryptedWriteWatch, {}));
    }

    void end() override
    {
        if (m_socket->state() != QAbstractSocket::ConnectedState) {
            destroy();
            return;
        }
        if (isSecure()) {
            m_socket->disconnectFromHost();
            return;
        }
        halfCloseWhenFlushed(m_socket, m_socket->socketDescriptor(),
                             [socket = m_socket] { socket->disconnectFromHost(); });
    }

    void destroy() override
    {
        m_socket->abort();
        emitDisconnectedOnce();
    }

    QHostAddress peerAddress() const override { return m_socket->peerAddress(); }
    quint16 peerPort() const override { return m_socket->peerPort(); }
    QHostAddress localAddress() const override { return m_socket->localAddress(); }
    quint16 localPort() const override { return m_socket->localPort(); }
    QString peerName() const override { return m_socket->peerName(); }

private:
    QAbstractSocket *m_socket;
    QMetaObject::Connection m_encryptedWriteWatch;
};

class LocalTransport final : public Transport
{
public:
    LocalTransport(QLocalSocket *socket, QObject *parent) : Transport(socket, parent), m_socket(socket)
    {
        socket->setParent(this);
        connect(socket, &QIODevice::readyRead, this, &LocalTransport::notifyReadable);
        connect(socket, &QLocalSocket::disconnected, this, &LocalTransport::emitDisconnectedOnce);
        connect(socket, &QLocalSocket::errorOccurred, this, [this](QLocalSocket::LocalSocketError error) {
            if (error != QLocalSocket::PeerClosedError)
                reportError(m_socket->errorString());
            if (m_socket->state() == QLocalSocket::UnconnectedState)
                emitDisconnectedOnce();
        });
    }

    void end() override
    {
        if (m_socket->state() != QLocalSocket::ConnectedState) {
            destroy();
            return;
        }
        halfCloseWhenFlushed(m_socket, m_socket->socketDescriptor(),
                             [socket = m_socket] { socket->disconnectFromServer(); });
    }

    void destroy() override
    {
        m_socket->abort();
        emitDisconnectedOnce();
    }

    QString peerName() const override { return m_socket->fullServerName(); }

private:
    QLocalSocket *m_socket;
};

} // namespace

Transport::Transport(QIODevice *device, QObject *parent) : QObject(parent), m_device(device) { }

Transport::~Transport() = default;

Transport *Transport::create(QAbstractSocket *socket, QObject *parent)
{
    return new TcpTransport(socket, parent);
}

Transport *Transport::create(QLocalSocket *socket, QObject *parent)
{
    return new LocalTransport(socket, parent);
}

Transport *Transport::create(QIODevice *device, QObject *parent)
{
    if (auto *socket = qobject_cast<QAbstractSocket *>(device))
        return create(socket, parent);
    if (auto *socket = qobject_cast<QLocalSocket *>(device))
        return create(socket, parent);
    return nullptr;
}

QIODevice *Transport::device()
{
    if (!m_device)
        m_device = makeDevice();
    return m_device;
}

qint64 Transport::read(char *data, qint64 maxSize)
{
    return m_device->read(data, maxSize);
}

QByteArray Transport::readAll()
{
    constexpr qint64 kChunk = 4096;
    QByteArray data;
    for (;;) {
        const qint64 wanted = qMax(bytesAvailable(), kChunk);
        const qsizetype old = data.size();
        data.resize(old + qsizetype(wanted));
        const qint64 read = this->read(data.data() + old, wanted);
        data.resize(old + qsizetype(qMax<qint64>(read, 0)));
        if (read < wanted)
            return data;
    }
}

qint64 Transport::bytesAvailable() const
{
    return m_device->bytesAvailable();
}

bool Transport::isReadable() const
{
    return m_device->isOpen();
}

bool Transport::isConnected() const
{
    if (auto *socket = qobject_cast<QAbstractSocket *>(m_device))
        return socket->state() == QAbstractSocket::ConnectedState;
    if (auto *socket = qobject_cast<QLocalSocket *>(m_device))
        return socket->state() == QLocalSocket::ConnectedState;
    return false;
}

qint64 Transport::bytesToWrite() const
{
    return m_device->bytesToWrite();
}

void Transport::watchWrites(bool watch)
{
    if (watch == bool(m_writeWatch))
        return;
    if (watch)
        m_writeWatch = connect(m_device, &QIODevice::bytesWritten, this, &Transport::notifyWritten);
    else
        disconnect(std::exchange(m_writeWatch, {}));
}

void Transport::setReadBufferLimit(qint64 bytes)
{
    const qint64 limit = bytes > 0 ? bytes : kFlowingReadBufferSize;
    if (auto *socket = qobject_cast<QAbstractSocket *>(m_device))
        socket->setReadBufferSize(limit);
    else if (auto *socket = qobject_cast<QLocalSocket *>(m_device))
        socket->setReadBufferSize(limit);
}

void Transport::stopReading()
{
    // A Qt socket reads into its own buffer in any case: it is kept small.
    setReadBufferLimit(kStoppedReadBufferSize);
}

void Transport::write(const QByteArray &chunk)
{
    m_device->write(chunk);
}

void Transport::reportError(const QString &message)
{
    qCDebug(lcSocket) << this << "transport error:" << message;
    Q_EMIT errorOccurred(message);
}

void Transport::emitDisconnectedOnce()
{
    if (m_disconnectedEmitted)
        return;
    m_disconnectedEmitted = true;
    // Never from inside a call: a write, an end() or a destroy() that meets
    // the end of the connection returns to a caller that still holds the
    // transport, and the listener may delete its socket.
    QMetaObject::invokeMethod(this, [this] {
        QPointer<Transport> guard(this);
        if (m_listener)
            m_listener->transportEnded();
        if (guard)
            Q_EMIT disconnected();
    }, Qt::QueuedConnection);
}

} // namespace wsqt::transport
