#include "deflate.h"

namespace loadgen {

Deflater::Deflater(int windowBits)
{
    m_valid = deflateInit2(&m_stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -windowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

Deflater::~Deflater()
{
    if (m_valid)
        deflateEnd(&m_stream);
}

std::string Deflater::compress(const std::string &message, bool reset)
{
    std::string out(deflateBound(&m_stream, message.size()) + 16, '\0');
    m_stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(message.data()));
    m_stream.avail_in = uInt(message.size());
    m_stream.next_out = reinterpret_cast<Bytef *>(&out[0]);
    m_stream.avail_out = uInt(out.size());
    deflate(&m_stream, Z_SYNC_FLUSH);
    out.resize(out.size() - m_stream.avail_out);
    if (out.size() >= 4 && out.compare(out.size() - 4, 4, std::string("\0\0\xff\xff", 4)) == 0)
        out.resize(out.size() - 4);
    if (reset)
        deflateReset(&m_stream);
    return out;
}

Inflater::Inflater()
{
    m_valid = inflateInit2(&m_stream, -15) == Z_OK;
}

Inflater::~Inflater()
{
    if (m_valid)
        inflateEnd(&m_stream);
}

bool Inflater::decompress(const std::string &compressed, std::string *message, bool reset)
{
    if (!m_valid)
        return false;
    const std::string input = compressed + std::string("\0\0\xff\xff", 4);
    m_stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(input.data()));
    m_stream.avail_in = uInt(input.size());
    message->clear();
    char chunk[16384];
    for (;;) {
        m_stream.next_out = reinterpret_cast<Bytef *>(chunk);
        m_stream.avail_out = sizeof(chunk);
        const int status = inflate(&m_stream, Z_SYNC_FLUSH);
        const size_t produced = sizeof(chunk) - m_stream.avail_out;
        message->append(chunk, produced);
        if (status == Z_STREAM_END) {
            // A final block ends this stream; the next message starts a new one.
            inflateReset(&m_stream);
            return m_stream.avail_in == 0;
        }
        if (status != Z_OK && status != Z_BUF_ERROR)
            return false;
        if (status == Z_BUF_ERROR && produced == 0) {
            // No progress: fine once all input is used, corrupt otherwise.
            if (m_stream.avail_in != 0)
                return false;
            break;
        }
        if (m_stream.avail_in == 0 && m_stream.avail_out != 0)
            break;
    }
    if (reset)
        inflateReset(&m_stream);
    return true;
}

} // namespace loadgen
