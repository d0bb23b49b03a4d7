// The QtWebSockets side of the client benchmark: QWebSocket connections each
// keeping K binary messages in flight against an echo server.

#include "clientbench.h"

#include <QtCore/qcoreapplication.h>
#include <QtWebSockets/qwebsocket.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const ClientBenchOptions options = parseClientBenchOptions();
    ClientBenchMeter meter(options, "qtwebsockets");
    const QByteArray payload(options.size, 'Z');

    QList<QWebSocket *> sockets;
    int open = 0;
    for (int i = 0; i < options.connections; ++i) {
        auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, &app);
        sockets.append(socket);
        QObject::connect(socket, &QWebSocket::connected, socket, [&] {
            if (++open < options.connections)
                return;
            for (QWebSocket *each : std::as_const(sockets)) {
                for (int k = 0; k < options.inflight; ++k)
                    each->sendBinaryMessage(payload);
            }
            meter.start();
        });
        QObject::connect(socket, &QWebSocket::binaryMessageReceived, socket,
                         [&, socket](const QByteArray &message) {
                             if (message.size() != payload.size())
                                 ClientBenchMeter::fail(QStringLiteral("an echo of the wrong size"));
                             meter.count();
                             socket->sendBinaryMessage(payload);
                         });
        QObject::connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), socket,
                         [socket] { ClientBenchMeter::fail(socket->errorString()); });
        socket->open(options.url);
    }
    return app.exec();
}
