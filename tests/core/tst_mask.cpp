#include "wsqt/core/mask.h"

#include "testsupport.h"

#include <QtCore/qprocess.h>
#include <QtCore/qrandom.h>
#include <QtTest/qtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <memory>

using namespace wsqt::core;
using wsqt::test::hex;

namespace {

// The definition, byte by byte (RFC 6455 §5.3).
QByteArray referenceMask(const QByteArray &data, const uchar key[4], std::size_t phase)
{
    QByteArray out = data;
    for (qsizetype i = 0; i < out.size(); ++i)
        out[i] = char(uchar(out[i]) ^ key[(phase + std::size_t(i)) % 4]);
    return out;
}

QByteArray randomBytes(QRandomGenerator &rng, qsizetype length)
{
    QByteArray bytes(length, Qt::Uninitialized);
    for (char &byte : bytes)
        byte = char(rng.bounded(256));
    return bytes;
}

// A heap block that ends exactly where the data ends, so that AddressSanitizer
// reports any access past it; the `offset` bytes before the data (to place it
// at any alignment) are filled with a pattern that must survive.
class ExactBuffer
{
public:
    ExactBuffer(std::size_t offset, const QByteArray &contents)
        : m_offset(offset), m_block(new char[offset + std::size_t(contents.size())])
    {
        std::memset(m_block.get(), kGuard, offset);
        if (!contents.isEmpty())
            std::memcpy(data(), contents.constData(), std::size_t(contents.size()));
        m_size = std::size_t(contents.size());
    }

    char *data() { return m_block.get() + m_offset; }
    QByteArray contents() { return QByteArray(data(), qsizetype(m_size)); }
    bool guardIntact() const
    {
        for (std::size_t i = 0; i < m_offset; ++i) {
            if (m_block[i] != kGuard)
                return false;
        }
        return true;
    }

private:
    static constexpr char kGuard = char(0xA5);
    std::size_t m_offset;
    std::size_t m_size = 0;
    std::unique_ptr<char[]> m_block;
};

const char *const kImplementationNames[] = { "avx2", "sse2", "neon", "scalar" };

} // namespace

class tst_Mask : public QObject
{
    Q_OBJECT

private slots:
    void rfcExample();
    void matchesReference_data();
    void matchesReference();
    void chunked_data();
    void chunked();
    void noWritesOutside_data();
    void noWritesOutside();
    void largePhase();
    void implementationFollowsEnvironment();
    void environmentSwitch_data();
    void environmentSwitch();
};

void tst_Mask::rfcExample()
{
    // RFC 6455 §5.7: a masked text frame carrying "Hello".
    const uchar key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    const QByteArray masked = hex("7f 9f 4d 51 58");

    QByteArray unmasked = masked;
    applyMask(unmasked.data(), std::size_t(unmasked.size()), key);
    QCOMPARE(unmasked, QByteArray("Hello"));

    QByteArray scalar = masked;
    applyMaskScalar(scalar.data(), std::size_t(scalar.size()), key);
    QCOMPARE(scalar, QByteArray("Hello"));

    const QByteArray hello("Hello");
    QByteArray copied(hello.size(), '\0');
    copyMasked(copied.data(), hello.constData(), std::size_t(hello.size()), key);
    QCOMPARE(copied, masked);

    // Unmasking "lo" alone, as bytes 3 and 4 of the payload.
    QByteArray tail = masked.mid(3);
    applyMask(tail.data(), std::size_t(tail.size()), key, 3);
    QCOMPARE(tail, QByteArray("lo"));
}

void tst_Mask::matchesReference_data()
{
    QTest::addColumn<int>("length");
    QTest::addColumn<int>("phase");
    for (int length = 0; length <= 300; ++length) {
        for (int phase = 0; phase < 4; ++phase)
            QTest::addRow("length %d phase %d", length, phase) << length << phase;
    }
}

// Every start alignment: offsets 0..31 into an exact-size heap block.
void tst_Mask::matchesReference()
{
    QFETCH(int, length);
    QFETCH(int, phase);
    QRandomGenerator rng(quint32(length * 4 + phase));
    uchar key[4];
    for (uchar &byte : key)
        byte = uchar(rng.bounded(256));

    for (std::size_t offset = 0; offset < 32; ++offset) {
        const QByteArray data = randomBytes(rng, length);
        const QByteArray expected = referenceMask(data, key, std::size_t(phase));

        ExactBuffer inPlace(offset, data);
        applyMask(inPlace.data(), std::size_t(length), key, std::size_t(phase));
        QVERIFY2(inPlace.contents() == expected,
                 qPrintable(QStringLiteral("applyMask, offset %1").arg(offset)));
        QVERIFY(inPlace.guardIntact());

        ExactBuffer scalar(offset, data);
        applyMaskScalar(scalar.data(), std::size_t(length), key, std::size_t(phase));
        QVERIFY2(scalar.contents() == expected,
                 qPrintable(QStringLiteral("applyMaskScalar, offset %1").arg(offset)));
        QVERIFY(scalar.guardIntact());

        // Source and destination at different alignments.
        ExactBuffer source(offset, data);
        ExactBuffer destination((offset * 7 + 3) % 32, QByteArray(length, '\0'));
        copyMasked(destination.data(), source.data(), std::size_t(length), key, std::size_t(phase));
        QVERIFY2(destination.contents() == expected,
                 qPrintable(QStringLiteral("copyMasked, offset %1").arg(offset)));
        QCOMPARE(source.contents(), data);
        QVERIFY(destination.guardIntact());

        // copyMasked onto itself.
        ExactBuffer same(offset, data);
        copyMasked(same.data(), same.data(), std::size_t(length), key, std::size_t(phase));
        QVERIFY2(same.contents() == expected,
                 qPrintable(QStringLiteral("copyMasked in place, offset %1").arg(offset)));

        // Every implementation this machine has, not only the chosen one.
        for (const QByteArray &name : maskImplementations()) {
            ExactBuffer copy((offset * 5 + 1) % 32, QByteArray(length, '\0'));
            copyMaskedWith(name, copy.data(), source.data(), std::size_t(length), key,
                           std::size_t(phase));
            QVERIFY2(copy.contents() == expected,
                     qPrintable(QStringLiteral("%1, offset %2")
                                        .arg(QLatin1String(name))
                                        .arg(offset)));
            QVERIFY(copy.guardIntact());
            ExactBuffer own(offset, data);
            copyMaskedWith(name, own.data(), own.data(), std::size_t(length), key,
                           std::size_t(phase));
            QVERIFY2(own.contents() == expected,
                     qPrintable(QStringLiteral("%1 in place, offset %2")
                                        .arg(QLatin1String(name))
                                        .arg(offset)));
            QVERIFY(own.guardIntact());
        }
    }
}

void tst_Mask::chunked_data()
{
    QTest::addColumn<int>("length");
    for (int length : { 1, 7, 33, 100, 257, 300, 1000, 4099 })
        QTest::addRow("length %d", length) << length;
}

// Unmasking a payload piece by piece, as it arrives, gives the same bytes as
// unmasking it whole, whatever the pieces.
void tst_Mask::chunked()
{
    QFETCH(int, length);
    QRandomGenerator rng(static_cast<quint32>(length));
    const uchar key[4] = { 0x12, 0x9a, 0xfe, 0x01 };
    const QByteArray data = randomBytes(rng, length);
    const QByteArray expected = referenceMask(data, key, 0);

    for (int round = 0; round < 50; ++round) {
        QByteArray inPlace = data;
        QByteArray scalar = data;
        QByteArray copied(length, '\0');
        const QList<QByteArray> names = maskImplementations();
        QList<QByteArray> each(names.size(), data);
        std::size_t done = 0;
        while (done < std::size_t(length)) {
            const std::size_t piece =
                    qMin(std::size_t(rng.bounded(1, 70)), std::size_t(length) - done);
            // Each piece in its own exact-size block, as a receive buffer would hold it.
            ExactBuffer buffer(0, data.mid(qsizetype(done), qsizetype(piece)));
            applyMask(buffer.data(), piece, key, done);
            inPlace.replace(qsizetype(done), qsizetype(piece), buffer.contents());
            applyMaskScalar(scalar.data() + done, piece, key, done);
            copyMasked(copied.data() + done, data.constData() + done, piece, key, done);
            for (qsizetype i = 0; i < names.size(); ++i) {
                char *at = each[i].data() + done;
                copyMaskedWith(names[i], at, at, piece, key, done);
            }
            done += piece;
        }
        QCOMPARE(inPlace, expected);
        QCOMPARE(scalar, expected);
        QCOMPARE(copied, expected);
        for (qsizetype i = 0; i < names.size(); ++i)
            QVERIFY2(each[i] == expected, names[i].constData());
    }
}

void tst_Mask::noWritesOutside_data()
{
    QTest::addColumn<int>("length");
    for (int length :
         { 0, 1, 3, 4, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 257, 1000 })
        QTest::addRow("length %d", length) << length;
}

// Guard bytes on both sides stay as they were, without relying on a sanitizer.
void tst_Mask::noWritesOutside()
{
    QFETCH(int, length);
    const uchar key[4] = { 0xff, 0xff, 0xff, 0xff };
    constexpr int kGuard = 64;
    for (int offset = 0; offset < 32; ++offset) {
        QByteArray buffer(kGuard + offset + length + kGuard, char(0x5a));
        char *data = buffer.data() + kGuard + offset;
        QByteArray expected = buffer;
        for (int i = 0; i < length; ++i)
            expected[kGuard + offset + i] = char(~0x5a);

        QByteArray inPlace = buffer;
        applyMask(inPlace.data() + kGuard + offset, std::size_t(length), key, 1);
        QCOMPARE(inPlace, expected);

        QByteArray scalar = buffer;
        applyMaskScalar(scalar.data() + kGuard + offset, std::size_t(length), key, 1);
        QCOMPARE(scalar, expected);

        QByteArray copied = buffer;
        copyMasked(copied.data() + kGuard + offset, data, std::size_t(length), key, 1);
        QCOMPARE(copied, expected);

        for (const QByteArray &name : maskImplementations()) {
            QByteArray each = buffer;
            copyMaskedWith(name, each.data() + kGuard + offset, data, std::size_t(length), key, 1);
            QVERIFY2(each == expected, name.constData());
        }
    }
}

void tst_Mask::largePhase()
{
    // Only phase % 4 matters, also past 32 bits.
    const uchar key[4] = { 1, 2, 4, 8 };
    const QByteArray data(77, '\0');
    const std::size_t phase = (std::size_t(1) << 40) + 3;
    QByteArray masked = data;
    applyMask(masked.data(), std::size_t(masked.size()), key, phase);
    QCOMPARE(masked, referenceMask(data, key, 3));
    QCOMPARE(masked.left(5), hex("08 01 02 04 08"));
}

// Runs in this process and, through environmentSwitch(), in child processes
// with WS_NO_BUFFER_UTIL set or empty.
void tst_Mask::implementationFollowsEnvironment()
{
    const QByteArray name = maskImplementation();
    qInfo("mask implementation: %s", name.constData());
    QVERIFY(std::find(std::begin(kImplementationNames), std::end(kImplementationNames), name)
            != std::end(kImplementationNames));
    const QList<QByteArray> available = maskImplementations();
    QCOMPARE(available.last(), QByteArray("scalar"));
    const bool disabled = !qEnvironmentVariableIsEmpty("WS_NO_BUFFER_UTIL");
    QCOMPARE(name, disabled ? QByteArray("scalar") : available.first());
#if defined(__x86_64__) || defined(_M_X64) || defined(__ARM_NEON)
    QVERIFY(available.size() > 1); // this platform has a vector path
#endif
    // Whichever it is, it masks.
    const uchar key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    const QByteArray text = QByteArray("Hello, world! ").repeated(7);
    QByteArray payload = text;
    applyMask(payload.data(), std::size_t(payload.size()), key, 2);
    QCOMPARE(payload, referenceMask(text, key, 2));
}

void tst_Mask::environmentSwitch_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("scalar");
    QTest::newRow("1") << QStringLiteral("1") << true;
    QTest::newRow("0 (any non-empty value)") << QStringLiteral("0") << true;
    QTest::newRow("yes") << QStringLiteral("yes") << true;
#if defined(__x86_64__) || defined(_M_X64) || defined(__ARM_NEON)
    QTest::newRow("empty") << QString() << false;
#endif
}

void tst_Mask::environmentSwitch()
{
    QFETCH(QString, value);
    QFETCH(bool, scalar);
    QByteArray failure;
    const QByteArray output = wsqt::test::runSelfWithEnvironment(
            QStringLiteral("WS_NO_BUFFER_UTIL"), value, QStringLiteral("implementationFollowsEnvironment"), &failure);
    QVERIFY2(!output.isNull(), failure.constData());
    QCOMPARE(output.contains("mask implementation: scalar"), scalar);
}

QTEST_GUILESS_MAIN(tst_Mask)
#include "tst_mask.moc"
