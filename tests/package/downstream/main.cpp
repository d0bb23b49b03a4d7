// A program built against an installed wsqt: one echo round trip over loopback.
#include <wsqt/wsqtversion.h>
#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qtimer.h>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    WsServerOptions options;
    options.port = 0;
    options.host = QHostAddress::LocalHost;
    WsServer server(options);
    QObject::connect(&server, &WsServer::newConnection, [](WsSocket *socket, const WsHttpRequest &) {
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [socket](const QByteArray &message, bool) { socket->sendText(QString::fromUtf8(message)); });
    });
    WsSocket client;
    QObject::connect(&server, &WsServer::listening, [&] {
        client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(server.address().port)));
    });
    QObject::connect(&client, &WsSocket::opened, [&] { client.sendText(QStringLiteral("ping")); });
    QObject::connect(&client, &WsSocket::messageReceived, [&](const QByteArray &message, bool) {
        std::printf("wsqt %s echoed %s\n", WSQT_VERSION_STR, message.constData());
        app.exit(message == "ping" ? 0 : 1);
    });
    QTimer::singleShot(10000, &app, [&] { app.exit(2); });
    return app.exec();
}
