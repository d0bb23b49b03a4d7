"""4.x Opcodes: the reserved data opcodes 3-7 (4.1) and control opcodes
11-15 (4.2) fail the connection with 1002, alone or after a valid message."""

from autobahnlike.case import Case, FailClose, text
from autobahnlike.frames import PING, TEXT

HELLO = b"Hello, world!"
PAYLOAD = b"reserved opcode payload"


def _alone(opcode, payload):
    return lambda conn: conn.send_frame(opcode, payload)


def _after_message(opcode, payload):
    def script(conn):
        conn.send_frame(TEXT, HELLO)
        conn.send_frame(opcode, payload)
        conn.send_frame(PING)
    return script


def cases():
    result = []
    for group, first, kind in ((1, 3, "data"), (2, 11, "control")):
        plan = (
            (first, b"", False, "frame with reserved %s opcode %d"),
            (first + 1, PAYLOAD, False, "frame with reserved %s opcode %d and a payload"),
            (first + 2, b"", True, "text message, frame with reserved %s opcode %d, ping: only the echo"),
            (first + 3, PAYLOAD, True, "text message, reserved %s opcode %d with a payload, ping: only the echo"),
            (first + 4, PAYLOAD, True, "text message, reserved %s opcode %d with a payload, ping: only the echo"),
        )
        for index, (opcode, payload, after, what) in enumerate(plan, 1):
            script = _after_message(opcode, payload) if after else _alone(opcode, payload)
            result.append(Case("4.%d.%d" % (group, index), what % (kind, opcode), script,
                               [text(HELLO)] if after else [], FailClose(1002)))
    return result
