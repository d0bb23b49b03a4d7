#include "timerwheel.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qtimer.h>

namespace wsqt::transport {

namespace {

// The resolution: a timer fires within this much after it is due.
constexpr qint64 kTickMs = 10;
// One turn of the wheel, 5.12 s; a later timer waits in its slot for its turn.
constexpr qint64 kSlots = 512;

void unlink(WheelNode *node)
{
    node->previous->next = node->next;
    node->next->previous = node->previous;
    node->previous = node->next = node;
}

void append(WheelNode *list, WheelNode *node)
{
    node->previous = list->previous;
    node->next = list;
    list->previous->next = node;
    list->previous = node;
}

} // namespace

class TimerWheel
{
public:
    TimerWheel()
    {
        m_clock.start();
        m_driver.setSingleShot(true);
        m_driver.callOnTimeout([this] { advance(); });
    }

    static TimerWheel *forThisThread()
    {
        // Empty once the thread's connections are gone, so its QTimer is
        // stopped when the thread ends.
        thread_local TimerWheel wheel;
        return &wheel;
    }

    void arm(WheelTimer *timer, int milliseconds)
    {
        const qint64 now = m_clock.elapsed();
        // Rounded up: never early.
        timer->m_dueTick = qMax((now + qMax(milliseconds, 0) + kTickMs - 1) / kTickMs, m_processedTick + 1);
        timer->m_wheel = this;
        append(&m_slots[timer->m_dueTick % kSlots], timer);
        ++m_armed;
        // While advancing, the wake-up is set once, at the end.
        if (!m_advancing && (!m_driver.isActive() || timer->m_dueTick < m_wakeTick))
            wakeAt(timer->m_dueTick);
    }

    void disarm(WheelTimer *timer)
    {
        unlink(timer);
        timer->m_wheel = nullptr;
        if (--m_armed == 0)
            m_driver.stop();
    }

private:
    void advance()
    {
        if (m_advancing)
            return;
        m_advancing = true;
        const qint64 current = m_clock.elapsed() / kTickMs;
        while (m_processedTick < current) {
            const qint64 tick = ++m_processedTick;
            WheelNode &slot = m_slots[tick % kSlots];
            // What is due moves to a list of its own first: the callbacks
            // may start and stop any timer, this slot's included.
            for (WheelNode *node = slot.next; node != &slot;) {
                WheelNode *following = node->next;
                if (static_cast<WheelTimer *>(node)->m_dueTick <= tick) {
                    unlink(node);
                    append(&m_firing, node);
                }
                node = following;
            }
            while (m_firing.next != &m_firing) {
                auto *timer = static_cast<WheelTimer *>(m_firing.next);
                disarm(timer);
                // A copy: the callback may delete the timer with its owner.
                const std::function<void()> callback = timer->m_callback;
                callback();
            }
        }
        m_advancing = false;
        if (m_armed > 0)
            wakeAt(nextBusyTick());
    }

    // The first tick within a turn whose slot holds a timer; its timers may
    // be due only in a later turn, and then the wheel wakes once a turn.
    qint64 nextBusyTick() const
    {
        for (qint64 tick = m_processedTick + 1; tick <= m_processedTick + kSlots; ++tick) {
            const WheelNode &slot = m_slots[tick % kSlots];
            if (slot.next != &slot)
                return tick;
        }
        return m_processedTick + kSlots;
    }

    void wakeAt(qint64 tick)
    {
        m_wakeTick = tick;
        m_driver.start(int(qMax<qint64>(tick * kTickMs - m_clock.elapsed(), 0)));
    }

    QElapsedTimer m_clock;
    QTimer m_driver;
    WheelNode m_slots[kSlots];
    WheelNode m_firing;
    qint64 m_processedTick = 0;
    qint64 m_wakeTick = 0;
    qsizetype m_armed = 0;
    bool m_advancing = false;
};

void WheelTimer::start(int milliseconds)
{
    stop();
    TimerWheel::forThisThread()->arm(this, milliseconds);
}

void WheelTimer::stop()
{
    if (m_wheel)
        m_wheel->disarm(this);
}

} // namespace wsqt::transport
