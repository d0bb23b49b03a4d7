#pragma once

// A server's counters. Traffic is counted per thread: the connections of one
// thread add to their own block with plain stores, and statistics() sums the
// blocks, so that busy worker threads never contend for one cache line.

#include <wsqt/wsstatistics.h>

#include <QtCore/qhash.h>
#include <QtCore/qmutex.h>

#include <atomic>
#include <memory>

class QThread;

namespace wsqt::transport {

// Written by one thread only, read by any.
class SingleWriterCounter
{
public:
    void add(qint64 amount)
    {
        m_value.store(m_value.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }
    qint64 value() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<qint64> m_value{0};
};

struct TrafficCounters
{
    SingleWriterCounter messagesReceived;
    SingleWriterCounter messagesSent;
    SingleWriterCounter bytesReceived;
    SingleWriterCounter bytesSent;
    SingleWriterCounter wireBytesReceived;
    SingleWriterCounter wireBytesSent;
};

class ServerCounters
{
public:
    std::atomic<qint64> connectionsAccepted{0};
    std::atomic<qint64> connectionsOpen{0};
    std::atomic<qint64> handshakesRefused{0};

    // The block for the connections that live in `thread`.
    std::shared_ptr<TrafficCounters> trafficFor(QThread *thread)
    {
        QMutexLocker locker(&m_mutex);
        std::shared_ptr<TrafficCounters> &block = m_traffic[thread];
        if (!block)
            block = std::make_shared<TrafficCounters>();
        return block;
    }

    WsServerStatistics snapshot() const
    {
        WsServerStatistics result;
        {
            QMutexLocker locker(&m_mutex);
            for (const std::shared_ptr<TrafficCounters> &block : m_traffic) {
                result.messagesReceived += block->messagesReceived.value();
                result.messagesSent += block->messagesSent.value();
                result.bytesReceived += block->bytesReceived.value();
                result.bytesSent += block->bytesSent.value();
                result.wireBytesReceived += block->wireBytesReceived.value();
                result.wireBytesSent += block->wireBytesSent.value();
            }
        }
        result.connectionsAccepted = connectionsAccepted;
        result.connectionsOpen = connectionsOpen;
        result.handshakesRefused = handshakesRefused;
        return result;
    }

private:
    mutable QMutex m_mutex;
    QHash<QThread *, std::shared_ptr<TrafficCounters>> m_traffic;
};

} // namespace wsqt::transport
