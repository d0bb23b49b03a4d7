#pragma once

/// \file
/// WsStatistics and WsServerStatistics: traffic counters.

#include <wsqt/wsqt_global.h>

#include <QtCore/qmetatype.h>

/// Traffic counters of a connection, or of all of a server's connections.
struct WSQT_EXPORT WsStatistics
{
    qint64 messagesReceived = 0;    ///< whole messages
    qint64 messagesSent = 0;        ///< whole messages: a fragmented send counts when its last part is sent
    qint64 bytesReceived = 0;       ///< message payloads, after decompression
    qint64 bytesSent = 0;           ///< message payloads, before compression
    qint64 wireBytesReceived = 0;   ///< read from the network, framing included
    qint64 wireBytesSent = 0;       ///< handed to the network, framing included
    qint64 bufferedAmount = 0;      ///< as WsSocket::bufferedAmount()
    /// Milliseconds between the last ping sent and the pong that answered it; -1 when unknown.
    int roundTripTime = -1;

    /// Payload bytes per wire byte received; above 1 when compression pays off.
    double compressionRatioReceived() const
    {
        return wireBytesReceived ? double(bytesReceived) / double(wireBytesReceived) : 0.0;
    }
    /// Payload bytes per wire byte sent; above 1 when compression pays off.
    double compressionRatioSent() const
    {
        return wireBytesSent ? double(bytesSent) / double(wireBytesSent) : 0.0;
    }

    /// Adds the counters of `other`; roundTripTime stays as it is.
    WsStatistics &operator+=(const WsStatistics &other)
    {
        messagesReceived += other.messagesReceived;
        messagesSent += other.messagesSent;
        bytesReceived += other.bytesReceived;
        bytesSent += other.bytesSent;
        wireBytesReceived += other.wireBytesReceived;
        wireBytesSent += other.wireBytesSent;
        bufferedAmount += other.bufferedAmount;
        return *this;
    }
};

/// A server's traffic: the WsStatistics of every connection it has had,
/// summed (bufferedAmount and roundTripTime are not filled), and connection
/// counts.
struct WSQT_EXPORT WsServerStatistics : WsStatistics
{
    qint64 connectionsAccepted = 0;     ///< upgrades completed
    qint64 connectionsOpen = 0;         ///< connections open now
    qint64 handshakesRefused = 0;       ///< answered with an error status
};

Q_DECLARE_METATYPE(WsStatistics)
Q_DECLARE_METATYPE(WsServerStatistics)
