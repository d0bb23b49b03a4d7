#include "client.h"

#include "clock.h"
#include "deflate.h"
#include "frames.h"
#include "handshake.h"
#include "histogram.h"
#include "net.h"
#include "procstat.h"
#include "sendstream.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

namespace loadgen {

namespace {

// Idle connections go out from 127.0.0.2, .3, ... (when the server is on
// loopback), this many from each: one source address has about 28,000
// ephemeral ports towards the server's address and port.
constexpr int kConnectionsPerSource = 10000;

volatile std::sig_atomic_t g_stopHolding = 0;

void stopHolding(int)
{
    g_stopHolding = 1;
}

// A message scheduled for sending and not yet echoed back.
struct Pending
{
    uint64_t scheduledAt;
    size_t frame;
};

struct Connection
{
    enum class State { Connecting, Handshaking, Open };

    int fd = -1;
    State state = State::Connecting;
    std::string key;
    std::string handshakeIn;
    DeflateParams deflate;
    const SendStream *stream = nullptr;

    // Sending: the frame being written, where in the stream's bytes, and how
    // many messages are due (the current one included).
    size_t sendFrame = 0;
    size_t sendPos = 0;
    uint64_t owed = 0;
    size_t scheduleFrame = 0;
    bool writeArmed = false;

    // Messages in flight, oldest first (a ring of `inflight` entries).
    std::vector<Pending> fifo;
    size_t fifoHead = 0;
    size_t fifoCount = 0;

    // Receiving.
    FrameReader reader;
    std::string ping;           // the payload of a ping being received
    bool inMessage = false;
    bool messageCompressed = false;
    uint8_t frameOpcode = 0;
    bool frameFin = false;
    uint64_t messageBytes = 0;
    std::string compressed;
    std::unique_ptr<Inflater> inflater;
    uint64_t rawReceived = 0;   // bytes of the current raw message
    size_t rawVerifyPos = 0;
};

class Client
{
public:
    explicit Client(const ClientConfig &config) : m_config(config) {}
    int run();

private:
    struct Sink;
    enum class Phase { Connecting, Settling, Warmup, Measuring, Holding };

    int total() const { return m_config.idle > 0 ? m_config.idle : m_config.connections; }
    bool fail(const std::string &message);
    std::string sourceFor(int index) const;
    bool openMore();
    bool onConnected(Connection &c);
    bool onHandshakeData(Connection &c, uint64_t now);
    bool onOpen(Connection &c, uint64_t now);
    bool onReadable(Connection &c, uint64_t now);
    bool onData(Connection &c, uint8_t *data, size_t length, uint64_t now);
    bool onMessage(Connection &c, uint64_t now);
    void onPing(Connection &c);
    bool verifyPiece(Connection &c, const uint8_t *data, size_t length);
    void schedule(Connection &c, uint64_t now);
    bool flush(Connection &c);
    void setWriteInterest(Connection &c, bool on);
    const SendStream *streamFor(const DeflateParams &deflate);
    void startPumping(uint64_t now);
    void startMeasuring(uint64_t now);
    void report(uint64_t now);
    void reportIdle();
    void startHolding(uint64_t now);
    void reportHeld(uint64_t now);

    const ClientConfig &m_config;
    int m_epoll = -1;
    std::vector<Connection> m_connections;
    std::map<std::tuple<bool, bool, int>, SendStream> m_streams;
    Phase m_phase = Phase::Connecting;
    int m_started = 0;
    int m_opening = 0;
    int m_open = 0;
    uint64_t m_deadline = 0;
    bool m_failed = false;
    std::vector<uint8_t> m_readBuffer = std::vector<uint8_t>(256 * 1024);

    long m_rssBefore = -1;
    uint64_t m_connectStart = 0;        // the first connect() ...
    uint64_t m_connectEnd = 0;          // ... to the last upgrade response
    double m_connectCpu = 0;            // the server's CPU seconds over that while
    double m_connectOwnCpu = 0;         // and this process's
    uint64_t m_pings = 0;               // answered while holding
    uint64_t m_measureStart = 0;
    double m_ownCpuStart = 0;
    double m_serverCpuStart = 0;
    uint64_t m_messages = 0;
    uint64_t m_payloadBytes = 0;        // of the echoes measured, as the application sees them
    uint64_t m_wireBytes = 0;           // their frames' payload bytes, compressed or not
    uint64_t m_compressedMessages = 0;
    Histogram m_latency;
};

struct Client::Sink
{
    Client &client;
    Connection &c;
    uint64_t now;

    void header(const FrameHeader &h)
    {
        c.frameOpcode = h.opcode;
        c.frameFin = h.fin;
        if (h.masked) {
            client.fail("the server sent a masked frame");
        } else if (h.opcode >= Close) {
            if (h.opcode == Close)
                client.fail("the server sent a close frame");
            c.ping.clear();
        } else if (h.opcode == Continuation) {
            if (!c.inMessage || h.rsv1)
                client.fail("unexpected continuation frame");
        } else if (c.inMessage) {
            client.fail("a new message began inside another");
        } else if (h.rsv1 && !c.deflate.enabled) {
            client.fail("RSV1 set without permessage-deflate");
        } else if (h.opcode != (client.m_config.kind == PayloadKind::Binary ? Binary : Text)) {
            client.fail("the echo has another opcode than the message sent");
        } else {
            c.inMessage = true;
            c.messageCompressed = h.rsv1;
            c.messageBytes = 0;
            c.compressed.clear();
        }
    }
    void payload(uint8_t *data, size_t length)
    {
        if (c.frameOpcode == Ping)
            c.ping.append(reinterpret_cast<const char *>(data), length);
        if (c.frameOpcode >= Close)
            return;
        if (c.messageCompressed)
            c.compressed.append(reinterpret_cast<const char *>(data), length);
        else if (client.m_config.verify && !client.verifyPiece(c, data, length))
            client.fail("an echoed payload differs from the message sent");
        c.messageBytes += length;
    }
    void frameEnd()
    {
        if (c.frameOpcode == Ping)
            client.onPing(c);
        if (c.frameOpcode < Close && c.frameFin && !client.m_failed) {
            c.inMessage = false;
            client.onMessage(c, now);
        }
    }
};

bool Client::fail(const std::string &message)
{
    if (!m_failed)
        std::fprintf(stderr, "loadgen: %s\n", message.c_str());
    m_failed = true;
    return false;
}

const SendStream *Client::streamFor(const DeflateParams &deflate)
{
    const auto key = std::make_tuple(deflate.enabled, deflate.clientNoContextTakeover, deflate.clientMaxWindowBits);
    auto it = m_streams.find(key);
    if (it == m_streams.end()) {
        StreamSpec spec;
        spec.raw = m_config.raw;
        spec.kind = m_config.kind;
        spec.size = m_config.size;
        spec.deflate = deflate;
        std::string error;
        SendStream stream;
        if (!buildSendStream(spec, &stream, &error)) {
            fail(error);
            return nullptr;
        }
        it = m_streams.emplace(key, std::move(stream)).first;
    }
    return &it->second;
}

std::string Client::sourceFor(int index) const
{
    if (m_config.idle == 0 || m_config.host.compare(0, 4, "127.") != 0)
        return std::string();
    return "127.0.0." + std::to_string(2 + index / kConnectionsPerSource);
}

bool Client::openMore()
{
    while (m_started < total() && m_opening < m_config.connectBatch) {
        const int fd = startConnect(m_config.host, m_config.port, sourceFor(m_started));
        if (fd < 0)
            return fail("cannot connect: " + std::string(std::strerror(errno)));
        Connection &c = m_connections[size_t(m_started)];
        c.fd = fd;
        c.fifo.resize(size_t(m_config.inflight));
        epoll_event event = {};
        event.events = EPOLLOUT;
        event.data.u32 = uint32_t(m_started);
        if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) < 0)
            return fail("epoll_ctl: " + std::string(std::strerror(errno)));
        ++m_started;
        ++m_opening;
    }
    return true;
}

void Client::setWriteInterest(Connection &c, bool on)
{
    if (c.writeArmed == on)
        return;
    c.writeArmed = on;
    epoll_event event = {};
    event.events = uint32_t(EPOLLIN) | (on ? uint32_t(EPOLLOUT) : 0u);
    event.data.u32 = uint32_t(&c - m_connections.data());
    epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &event);
}

bool Client::onConnected(Connection &c)
{
    if (const int error = connectError(c.fd))
        return fail("cannot connect: " + std::string(std::strerror(error)));
    // Registered for EPOLLOUT while connecting; from now on for reading.
    c.writeArmed = true;
    setWriteInterest(c, false);
    // A plain TCP connection is open once one byte made the round trip:
    // then the server has accepted it, and the next one may be opened.
    std::string request = "\n";
    if (!m_config.raw) {
        c.key = makeKey();
        request = clientRequest(m_config.host, m_config.port, m_config.path, c.key, m_config.deflate);
    }
    // A fresh socket's send buffer takes a request of this size whole.
    if (send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
        return fail("cannot send the opening bytes");
    c.state = Connection::State::Handshaking;
    return true;
}

bool Client::onHandshakeData(Connection &c, uint64_t now)
{
    if (m_config.raw) {
        if (c.handshakeIn != "\n")
            return fail("the raw echo answered the first byte with something else");
        c.handshakeIn = std::string();
        return onOpen(c, now);
    }
    const size_t end = c.handshakeIn.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c.handshakeIn.size() > 16384)
            return fail("oversized upgrade response");
        return true;
    }
    std::string error;
    if (!checkResponse(c.handshakeIn.substr(0, end), c.key, m_config.deflate, &c.deflate, &error))
        return fail("handshake: " + error);
    std::string early = c.handshakeIn.substr(end + 4);
    c.handshakeIn = std::string();
    if (!onOpen(c, now))
        return false;
    return early.empty() || onData(c, reinterpret_cast<uint8_t *>(&early[0]), early.size(), now);
}

bool Client::onOpen(Connection &c, uint64_t now)
{
    c.state = Connection::State::Open;
    c.stream = streamFor(c.deflate);
    if (!c.stream)
        return false;
    if (c.deflate.enabled)
        c.inflater = std::make_unique<Inflater>();
    --m_opening;
    ++m_open;
    if (m_open < total())
        return openMore();
    m_connectEnd = now;
    m_connectCpu = m_config.serverPid ? processCpuSeconds(m_config.serverPid) - m_serverCpuStart : 0;
    m_connectOwnCpu = ownCpuSeconds() - m_ownCpuStart;
    if (m_config.idle > 0) {
        m_phase = Phase::Settling;
        m_deadline = now + nanoseconds(m_config.settle);
    } else {
        startPumping(now);
    }
    return true;
}

void Client::schedule(Connection &c, uint64_t now)
{
    const size_t slot = (c.fifoHead + c.fifoCount) % c.fifo.size();
    c.fifo[slot] = Pending{now, c.scheduleFrame};
    ++c.fifoCount;
    c.scheduleFrame = c.stream->next(c.scheduleFrame);
    ++c.owed;
}

bool Client::flush(Connection &c)
{
    const SendStream &stream = *c.stream;
    while (c.owed > 0) {
        // As many due frames as lie one after the other in the stream's bytes.
        const size_t lastFrame = std::min<size_t>(c.sendFrame + c.owed - 1, stream.frameCount() - 1);
        const size_t wanted = stream.ends[lastFrame] - c.sendPos;
        const ssize_t written = send(c.fd, stream.bytes.data() + c.sendPos, wanted, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return fail("write: " + std::string(std::strerror(errno)));
        }
        c.sendPos += size_t(written);
        while (c.owed > 0 && c.sendPos >= stream.ends[c.sendFrame]) {
            --c.owed;
            const size_t next = stream.next(c.sendFrame);
            if (next != c.sendFrame + 1)
                c.sendPos = stream.frameStart(next);
            c.sendFrame = next;
        }
        if (size_t(written) < wanted)
            break;
    }
    setWriteInterest(c, c.owed > 0);
    return true;
}

bool Client::verifyPiece(Connection &c, const uint8_t *data, size_t length)
{
    const SendStream &stream = *c.stream;
    if (m_config.raw) {
        // The echo is the sent byte stream itself.
        while (length > 0) {
            const size_t take = std::min(length, stream.bytes.size() - c.rawVerifyPos);
            if (std::memcmp(stream.bytes.data() + c.rawVerifyPos, data, take) != 0)
                return false;
            data += take;
            length -= take;
            c.rawVerifyPos = (c.rawVerifyPos + take) % stream.bytes.size();
        }
        return true;
    }
    if (c.fifoCount == 0)
        return false;
    const std::string &expected = stream.payloads[stream.payloadOf[c.fifo[c.fifoHead].frame]];
    return c.messageBytes + length <= expected.size()
            && std::memcmp(expected.data() + c.messageBytes, data, length) == 0;
}

// Idle connections answer pings, as a server's heartbeat wants. Pumping ones
// leave them: a pong cannot go between the bytes of a frame being sent, and
// their echoes keep the heartbeat content anyway.
void Client::onPing(Connection &c)
{
    if (m_config.idle == 0)
        return;
    ++m_pings;
    const std::string pong = maskedFrame(Pong, c.ping, false);
    // An idle connection's send buffer is empty: the pong goes whole.
    if (send(c.fd, pong.data(), pong.size(), MSG_NOSIGNAL) != ssize_t(pong.size()))
        fail("cannot send a pong");
}

bool Client::onMessage(Connection &c, uint64_t now)
{
    if (c.fifoCount == 0)
        return fail("a message arrived that was not sent");
    const Pending pending = c.fifo[c.fifoHead];
    const std::string &expected = c.stream->payloads[c.stream->payloadOf[pending.frame]];
    if (!m_config.raw) {
        if (c.messageCompressed) {
            std::string message;
            if (!c.inflater->decompress(c.compressed, &message, c.deflate.serverNoContextTakeover))
                return fail("cannot inflate a message from the server");
            if (message.size() != expected.size() || (m_config.verify && message != expected))
                return fail("an echoed message differs from the message sent");
        } else if (c.messageBytes != expected.size()) {
            return fail("an echoed message has " + std::to_string(c.messageBytes) + " bytes instead of "
                        + std::to_string(expected.size()));
        }
    }
    c.fifoHead = (c.fifoHead + 1) % c.fifo.size();
    --c.fifoCount;
    if (m_phase == Phase::Measuring) {
        m_latency.record(now - pending.scheduledAt);
        ++m_messages;
        // What compression saved: the payloads against the bytes that carried them.
        m_payloadBytes += expected.size();
        m_wireBytes += c.messageCompressed ? c.compressed.size() : c.messageBytes;
        m_compressedMessages += c.messageCompressed;
    }
    schedule(c, now);
    return true;
}

bool Client::onData(Connection &c, uint8_t *data, size_t length, uint64_t now)
{
    if (m_config.raw) {
        if (m_config.verify && !verifyPiece(c, data, length))
            return fail("the echoed bytes differ from the bytes sent");
        c.rawReceived += length;
        while (c.rawReceived >= m_config.size) {
            c.rawReceived -= m_config.size;
            if (!onMessage(c, now))
                return false;
        }
        return true;
    }
    Sink sink{*this, c, now};
    if (!c.reader.feed(data, length, sink))
        return fail("malformed frame from the server");
    return !m_failed;
}

bool Client::onReadable(Connection &c, uint64_t now)
{
    for (;;) {
        const ssize_t received = read(c.fd, m_readBuffer.data(), m_readBuffer.size());
        if (received == 0)
            return fail("the server closed a connection");
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return fail("read: " + std::string(std::strerror(errno)));
        }
        if (c.state == Connection::State::Handshaking) {
            c.handshakeIn.append(reinterpret_cast<const char *>(m_readBuffer.data()), size_t(received));
            if (!onHandshakeData(c, now))
                return false;
        } else if (!onData(c, m_readBuffer.data(), size_t(received), now)) {
            return false;
        }
        if (size_t(received) < m_readBuffer.size())
            break;
    }
    return c.state != Connection::State::Open || flush(c);
}

void Client::startPumping(uint64_t now)
{
    m_phase = Phase::Warmup;
    m_deadline = now + nanoseconds(m_config.warmup);
    for (Connection &c : m_connections) {
        for (int i = 0; i < m_config.inflight; ++i)
            schedule(c, now);
        flush(c);
    }
}

void Client::startMeasuring(uint64_t now)
{
    m_phase = Phase::Measuring;
    m_deadline = now + nanoseconds(m_config.duration);
    m_measureStart = now;
    m_ownCpuStart = ownCpuSeconds();
    m_serverCpuStart = m_config.serverPid ? processCpuSeconds(m_config.serverPid) : -1;
    m_latency.clear();
    m_messages = 0;
    m_payloadBytes = 0;
    m_wireBytes = 0;
    m_compressedMessages = 0;
}

void Client::report(uint64_t now)
{
    const double elapsed = double(now - m_measureStart) / 1e9;
    const double ownCpu = ownCpuSeconds() - m_ownCpuStart;
    const double rate = double(m_messages) / elapsed;
    std::printf("result label=%s mode=%s connections=%d inflight=%d size=%zu messages=%llu seconds=%.3f"
                " msgs_per_s=%.1f mb_per_s=%.2f p50_us=%.1f p99_us=%.1f own_cpu_pct=%.1f",
                m_config.label.empty() ? "-" : m_config.label.c_str(), m_config.raw ? "raw" : "ws",
                m_config.connections, m_config.inflight, m_config.size, (unsigned long long)m_messages, elapsed,
                rate, rate * double(m_config.size) / 1e6, double(m_latency.percentile(0.50)) / 1e3,
                double(m_latency.percentile(0.99)) / 1e3, 100.0 * ownCpu / elapsed);
    if (m_config.deflate) {
        std::printf(" deflate=%s compressed_pct=%.1f payload_bytes=%llu wire_bytes=%llu compression_ratio=%.3f",
                    m_connections.front().deflate.enabled ? "yes" : "no",
                    m_messages ? 100.0 * double(m_compressedMessages) / double(m_messages) : 0.0,
                    (unsigned long long)m_payloadBytes, (unsigned long long)m_wireBytes,
                    m_wireBytes ? double(m_payloadBytes) / double(m_wireBytes) : 0.0);
    }
    if (m_config.serverPid) {
        const double serverCpu = processCpuSeconds(m_config.serverPid) - m_serverCpuStart;
        std::printf(" server_cpu_pct=%.1f server_cpu_us_per_msg=%.3f server_rss_kb=%ld", 100.0 * serverCpu / elapsed,
                    m_messages ? serverCpu * 1e6 / double(m_messages) : 0.0, residentKb(m_config.serverPid));
    }
    std::printf("\n");
    if (ownCpu / elapsed > 0.9)
        std::fprintf(stderr, "loadgen: warning: the load generator used %.0f%% of its core; the result may be"
                             " limited by it\n", 100.0 * ownCpu / elapsed);
}

void Client::reportIdle()
{
    const long after = residentKb(m_config.serverPid);
    const double connectSeconds = double(m_connectEnd - m_connectStart) / 1e9;
    std::printf("result label=%s mode=%s connections=%d server_rss_before_kb=%ld server_rss_after_kb=%ld"
                " kb_per_connection=%.2f connect_s=%.3f connects_per_s=%.1f connect_server_cpu_pct=%.1f"
                " connect_own_cpu_pct=%.1f",
                m_config.label.empty() ? "-" : m_config.label.c_str(), m_config.raw ? "raw" : "ws", m_config.idle,
                m_rssBefore, after, double(after - m_rssBefore) / double(m_config.idle), connectSeconds,
                double(m_config.idle) / connectSeconds, 100.0 * m_connectCpu / connectSeconds,
                100.0 * m_connectOwnCpu / connectSeconds);
    // Whether the memory measured is that of connections with permessage-deflate.
    if (m_config.deflate)
        std::printf(" deflate=%s", m_connections.front().deflate.enabled ? "yes" : "no");
    std::printf("\n");
    // With --hold the line tells bench/run.sh that the connections are open.
    std::fflush(stdout);
}

void Client::startHolding(uint64_t now)
{
    m_phase = Phase::Holding;
    m_measureStart = now;
    m_serverCpuStart = processCpuSeconds(m_config.serverPid);
    m_pings = 0;
}

void Client::reportHeld(uint64_t now)
{
    std::printf("held label=%s connections=%d seconds=%.3f pings=%llu server_cpu_s=%.4f\n",
                m_config.label.empty() ? "-" : m_config.label.c_str(), m_config.idle,
                double(now - m_measureStart) / 1e9, (unsigned long long)m_pings,
                processCpuSeconds(m_config.serverPid) - m_serverCpuStart);
}

int Client::run()
{
    // Each connection is a descriptor, and a few more serve the process.
    const long fileLimit = raiseFileLimit();
    if (fileLimit >= 0 && total() > fileLimit - 16) {
        std::fprintf(stderr, "loadgen: %d connections need more descriptors than RLIMIT_NOFILE (%ld) allows\n",
                     total(), fileLimit);
        return 2;
    }
    if (m_config.idle > 0 && !m_config.serverPid) {
        std::fprintf(stderr, "loadgen: --idle needs --server-pid\n");
        return 2;
    }
    if (m_config.hold) {
        if (m_config.idle == 0) {
            std::fprintf(stderr, "loadgen: --hold needs --idle\n");
            return 2;
        }
        struct sigaction action = {};
        action.sa_handler = stopHolding;
        sigaction(SIGTERM, &action, nullptr);
    }
    if (m_config.serverPid)
        m_rssBefore = residentKb(m_config.serverPid);
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_connections.resize(size_t(total()));
    m_connectStart = nowNs();
    m_serverCpuStart = m_config.serverPid ? processCpuSeconds(m_config.serverPid) : 0;
    m_ownCpuStart = ownCpuSeconds();
    // A slow server takes minutes over tens of thousands of handshakes.
    const uint64_t connectDeadline = m_connectStart + nanoseconds(std::max(120.0, total() / 250.0));
    openMore();

    std::vector<epoll_event> events(1024);
    while (!m_failed) {
        uint64_t now = nowNs();
        if (g_stopHolding) {
            if (m_phase == Phase::Holding)
                reportHeld(now);
            else
                fail("stopped before the connections were open");
            break;
        }
        const uint64_t deadline = m_phase == Phase::Connecting ? connectDeadline
                : m_phase == Phase::Holding                    ? UINT64_MAX
                                                               : m_deadline;
        if (now >= deadline) {
            if (m_phase == Phase::Connecting) {
                int connecting = 0;
                for (const Connection &c : m_connections)
                    connecting += c.fd >= 0 && c.state == Connection::State::Connecting;
                fail("timed out opening " + std::to_string(total() - m_open) + " connections ("
                     + std::to_string(connecting) + " without TCP connection, "
                     + std::to_string(m_started - m_open - connecting) + " awaiting the upgrade response)");
                break;
            }
            if (m_phase == Phase::Settling) {
                reportIdle();
                if (!m_config.hold)
                    break;
                startHolding(now);
                continue;
            }
            if (m_phase == Phase::Warmup) {
                startMeasuring(now);
            } else {
                report(now);
                break;
            }
            continue;
        }
        const int timeoutMs = int(std::min<uint64_t>((deadline - now) / 1000000 + 1, 100));
        const int count = epoll_wait(m_epoll, events.data(), int(events.size()), timeoutMs);
        if (count < 0 && errno != EINTR) {
            fail("epoll_wait: " + std::string(std::strerror(errno)));
            break;
        }
        now = nowNs();
        for (int i = 0; i < count && !m_failed; ++i) {
            Connection &c = m_connections[events[i].data.u32];
            const uint32_t flags = events[i].events;
            if (c.state == Connection::State::Connecting) {
                onConnected(c);
                continue;
            }
            if (flags & (EPOLLIN | EPOLLERR | EPOLLHUP))
                onReadable(c, now);
            if (!m_failed && (flags & EPOLLOUT) && c.state == Connection::State::Open)
                flush(c);
        }
    }
    for (Connection &c : m_connections) {
        if (c.fd >= 0)
            close(c.fd);
    }
    close(m_epoll);
    return m_failed ? 1 : 0;
}

} // namespace

int runClient(const ClientConfig &config)
{
    Client client(config);
    return client.run();
}

} // namespace loadgen
