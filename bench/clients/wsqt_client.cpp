// The wsqt side of the client benchmark: WsSocket connections each keeping K
// binary messages in flight against an echo server.

#include "clientbench.h"

#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const ClientBenchOptions options = parseClientBenchOptions();
    ClientBenchMeter meter(options, "wsqt");
    const QByteArray payload(options.size, 'Z');

    WsClientOptions clientOptions;
    clientOptions.perMessageDeflate = std::nullopt;
    QList<WsSocket *> sockets;
    int open = 0;
    for (int i = 0; i < options.connections; ++i) {
        auto *socket = new WsSocket(&app);
        sockets.append(socket);
        QObject::connect(socket, &WsSocket::opened, socket, [&] {
            if (++open < options.connections)
                return;
            for (WsSocket *each : std::as_const(sockets)) {
                for (int k = 0; k < options.inflight; ++k)
                    each->sendBinary(payload);
            }
            meter.start();
        });
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [&, socket](const QByteArray &message) {
                             if (message.size() != payload.size())
                                 ClientBenchMeter::fail(QStringLiteral("an echo of the wrong size"));
                             meter.count();
                             socket->sendBinary(payload);
                         });
        QObject::connect(socket, &WsSocket::errorOccurred, socket,
                         [](const WsError &error) { ClientBenchMeter::fail(error.message()); });
        if (const WsError error = socket->open(options.url, {}, clientOptions))
            ClientBenchMeter::fail(error.message());
    }
    return app.exec();
}
