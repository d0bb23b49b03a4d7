#include "cpudispatch.h"

namespace wsqt::core {

bool cpuSupports(CpuFeature feature)
{
    if (feature == CpuFeature::Baseline)
        return true;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init(); // in case this runs before the static constructors
    switch (feature) {
    case CpuFeature::Ssse3:
        return __builtin_cpu_supports("ssse3");
    case CpuFeature::Avx2:
        return __builtin_cpu_supports("avx2");
    case CpuFeature::Baseline:
        break;
    }
#endif
    return false;
}

} // namespace wsqt::core
