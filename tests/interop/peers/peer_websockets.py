"""A WebSocket peer backed by the Python `websockets` package (versions 10 to
13, whose websockets.serve and websockets.connect are the asyncio
implementation used here), driven by the interop tests.

    python3 peer_websockets.py '<config JSON>'

The configuration, the commands read from stdin and the events written to
stdout (one JSON object a line) are described in ../README.md. A server
prints "ready PORT" once it listens on 127.0.0.1.
"""

import asyncio
import base64
import hashlib
import json
import struct
import sys

import websockets
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import OP_PING, OP_PONG, Close

INLINE_LIMIT = 4096
TEXT_PATTERN = b"wsqt interop: the quick brown fox jumps over the lazy dog 0123456789\n"
# Large enough for the biggest test message; the tests set their own limit.
DEFAULT_MAX_SIZE = 64 * 1024 * 1024
# websockets stops reading the socket once this much is buffered, also after
# it failed a connection; then its closing handshake waits for its close
# timeout. Well above the sizes the tests refuse.
READ_LIMIT = 1024 * 1024

config = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def b64(data):
    return base64.b64encode(data).decode("ascii")


def generate(kind, size, seed):
    """The same deterministic contents as the C++ and JavaScript sides."""
    if kind == "text":
        return (TEXT_PATTERN * (size // len(TEXT_PATTERN) + 1))[:size]
    blocks = (size + 31) // 32
    return b"".join(
        hashlib.sha256(struct.pack(">II", seed, block)).digest() for block in range(blocks)
    )[:size]


def payload(command):
    spec = command.get("generate")
    if spec:
        return generate(spec["kind"], spec["size"], spec["seed"])
    return base64.b64decode(command.get("data", ""))


class FrameTap(Extension):
    """Sees every incoming frame before permessage-deflate decodes it: it
    reports pings and pongs, and with tapFrames each frame's header."""

    name = "x-wsqt-tap"

    def __init__(self, report_frames):
        self.report_frames = report_frames

    def decode(self, frame, *, max_size=None):
        if self.report_frames:
            emit({"event": "frame", "fin": frame.fin, "rsv1": frame.rsv1,
                  "opcode": int(frame.opcode), "length": len(frame.data)})
        if frame.opcode == OP_PING:
            emit({"event": "ping", "data": b64(frame.data)})
        elif frame.opcode == OP_PONG:
            emit({"event": "pong", "data": b64(frame.data)})
        return frame

    def encode(self, frame):
        return frame


def deflate_factories(factory_class):
    """compression and extensions arguments for the deflate setting."""
    setting = config.get("deflate")
    if setting is None or setting is False:
        return None, None
    if setting is True:
        return "deflate", None
    client_bits = setting.get("clientMaxWindowBits", factory_class is ClientPerMessageDeflateFactory)
    factory = factory_class(
        server_no_context_takeover=bool(setting.get("serverNoContextTakeover")),
        client_no_context_takeover=bool(setting.get("clientNoContextTakeover")),
        server_max_window_bits=setting.get("serverMaxWindowBits"),
        client_max_window_bits=client_bits if client_bits is not False else None,
    )
    return None, [factory]


def max_size():
    limit = config.get("maxPayload")
    if limit is None:
        return DEFAULT_MAX_SIZE
    return limit or None


class Peer:
    def __init__(self):
        self.ws = None
        self.opened = asyncio.get_running_loop().create_future()

    async def serve_connection(self, ws):
        if self.ws is not None:
            ws.transport.abort()
            return
        self.ws = ws
        ws.extensions.append(FrameTap(bool(config.get("tapFrames"))))
        extensions = ",".join(extension.name for extension in ws.extensions if not isinstance(extension, FrameTap))
        emit({"event": "open", "protocol": ws.subprotocol or "", "extensions": extensions,
              "extensionsHeader": ws.response_headers.get("Sec-WebSocket-Extensions", "")})
        self.opened.set_result(None)
        try:
            while True:
                message = await ws.recv()
                data = message.encode("utf-8") if isinstance(message, str) else message
                event = {"event": "message", "binary": not isinstance(message, str), "size": len(data),
                         "sha256": hashlib.sha256(data).hexdigest()}
                if len(data) <= INLINE_LIMIT:
                    event["data"] = b64(data)
                emit(event)
        except websockets.ConnectionClosed:
            pass
        await ws.wait_closed()
        emit({"event": "close", "code": ws.close_code, "reason": b64((ws.close_reason or "").encode("utf-8"))})

    async def run(self, command):
        ws = self.ws
        binary = bool(command.get("binary"))
        kind = command["cmd"]
        if kind == "send":
            data = payload(command)
            for _ in range(command.get("repeat", 1)):
                await self.send(data, binary)
        elif kind == "sendFragments":
            # Frame by frame, as given: a text fragment may end inside a
            # character, which only the whole message has to complete.
            fragments = [base64.b64decode(f) for f in command["fragments"]]
            opcode = 2 if binary else 1
            for i, fragment in enumerate(fragments):
                ws.write_frame_sync(i == len(fragments) - 1, opcode if i == 0 else 0, fragment)
            await ws.drain()
        elif kind == "burst":
            # Written without waiting for the buffer to drain: the receiving
            # end may be paused.
            for i in range(command["count"]):
                data = f"{i}:".ljust(command["size"], ".").encode("ascii")
                ws.write_frame_sync(True, 2 if binary else 1, data)
        elif kind == "ping":
            await ws.ping(payload(command))
        elif kind == "close":
            if command.get("code") is None:
                await ws.write_close_frame(Close(1005, ""), b"")
            else:
                reason = base64.b64decode(command.get("reason", "")).decode("utf-8")
                asyncio.ensure_future(ws.close(command["code"], reason))
        elif kind == "terminate":
            ws.transport.abort()
        else:
            raise ValueError(f"unknown command {kind}")

    async def send(self, data, binary):
        if binary:
            await self.ws.send(data)
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Sent as it is, as ws would: the receiving end has to refuse it.
            self.ws.write_frame_sync(True, 1, data)
            await self.ws.drain()
            return
        await self.ws.send(text)


async def read_commands(peer):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        if not line.strip():
            continue
        command = json.loads(line)
        error = ""
        try:
            await peer.opened
            await peer.run(command)
        except Exception as exc:  # reported to the test, which decides
            error = f"{type(exc).__name__}: {exc}"
        emit({"event": "done", "id": command.get("id"), "error": error})


async def main():
    peer = Peer()
    if config.get("role") == "server":
        compression, extensions = deflate_factories(ServerPerMessageDeflateFactory)
        select = config.get("selectProtocol")

        async def handler(ws):
            await peer.serve_connection(ws)

        server = await websockets.serve(
            handler, "127.0.0.1", 0,
            compression=compression,
            extensions=extensions,
            subprotocols=[select] if select else None,
            max_size=max_size(),
            read_limit=READ_LIMIT,
        )
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write(f"ready {port}\n")
        sys.stdout.flush()
    else:
        compression, extensions = deflate_factories(ClientPerMessageDeflateFactory)
        server = None
        try:
            ws = await websockets.connect(
                config["url"],
                compression=compression,
                extensions=extensions,
                subprotocols=config.get("protocols") or None,
                max_size=max_size(),
                read_limit=READ_LIMIT,
            )
        except Exception as exc:
            emit({"event": "error", "code": type(exc).__name__, "message": str(exc)})
            emit({"event": "close", "code": 1006, "reason": ""})
            ws = None
        if ws is not None:
            asyncio.ensure_future(peer.serve_connection(ws))

    await read_commands(peer)
    if peer.ws is not None and not peer.ws.closed:
        peer.ws.transport.abort()
    if server is not None:
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
