// WsSocket's pause() and resume(): nothing delivered while paused, all of it
// in order afterwards, and the end of the connection still noticed.

#include "wssocketpeers.h"

#include <QtTest/qtest.h>

using namespace wssocketpeers;

class tst_WsSocketFlowControl : public QObject
{
    Q_OBJECT

private slots:
    void pauseResume();
    void pausedSocketSeesTheEnd_data();
    void pausedSocketSeesTheEnd();
    void pauseIgnoredWhenNotOpen_data();
    void pauseIgnoredWhenNotOpen();
};

void tst_WsSocketFlowControl::pauseResume()
{
    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    WsSocket *server = peer.socket();
    EventLog serverLog(server);

    QVERIFY(!client.isPaused());
    client.pause();
    client.pause();
    QVERIFY(client.isPaused());
    QCOMPARE(log.filtered(QStringLiteral("paused")).size(), 1);

    // More than a paused socket reads ahead, so TCP has to hold some back.
    const QByteArrayList sent = {"one", "two", pattern(2 * kMiB), "four"};
    int written = 0;
    for (const QByteArray &message : sent)
        QCOMPARE(server->send(message, {}, [&](const WsError &) { ++written; }), WsError());
    QCOMPARE(server->ping("p"), WsError());
    QTRY_VERIFY(written >= 2);
    QTest::qWait(kQuietMs);
    QCOMPARE(log.messages.size(), 0);
    QCOMPARE(log.filtered(QStringLiteral("ping")).size(), 0);
    QCOMPARE(serverLog.filtered(QStringLiteral("pong")).size(), 0);

    client.resume();
    QVERIFY(!client.isPaused());
    QTRY_COMPARE_WITH_TIMEOUT(log.messages.size(), sent.size(), kLongTimeoutMs);
    QVERIFY(log.messages == sent);
    QTRY_COMPARE(log.filtered(QStringLiteral("ping")).size(), 1);
    QTRY_COMPARE(serverLog.filtered(QStringLiteral("pong")).size(), 1);
    QCOMPARE(log.filtered(QStringLiteral("paused")).size(), 1);
    QCOMPARE(log.filtered(QStringLiteral("resumed")).size(), 1);
    client.resume();
    QCOMPARE(log.filtered(QStringLiteral("resumed")).size(), 1);
}

void tst_WsSocketFlowControl::pausedSocketSeesTheEnd_data()
{
    QTest::addColumn<bool>("serverPaused");
    QTest::newRow("client paused") << false;
    QTest::newRow("server paused") << true;
}

void tst_WsSocketFlowControl::pausedSocketSeesTheEnd()
{
    // A paused socket still reads a little ahead, so it notices that its peer
    // went away, and then delivers what came before the end, as ws does.
    QFETCH(bool, serverPaused);
    ServerPeer peer;
    WsSocket client;
    QVERIFY(connectTo(peer, client));
    WsSocket *paused = serverPaused ? peer.socket() : &client;
    WsSocket *sender = serverPaused ? &client : peer.socket();
    EventLog log(paused);
    QSignalSpy closed(paused, &WsSocket::closed);

    paused->pause();
    QCOMPARE(sender->send("one"), WsError());
    QCOMPARE(sender->send("two"), WsError());
    QTRY_COMPARE(sender->bufferedAmount(), 0);
    sender->terminate();
    QTRY_COMPARE(closed.size(), 1);
    QCOMPARE(closed.first().first().toInt(), 1006);
    QCOMPARE(log.messages, QByteArrayList({"one", "two"}));
}

void tst_WsSocketFlowControl::pauseIgnoredWhenNotOpen_data()
{
    QTest::addColumn<int>("state");
    QTest::newRow("never opened") << -1;
    QTest::newRow("connecting") << int(WsSocket::Connecting);
    QTest::newRow("closed") << int(WsSocket::Closed);
}

void tst_WsSocketFlowControl::pauseIgnoredWhenNotOpen()
{
    QFETCH(int, state);

    RawServer silent;
    ServerPeer peer;
    WsSocket client;
    if (state == WsSocket::Connecting) {
        QCOMPARE(client.open(silent.url()), WsError());
    } else if (state == WsSocket::Closed) {
        QVERIFY(connectTo(peer, client));
        QSignalSpy closed(&client, &WsSocket::closed);
        client.terminate();
        QTRY_COMPARE(closed.size(), 1);
    }
    QSignalSpy paused(&client, &WsSocket::pausedChanged);
    client.pause();
    QVERIFY(!client.isPaused());
    client.resume();
    QVERIFY(!client.isPaused());
    QCOMPARE(paused.size(), 0);
}

QTEST_MAIN(tst_WsSocketFlowControl)

#include "tst_wssocket_flowcontrol.moc"
