#pragma once

// The server under test, a child process: started from a command line,
// watched for readiness and for its end, and sampled from /proc.

#include <sys/types.h>

#include <string>

namespace soak {

class ServerProcess
{
public:
    ServerProcess() = default;
    ~ServerProcess();
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;

    // Runs `command` through /bin/sh (exec'd, so the PID is the server's own)
    // with its output to `logPath`, and waits until something listens on
    // `port`; false with a message on failure.
    bool start(const std::string &command, int port, const std::string &logPath, std::string *error);
    // Asks the server to end (SIGTERM, then SIGKILL after a grace period).
    void stop();

    pid_t pid() const { return m_pid; }
    // False once the server has ended by itself; then exitDescription() says how.
    bool running();
    std::string exitDescription() const { return m_exit; }

    // VmRSS in KiB and open descriptors (all, or the sockets among them);
    // negative when unreadable.
    long residentKb() const;
    long descriptorCount() const;
    long socketCount() const;
    double cpuSeconds() const;

private:
    bool reap(int options);
    long countDescriptors(bool socketsOnly) const;

    pid_t m_pid = -1;
    std::string m_exit;
};

// A port that was free a moment ago on 127.0.0.1 (the server binds it next).
int pickFreePort();

} // namespace soak
