#pragma once

// The event-loop threads of a multi-threaded server. Each thread has a host
// object; a connection handed to a worker lives in its thread as a child of
// its host, and its signals come from there.

#include <QtCore/qlist.h>
#include <QtCore/qobject.h>

class QThread;

namespace wsqt::transport {

class WorkerPool
{
public:
    explicit WorkerPool(int threads);
    // Deletes each host, and the connections it holds, in its own thread,
    // then stops the threads.
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    // The next worker's host, in turn.
    QObject *nextHost();
    const QList<QObject *> &hosts() const { return m_hosts; }

private:
    QList<QThread *> m_threads;
    QList<QObject *> m_hosts;
    qsizetype m_next = 0;
};

} // namespace wsqt::transport
