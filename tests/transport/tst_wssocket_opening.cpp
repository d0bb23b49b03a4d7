// WsSocket's opening handshake over real loopback connections: the request
// bytes, every way a response can fail, timeouts, subprotocols and Unix
// sockets. A raw server answers where exact bytes or a misbehaving server
// matter.

#include "wssocketpeers.h"

#include <QtTest/qtest.h>

using namespace wssocketpeers;

class tst_WsSocketOpening : public QObject
{
    Q_OBJECT

private slots:
    void open_data();
    void open();
    void openRefused_data();
    void openRefused();
    void invalidHeaderSendsNothing_data();
    void invalidHeaderSendsNothing();
    void openOnlyWhenClosed();
    void requestHead_data();
    void requestHead();
    void hostHeaderOmitsDefaultPort_data();
    void hostHeaderOmitsDefaultPort();
    void unixSocket_data();
    void unixSocket();
    void handshakeAccepted_data();
    void handshakeAccepted();
    void upgradedResponse();
    void handshakeFailed_data();
    void handshakeFailed();
    void unexpectedResponse_data();
    void unexpectedResponse();
    void handshakeTimeout_data();
    void handshakeTimeout();
    void connectionRefused();
    void subprotocol_data();
    void subprotocol();
};

void tst_WsSocketOpening::open_data()
{
    QTest::addColumn<QByteArray>("address");
    QTest::addColumn<QByteArray>("expectedUrl");
    QTest::addColumn<QByteArray>("expectedTarget");

    QTest::newRow("ws") << QByteArray("ws://127.0.0.1:PORT/chat") << QByteArray("ws://127.0.0.1:PORT/chat")
                        << QByteArray("/chat");
    QTest::newRow("http becomes ws") << QByteArray("http://127.0.0.1:PORT/chat?room=1")
                                     << QByteArray("ws://127.0.0.1:PORT/chat?room=1") << QByteArray("/chat?room=1");
    QTest::newRow("upper-case scheme") << QByteArray("HTTP://127.0.0.1:PORT/x") << QByteArray("ws://127.0.0.1:PORT/x")
                                       << QByteArray("/x");
    // ws reports the WHATWG href, whose path is never empty for ws:.
    QTest::newRow("no path") << QByteArray("ws://127.0.0.1:PORT") << QByteArray("ws://127.0.0.1:PORT/")
                             << QByteArray("/");
}

void tst_WsSocketOpening::open()
{
    QFETCH(QByteArray, address);
    QFETCH(QByteArray, expectedUrl);
    QFETCH(QByteArray, expectedTarget);

    ServerPeer peer;
    QVERIFY(peer.isListening());
    WsSocket client;
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QVERIFY(client.url().isEmpty());
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);

    const QUrl expected = urlWithPorts(expectedUrl, peer.port());
    QCOMPARE(client.open(urlWithPorts(address, peer.port())), WsError());
    QCOMPARE(client.readyState(), WsSocket::Connecting);
    QCOMPARE(client.url(), expected);
    QCOMPARE(urls.size(), 1);
    QCOMPARE(urls.first().first().toUrl(), expected);

    QTRY_COMPARE(log.lines, kOpenedLines);
    QCOMPARE(client.readyState(), WsSocket::Open);
    QTRY_VERIFY(peer.socket());
    QCOMPARE(peer.requests().last().target, expectedTarget);

    // Both ends of the one connection.
    WsSocket *server = peer.socket();
    QVERIFY(!client.isServerSide());
    QVERIFY(server->isServerSide());
    QVERIFY(server->url().isEmpty());
    QCOMPARE(client.peerAddress(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(client.peerPort(), peer.port());
    QCOMPARE(client.localAddress(), QHostAddress(QHostAddress::LocalHost));
    QVERIFY(client.localPort() != 0);
    QCOMPARE(client.localPort(), server->peerPort());
    QCOMPARE(server->localPort(), peer.port());
    QCOMPARE(client.protocol(), QString());
    QCOMPARE(client.extensions(), QString());

    QCOMPARE(client.close(1000, "done"), WsError());
    QCOMPARE(client.readyState(), WsSocket::Closing);
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.lines, kOpenedLines + QStringList({QStringLiteral("state Closing"), QStringLiteral("state Closed"),
                                                    QStringLiteral("closed 1000 \"done\"")}));
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QCOMPARE(client.url(), expected);
    QCOMPARE(urls.size(), 1);
}

void tst_WsSocketOpening::openRefused_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<int>("protocolVersion");
    QTest::addColumn<WsError>("expected");

    const WsError badScheme(WsError::InvalidUrl,
                            QStringLiteral("The URL's protocol must be one of \"ws:\", \"wss:\", \"http:\", "
                                           "\"https:\", or \"ws+unix:\""));
    const WsError fragment(WsError::InvalidUrl, QStringLiteral("The URL contains a fragment identifier"));
    const WsError emptyPath(WsError::InvalidUrl, QStringLiteral("The URL's pathname is empty"));
    const WsError badProtocol(WsError::InvalidArgument,
                              QStringLiteral("An invalid or duplicated subprotocol was specified"));
    const QString good = QStringLiteral("ws://127.0.0.1:1/");

    QTest::newRow("not a URL") << QStringLiteral("foo") << QStringList() << 13
                               << WsError(WsError::InvalidUrl, QStringLiteral("Invalid URL: foo"));
    QTest::newRow("no host") << QStringLiteral("ws://") << QStringList() << 13
                             << WsError(WsError::InvalidUrl, QStringLiteral("Invalid URL: ws://"));
    QTest::newRow("ftp") << QStringLiteral("ftp://127.0.0.1/") << QStringList() << 13 << badScheme;
    QTest::newRow("ftp with a fragment") << QStringLiteral("ftp://127.0.0.1/#x") << QStringList() << 13 << badScheme;
    QTest::newRow("fragment") << QStringLiteral("ws://127.0.0.1/#x") << QStringList() << 13 << fragment;
    QTest::newRow("http with a fragment") << QStringLiteral("http://127.0.0.1/a?b#x") << QStringList() << 13
                                          << fragment;
    QTest::newRow("ws+unix without a path") << QStringLiteral("ws+unix:") << QStringList() << 13 << emptyPath;
    QTest::newRow("ws+unix with an empty authority") << QStringLiteral("ws+unix://") << QStringList() << 13
                                                     << emptyPath;
    QTest::newRow("duplicated subprotocol") << good << QStringList{QStringLiteral("a"), QStringLiteral("a")} << 13
                                            << badProtocol;
    QTest::newRow("empty subprotocol") << good << QStringList{QString()} << 13 << badProtocol;
    QTest::newRow("subprotocol with a comma") << good << QStringList{QStringLiteral("a,b")} << 13 << badProtocol;
    QTest::newRow("subprotocol with a space") << good << QStringList{QStringLiteral("a b")} << 13 << badProtocol;
    QTest::newRow("non-ASCII subprotocol") << good << QStringList{QStringLiteral("\u00e9")} << 13 << badProtocol;
    const auto badVersion = [](int version) {
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("Unsupported protocol version: %1 (supported versions: 8, 13)").arg(version));
    };
    QTest::newRow("version 12") << good << QStringList() << 12 << badVersion(12);
    QTest::newRow("version 0") << good << QStringList() << 0 << badVersion(0);
    // ws checks the version first, then the URL, then the subprotocols.
    QTest::newRow("version before URL") << QStringLiteral("ftp://x/") << QStringList() << 12 << badVersion(12);
    QTest::newRow("URL before subprotocols") << QStringLiteral("ftp://x/")
                                             << QStringList{QStringLiteral("a"), QStringLiteral("a")} << 13
                                             << badScheme;
}

void tst_WsSocketOpening::openRefused()
{
    QFETCH(QString, address);
    QFETCH(QStringList, protocols);
    QFETCH(int, protocolVersion);
    QFETCH(WsError, expected);

    WsSocket client;
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);
    WsClientOptions options;
    options.protocolVersion = protocolVersion;

    QCOMPARE(client.open(QUrl(address), protocols, options), expected);
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QVERIFY(client.url().isEmpty());
    // Refused synchronously: nothing is signalled later either.
    QTest::qWait(kQuietMs);
    QCOMPARE(log.lines, QStringList());
    QCOMPARE(urls.size(), 0);
}

void tst_WsSocketOpening::invalidHeaderSendsNothing_data()
{
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<WsError>("expected");

    const auto header = [](const QByteArray &name, const QByteArray &value) {
        return clientOptions([&](WsClientOptions &o) { o.headers.append(name, value); });
    };
    const auto badContent = [](const char *name) {
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("Invalid character in header content [\"%1\"]").arg(QLatin1String(name)));
    };
    QTest::newRow("CR LF in a value") << header("X-Test", "a\r\nInjected: 1") << badContent("X-Test");
    QTest::newRow("LF in a value") << header("X-Test", "a\nb") << badContent("X-Test");
    QTest::newRow("CR in a value") << header("X-Test", "a\rb") << badContent("X-Test");
    QTest::newRow("NUL in a value") << header("X-Test", QByteArray("a\0b", 3)) << badContent("X-Test");
    QTest::newRow("CR LF in the origin")
            << clientOptions([](WsClientOptions &o) { o.origin = QStringLiteral("http://o\r\nX-Injected: 1"); })
            << badContent("Origin");
    QTest::newRow("space in a name")
            << header("Bad Name", "x")
            << WsError(WsError::InvalidArgument, QStringLiteral("Header name must be a valid HTTP token [\"Bad Name\"]"));
    QTest::newRow("colon in a name")
            << header("X:Y", "x")
            << WsError(WsError::InvalidArgument, QStringLiteral("Header name must be a valid HTTP token [\"X:Y\"]"));
}

void tst_WsSocketOpening::invalidHeaderSendsNothing()
{
    QFETCH(WsClientOptions, options);
    QFETCH(WsError, expected);

    RawServer raw;
    QVERIFY(raw.isListening());
    WsSocket client;
    EventLog log(&client);

    QCOMPARE(client.open(raw.url(), {}, options), expected);
    QCOMPARE(client.readyState(), WsSocket::Closed);
    // Nothing reached the network: not even a connection.
    QTest::qWait(kQuietMs);
    QCOMPARE(raw.count(), 0);
    QCOMPARE(log.lines, QStringList());
}

void tst_WsSocketOpening::openOnlyWhenClosed()
{
    ServerPeer peer(ServerPeer::Echo);
    WsSocket client;
    EventLog log(&client);
    const QUrl other = QUrl(QStringLiteral("ws://127.0.0.1:1/other"));

    QCOMPARE(client.open(peer.url("/first")), WsError());
    QCOMPARE(client.open(other).code(), WsError::InvalidState);
    QTRY_COMPARE(log.lines, kOpenedLines);
    QCOMPARE(client.open(other).code(), WsError::InvalidState);
    QCOMPARE(client.url(), peer.url("/first"));
    QCOMPARE(client.close(1000), WsError());
    QCOMPARE(client.open(other).code(), WsError::InvalidState);
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(peer.requests().size(), 1);

    // Closed again: the same object opens a new connection.
    log.lines.clear();
    QVERIFY(client.send("after close").isError());
    QCOMPARE(client.open(peer.url("/second")), WsError());
    QTRY_COMPARE(log.lines, kOpenedLines);
    QCOMPARE(client.bufferedAmount(), 0);
    QCOMPARE(peer.requests().size(), 2);
    QCOMPARE(peer.requests().last().target, QByteArray("/second"));
    QCOMPARE(client.sendText(QStringLiteral("again")), WsError());
    QTRY_COMPARE(log.messages, QByteArrayList{"again"});
}

void tst_WsSocketOpening::requestHead_data()
{
    QTest::addColumn<QByteArray>("address");
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QByteArrayList>("expected");

    const QByteArray version = "Sec-WebSocket-Version: 13";
    const QByteArray key = "Sec-WebSocket-Key: <key>";
    const QByteArray connection = "Connection: Upgrade";
    const QByteArray upgrade = "Upgrade: websocket";
    const QByteArray offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits";
    const QByteArray host = "Host: 127.0.0.1:PORT";
    const QByteArrayList base = {version, key, connection, upgrade};

    QTest::newRow("defaults") << QByteArray("ws://127.0.0.1:PORT/path?q=1") << QStringList() << WsClientOptions()
                              << QByteArrayList{"GET /path?q=1 HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("no path") << QByteArray("ws://127.0.0.1:PORT") << QStringList() << WsClientOptions()
                             << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("http scheme") << QByteArray("http://127.0.0.1:PORT/x") << QStringList() << WsClientOptions()
                                 << QByteArrayList{"GET /x HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("encoded path") << QByteArray("ws://127.0.0.1:PORT/a%20b?c=%2F") << QStringList()
                                  << WsClientOptions()
                                  << QByteArrayList{"GET /a%20b?c=%2F HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("no permessage-deflate") << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << withoutDeflate()
                                           << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{host};
    QTest::newRow("deflate parameters")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.perMessageDeflate->serverNoContextTakeover = true;
                   o.perMessageDeflate->clientNoContextTakeover = true;
                   o.perMessageDeflate->serverMaxWindowBits = 10;
               })
            << QByteArrayList{"GET / HTTP/1.1"} + base
                    + QByteArrayList{"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                                     "client_no_context_takeover; server_max_window_bits=10; client_max_window_bits",
                                     host};
    QTest::newRow("client_max_window_bits off")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.perMessageDeflate->clientMaxWindowBits = WsDeflateOptions::NoWindowBits;
               })
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{"Sec-WebSocket-Extensions: permessage-deflate", host};
    QTest::newRow("subprotocols") << QByteArray("ws://127.0.0.1:PORT/") << QStringList{QStringLiteral("a"), QStringLiteral("b")}
                                  << WsClientOptions()
                                  << QByteArrayList{"GET / HTTP/1.1"} + base
                                            + QByteArrayList{offer, "Sec-WebSocket-Protocol: a,b", host};
    QTest::newRow("origin") << QByteArray("ws://127.0.0.1:PORT/") << QStringList{QStringLiteral("chat")}
                            << clientOptions([](WsClientOptions &o) { o.origin = QStringLiteral("http://o.example"); })
                            << QByteArrayList{"GET / HTTP/1.1"} + base
                                    + QByteArrayList{offer, "Sec-WebSocket-Protocol: chat", "Origin: http://o.example", host};
    QTest::newRow("version 8") << QByteArray("ws://127.0.0.1:PORT/") << QStringList()
                               << clientOptions([](WsClientOptions &o) {
                                      o.protocolVersion = 8;
                                      o.origin = QStringLiteral("http://o.example");
                                  })
                               << QByteArrayList{"GET / HTTP/1.1", "Sec-WebSocket-Version: 8", key, connection, upgrade,
                                                 offer, "Sec-WebSocket-Origin: http://o.example", host};
    QTest::newRow("application headers first")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.headers.append("X-Custom", "a");
                   o.headers.append("Cookie", "c=1");
               })
            << QByteArrayList{"GET / HTTP/1.1", "X-Custom: a", "Cookie: c=1"} + base + QByteArrayList{offer, host};
    QTest::newRow("cookies joined")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.headers.append("Cookie", "a=1");
                   o.headers.append("Cookie", "b=2");
               })
            << QByteArrayList{"GET / HTTP/1.1", "Cookie: a=1; b=2"} + base + QByteArrayList{offer, host};
    QTest::newRow("own Host")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList()
            << clientOptions([](WsClientOptions &o) { o.headers.append("Host", "example.com"); })
            << QByteArrayList{"GET / HTTP/1.1", "Host: example.com"} + base + QByteArrayList{offer};
    // ws's own fields win, in the application's place.
    QTest::newRow("own Upgrade")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.headers.append("X-A", "1");
                   o.headers.append("Upgrade", "h2c");
               })
            << QByteArrayList{"GET / HTTP/1.1", "X-A: 1", upgrade, version, key, connection, offer, host};
    QTest::newRow("URL user info")
            << QByteArray("ws://user:pass@127.0.0.1:PORT/") << QStringList() << WsClientOptions()
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host, "Authorization: Basic dXNlcjpwYXNz"};
    QTest::newRow("auth option")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList()
            << clientOptions([](WsClientOptions &o) { o.auth = QStringLiteral("u:p"); })
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host, "Authorization: Basic dTpw"};
    QTest::newRow("user info over auth option")
            << QByteArray("ws://user:pass@127.0.0.1:PORT/") << QStringList()
            << clientOptions([](WsClientOptions &o) { o.auth = QStringLiteral("u:p"); })
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host, "Authorization: Basic dXNlcjpwYXNz"};
    QTest::newRow("own Authorization over auth option")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.auth = QStringLiteral("u:p");
                   o.headers.append("Authorization", "Bearer t");
               })
            << QByteArrayList{"GET / HTTP/1.1", "Authorization: Bearer t"} + base + QByteArrayList{offer, host};
}

void tst_WsSocketOpening::requestHead()
{
    QFETCH(QByteArray, address);
    QFETCH(QStringList, protocols);
    QFETCH(WsClientOptions, options);
    QFETCH(QByteArrayList, expected);

    RawServer raw;
    QVERIFY(raw.isListening());
    WsSocket client;
    QCOMPARE(client.open(urlWithPorts(address, raw.port()), protocols, options), WsError());
    QTRY_VERIFY(raw.hasRequest());

    const RawRequest &request = raw.last().request;
    QByteArrayList lines = {request.requestLine};
    for (const QByteArray &field : request.fields) {
        if (!field.startsWith("Sec-WebSocket-Key: ")) {
            lines.append(field);
            continue;
        }
        // A fresh key: the base64 of 16 bytes.
        const QByteArray key = field.mid(19);
        QCOMPARE(key.size(), 24);
        QCOMPARE(QByteArray::fromBase64(key, QByteArray::AbortOnBase64DecodingErrors).size(), 16);
        lines.append("Sec-WebSocket-Key: <key>");
    }
    for (QByteArray &line : expected)
        line.replace("PORT", QByteArray::number(raw.port()));
    QCOMPARE(lines, expected);
    QVERIFY(raw.last().head.endsWith("\r\n\r\n"));
}

void tst_WsSocketOpening::hostHeaderOmitsDefaultPort_data()
{
    QTest::addColumn<QString>("address");
    QTest::newRow("no port") << QStringLiteral("ws://127.0.0.1/");
    QTest::newRow("port 80") << QStringLiteral("ws://127.0.0.1:80/");
    QTest::newRow("http, port 80") << QStringLiteral("http://127.0.0.1:80/");
}

void tst_WsSocketOpening::hostHeaderOmitsDefaultPort()
{
    QFETCH(QString, address);

    RawServer raw(80);
    if (!raw.isListening())
        QSKIP("port 80 cannot be bound here");
    WsSocket client;
    QCOMPARE(client.open(QUrl(address)), WsError());
    QTRY_VERIFY(raw.hasRequest());
    QCOMPARE(raw.last().request.value("Host"), QByteArray("127.0.0.1"));
}

void tst_WsSocketOpening::unixSocket_data()
{
    QTest::addColumn<QString>("suffix");
    QTest::addColumn<QByteArray>("expectedTarget");
    QTest::newRow("request path and query") << QStringLiteral(":/chat?x=1") << QByteArray("/chat?x=1");
    QTest::newRow("no request path") << QString() << QByteArray("/");
}

void tst_WsSocketOpening::unixSocket()
{
    QFETCH(QString, suffix);
    QFETCH(QByteArray, expectedTarget);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("ws.sock"));
    RawServer raw;
    QVERIFY(raw.listenLocal(path));
    raw.setResponder(scripted(kUpgrade + "\r\n" + wireFrame(0x81, "over a local socket")));

    WsSocket client;
    EventLog log(&client);
    QVERIFY(openAndWait(client, QUrl(QLatin1String("ws+unix://") + path + suffix)));
    const RawRequest &request = raw.last().request;
    QCOMPARE(request.requestLine, "GET " + expectedTarget + " HTTP/1.1");
    QCOMPARE(request.value("Host"), QByteArray("localhost"));
    QTRY_COMPARE(log.messages, QByteArrayList{"over a local socket"});

    QCOMPARE(client.sendText(QStringLiteral("back")), WsError());
    QTRY_COMPARE(raw.last().frames().size(), 1);
    QCOMPARE(raw.last().frames().first().payload, QByteArray("back"));
}

void tst_WsSocketOpening::handshakeAccepted_data()
{
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QString>("expectedProtocol");
    QTest::addColumn<QString>("expectedExtensions");
    QTest::addColumn<QByteArrayList>("expectedMessages");

    QTest::newRow("plain") << QStringList() << kUpgrade + "\r\n" << QString() << QString() << QByteArrayList();
    QTest::newRow("other spellings")
            << QStringList()
            << QByteArray("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                          "sec-websocket-accept: {accept}\r\n\r\n")
            << QString() << QString() << QByteArrayList();
    QTest::newRow("subprotocol") << QStringList{QStringLiteral("a"), QStringLiteral("b")}
                                 << kUpgrade + "Sec-WebSocket-Protocol: b\r\n\r\n" << QStringLiteral("b") << QString()
                                 << QByteArrayList();
    QTest::newRow("permessage-deflate") << QStringList() << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
                                        << QString() << QStringLiteral("permessage-deflate") << QByteArrayList();
    QTest::newRow("permessage-deflate with parameters")
            << QStringList()
            << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\n\r\n"
            << QString() << QStringLiteral("permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
            << QByteArrayList();
    QTest::newRow("frames with the response")
            << QStringList() << kUpgrade + "\r\n" + wireFrame(0x81, "first") + wireFrame(0x82, "second") << QString()
            << QString() << QByteArrayList{"first", "second"};
}

void tst_WsSocketOpening::handshakeAccepted()
{
    QFETCH(QStringList, protocols);
    QFETCH(QByteArray, response);
    QFETCH(QString, expectedProtocol);
    QFETCH(QString, expectedExtensions);
    QFETCH(QByteArrayList, expectedMessages);

    RawServer raw;
    raw.setResponder(scripted(response));
    WsSocket client;
    EventLog log(&client);
    QVERIFY(openAndWait(client, raw.url(), {}, protocols));
    QCOMPARE(client.protocol(), expectedProtocol);
    QCOMPARE(client.extensions(), expectedExtensions);
    QTRY_COMPARE(log.messages, expectedMessages);
    QCOMPARE(log.lines.mid(0, 4), kOpenedLines);
}

void tst_WsSocketOpening::upgradedResponse()
{
    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    QList<WsHttpResponse> responses;
    QList<WsSocket::ReadyState> states;
    connect(&client, &WsSocket::upgraded, &client, [&](const WsHttpResponse &response) {
        responses.append(response);
        states.append(client.readyState());
    });
    QVERIFY(openOnRaw(raw, client, kUpgrade + "Set-Cookie: a=1\r\nSet-Cookie: b=2; Path=/\r\nX-Server: raw\r\n\r\n"));

    QCOMPARE(responses.size(), 1);
    const WsHttpResponse &response = responses.first();
    QCOMPARE(response.statusCode, 101);
    QCOMPARE(response.reasonPhrase, QByteArray("Switching Protocols"));
    QCOMPARE(response.version, QByteArray("HTTP/1.1"));
    QCOMPARE(response.headers.values("set-cookie"), (QList<QByteArray>{"a=1", "b=2; Path=/"}));
    QCOMPARE(response.headers.value("X-Server"), QByteArray("raw"));
    QCOMPARE(response.headers.value("Sec-WebSocket-Accept"), acceptKey(raw.last().request.value("Sec-WebSocket-Key")));
    QVERIFY(response.body.isEmpty());
    // Emitted before the response is checked, while still connecting.
    QCOMPARE(states, QList<WsSocket::ReadyState>{WsSocket::Connecting});
    QCOMPARE(log.lines, kOpenedLines);
}

void tst_WsSocketOpening::handshakeFailed_data()
{
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("closeAfterReply");
    QTest::addColumn<WsError>("expected");   // an empty message: any message

    const auto failed = [](const char *message) { return WsError(WsError::HandshakeFailed, QLatin1String(message)); };
    const auto unexpected = [](int status) {
        return WsError(WsError::UnexpectedResponse, QStringLiteral("Unexpected server response: %1").arg(status));
    };
    const QStringList none;
    const QStringList a = {QStringLiteral("a")};
    const WsClientOptions defaults;

    QTest::newRow("wrong accept")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            << false << failed("Invalid Sec-WebSocket-Accept header");
    QTest::newRow("no accept")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            << false << failed("Invalid Sec-WebSocket-Accept header");
    QTest::newRow("Upgrade: foo")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: {accept}\r\n\r\n")
            << false << failed("Invalid Upgrade header");
    QTest::newRow("subprotocol not requested") << none << defaults << kUpgrade + "Sec-WebSocket-Protocol: a\r\n\r\n"
                                               << false << failed("Server sent a subprotocol but none was requested");
    QTest::newRow("other subprotocol") << a << defaults << kUpgrade + "Sec-WebSocket-Protocol: b\r\n\r\n" << false
                                       << failed("Server sent an invalid subprotocol");
    QTest::newRow("empty subprotocol") << a << defaults << kUpgrade + "Sec-WebSocket-Protocol: \r\n\r\n" << false
                                       << failed("Server sent an invalid subprotocol");
    QTest::newRow("no subprotocol") << a << defaults << kUpgrade + "\r\n" << false
                                    << failed("Server sent no subprotocol");
    QTest::newRow("extension not offered")
            << none << withoutDeflate() << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n" << false
            << failed("Server sent a Sec-WebSocket-Extensions header but no extension was requested");
    QTest::newRow("unknown extension") << none << defaults << kUpgrade + "Sec-WebSocket-Extensions: foo\r\n\r\n"
                                       << false << failed("Server indicated an extension that was not requested");
    QTest::newRow("an extension more")
            << none << defaults << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate, foo\r\n\r\n" << false
            << failed("Server indicated an extension that was not requested");
    QTest::newRow("window bits 7")
            << none << defaults
            << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=7\r\n\r\n" << false
            << failed("Invalid Sec-WebSocket-Extensions header");
    // A server may add client_no_context_takeover unasked (RFC 7692 §7.1.1.1),
    // and ws accepts it with default options: not a failure.
    QTest::newRow("unparsable extensions") << none << defaults
                                           << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate;\r\n\r\n"
                                           << false << failed("Invalid Sec-WebSocket-Extensions header");
    QTest::newRow("101 without Connection")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
            << false << unexpected(101);
    QTest::newRow("101 without Upgrade")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
            << false << unexpected(101);
    QTest::newRow("401") << none << defaults
                         << QByteArray("HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\nUnauthorized") << false
                         << unexpected(401);
    QTest::newRow("200") << none << defaults << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") << true
                         << unexpected(200);
    QTest::newRow("302, redirects off") << none << defaults << redirectResponse(302, "/elsewhere") << false
                                        << unexpected(302);
    QTest::newRow("302 without Location")
            << none << clientOptions([](WsClientOptions &o) { o.followRedirects = true; })
            << QByteArray("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n") << false << unexpected(302);
    QTest::newRow("head cut short") << none << defaults
                                    << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n") << true
                                    << WsError(WsError::ConnectionError, QStringLiteral("socket hang up"));
    QTest::newRow("closed without answer") << none << defaults << QByteArray() << true
                                           << WsError(WsError::ConnectionError, QStringLiteral("socket hang up"));
    QTest::newRow("not HTTP") << none << defaults << QByteArray("SSH-2.0-OpenSSH_9.6\r\n\r\n") << false
                              << WsError(WsError::HandshakeFailed, QString());
    // No end of head in sight: refused at the parser's limit, not read forever.
    QTest::newRow("oversized head") << none << defaults
                                    << "HTTP/1.1 101 Switching Protocols\r\nX-Big: " + QByteArray(70000, 'a') << false
                                    << failed("Parse Error: Header overflow");
}

void tst_WsSocketOpening::handshakeFailed()
{
    QFETCH(QStringList, protocols);
    QFETCH(WsClientOptions, options);
    QFETCH(QByteArray, response);
    QFETCH(bool, closeAfterReply);
    QFETCH(WsError, expected);

    RawServer raw;
    raw.setResponder(scripted(response));
    raw.setCloseAfterReply(closeAfterReply);
    WsSocket client;
    EventLog log(&client);
    QCOMPARE(client.open(raw.url(), protocols, options), WsError());
    QTRY_VERIFY(!log.closes.isEmpty() || client.readyState() == WsSocket::Open);
    QCOMPARE(log.closes.size(), 1);
    QCOMPARE(log.errors.size(), 1);
    const WsError error = log.errors.first();
    QCOMPARE(error.code(), expected.code());
    if (!expected.message().isEmpty())
        QCOMPARE(error.message(), expected.message());
    QVERIFY(!error.message().isEmpty());
    QCOMPARE(error.closeCode(), 0);

    // ws: CLOSING at once, then the error and the close on a later turn. As
    // in Node, only a 101 with Upgrade and Connection: upgrade is an upgrade.
    const RawRequest head = RawRequest::parse(response);
    const bool upgraded = head.requestLine.startsWith("HTTP/1.1 101") && !head.value("Upgrade").isEmpty()
            && head.value("Connection").toLower().contains("upgrade");
    QStringList expectedLines = {QStringLiteral("state Connecting")};
    if (upgraded)
        expectedLines.append(QStringLiteral("upgraded 101"));
    expectedLines += {QStringLiteral("state Closing"), QLatin1String("error ") + error.codeName(),
                      QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")};
    QCOMPARE(log.lines, expectedLines);
    QCOMPARE(client.readyState(), WsSocket::Closed);
}

void tst_WsSocketOpening::unexpectedResponse_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("closeAfterReply");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QByteArray>("headerName");
    QTest::addColumn<QByteArray>("headerValue");
    QTest::addColumn<QByteArray>("body");   // read with handleUnexpectedResponse

    QTest::newRow("401 with a Content-Length body")
            << QByteArray("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"wsqt\"\r\n"
                          "Content-Length: 12\r\n\r\nUnauthorized")
            << false << 401 << QByteArray("Unauthorized") << QByteArray("www-authenticate")
            << QByteArray("Basic realm=\"wsqt\"") << QByteArray("Unauthorized");
    QTest::newRow("bytes past Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA") << false << 200 << QByteArray("OK")
            << QByteArray("Content-Length") << QByteArray("2") << QByteArray("ok");
    QTest::newRow("chunked body on a kept-alive connection")
            << QByteArray("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nno \r\n6\r\naccess\r\n0\r\n\r\n")
            << false << 403 << QByteArray("Forbidden") << QByteArray("Transfer-Encoding")
            << QByteArray("chunked") << QByteArray("no access");
    QTest::newRow("204 has no body whatever follows")
            << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << false << 204 << QByteArray("No Content")
            << QByteArray("Content-Length") << QByteArray() << QByteArray();
    QTest::newRow("body up to the end of the connection")
            << QByteArray("HTTP/1.1 403 Forbidden\r\nX-Reason: nope\r\n\r\nno access") << true << 403
            << QByteArray("Forbidden") << QByteArray("X-Reason") << QByteArray("nope") << QByteArray("no access");
    QTest::newRow("no body") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") << false << 404
                             << QByteArray("Not Found") << QByteArray("Content-Length") << QByteArray("0")
                             << QByteArray();
    QTest::newRow("redirect not followed") << redirectResponse(302, "/elsewhere") << false << 302
                                           << QByteArray("Redirect") << QByteArray("Location")
                                           << QByteArray("/elsewhere") << QByteArray();
}

void tst_WsSocketOpening::unexpectedResponse()
{
    QFETCH(QByteArray, response);
    QFETCH(bool, closeAfterReply);
    QFETCH(int, status);
    QFETCH(QByteArray, reason);
    QFETCH(QByteArray, headerName);
    QFETCH(QByteArray, headerValue);
    QFETCH(QByteArray, body);

    for (const bool handled : {false, true}) {
        RawServer raw;
        raw.setResponder(scripted(response));
        raw.setCloseAfterReply(closeAfterReply);
        WsSocket client;
        EventLog log(&client);
        QList<WsHttpResponse> responses;
        connect(&client, &WsSocket::unexpectedResponse, &client,
                [&](const WsHttpResponse &response) { responses.append(response); });
        WsClientOptions options;
        options.handleUnexpectedResponse = handled;

        QCOMPARE(client.open(raw.url(), {}, options), WsError());
        QTRY_COMPARE(log.closes.size(), 1);
        QCOMPARE(responses.size(), 1);
        const WsHttpResponse &got = responses.first();
        QCOMPARE(got.statusCode, status);
        QCOMPARE(got.reasonPhrase, reason);
        QCOMPARE(got.headers.value(headerName), headerValue);
        if (handled) {
            QCOMPARE(got.body, body);
            // The application took the response: no error; the connection is then closed.
            QCOMPARE(log.lines, (QStringList{QStringLiteral("state Connecting"), QStringLiteral("state Closing"),
                                             QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")}));
        } else {
            // The receiver changes nothing: ws's error without a listener.
            QCOMPARE(log.errors, (QList<WsError>{WsError(WsError::UnexpectedResponse,
                                                         QStringLiteral("Unexpected server response: %1").arg(status))}));
        }
    }
}

void tst_WsSocketOpening::handshakeTimeout_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::newRow("silent server") << QByteArray();
    QTest::newRow("head never finished") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
}

void tst_WsSocketOpening::handshakeTimeout()
{
    QFETCH(QByteArray, response);
    constexpr int timeoutMs = 300;

    RawServer raw;
    raw.setResponder(scripted(response));
    WsSocket client;
    EventLog log(&client);
    WsClientOptions options;
    options.handshakeTimeout = timeoutMs;
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(client.open(raw.url(), {}, options), WsError());
    QTRY_COMPARE_WITH_TIMEOUT(log.closes.size(), 1, 10 * timeoutMs);
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(elapsed >= timeoutMs * 9 / 10, qPrintable(QString::number(elapsed)));

    QCOMPARE(log.errors, (QList<WsError>{WsError(WsError::HandshakeTimeout,
                                                 QStringLiteral("Opening handshake has timed out"))}));
    QCOMPARE(log.lines, (QStringList{QStringLiteral("state Connecting"), QStringLiteral("state Closing"),
                                     QStringLiteral("error WSQT_ERR_HANDSHAKE_TIMEOUT"), QStringLiteral("state Closed"),
                                     QStringLiteral("closed 1006 \"\"")}));
    // The connection attempt was given up.
    QTRY_VERIFY(raw.last().disconnected);
}

void tst_WsSocketOpening::connectionRefused()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress(QHostAddress::LocalHost)));
        port = probe.serverPort();
    }
    WsSocket client;
    EventLog log(&client);
    QCOMPARE(client.open(urlWithPorts("ws://127.0.0.1:PORT/", port)), WsError());
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.errors.size(), 1);
    QCOMPARE(log.errors.first().code(), WsError::ConnectionError);
    QVERIFY(!log.errors.first().message().isEmpty());
    QCOMPARE(log.lines, (QStringList{QStringLiteral("state Connecting"), QStringLiteral("state Closing"),
                                     QStringLiteral("error WSQT_ERR_CONNECTION"), QStringLiteral("state Closed"),
                                     QStringLiteral("closed 1006 \"\"")}));
}

void tst_WsSocketOpening::subprotocol_data()
{
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<QString>("serverChoice");   // empty: the server's default (the first)
    QTest::addColumn<QString>("expected");

    const QStringList two = {QStringLiteral("chat"), QStringLiteral("superchat")};
    QTest::newRow("none") << QStringList() << QString() << QString();
    QTest::newRow("the first by default") << two << QString() << QStringLiteral("chat");
    QTest::newRow("chosen by the server") << two << QStringLiteral("superchat") << QStringLiteral("superchat");
}

void tst_WsSocketOpening::subprotocol()
{
    QFETCH(QStringList, protocols);
    QFETCH(QString, serverChoice);
    QFETCH(QString, expected);

    WsServerOptions serverOptions;
    if (!serverChoice.isEmpty())
        serverOptions.handleProtocols = [serverChoice](const QStringList &, const WsHttpRequest &) {
            return serverChoice;
        };
    ServerPeer peer(ServerPeer::Silent, serverOptions);
    WsSocket client;
    QVERIFY(connectTo(peer, client, {}, protocols));
    QCOMPARE(client.protocol(), expected);
    QCOMPARE(peer.socket()->protocol(), expected);
}

QTEST_MAIN(tst_WsSocketOpening)

#include "tst_wssocket_opening.moc"
