#pragma once

// The echo most tests' servers run.

#include <wsqt/wssocket.h>

namespace wsqt::test {

// Sends every message of `socket` back as it came, text as text.
inline void echoMessages(WsSocket *socket)
{
    QObject::connect(socket, &WsSocket::messageReceived, socket, [socket](const QByteArray &message, bool isBinary) {
        WsSendOptions options;
        options.binary = isBinary;
        socket->send(message, options);
    });
}

} // namespace wsqt::test
