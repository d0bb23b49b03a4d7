// WsStream, the QIODevice over a WsSocket (ws's createWebSocketStream), over
// real loopback connections: message boundaries disappear on reading, each
// write is a message, QTextStream and QDataStream (with transactions) work
// across any split, the read buffer limit pauses the socket, and the
// device ends when either side closes or the connection fails.

#include "serverpeers.h"

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>
#include <wsqt/wsstream.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qdatastream.h>
#include <QtCore/qpointer.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qtextstream.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <functional>
#include <memory>

using namespace serverpeers;

namespace {

constexpr int kLongTimeoutMs = 30000;
// How long the event loop runs to show that something does NOT happen.
constexpr int kQuietMs = 100;
constexpr qint64 kKiB = 1024;

// Binary data in which a lost, repeated or moved block shows.
QByteArray pattern(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char(i ^ (i >> 8) ^ (i >> 16));
    return data;
}

// A server and a client open to it; `onConnection` sees the server-side
// socket as soon as it exists, before any message can arrive.
struct Peers
{
    std::unique_ptr<WsServer> server;
    std::unique_ptr<WsSocket> client;
    QPointer<WsSocket> accepted;

    bool connect(const std::function<void(WsSocket *)> &onConnection = {},
                 const WsServerOptions &options = {})
    {
        server = std::make_unique<WsServer>(localOptions(options));
        QObject::connect(server.get(), &WsServer::newConnection, server.get(),
                         [this, onConnection](WsSocket *socket) {
                             accepted = socket;
                             if (onConnection)
                                 onConnection(socket);
                         });
        if (!waitFor([this] { return server->isListening(); }))
            return false;
        client = openClient(server->address().port);
        return client && waitFor([this] { return !accepted.isNull(); });
    }

    quint16 port() const { return server->address().port; }
};

// A server that answers the opening handshake by hand, then, when told,
// sends bytes and ends the TCP connection in the same breath: the client
// gets the data and the end of the connection together.
class RawServer
{
public:
    RawServer()
    {
        QObject::connect(&m_tcp, &QTcpServer::newConnection, &m_tcp, [this] {
            QTcpSocket *socket = m_tcp.nextPendingConnection();
            QObject::connect(socket, &QIODevice::readyRead, socket, [this, socket] {
                const QByteArray head = socket->peek(socket->bytesAvailable());
                if (!head.contains("\r\n\r\n"))
                    return;
                socket->readAll();
                const qsizetype at = head.indexOf("Sec-WebSocket-Key:") + 18;
                const QByteArray key = head.mid(at, head.indexOf("\r\n", at) - at).trimmed();
                const QByteArray accept = QCryptographicHash::hash(
                        key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1).toBase64();
                socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n");
                m_socket = socket;
            });
        });
        m_tcp.listen(QHostAddress::LocalHost);
    }

    quint16 port() const { return m_tcp.serverPort(); }

    void sendAndHangUp(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->disconnectFromHost();
    }

private:
    QTcpServer m_tcp;
    QPointer<QTcpSocket> m_socket;
};

// The messages a socket receives, with their type.
struct MessageLog
{
    explicit MessageLog(WsSocket *socket)
    {
        QObject::connect(socket, &WsSocket::messageReceived, &context,
                         [this](const QByteArray &message, bool binary) {
                             messages.append(message);
                             binaries.append(binary);
                         });
    }

    QObject context;    // the connection ends with the log
    QByteArrayList messages;
    QList<bool> binaries;
};

qint64 sum(const QSignalSpy &bytesWritten)
{
    qint64 total = 0;
    for (const QList<QVariant> &arguments : bytesWritten)
        total += arguments.at(0).toLongLong();
    return total;
}

// A record with a variable-length part, for QDataStream.
struct Record
{
    QString name;
    qint64 id = 0;
    QByteArray blob;
    double value = 0;

    friend bool operator==(const Record &a, const Record &b)
    {
        return a.name == b.name && a.id == b.id && a.blob == b.blob && a.value == b.value;
    }
};

QDataStream &operator<<(QDataStream &out, const Record &record)
{
    return out << record.name << record.id << record.blob << record.value;
}

QDataStream &operator>>(QDataStream &in, Record &record)
{
    return in >> record.name >> record.id >> record.blob >> record.value;
}

QList<Record> sampleRecords()
{
    QList<Record> records;
    for (int i = 0; i < 12; ++i) {
        records.append({QStringLiteral("record %1 \u00e9\u6771").arg(i), qint64(i) * 1000003 - 5,
                        pattern(i * i * 37), i / 7.0});
    }
    return records;
}

// Reads every complete record, the way QDataStream's documentation says:
// a transaction per record, rolled back while the record is incomplete.
void readRecords(QDataStream &in, QList<Record> *records)
{
    for (;;) {
        in.startTransaction();
        Record record;
        in >> record;
        if (!in.commitTransaction())
            return;
        records->append(record);
    }
}

} // namespace

class tst_WsStream : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void opensWithTheSocket();
    void refusesAClosedSocket();
    void openIsRefused();
    void writesAreMessages_data();
    void writesAreMessages();
    void writesBeforeOpenAreSentInOrder();
    void readsMessagesInOrder_data();
    void readsMessagesInOrder();
    void emptyMessagesAddNothing();
    void partialReads_data();
    void partialReads();
    void readLineAcrossMessages();
    void textStreamAcrossSplits_data();
    void textStreamAcrossSplits();
    void textStreamWritesTextMessages();
    void dataStreamTransactions_data();
    void dataStreamTransactions();
    void recordLargerThanReadBufferLimit();
    void largeTransferWithBackpressure();
    void noLimitNeverPauses();
    void closeFromStream_data();
    void closeFromStream();
    void closeWhileConnectingSendsFirst();
    void destroyingTheStreamClosesTheSocket();
    void abortTerminates();
    void closeFromPeer_data();
    void closeFromPeer();
    void everythingBeforeTheEndIsDelivered();
    void invalidUtf8EndsTheStream();
    void connectionFailure();
    void socketDestroyed();
    void serverSideEcho();
};

void tst_WsStream::opensWithTheSocket()
{
    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());
    QVERIFY(stream.isOpen());
    QCOMPARE(stream.openMode(), QIODevice::ReadWrite);
    QVERIFY(stream.isSequential());
    QCOMPARE(stream.socket(), peers.client.get());
    QCOMPARE(stream.bytesAvailable(), 0);
    QCOMPARE(stream.bytesToWrite(), 0);
    // An open connection with nothing to read is not the end.
    QVERIFY(!stream.atEnd());
    QVERIFY(!stream.canReadLine());
    QCOMPARE(stream.options().readBufferLimit, 64 * kKiB);
    QVERIFY(stream.options().binary);
}

void tst_WsStream::refusesAClosedSocket()
{
    WsSocket socket;
    WsStream stream(&socket);
    QVERIFY(!stream.isOpen());
    QVERIFY(stream.atEnd());
    QCOMPARE(stream.errorString(), QStringLiteral("WebSocket is not open: readyState 3 (CLOSED)"));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("device not open")));
    QCOMPARE(stream.write("data"), -1);

    WsStream none(nullptr);
    QVERIFY(!none.isOpen());
    QCOMPARE(none.socket(), nullptr);
}

void tst_WsStream::openIsRefused()
{
    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());
    QVERIFY(!stream.open(QIODevice::ReadOnly));
    QCOMPARE(stream.openMode(), QIODevice::ReadWrite);
    QVERIFY(!stream.errorString().isEmpty());
}

void tst_WsStream::writesAreMessages_data()
{
    QTest::addColumn<QByteArrayList>("writes");
    QTest::addColumn<bool>("binary");
    QTest::addColumn<QByteArrayList>("messages");

    QTest::newRow("one binary") << QByteArrayList{"hello"} << true << QByteArrayList{"hello"};
    const QByteArray bytes("\x00\xff\x80", 3);
    QTest::newRow("several binary") << QByteArrayList{"a", bytes, "bcd"} << true
                                    << QByteArrayList{"a", bytes, "bcd"};
    QTest::newRow("text") << QByteArrayList{"one", "two \xc3\xa9"} << false
                          << QByteArrayList{"one", "two \xc3\xa9"};
    // A byte stream has no empty message: nothing is sent for it.
    QTest::newRow("empty write") << QByteArrayList{"x", "", "y"} << true << QByteArrayList{"x", "y"};
    QTest::newRow("one MiB") << QByteArrayList{pattern(1024 * kKiB)} << true
                             << QByteArrayList{pattern(1024 * kKiB)};
}

void tst_WsStream::writesAreMessages()
{
    QFETCH(QByteArrayList, writes);
    QFETCH(bool, binary);
    QFETCH(QByteArrayList, messages);

    Peers peers;
    QVERIFY(peers.connect());
    MessageLog log(peers.accepted);
    WsStreamOptions options;
    options.binary = binary;
    WsStream stream(peers.client.get(), options);
    QSignalSpy written(&stream, &QIODevice::bytesWritten);

    qint64 total = 0;
    for (const QByteArray &data : writes) {
        QCOMPARE(stream.write(data), data.size());
        total += data.size();
    }
    QCOMPARE(stream.bytesToWrite(), total);
    QVERIFY(waitFor([&] { return log.messages.size() == messages.size(); }, kLongTimeoutMs));
    QCOMPARE(log.messages, messages);
    QCOMPARE(log.binaries, QList<bool>(messages.size(), binary));
    QVERIFY(waitFor([&] { return sum(written) == total; }));
    QCOMPARE(stream.bytesToWrite(), 0);
}

void tst_WsStream::writesBeforeOpenAreSentInOrder()
{
    QByteArrayList received;
    Peers peers;
    QVERIFY(peers.connect());
    std::unique_ptr<WsStream> stream;
    WsSocket client;
    QObject::connect(peers.server.get(), &WsServer::newConnection, &client, [&received](WsSocket *socket) {
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [&received](const QByteArray &message) { received.append(message); });
    });

    QVERIFY(!client.open(localUrl(peers.port())).isError());
    // Connected before the stream exists, so called before the stream hears of the opening.
    QObject::connect(&client, &WsSocket::opened, &client, [&stream] { stream->write("third"); });
    stream = std::make_unique<WsStream>(&client);
    // Open while connecting, as a QTcpSocket is.
    QVERIFY(stream->isOpen());
    QSignalSpy written(stream.get(), &QIODevice::bytesWritten);
    QCOMPARE(stream->write("first"), 5);
    QCOMPARE(stream->write("second"), 6);
    QCOMPARE(stream->bytesToWrite(), 11);
    QVERIFY(written.isEmpty());

    QVERIFY(waitFor([&] { return received.size() == 3; }));
    QCOMPARE(received, (QByteArrayList{"first", "second", "third"}));
    QVERIFY(waitFor([&] { return sum(written) == 16; }));
    QCOMPARE(stream->bytesToWrite(), 0);
}

void tst_WsStream::readsMessagesInOrder_data()
{
    QTest::addColumn<QByteArrayList>("messages");
    QTest::addColumn<QList<bool>>("binaries");
    QTest::addColumn<int>("binaryType");

    const QByteArrayList mixed{"text \xe2\x82\xac", pattern(300), "", "end"};
    QTest::newRow("text and binary") << mixed << QList<bool>{false, true, true, false} << int(WsSocket::NodeBuffer);
    QTest::newRow("fragments binary type") << mixed << QList<bool>{false, true, true, false}
                                           << int(WsSocket::Fragments);
    QTest::newRow("many small") << QByteArrayList(200, "ab") << QList<bool>(200, true) << int(WsSocket::NodeBuffer);
}

void tst_WsStream::readsMessagesInOrder()
{
    QFETCH(QByteArrayList, messages);
    QFETCH(QList<bool>, binaries);
    QFETCH(int, binaryType);

    Peers peers;
    QVERIFY(peers.connect());
    peers.client->setBinaryType(WsSocket::BinaryType(binaryType));
    WsStream stream(peers.client.get());
    QSignalSpy readyRead(&stream, &QIODevice::readyRead);

    for (qsizetype i = 0; i < messages.size(); ++i) {
        WsSendOptions options;
        options.binary = binaries.at(i);
        if (binaryType == WsSocket::Fragments && messages.at(i).size() > 2) {
            // In several frames, which the Fragments type delivers unjoined.
            WsSendOptions first = options;
            first.fin = false;
            peers.accepted->send(messages.at(i).left(2), first);
            peers.accepted->send(messages.at(i).mid(2), options);
        } else {
            peers.accepted->send(messages.at(i), options);
        }
    }
    const QByteArray expected = messages.join();
    QVERIFY(waitFor([&] { return stream.bytesAvailable() == expected.size(); }));
    QVERIFY(!readyRead.isEmpty());
    QCOMPARE(stream.readAll(), expected);
    QCOMPARE(stream.bytesAvailable(), 0);
    QVERIFY(!stream.atEnd());
}

void tst_WsStream::emptyMessagesAddNothing()
{
    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());
    QSignalSpy readyRead(&stream, &QIODevice::readyRead);
    WsSendOptions text;
    text.binary = false;
    peers.accepted->send(QByteArray());
    peers.accepted->send(QByteArray(), text);
    peers.accepted->send("x");
    QVERIFY(waitFor([&] { return stream.bytesAvailable() == 1; }));
    // Only the message with bytes is announced.
    QCOMPARE(readyRead.size(), 1);
    QCOMPARE(stream.readAll(), QByteArray("x"));
}

void tst_WsStream::partialReads_data()
{
    QTest::addColumn<QList<int>>("sizes");
    QTest::addColumn<QByteArrayList>("pieces");

    // The messages are "abc", "defgh", "ij".
    QTest::newRow("byte by byte") << QList<int>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
                                  << QByteArrayList{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    QTest::newRow("across boundaries") << QList<int>{4, 4, 4} << QByteArrayList{"abcd", "efgh", "ij"};
    QTest::newRow("inside then across") << QList<int>{2, 2, 5, 9} << QByteArrayList{"ab", "cd", "efghi", "j"};
    QTest::newRow("more than there is") << QList<int>{100} << QByteArrayList{"abcdefghij"};
}

void tst_WsStream::partialReads()
{
    QFETCH(QList<int>, sizes);
    QFETCH(QByteArrayList, pieces);

    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());
    for (const char *message : {"abc", "defgh", "ij"})
        peers.accepted->send(message);
    QVERIFY(waitFor([&] { return stream.bytesAvailable() == 10; }));

    QCOMPARE(stream.peek(4), QByteArray("abcd"));
    QByteArrayList read;
    qint64 left = 10;
    for (int size : sizes) {
        read.append(stream.read(size));
        left -= read.last().size();
        QCOMPARE(stream.bytesAvailable(), left);
    }
    QCOMPARE(read, pieces);
    QCOMPARE(stream.read(1), QByteArray());
}

void tst_WsStream::readLineAcrossMessages()
{
    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());

    // After each message: can a whole line be read?
    const QByteArrayList messages{"hel", "lo\nwor", "ld\n", "\n", "tail"};
    const QList<bool> lineReady{false, true, true, true, true};
    qint64 arrived = 0;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        peers.accepted->send(messages.at(i));
        arrived += messages.at(i).size();
        QVERIFY(waitFor([&] { return stream.bytesAvailable() == arrived; }));
        QCOMPARE(stream.canReadLine(), lineReady.at(i));
    }
    QCOMPARE(stream.readLine(), QByteArray("hello\n"));
    QCOMPARE(stream.readLine(), QByteArray("world\n"));
    QVERIFY(stream.canReadLine());
    QCOMPARE(stream.readLine(), QByteArray("\n"));
    QVERIFY(!stream.canReadLine());
    QCOMPARE(stream.bytesAvailable(), 4);

    peers.accepted->send("\nlast\n");
    QVERIFY(waitFor([&] { return stream.bytesAvailable() == 10; }));
    QCOMPARE(stream.readLine(), QByteArray("tail\n"));
    QCOMPARE(stream.readLine(), QByteArray("last\n"));
}

void tst_WsStream::textStreamAcrossSplits_data()
{
    QTest::addColumn<int>("chunkSize");
    for (int size : {1, 2, 3, 5, 64})
        QTest::addRow("%d-byte messages", size) << size;
}

void tst_WsStream::textStreamAcrossSplits()
{
    QFETCH(int, chunkSize);

    // Two-, three- and four-byte UTF-8 sequences, which small messages cut.
    const QString text = QStringLiteral("gr\u00fc\u00dfe, \u6771\u4eac \U0001F389\nsecond line\nthird");
    const QByteArray bytes = text.toUtf8();

    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());
    for (qsizetype i = 0; i < bytes.size(); i += chunkSize)
        peers.accepted->send(bytes.mid(i, chunkSize));
    QVERIFY(waitFor([&] { return stream.bytesAvailable() == bytes.size(); }));

    QTextStream in(&stream);
    QCOMPARE(in.readLine(), QStringLiteral("gr\u00fc\u00dfe, \u6771\u4eac \U0001F389"));
    QCOMPARE(in.readLine(), QStringLiteral("second line"));
    QCOMPARE(in.readAll(), QStringLiteral("third"));
}

void tst_WsStream::textStreamWritesTextMessages()
{
    QPointer<WsStream> serverStream;
    Peers peers;
    QVERIFY(peers.connect([&serverStream](WsSocket *socket) { serverStream = new WsStream(socket, {}, socket); }));
    MessageLog log(peers.accepted);
    WsStreamOptions options;
    options.binary = false;
    WsStream stream(peers.client.get(), options);

    QTextStream out(&stream);
    out << QStringLiteral("caf\u00e9 ") << 42 << Qt::endl;     // endl flushes: one message
    out << QStringLiteral("\u6771\u4eac") << '\n' << 1.5 << '\n';
    out.flush();

    QVERIFY(waitFor([&] { return log.messages.size() == 2; }));
    QCOMPARE(log.binaries, (QList<bool>{false, false}));
    QVERIFY(serverStream);
    QVERIFY(waitFor([&] { return serverStream->bytesAvailable() == log.messages.join().size(); }));
    QTextStream in(serverStream.data());
    QCOMPARE(in.readLine(), QStringLiteral("caf\u00e9 42"));
    QCOMPARE(in.readLine(), QStringLiteral("\u6771\u4eac"));
    double number = 0;
    in >> number;
    QCOMPARE(number, 1.5);
}

void tst_WsStream::dataStreamTransactions_data()
{
    QTest::addColumn<int>("chunkSize");   // 0: QDataStream writes on the stream itself

    QTest::newRow("a message per field") << 0;
    for (int size : {1, 3, 7, 100, 4096})
        QTest::addRow("%d-byte messages", size) << size;
    QTest::newRow("one message") << 0x7fffffff;
}

void tst_WsStream::dataStreamTransactions()
{
    QFETCH(int, chunkSize);

    QList<Record> received;
    std::unique_ptr<QDataStream> in;
    Peers peers;
    QVERIFY(peers.connect([&](WsSocket *socket) {
        auto *stream = new WsStream(socket, {}, socket);
        in = std::make_unique<QDataStream>(stream);
        QObject::connect(stream, &QIODevice::readyRead, stream, [&] { readRecords(*in, &received); });
    }));
    WsStream stream(peers.client.get());
    MessageLog log(peers.accepted);

    const QList<Record> records = sampleRecords();
    QByteArray bytes;
    QDataStream serialiser(&bytes, QIODevice::WriteOnly);
    for (const Record &record : records)
        serialiser << record;
    if (chunkSize == 0) {
        QDataStream out(&stream);
        for (const Record &record : records)
            out << record;
    } else {
        for (qsizetype i = 0; i < bytes.size(); i += chunkSize)
            stream.write(bytes.mid(i, chunkSize));
    }

    QVERIFY(waitFor([&] { return received.size() == records.size(); }, kLongTimeoutMs));
    QCOMPARE(received, records);
    // The records really did arrive cut into messages: a write each.
    QCOMPARE(log.messages.join(), bytes);
    if (chunkSize > 0)
        QCOMPARE(log.messages.size(), (bytes.size() + chunkSize - 1) / chunkSize);
    else
        QVERIFY(log.messages.size() >= 4 * records.size());
}

void tst_WsStream::recordLargerThanReadBufferLimit()
{
    // The socket pauses long before the record is complete; reading (and
    // rolling back) all that came must resume it, or nothing more arrives.
    WsStreamOptions options;
    options.readBufferLimit = 16 * kKiB;
    QList<Record> received;
    std::unique_ptr<QDataStream> in;
    QPointer<WsSocket> serverSocket;
    int pauses = 0;
    Peers peers;
    QVERIFY(peers.connect([&](WsSocket *socket) {
        serverSocket = socket;
        QObject::connect(socket, &WsSocket::pausedChanged, socket, [&pauses](bool paused) { pauses += paused; });
        auto *stream = new WsStream(socket, options, socket);
        in = std::make_unique<QDataStream>(stream);
        QObject::connect(stream, &QIODevice::readyRead, stream, [&] { readRecords(*in, &received); });
    }));
    WsStream stream(peers.client.get());

    const Record big{QStringLiteral("big"), 7, pattern(300 * kKiB), 2.5};
    QByteArray bytes;
    QDataStream out(&bytes, QIODevice::WriteOnly);
    out << big << sampleRecords().at(3);
    for (qsizetype i = 0; i < bytes.size(); i += 8 * kKiB)
        stream.write(bytes.mid(i, 8 * kKiB));

    QVERIFY(waitFor([&] { return received.size() == 2; }, kLongTimeoutMs));
    QCOMPARE(received.at(0), big);
    QCOMPARE(received.at(1), sampleRecords().at(3));
    QVERIFY(pauses >= 1);
    QVERIFY(waitFor([&] { return !serverSocket->isPaused(); }));
}

void tst_WsStream::largeTransferWithBackpressure()
{
    constexpr qint64 kTotal = 8 * 1024 * kKiB;
    constexpr qint64 kWrite = 64 * kKiB;
    QPointer<WsStream> serverStream;
    int pauses = 0;
    QByteArray received;
    Peers peers;
    QVERIFY(peers.connect([&](WsSocket *socket) {
        QObject::connect(socket, &WsSocket::pausedChanged, socket, [&pauses](bool paused) { pauses += paused; });
        serverStream = new WsStream(socket, {}, socket);
    }));
    WsStream stream(peers.client.get());
    QSignalSpy written(&stream, &QIODevice::bytesWritten);

    const QByteArray data = pattern(kTotal);
    for (qint64 offset = 0; offset < kTotal; offset += kWrite)
        QCOMPARE(stream.write(data.mid(offset, kWrite)), kWrite);

    // Nobody reads: the server's socket stops with about the limit buffered.
    QVERIFY(waitFor([&] { return pauses > 0; }, kLongTimeoutMs));
    const qint64 limit = serverStream->options().readBufferLimit;
    const qint64 buffered = serverStream->bytesAvailable();
    QVERIFY2(buffered > limit && buffered <= limit + kWrite, QByteArray::number(buffered));
    QTest::qWait(kQuietMs);
    QCOMPARE(serverStream->bytesAvailable(), buffered);
    QVERIFY(peers.accepted->isPaused());

    // Reading it resumes the socket, again and again.
    received = serverStream->readAll();
    QObject::connect(serverStream.data(), &QIODevice::readyRead, serverStream.data(),
                     [&] { received += serverStream->readAll(); });
    QVERIFY(waitFor([&] { return received.size() == kTotal; }, kLongTimeoutMs));
    QVERIFY(received == data);
    QVERIFY(!peers.accepted->isPaused());
    QVERIFY(waitFor([&] { return sum(written) == kTotal; }, kLongTimeoutMs));
    QCOMPARE(stream.bytesToWrite(), 0);
}

void tst_WsStream::noLimitNeverPauses()
{
    WsStreamOptions options;
    options.readBufferLimit = 0;
    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get(), options);
    QSignalSpy paused(peers.client.get(), &WsSocket::pausedChanged);
    const QByteArray data = pattern(1024 * kKiB);
    for (qsizetype offset = 0; offset < data.size(); offset += 16 * kKiB)
        peers.accepted->send(data.mid(offset, 16 * kKiB));
    QVERIFY(waitFor([&] { return stream.bytesAvailable() == data.size(); }, kLongTimeoutMs));
    QVERIFY(paused.isEmpty());
    QVERIFY(stream.readAll() == data);
}

void tst_WsStream::closeFromStream_data()
{
    QTest::addColumn<bool>("clientSide");
    QTest::newRow("client stream") << true;
    QTest::newRow("server stream") << false;
}

void tst_WsStream::closeFromStream()
{
    QFETCH(bool, clientSide);

    Peers peers;
    QVERIFY(peers.connect());
    WsSocket *own = clientSide ? peers.client.get() : peers.accepted.data();
    WsSocket *peer = clientSide ? peers.accepted.data() : peers.client.get();
    MessageLog log(peer);
    QSignalSpy peerClosed(peer, &WsSocket::closed);
    WsStream stream(own);
    QSignalSpy aboutToClose(&stream, &QIODevice::aboutToClose);
    // A receiver of aboutToClose() may still write.
    QObject::connect(&stream, &QIODevice::aboutToClose, &stream, [&stream] { stream.write("goodbye"); });

    QCOMPARE(stream.write("last words"), 10);
    stream.close();
    QCOMPARE(aboutToClose.size(), 1);
    QVERIFY(!stream.isOpen());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("device not open")));
    QCOMPARE(stream.write("late"), -1);

    QVERIFY(waitFor([&] { return !peerClosed.isEmpty(); }));
    QCOMPARE(log.messages, (QByteArrayList{"last words", "goodbye"}));
    // ws's stream closes without a code, which the peer sees as 1005.
    QCOMPARE(peerClosed.first().at(0).toInt(), 1005);
}

void tst_WsStream::closeWhileConnectingSendsFirst()
{
    QByteArrayList received;
    QList<int> codes;
    Peers peers;
    QVERIFY(peers.connect());
    QObject::connect(peers.server.get(), &WsServer::newConnection, peers.server.get(), [&](WsSocket *socket) {
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [&received](const QByteArray &message) { received.append(message); });
        QObject::connect(socket, &WsSocket::closed, socket, [&codes](int code) { codes.append(code); });
    });

    auto client = std::make_unique<WsSocket>();
    QVERIFY(!client->open(localUrl(peers.port())).isError());
    {
        WsStream stream(client.get());
        stream.write("early");
        stream.close();
    }
    QCOMPARE(client->readyState(), WsSocket::Connecting);
    QVERIFY(waitFor([&] { return !codes.isEmpty(); }));
    QCOMPARE(received, QByteArrayList{"early"});
    QCOMPARE(codes, QList<int>{1005});
}

void tst_WsStream::destroyingTheStreamClosesTheSocket()
{
    Peers peers;
    QVERIFY(peers.connect());
    QSignalSpy peerClosed(peers.accepted.data(), &WsSocket::closed);
    auto stream = std::make_unique<WsStream>(peers.client.get());
    QSignalSpy aboutToClose(stream.get(), &QIODevice::aboutToClose);
    stream.reset();
    QCOMPARE(aboutToClose.size(), 1);
    QVERIFY(waitFor([&] { return !peerClosed.isEmpty(); }));
    QCOMPARE(peerClosed.first().at(0).toInt(), 1005);
}

void tst_WsStream::abortTerminates()
{
    Peers peers;
    QVERIFY(peers.connect());
    QSignalSpy peerClosed(peers.accepted.data(), &WsSocket::closed);
    WsStream stream(peers.client.get());
    stream.abort();
    QVERIFY(!stream.isOpen());
    QVERIFY(waitFor([&] { return !peerClosed.isEmpty(); }));
    // No closing handshake.
    QCOMPARE(peerClosed.first().at(0).toInt(), 1006);
}

void tst_WsStream::closeFromPeer_data()
{
    QTest::addColumn<bool>("clientSide");
    QTest::newRow("stream on the client") << true;
    QTest::newRow("stream on the server") << false;
}

void tst_WsStream::closeFromPeer()
{
    QFETCH(bool, clientSide);

    Peers peers;
    QVERIFY(peers.connect());
    WsSocket *own = clientSide ? peers.client.get() : peers.accepted.data();
    WsSocket *peer = clientSide ? peers.accepted.data() : peers.client.get();
    WsStream stream(own);
    QSignalSpy finished(&stream, &QIODevice::readChannelFinished);
    QSignalSpy aboutToClose(&stream, &QIODevice::aboutToClose);

    peer->send("tail");
    QVERIFY(!peer->close(1000, "bye").isError());
    QVERIFY(waitFor([&] { return !finished.isEmpty(); }));
    QCOMPARE(finished.size(), 1);
    // What arrived stays readable; only then is it the end.
    QVERIFY(stream.isOpen());
    QCOMPARE(stream.bytesAvailable(), 4);
    QVERIFY(!stream.atEnd());
    QCOMPARE(stream.readAll(), QByteArray("tail"));
    QVERIFY(stream.atEnd());
    QCOMPARE(stream.read(1), QByteArray());
    QCOMPARE(stream.write("more"), -1);
    QCOMPARE(stream.errorString(), QStringLiteral("WebSocket is not open: readyState 3 (CLOSED)"));
    QVERIFY(aboutToClose.isEmpty());
    stream.close();
    QCOMPARE(aboutToClose.size(), 1);
}

void tst_WsStream::everythingBeforeTheEndIsDelivered()
{
    // Messages that came with the end of the connection are all delivered,
    // even where each one passes the read buffer limit (as ws does: its
    // receiver parses all that was read before the socket closed).
    QByteArray frames;
    QByteArray expected;
    for (int i = 0; i < 50; ++i) {
        const QByteArray message = "message " + QByteArray::number(i) + ';';
        frames += frame(0x82, message, false);
        expected += message;
    }
    RawServer server;
    WsSocket client;
    QVERIFY(!client.open(localUrl(server.port())).isError());
    WsStreamOptions options;
    options.readBufferLimit = 1;
    WsStream stream(&client, options);
    QSignalSpy finished(&stream, &QIODevice::readChannelFinished);
    QVERIFY(waitFor([&] { return client.readyState() == WsSocket::Open; }));
    server.sendAndHangUp(frames + frame(0x88, QByteArray::fromHex("03e8"), false));

    QVERIFY(waitFor([&] { return !finished.isEmpty(); }));
    QCOMPARE(stream.readAll(), expected);
    QVERIFY(stream.atEnd());
}

void tst_WsStream::invalidUtf8EndsTheStream()
{
    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());
    QSignalSpy finished(&stream, &QIODevice::readChannelFinished);
    QSignalSpy peerClosed(peers.accepted.data(), &WsSocket::closed);

    peers.accepted->send("ok");
    WsSendOptions text;
    text.binary = false;
    peers.accepted->send(QByteArray("\xff\xfe"), text);

    QVERIFY(waitFor([&] { return !finished.isEmpty(); }));
    QCOMPARE(stream.errorString(), QStringLiteral("Invalid WebSocket frame: invalid UTF-8 sequence"));
    QCOMPARE(stream.readAll(), QByteArray("ok"));
    QVERIFY(stream.atEnd());
    QCOMPARE(stream.write("x"), -1);
    QVERIFY(waitFor([&] { return !peerClosed.isEmpty(); }));
    QCOMPARE(peerClosed.first().at(0).toInt(), 1007);
    QCOMPARE(finished.size(), 1);
}

void tst_WsStream::connectionFailure()
{
    // A port where nobody listens any more.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const quint16 port = probe.serverPort();
    probe.close();

    WsSocket client;
    QSignalSpy socketErrors(&client, &WsSocket::errorOccurred);
    QVERIFY(!client.open(localUrl(port)).isError());
    WsStream stream(&client);
    QSignalSpy finished(&stream, &QIODevice::readChannelFinished);
    QCOMPARE(stream.write("lost"), 4);
    QCOMPARE(stream.bytesToWrite(), 4);

    QVERIFY(waitFor([&] { return client.readyState() == WsSocket::Closed; }));
    QCOMPARE(finished.size(), 1);
    QCOMPARE(socketErrors.size(), 1);
    QCOMPARE(stream.errorString(), socketErrors.first().at(0).value<WsError>().message());
    QCOMPARE(stream.bytesToWrite(), 0);
    QVERIFY(stream.atEnd());
    QCOMPARE(stream.write("x"), -1);
}

void tst_WsStream::socketDestroyed()
{
    Peers peers;
    QVERIFY(peers.connect());
    WsStream stream(peers.client.get());
    QSignalSpy finished(&stream, &QIODevice::readChannelFinished);
    peers.accepted->send("before");
    QVERIFY(waitFor([&] { return stream.bytesAvailable() == 6; }));

    peers.client.reset();
    QCOMPARE(finished.size(), 1);
    QCOMPARE(stream.socket(), nullptr);
    QCOMPARE(stream.errorString(), QStringLiteral("The WebSocket was destroyed"));
    QCOMPARE(stream.readAll(), QByteArray("before"));
    QVERIFY(stream.atEnd());
    QCOMPARE(stream.write("x"), -1);
}

void tst_WsStream::serverSideEcho()
{
    // The server reads lines from a stream per connection and writes each
    // back in upper case; the stream goes with its socket.
    QList<QPointer<WsStream>> streams;
    Peers peers;
    QVERIFY(peers.connect([&streams](WsSocket *socket) {
        auto *stream = new WsStream(socket, {}, socket);
        streams.append(stream);
        QObject::connect(stream, &QIODevice::readyRead, stream, [stream] {
            while (stream->canReadLine())
                stream->write(stream->readLine().toUpper());
        });
    }));
    QCOMPARE(streams.size(), 1);
    QVERIFY(streams.first()->isOpen());

    MessageLog log(peers.client.get());
    peers.client->send("one\ntw");
    peers.client->send("o\nthree");
    peers.client->send("\n");
    QVERIFY(waitFor([&] { return log.messages.size() == 3; }));
    QCOMPARE(log.messages, (QByteArrayList{"ONE\n", "TWO\n", "THREE\n"}));
    QCOMPARE(log.binaries, (QList<bool>{true, true, true}));

    QVERIFY(!peers.client->close(1000).isError());
    QVERIFY(waitFor([&] { return streams.first().isNull(); }));
}

QTEST_MAIN(tst_WsStream)

#include "tst_wsstream.moc"
