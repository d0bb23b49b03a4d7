#pragma once

/// \file
/// WsServer: a WebSocket server, and WsServerAddress.

#include <wsqt/wserror.h>
#include <wsqt/wshttp.h>
#include <wsqt/wsoptions.h>
#include <wsqt/wssocket.h>
#include <wsqt/wsstatistics.h>

#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtNetwork/qhostaddress.h>

#include <functional>
#include <memory>

class QIODevice;
class WsServerPrivate;

/// Where a server listens: ws's server.address().
struct WSQT_EXPORT WsServerAddress
{
    QHostAddress address;   ///< the TCP address; `::` for QHostAddress::Any
    quint16 port = 0;       ///< the TCP port
    QString family;     ///< "IPv4" or "IPv6"
    QString path;       ///< for a local (UNIX domain) socket server

    /// Whether there is no address: not listening, or noServer mode.
    bool isNull() const { return address.isNull() && path.isEmpty(); }
};

/// A WebSocket server: ws's WebSocketServer. With a port (or a socketPath)
/// it listens at once; with `server` (or `localServer`) it serves the
/// connections of an application's QTcpServer or QSslServer (QLocalServer);
/// with noServer it serves only what handleUpgrade() is given.
class WSQT_EXPORT WsServer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool listening READ isListening NOTIFY listeningChanged)

public:
    /// Which connections broadcast() skips.
    enum BroadcastPolicy {
        SendToAll,          ///< every open connection, however much it has queued
        SkipBackpressured,  ///< not those whose bufferedAmount is past the high-water mark
        DropBackpressured,  ///< close those (1008) instead of sending to them
    };
    Q_ENUM(BroadcastPolicy)

    /// Starts listening where the options say so; listening() follows on
    /// the next turn of the event loop. Never throws: check error().
    explicit WsServer(const WsServerOptions &options, QObject *parent = nullptr);
    /// Stops the worker threads; the connections, children of the server or
    /// of its workers, go with it.
    ~WsServer() override;

    /// The options given.
    const WsServerOptions &options() const;
    /// Why the server is not running, when the options were refused or
    /// listening failed; NoError otherwise.
    WsError error() const;
    /// Whether a listening socket, the server's own or the application's, is
    /// accepting; false in noServer mode and after close().
    bool isListening() const;

    /// The bound address; null in noServer mode (with a warning, where ws throws)
    /// and after close().
    WsServerAddress address() const;
    /// The open connections, when clientTracking is on. Safe from any thread;
    /// with workerThreads, each connection is used from its own thread only.
    QList<WsSocket *> clients() const;
    /// Sends to every open connection but `except`, by `policy`, and returns
    /// to how many it was sent. With workerThreads the sends to connections of
    /// other threads are queued to them and counted as sent.
    int broadcast(const QByteArray &data, const WsSendOptions &options = {},
                  BroadcastPolicy policy = SkipBackpressured, WsSocket *except = nullptr);
    /// Traffic of all connections so far; safe from any thread. Its
    /// bufferedAmount and roundTripTime are per connection only: 0 and -1 here.
    WsServerStatistics statistics() const;

    /// Stops accepting: an internal listening socket is closed, an external
    /// server is let go; open connections stay. `callback` runs at closed(),
    /// with an error when the server was not running.
    void close(std::function<void(const WsError &error)> callback = {});
    /// \overload
    /// The callback runs in `context`'s thread, and not at all once `context` is destroyed.
    template<typename Functor>
    void close(const QObject *context, Functor &&callback)
    {
        close(WsSocket::bindCallback(context, std::forward<Functor>(callback)));
    }

    /// Completes an upgrade request read elsewhere (noServer mode: from
    /// QHttpServer or the application's own HTTP code). Takes ownership of
    /// `socket` (a QTcpSocket, QSslSocket or QLocalSocket); `head` is what
    /// followed the request head. On success `callback` gets the new
    /// connection; otherwise the client was answered with an error status.
    void handleUpgrade(const WsHttpRequest &request, QIODevice *socket, const QByteArray &head,
                       std::function<void(WsSocket *socket, const WsHttpRequest &request)> callback);

    /// Whether this server takes the request; by default, whether its path
    /// (without the query) equals the `path` option, when one is set.
    virtual bool shouldHandle(const WsHttpRequest &request) const;

Q_SIGNALS:
    /// The server is bound (also for an application's server that was
    /// listening already).
    void listening();
    /// isListening() changed.
    void listeningChanged(bool listening);
    /// A connection is open. Server-side sockets are children of the server
    /// (of a worker with workerThreads, and emitted from its thread) and
    /// delete themselves (deleteLater) after their closed() signal.
    void newConnection(WsSocket *socket, const WsHttpRequest &request);
    /// The 101 response lines as written, status line first (the option
    /// prepareHeaders edits them).
    void headersPrepared(const QList<QByteArray> &headers, const WsHttpRequest &request);
    /// The options were refused, listening failed, or accepting failed.
    /// Errors of a connection go to its WsSocket.
    void errorOccurred(const WsError &error);
    /// An opening handshake failed (ws's wsClientError). The client has been
    /// answered: with a 4xx response and the message, or by the option
    /// handleClientError.
    void clientError(const WsError &error, QIODevice *socket, const WsHttpRequest &request);
    /// After close(), once the server is done.
    void closed();

private:
    friend class WsServerPrivate;
    std::unique_ptr<WsServerPrivate> d;
};
