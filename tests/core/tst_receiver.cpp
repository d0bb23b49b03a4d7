// The incremental frame parser: every error of ws's receiver with its exact
// code, message and close code; the same events however the bytes arrive;
// the payload and fragment limits; UTF-8 checked as the bytes come.

#include "testsupport.h"
#include "wireframe.h"

#include <wsqt/core/receiver.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qrandom.h>
#include <QtTest/qtest.h>

#include <cctype>
#include <cstring>

using namespace wsqt::core;
using wsqt::test::hex;

using Events = QList<ReceiverEvent>;
Q_DECLARE_METATYPE(wsqt::core::ReceiverEvent)
Q_DECLARE_METATYPE(wsqt::core::ReceiverOptions)

namespace {

// ---- expected events

QString frameError(const char *what)
{
    return QLatin1String("Invalid WebSocket frame: ") + QLatin1String(what);
}

ReceiverEvent message(bool binary, const QByteArray &data)
{
    ReceiverEvent event;
    event.type = ReceiverEvent::Message;
    event.binary = binary;
    event.data = data;
    return event;
}

ReceiverEvent text(const QByteArray &data) { return message(false, data); }
ReceiverEvent binary(const QByteArray &data) { return message(true, data); }

// A message delivered as its frames' payloads (keepFragments).
ReceiverEvent fragmented(bool binary, const QByteArrayList &fragments)
{
    ReceiverEvent event = message(binary, {});
    event.asFragments = true;
    event.fragments = fragments;
    return event;
}

ReceiverEvent control(ReceiverEvent::Type type, const QByteArray &data)
{
    ReceiverEvent event;
    event.type = type;
    event.data = data;
    return event;
}

ReceiverEvent ping(const QByteArray &data = {}) { return control(ReceiverEvent::Ping, data); }
ReceiverEvent pong(const QByteArray &data = {}) { return control(ReceiverEvent::Pong, data); }

ReceiverEvent closed(int code, const QByteArray &reason = {})
{
    ReceiverEvent event = control(ReceiverEvent::Close, reason);
    event.closeCode = code;
    return event;
}

ReceiverEvent failed(WsError::Code code, int closeCode, const QString &message)
{
    ReceiverEvent event;
    event.type = ReceiverEvent::Error;
    event.error = WsError(code, message, closeCode);
    return event;
}

ReceiverEvent invalidUtf8()
{
    return failed(WsError::InvalidUtf8, 1007, frameError("invalid UTF-8 sequence"));
}

ReceiverEvent maxPayloadExceeded()
{
    return failed(WsError::UnsupportedMessageLength, 1009, QStringLiteral("Max payload size exceeded"));
}

ReceiverEvent lengthOver53Bits()
{
    return failed(WsError::UnsupportedDataPayloadLength, 1009,
                  QStringLiteral("Unsupported WebSocket frame: payload length > 2^53 - 1"));
}

ReceiverEvent tooManyFragments()
{
    return failed(WsError::TooManyBufferedParts, 1008, QStringLiteral("Too many message fragments"));
}

// Short payloads in hex, long ones by size and digest, so that a mismatch
// prints readably and a 1 MiB payload is still compared byte for byte.
QString describeBytes(const QByteArray &bytes)
{
    if (bytes.size() <= 48)
        return QStringLiteral("[%1] %2").arg(bytes.size()).arg(QString::fromLatin1(bytes.toHex()));
    const QByteArray digest = QCryptographicHash::hash(bytes, QCryptographicHash::Sha1).toHex();
    return QStringLiteral("[%1] sha1 %2").arg(bytes.size()).arg(QString::fromLatin1(digest));
}

QString describe(const ReceiverEvent &event)
{
    switch (event.type) {
    case ReceiverEvent::None:
        return QStringLiteral("none");
    case ReceiverEvent::Message: {
        QString result = event.binary ? QStringLiteral("binary") : QStringLiteral("text");
        // Whichever of data and fragments is not in use must be empty.
        if (!event.asFragments || !event.data.isEmpty())
            result += QLatin1Char(' ') + describeBytes(event.data);
        if (event.asFragments || !event.fragments.isEmpty()) {
            QStringList parts;
            for (const QByteArray &fragment : event.fragments)
                parts << describeBytes(fragment);
            result += QStringLiteral(" as fragments {%1}").arg(parts.join(QStringLiteral(", ")));
        }
        return result;
    }
    case ReceiverEvent::Ping:
        return QStringLiteral("ping ") + describeBytes(event.data);
    case ReceiverEvent::Pong:
        return QStringLiteral("pong ") + describeBytes(event.data);
    case ReceiverEvent::Close:
        return QStringLiteral("close %1 %2").arg(event.closeCode).arg(describeBytes(event.data));
    case ReceiverEvent::Error:
        return QStringLiteral("error %1 %2 \"%3\"")
                .arg(event.error.codeName())
                .arg(event.error.closeCode())
                .arg(event.error.message());
    }
    return QStringLiteral("?");
}

QStringList describe(const Events &events)
{
    QStringList result;
    for (const ReceiverEvent &event : events)
        result << describe(event);
    return result;
}

// ---- receiver options

struct Options
{
    ReceiverOptions value;

    explicit Options(Role role) { value.role = role; }
    Options &maxPayload(quint64 limit) { value.maxPayload = limit; return *this; }
    Options &maxFragments(quint32 limit) { value.maxFragments = limit; return *this; }
    Options &skipUtf8() { value.skipUtf8Validation = true; return *this; }
    Options &keepFragments() { value.keepFragments = true; return *this; }
    operator ReceiverOptions() const { return value; }
};

Options client() { return Options(Role::Client); }
Options server() { return Options(Role::Server); }

// ---- input bytes, encoded here independently of the core's writer

enum : quint8 {
    TextFirst = 0x01,
    BinaryFirst = 0x02,
    Continue = 0x00,
    ContinueFin = 0x80,
    Text = 0x81,
    Binary = 0x82,
    Close = 0x88,
    Ping = 0x89,
    Pong = 0x8a,
};

constexpr quint32 kKey = 0x9b1c00e7;

QByteArray frame(quint8 b0, const QByteArray &payload, bool masked, quint32 key = kKey)
{
    const uchar keyBytes[4] = {uchar(key >> 24), uchar(key >> 16), uchar(key >> 8), uchar(key)};
    return wsqt::test::wireFrame(b0, payload,
                                 masked ? QByteArray(reinterpret_cast<const char *>(keyBytes), 4) : QByteArray());
}

// A frame as the peer of `receiver` sends it: masked towards a server.
QByteArray frameTo(Role receiver, quint8 b0, const QByteArray &payload, quint32 key = kKey)
{
    return frame(b0, payload, receiver == Role::Server, key);
}

QByteArray binaryPayload(qsizetype size, quint32 seed = 7)
{
    QRandomGenerator random(seed);
    QByteArray out(size, Qt::Uninitialized);
    for (char &c : out)
        c = char(random.bounded(256));
    return out;
}

// Valid UTF-8 of exactly `size` bytes, with code points of every length, so
// that any cut is likely to fall inside one.
QByteArray textPayload(qsizetype size)
{
    const QByteArray unit = QByteArrayLiteral("a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e");
    QByteArray out;
    out.reserve(size);
    while (out.size() + unit.size() <= size)
        out += unit;
    return out + QByteArray(size - out.size(), 'z');
}

// A test vector: hex pairs, whitespace anywhere, '#' to the end of a line is a comment.
QByteArray vector(const char *name)
{
    const QByteArray file = wsqt::test::readVector(QStringLiteral("frames/%1.hex").arg(QLatin1String(name)));
    QByteArray digits;
    for (QByteArray line : file.split('\n')) {
        const qsizetype comment = line.indexOf('#');
        if (comment >= 0)
            line.truncate(comment);
        for (char c : line) {
            if (std::isxdigit(uchar(c)))
                digits += c;
            else if (!std::isspace(uchar(c)))
                qFatal("vector %s: unexpected character '%c'", name, c);
        }
    }
    if (digits.size() % 2)
        qFatal("vector %s: odd number of hex digits", name);
    return QByteArray::fromHex(digits);
}

// ---- a stand-in for permessage-deflate, so that RSV1 is allowed

class PassThroughInflater : public MessageInflater
{
public:
    WsError inflate(const char *data, qsizetype length, bool, QByteArray *out, quint64) override
    {
        out->append(data, length);
        return {};
    }
};

// ---- driving a receiver

// Every event the receiver has ready.
void drain(Receiver &receiver, Events *events)
{
    for (;;) {
        ReceiverEvent event;
        if (!receiver.next(&event))
            return;
        events->append(event);
    }
}

// One way for a stream to arrive.
struct Delivery
{
    QString name;
    bool inPlace = false;       // inputBuffer()/commitInput() rather than feed()
    qsizetype sizeHint = 0;     // inPlace: what inputBuffer() is asked for
    qsizetype split = 0;        // two pieces cut here (0: no split)
    qsizetype chunk = 0;        // pieces of this size, or at most this size with a seed
    quint32 seed = 0;           // random piece sizes
    bool emptyReads = false;    // inPlace: a read of 0 bytes before each real one
};

class Chunker
{
public:
    explicit Chunker(const Delivery &delivery) : m_delivery(delivery), m_random(delivery.seed) { }

    qsizetype next(qsizetype position, qsizetype rest)
    {
        if (m_delivery.split > 0 && position < m_delivery.split)
            return qMin(rest, m_delivery.split - position);
        if (m_delivery.seed)
            return qMin(rest, qsizetype(m_random.bounded(quint32(m_delivery.chunk))) + 1);
        return m_delivery.chunk > 0 ? qMin(rest, m_delivery.chunk) : rest;
    }

private:
    Delivery m_delivery;
    QRandomGenerator m_random;
};

struct Outcome
{
    Events events;
    bool stopped = false;
    qsizetype unparsed = 0;
    QString problem;            // a broken promise of the input API
};

Outcome replay(const ReceiverOptions &options, bool deflate, const QByteArray &stream,
               const Delivery &delivery)
{
    PassThroughInflater inflater;
    Receiver receiver(options);
    if (deflate)
        receiver.setInflater(&inflater);
    Outcome outcome;
    Chunker chunker(delivery);
    qsizetype position = 0;
    while (position < stream.size()) {
        qsizetype length = chunker.next(position, stream.size() - position);
        if (delivery.inPlace && delivery.emptyReads) {
            receiver.inputBuffer(delivery.sizeHint);
            receiver.commitInput(0);
            drain(receiver, &outcome.events);
        }
        if (delivery.inPlace) {
            const Receiver::InputBuffer buffer = receiver.inputBuffer(delivery.sizeHint);
            if (buffer.size < 1 || buffer.size > qMax<qsizetype>(delivery.sizeHint, 1)) {
                outcome.problem = QStringLiteral("inputBuffer(%1) offered %2 bytes")
                                          .arg(delivery.sizeHint).arg(buffer.size);
                return outcome;
            }
            length = qMin(length, buffer.size);
            std::memcpy(buffer.data, stream.constData() + position, size_t(length));
            receiver.commitInput(length);
        } else {
            receiver.feed(stream.constData() + position, length);
        }
        position += length;
        drain(receiver, &outcome.events);
    }
    drain(receiver, &outcome.events);
    ReceiverEvent extra;
    if (receiver.next(&extra))
        outcome.problem = QStringLiteral("next() gave an event after returning false");
    outcome.stopped = receiver.isStopped();
    outcome.unparsed = receiver.bufferedInput();
    return outcome;
}

// Where frames start, read leniently; for choosing cut points in long streams.
QList<qsizetype> frameStarts(const QByteArray &stream)
{
    QList<qsizetype> starts;
    const auto *p = reinterpret_cast<const uchar *>(stream.constData());
    qsizetype position = 0;
    while (position + 2 <= stream.size()) {
        starts << position;
        const int length7 = p[position + 1] & 0x7F;
        const int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        const qsizetype header = 2 + extended + ((p[position + 1] & 0x80) ? 4 : 0);
        if (position + header > stream.size())
            break;
        quint64 length = quint64(length7);
        if (extended) {
            length = 0;
            for (int i = 0; i < extended; ++i)
                length = (length << 8) | p[position + 2 + i];
        }
        if (length > quint64(stream.size()))
            break;
        position += header + qsizetype(length);
    }
    return starts;
}

// Every cut of a short stream; for a long one the cuts near its ends and its
// frame boundaries (so every header byte), and a spread in between.
QList<qsizetype> cutPoints(const QByteArray &stream)
{
    const qsizetype size = stream.size();
    QList<qsizetype> cuts;
    if (size <= 4200) {
        for (qsizetype i = 1; i < size; ++i)
            cuts << i;
        return cuts;
    }
    QList<qsizetype> candidates;
    for (qsizetype i = 1; i <= 64; ++i)
        candidates << i << size - i;
    for (qsizetype start : frameStarts(stream)) {
        for (qsizetype i = start - 16; i <= start + 16; ++i)
            candidates << i;
    }
    for (int i = 1; i < 64; ++i)
        candidates << size * i / 64;
    for (qsizetype cut : std::as_const(candidates)) {
        if (cut > 0 && cut < size && !cuts.contains(cut))
            cuts << cut;
    }
    return cuts;
}

QList<Delivery> deliveries(const QByteArray &stream)
{
    QList<Delivery> result;
    result << Delivery{QStringLiteral("all at once")};
    result << Delivery{QStringLiteral("one byte at a time"), false, 0, 0, 1};
    const struct { quint32 seed; qsizetype most; } randomSizes[] = {
        {1, 7}, {2, 64}, {3, 1500}, {4, 9000}, {5, 100000}};
    for (const auto &r : randomSizes) {
        result << Delivery{QStringLiteral("random pieces up to %1 (seed %2)").arg(r.most).arg(r.seed),
                           false, 0, 0, r.most, r.seed};
    }
    const struct { qsizetype hint; qsizetype read; quint32 seed; } inPlace[] = {
        {1, 1, 0}, {2, 2, 0}, {13, 13, 0}, {4096, 4096, 0}, {65536, 65536, 0},
        {1 << 20, 1 << 20, 0}, {1 << 20, 1000, 0}, {8192, 8192, 6}, {300000, 300000, 7}};
    for (const auto &r : inPlace) {
        result << Delivery{QStringLiteral("inputBuffer(%1), reads of %2%3")
                                   .arg(r.hint).arg(r.seed ? QStringLiteral("up to ") : QString())
                                   .arg(r.read),
                           true, r.hint, 0, r.read, r.seed};
    }
    result << Delivery{QStringLiteral("inputBuffer(4096), an empty read before each"), true, 4096,
                       0, 4096, 0, true};
    for (qsizetype cut : cutPoints(stream))
        result << Delivery{QStringLiteral("split at %1").arg(cut), false, 0, cut};
    return result;
}

// Replays `stream` in every delivery and compares the events with
// `expected`; an empty result means all agreed. A stream that ends with a
// close frame or an error is replayed again with more frames after it, which
// must change nothing.
QString checkEverywhere(const ReceiverOptions &options, bool deflate, const QByteArray &stream,
                        const Events &expected)
{
    const QStringList want = describe(expected);
    const bool stops = !expected.isEmpty()
            && (expected.last().type == ReceiverEvent::Close
                || expected.last().type == ReceiverEvent::Error);
    QList<QByteArray> streams = {stream};
    if (stops) {
        streams << stream + frameTo(options.role, Text, "after") + frameTo(options.role, Ping, {});
    }
    for (const QByteArray &input : std::as_const(streams)) {
        for (const Delivery &delivery : deliveries(input)) {
            const Outcome outcome = replay(options, deflate, input, delivery);
            const QString where = delivery.name
                    + (input.size() != stream.size() ? QStringLiteral(", bytes appended") : QString());
            if (!outcome.problem.isEmpty())
                return where + QStringLiteral(": ") + outcome.problem;
            const QStringList got = describe(outcome.events);
            if (got != want) {
                return QStringLiteral("%1:\n  got      %2\n  expected %3")
                        .arg(where, got.join(QStringLiteral("\n           ")),
                             want.join(QStringLiteral("\n           ")));
            }
            if (outcome.stopped != stops)
                return where + QStringLiteral(": isStopped() is %1").arg(outcome.stopped);
            if (!stops && outcome.unparsed != 0)
                return where + QStringLiteral(": %1 bytes left unparsed").arg(outcome.unparsed);
        }
    }
    return {};
}

void addColumns()
{
    QTest::addColumn<ReceiverOptions>("options");
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<Events>("expected");
    QTest::addColumn<bool>("deflate");
}

// The row's name says which options differ from a client's defaults.
void addRow(const QString &name, const ReceiverOptions &options, const QByteArray &stream,
            const Events &expected, bool deflate = false)
{
    const ReceiverOptions defaults;
    QString tag = name;
    if (options.role == Role::Server)
        tag += QStringLiteral(", server");
    if (options.maxPayload != defaults.maxPayload)
        tag += QStringLiteral(", maxPayload %1").arg(options.maxPayload);
    if (options.maxFragments != defaults.maxFragments)
        tag += QStringLiteral(", maxFragments %1").arg(options.maxFragments);
    if (options.skipUtf8Validation)
        tag += QStringLiteral(", skipUtf8Validation");
    if (options.keepFragments)
        tag += QStringLiteral(", keepFragments");
    if (deflate)
        tag += QStringLiteral(", RSV1 allowed");
    QTest::newRow(qPrintable(tag)) << options << stream << expected << deflate;
}

void addRow(const char *vectorName, const ReceiverOptions &options, const Events &expected,
            bool deflate = false)
{
    addRow(QLatin1String(vectorName), options, vector(vectorName), expected, deflate);
}

} // namespace

class tst_Receiver : public QObject
{
    Q_OBJECT

private slots:
    void validStreams_data();
    void validStreams() { checkRow(); }
    void errorStreams_data();
    void errorStreams() { checkRow(); }
    void largePayloads_data();
    void largePayloads() { checkRow(); }
    void utf8SplitAcrossFragments();

    void headerSplitAtEveryByte_data();
    void headerSplitAtEveryByte();
    void manyFramesInOneRead();
    void inPlaceReadLandsInTheMessage();
    void largeMessageBuffersAreReused();
    void smallMessageBuffersAreReused();
    void idleInputBufferPassesBetweenReceivers();
    void keepFragmentsSwitchedBetweenMessages();
    void stopsAfterCloseOrError_data();
    void stopsAfterCloseOrError();

    void maxPayloadFromLengthField_data();
    void maxPayloadFromLengthField();
    void lengthErrorsPrecedeMaskKey_data();
    void lengthErrorsPrecedeMaskKey();
    void largestLengthWithoutLimit();
    void defaultFragmentLimit();
    void emptyFragmentFlood_data();
    void emptyFragmentFlood();
    void inflateSlicesBoundEachCall();
    void budgetBoundsMessagesTogether();
    void budgetGivenBackWhenRefusedOrDestroyed();

    void utf8FailsFast_data();
    void utf8FailsFast();

private:
    void checkRow();
};

void tst_Receiver::checkRow()
{
    QFETCH(ReceiverOptions, options);
    QFETCH(QByteArray, stream);
    QFETCH(Events, expected);
    QFETCH(bool, deflate);

    const QString failure = checkEverywhere(options, deflate, stream, expected);
    QVERIFY2(failure.isEmpty(), qPrintable(failure));
}

void tst_Receiver::validStreams_data()
{
    addColumns();
    const QByteArray hello("Hello");

    // RFC 6455 §5.7.
    addRow("rfc-text-unmasked", client(), {text(hello)});
    addRow("rfc-text-masked", server(), {text(hello)});
    addRow("rfc-fragmented", client(), {text(hello)});
    addRow("rfc-ping", client(), {ping(hello)});
    addRow("rfc-pong-masked", server(), {pong(hello)});
    const QByteArray bytes256 = binaryPayload(256);
    addRow(QStringLiteral("rfc-binary-256"), client(), hex("82 7e 01 00") + bytes256,
           {binary(bytes256)});
    const QByteArray bytes64k = binaryPayload(65536);
    addRow(QStringLiteral("rfc-binary-64KiB"), client(),
           hex("82 7f 00 00 00 00 00 01 00 00") + bytes64k, {binary(bytes64k)});

    // Control frames between fragments are delivered as they come.
    addRow("fragmented-control-middle", client(), {ping("hi"), pong(), text(hello)});
    addRow("fragmented-control-middle-masked", server(), {ping("hi"), pong(), text(hello)});

    // Empty messages and empty frames.
    addRow("empty-text", client(), {text({})});
    addRow("empty-binary", client(), {binary({})});
    addRow("empty-fragments", client(), {text({})});
    addRow("empty-fragments-around-data", client(), {binary("abc")});
    addRow(QStringLiteral("empty ping and pong masked"), server(),
           frameTo(Role::Server, Ping, {}) + frameTo(Role::Server, Pong, {}), {ping(), pong()});

    // Lengths around each encoding boundary, and non-minimal encodings (ws accepts them).
    for (qsizetype size : {125, 126, 127, 65535}) {
        const QByteArray payload = binaryPayload(size, quint32(size));
        addRow(QStringLiteral("binary of %1 bytes").arg(size), client(),
               frame(Binary, payload, false), {binary(payload)});
    }
    addRow("nonminimal-length-16", client(), {text(hello)});
    addRow("nonminimal-length-64", client(), {binary(hex("01 02 03"))});
    addRow("nonminimal-length-64-masked", server(), {text(hello)});
    addRow("masked-zero-key", server(), {text(hello)});
    addRow(QStringLiteral("control frame of 125 bytes"), server(),
           frameTo(Role::Server, Ping, QByteArray(125, 'p')), {ping(QByteArray(125, 'p'))});

    // Close frames.
    addRow("close-empty", client(), {closed(1005)});
    addRow("close-1000", client(), {closed(1000)});
    addRow("close-1000-bye", client(), {closed(1000, "bye")});
    addRow("close-4999", client(), {closed(4999)});
    addRow("close-3000-masked", server(), {closed(3000, "x")});
    addRow("close-then-data", client(), {text("a"), closed(1000)});
    addRow(QStringLiteral("close reason of 123 bytes"), client(),
           frame(Close, hex("0b b8") + QByteArray(123, 'r'), false),
           {closed(3000, QByteArray(123, 'r'))});

    // Several frames in one read (QTBUG-77830) are all delivered, in order.
    addRow(QStringLiteral("several frames"), server(),
           frameTo(Role::Server, Text, "one") + frameTo(Role::Server, Binary, "two", 1)
                   + frameTo(Role::Server, Ping, "3", 2) + frameTo(Role::Server, TextFirst, "fo", 3)
                   + frameTo(Role::Server, ContinueFin, "ur", 4) + frameTo(Role::Server, Text, {}),
           {text("one"), binary("two"), ping("3"), text("four"), text({})});

    // UTF-8 that is valid.
    addRow("utf8-noncharacters", client(), {text(hex("ef bf be ef bf bf f4 8f bf bf"))});
    addRow("utf8-split-code-points", client(), {text(hex("c3 a9 e2 82 ac f0 9d 84 9e"))});

    // skipUtf8Validation delivers the bytes as they are.
    addRow("utf8-overlong", client().skipUtf8(), {text(hex("c0 af"))});
    addRow("utf8-truncated-at-fin", client().skipUtf8(), {text(hex("61 e2 82"))});
    addRow("utf8-invalid-first-fragment", client().skipUtf8(), {text(hex("c0 af 61 62"))});
    addRow("close-reason-invalid-utf8", client().skipUtf8(), {closed(1000, hex("c0 af"))});

    // Limits that are met exactly, and control frames, which no limit counts.
    addRow("max-payload-exact", client().maxPayload(10), {binary(hex("00 01 02 03 04 05 06 07 08 09"))});
    addRow(QStringLiteral("max-payload-exact-fragmented"), client().maxPayload(10),
           frame(BinaryFirst, "12345", false) + frame(Ping, QByteArray(125, 'p'), false)
                   + frame(ContinueFin, "67890", false),
           {ping(QByteArray(125, 'p')), binary("1234567890")});
    addRow(QStringLiteral("max-payload-per-message"), client().maxPayload(10),
           frame(Binary, "1234567890", false) + frame(Binary, "1234567890", false),
           {binary("1234567890"), binary("1234567890")});
    addRow("too-many-fragments", client().maxFragments(4), {text("abcd")});
    addRow("too-many-fragments", client().maxFragments(0), {text("abcd")});
    addRow(QStringLiteral("fragment limit not counting control frames"), client().maxFragments(2),
           frame(TextFirst, "a", false) + frame(Ping, {}, false) + frame(ContinueFin, "b", false)
                   + frame(TextFirst, "c", false) + frame(ContinueFin, "d", false),
           {ping(), text("ab"), text("cd")});

    // keepFragments: the payload of each non-empty frame of a binary message,
    // as ws's "fragments"; text messages still arrive whole, as in ws.
    addRow("rfc-fragmented", client().keepFragments(), {text("Hello")});
    addRow("rfc-text-unmasked", client().keepFragments(), {text(hello)});
    addRow("empty-text", client().keepFragments(), {text({})});
    addRow("empty-binary", client().keepFragments(), {fragmented(true, {})});
    addRow("empty-fragments", client().keepFragments(), {text({})});
    addRow("empty-fragments-around-data", client().keepFragments(), {fragmented(true, {"ab", "c"})});
    addRow("fragmented-control-middle-masked", server().keepFragments(),
           {ping("hi"), pong(), text("Hello")});
}

void tst_Receiver::errorStreams_data()
{
    addColumns();
    const ReceiverEvent rsv23 =
            failed(WsError::UnexpectedRsv23, 1002, frameError("RSV2 and RSV3 must be clear"));
    const ReceiverEvent rsv1 = failed(WsError::UnexpectedRsv1, 1002, frameError("RSV1 must be clear"));
    const ReceiverEvent expectedFin = failed(WsError::ExpectedFin, 1002, frameError("FIN must be set"));
    const auto invalidOpcode = [](int opcode) {
        return failed(WsError::InvalidOpcode, 1002,
                      frameError("invalid opcode ") + QString::number(opcode));
    };
    const auto invalidLength = [](int length) {
        return failed(WsError::InvalidControlPayloadLength, 1002,
                      frameError("invalid payload length ") + QString::number(length));
    };

    // Reserved bits (bad inputs 12).
    addRow("rsv2-set", client(), {rsv23});
    addRow("rsv3-set", client(), {rsv23});
    addRow("rsv23-reserved-opcode", client(), {rsv23});
    addRow("rsv1-text-no-extension", client(), {rsv1});
    addRow("rsv1-ping-no-extension", client(), {rsv1});
    addRow("rsv1-continuation-no-extension", client(), {rsv1});
    addRow("rsv1-continuation", client(), {rsv1}, true);
    addRow("rsv1-continuation-alone", client(), {rsv1}, true);
    addRow("rsv1-ping", client(), {rsv1}, true);
    // A control frame with RSV1 and without FIN: without the extension RSV1
    // is checked first, with it FIN is.
    addRow(QStringLiteral("rsv1 ping without fin"), client(), hex("49 00"), {rsv1});
    addRow(QStringLiteral("rsv1 ping without fin"), client(), hex("49 00"), {expectedFin}, true);

    // Opcodes (bad inputs 13, 17).
    for (const char *name : {"reserved-opcode-3", "reserved-opcode-4", "reserved-opcode-5",
                             "reserved-opcode-6", "reserved-opcode-7", "reserved-opcode-b",
                             "reserved-opcode-c", "reserved-opcode-d", "reserved-opcode-e",
                             "reserved-opcode-f"}) {
        const int opcode = QByteArray(name).right(1).toInt(nullptr, 16);
        addRow(name, client(), {invalidOpcode(opcode)});
    }
    addRow("reserved-opcode-unmasked-to-server", server(), {invalidOpcode(3)});
    addRow("continuation-without-message", client(), {invalidOpcode(0)});
    addRow(QStringLiteral("unmasked continuation without message"), server(), hex("80 00"),
           {invalidOpcode(0)});
    addRow("text-inside-fragmented", client(), {invalidOpcode(1)});
    addRow("binary-inside-fragmented", client(), {invalidOpcode(2)});
    addRow(QStringLiteral("continuation after a complete message"), client(),
           frame(Text, "a", false) + frame(ContinueFin, "b", false), {text("a"), invalidOpcode(0)});

    // Control frames (bad inputs 14).
    addRow("ping-not-fin", client(), {expectedFin});
    addRow("pong-not-fin", client(), {expectedFin});
    addRow("close-not-fin", client(), {expectedFin});
    addRow("ping-not-fin-length-126", client(), {expectedFin});
    addRow("ping-length-126", client(), {invalidLength(126)});
    addRow(QStringLiteral("control length checked before the mask"), client(), hex("89 fe"),
           {invalidLength(126)});
    addRow("ping-length-126-value-125", client(), {invalidLength(126)});
    addRow("pong-length-127", client(), {invalidLength(127)});
    addRow("close-length-1", client(), {invalidLength(1)});

    // Masking direction (bad inputs 16).
    addRow("unmasked-to-server", server(),
           {failed(WsError::ExpectedMask, 1002, frameError("MASK must be set"))});
    addRow("masked-to-client", client(),
           {failed(WsError::UnexpectedMask, 1002, frameError("MASK must be clear"))});

    // Lengths (bad inputs 15, 20).
    addRow("length-msb-set", client(), {lengthOver53Bits()});
    addRow("length-all-ones", client(), {lengthOver53Bits()});
    addRow("length-2-53", client(), {lengthOver53Bits()});
    addRow("length-2-53", client().maxPayload(0), {lengthOver53Bits()});
    addRow("max-payload-plus-1", client().maxPayload(10), {maxPayloadExceeded()});
    addRow("max-payload-fragmented", client().maxPayload(10), {maxPayloadExceeded()});
    addRow("max-payload-fragmented-ping", client().maxPayload(10), {ping(), maxPayloadExceeded()});
    addRow(QStringLiteral("max-payload-masked"), server().maxPayload(10),
           frameTo(Role::Server, Binary, "12345678901"), {maxPayloadExceeded()});
    addRow("too-many-fragments", client().maxFragments(3), {tooManyFragments()});
    addRow(QStringLiteral("too many empty fragments"), client().maxFragments(3),
           frame(TextFirst, {}, false) + frame(Continue, {}, false) + frame(Continue, {}, false)
                   + frame(ContinueFin, {}, false),
           {tooManyFragments()});

    // UTF-8 (bad inputs 28).
    addRow("utf8-overlong", client(), {invalidUtf8()});
    addRow("utf8-surrogate", client(), {invalidUtf8()});
    addRow("utf8-above-max", client(), {invalidUtf8()});
    addRow("utf8-lone-continuation", client(), {invalidUtf8()});
    addRow("utf8-byte-ff", client(), {invalidUtf8()});
    addRow("utf8-truncated-at-fin", client(), {invalidUtf8()});
    addRow("utf8-invalid-first-fragment", client(), {invalidUtf8()});
    addRow(QStringLiteral("utf8 cut short by an empty final fragment"), client(),
           frame(TextFirst, hex("61 f0 9d 84"), false) + frame(ContinueFin, {}, false), {invalidUtf8()});
    addRow(QStringLiteral("utf8 error after a ping"), client(),
           frame(TextFirst, "ok", false) + frame(Ping, "p", false) + frame(ContinueFin, hex("ed a0 80"), false),
           {ping("p"), invalidUtf8()});

    // Close frames (bad inputs 30).
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        const QByteArray name = "close-code-" + QByteArray::number(code);
        addRow(name.constData(), client(),
               {failed(WsError::InvalidCloseCode, 1002,
                       frameError("invalid status code ") + QString::number(code))});
    }
    addRow("close-reason-invalid-utf8", client(), {invalidUtf8()});
}

void tst_Receiver::largePayloads_data()
{
    // Payloads large enough for in-place reads, masked and not, text and
    // binary, each followed by a frame that must not be read into it.
    addColumns();
    for (qsizetype size : {5000, 70000, 1 << 20}) {
        for (bool isBinary : {false, true}) {
            const QByteArray payload = isBinary ? binaryPayload(size) : textPayload(size);
            for (Role role : {Role::Client, Role::Server}) {
                addRow(QStringLiteral("%1 of %2 bytes, %3")
                               .arg(isBinary ? QStringLiteral("binary") : QStringLiteral("text"))
                               .arg(size)
                               .arg(role == Role::Server ? QStringLiteral("masked")
                                                         : QStringLiteral("unmasked")),
                       Options(role),
                       frameTo(role, isBinary ? Binary : Text, payload)
                               + frameTo(role, Ping, "end", 0x01020304),
                       {message(isBinary, payload), ping("end")});
            }
        }
    }

    // Fragments of in-place size with control frames between them; the cuts
    // fall inside code points.
    const QByteArray whole = textPayload(5000 + 70000 + 3);
    const QByteArray stream = frameTo(Role::Server, TextFirst, whole.left(5000), 1)
            + frameTo(Role::Server, Ping, "p", 2)
            + frameTo(Role::Server, Continue, whole.mid(5000, 70000), 3)
            + frameTo(Role::Server, Pong, {}, 4)
            + frameTo(Role::Server, ContinueFin, whole.mid(75000), 5);
    addRow(QStringLiteral("fragmented text with control frames"), server(), stream,
           {ping("p"), pong(), text(whole)});
    addRow(QStringLiteral("fragmented text with control frames, fragments setting"),
           server().keepFragments(), stream, {ping("p"), pong(), text(whole)});

    // maxPayload 0 is no limit; a limit one byte short refuses the same message.
    const QByteArray big = binaryPayload(200000, 3);
    addRow(QStringLiteral("no payload limit"), client().maxPayload(0), frame(Binary, big, false),
           {binary(big)});
    addRow(QStringLiteral("limit one byte short"), client().maxPayload(199999),
           frame(Binary, big, false), {maxPayloadExceeded()});

    // Invalid UTF-8 deep inside payloads read in place.
    QByteArray bad = textPayload(5000);
    bad[4000] = char(0xff);
    addRow(QStringLiteral("invalid byte in a masked 5000-byte text"), server(),
           frameTo(Role::Server, Text, bad), {invalidUtf8()});
    addRow(QStringLiteral("70000-byte text ending inside a code point"), client(),
           frame(Text, textPayload(69998) + hex("f0 9d"), false), {invalidUtf8()});
}

void tst_Receiver::utf8SplitAcrossFragments()
{
    // Text is valid however it is cut into fragments (bad inputs 27): every
    // cut into two fragments, and every pair of cuts into three.
    const QByteArray sample = QByteArrayLiteral("a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9ez");
    const Events expected = {text(sample)};
    for (qsizetype i = 0; i <= sample.size(); ++i) {
        for (qsizetype j = i; j <= sample.size(); ++j) {
            const QByteArray stream = frame(TextFirst, sample.left(i), false)
                    + frame(Continue, sample.mid(i, j - i), false)
                    + frame(ContinueFin, sample.mid(j), false);
            const QString failure = checkEverywhere(client(), false, stream, expected);
            QVERIFY2(failure.isEmpty(), qPrintable(QStringLiteral("cuts %1, %2: ").arg(i).arg(j) + failure));
        }
    }
}

void tst_Receiver::headerSplitAtEveryByte_data()
{
    QTest::addColumn<ReceiverOptions>("options");
    QTest::addColumn<qsizetype>("payloadSize");
    QTest::addColumn<int>("headerSize");

    QTest::newRow("2-byte header") << ReceiverOptions(client()) << qsizetype(100) << 2;
    QTest::newRow("4-byte header") << ReceiverOptions(client()) << qsizetype(300) << 4;
    QTest::newRow("10-byte header") << ReceiverOptions(client()) << qsizetype(70000) << 10;
    QTest::newRow("6-byte header") << ReceiverOptions(server()) << qsizetype(100) << 6;
    QTest::newRow("8-byte header") << ReceiverOptions(server()) << qsizetype(300) << 8;
    QTest::newRow("14-byte header") << ReceiverOptions(server()) << qsizetype(70000) << 14;
}

void tst_Receiver::headerSplitAtEveryByte()
{
    QFETCH(ReceiverOptions, options);
    QFETCH(qsizetype, payloadSize);
    QFETCH(int, headerSize);

    const QByteArray payload = binaryPayload(payloadSize);
    const QByteArray stream = frameTo(options.role, Binary, payload);
    QCOMPARE(stream.size(), headerSize + payloadSize);

    // Each prefix of the header: nothing happens yet; the rest completes the frame.
    for (int cut = 1; cut < headerSize; ++cut) {
        for (bool inPlace : {false, true}) {
            Receiver receiver(options);
            Events events;
            const auto write = [&](const QByteArray &bytes) {
                if (!inPlace) {
                    receiver.feed(bytes.constData(), bytes.size());
                    return;
                }
                qsizetype done = 0;
                while (done < bytes.size()) {
                    const Receiver::InputBuffer buffer = receiver.inputBuffer(bytes.size() - done);
                    const qsizetype n = qMin(buffer.size, bytes.size() - done);
                    std::memcpy(buffer.data, bytes.constData() + done, size_t(n));
                    receiver.commitInput(n);
                    done += n;
                    drain(receiver, &events);
                }
            };
            write(stream.left(cut));
            drain(receiver, &events);
            QVERIFY2(events.isEmpty(), qPrintable(QStringLiteral("cut at %1").arg(cut)));
            QVERIFY(!receiver.isStopped());
            write(stream.mid(cut));
            drain(receiver, &events);
            QCOMPARE(describe(events), describe(Events{binary(payload)}));
        }
    }
}

void tst_Receiver::manyFramesInOneRead()
{
    // 20000 empty text messages in one read, as ws's "thousands of frames" test.
    const QByteArray stream = hex("81 00").repeated(20000);
    for (bool inPlace : {false, true}) {
        Receiver receiver(client());
        if (inPlace) {
            const Receiver::InputBuffer buffer = receiver.inputBuffer(stream.size());
            QCOMPARE(buffer.size, stream.size());
            std::memcpy(buffer.data, stream.constData(), size_t(stream.size()));
            receiver.commitInput(stream.size());
        } else {
            receiver.feed(stream.constData(), stream.size());
        }
        Events events;
        drain(receiver, &events);
        QCOMPARE(events.size(), 20000);
        for (const ReceiverEvent &event : std::as_const(events)) {
            QCOMPARE(event.type, ReceiverEvent::Message);
            QVERIFY(!event.binary);
            QVERIFY(event.data.isEmpty());
        }
        QCOMPARE(receiver.bufferedInput(), 0);
    }
}

void tst_Receiver::inPlaceReadLandsInTheMessage()
{
    // Once the header of a large frame is parsed, inputBuffer() hands out the
    // message buffer itself: the message delivered is where the bytes were read.
    for (Role role : {Role::Client, Role::Server}) {
        const QByteArray payload = binaryPayload(70000);
        const QByteArray stream = frameTo(role, Binary, payload);
        const qsizetype header = stream.size() - payload.size();
        Receiver receiver{Options(role)};
        receiver.feed(stream.constData(), header);
        Events events;
        drain(receiver, &events);
        QVERIFY(events.isEmpty());

        const char *start = nullptr;
        for (qsizetype done = 0; done < payload.size();) {
            const Receiver::InputBuffer buffer = receiver.inputBuffer(1 << 20);
            QVERIFY(buffer.size >= 1);
            QVERIFY(buffer.size <= payload.size() - done);
            if (!start)
                start = buffer.data;
            QCOMPARE(buffer.data, start + done);
            std::memcpy(buffer.data, stream.constData() + header + done, size_t(buffer.size));
            receiver.commitInput(buffer.size);
            done += buffer.size;
        }
        drain(receiver, &events);
        QCOMPARE(describe(events), describe(Events{binary(payload)}));
        QCOMPARE(events.first().data.constData(), start);
    }
}

// Delivers one binary frame to `receiver` and returns its message.
QByteArray deliverOne(Receiver &receiver, const QByteArray &payload)
{
    const QByteArray stream = frameTo(Role::Server, Binary, payload);
    receiver.feed(stream.constData(), stream.size());
    Events events;
    drain(receiver, &events);
    return events.size() == 1 ? events.first().data : QByteArray();
}

void tst_Receiver::largeMessageBuffersAreReused()
{
    // A large message's buffer becomes a later one's once the application has
    // let go of it, and never while it still holds it.
    Receiver receiver(server());
    const auto deliver = [&receiver](const QByteArray &payload) { return deliverOne(receiver, payload); };
    const QByteArray first = binaryPayload(200000, 1);
    const QByteArray second = binaryPayload(200000, 2);
    const QByteArray third = binaryPayload(150000, 3);

    QByteArray held = deliver(first);
    QCOMPARE(held, first);
    const char *firstBuffer = held.constData();
    QByteArray alsoHeld = deliver(second);
    QCOMPARE(alsoHeld, second);
    QVERIFY(alsoHeld.constData() != firstBuffer);
    QCOMPARE(held, first);
    const char *secondBuffer = alsoHeld.constData();
    QVERIFY(receiver.holdsReusableBuffers());

    held = QByteArray();
    alsoHeld = QByteArray();
    const QByteArray reused = deliver(third);
    QCOMPARE(reused, third);
    QVERIFY(reused.constData() == firstBuffer || reused.constData() == secondBuffer);

    receiver.releaseReusableBuffers();
    QVERIFY(!receiver.holdsReusableBuffers());
    // Small messages come from the allocator's own free memory: none is kept.
    Receiver small(server());
    const QByteArray stream = frameTo(Role::Server, Binary, binaryPayload(1000));
    small.feed(stream.constData(), stream.size());
    Events events;
    drain(small, &events);
    QCOMPARE(events.size(), 1);
    QVERIFY(!small.holdsReusableBuffers());
}

void tst_Receiver::smallMessageBuffersAreReused()
{
    // The last small message delivered on a thread becomes the buffer of the
    // next, whichever receiver parses it, once the application has let go of
    // it; a message the application still holds is never written over.
    Receiver a(server());
    Receiver b(server());
    const QByteArray first = binaryPayload(100, 1);
    const QByteArray second = binaryPayload(100, 2);
    const QByteArray third = binaryPayload(90, 3);

    const QByteArray held = deliverOne(a, first);
    QCOMPARE(held, first);
    QByteArray released = deliverOne(b, second);
    QCOMPARE(released, second);
    QVERIFY(released.constData() != held.constData());
    QCOMPARE(held, first);
    const char *secondBuffer = released.constData();
    released = QByteArray();
    // Takes the memory of a buffer that went back to the allocator.
    const QByteArray unrelated(100, 'x');
    const QByteArray reused = deliverOne(a, third);
    QCOMPARE(reused, third);
    QCOMPARE(reused.constData(), secondBuffer);
    QCOMPARE(held, first);

    // A buffer that a message would fill less than half of is not taken.
    QByteArray large = deliverOne(b, binaryPayload(40000, 4));
    const char *largeBuffer = large.constData();
    large = QByteArray();
    const QByteArray small = deliverOne(a, binaryPayload(1000, 5));
    QCOMPARE(small, binaryPayload(1000, 5));
    QVERIFY(small.constData() != largeBuffer);
}

void tst_Receiver::idleInputBufferPassesBetweenReceivers()
{
    // A drained read buffer goes to the next receiver on the thread that
    // reads, empty: no byte of one connection is ever parsed for another,
    // and what a receiver has not parsed yet stays its own.
    const auto read = [](Receiver &receiver, const QByteArray &bytes) {
        const Receiver::InputBuffer buffer = receiver.inputBuffer(65536);
        QVERIFY(buffer.size >= bytes.size());
        std::memcpy(buffer.data, bytes.constData(), size_t(bytes.size()));
        receiver.commitInput(bytes.size());
    };
    const QByteArray first = frameTo(Role::Server, Binary, binaryPayload(300, 1));
    const QByteArray second = frameTo(Role::Server, Binary, binaryPayload(300, 2));
    const QByteArray third = frameTo(Role::Server, Binary, binaryPayload(200, 3));

    Receiver a(server());
    Receiver b(server());
    Receiver c(server());
    Events events;
    // Part of a frame header: it stays in a's buffer, unparsed.
    read(a, first.left(3));
    drain(a, &events);
    a.releaseIdleInput();
    QCOMPARE(a.bufferedInput(), 3);
    read(b, second);
    drain(b, &events);
    b.releaseIdleInput();
    QCOMPARE(b.bufferedInput(), 0);
    read(c, third);
    drain(c, &events);
    read(a, first.mid(3));
    drain(a, &events);
    QCOMPARE(describe(events), describe(Events{binary(binaryPayload(300, 2)), binary(binaryPayload(200, 3)),
                                               binary(binaryPayload(300, 1))}));
}

void tst_Receiver::keepFragmentsSwitchedBetweenMessages()
{
    // A message is delivered the way it started, whatever the setting by its end.
    Receiver receiver(client());
    Events events;
    const auto feed = [&](const char *bytes) {
        const QByteArray data = hex(bytes);
        receiver.feed(data.constData(), data.size());
        drain(receiver, &events);
    };
    feed("02 01 61");
    receiver.setKeepFragments(true);
    feed("80 01 62");
    feed("02 01 63 80 01 64");
    feed("02 01 65");
    receiver.setKeepFragments(false);
    feed("80 01 66");
    feed("82 01 67");
    QCOMPARE(describe(events), describe(Events{binary("ab"), fragmented(true, {"c", "d"}),
                                               fragmented(true, {"e", "f"}), binary("g")}));
}

void tst_Receiver::stopsAfterCloseOrError_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<int>("lastType");

    QTest::newRow("close") << vector("close-then-data") << int(ReceiverEvent::Close);
    QTest::newRow("error") << vector("reserved-opcode-3") + frame(Text, "x", false)
                           << int(ReceiverEvent::Error);
}

void tst_Receiver::stopsAfterCloseOrError()
{
    QFETCH(QByteArray, stream);
    QFETCH(int, lastType);

    Receiver receiver(client());
    receiver.feed(stream.constData(), stream.size());
    Events events;
    drain(receiver, &events);
    QVERIFY(!events.isEmpty());
    QCOMPARE(int(events.last().type), lastType);
    QVERIFY(receiver.isStopped());

    // More input, and more asking, give nothing.
    const QByteArray more = frame(Text, "more", false);
    for (int i = 0; i < 3; ++i) {
        receiver.feed(more.constData(), more.size());
        ReceiverEvent event;
        QVERIFY(!receiver.next(&event));
        QVERIFY(receiver.isStopped());
    }
}

void tst_Receiver::maxPayloadFromLengthField_data()
{
    QTest::addColumn<ReceiverOptions>("options");
    QTest::addColumn<QByteArray>("header");

    QTest::newRow("7-bit length") << ReceiverOptions(client().maxPayload(10)) << hex("82 0b");
    QTest::newRow("16-bit length") << ReceiverOptions(client().maxPayload(200)) << hex("82 7e 00 c9");
    QTest::newRow("64-bit length") << ReceiverOptions(client().maxPayload(65536))
                                   << hex("82 7f 00 00 00 00 00 01 00 01");
    QTest::newRow("masked, with the key") << ReceiverOptions(server().maxPayload(10))
                                          << hex("82 8b 01 02 03 04");
    QTest::newRow("second fragment") << ReceiverOptions(client().maxPayload(10))
                                     << frame(BinaryFirst, "123456", false) + hex("80 05");
    QTest::newRow("text") << ReceiverOptions(client().maxPayload(10)) << hex("81 0b");
    // The default limit is 100 MiB.
    QTest::newRow("default limit + 1") << ReceiverOptions(client())
                                       << hex("82 7f 00 00 00 00 06 40 00 01");
    QTest::newRow("default limit, 2^53-1") << ReceiverOptions(client())
                                           << hex("82 7f 00 1f ff ff ff ff ff ff");
}

void tst_Receiver::maxPayloadFromLengthField()
{
    // The error comes from the header alone, before any payload is sent (bad inputs 20).
    QFETCH(ReceiverOptions, options);
    QFETCH(QByteArray, header);

    Receiver receiver(options);
    receiver.feed(header.constData(), header.size());
    Events events;
    drain(receiver, &events);
    QCOMPARE(describe(events), describe(Events{maxPayloadExceeded()}));
}

void tst_Receiver::lengthErrorsPrecedeMaskKey_data()
{
    QTest::addColumn<ReceiverOptions>("options");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<ReceiverEvent>("expected");

    QTest::newRow("maxPayload") << ReceiverOptions(server().maxPayload(10)) << hex("82 8b")
                                << maxPayloadExceeded();
    QTest::newRow("2^53") << ReceiverOptions(server()) << hex("82 ff 00 20 00 00 00 00 00 00")
                          << lengthOver53Bits();
}

void tst_Receiver::lengthErrorsPrecedeMaskKey()
{
    // As ws: the length is judged as soon as it is read, before the masking key arrives.
    QFETCH(ReceiverOptions, options);
    QFETCH(QByteArray, header);
    QFETCH(ReceiverEvent, expected);

    Receiver receiver(options);
    receiver.feed(header.constData(), header.size());
    Events events;
    drain(receiver, &events);
    QCOMPARE(describe(events), describe(Events{expected}));
}

void tst_Receiver::largestLengthWithoutLimit()
{
    // 2^53-1 is the largest length accepted. Without a payload limit the
    // header is taken, and a little of the payload can follow: no reservation
    // of the announced size, no overflow.
    const QByteArray header = hex("82 7f 00 1f ff ff ff ff ff ff");
    for (bool inPlace : {false, true}) {
        Receiver receiver(client().maxPayload(0));
        receiver.feed(header.constData(), header.size());
        Events events;
        drain(receiver, &events);
        QVERIFY(events.isEmpty());
        const QByteArray some = binaryPayload(100000);
        if (inPlace) {
            qsizetype done = 0;
            while (done < some.size()) {
                const Receiver::InputBuffer buffer = receiver.inputBuffer(1 << 16);
                const qsizetype n = qMin(buffer.size, some.size() - done);
                std::memcpy(buffer.data, some.constData() + done, size_t(n));
                receiver.commitInput(n);
                done += n;
            }
        } else {
            receiver.feed(some.constData(), some.size());
        }
        drain(receiver, &events);
        QVERIFY(events.isEmpty());
        QVERIFY(!receiver.isStopped());
    }
    // Lengths above 2^32 are lengths like any other.
    Receiver receiver(client().maxPayload(0));
    const QByteArray over32 = hex("82 7f 00 00 00 01 00 00 00 05 01 02 03");
    receiver.feed(over32.constData(), over32.size());
    ReceiverEvent event;
    QVERIFY(!receiver.next(&event));
    QVERIFY(!receiver.isStopped());
}

void tst_Receiver::defaultFragmentLimit()
{
    // ws 8.21's default, 131072 fragments, with one-byte fragments (bad inputs 21).
    const int limit = 131072;
    QCOMPARE(ReceiverOptions().maxFragments, quint32(limit));
    const auto stream = [](int fragments) {
        QByteArray out = frame(BinaryFirst, "x", false);
        out += frame(Continue, "x", false).repeated(fragments - 2);
        return out + frame(ContinueFin, "x", false);
    };

    const QByteArray atLimit = stream(limit);
    Receiver accepting(client());
    accepting.feed(atLimit.constData(), atLimit.size());
    Events events;
    drain(accepting, &events);
    QCOMPARE(describe(events), describe(Events{binary(QByteArray(limit, 'x'))}));

    // One more: the error comes with the header of the extra fragment.
    const QByteArray overLimit = stream(limit + 1);
    Receiver refusing(client());
    refusing.feed(overLimit.constData(), overLimit.size() - 3);
    events.clear();
    drain(refusing, &events);
    QVERIFY(events.isEmpty());
    refusing.feed(overLimit.constData() + overLimit.size() - 3, 2);
    drain(refusing, &events);
    QCOMPARE(describe(events), describe(Events{tooManyFragments()}));
}

void tst_Receiver::emptyFragmentFlood_data()
{
    QTest::addColumn<ReceiverOptions>("options");
    QTest::addColumn<Events>("expected");

    QTest::newRow("default limit") << ReceiverOptions(client()) << Events{tooManyFragments()};
    QTest::newRow("no limit") << ReceiverOptions(client().maxFragments(0)) << Events{text({})};
    QTest::newRow("no limit, fragments setting (text arrives whole)")
            << ReceiverOptions(client().maxFragments(0).keepFragments()) << Events{text({})};
}

void tst_Receiver::emptyFragmentFlood()
{
    // A million empty fragments (bad inputs 21): refused at the limit, or with
    // no limit one empty message; quickly either way, as nothing accumulates.
    QFETCH(ReceiverOptions, options);
    QFETCH(Events, expected);

    const QByteArray stream = frame(TextFirst, {}, false) + hex("00 00").repeated(1000000)
            + frame(ContinueFin, {}, false);
    QElapsedTimer timer;
    timer.start();
    Receiver receiver(options);
    receiver.feed(stream.constData(), stream.size());
    Events events;
    drain(receiver, &events);
    QCOMPARE(describe(events), describe(expected));
    QVERIFY2(timer.elapsed() < 10000, qPrintable(QStringLiteral("%1 ms").arg(timer.elapsed())));
}

void tst_Receiver::inflateSlicesBoundEachCall()
{
    // A compressed message whose inflation would hold the loop: next()
    // stops after each slice with the rest pending, and the message comes
    // out whole, the same as without slices.
    constexpr quint64 kSlice = 64 * 1024;
    constexpr qsizetype kPiece = 1024;      // what one inflate call may take past the slice
    PassThroughInflater inflater;
    ReceiverOptions options(client());
    options.inflateSlice = kSlice;
    Receiver receiver(options);
    receiver.setInflater(&inflater);
    const QByteArray payload = binaryPayload(1024 * 1024);
    const QByteArray stream = frame(Binary | 0x40, payload, false) + frame(Ping, "after", false);
    receiver.feed(stream.constData(), stream.size());

    Events events;
    int slices = 0;
    for (;;) {
        drain(receiver, &events);
        if (!receiver.hasPendingWork())
            break;
        QVERIFY(events.isEmpty());
        ++slices;
    }
    // No call inflated more than a slice and a piece.
    QVERIFY2(quint64(slices) >= quint64(payload.size()) / (kSlice + kPiece), qPrintable(QString::number(slices)));
    QCOMPARE(describe(events), describe(Events{binary(payload), ping("after")}));
}

void tst_Receiver::budgetBoundsMessagesTogether()
{
    // Two connections share 256 KiB beyond each message's first 64 KiB: the
    // second large message that would pass it is refused with 1013, and the
    // budget comes back once the first is delivered.
    const auto budget = std::make_shared<MemoryBudget>(256 * 1024);
    ReceiverOptions options(server());
    options.budget = budget;
    Receiver first(options);
    Receiver second(options);
    const QByteArray part = binaryPayload(250 * 1024);
    const QByteArray opening = frameTo(Role::Server, BinaryFirst, part);
    first.feed(opening.constData(), opening.size());
    Events events;
    drain(first, &events);
    QVERIFY(events.isEmpty());
    QCOMPARE(budget->used(), quint64(part.size()) - kUnbudgetedMessageBytes);

    const QByteArray large = frameTo(Role::Server, Binary, binaryPayload(200 * 1024));
    second.feed(large.constData(), large.size());
    drain(second, &events);
    const ReceiverEvent refused = failed(WsError::ReceiveMemoryExceeded, 1013,
                                         QStringLiteral("The memory for incoming messages is used up "
                                                        "(maxReceiveMemory)"));
    QCOMPARE(describe(events), describe(Events{refused}));

    const QByteArray closing = frameTo(Role::Server, ContinueFin, "end");
    first.feed(closing.constData(), closing.size());
    events.clear();
    drain(first, &events);
    QCOMPARE(describe(events), describe(Events{binary(part + "end")}));
    QCOMPARE(budget->used(), quint64(0));

    Receiver third(options);
    third.feed(large.constData(), large.size());
    events.clear();
    drain(third, &events);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().type, ReceiverEvent::Message);
}

void tst_Receiver::budgetGivenBackWhenRefusedOrDestroyed()
{
    const auto budget = std::make_shared<MemoryBudget>(1024 * 1024);
    ReceiverOptions options(server());
    options.budget = budget;
    options.maxPayload = 512 * 1024;
    const QByteArray part = frameTo(Role::Server, BinaryFirst, binaryPayload(300 * 1024));
    {
        Receiver receiver(options);
        receiver.feed(part.constData(), part.size());
        Events events;
        drain(receiver, &events);
        QVERIFY(budget->used() > 0);
    }
    QCOMPARE(budget->used(), quint64(0));

    Receiver receiver(options);
    const QByteArray tooLong = part + frameTo(Role::Server, ContinueFin, binaryPayload(300 * 1024));
    receiver.feed(tooLong.constData(), tooLong.size());
    Events events;
    drain(receiver, &events);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().error.code(), WsError::UnsupportedMessageLength);
    QCOMPARE(budget->used(), quint64(0));
}

void tst_Receiver::utf8FailsFast_data()
{
    // The error comes with the bytes that make the text invalid, not at the
    // end of the message (bad inputs 28).
    QTest::addColumn<ReceiverOptions>("options");
    QTest::addColumn<QByteArray>("prefix");
    QTest::addColumn<qsizetype>("inPlaceFrom");   // 0: feed(); else the header size

    const QByteArray threeFragments = vector("utf8-invalid-first-fragment");
    QTest::newRow("first of three fragments") << ReceiverOptions(client()) << threeFragments.left(4)
                                              << qsizetype(0);
    QTest::newRow("second of three fragments")
            << ReceiverOptions(client())
            << frame(TextFirst, "ok", false) + frame(Continue, hex("e2 28 a1"), false) << qsizetype(0);
    QTest::newRow("inside an unfinished frame") << ReceiverOptions(client()) << hex("81 0a 61 c0 af")
                                                << qsizetype(0);
    QTest::newRow("surrogate inside an unfinished frame") << ReceiverOptions(client())
                                                          << hex("01 05 61 ed a0") << qsizetype(0);
    // 5000 bytes, the 101st invalid; fed up to that byte only.
    QByteArray bad = textPayload(5000);
    bad[100] = char(0xc0);
    const QByteArray large = frameTo(Role::Server, Text, bad);
    const qsizetype header = large.size() - bad.size();
    QTest::newRow("masked 5000 bytes, fed") << ReceiverOptions(server())
                                            << large.left(header + 101) << qsizetype(0);
    QTest::newRow("masked 5000 bytes, in place") << ReceiverOptions(server())
                                                 << large.left(header + 101) << header;
}

void tst_Receiver::utf8FailsFast()
{
    QFETCH(ReceiverOptions, options);
    QFETCH(QByteArray, prefix);
    QFETCH(qsizetype, inPlaceFrom);

    Receiver receiver(options);
    Events events;
    if (inPlaceFrom) {
        // The header, then the payload straight into the message buffer.
        receiver.feed(prefix.constData(), inPlaceFrom);
        drain(receiver, &events);
        QVERIFY(events.isEmpty());
        const qsizetype rest = prefix.size() - inPlaceFrom;
        const Receiver::InputBuffer buffer = receiver.inputBuffer(1 << 20);
        QVERIFY(buffer.size >= rest);
        std::memcpy(buffer.data, prefix.constData() + inPlaceFrom, size_t(rest));
        receiver.commitInput(rest);
    } else {
        receiver.feed(prefix.constData(), prefix.size());
    }
    drain(receiver, &events);
    QCOMPARE(describe(events), describe(Events{invalidUtf8()}));
}

QTEST_APPLESS_MAIN(tst_Receiver)

#include "tst_receiver.moc"
