#pragma once

// What a connection sends: frames prepared before the run (masked, and
// compressed for permessage-deflate), replayed in a loop so that sending a
// message costs one write of bytes that already exist.

#include "handshake.h"
#include "payloads.h"

#include <cstddef>
#include <string>
#include <vector>

namespace loadgen {

struct SendStream
{
    std::string bytes;
    std::vector<size_t> ends;           // where each frame ends in `bytes`
    std::vector<size_t> payloadOf;      // which payload each frame carries
    size_t loopFrom = 0;                // the frame the stream goes back to after the last
    std::vector<std::string> payloads;  // the distinct messages

    size_t frameCount() const { return ends.size(); }
    size_t frameStart(size_t frame) const { return frame == 0 ? 0 : ends[frame - 1]; }
    size_t next(size_t frame) const { return frame + 1 == ends.size() ? loopFrom : frame + 1; }
};

struct StreamSpec
{
    bool raw = false;           // bare payloads, no framing
    PayloadKind kind = PayloadKind::Binary;
    size_t size = 64;
    DeflateParams deflate;      // as negotiated
};

// Builds the stream; false (with a message) when compression cannot be set up.
bool buildSendStream(const StreamSpec &spec, SendStream *stream, std::string *error);

} // namespace loadgen
