#include "serverconnections.h"

void ServerConnections::add(WsSocket *socket, QObject *host)
{
    QMutexLocker locker(&m_mutex);
    m_index.insert(socket, m_entries.insert(m_entries.end(), Entry{socket, host}));
}

bool ServerConnections::remove(WsSocket *socket)
{
    QMutexLocker locker(&m_mutex);
    const auto found = m_index.constFind(socket);
    if (found == m_index.cend())
        return false;
    m_entries.erase(found.value());
    m_index.erase(found);
    // Under the lock: serverGone() waits until it has run.
    if (m_removed)
        m_removed();
    return true;
}

bool ServerConnections::contains(WsSocket *socket) const
{
    QMutexLocker locker(&m_mutex);
    return m_index.contains(socket);
}

bool ServerConnections::isEmpty() const
{
    QMutexLocker locker(&m_mutex);
    return m_entries.empty();
}

QList<WsSocket *> ServerConnections::list() const
{
    QMutexLocker locker(&m_mutex);
    QList<WsSocket *> result;
    result.reserve(qsizetype(m_entries.size()));
    for (const Entry &entry : m_entries)
        result.append(entry.socket);
    return result;
}

QList<QPair<WsSocket *, QObject *>> ServerConnections::withHosts() const
{
    QMutexLocker locker(&m_mutex);
    QList<QPair<WsSocket *, QObject *>> result;
    result.reserve(qsizetype(m_entries.size()));
    for (const Entry &entry : m_entries)
        result.append({entry.socket, entry.host});
    return result;
}

void ServerConnections::serverGone()
{
    QMutexLocker locker(&m_mutex);
    m_removed = nullptr;
}
