#pragma once

// A number of bytes that many receivers, in any threads, draw from for the
// messages they are receiving: the bound on what they hold together.

#include <QtCore/qglobal.h>

#include <atomic>

namespace wsqt::core {

class MemoryBudget
{
public:
    explicit MemoryBudget(quint64 limit) : m_limit(limit) { }
    MemoryBudget(const MemoryBudget &) = delete;
    MemoryBudget &operator=(const MemoryBudget &) = delete;

    // Takes `bytes` when that many are left; false, taking nothing, otherwise.
    bool take(quint64 bytes)
    {
        quint64 used = m_used.load(std::memory_order_relaxed);
        do {
            if (bytes > m_limit - used)
                return false;
        } while (!m_used.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
        return true;
    }
    void giveBack(quint64 bytes) { m_used.fetch_sub(bytes, std::memory_order_relaxed); }

    quint64 used() const { return m_used.load(std::memory_order_relaxed); }
    quint64 limit() const { return m_limit; }

private:
    const quint64 m_limit;
    std::atomic<quint64> m_used{0};
};

} // namespace wsqt::core
