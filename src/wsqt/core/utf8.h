#pragma once

// UTF-8 validation (RFC 3629), incremental and fail-fast: a code point may be
// split across calls; an invalid sequence is reported by the call that
// contains its first invalid byte. Non-characters (U+FFFE, U+FFFF, ...) are
// valid; surrogates, overlong forms and code points above U+10FFFF are not.
// An ASCII fast path and a vectorised multibyte path, with a scalar fallback
// that WS_NO_UTF_8_VALIDATE in the environment at start-up selects.

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

#include <cstddef>

namespace wsqt::core {

class Utf8Validator
{
public:
    // Validates the next bytes; false once the text seen so far cannot be
    // the start of valid UTF-8 (and from then on until reset()).
    bool feed(const char *data, std::size_t length);
    // True when the bytes seen so far are valid and end on a code point boundary.
    bool isComplete() const { return m_state == 0; }
    bool hasFailed() const { return m_state == kFailed; }
    void reset() { m_state = 0; }

private:
    // The state of the byte automaton in utf8.cpp: 0 on a code point
    // boundary, kFailed once invalid, another value inside a multibyte
    // sequence (it tells which bytes may come next).
    static constexpr quint8 kFailed = 1;
    quint8 m_state = 0;
};

// One-shot validation of a complete text.
bool isValidUtf8(const char *data, std::size_t length);
// The scalar implementation, whatever the environment says; for tests and benchmarks.
bool isValidUtf8Scalar(const char *data, std::size_t length);
// Which implementation isValidUtf8() and Utf8Validator use: "avx2", "ssse3",
// "neon" or "scalar".
const char *utf8Implementation();

// For tests and benchmarks: the implementations this machine can run, best
// first, "scalar" last; and isValidUtf8() with one of them (any other name
// gets the scalar path).
QList<QByteArray> utf8Implementations();
bool isValidUtf8With(const QByteArray &implementation, const char *data, std::size_t length);

} // namespace wsqt::core
