"""5.x Fragmentation: fragmented messages with pings between the fragments
in every chunking, and each way of breaking the fragment sequence (a
fragmented control frame, a continuation with nothing to continue, a new
message inside a fragmented one), which fails the connection with 1002."""

from autobahnlike.case import Case, FailClose, pong, text, timeout
from autobahnlike.frames import CONTINUATION, PING, PONG, TEXT

# Each write style: (name, keyword arguments of send_frame).
ONE_CHOP = ("in one write", {})
FRAME_WISE = ("frame by frame", {"sync": True})
OCTET_WISE = ("octet by octet", {"chopsize": 1})


def _frames(frames, style):
    """A script sending (opcode, fin, payload) frames; in one write, frame by
    frame, or octet by octet."""
    def script(conn):
        if style is ONE_CHOP:
            conn.send_raw(b"".join(conn.frame_bytes(op, payload, fin) for op, fin, payload in frames))
        else:
            for op, fin, payload in frames:
                conn.send_frame(op, payload, fin, **style[1])
    return script


def _pings_between(sync):
    """A text message in five fragments with a ping after the second and a
    wait before the third; the first pong must come during the wait."""
    def script(conn):
        conn.send_frame(TEXT, b"fragment1", fin=False, sync=sync)
        conn.send_frame(CONTINUATION, b"fragment2", fin=False, sync=sync)
        conn.send_frame(PING, b"pongme 1!", sync=sync)
        if not conn.expect_no_close(1.0, "second part"):
            return
        conn.send_frame(CONTINUATION, b"fragment3", fin=False, sync=sync)
        conn.send_frame(CONTINUATION, b"fragment4", fin=False, sync=sync)
        conn.send_frame(PING, b"pongme 2!", sync=sync)
        conn.send_frame(CONTINUATION, b"fragment5", sync=sync)
    return script


def cases():
    fail = FailClose(1002)
    two = [(TEXT, False, b"fragment1"), (CONTINUATION, True, b"fragment2")]
    with_ping = [(TEXT, False, b"fragment1"), (PING, True, b"ping payload"), (CONTINUATION, True, b"fragment2")]
    orphan_final = [(CONTINUATION, True, b"non-continuation payload"), (TEXT, True, b"Hello, world!")]
    orphan_open = [(CONTINUATION, False, b"non-continuation payload"), (TEXT, True, b"Hello, world!")]
    result = [
        Case("5.1", "ping in two fragments", _frames([(PING, False, b"fragment1"),
                                                      (CONTINUATION, True, b"fragment2")], ONE_CHOP), [], fail),
        Case("5.2", "pong in two fragments", _frames([(PONG, False, b"fragment1"),
                                                      (CONTINUATION, True, b"fragment2")], ONE_CHOP), [], fail),
    ]
    for number, style in zip((3, 4, 5), (ONE_CHOP, FRAME_WISE, OCTET_WISE)):
        result.append(Case("5.%d" % number, "text message in two fragments, written %s" % style[0],
                           _frames(two, style), [text(b"fragment1fragment2")]))
    for number, style in zip((6, 7, 8), (ONE_CHOP, FRAME_WISE, OCTET_WISE)):
        result.append(Case("5.%d" % number,
                           "text message in two fragments with a ping between, written %s" % style[0],
                           _frames(with_ping, style), [pong(b"ping payload"), text(b"fragment1fragment2")]))
    for number, style in zip((9, 10, 11), (ONE_CHOP, FRAME_WISE, OCTET_WISE)):
        result.append(Case("5.%d" % number, "final continuation frame with nothing to continue, then a "
                           "text message, written %s" % style[0], _frames(orphan_final, style), [], fail))
    for number, style in zip((12, 13, 14), (ONE_CHOP, FRAME_WISE, OCTET_WISE)):
        result.append(Case("5.%d" % number, "non-final continuation frame with nothing to continue, then "
                           "a text message, written %s" % style[0], _frames(orphan_open, style), [], fail))
    result += [
        Case("5.15", "text message in two fragments, then a continuation with nothing to continue: "
             "the first message is echoed",
             _frames(two + [(CONTINUATION, False, b"fragment3"), (TEXT, True, b"fragment4")], ONE_CHOP),
             [text(b"fragment1fragment2")], fail),
        Case("5.16", "twice: continuation with nothing to continue, then text in two fragments",
             _frames(2 * [(CONTINUATION, False, b"fragment1"), (TEXT, False, b"fragment2"),
                          (CONTINUATION, True, b"fragment3")], ONE_CHOP), [], fail),
        Case("5.17", "twice: final continuation with nothing to continue, then text in two fragments",
             _frames(2 * [(CONTINUATION, True, b"fragment1"), (TEXT, False, b"fragment2"),
                          (CONTINUATION, True, b"fragment3")], ONE_CHOP), [], fail),
        Case("5.18", "text message in two fragments that both have the text opcode",
             _frames([(TEXT, False, b"fragment1"), (TEXT, True, b"fragment2")], ONE_CHOP), [], fail),
    ]
    expected = [pong(b"pongme 1!"), timeout("second part"), pong(b"pongme 2!"),
                text(b"fragment1fragment2fragment3fragment4fragment5")]
    result += [
        Case("5.19", "text in five fragments, pings after the 2nd and 4th, a 1 s wait after the first ping: "
             "the first pong comes before the wait ends", _pings_between(False), expected),
        Case("5.20", "as 5.19, written frame by frame", _pings_between(True), expected),
    ]
    return result
