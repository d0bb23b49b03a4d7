#pragma once

// Detects a peer that stopped answering: after an interval with nothing
// received it asks for a ping, and when nothing at all arrives within the
// timeout after that, it says so. Any received byte counts as life.

#include "timerwheel.h"

#include <functional>

namespace wsqt::transport {

class Heartbeat
{
public:
    Heartbeat(int pingInterval, int pongTimeout, std::function<void()> pingDue, std::function<void()> timedOut);

    void start();
    void stop();
    // Something arrived from the peer.
    void activity();

private:
    void tick();

    int m_intervalMs;
    int m_timeoutMs;
    std::function<void()> m_pingDue;
    WheelTimer m_interval;
    WheelTimer m_timeout;
    bool m_activity = false;
};

} // namespace wsqt::transport
