#pragma once

// The incremental frame parser (RFC 6455 §5): bytes in, messages and control
// frames out. Any chunking gives the same events, down to one byte at a time.
// Each protocol violation stops the parser with ws's WS_ERR_* code, message
// and close code. Limits are checked from the length fields, before any
// payload is buffered.

#include "frame.h"
#include "memorybudget.h"
#include "utf8.h"

#include <wsqt/wsdefaults.h>
#include <wsqt/wserror.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearraylist.h>

#include <limits>
#include <memory>

namespace wsqt::core {

enum class Role { Client, Server };

inline constexpr quint64 kNoOutputLimit = std::numeric_limits<quint64>::max();

// Decodes compressed messages (permessage-deflate) as their frames arrive.
class MessageInflater
{
public:
    virtual ~MessageInflater() = default;
    // Appends the decoded form of `data` to `out`; `fin` says these are the
    // message's last bytes. Fails with the error to close with when the data
    // is corrupt or `out` would grow past `limit` bytes (kNoOutputLimit: no
    // limit); the output is counted as it is produced, so a bomb stops at the limit.
    virtual WsError inflate(const char *data, qsizetype length, bool fin, QByteArray *out,
                            quint64 limit) = 0;
};

struct ReceiverOptions
{
    Role role = Role::Client;
    // The largest message, in bytes, after decompression; 0 for no limit.
    quint64 maxPayload = WsDefaults::maxPayload;
    // The most frames one message may span. Empty frames count, so a flood
    // of them cannot cost unbounded work or bookkeeping; 0 for no limit.
    quint32 maxFragments = WsDefaults::maxFragments;
    bool skipUtf8Validation = false;
    // Deliver each binary message as the list of its frames' payloads (ws's
    // binaryType "fragments") instead of one concatenated buffer. Text
    // messages are always delivered whole, as in ws.
    bool keepFragments = false;
    // Once this many bytes were inflated, next() returns false and leaves
    // the rest for a later call (hasPendingWork()), so that a caller serving
    // many connections goes round them between slices; 0: no limit.
    quint64 inflateSlice = 0;
    // Shared by the receivers whose messages it bounds together: each message
    // draws from it what it holds beyond its first kUnbudgetedMessageBytes
    // (decoded), and gives it back once delivered or refused. Null: no bound.
    std::shared_ptr<MemoryBudget> budget;
};

inline constexpr quint64 kUnbudgetedMessageBytes = 64 * 1024;

struct ReceiverEvent
{
    enum Type { None, Message, Ping, Pong, Close, Error };

    Type type = None;
    bool binary = false;          // Message: binary or text
    QByteArray data;              // Message payload, ping/pong payload, close reason
    QByteArrayList fragments;     // Message with keepFragments: the payload of each frame
    bool asFragments = false;     // Message: delivered in `fragments` rather than `data`
    int closeCode = 0;            // Close: the code received, 1005 when the frame had none
    WsError error;                // Error
};

class Receiver
{
public:
    struct InputBuffer
    {
        char *data;
        qsizetype size;
    };

    explicit Receiver(const ReceiverOptions &options = {});
    ~Receiver();
    Receiver(const Receiver &) = delete;
    Receiver &operator=(const Receiver &) = delete;

    // Where the next input bytes should be written: up to `sizeHint` bytes
    // (at least 1). While a large payload is being received this is the
    // message buffer itself, so a socket read lands in place with no copy.
    // Each inputBuffer() must be followed by its commitInput().
    InputBuffer inputBuffer(qsizetype sizeHint);
    // Says that `length` bytes were written to the last inputBuffer().
    void commitInput(qsizetype length);
    // inputBuffer() + copy + commitInput(), for callers that hold the bytes already.
    void feed(const char *data, qsizetype length);

    // Parses until the next event; false when more input is needed, once
    // the parser has stopped (after a close frame or an error), or when an
    // inflate slice is used up (hasPendingWork()). Bytes are parsed only
    // here, so a caller that stops asking receives no more events.
    bool next(ReceiverEvent *event);
    // Received bytes wait to be inflated: call next() again (later) before
    // reading more.
    bool hasPendingWork() const { return m_scratchPos < m_scratch.size(); }

    // Gives up the input buffer when everything in it was parsed, so that an
    // idle connection holds no read buffer. One such buffer per thread is
    // kept for the next inputBuffer() of any receiver on the thread.
    void releaseIdleInput();

    // Large messages delivered lately stay referenced here, and one that the
    // application has let go of becomes the next large message's buffer
    // rather than going back to the system and being faulted in again page
    // by page. The caller drops them once the connection has gone quiet.
    bool holdsReusableBuffers() const;
    void releaseReusableBuffers();

    // After a close frame or an error nothing more is parsed.
    bool isStopped() const { return m_state == State::Stopped; }
    // Bytes received and not yet parsed.
    qsizetype bufferedInput() const { return m_input.size() - m_inputPos; }

    // Switches between ws's binaryType "fragments" and a single buffer; a
    // message already in progress keeps the way it started.
    void setKeepFragments(bool keep) { m_options.keepFragments = keep; }

    // Enables RSV1 (permessage-deflate) with the inflater that decodes it;
    // null disables it again.
    void setInflater(MessageInflater *inflater) { m_inflater = inflater; }

private:
    enum class State { Header, Payload, Stopped };
    enum class Step { NeedMore, Continue, Emit, Yield };
    enum class HeaderStage { Start, FirstBytesChecked, LengthChecked };

    Step parseHeader(ReceiverEvent *event);
    Step checkFirstBytes(uchar b0, uchar b1, ReceiverEvent *event);
    Step checkLength(const uchar *header, ReceiverEvent *event);
    Step parsePayload(ReceiverEvent *event);
    Step appendControlPayload(const char *data, qsizetype length);
    Step appendDataPayload(const char *data, qsizetype length, ReceiverEvent *event);
    Step inflate(const char *data, qsizetype length, bool fin, ReceiverEvent *event);
    Step inflatePending(ReceiverEvent *event);
    // Draws what the message holds now from the budget; false when it is spent.
    bool budgetMessage();
    void releaseBudget();
    Step finishDataFrame(ReceiverEvent *event);
    Step finishControlFrame(ReceiverEvent *event);
    Step fail(ReceiverEvent *event, const WsError &error);
    Step fail(ReceiverEvent *event, WsError::Code code, int closeCode, const QString &message);
    void startMessage();
    void unmaskInto(char *dst, const char *src, qsizetype length);
    void checkText(const char *data, qsizetype length);
    bool directReadPossible() const;
    void reserveMessage(qsizetype length);
    void keepForReuse(const QByteArray &message);

    ReceiverOptions m_options;
    MessageInflater *m_inflater = nullptr;
    State m_state = State::Header;

    // Input not yet parsed: m_input[m_inputPos..].
    QByteArray m_input;
    qsizetype m_inputPos = 0;
    // What the last inputBuffer() handed out, and whether it was the message buffer.
    qsizetype m_offered = 0;
    bool m_offeredDirect = false;
    // An error found in bytes committed in place, reported by the next next().
    WsError m_deferredError;

    // The frame being parsed.
    HeaderStage m_headerStage = HeaderStage::Start;
    int m_headerSize = 0;
    bool m_fin = false;
    bool m_masked = false;
    quint8 m_opcode = 0;
    uchar m_maskKey[4] = {};
    quint64 m_frameRemaining = 0;
    quint64 m_frameReceived = 0;     // payload bytes of this frame so far: the mask phase

    // The message being assembled.
    quint8 m_messageOpcode = 0;      // set while a fragmented message is open
    bool m_textMessage = false;
    bool m_keepFragments = false;    // the message in progress is kept as fragments
    bool m_compressed = false;
    quint64 m_messageLength = 0;     // payload bytes on the wire so far
    quint64 m_keptLength = 0;        // decoded bytes already moved into m_fragments
    quint32 m_fragmentCount = 0;
    QByteArray m_message;
    QByteArrayList m_fragments;
    QByteArray m_control;            // a control frame's payload
    QByteArray m_scratch;            // compressed bytes, unmasked, inflated from m_scratchPos on
    qsizetype m_scratchPos = 0;
    quint64 m_sliceInflated = 0;     // bytes inflated since the last slice ended
    quint64 m_budgeted = 0;          // what the message in progress drew from the budget
    Utf8Validator m_utf8;
    // See holdsReusableBuffers(): as many as an echo with a few messages in
    // flight has on their way out. Made for the first large message: most
    // connections never receive one.
    struct ReusableBuffers
    {
        QByteArray buffers[4];
        int next = 0;
    };
    std::unique_ptr<ReusableBuffers> m_reusable;
};

} // namespace wsqt::core
