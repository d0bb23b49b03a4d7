// The QtWebSockets echo server of the benchmarks: every message goes back to
// its sender as it came.

#include "net.h"
#include "serverargs.h"

#include <QtWebSockets/qwebsocket.h>
#include <QtWebSockets/qwebsocketserver.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const ServerArguments arguments = parseServerArguments(0);
    // Tens of thousands of idle connections (S6, S8).
    loadgen::raiseFileLimit();

    QWebSocketServer server(QStringLiteral("bench"), QWebSocketServer::NonSecureMode);
    // Thousands of clients connect at once in the memory benchmark.
    server.setMaxPendingConnections(100000);
    if (!server.listen(QHostAddress::LocalHost, arguments.port)) {
        std::fprintf(stderr, "%s\n", qPrintable(server.errorString()));
        return 1;
    }
    QObject::connect(&server, &QWebSocketServer::newConnection, &server, [&server] {
        while (QWebSocket *socket = server.nextPendingConnection()) {
            QObject::connect(socket, &QWebSocket::textMessageReceived, socket,
                             [socket](const QString &message) { socket->sendTextMessage(message); });
            QObject::connect(socket, &QWebSocket::binaryMessageReceived, socket,
                             [socket](const QByteArray &message) { socket->sendBinaryMessage(message); });
            QObject::connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
        }
    });
    announcePort(server.serverPort());
    return app.exec();
}
