// WsSocket facing a peer that breaks the protocol: each bad frame's error and
// close code, and what was delivered before it.

#include "wssocketpeers.h"

#include <QtTest/qtest.h>

using namespace wssocketpeers;

class tst_WsSocketPeerErrors : public QObject
{
    Q_OBJECT

private slots:
    void protocolError_data();
    void protocolError();
    void skipUtf8Validation();
};

void tst_WsSocketPeerErrors::protocolError_data()
{
    QTest::addColumn<QByteArray>("extensions");   // the response's Sec-WebSocket-Extensions, if any
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QByteArray>("frames");
    QTest::addColumn<int>("delivered");
    QTest::addColumn<WsError>("expected");       // an empty message: any message

    const auto frameError = [](WsError::Code code, const char *what, int closeCode = 1002) {
        return WsError(code, QLatin1String("Invalid WebSocket frame: ") + QLatin1String(what), closeCode);
    };
    const WsClientOptions defaults;
    const QByteArray none;
    const QByteArray deflate = "permessage-deflate";
    const auto maxPayload = [](qint64 limit) {
        return clientOptions([=](WsClientOptions &o) { o.maxPayload = limit; });
    };
    const WsError tooBig(WsError::UnsupportedMessageLength, QStringLiteral("Max payload size exceeded"), 1009);

    QTest::newRow("opcode 5") << none << defaults << hex("85 00") << 0
                              << frameError(WsError::InvalidOpcode, "invalid opcode 5");
    QTest::newRow("opcode 11") << none << defaults << hex("8b 00") << 0
                               << frameError(WsError::InvalidOpcode, "invalid opcode 11");
    QTest::newRow("continuation of nothing") << none << defaults << wireFrame(0x80, "a") << 0
                                             << frameError(WsError::InvalidOpcode, "invalid opcode 0");
    QTest::newRow("message inside a message") << none << defaults << wireFrame(0x01, "a") + wireFrame(0x81, "b") << 0
                                              << frameError(WsError::InvalidOpcode, "invalid opcode 1");
    QTest::newRow("RSV2") << none << defaults << wireFrame(0xa1, "a") << 0
                          << frameError(WsError::UnexpectedRsv23, "RSV2 and RSV3 must be clear");
    QTest::newRow("RSV1 without permessage-deflate") << none << defaults << wireFrame(0xc1, "a") << 0
                                                     << frameError(WsError::UnexpectedRsv1, "RSV1 must be clear");
    QTest::newRow("masked frame") << none << defaults << wireFrame(0x81, "hello", hex("01 02 03 04")) << 0
                                  << frameError(WsError::UnexpectedMask, "MASK must be clear");
    QTest::newRow("ping without FIN") << none << defaults << wireFrame(0x09, {}) << 0
                                      << frameError(WsError::ExpectedFin, "FIN must be set");
    QTest::newRow("126-byte ping") << none << defaults << wireFrame(0x89, pattern(126)) << 0
                                   << frameError(WsError::InvalidControlPayloadLength, "invalid payload length 126");
    QTest::newRow("1-byte close") << none << defaults << hex("88 01 03") << 0
                                  << frameError(WsError::InvalidControlPayloadLength, "invalid payload length 1");
    QTest::newRow("close code 1005") << none << defaults << wireFrame(0x88, closePayload(1005)) << 0
                                     << frameError(WsError::InvalidCloseCode, "invalid status code 1005");
    QTest::newRow("close code 999") << none << defaults << wireFrame(0x88, closePayload(999)) << 0
                                    << frameError(WsError::InvalidCloseCode, "invalid status code 999");
    QTest::newRow("close reason not UTF-8") << none << defaults << wireFrame(0x88, closePayload(1000, hex("c0 af"))) << 0
                                            << frameError(WsError::InvalidUtf8, "invalid UTF-8 sequence", 1007);
    QTest::newRow("text not UTF-8") << none << defaults << wireFrame(0x81, hex("c0 af")) << 0
                                    << frameError(WsError::InvalidUtf8, "invalid UTF-8 sequence", 1007);
    QTest::newRow("text cut inside a character") << none << defaults << wireFrame(0x01, hex("e2")) + wireFrame(0x80, hex("82"))
                                                 << 0 << frameError(WsError::InvalidUtf8, "invalid UTF-8 sequence", 1007);
    const WsError tooLong(WsError::UnsupportedDataPayloadLength,
                          QStringLiteral("Unsupported WebSocket frame: payload length > 2^53 - 1"), 1009);
    QTest::newRow("length of 2^53") << none << defaults << hex("82 7f 00 20 00 00 00 00 00 00") << 0 << tooLong;
    QTest::newRow("length with the top bit") << none << defaults << hex("82 7f 80 00 00 00 00 00 00 00") << 0
                                             << tooLong;
    QTest::newRow("maxPayload") << none << maxPayload(10) << wireFrame(0x82, pattern(10)) + wireFrame(0x82, pattern(11)) << 1
                                << tooBig;
    QTest::newRow("maxPayload over fragments") << none << maxPayload(10)
                                               << wireFrame(0x02, pattern(6)) + wireFrame(0x80, pattern(5)) << 0 << tooBig;
    QTest::newRow("maxFragments")
            << none << clientOptions([](WsClientOptions &o) { o.maxFragments = 2; })
            << wireFrame(0x02, "a") + wireFrame(0x00, "b") + wireFrame(0x80, "c") << 0
            << WsError(WsError::TooManyBufferedParts, QStringLiteral("Too many message fragments"), 1008);
    QTest::newRow("RSV1 on a continuation") << deflate << defaults
                                            << wireFrame(0x41, hex("f2 48 cd 01 00 00 00 ff ff")) + wireFrame(0xc0, hex("ca c9 07 00"))
                                            << 0 << frameError(WsError::UnexpectedRsv1, "RSV1 must be clear");
    QTest::newRow("compressed ping") << deflate << defaults << wireFrame(0xc9, {}) << 0
                                     << frameError(WsError::UnexpectedRsv1, "RSV1 must be clear");
    QTest::newRow("corrupt compressed data") << deflate << defaults << wireFrame(0xc1, hex("ff ff ff ff")) << 0
                                             << WsError(WsError::InvalidCompressedData, QString(), 1007);
    QTest::newRow("inflated over maxPayload") << deflate << maxPayload(100)
                                              << wireFrame(0xc1, rawDeflate(QByteArray(1000, 'a'))) << 0 << tooBig;
}

void tst_WsSocketPeerErrors::protocolError()
{
    QFETCH(QByteArray, extensions);
    QFETCH(WsClientOptions, options);
    QFETCH(QByteArray, frames);
    QFETCH(int, delivered);
    QFETCH(WsError, expected);

    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    const QByteArray extensionLine =
            extensions.isEmpty() ? QByteArray() : "Sec-WebSocket-Extensions: " + extensions + "\r\n";
    const QByteArray response = kUpgrade + extensionLine + "\r\n";
    QVERIFY(openOnRaw(raw, client, response, options));
    raw.last().write(frames);

    QTRY_COMPARE(log.errors.size(), 1);
    const WsError error = log.errors.first();
    QCOMPARE(error.code(), expected.code());
    if (!expected.message().isEmpty())
        QCOMPARE(error.message(), expected.message());
    QVERIFY(!error.message().isEmpty());
    QCOMPARE(error.closeCode(), expected.closeCode());
    QCOMPARE(log.messages.size(), delivered);
    // ws: the socket is already CLOSING when the error is emitted.
    const QStringList tail = log.lines.mid(kOpenedLines.size() + delivered);
    QCOMPARE(tail.mid(0, 2), (QStringList{QStringLiteral("state Closing"), QLatin1String("error ") + error.codeName()}));

    // The peer gets a masked close frame with the code and no reason; then the client ends the connection.
    QTRY_VERIFY(raw.last().disconnected);
    const QList<Frame> sent = raw.last().frames();
    QCOMPARE(sent.size(), 1);
    QCOMPARE(sent.first().b0, quint8(0x88));
    QVERIFY(sent.first().masked);
    QCOMPARE(sent.first().payload, closePayload(expected.closeCode()));

    // No close frame was received: 1006 locally.
    QTRY_COMPARE(log.closes, (QList<QPair<int, QByteArray>>{closeArgs(1006)}));
    QCOMPARE(log.errors.size(), 1);
    QCOMPARE(log.lines.last(), QStringLiteral("closed 1006 \"\""));
}

void tst_WsSocketPeerErrors::skipUtf8Validation()
{
    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    WsClientOptions options;
    options.skipUTF8Validation = true;
    QVERIFY(openOnRaw(raw, client, {}, options));
    raw.last().write(wireFrame(0x81, hex("c0 af")) + wireFrame(0x88, closePayload(1000, hex("ff"))));
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.messages, QByteArrayList{hex("c0 af")});
    QCOMPARE(log.binaryFlags, QList<bool>{false});
    QCOMPARE(log.closes.first(), closeArgs(1000, hex("ff")));
    QCOMPARE(log.errors.size(), 0);
}

QTEST_MAIN(tst_WsSocketPeerErrors)

#include "tst_wssocket_peererrors.moc"
