#pragma once

// permessage-deflate's compression: raw deflate, each message ended with a
// sync flush whose trailing 00 00 ff ff is dropped (RFC 7692 section 7.2.1).

#include <zlib.h>

#include <string>

namespace loadgen {

class Deflater
{
public:
    explicit Deflater(int windowBits);
    ~Deflater();
    Deflater(const Deflater &) = delete;
    Deflater &operator=(const Deflater &) = delete;

    bool isValid() const { return m_valid; }
    // The compressed form of one message; with reset, the next message
    // starts from an empty window (no context takeover).
    std::string compress(const std::string &message, bool reset);

private:
    z_stream m_stream = {};
    bool m_valid = false;
};

class Inflater
{
public:
    Inflater();
    ~Inflater();
    Inflater(const Inflater &) = delete;
    Inflater &operator=(const Inflater &) = delete;

    // Decompresses one message; false on corrupt data.
    bool decompress(const std::string &compressed, std::string *message, bool reset);

private:
    z_stream m_stream = {};
    bool m_valid = false;
};

} // namespace loadgen
