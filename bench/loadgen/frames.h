#pragma once

// WebSocket framing for the load generator: building frames (masked or not)
// and reading a stream of frames incrementally, one read buffer at a time.

#include <cstddef>
#include <cstdint>
#include <string>

namespace loadgen {

enum Opcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xa,
};

// Appends one frame to `out`. With a mask the payload is masked with it.
void appendFrame(std::string &out, uint8_t opcode, bool fin, bool rsv1, const uint8_t *mask,
                 const char *payload, size_t length);
// Appends only the header of a frame whose payload follows later.
void appendFrameHeader(std::string &out, uint8_t opcode, bool fin, bool rsv1, const uint8_t *mask,
                       uint64_t length);

// One whole frame, as a client sends it: masked with a fresh random mask.
std::string maskedFrame(uint8_t opcode, const std::string &payload, bool rsv1);

// XORs `data` with the 4-byte `mask`, starting `offset` bytes into the mask
// stream (so a payload may be unmasked across several reads).
void applyMask(uint8_t *data, size_t length, const uint8_t *mask, uint64_t offset);

struct FrameHeader
{
    bool fin = false;
    bool rsv1 = false;
    uint8_t opcode = 0;
    bool masked = false;
    uint8_t mask[4] = {};
    uint64_t length = 0;
};

// Reads frames from a byte stream. The sink gets, for each frame,
// header(), then payload() for each piece (already unmasked, in place), then
// frameEnd(). feed() returns false on a malformed header (reserved bits
// other than RSV1, a 64-bit length with the top bit set, a long control frame).
class FrameReader
{
public:
    template<typename Sink>
    bool feed(uint8_t *data, size_t length, Sink &sink);

    bool inFrame() const { return m_state == State::Payload; }

private:
    enum class State { Header, Payload };

    // How many header bytes the collected ones announce (0: unknown yet).
    size_t headerSize() const;
    bool decodeHeader();

    State m_state = State::Header;
    uint8_t m_headerBytes[14] = {};
    size_t m_headerFill = 0;
    FrameHeader m_header;
    uint64_t m_payloadDone = 0;
};

template<typename Sink>
bool FrameReader::feed(uint8_t *data, size_t length, Sink &sink)
{
    size_t pos = 0;
    while (pos < length) {
        if (m_state == State::Header) {
            // Collect just enough bytes for the header the first two announce.
            while (pos < length) {
                m_headerBytes[m_headerFill++] = data[pos++];
                const size_t needed = headerSize();
                if (needed && m_headerFill == needed)
                    break;
            }
            const size_t needed = headerSize();
            if (!needed || m_headerFill < needed)
                return true;
            if (!decodeHeader())
                return false;
            m_headerFill = 0;
            m_payloadDone = 0;
            sink.header(m_header);
            if (m_header.length == 0) {
                sink.frameEnd();
                continue;
            }
            m_state = State::Payload;
        }
        const uint64_t remaining = m_header.length - m_payloadDone;
        const size_t take = remaining < length - pos ? size_t(remaining) : length - pos;
        if (m_header.masked)
            applyMask(data + pos, take, m_header.mask, m_payloadDone);
        sink.payload(data + pos, take);
        pos += take;
        m_payloadDone += take;
        if (m_payloadDone == m_header.length) {
            m_state = State::Header;
            sink.frameEnd();
        }
    }
    return true;
}

} // namespace loadgen
