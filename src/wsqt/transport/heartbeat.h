#pragma once

// Detects a peer that stopped answering: after an interval with nothing
// received it asks for a ping, and when nothing at all arrives within the
// timeout after that, it says so. Any received byte counts as life.

#include <QtCore/qobject.h>
#include <QtCore/qtimer.h>

namespace wsqt::transport {

class Heartbeat : public QObject
{
    Q_OBJECT

public:
    Heartbeat(int pingInterval, int pongTimeout, QObject *parent = nullptr);

    void start();
    void stop();
    // Something arrived from the peer.
    void activity();

Q_SIGNALS:
    void pingDue();
    void timedOut();

private:
    void tick();

    QTimer m_interval;
    QTimer m_timeout;
    bool m_activity = false;
};

} // namespace wsqt::transport
