#pragma once

/// \file
/// Option value types, the counterparts of ws's option objects. Every default
/// is ws's default. Times are in milliseconds, sizes in bytes.

#include <wsqt/wsdefaults.h>
#include <wsqt/wsdeflateoptions.h>
#include <wsqt/wserror.h>
#include <wsqt/wshttp.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qhostaddress.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qsslcertificate.h>
#include <QtNetwork/qsslconfiguration.h>

#include <functional>
#include <optional>

class QIODevice;
class QLocalServer;
class QTcpServer;
class WsSocket;

/// Limits and behaviour shared by both roles.
struct WSQT_EXPORT WsConnectionOptions
{
    /// The largest message in bytes, after decompression; 0 for no limit.
    qint64 maxPayload = WsDefaults::maxPayload;
    /// The most frames one message may span (WS_ERR_TOO_MANY_BUFFERED_PARTS); 0 for no limit.
    quint32 maxFragments = WsDefaults::maxFragments;
    /// Deliver text messages and close reasons without checking their UTF-8;
    /// only for a trusted peer.
    bool skipUTF8Validation = false;
    /// Answer each ping with a pong carrying the same data.
    bool autoPong = true;
    /// Milliseconds to wait for the peer to finish the closing handshake
    /// before the connection is destroyed.
    int closeTimeout = 30000;

    /// Heartbeat, off by default: after pingInterval ms in which nothing was
    /// received, a ping is sent; when nothing at all (a pong or anything else)
    /// arrives within pongTimeout ms, the connection is terminated (closed()
    /// reports 1006 after an errorOccurred() with WsError::Timeout).
    int pingInterval = 0;
    int pongTimeout = 0;    ///< heartbeat: see pingInterval; 0: the same as pingInterval

    /// Backpressure on bufferedAmount: a send that takes it to highWaterMark
    /// or more reports WsSocket::Backpressure; drained() follows once it falls
    /// to lowWaterMark or less.
    qint64 highWaterMark = 1024 * 1024;
    /// Backpressure ends, and drained() is emitted, once bufferedAmount falls
    /// to this or less: see highWaterMark.
    qint64 lowWaterMark = 256 * 1024;
    /// A hard bound on bufferedAmount (0: none), so a peer that does not read
    /// cannot grow memory without limit.
    qint64 maxBufferedAmount = 0;
    /// What else a send refused by maxBufferedAmount does.
    enum class OverflowPolicy {
        Close,      ///< close the connection with 1008 (the send is refused)
        Refuse,     ///< refuse the send with WsError::BufferOverflow; the connection stays
    };
    /// What else a send refused by maxBufferedAmount does.
    OverflowPolicy overflowPolicy = OverflowPolicy::Close;
    /// Read-side backpressure: when what the peer's messages caused to be
    /// sent (automatic pongs, close replies, what messageReceived() handlers
    /// send back) takes bufferedAmount() to highWaterMark or more, nothing more
    /// is read from the peer until it falls to lowWaterMark. TCP then makes
    /// the peer wait, and a peer that sends without reading cannot grow
    /// memory past the watermarks. Sends made outside the handlers never stop
    /// the reading, so two peers that stream to each other go on.
    bool pauseReadingWhenBackpressured = true;
    /// While reading is paused so, a peer whose data waits unread this many
    /// ms is dropped: errorOccurred() with WsError::PeerNotReading (1008),
    /// then closed(1006). 0: never.
    int backpressureTimeout = 30000;

    /// Plain TCP connections (a server's, and a client's once its handshake
    /// went straight to the server) run on the lean descriptor transport,
    /// where the platform has it; false keeps QTcpSocket. The environment
    /// variable WSQT_NO_LEAN_TRANSPORT, set to any value, turns it off for the
    /// whole process.
    bool leanTransport = true;
};

/// Reconnecting a client after its connection is lost: exponential backoff
/// with jitter. Off by default.
struct WSQT_EXPORT WsReconnectOptions
{
    bool enabled = false;       ///< reconnect at all
    int minDelay = 1000;        ///< ms before the first attempt
    int maxDelay = 30000;       ///< ms, the most between attempts
    double factor = 2.0;        ///< each delay is the previous one times this
    double jitter = 0.2;        ///< +/- this fraction of each delay, at random
    int maxAttempts = 0;        ///< 0: no limit
    /// Also after a normal close (1000) by the server; never after the
    /// application's own close() or terminate().
    bool afterNormalClose = false;
};

/// ws's `new WebSocket(address, protocols, options)` options.
struct WSQT_EXPORT WsClientOptions : WsConnectionOptions
{
    /// Follow a 3xx response that has a Location; otherwise it is an unexpected response.
    bool followRedirects = false;
    /// Redirects followed at most; one more fails with WsError::TooManyRedirects.
    int maxRedirects = 10;
    /// Sees, and may edit, the request before each redirect is followed (ws's
    /// 'redirect' listener). While it is set no header is removed by default;
    /// without it Authorization and Cookie are dropped on a redirect to
    /// another host or from wss to ws. Called in the socket's thread.
    std::function<void(const QUrl &url, WsHttpRequest &request)> handleRedirect;
    /// The application takes a response other than 101 (ws's
    /// 'unexpected-response' listener): its body is read for
    /// WsSocket::unexpectedResponse() and no error is reported. Otherwise
    /// errorOccurred() reports `"Unexpected server response: <status>"`.
    bool handleUnexpectedResponse = false;
    /// Milliseconds for the opening handshake, reset after each redirect; 0 for none.
    int handshakeTimeout = 0;
    /// Origin (Sec-WebSocket-Origin with protocolVersion 8).
    QString origin;
    /// The Sec-WebSocket-Version: 13 or 8.
    int protocolVersion = 13;
    /// Fills the 4-byte masking key of each frame; default: strong random bytes.
    std::function<void(uchar *key)> generateMask;
    /// Offered by default, as in ws; std::nullopt to not offer it.
    std::optional<WsDeflateOptions> perMessageDeflate = WsDeflateOptions();
    /// Extra request header fields; they replace defaults of the same name.
    WsHttpHeaders headers;
    /// "user:password" for Basic authorization; the URL's user info wins.
    QString auth;
    /// Bind the connection to this local address (null: any).
    QHostAddress localAddress;
    /// Open the connection again, with backoff, after it is lost.
    WsReconnectOptions reconnect;
    /// TLS for wss:// (CA certificates, client certificate, protocols). The
    /// peer's certificate and host name are verified unless the application
    /// says otherwise through WsSocket::sslErrors() / ignoreSslErrors().
    QSslConfiguration sslConfiguration = QSslConfiguration::defaultConfiguration();
    /// The proxy to connect through: HTTP CONNECT or SOCKS5, with credentials
    /// if it needs them. Default: the application proxy (QNetworkProxy::applicationProxy()).
    QNetworkProxy proxy = QNetworkProxy(QNetworkProxy::DefaultProxy);
};

/// What verifyClient is told about a connection attempt.
struct WSQT_EXPORT WsVerifyClientInfo
{
    QString origin;             ///< the Origin field (Sec-WebSocket-Origin for version 8), or empty
    bool secure = false;        ///< the connection is TLS
    /// The client's TLS certificate, when it presented one.
    QSslCertificate peerCertificate;
    WsHttpRequest request;      ///< the upgrade request
    QHostAddress peerAddress;   ///< the client's address; null for a UNIX domain socket
    quint16 peerPort = 0;       ///< the client's port; 0 for a UNIX domain socket
};

/// The answer of verifyClient's callback form.
struct WSQT_EXPORT WsVerifyClientResult
{
    bool accept = true;         ///< go on with the upgrade
    int code = 401;             ///< the HTTP status of a refusal
    QString message;        ///< empty: the reason phrase of `code`
    WsHttpHeaders headers;      ///< extra response fields, such as Retry-After
};

/// ws's `new WebSocketServer(options)` options. Where the server gets its
/// connections: exactly one of port (or socketPath), server (or localServer)
/// and noServer.
struct WSQT_EXPORT WsServerOptions : WsConnectionOptions
{
    /// The default of `port`: no port.
    static constexpr int NoPort = -1;

    // Exactly one of port (or socketPath), server (or localServer) and noServer.
    int port = NoPort;              ///< 0 picks a free port
    QString socketPath;             ///< listen on a UNIX domain socket instead of a port
    QTcpServer *server = nullptr;   ///< owned by the application (a QSslServer for TLS)
    QLocalServer *localServer = nullptr;  ///< owned by the application
    bool noServer = false;          ///< listen on nothing: serve only what WsServer::handleUpgrade() is given

    QHostAddress host = QHostAddress::Any;  ///< the address to listen on
    int backlog = -1;               ///< -1: the system's default
    QString path;                   ///< only this path (query ignored), when not empty
    bool clientTracking = true;     ///< keep the open connections in WsServer::clients()
    /// Milliseconds a client has to complete its opening handshake.
    int handshakeTimeout = 10000;
    /// Off by default, as in ws.
    std::optional<WsDeflateOptions> perMessageDeflate;
    /// Serve TLS (wss://) with this configuration (certificate, key, ...), on
    /// a QSslServer of the server's own (with `port`). The TLS handshake has
    /// handshakeTimeout, and so has the upgrade request that follows it.
    std::optional<QSslConfiguration> sslConfiguration;

    /// Chooses the subprotocol among the client's; an empty result sends none.
    /// Without it the client's first one is chosen.
    std::function<QString(const QStringList &protocols, const WsHttpRequest &request)> handleProtocols;
    /// Accepts or refuses a client (refused: 401 Unauthorized).
    std::function<bool(const WsVerifyClientInfo &info)> verifyClient;
    /// The callback form: decide later, with a status, message and headers.
    /// When set it is used instead of verifyClient.
    std::function<void(const WsVerifyClientInfo &info,
                       std::function<void(const WsVerifyClientResult &result)> done)>
            verifyClientAsync;
    /// Edits the 101 response lines, status line first, before they are
    /// written (ws's 'headers' listener); headersPrepared() then reports them.
    std::function<void(QList<QByteArray> &headers, const WsHttpRequest &request)> prepareHeaders;
    /// Answers a failed opening handshake itself (ws's 'wsClientError'
    /// listener): nothing is written, and the callback writes its response on
    /// `socket` and closes it. Without it the client gets a 4xx response with
    /// the message. clientError() reports the failure either way.
    std::function<void(const WsError &error, QIODevice *socket, const WsHttpRequest &request)>
            handleClientError;
    /// Creates the WsSocket of each connection (ws's `WebSocket` option), for a subclass.
    std::function<WsSocket *()> webSocketFactory;
    /// The most memory, in bytes, that the messages being received on all of
    /// the server's connections may hold together, counting each message
    /// beyond its first 64 KiB and compressed messages by their decoded size;
    /// 0 for no limit. A message that would pass it ends its connection with
    /// 1013 (WsError::ReceiveMemoryExceeded).
    qint64 maxReceiveMemory = 256 * 1024 * 1024;
    /// Event-loop threads to spread connections over; 0 keeps them in the
    /// server's thread. With workers, each connection lives in and signals
    /// from its worker's thread, and the callbacks above (verifyClient,
    /// handleProtocols, prepareHeaders, handleClientError, webSocketFactory)
    /// are called from there.
    int workerThreads = 0;
};

/// ws's send() options.
struct WSQT_EXPORT WsSendOptions
{
    /// Default: binary for QByteArray data, text for sendText().
    std::optional<bool> binary;
    /// Compress when permessage-deflate was negotiated.
    bool compress = true;
    /// False sends a fragment; the message ends with a send whose fin is true.
    bool fin = true;
    /// Default: masked from a client, unmasked from a server.
    std::optional<bool> mask;
};

Q_DECLARE_METATYPE(WsVerifyClientInfo)
