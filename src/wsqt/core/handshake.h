#pragma once

// The opening handshake (RFC 6455 §4) as pure functions: the client's request
// and its check of the response, the server's check of the request and its
// 101 or error response. Messages are ws's, word for word; where ws leaves a
// check to Node's http module, the message is Node's.

#include "extension.h"

#include <wsqt/wserror.h>
#include <wsqt/wshttp.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>

namespace wsqt::core {

// A random Sec-WebSocket-Key: base64 of 16 random bytes.
QByteArray generateWebSocketKey();
// Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC's GUID)).
QByteArray computeAcceptKey(QByteArrayView key);

// True where a head asks for a protocol switch as Node's HTTP parser sees it:
// an Upgrade field with a value, and a Connection field listing "upgrade".
// Node hands only such requests to ws (others get ws's 426), and treats a
// 101 response without them as an unexpected response.
bool requestsUpgrade(const WsHttpHeaders &headers);

// ---- client -------------------------------------------------------------

struct ClientHandshakeRequest
{
    QByteArray host;                // Host header: host, or host:port when not the default
    QByteArray resource = "/";      // path and query; "/" when empty
    QByteArray key;                 // Sec-WebSocket-Key
    int protocolVersion = 13;       // 13 or 8
    QByteArray origin;              // Origin (13) or Sec-WebSocket-Origin (8), when not empty
    QList<QByteArray> protocols;    // Sec-WebSocket-Protocol, when not empty
    QByteArray extensionOffer;      // Sec-WebSocket-Extensions, when not empty
    QByteArray auth;                // "user:password": Authorization: Basic, unless `headers` has one
    // The application's own fields. They come first, in their order. As in
    // ws 8, the handshake's own fields (version, key, Connection, Upgrade,
    // extensions, protocol, origin) replace an application field of the same
    // name where it stands; an application Host or Authorization field is
    // kept instead of the one this request would add.
    WsHttpHeaders headers;
};

// Refuses what must never reach the wire, with ws's or Node's message and
// WsError::InvalidArgument, in the order they check: a protocol version other
// than 8 and 13; an invalid or repeated subprotocol; a resource with a space
// or a control character; a field name that is not a token; a field value
// (the host and origin included) with a control character other than HTAB.
WsError validateClientRequest(const ClientHandshakeRequest &request);
QByteArray buildClientRequest(const ClientHandshakeRequest &request);

struct ClientHandshakeResult
{
    QByteArray protocol;                  // the subprotocol the server chose, or empty
    QList<ExtensionOffer> extensions;     // what the server's Sec-WebSocket-Extensions says
};

// Checks a response to `request` whose status is 101, in ws's order: that
// Node would take it as an upgrade at all (else WsError::UnexpectedResponse,
// "Unexpected server response: 101"), then, as WsError::HandshakeFailed, the
// Upgrade token, Sec-WebSocket-Accept, the subprotocol (one that was
// requested, and one at all when some were), and that every extension named
// was offered. The extension's parameters are for the extension to judge.
WsError verifyServerResponse(const WsHttpResponse &response, const ClientHandshakeRequest &request,
                             const QList<QByteArray> &offeredExtensions, ClientHandshakeResult *result);

// ---- server -------------------------------------------------------------

struct UpgradeRequest
{
    QByteArray key;
    int version = 13;
    QList<QByteArray> protocols;          // Sec-WebSocket-Protocol, parsed
    QList<ExtensionOffer> extensions;     // Sec-WebSocket-Extensions, parsed
    QByteArray origin;                    // Origin, or Sec-WebSocket-Origin for version 8
};

struct HandshakeRejection
{
    // What was wrong with the request, for callers to branch on: the message
    // is ws's text, for the response body and the logs only.
    enum class Reason {
        None,           // accepted
        Method,         // not GET
        Upgrade,        // no Upgrade: websocket
        Key,            // no valid Sec-WebSocket-Key
        Version,        // Sec-WebSocket-Version neither 13 nor 8
        Protocol,       // Sec-WebSocket-Protocol malformed
        Extensions,     // Sec-WebSocket-Extensions malformed, or no acceptable offer
        Connection,     // Connection does not list Upgrade
        HttpVersion,    // older than HTTP/1.1
    };

    Reason reason = Reason::None;
    int status = 0;                       // 0: accepted
    QByteArray message;                   // ws's message, also the response body
    WsHttpHeaders headers;                // extra fields, e.g. Sec-WebSocket-Version: 13, 8

    bool isRejected() const { return reason != Reason::None; }
    // ws checks the path after the method, Upgrade, key and version, and
    // before the subprotocols and extensions.
    bool precedesPathCheck() const
    {
        return isRejected() && reason != Reason::Protocol && reason != Reason::Extensions;
    }
    static HandshakeRejection unacceptableExtensions();
};

// Validates an upgrade request as ws's handleUpgrade does, in ws's order:
// method GET (405), Upgrade: websocket (400), Sec-WebSocket-Key (400),
// Sec-WebSocket-Version 13 or 8 as JavaScript's Number() reads it (400 with
// Sec-WebSocket-Version: 13, 8), Sec-WebSocket-Protocol (400),
// Sec-WebSocket-Extensions (400; read only when `withExtensions`, as ws reads
// it only with perMessageDeflate on). Then what RFC 6455 §4.2.1 requires and
// ws leaves to Node: a Connection header listing Upgrade (400), HTTP/1.1 or
// later (400). Repeated fields are joined with ", " first, as Node joins them.
HandshakeRejection validateUpgradeRequest(const WsHttpRequest &request, UpgradeRequest *upgrade,
                                          bool withExtensions = true);

// The lines of the 101 response, status line first, without CRLFs, as ws
// passes them to its 'headers' event: the application may edit them.
QList<QByteArray> buildAcceptHeaderLines(QByteArrayView key, const QByteArray &protocol,
                                         const QByteArray &extensions);
// Joins header lines into a response head: CRLF after each, then CRLF.
QByteArray serializeHeaderLines(const QList<QByteArray> &lines);

// A complete error response as ws's abortHandshake writes it: the status line,
// Connection: close, Content-Type: text/html, Content-Length, the extra
// fields, then `message` (the reason phrase when empty) as the body. An extra
// field named like one of the first three replaces its value where it stands.
QByteArray buildErrorResponse(int status, const QByteArray &message,
                              const WsHttpHeaders &extraHeaders = {});

} // namespace wsqt::core
