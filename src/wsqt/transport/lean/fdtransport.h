#pragma once

// The lean transport for plain TCP connections, those a WsServer accepts and
// a client's after a direct handshake: the native descriptor in its
// thread's epoll set, reads straight into the caller's buffer, writes
// coalesced with sendmsg, and no buffers of its own beyond what the kernel
// did not take yet. It costs a fraction of a QTcpSocket per connection. TLS,
// proxies and UNIX sockets keep QSslSocket, QTcpSocket and QLocalSocket.

#include "epollset.h"
#include "transport/transport.h"

#include <QtCore/qbytearraylist.h>
#include <QtCore/qiodevice.h>

class QTcpSocket;

namespace wsqt::transport {

class FdTransport;

// The lean transport as a QIODevice, for what speaks to one: a refusal's
// response, the device clientError() hands the application. Made on first
// use only: an accepted connection never needs it, and a QIODevice costs
// each connection a few hundred bytes.
class FdDevice final : public QIODevice
{
    Q_OBJECT

public:
    explicit FdDevice(FdTransport *transport);

    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override;
    qint64 bytesToWrite() const override;
    void close() override;

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    friend class FdTransport;
    void transportClosed();

    FdTransport *m_transport;
};

class FdTransport final : public Transport, private ReadinessListener
{
    Q_OBJECT

public:
    // Takes the connected, non-blocking descriptor over.
    explicit FdTransport(qintptr descriptor, QObject *parent = nullptr);
    ~FdTransport() override;
    // The connection of `socket`, connected straight to its peer, on a
    // descriptor of its own; null where none could be had. The socket may
    // then be closed: the connection stays open.
    static FdTransport *adopt(QTcpSocket *socket);

    void end() override;
    void destroy() override;
    // Queues a chunk without copying it; flushWrites() sends what is queued.
    void write(const QByteArray &chunk) override;
    void flushWrites() override;
    qint64 read(char *data, qint64 maxSize) override;
    qint64 bytesAvailable() const override;
    bool isReadable() const override;
    qint64 bytesToWrite() const override { return m_queuedBytes; }
    // 0: the reader reads as data comes. Otherwise the reader has paused:
    // the transport reads ahead into a buffer of its own up to this many
    // bytes, then stops (TCP pushes back), so that the end of the stream is
    // still seen, as QTcpSocket's read buffer limit does.
    void setReadBufferLimit(qint64 bytes) override;
    // Reads nothing, not even ahead, until the next setReadBufferLimit().
    void stopReading() override;
    // Whether write progress is reported (to the listener, from the event loop).
    void watchWrites(bool watch) override { m_writesWatched = watch; }
    bool isConnected() const override { return m_descriptor >= 0; }
    QHostAddress peerAddress() const override;
    quint16 peerPort() const override;
    QHostAddress localAddress() const override;
    quint16 localPort() const override;
    QString peerName() const override;

protected:
    QIODevice *makeDevice() override;

private:
    friend class FdDevice;
    static constexpr qint64 kStopped = -1;

    void ready(quint32 readiness) override;
    void drainAndFinish();
    void onReadable();
    void peerEnded(const QString &error);
    // Sends at once what the kernel takes; queues the rest (a copy).
    qint64 writeNow(const char *data, qint64 size);
    // Reads are watched unless the stream ended or the read-ahead is full;
    // writes while the kernel's send buffer is full.
    bool isReadWatched() const;
    void updateWatch();
    void watchWritable(bool watch);
    void reportWritten(qint64 bytes);
    void finishLater(const QString &error);
    void finish(const QString &error);

    qintptr m_descriptor;
    FdDevice *m_adapter = nullptr;     // a child, once asked for
    QByteArrayList m_queue;
    qsizetype m_headOffset = 0;       // bytes of m_queue.first() already sent
    qint64 m_queuedBytes = 0;
    QByteArray m_readAhead;
    qint64 m_readAheadLimit = 0;      // or kStopped
    bool m_writeWatched = false;      // for room in the kernel's send buffer
    bool m_writesWatched = false;     // by the listener
    bool m_reportScheduled = false;
    bool m_shutdownPending = false;
    bool m_peerEnded = false;
};

} // namespace wsqt::transport
