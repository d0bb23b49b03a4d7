#include "series.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace soak {

bool Series::open(const std::string &csvPath, std::string *error)
{
    if (csvPath.empty())
        return true;
    m_csv = std::fopen(csvPath.c_str(), "w");
    if (!m_csv) {
        *error = "cannot write " + csvPath + ": " + std::strerror(errno);
        return false;
    }
    std::fprintf(m_csv, "seconds,rss_mib,fds,connections,msgs_per_s,mb_per_s,server_cpu_pct,driver_cpu_pct,errors\n");
    return true;
}

Series::~Series()
{
    if (m_csv)
        std::fclose(m_csv);
}

void Series::printHeader() const
{
    std::printf("| time | RSS MiB | fds | conns | msgs/s | MB/s | server CPU %% | driver CPU %% | errors |\n"
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::fflush(stdout);
}

void Series::add(const Sample &sample)
{
    m_samples.push_back(sample);
    const int seconds = int(std::lround(sample.seconds));
    std::printf("| %d:%02d | %.1f | %.0f | %d | %.0f | %.1f | %.0f | %.0f | %llu |\n", seconds / 60, seconds % 60,
                sample.rssMiB, sample.fds, sample.connections, sample.messagesPerSecond, sample.megabytesPerSecond,
                sample.serverCpuPercent, sample.driverCpuPercent, (unsigned long long)sample.errors);
    std::fflush(stdout);
    if (m_csv) {
        std::fprintf(m_csv, "%.1f,%.2f,%.0f,%d,%.1f,%.2f,%.1f,%.1f,%llu\n", sample.seconds, sample.rssMiB, sample.fds,
                     sample.connections, sample.messagesPerSecond, sample.megabytesPerSecond,
                     sample.serverCpuPercent, sample.driverCpuPercent, (unsigned long long)sample.errors);
        std::fflush(m_csv);
    }
}

Trend Series::trend(double fromSeconds, double Sample::*field) const
{
    Trend trend;
    double sumT = 0;
    double sumY = 0;
    for (const Sample &sample : m_samples) {
        if (sample.seconds < fromSeconds)
            continue;
        const double y = sample.*field;
        trend.min = trend.samples ? std::min(trend.min, y) : y;
        trend.max = trend.samples ? std::max(trend.max, y) : y;
        sumT += sample.seconds;
        sumY += y;
        ++trend.samples;
    }
    if (trend.samples < 3)
        return trend;
    const double meanT = sumT / trend.samples;
    const double meanY = sumY / trend.samples;
    double sxx = 0;
    double sxy = 0;
    for (const Sample &sample : m_samples) {
        if (sample.seconds < fromSeconds)
            continue;
        sxx += (sample.seconds - meanT) * (sample.seconds - meanT);
        sxy += (sample.seconds - meanT) * (sample.*field - meanY);
    }
    const double slope = sxy / sxx;
    double residuals = 0;
    for (const Sample &sample : m_samples) {
        if (sample.seconds < fromSeconds)
            continue;
        const double r = sample.*field - meanY - slope * (sample.seconds - meanT);
        residuals += r * r;
    }
    trend.slopePerHour = slope * 3600;
    trend.standardError = std::sqrt(residuals / (trend.samples - 2) / sxx) * 3600;
    return trend;
}

} // namespace soak
