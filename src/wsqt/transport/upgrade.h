#pragma once

// What an opening handshake settled, handed to the socket in one piece by
// either role: the server once it answered 101, the client once it checked
// the server's 101.

#include "core/permessagedeflate.h"
#include "core/receiver.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>

#include <memory>

namespace wsqt::transport {

class Transport;

struct Upgrade
{
    Transport *transport = nullptr;     // the receiver owns it from now on
    QByteArray head;                    // bytes read past the handshake: the first frames
    core::Role role = core::Role::Client;
    QString protocol;                   // the subprotocol agreed on, or empty
    QString extensions;                 // the Sec-WebSocket-Extensions value agreed on
    std::shared_ptr<core::PerMessageDeflate> deflate;   // when negotiated
};

} // namespace wsqt::transport
