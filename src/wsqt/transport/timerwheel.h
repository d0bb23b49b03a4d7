#pragma once

// The timers of a thread's connections (handshake, close and backpressure
// timeouts, heartbeats, buffer releases, reconnect delays) on one hashed
// timing wheel per thread, driven by one QTimer: arming and cancelling cost
// O(1), and a thousand connections do not make a thousand QTimers that the
// event loop keeps sorted.

#include <QtCore/qglobal.h>

#include <functional>

namespace wsqt::transport {

class TimerWheel;

// A link in one of the wheel's circular lists.
struct WheelNode
{
    WheelNode *previous = this;
    WheelNode *next = this;
};

// A timer on the wheel of the thread that starts it, held by its owner.
// Its callback runs on that thread, from the event loop; it may delete the
// owner, and with it this timer.
class WheelTimer : private WheelNode
{
public:
    WheelTimer() = default;
    explicit WheelTimer(std::function<void()> callback) : m_callback(std::move(callback)) { }
    ~WheelTimer() { stop(); }
    WheelTimer(const WheelTimer &) = delete;
    WheelTimer &operator=(const WheelTimer &) = delete;

    void setCallback(std::function<void()> callback) { m_callback = std::move(callback); }
    // (Re)arms the timer to fire once, `milliseconds` from now (at the
    // wheel's resolution, never early).
    void start(int milliseconds);
    void stop();
    bool isActive() const { return m_wheel != nullptr; }

private:
    friend class TimerWheel;

    std::function<void()> m_callback;
    TimerWheel *m_wheel = nullptr;      // while armed
    qint64 m_dueTick = 0;
};

} // namespace wsqt::transport
