#pragma once

// The load generator: N connections, each keeping K messages in flight
// against an echo server, over one epoll loop on one thread.

#include "payloads.h"

#include <sys/types.h>

#include <string>

namespace loadgen {

struct ClientConfig
{
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/";
    bool raw = false;               // a plain TCP echo: no handshake, no framing
    int connections = 1;
    int inflight = 1;
    size_t size = 64;
    PayloadKind kind = PayloadKind::Binary;
    bool deflate = false;           // offer permessage-deflate
    double warmup = 1.0;            // seconds before measuring
    double duration = 5.0;          // seconds measured
    int idle = 0;                   // > 0: hold this many idle connections, report memory
    double settle = 2.0;            // idle mode: seconds between the last handshake and the reading
    // Idle mode: after the report keep the connections, answering pings, until
    // SIGTERM; then report the server's CPU time over that while.
    bool hold = false;
    pid_t serverPid = 0;            // whose CPU time and memory to report
    bool verify = false;            // compare every echoed payload with what was sent
    // Connections being opened at once: under the accept queue of a QTcpServer
    // (50 by default), which drops handshakes when it overflows.
    int connectBatch = 32;
    std::string label;              // echoed on the result line
};

// Runs to completion and prints one "result" line (and with `hold` a "held"
// line after it); the exit status.
int runClient(const ClientConfig &config);

} // namespace loadgen
