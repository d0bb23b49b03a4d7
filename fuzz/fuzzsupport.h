#pragma once

// Shared by the fuzz targets: reading an input as a stream of choices, a
// deterministic chunker, and the checks that stop the process when a
// contract is broken (libFuzzer and the replay runner both report the abort
// with the input that caused it).

#include <wsqt/core/extension.h>
#include <wsqt/core/frame.h>
#include <wsqt/core/permessagedeflate.h>
#include <wsqt/core/receiver.h>
#include <wsqt/core/utf8.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) \
            wsqt::fuzz::violated(#condition, __FILE__, __LINE__); \
    } while (false)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace wsqt::fuzz {

[[noreturn]] inline void violated(const char *condition, const char *file, int line)
{
    std::fprintf(stderr, "%s:%d: contract violated: %s\n", file, line, condition);
    std::abort();
}

// The input as a sequence of choices; reading past its end gives zeros, so
// every input, however short, is a valid run.
class FuzzInput
{
public:
    FuzzInput(const uint8_t *data, size_t size) : m_data(data), m_size(size) { }

    size_t remaining() const { return m_size - m_pos; }
    bool atEnd() const { return m_pos == m_size; }

    uint8_t byte() { return atEnd() ? 0 : m_data[m_pos++]; }
    quint16 u16()
    {
        const uint8_t high = byte();
        return quint16(high << 8 | byte());
    }
    // Up to `count` bytes, fewer at the end of the input.
    QByteArray bytes(size_t count)
    {
        count = count < remaining() ? count : remaining();
        QByteArray result(reinterpret_cast<const char *>(m_data + m_pos), qsizetype(count));
        m_pos += count;
        return result;
    }
    QByteArray rest() { return bytes(remaining()); }

private:
    const uint8_t *m_data;
    size_t m_size;
    size_t m_pos = 0;
};

// A small deterministic generator (splitmix64): the same seed gives the same
// chunking on every run, so a saved input reproduces its failure.
class Random
{
public:
    explicit Random(quint64 seed) : m_state(seed) { }

    quint64 next()
    {
        quint64 z = (m_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // A number in [0, bound), bound > 0.
    quint64 below(quint64 bound) { return next() % bound; }

    // The size of the next chunk of `remaining` bytes (at least 1 when
    // remaining > 0): mostly tiny, so that every boundary inside a header,
    // a code point or a line is met, sometimes large or all at once.
    qsizetype chunk(qsizetype remaining)
    {
        if (remaining <= 1)
            return remaining;
        qsizetype size;
        switch (below(8)) {
        case 0: size = 1; break;
        case 1: case 2: case 3: size = qsizetype(1 + below(8)); break;
        case 4: case 5: size = qsizetype(1 + below(64)); break;
        case 6: size = qsizetype(1 + below(4096)); break;
        default: size = remaining; break;
        }
        return size < remaining ? size : remaining;
    }

private:
    quint64 m_state;
};

// ---- the receiver's contract, shared by the targets that parse frames

// The close code that goes with each error the receiver may report: ws's.
inline int receiverCloseCode(WsError::Code code)
{
    switch (code) {
    case WsError::InvalidUtf8:
    case WsError::InvalidCompressedData:
        return 1007;
    case WsError::UnsupportedDataPayloadLength:
    case WsError::UnsupportedMessageLength:
        return 1009;
    case WsError::TooManyBufferedParts:
        return 1008;
    default:
        return 1002;
    }
}

inline bool isTerminal(const core::ReceiverEvent &event)
{
    return event.type == core::ReceiverEvent::Error || event.type == core::ReceiverEvent::Close;
}

// An event is one the receiver documents, within the options' limits.
inline void checkReceiverEvent(const core::ReceiverEvent &event, const core::ReceiverOptions &options)
{
    switch (event.type) {
    case core::ReceiverEvent::Error: {
        const WsError &error = event.error;
        FUZZ_CHECK(error.codeName().startsWith(QLatin1String("WS_ERR_"))
                   || error.code() == WsError::InvalidCompressedData);
        FUZZ_CHECK(error.closeCode() == receiverCloseCode(error.code()));
        FUZZ_CHECK(!error.message().isEmpty());
        break;
    }
    case core::ReceiverEvent::Message: {
        // Text always arrives whole.
        FUZZ_CHECK(event.asFragments == (options.keepFragments && event.binary));
        const QByteArray payload = event.asFragments ? event.fragments.join() : event.data;
        if (event.asFragments) {
            FUZZ_CHECK(event.data.isEmpty());
            for (const QByteArray &fragment : event.fragments)
                FUZZ_CHECK(!fragment.isEmpty());
        } else {
            FUZZ_CHECK(event.fragments.isEmpty());
        }
        if (options.maxPayload)
            FUZZ_CHECK(quint64(payload.size()) <= options.maxPayload);
        if (!event.binary && !options.skipUtf8Validation)
            FUZZ_CHECK(core::isValidUtf8Scalar(payload.constData(), size_t(payload.size())));
        break;
    }
    case core::ReceiverEvent::Ping:
    case core::ReceiverEvent::Pong:
        FUZZ_CHECK(event.data.size() <= core::kMaxControlPayload);
        break;
    case core::ReceiverEvent::Close:
        FUZZ_CHECK(event.closeCode == 1005 || core::isValidCloseCode(event.closeCode));
        FUZZ_CHECK(event.closeCode != 1005 || event.data.isEmpty());
        FUZZ_CHECK(event.data.size() <= core::kMaxControlPayload - 2);
        if (!options.skipUtf8Validation)
            FUZZ_CHECK(core::isValidUtf8Scalar(event.data.constData(), size_t(event.data.size())));
        break;
    case core::ReceiverEvent::None:
        violated("an event without a type", __FILE__, __LINE__);
    }
}

inline bool sameEvent(const core::ReceiverEvent &a, const core::ReceiverEvent &b)
{
    return a.type == b.type && a.binary == b.binary && a.data == b.data && a.fragments == b.fragments
            && a.asFragments == b.asFragments && a.closeCode == b.closeCode && a.error == b.error;
}

// permessage-deflate for one end, as negotiated with the defaults or, with
// `negotiated`, with no context takeover and 10-bit windows both ways (and
// 64-byte inflate steps, so that output is produced in many pieces). Null
// in a build without zlib, where the targets run without compression.
inline std::unique_ptr<core::PerMessageDeflate> makeDeflate(core::Role role, bool negotiated)
{
    if (!core::PerMessageDeflate::isAvailable())
        return nullptr;
    WsDeflateOptions options;
    if (negotiated)
        options.zlibInflateOptions.chunkSize = 64;
    auto deflate = std::make_unique<core::PerMessageDeflate>(options, role);
    if (negotiated) {
        const char agreed[] = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                              "server_max_window_bits=10; client_max_window_bits=10";
        QList<core::ExtensionOffer> offers;
        QString error;
        FUZZ_CHECK(core::parseExtensions(agreed, &offers, &error));
        if (role == core::Role::Server) {
            QByteArray response;
            FUZZ_CHECK(deflate->acceptOffers(offers, &response, &error));
        } else {
            FUZZ_CHECK(deflate->acceptResponse(offers.first(), &error));
        }
    }
    return deflate;
}

// Defined by each target, for the replay runner and the corpus it writes.
// The inputs that one seed file gives (`content` already decoded from hex
// where the file is a .hex vector), and inputs the target builds itself.
void addSeedInputs(const QString &fileName, const QByteArray &content, QList<QByteArray> *inputs);
void addGeneratedInputs(QList<QByteArray> *inputs);

} // namespace wsqt::fuzz
