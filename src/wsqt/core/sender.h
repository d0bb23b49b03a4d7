#pragma once

// Frames outgoing messages and control frames into an output queue (ws's
// sender.js without the socket). Small frames are coalesced into one buffer;
// a large unmasked payload is queued as it is, shared, not copied.

#include "frame.h"

#include <wsqt/wserror.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearraylist.h>

#include <functional>
#include <memory>

namespace wsqt::core {

// Fills the 4-byte masking key of the next frame; ws's generateMask.
using MaskGenerator = std::function<void(uchar *key)>;

// Encodes messages for permessage-deflate.
class MessageDeflater
{
public:
    virtual ~MessageDeflater() = default;
    // Whether a message whose first fragment has this size is worth compressing.
    virtual bool shouldCompress(qsizetype firstFragmentSize) const = 0;
    // Appends the encoded form of `data` to `out`; `fin` ends the message.
    virtual WsError deflate(const char *data, qsizetype length, bool fin, QByteArray *out) = 0;
};

class Sender
{
public:
    // An empty generator means cryptographically strong random keys.
    explicit Sender(MaskGenerator generateMask = {});
    Sender(const Sender &) = delete;
    Sender &operator=(const Sender &) = delete;

    void setDeflater(MessageDeflater *deflater) { m_deflater = deflater; }

    // Queues a message, or one fragment of it when `fin` is false; the
    // fragments after the first go out as continuation frames. The first
    // fragment decides whether the whole message is compressed.
    WsError sendData(const QByteArray &data, bool binary, bool fin, bool compress, bool mask);
    // Whether sendData() with these arguments would compress the data.
    bool willCompress(qsizetype size, bool compress) const;
    // Queues a fragment that the deflater already encoded (elsewhere, for
    // instance on a worker thread), as sendData() would have queued it.
    void sendCompressed(const QByteArray &payload, bool binary, bool fin, bool mask);
    // Queues a control frame; its payload must be at most 125 bytes.
    void sendControl(Opcode opcode, const QByteArray &payload, bool mask);

    // While a message is compressed elsewhere, control frames wait behind
    // it: held, they count as pending but are not taken until released,
    // after the compressed message was queued.
    void holdControlFrames() { m_holding = true; }
    void releaseControlFrames();
    bool isHoldingControlFrames() const { return m_holding; }

    // Bytes queued and not yet taken, held ones included.
    qint64 pendingBytes() const { return m_pendingBytes + m_held.size(); }
    bool hasPending() const { return m_pendingBytes > 0; }
    // The next queued chunk, in order.
    QByteArray takeChunk();

private:
    FrameFlags startFragment(bool binary, bool fin, bool compressed);
    void queueFrame(FrameFlags flags, const QByteArray &payload, bool mask);
    void nextMaskKey(uchar key[4]);

    // Only a sender that masks has one: the application's generator, or
    // random keys drawn several at a time (the thread's random pool is one
    // call away per batch of keys).
    struct Masking
    {
        MaskGenerator generate;
        uchar bytes[64];
        std::size_t used = sizeof bytes;
    };

    std::unique_ptr<Masking> m_masking;
    MessageDeflater *m_deflater = nullptr;
    bool m_firstFragment = true;
    bool m_compressing = false;     // the fragmented message in progress is compressed
    bool m_holding = false;
    QByteArrayList m_chunks;        // full chunks, oldest first, all before m_tail
    QByteArray m_tail;              // small frames coalesced
    qint64 m_pendingBytes = 0;
    QByteArray m_held;              // control frames held back, whole
};

} // namespace wsqt::core
