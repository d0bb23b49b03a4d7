#pragma once

// The resident memory of the test process, for tests that bound what a
// server in the same process holds.

#include <QtCore/qbytearray.h>
#include <QtCore/qfile.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace wsqt::test {

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps freed memory in quarantine and adds redzones: the
// figure is reported, but it says what was allocated, not what is held.
constexpr bool kResidentSizeIsHeld = false;
#else
constexpr bool kResidentSizeIsHeld = true;
#endif

// A field of /proc/self/status in bytes ("VmRSS:", "VmHWM:"); -1 when unknown.
inline qint64 statusBytes(const QByteArray &field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(field))
            return line.mid(field.size()).trimmed().split(' ').first().toLongLong() * 1024;
    }
    return -1;
}

// VmRSS in bytes as it is, with what the allocator kept; -1 when unknown.
inline qint64 residentBytesAsHeld()
{
    return statusBytes("VmRSS:");
}

// The most resident memory since the last resetPeakResident(); -1 when unknown.
inline qint64 peakResidentBytes()
{
    return statusBytes("VmHWM:");
}

// Starts a new peak at the memory held now; false where the kernel cannot.
inline bool resetPeakResident()
{
    QFile clearRefs(QStringLiteral("/proc/self/clear_refs"));
    return clearRefs.open(QIODevice::WriteOnly) && clearRefs.write("5") == 1;
}

// VmRSS in bytes, once freed heap memory went back to the system; -1 when unknown.
inline qint64 residentBytes()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    return residentBytesAsHeld();
}

} // namespace wsqt::test
