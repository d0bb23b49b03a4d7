#pragma once

#include <QtCore/qglobal.h>

#include <cstddef>

namespace wsqt::core {

// Fills `out` with cryptographically strong random bytes. They come from a
// per-thread pool refilled from the system generator (getrandom on Linux), so
// a masking key costs no system call.
void fillRandom(uchar *out, std::size_t length);

} // namespace wsqt::core
