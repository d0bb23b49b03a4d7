#include "epollset.h"

#include <QtCore/qsocketnotifier.h>

#include <sys/epoll.h>
#include <unistd.h>

namespace wsqt::transport {

namespace {

// The most descriptors served in one turn; more wait for the next turn,
// after the rest of the event loop's work.
constexpr int kBatch = 256;

quint32 interest(bool read, bool write)
{
    return (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
}

} // namespace

EpollSet *EpollSet::forThisThread()
{
    thread_local EpollSet set;
    return &set;
}

EpollSet::EpollSet() : m_epoll(::epoll_create1(EPOLL_CLOEXEC))
{
    if (m_epoll < 0)
        return;
    m_notifier = std::make_unique<QSocketNotifier>(m_epoll, QSocketNotifier::Read);
    QObject::connect(m_notifier.get(), &QSocketNotifier::activated, m_notifier.get(), [this] { dispatch(); });
}

EpollSet::~EpollSet()
{
    m_notifier.reset();
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool EpollSet::watch(int descriptor, ReadinessListener *listener, bool read, bool write)
{
    if (m_epoll < 0)
        return false;
    epoll_event event = {};
    event.events = interest(read, write);
    event.data.ptr = listener;
    if (::epoll_ctl(m_epoll, EPOLL_CTL_MOD, descriptor, &event) == 0)
        return true;
    return errno == ENOENT && ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, descriptor, &event) == 0;
}

void EpollSet::forget(int descriptor, ReadinessListener *listener)
{
    if (m_epoll < 0)
        return;
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, descriptor, nullptr);
    for (Batch *batch = m_batches; batch; batch = batch->outer) {
        for (int i = batch->next; i < batch->size; ++i) {
            if (batch->events[i].data.ptr == listener)
                batch->events[i].data.ptr = nullptr;
        }
    }
}

void EpollSet::dispatch()
{
    epoll_event events[kBatch];
    const int count = ::epoll_wait(m_epoll, events, kBatch, 0);
    if (count <= 0)
        return;
    // A listener may delete others (an application's handler deletes
    // sockets): forget() clears their entries in this batch.
    Batch batch{events, count, 0, m_batches};
    m_batches = &batch;
    while (batch.next < count) {
        const epoll_event &event = events[batch.next++];
        auto *listener = static_cast<ReadinessListener *>(event.data.ptr);
        if (!listener)
            continue;
        quint32 readiness = 0;
        if (event.events & EPOLLIN)
            readiness |= ReadinessListener::Readable;
        if (event.events & EPOLLOUT)
            readiness |= ReadinessListener::Writable;
        if (event.events & (EPOLLERR | EPOLLHUP))
            readiness |= ReadinessListener::Failed;
        listener->ready(readiness);
    }
    m_batches = batch.outer;
}

} // namespace wsqt::transport
