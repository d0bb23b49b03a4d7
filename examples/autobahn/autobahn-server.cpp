// The server under test for the Autobahn TestSuite's fuzzingclient: an echo
// server on 127.0.0.1 that offers permessage-deflate and takes the largest
// messages of the suite's 9.x cases.
//
// Usage: autobahn-server [--port N]   (default 9001)

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Echo server for the Autobahn fuzzingclient."));
    parser.addHelpOption();
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("The TCP port (default 9001)."),
                                        QStringLiteral("port"), QStringLiteral("9001"));
    parser.addOption(portOption);
    parser.process(app);
    bool ok = false;
    const uint port = parser.value(portOption).toUInt(&ok);
    if (!ok || port > 65535) {
        qCritical().noquote() << "invalid port:" << parser.value(portOption);
        return 2;
    }

    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    options.port = int(port);
    // Case 9.1.6 sends a 16 MiB message; leave room above it.
    options.maxPayload = 64 * 1024 * 1024;
    options.perMessageDeflate = WsDeflateOptions();
    WsServer server(options);
    if (server.error()) {
        qCritical().noquote() << server.error().message();
        return 1;
    }

    QObject::connect(&server, &WsServer::listening, &server, [&server] {
        qInfo("Autobahn echo server listening on ws://127.0.0.1:%d", int(server.address().port));
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
