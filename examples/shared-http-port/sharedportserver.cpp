#include "sharedportserver.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qtimer.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtHttpServer/qhttpserverresponse.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

namespace sharedport {

namespace {

// Node's default limit for a request head.
constexpr qsizetype kMaxHeadSize = 16 * 1024;

const QByteArray kPage = R"(<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>wsqt chat</title></head>
<body>
<h1>Chat</h1>
<p>This page and its WebSocket share one port.</p>
<form id="form"><input id="text" autocomplete="off"><button>Send</button></form>
<ul id="messages"></ul>
<script>
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const socket = new WebSocket(scheme + '//' + location.host + '/ws');
socket.onmessage = (event) => {
    const item = document.createElement('li');
    item.textContent = event.data;
    document.getElementById('messages').append(item);
};
document.getElementById('form').onsubmit = (event) => {
    event.preventDefault();
    const text = document.getElementById('text');
    socket.send(text.value);
    text.value = '';
};
</script>
</body>
</html>
)";

// Whether the head asks to switch protocols, as Node's HTTP server decides
// between its 'upgrade' and 'request' events: a Connection field with the
// "upgrade" token and an Upgrade field.
bool asksForUpgrade(const WsHttpRequest &request)
{
    bool connectionUpgrade = false;
    for (const QByteArray &value : request.headers.values("Connection")) {
        for (const QByteArray &token : value.split(','))
            connectionUpgrade = connectionUpgrade || token.trimmed().compare("upgrade", Qt::CaseInsensitive) == 0;
    }
    return connectionUpgrade && request.headers.contains("Upgrade");
}

WsHttpRequest parseHead(const QByteArray &head)
{
    WsHttpRequest request;
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    if (requestLine.size() == 3) {
        request.method = requestLine.at(0);
        request.target = requestLine.at(1);
        request.version = requestLine.at(2);
    }
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            request.headers.append(line.left(colon).trimmed(), line.mid(colon + 1).trimmed());
    }
    return request;
}

void answerAndClose(QTcpSocket *socket, const QByteArray &statusLine)
{
    socket->write(statusLine + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    socket->disconnectFromHost();
}

} // namespace

// Reads the first request head of each connection without consuming it, then
// hands the connection over: an upgrade to `upgrade`, anything else to the
// QHttpServer bound to this server (it reads the request again). A connection
// is classified once, by its first request.
class RequestSplitter : public QTcpServer
{
public:
    using UpgradeHandler = std::function<void(const WsHttpRequest &, QTcpSocket *, const QByteArray &)>;

    RequestSplitter(int headTimeoutMs, UpgradeHandler upgrade, QObject *parent)
        : QTcpServer(parent), m_headTimeoutMs(headTimeoutMs), m_upgrade(std::move(upgrade))
    {
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        auto *timer = new QTimer(socket);
        timer->setSingleShot(true);
        connect(timer, &QTimer::timeout, socket,
                [socket] { answerAndClose(socket, "HTTP/1.1 408 Request Timeout"); });
        timer->start(m_headTimeoutMs);
        connect(socket, &QIODevice::readyRead, socket, [this, socket, timer] { inspect(socket, timer); });
        connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    void inspect(QTcpSocket *socket, QTimer *timer)
    {
        const QByteArray buffered = socket->peek(qMin<qint64>(socket->bytesAvailable(), kMaxHeadSize + 4));
        const qsizetype end = buffered.indexOf("\r\n\r\n");
        if (end < 0 && buffered.size() < kMaxHeadSize)
            return;
        // From here on the connection belongs to one of the two servers.
        timer->stop();
        timer->deleteLater();
        socket->disconnect();
        if (end < 0) {
            connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
            answerAndClose(socket, "HTTP/1.1 431 Request Header Fields Too Large");
            return;
        }
        const WsHttpRequest request = parseHead(buffered.left(end));
        if (asksForUpgrade(request)) {
            socket->skip(end + 4);
            const QByteArray head = socket->readAll();
            socket->setParent(nullptr);
            m_upgrade(request, socket, head);
            return;
        }
        // QHttpServer takes the connection as a new one, then reads what is buffered.
        addPendingConnection(socket);
        if (socket->bytesAvailable() > 0)
            Q_EMIT socket->readyRead();
    }

    int m_headTimeoutMs;
    UpgradeHandler m_upgrade;
};

} // namespace sharedport

SharedPortServer::SharedPortServer(int headTimeoutMs, QObject *parent) : QObject(parent)
{
    WsServerOptions options;
    options.noServer = true;
    options.path = webSocketPath();
    m_webSockets = new WsServer(options, this);

    m_http = new QHttpServer(this);
    m_http->route(QStringLiteral("/"), [] { return QHttpServerResponse("text/html", sharedport::kPage); });
    m_http->route(QStringLiteral("/ws"), [] {
        return QHttpServerResponse("text/plain", "Upgrade Required",
                                   QHttpServerResponder::StatusCode::UpgradeRequired);
    });

    m_splitter = new sharedport::RequestSplitter(
            headTimeoutMs,
            [this](const WsHttpRequest &request, QTcpSocket *socket, const QByteArray &head) {
                // WsServer answers what is not a valid upgrade to its path (400).
                m_webSockets->handleUpgrade(request, socket, head,
                                            [this](WsSocket *socket, const WsHttpRequest &) { join(socket); });
            },
            this);
}

SharedPortServer::~SharedPortServer() = default;

bool SharedPortServer::listen(const QHostAddress &address, quint16 port)
{
    if (!m_splitter->listen(address, port))
        return false;
    m_http->bind(m_splitter);
    return true;
}

quint16 SharedPortServer::serverPort() const
{
    return m_splitter->serverPort();
}

QString SharedPortServer::errorString() const
{
    return m_splitter->errorString();
}

QString SharedPortServer::webSocketPath()
{
    return QStringLiteral("/ws");
}

void SharedPortServer::join(WsSocket *socket)
{
    // A chat: each text message goes to everyone, its sender included.
    connect(socket, &WsSocket::messageReceived, this, [this](const QByteArray &message, bool isBinary) {
        if (isBinary)
            return;
        for (WsSocket *client : m_webSockets->clients())
            client->sendText(QString::fromUtf8(message));
    });
}
