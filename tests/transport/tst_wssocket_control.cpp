// WsSocket's control frames: ping and pong, and the closing handshake from
// either end and in every state, with close(), terminate() and a peer that
// never answers.

#include "wssocketpeers.h"

#include <QtTest/qtest.h>

using namespace wssocketpeers;

class tst_WsSocketControl : public QObject
{
    Q_OBJECT

private slots:
    // Control frames
    void pingPong_data();
    void pingPong();
    void autoPongOff();
    void controlPayloadTooLong_data();
    void controlPayloadTooLong();

    // Closing
    void closeHandshake_data();
    void closeHandshake();
    void closeByName();
    void closeRefused_data();
    void closeRefused();
    void closeTwice();
    void closeDuringHandshake_data();
    void closeDuringHandshake();
    void terminate_data();
    void terminate();
    void closeTimeout();
    void peerEndsWithoutCloseFrame();
};

// ---- control frames -----------------------------------------------------------

void tst_WsSocketControl::pingPong_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("text") << QByteArray("hi");
    QTest::newRow("binary") << QByteArray("\x00\xff\x80", 3);
    QTest::newRow("125 bytes") << pattern(125);
}

void tst_WsSocketControl::pingPong()
{
    QFETCH(QByteArray, payload);
    const QString line = QString::fromLatin1(payload.toHex());

    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    // The client pings; the server answers by itself.
    QList<WsError> callbacks;
    QCOMPARE(client.ping(payload, [&](const WsError &error) { callbacks.append(error); }), WsError());
    QTRY_COMPARE(log.filtered(QStringLiteral("pong")), QStringList{QLatin1String("pong ") + line});
    QCOMPARE(serverLog.filtered(QStringLiteral("ping")), QStringList{QLatin1String("ping ") + line});
    QCOMPARE(callbacks, QList<WsError>{WsError()});

    // The server pings; the client's automatic pong reaches it.
    QCOMPARE(peer.socket()->ping(payload), WsError());
    QTRY_COMPARE(serverLog.filtered(QStringLiteral("pong")), QStringList{QLatin1String("pong ") + line});
    QCOMPARE(log.filtered(QStringLiteral("ping")), QStringList{QLatin1String("ping ") + line});

    // An unsolicited pong.
    callbacks.clear();
    QCOMPARE(client.pong(payload, [&](const WsError &error) { callbacks.append(error); }), WsError());
    QTRY_COMPARE(serverLog.filtered(QStringLiteral("pong")).size(), 2);
    QTRY_COMPARE(callbacks, QList<WsError>{WsError()});
    QCOMPARE(log.filtered(QStringLiteral("pong")).size(), 1);
    QCOMPARE(log.errors.size() + serverLog.errors.size(), 0);
}

void tst_WsSocketControl::autoPongOff()
{
    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    WsClientOptions options;
    options.autoPong = false;
    QVERIFY(connectTo(peer, client, options));
    EventLog serverLog(peer.socket());

    QCOMPARE(peer.socket()->ping("x"), WsError());
    QTRY_COMPARE(log.filtered(QStringLiteral("ping")), QStringList{QStringLiteral("ping 78")});
    // Frames arrive in order: a pong sent for "x" would come before this ping.
    QCOMPARE(client.ping("marker"), WsError());
    QTRY_COMPARE(serverLog.filtered(QStringLiteral("ping")).size(), 1);
    QCOMPARE(serverLog.filtered(QStringLiteral("pong")), QStringList());

    QCOMPARE(client.pong("x"), WsError());
    QTRY_COMPARE(serverLog.filtered(QStringLiteral("pong")), QStringList{QStringLiteral("pong 78")});
}

void tst_WsSocketControl::controlPayloadTooLong_data()
{
    QTest::addColumn<Call>("which");
    QTest::newRow("ping") << Call::Ping;
    QTest::newRow("pong") << Call::Pong;
}

void tst_WsSocketControl::controlPayloadTooLong()
{
    QFETCH(Call, which);

    ServerPeer peer;
    WsSocket client;
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    const WsError expected(WsError::InvalidArgument, QStringLiteral("The data size must not be greater than 125 bytes"));
    QList<WsError> callbacks;
    QCOMPARE(call(client, which, pattern(126), [&](const WsError &error) { callbacks.append(error); }), expected);
    QCOMPARE(client.readyState(), WsSocket::Open);
    QTRY_COMPARE(callbacks, QList<WsError>{expected});

    // Nothing was sent: the next message is the first thing the server sees.
    QCOMPARE(client.sendText(QStringLiteral("after")), WsError());
    QTRY_COMPARE(serverLog.lines, QStringList{QStringLiteral("message text 5")});
}

// ---- closing ------------------------------------------------------------------

void tst_WsSocketControl::closeHandshake_data()
{
    QTest::addColumn<bool>("serverCloses");
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<int>("expectedCode");
    QTest::addColumn<QByteArray>("expectedReason");

    const QByteArray longest = textPattern(123);
    QTest::newRow("1000 bye") << false << 1000 << QByteArray("bye") << 1000 << QByteArray("bye");
    QTest::newRow("no code") << false << 0 << QByteArray() << 1005 << QByteArray();
    QTest::newRow("no code, reason ignored") << false << 0 << QByteArray("ignored") << 1005 << QByteArray();
    QTest::newRow("1001, no reason") << false << 1001 << QByteArray() << 1001 << QByteArray();
    QTest::newRow("1014") << false << 1014 << QByteArray("x") << 1014 << QByteArray("x");
    QTest::newRow("3000") << false << 3000 << QByteArray("app") << 3000 << QByteArray("app");
    QTest::newRow("4999, 123-byte reason") << false << 4999 << longest << 4999 << longest;
    QTest::newRow("UTF-8 reason") << false << 1000 << QStringLiteral("\u00e9t\u00e9").toUtf8() << 1000
                                  << QStringLiteral("\u00e9t\u00e9").toUtf8();
    QTest::newRow("server: 1000 bye") << true << 1000 << QByteArray("bye") << 1000 << QByteArray("bye");
    QTest::newRow("server: no code") << true << 0 << QByteArray() << 1005 << QByteArray();
    QTest::newRow("server: 4000") << true << 4000 << QByteArray("srv") << 4000 << QByteArray("srv");
}

void tst_WsSocketControl::closeHandshake()
{
    QFETCH(bool, serverCloses);
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(int, expectedCode);
    QFETCH(QByteArray, expectedReason);

    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    WsSocket *server = peer.socket();
    EventLog serverLog(server);

    WsSocket &initiator = serverCloses ? *server : client;
    QCOMPARE(initiator.close(code, reason), WsError());
    QCOMPARE(initiator.readyState(), WsSocket::Closing);
    QTRY_COMPARE(log.closes.size(), 1);
    QTRY_COMPARE(serverLog.closes.size(), 1);

    // Each end reports the close frame it received; the answer echoes the first.
    QCOMPARE(log.closes.first(), closeArgs(expectedCode, expectedReason));
    QCOMPARE(serverLog.closes.first(), closeArgs(expectedCode, expectedReason));
    QCOMPARE(log.lines.mid(kOpenedLines.size()),
             (QStringList{QStringLiteral("state Closing"), QStringLiteral("state Closed"),
                          QStringLiteral("closed %1 \"%2\"").arg(expectedCode).arg(QString::fromUtf8(expectedReason))}));
    QCOMPARE(log.errors.size() + serverLog.errors.size(), 0);
}

void tst_WsSocketControl::closeByName()
{
    const QMetaEnum names = QMetaEnum::fromType<WsQt::CloseCode>();
    QCOMPARE(names.valueToKey(1009), "MessageTooBig");
    QCOMPARE(names.keyToValue("GoingAway"), 1001);

    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    // What only describes a close that was received is refused, as its number is.
    const WsError refused = client.close(WsQt::CloseCode::NoStatusReceived);
    QCOMPARE(refused.code(), WsError::InvalidArgument);
    QCOMPARE(client.readyState(), WsSocket::Open);

    QCOMPARE(client.close(WsQt::CloseCode::GoingAway, "restarting"), WsError());
    QTRY_COMPARE(serverLog.closes.size(), 1);
    QCOMPARE(serverLog.closes.first(), closeArgs(1001, "restarting"));
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.closes.first(), closeArgs(1001, "restarting"));
}

void tst_WsSocketControl::closeRefused_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<bool>("asString");
    QTest::addColumn<WsError>("expected");

    const WsError badCode(WsError::InvalidArgument, QStringLiteral("First argument must be a valid error code number"));
    const WsError tooLong(WsError::InvalidArgument, QStringLiteral("The message must not be greater than 123 bytes"));
    for (int code : {1004, 1005, 1006, 999, 1, 5000, 2999, 1015, 1016, -1, 66536})
        QTest::newRow(qPrintable(QString::number(code))) << code << QByteArray() << false << badCode;
    QTest::newRow("124-byte reason") << 1000 << textPattern(124) << false << tooLong;
    QTest::newRow("124-byte reason as a string") << 1000 << textPattern(124) << true << tooLong;
    // 62 characters, 124 bytes.
    QTest::newRow("62 two-byte characters") << 1000 << QString(62, QChar(0xe9)).toUtf8() << true << tooLong;
}

void tst_WsSocketControl::closeRefused()
{
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(bool, asString);
    QFETCH(WsError, expected);

    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    const WsError error = asString ? client.close(code, QString::fromUtf8(reason)) : client.close(code, reason);
    QCOMPARE(error, expected);
    // Nothing changed: the connection is open and still works.
    QCOMPARE(client.readyState(), WsSocket::Open);
    QCOMPARE(client.sendText(QStringLiteral("still open")), WsError());
    QTRY_COMPARE(serverLog.messages, QByteArrayList{"still open"});
    QCOMPARE(log.lines, kOpenedLines);
    QCOMPARE(serverLog.closes.size(), 0);

    QCOMPARE(client.close(1000), WsError());
    QTRY_COMPARE(log.closes, (QList<QPair<int, QByteArray>>{closeArgs(1000)}));
}

void tst_WsSocketControl::closeTwice()
{
    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(openOnRaw(raw, client));

    QCOMPARE(client.close(1000, "a"), WsError());
    QCOMPARE(client.close(1001, "b"), WsError());
    QCOMPARE(client.close(1005), WsError());   // Closing: not even checked
    QTRY_COMPARE(raw.last().frames().size(), 1);
    QCOMPARE(raw.last().frames().first().b0, quint8(0x88));
    QCOMPARE(raw.last().frames().first().payload, closePayload(1000, "a"));

    raw.last().write(wireFrame(0x88, closePayload(1000, "a")));
    // The client ends the connection after the closing handshake ...
    QTRY_VERIFY(raw.last().disconnected);
    // ... having sent one close frame.
    QCOMPARE(raw.last().frames().size(), 1);
    QTRY_COMPARE(log.closes, (QList<QPair<int, QByteArray>>{closeArgs(1000, "a")}));

    QCOMPARE(client.close(1000), WsError());
    QTest::qWait(kQuietMs);
    QCOMPARE(log.closes.size(), 1);
    QCOMPARE(client.readyState(), WsSocket::Closed);
}

void tst_WsSocketControl::closeDuringHandshake_data()
{
    QTest::addColumn<bool>("terminate");
    QTest::addColumn<int>("when");    // 0: after open(), 1: in upgraded(), 2: in redirected()

    QTest::newRow("close() after open()") << false << 0;
    QTest::newRow("terminate() after open()") << true << 0;
    QTest::newRow("close() in upgraded()") << false << 1;
    QTest::newRow("terminate() in upgraded()") << true << 1;
    QTest::newRow("close() in redirected()") << false << 2;
    QTest::newRow("terminate() in redirected()") << true << 2;
}

void tst_WsSocketControl::closeDuringHandshake()
{
    QFETCH(bool, terminate);
    QFETCH(int, when);

    RawServer raw;
    const auto upgrade = scripted(kUpgrade + "\r\n");
    raw.setResponder([&](const RawRequest &request) {
        return request.path() == "/redirect" ? redirectResponse(302, "/final") : upgrade(request);
    });
    WsSocket client;
    EventLog log(&client);
    const auto stop = [&] {
        if (terminate)
            client.terminate();
        else
            client.close(1000);
    };
    if (when == 1)
        connect(&client, &WsSocket::upgraded, &client, stop);
    if (when == 2)
        connect(&client, &WsSocket::redirected, &client, stop, Qt::DirectConnection);

    WsClientOptions options;
    options.followRedirects = true;
    QCOMPARE(client.open(raw.url(when == 2 ? "/redirect" : "/"), {}, options), WsError());
    if (when == 0) {
        stop();
        QCOMPARE(client.readyState(), WsSocket::Closing);
        QCOMPARE(log.errors.size(), 0);   // the error comes on a later turn
    }
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.errors, (QList<WsError>{WsError(WsError::HandshakeFailed,
                                                 QStringLiteral("WebSocket was closed before the connection was established"))}));
    QStringList expected = {QStringLiteral("state Connecting")};
    if (when == 1)
        expected.append(QStringLiteral("upgraded 101"));
    expected += {QStringLiteral("state Closing"), QStringLiteral("error WSQT_ERR_HANDSHAKE_FAILED"),
                 QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")};
    QCOMPARE(log.lines, expected);
    if (when == 2)
        QCOMPARE(raw.count(), 1);   // the redirect was not followed
}

void tst_WsSocketControl::terminate_data()
{
    QTest::addColumn<bool>("closeFirst");
    QTest::newRow("open") << false;
    QTest::newRow("closing") << true;
}

void tst_WsSocketControl::terminate()
{
    QFETCH(bool, closeFirst);

    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    if (closeFirst)
        QCOMPARE(client.close(1000, "x"), WsError());
    client.terminate();
    QTRY_COMPARE(log.closes, (QList<QPair<int, QByteArray>>{closeArgs(1006)}));
    QCOMPARE(log.lines.mid(kOpenedLines.size()),
             (QStringList{QStringLiteral("state Closing"), QStringLiteral("state Closed"),
                          QStringLiteral("closed 1006 \"\"")}));
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QCOMPARE(log.errors.size(), 0);
    if (!closeFirst) {
        // No close frame went out.
        QTRY_COMPARE(serverLog.closes, (QList<QPair<int, QByteArray>>{closeArgs(1006)}));
    }
    client.terminate();
    QCOMPARE(log.closes.size(), 1);
}

void tst_WsSocketControl::closeTimeout()
{
    constexpr int timeoutMs = 200;
    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    WsClientOptions options;
    options.closeTimeout = timeoutMs;
    QVERIFY(openOnRaw(raw, client, {}, options));

    QElapsedTimer timer;
    timer.start();
    QCOMPARE(client.close(1000, "x"), WsError());
    // The peer gets the close frame and never answers.
    QTRY_COMPARE(raw.last().frames().size(), 1);
    QCOMPARE(raw.last().frames().first().payload, closePayload(1000, "x"));
    QTRY_COMPARE_WITH_TIMEOUT(log.closes.size(), 1, 20 * timeoutMs);
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(elapsed >= timeoutMs * 9 / 10, qPrintable(QString::number(elapsed)));
    QCOMPARE(log.closes.first(), closeArgs(1006));
    QCOMPARE(log.errors.size(), 0);
    QTRY_VERIFY(raw.last().disconnected);
}

void tst_WsSocketControl::peerEndsWithoutCloseFrame()
{
    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(openOnRaw(raw, client));
    raw.last().write(wireFrame(0x81, "last words"));
    raw.last().close();
    QTRY_COMPARE(log.closes.size(), 1);
    // ws: CLOSING on the end of the stream, CLOSED with 1006; what came before is delivered.
    QCOMPARE(log.lines.mid(kOpenedLines.size()),
             (QStringList{QStringLiteral("message text 10"), QStringLiteral("state Closing"),
                          QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")}));
}

QTEST_MAIN(tst_WsSocketControl)

#include "tst_wssocket_control.moc"
