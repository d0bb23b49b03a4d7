// The shared-http-port example's server: ordinary HTTP through QHttpServer
// and WebSocket upgrades through WsServer::handleUpgrade(), on one port.

#include "reachsupport.h"
#include "sharedportserver.h"
#include "wireframe.h"

#include <QtCore/qelapsedtimer.h>
#include <QtNetwork/qtcpsocket.h>

using namespace reach;

namespace {

constexpr int kHeadTimeoutMs = 500;

struct HttpAnswer
{
    int status = 0;
    WsHttpHeaders headers;
    QByteArray body;
};

// Reads one response from `socket`: its head, then Content-Length bytes, or
// everything up to the end of the connection.
bool readAnswer(QTcpSocket *socket, HttpAnswer *answer)
{
    QByteArray received;
    qsizetype headEnd = -1;
    qint64 length = -1;
    const auto complete = [&] {
        received += socket->readAll();
        if (headEnd < 0) {
            headEnd = received.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return false;
            const QList<QByteArray> lines = received.left(headEnd).split('\n');
            answer->status = lines.first().mid(9, 3).toInt();
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines.at(i).indexOf(':');
                answer->headers.append(lines.at(i).left(colon).trimmed(), lines.at(i).mid(colon + 1).trimmed());
            }
            bool ok = false;
            length = answer->headers.value("Content-Length").toLongLong(&ok);
            if (!ok)
                length = -1;
        }
        const qint64 bodySize = received.size() - headEnd - 4;
        return length >= 0 ? bodySize >= length : socket->state() == QAbstractSocket::UnconnectedState;
    };
    if (!QTest::qWaitFor(complete, kWaitMs))
        return false;
    answer->body = received.mid(headEnd + 4);
    if (length >= 0) {
        // What follows belongs to the next response.
        answer->body.truncate(length);
    }
    return true;
}

QByteArray upgradeRequest(const QByteArray &target, const QByteArray &upgrade = "websocket")
{
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: " + upgrade
            + "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

} // namespace

class tst_SharedPort : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void plainHttp_data();
    void plainHttp();
    void webSocket();
    void broadcast();
    void httpWhileWebSocketsAreOpen();
    void upgradeWithFrameInTheSameWrite();
    void refusedUpgrades_data();
    void refusedUpgrades();
    void incompleteHead();
    void oversizedHead();

private:
    QString url(const QString &path = SharedPortServer::webSocketPath()) const
    {
        return QStringLiteral("ws://127.0.0.1:%1%2").arg(m_server->serverPort()).arg(path);
    }
    bool connectRaw(QTcpSocket *socket) const
    {
        socket->connectToHost(QHostAddress::LocalHost, m_server->serverPort());
        return socket->waitForConnected(kWaitMs);
    }
    bool openClient(WsSocket *client, ClientRecord *record) const
    {
        client->open(QUrl(url()));
        return QTest::qWaitFor([record] { return record->opened == 1 || record->isClosed(); }, kWaitMs)
                && record->opened == 1;
    }

    std::unique_ptr<SharedPortServer> m_server;
};

void tst_SharedPort::init()
{
    m_server = std::make_unique<SharedPortServer>(kHeadTimeoutMs);
    QVERIFY2(m_server->listen(QHostAddress::LocalHost, 0), qPrintable(m_server->errorString()));
}

void tst_SharedPort::cleanup()
{
    m_server.reset();
}

void tst_SharedPort::plainHttp_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");   // a part of it

    QTest::newRow("the page") << QByteArray("/") << 200 << QByteArray("new WebSocket(");
    QTest::newRow("the WebSocket path, no upgrade") << QByteArray("/ws") << 426 << QByteArray("Upgrade Required");
    QTest::newRow("anything else") << QByteArray("/missing") << 404 << QByteArray();
}

void tst_SharedPort::plainHttp()
{
    QFETCH(QByteArray, target);
    QFETCH(int, status);
    QFETCH(QByteArray, body);

    QTcpSocket socket;
    QVERIFY(connectRaw(&socket));
    socket.write("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    HttpAnswer answer;
    QVERIFY(readAnswer(&socket, &answer));
    QCOMPARE(answer.status, status);
    QVERIFY2(answer.body.contains(body), answer.body.constData());
}

void tst_SharedPort::webSocket()
{
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openClient(&client, &record));
    QCOMPARE(m_server->webSocketServer()->clients().size(), 1);
    client.sendText(QStringLiteral("hello"));
    QTRY_COMPARE(record.messages, QList<QByteArray>{"hello"});
    client.close(1000);
    QTRY_COMPARE(record.closeCodes, QList<int>{1000});
}

void tst_SharedPort::broadcast()
{
    WsSocket alice;
    ClientRecord aliceRecord(&alice);
    WsSocket bob;
    ClientRecord bobRecord(&bob);
    QVERIFY(openClient(&alice, &aliceRecord));
    QVERIFY(openClient(&bob, &bobRecord));
    QTRY_COMPARE(m_server->webSocketServer()->clients().size(), 2);

    alice.sendText(QStringLiteral("from alice"));
    QTRY_COMPARE(bobRecord.messages, QList<QByteArray>{"from alice"});
    QTRY_COMPARE(aliceRecord.messages, QList<QByteArray>{"from alice"});
}

void tst_SharedPort::httpWhileWebSocketsAreOpen()
{
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openClient(&client, &record));

    // Two requests on one keep-alive connection, while the WebSocket is open.
    QTcpSocket http;
    QVERIFY(connectRaw(&http));
    for (int i = 0; i < 2; ++i) {
        http.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        HttpAnswer answer;
        QVERIFY(readAnswer(&http, &answer));
        QCOMPARE(answer.status, 200);
        QVERIFY(answer.body.contains("new WebSocket("));
    }
    QCOMPARE(http.state(), QAbstractSocket::ConnectedState);

    client.sendText(QStringLiteral("still here"));
    QTRY_COMPARE(record.messages, QList<QByteArray>{"still here"});
    QCOMPARE(m_server->webSocketServer()->clients().size(), 1);
}

void tst_SharedPort::upgradeWithFrameInTheSameWrite()
{
    // The frame that follows the request head must reach the WebSocket.
    QTcpSocket raw;
    QVERIFY(connectRaw(&raw));
    raw.write(upgradeRequest("/ws") + wsqt::test::wireFrame(0x81, "early", wsqt::test::kFixedMaskKey));

    QByteArray received;
    QVERIFY(QTest::qWaitFor([&] {
        received += raw.readAll();
        return received.contains("early");
    }, kWaitMs));
    const qsizetype headEnd = received.indexOf("\r\n\r\n");
    QVERIFY(received.startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
    QVERIFY(received.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    // The broadcast comes back unmasked.
    QCOMPARE(received.mid(headEnd + 4), QByteArray("\x81\x05") + "early");
}

void tst_SharedPort::refusedUpgrades_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");

    QTest::newRow("another path") << upgradeRequest("/other") << 400;
    QTest::newRow("another protocol") << upgradeRequest("/ws", "h2c") << 400;
    QTest::newRow("no key") << QByteArray("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                                          "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n")
                            << 400;
}

void tst_SharedPort::refusedUpgrades()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);

    QTcpSocket raw;
    QVERIFY(connectRaw(&raw));
    raw.write(request);
    HttpAnswer answer;
    QVERIFY(readAnswer(&raw, &answer));
    QCOMPARE(answer.status, status);
    QVERIFY(m_server->webSocketServer()->clients().isEmpty());

    // The port still serves both.
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openClient(&client, &record));
}

void tst_SharedPort::incompleteHead()
{
    QTcpSocket raw;
    QVERIFY(connectRaw(&raw));
    QElapsedTimer elapsed;
    elapsed.start();
    raw.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    HttpAnswer answer;
    QVERIFY(readAnswer(&raw, &answer));
    QCOMPARE(answer.status, 408);
    QVERIFY(elapsed.elapsed() >= kHeadTimeoutMs - 100);
    QTRY_COMPARE(raw.state(), QAbstractSocket::UnconnectedState);
}

void tst_SharedPort::oversizedHead()
{
    QTcpSocket raw;
    QVERIFY(connectRaw(&raw));
    raw.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Large: " + QByteArray(20 * 1024, 'x') + "\r\n\r\n");
    HttpAnswer answer;
    QVERIFY(readAnswer(&raw, &answer));
    QCOMPARE(answer.status, 431);
    QTRY_COMPARE(raw.state(), QAbstractSocket::UnconnectedState);
}

QTEST_MAIN(tst_SharedPort)
#include "tst_sharedport.moc"
