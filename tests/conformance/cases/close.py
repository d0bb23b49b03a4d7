"""7.x Close handling: data after a close frame is ignored; a close frame is
answered with the same code and reason (as ws does; an empty one with an
empty one); close payloads of one octet or over 125 octets, invalid codes
and reasons that are not UTF-8 fail the connection. Valid codes are those of
ws: 1000-1003, 1007-1014 and 3000-4999."""

from autobahnlike.case import CleanClose, Case, FailClose, repeat, text
from autobahnlike.frames import CLOSE, CONTINUATION, PING, TEXT

HELLO = b"Hello World!"
BROKEN_REASON = "\u03ba\u1f79\u03c3\u03bc\u03b5".encode("utf-8") + b"\xed\xa0\x80edited"
# 7.7: the valid codes Autobahn sends, then 1012-1014, valid in ws as well.
VALID_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
               1012, 1013, 1014)
# 7.9: Autobahn's invalid codes, then 1015 (reserved for TLS failures, never sent).
INVALID_CODES = (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015)
BIG = repeat(b"BAsd7&jh23", 256 * 1024)


def _close_then(*frames):
    """A close frame with code 1000, then `frames` ((opcode, payload, fin)) in the same write."""
    def script(conn):
        conn.send_close(1000)
        for opcode, payload, fin in frames:
            conn.send_frame(opcode, payload, fin)
    return script


def _close(code=None, reason=b"", payload=None):
    return lambda conn: conn.send_close(code, reason, payload)


def _message_then_close(conn):
    conn.send_frame(TEXT, HELLO)
    conn.send_close(1000)


def _fragment_close_fragment(conn):
    conn.send_frame(TEXT, b"fragment1", fin=False)
    conn.send_close(1000)
    conn.send_frame(CONTINUATION, b"fragment2")


def _big_message_close_ping(conn):
    conn.send_frame(TEXT, BIG)
    conn.send_frame(TEXT, HELLO)
    conn.send_close(1000)
    conn.send_frame(PING)


def cases():
    normal = CleanClose((1000,))
    protocol = FailClose(1002)
    result = [
        Case("7.1.1", "text message, then close: echo, then a clean close", _message_then_close, [text(HELLO)],
             normal),
        Case("7.1.2", "two close frames: the second is ignored", _close_then((CLOSE, b"", True)), [], normal),
        Case("7.1.3", "close, then a ping: no pong", _close_then((PING, b"", True)), [], normal),
        Case("7.1.4", "close, then a text message: not echoed", _close_then((TEXT, HELLO, True)), [], normal),
        Case("7.1.5", "first fragment, close, last fragment: nothing echoed", _fragment_close_fragment, [],
             normal),
        Case("7.1.6", "256 KiB text message, a short one, close and ping back to back: both echoed, no pong",
             _big_message_close_ping, [text(BIG), text(HELLO)], normal, timeout=10.0),
        Case("7.3.1", "close without payload: answered without payload", _close(), [], CleanClose((None,))),
        Case("7.3.2", "close with a one-octet payload", _close(payload=b"*"), [], protocol),
        Case("7.3.3", "close with code 1000 and no reason", _close(1000), [], normal),
        Case("7.3.4", "close with code 1000 and a short reason: echoed", _close(1000, b"Hello World!"), [],
             CleanClose((1000,), b"Hello World!")),
        Case("7.3.5", "close with a reason of 123 octets (payload 125): echoed", _close(1000, b"*" * 123), [],
             CleanClose((1000,), b"*" * 123)),
        Case("7.3.6", "close with a reason of 124 octets (payload 126)", _close(1000, b"*" * 124), [], protocol),
        Case("7.5.1", "close with a reason that is not UTF-8", _close(1000, BROKEN_REASON), [], FailClose(1007)),
    ]
    for index, code in enumerate(VALID_CODES, 1):
        result.append(Case("7.7.%d" % index, "close with valid code %d: echoed" % code, _close(code), [],
                           CleanClose((code,))))
    for index, code in enumerate(INVALID_CODES, 1):
        result.append(Case("7.9.%d" % index, "close with invalid code %d" % code, _close(code), [], protocol))
    for index, code in enumerate((5000, 65535), 1):
        result.append(Case("7.13.%d" % index, "close with code %d, past the registered range" % code,
                           _close(code), [], protocol))
    return result
