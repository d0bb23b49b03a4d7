#pragma once

// Reads the HTTP request head of a connection a server accepted, within the
// head limits and the handshake timeout. What happens next is the server's
// business: it gets the request and the bytes after it, or nothing (the
// connection was answered with an error status and closed).

#include "core/http.h"
#include "timerwheel.h"
#include "transport.h"

#include <wsqt/wshttp.h>

#include <QtCore/qobject.h>

#include <optional>

namespace wsqt::transport {

class UpgradeReader : public QObject, private TransportListener
{
    Q_OBJECT

public:
    // Takes the transport over until it is handed on by requestRead().
    UpgradeReader(Transport *transport, int timeoutMs, QObject *parent = nullptr);
    ~UpgradeReader() override;

    // Stops the timeout and gives the transport up (its parent becomes null).
    Transport *takeTransport();
    // Answers with an error status, then closes the connection.
    void reject(int status);

Q_SIGNALS:
    void requestRead(const WsHttpRequest &request, const QByteArray &head);
    // The connection ended or was refused before a request was read.
    void finished();
    // It was refused: answered with an error status.
    void refused();

private:
    // TransportListener
    void transportReadable() override { onReadyRead(); }
    void transportEnded() override;
    void onReadyRead();

    Transport *m_transport;
    core::HttpHeadParser m_parser;
    WheelTimer m_timeout;
    bool m_done = false;
    bool m_requestRead = false;
};

// Writes a complete response and closes once it is sent; the transport
// deletes itself when the connection is gone.
void respondAndClose(Transport *transport, const QByteArray &response);

} // namespace wsqt::transport
