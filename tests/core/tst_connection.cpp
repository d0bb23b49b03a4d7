// The Sans-I/O connection: the closing handshake as ws runs it, answers to
// protocol errors, automatic pongs, and what may be sent in which state,
// checked on the exact bytes the connection queues.

#include "testsupport.h"

#include <wsqt/core/connection.h>

#include <QtCore/qendian.h>
#include <QtTest/qtest.h>

#include <cstring>

using namespace wsqt::core;
using wsqt::test::hex;

namespace {

// Every frame a connection masks uses this key, so its bytes can be written out.
const QByteArray kKey = QByteArrayLiteral("\x37\xfa\x21\x3d");

QByteArray xorWith(const QByteArray &payload, const QByteArray &key)
{
    QByteArray out = payload;
    for (qsizetype i = 0; i < out.size(); ++i)
        out[i] = char(out[i] ^ key[i % 4]);
    return out;
}

// A frame of at most 125 bytes as a peer in the other role sends it: masked
// (with a key other than the connection's) when the receiver is a server.
QByteArray fromPeer(Role receiver, quint8 b0, const QByteArray &payload)
{
    Q_ASSERT(payload.size() <= 125);
    const QByteArray peerKey = hex("a0 b1 c2 d3");
    QByteArray out(1, char(b0));
    if (receiver == Role::Client)
        return out + char(payload.size()) + payload;
    return out + char(0x80 | payload.size()) + peerKey + xorWith(payload, peerKey);
}

// A frame as the connection itself sends it: masked with kKey in the client role.
QByteArray fromUs(Role role, quint8 b0, const QByteArray &payload)
{
    Q_ASSERT(payload.size() <= 125);
    QByteArray out(1, char(b0));
    if (role == Role::Server)
        return out + char(payload.size()) + payload;
    return out + char(0x80 | payload.size()) + kKey + xorWith(payload, kKey);
}

ConnectionOptions options(Role role, bool autoPong = true)
{
    ConnectionOptions result;
    result.receiver.role = role;
    result.autoPong = autoPong;
    result.generateMask = [](uchar *key) { std::memcpy(key, kKey.constData(), 4); };
    return result;
}

QByteArray takeAll(Connection &connection)
{
    QByteArray out;
    while (connection.hasOutgoing())
        out += connection.takeOutgoing();
    return out;
}

// Feeds bytes and returns every event, checking after each one what the
// connection queued by then.
QList<ReceiverEvent> receive(Connection &connection, const QByteArray &bytes,
                             QByteArrayList *queuedAtEvent = nullptr)
{
    connection.receiveData(bytes.constData(), bytes.size());
    QList<ReceiverEvent> events;
    ReceiverEvent event;
    while (connection.nextEvent(&event)) {
        events << event;
        if (queuedAtEvent)
            *queuedAtEvent << takeAll(connection);
        event = ReceiverEvent();
    }
    return events;
}

QString roleName(Role role)
{
    return role == Role::Client ? QStringLiteral("client") : QStringLiteral("server");
}

const QString kClosing = QStringLiteral("WebSocket is not open: readyState 2 (CLOSING)");
const QString kClosed = QStringLiteral("WebSocket is not open: readyState 3 (CLOSED)");

} // namespace

Q_DECLARE_METATYPE(wsqt::core::Role)

class tst_Connection : public QObject
{
    Q_OBJECT

private slots:
    void peerCloseIsEchoed_data();
    void peerCloseIsEchoed();
    void weCloseFirst_data();
    void weCloseFirst();
    void closeAfterPeerClose();
    void closeValidation_data();
    void closeValidation();
    void secondCloseSendsNothing();
    void protocolError_data();
    void protocolError();
    void protocolErrorWhileClosing();
    void autoPong_data();
    void autoPong();
    void sendWhenNotOpen_data();
    void sendWhenNotOpen();
    void controlPayloadLimit_data();
    void controlPayloadLimit();
    void sendMasksAsAsked();
    void messagesAfterOurClose();
    void notOpenMessage();
    void inputBufferPath();
    void keepFragmentsReachesTheReceiver();
    void repliesWaitBehindReservedMessage_data();
    void repliesWaitBehindReservedMessage();
};

void tst_Connection::peerCloseIsEchoed_data()
{
    QTest::addColumn<Role>("role");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");

    for (Role role : {Role::Server, Role::Client}) {
        const QString r = roleName(role);
        QTest::newRow(qPrintable(r + QStringLiteral(", 1000 bye")))
                << role << hex("03 e8 62 79 65") << 1000 << QByteArray("bye");
        QTest::newRow(qPrintable(r + QStringLiteral(", empty"))) << role << QByteArray() << 1005
                                                                 << QByteArray();
        QTest::newRow(qPrintable(r + QStringLiteral(", 4999"))) << role << hex("13 87") << 4999
                                                                << QByteArray();
        QTest::newRow(qPrintable(r + QStringLiteral(", 1001 with a reason of 123 bytes")))
                << role << hex("03 e9") + QByteArray(123, 'r') << 1001 << QByteArray(123, 'r');
    }
}

void tst_Connection::peerCloseIsEchoed()
{
    // As ws: the same code and reason bytes go back, an empty close gets an
    // empty close, and both frames done means the transport may end.
    QFETCH(Role, role);
    QFETCH(QByteArray, payload);
    QFETCH(int, code);
    QFETCH(QByteArray, reason);

    Connection connection(options(role));
    QCOMPARE(connection.closeCode(), 1006);
    QByteArrayList queued;
    const QList<ReceiverEvent> events = receive(connection, fromPeer(role, 0x88, payload), &queued);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, ReceiverEvent::Close);
    QCOMPARE(events[0].closeCode, code);
    QCOMPARE(events[0].data, reason);
    // The echo is queued before the event is returned.
    QCOMPARE(queued[0].toHex(' '), fromUs(role, 0x88, payload).toHex(' '));
    QVERIFY(!connection.hasOutgoing());

    QCOMPARE(connection.state(), Connection::State::Closing);
    QCOMPARE(connection.closeCode(), code);
    QCOMPARE(connection.closeReason(), reason);
    QVERIFY(connection.closeFrameReceived());
    QVERIFY(connection.closeFrameSent());
    QVERIFY(connection.shouldEndTransport());
    QVERIFY(connection.isReceiverStopped());
}

void tst_Connection::weCloseFirst_data()
{
    QTest::addColumn<Role>("role");
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QByteArray>("sentPayload");
    QTest::addColumn<QByteArray>("peerPayload");
    QTest::addColumn<int>("closeCode");

    for (Role role : {Role::Server, Role::Client}) {
        const QString r = roleName(role);
        QTest::newRow(qPrintable(r + QStringLiteral(", 1000 bye, answered the same")))
                << role << 1000 << QByteArray("bye") << hex("03 e8 62 79 65")
                << hex("03 e8 62 79 65") << 1000;
        QTest::newRow(qPrintable(r + QStringLiteral(", no code, answered empty")))
                << role << 0 << QByteArray() << QByteArray() << QByteArray() << 1005;
        QTest::newRow(qPrintable(r + QStringLiteral(", no code with a reason, answered 1001")))
                << role << 0 << QByteArray("ignored") << QByteArray() << hex("03 e9") << 1001;
        QTest::newRow(qPrintable(r + QStringLiteral(", 4000, answered 1000 ok")))
                << role << 4000 << QByteArray() << hex("0f a0") << hex("03 e8 6f 6b") << 1000;
    }
}

void tst_Connection::weCloseFirst()
{
    // Our close frame goes out at once; the peer's answer completes the
    // handshake without a second frame from us.
    QFETCH(Role, role);
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(QByteArray, sentPayload);
    QFETCH(QByteArray, peerPayload);
    QFETCH(int, closeCode);

    Connection connection(options(role));
    QVERIFY(!connection.close(code, reason));
    QCOMPARE(takeAll(connection).toHex(' '), fromUs(role, 0x88, sentPayload).toHex(' '));
    QCOMPARE(connection.state(), Connection::State::Closing);
    QVERIFY(connection.closeFrameSent());
    QVERIFY(!connection.closeFrameReceived());
    QVERIFY(!connection.shouldEndTransport());
    QCOMPARE(connection.closeCode(), 1006);

    const QList<ReceiverEvent> events = receive(connection, fromPeer(role, 0x88, peerPayload));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, ReceiverEvent::Close);
    QVERIFY(!connection.hasOutgoing());
    QCOMPARE(connection.outgoingBytes(), qint64(0));
    QVERIFY(connection.shouldEndTransport());
    QCOMPARE(connection.closeCode(), closeCode);
    QCOMPARE(connection.closeReason(), peerPayload.mid(2));
}

void tst_Connection::closeAfterPeerClose()
{
    // close() after the peer's close was echoed queues nothing more.
    Connection connection(options(Role::Server));
    receive(connection, fromPeer(Role::Server, 0x88, hex("03 e8")));
    QCOMPARE(takeAll(connection).toHex(' '), hex("88 02 03 e8").toHex(' '));
    QVERIFY(!connection.close(1001, "again"));
    QVERIFY(!connection.hasOutgoing());
    QVERIFY(connection.shouldEndTransport());
    QCOMPARE(connection.closeCode(), 1000);
}

void tst_Connection::closeValidation_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QString>("message");

    const QString badCode = QStringLiteral("First argument must be a valid error code number");
    const QString tooLong = QStringLiteral("The message must not be greater than 123 bytes");
    QTest::newRow("1004") << 1004 << QByteArray() << badCode;
    QTest::newRow("1005") << 1005 << QByteArray() << badCode;
    QTest::newRow("1006") << 1006 << QByteArray() << badCode;
    QTest::newRow("999") << 999 << QByteArray() << badCode;
    QTest::newRow("5000") << 5000 << QByteArray("x") << badCode;
    QTest::newRow("reason of 124 bytes") << 1000 << QByteArray(124, 'r') << tooLong;
    QTest::newRow("reason of 62 x U+00E9") << 1000 << QByteArrayLiteral("\xc3\xa9").repeated(62)
                                          << tooLong;
}

void tst_Connection::closeValidation()
{
    // A refused close() changes nothing (ws 8.22+): still open, nothing
    // queued, and a valid close() afterwards works.
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(QString, message);

    for (Role role : {Role::Server, Role::Client}) {
        Connection connection(options(role));
        const WsError error = connection.close(code, reason);
        QCOMPARE(error.code(), WsError::InvalidArgument);
        QCOMPARE(error.message(), message);
        QCOMPARE(connection.state(), Connection::State::Open);
        QVERIFY(!connection.hasOutgoing());
        QCOMPARE(connection.outgoingBytes(), qint64(0));
        QVERIFY(!connection.closeFrameSent());

        QVERIFY(!connection.send("still open", DataSendOptions{false, true, false, false}));
        QVERIFY(!connection.close(1000));
        QCOMPARE(takeAll(connection).toHex(' '),
                 (QByteArray("\x81\x0astill open") + fromUs(role, 0x88, hex("03 e8"))).toHex(' '));
    }
}

void tst_Connection::secondCloseSendsNothing()
{
    Connection connection(options(Role::Client));
    QVERIFY(!connection.close(1000));
    const qint64 queued = connection.outgoingBytes();
    QCOMPARE(queued, qint64(8));
    // In Closing nothing is validated and nothing sent.
    QVERIFY(!connection.close(1001, "x"));
    QVERIFY(!connection.close(1005));
    QCOMPARE(connection.outgoingBytes(), queued);
    QCOMPARE(connection.state(), Connection::State::Closing);
    QVERIFY(!connection.shouldEndTransport());
}

void tst_Connection::protocolError_data()
{
    QTest::addColumn<Role>("role");
    QTest::addColumn<quint64>("maxPayload");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("errorCode");
    QTest::addColumn<QByteArray>("closePayload");

    const QByteArray code1002 = hex("03 ea");
    QTest::newRow("server, unmasked frame") << Role::Server << quint64(0) << hex("81 00")
                                            << int(WsError::ExpectedMask) << code1002;
    QTest::newRow("server, opcode 3") << Role::Server << quint64(0) << fromPeer(Role::Server, 0x83, {})
                                      << int(WsError::InvalidOpcode) << code1002;
    QTest::newRow("server, invalid UTF-8") << Role::Server << quint64(0)
                                           << fromPeer(Role::Server, 0x81, hex("c0 af"))
                                           << int(WsError::InvalidUtf8) << hex("03 ef");
    QTest::newRow("server, over maxPayload") << Role::Server << quint64(10)
                                             << fromPeer(Role::Server, 0x82, QByteArray(11, 'x'))
                                             << int(WsError::UnsupportedMessageLength) << hex("03 f1");
    QTest::newRow("server, close code 1005") << Role::Server << quint64(0)
                                             << fromPeer(Role::Server, 0x88, hex("03 ed"))
                                             << int(WsError::InvalidCloseCode) << code1002;
    QTest::newRow("server, 64-bit length 2^53") << Role::Server << quint64(0)
                                                << hex("82 ff 00 20 00 00 00 00 00 00 01 02 03 04")
                                                << int(WsError::UnsupportedDataPayloadLength)
                                                << hex("03 f1");
    QTest::newRow("client, opcode 5") << Role::Client << quint64(0) << hex("85 00")
                                      << int(WsError::InvalidOpcode) << code1002;
    QTest::newRow("client, masked frame") << Role::Client << quint64(0)
                                          << hex("81 85 37 fa 21 3d 7f 9f 4d 51 58")
                                          << int(WsError::UnexpectedMask) << code1002;
    QTest::newRow("client, too many fragments") << Role::Client << quint64(0)
                                                << hex("01 01 61") + hex("00 01 61").repeated(131071)
                                                           + hex("80 01 61")
                                                << int(WsError::TooManyBufferedParts) << hex("03 f0");
}

void tst_Connection::protocolError()
{
    // As ws: the error's close code goes to the peer, with no reason, masked
    // by a client; the transport may then end; our own close code stays 1006.
    QFETCH(Role, role);
    QFETCH(quint64, maxPayload);
    QFETCH(QByteArray, input);
    QFETCH(int, errorCode);
    QFETCH(QByteArray, closePayload);

    ConnectionOptions o = options(role);
    if (maxPayload)
        o.receiver.maxPayload = maxPayload;
    Connection connection(o);
    QByteArrayList queued;
    const QList<ReceiverEvent> events = receive(connection, input, &queued);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, ReceiverEvent::Error);
    QCOMPARE(int(events[0].error.code()), errorCode);
    QCOMPARE(events[0].error.closeCode(), qFromBigEndian<quint16>(closePayload.constData()));
    QCOMPARE(queued[0].toHex(' '), fromUs(role, 0x88, closePayload).toHex(' '));

    QCOMPARE(connection.state(), Connection::State::Closing);
    QVERIFY(connection.closeFrameSent());
    QVERIFY(!connection.closeFrameReceived());
    QVERIFY(connection.shouldEndTransport());
    QCOMPARE(connection.closeCode(), 1006);
    QVERIFY(connection.closeReason().isEmpty());
    QVERIFY(connection.isReceiverStopped());

    // Nothing more is parsed, and sending is over.
    QVERIFY(receive(connection, fromPeer(role, 0x89, "late")).isEmpty());
    QVERIFY(!connection.hasOutgoing());
    QCOMPARE(connection.send("x", {}).message(), kClosing);
}

void tst_Connection::protocolErrorWhileClosing()
{
    // We closed first; a protocol error then sends no second close frame,
    // and the transport may end.
    Connection connection(options(Role::Server));
    QVERIFY(!connection.close(1000));
    takeAll(connection);
    const QList<ReceiverEvent> events = receive(connection, hex("81 00"));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].error.code(), WsError::ExpectedMask);
    QVERIFY(!connection.hasOutgoing());
    QVERIFY(connection.shouldEndTransport());
    QCOMPARE(connection.closeCode(), 1006);
}

void tst_Connection::autoPong_data()
{
    QTest::addColumn<Role>("role");
    QTest::addColumn<bool>("autoPong");
    QTest::addColumn<QByteArray>("payload");

    for (Role role : {Role::Server, Role::Client}) {
        for (bool autoPong : {true, false}) {
            const QString r = roleName(role) + (autoPong ? QString() : QStringLiteral(", no autoPong"));
            QTest::newRow(qPrintable(r + QStringLiteral(", hi"))) << role << autoPong << QByteArray("hi");
            QTest::newRow(qPrintable(r + QStringLiteral(", empty"))) << role << autoPong << QByteArray();
            QTest::newRow(qPrintable(r + QStringLiteral(", 125 bytes"))) << role << autoPong
                                                                         << QByteArray(125, 'p');
        }
    }
}

void tst_Connection::autoPong()
{
    // A ping is answered with a pong of the same payload, queued before the
    // ping event is returned; not with autoPong off, and not once we closed.
    QFETCH(Role, role);
    QFETCH(bool, autoPong);
    QFETCH(QByteArray, payload);

    Connection connection(options(role, autoPong));
    QByteArrayList queued;
    const QList<ReceiverEvent> events = receive(connection, fromPeer(role, 0x89, payload), &queued);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, ReceiverEvent::Ping);
    QCOMPARE(events[0].data, payload);
    QCOMPARE(queued[0].toHex(' '),
             autoPong ? fromUs(role, 0x8a, payload).toHex(' ') : QByteArray());

    QVERIFY(!connection.close(1000));
    takeAll(connection);
    queued.clear();
    QCOMPARE(receive(connection, fromPeer(role, 0x89, payload), &queued).size(), 1);
    QCOMPARE(queued[0], QByteArray());
}

void tst_Connection::sendWhenNotOpen_data()
{
    QTest::addColumn<bool>("transportGone");
    QTest::addColumn<QString>("message");

    QTest::newRow("closing") << false << kClosing;
    QTest::newRow("closed") << true << kClosed;
}

void tst_Connection::sendWhenNotOpen()
{
    // After close(): each send fails with ws's message and queues nothing,
    // whatever its size (the 125-byte check is for open connections only).
    QFETCH(bool, transportGone);
    QFETCH(QString, message);

    Connection connection(options(Role::Client));
    QVERIFY(!connection.close());
    takeAll(connection);
    if (transportGone) {
        connection.transportClosed();
        QCOMPARE(connection.state(), Connection::State::Closed);
    }
    const QList<WsError> errors = {
        connection.send("data", DataSendOptions()),
        connection.send({}, DataSendOptions{false, false, false, true}),
        connection.ping("p", true),
        connection.pong({}, false),
        connection.ping(QByteArray(126, 'p'), true),
    };
    for (const WsError &error : errors) {
        QCOMPARE(error.code(), WsError::InvalidState);
        QCOMPARE(error.message(), message);
    }
    QVERIFY(!connection.hasOutgoing());
    QCOMPARE(connection.outgoingBytes(), qint64(0));
    // close() has nothing left to do.
    QVERIFY(!connection.close(1000));
    QVERIFY(!connection.hasOutgoing());
}

void tst_Connection::controlPayloadLimit_data()
{
    QTest::addColumn<bool>("isPing");
    QTest::addColumn<int>("size");
    QTest::addColumn<bool>("accepted");

    for (bool isPing : {true, false}) {
        const QString name = isPing ? QStringLiteral("ping ") : QStringLiteral("pong ");
        QTest::newRow(qPrintable(name + QStringLiteral("125"))) << isPing << 125 << true;
        QTest::newRow(qPrintable(name + QStringLiteral("126"))) << isPing << 126 << false;
        QTest::newRow(qPrintable(name + QStringLiteral("1000"))) << isPing << 1000 << false;
    }
}

void tst_Connection::controlPayloadLimit()
{
    QFETCH(bool, isPing);
    QFETCH(int, size);
    QFETCH(bool, accepted);

    Connection connection(options(Role::Server));
    const QByteArray payload(size, 'p');
    const WsError error = isPing ? connection.ping(payload, false) : connection.pong(payload, false);
    if (accepted) {
        QVERIFY(!error.isError());
        QCOMPARE(takeAll(connection).toHex(' '),
                 fromUs(Role::Server, isPing ? 0x89 : 0x8a, payload).toHex(' '));
    } else {
        QCOMPARE(error.code(), WsError::InvalidArgument);
        QCOMPARE(error.message(), QStringLiteral("The data size must not be greater than 125 bytes"));
        QVERIFY(!connection.hasOutgoing());
    }
    QCOMPARE(connection.state(), Connection::State::Open);
}

void tst_Connection::sendMasksAsAsked()
{
    // send(), ping() and pong() mask as the caller says; the frames the
    // connection writes by itself follow the role (checked above).
    Connection connection(options(Role::Client));
    QVERIFY(!connection.send("Hello", DataSendOptions{false, true, false, true}));
    QVERIFY(!connection.send("Hello", DataSendOptions{true, true, false, false}));
    QVERIFY(!connection.ping("Hello", true));
    QVERIFY(!connection.pong("", false));
    QVERIFY(!connection.send("Hel", DataSendOptions{false, false, false, true}));
    QVERIFY(!connection.send("lo", DataSendOptions{false, true, false, true}));
    QCOMPARE(takeAll(connection).toHex(' '),
             hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"
                 "82 05 48 65 6c 6c 6f"
                 "89 85 37 fa 21 3d 7f 9f 4d 51 58"
                 "8a 00"
                 "01 83 37 fa 21 3d 7f 9f 4d"
                 "80 82 37 fa 21 3d 5b 95")
                     .toHex(' '));
}

void tst_Connection::messagesAfterOurClose()
{
    // As ws: after our close frame, the peer's messages are still delivered
    // until its close frame arrives; none of them is answered.
    Connection connection(options(Role::Server));
    QVERIFY(!connection.close(1000));
    takeAll(connection);
    const QList<ReceiverEvent> events = receive(connection,
            fromPeer(Role::Server, 0x81, "late") + fromPeer(Role::Server, 0x89, "p")
                    + fromPeer(Role::Server, 0x82, "bin") + fromPeer(Role::Server, 0x88, hex("03 e8")));
    QCOMPARE(events.size(), 4);
    QCOMPARE(events[0].type, ReceiverEvent::Message);
    QCOMPARE(events[0].data, QByteArray("late"));
    QCOMPARE(events[1].type, ReceiverEvent::Ping);
    QCOMPARE(events[2].type, ReceiverEvent::Message);
    QVERIFY(events[2].binary);
    QCOMPARE(events[3].type, ReceiverEvent::Close);
    QVERIFY(!connection.hasOutgoing());
    QVERIFY(connection.shouldEndTransport());
}

void tst_Connection::notOpenMessage()
{
    QCOMPARE(Connection::notOpenMessage(0), QStringLiteral("WebSocket is not open: readyState 0 (CONNECTING)"));
    QCOMPARE(Connection::notOpenMessage(1), QStringLiteral("WebSocket is not open: readyState 1 (OPEN)"));
    QCOMPARE(Connection::notOpenMessage(2), kClosing);
    QCOMPARE(Connection::notOpenMessage(3), kClosed);
}

void tst_Connection::inputBufferPath()
{
    // The in-place input of the connection reaches its receiver.
    Connection connection(options(Role::Server));
    const QByteArray bytes = fromPeer(Role::Server, 0x81, "Hello") + fromPeer(Role::Server, 0x88, {});
    QVERIFY(!connection.isReceiverStopped());
    const Receiver::InputBuffer buffer = connection.inputBuffer(bytes.size());
    QVERIFY(buffer.size >= bytes.size());
    std::memcpy(buffer.data, bytes.constData(), size_t(bytes.size()));
    connection.commitInput(bytes.size());
    QCOMPARE(connection.bufferedInput(), bytes.size());
    ReceiverEvent event;
    QVERIFY(connection.nextEvent(&event));
    QCOMPARE(event.data, QByteArray("Hello"));
    QVERIFY(connection.nextEvent(&event));
    QCOMPARE(event.type, ReceiverEvent::Close);
    QCOMPARE(takeAll(connection).toHex(' '), hex("88 00").toHex(' '));
    QVERIFY(connection.isReceiverStopped());
}

void tst_Connection::keepFragmentsReachesTheReceiver()
{
    Connection connection(options(Role::Client));
    connection.setKeepFragments(true);
    const QList<ReceiverEvent> events = receive(connection, hex("02 03 48 65 6c 80 02 6c 6f"));
    QCOMPARE(events.size(), 1);
    QVERIFY(events[0].asFragments);
    QCOMPARE(events[0].fragments, QByteArrayList({"Hel", "lo"}));
    QVERIFY(events[0].data.isEmpty());
}

void tst_Connection::repliesWaitBehindReservedMessage_data()
{
    QTest::addColumn<Role>("role");
    QTest::newRow("server") << Role::Server;
    QTest::newRow("client") << Role::Client;
}

void tst_Connection::repliesWaitBehindReservedMessage()
{
    // A message accepted while open is compressed elsewhere; meanwhile a
    // ping and a close frame arrive. The pong and the close reply go out
    // after the message, and the transport ends only then.
    QFETCH(Role, role);
    Connection connection(options(role));
    connection.reserveCompressed();
    receive(connection, fromPeer(role, 0x89, "p") + fromPeer(role, 0x88, hex("03 e8")));
    QVERIFY(!connection.hasOutgoing());
    QCOMPARE(connection.outgoingBytes(), qint64(fromUs(role, 0x8a, "p").size() + fromUs(role, 0x88, hex("03 e8")).size()));
    QVERIFY(!connection.shouldEndTransport());

    DataSendOptions send;
    send.mask = role == Role::Client;
    connection.sendCompressed("compressed", send);
    // A send accepted while open, queued behind it: taken though closing began.
    send.compress = false;
    QVERIFY(!connection.send("queued", send).isError());
    QVERIFY(!connection.shouldEndTransport());
    connection.releaseReserved();
    QCOMPARE(takeAll(connection), fromUs(role, 0xc2, "compressed") + fromUs(role, 0x82, "queued")
                                          + fromUs(role, 0x8a, "p") + fromUs(role, 0x88, hex("03 e8")));
    QVERIFY(connection.shouldEndTransport());
    QCOMPARE(connection.send("late", send).code(), WsError::InvalidState);
}

QTEST_APPLESS_MAIN(tst_Connection)

#include "tst_connection.moc"
