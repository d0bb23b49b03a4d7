// Backpressure on a server's connection to a peer that does not read: the
// high- and low-water marks (trySend, isBackpressured, drained), the hard
// bound maxBufferedAmount with either overflow policy, broadcast's policies
// for slow clients, and memory that stays bounded.
//
// The slow peer's receive buffer and the server's send buffers are made
// small, so the network holds only some kilobytes of what is queued.

#include "residentmemory.h"
#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qfile.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qpointer.h>
#include <QtCore/qscopeguard.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>


#include <memory>

using namespace serverpeers;

using namespace wsqt::test;

namespace {

constexpr int kSocketBufferSize = 8192;
// A message whose frame has a 4-byte header (length 126..65535), unmasked from a server.
constexpr qsizetype kMessageSize = 60000;
constexpr qsizetype kFrameSize = kMessageSize + 4;

QByteArray message(char fill, qsizetype size = kMessageSize)
{
    return QByteArray(size, fill);
}

// Accepts connections with a small kernel send buffer.
class SmallBufferTcpServer : public QTcpServer
{
protected:
    void incomingConnection(qintptr descriptor) override
    {
        const int size = kSocketBufferSize;
        ::setsockopt(int(descriptor), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        auto *socket = new QTcpSocket(this);
        socket->setSocketDescriptor(descriptor);
        addPendingConnection(socket);
    }
};

// A WebSocket client (hand-made frames) that stops reading after its
// upgrade until told to start, with a small kernel receive buffer.
class SlowPeer
{
public:
    bool connectAndUpgrade(quint16 port)
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return false;
        // Before connect(), so that the window is small from the start.
        const int size = kSocketBufferSize / 2;
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        sockaddr_in address = {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0
            || !m_raw.socket()->setSocketDescriptor(fd)) {
            ::close(fd);
            return false;
        }
        if (!m_raw.upgrade())
            return false;
        m_raw.socket()->setReadBufferSize(1024);
        return true;
    }

    quint16 localPort() const { return m_raw.socket()->localPort(); }
    RawClient &raw() { return m_raw; }

    void startReading() { m_raw.socket()->setReadBufferSize(0); }

    // Reads frames (reading must have started) until `done` says so.
    bool readFramesUntil(const std::function<bool(const Frame &)> &done, int timeout = kWaitMs)
    {
        return waitFor([&] {
            Frame frame;
            while (takeFrame(&m_raw.received(), &frame)) {
                m_frames.append(frame);
                if (done(frame))
                    return true;
            }
            return false;
        }, timeout);
    }

    const QList<Frame> &frames() const { return m_frames; }

    // Answers the close frame that was read last, as a peer must.
    void echoClose()
    {
        m_raw.sendFrame(0x88, m_frames.last().payload);
    }

private:
    RawClient m_raw;
    QList<Frame> m_frames;
};

bool isClose(const Frame &frame)
{
    return frame.opcode() == 0x8;
}

int closeCode(const Frame &frame)
{
    return frame.payload.size() >= 2 ? (quint8(frame.payload[0]) << 8) | quint8(frame.payload[1]) : 1005;
}

// A server whose connections echo what they receive, over small send
// buffers, and the connections it made in order.
class Server
{
public:
    explicit Server(WsServerOptions options)
    {
        m_tcp.listen(QHostAddress::LocalHost, 0);
        options.server = &m_tcp;
        m_server = std::make_unique<WsServer>(options);
        QObject::connect(m_server.get(), &WsServer::newConnection, m_server.get(), [this](WsSocket *socket) {
            echoMessages(socket);
            m_accepted.append(socket);
        });
    }

    WsServer *server() const { return m_server.get(); }
    quint16 port() const { return m_tcp.serverPort(); }

    // The server's side of the connection from local port `port`.
    WsSocket *acceptedFrom(quint16 port)
    {
        WsSocket *found = nullptr;
        waitFor([&] {
            for (const QPointer<WsSocket> &socket : std::as_const(m_accepted)) {
                if (socket && socket->peerPort() == port)
                    found = socket;
            }
            return found != nullptr;
        });
        return found;
    }

private:
    SmallBufferTcpServer m_tcp;
    std::unique_ptr<WsServer> m_server;
    QList<QPointer<WsSocket>> m_accepted;
};

WsServerOptions markOptions(qint64 high, qint64 low)
{
    WsServerOptions options;
    options.highWaterMark = high;
    options.lowWaterMark = low;
    return options;
}

// Lets the event loop run through `rounds` echo round trips of `client`:
// by then a connection whose peer does not read has filled what the
// network holds, and its state no longer changes.
bool settle(WsSocket *client, int rounds = 20)
{
    QSignalSpy echoes(client, &WsSocket::messageReceived);
    for (int i = 0; i < rounds; ++i) {
        client->sendText(QStringLiteral("tick"));
        if (!waitFor([&] { return echoes.size() > i; }))
            return false;
    }
    return true;
}

} // namespace

class tst_Backpressure : public QObject
{
    Q_OBJECT

private slots:
    void watermarks();
    void drainedOnceAtTheLowMark();
    void overflowRefused();
    void overflowCloses();
    void overflowBoundIncludesFraming();
    void broadcastPolicies_data();
    void broadcastPolicies();
    void broadcastExcept();
    void memoryBounded();
    void streamsBothWaysDoNotStall();
};

// Below the high-water mark a send is Sent; the one that reaches it and all
// after it are Backpressure, until the peer reads.
void tst_Backpressure::watermarks()
{
    Server server(markOptions(4 * kFrameSize + 1, 64 * 1024));
    SlowPeer peer;
    QVERIFY(peer.connectAndUpgrade(server.port()));
    WsSocket *sender = server.acceptedFrom(peer.localPort());
    QVERIFY(sender);
    const std::unique_ptr<WsSocket> clock = openClient(server.port());
    QVERIFY(clock);
    QSignalSpy drained(sender, &WsSocket::drained);

    QCOMPARE(sender->bufferedAmount(), 0);
    QVERIFY(!sender->isBackpressured());
    // Nothing is written to the network before the event loop runs: each
    // frame, header included, is counted at once.
    const QList<WsSocket::SendStatus> expected = {WsSocket::Sent, WsSocket::Sent, WsSocket::Sent,
                                                  WsSocket::Sent, WsSocket::Backpressure, WsSocket::Backpressure};
    for (qsizetype i = 0; i < expected.size(); ++i) {
        QCOMPARE(sender->trySend(message(char('a' + i))), expected[i]);
        QCOMPARE(sender->bufferedAmount(), (i + 1) * kFrameSize);
        QCOMPARE(sender->isBackpressured(), expected[i] == WsSocket::Backpressure);
    }
    QCOMPARE(sender->statistics().bufferedAmount, expected.size() * kFrameSize);

    // The network takes a few kilobytes, then nothing more: still pressed.
    QVERIFY(settle(clock.get()));
    QVERIFY2(sender->bufferedAmount() > 64 * 1024,
             qPrintable(QStringLiteral("%1 bytes left").arg(sender->bufferedAmount())));
    QVERIFY(sender->isBackpressured());
    QCOMPARE(sender->trySend(message('x', 10)), WsSocket::Backpressure);
    QCOMPARE(drained.size(), 0);

    peer.startReading();
    QVERIFY(peer.readFramesUntil([](const Frame &frame) { return frame.payload == "xxxxxxxxxx"; }));
    QCOMPARE(peer.frames().size(), expected.size() + 1);
    for (qsizetype i = 0; i < expected.size(); ++i)
        QCOMPARE(peer.frames().at(i).payload, message(char('a' + i)));
    QTRY_COMPARE(drained.size(), 1);
    QVERIFY(!sender->isBackpressured());
    QCOMPARE(sender->trySend(message('y', 10)), WsSocket::Sent);
}

// drained() comes once, when bufferedAmount has fallen to the low mark.
void tst_Backpressure::drainedOnceAtTheLowMark()
{
    constexpr qint64 low = 100 * 1024;
    Server server(markOptions(256 * 1024, low));
    SlowPeer peer;
    QVERIFY(peer.connectAndUpgrade(server.port()));
    WsSocket *sender = server.acceptedFrom(peer.localPort());
    QVERIFY(sender);
    const std::unique_ptr<WsSocket> clock = openClient(server.port());
    QVERIFY(clock);

    QList<qint64> amountsAtDrained;
    connect(sender, &WsSocket::drained, this, [&] { amountsAtDrained.append(sender->bufferedAmount()); });
    constexpr int count = 20;   // about 1.2 MB
    for (int i = 0; i < count; ++i)
        sender->send(message(char('a' + i)));
    QVERIFY(sender->isBackpressured());
    QVERIFY(settle(clock.get()));
    QVERIFY(amountsAtDrained.isEmpty());

    peer.startReading();
    QVERIFY(peer.readFramesUntil([&](const Frame &) { return peer.frames().size() == count; }, 20000));
    QTRY_VERIFY(sender->bufferedAmount() == 0);
    QCOMPARE(amountsAtDrained.size(), 1);
    QVERIFY2(amountsAtDrained.first() <= low,
             qPrintable(QStringLiteral("drained() at %1 bytes").arg(amountsAtDrained.first())));
    // What was read is what was sent, in order.
    for (int i = 0; i < count; ++i)
        QCOMPARE(peer.frames().at(i).payload, message(char('a' + i)));
}

// With OverflowPolicy::Refuse a send past maxBufferedAmount is refused and
// the connection goes on.
void tst_Backpressure::overflowRefused()
{
    WsServerOptions options;
    options.maxBufferedAmount = 5 * kMessageSize;
    options.overflowPolicy = WsConnectionOptions::OverflowPolicy::Refuse;
    Server server(options);
    SlowPeer peer;
    QVERIFY(peer.connectAndUpgrade(server.port()));
    WsSocket *sender = server.acceptedFrom(peer.localPort());
    QVERIFY(sender);
    QSignalSpy errors(sender, &WsSocket::errorOccurred);
    QSignalSpy closed(sender, &WsSocket::closed);

    // Four frames (240016 bytes) fit; a fifth payload would pass 300000.
    for (int i = 0; i < 4; ++i)
        QCOMPARE(sender->trySend(message(char('a' + i))), WsSocket::Sent);
    QCOMPARE(sender->trySend(message('e')), WsSocket::Dropped);
    QList<WsError> callbackErrors;
    const WsError refused = sender->send(message('f'), {}, [&](const WsError &error) { callbackErrors.append(error); });
    QCOMPARE(refused.code(), WsError::BufferOverflow);
    QVERIFY2(refused.message().contains(QString::number(options.maxBufferedAmount)), qPrintable(refused.message()));
    QCOMPARE(sender->bufferedAmount(), 4 * kFrameSize);
    QVERIFY(waitFor([&] { return !callbackErrors.isEmpty(); }));
    QCOMPARE(callbackErrors.first().code(), WsError::BufferOverflow);
    // A small message still fits.
    QCOMPARE(sender->trySend(message('s', 100)), WsSocket::Sent);
    QCOMPARE(sender->readyState(), WsSocket::Open);
    QCOMPARE(errors.size(), 0);

    // Nothing refused reached the peer; the connection still works.
    peer.startReading();
    QVERIFY(peer.readFramesUntil([](const Frame &frame) { return frame.payload.size() == 100; }));
    QCOMPARE(peer.frames().size(), 5);
    for (int i = 0; i < 4; ++i)
        QCOMPARE(peer.frames().at(i).payload, message(char('a' + i)));
    QTRY_COMPARE(sender->bufferedAmount(), 0);
    QCOMPARE(sender->trySend(message('g')), WsSocket::Sent);
    QVERIFY(peer.readFramesUntil([](const Frame &frame) { return frame.payload == message('g'); }));
    QCOMPARE(errors.size(), 0);
    QCOMPARE(closed.size(), 0);
    QCOMPARE(sender->readyState(), WsSocket::Open);
}

// With OverflowPolicy::Close (the default) the send is refused, an error
// reported, and the connection closed with 1008 after what was queued.
void tst_Backpressure::overflowCloses()
{
    WsServerOptions options;
    options.maxBufferedAmount = 5 * kMessageSize;
    QCOMPARE(options.overflowPolicy, WsConnectionOptions::OverflowPolicy::Close);
    Server server(options);
    SlowPeer peer;
    QVERIFY(peer.connectAndUpgrade(server.port()));
    WsSocket *sender = server.acceptedFrom(peer.localPort());
    QVERIFY(sender);
    QList<WsError> errors;
    connect(sender, &WsSocket::errorOccurred, this, [&](const WsError &error) { errors.append(error); });
    QSignalSpy closed(sender, &WsSocket::closed);

    for (int i = 0; i < 4; ++i)
        QVERIFY(!sender->send(message(char('a' + i))).isError());
    const WsError refused = sender->send(message('e'));
    QCOMPARE(refused.code(), WsError::BufferOverflow);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().code(), WsError::BufferOverflow);
    QCOMPARE(sender->readyState(), WsSocket::Closing);
    QCOMPARE(sender->trySend(message('z', 10)), WsSocket::Dropped);

    // The peer gets what was accepted, then the close frame.
    peer.startReading();
    QVERIFY(peer.readFramesUntil(isClose));
    QCOMPARE(peer.frames().size(), 5);
    for (int i = 0; i < 4; ++i)
        QCOMPARE(peer.frames().at(i).payload, message(char('a' + i)));
    QCOMPARE(closeCode(peer.frames().last()), 1008);
    peer.echoClose();
    QVERIFY(closed.wait(kWaitMs) || !closed.isEmpty());
    QCOMPARE(closed.first().at(0).toInt(), 1008);
    QVERIFY(waitFor([&] { return peer.raw().isClosed(); }));
    QCOMPARE(errors.size(), 1);
}

// maxBufferedAmount bounds bufferedAmount, which counts the frame headers:
// a payload that fits while its header does not is refused.
void tst_Backpressure::overflowBoundIncludesFraming()
{
    WsServerOptions options;
    options.maxBufferedAmount = 2 * kFrameSize - 2;     // the second payload fits, its header not
    options.overflowPolicy = WsConnectionOptions::OverflowPolicy::Refuse;
    Server server(options);
    SlowPeer peer;
    QVERIFY(peer.connectAndUpgrade(server.port()));
    WsSocket *sender = server.acceptedFrom(peer.localPort());
    QVERIFY(sender);

    QCOMPARE(sender->trySend(message('a')), WsSocket::Sent);
    const WsSocket::SendStatus second = sender->trySend(message('b'));
    QVERIFY2(sender->bufferedAmount() <= options.maxBufferedAmount,
             qPrintable(QStringLiteral("bufferedAmount %1 > maxBufferedAmount %2")
                                .arg(sender->bufferedAmount())
                                .arg(options.maxBufferedAmount)));
    QCOMPARE(second, WsSocket::Dropped);
}

void tst_Backpressure::broadcastPolicies_data()
{
    QTest::addColumn<WsServer::BroadcastPolicy>("policy");
    QTest::addColumn<bool>("slowGetsIt");
    QTest::addColumn<bool>("slowDropped");

    QTest::newRow("SendToAll") << WsServer::SendToAll << true << false;
    QTest::newRow("SkipBackpressured") << WsServer::SkipBackpressured << false << false;
    QTest::newRow("DropBackpressured") << WsServer::DropBackpressured << false << true;
}

// A slow client (backpressured) and two fast ones: each policy's treatment
// of the slow one; the fast ones always get the broadcast.
void tst_Backpressure::broadcastPolicies()
{
    QFETCH(WsServer::BroadcastPolicy, policy);
    QFETCH(bool, slowGetsIt);
    QFETCH(bool, slowDropped);

    Server server(markOptions(128 * 1024, 32 * 1024));
    SlowPeer slow;
    QVERIFY(slow.connectAndUpgrade(server.port()));
    WsSocket *slowSide = server.acceptedFrom(slow.localPort());
    QVERIFY(slowSide);
    const std::unique_ptr<WsSocket> fastA = openClient(server.port());
    const std::unique_ptr<WsSocket> fastB = openClient(server.port());
    QVERIFY(fastA && fastB);
    QTRY_COMPARE(server.server()->clients().size(), 3);
    QSignalSpy slowClosed(slowSide, &WsSocket::closed);

    const QByteArray backlog = message('q', 200 * 1024);
    QCOMPARE(slowSide->trySend(backlog), WsSocket::Backpressure);
    QVERIFY(settle(fastA.get()));
    QVERIFY(slowSide->isBackpressured());

    QSignalSpy messagesA(fastA.get(), &WsSocket::messageReceived);
    QSignalSpy messagesB(fastB.get(), &WsSocket::messageReceived);
    WsSendOptions text;
    text.binary = false;
    const int addressed = server.server()->broadcast("broadcast", text, policy);
    if (policy == WsServer::SendToAll)
        QCOMPARE(addressed, 3);
    QVERIFY(waitFor([&] { return !messagesA.isEmpty() && !messagesB.isEmpty(); }));
    QCOMPARE(messagesA.first().at(0).toByteArray(), QByteArray("broadcast"));
    QCOMPARE(messagesB.first().at(0).toByteArray(), QByteArray("broadcast"));
    if (!slowDropped)
        QVERIFY(!slowSide->send("end", text).isError());

    slow.startReading();
    QVERIFY(slow.readFramesUntil([](const Frame &frame) { return frame.payload == "end" || isClose(frame); },
                                 10000));
    QByteArrayList payloads;
    for (const Frame &frame : slow.frames())
        payloads.append(isClose(frame) ? QByteArray("close ") + QByteArray::number(closeCode(frame)) : frame.payload);
    QByteArrayList expected = {backlog};
    if (slowGetsIt)
        expected.append("broadcast");
    expected.append(slowDropped ? QByteArray("close 1008") : QByteArray("end"));
    QCOMPARE(payloads, expected);

    if (slowDropped) {
        slow.echoClose();
        QVERIFY(slowClosed.wait(kWaitMs) || !slowClosed.isEmpty());
        QCOMPARE(slowClosed.first().at(0).toInt(), 1008);
        QTRY_COMPARE(server.server()->clients().size(), 2);
    } else {
        QCOMPARE(slowClosed.size(), 0);
        QCOMPARE(server.server()->clients().size(), 3);
    }
    QCOMPARE(fastA->readyState(), WsSocket::Open);
    QCOMPARE(fastB->readyState(), WsSocket::Open);
}

// `except` leaves one connection out, whatever the policy.
void tst_Backpressure::broadcastExcept()
{
    Server server(WsServerOptions{});
    const std::unique_ptr<WsSocket> a = openClient(server.port());
    QVERIFY(a);
    WsSocket *aSide = server.acceptedFrom(a->localPort());
    const std::unique_ptr<WsSocket> b = openClient(server.port());
    const std::unique_ptr<WsSocket> c = openClient(server.port());
    QVERIFY(aSide && b && c);
    QTRY_COMPARE(server.server()->clients().size(), 3);

    QSignalSpy messagesA(a.get(), &WsSocket::messageReceived);
    QSignalSpy messagesB(b.get(), &WsSocket::messageReceived);
    QSignalSpy messagesC(c.get(), &WsSocket::messageReceived);
    QCOMPARE(server.server()->broadcast("to the others", {}, WsServer::SendToAll, aSide), 2);
    // The message after it shows that `a` got nothing before.
    QVERIFY(!aSide->send("only to a").isError());
    QVERIFY(waitFor([&] { return !messagesA.isEmpty() && !messagesB.isEmpty() && !messagesC.isEmpty(); }));
    QCOMPARE(messagesA.first().at(0).toByteArray(), QByteArray("only to a"));
    QCOMPARE(messagesB.first().at(0).toByteArray(), QByteArray("to the others"));
    QCOMPARE(messagesC.first().at(0).toByteArray(), QByteArray("to the others"));
    QCOMPARE(messagesB.size(), 1);
    QCOMPARE(messagesC.size(), 1);
}

// However much is sent to a peer that does not read, maxBufferedAmount
// keeps what is held: 64 MiB offered, at most 1 MiB queued.
void tst_Backpressure::memoryBounded()
{
    constexpr qint64 bound = 1024 * 1024;
    WsServerOptions options;
    options.maxBufferedAmount = bound;
    options.overflowPolicy = WsConnectionOptions::OverflowPolicy::Refuse;
    Server server(options);
    SlowPeer peer;
    QVERIFY(peer.connectAndUpgrade(server.port()));
    WsSocket *sender = server.acceptedFrom(peer.localPort());
    QVERIFY(sender);
    const std::unique_ptr<WsSocket> clock = openClient(server.port());
    QVERIFY(clock);

    // A warning for each of the thousand refusals says nothing new here.
    QLoggingCategory::setFilterRules(QStringLiteral("wsqt.socket.warning=false"));
    const auto restoreWarnings = qScopeGuard([] { QLoggingCategory::setFilterRules(QString()); });
    const QByteArray chunk = message('m', 64 * 1024);
    const qint64 before = residentBytes();
    int sent = 0;
    int dropped = 0;
    for (int round = 0; round < 16; ++round) {
        for (int i = 0; i < 64; ++i) {
            // A copy each time, as an application making new data would.
            QByteArray data = chunk;
            data.detach();
            if (sender->trySend(data) == WsSocket::Dropped)
                ++dropped;
            else
                ++sent;
            QVERIFY(sender->bufferedAmount() <= bound + 14);
        }
        QVERIFY(settle(clock.get(), 2));
    }
    const qint64 growth = residentBytes() - before;
    QVERIFY2(sent * chunk.size() <= bound + 512 * 1024,
             qPrintable(QStringLiteral("%1 messages taken").arg(sent)));
    QCOMPARE(sent + dropped, 16 * 64);
    if (kResidentSizeIsHeld) {
        QVERIFY2(growth < 16 * 1024 * 1024,
                 qPrintable(QStringLiteral("resident memory grew by %1 bytes").arg(growth)));
    }
    QCOMPARE(sender->readyState(), WsSocket::Open);

    peer.startReading();
    QVERIFY(peer.readFramesUntil([&](const Frame &) { return peer.frames().size() == sent; }, 20000));
}

// A client and a server that both stream more than the watermarks, each
// pacing itself with drained(): neither stops reading for its own stream,
// so both streams complete (with reads stopped on both sides, each would
// wait for the other until backpressureTimeout).
void tst_Backpressure::streamsBothWaysDoNotStall()
{
    WsServerOptions options = localOptions();
    options.backpressureTimeout = 0;
    WsServer server(options);
    QPointer<WsSocket> serverSide;
    connect(&server, &WsServer::newConnection, &server, [&](WsSocket *socket) { serverSide = socket; });
    const std::unique_ptr<WsSocket> client = openClient(server.address().port);
    QVERIFY(client);
    QVERIFY(waitFor([&] { return !serverSide.isNull(); }));

    constexpr int kMessages = 256;    // 16 MiB each way
    constexpr qsizetype kSize = 65536;
    struct Stream
    {
        WsSocket *socket;
        int sent = 0;
        int received = 0;
    };
    Stream streams[] = {{client.get()}, {serverSide.data()}};
    for (Stream &stream : streams) {
        const auto sendUntilBackpressure = [&stream] {
            while (stream.sent < kMessages) {
                if (stream.socket->trySend(message(char(stream.sent++), kSize)) == WsSocket::Backpressure)
                    return;
            }
        };
        connect(stream.socket, &WsSocket::drained, stream.socket, sendUntilBackpressure);
        connect(stream.socket, &WsSocket::messageReceived, stream.socket, [&stream](const QByteArray &data) {
            if (data == message(char(stream.received), kSize))
                ++stream.received;
        });
        sendUntilBackpressure();
    }
    QVERIFY(waitFor([&] { return streams[0].received == kMessages && streams[1].received == kMessages; },
                    30000));
}

QTEST_MAIN(tst_Backpressure)

#include "tst_backpressure.moc"
