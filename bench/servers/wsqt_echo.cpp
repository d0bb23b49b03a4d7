// The wsqt echo server of the benchmarks: every message goes back to its
// sender as it came. Public API only. --threads N spreads the connections over
// N event-loop threads (WsServerOptions::workerThreads); --ping-interval MS
// turns the heartbeat on (WsServerOptions::pingInterval).

#include "net.h"
#include "serverargs.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const ServerArguments arguments = parseServerArguments(ServerArguments::Deflate | ServerArguments::Threads
                                                           | ServerArguments::PingInterval);
    // Tens of thousands of idle connections (S6, S8).
    loadgen::raiseFileLimit();

    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    options.port = arguments.port;
    if (arguments.deflate)
        options.perMessageDeflate = WsDeflateOptions();
    options.workerThreads = arguments.threads;
    options.pingInterval = arguments.pingInterval;
    WsServer server(options);
    if (server.error()) {
        std::fprintf(stderr, "%s\n", qPrintable(server.error().message()));
        return 1;
    }
    QObject::connect(&server, &WsServer::listening, &server,
                     [&server] { announcePort(server.address().port); });
    // Direct: with worker threads the signal comes from the connection's
    // thread, and the echo must be in place before its first message.
    QObject::connect(&server, &WsServer::newConnection, &server, [](WsSocket *socket) {
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [socket](const QByteArray &message, bool isBinary) {
                             WsSendOptions sendOptions;
                             sendOptions.binary = isBinary;
                             socket->send(message, sendOptions);
                         });
    }, Qt::DirectConnection);
    return app.exec();
}
