// permessage-deflate (RFC 7692) on its own: the negotiation with ws's exact
// results and messages, the RFC's example bytes, context takeover and the
// release of idle streams, empty and fragmented messages, the payload limit
// against a decompression bomb, and what a peer may send that is corrupt,
// cut short or ends its stream early.

#include "testsupport.h"

#include <wsqt/core/extension.h>
#include <wsqt/core/permessagedeflate.h>
#include <wsqt/wsqtversion.h>

#include <QtTest/qtest.h>

#include <memory>

using namespace wsqt::core;
using wsqt::test::hex;

namespace {

constexpr quint64 kNoLimit = wsqt::core::kNoOutputLimit;

// Options from a compact spec: "snct cnct smwb=10 cmwb=-1 threshold=5"
// (-1 is NoWindowBits, ws's `false`).
WsDeflateOptions deflateOptions(const QByteArray &spec)
{
    WsDeflateOptions options;
    for (const QByteArray &item : spec.split(' ')) {
        const QByteArray value = item.mid(item.indexOf('=') + 1);
        if (item == "snct")
            options.serverNoContextTakeover = true;
        else if (item == "cnct")
            options.clientNoContextTakeover = true;
        else if (item.startsWith("smwb="))
            options.serverMaxWindowBits = value.toInt();
        else if (item.startsWith("cmwb="))
            options.clientMaxWindowBits = value.toInt();
        else if (item.startsWith("threshold="))
            options.threshold = value.toInt();
        else if (!item.isEmpty())
            qFatal("unknown option spec %s", item.constData());
    }
    return options;
}

// The agreed parameters in the same compact form.
QByteArray describe(const DeflateParams &params)
{
    QByteArrayList parts;
    if (params.serverNoContextTakeover)
        parts.append("snct");
    if (params.clientNoContextTakeover)
        parts.append("cnct");
    if (params.serverMaxWindowBits)
        parts.append("smwb=" + QByteArray::number(params.serverMaxWindowBits));
    if (params.clientMaxWindowBits)
        parts.append("cmwb=" + QByteArray::number(params.clientMaxWindowBits));
    return parts.join(' ');
}

QList<ExtensionOffer> parsed(const QByteArray &header)
{
    QList<ExtensionOffer> offers;
    QString error;
    if (!parseExtensions(header, &offers, &error))
        qFatal("test header does not parse: %s", qPrintable(error));
    return offers;
}

struct Pair
{
    std::shared_ptr<PerMessageDeflate> client;
    std::shared_ptr<PerMessageDeflate> server;
};

// A client and a server that negotiated through their own offer and answer.
Pair negotiated(const WsDeflateOptions &clientOptions, const WsDeflateOptions &serverOptions)
{
    Pair pair{PerMessageDeflate::create(clientOptions, Role::Client),
              PerMessageDeflate::create(serverOptions, Role::Server)};
    QByteArray response;
    QString error;
    if (!pair.server->acceptOffers(parsed(pair.client->offer()), &response, &error))
        qFatal("offer refused: %s", qPrintable(error));
    if (!pair.client->acceptResponse(parsed(response).first(), &error))
        qFatal("response refused: %s", qPrintable(error));
    return pair;
}

Pair negotiated(const QByteArray &clientSpec = {}, const QByteArray &serverSpec = {})
{
    return negotiated(deflateOptions(clientSpec), deflateOptions(serverSpec));
}

// One whole message through `deflater`, in one fragment.
QByteArray compress(PerMessageDeflate &deflater, const QByteArray &data)
{
    QByteArray out;
    const WsError error = deflater.deflate(data.constData(), data.size(), true, &out);
    if (error.isError())
        qFatal("deflate failed: %s", qPrintable(error.message()));
    return out;
}

// One message, given as its frames' payloads, through `inflater`.
WsError inflateFrames(PerMessageDeflate &inflater, const QByteArrayList &frames, QByteArray *out,
                      quint64 limit = kNoLimit)
{
    for (qsizetype i = 0; i < frames.size(); ++i) {
        const WsError error = inflater.inflate(frames[i].constData(), frames[i].size(), i == frames.size() - 1,
                                               out, limit);
        if (error.isError())
            return error;
    }
    return {};
}

QByteArray inflated(PerMessageDeflate &inflater, const QByteArrayList &frames)
{
    QByteArray out;
    const WsError error = inflateFrames(inflater, frames, &out);
    if (error.isError())
        qWarning("inflate failed: %s", qPrintable(error.message()));
    return error.isError() ? QByteArray("(error)") : out;
}

// Bytes that do not compress, the same on every run.
QByteArray noise(qsizetype size, quint32 seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i) {
        seed = seed * 1664525u + 1013904223u;
        bytes[i] = char(seed >> 24);
    }
    return bytes;
}

// A block of noise repeated: the only matches are `period` bytes back.
QByteArray repeated(qsizetype period, int times)
{
    const QByteArray block = noise(period, 7);
    QByteArray data;
    for (int i = 0; i < times; ++i)
        data += block;
    return data;
}

} // namespace

class tst_PerMessageDeflate : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    // Negotiation
    void offer_data();
    void offer();
    void acceptOffers_data();
    void acceptOffers();
    void acceptResponse_data();
    void acceptResponse();
    void negotiatedPairs_data();
    void negotiatedPairs();

    // Compression
    void rfcHello();
    void sharedWindow_data();
    void sharedWindow();
    void streamsReleased_data();
    void streamsReleased();
    void inflatesPeerForms_data();
    void inflatesPeerForms();
    void finalBlockEndsTheStream_data();
    void finalBlockEndsTheStream();
    void emptyMessages_data();
    void emptyMessages();
    void fragmentedMessage();
    void decompressionBomb_data();
    void decompressionBomb();
    void limitBoundary();
    void corruptData_data();
    void corruptData();
    void cutInsideBlock_data();
    void cutInsideBlock();
    void windowBits8_data();
    void windowBits8();
    void smallWindowInflaterRefusesFarMatches();
    void negotiatedWindowBits8();
    void threshold_data();
    void threshold();
};

void tst_PerMessageDeflate::initTestCase()
{
    if (!PerMessageDeflate::isAvailable())
        QSKIP("built without zlib");
}

// ---- Negotiation -----------------------------------------------------------

void tst_PerMessageDeflate::offer_data()
{
    QTest::addColumn<QByteArray>("options");
    QTest::addColumn<QByteArray>("offer");

    QTest::newRow("default") << QByteArray() << QByteArray("permessage-deflate; client_max_window_bits");
    QTest::newRow("all, ws's test")
            << QByteArray("snct cnct smwb=10")
            << QByteArray("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                          "server_max_window_bits=10; client_max_window_bits");
    QTest::newRow("client bits false") << QByteArray("cmwb=-1") << QByteArray("permessage-deflate");
    QTest::newRow("client bits number")
            << QByteArray("cmwb=12") << QByteArray("permessage-deflate; client_max_window_bits=12");
    QTest::newRow("server bits false") << QByteArray("smwb=-1")
                                       << QByteArray("permessage-deflate; client_max_window_bits");
    QTest::newRow("both numbers")
            << QByteArray("smwb=9 cmwb=8")
            << QByteArray("permessage-deflate; server_max_window_bits=9; client_max_window_bits=8");
    QTest::newRow("server no context takeover")
            << QByteArray("snct")
            << QByteArray("permessage-deflate; server_no_context_takeover; client_max_window_bits");
    QTest::newRow("client no context takeover, no bits")
            << QByteArray("cnct cmwb=-1") << QByteArray("permessage-deflate; client_no_context_takeover");
}

void tst_PerMessageDeflate::offer()
{
    QFETCH(QByteArray, options);
    QFETCH(QByteArray, offer);
    PerMessageDeflate client(deflateOptions(options), Role::Client);
    QCOMPARE(client.offer(), offer);
}

void tst_PerMessageDeflate::acceptOffers_data()
{
    QTest::addColumn<QByteArray>("options");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("response");   // empty: refused
    QTest::addColumn<QString>("error");
    QTest::addColumn<QByteArray>("params");

    const auto accepted = [](const char *tag, const char *options, const char *header, const char *response,
                             const char *params) {
        QTest::newRow(tag) << QByteArray(options) << QByteArray(header) << QByteArray(response) << QString()
                           << QByteArray(params);
    };
    const auto refused = [](const char *tag, const char *options, const char *header, const char *error) {
        QTest::newRow(tag) << QByteArray(options) << QByteArray(header) << QByteArray()
                           << QString::fromLatin1(error) << QByteArray();
    };

    // What ws answers, as run.
    accepted("bare client bits dropped", "", "permessage-deflate; client_max_window_bits", "permessage-deflate", "");
    accepted("values echoed", "", "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9",
             "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9", "smwb=9 cmwb=10");
    accepted("client bits set by the server", "cmwb=8", "permessage-deflate; client_max_window_bits",
             "permessage-deflate; client_max_window_bits=8", "cmwb=8");
    accepted("first acceptable offer, other extensions skipped", "",
             "foo, permessage-deflate; server_no_context_takeover, permessage-deflate",
             "permessage-deflate; server_no_context_takeover", "snct");
    accepted("quoted value", "", "permessage-deflate; client_max_window_bits=\"10\"",
             "permessage-deflate; client_max_window_bits=10", "cmwb=10");
    // ws answers the number it read (Number("08") is 8); RFC 7692 allows no leading zero.
    accepted("leading zero normalized", "", "permessage-deflate; server_max_window_bits=08",
             "permessage-deflate; server_max_window_bits=8", "smwb=8");
    accepted("8.0 normalized", "", "permessage-deflate; client_max_window_bits=8.0",
             "permessage-deflate; client_max_window_bits=8", "cmwb=8");

    // Own options added, in ws's order, after the offer's parameters.
    accepted("own parameters appended", "snct cnct smwb=9",
             "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9",
             "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9; "
             "server_no_context_takeover; client_no_context_takeover",
             "snct cnct smwb=9 cmwb=10");
    accepted("own no context takeover unasked", "snct cnct", "permessage-deflate",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover", "snct cnct");
    accepted("own server bits unasked", "smwb=11", "permessage-deflate",
             "permessage-deflate; server_max_window_bits=11", "smwb=11");
    accepted("client bits false removes the offer's", "cmwb=-1", "permessage-deflate; client_max_window_bits=10",
             "permessage-deflate", "");

    // (a) ws refuses server_no_context_takeover only when the option is
    // explicitly false; its default (and WsDeflateOptions' false) takes it.
    accepted("(a) server no context takeover asked, default options", "",
             "permessage-deflate; server_no_context_takeover",
             "permessage-deflate; server_no_context_takeover", "snct");

    // (b) server_max_window_bits in the offer.
    accepted("(b) own bits greater: next offer", "smwb=12",
             "permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=13",
             "permessage-deflate; server_max_window_bits=12", "smwb=12");
    accepted("(b) own bits equal", "smwb=10", "permessage-deflate; server_max_window_bits=10",
             "permessage-deflate; server_max_window_bits=10", "smwb=10");
    accepted("(b) own bits smaller", "smwb=9", "permessage-deflate; server_max_window_bits=10",
             "permessage-deflate; server_max_window_bits=9", "smwb=9");
    accepted("(b) own bits false: offer without them", "smwb=-1",
             "permessage-deflate; server_max_window_bits=10, permessage-deflate",
             "permessage-deflate", "");
    refused("(b) own bits false, only offers with them", "smwb=-1", "permessage-deflate; server_max_window_bits=15",
            "None of the extension offers can be accepted");
    refused("(b) own bits greater than every offer", "smwb=15",
            "permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=14",
            "None of the extension offers can be accepted");

    // (c) own client bits a number (as ws 8.22+).
    accepted("(c) offer without client bits skipped", "cmwb=10",
             "permessage-deflate, permessage-deflate; client_max_window_bits",
             "permessage-deflate; client_max_window_bits=10", "cmwb=10");
    accepted("(c) offered value smaller: next offer", "cmwb=11",
             "permessage-deflate; client_max_window_bits=9, permessage-deflate; client_max_window_bits=12",
             "permessage-deflate; client_max_window_bits=11", "cmwb=11");
    accepted("(c) offered value equal", "cmwb=9", "permessage-deflate; client_max_window_bits=9",
             "permessage-deflate; client_max_window_bits=9", "cmwb=9");
    refused("(c) no offer has client bits", "cmwb=10", "permessage-deflate",
            "None of the extension offers can be accepted");
    refused("(c) offered value smaller", "cmwb=11", "permessage-deflate; client_max_window_bits=9",
            "None of the extension offers can be accepted");

    // Normalization: one bad offer refuses the header, wherever it is.
    refused("repeated parameter", "", "permessage-deflate; server_max_window_bits=10; server_max_window_bits=11",
            "Parameter \"server_max_window_bits\" must have only a single value");
    refused("repeated flag", "", "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "Parameter \"client_no_context_takeover\" must have only a single value");
    refused("client bits 16", "", "permessage-deflate; client_max_window_bits=16",
            "Invalid value for parameter \"client_max_window_bits\": 16");
    refused("client bits 7", "", "permessage-deflate; client_max_window_bits=7",
            "Invalid value for parameter \"client_max_window_bits\": 7");
    refused("client bits not a number", "", "permessage-deflate; client_max_window_bits=abc",
            "Invalid value for parameter \"client_max_window_bits\": abc");
    refused("client bits not an integer", "", "permessage-deflate; client_max_window_bits=9.5",
            "Invalid value for parameter \"client_max_window_bits\": 9.5");
    refused("server bits without value", "", "permessage-deflate; server_max_window_bits",
            "Invalid value for parameter \"server_max_window_bits\": true");
    refused("server bits 7", "", "permessage-deflate; server_max_window_bits=7",
            "Invalid value for parameter \"server_max_window_bits\": 7");
    refused("server bits quoted 16", "", "permessage-deflate; server_max_window_bits=\"16\"",
            "Invalid value for parameter \"server_max_window_bits\": 16");
    refused("client no context takeover with value", "", "permessage-deflate; client_no_context_takeover=10",
            "Invalid value for parameter \"client_no_context_takeover\": 10");
    refused("server no context takeover with value", "", "permessage-deflate; server_no_context_takeover=1",
            "Invalid value for parameter \"server_no_context_takeover\": 1");
    refused("unknown parameter", "", "permessage-deflate; foo", "Unknown parameter \"foo\"");
    refused("bad second offer", "", "permessage-deflate, permessage-deflate; foo=1", "Unknown parameter \"foo\"");
    refused("only other extensions", "", "x-webkit-deflate-frame", "None of the extension offers can be accepted");
}

void tst_PerMessageDeflate::acceptOffers()
{
    QFETCH(QByteArray, options);
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, response);
    QFETCH(QString, error);
    QFETCH(QByteArray, params);

    PerMessageDeflate server(deflateOptions(options), Role::Server);
    QByteArray actualResponse;
    QString actualError;
    const bool ok = server.acceptOffers(parsed(header), &actualResponse, &actualError);
    QCOMPARE(actualError, error);
    QCOMPARE(ok, error.isEmpty());
    if (!ok)
        return;
    QCOMPARE(actualResponse, response);
    QCOMPARE(describe(server.params()), params);
}

void tst_PerMessageDeflate::acceptResponse_data()
{
    QTest::addColumn<QByteArray>("options");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("error");
    QTest::addColumn<QByteArray>("params");

    const auto accepted = [](const char *tag, const char *options, const char *header, const char *params) {
        QTest::newRow(tag) << QByteArray(options) << QByteArray(header) << QString() << QByteArray(params);
    };
    const auto refused = [](const char *tag, const char *options, const char *header, const char *error) {
        QTest::newRow(tag) << QByteArray(options) << QByteArray(header) << QString::fromLatin1(error)
                           << QByteArray();
    };

    accepted("plain", "", "permessage-deflate", "");
    accepted("client bits given to a bare offer", "", "permessage-deflate; client_max_window_bits=12", "cmwb=12");
    accepted("own client bits filled in", "cmwb=10", "permessage-deflate", "cmwb=10");
    accepted("smaller client bits", "cmwb=10", "permessage-deflate; client_max_window_bits=9", "cmwb=9");
    accepted("equal client bits", "cmwb=10", "permessage-deflate; client_max_window_bits=10", "cmwb=10");
    // RFC 7692 §7.1.1.1: a server may ask for it though the client did not offer it.
    accepted("client no context takeover unasked", "", "permessage-deflate; client_no_context_takeover", "cnct");
    // Neither is checked against the offer, as in ws.
    accepted("server parameters unasked", "",
             "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", "snct smwb=10");
    accepted("everything", "snct cnct smwb=9 cmwb=9",
             "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
             "server_max_window_bits=9; client_max_window_bits=9",
             "snct cnct smwb=9 cmwb=9");

    refused("bare client bits", "", "permessage-deflate; client_max_window_bits",
            "Invalid value for parameter \"client_max_window_bits\": true");
    refused("client bits not offered", "cmwb=-1", "permessage-deflate; client_max_window_bits=10",
            "Unexpected or invalid parameter \"client_max_window_bits\"");
    refused("greater client bits", "cmwb=10", "permessage-deflate; client_max_window_bits=11",
            "Unexpected or invalid parameter \"client_max_window_bits\"");
    refused("server bits 16", "", "permessage-deflate; server_max_window_bits=16",
            "Invalid value for parameter \"server_max_window_bits\": 16");
    refused("repeated", "", "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "Parameter \"server_no_context_takeover\" must have only a single value");
    refused("flag with value", "", "permessage-deflate; server_no_context_takeover=x",
            "Invalid value for parameter \"server_no_context_takeover\": x");
    refused("unknown", "", "permessage-deflate; foo", "Unknown parameter \"foo\"");
}

void tst_PerMessageDeflate::acceptResponse()
{
    QFETCH(QByteArray, options);
    QFETCH(QByteArray, header);
    QFETCH(QString, error);
    QFETCH(QByteArray, params);

    PerMessageDeflate client(deflateOptions(options), Role::Client);
    QString actualError;
    const bool ok = client.acceptResponse(parsed(header).first(), &actualError);
    QCOMPARE(actualError, error);
    QCOMPARE(ok, error.isEmpty());
    if (ok)
        QCOMPARE(describe(client.params()), params);
}

// Both ends agree on the same parameters, through each other's words.
void tst_PerMessageDeflate::negotiatedPairs_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("server");
    QTest::addColumn<QByteArray>("params");

    QTest::newRow("defaults") << QByteArray() << QByteArray() << QByteArray();
    QTest::newRow("server decides client bits") << QByteArray() << QByteArray("cmwb=9") << QByteArray("cmwb=9");
    QTest::newRow("client asks") << QByteArray("snct cnct smwb=10") << QByteArray()
                                 << QByteArray("snct cnct smwb=10");
    QTest::newRow("server adds") << QByteArray("cmwb=-1") << QByteArray("snct cnct smwb=12")
                                 << QByteArray("snct cnct smwb=12");
    QTest::newRow("client's own bits") << QByteArray("cmwb=11") << QByteArray() << QByteArray("cmwb=11");
}

void tst_PerMessageDeflate::negotiatedPairs()
{
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, server);
    QFETCH(QByteArray, params);
    const Pair pair = negotiated(client, server);
    QCOMPARE(describe(pair.server->params()), params);
    QCOMPARE(describe(pair.client->params()), params);
}

// ---- Compression -----------------------------------------------------------

// RFC 7692 §7.2.3.1: "Hello" in one compressed frame.
void tst_PerMessageDeflate::rfcHello()
{
    const Pair pair = negotiated();
    QCOMPARE(compress(*pair.server, "Hello"), hex("f2 48 cd c9 c9 07 00"));
    QCOMPARE(inflated(*pair.client, {hex("f2 48 cd c9 c9 07 00")}), QByteArray("Hello"));
    // The other direction is the same bytes.
    QCOMPARE(compress(*pair.client, "Hello"), hex("f2 48 cd c9 c9 07 00"));
}

// RFC 7692 §7.2.3.2: the second "Hello" refers back into the first one,
// unless the sender drops its context after each message.
void tst_PerMessageDeflate::sharedWindow_data()
{
    QTest::addColumn<QByteArray>("server");
    QTest::addColumn<QByteArray>("second");

    QTest::newRow("context taken over") << QByteArray() << hex("f2 00 11 00 00");
    QTest::newRow("server no context takeover") << QByteArray("snct") << hex("f2 48 cd c9 c9 07 00");
}

void tst_PerMessageDeflate::sharedWindow()
{
    QFETCH(QByteArray, server);
    QFETCH(QByteArray, second);
    const Pair pair = negotiated({}, server);
    const QByteArray first = compress(*pair.server, "Hello");
    QCOMPARE(first, hex("f2 48 cd c9 c9 07 00"));
    QCOMPARE(compress(*pair.server, "Hello"), second);
    QCOMPARE(inflated(*pair.client, {first}), QByteArray("Hello"));
    QCOMPARE(inflated(*pair.client, {second}), QByteArray("Hello"));
}

// Without context takeover a stream lives only while a message is being
// processed; with it, it stays. Streams are made on first use.
void tst_PerMessageDeflate::streamsReleased_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("server");
    QTest::addColumn<bool>("serverKeepsDeflate");   // = the client keeps its inflater
    QTest::addColumn<bool>("clientKeepsDeflate");   // = the server keeps its inflater

    QTest::newRow("both take over") << QByteArray() << QByteArray() << true << true;
    QTest::newRow("server no context takeover") << QByteArray() << QByteArray("snct") << false << true;
    QTest::newRow("client no context takeover") << QByteArray("cnct") << QByteArray() << true << false;
    QTest::newRow("asked by the server") << QByteArray() << QByteArray("snct cnct") << false << false;
}

void tst_PerMessageDeflate::streamsReleased()
{
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, server);
    QFETCH(bool, serverKeepsDeflate);
    QFETCH(bool, clientKeepsDeflate);

    const Pair pair = negotiated(client, server);
    for (PerMessageDeflate *end : {pair.client.get(), pair.server.get()}) {
        QVERIFY(!end->hasDeflateStream());
        QVERIFY(!end->hasInflateStream());
    }
    const QByteArray text = QByteArray("a message that is long enough to be worth compressing. ").repeated(40);
    for (int round = 0; round < 3; ++round) {
        const QByteArray down = compress(*pair.server, text);
        QCOMPARE(pair.server->hasDeflateStream(), serverKeepsDeflate);
        QCOMPARE(inflated(*pair.client, {down}), text);
        QCOMPARE(pair.client->hasInflateStream(), serverKeepsDeflate);

        const QByteArray up = compress(*pair.client, text);
        QCOMPARE(pair.client->hasDeflateStream(), clientKeepsDeflate);
        QCOMPARE(inflated(*pair.server, {up}), text);
        QCOMPARE(pair.server->hasInflateStream(), clientKeepsDeflate);
    }

    // A fragment in the middle of a message keeps its streams either way.
    QByteArray part;
    QVERIFY(!pair.server->deflate(text.constData(), text.size(), false, &part).isError());
    QVERIFY(pair.server->hasDeflateStream());
    QByteArray out;
    QVERIFY(!pair.client->inflate(part.constData(), part.size(), false, &out, kNoLimit).isError());
    QVERIFY(pair.client->hasInflateStream());
    QByteArray end;
    QVERIFY(!pair.server->deflate("!", 1, true, &end).isError());
    QCOMPARE(pair.server->hasDeflateStream(), serverKeepsDeflate);
    QVERIFY(!pair.client->inflate(end.constData(), end.size(), true, &out, kNoLimit).isError());
    QCOMPARE(pair.client->hasInflateStream(), serverKeepsDeflate);
    QCOMPARE(out, text + '!');
}

// The forms a peer may give one message "Hello" (RFC 7692 §7.2.3).
void tst_PerMessageDeflate::inflatesPeerForms_data()
{
    QTest::addColumn<QByteArrayList>("frames");

    QTest::newRow("one frame") << QByteArrayList{hex("f2 48 cd c9 c9 07 00")};
    QTest::newRow("split across frames (§7.2.3.1)") << QByteArrayList{hex("f2 48 cd"), hex("c9 c9 07 00")};
    QTest::newRow("byte by byte") << QByteArrayList{hex("f2"), hex("48"), hex("cd"), hex("c9"), hex("c9"),
                                                    hex("07"), hex("00")};
    QTest::newRow("empty last frame") << QByteArrayList{hex("f2 48 cd c9 c9 07 00"), QByteArray()};
    QTest::newRow("stored block (§7.2.3.3)") << QByteArrayList{hex("00 05 00 fa ff 48 65 6c 6c 6f")};
    QTest::newRow("two blocks (§7.2.3.5)") << QByteArrayList{hex("f2 48 05 00 00 00 ff ff ca c9 c9 07 00")};
    QTest::newRow("BFINAL set (§7.2.3.4)") << QByteArrayList{hex("f3 48 cd c9 c9 07 00 00")};
    QTest::newRow("tail kept on") << QByteArrayList{hex("f2 48 cd c9 c9 07 00 00 00 ff ff")};
    QTest::newRow("tail kept on, frames ending each block")
            << QByteArrayList{hex("f2 48 05 00 00 00 ff ff"), hex("ca c9 c9 07 00 00 00 ff ff")};
}

void tst_PerMessageDeflate::inflatesPeerForms()
{
    QFETCH(QByteArrayList, frames);
    const Pair pair = negotiated();
    QCOMPARE(inflated(*pair.client, frames), QByteArray("Hello"));
    // The stream is still usable: the next message refers back into this one.
    QCOMPARE(inflated(*pair.client, {compress(*pair.server, "Hello")}), QByteArray("Hello"));
}

// A block with BFINAL set ends the peer's deflate stream: what follows in
// the message is ignored, and the next message starts a fresh stream.
void tst_PerMessageDeflate::finalBlockEndsTheStream_data()
{
    QTest::addColumn<QByteArrayList>("frames");

    QTest::newRow("alone") << QByteArrayList{hex("f3 48 cd c9 c9 07 00")};
    QTest::newRow("more data after it, same frame")
            << QByteArrayList{hex("f3 48 cd c9 c9 07 00") + hex("f2 48 cd c9 c9 07 00")};
    QTest::newRow("junk in a later frame") << QByteArrayList{hex("f3 48 cd c9 c9 07 00"), hex("ff ff ff ff")};
    QTest::newRow("in the middle frame")
            << QByteArrayList{hex("f2 48 05 00 00 00 ff ff"), hex("cb c9 c9 07 00"), hex("de ad be ef")};
    // The end-of-block code completed by the first byte of the tail put back
    // after the message: the stream ends inside the tail.
    QTest::newRow("completed by the tail") << QByteArrayList{hex("f3 48 cd c9 c9 07")};
}

void tst_PerMessageDeflate::finalBlockEndsTheStream()
{
    QFETCH(QByteArrayList, frames);
    const Pair pair = negotiated();
    QCOMPARE(inflated(*pair.client, frames), QByteArray("Hello"));
    // A self-contained message: a stream that were still the ended one
    // would give nothing for it.
    QCOMPARE(inflated(*pair.client, {hex("f2 48 cd c9 c9 07 00")}), QByteArray("Hello"));
    QCOMPARE(inflated(*pair.client, {hex("f2 48 cd c9 c9 07 00")}), QByteArray("Hello"));
}

// Empty messages between others keep both ends' streams aligned.
void tst_PerMessageDeflate::emptyMessages_data()
{
    QTest::addColumn<QByteArray>("server");

    QTest::newRow("context taken over") << QByteArray();
    QTest::newRow("no context takeover") << QByteArray("snct");
}

void tst_PerMessageDeflate::emptyMessages()
{
    QFETCH(QByteArray, server);
    const Pair pair = negotiated({}, server);
    // ws's bytes for an empty message on a fresh stream.
    const QByteArray firstEmpty = compress(*pair.server, {});
    QCOMPARE(firstEmpty, hex("00"));
    QCOMPARE(inflated(*pair.client, {firstEmpty}), QByteArray());

    const QByteArrayList messages = {{}, {}, "Hello", {}, "Hello", {}, {}, "Hello, again"};
    for (const QByteArray &message : messages) {
        const QByteArray payload = compress(*pair.server, message);
        QVERIFY2(!payload.isEmpty(), "an empty message still has a payload byte");
        QCOMPARE(inflated(*pair.client, {payload}), message);
    }

    // A peer that sends no payload at all for an empty message.
    QCOMPARE(inflated(*pair.server, {QByteArray()}), QByteArray());
    QCOMPARE(inflated(*pair.server, {QByteArray(), QByteArray()}), QByteArray());
    QCOMPARE(inflated(*pair.server, {compress(*pair.client, "after nothing")}), QByteArray("after nothing"));
    QCOMPARE(inflated(*pair.server, {QByteArray()}), QByteArray());
    QCOMPARE(inflated(*pair.server, {compress(*pair.client, "after nothing")}), QByteArray("after nothing"));
}

// A fragment that does not end the message keeps its sync flush tail; the
// last one loses it (ws's bytes).
void tst_PerMessageDeflate::fragmentedMessage()
{
    const Pair pair = negotiated();
    QByteArray first;
    QVERIFY(!pair.server->deflate("Hel", 3, false, &first).isError());
    QCOMPARE(first, hex("f2 48 cd 01 00 00 00 ff ff"));
    QVERIFY(first.endsWith(hex("00 00 ff ff")));
    QByteArray last;
    QVERIFY(!pair.server->deflate("lo", 2, true, &last).isError());
    QCOMPARE(last, hex("ca c9 07 00"));
    QVERIFY(!last.endsWith(hex("00 00 ff ff")));
    QCOMPARE(inflated(*pair.client, {first, last}), QByteArray("Hello"));

    // Many fragments of a larger message, some empty.
    const QByteArray text = QByteArray("fragmented and compressed ").repeated(200);
    QByteArrayList frames;
    for (qsizetype at = 0; at < text.size(); at += 700) {
        QByteArray out;
        QVERIFY(!pair.server->deflate(text.constData() + at, qMin<qsizetype>(700, text.size() - at), false, &out)
                         .isError());
        QVERIFY(out.endsWith(hex("00 00 ff ff")));
        frames.append(out);
    }
    QByteArray end;
    QVERIFY(!pair.server->deflate(nullptr, 0, true, &end).isError());
    frames.append(end);
    QCOMPARE(inflated(*pair.client, frames), text);
}

// Output is counted as it is produced: a bomb stops at the limit, having
// produced at most one chunk more.
void tst_PerMessageDeflate::decompressionBomb_data()
{
    QTest::addColumn<int>("chunkSize");
    QTest::addColumn<int>("frameSize");     // 0: one frame

    QTest::newRow("default chunk, one frame") << 16384 << 0;
    QTest::newRow("default chunk, small frames") << 16384 << 100;
    QTest::newRow("small chunk, one frame") << 1024 << 0;
}

void tst_PerMessageDeflate::decompressionBomb()
{
    QFETCH(int, chunkSize);
    QFETCH(int, frameSize);

    PerMessageDeflate bomber(WsDeflateOptions(), Role::Client);
    const QByteArray bomb = compress(bomber, QByteArray(64 * 1024 * 1024, '\0'));
    QVERIFY2(bomb.size() < 128 * 1024, "64 MiB of zeros should compress to a small message");

    WsDeflateOptions options;
    options.zlibInflateOptions.chunkSize = chunkSize;
    PerMessageDeflate server(options, Role::Server);
    QByteArrayList frames;
    for (qsizetype at = 0; at < bomb.size(); at += frameSize ? frameSize : bomb.size())
        frames.append(bomb.mid(at, frameSize ? frameSize : bomb.size()));

    constexpr quint64 limit = 100000;
    QByteArray out;
    const WsError error = inflateFrames(server, frames, &out, limit);
    QCOMPARE(error.code(), WsError::UnsupportedMessageLength);
    QCOMPARE(error.message(), QStringLiteral("Max payload size exceeded"));
    QCOMPARE(error.closeCode(), 1009);
    QVERIFY2(quint64(out.size()) > limit, "the limit is passed before the error");
    QVERIFY2(quint64(out.size()) <= limit + quint64(chunkSize),
             qPrintable(QStringLiteral("%1 bytes produced").arg(out.size())));
    QVERIFY(!server.hasInflateStream());
}

void tst_PerMessageDeflate::limitBoundary()
{
    const Pair pair = negotiated();
    const QByteArray text = QByteArray("0123456789").repeated(100);
    const QByteArray payload = compress(*pair.client, text);

    QByteArray out;
    QVERIFY(!inflateFrames(*pair.server, {payload}, &out, quint64(text.size())).isError());
    QCOMPARE(out, text);

    PerMessageDeflate fresh(WsDeflateOptions(), Role::Server);
    out.clear();
    PerMessageDeflate sender(WsDeflateOptions(), Role::Client);
    const WsError error = inflateFrames(fresh, {compress(sender, text)}, &out, quint64(text.size() - 1));
    QCOMPARE(error.code(), WsError::UnsupportedMessageLength);
    QCOMPARE(error.closeCode(), 1009);
}

void tst_PerMessageDeflate::corruptData_data()
{
    QTest::addColumn<QByteArrayList>("frames");

    QTest::newRow("reserved block type") << QByteArrayList{hex("07 00 00 00")};
    QTest::newRow("stored length mismatch") << QByteArrayList{hex("00 05 00 05 00 48 65 6c 6c 6f")};
    QTest::newRow("too many distance codes") << QByteArrayList{hex("04 ff ff ff ff ff")};
    QTest::newRow("distance before the start") << QByteArrayList{hex("f2 00 11 00 00")};
    QTest::newRow("corrupt second frame") << QByteArrayList{hex("f2 48 05 00 00 00 ff ff"), hex("07 00")};
}

// Corrupt data closes with 1007; the stream is dropped and a later message
// (were the connection kept) would start afresh.
void tst_PerMessageDeflate::corruptData()
{
    QFETCH(QByteArrayList, frames);
    PerMessageDeflate client(WsDeflateOptions(), Role::Client);
    QByteArray out;
    const WsError error = inflateFrames(client, frames, &out);
    QCOMPARE(error.code(), WsError::InvalidCompressedData);
    QCOMPARE(error.closeCode(), 1007);
    QVERIFY(!error.message().isEmpty());
    QVERIFY(!client.hasInflateStream());
    QCOMPARE(inflated(client, {hex("f2 48 cd c9 c9 07 00")}), QByteArray("Hello"));
}

// A message whose data stops inside a block would lose its end: 1007.
void tst_PerMessageDeflate::cutInsideBlock_data()
{
    QTest::addColumn<QByteArrayList>("frames");

    QTest::newRow("fixed block cut") << QByteArrayList{hex("f2 48 cd c9")};
    QTest::newRow("fixed block cut, two frames") << QByteArrayList{hex("f2 48"), hex("cd c9")};
    QTest::newRow("stored block cut") << QByteArrayList{hex("00 05 00 fa ff 48 65")};
    QTest::newRow("second block cut") << QByteArrayList{hex("f2 48 05 00 00 00 ff ff ca c9")};
}

void tst_PerMessageDeflate::cutInsideBlock()
{
    QFETCH(QByteArrayList, frames);
    PerMessageDeflate client(WsDeflateOptions(), Role::Client);
    QByteArray out;
    const WsError error = inflateFrames(client, frames, &out);
    QCOMPARE(error.code(), WsError::InvalidCompressedData);
    QCOMPARE(error.closeCode(), 1007);
    QCOMPARE(inflated(client, {hex("f2 48 cd c9 c9 07 00")}), QByteArray("Hello"));
}

// zlib has no 8-bit raw deflate window: 9 is used, whose matches reach at
// most 250 bytes back, so every inflater of 8 bits or more reads it.
void tst_PerMessageDeflate::windowBits8_data()
{
    QTest::addColumn<int>("inflateBits");

    for (int bits = 8; bits <= 15; ++bits)
        QTest::addRow("inflater %d bits", bits) << bits;
}

void tst_PerMessageDeflate::windowBits8()
{
    QFETCH(int, inflateBits);
    WsDeflateOptions deflating;
    deflating.zlibDeflateOptions.windowBits = 8;
    PerMessageDeflate server(deflating, Role::Server);
    WsDeflateOptions inflating;
    inflating.zlibInflateOptions.windowBits = inflateBits;
    PerMessageDeflate client(inflating, Role::Client);

    // Repeats 200 bytes back are within the window: the data compresses.
    const QByteArray near = repeated(200, 10);
    QByteArray out;
    const WsError error = server.deflate(near.constData(), near.size(), true, &out);
    QVERIFY2(!error.isError(), qPrintable(error.message()));
    QVERIFY2(out.size() < near.size() / 2, "repeats within the window are found");
    QCOMPARE(inflated(client, {out}), near);
    // A message repeated refers back into the previous one, 1000 bytes
    // away: only a deflate window wider than 9 bits would, and a small
    // inflater would refuse that.
    const QByteArray far = noise(1000, 3);
    for (int round = 0; round < 3; ++round)
        QCOMPARE(inflated(client, {compress(server, far)}), far);
}

// The check above can fail: matches into the previous message, farther back
// than an inflater's window, are refused.
void tst_PerMessageDeflate::smallWindowInflaterRefusesFarMatches()
{
    PerMessageDeflate server(WsDeflateOptions(), Role::Server);
    WsDeflateOptions inflating;
    inflating.zlibInflateOptions.windowBits = 9;
    PerMessageDeflate client(inflating, Role::Client);
    const QByteArray far = noise(1000, 3);
    QCOMPARE(inflated(client, {compress(server, far)}), far);
    QByteArray out;
    const WsError error = inflateFrames(client, {compress(server, far)}, &out);
    QCOMPARE(error.code(), WsError::InvalidCompressedData);
    QCOMPARE(error.closeCode(), 1007);
}

// Both ends negotiated 8-bit windows: each reads what the other sends,
// messages referring back into earlier ones included.
void tst_PerMessageDeflate::negotiatedWindowBits8()
{
    const Pair pair = negotiated("smwb=8 cmwb=8", {});
    QCOMPARE(describe(pair.client->params()), QByteArray("smwb=8 cmwb=8"));
    QCOMPARE(describe(pair.server->params()), QByteArray("smwb=8 cmwb=8"));
    const QByteArrayList messages = {noise(200, 1), noise(200, 1), noise(250, 2), noise(250, 2),
                                     noise(1000, 3), noise(1000, 3), repeated(240, 5)};
    for (const QByteArray &data : messages) {
        QCOMPARE(inflated(*pair.client, {compress(*pair.server, data)}), data);
        QCOMPARE(inflated(*pair.server, {compress(*pair.client, data)}), data);
    }
}

// The threshold applies only where the sender drops its context after each
// message (as ws); a fragmented message is judged by its first fragment.
void tst_PerMessageDeflate::threshold_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("server");
    QTest::addColumn<bool>("fromServer");
    QTest::addColumn<int>("size");
    QTest::addColumn<bool>("compress");

    QTest::newRow("server, context taken over, small") << QByteArray() << QByteArray() << true << 2 << true;
    QTest::newRow("server, context taken over, empty") << QByteArray() << QByteArray() << true << 0 << true;
    QTest::newRow("server nct, below") << QByteArray() << QByteArray("snct") << true << 1023 << false;
    QTest::newRow("server nct, at") << QByteArray() << QByteArray("snct") << true << 1024 << true;
    QTest::newRow("server nct, own threshold")
            << QByteArray() << QByteArray("snct threshold=10") << true << 10 << true;
    QTest::newRow("server nct, own threshold, below")
            << QByteArray() << QByteArray("snct threshold=10") << true << 9 << false;
    QTest::newRow("server, only client nct") << QByteArray() << QByteArray("cnct") << true << 2 << true;
    QTest::newRow("client nct, below") << QByteArray("cnct") << QByteArray() << false << 1023 << false;
    QTest::newRow("client nct, at") << QByteArray("cnct") << QByteArray() << false << 1024 << true;
    QTest::newRow("client nct asked by the server")
            << QByteArray() << QByteArray("cnct") << false << 100 << false;
    QTest::newRow("client, only server nct") << QByteArray() << QByteArray("snct") << false << 2 << true;
}

void tst_PerMessageDeflate::threshold()
{
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, server);
    QFETCH(bool, fromServer);
    QFETCH(int, size);
    QFETCH(bool, compress);
    const Pair pair = negotiated(client, server);
    QCOMPARE((fromServer ? pair.server : pair.client)->shouldCompress(size), compress);
}

QTEST_APPLESS_MAIN(tst_PerMessageDeflate)

#include "tst_permessagedeflate.moc"
