#include "mask.h"

#include "cpudispatch.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#  include <immintrin.h>
#  define WSQT_MASK_SSE2 1
#  if defined(__GNUC__)
#    define WSQT_MASK_AVX2 1
#  endif
#elif defined(__ARM_NEON)
#  include <arm_neon.h>
#  define WSQT_MASK_NEON 1
#endif

namespace wsqt::core {

namespace {

// The four key bytes as they apply from byte `phase` of the payload on, packed
// in memory order so that a plain load of payload bytes lines up with them.
quint32 keyWord(const uchar key[4], std::size_t phase)
{
    const uchar bytes[4] = { key[phase & 3], key[(phase + 1) & 3], key[(phase + 2) & 3],
                             key[(phase + 3) & 3] };
    quint32 word;
    std::memcpy(&word, bytes, sizeof word);
    return word;
}

// Portable path: 64-bit words, then the last 0..7 bytes one by one. Loads and
// stores go through memcpy, so any alignment is fine and nothing outside
// [src, src + length) or [dst, dst + length) is touched.
void maskWords(uchar *dst, const uchar *src, std::size_t length, quint32 key)
{
    const quint64 key64 = (quint64(key) << 32) | key;
    std::size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        quint64 word;
        std::memcpy(&word, src + i, sizeof word);
        word ^= key64;
        std::memcpy(dst + i, &word, sizeof word);
    }
    uchar keyBytes[4];
    std::memcpy(keyBytes, &key, sizeof keyBytes);
    for (; i < length; ++i)
        dst[i] = src[i] ^ keyBytes[i & 3];
}

// Each implementation masks dst[i] = src[i] ^ key[(phase + i) % 4]. Vector
// loops step by multiples of 4 bytes, so the key word they start with also
// fits the bytes after them.
using MaskFunction = void (*)(uchar *dst, const uchar *src, std::size_t length,
                              const uchar key[4], std::size_t phase);

void maskScalar(uchar *dst, const uchar *src, std::size_t length, const uchar key[4],
                std::size_t phase)
{
    maskWords(dst, src, length, keyWord(key, phase));
}

#if defined(WSQT_MASK_SSE2)
void maskSse2(uchar *dst, const uchar *src, std::size_t length, const uchar key[4],
              std::size_t phase)
{
    const quint32 word = keyWord(key, phase);
    const __m128i key128 = _mm_set1_epi32(int(word));
    std::size_t i = 0;
    for (; i + 16 <= length; i += 16) {
        const __m128i data = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_xor_si128(data, key128));
    }
    maskWords(dst + i, src + i, length - i, word);
}
#endif

#if defined(WSQT_MASK_AVX2)
constexpr std::size_t kAlignAbove = 256;

__attribute__((target("avx2")))
void maskAvx2(uchar *dst, const uchar *src, std::size_t length, const uchar key[4],
              std::size_t phase)
{
    std::size_t i = 0;
    if (length >= kAlignAbove) {
        // Up to an aligned destination: stores that split cache lines slow
        // long payloads down by about a sixth.
        i = (32 - reinterpret_cast<std::uintptr_t>(dst) % 32) % 32;
        maskWords(dst, src, i, keyWord(key, phase));
    }
    const quint32 word = keyWord(key, phase + i);
    const __m256i key256 = _mm256_set1_epi32(int(word));
    for (; i + 64 <= length; i += 64) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + i + 32));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i), _mm256_xor_si256(a, key256));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i + 32),
                            _mm256_xor_si256(b, key256));
    }
    for (; i + 16 <= length; i += 16) {
        const __m128i data = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i),
                         _mm_xor_si128(data, _mm256_castsi256_si128(key256)));
    }
    // The compiler leaves out vzeroupper before a tail call; without it, SSE
    // code that runs next (here or in the caller) pays for the dirty upper halves.
    _mm256_zeroupper();
    maskWords(dst + i, src + i, length - i, word);
}
#endif

#if defined(WSQT_MASK_NEON)
void maskNeon(uchar *dst, const uchar *src, std::size_t length, const uchar key[4],
              std::size_t phase)
{
    const quint32 word = keyWord(key, phase);
    uchar repeated[16];
    for (std::size_t i = 0; i < sizeof repeated; i += 4)
        std::memcpy(repeated + i, &word, sizeof word);
    const uint8x16_t key128 = vld1q_u8(repeated);
    std::size_t i = 0;
    for (; i + 16 <= length; i += 16)
        vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), key128));
    maskWords(dst + i, src + i, length - i, word);
}
#endif

struct MaskImplementation
{
    const char *name;
    CpuFeature feature;
    MaskFunction function;
};

// Best first; the last one runs everywhere.
constexpr MaskImplementation kImplementations[] = {
#if defined(WSQT_MASK_AVX2)
    { "avx2", CpuFeature::Avx2, maskAvx2 },
#endif
#if defined(WSQT_MASK_SSE2)
    { "sse2", CpuFeature::Baseline, maskSse2 },
#elif defined(WSQT_MASK_NEON)
    { "neon", CpuFeature::Baseline, maskNeon },
#endif
    { "scalar", CpuFeature::Baseline, maskScalar },
};

// Chosen once, on first use; the initialisation of a function-local static is
// thread-safe.
const MaskImplementation &implementation()
{
    static const MaskImplementation &selected = selectImplementation(kImplementations, "WS_NO_BUFFER_UTIL");
    return selected;
}

} // namespace

void applyMask(char *data, std::size_t length, const uchar key[4], std::size_t phase)
{
    uchar *bytes = reinterpret_cast<uchar *>(data);
    implementation().function(bytes, bytes, length, key, phase);
}

void copyMasked(char *dst, const char *src, std::size_t length, const uchar key[4],
                std::size_t phase)
{
    implementation().function(reinterpret_cast<uchar *>(dst),
                              reinterpret_cast<const uchar *>(src), length, key, phase);
}

void applyMaskScalar(char *data, std::size_t length, const uchar key[4], std::size_t phase)
{
    uchar *bytes = reinterpret_cast<uchar *>(data);
    maskScalar(bytes, bytes, length, key, phase);
}

const char *maskImplementation()
{
    return implementation().name;
}

QList<QByteArray> maskImplementations()
{
    return supportedImplementations(kImplementations);
}

void copyMaskedWith(const QByteArray &implementationName, char *dst, const char *src,
                    std::size_t length, const uchar key[4], std::size_t phase)
{
    const MaskFunction function = implementationNamed(kImplementations, implementationName).function;
    function(reinterpret_cast<uchar *>(dst), reinterpret_cast<const uchar *>(src), length, key,
             phase);
}

} // namespace wsqt::core
