"""1.x Framing: text (1.1) and binary (1.2) messages around the boundaries of
the 7-bit, 16-bit and 64-bit length encodings, and one written in chops."""

from autobahnlike.case import Case, binary, text
from autobahnlike.frames import BINARY, TEXT

LENGTHS = (0, 125, 126, 127, 128, 65535, 65536)
CHOP = 997


def _send(opcode, payload, chopsize=None):
    return lambda conn: conn.send_frame(opcode, payload, chopsize=chopsize)


def cases():
    result = []
    for group, opcode, fill, event, kind in ((1, TEXT, b"*", text, "text"),
                                             (2, BINARY, b"\xfe", binary, "binary")):
        for index, length in enumerate(LENGTHS, 1):
            payload = fill * length
            result.append(Case("1.%d.%d" % (group, index),
                               "%s message of %d bytes, echoed" % (kind, length),
                               _send(opcode, payload), [event(payload)]))
        payload = fill * 65536
        result.append(Case("1.%d.8" % group,
                           "%s message of 65536 bytes written in chops of %d bytes, echoed" % (kind, CHOP),
                           _send(opcode, payload, CHOP), [event(payload)]))
    return result
