#pragma once

// The byte stream under a WebSocket: a TCP, TLS or local socket behind one
// small interface, so the rest of the transport layer never asks which.

#include <QtCore/qobject.h>
#include <QtCore/qpointer.h>
#include <QtNetwork/qhostaddress.h>
#include <QtNetwork/qsslcertificate.h>

class QAbstractSocket;
class QIODevice;
class QLocalSocket;

namespace wsqt::transport {

// The one reader of a transport (the upgrade reader, then the socket), told
// by calls rather than signals: a signal connection costs each connection a
// few hundred bytes for as long as it lives.
class TransportListener
{
public:
    // There are bytes to read, or the end of the stream to see.
    virtual void transportReadable() = 0;
    // The transport ended, from the event loop: disconnected() follows.
    virtual void transportEnded() = 0;
    // Writes went to the network, while watchWrites() is on.
    virtual void transportWritten() { }

protected:
    ~TransportListener() = default;
};

class Transport : public QObject
{
    Q_OBJECT

public:
    // Takes ownership of the socket (it becomes the transport's child).
    static Transport *create(QAbstractSocket *socket, QObject *parent = nullptr);
    static Transport *create(QLocalSocket *socket, QObject *parent = nullptr);
    // For a socket of either kind behind a QIODevice pointer; null otherwise.
    static Transport *create(QIODevice *device, QObject *parent = nullptr);

    ~Transport() override;

    // The stream as a QIODevice, for what speaks to one (a refusal's
    // response, clientError()); the lean transport makes one when asked.
    QIODevice *device();
    // Null: nobody. A listener that goes first sets null.
    void setListener(TransportListener *listener) { m_listener = listener; }
    virtual bool isConnected() const;
    // True for TLS.
    virtual bool isSecure() const { return false; }
    // The peer's TLS certificate, when it presented one.
    virtual QSslCertificate peerCertificate() const { return QSslCertificate(); }

    // disconnected() is always emitted from the event loop, once, never from
    // inside a call to the transport.

    // Writes what is buffered, then ends the sending side (a TCP FIN, or the
    // TLS close_notify) and waits for the peer to close: disconnected() follows.
    virtual void end() = 0;
    // Closes at once, discarding what is buffered: disconnected() follows.
    virtual void destroy() = 0;

    virtual QHostAddress peerAddress() const { return {}; }
    virtual quint16 peerPort() const { return 0; }
    virtual QHostAddress localAddress() const { return {}; }
    virtual quint16 localPort() const { return 0; }
    // The peer's name for a local socket, the host otherwise.
    virtual QString peerName() const = 0;

    // Bytes handed over and not yet written to the network; for TLS, those
    // already encrypted too.
    virtual qint64 bytesToWrite() const;
    // While watched, the listener hears of the writes to the network.
    virtual void watchWrites(bool watch);
    // Stops reading from the network once this many bytes are buffered, so a
    // peer that sends too early or too much meets TCP backpressure; 0: reads
    // as the reader takes the data (a Qt socket still buffers at most 1 MiB).
    virtual void setReadBufferLimit(qint64 bytes);
    // Stops reading until the next setReadBufferLimit(): TCP pushes back.
    // Unlike a limit, nothing is read ahead where the transport can help it.
    virtual void stopReading();
    // Hands a chunk over for sending (without copying it where the transport
    // can); flushWrites() then sends what was handed over, in one go where it can.
    virtual void write(const QByteArray &chunk);
    virtual void flushWrites() { }
    // Reads what has arrived, up to maxSize bytes: 0 when nothing has (yet),
    // -1 once the stream has ended and nothing of it is left.
    virtual qint64 read(char *data, qint64 maxSize);
    QByteArray readAll();
    virtual qint64 bytesAvailable() const;
    // False once the stream has ended and everything of it was read.
    virtual bool isReadable() const;

Q_SIGNALS:
    void disconnected();
    void errorOccurred(const QString &message);

protected:
    // `device` may be null when makeDevice() makes one.
    explicit Transport(QIODevice *device, QObject *parent);
    virtual QIODevice *makeDevice() { return nullptr; }
    void emitDisconnectedOnce();
    void reportError(const QString &message);
    void notifyReadable()
    {
        if (m_listener)
            m_listener->transportReadable();
    }
    void notifyWritten()
    {
        if (m_listener)
            m_listener->transportWritten();
    }

private:
    QIODevice *m_device;
    TransportListener *m_listener = nullptr;
    QMetaObject::Connection m_writeWatch;
    bool m_disconnectedEmitted = false;
};

} // namespace wsqt::transport
