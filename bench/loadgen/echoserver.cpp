#include "echoserver.h"

#include "frames.h"
#include "handshake.h"
#include "net.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

namespace loadgen {

namespace {

// Past this much unsent output a connection is not read until it drains.
constexpr size_t kOutputLimit = 4 << 20;

struct Peer
{
    int fd = -1;
    bool upgraded = false;
    bool closing = false;       // a close frame was echoed: close once it is sent
    bool reading = true;
    bool writing = false;
    std::string handshake;
    std::string out;
    size_t outPos = 0;
    FrameReader reader;
    uint8_t opcode = 0;

    size_t backlog() const { return out.size() - outPos; }
};

class EchoServer
{
public:
    explicit EchoServer(const EchoServerConfig &config) : m_config(config) {}
    int run();

private:
    struct Sink;

    void accept();
    void onReadable(Peer &peer);
    bool onWebSocketData(Peer &peer, uint8_t *data, size_t length);
    bool flush(Peer &peer);
    void updateInterest(Peer &peer);
    void drop(Peer &peer);

    const EchoServerConfig &m_config;
    int m_epoll = -1;
    int m_listener = -1;
    std::unordered_map<int, std::unique_ptr<Peer>> m_peers;
    std::vector<uint8_t> m_readBuffer = std::vector<uint8_t>(256 * 1024);
};

struct EchoServer::Sink
{
    Peer &peer;
    bool ok = true;

    void header(const FrameHeader &h)
    {
        if (!h.masked) {
            ok = false;
            return;
        }
        peer.opcode = h.opcode;
        const uint8_t opcode = h.opcode == Ping ? uint8_t(Pong) : h.opcode;
        if (h.opcode != Pong)
            appendFrameHeader(peer.out, opcode, h.fin, h.rsv1, nullptr, h.length);
    }
    void payload(uint8_t *data, size_t length)
    {
        if (peer.opcode != Pong)
            peer.out.append(reinterpret_cast<const char *>(data), length);
    }
    void frameEnd()
    {
        if (peer.opcode == Close)
            peer.closing = true;
    }
};

void EchoServer::updateInterest(Peer &peer)
{
    const bool reading = !peer.closing && peer.backlog() < kOutputLimit;
    const bool writing = peer.backlog() > 0;
    if (reading == peer.reading && writing == peer.writing)
        return;
    peer.reading = reading;
    peer.writing = writing;
    epoll_event event = {};
    event.events = (reading ? uint32_t(EPOLLIN) : 0u) | (writing ? uint32_t(EPOLLOUT) : 0u);
    event.data.fd = peer.fd;
    epoll_ctl(m_epoll, EPOLL_CTL_MOD, peer.fd, &event);
}

void EchoServer::drop(Peer &peer)
{
    close(peer.fd);
    m_peers.erase(peer.fd);
}

bool EchoServer::flush(Peer &peer)
{
    while (peer.backlog() > 0) {
        const ssize_t written = send(peer.fd, peer.out.data() + peer.outPos, peer.backlog(), MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return false;
        }
        peer.outPos += size_t(written);
    }
    if (peer.backlog() == 0) {
        peer.out.clear();
        peer.outPos = 0;
        if (peer.closing)
            return false;
    } else if (peer.outPos > peer.out.size() / 2) {
        peer.out.erase(0, peer.outPos);
        peer.outPos = 0;
    }
    updateInterest(peer);
    return true;
}

bool EchoServer::onWebSocketData(Peer &peer, uint8_t *data, size_t length)
{
    if (!peer.upgraded) {
        peer.handshake.append(reinterpret_cast<const char *>(data), length);
        const size_t end = peer.handshake.find("\r\n\r\n");
        if (end == std::string::npos)
            return peer.handshake.size() <= 16384;
        std::string response;
        if (!serverResponse(peer.handshake.substr(0, end), &response))
            return false;
        peer.out += response;
        peer.upgraded = true;
        std::string early = peer.handshake.substr(end + 4);
        peer.handshake = std::string();
        return early.empty() || onWebSocketData(peer, reinterpret_cast<uint8_t *>(&early[0]), early.size());
    }
    Sink sink{peer};
    return peer.reader.feed(data, length, sink) && sink.ok;
}

void EchoServer::onReadable(Peer &peer)
{
    for (;;) {
        const ssize_t received = read(peer.fd, m_readBuffer.data(), m_readBuffer.size());
        if (received == 0) {
            drop(peer);
            return;
        }
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            drop(peer);
            return;
        }
        if (m_config.raw) {
            peer.out.append(reinterpret_cast<const char *>(m_readBuffer.data()), size_t(received));
        } else if (!onWebSocketData(peer, m_readBuffer.data(), size_t(received))) {
            drop(peer);
            return;
        }
        if (size_t(received) < m_readBuffer.size() || peer.backlog() >= kOutputLimit)
            break;
    }
    if (!flush(peer))
        drop(peer);
}

void EchoServer::accept()
{
    for (;;) {
        const int fd = acceptConnection(m_listener);
        if (fd < 0)
            return;
        auto peer = std::make_unique<Peer>();
        peer->fd = fd;
        epoll_event event = {};
        event.events = EPOLLIN;
        event.data.fd = fd;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
        m_peers[fd] = std::move(peer);
    }
}

int EchoServer::run()
{
    raiseFileLimit();
    int port = 0;
    m_listener = listenOn(m_config.host, m_config.port, &port);
    if (m_listener < 0) {
        std::fprintf(stderr, "echo server: cannot listen on %s:%d: %s\n", m_config.host.c_str(), m_config.port,
                     std::strerror(errno));
        return 1;
    }
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    epoll_event event = {};
    event.events = EPOLLIN;
    event.data.fd = m_listener;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_listener, &event);
    std::printf("listening %d\n", port);
    std::fflush(stdout);

    std::vector<epoll_event> events(1024);
    for (;;) {
        const int count = epoll_wait(m_epoll, events.data(), int(events.size()), -1);
        if (count < 0 && errno != EINTR)
            return 1;
        for (int i = 0; i < count; ++i) {
            const int fd = events[i].data.fd;
            if (fd == m_listener) {
                accept();
                continue;
            }
            const auto it = m_peers.find(fd);
            if (it == m_peers.end())
                continue;
            Peer &peer = *it->second;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                onReadable(peer);
                continue;   // it flushed, or dropped the peer
            }
            if ((events[i].events & EPOLLOUT) && !flush(peer))
                drop(peer);
        }
    }
}

} // namespace

int runEchoServer(const EchoServerConfig &config)
{
    EchoServer server(config);
    return server.run();
}

} // namespace loadgen
