#include "connection.h"

namespace wsqt::core {

namespace {

constexpr int kReadyStateClosing = 2;
constexpr int kReadyStateClosed = 3;

} // namespace

// Every idle connection holds one: a server with many pays this many times.
// Raise the bound only for a field that earns its bytes.
static_assert(sizeof(Connection) <= 544, "the per-connection protocol state grew");

Connection::Connection(const ConnectionOptions &options)
    : m_receiver(options.receiver),
      m_sender(options.generateMask),
      m_role(options.receiver.role),
      m_autoPong(options.autoPong)
{
}

void Connection::setExtensions(MessageInflater *inflater, MessageDeflater *deflater)
{
    m_receiver.setInflater(inflater);
    m_sender.setDeflater(deflater);
}

QString Connection::notOpenMessage(int readyState)
{
    static const char *const names[] = {"CONNECTING", "OPEN", "CLOSING", "CLOSED"};
    return QStringLiteral("WebSocket is not open: readyState %1 (%2)")
            .arg(readyState)
            .arg(QLatin1String(names[readyState]));
}

bool Connection::nextEvent(ReceiverEvent *event)
{
    if (!m_receiver.next(event))
        return false;
    const bool masked = role() == Role::Client;
    switch (event->type) {
    case ReceiverEvent::Ping:
        if (m_autoPong && m_state == State::Open)
            m_sender.sendControl(Opcode::Pong, event->data, masked);
        break;
    case ReceiverEvent::Close:
        m_closeFrameReceived = true;
        m_closeCode = event->closeCode;
        m_closeReason = event->data;
        // RFC 6455 §5.5.1: answer with a close frame; ws echoes code and reason.
        if (m_state == State::Open) {
            if (m_closeCode == 1005)
                queueClose(0, {});
            else
                queueClose(m_closeCode, m_closeReason);
        }
        updateEnd();
        break;
    case ReceiverEvent::Error:
        m_receiverFailed = true;
        // As ws: tell the peer why with the error's close code, then end.
        if (m_state == State::Open)
            queueClose(event->error.closeCode(), {});
        updateEnd();
        break;
    default:
        break;
    }
    return true;
}

WsError Connection::checkOpen() const
{
    if (m_state == State::Open)
        return {};
    return WsError(WsError::InvalidState,
                   notOpenMessage(m_state == State::Closing ? kReadyStateClosing : kReadyStateClosed));
}

WsError Connection::send(const QByteArray &data, const DataSendOptions &options)
{
    // While reserved, what comes was accepted while open (see reserveCompressed()).
    if (const WsError error = checkOpen(); error.isError() && !m_sender.isHoldingControlFrames())
        return error;
    return m_sender.sendData(data, options.binary, options.fin, options.compress, options.mask);
}

void Connection::sendCompressed(const QByteArray &payload, const DataSendOptions &options)
{
    m_sender.sendCompressed(payload, options.binary, options.fin, options.mask);
}

WsError Connection::ping(const QByteArray &data, bool mask)
{
    return sendControl(Opcode::Ping, data, mask);
}

WsError Connection::pong(const QByteArray &data, bool mask)
{
    return sendControl(Opcode::Pong, data, mask);
}

WsError Connection::sendControl(Opcode opcode, const QByteArray &data, bool mask)
{
    if (const WsError error = checkOpen(); error.isError())
        return error;
    if (data.size() > kMaxControlPayload) {
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("The data size must not be greater than 125 bytes"));
    }
    m_sender.sendControl(opcode, data, mask);
    return {};
}

WsError Connection::close(int code, const QByteArray &reason)
{
    if (m_state == State::Closed)
        return {};
    if (m_state == State::Closing) {
        updateEnd();
        return {};
    }
    // Checked before anything changes, so a refused close leaves the
    // connection open (ws before 8.22 left it stuck in CLOSING).
    QByteArray payload;
    const WsError error = buildClosePayload(code, reason, &payload);
    if (error.isError())
        return error;
    queueClose(code, reason);
    updateEnd();
    return {};
}

void Connection::queueClose(int code, const QByteArray &reason)
{
    QByteArray payload;
    buildClosePayload(code, reason, &payload);
    m_sender.sendControl(Opcode::Close, payload, role() == Role::Client);
    m_closeFrameSent = true;
    m_state = State::Closing;
}

void Connection::updateEnd()
{
    if (m_closeFrameSent && (m_closeFrameReceived || m_receiverFailed))
        m_endTransport = true;
}

} // namespace wsqt::core
