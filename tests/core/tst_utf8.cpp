#include "wsqt/core/utf8.h"

#include "testsupport.h"

#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qprocess.h>
#include <QtCore/qrandom.h>
#include <QtTest/qtest.h>

#include <algorithm>
#include <iterator>

using namespace wsqt::core;
using wsqt::test::hex;

namespace {

enum class Verdict { Valid, Truncated, Invalid };

// What RFC 3629 §4 says about a text: the offset of the first byte that no
// valid text can have there (-1 if none), and whether it ends on a code point
// boundary.
struct Expected
{
    qsizetype firstInvalid = -1;
    bool complete = true;

    Verdict verdict() const
    {
        if (firstInvalid >= 0)
            return Verdict::Invalid;
        return complete ? Verdict::Valid : Verdict::Truncated;
    }
};

// A direct reading of the grammar, independent of the implementation.
Expected reference(const QByteArray &text)
{
    qsizetype i = 0;
    while (i < text.size()) {
        const uint lead = uchar(text[i]);
        if (lead < 0x80) {
            ++i;
            continue;
        }
        int length = 0;
        uint secondLow = 0x80;
        uint secondHigh = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            if (lead == 0xE0)
                secondLow = 0xA0;  // else overlong
            if (lead == 0xED)
                secondHigh = 0x9F; // else a surrogate
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            if (lead == 0xF0)
                secondLow = 0x90;  // else overlong
            if (lead == 0xF4)
                secondHigh = 0x8F; // else above U+10FFFF
        } else {
            return { i, false };
        }
        for (int k = 1; k < length; ++k) {
            if (i + k == text.size())
                return { -1, false };
            const uint byte = uchar(text[i + k]);
            const bool fits = k == 1 ? byte >= secondLow && byte <= secondHigh
                                     : byte >= 0x80 && byte <= 0xBF;
            if (!fits)
                return { i + k, false };
        }
        i += length;
    }
    return {};
}

struct Case
{
    QByteArray tag;
    QByteArray bytes;
    Expected expected;
};

QList<Case> loadCases()
{
    QList<Case> cases;
    const QList<QByteArray> lines =
            wsqt::test::readVector(QStringLiteral("utf8/cases.txt")).split('\n');
    for (const QByteArray &line : lines) {
        if (line.trimmed().isEmpty() || line.startsWith('#'))
            continue;
        const QList<QByteArray> fields = line.split('|');
        if (fields.size() != 3)
            qFatal("utf8/cases.txt: malformed line: %s", line.constData());
        const QList<QByteArray> verdict = fields[0].simplified().split(' ');
        Case entry{ fields[2].trimmed(), hex(fields[1].constData()), {} };
        if (verdict[0] == "truncated") {
            entry.expected.complete = false;
        } else if (verdict[0] == "invalid" && verdict.size() == 2) {
            entry.expected = { verdict[1].toLongLong(), false };
        } else if (verdict[0] != "valid") {
            qFatal("utf8/cases.txt: bad verdict: %s", line.constData());
        }
        cases.append(entry);
    }
    return cases;
}

// Valid texts with code points of every length, for splitting.
QList<QByteArray> validTexts()
{
    return {
        hex("ce ba e1 bd b9 cf 83 ce bc ce b5"),
        hex("f0 9f 98 80 f4 8f bf bf f0 90 80 80"),
        hex("61 c2 80 e0 a0 80 f0 90 80 80 7f df bf ef bf bf f4 8f bf bf 62"),
        QByteArray("Grüße, 世界! 👋🏽 Ελληνικά — ✓ ∑ 𝄞 ok"),
        // Longer than the vector blocks, with sequences across their edges.
        QByteArray("0123456789abcdefghijklmnopqrstuvwxyz €€€ 𐍈𐍈 ßß ").repeated(5),
    };
}

// A random mix of ASCII runs and code points of every length, often with
// some bytes replaced by ones that break or bend the rules.
QByteArray randomText(QRandomGenerator &rng, int length)
{
    static const uint edges[] = { 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xD7FF, 0xE000, 0xFFFD,
                                  0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0xFFFFF, 0x100000,
                                  0x10FFFF };
    static const uchar awkward[] = { 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                     0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xF8, 0xFE,
                                     0xFF, 0x00, 0x41 };
    QByteArray text;
    if (rng.bounded(10) == 0) {
        for (int i = 0; i < length; ++i)
            text.append(char(rng.bounded(256)));
        return text;
    }
    const int asciiShare = int(rng.bounded(4)); // from none to most
    while (text.size() < length) {
        if (int(rng.bounded(4)) < asciiShare) {
            text.append(QByteArray(int(rng.bounded(1, 40)), char(rng.bounded(0x20, 0x7F))));
            continue;
        }
        uint codePoint;
        switch (rng.bounded(5)) {
        case 0: codePoint = edges[rng.bounded(int(std::size(edges)))]; break;
        case 1: codePoint = rng.bounded(0x80U, 0x800U); break;
        case 2: codePoint = rng.bounded(0x800U, 0xD800U); break;
        case 3: codePoint = rng.bounded(0xE000U, 0x10000U); break;
        default: codePoint = rng.bounded(0x10000U, 0x110000U); break;
        }
        text.append(QString::fromUcs4(reinterpret_cast<const char32_t *>(&codePoint), 1).toUtf8());
    }
    text.truncate(length); // may cut the last code point
    const int corruptions = rng.bounded(3) == 0 ? 0 : int(rng.bounded(1, 3));
    for (int i = 0; i < corruptions && length > 0; ++i) {
        const int at = int(rng.bounded(length));
        text[at] = char(rng.bounded(2) ? awkward[rng.bounded(int(std::size(awkward)))]
                                       : rng.bounded(256));
    }
    return text;
}

// Feeds `text` in pieces ending at `cuts` (ascending, the last one text.size())
// and checks that exactly the piece with the first invalid byte, and every
// one after it, is refused. Callers check QTest::currentTestFailed().
void checkFeeds(const QByteArray &text, const QList<qsizetype> &cuts, const Expected &expected)
{
    Utf8Validator validator;
    qsizetype start = 0;
    for (qsizetype cut : cuts) {
        const bool accepted = validator.feed(text.constData() + start, std::size_t(cut - start));
        const bool shouldAccept = expected.firstInvalid < 0 || expected.firstInvalid >= cut;
        if (accepted != shouldAccept || validator.hasFailed() != !shouldAccept) {
            QFAIL(qPrintable(QStringLiteral("piece [%1, %2) of %3 was %4")
                                     .arg(start)
                                     .arg(cut)
                                     .arg(QString::fromLatin1(text.toHex(' ')),
                                          accepted ? QStringLiteral("accepted")
                                                   : QStringLiteral("refused"))));
        }
        start = cut;
    }
    QCOMPARE(validator.isComplete(), expected.verdict() == Verdict::Valid);
    QCOMPARE(validator.hasFailed(), expected.verdict() == Verdict::Invalid);
}

const char *const kImplementationNames[] = { "avx2", "ssse3", "neon", "scalar" };

} // namespace

Q_DECLARE_METATYPE(Expected)

class tst_Utf8 : public QObject
{
    Q_OBJECT

private slots:
    void referenceAgreesWithCases();
    void cases_data();
    void cases();
    void failFast_data();
    void failFast();
    void splitValid_data();
    void splitValid();
    void splitFourByte_data();
    void splitFourByte();
    void prefixFailsOnlyWhenImpossible();
    void stickyFailureAndReset();
    void randomAgreement_data();
    void randomAgreement();
    void implementationFollowsEnvironment();
    void environmentSwitch_data();
    void environmentSwitch();
};

// The test's own reading of the grammar gives the hand-written verdicts; it
// then judges the random texts.
void tst_Utf8::referenceAgreesWithCases()
{
    const QList<Case> cases = loadCases();
    QVERIFY(cases.size() > 100);
    for (const Case &entry : cases) {
        const Expected actual = reference(entry.bytes);
        QVERIFY2(actual.firstInvalid == entry.expected.firstInvalid
                         && actual.complete == entry.expected.complete,
                 entry.tag.constData());
    }
}

void tst_Utf8::cases_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<Expected>("expected");
    for (const Case &entry : loadCases())
        QTest::newRow(entry.tag.constData()) << entry.bytes << entry.expected;
}

void tst_Utf8::cases()
{
    QFETCH(QByteArray, bytes);
    QFETCH(Expected, expected);
    const bool valid = expected.verdict() == Verdict::Valid;
    const QList<QByteArray> implementations = utf8Implementations();

    QCOMPARE(isValidUtf8(bytes.constData(), std::size_t(bytes.size())), valid);
    QCOMPARE(isValidUtf8Scalar(bytes.constData(), std::size_t(bytes.size())), valid);
    for (const QByteArray &name : implementations)
        QVERIFY2(isValidUtf8With(name, bytes.constData(), std::size_t(bytes.size())) == valid,
                 name.constData());
    checkFeeds(bytes, { bytes.size() }, expected);

    // The same inside longer texts, so that the vector path sees it, at every
    // position within a 64-byte block. ASCII after a truncated sequence is
    // its first invalid byte.
    for (int before = 0; before < 70; ++before) {
        const QByteArray text = QByteArray(before, 'a') + bytes + QByteArray(70, 'z');
        Expected inText;
        if (expected.verdict() == Verdict::Invalid)
            inText = { before + expected.firstInvalid, false };
        else if (expected.verdict() == Verdict::Truncated)
            inText = { before + bytes.size(), false };
        QCOMPARE(isValidUtf8(text.constData(), std::size_t(text.size())), valid);
        QCOMPARE(isValidUtf8Scalar(text.constData(), std::size_t(text.size())), valid);
        for (const QByteArray &name : implementations) {
            QVERIFY2(isValidUtf8With(name, text.constData(), std::size_t(text.size())) == valid,
                     name.constData());
        }
        checkFeeds(text, { text.size() }, inText);
        if (QTest::currentTestFailed())
            return;
    }
}

void tst_Utf8::failFast_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<Expected>("expected");
    for (const Case &entry : loadCases()) {
        if (entry.expected.verdict() == Verdict::Invalid)
            QTest::newRow(entry.tag.constData()) << entry.bytes << entry.expected;
    }
}

// The call that holds the first invalid byte fails, however the text is cut.
void tst_Utf8::failFast()
{
    QFETCH(QByteArray, bytes);
    QFETCH(Expected, expected);

    // Two pieces, cut anywhere; three pieces, cut anywhere.
    for (qsizetype first = 0; first <= bytes.size(); ++first) {
        checkFeeds(bytes, { first, bytes.size() }, expected);
        for (qsizetype second = first; second <= bytes.size(); ++second)
            checkFeeds(bytes, { first, second, bytes.size() }, expected);
        if (QTest::currentTestFailed())
            return;
    }

    // After valid multibyte text of various lengths, with more text to follow,
    // fed in pieces of various sizes.
    const QByteArray filler("ßüñ€𝄞 text ");
    for (int before : { 0, 1, 30, 63, 64, 65, 100, 200 }) {
        QByteArray prefix = filler.repeated(20).left(before + 8);
        while (!isValidUtf8Scalar(prefix.constData(), std::size_t(prefix.size())))
            prefix.chop(1);
        const QByteArray text = prefix + bytes + filler.repeated(10);
        const Expected inText = { prefix.size() + expected.firstInvalid, false };
        for (qsizetype piece : { 1, 3, 16, 32, 33, 64, 100, 1000 }) {
            QList<qsizetype> cuts;
            for (qsizetype end = piece; end < text.size(); end += piece)
                cuts.append(end);
            cuts.append(text.size());
            checkFeeds(text, cuts, inText);
            if (QTest::currentTestFailed())
                return;
        }
    }
}

void tst_Utf8::splitValid_data()
{
    QTest::addColumn<QByteArray>("text");
    const QList<QByteArray> texts = validTexts();
    for (qsizetype i = 0; i < texts.size(); ++i)
        QTest::addRow("text %lld (%lld bytes)", qlonglong(i), qlonglong(texts[i].size()))
                << texts[i];
    for (const Case &entry : loadCases()) {
        if (entry.expected.verdict() == Verdict::Valid && entry.bytes.size() > 1)
            QTest::newRow(entry.tag.constData()) << entry.bytes;
    }
}

// A valid text is accepted however it is cut; after each piece the validator
// is complete exactly when the cut falls between code points.
void tst_Utf8::splitValid()
{
    QFETCH(QByteArray, text);
    QVERIFY(isValidUtf8(text.constData(), std::size_t(text.size())));
    QVERIFY(isValidUtf8Scalar(text.constData(), std::size_t(text.size())));

    const auto onBoundary = [&](qsizetype at) {
        return at == text.size() || (uchar(text[at]) & 0xC0) != 0x80;
    };
    for (qsizetype cut = 0; cut <= text.size(); ++cut) {
        Utf8Validator validator;
        QVERIFY(validator.feed(text.constData(), std::size_t(cut)));
        QCOMPARE(validator.isComplete(), onBoundary(cut));
        QVERIFY(validator.feed(text.constData() + cut, std::size_t(text.size() - cut)));
        QVERIFY(validator.isComplete());
    }

    Utf8Validator bytewise;
    for (qsizetype i = 0; i < text.size(); ++i) {
        QVERIFY(bytewise.feed(text.constData() + i, 1));
        QCOMPARE(bytewise.isComplete(), onBoundary(i + 1));
    }
    QVERIFY(bytewise.isComplete());
}

void tst_Utf8::splitFourByte_data()
{
    QTest::addColumn<QByteArray>("codePoint");
    QTest::addColumn<int>("firstPart");
    const QList<QPair<const char *, QByteArray>> codePoints = {
        { "U+1F600", hex("f0 9f 98 80") },
        { "U+10000", hex("f0 90 80 80") },
        { "U+10FFFF", hex("f4 8f bf bf") },
    };
    for (const auto &[name, bytes] : codePoints) {
        for (int firstPart = 1; firstPart <= 3; ++firstPart)
            QTest::addRow("%s %d+%d", name, firstPart, 4 - firstPart) << bytes << firstPart;
    }
}

void tst_Utf8::splitFourByte()
{
    QFETCH(QByteArray, codePoint);
    QFETCH(int, firstPart);
    for (int around : { 0, 1, 40, 100 }) {
        const QByteArray head = QByteArray(around, 'h') + codePoint.left(firstPart);
        const QByteArray tail = codePoint.mid(firstPart) + QByteArray(around, 't');
        Utf8Validator validator;
        QVERIFY(validator.feed(head.constData(), std::size_t(head.size())));
        QVERIFY(!validator.isComplete());
        QVERIFY(!validator.hasFailed());
        QVERIFY(validator.feed(tail.constData(), std::size_t(tail.size())));
        QVERIFY(validator.isComplete());
    }
}

// A start that some valid text could continue is no failure yet.
void tst_Utf8::prefixFailsOnlyWhenImpossible()
{
    struct Step
    {
        const char *bytes;
        bool accepted;
        bool complete;
    };
    const QList<QList<Step>> sequences = {
        { { "f4", true, false }, { "90", false, false } },
        { { "f4", true, false }, { "8f", true, false }, { "bf", true, false },
          { "bf", true, true } },
        { { "ed", true, false }, { "a0", false, false } },
        { { "ed", true, false }, { "9f bf", true, true } },
        { { "e0", true, false }, { "80", false, false } },
        { { "e0", true, false }, { "a0 80", true, true } },
        { { "f0", true, false }, { "8f", false, false } },
        { { "f0 90", true, false }, { "80", true, false }, { "80 41", true, true } },
        { { "c2", true, false }, { "41", false, false } },
        { { "e2 82", true, false }, { "ac", true, true } },
        { { "41 42 c3", true, false }, { "", true, false }, { "a9", true, true } },
    };
    for (const QList<Step> &steps : sequences) {
        Utf8Validator validator;
        for (const Step &step : steps) {
            const QByteArray bytes = hex(step.bytes);
            QCOMPARE(validator.feed(bytes.constData(), std::size_t(bytes.size())), step.accepted);
            QCOMPARE(validator.isComplete(), step.complete);
            QCOMPARE(validator.hasFailed(), !step.accepted);
        }
    }
}

void tst_Utf8::stickyFailureAndReset()
{
    Utf8Validator validator;
    QVERIFY(!validator.feed("\xc0\xaf", 2));
    QVERIFY(validator.hasFailed());
    const QByteArray plain(100, 'x');
    QVERIFY(!validator.feed(plain.constData(), std::size_t(plain.size())));
    QVERIFY(!validator.feed(nullptr, 0));
    QVERIFY(!validator.isComplete());

    validator.reset();
    QVERIFY(!validator.hasFailed());
    QVERIFY(validator.isComplete());
    QVERIFY(validator.feed(plain.constData(), std::size_t(plain.size())));
    QVERIFY(validator.feed("\xe2\x82", 2));
    validator.reset();
    QVERIFY(validator.isComplete());
    QVERIFY(!validator.feed("\xac", 1)); // the open sequence was forgotten
}

void tst_Utf8::randomAgreement_data()
{
    QTest::addColumn<int>("length");
    for (int length : { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65,
                        95, 96, 97, 127, 128, 129, 191, 192, 193, 255, 256, 257, 511, 1000, 4096 })
        QTest::addRow("length %d", length) << length;
}

// Thousands of random texts: the dispatched path, every implementation this
// machine has, the incremental validator cut at random places, Qt's own check
// and the grammar above all agree.
void tst_Utf8::randomAgreement()
{
    QFETCH(int, length);
    QRandomGenerator rng(quint32(length) * 7919U + 1);
    const int count = length >= 1000 ? 100 : 300;
    const QList<QByteArray> implementations = utf8Implementations();
    int invalid = 0;
    for (int round = 0; round < count; ++round) {
        const QByteArray text = randomText(rng, length);
        const Expected expected = reference(text);
        const bool valid = expected.verdict() == Verdict::Valid;
        invalid += expected.verdict() == Verdict::Invalid;
        const QByteArray context = text.toHex(' ');
        QVERIFY2(isValidUtf8(text.constData(), std::size_t(length)) == valid, context.constData());
        QVERIFY2(isValidUtf8Scalar(text.constData(), std::size_t(length)) == valid,
                 context.constData());
        QVERIFY2(QByteArrayView(text).isValidUtf8() == valid, context.constData());
        for (const QByteArray &name : implementations) {
            QVERIFY2(isValidUtf8With(name, text.constData(), std::size_t(length)) == valid,
                     (name + ": " + context).constData());
        }

        QList<qsizetype> cuts;
        const int cutCount = int(rng.bounded(4));
        for (int i = 0; i < cutCount; ++i)
            cuts.append(rng.bounded(length + 1));
        cuts.append(length);
        std::sort(cuts.begin(), cuts.end());
        checkFeeds(text, cuts, expected);
        if (QTest::currentTestFailed())
            return;
    }
    // The generator gives both kinds.
    if (length >= 4) {
        QVERIFY(invalid > count / 10);
        QVERIFY(invalid < count * 9 / 10);
    }
}

// Runs in this process and, through environmentSwitch(), in child processes
// with WS_NO_UTF_8_VALIDATE set or empty.
void tst_Utf8::implementationFollowsEnvironment()
{
    const QByteArray name = utf8Implementation();
    qInfo("utf8 implementation: %s", name.constData());
    QVERIFY(std::find(std::begin(kImplementationNames), std::end(kImplementationNames), name)
            != std::end(kImplementationNames));
    const QList<QByteArray> available = utf8Implementations();
    QCOMPARE(available.last(), QByteArray("scalar"));
    const bool disabled = !qEnvironmentVariableIsEmpty("WS_NO_UTF_8_VALIDATE");
    QCOMPARE(name, disabled ? QByteArray("scalar") : available.first());
#if (defined(__GNUC__) && defined(__x86_64__)) \
        || (defined(__aarch64__) && defined(__ARM_NEON) && defined(__ORDER_LITTLE_ENDIAN__) \
            && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    QVERIFY(available.size() > 1); // this platform has a vector path
#endif
    // Whichever it is, it still validates.
    const QByteArray good = QByteArray("κόσμε ").repeated(20);
    const QByteArray bad = good + hex("ed a0 80") + good;
    QVERIFY(isValidUtf8(good.constData(), std::size_t(good.size())));
    QVERIFY(!isValidUtf8(bad.constData(), std::size_t(bad.size())));
}

void tst_Utf8::environmentSwitch_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("scalar");
    QTest::newRow("1") << QStringLiteral("1") << true;
    QTest::newRow("0 (any non-empty value)") << QStringLiteral("0") << true;
    QTest::newRow("yes") << QStringLiteral("yes") << true;
#if (defined(__GNUC__) && defined(__x86_64__)) \
        || (defined(__aarch64__) && defined(__ARM_NEON) && defined(__ORDER_LITTLE_ENDIAN__) \
            && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    QTest::newRow("empty") << QString() << false;
#endif
}

void tst_Utf8::environmentSwitch()
{
    QFETCH(QString, value);
    QFETCH(bool, scalar);
    QByteArray failure;
    const QByteArray output = wsqt::test::runSelfWithEnvironment(
            QStringLiteral("WS_NO_UTF_8_VALIDATE"), value, QStringLiteral("implementationFollowsEnvironment"), &failure);
    QVERIFY2(!output.isNull(), failure.constData());
    QCOMPARE(output.contains("utf8 implementation: scalar"), scalar);
}

QTEST_GUILESS_MAIN(tst_Utf8)
#include "tst_utf8.moc"
