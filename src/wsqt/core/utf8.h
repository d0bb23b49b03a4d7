#pragma once

// UTF-8 validation (RFC 3629), incremental and fail-fast: a code point may be
// split across calls; an invalid sequence is reported by the call that
// contains its first invalid byte. Non-characters (U+FFFE, U+FFFF, ...) are
// valid; surrogates, overlong forms and code points above U+10FFFF are not.
// An ASCII fast path and a vectorised multibyte path, with a scalar fallback
// that WS_NO_UTF_8_VALIDATE in the environment at start-up selects.

#include <QtCore/qglobal.h>

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
    void reset() { m_state = 0; m_pending = 0; }

private:
    static constexpr quint32 kFailed = 0xFFFFFFFF;
    // 0 at a boundary, kFailed once invalid, else the state of the sequence
    // in progress; m_pending holds its bytes seen so far.
    quint32 m_state = 0;
    quint32 m_pending = 0;
    friend struct Utf8ValidatorAccess;
};

// One-shot validation of a complete text.
bool isValidUtf8(const char *data, std::size_t length);
// The scalar implementation, whatever the environment says; for tests and benchmarks.
bool isValidUtf8Scalar(const char *data, std::size_t length);
// Which implementation isValidUtf8() uses: "avx2", "sse2", "neon" or "scalar".
const char *utf8Implementation();

} // namespace wsqt::core
