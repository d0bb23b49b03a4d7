#pragma once

#include "listenoptions.h"

#include <QtCore/qobject.h>

class WsServer;
class WsSocket;
struct WsHttpRequest;

namespace cli {

// "wsqt listen": a server that prints, echoes or broadcasts what it receives.
class ListenSession : public QObject
{
    Q_OBJECT

public:
    explicit ListenSession(const ListenConfig &config, QObject *parent = nullptr);

    // Starts listening; false, with the reason printed, when it cannot.
    bool start();

private:
    void onNewConnection(WsSocket *socket, const WsHttpRequest &request);
    void onMessage(WsSocket *sender, const QByteArray &message, bool isBinary);
    void sendToClients(const QByteArray &line);

    ListenConfig m_config;
    WsServer *m_server = nullptr;
    int m_lastClientId = 0;
};

} // namespace cli
