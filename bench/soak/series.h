#pragma once

// The samples of a soak run: printed as a table as they come, written to a
// CSV file, and fitted with a least-squares line to tell growth from noise.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace soak {

struct Sample
{
    double seconds = 0;         // since the start of the traffic
    double rssMiB = 0;          // the server's VmRSS
    double fds = 0;             // the server's open descriptors
    int connections = 0;        // the driver's, from connect() to their end
    double messagesPerSecond = 0;   // echoes verified since the previous sample
    double megabytesPerSecond = 0;  // their payload bytes
    double serverCpuPercent = 0;
    double driverCpuPercent = 0;
    uint64_t errors = 0;        // so far
};

struct Trend
{
    int samples = 0;
    double slopePerHour = 0;
    double standardError = 0;   // of the slope, per hour
    double min = 0;
    double max = 0;
};

class Series
{
public:
    // An empty path writes no CSV file.
    bool open(const std::string &csvPath, std::string *error);
    ~Series();

    void printHeader() const;
    void add(const Sample &sample);
    const std::vector<Sample> &samples() const { return m_samples; }

    // Over the samples taken at `fromSeconds` or later.
    Trend trend(double fromSeconds, double Sample::*field) const;

private:
    std::vector<Sample> m_samples;
    FILE *m_csv = nullptr;
};

} // namespace soak
