// The frame writer: exact bytes of data and control frames, masking with an
// injected or a random key, the output queue (coalescing small frames,
// sharing large payloads), and a round trip through a Receiver.

#include "testsupport.h"
#include "wireframe.h"

#include <wsqt/core/receiver.h>
#include <wsqt/core/sender.h>

#include <QtCore/qrandom.h>
#include <QtCore/qset.h>
#include <QtTest/qtest.h>

#include <cstring>

using namespace wsqt::core;
using wsqt::test::hex;
using wsqt::test::wireFrame;

namespace {

// The key of RFC 6455 §5.7's masked examples.
const QByteArray kRfcKey = QByteArrayLiteral("\x37\xfa\x21\x3d");

MaskGenerator fixedKey(const QByteArray &key)
{
    return [key](uchar *out) { std::memcpy(out, key.constData(), 4); };
}

QByteArray pattern(qsizetype size, quint32 seed = 1)
{
    QRandomGenerator random(seed);
    QByteArray out(size, Qt::Uninitialized);
    for (char &c : out)
        c = char(random.bounded(256));
    return out;
}

QByteArray xorWith(const QByteArray &payload, const QByteArray &key)
{
    QByteArray out = payload;
    for (qsizetype i = 0; i < out.size(); ++i)
        out[i] = char(out[i] ^ key[i % 4]);
    return out;
}


QByteArray takeAll(Sender &sender)
{
    QByteArray out;
    while (sender.hasPending())
        out += sender.takeChunk();
    return out;
}

// A frame parsed back from the wire, by a reader written for the tests.
struct WireFrame
{
    quint8 b0 = 0;
    bool masked = false;
    QByteArray key;
    QByteArray payload;       // unmasked
};

QList<WireFrame> parseWire(const QByteArray &wire)
{
    QList<WireFrame> frames;
    const auto *p = reinterpret_cast<const uchar *>(wire.constData());
    qsizetype position = 0;
    while (position < wire.size()) {
        WireFrame frame;
        frame.b0 = p[position];
        frame.masked = p[position + 1] & 0x80;
        quint64 length = p[position + 1] & 0x7F;
        qsizetype at = position + 2;
        const int extended = length == 126 ? 2 : length == 127 ? 8 : 0;
        if (extended) {
            length = 0;
            for (int i = 0; i < extended; ++i)
                length = (length << 8) | p[at++];
        }
        if (frame.masked) {
            frame.key = wire.mid(at, 4);
            at += 4;
        }
        frame.payload = wire.mid(at, qsizetype(length));
        if (frame.masked)
            frame.payload = xorWith(frame.payload, frame.key);
        position = at + qsizetype(length);
        frames << frame;
    }
    return frames;
}

// Marks its output, so a test sees which payloads went through it.
class MarkingDeflater : public MessageDeflater
{
public:
    bool shouldCompress(qsizetype firstFragmentSize) const override { return firstFragmentSize >= 4; }
    WsError deflate(const char *data, qsizetype length, bool fin, QByteArray *out) override
    {
        out->append('<').append(data, length).append(fin ? "]" : ">");
        return {};
    }
};

} // namespace

class tst_Sender : public QObject
{
    Q_OBJECT

private slots:
    void singleFrames_data();
    void singleFrames();
    void fragmentedMessage();
    void injectedMaskKeys();
    void defaultMaskKeysDiffer();
    void largePayloadIsShared_data();
    void largePayloadIsShared();
    void maskedLargePayloadIsCopied();
    void maskedLargeFrameHasAChunkOfItsOwn();
    void smallFramesAreCoalesced();
    void pendingBytesAndOrder();
    void compressionOnFirstFragmentOnly();
    void roundTrip_data();
    void roundTrip();
};

void tst_Sender::singleFrames_data()
{
    QTest::addColumn<int>("opcode");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<bool>("mask");
    QTest::addColumn<QByteArray>("expected");

    const int textOp = int(Opcode::Text);
    const int binaryOp = int(Opcode::Binary);
    const QByteArray hello("Hello");
    // RFC 6455 §5.7.
    QTest::newRow("text Hello") << textOp << hello << false << hex("81 05 48 65 6c 6c 6f");
    QTest::newRow("text Hello masked") << textOp << hello << true
                                       << hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    QTest::newRow("ping Hello") << int(Opcode::Ping) << hello << false
                                << hex("89 05 48 65 6c 6c 6f");
    QTest::newRow("pong Hello masked") << int(Opcode::Pong) << hello << true
                                       << hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58");
    const QByteArray bytes256 = pattern(256);
    QTest::newRow("binary 256") << binaryOp << bytes256 << false << hex("82 7e 01 00") + bytes256;
    const QByteArray bytes64k = pattern(65536);
    QTest::newRow("binary 64 KiB") << binaryOp << bytes64k << false
                                   << hex("82 7f 00 00 00 00 00 01 00 00") + bytes64k;
    QTest::newRow("binary 64 KiB masked")
            << binaryOp << bytes64k << true
            << hex("82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d") + xorWith(bytes64k, kRfcKey);
    const QByteArray bytes65535 = pattern(65535);
    QTest::newRow("binary 65535") << binaryOp << bytes65535 << false << hex("82 7e ff ff") + bytes65535;
    QTest::newRow("binary 125") << binaryOp << bytes256.left(125) << false
                                << hex("82 7d") + bytes256.left(125);
    QTest::newRow("binary 126 masked") << binaryOp << bytes256.left(126) << true
                                       << hex("82 fe 00 7e 37 fa 21 3d")
                    + xorWith(bytes256.left(126), kRfcKey);

    // Empty frames: a header and nothing else.
    QTest::newRow("empty text") << textOp << QByteArray() << false << hex("81 00");
    QTest::newRow("empty binary masked") << binaryOp << QByteArray() << true
                                         << hex("82 80 37 fa 21 3d");
    QTest::newRow("empty ping") << int(Opcode::Ping) << QByteArray() << false << hex("89 00");
    QTest::newRow("empty close masked") << int(Opcode::Close) << QByteArray() << true
                                        << hex("88 80 37 fa 21 3d");
    QTest::newRow("close 1000 bye") << int(Opcode::Close) << hex("03 e8 62 79 65") << false
                                    << hex("88 05 03 e8 62 79 65");
    QTest::newRow("ping of 125 bytes") << int(Opcode::Ping) << QByteArray(125, 'p') << false
                                       << hex("89 7d") + QByteArray(125, 'p');
}

void tst_Sender::singleFrames()
{
    QFETCH(int, opcode);
    QFETCH(QByteArray, payload);
    QFETCH(bool, mask);
    QFETCH(QByteArray, expected);

    Sender sender(fixedKey(kRfcKey));
    QVERIFY(!sender.hasPending());
    if (isControlOpcode(quint8(opcode))) {
        sender.sendControl(Opcode(opcode), payload, mask);
    } else {
        const WsError error = sender.sendData(payload, opcode == int(Opcode::Binary), true, false, mask);
        QVERIFY(!error.isError());
    }
    QVERIFY(sender.hasPending());
    QCOMPARE(sender.pendingBytes(), qint64(expected.size()));
    const QByteArray wire = takeAll(sender);
    QCOMPARE(wire.size(), expected.size());
    QVERIFY2(wire == expected, qPrintable(QString::fromLatin1(wire.left(32).toHex(' '))));
    QCOMPARE(sender.pendingBytes(), qint64(0));
}

void tst_Sender::fragmentedMessage()
{
    // The first fragment carries the opcode, the others are continuations; a
    // control frame may go out between them; FIN ends the message, and the
    // next message has its own opcode again.
    Sender sender(fixedKey(kRfcKey));
    QVERIFY(!sender.sendData("Hel", false, false, false, false));
    sender.sendControl(Opcode::Ping, "p", false);
    // The `binary` argument of a continuation does not matter.
    QVERIFY(!sender.sendData("l", true, false, false, false));
    QVERIFY(!sender.sendData({}, false, false, false, false));
    QVERIFY(!sender.sendData("o", false, true, false, false));
    QVERIFY(!sender.sendData("x", true, true, false, false));
    QVERIFY(!sender.sendData("y", true, false, false, true));
    QVERIFY(!sender.sendData("z", false, true, false, true));
    QCOMPARE(takeAll(sender).toHex(' '),
             hex("01 03 48 65 6c"
                 "89 01 70"
                 "00 01 6c"
                 "00 00"
                 "80 01 6f"
                 "82 01 78"
                 "02 81 37 fa 21 3d 4e"     // 'y' ^ 0x37
                 "80 81 37 fa 21 3d 4d")    // 'z' ^ 0x37
                     .toHex(' '));
}

void tst_Sender::injectedMaskKeys()
{
    // Each masked frame gets the next key from the generator, unmasked frames none.
    int calls = 0;
    Sender sender([&calls](uchar *key) {
        ++calls;
        for (int i = 0; i < 4; ++i)
            key[i] = uchar(calls * 16 + i);
    });
    const QByteArrayList payloads = {"first", {}, pattern(300), "unmasked", pattern(70000, 2)};
    const QList<bool> masks = {true, true, true, false, true};
    for (int i = 0; i < payloads.size(); ++i)
        QVERIFY(!sender.sendData(payloads[i], true, true, false, masks[i]));
    sender.sendControl(Opcode::Ping, "ping", true);
    QCOMPARE(calls, 5);

    const QList<WireFrame> frames = parseWire(takeAll(sender));
    QCOMPARE(frames.size(), 6);
    int expectedCall = 0;
    for (int i = 0; i < frames.size(); ++i) {
        const bool masked = i < masks.size() ? masks[i] : true;
        QCOMPARE(frames[i].masked, masked);
        QCOMPARE(frames[i].payload, i < payloads.size() ? payloads[i] : QByteArray("ping"));
        if (masked) {
            ++expectedCall;
            const char first = char(expectedCall * 16);
            QCOMPARE(frames[i].key, QByteArray() + first + char(first + 1) + char(first + 2) + char(first + 3));
        }
    }
}

void tst_Sender::defaultMaskKeysDiffer()
{
    // Without a generator the keys are random: 100 keys, practically all distinct.
    Sender sender;
    for (int i = 0; i < 100; ++i)
        QVERIFY(!sender.sendData("x", false, true, false, true));
    const QList<WireFrame> frames = parseWire(takeAll(sender));
    QCOMPARE(frames.size(), 100);
    QSet<QByteArray> keys;
    for (const WireFrame &frame : frames) {
        QVERIFY(frame.masked);
        QCOMPARE(frame.payload, QByteArray("x"));
        keys.insert(frame.key);
    }
    QVERIFY2(keys.size() >= 99, qPrintable(QString::number(keys.size())));
}

void tst_Sender::largePayloadIsShared_data()
{
    QTest::addColumn<qsizetype>("size");
    QTest::addColumn<QByteArray>("header");

    QTest::newRow("16 KiB") << qsizetype(16 * 1024) << hex("82 7e 40 00");
    QTest::newRow("1 MiB") << qsizetype(1 << 20) << hex("82 7f 00 00 00 00 00 10 00 00");
}

void tst_Sender::largePayloadIsShared()
{
    // A large unmasked payload goes out as the caller's buffer (implicitly
    // shared, not copied), between the frames queued before and after it.
    QFETCH(qsizetype, size);
    QFETCH(QByteArray, header);

    const QByteArray payload = pattern(size);
    Sender sender;
    QVERIFY(!sender.sendData("a", false, true, false, false));
    QVERIFY(!sender.sendData(payload, true, true, false, false));
    QVERIFY(!sender.sendData("b", false, true, false, false));
    QCOMPARE(sender.pendingBytes(), qint64(3 + header.size() + size + 3));

    QByteArrayList chunks;
    while (sender.hasPending())
        chunks << sender.takeChunk();
    QCOMPARE(chunks.size(), 3);
    QCOMPARE(chunks[0].toHex(' '), (hex("81 01 61") + header).toHex(' '));
    QCOMPARE(chunks[1].constData(), payload.constData());
    QCOMPARE(chunks[1].size(), payload.size());
    QCOMPARE(chunks[2].toHex(' '), hex("81 01 62").toHex(' '));
    QCOMPARE(sender.pendingBytes(), qint64(0));
}

void tst_Sender::maskedLargePayloadIsCopied()
{
    // Masking changes the bytes, so the caller's buffer is left as it was.
    const QByteArray payload = pattern(1 << 20);
    const QByteArray original = payload;
    Sender sender(fixedKey(hex("01 02 03 04")));
    QVERIFY(!sender.sendData(payload, true, true, false, true));
    const QByteArray wire = takeAll(sender);
    QCOMPARE(payload, original);
    QCOMPARE(wire.size(), 14 + payload.size());
    QCOMPARE(wire.left(14).toHex(' '), hex("82 ff 00 00 00 00 00 10 00 00 01 02 03 04").toHex(' '));
    QVERIFY(wire.mid(14) == xorWith(payload, hex("01 02 03 04")));
}

void tst_Sender::maskedLargeFrameHasAChunkOfItsOwn()
{
    // Small frames on either side of a large masked one are not coalesced
    // with it: its chunk is allocated once, at its size, and never grown.
    const QByteArray key = hex("01 02 03 04");
    const QByteArray large = pattern(20000);
    Sender sender(fixedKey(key));
    QVERIFY(!sender.sendData("a", false, true, false, true));
    QVERIFY(!sender.sendData(large, true, true, false, true));
    QVERIFY(!sender.sendData("b", false, true, false, true));
    QByteArrayList chunks;
    while (sender.hasPending())
        chunks << sender.takeChunk();
    QCOMPARE(chunks.size(), 3);
    QCOMPARE(chunks[0].toHex(' '), wireFrame(0x81, "a", key).toHex(' '));
    QCOMPARE(chunks[1].size(), 8 + large.size());
    QVERIFY(chunks[1] == wireFrame(0x82, large, key));
    QCOMPARE(chunks[2].toHex(' '), wireFrame(0x81, "b", key).toHex(' '));
}

void tst_Sender::smallFramesAreCoalesced()
{
    // Many small frames come out as one chunk, in order.
    Sender sender(fixedKey(kRfcKey));
    QByteArray expected;
    for (int i = 0; i < 50; ++i) {
        const QByteArray payload = QByteArray::number(i);
        const bool masked = i % 2;
        QVERIFY(!sender.sendData(payload, false, true, false, masked));
        expected += wireFrame(0x81, payload, masked ? kRfcKey : QByteArray());
    }
    sender.sendControl(Opcode::Ping, {}, false);
    expected += hex("89 00");
    QCOMPARE(sender.pendingBytes(), qint64(expected.size()));
    const QByteArray chunk = sender.takeChunk();
    QVERIFY(!sender.hasPending());
    QCOMPARE(chunk.toHex(' '), expected.toHex(' '));
}

void tst_Sender::pendingBytesAndOrder()
{
    // A mix of sizes, masked and not: pendingBytes() counts header plus
    // payload of every frame, each takeChunk() takes its own size off it,
    // and the chunks in order are exactly the frames in order.
    QRandomGenerator random(42);
    const QByteArray key = hex("a1 b2 c3 d4");
    Sender sender(fixedKey(key));
    QByteArray expected;
    qint64 pending = 0;
    for (int i = 0; i < 200; ++i) {
        const qsizetype sizes[] = {0, 1, 125, 126, 5000, 16 * 1024, 70000};
        const QByteArray payload = pattern(sizes[random.bounded(7)], quint32(i));
        const bool masked = random.bounded(2);
        QVERIFY(!sender.sendData(payload, true, true, false, masked));
        const QByteArray frame = wireFrame(0x82, payload, masked ? key : QByteArray());
        pending += frame.size();
        QCOMPARE(sender.pendingBytes(), pending);
        expected += frame;
        // Take a chunk now and then, so that taking and queueing interleave.
        if (random.bounded(4) == 0) {
            const QByteArray chunk = sender.takeChunk();
            pending -= chunk.size();
            QCOMPARE(sender.pendingBytes(), pending);
            QVERIFY2(expected.startsWith(chunk), "chunk out of order");
            expected.remove(0, chunk.size());
        }
    }
    while (sender.hasPending()) {
        const QByteArray chunk = sender.takeChunk();
        QVERIFY(!chunk.isEmpty());
        pending -= chunk.size();
        QCOMPARE(sender.pendingBytes(), pending);
        QVERIFY2(expected.startsWith(chunk), "chunk out of order");
        expected.remove(0, chunk.size());
    }
    QCOMPARE(pending, qint64(0));
    QVERIFY(expected.isEmpty());
    QVERIFY(sender.takeChunk().isEmpty());
}

void tst_Sender::compressionOnFirstFragmentOnly()
{
    // The first fragment decides: RSV1 on it alone, and every fragment of the
    // message goes through the deflater; compress=false or a first fragment
    // the deflater declines leaves the whole message as it is.
    MarkingDeflater deflater;
    Sender sender;
    sender.setDeflater(&deflater);
    QVERIFY(!sender.sendData("abcd", false, false, true, false));
    QVERIFY(!sender.sendData("e", false, false, true, false));
    QVERIFY(!sender.sendData("fg", false, true, true, false));
    QVERIFY(!sender.sendData("abc", true, false, true, false));        // declined: too small
    QVERIFY(!sender.sendData("defghijk", true, true, true, false));
    QVERIFY(!sender.sendData("abcdef", true, true, false, false));     // compress=false
    sender.sendControl(Opcode::Ping, "ping", false);
    QCOMPARE(takeAll(sender).toHex(' '),
             hex("41 06 3c 61 62 63 64 3e"          // RSV1, "<abcd>"
                 "00 03 3c 65 3e"                   // "<e>"
                 "80 04 3c 66 67 5d"                // "<fg]"
                 "02 03 61 62 63"
                 "80 08 64 65 66 67 68 69 6a 6b"
                 "82 06 61 62 63 64 65 66"
                 "89 04 70 69 6e 67")
                     .toHex(' '));
}

void tst_Sender::roundTrip_data()
{
    QTest::addColumn<quint32>("seed");
    QTest::addColumn<bool>("fromClient");

    for (quint32 seed = 1; seed <= 6; ++seed) {
        QTest::addRow("client to server, seed %u", seed) << seed << true;
        QTest::addRow("server to client, seed %u", seed) << seed << false;
    }
}

void tst_Sender::roundTrip()
{
    // Random messages in random fragments with control frames between them,
    // written by a Sender and read by a Receiver of the other role in random
    // pieces: the same messages come out.
    QFETCH(quint32, seed);
    QFETCH(bool, fromClient);

    QRandomGenerator random(seed);
    Sender sender;
    ReceiverOptions options;
    options.role = fromClient ? Role::Server : Role::Client;
    Receiver receiver(options);

    struct Expected { ReceiverEvent::Type type; bool binary; QByteArray data; };
    QList<Expected> expected;
    QList<Expected> got;
    const auto deliver = [&] {
        const QByteArray wire = takeAll(sender);
        qsizetype position = 0;
        while (position < wire.size()) {
            const qsizetype n = qMin<qsizetype>(wire.size() - position, random.bounded(1, 3000));
            receiver.feed(wire.constData() + position, n);
            position += n;
            ReceiverEvent event;
            while (receiver.next(&event)) {
                got << Expected{event.type, event.binary, event.data};
                event = ReceiverEvent();
            }
        }
    };

    for (int m = 0; m < 60; ++m) {
        const bool isBinary = random.bounded(2);
        const qsizetype limits[] = {1, 126, 1000, 70000};
        const qsizetype most = limits[random.bounded(4)];
        QByteArray payload;
        if (isBinary) {
            payload = pattern(random.bounded(most), seed * 1000 + quint32(m));
        } else {
            // Code points of every UTF-8 length, surrogates excepted.
            const char32_t ranges[][2] = {{0x20, 0x7e}, {0xa0, 0x7ff}, {0x800, 0xd7ff},
                                          {0xe000, 0xffff}, {0x10000, 0x10ffff}};
            const qsizetype size = random.bounded(most);
            while (payload.size() < size) {
                const auto &range = ranges[random.bounded(5)];
                const char32_t c = range[0] + random.bounded(range[1] - range[0] + 1);
                payload += QString::fromUcs4(&c, 1).toUtf8();
            }
        }
        // Cut anywhere, even inside a code point; some fragments empty.
        const int fragments = random.bounded(1, 5);
        QList<qsizetype> cuts = {0, payload.size()};
        for (int f = 1; f < fragments; ++f)
            cuts << random.bounded(payload.size() + 1);
        std::sort(cuts.begin(), cuts.end());
        for (int f = 0; f + 1 < cuts.size(); ++f) {
            const bool fin = f + 2 == cuts.size();
            QVERIFY(!sender.sendData(payload.mid(cuts[f], cuts[f + 1] - cuts[f]), isBinary, fin,
                                     false, fromClient));
            if (fin)
                expected << Expected{ReceiverEvent::Message, isBinary, payload};
            if (random.bounded(4) == 0) {
                const QByteArray body = pattern(random.bounded(126), quint32(m));
                const bool isPing = random.bounded(2);
                sender.sendControl(isPing ? Opcode::Ping : Opcode::Pong, body, fromClient);
                expected << Expected{isPing ? ReceiverEvent::Ping : ReceiverEvent::Pong, false, body};
            }
            if (random.bounded(3) == 0)
                deliver();
        }
    }
    deliver();

    QCOMPARE(got.size(), expected.size());
    for (int i = 0; i < got.size(); ++i) {
        QCOMPARE(got[i].type, expected[i].type);
        QCOMPARE(got[i].binary, expected[i].binary);
        QVERIFY2(got[i].data == expected[i].data, qPrintable(QStringLiteral("event %1").arg(i)));
    }
}

QTEST_APPLESS_MAIN(tst_Sender)

#include "tst_sender.moc"
