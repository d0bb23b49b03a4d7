// Many idle WebSocket clients in one process, for tst_scale: so that the
// server's process holds nothing of the clients.
//
//   wsqt_scale_clients <port> <count> <deflate: 0 or 1>
//
// Opens <count> connections to 127.0.0.1:<port>, each with a valid upgrade
// request (offering permessage-deflate when asked) and a checked 101 answer,
// and prints "open <count>". On "echo" from its standard input it sends a
// small text message on every connection and prints "echoed <right> <count>",
// where a right echo is the same message back, unmasked (with
// permessage-deflate, a compressed text message of its own is taken). Then it waits for
// "close", sends a close frame with code 1000 on every connection, and prints
// "closed <clean> <count>", where a clean close is the server's close frame
// with 1000 followed by the end of the connection. Any failure prints
// "error <what>" and exits with 1. Linux only (epoll).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Handshakes under way at a time: well inside the listening socket's backlog.
constexpr int kInFlight = 256;
constexpr auto kPhaseTimeout = std::chrono::seconds(60);

// RFC 6455's sample key, and the Sec-WebSocket-Accept that answers it.
constexpr char kKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr char kAcceptLine[] = "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
constexpr char kDeflateLine[] = "\r\nSec-WebSocket-Extensions: permessage-deflate";

// A masked close frame with code 1000 (03 e8 masked with 01 02 03 04), and
// the server's unmasked answer.
constexpr unsigned char kCloseFrame[] = {0x88, 0x82, 0x01, 0x02, 0x03, 0x04, 0x02, 0xea};
constexpr unsigned char kCloseAnswer[] = {0x88, 0x02, 0x03, 0xe8};
// A masked text message "echo" (masked with 01 02 03 04), and its echo
// when not compressed.
constexpr unsigned char kTextFrame[] = {0x81, 0x84, 0x01, 0x02, 0x03, 0x04, 'e' ^ 1, 'c' ^ 2, 'h' ^ 3, 'o' ^ 4};
constexpr unsigned char kTextAnswer[] = {0x81, 0x04, 'e', 'c', 'h', 'o'};

enum class State { Connecting, Handshaking, Open, Echoing, Closing, Done };

struct Connection
{
    int fd = -1;
    State state = State::Connecting;
    std::string received;
};

[[noreturn]] void fail(const std::string &what)
{
    std::printf("error %s\n", what.c_str());
    std::fflush(stdout);
    std::exit(1);
}

bool watch(int epoll, int op, int fd, unsigned events, size_t index)
{
    epoll_event event = {};
    event.events = events;
    event.data.u64 = index;
    return ::epoll_ctl(epoll, op, fd, &event) == 0;
}

class Clients
{
public:
    Clients(int port, size_t count, bool deflate) : m_port(port), m_connections(count), m_deflate(deflate)
    {
        m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
        if (m_epoll < 0)
            fail("epoll_create1");
        m_request = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kKey
                + "\r\nSec-WebSocket-Version: 13\r\n";
        if (deflate)
            m_request += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
        m_request += "\r\n";
    }

    void openAll()
    {
        size_t started = 0;
        size_t open = 0;
        int inFlight = 0;
        const auto deadline = std::chrono::steady_clock::now() + kPhaseTimeout;
        while (open < m_connections.size()) {
            while (inFlight < kInFlight && started < m_connections.size()) {
                startConnection(started++);
                ++inFlight;
            }
            for (const epoll_event &event : waitForEvents(deadline)) {
                const size_t index = event.data.u64;
                Connection &c = m_connections[index];
                if (c.state == State::Connecting) {
                    int error = 0;
                    socklen_t size = sizeof error;
                    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
                    if (error != 0)
                        fail("connect: " + std::string(std::strerror(error)));
                    if (::send(c.fd, m_request.data(), m_request.size(), MSG_NOSIGNAL) != ssize_t(m_request.size()))
                        fail("the request was not sent whole");
                    c.state = State::Handshaking;
                    if (!watch(m_epoll, EPOLL_CTL_MOD, c.fd, EPOLLIN, index))
                        fail("epoll_ctl");
                } else if (c.state == State::Handshaking) {
                    if (!readSome(c))
                        fail("the server ended a connection during its handshake");
                    const size_t end = c.received.find("\r\n\r\n");
                    if (end == std::string::npos)
                        continue;
                    const std::string head = c.received.substr(0, end + 2);
                    if (head.rfind("HTTP/1.1 101 ", 0) != 0 || head.find(kAcceptLine) == std::string::npos)
                        fail("not a valid 101 answer: " + head.substr(0, head.find("\r\n")));
                    if ((head.find(kDeflateLine) != std::string::npos) != m_deflate)
                        fail("permessage-deflate was not negotiated as offered");
                    if (c.received.size() != end + 4)
                        fail("bytes after the 101 answer");
                    c.received.clear();
                    c.state = State::Open;
                    ++open;
                    --inFlight;
                } else {
                    fail("an idle connection was not idle");
                }
            }
        }
    }

    size_t echoAll()
    {
        sendToAll(kTextFrame, sizeof kTextFrame, State::Echoing);
        size_t right = 0;
        size_t done = 0;
        const auto deadline = std::chrono::steady_clock::now() + kPhaseTimeout;
        while (done < m_connections.size()) {
            for (const epoll_event &event : waitForEvents(deadline)) {
                Connection &c = m_connections[event.data.u64];
                if (c.state != State::Echoing)
                    fail("a connection sent more than its echo");
                if (!readSome(c))
                    fail("the server ended a connection instead of echoing");
                if (c.received.size() < 2 || c.received.size() < 2 + size_t(c.received[1] & 0x7f))
                    continue;
                if (isEcho(c.received))
                    ++right;
                c.received.clear();
                c.state = State::Open;
                ++done;
            }
        }
        return right;
    }

    size_t closeAll()
    {
        sendToAll(kCloseFrame, sizeof kCloseFrame, State::Closing);
        size_t clean = 0;
        size_t done = 0;
        const auto deadline = std::chrono::steady_clock::now() + kPhaseTimeout;
        while (done < m_connections.size()) {
            const std::vector<epoll_event> events = waitForEvents(deadline, false);
            if (events.empty())
                break;
            for (const epoll_event &event : events) {
                Connection &c = m_connections[event.data.u64];
                if (c.state != State::Closing)
                    continue;
                if (readSome(c))
                    continue;
                // The end of the connection: clean if the close frame came first.
                if (c.received == std::string(reinterpret_cast<const char *>(kCloseAnswer), sizeof kCloseAnswer))
                    ++clean;
                ::close(c.fd);
                c.state = State::Done;
                ++done;
            }
        }
        return clean;
    }

private:
    // Sends a whole frame on every connection, which then waits in `next`.
    void sendToAll(const unsigned char *frame, size_t size, State next)
    {
        for (Connection &c : m_connections) {
            if (::send(c.fd, frame, size, MSG_NOSIGNAL) != ssize_t(size))
                fail("a frame was not sent whole");
            c.state = next;
        }
    }

    // The message back whole and unmasked: as sent, or compressed (with
    // context takeover, ws and wsqt compress messages of any size).
    bool isEcho(const std::string &frame) const
    {
        if (frame == std::string(reinterpret_cast<const char *>(kTextAnswer), sizeof kTextAnswer))
            return true;
        const auto first = static_cast<unsigned char>(frame[0]);
        const auto second = static_cast<unsigned char>(frame[1]);
        return m_deflate && first == 0xc1 && second < 126 && frame.size() == 2 + size_t(second);
    }

    void startConnection(size_t index)
    {
        Connection &c = m_connections[index];
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0)
            fail("socket: " + std::string(std::strerror(errno)));
        sockaddr_in address = {};
        address.sin_family = AF_INET;
        address.sin_port = htons(uint16_t(m_port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(c.fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 && errno != EINPROGRESS)
            fail("connect: " + std::string(std::strerror(errno)));
        if (!watch(m_epoll, EPOLL_CTL_ADD, c.fd, EPOLLOUT, index))
            fail("epoll_ctl");
    }

    // Reads what is there; false at the end of the connection or an error.
    bool readSome(Connection &c)
    {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                c.received.append(buffer, size_t(n));
                continue;
            }
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }

    std::vector<epoll_event> waitForEvents(std::chrono::steady_clock::time_point deadline, bool mustProgress = true)
    {
        std::vector<epoll_event> events(1024);
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                if (mustProgress)
                    fail("timed out");
                return {};
            }
            const int n = ::epoll_wait(m_epoll, events.data(), int(events.size()), int(left.count()));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                fail("epoll_wait");
            events.resize(size_t(n));
            return events;
        }
    }

    int m_port;
    std::vector<Connection> m_connections;
    bool m_deflate;
    int m_epoll = -1;
    std::string m_request;
};

} // namespace

int main(int argc, char **argv)
{
    if (argc != 4)
        fail("usage: wsqt_scale_clients <port> <count> <deflate: 0 or 1>");
    const int port = std::atoi(argv[1]);
    const long count = std::atol(argv[2]);
    if (port <= 0 || port > 65535 || count <= 0)
        fail("invalid arguments");

    rlimit files = {};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur < rlim_t(count) + 16)
        fail("not enough file descriptors");

    Clients clients(port, size_t(count), std::strcmp(argv[3], "1") == 0);
    clients.openAll();
    std::printf("open %ld\n", count);
    std::fflush(stdout);

    char line[64];
    if (!std::fgets(line, sizeof line, stdin) || std::strcmp(line, "echo\n") != 0)
        fail("expected \"echo\"");
    const size_t echoed = clients.echoAll();
    std::printf("echoed %zu %ld\n", echoed, count);
    std::fflush(stdout);

    if (!std::fgets(line, sizeof line, stdin) || std::strcmp(line, "close\n") != 0)
        fail("expected \"close\"");
    const size_t clean = clients.closeAll();
    std::printf("closed %zu %ld\n", clean, count);
    std::fflush(stdout);
    return 0;
}
