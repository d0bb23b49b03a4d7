// A WebSocket echo server on 127.0.0.1: every message goes back to its
// sender, text as text and binary as binary.
//
// Usage: echo-server [port]   (default 8080)

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    const QStringList arguments = QCoreApplication::arguments();
    bool ok = true;
    const uint port = arguments.size() > 1 ? arguments.at(1).toUInt(&ok) : 8080;
    if (!ok || port > 65535 || arguments.size() > 2) {
        qCritical("Usage: echo-server [port]");
        return 2;
    }

    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    options.port = int(port);
    WsServer server(options);
    if (server.error()) {
        qCritical().noquote() << server.error().message();
        return 1;
    }

    QObject::connect(&server, &WsServer::listening, &server, [&server] {
        qInfo("Echo server listening on ws://127.0.0.1:%d", int(server.address().port));
    });
    QObject::connect(&server, &WsServer::newConnection, &server, [](WsSocket *socket) {
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [socket](const QByteArray &message, bool isBinary) {
                             WsSendOptions sendOptions;
                             sendOptions.binary = isBinary;
                             socket->send(message, sendOptions);
                         });
    });

    return app.exec();
}
