// WebSocket over a UNIX domain socket: a WsServer listening on a socket
// file and a WsSocket that connects to it with a ws+unix: URL.
//
// Usage: unix-socket [--serve] [PATH]
//   Without --serve: serves PATH, connects to it, exchanges one message
//   and exits. With --serve: an echo server on PATH until interrupted, for
//   other clients (wsqt connect ws+unix:PATH).
//   PATH defaults to a file in the temporary directory.

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>
#include <QtCore/qdir.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qlocalserver.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    QStringList arguments = QCoreApplication::arguments().mid(1);
    const bool serveOnly = arguments.removeAll(QStringLiteral("--serve")) > 0;
    if (arguments.size() > 1) {
        qCritical("Usage: unix-socket [--serve] [PATH]");
        return 2;
    }
    const QString path = arguments.isEmpty() ? QDir::temp().filePath(QStringLiteral("wsqt-example.sock"))
                                             : QFileInfo(arguments.constFirst()).absoluteFilePath();
    // A socket file left by an earlier run would make listening fail.
    QLocalServer::removeServer(path);

    WsServerOptions options;
    options.socketPath = path;              // instead of a port
    WsServer server(options);
    if (server.error()) {
        qCritical().noquote() << server.error().message();
        return 1;
    }
    QObject::connect(&server, &WsServer::newConnection, &server,
                     [](WsSocket *socket, const WsHttpRequest &request) {
        qInfo().noquote() << "server: connection for" << request.target;
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [socket](const QByteArray &message, bool isBinary) {
                             WsSendOptions sendOptions;
                             sendOptions.binary = isBinary;
                             socket->send(message, sendOptions);
                         });
    });

    WsSocket client;
    QObject::connect(&client, &WsSocket::opened, &client,
                     [&client] { client.sendText(QStringLiteral("hello over a UNIX socket")); });
    QObject::connect(&client, &WsSocket::messageReceived, &client, [&client](const QByteArray &message) {
        qInfo().noquote() << "client: echo:" << QString::fromUtf8(message);
        client.close(1000, "done");
    });
    QObject::connect(&client, &WsSocket::errorOccurred, &client, [](const WsError &error) {
        qWarning().noquote() << "client:" << error.codeName() << error.message();
    });
    QObject::connect(&client, &WsSocket::closed, &server, [&server](int code) {
        qInfo() << "client: closed with" << code;
        // The server stops listening (and removes the socket file), then the program ends.
        server.close([](const WsError &) { QCoreApplication::exit(0); });
    });

    QObject::connect(&server, &WsServer::listening, &server, [&server, &client, serveOnly] {
        const QString socketPath = server.address().path;
        if (serveOnly) {
            qInfo().noquote().nospace() << "echo server listening on ws+unix:" << socketPath;
            return;
        }
        // The socket path, then ':' and the request path.
        const QUrl url(QStringLiteral("ws+unix://") + socketPath + QStringLiteral(":/chat?room=1"));
        qInfo().noquote() << "client: connecting to" << url.toString();
        client.open(url);
    });

    return app.exec();
}
