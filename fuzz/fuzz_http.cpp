// The HTTP head parser and the handshake checks on what it parses. However the
// bytes arrive the parser ends the same way, takes nothing past the head, and
// what it completes stays within its limits. An upgrade request is accepted
// or refused with 400 or 405; an accepted one gets a 101 that a client
// verifies, a refused one an error response that parses. A response is
// accepted only as a 101 that fits the request.
//
// Input: [options][chunking seed][bytes]. The options byte:
//   bit 0  parse a response (else a request)
//   bit 1  small limits: lines of 64 bytes, 4 fields, heads of 256 bytes
//   bit 2  a server without permessage-deflate (Sec-WebSocket-Extensions not read)
//   bit 3  the client asked for the subprotocols chat and superchat
//   bit 4  the client offered permessage-deflate

#include "fuzzsupport.h"

#include <wsqt/core/handshake.h>
#include <wsqt/core/http.h>
#include <wsqt/core/permessagedeflate.h>
#include <wsqt/core/subprotocol.h>

using namespace wsqt::core;
using namespace wsqt::fuzz;

namespace {

// The key of RFC 6455 §1.3, for which the vectors hold the right accept value.
const char kKey[] = "dGhlIHNhbXBsZSBub25jZQ==";

struct Config
{
    HttpHeadParser::Kind kind = HttpHeadParser::Kind::Request;
    HttpLimits limits;
    bool withExtensions = true;
    QList<QByteArray> protocols;
    QList<QByteArray> offeredExtensions;
};

Config parseConfig(uint8_t byte)
{
    Config config;
    if (byte & 0x01)
        config.kind = HttpHeadParser::Kind::Response;
    if (byte & 0x02)
        config.limits = {64, 4, 256};
    config.withExtensions = !(byte & 0x04);
    if (byte & 0x08)
        config.protocols = {"chat", "superchat"};
    if (byte & 0x10)
        config.offeredExtensions = {kPerMessageDeflate};
    return config;
}

bool isFieldValueChar(uchar c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

void checkHeaders(const WsHttpHeaders &headers, const HttpLimits &limits)
{
    FUZZ_CHECK(headers.size() <= limits.maxHeaderCount);
    for (const WsHttpHeaders::Field &field : headers.fields()) {
        FUZZ_CHECK(isToken(field.first));
        const QByteArray &value = field.second;
        FUZZ_CHECK(!value.isNull());
        for (char c : value)
            FUZZ_CHECK(isFieldValueChar(uchar(c)));
        // Surrounding whitespace is not part of the value.
        if (!value.isEmpty()) {
            FUZZ_CHECK(value.front() != ' ' && value.front() != '\t');
            FUZZ_CHECK(value.back() != ' ' && value.back() != '\t');
        }
        FUZZ_CHECK(field.first.size() + 1 + value.size() <= limits.maxLineLength);
    }
}

struct Parsed
{
    HttpHeadParser::Status status;
    qsizetype consumed;
    int errorStatus;
    QString errorMessage;
    WsHttpRequest request;
    WsHttpResponse response;
};

bool operator==(const WsHttpRequest &a, const WsHttpRequest &b)
{
    return a.method == b.method && a.target == b.target && a.version == b.version && a.headers == b.headers;
}

bool operator==(const WsHttpResponse &a, const WsHttpResponse &b)
{
    return a.statusCode == b.statusCode && a.reasonPhrase == b.reasonPhrase && a.version == b.version
            && a.headers == b.headers && a.body == b.body;
}

// Feeds `data` in chunks (one chunk when `random` is null), checking what
// each feed() takes.
Parsed parse(const Config &config, const QByteArray &data, Random *random)
{
    HttpHeadParser parser(config.kind, config.limits);
    qsizetype consumed = 0;
    qsizetype pos = 0;
    while (pos < data.size()) {
        const qsizetype n = random ? random->chunk(data.size() - pos) : data.size() - pos;
        const bool wasRunning = parser.status() == HttpHeadParser::Status::NeedMore;
        const qsizetype used = parser.feed(data.constData() + pos, n);
        FUZZ_CHECK(used >= 0 && used <= n);
        if (!wasRunning)
            FUZZ_CHECK(used == 0);      // after Complete or Failed it takes nothing
        else if (parser.status() == HttpHeadParser::Status::NeedMore)
            FUZZ_CHECK(used == n);      // a head not yet ended takes everything
        consumed += used;
        pos += n;
    }
    return {parser.status(), consumed, parser.errorStatus(), parser.errorMessage(),
            parser.request(), parser.response()};
}

void checkParsed(const Config &config, const QByteArray &data, const Parsed &parsed)
{
    const HttpLimits &limits = config.limits;
    const bool isRequest = config.kind == HttpHeadParser::Kind::Request;
    switch (parsed.status) {
    case HttpHeadParser::Status::NeedMore:
        FUZZ_CHECK(parsed.consumed == data.size());
        FUZZ_CHECK(parsed.consumed <= limits.maxHeadSize);
        break;
    case HttpHeadParser::Status::Failed:
        FUZZ_CHECK(!parsed.errorMessage.isEmpty());
        if (isRequest)
            FUZZ_CHECK(parsed.errorStatus == 400 || parsed.errorStatus == 414 || parsed.errorStatus == 431);
        else
            FUZZ_CHECK(parsed.errorStatus == 0);
        break;
    case HttpHeadParser::Status::Complete:
        // The head ends with its empty line, and nothing past it was taken.
        FUZZ_CHECK(parsed.consumed <= limits.maxHeadSize);
        FUZZ_CHECK(data.left(parsed.consumed).endsWith("\r\n\r\n"));
        if (isRequest) {
            const WsHttpRequest &request = parsed.request;
            FUZZ_CHECK(isToken(request.method));
            FUZZ_CHECK(!request.target.isEmpty());
            for (char c : request.target)
                FUZZ_CHECK(uchar(c) > 0x20 && uchar(c) != 0x7f);
            FUZZ_CHECK(request.version == "HTTP/1.1" || request.version == "HTTP/1.0");
            checkHeaders(request.headers, limits);
        } else {
            const WsHttpResponse &response = parsed.response;
            FUZZ_CHECK(response.statusCode >= 0 && response.statusCode <= 999);
            FUZZ_CHECK(response.version == "HTTP/1.1" || response.version == "HTTP/1.0");
            FUZZ_CHECK(!response.reasonPhrase.contains('\r') && !response.reasonPhrase.contains('\n'));
            checkHeaders(response.headers, limits);
        }
        break;
    }
}

WsHttpResponse parseResponse(const QByteArray &head)
{
    HttpHeadParser parser(HttpHeadParser::Kind::Response);
    const qsizetype used = parser.feed(head);
    FUZZ_CHECK(parser.status() == HttpHeadParser::Status::Complete);
    WsHttpResponse response = parser.response();
    response.body = head.mid(used);
    return response;
}

// What a server does with a parsed upgrade request, and what a client makes
// of the server's answer.
void checkUpgrade(const Config &config, const WsHttpRequest &request)
{
    UpgradeRequest upgrade;
    const HandshakeRejection rejection = validateUpgradeRequest(request, &upgrade, config.withExtensions);
    if (rejection.isRejected()) {
        FUZZ_CHECK(rejection.status == 400 || rejection.status == 405);
        FUZZ_CHECK((rejection.status == 405) == (request.method != "GET"));
        FUZZ_CHECK(!rejection.message.isEmpty());
        const WsHttpResponse response =
                parseResponse(buildErrorResponse(rejection.status, rejection.message, rejection.headers));
        FUZZ_CHECK(response.statusCode == rejection.status);
        FUZZ_CHECK(response.body == rejection.message);
        FUZZ_CHECK(response.headers.value("Content-Length") == QByteArray::number(rejection.message.size()));
        return;
    }

    FUZZ_CHECK(request.method == "GET");
    FUZZ_CHECK(requestsUpgrade(request.headers));
    FUZZ_CHECK(upgrade.key.size() == 24 && upgrade.key.endsWith("=="));
    FUZZ_CHECK(upgrade.version == 13 || upgrade.version == 8);
    for (qsizetype i = 0; i < upgrade.protocols.size(); ++i) {
        FUZZ_CHECK(isValidSubprotocol(upgrade.protocols[i]));
        FUZZ_CHECK(upgrade.protocols.indexOf(upgrade.protocols[i]) == i);
    }
    if (!config.withExtensions)
        FUZZ_CHECK(upgrade.extensions.isEmpty());

    // The server answers with the first subprotocol and echoes the offers:
    // the client that made them accepts that answer.
    QList<QByteArray> offered;
    for (const ExtensionOffer &offer : std::as_const(upgrade.extensions))
        offered.append(offer.name);
    const QByteArray protocol = upgrade.protocols.value(0);
    const WsHttpResponse response = parseResponse(serializeHeaderLines(
            buildAcceptHeaderLines(upgrade.key, protocol, formatExtensions(upgrade.extensions))));
    ClientHandshakeRequest client;
    client.key = upgrade.key;
    client.protocols = upgrade.protocols;
    ClientHandshakeResult result;
    FUZZ_CHECK(!verifyServerResponse(response, client, offered, &result).isError());
    FUZZ_CHECK(result.protocol == protocol);
    FUZZ_CHECK(result.extensions == upgrade.extensions);
}

void checkResponse(const Config &config, const WsHttpResponse &response)
{
    ClientHandshakeRequest request;
    request.key = kKey;
    request.protocols = config.protocols;
    ClientHandshakeResult result;
    const WsError error = verifyServerResponse(response, request, config.offeredExtensions, &result);
    const bool upgrade = response.statusCode == 101 && requestsUpgrade(response.headers);
    FUZZ_CHECK((error.code() == WsError::UnexpectedResponse) == !upgrade);
    if (error.isError()) {
        FUZZ_CHECK(error.code() == WsError::UnexpectedResponse || error.code() == WsError::HandshakeFailed);
        FUZZ_CHECK(!error.message().isEmpty());
        return;
    }
    FUZZ_CHECK(response.headers.combinedValue("Sec-WebSocket-Accept") == computeAcceptKey(request.key));
    if (config.protocols.isEmpty())
        FUZZ_CHECK(result.protocol.isEmpty());
    else
        FUZZ_CHECK(config.protocols.contains(result.protocol));
    for (const ExtensionOffer &extension : std::as_const(result.extensions)) {
        FUZZ_CHECK(config.offeredExtensions.contains(extension.name));
        PerMessageDeflate deflate(WsDeflateOptions(), Role::Client);
        QString message;
        if (deflate.acceptResponse(extension, &message)) {
            const DeflateParams &params = deflate.params();
            for (int bits : {params.serverMaxWindowBits, params.clientMaxWindowBits})
                FUZZ_CHECK(bits == 0 || (bits >= 8 && bits <= 15));
        } else {
            FUZZ_CHECK(!message.isEmpty());
        }
    }
}

} // namespace

namespace wsqt::fuzz {

void addSeedInputs(const QString &, const QByteArray &content, QList<QByteArray> *inputs)
{
    // Each head as a request and as a response, with small limits, without
    // extensions, and against a client that asked for subprotocols and deflate.
    const uint8_t variants[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x19};
    uint8_t seed = 0;
    for (uint8_t variant : variants)
        inputs->append(QByteArray(1, char(variant)) + char(++seed) + content);
}

void addGeneratedInputs(QList<QByteArray> *inputs)
{
    ClientHandshakeRequest request;
    request.host = "example.com:8080";
    request.resource = "/chat?room=1";
    request.key = kKey;
    request.origin = "http://example.com";
    request.protocols = {"chat", "superchat"};
    request.extensionOffer = "permessage-deflate; client_max_window_bits";
    request.headers = {{"Cookie", "a=1"}, {"X-Custom", "value"}};
    inputs->append(QByteArray("\x00\x01", 2) + buildClientRequest(request));
    request.protocolVersion = 8;
    request.auth = "user:secret";
    inputs->append(QByteArray("\x00\x02", 2) + buildClientRequest(request));

    const QByteArray accept = serializeHeaderLines(
            buildAcceptHeaderLines(kKey, "chat", "permessage-deflate; server_max_window_bits=10"));
    inputs->append(QByteArray("\x19\x03", 2) + accept + "\x81\x02hi");
    inputs->append(QByteArray("\x01\x04", 2)
                   + buildErrorResponse(400, "Missing or invalid Sec-WebSocket-Version header",
                                        {{"Sec-WebSocket-Version", "13, 8"}}));
}

} // namespace wsqt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const Config config = parseConfig(input.byte());
    Random random(input.byte());
    const QByteArray bytes = input.rest();

    const Parsed whole = parse(config, bytes, nullptr);
    checkParsed(config, bytes, whole);
    const Parsed chunked = parse(config, bytes, &random);
    FUZZ_CHECK(chunked.status == whole.status);
    // After a failure the count says nothing: the connection is refused.
    if (whole.status != HttpHeadParser::Status::Failed)
        FUZZ_CHECK(chunked.consumed == whole.consumed);
    FUZZ_CHECK(chunked.errorStatus == whole.errorStatus);
    FUZZ_CHECK(chunked.errorMessage == whole.errorMessage);
    FUZZ_CHECK(chunked.request == whole.request);
    FUZZ_CHECK(chunked.response == whole.response);

    if (whole.status == HttpHeadParser::Status::Complete) {
        if (config.kind == HttpHeadParser::Kind::Request)
            checkUpgrade(config, whole.request);
        else
            checkResponse(config, whole.response);
    }
    return 0;
}
