#pragma once

#include <QtCore/qthreadpool.h>

namespace wsqt::transport {

// The worker threads that compress large messages: at most concurrencyLimit
// messages at a time in the whole process. As in ws, the first use fixes the limit.
QThreadPool *compressionPool(int concurrencyLimit);

} // namespace wsqt::transport
