#include "compressionpool.h"

#include <QtCore/qglobalstatic.h>

#include <mutex>

namespace wsqt::transport {

Q_GLOBAL_STATIC(QThreadPool, pool)

QThreadPool *compressionPool(int concurrencyLimit)
{
    static std::once_flag configured;
    std::call_once(configured, [concurrencyLimit] { pool()->setMaxThreadCount(qMax(concurrencyLimit, 1)); });
    return pool();
}

} // namespace wsqt::transport
