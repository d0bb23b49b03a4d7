#pragma once

// Latencies in nanoseconds, kept in log-linear buckets (64 a power of two,
// under 1.6 % error), so millions of samples cost a few kilobytes.

#include <cstdint>
#include <vector>

namespace loadgen {

class Histogram
{
public:
    Histogram() : m_counts(kSubBuckets * 58, 0) {}

    void record(uint64_t value)
    {
        ++m_counts[indexOf(value)];
        ++m_total;
    }
    void clear()
    {
        std::fill(m_counts.begin(), m_counts.end(), 0);
        m_total = 0;
    }
    uint64_t count() const { return m_total; }

    // The value under which `fraction` of the samples lie (a bucket's midpoint).
    uint64_t percentile(double fraction) const
    {
        if (m_total == 0)
            return 0;
        const uint64_t rank = uint64_t(fraction * double(m_total - 1)) + 1;
        uint64_t seen = 0;
        for (size_t i = 0; i < m_counts.size(); ++i) {
            seen += m_counts[i];
            if (seen >= rank)
                return midpointOf(i);
        }
        return midpointOf(m_counts.size() - 1);
    }

private:
    static constexpr int kSubBits = 6;
    static constexpr uint64_t kSubBuckets = 1u << kSubBits;

    static size_t indexOf(uint64_t value)
    {
        if (value < kSubBuckets)
            return size_t(value);
        const int exponent = 63 - __builtin_clzll(value);  // >= kSubBits
        const uint64_t mantissa = (value >> (exponent - kSubBits)) & (kSubBuckets - 1);
        const size_t index = size_t(exponent - kSubBits + 1) * kSubBuckets + size_t(mantissa);
        return index < kSubBuckets * 58 ? index : kSubBuckets * 58 - 1;
    }
    static uint64_t midpointOf(size_t index)
    {
        if (index < kSubBuckets)
            return index;
        const int exponent = int(index / kSubBuckets) - 1 + kSubBits;
        const uint64_t mantissa = index % kSubBuckets;
        const uint64_t low = (kSubBuckets + mantissa) << (exponent - kSubBits);
        return low + (uint64_t(1) << (exponent - kSubBits)) / 2;
    }

    std::vector<uint64_t> m_counts;
    uint64_t m_total = 0;
};

} // namespace loadgen
