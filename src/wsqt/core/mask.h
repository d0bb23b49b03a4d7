#pragma once

// Masking (RFC 6455 §5.3): XOR with a 4-byte key. Vectorised (AVX2 or SSE2
// on x86-64, NEON on ARM) with a scalar fallback; WS_NO_BUFFER_UTIL in the
// environment at start-up selects the scalar path. Never reads or writes
// outside [data, data + length).

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

#include <cstddef>

namespace wsqt::core {

// XORs `length` bytes in place. `phase` is how many payload bytes were already
// masked with this key (only phase % 4 matters), so a payload can be unmasked
// chunk by chunk.
void applyMask(char *data, std::size_t length, const uchar key[4], std::size_t phase = 0);

// dst[i] = src[i] ^ key[(phase + i) % 4]; dst and src may be equal but must
// not otherwise overlap.
void copyMasked(char *dst, const char *src, std::size_t length, const uchar key[4],
                std::size_t phase = 0);

// The scalar implementation, whatever the environment says; for tests and benchmarks.
void applyMaskScalar(char *data, std::size_t length, const uchar key[4], std::size_t phase = 0);

// Which implementation applyMask() uses: "avx2", "sse2", "neon" or "scalar".
const char *maskImplementation();

// For tests and benchmarks: the implementations this machine can run, best
// first, "scalar" last; and copyMasked() with one of them (any other name
// gets the scalar path).
QList<QByteArray> maskImplementations();
void copyMaskedWith(const QByteArray &implementation, char *dst, const char *src,
                    std::size_t length, const uchar key[4], std::size_t phase = 0);

} // namespace wsqt::core
