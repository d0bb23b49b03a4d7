// A whole connection, client or server: received bytes interleaved with the
// application's calls. The connection reports only what the receiver
// documents; each call succeeds or fails as the state and its arguments
// say; and what it writes, parsed by a receiver of the other role, is
// exactly the frames of the calls and of the automatic answers (pongs, the
// echoed close, the close after a protocol error), in order, and nothing
// after the close frame.
//
// Input: [options][deflate options][operations...]. The options byte:
//   bit 0     server, else client
//   bit 1     permessage-deflate on both sides
//   bit 2     no automatic pongs
//   bit 3     skipUtf8Validation
//   bits 4-5  maxPayload: the default, none, 16 or 300
//   bit 6     keepFragments
//   bit 7     maxFragments 3
// The deflate options byte:
//   bit 0     compressed data goes through willCompress(), deflate() and
//             sendCompressed(), as the transport's worker threads send it
//   bit 1     no context takeover and 10-bit windows negotiated
// Each operation starts with a byte whose low three bits choose it:
//   0-2  receive [length - 1][bytes]; bit 3: written through inputBuffer(),
//        bit 4: the events are left for later
//   3    send [length][pattern length][pattern], the pattern repeated to the
//        length; bit 3: binary, bit 4: not the last fragment, bit 5:
//        compress, bit 7: length x 211
//   4    ping [length][bytes]       (lengths up to 129: over 125 is refused)
//   5    close [code][length][bytes]
//   6    pong [length][bytes]
//   7    by bits 3-4: take the queued output, the transport ends, take the
//        events, close() without a code
// Bit 6 of any operation: take the queued output after it.

#include "fuzzsupport.h"

#include <wsqt/core/connection.h>
#include <wsqt/core/permessagedeflate.h>

#include <cstring>
#include <memory>

using namespace wsqt::core;
using namespace wsqt::fuzz;

namespace {

ReceiverEvent expectedEvent(ReceiverEvent::Type type, const QByteArray &data, bool binary = false, int closeCode = 0)
{
    ReceiverEvent event;
    event.type = type;
    event.data = data;
    event.binary = binary;
    event.closeCode = closeCode;
    return event;
}

class Harness
{
public:
    Harness(uint8_t config, uint8_t deflateConfig) : m_compressElsewhere(deflateConfig & 0x01)
    {
        const quint64 maxPayloads[] = {ReceiverOptions().maxPayload, 0, 16, 300};
        ConnectionOptions options;
        options.receiver.role = config & 0x01 ? Role::Server : Role::Client;
        options.autoPong = !(config & 0x04);
        options.receiver.skipUtf8Validation = config & 0x08;
        options.receiver.maxPayload = maxPayloads[(config >> 4) & 3];
        options.receiver.keepFragments = config & 0x40;
        if (config & 0x80)
            options.receiver.maxFragments = 3;
        // Masking keys from a counter: the same input gives the same bytes.
        options.generateMask = [this](uchar *key) {
            for (int i = 0; i < 4; ++i)
                key[i] = uchar(++m_maskCounter * 59);
        };
        m_options = options;
        m_connection = std::make_unique<Connection>(options);

        // The peer parses without limits: it checks the framing, not the payloads.
        ReceiverOptions peer;
        peer.role = role() == Role::Server ? Role::Client : Role::Server;
        peer.maxPayload = 0;
        peer.maxFragments = 0;
        peer.skipUtf8Validation = true;
        m_peer = std::make_unique<Receiver>(peer);

        if (config & 0x02) {
            const bool negotiated = deflateConfig & 0x02;
            m_deflate = makeDeflate(role(), negotiated);
            m_peerDeflate = makeDeflate(peer.role, negotiated);
            m_connection->setExtensions(m_deflate.get(), m_deflate.get());
            m_peer->setInflater(m_peerDeflate.get());
        }
    }

    Role role() const { return m_options.receiver.role; }
    bool masks() const { return role() == Role::Client; }

    void receive(const QByteArray &bytes, bool inPlace, bool drain)
    {
        if (!inPlace) {
            m_connection->receiveData(bytes.constData(), bytes.size());
        } else {
            qsizetype pos = 0;
            while (pos < bytes.size()) {
                const Receiver::InputBuffer buffer = m_connection->inputBuffer(bytes.size() - pos);
                const qsizetype n = qMin(buffer.size, bytes.size() - pos);
                std::memcpy(buffer.data, bytes.constData() + pos, size_t(n));
                m_connection->commitInput(n);
                pos += n;
            }
        }
        if (drain)
            takeEvents();
    }

    void takeEvents()
    {
        for (;;) {
            const bool wasOpen = m_connection->state() == Connection::State::Open;
            ReceiverEvent event;
            if (!m_connection->nextEvent(&event)) {
                FUZZ_CHECK(m_connection->isReceiverStopped() == m_receiverStopped);
                return;
            }
            FUZZ_CHECK(!m_receiverStopped);
            checkReceiverEvent(event, m_options.receiver);
            switch (event.type) {
            case ReceiverEvent::Ping:
                if (wasOpen && m_options.autoPong)
                    m_expected.append(expectedEvent(ReceiverEvent::Pong, event.data));
                break;
            case ReceiverEvent::Close:
                m_receiverStopped = true;
                m_closeReceived = true;
                FUZZ_CHECK(m_connection->closeFrameReceived());
                FUZZ_CHECK(m_connection->closeCode() == event.closeCode);
                FUZZ_CHECK(m_connection->closeReason() == event.data);
                // The close is echoed, code and reason, or answered without a code.
                if (wasOpen)
                    expectClose(event.closeCode, event.closeCode == 1005 ? QByteArray() : event.data);
                break;
            case ReceiverEvent::Error:
                m_receiverStopped = true;
                m_receiverFailed = true;
                if (wasOpen)
                    expectClose(event.error.closeCode(), {});
                break;
            default:
                break;
            }
            checkState();
        }
    }

    void send(const QByteArray &data, const DataSendOptions &options)
    {
        const Connection::State state = m_connection->state();
        WsError error;
        if (m_compressElsewhere && state == Connection::State::Open
            && m_connection->willCompress(data.size(), options.compress)) {
            m_connection->reserveCompressed();
            QByteArray compressed;
            FUZZ_CHECK(m_deflate);
            FUZZ_CHECK(!m_deflate->deflate(data.constData(), data.size(), options.fin, &compressed).isError());
            m_connection->sendCompressed(compressed, options);
            m_connection->releaseReserved();
        } else {
            error = m_connection->send(data, options);
        }
        if (state != Connection::State::Open) {
            FUZZ_CHECK(error.code() == WsError::InvalidState);
            return;
        }
        FUZZ_CHECK(!error.isError());
        if (!m_messageOpen) {
            m_messageOpen = true;
            m_messageBinary = options.binary;
            m_message.clear();
        }
        m_message += data;
        if (options.fin) {
            m_messageOpen = false;
            m_expected.append(expectedEvent(ReceiverEvent::Message, m_message, m_messageBinary));
        }
    }

    void control(Opcode opcode, const QByteArray &data)
    {
        const Connection::State state = m_connection->state();
        const WsError error = opcode == Opcode::Ping ? m_connection->ping(data, masks())
                                                     : m_connection->pong(data, masks());
        if (state != Connection::State::Open) {
            FUZZ_CHECK(error.code() == WsError::InvalidState);
        } else if (data.size() > kMaxControlPayload) {
            FUZZ_CHECK(error.code() == WsError::InvalidArgument);
        } else {
            FUZZ_CHECK(!error.isError());
            m_expected.append(expectedEvent(opcode == Opcode::Ping ? ReceiverEvent::Ping : ReceiverEvent::Pong, data));
        }
    }

    void close(int code, const QByteArray &reason)
    {
        const Connection::State state = m_connection->state();
        const WsError error = m_connection->close(code, reason);
        if (state != Connection::State::Open) {
            FUZZ_CHECK(!error.isError());
            FUZZ_CHECK(m_connection->state() == state);
        } else if (code != 0 && (!isValidCloseCode(code) || reason.size() > kMaxControlPayload - 2)) {
            FUZZ_CHECK(error.code() == WsError::InvalidArgument);
            FUZZ_CHECK(m_connection->state() == Connection::State::Open);
        } else {
            FUZZ_CHECK(!error.isError());
            FUZZ_CHECK(m_connection->state() == Connection::State::Closing);
            expectClose(code == 0 ? 1005 : code, code == 0 ? QByteArray() : reason);
        }
        checkState();
    }

    void transportClosed()
    {
        m_connection->transportClosed();
        FUZZ_CHECK(m_connection->state() == Connection::State::Closed);
        checkState();
    }

    // What the transport writes, read by the peer: the frames expected, in order.
    void takeOutput()
    {
        const qint64 pending = m_connection->outgoingBytes();
        FUZZ_CHECK(pending >= 0 && (pending > 0) == m_connection->hasOutgoing());
        qint64 taken = 0;
        while (m_connection->hasOutgoing()) {
            const QByteArray chunk = m_connection->takeOutgoing();
            FUZZ_CHECK(!chunk.isEmpty());
            // Nothing is written after the close frame.
            FUZZ_CHECK(!m_peerSawClose);
            taken += chunk.size();
            m_peer->feed(chunk.constData(), chunk.size());
            ReceiverEvent event;
            while (m_peer->next(&event)) {
                FUZZ_CHECK(event.type != ReceiverEvent::Error);
                FUZZ_CHECK(!m_expected.isEmpty());
                const ReceiverEvent expected = m_expected.takeFirst();
                FUZZ_CHECK(event.type == expected.type);
                FUZZ_CHECK(event.data == expected.data);
                if (event.type == ReceiverEvent::Message)
                    FUZZ_CHECK(event.binary == expected.binary);
                if (event.type == ReceiverEvent::Close) {
                    FUZZ_CHECK(event.closeCode == expected.closeCode);
                    m_peerSawClose = true;
                }
                event = ReceiverEvent();
            }
            if (m_peerSawClose)
                FUZZ_CHECK(m_peer->bufferedInput() == 0 && !m_connection->hasOutgoing());
        }
        FUZZ_CHECK(taken == pending && m_connection->outgoingBytes() == 0);
        // Every expected frame arrived whole.
        FUZZ_CHECK(m_expected.isEmpty());
    }

    void checkState() const
    {
        const Connection &c = *m_connection;
        if (c.state() == Connection::State::Open)
            FUZZ_CHECK(!c.closeFrameSent() && !c.shouldEndTransport());
        if (c.closeFrameSent())
            FUZZ_CHECK(c.state() != Connection::State::Open);
        FUZZ_CHECK(c.closeFrameReceived() == m_closeReceived);
        if (!m_closeReceived)
            FUZZ_CHECK(c.closeCode() == 1006);
        FUZZ_CHECK(c.closeCode() == 1005 || c.closeCode() == 1006 || isValidCloseCode(c.closeCode()));
        if (c.state() != Connection::State::Closed)
            FUZZ_CHECK(c.shouldEndTransport() == (c.closeFrameSent() && (m_closeReceived || m_receiverFailed)));
        else if (c.shouldEndTransport())
            FUZZ_CHECK(c.closeFrameSent() && (m_closeReceived || m_receiverFailed));
    }

    // Once the transport may end, nothing more can be sent.
    void checkEnded()
    {
        if (!m_connection->shouldEndTransport())
            return;
        FUZZ_CHECK(m_connection->send("x", {}).code() == WsError::InvalidState);
        FUZZ_CHECK(m_connection->ping({}, masks()).code() == WsError::InvalidState);
        FUZZ_CHECK(m_connection->pong({}, masks()).code() == WsError::InvalidState);
        FUZZ_CHECK(!m_connection->close(1000, {}).isError());
        FUZZ_CHECK(m_connection->shouldEndTransport());
    }

private:
    void expectClose(int code, const QByteArray &reason)
    {
        m_expected.append(expectedEvent(ReceiverEvent::Close, code == 1005 ? QByteArray() : reason, false, code));
    }

    ConnectionOptions m_options;
    bool m_compressElsewhere;
    quint8 m_maskCounter = 0;
    std::unique_ptr<PerMessageDeflate> m_deflate;
    std::unique_ptr<PerMessageDeflate> m_peerDeflate;
    std::unique_ptr<Connection> m_connection;
    std::unique_ptr<Receiver> m_peer;

    bool m_receiverStopped = false;
    bool m_receiverFailed = false;
    bool m_closeReceived = false;
    bool m_peerSawClose = false;
    // What the peer must read next, and the message being sent in fragments.
    QList<ReceiverEvent> m_expected;
    bool m_messageOpen = false;
    bool m_messageBinary = false;
    QByteArray m_message;
};

int closeCode(FuzzInput *input)
{
    const int codes[] = {0, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011, 1014, 1015, 2999, 3000, 4999, 5000};
    const uint8_t choice = input->byte();
    return choice < 16 ? codes[choice] : choice < 32 ? int(input->u16()) : codes[choice % 16];
}

QByteArray sendData(uint8_t op, FuzzInput *input)
{
    const qsizetype size = qsizetype(input->byte()) * (op & 0x80 ? 211 : 1);
    const QByteArray pattern = input->bytes(input->byte() % 33);
    if (pattern.isEmpty())
        return QByteArray(size, '\0');
    return pattern.repeated(size / pattern.size() + 1).left(size);
}

// The receive operations that deliver `bytes`.
QByteArray receiveOps(const QByteArray &bytes)
{
    QByteArray ops;
    for (qsizetype pos = 0; pos < bytes.size(); pos += 256) {
        const QByteArray chunk = bytes.mid(pos, 256);
        ops += char(pos % 512 ? 0x08 : 0x00);
        ops += char(chunk.size() - 1);
        ops += chunk;
    }
    return ops;
}

// Frames a peer of the other role sends: a text, a ping, a fragmented binary
// message, then a close with a reason.
QByteArray peerFrames(Role role, bool compress)
{
    const bool mask = role == Role::Server;
    const auto deflate = makeDeflate(role == Role::Server ? Role::Client : Role::Server, false);
    Sender sender([](uchar *key) { std::memcpy(key, "\x0f\x1e\x2d\x3c", 4); });
    if (compress)
        sender.setDeflater(deflate.get());
    sender.sendData("hello", false, true, true, mask);
    sender.sendControl(Opcode::Ping, "are you there", mask);
    sender.sendData(QByteArray(300, 'a'), true, false, true, mask);
    sender.sendData(QByteArray(30, 'b'), true, true, true, mask);
    sender.sendControl(Opcode::Close, QByteArray("\x0f\xa0going", 7), mask);
    QByteArray bytes;
    while (sender.hasPending())
        bytes += sender.takeChunk();
    return bytes;
}

} // namespace

namespace wsqt::fuzz {

void addSeedInputs(const QString &, const QByteArray &content, QList<QByteArray> *inputs)
{
    // The frames received by each role, then a message, a ping and a close
    // sent; and the same after the close was sent first.
    const QByteArray calls = QByteArray("\x43\x05\x05" "hello" "\x44\x01" "p" "\x45\x01\x02" "ok");
    for (uint8_t config : {0x00, 0x01, 0x02, 0x03, 0x48, 0xb1}) {
        const QByteArray options = QByteArray(1, char(config)) + char(config & 0x02 ? 0x01 : 0x00);
        inputs->append(options + receiveOps(content) + calls);
        inputs->append(options + QByteArray("\x45\x02\x00", 3) + receiveOps(content) + "\x47");
    }
}

void addGeneratedInputs(QList<QByteArray> *inputs)
{
    for (Role role : {Role::Client, Role::Server}) {
        for (bool compress : {false, true}) {
            const uint8_t config = (role == Role::Server ? 0x01 : 0x00) | (compress ? 0x02 : 0x00);
            const QByteArray frames = peerFrames(role, compress);
            // Sends interleaved with the frames, in one piece and split;
            // compressed here and elsewhere, with and without context takeover.
            for (uint8_t deflateConfig = 0; deflateConfig < (compress ? 4 : 1); ++deflateConfig) {
                const QByteArray options = QByteArray(1, char(config)) + char(deflateConfig);
                inputs->append(options + QByteArray("\x6b\x04\x04\x01\x02\x03\x04") + receiveOps(frames) + "\x47");
                inputs->append(options + QByteArray("\x33\x0a\x0a" "fragment" "\x03\x05")
                               + receiveOps(frames.left(20)) + QByteArray("\xcb\x08\x02\x01\x02")
                               + receiveOps(frames.mid(20)) + "\x47");
            }
            inputs->append(QByteArray(1, char(config | 0x30)) + '\0' + receiveOps(frames) + "\x47\x4f");
        }
    }
}

} // namespace wsqt::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const uint8_t config = input.byte();
    Harness harness(config, input.byte());
    while (!input.atEnd()) {
        const uint8_t op = input.byte();
        switch (op & 7) {
        case 0:
        case 1:
        case 2: {
            const QByteArray bytes = input.bytes(size_t(input.byte()) + 1);
            harness.receive(bytes, op & 0x08, !(op & 0x10));
            break;
        }
        case 3: {
            DataSendOptions options;
            options.binary = op & 0x08;
            options.fin = !(op & 0x10);
            options.compress = op & 0x20;
            options.mask = harness.masks();
            harness.send(sendData(op, &input), options);
            break;
        }
        case 4:
        case 6: {
            const QByteArray payload = input.bytes(input.byte() % 130);
            harness.control((op & 7) == 4 ? Opcode::Ping : Opcode::Pong, payload);
            break;
        }
        case 5: {
            const int code = closeCode(&input);
            harness.close(code, input.bytes(input.byte() % 130));
            break;
        }
        default:
            switch ((op >> 3) & 3) {
            case 0: harness.takeOutput(); break;
            case 1: harness.transportClosed(); break;
            case 2: harness.takeEvents(); break;
            default: harness.close(0, {}); break;
            }
            break;
        }
        if (op & 0x40)
            harness.takeOutput();
        harness.checkState();
        harness.checkEnded();
    }
    harness.takeEvents();
    harness.takeOutput();
    return 0;
}
