// permessage-deflate on a WsSocket client: the negotiation, round trips, the
// compressed bytes on the wire, and compressed messages from the peer.

#include "wssocketpeers.h"

#include <QtTest/qtest.h>

using namespace wssocketpeers;

class tst_WsSocketDeflate : public QObject
{
    Q_OBJECT

private slots:
    void deflateNegotiation_data();
    void deflateNegotiation();
    void deflateRoundTrip_data();
    void deflateRoundTrip();
    void deflateWireBytes_data();
    void deflateWireBytes();
    void deflateInbound_data();
    void deflateInbound();
};

void tst_WsSocketDeflate::deflateNegotiation_data()
{
    QTest::addColumn<WsServerOptions>("serverOptions");
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QString>("expected");

    const auto server = [](const std::function<void(WsDeflateOptions &)> &change) {
        WsServerOptions options;
        options.perMessageDeflate = WsDeflateOptions();
        if (change)
            change(*options.perMessageDeflate);
        return options;
    };
    const auto client = [](const std::function<void(WsDeflateOptions &)> &change) {
        return clientOptions([&](WsClientOptions &o) { change(*o.perMessageDeflate); });
    };
    QTest::newRow("defaults") << server({}) << WsClientOptions() << QStringLiteral("permessage-deflate");
    QTest::newRow("server without context takeover")
            << server([](WsDeflateOptions &d) { d.serverNoContextTakeover = true; }) << WsClientOptions()
            << QStringLiteral("permessage-deflate; server_no_context_takeover");
    QTest::newRow("client window set by the server")
            << server([](WsDeflateOptions &d) { d.clientMaxWindowBits = 10; }) << WsClientOptions()
            << QStringLiteral("permessage-deflate; client_max_window_bits=10");
    QTest::newRow("server window asked by the client")
            << server({}) << client([](WsDeflateOptions &d) { d.serverMaxWindowBits = 9; })
            << QStringLiteral("permessage-deflate; server_max_window_bits=9");
    QTest::newRow("client without context takeover")
            << server({}) << client([](WsDeflateOptions &d) { d.clientNoContextTakeover = true; })
            << QStringLiteral("permessage-deflate; client_no_context_takeover");
    QTest::newRow("off on the server") << WsServerOptions() << WsClientOptions() << QString();
    QTest::newRow("off on the client") << server({}) << withoutDeflate() << QString();
}

void tst_WsSocketDeflate::deflateNegotiation()
{
    QFETCH(WsServerOptions, serverOptions);
    QFETCH(WsClientOptions, options);
    QFETCH(QString, expected);

    ServerPeer peer(ServerPeer::Echo, serverOptions);
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client, options));
    QCOMPARE(client.extensions(), expected);
    QCOMPARE(peer.socket()->extensions(), expected);

    // Messages go through with the parameters agreed on.
    const QByteArrayList messages = {"short", textPattern(100 * 1024), textPattern(100 * 1024), pattern(3000)};
    for (const QByteArray &message : messages)
        QCOMPARE(client.send(message), WsError());
    QTRY_COMPARE(log.messages.size(), messages.size());
    QVERIFY(log.messages == messages);
    QCOMPARE(log.errors.size(), 0);
}

void tst_WsSocketDeflate::deflateRoundTrip_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("binary");
    QTest::addColumn<bool>("compress");

    QTest::newRow("short text") << QByteArray("Hello") << false << true;
    QTest::newRow("empty text") << QByteArray() << false << true;
    QTest::newRow("empty binary") << QByteArray() << true << true;
    QTest::newRow("1 MiB text") << textPattern(kMiB) << false << true;
    QTest::newRow("1 MiB random") << randomBytes(kMiB) << true << true;
    QTest::newRow("compress = false") << textPattern(64 * 1024) << false << false;
}

void tst_WsSocketDeflate::deflateRoundTrip()
{
    QFETCH(QByteArray, data);
    QFETCH(bool, binary);
    QFETCH(bool, compress);

    WsServerOptions serverOptions;
    serverOptions.perMessageDeflate = WsDeflateOptions();
    ServerPeer peer(ServerPeer::Echo, serverOptions);
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    QCOMPARE(client.extensions(), QStringLiteral("permessage-deflate"));
    EventLog serverLog(peer.socket());

    WsSendOptions options;
    options.binary = binary;
    options.compress = compress;
    bool written = false;
    QCOMPARE(client.send(data, options, [&](const WsError &error) { written = !error.isError(); }), WsError());
    QTRY_COMPARE_WITH_TIMEOUT(log.messages.size(), 1, kLongTimeoutMs);
    QVERIFY(written);
    QCOMPARE(serverLog.binaryFlags, QList<bool>{binary});
    QVERIFY(serverLog.messages.first() == data);
    QCOMPARE(log.binaryFlags, QList<bool>{binary});
    QCOMPARE(log.messages.first().size(), data.size());
    QVERIFY(log.messages.first() == data);
}

void tst_WsSocketDeflate::deflateWireBytes_data()
{
    QTest::addColumn<QList<Send>>("sends");
    QTest::addColumn<QByteArrayList>("expected");   // each frame's first byte and payload

    const Send hello{"Hello", true, true};
    QTest::newRow("Hello") << QList<Send>{hello} << QByteArrayList{hex("c1 f2 48 cd c9 c9 07 00")};
    QTest::newRow("Hello twice, context taken over")
            << QList<Send>{hello, hello}
            << QByteArrayList{hex("c1 f2 48 cd c9 c9 07 00"), hex("c1 f2 00 11 00 00")};
    QTest::newRow("not compressed") << QList<Send>{{"Hello", true, false}} << QByteArrayList{hex("81") + "Hello"};
    QTest::newRow("fragmented") << QList<Send>{{"Hel", false, true}, {"lo", true, true}}
                                << QByteArrayList{hex("41 f2 48 cd 01 00 00 00 ff ff"), hex("80 ca c9 07 00")};
    QTest::newRow("empty") << QList<Send>{{"", true, true}} << QByteArrayList{hex("c1 00")};
}

void tst_WsSocketDeflate::deflateWireBytes()
{
    QFETCH(QList<Send>, sends);
    QFETCH(QByteArrayList, expected);

    RawServer raw;
    WsSocket client;
    QVERIFY(openOnRaw(raw, client, kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
    QCOMPARE(client.extensions(), QStringLiteral("permessage-deflate"));
    for (const Send &send : sends) {
        WsSendOptions options;
        options.binary = false;
        options.fin = send.fin;
        options.compress = send.compress;
        QCOMPARE(client.send(send.data, options), WsError());
    }
    QTRY_COMPARE(raw.last().frames().size(), expected.size());
    QByteArrayList got;
    for (const Frame &f : raw.last().frames()) {
        QVERIFY(f.masked);
        got.append(firstByteAndPayload(f));
    }
    QCOMPARE(got, expected);
}

void tst_WsSocketDeflate::deflateInbound_data()
{
    QTest::addColumn<QByteArray>("frames");
    QTest::addColumn<QByteArrayList>("expected");
    QTest::addColumn<bool>("binary");

    const QByteArray hello = hex("f2 48 cd c9 c9 07 00");
    QTest::newRow("Hello") << wireFrame(0xc1, hello) << QByteArrayList{"Hello"} << false;
    QTest::newRow("Hello twice, context taken over") << wireFrame(0xc1, hello) + wireFrame(0xc1, hex("f2 00 11 00 00"))
                                                     << QByteArrayList{"Hello", "Hello"} << false;
    QTest::newRow("fragmented") << wireFrame(0x41, hex("f2 48 cd 01 00 00 00 ff ff")) + wireFrame(0x80, hex("ca c9 07 00"))
                                << QByteArrayList{"Hello"} << false;
    QTest::newRow("empty") << wireFrame(0xc1, hex("00")) << QByteArrayList{""} << false;
    QTest::newRow("binary") << wireFrame(0xc2, hello) << QByteArrayList{"Hello"} << true;
    QTest::newRow("uncompressed between compressed")
            << wireFrame(0xc1, hello) + wireFrame(0x81, "hi") + wireFrame(0xc1, hex("f2 00 11 00 00"))
            << QByteArrayList{"Hello", "hi", "Hello"} << false;
    // Each message a complete stream: the inflater starts over after its end.
    QTest::newRow("final blocks") << wireFrame(0xc1, rawDeflate("Hello")) + wireFrame(0xc1, rawDeflate("World"))
                                  << QByteArrayList{"Hello", "World"} << false;
    QTest::newRow("1 MiB") << wireFrame(0xc1, rawDeflate(textPattern(kMiB))) << QByteArrayList{textPattern(kMiB)} << false;
}

void tst_WsSocketDeflate::deflateInbound()
{
    QFETCH(QByteArray, frames);
    QFETCH(QByteArrayList, expected);
    QFETCH(bool, binary);

    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(openOnRaw(raw, client, kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
    raw.last().write(frames);
    QTRY_VERIFY(log.messages.size() >= expected.size() || !log.closes.isEmpty());
    QCOMPARE(log.errors, QList<WsError>());
    QCOMPARE(log.messages.size(), expected.size());
    QVERIFY(log.messages == expected);
    QCOMPARE(log.binaryFlags, QList<bool>(expected.size(), binary));
}

QTEST_MAIN(tst_WsSocketDeflate)

#include "tst_wssocket_deflate.moc"
