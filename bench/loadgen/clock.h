#pragma once

// The load generator's clock: monotonic nanoseconds.

#include <cstdint>
#include <ctime>

namespace loadgen {

inline uint64_t nowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

inline uint64_t nanoseconds(double seconds)
{
    return uint64_t(seconds * 1e9);
}

} // namespace loadgen
