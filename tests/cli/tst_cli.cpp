// The wsqt command-line tool, run as real processes: wsqt servers and clients
// talk to each other and to WsServer / WsSocket in this process.

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qprocess.h>
#include <QtCore/qregularexpression.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <algorithm>
#include <memory>

namespace {

// Generous: the suite runs in parallel with others, possibly under sanitizers.
constexpr int kTimeout = 20000;

// One wsqt process, its output collected as it comes.
class Cli
{
public:
    explicit Cli(const QStringList &arguments)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
                         [this] { m_out += m_process.readAllStandardOutput(); });
        QObject::connect(&m_process, &QProcess::readyReadStandardError, &m_process,
                         [this] { m_err += m_process.readAllStandardError(); });
        m_process.start(QStringLiteral(WSQT_CLI_EXECUTABLE), arguments);
    }

    ~Cli()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(kTimeout);
        }
    }

    void write(const QByteArray &input) { m_process.write(input); }
    void closeInput() { m_process.closeWriteChannel(); }

    bool hasLine(const QByteArray &line) const { return m_out.split('\n').contains(line); }
    bool errorsContain(const QByteArray &text) const { return m_err.contains(text); }
    bool hasErrorLine() const
    {
        const QByteArrayList lines = m_err.split('\n');
        return std::any_of(lines.cbegin(), lines.cend(),
                           [](const QByteArray &line) { return line.startsWith("error: "); });
    }
    const QByteArray &out() const { return m_out; }
    const QByteArray &err() const { return m_err; }

    bool isFinished() const { return m_process.state() == QProcess::NotRunning; }
    // -1 while running, or after a crash.
    int exitCode() const
    {
        return isFinished() && m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }

    // The port announced by "listening on HOST:PORT", or 0 before it.
    quint16 listeningPort() const
    {
        static const QRegularExpression pattern(QStringLiteral("^listening on (.+):(\\d+)$"),
                                                QRegularExpression::MultilineOption);
        const QRegularExpressionMatch match = pattern.match(QString::fromUtf8(m_out));
        return match.hasMatch() ? match.captured(2).toUShort() : 0;
    }

    QByteArray describe() const
    {
        return "stdout:\n" + m_out + "\nstderr:\n" + m_err + "\nexit code: " + QByteArray::number(exitCode());
    }

private:
    QProcess m_process;
    QByteArray m_out;
    QByteArray m_err;
};

std::unique_ptr<Cli> startCli(const QStringList &arguments)
{
    return std::make_unique<Cli>(arguments);
}

QString localUrl(quint16 port, const QString &path = QStringLiteral("/"))
{
    return QStringLiteral("ws://127.0.0.1:%1%2").arg(port).arg(path);
}

QStringList listenArguments(const QStringList &options)
{
    return QStringList{QStringLiteral("listen"), QStringLiteral("0"), QStringLiteral("--host"),
                       QStringLiteral("127.0.0.1")}
            + options;
}

// What a WsServer in this process sends to a wsqt client.
enum Frame { Text, Binary, Ping, Pong };

// A WsServer in this process on a free port of 127.0.0.1.
std::unique_ptr<WsServer> startServer()
{
    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    options.port = 0;
    return std::make_unique<WsServer>(options);
}

} // namespace

// Waits for a wsqt server to announce its port and stores it in `port`.
#define AWAIT_LISTENING(cli, port)                                                                  \
    QTRY_VERIFY2_WITH_TIMEOUT((cli).listeningPort() != 0, (cli).describe().constData(), kTimeout); \
    const quint16 port = (cli).listeningPort()

#define AWAIT_LINE(cli, line) \
    QTRY_VERIFY2_WITH_TIMEOUT((cli).hasLine(line), (cli).describe().constData(), kTimeout)

#define AWAIT_EXIT(cli, code)                                                                  \
    do {                                                                                       \
        QTRY_VERIFY2_WITH_TIMEOUT((cli).isFinished(), (cli).describe().constData(), kTimeout); \
        QVERIFY2((cli).exitCode() == (code), (cli).describe().constData());                    \
    } while (false)

class tst_Cli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void usage_data();
    void usage();
    void executeAndWait_data();
    void executeAndWait();
    void interactive();
    void endOfInputCloses();
    void broadcast();
    void subprotocol_data();
    void subprotocol();
    void requestHeaders();
    void received_data();
    void received();
    void maxPayload();
    void connectionRefused();
    void handshakeFailure_data();
    void handshakeFailure();
    void listenEchoes_data();
    void listenEchoes();
    void listenPrints();
    void listenPortInUse();
};

void tst_Cli::usage_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QByteArray>("expected");   // on stdout for 0, on stderr otherwise

    QTest::newRow("help") << QStringList{QStringLiteral("--help")} << 0 << QByteArray("Usage: wsqt <command>");
    QTest::newRow("listen help") << QStringList{QStringLiteral("listen"), QStringLiteral("--help")} << 0
                                 << QByteArray("Usage: wsqt listen [options] port");
    QTest::newRow("connect help") << QStringList{QStringLiteral("connect"), QStringLiteral("-h")} << 0
                                  << QByteArray("Exit status:");
    QTest::newRow("no command") << QStringList() << 2 << QByteArray("missing command");
    QTest::newRow("unknown command") << QStringList{QStringLiteral("serve")} << 2
                                     << QByteArray("unknown command: serve");
    QTest::newRow("listen without port") << QStringList{QStringLiteral("listen"), QStringLiteral("--echo")} << 2
                                         << QByteArray("give either a port or --unix PATH");
    QTest::newRow("listen port out of range") << QStringList{QStringLiteral("listen"), QStringLiteral("65536")}
                                              << 2 << QByteArray("invalid port: 65536");
    QTest::newRow("listen two ports") << QStringList{QStringLiteral("listen"), QStringLiteral("1"), QStringLiteral("2")}
                                      << 2 << QByteArray("unexpected argument: 2");
    QTest::newRow("echo and broadcast")
            << QStringList{QStringLiteral("listen"), QStringLiteral("0"), QStringLiteral("--echo"),
                           QStringLiteral("--broadcast")}
            << 2 << QByteArray("exclude each other");
    QTest::newRow("bad host") << QStringList{QStringLiteral("listen"), QStringLiteral("0"), QStringLiteral("--host"),
                                             QStringLiteral("not-an-address")}
                              << 2 << QByteArray("invalid host address");
    QTest::newRow("relative path") << listenArguments({QStringLiteral("--path"), QStringLiteral("ws")}) << 2
                                   << QByteArray("must start with");
    QTest::newRow("negative max payload") << listenArguments({QStringLiteral("--max-payload"), QStringLiteral("-1")})
                                          << 2 << QByteArray("invalid --max-payload");
    QTest::newRow("listen unknown option") << listenArguments({QStringLiteral("--bogus")}) << 2
                                           << QByteArray("bogus");
    QTest::newRow("connect without url") << QStringList{QStringLiteral("connect")} << 2 << QByteArray("missing url");
    QTest::newRow("header without colon")
            << QStringList{QStringLiteral("connect"), QStringLiteral("ws://127.0.0.1:1"), QStringLiteral("-H"),
                           QStringLiteral("NoColon")}
            << 2 << QByteArray("invalid header");
    QTest::newRow("wait not a number")
            << QStringList{QStringLiteral("connect"), QStringLiteral("ws://127.0.0.1:1"), QStringLiteral("-w"),
                           QStringLiteral("soon")}
            << 2 << QByteArray("invalid --wait");
    // The library refuses these in open(), as ws throws in its constructor.
    QTest::newRow("unsupported scheme") << QStringList{QStringLiteral("connect"), QStringLiteral("ftp://127.0.0.1/")}
                                        << 2 << QByteArray("wsqt connect:");
    QTest::newRow("invalid subprotocol")
            << QStringList{QStringLiteral("connect"), QStringLiteral("ws://127.0.0.1:1"), QStringLiteral("-s"),
                           QStringLiteral("two words")}
            << 2 << QByteArray("wsqt connect:");
}

void tst_Cli::usage()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QByteArray, expected);

    QProcess process;
    process.start(QStringLiteral(WSQT_CLI_EXECUTABLE), arguments);
    QVERIFY(process.waitForFinished(kTimeout));
    const QByteArray out = process.readAllStandardOutput();
    const QByteArray err = process.readAllStandardError();
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QVERIFY2(process.exitCode() == exitCode, (out + err).constData());
    if (exitCode == 0) {
        QVERIFY2(out.contains(expected), out.constData());
    } else {
        QVERIFY2(err.contains(expected), err.constData());
        QVERIFY2(out.isEmpty(), out.constData());
    }
}

void tst_Cli::executeAndWait_data()
{
    QTest::addColumn<QStringList>("waitOptions");
    QTest::newRow("close after sending") << QStringList();
    QTest::newRow("wait one second") << QStringList{QStringLiteral("-w"), QStringLiteral("1")};
}

void tst_Cli::executeAndWait()
{
    QFETCH(QStringList, waitOptions);

    const auto server = startCli(listenArguments({QStringLiteral("--echo")}));
    AWAIT_LISTENING(*server, port);
    const auto client = startCli(QStringList{QStringLiteral("connect"), localUrl(port), QStringLiteral("-x"),
                                             QStringLiteral("hello"), QStringLiteral("-x"), QStringLiteral("world")}
                                 + waitOptions);
    AWAIT_EXIT(*client, 0);
    // Each echo arrives before the answer to the close frame that follows the messages.
    QCOMPARE(client->out(), QByteArray("connected (press CTRL+C to quit)\n"
                                       "< hello\n"
                                       "< world\n"
                                       "disconnected (code: 1000, reason: \"\")\n"));
    QTRY_VERIFY2_WITH_TIMEOUT(server->errorsContain("disconnected (code: 1000, reason: \"\")"),
                              server->describe().constData(), kTimeout);
}

void tst_Cli::interactive()
{
    const auto server = startCli(listenArguments({QStringLiteral("--echo")}));
    AWAIT_LISTENING(*server, port);
    const auto client = startCli({QStringLiteral("connect"), localUrl(port), QStringLiteral("-P")});
    AWAIT_LINE(*client, "connected (press CTRL+C to quit)");

    client->write("hello there\n");
    AWAIT_LINE(*client, "< hello there");
    client->write("//not a command\r\n");
    AWAIT_LINE(*client, "< /not a command");
    client->write("/ping some data\n");
    AWAIT_LINE(*client, "< received pong (data: some data)");
    client->write("/bogus\n");
    QTRY_VERIFY2_WITH_TIMEOUT(client->errorsContain("unknown command /bogus"), client->describe().constData(),
                              kTimeout);
    // A close code the library refuses leaves the connection open.
    client->write("/close 999\n");
    client->write("still open\n");
    AWAIT_LINE(*client, "< still open");
    QCOMPARE(client->err().count("error: "), 2);

    client->write("/close 4000 bye bye\n");
    AWAIT_EXIT(*client, 0);
    QVERIFY(client->hasLine("disconnected (code: 4000, reason: \"bye bye\")"));
    QTRY_VERIFY2_WITH_TIMEOUT(server->errorsContain("disconnected (code: 4000, reason: \"bye bye\")"),
                              server->describe().constData(), kTimeout);
}

void tst_Cli::endOfInputCloses()
{
    const auto server = startCli(listenArguments({QStringLiteral("--echo")}));
    AWAIT_LISTENING(*server, port);
    const auto client = startCli({QStringLiteral("connect"), localUrl(port)});
    AWAIT_LINE(*client, "connected (press CTRL+C to quit)");

    client->write("first\nlast without newline");
    client->closeInput();
    AWAIT_EXIT(*client, 0);
    QCOMPARE(client->out(), QByteArray("connected (press CTRL+C to quit)\n"
                                       "< first\n"
                                       "< last without newline\n"
                                       "disconnected (code: 1000, reason: \"\")\n"));
}

void tst_Cli::broadcast()
{
    const auto server = startCli(listenArguments({QStringLiteral("--broadcast")}));
    AWAIT_LISTENING(*server, port);
    const auto first = startCli({QStringLiteral("connect"), localUrl(port)});
    const auto second = startCli({QStringLiteral("connect"), localUrl(port)});
    // A client is among the server's clients before it sees the 101 response.
    AWAIT_LINE(*first, "connected (press CTRL+C to quit)");
    AWAIT_LINE(*second, "connected (press CTRL+C to quit)");

    first->write("from the first\n");
    AWAIT_LINE(*second, "< from the first");
    second->write("from the second\n");
    AWAIT_LINE(*first, "< from the second");
    // Had the server sent the first client its own message, it would have come before.
    QVERIFY2(!first->hasLine("< from the first"), first->describe().constData());
    QVERIFY2(!second->hasLine("< from the second"), second->describe().constData());

    first->closeInput();
    second->closeInput();
    AWAIT_EXIT(*first, 0);
    AWAIT_EXIT(*second, 0);
}

void tst_Cli::subprotocol_data()
{
    QTest::addColumn<QStringList>("offered");
    QTest::addColumn<QByteArray>("chosen");     // empty: none
    QTest::addColumn<int>("exitCode");

    QTest::newRow("none offered") << QStringList() << QByteArray() << 0;
    QTest::newRow("the only one") << QStringList{QStringLiteral("superchat")} << QByteArray("superchat") << 0;
    QTest::newRow("client's order") << QStringList{QStringLiteral("other"), QStringLiteral("superchat"),
                                                   QStringLiteral("chat")}
                                    << QByteArray("superchat") << 0;
    // As ws: a client that offered subprotocols fails when none is chosen.
    QTest::newRow("no match") << QStringList{QStringLiteral("other")} << QByteArray() << 1;
}

void tst_Cli::subprotocol()
{
    QFETCH(QStringList, offered);
    QFETCH(QByteArray, chosen);
    QFETCH(int, exitCode);

    const auto server = startCli(listenArguments({QStringLiteral("--echo"), QStringLiteral("-s"),
                                                  QStringLiteral("chat"), QStringLiteral("--subprotocol"),
                                                  QStringLiteral("superchat")}));
    AWAIT_LISTENING(*server, port);
    QStringList arguments{QStringLiteral("connect"), localUrl(port), QStringLiteral("-x"), QStringLiteral("hi")};
    for (const QString &protocol : offered)
        arguments += {QStringLiteral("-s"), protocol};
    const auto client = startCli(arguments);
    AWAIT_EXIT(*client, exitCode);

    if (exitCode != 0) {
        QVERIFY2(client->hasErrorLine(), client->describe().constData());
        QVERIFY2(!client->hasLine("connected (press CTRL+C to quit)"), client->describe().constData());
        return;
    }
    QCOMPARE(client->hasLine("subprotocol: " + chosen), !chosen.isEmpty());
    QCOMPARE(client->out().contains("subprotocol:"), !chosen.isEmpty());
    QTRY_VERIFY2_WITH_TIMEOUT(server->errorsContain("connected to /"), server->describe().constData(), kTimeout);
    QCOMPARE(server->errorsContain("(subprotocol: " + chosen + ')'), !chosen.isEmpty());
}

void tst_Cli::requestHeaders()
{
    const auto server = startServer();
    QSignalSpy listening(server.get(), &WsServer::listening);
    QVERIFY(listening.wait(kTimeout));
    WsHttpRequest request;
    QObject::connect(server.get(), &WsServer::newConnection, server.get(),
                     [&request](WsSocket *, const WsHttpRequest &received) { request = received; });

    const auto client = startCli({QStringLiteral("connect"),
                                  localUrl(server->address().port, QStringLiteral("/chat?room=1")),
                                  QStringLiteral("-H"), QStringLiteral("X-Test: 42"),
                                  QStringLiteral("--header"), QStringLiteral("X-Spaced:  a b  "),
                                  QStringLiteral("-H"), QStringLiteral("X-Test: 43"),
                                  QStringLiteral("-o"), QStringLiteral("https://example.com"),
                                  QStringLiteral("-x"), QStringLiteral("hi")});
    AWAIT_EXIT(*client, 0);
    QCOMPARE(request.target, QByteArray("/chat?room=1"));
    QCOMPARE(request.headers.values("x-test"), QList<QByteArray>({"42", "43"}));
    QCOMPARE(request.headers.value("X-Spaced"), QByteArray("a b"));
    QCOMPARE(request.headers.value("Origin"), QByteArray("https://example.com"));
}

void tst_Cli::received_data()
{
    QTest::addColumn<int>("frame");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("text") << int(Text) << QByteArray("plain text") << QByteArray("< plain text");
    QTest::newRow("binary") << int(Binary) << QByteArray("\x00\x01\xfe", 3) << QByteArray("< <binary 3 bytes> 0001fe");
    QTest::newRow("empty binary") << int(Binary) << QByteArray() << QByteArray("< <binary 0 bytes>");
    QTest::newRow("long binary") << int(Binary) << QByteArray(70, '\xab')
                                 << "< <binary 70 bytes> " + QByteArray(64, '\xab').toHex() + "...";
    QTest::newRow("ping") << int(Ping) << QByteArray("are you there") << QByteArray("< received ping (data: are you there)");
    QTest::newRow("binary ping") << int(Ping) << QByteArray("\x01\x02", 2)
                                 << QByteArray("< received ping (data: <binary 2 bytes> 0102)");
    QTest::newRow("pong") << int(Pong) << QByteArray("unsolicited") << QByteArray("< received pong (data: unsolicited)");
}

void tst_Cli::received()
{
    QFETCH(int, frame);
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, expected);

    const auto server = startServer();
    QSignalSpy listening(server.get(), &WsServer::listening);
    QVERIFY(listening.wait(kTimeout));
    QObject::connect(server.get(), &WsServer::newConnection, server.get(), [&](WsSocket *socket) {
        switch (frame) {
        case Text:
            socket->sendText(QString::fromUtf8(payload));
            break;
        case Binary:
            socket->sendBinary(payload);
            break;
        case Ping:
            socket->ping(payload);
            break;
        case Pong:
            socket->pong(payload);
            break;
        }
        socket->close(1000, QByteArray("done"));
    });

    const auto client = startCli({QStringLiteral("connect"), localUrl(server->address().port), QStringLiteral("-P")});
    AWAIT_EXIT(*client, 0);
    QCOMPARE(client->out(), "connected (press CTRL+C to quit)\n" + expected + "\n"
                                    "disconnected (code: 1000, reason: \"done\")\n");
}

void tst_Cli::maxPayload()
{
    const auto server = startCli(listenArguments({QStringLiteral("--echo"), QStringLiteral("--max-payload"),
                                                  QStringLiteral("8")}));
    AWAIT_LISTENING(*server, port);
    const auto client = startCli({QStringLiteral("connect"), localUrl(port)});
    AWAIT_LINE(*client, "connected (press CTRL+C to quit)");

    client->write("12345678\n");
    AWAIT_LINE(*client, "< 12345678");
    client->write("123456789\n");
    AWAIT_EXIT(*client, 1);
    QVERIFY(client->hasLine("disconnected (code: 1009, reason: \"\")"));
    QTRY_VERIFY2_WITH_TIMEOUT(server->errorsContain("client 1 (127.0.0.1:") && server->errorsContain(" error: "),
                              server->describe().constData(), kTimeout);
}

void tst_Cli::connectionRefused()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        port = probe.serverPort();
    }
    const auto client = startCli({QStringLiteral("connect"), localUrl(port), QStringLiteral("-x"),
                                  QStringLiteral("hi")});
    AWAIT_EXIT(*client, 1);
    QVERIFY2(client->out().isEmpty(), client->describe().constData());
    QVERIFY2(client->hasErrorLine(), client->describe().constData());
}

void tst_Cli::handshakeFailure_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("exitCode");
    QTest::newRow("served path") << QStringLiteral("/ws") << 0;
    QTest::newRow("query ignored") << QStringLiteral("/ws?x=1") << 0;
    QTest::newRow("other path") << QStringLiteral("/other") << 1;
}

void tst_Cli::handshakeFailure()
{
    QFETCH(QString, path);
    QFETCH(int, exitCode);

    const auto server = startCli(listenArguments({QStringLiteral("--echo"), QStringLiteral("--path"),
                                                  QStringLiteral("/ws")}));
    AWAIT_LISTENING(*server, port);
    const auto client = startCli({QStringLiteral("connect"), localUrl(port, path), QStringLiteral("-x"),
                                  QStringLiteral("hi")});
    AWAIT_EXIT(*client, exitCode);
    QCOMPARE(client->hasLine("< hi"), exitCode == 0);
    QCOMPARE(client->hasErrorLine(), exitCode != 0);
}

void tst_Cli::listenEchoes_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("isBinary");
    QTest::newRow("text") << QByteArray("h\xc3\xa9llo") << false;
    QTest::newRow("empty text") << QByteArray() << false;
    QTest::newRow("binary") << QByteArray("\x00\xff\x80\n", 4) << true;
    QTest::newRow("large binary") << QByteArray(200000, 'x') << true;
}

void tst_Cli::listenEchoes()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, isBinary);

    const auto server = startCli(listenArguments({QStringLiteral("--echo")}));
    AWAIT_LISTENING(*server, port);
    WsSocket socket;
    QSignalSpy received(&socket, &WsSocket::messageReceived);
    QSignalSpy opened(&socket, &WsSocket::opened);
    QVERIFY(!socket.open(QUrl(localUrl(port))));
    QVERIFY(opened.wait(kTimeout));

    WsSendOptions options;
    options.binary = isBinary;
    QVERIFY(!socket.send(message, options));
    QTRY_COMPARE_WITH_TIMEOUT(received.count(), 1, kTimeout);
    QCOMPARE(received.at(0).at(0).toByteArray(), message);
    QCOMPARE(received.at(0).at(1).toBool(), isBinary);
    // The server's stdout is for messages; echoing prints none.
    QCOMPARE(server->out().count('\n'), 1);
}

void tst_Cli::listenPrints()
{
    const auto server = startCli(listenArguments({}));
    AWAIT_LISTENING(*server, port);
    WsSocket socket;
    QSignalSpy received(&socket, &WsSocket::messageReceived);
    QSignalSpy opened(&socket, &WsSocket::opened);
    QVERIFY(!socket.open(QUrl(localUrl(port, QStringLiteral("/room")))));
    QVERIFY(opened.wait(kTimeout));
    QTRY_VERIFY2_WITH_TIMEOUT(server->errorsContain("client 1 (127.0.0.1:" + QByteArray::number(socket.localPort())
                                                    + ") connected to /room"),
                              server->describe().constData(), kTimeout);

    QVERIFY(!socket.sendText(QStringLiteral("from the client")));
    AWAIT_LINE(*server, "< from the client");
    QVERIFY(!socket.sendBinary(QByteArray("\x01\x02", 2)));
    AWAIT_LINE(*server, "< <binary 2 bytes> 0102");

    server->write("to every client\n");
    QTRY_COMPARE_WITH_TIMEOUT(received.count(), 1, kTimeout);
    QCOMPARE(received.at(0).at(0).toByteArray(), QByteArray("to every client"));
    QCOMPARE(received.at(0).at(1).toBool(), false);

    QVERIFY(!socket.close(4001, QByteArray("leaving")));
    QTRY_VERIFY2_WITH_TIMEOUT(server->errorsContain(") disconnected (code: 4001, reason: \"leaving\")"),
                              server->describe().constData(), kTimeout);
}

void tst_Cli::listenPortInUse()
{
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress::LocalHost));
    const auto server = startCli({QStringLiteral("listen"), QString::number(occupant.serverPort()),
                                  QStringLiteral("--host"), QStringLiteral("127.0.0.1")});
    AWAIT_EXIT(*server, 1);
    QVERIFY2(server->out().isEmpty(), server->describe().constData());
    QVERIFY2(server->hasErrorLine(), server->describe().constData());
}

QTEST_MAIN(tst_Cli)
#include "tst_cli.moc"
