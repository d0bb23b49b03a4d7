#pragma once

// An epoll echo server on one thread: WebSocket (any message back as it came,
// unmasked; ping answered with pong, close with close) or plain TCP bytes.
// The fastest echo this machine offers, as the reference peer for the
// client benchmarks and the raw baseline for the server ones.

#include <string>

namespace loadgen {

struct EchoServerConfig
{
    std::string host = "127.0.0.1";
    int port = 0;
    bool raw = false;
};

// Prints "listening PORT" once bound, then serves until killed; the exit
// status when it cannot start.
int runEchoServer(const EchoServerConfig &config);

} // namespace loadgen
