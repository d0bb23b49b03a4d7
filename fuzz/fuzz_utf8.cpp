// UTF-8 validation and masking, vectorised paths against the scalar ones.
// The incremental validator, fed in any chunks, fails exactly on the chunk
// that holds the first invalid byte, stays failed, and agrees with the
// one-shot validators of every implementation. Masking gives
// data[i] ^ key[(phase + i) % 4] whatever the implementation, length,
// alignment and phase, and writes nothing outside the bytes it is given.
//
// Input: [mode][chunking seed][...]. Mode bit 0 clear: the rest is a text.
// Set: [key: 4 bytes][phase][source offset][destination offset][payload];
// a phase byte with bit 7 set adds 2^40 to the phase.

#include "fuzzsupport.h"

#include <wsqt/core/mask.h>
#include <wsqt/core/utf8.h>

#include <cstring>
#include <memory>

using namespace wsqt::core;
using namespace wsqt::fuzz;

namespace {

void checkUtf8(const QByteArray &text, Random *random)
{
    const char *data = text.constData();
    const qsizetype size = text.size();
    const bool valid = isValidUtf8Scalar(data, size_t(size));
    FUZZ_CHECK(isValidUtf8(data, size_t(size)) == valid);
    for (const QByteArray &implementation : utf8Implementations())
        FUZZ_CHECK(isValidUtf8With(implementation, data, size_t(size)) == valid);

    // Byte by byte: where the first invalid byte is.
    Utf8Validator bytewise;
    qsizetype firstInvalid = -1;
    for (qsizetype i = 0; i < size && firstInvalid < 0; ++i) {
        if (!bytewise.feed(data + i, 1))
            firstInvalid = i;
    }
    FUZZ_CHECK(valid == (firstInvalid < 0 && bytewise.isComplete()));

    Utf8Validator chunked;
    bool failed = false;
    qsizetype pos = 0;
    while (pos < size) {
        const qsizetype n = random->below(16) ? random->chunk(size - pos) : 0;
        const bool ok = chunked.feed(data + pos, size_t(n));
        const bool holdsFirstInvalid = firstInvalid >= pos && firstInvalid < pos + n;
        FUZZ_CHECK(ok == (!failed && !holdsFirstInvalid));
        failed = !ok;
        FUZZ_CHECK(chunked.hasFailed() == failed);
        pos += n;
        // Before the failure, "complete" means the text so far is valid.
        if (!failed && random->below(8) == 0)
            FUZZ_CHECK(chunked.isComplete() == isValidUtf8Scalar(data, size_t(pos)));
    }
    FUZZ_CHECK((!failed && chunked.isComplete()) == valid);
    if (failed) {
        FUZZ_CHECK(!chunked.feed("a", 1));
        FUZZ_CHECK(chunked.hasFailed() && !chunked.isComplete());
    }
    chunked.reset();
    FUZZ_CHECK(chunked.isComplete() && !chunked.hasFailed());
    FUZZ_CHECK(chunked.feed(data, size_t(size)) == (firstInvalid < 0));
}

// A buffer of exactly `offset + size` bytes, the first `offset` of them a
// guard, so that AddressSanitizer sees any access past the end and
// guardIntact() any write before the start.
class Buffer
{
public:
    Buffer(size_t offset, const QByteArray &content)
        : m_offset(offset), m_size(size_t(content.size())), m_bytes(new char[offset + m_size])
    {
        std::memset(m_bytes.get(), kGuard, offset);
        if (m_size)
            std::memcpy(data(), content.constData(), m_size);
    }
    char *data() { return m_bytes.get() + m_offset; }
    QByteArray content() const { return QByteArray(m_bytes.get() + m_offset, qsizetype(m_size)); }
    bool guardIntact() const
    {
        for (size_t i = 0; i < m_offset; ++i) {
            if (m_bytes[i] != kGuard)
                return false;
        }
        return true;
    }

private:
    static constexpr char kGuard = char(0xa5);
    size_t m_offset;
    size_t m_size;
    std::unique_ptr<char[]> m_bytes;
};

void checkMask(FuzzInput *input, Random *random)
{
    // Braced initialisers are evaluated in order.
    const uchar key[4] = {input->byte(), input->byte(), input->byte(), input->byte()};
    const uint8_t phaseByte = input->byte();
    const size_t phase = (phaseByte & 0x7f) + (phaseByte & 0x80 ? size_t(1) << 40 : 0);
    const size_t sourceOffset = input->byte() % 64;
    const size_t destinationOffset = input->byte() % 64;
    const QByteArray payload = input->rest();
    const size_t size = size_t(payload.size());

    QByteArray expected = payload;
    for (size_t i = 0; i < size; ++i)
        expected[qsizetype(i)] = char(payload[qsizetype(i)] ^ key[(phase + i) % 4]);

    const auto inPlace = [&](auto mask) {
        Buffer buffer(sourceOffset, payload);
        mask(buffer.data());
        FUZZ_CHECK(buffer.guardIntact());
        FUZZ_CHECK(buffer.content() == expected);
    };
    inPlace([&](char *data) { applyMask(data, size, key, phase); });
    inPlace([&](char *data) { applyMaskScalar(data, size, key, phase); });
    inPlace([&](char *data) { copyMasked(data, data, size, key, phase); });
    // In chunks, each with the phase it starts at.
    inPlace([&](char *data) {
        size_t pos = 0;
        while (pos < size) {
            const size_t n = size_t(random->chunk(qsizetype(size - pos)));
            applyMask(data + pos, n, key, phase + pos);
            pos += n;
        }
    });

    const auto copy = [&](auto mask) {
        Buffer source(sourceOffset, payload);
        Buffer destination(destinationOffset, QByteArray(qsizetype(size), '\0'));
        mask(destination.data(), source.data());
        FUZZ_CHECK(source.guardIntact() && destination.guardIntact());
        FUZZ_CHECK(source.content() == payload);
        FUZZ_CHECK(destination.content() == expected);
    };
    copy([&](char *dst, const char *src) { copyMasked(dst, src, size, key, phase); });
    for (const QByteArray &implementation : maskImplementations()) {
        copy([&](char *dst, const char *src) { copyMaskedWith(implementation, dst, src, size, key, phase); });
    }
}

} // namespace

namespace wsqt::fuzz {

void addSeedInputs(const QString &, const QByteArray &content, QList<QByteArray> *inputs)
{
    // The texts of the cases file ("verdict | hex | description"), as texts
    // and as payloads to mask.
    uint8_t seed = 0;
    for (const QByteArray &line : content.split('\n')) {
        const QList<QByteArray> fields = line.split('|');
        if (line.startsWith('#') || fields.size() != 3)
            continue;
        const QByteArray text = QByteArray::fromHex(fields[1].simplified().replace(' ', QByteArray()));
        ++seed;
        inputs->append(QByteArray(1, '\0') + char(seed) + text);
        inputs->append(QByteArray("\x01", 1) + char(seed) + "\x12\x34\x56\x78" + char(seed) + char(seed % 7)
                       + char(seed % 5) + text);
    }
}

void addGeneratedInputs(QList<QByteArray> *inputs)
{
    // Long texts, so that the vector paths meet code points across their blocks.
    const QByteArray mixed("0123456789abcdef \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ok \xef\xbf\xbf");
    for (int repeat : {3, 17, 100}) {
        const QByteArray text = mixed.repeated(repeat);
        inputs->append(QByteArray(1, '\0') + char(repeat) + text);
        inputs->append(QByteArray(1, '\0') + char(repeat + 1) + text + "\xed\xa0\x80");
        inputs->append(QByteArray(1, '\0') + char(repeat + 2) + text.left(text.size() - 1));
    }
    QByteArray payload;
    for (int length = 0; length < 300; length += 7) {
        payload.resize(length);
        for (int i = 0; i < length; ++i)
            payload[i] = char(i * 31);
        inputs->append(QByteArray("\x01", 1) + char(length) + QByteArray("\xff\x00\x81\x7e", 4) + char(length | 0x80)
                       + char(length % 64) + char(length % 3) + payload);
    }
}

} // namespace wsqt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const uint8_t mode = input.byte();
    Random random(input.byte());
    if (mode & 1)
        checkMask(&input, &random);
    else
        checkUtf8(input.rest(), &random);
    return 0;
}
