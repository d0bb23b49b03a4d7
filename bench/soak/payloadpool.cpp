#include "payloadpool.h"

#include "deflate.h"
#include "payloads.h"

#include <algorithm>
#include <cmath>

namespace soak {

namespace {

struct ClassSpec
{
    size_t minSize;
    size_t maxSize;
    double weight;      // share of the messages sent, in percent
    int count;          // distinct messages in the pool
};

// Mostly small messages, as real traffic has; a few percent up to 1 MiB and
// a few in a thousand up to 4 MiB. The bounds include those of the frame
// header's length encodings: 7 bits (up to 125), 16 bits (up to 65535), 64 bits.
constexpr ClassSpec kClasses[PayloadPool::SizeClassCount] = {
    {0, 125, 52.0, 32},
    {126, 4096, 28.0, 32},
    {4097, 65535, 16.5, 24},
    {65536, 1024 * 1024, 3.2, 16},
    {1024 * 1024 + 1, 4 * 1024 * 1024, 0.3, 4},
};

// Log-uniform within the class, so that each class spans its range; the
// first two messages sit on the class bounds, the edges of a length encoding.
size_t sizeFor(const ClassSpec &spec, int index, std::mt19937_64 &random)
{
    if (index == 0)
        return spec.minSize;
    if (index == 1)
        return spec.maxSize;
    const double low = std::log(double(std::max<size_t>(spec.minSize, 1)));
    const double high = std::log(double(spec.maxSize));
    const double x = std::uniform_real_distribution<double>(low, high)(random);
    return std::clamp(size_t(std::exp(x)), spec.minSize, spec.maxSize);
}

} // namespace

PayloadPool::PayloadPool(unsigned seed)
{
    std::mt19937_64 random(seed);
    loadgen::Deflater deflater(15);
    unsigned payloadSeed = seed;
    for (int c = 0; c < SizeClassCount; ++c) {
        for (int i = 0; i < kClasses[c].count; ++i) {
            const size_t size = sizeFor(kClasses[c], i, random);
            // Random bytes (incompressible), UTF-8 text, JSON (compresses well).
            auto kind = loadgen::PayloadKind(i % 3);
            if (kind == loadgen::PayloadKind::Json && size < 64)
                kind = loadgen::PayloadKind::Text;
            PoolMessage message;
            message.payload = loadgen::makePayload(kind, size, ++payloadSeed);
            message.text = kind != loadgen::PayloadKind::Binary;
            message.compressed = deflater.compress(message.payload, true);
            m_classes[c].push_back(std::move(message));
        }
    }
}

const PoolMessage &PayloadPool::pick(std::mt19937_64 &random, bool largeAllowed) const
{
    const int classes = largeAllowed ? SizeClassCount : Large;
    double total = 0;
    for (int c = 0; c < classes; ++c)
        total += kClasses[c].weight;
    double x = std::uniform_real_distribution<double>(0, total)(random);
    int c = 0;
    while (c + 1 < classes && x >= kClasses[c].weight)
        x -= kClasses[c++].weight;
    return pickFrom(random, SizeClass(c));
}

const PoolMessage &PayloadPool::pickFrom(std::mt19937_64 &random, SizeClass sizeClass) const
{
    const std::vector<PoolMessage> &list = m_classes[sizeClass];
    return list[size_t(random() % list.size())];
}

size_t PayloadPool::totalBytes() const
{
    size_t total = 0;
    for (const std::vector<PoolMessage> &list : m_classes)
        for (const PoolMessage &message : list)
            total += message.payload.size() + message.compressed.size();
    return total;
}

} // namespace soak
