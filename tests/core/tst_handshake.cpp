#include "testsupport.h"

#include <core/handshake.h>
#include <core/serverhandshake.h>
#include <core/http.h>

#include <QtTest/qtest.h>

#include <QtCore/qset.h>

using namespace wsqt::core;
using wsqt::test::readVector;

namespace {

// RFC 6455 §1.3: the sample nonce and its accept value.
const QByteArray kKey = "dGhlIHNhbXBsZSBub25jZQ==";
const QByteArray kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

QByteArray crlf(const QByteArray &text)
{
    return QByteArray(text).replace("\n", "\r\n");
}

QByteArray vector(const char *name)
{
    return readVector(QStringLiteral("handshake/") + QLatin1String(name));
}

QByteArray headOf(const QByteArray &data)
{
    return data.left(data.indexOf("\r\n\r\n") + 4);
}

// Parses a test request under limits wide enough for the long fields some tests send.
WsHttpRequest parseRequest(const QByteArray &data)
{
    HttpLimits wide;
    wide.maxLineLength = 1 << 24;
    wide.maxHeadSize = 1 << 24;
    HttpHeadParser parser(HttpHeadParser::Kind::Request, wide);
    parser.feed(data.constData(), data.size());
    if (parser.status() != HttpHeadParser::Status::Complete)
        qFatal("test request does not parse: %s", qPrintable(parser.errorMessage()));
    return parser.request();
}

WsHttpResponse parseResponse(const QByteArray &data)
{
    HttpHeadParser parser(HttpHeadParser::Kind::Response);
    parser.feed(data.constData(), data.size());
    if (parser.status() != HttpHeadParser::Status::Complete)
        qFatal("test response does not parse: %s", qPrintable(parser.errorMessage()));
    return parser.response();
}

// An upgrade request that ws accepts, with `changes` replacing its fields of
// the same name (a null value drops the field), then `added` appended.
QByteArray upgradeRequest(const WsHttpHeaders &changes = {}, const WsHttpHeaders &added = {},
                          const QByteArray &startLine = "GET /chat HTTP/1.1")
{
    WsHttpHeaders headers = {{"Host", "server.example.com"},
                             {"Upgrade", "websocket"},
                             {"Connection", "Upgrade"},
                             {"Sec-WebSocket-Key", kKey},
                             {"Sec-WebSocket-Version", "13"}};
    for (const auto &field : changes.fields()) {
        if (field.second.isNull())
            headers.remove(field.first);
        else
            headers.set(field.first, field.second);
    }
    for (const auto &field : added.fields())
        headers.append(field.first, field.second);
    QByteArray head = startLine + "\r\n";
    for (const auto &field : headers.fields())
        head += field.first + ": " + field.second + "\r\n";
    return head + "\r\n";
}

ClientHandshakeRequest clientRequest()
{
    ClientHandshakeRequest request;
    request.host = "127.0.0.1:8080";
    request.key = kKey;
    return request;
}

QByteArrayList names(const QList<ExtensionOffer> &offers)
{
    QByteArrayList result;
    for (const ExtensionOffer &offer : offers)
        result.append(offer.name);
    return result;
}

} // namespace

class tst_Handshake : public QObject
{
    Q_OBJECT

private slots:
    void acceptKey_data();
    void acceptKey();
    void generatedKey();
    void buildRequest_data();
    void buildRequest();
    void clientValidation_data();
    void clientValidation();
    void serverResponse_data();
    void serverResponse();
    void upgrade_data();
    void upgrade();
    void keyFormat_data();
    void keyFormat();
    void versionNumber_data();
    void versionNumber();
    void extensionsOnlyWhenEnabled();
    void controlBytesInProtocol();
    void requestsUpgrade_data();
    void requestsUpgrade();
    void acceptLines();
    void errorResponse_data();
    void errorResponse();
    void answersAsWs_data();
    void answersAsWs();
    void serverStages_data();
    void serverStages();
};

void tst_Handshake::acceptKey_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("accept");

    QTest::newRow("RFC 6455 §1.3") << kKey << kAccept;
    QTest::newRow("other key") << QByteArray("x3JJHMbDL1EzLkh9GBhXDw==") << QByteArray("HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    QTest::newRow("empty") << QByteArray("") << QByteArray("Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=");
}

void tst_Handshake::acceptKey()
{
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, accept);
    QCOMPARE(computeAcceptKey(key), accept);
}

void tst_Handshake::generatedKey()
{
    QSet<QByteArray> keys;
    for (int i = 0; i < 1000; ++i) {
        const QByteArray key = generateWebSocketKey();
        QCOMPARE(key.size(), 24);
        const auto decoded = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
        QVERIFY(decoded);
        QCOMPARE(decoded.decoded.size(), 16);
        keys.insert(key);
    }
    QCOMPARE(keys.size(), 1000);

    // A server takes it.
    UpgradeRequest upgrade;
    const QByteArray key = generateWebSocketKey();
    const WsHttpRequest request = parseRequest(upgradeRequest({{"Sec-WebSocket-Key", key}}));
    QVERIFY(!validateUpgradeRequest(request, &upgrade).isRejected());
    QCOMPARE(upgrade.key, key);
}

void tst_Handshake::buildRequest_data()
{
    QTest::addColumn<ClientHandshakeRequest>("request");
    QTest::addColumn<QByteArray>("bytes");

    // Each expectation is what a ws 8 client wrote for the same options (key fixed).
    const QByteArray offer = "permessage-deflate; client_max_window_bits";
    ClientHandshakeRequest request = clientRequest();
    request.resource = "/path?q=1";
    request.extensionOffer = offer;
    QTest::newRow("ws defaults") << request << headOf(vector("ws-client-request.http"));

    request = clientRequest();
    QTest::newRow("no extension") << request
                                  << crlf("GET / HTTP/1.1\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: " + kKey
                                          + "\nConnection: Upgrade\nUpgrade: websocket\nHost: 127.0.0.1:8080\n\n");

    request.resource.clear();
    QTest::newRow("empty resource is /") << request
                                         << crlf("GET / HTTP/1.1\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: "
                                                 + kKey + "\nConnection: Upgrade\nUpgrade: websocket\n"
                                                          "Host: 127.0.0.1:8080\n\n");

    request = clientRequest();
    request.host = "server.example.com";
    request.resource = "/chat";
    request.origin = "http://example.com";
    request.protocols = {"chat", "superchat"};
    QTest::newRow("RFC 6455 §1.3 options")
            << request
            << crlf("GET /chat HTTP/1.1\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: " + kKey
                    + "\nConnection: Upgrade\nUpgrade: websocket\nSec-WebSocket-Protocol: chat,superchat\n"
                      "Origin: http://example.com\nHost: server.example.com\n\n");

    // The application's fields come first; ws's own replace theirs in place,
    // but an application Host stays.
    request = clientRequest();
    request.resource = "/p?q=1";
    request.extensionOffer = offer;
    request.protocols = {"chat", "super"};
    request.origin = "o2";
    request.headers = {{"X-Foo", "bar"},
                       {"Sec-WebSocket-Version", "99"},
                       {"connection", "keep-alive"},
                       {"Origin", "o1"},
                       {"host", "custom"}};
    QTest::newRow("application fields")
            << request
            << crlf("GET /p?q=1 HTTP/1.1\nX-Foo: bar\nSec-WebSocket-Version: 13\nConnection: Upgrade\nOrigin: o2\n"
                    "host: custom\nSec-WebSocket-Key: " + kKey + "\nUpgrade: websocket\n"
                    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\n"
                    "Sec-WebSocket-Protocol: chat,super\n\n");

    request = clientRequest();
    request.host = "127.0.0.1:34321";
    request.protocolVersion = 8;
    request.origin = "http://o";
    request.auth = "user:pw";
    request.extensionOffer = offer;
    request.headers = {{"X-Z", "1"}};
    QTest::newRow("version 8, auth")
            << request
            << crlf("GET / HTTP/1.1\nX-Z: 1\nSec-WebSocket-Version: 8\nSec-WebSocket-Key: " + kKey
                    + "\nConnection: Upgrade\nUpgrade: websocket\n"
                      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\n"
                      "Sec-WebSocket-Origin: http://o\nHost: 127.0.0.1:34321\n"
                      "Authorization: Basic dXNlcjpwdw==\n\n");

    request.protocolVersion = 13;
    request.origin.clear();
    request.headers = {{"Authorization", "Bearer x"}};
    QTest::newRow("application Authorization wins")
            << request
            << crlf("GET / HTTP/1.1\nAuthorization: Bearer x\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: " + kKey
                    + "\nConnection: Upgrade\nUpgrade: websocket\n"
                      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\n"
                      "Host: 127.0.0.1:34321\n\n");

    request = clientRequest();
    request.headers = {{"Sec-WebSocket-Extensions", "x-own"}, {"Cookie", "a=1"}, {"X-Multi", "1"},
                       {"cookie", "b=2"}, {"X-Multi", "2"}};
    QTest::newRow("repeated fields; no offer keeps the application's")
            << request
            << crlf("GET / HTTP/1.1\nSec-WebSocket-Extensions: x-own\nCookie: a=1; b=2\nX-Multi: 1\nX-Multi: 2\n"
                    "Sec-WebSocket-Version: 13\nSec-WebSocket-Key: " + kKey
                    + "\nConnection: Upgrade\nUpgrade: websocket\nHost: 127.0.0.1:8080\n\n");
}

void tst_Handshake::buildRequest()
{
    QFETCH(ClientHandshakeRequest, request);
    QFETCH(QByteArray, bytes);
    QVERIFY(!validateClientRequest(request).isError());
    QCOMPARE(buildClientRequest(request), bytes);
}

void tst_Handshake::clientValidation_data()
{
    QTest::addColumn<ClientHandshakeRequest>("request");
    QTest::addColumn<QString>("message");

    // ws's messages, and Node's for what Node checks; empty: accepted.
    const QString badProtocol = QStringLiteral("An invalid or duplicated subprotocol was specified");
    const QString badPath = QStringLiteral("Request path contains unescaped characters");
    const auto badName = [](const char *name) {
        return QStringLiteral("Header name must be a valid HTTP token [\"%1\"]").arg(QString::fromLatin1(name));
    };
    const auto badValue = [](const char *name) {
        return QStringLiteral("Invalid character in header content [\"%1\"]").arg(QString::fromLatin1(name));
    };
    const auto row = [](const char *name, void (*change)(ClientHandshakeRequest &), const QString &message) {
        ClientHandshakeRequest request = clientRequest();
        change(request);
        QTest::newRow(name) << request << message;
    };

    row("defaults", [](ClientHandshakeRequest &) {}, QString());
    row("version 8", [](ClientHandshakeRequest &r) { r.protocolVersion = 8; }, QString());
    row("version 12", [](ClientHandshakeRequest &r) { r.protocolVersion = 12; },
        QStringLiteral("Unsupported protocol version: 12 (supported versions: 8, 13)"));
    row("version 0", [](ClientHandshakeRequest &r) { r.protocolVersion = 0; },
        QStringLiteral("Unsupported protocol version: 0 (supported versions: 8, 13)"));
    row("empty subprotocol", [](ClientHandshakeRequest &r) { r.protocols = {""}; }, badProtocol);
    row("subprotocol with comma", [](ClientHandshakeRequest &r) { r.protocols = {"a,b"}; }, badProtocol);
    row("subprotocol with space", [](ClientHandshakeRequest &r) { r.protocols = {"a b"}; }, badProtocol);
    row("repeated subprotocol", [](ClientHandshakeRequest &r) { r.protocols = {"a", "b", "a"}; }, badProtocol);
    row("bad-inputs 11: CR LF in subprotocol",
        [](ClientHandshakeRequest &r) { r.protocols = {"chat\r\nX-Injected: 1"}; }, badProtocol);
    row("bad-inputs 11: CR LF in path", [](ClientHandshakeRequest &r) { r.resource = "/a\r\nX-Injected: 1"; },
        badPath);
    row("space in path", [](ClientHandshakeRequest &r) { r.resource = "/a b"; }, badPath);
    row("NUL in path", [](ClientHandshakeRequest &r) { r.resource = QByteArray("/a\0", 3); }, badPath);
    row("bad-inputs 11: CR LF in host", [](ClientHandshakeRequest &r) { r.host = "a\r\nX-Injected: 1"; },
        badValue("Host"));
    row("NUL in host", [](ClientHandshakeRequest &r) { r.host = QByteArray("a\0b", 3); }, badValue("Host"));
    row("bad-inputs 11: CR LF in origin", [](ClientHandshakeRequest &r) { r.origin = "http://x\r\ny"; },
        badValue("Origin"));
    row("CR in version 8 origin",
        [](ClientHandshakeRequest &r) {
            r.protocolVersion = 8;
            r.origin = "http://x\ry";
        },
        badValue("Sec-WebSocket-Origin"));
    row("bad-inputs 11: CR LF in field value", [](ClientHandshakeRequest &r) { r.headers = {{"X-A", "a\r\nb"}}; },
        badValue("X-A"));
    row("NUL in field value", [](ClientHandshakeRequest &r) { r.headers = {{"X-A", QByteArray("a\0b", 3)}}; },
        badValue("X-A"));
    row("DEL in field value", [](ClientHandshakeRequest &r) { r.headers = {{"X-A", "a\x7f"}}; }, badValue("X-A"));
    row("tab and obs-text in value", [](ClientHandshakeRequest &r) { r.headers = {{"X-A", "a\tb\xff"}}; },
        QString());
    row("space in field name", [](ClientHandshakeRequest &r) { r.headers = {{"X A", "b"}}; }, badName("X A"));
    row("empty field name", [](ClientHandshakeRequest &r) { r.headers = {{"", "b"}}; }, badName(""));
    row("bad-inputs 11: CR LF in field name", [](ClientHandshakeRequest &r) { r.headers = {{"X\r\nA", "b"}}; },
        badName("X\r\nA"));
    row("CR LF in a replaced field",
        [](ClientHandshakeRequest &r) { r.headers = {{"connection", "x\r\ny"}}; }, badValue("connection"));
    // The first failing check speaks, in ws's and Node's order.
    row("version before subprotocol",
        [](ClientHandshakeRequest &r) {
            r.protocolVersion = 7;
            r.protocols = {""};
        },
        QStringLiteral("Unsupported protocol version: 7 (supported versions: 8, 13)"));
    row("subprotocol before path",
        [](ClientHandshakeRequest &r) {
            r.protocols = {""};
            r.resource = "/ ";
        },
        badProtocol);
    row("path before fields",
        [](ClientHandshakeRequest &r) {
            r.resource = "/ ";
            r.headers = {{"X A", "b"}};
        },
        badPath);
    row("fields in order",
        [](ClientHandshakeRequest &r) { r.headers = {{"X-A", "\n"}, {"X B", "b"}}; }, badValue("X-A"));
    row("application fields before origin",
        [](ClientHandshakeRequest &r) {
            r.origin = "\n";
            r.headers = {{"X-A", "\n"}};
        },
        badValue("X-A"));
}

void tst_Handshake::clientValidation()
{
    QFETCH(ClientHandshakeRequest, request);
    QFETCH(QString, message);

    const WsError error = validateClientRequest(request);
    if (message.isEmpty()) {
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        return;
    }
    QCOMPARE(error.code(), WsError::InvalidArgument);
    QCOMPARE(error.message(), message);
}

void tst_Handshake::serverResponse_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QByteArrayList>("protocols");
    QTest::addColumn<QByteArrayList>("offered");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QByteArray>("protocol");
    QTest::addColumn<QByteArrayList>("extensions");

    // Each outcome is what a ws 8 client reports for the same response.
    const QByteArray ok = "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n"
                          "Sec-WebSocket-Accept: " + kAccept;
    const QByteArrayList none;
    const QByteArrayList pmd = {"permessage-deflate"};
    const int failed = WsError::HandshakeFailed;
    const int unexpected = WsError::UnexpectedResponse;
    const auto row = [](const char *name, const QByteArray &head, const QByteArrayList &protocols,
                        const QByteArrayList &offered, int code, const char *message,
                        const QByteArray &protocol = {}, const QByteArrayList &extensions = {}) {
        QTest::newRow(name) << crlf(head + "\n\n") << protocols << offered << code << QString::fromLatin1(message)
                            << protocol << extensions;
    };

    QTest::newRow("RFC 6455 §1.3") << vector("rfc6455-response.http") << QByteArrayList{"chat", "superchat"}
                                   << none << 0 << QString() << QByteArray("chat") << QByteArrayList();
    QTest::newRow("ws server") << vector("ws-server-response.http") << QByteArrayList{"chat"} << pmd << 0 << QString()
                               << QByteArray("chat") << pmd;
    row("plain", ok, none, none, 0, "");
    row("no reason phrase, HTTP/1.0",
        "HTTP/1.0 101\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: " + kAccept, none, none, 0, "");
    row("bad-inputs 7: Connection list, Upgrade case",
        "HTTP/1.1 101 Switching Protocols\nConnection: keep-alive, UPGRADE\nUpgrade: WebSocket\n"
        "Sec-WebSocket-Accept: " + kAccept,
        none, none, 0, "");
    row("Connection split over two fields",
        "HTTP/1.1 101 OK\nConnection: keep-alive\nConnection: upgrade\nUpgrade: websocket\n"
        "Sec-WebSocket-Accept: " + kAccept,
        none, none, 0, "");
    row("not 101", "HTTP/1.1 200 OK\nContent-Length: 0", none, none, unexpected, "Unexpected server response: 200");
    row("101 without Connection",
        "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nSec-WebSocket-Accept: " + kAccept, none, none,
        unexpected, "Unexpected server response: 101");
    row("101 without the upgrade token",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgradex\nUpgrade: websocket\nSec-WebSocket-Accept: " + kAccept,
        none, none, unexpected, "Unexpected server response: 101");
    row("101 without Upgrade",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nSec-WebSocket-Accept: " + kAccept, none, none,
        unexpected, "Unexpected server response: 101");
    row("101 with an empty Upgrade",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade:\nSec-WebSocket-Accept: " + kAccept, none,
        none, unexpected, "Unexpected server response: 101");
    row("other Upgrade",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: h2c\nSec-WebSocket-Accept: " + kAccept, none,
        none, failed, "Invalid Upgrade header");
    row("Upgrade twice",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: websocket\nUpgrade: websocket\n"
        "Sec-WebSocket-Accept: " + kAccept,
        none, none, failed, "Invalid Upgrade header");
    row("bad-inputs 9: wrong accept",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: websocket\n"
        "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=",
        none, none, failed, "Invalid Sec-WebSocket-Accept header");
    row("accept in other case",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: websocket\n"
        "Sec-WebSocket-Accept: " + kAccept.toLower(),
        none, none, failed, "Invalid Sec-WebSocket-Accept header");
    row("no accept", "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: websocket", none, none, failed,
        "Invalid Sec-WebSocket-Accept header");
    row("accept twice", ok + "\nSec-WebSocket-Accept: " + kAccept, none, none, failed,
        "Invalid Sec-WebSocket-Accept header");
    row("bad-inputs 9: subprotocol not requested", ok + "\nSec-WebSocket-Protocol: chat", none, none, failed,
        "Server sent a subprotocol but none was requested");
    row("empty subprotocol not requested", ok + "\nSec-WebSocket-Protocol:", none, none, failed,
        "Server sent a subprotocol but none was requested");
    row("bad-inputs 9: other subprotocol", ok + "\nSec-WebSocket-Protocol: superchat", {"chat"}, none, failed,
        "Server sent an invalid subprotocol");
    row("subprotocol in other case", ok + "\nSec-WebSocket-Protocol: Chat", {"chat"}, none, failed,
        "Server sent an invalid subprotocol");
    row("empty subprotocol", ok + "\nSec-WebSocket-Protocol:", {"chat"}, none, failed,
        "Server sent an invalid subprotocol");
    row("two subprotocols", ok + "\nSec-WebSocket-Protocol: chat, superchat", {"chat", "superchat"}, none, failed,
        "Server sent an invalid subprotocol");
    row("two subprotocol fields", ok + "\nSec-WebSocket-Protocol: chat\nSec-WebSocket-Protocol: chat", {"chat"}, none,
        failed, "Server sent an invalid subprotocol");
    row("no subprotocol", ok, {"chat"}, none, failed, "Server sent no subprotocol");
    row("second subprotocol chosen", ok + "\nSec-WebSocket-Protocol: superchat", {"chat", "superchat"}, none, 0, "",
        "superchat");
    row("bad-inputs 9: extension not offered", ok + "\nSec-WebSocket-Extensions: permessage-deflate", {}, none, failed,
        "Server sent a Sec-WebSocket-Extensions header but no extension was requested");
    row("empty extensions", ok + "\nSec-WebSocket-Extensions:", {}, pmd, failed,
        "Invalid Sec-WebSocket-Extensions header");
    row("malformed extensions", ok + "\nSec-WebSocket-Extensions: permessage-deflate;", {}, pmd, failed,
        "Invalid Sec-WebSocket-Extensions header");
    row("bad-inputs 9: other extension", ok + "\nSec-WebSocket-Extensions: permessage-deflate, x-foo", {}, pmd, failed,
        "Server indicated an extension that was not requested");
    row("only another extension", ok + "\nSec-WebSocket-Extensions: foo", {}, pmd, failed,
        "Server indicated an extension that was not requested");
    row("extension twice", ok + "\nSec-WebSocket-Extensions: permessage-deflate, permessage-deflate", {}, pmd, 0, "", {},
        {"permessage-deflate", "permessage-deflate"});
    row("extension parameters left to it",
        ok + "\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7; foo", {}, pmd, 0, "", {}, pmd);
    // ws's order: the first failing check speaks.
    row("Upgrade before accept",
        "HTTP/1.1 101 X\nConnection: Upgrade\nUpgrade: foo\nSec-WebSocket-Accept: x", none, none, failed,
        "Invalid Upgrade header");
    row("accept before subprotocol",
        "HTTP/1.1 101 X\nConnection: Upgrade\nUpgrade: websocket\nSec-WebSocket-Accept: x\nSec-WebSocket-Protocol: a",
        none, none, failed, "Invalid Sec-WebSocket-Accept header");
    row("subprotocol before extensions", ok + "\nSec-WebSocket-Protocol: a\nSec-WebSocket-Extensions: ;", none, none,
        failed, "Server sent a subprotocol but none was requested");
}

void tst_Handshake::serverResponse()
{
    QFETCH(QByteArray, response);
    QFETCH(QByteArrayList, protocols);
    QFETCH(QByteArrayList, offered);
    QFETCH(int, code);
    QFETCH(QString, message);
    QFETCH(QByteArray, protocol);
    QFETCH(QByteArrayList, extensions);

    ClientHandshakeRequest request = clientRequest();
    request.protocols = protocols;
    ClientHandshakeResult result;
    result.protocol = "untouched";
    const WsError error = verifyServerResponse(parseResponse(response), request, offered, &result);
    QCOMPARE(int(error.code()), code);
    QCOMPARE(error.message(), message);
    QCOMPARE(error.closeCode(), 0);
    if (code != 0) {
        QCOMPARE(result.protocol, QByteArray("untouched"));
        return;
    }
    QCOMPARE(result.protocol, protocol);
    QCOMPARE(names(result.extensions), extensions);
}

void tst_Handshake::upgrade_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<HandshakeRejection::Reason>("reason");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<int>("version");
    QTest::addColumn<QByteArrayList>("protocols");
    QTest::addColumn<QByteArrayList>("extensions");
    QTest::addColumn<QByteArray>("origin");

    const auto accepted = [](const char *name, const QByteArray &request, int version = 13,
                             const QByteArrayList &protocols = {}, const QByteArrayList &extensions = {},
                             const QByteArray &origin = {}) {
        QTest::newRow(name) << request << HandshakeRejection::Reason::None << 0 << QByteArray() << version
                            << protocols << extensions << origin;
    };
    // A rejection: what a caller branches on, and what goes on the wire (ws's).
    struct Expected
    {
        HandshakeRejection::Reason reason;
        int status;
        const char *message;
    };
    const auto rejected = [](const char *name, const QByteArray &request, const Expected &expected) {
        QTest::newRow(name) << request << expected.reason << expected.status << QByteArray(expected.message) << 0
                            << QByteArrayList() << QByteArrayList() << QByteArray();
    };
    using Reason = HandshakeRejection::Reason;
    const Expected badMethod{Reason::Method, 405, "Invalid HTTP method"};
    const Expected badUpgrade{Reason::Upgrade, 400, "Invalid Upgrade header"};
    const Expected badKey{Reason::Key, 400, "Missing or invalid Sec-WebSocket-Key header"};
    const Expected badVersion{Reason::Version, 400, "Missing or invalid Sec-WebSocket-Version header"};
    const Expected badProtocol{Reason::Protocol, 400, "Invalid Sec-WebSocket-Protocol header"};
    const Expected badExtensions{Reason::Extensions, 400, "Invalid or unacceptable Sec-WebSocket-Extensions header"};
    const Expected badConnection{Reason::Connection, 400, "Invalid Connection header"};
    const Expected badHttpVersion{Reason::HttpVersion, 400, "Invalid HTTP version"};

    accepted("RFC 6455 §1.3", vector("rfc6455-request.http"), 13, {"chat", "superchat"}, {}, "http://example.com");
    accepted("ws client", vector("ws-client-request.http"), 13, {}, {"permessage-deflate"});
    accepted("bad-inputs 7: Connection list, Upgrade case", vector("request-keepalive-upgrade.http"), 13, {},
             {"permessage-deflate"});
    accepted("version 8 origin", vector("request-version-8.http"), 8, {}, {}, "http://example.org");
    accepted("version 8 ignores Origin",
             upgradeRequest({{"Sec-WebSocket-Version", "8"}, {"Origin", "http://a"}}), 8);
    accepted("version 13 ignores Sec-WebSocket-Origin", upgradeRequest({{"Sec-WebSocket-Origin", "http://a"}}));
    accepted("Upgrade in capitals", upgradeRequest({{"Upgrade", "WEBSOCKET"}}));
    accepted("protocol fields joined",
             upgradeRequest({}, {{"Sec-WebSocket-Protocol", "b"}, {"Sec-WebSocket-Protocol", "a"}}), 13, {"b", "a"});
    accepted("bad-inputs 4: 100k spaces in protocols",
             upgradeRequest({{"Sec-WebSocket-Protocol", "a," + QByteArray(100000, ' ') + "b"}}), 13, {"a", "b"});
    accepted("unknown extension kept", upgradeRequest({{"Sec-WebSocket-Extensions", "foo; bar"}}), 13, {}, {"foo"});
    accepted("HTTP/1.1 or later", upgradeRequest({}, {}, "GET /chat HTTP/1.1"));

    rejected("bad-inputs 6: POST", vector("request-post.http"), badMethod);
    rejected("lower-case get", upgradeRequest({}, {}, "get /chat HTTP/1.1"), badMethod);
    rejected("bad-inputs 1: no Upgrade", upgradeRequest({{"Upgrade", QByteArray()}}), badUpgrade);
    rejected("other Upgrade", upgradeRequest({{"Upgrade", "websockets"}}), badUpgrade);
    rejected("Upgrade list", upgradeRequest({{"Upgrade", "websocket, h2c"}}), badUpgrade);
    rejected("Upgrade twice", upgradeRequest({}, {{"Upgrade", "websocket"}}), badUpgrade);
    rejected("bad-inputs 6: short key", vector("request-bad-key.http"), badKey);
    rejected("no key", upgradeRequest({{"Sec-WebSocket-Key", QByteArray()}}), badKey);
    rejected("key twice", upgradeRequest({}, {{"Sec-WebSocket-Key", kKey}}), badKey);
    rejected("bad-inputs 6: version 12", vector("request-version-12.http"), badVersion);
    rejected("no version", upgradeRequest({{"Sec-WebSocket-Version", QByteArray()}}), badVersion);
    rejected("version twice", upgradeRequest({}, {{"Sec-WebSocket-Version", "13"}}), badVersion);
    rejected("bad-inputs 4: empty protocol token", upgradeRequest({{"Sec-WebSocket-Protocol", "a,,b"}}), badProtocol);
    rejected("bad-inputs 4: duplicate protocol", upgradeRequest({{"Sec-WebSocket-Protocol", "chat, chat"}}), badProtocol);
    rejected("bad-inputs 4: leading comma", upgradeRequest({{"Sec-WebSocket-Protocol", ",chat"}}), badProtocol);
    rejected("bad-inputs 4: trailing comma", upgradeRequest({{"Sec-WebSocket-Protocol", "chat,"}}), badProtocol);
    rejected("bad-inputs 4: non-ASCII protocol", upgradeRequest({{"Sec-WebSocket-Protocol", "ch\xc3\xa4t"}}), badProtocol);
    rejected("empty protocol field", upgradeRequest({{"Sec-WebSocket-Protocol", ""}}), badProtocol);
    QByteArray unclosed = "permessage-deflate; x=\"";
    for (int i = 0; i < 100000; ++i)
        unclosed += "\\c";
    rejected("bad-inputs 5: unclosed quote of 100k escapes",
             upgradeRequest({{"Sec-WebSocket-Extensions", unclosed}}), badExtensions);
    rejected("empty extensions field", upgradeRequest({{"Sec-WebSocket-Extensions", ""}}), badExtensions);
    // What RFC 6455 requires and ws leaves to Node.
    rejected("no Connection", upgradeRequest({{"Connection", QByteArray()}}), badConnection);
    rejected("Connection without upgrade", upgradeRequest({{"Connection", "keep-alive"}}), badConnection);
    rejected("bad-inputs 6: HTTP/1.0", vector("request-http10.http"), badHttpVersion);
    // ws's order: the first failing check speaks.
    rejected("method before Upgrade", upgradeRequest({{"Upgrade", "x"}}, {}, "PUT / HTTP/1.1"), badMethod);
    rejected("Upgrade before key", upgradeRequest({{"Upgrade", "x"}, {"Sec-WebSocket-Key", "x"}}), badUpgrade);
    rejected("key before version", upgradeRequest({{"Sec-WebSocket-Key", "x"}, {"Sec-WebSocket-Version", "x"}}), badKey);
    rejected("version before protocol",
             upgradeRequest({{"Sec-WebSocket-Version", "x"}, {"Sec-WebSocket-Protocol", ","}}), badVersion);
    rejected("protocol before extensions",
             upgradeRequest({{"Sec-WebSocket-Protocol", ","}, {"Sec-WebSocket-Extensions", ","}}), badProtocol);
    rejected("ws's checks before Connection",
             upgradeRequest({{"Connection", "close"}, {"Sec-WebSocket-Extensions", ","}}), badExtensions);
    rejected("ws's checks before the version", upgradeRequest({{"Sec-WebSocket-Key", "x"}}, {}, "GET / HTTP/1.0"), badKey);
}

void tst_Handshake::upgrade()
{
    QFETCH(QByteArray, request);
    QFETCH(HandshakeRejection::Reason, reason);
    QFETCH(int, status);
    QFETCH(QByteArray, message);
    QFETCH(int, version);
    QFETCH(QByteArrayList, protocols);
    QFETCH(QByteArrayList, extensions);
    QFETCH(QByteArray, origin);

    UpgradeRequest upgrade;
    upgrade.key = "untouched";
    const HandshakeRejection rejection = validateUpgradeRequest(parseRequest(request), &upgrade);
    QCOMPARE(rejection.reason, reason);
    QCOMPARE(rejection.status, status);
    QCOMPARE(rejection.message, message);
    QCOMPARE(rejection.isRejected(), status != 0);
    if (status != 0) {
        const WsHttpHeaders extra = message.contains("Sec-WebSocket-Version")
                ? WsHttpHeaders{{"Sec-WebSocket-Version", "13, 8"}}
                : WsHttpHeaders{};
        QCOMPARE(rejection.headers, extra);
        QCOMPARE(upgrade.key, QByteArray("untouched"));
        return;
    }
    QCOMPARE(upgrade.key, kKey);
    QCOMPARE(upgrade.version, version);
    QCOMPARE(upgrade.protocols, protocols);
    QCOMPARE(names(upgrade.extensions), extensions);
    QCOMPARE(upgrade.origin, origin);
}

void tst_Handshake::keyFormat_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<bool>("valid");

    // ws: /^[+/0-9A-Za-z]{22}==$/
    QTest::newRow("RFC sample") << kKey << true;
    QTest::newRow("all symbols") << QByteArray("+/+/+/+/+/0123456789Az==") << true;
    QTest::newRow("21 characters") << QByteArray("dGhlIHNhbXBsZSBub25jZ==") << false;
    QTest::newRow("23 characters") << QByteArray("dGhlIHNhbXBsZSBub25jZQQ==") << false;
    QTest::newRow("one =") << QByteArray("dGhlIHNhbXBsZSBub25jZQ=") << false;
    QTest::newRow("three =") << QByteArray("dGhlIHNhbXBsZSBub25jZ===") << false;
    QTest::newRow("no padding") << QByteArray("dGhlIHNhbXBsZSBub25jZQAA") << false;
    QTest::newRow("base64url -") << QByteArray("dGhlIHNhbXBsZSBub25jZ-==") << false;
    QTest::newRow("base64url _") << QByteArray("_GhlIHNhbXBsZSBub25jZQ==") << false;
    QTest::newRow("space inside") << QByteArray("dGhlIHNhbXBs ZSBub25jZQ==") << false;
    QTest::newRow("non-ASCII") << QByteArray("dGhlIHNhbXBsZSBub25j\xc3\xa4==") << false;
    QTest::newRow("24 bytes of base64") << QByteArray("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") << false;
}

void tst_Handshake::keyFormat()
{
    QFETCH(QByteArray, key);
    QFETCH(bool, valid);
    const HandshakeRejection rejection =
            validateUpgradeRequest(parseRequest(upgradeRequest({{"Sec-WebSocket-Key", key}})), nullptr);
    QCOMPARE(rejection.isRejected(), !valid);
    if (!valid)
        QCOMPARE(rejection.message, QByteArray("Missing or invalid Sec-WebSocket-Key header"));
}

void tst_Handshake::versionNumber_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<int>("version");

    // What JavaScript's Number() makes of the value, as ws reads it; 0: refused.
    const QList<QPair<const char *, int>> values = {
            {"13", 13}, {"8", 8}, {"0xd", 13}, {"0XD", 13}, {"0x0000d", 13}, {"0x8", 8}, {"0o15", 13},
            {"0O15", 13}, {"0b1101", 13}, {"0B1000", 8}, {"+13", 13}, {"+13.0", 13}, {"13.", 13},
            {"13.0000000000000001", 13}, {"13.000000000000002", 0}, {"1.3e1", 13}, {"130E-1", 13},
            {"1.3e+1", 13}, {".13e2", 13}, {"013", 13}, {"0013", 13}, {"8.0", 8}, {"8e0", 8}, {"0.8e1", 8},
            {"13\xa0", 13}, {"-13", 0}, {"12", 0}, {"14", 0}, {"0x", 0}, {"0xg", 0}, {"-0x8", 0}, {"+0x8", 0},
            {"0x-8", 0}, {"1_3", 0}, {"13n", 0}, {"13abc", 0}, {"Infinity", 0}, {"1e1000", 0}, {"13e", 0},
            {"e1", 0}, {".", 0}, {"13, 8", 0}, {"", 0}};
    for (const auto &[value, version] : values)
        QTest::newRow(value[0] ? value : "empty") << QByteArray(value) << version;
}

void tst_Handshake::versionNumber()
{
    QFETCH(QByteArray, value);
    QFETCH(int, version);

    UpgradeRequest upgrade;
    const HandshakeRejection rejection =
            validateUpgradeRequest(parseRequest(upgradeRequest({{"Sec-WebSocket-Version", value}})), &upgrade);
    if (version == 0) {
        QCOMPARE(rejection.status, 400);
        QCOMPARE(rejection.message, QByteArray("Missing or invalid Sec-WebSocket-Version header"));
        QCOMPARE(rejection.headers, (WsHttpHeaders{{"Sec-WebSocket-Version", "13, 8"}}));
    } else {
        QVERIFY(!rejection.isRejected());
        QCOMPARE(upgrade.version, version);
    }
}

void tst_Handshake::extensionsOnlyWhenEnabled()
{
    // ws reads Sec-WebSocket-Extensions only with perMessageDeflate on.
    const WsHttpRequest request = parseRequest(upgradeRequest({{"Sec-WebSocket-Extensions", "permessage-deflate;"}}));
    UpgradeRequest upgrade;
    QCOMPARE(validateUpgradeRequest(request, &upgrade).status, 400);
    const HandshakeRejection ignored = validateUpgradeRequest(request, &upgrade, false);
    QVERIFY(!ignored.isRejected());
    QVERIFY(upgrade.extensions.isEmpty());
}

void tst_Handshake::controlBytesInProtocol()
{
    // bad-inputs 4: the head parser already answers 400 to a control byte in
    // a field value; a request that bypassed it is refused all the same.
    HttpHeadParser parser(HttpHeadParser::Kind::Request);
    const QByteArray bytes = upgradeRequest({{"Sec-WebSocket-Protocol", "a\x01"}});
    parser.feed(bytes.constData(), bytes.size());
    QCOMPARE(parser.status(), HttpHeadParser::Status::Failed);
    QCOMPARE(parser.errorStatus(), 400);

    WsHttpRequest request = parseRequest(upgradeRequest());
    request.headers.append("Sec-WebSocket-Protocol", "a\x01");
    const HandshakeRejection rejection = validateUpgradeRequest(request, nullptr);
    QCOMPARE(rejection.status, 400);
    QCOMPARE(rejection.message, QByteArray("Invalid Sec-WebSocket-Protocol header"));
}

void tst_Handshake::requestsUpgrade_data()
{
    QTest::addColumn<WsHttpHeaders>("headers");
    QTest::addColumn<bool>("upgrade");

    QTest::newRow("both") << WsHttpHeaders{{"Connection", "Upgrade"}, {"Upgrade", "websocket"}} << true;
    QTest::newRow("any protocol") << WsHttpHeaders{{"connection", "upgrade"}, {"upgrade", "h2c"}} << true;
    QTest::newRow("list") << WsHttpHeaders{{"Connection", "keep-alive, Upgrade"}, {"Upgrade", "WebSocket"}} << true;
    QTest::newRow("no Connection") << WsHttpHeaders{{"Upgrade", "websocket"}} << false;
    QTest::newRow("no Upgrade") << WsHttpHeaders{{"Connection", "Upgrade"}} << false;
    QTest::newRow("empty Upgrade") << WsHttpHeaders{{"Connection", "Upgrade"}, {"Upgrade", ""}} << false;
    QTest::newRow("Connection: close") << WsHttpHeaders{{"Connection", "close"}, {"Upgrade", "websocket"}} << false;
}

void tst_Handshake::requestsUpgrade()
{
    QFETCH(WsHttpHeaders, headers);
    QFETCH(bool, upgrade);
    QCOMPARE(wsqt::core::requestsUpgrade(headers), upgrade);
}

void tst_Handshake::acceptLines()
{
    // The RFC's request, answered as ws answers it, gives the RFC's response.
    UpgradeRequest upgrade;
    QVERIFY(!validateUpgradeRequest(parseRequest(vector("rfc6455-request.http")), &upgrade).isRejected());
    const QList<QByteArray> lines = buildAcceptHeaderLines(upgrade.key, upgrade.protocols.first(), {});
    QCOMPARE(lines, (QList<QByteArray>{"HTTP/1.1 101 Switching Protocols", "Upgrade: websocket",
                                       "Connection: Upgrade", "Sec-WebSocket-Accept: " + kAccept,
                                       "Sec-WebSocket-Protocol: chat"}));
    QCOMPARE(serializeHeaderLines(lines), vector("rfc6455-response.http"));

    QCOMPARE(serializeHeaderLines(buildAcceptHeaderLines(kKey, "chat", "permessage-deflate")),
             headOf(vector("ws-server-response.http")));
    QCOMPARE(serializeHeaderLines(buildAcceptHeaderLines(kKey, {}, {})),
             crlf("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n"
                  "Sec-WebSocket-Accept: " + kAccept + "\n\n"));
    QCOMPARE(buildAcceptHeaderLines(kKey, {}, "permessage-deflate").last(),
             QByteArray("Sec-WebSocket-Extensions: permessage-deflate"));
}

void tst_Handshake::errorResponse_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<WsHttpHeaders>("extra");
    QTest::addColumn<QByteArray>("bytes");

    // What ws 8's abortHandshake wrote for the same arguments.
    const auto row = [](const char *name, int status, const QByteArray &message, const WsHttpHeaders &extra,
                        const QByteArray &bytes) {
        QTest::newRow(name) << status << message << extra << bytes;
    };
    row("405", 405, "Invalid HTTP method", {},
        "HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 19\r\n"
        "\r\nInvalid HTTP method");
    row("400 Upgrade", 400, "Invalid Upgrade header", {},
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 22\r\n\r\n"
        "Invalid Upgrade header");
    row("400 version", 400, "Missing or invalid Sec-WebSocket-Version header", {{"Sec-WebSocket-Version", "13, 8"}},
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 47\r\n"
        "Sec-WebSocket-Version: 13, 8\r\n\r\nMissing or invalid Sec-WebSocket-Version header");
    row("400 extensions", 400, "Invalid or unacceptable Sec-WebSocket-Extensions header", {},
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 55\r\n\r\n"
        "Invalid or unacceptable Sec-WebSocket-Extensions header");
    row("400 without message", 400, {}, {},
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n"
        "Bad Request");
    row("401", 401, {}, {},
        "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n"
        "Unauthorized");
    row("403 with fields", 403, "Nope", {{"X-A", "1"}, {"Content-Type", "text/plain"}},
        "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
        "X-A: 1\r\n\r\nNope");
    row("503", 503, {}, {},
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 19\r\n"
        "\r\nService Unavailable");
    row("431", 431, {}, {},
        "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: text/html\r\n"
        "Content-Length: 31\r\n\r\nRequest Header Fields Too Large");
    row("414 with message", 414, "Request line too long", {},
        "HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 21\r\n\r\n"
        "Request line too long");
    row("length in bytes", 400, "caf\xc3\xa9", {},
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n"
        "caf\xc3\xa9");
}

void tst_Handshake::errorResponse()
{
    QFETCH(int, status);
    QFETCH(QByteArray, message);
    QFETCH(WsHttpHeaders, extra);
    QFETCH(QByteArray, bytes);
    QCOMPARE(buildErrorResponse(status, message, extra), bytes);
}

void tst_Handshake::answersAsWs_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("answer");

    // A request vector and the bytes a ws 8 server (perMessageDeflate off, its
    // default) wrote back for it.
    const QByteArray switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: " + kAccept + "\r\n";
    QTest::newRow("RFC 6455 §1.3") << vector("rfc6455-request.http")
                                   << switching + "Sec-WebSocket-Protocol: chat\r\n\r\n";
    QTest::newRow("ws client") << vector("ws-client-request.http") << switching + "\r\n";
    QTest::newRow("keep-alive, Upgrade") << vector("request-keepalive-upgrade.http") << switching + "\r\n";
    QTest::newRow("version 8") << vector("request-version-8.http") << switching + "\r\n";
    QTest::newRow("POST") << vector("request-post.http")
                          << QByteArray("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Type: "
                                        "text/html\r\nContent-Length: 19\r\n\r\nInvalid HTTP method");
    QTest::newRow("bad key") << vector("request-bad-key.http")
                             << QByteArray("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html"
                                           "\r\nContent-Length: 43\r\n\r\nMissing or invalid Sec-WebSocket-Key header");
    QTest::newRow("version 12") << vector("request-version-12.http")
                                << QByteArray("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: "
                                              "text/html\r\nContent-Length: 47\r\nSec-WebSocket-Version: 13, 8\r\n\r\n"
                                              "Missing or invalid Sec-WebSocket-Version header");
    // Where ws answers 101: RFC 6455 §4.2.1 asks for HTTP/1.1.
    QTest::newRow("HTTP/1.0") << vector("request-http10.http")
                              << QByteArray("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: "
                                            "text/html\r\nContent-Length: 20\r\n\r\nInvalid HTTP version");
}

void tst_Handshake::answersAsWs()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, answer);

    UpgradeRequest upgrade;
    const HandshakeRejection rejection = validateUpgradeRequest(parseRequest(request), &upgrade, false);
    const QByteArray bytes = rejection.isRejected()
            ? buildErrorResponse(rejection.status, rejection.message, rejection.headers)
            : serializeHeaderLines(buildAcceptHeaderLines(
                      upgrade.key, upgrade.protocols.isEmpty() ? QByteArray() : upgrade.protocols.first(), {}));
    QCOMPARE(bytes, answer);
}

// The server's staged handshake: which stage refuses, and what stage 2
// agreed on.
void tst_Handshake::serverStages_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<bool>("deflateOn");        // the server offers permessage-deflate
    QTest::addColumn<int>("beforePath");        // HandshakeRejection::Reason of stage 1
    QTest::addColumn<int>("negotiated");        // HandshakeRejection::Reason of stage 2
    QTest::addColumn<QByteArray>("extensions"); // agreed on

    using Reason = HandshakeRejection::Reason;
    const QByteArray deflateOffer = "permessage-deflate";
    QTest::newRow("accepted, no offer") << upgradeRequest() << true << int(Reason::None) << int(Reason::None)
                                        << QByteArray();
    QTest::newRow("accepted, deflate agreed")
            << upgradeRequest({}, {{"Sec-WebSocket-Extensions", deflateOffer}}) << true << int(Reason::None)
            << int(Reason::None) << QByteArray("permessage-deflate");
    QTest::newRow("bad key: before the path")
            << upgradeRequest({{"Sec-WebSocket-Key", "short"}}) << true << int(Reason::Key) << int(Reason::Key)
            << QByteArray();
    QTest::newRow("duplicate protocol: after the path")
            << upgradeRequest({}, {{"Sec-WebSocket-Protocol", "a, a"}}) << true << int(Reason::None)
            << int(Reason::Protocol) << QByteArray();
    QTest::newRow("unacceptable offer: after the path")
            << upgradeRequest({}, {{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=7"}})
            << true << int(Reason::None) << int(Reason::Extensions) << QByteArray();
    QTest::newRow("offer not read without deflate")
            << upgradeRequest({}, {{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=7"}})
            << false << int(Reason::None) << int(Reason::None) << QByteArray();
}

void tst_Handshake::serverStages()
{
    QFETCH(QByteArray, request);
    QFETCH(bool, deflateOn);
    QFETCH(int, beforePath);
    QFETCH(int, negotiated);
    QFETCH(QByteArray, extensions);

    const std::optional<WsDeflateOptions> deflate =
            deflateOn ? std::optional<WsDeflateOptions>(WsDeflateOptions()) : std::nullopt;
    ServerHandshake handshake(parseRequest(request), deflate);
    QCOMPARE(int(handshake.refusalBeforePath().reason), beforePath);
    const HandshakeRejection rejection = handshake.negotiate();
    QCOMPARE(int(rejection.reason), negotiated);
    if (!PerMessageDeflate::isAvailable() && !extensions.isEmpty())
        QSKIP("a build without zlib agrees on no extension");
    QCOMPARE(handshake.extensions(), extensions);
    QCOMPARE(bool(handshake.deflate()), !extensions.isEmpty());
    QCOMPARE(handshake.offerRefusal().isEmpty(), negotiated != int(HandshakeRejection::Reason::Extensions));
    if (rejection.isRejected())
        return;
    const QList<QByteArray> lines = handshake.acceptLines("chat");
    QCOMPARE(lines.first(), QByteArray("HTTP/1.1 101 Switching Protocols"));
    QVERIFY(lines.contains("Sec-WebSocket-Protocol: chat"));
    QVERIFY(lines.contains("Sec-WebSocket-Accept: " + kAccept));
    QCOMPARE(lines.contains("Sec-WebSocket-Extensions: " + extensions), !extensions.isEmpty());
}

QTEST_APPLESS_MAIN(tst_Handshake)

#include "tst_handshake.moc"
