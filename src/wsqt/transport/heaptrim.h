#pragma once

// Large messages pass through the heap in blocks that the allocator keeps
// once they are freed, scattered between smaller ones: a server that
// echoed a burst of them would hold that memory for good. Once a thread has
// seen no large message for a while, what the heap holds free goes back to
// the system.

#include <QtCore/qglobal.h>

namespace wsqt::transport {

// Messages from this size on count as large.
inline constexpr qint64 kLargeMessageSize = 64 * 1024;

// A large message was received or sent on the calling thread, which runs
// an event loop, or a connection that had large buffers ended there.
void noteLargeMessage();

} // namespace wsqt::transport
