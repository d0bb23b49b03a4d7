#include <wsqt/wserror.h>

#include <QtCore/qdebug.h>

WsError::WsError(Code code, const QString &message, int closeCode)
    : m_code(code), m_closeCode(closeCode), m_message(message)
{
}

QString WsError::codeName() const
{
    return codeName(m_code);
}

QString WsError::codeName(Code code)
{
    switch (code) {
    case NoError: return {};
    case ExpectedFin: return QStringLiteral("WS_ERR_EXPECTED_FIN");
    case ExpectedMask: return QStringLiteral("WS_ERR_EXPECTED_MASK");
    case InvalidCloseCode: return QStringLiteral("WS_ERR_INVALID_CLOSE_CODE");
    case InvalidControlPayloadLength: return QStringLiteral("WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH");
    case InvalidOpcode: return QStringLiteral("WS_ERR_INVALID_OPCODE");
    case InvalidUtf8: return QStringLiteral("WS_ERR_INVALID_UTF8");
    case UnexpectedMask: return QStringLiteral("WS_ERR_UNEXPECTED_MASK");
    case UnexpectedRsv1: return QStringLiteral("WS_ERR_UNEXPECTED_RSV_1");
    case UnexpectedRsv23: return QStringLiteral("WS_ERR_UNEXPECTED_RSV_2_3");
    case UnsupportedDataPayloadLength: return QStringLiteral("WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH");
    case UnsupportedMessageLength: return QStringLiteral("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    case TooManyBufferedParts: return QStringLiteral("WS_ERR_TOO_MANY_BUFFERED_PARTS");
    case InvalidCompressedData: return QStringLiteral("WSQT_ERR_INVALID_COMPRESSED_DATA");
    case InvalidArgument: return QStringLiteral("WSQT_ERR_INVALID_ARGUMENT");
    case InvalidState: return QStringLiteral("WSQT_ERR_INVALID_STATE");
    case InvalidUrl: return QStringLiteral("WSQT_ERR_INVALID_URL");
    case HandshakeFailed: return QStringLiteral("WSQT_ERR_HANDSHAKE_FAILED");
    case HandshakeTimeout: return QStringLiteral("WSQT_ERR_HANDSHAKE_TIMEOUT");
    case UnexpectedResponse: return QStringLiteral("WSQT_ERR_UNEXPECTED_RESPONSE");
    case TooManyRedirects: return QStringLiteral("WSQT_ERR_TOO_MANY_REDIRECTS");
    case ConnectionError: return QStringLiteral("WSQT_ERR_CONNECTION");
    case TlsError: return QStringLiteral("WSQT_ERR_TLS");
    case ProxyError: return QStringLiteral("WSQT_ERR_PROXY");
    case Timeout: return QStringLiteral("WSQT_ERR_TIMEOUT");
    case BufferOverflow: return QStringLiteral("WSQT_ERR_BUFFER_OVERFLOW");
    case ServerError: return QStringLiteral("WSQT_ERR_SERVER");
    case PeerNotReading: return QStringLiteral("WSQT_ERR_PEER_NOT_READING");
    case ReceiveMemoryExceeded: return QStringLiteral("WSQT_ERR_RECEIVE_MEMORY_EXCEEDED");
    }
    return {};
}

QDebug operator<<(QDebug debug, const WsError &error)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "WsError(" << error.codeName() << ", " << error.message();
    if (error.closeCode())
        debug << ", close " << error.closeCode();
    return debug << ')';
}
