#include "connectsession.h"

#include "console.h"
#include "exitcode.h"
#include "output.h"
#include "stdinreader.h"

#include <wsqt/wssocket.h>

#include <QtCore/qtimer.h>

namespace cli {

namespace {

constexpr int kNormalClosure = 1000;
constexpr int kNoStatusReceived = 1005;

void reportRefusal(const WsError &error)
{
    if (error)
        printError(QStringLiteral("error: %1").arg(error.message()));
}

} // namespace

ConnectSession::ConnectSession(const ConnectConfig &config, QObject *parent)
    : QObject(parent), m_config(config), m_socket(new WsSocket(this))
{
    if (m_config.insecure) {
        connect(m_socket, &WsSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            for (const QSslError &error : errors)
                printError(QStringLiteral("warning: --insecure: ignoring a TLS error: %1").arg(error.errorString()));
            m_socket->ignoreSslErrors();
        });
    }
    connect(m_socket, &WsSocket::opened, this, &ConnectSession::onOpened);
    connect(m_socket, &WsSocket::closed, this, &ConnectSession::onClosed);
    connect(m_socket, &WsSocket::errorOccurred, this, [this](const WsError &error) {
        m_failed = true;
        printError(QStringLiteral("error: %1").arg(error.message()));
    });
    connect(m_socket, &WsSocket::messageReceived, this, [](const QByteArray &message, bool isBinary) {
        printLine("< " + describeMessage(message, isBinary));
    });
    if (m_config.showPingPong) {
        connect(m_socket, &WsSocket::pingReceived, this, [](const QByteArray &payload) {
            printLine("< received ping (data: " + describePayload(payload) + ')');
        });
        connect(m_socket, &WsSocket::pongReceived, this, [](const QByteArray &payload) {
            printLine("< received pong (data: " + describePayload(payload) + ')');
        });
    }
}

WsError ConnectSession::start()
{
    return m_socket->open(m_config.url, m_config.protocols, m_config.client);
}

void ConnectSession::onOpened()
{
    m_opened = true;
    if (!m_socket->protocol().isEmpty())
        printLine("subprotocol: " + m_socket->protocol().toUtf8());
    printLine("connected (press CTRL+C to quit)");

    if (m_config.messages.isEmpty()) {
        m_stdin = new StdinReader(this);
        connect(m_stdin, &StdinReader::lineRead, this, &ConnectSession::onLine);
        connect(m_stdin, &StdinReader::finished, this, [this] { closeConnection(kNormalClosure); });
        m_stdin->start();
    } else {
        for (const QString &message : std::as_const(m_config.messages))
            reportRefusal(m_socket->sendText(message));
    }
    scheduleClose();
}

void ConnectSession::scheduleClose()
{
    if (m_config.waitMs)
        QTimer::singleShot(*m_config.waitMs, this, [this] { closeConnection(kNormalClosure); });
    else if (!m_config.messages.isEmpty())
        closeConnection(kNormalClosure);
}

void ConnectSession::onLine(const QByteArray &line)
{
    run(parseConsoleLine(line));
}

void ConnectSession::run(const ConsoleCommand &command)
{
    switch (command.kind) {
    case ConsoleCommand::Message:
        reportRefusal(m_socket->sendText(QString::fromUtf8(command.data)));
        break;
    case ConsoleCommand::Ping:
        reportRefusal(m_socket->ping(command.data));
        break;
    case ConsoleCommand::Pong:
        reportRefusal(m_socket->pong(command.data));
        break;
    case ConsoleCommand::Close:
        closeConnection(command.code, command.data);
        break;
    case ConsoleCommand::Invalid:
        printError(QStringLiteral("error: %1").arg(command.error));
        break;
    }
}

void ConnectSession::closeConnection(int code, const QByteArray &reason)
{
    if (m_socket->readyState() != WsSocket::Open)
        return;
    const WsError error = m_socket->close(code, reason);
    reportRefusal(error);
    if (!error)
        m_closeStartedHere = true;
}

void ConnectSession::onClosed(int code, const QByteArray &reason)
{
    if (m_stdin)
        m_stdin->stop();
    if (m_opened)
        printLine("disconnected " + describeClose(code, reason));
    const bool normal = !m_failed
            && (m_closeStartedHere || code == kNormalClosure || code == kNoStatusReceived);
    Q_EMIT finished(normal ? ExitSuccess : ExitFailure);
}

} // namespace cli
