// Throughput of the protocol core's hot paths, one section per path, each over
// 64 B, 16 KiB and 1 MiB; memcpy of the same sizes is the yardstick.
//
//   bench_core --benchmark_filter=Unmask

#include "wsqt/core/frame.h"
#include "wsqt/core/mask.h"
#include "wsqt/core/receiver.h"
#include "wsqt/core/utf8.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qrandom.h>
#include <QtCore/qstring.h>

#include <benchmark/benchmark.h>

#include <cstring>

using namespace wsqt::core;

namespace {

void payloadSizes(benchmark::internal::Benchmark *benchmark)
{
    benchmark->Arg(64)->Arg(16 << 10)->Arg(1 << 20);
}

void setBytesProcessed(benchmark::State &state)
{
    state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}

void BM_Memcpy(benchmark::State &state)
{
    const std::size_t size = std::size_t(state.range(0));
    const QByteArray source(qsizetype(size), 'x');
    QByteArray destination(qsizetype(size), '\0');
    for (auto _ : state) {
        std::memcpy(destination.data(), source.constData(), size);
        benchmark::ClobberMemory();
    }
    setBytesProcessed(state);
}
BENCHMARK(BM_Memcpy)->Apply(payloadSizes);

// ---------------------------------------------------------------------------
// Masking

const uchar kMaskKey[4] = { 0x37, 0xfa, 0x21, 0x3d };

template <void (*Mask)(char *, std::size_t, const uchar *, std::size_t)>
void unmask(benchmark::State &state, const char *implementation)
{
    QByteArray payload(qsizetype(state.range(0)), 'x');
    for (auto _ : state) {
        Mask(payload.data(), std::size_t(payload.size()), kMaskKey, 0);
        benchmark::ClobberMemory();
    }
    setBytesProcessed(state);
    state.SetLabel(implementation);
}

void BM_Unmask(benchmark::State &state)
{
    unmask<applyMask>(state, maskImplementation());
}
BENCHMARK(BM_Unmask)->Apply(payloadSizes);

void BM_UnmaskScalar(benchmark::State &state)
{
    unmask<applyMaskScalar>(state, "scalar");
}
BENCHMARK(BM_UnmaskScalar)->Apply(payloadSizes);

// ---------------------------------------------------------------------------
// UTF-8 validation

QByteArray asciiText(qsizetype size)
{
    QByteArray text(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        text[i] = char(' ' + i % 95);
    return text;
}

// Code points of 2, 3 and 4 bytes in equal parts, no ASCII but for padding
// to the exact size: every vector block takes the multibyte path.
QByteArray multibyteText(qsizetype size)
{
    QRandomGenerator rng(42);
    QByteArray text;
    while (text.size() < size) {
        char32_t codePoint;
        switch (rng.bounded(3)) {
        case 0: codePoint = rng.bounded(0x80U, 0x800U); break;
        case 1: codePoint = rng.bounded(0x800U, 0xD800U); break;
        default: codePoint = rng.bounded(0x10000U, 0x110000U); break;
        }
        const QByteArray encoded = QString::fromUcs4(&codePoint, 1).toUtf8();
        if (text.size() + encoded.size() > size)
            break;
        text += encoded;
    }
    return text.leftJustified(size, 'a');
}

template <bool (*Validate)(const char *, std::size_t)>
void validate(benchmark::State &state, const QByteArray &text, const char *implementation)
{
    if (!Validate(text.constData(), std::size_t(text.size())))
        state.SkipWithError("test text is not valid UTF-8");
    for (auto _ : state)
        benchmark::DoNotOptimize(Validate(text.constData(), std::size_t(text.size())));
    setBytesProcessed(state);
    state.SetLabel(implementation);
}

void BM_Utf8Ascii(benchmark::State &state)
{
    validate<isValidUtf8>(state, asciiText(state.range(0)), utf8Implementation());
}
BENCHMARK(BM_Utf8Ascii)->Apply(payloadSizes);

void BM_Utf8AsciiScalar(benchmark::State &state)
{
    validate<isValidUtf8Scalar>(state, asciiText(state.range(0)), "scalar");
}
BENCHMARK(BM_Utf8AsciiScalar)->Apply(payloadSizes);

void BM_Utf8Multibyte(benchmark::State &state)
{
    validate<isValidUtf8>(state, multibyteText(state.range(0)), utf8Implementation());
}
BENCHMARK(BM_Utf8Multibyte)->Apply(payloadSizes);

void BM_Utf8MultibyteScalar(benchmark::State &state)
{
    validate<isValidUtf8Scalar>(state, multibyteText(state.range(0)), "scalar");
}
BENCHMARK(BM_Utf8MultibyteScalar)->Apply(payloadSizes);

// ---------------------------------------------------------------------------
// Frame parsing: a stream of masked 64-byte binary messages, as a server
// receives them, parsed into message events. Bytes processed count the whole
// stream, so the figure compares with memcpy of the same bytes.

QByteArray maskedFrameStream(qsizetype streamSize, qsizetype payloadSize)
{
    QByteArray stream;
    const QByteArray payload(payloadSize, 'p');
    char header[kMaxFrameHeaderSize];
    while (stream.size() + payloadSize + kMaxFrameHeaderSize <= streamSize) {
        const int headerSize = writeFrameHeader(header, FrameFlags(), quint64(payloadSize), kMaskKey);
        stream.append(header, headerSize);
        const qsizetype start = stream.size();
        stream.append(payload);
        applyMask(stream.data() + start, std::size_t(payloadSize), kMaskKey);
    }
    return stream;
}

void BM_ParseFrames64(benchmark::State &state)
{
    const QByteArray stream = maskedFrameStream(state.range(0), 64);
    ReceiverOptions options;
    options.role = Role::Server;
    int64_t messages = 0;
    for (auto _ : state) {
        Receiver receiver(options);
        receiver.feed(stream.constData(), stream.size());
        ReceiverEvent event;
        while (receiver.next(&event)) {
            benchmark::DoNotOptimize(event.data.constData());
            event = ReceiverEvent();
            ++messages;
        }
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * stream.size());
    state.counters["messages/s"] = benchmark::Counter(double(messages), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseFrames64)->Arg(16 << 10)->Arg(1 << 20);

// Every implementation this machine has, by name (16 KiB and up: the name
// lookup would dominate smaller sizes).
void registerEachImplementation()
{
    for (const QByteArray &name : maskImplementations()) {
        benchmark::RegisterBenchmark(("BM_UnmaskWith/" + name).constData(),
                                     [name](benchmark::State &state) {
            QByteArray payload(qsizetype(state.range(0)), 'x');
            for (auto _ : state) {
                copyMaskedWith(name, payload.data(), payload.constData(),
                               std::size_t(payload.size()), kMaskKey);
                benchmark::ClobberMemory();
            }
            setBytesProcessed(state);
        })->Arg(16 << 10)->Arg(1 << 20);
    }
    for (const QByteArray &name : utf8Implementations()) {
        benchmark::RegisterBenchmark(("BM_Utf8MultibyteWith/" + name).constData(),
                                     [name](benchmark::State &state) {
            const QByteArray text = multibyteText(state.range(0));
            for (auto _ : state) {
                benchmark::DoNotOptimize(
                        isValidUtf8With(name, text.constData(), std::size_t(text.size())));
            }
            setBytesProcessed(state);
        })->Arg(16 << 10)->Arg(1 << 20);
    }
}

} // namespace

int main(int argc, char **argv)
{
    registerEachImplementation();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
