#pragma once

#include "core/connection.h"
#include "core/permessagedeflate.h"
#include "transport/heartbeat.h"
#include "transport/timerwheel.h"
#include "transport/trafficmeter.h"
#include "transport/transport.h"
#include "transport/upgrade.h"

#include <wsqt/wssocket.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qlist.h>

#include <memory>

class ServerConnections;

namespace wsqt::transport {
class ClientHandshake;
class Reconnector;
}

// What a socket's connection needs of its configuration and its server.
// The connections of one server on one thread share one; a client socket has
// its own. Shared rather than copied: a server may hold many connections.
struct SocketContext
{
    WsConnectionOptions limits;     // watermarks, heartbeat, close timeout
    // On a server's connection: the server's counters for this thread, its
    // bound on what the messages being received hold together, and its list
    // of connections.
    std::shared_ptr<wsqt::transport::TrafficCounters> serverTraffic;
    std::shared_ptr<wsqt::core::MemoryBudget> receiveBudget;
    std::shared_ptr<ServerConnections> serverConnections;
};

class WsSocketPrivate final : private wsqt::transport::TransportListener
{
public:
    explicit WsSocketPrivate(WsSocket *q);
    ~WsSocketPrivate();

    // TransportListener
    void transportReadable() override { processInput(); }
    void transportEnded() override { onDisconnected(); }
    void transportWritten() override { onBytesWritten(); }


    // Starts the connection on what its opening handshake settled.
    void attach(const wsqt::transport::Upgrade &upgrade, std::shared_ptr<const SocketContext> context,
                const wsqt::core::MaskGenerator &generateMask = {});
    // The context's options; the defaults before the connection is attached.
    const WsConnectionOptions &limits() const;
    wsqt::transport::TrafficMeter traffic()
    {
        return {statistics, context ? context->serverTraffic.get() : nullptr};
    }

    void setState(WsSocket::ReadyState state);
    void processInput();
    // Drops the message buffers kept for reuse once the traffic has paused.
    void scheduleBufferRelease();
    void scheduleProcessInput();
    void dispatch(wsqt::core::ReceiverEvent &event);
    void flush();
    void flushSoon();
    void queueCallback(const WsSocket::Callback &callback);
    void callLater(const WsSocket::Callback &callback, const WsError &error);
    void onBytesWritten();
    // Follows the transport's writes only while a callback or a drained()
    // waits on them.
    void watchWrites(bool watch);
    qint64 bytesWrittenToTransport() const;
    void onDisconnected();
    void startClosing();
    void endTransportIfDone();
    // Reads stop while the application paused or the peer does not read.
    void updateReading();
    // Read-side backpressure: see WsConnectionOptions::pauseReadingWhenBackpressured.
    void setReadsBlocked(bool blocked);
    void onBackpressureTimeout();
    // Ends the connection at once after an error the peer caused.
    void drop(const WsError &error);
    WsError refuseWhenNotOpen(qint64 length, const WsSocket::Callback &callback);

    // A send, ping, pong or close, run at once or, while a large message is
    // being compressed on a worker thread, queued behind it in order.
    struct Outgoing
    {
        enum Kind { Data, Ping, Pong, Close };
        Kind kind;
        QByteArray data;                       // payload, or the close reason
        wsqt::core::DataSendOptions options;   // binary, fin, compress, mask
        int closeCode = 0;
        WsSocket::Callback callback;
    };
    WsError sendData(const QByteArray &data, const WsSendOptions &options, WsSocket::Callback callback);
    WsError submit(Outgoing &&operation);
    WsError sendControl(Outgoing::Kind kind, const QByteArray &data, bool mask, WsSocket::Callback callback);
    WsError execute(Outgoing &operation);
    // After a frame was handed to the connection, or refused: the callback
    // hears of the refusal, or waits until the frame is written.
    WsError completeSend(const WsError &error, const WsSocket::Callback &callback);
    bool compressesOnWorker(qsizetype size, bool compress) const;
    bool compressOnWorker(Outgoing &operation);
    void finishCompression(Outgoing &operation, const QByteArray &compressed, const WsError &error);
    void runQueue();
    void failQueued(const WsError &error);
    void startHeartbeat();
    void updateBackpressure();
    // Every byte given to the connection so far, written or still queued.
    qint64 outputHandedOver() const;
    void setupReconnect(const QUrl &url, const QStringList &protocols, const WsClientOptions &options);
    void connectionEnded(int code);
    void endedByApplication();
    WsError close(int code, const QByteArray &reason);
    WsError openConnection(const QUrl &url, const QStringList &protocols, const WsClientOptions &options);

    WsSocket *q;
    WsSocket::ReadyState state = WsSocket::Closed;
    WsSocket::BinaryType binaryType = WsSocket::NodeBuffer;
    bool serverSide = false;
    bool paused = false;
    bool draining = false;      // the transport ended: deliver what it left, paused or not
    bool processing = false;
    bool flushScheduled = false;
    bool processScheduled = false;
    bool writesWatched = false;
    bool closedByApplication = false;
    bool backpressured = false;
    bool readsBlocked = false;
    bool compressing = false;           // a message of sendQueue is on a worker
    QUrl url;
    QString protocol;
    QString extensions;
    std::shared_ptr<const SocketContext> context;    // once attached

    std::unique_ptr<wsqt::core::Connection> connection;
    std::shared_ptr<wsqt::core::PerMessageDeflate> deflate;   // when negotiated
    wsqt::transport::Transport *transport = nullptr;     // a child of q while attached
    wsqt::transport::ClientHandshake *handshake = nullptr;
    // Each made when first needed: most connections never need one.
    std::unique_ptr<wsqt::transport::WheelTimer> closeTimer;
    std::unique_ptr<wsqt::transport::WheelTimer> bufferRelease;

    // Bytes handed to the transport since the start. Less what the transport
    // still holds, they are the bytes written: a callback fires when those
    // pass bytesQueued as it was right after its frame was queued.
    qint64 bytesQueued = 0;
    struct PendingCallback
    {
        qint64 writtenMark;
        WsSocket::Callback callback;
    };
    // QList rather than std::deque: an empty one allocates nothing, and most
    // connections never queue anything.
    QList<PendingCallback> callbacks;
    // Data given to send() after closing started counts, as in ws.
    qint64 bufferedAfterClose = 0;

    std::unique_ptr<wsqt::transport::Heartbeat> heartbeat;
    wsqt::transport::Reconnector *reconnector = nullptr;
    std::unique_ptr<wsqt::transport::WheelTimer> backpressureTimer;
    WsStatistics statistics;
    QElapsedTimer pingSent;                 // for the round-trip time

    QList<Outgoing> sendQueue;
    qint64 queuedBytes = 0;            // data in sendQueue and on the worker
};
