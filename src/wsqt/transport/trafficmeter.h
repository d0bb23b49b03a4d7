#pragma once

// Counts a connection's traffic, in one call per event, in its own
// statistics and, on a server's connection, in the server's counters for
// the connection's thread.

#include "servercounters.h"

#include <wsqt/wsstatistics.h>

namespace wsqt::transport {

class TrafficMeter
{
public:
    TrafficMeter(WsStatistics &own, TrafficCounters *server) : m_own(own), m_server(server) {}

    void wireReceived(qint64 bytes)
    {
        m_own.wireBytesReceived += bytes;
        if (m_server)
            m_server->wireBytesReceived.add(bytes);
    }
    void messageReceived(qint64 size)
    {
        ++m_own.messagesReceived;
        m_own.bytesReceived += size;
        if (m_server) {
            m_server->messagesReceived.add(1);
            m_server->bytesReceived.add(size);
        }
    }
    // A message's payload, or a fragment's (endsMessage false until the last).
    void dataSent(qint64 size, bool endsMessage)
    {
        m_own.bytesSent += size;
        if (endsMessage)
            ++m_own.messagesSent;
        if (m_server) {
            m_server->bytesSent.add(size);
            if (endsMessage)
                m_server->messagesSent.add(1);
        }
    }
    // Bytes handed to the transport. The connection's own count is what it
    // handed over and still holds (WsSocket::statistics()); only the
    // server's is kept here.
    void wireSent(qint64 bytes)
    {
        if (m_server)
            m_server->wireBytesSent.add(bytes);
    }

private:
    WsStatistics &m_own;
    TrafficCounters *m_server;
};

} // namespace wsqt::transport
