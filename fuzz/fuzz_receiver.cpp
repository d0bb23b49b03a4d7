// The frame parser: whatever the bytes and however they arrive, it gives the
// events it gives for the whole stream at once, each within the limits of its
// options (errors with ws's codes and close codes, messages no larger than
// maxPayload, text that is UTF-8), and it stops after an error or a close.
//
// Input: [options][chunking seed][stream]. The options byte:
//   bit 0     server (expects masked frames), else client
//   bit 1     skipUtf8Validation
//   bit 2     keepFragments (binary messages as their frames)
//   bits 3-4  maxPayload: the default, none, 10 or 300
//   bit 5     maxFragments 3
//   bit 6     permessage-deflate negotiated: compressed messages are inflated
//   bit 7     with it: no context takeover, 10-bit windows, 64-byte inflate steps

#include "fuzzsupport.h"

#include <wsqt/core/sender.h>

#include <cstring>
#include <memory>

using namespace wsqt::core;
using namespace wsqt::fuzz;

namespace {

struct Config
{
    ReceiverOptions options;
    bool deflate = false;
    bool negotiated = false;
};

Config parseConfig(uint8_t byte)
{
    const quint64 maxPayloads[] = {ReceiverOptions().maxPayload, 0, 10, 300};
    Config config;
    config.options.role = byte & 0x01 ? Role::Server : Role::Client;
    config.options.skipUtf8Validation = byte & 0x02;
    config.options.keepFragments = byte & 0x04;
    config.options.maxPayload = maxPayloads[(byte >> 3) & 3];
    if (byte & 0x20)
        config.options.maxFragments = 3;
    config.deflate = byte & 0x40;
    config.negotiated = byte & 0x80;
    return config;
}

// One receiver and the events it gave, checked as they come.
class Run
{
public:
    explicit Run(const Config &config) : m_options(config.options), m_receiver(config.options)
    {
        if (config.deflate) {
            m_deflate = makeDeflate(config.options.role, config.negotiated);
            m_receiver.setInflater(m_deflate.get());
        }
    }

    Receiver &receiver() { return m_receiver; }
    const QList<ReceiverEvent> &events() const { return m_events; }

    void drain()
    {
        for (;;) {
            ReceiverEvent event;
            if (!m_receiver.next(&event))
                break;
            // Nothing follows an error or a close.
            FUZZ_CHECK(m_events.isEmpty() || !isTerminal(m_events.last()));
            checkReceiverEvent(event, m_options);
            m_events.append(event);
        }
        const bool stopped = !m_events.isEmpty() && isTerminal(m_events.last());
        FUZZ_CHECK(m_receiver.isStopped() == stopped);
        // A running parser holds back at most an incomplete frame header:
        // payload bytes are taken as they arrive.
        if (!stopped)
            FUZZ_CHECK(m_receiver.bufferedInput() < kMaxFrameHeaderSize);
    }

    // Once stopped, more input changes nothing.
    void checkStaysStopped()
    {
        if (!m_receiver.isStopped())
            return;
        m_receiver.feed("\x81\x00\x89\x00", 4);
        ReceiverEvent event;
        FUZZ_CHECK(!m_receiver.next(&event));
        FUZZ_CHECK(m_receiver.isStopped());
    }

private:
    ReceiverOptions m_options;
    std::unique_ptr<PerMessageDeflate> m_deflate;
    Receiver m_receiver;
    QList<ReceiverEvent> m_events;
};

// Chunks of random sizes, through feed() or written in place through
// inputBuffer()/commitInput(), with the events taken after each.
void feedChunked(Run *run, const QByteArray &stream, Random *random)
{
    Receiver &receiver = run->receiver();
    qsizetype pos = 0;
    while (pos < stream.size()) {
        qsizetype n = random->chunk(stream.size() - pos);
        if (random->below(2)) {
            receiver.feed(stream.constData() + pos, n);
        } else {
            // Sometimes offer more room than is written.
            const qsizetype hint = random->below(4) ? n : n + qsizetype(random->below(100));
            const Receiver::InputBuffer buffer = receiver.inputBuffer(hint);
            FUZZ_CHECK(buffer.size >= 1 && buffer.size <= qMax<qsizetype>(hint, 1));
            n = qMin(n, buffer.size);
            std::memcpy(buffer.data, stream.constData() + pos, size_t(n));
            receiver.commitInput(n);
        }
        pos += n;
        if (random->below(16) == 0) {
            receiver.inputBuffer(qsizetype(random->below(8)));
            receiver.commitInput(0);
        }
        run->drain();
    }
}

// Frames a sender of the other role would write, compressed as negotiated.
QByteArray compressedStream(Role receiverRole, bool negotiated, int variant)
{
    const Role senderRole = receiverRole == Role::Server ? Role::Client : Role::Server;
    const bool mask = receiverRole == Role::Server;
    auto deflate = makeDeflate(senderRole, negotiated);
    quint8 counter = 0;
    Sender sender([&counter](uchar *key) {
        for (int i = 0; i < 4; ++i)
            key[i] = uchar(++counter * 37);
    });
    sender.setDeflater(deflate.get());
    switch (variant) {
    case 0:
        sender.sendData("Hello", false, true, true, mask);
        break;
    case 1: // A bomb: 100 kB of zeros in about a hundred bytes.
        sender.sendData(QByteArray(100000, '\0'), true, true, true, mask);
        break;
    case 2:
        sender.sendData("Hel", false, false, true, mask);
        sender.sendControl(Opcode::Ping, "p", mask);
        sender.sendData("", false, false, true, mask);
        sender.sendData("lo", false, true, true, mask);
        break;
    case 3:
        sender.sendData(QByteArray("0123456789abcdef").repeated(125), false, true, true, mask);
        sender.sendData("plain", true, true, false, mask);
        break;
    case 4: // The second message refers back to the first unless the context is reset.
        sender.sendData(QByteArray("context ").repeated(25), true, true, true, mask);
        sender.sendData(QByteArray("context ").repeated(25), true, true, true, mask);
        break;
    case 5: // Two frames of 200 bytes each: over a limit of 300 only together.
        sender.sendData(QByteArray(200, 'a'), true, false, true, mask);
        sender.sendData(QByteArray(200, 'b'), true, true, true, mask);
        break;
    default:
        sender.sendData("\xc0\xaf", false, true, true, mask);
        break;
    }
    sender.sendControl(Opcode::Close, QByteArray("\x03\xe8", 2), mask);
    QByteArray stream;
    while (sender.hasPending())
        stream += sender.takeChunk();
    return stream;
}

} // namespace

namespace wsqt::fuzz {

void addSeedInputs(const QString &, const QByteArray &content, QList<QByteArray> *inputs)
{
    // Both roles, each with the defaults, small limits, deflate, fragments
    // without UTF-8 checks, and deflate as negotiated.
    const uint8_t variants[] = {0x00, 0x30, 0x40, 0x06, 0xc0};
    uint8_t seed = 0;
    for (uint8_t role : {0x00, 0x01}) {
        for (uint8_t variant : variants)
            inputs->append(QByteArray(1, char(role | variant)) + char(++seed) + content);
    }
}

void addGeneratedInputs(QList<QByteArray> *inputs)
{
    const uint8_t variants[] = {0x00, 0x06, 0x10, 0x1c, 0x28};
    uint8_t seed = 0;
    for (Role role : {Role::Client, Role::Server}) {
        for (bool negotiated : {false, true}) {
            for (int stream = 0; stream < 7; ++stream) {
                const QByteArray bytes = compressedStream(role, negotiated, stream);
                for (uint8_t variant : variants) {
                    const uint8_t config = variant | 0x40 | (role == Role::Server ? 0x01 : 0)
                            | (negotiated ? 0x80 : 0);
                    inputs->append(QByteArray(1, char(config)) + char(++seed) + bytes);
                }
            }
        }
    }
}

} // namespace wsqt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const Config config = parseConfig(input.byte());
    Random random(input.byte());
    const QByteArray stream = input.rest();

    Run whole(config);
    whole.receiver().feed(stream.constData(), stream.size());
    whole.drain();

    Run chunked(config);
    feedChunked(&chunked, stream, &random);
    chunked.drain();

    FUZZ_CHECK(whole.events().size() == chunked.events().size());
    for (qsizetype i = 0; i < whole.events().size(); ++i)
        FUZZ_CHECK(sameEvent(whole.events()[i], chunked.events()[i]));

    whole.checkStaysStopped();
    chunked.checkStaysStopped();
    return 0;
}
