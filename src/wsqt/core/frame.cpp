#include "frame.h"

#include <QtCore/qendian.h>

#include <cstring>

namespace wsqt::core {

int writeFrameHeader(char *out, FrameFlags flags, quint64 payloadLength, const uchar *maskKey)
{
    auto *p = reinterpret_cast<uchar *>(out);
    p[0] = uchar((flags.fin ? 0x80 : 0) | (flags.rsv1 ? 0x40 : 0) | quint8(flags.opcode));
    const uchar maskBit = maskKey ? 0x80 : 0;
    int size;
    if (payloadLength < 126) {
        p[1] = maskBit | uchar(payloadLength);
        size = 2;
    } else if (payloadLength <= 0xFFFF) {
        p[1] = maskBit | 126;
        qToBigEndian(quint16(payloadLength), p + 2);
        size = 4;
    } else {
        p[1] = maskBit | 127;
        qToBigEndian(quint64(payloadLength), p + 2);
        size = 10;
    }
    if (maskKey) {
        std::memcpy(p + size, maskKey, 4);
        size += 4;
    }
    return size;
}

WsError buildClosePayload(int code, const QByteArray &reason, QByteArray *payload)
{
    if (code == 0) {
        // As ws: without a code the frame is empty and a reason is not sent.
        payload->clear();
        return {};
    }
    if (!isValidCloseCode(code))
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("First argument must be a valid error code number"));
    if (reason.size() > kMaxControlPayload - 2)
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("The message must not be greater than 123 bytes"));
    payload->resize(2 + reason.size());
    qToBigEndian(quint16(code), payload->data());
    if (!reason.isEmpty())
        std::memcpy(payload->data() + 2, reason.constData(), size_t(reason.size()));
    return {};
}

} // namespace wsqt::core
