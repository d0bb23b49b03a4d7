#pragma once

// A server's traffic counters, updated by its connections from whatever
// thread they live in.

#include <wsqt/wsstatistics.h>

#include <atomic>

namespace wsqt::transport {

struct ServerCounters
{
    std::atomic<qint64> messagesReceived{0};
    std::atomic<qint64> messagesSent{0};
    std::atomic<qint64> bytesReceived{0};
    std::atomic<qint64> bytesSent{0};
    std::atomic<qint64> wireBytesReceived{0};
    std::atomic<qint64> wireBytesSent{0};
    std::atomic<qint64> connectionsAccepted{0};
    std::atomic<qint64> connectionsOpen{0};
    std::atomic<qint64> handshakesRefused{0};

    WsServerStatistics snapshot() const
    {
        WsServerStatistics result;
        result.messagesReceived = messagesReceived;
        result.messagesSent = messagesSent;
        result.bytesReceived = bytesReceived;
        result.bytesSent = bytesSent;
        result.wireBytesReceived = wireBytesReceived;
        result.wireBytesSent = wireBytesSent;
        result.connectionsAccepted = connectionsAccepted;
        result.connectionsOpen = connectionsOpen;
        result.handshakesRefused = handshakesRefused;
        return result;
    }
};

} // namespace wsqt::transport
