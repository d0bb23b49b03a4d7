#include "compressionpool.h"

#include <QtCore/qglobalstatic.h>

#include <mutex>

namespace wsqt::transport {

namespace {

// Each worker thread holds an event dispatcher and its descriptor: once the
// compression is done they go soon, not after QThreadPool's 30 s.
constexpr int kIdleWorkerMs = 1000;

} // namespace

Q_GLOBAL_STATIC(QThreadPool, pool)

QThreadPool *compressionPool(int concurrencyLimit)
{
    static std::once_flag configured;
    std::call_once(configured, [concurrencyLimit] {
        pool()->setMaxThreadCount(qMax(concurrencyLimit, 1));
        pool()->setExpiryTimeout(kIdleWorkerMs);
    });
    return pool();
}

} // namespace wsqt::transport
