"""One WebSocket connection as the peer sees it: scripted sends of arbitrary
(also invalid) frames, and a reader thread that records what the program
under test sends and flags everything it sends wrongly."""

import os
import socket
import struct
import threading
import time
import zlib

from . import frames as fr

# Between the chops of one write, so that the other side reads them apart.
CHOP_PAUSE = 0.0005
# Chopped writes with more chops than this are sent without pauses.
MAX_PAUSED_CHOPS = 2048
# After a write with sync=True (a frame-wise chop).
SYNC_PAUSE = 0.005


def describe_event(event):
    kind = event[0]
    if kind == "message":
        return "%s message %s" % ("binary" if event[2] else "text", fr.describe_bytes(event[1]))
    if kind in ("ping", "pong"):
        return "%s %s" % (kind, fr.describe_bytes(event[1]))
    return "%s %s" % (kind, event[1])


def describe_close(close):
    code, reason = close
    if code is None:
        return "close frame without payload"
    return "close frame code %d reason %r" % (code, reason)


class Connection:
    def __init__(self, sock, is_client, leftover=b"", codec=None):
        self.sock = sock
        # The peer masks its frames as a client and expects masked ones as a server.
        self.is_client = is_client
        self.codec = codec
        self.events = []
        # Per message received, in order: whether it came compressed.
        self.compressed = []
        self.close = None          # (code or None, reason) of the close frame received
        self.close_time = None
        self.close_sent = False
        self.eof = False
        self.reset = False
        self.violations = []
        self.send_errors = []
        self.started = time.monotonic()
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._parser = fr.FrameParser()
        self._message = None       # [opcode, compressed, [payloads]] of a fragmented message
        self._thread = threading.Thread(target=self._read_loop, args=(leftover,), daemon=True)
        self._thread.start()

    # --- receiving -------------------------------------------------------

    def _read_loop(self, leftover):
        if leftover:
            self._handle_bytes(leftover)
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except ConnectionResetError:
                self.reset = True
                data = b""
            except OSError:
                data = b""
            if not data:
                with self._cond:
                    self.eof = True
                    if self._parser.pending():
                        self._violation("the connection ended inside a frame (%d bytes left)"
                                        % self._parser.pending())
                    self._cond.notify_all()
                return
            self._handle_bytes(data)

    def _violation(self, text):
        self.violations.append("%.3f s: %s" % (time.monotonic() - self.started, text))

    def _record(self, event):
        self.events.append(event)
        self._cond.notify_all()

    def _handle_bytes(self, data):
        for frame in self._parser.feed(data):
            with self._cond:
                self._handle_frame(frame)

    def _handle_frame(self, frame):
        if self.close is not None:
            self._violation("a frame after the close frame: %r" % frame)
            return
        if frame.masked == self.is_client:
            self._violation("%s frame: %r" % ("masked server" if frame.masked else "unmasked client", frame))
        if frame.rsv & (fr.RSV2 | fr.RSV3):
            self._violation("RSV2/RSV3 set: %r" % frame)
        if frame.rsv & fr.RSV1 and (self.codec is None or frame.opcode not in (fr.TEXT, fr.BINARY)):
            self._violation("RSV1 set where it means nothing: %r" % frame)
        if fr.is_control(frame.opcode):
            self._handle_control(frame)
        elif frame.opcode in (fr.TEXT, fr.BINARY):
            if self._message is not None:
                self._violation("a new message inside a fragmented one: %r" % frame)
            self._message = [frame.opcode, bool(frame.rsv & fr.RSV1), [frame.payload]]
            self._finish_message(frame)
        elif frame.opcode == fr.CONTINUATION:
            if self._message is None:
                self._violation("a continuation frame without a message: %r" % frame)
                return
            self._message[2].append(frame.payload)
            self._finish_message(frame)
        else:
            self._violation("reserved opcode: %r" % frame)

    def _handle_control(self, frame):
        if not frame.fin or len(frame.payload) > 125:
            self._violation("invalid control frame: %r" % frame)
        if frame.opcode == fr.CLOSE:
            payload = frame.payload
            if len(payload) == 1:
                self._violation("a close payload of one byte: %r" % frame)
                code, reason = None, b""
            elif payload:
                code, reason = struct.unpack("!H", payload[:2])[0], payload[2:]
                try:
                    reason.decode("utf-8")
                except UnicodeDecodeError:
                    self._violation("a close reason that is not UTF-8: %r" % frame)
            else:
                code, reason = None, b""
            self.close = (code, reason)
            self.close_time = time.monotonic()
            self._cond.notify_all()
        elif frame.opcode == fr.PING:
            self._record(("ping", frame.payload))
            if not self.close_sent:
                threading.Thread(target=self.send_frame, args=(fr.PONG, frame.payload), daemon=True).start()
        elif frame.opcode == fr.PONG:
            self._record(("pong", frame.payload))
        else:
            self._violation("reserved control opcode: %r" % frame)

    def _finish_message(self, frame):
        if not frame.fin:
            return
        opcode, compressed, parts = self._message
        self._message = None
        payload = b"".join(parts)
        if compressed:
            try:
                payload = self.codec.decompress(payload)
            except zlib.error as error:
                self._violation("a compressed message that does not inflate (%s): %s"
                                % (error, fr.describe_bytes(payload)))
                # Recorded all the same, so that nobody waits for it.
                self._record(("undecodable message", fr.describe_bytes(payload)))
                return
        if opcode == fr.TEXT:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as error:
                self._violation("a text message that is not UTF-8 (%s)" % error)
        self.compressed.append(compressed)
        self._record(("message", payload, opcode == fr.BINARY))

    # --- waiting ---------------------------------------------------------

    def wait_until(self, predicate, timeout):
        """Waits until predicate() (called with the state locked) holds."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def ended(self):
        """The other side closed or sent its close frame (call with the state locked)."""
        return self.close is not None or self.eof

    def wait_events(self, count, timeout):
        """Waits for `count` events in all, or the end; True if they came."""
        return self.wait_until(lambda: len(self.events) >= count or self.ended(), timeout) \
            and len(self.events) >= count

    def expect_no_close(self, seconds, marker):
        """Waits `seconds`; if the other side stays open meanwhile, records
        ('timeout', marker) and returns True."""
        with self._cond:
            if self._cond.wait_for(self.ended, seconds):
                return False
            self._record(("timeout", marker))
            return True

    # --- sending ---------------------------------------------------------

    def send_raw(self, data, chopsize=None, sync=False):
        """Writes `data`, in writes of `chopsize` bytes when given. False when
        the socket refused it (the other side may have closed already)."""
        if chopsize:
            chunks = [data[i:i + chopsize] for i in range(0, len(data), chopsize)]
        else:
            chunks = [data]
        pause = CHOP_PAUSE if chopsize and len(chunks) <= MAX_PAUSED_CHOPS else 0
        with self._send_lock:
            for index, chunk in enumerate(chunks):
                try:
                    self.sock.sendall(chunk)
                except OSError as error:
                    self.send_errors.append(str(error))
                    return False
                if pause and index + 1 < len(chunks):
                    time.sleep(pause)
        if sync:
            time.sleep(SYNC_PAUSE)
        return True

    def frame_bytes(self, opcode, payload=b"", fin=True, rsv=0):
        return fr.build_frame(opcode, payload, fin, rsv, os.urandom(4) if self.is_client else None)

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, chopsize=None, sync=False):
        return self.send_raw(self.frame_bytes(opcode, payload, fin, rsv), chopsize, sync)

    def message_bytes(self, payload, binary, fragment_size=None):
        """The frames of one message: compressed when permessage-deflate is on,
        split into frames of `fragment_size` wire bytes when given."""
        opcode = fr.BINARY if binary else fr.TEXT
        rsv = 0
        data = payload
        if self.codec is not None:
            data = self.codec.compress(payload)
            rsv = fr.RSV1
        if fragment_size:
            pieces = [data[i:i + fragment_size] for i in range(0, len(data), fragment_size)] or [b""]
        else:
            pieces = [data]
        out = []
        for index, piece in enumerate(pieces):
            out.append(self.frame_bytes(opcode if index == 0 else fr.CONTINUATION, piece,
                                        fin=index + 1 == len(pieces), rsv=rsv if index == 0 else 0))
        return b"".join(out)

    def send_message(self, payload, binary, fragment_size=None):
        return self.send_raw(self.message_bytes(payload, binary, fragment_size))

    def send_close(self, code=None, reason=b"", payload=None):
        """A close frame with `code` and `reason`, or with the raw `payload`."""
        if payload is None:
            payload = fr.close_payload(code, reason)
        with self._cond:
            self.close_sent = True
        return self.send_frame(fr.CLOSE, payload)

    # --- ending ----------------------------------------------------------

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def dispose(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)
