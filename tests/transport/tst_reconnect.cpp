// A client's reconnection (WsClientOptions::reconnect) against a server that
// goes away and comes back on the same port: the backoff (factor, jitter,
// maxDelay), the attempt count and its reset, maxAttempts, and the cases
// where no reconnection is made (the application's own close() or
// terminate(), a normal close by the server) or a pending one is cancelled.
//
// Where a test shows that something does NOT happen, a second client whose
// reconnection must happen, and takes longer, is the clock.

#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qelapsedtimer.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <cmath>
#include <memory>

using namespace serverpeers;

namespace {

WsClientOptions reconnecting(int minDelay, double jitter = 0.0, double factor = 2.0, int maxDelay = 30000,
                             int maxAttempts = 0)
{
    WsClientOptions options;
    options.reconnect.enabled = true;
    options.reconnect.minDelay = minDelay;
    options.reconnect.maxDelay = maxDelay;
    options.reconnect.factor = factor;
    options.reconnect.jitter = jitter;
    options.reconnect.maxAttempts = maxAttempts;
    return options;
}

// An echo server that can go away and come back on the same port.
class Server
{
public:
    Server() { start(0); }

    quint16 port() const { return m_port; }
    QUrl url() const { return localUrl(m_port); }
    bool isRunning() const { return bool(m_server); }
    int accepted() const { return m_accepted; }
    // The server's side of the connection from local port `port`.
    WsSocket *acceptedFrom(quint16 port) const
    {
        if (!m_server)
            return nullptr;
        for (WsSocket *socket : m_server->clients()) {
            if (socket->peerPort() == port)
                return socket;
        }
        return nullptr;
    }

    bool start(quint16 port)
    {
        WsServerOptions options = localOptions();
        options.port = port;
        m_server = echoServer(options);
        QObject::connect(m_server.get(), &WsServer::newConnection, m_server.get(), [this] { ++m_accepted; });
        m_port = m_server->address().port;
        return m_server->isListening();
    }

    bool restart() { return start(m_port); }

    // Gone: the port refuses connections and the open ones are dropped.
    void stop() { m_server.reset(); }

private:
    std::unique_ptr<WsServer> m_server;
    quint16 m_port = 0;
    int m_accepted = 0;
};

// What a reconnecting client signals, with the time of each.
struct Recorder
{
    struct Attempt
    {
        int attempt;
        int delay;
        qint64 at;
    };
    QList<Attempt> attempts;
    QList<qint64> openedAt;
    QList<int> closeCodes;
    int failed = 0;
    QElapsedTimer clock;

    explicit Recorder(WsSocket *socket)
    {
        clock.start();
        QObject::connect(socket, &WsSocket::reconnecting, socket, [this](int attempt, int delay) {
            attempts.append({attempt, delay, clock.elapsed()});
        });
        QObject::connect(socket, &WsSocket::opened, socket, [this] { openedAt.append(clock.elapsed()); });
        QObject::connect(socket, &WsSocket::closed, socket, [this](int code) { closeCodes.append(code); });
        QObject::connect(socket, &WsSocket::reconnectFailed, socket, [this] { ++failed; });
    }

    QList<int> attemptNumbers() const
    {
        QList<int> numbers;
        for (const Attempt &attempt : attempts)
            numbers.append(attempt.attempt);
        return numbers;
    }
};

// `delay` is base +/- jitter (rounded to whole milliseconds).
bool withinJitter(int delay, double base, double jitter)
{
    return delay >= std::floor(base * (1.0 - jitter)) && delay <= std::ceil(base * (1.0 + jitter));
}

// Timers may fire a little early (coarse timers keep within 5%).
qint64 atLeast(qint64 milliseconds)
{
    return milliseconds * 9 / 10;
}

// A client open to `server`, with these options.
std::unique_ptr<WsSocket> openTo(const Server &server, const WsClientOptions &options)
{
    return openClient(server.port(), QStringLiteral("/"), {}, options);
}

bool echoes(WsSocket *client)
{
    QSignalSpy messages(client, &WsSocket::messageReceived);
    client->sendText(QStringLiteral("echo?"));
    return waitFor([&] { return !messages.isEmpty(); }) && messages.first().at(0).toByteArray() == "echo?";
}

// A port nothing listens on.
quint16 closedPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

class tst_Reconnect : public QObject
{
    Q_OBJECT

private slots:
    void backoffAndReconnect();
    void exactDelaysAndMaxAttempts_data();
    void exactDelaysAndMaxAttempts();
    void failedFirstOpenReconnects();
    void notAfterOwnEnd_data();
    void notAfterOwnEnd();
    void serverClose_data();
    void serverClose();
    void pendingReconnectCancelled_data();
    void pendingReconnectCancelled();
    void afterHeartbeatTimeout();
    void offByDefault();
};

// The server goes away: attempts follow with growing delays within the
// jitter band, the client is back once the server is, and the count starts
// over for the next loss.
void tst_Reconnect::backoffAndReconnect()
{
    constexpr double jitter = 0.2;
    Server server;
    const std::unique_ptr<WsSocket> client = openTo(server, reconnecting(50, jitter, 2.0));
    QVERIFY(client);
    Recorder record(client.get());
    // The server is back when the third attempt is announced.
    connect(client.get(), &WsSocket::reconnecting, this, [&](int attempt) {
        if (attempt == 3)
            QVERIFY(server.restart());
    });

    QVERIFY(echoes(client.get()));
    QCOMPARE(client->statistics().messagesSent, 1);

    server.stop();
    QVERIFY(waitFor([&] { return record.openedAt.size() == 1; }, 10000));
    QCOMPARE(record.attemptNumbers(), (QList<int>{1, 2, 3}));
    QCOMPARE(record.closeCodes, (QList<int>{1006, 1006, 1006}));
    for (qsizetype i = 0; i < record.attempts.size(); ++i) {
        const Recorder::Attempt &attempt = record.attempts.at(i);
        const double base = 50.0 * std::pow(2.0, double(i));
        QVERIFY2(withinJitter(attempt.delay, base, jitter),
                 qPrintable(QStringLiteral("attempt %1: %2 ms").arg(attempt.attempt).arg(attempt.delay)));
        // The attempt comes after its delay: the next failure, or the open.
        const qint64 next = i + 1 < record.attempts.size() ? record.attempts.at(i + 1).at : record.openedAt.first();
        QVERIFY2(next - attempt.at >= atLeast(attempt.delay),
                 qPrintable(QStringLiteral("attempt %1 after %2 ms, delay %3 ms")
                                    .arg(attempt.attempt)
                                    .arg(next - attempt.at)
                                    .arg(attempt.delay)));
    }
    QCOMPARE(client->readyState(), WsSocket::Open);
    QCOMPARE(client->url(), server.url());
    QCOMPARE(server.accepted(), 2);
    // A new connection: its own counters, its own written-data callbacks.
    QCOMPARE(client->statistics().messagesSent, 0);
    QCOMPARE(client->bufferedAmount(), 0);
    QList<WsError> written;
    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    QVERIFY(!client->send("after", {}, [&](const WsError &error) { written.append(error); }).isError());
    QVERIFY(waitFor([&] { return !written.isEmpty() && !messages.isEmpty(); }));
    QCOMPARE(written.size(), 1);
    QVERIFY(!written.first().isError());
    QCOMPARE(messages.first().at(0).toByteArray(), QByteArray("after"));
    QCOMPARE(client->statistics().messagesSent, 1);

    // Lost again: the first attempt again, with the first delay.
    record.attempts.clear();
    server.stop();
    QVERIFY(waitFor([&] { return !record.attempts.isEmpty(); }));
    QCOMPARE(record.attempts.first().attempt, 1);
    QVERIFY(withinJitter(record.attempts.first().delay, 50.0, jitter));
    QVERIFY(server.restart());
    QVERIFY(waitFor([&] { return record.openedAt.size() == 2; }, 10000));
    QVERIFY(echoes(client.get()));
    QCOMPARE(record.failed, 0);
    client->close(1000);
}

void tst_Reconnect::exactDelaysAndMaxAttempts_data()
{
    QTest::addColumn<double>("factor");
    QTest::addColumn<int>("maxDelay");
    QTest::addColumn<int>("maxAttempts");
    QTest::addColumn<QList<int>>("delays");

    QTest::newRow("doubling") << 2.0 << 30000 << 4 << QList<int>{40, 80, 160, 320};
    QTest::newRow("capped by maxDelay") << 2.0 << 100 << 5 << QList<int>{40, 80, 100, 100, 100};
    QTest::newRow("factor 3") << 3.0 << 30000 << 3 << QList<int>{40, 120, 360};
    QTest::newRow("factor 1") << 1.0 << 30000 << 3 << QList<int>{40, 40, 40};
    QTest::newRow("one attempt") << 2.0 << 30000 << 1 << QList<int>{40};
}

// Without jitter the delays are exact; after maxAttempts failures,
// reconnectFailed() and no more attempts.
void tst_Reconnect::exactDelaysAndMaxAttempts()
{
    QFETCH(double, factor);
    QFETCH(int, maxDelay);
    QFETCH(int, maxAttempts);
    QFETCH(QList<int>, delays);

    Server server;
    const std::unique_ptr<WsSocket> client = openTo(server, reconnecting(40, 0.0, factor, maxDelay, maxAttempts));
    QVERIFY(client);
    Recorder record(client.get());
    QSignalSpy failed(client.get(), &WsSocket::reconnectFailed);
    server.stop();
    QVERIFY(waitFor([&] { return record.failed > 0; }, 10000));

    QList<int> actual;
    for (const Recorder::Attempt &attempt : record.attempts)
        actual.append(attempt.delay);
    QCOMPARE(actual, delays);
    QCOMPARE(record.attemptNumbers().size(), maxAttempts);
    QCOMPARE(record.attemptNumbers().last(), maxAttempts);
    // The loss and one failure per attempt.
    QCOMPARE(record.closeCodes.size(), maxAttempts + 1);
    QCOMPARE(client->readyState(), WsSocket::Closed);
    // Given up: a server back now is not found.
    QVERIFY(server.restart());
    QVERIFY(!failed.wait(delays.last() * 2));
    QCOMPARE(record.failed, 1);
    QCOMPARE(record.attempts.size(), maxAttempts);
    QCOMPARE(server.accepted(), 1);
}

// A first open that fails is a lost connection too.
void tst_Reconnect::failedFirstOpenReconnects()
{
    WsSocket client;
    Recorder record(&client);
    QVERIFY(!client.open(localUrl(closedPort()), {}, reconnecting(20, 0.0, 2.0, 30000, 2)).isError());
    QVERIFY(waitFor([&] { return record.failed > 0; }));
    QCOMPARE(record.attemptNumbers(), (QList<int>{1, 2}));
    QCOMPARE(record.closeCodes, (QList<int>{1006, 1006, 1006}));
    QVERIFY(record.openedAt.isEmpty());
}

void tst_Reconnect::notAfterOwnEnd_data()
{
    QTest::addColumn<bool>("terminate");
    QTest::addColumn<int>("code");

    QTest::newRow("close() with 4000") << false << 4000;
    QTest::newRow("close() with 1001") << false << 1001;
    QTest::newRow("terminate()") << true << 1006;
}

// The application ended the connection: no reconnection, whatever the code.
void tst_Reconnect::notAfterOwnEnd()
{
    QFETCH(bool, terminate);
    QFETCH(int, code);

    Server server;
    const std::unique_ptr<WsSocket> client = openTo(server, reconnecting(30));
    const std::unique_ptr<WsSocket> clock = openTo(server, reconnecting(150));
    QVERIFY(client && clock);
    Recorder record(client.get());
    Recorder clockRecord(clock.get());

    if (terminate)
        client->terminate();
    else
        QVERIFY(!client->close(code).isError());
    server.acceptedFrom(clock->localPort())->terminate();
    QVERIFY(waitFor([&] { return clockRecord.openedAt.size() == 1; }));
    QCOMPARE(record.closeCodes, QList<int>{code});
    QVERIFY(record.attempts.isEmpty());
    QVERIFY(record.openedAt.isEmpty());
    QCOMPARE(client->readyState(), WsSocket::Closed);
    QCOMPARE(server.accepted(), 3);

    // Opening again by hand brings the option back.
    QVERIFY(!client->open(server.url(), {}, reconnecting(30)).isError());
    QVERIFY(waitFor([&] { return record.openedAt.size() == 1; }));
    server.acceptedFrom(client->localPort())->terminate();
    QVERIFY(waitFor([&] { return record.openedAt.size() == 2; }));
    QCOMPARE(record.attemptNumbers(), QList<int>{1});
}

void tst_Reconnect::serverClose_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<bool>("afterNormalClose");
    QTest::addColumn<bool>("reconnects");

    QTest::newRow("1000") << 1000 << false << false;
    QTest::newRow("1000, afterNormalClose") << 1000 << true << true;
    QTest::newRow("1001") << 1001 << false << true;
    QTest::newRow("4000") << 4000 << false << true;
    QTest::newRow("no code (1005)") << 0 << false << true;
}

// A normal close (1000) by the server ends the connection for good, unless
// afterNormalClose; any other ending is a loss.
void tst_Reconnect::serverClose()
{
    QFETCH(int, code);
    QFETCH(bool, afterNormalClose);
    QFETCH(bool, reconnects);

    Server server;
    WsClientOptions options = reconnecting(30);
    options.reconnect.afterNormalClose = afterNormalClose;
    const std::unique_ptr<WsSocket> client = openTo(server, options);
    const std::unique_ptr<WsSocket> clock = openTo(server, reconnecting(150));
    QVERIFY(client && clock);
    Recorder record(client.get());
    Recorder clockRecord(clock.get());

    QVERIFY(!server.acceptedFrom(client->localPort())->close(code).isError());
    server.acceptedFrom(clock->localPort())->terminate();
    QVERIFY(waitFor([&] { return clockRecord.openedAt.size() == 1; }));
    QCOMPARE(record.closeCodes, QList<int>{code ? code : 1005});
    if (reconnects) {
        QVERIFY(waitFor([&] { return record.openedAt.size() == 1; }));
        QCOMPARE(record.attemptNumbers(), QList<int>{1});
        QVERIFY(echoes(client.get()));
        QCOMPARE(server.accepted(), 4);
    } else {
        QVERIFY(record.attempts.isEmpty());
        QCOMPARE(client->readyState(), WsSocket::Closed);
        QCOMPARE(server.accepted(), 3);
    }
}

void tst_Reconnect::pendingReconnectCancelled_data()
{
    QTest::addColumn<QString>("how");

    QTest::newRow("close()") << QStringLiteral("close");
    QTest::newRow("terminate()") << QStringLiteral("terminate");
    QTest::newRow("close() from reconnecting()") << QStringLiteral("close in handler");
    QTest::newRow("deleted") << QStringLiteral("delete");
}

// While an attempt waits for its delay, the application's close() (or
// terminate(), or deleting the socket) cancels it.
void tst_Reconnect::pendingReconnectCancelled()
{
    QFETCH(QString, how);

    Server server;
    auto client = openTo(server, reconnecting(100));
    const std::unique_ptr<WsSocket> clock = openTo(server, reconnecting(250));
    QVERIFY(client && clock);
    Recorder record(client.get());
    Recorder clockRecord(clock.get());
    if (how == QLatin1String("close in handler")) {
        connect(client.get(), &WsSocket::reconnecting, client.get(), [&] { client->close(); });
    }

    server.stop();
    QVERIFY(waitFor([&] { return record.attempts.size() == 1 && clockRecord.attempts.size() == 1; }));
    QCOMPARE(client->readyState(), WsSocket::Closed);
    if (how == QLatin1String("close"))
        QVERIFY(!client->close(1000).isError());
    else if (how == QLatin1String("terminate"))
        client->terminate();
    else if (how == QLatin1String("delete"))
        client.reset();
    // Back at once: an attempt would succeed.
    QVERIFY(server.restart());
    QVERIFY(waitFor([&] { return clockRecord.openedAt.size() == 1; }));
    QCOMPARE(server.accepted(), 3);
    if (client) {
        QCOMPARE(record.attempts.size(), 1);
        QVERIFY(record.openedAt.isEmpty());
        QCOMPARE(client->readyState(), WsSocket::Closed);
    }
}

// A peer that stopped answering is a lost connection: the heartbeat drops
// it and the client connects again.
void tst_Reconnect::afterHeartbeatTimeout()
{
    WsServerOptions options = localOptions();
    options.autoPong = false;
    const std::unique_ptr<WsServer> server = echoServer(options);
    WsClientOptions clientOptions = reconnecting(30);
    clientOptions.pingInterval = 50;
    clientOptions.pongTimeout = 50;
    const std::unique_ptr<WsSocket> client =
            openClient(server->address().port, QStringLiteral("/"), {}, clientOptions);
    QVERIFY(client);
    Recorder record(client.get());
    QSignalSpy errors(client.get(), &WsSocket::errorOccurred);
    QVERIFY(waitFor([&] { return record.openedAt.size() == 1; }));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().at(0).value<WsError>().code(), WsError::Timeout);
    QCOMPARE(record.closeCodes, QList<int>{1006});
    QCOMPARE(record.attemptNumbers(), QList<int>{1});
    client->close(1000);
    QVERIFY(waitFor([&] { return client->readyState() == WsSocket::Closed; }));
}

// Without the option a lost connection stays lost.
void tst_Reconnect::offByDefault()
{
    QCOMPARE(WsClientOptions().reconnect.enabled, false);
    Server server;
    const std::unique_ptr<WsSocket> client = openTo(server, WsClientOptions());
    const std::unique_ptr<WsSocket> clock = openTo(server, reconnecting(100));
    QVERIFY(client && clock);
    Recorder record(client.get());
    Recorder clockRecord(clock.get());
    server.acceptedFrom(client->localPort())->terminate();
    server.acceptedFrom(clock->localPort())->terminate();
    QVERIFY(waitFor([&] { return clockRecord.openedAt.size() == 1; }));
    QCOMPARE(record.closeCodes, QList<int>{1006});
    QVERIFY(record.attempts.isEmpty());
    QCOMPARE(server.accepted(), 3);
}

QTEST_MAIN(tst_Reconnect)

#include "tst_reconnect.moc"
