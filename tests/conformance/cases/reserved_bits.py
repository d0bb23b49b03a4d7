"""3.x Reserved bits: with no extension negotiated, a frame with RSV1, RSV2 or
RSV3 set fails the connection with 1002, after the echo of what came before."""

from autobahnlike.case import Case, FailClose, text
from autobahnlike.frames import BINARY, CLOSE, PING, TEXT

HELLO = b"Hello, world!"
BYTES = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"


def _single(opcode, payload, rsv):
    return lambda conn: conn.send_frame(opcode, payload, rsv=rsv)


def _after_message(rsv, chopsize=None, sync=False):
    def script(conn):
        conn.send_frame(TEXT, HELLO, chopsize=chopsize, sync=sync)
        conn.send_frame(TEXT, HELLO, rsv=rsv, chopsize=chopsize, sync=sync)
        conn.send_frame(PING, chopsize=chopsize, sync=sync)
    return script


def cases():
    fail = FailClose(1002)
    return [
        Case("3.1", "text message with RSV3 (rsv=1)", _single(TEXT, HELLO, 1), [], fail),
        Case("3.2", "text message, then one with RSV2 (rsv=2), then a ping: the first is echoed, no pong",
             _after_message(2), [text(HELLO)], fail),
        Case("3.3", "as 3.2 with RSV2+RSV3 (rsv=3), written frame by frame",
             _after_message(3, sync=True), [text(HELLO)], fail),
        Case("3.4", "as 3.2 with RSV1 (rsv=4), written octet by octet",
             _after_message(4, chopsize=1), [text(HELLO)], fail),
        Case("3.5", "binary message with RSV1+RSV3 (rsv=5)", _single(BINARY, BYTES, 5), [], fail),
        Case("3.6", "ping with RSV1+RSV2 (rsv=6)", _single(PING, BYTES, 6), [], fail),
        Case("3.7", "close with all reserved bits (rsv=7)", _single(CLOSE, b"", 7), [], fail),
    ]
