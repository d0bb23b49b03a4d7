#pragma once

/// \file
/// WsQt::CloseCode: the registered close codes by name.

#include <wsqt/wsqt_global.h>

#include <QtCore/qobjectdefs.h>

/// wsqt's enums that belong to no class, registered with Qt's meta-object
/// system (Q_NAMESPACE).
namespace WsQt {
Q_NAMESPACE_EXPORT(WSQT_EXPORT)

/// The close codes of RFC 6455 (section 7.4.1) and of the IANA registry, by
/// name, for WsSocket::close() and for reading WsSocket::closed(). Codes are
/// ints on the wire and in closed(): an application's own codes (3000-4999)
/// have no name here.
enum class CloseCode {
    Normal = 1000,              ///< the purpose of the connection was fulfilled
    GoingAway = 1001,           ///< an endpoint is going away: a server shutting down, a client leaving
    ProtocolError = 1002,       ///< the peer broke the protocol
    UnsupportedData = 1003,     ///< a kind of data the endpoint cannot accept
    NoStatusReceived = 1005,    ///< reported only: a close frame without a code
    Abnormal = 1006,            ///< reported only: the connection ended without a close frame
    InvalidPayload = 1007,      ///< data that does not fit the message's type, such as text that is not UTF-8
    PolicyViolation = 1008,     ///< a message that violates the endpoint's policy
    MessageTooBig = 1009,       ///< a message too big to process
    MandatoryExtension = 1010,  ///< the client needs an extension the server did not negotiate
    InternalError = 1011,       ///< the server met an unexpected condition
    ServiceRestart = 1012,      ///< the server is restarting
    TryAgainLater = 1013,       ///< the server is overloaded: try again later
    BadGateway = 1014,          ///< a gateway or proxy got an invalid response from upstream
    TlsHandshakeFailed = 1015,  ///< reported only: the TLS handshake failed
};
Q_ENUM_NS(CloseCode)

} // namespace WsQt
