#pragma once

// The HTTP upgrade, both sides: the client's request and the check of the
// server's 101 (Sec-WebSocket-Accept, permessage-deflate's parameters), and
// for the echo server, the 101 answering a client's request.

#include <string>

namespace loadgen {

// permessage-deflate as negotiated (RFC 7692).
struct DeflateParams
{
    bool enabled = false;
    bool serverNoContextTakeover = false;
    bool clientNoContextTakeover = false;
    int serverMaxWindowBits = 15;
    int clientMaxWindowBits = 15;
};

// A fresh Sec-WebSocket-Key: 16 random bytes in base64.
std::string makeKey();
std::string acceptFor(const std::string &key);

// The request; with offerDeflate, the default offer
// "permessage-deflate; client_max_window_bits".
std::string clientRequest(const std::string &host, int port, const std::string &path,
                          const std::string &key, bool offerDeflate);

// Checks a response head (up to and without the blank line). On success
// fills `deflate` with what the server accepted; otherwise says why in `error`.
bool checkResponse(const std::string &head, const std::string &key, bool offeredDeflate,
                   DeflateParams *deflate, std::string *error);

// The 101 for a request head, no extension accepted; false when the request
// is not a WebSocket upgrade.
bool serverResponse(const std::string &head, std::string *response);

} // namespace loadgen
