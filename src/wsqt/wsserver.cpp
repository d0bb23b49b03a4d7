#include <wsqt/wsserver.h>

#include "core/handshake.h"
#include "core/serverhandshake.h"
#include "core/http.h"
#include "transport/leantransport.h"
#include "transport/logging.h"
#include "transport/servercounters.h"
#include "transport/transport.h"
#include "transport/upgradereader.h"
#include "transport/workerpool.h"
#include "serverconnections.h"
#include "wssocket_p.h"

#include <QtCore/qhash.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qmutex.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qlocalserver.h>
#include <QtNetwork/qlocalsocket.h>
#include <QtNetwork/qsslserver.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

using namespace wsqt;

namespace {

// ws's internal HTTP server answers anything that is not an upgrade with this.
const QByteArray kUpgradeRequired = "HTTP/1.1 426 Upgrade Required\r\n"
                                    "Content-Length: 16\r\n"
                                    "Content-Type: text/plain\r\n"
                                    "Connection: close\r\n"
                                    "\r\n"
                                    "Upgrade Required";

// What a connection may send before its upgrade is accepted, at most.
constexpr qint64 kPendingReadBufferSize = 64 * 1024;

// Hands accepted descriptors over as they are, for the lean transport.
class DescriptorServer : public QTcpServer
{
    Q_OBJECT

public:
    using QTcpServer::QTcpServer;

Q_SIGNALS:
    void descriptorAccepted(qintptr descriptor);

protected:
    void incomingConnection(qintptr descriptor) override { Q_EMIT descriptorAccepted(descriptor); }
};

} // namespace

class WsServerPrivate
{
public:
    enum class State { Running, Closing, Closed };
    using UpgradeCallback = std::function<void(WsSocket *, const WsHttpRequest &)>;

    explicit WsServerPrivate(WsServer *q) : q(q) { }

    bool listenTcp();
    bool listenLocal();
    void refuseToRun(const WsError &error);
    void acceptPending();
    template<typename Socket>
    void dispatch(Socket *socket);
    void dispatchDescriptor(qintptr descriptor);
    // `host` owns the connection's objects and gives them their thread: the
    // server itself, or a worker's host.
    void accept(transport::Transport *transport, QObject *host);
    void upgrade(const WsHttpRequest &request, transport::Transport *transport, const QByteArray &head,
                 QObject *host, const UpgradeCallback &callback);
    void refuse(transport::Transport *transport, const core::HandshakeRejection &rejection,
                const WsHttpRequest &request);
    void respond(transport::Transport *transport, int status, const QByteArray &message = {},
                 const WsHttpHeaders &headers = {});
    void complete(const WsHttpRequest &request, const core::ServerHandshake &handshake,
                  transport::Transport *transport, const QByteArray &head, QObject *host,
                  const UpgradeCallback &callback);
    void maybeFinishClose();
    void emitLater(const std::function<void()> &emitter);

    WsServer *q;
    WsServerOptions options;
    State state = State::Running;
    WsError error;
    QTcpServer *tcpServer = nullptr;
    QLocalServer *localServer = nullptr;
    bool ownsServer = false;
    std::unique_ptr<transport::WorkerPool> workers;
    std::shared_ptr<transport::ServerCounters> counters = std::make_shared<transport::ServerCounters>();
    std::shared_ptr<core::MemoryBudget> receiveBudget;
    // Each connection leaves it as it closes or is deleted, in its thread.
    std::shared_ptr<ServerConnections> connections = std::make_shared<ServerConnections>([this] {
        --counters->connectionsOpen;
        emitLater([this] { maybeFinishClose(); });
    });
    QList<std::function<void(const WsError &)>> closeCallbacks;

    // What the connections on `thread` share, made for the first of them
    // (in that thread: workers accept in theirs).
    std::shared_ptr<const SocketContext> socketContextFor(QThread *thread);
    QMutex socketContextsMutex;
    QHash<QThread *, std::shared_ptr<const SocketContext>> socketContexts;
};

std::shared_ptr<const SocketContext> WsServerPrivate::socketContextFor(QThread *thread)
{
    QMutexLocker locker(&socketContextsMutex);
    std::shared_ptr<const SocketContext> &context = socketContexts[thread];
    if (!context)
        context = std::make_shared<const SocketContext>(
                SocketContext{options, counters->trafficFor(thread), receiveBudget, connections});
    return context;
}

void WsServerPrivate::emitLater(const std::function<void()> &emitter)
{
    QMetaObject::invokeMethod(q, emitter, Qt::QueuedConnection);
}

void WsServerPrivate::refuseToRun(const WsError &why)
{
    error = why;
    qCWarning(lcServer) << error;
    state = State::Closed;
    emitLater([this] { Q_EMIT q->errorOccurred(error); });
}

bool WsServerPrivate::listenTcp()
{
    if (options.server) {
        tcpServer = options.server;
    } else if (options.sslConfiguration) {
        auto *sslServer = new QSslServer(q);
        sslServer->setSslConfiguration(*options.sslConfiguration);
        // A TLS handshake that stalls is dropped like a stalled upgrade.
        sslServer->setHandshakeTimeout(options.handshakeTimeout > 0 ? options.handshakeTimeout : -1);
        QObject::connect(sslServer, &QSslServer::errorOccurred, q,
                         [](QSslSocket *socket, QAbstractSocket::SocketError) {
                             qCDebug(lcServer) << "TLS handshake failed:" << socket->errorString();
                         });
        tcpServer = sslServer;
    } else if (transport::leanTransportEnabled(options.leanTransport)) {
        auto *server = new DescriptorServer(q);
        QObject::connect(server, &DescriptorServer::descriptorAccepted, q,
                         [this](qintptr descriptor) { dispatchDescriptor(descriptor); });
        tcpServer = server;
    } else {
        tcpServer = new QTcpServer(q);
    }
    // A QSslServer queues a connection once its TLS handshake is done.
    QObject::connect(tcpServer, &QTcpServer::pendingConnectionAvailable, q, [this] { acceptPending(); });
    QObject::connect(tcpServer, &QTcpServer::acceptError, q, [this] {
        Q_EMIT q->errorOccurred(WsError(WsError::ServerError, tcpServer->errorString()));
    });
    if (options.server)
        return true;
    ownsServer = true;
    if (options.backlog > 0)
        tcpServer->setListenBacklogSize(options.backlog);
    if (tcpServer->listen(options.host, quint16(options.port)))
        return true;
    const QString host = options.host == QHostAddress(QHostAddress::Any) ? QStringLiteral("::")
                                                                          : options.host.toString();
    refuseToRun(WsError(WsError::ServerError, QStringLiteral("listen on %1:%2 failed: %3")
                                                      .arg(host)
                                                      .arg(options.port)
                                                      .arg(tcpServer->errorString())));
    return false;
}

bool WsServerPrivate::listenLocal()
{
    if (options.localServer) {
        localServer = options.localServer;
    } else {
        localServer = new QLocalServer(q);
        ownsServer = true;
        if (options.backlog > 0)
            localServer->setMaxPendingConnections(options.backlog);
    }
    QObject::connect(localServer, &QLocalServer::newConnection, q, [this] { acceptPending(); });
    if (options.localServer)
        return true;
    if (localServer->listen(options.socketPath))
        return true;
    refuseToRun(WsError(WsError::ServerError, QStringLiteral("listen on %1 failed: %2")
                                                      .arg(options.socketPath, localServer->errorString())));
    return false;
}

void WsServerPrivate::acceptPending()
{
    if (state != State::Running)
        return;
    if (tcpServer) {
        while (QTcpSocket *socket = tcpServer->nextPendingConnection()) {
            socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            dispatch(socket);
        }
    }
    if (localServer) {
        while (QLocalSocket *socket = localServer->nextPendingConnection())
            dispatch(socket);
    }
}

template<typename Socket>
void WsServerPrivate::dispatch(Socket *socket)
{
    if (!workers) {
        accept(transport::Transport::create(socket), q);
        return;
    }
    // The socket moves to a worker; everything else about it is made there.
    QObject *host = workers->nextHost();
    socket->setParent(nullptr);
    socket->moveToThread(host->thread());
    QMetaObject::invokeMethod(host, [this, socket, host] { accept(transport::Transport::create(socket), host); },
                              Qt::QueuedConnection);
}

void WsServerPrivate::dispatchDescriptor(qintptr descriptor)
{
    if (state != State::Running) {
        transport::closeDescriptor(descriptor);
        return;
    }
    if (!workers) {
        accept(transport::createLeanTransport(descriptor), q);
        return;
    }
    QObject *host = workers->nextHost();
    QMetaObject::invokeMethod(host, [this, descriptor, host] {
        accept(transport::createLeanTransport(descriptor), host);
    }, Qt::QueuedConnection);
}

void WsServerPrivate::accept(transport::Transport *transport, QObject *host)
{
    auto *reader = new transport::UpgradeReader(transport, options.handshakeTimeout, host);
    QObject::connect(reader, &transport::UpgradeReader::finished, reader, &QObject::deleteLater);
    QObject::connect(reader, &transport::UpgradeReader::refused, host, [this] { ++counters->handshakesRefused; });
    QObject::connect(reader, &transport::UpgradeReader::requestRead, host,
                     [this, reader, host](const WsHttpRequest &request, const QByteArray &head) {
                         transport::Transport *transport = reader->takeTransport();
                         reader->deleteLater();
                         if (!core::requestsUpgrade(request.headers)) {
                             qCDebug(lcServer) << "not an upgrade request:" << request.method << request.target;
                             ++counters->handshakesRefused;
                             transport::respondAndClose(transport, kUpgradeRequired);
                             return;
                         }
                         transport->setParent(host);
                         upgrade(request, transport, head, host,
                                 [this](WsSocket *socket, const WsHttpRequest &request) {
                                     Q_EMIT q->newConnection(socket, request);
                                 });
                     });
}

void WsServerPrivate::respond(transport::Transport *transport, int status, const QByteArray &message,
                              const WsHttpHeaders &headers)
{
    ++counters->handshakesRefused;
    transport::respondAndClose(transport, core::buildErrorResponse(status, message, headers));
}

void WsServerPrivate::upgrade(const WsHttpRequest &request, transport::Transport *transport,
                              const QByteArray &head, QObject *host, const UpgradeCallback &callback)
{
    // The core checks and negotiates; between its stages the application
    // decides on the path (shouldHandle) and the client (verifyClient).
    core::ServerHandshake handshake(request, options.perMessageDeflate);
    if (const core::HandshakeRejection early = handshake.refusalBeforePath(); early.isRejected()) {
        refuse(transport, early, request);
        return;
    }
    if (!q->shouldHandle(request)) {
        qCDebug(lcServer) << "path not handled:" << request.target;
        respond(transport, 400);
        return;
    }
    if (const core::HandshakeRejection rejection = handshake.negotiate(); rejection.isRejected()) {
        if (!handshake.offerRefusal().isEmpty())
            qCDebug(lcServer) << "permessage-deflate offer refused:" << handshake.offerRefusal();
        refuse(transport, rejection, request);
        return;
    }

    if (!options.verifyClientAsync && !options.verifyClient) {
        complete(request, handshake, transport, head, host, callback);
        return;
    }
    // Only made when asked for: its QSslCertificate loads the TLS backend
    // (OpenSSL, about 5 MB of resident pages) into a server that may never use it.
    WsVerifyClientInfo info;
    info.origin = QString::fromUtf8(handshake.request().origin);
    info.secure = transport->isSecure();
    info.peerCertificate = transport->peerCertificate();
    info.request = request;
    info.peerAddress = transport->peerAddress();
    info.peerPort = transport->peerPort();

    if (options.verifyClientAsync) {
        // Until the application decides, what the client sends early waits in the network.
        transport->setReadBufferLimit(kPendingReadBufferSize);
        QPointer<transport::Transport> guarded(transport);
        // The decision counts within the handshake timeout like the request did.
        auto pending = std::make_shared<bool>(true);
        if (options.handshakeTimeout > 0) {
            QTimer::singleShot(options.handshakeTimeout, transport, [this, guarded, pending] {
                if (guarded && std::exchange(*pending, false))
                    respond(guarded, 408);
            });
        }
        options.verifyClientAsync(info, [=](const WsVerifyClientResult &result) {
            // The answer may come from any thread; the connection goes on in its own.
            QMetaObject::invokeMethod(host, [=] {
                if (!guarded || !std::exchange(*pending, false))
                    return;
                if (!result.accept)
                    respond(guarded, result.code ? result.code : 401, result.message.toUtf8(), result.headers);
                else
                    complete(request, handshake, guarded, head, host, callback);
            });
        });
        return;
    }
    if (!options.verifyClient(info)) {
        respond(transport, 401);
        return;
    }
    complete(request, handshake, transport, head, host, callback);
}

void WsServerPrivate::refuse(transport::Transport *transport, const core::HandshakeRejection &rejection,
                             const WsHttpRequest &request)
{
    qCDebug(lcServer) << "refusing the handshake:" << rejection.status << rejection.message;
    ++counters->handshakesRefused;
    const WsError error(WsError::HandshakeFailed, QString::fromUtf8(rejection.message));
    QPointer<transport::Transport> guarded(transport);
    if (options.handleClientError) {
        // The callback answers and closes; the transport goes with the socket.
        QObject::connect(transport, &transport::Transport::disconnected, transport, &QObject::deleteLater);
        options.handleClientError(error, transport->device(), request);
    } else {
        transport::respondAndClose(transport, core::buildErrorResponse(rejection.status, rejection.message,
                                                                       rejection.headers));
    }
    if (guarded)
        Q_EMIT q->clientError(error, transport->device(), request);
}

void WsServerPrivate::complete(const WsHttpRequest &request, const core::ServerHandshake &handshake,
                               transport::Transport *transport, const QByteArray &head, QObject *host,
                               const UpgradeCallback &callback)
{
    if (state != State::Running) {
        respond(transport, 503);
        return;
    }
    if (!transport->isConnected()) {
        transport->destroy();
        transport->deleteLater();
        return;
    }

    QString protocol;
    if (const QList<QByteArray> &protocols = handshake.request().protocols; !protocols.isEmpty()) {
        QStringList offered;
        for (const QByteArray &name : protocols)
            offered.append(QString::fromUtf8(name));
        protocol = options.handleProtocols ? options.handleProtocols(offered, request) : offered.first();
    }

    WsSocket *socket = options.webSocketFactory ? options.webSocketFactory() : new WsSocket;
    socket->setParent(host);
    QList<QByteArray> lines = handshake.acceptLines(protocol.toUtf8());
    if (options.prepareHeaders)
        options.prepareHeaders(lines, request);
    Q_EMIT q->headersPrepared(lines, request);
    transport->write(core::serializeHeaderLines(lines));
    transport->flushWrites();

    transport->setReadBufferLimit(0);
    ++counters->connectionsAccepted;
    ++counters->connectionsOpen;
    connections->add(socket, host);
    socket->d->attach({transport, head, core::Role::Server, protocol, QString::fromLatin1(handshake.extensions()),
                       handshake.deflate()},
                      socketContextFor(host->thread()));
    qCDebug(lcServer) << "connection open from" << socket->peerAddress() << request.target;
    callback(socket, request);
}

void WsServerPrivate::maybeFinishClose()
{
    if (state != State::Closing)
        return;
    // Without tracking, an external server's close is not tied to its connections.
    const bool waitForConnections = options.clientTracking || ownsServer;
    if (waitForConnections && !connections->isEmpty())
        return;
    state = State::Closed;
    emitLater([this] {
        const auto callbacks = std::exchange(closeCallbacks, {});
        QPointer<WsServer> guard(q);
        Q_EMIT q->closed();
        for (const auto &callback : callbacks) {
            if (!guard)
                return;
            callback(WsError());
        }
    });
}

// ---- WsServer ---------------------------------------------------------------

WsServer::WsServer(const WsServerOptions &options, QObject *parent)
    : QObject(parent), d(new WsServerPrivate(this))
{
    d->options = options;
    const int modes = int(options.port != WsServerOptions::NoPort || !options.socketPath.isEmpty())
            + int(options.server != nullptr || options.localServer != nullptr) + int(options.noServer);
    const bool twoListeners = (options.port != WsServerOptions::NoPort && !options.socketPath.isEmpty())
            || (options.server && options.localServer);
    if (modes != 1 || twoListeners) {
        d->refuseToRun(WsError(WsError::InvalidArgument,
                               QStringLiteral("One and only one of the \"port\", \"server\", or \"noServer\" "
                                              "options must be specified")));
        return;
    }
    if (options.maxReceiveMemory > 0)
        d->receiveBudget = std::make_shared<core::MemoryBudget>(quint64(options.maxReceiveMemory));
    if (options.workerThreads > 0)
        d->workers = std::make_unique<transport::WorkerPool>(options.workerThreads);
    if (options.noServer)
        return;
    if (options.sslConfiguration && (options.server || !options.socketPath.isEmpty() || options.localServer))
        qCWarning(lcServer) << "sslConfiguration applies to a server's own port only: it is ignored here";
    const bool local = !options.socketPath.isEmpty() || options.localServer;
    if (!(local ? d->listenLocal() : d->listenTcp()))
        return;
    if (isListening()) {
        qCDebug(lcServer) << "listening on" << address().address << address().port << address().path;
        d->emitLater([this] {
            Q_EMIT listeningChanged(true);
            Q_EMIT listening();
        });
    }
}

WsServer::~WsServer()
{
    // Worker connections go first, in their threads; those of this thread
    // go with it, after this server's state.
    d->workers.reset();
    d->connections->serverGone();
}

WsServerStatistics WsServer::statistics() const
{
    return d->counters->snapshot();
}

int WsServer::broadcast(const QByteArray &data, const WsSendOptions &options, BroadcastPolicy policy,
                        WsSocket *except)
{
    const auto send = [data, options, policy](WsSocket *socket) {
        if (socket->readyState() != WsSocket::Open)
            return false;
        if (socket->isBackpressured() && policy != SendToAll) {
            if (policy == DropBackpressured)
                socket->close(1008, QByteArrayLiteral("too slow"));
            return false;
        }
        return socket->trySend(data, options) != WsSocket::Dropped;
    };
    const QList<QPair<WsSocket *, QObject *>> targets = d->connections->withHosts();
    int addressed = 0;
    for (const auto &target : std::as_const(targets)) {
        // Named copies: a lambda cannot capture a structured binding in C++17.
        WsSocket *socket = target.first;
        QObject *host = target.second;
        if (socket == except)
            continue;
        if (host == this) {
            addressed += send(socket) ? 1 : 0;
            continue;
        }
        // A worker's connection is used in its thread, and only while it is
        // still listed: it may end there at any moment.
        QMetaObject::invokeMethod(host, [this, socket, send] {
            if (d->connections->contains(socket))
                send(socket);
        }, Qt::QueuedConnection);
        ++addressed;
    }
    return addressed;
}

const WsServerOptions &WsServer::options() const
{
    return d->options;
}

WsError WsServer::error() const
{
    return d->error;
}

bool WsServer::isListening() const
{
    return d->state == WsServerPrivate::State::Running
            && ((d->tcpServer && d->tcpServer->isListening()) || (d->localServer && d->localServer->isListening()));
}

WsServerAddress WsServer::address() const
{
    if (d->options.noServer) {
        qCWarning(lcServer) << "address(): the server is operating in \"noServer\" mode";
        return {};
    }
    if (!isListening())
        return {};
    WsServerAddress result;
    if (d->localServer) {
        result.path = d->localServer->fullServerName();
        return result;
    }
    result.address = d->tcpServer->serverAddress();
    result.port = d->tcpServer->serverPort();
    // A dual-stack socket is an IPv6 one bound to "::", as Node reports it.
    if (result.address == QHostAddress(QHostAddress::Any))
        result.address = QHostAddress(QHostAddress::AnyIPv6);
    result.family = result.address.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("IPv6")
                                                                               : QStringLiteral("IPv4");
    return result;
}

QList<WsSocket *> WsServer::clients() const
{
    return d->options.clientTracking ? d->connections->list() : QList<WsSocket *>();
}

void WsServer::close(std::function<void(const WsError &error)> callback)
{
    if (d->state == WsServerPrivate::State::Closed) {
        d->emitLater([this, callback] {
            QPointer<WsServer> guard(this);
            Q_EMIT closed();
            if (guard && callback)
                callback(WsError(WsError::InvalidState, QStringLiteral("The server is not running")));
        });
        return;
    }
    if (callback)
        d->closeCallbacks.append(std::move(callback));
    if (d->state == WsServerPrivate::State::Closing)
        return;
    d->state = WsServerPrivate::State::Closing;
    if (d->ownsServer) {
        if (d->tcpServer)
            d->tcpServer->close();
        if (d->localServer)
            d->localServer->close();
        Q_EMIT listeningChanged(false);
    } else {
        if (d->tcpServer)
            d->tcpServer->disconnect(this);
        if (d->localServer)
            d->localServer->disconnect(this);
    }
    qCDebug(lcServer) << "closing";
    d->maybeFinishClose();
}

void WsServer::handleUpgrade(const WsHttpRequest &request, QIODevice *socket, const QByteArray &head,
                             std::function<void(WsSocket *, const WsHttpRequest &)> callback)
{
    if (socket->property("wsqt_upgrade").toBool()) {
        qCWarning(lcServer) << "handleUpgrade() was called more than once with the same socket";
        return;
    }
    transport::Transport *transport = transport::Transport::create(socket, this);
    if (!transport) {
        qCWarning(lcServer) << "handleUpgrade(): not a QAbstractSocket nor a QLocalSocket:" << socket;
        socket->close();
        return;
    }
    socket->setProperty("wsqt_upgrade", true);
    d->upgrade(request, transport, head, this, std::move(callback));
}

bool WsServer::shouldHandle(const WsHttpRequest &request) const
{
    return d->options.path.isEmpty() || request.path() == d->options.path.toUtf8();
}

#include "wsserver.moc"
