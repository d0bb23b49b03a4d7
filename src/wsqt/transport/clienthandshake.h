#pragma once

// The client's opening handshake as ws runs it: URL checks, connecting,
// the request, the response, redirects and the handshake timeout. On success
// it hands the connected transport and the bytes after the response over.

#include "core/handshake.h"
#include "timerwheel.h"
#include "core/http.h"
#include "core/permessagedeflate.h"
#include "upgrade.h"

#include <wsqt/wserror.h>
#include <wsqt/wshttp.h>
#include <wsqt/wsoptions.h>

#include <QtCore/qobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qsslerror.h>

#include <functional>
#include <memory>
#include <optional>

class QTcpSocket;

namespace wsqt::transport {

class Transport;

// Where a ws:// or ws+unix:// URL leads.
struct ClientTarget
{
    QUrl url;                   // normalised: http -> ws, https -> wss
    bool secure = false;
    bool local = false;         // ws+unix
    QString host;               // TCP host, or the socket path for ws+unix
    quint16 port = 0;
    QByteArray hostHeader;
    QByteArray resource;        // path and query
};

// Checks a URL as ws's constructor does and works out where it leads.
WsError resolveClientTarget(const QUrl &url, ClientTarget *target);

class ClientHandshake : public QObject
{
    Q_OBJECT

public:
    explicit ClientHandshake(const WsClientOptions &options, QObject *parent = nullptr);
    ~ClientHandshake() override;

    // Validates as ws's constructor does (nothing happens on an error), then
    // starts connecting.
    WsError start(const QUrl &url, const QStringList &protocols);
    // Stops with "WebSocket was closed before the connection was established".
    void abort();
    // From a receiver of sslErrors(): continue despite these errors (all when empty).
    void ignoreSslErrors(const QList<QSslError> &errors);

    QUrl url() const { return m_target.url; }
    const core::ClientHandshakeRequest &request() const { return m_request; }

Q_SIGNALS:
    void upgraded(const WsHttpResponse &response);
    void sslErrors(const QList<QSslError> &errors);
    void redirected(const QUrl &url, const WsHttpRequest &request);
    void unexpectedResponse(const WsHttpResponse &response);
    // Hands over the connection: the transport is now owned by the receiver
    // of this signal.
    void succeeded(const wsqt::transport::Upgrade &upgrade);
    void failed(const WsError &error);

private:
    void connectTransport();
    void sendRequest();
    void onSslErrors(const QList<QSslError> &errors);
    void onReadyRead();
    WsError::Code classifySocketError() const;
    void handleResponse(QByteArray rest);
    void handleUpgrade(const QByteArray &rest);
    void followRedirect(const QByteArray &location);
    void collectBody(const QByteArray &rest);
    void finishUnexpected();
    void fail(const WsError &error);
    void releaseTransport();
    Transport *leanTransportFor(Transport *transport, QByteArray *head) const;
    static bool connectsDirectly(const QTcpSocket *socket);

    WsClientOptions m_options;
    std::shared_ptr<core::PerMessageDeflate> m_deflate;
    ClientTarget m_target;
    core::ClientHandshakeRequest m_request;
    std::optional<core::HttpHeadParser> m_parser;
    WsHttpResponse m_response;
    bool m_ignoreSslErrors = false;
    QList<QSslError> m_ignoredSslErrors;
    bool m_readingBody = false;        // an unexpected response's body is being read
    qint64 m_bodyExpected = -1;        // its Content-Length, -1 when it ends with the connection
    bool m_chunked = false;            // Transfer-Encoding: chunked
    QByteArray m_rawBody;              // a chunked body as received
    int m_redirects = 0;
    bool m_done = false;
    QPointer<Transport> m_transport;
    WheelTimer m_timeout;
};

} // namespace wsqt::transport
