#pragma once

// The traffic of a soak run: a pool of WebSocket connections on one epoll
// loop, opened and closed continually. Each connection follows a plan drawn
// when it opens: a number of turns (a burst of messages, their echoes
// awaited and checked, a pause), then a close handshake; some stop reading
// for a while on one turn; a share are faulted instead at a random turn
// (resets, half-closes, a client that never reads again).

#include "payloadpool.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

namespace soak {

using Clock = std::chrono::steady_clock;

struct SoakConfig
{
    std::string host = "127.0.0.1";
    int port = 0;
    int connections = 300;      // the pool size kept open
    int thinkMs = 1000;         // pause between a connection's turns: uniform in [0, thinkMs]
    double faultShare = 0.2;    // of the connections
    uint64_t seed = 0;
};

enum class Fault {
    None,
    ResetInHandshake,       // part of the upgrade request (or all of it), then a TCP reset
    StallInHandshake,       // part of the upgrade request, then silence: the server's handshake timeout
    ResetIdle,              // a reset between turns
    ResetMidMessage,        // a reset with a message partly sent
    ResetAwaitingEchoes,    // a reset right after a burst, its echoes in flight
    ResetAfterClose,        // a reset right after our close frame
    HalfCloseIdle,          // shutdown(SHUT_WR) without a close frame, between turns
    HalfCloseMidMessage,    // the same with a message partly sent
    NeverReads,             // sends until blocked and never reads again: the server must drop it
    Count
};

const char *faultName(Fault fault);
// Whether the fault leaves it to the server to end the connection.
bool serverEndsAfter(Fault fault);

struct FaultOutcome
{
    uint64_t performed = 0;
    // Where the fault leaves the server to end the connection: how often,
    // and how long it took at most.
    uint64_t endedByServer = 0;
    double slowestEndSeconds = 0;
};

struct Counters
{
    uint64_t opened = 0;
    uint64_t closedNormally = 0;
    uint64_t messagesSent = 0;
    uint64_t compressedSent = 0;
    uint64_t fragmentedSent = 0;
    uint64_t messagesVerified = 0;
    uint64_t bytesVerified = 0;     // payload bytes of the echoes verified
    uint64_t compressedEchoes = 0;
    uint64_t pingsVerified = 0;
    uint64_t stallsVerified = 0;    // turns that stopped reading, then got every echo
    FaultOutcome faults[int(Fault::Count)];
    std::map<std::string, uint64_t> errors;

    uint64_t errorCount() const;
};

class SoakDriver
{
public:
    SoakDriver(const SoakConfig &config, const PayloadPool &pool);
    ~SoakDriver();
    SoakDriver(const SoakDriver &) = delete;
    SoakDriver &operator=(const SoakDriver &) = delete;

    bool init(std::string *error);
    // Runs the traffic until `deadline` (earlier once draining is over).
    void runUntil(Clock::time_point deadline);
    // Opens no more connections and closes the open ones normally; what is
    // left after `limit` counts as an error and is reset.
    void drain(Clock::duration limit);

    int openConnections() const { return int(m_connections.size()); }
    const Counters &counters() const { return m_counters; }

private:
    struct Connection;
    struct FrameSink;

    void openConnection(Clock::time_point now);
    void onEvent(Connection &c, uint32_t events, Clock::time_point now);
    void onConnected(Connection &c, Clock::time_point now);
    void onReadable(Connection &c, Clock::time_point now);
    void onHandshakeData(Connection &c, Clock::time_point now);
    // The server ended the connection: error 0 for a FIN, else the errno.
    void onEnded(Connection &c, int error, Clock::time_point now);
    void onEcho(Connection &c, Clock::time_point now);
    void onPong(Connection &c, Clock::time_point now);
    void onCloseFrame(Connection &c);
    void feed(Connection &c, uint8_t *data, size_t length, Clock::time_point now);
    void tick(Clock::time_point now);
    void startTurn(Connection &c, Clock::time_point now);
    void finishTurnIfDone(Connection &c, Clock::time_point now);
    void strike(Connection &c, Clock::time_point now);
    void beginClose(Connection &c, Clock::time_point now);

    // Appends a burst of messages (and maybe pings); returns where its last
    // message starts in the connection's output.
    size_t appendBurst(Connection &c, bool stall);
    size_t appendMessage(Connection &c, const PoolMessage &message, bool expectEcho);
    void appendPing(Connection &c);
    void appendClose(Connection &c);
    void flush(Connection &c, Clock::time_point now);
    void updateInterest(Connection &c);

    void halfClose(Connection &c, Clock::time_point now);
    void end(Connection &c, bool reset);
    void fail(Connection &c, const std::string &kind, const std::string &detail);
    void recordServerEnd(Connection &c, Clock::time_point now);

    Fault drawFault();
    bool largeAllowed() const;
    bool chance(double p);
    std::string describe(const Connection &c) const;

    const SoakConfig m_config;
    const PayloadPool &m_pool;
    std::mt19937_64 m_random;
    int m_epoll = -1;
    uint64_t m_nextId = 1;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> m_connections;
    bool m_stopping = false;
    bool m_neverReadsPlanned = false;   // one such connection at a time
    size_t m_largeInFlight = 0;
    Clock::time_point m_start;
    Counters m_counters;
    std::string m_readBuffer = std::string(256 * 1024, '\0');
};

} // namespace soak
