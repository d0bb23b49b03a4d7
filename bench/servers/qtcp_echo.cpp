// A plain QTcpSocket byte echo: what Qt's event loop and sockets cost without
// any WebSocket work, the ceiling for a Qt server.

#include "net.h"
#include "serverargs.h"

#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const ServerArguments arguments = parseServerArguments(0);
    // Tens of thousands of idle connections (S6, S8).
    loadgen::raiseFileLimit();

    QTcpServer server;
    server.setMaxPendingConnections(100000);
    if (!server.listen(QHostAddress::LocalHost, arguments.port)) {
        std::fprintf(stderr, "%s\n", qPrintable(server.errorString()));
        return 1;
    }
    QObject::connect(&server, &QTcpServer::newConnection, &server, [&server] {
        while (QTcpSocket *socket = server.nextPendingConnection()) {
            socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->write(socket->readAll()); });
            QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    });
    announcePort(server.serverPort());
    return app.exec();
}
