// Frame header serialisation, close codes and close payloads (RFC 6455 §5.2, §7.4).

#include "testsupport.h"

#include <wsqt/core/frame.h>

#include <QtTest/qtest.h>

using namespace wsqt::core;
using wsqt::test::hex;

namespace {

constexpr quint64 k2to32 = quint64(1) << 32;
constexpr uchar kKey[4] = {0x37, 0xfa, 0x21, 0x3d};

// A byte no header byte can equal by accident here, to see what was written.
constexpr char kGuard = char(0xA5);

} // namespace

class tst_Frame : public QObject
{
    Q_OBJECT

private slots:
    void writeFrameHeader_data();
    void writeFrameHeader();
    void frameHeaderSize_data();
    void frameHeaderSize();
    void closeCodeNamed_data();
    void closeCodeNamed();
    void closeCodeEveryValue();
    void buildClosePayload_data();
    void buildClosePayload();
};

void tst_Frame::writeFrameHeader_data()
{
    QTest::addColumn<bool>("fin");
    QTest::addColumn<bool>("rsv1");
    QTest::addColumn<int>("opcode");
    QTest::addColumn<quint64>("length");
    QTest::addColumn<bool>("masked");
    QTest::addColumn<QByteArray>("expected");

    const int text = int(Opcode::Text);
    const int binary = int(Opcode::Binary);
    // Unmasked lengths around each encoding boundary.
    QTest::newRow("length 0") << true << false << text << quint64(0) << false << hex("81 00");
    QTest::newRow("length 1") << true << false << binary << quint64(1) << false << hex("82 01");
    QTest::newRow("length 125") << true << false << binary << quint64(125) << false << hex("82 7d");
    QTest::newRow("length 126") << true << false << binary << quint64(126) << false
                                << hex("82 7e 00 7e");
    QTest::newRow("length 127") << true << false << binary << quint64(127) << false
                                << hex("82 7e 00 7f");
    QTest::newRow("length 256") << true << false << binary << quint64(256) << false
                                << hex("82 7e 01 00");
    QTest::newRow("length 65535") << true << false << binary << quint64(65535) << false
                                  << hex("82 7e ff ff");
    QTest::newRow("length 65536") << true << false << binary << quint64(65536) << false
                                  << hex("82 7f 00 00 00 00 00 01 00 00");
    QTest::newRow("length 2^32") << true << false << binary << k2to32 << false
                                 << hex("82 7f 00 00 00 01 00 00 00 00");
    QTest::newRow("length 2^53-1") << true << false << binary << (quint64(1) << 53) - 1 << false
                                   << hex("82 7f 00 1f ff ff ff ff ff ff");

    // Masked: the mask bit, then the key after the length.
    QTest::newRow("masked length 0") << true << false << text << quint64(0) << true
                                     << hex("81 80 37 fa 21 3d");
    QTest::newRow("masked length 5") << true << false << text << quint64(5) << true
                                     << hex("81 85 37 fa 21 3d");
    QTest::newRow("masked length 125") << true << false << binary << quint64(125) << true
                                       << hex("82 fd 37 fa 21 3d");
    QTest::newRow("masked length 126") << true << false << binary << quint64(126) << true
                                       << hex("82 fe 00 7e 37 fa 21 3d");
    QTest::newRow("masked length 65535") << true << false << binary << quint64(65535) << true
                                         << hex("82 fe ff ff 37 fa 21 3d");
    QTest::newRow("masked length 65536") << true << false << binary << quint64(65536) << true
                                         << hex("82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d");
    QTest::newRow("masked length 2^32") << true << false << binary << k2to32 << true
                                        << hex("82 ff 00 00 00 01 00 00 00 00 37 fa 21 3d");

    // The first byte: FIN, RSV1 and every opcode.
    QTest::newRow("text not fin") << false << false << text << quint64(3) << false << hex("01 03");
    QTest::newRow("continuation not fin") << false << false << int(Opcode::Continuation)
                                          << quint64(3) << false << hex("00 03");
    QTest::newRow("continuation fin") << true << false << int(Opcode::Continuation)
                                      << quint64(2) << false << hex("80 02");
    QTest::newRow("rsv1 text") << true << true << text << quint64(7) << false << hex("c1 07");
    QTest::newRow("rsv1 binary not fin") << false << true << binary << quint64(300) << true
                                         << hex("42 fe 01 2c 37 fa 21 3d");
    QTest::newRow("close") << true << false << int(Opcode::Close) << quint64(2) << false
                           << hex("88 02");
    QTest::newRow("close masked") << true << false << int(Opcode::Close) << quint64(0) << true
                                  << hex("88 80 37 fa 21 3d");
    QTest::newRow("ping") << true << false << int(Opcode::Ping) << quint64(0) << false
                          << hex("89 00");
    QTest::newRow("pong 125") << true << false << int(Opcode::Pong) << quint64(125) << false
                              << hex("8a 7d");
}

void tst_Frame::writeFrameHeader()
{
    QFETCH(bool, fin);
    QFETCH(bool, rsv1);
    QFETCH(int, opcode);
    QFETCH(quint64, length);
    QFETCH(bool, masked);
    QFETCH(QByteArray, expected);

    FrameFlags flags;
    flags.fin = fin;
    flags.rsv1 = rsv1;
    flags.opcode = Opcode(opcode);

    // Room for the largest header plus guard bytes that must stay untouched.
    QByteArray buffer(kMaxFrameHeaderSize + 8, kGuard);
    const int size = wsqt::core::writeFrameHeader(buffer.data(), flags, length, masked ? kKey : nullptr);

    QCOMPARE(size, int(expected.size()));
    QCOMPARE(buffer.left(size).toHex(' '), expected.toHex(' '));
    QCOMPARE(buffer.mid(size), QByteArray(buffer.size() - size, kGuard));
    QCOMPARE(wsqt::core::frameHeaderSize(length, masked), size);
}

void tst_Frame::frameHeaderSize_data()
{
    QTest::addColumn<quint64>("length");
    QTest::addColumn<int>("unmasked");

    QTest::newRow("0") << quint64(0) << 2;
    QTest::newRow("1") << quint64(1) << 2;
    QTest::newRow("125") << quint64(125) << 2;
    QTest::newRow("126") << quint64(126) << 4;
    QTest::newRow("127") << quint64(127) << 4;
    QTest::newRow("65535") << quint64(65535) << 4;
    QTest::newRow("65536") << quint64(65536) << 10;
    QTest::newRow("2^32") << k2to32 << 10;
    QTest::newRow("2^53-1") << (quint64(1) << 53) - 1 << 10;
}

void tst_Frame::frameHeaderSize()
{
    QFETCH(quint64, length);
    QFETCH(int, unmasked);

    QCOMPARE(wsqt::core::frameHeaderSize(length, false), unmasked);
    // The masking key always adds four bytes.
    QCOMPARE(wsqt::core::frameHeaderSize(length, true), unmasked + 4);
    QVERIFY(wsqt::core::frameHeaderSize(length, true) <= kMaxFrameHeaderSize);
}

void tst_Frame::closeCodeNamed_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<bool>("valid");

    QTest::newRow("0") << 0 << false;
    QTest::newRow("-1") << -1 << false;
    QTest::newRow("999") << 999 << false;
    QTest::newRow("1000 normal") << 1000 << true;
    QTest::newRow("1001 going away") << 1001 << true;
    QTest::newRow("1002 protocol error") << 1002 << true;
    QTest::newRow("1003 unsupported data") << 1003 << true;
    QTest::newRow("1004 reserved") << 1004 << false;
    QTest::newRow("1005 no status") << 1005 << false;
    QTest::newRow("1006 abnormal") << 1006 << false;
    QTest::newRow("1007 invalid payload") << 1007 << true;
    QTest::newRow("1008 policy") << 1008 << true;
    QTest::newRow("1009 too big") << 1009 << true;
    QTest::newRow("1010 extension") << 1010 << true;
    QTest::newRow("1011 internal error") << 1011 << true;
    QTest::newRow("1012 restart") << 1012 << true;
    QTest::newRow("1013 try again") << 1013 << true;
    QTest::newRow("1014 bad gateway") << 1014 << true;
    QTest::newRow("1015 TLS") << 1015 << false;
    QTest::newRow("1016") << 1016 << false;
    QTest::newRow("2999") << 2999 << false;
    QTest::newRow("3000") << 3000 << true;
    QTest::newRow("4000") << 4000 << true;
    QTest::newRow("4999") << 4999 << true;
    QTest::newRow("5000") << 5000 << false;
    QTest::newRow("65535") << 65535 << false;
    // A code that only truncation to 16 bits would turn into 1000.
    QTest::newRow("66536") << 66536 << false;
}

void tst_Frame::closeCodeNamed()
{
    QFETCH(int, code);
    QFETCH(bool, valid);

    QCOMPARE(isValidCloseCode(code), valid);
}

void tst_Frame::closeCodeEveryValue()
{
    // ws's list: the registered codes that may be sent, and the range for
    // libraries and applications.
    const QList<int> registered = {1000, 1001, 1002, 1003, 1007, 1008,
                                   1009, 1010, 1011, 1012, 1013, 1014};
    for (int code = 0; code < 6000; ++code) {
        const bool expected = registered.contains(code) || (code >= 3000 && code <= 4999);
        if (isValidCloseCode(code) != expected)
            QFAIL(qPrintable(QStringLiteral("close code %1: expected %2").arg(code).arg(expected)));
    }
}

void tst_Frame::buildClosePayload_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QString>("error");
    QTest::addColumn<QByteArray>("payload");

    const QString badCode = QStringLiteral("First argument must be a valid error code number");
    const QString tooLong = QStringLiteral("The message must not be greater than 123 bytes");
    const QByteArray eAcute = QByteArrayLiteral("\xc3\xa9");

    QTest::newRow("no code") << 0 << QByteArray() << QString() << QByteArray();
    QTest::newRow("no code ignores the reason") << 0 << QByteArray("bye") << QString()
                                                << QByteArray();
    QTest::newRow("1000") << 1000 << QByteArray() << QString() << hex("03 e8");
    QTest::newRow("1000 bye") << 1000 << QByteArray("bye") << QString() << hex("03 e8 62 79 65");
    QTest::newRow("4999") << 4999 << QByteArray() << QString() << hex("13 87");
    QTest::newRow("3000 reason") << 3000 << QByteArray("x") << QString() << hex("0b b8 78");
    QTest::newRow("reason of 123 bytes") << 1001 << QByteArray(123, 'r') << QString()
                                         << hex("03 e9") + QByteArray(123, 'r');
    QTest::newRow("reason of 124 bytes") << 1001 << QByteArray(124, 'r') << tooLong
                                         << QByteArray();
    // Bytes, not characters: 61 x "é" + "a" is 123 bytes, 62 x "é" is 124.
    QTest::newRow("multibyte reason of 123 bytes")
            << 1000 << eAcute.repeated(61) + 'a' << QString()
            << hex("03 e8") + eAcute.repeated(61) + 'a';
    QTest::newRow("multibyte reason of 124 bytes") << 1000 << eAcute.repeated(62) << tooLong
                                                   << QByteArray();
    QTest::newRow("999") << 999 << QByteArray() << badCode << QByteArray();
    QTest::newRow("1004") << 1004 << QByteArray() << badCode << QByteArray();
    QTest::newRow("1005") << 1005 << QByteArray() << badCode << QByteArray();
    QTest::newRow("1006") << 1006 << QByteArray() << badCode << QByteArray();
    QTest::newRow("1015") << 1015 << QByteArray() << badCode << QByteArray();
    QTest::newRow("5000") << 5000 << QByteArray() << badCode << QByteArray();
    QTest::newRow("-1") << -1 << QByteArray() << badCode << QByteArray();
    // The code is checked before the reason.
    QTest::newRow("bad code and long reason") << 1005 << QByteArray(200, 'r') << badCode
                                              << QByteArray();
}

void tst_Frame::buildClosePayload()
{
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(QString, error);
    QFETCH(QByteArray, payload);

    // Whatever the output held before is replaced.
    QByteArray out("stale bytes");
    const WsError result = wsqt::core::buildClosePayload(code, reason, &out);
    if (error.isEmpty()) {
        QVERIFY2(!result.isError(), qPrintable(result.message()));
        QCOMPARE(out.toHex(' '), payload.toHex(' '));
    } else {
        QCOMPARE(result.code(), WsError::InvalidArgument);
        QCOMPARE(result.message(), error);
    }
}

QTEST_APPLESS_MAIN(tst_Frame)

#include "tst_frame.moc"
