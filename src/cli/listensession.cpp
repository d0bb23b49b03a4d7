#include "listensession.h"

#include "output.h"
#include "stdinreader.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

namespace cli {

namespace {

WsSendOptions sendOptions(bool isBinary)
{
    WsSendOptions options;
    options.binary = isBinary;
    return options;
}

} // namespace

ListenSession::ListenSession(const ListenConfig &config, QObject *parent)
    : QObject(parent), m_config(config)
{
    const QStringList accepted = m_config.protocols;
    m_config.server.handleProtocols = [accepted](const QStringList &offered, const WsHttpRequest &) {
        for (const QString &protocol : offered) {
            if (accepted.contains(protocol))
                return protocol;
        }
        return QString();
    };
}

bool ListenSession::start()
{
    m_server = new WsServer(m_config.server, this);
    if (const WsError error = m_server->error()) {
        printError(QStringLiteral("error: %1").arg(error.message()));
        return false;
    }
    connect(m_server, &WsServer::listening, this, [this] {
        const WsServerAddress address = m_server->address();
        const QString endpoint = address.path.isEmpty() ? describeEndpoint(address.address, address.port)
                                                        : address.path;
        printLine("listening on " + endpoint.toUtf8());
    });
    connect(m_server, &WsServer::errorOccurred, this, [](const WsError &error) {
        printError(QStringLiteral("error: %1").arg(error.message()));
    });
    connect(m_server, &WsServer::newConnection, this, &ListenSession::onNewConnection);

    if (m_config.mode == ListenConfig::Mode::Print) {
        auto *input = new StdinReader(this);
        connect(input, &StdinReader::lineRead, this, &ListenSession::sendToClients);
        input->start();
    }
    return true;
}

void ListenSession::onNewConnection(WsSocket *socket, const WsHttpRequest &request)
{
    // The peer is gone from the socket once it closed; the log keeps its name.
    const QString client = QStringLiteral("client %1 (%2)")
                                   .arg(++m_lastClientId)
                                   .arg(describeEndpoint(socket->peerAddress(), socket->peerPort()));
    QString line = client + QStringLiteral(" connected to ") + QString::fromUtf8(request.target);
    if (!socket->protocol().isEmpty())
        line += QStringLiteral(" (subprotocol: %1)").arg(socket->protocol());
    printError(line);

    connect(socket, &WsSocket::messageReceived, this,
            [this, socket](const QByteArray &message, bool isBinary) { onMessage(socket, message, isBinary); });
    connect(socket, &WsSocket::errorOccurred, this, [client](const WsError &error) {
        printError(QStringLiteral("%1 error: %2").arg(client, error.message()));
    });
    connect(socket, &WsSocket::closed, this, [client](int code, const QByteArray &reason) {
        printError(client + QStringLiteral(" disconnected ") + QString::fromUtf8(describeClose(code, reason)));
    });
}

void ListenSession::onMessage(WsSocket *sender, const QByteArray &message, bool isBinary)
{
    switch (m_config.mode) {
    case ListenConfig::Mode::Print:
        printLine("< " + describeMessage(message, isBinary));
        break;
    case ListenConfig::Mode::Echo:
        sender->send(message, sendOptions(isBinary));
        break;
    case ListenConfig::Mode::Broadcast: {
        const QList<WsSocket *> clients = m_server->clients();
        for (WsSocket *client : clients) {
            if (client != sender && client->readyState() == WsSocket::Open)
                client->send(message, sendOptions(isBinary));
        }
        break;
    }
    }
}

void ListenSession::sendToClients(const QByteArray &line)
{
    const QList<WsSocket *> clients = m_server->clients();
    int sent = 0;
    for (WsSocket *client : clients) {
        if (client->readyState() == WsSocket::Open && !client->sendText(QString::fromUtf8(line)))
            ++sent;
    }
    if (sent == 0)
        printError(QStringLiteral("no client connected: message not sent"));
}

} // namespace cli
