#include "heaptrim.h"

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qtimer.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace wsqt::transport {

namespace {

// How long a thread goes without a large message before its heap is trimmed.
constexpr int kQuietMs = 1000;

struct TrimSchedule
{
    bool armed = false;
    QDeadlineTimer quietUntil;
};
thread_local TrimSchedule trimSchedule;

void trimWhenQuiet()
{
    TrimSchedule &schedule = trimSchedule;
    if (!schedule.quietUntil.hasExpired()) {
        QTimer::singleShot(int(schedule.quietUntil.remainingTime()) + 1, &trimWhenQuiet);
        return;
    }
    schedule.armed = false;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

} // namespace

void noteLargeMessage()
{
    TrimSchedule &schedule = trimSchedule;
    // Only a deadline moves per message: one timer per thread, armed once.
    schedule.quietUntil.setRemainingTime(kQuietMs);
    if (schedule.armed)
        return;
    schedule.armed = true;
    QTimer::singleShot(kQuietMs, &trimWhenQuiet);
}

} // namespace wsqt::transport
