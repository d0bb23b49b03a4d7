// WsSocket's messages over real loopback connections: sending and receiving,
// send callbacks, bufferedAmount(), fragments and the masking of frames.

#include "wssocketpeers.h"

#include <QtTest/qtest.h>

using namespace wssocketpeers;

class tst_WsSocketMessages : public QObject
{
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void sendKinds_data();
    void sendKinds();
    void sendCallback();
    void callbackWithContext();
    void callbackAfterUnwatchedWrites();
    void bufferedAmount_data();
    void bufferedAmount();
    void sendNotOpen_data();
    void sendNotOpen();
    void sendFragments_data();
    void sendFragments();
    void sendFragmentsArriveAsOneMessage();
    void frameMasking_data();
    void frameMasking();
    void unmaskedFrameRefusedByServer();
    void receiveFragments_data();
    void receiveFragments();
    void switchBinaryType();
};

void tst_WsSocketMessages::roundTrip_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("binary");

    QTest::newRow("text") << QByteArray("hello") << false;
    QTest::newRow("binary") << QByteArray("\x00\x01\xfe\xff", 4) << true;
    QTest::newRow("empty text") << QByteArray() << false;
    QTest::newRow("empty binary") << QByteArray() << true;
    QTest::newRow("UTF-8 text") << QStringLiteral("h\u00e9llo \u20ac \U0001F600").toUtf8() << false;
    QTest::newRow("125 bytes") << pattern(125) << true;
    QTest::newRow("126 bytes") << pattern(126) << true;
    QTest::newRow("65535 bytes") << pattern(65535) << true;
    QTest::newRow("65536 bytes") << pattern(65536) << true;
    QTest::newRow("1 MiB text") << textPattern(kMiB) << false;
    QTest::newRow("1 MiB binary") << pattern(kMiB) << true;
    QTest::newRow("16 MiB binary") << pattern(16 * kMiB) << true;
}

void tst_WsSocketMessages::roundTrip()
{
    QFETCH(QByteArray, data);
    QFETCH(bool, binary);

    ServerPeer peer(ServerPeer::Echo);
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    WsSendOptions options;
    options.binary = binary;
    QCOMPARE(client.send(data, options), WsError());
    QTRY_COMPARE_WITH_TIMEOUT(log.messages.size(), 1, kLongTimeoutMs);
    QCOMPARE(serverLog.messages.size(), 1);
    QCOMPARE(serverLog.binaryFlags.first(), binary);
    QCOMPARE(serverLog.messages.first().size(), data.size());
    QVERIFY(serverLog.messages.first() == data);
    QCOMPARE(log.binaryFlags.first(), binary);
    QCOMPARE(log.messages.first().size(), data.size());
    QVERIFY(log.messages.first() == data);
    QCOMPARE(log.errors.size(), 0);
}

void tst_WsSocketMessages::sendKinds_data()
{
    QTest::addColumn<int>("kind");   // the call, as numbered in sendKinds()
    QTest::addColumn<bool>("expectedBinary");

    QTest::newRow("send()") << 0 << true;
    QTest::newRow("send(), binary = false") << 1 << false;
    QTest::newRow("send(), binary = true") << 2 << true;
    QTest::newRow("sendText()") << 3 << false;
    QTest::newRow("sendBinary()") << 4 << true;
}

void tst_WsSocketMessages::sendKinds()
{
    QFETCH(int, kind);
    QFETCH(bool, expectedBinary);

    ServerPeer peer;
    WsSocket client;
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    const QString text = QStringLiteral("d\u00e9j\u00e0 vu");
    const QByteArray data = text.toUtf8();
    WsSendOptions options;
    switch (kind) {
    case 0:
        QCOMPARE(client.send(data), WsError());
        break;
    case 1:
    case 2:
        options.binary = kind == 2;
        QCOMPARE(client.send(data, options), WsError());
        break;
    case 3:
        QCOMPARE(client.sendText(text), WsError());
        break;
    case 4:
        QCOMPARE(client.sendBinary(data), WsError());
        break;
    }
    QTRY_COMPARE(serverLog.messages, QByteArrayList{data});
    QCOMPARE(serverLog.binaryFlags, QList<bool>{expectedBinary});
}

void tst_WsSocketMessages::sendCallback()
{
    ServerPeer peer;
    WsSocket client;
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    QList<int> calls;
    QList<WsError> errors;
    qint64 bufferedInLastCallback = -1;
    for (int i = 0; i < 3; ++i) {
        const auto callback = [&, i](const WsError &error) {
            calls.append(i);
            errors.append(error);
            bufferedInLastCallback = client.bufferedAmount();
        };
        QCOMPARE(client.send(pattern(256 * 1024 + i), {}, callback), WsError());
    }
    // Never called from inside send().
    QCOMPARE(calls.size(), 0);
    QTRY_COMPARE(calls, (QList<int>{0, 1, 2}));
    QCOMPARE(errors, (QList<WsError>{WsError(), WsError(), WsError()}));
    // When the last callback runs, everything has been handed to the network.
    QCOMPARE(bufferedInLastCallback, 0);
    QTRY_COMPARE(serverLog.messages.size(), 3);
    QCOMPARE(calls.size(), 3);

    QList<WsError> pingCalls;
    QCOMPARE(client.ping("p", [&](const WsError &error) { pingCalls.append(error); }), WsError());
    QCOMPARE(pingCalls.size(), 0);
    QTRY_COMPARE(pingCalls, QList<WsError>{WsError()});
}

void tst_WsSocketMessages::callbackWithContext()
{
    ServerPeer peer;
    WsSocket client;
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    // A context that lives: called, in the context's thread, once written.
    QObject living;
    QList<WsError> livingCalls;
    QCOMPARE(client.send(pattern(1000), {}, &living, [&](const WsError &error) { livingCalls.append(error); }),
             WsError());
    // A context destroyed before the frame is written: the data still goes,
    // the callback never runs.
    auto *dying = new QObject;
    int dyingCalls = 0;
    QCOMPARE(client.sendText(QStringLiteral("after"), dying, [&](const WsError &) { ++dyingCalls; }), WsError());
    delete dying;
    // A context in another thread: the callback runs there.
    QThread other;
    other.start();
    QObject elsewhere;
    elsewhere.moveToThread(&other);
    std::atomic<QThread *> ranIn{nullptr};
    QCOMPARE(client.ping("p", &elsewhere, [&](const WsError &) { ranIn = QThread::currentThread(); }), WsError());

    QTRY_COMPARE(livingCalls, QList<WsError>{WsError()});
    QTRY_COMPARE(ranIn.load(), &other);
    QTRY_COMPARE(serverLog.messages.size(), 2);
    QCOMPARE(serverLog.messages.last(), QByteArray("after"));
    QCOMPARE(dyingCalls, 0);
    other.quit();
    QVERIFY(other.wait());
}

void tst_WsSocketMessages::callbackAfterUnwatchedWrites()
{
    // While no callback waits, nothing follows the transport's writes, yet
    // those writes count: a callback queued after them fires once its own
    // frame is written, neither before nor never.
    ServerPeer peer;
    WsSocket client;
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 5; ++i)
            QCOMPARE(client.send(pattern(1000 + i)), WsError());
        QTRY_COMPARE(serverLog.messages.size(), 6 * round + 5);
        QList<WsError> errors;
        qint64 bufferedInCallback = -1;
        const auto callback = [&](const WsError &error) {
            errors.append(error);
            bufferedInCallback = client.bufferedAmount();
        };
        QCOMPARE(client.send(pattern(512 * 1024 + round), {}, callback), WsError());
        QTRY_COMPARE(errors, QList<WsError>{WsError()});
        QCOMPARE(bufferedInCallback, 0);
        QTRY_COMPARE(serverLog.messages.size(), 6 * round + 6);
        QCOMPARE(serverLog.messages.last(), pattern(512 * 1024 + round));
    }
}

void tst_WsSocketMessages::bufferedAmount_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("framing");   // header and masking key of a client frame

    QTest::newRow("empty") << 0 << 6;
    QTest::newRow("100 bytes") << 100 << 6;
    QTest::newRow("125 bytes") << 125 << 6;
    QTest::newRow("126 bytes") << 126 << 8;
    QTest::newRow("65535 bytes") << 65535 << 8;
    QTest::newRow("65536 bytes") << 65536 << 14;
}

void tst_WsSocketMessages::bufferedAmount()
{
    QFETCH(int, size);
    QFETCH(int, framing);

    ServerPeer peer;
    WsSocket client;
    QCOMPARE(client.bufferedAmount(), 0);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());
    QCOMPARE(client.bufferedAmount(), 0);

    QCOMPARE(client.send(pattern(size)), WsError());
    QCOMPARE(client.bufferedAmount(), qint64(size + framing));
    QCOMPARE(client.send(pattern(size)), WsError());
    QCOMPARE(client.bufferedAmount(), 2 * qint64(size + framing));
    QTRY_COMPARE(client.bufferedAmount(), 0);
    QTRY_COMPARE(serverLog.messages.size(), 2);
}

void tst_WsSocketMessages::sendNotOpen_data()
{
    QTest::addColumn<int>("state");
    QTest::addColumn<Call>("which");
    QTest::addColumn<int>("size");
    QTest::addColumn<QString>("expected");

    const QString connecting = QStringLiteral("WebSocket is not open: readyState 0 (CONNECTING)");
    const QString closing = QStringLiteral("WebSocket is not open: readyState 2 (CLOSING)");
    const QString closed = QStringLiteral("WebSocket is not open: readyState 3 (CLOSED)");
    QTest::newRow("send while connecting") << int(WsSocket::Connecting) << Call::Send << 4 << connecting;
    QTest::newRow("ping while connecting") << int(WsSocket::Connecting) << Call::Ping << 4 << connecting;
    QTest::newRow("pong while connecting") << int(WsSocket::Connecting) << Call::Pong << 4 << connecting;
    QTest::newRow("send while closing") << int(WsSocket::Closing) << Call::Send << 4 << closing;
    QTest::newRow("ping while closing") << int(WsSocket::Closing) << Call::Ping << 2 << closing;
    QTest::newRow("pong while closing") << int(WsSocket::Closing) << Call::Pong << 3 << closing;
    // Not open comes first: no size check on this path.
    QTest::newRow("126-byte ping while closing") << int(WsSocket::Closing) << Call::Ping << 126 << closing;
    QTest::newRow("send when closed") << int(WsSocket::Closed) << Call::Send << 5 << closed;
    QTest::newRow("ping when closed") << int(WsSocket::Closed) << Call::Ping << 1 << closed;
}

void tst_WsSocketMessages::sendNotOpen()
{
    QFETCH(int, state);
    QFETCH(Call, which);
    QFETCH(int, size);
    QFETCH(QString, expected);

    RawServer silent;
    ServerPeer peer;
    WsSocket client;
    std::optional<EventLog> serverLog;
    if (state == WsSocket::Connecting) {
        QCOMPARE(client.open(silent.url()), WsError());
    } else {
        QVERIFY(connectTo(peer, client));
        serverLog.emplace(peer.socket());
        QSignalSpy closed(&client, &WsSocket::closed);
        QCOMPARE(client.close(1000), WsError());
        if (state == WsSocket::Closed)
            QVERIFY(closed.wait());
    }
    QCOMPARE(int(client.readyState()), state);

    const qint64 before = client.bufferedAmount();
    QList<WsError> calls;
    const WsError error = call(client, which, pattern(size), [&](const WsError &e) { calls.append(e); });
    QCOMPARE(error, WsError(WsError::InvalidState, expected));
    // ws counts what is sent after closing started; while connecting it throws.
    QCOMPARE(client.bufferedAmount() - before, state == WsSocket::Connecting ? 0 : qint64(size));
    QCOMPARE(calls.size(), 0);
    QTRY_COMPARE(calls, QList<WsError>{error});
    QTest::qWait(kQuietMs);
    QCOMPARE(calls.size(), 1);
    // Nothing reached the server but the closing handshake.
    if (serverLog) {
        QCOMPARE(serverLog->messages.size(), 0);
        QCOMPARE(serverLog->filtered(QStringLiteral("ping")).size(), 0);
        QCOMPARE(serverLog->filtered(QStringLiteral("pong")).size(), 0);
    }
}

void tst_WsSocketMessages::sendFragments_data()
{
    QTest::addColumn<bool>("binary");
    QTest::newRow("binary") << true;
    QTest::newRow("text") << false;
}

void tst_WsSocketMessages::sendFragments()
{
    QFETCH(bool, binary);

    RawServer raw;
    WsSocket client;
    QVERIFY(openOnRaw(raw, client));
    WsSendOptions more;
    more.binary = binary;
    more.fin = false;
    WsSendOptions last;
    last.binary = binary;
    QCOMPARE(client.send("ab", more), WsError());
    QCOMPARE(client.send("cd", more), WsError());
    QCOMPARE(client.send("ef", last), WsError());
    QCOMPARE(client.send("gh", last), WsError());

    QTRY_COMPARE(raw.last().frames().size(), 4);
    const QList<Frame> frames = raw.last().frames();
    const quint8 opcode = binary ? 2 : 1;
    const QList<quint8> expectedB0 = {opcode, 0x00, 0x80, quint8(0x80 | opcode)};
    const QByteArrayList expectedPayloads = {"ab", "cd", "ef", "gh"};
    for (int i = 0; i < frames.size(); ++i) {
        QCOMPARE(frames[i].b0, expectedB0[i]);
        QVERIFY(frames[i].masked);
        QCOMPARE(frames[i].payload, expectedPayloads[i]);
    }
}

void tst_WsSocketMessages::sendFragmentsArriveAsOneMessage()
{
    ServerPeer peer(ServerPeer::Echo);
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    WsSendOptions more;
    more.fin = false;
    QList<WsError> callbacks;
    const auto record = [&](const WsError &error) { callbacks.append(error); };
    QCOMPARE(client.send("ab", more, record), WsError());
    QCOMPARE(client.send(pattern(70000), more, record), WsError());
    QCOMPARE(client.send("ef", {}, record), WsError());
    QCOMPARE(client.sendText(QStringLiteral("next")), WsError());

    QTRY_COMPARE(log.messages.size(), 2);
    QCOMPARE(serverLog.messages.size(), 2);
    QVERIFY(serverLog.messages.first() == "ab" + pattern(70000) + "ef");
    QCOMPARE(serverLog.binaryFlags, (QList<bool>{true, false}));
    QCOMPARE(serverLog.messages.last(), QByteArray("next"));
    QVERIFY(log.messages.first() == serverLog.messages.first());
    QTRY_COMPARE(callbacks.size(), 3);
}

void tst_WsSocketMessages::frameMasking_data()
{
    QTest::addColumn<Call>("which");
    QTest::addColumn<int>("mask");          // -1: the default
    QTest::addColumn<bool>("generateMask");
    QTest::addColumn<bool>("expectedMasked");

    QTest::newRow("send, default") << Call::Send << -1 << false << true;
    QTest::newRow("send, mask") << Call::Send << 1 << false << true;
    QTest::newRow("send, no mask") << Call::Send << 0 << false << false;
    QTest::newRow("ping, default") << Call::Ping << -1 << false << true;
    QTest::newRow("ping, no mask") << Call::Ping << 0 << false << false;
    QTest::newRow("pong, default") << Call::Pong << -1 << false << true;
    QTest::newRow("pong, no mask") << Call::Pong << 0 << false << false;
    QTest::newRow("send, generateMask") << Call::Send << -1 << true << true;
    QTest::newRow("ping, generateMask") << Call::Ping << -1 << true << true;
}

void tst_WsSocketMessages::frameMasking()
{
    QFETCH(Call, which);
    QFETCH(int, mask);
    QFETCH(bool, generateMask);
    QFETCH(bool, expectedMasked);

    const QByteArray key = hex("a1 b2 c3 d4");
    WsClientOptions options = withoutDeflate();
    if (generateMask)
        options.generateMask = [key](uchar *out) { std::memcpy(out, key.constData(), 4); };
    RawServer raw;
    WsSocket client;
    QVERIFY(openOnRaw(raw, client, {}, options));

    const QByteArray data = "payload";
    if (mask < 0) {
        QCOMPARE(call(client, which, data), WsError());
    } else if (which == Call::Send) {
        WsSendOptions sendOptions;
        sendOptions.mask = mask == 1;
        QCOMPARE(client.send(data, sendOptions), WsError());
    } else {
        const WsSocket::Masking masking = mask == 1 ? WsSocket::Masked : WsSocket::Unmasked;
        QCOMPARE(which == Call::Ping ? client.ping(data, masking) : client.pong(data, masking), WsError());
    }
    QTRY_COMPARE(raw.last().frames().size(), 1);
    const Frame f = raw.last().frames().first();
    const quint8 opcode = which == Call::Send ? 2 : which == Call::Ping ? 9 : 10;
    QCOMPARE(f.b0, quint8(0x80 | opcode));
    QCOMPARE(f.masked, expectedMasked);
    QCOMPARE(f.payload, data);
    if (generateMask)
        QCOMPARE(f.key, key);
}

void tst_WsSocketMessages::unmaskedFrameRefusedByServer()
{
    ServerPeer peer;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    EventLog serverLog(peer.socket());

    WsSendOptions options;
    options.mask = false;
    QCOMPARE(client.send("bare", options), WsError());
    QTRY_COMPARE(log.closes.size(), 1);
    QTRY_COMPARE(serverLog.closes.size(), 1);
    QCOMPARE(serverLog.errors, (QList<WsError>{WsError(WsError::ExpectedMask,
                                                       QStringLiteral("Invalid WebSocket frame: MASK must be set"),
                                                       1002)}));
    QCOMPARE(serverLog.closes.first(), closeArgs(1006));
    QCOMPARE(log.closes.first(), closeArgs(1002));
    QCOMPARE(log.errors.size(), 0);
}

void tst_WsSocketMessages::receiveFragments_data()
{
    QTest::addColumn<int>("binaryType");
    QTest::addColumn<QByteArray>("frames");
    QTest::addColumn<QByteArrayList>("expected");   // binary fragments, or the one message
    QTest::addColumn<bool>("binary");

    const QByteArray three = wireFrame(0x02, "ab") + wireFrame(0x00, "cd") + wireFrame(0x80, "ef");
    QTest::newRow("fragments: three frames") << int(WsSocket::Fragments) << three
                                             << QByteArrayList{"ab", "cd", "ef"} << true;
    // As ws: binaryType applies to binary messages; text always arrives whole.
    QTest::newRow("fragments: text") << int(WsSocket::Fragments) << wireFrame(0x01, "ab") + wireFrame(0x80, "cd")
                                     << QByteArrayList{"abcd"} << false;
    QTest::newRow("fragments: one frame") << int(WsSocket::Fragments) << wireFrame(0x82, "abc")
                                          << QByteArrayList{"abc"} << true;
    QTest::newRow("fragments: empty message") << int(WsSocket::Fragments) << wireFrame(0x82, {}) << QByteArrayList()
                                              << true;
    QTest::newRow("fragments: empty frame skipped")
            << int(WsSocket::Fragments) << wireFrame(0x02, "ab") + wireFrame(0x00, {}) + wireFrame(0x80, "cd")
            << QByteArrayList{"ab", "cd"} << true;
    QTest::newRow("fragments: ping in between")
            << int(WsSocket::Fragments) << wireFrame(0x02, "ab") + wireFrame(0x89, "p") + wireFrame(0x80, "cd")
            << QByteArrayList{"ab", "cd"} << true;
    QTest::newRow("nodebuffer: three frames") << int(WsSocket::NodeBuffer) << three << QByteArrayList{"abcdef"}
                                              << true;
    QTest::newRow("nodebuffer: empty message") << int(WsSocket::NodeBuffer) << wireFrame(0x82, {}) << QByteArrayList{""}
                                               << true;
}

void tst_WsSocketMessages::receiveFragments()
{
    QFETCH(int, binaryType);
    QFETCH(QByteArray, frames);
    QFETCH(QByteArrayList, expected);
    QFETCH(bool, binary);

    RawServer raw;
    WsSocket client;
    client.setBinaryType(WsSocket::BinaryType(binaryType));
    EventLog log(&client);
    QVERIFY(openOnRaw(raw, client));
    raw.last().write(frames);
    QTRY_COMPARE(log.binaryFlags.size(), 1);
    QCOMPARE(log.binaryFlags.first(), binary);
    if (binaryType == WsSocket::Fragments && binary) {
        QCOMPARE(log.messages.size(), 0);
        QCOMPARE(log.fragments, QList<QByteArrayList>{expected});
    } else {
        QCOMPARE(log.fragments.size(), 0);
        QCOMPARE(log.messages, expected);
    }
}

void tst_WsSocketMessages::switchBinaryType()
{
    RawServer raw;
    WsSocket client;
    QSignalSpy changes(&client, &WsSocket::binaryTypeChanged);
    QCOMPARE(client.binaryType(), WsSocket::NodeBuffer);
    client.setBinaryType(WsSocket::Fragments);
    client.setBinaryType(WsSocket::Fragments);
    QCOMPARE(changes.size(), 1);
    EventLog log(&client);
    QVERIFY(openOnRaw(raw, client));

    const QByteArray message = wireFrame(0x02, "ab") + wireFrame(0x80, "cd");
    raw.last().write(message);
    QTRY_COMPARE(log.fragments.size(), 1);
    QCOMPARE(log.fragments.first(), (QByteArrayList{"ab", "cd"}));

    client.setBinaryType(WsSocket::NodeBuffer);
    raw.last().write(message);
    QTRY_COMPARE(log.messages, QByteArrayList{"abcd"});

    client.setBinaryType(WsSocket::Fragments);
    raw.last().write(message);
    QTRY_COMPARE(log.fragments.size(), 2);
    QCOMPARE(log.fragments.last(), (QByteArrayList{"ab", "cd"}));
    QCOMPARE(log.messages.size(), 1);

    QCOMPARE(changes.size(), 3);
    QCOMPARE(changes.at(1).first().value<WsSocket::BinaryType>(), WsSocket::NodeBuffer);
    QCOMPARE(changes.at(2).first().value<WsSocket::BinaryType>(), WsSocket::Fragments);
}

QTEST_MAIN(tst_WsSocketMessages)

#include "tst_wssocket_messages.moc"
