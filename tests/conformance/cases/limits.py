"""9.x Limits: large messages (9.1, 9.2), a large message in many fragments
(9.3, 9.4) or written in small chops (9.5, 9.6), and many round trips of
small messages (9.7, 9.8). Each echo is compared in full. Sizes and counts
are scaled to keep the family short; see README.md."""

from autobahnlike.case import Case, binary, repeat, text
from autobahnlike.frames import BINARY, TEXT

TEXT_PATTERN = b"BAsd7&jh23"
BINARY_PATTERN = bytes(range(256))

KIB = 1024
MIB = 1024 * 1024
# Autobahn: 64 KiB to 16 MiB.
MESSAGE_SIZES = (64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB, 8 * MIB, 16 * MIB)
# Autobahn: one 4 MiB message in fragments of 64 B to 4 MiB.
FRAGMENTED_SIZE = 4 * MIB
FRAGMENT_SIZES = (64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB)
# Autobahn: one 1 MiB message written in chops of 64 B to 2 KiB.
CHOPPED_SIZE = 1 * MIB
CHOP_SIZES = (64, 128, 256, 512, 1024, 2048)
# Autobahn: 1000 round trips of 0 B to 4 KiB each.
ROUND_TRIPS = 1000
ROUND_TRIP_SIZES = (0, 16, 64, 256, KIB, 4 * KIB)

TIMEOUT = 30.0


def _kinds():
    yield 0, TEXT, TEXT_PATTERN, text, "text"
    yield 1, BINARY, BINARY_PATTERN, binary, "binary"


def _size(n):
    return "%d MiB" % (n // MIB) if n >= MIB and n % MIB == 0 else (
        "%d KiB" % (n // KIB) if n >= KIB and n % KIB == 0 else "%d B" % n)


def _round_trips(payload, is_binary, count):
    def script(conn):
        for i in range(count):
            if not conn.send_message(payload, is_binary) or not conn.wait_events(i + 1, TIMEOUT):
                return
    return script


def cases():
    result = []
    for offset, opcode, pattern, event, kind in _kinds():
        for index, size in enumerate(MESSAGE_SIZES, 1):
            payload = repeat(pattern, size)
            result.append(Case("9.%d.%d" % (1 + offset, index), "%s message of %s" % (kind, _size(size)),
                               lambda conn, p=payload, o=opcode: conn.send_frame(o, p),
                               [event(payload)], timeout=TIMEOUT))
    for offset, opcode, pattern, event, kind in _kinds():
        payload = repeat(pattern, FRAGMENTED_SIZE)
        for index, size in enumerate(FRAGMENT_SIZES, 1):
            result.append(Case("9.%d.%d" % (3 + offset, index),
                               "%s message of %s in fragments of %s" % (kind, _size(FRAGMENTED_SIZE), _size(size)),
                               lambda conn, p=payload, b=opcode == BINARY, s=size: conn.send_message(p, b, s),
                               [event(payload)], timeout=TIMEOUT))
    for offset, opcode, pattern, event, kind in _kinds():
        payload = repeat(pattern, CHOPPED_SIZE)
        for index, size in enumerate(CHOP_SIZES, 1):
            result.append(Case("9.%d.%d" % (5 + offset, index),
                               "%s message of %s written in chops of %d B" % (kind, _size(CHOPPED_SIZE), size),
                               lambda conn, p=payload, o=opcode, s=size: conn.send_frame(o, p, chopsize=s),
                               [event(payload)], timeout=TIMEOUT))
    for offset, opcode, pattern, event, kind in _kinds():
        for index, size in enumerate(ROUND_TRIP_SIZES, 1):
            payload = repeat(pattern, size)
            result.append(Case("9.%d.%d" % (7 + offset, index),
                               "%d round trips of %s messages of %s" % (ROUND_TRIPS, kind, _size(size)),
                               _round_trips(payload, opcode == BINARY, ROUND_TRIPS),
                               [event(payload)] * ROUND_TRIPS, timeout=TIMEOUT))
    return result
