#include "utf8.h"

#include "cpudispatch.h"

#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__)
#  include <immintrin.h>
#  define WSQT_UTF8_X86 1
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__ORDER_LITTLE_ENDIAN__) \
        && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ // contextBefore() packs little-endian
#  include <arm_neon.h>
#  define WSQT_UTF8_NEON 1
#endif

namespace wsqt::core {

namespace {

// ---------------------------------------------------------------------------
// Scalar automaton, after the table of well-formed sequences in RFC 3629 §4.
// It is exact byte by byte: it fails on the first byte that no valid text can
// continue with, so the incremental validator runs every byte next to a
// chunk boundary through it.

// Bytes that the table treats alike.
enum ByteClass : quint8 {
    Ascii,  // 00..7F
    Cont8,  // 80..8F
    Cont9,  // 90..9F
    ContAB, // A0..BF
    Never,  // C0, C1, F5..FF: in no well-formed sequence
    Lead2,  // C2..DF
    LeadE0, // E0: then A0..BF, shorter forms would be overlong
    Lead3,  // E1..EC, EE, EF
    LeadED, // ED: then 80..9F, above are the surrogates
    LeadF0, // F0: then 90..BF, shorter forms would be overlong
    Lead4,  // F1..F3
    LeadF4, // F4: then 80..8F, above is beyond U+10FFFF
};

constexpr ByteClass classOf(uint byte)
{
    if (byte < 0x80)
        return Ascii;
    if (byte < 0x90)
        return Cont8;
    if (byte < 0xA0)
        return Cont9;
    if (byte < 0xC0)
        return ContAB;
    if (byte < 0xC2)
        return Never;
    if (byte < 0xE0)
        return Lead2;
    if (byte == 0xE0)
        return LeadE0;
    if (byte == 0xED)
        return LeadED;
    if (byte < 0xF0)
        return Lead3;
    if (byte == 0xF0)
        return LeadF0;
    if (byte < 0xF4)
        return Lead4;
    return byte == 0xF4 ? LeadF4 : Never;
}

// What may come next. Boundary and Failed are the values Utf8Validator
// exposes through isComplete() and hasFailed().
enum State : quint8 {
    Boundary,   // a new code point
    Failed,     // nothing: the text is invalid
    Need1,      // one continuation byte
    Need2,      // two continuation bytes
    Need3,      // three continuation bytes
    NeedA0,     // A0..BF, then one continuation byte
    Need80To9F, // 80..9F, then one continuation byte
    Need90,     // 90..BF, then two continuation bytes
    Need80To8F, // 80..8F, then two continuation bytes
    StateCount
};

constexpr State transition(State state, ByteClass byteClass)
{
    const bool continuation = byteClass == Cont8 || byteClass == Cont9 || byteClass == ContAB;
    switch (state) {
    case Boundary:
        switch (byteClass) {
        case Ascii: return Boundary;
        case Lead2: return Need1;
        case LeadE0: return NeedA0;
        case Lead3: return Need2;
        case LeadED: return Need80To9F;
        case LeadF0: return Need90;
        case Lead4: return Need3;
        case LeadF4: return Need80To8F;
        default: return Failed;
        }
    case Need1: return continuation ? Boundary : Failed;
    case Need2: return continuation ? Need1 : Failed;
    case Need3: return continuation ? Need2 : Failed;
    case NeedA0: return byteClass == ContAB ? Need1 : Failed;
    case Need80To9F: return byteClass == Cont8 || byteClass == Cont9 ? Need1 : Failed;
    case Need90: return byteClass == Cont9 || byteClass == ContAB ? Need2 : Failed;
    case Need80To8F: return byteClass == Cont8 ? Need2 : Failed;
    default: return Failed;
    }
}

constexpr uint kClassSlots = 16; // one row of the transition table per state

struct AutomatonTables
{
    quint8 classes[256];
    quint8 next[StateCount * kClassSlots];
};

constexpr AutomatonTables makeAutomatonTables()
{
    AutomatonTables tables = {};
    for (uint byte = 0; byte < 256; ++byte)
        tables.classes[byte] = classOf(byte);
    for (uint state = 0; state < StateCount; ++state) {
        for (uint byteClass = 0; byteClass < kClassSlots; ++byteClass) {
            tables.next[state * kClassSlots + byteClass] = byteClass <= LeadF4
                    ? transition(State(state), ByteClass(byteClass))
                    : Failed;
        }
    }
    return tables;
}

constexpr AutomatonTables kAutomaton = makeAutomatonTables();

inline quint8 step(quint8 state, uchar byte)
{
    return kAutomaton.next[state * kClassSlots + kAutomaton.classes[byte]];
}

const uchar *skipAscii(const uchar *p, const uchar *end)
{
    while (end - p >= 8) {
        quint64 word;
        std::memcpy(&word, p, sizeof word);
        if (word & 0x8080808080808080ULL)
            break;
        p += 8;
    }
    while (p != end && *p < 0x80)
        ++p;
    return p;
}

// Runs the automaton over [p, end) from `state`, stopping at the first invalid
// byte; returns the state it ends in.
quint8 scanScalar(quint8 state, const uchar *p, const uchar *end)
{
    while (p != end) {
        if (state == Boundary) {
            p = skipAscii(p, end);
            if (p == end)
                break;
        }
        state = step(state, *p++);
        if (state == Failed)
            break;
    }
    return state;
}

// ---------------------------------------------------------------------------
// Vectorised validation: the "lookup" algorithm of J. Keiser and D. Lemire,
// "Validating UTF-8 In Less Than One Instruction Per Byte" (Software: Practice
// and Experience, 2021).
//
// Each byte is classified together with the byte before it. Three 16-entry
// tables, indexed by the high and the low nibble of the previous byte and the
// high nibble of the current one, give the errors that the pair could be part
// of; their AND is the set of errors it is. A pair cannot tell whether a
// continuation byte after a continuation byte is the third or fourth byte of
// its sequence (fine) or one too many: the bytes two and three back decide.
// The checker sees whole texts that end on a code point boundary, so a
// sequence still open at the end is an error.

// The checkers take 64 bytes at a time.
constexpr std::size_t kVectorBlock = 64;

#if defined(WSQT_UTF8_X86) || defined(WSQT_UTF8_NEON)

// Error bits of a byte pair (previous, current).
constexpr uchar kTooShort = 1 << 0;          // lead byte, then no continuation byte
constexpr uchar kTooLong = 1 << 1;           // ASCII, then a continuation byte
constexpr uchar kOverlong3 = 1 << 2;         // E0, then 80..9F
constexpr uchar kTooLarge = 1 << 3;          // F4..FF, then 90..BF
constexpr uchar kSurrogate = 1 << 4;         // ED, then A0..BF
constexpr uchar kOverlong2 = 1 << 5;         // C0 or C1, then a continuation byte
constexpr uchar kOverlong4OrTooLarge = 1 << 6; // F0 or F5..FF, then 80..8F
constexpr uchar kTwoContinuations = 1 << 7;  // a continuation byte, then another
// The bits that the high nibbles decide alone.
constexpr uchar kCarry = kTooShort | kTooLong | kTwoContinuations;

alignas(16) constexpr uchar kPreviousHigh[16] = {
    // 0..7: ASCII
    kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,
    // 8..B: continuation bytes
    kTwoContinuations, kTwoContinuations, kTwoContinuations, kTwoContinuations,
    kTooShort | kOverlong2,                       // C
    kTooShort,                                    // D
    kTooShort | kOverlong3 | kSurrogate,          // E
    kTooShort | kTooLarge | kOverlong4OrTooLarge, // F
};

alignas(16) constexpr uchar kPreviousLow[16] = {
    kCarry | kOverlong2 | kOverlong3 | kOverlong4OrTooLarge, // 0: C0, E0, F0
    kCarry | kOverlong2,                                     // 1: C1
    kCarry,                                                  // 2
    kCarry,                                                  // 3
    kCarry | kTooLarge,                                      // 4: F4
    kCarry | kTooLarge | kOverlong4OrTooLarge,               // 5..C: F5..FC
    kCarry | kTooLarge | kOverlong4OrTooLarge,
    kCarry | kTooLarge | kOverlong4OrTooLarge,
    kCarry | kTooLarge | kOverlong4OrTooLarge,
    kCarry | kTooLarge | kOverlong4OrTooLarge,
    kCarry | kTooLarge | kOverlong4OrTooLarge,
    kCarry | kTooLarge | kOverlong4OrTooLarge,
    kCarry | kTooLarge | kOverlong4OrTooLarge,
    kCarry | kTooLarge | kOverlong4OrTooLarge | kSurrogate, // D: ED, FD
    kCarry | kTooLarge | kOverlong4OrTooLarge,              // E: FE
    kCarry | kTooLarge | kOverlong4OrTooLarge,              // F: FF
};

alignas(16) constexpr uchar kCurrentHigh[16] = {
    // 0..7: ASCII
    kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,
    kTooLong | kOverlong2 | kTwoContinuations | kOverlong3 | kOverlong4OrTooLarge, // 8
    kTooLong | kOverlong2 | kTwoContinuations | kOverlong3 | kTooLarge,            // 9
    kTooLong | kOverlong2 | kTwoContinuations | kSurrogate | kTooLarge,            // A
    kTooLong | kOverlong2 | kTwoContinuations | kSurrogate | kTooLarge,            // B
    // C..F: lead bytes
    kTooShort, kTooShort, kTooShort, kTooShort,
};

// A block whose last three bytes exceed these ends inside a sequence: the
// last byte is a lead byte, the one before starts a 3- or 4-byte sequence, or
// the one before that a 4-byte sequence. Vectors of 16 bytes use the tail.
alignas(32) constexpr uchar kLastCompleteMax[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xEF, 0xDF, 0xBF,
};

// Bytes two back at or above E0, or three back at or above F0, require a
// continuation byte; saturating subtraction of these leaves the high bit set
// exactly then.
constexpr uchar kThirdByteBias = 0xE0 - 0x80;
constexpr uchar kFourthByteBias = 0xF0 - 0x80;

// The three bytes before `block` (NULs before the text's start), packed as
// the top bytes of the 32-bit word that ends a vector of the bytes before it.
quint32 contextBefore(const uchar *text, const uchar *block)
{
    quint32 word = 0;
    for (int back = 1; back <= 3 && block - back >= text; ++back)
        word |= quint32(block[-back]) << (32 - 8 * back);
    return word;
}

// Runs a checker over a whole text, 64 bytes at a time. A last partial block
// is checked as the text's last 64 bytes, overlapping the block before, with
// the bytes before them as context; only texts shorter than a block are
// copied and padded with NULs (which end no sequence). Copying is the last
// resort: loads from a buffer just written stall on store forwarding.
template <typename Checker>
bool validateBlocks(const uchar *data, std::size_t length)
{
    Checker checker;
    std::size_t i = 0;
    for (; i + kVectorBlock <= length; i += kVectorBlock)
        checker.check(data + i);
    if (i < length) {
        if (length >= kVectorBlock) {
            const uchar *const last = data + length - kVectorBlock;
            checker.checkAfter(last, contextBefore(data, last));
        } else {
            uchar padded[kVectorBlock] = {};
            std::memcpy(padded, data, length);
            checker.check(padded);
        }
    }
    return checker.isValid();
}

#endif

#if defined(WSQT_UTF8_X86)

#define WSQT_TARGET_SSSE3 __attribute__((target("ssse3")))
#define WSQT_TARGET_AVX2 __attribute__((target("avx2")))

// A checker: check() takes the next kVectorBlock bytes, isValid() says
// whether all so far were valid and ended on a code point boundary.

// 16-byte SSSE3 vectors (pshufb does the table lookups).
class Ssse3Checker
{
public:
    WSQT_TARGET_SSSE3 Ssse3Checker()
        : m_previous(_mm_setzero_si128()), m_error(_mm_setzero_si128()),
          m_incomplete(_mm_setzero_si128())
    {
    }

    WSQT_TARGET_SSSE3 void check(const uchar *block)
    {
        __m128i input[4];
        for (int i = 0; i < 4; ++i)
            input[i] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 16 * i));
        const __m128i any = _mm_or_si128(_mm_or_si128(input[0], input[1]),
                                         _mm_or_si128(input[2], input[3]));
        if (_mm_movemask_epi8(any) == 0) {
            // ASCII only: valid, unless the previous block left a sequence open.
            m_error = _mm_or_si128(m_error, m_incomplete);
            m_incomplete = _mm_setzero_si128();
        } else {
            __m128i previous = m_previous;
            for (const __m128i &current : input) {
                m_error = _mm_or_si128(m_error, pairErrors(current, previous));
                previous = current;
            }
            m_incomplete = _mm_subs_epu8(input[3], load(kLastCompleteMax + 16));
        }
        m_previous = input[3];
    }

    // check(), after the bytes in `context` (see contextBefore()) rather
    // than after the previous block.
    WSQT_TARGET_SSSE3 void checkAfter(const uchar *block, quint32 context)
    {
        m_previous = _mm_set_epi32(int(context), 0, 0, 0);
        check(block);
    }

    WSQT_TARGET_SSSE3 bool isValid() const
    {
        const __m128i error = _mm_or_si128(m_error, m_incomplete);
        return _mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) == 0xFFFF;
    }

private:
    WSQT_TARGET_SSSE3 static __m128i load(const uchar *table)
    {
        return _mm_load_si128(reinterpret_cast<const __m128i *>(table));
    }

    WSQT_TARGET_SSSE3 static __m128i highNibbles(__m128i bytes)
    {
        return _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0x0F));
    }

    WSQT_TARGET_SSSE3 static __m128i pairErrors(__m128i current, __m128i previous)
    {
        const __m128i previous1 = _mm_alignr_epi8(current, previous, 15);
        const __m128i previous2 = _mm_alignr_epi8(current, previous, 14);
        const __m128i previous3 = _mm_alignr_epi8(current, previous, 13);
        const __m128i lowNibbles = _mm_and_si128(previous1, _mm_set1_epi8(0x0F));
        const __m128i special = _mm_and_si128(
                _mm_and_si128(_mm_shuffle_epi8(load(kPreviousHigh), highNibbles(previous1)),
                              _mm_shuffle_epi8(load(kPreviousLow), lowNibbles)),
                _mm_shuffle_epi8(load(kCurrentHigh), highNibbles(current)));
        const __m128i mustContinue = _mm_and_si128(
                _mm_or_si128(_mm_subs_epu8(previous2, _mm_set1_epi8(char(kThirdByteBias))),
                             _mm_subs_epu8(previous3, _mm_set1_epi8(char(kFourthByteBias)))),
                _mm_set1_epi8(char(0x80)));
        return _mm_xor_si128(mustContinue, special);
    }

    __m128i m_previous;
    __m128i m_error;
    __m128i m_incomplete;
};

// 32-byte AVX2 vectors: two 128-bit lanes, each with the tables.
class Avx2Checker
{
public:
    WSQT_TARGET_AVX2 Avx2Checker()
        : m_previous(_mm256_setzero_si256()), m_error(_mm256_setzero_si256()),
          m_incomplete(_mm256_setzero_si256())
    {
    }

    WSQT_TARGET_AVX2 void check(const uchar *block)
    {
        const __m256i first = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block));
        const __m256i second = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(block + 32));
        if (_mm256_movemask_epi8(_mm256_or_si256(first, second)) == 0) {
            // ASCII only: valid, unless the previous block left a sequence open.
            m_error = _mm256_or_si256(m_error, m_incomplete);
            m_incomplete = _mm256_setzero_si256();
        } else {
            m_error = _mm256_or_si256(m_error, _mm256_or_si256(pairErrors(first, m_previous),
                                                               pairErrors(second, first)));
            m_incomplete = _mm256_subs_epu8(
                    second, _mm256_load_si256(reinterpret_cast<const __m256i *>(kLastCompleteMax)));
        }
        m_previous = second;
    }

    // check(), after the bytes in `context` (see contextBefore()) rather
    // than after the previous block.
    WSQT_TARGET_AVX2 void checkAfter(const uchar *block, quint32 context)
    {
        m_previous = _mm256_set_epi32(int(context), 0, 0, 0, 0, 0, 0, 0);
        check(block);
    }

    WSQT_TARGET_AVX2 bool isValid() const
    {
        const __m256i error = _mm256_or_si256(m_error, m_incomplete);
        return _mm256_testz_si256(error, error);
    }

private:
    WSQT_TARGET_AVX2 static __m256i lookup(const uchar *table, __m256i nibbles)
    {
        const __m128i entries = _mm_load_si128(reinterpret_cast<const __m128i *>(table));
        return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(entries), nibbles);
    }

    WSQT_TARGET_AVX2 static __m256i highNibbles(__m256i bytes)
    {
        return _mm256_and_si256(_mm256_srli_epi16(bytes, 4), _mm256_set1_epi8(0x0F));
    }

    WSQT_TARGET_AVX2 static __m256i pairErrors(__m256i current, __m256i previous)
    {
        // alignr shifts within 128-bit lanes: pair each lane with the one before.
        const __m256i before = _mm256_permute2x128_si256(previous, current, 0x21);
        const __m256i previous1 = _mm256_alignr_epi8(current, before, 15);
        const __m256i previous2 = _mm256_alignr_epi8(current, before, 14);
        const __m256i previous3 = _mm256_alignr_epi8(current, before, 13);
        const __m256i lowNibbles = _mm256_and_si256(previous1, _mm256_set1_epi8(0x0F));
        const __m256i special = _mm256_and_si256(
                _mm256_and_si256(lookup(kPreviousHigh, highNibbles(previous1)),
                                 lookup(kPreviousLow, lowNibbles)),
                lookup(kCurrentHigh, highNibbles(current)));
        const __m256i mustContinue = _mm256_and_si256(
                _mm256_or_si256(
                        _mm256_subs_epu8(previous2, _mm256_set1_epi8(char(kThirdByteBias))),
                        _mm256_subs_epu8(previous3, _mm256_set1_epi8(char(kFourthByteBias)))),
                _mm256_set1_epi8(char(0x80)));
        return _mm256_xor_si256(mustContinue, special);
    }

    __m256i m_previous;
    __m256i m_error;
    __m256i m_incomplete;
};

// flatten: the checker's members carry the target; inline them all here.
__attribute__((target("ssse3"), flatten))
bool validateSsse3(const uchar *data, std::size_t length)
{
    return validateBlocks<Ssse3Checker>(data, length);
}

__attribute__((target("avx2"), flatten))
bool validateAvx2(const uchar *data, std::size_t length)
{
    return validateBlocks<Avx2Checker>(data, length);
}

#endif // WSQT_UTF8_X86

#if defined(WSQT_UTF8_NEON)

// 16-byte NEON vectors (tbl does the table lookups).
class NeonChecker
{
public:
    void check(const uchar *block)
    {
        const uint8x16_t input[4] = { vld1q_u8(block), vld1q_u8(block + 16),
                                      vld1q_u8(block + 32), vld1q_u8(block + 48) };
        const uint8x16_t any = vorrq_u8(vorrq_u8(input[0], input[1]),
                                        vorrq_u8(input[2], input[3]));
        if (vmaxvq_u8(any) < 0x80) {
            // ASCII only: valid, unless the previous block left a sequence open.
            m_error = vorrq_u8(m_error, m_incomplete);
            m_incomplete = vdupq_n_u8(0);
        } else {
            uint8x16_t previous = m_previous;
            for (const uint8x16_t &current : input) {
                m_error = vorrq_u8(m_error, pairErrors(current, previous));
                previous = current;
            }
            m_incomplete = vqsubq_u8(input[3], vld1q_u8(kLastCompleteMax + 16));
        }
        m_previous = input[3];
    }

    // check(), after the bytes in `context` (see contextBefore()) rather
    // than after the previous block.
    void checkAfter(const uchar *block, quint32 context)
    {
        m_previous = vreinterpretq_u8_u32(vsetq_lane_u32(context, vdupq_n_u32(0), 3));
        check(block);
    }

    bool isValid() const { return vmaxvq_u8(vorrq_u8(m_error, m_incomplete)) == 0; }

private:
    static uint8x16_t pairErrors(uint8x16_t current, uint8x16_t previous)
    {
        const uint8x16_t previous1 = vextq_u8(previous, current, 15);
        const uint8x16_t previous2 = vextq_u8(previous, current, 14);
        const uint8x16_t previous3 = vextq_u8(previous, current, 13);
        const uint8x16_t special = vandq_u8(
                vandq_u8(vqtbl1q_u8(vld1q_u8(kPreviousHigh), vshrq_n_u8(previous1, 4)),
                         vqtbl1q_u8(vld1q_u8(kPreviousLow), vandq_u8(previous1, vdupq_n_u8(0x0F)))),
                vqtbl1q_u8(vld1q_u8(kCurrentHigh), vshrq_n_u8(current, 4)));
        const uint8x16_t mustContinue = vandq_u8(
                vorrq_u8(vqsubq_u8(previous2, vdupq_n_u8(kThirdByteBias)),
                         vqsubq_u8(previous3, vdupq_n_u8(kFourthByteBias))),
                vdupq_n_u8(0x80));
        return veorq_u8(mustContinue, special);
    }

    uint8x16_t m_previous = vdupq_n_u8(0);
    uint8x16_t m_error = vdupq_n_u8(0);
    uint8x16_t m_incomplete = vdupq_n_u8(0);
};

bool validateNeon(const uchar *data, std::size_t length)
{
    return validateBlocks<NeonChecker>(data, length);
}

#endif // WSQT_UTF8_NEON

// ---------------------------------------------------------------------------
// Dispatch

// Validates a whole text that ends on a code point boundary; null for the
// scalar path.
using VectorValidator = bool (*)(const uchar *data, std::size_t length);

struct Utf8Implementation
{
    const char *name;
    CpuFeature feature;
    VectorValidator validate;
};

// Best first; the last one runs everywhere.
constexpr Utf8Implementation kImplementations[] = {
#if defined(WSQT_UTF8_X86)
    { "avx2", CpuFeature::Avx2, validateAvx2 },
    { "ssse3", CpuFeature::Ssse3, validateSsse3 },
#elif defined(WSQT_UTF8_NEON)
    { "neon", CpuFeature::Baseline, validateNeon },
#endif
    { "scalar", CpuFeature::Baseline, nullptr },
};

// Chosen once, on first use; the initialisation of a function-local static is
// thread-safe.
const Utf8Implementation &implementation()
{
    static const Utf8Implementation &selected = selectImplementation(kImplementations, "WS_NO_UTF_8_VALIDATE");
    return selected;
}

// Below this many bytes the scalar automaton is as fast as a vector block.
constexpr std::size_t kVectorMinimum = 16;

// The vector checker needs a text that ends on a code point boundary: if the
// last bytes are a sequence that needs more bytes than it has, this returns
// where that sequence starts (for the scalar automaton to take over), else end.
const uchar *endOfCompleteText(const uchar *begin, const uchar *end)
{
    for (std::ptrdiff_t back = 1; back <= 3 && back <= end - begin; ++back) {
        const uchar byte = end[-back];
        if (byte < 0x80)
            break;
        if (byte >= 0xC0) {
            const std::ptrdiff_t sequenceLength = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
            return sequenceLength > back ? end - back : end;
        }
    }
    return end;
}

// Validates the next `length` bytes from `state` with the automaton and, if
// given, a vector validator; returns the new state.
quint8 scan(VectorValidator validate, quint8 state, const uchar *p, std::size_t length)
{
    const uchar *const end = p + length;

    // Finish the sequence that the previous call left open (three bytes at most).
    while (state != Boundary && p != end) {
        state = step(state, *p++);
        if (state == Failed)
            return Failed;
    }

    // Then the vector path, over everything up to the last complete code
    // point; a sequence still open at the end stays with the automaton. What
    // the vector path rejects is invalid within this call's bytes: it starts
    // on a boundary, and if its text ends inside a sequence, the byte after
    // it here is a lead byte, which breaks that sequence.
    if (validate) {
        if (std::size_t(end - p) < kVectorBlock)
            p = skipAscii(p, end); // short texts are often ASCII: cheaper than a padded block
        if (std::size_t(end - p) >= kVectorMinimum) {
            const uchar *const completeEnd = endOfCompleteText(p, end);
            if (!validate(p, std::size_t(completeEnd - p)))
                return Failed;
            p = completeEnd;
        }
    }

    return scanScalar(state, p, end);
}

} // namespace

bool Utf8Validator::feed(const char *data, std::size_t length)
{
    static_assert(kFailed == Failed && Boundary == 0,
                  "Utf8Validator mirrors the automaton's states");
    if (m_state != Failed) {
        m_state = scan(implementation().validate, m_state, reinterpret_cast<const uchar *>(data),
                       length);
    }
    return m_state != Failed;
}

bool isValidUtf8(const char *data, std::size_t length)
{
    return scan(implementation().validate, Boundary, reinterpret_cast<const uchar *>(data), length)
            == Boundary;
}

bool isValidUtf8Scalar(const char *data, std::size_t length)
{
    return scan(nullptr, Boundary, reinterpret_cast<const uchar *>(data), length) == Boundary;
}

const char *utf8Implementation()
{
    return implementation().name;
}

QList<QByteArray> utf8Implementations()
{
    return supportedImplementations(kImplementations);
}

bool isValidUtf8With(const QByteArray &implementationName, const char *data, std::size_t length)
{
    const VectorValidator validate = implementationNamed(kImplementations, implementationName).validate;
    return scan(validate, Boundary, reinterpret_cast<const uchar *>(data), length) == Boundary;
}

} // namespace wsqt::core
