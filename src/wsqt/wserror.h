#pragma once

/// \file
/// WsError, the error type of every call and signal.

#include <wsqt/wsqt_global.h>

#include <QtCore/qmetatype.h>
#include <QtCore/qobjectdefs.h>
#include <QtCore/qstring.h>

/// An error as ws reports it: a stable code (the `WS_ERR_*` name for protocol
/// errors), the close code sent to the peer where one applies, and a message.
/// Converts to true when it is an error.
class WSQT_EXPORT WsError
{
    Q_GADGET
    Q_PROPERTY(Code code READ code CONSTANT)
    Q_PROPERTY(QString codeName READ codeName CONSTANT)
    Q_PROPERTY(QString message READ message CONSTANT)
    Q_PROPERTY(int closeCode READ closeCode CONSTANT)

public:
    /// The kinds of error; codeName() gives each its stable name.
    enum Code {
        NoError = 0,                  ///< not an error
        // The codes of ws, with the same meaning and close codes.
        ExpectedFin,                  ///< `WS_ERR_EXPECTED_FIN`: a control frame without FIN (1002)
        ExpectedMask,                 ///< `WS_ERR_EXPECTED_MASK`: a server received an unmasked frame (1002)
        InvalidCloseCode,             ///< `WS_ERR_INVALID_CLOSE_CODE`: a close frame with an invalid code (1002)
        InvalidControlPayloadLength,  ///< `WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH`: a control frame over 125 bytes (1002)
        InvalidOpcode,                ///< `WS_ERR_INVALID_OPCODE`: a reserved or misplaced opcode (1002)
        InvalidUtf8,                  ///< `WS_ERR_INVALID_UTF8`: text or a close reason that is not UTF-8 (1007)
        UnexpectedMask,               ///< `WS_ERR_UNEXPECTED_MASK`: a client received a masked frame (1002)
        UnexpectedRsv1,               ///< `WS_ERR_UNEXPECTED_RSV_1`: RSV1 where it must be clear (1002)
        UnexpectedRsv23,              ///< `WS_ERR_UNEXPECTED_RSV_2_3`: RSV2 or RSV3 set (1002)
        UnsupportedDataPayloadLength, ///< `WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH`: a frame length over 2^53 - 1 (1009)
        UnsupportedMessageLength,     ///< `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH`: a message over maxPayload (1009)
        TooManyBufferedParts,         ///< `WS_ERR_TOO_MANY_BUFFERED_PARTS` (ws 8.21+): a message over maxFragments frames (1008)
        // Errors ws raises without a code; wsqt names them WSQT_ERR_*.
        InvalidCompressedData,        ///< corrupt permessage-deflate data (1007)
        InvalidArgument,              ///< a call with an argument ws would throw on
        InvalidState,                 ///< a call in a state ws would throw on
        InvalidUrl,                   ///< a URL ws refuses
        HandshakeFailed,              ///< the opening handshake was refused or malformed
        HandshakeTimeout,             ///< "Opening handshake has timed out"
        UnexpectedResponse,           ///< "Unexpected server response: N"
        TooManyRedirects,             ///< "Maximum redirects exceeded"
        ConnectionError,              ///< the transport failed (refused, reset, ...)
        TlsError,                     ///< certificate or TLS handshake failure
        ProxyError,                   ///< the proxy refused or failed
        Timeout,                      ///< a heartbeat or other timer expired
        BufferOverflow,               ///< maxBufferedAmount was passed
        ServerError,                  ///< the listening socket failed
        PeerNotReading,               ///< the peer sent while it read nothing for backpressureTimeout (1008)
        ReceiveMemoryExceeded         ///< the server's maxReceiveMemory was reached (1013)
    };
    Q_ENUM(Code)

    /// No error: code() is NoError.
    WsError() = default;
    /// An error of kind `code` with `message`, and the close code sent to the
    /// peer because of it (0: none).
    WsError(Code code, const QString &message, int closeCode = 0);

    /// The kind of error; NoError for none.
    Code code() const { return m_code; }
    /// "WS_ERR_INVALID_UTF8", "WSQT_ERR_HANDSHAKE_TIMEOUT", or empty for NoError.
    QString codeName() const;
    /// What went wrong, in ws's words where ws has them.
    QString message() const { return m_message; }
    /// The close code sent to the peer because of this error (1002, 1007,
    /// 1009, ...), 0 where the error closes no connection.
    int closeCode() const { return m_closeCode; }

    /// Whether this is an error: code() is not NoError.
    bool isError() const { return m_code != NoError; }
    /// isError(), for `if (const WsError error = ...)`.
    explicit operator bool() const { return isError(); }

    /// The stable name of `code`: `WS_ERR_*` or `WSQT_ERR_*`, or empty for NoError.
    static QString codeName(Code code);

    /// Equal when the codes, close codes and messages are.
    friend bool operator==(const WsError &a, const WsError &b)
    {
        return a.m_code == b.m_code && a.m_closeCode == b.m_closeCode && a.m_message == b.m_message;
    }
    /// Not equal: see operator==().
    friend bool operator!=(const WsError &a, const WsError &b) { return !(a == b); }

private:
    Code m_code = NoError;
    int m_closeCode = 0;
    QString m_message;
};

Q_DECLARE_METATYPE(WsError)

class QDebug;

/// Writes `WsError(codeName, message, close closeCode)` to `debug`.
WSQT_EXPORT QDebug operator<<(QDebug debug, const WsError &error);
