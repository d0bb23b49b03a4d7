// WsSocket following HTTP redirects in the opening handshake: which ones it
// follows, which it refuses, and which credentials go on to another host.

#include "wssocketpeers.h"

#include <QtTest/qtest.h>

using namespace wssocketpeers;

class tst_WsSocketRedirects : public QObject
{
    Q_OBJECT

private slots:
    void redirectFollowed_data();
    void redirectFollowed();
    void redirectFails_data();
    void redirectFails();
    void redirectCredentials_data();
    void redirectCredentials();
};

void tst_WsSocketRedirects::redirectFollowed_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("location");      // PORT: the redirecting server, PEERPORT: a WsServer
    QTest::addColumn<QByteArray>("expectedUrl");
    QTest::addColumn<QByteArray>("expectedTarget");
    QTest::addColumn<bool>("toPeer");

    QTest::newRow("302 to an absolute path") << 302 << QByteArray("/other?y=2")
                                             << QByteArray("ws://127.0.0.1:PORT/other?y=2") << QByteArray("/other?y=2")
                                             << false;
    QTest::newRow("301 to a relative path") << 301 << QByteArray("next") << QByteArray("ws://127.0.0.1:PORT/dir/next")
                                            << QByteArray("/dir/next") << false;
    QTest::newRow("303 with dot segments") << 303 << QByteArray("../up") << QByteArray("ws://127.0.0.1:PORT/up")
                                           << QByteArray("/up") << false;
    QTest::newRow("307 scheme-relative") << 307 << QByteArray("//127.0.0.1:PEERPORT/final")
                                         << QByteArray("ws://127.0.0.1:PEERPORT/final") << QByteArray("/final") << true;
    QTest::newRow("308 absolute ws") << 308 << QByteArray("ws://127.0.0.1:PEERPORT/final?z=1")
                                     << QByteArray("ws://127.0.0.1:PEERPORT/final?z=1") << QByteArray("/final?z=1")
                                     << true;
    QTest::newRow("302 absolute http") << 302 << QByteArray("http://127.0.0.1:PEERPORT/h")
                                       << QByteArray("ws://127.0.0.1:PEERPORT/h") << QByteArray("/h") << true;
}

void tst_WsSocketRedirects::redirectFollowed()
{
    QFETCH(int, status);
    QFETCH(QByteArray, location);
    QFETCH(QByteArray, expectedUrl);
    QFETCH(QByteArray, expectedTarget);
    QFETCH(bool, toPeer);

    ServerPeer peer(ServerPeer::Echo);
    RawServer raw;
    const QByteArray redirect = redirectResponse(status, withPorts(location, raw.port(), peer.port()));
    const auto upgrade = scripted(kUpgrade + "\r\n");
    raw.setResponder([&](const RawRequest &request) {
        return request.path() == "/dir/start" ? redirect : upgrade(request);
    });
    WsSocket client;
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);
    WsClientOptions options;
    options.followRedirects = true;

    QVERIFY(openAndWait(client, raw.url("/dir/start?x=1"), options));
    const QUrl expected = urlWithPorts(expectedUrl, raw.port(), peer.port());
    QCOMPARE(client.url(), expected);
    QCOMPARE(urls.size(), 2);
    QCOMPARE(urls.at(0).first().toUrl(), raw.url("/dir/start?x=1"));
    QCOMPARE(urls.at(1).first().toUrl(), expected);
    QCOMPARE(log.lines, kOpenedLines);
    if (toPeer) {
        QCOMPARE(raw.count(), 1);
        QCOMPARE(peer.requests().size(), 1);
        QCOMPARE(peer.requests().first().target, expectedTarget);
        QCOMPARE(client.sendText(QStringLiteral("through")), WsError());
        QTRY_COMPARE(log.messages, QByteArrayList{"through"});
    } else {
        QCOMPARE(raw.count(), 2);
        QCOMPARE(raw.last().request.target(), expectedTarget);
    }
}

void tst_WsSocketRedirects::redirectFails_data()
{
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<int>("maxRedirects");
    QTest::addColumn<WsError>("expected");
    QTest::addColumn<int>("connections");

    const WsError tooMany(WsError::TooManyRedirects, QStringLiteral("Maximum redirects exceeded"));
    QTest::newRow("loop, maxRedirects 0") << QByteArray("/loop") << 0 << tooMany << 1;
    QTest::newRow("loop, maxRedirects 1") << QByteArray("/loop") << 1 << tooMany << 2;
    QTest::newRow("loop, maxRedirects 3") << QByteArray("/loop") << 3 << tooMany << 4;
    QTest::newRow("to ftp") << QByteArray("ftp://127.0.0.1/x") << 10
                            << WsError(WsError::InvalidUrl,
                                       QStringLiteral("The URL's protocol must be one of \"ws:\", \"wss:\", \"http:\", "
                                                      "\"https:\", or \"ws+unix:\""))
                            << 1;
    QTest::newRow("with a fragment") << QByteArray("/x#frag") << 10
                                     << WsError(WsError::InvalidUrl,
                                                QStringLiteral("The URL contains a fragment identifier"))
                                     << 1;
    QTest::newRow("malformed") << QByteArray("http://[::1") << 10
                               << WsError(WsError::InvalidUrl, QStringLiteral("Invalid URL: http://[::1")) << 1;
}

void tst_WsSocketRedirects::redirectFails()
{
    QFETCH(QByteArray, location);
    QFETCH(int, maxRedirects);
    QFETCH(WsError, expected);
    QFETCH(int, connections);

    RawServer raw;
    raw.setResponder([&](const RawRequest &) { return redirectResponse(302, location); });
    WsSocket client;
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);
    WsClientOptions options;
    options.followRedirects = true;
    options.maxRedirects = maxRedirects;

    QCOMPARE(client.open(raw.url("/start"), {}, options), WsError());
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.errors, QList<WsError>{expected});
    QCOMPARE(raw.count(), connections);
    QCOMPARE(urls.size(), connections);
    QCOMPARE(log.lines.mid(1), (QStringList{QStringLiteral("state Closing"), QLatin1String("error ") + expected.codeName(),
                                            QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")}));
}

void tst_WsSocketRedirects::redirectCredentials_data()
{
    QTest::addColumn<QByteArray>("target");     // PORT: the first server, PEERPORT: a second one
    // 0: no handleRedirect, 1: one that looks, 2: one that edits, 3: none but
    // a redirected() receiver, which changes nothing
    QTest::addColumn<int>("handler");
    QTest::addColumn<bool>("credentialsKept");

    QTest::newRow("same host and port") << QByteArray("ws://127.0.0.1:PORT/final") << 0 << true;
    QTest::newRow("other port") << QByteArray("ws://127.0.0.1:PEERPORT/final") << 0 << false;
    QTest::newRow("other host name") << QByteArray("ws://localhost:PORT/final") << 0 << false;
    QTest::newRow("same host, handler") << QByteArray("ws://127.0.0.1:PORT/final") << 1 << true;
    QTest::newRow("other port, handler") << QByteArray("ws://127.0.0.1:PEERPORT/final") << 1 << true;
    QTest::newRow("other host name, handler edits") << QByteArray("ws://localhost:PORT/final") << 2 << true;
    QTest::newRow("other port, redirected() receiver") << QByteArray("ws://127.0.0.1:PEERPORT/final") << 3 << false;
}

void tst_WsSocketRedirects::redirectCredentials()
{
    QFETCH(QByteArray, target);
    QFETCH(int, handler);
    QFETCH(bool, credentialsKept);

    RawServer first;
    RawServer other;
    target = withPorts(target, first.port(), other.port());
    const auto upgrade = scripted(kUpgrade + "\r\n");
    first.setResponder([&](const RawRequest &request) {
        return request.path() == "/start" ? redirectResponse(302, target) : upgrade(request);
    });
    other.setResponder(upgrade);

    WsSocket client;
    QList<QPair<QUrl, WsHttpRequest>> seenByHandler;
    QList<QPair<QUrl, WsHttpRequest>> reported;
    connect(&client, &WsSocket::redirected, &client,
            [&](const QUrl &url, const WsHttpRequest &request) { reported.append({url, request}); });
    WsClientOptions options;
    if (handler == 1 || handler == 2) {
        options.handleRedirect = [&](const QUrl &url, WsHttpRequest &request) {
            seenByHandler.append({url, request});
            if (handler == 2) {
                request.headers.remove("Cookie");
                request.headers.append("X-Edited", "1");
            }
        };
    }
    options.followRedirects = true;
    options.headers.append("Cookie", "c=1");
    options.headers.append("X-Keep", "k");
    QVERIFY(openAndWait(client, urlWithPorts("ws://user:pass@127.0.0.1:PORT/start", first.port()), options));

    const RawRequest &start = first.at(0).request;
    QCOMPARE(start.value("Authorization"), QByteArray("Basic dXNlcjpwYXNz"));
    QCOMPARE(start.value("Cookie"), QByteArray("c=1"));

    RawServer &finalServer = other.count() > 0 ? other : first;
    QVERIFY(finalServer.hasRequest());
    const RawRequest &last = finalServer.last().request;
    QCOMPARE(last.target(), QByteArray("/final"));
    QCOMPARE(last.value("Host"), QUrl::fromEncoded(target).authority().toLatin1());
    QCOMPARE(last.value("X-Keep"), QByteArray("k"));
    QCOMPARE(last.value("Authorization"), credentialsKept ? QByteArray("Basic dXNlcjpwYXNz") : QByteArray());
    QCOMPARE(last.value("Cookie"), credentialsKept && handler != 2 ? QByteArray("c=1") : QByteArray());
    QCOMPARE(last.value("X-Edited"), handler == 2 ? QByteArray("1") : QByteArray());
    QCOMPARE(client.url(), QUrl::fromEncoded(target));

    QCOMPARE(seenByHandler.size(), handler == 1 || handler == 2 ? 1 : 0);
    if (!seenByHandler.isEmpty()) {
        QCOMPARE(seenByHandler.first().first, QUrl::fromEncoded(target));
        const WsHttpRequest &seen = seenByHandler.first().second;
        QCOMPARE(seen.method, QByteArray("GET"));
        QCOMPARE(seen.target, QByteArray("/final"));
        QCOMPARE(seen.headers.value("Authorization"), QByteArray("Basic dXNlcjpwYXNz"));
        QCOMPARE(seen.headers.value("Cookie"), QByteArray("c=1"));
    }
    // The notification reports the request as sent.
    QCOMPARE(reported.size(), 1);
    QCOMPARE(reported.first().first, QUrl::fromEncoded(target));
    QCOMPARE(reported.first().second.headers.value("Authorization"), last.value("Authorization"));
    QCOMPARE(reported.first().second.headers.value("Cookie"), last.value("Cookie"));
}

QTEST_MAIN(tst_WsSocketRedirects)

#include "tst_wssocket_redirects.moc"
