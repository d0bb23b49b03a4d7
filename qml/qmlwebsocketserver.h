#pragma once

#include <wsqt/wserror.h>
#include <wsqt/wshttp.h>

#include <QtCore/qobject.h>
#include <QtCore/qurl.h>
#include <QtQml/qjsvalue.h>
#include <QtQml/qqml.h>
#include <QtQml/qqmlparserstatus.h>

#include "qmlclientsmodel.h"
#include "qmlwebsocket.h"

class WsServer;
class WsSocket;

// QML's WebSocketServer: listens while `active` is true; each connection is
// a WebSocket object listed in `clients`.
class QmlWebSocketServer : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    QML_NAMED_ELEMENT(WebSocketServer)
    Q_INTERFACES(QQmlParserStatus)
    Q_PROPERTY(int port READ port WRITE setPort NOTIFY portChanged)
    Q_PROPERTY(QString host READ host WRITE setHost NOTIFY hostChanged)
    Q_PROPERTY(QString path READ path WRITE setPath NOTIFY pathChanged)
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)
    Q_PROPERTY(bool listening READ isListening NOTIFY listeningChanged)
    Q_PROPERTY(QUrl url READ url NOTIFY listeningChanged)
    Q_PROPERTY(double maxPayload READ maxPayload WRITE setMaxPayload NOTIFY maxPayloadChanged)
    Q_PROPERTY(bool perMessageDeflate READ perMessageDeflate WRITE setPerMessageDeflate
                       NOTIFY perMessageDeflateChanged)
    Q_PROPERTY(int pingInterval READ pingInterval WRITE setPingInterval NOTIFY pingIntervalChanged)
    Q_PROPERTY(int pongTimeout READ pongTimeout WRITE setPongTimeout NOTIFY pongTimeoutChanged)
    Q_PROPERTY(QmlClientsModel *clients READ clients CONSTANT)

public:
    // Which connections broadcast() leaves out: those whose bufferedAmount
    // reached the high-water mark, skipped or closed (1008) instead.
    enum BroadcastPolicy { SendToAll, SkipBackpressured, DropBackpressured };
    Q_ENUM(BroadcastPolicy)

    explicit QmlWebSocketServer(QObject *parent = nullptr);
    ~QmlWebSocketServer() override;

    int port() const { return m_port; }
    void setPort(int port);
    QString host() const { return m_host; }
    void setHost(const QString &host);
    QString path() const { return m_path; }
    void setPath(const QString &path);
    bool isActive() const { return m_active; }
    void setActive(bool active);
    bool isListening() const { return m_listening; }
    QUrl url() const;
    // A double, as WebSocket's byte counts are.
    double maxPayload() const { return double(m_maxPayload); }
    void setMaxPayload(double bytes);
    bool perMessageDeflate() const { return m_perMessageDeflate; }
    void setPerMessageDeflate(bool on);
    int pingInterval() const { return m_pingInterval; }
    void setPingInterval(int milliseconds);
    int pongTimeout() const { return m_pongTimeout; }
    void setPongTimeout(int milliseconds);
    QmlClientsModel *clients() const { return m_clients; }

    // Sends `message` to the open connections `policy` allows; returns how many took it.
    Q_INVOKABLE int broadcast(const QJSValue &message, BroadcastPolicy policy = SendToAll);

    void classBegin() override { }
    void componentComplete() override;

Q_SIGNALS:
    void portChanged();
    void hostChanged();
    void pathChanged();
    void activeChanged();
    void listeningChanged();
    void maxPayloadChanged();
    void perMessageDeflateChanged();
    void pingIntervalChanged();
    void pongTimeoutChanged();
    // `request` is {method, target, path, headers}, header names in lower case.
    void newConnection(QmlWebSocket *socket, const QVariantMap &request);
    void messageReceived(QmlWebSocket *socket, const QVariant &message, bool isBinary);
    void errorOccurred(const QString &code, const QString &message);

private:
    template<typename T>
    void assign(T &member, const T &value, void (QmlWebSocketServer::*notify)());
    void start();
    // Stops listening; connections stay open unless `closeConnections`.
    void stop(bool closeConnections);
    // With 1001 (going away).
    void closeConnections();
    void restart();
    // A warning that points at the QML code, and errorOccurred.
    void refuse(const WsError &error);
    // The server cannot run: inactive, and the error reported.
    void fail(const WsError &error);
    void updateListening();
    void addConnection(WsSocket *socket, const WsHttpRequest &request);

    WsServer *m_server = nullptr;
    QmlClientsModel *m_clients;
    QString m_host;
    QString m_path;
    qint64 m_maxPayload;
    int m_port = 0;
    int m_pingInterval = 0;
    int m_pongTimeout = 0;
    bool m_perMessageDeflate = false;
    bool m_active = false;
    bool m_listening = false;
    bool m_complete = false;
};
