// A chat room: every text message a client sends goes to every other
// client, prefixed with the sender's name. Clients choose a name with the
// query (ws://127.0.0.1:8080/?name=Alice); binary messages are refused.
//
// Usage: broadcast-chat-server [port]   (default 8080)

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>
#include <QtCore/qurl.h>
#include <QtCore/qurlquery.h>

namespace {

// 1003: the endpoint received a type of data it cannot accept (RFC 6455).
constexpr int kUnsupportedData = 1003;

QString nameFor(const WsHttpRequest &request, int number)
{
    const QUrlQuery query(QUrl::fromEncoded(request.target).query());
    const QString name = query.queryItemValue(QStringLiteral("name"), QUrl::FullyDecoded).trimmed();
    return name.isEmpty() ? QStringLiteral("guest-%1").arg(number) : name.left(32);
}

// Sends a text message to every open client but `except`. A client with
// more than the high-water mark (1 MiB) still queued is skipped: a slow
// reader misses messages rather than making the server hold them all.
void broadcast(WsServer &server, const QString &text, WsSocket *except = nullptr)
{
    WsSendOptions asText;
    asText.binary = false;
    server.broadcast(text.toUtf8(), asText, WsServer::SkipBackpressured, except);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    const QStringList arguments = QCoreApplication::arguments();
    bool ok = true;
    const uint port = arguments.size() > 1 ? arguments.at(1).toUInt(&ok) : 8080;
    if (!ok || port > 65535 || arguments.size() > 2) {
        qCritical("Usage: broadcast-chat-server [port]");
        return 2;
    }

    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    options.port = int(port);
    options.maxPayload = 64 * 1024;         // a chat line, not a file transfer
    WsServer server(options);
    if (server.error()) {
        qCritical().noquote() << server.error().message();
        return 1;
    }

    QObject::connect(&server, &WsServer::listening, &server, [&server] {
        qInfo("Chat server listening on ws://127.0.0.1:%d/?name=YOURNAME", int(server.address().port));
    });

    int joined = 0;
    QObject::connect(&server, &WsServer::newConnection, &server,
                     [&server, &joined](WsSocket *socket, const WsHttpRequest &request) {
        const QString name = nameFor(request, ++joined);
        qInfo().noquote() << name << "joined from" << socket->peerAddress().toString();

        socket->sendText(QStringLiteral("* welcome, %1 (%2 online)").arg(name).arg(server.clients().size()));
        broadcast(server, QStringLiteral("* %1 joined").arg(name), socket);

        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [&server, socket, name](const QByteArray &message, bool isBinary) {
            if (isBinary) {
                socket->close(kUnsupportedData, "text only");
                return;
            }
            broadcast(server, name + QStringLiteral(": ") + QString::fromUtf8(message), socket);
        });
        QObject::connect(socket, &WsSocket::errorOccurred, socket, [name](const WsError &error) {
            qWarning().noquote() << name << error.codeName() << error.message();
        });
        // The server deletes the socket after this signal; it is no longer in clients().
        QObject::connect(socket, &WsSocket::closed, &server,
                         [&server, name](int code, const QByteArray &reason) {
            qInfo().noquote() << name << "left:" << code << QString::fromUtf8(reason);
            broadcast(server, QStringLiteral("* %1 left").arg(name));
        });
    });

    return app.exec();
}
