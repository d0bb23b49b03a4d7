// WsServer over real loopback sockets: its options, signals and methods as
// ws's WebSocketServer has them, checked on the bytes a client receives.

#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qpointer.h>
#include <QtCore/qrandom.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using namespace serverpeers;

Q_DECLARE_METATYPE(WsHttpHeaders)

namespace {

using Headers = WsHttpHeaders;

const QString kModeError =
        QStringLiteral("One and only one of the \"port\", \"server\", or \"noServer\" options must be specified");

QByteArray randomBytes(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator generator(size);
    for (char &byte : bytes)
        byte = char(generator.bounded(256));
    return bytes;
}

// Sends `request` on a new connection and returns what the server answered
// until it closed the connection.
QByteArray answerTo(quint16 port, const QByteArray &request)
{
    RawClient client;
    if (!client.connectTo(port))
        return "(no connection)";
    client.write(request);
    return client.readUntilClosed();
}

// Parses a request head the way an application's own HTTP code would, for
// the noServer tests (no validation: the server does that).
WsHttpRequest parseRequestHead(const QByteArray &head)
{
    WsHttpRequest request;
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> start = lines.first().trimmed().split(' ');
    request.method = start.value(0);
    request.target = start.value(1);
    request.version = start.value(2);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            request.headers.append(lines[i].left(colon), lines[i].mid(colon + 1).trimmed());
    }
    return request;
}

// An application's HTTP front end for noServer mode: it reads each request
// head itself and passes the connection to WsServer::handleUpgrade().
class FrontEnd
{
public:
    using Callback = std::function<void(WsSocket *, const WsHttpRequest &)>;

    FrontEnd(WsServer *server, Callback callback) : m_server(server), m_callback(std::move(callback))
    {
        m_tcp.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&m_tcp, &QTcpServer::newConnection, &m_tcp, [this] {
            while (QTcpSocket *socket = m_tcp.nextPendingConnection())
                QObject::connect(socket, &QIODevice::readyRead, socket, [this, socket] { read(socket); });
        });
    }

    quint16 port() const { return m_tcp.serverPort(); }
    // Waits for this many bytes before splitting head and body, so that
    // what a client sent after the head in the same write is in `head`.
    void setMinimumBytes(qsizetype bytes) { m_minimumBytes = bytes; }
    QByteArray lastHead() const { return m_lastHead; }

private:
    void read(QTcpSocket *socket)
    {
        const QByteArray available = socket->peek(socket->bytesAvailable());
        const qsizetype end = available.indexOf("\r\n\r\n");
        if (end < 0 || available.size() < m_minimumBytes)
            return;
        socket->disconnect(&m_tcp);
        socket->disconnect(socket);
        const QByteArray all = socket->readAll();
        m_lastHead = all.mid(end + 4);
        m_server->handleUpgrade(parseRequestHead(all.left(end)), socket, m_lastHead, m_callback);
    }

    QTcpServer m_tcp;
    WsServer *m_server;
    Callback m_callback;
    qsizetype m_minimumBytes = 0;
    QByteArray m_lastHead;
};

// The connection the server made for a client.
WsSocket *acceptedSocket(QSignalSpy &newConnections)
{
    if (!waitFor([&] { return !newConnections.isEmpty(); }, kWaitMs))
        return nullptr;
    return newConnections.last().at(0).value<WsSocket *>();
}

class TaggedSocket : public WsSocket
{
public:
    using WsSocket::WsSocket;
};

// Takes only requests that carry "X-Allow: yes".
class PickyServer : public WsServer
{
public:
    using WsServer::WsServer;

    bool shouldHandle(const WsHttpRequest &request) const override
    {
        return request.headers.value("X-Allow") == "yes";
    }
};

} // namespace

class tst_WsServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    // Options
    void modes_data();
    void modes();
    void portZeroPicksAFreePort();
    void portInUse();
    void host_data();
    void host();
    void backlog();
    void leanTransportOption_data();
    void leanTransportOption();
    void path_data();
    void path();
    void clientTracking_data();
    void clientTracking();
    void maxPayload();
    void skipUtf8Validation_data();
    void skipUtf8Validation();
    void handleProtocols_data();
    void handleProtocols();
    void protocolSeenByBothSides();
    void verifyClientInfo_data();
    void verifyClientInfo();
    void verifyClientRefuses();
    void verifyClientAsync_data();
    void verifyClientAsync();
    void verifyClientAsyncAfterClose();
    void webSocketFactory();
    void handshakeTimeout();

    // Signals
    void newConnection();
    void headersPrepared();
    void plainRequestGets426_data();
    void plainRequestGets426();
    void handshakeAnswers_data();
    void handshakeAnswers();
    void handleClientError_data();
    void handleClientError();

    // Methods
    void closeInternalServer();
    void closeCallbackWithContext();
    void closeWhenNotRunning();
    void externalServer();
    void externalServerCloseWithoutTracking();
    void noServerHandleUpgrade();
    void noServerHeadCarriesFirstFrame();
    void noServerAfterClose();
    void shouldHandleOverride_data();
    void shouldHandleOverride();

    // Server-side sockets
    void echo_data();
    void echo();
    void serverInitiatedClose();
    void serverPauseResume();
    void perMessageDeflate_data();
    void perMessageDeflate();
    void serverSocketDeletedAfterClose();
    void applicationDeletesServerSocket();
    void framesInTheRequestPacket();
    void serverDestroyedWithOpenConnections();
};

void tst_WsServer::initTestCase()
{
    qRegisterMetaType<WsSocket *>();
    qRegisterMetaType<WsError>();
    qRegisterMetaType<WsHttpRequest>();
    qRegisterMetaType<WsHttpResponse>();
}

// ---- Options ----------------------------------------------------------------

void tst_WsServer::modes_data()
{
    QTest::addColumn<bool>("port");
    QTest::addColumn<bool>("server");
    QTest::addColumn<bool>("noServer");
    QTest::addColumn<bool>("valid");

    QTest::newRow("none") << false << false << false << false;
    QTest::newRow("port") << true << false << false << true;
    QTest::newRow("server") << false << true << false << true;
    QTest::newRow("noServer") << false << false << true << true;
    QTest::newRow("port and server") << true << true << false << false;
    QTest::newRow("port and noServer") << true << false << true << false;
    QTest::newRow("server and noServer") << false << true << true << false;
    QTest::newRow("all three") << true << true << true << false;
}

void tst_WsServer::modes()
{
    QFETCH(bool, port);
    QFETCH(bool, server);
    QFETCH(bool, noServer);
    QFETCH(bool, valid);

    QTcpServer tcp;
    QVERIFY(tcp.listen(QHostAddress::LocalHost, 0));
    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    if (port)
        options.port = 0;
    if (server)
        options.server = &tcp;
    options.noServer = noServer;

    if (!valid)
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("One and only one")));
    WsServer wss(options);
    QSignalSpy errors(&wss, &WsServer::errorOccurred);
    QSignalSpy listening(&wss, &WsServer::listening);
    if (valid) {
        QCOMPARE(wss.error().code(), WsError::NoError);
        QCOMPARE(wss.isListening(), !noServer);
        return;
    }
    QCOMPARE(wss.error().code(), WsError::InvalidArgument);
    QCOMPARE(wss.error().message(), kModeError);
    QVERIFY(!wss.isListening());
    QVERIFY(errors.wait(kWaitMs));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().at(0).value<WsError>(), wss.error());
    QVERIFY(listening.isEmpty());
    if (!noServer)
        QVERIFY(wss.address().isNull());
}

void tst_WsServer::portZeroPicksAFreePort()
{
    WsServer server(localOptions());
    QSignalSpy listening(&server, &WsServer::listening);
    QSignalSpy listeningChanged(&server, &WsServer::listeningChanged);
    QVERIFY(server.isListening());
    QVERIFY(listening.wait(kWaitMs));
    QCOMPARE(listeningChanged.size(), 1);
    QCOMPARE(listeningChanged.first().at(0).toBool(), true);

    const WsServerAddress address = server.address();
    QVERIFY(address.port != 0);
    QCOMPARE(address.address, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(address.family, QStringLiteral("IPv4"));
    QVERIFY(address.path.isEmpty());

    RawClient client;
    QVERIFY(client.connectAndUpgrade(address.port));
}

void tst_WsServer::portInUse()
{
    WsServer first(localOptions());
    QVERIFY(first.isListening());

    WsServerOptions options = localOptions();
    options.port = first.address().port;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("listen on .* failed")));
    WsServer second(options);
    QSignalSpy errors(&second, &WsServer::errorOccurred);
    QSignalSpy listening(&second, &WsServer::listening);
    QVERIFY(!second.isListening());
    QCOMPARE(second.error().code(), WsError::ServerError);
    QVERIFY(errors.wait(kWaitMs));
    QCOMPARE(errors.first().at(0).value<WsError>().code(), WsError::ServerError);
    QVERIFY(listening.isEmpty());
    QVERIFY(second.address().isNull());
    QVERIFY(first.isListening());
}

void tst_WsServer::host_data()
{
    QTest::addColumn<QHostAddress>("host");
    QTest::addColumn<QString>("family");

    QTest::newRow("IPv4 loopback") << QHostAddress(QHostAddress::LocalHost) << QStringLiteral("IPv4");
    QTest::newRow("IPv6 loopback") << QHostAddress(QHostAddress::LocalHostIPv6) << QStringLiteral("IPv6");
}

void tst_WsServer::host()
{
    QFETCH(QHostAddress, host);
    QFETCH(QString, family);

    QTcpServer probe;
    if (!probe.listen(host, 0))
        QSKIP("This machine cannot listen on that address");
    probe.close();

    WsServerOptions options;
    options.port = 0;
    options.host = host;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QVERIFY(server->isListening());
    QCOMPARE(server->address().address, host);
    QCOMPARE(server->address().family, family);

    WsSocket client;
    const QString url = host.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("ws://[::1]:%1/")
                                                                          : QStringLiteral("ws://127.0.0.1:%1/");
    QVERIFY(!client.open(QUrl(url.arg(server->address().port))).isError());
    QSignalSpy opened(&client, &WsSocket::opened);
    QVERIFY(opened.wait(kWaitMs));
    QCOMPARE(client.peerAddress(), host);
}

void tst_WsServer::backlog()
{
    WsServerOptions options;
    options.backlog = 2;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QVERIFY(server->isListening());
    // More clients than the backlog, one after the other: all served.
    for (int i = 0; i < 4; ++i)
        QVERIFY(echoes(server->address().port));
}

void tst_WsServer::leanTransportOption_data()
{
    QTest::addColumn<bool>("serverLean");
    QTest::addColumn<bool>("clientLean");

    QTest::newRow("both lean") << true << true;
    QTest::newRow("server over QTcpSocket") << false << true;
    QTest::newRow("client over QTcpSocket") << true << false;
    QTest::newRow("both over QTcpSocket") << false << false;
}

// The option picks the transport of each end; WSQT_NO_LEAN_TRANSPORT (the
// *_qtcpsocket runs) keeps QTcpSocket whatever it says. A connection on
// QTcpSocket holds one; a lean one holds none.
void tst_WsServer::leanTransportOption()
{
    QFETCH(bool, serverLean);
    QFETCH(bool, clientLean);
    const bool leanAllowed = qEnvironmentVariableIsEmpty("WSQT_NO_LEAN_TRANSPORT");

    WsServerOptions options;
    options.leanTransport = serverLean;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    WsClientOptions clientOptions;
    clientOptions.leanTransport = clientLean;
    const std::unique_ptr<WsSocket> client = openClient(server->address().port, QStringLiteral("/"), {},
                                                        clientOptions);
    QVERIFY(client);
    WsSocket *accepted = acceptedSocket(connections);
    QVERIFY(accepted);

    QCOMPARE(accepted->findChild<QTcpSocket *>() == nullptr, serverLean && leanAllowed);
    QCOMPARE(client->findChild<QTcpSocket *>() == nullptr, clientLean && leanAllowed);
    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    QCOMPARE(client->send("over either"), WsError());
    QVERIFY(messages.wait(kWaitMs));
    QCOMPARE(messages.first().first().toByteArray(), QByteArray("over either"));
}

void tst_WsServer::path_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<bool>("handled");

    QTest::newRow("the path") << QByteArray("/chat") << true;
    QTest::newRow("the path with a query") << QByteArray("/chat?room=1&x=/other") << true;
    QTest::newRow("the path with an empty query") << QByteArray("/chat?") << true;
    QTest::newRow("a trailing slash") << QByteArray("/chat/") << false;
    QTest::newRow("another path") << QByteArray("/other") << false;
    QTest::newRow("the root") << QByteArray("/") << false;
    QTest::newRow("another case") << QByteArray("/Chat") << false;
    QTest::newRow("percent-encoded") << QByteArray("/ch%61t") << false;
}

void tst_WsServer::path()
{
    QFETCH(QByteArray, target);
    QFETCH(bool, handled);

    WsServerOptions options;
    options.path = QStringLiteral("/chat");
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);

    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    if (handled) {
        QVERIFY(client.upgrade(target));
        QVERIFY(acceptedSocket(connections));
        QCOMPARE(connections.first().at(1).value<WsHttpRequest>().target, target);
    } else {
        client.write(upgradeRequest(target));
        QCOMPARE(client.readUntilClosed(), kBadRequest);
        QVERIFY(connections.isEmpty());
    }
}

void tst_WsServer::clientTracking_data()
{
    QTest::addColumn<bool>("tracking");
    QTest::newRow("on") << true;
    QTest::newRow("off") << false;
}

void tst_WsServer::clientTracking()
{
    QFETCH(bool, tracking);

    WsServerOptions options;
    options.clientTracking = tracking;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    QVERIFY(server->clients().isEmpty());

    const quint16 port = server->address().port;
    std::unique_ptr<WsSocket> first = openClient(port);
    const std::unique_ptr<WsSocket> second = openClient(port);
    QVERIFY(first && second);
    QTRY_COMPARE(connections.size(), 2);
    auto *firstServerSide = connections.at(0).at(0).value<WsSocket *>();
    auto *secondServerSide = connections.at(1).at(0).value<WsSocket *>();

    if (!tracking) {
        QVERIFY(server->clients().isEmpty());
        return;
    }
    QCOMPARE(server->clients().size(), 2);
    QVERIFY(server->clients().contains(firstServerSide));
    QVERIFY(server->clients().contains(secondServerSide));

    first->close(1000);
    QTRY_COMPARE(server->clients().size(), 1);
    QCOMPARE(server->clients().first(), secondServerSide);
}

void tst_WsServer::maxPayload()
{
    WsServerOptions options;
    options.maxPayload = 100;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QSignalSpy serverErrors(serverSide, &WsSocket::errorOccurred);
    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    QSignalSpy closed(client.get(), &WsSocket::closed);

    // At the limit: delivered.
    client->sendBinary(QByteArray(100, 'a'));
    QVERIFY(messages.wait(kWaitMs));
    QCOMPARE(messages.first().at(0).toByteArray(), QByteArray(100, 'a'));

    // One byte over, in two fragments: refused from the second frame's length.
    WsSendOptions fragment;
    fragment.fin = false;
    client->send(QByteArray(60, 'b'), fragment);
    client->send(QByteArray(41, 'b'));
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(closed.first().at(0).toInt(), 1009);
    QCOMPARE(serverErrors.size(), 1);
    const auto error = serverErrors.first().at(0).value<WsError>();
    QCOMPARE(error.code(), WsError::UnsupportedMessageLength);
    QCOMPARE(error.codeName(), QStringLiteral("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"));
    QCOMPARE(error.closeCode(), 1009);
    QCOMPARE(error.message(), QStringLiteral("Max payload size exceeded"));
    QCOMPARE(messages.size(), 1);
}

void tst_WsServer::skipUtf8Validation_data()
{
    QTest::addColumn<bool>("skip");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("answer");

    const QByteArray invalid = QByteArray::fromHex("68c0af69");      // an overlong '/'
    const QByteArray surrogate = QByteArray::fromHex("eda080");
    QTest::newRow("validated") << false << invalid << QByteArray::fromHex("880203ef");
    QTest::newRow("validated, surrogate") << false << surrogate << QByteArray::fromHex("880203ef");
    QTest::newRow("skipped") << true << invalid << frame(0x81, invalid, false);
    QTest::newRow("skipped, surrogate") << true << surrogate << frame(0x81, surrogate, false);
}

void tst_WsServer::skipUtf8Validation()
{
    QFETCH(bool, skip);
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, answer);

    WsServerOptions options;
    options.skipUTF8Validation = skip;
    const std::unique_ptr<WsServer> server = echoServer(options);
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    client.sendFrame(0x81, payload);
    Frame reply;
    QVERIFY(client.readFrame(&reply));
    QCOMPARE(reply.raw, answer);
}

void tst_WsServer::handleProtocols_data()
{
    QTest::addColumn<Headers>("offer");
    QTest::addColumn<bool>("withHandler");
    QTest::addColumn<QString>("choice");            // what the handler returns
    QTest::addColumn<QStringList>("handlerGets");
    QTest::addColumn<QByteArray>("answered");       // null: no header in the 101

    const QStringList both = {QStringLiteral("chat"), QStringLiteral("superchat")};
    const Headers offer{{"Sec-WebSocket-Protocol", "chat, superchat"}};
    QTest::newRow("first by default") << offer << false << QString() << QStringList() << QByteArray("chat");
    QTest::newRow("handler picks the second") << offer << true << QStringLiteral("superchat") << both
                                              << QByteArray("superchat");
    QTest::newRow("handler result not offered is sent") << offer << true << QStringLiteral("zzz") << both
                                                        << QByteArray("zzz");
    QTest::newRow("empty result sends none") << offer << true << QString() << both << QByteArray();
    QTest::newRow("no offer: handler not called") << Headers() << true << QStringLiteral("chat") << QStringList()
                                                  << QByteArray();
    QTest::newRow("spaces around commas") << Headers{{"Sec-WebSocket-Protocol", "a ,\tb"}} << true
                                          << QStringLiteral("b")
                                          << QStringList{QStringLiteral("a"), QStringLiteral("b")}
                                          << QByteArray("b");
    // Repeated fields form one list, as Node joins them.
    QTest::newRow("two header lines") << Headers{{"Sec-WebSocket-Protocol", "one"}, {"Sec-WebSocket-Protocol", "two"}}
                                      << true << QStringLiteral("two")
                                      << QStringList{QStringLiteral("one"), QStringLiteral("two")}
                                      << QByteArray("two");
}

void tst_WsServer::handleProtocols()
{
    QFETCH(Headers, offer);
    QFETCH(bool, withHandler);
    QFETCH(QString, choice);
    QFETCH(QStringList, handlerGets);
    QFETCH(QByteArray, answered);

    int calls = 0;
    QStringList offered;
    QByteArray requestTarget;
    WsServerOptions options;
    if (withHandler) {
        options.handleProtocols = [&](const QStringList &protocols, const WsHttpRequest &request) {
            ++calls;
            offered = protocols;
            requestTarget = request.target;
            return choice;
        };
    }
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);

    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    client.write(upgradeRequest("/p", offer));
    HttpHead head;
    QVERIFY(client.readResponseHead(&head));
    QCOMPARE(head.status, 101);
    QCOMPARE(head.headers.value("Sec-WebSocket-Protocol"), answered);
    QCOMPARE(head.headers.values("Sec-WebSocket-Protocol").size(), answered.isNull() ? 0 : 1);
    QCOMPARE(calls, handlerGets.isEmpty() ? 0 : 1);
    QCOMPARE(offered, handlerGets);
    if (calls)
        QCOMPARE(requestTarget, QByteArray("/p"));

    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QCOMPARE(serverSide->protocol(), QString::fromLatin1(answered));
}

void tst_WsServer::protocolSeenByBothSides()
{
    WsServerOptions options;
    options.handleProtocols = [](const QStringList &protocols, const WsHttpRequest &) { return protocols.last(); };
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);

    const std::unique_ptr<WsSocket> client =
            openClient(server->address().port, QStringLiteral("/"), {QStringLiteral("a"), QStringLiteral("b")});
    QVERIFY(client);
    QCOMPARE(client->protocol(), QStringLiteral("b"));
    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QCOMPARE(serverSide->protocol(), QStringLiteral("b"));
}

void tst_WsServer::verifyClientInfo_data()
{
    QTest::addColumn<Headers>("changes");
    QTest::addColumn<QString>("origin");

    QTest::newRow("Origin") << Headers{{"Origin", "https://example.com"}, {"X-Token", "t1"}}
                            << QStringLiteral("https://example.com");
    QTest::newRow("no Origin") << Headers{{"X-Token", "t1"}} << QString();
    QTest::newRow("version 8: Sec-WebSocket-Origin")
            << Headers{{"Sec-WebSocket-Version", "8"}, {"Sec-WebSocket-Origin", "http://old.example"},
                       {"Origin", "http://new.example"}, {"X-Token", "t1"}}
            << QStringLiteral("http://old.example");
    QTest::newRow("version 13 ignores Sec-WebSocket-Origin")
            << Headers{{"Sec-WebSocket-Origin", "http://old.example"}, {"X-Token", "t1"}} << QString();
}

void tst_WsServer::verifyClientInfo()
{
    QFETCH(Headers, changes);
    QFETCH(QString, origin);

    QList<WsVerifyClientInfo> seen;
    WsServerOptions options;
    options.verifyClient = [&](const WsVerifyClientInfo &info) {
        seen.append(info);
        return true;
    };
    const std::unique_ptr<WsServer> server = echoServer(options);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    QVERIFY(client.upgrade("/v?q=1", changes));

    QCOMPARE(seen.size(), 1);
    const WsVerifyClientInfo &info = seen.first();
    QCOMPARE(info.origin, origin);
    QCOMPARE(info.secure, false);
    QCOMPARE(info.request.method, QByteArray("GET"));
    QCOMPARE(info.request.target, QByteArray("/v?q=1"));
    QCOMPARE(info.request.headers.value("x-token"), QByteArray("t1"));
    QCOMPARE(info.peerAddress, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(info.peerPort, client.socket()->localPort());
}

void tst_WsServer::verifyClientRefuses()
{
    int calls = 0;
    WsServerOptions options;
    options.verifyClient = [&](const WsVerifyClientInfo &) {
        ++calls;
        return false;
    };
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    QCOMPARE(answerTo(server->address().port, upgradeRequest()), kUnauthorized);
    QCOMPARE(calls, 1);

    // A request refused before verification does not reach it.
    QCOMPARE(answerTo(server->address().port, upgradeRequest("/", {{"Sec-WebSocket-Key", "short"}})), kInvalidKey);
    QCOMPARE(calls, 1);
    QVERIFY(connections.isEmpty());
}

void tst_WsServer::verifyClientAsync_data()
{
    QTest::addColumn<bool>("accept");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<Headers>("headers");
    QTest::addColumn<QByteArray>("answer");

    QTest::newRow("accepted later") << true << 0 << QString() << Headers() << QByteArray();
    QTest::newRow("refused, defaults") << false << 401 << QString() << Headers() << kUnauthorized;
    QTest::newRow("refused, code 0 means 401") << false << 0 << QString() << Headers() << kUnauthorized;
    QTest::newRow("refused 403 Nope")
            << false << 403 << QStringLiteral("Nope") << Headers{{"X-A", "1"}}
            << QByteArray("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/html\r\n"
                          "Content-Length: 4\r\nX-A: 1\r\n\r\nNope");
    QTest::newRow("refused, a header replaced in place")
            << false << 403 << QStringLiteral("Nope") << Headers{{"X-A", "1"}, {"Content-Type", "text/plain"}}
            << QByteArray("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                          "Content-Length: 4\r\nX-A: 1\r\n\r\nNope");
    QTest::newRow("refused 429 with Retry-After")
            << false << 429 << QString() << Headers{{"Retry-After", "120"}}
            << QByteArray("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/html\r\n"
                          "Content-Length: 17\r\nRetry-After: 120\r\n\r\nToo Many Requests");
    QTest::newRow("refused, UTF-8 message")
            << false << 400 << QStringLiteral("caf\u00e9") << Headers()
            << QByteArray("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\n"
                          "Content-Length: 5\r\n\r\ncaf\xc3\xa9");
}

void tst_WsServer::verifyClientAsync()
{
    QFETCH(bool, accept);
    QFETCH(int, code);
    QFETCH(QString, message);
    QFETCH(Headers, headers);
    QFETCH(QByteArray, answer);

    int syncCalls = 0;
    QList<WsVerifyClientInfo> seen;
    WsServerOptions options;
    options.verifyClient = [&](const WsVerifyClientInfo &) {
        ++syncCalls;
        return false;
    };
    options.verifyClientAsync = [&](const WsVerifyClientInfo &info,
                                    std::function<void(const WsVerifyClientResult &)> done) {
        seen.append(info);
        QTimer::singleShot(30, [=] {
            WsVerifyClientResult result;
            result.accept = accept;
            result.code = code;
            result.message = message;
            result.headers = headers;
            done(result);
        });
    };
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);

    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    client.write(upgradeRequest("/", {{"Origin", "http://o.example"}}));
    QTRY_COMPARE(seen.size(), 1);
    QCOMPARE(seen.first().origin, QStringLiteral("http://o.example"));
    QVERIFY(client.received().isEmpty());

    if (accept) {
        HttpHead head;
        QVERIFY(client.readResponseHead(&head));
        QCOMPARE(head.status, 101);
        QVERIFY(acceptedSocket(connections));
        client.sendFrame(0x81, "hi");
        Frame reply;
        QVERIFY(client.readFrame(&reply));
        QCOMPARE(reply.raw, QByteArray("\x81\x02hi"));
    } else {
        QCOMPARE(client.readUntilClosed(), answer);
        QVERIFY(connections.isEmpty());
    }
    QCOMPARE(syncCalls, 0);
}

void tst_WsServer::verifyClientAsyncAfterClose()
{
    std::function<void(const WsVerifyClientResult &)> pending;
    WsServerOptions options;
    options.verifyClientAsync = [&](const WsVerifyClientInfo &,
                                    std::function<void(const WsVerifyClientResult &)> done) {
        pending = std::move(done);
    };
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    client.write(upgradeRequest());
    QTRY_VERIFY(bool(pending));

    // Accepted after close(): ws answers 503.
    server->close();
    pending(WsVerifyClientResult());
    QCOMPARE(client.readUntilClosed(), kServiceUnavailable);
    QVERIFY(connections.isEmpty());
}

void tst_WsServer::webSocketFactory()
{
    int made = 0;
    WsServerOptions options;
    options.webSocketFactory = [&]() -> WsSocket * {
        ++made;
        return new TaggedSocket;
    };
    const std::unique_ptr<WsServer> server = echoServer(options);
    QList<bool> tagged;
    connect(server.get(), &WsServer::newConnection, this,
            [&](WsSocket *socket) { tagged.append(dynamic_cast<TaggedSocket *>(socket) != nullptr); });
    QVERIFY(echoes(server->address().port));
    QCOMPARE(made, 1);
    QCOMPARE(tagged, QList<bool>{true});

    // Not used for a refused handshake.
    QCOMPARE(answerTo(server->address().port, upgradeRequest("/", {{"Sec-WebSocket-Key", QByteArray()}})),
             kInvalidKey);
    QCOMPARE(made, 1);
}

void tst_WsServer::handshakeTimeout()
{
    WsServerOptions options;
    options.handshakeTimeout = 300;
    const std::unique_ptr<WsServer> server = echoServer(options);
    const quint16 port = server->address().port;

    RawClient stalled;
    QVERIFY(stalled.connectTo(port));
    stalled.write(upgradeRequest().left(30));
    QElapsedTimer timer;
    timer.start();

    // A client that completes its handshake in time is not touched by the timer.
    RawClient upgraded;
    QVERIFY(upgraded.connectAndUpgrade(port));

    QCOMPARE(stalled.readUntilClosed(), kTimeout);
    QVERIFY2(timer.elapsed() >= 250, QByteArray::number(timer.elapsed()));

    upgraded.sendFrame(0x82, "after");
    Frame reply;
    QVERIFY(upgraded.readFrame(&reply));
    QCOMPARE(reply.payload, QByteArray("after"));
    QVERIFY(!upgraded.isClosed());
}

// ---- Signals ----------------------------------------------------------------

void tst_WsServer::newConnection()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    WsClientOptions clientOptions;
    clientOptions.headers = {{"X-Custom", "v"}};
    const std::unique_ptr<WsSocket> client =
            openClient(server->address().port, QStringLiteral("/chat?room=1"), {}, clientOptions);
    QVERIFY(client);

    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QCOMPARE(connections.size(), 1);
    const auto request = connections.first().at(1).value<WsHttpRequest>();
    QCOMPARE(request.method, QByteArray("GET"));
    QCOMPARE(request.target, QByteArray("/chat?room=1"));
    QCOMPARE(request.path(), QByteArray("/chat"));
    QCOMPARE(request.headers.value("X-Custom"), QByteArray("v"));
    QCOMPARE(request.headers.value("upgrade").toLower(), QByteArray("websocket"));
    QVERIFY(serverSide->isServerSide());
    QCOMPARE(serverSide->readyState(), WsSocket::Open);
    QCOMPARE(serverSide->parent(), server.get());
    QCOMPARE(serverSide->peerPort(), client->localPort());
    QCOMPARE(serverSide->localPort(), server->address().port);
    QVERIFY(serverSide->url().isEmpty());
}

void tst_WsServer::headersPrepared()
{
    QList<QByteArray> seenLines;
    QByteArray seenTarget;
    WsServerOptions options;
    options.prepareHeaders = [&](QList<QByteArray> &lines, const WsHttpRequest &request) {
        seenLines = lines;
        seenTarget = request.target;
        lines.append("X-Extra: 1");
    };
    const std::unique_ptr<WsServer> server = echoServer(options);
    // A notification: queued, it still sees the lines as written.
    QList<QByteArray> reportedLines;
    connect(server.get(), &WsServer::headersPrepared, this,
            [&](const QList<QByteArray> &lines) { reportedLines = lines; }, Qt::QueuedConnection);

    WsSocket client;
    QSignalSpy upgraded(&client, &WsSocket::upgraded);
    QSignalSpy opened(&client, &WsSocket::opened);
    QVERIFY(!client.open(localUrl(server->address().port, QStringLiteral("/h"))).isError());
    QVERIFY(opened.wait(kWaitMs));
    QCOMPARE(upgraded.size(), 1);
    const auto response = upgraded.first().at(0).value<WsHttpResponse>();
    QCOMPARE(response.statusCode, 101);
    QCOMPARE(response.headers.value("X-Extra"), QByteArray("1"));

    QCOMPARE(seenTarget, QByteArray("/h"));
    QVERIFY(seenLines.size() >= 4);
    QCOMPARE(seenLines.at(0), QByteArray("HTTP/1.1 101 Switching Protocols"));
    QVERIFY(seenLines.contains("Upgrade: websocket"));
    QVERIFY(seenLines.contains("Connection: Upgrade"));
    QTRY_COMPARE_WITH_TIMEOUT(reportedLines, seenLines + QList<QByteArray>{"X-Extra: 1"}, kWaitMs);
}

void tst_WsServer::plainRequestGets426_data()
{
    QTest::addColumn<QByteArray>("request");

    QTest::newRow("GET") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    QTest::newRow("POST with a body") << QByteArray("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    QTest::newRow("Upgrade without Connection: Upgrade")
            << upgradeRequest("/", {{"Connection", "keep-alive"}});
    QTest::newRow("Connection: Upgrade without Upgrade") << upgradeRequest("/", {{"Upgrade", QByteArray()}});
}

void tst_WsServer::plainRequestGets426()
{
    QFETCH(QByteArray, request);

    const std::unique_ptr<WsServer> server = echoServer();
    const QByteArray answer = answerTo(server->address().port, request);
    const qsizetype end = answer.indexOf("\r\n\r\n");
    QVERIFY2(end > 0, answer.constData());
    const HttpHead head = parseResponseHead(answer.left(end));
    QCOMPARE(head.statusLine, QByteArray("HTTP/1.1 426 Upgrade Required"));
    QCOMPARE(head.headers.value("Content-Type"), QByteArray("text/plain"));
    QCOMPARE(head.headers.value("Content-Length"), QByteArray("16"));
    QCOMPARE(answer.mid(end + 4), QByteArray("Upgrade Required"));
}

void tst_WsServer::handshakeAnswers_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("answer");

    QTest::newRow("101 with a protocol and permessage-deflate")
            << upgradeRequest("/ws", {{"Sec-WebSocket-Protocol", "chat, superchat"},
                                      {"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"}})
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n"
                          "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
    QTest::newRow("101, unknown extension ignored")
            << upgradeRequest("/ws", {{"Sec-WebSocket-Extensions", "foo; bar"}})
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    QTest::newRow("101, version 8") << upgradeRequest("/ws", {{"Sec-WebSocket-Version", "8"}})
                                    << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                                  "Connection: Upgrade\r\n"
                                                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    QTest::newRow("101, Upgrade in other case, Connection as a list")
            << upgradeRequest("/ws", {{"Upgrade", "WebSocket"}, {"Connection", "keep-alive, Upgrade"}})
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    QTest::newRow("POST: 405") << upgradeRequest("/ws", {}, "POST")
                               << QByteArray("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n"
                                             "Content-Type: text/html\r\nContent-Length: 19\r\n\r\n"
                                             "Invalid HTTP method");
    QTest::newRow("bad Upgrade") << upgradeRequest("/ws", {{"Upgrade", "h2c"}})
                                 << QByteArray("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                                               "Content-Type: text/html\r\nContent-Length: 22\r\n\r\n"
                                               "Invalid Upgrade header");
    QTest::newRow("missing key") << upgradeRequest("/ws", {{"Sec-WebSocket-Key", QByteArray()}}) << kInvalidKey;
    QTest::newRow("short key") << upgradeRequest("/ws", {{"Sec-WebSocket-Key", "dGhlIHNhbXBsZQ=="}})
                               << kInvalidKey;
    QTest::newRow("key not base64") << upgradeRequest("/ws", {{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j*Q=="}})
                                    << kInvalidKey;
    const QByteArray badVersion = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\n"
                                  "Content-Length: 47\r\nSec-WebSocket-Version: 13, 8\r\n\r\n"
                                  "Missing or invalid Sec-WebSocket-Version header";
    QTest::newRow("version 12") << upgradeRequest("/ws", {{"Sec-WebSocket-Version", "12"}}) << badVersion;
    QTest::newRow("missing version") << upgradeRequest("/ws", {{"Sec-WebSocket-Version", QByteArray()}})
                                     << badVersion;
    QTest::newRow("path mismatch") << upgradeRequest("/other") << kBadRequest;
    QTest::newRow("key checked before the path")
            << upgradeRequest("/other", {{"Sec-WebSocket-Key", "x"}}) << kInvalidKey;
    QTest::newRow("path checked before the protocols")
            << upgradeRequest("/other", {{"Sec-WebSocket-Protocol", "a, a"}}) << kBadRequest;
    QTest::newRow("duplicate protocol") << upgradeRequest("/ws", {{"Sec-WebSocket-Protocol", "a, a"}})
                                        << kInvalidProtocol;
    QTest::newRow("empty protocol token") << upgradeRequest("/ws", {{"Sec-WebSocket-Protocol", "a,,b"}})
                                          << kInvalidProtocol;
    QTest::newRow("protocol with a slash") << upgradeRequest("/ws", {{"Sec-WebSocket-Protocol", "a/b"}})
                                           << kInvalidProtocol;
    QTest::newRow("server_max_window_bits=7")
            << upgradeRequest("/ws", {{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=7"}})
            << kInvalidExtensions;
    QTest::newRow("unknown deflate parameter")
            << upgradeRequest("/ws", {{"Sec-WebSocket-Extensions", "permessage-deflate; foo"}}) << kInvalidExtensions;
    QTest::newRow("extension syntax error")
            << upgradeRequest("/ws", {{"Sec-WebSocket-Extensions", "permessage-deflate;"}}) << kInvalidExtensions;
}

void tst_WsServer::handshakeAnswers()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, answer);

    WsServerOptions options;
    options.path = QStringLiteral("/ws");
    options.perMessageDeflate = WsDeflateOptions();
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    client.write(request);
    if (answer.startsWith("HTTP/1.1 101")) {
        QVERIFY(client.waitForBytes(answer.size()));
        QCOMPARE(client.received(), answer);
        QVERIFY(acceptedSocket(connections));
    } else {
        QCOMPARE(client.readUntilClosed(), answer);
        QVERIFY(connections.isEmpty());
    }
}

void tst_WsServer::handleClientError_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QString>("message");           // empty: the callback is not called
    QTest::addColumn<QByteArray>("answer");

    const QByteArray own = "HTTP/1.1 400 Bad Request\r\n\r\n";
    QTest::newRow("POST") << upgradeRequest("/ws", {}, "POST") << QStringLiteral("Invalid HTTP method") << own;
    QTest::newRow("bad Upgrade") << upgradeRequest("/ws", {{"Upgrade", "foo"}})
                                 << QStringLiteral("Invalid Upgrade header") << own;
    QTest::newRow("missing key") << upgradeRequest("/ws", {{"Sec-WebSocket-Key", QByteArray()}})
                                 << QStringLiteral("Missing or invalid Sec-WebSocket-Key header") << own;
    QTest::newRow("version 12") << upgradeRequest("/ws", {{"Sec-WebSocket-Version", "12"}})
                                << QStringLiteral("Missing or invalid Sec-WebSocket-Version header") << own;
    QTest::newRow("duplicate protocol") << upgradeRequest("/ws", {{"Sec-WebSocket-Protocol", "a, a"}})
                                        << QStringLiteral("Invalid Sec-WebSocket-Protocol header") << own;
    QTest::newRow("bad extension")
            << upgradeRequest("/ws", {{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=16"}})
            << QStringLiteral("Invalid or unacceptable Sec-WebSocket-Extensions header") << own;
    // ws never reports these through wsClientError.
    QTest::newRow("path mismatch") << upgradeRequest("/other") << QString() << kBadRequest;
    QTest::newRow("verifyClient") << upgradeRequest("/ws", {{"X-Refuse", "1"}}) << QString() << kUnauthorized;
}

void tst_WsServer::handleClientError()
{
    QFETCH(QByteArray, request);
    QFETCH(QString, message);
    QFETCH(QByteArray, answer);

    WsServerOptions options;
    options.path = QStringLiteral("/ws");
    options.perMessageDeflate = WsDeflateOptions();
    options.verifyClient = [](const WsVerifyClientInfo &info) { return !info.request.headers.contains("X-Refuse"); };
    {
        // Without the callback the server answers with the message (see
        // handshakeAnswers), and a connected clientError() changes nothing.
        const std::unique_ptr<WsServer> server = echoServer(options);
        QSignalSpy reported(server.get(), &WsServer::clientError);
        if (!message.isEmpty()) {
            const QByteArray defaultAnswer = answerTo(server->address().port, request);
            QVERIFY2(defaultAnswer.endsWith(message.toUtf8()), defaultAnswer.constData());
            QVERIFY(defaultAnswer.startsWith("HTTP/1.1 4"));
            QCOMPARE(reported.size(), 1);
            QCOMPARE(reported.first().at(0).value<WsError>().message(), message);
        }
    }

    QList<WsError> errors;
    QList<WsHttpRequest> requests;
    options.handleClientError = [&](const WsError &error, QIODevice *socket, const WsHttpRequest &request) {
        errors.append(error);
        requests.append(request);
        QVERIFY(socket);
        socket->write("HTTP/1.1 400 Bad Request\r\n\r\n");
        socket->close();
    };
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy reported(server.get(), &WsServer::clientError);
    QCOMPARE(answerTo(server->address().port, request), answer);
    if (message.isEmpty()) {
        QVERIFY(errors.isEmpty());
        QVERIFY(reported.isEmpty());
        return;
    }
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().message(), message);
    QCOMPARE(errors.first().code(), WsError::HandshakeFailed);
    QCOMPARE(requests.first().method, request.left(request.indexOf(' ')));
    QCOMPARE(requests.first().target, QByteArray("/ws"));
    QCOMPARE(reported.size(), 1);
}

// ---- Methods ----------------------------------------------------------------

void tst_WsServer::closeInternalServer()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy closed(server.get(), &WsServer::closed);
    QSignalSpy listeningChanged(server.get(), &WsServer::listeningChanged);
    QVERIFY(listeningChanged.wait(kWaitMs));
    const quint16 port = server->address().port;
    const std::unique_ptr<WsSocket> client = openClient(port);
    QVERIFY(client);

    QList<WsError> results;
    server->close([&](const WsError &error) { results.append(error); });
    QVERIFY(!server->isListening());
    QVERIFY(server->address().isNull());
    QCOMPARE(listeningChanged.size(), 2);
    QCOMPARE(listeningChanged.last().at(0).toBool(), false);

    // No new connections.
    QTcpSocket refused;
    refused.connectToHost(QHostAddress::LocalHost, port);
    QTRY_COMPARE(refused.state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(refused.error(), QAbstractSocket::ConnectionRefusedError);

    // The open connection keeps working; closed() waits for it.
    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    client->sendText(QStringLiteral("still open"));
    QVERIFY(messages.wait(kWaitMs));
    QCOMPARE(messages.first().at(0).toByteArray(), QByteArray("still open"));
    QVERIFY(closed.isEmpty());
    QVERIFY(results.isEmpty());

    client->close(1000);
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(closed.size(), 1);
    QCOMPARE(results.size(), 1);
    QCOMPARE(results.first().code(), WsError::NoError);
    QVERIFY(server->clients().isEmpty());
}

void tst_WsServer::closeCallbackWithContext()
{
    // A context that lives: the callback runs at closed().
    const std::unique_ptr<WsServer> first = echoServer();
    QSignalSpy firstClosed(first.get(), &WsServer::closed);
    QObject living;
    QList<WsError> results;
    first->close(&living, [&](const WsError &error) { results.append(error); });
    QVERIFY(firstClosed.wait(kWaitMs));
    QCOMPARE(results, QList<WsError>{WsError()});

    // A context destroyed before closed(): the callback never runs.
    const std::unique_ptr<WsServer> second = echoServer();
    QSignalSpy secondClosed(second.get(), &WsServer::closed);
    auto *dying = new QObject;
    int dyingCalls = 0;
    second->close(dying, [&](const WsError &) { ++dyingCalls; });
    delete dying;
    QVERIFY(secondClosed.wait(kWaitMs));
    QCOMPARE(dyingCalls, 0);
}

void tst_WsServer::closeWhenNotRunning()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy closed(server.get(), &WsServer::closed);
    int firstCalls = 0;
    server->close([&](const WsError &error) {
        ++firstCalls;
        QVERIFY(!error.isError());
    });
    QVERIFY(closed.wait(kWaitMs));

    QList<WsError> results;
    server->close([&](const WsError &error) { results.append(error); });
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(closed.size(), 2);
    QCOMPARE(firstCalls, 1);
    QCOMPARE(results.size(), 1);
    QCOMPARE(results.first().message(), QStringLiteral("The server is not running"));

    // A server whose options were refused never ran.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("One and only one")));
    WsServer invalid{WsServerOptions()};
    QList<WsError> invalidResults;
    invalid.close([&](const WsError &error) { invalidResults.append(error); });
    QTRY_COMPARE(invalidResults.size(), 1);
    QCOMPARE(invalidResults.first().message(), QStringLiteral("The server is not running"));
}

void tst_WsServer::externalServer()
{
    QTcpServer tcp;
    QVERIFY(tcp.listen(QHostAddress::LocalHost, 0));
    WsServerOptions options;
    options.server = &tcp;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    QSignalSpy closed(server.get(), &WsServer::closed);
    QVERIFY(server->isListening());
    QCOMPARE(server->address().port, tcp.serverPort());

    QVERIFY(echoes(tcp.serverPort()));
    const std::unique_ptr<WsSocket> client = openClient(tcp.serverPort());
    QVERIFY(client);
    QTRY_COMPARE(server->clients().size(), 1);

    QList<WsError> results;
    server->close([&](const WsError &error) { results.append(error); });
    // The application's server is left alone.
    QVERIFY(tcp.isListening());
    QVERIFY(results.isEmpty());

    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    client->sendBinary("x");
    QVERIFY(messages.wait(kWaitMs));

    client->close(1000);
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(results.size(), 1);
    QVERIFY(!results.first().isError());
    QVERIFY(tcp.isListening());
}

void tst_WsServer::externalServerCloseWithoutTracking()
{
    QTcpServer tcp;
    QVERIFY(tcp.listen(QHostAddress::LocalHost, 0));
    WsServerOptions options;
    options.server = &tcp;
    options.clientTracking = false;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    QSignalSpy closed(server.get(), &WsServer::closed);
    const std::unique_ptr<WsSocket> client = openClient(tcp.serverPort());
    QVERIFY(client);
    QVERIFY(acceptedSocket(connections));

    // Without tracking, an external server's close does not wait for connections.
    server->close();
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(client->readyState(), WsSocket::Open);
    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    client->sendText(QStringLiteral("open"));
    QVERIFY(messages.wait(kWaitMs));
}

void tst_WsServer::noServerHandleUpgrade()
{
    WsServerOptions options;
    options.noServer = true;
    WsServer server(options);
    QSignalSpy newConnections(&server, &WsServer::newConnection);
    QVERIFY(!server.isListening());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("noServer")));
    QVERIFY(server.address().isNull());

    QList<WsHttpRequest> requests;
    FrontEnd front(&server, [&](WsSocket *socket, const WsHttpRequest &request) {
        requests.append(request);
        echoMessages(socket);
    });
    const std::unique_ptr<WsSocket> client = openClient(front.port(), QStringLiteral("/up?x=1"));
    QVERIFY(client);
    QCOMPARE(requests.size(), 1);
    QCOMPARE(requests.first().target, QByteArray("/up?x=1"));
    QCOMPARE(server.clients().size(), 1);
    // The callback replaces the newConnection signal.
    QVERIFY(newConnections.isEmpty());

    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    client->sendText(QStringLiteral("through the front end"));
    QVERIFY(messages.wait(kWaitMs));
    QCOMPARE(messages.first().at(0).toByteArray(), QByteArray("through the front end"));

    // A bad request gets ws's answer, and the callback is not called.
    RawClient bad;
    QVERIFY(bad.connectTo(front.port()));
    bad.write(upgradeRequest("/", {{"Sec-WebSocket-Key", QByteArray()}}));
    QCOMPARE(bad.readUntilClosed(), kInvalidKey);
    QCOMPARE(requests.size(), 1);
}

void tst_WsServer::noServerHeadCarriesFirstFrame()
{
    WsServerOptions options;
    options.noServer = true;
    WsServer server(options);
    QList<QByteArray> messages;
    FrontEnd front(&server, [&](WsSocket *socket, const WsHttpRequest &) {
        connect(socket, &WsSocket::messageReceived, this,
                [&](const QByteArray &message) { messages.append(message); });
    });

    const QByteArray request = upgradeRequest();
    const QByteArray frames = frame(0x81, "first") + frame(0x82, "second");
    front.setMinimumBytes(request.size() + frames.size());
    RawClient client;
    QVERIFY(client.connectTo(front.port()));
    client.write(request + frames);
    HttpHead head;
    QVERIFY(client.readResponseHead(&head));
    QCOMPARE(head.status, 101);
    QCOMPARE(front.lastHead(), frames);
    QTRY_COMPARE(messages.size(), 2);
    QCOMPARE(messages, (QList<QByteArray>{"first", "second"}));
}

void tst_WsServer::noServerAfterClose()
{
    WsServerOptions options;
    options.noServer = true;
    WsServer server(options);
    QSignalSpy closed(&server, &WsServer::closed);
    int calls = 0;
    FrontEnd front(&server, [&](WsSocket *, const WsHttpRequest &) { ++calls; });

    server.close();
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(answerTo(front.port(), upgradeRequest()), kServiceUnavailable);
    QCOMPARE(calls, 0);
}

void tst_WsServer::shouldHandleOverride_data()
{
    QTest::addColumn<QByteArray>("allow");
    QTest::addColumn<bool>("handled");

    QTest::newRow("allowed") << QByteArray("yes") << true;
    QTest::newRow("refused") << QByteArray("no") << false;
}

void tst_WsServer::shouldHandleOverride()
{
    QFETCH(QByteArray, allow);
    QFETCH(bool, handled);

    WsServerOptions options = localOptions();
    options.path = QStringLiteral("/ignored-by-the-override");
    PickyServer server(options);
    QSignalSpy connections(&server, &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectTo(server.address().port));
    const Headers changes{{"X-Allow", allow}};
    if (handled) {
        QVERIFY(client.upgrade("/any", changes));
        QVERIFY(acceptedSocket(connections));
    } else {
        client.write(upgradeRequest("/any", changes));
        QCOMPARE(client.readUntilClosed(), kBadRequest);
        QVERIFY(connections.isEmpty());
    }
}

// ---- Server-side sockets ------------------------------------------------------

void tst_WsServer::echo_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("binary");

    QTest::newRow("text") << QByteArray("hello") << false;
    QTest::newRow("UTF-8 text") << QStringLiteral("h\u00e9llo \U0001F600").toUtf8() << false;
    QTest::newRow("binary") << QByteArray::fromHex("00ff10ee") << true;
    QTest::newRow("empty text") << QByteArray("") << false;
    QTest::newRow("empty binary") << QByteArray() << true;
    QTest::newRow("125 bytes") << QByteArray(125, 'x') << true;
    QTest::newRow("126 bytes") << QByteArray(126, 'x') << true;
    QTest::newRow("65536 bytes") << randomBytes(65536) << true;
    QTest::newRow("4 MiB") << randomBytes(4 << 20) << true;
}

void tst_WsServer::echo()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, binary);

    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QSignalSpy serverMessages(serverSide, &WsSocket::messageReceived);
    QSignalSpy messages(client.get(), &WsSocket::messageReceived);

    WsSendOptions sendOptions;
    sendOptions.binary = binary;
    QVERIFY(!client->send(message, sendOptions).isError());
    QVERIFY(messages.wait(kWaitMs));
    QCOMPARE(serverMessages.size(), 1);
    QCOMPARE(serverMessages.first().at(1).toBool(), binary);
    QCOMPARE(messages.first().at(0).toByteArray(), message);
    QCOMPARE(messages.first().at(1).toBool(), binary);
}

void tst_WsServer::serverInitiatedClose()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QSignalSpy serverClosed(serverSide, &WsSocket::closed);
    QSignalSpy clientClosed(client.get(), &WsSocket::closed);

    QVERIFY(!serverSide->close(4000, "x").isError());
    QCOMPARE(serverSide->readyState(), WsSocket::Closing);
    QVERIFY(clientClosed.wait(kWaitMs));
    QCOMPARE(clientClosed.first().at(0).toInt(), 4000);
    QCOMPARE(clientClosed.first().at(1).toByteArray(), QByteArray("x"));
    QTRY_COMPARE(serverClosed.size(), 1);
    // The client echoed the code and reason.
    QCOMPARE(serverClosed.first().at(0).toInt(), 4000);
    QCOMPARE(serverClosed.first().at(1).toByteArray(), QByteArray("x"));
}

void tst_WsServer::serverPauseResume()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QSignalSpy serverMessages(serverSide, &WsSocket::messageReceived);
    QSignalSpy paused(serverSide, &WsSocket::pausedChanged);

    serverSide->pause();
    QVERIFY(serverSide->isPaused());
    QCOMPARE(paused.size(), 1);
    for (int i = 0; i < 3; ++i)
        client->sendText(QString::number(i));
    // Nothing is delivered while paused, however long we wait.
    QVERIFY(!serverMessages.wait(300));

    serverSide->resume();
    QVERIFY(!serverSide->isPaused());
    QCOMPARE(paused.size(), 2);
    QTRY_COMPARE(serverMessages.size(), 3);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(serverMessages.at(i).at(0).toByteArray(), QByteArray::number(i));
}

void tst_WsServer::perMessageDeflate_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("binary");

    QTest::newRow("empty") << QByteArray() << true;
    QTest::newRow("short text") << QByteArray("hello, hello, hello") << false;
    QTest::newRow("1023 bytes") << QByteArray(1023, 'a') << true;
    QTest::newRow("1024 bytes") << QByteArray(1024, 'a') << true;
    QTest::newRow("70000 random bytes") << randomBytes(70000) << true;
    QTest::newRow("1 MiB repetitive text") << QByteArray("websocket ").repeated(104858) << false;
    QTest::newRow("1 MiB random") << randomBytes(1 << 20) << true;
}

void tst_WsServer::perMessageDeflate()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, binary);

    WsServerOptions options;
    options.perMessageDeflate = WsDeflateOptions();
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QCOMPARE(serverSide->extensions(), QStringLiteral("permessage-deflate"));
    QCOMPARE(client->extensions(), QStringLiteral("permessage-deflate"));

    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    WsSendOptions sendOptions;
    sendOptions.binary = binary;
    // Twice, so that the second message uses the kept compression context.
    client->send(message, sendOptions);
    client->send(message, sendOptions);
    QTRY_COMPARE(messages.size(), 2);
    for (const auto &arguments : std::as_const(messages)) {
        QCOMPARE(arguments.at(0).toByteArray(), message);
        QCOMPARE(arguments.at(1).toBool(), binary);
    }
}

void tst_WsServer::serverSocketDeletedAfterClose()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    QPointer<WsSocket> serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QSignalSpy serverClosed(serverSide.data(), &WsSocket::closed);

    client->close(1001, "bye");
    QVERIFY(serverClosed.wait(kWaitMs));
    QCOMPARE(serverClosed.first().at(0).toInt(), 1001);
    QCOMPARE(serverClosed.first().at(1).toByteArray(), QByteArray("bye"));
    QTRY_VERIFY(serverSide.isNull());
    QVERIFY(waitFor([&] { return client->readyState() == WsSocket::Closed; }));
    QVERIFY(server->clients().isEmpty());
}

// An application may delete a connection it was given: the server forgets it.
void tst_WsServer::applicationDeletesServerSocket()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    QSignalSpy serverClosed(server.get(), &WsServer::closed);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    WsSocket *serverSide = acceptedSocket(connections);
    QVERIFY(serverSide);
    QCOMPARE(server->clients().size(), 1);

    QSignalSpy clientClosed(client.get(), &WsSocket::closed);
    delete serverSide;
    QVERIFY(clientClosed.wait(kWaitMs));
    QCOMPARE(clientClosed.first().at(0).toInt(), 1006);
    QVERIFY(server->clients().isEmpty());

    QList<WsError> results;
    server->close([&](const WsError &error) { results.append(error); });
    QVERIFY(serverClosed.wait(kWaitMs));
    QCOMPARE(results.size(), 1);
    QVERIFY(!results.first().isError());
}

void tst_WsServer::framesInTheRequestPacket()
{
    const std::unique_ptr<WsServer> server = echoServer();
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    client.write(upgradeRequest() + frame(0x81, "one") + frame(0x82, "two"));
    HttpHead head;
    QVERIFY(client.readResponseHead(&head));
    QCOMPARE(head.status, 101);
    Frame first;
    Frame second;
    QVERIFY(client.readFrame(&first));
    QVERIFY(client.readFrame(&second));
    QCOMPARE(first.raw, QByteArray("\x81\x03one"));
    QCOMPARE(second.raw, QByteArray("\x82\x03two"));
}

void tst_WsServer::serverDestroyedWithOpenConnections()
{
    auto server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    const std::unique_ptr<WsSocket> client = openClient(server->address().port);
    QVERIFY(client);
    QVERIFY(acceptedSocket(connections));
    RawClient midHandshake;
    QVERIFY(midHandshake.connectTo(server->address().port));
    midHandshake.write(upgradeRequest().left(20));
    QVERIFY(waitFor([&] { return midHandshake.socket()->bytesToWrite() == 0; }));

    QSignalSpy closed(client.get(), &WsSocket::closed);
    server.reset();
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(closed.first().at(0).toInt(), 1006);
    QVERIFY(waitFor([&] { return midHandshake.isClosed(); }, kWaitMs));
}

QTEST_MAIN(tst_WsServer)

#include "tst_wsserver.moc"
