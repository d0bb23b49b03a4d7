#include "wssocket_p.h"

#include "serverconnections.h"

#include "core/liststorage.h"
#include "transport/clienthandshake.h"
#include "transport/compressionpool.h"
#include "transport/heaptrim.h"
#include "transport/heartbeat.h"
#include "transport/logging.h"
#include "transport/reconnector.h"
#include "transport/scheduleonce.h"
#include "transport/servercounters.h"

#include <QtCore/qfuturewatcher.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qpromise.h>
#include <QtCore/qthread.h>

using namespace wsqt;

namespace {

// While paused the socket buffers at most this much before TCP pushes back.
constexpr qint64 kPausedReadBufferSize = 64 * 1024;
// The most read from the transport at a time (more when a large payload is
// read in place, in pieces of this size).
constexpr qsizetype kReadChunk = 64 * 1024;
// What one connection reads, and inflates, in one turn of the event loop
// before the others get theirs: a fast peer or a decompression bomb cannot
// keep the loop to itself.
constexpr qint64 kReadPerTurn = 1024 * 1024;
constexpr quint64 kInflatePerTurn = 1024 * 1024;
// At most how long a connection's message buffers kept for reuse outlive its
// traffic: they are dropped this long after the first was kept.
constexpr int kReusableBufferHoldMs = 250;
// Messages from this size on are compressed on a worker thread; smaller
// ones cost less than the hand-over.
constexpr qsizetype kWorkerCompressionThreshold = 64 * 1024;

} // namespace

// Every idle connection holds one (see Connection's bound in the core).
static_assert(sizeof(WsSocketPrivate) <= 344, "the per-connection socket state grew");

WsSocketPrivate::WsSocketPrivate(WsSocket *q) : q(q)
{
}

WsSocketPrivate::~WsSocketPrivate()
{
    // The application may delete a server's connection itself.
    if (context && context->serverConnections)
        context->serverConnections->remove(q);
    if (transport) {
        transport->setListener(nullptr);
        transport->destroy();
        // Later: the application may delete the socket from inside a signal
        // of the transport's socket (its readyRead(), say), which goes on
        // using itself once the handler returns.
        transport->setParent(nullptr);
        transport->deleteLater();
    }
}

void WsSocketPrivate::setState(WsSocket::ReadyState newState)
{
    if (state == newState)
        return;
    qCDebug(lcSocket) << q << "readyState" << state << "->" << newState;
    state = newState;
    Q_EMIT q->readyStateChanged(newState);
}

const WsConnectionOptions &WsSocketPrivate::limits() const
{
    static const WsConnectionOptions defaults;
    return context ? context->limits : defaults;
}

void WsSocketPrivate::attach(const transport::Upgrade &upgrade, std::shared_ptr<const SocketContext> newContext,
                             const core::MaskGenerator &generateMask)
{
    const core::Role role = upgrade.role;
    protocol = upgrade.protocol;
    extensions = upgrade.extensions;
    deflate = upgrade.deflate;
    context = std::move(newContext);
    const WsConnectionOptions &options = context->limits;
    core::ConnectionOptions connectionOptions;
    connectionOptions.receiver.role = role;
    connectionOptions.receiver.maxPayload = quint64(qMax<qint64>(options.maxPayload, 0));
    connectionOptions.receiver.maxFragments = options.maxFragments;
    connectionOptions.receiver.skipUtf8Validation = options.skipUTF8Validation;
    connectionOptions.receiver.keepFragments = binaryType == WsSocket::Fragments;
    connectionOptions.receiver.inflateSlice = kInflatePerTurn;
    connectionOptions.receiver.budget = context->receiveBudget;
    connectionOptions.autoPong = options.autoPong;
    connectionOptions.generateMask = generateMask;
    connection = std::make_unique<core::Connection>(connectionOptions);
    if (deflate)
        connection->setExtensions(deflate.get(), deflate.get());
    serverSide = role == core::Role::Server;
    backpressured = false;
    readsBlocked = false;
    statistics = WsStatistics();
    bytesQueued = 0;
    writesWatched = false;

    // As ws: a socket error closes the connection (1006) without an error event.
    transport = upgrade.transport;
    transport->setParent(q);
    transport->setListener(this);
    updateReading();

    if (const QByteArray &head = upgrade.head; !head.isEmpty()) {
        connection->receiveData(head.constData(), head.size());
        traffic().wireReceived(head.size());
    }
    setState(WsSocket::Open);
    startHeartbeat();
    if (reconnector)
        reconnector->opened();
    Q_EMIT q->opened();
    // Messages that came with the handshake are delivered once the
    // application had the chance to connect to messageReceived().
    scheduleProcessInput();
}

void WsSocketPrivate::scheduleProcessInput()
{
    transport::scheduleOnce(q, processScheduled, [this] { processInput(); });
}

void WsSocketPrivate::processInput()
{
    if (!connection || processing)
        return;
    QPointer<WsSocket> guard(q);
    processing = true;
    bool drained = false;
    qint64 readThisTurn = 0;
    const qint64 outputBefore = outputHandedOver();
    while (((!paused && !readsBlocked) || draining) && connection) {
        core::ReceiverEvent event;
        if (connection->nextEvent(&event)) {
            dispatch(event);
            if (!guard)
                return;
            continue;
        }
        // Replies that the peer's input caused (pongs, close replies, what
        // the handlers sent back) and that reach the high-water mark stop
        // the reading until they drain. The application's own stream does
        // not: two peers that both stream must not wait on each other.
        if (limits().pauseReadingWhenBackpressured && !draining && outputHandedOver() > outputBefore) {
            updateBackpressure();
            if (backpressured) {
                setReadsBlocked(true);
                break;
            }
        }
        // A slice was inflated, or a turn's worth read: the rest waits for
        // the next turn, after the other connections.
        if (connection->hasPendingWork() || readThisTurn >= kReadPerTurn) {
            scheduleProcessInput();
            break;
        }
        if (!transport || drained)
            break;
        // Reads go on until one comes back short: the transport has nothing
        // more for now (and a lean transport sees the end of the stream).
        if (!transport->isReadable())
            break;
        qint64 read;
        qsizetype wanted;
        if (connection->isReceiverStopped()) {
            // Nothing after a close frame or an error is parsed.
            char discard[4096];
            wanted = sizeof discard;
            read = transport->read(discard, wanted);
        } else {
            const core::Receiver::InputBuffer buffer = connection->inputBuffer(kReadChunk);
            wanted = buffer.size;
            read = transport->read(buffer.data, buffer.size);
            connection->commitInput(qsizetype(qMax<qint64>(read, 0)));
        }
        if (read <= 0)
            break;
        drained = read < wanted;
        readThisTurn += read;
        traffic().wireReceived(read);
        if (heartbeat)
            heartbeat->activity();
    }
    processing = false;
    // Whatever ended the reads (a short read, nothing to read, the end of the
    // stream), a connection with nothing left to parse keeps no read buffer:
    // idle connections are most of a busy server's.
    if (connection) {
        connection->releaseIdleInput();
        scheduleBufferRelease();
    }
    // What the events queued (pongs, close echoes, the application's
    // replies) goes out in one write per batch.
    flush();
    // Automatic pongs pass no send check: with read-side backpressure off,
    // a peer that floods pings and never reads meets maxBufferedAmount here.
    if (limits().maxBufferedAmount > 0 && q->bufferedAmount() > limits().maxBufferedAmount && transport) {
        drop(WsError(WsError::BufferOverflow, QStringLiteral("bufferedAmount passed maxBufferedAmount (%1 bytes)")
                                                      .arg(limits().maxBufferedAmount)));
    }
}

void WsSocketPrivate::drop(const WsError &error)
{
    qCDebug(lcSocket) << q << "dropping the connection:" << error;
    QPointer<WsSocket> guard(q);
    setState(WsSocket::Closing);
    Q_EMIT q->errorOccurred(error);
    if (guard && transport)
        transport->destroy();
}

void WsSocketPrivate::scheduleBufferRelease()
{
    if (!connection->holdsReusableBuffers() || (bufferRelease && bufferRelease->isActive()))
        return;
    if (!bufferRelease) {
        bufferRelease = std::make_unique<transport::WheelTimer>([this] {
            if (connection)
                connection->releaseReusableBuffers();
        });
    }
    bufferRelease->start(kReusableBufferHoldMs);
}

void WsSocketPrivate::dispatch(core::ReceiverEvent &event)
{
    switch (event.type) {
    case core::ReceiverEvent::Message: {
        qint64 size = event.data.size();
        for (const QByteArray &fragment : std::as_const(event.fragments))
            size += fragment.size();
        traffic().messageReceived(size);
        if (size >= transport::kLargeMessageSize)
            transport::noteLargeMessage();
        if (binaryType == WsSocket::Fragments && event.binary) {
            if (!event.asFragments && !event.data.isEmpty())
                event.fragments.append(event.data);
            Q_EMIT q->fragmentsReceived(event.fragments, event.binary);
        } else {
            if (event.asFragments)
                event.data = event.fragments.join();
            Q_EMIT q->messageReceived(event.data, event.binary);
        }
        break;
    }
    case core::ReceiverEvent::Ping:
        Q_EMIT q->pingReceived(event.data);
        break;
    case core::ReceiverEvent::Pong:
        if (pingSent.isValid()) {
            statistics.roundTripTime = int(pingSent.elapsed());
            pingSent.invalidate();
        }
        Q_EMIT q->pongReceived(event.data);
        break;
    case core::ReceiverEvent::Close:
        qCDebug(lcSocket) << q << "close frame received:" << event.closeCode << event.data;
        startClosing();
        endTransportIfDone();
        break;
    case core::ReceiverEvent::Error: {
        qCDebug(lcSocket) << q << "protocol error:" << event.error;
        startClosing();
        endTransportIfDone();
        Q_EMIT q->errorOccurred(event.error);
        break;
    }
    case core::ReceiverEvent::None:
        break;
    }
}

void WsSocketPrivate::startClosing()
{
    if (heartbeat)
        heartbeat->stop();
    if (state == WsSocket::Open)
        setState(WsSocket::Closing);
    if (!closeTimer && state == WsSocket::Closing) {
        // Made only when needed: most connections never close on a timer.
        closeTimer = std::make_unique<transport::WheelTimer>([this] {
            qCDebug(lcSocket) << q << "close timeout: destroying the connection";
            if (transport)
                transport->destroy();
        });
        closeTimer->start(limits().closeTimeout);
    }
}

void WsSocketPrivate::endTransportIfDone()
{
    if (connection && connection->shouldEndTransport() && transport) {
        flush();
        transport->end();
    }
}

void WsSocketPrivate::flushSoon()
{
    // Inside processInput() the batch's end flushes. Elsewhere what is sent
    // leaves once control is back in the event loop, as with a browser's
    // WebSocket and with QTcpSocket: sends in a row go out in one write,
    // and bufferedAmount() counts them until then, whatever the transport.
    if (!processing)
        transport::scheduleOnce(q, flushScheduled, [this] { flush(); });
}

void WsSocketPrivate::flush()
{
    if (!transport || !connection || !connection->hasOutgoing())
        return;
    while (connection->hasOutgoing()) {
        const QByteArray chunk = connection->takeOutgoing();
        transport->write(chunk);
        bytesQueued += chunk.size();
        traffic().wireSent(chunk.size());
    }
    transport->flushWrites();
}

void WsSocketPrivate::queueCallback(const WsSocket::Callback &callback)
{
    if (!callback)
        return;
    // Bytes leave the connection's queue for the transport in order: the
    // callback's data is written once everything queued so far is.
    const qint64 mark = bytesQueued + (connection ? connection->outgoingBytes() : 0);
    if (bytesWrittenToTransport() >= mark) {
        callLater(callback, {});
    } else {
        callbacks.push_back({mark, callback});
        watchWrites(true);
    }
}

void WsSocketPrivate::callLater(const WsSocket::Callback &callback, const WsError &error)
{
    if (!callback)
        return;
    // As ws (process.nextTick): never from inside the call that queued it.
    QMetaObject::invokeMethod(q, [callback, error] { callback(error); }, Qt::QueuedConnection);
}

qint64 WsSocketPrivate::bytesWrittenToTransport() const
{
    return bytesQueued - (transport ? transport->bytesToWrite() : 0);
}

void WsSocketPrivate::watchWrites(bool watch)
{
    if (watch == writesWatched || (watch && !transport))
        return;
    writesWatched = watch;
    if (transport)
        transport->watchWrites(watch);
}

void WsSocketPrivate::onBytesWritten()
{
    QPointer<WsSocket> guard(q);
    // Writes that leave while the kernel's buffer was full prove that the
    // peer reads, though nothing is read from it meanwhile.
    if (readsBlocked && heartbeat)
        heartbeat->activity();
    if (backpressured && q->bufferedAmount() <= limits().lowWaterMark) {
        backpressured = false;
        setReadsBlocked(false);
        Q_EMIT q->drained();
        if (!guard)
            return;
    }
    const qint64 written = bytesWrittenToTransport();
    while (!callbacks.isEmpty() && callbacks.constFirst().writtenMark <= written) {
        const WsSocket::Callback callback = callbacks.takeFirst().callback;
        callback(WsError());
        if (!guard)
            return;
    }
    core::releaseIfEmpty(callbacks);
    if (!backpressured && callbacks.isEmpty())
        watchWrites(false);
}

void WsSocketPrivate::onDisconnected()
{
    if (state == WsSocket::Closed)
        return;
    QPointer<WsSocket> guard(q);
    // What arrived before the end is still delivered, as ws does, even to
    // a receiver that pauses meanwhile.
    draining = true;
    processInput();
    if (!guard)
        return;
    draining = false;
    if (connection)
        connection->transportClosed();
    closeTimer.reset();
    // Its large buffers and zlib streams go with the connection.
    if (deflate || statistics.bytesReceived + statistics.bytesSent >= transport::kLargeMessageSize)
        transport::noteLargeMessage();

    const WsError unsent(WsError::ConnectionError,
                         QStringLiteral("The connection closed before the data was written"));
    failQueued(unsent);
    const QList<PendingCallback> pending = std::exchange(callbacks, {});
    for (const PendingCallback &entry : pending)
        callLater(entry.callback, unsent);

    const int code = connection ? connection->closeCode() : 1006;
    const QByteArray reason = connection ? connection->closeReason() : QByteArray();
    if (transport) {
        transport->setListener(nullptr);
        transport->deleteLater();
        transport = nullptr;
    }
    // A peer that just hangs up still takes the connection through Closing, as in ws.
    setState(WsSocket::Closing);
    if (!guard)
        return;
    setState(WsSocket::Closed);
    if (!guard)
        return;
    qCDebug(lcSocket) << q << "closed" << code << reason;
    // A server's connection leaves the server's list before the application
    // hears of the close, as in ws, and goes later.
    if (context && context->serverConnections && context->serverConnections->remove(q))
        q->deleteLater();
    Q_EMIT q->closed(code, reason);
    if (guard)
        connectionEnded(code);
}

void WsSocketPrivate::endedByApplication()
{
    closedByApplication = true;
    if (reconnector)
        reconnector->cancel();
}

void WsSocketPrivate::connectionEnded(int code)
{
    if (heartbeat)
        heartbeat->stop();
    if (reconnector)
        reconnector->lost(code, closedByApplication);
}

void WsSocketPrivate::startHeartbeat()
{
    heartbeat.reset();
    if (limits().pingInterval <= 0)
        return;
    const auto pingDue = [this] {
        Outgoing ping{Outgoing::Ping, {}, {}, 0, {}};
        ping.options.mask = !serverSide;
        submit(std::move(ping));
    };
    const auto timedOut = [this] {
        const int timeout = limits().pongTimeout > 0 ? limits().pongTimeout : limits().pingInterval;
        drop(WsError(WsError::Timeout, QStringLiteral("No answer from the peer within %1 ms").arg(timeout)));
    };
    heartbeat = std::make_unique<transport::Heartbeat>(limits().pingInterval, limits().pongTimeout, pingDue, timedOut);
    heartbeat->start();
}

void WsSocketPrivate::updateBackpressure()
{
    if (backpressured || q->bufferedAmount() < limits().highWaterMark)
        return;
    backpressured = true;
    watchWrites(true);
}

qint64 WsSocketPrivate::outputHandedOver() const
{
    return bytesQueued + queuedBytes + (connection ? connection->outgoingBytes() : 0);
}

void WsSocketPrivate::setReadsBlocked(bool blocked)
{
    if (readsBlocked == blocked)
        return;
    readsBlocked = blocked;
    updateReading();
    if (!blocked) {
        if (backpressureTimer)
            backpressureTimer->stop();
        scheduleProcessInput();
        return;
    }
    if (limits().backpressureTimeout <= 0)
        return;
    if (!backpressureTimer)
        backpressureTimer = std::make_unique<transport::WheelTimer>([this] { onBackpressureTimeout(); });
    backpressureTimer->start(limits().backpressureTimeout);
}

void WsSocketPrivate::onBackpressureTimeout()
{
    if (!readsBlocked || !transport || state != WsSocket::Open)
        return;
    // A peer that sends nothing is only slow to read: the watermarks bound
    // it, and drained() follows when it catches up.
    if (transport->bytesAvailable() == 0) {
        backpressureTimer->start(limits().backpressureTimeout);
        return;
    }
    const WsError error(WsError::PeerNotReading,
                        QStringLiteral("The peer kept sending and read nothing for %1 ms")
                                .arg(limits().backpressureTimeout),
                        1008);
    qCDebug(lcSocket) << q << error;
    QPointer<WsSocket> guard(q);
    Q_EMIT q->errorOccurred(error);
    if (guard)
        close(1008, QByteArrayLiteral("peer does not read"));
}

void WsSocketPrivate::setupReconnect(const QUrl &url, const QStringList &protocols,
                                     const WsClientOptions &options)
{
    delete reconnector;
    reconnector = nullptr;
    if (!options.reconnect.enabled)
        return;
    reconnector = new transport::Reconnector(options.reconnect, q);
    QObject::connect(reconnector, &transport::Reconnector::scheduled, q, &WsSocket::reconnecting);
    QObject::connect(reconnector, &transport::Reconnector::gaveUp, q, &WsSocket::reconnectFailed);
    QObject::connect(reconnector, &transport::Reconnector::attemptDue, q, [this, url, protocols, options] {
        qCDebug(lcSocket) << q << "reconnecting to" << url;
        if (openConnection(url, protocols, options).isError())
            Q_EMIT q->reconnectFailed();
    });
}

WsError WsSocketPrivate::sendData(const QByteArray &data, const WsSendOptions &options,
                                  WsSocket::Callback callback)
{
    if (const WsError error = refuseWhenNotOpen(data.size(), callback); error.isError())
        return error;
    const bool masked = options.mask.value_or(!serverSide);
    const qint64 framed = data.size() + core::frameHeaderSize(quint64(data.size()), masked);
    if (limits().maxBufferedAmount > 0 && q->bufferedAmount() + framed > limits().maxBufferedAmount) {
        const WsError error(WsError::BufferOverflow,
                            QStringLiteral("bufferedAmount would pass maxBufferedAmount (%1 bytes)")
                                    .arg(limits().maxBufferedAmount));
        qCWarning(lcSocket) << q << error;
        callLater(callback, error);
        if (limits().overflowPolicy == WsConnectionOptions::OverflowPolicy::Close) {
            QPointer<WsSocket> guard(q);
            Q_EMIT q->errorOccurred(error);
            if (guard && state == WsSocket::Open)
                close(1008, QByteArrayLiteral("send buffer overflow"));
        }
        return error;
    }
    core::DataSendOptions sendOptions;
    sendOptions.binary = options.binary.value_or(true);
    sendOptions.fin = options.fin;
    sendOptions.compress = options.compress;
    sendOptions.mask = masked;
    traffic().dataSent(data.size(), options.fin);
    if (data.size() >= transport::kLargeMessageSize)
        transport::noteLargeMessage();
    // With nothing ahead of it and nothing to compress on a worker, the
    // frame goes to the connection at once: the common case, kept lean.
    const WsError error = compressing || !sendQueue.isEmpty() || compressesOnWorker(data.size(), sendOptions.compress)
            ? submit(Outgoing{Outgoing::Data, data, sendOptions, 0, std::move(callback)})
            : completeSend(connection->send(data, sendOptions), callback);
    updateBackpressure();
    return error;
}

void WsSocketPrivate::updateReading()
{
    if (!transport)
        return;
    // A paused socket reads a little ahead, to see the end of the stream;
    // one that waits for its peer to read stops outright, since it resumes
    // soon and a copy through a read-ahead buffer would cost every time.
    if (paused)
        transport->setReadBufferLimit(kPausedReadBufferSize);
    else if (readsBlocked)
        transport->stopReading();
    else
        transport->setReadBufferLimit(0);
}

WsError WsSocketPrivate::refuseWhenNotOpen(qint64 length, const WsSocket::Callback &callback)
{
    if (state == WsSocket::Connecting) {
        const WsError error(WsError::InvalidState, core::Connection::notOpenMessage(0));
        callLater(callback, error);
        return error;
    }
    if (state == WsSocket::Open)
        return {};
    bufferedAfterClose += length;
    const WsError error(WsError::InvalidState, core::Connection::notOpenMessage(int(state)));
    callLater(callback, error);
    return error;
}

WsError WsSocketPrivate::submit(Outgoing &&operation)
{
    if (compressing || !sendQueue.empty()) {
        queuedBytes += operation.data.size();
        sendQueue.push_back(std::move(operation));
        return {};
    }
    return execute(operation);
}

WsError WsSocketPrivate::execute(Outgoing &operation)
{
    if (!connection)
        return {};
    WsError error;
    switch (operation.kind) {
    case Outgoing::Data:
        if (compressOnWorker(operation))
            return {};
        error = connection->send(operation.data, operation.options);
        break;
    case Outgoing::Ping:
        error = connection->ping(operation.data, operation.options.mask);
        if (!error.isError())
            pingSent.start();
        break;
    case Outgoing::Pong:
        error = connection->pong(operation.data, operation.options.mask);
        break;
    case Outgoing::Close:
        error = connection->close(operation.closeCode, operation.data);
        if (!error.isError()) {
            flushSoon();
            startClosing();
            endTransportIfDone();
            return {};
        }
        break;
    }
    return completeSend(error, operation.callback);
}

WsError WsSocketPrivate::completeSend(const WsError &error, const WsSocket::Callback &callback)
{
    if (error.isError()) {
        qCWarning(lcSocket) << q << error;
        callLater(callback, error);
        return error;
    }
    flushSoon();
    queueCallback(callback);
    return {};
}

WsError WsSocketPrivate::sendControl(Outgoing::Kind kind, const QByteArray &data, bool mask,
                                     WsSocket::Callback callback)
{
    if (const WsError error = refuseWhenNotOpen(data.size(), callback); error.isError())
        return error;
    if (data.size() > core::kMaxControlPayload) {
        const WsError error(WsError::InvalidArgument,
                            QStringLiteral("The data size must not be greater than 125 bytes"));
        qCWarning(lcSocket) << q << error;
        callLater(callback, error);
        return error;
    }
    Outgoing operation{kind, data, {}, 0, std::move(callback)};
    operation.options.mask = mask;
    return submit(std::move(operation));
}

bool WsSocketPrivate::compressesOnWorker(qsizetype size, bool compress) const
{
    return deflate && size >= kWorkerCompressionThreshold && connection->willCompress(size, compress);
}

bool WsSocketPrivate::compressOnWorker(Outgoing &operation)
{
    if (!compressesOnWorker(operation.data.size(), operation.options.compress))
        return false;
    compressing = true;
    queuedBytes += operation.data.size();
    connection->reserveCompressed();

    using Result = std::pair<QByteArray, WsError>;
    auto promise = std::make_shared<QPromise<Result>>();
    auto *watcher = new QFutureWatcher<Result>(q);
    auto pending = std::make_shared<Outgoing>(std::move(operation));
    QObject::connect(watcher, &QFutureWatcherBase::finished, q, [this, watcher, pending] {
        watcher->deleteLater();
        const Result result = watcher->result();
        finishCompression(*pending, result.first, result.second);
    });
    watcher->setFuture(promise->future());
    // The job owns what it uses: the socket may be gone when it ends.
    std::shared_ptr<core::PerMessageDeflate> deflater = deflate;
    const QByteArray data = pending->data;
    const bool fin = pending->options.fin;
    QByteArray output = deflater->prepareDeflate(data.size());
    transport::compressionPool(deflater->concurrencyLimit())->start([promise, deflater, data, fin,
                                                                     compressed = std::move(output)]() mutable {
        promise->start();
        const WsError error = deflater->deflate(data.constData(), data.size(), fin, &compressed);
        // The room made for the worst case goes back (to the arena it came from).
        compressed.squeeze();
        promise->addResult(Result(compressed, error));
        promise->finish();
    });
    return true;
}

void WsSocketPrivate::finishCompression(Outgoing &operation, const QByteArray &compressed, const WsError &error)
{
    compressing = false;
    queuedBytes -= operation.data.size();
    if (!connection || state == WsSocket::Closed) {
        callLater(operation.callback, WsError(WsError::ConnectionError,
                                              QStringLiteral("The socket was closed while data was being compressed")));
        return;
    }
    // Accepted while open, the message and the sends queued behind it go
    // out even when closing began meanwhile, before the close frame, as in ws.
    if (!error.isError())
        connection->sendCompressed(compressed, operation.options);
    completeSend(error, operation.callback);
    runQueue();
    if (compressing)
        return;
    // A close frame received meanwhile was answered behind them.
    connection->releaseReserved();
    endTransportIfDone();
}

void WsSocketPrivate::runQueue()
{
    while (!compressing && !sendQueue.isEmpty()) {
        Outgoing operation = sendQueue.takeFirst();
        queuedBytes -= operation.data.size();
        execute(operation);
    }
    core::releaseIfEmpty(sendQueue);
}

void WsSocketPrivate::failQueued(const WsError &error)
{
    for (const Outgoing &operation : sendQueue)
        callLater(operation.callback, error);
    sendQueue = {};
    queuedBytes = 0;
}

WsError WsSocketPrivate::close(int code, const QByteArray &reason)
{
    switch (state) {
    case WsSocket::Closed:
        return {};
    case WsSocket::Connecting:
        handshake->abort();
        return {};
    case WsSocket::Open:
    case WsSocket::Closing:
        break;
    }
    if (state == WsSocket::Open) {
        // Refused before anything changes, even when the close frame must
        // wait behind a message being compressed.
        QByteArray payload;
        if (const WsError error = core::buildClosePayload(code, reason, &payload); error.isError()) {
            qCWarning(lcSocket) << q << "close refused:" << error;
            return error;
        }
    }
    WsSocketPrivate::Outgoing operation{WsSocketPrivate::Outgoing::Close, reason, {}, code, {}};
    const bool queued = compressing || !sendQueue.empty();
    submit(std::move(operation));
    if (queued)
        startClosing();
    return {};
}

// ---- WsSocket --------------------------------------------------------------

WsSocket::WsSocket(QObject *parent) : QObject(parent), d(new WsSocketPrivate(this)) { }

WsSocket::~WsSocket() = default;

WsError WsSocket::open(const QUrl &url, const QStringList &protocols, const WsClientOptions &options)
{
    const WsError error = d->openConnection(url, protocols, options);
    if (!error.isError()) {
        d->closedByApplication = false;
        d->setupReconnect(url, protocols, options);
    }
    return error;
}

WsError WsSocketPrivate::openConnection(const QUrl &target, const QStringList &protocols,
                                       const WsClientOptions &options)
{
    if (state != WsSocket::Closed) {
        return WsError(WsError::InvalidState,
                       QStringLiteral("WebSocket is already in use: readyState %1").arg(int(state)));
    }
    auto *started = new transport::ClientHandshake(options, q);
    if (const WsError error = started->start(target, protocols); error.isError()) {
        qCWarning(lcSocket) << q << "open refused:" << error;
        delete started;
        return error;
    }
    delete handshake;
    handshake = started;
    serverSide = false;
    protocol.clear();
    extensions.clear();
    deflate.reset();
    bufferedAfterClose = 0;
    if (paused) {
        paused = false;
        Q_EMIT q->pausedChanged(false);
    }
    url = handshake->url();
    Q_EMIT q->urlChanged(url);

    QObject::connect(handshake, &transport::ClientHandshake::upgraded, q, &WsSocket::upgraded);
    QObject::connect(handshake, &transport::ClientHandshake::sslErrors, q, &WsSocket::sslErrors);
    QObject::connect(handshake, &transport::ClientHandshake::unexpectedResponse, q, &WsSocket::unexpectedResponse);
    QObject::connect(handshake, &transport::ClientHandshake::redirected, q,
                     [this](const QUrl &newUrl, const WsHttpRequest &request) {
                         url = newUrl;
                         Q_EMIT q->urlChanged(newUrl);
                         Q_EMIT q->redirected(newUrl, request);
                     });
    QObject::connect(handshake, &transport::ClientHandshake::succeeded, q,
                     [this, options](const transport::Upgrade &upgrade) {
                         handshake->deleteLater();
                         handshake = nullptr;
                         auto context = std::make_shared<const SocketContext>(SocketContext{options, {}, {}, {}});
                         attach(upgrade, std::move(context), options.generateMask);
                     });
    QObject::connect(handshake, &transport::ClientHandshake::failed, q, [this](const WsError &error) {
        handshake->deleteLater();
        handshake = nullptr;
        setState(WsSocket::Closing);
        // As ws: the error and the close follow on the next turn of the event loop.
        QMetaObject::invokeMethod(q, [this, error] {
            QPointer<WsSocket> guard(q);
            if (error.isError())
                Q_EMIT q->errorOccurred(error);
            if (!guard)
                return;
            setState(WsSocket::Closed);
            Q_EMIT q->closed(1006, QByteArray());
            if (guard)
                connectionEnded(1006);
        }, Qt::QueuedConnection);
    });
    setState(WsSocket::Connecting);
    return {};
}

WsSocket::ReadyState WsSocket::readyState() const
{
    return d->state;
}

QUrl WsSocket::url() const
{
    return d->url;
}

QString WsSocket::protocol() const
{
    return d->protocol;
}

QString WsSocket::extensions() const
{
    return d->extensions;
}

WsSocket::BinaryType WsSocket::binaryType() const
{
    return d->binaryType;
}

void WsSocket::setBinaryType(BinaryType type)
{
    if (d->binaryType == type)
        return;
    d->binaryType = type;
    if (d->connection)
        d->connection->setKeepFragments(type == Fragments);
    Q_EMIT binaryTypeChanged(type);
}

qint64 WsSocket::bufferedAmount() const
{
    qint64 amount = d->bufferedAfterClose + d->queuedBytes;
    if (d->connection)
        amount += d->connection->outgoingBytes();
    if (d->transport)
        amount += d->transport->bytesToWrite();
    return amount;
}

bool WsSocket::isPaused() const
{
    return d->paused;
}

bool WsSocket::isServerSide() const
{
    return d->serverSide;
}

bool WsSocket::isBackpressured() const
{
    return d->backpressured;
}

WsStatistics WsSocket::statistics() const
{
    WsStatistics result = d->statistics;
    result.wireBytesSent = d->bytesQueued + (d->connection ? d->connection->outgoingBytes() : 0);
    result.bufferedAmount = bufferedAmount();
    return result;
}

QHostAddress WsSocket::peerAddress() const
{
    return d->transport ? d->transport->peerAddress() : QHostAddress();
}

quint16 WsSocket::peerPort() const
{
    return d->transport ? d->transport->peerPort() : 0;
}

QHostAddress WsSocket::localAddress() const
{
    return d->transport ? d->transport->localAddress() : QHostAddress();
}

quint16 WsSocket::localPort() const
{
    return d->transport ? d->transport->localPort() : 0;
}

WsError WsSocket::send(const QByteArray &data, const WsSendOptions &options, Callback callback)
{
    return d->sendData(data, options, std::move(callback));
}

WsSocket::SendStatus WsSocket::trySend(const QByteArray &data, const WsSendOptions &options, Callback callback)
{
    if (d->sendData(data, options, std::move(callback)).isError())
        return Dropped;
    return d->backpressured ? Backpressure : Sent;
}

WsError WsSocket::sendText(const QString &text, Callback callback)
{
    WsSendOptions options;
    options.binary = false;
    return send(text.toUtf8(), options, std::move(callback));
}

WsError WsSocket::sendBinary(const QByteArray &data, Callback callback)
{
    return send(data, WsSendOptions(), std::move(callback));
}

WsSocket::Callback WsSocket::bindCallback(const QObject *context, Callback callback)
{
    if (!context || !callback)
        return callback;
    QPointer<QObject> guard(const_cast<QObject *>(context));
    return [guard, callback = std::move(callback)](const WsError &error) {
        QObject *receiver = guard.data();
        if (!receiver)
            return;
        if (receiver->thread() == QThread::currentThread())
            callback(error);
        else
            QMetaObject::invokeMethod(receiver, [callback, error] { callback(error); }, Qt::QueuedConnection);
    };
}

WsError WsSocket::ping(const QByteArray &data, Callback callback)
{
    return ping(data, d->serverSide ? Unmasked : Masked, std::move(callback));
}

WsError WsSocket::ping(const QByteArray &data, Masking masking, Callback callback)
{
    return d->sendControl(WsSocketPrivate::Outgoing::Ping, data, masking == Masked, std::move(callback));
}

WsError WsSocket::pong(const QByteArray &data, Callback callback)
{
    return pong(data, d->serverSide ? Unmasked : Masked, std::move(callback));
}

WsError WsSocket::pong(const QByteArray &data, Masking masking, Callback callback)
{
    return d->sendControl(WsSocketPrivate::Outgoing::Pong, data, masking == Masked, std::move(callback));
}

WsError WsSocket::close(int code, const QByteArray &reason)
{
    d->endedByApplication();
    return d->close(code, reason);
}

WsError WsSocket::close(int code, const QString &reason)
{
    return close(code, reason.toUtf8());
}

void WsSocket::terminate()
{
    d->endedByApplication();
    switch (d->state) {
    case Closed:
        return;
    case Connecting:
        d->handshake->abort();
        return;
    case Open:
    case Closing:
        break;
    }
    d->setState(Closing);
    if (d->transport)
        d->transport->destroy();
}

void WsSocket::ignoreSslErrors(const QList<QSslError> &errors)
{
    if (d->handshake)
        d->handshake->ignoreSslErrors(errors);
}

void WsSocket::pause()
{
    if (d->state == Connecting || d->state == Closed || d->paused)
        return;
    d->paused = true;
    d->updateReading();
    // Nothing is read while paused, so silence proves nothing.
    if (d->heartbeat)
        d->heartbeat->stop();
    Q_EMIT pausedChanged(true);
}

void WsSocket::resume()
{
    if (d->state == Connecting || d->state == Closed || !d->paused)
        return;
    d->paused = false;
    d->updateReading();
    if (d->heartbeat && d->state == Open)
        d->heartbeat->start();
    Q_EMIT pausedChanged(false);
    d->scheduleProcessInput();
}
