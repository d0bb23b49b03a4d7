#include "frames.h"

#include <cstring>
#include <random>

namespace loadgen {

void appendFrameHeader(std::string &out, uint8_t opcode, bool fin, bool rsv1, const uint8_t *mask,
                       uint64_t length)
{
    char header[14];
    size_t size = 2;
    header[0] = char((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f));
    const uint8_t maskBit = mask ? 0x80 : 0;
    if (length < 126) {
        header[1] = char(maskBit | length);
    } else if (length <= 0xffff) {
        header[1] = char(maskBit | 126);
        header[2] = char(length >> 8);
        header[3] = char(length);
        size = 4;
    } else {
        header[1] = char(maskBit | 127);
        for (int i = 0; i < 8; ++i)
            header[2 + i] = char(length >> (56 - 8 * i));
        size = 10;
    }
    if (mask) {
        std::memcpy(header + size, mask, 4);
        size += 4;
    }
    out.append(header, size);
}

void appendFrame(std::string &out, uint8_t opcode, bool fin, bool rsv1, const uint8_t *mask,
                 const char *payload, size_t length)
{
    appendFrameHeader(out, opcode, fin, rsv1, mask, length);
    const size_t start = out.size();
    out.append(payload, length);
    if (mask)
        applyMask(reinterpret_cast<uint8_t *>(&out[start]), length, mask, 0);
}

std::string maskedFrame(uint8_t opcode, const std::string &payload, bool rsv1)
{
    static std::mt19937 random{std::random_device{}()};
    uint8_t mask[4];
    for (uint8_t &byte : mask)
        byte = uint8_t(random());
    std::string frame;
    appendFrame(frame, opcode, true, rsv1, mask, payload.data(), payload.size());
    return frame;
}

void applyMask(uint8_t *data, size_t length, const uint8_t *mask, uint64_t offset)
{
    // The key rotated to this offset, repeated to 8 bytes, so the bulk goes a
    // word at a time.
    uint8_t rotated[8];
    for (int i = 0; i < 8; ++i)
        rotated[i] = mask[(offset + i) & 3];
    uint64_t word;
    std::memcpy(&word, rotated, 8);
    size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        uint64_t chunk;
        std::memcpy(&chunk, data + i, 8);
        chunk ^= word;
        std::memcpy(data + i, &chunk, 8);
    }
    for (; i < length; ++i)
        data[i] ^= rotated[i & 7];
}

size_t FrameReader::headerSize() const
{
    if (m_headerFill < 2)
        return 0;
    const uint8_t length7 = m_headerBytes[1] & 0x7f;
    size_t size = 2 + ((m_headerBytes[1] & 0x80) ? 4 : 0);
    if (length7 == 126)
        size += 2;
    else if (length7 == 127)
        size += 8;
    return size;
}

bool FrameReader::decodeHeader()
{
    const uint8_t first = m_headerBytes[0];
    const uint8_t second = m_headerBytes[1];
    if (first & 0x30)
        return false;
    m_header.fin = first & 0x80;
    m_header.rsv1 = first & 0x40;
    m_header.opcode = first & 0x0f;
    m_header.masked = second & 0x80;
    size_t pos = 2;
    uint64_t length = second & 0x7f;
    if (length == 126) {
        length = (uint64_t(m_headerBytes[2]) << 8) | m_headerBytes[3];
        pos = 4;
    } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = (length << 8) | m_headerBytes[2 + i];
        pos = 10;
        if (length >> 63)
            return false;
    }
    if ((m_header.opcode & 0x08) && (length > 125 || !m_header.fin))
        return false;
    m_header.length = length;
    if (m_header.masked)
        std::memcpy(m_header.mask, m_headerBytes + pos, 4);
    return true;
}

} // namespace loadgen
