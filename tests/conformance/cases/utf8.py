"""6.x UTF-8 handling: valid text in any fragmentation is echoed; invalid
text fails the connection with 1007, as soon as the offending octet arrives
(6.4: the close must come before the rest of the message is sent); and one
case per sequence of a UTF-8 decoder stress list (6.5 onwards): overlong
forms, surrogates, code points past U+10FFFF, stray and missing continuation
octets, impossible octets, non-characters and specials. Whether a sequence is
valid is decided by Python's strict UTF-8 decoder."""

from autobahnlike.case import Case, FailClose, text, timeout
from autobahnlike.frames import CONTINUATION, TEXT

KOSME = "\u03ba\u1f79\u03c3\u03bc\u03b5".encode("utf-8")     # ce ba e1 bd b9 cf 83 ce bc ce b5
HELLO_HEAD = "Hello-\u00b5@\u00df\u00f6\u00e4".encode("utf-8")
HELLO = HELLO_HEAD + "\u00fc\u00e0\u00e1-UTF-8!!".encode("utf-8")
# Valid up to the surrogate U+D800, then valid again.
BROKEN = KOSME + b"\xed\xa0\x80" + b"edited"
# Three parts: valid, the code point 0x110000 (invalid at its second octet), valid.
PART1, PART2, PART3 = KOSME, b"\xf4\x90\x80\x80", b"edited"
FAIL_FAST = PART1 + PART2 + PART3
INVALID_AT = len(PART1) + 1     # the octet 0x90

# 6.4: how long the peer waits for the close before sending the next part.
FAST_WAIT = (0.5, 2.0)


def encode_scheme(value, length):
    """`value` in the UTF-8 bit layout with `length` octets, even where UTF-8
    forbids it (overlong forms, surrogates, values past U+10FFFF, 5 and 6
    octets)."""
    if length == 1:
        return bytes([value])
    octets = [0x80 | ((value >> (6 * k)) & 0x3F) for k in range(length - 1)]
    lead = ((0xFF << (8 - length)) & 0xFF) | (value >> (6 * (length - 1)))
    return bytes([lead] + octets[::-1])


def largest(length):
    """The largest value the layout of `length` octets holds."""
    return 0x7F if length == 1 else (1 << (5 * length + 1)) - 1


def is_valid(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def sequence_groups():
    """(title, [payload, ...]) for 6.5, 6.6, ..."""
    continuation_runs = [bytes([0x80, 0xBF] * 3)[:n] for n in range(2, 7)]
    lonely = [b"".join(bytes([lead, 0x20]) for lead in range(first, last))
              for first, last in ((0xC0, 0xE0), (0xE0, 0xF0), (0xF0, 0xF8), (0xF8, 0xFC), (0xFC, 0xFE))]
    truncated = [encode_scheme(0, n)[:-1] for n in range(2, 7)] + \
                [encode_scheme(largest(n), n)[:-1] for n in range(2, 7)]
    high = [0xD800, 0xDB7F, 0xDB80, 0xDBFF]
    low = [0xDC00, 0xDF80, 0xDFFF]
    noncharacters = [encode_scheme(0xFFFE, 3), encode_scheme(0xFFFF, 3)] + \
                    [encode_scheme((plane << 16) | last, 4) for plane in range(1, 17) for last in (0xFFFE, 0xFFFF)]
    return [
        ("valid sequences", [b"hello" + "\u0024\u00a2\u20ac\U00024b62"[i].encode("utf-8") + b"world"
                             for i in range(4)] + [KOSME]),
        ("every prefix of a valid string with multi-octet code points",
         [KOSME[:n] for n in range(1, len(KOSME) + 1)]),
        ("first sequence of each length", [encode_scheme(v, n) for v, n in
                                           ((0, 1), (0x80, 2), (0x800, 3), (0x10000, 4))]),
        ("first sequence of 5 and 6 octets", [encode_scheme(0x200000, 5), encode_scheme(0x4000000, 6)]),
        ("last sequence of each length", [encode_scheme(v, n) for v, n in
                                          ((0x7F, 1), (0x7FF, 2), (0xFFFF, 3), (0x10FFFF, 4))]),
        ("last sequence of 4, 5 and 6 octets", [encode_scheme(largest(n), n) for n in (4, 5, 6)]),
        ("other boundaries", [encode_scheme(v, n) for v, n in
                              ((0xD7FF, 3), (0xE000, 3), (0xFFFD, 3), (0x10FFFF, 4), (0x110000, 4))]),
        ("unexpected continuation octets", [b"\x80", b"\xbf"] + continuation_runs + [bytes(range(0x80, 0xC0))]),
        ("lonely start octets, each followed by a space", lonely),
        ("sequences with the last continuation octet missing", truncated),
        ("all of those concatenated", [b"".join(truncated)]),
        ("impossible octets", [b"\xfe", b"\xff", b"\xfe\xfe\xff\xff"]),
        ("overlong '/'", [encode_scheme(0x2F, n) for n in range(2, 7)]),
        ("largest overlong sequences", [encode_scheme(largest(n - 1), n) for n in range(2, 7)]),
        ("overlong NUL", [encode_scheme(0, n) for n in range(2, 7)]),
        ("single UTF-16 surrogates", [encode_scheme(v, 3) for v in high + low]),
        ("paired UTF-16 surrogates", [encode_scheme(h, 3) + encode_scheme(lo, 3)
                                      for h in high for lo in (0xDC00, 0xDFFF)]),
        ("non-characters (valid)", noncharacters),
        ("specials U+FFF9..U+FFFF (valid)", [encode_scheme(v, 3) for v in range(0xFFF9, 0x10000)]),
    ]


def _message(payload, fragment_size=None):
    return lambda conn: conn.send_message(payload, False, fragment_size)


def _fragments(parts):
    def script(conn):
        for index, part in enumerate(parts):
            conn.send_frame(TEXT if index == 0 else CONTINUATION, part, fin=index + 1 == len(parts))
    return script


def _fail_fast(parts, one_frame):
    """Sends three parts, as frames or as chops of one frame, waiting after
    the first (no close may come) and after the second (the close must)."""
    def script(conn):
        if one_frame:
            frame = conn.frame_bytes(TEXT, b"".join(parts))
            header = len(frame) - sum(len(part) for part in parts)
            cuts = [header + len(parts[0]), header + len(parts[0]) + len(parts[1])]
            pieces = [frame[:cuts[0]], frame[cuts[0]:cuts[1]], frame[cuts[1]:]]
        else:
            pieces = [conn.frame_bytes(TEXT if i == 0 else CONTINUATION, part, fin=i == 2)
                      for i, part in enumerate(parts)]
        conn.send_raw(pieces[0])
        if not conn.expect_no_close(FAST_WAIT[0], "after the valid part"):
            return
        conn.send_raw(pieces[1])
        if not conn.expect_no_close(FAST_WAIT[1], "after the invalid part"):
            return
        conn.send_raw(pieces[2])
    return script


def cases():
    invalid = FailClose(1007)
    result = [
        Case("6.1.1", "empty text message", _message(b""), [text(b"")]),
        Case("6.1.2", "text message of three empty fragments", _fragments([b"", b"", b""]), [text(b"")]),
        Case("6.1.3", "text message of an empty, a non-empty and an empty fragment",
             _fragments([b"", b"middle frame payload", b""]), [text(b"middle frame payload")]),
        Case("6.2.1", "valid UTF-8 in one frame", _message(HELLO), [text(HELLO)]),
        Case("6.2.2", "valid UTF-8 in two fragments split between code points",
             _fragments([HELLO_HEAD, HELLO[len(HELLO_HEAD):]]), [text(HELLO)]),
        Case("6.2.3", "valid UTF-8 in fragments of one octet", _message(HELLO, 1), [text(HELLO)]),
        Case("6.2.4", "valid UTF-8 (Greek) in fragments of one octet", _message(KOSME, 1), [text(KOSME)]),
        Case("6.3.1", "invalid UTF-8 (a surrogate) in one frame", _message(BROKEN), [], invalid),
        Case("6.3.2", "invalid UTF-8 (a surrogate) in fragments of one octet", _message(BROKEN, 1), [],
             invalid),
    ]
    halves = FAIL_FAST[:INVALID_AT], FAIL_FAST[INVALID_AT:INVALID_AT + 1], FAIL_FAST[INVALID_AT + 1:]
    fast = [timeout("after the valid part")]
    result += [
        Case("6.4.1", "fail fast: three fragments, the 2nd makes the text invalid; the close comes "
             "before the 3rd is sent", _fail_fast((PART1, PART2, PART3), False), fast, invalid),
        Case("6.4.2", "fail fast: as 6.4.1, the 2nd fragment is just the offending octet",
             _fail_fast(halves, False), fast, invalid),
        Case("6.4.3", "fail fast: as 6.4.1 in three chops of one frame",
             _fail_fast((PART1, PART2, PART3), True), fast, invalid),
        Case("6.4.4", "fail fast: as 6.4.2 in three chops of one frame", _fail_fast(halves, True), fast, invalid),
    ]
    for group, (title, payloads) in enumerate(sequence_groups(), 5):
        for index, payload in enumerate(payloads, 1):
            valid = is_valid(payload)
            result.append(Case("6.%d.%d" % (group, index),
                               "%s: %s (%s)" % (title, payload.hex(), "valid" if valid else "invalid"),
                               _message(payload), [text(payload)] if valid else [],
                               None if valid else invalid))
    return result
