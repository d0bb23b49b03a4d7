// Faults that come from the network itself. The peer runs in a network
// namespace this test makes, behind a veth pair with a /30 of 10.213.0.0/16:
//  - a slow link (tc tbf): backpressure holds memory on the write side
//    (trySend() and drained(); maxBufferedAmount) and on the read side (a
//    server whose echoes wait stops reading), and all that was sent arrives
//    intact;
//  - a partition (nftables) in the middle of a message: the heartbeat
//    detects it, and a reconnecting client is back once it heals;
//  - a peer process frozen with SIGSTOP: the handshake timeouts of both roles
//    and the close timeout give up on it, and the sockets are freed.
// The peer is a process of its own (wsqt_netfault_peer under ip netns exec),
// since a process's sockets live in its namespace; this process stays in the
// root namespace. Without root, ip, tc or nft, what needs them is skipped.

#include "netfaultpayload.h"
#include "residentmemory.h"
#include "waitfor.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qcryptographichash.h>
#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qendian.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qpointer.h>
#include <QtCore/qprocess.h>
#include <QtCore/qset.h>
#include <QtCore/qstandardpaths.h>
#include <QtCore/qtimer.h>
#include <QtTest/qtest.h>

#include <csignal>
#include <memory>

#include <sys/types.h>
#include <unistd.h>

using wsqt::test::waitFor;

namespace {

// Generous: programs start slowly on a loaded machine.
constexpr int kWaitMs = 10000;
// Time bounds are upper ones only: this many times what the options say.
constexpr int kSlowdown = 5;
// Transfers over the slow link: about 3 s each where nothing is wrong.
constexpr int kTransferMs = 30000;
// 4 Mbit/s, 500 KB/s: far slower than the peer or this process can send.
const QString kRate = QStringLiteral("4mbit");
constexpr qsizetype kMessageSize = 32 * 1024;
// The largest frame header: 8 bytes of length and a mask.
constexpr qint64 kMaxFrameHeader = 14;
constexpr qint64 kHighWaterMark = 64 * 1024;
constexpr qint64 kLowWaterMark = 16 * 1024;

const QString kNamespacePrefix = QStringLiteral("wsqtnf-");
const QByteArray kTestProcessName = "tst_netfaults";

// A program on the PATH or in the sbin directories, where Debian puts ip,
// tc and nft; empty when there is none.
QString findProgram(const QString &name)
{
    QString found = QStandardPaths::findExecutable(name);
    if (found.isEmpty()) {
        found = QStandardPaths::findExecutable(
                name, {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"), QStringLiteral("/usr/local/sbin")});
    }
    return found;
}

// Runs a setup command to its end; `output` gets what it printed.
bool runCommand(const QString &program, const QStringList &arguments, QString *output = nullptr)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    const bool finished = process.waitForFinished(kWaitMs);
    if (output) {
        *output = QString::fromLocal8Bit(process.readAll()).trimmed();
        if (!finished)
            *output += QStringLiteral(" (%1)").arg(process.errorString());
    }
    return finished && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
}

QString describeCommand(const QString &program, const QStringList &arguments)
{
    return QFileInfo(program).fileName() + QLatin1Char(' ') + arguments.join(QLatin1Char(' '));
}

// Namespaces of earlier runs that ended before their cleanup (a crash, a
// ctest timeout): their process is gone, or is another program now, or is
// this one (a reused process id).
void removeStaleNamespaces(const QString &ip)
{
    QString list;
    if (!runCommand(ip, {QStringLiteral("netns"), QStringLiteral("list")}, &list))
        return;
    const QString self = QString::number(QCoreApplication::applicationPid());
    for (const QString &line : list.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const QString name = line.section(QLatin1Char(' '), 0, 0);
        if (!name.startsWith(kNamespacePrefix))
            continue;
        const QString pid = name.mid(kNamespacePrefix.size());
        QFile comm(QStringLiteral("/proc/%1/comm").arg(pid));
        const bool inUse = pid != self && comm.open(QIODevice::ReadOnly) && comm.readAll().trimmed() == kTestProcessName;
        if (!inUse)
            runCommand(ip, {QStringLiteral("netns"), QStringLiteral("del"), name});
    }
}

// A network namespace with one end of a veth pair; the other end stays in
// the root namespace. Names carry this process's id so that parallel runs do
// not collide. Deleting the pair takes its qdiscs along, and deleting the
// namespace its nftables rules.
class Network
{
public:
    static std::unique_ptr<Network> create(const QString &ip, QString *whyNot)
    {
        const qint64 pid = QCoreApplication::applicationPid();
        std::unique_ptr<Network> network(new Network);
        network->m_ip = ip;
        network->m_name = kNamespacePrefix + QString::number(pid);
        network->m_hostDevice = QStringLiteral("wnf%1h").arg(pid);
        network->m_peerDevice = QStringLiteral("wnf%1p").arg(pid);
        const auto step = [&](const QStringList &arguments) {
            QString output;
            if (runCommand(ip, arguments, &output))
                return true;
            *whyNot = QStringLiteral("\"%1\" failed: %2").arg(describeCommand(ip, arguments), output);
            return false;
        };
        if (!step({QStringLiteral("netns"), QStringLiteral("add"), network->m_name}))
            return nullptr;
        network->m_namespaceMade = true;
        if (!step({QStringLiteral("link"), QStringLiteral("add"), network->m_hostDevice, QStringLiteral("type"),
                   QStringLiteral("veth"), QStringLiteral("peer"), QStringLiteral("name"), network->m_peerDevice,
                   QStringLiteral("netns"), network->m_name})) {
            return nullptr;
        }
        network->m_pairMade = true;
        if (!network->pickSubnet(pid)) {
            *whyNot = QStringLiteral("every /30 of 10.213.0.0/16 tried is in use");
            return nullptr;
        }
        const QString inside = network->m_name;
        if (!step({QStringLiteral("addr"), QStringLiteral("add"), network->m_hostAddress.toString() + QStringLiteral("/30"),
                   QStringLiteral("dev"), network->m_hostDevice})
            || !step({QStringLiteral("link"), QStringLiteral("set"), network->m_hostDevice, QStringLiteral("up")})
            || !step({QStringLiteral("-n"), inside, QStringLiteral("addr"), QStringLiteral("add"),
                      network->m_peerAddress.toString() + QStringLiteral("/30"), QStringLiteral("dev"),
                      network->m_peerDevice})
            || !step({QStringLiteral("-n"), inside, QStringLiteral("link"), QStringLiteral("set"),
                      network->m_peerDevice, QStringLiteral("up")})) {
            return nullptr;
        }
        return network;
    }

    ~Network()
    {
        // The pair first: deleting a namespace frees its devices only later,
        // in the background, and the addresses should be free at once.
        if (m_pairMade)
            runCommand(m_ip, {QStringLiteral("link"), QStringLiteral("del"), m_hostDevice});
        if (m_namespaceMade)
            runCommand(m_ip, {QStringLiteral("netns"), QStringLiteral("del"), m_name});
    }

    const QString &ip() const { return m_ip; }
    const QString &name() const { return m_name; }
    const QString &hostDevice() const { return m_hostDevice; }
    const QString &peerDevice() const { return m_peerDevice; }
    QHostAddress hostAddress() const { return m_hostAddress; }
    QHostAddress peerAddress() const { return m_peerAddress; }

    // The arguments of ip that run `program` in the namespace.
    QStringList inside(const QString &program, const QStringList &arguments) const
    {
        return QStringList{QStringLiteral("netns"), QStringLiteral("exec"), m_name, program} + arguments;
    }

private:
    Network() = default;

    // A /30 that no device of the root namespace uses, tried from one the
    // process id picks.
    bool pickSubnet(qint64 pid)
    {
        constexpr quint32 kBase = 0x0AD50000;    // 10.213.0.0
        constexpr quint32 kSubnets = 0x10000 / 4;
        for (quint32 i = 0; i < 64; ++i) {
            const quint32 subnet = kBase + (quint32(pid + i) % kSubnets) * 4;
            QString used;
            if (!runCommand(m_ip,
                            {QStringLiteral("-4"), QStringLiteral("-o"), QStringLiteral("addr"), QStringLiteral("show"),
                             QStringLiteral("to"), QHostAddress(subnet).toString() + QStringLiteral("/30")},
                            &used)) {
                return false;
            }
            if (used.isEmpty()) {
                m_hostAddress = QHostAddress(subnet + 1);
                m_peerAddress = QHostAddress(subnet + 2);
                return true;
            }
        }
        return false;
    }

    QString m_ip;
    QString m_name;
    QString m_hostDevice;
    QString m_peerDevice;
    QHostAddress m_hostAddress;
    QHostAddress m_peerAddress;
    bool m_namespaceMade = false;
    bool m_pairMade = false;
};

// A slow link one way: a token bucket filter on the veth end that sends that
// way. Removed at the end of its scope.
class SlowLink
{
public:
    enum Direction { TowardPeer, FromPeer };

    SlowLink(const Network &network, const QString &tc, Direction direction)
        : m_tc(tc), m_device(direction == TowardPeer ? network.hostDevice() : network.peerDevice())
    {
        if (direction == FromPeer)
            m_namespace = {QStringLiteral("-n"), network.name()};
    }

    ~SlowLink()
    {
        if (m_applied)
            runCommand(m_tc, qdisc(QStringLiteral("del")));
    }

    bool apply(QString *error)
    {
        // A queue of 100 ms (50 KB) holds TCP's bursts without the losses
        // that would stall it for a retransmission timeout.
        const QStringList arguments = qdisc(QStringLiteral("add"))
                + QStringList{QStringLiteral("tbf"), QStringLiteral("rate"), kRate, QStringLiteral("burst"),
                              QStringLiteral("16kb"), QStringLiteral("latency"), QStringLiteral("100ms")};
        QString output;
        m_applied = runCommand(m_tc, arguments, &output);
        if (!m_applied)
            *error = QStringLiteral("\"%1\" failed: %2").arg(describeCommand(m_tc, arguments), output);
        return m_applied;
    }

private:
    QStringList qdisc(const QString &verb) const
    {
        return m_namespace
                + QStringList{QStringLiteral("qdisc"), verb, QStringLiteral("dev"), m_device, QStringLiteral("root")};
    }

    QString m_tc;
    QString m_device;
    QStringList m_namespace;
    bool m_applied = false;
};

// A partition: in the namespace, nftables drops everything in and out of
// the veth end, both ways. heal(), or the end of its scope, removes it.
class Partition
{
public:
    Partition(const Network &network, const QString &nft) : m_network(network), m_nft(nft) { }
    ~Partition() { heal(); }

    bool apply(QString *error)
    {
        const QString rules = QStringLiteral(
                "add table inet %1; "
                "add chain inet %1 input { type filter hook input priority filter; }; "
                "add chain inet %1 output { type filter hook output priority filter; }; "
                "add rule inet %1 input iifname \"%2\" drop; "
                "add rule inet %1 output oifname \"%2\" drop")
                .arg(kTable, m_network.peerDevice());
        QString output;
        m_applied = runCommand(m_network.ip(), m_network.inside(m_nft, {rules}), &output);
        if (!m_applied)
            *error = QStringLiteral("nft failed: ") + output;
        return m_applied;
    }

    bool heal()
    {
        if (!m_applied)
            return true;
        m_applied = !runCommand(m_network.ip(), m_network.inside(m_nft, {QStringLiteral("delete"), QStringLiteral("table"),
                                                                         QStringLiteral("inet"), kTable}));
        return !m_applied;
    }

private:
    static inline const QString kTable = QStringLiteral("wsqt_partition");
    const Network &m_network;
    QString m_nft;
    bool m_applied = false;
};

// wsqt_netfault_peer in the namespace, and the lines it printed. Whatever
// happens, it is continued and killed at the end of its scope.
class Peer
{
public:
    Peer(const Network &network, const QStringList &arguments)
    {
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process, [this] {
            while (m_process.canReadLine())
                m_lines.append(m_process.readLine().trimmed());
        });
        m_process.start(network.ip(), network.inside(QStringLiteral(WSQT_NETFAULT_PEER), arguments));
    }

    ~Peer()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        sendSignal(SIGCONT);
        m_process.kill();
        m_process.waitForFinished(kWaitMs);
    }

    // What follows `word` on the first line that starts with it, waiting for
    // it; null when the peer ended or took too long.
    QByteArray waitForLine(const QByteArray &word, int timeout = kWaitMs)
    {
        QByteArray found;
        const auto arrived = [&] {
            for (const QByteArray &line : std::as_const(m_lines)) {
                if (line == word || line.startsWith(word + ' ')) {
                    found = line.mid(word.size() + 1);
                    if (found.isNull())
                        found = QByteArray("");
                    return true;
                }
            }
            return m_process.state() == QProcess::NotRunning;
        };
        waitFor(arrived, timeout);
        return found;
    }

    // Everything it printed, for failure messages.
    QByteArray transcript() const { return "peer said: " + m_lines.join(" | "); }

    // SIGSTOP, and wait until the kernel shows the process stopped.
    bool freeze() { return sendSignal(SIGSTOP) && waitFor([this] { return isStopped(); }); }

    bool thaw() { return sendSignal(SIGCONT); }

    bool isStopped() const
    {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(m_process.processId()));
        if (!stat.open(QIODevice::ReadOnly))
            return false;
        // The state follows the command name in parentheses.
        const QByteArray text = stat.readAll();
        return text.mid(text.lastIndexOf(')') + 2, 1) == "T";
    }

private:
    bool sendSignal(int number)
    {
        // Never pid 0, which would be this process's group.
        const pid_t pid = pid_t(m_process.processId());
        return pid > 0 && ::kill(pid, number) == 0;
    }

    QProcess m_process;
    QByteArrayList m_lines;
};

// The states (1 is ESTABLISHED) of the TCP sockets this process holds a
// descriptor of and whose far end is `peer`.
QList<int> tcpStatesTo(const QHostAddress &peer)
{
    QSet<QByteArray> inodes;
    const QDir descriptors(QStringLiteral("/proc/self/fd"));
    for (const QString &descriptor : descriptors.entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot)) {
        char target[64] = {};
        const QByteArray path = descriptors.filePath(descriptor).toLocal8Bit();
        const ssize_t length = ::readlink(path.constData(), target, sizeof target - 1);
        const QByteArray link(target, length > 0 ? qsizetype(length) : 0);
        if (link.startsWith("socket:["))
            inodes.insert(link.mid(8).chopped(1));
    }
    // /proc/net/tcp writes an address as the hex of its bytes read as a host-order number.
    const QByteArray remote =
            QByteArray::number(qToBigEndian(peer.toIPv4Address()), 16).rightJustified(8, '0').toUpper() + ':';
    QList<int> states;
    QFile table(QStringLiteral("/proc/self/net/tcp"));
    if (!table.open(QIODevice::ReadOnly))
        return states;
    table.readLine();
    while (!table.atEnd()) {
        const QList<QByteArray> fields = table.readLine().simplified().split(' ');
        if (fields.size() > 9 && fields.at(2).startsWith(remote) && inodes.contains(fields.at(9)))
            states.append(fields.at(3).toInt(nullptr, 16));
    }
    return states;
}

// What a socket under test signals, in order, and when it closed.
struct Record
{
    explicit Record(WsSocket *socket)
    {
        clock.start();
        QObject::connect(socket, &WsSocket::opened, socket, [this] { ++opened; });
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [this](const QByteArray &message) { messages.append(message); });
        QObject::connect(socket, &WsSocket::errorOccurred, socket, [this](const WsError &error) {
            errors.append(error);
            log.append(QStringLiteral("error ") + error.codeName());
        });
        QObject::connect(socket, &WsSocket::closed, socket, [this](int code) {
            closedAt = clock.elapsed();
            closeCodes.append(code);
            log.append(QStringLiteral("closed %1").arg(code));
        });
        QObject::connect(socket, &WsSocket::reconnecting, socket,
                         [this](int attempt) { reconnectAttempts.append(attempt); });
    }

    QElapsedTimer clock;
    qint64 closedAt = -1;
    int opened = 0;
    QByteArrayList messages;
    QList<WsError> errors;
    QList<int> closeCodes;
    QList<int> reconnectAttempts;
    QStringList log;
};

// Turns a logging category's warnings off while it lives.
struct QuietWarnings
{
    explicit QuietWarnings(const QString &category)
    {
        QLoggingCategory::setFilterRules(category + QStringLiteral(".warning=false"));
    }
    ~QuietWarnings() { QLoggingCategory::setFilterRules(QString()); }
};

QString elapsedMessage(qint64 elapsed, qint64 bound)
{
    return QStringLiteral("took %1 ms, more than %2 ms").arg(elapsed).arg(bound);
}

} // namespace

class tst_NetFaults : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void slowLinkServerStopsReading();
    void slowLinkClientWaitsForDrained();
    void slowLinkOverflowRefused();
    void partitionClientReconnects();
    void partitionServerDetects();
    void frozenServerHandshakeTimeout();
    void frozenClientHandshakeTimeout();
    void closeTimeoutFrozenPeer_data();
    void closeTimeoutFrozenPeer();

private:
    enum Need { NeedsNetwork, NeedsTc, NeedsNft };
    // Why a test that needs `need` cannot run; empty when it can.
    QString missing(Need need) const;

    WsServerOptions hostOptions() const;
    QString urlOf(const WsServer &server) const;
    QUrl peerUrl(const QByteArray &port) const;

    std::unique_ptr<Network> m_network;
    QString m_tc;
    QString m_nft;
    QString m_noNetwork;
    QString m_noTc;
    QString m_noNft;
};

void tst_NetFaults::initTestCase()
{
    const QString ip = findProgram(QStringLiteral("ip"));
    if (::geteuid() != 0)
        m_noNetwork = QStringLiteral("network namespaces need root");
    else if (ip.isEmpty())
        m_noNetwork = QStringLiteral("ip (iproute2) not found");
    if (!m_noNetwork.isEmpty())
        return;
    removeStaleNamespaces(ip);
    m_network = Network::create(ip, &m_noNetwork);
    if (!m_network)
        return;

    m_tc = findProgram(QStringLiteral("tc"));
    if (m_tc.isEmpty()) {
        m_noTc = QStringLiteral("tc (iproute2) not found");
    } else {
        SlowLink probe(*m_network, m_tc, SlowLink::TowardPeer);
        if (QString error; !probe.apply(&error))
            m_noTc = QStringLiteral("no tbf qdisc: ") + error;
    }

    m_nft = findProgram(QStringLiteral("nft"));
    if (m_nft.isEmpty()) {
        m_noNft = QStringLiteral("nft (nftables) not found");
    } else {
        QString output;
        if (!runCommand(ip, m_network->inside(m_nft, {QStringLiteral("list"), QStringLiteral("ruleset")}), &output))
            m_noNft = QStringLiteral("nft does not work in a namespace: ") + output;
    }
}

void tst_NetFaults::cleanupTestCase()
{
    m_network.reset();
}

QString tst_NetFaults::missing(Need need) const
{
    if (!m_network)
        return QStringLiteral("no network namespace: ") + m_noNetwork;
    if (need == NeedsTc)
        return m_noTc;
    if (need == NeedsNft)
        return !m_noTc.isEmpty() ? m_noTc : m_noNft;
    return {};
}

WsServerOptions tst_NetFaults::hostOptions() const
{
    WsServerOptions options;
    options.host = m_network->hostAddress();
    options.port = 0;
    return options;
}

QString tst_NetFaults::urlOf(const WsServer &server) const
{
    return QStringLiteral("ws://%1:%2/").arg(m_network->hostAddress().toString()).arg(server.address().port);
}

QUrl tst_NetFaults::peerUrl(const QByteArray &port) const
{
    return QUrl(QStringLiteral("ws://%1:%2/").arg(m_network->peerAddress().toString(), QString::fromLatin1(port)));
}

// The peer sends far more than the slow link can bring back, at once, and
// reads every echo. The server echoes without looking at backpressure, as
// an application that just answers does: it must stop reading from the
// peer while its echoes wait (pauseReadingWhenBackpressured), so that
// bufferedAmount stays near the high-water mark instead of holding most of
// what the peer sent.
void tst_NetFaults::slowLinkServerStopsReading()
{
    if (const QString why = missing(NeedsTc); !why.isEmpty())
        QSKIP(qPrintable(why));
    SlowLink slow(*m_network, m_tc, SlowLink::TowardPeer);
    QString error;
    QVERIFY2(slow.apply(&error), qPrintable(error));

    constexpr int count = 48;
    // What was read before reading stopped is still echoed: up to one read
    // (the library reads 64 KiB at a time) and the message it ended in.
    constexpr qint64 readAllowance = 64 * 1024 + 2 * (kMessageSize + kMaxFrameHeader);
    WsServerOptions options = hostOptions();
    options.highWaterMark = kHighWaterMark;
    options.lowWaterMark = kLowWaterMark;
    WsServer server(options);
    QVERIFY2(server.isListening(), qPrintable(server.error().message()));
    qint64 mostBuffered = 0;
    int backpressured = 0;
    WsStatistics statistics;
    connect(&server, &WsServer::newConnection, this, [&](WsSocket *socket) {
        connect(socket, &WsSocket::messageReceived, socket, [&, socket](const QByteArray &message) {
            if (socket->trySend(message) == WsSocket::Backpressure)
                ++backpressured;
            mostBuffered = qMax(mostBuffered, socket->bufferedAmount());
        });
        connect(socket, &WsSocket::closed, socket, [&, socket] { statistics = socket->statistics(); });
    });

    Peer peer(*m_network, {QStringLiteral("flood"), urlOf(server), QString::number(count), QString::number(kMessageSize)});
    const QByteArray echoed = peer.waitForLine("echoed", kTransferMs);
    QVERIFY2(echoed == QByteArray::number(count) + ' ' + QByteArray::number(count * kMessageSize),
             peer.transcript().constData());
    QVERIFY2(backpressured > 0, "the echoes never met the high-water mark: the link is not slow");
    QVERIFY2(mostBuffered <= kHighWaterMark + readAllowance,
             qPrintable(QStringLiteral("bufferedAmount reached %1 bytes of the %2 sent")
                                .arg(mostBuffered)
                                .arg(count * kMessageSize)));
    QVERIFY(waitFor([&] { return statistics.messagesSent > 0; }));
    QCOMPARE(statistics.messagesReceived, count);
    QCOMPARE(statistics.messagesSent, count);
}

// The client sends through the slow link as fast as trySend() lets it: it
// stops at Backpressure and goes on at drained(). bufferedAmount passes the
// high-water mark by no more than the message that reached it, and every
// message comes back intact, in order.
void tst_NetFaults::slowLinkClientWaitsForDrained()
{
    if (const QString why = missing(NeedsTc); !why.isEmpty())
        QSKIP(qPrintable(why));
    SlowLink slow(*m_network, m_tc, SlowLink::TowardPeer);
    QString error;
    QVERIFY2(slow.apply(&error), qPrintable(error));
    Peer peer(*m_network, {QStringLiteral("echo-server"), m_network->peerAddress().toString()});
    const QByteArray port = peer.waitForLine("listening");
    QVERIFY2(!port.isNull(), peer.transcript().constData());

    constexpr int count = 48;
    WsClientOptions options;
    options.highWaterMark = kHighWaterMark;
    options.lowWaterMark = kLowWaterMark;
    WsSocket client;
    Record record(&client);
    int next = 0;
    int refused = 0;
    int backpressured = 0;
    qint64 mostBuffered = 0;
    const auto sendMore = [&] {
        while (next < count && client.readyState() == WsSocket::Open) {
            const WsSocket::SendStatus status = client.trySend(netfaultPayload(quint32(next++), kMessageSize));
            mostBuffered = qMax(mostBuffered, client.bufferedAmount());
            if (status == WsSocket::Dropped)
                ++refused;
            if (status == WsSocket::Backpressure) {
                ++backpressured;
                return;
            }
        }
    };
    connect(&client, &WsSocket::opened, this, sendMore);
    connect(&client, &WsSocket::drained, this, sendMore);
    QVERIFY(!client.open(peerUrl(port), {}, options).isError());
    QVERIFY2(waitFor([&] { return record.messages.size() == count || !record.closeCodes.isEmpty(); }, kTransferMs),
             qPrintable(QStringLiteral("%1 of %2 sent, %3 echoed").arg(next).arg(count).arg(record.messages.size())));

    QCOMPARE(record.log, QStringList());
    QCOMPARE(refused, 0);
    for (int seq = 0; seq < count; ++seq)
        QVERIFY2(record.messages.at(seq) == netfaultPayload(quint32(seq), kMessageSize), qPrintable(QString::number(seq)));
    QVERIFY2(backpressured > 0, "trySend() never reported Backpressure: the link is not slow");
    QVERIFY2(mostBuffered < kHighWaterMark + kMessageSize + kMaxFrameHeader,
             qPrintable(QStringLiteral("bufferedAmount reached %1 bytes").arg(mostBuffered)));
}

// A sender that ignores backpressure altogether, on the slow link: with
// maxBufferedAmount and the Refuse policy, what would pass the bound is
// refused and the connection stays. Memory holds no more than the bound,
// though the sender offers a hundred times more, and exactly the accepted
// messages reach the peer, intact and in order.
void tst_NetFaults::slowLinkOverflowRefused()
{
    if (const QString why = missing(NeedsTc); !why.isEmpty())
        QSKIP(qPrintable(why));
    SlowLink slow(*m_network, m_tc, SlowLink::TowardPeer);
    QString error;
    QVERIFY2(slow.apply(&error), qPrintable(error));

    constexpr qint64 maxBuffered = 1024 * 1024;
    constexpr qsizetype size = 256 * 1024;
    constexpr int attempts = 400;
    // Room for the allocator and Qt; what was offered is 100 MiB.
    constexpr qint64 residentAllowance = 24 * 1024 * 1024;
    WsServerOptions options = hostOptions();
    options.maxBufferedAmount = maxBuffered;
    options.overflowPolicy = WsConnectionOptions::OverflowPolicy::Refuse;
    WsServer server(options);
    QVERIFY2(server.isListening(), qPrintable(server.error().message()));
    QPointer<WsSocket> accepted;
    connect(&server, &WsServer::newConnection, this, [&](WsSocket *socket) { accepted = socket; });
    Peer peer(*m_network, {QStringLiteral("client"), urlOf(server)});
    QVERIFY2(!peer.waitForLine("open").isNull(), peer.transcript().constData());
    QVERIFY(waitFor([&] { return !accepted.isNull(); }));

    // Every refusal is a warning: hundreds of them say nothing here.
    const QuietWarnings quiet(QStringLiteral("wsqt.socket"));
    const qint64 residentBefore = wsqt::test::residentBytes();
    qint64 mostResident = residentBefore;
    qint64 mostBuffered = 0;
    QCryptographicHash sent(QCryptographicHash::Sha256);
    qint64 sentCount = 0;
    int refused = 0;
    int attempt = 0;
    // A producer of 50 MB/s: a send every 5 ms, whatever happened to the last.
    QTimer producer;
    producer.setInterval(5);
    connect(&producer, &QTimer::timeout, this, [&] {
        const QByteArray data = netfaultPayload(quint32(attempt), size);
        if (accepted->trySend(data) == WsSocket::Dropped) {
            ++refused;
        } else {
            sent.addData(data);
            ++sentCount;
        }
        mostBuffered = qMax(mostBuffered, accepted->bufferedAmount());
        if (++attempt % 16 == 0)
            mostResident = qMax(mostResident, wsqt::test::residentBytes());
        if (attempt == attempts)
            producer.stop();
    });
    producer.start();
    QVERIFY(waitFor([&] { return attempt == attempts || !accepted; }, kTransferMs));
    QVERIFY2(accepted && accepted->readyState() == WsSocket::Open, "the Refuse policy closed the connection");
    QVERIFY2(refused > 0, "nothing was refused: the link is not slow");
    QVERIFY2(mostBuffered <= maxBuffered, qPrintable(QStringLiteral("bufferedAmount reached %1").arg(mostBuffered)));
    const qint64 grown = mostResident - residentBefore;
    qInfo("%d of %d sends refused; resident memory grew by %lld KiB", refused, attempts, grown / 1024);
    if (wsqt::test::kResidentSizeIsHeld)
        QVERIFY2(grown <= maxBuffered + residentAllowance, qPrintable(QStringLiteral("grew by %1 bytes").arg(grown)));

    // The close frame goes behind all that was accepted.
    QVERIFY(!accepted->close(1000).isError());
    const QByteArray received = peer.waitForLine("received", kTransferMs);
    QCOMPARE(received, QByteArray::number(sentCount) + ' ' + QByteArray::number(sentCount * size) + ' '
                     + sent.result().toHex());
    QCOMPARE(peer.waitForLine("closed"), QByteArray("1000"));
}

// A client with a heartbeat and reconnection sends a large message that the
// peer echoes back over a slow link; halfway through the echo everything is
// dropped. Nothing arrives any more: the heartbeat gives up within about
// pingInterval + pongTimeout (Timeout, then 1006) and the message is never
// delivered. Attempts fail while the partition lasts; once it heals the
// client is back and exchanges a message.
void tst_NetFaults::partitionClientReconnects()
{
    if (const QString why = missing(NeedsNft); !why.isEmpty())
        QSKIP(qPrintable(why));
    SlowLink slow(*m_network, m_tc, SlowLink::FromPeer);
    QString error;
    QVERIFY2(slow.apply(&error), qPrintable(error));
    Peer peer(*m_network, {QStringLiteral("echo-server"), m_network->peerAddress().toString()});
    const QByteArray port = peer.waitForLine("listening");
    QVERIFY2(!port.isNull(), peer.transcript().constData());

    constexpr int pingInterval = 300;
    constexpr int pongTimeout = 300;
    constexpr qsizetype size = 1024 * 1024;
    WsClientOptions options;
    options.pingInterval = pingInterval;
    options.pongTimeout = pongTimeout;
    // A connection attempt into the partition would otherwise wait for TCP's
    // own timeout, minutes.
    options.handshakeTimeout = 1000;
    options.reconnect.enabled = true;
    options.reconnect.minDelay = 100;
    options.reconnect.maxDelay = 400;
    options.reconnect.jitter = 0.0;
    WsSocket client;
    Record record(&client);
    QVERIFY(!client.open(peerUrl(port), {}, options).isError());
    QVERIFY2(waitFor([&] { return record.opened == 1 || !record.closeCodes.isEmpty(); }), qPrintable(record.log.join(u',')));
    QCOMPARE(record.opened, 1);

    QVERIFY(!client.sendBinary(netfaultPayload(0, size)).isError());
    QVERIFY(waitFor([&] { return client.statistics().wireBytesReceived >= 64 * 1024; }, kTransferMs));
    QVERIFY2(record.messages.isEmpty(), "the echo was complete before the partition");
    Partition partition(*m_network, m_nft);
    QVERIFY2(partition.apply(&error), qPrintable(error));
    QElapsedTimer sincePartition;
    sincePartition.start();

    QVERIFY(waitFor([&] { return !record.closeCodes.isEmpty(); }, kWaitMs));
    const qint64 bound = kSlowdown * (pingInterval + pongTimeout);
    QVERIFY2(sincePartition.elapsed() <= bound, qPrintable(elapsedMessage(sincePartition.elapsed(), bound)));
    QCOMPARE(record.log, (QStringList{QStringLiteral("error WSQT_ERR_TIMEOUT"), QStringLiteral("closed 1006")}));
    QVERIFY(record.messages.isEmpty());

    // The first attempt meets the partition: it times out, and a second one is announced.
    QVERIFY2(waitFor([&] { return record.reconnectAttempts.size() >= 2; }, kWaitMs), qPrintable(record.log.join(u',')));
    QCOMPARE(record.opened, 1);
    QVERIFY2(record.errors.size() >= 2, qPrintable(record.log.join(u',')));
    QCOMPARE(record.errors.at(1).code(), WsError::HandshakeTimeout);

    QVERIFY(partition.heal());
    QVERIFY2(waitFor([&] { return record.opened == 2; }, kWaitMs), qPrintable(record.log.join(u',')));
    QVERIFY(!client.sendText(QStringLiteral("after the partition")).isError());
    QVERIFY(waitFor([&] { return !record.messages.isEmpty(); }));
    QCOMPARE(record.messages, QByteArrayList{"after the partition"});
}

// The server's side of the same: the peer sends a large message over the
// slow link, and halfway through everything is dropped. The server's
// heartbeat gives up within about pingInterval + pongTimeout, and frees the
// socket.
void tst_NetFaults::partitionServerDetects()
{
    if (const QString why = missing(NeedsNft); !why.isEmpty())
        QSKIP(qPrintable(why));
    SlowLink slow(*m_network, m_tc, SlowLink::FromPeer);
    QString error;
    QVERIFY2(slow.apply(&error), qPrintable(error));

    constexpr int pingInterval = 300;
    constexpr int pongTimeout = 300;
    WsServerOptions options = hostOptions();
    options.pingInterval = pingInterval;
    options.pongTimeout = pongTimeout;
    WsServer server(options);
    QVERIFY2(server.isListening(), qPrintable(server.error().message()));
    QPointer<WsSocket> accepted;
    std::unique_ptr<Record> record;
    connect(&server, &WsServer::newConnection, this, [&](WsSocket *socket) {
        accepted = socket;
        record = std::make_unique<Record>(socket);
    });
    Peer peer(*m_network, {QStringLiteral("client"), urlOf(server), QString::number(1024 * 1024)});
    QVERIFY2(waitFor([&] { return !accepted.isNull(); }), peer.transcript().constData());
    QVERIFY(waitFor([&] { return !accepted || accepted->statistics().wireBytesReceived >= 64 * 1024; }, kTransferMs));
    QVERIFY2(record->log.isEmpty(), qPrintable(record->log.join(u',')));

    Partition partition(*m_network, m_nft);
    QVERIFY2(partition.apply(&error), qPrintable(error));
    QElapsedTimer sincePartition;
    sincePartition.start();
    QVERIFY(waitFor([&] { return !record->closeCodes.isEmpty(); }, kWaitMs));
    const qint64 bound = kSlowdown * (pingInterval + pongTimeout);
    QVERIFY2(sincePartition.elapsed() <= bound, qPrintable(elapsedMessage(sincePartition.elapsed(), bound)));
    QCOMPARE(record->log, (QStringList{QStringLiteral("error WSQT_ERR_TIMEOUT"), QStringLiteral("closed 1006")}));
    QVERIFY(record->messages.isEmpty());
    QVERIFY(waitFor([&] { return tcpStatesTo(m_network->peerAddress()).isEmpty(); }));
}

// The server is frozen with its listening socket open: the kernel accepts
// the connection (it completes TCP's handshake for a frozen listener), and
// nobody answers the upgrade request. The client gives
// up after handshakeTimeout and frees its socket.
void tst_NetFaults::frozenServerHandshakeTimeout()
{
    if (const QString why = missing(NeedsNetwork); !why.isEmpty())
        QSKIP(qPrintable(why));
    Peer peer(*m_network, {QStringLiteral("echo-server"), m_network->peerAddress().toString()});
    const QByteArray port = peer.waitForLine("listening");
    QVERIFY2(!port.isNull(), peer.transcript().constData());
    QVERIFY(peer.freeze());

    constexpr int handshakeTimeout = 500;
    WsClientOptions options;
    options.handshakeTimeout = handshakeTimeout;
    WsSocket client;
    Record record(&client);
    QVERIFY(!client.open(peerUrl(port), {}, options).isError());
    QVERIFY(waitFor([&] { return !record.closeCodes.isEmpty(); }, kWaitMs));
    QVERIFY2(record.closedAt <= kSlowdown * handshakeTimeout, qPrintable(elapsedMessage(record.closedAt, kSlowdown * handshakeTimeout)));
    QCOMPARE(record.log,
             (QStringList{QStringLiteral("error WSQT_ERR_HANDSHAKE_TIMEOUT"), QStringLiteral("closed 1006")}));
    QCOMPARE(record.opened, 0);
    QVERIFY(waitFor([&] { return tcpStatesTo(m_network->peerAddress()).isEmpty(); }));
}

// The client connects and is frozen before it sends a byte of its request.
// After handshakeTimeout the server answers 408 and drops the connection
// while the client is still frozen; once continued, the client reads that
// answer and the end of the connection.
void tst_NetFaults::frozenClientHandshakeTimeout()
{
    if (const QString why = missing(NeedsNetwork); !why.isEmpty())
        QSKIP(qPrintable(why));
    constexpr int handshakeTimeout = 500;
    WsServerOptions options = hostOptions();
    options.handshakeTimeout = handshakeTimeout;
    WsServer server(options);
    QVERIFY2(server.isListening(), qPrintable(server.error().message()));
    int connections = 0;
    connect(&server, &WsServer::newConnection, this, [&] { ++connections; });

    Peer peer(*m_network, {QStringLiteral("stop-before-request"), m_network->hostAddress().toString(),
                           QString::number(server.address().port)});
    QVERIFY2(!peer.waitForLine("connected").isNull(), peer.transcript().constData());
    QElapsedTimer sinceConnected;
    sinceConnected.start();
    QVERIFY(waitFor([&] { return peer.isStopped(); }));
    QVERIFY2(waitFor([&] { return server.statistics().handshakesRefused == 1; }, kWaitMs),
             "the server never gave up on the request");
    // It ended its side (no longer ESTABLISHED) ...
    QVERIFY(waitFor([&] { return !tcpStatesTo(m_network->peerAddress()).contains(1); }));
    const qint64 bound = kSlowdown * handshakeTimeout;
    QVERIFY2(sinceConnected.elapsed() <= bound, qPrintable(elapsedMessage(sinceConnected.elapsed(), bound)));
    // ... and, since the frozen peer never ends its own, lets go of the socket after a while.
    QVERIFY(waitFor([&] { return tcpStatesTo(m_network->peerAddress()).isEmpty(); }, kWaitMs));
    QVERIFY2(peer.isStopped(), "the peer was continued before the end");

    QVERIFY(peer.thaw());
    QCOMPARE(peer.waitForLine("response"), QByteArray("HTTP/1.1 408 Request Timeout"));
    QVERIFY2(!peer.waitForLine("ended").isNull(), peer.transcript().constData());
    QCOMPARE(connections, 0);
    QCOMPARE(server.statistics().connectionsAccepted, 0);
}

void tst_NetFaults::closeTimeoutFrozenPeer_data()
{
    QTest::addColumn<bool>("testedIsClient");
    QTest::newRow("client") << true;
    QTest::newRow("server") << false;
}

// Once open, the peer is frozen and the side under test starts the closing
// handshake. The close frame reaches the peer's kernel, and no answer
// comes: after closeTimeout the connection is destroyed, closed() reports
// 1006, and the socket is freed.
void tst_NetFaults::closeTimeoutFrozenPeer()
{
    QFETCH(bool, testedIsClient);
    if (const QString why = missing(NeedsNetwork); !why.isEmpty())
        QSKIP(qPrintable(why));
    constexpr int closeTimeout = 500;

    std::unique_ptr<WsServer> server;
    std::unique_ptr<WsSocket> client;
    std::unique_ptr<Peer> peer;
    QPointer<WsSocket> tested;
    if (testedIsClient) {
        peer = std::make_unique<Peer>(*m_network, QStringList{QStringLiteral("echo-server"),
                                                              m_network->peerAddress().toString()});
        const QByteArray port = peer->waitForLine("listening");
        QVERIFY2(!port.isNull(), peer->transcript().constData());
        WsClientOptions options;
        options.closeTimeout = closeTimeout;
        client = std::make_unique<WsSocket>();
        QVERIFY(!client->open(peerUrl(port), {}, options).isError());
        QVERIFY(waitFor([&] { return client->readyState() != WsSocket::Connecting; }));
        QCOMPARE(client->readyState(), WsSocket::Open);
        tested = client.get();
    } else {
        WsServerOptions options = hostOptions();
        options.closeTimeout = closeTimeout;
        server = std::make_unique<WsServer>(options);
        QVERIFY2(server->isListening(), qPrintable(server->error().message()));
        connect(server.get(), &WsServer::newConnection, this, [&](WsSocket *socket) { tested = socket; });
        peer = std::make_unique<Peer>(*m_network, QStringList{QStringLiteral("client"), urlOf(*server)});
        QVERIFY2(!peer->waitForLine("open").isNull(), peer->transcript().constData());
        QVERIFY(waitFor([&] { return !tested.isNull(); }));
    }
    Record record(tested);
    QVERIFY(peer->freeze());

    QVERIFY(!tested->close(1000, "bye").isError());
    QElapsedTimer sinceClose;
    sinceClose.start();
    QVERIFY(waitFor([&] { return !record.closeCodes.isEmpty(); }, kWaitMs));
    const qint64 bound = kSlowdown * closeTimeout;
    QVERIFY2(sinceClose.elapsed() <= bound, qPrintable(elapsedMessage(sinceClose.elapsed(), bound)));
    QCOMPARE(record.closeCodes, QList<int>{1006});
    QVERIFY(waitFor([&] { return tcpStatesTo(m_network->peerAddress()).isEmpty(); }));
    QVERIFY2(peer->isStopped(), "the peer was continued before the end");
}

QTEST_GUILESS_MAIN(tst_NetFaults)
#include "tst_netfaults.moc"
