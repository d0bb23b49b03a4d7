#include "qmlwebsocket.h"

#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtQml/qqmlengine.h>
#include <QtQml/qqmlinfo.h>

namespace {

constexpr int kNormalClosure = 1000;
constexpr int kGoingAway = 1001;

const char *const kStateNames[] = {"CONNECTING", "OPEN", "CLOSING", "CLOSED"};

// A client connection its QML object let go of (destroyed, or opening
// another URL) still ends with a closing handshake; the application object
// owns it until then, so that nothing outlives the application.
void retire(WsSocket *socket, QObject *owner, int code)
{
    QObject::disconnect(socket, nullptr, owner, nullptr);
    const WsSocket::ReadyState state = socket->readyState();
    if (state == WsSocket::Closed) {
        socket->deleteLater();
        return;
    }
    socket->setParent(QCoreApplication::instance());
    QObject::connect(socket, &WsSocket::closed, socket, &QObject::deleteLater);
    if (state != WsSocket::Closing)
        socket->close(code);
}

} // namespace

QmlWebSocket::QmlWebSocket(QObject *parent) : QObject(parent), m_options(new QmlWebSocketOptions(this)) { }

QmlWebSocket::~QmlWebSocket()
{
    // A server's connection stays with its server.
    if (m_socket && !m_serverSide)
        retire(m_socket, this, kGoingAway);
}

QmlWebSocket *QmlWebSocket::forServerConnection(WsSocket *socket, QObject *parent)
{
    auto *connection = new QmlWebSocket(parent);
    // Its server owns it: the JavaScript garbage collector must not.
    QQmlEngine::setObjectOwnership(connection, QQmlEngine::CppOwnership);
    connection->m_serverSide = true;
    connection->m_complete = true;
    connection->m_active = socket->readyState() == WsSocket::Open;
    connection->attach(socket);
    return connection;
}

void QmlWebSocket::componentComplete()
{
    m_complete = true;
    if (m_active)
        open();
}

QUrl QmlWebSocket::url() const
{
    return m_url;
}

void QmlWebSocket::setUrl(const QUrl &url)
{
    if (m_url == url)
        return;
    m_url = url;
    Q_EMIT urlChanged();
    if (m_complete && m_active && !m_serverSide)
        open();
}

void QmlWebSocket::setProtocols(const QStringList &protocols)
{
    if (m_protocols == protocols)
        return;
    m_protocols = protocols;
    Q_EMIT protocolsChanged();
}

void QmlWebSocket::setActive(bool active)
{
    if (m_active == active)
        return;
    if (m_serverSide && active) {
        qmlWarning(this) << "A server's connection cannot be opened again";
        return;
    }
    m_active = active;
    Q_EMIT activeChanged();
    if (!m_complete)
        return;
    if (active)
        open();
    else if (m_socket)
        m_socket->close(kNormalClosure);
}

QmlWebSocket::ReadyState QmlWebSocket::readyState() const
{
    return m_socket ? ReadyState(m_socket->readyState()) : Closed;
}

QString QmlWebSocket::protocol() const
{
    return m_socket ? m_socket->protocol() : QString();
}

QString QmlWebSocket::extensions() const
{
    return m_socket ? m_socket->extensions() : QString();
}

qint64 QmlWebSocket::bufferedAmount() const
{
    return m_socket ? m_socket->bufferedAmount() : 0;
}

void QmlWebSocket::setBinaryType(BinaryType type)
{
    if (m_binaryType == type)
        return;
    m_binaryType = type;
    if (m_socket)
        m_socket->setBinaryType(type == Fragments ? WsSocket::Fragments : WsSocket::NodeBuffer);
    Q_EMIT binaryTypeChanged();
}

bool QmlWebSocket::isBackpressured() const
{
    return m_socket && m_socket->isBackpressured();
}

bool QmlWebSocket::isPaused() const
{
    return m_socket && m_socket->isPaused();
}

QString QmlWebSocket::peerAddress() const
{
    return m_socket ? m_socket->peerAddress().toString() : QString();
}

int QmlWebSocket::peerPort() const
{
    return m_socket ? m_socket->peerPort() : 0;
}

void QmlWebSocket::open()
{
    if (m_socket) {
        const bool wasClosed = readyState() == Closed;
        const bool wasPaused = isPaused();
        retire(m_socket, this, kNormalClosure);
        m_socket = nullptr;
        Q_EMIT connectionInfoChanged();
        if (!wasClosed)
            Q_EMIT readyStateChanged();
        if (wasPaused)
            Q_EMIT pausedChanged();
    }
    WsClientOptions options;
    WsError error = m_options->toClientOptions(&options);
    if (!error.isError()) {
        auto *socket = new WsSocket(this);
        attach(socket);
        if (m_options->ignoreSslErrors()) {
            // Direct: the errors must be ignored before the handshake goes on.
            connect(socket, &WsSocket::sslErrors, this, [this, socket](const QList<QSslError> &errors) {
                QStringList descriptions;
                for (const QSslError &sslError : errors)
                    descriptions.append(sslError.errorString());
                qmlWarning(this) << "options.ignoreSslErrors is set: connecting to " << m_url.toString()
                                 << " despite TLS errors (" << descriptions.join(QLatin1String("; ")) << ")";
                socket->ignoreSslErrors(errors);
            }, Qt::DirectConnection);
        }
        error = socket->open(m_url, m_protocols, options);
        if (error.isError()) {
            m_socket = nullptr;
            delete socket;
        }
    }
    if (error.isError()) {
        refuse(error);
        m_active = false;
        Q_EMIT activeChanged();
    }
}

void QmlWebSocket::attach(WsSocket *socket)
{
    m_socket = socket;
    socket->setBinaryType(m_binaryType == Fragments ? WsSocket::Fragments : WsSocket::NodeBuffer);
    connect(socket, &WsSocket::readyStateChanged, this, &QmlWebSocket::readyStateChanged);
    connect(socket, &WsSocket::pausedChanged, this, &QmlWebSocket::pausedChanged);
    connect(socket, &WsSocket::opened, this, [this] {
        Q_EMIT connectionInfoChanged();
        Q_EMIT opened();
    });
    connect(socket, &WsSocket::messageReceived, this, [this](const QByteArray &message, bool isBinary) {
        const QVariant value = isBinary ? QVariant(wsqtqml::arrayBuffer(message))
                                        : QVariant(QString::fromUtf8(message));
        Q_EMIT messageReceived(value, isBinary);
    });
    connect(socket, &WsSocket::fragmentsReceived, this, [this](const QByteArrayList &fragments, bool isBinary) {
        // Text is delivered whole: a fragment may end inside a UTF-8 sequence.
        if (!isBinary) {
            Q_EMIT messageReceived(QString::fromUtf8(fragments.join()), false);
            return;
        }
        QVariantList buffers;
        for (const QByteArray &fragment : fragments)
            buffers.append(QVariant(fragment));
        Q_EMIT messageReceived(buffers, true);
    });
    connect(socket, &WsSocket::pingReceived, this, [this](const QByteArray &payload) {
        Q_EMIT pingReceived(wsqtqml::arrayBuffer(payload));
    });
    connect(socket, &WsSocket::pongReceived, this, [this](const QByteArray &payload) {
        Q_EMIT pongReceived(wsqtqml::arrayBuffer(payload));
    });
    connect(socket, &WsSocket::errorOccurred, this, [this](const WsError &error) {
        ++m_socketErrors;
        Q_EMIT errorOccurred(error.codeName(), error.message());
    });
    connect(socket, &WsSocket::closed, this, &QmlWebSocket::onClosed);
    connect(socket, &WsSocket::drained, this, [this] {
        Q_EMIT bufferedAmountChanged();
        Q_EMIT drained();
    });
    connect(socket, &WsSocket::reconnecting, this, [this](int attempt, int delayMs) {
        // The connection is wanted again: active until the attempts give up.
        if (!m_active) {
            m_active = true;
            Q_EMIT activeChanged();
        }
        Q_EMIT reconnecting(attempt, delayMs);
    });
    connect(socket, &WsSocket::reconnectFailed, this, &QmlWebSocket::reconnectFailed);
}

void QmlWebSocket::onClosed(int code, const QByteArray &reason)
{
    Q_EMIT bufferedAmountChanged();
    // Inactive before closed() is emitted, so that a handler can reconnect
    // by setting active again.
    if (m_active) {
        m_active = false;
        Q_EMIT activeChanged();
    }
    Q_EMIT closed(code, QString::fromUtf8(reason));
}

void QmlWebSocket::refuse(const WsError &error)
{
    qmlWarning(this) << error.codeName() << ": " << error.message();
    Q_EMIT errorOccurred(error.codeName(), error.message());
}

bool QmlWebSocket::checked(const WsError &error, int socketErrorsBefore)
{
    if (!error.isError())
        return true;
    if (socketErrorsBefore >= 0 && m_socketErrors != socketErrorsBefore)
        qmlWarning(this) << error.codeName() << ": " << error.message();
    else
        refuse(error);
    return false;
}

WsError QmlWebSocket::notOpenError() const
{
    const ReadyState state = readyState();
    return WsError(WsError::InvalidState, QStringLiteral("WebSocket is not open: readyState %1 (%2)")
                                                  .arg(int(state))
                                                  .arg(QLatin1String(kStateNames[state])));
}

std::optional<wsqtqml::Payload> QmlWebSocket::acceptPayload(const QJSValue &value, const char *method,
                                                           bool emptyAllowed)
{
    const wsqtqml::Payload payload = wsqtqml::payloadFromJs(value, emptyAllowed);
    if (payload.kind == wsqtqml::Payload::Invalid) {
        refuse(WsError(WsError::InvalidArgument,
                       QStringLiteral("%1() takes a string, an ArrayBuffer, a typed array or a DataView")
                               .arg(QLatin1String(method))));
        return std::nullopt;
    }
    if (!m_socket) {
        refuse(notOpenError());
        return std::nullopt;
    }
    return payload;
}

bool QmlWebSocket::send(const QJSValue &message)
{
    const std::optional<wsqtqml::Payload> payload = acceptPayload(message, "send", false);
    if (!payload)
        return false;
    WsSendOptions options;
    options.binary = payload->kind == wsqtqml::Payload::Binary;
    // bufferedAmount drops once the data is written.
    QPointer<QmlWebSocket> self(this);
    const auto written = [self](const WsError &) {
        if (self)
            Q_EMIT self->bufferedAmountChanged();
    };
    // A send past options.maxBufferedAmount also fails the connection, which
    // reports the error itself.
    const int socketErrors = m_socketErrors;
    if (!checked(m_socket->send(payload->data, options, written), socketErrors))
        return false;
    Q_EMIT bufferedAmountChanged();
    return true;
}

bool QmlWebSocket::ping(const QJSValue &data)
{
    const std::optional<wsqtqml::Payload> payload = acceptPayload(data, "ping", true);
    return payload && checked(m_socket->ping(payload->data));
}

bool QmlWebSocket::pong(const QJSValue &data)
{
    const std::optional<wsqtqml::Payload> payload = acceptPayload(data, "pong", true);
    return payload && checked(m_socket->pong(payload->data));
}

bool QmlWebSocket::close(int code, const QString &reason)
{
    // As ws: closing what is not connected does nothing.
    if (!m_socket)
        return true;
    return checked(m_socket->close(code, reason));
}

void QmlWebSocket::terminate()
{
    if (m_socket)
        m_socket->terminate();
}

void QmlWebSocket::pause()
{
    if (m_socket)
        m_socket->pause();
}

void QmlWebSocket::resume()
{
    if (m_socket)
        m_socket->resume();
}
