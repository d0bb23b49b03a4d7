#include "soakdriver.h"

#include "deflate.h"
#include "frames.h"
#include "handshake.h"
#include "net.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <vector>

namespace soak {

namespace {

using namespace std::chrono_literals;
using loadgen::Opcode;

// Shares of the traffic, and the limits that keep it within what two cores
// and the server's own limits (maxReceiveMemory, 256 MiB) allow.
constexpr double kDeflateOfferShare = 0.5;     // connections offering permessage-deflate
constexpr double kCompressShare = 0.7;         // messages compressed where negotiated
constexpr double kFragmentShare = 0.15;        // messages sent in 2 to 6 frames
constexpr double kPingShare = 0.1;             // turns that ping
constexpr double kStallShare = 0.05;           // unfaulted connections that stop reading on one turn
constexpr double kCloseInFlightShare = 0.3;    // normal closes sent with echoes still due
constexpr size_t kLargeBudget = 48u << 20;     // bytes of large messages awaiting their echo
constexpr size_t kNeverReadsPush = 64u << 20;  // the most a never-reading client sends
constexpr int kConnectBatch = 32;              // under a QTcpServer's 50-connection accept queue

// Waits after which the server has failed: every one is well past the
// server's own timeouts (handshakeTimeout 10 s, backpressureTimeout 30 s,
// closeTimeout 30 s, which may run one after the other).
constexpr auto kHandshakeLimit = 30s;
constexpr auto kEchoLimit = 60s;
constexpr auto kCloseLimit = 30s;
constexpr auto kServerEndLimit = 60s;      // after a half-close or a stalled handshake
constexpr auto kNeverReadsLimit = 150s;

double secondsBetween(Clock::time_point from, Clock::time_point to)
{
    return std::chrono::duration<double>(to - from).count();
}

} // namespace

const char *faultName(Fault fault)
{
    switch (fault) {
    case Fault::None: return "none";
    case Fault::ResetInHandshake: return "reset in the handshake";
    case Fault::StallInHandshake: return "stall in the handshake";
    case Fault::ResetIdle: return "reset between messages";
    case Fault::ResetMidMessage: return "reset mid-message";
    case Fault::ResetAwaitingEchoes: return "reset with echoes due";
    case Fault::ResetAfterClose: return "reset after a close frame";
    case Fault::HalfCloseIdle: return "half-close between messages";
    case Fault::HalfCloseMidMessage: return "half-close mid-message";
    case Fault::NeverReads: return "never reads again";
    case Fault::Count: break;
    }
    return "?";
}

bool serverEndsAfter(Fault fault)
{
    return fault == Fault::StallInHandshake || fault == Fault::HalfCloseIdle || fault == Fault::HalfCloseMidMessage
            || fault == Fault::NeverReads;
}

uint64_t Counters::errorCount() const
{
    uint64_t total = 0;
    for (const auto &entry : errors)
        total += entry.second;
    return total;
}

struct SoakDriver::Connection
{
    enum class State {
        Connecting,     // TCP connect under way
        Handshaking,    // upgrade request sent
        Idle,           // open, pausing until wakeAt
        Busy,           // open, a burst's echoes and pongs due
        Closing,        // our close frame sent: the server's close, then its FIN, due
        Draining,       // faulted, our side shut: reading until the server ends it
        NeverReading,   // faulted: reading no more, waiting for the server to drop it
    };
    // What to do once the output is all written (the faults that cut it short).
    enum class AfterFlush { Nothing, Reset, HalfClose };

    uint64_t id = 0;
    int fd = -1;
    State state = State::Connecting;
    bool done = false;
    bool registered = false;        // with epoll
    uint32_t interest = 0;

    // The plan. Turns count down; a fault strikes, and a stall happens, when
    // turnsLeft reaches their turn.
    bool offerDeflate = false;
    Fault fault = Fault::None;
    int turnsLeft = 0;
    int faultTurn = 0;
    int stallTurn = 0;
    bool stalling = false;          // reading nothing until wakeAt
    bool stalledThisTurn = false;

    Clock::time_point since;        // the current state began
    Clock::time_point wakeAt;       // Idle: the next turn; stalling: reading again
    Clock::time_point lastProgress; // bytes last arrived

    std::string key;
    std::string handshake;          // the response head as it arrives
    bool upgraded = false;
    loadgen::DeflateParams deflate;
    bool compressAllowed = false;
    std::unique_ptr<loadgen::Inflater> inflater;

    std::string out;
    size_t outPos = 0;
    AfterFlush afterFlush = AfterFlush::Nothing;
    size_t neverReadsPushed = 0;

    std::deque<const PoolMessage *> echoes;     // due, in order
    std::deque<std::string> pongs;              // ping payloads, in order
    size_t largeBytes = 0;                      // of `echoes`, in the large budget
    int closeSent = -1;                         // our close code; 0: a close frame without one
    std::string closeReasonSent;
    bool closeReceived = false;

    loadgen::FrameReader reader;
    uint8_t frameOpcode = 0;
    bool frameFin = false;
    bool inMessage = false;
    bool messageCompressed = false;
    uint64_t messageBytes = 0;
    std::string compressedIn;
    std::string control;
};

// Checks the frames of one read as they are parsed; any error ends the
// connection (fail() marks it done, and the rest of the read is skipped).
struct SoakDriver::FrameSink
{
    SoakDriver &driver;
    Connection &c;
    Clock::time_point now;

    void header(const loadgen::FrameHeader &h)
    {
        if (c.done)
            return;
        c.frameOpcode = h.opcode;
        c.frameFin = h.fin;
        if (h.masked)
            return driver.fail(c, "masked frame", "from the server");
        if (h.opcode >= Opcode::Close) {
            if (h.opcode != Opcode::Close && h.opcode != Opcode::Pong)
                return driver.fail(c, "unexpected control frame", "opcode " + std::to_string(h.opcode));
            c.control.clear();
            return;
        }
        if (c.closeReceived)
            return driver.fail(c, "data after the close frame", "");
        if (h.opcode == Opcode::Continuation) {
            if (!c.inMessage || h.rsv1)
                driver.fail(c, "unexpected continuation frame", "");
            return;
        }
        if (h.opcode != Opcode::Text && h.opcode != Opcode::Binary)
            return driver.fail(c, "reserved opcode", std::to_string(h.opcode));
        if (c.inMessage)
            return driver.fail(c, "message inside a message", "");
        if (h.rsv1 && !c.deflate.enabled)
            return driver.fail(c, "RSV1 without permessage-deflate", "");
        if (c.echoes.empty())
            return driver.fail(c, "message not sent", "an echo arrived with none due");
        if ((h.opcode == Opcode::Text) != c.echoes.front()->text)
            return driver.fail(c, "echo mismatch", "the echo has the other opcode (text/binary)");
        c.inMessage = true;
        c.messageCompressed = h.rsv1;
        c.messageBytes = 0;
        c.compressedIn.clear();
    }

    void payload(uint8_t *data, size_t length)
    {
        if (c.done)
            return;
        const char *bytes = reinterpret_cast<const char *>(data);
        if (c.frameOpcode >= Opcode::Close) {
            c.control.append(bytes, length);
        } else if (c.messageCompressed) {
            c.compressedIn.append(bytes, length);
        } else {
            const std::string &expected = c.echoes.front()->payload;
            if (c.messageBytes + length > expected.size()
                || expected.compare(size_t(c.messageBytes), length, bytes, length) != 0)
                return driver.fail(c, "echo mismatch", "the payload differs from the message sent");
            c.messageBytes += length;
        }
    }

    void frameEnd()
    {
        if (c.done)
            return;
        if (c.frameOpcode == Opcode::Close)
            driver.onCloseFrame(c);
        else if (c.frameOpcode == Opcode::Pong)
            driver.onPong(c, now);
        else if (c.frameFin)
            driver.onEcho(c, now);
    }
};

SoakDriver::SoakDriver(const SoakConfig &config, const PayloadPool &pool)
    : m_config(config), m_pool(pool), m_random(config.seed)
{
}

SoakDriver::~SoakDriver()
{
    for (auto &entry : m_connections)
        close(entry.second->fd);
    if (m_epoll >= 0)
        close(m_epoll);
}

bool SoakDriver::init(std::string *error)
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) {
        *error = std::string("epoll_create1: ") + std::strerror(errno);
        return false;
    }
    m_start = Clock::now();
    return true;
}

bool SoakDriver::chance(double p)
{
    return std::uniform_real_distribution<double>(0, 1)(m_random) < p;
}

bool SoakDriver::largeAllowed() const
{
    // Room for the largest message.
    return m_largeInFlight + (4u << 20) <= kLargeBudget;
}

Fault SoakDriver::drawFault()
{
    for (;;) {
        const auto fault = Fault(1 + m_random() % (int(Fault::Count) - 1));
        if (fault != Fault::NeverReads)
            return fault;
        // Each pushes tens of MiB and lasts a minute: one at a time.
        if (!m_neverReadsPlanned) {
            m_neverReadsPlanned = true;
            return fault;
        }
    }
}

std::string SoakDriver::describe(const Connection &c) const
{
    std::string text = "connection #" + std::to_string(c.id) + (c.deflate.enabled ? ", deflate" : "");
    if (c.fault != Fault::None)
        text += std::string(", planned fault: ") + faultName(c.fault);
    return text;
}

void SoakDriver::openConnection(Clock::time_point now)
{
    const int fd = loadgen::startConnect(m_config.host, m_config.port);
    const int connectErrno = errno;
    auto c = std::make_unique<Connection>();
    c->id = m_nextId++;
    c->fd = fd;
    c->since = now;
    c->lastProgress = now;
    c->offerDeflate = chance(kDeflateOfferShare);
    // Mostly short lives, some of minutes: churn, and connections that age.
    const double life = std::uniform_real_distribution<double>(0, 1)(m_random);
    c->turnsLeft = life < 0.70 ? 1 + int(m_random() % 10)
                 : life < 0.95 ? 10 + int(m_random() % 91)
                               : 100 + int(m_random() % 1901);
    if (chance(m_config.faultShare)) {
        c->fault = drawFault();
        // Anywhere in the connection's life; a never-reading client early,
        // as it holds the only place for one.
        const int span = c->fault == Fault::NeverReads ? std::min(c->turnsLeft, 5) : c->turnsLeft;
        c->faultTurn = c->turnsLeft - int(m_random() % unsigned(span));
    } else if (chance(kStallShare)) {
        c->stallTurn = 1 + int(m_random() % unsigned(c->turnsLeft));
    }
    ++m_counters.opened;
    Connection &connection = *c;
    m_connections.emplace(c->id, std::move(c));
    if (fd < 0)
        return fail(connection, "connect failed", std::strerror(connectErrno));
    updateInterest(connection);
}

void SoakDriver::updateInterest(Connection &c)
{
    uint32_t events = 0;
    switch (c.state) {
    case Connection::State::Connecting:
        events = EPOLLOUT;
        break;
    case Connection::State::NeverReading:
        // Not reading, but told when the server ends the connection.
        events = EPOLLRDHUP;
        break;
    default:
        events = c.stalling ? 0u : uint32_t(EPOLLIN);
        break;
    }
    if (c.outPos < c.out.size())
        events |= EPOLLOUT;
    if (c.registered && events == c.interest)
        return;
    epoll_event event = {};
    event.events = events;
    event.data.u64 = c.id;
    epoll_ctl(m_epoll, c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &event);
    c.registered = true;
    c.interest = events;
}

void SoakDriver::onEvent(Connection &c, uint32_t events, Clock::time_point now)
{
    switch (c.state) {
    case Connection::State::Connecting:
        return onConnected(c, now);
    case Connection::State::NeverReading:
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            return onEnded(c, loadgen::connectError(c.fd), now);
        return flush(c, now);
    default:
        break;
    }
    // A stalled connection reads nothing, but an error or hang-up must not
    // spin the loop: read it now.
    if (events & (EPOLLHUP | EPOLLERR))
        c.stalling = false;
    if (!c.stalling && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        onReadable(c, now);
    if (!c.done && (events & EPOLLOUT))
        flush(c, now);
}

void SoakDriver::onConnected(Connection &c, Clock::time_point now)
{
    if (const int error = loadgen::connectError(c.fd))
        return fail(c, "connect failed", std::strerror(error));
    c.key = loadgen::makeKey();
    std::string request = loadgen::clientRequest(m_config.host, m_config.port, "/", c.key, c.offerDeflate);
    c.since = now;
    c.lastProgress = now;
    if (c.fault == Fault::ResetInHandshake || c.fault == Fault::StallInHandshake) {
        ++m_counters.faults[int(c.fault)].performed;
        // A reset may follow the whole request; a stall leaves it unfinished.
        const size_t whole = c.fault == Fault::ResetInHandshake ? 1 : 0;
        request.resize(1 + m_random() % (request.size() - 1 + whole));
    }
    // A fresh socket's send buffer takes a request of this size whole.
    if (send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
        return fail(c, "handshake", std::string("cannot send the request: ") + std::strerror(errno));
    if (c.fault == Fault::ResetInHandshake)
        return end(c, true);
    c.state = c.fault == Fault::StallInHandshake ? Connection::State::Draining : Connection::State::Handshaking;
    updateInterest(c);
}

void SoakDriver::onReadable(Connection &c, Clock::time_point now)
{
    for (;;) {
        const ssize_t received = read(c.fd, &m_readBuffer[0], m_readBuffer.size());
        if (received == 0)
            return onEnded(c, 0, now);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            return onEnded(c, errno, now);
        }
        c.lastProgress = now;
        if (c.state == Connection::State::Handshaking) {
            c.handshake.append(m_readBuffer.data(), size_t(received));
            onHandshakeData(c, now);
        } else if (c.upgraded) {
            // (A stalled handshake may get an HTTP error answer: not frames.)
            feed(c, reinterpret_cast<uint8_t *>(&m_readBuffer[0]), size_t(received), now);
        }
        if (c.done || size_t(received) < m_readBuffer.size())
            return;
    }
}

void SoakDriver::onHandshakeData(Connection &c, Clock::time_point now)
{
    const size_t end = c.handshake.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c.handshake.size() > 16384)
            fail(c, "handshake", "oversized response");
        return;
    }
    std::string error;
    if (!loadgen::checkResponse(c.handshake.substr(0, end), c.key, c.offerDeflate, &c.deflate, &error))
        return fail(c, "handshake", error);
    std::string early = c.handshake.substr(end + 4);
    c.handshake = std::string();
    c.upgraded = true;
    // The pool's compressed forms use a 15-bit window: where the server asks
    // for a smaller one, this connection sends uncompressed messages only.
    c.compressAllowed = c.deflate.enabled && c.deflate.clientMaxWindowBits == 15;
    if (c.deflate.enabled)
        c.inflater = std::make_unique<loadgen::Inflater>();
    c.state = Connection::State::Idle;
    c.wakeAt = now;
    if (!early.empty())
        feed(c, reinterpret_cast<uint8_t *>(&early[0]), early.size(), now);
}

void SoakDriver::feed(Connection &c, uint8_t *data, size_t length, Clock::time_point now)
{
    FrameSink sink{*this, c, now};
    if (!c.reader.feed(data, length, sink) && !c.done)
        fail(c, "malformed frame", "from the server");
}

void SoakDriver::onEnded(Connection &c, int error, Clock::time_point now)
{
    const std::string how = error ? std::strerror(error) : "closed";
    switch (c.state) {
    case Connection::State::Closing:
        if (c.closeReceived && !error) {
            ++m_counters.closedNormally;
            return end(c, false);
        }
        return fail(c, c.closeReceived ? "closing handshake" : "server ended a connection",
                    (c.closeReceived ? "after its close frame: " : "before its close frame: ") + how);
    case Connection::State::Draining:
    case Connection::State::NeverReading:
        recordServerEnd(c, now);
        return end(c, false);
    default:
        return fail(c, "server ended a connection", how + " while " + (c.upgraded ? "open" : "handshaking"));
    }
}

void SoakDriver::recordServerEnd(Connection &c, Clock::time_point now)
{
    FaultOutcome &outcome = m_counters.faults[int(c.fault)];
    ++outcome.endedByServer;
    outcome.slowestEndSeconds = std::max(outcome.slowestEndSeconds, secondsBetween(c.since, now));
}

void SoakDriver::onEcho(Connection &c, Clock::time_point now)
{
    c.inMessage = false;
    const PoolMessage &expected = *c.echoes.front();
    if (c.messageCompressed) {
        std::string message;
        if (!c.inflater->decompress(c.compressedIn, &message, c.deflate.serverNoContextTakeover))
            return fail(c, "inflate", "cannot inflate an echo");
        if (message != expected.payload)
            return fail(c, "echo mismatch", "the inflated payload differs from the message sent");
        ++m_counters.compressedEchoes;
    } else if (c.messageBytes != expected.payload.size()) {
        return fail(c, "echo mismatch", std::to_string(c.messageBytes) + " bytes instead of "
                                            + std::to_string(expected.payload.size()));
    }
    ++m_counters.messagesVerified;
    m_counters.bytesVerified += expected.payload.size();
    if (expected.payload.size() > PayloadPool::kLargeSize) {
        c.largeBytes -= expected.payload.size();
        m_largeInFlight -= expected.payload.size();
    }
    c.echoes.pop_front();
    finishTurnIfDone(c, now);
}

void SoakDriver::onPong(Connection &c, Clock::time_point now)
{
    if (c.pongs.empty())
        return fail(c, "unexpected pong", "none was due");
    if (c.control != c.pongs.front())
        return fail(c, "pong mismatch", "the payload differs from the ping's");
    c.pongs.pop_front();
    ++m_counters.pingsVerified;
    finishTurnIfDone(c, now);
}

void SoakDriver::onCloseFrame(Connection &c)
{
    int code = 0;
    std::string reason;
    if (c.control.size() == 1)
        return fail(c, "malformed close frame", "a one-byte payload");
    if (c.control.size() >= 2) {
        code = (uint8_t(c.control[0]) << 8) | uint8_t(c.control[1]);
        reason = c.control.substr(2);
    }
    c.closeReceived = true;
    if (c.state == Connection::State::Draining)
        return;     // a faulted connection: whatever the server says
    if (c.state != Connection::State::Closing)
        return fail(c, "server closed a connection", "close frame " + std::to_string(code) + " " + reason);
    if (!c.echoes.empty() || !c.pongs.empty()) {
        std::string sizes;
        for (const PoolMessage *message : c.echoes)
            sizes += (sizes.empty() ? "" : ", ") + std::to_string(message->payload.size());
        return fail(c, "close reply before the echoes",
                    std::to_string(c.echoes.size()) + " echoes (of " + sizes + " bytes) and "
                            + std::to_string(c.pongs.size()) + " pongs still due");
    }
    // ws echoes the code and reason, and answers a bare close frame with one.
    if (code != c.closeSent || reason != c.closeReasonSent)
        fail(c, "close reply differs", "sent " + std::to_string(c.closeSent) + " '" + c.closeReasonSent
                                               + "', got " + std::to_string(code) + " '" + reason + "'");
}

void SoakDriver::finishTurnIfDone(Connection &c, Clock::time_point now)
{
    if (c.state != Connection::State::Busy || !c.echoes.empty() || !c.pongs.empty())
        return;
    c.state = Connection::State::Idle;
    if (c.stalledThisTurn) {
        ++m_counters.stallsVerified;
        c.stalledThisTurn = false;
    }
    const auto pause = std::chrono::milliseconds(m_random() % unsigned(m_config.thinkMs + 1));
    c.wakeAt = m_stopping ? now : now + pause;
}

void SoakDriver::startTurn(Connection &c, Clock::time_point now)
{
    if (m_stopping || c.turnsLeft == 0)
        return beginClose(c, now);
    if (c.fault != Fault::None && c.turnsLeft == c.faultTurn)
        return strike(c, now);
    const bool stall = c.turnsLeft == c.stallTurn;
    const bool last = --c.turnsLeft == 0;
    appendBurst(c, stall);
    c.state = Connection::State::Busy;
    c.since = now;
    c.lastProgress = now;
    if (stall) {
        // Well under the server's backpressureTimeout: every echo must still come.
        c.stalling = true;
        c.stalledThisTurn = true;
        c.wakeAt = now + std::chrono::milliseconds(2000 + m_random() % 13001);
    }
    if (last && !stall && chance(kCloseInFlightShare))
        return beginClose(c, now);
    flush(c, now);
}

size_t SoakDriver::appendBurst(Connection &c, bool stall)
{
    int count = 1;
    if (stall) {
        count = 3 + int(m_random() % 6);
    } else {
        const double r = std::uniform_real_distribution<double>(0, 1)(m_random);
        count = r < 0.6 ? 1 : r < 0.85 ? 2 : 3 + int(m_random() % 2);
    }
    const bool ping = chance(kPingShare);
    size_t lastStart = 0;
    for (int i = 0; i < count; ++i) {
        if (ping && i == 0)
            appendPing(c);
        // A stalled reader gets large echoes, to fill the buffers between it and the server.
        const PoolMessage &message = stall
                ? m_pool.pickFrom(m_random, largeAllowed() ? PayloadPool::Large : PayloadPool::Medium)
                : m_pool.pick(m_random, largeAllowed());
        lastStart = appendMessage(c, message, true);
    }
    return lastStart;
}

size_t SoakDriver::appendMessage(Connection &c, const PoolMessage &message, bool expectEcho)
{
    const size_t start = c.out.size();
    const bool compress = c.compressAllowed && chance(kCompressShare);
    const std::string &body = compress ? message.compressed : message.payload;
    const int fragments = chance(kFragmentShare) ? 2 + int(m_random() % 5) : 1;
    // Cut anywhere, so fragments may be empty and split UTF-8 sequences.
    std::vector<size_t> cuts;
    for (int i = 1; i < fragments; ++i)
        cuts.push_back(body.empty() ? 0 : m_random() % (body.size() + 1));
    cuts.push_back(body.size());
    std::sort(cuts.begin(), cuts.end());
    size_t from = 0;
    for (int i = 0; i < fragments; ++i) {
        const uint8_t opcode = i > 0 ? Opcode::Continuation : message.text ? Opcode::Text : Opcode::Binary;
        const uint32_t mask = uint32_t(m_random());
        loadgen::appendFrame(c.out, opcode, i + 1 == fragments, compress && i == 0,
                             reinterpret_cast<const uint8_t *>(&mask), body.data() + from, cuts[size_t(i)] - from);
        from = cuts[size_t(i)];
        // A control frame may come between the fragments of a message.
        if (fragments > 1 && i == 0 && chance(0.3))
            appendPing(c);
    }
    ++m_counters.messagesSent;
    m_counters.compressedSent += compress;
    m_counters.fragmentedSent += fragments > 1;
    if (expectEcho) {
        c.echoes.push_back(&message);
        if (message.payload.size() > PayloadPool::kLargeSize) {
            c.largeBytes += message.payload.size();
            m_largeInFlight += message.payload.size();
        }
    }
    return start;
}

void SoakDriver::appendPing(Connection &c)
{
    std::string payload(m_random() % 126, '\0');
    for (char &byte : payload)
        byte = char(m_random());
    const uint32_t mask = uint32_t(m_random());
    loadgen::appendFrame(c.out, Opcode::Ping, true, false, reinterpret_cast<const uint8_t *>(&mask),
                         payload.data(), payload.size());
    c.pongs.push_back(std::move(payload));
}

void SoakDriver::appendClose(Connection &c)
{
    // Mostly 1000; also 1001, an application code with a reason, and a bare
    // close frame (which the server answers with a bare one).
    const double r = std::uniform_real_distribution<double>(0, 1)(m_random);
    c.closeSent = r < 0.7 ? 1000 : r < 0.8 ? 1001 : r < 0.9 ? 4000 + int(m_random() % 1000) : 0;
    c.closeReasonSent = c.closeSent >= 4000 ? "soak #" + std::to_string(c.id) : std::string();
    std::string payload;
    if (c.closeSent != 0) {
        payload += char(c.closeSent >> 8);
        payload += char(c.closeSent & 0xff);
        payload += c.closeReasonSent;
    }
    const uint32_t mask = uint32_t(m_random());
    loadgen::appendFrame(c.out, Opcode::Close, true, false, reinterpret_cast<const uint8_t *>(&mask),
                         payload.data(), payload.size());
}

void SoakDriver::beginClose(Connection &c, Clock::time_point now)
{
    appendClose(c);
    c.state = Connection::State::Closing;
    c.since = now;
    flush(c, now);
}

void SoakDriver::strike(Connection &c, Clock::time_point now)
{
    ++m_counters.faults[int(c.fault)].performed;
    c.since = now;
    c.lastProgress = now;
    switch (c.fault) {
    case Fault::ResetIdle:
        return end(c, true);
    case Fault::HalfCloseIdle:
        return halfClose(c, now);
    case Fault::ResetAwaitingEchoes:
        appendBurst(c, false);
        c.afterFlush = Connection::AfterFlush::Reset;
        break;
    case Fault::ResetMidMessage:
    case Fault::HalfCloseMidMessage: {
        // Anywhere in the last message's frames, its header included.
        const size_t start = appendBurst(c, false);
        c.out.resize(start + 1 + m_random() % (c.out.size() - start - 1));
        c.afterFlush = c.fault == Fault::ResetMidMessage ? Connection::AfterFlush::Reset
                                                         : Connection::AfterFlush::HalfClose;
        break;
    }
    case Fault::ResetAfterClose:
        appendClose(c);
        c.state = Connection::State::Closing;
        c.afterFlush = Connection::AfterFlush::Reset;
        return flush(c, now);
    case Fault::NeverReads:
        c.state = Connection::State::NeverReading;
        return flush(c, now);   // which sends until blocked
    default:
        break;
    }
    c.state = Connection::State::Busy;
    flush(c, now);
}

void SoakDriver::flush(Connection &c, Clock::time_point now)
{
    for (;;) {
        if (c.outPos == c.out.size()) {
            c.out.clear();
            c.outPos = 0;
            if (c.out.capacity() > (1u << 20))
                c.out.shrink_to_fit();
            // A never-reading client sends until the server stops reading from it.
            if (c.state != Connection::State::NeverReading || c.neverReadsPushed >= kNeverReadsPush)
                break;
            const PoolMessage &message = m_pool.pickFrom(m_random, PayloadPool::Large);
            appendMessage(c, message, false);
            c.neverReadsPushed += c.out.size();
        }
        const ssize_t written = send(c.fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return onEnded(c, errno, now);
        }
        c.outPos += size_t(written);
        // The server still reads it: a client that does not read is only
        // slow while the server takes what it sends.
        if (c.state == Connection::State::NeverReading && written > 0)
            c.since = now;
    }
    if (c.out.empty() && c.afterFlush != Connection::AfterFlush::Nothing) {
        if (c.afterFlush == Connection::AfterFlush::Reset)
            return end(c, true);
        c.afterFlush = Connection::AfterFlush::Nothing;
        return halfClose(c, now);
    }
    updateInterest(c);
}

void SoakDriver::halfClose(Connection &c, Clock::time_point now)
{
    shutdown(c.fd, SHUT_WR);
    c.state = Connection::State::Draining;
    c.since = now;
    c.stalling = false;
    updateInterest(c);
}

void SoakDriver::end(Connection &c, bool reset)
{
    if (c.done)
        return;
    c.done = true;
    if (c.fd >= 0) {
        if (reset) {
            // SO_LINGER 0: close() sends an RST instead of a FIN.
            const linger abortive = {1, 0};
            setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
        }
        close(c.fd);
    }
    m_largeInFlight -= c.largeBytes;
    c.largeBytes = 0;
    if (c.fault == Fault::NeverReads)
        m_neverReadsPlanned = false;
}

void SoakDriver::fail(Connection &c, const std::string &kind, const std::string &detail)
{
    if (c.done)
        return;
    const uint64_t count = ++m_counters.errors[kind];
    // The first few of each kind in full; the summary counts them all.
    if (count <= 5) {
        const int seconds = int(secondsBetween(m_start, Clock::now()));
        std::fprintf(stderr, "[%d:%02d] error: %s: %s (%s)%s\n", seconds / 60, seconds % 60, kind.c_str(),
                     detail.c_str(), describe(c).c_str(), count == 5 ? " [more of this kind not shown]" : "");
    }
    end(c, true);
}

void SoakDriver::tick(Clock::time_point now)
{
    int opening = 0;
    for (auto &entry : m_connections) {
        Connection &c = *entry.second;
        if (c.done)
            continue;
        switch (c.state) {
        case Connection::State::Connecting:
        case Connection::State::Handshaking:
            ++opening;
            if (now - c.since > kHandshakeLimit)
                fail(c, "handshake timed out", "no 101 after 30 s");
            break;
        case Connection::State::Idle:
            if (now >= c.wakeAt)
                startTurn(c, now);
            break;
        case Connection::State::Busy:
            if (c.stalling && now >= c.wakeAt) {
                c.stalling = false;
                c.lastProgress = now;
                updateInterest(c);
            } else if (!c.stalling && now - c.lastProgress > kEchoLimit) {
                fail(c, "echo timed out", "nothing for 60 s with " + std::to_string(c.echoes.size())
                                                  + " echoes and " + std::to_string(c.pongs.size()) + " pongs due");
            }
            break;
        case Connection::State::Closing:
            if (now - c.since > kCloseLimit)
                fail(c, "closing handshake timed out", c.closeReceived ? "no FIN after the close reply"
                                                                       : "no close reply after 30 s");
            break;
        case Connection::State::Draining:
            if (now - c.since > kServerEndLimit)
                fail(c, "server kept a dead connection",
                     std::string("open 60 s after: ") + faultName(c.fault));
            break;
        case Connection::State::NeverReading:
            // Only once what it sends waits unread: the server is to end it then.
            if (c.outPos < c.out.size() && now - c.since > kNeverReadsLimit)
                fail(c, "server kept a client that does not read", "its data waited unread for 150 s");
            break;
        }
    }
    for (auto it = m_connections.begin(); it != m_connections.end();) {
        if (it->second->done)
            it = m_connections.erase(it);
        else
            ++it;
    }
    while (!m_stopping && opening < kConnectBatch && int(m_connections.size()) < m_config.connections) {
        openConnection(now);
        ++opening;
    }
}

void SoakDriver::runUntil(Clock::time_point deadline)
{
    std::vector<epoll_event> events(1024);
    Clock::time_point nextTick = Clock::now();
    for (;;) {
        Clock::time_point now = Clock::now();
        if (now >= nextTick) {
            tick(now);
            nextTick = now + 10ms;
        }
        if (now >= deadline || (m_stopping && m_connections.empty()))
            return;
        const auto wait = std::min(deadline, nextTick) - now;
        const int timeoutMs = int(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + 1;
        const int count = epoll_wait(m_epoll, events.data(), int(events.size()), timeoutMs);
        now = Clock::now();
        for (int i = 0; i < count; ++i) {
            const auto it = m_connections.find(events[size_t(i)].data.u64);
            if (it != m_connections.end() && !it->second->done)
                onEvent(*it->second, events[size_t(i)].events, now);
        }
    }
}

void SoakDriver::drain(Clock::duration limit)
{
    m_stopping = true;
    const Clock::time_point now = Clock::now();
    for (auto &entry : m_connections) {
        Connection &c = *entry.second;
        if (c.state == Connection::State::Idle)
            c.wakeAt = now;
        else if (c.state == Connection::State::NeverReading)
            end(c, true);   // its end by the server may be a minute away
    }
    runUntil(now + limit);
    for (auto &entry : m_connections)
        fail(*entry.second, "still open after the drain", "state " + std::to_string(int(entry.second->state)));
    m_connections.clear();
}

} // namespace soak
