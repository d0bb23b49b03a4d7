#include "testsupport.h"

#include <core/http.h>

#include <QtTest/qtest.h>

using namespace wsqt::core;
using wsqt::test::readVector;

namespace {

using Kind = HttpHeadParser::Kind;
using Status = HttpHeadParser::Status;

// Everything a parse produced, so that two parses can be compared whole.
struct Outcome
{
    Status status = Status::NeedMore;
    qsizetype consumed = 0;
    int errorStatus = 0;
    QString errorMessage;
    WsHttpRequest request;
    WsHttpResponse response;

    bool operator==(const Outcome &o) const
    {
        return status == o.status && consumed == o.consumed && errorStatus == o.errorStatus
                && errorMessage == o.errorMessage && request.method == o.request.method
                && request.target == o.request.target && request.version == o.request.version
                && request.headers == o.request.headers && response.statusCode == o.response.statusCode
                && response.reasonPhrase == o.response.reasonPhrase
                && response.version == o.response.version && response.headers == o.response.headers;
    }
};

// Feeds `data` in pieces that end at `cuts`, as a socket would deliver it,
// each time offering everything not yet consumed plus the next piece.
Outcome parseInPieces(Kind kind, const QByteArray &data, const QList<qsizetype> &cuts,
                      const HttpLimits &limits = {})
{
    HttpHeadParser parser(kind, limits);
    Outcome outcome;
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        const qsizetype used = parser.feed(data.constData() + from, cut - from);
        outcome.consumed += used;
        from += used;
        if (parser.status() != Status::NeedMore)
            break;
        // A parser that needs more has taken every byte it was given.
        if (from != cut)
            return {};
    }
    outcome.status = parser.status();
    outcome.errorStatus = parser.errorStatus();
    outcome.errorMessage = parser.errorMessage();
    outcome.request = parser.request();
    outcome.response = parser.response();
    return outcome;
}

Outcome parseWhole(Kind kind, const QByteArray &data, const HttpLimits &limits = {})
{
    return parseInPieces(kind, data, {data.size()}, limits);
}

Outcome parseByteByByte(Kind kind, const QByteArray &data, const HttpLimits &limits = {})
{
    QList<qsizetype> cuts;
    for (qsizetype i = 1; i <= data.size(); ++i)
        cuts.append(i);
    return parseInPieces(kind, data, cuts, limits);
}

QByteArray crlf(const char *text)
{
    return QByteArray(text).replace("\n", "\r\n");
}

QByteArray requestWithHeaders(int count, int valueLength = 1)
{
    QByteArray head = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < count; ++i)
        head += "X-" + QByteArray::number(i) + ": " + QByteArray(valueLength, 'v') + "\r\n";
    return head + "\r\n";
}

} // namespace

class tst_Http : public QObject
{
    Q_OBJECT

private slots:
    void request_data();
    void request();
    void response_data();
    void response();
    void malformed_data();
    void malformed();
    void everyChunking_data();
    void everyChunking();
    void leavesBytesAfterHead();
    void lenientWhereHttpAllows();
    void limits_data();
    void limits();
    void headerFlood();
    void endlessHead();
    void linearWhateverTheChunking();
    void reasonPhrase_data();
    void reasonPhrase();
    void headerList_data();
    void headerList();
    void tokenCharacters();
    void chunkedBody_data();
    void chunkedBody();
};

void tst_Http::request_data()
{
    QTest::addColumn<QString>("vector");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("version");
    QTest::addColumn<WsHttpHeaders>("headers");

    QTest::newRow("RFC 6455 §1.3 request")
            << "rfc6455-request.http" << QByteArray("GET") << QByteArray("/chat") << QByteArray("HTTP/1.1")
            << WsHttpHeaders{{"Host", "server.example.com"},
                             {"Upgrade", "websocket"},
                             {"Connection", "Upgrade"},
                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                             {"Origin", "http://example.com"},
                             {"Sec-WebSocket-Protocol", "chat, superchat"},
                             {"Sec-WebSocket-Version", "13"}};
    QTest::newRow("ws 8 client")
            << "ws-client-request.http" << QByteArray("GET") << QByteArray("/path?q=1") << QByteArray("HTTP/1.1")
            << WsHttpHeaders{{"Sec-WebSocket-Version", "13"},
                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                             {"Connection", "Upgrade"},
                             {"Upgrade", "websocket"},
                             {"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"},
                             {"Host", "127.0.0.1:8080"}};
    QTest::newRow("OWS trimmed")
            << "request-keepalive-upgrade.http" << QByteArray("GET") << QByteArray("/socket")
            << QByteArray("HTTP/1.1")
            << WsHttpHeaders{{"Host", "example.org"},
                             {"User-Agent", "Mozilla/5.0"},
                             {"Connection", "keep-alive, Upgrade"},
                             {"Upgrade", "WebSocket"},
                             {"Sec-WebSocket-Version", "13"},
                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                             {"Sec-WebSocket-Extensions", "permessage-deflate"},
                             {"Pragma", "no-cache"}};
    QTest::newRow("HTTP/1.0 parses") << "request-http10.http" << QByteArray("GET") << QByteArray("/")
                                     << QByteArray("HTTP/1.0")
                                     << WsHttpHeaders{{"Host", "example.org"},
                                                      {"Upgrade", "websocket"},
                                                      {"Connection", "Upgrade"},
                                                      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                                      {"Sec-WebSocket-Version", "13"}};
    QTest::newRow("POST parses") << "request-post.http" << QByteArray("POST") << QByteArray("/")
                                 << QByteArray("HTTP/1.1")
                                 << WsHttpHeaders{{"Host", "example.org"},
                                                  {"Upgrade", "websocket"},
                                                  {"Connection", "Upgrade"},
                                                  {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                                  {"Sec-WebSocket-Version", "13"}};
}

void tst_Http::request()
{
    QFETCH(QString, vector);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, version);
    QFETCH(WsHttpHeaders, headers);

    const QByteArray data = readVector(QStringLiteral("handshake/") + vector);
    const Outcome outcome = parseWhole(Kind::Request, data);
    QCOMPARE(outcome.status, Status::Complete);
    QCOMPARE(outcome.consumed, data.indexOf("\r\n\r\n") + 4);
    QCOMPARE(outcome.request.method, method);
    QCOMPARE(outcome.request.target, target);
    QCOMPARE(outcome.request.version, version);
    QCOMPARE(outcome.request.headers, headers);
    QCOMPARE(outcome.errorStatus, 0);
}

void tst_Http::response_data()
{
    QTest::addColumn<QString>("vector");
    QTest::addColumn<int>("statusCode");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<WsHttpHeaders>("headers");

    QTest::newRow("RFC 6455 §1.3 response")
            << "rfc6455-response.http" << 101 << QByteArray("Switching Protocols")
            << WsHttpHeaders{{"Upgrade", "websocket"},
                             {"Connection", "Upgrade"},
                             {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                             {"Sec-WebSocket-Protocol", "chat"}};
    QTest::newRow("ws 8 server") << "ws-server-response.http" << 101 << QByteArray("Switching Protocols")
                                 << WsHttpHeaders{{"Upgrade", "websocket"},
                                                  {"Connection", "Upgrade"},
                                                  {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                                                  {"Sec-WebSocket-Protocol", "chat"},
                                                  {"Sec-WebSocket-Extensions", "permessage-deflate"}};
    QTest::newRow("no reason phrase") << "response-no-reason.http" << 101 << QByteArray()
                                      << WsHttpHeaders{{"Connection", "Upgrade"},
                                                       {"Upgrade", "websocket"},
                                                       {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}};
    QTest::newRow("ws refusal, body left") << "response-400.http" << 400 << QByteArray("Bad Request")
                                           << WsHttpHeaders{{"Connection", "close"},
                                                            {"Content-Type", "text/html"},
                                                            {"Content-Length", "22"}};
}

void tst_Http::response()
{
    QFETCH(QString, vector);
    QFETCH(int, statusCode);
    QFETCH(QByteArray, reason);
    QFETCH(WsHttpHeaders, headers);

    const QByteArray data = readVector(QStringLiteral("handshake/") + vector);
    const Outcome outcome = parseWhole(Kind::Response, data);
    QCOMPARE(outcome.status, Status::Complete);
    QCOMPARE(outcome.consumed, data.indexOf("\r\n\r\n") + 4);
    QCOMPARE(outcome.response.statusCode, statusCode);
    QCOMPARE(outcome.response.reasonPhrase, reason);
    QCOMPARE(outcome.response.version, QByteArray("HTTP/1.1"));
    QCOMPARE(outcome.response.headers, headers);
}

void tst_Http::malformed_data()
{
    // The messages are those Node's HTTP parser (llhttp) gives for the same bytes.
    QTest::addColumn<bool>("isRequest");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("errorStatus");
    QTest::addColumn<QString>("message");

    const auto request = [](const char *name, const QByteArray &data, const char *message) {
        QTest::newRow(name) << true << data << 400 << QString::fromLatin1(message);
    };
    const auto response = [](const char *name, const QByteArray &data, const char *message) {
        QTest::newRow(name) << false << data << 0 << QString::fromLatin1(message);
    };

    request("bare LF after request line", "GET / HTTP/1.1\nHost: a\n\n", "Parse Error: Expected CRLF after version");
    request("bare LF after header", crlf("GET / HTTP/1.1\nHost: a").append("\n\r\n"),
            "Parse Error: Missing expected CR after header value");
    request("bare LF ends head", crlf("GET / HTTP/1.1\nHost: a\n").append("\n"),
            "Parse Error: Invalid header field char");
    request("bad method char", crlf("G(T / HTTP/1.1\n\n"), "Parse Error: Invalid method encountered");
    request("method alone", crlf("GET\n\n"), "Parse Error: Expected space after method");
    request("control char in target", crlf("GET /a\x01z HTTP/1.1\n\n"), "Parse Error: Invalid char in url path");
    request("DEL in target", crlf("GET /a\x7fz HTTP/1.1\n\n"), "Parse Error: Invalid char in url path");
    request("two spaces before target", crlf("GET  / HTTP/1.1\n\n"), "Parse Error: Invalid char in url path");
    request("no version", crlf("GET /\n\n"), "Parse Error: Expected HTTP/, RTSP/ or ICE/");
    request("not HTTP", crlf("GET / XTTP/1.1\n\n"), "Parse Error: Expected HTTP/, RTSP/ or ICE/");
    request("HTTP/1.2", crlf("GET / HTTP/1.2\n\n"), "Parse Error: Invalid HTTP version");
    request("HTTP/2.0", crlf("GET / HTTP/2.0\n\n"), "Parse Error: Invalid HTTP version");
    request("HTTP/1", crlf("GET / HTTP/1\n\n"), "Parse Error: Invalid HTTP version");
    request("junk after version", crlf("GET / HTTP/1.1x\n\n"), "Parse Error: Expected CRLF after version");
    request("space after version", crlf("GET / HTTP/1.1 \n\n"), "Parse Error: Expected CRLF after version");
    request("CR inside request line", crlf("GET / HTTP/1.1\rX\n\n"), "Parse Error: Expected CRLF after version");
    request("obs-fold", readVector(QStringLiteral("handshake/request-obs-fold.http")),
            "Parse Error: Unexpected whitespace after header value");
    request("space after start line", crlf("GET / HTTP/1.1\n b\nHost: a\n\n"),
            "Parse Error: Unexpected space after start line");
    request("space before colon", readVector(QStringLiteral("handshake/request-space-before-colon.http")),
            "Parse Error: Invalid header token");
    request("no colon", crlf("GET / HTTP/1.1\nHost a\n\n"), "Parse Error: Invalid header token");
    request("empty name", crlf("GET / HTTP/1.1\n: a\n\n"), "Parse Error: Invalid header token");
    request("bad name char", crlf("GET / HTTP/1.1\nHo@st: a\n\n"), "Parse Error: Invalid header token");
    request("non-ASCII name", crlf("GET / HTTP/1.1\nX-\xc3\xa9: a\n\n"), "Parse Error: Invalid header token");
    request("NUL in value", readVector(QStringLiteral("handshake/request-nul-in-value.http")),
            "Parse Error: Invalid header value char");
    request("DEL in value", crlf("GET / HTTP/1.1\nX: a\x7f\n\n"), "Parse Error: Invalid header value char");
    request("control char in value", crlf("GET / HTTP/1.1\nX: a\x01\n\n"), "Parse Error: Invalid header value char");
    request("CR inside value", crlf("GET / HTTP/1.1\nX: a\rb\n\n"), "Parse Error: Missing expected LF after header value");
    request("CR CR LF ends head", crlf("GET / HTTP/1.1\n\r\n"), "Parse Error: Expected LF after headers");
    request("bare LF vector", readVector(QStringLiteral("handshake/request-bare-lf.http")),
            "Parse Error: Expected CRLF after version");

    response("bare LF after status line", readVector(QStringLiteral("handshake/response-bare-lf.http")),
             "Parse Error: Missing expected CR after response line");
    response("lower-case version", crlf("http/1.1 101 X\n\n"), "Parse Error: Expected HTTP/, RTSP/ or ICE/");
    response("bad version", crlf("HTTP/3.0 101 X\n\n"), "Parse Error: Invalid HTTP version");
    response("junk after version", crlf("HTTP/1.1x 101 X\n\n"), "Parse Error: Expected space after version");
    response("version alone", crlf("HTTP/1.1\n\n"), "Parse Error: Expected space after version");
    response("two-digit status", crlf("HTTP/1.1 10 X\n\n"), "Parse Error: Invalid status code");
    response("letters for status", crlf("HTTP/1.1 abc X\n\n"), "Parse Error: Invalid status code");
    response("two spaces before status", crlf("HTTP/1.1  101 X\n\n"), "Parse Error: Invalid status code");
    response("four-digit status", readVector(QStringLiteral("handshake/response-bad-status.http")),
             "Parse Error: Invalid response status");
    response("CR inside reason", crlf("HTTP/1.1 101 X\rY\n\n"), "Parse Error: Missing expected LF after response line");
    response("space after status line", crlf("HTTP/1.1 101 X\n\tX: a\n\n"), "Parse Error: Invalid header token");
    response("obs-fold", crlf("HTTP/1.1 101 X\nX: a\n\tb\n\n"), "Parse Error: Unexpected whitespace after header value");
    response("space before colon", crlf("HTTP/1.1 101 X\nSec-WebSocket-Accept : x\n\n"),
             "Parse Error: Invalid header token");
    response("NUL in value", crlf("HTTP/1.1 101 X\nX-A: a@z\n\n").replace('@', '\0'),
             "Parse Error: Invalid header value char");
}

void tst_Http::malformed()
{
    QFETCH(bool, isRequest);
    QFETCH(QByteArray, data);
    QFETCH(int, errorStatus);
    QFETCH(QString, message);

    const Outcome outcome = parseWhole(isRequest ? Kind::Request : Kind::Response, data);
    QCOMPARE(outcome.status, Status::Failed);
    QCOMPARE(outcome.errorStatus, errorStatus);
    QCOMPARE(outcome.errorMessage, message);
}

void tst_Http::everyChunking_data()
{
    QTest::addColumn<QString>("vector");
    QTest::addColumn<bool>("isRequest");
    QTest::addColumn<Status>("expected");

    const QStringList requests = {
        QStringLiteral("rfc6455-request.http"),          QStringLiteral("ws-client-request.http"),
        QStringLiteral("request-keepalive-upgrade.http"), QStringLiteral("request-version-8.http"),
        QStringLiteral("request-http10.http"),            QStringLiteral("request-post.http"),
        QStringLiteral("request-bad-key.http"),           QStringLiteral("request-version-12.http"),
    };
    const QStringList badRequests = {
        QStringLiteral("request-bare-lf.http"),          QStringLiteral("request-obs-fold.http"),
        QStringLiteral("request-space-before-colon.http"), QStringLiteral("request-nul-in-value.http"),
    };
    const QStringList responses = {
        QStringLiteral("rfc6455-response.http"), QStringLiteral("ws-server-response.http"),
        QStringLiteral("response-400.http"),     QStringLiteral("response-no-reason.http"),
    };
    const QStringList badResponses = {QStringLiteral("response-bare-lf.http"),
                                      QStringLiteral("response-bad-status.http")};
    for (const QString &name : requests)
        QTest::newRow(qPrintable(name)) << name << true << Status::Complete;
    for (const QString &name : badRequests)
        QTest::newRow(qPrintable(name)) << name << true << Status::Failed;
    for (const QString &name : responses)
        QTest::newRow(qPrintable(name)) << name << false << Status::Complete;
    for (const QString &name : badResponses)
        QTest::newRow(qPrintable(name)) << name << false << Status::Failed;
}

void tst_Http::everyChunking()
{
    QFETCH(QString, vector);
    QFETCH(bool, isRequest);
    QFETCH(Status, expected);

    const Kind kind = isRequest ? Kind::Request : Kind::Response;
    const QByteArray data = readVector(QStringLiteral("handshake/") + vector);
    const Outcome whole = parseWhole(kind, data);
    QCOMPARE(whole.status, expected);

    for (qsizetype split = 0; split <= data.size(); ++split) {
        const Outcome two = parseInPieces(kind, data, {split, data.size()});
        if (!(two == whole))
            QFAIL(qPrintable(QStringLiteral("split at %1 differs").arg(split)));
    }
    QVERIFY(parseByteByByte(kind, data) == whole);
}

void tst_Http::leavesBytesAfterHead()
{
    // The frame behind the head belongs to the WebSocket, however the bytes arrive.
    const QByteArray data = readVector(QStringLiteral("handshake/ws-client-request.http"));
    const QByteArray frame = wsqt::test::hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    QVERIFY(data.endsWith(frame));

    HttpHeadParser parser(Kind::Request);
    QCOMPARE(parser.feed(data.constData(), data.size()), data.size() - frame.size());
    QCOMPARE(parser.status(), Status::Complete);
    QCOMPARE(parser.feed(frame.constData(), frame.size()), 0);

    const QByteArray response = readVector(QStringLiteral("handshake/response-400.http"));
    HttpHeadParser client(Kind::Response);
    const qsizetype used = client.feed(response.constData(), response.size());
    QCOMPARE(response.mid(used), QByteArray("Invalid Upgrade header"));
}

void tst_Http::lenientWhereHttpAllows()
{
    // Empty lines before the start line, empty values, obs-text in values,
    // names spelled as sent, and a reason phrase kept as sent.
    const Outcome request = parseWhole(
            Kind::Request, crlf("\n\nGET * HTTP/1.1\nx-EMPTY:\nX-Spaces: \t \nX-Latin1: caf\xe9 \t\n\n"));
    QCOMPARE(request.status, Status::Complete);
    QCOMPARE(request.request.target, QByteArray("*"));
    QCOMPARE(request.request.headers.fields().at(0).first, QByteArray("x-EMPTY"));
    QVERIFY(request.request.headers.contains("X-EMPTY"));
    QVERIFY(!request.request.headers.value("x-empty").isNull());
    QCOMPARE(request.request.headers.value("x-empty"), QByteArray(""));
    QCOMPARE(request.request.headers.value("X-Spaces"), QByteArray(""));
    QCOMPARE(request.request.headers.value("X-Latin1"), QByteArray("caf\xe9"));

    const Outcome response = parseWhole(Kind::Response, crlf("HTTP/1.0 200 Fine  thanks \nA:b\n\n"));
    QCOMPARE(response.status, Status::Complete);
    QCOMPARE(response.response.version, QByteArray("HTTP/1.0"));
    QCOMPARE(response.response.statusCode, 200);
    QCOMPARE(response.response.reasonPhrase, QByteArray("Fine  thanks "));
    QCOMPARE(response.response.headers.value("a"), QByteArray("b"));
}

void tst_Http::limits_data()
{
    QTest::addColumn<bool>("isRequest");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<Status>("status");
    QTest::addColumn<int>("errorStatus");
    QTest::addColumn<QString>("message");

    // Limits: lines of 32 bytes, 3 fields, heads of 128 bytes.
    const QString overflow = QStringLiteral("Parse Error: Header overflow");
    const QByteArray target30 = "/" + QByteArray(15, 'a');             // "GET " + 16 + " HTTP/1.1" = 29
    QTest::newRow("request line at the limit")
            << true << "GET " + target30 + "abc HTTP/1.1\r\n\r\n" << Status::Complete << 0 << QString();
    QTest::newRow("bad-inputs 2: request line over the limit: 414")
            << true << "GET " + target30 + "abcd HTTP/1.1\r\n\r\n" << Status::Failed << 414
            << QStringLiteral("Request line too long");
    QTest::newRow("request line over the limit, no LF yet: 414")
            << true << "GET " + target30 + "abcd HTTP/1.1\r" << Status::Failed << 414
            << QStringLiteral("Request line too long");
    QTest::newRow("header line at the limit")
            << true << "GET / HTTP/1.1\r\nX: " + QByteArray(29, 'v') + "\r\n\r\n" << Status::Complete << 0
            << QString();
    QTest::newRow("bad-inputs 2: header line over the limit: 431")
            << true << "GET / HTTP/1.1\r\nX: " + QByteArray(30, 'v') + "\r\n\r\n" << Status::Failed << 431
            << overflow;
    QTest::newRow("header line over the limit, no LF yet: 431")
            << true << "GET / HTTP/1.1\r\nX: " + QByteArray(31, 'v') << Status::Failed << 431 << overflow;
    QTest::newRow("fields at the limit") << true << requestWithHeaders(3) << Status::Complete << 0 << QString();
    QTest::newRow("bad-inputs 1: one field too many: 431") << true << requestWithHeaders(4) << Status::Failed << 431
                                             << QStringLiteral("Too many header fields");
    // Three fields of 30 bytes and the final CRLF: 98 bytes; the request line takes 30.
    const QByteArray fields = requestWithHeaders(3, 25).mid(16);
    QTest::newRow("head at the limit") << true << "GET /" + QByteArray(14, 'p') + " HTTP/1.1\r\n" + fields
                                       << Status::Complete << 0 << QString();
    QTest::newRow("bad-inputs 2: no CRLFCRLF within the head limit: 431") << true << "GET /" + QByteArray(15, 'p') + " HTTP/1.1\r\n" + fields
                                              << Status::Failed << 431 << overflow;
    QTest::newRow("bad-inputs 8: status line over the limit")
            << false << "HTTP/1.1 101 " + QByteArray(20, 'r') + "\r\n\r\n" << Status::Failed << 0 << overflow;
    QTest::newRow("bad-inputs 8: no CRLFCRLF within the response limit")
            << false << "HTTP/1.1 101 " + QByteArray(19, 'r') + "\r\n" + fields << Status::Failed << 0 << overflow;
}

void tst_Http::limits()
{
    QFETCH(bool, isRequest);
    QFETCH(QByteArray, data);
    QFETCH(Status, status);
    QFETCH(int, errorStatus);
    QFETCH(QString, message);

    HttpLimits limits;
    limits.maxLineLength = 32;
    limits.maxHeaderCount = 3;
    limits.maxHeadSize = 128;
    const Kind kind = isRequest ? Kind::Request : Kind::Response;
    for (const Outcome &outcome : {parseWhole(kind, data, limits), parseByteByByte(kind, data, limits)}) {
        QCOMPARE(outcome.status, status);
        QCOMPARE(outcome.errorStatus, errorStatus);
        QCOMPARE(outcome.errorMessage, message);
        QVERIFY(outcome.consumed <= limits.maxHeadSize);
    }
}

void tst_Http::headerFlood()
{
    // bad-inputs 1: 10 000 header lines get 431, whatever the chunking.
    const QByteArray flood = requestWithHeaders(10000);
    for (const Outcome &outcome : {parseWhole(Kind::Request, flood), parseByteByByte(Kind::Request, flood)}) {
        QCOMPARE(outcome.status, Status::Failed);
        QCOMPARE(outcome.errorStatus, 431);
        QCOMPARE(outcome.errorMessage, QStringLiteral("Too many header fields"));
        QVERIFY(outcome.consumed < flood.size());
    }

    // With no field limit, the head size limit answers.
    HttpLimits noCount;
    noCount.maxHeaderCount = 1000000;
    const Outcome sized = parseWhole(Kind::Request, flood, noCount);
    QCOMPARE(sized.status, Status::Failed);
    QCOMPARE(sized.errorStatus, 431);
    QCOMPARE(sized.errorMessage, QStringLiteral("Parse Error: Header overflow"));
    QVERIFY(sized.consumed <= noCount.maxHeadSize);
}

void tst_Http::endlessHead()
{
    // bad-inputs 2 and 8: a line that never ends and a head that never ends,
    // trickled in; each fails within its limit and then takes nothing more.
    const QByteArray chunk(1024, 'a');
    HttpHeadParser line(Kind::Request);
    QCOMPARE(line.feed("GET /", 5), 5);
    qsizetype taken = 5;
    for (int i = 0; i < 10000 && line.status() == Status::NeedMore; ++i)
        taken += line.feed(chunk.constData(), chunk.size());
    QCOMPARE(line.status(), Status::Failed);
    QCOMPARE(line.errorStatus(), 414);
    QVERIFY(taken <= HttpLimits().maxLineLength + 2);
    QCOMPARE(line.feed(chunk.constData(), chunk.size()), 0);

    HttpLimits unlimitedCount;
    unlimitedCount.maxHeaderCount = 1000000;
    HttpHeadParser client(Kind::Response, unlimitedCount);
    const QByteArray start = "HTTP/1.1 101 Switching Protocols\r\n";
    client.feed(start.constData(), start.size());
    const QByteArray field = "X-Pad: " + QByteArray(50, 'p') + "\r\n";
    qsizetype fed = start.size();
    for (int i = 0; i < 100000 && client.status() == Status::NeedMore; ++i) {
        for (char c : field) {
            fed += client.feed(&c, 1);
            if (client.status() != Status::NeedMore)
                break;
        }
    }
    QCOMPARE(client.status(), Status::Failed);
    QCOMPARE(client.errorStatus(), 0);
    QCOMPARE(client.errorMessage(), QStringLiteral("Parse Error: Header overflow"));
    QVERIFY(fed <= unlimitedCount.maxHeadSize);
    QCOMPARE(client.feed("\r\n\r\n", 4), 0);
}

void tst_Http::linearWhateverTheChunking()
{
    // A 4 MiB field trickled in one byte at a time (tungstenite's
    // CVE-2023-43669): a parser that went back over the partial line on each
    // feed would do 10^13 steps and never finish within the test's time.
    HttpLimits wide;
    wide.maxLineLength = 8 << 20;
    wide.maxHeadSize = 8 << 20;
    const QByteArray data = "GET / HTTP/1.1\r\nX-Long: " + QByteArray(4 << 20, 'x') + "\r\n\r\n";
    HttpHeadParser parser(Kind::Request, wide);
    qsizetype used = 0;
    for (qsizetype i = 0; i < data.size() && parser.status() == Status::NeedMore; ++i)
        used += parser.feed(data.constData() + i, 1);
    QCOMPARE(parser.status(), Status::Complete);
    QCOMPARE(used, data.size());
    QCOMPARE(parser.request().headers.value("x-long").size(), 4 << 20);
}

void tst_Http::reasonPhrase_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("phrase");

    // Node's http.STATUS_CODES.
    const QList<QPair<int, const char *>> codes = {
            {101, "Switching Protocols"}, {200, "OK"}, {301, "Moved Permanently"}, {302, "Found"},
            {303, "See Other"}, {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
            {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
            {405, "Method Not Allowed"}, {408, "Request Timeout"}, {413, "Payload Too Large"},
            {414, "URI Too Long"}, {418, "I'm a Teapot"}, {426, "Upgrade Required"},
            {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
            {500, "Internal Server Error"}, {501, "Not Implemented"}, {503, "Service Unavailable"},
            {505, "HTTP Version Not Supported"}, {511, "Network Authentication Required"},
            {299, "unknown"}, {599, "unknown"}, {0, "unknown"}};
    for (const auto &[status, phrase] : codes)
        QTest::newRow(qPrintable(QString::number(status))) << status << QByteArray(phrase);
}

void tst_Http::reasonPhrase()
{
    QFETCH(int, status);
    QFETCH(QByteArray, phrase);
    QCOMPARE(httpReasonPhrase(status), phrase);
}

void tst_Http::headerList_data()
{
    QTest::addColumn<QByteArray>("list");
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("contains");

    QTest::newRow("alone") << QByteArray("Upgrade") << QByteArray("upgrade") << true;
    QTest::newRow("second, OWS") << QByteArray("keep-alive, Upgrade") << QByteArray("upgrade") << true;
    QTest::newRow("tabs and empties") << QByteArray(",\tUPGRADE\t ,") << QByteArray("upgrade") << true;
    QTest::newRow("no comma") << QByteArray("keep-alive Upgrade") << QByteArray("upgrade") << false;
    QTest::newRow("prefix") << QByteArray("Upgradex") << QByteArray("upgrade") << false;
    QTest::newRow("part") << QByteArray("grade") << QByteArray("upgrade") << false;
    QTest::newRow("empty") << QByteArray() << QByteArray("upgrade") << false;
    QTest::newRow("semicolon") << QByteArray("upgrade;q=1") << QByteArray("upgrade") << false;
}

void tst_Http::headerList()
{
    QFETCH(QByteArray, list);
    QFETCH(QByteArray, token);
    QFETCH(bool, contains);
    QCOMPARE(headerListContains(list, token), contains);
}

void tst_Http::tokenCharacters()
{
    const QByteArray tchar = "!#$%&'*+-.^_`|~0123456789"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (int c = 0; c < 256; ++c)
        QCOMPARE(isTokenChar(uchar(c)), tchar.contains(char(c)));
    QVERIFY(isToken("permessage-deflate"));
    QVERIFY(!isToken(""));
    QVERIFY(!isToken("a b"));
    QVERIFY(!isToken("a\r\n"));
}

void tst_Http::chunkedBody_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<bool>("complete");
    QTest::addColumn<bool>("malformed");
    QTest::addColumn<QByteArray>("body");

    QTest::newRow("two chunks") << QByteArray("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") << true << false
                                << QByteArray("hello world");
    QTest::newRow("upper-case hex, extension") << QByteArray("A;name=x\r\n0123456789\r\n0\r\n\r\n") << true
                                               << false << QByteArray("0123456789");
    QTest::newRow("empty") << QByteArray("0\r\n\r\n") << true << false << QByteArray();
    QTest::newRow("last chunk missing") << QByteArray("5\r\nhello\r\n") << false << false << QByteArray("hello");
    QTest::newRow("chunk cut short") << QByteArray("5\r\nhel") << false << false << QByteArray();
    QTest::newRow("size line cut short") << QByteArray("5") << false << false << QByteArray();
    QTest::newRow("not hex") << QByteArray("zz\r\nhello\r\n") << false << true << QByteArray();
    QTest::newRow("no CRLF after the data") << QByteArray("2\r\nhiXX0\r\n\r\n") << false << true
                                             << QByteArray("hi");
}

void tst_Http::chunkedBody()
{
    QFETCH(QByteArray, raw);
    QFETCH(bool, complete);
    QFETCH(bool, malformed);
    QFETCH(QByteArray, body);

    QByteArray decoded;
    bool isMalformed = true;
    QCOMPARE(wsqt::core::decodeChunkedBody(raw, &decoded, &isMalformed), complete);
    QCOMPARE(isMalformed, malformed);
    QCOMPARE(decoded, body);
}

QTEST_APPLESS_MAIN(tst_Http)

#include "tst_http.moc"
