#include "serverprocess.h"

#include "procstat.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace soak {

namespace {

// Whether a socket listens on `port` (any address, IPv4 or IPv6): read from
// /proc/net so that no probe connection shows up in the server's counts.
bool somethingListensOn(int port)
{
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream file(table);
        std::string line;
        std::getline(file, line);   // the column names
        while (std::getline(file, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state;
            fields >> slot >> local >> remote >> state;
            const size_t colon = local.rfind(':');
            if (state == "0A" && colon != std::string::npos
                && std::stoi(local.substr(colon + 1), nullptr, 16) == port)
                return true;
        }
    }
    return false;
}

} // namespace

ServerProcess::~ServerProcess()
{
    stop();
}

bool ServerProcess::start(const std::string &command, int port, const std::string &logPath, std::string *error)
{
    const int log = open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0) {
        *error = "cannot write " + logPath + ": " + std::strerror(errno);
        return false;
    }
    const std::string shellCommand = "exec " + command;
    m_pid = fork();
    if (m_pid == 0) {
        const int nothing = open("/dev/null", O_RDONLY);
        dup2(nothing, STDIN_FILENO);
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        execl("/bin/sh", "sh", "-c", shellCommand.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    close(log);
    if (m_pid < 0) {
        *error = std::string("fork: ") + std::strerror(errno);
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!somethingListensOn(port)) {
        if (!running()) {
            *error = "the server " + m_exit + " before listening (see " + logPath + ")";
            return false;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            *error = "the server does not listen on port " + std::to_string(port) + " after 20 s";
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

bool ServerProcess::reap(int options)
{
    int status = 0;
    if (m_pid <= 0 || waitpid(m_pid, &status, options) != m_pid)
        return false;
    if (WIFSIGNALED(status))
        m_exit = "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    else
        m_exit = "exited with status " + std::to_string(WEXITSTATUS(status));
    m_pid = -1;
    return true;
}

bool ServerProcess::running()
{
    return m_pid > 0 && !reap(WNOHANG);
}

void ServerProcess::stop()
{
    if (!running())
        return;
    kill(m_pid, SIGTERM);
    for (int i = 0; i < 50; ++i) {
        if (reap(WNOHANG))
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(m_pid, SIGKILL);
    reap(0);
}

long ServerProcess::residentKb() const
{
    return m_pid > 0 ? loadgen::residentKb(m_pid) : -1;
}

long ServerProcess::descriptorCount() const
{
    return countDescriptors(false);
}

long ServerProcess::socketCount() const
{
    return countDescriptors(true);
}

long ServerProcess::countDescriptors(bool socketsOnly) const
{
    const std::string directory = "/proc/" + std::to_string(m_pid) + "/fd";
    DIR *dir = m_pid > 0 ? opendir(directory.c_str()) : nullptr;
    if (!dir)
        return -1;
    long count = 0;
    while (const dirent *entry = readdir(dir)) {
        if (entry->d_name[0] == '.')
            continue;
        if (!socketsOnly) {
            ++count;
            continue;
        }
        char target[64];
        const ssize_t length = readlink((directory + "/" + entry->d_name).c_str(), target, sizeof(target));
        count += length >= 7 && std::strncmp(target, "socket:", 7) == 0;
    }
    closedir(dir);
    return count;
}

double ServerProcess::cpuSeconds() const
{
    return m_pid > 0 ? loadgen::processCpuSeconds(m_pid) : -1;
}

int pickFreePort()
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    int port = -1;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0
        && getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

} // namespace soak
