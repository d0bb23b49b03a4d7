#pragma once

// One TCP port for a web application and its WebSocket endpoint: ordinary
// HTTP requests are served by a QHttpServer, WebSocket upgrade requests by a
// WsServer in noServer mode, through WsServer::handleUpgrade().

#include <QtCore/qobject.h>
#include <QtNetwork/qhostaddress.h>

class QHttpServer;
class WsServer;
class WsSocket;

namespace sharedport {
class RequestSplitter;
}

class SharedPortServer : public QObject
{
    Q_OBJECT

public:
    // `headTimeoutMs`: how long a new connection has to send its first request head.
    explicit SharedPortServer(int headTimeoutMs = 10000, QObject *parent = nullptr);
    ~SharedPortServer() override;

    // Listens on `address`:`port` (0: a free port). False, with errorString(), on failure.
    bool listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    quint16 serverPort() const;
    QString errorString() const;

    QHttpServer *httpServer() const { return m_http; }
    WsServer *webSocketServer() const { return m_webSockets; }

    // The path that WebSocket clients connect to.
    static QString webSocketPath();

private:
    void join(WsSocket *socket);

    sharedport::RequestSplitter *m_splitter = nullptr;
    QHttpServer *m_http = nullptr;
    WsServer *m_webSockets = nullptr;
};
