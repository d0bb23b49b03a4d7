// Fault injection, in the manner of Boost.Beast's fail_count tests: a
// scripted peer drives each exchange with the side under test (a WsServer's
// connection, or a WsSocket client), and at every point of it (inside the
// upgrade, inside and after each frame) a run strikes one fault instead of
// going on: a TCP reset, a FIN, a stall past the timeout then in force, or a
// peer that stops reading while the side under test sends. Every run must
// end cleanly: the socket Closed, closed() once with the right code, the
// errors due and no others, and no descriptor or object left behind.

#include "faultscript.h"

#include "descriptors.h"
#include "peerdeflate.h"
#include "scriptedpeer.h"
#include "serverpeers.h"
#include "waitfor.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qfile.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qsslkey.h>
#include <QtTest/qtest.h>

#include <memory>
#include <vector>

using namespace faults;
using wsqt::test::deflateMessage;
using wsqt::test::inflateMessage;
using wsqt::test::ScriptedPeer;
using wsqt::test::ScriptedServer;
using wsqt::test::waitFor;

namespace {

// Each timeout a stall runs into; short, so that the many stalls are quick.
constexpr int kTimeoutMs = 100;
constexpr int kPingIntervalMs = 30;
// Far beyond any timeout in force: a run that takes this long hangs.
constexpr int kEndWaitMs = 3000;

enum class Fault { None, Reset, Fin, Stall, StopReading };

const char *faultName(Fault fault)
{
    switch (fault) {
    case Fault::None:
        return "none";
    case Fault::Reset:
        return "reset";
    case Fault::Fin:
        return "fin";
    case Fault::Stall:
        return "stall";
    case Fault::StopReading:
        return "stop-reading";
    }
    return "";
}

// The faults that mean something at a point: stopping to read only where
// the side under test is sending a bulk message, to back its writes up. A
// stall only where the close timeout need not outlast a bulk transfer as
// well (the same stalls without the transfer are the closes exchange's).
QList<Fault> faultsAt(const Progress &progress)
{
    QList<Fault> faults{Fault::Reset, Fault::Fin};
    if (!progress.bulkReadWhileClosing)
        faults.append(Fault::Stall);
    if (progress.sendingBulk && progress.opened && !progress.isClosing() && progress.deletion == Progress::Kept)
        faults.append(Fault::StopReading);
    return faults;
}

// ---- The exchanges

const QByteArray kText = "hello, faults";
// Over 125 bytes: a 16-bit length in its header.
const QByteArray kBinary = [] {
    QByteArray bytes(300, Qt::Uninitialized);
    for (qsizetype i = 0; i < bytes.size(); ++i)
        bytes[i] = char(i);
    return bytes;
}();
// Over the default deflate threshold, so that the echo is compressed too.
const QByteArray kCompressible = QByteArray("compress me, ").repeated(320);

const std::vector<Exchange> &exchanges()
{
    static const std::vector<Exchange> table = {
        {"handshake", Extensions::None, OnMessage::Echo, OnClosed::Nothing, {}},
        {"handshake-deflate", Extensions::Deflate, OnMessage::Echo, OnClosed::Nothing, {}},
        {"text", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.message("message", 0x81, kText);
             script.read("echo", 0x81, kText);
         }},
        {"binary", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.message("message", 0x82, kBinary);
             script.read("echo", 0x82, kBinary);
         }},
        {"fragmented", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.write("fragment-1", 0x01, "hello, ");
             script.write("fragment-2", 0x00, "frag");
             script.message("fragment-3", 0x80, "ments");
             script.read("echo", 0x81, "hello, fragments");
         }},
        {"compressed", Extensions::Deflate, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.message("message", 0xC1, deflateMessage(kCompressible));
             script.read("echo", 0xC1, kCompressible, true);
         }},
        {"ping", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.write("ping", 0x89, "are you there?");
             script.read("pong", 0x8A, "are you there?");
         }},
        {"pong", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.act("ping-call", [](WsSocket *socket) { socket->ping("heartbeat?"); }, {});
             script.read("ping", 0x89, "heartbeat?");
             script.write("pong", 0x8A, "heartbeat?");
         }},
        {"peer-closes", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.closeByPeer(4001, "bye");
         }},
        {"closes", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.act("close-call", [](WsSocket *socket) { socket->close(4002, "done"); },
                        [](Progress &progress) { progress.closing = true; });
             script.read("close", 0x88, wsqt::test::closePayload(4002, "done"));
             // Without a code: closed() says 1005.
             script.write("close-reply", 0x88, {}, [](Progress &progress) { progress.peerCloseCode = 1005; });
             script.end();
         }},
        {"protocol-error", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             // RSV2 without an extension: the error is known from the header's first two bytes.
             script.write("bad-frame", 0xA1, "hi", [](Progress &progress) {
                 progress.error = WsError::UnexpectedRsv23;
                 progress.closing = true;
             }, 2);
             script.read("close", 0x88, wsqt::test::closePayload(1002));
             script.end();
         }},
        {"handler-sends-bulk", Extensions::None, OnMessage::SendBulk, OnClosed::Nothing, [](Script &script) {
             script.message("message", 0x81, kText);
             script.readBulk();
         }},
        {"closes-after-bulk", Extensions::None, OnMessage::Echo, OnClosed::Nothing, [](Script &script) {
             script.act("send-and-close-call", [](WsSocket *socket) {
                 socket->sendBinary(bulkMessage());
                 socket->close(4002);
             }, [](Progress &progress) {
                 progress.sendingBulk = true;
                 progress.closing = true;
             });
             script.readBulk();
             script.read("close", 0x88, wsqt::test::closePayload(4002));
             script.write("close-reply", 0x88, wsqt::test::closePayload(4002), [](Progress &progress) {
                 progress.peerCloseCode = 4002;
             });
             script.end();
         }},
        {"handler-closes", Extensions::None, OnMessage::Close, OnClosed::Nothing, [](Script &script) {
             script.message("message", 0x81, kText);
             script.read("close", 0x88, wsqt::test::closePayload(4003, "handler"));
             script.write("close-reply", 0x88, wsqt::test::closePayload(4003), [](Progress &progress) {
                 progress.peerCloseCode = 4003;
             });
             script.end();
         }},
        {"handler-deletes", Extensions::None, OnMessage::Delete, OnClosed::Nothing, [](Script &script) {
             script.message("message", 0x81, kText);
             script.end();
         }},
        {"handler-deletes-later", Extensions::None, OnMessage::DeleteLater, OnClosed::Nothing, [](Script &script) {
             script.message("message", 0x81, kText);
             script.end();
         }},
        {"closed-handler-deletes", Extensions::None, OnMessage::Echo, OnClosed::Delete, [](Script &script) {
             script.closeByPeer(1000);
         }},
        {"closed-handler-deletes-later", Extensions::None, OnMessage::Echo, OnClosed::DeleteLater, [](Script &script) {
             script.closeByPeer(1000);
         }},
    };
    return table;
}

// ---- How a run must end

struct Expected
{
    bool opens = false;
    Progress::Deletion deletion = Progress::Kept;
    int closeCode = 1006;
    QByteArray closeReason;
    QStringList errors;             // codeName()s, in order
    bool answers408 = false;        // a server's answer to a request that stalled
};

Expected expect(Role role, const Progress &progress, Fault fault)
{
    Expected expected;
    expected.opens = progress.opened;
    expected.deletion = progress.deletion;
    if (!progress.opened) {
        if (role == Role::Client) {
            expected.errors.append(WsError::codeName(fault == Fault::Stall ? WsError::HandshakeTimeout
                                                                           : WsError::ConnectionError));
        }
        expected.answers408 = role == Role::Server && fault == Fault::Stall && progress.connected;
        return expected;
    }
    if (progress.deletion != Progress::Kept)
        return expected;
    if (progress.peerCloseCode) {
        expected.closeCode = *progress.peerCloseCode;
        expected.closeReason = progress.peerCloseReason;
    }
    if (progress.error != WsError::NoError)
        expected.errors.append(WsError::codeName(progress.error));
    if (fault == Fault::Stall && !progress.isClosing())
        expected.errors.append(WsError::codeName(WsError::Timeout));
    if (fault == Fault::StopReading)
        expected.errors.append(WsError::codeName(WsError::PeerNotReading));
    return expected;
}

// The timeouts of a run: the defaults, except the one its fault runs into.
// A reset or a FIN must end the connection without any timer's help.
WsConnectionOptions connectionLimits(Fault fault, const Progress &progress)
{
    WsConnectionOptions limits;
    if (fault == Fault::Stall && progress.opened) {
        if (progress.isClosing()) {
            limits.closeTimeout = kTimeoutMs;
        } else {
            limits.pingInterval = kPingIntervalMs;
            limits.pongTimeout = kPingIntervalMs;
        }
    } else if (fault == Fault::StopReading) {
        limits.backpressureTimeout = kTimeoutMs;
        limits.closeTimeout = kTimeoutMs;
    }
    return limits;
}

int handshakeTimeout(Fault fault, const Progress &progress, int fallback)
{
    return fault == Fault::Stall && !progress.opened ? kTimeoutMs : fallback;
}

// ---- TLS (certificates from tests/reach/make-certs.sh)

QByteArray readCertificateFile(const QString &name)
{
    QFile file(QStringLiteral(WSQT_FAULTS_CERTS_DIR "/") + name);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QSslConfiguration serverTls()
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(QSslCertificate(readCertificateFile(QStringLiteral("server.crt"))));
    configuration.setPrivateKey(QSslKey(readCertificateFile(QStringLiteral("server.key")), QSsl::Ec));
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    return configuration;
}

// The client under test's: it verifies the server with the test CA.
QSslConfiguration verifyingClientTls()
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates({QSslCertificate(readCertificateFile(QStringLiteral("ca.crt")))});
    return configuration;
}

// The scripted client's: the server's certificate is not what is under test.
QSslConfiguration trustingClientTls()
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    return configuration;
}

// ---- A run

// What the side under test reported, kept apart from it since it may be deleted.
struct Record
{
    int created = 0;
    int live = 0;                   // its WsSocket objects not yet destroyed
    int opened = 0;
    QList<QPair<int, QByteArray>> closes;
    QList<WsSocket::ReadyState> statesAtClose;   // readyState() as each closed() came
    QList<WsError> errors;
    QStringList log;                // every signal, in order, for failure messages

    QStringList errorNames() const
    {
        QStringList names;
        for (const WsError &error : errors)
            names.append(error.codeName());
        return names;
    }
};

// One exchange with the side under test, up to a point, then a fault.
class Run
{
public:
    Run(Role role, bool tls, const Exchange &exchange, Fault fault, const Progress &progress)
        : m_role(role), m_tls(tls), m_exchange(exchange), m_script(exchange.script(role))
    {
        const WsConnectionOptions limits = connectionLimits(fault, progress);
        if (role == Role::Server) {
            WsServerOptions options;
            static_cast<WsConnectionOptions &>(options) = limits;
            options.port = 0;
            options.host = QHostAddress::LocalHost;
            options.handshakeTimeout = handshakeTimeout(fault, progress, options.handshakeTimeout);
            if (exchange.extensions == Extensions::Deflate)
                options.perMessageDeflate = WsDeflateOptions();
            if (tls)
                options.sslConfiguration = serverTls();
            m_server = std::make_unique<WsServer>(options);
            QObject::connect(m_server.get(), &WsServer::newConnection, m_server.get(),
                             [this](WsSocket *socket) { adopt(socket); });
        } else {
            m_scriptedServer = std::make_unique<ScriptedServer>(
                    tls ? std::optional<QSslConfiguration>(serverTls()) : std::nullopt);
            WsClientOptions options;
            static_cast<WsConnectionOptions &>(options) = limits;
            options.handshakeTimeout = handshakeTimeout(fault, progress, options.handshakeTimeout);
            if (exchange.extensions == Extensions::None)
                options.perMessageDeflate.reset();
            if (tls)
                options.sslConfiguration = verifyingClientTls();
            auto *socket = new WsSocket;
            adopt(socket);
            m_openError = socket->open(m_scriptedServer->url(), {}, options);
        }
        QObject::connect(&m_pings, &QTimer::timeout, &m_pings,
                         [this] { m_peer->sendFrame(0x89, "are you reading?"); });
    }

    ~Run()
    {
        m_peer.reset();
        delete m_socket.data();
    }

    QByteArray log() const { return m_record.log.join(QLatin1String(", ")).toUtf8(); }

    // The descriptors of the harness itself: the listening socket.
    static constexpr int kListeningSockets = 1;

    // Takes the script up to `point`.
    void runTo(const Point &point)
    {
        QVERIFY2(!m_openError, qPrintable(m_openError.message()));
        for (int i = 0; i <= point.step; ++i) {
            perform(m_script.steps().at(i), i == point.step ? point.offset : -1);
            if (QTest::currentTestFailed())
                return;
        }
    }

    void strike(Fault fault)
    {
        switch (fault) {
        case Fault::None:
            return;
        case Fault::Reset:
            m_peer->reset();
            return;
        case Fault::Fin:
            m_peer->finish();
            return;
        case Fault::Stall:
            // Not even reading: a reader would close its side at the other's FIN.
            m_peer->stopReading();
            return;
        case Fault::StopReading:
            m_peer->stopReading();
            QVERIFY2(waitFor([this] { return m_socket && m_socket->isBackpressured(); }, kEndWaitMs),
                     "the side under test's writes never backed up");
            // A peer that still sends, so that only the backpressure timeout ends it.
            m_pings.start(20);
            return;
        }
    }

    // Waits until the side under test ended, and with it the connection.
    void awaitEnd(const Expected &expected)
    {
        if (m_role == Role::Client || expected.opens) {
            QVERIFY2(waitFor([this] { return sideUnderTestEnded(); }, kEndWaitMs),
                     "the side under test never closed: " + log());
        }
        m_pings.stop();
        // Whatever it still had queued comes before its FIN.
        m_peer->resumeReading();
        QVERIFY2(m_peer->waitForEnd(kEndWaitMs), "the TCP connection was left open: " + log());
        if (expected.answers408)
            QCOMPARE(m_peer->received(), serverpeers::kTimeout);
    }

    // What the side under test reported, against what it must have.
    void check(const Expected &expected)
    {
        QVERIFY2(m_record.opened == (expected.opens ? 1 : 0), "opened " + QByteArray::number(m_record.opened)
                         + " times: " + log());
        // A server without a connection has nothing more to say.
        if (m_role == Role::Server && !expected.opens)
            return;
        QCOMPARE(m_record.errorNames(), expected.errors);
        for (const WsError &error : m_record.errors) {
            if (error.code() == WsError::UnexpectedRsv23)
                QCOMPARE(error.closeCode(), 1002);
            if (error.code() == WsError::PeerNotReading)
                QCOMPARE(error.closeCode(), 1008);
        }
        switch (expected.deletion) {
        case Progress::Deleted:
            // Deleted from its own messageReceived(): no signal after.
            QVERIFY2(m_record.closes.isEmpty(), "closed() after delete: " + log());
            break;
        case Progress::DeletedLater:
            QVERIFY2(m_record.closes.size() <= 1, log());
            if (!m_record.closes.isEmpty())
                QCOMPARE(m_record.closes.first().first, 1006);
            break;
        case Progress::Kept:
            QVERIFY2(m_record.closes.size() == 1, "closed() not once: " + log());
            QCOMPARE(m_record.closes.first().first, expected.closeCode);
            QCOMPARE(m_record.closes.first().second, expected.closeReason);
            QCOMPARE(m_record.statesAtClose.first(), WsSocket::Closed);
            break;
        }
    }

    // Every WsSocket gone, and the server holding nothing for any of them.
    void checkReleased(const Expected &expected)
    {
        // A client is the application's to delete, unless its handlers did.
        if (m_role == Role::Client && expected.deletion == Progress::Kept && m_exchange.onClosed == OnClosed::Nothing)
            delete m_socket.data();
        QVERIFY2(waitFor([this] { return m_record.live == 0; }, kEndWaitMs), "a WsSocket was never destroyed");
        if (m_server) {
            QVERIFY(waitFor([this] { return m_server->clients().isEmpty(); }, kEndWaitMs));
            QCOMPARE(m_server->statistics().connectionsOpen, 0);
        }
        m_peer.reset();
    }

private:
    void adopt(WsSocket *socket)
    {
        ++m_record.created;
        ++m_record.live;
        m_socket = socket;
        Record *record = &m_record;
        QObject::connect(socket, &QObject::destroyed, [record] { --record->live; });
        if (m_role == Role::Server) {
            // Its opened() came before the server handed it out.
            ++record->opened;
            record->log.append(QStringLiteral("opened"));
        }
        QObject::connect(socket, &WsSocket::opened, socket, [record] {
            ++record->opened;
            record->log.append(QStringLiteral("opened"));
        });
        QObject::connect(socket, &WsSocket::errorOccurred, socket, [record](const WsError &error) {
            record->errors.append(error);
            record->log.append(QStringLiteral("error ") + error.codeName());
        });
        QObject::connect(socket, &WsSocket::closed, socket, [record, socket](int code, const QByteArray &reason) {
            record->closes.append({code, reason});
            record->statesAtClose.append(socket->readyState());
            record->log.append(QStringLiteral("closed %1").arg(code));
        });
        installHandlers(socket);
    }

    // The application under test.
    void installHandlers(WsSocket *socket)
    {
        const OnMessage onMessage = m_exchange.onMessage;
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [socket, onMessage](const QByteArray &message, bool isBinary) {
            switch (onMessage) {
            case OnMessage::Echo: {
                WsSendOptions options;
                options.binary = isBinary;
                socket->send(message, options);
                break;
            }
            case OnMessage::SendBulk:
                socket->sendBinary(bulkMessage());
                break;
            case OnMessage::Close:
                socket->close(4003, "handler");
                break;
            case OnMessage::Delete:
                delete socket;
                break;
            case OnMessage::DeleteLater:
                socket->deleteLater();
                break;
            }
        });
        switch (m_exchange.onClosed) {
        case OnClosed::Nothing:
            break;
        case OnClosed::Delete:
            QObject::connect(socket, &WsSocket::closed, socket, [socket] { delete socket; });
            break;
        case OnClosed::DeleteLater:
            QObject::connect(socket, &WsSocket::closed, socket, &QObject::deleteLater);
            break;
        }
    }

    bool sideUnderTestEnded() const
    {
        return m_record.created > 0 && (!m_record.closes.isEmpty() || m_record.live == 0);
    }

    // The peer's part of a step, up to `upTo` bytes of it (-1: all of it).
    void perform(const Step &step, qsizetype upTo)
    {
        switch (step.kind) {
        case Step::Connect:
            connectPeer(upTo < 0);
            return;
        case Step::Handshake:
            handshake(step, upTo);
            return;
        case Step::Write:
            m_peer->write(upTo < 0 ? step.bytes : step.bytes.left(upTo));
            return;
        case Step::Read:
            read(step, upTo);
            return;
        case Step::Act:
            QVERIFY2(waitFor([this] { return m_socket && m_socket->readyState() == WsSocket::Open; }),
                     "the side under test never opened: " + log());
            step.act(m_socket);
            return;
        case Step::End:
            QVERIFY2(m_peer->waitForEnd(kEndWaitMs), "the side under test never ended the connection: " + log());
            return;
        }
    }

    void connectPeer(bool startTls)
    {
        m_peer = m_role == Role::Server ? ScriptedPeer::connectTo(m_server->address().port, m_tls)
                                        : m_scriptedServer->nextConnection();
        QVERIFY2(m_peer, "no connection");
        if (m_tls && startTls)
            QVERIFY2(m_peer->startTls(m_role == Role::Server ? trustingClientTls() : serverTls()), "no TLS");
    }

    void handshake(const Step &step, qsizetype upTo)
    {
        if (m_role == Role::Server) {
            m_peer->write(upTo < 0 ? step.bytes : step.bytes.left(upTo));
            if (upTo >= 0)
                return;
            QByteArray response;
            QVERIFY2(m_peer->readHead(&response), "no response to the upgrade");
            QVERIFY2(response.startsWith("HTTP/1.1 101 "), response.constData());
            QCOMPARE(response.contains("permessage-deflate"), m_script.deflate());
            return;
        }
        QByteArray request;
        QVERIFY2(m_peer->readHead(&request), "no upgrade request");
        QCOMPARE(request.contains("permessage-deflate"), m_script.deflate());
        const QByteArray response = wsqt::test::scriptedUpgradeResponse(request, m_script.responseExtensions());
        QCOMPARE(response.size(), step.bytes.size());
        m_peer->write(upTo < 0 ? response : response.left(upTo));
    }

    void read(const Step &step, qsizetype upTo)
    {
        if (upTo >= 0) {
            QVERIFY2(waitFor([&] { return m_peer->received().size() >= upTo; }, kEndWaitMs),
                     "less than planned came: " + log());
            return;
        }
        serverpeers::Frame frame;
        for (;;) {
            QVERIFY2(waitFor([&] { return serverpeers::takeFrame(&m_peer->received(), &frame); }, kEndWaitMs),
                     "no " + step.label + " came: " + log());
            // A heartbeat's ping, answered as a live peer would.
            if (frame.opcode() == 0x9 && frame.payload != step.payload) {
                m_peer->sendFrame(0x8A, frame.payload);
                continue;
            }
            break;
        }
        QCOMPARE(frame.firstByte, step.firstByte);
        const QByteArray payload = step.deflated ? inflateMessage(frame.payload) : frame.payload;
        QVERIFY2(payload == step.payload, "unexpected " + step.label + ": " + payload.left(64).toHex(' ')
                         + " instead of " + step.payload.left(64).toHex(' '));
    }

    Role m_role;
    bool m_tls;
    const Exchange &m_exchange;
    Script m_script;
    // First, to outlive whatever reports to it.
    Record m_record;
    std::unique_ptr<WsServer> m_server;
    std::unique_ptr<ScriptedServer> m_scriptedServer;
    QPointer<WsSocket> m_socket;
    WsError m_openError;
    std::unique_ptr<ScriptedPeer> m_peer;
    QTimer m_pings;
};

} // namespace

class tst_Faults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // What a thread keeps for all its connections (the lean transport's
    // epoll set) is made by the first, and is no leak of a run.
    void initTestCase() { QVERIFY(serverpeers::echoes(serverpeers::echoServer()->address().port)); }
    void server_data() { addRows(Role::Server, false); }
    void server() { run(Role::Server, false); }
    void client_data() { addRows(Role::Client, false); }
    void client() { run(Role::Client, false); }
    void serverTls_data() { addRows(Role::Server, true); }
    void serverTls() { run(Role::Server, true); }
    void clientTls_data() { addRows(Role::Client, true); }
    void clientTls() { run(Role::Client, true); }

private:
    void addRows(Role role, bool tls);
    void run(Role role, bool tls);
};

void tst_Faults::addRows(Role role, bool tls)
{
    // TLS runs over QSslSocket whatever the transport: its rows in the
    // QTcpSocket registration are enough.
    if (tls && qEnvironmentVariableIsEmpty("WSQT_NO_LEAN_TRANSPORT"))
        QSKIP("TLS is covered where WSQT_NO_LEAN_TRANSPORT is set");
    QTest::addColumn<int>("exchange");
    QTest::addColumn<int>("point");     // -1: the whole script, without a fault
    QTest::addColumn<int>("fault");
    const QByteArray prefix = QByteArray(role == Role::Server ? "server" : "client") + (tls ? "-tls/" : "/");
    for (int e = 0; e < int(exchanges().size()); ++e) {
        const Exchange &exchange = exchanges().at(e);
        const Script script = exchange.script(role);
        const QList<Point> points = script.points(tls);
        const QByteArray name = prefix + exchange.name + '/';
        QTest::newRow((name + script.whole().name + '/' + faultName(Fault::None)).constData())
                << e << -1 << int(Fault::None);
        for (int p = 0; p < points.size(); ++p) {
            for (const Fault fault : faultsAt(script.progressAt(points.at(p)))) {
                QTest::newRow((name + points.at(p).name + '/' + faultName(fault)).constData())
                        << e << p << int(fault);
            }
        }
    }
}

void tst_Faults::run(Role role, bool tls)
{
    QFETCH(int, exchange);
    QFETCH(int, point);
    QFETCH(int, fault);
    if (tls)
        QVERIFY2(QFile::exists(QStringLiteral(WSQT_FAULTS_CERTS_DIR "/ca.crt")),
                 "no test certificates: the faults_certs fixture makes them");
    const Exchange &under = exchanges().at(exchange);
    const Script script = under.script(role);
    const Point at = point < 0 ? script.whole() : script.points(tls).at(point);
    const Progress progress = script.progressAt(at);
    const Expected expected = expect(role, progress, Fault(fault));

    const int descriptors = wsqt::test::openDescriptorCount();
    const int sockets = wsqt::test::openSocketCount();
    {
        Run run(role, tls, under, Fault(fault), progress);
        run.runTo(at);
        if (QTest::currentTestFailed())
            return;
        run.strike(Fault(fault));
        if (QTest::currentTestFailed())
            return;
        run.awaitEnd(expected);
        if (QTest::currentTestFailed())
            return;
        // Released first, so that a late second closed() would count too.
        run.checkReleased(expected);
        if (QTest::currentTestFailed())
            return;
        run.check(expected);
        if (QTest::currentTestFailed())
            return;
        QVERIFY2(waitFor([&] { return wsqt::test::openSocketCount() == sockets + Run::kListeningSockets; },
                         kEndWaitMs),
                 "sockets left open: " + QByteArray::number(wsqt::test::openSocketCount() - sockets
                                                            - Run::kListeningSockets));
    }
    // Compression workers may hold an event descriptor a little longer.
    QVERIFY2(waitFor([&] { return wsqt::test::openDescriptorCount() == descriptors; }, kEndWaitMs),
             "descriptors left open: " + QByteArray::number(wsqt::test::openDescriptorCount() - descriptors));
}

QTEST_GUILESS_MAIN(tst_Faults)
#include "tst_faults.moc"
