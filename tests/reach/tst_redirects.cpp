// followRedirects: the statuses, chains, relative and invalid Locations,
// maxRedirects, the handshake timeout restarted at each hop, and which
// credentials follow a redirect (ws's rules: none to another host nor from
// wss to ws, unless the handleRedirect option is set).

#include "reachsupport.h"

#include <QtCore/qelapsedtimer.h>

using namespace reach;

namespace {

// "{A}" and "{B}" stand for the ports of the two HTTP peers.
QByteArray withPorts(QByteArray text, const HttpPeer &a, const HttpPeer *b = nullptr)
{
    text.replace("{A}", QByteArray::number(a.serverPort()));
    if (b)
        text.replace("{B}", QByteArray::number(b->serverPort()));
    return text;
}

QUrl urlWithPorts(const QByteArray &text, const HttpPeer &a, const HttpPeer *b = nullptr)
{
    return QUrl::fromEncoded(withPorts(text, a, b));
}

WsClientOptions following(int maxRedirects = 10)
{
    WsClientOptions options;
    options.followRedirects = true;
    options.maxRedirects = maxRedirects;
    return options;
}

enum class Receiver { None, Keep, RemoveCookie };

} // namespace

Q_DECLARE_METATYPE(Receiver)

class tst_Redirects : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void redirectStatus_data();
    void redirectStatus();
    void notFollowed();
    void sameHostChain();
    void relativeLocation_data();
    void relativeLocation();
    void invalidLocation_data();
    void invalidLocation();
    void maxRedirects_data();
    void maxRedirects();
    void timeoutRestartsAtEachHop_data();
    void timeoutRestartsAtEachHop();
    void credentials_data();
    void credentials();
    void downgrade_data();
    void downgrade();
};

void tst_Redirects::initTestCase()
{
    QVERIFY2(certificatesPresent(), "no certificates in " WSQT_REACH_CERTS_DIR ": run make-certs.sh (ctest's reach_certs)");
}

void tst_Redirects::redirectStatus_data()
{
    QTest::addColumn<int>("status");

    for (int status : {300, 301, 302, 303, 307, 308})
        QTest::addRow("%d", status) << status;
}

void tst_Redirects::redirectStatus()
{
    QFETCH(int, status);

    HttpPeer peer([status](const WsHttpRequest &request) {
        return request.target == "/start" ? HttpPeer::redirect(status, "/final") : HttpPeer::upgrade();
    });
    QVERIFY(peer.start());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(urlWithPorts("ws://127.0.0.1:{A}/start", peer), {}, following()));
    QTRY_COMPARE(record.opened, 1);
    QCOMPARE(client.url(), urlWithPorts("ws://127.0.0.1:{A}/final", peer));
    QCOMPARE(peer.exchanges().size(), 2);
    QCOMPARE(peer.exchanges().at(1).request.target, QByteArray("/final"));
    client.sendText(QStringLiteral("redirected"));
    QTRY_COMPARE(record.messages, QList<QByteArray>{"redirected"});
}

void tst_Redirects::notFollowed()
{
    HttpPeer peer([](const WsHttpRequest &) { return HttpPeer::redirect(302, "/final"); });
    QVERIFY(peer.start());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(urlWithPorts("ws://127.0.0.1:{A}/start", peer)));
    QTRY_VERIFY(record.isClosed());
    QCOMPARE(record.firstErrorCode(), WsError::UnexpectedResponse);
    QCOMPARE(record.firstErrorMessage(), QStringLiteral("Unexpected server response: 302"));
    QCOMPARE(record.closeCodes, QList<int>{1006});
    QCOMPARE(peer.exchanges().size(), 1);
}

void tst_Redirects::sameHostChain()
{
    // 302 with a relative Location, 301 with an absolute one, then the WebSocket.
    HttpPeer peer;
    peer.setResponder([&peer](const WsHttpRequest &request) {
        if (request.target == "/a")
            return HttpPeer::redirect(302, "/b");
        if (request.target == "/b")
            return HttpPeer::redirect(301, withPorts("ws://127.0.0.1:{A}/c", peer));
        return HttpPeer::upgrade();
    });
    QVERIFY(peer.start());

    WsSocket client;
    ClientRecord record(&client);
    QList<QUrl> urls;
    connect(&client, &WsSocket::urlChanged, &client, [&urls](const QUrl &url) { urls.append(url); });
    QVERIFY(!client.open(urlWithPorts("ws://127.0.0.1:{A}/a", peer), {}, following()));
    QTRY_COMPARE(record.opened, 1);

    QCOMPARE(urls, (QList<QUrl>{urlWithPorts("ws://127.0.0.1:{A}/a", peer), urlWithPorts("ws://127.0.0.1:{A}/b", peer),
                                urlWithPorts("ws://127.0.0.1:{A}/c", peer)}));
    QCOMPARE(client.url(), urls.last());
    QCOMPARE(peer.exchanges().size(), 3);
    QSet<QByteArray> keys;
    for (const HttpPeer::Exchange &exchange : peer.exchanges()) {
        QCOMPARE(exchange.request.headers.value("Host"), withPorts("127.0.0.1:{A}", peer));
        keys.insert(exchange.request.headers.value("Sec-WebSocket-Key"));
    }
    // Each request is a new handshake, with a key of its own.
    QCOMPARE(keys.size(), 3);
    client.sendText(QStringLiteral("at the end of the chain"));
    QTRY_COMPARE(record.messages, QList<QByteArray>{"at the end of the chain"});
}

void tst_Redirects::relativeLocation_data()
{
    QTest::addColumn<QByteArray>("start");
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("absolute path") << QByteArray("/dir/a") << QByteArray("/c") << QByteArray("/c");
    QTest::newRow("relative path") << QByteArray("/dir/a") << QByteArray("c") << QByteArray("/dir/c");
    QTest::newRow("dot segments") << QByteArray("/dir/sub/a") << QByteArray("../c?x=1") << QByteArray("/dir/c?x=1");
    QTest::newRow("query only") << QByteArray("/dir/a?old=1") << QByteArray("?new=2") << QByteArray("/dir/a?new=2");
    QTest::newRow("scheme-relative") << QByteArray("/a") << QByteArray("//127.0.0.1:{A}/c") << QByteArray("/c");
    QTest::newRow("http URL") << QByteArray("/a") << QByteArray("http://127.0.0.1:{A}/c?y") << QByteArray("/c?y");
}

void tst_Redirects::relativeLocation()
{
    QFETCH(QByteArray, start);
    QFETCH(QByteArray, location);
    QFETCH(QByteArray, expected);

    HttpPeer peer;
    peer.setResponder([&](const WsHttpRequest &request) {
        return request.target == start ? HttpPeer::redirect(302, withPorts(location, peer)) : HttpPeer::upgrade();
    });
    QVERIFY(peer.start());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(urlWithPorts("ws://127.0.0.1:{A}" + start, peer), {}, following()));
    QTRY_COMPARE(record.opened, 1);
    QCOMPARE(peer.exchanges().size(), 2);
    QCOMPARE(peer.exchanges().at(1).request.target, expected);
    QCOMPARE(client.url(), urlWithPorts("ws://127.0.0.1:{A}" + expected, peer));
}

void tst_Redirects::invalidLocation_data()
{
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<QString>("message");

    QTest::newRow("ftp")
            << QByteArray("ftp://127.0.0.1/x")
            << QStringLiteral("The URL's protocol must be one of \"ws:\", \"wss:\", \"http:\", \"https:\", or \"ws+unix:\"");
    QTest::newRow("fragment") << QByteArray("/c#part") << QStringLiteral("The URL contains a fragment identifier");
    QTest::newRow("unparsable") << QByteArray("http://[::1") << QStringLiteral("Invalid URL: http://[::1");
}

void tst_Redirects::invalidLocation()
{
    QFETCH(QByteArray, location);
    QFETCH(QString, message);

    HttpPeer peer([location](const WsHttpRequest &) { return HttpPeer::redirect(302, location); });
    QVERIFY(peer.start());

    WsSocket client;
    ClientRecord record(&client);
    // Unlike the first URL, a redirect's is refused with an error event.
    QVERIFY(!client.open(urlWithPorts("ws://127.0.0.1:{A}/a", peer), {}, following()));
    QTRY_VERIFY(record.isClosed());
    QCOMPARE(record.log, (QStringList{QStringLiteral("error WSQT_ERR_INVALID_URL"), QStringLiteral("closed 1006")}));
    QCOMPARE(record.firstErrorMessage(), message);
    QCOMPARE(peer.exchanges().size(), 1);
}

void tst_Redirects::maxRedirects_data()
{
    QTest::addColumn<int>("maxRedirects");
    QTest::addColumn<int>("hops");    // -1: a loop
    QTest::addColumn<bool>("opens");

    QTest::newRow("none allowed, one hop") << 0 << 1 << false;
    QTest::newRow("one allowed, one hop") << 1 << 1 << true;
    QTest::newRow("three allowed, three hops") << 3 << 3 << true;
    QTest::newRow("three allowed, four hops") << 3 << 4 << false;
    QTest::newRow("a loop, the default limit") << 10 << -1 << false;
}

void tst_Redirects::maxRedirects()
{
    QFETCH(int, maxRedirects);
    QFETCH(int, hops);
    QFETCH(bool, opens);

    HttpPeer peer([hops](const WsHttpRequest &request) {
        const int hop = request.target.mid(int(qstrlen("/hop"))).toInt();
        if (hops < 0)
            return HttpPeer::redirect(302, request.target);
        return hop < hops ? HttpPeer::redirect(307, "/hop" + QByteArray::number(hop + 1)) : HttpPeer::upgrade();
    });
    QVERIFY(peer.start());

    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(urlWithPorts("ws://127.0.0.1:{A}/hop0", peer), {}, following(maxRedirects)));
    if (opens) {
        QTRY_COMPARE(record.opened, 1);
        QCOMPARE(peer.exchanges().size(), hops + 1);
        return;
    }
    QTRY_VERIFY(record.isClosed());
    QCOMPARE(record.firstErrorCode(), WsError::TooManyRedirects);
    QCOMPARE(record.firstErrorMessage(), QStringLiteral("Maximum redirects exceeded"));
    QCOMPARE(record.closeCodes, QList<int>{1006});
    QCOMPARE(peer.exchanges().size(), maxRedirects + 1);
}

void tst_Redirects::timeoutRestartsAtEachHop_data()
{
    QTest::addColumn<QList<int>>("delays");   // of each answer, the upgrade last
    QTest::addColumn<bool>("opens");

    // 2800 ms in all, each step well under the 1500 ms timeout.
    QTest::newRow("each step under the timeout") << QList<int>{700, 700, 700, 700} << true;
    QTest::newRow("the second step over it") << QList<int>{300, 2500, 0} << false;
}

void tst_Redirects::timeoutRestartsAtEachHop()
{
    QFETCH(QList<int>, delays);
    QFETCH(bool, opens);
    constexpr int timeoutMs = 1500;

    HttpPeer peer([&delays](const WsHttpRequest &request) {
        const int step = request.target.mid(int(qstrlen("/step"))).toInt();
        const int delay = delays.at(step);
        return step + 1 < delays.size() ? HttpPeer::redirect(302, "/step" + QByteArray::number(step + 1), delay)
                                        : HttpPeer::upgrade(delay);
    });
    QVERIFY(peer.start());

    WsClientOptions options = following();
    options.handshakeTimeout = timeoutMs;
    WsSocket client;
    ClientRecord record(&client);
    QElapsedTimer elapsed;
    elapsed.start();
    QVERIFY(!client.open(urlWithPorts("ws://127.0.0.1:{A}/step0", peer), {}, options));
    QTRY_VERIFY_WITH_TIMEOUT(record.opened == 1 || record.isClosed(), kWaitMs);
    if (opens) {
        QCOMPARE(record.opened, 1);
        QVERIFY(record.errors.isEmpty());
        QCOMPARE(peer.exchanges().size(), delays.size());
        return;
    }
    QCOMPARE(record.firstErrorCode(), WsError::HandshakeTimeout);
    QCOMPARE(record.firstErrorMessage(), QStringLiteral("Opening handshake has timed out"));
    QCOMPARE(record.closeCodes, QList<int>{1006});
    // The clock restarted with the redirect.
    QVERIFY2(elapsed.elapsed() >= delays.first() + timeoutMs - 100, qPrintable(QString::number(elapsed.elapsed())));
}

void tst_Redirects::credentials_data()
{
    QTest::addColumn<QByteArray>("url");
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<QByteArrayList>("headers");   // "Name: value"
    QTest::addColumn<QString>("auth");
    QTest::addColumn<Receiver>("receiver");
    QTest::addColumn<QByteArray>("authorization");   // in the redirected request; null: absent
    QTest::addColumn<QByteArray>("cookie");
    QTest::addColumn<QByteArray>("host");

    const QByteArray userInfoUrl = "ws://user:pass@127.0.0.1:{A}/a";
    const QByteArray basic = "Basic dXNlcjpwYXNz";     // user:pass
    const QByteArrayList cookie{"Cookie: c=1", "X-Other: o"};
    const QByteArray none;

    QTest::newRow("same host, relative")
            << userInfoUrl << QByteArray("/b") << cookie << QString() << Receiver::None
            << basic << QByteArray("c=1") << QByteArray("127.0.0.1:{A}");
    QTest::newRow("same host, absolute")
            << userInfoUrl << QByteArray("ws://127.0.0.1:{A}/b") << cookie << QString() << Receiver::None
            << basic << QByteArray("c=1") << QByteArray("127.0.0.1:{A}");
    QTest::newRow("another host name")
            << userInfoUrl << QByteArray("ws://localhost:{A}/b") << cookie << QString() << Receiver::None
            << none << none << QByteArray("localhost:{A}");
    QTest::newRow("another port")
            << userInfoUrl << QByteArray("ws://127.0.0.1:{B}/b") << cookie << QString() << Receiver::None
            << none << none << QByteArray("127.0.0.1:{B}");
    QTest::newRow("another host, Authorization header")
            << QByteArray("ws://127.0.0.1:{A}/a") << QByteArray("ws://localhost:{A}/b")
            << QByteArrayList{"Authorization: Bearer t", "Cookie: c=1", "X-Other: o"} << QString()
            << Receiver::None << none << none << QByteArray("localhost:{A}");
    QTest::newRow("another host, auth option")
            << QByteArray("ws://127.0.0.1:{A}/a") << QByteArray("ws://localhost:{A}/b") << cookie
            << QStringLiteral("user:pass") << Receiver::None << none << none << QByteArray("localhost:{A}");
    QTest::newRow("another host, handleRedirect")
            << userInfoUrl << QByteArray("ws://localhost:{A}/b") << cookie << QString() << Receiver::Keep
            << basic << QByteArray("c=1") << QByteArray("localhost:{A}");
    QTest::newRow("another host, handleRedirect drops the cookie")
            << userInfoUrl << QByteArray("ws://localhost:{A}/b") << cookie << QString() << Receiver::RemoveCookie
            << basic << none << QByteArray("localhost:{A}");
    QTest::newRow("same host, handleRedirect drops the cookie")
            << userInfoUrl << QByteArray("/b") << cookie << QString() << Receiver::RemoveCookie
            << basic << none << QByteArray("127.0.0.1:{A}");
}

void tst_Redirects::credentials()
{
    QFETCH(QByteArray, url);
    QFETCH(QByteArray, location);
    QFETCH(QByteArrayList, headers);
    QFETCH(QString, auth);
    QFETCH(Receiver, receiver);
    QFETCH(QByteArray, authorization);
    QFETCH(QByteArray, cookie);
    QFETCH(QByteArray, host);

    HttpPeer first;
    HttpPeer second([](const WsHttpRequest &) { return HttpPeer::upgrade(); });
    first.setResponder([&](const WsHttpRequest &request) {
        return request.target == "/a" ? HttpPeer::redirect(302, withPorts(location, first, &second))
                                      : HttpPeer::upgrade();
    });
    QVERIFY(first.start());
    QVERIFY(second.start());

    WsClientOptions options = following();
    options.headers = headerFields(headers);
    options.auth = auth;
    WsSocket client;
    ClientRecord record(&client);
    QList<QPair<QUrl, QByteArray>> redirects;
    if (receiver != Receiver::None) {
        options.handleRedirect = [&](const QUrl &url, WsHttpRequest &request) {
            redirects.append({url, request.target});
            if (receiver == Receiver::RemoveCookie)
                request.headers.remove("Cookie");
        };
    }
    QVERIFY(!client.open(urlWithPorts(url, first, &second), {}, options));
    QTRY_COMPARE(record.opened, 1);

    QList<HttpPeer::Exchange> exchanges = first.exchanges() + second.exchanges();
    QCOMPARE(exchanges.size(), 2);
    // The first request carries them all.
    QVERIFY(exchanges.at(0).request.headers.contains("Authorization"));
    QCOMPARE(exchanges.at(0).request.headers.value("Cookie"), QByteArray("c=1"));

    const WsHttpHeaders &redirected = exchanges.at(1).request.headers;
    QCOMPARE(redirected.value("Authorization"), authorization);
    QCOMPARE(redirected.value("Cookie"), cookie);
    QCOMPARE(redirected.value("X-Other"), QByteArray("o"));
    QCOMPARE(redirected.value("Host"), withPorts(host, first, &second));
    if (receiver != Receiver::None) {
        QCOMPARE(redirects.size(), 1);
        QCOMPARE(redirects.first().first, client.url());
        QCOMPARE(redirects.first().second, QByteArray("/b"));
    }
}

void tst_Redirects::downgrade_data()
{
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<Receiver>("receiver");
    QTest::addColumn<bool>("secondSecure");
    QTest::addColumn<bool>("kept");

    QTest::newRow("wss to ws") << QByteArray("ws://localhost:{A}/b") << Receiver::None << false << false;
    QTest::newRow("wss to wss") << QByteArray("wss://localhost:{A}/b") << Receiver::None << true << true;
    QTest::newRow("wss to ws, handleRedirect") << QByteArray("ws://localhost:{A}/b") << Receiver::Keep
                                               << false << true;
}

void tst_Redirects::downgrade()
{
    QFETCH(QByteArray, location);
    QFETCH(Receiver, receiver);
    QFETCH(bool, secondSecure);
    QFETCH(bool, kept);

    // One port for TLS and plain text, so that only the scheme changes.
    HttpPeer peer;
    peer.setTls(serverTls(QStringLiteral("server")));
    peer.setResponder([&](const WsHttpRequest &request) {
        return request.target == "/a" ? HttpPeer::redirect(302, withPorts(location, peer)) : HttpPeer::upgrade();
    });
    QVERIFY(peer.start());

    WsClientOptions options = following();
    options.sslConfiguration = clientTls(true);
    options.headers = {{"Cookie", "c=1"}};
    WsSocket client;
    ClientRecord record(&client);
    if (receiver == Receiver::Keep)
        options.handleRedirect = [](const QUrl &, WsHttpRequest &) {};
    QVERIFY(!client.open(urlWithPorts("wss://user:pass@localhost:{A}/a", peer), {}, options));
    QTRY_COMPARE_WITH_TIMEOUT(record.opened, 1, kWaitMs);

    QCOMPARE(peer.exchanges().size(), 2);
    QVERIFY(peer.exchanges().at(0).secure);
    QCOMPARE(peer.exchanges().at(1).secure, secondSecure);
    const WsHttpHeaders &redirected = peer.exchanges().at(1).request.headers;
    QCOMPARE(redirected.contains("Authorization"), kept);
    QCOMPARE(redirected.contains("Cookie"), kept);
    client.sendText(QStringLiteral("after the redirect"));
    QTRY_COMPARE(record.messages, QList<QByteArray>{"after the redirect"});
}

QTEST_MAIN(tst_Redirects)
#include "tst_redirects.moc"
