// A chat page and its WebSocket on one port: GET / serves the page through
// QHttpServer, and ws://host:port/ws is a WsServer in noServer mode. Each
// message is sent to every connected client.
//
// Usage: shared-http-port [port]   (default 8080)

#include "sharedportserver.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    const QStringList arguments = QCoreApplication::arguments();
    bool ok = true;
    const uint port = arguments.size() > 1 ? arguments.at(1).toUInt(&ok) : 8080;
    if (!ok || port > 65535 || arguments.size() > 2) {
        qCritical("Usage: shared-http-port [port]");
        return 2;
    }

    SharedPortServer server;
    if (!server.listen(QHostAddress::LocalHost, quint16(port))) {
        qCritical().noquote() << "Cannot listen:" << server.errorString();
        return 1;
    }
    qInfo("Open http://127.0.0.1:%d/ (WebSocket: ws://127.0.0.1:%d%s)", int(server.serverPort()),
          int(server.serverPort()), qPrintable(SharedPortServer::webSocketPath()));
    return app.exec();
}
