#include "random.h"

#include <QtCore/qrandom.h>

#include <cstring>

namespace wsqt::core {

namespace {

struct RandomPool
{
    static constexpr std::size_t kSize = 8192;
    quint32 words[kSize / sizeof(quint32)];
    std::size_t used = kSize;
};

} // namespace

void fillRandom(uchar *out, std::size_t length)
{
    thread_local RandomPool pool;
    while (length > 0) {
        if (pool.used == RandomPool::kSize) {
            QRandomGenerator::system()->fillRange(pool.words);
            pool.used = 0;
        }
        const std::size_t n = std::min(length, RandomPool::kSize - pool.used);
        auto *bytes = reinterpret_cast<uchar *>(pool.words);
        std::memcpy(out, bytes + pool.used, n);
        pool.used += n;
        out += n;
        length -= n;
    }
}

} // namespace wsqt::core
