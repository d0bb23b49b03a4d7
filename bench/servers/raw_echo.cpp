// The raw TCP echo of the benchmarks: epoll on one thread, bytes back as they
// came. Every result is a ratio to it.

#include "echoserver.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char *argv[])
{
    loadgen::EchoServerConfig config;
    config.raw = true;
    if (argc == 3 && std::strcmp(argv[1], "--port") == 0) {
        config.port = std::atoi(argv[2]);
    } else if (argc != 1) {
        std::fprintf(stderr, "Usage: bench_echo_raw [--port N]\n");
        return 2;
    }
    return loadgen::runEchoServer(config);
}
