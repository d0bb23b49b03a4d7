#pragma once

// The connections of a server, shared with each of them: they come and go
// in their own threads (a server's workers) and may outlive the server. A
// connection leaves the list itself, by a call rather than a signal
// connection, which would cost each connection a few hundred bytes.

#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qmutex.h>

#include <functional>
#include <list>

class QObject;
class WsSocket;

class ServerConnections
{
public:
    // `removed` runs after each removal, in the thread that removed, for as
    // long as the server is there.
    explicit ServerConnections(std::function<void()> removed) : m_removed(std::move(removed)) { }

    // `host` owns the connection and gives it its thread.
    void add(WsSocket *socket, QObject *host);
    // False where it was not listed (any more).
    bool remove(WsSocket *socket);
    bool contains(WsSocket *socket) const;
    bool isEmpty() const;
    // In the order they were added.
    QList<WsSocket *> list() const;
    QList<QPair<WsSocket *, QObject *>> withHosts() const;
    // The server is going: `removed` runs no more.
    void serverGone();

private:
    struct Entry
    {
        WsSocket *socket;
        QObject *host;
    };

    mutable QMutex m_mutex;
    std::list<Entry> m_entries;
    QHash<WsSocket *, std::list<Entry>::iterator> m_index;
    std::function<void()> m_removed;
};
