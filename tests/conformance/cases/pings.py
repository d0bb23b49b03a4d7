"""2.x Pings and pongs: every ping answered with a pong of the same payload,
unsolicited pongs ignored, an oversized ping failing the connection."""

from autobahnlike.case import Case, FailClose, pong
from autobahnlike.frames import PING, PONG

BYTES = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"


def _pings(payloads, chopsize=None):
    def script(conn):
        for payload in payloads:
            conn.send_frame(PING, payload, chopsize=chopsize)
    return script


def _pong_then_ping(conn):
    conn.send_frame(PONG, b"unsolicited pong payload")
    conn.send_frame(PING, b"ping payload")


def cases():
    ten = [b"payload-%d" % i for i in range(10)]
    return [
        Case("2.1", "ping without payload", _pings([b""]), [pong(b"")]),
        Case("2.2", "ping with a short text payload", _pings([b"Hello, world!"]), [pong(b"Hello, world!")]),
        Case("2.3", "ping with a short binary payload", _pings([BYTES]), [pong(BYTES)]),
        Case("2.4", "ping with 125 bytes", _pings([b"\xfe" * 125]), [pong(b"\xfe" * 125)]),
        Case("2.5", "ping with 126 bytes: a control frame is at most 125",
             _pings([b"\xfe" * 126]), [], FailClose(1002)),
        Case("2.6", "ping with 125 bytes written octet by octet",
             _pings([b"\xfe" * 125], chopsize=1), [pong(b"\xfe" * 125)]),
        Case("2.7", "unsolicited pong without payload: ignored",
             lambda conn: conn.send_frame(PONG), []),
        Case("2.8", "unsolicited pong with payload: ignored",
             lambda conn: conn.send_frame(PONG, b"unsolicited pong payload"), []),
        Case("2.9", "unsolicited pong, then a ping: only the ping is answered",
             _pong_then_ping, [pong(b"ping payload")]),
        Case("2.10", "10 pings, each answered", _pings(ten), [pong(p) for p in ten]),
        Case("2.11", "10 pings written octet by octet, each answered",
             _pings(ten, chopsize=1), [pong(p) for p in ten]),
    ]
