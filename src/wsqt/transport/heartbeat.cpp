#include "heartbeat.h"

namespace wsqt::transport {

Heartbeat::Heartbeat(int pingInterval, int pongTimeout, std::function<void()> pingDue,
                     std::function<void()> timedOut)
    : m_intervalMs(pingInterval),
      m_timeoutMs(pongTimeout > 0 ? pongTimeout : pingInterval),
      m_pingDue(std::move(pingDue)),
      m_interval([this] { tick(); }),
      m_timeout([this, timedOut = std::move(timedOut)] {
          m_interval.stop();
          timedOut();
      })
{
}

void Heartbeat::start()
{
    m_activity = false;
    m_interval.start(m_intervalMs);
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
    m_interval.start(m_intervalMs);
    // A ping only when the interval passed in silence, and one at a time.
    if (!m_activity && !m_timeout.isActive()) {
        m_timeout.start(m_timeoutMs);
        m_pingDue();
    }
    m_activity = false;
}

} // namespace wsqt::transport
