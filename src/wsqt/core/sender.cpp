#include "sender.h"

#include "liststorage.h"
#include "mask.h"
#include "random.h"

#include <cstring>

namespace wsqt::core {

namespace {

// Unmasked payloads from this size on are queued shared rather than copied.
constexpr qsizetype kShareThreshold = 16 * 1024;
// Small frames are coalesced up to this size.
constexpr qsizetype kCoalesceLimit = 64 * 1024;
// A chunk that gets a second frame is part of a batch: it makes room for
// many at once rather than reallocating every few frames.
constexpr qsizetype kBatchChunkCapacity = 4096;

} // namespace

Sender::Sender(MaskGenerator generateMask)
{
    if (generateMask) {
        m_masking = std::make_unique<Masking>();
        m_masking->generate = std::move(generateMask);
    }
}

bool Sender::willCompress(qsizetype size, bool compress) const
{
    if (!m_firstFragment)
        return m_compressing;
    return compress && m_deflater && m_deflater->shouldCompress(size);
}

FrameFlags Sender::startFragment(bool binary, bool fin, bool compressed)
{
    FrameFlags flags;
    flags.fin = fin;
    flags.opcode = binary ? Opcode::Binary : Opcode::Text;
    if (m_firstFragment) {
        m_compressing = compressed;
        // RSV1 marks the first frame of a compressed message only.
        flags.rsv1 = compressed;
    } else {
        flags.opcode = Opcode::Continuation;
    }
    m_firstFragment = fin;
    return flags;
}

WsError Sender::sendData(const QByteArray &data, bool binary, bool fin, bool compress, bool mask)
{
    if (!willCompress(data.size(), compress)) {
        queueFrame(startFragment(binary, fin, false), data, mask);
        return {};
    }
    QByteArray compressed;
    const WsError error = m_deflater->deflate(data.constData(), data.size(), fin, &compressed);
    if (error.isError())
        return error;
    queueFrame(startFragment(binary, fin, true), compressed, mask);
    return {};
}

void Sender::sendCompressed(const QByteArray &payload, bool binary, bool fin, bool mask)
{
    queueFrame(startFragment(binary, fin, true), payload, mask);
}

void Sender::sendControl(Opcode opcode, const QByteArray &payload, bool mask)
{
    Q_ASSERT(payload.size() <= kMaxControlPayload);
    FrameFlags flags;
    flags.opcode = opcode;
    if (!m_holding) {
        queueFrame(flags, payload, mask);
        return;
    }
    uchar key[4];
    if (mask)
        nextMaskKey(key);
    const qsizetype old = m_held.size();
    const int headerSize = frameHeaderSize(quint64(payload.size()), mask);
    m_held.resize(old + headerSize + payload.size());
    char *out = m_held.data() + old;
    writeFrameHeader(out, flags, quint64(payload.size()), mask ? key : nullptr);
    if (mask)
        copyMasked(out + headerSize, payload.constData(), size_t(payload.size()), key);
    else if (!payload.isEmpty())
        std::memcpy(out + headerSize, payload.constData(), size_t(payload.size()));
}

void Sender::releaseControlFrames()
{
    m_holding = false;
    if (m_held.isEmpty())
        return;
    if (!m_tail.isEmpty())
        m_chunks.append(std::exchange(m_tail, QByteArray()));
    m_pendingBytes += m_held.size();
    m_chunks.append(std::exchange(m_held, QByteArray()));
}

void Sender::queueFrame(FrameFlags flags, const QByteArray &payload, bool mask)
{
    uchar key[4];
    if (mask)
        nextMaskKey(key);
    const qsizetype length = payload.size();
    const int headerSize = frameHeaderSize(quint64(length), mask);
    m_pendingBytes += headerSize + length;

    const bool share = !mask && length >= kShareThreshold;
    const qsizetype copied = share ? 0 : length;
    // A large masked frame gets a chunk of its own, allocated once at its
    // size: growing a coalesced chunk around it would copy it again.
    const bool alone = copied >= kShareThreshold;
    if (!m_tail.isEmpty() && (alone || m_tail.size() + headerSize + copied > kCoalesceLimit))
        m_chunks.append(std::exchange(m_tail, QByteArray()));

    const qsizetype old = m_tail.size();
    const qsizetype needed = old + headerSize + copied;
    if (alone || (old > 0 && m_tail.capacity() < kBatchChunkCapacity))
        m_tail.reserve(alone ? needed : qMax(needed, kBatchChunkCapacity));
    m_tail.resize(needed);
    char *out = m_tail.data() + old;
    writeFrameHeader(out, flags, quint64(length), mask ? key : nullptr);
    if (share) {
        m_chunks.append(std::exchange(m_tail, QByteArray()));
        m_chunks.append(payload);
    } else if (mask) {
        copyMasked(out + headerSize, payload.constData(), size_t(length), key);
        if (alone)
            m_chunks.append(std::exchange(m_tail, QByteArray()));
    } else if (length) {
        std::memcpy(out + headerSize, payload.constData(), size_t(length));
    }
}

void Sender::nextMaskKey(uchar key[4])
{
    if (!m_masking)
        m_masking = std::make_unique<Masking>();
    Masking &keys = *m_masking;
    if (keys.generate) {
        keys.generate(key);
        return;
    }
    if (keys.used == sizeof keys.bytes) {
        fillRandom(keys.bytes, sizeof keys.bytes);
        keys.used = 0;
    }
    std::memcpy(key, keys.bytes + keys.used, 4);
    keys.used += 4;
}

QByteArray Sender::takeChunk()
{
    QByteArray chunk = m_chunks.isEmpty() ? std::exchange(m_tail, QByteArray()) : m_chunks.takeFirst();
    releaseIfEmpty(m_chunks);
    m_pendingBytes -= chunk.size();
    return chunk;
}

} // namespace wsqt::core
