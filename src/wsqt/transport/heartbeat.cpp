#include "heartbeat.h"

namespace wsqt::transport {

Heartbeat::Heartbeat(int pingInterval, int pongTimeout, QObject *parent) : QObject(parent)
{
    m_interval.setInterval(pingInterval);
    m_timeout.setInterval(pongTimeout > 0 ? pongTimeout : pingInterval);
    m_timeout.setSingleShot(true);
    connect(&m_interval, &QTimer::timeout, this, &Heartbeat::tick);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        m_interval.stop();
        Q_EMIT timedOut();
    });
}

void Heartbeat::start()
{
    m_activity = false;
    m_interval.start();
}

void Heartbeat::stop()
{
    m_interval.stop();
    m_timeout.stop();
}

void Heartbeat::activity()
{
    m_activity = true;
    m_timeout.stop();
}

void Heartbeat::tick()
{
    // A ping only when the interval passed in silence, and one at a time.
    if (!m_activity && !m_timeout.isActive()) {
        m_timeout.start();
        Q_EMIT pingDue();
    }
    m_activity = false;
}

} // namespace wsqt::transport
