// wss:// on both roles: certificate verification and its failures, ignoring
// TLS errors, client certificates, TLS handshakes that stall, and ws from npm
// as the peer in both roles.

#include "reachsupport.h"

#include <QtCore/qelapsedtimer.h>
#include <QtNetwork/qsslerror.h>
#include <QtNetwork/qtcpsocket.h>

#include <algorithm>

using namespace reach;

namespace {

constexpr int kServerHandshakeTimeoutMs = 600;

WsServerOptions tlsOptions(const QString &certificateName, bool requireClientCertificate = false)
{
    WsServerOptions options;
    options.sslConfiguration = serverTls(certificateName, requireClientCertificate);
    return options;
}

WsClientOptions clientOptions(bool trustTestCa, const QString &clientName = {})
{
    WsClientOptions options;
    options.sslConfiguration = clientTls(trustTestCa, clientName);
    return options;
}

// Counts what reaches the application on the server side.
struct ServerRecord
{
    explicit ServerRecord(WsServerOptions *options)
    {
        options->verifyClient = [this](const WsVerifyClientInfo &info) {
            verified.append(info);
            return true;
        };
    }
    void watch(WsServer *server)
    {
        QObject::connect(server, &WsServer::newConnection, server, [this] { ++connections; });
    }

    QList<WsVerifyClientInfo> verified;
    int connections = 0;
};

bool containsError(const QList<QSslError> &errors, QSslError::SslError wanted)
{
    return std::any_of(errors.cbegin(), errors.cend(),
                       [wanted](const QSslError &error) { return error.error() == wanted; });
}

QString describe(const QList<QSslError> &errors)
{
    QStringList texts;
    for (const QSslError &error : errors)
        texts.append(error.errorString());
    return texts.join(QStringLiteral("; "));
}

QJsonObject tlsFiles(const QStringList &names)
{
    QJsonObject files;
    for (const QString &entry : names) {
        // "ca" or "cert=client", "key=client"
        const QStringList parts = entry.split(QLatin1Char('='));
        const QString key = parts.first();
        const QString certificateName = parts.size() > 1 ? parts.at(1) : key;
        files.insert(key, certificatePath(certificateName + (key == QLatin1String("key") ? QStringLiteral(".key")
                                                                                          : QStringLiteral(".crt"))));
    }
    return files;
}

} // namespace

class tst_Tls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void trustedConnection_data();
    void trustedConnection();
    void verificationFails_data();
    void verificationFails();
    void ignoreSslErrors_data();
    void ignoreSslErrors();
    void clientCertificate_data();
    void clientCertificate();
    void secureFlag_data();
    void secureFlag();
    void stalledHandshakeDropped_data();
    void stalledHandshakeDropped();
    void wsClientToWsqtServer_data();
    void wsClientToWsqtServer();
    void wsqtClientToWsServer_data();
    void wsqtClientToWsServer();
};

void tst_Tls::initTestCase()
{
    QVERIFY2(QSslSocket::supportsSsl(), "Qt has no TLS backend");
    QVERIFY2(certificatesPresent(), "no certificates in " WSQT_REACH_CERTS_DIR ": run make-certs.sh (ctest's reach_certs)");
}

void tst_Tls::trustedConnection_data()
{
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<QString>("host");

    QTest::newRow("wss, DNS name") << QStringLiteral("wss") << QStringLiteral("localhost");
    QTest::newRow("wss, IP address") << QStringLiteral("wss") << QStringLiteral("127.0.0.1");
    QTest::newRow("https") << QStringLiteral("https") << QStringLiteral("localhost");
}

void tst_Tls::trustedConnection()
{
    QFETCH(QString, scheme);
    QFETCH(QString, host);

    WsServerOptions options = tlsOptions(QStringLiteral("server"));
    ServerRecord serverRecord(&options);
    const auto server = echoServer(options);
    QVERIFY(server->isListening());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(QUrl(serverUrl(*server, scheme, host, QStringLiteral("/secure?x=1"))), {},
                         clientOptions(true)));
    QTRY_COMPARE_WITH_TIMEOUT(record.opened, 1, kWaitMs);
    QCOMPARE(client.url().scheme(), QStringLiteral("wss"));
    client.sendText(QStringLiteral("over TLS"));
    QTRY_COMPARE(record.messages, QList<QByteArray>{"over TLS"});
    QVERIFY(record.sslErrors.isEmpty());
    QCOMPARE(serverRecord.verified.size(), 1);
    QVERIFY(serverRecord.verified.first().secure);
    QCOMPARE(serverRecord.verified.first().request.target, QByteArray("/secure?x=1"));
    client.close(1000);
    QTRY_COMPARE(record.closeCodes, QList<int>{1000});
}

void tst_Tls::verificationFails_data()
{
    QTest::addColumn<QString>("certificateName");
    QTest::addColumn<bool>("trustTestCa");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QSslError::SslError>("expected");

    QTest::newRow("unknown CA") << QStringLiteral("server") << false << QStringLiteral("localhost")
                                << QSslError::UnableToGetLocalIssuerCertificate;
    QTest::newRow("expired") << QStringLiteral("expired") << true << QStringLiteral("localhost")
                             << QSslError::CertificateExpired;
    QTest::newRow("wrong host name") << QStringLiteral("wronghost") << true << QStringLiteral("localhost")
                                     << QSslError::HostNameMismatch;
    QTest::newRow("wrong host, IP address") << QStringLiteral("wronghost") << true << QStringLiteral("127.0.0.1")
                                            << QSslError::HostNameMismatch;
}

void tst_Tls::verificationFails()
{
    QFETCH(QString, certificateName);
    QFETCH(bool, trustTestCa);
    QFETCH(QString, host);
    QFETCH(QSslError::SslError, expected);

    WsServerOptions options = tlsOptions(certificateName);
    ServerRecord serverRecord(&options);
    const auto server = echoServer(options);
    serverRecord.watch(server.get());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(QUrl(serverUrl(*server, QStringLiteral("wss"), host)), {}, clientOptions(trustTestCa)));
    QTRY_VERIFY_WITH_TIMEOUT(record.isClosed(), kWaitMs);

    QCOMPARE(record.log, (QStringList{QStringLiteral("sslErrors"), QStringLiteral("error WSQT_ERR_TLS"),
                                      QStringLiteral("closed 1006")}));
    QVERIFY2(containsError(record.sslErrors.first(), expected), qPrintable(describe(record.sslErrors.first())));
    QVERIFY2(record.firstErrorMessage().contains(QSslError(expected).errorString()),
             qPrintable(record.firstErrorMessage()));
    QCOMPARE(client.readyState(), WsSocket::Closed);
    // The request never left the client.
    QVERIFY(serverRecord.verified.isEmpty());
    QCOMPARE(serverRecord.connections, 0);
}

enum class Ignore { All, Reported, Other };
Q_DECLARE_METATYPE(Ignore)

void tst_Tls::ignoreSslErrors_data()
{
    QTest::addColumn<QString>("certificateName");
    QTest::addColumn<bool>("trustTestCa");
    QTest::addColumn<Ignore>("ignore");
    QTest::addColumn<bool>("opens");

    QTest::newRow("unknown CA, all") << QStringLiteral("server") << false << Ignore::All << true;
    QTest::newRow("expired, all") << QStringLiteral("expired") << true << Ignore::All << true;
    QTest::newRow("wrong host, the reported ones") << QStringLiteral("wronghost") << true << Ignore::Reported << true;
    QTest::newRow("wrong host, another error") << QStringLiteral("wronghost") << true << Ignore::Other << false;
}

void tst_Tls::ignoreSslErrors()
{
    QFETCH(QString, certificateName);
    QFETCH(bool, trustTestCa);
    QFETCH(Ignore, ignore);
    QFETCH(bool, opens);

    const auto server = echoServer(tlsOptions(certificateName));

    WsSocket client;
    ClientRecord record(&client);
    connect(&client, &WsSocket::sslErrors, &client, [&client, ignore](const QList<QSslError> &errors) {
        switch (ignore) {
        case Ignore::All:
            client.ignoreSslErrors();
            break;
        case Ignore::Reported:
            client.ignoreSslErrors(errors);
            break;
        case Ignore::Other:
            client.ignoreSslErrors({QSslError(QSslError::CertificateRevoked, errors.first().certificate())});
            break;
        }
    }, Qt::DirectConnection);
    QVERIFY(!client.open(QUrl(serverUrl(*server, QStringLiteral("wss"), QStringLiteral("localhost"))), {},
                         clientOptions(trustTestCa)));

    if (!opens) {
        QTRY_VERIFY_WITH_TIMEOUT(record.isClosed(), kWaitMs);
        QCOMPARE(record.opened, 0);
        // The errors that were not ignored still fail verification.
        QVERIFY2(record.firstErrorCode() == WsError::TlsError,
                 qPrintable(record.errors.first().codeName() + QStringLiteral(": ") + record.firstErrorMessage()));
        QCOMPARE(record.closeCodes, QList<int>{1006});
        return;
    }
    QTRY_COMPARE_WITH_TIMEOUT(record.opened, 1, kWaitMs);
    QCOMPARE(record.sslErrors.size(), 1);
    QVERIFY(record.errors.isEmpty());
    client.sendText(QStringLiteral("despite the errors"));
    QTRY_COMPARE(record.messages, QList<QByteArray>{"despite the errors"});
}

void tst_Tls::clientCertificate_data()
{
    QTest::addColumn<QString>("clientName");
    QTest::addColumn<bool>("accepted");

    QTest::newRow("signed by the CA") << QStringLiteral("client") << true;
    QTest::newRow("none") << QString() << false;
    QTest::newRow("signed by another CA") << QStringLiteral("rogue-client") << false;
}

void tst_Tls::clientCertificate()
{
    QFETCH(QString, clientName);
    QFETCH(bool, accepted);

    WsServerOptions options = tlsOptions(QStringLiteral("server"), true);
    ServerRecord serverRecord(&options);
    const auto server = echoServer(options);
    serverRecord.watch(server.get());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(QUrl(serverUrl(*server, QStringLiteral("wss"), QStringLiteral("localhost"))), {},
                         clientOptions(true, clientName)));
    if (accepted) {
        QTRY_COMPARE_WITH_TIMEOUT(record.opened, 1, kWaitMs);
        client.sendText(QStringLiteral("with a certificate"));
        QTRY_COMPARE(record.messages, QList<QByteArray>{"with a certificate"});
        QCOMPARE(serverRecord.verified.size(), 1);
        QVERIFY(serverRecord.verified.first().secure);
        return;
    }
    QTRY_VERIFY_WITH_TIMEOUT(record.isClosed(), kWaitMs);
    QCOMPARE(record.opened, 0);
    QCOMPARE(record.closeCodes, QList<int>{1006});
    // QSslServer drops the connection without a TLS alert, so all the client
    // can tell is that the server hung up, or, when it sees it, that TLS failed.
    QVERIFY2(record.firstErrorCode() == WsError::ConnectionError || record.firstErrorCode() == WsError::TlsError,
             qPrintable(record.firstErrorMessage()));
    QVERIFY(serverRecord.verified.isEmpty());
    QCOMPARE(serverRecord.connections, 0);
}

void tst_Tls::secureFlag_data()
{
    QTest::addColumn<bool>("tls");

    QTest::newRow("wss") << true;
    QTest::newRow("ws") << false;
}

void tst_Tls::secureFlag()
{
    QFETCH(bool, tls);

    WsServerOptions options = tls ? tlsOptions(QStringLiteral("server")) : WsServerOptions();
    ServerRecord serverRecord(&options);
    const auto server = echoServer(options);

    WsSocket client;
    ClientRecord record(&client);
    const QString scheme = tls ? QStringLiteral("wss") : QStringLiteral("ws");
    QVERIFY(!client.open(QUrl(serverUrl(*server, scheme, QStringLiteral("localhost"))), {}, clientOptions(true)));
    QTRY_COMPARE_WITH_TIMEOUT(record.opened, 1, kWaitMs);
    QCOMPARE(serverRecord.verified.size(), 1);
    QCOMPARE(serverRecord.verified.first().secure, tls);
}

void tst_Tls::stalledHandshakeDropped_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("stalls");

    QTest::newRow("nothing sent") << QByteArray() << true;
    QTest::newRow("part of a TLS record header") << QByteArray::fromHex("160301") << true;
    QTest::newRow("a ClientHello cut short") << QByteArray::fromHex("16030100c8010000c40303") << true;
    QTest::newRow("plain HTTP") << QByteArray("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n") << false;
    QTest::newRow("garbage") << QByteArray(64, '\xff') << false;
}

void tst_Tls::stalledHandshakeDropped()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, stalls);

    WsServerOptions options = tlsOptions(QStringLiteral("server"));
    options.handshakeTimeout = kServerHandshakeTimeoutMs;
    const auto server = echoServer(options);

    QTcpSocket raw;
    raw.connectToHost(QHostAddress::LocalHost, server->address().port);
    QVERIFY(raw.waitForConnected(kWaitMs));
    QElapsedTimer elapsed;
    elapsed.start();
    raw.write(bytes);

    // Others are served meanwhile.
    const auto connectAndEcho = [&server](const QString &text) {
        WsSocket client;
        ClientRecord record(&client);
        client.open(QUrl(serverUrl(*server, QStringLiteral("wss"), QStringLiteral("localhost"))), {},
                    clientOptions(true));
        if (!QTest::qWaitFor([&record] { return record.opened == 1 || record.isClosed(); }, kWaitMs))
            return false;
        client.sendText(text);
        return QTest::qWaitFor([&record, &text] { return record.messages.contains(text.toUtf8()); }, kWaitMs);
    };
    QVERIFY(connectAndEcho(QStringLiteral("while another stalls")));

    // Well before QSslServer's default of 5 s.
    QTRY_VERIFY_WITH_TIMEOUT(raw.state() == QAbstractSocket::UnconnectedState, 4000);
    if (stalls) {
        QVERIFY2(elapsed.elapsed() >= kServerHandshakeTimeoutMs - 100,
                 qPrintable(QStringLiteral("dropped after %1 ms").arg(elapsed.elapsed())));
    }
    QVERIFY(server->isListening());
    QVERIFY(connectAndEcho(QStringLiteral("after the drop")));
}

void tst_Tls::wsClientToWsqtServer_data()
{
    QTest::addColumn<bool>("requireClientCertificate");
    QTest::addColumn<QStringList>("clientFiles");
    QTest::addColumn<QString>("errorCode");   // empty: the connection opens

    QTest::newRow("trusted") << false << QStringList{QStringLiteral("ca")} << QString();
    QTest::newRow("untrusted") << false << QStringList() << QStringLiteral("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    QTest::newRow("client certificate")
            << true << QStringList{QStringLiteral("ca"), QStringLiteral("cert=client"), QStringLiteral("key=client")}
            << QString();
    QTest::newRow("client certificate missing") << true << QStringList{QStringLiteral("ca")} << QStringLiteral("*");
}

void tst_Tls::wsClientToWsqtServer()
{
    QFETCH(bool, requireClientCertificate);
    QFETCH(QStringList, clientFiles);
    QFETCH(QString, errorCode);
    if (const QString missing = nodePeerMissing(); !missing.isEmpty())
        QSKIP(qPrintable(missing));

    WsServerOptions options = tlsOptions(QStringLiteral("server"), requireClientCertificate);
    ServerRecord serverRecord(&options);
    const auto server = echoServer(options);
    serverRecord.watch(server.get());

    NodePeer peer(QJsonObject{
            {QStringLiteral("role"), QStringLiteral("client")},
            {QStringLiteral("url"), serverUrl(*server, QStringLiteral("wss"), QStringLiteral("localhost"),
                                              QStringLiteral("/interop"))},
            {QStringLiteral("tls"), tlsFiles(clientFiles)},
            {QStringLiteral("message"), QStringLiteral("from ws")}});

    if (!errorCode.isEmpty()) {
        const QJsonObject error = peer.waitForEvent(QStringLiteral("error"));
        QVERIFY2(!error.isEmpty(), "ws reported no error");
        if (errorCode != QLatin1String("*"))
            QCOMPARE(error.value(QStringLiteral("code")).toString(), errorCode);
        QVERIFY(peer.event(QStringLiteral("open")).isEmpty());
        QCOMPARE(serverRecord.connections, 0);
        return;
    }
    const QJsonObject message = peer.waitForEvent(QStringLiteral("message"));
    QCOMPARE(message.value(QStringLiteral("data")).toString(), QStringLiteral("from ws"));
    QCOMPARE(peer.waitForEvent(QStringLiteral("close")).value(QStringLiteral("code")).toInt(), 1000);
    QCOMPARE(serverRecord.verified.size(), 1);
    QVERIFY(serverRecord.verified.first().secure);
    QCOMPARE(serverRecord.verified.first().request.target, QByteArray("/interop"));
}

void tst_Tls::wsqtClientToWsServer_data()
{
    QTest::addColumn<bool>("requestCertificate");
    QTest::addColumn<bool>("trustTestCa");
    QTest::addColumn<QString>("clientName");
    QTest::addColumn<bool>("opens");

    QTest::newRow("trusted") << false << true << QString() << true;
    QTest::newRow("untrusted") << false << false << QString() << false;
    QTest::newRow("client certificate") << true << true << QStringLiteral("client") << true;
    QTest::newRow("client certificate missing") << true << true << QString() << false;
}

void tst_Tls::wsqtClientToWsServer()
{
    QFETCH(bool, requestCertificate);
    QFETCH(bool, trustTestCa);
    QFETCH(QString, clientName);
    QFETCH(bool, opens);
    if (const QString missing = nodePeerMissing(); !missing.isEmpty())
        QSKIP(qPrintable(missing));

    QJsonObject tls = tlsFiles({QStringLiteral("cert=server"), QStringLiteral("key=server"), QStringLiteral("ca")});
    tls.insert(QStringLiteral("requestCert"), requestCertificate);
    NodePeer peer(QJsonObject{{QStringLiteral("role"), QStringLiteral("server")}, {QStringLiteral("tls"), tls}});
    const QJsonObject ready = peer.waitForEvent(QStringLiteral("ready"));
    QVERIFY2(!ready.isEmpty(), "the ws server did not start");
    const int port = ready.value(QStringLiteral("port")).toInt();

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(QUrl(QStringLiteral("wss://localhost:%1/interop?x=1").arg(port)), {},
                         clientOptions(trustTestCa, clientName)));
    if (!opens) {
        QTRY_VERIFY_WITH_TIMEOUT(record.isClosed(), kWaitMs);
        QCOMPARE(record.opened, 0);
        // Node refuses a missing certificate with a TLS alert: a TLS error too.
        QVERIFY2(record.firstErrorCode() == WsError::TlsError,
                 qPrintable(record.errors.first().codeName() + QStringLiteral(": ") + record.firstErrorMessage()));
        QVERIFY(peer.event(QStringLiteral("connection")).isEmpty());
        return;
    }
    QTRY_COMPARE_WITH_TIMEOUT(record.opened, 1, kWaitMs);
    client.sendText(QStringLiteral("from wsqt"));
    QTRY_COMPARE_WITH_TIMEOUT(record.messages, QList<QByteArray>{"from wsqt"}, kWaitMs);

    const QJsonObject connection = peer.waitForEvent(QStringLiteral("connection"));
    QVERIFY(connection.value(QStringLiteral("secure")).toBool());
    QCOMPARE(connection.value(QStringLiteral("url")).toString(), QStringLiteral("/interop?x=1"));
    QCOMPARE(connection.value(QStringLiteral("host")).toString(), QStringLiteral("localhost:%1").arg(port));
    if (requestCertificate) {
        QVERIFY(connection.value(QStringLiteral("authorized")).toBool());
        QCOMPARE(connection.value(QStringLiteral("clientCertificate")).toString(), QStringLiteral("wsqt client"));
    }
    client.close(1000, "bye");
    QTRY_COMPARE_WITH_TIMEOUT(record.closeCodes, QList<int>{1000}, kWaitMs);
    QCOMPARE(peer.waitForEvent(QStringLiteral("close")).value(QStringLiteral("code")).toInt(), 1000);
}

QTEST_MAIN(tst_Tls)
#include "tst_tls.moc"
