"""permessage-deflate (RFC 7692) for the peer: the Sec-WebSocket-Extensions
syntax, the checks a negotiation must pass, and a zlib codec for messages."""

import zlib

NAME = "permessage-deflate"
# The four octets a sync flush ends with; taken off each compressed message.
TAIL = b"\x00\x00\xff\xff"
PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
          "server_max_window_bits", "client_max_window_bits")


class NegotiationError(Exception):
    pass


def format_extension(params):
    """`params`: list of (name, value or None)."""
    parts = [NAME]
    for name, value in params:
        parts.append(name if value is None else "%s=%s" % (name, value))
    return "; ".join(parts)


def parse_extensions(header):
    """'a; x=1, b' -> [('a', [('x', '1')]), ('b', [])]. Quoted values are unquoted."""
    result = []
    for element in header.split(","):
        items = [item.strip() for item in element.split(";")]
        if not items[0]:
            raise NegotiationError("empty extension in %r" % header)
        params = []
        for item in items[1:]:
            if "=" in item:
                key, value = (part.strip() for part in item.split("=", 1))
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                params.append((key, value))
            else:
                params.append((item, None))
        result.append((items[0], params))
    return result


def window_bits(value, what):
    if value is None or not value.isdigit() or not 8 <= int(value) <= 15:
        raise NegotiationError("%s has an invalid value %r" % (what, value))
    return int(value)


def param_dict(params, what):
    """The parameters of one offer or response as a dict; each may appear once."""
    result = {}
    for key, value in params:
        if key not in PARAMS:
            raise NegotiationError("%s has an unknown parameter %r" % (what, key))
        if key in result:
            raise NegotiationError("%s repeats the parameter %r" % (what, key))
        if key.endswith("no_context_takeover") and value is not None:
            raise NegotiationError("%s gives %s a value" % (what, key))
        result[key] = value
    return result


class Codec:
    """Compresses outgoing and decompresses incoming messages with the
    negotiated windows and context takeover."""

    def __init__(self, own_bits=15, own_no_context=False, peer_bits=15, peer_no_context=False):
        self.own_bits = own_bits
        self.own_no_context = own_no_context
        self.peer_bits = peer_bits
        self.peer_no_context = peer_no_context
        self._compressor = None
        self._decompressor = None

    def describe(self):
        return "peer deflates with window %d%s, inflates with window %d%s" % (
            self.own_bits, " without context takeover" if self.own_no_context else "",
            self.peer_bits, " without context takeover" if self.peer_no_context else "")

    def compress(self, payload):
        if self._compressor is None or self.own_no_context:
            self._compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.own_bits)
        data = self._compressor.compress(payload) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4] if data.endswith(TAIL) else data

    def decompress(self, data):
        """The message compressed into `data`; raises zlib.error on bad data."""
        if self._decompressor is None or self.peer_no_context:
            self._decompressor = zlib.decompressobj(-self.peer_bits)
        out = []
        pending = data + TAIL
        while pending:
            out.append(self._decompressor.decompress(pending))
            if not self._decompressor.eof:
                break
            # A final block ends the stream; what follows starts a fresh one.
            pending = self._decompressor.unused_data
            self._decompressor = zlib.decompressobj(-self.peer_bits)
        return b"".join(out)


def client_codec(offers, response_header):
    """The codec of a client that sent `offers` (lists of (name, value)) and
    got `response_header`; raises NegotiationError where the server's answer
    breaks RFC 7692 section 7.1."""
    extensions = parse_extensions(response_header)
    if len(extensions) != 1 or extensions[0][0] != NAME:
        raise NegotiationError("the server answered %r" % response_header)
    response = param_dict(extensions[0][1], "the server's response")
    offer_dicts = [param_dict(offer, "our offer") for offer in offers]

    def answers(offer):
        if "server_no_context_takeover" in offer and "server_no_context_takeover" not in response:
            return False
        if offer.get("server_max_window_bits") is not None:
            asked = int(offer["server_max_window_bits"])
            if "server_max_window_bits" not in response:
                return False
            if window_bits(response["server_max_window_bits"], "server_max_window_bits") > asked:
                return False
        if "client_max_window_bits" in response and "client_max_window_bits" not in offer:
            return False
        return True

    if not any(answers(offer) for offer in offer_dicts):
        raise NegotiationError("the response %r accepts none of the offers" % response_header)
    codec = Codec()
    if "server_max_window_bits" in response:
        codec.peer_bits = window_bits(response["server_max_window_bits"], "server_max_window_bits")
    if "client_max_window_bits" in response:
        codec.own_bits = window_bits(response["client_max_window_bits"], "client_max_window_bits")
    codec.peer_no_context = "server_no_context_takeover" in response
    # Offering client_no_context_takeover promises not to use context takeover.
    codec.own_no_context = ("client_no_context_takeover" in response
                            or all("client_no_context_takeover" in offer for offer in offer_dicts))
    return codec


def server_accept(offers_header, request_no_context, request_bits):
    """As a server that asks the client for `request_no_context` and a client
    window of `request_bits` (0: no request), answers the first usable offer.
    Returns (response header, codec)."""
    for name, params in parse_extensions(offers_header):
        if name != NAME:
            continue
        offer = param_dict(params, "the client's offer")
        response = []
        codec = Codec()
        if "server_no_context_takeover" in offer:
            response.append(("server_no_context_takeover", None))
            codec.own_no_context = True
        if "server_max_window_bits" in offer:
            codec.own_bits = window_bits(offer["server_max_window_bits"], "server_max_window_bits")
            response.append(("server_max_window_bits", str(codec.own_bits)))
        if request_no_context or "client_no_context_takeover" in offer:
            response.append(("client_no_context_takeover", None))
            codec.peer_no_context = True
        if request_bits:
            if "client_max_window_bits" not in offer:
                raise NegotiationError("the client does not offer client_max_window_bits: %r" % offers_header)
            codec.peer_bits = request_bits
            if offer["client_max_window_bits"] is not None:
                codec.peer_bits = min(request_bits, window_bits(offer["client_max_window_bits"],
                                                                "client_max_window_bits"))
            response.append(("client_max_window_bits", str(codec.peer_bits)))
        elif offer.get("client_max_window_bits") is not None:
            codec.peer_bits = window_bits(offer["client_max_window_bits"], "client_max_window_bits")
            response.append(("client_max_window_bits", str(codec.peer_bits)))
        return format_extension(response), codec
    raise NegotiationError("the client offers no permessage-deflate: %r" % offers_header)
