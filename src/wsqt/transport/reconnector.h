#pragma once

// When to reconnect a client that lost its connection: exponential backoff
// with jitter, bounded attempts, never after the application's own close.

#include "timerwheel.h"

#include <wsqt/wsoptions.h>

#include <QtCore/qobject.h>

namespace wsqt::transport {

class Reconnector : public QObject
{
    Q_OBJECT

public:
    explicit Reconnector(const WsReconnectOptions &options, QObject *parent = nullptr);

    // The connection opened: the next loss starts counting from the first attempt.
    void opened();
    // The connection ended with `code`; `byApplication` when it called close() or terminate().
    void lost(int code, bool byApplication);
    void cancel();
    bool isPending() const { return m_timer.isActive(); }

    // The delay of attempt number `attempt` (1-based) before jitter.
    int baseDelay(int attempt) const;

Q_SIGNALS:
    void scheduled(int attempt, int delayMs);
    void attemptDue();
    void gaveUp();

private:
    WsReconnectOptions m_options;
    WheelTimer m_timer;
    int m_attempt = 0;
};

} // namespace wsqt::transport
