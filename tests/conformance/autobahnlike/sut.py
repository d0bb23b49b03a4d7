"""The program under test in each role, and how the peer reaches it.

Server role: the program is an echo server (`PROGRAM --port 0`, which prints
the port it listens on) and the peer connects to it once per case.
Client role: the peer listens like Autobahn's fuzzingserver and the program
(`PROGRAM URL AGENT`) asks /getCaseCount, then opens /runCase?case=N&agent=A
for each case in turn, echoing every message, and ends with /updateReports."""

import collections
import re
import socket
import subprocess
import threading
import time
import urllib.parse

from . import deflate
from .connection import Connection
from .frames import TEXT
from .handshake import HandshakeError, client_handshake, read_request, send_response

START_TIMEOUT = 15.0
ACCEPT_TIMEOUT = 10.0
EXIT_TIMEOUT = 10.0
AGENT = "conformance"


class SetupError(Exception):
    pass


class Program:
    """A child process whose output is kept (the last lines) for reports."""

    def __init__(self, argv):
        self.lines = collections.deque(maxlen=40)
        self._output_ended = False
        self._line_added = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self._line_added:
                self.lines.append(raw.decode("utf-8", "replace").rstrip())
                self._line_added.notify_all()
        with self._line_added:
            self._output_ended = True
            self._line_added.notify_all()

    def wait_for_line(self, pattern, timeout):
        regex = re.compile(pattern)

        def found():
            for line in self.lines:
                match = regex.search(line)
                if match:
                    return match
            return None

        with self._line_added:
            self._line_added.wait_for(lambda: found() or self._output_ended, timeout)
            return found()

    def output(self):
        """The last lines of output, for messages: '' or ', output:' and the lines."""
        if self.proc.poll() is not None:
            self._reader.join(1)
        if not self.lines:
            return ""
        return ", output:\n" + "\n".join("    | " + line for line in self.lines)

    def stop(self):
        """Ends the program; returns its exit status if it had already ended."""
        status = self.proc.poll()
        if status is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return status


def _nodelay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class ServerUnderTest:
    def __init__(self, program):
        self.program = Program([program, "--port", "0"])
        match = self.program.wait_for_line(r"ws://127\.0\.0\.1:(\d+)", START_TIMEOUT)
        if not match:
            status = self.program.stop()
            what = ("exited with status %d" % status if status is not None
                    else "did not report its port within %.0f s" % START_TIMEOUT)
            raise SetupError("the server %s%s" % (what, self.program.output()))
        self.port = int(match.group(1))

    def start(self, count):
        """Nothing to do: the peer connects for each case."""

    def open(self, case, number):
        if self.program.proc.poll() is not None:
            raise SetupError("the server exited with status %d%s"
                             % (self.program.proc.returncode, self.program.output()))
        sock = _nodelay(socket.create_connection(("127.0.0.1", self.port), timeout=5))
        offers = case.deflate.offers() if case.deflate else None
        header = ", ".join(deflate.format_extension(offer) for offer in offers) if offers else None
        try:
            fields, rest = client_handshake(sock, "127.0.0.1", self.port, "/", header)
            codec = None
            if offers:
                answer = fields.get("sec-websocket-extensions")
                if not answer:
                    raise HandshakeError("permessage-deflate was offered (%s) but not accepted" % header)
                codec = deflate.client_codec(offers, answer)
        except (HandshakeError, deflate.NegotiationError):
            sock.close()
            raise
        sock.settimeout(None)
        return Connection(sock, is_client=True, leftover=rest, codec=codec)

    def finish(self):
        status = self.program.stop()
        if status is not None:
            return ["the server exited with status %d during the run%s" % (status, self.program.output())]
        return []


class ClientUnderTest:
    def __init__(self, program):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.program = Program([program, "ws://127.0.0.1:%d" % self.port, AGENT])

    def _accept(self, endpoint):
        """Accepts the program's next connection, which must ask for `endpoint`;
        returns (socket, query, request fields, bytes after the request)."""
        deadline = time.monotonic() + ACCEPT_TIMEOUT
        while True:
            if self.program.proc.poll() is not None:
                raise SetupError("the client exited with status %d%s"
                                 % (self.program.proc.returncode, self.program.output()))
            self.listener.settimeout(0.2)
            try:
                sock, _ = self.listener.accept()
                break
            except socket.timeout:
                if time.monotonic() > deadline:
                    raise SetupError("the client did not connect for %s within %.0f s%s"
                                     % (endpoint, ACCEPT_TIMEOUT, self.program.output()))
        sock.settimeout(None)
        _nodelay(sock)
        try:
            target, fields, rest = read_request(sock)
            url = urllib.parse.urlsplit(target)
            if url.path != "/" + endpoint:
                raise HandshakeError("the client asked for %r, expected /%s" % (target, endpoint))
            query = dict(urllib.parse.parse_qsl(url.query))
            if query.get("agent", AGENT) != AGENT:
                raise HandshakeError("the client asked for %r: wrong agent" % target)
        except HandshakeError:
            sock.close()
            raise
        return sock, query, fields, rest

    def _control_connection(self, endpoint, message=None):
        """/getCaseCount and /updateReports: an optional text message, then a
        clean close from this side."""
        sock, _, fields, rest = self._accept(endpoint)
        send_response(sock, fields)
        conn = Connection(sock, is_client=False, leftover=rest)
        if message is not None:
            conn.send_frame(TEXT, message)
        conn.send_close(1000)
        conn.wait_until(conn.ended, 2.0)
        conn.shutdown_write()
        conn.wait_until(lambda: conn.eof, 2.0)
        conn.dispose()

    def start(self, count):
        self._control_connection("getCaseCount", str(count).encode("ascii"))

    def open(self, case, number):
        sock, query, fields, rest = self._accept("runCase")
        try:
            if query.get("case") != str(number):
                raise HandshakeError("the client asked for case %r, expected %d" % (query.get("case"), number))
            codec = None
            answer = None
            if case.deflate:
                offered = fields.get("sec-websocket-extensions")
                if not offered:
                    raise HandshakeError("the client offers no permessage-deflate")
                no_context, bits = case.deflate.requests[0]
                answer, codec = deflate.server_accept(offered, no_context, bits)
            send_response(sock, fields, answer)
        except (HandshakeError, deflate.NegotiationError):
            sock.close()
            raise
        return Connection(sock, is_client=False, leftover=rest, codec=codec)

    def finish(self):
        problems = []
        try:
            self._control_connection("updateReports")
        except (SetupError, HandshakeError) as error:
            problems.append(str(error))
        try:
            status = self.program.proc.wait(EXIT_TIMEOUT)
            if status != 0:
                problems.append("the client exited with status %d%s" % (status, self.program.output()))
        except subprocess.TimeoutExpired:
            problems.append("the client did not exit within %.0f s after /updateReports%s"
                            % (EXIT_TIMEOUT, self.program.output()))
        self.program.stop()
        self.listener.close()
        return problems
