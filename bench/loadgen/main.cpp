// The load generator of the wsqt benchmarks, and the epoll echo server they
// use as the fastest peer. See bench/README.md.

#include "bombs.h"
#include "client.h"
#include "echoserver.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char *const kUsage =
        "Usage: bench_loadgen [options]\n"
        "  --port N             the echo server's port (required)\n"
        "  --host ADDRESS       its IPv4 address (127.0.0.1)\n"
        "  --path PATH          the request path (/)\n"
        "  --raw                plain TCP echo: no handshake, no framing\n"
        "  --connections N      connections pumping messages (1)\n"
        "  --inflight K         messages in flight on each (1)\n"
        "  --size BYTES         message size (64)\n"
        "  --text | --json      UTF-8 text, or JSON text, instead of binary\n"
        "  --deflate            offer permessage-deflate (client_max_window_bits)\n"
        "  --warmup SECONDS     before measuring (1)\n"
        "  --duration SECONDS   measured (5)\n"
        "  --idle N             hold N idle connections and report the server's memory per connection\n"
        "                       and how fast they opened (from 127.0.0.2, .3, ... on loopback)\n"
        "  --settle SECONDS     with --idle: wait after the last handshake (2)\n"
        "  --hold               with --idle: after the report keep the connections, answering pings,\n"
        "                       until SIGTERM, then report the server's CPU time over that while\n"
        "  --server-pid PID     report this process's CPU time and memory\n"
        "  --verify             compare every echoed payload with what was sent\n"
        "  --connect-batch N    connections opened at once (32)\n"
        "  --label TEXT         echoed on the result line\n"
        "  --serve              be the echo server instead (WebSocket, or with --raw plain TCP)\n"
        "  --bombs N            with --deflate: attack with N (up to 32) decompression bombs while a\n"
        "                       probe connection sends 64 B every 20 ms and times the echoes (A1)\n"
        "  --bomb-size BYTES    what each bomb inflates to, a multiple of 1 MiB (1073741824)\n"
        "  --attack-timeout S   end the attack here if the server has not refused every bomb (60)\n";

bool parseNumber(const char *text, double min, double max, double *value)
{
    char *end = nullptr;
    *value = std::strtod(text, &end);
    return end && *end == '\0' && *value >= min && *value <= max;
}

} // namespace

int main(int argc, char *argv[])
{
    loadgen::ClientConfig config;
    loadgen::BombConfig bombs;
    bool serve = false;
    for (int i = 1; i < argc; ++i) {
        const std::string option = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : nullptr;
        double number = 0;
        const auto numeric = [&](double min, double max) {
            if (!value || !parseNumber(value, min, max, &number)) {
                std::fprintf(stderr, "bench_loadgen: bad value for %s\n%s", option.c_str(), kUsage);
                std::exit(2);
            }
            ++i;
            return number;
        };
        if (option == "--port")
            config.port = int(numeric(0, 65535));
        else if (option == "--host" && value)
            config.host = argv[++i];
        else if (option == "--path" && value)
            config.path = argv[++i];
        else if (option == "--raw")
            config.raw = true;
        else if (option == "--connections")
            config.connections = int(numeric(1, 100000));
        else if (option == "--inflight")
            config.inflight = int(numeric(1, 100000));
        else if (option == "--size")
            config.size = size_t(numeric(1, 1 << 30));
        else if (option == "--text")
            config.kind = loadgen::PayloadKind::Text;
        else if (option == "--json")
            config.kind = loadgen::PayloadKind::Json;
        else if (option == "--deflate")
            config.deflate = true;
        else if (option == "--warmup")
            config.warmup = numeric(0, 3600);
        else if (option == "--duration")
            config.duration = numeric(0.01, 3600);
        else if (option == "--idle")
            config.idle = int(numeric(1, 1000000));
        else if (option == "--settle")
            config.settle = numeric(0, 3600);
        else if (option == "--hold")
            config.hold = true;
        else if (option == "--server-pid")
            config.serverPid = pid_t(numeric(1, 1e9));
        else if (option == "--verify")
            config.verify = true;
        else if (option == "--connect-batch")
            config.connectBatch = int(numeric(1, 100000));
        else if (option == "--label" && value)
            config.label = argv[++i];
        else if (option == "--serve")
            serve = true;
        // All bomb connections open at once, under a QTcpServer's accept queue of 50.
        else if (option == "--bombs")
            bombs.bombs = int(numeric(1, 32));
        // 64 GiB: about 64 MB compressed, which every bomb holds in memory.
        else if (option == "--bomb-size")
            bombs.bombSize = size_t(numeric(1 << 20, double(uint64_t(1) << 36)));
        else if (option == "--attack-timeout")
            bombs.timeout = numeric(0.1, 3600);
        else if (option == "--help" || option == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        else {
            std::fprintf(stderr, "bench_loadgen: unknown option %s\n%s", option.c_str(), kUsage);
            return 2;
        }
    }
    if (serve) {
        loadgen::EchoServerConfig server;
        server.host = config.host;
        server.port = config.port;
        server.raw = config.raw;
        return loadgen::runEchoServer(server);
    }
    if (config.port == 0) {
        std::fprintf(stderr, "bench_loadgen: --port is required\n%s", kUsage);
        return 2;
    }
    if (config.kind == loadgen::PayloadKind::Json && config.size < 64) {
        std::fprintf(stderr, "bench_loadgen: JSON messages need --size 64 or more\n");
        return 2;
    }
    if (config.raw && config.deflate) {
        std::fprintf(stderr, "bench_loadgen: --deflate needs WebSocket mode\n");
        return 2;
    }
    if (bombs.bombs > 0) {
        // The bombs are compressed messages: without the extension there are none.
        if (!config.deflate) {
            std::fprintf(stderr, "bench_loadgen: --bombs needs --deflate\n");
            return 2;
        }
        // A bomb is made of 1 MiB blocks.
        if (bombs.bombSize % (size_t(1) << 20) != 0) {
            std::fprintf(stderr, "bench_loadgen: --bomb-size must be a multiple of 1 MiB\n");
            return 2;
        }
        bombs.host = config.host;
        bombs.port = config.port;
        bombs.path = config.path;
        bombs.serverPid = config.serverPid;
        bombs.label = config.label;
        return loadgen::runBombs(bombs);
    }
    return loadgen::runClient(config);
}
