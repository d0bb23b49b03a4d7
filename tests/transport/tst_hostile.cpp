// Hostile clients against a WsServer over real sockets: each gets a clear
// answer (an HTTP status or a close frame) in bounded time and memory, and
// the server serves a normal client right after.

#include "residentmemory.h"
#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

using namespace serverpeers;

using namespace wsqt::test;

namespace {

constexpr qint64 kMiB = 1024 * 1024;

const QByteArray kHeadTooLarge = statusOnly("HTTP/1.1 431 Request Header Fields Too Large");
const QByteArray kUriTooLong = statusOnly("HTTP/1.1 414 URI Too Long");

// Whether the memory held grew by less than `bound` since `before`.
bool grewLessThan(qint64 before, qint64 bound)
{
    const qint64 growth = residentBytes() - before;
    if (growth >= bound)
        qWarning("resident memory grew by %lld bytes", growth);
    return !kResidentSizeIsHeld || growth < bound;
}

// A close frame from the server (unmasked) with just a code.
QByteArray closeFrame(quint16 code)
{
    return QByteArray::fromHex("8802") + char(code >> 8) + char(code & 0xFF);
}

// One binary message in `count` (at least 2) masked frames, each with `payload`.
QByteArray fragmentedMessage(int count, const QByteArray &payload)
{
    const QByteArray middle = frame(0x00, payload);
    QByteArray bytes;
    bytes.reserve(middle.size() * count);
    bytes += frame(0x02, payload);
    for (int i = 1; i < count - 1; ++i)
        bytes += middle;
    return bytes + frame(0x80, payload);
}

using VerifyDone = std::function<void(const WsVerifyClientResult &)>;

// A verifyClientAsync that keeps the first client waiting, its answer left
// in `pending`, and accepts the others at once.
auto holdFirstClient(VerifyDone *pending)
{
    return [pending](const WsVerifyClientInfo &, VerifyDone done) {
        if (*pending)
            done(WsVerifyClientResult());
        else
            *pending = std::move(done);
    };
}

// Writes `bytes` in large pieces, letting the server run in between.
bool writeAll(RawClient &client, const QByteArray &bytes)
{
    constexpr qsizetype piece = 1 << 20;
    for (qsizetype at = 0; at < bytes.size(); at += piece) {
        client.write(bytes.mid(at, piece));
        if (!waitFor([&] { return client.socket()->bytesToWrite() < piece || client.isClosed(); }))
            return false;
        if (client.isClosed())
            return true;
    }
    return true;
}

// The server-side socket of the next connection.
struct Accepted
{
    explicit Accepted(WsServer *server) : spy(server, &WsServer::newConnection) { }

    WsSocket *socket()
    {
        if (!waitFor([this] { return !spy.isEmpty(); }, kWaitMs))
            return nullptr;
        return spy.first().at(0).value<WsSocket *>();
    }

    QSignalSpy spy;
};

// A TCP client below Qt, which can keep its side open after the server's
// FIN and keep sending: QTcpSocket closes itself at the end of the stream.
class StubbornClient
{
public:
    enum class Sent { All, Blocked, Reset };

    StubbornClient() = default;
    Q_DISABLE_COPY_MOVE(StubbornClient)
    ~StubbornClient()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    bool connectTo(quint16 port)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address = {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // The kernel completes a loopback connection to a listening socket
        // without the server's event loop.
        if (::connect(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
            return false;
        return ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK) == 0;
    }

    // Blocked when the server took nothing for `timeout` ms (TCP pushes back).
    Sent send(const QByteArray &bytes, int timeout = kWaitMs)
    {
        qsizetype sent = 0;
        QElapsedTimer idle;
        idle.start();
        while (sent < bytes.size()) {
            const ssize_t n = ::send(m_fd, bytes.constData() + sent, size_t(bytes.size() - sent), MSG_NOSIGNAL);
            if (n > 0) {
                sent += n;
                idle.restart();
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return Sent::Reset;
            if (idle.elapsed() > timeout)
                return Sent::Blocked;
            QTest::qWait(1);
        }
        return Sent::All;
    }

    // What arrived and was not taken yet.
    QByteArray &received()
    {
        char buffer[4096];
        while (!m_ended) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n > 0) {
                m_received.append(buffer, n);
                continue;
            }
            m_ended = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
            break;
        }
        return m_received;
    }

    // Whether the server's FIN (or a reset) came.
    bool ended()
    {
        received();
        return m_ended;
    }

    // Sends a valid upgrade request and reads up to the end of the response head.
    bool upgrade()
    {
        if (send(upgradeRequest()) != Sent::All
            || !waitFor([this] { return received().contains("\r\n\r\n"); })) {
            return false;
        }
        const bool switched = m_received.startsWith("HTTP/1.1 101 ");
        m_received.remove(0, m_received.indexOf("\r\n\r\n") + 4);
        return switched;
    }

private:
    int m_fd = -1;
    QByteArray m_received;
    bool m_ended = false;
};

} // namespace

class tst_Hostile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    // Opening handshake
    void stalledHandshake();
    void trickledHandshake();
    void oversizedHead_data();
    void oversizedHead();
    void hostileHandshakeHeaders_data();
    void hostileHandshakeHeaders();
    void rejectedClientKeepsSending_data();
    void rejectedClientKeepsSending();
    void floodDuringVerification();
    void floodWhilePaused();

    // Frames
    void oversizeFrameHeader_data();
    void oversizeFrameHeader();
    void fragmentFlood_data();
    void fragmentFlood();
    void unfinishedMessageNearLimit();
    void protocolViolations_data();
    void protocolViolations();
    void compressedHostile_data();
    void compressedHostile();

    // The connection
    void slowReader();
    void disconnectMidHandshake_data();
    void disconnectMidHandshake();
    void disconnectMidMessage();
    void peerNeverAnswersClose();
    void dataAfterCloseFrame();
};

void tst_Hostile::initTestCase()
{
    qRegisterMetaType<WsSocket *>();
    qRegisterMetaType<WsError>();
    qRegisterMetaType<WsHttpRequest>();
}

// ---- Opening handshake --------------------------------------------------------

void tst_Hostile::stalledHandshake()
{
    WsServerOptions options;
    options.handshakeTimeout = 300;
    const std::unique_ptr<WsServer> server = echoServer(options);
    const quint16 port = server->address().port;

    RawClient silent;
    QVERIFY(silent.connectTo(port));
    QElapsedTimer timer;
    timer.start();
    RawClient halfRequest;
    QVERIFY(halfRequest.connectTo(port));
    halfRequest.write(upgradeRequest().left(40));

    // Others are served while those two wait.
    QVERIFY(echoes(port));

    QCOMPARE(silent.readUntilClosed(), kTimeout);
    QCOMPARE(halfRequest.readUntilClosed(), kTimeout);
    QVERIFY2(timer.elapsed() >= 250 && timer.elapsed() < 3000, QByteArray::number(timer.elapsed()));
    QVERIFY(echoes(port));
}

void tst_Hostile::trickledHandshake()
{
    WsServerOptions options;
    options.handshakeTimeout = 300;
    const std::unique_ptr<WsServer> server = echoServer(options);
    const quint16 port = server->address().port;

    const QByteArray request = upgradeRequest();
    RawClient trickler;
    QVERIFY(trickler.connectTo(port));
    qsizetype sent = 0;
    QTimer drip;
    QObject::connect(&drip, &QTimer::timeout, &drip, [&] {
        if (sent < request.size() && !trickler.isClosed())
            trickler.write(request.mid(sent++, 1));
    });
    drip.start(50);
    QElapsedTimer timer;
    timer.start();

    QVERIFY(echoes(port));
    // Each byte arriving does not restart the timer.
    QCOMPARE(trickler.readUntilClosed(), kTimeout);
    QVERIFY2(timer.elapsed() >= 250 && timer.elapsed() < 3000, QByteArray::number(timer.elapsed()));
    QVERIFY(sent < request.size());
    drip.stop();
    QVERIFY(echoes(port));
}

void tst_Hostile::oversizedHead_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("answer");

    const QByteArray valid = upgradeRequest();
    const QByteArray startLine = valid.left(valid.indexOf("\r\n") + 2);
    const QByteArray fields = valid.mid(startLine.size());

    QByteArray manyLines = startLine;
    for (int i = 0; i < 10000; ++i)
        manyLines += "X-Field-" + QByteArray::number(i) + ": v\r\n";
    QTest::newRow("10 000 header lines") << manyLines + fields << kHeadTooLarge;

    QTest::newRow("a header line over 8 KiB")
            << startLine + "X-Big: " + QByteArray(8 * 1024 + 1, 'a') + "\r\n" + fields << kHeadTooLarge;

    QTest::newRow("a request line over the limit")
            << "GET /" + QByteArray(9000, 'a') + " HTTP/1.1\r\n" + fields << kUriTooLong;

    // Lines each under the line limit, never ending the head.
    QByteArray endless = startLine;
    for (int i = 0; i < 10; ++i)
        endless += "X-Long-" + QByteArray::number(i) + ": " + QByteArray(8000, 'b') + "\r\n";
    QTest::newRow("no CRLFCRLF within the head limit") << endless << kHeadTooLarge;

    QTest::newRow("a line with no LF") << startLine + QByteArray(100 * 1024, 'c') << kHeadTooLarge;
}

void tst_Hostile::oversizedHead()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, answer);

    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    QElapsedTimer timer;
    timer.start();
    client.write(request);
    QCOMPARE(client.readUntilClosed(), answer);
    QVERIFY2(timer.elapsed() < 2000, QByteArray::number(timer.elapsed()));
    QVERIFY(connections.isEmpty());
    QVERIFY(echoes(server->address().port));
}

void tst_Hostile::hostileHandshakeHeaders_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("answer");        // the whole answer, or the head of a 101

    // Big enough that work quadratic in the field's length would show.
    QTest::newRow("100k spaces in one protocol field")
            << upgradeRequest("/", {{"Sec-WebSocket-Protocol", "a" + QByteArray(100000, ' ') + ", b"}})
            << kHeadTooLarge;
    WsHttpHeaders spread;
    for (int i = 0; i < 7; ++i) {
        spread.append("Sec-WebSocket-Protocol",
                      'p' + QByteArray::number(i) + QByteArray(8000, ' ') + ", q" + QByteArray::number(i));
    }
    QTest::newRow("56k spaces between protocols")
            << upgradeRequest("/", spread)
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: p0\r\n"
                          "\r\n");
    QTest::newRow("non-ASCII protocol")
            << upgradeRequest("/", {{"Sec-WebSocket-Protocol", "caf\xc3\xa9"}}) << kInvalidProtocol;
    QTest::newRow("a byte 0xff in a protocol")
            << upgradeRequest("/", {{"Sec-WebSocket-Protocol", "a\xff"}}) << kInvalidProtocol;
    QTest::newRow("a control byte in a protocol")
            << upgradeRequest("/", {{"Sec-WebSocket-Protocol", "a\x01z"}})
            << statusOnly("HTTP/1.1 400 Bad Request");
    QTest::newRow("leading comma") << upgradeRequest("/", {{"Sec-WebSocket-Protocol", ",a"}}) << kInvalidProtocol;
    QTest::newRow("trailing comma") << upgradeRequest("/", {{"Sec-WebSocket-Protocol", "a,"}}) << kInvalidProtocol;
    QTest::newRow("empty protocol field") << upgradeRequest("/", {{"Sec-WebSocket-Protocol", ""}})
                                          << kInvalidProtocol;
    QTest::newRow("unclosed quote with 4000 escapes")
            << upgradeRequest("/", {{"Sec-WebSocket-Extensions",
                                     "permessage-deflate; x=\"" + QByteArray("\\x").repeated(4000)}})
            << kInvalidExtensions;
    QTest::newRow("160 invalid deflate offers")
            << upgradeRequest("/", {{"Sec-WebSocket-Extensions",
                                     QByteArray("permessage-deflate; server_max_window_bits=7, ").repeated(160)
                                             + "permessage-deflate"}})
            << kInvalidExtensions;
}

void tst_Hostile::hostileHandshakeHeaders()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, answer);

    WsServerOptions options;
    options.perMessageDeflate = WsDeflateOptions();
    const std::unique_ptr<WsServer> server = echoServer(options);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    QElapsedTimer timer;
    timer.start();
    client.write(request);
    if (answer.startsWith("HTTP/1.1 101")) {
        QVERIFY(client.waitForBytes(answer.size()));
        QCOMPARE(client.received(), answer);
    } else {
        QCOMPARE(client.readUntilClosed(), answer);
    }
    QVERIFY2(timer.elapsed() < 1000, QByteArray::number(timer.elapsed()));
    QVERIFY(echoes(server->address().port));
}

void tst_Hostile::rejectedClientKeepsSending_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("answer");

    QTest::newRow("after a 400") << upgradeRequest("/", {{"Sec-WebSocket-Key", "bad"}})
                                 << kInvalidKey;
    QTest::newRow("after a 431") << "GET / HTTP/1.1\r\nX: " + QByteArray(9000, 'x') << kHeadTooLarge;
    QTest::newRow("after a 426") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << QByteArray();
}

// Once the server has answered a refused request it owes the client nothing:
// as ws (which destroys the socket when the answer is flushed), it must not
// keep the connection, nor buffer what the client goes on sending.
void tst_Hostile::rejectedClientKeepsSending()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, answer);

    const std::unique_ptr<WsServer> server = echoServer();
    StubbornClient client;
    QVERIFY(client.connectTo(server->address().port));
    QCOMPARE(client.send(request), StubbornClient::Sent::All);
    QVERIFY(waitFor([&] {
        return client.received().contains("\r\n\r\n") && client.received().size() >= answer.size();
    }));
    if (!answer.isEmpty())
        QCOMPARE(client.received(), answer);

    const qint64 before = residentBytes();
    const QByteArray junk(kMiB, 'j');
    bool reset = false;
    for (int i = 0; i < 64 && !reset; ++i)
        reset = client.send(junk, 1000) == StubbornClient::Sent::Reset;
    QVERIFY(grewLessThan(before, 16 * kMiB));
    // Dropped at once, as ws does, or at least soon.
    QVERIFY2(reset || waitFor([&] { return client.send("j") == StubbornClient::Sent::Reset; }, 3000),
             "the connection is still open");
    QVERIFY(echoes(server->address().port));
}

// While the application decides on a client, what the client sends waits
// in bounded memory: the server stops reading and TCP pushes back.
void tst_Hostile::floodDuringVerification()
{
    VerifyDone pending;
    WsServerOptions options;
    options.verifyClientAsync = holdFirstClient(&pending);
    const std::unique_ptr<WsServer> server = echoServer(options);
    Accepted accepted(server.get());
    StubbornClient client;
    QVERIFY(client.connectTo(server->address().port));
    QCOMPARE(client.send(upgradeRequest()), StubbornClient::Sent::All);
    QVERIFY(waitFor([&] { return bool(pending); }));

    const qint64 before = residentBytes();
    const QByteArray junk(kMiB, 'j');
    StubbornClient::Sent sent = StubbornClient::Sent::All;
    for (int i = 0; i < 64 && sent == StubbornClient::Sent::All; ++i)
        sent = client.send(junk, 500);
    QVERIFY(grewLessThan(before, 16 * kMiB));
    QCOMPARE(sent, StubbornClient::Sent::Blocked);

    // Accepted at last: the junk is a protocol error (0x6a has RSV2 set).
    pending(WsVerifyClientResult());
    QVERIFY(accepted.socket());
    QVERIFY(waitFor([&] { return client.ended(); }));
    QVERIFY(client.received().startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
    QVERIFY(client.received().endsWith("\r\n\r\n" + closeFrame(1002)));
    QVERIFY(echoes(server->address().port));
}

// A paused connection reads no more than a bounded buffer, whatever arrives.
void tst_Hostile::floodWhilePaused()
{
    const std::unique_ptr<WsServer> server = echoServer();
    QList<QPointer<WsSocket>> serverSides;
    connect(server.get(), &WsServer::newConnection, this, [&](WsSocket *socket) {
        if (serverSides.isEmpty())
            socket->pause();
        serverSides.append(socket);
    });
    StubbornClient client;
    QVERIFY(client.connectTo(server->address().port));
    QVERIFY(client.upgrade());
    QCOMPARE(serverSides.size(), 1);
    WsSocket *serverSide = serverSides.first();
    QSignalSpy messages(serverSide, &WsSocket::messageReceived);

    const qint64 before = residentBytes();
    const QByteArray message = frame(0x82, QByteArray(kMiB - 14, 'p'));
    StubbornClient::Sent sent = StubbornClient::Sent::All;
    int count = 0;
    for (; count < 64 && sent == StubbornClient::Sent::All; ++count)
        sent = client.send(message, 500);
    QVERIFY(grewLessThan(before, 16 * kMiB));
    QCOMPARE(sent, StubbornClient::Sent::Blocked);
    QVERIFY(messages.isEmpty());
    QVERIFY(echoes(server->address().port));

    // Resumed, it takes what waited, the client's pending writes included.
    serverSide->resume();
    QVERIFY(waitFor([&] { return messages.size() >= count - 1; }, 10000));
    for (const auto &arguments : std::as_const(messages))
        QCOMPARE(arguments.at(0).toByteArray().size(), kMiB - 14);
}

// ---- Frames -------------------------------------------------------------------

void tst_Hostile::oversizeFrameHeader_data()
{
    QTest::addColumn<QByteArray>("header");

    // maxPayload + 1 = 1025 bytes declared, none of them sent.
    QTest::newRow("with its mask key") << QByteArray::fromHex("82fe040137fa213d");
    QTest::newRow("without its mask key") << QByteArray::fromHex("82fe0401");
    QTest::newRow("64-bit length") << QByteArray::fromHex("82ff000000000000040137fa213d");
}

void tst_Hostile::oversizeFrameHeader()
{
    QFETCH(QByteArray, header);

    WsServerOptions options;
    options.maxPayload = 1024;
    const std::unique_ptr<WsServer> server = echoServer(options);
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);

    QElapsedTimer timer;
    timer.start();
    client.write(header);
    Frame close;
    QVERIFY(client.readCloseAndEnd(&close));
    QVERIFY2(timer.elapsed() < 1000, QByteArray::number(timer.elapsed()));
    QCOMPARE(close.raw, closeFrame(1009));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().at(0).value<WsError>().code(), WsError::UnsupportedMessageLength);
    QVERIFY(echoes(server->address().port));
}

void tst_Hostile::fragmentFlood_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<bool>("refused");

    QTest::newRow("1M empty fragments") << 1000000 << QByteArray() << true;
    QTest::newRow("131 073 one-byte fragments") << 131073 << QByteArray("f") << true;
    QTest::newRow("131 072 one-byte fragments") << 131072 << QByteArray("f") << false;
}

void tst_Hostile::fragmentFlood()
{
    QFETCH(int, count);
    QFETCH(QByteArray, payload);
    QFETCH(bool, refused);

    const std::unique_ptr<WsServer> server = echoServer();
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);
    QSignalSpy messages(serverSide, &WsSocket::messageReceived);

    const qint64 before = residentBytes();
    QElapsedTimer timer;
    timer.start();
    QVERIFY(writeAll(client, fragmentedMessage(count, payload)));
    Frame reply;
    if (refused) {
        QVERIFY(client.readCloseAndEnd(&reply, 15000));
        QCOMPARE(reply.raw, closeFrame(1008));
        QCOMPARE(errors.size(), 1);
        const auto error = errors.first().at(0).value<WsError>();
        QCOMPARE(error.code(), WsError::TooManyBufferedParts);
        QCOMPARE(error.codeName(), QStringLiteral("WS_ERR_TOO_MANY_BUFFERED_PARTS"));
        QCOMPARE(error.closeCode(), 1008);
        QCOMPARE(error.message(), QStringLiteral("Too many message fragments"));
        QVERIFY(messages.isEmpty());
    } else {
        QVERIFY(client.readFrame(&reply, 15000));
        QCOMPARE(reply.firstByte, quint8(0x82));
        QCOMPARE(reply.payload, payload.repeated(count));
        QVERIFY(errors.isEmpty());
    }
    QVERIFY(grewLessThan(before, 64 * kMiB));
    QVERIFY2(timer.elapsed() < 10000, QByteArray::number(timer.elapsed()));
    QVERIFY(echoes(server->address().port));
}

void tst_Hostile::unfinishedMessageNearLimit()
{
    WsServerOptions options;
    options.maxPayload = kMiB;
    const std::unique_ptr<WsServer> server = echoServer(options);
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QSignalSpy messages(serverSide, &WsSocket::messageReceived);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);

    const qint64 before = residentBytes();
    // One byte under the limit, never finished; a ping after it proves the
    // server has read it all.
    QVERIFY(writeAll(client, frame(0x02, QByteArray(kMiB - 1, 'u')) + frame(0x89, "read?")));
    Frame pong;
    QVERIFY(client.readFrame(&pong));
    QCOMPARE(pong.raw, QByteArray("\x8a\x05read?"));
    QVERIFY(grewLessThan(before, 16 * kMiB));
    QVERIFY(messages.isEmpty());
    QVERIFY(errors.isEmpty());
    QVERIFY(echoes(server->address().port));

    // Two more bytes pass the limit.
    client.sendFrame(0x80, "uu");
    Frame close;
    QVERIFY(client.readCloseAndEnd(&close));
    QCOMPARE(close.raw, closeFrame(1009));
    QCOMPARE(errors.size(), 1);
    QVERIFY(messages.isEmpty());
}

void tst_Hostile::protocolViolations_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("close");
    QTest::addColumn<WsError::Code>("code");
    QTest::addColumn<QString>("message");

    const QByteArray protocolError = closeFrame(1002);
    const auto invalid = [](const char *what) {
        return QStringLiteral("Invalid WebSocket frame: ") + QLatin1String(what);
    };
    const QString tooLong = QStringLiteral("Unsupported WebSocket frame: payload length > 2^53 - 1");

    QTest::newRow("unmasked frame") << frame(0x81, "hi", false) << protocolError << WsError::ExpectedMask
                                    << invalid("MASK must be set");
    QTest::newRow("RSV2 set") << frame(0xA1, "hi") << protocolError << WsError::UnexpectedRsv23
                              << invalid("RSV2 and RSV3 must be clear");
    QTest::newRow("RSV3 set") << frame(0x92, "hi") << protocolError << WsError::UnexpectedRsv23
                              << invalid("RSV2 and RSV3 must be clear");
    QTest::newRow("RSV1 without permessage-deflate") << frame(0xC1, "hi") << protocolError
                                                     << WsError::UnexpectedRsv1 << invalid("RSV1 must be clear");
    QTest::newRow("reserved opcode 3") << frame(0x83, "") << protocolError << WsError::InvalidOpcode
                                       << invalid("invalid opcode 3");
    QTest::newRow("reserved opcode 0xB") << frame(0x8B, "") << protocolError << WsError::InvalidOpcode
                                         << invalid("invalid opcode 11");
    QTest::newRow("continuation of nothing") << frame(0x80, "x") << protocolError << WsError::InvalidOpcode
                                             << invalid("invalid opcode 0");
    QTest::newRow("new message inside a fragmented one") << frame(0x01, "a") + frame(0x81, "b") << protocolError
                                                         << WsError::InvalidOpcode << invalid("invalid opcode 1");
    QTest::newRow("ping with 126 bytes") << frame(0x89, QByteArray(126, 'p')) << protocolError
                                         << WsError::InvalidControlPayloadLength
                                         << invalid("invalid payload length 126");
    QTest::newRow("fragmented ping") << frame(0x09, "") << protocolError << WsError::ExpectedFin
                                     << invalid("FIN must be set");
    QTest::newRow("close with 1 byte") << frame(0x88, "\x03") << protocolError
                                       << WsError::InvalidControlPayloadLength << invalid("invalid payload length 1");
    for (int code : {0, 999, 1004, 1005, 1006, 1016, 2999, 5000}) {
        QByteArray payload(2, Qt::Uninitialized);
        qToBigEndian(quint16(code), payload.data());
        QTest::addRow("close code %d", code) << frame(0x88, payload) << protocolError << WsError::InvalidCloseCode
                                             << invalid("invalid status code ") + QString::number(code);
    }
    QTest::newRow("invalid UTF-8 in a close reason") << frame(0x88, "\x03\xe8\xff\xfe") << closeFrame(1007)
                                                     << WsError::InvalidUtf8 << invalid("invalid UTF-8 sequence");
    QTest::newRow("invalid UTF-8 text over two fragments") << frame(0x01, "\xf0\x9f") + frame(0x80, "\x98")
                                                           << closeFrame(1007) << WsError::InvalidUtf8
                                                           << invalid("invalid UTF-8 sequence");
    QTest::newRow("64-bit length with the MSB set") << QByteArray::fromHex("82ff800000000000000037fa213d")
                                                    << closeFrame(1009) << WsError::UnsupportedDataPayloadLength
                                                    << tooLong;
    QTest::newRow("length 2^53") << QByteArray::fromHex("82ff002000000000000037fa213d") << closeFrame(1009)
                                 << WsError::UnsupportedDataPayloadLength << tooLong;
}

void tst_Hostile::protocolViolations()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, close);
    QFETCH(WsError::Code, code);
    QFETCH(QString, message);

    const std::unique_ptr<WsServer> server = echoServer();
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);
    QSignalSpy closed(serverSide, &WsSocket::closed);

    // Something valid first, so the violation is met mid-stream.
    client.write(frame(0x81, "ok") + bytes + frame(0x81, "ignored"));
    Frame echoed;
    QVERIFY(client.readFrame(&echoed));
    QCOMPARE(echoed.raw, QByteArray("\x81\x02ok"));
    Frame reply;
    QVERIFY(client.readCloseAndEnd(&reply));
    QCOMPARE(reply.raw, close);
    QVERIFY(client.received().isEmpty());

    QCOMPARE(errors.size(), 1);
    const auto error = errors.first().at(0).value<WsError>();
    QCOMPARE(error.code(), code);
    QCOMPARE(error.message(), message);
    QCOMPARE(error.closeCode(), int(qFromBigEndian<quint16>(close.constData() + 2)));
    // As ws: the side that found the error saw no close frame.
    QTRY_COMPARE(closed.size(), 1);
    QCOMPARE(closed.first().at(0).toInt(), 1006);
    QVERIFY(echoes(server->address().port));
}

void tst_Hostile::compressedHostile_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<WsError::Code>("code");
    QTest::addColumn<int>("closeCode");

    // qCompress() gives a zlib stream: a 4-byte size and a 2-byte header
    // before the raw deflate data, an Adler-32 after it.
    const QByteArray bomb = qCompress(QByteArray(64 * kMiB, '\0'), 9).mid(6).chopped(4);
    QTest::newRow("64 MiB of zeros in one frame") << bomb << WsError::UnsupportedMessageLength << 1009;
    QTest::newRow("corrupt data") << QByteArray("something invalid") << WsError::InvalidCompressedData << 1007;
}

// permessage-deflate data stops at maxPayload however well it compresses,
// and bad data is refused.
void tst_Hostile::compressedHostile()
{
    QFETCH(QByteArray, payload);
    QFETCH(WsError::Code, code);
    QFETCH(int, closeCode);

    WsServerOptions options;
    options.maxPayload = kMiB;
    options.perMessageDeflate = WsDeflateOptions();
    const std::unique_ptr<WsServer> server = echoServer(options);
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    QVERIFY(client.upgrade("/", {{"Sec-WebSocket-Extensions", "permessage-deflate"}}));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QCOMPARE(serverSide->extensions(), QStringLiteral("permessage-deflate"));
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);
    QSignalSpy messages(serverSide, &WsSocket::messageReceived);

    const qint64 before = residentBytes();
    client.sendFrame(0xC2, payload);
    Frame close;
    QVERIFY(client.readCloseAndEnd(&close));
    QCOMPARE(close.raw, closeFrame(quint16(closeCode)));
    QVERIFY(grewLessThan(before, 16 * kMiB));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().at(0).value<WsError>().code(), code);
    QVERIFY(messages.isEmpty());
    QVERIFY(echoes(server->address().port));
}

// ---- The connection -------------------------------------------------------------

void tst_Hostile::slowReader()
{
    const std::unique_ptr<WsServer> server = echoServer();
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    // The client stops reading once 64 KiB wait in its buffer.
    client.socket()->setReadBufferSize(64 * 1024);

    constexpr int messageCount = 8;
    constexpr qsizetype messageSize = 4 * kMiB;
    QList<WsError> sent;
    for (int i = 0; i < messageCount; ++i) {
        QVERIFY(!serverSide->send(QByteArray(messageSize, char('a' + i)), {},
                                  [&](const WsError &error) { sent.append(error); })
                         .isError());
    }
    // What the kernel did not take at once waits in the connection.
    const qint64 queued = serverSide->bufferedAmount();
    QVERIFY2(queued >= 16 * kMiB, QByteArray::number(queued));

    QVERIFY(waitFor([&] { return client.socket()->bytesAvailable() >= 64 * 1024; }, kWaitMs));
    // The kernel's buffers take a few MiB at most; the rest waits.
    QVERIFY(!waitFor([&] { return serverSide->bufferedAmount() < 8 * kMiB; }, 300));
    QVERIFY(sent.size() < messageCount);
    QVERIFY(echoes(server->address().port));

    client.socket()->setReadBufferSize(0);
    for (int i = 0; i < messageCount; ++i) {
        Frame message;
        QVERIFY(client.readFrame(&message, 10000));
        QCOMPARE(message.firstByte, quint8(0x82));
        QCOMPARE(message.payload.size(), messageSize);
        QCOMPARE(message.payload, QByteArray(messageSize, char('a' + i)));
    }
    QTRY_COMPARE(serverSide->bufferedAmount(), 0);
    QTRY_COMPARE(sent.size(), messageCount);
    for (const WsError &error : std::as_const(sent))
        QVERIFY(!error.isError());
}

void tst_Hostile::disconnectMidHandshake_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<bool>("verifyLater");

    QTest::newRow("half a request") << upgradeRequest().left(50) << false;
    QTest::newRow("a whole request") << upgradeRequest() << false;
    QTest::newRow("during verification") << upgradeRequest() << true;
}

void tst_Hostile::disconnectMidHandshake()
{
    QFETCH(QByteArray, request);
    QFETCH(bool, verifyLater);

    VerifyDone pending;
    WsServerOptions options;
    if (verifyLater)
        options.verifyClientAsync = holdFirstClient(&pending);
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    {
        RawClient client;
        QVERIFY(client.connectTo(server->address().port));
        client.write(request);
        QVERIFY(waitFor([&] { return client.socket()->bytesToWrite() == 0; }, kWaitMs));
        if (verifyLater)
            QTRY_VERIFY(bool(pending));
        client.socket()->abort();
    }
    // The late answer finds the client gone.
    if (verifyLater)
        pending(WsVerifyClientResult());
    QTRY_VERIFY(server->clients().isEmpty());
    QVERIFY(echoes(server->address().port));
}

void tst_Hostile::disconnectMidMessage()
{
    const std::unique_ptr<WsServer> server = echoServer();
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);
    QSignalSpy closed(serverSide, &WsSocket::closed);
    QSignalSpy messages(serverSide, &WsSocket::messageReceived);

    // A frame of 1000 bytes cut after 10, then the connection is gone.
    client.write(frame(0x82, QByteArray(1000, 'm')).left(20));
    QVERIFY(waitFor([&] { return client.socket()->bytesToWrite() == 0; }, kWaitMs));
    client.socket()->abort();
    QVERIFY(closed.wait(kWaitMs));
    QCOMPARE(closed.first().at(0).toInt(), 1006);
    QVERIFY(errors.isEmpty());
    QVERIFY(messages.isEmpty());
    QVERIFY(echoes(server->address().port));
}

// The server's close timer ends a connection whose peer never answers its close frame.
void tst_Hostile::peerNeverAnswersClose()
{
    WsServerOptions options;
    options.closeTimeout = 300;
    const std::unique_ptr<WsServer> server = echoServer(options);
    Accepted accepted(server.get());
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QSignalSpy closed(serverSide, &WsSocket::closed);

    QElapsedTimer timer;
    timer.start();
    serverSide->close(1000, "bye");
    Frame close;
    QVERIFY(client.readFrame(&close));
    QCOMPARE(close.raw, QByteArray::fromHex("880503e8627965"));
    QVERIFY(waitFor([&] { return client.isClosed(); }));
    QVERIFY2(timer.elapsed() >= 250 && timer.elapsed() < 3000, QByteArray::number(timer.elapsed()));
    QTRY_COMPARE(closed.size(), 1);
    QCOMPARE(closed.first().at(0).toInt(), 1006);
    QVERIFY(echoes(server->address().port));
}

// After a close frame nothing is parsed nor kept, however much follows.
void tst_Hostile::dataAfterCloseFrame()
{
    WsServerOptions options;
    options.closeTimeout = 300;
    const std::unique_ptr<WsServer> server = echoServer(options);
    Accepted accepted(server.get());
    StubbornClient client;
    QVERIFY(client.connectTo(server->address().port));
    QVERIFY(client.upgrade());
    WsSocket *serverSide = accepted.socket();
    QVERIFY(serverSide);
    QSignalSpy messages(serverSide, &WsSocket::messageReceived);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);

    QCOMPARE(client.send(frame(0x88, "\x03\xe8")), StubbornClient::Sent::All);
    const qint64 before = residentBytes();
    const QByteArray more = frame(0x82, QByteArray(kMiB - 14, 'm'));
    StubbornClient::Sent sent = StubbornClient::Sent::All;
    for (int i = 0; i < 64 && sent == StubbornClient::Sent::All; ++i)
        sent = client.send(more, 1000);
    QVERIFY(grewLessThan(before, 16 * kMiB));

    QVERIFY(waitFor([&] { return client.ended(); }));
    QCOMPARE(client.received(), closeFrame(1000));
    QVERIFY(messages.isEmpty());
    QVERIFY(errors.isEmpty());
    // Ended by the close timer at the latest.
    QVERIFY(sent == StubbornClient::Sent::Reset
            || waitFor([&] { return client.send("m") == StubbornClient::Sent::Reset; }, 3000));
    QVERIFY(echoes(server->address().port));
}

QTEST_MAIN(tst_Hostile)

#include "tst_hostile.moc"
