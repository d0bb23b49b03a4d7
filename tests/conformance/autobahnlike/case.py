"""A test case: what the peer sends, what it must get back, and how the
connection must end; and the runner that judges one connection by it."""

import time
import traceback

from .connection import describe_close, describe_event
from .frames import describe_bytes

# How long the program under test has to answer a close frame, to fail the
# connection after a violation, and to end TCP after the closing handshake.
CLOSE_DEADLINE = 2.0
# Protocol violations listed per case; the rest are counted.
MAX_VIOLATIONS = 5


class CleanClose:
    """Once the expected events are in, the peer sends a close frame with code
    1000 (unless the script sent its own) and the program must answer with
    one of `codes` (None: a close frame without payload) and, when given,
    `reason`; then the TCP connection ends."""

    def __init__(self, codes=(1000,), reason=b""):
        self.codes = tuple(codes)
        self.reason = reason

    def describe(self):
        codes = "/".join("empty" if code is None else str(code) for code in self.codes)
        return "clean close, answered with %s" % codes


class FailClose:
    """The program must fail the connection: a close frame with `code`, sent
    within CLOSE_DEADLINE of the peer's last write, then the end of TCP."""

    def __init__(self, code):
        self.code = code


class DeflateSpec:
    """permessage-deflate for a case, as Autobahn's 12.x/13.x parameter sets.

    `requests` lists (no_context_takeover, max_window_bits) pairs, 0 bits
    meaning no request. As a client the peer offers one permessage-deflate
    per pair (asking the server for server_no_context_takeover and
    server_max_window_bits), always with client_max_window_bits, and with
    the client_no_context_takeover hint when `hint` is set. As a server the
    peer answers the client's offer asking for the first pair
    (client_no_context_takeover, client_max_window_bits)."""

    def __init__(self, requests=((False, 0),), hint=False):
        self.requests = tuple(requests)
        self.hint = hint

    def offers(self):
        result = []
        for no_context, bits in self.requests:
            params = []
            if self.hint:
                params.append(("client_no_context_takeover", None))
            params.append(("client_max_window_bits", None))
            if no_context:
                params.append(("server_no_context_takeover", None))
            if bits:
                params.append(("server_max_window_bits", str(bits)))
            result.append(params)
        return result


class Case:
    """`script(conn)` performs the sends (it may wait on the connection);
    `events` is the exact list of what must arrive before the close (or a
    function returning it); `close` is a CleanClose or FailClose; each of
    `checks(conn)` returns further failures once the connection is over."""

    def __init__(self, case_id, description, script, events=(), close=None, deflate=None,
                 timeout=5.0, checks=()):
        self.id = case_id
        self.description = description
        self.script = script
        self._events = events
        self.close = close if close is not None else CleanClose()
        self.deflate = deflate
        self.timeout = timeout
        self.checks = tuple(checks)

    def expected_events(self):
        return list(self._events()) if callable(self._events) else list(self._events)

    def sort_key(self):
        return tuple(int(part) for part in self.id.split("."))


class Outcome:
    def __init__(self, case, failures, seconds):
        self.case = case
        self.failures = failures
        self.seconds = seconds

    @property
    def ok(self):
        return not self.failures


def describe_difference(received, expected):
    for index, (got, want) in enumerate(zip(received, expected)):
        if got == want:
            continue
        if got[0] == want[0] == "message" and got[2] == want[2]:
            offset = next((i for i, (a, b) in enumerate(zip(got[1], want[1])) if a != b),
                          min(len(got[1]), len(want[1])))
            return "message %d: %d bytes, expected %d, first difference at offset %d: got %s, expected %s" % (
                index + 1, len(got[1]), len(want[1]), offset, describe_bytes(got[1][offset:offset + 16]),
                describe_bytes(want[1][offset:offset + 16]))
        return "event %d is %s, expected %s" % (index + 1, describe_event(got), describe_event(want))
    if len(received) > len(expected):
        return "unexpected event %d: %s (and %d more)" % (
            len(expected) + 1, describe_event(received[len(expected)]), len(received) - len(expected) - 1)
    return "missing event %d: %s (%d of %d events arrived)" % (
        len(received) + 1, describe_event(expected[len(received)]), len(received), len(expected))


def run_case(case, conn, peer_is_server):
    """Runs `case` on the open `conn` and judges it; returns the failures."""
    failures = []
    expected = case.expected_events()
    try:
        case.script(conn)
    except Exception:
        failures.append("the peer's script raised:\n" + traceback.format_exc())
    script_end = time.monotonic()

    def settled():
        n = len(conn.events)
        return conn.ended() or n >= len(expected) or conn.events != expected[:n]

    if isinstance(case.close, CleanClose):
        conn.wait_until(settled, case.timeout)
        if not conn.close_sent:
            if conn.close is not None:
                failures.append("the program started the closing handshake (%s) where the peer was to close"
                                % describe_close(conn.close))
            conn.send_close(1000)
        got_close = conn.wait_until(conn.ended, CLOSE_DEADLINE) and conn.close is not None
        if not got_close:
            failures.append("no close frame answered ours within %.1f s%s"
                            % (CLOSE_DEADLINE, " (the TCP connection ended)" if conn.eof else ""))
        else:
            code, reason = conn.close
            if code not in case.close.codes:
                failures.append("answered with a %s, expected %s" % (describe_close(conn.close),
                                                                     case.close.describe()))
            elif case.close.reason is not None and reason != case.close.reason:
                failures.append("close reason %r, expected %r" % (reason, case.close.reason))
    else:
        conn.wait_until(conn.ended, CLOSE_DEADLINE)
        if conn.close is None:
            failures.append("no close frame with code %d within %.1f s of the last write%s"
                            % (case.close.code, CLOSE_DEADLINE,
                               " (the TCP connection ended without one)" if conn.eof else ""))
        else:
            code = conn.close[0]
            if code != case.close.code:
                failures.append("failed with a %s, expected code %d" % (describe_close(conn.close),
                                                                        case.close.code))
            if not conn.close_sent:
                # As Autobahn: the closing handshake is completed.
                conn.send_close(code)
            if conn.close_time > script_end + CLOSE_DEADLINE:
                failures.append("the close frame came %.2f s after the last write"
                                % (conn.close_time - script_end))

    # The server ends TCP first (RFC 6455 section 7.1.1); the client follows.
    if peer_is_server:
        conn.shutdown_write()
    if not conn.wait_until(lambda: conn.eof, CLOSE_DEADLINE):
        failures.append("the program did not end the TCP connection within %.1f s of the closing handshake"
                        % CLOSE_DEADLINE)
    elif conn.reset:
        failures.append("the program reset the TCP connection instead of closing it")
    conn.dispose()

    if conn.events != expected:
        failures.append(describe_difference(conn.events, expected))
    failures.extend("protocol violation at " + text for text in conn.violations[:MAX_VIOLATIONS])
    if len(conn.violations) > MAX_VIOLATIONS:
        failures.append("(%d more protocol violations)" % (len(conn.violations) - MAX_VIOLATIONS))
    for check in case.checks:
        failures.extend(check(conn))
    if failures and conn.send_errors:
        failures.append("(writes of the peer failed: %s)" % "; ".join(conn.send_errors))
    if failures and conn.codec is not None:
        failures.append("(permessage-deflate: %s)" % conn.codec.describe())
    return failures


# Events as the connection records them.
def text(payload):
    return ("message", payload, False)


def binary(payload):
    return ("message", payload, True)


def pong(payload):
    return ("pong", payload)


def timeout(marker):
    return ("timeout", marker)


def repeat(pattern, length):
    """`pattern` repeated and cut to `length` bytes."""
    return (pattern * (length // len(pattern) + 1))[:length]
