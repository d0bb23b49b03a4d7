#include "sendstream.h"

#include "deflate.h"
#include "frames.h"

#include <algorithm>
#include <random>

namespace loadgen {

namespace {

// Enough distinct frames to vary masks and contents, within about 4 MiB.
size_t variantsFor(const StreamSpec &spec)
{
    if (spec.deflate.enabled)
        return 64;
    return std::clamp<size_t>((size_t(4) << 20) / std::max<size_t>(spec.size, 1), 2, 64);
}

void addFrame(SendStream *stream, const std::string &frame, size_t payload)
{
    stream->bytes += frame;
    stream->ends.push_back(stream->bytes.size());
    stream->payloadOf.push_back(payload);
}

} // namespace

bool buildSendStream(const StreamSpec &spec, SendStream *stream, std::string *error)
{
    *stream = SendStream();
    const size_t variants = variantsFor(spec);
    for (size_t i = 0; i < variants; ++i)
        stream->payloads.push_back(makePayload(spec.kind, spec.size, unsigned(i)));

    std::mt19937 random(std::random_device{}());
    const uint8_t opcode = spec.kind == PayloadKind::Binary ? Binary : Text;
    const auto frameOf = [&](const std::string &payload, bool compressed) {
        uint8_t mask[4];
        for (uint8_t &byte : mask)
            byte = uint8_t(random());
        std::string frame;
        appendFrame(frame, opcode, true, compressed, mask, payload.data(), payload.size());
        return frame;
    };

    if (spec.raw) {
        for (size_t i = 0; i < variants; ++i)
            addFrame(stream, stream->payloads[i], i);
        return true;
    }
    if (!spec.deflate.enabled) {
        for (size_t i = 0; i < variants; ++i)
            addFrame(stream, frameOf(stream->payloads[i], false), i);
        return true;
    }

    Deflater deflater(spec.deflate.clientMaxWindowBits);
    if (!deflater.isValid()) {
        *error = "zlib refuses client_max_window_bits=" + std::to_string(spec.deflate.clientMaxWindowBits);
        return false;
    }
    if (spec.deflate.clientNoContextTakeover) {
        for (size_t i = 0; i < variants; ++i)
            addFrame(stream, frameOf(deflater.compress(stream->payloads[i], true), true), i);
        return true;
    }
    // With context takeover a message refers back to the ones before it. All
    // messages are compressed twice in one stream; the second round is what
    // loops. Each of its frames only refers to data that, in any replay, is the
    // same cycle of messages at the same distance, so the server's window
    // always holds what the frame refers to.
    for (int round = 0; round < 2; ++round) {
        for (size_t i = 0; i < variants; ++i)
            addFrame(stream, frameOf(deflater.compress(stream->payloads[i], false), true), i);
    }
    stream->loopFrom = variants;
    return true;
}

} // namespace loadgen
