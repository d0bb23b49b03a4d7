// The header value parsers and the permessage-deflate negotiation. What the
// parsers accept is made of tokens and reads back the same once formatted;
// an offer a server accepts gives an answer the client accepts with the same
// parameters, and the streams they set up decode each other's messages.
//
// Input: [mode][value]. The low two bits of the mode choose:
//   0  Sec-WebSocket-Protocol
//   1  Sec-WebSocket-Extensions offers, negotiated by a server whose options
//      the other bits give
//   2  a Sec-WebSocket-Extensions answer, judged by a client whose options
//      the other bits give
//   3  offers built from the value, formatted and parsed back
// For 1 and 2, bit 2: server_no_context_takeover, bit 3:
// client_no_context_takeover, bits 4-5: serverMaxWindowBits (default, none,
// 9, 15), bits 6-7: clientMaxWindowBits (default, none, 8, 12).

#include "fuzzsupport.h"

#include <wsqt/core/extension.h>
#include <wsqt/core/http.h>
#include <wsqt/core/permessagedeflate.h>
#include <wsqt/core/subprotocol.h>

using namespace wsqt::core;
using namespace wsqt::fuzz;

namespace {

WsDeflateOptions deflateOptions(uint8_t mode)
{
    const int serverBits[] = {WsDeflateOptions::DefaultWindowBits, WsDeflateOptions::NoWindowBits, 9, 15};
    const int clientBits[] = {WsDeflateOptions::DefaultWindowBits, WsDeflateOptions::NoWindowBits, 8, 12};
    WsDeflateOptions options;
    options.serverNoContextTakeover = mode & 0x04;
    options.clientNoContextTakeover = mode & 0x08;
    options.serverMaxWindowBits = serverBits[(mode >> 4) & 3];
    options.clientMaxWindowBits = clientBits[(mode >> 6) & 3];
    return options;
}

bool isWindowBits(int bits)
{
    return bits == 0 || (bits >= 8 && bits <= 15);
}

bool sameParams(const DeflateParams &a, const DeflateParams &b)
{
    return a.serverNoContextTakeover == b.serverNoContextTakeover
            && a.clientNoContextTakeover == b.clientNoContextTakeover
            && a.serverMaxWindowBits == b.serverMaxWindowBits && a.clientMaxWindowBits == b.clientMaxWindowBits;
}

void checkSubprotocols(const QByteArray &value)
{
    QList<QByteArray> protocols;
    QString error;
    const bool ok = parseSubprotocols(value, &protocols, &error);
    FUZZ_CHECK(parseSubprotocols(value, nullptr, nullptr) == ok);
    if (!ok) {
        FUZZ_CHECK(!error.isEmpty());
        return;
    }
    FUZZ_CHECK(!protocols.isEmpty());
    for (qsizetype i = 0; i < protocols.size(); ++i) {
        FUZZ_CHECK(isValidSubprotocol(protocols[i]));
        FUZZ_CHECK(protocols.indexOf(protocols[i]) == i);
    }
    for (const char *separator : {",", ", ", " ,\t"}) {
        QList<QByteArray> again;
        FUZZ_CHECK(parseSubprotocols(protocols.join(separator), &again, nullptr));
        FUZZ_CHECK(again == protocols);
    }
}

// What parseExtensions() returns is made of tokens, and formats back to itself.
void checkOffers(const QList<ExtensionOffer> &offers)
{
    FUZZ_CHECK(!offers.isEmpty());
    for (const ExtensionOffer &offer : offers) {
        FUZZ_CHECK(isToken(offer.name));
        for (const ExtensionParam &param : offer.params) {
            FUZZ_CHECK(isToken(param.name));
            FUZZ_CHECK(!param.value || isToken(*param.value));
        }
    }
    QList<ExtensionOffer> again;
    QString error;
    FUZZ_CHECK(parseExtensions(formatExtensions(offers), &again, &error));
    FUZZ_CHECK(again == offers);
}

bool parseChecked(const QByteArray &value, QList<ExtensionOffer> *offers)
{
    QString error;
    const bool ok = parseExtensions(value, offers, &error);
    FUZZ_CHECK(parseExtensions(value, nullptr, nullptr) == ok);
    if (ok)
        checkOffers(*offers);
    else
        FUZZ_CHECK(!error.isEmpty());
    return ok;
}

// Messages each way, twice so that a kept context is used, decode to what was sent.
void checkStreams(PerMessageDeflate *server, PerMessageDeflate *client, const QByteArray &seed)
{
    const QByteArray message = seed + QByteArray("permessage-deflate context ").repeated(12) + seed;
    for (int round = 0; round < 2; ++round) {
        for (PerMessageDeflate *from : {server, client}) {
            PerMessageDeflate *to = from == server ? client : server;
            QByteArray compressed;
            FUZZ_CHECK(!from->deflate(message.constData(), message.size(), true, &compressed).isError());
            QByteArray decoded;
            FUZZ_CHECK(!to->inflate(compressed.constData(), compressed.size(), true, &decoded, kNoOutputLimit).isError());
            FUZZ_CHECK(decoded == message);
        }
    }
}

void checkNegotiation(uint8_t mode, const QByteArray &value)
{
    QList<ExtensionOffer> offers;
    if (!parseChecked(value, &offers))
        return;
    PerMessageDeflate server(deflateOptions(mode), Role::Server);
    QByteArray answer;
    QString error;
    if (!server.acceptOffers(offers, &answer, &error)) {
        FUZZ_CHECK(!error.isEmpty());
        return;
    }
    const DeflateParams &params = server.params();
    FUZZ_CHECK(isWindowBits(params.serverMaxWindowBits) && isWindowBits(params.clientMaxWindowBits));

    // The answer is one permessage-deflate offer that a client with the
    // default options takes with the same parameters.
    QList<ExtensionOffer> answered;
    FUZZ_CHECK(parseChecked(answer, &answered));
    FUZZ_CHECK(answered.size() == 1 && answered.first().name == kPerMessageDeflate);
    PerMessageDeflate client(WsDeflateOptions(), Role::Client);
    FUZZ_CHECK(client.acceptResponse(answered.first(), &error));
    FUZZ_CHECK(sameParams(client.params(), params));
    if (PerMessageDeflate::isAvailable())
        checkStreams(&server, &client, value);
}

void checkAnswer(uint8_t mode, const QByteArray &value)
{
    QList<ExtensionOffer> offers;
    if (!parseChecked(value, &offers))
        return;
    const WsDeflateOptions options = deflateOptions(mode);
    for (const ExtensionOffer &offer : std::as_const(offers)) {
        PerMessageDeflate client(options, Role::Client);
        QString error;
        if (!client.acceptResponse(offer, &error)) {
            FUZZ_CHECK(!error.isEmpty());
            continue;
        }
        const DeflateParams &params = client.params();
        FUZZ_CHECK(isWindowBits(params.serverMaxWindowBits) && isWindowBits(params.clientMaxWindowBits));
        if (options.clientMaxWindowBits > 0) {
            FUZZ_CHECK(params.clientMaxWindowBits > 0
                       && params.clientMaxWindowBits <= options.clientMaxWindowBits);
        }
        if (options.clientMaxWindowBits == WsDeflateOptions::NoWindowBits)
            FUZZ_CHECK(params.clientMaxWindowBits == 0);
    }
}

// Offers of arbitrary bytes: those made of tokens survive formatting and parsing.
void checkFormat(FuzzInput *input)
{
    QList<ExtensionOffer> offers;
    bool tokens = true;
    const auto field = [&]() {
        QByteArray text = input->bytes(input->byte() % 8);
        tokens = tokens && isToken(text);
        return text;
    };
    for (int count = 1 + input->byte() % 3; count > 0; --count) {
        ExtensionOffer offer;
        offer.name = field();
        for (int params = input->byte() % 4; params > 0; --params) {
            ExtensionParam param;
            param.name = field();
            if (input->byte() & 1)
                param.value = field();
            offer.params.append(param);
        }
        offers.append(offer);
    }
    QList<ExtensionOffer> parsed;
    QString error;
    const bool ok = parseExtensions(formatExtensions(offers), &parsed, &error);
    if (tokens)
        FUZZ_CHECK(ok && parsed == offers);
    if (ok)
        checkOffers(parsed);
}

} // namespace

namespace wsqt::fuzz {

void addSeedInputs(const QString &, const QByteArray &content, QList<QByteArray> *inputs)
{
    // The subprotocol and extension fields of the handshake vectors.
    for (const QByteArray &line : content.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon < 0)
            continue;
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name == "sec-websocket-protocol") {
            inputs->append('\x00' + value);
        } else if (name == "sec-websocket-extensions") {
            for (uint8_t mode : {0x01, 0x02, 0x03, 0x5d, 0xae, 0xf1})
                inputs->append(char(mode) + value);
        }
    }
}

void addGeneratedInputs(QList<QByteArray> *inputs)
{
    const QByteArray protocols[] = {"chat", "chat, superchat", "a,b\t, c", "chat,chat", " chat", "chat,",
                                    "soap,wamp.2.json,v10.stomp"};
    for (const QByteArray &value : protocols)
        inputs->append('\x00' + value);
    const QByteArray extensions[] = {
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=10; server_max_window_bits=12",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=8, permessage-deflate",
        "permessage-deflate; client_max_window_bits=\"15\"",
        "permessage-deflate; server_max_window_bits=\"1\\0\"",
        "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=09",
        "permessage-deflate; unknown=1",
        "foo; bar=\"baz\"; qux, quux",
    };
    for (const QByteArray &value : extensions) {
        for (uint8_t mode : {0x01, 0x02, 0x05, 0x09, 0x11, 0x21, 0x31, 0x41, 0x81, 0xc1, 0x06, 0x12, 0x82, 0x42})
            inputs->append(char(mode) + value);
    }
    inputs->append(QByteArray("\x03\x00\x04name\x01\x05param\x01\x03val", 19));
}

} // namespace wsqt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const uint8_t mode = input.byte();
    switch (mode & 3) {
    case 0:
        checkSubprotocols(input.rest());
        break;
    case 1:
        checkNegotiation(mode, input.rest());
        break;
    case 2:
        checkAnswer(mode, input.rest());
        break;
    default:
        checkFormat(&input);
        break;
    }
    return 0;
}
