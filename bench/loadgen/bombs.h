#pragma once

// The attack scenario A1: decompression bombs against a permessage-deflate
// server while a well-behaved client measures how promptly it is still served.

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace loadgen {

struct BombConfig
{
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/";
    int bombs = 0;                      // connections, each sending one bomb
    size_t bombSize = size_t(1) << 30;  // decoded bytes of each bomb, a multiple of 1 MiB
    double timeout = 60.0;              // seconds: the attack ends here if the server has not refused every bomb
    pid_t serverPid = 0;                // whose CPU time and memory to report
    std::string label;                  // echoed on the result line
};

// Runs the attack and prints one "result" line; the exit status.
int runBombs(const BombConfig &config);

} // namespace loadgen
