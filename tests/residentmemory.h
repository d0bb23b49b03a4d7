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

// VmRSS in bytes, once freed heap memory went back to the system; -1 when unknown.
inline qint64 residentBytes()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong() * 1024;
    }
    return -1;
}

} // namespace wsqt::test
