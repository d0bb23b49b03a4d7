#pragma once

// WebSocket frames as a peer writes them, built here independently of the
// library's own writer, so that a test compares the library with the RFC and
// not with itself.

#include <QtCore/qbytearray.h>
#include <QtCore/qendian.h>

namespace wsqt::test {

// The key the tests mask with, fixed so that the bytes on the wire are known.
inline const QByteArray kFixedMaskKey = QByteArray::fromHex("37fa213d");

// A frame with the shortest length encoding, then the payload, masked with
// `key` (four bytes) when one is given.
inline QByteArray wireFrame(quint8 firstByte, const QByteArray &payload, const QByteArray &key = {})
{
    QByteArray bytes(1, char(firstByte));
    const char maskBit = key.isEmpty() ? char(0) : char(0x80);
    const qsizetype length = payload.size();
    uchar extended[8];
    if (length < 126) {
        bytes += char(maskBit | char(length));
    } else if (length < 65536) {
        bytes += char(maskBit | 126);
        qToBigEndian(quint16(length), extended);
        bytes.append(reinterpret_cast<const char *>(extended), 2);
    } else {
        bytes += char(maskBit | 127);
        qToBigEndian(quint64(length), extended);
        bytes.append(reinterpret_cast<const char *>(extended), 8);
    }
    if (key.isEmpty())
        return bytes + payload;
    bytes += key;
    const qsizetype start = bytes.size();
    bytes += payload;
    for (qsizetype i = 0; i < payload.size(); ++i)
        bytes[start + i] = char(bytes[start + i] ^ key[i % 4]);
    return bytes;
}

} // namespace wsqt::test
