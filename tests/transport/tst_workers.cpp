// A WsServer with worker threads (workerThreads): connections spread over
// the workers and live there, while clients(), statistics() and broadcast()
// are used from the server's thread as traffic flows; close() and
// destruction with connections still open in the workers; and the traffic
// counters of one connection (WsSocket::statistics), framing and
// compression included.

#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qmutex.h>
#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qthread.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <algorithm>
#include <memory>
#include <vector>

using namespace serverpeers;

namespace {

constexpr int kClients = 40;

// What newConnection saw, in the thread it was emitted from.
struct Accepted
{
    QPointer<WsSocket> socket;
    QThread *emittedIn = nullptr;
    QThread *socketThread = nullptr;
    quint16 peerPort = 0;
};

// An echo server with `workers` worker threads that records, under a lock,
// where each connection was made.
class Server
{
public:
    explicit Server(int workers, WsServerOptions options = {})
    {
        options.workerThreads = workers;
        m_server = std::make_unique<WsServer>(localOptions(options));
        QObject::connect(
                m_server.get(), &WsServer::newConnection, m_server.get(),
                [this](WsSocket *socket) {
                    echoMessages(socket);
                    QMutexLocker locker(&m_mutex);
                    m_accepted.append({socket, QThread::currentThread(), socket->thread(), socket->peerPort()});
                },
                Qt::DirectConnection);
    }

    WsServer *operator->() const { return m_server.get(); }
    WsServer *get() const { return m_server.get(); }
    quint16 port() const { return m_port ? m_port : (m_port = m_server->address().port); }
    void destroy() { m_server.reset(); }

    QList<Accepted> accepted() const
    {
        QMutexLocker locker(&m_mutex);
        return m_accepted;
    }

    // The server's side of the connection from local port `port`.
    WsSocket *acceptedFrom(quint16 port) const
    {
        for (const Accepted &entry : accepted()) {
            if (entry.peerPort == port)
                return entry.socket;
        }
        return nullptr;
    }

private:
    std::unique_ptr<WsServer> m_server;
    mutable quint16 m_port = 0;
    mutable QMutex m_mutex;
    QList<Accepted> m_accepted;
};

// `count` clients opened at once; null when one did not open.
std::vector<std::unique_ptr<WsSocket>> openClients(quint16 port, int count,
                                                   const WsClientOptions &options = WsClientOptions())
{
    std::vector<std::unique_ptr<WsSocket>> clients;
    for (int i = 0; i < count; ++i) {
        clients.push_back(std::make_unique<WsSocket>());
        if (clients.back()->open(localUrl(port), {}, options).isError())
            return {};
    }
    const bool open = waitFor([&] {
        for (const auto &client : clients) {
            if (client->readyState() != WsSocket::Open)
                return false;
        }
        return true;
    }, 20000);
    return open ? std::move(clients) : std::vector<std::unique_ptr<WsSocket>>();
}

// A connection's counters, read in the connection's own thread.
WsStatistics statisticsOf(WsSocket *socket)
{
    WsStatistics result;
    if (socket->thread() == QThread::currentThread())
        return socket->statistics();
    QMetaObject::invokeMethod(socket, [&] { result = socket->statistics(); }, Qt::BlockingQueuedConnection);
    return result;
}

// The framing of a message of `size` bytes: 2 header bytes, 2 or 8 more for
// a longer length, 4 for the mask of a client's frame.
qint64 frameOverhead(qint64 size, bool masked)
{
    const qint64 length = size < 126 ? 0 : size < 65536 ? 2 : 8;
    return 2 + length + (masked ? 4 : 0);
}

QByteArray clientMessage(int client, int index)
{
    return QByteArray("client ") + QByteArray::number(client) + " message " + QByteArray::number(index) + ' '
            + QByteArray(client * 7 + index, 'x');
}

} // namespace

class tst_Workers : public QObject
{
    Q_OBJECT

private slots:
    void manyClients_data();
    void manyClients();
    void closeWithConnectionsInWorkers();
    void destroyWithConnectionsInWorkers();
    void callbacksInWorkers();
    void connectionStatistics_data();
    void connectionStatistics();
    void bytesWithTheUpgradeRequestCount_data();
    void bytesWithTheUpgradeRequestCount();
    void compressionRatio_data();
    void compressionRatio();
    // Last: where it fails, it crashes.
    void broadcastWhileConnectionsComeAndGo();
};

void tst_Workers::manyClients_data()
{
    QTest::addColumn<int>("workers");

    QTest::newRow("2 workers") << 2;
    QTest::newRow("4 workers") << 4;
}

// Forty clients over the workers: each connection made and living in a
// worker, every worker used, each echo right, the server's view (clients(),
// statistics(), broadcast()) right from the main thread as traffic flows.
void tst_Workers::manyClients()
{
    QFETCH(int, workers);
    Server server(workers);
    QVERIFY(server->isListening());
    const auto clients = openClients(server.port(), kClients);
    QCOMPARE(int(clients.size()), kClients);
    QTRY_COMPARE(server.accepted().size(), kClients);

    QThread *const main = QThread::currentThread();
    QSet<QThread *> threads;
    QHash<QThread *, int> perThread;
    for (const Accepted &entry : server.accepted()) {
        QVERIFY(entry.emittedIn != main);
        QCOMPARE(entry.socketThread, entry.emittedIn);
        QVERIFY(entry.socket);
        QCOMPARE(entry.socket->thread(), entry.emittedIn);
        QVERIFY(entry.socket->isServerSide());
        threads.insert(entry.emittedIn);
        ++perThread[entry.emittedIn];
    }
    QCOMPARE(threads.size(), workers);
    for (const int count : std::as_const(perThread))
        QVERIFY2(count >= kClients / workers / 2, qPrintable(QStringLiteral("%1 connections on a worker").arg(count)));

    QCOMPARE(server->clients().size(), kClients);
    WsServerStatistics before = server->statistics();
    QCOMPARE(before.connectionsAccepted, kClients);
    QCOMPARE(before.connectionsOpen, kClients);
    QCOMPARE(before.messagesReceived, 0);

    // Every client sends its messages at once; the server's counters are
    // read all along from this thread.
    constexpr int perClient = 5;
    std::vector<std::unique_ptr<QSignalSpy>> echoes;
    qint64 payloadBytes = 0;
    for (int i = 0; i < kClients; ++i) {
        echoes.push_back(std::make_unique<QSignalSpy>(clients[size_t(i)].get(), &WsSocket::messageReceived));
        for (int m = 0; m < perClient; ++m) {
            const QByteArray data = clientMessage(i, m);
            payloadBytes += data.size();
            clients[size_t(i)]->sendText(QString::fromLatin1(data));
        }
    }
    bool monotonic = true;
    WsServerStatistics last = before;
    QVERIFY(waitFor([&] {
        const WsServerStatistics now = server->statistics();
        monotonic = monotonic && now.messagesReceived >= last.messagesReceived
                && now.messagesSent >= last.messagesSent && now.bytesReceived >= last.bytesReceived
                && now.wireBytesSent >= last.wireBytesSent && now.connectionsOpen == kClients;
        last = now;
        if (server->clients().size() != kClients)
            monotonic = false;
        for (const auto &spy : echoes) {
            if (spy->size() < perClient)
                return false;
        }
        return true;
    }, 20000));
    QVERIFY(monotonic);
    for (int i = 0; i < kClients; ++i) {
        for (int m = 0; m < perClient; ++m)
            QCOMPARE(echoes[size_t(i)]->at(m).at(0).toByteArray(), clientMessage(i, m));
    }

    constexpr qint64 messages = kClients * perClient;
    QTRY_COMPARE(server->statistics().messagesSent, messages);
    const WsServerStatistics after = server->statistics();
    QCOMPARE(after.messagesReceived, messages);
    QCOMPARE(after.bytesReceived, payloadBytes);
    QCOMPARE(after.bytesSent, payloadBytes);
    qint64 clientFraming = 0;
    qint64 serverFraming = 0;
    for (int i = 0; i < kClients; ++i) {
        for (int m = 0; m < perClient; ++m) {
            clientFraming += frameOverhead(clientMessage(i, m).size(), true);
            serverFraming += frameOverhead(clientMessage(i, m).size(), false);
        }
    }
    QCOMPARE(after.wireBytesReceived, payloadBytes + clientFraming);
    QCOMPARE(after.wireBytesSent, payloadBytes + serverFraming);

    // A broadcast from this thread reaches every connection in its worker.
    for (const auto &spy : echoes)
        spy->clear();
    QCOMPARE(server->broadcast("to everyone"), kClients);
    QVERIFY(waitFor([&] {
        for (const auto &spy : echoes) {
            if (spy->isEmpty())
                return false;
        }
        return true;
    }));
    for (const auto &spy : echoes) {
        QCOMPARE(spy->size(), 1);
        QCOMPARE(spy->first().at(0).toByteArray(), QByteArray("to everyone"));
    }
    QTRY_COMPARE(server->statistics().messagesSent, messages + kClients);

    // Half the clients leave: the server sees it from here.
    for (int i = 0; i < kClients / 2; ++i)
        clients[size_t(i)]->close(1000);
    QTRY_COMPARE(server->clients().size(), kClients / 2);
    QTRY_COMPARE(server->statistics().connectionsOpen, kClients / 2);
    QCOMPARE(server->statistics().connectionsAccepted, kClients);
}

// close() stops accepting and waits for the connections in the workers;
// closed() follows the last one.
void tst_Workers::closeWithConnectionsInWorkers()
{
    Server server(2);
    const quint16 port = server.port();
    const auto clients = openClients(port, 6);
    QCOMPARE(int(clients.size()), 6);
    QTRY_COMPARE(server->clients().size(), 6);
    QSignalSpy closed(server.get(), &WsServer::closed);
    bool callbackCalled = false;
    server->close([&](const WsError &error) {
        QVERIFY(!error.isError());
        callbackCalled = true;
    });
    QVERIFY(!server->isListening());

    // No new client; the open ones still served by their workers.
    WsSocket late;
    QSignalSpy lateClosed(&late, &WsSocket::closed);
    QVERIFY(!late.open(localUrl(port)).isError());
    QVERIFY(lateClosed.wait(kWaitMs) || !lateClosed.isEmpty());
    QCOMPARE(lateClosed.first().at(0).toInt(), 1006);
    for (const auto &client : clients) {
        QSignalSpy messages(client.get(), &WsSocket::messageReceived);
        client->sendText(QStringLiteral("still served"));
        QVERIFY(waitFor([&] { return !messages.isEmpty(); }));
    }
    QCOMPARE(closed.size(), 0);

    for (size_t i = 0; i < clients.size(); ++i) {
        clients[i]->close(1000);
        if (i + 1 < clients.size())
            QTRY_COMPARE(server->clients().size(), int(clients.size() - i - 1));
        QCOMPARE(closed.size(), 0);
    }
    QVERIFY(closed.wait(kWaitMs) || !closed.isEmpty());
    QCOMPARE(closed.size(), 1);
    QVERIFY(callbackCalled);
    QCOMPARE(server->statistics().connectionsOpen, 0);
    for (const auto &client : clients)
        QTRY_COMPARE(client->readyState(), WsSocket::Closed);
}

// Destroying the server ends the connections in its workers at once; the
// clients see the connection dropped. (Run under AddressSanitizer, nothing
// leaks and nothing is used after it is freed.)
void tst_Workers::destroyWithConnectionsInWorkers()
{
    Server server(3);
    const auto clients = openClients(server.port(), 12);
    QCOMPARE(int(clients.size()), 12);
    QTRY_COMPARE(server->clients().size(), 12);
    // Traffic in flight while the server goes.
    for (const auto &client : clients)
        client->sendText(QStringLiteral("in flight"));
    const QList<Accepted> accepted = server.accepted();
    server.destroy();
    for (const Accepted &entry : accepted)
        QVERIFY(entry.socket.isNull());
    for (const auto &client : clients)
        QVERIFY(waitFor([&] { return client->readyState() == WsSocket::Closed; }));
}

// verifyClient, handleProtocols and webSocketFactory run in the connection's worker.
void tst_Workers::callbacksInWorkers()
{
    QMutex mutex;
    QList<QThread *> verifyThreads;
    QList<QThread *> protocolThreads;
    QList<QThread *> factoryThreads;
    WsServerOptions options;
    options.verifyClient = [&](const WsVerifyClientInfo &) {
        QMutexLocker locker(&mutex);
        verifyThreads.append(QThread::currentThread());
        return true;
    };
    options.handleProtocols = [&](const QStringList &protocols, const WsHttpRequest &) {
        QMutexLocker locker(&mutex);
        protocolThreads.append(QThread::currentThread());
        return protocols.last();
    };
    options.webSocketFactory = [&] {
        QMutexLocker locker(&mutex);
        factoryThreads.append(QThread::currentThread());
        return new WsSocket;
    };
    Server server(2, options);
    std::vector<std::unique_ptr<WsSocket>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(openClient(server.port(), QStringLiteral("/"), {QStringLiteral("a"), QStringLiteral("b")}));
        QVERIFY(clients.back());
        QCOMPARE(clients.back()->protocol(), QStringLiteral("b"));
    }
    QTRY_COMPARE(server.accepted().size(), 4);
    QMutexLocker locker(&mutex);
    QCOMPARE(verifyThreads.size(), 4);
    QCOMPARE(protocolThreads.size(), 4);
    QCOMPARE(factoryThreads.size(), 4);
    QList<QThread *> socketThreads;
    for (const Accepted &connection : server.accepted())
        socketThreads.append(connection.socketThread);
    for (int i = 0; i < 4; ++i) {
        QVERIFY(verifyThreads[i] != QThread::currentThread());
        QCOMPARE(protocolThreads[i], verifyThreads[i]);
        QCOMPARE(factoryThreads[i], verifyThreads[i]);
    }
    // Two workers announce their connections independently: the order they
    // arrive in here may differ from the order of the callbacks.
    QList<QThread *> callbackThreads = verifyThreads;
    std::sort(callbackThreads.begin(), callbackThreads.end());
    std::sort(socketThreads.begin(), socketThreads.end());
    QCOMPARE(socketThreads, callbackThreads);
}

// broadcast() from the server's thread while connections open and end in
// the workers: the ones that stay get every message, in order, and the ones
// that go are never touched after they are gone.
void tst_Workers::broadcastWhileConnectionsComeAndGo()
{
    Server server(4);
    const auto stable = openClients(server.port(), 4);
    QCOMPARE(int(stable.size()), 4);
    std::vector<std::unique_ptr<QSignalSpy>> received;
    for (const auto &client : stable)
        received.push_back(std::make_unique<QSignalSpy>(client.get(), &WsSocket::messageReceived));

    int sent = 0;
    const auto broadcastSome = [&](int count, bool runEventLoop) {
        for (int i = 0; i < count; ++i) {
            server->broadcast(QByteArray::number(sent++));
            if (runEventLoop)
                QCoreApplication::processEvents();
        }
    };
    for (int round = 0; round < 30; ++round) {
        const auto passing = openClients(server.port(), 8);
        QCOMPARE(int(passing.size()), 8);
        broadcastSome(10, true);
        // The workers end these connections while the broadcasts go on.
        for (const auto &client : passing)
            client->terminate();
        broadcastSome(100, false);
    }
    QVERIFY(waitFor([&] {
        for (const auto &spy : received) {
            if (spy->size() < sent)
                return false;
        }
        return true;
    }, 20000));
    for (const auto &spy : received) {
        QCOMPARE(spy->size(), sent);
        for (int i = 0; i < sent; ++i)
            QCOMPARE(spy->at(i).at(0).toByteArray(), QByteArray::number(i));
    }
    QTRY_COMPARE(server->clients().size(), 4);
}

void tst_Workers::connectionStatistics_data()
{
    QTest::addColumn<int>("workers");

    QTest::newRow("no workers") << 0;
    QTest::newRow("2 workers") << 2;
}

// Messages and bytes in and out of one connection, on both sides: payloads,
// and on the wire the frames' headers (and a client's masks) too.
void tst_Workers::connectionStatistics()
{
    QFETCH(int, workers);
    Server server(workers);
    const std::unique_ptr<WsSocket> client = openClient(server.port());
    QVERIFY(client);
    QTRY_VERIFY(server.acceptedFrom(client->localPort()));
    WsSocket *accepted = server.acceptedFrom(client->localPort());

    const WsStatistics fresh = client->statistics();
    QCOMPARE(fresh.messagesSent, 0);
    QCOMPARE(fresh.messagesReceived, 0);
    QCOMPARE(fresh.wireBytesSent, 0);
    QCOMPARE(fresh.roundTripTime, -1);

    const QList<qint64> sizes = {0, 10, 125, 126, 1000, 65535, 65536, 100000};
    qint64 payload = 0;
    qint64 clientWire = 0;
    qint64 serverWire = 0;
    QSignalSpy echoes(client.get(), &WsSocket::messageReceived);
    for (const qint64 size : sizes) {
        payload += size;
        clientWire += size + frameOverhead(size, true);
        serverWire += size + frameOverhead(size, false);
        client->send(QByteArray(size, 's'));
    }
    // One message in three fragments counts once, its three frames all.
    const QByteArrayList parts = {"frag", "ment", "ed"};
    for (qsizetype i = 0; i < parts.size(); ++i) {
        WsSendOptions options;
        options.fin = i == parts.size() - 1;
        client->send(parts[i], options);
        payload += parts[i].size();
        clientWire += parts[i].size() + frameOverhead(parts[i].size(), true);
    }
    serverWire += 10 + frameOverhead(10, false);
    const qint64 messages = sizes.size() + 1;
    QVERIFY(waitFor([&] { return echoes.size() == messages; }, 20000));
    QTRY_COMPARE(client->bufferedAmount(), 0);

    const WsStatistics mine = client->statistics();
    QCOMPARE(mine.messagesSent, messages);
    QCOMPARE(mine.messagesReceived, messages);
    QCOMPARE(mine.bytesSent, payload);
    QCOMPARE(mine.bytesReceived, payload);
    QCOMPARE(mine.wireBytesSent, clientWire);
    QCOMPARE(mine.wireBytesReceived, serverWire);
    QCOMPARE(mine.bufferedAmount, 0);
    // Without compression a payload byte is a wire byte, plus framing.
    QVERIFY(mine.compressionRatioSent() < 1.0);

    const WsStatistics theirs = statisticsOf(accepted);
    QCOMPARE(theirs.messagesReceived, messages);
    QCOMPARE(theirs.messagesSent, messages);
    QCOMPARE(theirs.bytesReceived, payload);
    QCOMPARE(theirs.bytesSent, payload);
    QCOMPARE(theirs.wireBytesReceived, clientWire);
    QCOMPARE(theirs.wireBytesSent, serverWire);

    // The server's totals are its one connection's.
    const WsServerStatistics total = server->statistics();
    QCOMPARE(total.messagesReceived, messages);
    QCOMPARE(total.wireBytesReceived, clientWire);
    QCOMPARE(total.wireBytesSent, serverWire);

    // A ping and its pong are wire bytes, not messages; the pong gives the round trip.
    QSignalSpy pongs(client.get(), &WsSocket::pongReceived);
    QVERIFY(!client->ping("p").isError());
    QVERIFY(waitFor([&] { return !pongs.isEmpty(); }));
    const WsStatistics afterPing = client->statistics();
    QCOMPARE(afterPing.messagesSent, messages);
    QCOMPARE(afterPing.wireBytesSent, clientWire + 1 + 6);
    QCOMPARE(afterPing.wireBytesReceived, serverWire + 1 + 2);
    QVERIFY(afterPing.roundTripTime >= 0);
}

void tst_Workers::bytesWithTheUpgradeRequestCount_data()
{
    connectionStatistics_data();
}

// A frame that arrives with the upgrade request, in the same write, is read
// from the network like any other: its bytes count.
void tst_Workers::bytesWithTheUpgradeRequestCount()
{
    QFETCH(int, workers);
    Server server(workers);
    RawClient raw;
    QVERIFY(raw.connectTo(server.port()));
    const QByteArray early = frame(0x81, "early");
    raw.write(upgradeRequest() + early);
    HttpHead head;
    QVERIFY(raw.readResponseHead(&head));
    QCOMPARE(head.status, 101);
    Frame echo;
    QVERIFY(raw.readFrame(&echo));
    QCOMPARE(echo.payload, QByteArray("early"));

    WsSocket *accepted = server.acceptedFrom(raw.socket()->localPort());
    QVERIFY(accepted);
    const WsStatistics stats = statisticsOf(accepted);
    QCOMPARE(stats.messagesReceived, 1);
    QCOMPARE(stats.bytesReceived, 5);
    QCOMPARE(stats.wireBytesReceived, early.size());
    QCOMPARE(server->statistics().wireBytesReceived, early.size());
}

void tst_Workers::compressionRatio_data()
{
    QTest::addColumn<int>("workers");
    QTest::addColumn<int>("size");

    QTest::newRow("no workers, inline compression") << 0 << 20000;
    QTest::newRow("2 workers, inline compression") << 2 << 20000;
    // Large messages are compressed on a thread pool.
    QTest::newRow("2 workers, pooled compression") << 2 << 300000;
}

// With permessage-deflate and text that compresses, the wire carries fewer
// bytes than the messages: the ratio is above 1 both ways, on both sides.
void tst_Workers::compressionRatio()
{
    QFETCH(int, workers);
    QFETCH(int, size);
    WsServerOptions options;
    options.perMessageDeflate = WsDeflateOptions();
    Server server(workers, options);
    const std::unique_ptr<WsSocket> client = openClient(server.port());
    QVERIFY(client);
    if (client->extensions().isEmpty())
        QSKIP("built without permessage-deflate");
    QTRY_VERIFY(server.acceptedFrom(client->localPort()));
    WsSocket *accepted = server.acceptedFrom(client->localPort());

    QByteArray text;
    for (int i = 0; text.size() < size; ++i)
        text += "line " + QByteArray::number(i % 50) + ": the same words again and again\n";
    text.truncate(size);
    QSignalSpy echoes(client.get(), &WsSocket::messageReceived);
    for (int i = 0; i < 3; ++i)
        client->sendText(QString::fromLatin1(text));
    QVERIFY(waitFor([&] { return echoes.size() == 3; }, 20000));
    for (const QList<QVariant> &echo : std::as_const(echoes))
        QCOMPARE(echo.at(0).toByteArray(), text);

    const WsStatistics mine = client->statistics();
    QCOMPARE(mine.bytesSent, 3 * size);
    QCOMPARE(mine.bytesReceived, 3 * size);
    QVERIFY2(mine.compressionRatioSent() > 2.0, qPrintable(QString::number(mine.compressionRatioSent())));
    QVERIFY2(mine.compressionRatioReceived() > 2.0, qPrintable(QString::number(mine.compressionRatioReceived())));
    QVERIFY(mine.wireBytesSent < mine.bytesSent);

    const WsStatistics theirs = statisticsOf(accepted);
    QCOMPARE(theirs.bytesReceived, 3 * size);
    QCOMPARE(theirs.bytesSent, 3 * size);
    QCOMPARE(theirs.wireBytesReceived, mine.wireBytesSent);
    QCOMPARE(theirs.wireBytesSent, mine.wireBytesReceived);
    QVERIFY(theirs.compressionRatioReceived() > 2.0);
    QVERIFY(theirs.compressionRatioSent() > 2.0);
}

QTEST_MAIN(tst_Workers)

#include "tst_workers.moc"
