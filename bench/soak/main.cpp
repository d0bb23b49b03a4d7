// The soak run of the wsqt benchmarks: long mixed traffic with connection
// churn and injected faults against an echo server in its own process, whose
// memory and descriptors are sampled to tell a steady server from a leaking
// one. See bench/README.md.

#include "payloadpool.h"
#include "series.h"
#include "serverprocess.h"
#include "soakdriver.h"

#include "net.h"
#include "procstat.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using soak::Clock;

const char *const kUsage =
        "Usage: bench_soak [options]\n"
        "  --minutes N          length of the traffic (30)\n"
        "  --connections N      connections kept open (300)\n"
        "  --think-ms N         pause between a connection's bursts: uniform in [0, N] ms (1000)\n"
        "  --faults PERCENT     connections given a fault (20)\n"
        "  --server-cmd CMD     the server, run by /bin/sh; {port} becomes the port to listen on\n"
        "                       (default: bench_echo_wsqt --deflate --port {port})\n"
        "  --csv PATH           write the samples there\n"
        "  --server-log PATH    the server's output (default: beside --csv, else /dev/null)\n"
        "  --sample-seconds N   between samples (10)\n"
        "  --rss-tolerance N    MiB per hour that still count as flat (1)\n"
        "  --fd-tolerance N     descriptors per hour that still count as flat (1)\n"
        "  --seed N             for the traffic's choices (random)\n";

struct Options
{
    double minutes = 30;
    soak::SoakConfig traffic;
    std::string serverCommand = SOAK_DEFAULT_SERVER " --deflate --port {port}";
    std::string csvPath;
    std::string serverLog;
    double sampleSeconds = 10;
    double rssToleranceMiB = 1;
    double fdTolerance = 1;
};

Options parseOptions(int argc, char *argv[])
{
    Options options;
    options.traffic.seed = std::random_device{}();
    for (int i = 1; i < argc; ++i) {
        const std::string option = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : nullptr;
        const auto bad = [&] {
            std::fprintf(stderr, "bench_soak: bad or missing value for %s\n%s", option.c_str(), kUsage);
            std::exit(2);
        };
        const auto numeric = [&](double min, double max) {
            char *end = nullptr;
            const double number = value ? std::strtod(value, &end) : 0;
            if (!value || *end != '\0' || !(number >= min && number <= max))
                bad();
            ++i;
            return number;
        };
        const auto text = [&] {
            if (!value)
                bad();
            return std::string(argv[++i]);
        };
        if (option == "--minutes")
            options.minutes = numeric(0.1, 100000);
        else if (option == "--connections")
            options.traffic.connections = int(numeric(1, 20000));
        else if (option == "--think-ms")
            options.traffic.thinkMs = int(numeric(0, 600000));
        else if (option == "--faults")
            options.traffic.faultShare = numeric(0, 100) / 100;
        else if (option == "--server-cmd")
            options.serverCommand = text();
        else if (option == "--csv")
            options.csvPath = text();
        else if (option == "--server-log")
            options.serverLog = text();
        else if (option == "--sample-seconds")
            options.sampleSeconds = numeric(1, 3600);
        else if (option == "--rss-tolerance")
            options.rssToleranceMiB = numeric(0, 1e9);
        else if (option == "--fd-tolerance")
            options.fdTolerance = numeric(0, 1e9);
        else if (option == "--seed")
            options.traffic.seed = uint64_t(numeric(0, 1e18));
        else if (option == "--help" || option == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "bench_soak: unknown option %s\n%s", option.c_str(), kUsage);
            std::exit(2);
        }
    }
    if (options.serverCommand.find("{port}") == std::string::npos) {
        std::fprintf(stderr, "bench_soak: --server-cmd must contain {port}\n");
        std::exit(2);
    }
    if (options.serverLog.empty()) {
        const std::string &csv = options.csvPath;
        const bool hasSuffix = csv.size() > 4 && csv.compare(csv.size() - 4, 4, ".csv") == 0;
        options.serverLog = csv.empty() ? "/dev/null" : (hasSuffix ? csv.substr(0, csv.size() - 4) : csv) + "-server.log";
    }
    return options;
}

std::string replacePort(std::string command, int port)
{
    for (size_t at = command.find("{port}"); at != std::string::npos; at = command.find("{port}", at))
        command.replace(at, 6, std::to_string(port));
    return command;
}

// The idle server: before the traffic, and after it once the server has
// closed the sockets the drain left it (waiting `limit` at most). Sockets
// tell leaked connections; the other descriptors include those of threads
// started on first use (compression workers), which thread pools end after
// a while idle (QThreadPool: 30 s), and their memory with them.
struct Rest
{
    long sockets = -1;
    long fds = -1;
    double rssMiB = -1;
};

Rest restingServer(soak::ServerProcess &server, long wantedSockets, Clock::duration limit)
{
    const Clock::time_point deadline = Clock::now() + limit;
    while (server.socketCount() > wantedSockets && Clock::now() < deadline && server.running())
        std::this_thread::sleep_for(100ms);
    return Rest{server.socketCount(), server.descriptorCount(), double(server.residentKb()) / 1024};
}

void printTrend(const char *what, const soak::Trend &trend, const char *unit, double tolerance)
{
    std::printf("- %s: %+.2f %s per hour (standard error %.2f) over %d samples; min %.1f, max %.1f, max-min %.1f;"
                " tolerance %.2f per hour\n",
                what, trend.slopePerHour, unit, trend.standardError, trend.samples, trend.min, trend.max,
                trend.max - trend.min, tolerance);
}

// Flat: the slope within the tolerance. Growing: over it by more than three
// standard errors, so not noise. Otherwise the run cannot tell at this
// tolerance (too short, or the series too noisy).
const char *judge(const soak::Trend &trend, double tolerance)
{
    if (std::fabs(trend.slopePerHour) <= tolerance)
        return "flat";
    if (trend.slopePerHour - 3 * trend.standardError > tolerance)
        return "growing";
    if (trend.slopePerHour + 3 * trend.standardError < -tolerance)
        return "shrinking";
    return "undecided";
}

void printSummary(const soak::Counters &counters, double seconds)
{
    const double sent = double(std::max<uint64_t>(counters.messagesSent, 1));
    std::printf("\n### Traffic\n\n");
    std::printf("- Connections: %llu opened, %llu closed with a close handshake\n",
                (unsigned long long)counters.opened, (unsigned long long)counters.closedNormally);
    std::printf("- Messages: %llu sent (%.0f%% compressed, %.0f%% fragmented), %llu echoes verified"
                " (%.2f GiB, %.0f/s; %.0f%% came compressed), %llu pongs verified\n",
                (unsigned long long)counters.messagesSent, 100.0 * double(counters.compressedSent) / sent,
                100.0 * double(counters.fragmentedSent) / sent, (unsigned long long)counters.messagesVerified,
                double(counters.bytesVerified) / double(1u << 30), double(counters.messagesVerified) / seconds,
                100.0 * double(counters.compressedEchoes) / double(std::max<uint64_t>(counters.messagesVerified, 1)),
                (unsigned long long)counters.pingsVerified);
    std::printf("- Readers that stopped for 2-15 s and then got every echo: %llu\n",
                (unsigned long long)counters.stallsVerified);
    std::printf("\n| fault | times | ended by the server | slowest end, s |\n|---|---:|---:|---:|\n");
    for (int f = 1; f < int(soak::Fault::Count); ++f) {
        const soak::FaultOutcome &outcome = counters.faults[f];
        const auto fault = soak::Fault(f);
        if (soak::serverEndsAfter(fault))
            std::printf("| %s | %llu | %llu | %.1f |\n", soak::faultName(fault), (unsigned long long)outcome.performed,
                        (unsigned long long)outcome.endedByServer, outcome.slowestEndSeconds);
        else
            std::printf("| %s | %llu | - | - |\n", soak::faultName(fault), (unsigned long long)outcome.performed);
    }
    std::printf("\nErrors: %llu\n", (unsigned long long)counters.errorCount());
    for (const auto &entry : counters.errors)
        std::printf("- %s: %llu\n", entry.first.c_str(), (unsigned long long)entry.second);
}

void printLogTail(const std::string &path)
{
    std::ifstream file(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(file, line)) {
        lines.push_back(line);
        if (lines.size() > 20)
            lines.erase(lines.begin());
    }
    std::printf("The last lines of the server's output (%s):\n", path.c_str());
    for (const std::string &kept : lines)
        std::printf("    %s\n", kept.c_str());
}

} // namespace

int main(int argc, char *argv[])
{
    const Options options = parseOptions(argc, argv);
    // The server inherits the raised limit.
    loadgen::raiseFileLimit();

    const Clock::time_point poolStart = Clock::now();
    const soak::PayloadPool pool(unsigned(options.traffic.seed));
    std::printf("Payload pool: %.1f MiB, built in %.1f s\n", double(pool.totalBytes()) / double(1u << 20),
                std::chrono::duration<double>(Clock::now() - poolStart).count());

    soak::SoakConfig traffic = options.traffic;
    traffic.port = soak::pickFreePort();
    const std::string command = replacePort(options.serverCommand, traffic.port);
    soak::ServerProcess server;
    std::string error;
    if (!server.start(command, traffic.port, options.serverLog, &error)) {
        std::fprintf(stderr, "bench_soak: %s\n", error.c_str());
        return 1;
    }
    soak::Series series;
    if (!series.open(options.csvPath, &error)) {
        std::fprintf(stderr, "bench_soak: %s\n", error.c_str());
        return 1;
    }
    // Let the server finish starting before its idle state is taken.
    std::this_thread::sleep_for(1s);
    const Rest before = restingServer(server, 0, 0s);
    std::printf("Server: %s (PID %d), idle at %.1f MiB, %ld descriptors (%ld sockets)\n", command.c_str(),
                int(server.pid()), before.rssMiB, before.fds, before.sockets);
    std::printf("Traffic: %.0f minutes, %d connections, pauses up to %d ms, %.0f%% faulted, seed %llu\n\n",
                options.minutes, traffic.connections, traffic.thinkMs, 100 * traffic.faultShare,
                (unsigned long long)traffic.seed);

    soak::SoakDriver driver(traffic, pool);
    if (!driver.init(&error)) {
        std::fprintf(stderr, "bench_soak: %s\n", error.c_str());
        return 1;
    }
    series.printHeader();
    const Clock::time_point start = Clock::now();
    const Clock::time_point end = start + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(options.minutes * 60));
    const auto interval = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(options.sampleSeconds));
    Clock::time_point lastSample = start;
    Clock::time_point nextSample = start + interval;
    uint64_t lastMessages = 0;
    uint64_t lastBytes = 0;
    double lastServerCpu = server.cpuSeconds();
    double lastDriverCpu = loadgen::ownCpuSeconds();
    bool serverEnded = false;
    while (Clock::now() < end) {
        // In short slices, so that a server that dies is noticed at once.
        driver.runUntil(std::min({nextSample, end, Clock::now() + 200ms}));
        if (!server.running()) {
            serverEnded = true;
            break;
        }
        const Clock::time_point now = Clock::now();
        if (now < nextSample)
            continue;
        const double elapsed = std::chrono::duration<double>(now - lastSample).count();
        const soak::Counters &counters = driver.counters();
        const double serverCpu = server.cpuSeconds();
        const double driverCpu = loadgen::ownCpuSeconds();
        soak::Sample sample;
        sample.seconds = std::chrono::duration<double>(now - start).count();
        sample.rssMiB = double(server.residentKb()) / 1024;
        sample.fds = double(server.descriptorCount());
        sample.connections = driver.openConnections();
        sample.messagesPerSecond = double(counters.messagesVerified - lastMessages) / elapsed;
        sample.megabytesPerSecond = double(counters.bytesVerified - lastBytes) / elapsed / 1e6;
        sample.serverCpuPercent = 100 * (serverCpu - lastServerCpu) / elapsed;
        sample.driverCpuPercent = 100 * (driverCpu - lastDriverCpu) / elapsed;
        sample.errors = counters.errorCount();
        series.add(sample);
        lastSample = now;
        nextSample += interval;
        lastMessages = counters.messagesVerified;
        lastBytes = counters.bytesVerified;
        lastServerCpu = serverCpu;
        lastDriverCpu = driverCpu;
    }
    const double trafficSeconds = std::chrono::duration<double>(Clock::now() - start).count();

    Rest after;
    Rest settled;
    if (!serverEnded) {
        driver.drain(75s);
        if (server.running()) {
            after = restingServer(server, before.sockets, 15s);
            std::this_thread::sleep_for(40s);
            settled = restingServer(server, before.sockets, 0s);
        }
        serverEnded = !server.running();
    }
    printSummary(driver.counters(), trafficSeconds);

    std::printf("\n### Server\n\n");
    if (serverEnded) {
        std::printf("The server %s after %.0f s of traffic.\n", server.exitDescription().c_str(), trafficSeconds);
        printLogTail(options.serverLog);
    } else {
        std::printf("| idle server | sockets | descriptors | RSS MiB |\n|---|---:|---:|---:|\n");
        for (const auto &[when, rest] : {std::pair{"before the traffic", before}, std::pair{"after the drain", after},
                                         std::pair{"40 s later", settled}})
            std::printf("| %s | %ld | %ld | %.1f |\n", when, rest.sockets, rest.fds, rest.rssMiB);
        std::printf("\n");
    }
    // The first half warms up (allocator pools, zlib streams, the pool of
    // connections filling); the trend is taken over the second.
    const double half = options.minutes * 60 / 2;
    const soak::Trend rss = series.trend(half, &soak::Sample::rssMiB);
    const soak::Trend fds = series.trend(half, &soak::Sample::fds);
    bool flat = false;
    if (serverEnded) {
        std::printf("\nVerdict: THE SERVER ENDED\n");
    } else if (rss.samples >= 3) {
        printTrend("RSS", rss, "MiB", options.rssToleranceMiB);
        printTrend("Descriptors", fds, "fds", options.fdTolerance);
        const char *rssVerdict = judge(rss, options.rssToleranceMiB);
        const char *fdVerdict = judge(fds, options.fdTolerance);
        const bool socketsBack = after.sockets >= 0 && after.sockets <= before.sockets;
        const std::string verdicts = std::string(rssVerdict) + " " + fdVerdict;
        flat = verdicts == "flat flat" && socketsBack;
        const bool growing = verdicts.find("growing") != std::string::npos || !socketsBack;
        std::printf("\nVerdict: %s (RSS %s, descriptors %s, sockets at rest %s)\n",
                    flat ? "FLAT" : growing ? "GROWING" : "UNDECIDED", rssVerdict, fdVerdict,
                    socketsBack ? "back to the start" : "NOT back to the start");
    } else {
        std::printf("\nVerdict: none (too few samples in the second half)\n");
    }
    server.stop();
    if (!options.csvPath.empty())
        std::printf("Samples: %s\nServer output: %s\n", options.csvPath.c_str(), options.serverLog.c_str());
    return serverEnded || driver.counters().errorCount() > 0 || !flat ? 1 : 0;
}
