#pragma once

// CPU time and memory of this process and of the server under test.

#include <sys/types.h>

namespace loadgen {

// User plus system CPU seconds of this process (getrusage).
double ownCpuSeconds();
// User plus system CPU seconds of a process, all its threads (/proc/PID/stat);
// negative when it cannot be read.
double processCpuSeconds(pid_t pid);
// Resident set size in KiB (/proc/PID/status VmRSS); negative when unknown.
long residentKb(pid_t pid);

} // namespace loadgen
