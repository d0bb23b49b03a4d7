#include "reconnector.h"

#include <QtCore/qrandom.h>

#include <cmath>

namespace wsqt::transport {

Reconnector::Reconnector(const WsReconnectOptions &options, QObject *parent)
    : QObject(parent), m_options(options), m_timer([this] { Q_EMIT attemptDue(); })
{
}

void Reconnector::opened()
{
    m_attempt = 0;
}

void Reconnector::cancel()
{
    m_timer.stop();
    m_attempt = 0;
}

int Reconnector::baseDelay(int attempt) const
{
    const double delay = m_options.minDelay * std::pow(qMax(m_options.factor, 1.0), attempt - 1);
    return int(qMin(delay, double(qMax(m_options.maxDelay, m_options.minDelay))));
}

void Reconnector::lost(int code, bool byApplication)
{
    if (!m_options.enabled || byApplication || (code == 1000 && !m_options.afterNormalClose))
        return;
    if (m_options.maxAttempts > 0 && m_attempt >= m_options.maxAttempts) {
        m_attempt = 0;
        Q_EMIT gaveUp();
        return;
    }
    ++m_attempt;
    const double spread = qBound(0.0, m_options.jitter, 1.0);
    const double scale = 1.0 + spread * (2.0 * QRandomGenerator::global()->generateDouble() - 1.0);
    const int delay = qMax(0, int(std::lround(baseDelay(m_attempt) * scale)));
    m_timer.start(delay);
    Q_EMIT scheduled(m_attempt, delay);
}

} // namespace wsqt::transport
