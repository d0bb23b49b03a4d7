// UNIX domain sockets on both roles: WsServer's socketPath and localServer
// options, ws+unix:// URLs and their request targets, failures, redirects
// between a UNIX domain socket and TCP, and ws from npm as the peer.

#include "reachsupport.h"

#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qlocalserver.h>
#include <QtNetwork/qlocalsocket.h>

using namespace reach;

namespace {

// A WsServer that echoes and keeps each request it upgraded.
struct RecordingServer
{
    explicit RecordingServer(WsServerOptions options)
    {
        options.verifyClient = [this](const WsVerifyClientInfo &info) {
            requests.append(info.request);
            return true;
        };
        server = echoServer(options);
    }

    std::unique_ptr<WsServer> server;
    QList<WsHttpRequest> requests;
};

WsServerOptions onPath(const QString &path)
{
    WsServerOptions options;
    options.socketPath = path;
    return options;
}

bool openAndWait(WsSocket *client, ClientRecord *record, const QUrl &url, const WsClientOptions &options = {})
{
    if (client->open(url, {}, options))
        return false;
    return QTest::qWaitFor([record] { return record->opened == 1 || record->isClosed(); }, kWaitMs)
            && record->opened == 1;
}

bool echoes(WsSocket *client, ClientRecord *record, const QString &text)
{
    client->sendText(text);
    return QTest::qWaitFor([record, &text] { return record->messages.contains(text.toUtf8()); }, kWaitMs);
}

} // namespace

class tst_Unix : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void socketPath_data();
    void socketPath();
    void localServerOption();
    void missingSocket();
    void emptyPathname();
    void unusableSocketPath();
    void redirectBetweenTransports_data();
    void redirectBetweenTransports();
    void wsClientToWsqtServer();
    void wsqtClientToWsServer();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString socketFile(const QString &name = QStringLiteral("ws.sock")) const { return m_dir->filePath(name); }
};

void tst_Unix::init()
{
    // Short, fresh paths: sun_path holds 108 bytes.
    m_dir = std::make_unique<QTemporaryDir>(QStringLiteral("/tmp/wsqt-unix-XXXXXX"));
    QVERIFY(m_dir->isValid());
}

void tst_Unix::socketPath_data()
{
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QString>("suffix");
    QTest::addColumn<QByteArray>("target");

    QTest::newRow("path and query") << QStringLiteral("ws+unix://") << QStringLiteral(":/chat?room=1")
                                    << QByteArray("/chat?room=1");
    QTest::newRow("no request path") << QStringLiteral("ws+unix://") << QString() << QByteArray("/");
    QTest::newRow("root") << QStringLiteral("ws+unix://") << QStringLiteral(":/") << QByteArray("/");
    QTest::newRow("deeper path") << QStringLiteral("ws+unix://") << QStringLiteral(":/a/b") << QByteArray("/a/b");
    QTest::newRow("without the authority") << QStringLiteral("ws+unix:") << QStringLiteral(":/chat?room=1")
                                           << QByteArray("/chat?room=1");
}

void tst_Unix::socketPath()
{
    QFETCH(QString, prefix);
    QFETCH(QString, suffix);
    QFETCH(QByteArray, target);

    const QString path = socketFile();
    RecordingServer server(onPath(path));
    QVERIFY(server.server->isListening());
    QCOMPARE(server.server->address().path, path);
    QVERIFY(server.server->address().port == 0);

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openAndWait(&client, &record, QUrl(prefix + path + suffix)));
    QCOMPARE(server.requests.size(), 1);
    QCOMPARE(server.requests.first().target, target);
    QCOMPARE(server.requests.first().headers.value("Host"), QByteArray("localhost"));
    QVERIFY(echoes(&client, &record, QStringLiteral("over a UNIX domain socket")));
    client.close(1000);
    QTRY_COMPARE(record.closeCodes, QList<int>{1000});
}

void tst_Unix::localServerOption()
{
    QLocalServer local;
    QVERIFY(local.listen(socketFile()));
    WsServerOptions options;
    options.localServer = &local;
    RecordingServer server(options);
    QVERIFY(server.server->isListening());
    QCOMPARE(server.server->address().path, local.fullServerName());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openAndWait(&client, &record, QUrl(QStringLiteral("ws+unix://") + socketFile() + QStringLiteral(":/app"))));
    QCOMPARE(server.requests.first().target, QByteArray("/app"));
    QVERIFY(echoes(&client, &record, QStringLiteral("through the application's server")));

    // Closing lets the application's server go; it keeps listening.
    bool closed = false;
    client.close(1000);
    server.server->close([&closed](const WsError &) { closed = true; });
    QTRY_VERIFY(closed);
    QVERIFY(local.isListening());
}

void tst_Unix::missingSocket()
{
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(QUrl(QStringLiteral("ws+unix://") + socketFile(QStringLiteral("nobody.sock")))));
    // connect() fails at once with ENOENT.
    QTRY_VERIFY_WITH_TIMEOUT(record.isClosed(), 3000);
    QCOMPARE(record.log, (QStringList{QStringLiteral("error WSQT_ERR_CONNECTION"), QStringLiteral("closed 1006")}));
    QCOMPARE(record.opened, 0);
}

void tst_Unix::emptyPathname()
{
    WsSocket client;
    const WsError error = client.open(QUrl(QStringLiteral("ws+unix:")));
    QCOMPARE(error.code(), WsError::InvalidUrl);
    QCOMPARE(error.message(), QStringLiteral("The URL's pathname is empty"));
    QCOMPARE(client.readyState(), WsSocket::Closed);
}

void tst_Unix::unusableSocketPath()
{
    WsServer server(onPath(socketFile(QStringLiteral("missing-directory/ws.sock"))));
    QCOMPARE(server.error().code(), WsError::ServerError);
    QVERIFY(!server.isListening());
    QVERIFY(server.address().isNull());
}

void tst_Unix::redirectBetweenTransports_data()
{
    QTest::addColumn<bool>("fromUnix");

    QTest::newRow("UNIX domain socket to TCP") << true;
    QTest::newRow("TCP to UNIX domain socket") << false;
}

void tst_Unix::redirectBetweenTransports()
{
    QFETCH(bool, fromUnix);

    // The credentials never follow: a socket path and a TCP host are never the same host.
    WsClientOptions options;
    options.followRedirects = true;
    options.headers = headerFields({"Authorization: Bearer t", "Cookie: c=1", "X-Other: o"});
    WsSocket client;
    ClientRecord record(&client);
    QList<WsHttpRequest> firstRequests;

    std::unique_ptr<RecordingServer> target;
    QLocalServer redirector;
    HttpPeer tcpRedirector;
    if (fromUnix) {
        target = std::make_unique<RecordingServer>(WsServerOptions());
        QVERIFY(redirector.listen(socketFile(QStringLiteral("redirect.sock"))));
        connect(&redirector, &QLocalServer::newConnection, &redirector, [&] {
            QLocalSocket *socket = redirector.nextPendingConnection();
            connect(socket, &QLocalSocket::readyRead, socket, [&, socket] {
                const QByteArray head = socket->peek(socket->bytesAvailable());
                if (!head.contains("\r\n\r\n"))
                    return;
                firstRequests.append(parseRequestHead(socket->readAll()));
                socket->write("HTTP/1.1 302 Found\r\nLocation: " + serverUrl(*target->server).toUtf8()
                              + "next\r\nContent-Length: 0\r\n\r\n");
                socket->disconnectFromServer();
            });
        });
        QVERIFY(openAndWait(&client, &record, QUrl(QStringLiteral("ws+unix://") + redirector.fullServerName()
                                                           + QStringLiteral(":/first")),
                            options));
    } else {
        target = std::make_unique<RecordingServer>(onPath(socketFile()));
        tcpRedirector.setResponder([this](const WsHttpRequest &) {
            return HttpPeer::redirect(302, "ws+unix://" + socketFile().toUtf8() + ":/next");
        });
        QVERIFY(tcpRedirector.start());
        QVERIFY(openAndWait(&client, &record, QUrl::fromEncoded(tcpRedirector.origin() + "/first"), options));
        for (const HttpPeer::Exchange &exchange : tcpRedirector.exchanges())
            firstRequests.append(exchange.request);
    }

    QCOMPARE(firstRequests.size(), 1);
    QCOMPARE(firstRequests.first().headers.value("Authorization"), QByteArray("Bearer t"));
    QCOMPARE(target->requests.size(), 1);
    const WsHttpRequest &redirected = target->requests.first();
    QCOMPARE(redirected.target, QByteArray("/next"));
    QVERIFY(!redirected.headers.contains("Authorization"));
    QVERIFY(!redirected.headers.contains("Cookie"));
    QCOMPARE(redirected.headers.value("X-Other"), QByteArray("o"));
    QVERIFY(echoes(&client, &record, QStringLiteral("across transports")));
}

void tst_Unix::wsClientToWsqtServer()
{
    if (const QString missing = nodePeerMissing(); !missing.isEmpty())
        QSKIP(qPrintable(missing));

    const QString path = socketFile();
    RecordingServer server(onPath(path));
    NodePeer peer(QJsonObject{{QStringLiteral("role"), QStringLiteral("client")},
                              {QStringLiteral("url"), QStringLiteral("ws+unix:") + path + QStringLiteral(":/chat?room=1")},
                              {QStringLiteral("message"), QStringLiteral("from ws")}});

    QCOMPARE(peer.waitForEvent(QStringLiteral("message")).value(QStringLiteral("data")).toString(),
             QStringLiteral("from ws"));
    QCOMPARE(peer.waitForEvent(QStringLiteral("close")).value(QStringLiteral("code")).toInt(), 1000);
    QCOMPARE(server.requests.size(), 1);
    QCOMPARE(server.requests.first().target, QByteArray("/chat?room=1"));
    QCOMPARE(server.requests.first().headers.value("Host"), QByteArray("localhost"));
}

void tst_Unix::wsqtClientToWsServer()
{
    if (const QString missing = nodePeerMissing(); !missing.isEmpty())
        QSKIP(qPrintable(missing));

    const QString path = socketFile();
    NodePeer peer(QJsonObject{{QStringLiteral("role"), QStringLiteral("server")},
                              {QStringLiteral("socketPath"), path}});
    QVERIFY2(!peer.waitForEvent(QStringLiteral("ready")).isEmpty(), "the ws server did not start");

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openAndWait(&client, &record, QUrl(QStringLiteral("ws+unix://") + path + QStringLiteral(":/chat?room=1"))));
    QVERIFY(echoes(&client, &record, QStringLiteral("from wsqt")));
    const QJsonObject connection = peer.waitForEvent(QStringLiteral("connection"));
    QCOMPARE(connection.value(QStringLiteral("url")).toString(), QStringLiteral("/chat?room=1"));
    QCOMPARE(connection.value(QStringLiteral("host")).toString(), QStringLiteral("localhost"));
    QCOMPARE(peer.waitForEvent(QStringLiteral("message")).value(QStringLiteral("data")).toString(),
             QStringLiteral("from wsqt"));
    client.close(1000);
    QTRY_COMPARE_WITH_TIMEOUT(record.closeCodes, QList<int>{1000}, kWaitMs);
    QCOMPARE(peer.waitForEvent(QStringLiteral("close")).value(QStringLiteral("code")).toInt(), 1000);
}

QTEST_MAIN(tst_Unix)
#include "tst_unix.moc"
