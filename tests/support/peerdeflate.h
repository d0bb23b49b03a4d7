#pragma once

// permessage-deflate (RFC 7692) as a scripted peer writes and reads it, with
// zlib: each message a stream of its own (no context takeover), without the
// 00 00 ff ff tail of its sync flush.

#include <QtCore/qbytearray.h>

#include <zlib.h>

namespace wsqt::test {

inline QByteArray deflateMessage(const QByteArray &message)
{
    z_stream stream = {};
    deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    QByteArray out(qsizetype(deflateBound(&stream, uLong(message.size())) + 16), Qt::Uninitialized);
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(message.constData()));
    stream.avail_in = uInt(message.size());
    stream.next_out = reinterpret_cast<Bytef *>(out.data());
    stream.avail_out = uInt(out.size());
    deflate(&stream, Z_SYNC_FLUSH);
    out.resize(out.size() - qsizetype(stream.avail_out));
    deflateEnd(&stream);
    return out.chopped(4);
}

// The message, or "(corrupt compressed data)".
inline QByteArray inflateMessage(const QByteArray &payload)
{
    z_stream stream = {};
    inflateInit2(&stream, -15);
    const QByteArray input = payload + QByteArray::fromHex("0000ffff");
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(input.constData()));
    stream.avail_in = uInt(input.size());
    QByteArray out;
    char chunk[16384];
    int status = Z_OK;
    do {
        stream.next_out = reinterpret_cast<Bytef *>(chunk);
        stream.avail_out = sizeof chunk;
        status = inflate(&stream, Z_SYNC_FLUSH);
        out.append(chunk, qsizetype(sizeof chunk - stream.avail_out));
    } while (status == Z_OK && stream.avail_out == 0);
    inflateEnd(&stream);
    // Z_BUF_ERROR: the input is used up (the last output filled a chunk exactly).
    return status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR ? out
                                                                             : QByteArray("(corrupt compressed data)");
}

// The message in stored blocks, which costs no compressing however large.
inline QByteArray storedDeflate(const QByteArray &message)
{
    QByteArray body;
    for (qsizetype at = 0; at < message.size(); at += 65535) {
        const auto length = quint16(qMin<qsizetype>(65535, message.size() - at));
        const char header[5] = {0, char(length & 0xFF), char(length >> 8), char(~length & 0xFF),
                                char((~length >> 8) & 0xFF)};
        body.append(header, 5);
        body += message.mid(at, length);
    }
    return body;
}

// A message of `size` zero bytes in about size / 1000 bytes: one block of a
// MiB of zeros, then the same block again and again, since each needs only
// the zeros before it. Built without compressing `size` bytes.
inline QByteArray deflatedZeros(qint64 size)
{
    constexpr int kBlock = 1024 * 1024;
    z_stream stream = {};
    deflateInit2(&stream, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
    const QByteArray zeros(kBlock, '\0');
    const auto compressBlock = [&] {
        QByteArray out(kBlock, Qt::Uninitialized);
        stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(zeros.constData()));
        stream.avail_in = uInt(zeros.size());
        stream.next_out = reinterpret_cast<Bytef *>(out.data());
        stream.avail_out = uInt(out.size());
        deflate(&stream, Z_SYNC_FLUSH);
        out.resize(out.size() - qsizetype(stream.avail_out));
        return out;
    };
    QByteArray body = compressBlock();
    const QByteArray repeated = compressBlock();
    deflateEnd(&stream);
    body += repeated.repeated(int(size / kBlock) - 1);
    return body.chopped(4);
}

} // namespace wsqt::test
