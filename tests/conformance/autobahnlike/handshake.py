"""The opening handshake (RFC 6455 section 4) from either side, with the
checks that the other side's half must pass."""

import base64
import hashlib
import os
import socket
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 64 * 1024


class HandshakeError(Exception):
    pass


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


def read_head(sock, timeout):
    """Reads up to the blank line; returns (head lines, bytes after the head)."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HandshakeError("no complete HTTP head within %.1f s (got %r)" % (timeout, data[:200]))
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            raise HandshakeError("connection closed during the HTTP head (got %r)" % data[:200])
        data += chunk
        if len(data) > MAX_HEAD:
            raise HandshakeError("HTTP head larger than %d bytes" % MAX_HEAD)
    sock.settimeout(None)
    head, rest = data.split(b"\r\n\r\n", 1)
    try:
        lines = head.decode("latin-1").split("\r\n")
    except UnicodeDecodeError as error:
        raise HandshakeError("undecodable HTTP head: %s" % error)
    return lines, rest


def parse_fields(lines):
    """Header fields by lower-case name; repeated fields are joined with ', '."""
    fields = {}
    for line in lines:
        if ":" not in line:
            raise HandshakeError("malformed header line %r" % line)
        name, value = line.split(":", 1)
        name = name.strip().lower()
        value = value.strip()
        fields[name] = fields[name] + ", " + value if name in fields else value
    return fields


def has_token(value, token):
    return token in (item.strip().lower() for item in value.split(","))


def client_handshake(sock, host, port, path, extensions=None, timeout=5.0):
    """Upgrades `sock` as a client; returns (response fields, bytes already
    read past the response)."""
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    request = [
        "GET %s HTTP/1.1" % path,
        "Host: %s:%d" % (host, port),
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: %s" % key,
        "Sec-WebSocket-Version: 13",
    ]
    if extensions:
        request.append("Sec-WebSocket-Extensions: %s" % extensions)
    sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode("latin-1"))
    lines, rest = read_head(sock, timeout)
    status = lines[0].split(" ", 2)
    if len(status) < 2 or status[0] != "HTTP/1.1" or status[1] != "101":
        raise HandshakeError("expected 'HTTP/1.1 101', got %r" % lines[0])
    fields = parse_fields(lines[1:])
    if fields.get("upgrade", "").lower() != "websocket":
        raise HandshakeError("Upgrade is %r" % fields.get("upgrade"))
    if not has_token(fields.get("connection", ""), "upgrade"):
        raise HandshakeError("Connection is %r" % fields.get("connection"))
    if fields.get("sec-websocket-accept") != accept_key(key):
        raise HandshakeError("Sec-WebSocket-Accept is %r, expected %r"
                             % (fields.get("sec-websocket-accept"), accept_key(key)))
    if "sec-websocket-extensions" in fields and not extensions:
        raise HandshakeError("the server answers extensions %r that were not offered"
                             % fields["sec-websocket-extensions"])
    return fields, rest


def read_request(sock, timeout=5.0):
    """Reads and checks a client's upgrade request; returns (target, fields,
    bytes already read past the request)."""
    lines, rest = read_head(sock, timeout)
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[0] != "GET" or parts[2] != "HTTP/1.1":
        raise HandshakeError("request line %r" % lines[0])
    fields = parse_fields(lines[1:])
    if "host" not in fields:
        raise HandshakeError("no Host field")
    if fields.get("upgrade", "").lower() != "websocket":
        raise HandshakeError("Upgrade is %r" % fields.get("upgrade"))
    if not has_token(fields.get("connection", ""), "upgrade"):
        raise HandshakeError("Connection is %r" % fields.get("connection"))
    if fields.get("sec-websocket-version") != "13":
        raise HandshakeError("Sec-WebSocket-Version is %r" % fields.get("sec-websocket-version"))
    key = fields.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        raise HandshakeError("Sec-WebSocket-Key %r is not 16 bytes in base64" % key)
    return parts[1], fields, rest


def send_response(sock, fields, extensions=None):
    response = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: %s" % accept_key(fields["sec-websocket-key"]),
    ]
    if extensions:
        response.append("Sec-WebSocket-Extensions: %s" % extensions)
    sock.sendall(("\r\n".join(response) + "\r\n\r\n").encode("latin-1"))
