#pragma once

// The Sans-I/O WebSocket connection after the opening handshake: bytes in,
// events and outgoing bytes out, with the closing handshake as ws runs it.
// It owns no socket and no timer: the transport feeds it, writes what it
// queues, ends the TCP connection when shouldEndTransport() says so, and runs
// the close timeout.

#include "receiver.h"
#include "sender.h"

#include <wsqt/wserror.h>

#include <QtCore/qbytearray.h>

namespace wsqt::core {

struct ConnectionOptions
{
    ReceiverOptions receiver;
    // Answer pings with pongs automatically (ws's autoPong).
    bool autoPong = true;
    MaskGenerator generateMask;
};

struct DataSendOptions
{
    bool binary = true;
    bool fin = true;
    bool compress = true;
    bool mask = false;
};

class Connection
{
public:
    enum class State { Open, Closing, Closed };

    explicit Connection(const ConnectionOptions &options);
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    Role role() const { return m_role; }
    State state() const { return m_state; }

    // ---- input
    Receiver::InputBuffer inputBuffer(qsizetype sizeHint) { return m_receiver.inputBuffer(sizeHint); }
    void commitInput(qsizetype length) { m_receiver.commitInput(length); }
    void receiveData(const char *data, qsizetype length) { m_receiver.feed(data, length); }
    qsizetype bufferedInput() const { return m_receiver.bufferedInput(); }
    void releaseIdleInput() { m_receiver.releaseIdleInput(); }
    bool holdsReusableBuffers() const { return m_receiver.holdsReusableBuffers(); }
    void releaseReusableBuffers() { m_receiver.releaseReusableBuffers(); }
    // After a close frame or a protocol error no more input is parsed; what
    // still arrives can be discarded.
    bool isReceiverStopped() const { return m_receiver.isStopped(); }
    // Received bytes wait to be inflated: call nextEvent() again before reading more.
    bool hasPendingWork() const { return m_receiver.hasPendingWork(); }
    void setKeepFragments(bool keep) { m_receiver.setKeepFragments(keep); }
    // The next event; false when more input is needed. A close frame is
    // answered, a ping ponged, a protocol error answered with its close code,
    // each queued as outgoing bytes before the event is returned.
    bool nextEvent(ReceiverEvent *event);
    // The transport is gone (the peer closed it, or it was destroyed).
    void transportClosed() { m_state = State::Closed; }

    // ---- output
    // Each fails with ws's error, sending nothing, in a state or with an
    // argument that ws refuses.
    WsError send(const QByteArray &data, const DataSendOptions &options);
    // Whether send() would compress this data.
    bool willCompress(qsizetype size, bool compress) const { return m_sender.willCompress(size, compress); }
    // A message accepted while open is compressed elsewhere, and other sends
    // may queue behind it: until releaseReserved(), the frames the
    // connection sends itself (pongs, the reply to a close frame) wait
    // behind them, the transport does not end, and send() takes them though
    // closing began meanwhile.
    void reserveCompressed() { m_sender.holdControlFrames(); }
    // Queues a reserved message once encoded (see Sender::sendCompressed()).
    void sendCompressed(const QByteArray &payload, const DataSendOptions &options);
    // What was accepted while open is queued: what waited behind it follows.
    void releaseReserved() { m_sender.releaseControlFrames(); }
    WsError ping(const QByteArray &data, bool mask);
    WsError pong(const QByteArray &data, bool mask);
    // Starts the closing handshake (code 0: a close frame without a code).
    // In Closing it only checks whether the transport may now end.
    WsError close(int code = 0, const QByteArray &reason = {});

    qint64 outgoingBytes() const { return m_sender.pendingBytes(); }
    bool hasOutgoing() const { return m_sender.hasPending(); }
    QByteArray takeOutgoing() { return m_sender.takeChunk(); }

    // True once a close frame was sent and one received, or one sent after a
    // protocol error: write what is queued, then end the transport.
    bool shouldEndTransport() const { return m_endTransport && !m_sender.isHoldingControlFrames(); }
    bool closeFrameSent() const { return m_closeFrameSent; }
    bool closeFrameReceived() const { return m_closeFrameReceived; }
    // What the peer's close frame said: 1005 for none in it, 1006 when no
    // close frame was received; and its reason.
    int closeCode() const { return m_closeCode; }
    QByteArray closeReason() const { return m_closeReason; }

    void setExtensions(MessageInflater *inflater, MessageDeflater *deflater);

    // "WebSocket is not open: readyState N (NAME)", as ws words it.
    static QString notOpenMessage(int readyState);

private:
    WsError checkOpen() const;
    WsError sendControl(Opcode opcode, const QByteArray &data, bool mask);
    void queueClose(int code, const QByteArray &reason);
    void updateEnd();

    Receiver m_receiver;
    Sender m_sender;
    Role m_role;
    bool m_autoPong;
    State m_state = State::Open;
    bool m_closeFrameSent = false;
    bool m_closeFrameReceived = false;
    bool m_receiverFailed = false;
    bool m_endTransport = false;
    int m_closeCode = 1006;
    QByteArray m_closeReason;
};

} // namespace wsqt::core
