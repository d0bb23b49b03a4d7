#pragma once

// Work for a later turn of the event loop, queued at most once however often
// it is asked for before it runs: a flush after many sends, a report after
// many writes.

#include <QtCore/qmetaobject.h>
#include <QtCore/qobject.h>

#include <utility>

namespace wsqt::transport {

// Runs `work` on a later turn of `context`'s thread unless a run is already
// queued; `queued` (owned with `context`) says so. Dropped with `context`.
template<typename Work>
void scheduleOnce(QObject *context, bool &queued, Work &&work)
{
    if (queued)
        return;
    queued = true;
    QMetaObject::invokeMethod(context, [&queued, work = std::forward<Work>(work)] {
        queued = false;
        work();
    }, Qt::QueuedConnection);
}

} // namespace wsqt::transport
