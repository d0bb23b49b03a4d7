#pragma once

// Runs the event loop until a condition holds, for tests whose peers live in
// the same thread.

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qtimer.h>

namespace wsqt::test {

constexpr int kDefaultWaitMs = 5000;

// Runs the event loop until `predicate` holds or `timeout` ms passed. Unlike
// QTest::qWaitFor it does not pause between rounds, so bulk transfers run at
// full speed.
template<typename Predicate>
bool waitFor(Predicate predicate, int timeout = kDefaultWaitMs)
{
    QDeadlineTimer deadline(timeout);
    // Wakes the loop when nothing else happens.
    QTimer tick;
    tick.start(20);
    while (!predicate()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }
    return true;
}

} // namespace wsqt::test
