#pragma once

#include <wsqt/wsqt_global.h>

#include <QtCore/qmetatype.h>
#include <QtCore/qobjectdefs.h>
#include <QtCore/qstring.h>

// An error as ws reports it: a stable code (the WS_ERR_* name for protocol
// errors), the close code sent to the peer where one applies, and a message.
class WSQT_EXPORT WsError
{
    Q_GADGET
    Q_PROPERTY(Code code READ code CONSTANT)
    Q_PROPERTY(QString codeName READ codeName CONSTANT)
    Q_PROPERTY(QString message READ message CONSTANT)
    Q_PROPERTY(int closeCode READ closeCode CONSTANT)

public:
    enum Code {
        NoError = 0,
        // The codes of ws, with the same meaning and close codes.
        ExpectedFin,                  // WS_ERR_EXPECTED_FIN
        ExpectedMask,                 // WS_ERR_EXPECTED_MASK
        InvalidCloseCode,             // WS_ERR_INVALID_CLOSE_CODE
        InvalidControlPayloadLength,  // WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH
        InvalidOpcode,                // WS_ERR_INVALID_OPCODE
        InvalidUtf8,                  // WS_ERR_INVALID_UTF8
        UnexpectedMask,               // WS_ERR_UNEXPECTED_MASK
        UnexpectedRsv1,               // WS_ERR_UNEXPECTED_RSV_1
        UnexpectedRsv23,              // WS_ERR_UNEXPECTED_RSV_2_3
        UnsupportedDataPayloadLength, // WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH
        UnsupportedMessageLength,     // WS_ERR_UNSUPPORTED_MESSAGE_LENGTH
        TooManyBufferedParts,         // WS_ERR_TOO_MANY_BUFFERED_PARTS (ws 8.21+)
        // Errors ws raises without a code; wsqt names them WSQT_ERR_*.
        InvalidCompressedData,        // corrupt permessage-deflate data
        InvalidArgument,              // a call with an argument ws would throw on
        InvalidState,                 // a call in a state ws would throw on
        InvalidUrl,                   // a URL ws refuses
        HandshakeFailed,              // the opening handshake was refused or malformed
        HandshakeTimeout,             // "Opening handshake has timed out"
        UnexpectedResponse,           // "Unexpected server response: N"
        TooManyRedirects,             // "Maximum redirects exceeded"
        ConnectionError,              // the transport failed (refused, reset, ...)
        TlsError,                     // certificate or TLS handshake failure
        ProxyError,                   // the proxy refused or failed
        Timeout,                      // a heartbeat or other timer expired
        BufferOverflow,               // maxBufferedAmount was passed
        ServerError,                  // the listening socket failed
        PeerNotReading,               // the peer sent while it read nothing for backpressureTimeout (1008)
        ReceiveMemoryExceeded         // the server's maxReceiveMemory was reached (1013)
    };
    Q_ENUM(Code)

    WsError() = default;
    WsError(Code code, const QString &message, int closeCode = 0);

    Code code() const { return m_code; }
    // "WS_ERR_INVALID_UTF8", "WSQT_ERR_HANDSHAKE_TIMEOUT", or empty for NoError.
    QString codeName() const;
    QString message() const { return m_message; }
    // The close code sent to the peer because of this error (1002, 1007,
    // 1009, ...), 0 where the error closes no connection.
    int closeCode() const { return m_closeCode; }

    bool isError() const { return m_code != NoError; }
    explicit operator bool() const { return isError(); }

    static QString codeName(Code code);

    friend bool operator==(const WsError &a, const WsError &b)
    {
        return a.m_code == b.m_code && a.m_closeCode == b.m_closeCode && a.m_message == b.m_message;
    }
    friend bool operator!=(const WsError &a, const WsError &b) { return !(a == b); }

private:
    Code m_code = NoError;
    int m_closeCode = 0;
    QString m_message;
};

Q_DECLARE_METATYPE(WsError)

class QDebug;

WSQT_EXPORT QDebug operator<<(QDebug debug, const WsError &error);
