#pragma once

#include <wsqt/wserror.h>

#include <QtCore/qobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qurl.h>
#include <QtQml/qjsvalue.h>
#include <QtQml/qqml.h>
#include <QtQml/qqmlparserstatus.h>

#include "qmlconversions.h"
#include "qmlwebsocketoptions.h"

#include <optional>

class WsSocket;

// QML's WebSocket: a client that connects while `active` is true, or (made by
// a WebSocketServer) one of the server's connections.
class QmlWebSocket : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    QML_NAMED_ELEMENT(WebSocket)
    Q_INTERFACES(QQmlParserStatus)
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
    Q_PROPERTY(QStringList protocols READ protocols WRITE setProtocols NOTIFY protocolsChanged)
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)
    Q_PROPERTY(ReadyState readyState READ readyState NOTIFY readyStateChanged)
    Q_PROPERTY(QString protocol READ protocol NOTIFY connectionInfoChanged)
    Q_PROPERTY(QString extensions READ extensions NOTIFY connectionInfoChanged)
    Q_PROPERTY(qint64 bufferedAmount READ bufferedAmount NOTIFY bufferedAmountChanged)
    Q_PROPERTY(bool backpressured READ isBackpressured NOTIFY bufferedAmountChanged)
    Q_PROPERTY(BinaryType binaryType READ binaryType WRITE setBinaryType NOTIFY binaryTypeChanged)
    Q_PROPERTY(bool paused READ isPaused NOTIFY pausedChanged)
    Q_PROPERTY(bool serverSide READ isServerSide CONSTANT)
    Q_PROPERTY(QString peerAddress READ peerAddress NOTIFY connectionInfoChanged)
    Q_PROPERTY(int peerPort READ peerPort NOTIFY connectionInfoChanged)
    Q_PROPERTY(QmlWebSocketOptions *options READ options CONSTANT)

public:
    enum ReadyState { Connecting = 0, Open = 1, Closing = 2, Closed = 3 };
    Q_ENUM(ReadyState)
    // How binary messages arrive: one ArrayBuffer, or an array with one
    // ArrayBuffer per frame.
    enum BinaryType { ArrayBuffer, Fragments };
    Q_ENUM(BinaryType)

    explicit QmlWebSocket(QObject *parent = nullptr);
    ~QmlWebSocket() override;

    // Wraps a server's open connection; `socket` stays owned by its server.
    static QmlWebSocket *forServerConnection(WsSocket *socket, QObject *parent);

    QUrl url() const;
    void setUrl(const QUrl &url);
    QStringList protocols() const { return m_protocols; }
    void setProtocols(const QStringList &protocols);
    bool isActive() const { return m_active; }
    void setActive(bool active);
    ReadyState readyState() const;
    QString protocol() const;
    QString extensions() const;
    qint64 bufferedAmount() const;
    // bufferedAmount reached options.highWaterMark and has not drained to the low mark yet.
    bool isBackpressured() const;
    BinaryType binaryType() const { return m_binaryType; }
    void setBinaryType(BinaryType type);
    bool isPaused() const;
    bool isServerSide() const { return m_serverSide; }
    QString peerAddress() const;
    int peerPort() const;
    QmlWebSocketOptions *options() const { return m_options; }

    Q_INVOKABLE bool send(const QJSValue &message);
    Q_INVOKABLE bool ping(const QJSValue &data = QJSValue());
    Q_INVOKABLE bool pong(const QJSValue &data = QJSValue());
    Q_INVOKABLE bool close(int code = 0, const QString &reason = QString());
    Q_INVOKABLE void terminate();
    Q_INVOKABLE void pause();
    Q_INVOKABLE void resume();

    void classBegin() override { }
    void componentComplete() override;

Q_SIGNALS:
    void urlChanged();
    void protocolsChanged();
    void activeChanged();
    void readyStateChanged();
    void bufferedAmountChanged();
    void binaryTypeChanged();
    void pausedChanged();
    void connectionInfoChanged();
    void opened();
    // A string for text; for binary an ArrayBuffer, or an array of them
    // with binaryType Fragments.
    void messageReceived(const QVariant &message, bool isBinary);
    void pingReceived(const QByteArray &payload);
    void pongReceived(const QByteArray &payload);
    void closed(int code, const QString &reason);
    // `code` is the WS_ERR_* or WSQT_ERR_* name.
    void errorOccurred(const QString &code, const QString &message);
    // bufferedAmount fell to options.lowWaterMark after reaching the high mark.
    void drained();
    // With options.reconnect: the connection was lost and attempt number
    // `attempt` starts in `delayMs` ms.
    void reconnecting(int attempt, int delayMs);
    // options.reconnect.maxAttempts attempts failed; no more are made.
    void reconnectFailed();

private:
    void open();
    void attach(WsSocket *socket);
    void onClosed(int code, const QByteArray &reason);
    // A call QML made was refused: a warning that points at the QML code, and errorOccurred.
    void refuse(const WsError &error);
    // The data given to send(), ping() or pong(), when it is usable and the socket exists.
    std::optional<wsqtqml::Payload> acceptPayload(const QJSValue &value, const char *method, bool emptyAllowed);
    // Whether the call succeeded; a refusal is reported unless the socket
    // itself reported it while the call ran (its errors count went past
    // `socketErrorsBefore`).
    bool checked(const WsError &error, int socketErrorsBefore = -1);
    WsError notOpenError() const;

    QPointer<WsSocket> m_socket;
    QmlWebSocketOptions *m_options;
    QUrl m_url;
    QStringList m_protocols;
    BinaryType m_binaryType = ArrayBuffer;
    bool m_active = false;
    bool m_complete = false;
    bool m_serverSide = false;
    // The errors the socket reported so far.
    int m_socketErrors = 0;
};
