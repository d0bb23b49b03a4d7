#pragma once

#include <wsqt/wsqt_global.h>

#include <QtCore/qobjectdefs.h>

// The close codes of RFC 6455 (section 7.4.1) and of the IANA registry, by
// name, for WsSocket::close() and for reading closed(). Codes are ints on
// the wire and in closed(): an application's own codes (3000-4999) have no
// name here.
namespace WsQt {
Q_NAMESPACE_EXPORT(WSQT_EXPORT)

enum class CloseCode {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    UnsupportedData = 1003,
    NoStatusReceived = 1005,    // reported only: a close frame without a code
    Abnormal = 1006,            // reported only: the connection ended without a close frame
    InvalidPayload = 1007,
    PolicyViolation = 1008,
    MessageTooBig = 1009,
    MandatoryExtension = 1010,
    InternalError = 1011,
    ServiceRestart = 1012,
    TryAgainLater = 1013,
    BadGateway = 1014,
    TlsHandshakeFailed = 1015,  // reported only
};
Q_ENUM_NS(CloseCode)

} // namespace WsQt
