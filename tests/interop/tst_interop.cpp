// Interoperability with other implementations: WsServer and WsSocket talk to
// a peer process that runs Node's ws package or Python's websockets package.
// The same scenarios are built once per peer and per role
// (WSQT_INTEROP_WSQT_IS_SERVER: WsServer against the peer's client, or
// WsSocket against the peer's server). The peers are scripted over their
// stdin and report what they saw on stdout (see README.md).

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qendian.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qprocess.h>
#include <QtTest/qtest.h>

#include <memory>
#include <optional>

Q_DECLARE_METATYPE(WsDeflateOptions)

namespace {

constexpr bool kWsqtIsServer = WSQT_INTEROP_WSQT_IS_SERVER;
// Generous: a 16 MiB message on a loaded machine.
constexpr int kTimeout = 60000;
// Shorter than both sides' close timeouts: a closing handshake that waits
// for one of them has failed.
constexpr int kCloseTimeout = 5000;
// How long a paused socket is watched for messages it must not deliver.
constexpr int kPausedWatch = 500;

const QByteArray kTextPattern = "wsqt interop: the quick brown fox jumps over the lazy dog 0123456789\n";

bool peerIsWs()
{
    return QLatin1String(WSQT_INTEROP_PEER) == QLatin1String("ws");
}

QString key(const char *name)
{
    return QString::fromLatin1(name);
}

// The contents both sides can build: SHA-256 in counter mode (incompressible)
// or a repeated line of text (compressible).
enum class Content { Random, Text };

QByteArray generate(Content kind, qsizetype size, quint32 seed = 0)
{
    QByteArray out;
    out.reserve(size);
    if (kind == Content::Text) {
        while (out.size() < size)
            out.append(kTextPattern.left(size - out.size()));
        return out;
    }
    uchar counter[8];
    qToBigEndian(seed, counter);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (quint32 block = 0; out.size() < size; ++block) {
        qToBigEndian(block, counter + 4);
        hash.reset();
        hash.addData(QByteArrayView(counter, sizeof counter));
        const QByteArrayView digest = hash.resultView();
        out.append(digest.first(qMin(digest.size(), size - out.size())));
    }
    return out;
}

QJsonObject generateSpec(Content kind, qsizetype size, quint32 seed = 0)
{
    return {{key("kind"), kind == Content::Text ? key("text") : key("random")},
            {key("size"), double(size)},
            {key("seed"), double(seed)}};
}

QByteArray sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

QString toBase64(const QByteArray &data)
{
    return QString::fromLatin1(data.toBase64());
}

QByteArray fromBase64(const QJsonValue &value)
{
    return QByteArray::fromBase64(value.toString().toLatin1());
}

QJsonObject command(const char *name, QJsonObject fields = {})
{
    fields.insert(key("cmd"), key(name));
    return fields;
}

QJsonObject sendCommand(const QByteArray &data, bool binary)
{
    return command("send", {{key("data"), toBase64(data)}, {key("binary"), binary}});
}

// The peer process: configured by its command line, scripted through stdin,
// reporting JSON events on stdout.
class Peer : public QObject
{
public:
    Peer()
    {
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        connect(&m_process, &QProcess::readyReadStandardOutput, this, &Peer::readOutput);
    }

    ~Peer() override { stop(); }

    void start(const QJsonObject &config)
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        const QString nodePath = QString::fromLocal8Bit(WSQT_INTEROP_NODE_PATH);
        if (!nodePath.isEmpty())
            environment.insert(QStringLiteral("NODE_PATH"), nodePath);
        m_process.setProcessEnvironment(environment);
        const QString configText = QString::fromUtf8(QJsonDocument(config).toJson(QJsonDocument::Compact));
        m_process.start(QString::fromLocal8Bit(WSQT_INTEROP_PEER_PROGRAM),
                        {QString::fromLocal8Bit(WSQT_INTEROP_PEER_SCRIPT), configText});
    }

    // Closing stdin makes the peer drop its connection and exit.
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(10000)) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }

    bool has(const QString &type) const { return indexOf(type) >= 0; }

    // Removes and returns the first event of this type, waiting for it; an
    // empty object when none came in time or the peer exited.
    QJsonObject next(const QString &type, int timeout = kTimeout)
    {
        const auto arrived = [&] {
            readOutput();
            return has(type) || m_process.state() == QProcess::NotRunning;
        };
        if (!QTest::qWaitFor(arrived, timeout))
            return {};
        const qsizetype index = indexOf(type);
        return index >= 0 ? m_events.takeAt(index) : QJsonObject();
    }

    QJsonObject next(const char *type, int timeout = kTimeout) { return next(key(type), timeout); }

    void post(QJsonObject cmd)
    {
        cmd.insert(key("id"), ++m_lastId);
        m_process.write(QJsonDocument(cmd).toJson(QJsonDocument::Compact) + '\n');
    }

    // Runs a command and returns the peer's "done" event for it (with an
    // "error" text when it failed); an empty object on timeout.
    QJsonObject call(const QJsonObject &cmd, int timeout = kTimeout)
    {
        post(cmd);
        const int id = m_lastId;
        const auto arrived = [&] {
            readOutput();
            return doneIndex(id) >= 0 || m_process.state() == QProcess::NotRunning;
        };
        if (!QTest::qWaitFor(arrived, timeout))
            return {};
        const qsizetype index = doneIndex(id);
        return index >= 0 ? m_events.takeAt(index) : QJsonObject();
    }

private:
    void readOutput()
    {
        m_pending.append(m_process.readAllStandardOutput());
        qsizetype end;
        while ((end = m_pending.indexOf('\n')) >= 0) {
            const QByteArray line = m_pending.left(end).trimmed();
            m_pending.remove(0, end + 1);
            if (line.startsWith("ready ")) {
                m_events.append({{key("event"), key("ready")}, {key("port"), line.mid(6).toInt()}});
                continue;
            }
            QJsonParseError error;
            const QJsonDocument document = QJsonDocument::fromJson(line, &error);
            if (document.isObject())
                m_events.append(document.object());
            else if (!line.isEmpty())
                qWarning("peer output is not an event (%s): %s", qPrintable(error.errorString()), line.constData());
        }
    }

    qsizetype indexOf(const QString &type) const
    {
        for (qsizetype i = 0; i < m_events.size(); ++i) {
            if (m_events.at(i).value(QLatin1String("event")).toString() == type)
                return i;
        }
        return -1;
    }

    qsizetype doneIndex(int id) const
    {
        for (qsizetype i = 0; i < m_events.size(); ++i) {
            const QJsonObject &event = m_events.at(i);
            if (event.value(QLatin1String("event")).toString() == QLatin1String("done")
                && event.value(QLatin1String("id")).toInt() == id)
                return i;
        }
        return -1;
    }

    QProcess m_process;
    QByteArray m_pending;
    QList<QJsonObject> m_events;
    int m_lastId = 0;
};

// Everything the wsqt end of the connection reported.
class Recorder : public QObject
{
public:
    void watch(WsSocket *socket)
    {
        connect(socket, &WsSocket::messageReceived, this, [this](const QByteArray &data, bool binary) {
            messages.append(data);
            binaryFlags.append(binary);
        });
        connect(socket, &WsSocket::fragmentsReceived, this, [this](const QByteArrayList &list, bool binary) {
            fragmentLists.append(list);
            binaryFlags.append(binary);
        });
        connect(socket, &WsSocket::pingReceived, this, [this](const QByteArray &data) { pings.append(data); });
        connect(socket, &WsSocket::pongReceived, this, [this](const QByteArray &data) { pongs.append(data); });
        connect(socket, &WsSocket::errorOccurred, this, [this](const WsError &error) { errors.append(error); });
        connect(socket, &WsSocket::closed, this, [this](int code, const QByteArray &reason) {
            ++closedCount;
            closeCode = code;
            closeReason = reason;
        });
    }

    QByteArrayList messages;
    QList<QByteArrayList> fragmentLists;
    QList<bool> binaryFlags;
    QByteArrayList pings;
    QByteArrayList pongs;
    QList<WsError> errors;
    int closedCount = 0;
    int closeCode = 0;
    QByteArray closeReason;
};

// How a connection is set up; each side's defaults otherwise.
struct Settings
{
    std::optional<WsDeflateOptions> deflate;        // wsqt's; off when not set
    QJsonValue peerDeflate = QJsonValue::Null;      // the peer's; off when null
    qint64 maxPayload = -1;
    qint64 peerMaxPayload = -1;
    QStringList protocols;                          // offered by the client
    std::optional<QString> select;                  // chosen by the server among them
    bool tapFrames = false;                         // the peer reports each frame it receives
    WsSocket::BinaryType binaryType = WsSocket::NodeBuffer;
};

// One connection between a wsqt end and the peer.
struct Link
{
    ~Link()
    {
        // The peer goes first, so that the wsqt end sees a closed connection
        // rather than tearing it down itself.
        peer.stop();
        client.reset();
        server.reset();
    }

    std::unique_ptr<WsServer> server;
    std::unique_ptr<WsSocket> client;
    QPointer<WsSocket> socket;  // the wsqt end
    Recorder wsqt;
    Peer peer;
    QJsonObject peerOpen;       // the peer's "open" event
};

} // namespace

class TstInterop : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void messages_data();
    void messages();
    void fragmentedMessages_data();
    void fragmentedMessages();
    void pingPong_data();
    void pingPong();
    void closing_data();
    void closing();
    void invalidUtf8_data();
    void invalidUtf8();
    void subprotocol_data();
    void subprotocol();
    void maxPayload_data();
    void maxPayload();
    void pauseResume();

    void deflateRoundTrip_data();
    void deflateRoundTrip();
    void deflateParameters_data();
    void deflateParameters();
    void deflateThreshold_data();
    void deflateThreshold();
    void deflateFragmentsFromPeer_data();
    void deflateFragmentsFromPeer();

private:
    void open(Link &link, const Settings &settings, bool expectOpen = true);
    void expectPeerMessage(Peer &peer, const QByteArray &data, bool binary);
};

void TstInterop::initTestCase()
{
    qInfo("peer: %s (%s); wsqt is the %s", WSQT_INTEROP_PEER, WSQT_INTEROP_PEER_SCRIPT,
          kWsqtIsServer ? "server" : "client");
}

void TstInterop::open(Link &link, const Settings &settings, bool expectOpen)
{
    QJsonObject config{{key("role"), kWsqtIsServer ? key("client") : key("server")}};
    if (!settings.peerDeflate.isNull())
        config.insert(key("deflate"), settings.peerDeflate);
    if (settings.peerMaxPayload >= 0)
        config.insert(key("maxPayload"), double(settings.peerMaxPayload));
    if (settings.tapFrames)
        config.insert(key("tapFrames"), true);

    if (kWsqtIsServer) {
        WsServerOptions options;
        options.port = 0;
        options.host = QHostAddress::LocalHost;
        options.perMessageDeflate = settings.deflate;
        if (settings.maxPayload >= 0)
            options.maxPayload = settings.maxPayload;
        if (settings.select) {
            options.handleProtocols = [select = *settings.select](const QStringList &offered,
                                                                  const WsHttpRequest &) {
                return offered.contains(select) ? select : QString();
            };
        }
        link.server = std::make_unique<WsServer>(options);
        QVERIFY2(link.server->isListening(), qPrintable(link.server->error().message()));
        const WsSocket::BinaryType binaryType = settings.binaryType;
        QObject::connect(link.server.get(), &WsServer::newConnection, &link.wsqt,
                         [&link, binaryType](WsSocket *socket) {
                             QVERIFY(!link.socket);
                             socket->setBinaryType(binaryType);
                             link.socket = socket;
                             link.wsqt.watch(socket);
                         });
        config.insert(key("url"), QStringLiteral("ws://127.0.0.1:%1/").arg(link.server->address().port));
        config.insert(key("protocols"), QJsonArray::fromStringList(settings.protocols));
        link.peer.start(config);
        if (!expectOpen)
            return;
        QTRY_VERIFY_WITH_TIMEOUT(link.socket, kTimeout);
    } else {
        if (settings.select)
            config.insert(key("selectProtocol"), *settings.select);
        link.peer.start(config);
        const QJsonObject ready = link.peer.next("ready");
        QVERIFY2(!ready.isEmpty(), "the peer's server did not start");
        WsClientOptions options;
        options.perMessageDeflate = settings.deflate;
        if (settings.maxPayload >= 0)
            options.maxPayload = settings.maxPayload;
        link.client = std::make_unique<WsSocket>();
        link.client->setBinaryType(settings.binaryType);
        link.socket = link.client.get();
        link.wsqt.watch(link.socket);
        const QUrl url(QStringLiteral("ws://127.0.0.1:%1/").arg(ready.value(QLatin1String("port")).toInt()));
        const WsError error = link.client->open(url, settings.protocols, options);
        QVERIFY2(!error, qPrintable(error.message()));
        if (!expectOpen)
            return;
        QTRY_COMPARE_WITH_TIMEOUT(link.client->readyState(), WsSocket::Open, kTimeout);
    }
    QCOMPARE(link.socket->readyState(), WsSocket::Open);
    link.peerOpen = link.peer.next("open");
    QVERIFY2(!link.peerOpen.isEmpty(), "the peer did not open the connection");
}

void TstInterop::expectPeerMessage(Peer &peer, const QByteArray &data, bool binary)
{
    const QJsonObject message = peer.next("message");
    QVERIFY2(!message.isEmpty(), "the peer received no message");
    QCOMPARE(message.value(QLatin1String("binary")).toBool(), binary);
    QCOMPARE(message.value(QLatin1String("size")).toInteger(), data.size());
    if (message.contains(QLatin1String("data")))
        QCOMPARE(fromBase64(message.value(QLatin1String("data"))), data);
    QCOMPARE(message.value(QLatin1String("sha256")).toString().toLatin1(), sha256Hex(data));
}

// ---- Messages ----------------------------------------------------------------

void TstInterop::messages_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("binary");
    QTest::addColumn<int>("seed");  // random contents the peer builds itself; -1: sent as they are

    const auto random = [](int size, int seed) {
        QTest::addRow("%d bytes", size) << generate(Content::Random, size, seed) << true << seed;
    };
    QTest::newRow("text") << QByteArray("Hello, interop") << false << -1;
    QTest::newRow("binary") << QByteArray::fromHex("00010280fffe7f") << true << -1;
    QTest::newRow("empty text") << QByteArray() << false << -1;
    QTest::newRow("empty binary") << QByteArray() << true << -1;
    const QString multibyte = QStringLiteral(u"h\u00e9llo \u2014 \u65e5\u672c\u8a9e \u2713 \U0001F389 \u03a9");
    QTest::newRow("utf-8 text") << multibyte.toUtf8() << false << -1;
    // Each payload length encoding and its edges.
    random(125, 1);
    random(126, 2);
    random(65535, 3);
    random(65536, 4);
    random(1 << 20, 5);
    random(16 << 20, 6);
}

void TstInterop::messages()
{
    QFETCH(QByteArray, data);
    QFETCH(bool, binary);
    QFETCH(int, seed);

    Link link;
    open(link, Settings());
    if (QTest::currentTestFailed())
        return;

    WsSendOptions options;
    options.binary = binary;
    QVERIFY(!link.socket->send(data, options));
    expectPeerMessage(link.peer, data, binary);
    if (QTest::currentTestFailed())
        return;

    const QJsonObject send = seed < 0
            ? sendCommand(data, binary)
            : command("send", {{key("generate"), generateSpec(Content::Random, data.size(), seed)},
                               {key("binary"), binary}});
    const QJsonObject done = link.peer.call(send);
    QCOMPARE(done.value(QLatin1String("error")).toString(), QString());
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.messages.size(), 1, kTimeout);
    QCOMPARE(link.wsqt.binaryFlags.first(), binary);
    QCOMPARE(link.wsqt.messages.first().size(), data.size());
    QVERIFY(link.wsqt.messages.first() == data);
    QVERIFY(link.wsqt.errors.isEmpty());
}

void TstInterop::fragmentedMessages_data()
{
    QTest::addColumn<QByteArrayList>("fragments");
    QTest::addColumn<bool>("binary");
    QTest::addColumn<WsSocket::BinaryType>("binaryType");

    const QByteArrayList text{"Hel", "lo, ", "world"};
    // Only the whole message has to be valid UTF-8.
    const QByteArrayList splitCharacter{"caf\xc3", "\xa9 \xe2\x9c", "\x93"};
    const QByteArrayList binary{QByteArray::fromHex("0001"), "\x02", "\x03\x04\x05"};
    const QByteArrayList large{generate(Content::Random, 100 * 1024, 1), generate(Content::Random, 100 * 1024, 2),
                               generate(Content::Random, 100 * 1024, 3)};
    for (const WsSocket::BinaryType type : {WsSocket::NodeBuffer, WsSocket::Fragments}) {
        const char *name = type == WsSocket::NodeBuffer ? "NodeBuffer" : "Fragments";
        QTest::addRow("%s: text in three", name) << text << false << type;
        QTest::addRow("%s: text split inside a character", name) << splitCharacter << false << type;
        QTest::addRow("%s: binary in three", name) << binary << true << type;
        QTest::addRow("%s: binary with an empty fragment", name) << QByteArrayList{"ab", "", "cd"} << true << type;
        QTest::addRow("%s: binary ending with an empty fragment", name)
                << QByteArrayList{"ab", "cd", ""} << true << type;
        QTest::addRow("%s: binary 3 x 100 KiB", name) << large << true << type;
    }
}

void TstInterop::fragmentedMessages()
{
    QFETCH(QByteArrayList, fragments);
    QFETCH(bool, binary);
    QFETCH(WsSocket::BinaryType, binaryType);
    const QByteArray whole = fragments.join();

    Settings settings;
    settings.binaryType = binaryType;
    Link link;
    open(link, settings);
    if (QTest::currentTestFailed())
        return;

    for (qsizetype i = 0; i < fragments.size(); ++i) {
        WsSendOptions options;
        options.binary = binary;
        options.fin = i == fragments.size() - 1;
        QVERIFY(!link.socket->send(fragments.at(i), options));
    }
    expectPeerMessage(link.peer, whole, binary);
    if (QTest::currentTestFailed())
        return;

    QJsonArray encoded;
    for (const QByteArray &fragment : fragments)
        encoded.append(toBase64(fragment));
    const QJsonObject done = link.peer.call(
            command("sendFragments", {{key("fragments"), encoded}, {key("binary"), binary}}));
    QCOMPARE(done.value(QLatin1String("error")).toString(), QString());
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.binaryFlags.size(), 1, kTimeout);
    QCOMPARE(link.wsqt.binaryFlags.first(), binary);
    if (binary && binaryType == WsSocket::Fragments) {
        // The frames' payloads, as ws gives them: empty frames are not kept.
        QByteArrayList expected = fragments;
        expected.removeAll(QByteArray());
        QCOMPARE(link.wsqt.fragmentLists, QList<QByteArrayList>{expected});
        QVERIFY(link.wsqt.messages.isEmpty());
    } else {
        // binaryType is about binary data: ws delivers a text message whole,
        // as its 'message' event, whatever the binaryType.
        QCOMPARE(link.wsqt.messages, QByteArrayList{whole});
        QVERIFY(link.wsqt.fragmentLists.isEmpty());
    }
    QVERIFY(link.wsqt.errors.isEmpty());
}

void TstInterop::pingPong_data()
{
    QTest::addColumn<QByteArray>("payload");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("text") << QByteArray("are you there?");
    QTest::newRow("125 bytes") << generate(Content::Random, 125, 9);
}

void TstInterop::pingPong()
{
    QFETCH(QByteArray, payload);

    Link link;
    open(link, Settings());
    if (QTest::currentTestFailed())
        return;

    // wsqt pings: the peer answers by itself.
    QVERIFY(!link.socket->ping(payload));
    const QJsonObject ping = link.peer.next("ping");
    QVERIFY2(!ping.isEmpty(), "the peer saw no ping");
    QCOMPARE(fromBase64(ping.value(QLatin1String("data"))), payload);
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.pongs.size(), 1, kTimeout);
    QCOMPARE(link.wsqt.pongs.first(), payload);

    // The peer pings: wsqt answers by itself (autoPong) and reports the ping.
    const QJsonObject done = link.peer.call(command("ping", {{key("data"), toBase64(payload)}}));
    QCOMPARE(done.value(QLatin1String("error")).toString(), QString());
    const QJsonObject pong = link.peer.next("pong");
    QVERIFY2(!pong.isEmpty(), "the peer got no pong");
    QCOMPARE(fromBase64(pong.value(QLatin1String("data"))), payload);
    QCOMPARE(link.wsqt.pings, QByteArrayList{payload});
    QCOMPARE(link.wsqt.pongs.size(), 1);
    QVERIFY(link.wsqt.messages.isEmpty());
}

// ---- Closing -----------------------------------------------------------------

void TstInterop::closing_data()
{
    QTest::addColumn<bool>("wsqtStarts");
    QTest::addColumn<bool>("terminate");
    QTest::addColumn<int>("code");           // 0: a close frame without a code
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<int>("expectedCode");   // what both sides report
    QTest::addColumn<QByteArray>("expectedReason");

    const QByteArray reason = QStringLiteral(u"bye \u2713").toUtf8();
    QTest::newRow("wsqt closes with 1000") << true << false << 1000 << QByteArray() << 1000 << QByteArray();
    QTest::newRow("wsqt closes with code and reason") << true << false << 4000 << reason << 4000 << reason;
    QTest::newRow("wsqt closes with 1001 and reason")
            << true << false << 1001 << QByteArray("going away") << 1001 << QByteArray("going away");
    QTest::newRow("wsqt closes without code") << true << false << 0 << QByteArray() << 1005 << QByteArray();
    QTest::newRow("wsqt terminates") << true << true << 0 << QByteArray() << 1006 << QByteArray();
    QTest::newRow("peer closes with 1000") << false << false << 1000 << QByteArray() << 1000 << QByteArray();
    QTest::newRow("peer closes with code and reason") << false << false << 4001 << reason << 4001 << reason;
    QTest::newRow("peer closes without code") << false << false << 0 << QByteArray() << 1005 << QByteArray();
    QTest::newRow("peer terminates") << false << true << 0 << QByteArray() << 1006 << QByteArray();
}

void TstInterop::closing()
{
    QFETCH(bool, wsqtStarts);
    QFETCH(bool, terminate);
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(int, expectedCode);
    QFETCH(QByteArray, expectedReason);

    Link link;
    open(link, Settings());
    if (QTest::currentTestFailed())
        return;

    if (wsqtStarts) {
        if (terminate)
            link.socket->terminate();
        else
            QVERIFY(!link.socket->close(code, reason));
    } else {
        QJsonObject cmd = command(terminate ? "terminate" : "close");
        if (code)
            cmd.insert(key("code"), code);
        cmd.insert(key("reason"), toBase64(reason));
        const QJsonObject done = link.peer.call(cmd);
        QCOMPARE(done.value(QLatin1String("error")).toString(), QString());
    }

    const QJsonObject peerClose = link.peer.next("close", kCloseTimeout);
    QVERIFY2(!peerClose.isEmpty(), "the peer did not close in time");
    QCOMPARE(peerClose.value(QLatin1String("code")).toInt(), expectedCode);
    QCOMPARE(fromBase64(peerClose.value(QLatin1String("reason"))), expectedReason);

    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.closedCount, 1, kCloseTimeout);
    QCOMPARE(link.wsqt.closeCode, expectedCode);
    QCOMPARE(link.wsqt.closeReason, expectedReason);
    QVERIFY(link.wsqt.errors.isEmpty());
    QVERIFY(!link.peer.has(key("error")));
    if (kWsqtIsServer)
        QTRY_VERIFY(link.socket.isNull());  // a server-side socket deletes itself after closed()
    else
        QCOMPARE(link.socket->readyState(), WsSocket::Closed);
}

void TstInterop::invalidUtf8_data()
{
    QTest::addColumn<bool>("toWsqt");
    QTest::addColumn<QByteArray>("text");

    for (const bool toWsqt : {true, false}) {
        const char *to = toWsqt ? "to wsqt" : "to the peer";
        QTest::addRow("%s: bad byte", to) << toWsqt << QByteArray("ab\xff");
        QTest::addRow("%s: surrogate", to) << toWsqt << QByteArray("\xed\xa0\x80");
        QTest::addRow("%s: truncated character", to) << toWsqt << QByteArray("caf\xc3");
    }
}

// A text message that is not UTF-8: the receiving side fails with 1007.
void TstInterop::invalidUtf8()
{
    QFETCH(bool, toWsqt);
    QFETCH(QByteArray, text);

    Link link;
    open(link, Settings());
    if (QTest::currentTestFailed())
        return;

    if (toWsqt) {
        link.peer.post(sendCommand(text, false));
        QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.closedCount, 1, kCloseTimeout);
        QVERIFY(link.wsqt.messages.isEmpty());
        QCOMPARE(link.wsqt.errors.size(), 1);
        QCOMPARE(link.wsqt.errors.first().code(), WsError::InvalidUtf8);
        QCOMPARE(link.wsqt.errors.first().closeCode(), 1007);
        QCOMPARE(link.wsqt.errors.first().message(), QStringLiteral("Invalid WebSocket frame: invalid UTF-8 sequence"));
        QCOMPARE(link.wsqt.closeCode, 1006);
        QCOMPARE(link.peer.next("close", kCloseTimeout).value(QLatin1String("code")).toInt(), 1007);
        QVERIFY(!link.peer.has(key("error")));
        return;
    }

    // wsqt, as ws, does not check what it sends.
    WsSendOptions options;
    options.binary = false;
    QVERIFY(!link.socket->send(text, options));
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.closedCount, 1, kCloseTimeout);
    QCOMPARE(link.wsqt.closeCode, 1007);
    QVERIFY(link.wsqt.errors.isEmpty());
    QCOMPARE(link.peer.next("close", kCloseTimeout).value(QLatin1String("code")).toInt(), 1006);
    QVERIFY(!link.peer.has(key("message")));
    if (peerIsWs())
        QCOMPARE(link.peer.next("error", 0).value(QLatin1String("code")).toString(),
                 QStringLiteral("WS_ERR_INVALID_UTF8"));
}

// ---- Subprotocols ------------------------------------------------------------

void TstInterop::subprotocol_data()
{
    QTest::addColumn<QStringList>("offered");
    QTest::addColumn<QString>("select");

    QTest::newRow("server picks the second") << QStringList{QStringLiteral("a"), QStringLiteral("b")}
                                             << QStringLiteral("b");
    QTest::newRow("server picks none") << QStringList{QStringLiteral("a"), QStringLiteral("b")} << QString();
    QTest::newRow("client offers none") << QStringList() << QStringLiteral("b");
}

void TstInterop::subprotocol()
{
    QFETCH(QStringList, offered);
    QFETCH(QString, select);
    const QString expected = offered.contains(select) ? select : QString();

    Settings settings;
    settings.protocols = offered;
    settings.select = select;
    // ws and wsqt clients refuse an answer without one of their subprotocols;
    // Python's client goes on without one.
    const bool clientRefuses = !offered.isEmpty() && expected.isEmpty() && (!kWsqtIsServer || peerIsWs());
    Link link;
    open(link, settings, !clientRefuses);
    if (QTest::currentTestFailed())
        return;

    if (clientRefuses) {
        const QString message = QStringLiteral("Server sent no subprotocol");
        if (kWsqtIsServer) {
            const QJsonObject error = link.peer.next("error");
            QCOMPARE(error.value(QLatin1String("message")).toString(), message);
            QCOMPARE(link.peer.next("close").value(QLatin1String("code")).toInt(), 1006);
        } else {
            QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.closedCount, 1, kTimeout);
            QCOMPARE(link.wsqt.errors.size(), 1);
            QCOMPARE(link.wsqt.errors.first().code(), WsError::HandshakeFailed);
            QCOMPARE(link.wsqt.errors.first().message(), message);
            QCOMPARE(link.wsqt.closeCode, 1006);
            QCOMPARE(link.socket->protocol(), QString());
        }
        return;
    }

    QCOMPARE(link.socket->protocol(), expected);
    QCOMPARE(link.peerOpen.value(QLatin1String("protocol")).toString(), expected);
    QVERIFY(!link.socket->sendText(QStringLiteral("with %1").arg(expected)));
    expectPeerMessage(link.peer, QStringLiteral("with %1").arg(expected).toUtf8(), false);
}

// ---- maxPayload ----------------------------------------------------------------

void TstInterop::maxPayload_data()
{
    QTest::addColumn<bool>("toWsqt");     // the message goes to wsqt (else to the peer)
    QTest::addColumn<int>("limit");
    QTest::addColumn<int>("size");
    QTest::addColumn<bool>("deflate");    // a compressible message, compressed

    for (const bool toWsqt : {true, false}) {
        const char *to = toWsqt ? "to wsqt" : "to the peer";
        QTest::addRow("%s: at the limit", to) << toWsqt << 1000 << 1000 << false;
        QTest::addRow("%s: one byte over", to) << toWsqt << 1000 << 1001 << false;
        QTest::addRow("%s: 64-bit length, one byte over", to) << toWsqt << 65536 << 65537 << false;
        // The limit applies to the inflated size, not to the bytes on the wire.
        QTest::addRow("%s: compressed, inflated at the limit", to) << toWsqt << 4000 << 4000 << true;
        QTest::addRow("%s: compressed, inflated over the limit", to) << toWsqt << 1000 << 4000 << true;
    }
}

void TstInterop::maxPayload()
{
    QFETCH(bool, toWsqt);
    QFETCH(int, limit);
    QFETCH(int, size);
    QFETCH(bool, deflate);
    const bool refused = size > limit;
    const Content content = deflate ? Content::Text : Content::Random;
    const QByteArray data = generate(content, size, 7);

    Settings settings;
    if (toWsqt)
        settings.maxPayload = limit;
    else
        settings.peerMaxPayload = limit;
    if (deflate) {
        settings.deflate = WsDeflateOptions();
        settings.peerDeflate = QJsonObject();
    }
    Link link;
    open(link, settings);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(link.socket->extensions().isEmpty(), !deflate);

    if (toWsqt) {
        link.peer.post(command("send", {{key("generate"), generateSpec(content, size, 7)}, {key("binary"), true}}));
        if (!refused) {
            QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.messages.size(), 1, kTimeout);
            QVERIFY(link.wsqt.messages.first() == data);
            QCOMPARE(link.socket->readyState(), WsSocket::Open);
            return;
        }
        // As ws: the receiving side fails with 1009 and, having received no
        // close frame, reports 1006.
        QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.closedCount, 1, kCloseTimeout);
        QVERIFY(link.wsqt.messages.isEmpty());
        QCOMPARE(link.wsqt.errors.size(), 1);
        QCOMPARE(link.wsqt.errors.first().code(), WsError::UnsupportedMessageLength);
        QCOMPARE(link.wsqt.errors.first().closeCode(), 1009);
        QCOMPARE(link.wsqt.errors.first().message(), QStringLiteral("Max payload size exceeded"));
        QCOMPARE(link.wsqt.closeCode, 1006);
        const QJsonObject peerClose = link.peer.next("close", kCloseTimeout);
        QCOMPARE(peerClose.value(QLatin1String("code")).toInt(), 1009);
        QCOMPARE(fromBase64(peerClose.value(QLatin1String("reason"))), QByteArray());
        QVERIFY(!link.peer.has(key("error")));
        return;
    }

    QVERIFY(!link.socket->sendBinary(data));
    if (!refused) {
        expectPeerMessage(link.peer, data, true);
        QCOMPARE(link.socket->readyState(), WsSocket::Open);
        return;
    }
    // The peer fails with 1009; wsqt receives that close frame.
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.closedCount, 1, kCloseTimeout);
    QCOMPARE(link.wsqt.closeCode, 1009);
    QCOMPARE(link.wsqt.closeReason, QByteArray());
    QVERIFY(link.wsqt.errors.isEmpty());
    const QJsonObject peerClose = link.peer.next("close", kCloseTimeout);
    QCOMPARE(peerClose.value(QLatin1String("code")).toInt(), 1006);
    QVERIFY(!link.peer.has(key("message")));
    if (peerIsWs()) {
        const QJsonObject error = link.peer.next("error", 0);
        QCOMPARE(error.value(QLatin1String("code")).toString(), QStringLiteral("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"));
        QCOMPARE(error.value(QLatin1String("message")).toString(), QStringLiteral("Max payload size exceeded"));
    }
}

// ---- pause() and resume() ------------------------------------------------------

void TstInterop::pauseResume()
{
    // More than the socket buffers while paused, so that TCP pushes back.
    constexpr int count = 500;
    constexpr int size = 2048;

    Link link;
    open(link, Settings());
    if (QTest::currentTestFailed())
        return;

    link.socket->pause();
    QVERIFY(link.socket->isPaused());
    const QJsonObject done = link.peer.call(
            command("burst", {{key("count"), count}, {key("size"), size}, {key("binary"), true}}));
    QCOMPARE(done.value(QLatin1String("error")).toString(), QString());
    // Nothing can be awaited here: the point is that nothing comes.
    QVERIFY(!QTest::qWaitFor([&] { return !link.wsqt.messages.isEmpty(); }, kPausedWatch));

    link.socket->resume();
    QVERIFY(!link.socket->isPaused());
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.messages.size(), count, kTimeout);
    for (int i = 0; i < count; ++i) {
        const QByteArray &message = link.wsqt.messages.at(i);
        QCOMPARE(message.size(), size);
        QVERIFY2(message.startsWith(QByteArray::number(i) + ':'), message.left(16).constData());
    }
    QVERIFY(link.wsqt.errors.isEmpty());
}

// ---- permessage-deflate --------------------------------------------------------

void TstInterop::deflateRoundTrip_data()
{
    QTest::addColumn<int>("content");
    QTest::addColumn<int>("size");
    QTest::addColumn<bool>("binary");

    QTest::newRow("10 B text") << int(Content::Text) << 10 << false;
    QTest::newRow("2 KiB text") << int(Content::Text) << 2048 << false;
    QTest::newRow("1 MiB compressible") << int(Content::Text) << (1 << 20) << true;
    QTest::newRow("1 MiB random") << int(Content::Random) << (1 << 20) << true;
}

void TstInterop::deflateRoundTrip()
{
    QFETCH(int, content);
    QFETCH(int, size);
    QFETCH(bool, binary);
    const Content kind = Content(content);
    const QByteArray data = generate(kind, size, 11);

    // Each side with its library's default permessage-deflate settings.
    Settings settings;
    settings.deflate = WsDeflateOptions();
    settings.peerDeflate = true;
    settings.tapFrames = true;
    Link link;
    open(link, settings);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(link.socket->extensions().startsWith(QLatin1String("permessage-deflate")),
             qPrintable(link.socket->extensions()));
    QCOMPARE(link.peerOpen.value(QLatin1String("extensions")).toString(), QStringLiteral("permessage-deflate"));
    QCOMPARE(link.peerOpen.value(QLatin1String("extensionsHeader")).toString(), link.socket->extensions());

    WsSendOptions options;
    options.binary = binary;
    QVERIFY(!link.socket->send(data, options));
    const QJsonObject frame = link.peer.next("frame");
    QVERIFY2(!frame.isEmpty(), "the peer saw no frame");
    // No no-context-takeover was negotiated: every message is compressed.
    QVERIFY(frame.value(QLatin1String("rsv1")).toBool());
    if (kind == Content::Text && size >= 1024)
        QVERIFY(frame.value(QLatin1String("length")).toInteger() < size / 4);
    expectPeerMessage(link.peer, data, binary);
    if (QTest::currentTestFailed())
        return;

    link.peer.post(command("send", {{key("generate"), generateSpec(kind, size, 11)}, {key("binary"), binary}}));
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.messages.size(), 1, kTimeout);
    QCOMPARE(link.wsqt.binaryFlags.first(), binary);
    QVERIFY(link.wsqt.messages.first() == data);
    QVERIFY(link.wsqt.errors.isEmpty());
}

void TstInterop::deflateParameters_data()
{
    QTest::addColumn<WsDeflateOptions>("options");      // wsqt's
    QTest::addColumn<QJsonObject>("peerOptions");       // in ws's perMessageDeflate terms
    QTest::addColumn<QString>("header");                // the negotiated Sec-WebSocket-Extensions

    const auto row = [](const QString &name, const WsDeflateOptions &options, const QJsonObject &peer,
                        const QString &header) {
        QTest::newRow(qPrintable(name)) << options << peer << header;
    };
    const QString base = QStringLiteral("permessage-deflate");
    const QString snct = QStringLiteral("serverNoContextTakeover");
    const QString cnct = QStringLiteral("clientNoContextTakeover");
    const QString smwb = QStringLiteral("serverMaxWindowBits");
    const QString cmwb = QStringLiteral("clientMaxWindowBits");
    // Rows name the side (server or client) whose option or offer brings a parameter.
    const QString serverSide = kWsqtIsServer ? QStringLiteral("wsqt") : QStringLiteral("peer");
    const QString clientSide = kWsqtIsServer ? QStringLiteral("peer") : QStringLiteral("wsqt");
    // Options for the wsqt end or the peer, whichever is on that side.
    const auto serverOptions = [](const WsDeflateOptions &options, const QJsonObject &peer) {
        return kWsqtIsServer ? std::make_pair(options, QJsonObject()) : std::make_pair(WsDeflateOptions(), peer);
    };
    const auto clientOptions = [](const WsDeflateOptions &options, const QJsonObject &peer) {
        return kWsqtIsServer ? std::make_pair(WsDeflateOptions(), peer) : std::make_pair(options, QJsonObject());
    };

    row(QStringLiteral("defaults"), WsDeflateOptions(), QJsonObject(), base);

    WsDeflateOptions options;
    options.serverNoContextTakeover = true;
    auto [o1, p1] = serverOptions(options, {{snct, true}});
    row(serverSide + QStringLiteral(" server_no_context_takeover (server option)"), o1, p1,
        base + QStringLiteral("; server_no_context_takeover"));
    // ws's server takes an offered server_no_context_takeover only when its own option is set.
    row(clientSide + QStringLiteral(" server_no_context_takeover (client offer)"), options, {{snct, true}},
        base + QStringLiteral("; server_no_context_takeover"));

    options = WsDeflateOptions();
    options.clientNoContextTakeover = true;
    auto [o2, p2] = serverOptions(options, {{cnct, true}});
    row(serverSide + QStringLiteral(" client_no_context_takeover (server option)"), o2, p2,
        base + QStringLiteral("; client_no_context_takeover"));
    auto [o3, p3] = clientOptions(options, {{cnct, true}});
    row(clientSide + QStringLiteral(" client_no_context_takeover (client offer)"), o3, p3,
        base + QStringLiteral("; client_no_context_takeover"));

    for (int bits = 9; bits <= 15; ++bits) {
        const QString n = QString::number(bits);
        options = WsDeflateOptions();
        options.serverMaxWindowBits = bits;
        auto [o4, p4] = serverOptions(options, {{smwb, bits}});
        row(serverSide + QStringLiteral(" server_max_window_bits=%1 (server option)").arg(n), o4, p4,
            base + QStringLiteral("; server_max_window_bits=") + n);
        auto [o5, p5] = clientOptions(options, {{smwb, bits}});
        row(clientSide + QStringLiteral(" server_max_window_bits=%1 (client offer)").arg(n), o5, p5,
            base + QStringLiteral("; server_max_window_bits=") + n);

        options = WsDeflateOptions();
        options.clientMaxWindowBits = bits;
        // Against the client's default offer: client_max_window_bits without a value.
        auto [o6, p6] = serverOptions(options, {{cmwb, bits}});
        row(serverSide + QStringLiteral(" client_max_window_bits=%1 (server option, value-less offer)").arg(n), o6,
            p6, base + QStringLiteral("; client_max_window_bits=") + n);
        auto [o7, p7] = clientOptions(options, {{cmwb, bits}});
        row(clientSide + QStringLiteral(" client_max_window_bits=%1 (client offer)").arg(n), o7, p7,
            base + QStringLiteral("; client_max_window_bits=") + n);
    }

    // The client offers all four; the server keeps the offer's order.
    options = WsDeflateOptions();
    options.serverNoContextTakeover = true;
    options.clientNoContextTakeover = true;
    options.serverMaxWindowBits = 10;
    options.clientMaxWindowBits = 11;
    const QJsonObject all{{snct, true}, {cnct, true}, {smwb, 10}, {cmwb, 11}};
    const QString allHeader = base + QStringLiteral("; server_no_context_takeover; client_no_context_takeover; "
                                                    "server_max_window_bits=10; client_max_window_bits=11");
    if (kWsqtIsServer)
        row(QStringLiteral("peer offers all four"), options, all, allHeader);
    else
        row(QStringLiteral("wsqt offers all four"), options, {{snct, true}}, allHeader);
    // The server sets all four against a value-less offer: ws keeps the
    // offer's client_max_window_bits where it was, and appends the others.
    const QString setHeader = base + QStringLiteral("; client_max_window_bits=11; server_no_context_takeover; "
                                                    "client_no_context_takeover; server_max_window_bits=10");
    if (kWsqtIsServer)
        row(QStringLiteral("wsqt sets all four"), options, QJsonObject(), setHeader);
    else if (peerIsWs())
        row(QStringLiteral("peer sets all four"), WsDeflateOptions(), all, setHeader);
}

void TstInterop::deflateParameters()
{
    QFETCH(WsDeflateOptions, options);
    QFETCH(QJsonObject, peerOptions);
    QFETCH(QString, header);
    constexpr int repeat = 100;

    Settings settings;
    settings.deflate = options;
    settings.peerDeflate = peerOptions;
    settings.tapFrames = true;
    Link link;
    open(link, settings);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(link.socket->extensions(), header);
    QCOMPARE(link.peerOpen.value(QLatin1String("extensionsHeader")).toString(), header);
    QCOMPARE(link.peerOpen.value(QLatin1String("extensions")).toString(), QStringLiteral("permessage-deflate"));

    // What the negotiation asks of wsqt's deflater.
    const QString own = kWsqtIsServer ? QStringLiteral("server") : QStringLiteral("client");
    const bool ownNoContextTakeover = header.contains(own + QStringLiteral("_no_context_takeover"));
    int ownWindowBits = 15;
    for (const QString &parameter : header.split(QLatin1Char(';'))) {
        const QStringList pair = parameter.trimmed().split(QLatin1Char('='));
        if (pair.size() == 2 && pair.first() == own + QStringLiteral("_max_window_bits"))
            ownWindowBits = pair.last().toInt();
    }

    // The same message many times: with context takeover each one after the
    // first refers to the one before and shrinks; without, all are alike.
    const QByteArray text = generate(Content::Text, 2048);
    for (int i = 0; i < repeat; ++i)
        QVERIFY(!link.socket->sendText(QString::fromLatin1(text)));
    QList<qint64> lengths;
    for (int i = 0; i < repeat; ++i) {
        const QJsonObject frame = link.peer.next("frame");
        QVERIFY2(!frame.isEmpty(), "the peer saw too few frames");
        QVERIFY(frame.value(QLatin1String("rsv1")).toBool());
        lengths.append(frame.value(QLatin1String("length")).toInteger());
        expectPeerMessage(link.peer, text, false);
        if (QTest::currentTestFailed())
            return;
    }
    for (int i = 1; i < repeat; ++i) {
        if (ownNoContextTakeover)
            QCOMPARE(lengths.at(i), lengths.first());
        else
            QVERIFY2(lengths.at(i) < lengths.first(), qPrintable(QStringLiteral("message %1: %2 bytes, first %3")
                                                                   .arg(i).arg(lengths.at(i)).arg(lengths.first())));
    }

    // A block repeated at a distance of 20000 bytes: a deflater kept to a
    // window under 2^15 cannot refer back to it, and a peer inflating with
    // the negotiated window would fail on a reference past it.
    const QByteArray block = generate(Content::Random, 20000, 12);
    const QByteArray twice = block + block;
    QVERIFY(!link.socket->sendBinary(twice));
    const QJsonObject frame = link.peer.next("frame");
    QVERIFY2(!frame.isEmpty(), "the peer saw no frame");
    const qint64 length = frame.value(QLatin1String("length")).toInteger();
    if (ownWindowBits == 15)
        QVERIFY2(length < 25000, qPrintable(QString::number(length)));
    else
        QVERIFY2(length > 39000, qPrintable(QString::number(length)));
    expectPeerMessage(link.peer, twice, true);
    if (QTest::currentTestFailed())
        return;

    // The other way: wsqt inflates what the peer compressed with these parameters.
    link.peer.post(command("send", {{key("data"), toBase64(text)}, {key("binary"), false}, {key("repeat"), repeat}}));
    link.peer.post(sendCommand(twice, true));
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.messages.size(), repeat + 1, kTimeout);
    for (int i = 0; i < repeat; ++i)
        QCOMPARE(link.wsqt.messages.at(i), text);
    QVERIFY(link.wsqt.messages.last() == twice);
    QVERIFY(link.wsqt.errors.isEmpty());
    QCOMPARE(link.socket->readyState(), WsSocket::Open);
}

void TstInterop::deflateThreshold_data()
{
    QTest::addColumn<bool>("noContextTakeover");  // for wsqt's own messages
    QTest::addColumn<bool>("compress");
    QTest::addColumn<QList<int>>("fragments");      // sizes; one for a whole message
    QTest::addColumn<QList<bool>>("rsv1");          // of each frame

    // The threshold (1024) only applies where the sender's context is reset.
    QTest::newRow("no context takeover, 1023 bytes") << true << true << QList<int>{1023} << QList<bool>{false};
    QTest::newRow("no context takeover, 1024 bytes") << true << true << QList<int>{1024} << QList<bool>{true};
    QTest::newRow("no context takeover, empty") << true << true << QList<int>{0} << QList<bool>{false};
    QTest::newRow("context takeover, 10 bytes") << false << true << QList<int>{10} << QList<bool>{true};
    QTest::newRow("context takeover, empty") << false << true << QList<int>{0} << QList<bool>{true};
    QTest::newRow("compress off") << false << false << QList<int>{2048} << QList<bool>{false};
    // A fragmented message: the first fragment decides, and only the first
    // frame carries RSV1.
    QTest::newRow("no context takeover, fragments 2000 + 10")
            << true << true << QList<int>{2000, 10} << QList<bool>{true, false};
    QTest::newRow("no context takeover, fragments 10 + 2000")
            << true << true << QList<int>{10, 2000} << QList<bool>{false, false};
    QTest::newRow("context takeover, fragments 10 + 10 + 10")
            << false << true << QList<int>{10, 10, 10} << QList<bool>{true, false, false};
    QTest::newRow("compress off, fragments") << false << false << QList<int>{2000, 2000} << QList<bool>{false, false};
}

void TstInterop::deflateThreshold()
{
    QFETCH(bool, noContextTakeover);
    QFETCH(bool, compress);
    QFETCH(QList<int>, fragments);
    QFETCH(QList<bool>, rsv1);

    Settings settings;
    WsDeflateOptions options;
    (kWsqtIsServer ? options.serverNoContextTakeover : options.clientNoContextTakeover) = noContextTakeover;
    settings.deflate = options;
    settings.peerDeflate = QJsonObject();
    settings.tapFrames = true;
    Link link;
    open(link, settings);
    if (QTest::currentTestFailed())
        return;
    const QString parameter = kWsqtIsServer ? QStringLiteral("server_no_context_takeover")
                                            : QStringLiteral("client_no_context_takeover");
    QCOMPARE(link.socket->extensions().contains(parameter), noContextTakeover);

    QByteArray whole;
    for (qsizetype i = 0; i < fragments.size(); ++i) {
        const QByteArray fragment = generate(Content::Text, fragments.at(i));
        whole += fragment;
        WsSendOptions sendOptions;
        sendOptions.binary = false;
        sendOptions.compress = compress;
        sendOptions.fin = i == fragments.size() - 1;
        QVERIFY(!link.socket->send(fragment, sendOptions));
    }
    for (qsizetype i = 0; i < fragments.size(); ++i) {
        const QJsonObject frame = link.peer.next("frame");
        QVERIFY2(!frame.isEmpty(), "the peer saw too few frames");
        QCOMPARE(frame.value(QLatin1String("opcode")).toInt(), i == 0 ? 1 : 0);
        QCOMPARE(frame.value(QLatin1String("fin")).toBool(), i == fragments.size() - 1);
        QCOMPARE(frame.value(QLatin1String("rsv1")).toBool(), rsv1.at(i));
    }
    expectPeerMessage(link.peer, whole, false);
}

void TstInterop::deflateFragmentsFromPeer_data()
{
    QTest::addColumn<QByteArrayList>("fragments");
    QTest::addColumn<bool>("binary");

    QTest::newRow("text, 3 x 30 KiB") << QByteArrayList{generate(Content::Text, 30 * 1024),
                                                        generate(Content::Text, 30 * 1024).mid(5),
                                                        generate(Content::Text, 30 * 1024).mid(9)}
                                      << false;
    QTest::newRow("binary, 3 x 30 KiB random") << QByteArrayList{generate(Content::Random, 30 * 1024, 1),
                                                                 generate(Content::Random, 30 * 1024, 2),
                                                                 generate(Content::Random, 30 * 1024, 3)}
                                               << true;
    QTest::newRow("binary, small and empty") << QByteArrayList{"abc", "", "abcabc", "d"} << true;
}

void TstInterop::deflateFragmentsFromPeer()
{
    QFETCH(QByteArrayList, fragments);
    QFETCH(bool, binary);

    Settings settings;
    settings.deflate = WsDeflateOptions();
    settings.peerDeflate = QJsonObject();
    settings.binaryType = WsSocket::Fragments;
    Link link;
    open(link, settings);
    if (QTest::currentTestFailed())
        return;
    QVERIFY(!link.socket->extensions().isEmpty());

    QJsonArray encoded;
    for (const QByteArray &fragment : fragments)
        encoded.append(toBase64(fragment));
    const QJsonObject done = link.peer.call(
            command("sendFragments", {{key("fragments"), encoded}, {key("binary"), binary}}));
    QCOMPARE(done.value(QLatin1String("error")).toString(), QString());
    QTRY_COMPARE_WITH_TIMEOUT(link.wsqt.binaryFlags.size(), 1, kTimeout);
    QCOMPARE(link.wsqt.binaryFlags.first(), binary);
    if (binary) {
        // As ws: one fragment per frame, what that frame inflated to; none for
        // a frame that inflated to nothing.
        QByteArrayList expected = fragments;
        expected.removeAll(QByteArray());
        QCOMPARE(link.wsqt.fragmentLists, QList<QByteArrayList>{expected});
    } else {
        // Text comes whole, whatever the binaryType.
        QCOMPARE(link.wsqt.messages, QByteArrayList{fragments.join()});
    }
    QVERIFY(link.wsqt.errors.isEmpty());
}

QTEST_MAIN(TstInterop)

#include "tst_interop.moc"
