"""WebSocket frames as bytes (RFC 6455 section 5): building them, masking and
parsing a byte stream back into frames."""

import struct

CONTINUATION = 0x0
TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA

# Bits of the first header byte, given to build_frame() as `rsv`.
RSV1 = 0x4
RSV2 = 0x2
RSV3 = 0x1

OPCODE_NAMES = {
    CONTINUATION: "continuation", TEXT: "text", BINARY: "binary",
    CLOSE: "close", PING: "ping", PONG: "pong",
}


def is_control(opcode):
    return opcode & 0x8 != 0


def apply_mask(key, data):
    """XORs `data` with the 4-byte `key` repeated; the same call unmasks."""
    n = len(data)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    # One big-integer XOR runs at C speed, which matters for megabyte payloads.
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


def build_frame(opcode, payload=b"", fin=True, rsv=0, mask_key=None):
    """The bytes of one frame. `mask_key` (4 bytes) masks it; None sends it bare."""
    first = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)
    n = len(payload)
    mask_bit = 0x80 if mask_key is not None else 0
    if n <= 125:
        header = struct.pack("!BB", first, mask_bit | n)
    elif n <= 0xFFFF:
        header = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, n)
    if mask_key is None:
        return header + payload
    return header + mask_key + apply_mask(mask_key, payload)


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    return struct.pack("!H", code) + reason


def describe_bytes(data, limit=48):
    """Hex of `data`, shortened for messages."""
    if len(data) <= limit:
        return data.hex()
    return "%s... (%d bytes)" % (data[:limit].hex(), len(data))


class Frame:
    __slots__ = ("fin", "rsv", "opcode", "masked", "payload")

    def __init__(self, fin, rsv, opcode, masked, payload):
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.masked = masked
        self.payload = payload

    def __repr__(self):
        return "Frame(%s fin=%d rsv=%d masked=%d payload=%s)" % (
            OPCODE_NAMES.get(self.opcode, "opcode %d" % self.opcode),
            self.fin, self.rsv, self.masked, describe_bytes(self.payload))


class FrameParser:
    """Turns a byte stream into Frames, whatever the chunking."""

    def __init__(self):
        self._buffer = bytearray()

    def feed(self, data):
        self._buffer += data
        frames = []
        pos = 0
        buf = self._buffer
        while True:
            if len(buf) - pos < 2:
                break
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            header = 2
            if length == 126:
                if len(buf) - pos < 4:
                    break
                length = struct.unpack_from("!H", buf, pos + 2)[0]
                header = 4
            elif length == 127:
                if len(buf) - pos < 10:
                    break
                length = struct.unpack_from("!Q", buf, pos + 2)[0]
                header = 10
            masked = bool(b1 & 0x80)
            if masked:
                header += 4
            if len(buf) - pos < header + length:
                break
            payload = bytes(buf[pos + header:pos + header + length])
            if masked:
                payload = apply_mask(bytes(buf[pos + header - 4:pos + header]), payload)
            frames.append(Frame(bool(b0 & 0x80), (b0 >> 4) & 0x7, b0 & 0xF, masked, payload))
            pos += header + length
        if pos:
            del buf[:pos]
        return frames

    def pending(self):
        return len(self._buffer)
