"""10.x Miscellaneous: a 64 KiB text message sent in frames of 1300 octets
(Autobahn's auto-fragmentation case) is echoed whole."""

from autobahnlike.case import Case, text

PAYLOAD = b"*" * 65536


def cases():
    return [
        Case("10.1.1", "text message of 65536 bytes in frames of 1300 bytes",
             lambda conn: conn.send_message(PAYLOAD, False, 1300), [text(PAYLOAD)]),
    ]
