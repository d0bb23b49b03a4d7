// The proxy option: HTTP CONNECT through tinyproxy, SOCKS5 through dante and
// microsocks, with and without credentials, ws and wss, the application
// proxy as the default, and proxies that refuse. Each proxy runs as a child
// process with a generated configuration and binds its outgoing connections
// to 127.0.0.3, so the server can tell a proxied connection from a direct one.

#include "reachsupport.h"

#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qnetworkproxy.h>

using namespace reach;

namespace {

const QHostAddress kProxyOutgoing(QStringLiteral("127.0.0.3"));

enum class Kind { Tinyproxy, Dante, Microsocks, Nothing };

struct ProxySettings
{
    QString user;        // empty: no authentication
    QString password;
    bool refuseTargets = false;   // the proxy refuses to connect anywhere
};

// A proxy server in a child process, on a free port of 127.0.0.1.
class ProxyProcess
{
public:
    ~ProxyProcess()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        // SIGTERM lets dante end its child processes.
        m_process.terminate();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    static QString program(Kind kind)
    {
        switch (kind) {
        case Kind::Tinyproxy:
            return findProgram(QStringLiteral("tinyproxy"));
        case Kind::Dante: {
            const QString danted = findProgram(QStringLiteral("danted"));
            return danted.isEmpty() ? findProgram(QStringLiteral("sockd")) : danted;
        }
        case Kind::Microsocks:
            return findProgram(QStringLiteral("microsocks"));
        case Kind::Nothing:
            break;
        }
        return {};
    }

    static QString package(Kind kind)
    {
        switch (kind) {
        case Kind::Tinyproxy:
            return QStringLiteral("tinyproxy");
        case Kind::Dante:
            return QStringLiteral("dante-server");
        case Kind::Microsocks:
            return QStringLiteral("microsocks");
        case Kind::Nothing:
            break;
        }
        return {};
    }

    // Starts the proxy (Nothing: only picks a port where nothing listens);
    // an empty string when it runs, otherwise why not.
    QString start(Kind kind, const ProxySettings &settings)
    {
        m_kind = kind;
        m_port = freePort();
        if (kind == Kind::Nothing)
            return {};
        const QString executable = program(kind);
        if (executable.isEmpty())
            return QStringLiteral("%1 is not installed (Debian package %2)").arg(kind == Kind::Dante ? QStringLiteral("danted") : package(kind), package(kind));
        if (!m_dir.isValid())
            return QStringLiteral("no temporary directory");

        m_logPath = m_dir.filePath(QStringLiteral("proxy.log"));
        const QString configPath = m_dir.filePath(QStringLiteral("proxy.conf"));
        QStringList arguments;
        switch (kind) {
        case Kind::Tinyproxy:
            writeFile(configPath, tinyproxyConfiguration(settings));
            arguments = {QStringLiteral("-d"), QStringLiteral("-c"), configPath};
            break;
        case Kind::Dante:
            writeFile(configPath, danteConfiguration(settings));
            arguments = {QStringLiteral("-f"), configPath, QStringLiteral("-N"), QStringLiteral("1"),
                         QStringLiteral("-p"), m_dir.filePath(QStringLiteral("danted.pid"))};
            break;
        case Kind::Microsocks:
            arguments = {QStringLiteral("-i"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                         QString::number(m_port), QStringLiteral("-b"), kProxyOutgoing.toString()};
            if (!settings.user.isEmpty())
                arguments << QStringLiteral("-u") << settings.user << QStringLiteral("-P") << settings.password;
            m_process.setStandardOutputFile(m_logPath);
            break;
        case Kind::Nothing:
            break;
        }
        m_process.setStandardErrorFile(m_dir.filePath(QStringLiteral("stderr.txt")));
        m_process.start(executable, arguments);
        if (!m_process.waitForStarted(kWaitMs))
            return QStringLiteral("%1 did not start: %2").arg(executable, m_process.errorString());
        if (!waitForListener(m_port)) {
            return QStringLiteral("%1 does not listen on port %2: %3")
                    .arg(executable)
                    .arg(m_port)
                    .arg(QString::fromLocal8Bit(readFile(m_dir.filePath(QStringLiteral("stderr.txt")))));
        }
        return {};
    }

    QNetworkProxy proxy(const QString &user = {}, const QString &password = {}) const
    {
        const auto type = m_kind == Kind::Tinyproxy ? QNetworkProxy::HttpProxy : QNetworkProxy::Socks5Proxy;
        return QNetworkProxy(type, QStringLiteral("127.0.0.1"), m_port, user, password);
    }

    quint16 port() const { return m_port; }
    QByteArray log() const { return readFile(m_logPath); }

private:
    static void writeFile(const QString &path, const QByteArray &contents)
    {
        QFile file(path);
        if (file.open(QIODevice::WriteOnly))
            file.write(contents);
    }

    QByteArray tinyproxyConfiguration(const ProxySettings &settings) const
    {
        QByteArray configuration = "Port " + QByteArray::number(m_port) + "\n"
                "Listen 127.0.0.1\n"
                "Bind " + kProxyOutgoing.toString().toLatin1() + "\n"
                "Timeout 60\n"
                "MaxClients 20\n"
                "Allow 127.0.0.1\n"
                "LogLevel Info\n"
                "LogFile \"" + m_logPath.toLocal8Bit() + "\"\n";
        if (!settings.user.isEmpty())
            configuration += "BasicAuth " + settings.user.toUtf8() + ' ' + settings.password.toUtf8() + '\n';
        // Without ConnectPort lines every port may be tunnelled to; port 1 alone refuses the others.
        if (settings.refuseTargets)
            configuration += "ConnectPort 1\n";
        return configuration;
    }

    QByteArray danteConfiguration(const ProxySettings &settings) const
    {
        // Dante checks user names against the system's accounts only, so it runs without authentication.
        return "logoutput: " + m_logPath.toLocal8Bit() + "\n"
               "internal: 127.0.0.1 port = " + QByteArray::number(m_port) + "\n"
               "external: " + kProxyOutgoing.toString().toLatin1() + "\n"
               "clientmethod: none\n"
               "socksmethod: none\n"
               "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect }\n"
               + (settings.refuseTargets ? "socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect }\n"
                                         : "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect }\n");
    }

    Kind m_kind = Kind::Nothing;
    quint16 m_port = 0;
    QTemporaryDir m_dir;
    QString m_logPath;
    QProcess m_process;
};

// A WsServer that keeps where its clients come from.
struct RecordingServer
{
    explicit RecordingServer(bool tls, const QHostAddress &host = QHostAddress(QHostAddress::LocalHost))
    {
        WsServerOptions options;
        options.port = 0;
        options.host = host;
        if (tls)
            options.sslConfiguration = serverTls(QStringLiteral("server"));
        options.verifyClient = [this](const WsVerifyClientInfo &info) {
            peers.append(info.peerAddress);
            return true;
        };
        server = echoServer(options);
    }

    std::unique_ptr<WsServer> server;
    QList<QHostAddress> peers;
};

WsClientOptions clientOptions(const QNetworkProxy &proxy)
{
    WsClientOptions options;
    options.proxy = proxy;
    options.sslConfiguration = clientTls(true);
    return options;
}

} // namespace

Q_DECLARE_METATYPE(Kind)
Q_DECLARE_METATYPE(ProxySettings)

class tst_Proxy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void throughProxy_data();
    void throughProxy();
    void applicationProxy_data();
    void applicationProxy();
    void proxyRefuses_data();
    void proxyRefuses();
};

void tst_Proxy::initTestCase()
{
    QVERIFY2(certificatesPresent(), "no certificates in " WSQT_REACH_CERTS_DIR ": run make-certs.sh (ctest's reach_certs)");
}

void tst_Proxy::cleanup()
{
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void tst_Proxy::throughProxy_data()
{
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<bool>("authenticate");

    QTest::newRow("HTTP CONNECT, ws") << Kind::Tinyproxy << QStringLiteral("ws") << false;
    QTest::newRow("HTTP CONNECT, wss") << Kind::Tinyproxy << QStringLiteral("wss") << false;
    QTest::newRow("HTTP CONNECT, Basic auth") << Kind::Tinyproxy << QStringLiteral("ws") << true;
    QTest::newRow("SOCKS5 (dante), ws") << Kind::Dante << QStringLiteral("ws") << false;
    QTest::newRow("SOCKS5 (dante), wss") << Kind::Dante << QStringLiteral("wss") << false;
    QTest::newRow("SOCKS5 (microsocks), ws") << Kind::Microsocks << QStringLiteral("ws") << false;
    QTest::newRow("SOCKS5 (microsocks), password, ws") << Kind::Microsocks << QStringLiteral("ws") << true;
    QTest::newRow("SOCKS5 (microsocks), password, wss") << Kind::Microsocks << QStringLiteral("wss") << true;
}

void tst_Proxy::throughProxy()
{
    QFETCH(Kind, kind);
    QFETCH(QString, scheme);
    QFETCH(bool, authenticate);

    ProxySettings settings;
    if (authenticate) {
        settings.user = QStringLiteral("reach");
        settings.password = QStringLiteral("s3cret");
    }
    ProxyProcess proxy;
    if (const QString why = proxy.start(kind, settings); !why.isEmpty())
        QSKIP(qPrintable(why));

    const bool tls = scheme == QLatin1String("wss");
    RecordingServer server(tls);
    WsSocket client;
    ClientRecord record(&client);
    // A host name, which the proxy resolves; "localhost" is also the name in the certificate.
    QVERIFY(!client.open(QUrl(serverUrl(*server.server, scheme, QStringLiteral("localhost"), QStringLiteral("/via"))),
                         {}, clientOptions(proxy.proxy(settings.user, settings.password))));
    QTRY_VERIFY_WITH_TIMEOUT(record.opened == 1 || record.isClosed(), kWaitMs);
    QVERIFY2(record.opened == 1, qPrintable(record.firstErrorMessage()));
    client.sendText(QStringLiteral("through the proxy"));
    QTRY_COMPARE_WITH_TIMEOUT(record.messages, QList<QByteArray>{"through the proxy"}, kWaitMs);

    // The connection came from the proxy's outgoing address.
    QCOMPARE(server.peers, QList<QHostAddress>{kProxyOutgoing});
    if (kind != Kind::Microsocks) {
        const QByteArray port = QByteArray::number(server.server->address().port);
        // tinyproxy logs the CONNECT request line, dante the tunnel's endpoints.
        const QByteArray expected = kind == Kind::Tinyproxy ? "CONNECT localhost:" + port : "127.0.0.1." + port;
        QTRY_VERIFY2_WITH_TIMEOUT(proxy.log().contains(expected), proxy.log().constData(), kWaitMs);
    }
    client.close(1000);
    QTRY_COMPARE_WITH_TIMEOUT(record.closeCodes, QList<int>{1000}, kWaitMs);
}

void tst_Proxy::applicationProxy_data()
{
    QTest::addColumn<bool>("useDefault");

    QTest::newRow("default: the application proxy") << true;
    QTest::newRow("NoProxy: direct") << false;
}

void tst_Proxy::applicationProxy()
{
    QFETCH(bool, useDefault);

    ProxyProcess proxy;
    if (const QString why = proxy.start(Kind::Tinyproxy, {}); !why.isEmpty())
        QSKIP(qPrintable(why));
    QNetworkProxy::setApplicationProxy(proxy.proxy());

    // Qt never sends loopback addresses nor "localhost" to the application
    // proxy, so the client asks for 0.0.0.0, which Linux takes for the
    // connection's own source address: 127.0.0.3 through the proxy, where the
    // server listens, and 127.0.0.1 directly, where nothing does.
    RecordingServer server(false, kProxyOutgoing);
    WsClientOptions options;
    if (!useDefault)
        options.proxy = QNetworkProxy(QNetworkProxy::NoProxy);
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(QUrl(serverUrl(*server.server, QStringLiteral("ws"), QStringLiteral("0.0.0.0"))), {}, options));
    QTRY_VERIFY_WITH_TIMEOUT(record.opened == 1 || record.isClosed(), kWaitMs);
    if (!useDefault) {
        QCOMPARE(record.firstErrorCode(), WsError::ConnectionError);
        QVERIFY(server.peers.isEmpty());
        return;
    }
    QVERIFY2(record.opened == 1, qPrintable(record.firstErrorMessage()));
    QCOMPARE(server.peers, QList<QHostAddress>{kProxyOutgoing});
}

void tst_Proxy::proxyRefuses_data()
{
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QNetworkProxy::ProxyType>("type");
    QTest::addColumn<ProxySettings>("settings");
    QTest::addColumn<QString>("user");       // what the client gives
    QTest::addColumn<QString>("password");

    const ProxySettings open;
    const ProxySettings withPassword{QStringLiteral("reach"), QStringLiteral("s3cret"), false};
    const ProxySettings refusing{{}, {}, true};

    const auto http = QNetworkProxy::HttpProxy;
    const auto socks = QNetworkProxy::Socks5Proxy;
    QTest::newRow("HTTP, wrong password") << Kind::Tinyproxy << http << withPassword << QStringLiteral("reach")
                                          << QStringLiteral("wrong");
    QTest::newRow("HTTP, no credentials") << Kind::Tinyproxy << http << withPassword << QString() << QString();
    QTest::newRow("HTTP, port not allowed") << Kind::Tinyproxy << http << refusing << QString() << QString();
    QTest::newRow("SOCKS5, wrong password") << Kind::Microsocks << socks << withPassword << QStringLiteral("reach")
                                            << QStringLiteral("wrong");
    QTest::newRow("SOCKS5, no credentials") << Kind::Microsocks << socks << withPassword << QString() << QString();
    QTest::newRow("SOCKS5, target not allowed") << Kind::Dante << socks << refusing << QString() << QString();
    QTest::newRow("no HTTP proxy there") << Kind::Nothing << http << open << QString() << QString();
    QTest::newRow("no SOCKS5 proxy there") << Kind::Nothing << socks << open << QString() << QString();
}

void tst_Proxy::proxyRefuses()
{
    QFETCH(Kind, kind);
    QFETCH(QNetworkProxy::ProxyType, type);
    QFETCH(ProxySettings, settings);
    QFETCH(QString, user);
    QFETCH(QString, password);

    ProxyProcess proxy;
    if (const QString why = proxy.start(kind, settings); !why.isEmpty())
        QSKIP(qPrintable(why));

    RecordingServer server(false);
    WsSocket client;
    ClientRecord record(&client);
    const QNetworkProxy through(type, QStringLiteral("127.0.0.1"), proxy.port(), user, password);
    QVERIFY(!client.open(QUrl(serverUrl(*server.server)), {}, clientOptions(through)));
    QTRY_VERIFY_WITH_TIMEOUT(record.isClosed(), kWaitMs);
    QCOMPARE(record.opened, 0);
    QCOMPARE(record.log.size(), 2);
    QVERIFY2(record.firstErrorCode() == WsError::ProxyError,
             qPrintable(record.errors.first().codeName() + QStringLiteral(": ") + record.firstErrorMessage()));
    QCOMPARE(record.closeCodes, QList<int>{1006});
    QVERIFY(server.peers.isEmpty());
}

QTEST_MAIN(tst_Proxy)
#include "tst_proxy.moc"
