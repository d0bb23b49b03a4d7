// Items of the bad-inputs list (doc/bad-inputs.md) that need a test of
// their own beside the core, hostile-client and socket suites. Each test is
// named after its item. The hostile bytes come from tests/vectors/badinputs/
// (and tests/vectors/handshake/), where the fuzzers take them as seeds.

#include "residentmemory.h"
#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qpointer.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <cctype>


using namespace serverpeers;

using namespace wsqt::test;

namespace {

QByteArray readVector(const QString &name)
{
    QFile file(QStringLiteral(WSQT_VECTORS_DIR "/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read test vector %s", qPrintable(name));
    return file.readAll();
}

// A .hex vector (tests/vectors/frames/README.md): hex pairs, whitespace
// anywhere, '#' to the end of a line is a comment.
QByteArray hexVector(const QString &name)
{
    QByteArray digits;
    for (QByteArray line : readVector(name).split('\n')) {
        const qsizetype comment = line.indexOf('#');
        if (comment >= 0)
            line.truncate(comment);
        for (char c : std::as_const(line)) {
            if (std::isxdigit(uchar(c)))
                digits += c;
            else if (!std::isspace(uchar(c)))
                qFatal("vector %s: unexpected character '%c'", qPrintable(name), c);
        }
    }
    return QByteArray::fromHex(digits);
}

// A close frame from a server (unmasked) with just a code.
QByteArray serverCloseFrame(quint16 code)
{
    return QByteArray::fromHex("8802") + char(code >> 8) + char(code & 0xFF);
}

// The server-side socket of the next connection.
WsSocket *nextServerSide(QSignalSpy &connections)
{
    if (!waitFor([&] { return !connections.isEmpty(); }))
        return nullptr;
    return connections.takeFirst().at(0).value<WsSocket *>();
}

// A server for a client under test: it reads a request head and answers
// with the test's bytes, then keeps the connection open.
class ScriptedServer : public QObject
{
public:
    explicit ScriptedServer(const QByteArray &answer) : m_answer(answer)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                ++m_connections;
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    m_received += socket->readAll();
                    if (!m_answered && m_received.contains("\r\n\r\n")) {
                        m_answered = true;
                        socket->write(m_answer);
                    }
                });
                connect(socket, &QTcpSocket::disconnected, this, [this] { ++m_disconnections; });
            }
        });
        m_server.listen(QHostAddress(QHostAddress::LocalHost));
    }

    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(m_server.serverPort())); }
    int connections() const { return m_connections; }
    int disconnections() const { return m_disconnections; }

private:
    QTcpServer m_server;
    QByteArray m_answer;
    QByteArray m_received;
    bool m_answered = false;
    int m_connections = 0;
    int m_disconnections = 0;
};

} // namespace

class tst_BadInputs : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    // Handshake, server side
    void item05_deflateOfferParametersRefused_data();
    void item05_deflateOfferParametersRefused();
    void item06_http10Refused();

    // Handshake, client side
    void item08_oversizedResponseHead_data();
    void item08_oversizedResponseHead();
    void item11_lineBreaksInUrl_data();
    void item11_lineBreaksInUrl();

    // Framing and resources, over a real connection
    void item15_lengthEncodings_data();
    void item15_lengthEncodings();
    void item22_manyTinyChunks();

    // Compression
    void item25_compressedStreams_data();
    void item25_compressedStreams();
};

void tst_BadInputs::initTestCase()
{
    qRegisterMetaType<WsSocket *>();
    qRegisterMetaType<WsError>();
    qRegisterMetaType<WsHttpRequest>();
}

// ---- Handshake, server side -----------------------------------------------------

void tst_BadInputs::item05_deflateOfferParametersRefused_data()
{
    QTest::addColumn<QString>("vector");

    // RFC 7692 §7.1: a parameter given twice, a window size outside 8..15 or
    // not a number, a value where none belongs and none where one is needed
    // make the offer invalid; ws answers 400 (as for server_max_window_bits=7
    // and an unknown parameter, in tst_wsserver).
    QTest::newRow("server_max_window_bits twice") << QStringLiteral("item05-duplicate-param.http");
    QTest::newRow("server_no_context_takeover twice") << QStringLiteral("item05-duplicate-flag.http");
    QTest::newRow("server_max_window_bits=16") << QStringLiteral("item05-window-bits-16.http");
    QTest::newRow("server_max_window_bits=\"16\"") << QStringLiteral("item05-quoted-window-bits-16.http");
    QTest::newRow("server_max_window_bits=abc") << QStringLiteral("item05-window-bits-abc.http");
    // Far beyond int: no undefined conversion on the way to the refusal.
    QTest::newRow("server_max_window_bits=1e10") << QStringLiteral("item05-window-bits-1e10.http");
    QTest::newRow("client_max_window_bits=7") << QStringLiteral("item05-client-window-bits-7.http");
    QTest::newRow("server_max_window_bits without a value")
            << QStringLiteral("item05-window-bits-without-value.http");
    QTest::newRow("client_no_context_takeover=1") << QStringLiteral("item05-flag-with-value.http");
}

void tst_BadInputs::item05_deflateOfferParametersRefused()
{
    QFETCH(QString, vector);

    WsServerOptions options;
    options.perMessageDeflate = WsDeflateOptions();
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    client.write(readVector(QStringLiteral("badinputs/") + vector));
    QCOMPARE(client.readUntilClosed(), kInvalidExtensions);
    QVERIFY(connections.isEmpty());
    QVERIFY(echoes(server->address().port));
}

void tst_BadInputs::item06_http10Refused()
{
    // RFC 6455 §4.2.1 asks for HTTP/1.1 or higher; the core refuses 1.0 and
    // the server must say so on the wire.
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    client.write(readVector(QStringLiteral("handshake/request-http10.http")));
    QCOMPARE(client.readUntilClosed(),
             QByteArray("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\n"
                        "Content-Length: 20\r\n\r\nInvalid HTTP version"));
    QVERIFY(connections.isEmpty());
}

// ---- Handshake, client side -----------------------------------------------------

void tst_BadInputs::item08_oversizedResponseHead_data()
{
    QTest::addColumn<QString>("vector");
    QTest::addColumn<QString>("message");

    // None of them ends its head: the client must give up at its limits
    // (8 KiB a line, 100 fields, 64 KiB a head), not wait or read on.
    const QString overflow = QStringLiteral("Parse Error: Header overflow");
    QTest::newRow("status line over 8 KiB") << QStringLiteral("item08-status-line-overflow.http") << overflow;
    QTest::newRow("101 header fields") << QStringLiteral("item08-too-many-fields.http")
                                       << QStringLiteral("Too many header fields");
    QTest::newRow("no end of head within 64 KiB") << QStringLiteral("item08-endless-head.http") << overflow;
}

void tst_BadInputs::item08_oversizedResponseHead()
{
    QFETCH(QString, vector);
    QFETCH(QString, message);

    ScriptedServer peer(readVector(QStringLiteral("badinputs/") + vector));
    WsSocket client;
    QSignalSpy errors(&client, &WsSocket::errorOccurred);
    QSignalSpy closed(&client, &WsSocket::closed);
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(client.open(peer.url()), WsError());
    QVERIFY(closed.wait(kWaitMs));
    QVERIFY2(timer.elapsed() < 2000, QByteArray::number(timer.elapsed()));
    QCOMPARE(errors.size(), 1);
    const auto error = errors.first().at(0).value<WsError>();
    QCOMPARE(error.code(), WsError::HandshakeFailed);
    QCOMPARE(error.message(), message);
    QCOMPARE(closed.first().at(0).toInt(), 1006);
    QCOMPARE(client.readyState(), WsSocket::Closed);
    // The client dropped the connection.
    QTRY_COMPARE(peer.disconnections(), 1);
    QCOMPARE(peer.connections(), 1);
}

void tst_BadInputs::item11_lineBreaksInUrl_data()
{
    QTest::addColumn<QString>("url");           // PORT stands for the server's
    QTest::addColumn<QByteArray>("target");     // as the server receives it; empty: refused

    // QUrl percent-encodes a CR or LF in the path or query; nothing is
    // injected into the request head.
    QTest::newRow("CR LF in the path") << QStringLiteral("ws://127.0.0.1:PORT/a\r\nX-Injected: 1")
                                       << QByteArray("/a%0D%0AX-Injected:%201");
    QTest::newRow("LF in the path") << QStringLiteral("ws://127.0.0.1:PORT/a\nX-Injected: 1")
                                    << QByteArray("/a%0AX-Injected:%201");
    QTest::newRow("CR LF in the query") << QStringLiteral("ws://127.0.0.1:PORT/a?b=\r\nX-Injected: 1")
                                        << QByteArray("/a?b=%0D%0AX-Injected:%201");
    // Not a host at all: refused before any connection.
    QTest::newRow("CR LF in the host") << QStringLiteral("ws://127.0.0.1\r\nX-Injected: 1:PORT/")
                                       << QByteArray();
}

void tst_BadInputs::item11_lineBreaksInUrl()
{
    QFETCH(QString, url);
    QFETCH(QByteArray, target);

    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    QSignalSpy clientErrors(server.get(), &WsServer::clientError);
    WsSocket client;
    QSignalSpy closed(&client, &WsSocket::closed);
    const WsError error =
            client.open(QUrl(QString(url).replace(QStringLiteral("PORT"), QString::number(server->address().port))));

    if (target.isEmpty()) {
        QCOMPARE(error.code(), WsError::InvalidUrl);
        QCOMPARE(client.readyState(), WsSocket::Closed);
        QTest::qWait(100);
        QVERIFY(connections.isEmpty());
        QVERIFY(clientErrors.isEmpty());
        QVERIFY(closed.isEmpty());
        return;
    }
    QCOMPARE(error, WsError());
    QVERIFY(waitFor([&] { return !connections.isEmpty(); }));
    const auto request = connections.first().at(1).value<WsHttpRequest>();
    QCOMPARE(request.target, target);
    QVERIFY(!request.headers.contains("X-Injected"));
    QVERIFY(clientErrors.isEmpty());
    QTRY_COMPARE(client.readyState(), WsSocket::Open);
}

// ---- Framing and resources --------------------------------------------------------

void tst_BadInputs::item15_lengthEncodings_data()
{
    QTest::addColumn<QString>("vector");
    QTest::addColumn<QByteArray>("echo");     // empty: refused with 1009

    // ws's policy: a length in a longer field than needed is accepted.
    QTest::newRow("5 in the 16-bit field") << QStringLiteral("badinputs/item15-nonminimal-length-16-masked.hex")
                                           << QByteArray("\x81\x05Hello");
    QTest::newRow("5 in the 64-bit field") << QStringLiteral("frames/nonminimal-length-64-masked.hex")
                                           << QByteArray("\x81\x05Hello");
    // No overflow anywhere: refused from the header alone.
    QTest::newRow("all 64 bits set") << QStringLiteral("badinputs/item15-length-all-ones-masked.hex")
                                     << QByteArray();
}

void tst_BadInputs::item15_lengthEncodings()
{
    QFETCH(QString, vector);
    QFETCH(QByteArray, echo);

    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    WsSocket *serverSide = nextServerSide(connections);
    QVERIFY(serverSide);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);

    client.write(hexVector(vector));
    if (!echo.isEmpty()) {
        Frame reply;
        QVERIFY(client.readFrame(&reply));
        QCOMPARE(reply.raw, echo);
        QVERIFY(errors.isEmpty());
        return;
    }
    Frame close;
    QVERIFY(client.readCloseAndEnd(&close));
    QCOMPARE(close.raw, serverCloseFrame(1009));
    QCOMPARE(errors.size(), 1);
    const auto error = errors.first().at(0).value<WsError>();
    QCOMPARE(error.code(), WsError::UnsupportedDataPayloadLength);
    QCOMPARE(error.message(), QStringLiteral("Unsupported WebSocket frame: payload length > 2^53 - 1"));
}

void tst_BadInputs::item22_manyTinyChunks()
{
    // A 32 KiB message in one-byte TCP segments, the server running between
    // any two: every byte is a read of its own. The message arrives whole,
    // in bounded time and memory.
    const std::unique_ptr<WsServer> server = echoServer();
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectAndUpgrade(server->address().port));
    client.socket()->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    WsSocket *serverSide = nextServerSide(connections);
    QVERIFY(serverSide);
    QSignalSpy messages(serverSide, &WsSocket::messageReceived);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);

    QByteArray payload(32 * 1024, Qt::Uninitialized);
    for (qsizetype i = 0; i < payload.size(); ++i)
        payload[i] = char(i * 7 + (i >> 9));
    const QByteArray bytes = frame(0x82, payload);
    const qint64 before = residentBytes();
    QElapsedTimer timer;
    timer.start();
    for (const char byte : bytes) {
        client.write(QByteArray(1, byte));
        client.socket()->flush();
        QCoreApplication::processEvents();
    }
    QVERIFY(waitFor([&] { return !messages.isEmpty(); }));
    QVERIFY2(timer.elapsed() < 20000, QByteArray::number(timer.elapsed()));
    const qint64 growth = residentBytes() - before;
    qInfo("resident memory grew by %lld bytes", growth);
    if (kResidentSizeIsHeld)
        QVERIFY2(growth < 8 * 1024 * 1024, QByteArray::number(growth));
    QCOMPARE(messages.size(), 1);
    QCOMPARE(messages.first().at(0).toByteArray(), payload);
    QVERIFY(errors.isEmpty());
    Frame echoed;
    QVERIFY(client.readFrame(&echoed));
    QCOMPARE(echoed.payload, payload);
}

// ---- Compression ----------------------------------------------------------------

void tst_BadInputs::item25_compressedStreams_data()
{
    QTest::addColumn<QString>("vector");
    QTest::addColumn<bool>("clientNoContextTakeover");
    QTest::addColumn<QByteArrayList>("messages");
    QTest::addColumn<int>("closeCode");         // 0: the connection goes on

    // ws's policy: a final block ends the message's data, and the next
    // message starts a new stream.
    QTest::newRow("a final block mid-message") << QStringLiteral("item25-final-block-mid-message.hex") << false
                                               << QByteArrayList{"Hel", "Hello"} << 0;
    QTest::newRow("data that stops inside a block") << QStringLiteral("item25-truncated-block.hex") << false
                                                    << QByteArrayList() << 1007;
    QTest::newRow("context taken over against the agreement")
            << QStringLiteral("item25-context-takeover-mismatch.hex") << true << QByteArrayList{"Hello"} << 1007;
}

void tst_BadInputs::item25_compressedStreams()
{
    QFETCH(QString, vector);
    QFETCH(bool, clientNoContextTakeover);
    QFETCH(QByteArrayList, messages);
    QFETCH(int, closeCode);

    WsServerOptions options;
    options.perMessageDeflate = WsDeflateOptions();
    options.perMessageDeflate->clientNoContextTakeover = clientNoContextTakeover;
    const std::unique_ptr<WsServer> server = echoServer(options);
    QSignalSpy connections(server.get(), &WsServer::newConnection);
    RawClient client;
    QVERIFY(client.connectTo(server->address().port));
    QVERIFY(client.upgrade("/", {{"Sec-WebSocket-Extensions", "permessage-deflate"}}));
    WsSocket *serverSide = nextServerSide(connections);
    QVERIFY(serverSide);
    QCOMPARE(serverSide->extensions(), clientNoContextTakeover
                                               ? QStringLiteral("permessage-deflate; client_no_context_takeover")
                                               : QStringLiteral("permessage-deflate"));
    QSignalSpy received(serverSide, &WsSocket::messageReceived);
    QSignalSpy errors(serverSide, &WsSocket::errorOccurred);
    const auto delivered = [&received] {
        QByteArrayList payloads;
        for (const QList<QVariant> &arguments : std::as_const(received))
            payloads.append(arguments.at(0).toByteArray());
        return payloads;
    };

    client.write(hexVector(QStringLiteral("badinputs/") + vector));
    if (closeCode == 0) {
        // A ping after the vector: its pong says everything before was read.
        client.sendFrame(0x89, "after");
        Frame reply;
        do {
            QVERIFY(client.readFrame(&reply));
        } while (reply.opcode() != 0xA);
        QCOMPARE(reply.payload, QByteArray("after"));
        QVERIFY(errors.isEmpty());
    } else {
        Frame close;
        QVERIFY2(client.readCloseAndEnd(&close),
                 ("no close frame; delivered: \"" + delivered().join("\", \"") + '"').constData());
        QCOMPARE(close.raw, serverCloseFrame(quint16(closeCode)));
        QCOMPARE(errors.size(), 1);
        const auto error = errors.first().at(0).value<WsError>();
        QCOMPARE(error.code(), WsError::InvalidCompressedData);
        QCOMPARE(error.closeCode(), closeCode);
    }
    QCOMPARE(delivered(), messages);
    QVERIFY(echoes(server->address().port));
}

QTEST_MAIN(tst_BadInputs)

#include "tst_badinputs.moc"
