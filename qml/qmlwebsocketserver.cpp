#include "qmlwebsocketserver.h"

#include "qmlconversions.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtQml/qqmlinfo.h>

namespace {

constexpr int kGoingAway = 1001;
constexpr int kPolicyViolation = 1008;

// A server stopped listening lives on, owned by the application object,
// until its connections have closed.
void retire(WsServer *server, QObject *owner)
{
    QObject::disconnect(server, nullptr, owner, nullptr);
    server->setParent(QCoreApplication::instance());
    QObject::connect(server, &WsServer::closed, server, &QObject::deleteLater);
    server->close();
}

} // namespace

QmlWebSocketServer::QmlWebSocketServer(QObject *parent)
    : QObject(parent), m_clients(new QmlClientsModel(this)), m_maxPayload(WsServerOptions().maxPayload)
{
}

QmlWebSocketServer::~QmlWebSocketServer()
{
    closeConnections();
    if (m_server)
        retire(m_server, this);
}

template<typename T>
void QmlWebSocketServer::assign(T &member, const T &value, void (QmlWebSocketServer::*notify)())
{
    if (member == value)
        return;
    member = value;
    Q_EMIT (this->*notify)();
    restart();
}

void QmlWebSocketServer::setPort(int port)
{
    assign(m_port, port, &QmlWebSocketServer::portChanged);
}

void QmlWebSocketServer::setHost(const QString &host)
{
    assign(m_host, host, &QmlWebSocketServer::hostChanged);
}

void QmlWebSocketServer::setPath(const QString &path)
{
    assign(m_path, path, &QmlWebSocketServer::pathChanged);
}

void QmlWebSocketServer::setMaxPayload(double bytes)
{
    assign(m_maxPayload, qint64(bytes), &QmlWebSocketServer::maxPayloadChanged);
}

void QmlWebSocketServer::setPerMessageDeflate(bool on)
{
    assign(m_perMessageDeflate, on, &QmlWebSocketServer::perMessageDeflateChanged);
}

void QmlWebSocketServer::setPingInterval(int milliseconds)
{
    assign(m_pingInterval, milliseconds, &QmlWebSocketServer::pingIntervalChanged);
}

void QmlWebSocketServer::setPongTimeout(int milliseconds)
{
    assign(m_pongTimeout, milliseconds, &QmlWebSocketServer::pongTimeoutChanged);
}

void QmlWebSocketServer::setActive(bool active)
{
    if (m_active == active)
        return;
    m_active = active;
    Q_EMIT activeChanged();
    if (!m_complete)
        return;
    if (active)
        start();
    else
        stop(true);
}

void QmlWebSocketServer::componentComplete()
{
    m_complete = true;
    if (m_active)
        start();
}

QUrl QmlWebSocketServer::url() const
{
    if (!m_listening || !m_server)
        return {};
    const WsServerAddress address = m_server->address();
    // A server on every interface is reached on the loopback one.
    QHostAddress host = address.address;
    if (host == QHostAddress(QHostAddress::AnyIPv6) || host == QHostAddress(QHostAddress::AnyIPv4))
        host = QHostAddress(QHostAddress::LocalHost);
    QUrl url;
    url.setScheme(QStringLiteral("ws"));
    url.setHost(host.toString());
    url.setPort(address.port);
    url.setPath(m_path.isEmpty() ? QStringLiteral("/") : m_path);
    return url;
}

void QmlWebSocketServer::start()
{
    WsServerOptions options;
    options.port = m_port;
    options.path = m_path;
    options.maxPayload = m_maxPayload;
    options.pingInterval = m_pingInterval;
    options.pongTimeout = m_pongTimeout;
    if (m_perMessageDeflate)
        options.perMessageDeflate = WsDeflateOptions();
    if (m_host.isEmpty()) {
        options.host = QHostAddress::Any;
    } else if (m_host == QLatin1String("localhost")) {
        options.host = QHostAddress::LocalHost;
    } else if (!options.host.setAddress(m_host)) {
        fail(WsError(WsError::InvalidArgument, QStringLiteral("Invalid host address \"%1\"").arg(m_host)));
        return;
    }

    m_server = new WsServer(options, this);
    connect(m_server, &WsServer::listeningChanged, this, &QmlWebSocketServer::updateListening);
    connect(m_server, &WsServer::newConnection, this, &QmlWebSocketServer::addConnection);
    connect(m_server, &WsServer::errorOccurred, this, [this](const WsError &error) {
        // error() is set when listening failed: this server will not run.
        if (m_server->error().isError())
            fail(error);
        else
            Q_EMIT errorOccurred(error.codeName(), error.message());
    });
}

void QmlWebSocketServer::stop(bool closeConnections)
{
    if (closeConnections)
        this->closeConnections();
    if (!m_server)
        return;
    retire(std::exchange(m_server, nullptr), this);
    updateListening();
}

void QmlWebSocketServer::closeConnections()
{
    for (QmlWebSocket *client : m_clients->clients()) {
        if (client->readyState() == QmlWebSocket::Open)
            client->close(kGoingAway);
    }
}

void QmlWebSocketServer::restart()
{
    if (!m_server)
        return;
    stop(false);
    start();
}

void QmlWebSocketServer::refuse(const WsError &error)
{
    qmlWarning(this) << error.codeName() << ": " << error.message();
    Q_EMIT errorOccurred(error.codeName(), error.message());
}

void QmlWebSocketServer::fail(const WsError &error)
{
    stop(false);
    if (m_active) {
        m_active = false;
        Q_EMIT activeChanged();
    }
    refuse(error);
}

void QmlWebSocketServer::updateListening()
{
    const bool listening = m_server && m_server->isListening();
    if (listening) {
        const int port = m_server->address().port;
        if (port != m_port) {
            // Not a settings change: the port the server got (from 0).
            m_port = port;
            Q_EMIT portChanged();
        }
    }
    if (listening == m_listening)
        return;
    m_listening = listening;
    Q_EMIT listeningChanged();
}

void QmlWebSocketServer::addConnection(WsSocket *socket, const WsHttpRequest &request)
{
    QmlWebSocket *client = QmlWebSocket::forServerConnection(socket, this);
    connect(client, &QmlWebSocket::messageReceived, this, [this, client](const QVariant &message, bool isBinary) {
        Q_EMIT messageReceived(client, message, isBinary);
    });
    connect(client, &QmlWebSocket::closed, this, [this, client] {
        m_clients->remove(client);
        client->deleteLater();
    });
    m_clients->append(client);
    Q_EMIT newConnection(client, wsqtqml::requestToJs(request));
}

int QmlWebSocketServer::broadcast(const QJSValue &message, BroadcastPolicy policy)
{
    if (wsqtqml::payloadFromJs(message, false).kind == wsqtqml::Payload::Invalid) {
        refuse(WsError(WsError::InvalidArgument,
                       QStringLiteral("broadcast() takes a string, an ArrayBuffer, a typed array or a DataView")));
        return 0;
    }
    int sent = 0;
    for (QmlWebSocket *client : m_clients->clients()) {
        if (client->readyState() != QmlWebSocket::Open)
            continue;
        if (policy != SendToAll && client->isBackpressured()) {
            if (policy == DropBackpressured)
                client->close(kPolicyViolation, QStringLiteral("too slow"));
            continue;
        }
        if (client->send(message))
            ++sent;
    }
    return sent;
}
