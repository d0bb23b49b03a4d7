#include "receiver.h"

#include "mask.h"

#include <QtCore/qendian.h>

#include <cstring>
#include <iterator>

namespace wsqt::core {

namespace {

// A read lands in the input buffer in pieces of at most this size, which
// bounds the buffer however much the socket holds.
constexpr qsizetype kMaxInputChunk = 256 * 1024;
// A drained input buffer larger than this is freed.
constexpr qsizetype kIdleInputCapacity = 4096;
// Payloads this large are read straight into the message buffer.
constexpr quint64 kDirectReadThreshold = 4096;
// A new message buffer reserves at most this much ahead of the bytes that
// arrived: a length field alone must not commit memory.
constexpr quint64 kMaxEagerReserve = 1024 * 1024;
// Message buffers from this size on are kept for reuse by their connection,
// so that the pages of a large message are not faulted in again for the
// next. Above the second bound they are not, so that what a connection keeps
// stays small beside its messages in flight.
constexpr qsizetype kReuseThreshold = 64 * 1024;
constexpr qsizetype kMaxReusableCapacity = 2 * 1024 * 1024;
// A kept buffer is reused for a message that fills at least half of it, or
// for any message when it is this small.
constexpr qsizetype kSmallSlack = 256;
// With inflate slices, compressed bytes go to the inflater in pieces of at
// most this size: deflate expands by at most 1032 times, so a piece of a
// bomb overshoots the slice by at most about 1 MiB.
constexpr qsizetype kInflatePiece = 1024;

// Buffers that pass from connection to connection on a thread rather than
// back to the allocator.
struct ThreadBuffers
{
    // One drained input buffer: the connections of a thread read one after
    // the other, so none keeps a buffer while idle and none allocates one
    // for each read.
    QByteArray input;
    // The last small message delivered. Once the application has let go of
    // it, it becomes the next small message's buffer: an echo or a relay of
    // small messages then allocates nothing per message.
    QByteArray message;
};
thread_local ThreadBuffers threadBuffers;

// Moves a kept buffer into `message` when the application holds no copy of
// it any more (it is detached) and a message of `length` bytes fills at
// least half of it, or it is small anyway.
bool adoptBuffer(QByteArray &kept, qsizetype length, QByteArray *message)
{
    const qsizetype capacity = kept.capacity();
    if (!kept.isDetached() || capacity < length || (capacity > 2 * length && capacity > kSmallSlack))
        return false;
    *message = std::exchange(kept, QByteArray());
    message->resize(0);
    return true;
}

QString frameError(const QString &what)
{
    return QLatin1String("Invalid WebSocket frame: ") + what;
}

WsError budgetError()
{
    return WsError(WsError::ReceiveMemoryExceeded,
                   QStringLiteral("The memory for incoming messages is used up (maxReceiveMemory)"), 1013);
}

} // namespace

Receiver::Receiver(const ReceiverOptions &options) : m_options(options) { }

Receiver::~Receiver()
{
    releaseBudget();
}

bool Receiver::budgetMessage()
{
    if (!m_options.budget)
        return true;
    const quint64 held = m_keptLength + quint64(m_message.size());
    if (held <= kUnbudgetedMessageBytes + m_budgeted)
        return true;
    const quint64 more = held - kUnbudgetedMessageBytes - m_budgeted;
    if (!m_options.budget->take(more))
        return false;
    m_budgeted += more;
    return true;
}

void Receiver::releaseBudget()
{
    if (m_budgeted)
        m_options.budget->giveBack(std::exchange(m_budgeted, 0));
}

bool Receiver::directReadPossible() const
{
    return m_state == State::Payload && !isControlOpcode(m_opcode) && !m_compressed
            && !m_deferredError.isError() && m_inputPos == m_input.size()
            && m_frameRemaining >= kDirectReadThreshold;
}

Receiver::InputBuffer Receiver::inputBuffer(qsizetype sizeHint)
{
    sizeHint = qMax<qsizetype>(sizeHint, 1);
    if (directReadPossible()) {
        const auto length = qsizetype(qMin<quint64>(quint64(sizeHint), m_frameRemaining));
        const qsizetype filled = m_message.size();
        m_message.resize(filled + length);
        m_offered = length;
        m_offeredDirect = true;
        return {m_message.data() + filled, length};
    }
    if (m_input.isNull())
        m_input.swap(threadBuffers.input);
    if (m_inputPos == m_input.size()) {
        m_input.resize(0);
        m_inputPos = 0;
    } else if (m_inputPos > 0 && m_inputPos >= m_input.size() / 2) {
        // At most half is still unparsed: move it down rather than grow.
        const qsizetype rest = m_input.size() - m_inputPos;
        std::memmove(m_input.data(), m_input.constData() + m_inputPos, size_t(rest));
        m_input.resize(rest);
        m_inputPos = 0;
    }
    const qsizetype length = qMin(sizeHint, kMaxInputChunk);
    const qsizetype used = m_input.size();
    m_input.resize(used + length);
    m_offered = length;
    m_offeredDirect = false;
    return {m_input.data() + used, length};
}

void Receiver::releaseIdleInput()
{
    if (m_inputPos == m_input.size() && m_input.capacity() > kIdleInputCapacity) {
        QByteArray &spare = threadBuffers.input;
        if (spare.isNull() && m_input.capacity() <= kMaxInputChunk) {
            m_input.resize(0);
            spare.swap(m_input);
        }
        m_input = QByteArray();
        m_inputPos = 0;
    }
}

bool Receiver::holdsReusableBuffers() const
{
    return m_reusable != nullptr;
}

void Receiver::releaseReusableBuffers()
{
    m_reusable.reset();
}

void Receiver::reserveMessage(qsizetype length)
{
    if (length < kReuseThreshold) {
        if (adoptBuffer(threadBuffers.message, length, &m_message))
            return;
    } else if (m_reusable) {
        for (QByteArray &buffer : m_reusable->buffers) {
            if (adoptBuffer(buffer, length, &m_message))
                return;
        }
    }
    m_message.reserve(length);
}

void Receiver::keepForReuse(const QByteArray &message)
{
    if (message.capacity() < kReuseThreshold) {
        threadBuffers.message = message;
        return;
    }
    if (message.capacity() > kMaxReusableCapacity)
        return;
    if (!m_reusable)
        m_reusable = std::make_unique<ReusableBuffers>();
    m_reusable->buffers[m_reusable->next] = message;
    m_reusable->next = (m_reusable->next + 1) % int(std::size(m_reusable->buffers));
}

void Receiver::commitInput(qsizetype length)
{
    Q_ASSERT(length >= 0 && length <= m_offered);
    const qsizetype offered = m_offered;
    m_offered = 0;
    if (!m_offeredDirect) {
        m_input.resize(m_input.size() - (offered - length));
        return;
    }
    // Payload of the current frame, already where it belongs.
    const qsizetype start = m_message.size() - offered;
    m_message.resize(start + length);
    char *payload = m_message.data() + start;
    if (m_masked)
        applyMask(payload, size_t(length), m_maskKey, size_t(m_frameReceived));
    m_frameReceived += quint64(length);
    m_frameRemaining -= quint64(length);
    checkText(payload, length);
    if (!m_deferredError.isError() && !budgetMessage())
        m_deferredError = budgetError();
}

void Receiver::feed(const char *data, qsizetype length)
{
    while (length > 0) {
        const InputBuffer buffer = inputBuffer(length);
        const qsizetype n = qMin(buffer.size, length);
        std::memcpy(buffer.data, data, size_t(n));
        commitInput(n);
        data += n;
        length -= n;
    }
}

bool Receiver::next(ReceiverEvent *event)
{
    for (;;) {
        Step step;
        switch (m_state) {
        case State::Stopped:
            return false;
        case State::Header:
            step = parseHeader(event);
            break;
        case State::Payload:
            step = parsePayload(event);
            break;
        }
        if (step != Step::Continue)
            return step == Step::Emit;
    }
}

Receiver::Step Receiver::fail(ReceiverEvent *event, const WsError &error)
{
    m_state = State::Stopped;
    // Nothing more is parsed: what the message held goes.
    m_message = QByteArray();
    m_fragments = QByteArrayList();
    m_scratch = QByteArray();
    m_scratchPos = 0;
    releaseBudget();
    event->type = ReceiverEvent::Error;
    event->error = error;
    return Step::Emit;
}

Receiver::Step Receiver::fail(ReceiverEvent *event, WsError::Code code, int closeCode,
                              const QString &message)
{
    return fail(event, WsError(code, message, closeCode));
}

// The checks ws makes on a frame's first two bytes, in ws's order.
Receiver::Step Receiver::checkFirstBytes(uchar b0, uchar b1, ReceiverEvent *event)
{
    if (b0 & 0x30) {
        return fail(event, WsError::UnexpectedRsv23, 1002,
                    frameError(QStringLiteral("RSV2 and RSV3 must be clear")));
    }
    const bool rsv1 = b0 & 0x40;
    const auto rsv1Error = [&] {
        return fail(event, WsError::UnexpectedRsv1, 1002,
                    frameError(QStringLiteral("RSV1 must be clear")));
    };
    if (rsv1 && !m_inflater)
        return rsv1Error();

    m_fin = b0 & 0x80;
    m_opcode = b0 & 0x0F;
    const int length7 = b1 & 0x7F;
    const auto opcodeError = [&] {
        return fail(event, WsError::InvalidOpcode, 1002,
                    frameError(QStringLiteral("invalid opcode %1").arg(m_opcode)));
    };

    if (m_opcode == quint8(Opcode::Continuation)) {
        if (rsv1)
            return rsv1Error();
        if (!m_messageOpcode)
            return opcodeError();
    } else if (m_opcode == quint8(Opcode::Text) || m_opcode == quint8(Opcode::Binary)) {
        if (m_messageOpcode)
            return opcodeError();
        m_compressed = rsv1;
    } else if (m_opcode >= quint8(Opcode::Close) && m_opcode <= quint8(Opcode::Pong)) {
        if (!m_fin) {
            return fail(event, WsError::ExpectedFin, 1002,
                        frameError(QStringLiteral("FIN must be set")));
        }
        if (rsv1)
            return rsv1Error();
        if (length7 > kMaxControlPayload || (m_opcode == quint8(Opcode::Close) && length7 == 1)) {
            return fail(event, WsError::InvalidControlPayloadLength, 1002,
                        frameError(QStringLiteral("invalid payload length %1").arg(length7)));
        }
    } else {
        return opcodeError();
    }

    m_masked = b1 & 0x80;
    if (m_options.role == Role::Server && !m_masked) {
        return fail(event, WsError::ExpectedMask, 1002,
                    frameError(QStringLiteral("MASK must be set")));
    }
    if (m_options.role == Role::Client && m_masked) {
        return fail(event, WsError::UnexpectedMask, 1002,
                    frameError(QStringLiteral("MASK must be clear")));
    }
    m_headerSize = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (m_masked ? 4 : 0);
    return Step::Continue;
}

Receiver::Step Receiver::parseHeader(ReceiverEvent *event)
{
    const qsizetype available = bufferedInput();
    if (available < 2)
        return Step::NeedMore;
    const auto *p = reinterpret_cast<const uchar *>(m_input.constData() + m_inputPos);
    if (m_headerStage == HeaderStage::Start) {
        const Step step = checkFirstBytes(p[0], p[1], event);
        if (step == Step::Emit)
            return step;
        m_headerStage = HeaderStage::FirstBytesChecked;
    }
    const int keySize = m_masked ? 4 : 0;
    if (m_headerStage == HeaderStage::FirstBytesChecked) {
        // As ws: the length is judged as soon as it is known, before the key.
        if (available < m_headerSize - keySize)
            return Step::NeedMore;
        const Step step = checkLength(p, event);
        if (step == Step::Emit)
            return step;
        m_headerStage = HeaderStage::LengthChecked;
    }
    if (available < m_headerSize)
        return Step::NeedMore;

    if (m_masked)
        std::memcpy(m_maskKey, p + m_headerSize - keySize, 4);
    m_inputPos += m_headerSize;
    m_headerStage = HeaderStage::Start;
    m_frameReceived = 0;
    if (!isControlOpcode(m_opcode) && m_message.isEmpty() && !m_compressed)
        reserveMessage(qsizetype(qMin(m_frameRemaining, kMaxEagerReserve)));
    m_state = State::Payload;
    return Step::Continue;
}

Receiver::Step Receiver::checkLength(const uchar *header, ReceiverEvent *event)
{
    const int length7 = header[1] & 0x7F;
    quint64 length = quint64(length7);
    if (length7 == 126) {
        length = qFromBigEndian<quint16>(header + 2);
    } else if (length7 == 127) {
        length = qFromBigEndian<quint64>(header + 2);
        if (length > kMaxFrameLength) {
            return fail(event, WsError::UnsupportedDataPayloadLength, 1009,
                        QStringLiteral("Unsupported WebSocket frame: payload length > 2^53 - 1"));
        }
    }
    m_frameRemaining = length;
    if (isControlOpcode(m_opcode))
        return Step::Continue;

    if (m_opcode != quint8(Opcode::Continuation))
        startMessage();
    if (m_options.maxFragments && ++m_fragmentCount > m_options.maxFragments) {
        return fail(event, WsError::TooManyBufferedParts, 1008, QStringLiteral("Too many message fragments"));
    }
    m_messageLength += length;
    if (m_options.maxPayload && m_messageLength > m_options.maxPayload) {
        return fail(event, WsError::UnsupportedMessageLength, 1009, QStringLiteral("Max payload size exceeded"));
    }
    if (!m_fin)
        m_messageOpcode = m_messageOpcode ? m_messageOpcode : m_opcode;
    return Step::Continue;
}

void Receiver::startMessage()
{
    m_textMessage = m_opcode == quint8(Opcode::Text);
    // As ws: binaryType applies to binary messages; text always arrives whole.
    m_keepFragments = m_options.keepFragments && !m_textMessage;
    m_messageLength = 0;
    m_keptLength = 0;
    m_fragmentCount = 0;
    m_utf8.reset();
}

Receiver::Step Receiver::parsePayload(ReceiverEvent *event)
{
    if (m_deferredError.isError()) {
        const WsError error = m_deferredError;
        m_deferredError = {};
        return fail(event, error);
    }
    if (hasPendingWork()) {
        const Step step = inflatePending(event);
        if (step != Step::Continue)
            return step;
    }
    if (m_frameRemaining > 0) {
        const auto take = qsizetype(qMin<quint64>(quint64(bufferedInput()), m_frameRemaining));
        if (take == 0)
            return Step::NeedMore;
        const char *data = m_input.constData() + m_inputPos;
        m_inputPos += take;
        const Step step = isControlOpcode(m_opcode) ? appendControlPayload(data, take)
                                                    : appendDataPayload(data, take, event);
        if (step != Step::Continue)
            return step;
        if (m_deferredError.isError())
            return parsePayload(event);
        if (m_frameRemaining > 0)
            return Step::NeedMore;
    }
    m_state = State::Header;
    return isControlOpcode(m_opcode) ? finishControlFrame(event) : finishDataFrame(event);
}

Receiver::Step Receiver::appendControlPayload(const char *data, qsizetype length)
{
    const qsizetype old = m_control.size();
    m_control.resize(old + length);
    unmaskInto(m_control.data() + old, data, length);
    return Step::Continue;
}

void Receiver::unmaskInto(char *dst, const char *src, qsizetype length)
{
    if (m_masked)
        copyMasked(dst, src, size_t(length), m_maskKey, size_t(m_frameReceived));
    else
        std::memcpy(dst, src, size_t(length));
    m_frameReceived += quint64(length);
    m_frameRemaining -= quint64(length);
}

Receiver::Step Receiver::appendDataPayload(const char *data, qsizetype length, ReceiverEvent *event)
{
    if (!m_compressed) {
        const qsizetype old = m_message.size();
        m_message.resize(old + length);
        char *dst = m_message.data() + old;
        unmaskInto(dst, data, length);
        checkText(dst, length);
        if (!budgetMessage())
            return fail(event, budgetError());
        return Step::Continue;
    }
    const qsizetype pending = m_scratch.size();
    m_scratch.resize(pending + length);
    unmaskInto(m_scratch.data() + pending, data, length);
    return inflatePending(event);
}

Receiver::Step Receiver::inflatePending(ReceiverEvent *event)
{
    const quint64 slice = m_options.inflateSlice;
    while (hasPendingWork()) {
        if (slice && m_sliceInflated >= slice) {
            m_sliceInflated = 0;
            return Step::Yield;
        }
        const qsizetype rest = m_scratch.size() - m_scratchPos;
        const qsizetype piece = slice ? qMin(rest, kInflatePiece) : rest;
        const qsizetype before = m_message.size();
        const Step step = inflate(m_scratch.constData() + m_scratchPos, piece, false, event);
        if (step != Step::Continue)
            return step;
        m_scratchPos += piece;
        m_sliceInflated += quint64(m_message.size() - before);
        if (!budgetMessage())
            return fail(event, budgetError());
    }
    m_scratch.resize(0);
    m_scratchPos = 0;
    return Step::Continue;
}

Receiver::Step Receiver::inflate(const char *data, qsizetype length, bool fin, ReceiverEvent *event)
{
    // The limit is the message's: earlier frames' output may sit in m_fragments.
    const quint64 limit = m_options.maxPayload ? m_options.maxPayload - m_keptLength : kNoOutputLimit;
    const qsizetype old = m_message.size();
    const WsError error = m_inflater->inflate(data, length, fin, &m_message, limit);
    // What was decoded before an error is judged first, so that the error
    // reported does not depend on how the input was chunked.
    const quint64 decoded = quint64(m_message.size() - old);
    const quint64 room = limit - quint64(old);
    checkText(m_message.constData() + old, qsizetype(qMin(decoded, room)));
    if (m_deferredError.isError()) {
        const WsError utf8Error = std::exchange(m_deferredError, WsError());
        return fail(event, utf8Error);
    }
    if (error.isError())
        return fail(event, error);
    return Step::Continue;
}

void Receiver::checkText(const char *data, qsizetype length)
{
    if (!m_textMessage || m_options.skipUtf8Validation || m_deferredError.isError())
        return;
    if (!m_utf8.feed(data, size_t(length))) {
        m_deferredError = WsError(WsError::InvalidUtf8,
                                  frameError(QStringLiteral("invalid UTF-8 sequence")), 1007);
    }
}

Receiver::Step Receiver::finishDataFrame(ReceiverEvent *event)
{
    if (m_compressed && m_fin) {
        const Step step = inflate(nullptr, 0, true, event);
        if (step != Step::Continue)
            return step;
    }
    if (m_deferredError.isError())
        return parsePayload(event);
    // As ws: each frame's (decoded) payload is one fragment; empty ones are not kept.
    if (m_keepFragments && !m_message.isEmpty()) {
        m_keptLength += quint64(m_message.size());
        m_fragments.append(std::exchange(m_message, QByteArray()));
    }
    if (!m_fin)
        return Step::Continue;

    if (m_textMessage && !m_options.skipUtf8Validation && !m_utf8.isComplete()) {
        return fail(event, WsError::InvalidUtf8, 1007,
                    frameError(QStringLiteral("invalid UTF-8 sequence")));
    }
    // Delivered, the message is the application's.
    releaseBudget();
    m_sliceInflated = 0;
    if (m_scratch.capacity() > kIdleInputCapacity)
        m_scratch = QByteArray();
    event->type = ReceiverEvent::Message;
    event->binary = !m_textMessage;
    event->asFragments = m_keepFragments;
    if (m_keepFragments) {
        event->fragments = std::exchange(m_fragments, QByteArrayList());
    } else {
        event->data = std::exchange(m_message, QByteArray());
        keepForReuse(event->data);
    }
    m_messageOpcode = 0;
    m_compressed = false;
    return Step::Emit;
}

Receiver::Step Receiver::finishControlFrame(ReceiverEvent *event)
{
    QByteArray payload = std::exchange(m_control, QByteArray());
    switch (Opcode(m_opcode)) {
    case Opcode::Ping:
        event->type = ReceiverEvent::Ping;
        event->data = std::move(payload);
        return Step::Emit;
    case Opcode::Pong:
        event->type = ReceiverEvent::Pong;
        event->data = std::move(payload);
        return Step::Emit;
    default:
        break;
    }
    int code = 1005;
    if (payload.size() >= 2) {
        code = qFromBigEndian<quint16>(payload.constData());
        if (!isValidCloseCode(code)) {
            return fail(event, WsError::InvalidCloseCode, 1002,
                        frameError(QStringLiteral("invalid status code %1").arg(code)));
        }
        payload.remove(0, 2);
        if (!m_options.skipUtf8Validation && !isValidUtf8(payload.constData(), size_t(payload.size()))) {
            return fail(event, WsError::InvalidUtf8, 1007,
                        frameError(QStringLiteral("invalid UTF-8 sequence")));
        }
    }
    // Nothing after a close frame is parsed (RFC 6455 §5.5.1).
    m_state = State::Stopped;
    event->type = ReceiverEvent::Close;
    event->closeCode = code;
    event->data = std::move(payload);
    return Step::Emit;
}

} // namespace wsqt::core
