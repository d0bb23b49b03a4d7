#pragma once

// The readiness of a thread's lean connections from one epoll set. The
// thread's event loop watches the set's descriptor alone, so a turn of the
// loop costs what the ready connections cost, however many are idle; a
// QSocketNotifier per connection would put every one of them into the
// dispatcher's poll set, scanned on every turn.

#include <QtCore/qglobal.h>

#include <memory>

class QSocketNotifier;

struct epoll_event;

namespace wsqt::transport {

// What a descriptor in the set is told.
class ReadinessListener
{
public:
    enum Readiness : quint32 {
        Readable = 0x1,
        Writable = 0x2,
        // An error or a hang-up, reported whatever is watched.
        Failed = 0x4,
    };

    virtual void ready(quint32 readiness) = 0;

protected:
    ~ReadinessListener() = default;
};

class EpollSet
{
public:
    // The calling thread's set, made on first use; that thread runs an
    // event loop.
    static EpollSet *forThisThread();

    EpollSet();
    ~EpollSet();
    EpollSet(const EpollSet &) = delete;
    EpollSet &operator=(const EpollSet &) = delete;

    // Adds the descriptor, or changes what is watched on it (nothing at
    // all: only failures are reported). False where epoll refuses it.
    bool watch(int descriptor, ReadinessListener *listener, bool read, bool write);
    // Before the descriptor is closed or the listener deleted; from inside
    // ready() too.
    void forget(int descriptor, ReadinessListener *listener);

private:
    // A batch being dispatched, so that forget() can drop what it still
    // holds for a listener that goes; a listener that runs a nested event
    // loop makes a batch inside another.
    struct Batch
    {
        epoll_event *events;
        int size;
        int next;
        Batch *outer;
    };

    void dispatch();

    int m_epoll;
    std::unique_ptr<QSocketNotifier> m_notifier;
    Batch *m_batches = nullptr;
};

} // namespace wsqt::transport
