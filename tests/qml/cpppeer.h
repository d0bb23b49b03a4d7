#pragma once

// The C++ side of the QML tests: a WsServer echo peer (plain and TLS) that
// obeys commands, and raw TCP peers for what a WebSocket server would not
// do (stay silent, redirect).

#include <QtCore/qobject.h>
#include <QtCore/qvariant.h>
#include <QtNetwork/qtcpserver.h>

class WsServer;
class WsSocket;

class CppPeer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString echoUrl READ echoUrl CONSTANT)
    Q_PROPERTY(QString tlsUrl READ tlsUrl CONSTANT)
    Q_PROPERTY(QString silentUrl READ silentUrl CONSTANT)
    Q_PROPERTY(QString redirectUrl READ redirectUrl CONSTANT)
    Q_PROPERTY(QString closedUrl READ closedUrl CONSTANT)
    Q_PROPERTY(QString caFile READ caFile CONSTANT)
    Q_PROPERTY(QString caPem READ caPem CONSTANT)
    Q_PROPERTY(int connections READ connections NOTIFY connectionsChanged)
    Q_PROPERTY(int silentConnections READ silentConnections NOTIFY silentConnectionsChanged)
    Q_PROPERTY(QVariantMap lastHeaders READ lastHeaders NOTIFY connectionsChanged)
    Q_PROPERTY(bool deflateAvailable READ deflateAvailable CONSTANT)

public:
    explicit CppPeer(QObject *parent = nullptr);

    QString echoUrl() const;
    QString tlsUrl() const;
    QString silentUrl() const;
    QString redirectUrl() const;
    // A port nothing listens on (it did a moment ago).
    QString closedUrl() const { return m_closedUrl; }
    QString caFile() const;
    QString caPem() const;
    int connections() const { return m_connections; }
    int silentConnections() const { return m_silentConnections; }
    QVariantMap lastHeaders() const { return m_lastHeaders; }
    // Whether the library was built with permessage-deflate (zlib).
    bool deflateAvailable() const;

Q_SIGNALS:
    void connectionsChanged();
    void silentConnectionsChanged();
    // An echo connection closed; `code` as the server saw it.
    void peerClosed(int code, const QString &reason);
    // What the echo server received, before it answered.
    void peerReceived(const QVariant &message, bool isBinary);
    void peerPong(const QByteArray &payload);

private:
    void serve(WsServer *server);
    void obey(WsSocket *socket, const QByteArray &message, bool isBinary);

    WsServer *m_echo;
    WsServer *m_tls;
    QTcpServer m_silent;
    QTcpServer m_redirect;
    QString m_closedUrl;
    QVariantMap m_lastHeaders;
    int m_connections = 0;
    int m_silentConnections = 0;
};
