#include "clienthandshake.h"

#include "leantransport.h"
#include "logging.h"
#include "transport.h"

#include <QtNetwork/qlocalsocket.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qsslsocket.h>
#include <QtNetwork/qtcpsocket.h>

namespace wsqt::transport {

namespace {

// A response body read for unexpectedResponse() is kept up to this size.
constexpr qint64 kMaxResponseBody = 1024 * 1024;

WsError invalidUrl(const QString &address)
{
    return WsError(WsError::InvalidUrl, QStringLiteral("Invalid URL: ") + address);
}

} // namespace

WsError resolveClientTarget(const QUrl &input, ClientTarget *target)
{
    if (!input.isValid() || input.scheme().isEmpty())
        return invalidUrl(input.toString());
    QUrl url = input;
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("http"))
        url.setScheme(QStringLiteral("ws"));
    else if (scheme == QLatin1String("https"))
        url.setScheme(QStringLiteral("wss"));
    else
        url.setScheme(scheme);

    const QString normalised = url.scheme();
    const bool local = normalised == QLatin1String("ws+unix");
    if (normalised != QLatin1String("ws") && normalised != QLatin1String("wss") && !local) {
        return WsError(WsError::InvalidUrl,
                       QStringLiteral("The URL's protocol must be one of \"ws:\", \"wss:\", "
                                      "\"http:\", \"https:\", or \"ws+unix:\""));
    }
    if (local && url.path().isEmpty())
        return WsError(WsError::InvalidUrl, QStringLiteral("The URL's pathname is empty"));
    if (!url.fragment().isEmpty())
        return WsError(WsError::InvalidUrl, QStringLiteral("The URL contains a fragment identifier"));

    // As the WHATWG URL ws reports: an empty path is "/".
    if (!local && url.path().isEmpty())
        url.setPath(QStringLiteral("/"));
    ClientTarget result;
    result.url = url;
    result.local = local;
    result.secure = normalised == QLatin1String("wss");
    QByteArray query;
    if (url.hasQuery())
        query = '?' + url.query(QUrl::FullyEncoded).toLatin1();
    if (local) {
        // ws+unix:///path/to/socket:/request/path?query
        const QString path = url.path(QUrl::FullyDecoded);
        const qsizetype colon = path.indexOf(QLatin1Char(':'));
        result.host = colon < 0 ? path : path.left(colon);
        QByteArray resource = colon < 0 ? QByteArray() : path.mid(colon + 1).toUtf8();
        result.resource = (resource.isEmpty() ? QByteArray("/") : resource) + query;
        result.hostHeader = "localhost";
    } else {
        if (url.host().isEmpty())
            return invalidUrl(input.toString());
        const quint16 defaultPort = result.secure ? 443 : 80;
        result.host = url.host();
        result.port = quint16(url.port(defaultPort));
        const QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
        result.hostHeader = host.contains(':') ? '[' + host + ']' : host;
        if (result.port != defaultPort)
            result.hostHeader += ':' + QByteArray::number(result.port);
        const QByteArray path = url.path(QUrl::FullyEncoded).toLatin1();
        result.resource = (path.isEmpty() ? QByteArray("/") : path) + query;
    }
    *target = result;
    return {};
}

ClientHandshake::ClientHandshake(const WsClientOptions &options, QObject *parent)
    : QObject(parent),
      m_options(options),
      m_timeout([this] { fail(WsError(WsError::HandshakeTimeout, QStringLiteral("Opening handshake has timed out"))); })
{
}

ClientHandshake::~ClientHandshake()
{
    releaseTransport();
}

WsError ClientHandshake::start(const QUrl &url, const QStringList &protocols)
{
    if (m_options.protocolVersion != 8 && m_options.protocolVersion != 13) {
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("Unsupported protocol version: %1 (supported versions: 8, 13)")
                               .arg(m_options.protocolVersion));
    }
    ClientTarget target;
    if (const WsError error = resolveClientTarget(url, &target); error.isError())
        return error;

    core::ClientHandshakeRequest request;
    request.host = target.hostHeader;
    request.resource = target.resource;
    request.key = core::generateWebSocketKey();
    request.protocolVersion = m_options.protocolVersion;
    request.origin = m_options.origin.toUtf8();
    for (const QString &protocol : protocols)
        request.protocols.append(protocol.toUtf8());
    std::shared_ptr<core::PerMessageDeflate> deflate;
    if (m_options.perMessageDeflate)
        deflate = core::PerMessageDeflate::create(*m_options.perMessageDeflate, core::Role::Client);
    if (deflate)
        request.extensionOffer = deflate->offer();
    request.headers = m_options.headers;
    // The URL's user info wins over the auth option, as in ws.
    const QString auth = url.userInfo().isEmpty() ? m_options.auth
                                                   : url.userName() + QLatin1Char(':') + url.password();
    request.auth = auth.toUtf8();
    if (const WsError error = core::validateClientRequest(request); error.isError())
        return error;

    m_deflate = deflate;
    m_target = target;
    m_request = request;
    if (m_options.handshakeTimeout > 0)
        m_timeout.start(m_options.handshakeTimeout);
    // From the event loop, so that every failure is reported by a signal.
    QMetaObject::invokeMethod(this, &ClientHandshake::connectTransport, Qt::QueuedConnection);
    return {};
}

void ClientHandshake::connectTransport()
{
    if (m_done)
        return;
    m_parser.emplace(core::HttpHeadParser::Kind::Response);
    QAbstractSocket *tcp = nullptr;
    QLocalSocket *local = nullptr;
    if (m_target.local) {
        local = new QLocalSocket;
        m_transport = Transport::create(local, this);
        connect(local, &QLocalSocket::connected, this, &ClientHandshake::sendRequest);
    } else {
        tcp = m_target.secure ? new QSslSocket : new QTcpSocket;
        m_transport = Transport::create(tcp, this);
        tcp->setProxy(m_options.proxy);
        if (auto *ssl = qobject_cast<QSslSocket *>(tcp)) {
            ssl->setSslConfiguration(m_options.sslConfiguration);
            connect(ssl, &QSslSocket::encrypted, this, &ClientHandshake::sendRequest);
            connect(ssl, &QSslSocket::sslErrors, this, &ClientHandshake::onSslErrors);
        } else {
            connect(tcp, &QAbstractSocket::connected, this, &ClientHandshake::sendRequest);
        }
    }
    // Everything is connected before connecting starts: a socket may fail at once.
    connect(m_transport->device(), &QIODevice::readyRead, this, &ClientHandshake::onReadyRead);
    connect(m_transport, &Transport::errorOccurred, this, [this](const QString &message) {
        fail(WsError(classifySocketError(), message));
    });
    connect(m_transport, &Transport::disconnected, this, [this] {
        if (m_readingBody)
            finishUnexpected();
        else
            fail(WsError(WsError::ConnectionError, QStringLiteral("socket hang up")));
    });

    if (local) {
        local->connectToServer(m_target.host);
        return;
    }
    if (!m_options.localAddress.isNull() && !tcp->bind(m_options.localAddress)) {
        fail(WsError(WsError::ConnectionError, QStringLiteral("cannot bind to %1: %2")
                                                       .arg(m_options.localAddress.toString(), tcp->errorString())));
        return;
    }
    if (auto *ssl = qobject_cast<QSslSocket *>(tcp))
        ssl->connectToHostEncrypted(m_target.host, m_target.port);
    else
        tcp->connectToHost(m_target.host, m_target.port);
}

void ClientHandshake::sendRequest()
{
    if (auto *tcp = qobject_cast<QAbstractSocket *>(m_transport->device()))
        tcp->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    qCDebug(lcHandshake) << "connected to" << m_target.url << "- sending the upgrade request";
    m_transport->device()->write(core::buildClientRequest(m_request));
}

void ClientHandshake::onSslErrors(const QList<QSslError> &errors)
{
    auto *ssl = qobject_cast<QSslSocket *>(m_transport->device());
    m_ignoreSslErrors = false;
    QPointer<ClientHandshake> guard(this);
    Q_EMIT sslErrors(errors);
    if (!guard || m_done)
        return;
    if (m_ignoreSslErrors) {
        qCWarning(lcHandshake) << "TLS errors ignored by the application:" << errors;
        if (m_ignoredSslErrors.isEmpty())
            ssl->ignoreSslErrors();
        else
            ssl->ignoreSslErrors(m_ignoredSslErrors);
        return;
    }
    QStringList messages;
    for (const QSslError &error : errors)
        messages.append(error.errorString());
    fail(WsError(WsError::TlsError, messages.join(QStringLiteral("; "))));
}

WsError::Code ClientHandshake::classifySocketError() const
{
    const auto *socket = m_transport ? qobject_cast<const QAbstractSocket *>(m_transport->device()) : nullptr;
    if (!socket)
        return WsError::ConnectionError;
    switch (socket->error()) {
    case QAbstractSocket::ProxyAuthenticationRequiredError:
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError:
        return WsError::ProxyError;
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError:
        return WsError::TlsError;
    case QAbstractSocket::SocketAccessError: {
        // Qt's word for a proxy that refuses the destination (HTTP 403, a SOCKS ruleset).
        QNetworkProxy proxy = socket->proxy();
        if (proxy.type() == QNetworkProxy::DefaultProxy)
            proxy = QNetworkProxy::applicationProxy();
        const bool viaProxy = proxy.type() != QNetworkProxy::NoProxy && proxy.type() != QNetworkProxy::DefaultProxy;
        return viaProxy ? WsError::ProxyError : WsError::ConnectionError;
    }
    default:
        return WsError::ConnectionError;
    }
}

void ClientHandshake::onReadyRead()
{
    if (m_done || !m_transport)
        return;
    QByteArray data = m_transport->device()->readAll();
    if (m_readingBody) {
        collectBody(data);
        return;
    }
    const qsizetype used = m_parser->feed(data.constData(), data.size());
    switch (m_parser->status()) {
    case core::HttpHeadParser::Status::NeedMore:
        return;
    case core::HttpHeadParser::Status::Failed:
        fail(WsError(WsError::HandshakeFailed, m_parser->errorMessage()));
        return;
    case core::HttpHeadParser::Status::Complete:
        handleResponse(data.mid(used));
        return;
    }
}

void ClientHandshake::handleResponse(QByteArray rest)
{
    const WsHttpResponse &response = m_parser->response();
    qCDebug(lcHandshake) << "response" << response.statusCode << response.reasonPhrase;
    if (response.statusCode == 101 && core::requestsUpgrade(response.headers)) {
        handleUpgrade(rest);
        return;
    }
    const QByteArray location = response.headers.value("Location");
    if (m_options.followRedirects && response.statusCode >= 300 && response.statusCode < 400
        && !location.isNull()) {
        followRedirect(location);
        return;
    }
    if (m_options.handleUnexpectedResponse) {
        m_response = response;
        bool ok = false;
        m_bodyExpected = response.headers.value("Content-Length").trimmed().toLongLong(&ok);
        if (!ok)
            m_bodyExpected = -1;
        // Responses that never have a body (RFC 9112 §6.3).
        const int status = response.statusCode;
        if (status < 200 || status == 204 || status == 304)
            m_bodyExpected = 0;
        m_chunked = m_bodyExpected != 0
                && core::headerListContains(response.headers.combinedValue("Transfer-Encoding"), "chunked");
        m_readingBody = true;
        collectBody(rest);
        return;
    }
    QPointer<ClientHandshake> guard(this);
    Q_EMIT unexpectedResponse(response);
    if (!guard || m_done)
        return;
    fail(WsError(WsError::UnexpectedResponse,
                 QStringLiteral("Unexpected server response: %1").arg(response.statusCode)));
}

void ClientHandshake::handleUpgrade(const QByteArray &rest)
{
    const WsHttpResponse response = m_parser->response();
    QPointer<ClientHandshake> guard(this);
    Q_EMIT upgraded(response);
    if (!guard || m_done)
        return;

    QList<QByteArray> offered;
    if (m_deflate)
        offered.append(core::kPerMessageDeflate);
    core::ClientHandshakeResult result;
    if (const WsError error = core::verifyServerResponse(response, m_request, offered, &result);
        error.isError()) {
        fail(error);
        return;
    }
    Upgrade upgrade;
    upgrade.role = core::Role::Client;
    upgrade.protocol = QString::fromUtf8(result.protocol);
    if (!result.extensions.isEmpty()) {
        // Only the first configuration counts, as in ws.
        QString reason;
        if (!m_deflate->acceptResponse(result.extensions.first(), &reason)) {
            qCDebug(lcHandshake) << "permessage-deflate response refused:" << reason;
            fail(WsError(WsError::HandshakeFailed, QStringLiteral("Invalid Sec-WebSocket-Extensions header")));
            return;
        }
        upgrade.deflate = m_deflate;
        upgrade.extensions = QString::fromLatin1(response.headers.combinedValue("Sec-WebSocket-Extensions"));
    }
    m_done = true;
    m_timeout.stop();
    Transport *transport = m_transport;
    m_transport = nullptr;
    transport->disconnect(this);
    transport->device()->disconnect(this);
    transport->setParent(nullptr);
    upgrade.head = rest;
    upgrade.transport = leanTransportFor(transport, &upgrade.head);
    Q_EMIT succeeded(upgrade);
}

Transport *ClientHandshake::leanTransportFor(Transport *transport, QByteArray *head) const
{
    // A plain TCP connection straight to the server continues on the lean
    // transport, as the connections a WsServer accepts do.
    auto *tcp = qobject_cast<QTcpSocket *>(transport->device());
    if (!leanTransportEnabled(m_options.leanTransport) || !tcp || qobject_cast<QSslSocket *>(tcp) || !connectsDirectly(tcp)
        || tcp->bytesToWrite() > 0)
        return transport;
    Transport *lean = adoptIntoLeanTransport(tcp);
    if (!lean)
        return transport;
    head->append(tcp->readAll());
    // This runs inside the socket's readyRead(): it is closed now, so that it
    // reads nothing more, and deleted later.
    tcp->abort();
    transport->deleteLater();
    return lean;
}

bool ClientHandshake::connectsDirectly(const QTcpSocket *socket)
{
    QNetworkProxy proxy = socket->proxy();
    if (proxy.type() == QNetworkProxy::DefaultProxy) {
        // What QAbstractSocket chose: the first proxy of a kind it supports.
        const QNetworkProxyQuery query(socket->peerName(), socket->peerPort(), QString(),
                                       QNetworkProxyQuery::TcpSocket);
        for (const QNetworkProxy &candidate : QNetworkProxyFactory::proxyForQuery(query)) {
            const QNetworkProxy::ProxyType type = candidate.type();
            if (type == QNetworkProxy::NoProxy || type == QNetworkProxy::Socks5Proxy
                || type == QNetworkProxy::HttpProxy) {
                proxy = candidate;
                break;
            }
        }
    }
    return proxy.type() == QNetworkProxy::NoProxy;
}

void ClientHandshake::followRedirect(const QByteArray &location)
{
    if (++m_redirects > m_options.maxRedirects) {
        fail(WsError(WsError::TooManyRedirects, QStringLiteral("Maximum redirects exceeded")));
        return;
    }
    const QUrl relative = QUrl::fromEncoded(location, QUrl::StrictMode);
    if (!relative.isValid()) {
        fail(invalidUrl(QString::fromLatin1(location)));
        return;
    }
    ClientTarget target;
    if (const WsError error = resolveClientTarget(m_target.url.resolved(relative), &target);
        error.isError()) {
        fail(error);
        return;
    }

    if (!m_options.handleRedirect) {
        const bool sameHost = target.local == m_target.local && target.host == m_target.host
                && (target.local || target.port == m_target.port);
        // Credentials never follow a redirect to another host, nor a downgrade to plain text.
        if (!sameHost || (m_target.secure && !target.secure)) {
            m_request.headers.remove("Authorization");
            m_request.headers.remove("Cookie");
            m_request.auth.clear();
        }
    }
    // The request handleRedirect sees carries the credentials it may remove.
    if (!m_request.auth.isEmpty() && !m_request.headers.contains("Authorization"))
        m_request.headers.append("Authorization", "Basic " + m_request.auth.toBase64());
    m_request.auth.clear();
    m_request.host = target.hostHeader;
    m_request.resource = target.resource;
    m_request.key = core::generateWebSocketKey();

    WsHttpRequest request;
    request.method = "GET";
    request.target = target.resource;
    request.headers = m_request.headers;
    QPointer<ClientHandshake> guard(this);
    if (m_options.handleRedirect) {
        m_options.handleRedirect(target.url, request);
        if (!guard || m_done)
            return;
    }
    m_request.headers = request.headers;
    Q_EMIT redirected(target.url, request);
    if (!guard || m_done)
        return;
    if (const WsError error = core::validateClientRequest(m_request); error.isError()) {
        fail(error);
        return;
    }

    qCDebug(lcHandshake) << "redirected to" << target.url;
    releaseTransport();
    m_target = target;
    // ws starts the handshake timeout again for each hop.
    if (m_options.handshakeTimeout > 0)
        m_timeout.start(m_options.handshakeTimeout);
    connectTransport();
}

void ClientHandshake::collectBody(const QByteArray &rest)
{
    if (m_chunked) {
        m_rawBody += rest.left(qsizetype(qMax<qint64>(kMaxResponseBody - m_rawBody.size(), 0)));
        bool malformed = false;
        if (core::decodeChunkedBody(m_rawBody, &m_response.body, &malformed) || malformed
            || m_rawBody.size() >= kMaxResponseBody)
            finishUnexpected();
        return;
    }
    const qint64 limit = m_bodyExpected >= 0 ? qMin(m_bodyExpected, kMaxResponseBody) : kMaxResponseBody;
    const qint64 room = limit - m_response.body.size();
    m_response.body += rest.left(qsizetype(qMax<qint64>(room, 0)));
    if (m_bodyExpected >= 0 && m_response.body.size() >= limit)
        finishUnexpected();
}

void ClientHandshake::finishUnexpected()
{
    if (m_done)
        return;
    m_done = true;
    m_timeout.stop();
    releaseTransport();
    QPointer<ClientHandshake> guard(this);
    Q_EMIT unexpectedResponse(m_response);
    if (guard)
        Q_EMIT failed(WsError());
}

void ClientHandshake::ignoreSslErrors(const QList<QSslError> &errors)
{
    m_ignoreSslErrors = true;
    m_ignoredSslErrors = errors;
}

void ClientHandshake::abort()
{
    fail(WsError(WsError::HandshakeFailed,
                 QStringLiteral("WebSocket was closed before the connection was established")));
}

void ClientHandshake::fail(const WsError &error)
{
    if (m_done)
        return;
    m_done = true;
    m_timeout.stop();
    releaseTransport();
    qCDebug(lcHandshake) << "handshake failed:" << error;
    Q_EMIT failed(error);
}

void ClientHandshake::releaseTransport()
{
    if (!m_transport)
        return;
    Transport *transport = m_transport;
    m_transport = nullptr;
    transport->disconnect(this);
    transport->device()->disconnect(this);
    transport->destroy();
    transport->deleteLater();
}

} // namespace wsqt::transport
