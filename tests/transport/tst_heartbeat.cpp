// The heartbeat (pingInterval, pongTimeout) over real sockets, in both roles:
// a peer that falls silent is pinged and then dropped with a Timeout error
// and 1006; a peer that answers, or that keeps sending anything at all,
// stays; the round-trip time of a ping shows in statistics().

#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

using namespace serverpeers;

namespace {

constexpr int kPing = 0x9;

// Timers may fire a little early (coarse timers keep within 5%).
int atLeast(int milliseconds)
{
    return milliseconds * 9 / 10;
}

// A span measured from when the peer saw something, which may be a turn of
// a busy event loop after it was sent.
int mostOf(int milliseconds)
{
    return milliseconds * 3 / 4;
}

template<typename Options>
Options withConnectionOptions(Options options, const WsConnectionOptions &connection)
{
    static_cast<WsConnectionOptions &>(options) = connection;
    return options;
}

WsConnectionOptions heartbeat(int pingInterval, int pongTimeout = 0)
{
    WsConnectionOptions options;
    options.pingInterval = pingInterval;
    options.pongTimeout = pongTimeout;
    return options;
}

// A server that completes the opening handshake and then never sends a
// byte: it reads and keeps the client's frames.
class SilentServer : public QObject
{
public:
    SilentServer()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            m_socket.reset(m_server.nextPendingConnection());
            connect(m_socket.get(), &QIODevice::readyRead, this, [this] { read(); });
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }

    QUrl url() const { return localUrl(m_server.serverPort()); }
    bool isClosed() const { return m_socket && m_socket->state() == QAbstractSocket::UnconnectedState; }
    // The frames read so far, in order.
    const QList<Frame> &frames() const { return m_frames; }

private:
    void read()
    {
        m_received += m_socket->readAll();
        if (!m_upgraded) {
            const qsizetype end = m_received.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            QByteArray key;
            for (const QByteArray &line : m_received.left(end).split('\n')) {
                if (line.toLower().startsWith("sec-websocket-key:"))
                    key = line.mid(18).trimmed();
            }
            m_received.remove(0, end + 4);
            const QByteArray accept =
                    QCryptographicHash::hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
                            .toBase64();
            m_socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: " + accept + "\r\n\r\n");
            m_upgraded = true;
        }
        Frame frame;
        while (takeFrame(&m_received, &frame))
            m_frames.append(frame);
    }

    QTcpServer m_server;
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_received;
    QList<Frame> m_frames;
    bool m_upgraded = false;
};

// A wsqt socket under test (`tested`) connected to a wsqt peer, in the
// role a test row gives it.
struct Link
{
    std::unique_ptr<WsServer> server;
    std::unique_ptr<WsSocket> client;
    QPointer<WsSocket> accepted;
    WsSocket *tested = nullptr;
    WsSocket *peer = nullptr;

    bool open(bool testedIsClient, const WsConnectionOptions &testedOptions, const WsConnectionOptions &peerOptions)
    {
        const WsConnectionOptions &serverSide = testedIsClient ? peerOptions : testedOptions;
        const WsConnectionOptions &clientSide = testedIsClient ? testedOptions : peerOptions;
        server = std::make_unique<WsServer>(localOptions(withConnectionOptions(WsServerOptions(), serverSide)));
        QObject::connect(server.get(), &WsServer::newConnection, server.get(),
                         [this](WsSocket *socket) { accepted = socket; });
        client = openClient(server->address().port, QStringLiteral("/"), {},
                            withConnectionOptions(WsClientOptions(), clientSide));
        if (!client || !waitFor([this] { return !accepted.isNull(); }))
            return false;
        tested = testedIsClient ? client.get() : accepted.data();
        peer = testedIsClient ? accepted.data() : client.get();
        return true;
    }
};

// Sends a text message on `socket` every `period` ms while it lives.
void keepSending(WsSocket *socket, int period)
{
    auto *timer = new QTimer(socket);
    QObject::connect(timer, &QTimer::timeout, socket, [socket] {
        if (socket->readyState() == WsSocket::Open)
            socket->sendText(QStringLiteral("still here"));
    });
    timer->start(period);
}

} // namespace

class tst_Heartbeat : public QObject
{
    Q_OBJECT

private slots:
    void silentServer_data();
    void silentServer();
    void silentClient_data();
    void silentClient();
    void livePeer_data();
    void livePeer();
    void anythingReceivedCountsAsLife_data();
    void anythingReceivedCountsAsLife();
    void offByDefault();
    void roundTripTime_data();
    void roundTripTime();
};

// What a wsqt socket did after its peer fell silent.
struct SilenceOutcome
{
    // Started before the connection, so before its heartbeat.
    QElapsedTimer clock;
    qint64 pingSeenAfter = -1;
    qint64 closedAfter = -1;
    QList<WsError> errors;
    QStringList order;
};

// Waits for `tested` to drop its silent peer, and checks how: one ping after
// pingInterval, then after the timeout an error that names it, then 1006.
static void expectTimeout(WsSocket *tested, const std::function<QList<Frame>()> &peerFrames,
                          SilenceOutcome *outcome, int pingInterval, int effectiveTimeout)
{
    const QMetaObject::Connection errors =
            QObject::connect(tested, &WsSocket::errorOccurred, tested, [outcome](const WsError &error) {
                outcome->errors.append(error);
                outcome->order.append(QStringLiteral("error"));
            });
    const QMetaObject::Connection closed = QObject::connect(tested, &WsSocket::closed, tested, [outcome](int code) {
        outcome->order.append(QStringLiteral("closed %1").arg(code));
        outcome->closedAfter = outcome->clock.elapsed();
    });
    const auto pinged = [&] {
        for (const Frame &frame : peerFrames()) {
            if (frame.opcode() == kPing)
                return true;
        }
        return false;
    };
    const bool ended = waitFor([&] {
        if (outcome->pingSeenAfter < 0 && pinged())
            outcome->pingSeenAfter = outcome->clock.elapsed();
        return outcome->closedAfter >= 0;
    }, 10000);
    // (Gone with a server-side socket, deleted after closed().)
    QObject::disconnect(errors);
    QObject::disconnect(closed);
    QVERIFY(ended);

    QVERIFY2(outcome->pingSeenAfter >= atLeast(pingInterval),
             qPrintable(QStringLiteral("ping after %1 ms").arg(outcome->pingSeenAfter)));
    QVERIFY2(outcome->closedAfter - outcome->pingSeenAfter >= mostOf(effectiveTimeout),
             qPrintable(QStringLiteral("ping at %1 ms, closed at %2 ms")
                                .arg(outcome->pingSeenAfter)
                                .arg(outcome->closedAfter)));
    QCOMPARE(outcome->order, (QStringList{QStringLiteral("error"), QStringLiteral("closed 1006")}));
    QCOMPARE(outcome->errors.first().code(), WsError::Timeout);
    QVERIFY2(outcome->errors.first().message().contains(QStringLiteral("%1 ms").arg(effectiveTimeout)),
             qPrintable(outcome->errors.first().message()));
}

void tst_Heartbeat::silentServer_data()
{
    QTest::addColumn<int>("pingInterval");
    QTest::addColumn<int>("pongTimeout");
    QTest::addColumn<int>("effectiveTimeout");

    QTest::newRow("timeout shorter") << 200 << 100 << 100;
    QTest::newRow("timeout longer") << 100 << 400 << 400;
    QTest::newRow("timeout 0 is the interval") << 300 << 0 << 300;
}

// The client's peer completes the handshake and then says nothing at all.
void tst_Heartbeat::silentServer()
{
    QFETCH(int, pingInterval);
    QFETCH(int, pongTimeout);
    QFETCH(int, effectiveTimeout);

    SilentServer peer;
    SilenceOutcome outcome;
    outcome.clock.start();
    WsSocket client;
    const WsClientOptions options = withConnectionOptions(WsClientOptions(), heartbeat(pingInterval, pongTimeout));
    QVERIFY(!client.open(peer.url(), {}, options).isError());
    QVERIFY(waitFor([&] { return client.readyState() == WsSocket::Open; }));
    expectTimeout(&client, [&] { return peer.frames(); }, &outcome, pingInterval, effectiveTimeout);
    if (QTest::currentTestFailed())
        return;

    // One ping, masked as a client's frames are, with no payload; no close frame.
    QCOMPARE(peer.frames().size(), 1);
    const QByteArray ping = peer.frames().first().raw;
    QCOMPARE(ping.size(), 6);
    QCOMPARE(ping.left(2), QByteArray::fromHex("8980"));
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QVERIFY(waitFor([&] { return peer.isClosed(); }));
}

void tst_Heartbeat::silentClient_data()
{
    silentServer_data();
}

// The server's peer completes the handshake and then says nothing at all.
void tst_Heartbeat::silentClient()
{
    QFETCH(int, pingInterval);
    QFETCH(int, pongTimeout);
    QFETCH(int, effectiveTimeout);

    WsServer server(localOptions(withConnectionOptions(WsServerOptions(), heartbeat(pingInterval, pongTimeout))));
    QPointer<WsSocket> accepted;
    connect(&server, &WsServer::newConnection, this, [&](WsSocket *socket) { accepted = socket; });
    SilenceOutcome outcome;
    outcome.clock.start();
    RawClient peer;
    QVERIFY(peer.connectAndUpgrade(server.address().port));
    QVERIFY(waitFor([&] { return !accepted.isNull(); }));

    QList<Frame> frames;
    const auto peerFrames = [&] {
        Frame frame;
        while (takeFrame(&peer.received(), &frame))
            frames.append(frame);
        return frames;
    };
    expectTimeout(accepted, peerFrames, &outcome, pingInterval, effectiveTimeout);
    if (QTest::currentTestFailed())
        return;

    // One ping, unmasked as a server's frames are, with no payload; no
    // close frame: the connection is just dropped.
    QVERIFY(waitFor([&] { return peer.isClosed(); }));
    QCOMPARE(peerFrames().size(), 1);
    QCOMPARE(peerFrames().first().raw, QByteArray::fromHex("8900"));
    QCOMPARE(server.statistics().connectionsOpen, 0);
}

void tst_Heartbeat::livePeer_data()
{
    QTest::addColumn<bool>("testedIsClient");

    QTest::newRow("client pings") << true;
    QTest::newRow("server pings") << false;
}

// A peer with autoPong answers every ping: the connection stays over many
// intervals, each ping answered.
void tst_Heartbeat::livePeer()
{
    QFETCH(bool, testedIsClient);
    Link link;
    QVERIFY(link.open(testedIsClient, heartbeat(100, 100), WsConnectionOptions()));
    QSignalSpy peerPings(link.peer, &WsSocket::pingReceived);
    QSignalSpy pongs(link.tested, &WsSocket::pongReceived);
    QSignalSpy errors(link.tested, &WsSocket::errorOccurred);
    QSignalSpy closed(link.tested, &WsSocket::closed);

    // Six intervals at the least, each with its silence answered.
    QVERIFY(waitFor([&] { return peerPings.size() >= 6 || !closed.isEmpty(); }, 10000));
    QCOMPARE(closed.size(), 0);
    QCOMPARE(errors.size(), 0);
    QVERIFY(waitFor([&] { return pongs.size() >= 6; }));
    QCOMPARE(link.tested->readyState(), WsSocket::Open);

    // And it still carries messages both ways.
    QSignalSpy peerMessages(link.peer, &WsSocket::messageReceived);
    link.tested->sendText(QStringLiteral("alive"));
    QVERIFY(waitFor([&] { return !peerMessages.isEmpty(); }));
    QCOMPARE(peerMessages.first().at(0).toByteArray(), QByteArray("alive"));
}

void tst_Heartbeat::anythingReceivedCountsAsLife_data()
{
    QTest::addColumn<bool>("testedIsClient");
    QTest::addColumn<int>("pingInterval");
    QTest::addColumn<int>("pongTimeout");
    QTest::addColumn<int>("period");        // between the peer's messages
    QTest::addColumn<bool>("pingsSeen");

    // Messages come more often than the interval: no silence, no ping.
    QTest::newRow("client, frequent data") << true << 150 << 100 << 30 << false;
    QTest::newRow("server, frequent data") << false << 150 << 100 << 30 << false;
    // Silences long enough for pings, which are never answered: each
    // message arrives within the timeout and counts as the answer.
    QTest::newRow("client, data within the timeout") << true << 100 << 400 << 150 << true;
    QTest::newRow("server, data within the timeout") << false << 100 << 400 << 150 << true;
}

// A peer that never answers a ping but keeps sending messages is alive.
void tst_Heartbeat::anythingReceivedCountsAsLife()
{
    QFETCH(bool, testedIsClient);
    QFETCH(int, pingInterval);
    QFETCH(int, pongTimeout);
    QFETCH(int, period);
    QFETCH(bool, pingsSeen);

    WsConnectionOptions mute;
    mute.autoPong = false;
    Link link;
    QVERIFY(link.open(testedIsClient, heartbeat(pingInterval, pongTimeout), mute));
    QSignalSpy peerPings(link.peer, &WsSocket::pingReceived);
    QSignalSpy pongs(link.tested, &WsSocket::pongReceived);
    QSignalSpy messages(link.tested, &WsSocket::messageReceived);
    QSignalSpy errors(link.tested, &WsSocket::errorOccurred);
    QSignalSpy closed(link.tested, &WsSocket::closed);
    keepSending(link.peer, period);

    // Far longer than pingInterval + pongTimeout.
    const int wanted = 3 * (pingInterval + pongTimeout) / period + 1;
    QVERIFY(waitFor([&] { return messages.size() >= wanted || !closed.isEmpty(); }, 20000));
    QCOMPARE(errors.size(), 0);
    QCOMPARE(closed.size(), 0);
    QCOMPARE(link.tested->readyState(), WsSocket::Open);
    QCOMPARE(pongs.size(), 0);
    if (pingsSeen)
        QVERIFY2(!peerPings.isEmpty(), "the silences between messages were pinged");
}

// Without pingInterval nothing is pinged, however long the silence: a
// connection with the heartbeat on is the clock.
void tst_Heartbeat::offByDefault()
{
    QCOMPARE(WsConnectionOptions().pingInterval, 0);
    QCOMPARE(WsServerOptions().pingInterval, 0);
    QCOMPARE(WsClientOptions().pingInterval, 0);

    WsServer server(localOptions());
    QList<QPointer<WsSocket>> accepted;
    connect(&server, &WsServer::newConnection, this, [&](WsSocket *socket) { accepted.append(socket); });
    const quint16 port = server.address().port;
    const std::unique_ptr<WsSocket> quiet = openClient(port);
    QVERIFY(quiet);
    QVERIFY(waitFor([&] { return accepted.size() == 1; }));
    const std::unique_ptr<WsSocket> beating =
            openClient(port, QStringLiteral("/"), {}, withConnectionOptions(WsClientOptions(), heartbeat(50)));
    QVERIFY(beating);
    QVERIFY(waitFor([&] { return accepted.size() == 2; }));

    QSignalSpy quietServerPings(accepted.at(0), &WsSocket::pingReceived);
    QSignalSpy quietClientPings(quiet.get(), &WsSocket::pingReceived);
    QSignalSpy clockPings(accepted.at(1), &WsSocket::pingReceived);
    QVERIFY(waitFor([&] { return clockPings.size() >= 5; }));
    QCOMPARE(quietServerPings.size(), 0);
    QCOMPARE(quietClientPings.size(), 0);
    QCOMPARE(quiet->readyState(), WsSocket::Open);
    QCOMPARE(quiet->statistics().roundTripTime, -1);
}

void tst_Heartbeat::roundTripTime_data()
{
    QTest::addColumn<bool>("testedIsClient");
    QTest::addColumn<bool>("byHeartbeat");
    QTest::addColumn<int>("pongDelay");

    QTest::newRow("client, ping(), prompt pong") << true << false << 0;
    QTest::newRow("client, ping(), late pong") << true << false << 150;
    QTest::newRow("client, heartbeat, late pong") << true << true << 150;
    QTest::newRow("server, ping(), late pong") << false << false << 150;
    QTest::newRow("server, heartbeat, late pong") << false << true << 150;
}

// The time between a ping and the pong that answers it.
void tst_Heartbeat::roundTripTime()
{
    QFETCH(bool, testedIsClient);
    QFETCH(bool, byHeartbeat);
    QFETCH(int, pongDelay);

    WsConnectionOptions peerOptions;
    peerOptions.autoPong = false;
    Link link;
    QVERIFY(link.open(testedIsClient, byHeartbeat ? heartbeat(100, 2000) : WsConnectionOptions(), peerOptions));
    WsSocket *peer = link.peer;
    connect(peer, &WsSocket::pingReceived, peer, [peer, pongDelay](const QByteArray &payload) {
        QTimer::singleShot(pongDelay, peer, [peer, payload] { peer->pong(payload); });
    });
    QCOMPARE(link.tested->statistics().roundTripTime, -1);

    QSignalSpy pongs(link.tested, &WsSocket::pongReceived);
    if (!byHeartbeat)
        QVERIFY(!link.tested->ping("rtt").isError());
    QVERIFY(waitFor([&] { return !pongs.isEmpty(); }));
    const int rtt = link.tested->statistics().roundTripTime;
    QVERIFY2(rtt >= atLeast(pongDelay), qPrintable(QStringLiteral("round trip %1 ms").arg(rtt)));
    QVERIFY2(rtt < pongDelay + 5000, qPrintable(QStringLiteral("round trip %1 ms").arg(rtt)));
    QCOMPARE(link.tested->readyState(), WsSocket::Open);
}

QTEST_MAIN(tst_Heartbeat)

#include "tst_heartbeat.moc"
