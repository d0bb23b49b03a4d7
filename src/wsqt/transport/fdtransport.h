#pragma once

// The lean transport for plain TCP connections, those a WsServer accepts and
// a client's after a direct handshake: the native descriptor in its
// thread's epoll set, reads straight into the caller's buffer, writes
// coalesced with sendmsg, and no buffers of its own beyond what the kernel
// did not take yet. It costs a fraction of a QTcpSocket per connection. TLS,
// proxies and UNIX sockets keep QSslSocket, QTcpSocket and QLocalSocket.

#include "epollset.h"
#include "transport.h"

#include <QtCore/qbytearraylist.h>
#include <QtCore/qiodevice.h>

class QTcpSocket;

namespace wsqt::transport {

class FdTransport;

// WSQT_NO_LEAN_TRANSPORT set to a non-empty value at start-up keeps
// QTcpSocket for every connection (the test suite runs over both).
bool leanTransportEnabled();

class FdDevice : public QIODevice, private ReadinessListener
{
    Q_OBJECT

public:
    // Takes the connected, non-blocking descriptor over; opens ReadWrite and
    // Unbuffered. It tells `owner` what happens by calls, not signals.
    FdDevice(qintptr descriptor, FdTransport *owner);
    ~FdDevice() override;

    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override;
    qint64 bytesToWrite() const override { return m_queuedBytes; }
    void close() override;

    qintptr descriptor() const { return m_descriptor; }
    bool isConnected() const { return m_descriptor >= 0; }
    // Queues a chunk without copying it; flush() sends what is queued.
    void queue(const QByteArray &chunk);
    void flush();
    // Sends a FIN once everything queued is written.
    void shutdownWhenFlushed();
    // 0: the reader reads as data comes (readyRead()). Otherwise the reader
    // has paused: the device reads ahead into a buffer of its own up to this
    // many bytes, then stops (TCP pushes back), so that the end of the
    // stream is still seen, as QTcpSocket's read buffer limit does.
    void setReadAheadLimit(qint64 limit);
    // Reads nothing, not even ahead, until the next setReadAheadLimit().
    void stopReading() { setReadAheadLimit(kStopped); }

    // Whether write progress is reported (to the owner, from the event loop).
    void watchWrites(bool watch) { m_writesWatched = watch; }

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    void ready(quint32 readiness) override;
    void drainAndFinish();
    void onReadable();
    void peerEnded(const QString &error);
    // Reads are watched unless the stream ended or the read-ahead is full;
    // writes while the kernel's send buffer is full.
    void updateWatch();
    void watchWritable(bool watch);
    void reportWritten(qint64 bytes);
    void finish(const QString &error);

    FdTransport *m_owner;
    qintptr m_descriptor;
    bool m_writeWatched = false;      // for room in the kernel's send buffer
    bool m_writesWatched = false;     // by the owner's listener
    QByteArrayList m_queue;
    qsizetype m_headOffset = 0;     // bytes of m_queue.first() already sent
    qint64 m_queuedBytes = 0;
    bool m_reportScheduled = false;
    bool m_shutdownPending = false;
    bool m_peerEnded = false;
    static constexpr qint64 kStopped = -1;
    bool isReadWatched() const;

    QByteArray m_readAhead;
    qint64 m_readAheadLimit = 0;      // or kStopped
};

class FdTransport final : public Transport
{
    Q_OBJECT

public:
    explicit FdTransport(qintptr descriptor, QObject *parent = nullptr);
    // The connection of `socket`, connected straight to its peer, on a
    // descriptor of its own; null where none could be had. The socket may
    // then be closed: the connection stays open.
    static FdTransport *adopt(QTcpSocket *socket);

    void end() override;
    void destroy() override;
    void write(const QByteArray &chunk) override;
    void flushWrites() override;
    void setReadBufferLimit(qint64 bytes) override;
    void stopReading() override;
    void watchWrites(bool watch) override { m_device->watchWrites(watch); }
    bool isConnected() const override;
    QHostAddress peerAddress() const override;
    quint16 peerPort() const override;
    QHostAddress localAddress() const override;
    quint16 localPort() const override;
    QString peerName() const override;

private:
    friend class FdDevice;
    void deviceReadable() { notifyReadable(); }
    void deviceWritten() { notifyWritten(); }
    void deviceFinished(const QString &error);

    FdDevice *m_device;
};

} // namespace wsqt::transport
