#pragma once

// The choice among the implementations of a hot path (masking, UTF-8
// validation): each lists its own, best first and the portable one last, and
// the CPU is asked here, in one place, what it runs.

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

#include <cstddef>

namespace wsqt::core {

// What an implementation needs of the CPU beyond the build's baseline.
enum class CpuFeature { Baseline, Ssse3, Avx2 };

bool cpuSupports(CpuFeature feature);

// Implementation: a struct with a `name` and a `feature`. The best that the
// CPU runs, or the portable one where the environment variable is set to
// any non-empty value (ws's switches for its native add-ons).
template<typename Implementation, std::size_t N>
const Implementation &selectImplementation(const Implementation (&candidates)[N], const char *portableOnlyVariable)
{
    if (qEnvironmentVariableIsEmpty(portableOnlyVariable)) {
        for (const Implementation &candidate : candidates) {
            if (cpuSupports(candidate.feature))
                return candidate;
        }
    }
    return candidates[N - 1];
}

// The names of those the CPU runs, best first.
template<typename Implementation, std::size_t N>
QList<QByteArray> supportedImplementations(const Implementation (&candidates)[N])
{
    QList<QByteArray> names;
    for (const Implementation &candidate : candidates) {
        if (cpuSupports(candidate.feature))
            names.append(candidate.name);
    }
    return names;
}

// The one of that name, where the CPU runs it; else the portable one.
template<typename Implementation, std::size_t N>
const Implementation &implementationNamed(const Implementation (&candidates)[N], const QByteArray &name)
{
    for (const Implementation &candidate : candidates) {
        if (name == candidate.name && cpuSupports(candidate.feature))
            return candidate;
    }
    return candidates[N - 1];
}

} // namespace wsqt::core
