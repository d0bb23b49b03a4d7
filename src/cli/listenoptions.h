#pragma once

#include "commandline.h"

#include <wsqt/wsoptions.h>

namespace cli {

// "wsqt listen": what the server does with the messages it receives.
struct ListenConfig
{
    enum class Mode {
        Print,      // print them; standard input lines go to every client
        Echo,       // send each back to its sender
        Broadcast,  // send each to every other client
    };

    WsServerOptions server;     // port or socket path, host, path, maxPayload, deflate, TLS
    QString tlsCertificate;     // PEM files, both or neither
    QString tlsKey;
    Mode mode = Mode::Print;
    // The subprotocols accepted: the client's first one that is listed here
    // is chosen; none is chosen when the list is empty or has no match.
    QStringList protocols;
};

CommandSpec<ListenConfig> listenCommand();

} // namespace cli
