"""12.x and 13.x permessage-deflate: messages of 16 B to 128 KiB, whole or
split into frames of 256 B to 32 KiB on the wire, sent compressed one after
the other, each echo compared in full.

12.N uses data set N with the default offer (context takeover both ways).
13.N uses the JSON data set with parameter set N, as Autobahn's 13.x: the
peer asks for no context takeover and/or a window of 9 or 15 bits (Autobahn
uses 8, which zlib cannot deflate with; 9 is the smallest that works) of the
program's side: as a client it offers them (server_no_context_takeover,
server_max_window_bits, with Autobahn's client_no_context_takeover hint), as
a server it answers with them (client_no_context_takeover,
client_max_window_bits). Message counts are scaled; see README.md."""

import json
import random

from autobahnlike.case import Case, DeflateSpec, binary, text

# (message size, wire fragment size or 0), as Autobahn's list.
SIZES = [(16, 0), (64, 0), (256, 0), (1024, 0), (4096, 0), (8192, 0), (16384, 0), (32768, 0),
         (65536, 0), (131072, 0),
         (8192, 256), (16384, 256), (32768, 256), (65536, 256), (131072, 256),
         (131072, 1024), (131072, 4096), (131072, 32768)]
# Messages at least this long must come back compressed (ws's threshold, which
# only spares short messages).
THRESHOLD = 1024
# Autobahn sends 1000 messages per case; here about 512 KiB in all, 8 to 500 messages.
BYTES_PER_CASE = 512 * 1024
TIMEOUT = 30.0

DATA_SIZE = 512 * 1024

WORDS = ("the of and to in is was that for on as with by at from his her they which this have had not "
         "but be are were one all we their there been has more if will would about time so can who "
         "window frame socket message deflate context server client header payload octet sliding").split()


def _prose(rng):
    sentences = []
    while sum(len(s) for s in sentences) < DATA_SIZE:
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 18))]
        sentences.append(" ".join(words).capitalize() + rng.choice(".,;!?") + (" " if rng.random() < 0.8 else "\n"))
    return "".join(sentences).encode("ascii")


def _json(rng):
    records = []
    size = 0
    while size < DATA_SIZE:
        record = {"id": len(records), "name": " ".join(rng.choice(WORDS) for _ in range(2)),
                  "score": round(rng.uniform(0, 1000), 3), "active": rng.random() < 0.5,
                  "tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 5))],
                  "position": {"x": rng.randint(-500, 500), "y": rng.randint(-500, 500)}}
        line = json.dumps(record)
        records.append(line)
        size += len(line) + 2
    return ("[" + ",\n".join(records) + "]").encode("ascii")


def _html(rng):
    parts = ["<!DOCTYPE html>\n<html><head><title>data</title></head><body>\n"]
    size = 0
    while size < DATA_SIZE:
        tag = rng.choice(("p", "div", "span", "li", "td"))
        part = '<%s class="%s" id="n%d">%s</%s>\n' % (
            tag, rng.choice(WORDS), len(parts), " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))), tag)
        parts.append(part)
        size += len(part)
    parts.append("</body></html>\n")
    return "".join(parts).encode("ascii")


def _bitmap(rng):
    """A 8-bit grey picture: smooth shapes with some noise."""
    side = int(DATA_SIZE ** 0.5)
    rows = []
    for y in range(side):
        rows.append(bytes((((x * x + y * 3) // 97 + (x ^ y) // 7 + rng.getrandbits(2)) & 0xFF) for x in range(side)))
    return b"".join(rows)


def _noise(rng):
    return rng.getrandbits(8 * DATA_SIZE).to_bytes(DATA_SIZE, "little")


# (name, generator, binary)
DATA_SETS = [("English-like prose", _prose, False), ("8-bit grey bitmap", _bitmap, True),
             ("random octets", _noise, True), ("JSON", _json, False), ("HTML", _html, False)]
_cache = {}


def data_set(index):
    if index not in _cache:
        _cache[index] = DATA_SETS[index][1](random.Random(index + 1))
    return _cache[index]


# Autobahn's 13.x parameter sets: (no context takeover, window bits) requests, in order of preference.
PARAMETER_SETS = [[(False, 0)], [(True, 0)], [(False, 9)], [(False, 15)], [(True, 9)], [(True, 15)],
                  [(True, 9), (True, 0), (False, 0)]]


def messages(data, size, count):
    """`count` consecutive slices of `size` octets of `data`, wrapping around."""
    out = []
    start = 0
    for _ in range(count):
        end = start + size
        out.append(data[start:end] if end <= len(data) else data[start:] + data[:end - len(data)])
        start = end % len(data)
    return out


def _script(data_index, size, count, is_binary, fragment_size):
    def script(conn):
        for i, payload in enumerate(messages(data_set(data_index), size, count)):
            if not conn.send_message(payload, is_binary, fragment_size or None):
                return
            if not conn.wait_events(i + 1, TIMEOUT):
                return
    return script


def _events(data_index, size, count, is_binary):
    event = binary if is_binary else text
    return lambda: [event(payload) for payload in messages(data_set(data_index), size, count)]


def _compressed_echoes(conn):
    """The program compresses every echo of THRESHOLD octets or more."""
    plain = [index + 1 for index, (event, compressed) in enumerate(zip(conn.events, conn.compressed))
             if len(event[1]) >= THRESHOLD and not compressed]
    if plain:
        return ["%d echoes of %d B or more came uncompressed (the first: message %d)"
                % (len(plain), THRESHOLD, plain[0])]
    return []


def _family(group_base, groups):
    """`groups`: (title, data set index, DeflateSpec) per subgroup."""
    result = []
    for group, (title, data_index, spec) in enumerate(groups, 1):
        is_binary = DATA_SETS[data_index][2]
        for index, (size, fragment_size) in enumerate(SIZES, 1):
            count = max(8, min(500, BYTES_PER_CASE // size))
            framing = " in frames of %d B" % fragment_size if fragment_size else ""
            result.append(Case("%d.%d.%d" % (group_base, group, index),
                               "%s: %d compressed %s messages of %d B%s"
                               % (title, count, "binary" if is_binary else "text", size, framing),
                               _script(data_index, size, count, is_binary, fragment_size),
                               _events(data_index, size, count, is_binary), deflate=spec, timeout=TIMEOUT,
                               checks=[_compressed_echoes]))
    return result


def family12():
    return _family(12, [(DATA_SETS[i][0], i, DeflateSpec()) for i in range(len(DATA_SETS))])


def _describe(requests):
    return " or ".join("%s%s" % ("no context takeover" if nct else "context takeover",
                                 ", %d-bit window" % bits if bits else "") for nct, bits in requests)


def family13():
    return _family(13, [("JSON, " + _describe(requests), 3, DeflateSpec(requests, hint=True))
                        for requests in PARAMETER_SETS])
