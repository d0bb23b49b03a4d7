#pragma once

// RFC 6455 §5.2 framing: opcodes, header serialisation, close payloads.

#include <wsqt/wserror.h>

#include <QtCore/qbytearray.h>

#include <cstdint>

namespace wsqt::core {

enum class Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

constexpr bool isControlOpcode(quint8 opcode) { return opcode & 0x8; }

// The largest header: 2 bytes, 8 of extended length, 4 of mask.
constexpr int kMaxFrameHeaderSize = 14;
// Control frame payloads are at most 125 bytes (§5.5).
constexpr int kMaxControlPayload = 125;
// JavaScript's Number.MAX_SAFE_INTEGER: ws refuses longer frames, and so do we.
constexpr quint64 kMaxFrameLength = (quint64(1) << 53) - 1;

struct FrameFlags
{
    bool fin = true;
    bool rsv1 = false;
    Opcode opcode = Opcode::Binary;
};

// The size of the header for a payload of that length.
constexpr int frameHeaderSize(quint64 payloadLength, bool masked)
{
    return (payloadLength < 126 ? 2 : payloadLength <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
}

// Writes the header into `out` (at least frameHeaderSize() bytes) and returns
// its size. `maskKey` is null for an unmasked frame.
int writeFrameHeader(char *out, FrameFlags flags, quint64 payloadLength, const uchar *maskKey);

// ws's rule for codes that may appear in a close frame: 1000-1014 except
// 1004, 1005 and 1006, and 3000-4999.
constexpr bool isValidCloseCode(int code)
{
    return (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006)
            || (code >= 3000 && code <= 4999);
}

// The payload of a close frame: empty when `code` is 0 (no code, and then no
// reason either), otherwise the code and the reason. Refuses an invalid code
// and a reason over 123 bytes, as ws's close() does.
WsError buildClosePayload(int code, const QByteArray &reason, QByteArray *payload);

} // namespace wsqt::core
