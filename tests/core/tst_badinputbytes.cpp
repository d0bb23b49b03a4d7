// Bad inputs at the byte level (doc/bad-inputs.md) that the module tests
// leave open. Item 19: nothing reads outside the bytes it is given, checked
// with inaccessible pages right before and right after them, so that an
// over-read (libhv#769) or an under-read crashes here even without a
// sanitizer: masking with every implementation, UTF-8 validation with every
// implementation, and the frame parser fed a masked frame cut anywhere.

#include <wsqt/core/mask.h>
#include <wsqt/core/receiver.h>
#include <wsqt/core/utf8.h>

#include <QtTest/qtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

using namespace wsqt::core;

namespace {

// Readable and writable pages with an inaccessible page on each side.
class GuardedPages
{
public:
    explicit GuardedPages(std::size_t size)
    {
        m_pageSize = std::size_t(::sysconf(_SC_PAGESIZE));
        m_size = (size + m_pageSize - 1) / m_pageSize * m_pageSize;
        void *base = ::mmap(nullptr, m_size + 2 * m_pageSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED)
            qFatal("mmap failed");
        m_base = static_cast<char *>(base);
        if (::mprotect(m_base + m_pageSize, m_size, PROT_READ | PROT_WRITE) != 0)
            qFatal("mprotect failed");
    }
    ~GuardedPages() { ::munmap(m_base, m_size + 2 * m_pageSize); }
    Q_DISABLE_COPY_MOVE(GuardedPages)

    // `bytes` copied so that they start right after the first guard page.
    char *atStart(const QByteArray &bytes) { return place(bytes, 0); }
    // `bytes` copied so that they end right before the last guard page.
    char *atEnd(const QByteArray &bytes) { return place(bytes, m_size - std::size_t(bytes.size())); }

private:
    char *place(const QByteArray &bytes, std::size_t offset)
    {
        char *at = m_base + m_pageSize + offset;
        std::memcpy(at, bytes.constData(), std::size_t(bytes.size()));
        return at;
    }

    char *m_base = nullptr;
    std::size_t m_pageSize = 0;
    std::size_t m_size = 0;
};

// Lengths around every vector width, and some long ones.
QList<int> lengths()
{
    QList<int> result;
    for (int length = 0; length <= 130; ++length)
        result << length;
    result << 255 << 256 << 257 << 1000 << 4095 << 4096;
    return result;
}

QByteArray patterned(int length)
{
    QByteArray bytes(length, Qt::Uninitialized);
    for (int i = 0; i < length; ++i)
        bytes[i] = char(i * 13 + 7);
    return bytes;
}

// `length` bytes of UTF-8 with code points of every length; when `cut`, the
// last byte starts a 4-byte sequence that the text leaves unfinished.
QByteArray utf8Text(int length, bool cut)
{
    if (cut && length > 0)
        return utf8Text(length - 1, false) + char(0xf0);
    const QByteArray unit = QByteArrayLiteral("a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e");
    QByteArray text;
    while (text.size() + unit.size() <= length)
        text += unit;
    return text + QByteArray(length - text.size(), 'z');
}

} // namespace

class tst_BadInputBytes : public QObject
{
    Q_OBJECT

private slots:
    void item19_maskingStaysInside();
    void item19_utf8ValidationStaysInside();
    void item19_partialMaskedFrameAtBufferEnd_data();
    void item19_partialMaskedFrameAtBufferEnd();
};

void tst_BadInputBytes::item19_maskingStaysInside()
{
    const uchar key[4] = {0x37, 0xfa, 0x21, 0x3d};
    GuardedPages source(8192);
    GuardedPages destination(8192);
    for (int length : lengths()) {
        const QByteArray payload = patterned(length);
        for (std::size_t phase = 0; phase < 4; ++phase) {
            QByteArray expected = payload;
            applyMaskScalar(expected.data(), std::size_t(length), key, phase);
            for (const QByteArray &implementation : maskImplementations()) {
                const QByteArray where = implementation + ", length " + QByteArray::number(length) + ", phase "
                        + QByteArray::number(qulonglong(phase));
                // From a source at either edge to a destination at the other.
                const char *fromStart = source.atStart(payload);
                char *toEnd = destination.atEnd(payload);
                copyMaskedWith(implementation, toEnd, fromStart, std::size_t(length), key, phase);
                QVERIFY2(QByteArray(toEnd, length) == expected, where.constData());
                const char *fromEnd = source.atEnd(payload);
                char *toStart = destination.atStart(payload);
                copyMaskedWith(implementation, toStart, fromEnd, std::size_t(length), key, phase);
                QVERIFY2(QByteArray(toStart, length) == expected, where.constData());
                // In place, against either edge.
                for (char *data : {source.atStart(payload), source.atEnd(payload)}) {
                    copyMaskedWith(implementation, data, data, std::size_t(length), key, phase);
                    QVERIFY2(QByteArray(data, length) == expected, where.constData());
                }
            }
            for (char *data : {source.atStart(payload), source.atEnd(payload)}) {
                applyMask(data, std::size_t(length), key, phase);
                QCOMPARE(QByteArray(data, length), expected);
            }
        }
    }
}

void tst_BadInputBytes::item19_utf8ValidationStaysInside()
{
    GuardedPages pages(8192);
    for (int length : lengths()) {
        for (bool cut : {false, true}) {
            const QByteArray text = utf8Text(length, cut);
            const bool valid = isValidUtf8Scalar(text.constData(), std::size_t(length));
            QCOMPARE(valid, !cut || length == 0);
            for (const QByteArray &implementation : utf8Implementations()) {
                for (const char *data : {pages.atStart(text), pages.atEnd(text)}) {
                    QVERIFY2(isValidUtf8With(implementation, data, std::size_t(length)) == valid,
                             (implementation + ", length " + QByteArray::number(length)).constData());
                }
            }
            for (const char *data : {pages.atStart(text), pages.atEnd(text)}) {
                Utf8Validator validator;
                QVERIFY(validator.feed(data, std::size_t(length)));
                QCOMPARE(validator.isComplete(), valid);
            }
        }
    }
}

void tst_BadInputBytes::item19_partialMaskedFrameAtBufferEnd_data()
{
    QTest::addColumn<int>("payloadSize");
    QTest::addColumn<bool>("text");

    QTest::newRow("binary, 7-bit length") << 100 << false;
    QTest::newRow("binary, 16-bit length") << 300 << false;
    QTest::newRow("text, 16-bit length") << 300 << true;
    QTest::newRow("binary, 64-bit length") << 70000 << false;
}

void tst_BadInputBytes::item19_partialMaskedFrameAtBufferEnd()
{
    // A masked frame fed in two reads cut anywhere, each read's bytes ending
    // at an inaccessible page: the parser takes exactly those bytes, gives
    // nothing until the frame is whole, then the payload unmasked.
    QFETCH(int, payloadSize);
    QFETCH(bool, text);

    const QByteArray payload = text ? utf8Text(payloadSize, false) : patterned(payloadSize);
    const uchar key[4] = {0x9b, 0x1c, 0x00, 0xe7};
    QByteArray frame(1, char(text ? 0x81 : 0x82));
    if (payloadSize < 126) {
        frame += char(0x80 | payloadSize);
    } else if (payloadSize < 65536) {
        frame += char(0x80 | 126);
        frame += char(payloadSize >> 8);
        frame += char(payloadSize & 0xff);
    } else {
        frame += char(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            frame += char((quint64(payloadSize) >> shift) & 0xff);
    }
    frame.append(reinterpret_cast<const char *>(key), 4);
    const qsizetype header = frame.size();
    frame += payload;
    applyMaskScalar(frame.data() + header, std::size_t(payloadSize), key);

    GuardedPages pages(std::size_t(frame.size()));
    QList<qsizetype> cuts;
    for (qsizetype cut = 1; cut < frame.size(); cut += cut < header + 70 ? 1 : 997)
        cuts << cut;
    cuts << frame.size() - 1;
    for (qsizetype cut : std::as_const(cuts)) {
        ReceiverOptions options;
        options.role = Role::Server;
        Receiver receiver(options);
        ReceiverEvent event;
        receiver.feed(pages.atEnd(frame.left(cut)), cut);
        QVERIFY2(!receiver.next(&event), qPrintable(QStringLiteral("an event after %1 bytes").arg(cut)));
        receiver.feed(pages.atEnd(frame.mid(cut)), frame.size() - cut);
        QVERIFY(receiver.next(&event));
        QCOMPARE(event.type, ReceiverEvent::Message);
        QCOMPARE(event.binary, !text);
        QVERIFY2(event.data == payload, qPrintable(QStringLiteral("cut at %1").arg(cut)));
        QVERIFY(!receiver.next(&event));
    }
}

QTEST_APPLESS_MAIN(tst_BadInputBytes)

#include "tst_badinputbytes.moc"
