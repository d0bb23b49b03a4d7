// The far end of tst_netfaults, run inside the test's network namespace
// (ip netns exec): a process of its own, since a process's sockets live in
// the namespace it runs in. It prints one line per event the test waits for.
//
//   echo-server ADDRESS        listens on ADDRESS, a free port: "listening PORT";
//                              sends every message back
//   flood URL COUNT SIZE       sends COUNT messages of SIZE bytes at once and checks the
//                              echoes: "echoed COUNT BYTES", or "mismatch SEQ"
//   client URL [SIZE]          "open", then sends one message of SIZE bytes when given; at
//                              the end "received COUNT BYTES SHA-256" and "closed CODE"
//   stop-before-request ADDRESS PORT
//                              connects over TCP: "connected", then stops itself (SIGSTOP)
//                              before it sends a byte; once continued it reads until the
//                              connection ends: "response FIRST-LINE" when something came,
//                              then "ended"
//
// The WebSocket modes also print "error CODE-NAME" for every error.

#include "netfaultpayload.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qcryptographichash.h>
#include <QtNetwork/qtcpsocket.h>

#include <csignal>
#include <cstdio>

#include <sys/prctl.h>

namespace {

void report(const QByteArray &line)
{
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void reportErrors(WsSocket *socket)
{
    QObject::connect(socket, &WsSocket::errorOccurred, socket,
                     [](const WsError &error) { report("error " + error.codeName().toUtf8()); });
}

int echoServer(const QStringList &arguments)
{
    WsServerOptions options;
    options.host = QHostAddress(arguments.value(0));
    options.port = 0;
    WsServer server(options);
    if (!server.isListening()) {
        report("error " + server.error().message().toUtf8());
        return 1;
    }
    QObject::connect(&server, &WsServer::newConnection, &server, [](WsSocket *socket) {
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [socket](const QByteArray &message, bool isBinary) {
                             WsSendOptions options;
                             options.binary = isBinary;
                             socket->send(message, options);
                         });
    });
    report("listening " + QByteArray::number(server.address().port));
    return QCoreApplication::exec();
}

int flood(const QStringList &arguments)
{
    const int count = arguments.value(1).toInt();
    const qsizetype size = arguments.value(2).toLongLong();
    WsClientOptions options;
    // A peer that reads whatever comes, however much it has queued itself:
    // only the test's server decides how fast it may send.
    options.pauseReadingWhenBackpressured = false;
    WsSocket socket;
    reportErrors(&socket);
    int echoed = 0;
    QObject::connect(&socket, &WsSocket::opened, &socket, [&] {
        for (int seq = 0; seq < count; ++seq)
            socket.sendBinary(netfaultPayload(quint32(seq), size));
    });
    QObject::connect(&socket, &WsSocket::messageReceived, &socket, [&](const QByteArray &message) {
        if (message != netfaultPayload(quint32(echoed), size)) {
            report("mismatch " + QByteArray::number(echoed));
            socket.terminate();
            return;
        }
        if (++echoed == count) {
            report("echoed " + QByteArray::number(count) + ' ' + QByteArray::number(qint64(count) * size));
            socket.close(1000);
        }
    });
    QObject::connect(&socket, &WsSocket::closed, &socket, [](int code) {
        report("closed " + QByteArray::number(code));
        QCoreApplication::exit(0);
    });
    if (socket.open(QUrl(arguments.value(0)), {}, options).isError())
        return 1;
    return QCoreApplication::exec();
}

int client(const QStringList &arguments)
{
    const qsizetype size = arguments.value(1).toLongLong();
    WsSocket socket;
    reportErrors(&socket);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    qint64 count = 0;
    qint64 bytes = 0;
    QObject::connect(&socket, &WsSocket::opened, &socket, [&] {
        report("open");
        if (size > 0)
            socket.sendBinary(netfaultPayload(0, size));
    });
    QObject::connect(&socket, &WsSocket::messageReceived, &socket, [&](const QByteArray &message) {
        hash.addData(message);
        ++count;
        bytes += message.size();
    });
    QObject::connect(&socket, &WsSocket::closed, &socket, [&](int code) {
        report("received " + QByteArray::number(count) + ' ' + QByteArray::number(bytes) + ' '
               + hash.result().toHex());
        report("closed " + QByteArray::number(code));
        QCoreApplication::exit(0);
    });
    if (socket.open(QUrl(arguments.value(0))).isError())
        return 1;
    return QCoreApplication::exec();
}

int stopBeforeRequest(const QStringList &arguments)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(arguments.value(0)), quint16(arguments.value(1).toUInt()));
    if (!socket.waitForConnected(10000)) {
        report("error " + socket.errorString().toUtf8());
        return 1;
    }
    report("connected");
    std::raise(SIGSTOP);
    QByteArray received;
    while (socket.waitForReadyRead(10000))
        received += socket.readAll();
    received += socket.readAll();
    if (!received.isEmpty())
        report("response " + received.left(received.indexOf("\r\n")));
    report(socket.state() == QAbstractSocket::UnconnectedState ? "ended" : "still connected");
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    // Gone with the test, even when it is killed, so that no peer outlives it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    QCoreApplication app(argc, argv);
    QStringList arguments = app.arguments().mid(1);
    const QString mode = arguments.isEmpty() ? QString() : arguments.takeFirst();
    if (mode == QLatin1String("echo-server"))
        return echoServer(arguments);
    if (mode == QLatin1String("flood"))
        return flood(arguments);
    if (mode == QLatin1String("client"))
        return client(arguments);
    if (mode == QLatin1String("stop-before-request"))
        return stopBeforeRequest(arguments);
    std::fprintf(stderr, "usage: %s echo-server|flood|client|stop-before-request ARGUMENTS\n", argv[0]);
    return 2;
}
