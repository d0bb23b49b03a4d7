#include "procstat.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace loadgen {

namespace {

// A "Name:   123 kB" line of /proc/PID/status, in KiB; -1 when absent.
long statusKb(pid_t pid, const std::string &name)
{
    std::ifstream file("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(file, line)) {
        if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ':')
            return std::stol(line.substr(name.size() + 1));
    }
    return -1;
}

} // namespace

double ownCpuSeconds()
{
    rusage usage = {};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double processCpuSeconds(pid_t pid)
{
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(file, text))
        return -1;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    const size_t close = text.rfind(')');
    if (close == std::string::npos)
        return -1;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    // Fields 3 to 13 come first; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 13 && fields >> field; ++i) {
    }
    if (!(fields >> utime >> stime))
        return -1;
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

long residentKb(pid_t pid)
{
    return statusKb(pid, "VmRSS");
}

long peakResidentKb(pid_t pid)
{
    return statusKb(pid, "VmHWM");
}

bool resetPeakResident(pid_t pid)
{
    std::ofstream file("/proc/" + std::to_string(pid) + "/clear_refs");
    file << "5";
    file.flush();
    return bool(file);
}

} // namespace loadgen
