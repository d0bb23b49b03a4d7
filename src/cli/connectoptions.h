#pragma once

#include "commandline.h"

#include <wsqt/wsoptions.h>

#include <QtCore/qurl.h>

#include <optional>

namespace cli {

// "wsqt connect": where to connect and how to behave once connected.
struct ConnectConfig
{
    QUrl url;
    QStringList protocols;      // offered, in this order
    WsClientOptions client;     // headers, origin
    // Sent once connected; then the connection is closed (after waitMs,
    // when set) and standard input is not read.
    QStringList messages;
    // How long to stay connected: after the messages were sent, or
    // without messages, after connecting.
    std::optional<int> waitMs;
    bool showPingPong = false;
    // Accept any TLS certificate (said loudly on standard error).
    bool insecure = false;
    QString clientCertificate;  // PEM files, both or neither
    QString clientKey;
};

CommandSpec<ConnectConfig> connectCommand();

} // namespace cli
