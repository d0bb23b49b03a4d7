#pragma once

#include "connectoptions.h"

#include <wsqt/wserror.h>

#include <QtCore/qobject.h>

class WsSocket;

namespace cli {

class StdinReader;
struct ConsoleCommand;

// "wsqt connect": a client that sends what it is given or what is typed,
// and prints what it receives.
class ConnectSession : public QObject
{
    Q_OBJECT

public:
    explicit ConnectSession(const ConnectConfig &config, QObject *parent = nullptr);

    // Starts connecting; an error (and nothing started) where the URL,
    // a subprotocol or an option is refused.
    WsError start();

Q_SIGNALS:
    // The connection is over; the process leaves with this status.
    void finished(int exitCode);

private:
    void onOpened();
    void onClosed(int code, const QByteArray &reason);
    void onLine(const QByteArray &line);
    void run(const ConsoleCommand &command);
    void closeConnection(int code, const QByteArray &reason = {});
    void scheduleClose();

    ConnectConfig m_config;
    WsSocket *m_socket = nullptr;
    StdinReader *m_stdin = nullptr;
    bool m_opened = false;
    bool m_failed = false;
    bool m_closeStartedHere = false;
};

} // namespace cli
