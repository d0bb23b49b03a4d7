#include "workerpool.h"

#include <QtCore/qthread.h>

namespace wsqt::transport {

WorkerPool::WorkerPool(int threads)
{
    for (int i = 0; i < threads; ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("wsqt worker %1").arg(i));
        auto *host = new QObject;
        host->moveToThread(thread);
        thread->start();
        m_threads.append(thread);
        m_hosts.append(host);
    }
}

WorkerPool::~WorkerPool()
{
    for (qsizetype i = 0; i < m_threads.size(); ++i) {
        QObject *host = m_hosts[i];
        QMetaObject::invokeMethod(host, [host] { delete host; }, Qt::BlockingQueuedConnection);
        m_threads[i]->quit();
        m_threads[i]->wait();
        delete m_threads[i];
    }
}

QObject *WorkerPool::nextHost()
{
    QObject *host = m_hosts[m_next];
    m_next = (m_next + 1) % m_hosts.size();
    return host;
}

} // namespace wsqt::transport
