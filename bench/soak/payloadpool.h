#pragma once

// The messages a soak run sends: a fixed set of payloads from empty to a few
// MiB, text and binary, each with its permessage-deflate form computed once,
// so that sending costs a copy and a mask rather than compression.

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace soak {

struct PoolMessage
{
    std::string payload;
    // Raw deflate from an empty window (as with client_no_context_takeover,
    // which a client may always follow), the trailing 00 00 ff ff dropped.
    std::string compressed;
    bool text = false;
};

class PayloadPool
{
public:
    // The size classes, by the frame length encoding they exercise.
    enum SizeClass { Tiny, Small, Medium, Large, Huge, SizeClassCount };

    // Messages over this size are "large": the driver bounds how many bytes
    // of them are in flight (see SoakDriver).
    static constexpr size_t kLargeSize = 64 * 1024;

    explicit PayloadPool(unsigned seed);

    // A message drawn by the classes' weights; without largeAllowed, one of
    // kLargeSize bytes or less.
    const PoolMessage &pick(std::mt19937_64 &random, bool largeAllowed) const;
    const PoolMessage &pickFrom(std::mt19937_64 &random, SizeClass sizeClass) const;

    size_t totalBytes() const;

private:
    std::vector<PoolMessage> m_classes[SizeClassCount];
};

} // namespace soak
