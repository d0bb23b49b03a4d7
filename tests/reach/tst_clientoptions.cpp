// The client's request and connection options: handshakeTimeout, origin with
// both protocol versions, user info and auth, custom header fields,
// localAddress, and CR or LF in anything that goes into the request head,
// which is refused before a connection is made.

#include "reachsupport.h"

#include <QtCore/qelapsedtimer.h>

using namespace reach;

namespace {

// A WsServer on 127.0.0.1 that keeps what verifyClient was told.
struct RecordingServer
{
    RecordingServer()
    {
        WsServerOptions options;
        options.verifyClient = [this](const WsVerifyClientInfo &info) {
            verified.append(info);
            return true;
        };
        server = echoServer(options);
    }

    QUrl url(const QByteArray &userInfo = {}) const
    {
        const QByteArray prefix = userInfo.isEmpty() ? QByteArray() : userInfo + '@';
        return QUrl::fromEncoded("ws://" + prefix + "127.0.0.1:" + QByteArray::number(server->address().port) + "/");
    }

    const WsHttpHeaders &headers() const { return verified.first().request.headers; }

    std::unique_ptr<WsServer> server;
    QList<WsVerifyClientInfo> verified;
};

// Opens a client and waits until it is open.
bool openAndWait(WsSocket *client, ClientRecord *record, const QUrl &url, const WsClientOptions &options,
                 const QStringList &protocols = {})
{
    if (client->open(url, protocols, options))
        return false;
    return QTest::qWaitFor([record] { return record->opened == 1 || record->isClosed(); }, kWaitMs)
            && record->opened == 1;
}

enum class Field { HeaderName, HeaderValue, Origin, Subprotocol };

} // namespace

Q_DECLARE_METATYPE(Field)
Q_DECLARE_METATYPE(HttpPeer::Reply)

class tst_ClientOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void handshakeTimeout_data();
    void handshakeTimeout();
    void origin_data();
    void origin();
    void authorization_data();
    void authorization();
    void customHeaders_data();
    void customHeaders();
    void localAddress_data();
    void localAddress();
    void lineBreaksRefused_data();
    void lineBreaksRefused();
};

void tst_ClientOptions::handshakeTimeout_data()
{
    QTest::addColumn<QByteArray>("scheme");
    QTest::addColumn<HttpPeer::Reply>("reply");

    QTest::newRow("no answer") << QByteArray("ws") << HttpPeer::silent();
    QTest::newRow("half a response")
            << QByteArray("ws")
            << HttpPeer::Reply{HttpPeer::Reply::RespondAndStall, "HTTP/1.1 101 Switching Protocols\r\nUpgr", 0};
    QTest::newRow("a response without its end")
            << QByteArray("ws")
            << HttpPeer::Reply{HttpPeer::Reply::RespondAndStall, "HTTP/1.1 101 Switching Protocols\r\n", 0};
    // The TLS handshake counts too: the peer reads the ClientHello and says nothing.
    QTest::newRow("TLS handshake unanswered") << QByteArray("wss") << HttpPeer::silent();
}

void tst_ClientOptions::handshakeTimeout()
{
    QFETCH(QByteArray, scheme);
    QFETCH(HttpPeer::Reply, reply);
    constexpr int timeoutMs = 400;

    HttpPeer peer([reply](const WsHttpRequest &) { return reply; });
    QVERIFY(peer.start());

    WsClientOptions options;
    options.handshakeTimeout = timeoutMs;
    WsSocket client;
    ClientRecord record(&client);
    QElapsedTimer elapsed;
    elapsed.start();
    QVERIFY(!client.open(QUrl::fromEncoded(peer.origin(scheme) + "/slow"), {}, options));
    QTRY_VERIFY_WITH_TIMEOUT(record.isClosed(), kWaitMs);

    QCOMPARE(record.log, (QStringList{QStringLiteral("error WSQT_ERR_HANDSHAKE_TIMEOUT"), QStringLiteral("closed 1006")}));
    QCOMPARE(record.firstErrorMessage(), QStringLiteral("Opening handshake has timed out"));
    QVERIFY2(elapsed.elapsed() >= timeoutMs - 50, qPrintable(QString::number(elapsed.elapsed())));
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QCOMPARE(peer.connectionCount(), 1);
}

void tst_ClientOptions::origin_data()
{
    QTest::addColumn<int>("version");
    QTest::addColumn<QString>("origin");
    QTest::addColumn<QByteArray>("field");       // where the origin goes; empty: nowhere
    QTest::addColumn<QByteArray>("otherField");  // never sent

    QTest::newRow("version 13") << 13 << QStringLiteral("https://o.example") << QByteArray("Origin")
                                << QByteArray("Sec-WebSocket-Origin");
    QTest::newRow("version 8") << 8 << QStringLiteral("https://o.example") << QByteArray("Sec-WebSocket-Origin")
                               << QByteArray("Origin");
    QTest::newRow("version 13, none") << 13 << QString() << QByteArray() << QByteArray("Sec-WebSocket-Origin");
    QTest::newRow("version 8, none") << 8 << QString() << QByteArray() << QByteArray("Origin");
}

void tst_ClientOptions::origin()
{
    QFETCH(int, version);
    QFETCH(QString, origin);
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, otherField);

    RecordingServer server;
    WsClientOptions options;
    options.protocolVersion = version;
    options.origin = origin;
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openAndWait(&client, &record, server.url(), options));

    const WsHttpHeaders &headers = server.headers();
    QCOMPARE(headers.value("Sec-WebSocket-Version"), QByteArray::number(version));
    if (!field.isEmpty())
        QCOMPARE(headers.values(field), QList<QByteArray>{origin.toUtf8()});
    QVERIFY(!headers.contains(otherField));
    // The server reads the origin from the field of the client's version.
    QCOMPARE(server.verified.first().origin, origin);
}

void tst_ClientOptions::authorization_data()
{
    QTest::addColumn<QByteArray>("userInfo");
    QTest::addColumn<QString>("auth");
    QTest::addColumn<QByteArrayList>("headers");
    QTest::addColumn<QByteArray>("expected");    // null: no Authorization field

    QTest::newRow("user and password") << QByteArray("user:pass") << QString() << QByteArrayList()
                                       << QByteArray("Basic dXNlcjpwYXNz");
    QTest::newRow("user only") << QByteArray("user") << QString() << QByteArrayList() << QByteArray("Basic dXNlcjo=");
    QTest::newRow("auth option") << QByteArray() << QStringLiteral("a:b") << QByteArrayList()
                                 << QByteArray("Basic YTpi");
    QTest::newRow("the URL wins over auth") << QByteArray("user:pass") << QStringLiteral("a:b") << QByteArrayList()
                                            << QByteArray("Basic dXNlcjpwYXNz");
    QTest::newRow("an Authorization field wins")
            << QByteArray("user:pass") << QString() << QByteArrayList{"Authorization: Bearer t"}
            << QByteArray("Bearer t");
    QTest::newRow("none") << QByteArray() << QString() << QByteArrayList() << QByteArray();
}

void tst_ClientOptions::authorization()
{
    QFETCH(QByteArray, userInfo);
    QFETCH(QString, auth);
    QFETCH(QByteArrayList, headers);
    QFETCH(QByteArray, expected);

    RecordingServer server;
    WsClientOptions options;
    options.auth = auth;
    options.headers = headerFields(headers);
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openAndWait(&client, &record, server.url(userInfo), options));
    QCOMPARE(server.headers().values("Authorization"),
             expected.isNull() ? QList<QByteArray>() : QList<QByteArray>{expected});
}

void tst_ClientOptions::customHeaders_data()
{
    QTest::addColumn<QByteArrayList>("headers");
    QTest::addColumn<QByteArrayList>("expected");   // every field of these names, in order

    QTest::newRow("one field") << QByteArrayList{"X-Custom: a"} << QByteArrayList{"X-Custom: a"};
    QTest::newRow("a repeated field") << QByteArrayList{"X-Twice: 1", "X-Twice: 2"}
                                      << QByteArrayList{"X-Twice: 1", "X-Twice: 2"};
    QTest::newRow("cookies, joined") << QByteArrayList{"Cookie: a=1", "Cookie: b=2"}
                                     << QByteArrayList{"Cookie: a=1; b=2"};
    QTest::newRow("Host") << QByteArrayList{"Host: example.test"} << QByteArrayList{"Host: example.test"};
    QTest::newRow("User-Agent") << QByteArrayList{"User-Agent: reach/1"} << QByteArrayList{"User-Agent: reach/1"};
    QTest::newRow("a handshake field") << QByteArrayList{"upgrade: h2c"} << QByteArrayList{"Upgrade: websocket"};
}

void tst_ClientOptions::customHeaders()
{
    QFETCH(QByteArrayList, headers);
    QFETCH(QByteArrayList, expected);

    RecordingServer server;
    WsClientOptions options;
    options.headers = headerFields(headers);
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(openAndWait(&client, &record, server.url(), options));

    const WsHttpHeaders wanted = headerFields(expected);
    for (const auto &field : wanted.fields())
        QCOMPARE(server.headers().values(field.first), wanted.values(field.first));
}

void tst_ClientOptions::localAddress_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<bool>("opens");

    QTest::newRow("127.0.0.1") << QStringLiteral("127.0.0.1") << true;
    // All of 127.0.0.0/8 is the loopback interface on Linux.
    QTest::newRow("127.0.0.2") << QStringLiteral("127.0.0.2") << true;
    QTest::newRow("not an address of this host") << QStringLiteral("192.0.2.1") << false;
}

void tst_ClientOptions::localAddress()
{
    QFETCH(QString, address);
    QFETCH(bool, opens);

    RecordingServer server;
    WsClientOptions options;
    options.localAddress = QHostAddress(address);
    WsSocket client;
    ClientRecord record(&client);
    QVERIFY(!client.open(server.url(), {}, options));
    QTRY_VERIFY_WITH_TIMEOUT(record.opened == 1 || record.isClosed(), kWaitMs);
    if (!opens) {
        QVERIFY2(record.opened == 0, "the connection was made from another address");
        QCOMPARE(record.firstErrorCode(), WsError::ConnectionError);
        QVERIFY(server.verified.isEmpty());
        return;
    }
    QCOMPARE(record.opened, 1);
    QCOMPARE(client.localAddress(), QHostAddress(address));
    QCOMPARE(server.verified.first().peerAddress, QHostAddress(address));
    QCOMPARE(server.verified.first().peerPort, client.localPort());
}

void tst_ClientOptions::lineBreaksRefused_data()
{
    QTest::addColumn<Field>("field");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<int>("version");
    QTest::addColumn<QString>("message");

    const QString badName = QStringLiteral("Header name must be a valid HTTP token [\"%1\"]");
    const QString badValue = QStringLiteral("Invalid character in header content [\"%1\"]");
    const QString badProtocol = QStringLiteral("An invalid or duplicated subprotocol was specified");

    QTest::newRow("CR in a name") << Field::HeaderName << QByteArray("X-A\r") << QByteArray("v") << 13
                                  << badName.arg(QStringLiteral("X-A\r"));
    QTest::newRow("LF in a name") << Field::HeaderName << QByteArray("X-\nA") << QByteArray("v") << 13
                                  << badName.arg(QStringLiteral("X-\nA"));
    QTest::newRow("CRLF in a value") << Field::HeaderValue << QByteArray("X-A") << QByteArray("v\r\nInjected: 1")
                                     << 13 << badValue.arg(QStringLiteral("X-A"));
    QTest::newRow("CR in a value") << Field::HeaderValue << QByteArray("X-A") << QByteArray("v\rw") << 13
                                   << badValue.arg(QStringLiteral("X-A"));
    QTest::newRow("LF in a value") << Field::HeaderValue << QByteArray("X-A") << QByteArray("v\nw") << 13
                                   << badValue.arg(QStringLiteral("X-A"));
    QTest::newRow("CRLF in the origin") << Field::Origin << QByteArray() << QByteArray("http://o\r\nInjected: 1")
                                        << 13 << badValue.arg(QStringLiteral("Origin"));
    QTest::newRow("LF in the origin, version 8") << Field::Origin << QByteArray() << QByteArray("http://o\n")
                                                 << 8 << badValue.arg(QStringLiteral("Sec-WebSocket-Origin"));
    QTest::newRow("LF in a subprotocol") << Field::Subprotocol << QByteArray() << QByteArray("chat\n") << 13
                                         << badProtocol;
    QTest::newRow("CRLF in a subprotocol") << Field::Subprotocol << QByteArray() << QByteArray("chat\r\nX: 1")
                                           << 13 << badProtocol;
}

void tst_ClientOptions::lineBreaksRefused()
{
    QFETCH(Field, field);
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, value);
    QFETCH(int, version);
    QFETCH(QString, message);

    HttpPeer peer([](const WsHttpRequest &) { return HttpPeer::upgrade(); });
    QVERIFY(peer.start());

    WsClientOptions options;
    options.protocolVersion = version;
    QStringList protocols;
    switch (field) {
    case Field::HeaderName:
    case Field::HeaderValue:
        options.headers.append(name, value);
        break;
    case Field::Origin:
        options.origin = QString::fromLatin1(value);
        break;
    case Field::Subprotocol:
        protocols.append(QString::fromLatin1(value));
        break;
    }
    WsSocket refused;
    ClientRecord refusedRecord(&refused);
    const WsError error = refused.open(QUrl::fromEncoded(peer.origin() + "/refused"), protocols, options);
    QCOMPARE(error.code(), WsError::InvalidArgument);
    QCOMPARE(error.message(), message);
    QCOMPARE(refused.readyState(), WsSocket::Closed);

    // A valid client afterwards is the first and only one the peer sees.
    WsSocket valid;
    ClientRecord validRecord(&valid);
    QVERIFY(openAndWait(&valid, &validRecord, QUrl::fromEncoded(peer.origin() + "/valid"), WsClientOptions()));
    QCOMPARE(peer.connectionCount(), 1);
    QCOMPARE(peer.exchanges().first().request.target, QByteArray("/valid"));
    QVERIFY(refusedRecord.log.isEmpty());
}

QTEST_MAIN(tst_ClientOptions)
#include "tst_clientoptions.moc"
