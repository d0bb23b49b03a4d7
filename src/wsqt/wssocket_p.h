#pragma once

#include "core/connection.h"
#include "core/permessagedeflate.h"
#include "transport/transport.h"

#include <wsqt/wssocket.h>

#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>

#include <deque>
#include <memory>

namespace wsqt::transport {
class ClientHandshake;
}

class WsSocketPrivate
{
public:
    explicit WsSocketPrivate(WsSocket *q);
    ~WsSocketPrivate();

    // Starts the connection on a transport whose opening handshake is done.
    void attach(wsqt::transport::Transport *transport, const QByteArray &head,
                wsqt::core::Role role, const WsConnectionOptions &options,
                const wsqt::core::MaskGenerator &generateMask = {});

    void setState(WsSocket::ReadyState state);
    void processInput();
    void scheduleProcessInput();
    void dispatch(wsqt::core::ReceiverEvent &event);
    void flush();
    void queueCallback(const WsSocket::Callback &callback);
    void callLater(const WsSocket::Callback &callback, const WsError &error);
    void onBytesWritten(qint64 bytes);
    void onDisconnected();
    void startClosing();
    void endTransportIfDone();
    void setReadPaused(bool paused);
    WsError refuseWhenNotOpen(qint64 length, const WsSocket::Callback &callback);
    WsError sendControl(bool ping, const QByteArray &data, bool mask, const WsSocket::Callback &callback);

    WsSocket *q;
    WsSocket::ReadyState state = WsSocket::Closed;
    WsSocket::BinaryType binaryType = WsSocket::NodeBuffer;
    bool serverSide = false;
    bool paused = false;
    bool processing = false;
    bool processScheduled = false;
    QUrl url;
    QString protocol;
    QString extensions;
    int closeTimeout = 30000;

    std::unique_ptr<wsqt::core::Connection> connection;
    std::shared_ptr<wsqt::core::PerMessageDeflate> deflate;   // when negotiated
    QPointer<wsqt::transport::Transport> transport;
    wsqt::transport::ClientHandshake *handshake = nullptr;
    QTimer closeTimer;

    // Bytes handed to the transport and bytes it reported written, since the
    // start: a callback fires when the second passes the first as it was
    // right after its frame was queued.
    qint64 bytesQueued = 0;
    qint64 bytesWritten = 0;
    struct PendingCallback
    {
        qint64 writtenMark;
        WsSocket::Callback callback;
    };
    std::deque<PendingCallback> callbacks;
    // Data given to send() after closing started counts, as in ws.
    qint64 bufferedAfterClose = 0;
};
