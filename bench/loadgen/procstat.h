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
// The peak resident set size in KiB (VmHWM); negative when unknown.
long peakResidentKb(pid_t pid);
// Starts the peak over from the present RSS (writes 5 to /proc/PID/clear_refs,
// which needs the right to ptrace the process, e.g. root); false when refused.
bool resetPeakResident(pid_t pid);

} // namespace loadgen
