// WsSocket as a client over real loopback connections: the opening handshake
// (request bytes, every way a response can fail, redirects, timeouts),
// messages and fragments, control frames, the closing handshake, protocol
// errors, pause/resume and permessage-deflate. The peer is a WsServer where
// behaviour matters, and a raw TCP (or local) server where exact bytes or a
// misbehaving server matter.

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include "wireframe.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qrandom.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qthread.h>
#include <QtNetwork/qlocalserver.h>
#include <QtNetwork/qlocalsocket.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

char *toString(const WsError &error)
{
    return QTest::toString(QStringLiteral("%1 \"%2\" close %3")
                                   .arg(error.codeName(), error.message())
                                   .arg(error.closeCode()));
}

using wsqt::test::wireFrame;

namespace {

const QByteArray kGuid = QByteArrayLiteral("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
// Megabytes over loopback: generous for a loaded CI machine.
constexpr int kLongTimeoutMs = 30000;
// How long the event loop runs to show that something does NOT happen.
constexpr int kQuietMs = 100;
constexpr qsizetype kMiB = 1024 * 1024;

// A successful upgrade response; {accept} is filled in from the request's key.
const QByteArray kUpgrade = QByteArrayLiteral("HTTP/1.1 101 Switching Protocols\r\n"
                                              "Upgrade: websocket\r\n"
                                              "Connection: Upgrade\r\n"
                                              "Sec-WebSocket-Accept: {accept}\r\n");

QByteArray hex(const char *digits)
{
    return QByteArray::fromHex(QByteArray(digits));
}

QByteArray acceptKey(const QByteArray &key)
{
    return QCryptographicHash::hash(key + kGuid, QCryptographicHash::Sha1).toBase64();
}

QByteArray closePayload(int code, const QByteArray &reason = {})
{
    QByteArray payload;
    payload.append(char((code >> 8) & 0xff));
    payload.append(char(code & 0xff));
    return payload + reason;
}

// Binary data in which a lost, repeated or moved block shows.
QByteArray pattern(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char(i ^ (i >> 8) ^ (i >> 16));
    return data;
}

// ASCII text that compresses well and still shows a moved block.
QByteArray textPattern(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char('a' + ((i / 64) + (i >> 12)) % 26);
    return data;
}

QByteArray randomBytes(qsizetype size)
{
    QRandomGenerator generator(20240611);
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char(generator.bounded(256));
    return data;
}

// Raw DEFLATE data (RFC 1951) ending with a final block: qCompress's zlib
// stream without its length prefix, zlib header and checksum.
QByteArray rawDeflate(const QByteArray &data)
{
    const QByteArray zlib = qCompress(data);
    return zlib.mid(4 + 2, zlib.size() - 4 - 2 - 4);
}

// `text` with PORT and PEERPORT replaced by those port numbers.
QByteArray withPorts(QByteArray text, quint16 port, quint16 peerPort = 0)
{
    text.replace("PEERPORT", QByteArray::number(peerPort));
    return text.replace("PORT", QByteArray::number(port));
}

QUrl urlWithPorts(const QByteArray &text, quint16 port, quint16 peerPort = 0)
{
    return QUrl::fromEncoded(withPorts(text, port, peerPort));
}

template <typename Change>
WsClientOptions clientOptions(Change change)
{
    WsClientOptions options;
    change(options);
    return options;
}

WsClientOptions withoutDeflate()
{
    return clientOptions([](WsClientOptions &o) { o.perMessageDeflate = std::nullopt; });
}

// ---- frames -----------------------------------------------------------------

// One frame as a raw peer reads it, unmasked.
struct Frame
{
    quint8 b0 = 0;
    bool masked = false;
    QByteArray key;
    QByteArray payload;
};


// The complete frames at the start of `bytes`.
QList<Frame> parseFrames(const QByteArray &bytes)
{
    QList<Frame> frames;
    const auto at = [&bytes](qsizetype i) { return quint8(bytes[i]); };
    qsizetype pos = 0;
    while (bytes.size() - pos >= 2) {
        Frame f;
        f.b0 = at(pos);
        f.masked = at(pos + 1) & 0x80;
        quint64 length = at(pos + 1) & 0x7f;
        qsizetype header = 2;
        if (length == 126) {
            header = 4;
        } else if (length == 127) {
            header = 10;
        }
        if (f.masked)
            header += 4;
        if (bytes.size() - pos < header)
            break;
        if (length == 126) {
            length = quint64(at(pos + 2)) << 8 | at(pos + 3);
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = length << 8 | at(pos + 2 + i);
        }
        if (quint64(bytes.size() - pos - header) < length)
            break;
        f.payload = bytes.mid(pos + header, qsizetype(length));
        if (f.masked) {
            f.key = bytes.mid(pos + header - 4, 4);
            for (qsizetype i = 0; i < f.payload.size(); ++i)
                f.payload[i] = char(f.payload[i] ^ f.key[i % 4]);
        }
        frames.append(f);
        pos += header + qsizetype(length);
    }
    return frames;
}

// A frame written as its first byte followed by its payload: what a test
// compares when the length and the mask do not matter.
QByteArray firstByteAndPayload(const Frame &f)
{
    return QByteArray(1, char(f.b0)) + f.payload;
}

// ---- a raw peer ---------------------------------------------------------------

// A request head as a raw peer received it.
struct RawRequest
{
    QByteArray requestLine;
    QList<QByteArray> fields;   // "Name: value" lines, in order

    static RawRequest parse(const QByteArray &head)
    {
        RawRequest request;
        qsizetype from = 0;
        for (;;) {
            const qsizetype end = head.indexOf("\r\n", from);
            if (end <= from)
                break;
            const QByteArray line = head.mid(from, end - from);
            if (request.requestLine.isEmpty())
                request.requestLine = line;
            else
                request.fields.append(line);
            from = end + 2;
        }
        return request;
    }

    // The first value of that name, null when there is none.
    QByteArray value(QByteArrayView name) const
    {
        for (const QByteArray &field : fields) {
            const qsizetype colon = field.indexOf(':');
            if (colon == name.size() && qstrnicmp(field.constData(), colon, name.data(), name.size()) == 0)
                return field.mid(colon + 1).trimmed();
        }
        return {};
    }
    QByteArray target() const { return requestLine.split(' ').value(1); }
    QByteArray path() const { return target().split('?').value(0); }
};

// A server that reads each connection's request head and answers it with
// bytes of the test's choosing; then it keeps what the client sends.
class RawServer : public QObject
{
public:
    // The answer to a request head; empty leaves the client waiting.
    using Responder = std::function<QByteArray(const RawRequest &request)>;

    struct Connection
    {
        QPointer<QIODevice> device;
        QByteArray head;            // the request head, CRLFCRLF included
        RawRequest request;
        QByteArray received;        // everything after the head
        bool disconnected = false;

        QList<Frame> frames() const { return parseFrames(received); }
        void write(const QByteArray &bytes)
        {
            if (device && !bytes.isEmpty())
                device->write(bytes);
        }
        void close()
        {
            if (auto *tcp = qobject_cast<QAbstractSocket *>(device))
                tcp->disconnectFromHost();
            else if (auto *local = qobject_cast<QLocalSocket *>(device))
                local->disconnectFromServer();
        }
    };

    explicit RawServer(quint16 port = 0)
    {
        connect(&m_tcp, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_tcp.nextPendingConnection())
                adopt(socket);
        });
        connect(&m_local, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket *socket = m_local.nextPendingConnection())
                adopt(socket);
        });
        m_tcp.listen(QHostAddress(QHostAddress::LocalHost), port);
    }

    bool isListening() const { return m_tcp.isListening(); }
    bool listenLocal(const QString &path) { return m_local.listen(path); }
    quint16 port() const { return m_tcp.serverPort(); }
    QUrl url(const QByteArray &target = "/") const
    {
        return QUrl::fromEncoded("ws://127.0.0.1:" + QByteArray::number(port()) + target);
    }

    void setResponder(Responder responder) { m_responder = std::move(responder); }
    // Closes each connection after its answer (or at once, when there is none).
    void setCloseAfterReply(bool close) { m_closeAfterReply = close; }

    int count() const { return int(m_connections.size()); }
    Connection &at(int i) { return *m_connections.at(size_t(i)); }
    Connection &last() { return *m_connections.back(); }
    bool hasRequest() const { return !m_connections.empty() && !m_connections.back()->head.isEmpty(); }

private:
    void adopt(QIODevice *device)
    {
        m_connections.push_back(std::make_unique<Connection>());
        Connection *connection = m_connections.back().get();
        connection->device = device;
        connect(device, &QIODevice::readyRead, this, [this, connection] { read(connection); });
        const auto markDisconnected = [connection] { connection->disconnected = true; };
        if (auto *tcp = qobject_cast<QAbstractSocket *>(device))
            connect(tcp, &QAbstractSocket::disconnected, this, markDisconnected);
        else if (auto *local = qobject_cast<QLocalSocket *>(device))
            connect(local, &QLocalSocket::disconnected, this, markDisconnected);
        if (device->bytesAvailable() > 0)
            read(connection);
    }

    void read(Connection *connection)
    {
        connection->received += connection->device->readAll();
        if (!connection->head.isEmpty())
            return;
        const qsizetype end = connection->received.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        connection->head = connection->received.left(end + 4);
        connection->received.remove(0, end + 4);
        connection->request = RawRequest::parse(connection->head);
        if (m_responder)
            connection->write(m_responder(connection->request));
        if (m_closeAfterReply)
            connection->close();
    }

    // Declared first, destroyed last: sockets signal disconnected() as the servers delete them.
    std::vector<std::unique_ptr<Connection>> m_connections;
    Responder m_responder;
    bool m_closeAfterReply = false;
    QTcpServer m_tcp;
    QLocalServer m_local;
};

// Answers with `response`, its {accept} computed from the request's key.
RawServer::Responder scripted(const QByteArray &response)
{
    return [response](const RawRequest &request) {
        return QByteArray(response).replace("{accept}", acceptKey(request.value("Sec-WebSocket-Key")));
    };
}

QByteArray redirectResponse(int status, const QByteArray &location)
{
    return "HTTP/1.1 " + QByteArray::number(status) + " Redirect\r\nLocation: " + location
            + "\r\nContent-Length: 0\r\n\r\n";
}

// ---- a WsServer peer ----------------------------------------------------------

// A WsServer on 127.0.0.1 that remembers its last connection and, as an
// echo server, sends every message back as it came.
class ServerPeer
{
public:
    enum Mode { Silent, Echo };

    explicit ServerPeer(Mode mode = Silent, WsServerOptions options = {})
    {
        options.port = 0;
        options.host = QHostAddress(QHostAddress::LocalHost);
        m_server = std::make_unique<WsServer>(options);
        QObject::connect(m_server.get(), &WsServer::newConnection, m_server.get(),
                         [this, mode](WsSocket *socket, const WsHttpRequest &request) {
                             m_socket = socket;
                             m_requests.append(request);
                             if (mode != Echo)
                                 return;
                             QObject::connect(socket, &WsSocket::messageReceived, socket,
                                              [socket](const QByteArray &message, bool binary) {
                                                  WsSendOptions echo;
                                                  echo.binary = binary;
                                                  socket->send(message, echo);
                                              });
                         });
    }

    bool isListening() const { return m_server->isListening(); }
    quint16 port() const { return m_server->address().port; }
    QUrl url(const QByteArray &target = "/") const
    {
        return QUrl::fromEncoded("ws://127.0.0.1:" + QByteArray::number(port()) + target);
    }
    WsSocket *socket() const { return m_socket; }
    const QList<WsHttpRequest> &requests() const { return m_requests; }

private:
    std::unique_ptr<WsServer> m_server;
    QPointer<WsSocket> m_socket;
    QList<WsHttpRequest> m_requests;
};

// ---- what a socket signals ----------------------------------------------------

// Every signal of a socket, in order, as one short line each, plus the
// arguments worth comparing (not redirected() and unexpectedResponse(),
// which the tests of those record themselves).
class EventLog
{
public:
    explicit EventLog(WsSocket *socket)
    {
        QObject::connect(socket, &WsSocket::readyStateChanged, &m_context, [this](WsSocket::ReadyState state) {
            lines.append(QLatin1String("state ")
                         + QLatin1String(QMetaEnum::fromType<WsSocket::ReadyState>().valueToKey(state)));
        });
        QObject::connect(socket, &WsSocket::opened, &m_context, [this] { lines.append(QStringLiteral("opened")); });
        QObject::connect(socket, &WsSocket::upgraded, &m_context, [this](const WsHttpResponse &response) {
            lines.append(QStringLiteral("upgraded %1").arg(response.statusCode));
        });
        QObject::connect(socket, &WsSocket::errorOccurred, &m_context, [this](const WsError &error) {
            lines.append(QLatin1String("error ") + error.codeName());
            errors.append(error);
        });
        QObject::connect(socket, &WsSocket::closed, &m_context, [this](int code, const QByteArray &reason) {
            lines.append(QStringLiteral("closed %1 \"%2\"").arg(code).arg(QString::fromUtf8(reason)));
            closes.append({code, reason});
        });
        QObject::connect(socket, &WsSocket::messageReceived, &m_context,
                         [this](const QByteArray &message, bool binary) {
                             lines.append(QStringLiteral("message %1 %2").arg(kind(binary)).arg(message.size()));
                             messages.append(message);
                             binaryFlags.append(binary);
                         });
        QObject::connect(socket, &WsSocket::fragmentsReceived, &m_context,
                         [this](const QByteArrayList &list, bool binary) {
                             lines.append(QStringLiteral("fragments %1 %2").arg(kind(binary)).arg(list.size()));
                             fragments.append(list);
                             binaryFlags.append(binary);
                         });
        QObject::connect(socket, &WsSocket::pingReceived, &m_context, [this](const QByteArray &payload) {
            lines.append(QLatin1String("ping ") + QLatin1String(payload.toHex()));
        });
        QObject::connect(socket, &WsSocket::pongReceived, &m_context, [this](const QByteArray &payload) {
            lines.append(QLatin1String("pong ") + QLatin1String(payload.toHex()));
        });
        QObject::connect(socket, &WsSocket::pausedChanged, &m_context, [this](bool paused) {
            lines.append(paused ? QStringLiteral("paused") : QStringLiteral("resumed"));
        });
    }

    // The lines that start with `prefix`.
    QStringList filtered(const QString &prefix) const
    {
        QStringList out;
        for (const QString &line : lines) {
            if (line.startsWith(prefix))
                out.append(line);
        }
        return out;
    }

    QStringList lines;
    QList<WsError> errors;
    QList<QPair<int, QByteArray>> closes;
    QByteArrayList messages;
    QList<QByteArrayList> fragments;
    QList<bool> binaryFlags;

private:
    static QLatin1String kind(bool binary) { return binary ? QLatin1String("binary") : QLatin1String("text"); }

    QObject m_context;
};

QPair<int, QByteArray> closeArgs(int code, const QByteArray &reason = {})
{
    return {code, reason};
}

// The lines of a client that opened: the start of every successful log.
const QStringList kOpenedLines = {QStringLiteral("state Connecting"), QStringLiteral("upgraded 101"),
                                  QStringLiteral("state Open"), QStringLiteral("opened")};

// Opens `client` and waits for opened(); false, with the reason logged, when it does not open.
bool openAndWait(WsSocket &client, const QUrl &url, const WsClientOptions &options = {},
                 const QStringList &protocols = {})
{
    QSignalSpy opened(&client, &WsSocket::opened);
    QSignalSpy closed(&client, &WsSocket::closed);
    QSignalSpy errors(&client, &WsSocket::errorOccurred);
    if (const WsError error = client.open(url, protocols, options)) {
        qWarning() << "open() refused:" << error;
        return false;
    }
    if (!QTest::qWaitFor([&] { return !opened.isEmpty() || !closed.isEmpty(); }))
        qWarning() << "neither opened nor closed in time";
    if (!errors.isEmpty())
        qWarning() << "the handshake failed:" << errors.first().first().value<WsError>();
    return opened.size() == 1 && client.readyState() == WsSocket::Open;
}

// Opens `client` on `peer` and waits until both ends are open.
bool connectTo(ServerPeer &peer, WsSocket &client, const WsClientOptions &options = {},
               const QStringList &protocols = {})
{
    return openAndWait(client, peer.url(), options, protocols)
            && QTest::qWaitFor([&] { return peer.socket() && peer.socket()->readyState() == WsSocket::Open; });
}

// Opens `client` on a raw peer that answers `response` (a plain upgrade by default).
bool openOnRaw(RawServer &raw, WsSocket &client, const QByteArray &response = {},
               const WsClientOptions &options = {})
{
    raw.setResponder(scripted(response.isEmpty() ? kUpgrade + "\r\n" : response));
    return openAndWait(client, raw.url(), options);
}

// What a test sends in permessage-deflate rows.
struct Send
{
    QByteArray data;
    bool fin = true;
    bool compress = true;
};

enum class Call { Send, Ping, Pong };

WsError call(WsSocket &socket, Call which, const QByteArray &data, const WsSocket::Callback &callback = {})
{
    switch (which) {
    case Call::Send:
        return socket.send(data, {}, callback);
    case Call::Ping:
        return socket.ping(data, callback);
    case Call::Pong:
        return socket.pong(data, callback);
    }
    return {};
}

} // namespace

Q_DECLARE_METATYPE(WsClientOptions)
Q_DECLARE_METATYPE(WsServerOptions)
Q_DECLARE_METATYPE(Send)
Q_DECLARE_METATYPE(Call)

class tst_WsSocket : public QObject
{
    Q_OBJECT

private slots:
    // Opening
    void open_data();
    void open();
    void openRefused_data();
    void openRefused();
    void invalidHeaderSendsNothing_data();
    void invalidHeaderSendsNothing();
    void openOnlyWhenClosed();
    void requestHead_data();
    void requestHead();
    void hostHeaderOmitsDefaultPort_data();
    void hostHeaderOmitsDefaultPort();
    void unixSocket_data();
    void unixSocket();
    void handshakeAccepted_data();
    void handshakeAccepted();
    void upgradedResponse();
    void handshakeFailed_data();
    void handshakeFailed();
    void unexpectedResponse_data();
    void unexpectedResponse();
    void handshakeTimeout_data();
    void handshakeTimeout();
    void connectionRefused();
    void subprotocol_data();
    void subprotocol();

    // Redirects
    void redirectFollowed_data();
    void redirectFollowed();
    void redirectFails_data();
    void redirectFails();
    void redirectCredentials_data();
    void redirectCredentials();

    // Messages
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

    // Errors from the peer
    void protocolError_data();
    void protocolError();
    void skipUtf8Validation();

    // Flow control
    void pauseResume();
    void pausedSocketSeesTheEnd_data();
    void pausedSocketSeesTheEnd();
    void pauseIgnoredWhenNotOpen_data();
    void pauseIgnoredWhenNotOpen();

    // permessage-deflate
    void deflateNegotiation_data();
    void deflateNegotiation();
    void deflateRoundTrip_data();
    void deflateRoundTrip();
    void deflateWireBytes_data();
    void deflateWireBytes();
    void deflateInbound_data();
    void deflateInbound();
};

// ---- opening ----------------------------------------------------------------

void tst_WsSocket::open_data()
{
    QTest::addColumn<QByteArray>("address");
    QTest::addColumn<QByteArray>("expectedUrl");
    QTest::addColumn<QByteArray>("expectedTarget");

    QTest::newRow("ws") << QByteArray("ws://127.0.0.1:PORT/chat") << QByteArray("ws://127.0.0.1:PORT/chat")
                        << QByteArray("/chat");
    QTest::newRow("http becomes ws") << QByteArray("http://127.0.0.1:PORT/chat?room=1")
                                     << QByteArray("ws://127.0.0.1:PORT/chat?room=1") << QByteArray("/chat?room=1");
    QTest::newRow("upper-case scheme") << QByteArray("HTTP://127.0.0.1:PORT/x") << QByteArray("ws://127.0.0.1:PORT/x")
                                       << QByteArray("/x");
    // ws reports the WHATWG href, whose path is never empty for ws:.
    QTest::newRow("no path") << QByteArray("ws://127.0.0.1:PORT") << QByteArray("ws://127.0.0.1:PORT/")
                             << QByteArray("/");
}

void tst_WsSocket::open()
{
    QFETCH(QByteArray, address);
    QFETCH(QByteArray, expectedUrl);
    QFETCH(QByteArray, expectedTarget);

    ServerPeer peer;
    QVERIFY(peer.isListening());
    WsSocket client;
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QVERIFY(client.url().isEmpty());
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);

    const QUrl expected = urlWithPorts(expectedUrl, peer.port());
    QCOMPARE(client.open(urlWithPorts(address, peer.port())), WsError());
    QCOMPARE(client.readyState(), WsSocket::Connecting);
    QCOMPARE(client.url(), expected);
    QCOMPARE(urls.size(), 1);
    QCOMPARE(urls.first().first().toUrl(), expected);

    QTRY_COMPARE(log.lines, kOpenedLines);
    QCOMPARE(client.readyState(), WsSocket::Open);
    QTRY_VERIFY(peer.socket());
    QCOMPARE(peer.requests().last().target, expectedTarget);

    // Both ends of the one connection.
    WsSocket *server = peer.socket();
    QVERIFY(!client.isServerSide());
    QVERIFY(server->isServerSide());
    QVERIFY(server->url().isEmpty());
    QCOMPARE(client.peerAddress(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(client.peerPort(), peer.port());
    QCOMPARE(client.localAddress(), QHostAddress(QHostAddress::LocalHost));
    QVERIFY(client.localPort() != 0);
    QCOMPARE(client.localPort(), server->peerPort());
    QCOMPARE(server->localPort(), peer.port());
    QCOMPARE(client.protocol(), QString());
    QCOMPARE(client.extensions(), QString());

    QCOMPARE(client.close(1000, "done"), WsError());
    QCOMPARE(client.readyState(), WsSocket::Closing);
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.lines, kOpenedLines + QStringList({QStringLiteral("state Closing"), QStringLiteral("state Closed"),
                                                    QStringLiteral("closed 1000 \"done\"")}));
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QCOMPARE(client.url(), expected);
    QCOMPARE(urls.size(), 1);
}

void tst_WsSocket::openRefused_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<int>("protocolVersion");
    QTest::addColumn<WsError>("expected");

    const WsError badScheme(WsError::InvalidUrl,
                            QStringLiteral("The URL's protocol must be one of \"ws:\", \"wss:\", \"http:\", "
                                           "\"https:\", or \"ws+unix:\""));
    const WsError fragment(WsError::InvalidUrl, QStringLiteral("The URL contains a fragment identifier"));
    const WsError emptyPath(WsError::InvalidUrl, QStringLiteral("The URL's pathname is empty"));
    const WsError badProtocol(WsError::InvalidArgument,
                              QStringLiteral("An invalid or duplicated subprotocol was specified"));
    const QString good = QStringLiteral("ws://127.0.0.1:1/");

    QTest::newRow("not a URL") << QStringLiteral("foo") << QStringList() << 13
                               << WsError(WsError::InvalidUrl, QStringLiteral("Invalid URL: foo"));
    QTest::newRow("no host") << QStringLiteral("ws://") << QStringList() << 13
                             << WsError(WsError::InvalidUrl, QStringLiteral("Invalid URL: ws://"));
    QTest::newRow("ftp") << QStringLiteral("ftp://127.0.0.1/") << QStringList() << 13 << badScheme;
    QTest::newRow("ftp with a fragment") << QStringLiteral("ftp://127.0.0.1/#x") << QStringList() << 13 << badScheme;
    QTest::newRow("fragment") << QStringLiteral("ws://127.0.0.1/#x") << QStringList() << 13 << fragment;
    QTest::newRow("http with a fragment") << QStringLiteral("http://127.0.0.1/a?b#x") << QStringList() << 13
                                          << fragment;
    QTest::newRow("ws+unix without a path") << QStringLiteral("ws+unix:") << QStringList() << 13 << emptyPath;
    QTest::newRow("ws+unix with an empty authority") << QStringLiteral("ws+unix://") << QStringList() << 13
                                                     << emptyPath;
    QTest::newRow("duplicated subprotocol") << good << QStringList{QStringLiteral("a"), QStringLiteral("a")} << 13
                                            << badProtocol;
    QTest::newRow("empty subprotocol") << good << QStringList{QString()} << 13 << badProtocol;
    QTest::newRow("subprotocol with a comma") << good << QStringList{QStringLiteral("a,b")} << 13 << badProtocol;
    QTest::newRow("subprotocol with a space") << good << QStringList{QStringLiteral("a b")} << 13 << badProtocol;
    QTest::newRow("non-ASCII subprotocol") << good << QStringList{QStringLiteral("\u00e9")} << 13 << badProtocol;
    const auto badVersion = [](int version) {
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("Unsupported protocol version: %1 (supported versions: 8, 13)").arg(version));
    };
    QTest::newRow("version 12") << good << QStringList() << 12 << badVersion(12);
    QTest::newRow("version 0") << good << QStringList() << 0 << badVersion(0);
    // ws checks the version first, then the URL, then the subprotocols.
    QTest::newRow("version before URL") << QStringLiteral("ftp://x/") << QStringList() << 12 << badVersion(12);
    QTest::newRow("URL before subprotocols") << QStringLiteral("ftp://x/")
                                             << QStringList{QStringLiteral("a"), QStringLiteral("a")} << 13
                                             << badScheme;
}

void tst_WsSocket::openRefused()
{
    QFETCH(QString, address);
    QFETCH(QStringList, protocols);
    QFETCH(int, protocolVersion);
    QFETCH(WsError, expected);

    WsSocket client;
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);
    WsClientOptions options;
    options.protocolVersion = protocolVersion;

    QCOMPARE(client.open(QUrl(address), protocols, options), expected);
    QCOMPARE(client.readyState(), WsSocket::Closed);
    QVERIFY(client.url().isEmpty());
    // Refused synchronously: nothing is signalled later either.
    QTest::qWait(kQuietMs);
    QCOMPARE(log.lines, QStringList());
    QCOMPARE(urls.size(), 0);
}

void tst_WsSocket::invalidHeaderSendsNothing_data()
{
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<WsError>("expected");

    const auto header = [](const QByteArray &name, const QByteArray &value) {
        return clientOptions([&](WsClientOptions &o) { o.headers.append(name, value); });
    };
    const auto badContent = [](const char *name) {
        return WsError(WsError::InvalidArgument,
                       QStringLiteral("Invalid character in header content [\"%1\"]").arg(QLatin1String(name)));
    };
    QTest::newRow("CR LF in a value") << header("X-Test", "a\r\nInjected: 1") << badContent("X-Test");
    QTest::newRow("LF in a value") << header("X-Test", "a\nb") << badContent("X-Test");
    QTest::newRow("CR in a value") << header("X-Test", "a\rb") << badContent("X-Test");
    QTest::newRow("NUL in a value") << header("X-Test", QByteArray("a\0b", 3)) << badContent("X-Test");
    QTest::newRow("CR LF in the origin")
            << clientOptions([](WsClientOptions &o) { o.origin = QStringLiteral("http://o\r\nX-Injected: 1"); })
            << badContent("Origin");
    QTest::newRow("space in a name")
            << header("Bad Name", "x")
            << WsError(WsError::InvalidArgument, QStringLiteral("Header name must be a valid HTTP token [\"Bad Name\"]"));
    QTest::newRow("colon in a name")
            << header("X:Y", "x")
            << WsError(WsError::InvalidArgument, QStringLiteral("Header name must be a valid HTTP token [\"X:Y\"]"));
}

void tst_WsSocket::invalidHeaderSendsNothing()
{
    QFETCH(WsClientOptions, options);
    QFETCH(WsError, expected);

    RawServer raw;
    QVERIFY(raw.isListening());
    WsSocket client;
    EventLog log(&client);

    QCOMPARE(client.open(raw.url(), {}, options), expected);
    QCOMPARE(client.readyState(), WsSocket::Closed);
    // Nothing reached the network: not even a connection.
    QTest::qWait(kQuietMs);
    QCOMPARE(raw.count(), 0);
    QCOMPARE(log.lines, QStringList());
}

void tst_WsSocket::openOnlyWhenClosed()
{
    ServerPeer peer(ServerPeer::Echo);
    WsSocket client;
    EventLog log(&client);
    const QUrl other = QUrl(QStringLiteral("ws://127.0.0.1:1/other"));

    QCOMPARE(client.open(peer.url("/first")), WsError());
    QCOMPARE(client.open(other).code(), WsError::InvalidState);
    QTRY_COMPARE(log.lines, kOpenedLines);
    QCOMPARE(client.open(other).code(), WsError::InvalidState);
    QCOMPARE(client.url(), peer.url("/first"));
    QCOMPARE(client.close(1000), WsError());
    QCOMPARE(client.open(other).code(), WsError::InvalidState);
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(peer.requests().size(), 1);

    // Closed again: the same object opens a new connection.
    log.lines.clear();
    QVERIFY(client.send("after close").isError());
    QCOMPARE(client.open(peer.url("/second")), WsError());
    QTRY_COMPARE(log.lines, kOpenedLines);
    QCOMPARE(client.bufferedAmount(), 0);
    QCOMPARE(peer.requests().size(), 2);
    QCOMPARE(peer.requests().last().target, QByteArray("/second"));
    QCOMPARE(client.sendText(QStringLiteral("again")), WsError());
    QTRY_COMPARE(log.messages, QByteArrayList{"again"});
}

void tst_WsSocket::requestHead_data()
{
    QTest::addColumn<QByteArray>("address");
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QByteArrayList>("expected");

    const QByteArray version = "Sec-WebSocket-Version: 13";
    const QByteArray key = "Sec-WebSocket-Key: <key>";
    const QByteArray connection = "Connection: Upgrade";
    const QByteArray upgrade = "Upgrade: websocket";
    const QByteArray offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits";
    const QByteArray host = "Host: 127.0.0.1:PORT";
    const QByteArrayList base = {version, key, connection, upgrade};

    QTest::newRow("defaults") << QByteArray("ws://127.0.0.1:PORT/path?q=1") << QStringList() << WsClientOptions()
                              << QByteArrayList{"GET /path?q=1 HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("no path") << QByteArray("ws://127.0.0.1:PORT") << QStringList() << WsClientOptions()
                             << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("http scheme") << QByteArray("http://127.0.0.1:PORT/x") << QStringList() << WsClientOptions()
                                 << QByteArrayList{"GET /x HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("encoded path") << QByteArray("ws://127.0.0.1:PORT/a%20b?c=%2F") << QStringList()
                                  << WsClientOptions()
                                  << QByteArrayList{"GET /a%20b?c=%2F HTTP/1.1"} + base + QByteArrayList{offer, host};
    QTest::newRow("no permessage-deflate") << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << withoutDeflate()
                                           << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{host};
    QTest::newRow("deflate parameters")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.perMessageDeflate->serverNoContextTakeover = true;
                   o.perMessageDeflate->clientNoContextTakeover = true;
                   o.perMessageDeflate->serverMaxWindowBits = 10;
               })
            << QByteArrayList{"GET / HTTP/1.1"} + base
                    + QByteArrayList{"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                                     "client_no_context_takeover; server_max_window_bits=10; client_max_window_bits",
                                     host};
    QTest::newRow("client_max_window_bits off")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.perMessageDeflate->clientMaxWindowBits = WsDeflateOptions::NoWindowBits;
               })
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{"Sec-WebSocket-Extensions: permessage-deflate", host};
    QTest::newRow("subprotocols") << QByteArray("ws://127.0.0.1:PORT/") << QStringList{QStringLiteral("a"), QStringLiteral("b")}
                                  << WsClientOptions()
                                  << QByteArrayList{"GET / HTTP/1.1"} + base
                                            + QByteArrayList{offer, "Sec-WebSocket-Protocol: a,b", host};
    QTest::newRow("origin") << QByteArray("ws://127.0.0.1:PORT/") << QStringList{QStringLiteral("chat")}
                            << clientOptions([](WsClientOptions &o) { o.origin = QStringLiteral("http://o.example"); })
                            << QByteArrayList{"GET / HTTP/1.1"} + base
                                    + QByteArrayList{offer, "Sec-WebSocket-Protocol: chat", "Origin: http://o.example", host};
    QTest::newRow("version 8") << QByteArray("ws://127.0.0.1:PORT/") << QStringList()
                               << clientOptions([](WsClientOptions &o) {
                                      o.protocolVersion = 8;
                                      o.origin = QStringLiteral("http://o.example");
                                  })
                               << QByteArrayList{"GET / HTTP/1.1", "Sec-WebSocket-Version: 8", key, connection, upgrade,
                                                 offer, "Sec-WebSocket-Origin: http://o.example", host};
    QTest::newRow("application headers first")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.headers.append("X-Custom", "a");
                   o.headers.append("Cookie", "c=1");
               })
            << QByteArrayList{"GET / HTTP/1.1", "X-Custom: a", "Cookie: c=1"} + base + QByteArrayList{offer, host};
    QTest::newRow("cookies joined")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.headers.append("Cookie", "a=1");
                   o.headers.append("Cookie", "b=2");
               })
            << QByteArrayList{"GET / HTTP/1.1", "Cookie: a=1; b=2"} + base + QByteArrayList{offer, host};
    QTest::newRow("own Host")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList()
            << clientOptions([](WsClientOptions &o) { o.headers.append("Host", "example.com"); })
            << QByteArrayList{"GET / HTTP/1.1", "Host: example.com"} + base + QByteArrayList{offer};
    // ws's own fields win, in the application's place.
    QTest::newRow("own Upgrade")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.headers.append("X-A", "1");
                   o.headers.append("Upgrade", "h2c");
               })
            << QByteArrayList{"GET / HTTP/1.1", "X-A: 1", upgrade, version, key, connection, offer, host};
    QTest::newRow("URL user info")
            << QByteArray("ws://user:pass@127.0.0.1:PORT/") << QStringList() << WsClientOptions()
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host, "Authorization: Basic dXNlcjpwYXNz"};
    QTest::newRow("auth option")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList()
            << clientOptions([](WsClientOptions &o) { o.auth = QStringLiteral("u:p"); })
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host, "Authorization: Basic dTpw"};
    QTest::newRow("user info over auth option")
            << QByteArray("ws://user:pass@127.0.0.1:PORT/") << QStringList()
            << clientOptions([](WsClientOptions &o) { o.auth = QStringLiteral("u:p"); })
            << QByteArrayList{"GET / HTTP/1.1"} + base + QByteArrayList{offer, host, "Authorization: Basic dXNlcjpwYXNz"};
    QTest::newRow("own Authorization over auth option")
            << QByteArray("ws://127.0.0.1:PORT/") << QStringList() << clientOptions([](WsClientOptions &o) {
                   o.auth = QStringLiteral("u:p");
                   o.headers.append("Authorization", "Bearer t");
               })
            << QByteArrayList{"GET / HTTP/1.1", "Authorization: Bearer t"} + base + QByteArrayList{offer, host};
}

void tst_WsSocket::requestHead()
{
    QFETCH(QByteArray, address);
    QFETCH(QStringList, protocols);
    QFETCH(WsClientOptions, options);
    QFETCH(QByteArrayList, expected);

    RawServer raw;
    QVERIFY(raw.isListening());
    WsSocket client;
    QCOMPARE(client.open(urlWithPorts(address, raw.port()), protocols, options), WsError());
    QTRY_VERIFY(raw.hasRequest());

    const RawRequest &request = raw.last().request;
    QByteArrayList lines = {request.requestLine};
    for (const QByteArray &field : request.fields) {
        if (!field.startsWith("Sec-WebSocket-Key: ")) {
            lines.append(field);
            continue;
        }
        // A fresh key: the base64 of 16 bytes.
        const QByteArray key = field.mid(19);
        QCOMPARE(key.size(), 24);
        QCOMPARE(QByteArray::fromBase64(key, QByteArray::AbortOnBase64DecodingErrors).size(), 16);
        lines.append("Sec-WebSocket-Key: <key>");
    }
    for (QByteArray &line : expected)
        line.replace("PORT", QByteArray::number(raw.port()));
    QCOMPARE(lines, expected);
    QVERIFY(raw.last().head.endsWith("\r\n\r\n"));
}

void tst_WsSocket::hostHeaderOmitsDefaultPort_data()
{
    QTest::addColumn<QString>("address");
    QTest::newRow("no port") << QStringLiteral("ws://127.0.0.1/");
    QTest::newRow("port 80") << QStringLiteral("ws://127.0.0.1:80/");
    QTest::newRow("http, port 80") << QStringLiteral("http://127.0.0.1:80/");
}

void tst_WsSocket::hostHeaderOmitsDefaultPort()
{
    QFETCH(QString, address);

    RawServer raw(80);
    if (!raw.isListening())
        QSKIP("port 80 cannot be bound here");
    WsSocket client;
    QCOMPARE(client.open(QUrl(address)), WsError());
    QTRY_VERIFY(raw.hasRequest());
    QCOMPARE(raw.last().request.value("Host"), QByteArray("127.0.0.1"));
}

void tst_WsSocket::unixSocket_data()
{
    QTest::addColumn<QString>("suffix");
    QTest::addColumn<QByteArray>("expectedTarget");
    QTest::newRow("request path and query") << QStringLiteral(":/chat?x=1") << QByteArray("/chat?x=1");
    QTest::newRow("no request path") << QString() << QByteArray("/");
}

void tst_WsSocket::unixSocket()
{
    QFETCH(QString, suffix);
    QFETCH(QByteArray, expectedTarget);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("ws.sock"));
    RawServer raw;
    QVERIFY(raw.listenLocal(path));
    raw.setResponder(scripted(kUpgrade + "\r\n" + wireFrame(0x81, "over a local socket")));

    WsSocket client;
    EventLog log(&client);
    QVERIFY(openAndWait(client, QUrl(QLatin1String("ws+unix://") + path + suffix)));
    const RawRequest &request = raw.last().request;
    QCOMPARE(request.requestLine, "GET " + expectedTarget + " HTTP/1.1");
    QCOMPARE(request.value("Host"), QByteArray("localhost"));
    QTRY_COMPARE(log.messages, QByteArrayList{"over a local socket"});

    QCOMPARE(client.sendText(QStringLiteral("back")), WsError());
    QTRY_COMPARE(raw.last().frames().size(), 1);
    QCOMPARE(raw.last().frames().first().payload, QByteArray("back"));
}

void tst_WsSocket::handshakeAccepted_data()
{
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QString>("expectedProtocol");
    QTest::addColumn<QString>("expectedExtensions");
    QTest::addColumn<QByteArrayList>("expectedMessages");

    QTest::newRow("plain") << QStringList() << kUpgrade + "\r\n" << QString() << QString() << QByteArrayList();
    QTest::newRow("other spellings")
            << QStringList()
            << QByteArray("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                          "sec-websocket-accept: {accept}\r\n\r\n")
            << QString() << QString() << QByteArrayList();
    QTest::newRow("subprotocol") << QStringList{QStringLiteral("a"), QStringLiteral("b")}
                                 << kUpgrade + "Sec-WebSocket-Protocol: b\r\n\r\n" << QStringLiteral("b") << QString()
                                 << QByteArrayList();
    QTest::newRow("permessage-deflate") << QStringList() << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
                                        << QString() << QStringLiteral("permessage-deflate") << QByteArrayList();
    QTest::newRow("permessage-deflate with parameters")
            << QStringList()
            << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\n\r\n"
            << QString() << QStringLiteral("permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
            << QByteArrayList();
    QTest::newRow("frames with the response")
            << QStringList() << kUpgrade + "\r\n" + wireFrame(0x81, "first") + wireFrame(0x82, "second") << QString()
            << QString() << QByteArrayList{"first", "second"};
}

void tst_WsSocket::handshakeAccepted()
{
    QFETCH(QStringList, protocols);
    QFETCH(QByteArray, response);
    QFETCH(QString, expectedProtocol);
    QFETCH(QString, expectedExtensions);
    QFETCH(QByteArrayList, expectedMessages);

    RawServer raw;
    raw.setResponder(scripted(response));
    WsSocket client;
    EventLog log(&client);
    QVERIFY(openAndWait(client, raw.url(), {}, protocols));
    QCOMPARE(client.protocol(), expectedProtocol);
    QCOMPARE(client.extensions(), expectedExtensions);
    QTRY_COMPARE(log.messages, expectedMessages);
    QCOMPARE(log.lines.mid(0, 4), kOpenedLines);
}

void tst_WsSocket::upgradedResponse()
{
    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    QList<WsHttpResponse> responses;
    QList<WsSocket::ReadyState> states;
    connect(&client, &WsSocket::upgraded, &client, [&](const WsHttpResponse &response) {
        responses.append(response);
        states.append(client.readyState());
    });
    QVERIFY(openOnRaw(raw, client, kUpgrade + "Set-Cookie: a=1\r\nSet-Cookie: b=2; Path=/\r\nX-Server: raw\r\n\r\n"));

    QCOMPARE(responses.size(), 1);
    const WsHttpResponse &response = responses.first();
    QCOMPARE(response.statusCode, 101);
    QCOMPARE(response.reasonPhrase, QByteArray("Switching Protocols"));
    QCOMPARE(response.version, QByteArray("HTTP/1.1"));
    QCOMPARE(response.headers.values("set-cookie"), (QList<QByteArray>{"a=1", "b=2; Path=/"}));
    QCOMPARE(response.headers.value("X-Server"), QByteArray("raw"));
    QCOMPARE(response.headers.value("Sec-WebSocket-Accept"), acceptKey(raw.last().request.value("Sec-WebSocket-Key")));
    QVERIFY(response.body.isEmpty());
    // Emitted before the response is checked, while still connecting.
    QCOMPARE(states, QList<WsSocket::ReadyState>{WsSocket::Connecting});
    QCOMPARE(log.lines, kOpenedLines);
}

void tst_WsSocket::handshakeFailed_data()
{
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("closeAfterReply");
    QTest::addColumn<WsError>("expected");   // an empty message: any message

    const auto failed = [](const char *message) { return WsError(WsError::HandshakeFailed, QLatin1String(message)); };
    const auto unexpected = [](int status) {
        return WsError(WsError::UnexpectedResponse, QStringLiteral("Unexpected server response: %1").arg(status));
    };
    const QStringList none;
    const QStringList a = {QStringLiteral("a")};
    const WsClientOptions defaults;

    QTest::newRow("wrong accept")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            << false << failed("Invalid Sec-WebSocket-Accept header");
    QTest::newRow("no accept")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            << false << failed("Invalid Sec-WebSocket-Accept header");
    QTest::newRow("Upgrade: foo")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: {accept}\r\n\r\n")
            << false << failed("Invalid Upgrade header");
    QTest::newRow("subprotocol not requested") << none << defaults << kUpgrade + "Sec-WebSocket-Protocol: a\r\n\r\n"
                                               << false << failed("Server sent a subprotocol but none was requested");
    QTest::newRow("other subprotocol") << a << defaults << kUpgrade + "Sec-WebSocket-Protocol: b\r\n\r\n" << false
                                       << failed("Server sent an invalid subprotocol");
    QTest::newRow("empty subprotocol") << a << defaults << kUpgrade + "Sec-WebSocket-Protocol: \r\n\r\n" << false
                                       << failed("Server sent an invalid subprotocol");
    QTest::newRow("no subprotocol") << a << defaults << kUpgrade + "\r\n" << false
                                    << failed("Server sent no subprotocol");
    QTest::newRow("extension not offered")
            << none << withoutDeflate() << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n" << false
            << failed("Server sent a Sec-WebSocket-Extensions header but no extension was requested");
    QTest::newRow("unknown extension") << none << defaults << kUpgrade + "Sec-WebSocket-Extensions: foo\r\n\r\n"
                                       << false << failed("Server indicated an extension that was not requested");
    QTest::newRow("an extension more")
            << none << defaults << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate, foo\r\n\r\n" << false
            << failed("Server indicated an extension that was not requested");
    QTest::newRow("window bits 7")
            << none << defaults
            << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=7\r\n\r\n" << false
            << failed("Invalid Sec-WebSocket-Extensions header");
    // A server may add client_no_context_takeover unasked (RFC 7692 §7.1.1.1),
    // and ws accepts it with default options: not a failure.
    QTest::newRow("unparsable extensions") << none << defaults
                                           << kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate;\r\n\r\n"
                                           << false << failed("Invalid Sec-WebSocket-Extensions header");
    QTest::newRow("101 without Connection")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
            << false << unexpected(101);
    QTest::newRow("101 without Upgrade")
            << none << defaults
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
            << false << unexpected(101);
    QTest::newRow("401") << none << defaults
                         << QByteArray("HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\nUnauthorized") << false
                         << unexpected(401);
    QTest::newRow("200") << none << defaults << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") << true
                         << unexpected(200);
    QTest::newRow("302, redirects off") << none << defaults << redirectResponse(302, "/elsewhere") << false
                                        << unexpected(302);
    QTest::newRow("302 without Location")
            << none << clientOptions([](WsClientOptions &o) { o.followRedirects = true; })
            << QByteArray("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n") << false << unexpected(302);
    QTest::newRow("head cut short") << none << defaults
                                    << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n") << true
                                    << WsError(WsError::ConnectionError, QStringLiteral("socket hang up"));
    QTest::newRow("closed without answer") << none << defaults << QByteArray() << true
                                           << WsError(WsError::ConnectionError, QStringLiteral("socket hang up"));
    QTest::newRow("not HTTP") << none << defaults << QByteArray("SSH-2.0-OpenSSH_9.6\r\n\r\n") << false
                              << WsError(WsError::HandshakeFailed, QString());
    // No end of head in sight: refused at the parser's limit, not read forever.
    QTest::newRow("oversized head") << none << defaults
                                    << "HTTP/1.1 101 Switching Protocols\r\nX-Big: " + QByteArray(70000, 'a') << false
                                    << failed("Parse Error: Header overflow");
}

void tst_WsSocket::handshakeFailed()
{
    QFETCH(QStringList, protocols);
    QFETCH(WsClientOptions, options);
    QFETCH(QByteArray, response);
    QFETCH(bool, closeAfterReply);
    QFETCH(WsError, expected);

    RawServer raw;
    raw.setResponder(scripted(response));
    raw.setCloseAfterReply(closeAfterReply);
    WsSocket client;
    EventLog log(&client);
    QCOMPARE(client.open(raw.url(), protocols, options), WsError());
    QTRY_VERIFY(!log.closes.isEmpty() || client.readyState() == WsSocket::Open);
    QCOMPARE(log.closes.size(), 1);
    QCOMPARE(log.errors.size(), 1);
    const WsError error = log.errors.first();
    QCOMPARE(error.code(), expected.code());
    if (!expected.message().isEmpty())
        QCOMPARE(error.message(), expected.message());
    QVERIFY(!error.message().isEmpty());
    QCOMPARE(error.closeCode(), 0);

    // ws: CLOSING at once, then the error and the close on a later turn. As
    // in Node, only a 101 with Upgrade and Connection: upgrade is an upgrade.
    const RawRequest head = RawRequest::parse(response);
    const bool upgraded = head.requestLine.startsWith("HTTP/1.1 101") && !head.value("Upgrade").isEmpty()
            && head.value("Connection").toLower().contains("upgrade");
    QStringList expectedLines = {QStringLiteral("state Connecting")};
    if (upgraded)
        expectedLines.append(QStringLiteral("upgraded 101"));
    expectedLines += {QStringLiteral("state Closing"), QLatin1String("error ") + error.codeName(),
                      QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")};
    QCOMPARE(log.lines, expectedLines);
    QCOMPARE(client.readyState(), WsSocket::Closed);
}

void tst_WsSocket::unexpectedResponse_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("closeAfterReply");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QByteArray>("headerName");
    QTest::addColumn<QByteArray>("headerValue");
    QTest::addColumn<QByteArray>("body");   // read with handleUnexpectedResponse

    QTest::newRow("401 with a Content-Length body")
            << QByteArray("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"wsqt\"\r\n"
                          "Content-Length: 12\r\n\r\nUnauthorized")
            << false << 401 << QByteArray("Unauthorized") << QByteArray("www-authenticate")
            << QByteArray("Basic realm=\"wsqt\"") << QByteArray("Unauthorized");
    QTest::newRow("bytes past Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA") << false << 200 << QByteArray("OK")
            << QByteArray("Content-Length") << QByteArray("2") << QByteArray("ok");
    QTest::newRow("chunked body on a kept-alive connection")
            << QByteArray("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nno \r\n6\r\naccess\r\n0\r\n\r\n")
            << false << 403 << QByteArray("Forbidden") << QByteArray("Transfer-Encoding")
            << QByteArray("chunked") << QByteArray("no access");
    QTest::newRow("204 has no body whatever follows")
            << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << false << 204 << QByteArray("No Content")
            << QByteArray("Content-Length") << QByteArray() << QByteArray();
    QTest::newRow("body up to the end of the connection")
            << QByteArray("HTTP/1.1 403 Forbidden\r\nX-Reason: nope\r\n\r\nno access") << true << 403
            << QByteArray("Forbidden") << QByteArray("X-Reason") << QByteArray("nope") << QByteArray("no access");
    QTest::newRow("no body") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") << false << 404
                             << QByteArray("Not Found") << QByteArray("Content-Length") << QByteArray("0")
                             << QByteArray();
    QTest::newRow("redirect not followed") << redirectResponse(302, "/elsewhere") << false << 302
                                           << QByteArray("Redirect") << QByteArray("Location")
                                           << QByteArray("/elsewhere") << QByteArray();
}

void tst_WsSocket::unexpectedResponse()
{
    QFETCH(QByteArray, response);
    QFETCH(bool, closeAfterReply);
    QFETCH(int, status);
    QFETCH(QByteArray, reason);
    QFETCH(QByteArray, headerName);
    QFETCH(QByteArray, headerValue);
    QFETCH(QByteArray, body);

    for (const bool handled : {false, true}) {
        RawServer raw;
        raw.setResponder(scripted(response));
        raw.setCloseAfterReply(closeAfterReply);
        WsSocket client;
        EventLog log(&client);
        QList<WsHttpResponse> responses;
        connect(&client, &WsSocket::unexpectedResponse, &client,
                [&](const WsHttpResponse &response) { responses.append(response); });
        WsClientOptions options;
        options.handleUnexpectedResponse = handled;

        QCOMPARE(client.open(raw.url(), {}, options), WsError());
        QTRY_COMPARE(log.closes.size(), 1);
        QCOMPARE(responses.size(), 1);
        const WsHttpResponse &got = responses.first();
        QCOMPARE(got.statusCode, status);
        QCOMPARE(got.reasonPhrase, reason);
        QCOMPARE(got.headers.value(headerName), headerValue);
        if (handled) {
            QCOMPARE(got.body, body);
            // The application took the response: no error; the connection is then closed.
            QCOMPARE(log.lines, (QStringList{QStringLiteral("state Connecting"), QStringLiteral("state Closing"),
                                             QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")}));
        } else {
            // The receiver changes nothing: ws's error without a listener.
            QCOMPARE(log.errors, (QList<WsError>{WsError(WsError::UnexpectedResponse,
                                                         QStringLiteral("Unexpected server response: %1").arg(status))}));
        }
    }
}

void tst_WsSocket::handshakeTimeout_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::newRow("silent server") << QByteArray();
    QTest::newRow("head never finished") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
}

void tst_WsSocket::handshakeTimeout()
{
    QFETCH(QByteArray, response);
    constexpr int timeoutMs = 300;

    RawServer raw;
    raw.setResponder(scripted(response));
    WsSocket client;
    EventLog log(&client);
    WsClientOptions options;
    options.handshakeTimeout = timeoutMs;
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(client.open(raw.url(), {}, options), WsError());
    QTRY_COMPARE_WITH_TIMEOUT(log.closes.size(), 1, 10 * timeoutMs);
    const qint64 elapsed = timer.elapsed();
    QVERIFY2(elapsed >= timeoutMs * 9 / 10, qPrintable(QString::number(elapsed)));

    QCOMPARE(log.errors, (QList<WsError>{WsError(WsError::HandshakeTimeout,
                                                 QStringLiteral("Opening handshake has timed out"))}));
    QCOMPARE(log.lines, (QStringList{QStringLiteral("state Connecting"), QStringLiteral("state Closing"),
                                     QStringLiteral("error WSQT_ERR_HANDSHAKE_TIMEOUT"), QStringLiteral("state Closed"),
                                     QStringLiteral("closed 1006 \"\"")}));
    // The connection attempt was given up.
    QTRY_VERIFY(raw.last().disconnected);
}

void tst_WsSocket::connectionRefused()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress(QHostAddress::LocalHost)));
        port = probe.serverPort();
    }
    WsSocket client;
    EventLog log(&client);
    QCOMPARE(client.open(urlWithPorts("ws://127.0.0.1:PORT/", port)), WsError());
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.errors.size(), 1);
    QCOMPARE(log.errors.first().code(), WsError::ConnectionError);
    QVERIFY(!log.errors.first().message().isEmpty());
    QCOMPARE(log.lines, (QStringList{QStringLiteral("state Connecting"), QStringLiteral("state Closing"),
                                     QStringLiteral("error WSQT_ERR_CONNECTION"), QStringLiteral("state Closed"),
                                     QStringLiteral("closed 1006 \"\"")}));
}

void tst_WsSocket::subprotocol_data()
{
    QTest::addColumn<QStringList>("protocols");
    QTest::addColumn<QString>("serverChoice");   // empty: the server's default (the first)
    QTest::addColumn<QString>("expected");

    const QStringList two = {QStringLiteral("chat"), QStringLiteral("superchat")};
    QTest::newRow("none") << QStringList() << QString() << QString();
    QTest::newRow("the first by default") << two << QString() << QStringLiteral("chat");
    QTest::newRow("chosen by the server") << two << QStringLiteral("superchat") << QStringLiteral("superchat");
}

void tst_WsSocket::subprotocol()
{
    QFETCH(QStringList, protocols);
    QFETCH(QString, serverChoice);
    QFETCH(QString, expected);

    WsServerOptions serverOptions;
    if (!serverChoice.isEmpty())
        serverOptions.handleProtocols = [serverChoice](const QStringList &, const WsHttpRequest &) {
            return serverChoice;
        };
    ServerPeer peer(ServerPeer::Silent, serverOptions);
    WsSocket client;
    QVERIFY(connectTo(peer, client, {}, protocols));
    QCOMPARE(client.protocol(), expected);
    QCOMPARE(peer.socket()->protocol(), expected);
}

// ---- redirects ----------------------------------------------------------------

void tst_WsSocket::redirectFollowed_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("location");      // PORT: the redirecting server, PEERPORT: a WsServer
    QTest::addColumn<QByteArray>("expectedUrl");
    QTest::addColumn<QByteArray>("expectedTarget");
    QTest::addColumn<bool>("toPeer");

    QTest::newRow("302 to an absolute path") << 302 << QByteArray("/other?y=2")
                                             << QByteArray("ws://127.0.0.1:PORT/other?y=2") << QByteArray("/other?y=2")
                                             << false;
    QTest::newRow("301 to a relative path") << 301 << QByteArray("next") << QByteArray("ws://127.0.0.1:PORT/dir/next")
                                            << QByteArray("/dir/next") << false;
    QTest::newRow("303 with dot segments") << 303 << QByteArray("../up") << QByteArray("ws://127.0.0.1:PORT/up")
                                           << QByteArray("/up") << false;
    QTest::newRow("307 scheme-relative") << 307 << QByteArray("//127.0.0.1:PEERPORT/final")
                                         << QByteArray("ws://127.0.0.1:PEERPORT/final") << QByteArray("/final") << true;
    QTest::newRow("308 absolute ws") << 308 << QByteArray("ws://127.0.0.1:PEERPORT/final?z=1")
                                     << QByteArray("ws://127.0.0.1:PEERPORT/final?z=1") << QByteArray("/final?z=1")
                                     << true;
    QTest::newRow("302 absolute http") << 302 << QByteArray("http://127.0.0.1:PEERPORT/h")
                                       << QByteArray("ws://127.0.0.1:PEERPORT/h") << QByteArray("/h") << true;
}

void tst_WsSocket::redirectFollowed()
{
    QFETCH(int, status);
    QFETCH(QByteArray, location);
    QFETCH(QByteArray, expectedUrl);
    QFETCH(QByteArray, expectedTarget);
    QFETCH(bool, toPeer);

    ServerPeer peer(ServerPeer::Echo);
    RawServer raw;
    const QByteArray redirect = redirectResponse(status, withPorts(location, raw.port(), peer.port()));
    const auto upgrade = scripted(kUpgrade + "\r\n");
    raw.setResponder([&](const RawRequest &request) {
        return request.path() == "/dir/start" ? redirect : upgrade(request);
    });
    WsSocket client;
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);
    WsClientOptions options;
    options.followRedirects = true;

    QVERIFY(openAndWait(client, raw.url("/dir/start?x=1"), options));
    const QUrl expected = urlWithPorts(expectedUrl, raw.port(), peer.port());
    QCOMPARE(client.url(), expected);
    QCOMPARE(urls.size(), 2);
    QCOMPARE(urls.at(0).first().toUrl(), raw.url("/dir/start?x=1"));
    QCOMPARE(urls.at(1).first().toUrl(), expected);
    QCOMPARE(log.lines, kOpenedLines);
    if (toPeer) {
        QCOMPARE(raw.count(), 1);
        QCOMPARE(peer.requests().size(), 1);
        QCOMPARE(peer.requests().first().target, expectedTarget);
        QCOMPARE(client.sendText(QStringLiteral("through")), WsError());
        QTRY_COMPARE(log.messages, QByteArrayList{"through"});
    } else {
        QCOMPARE(raw.count(), 2);
        QCOMPARE(raw.last().request.target(), expectedTarget);
    }
}

void tst_WsSocket::redirectFails_data()
{
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<int>("maxRedirects");
    QTest::addColumn<WsError>("expected");
    QTest::addColumn<int>("connections");

    const WsError tooMany(WsError::TooManyRedirects, QStringLiteral("Maximum redirects exceeded"));
    QTest::newRow("loop, maxRedirects 0") << QByteArray("/loop") << 0 << tooMany << 1;
    QTest::newRow("loop, maxRedirects 1") << QByteArray("/loop") << 1 << tooMany << 2;
    QTest::newRow("loop, maxRedirects 3") << QByteArray("/loop") << 3 << tooMany << 4;
    QTest::newRow("to ftp") << QByteArray("ftp://127.0.0.1/x") << 10
                            << WsError(WsError::InvalidUrl,
                                       QStringLiteral("The URL's protocol must be one of \"ws:\", \"wss:\", \"http:\", "
                                                      "\"https:\", or \"ws+unix:\""))
                            << 1;
    QTest::newRow("with a fragment") << QByteArray("/x#frag") << 10
                                     << WsError(WsError::InvalidUrl,
                                                QStringLiteral("The URL contains a fragment identifier"))
                                     << 1;
    QTest::newRow("malformed") << QByteArray("http://[::1") << 10
                               << WsError(WsError::InvalidUrl, QStringLiteral("Invalid URL: http://[::1")) << 1;
}

void tst_WsSocket::redirectFails()
{
    QFETCH(QByteArray, location);
    QFETCH(int, maxRedirects);
    QFETCH(WsError, expected);
    QFETCH(int, connections);

    RawServer raw;
    raw.setResponder([&](const RawRequest &) { return redirectResponse(302, location); });
    WsSocket client;
    EventLog log(&client);
    QSignalSpy urls(&client, &WsSocket::urlChanged);
    WsClientOptions options;
    options.followRedirects = true;
    options.maxRedirects = maxRedirects;

    QCOMPARE(client.open(raw.url("/start"), {}, options), WsError());
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.errors, QList<WsError>{expected});
    QCOMPARE(raw.count(), connections);
    QCOMPARE(urls.size(), connections);
    QCOMPARE(log.lines.mid(1), (QStringList{QStringLiteral("state Closing"), QLatin1String("error ") + expected.codeName(),
                                            QStringLiteral("state Closed"), QStringLiteral("closed 1006 \"\"")}));
}

void tst_WsSocket::redirectCredentials_data()
{
    QTest::addColumn<QByteArray>("target");     // PORT: the first server, PEERPORT: a second one
    // 0: no handleRedirect, 1: one that looks, 2: one that edits, 3: none but
    // a redirected() receiver, which changes nothing
    QTest::addColumn<int>("handler");
    QTest::addColumn<bool>("credentialsKept");

    QTest::newRow("same host and port") << QByteArray("ws://127.0.0.1:PORT/final") << 0 << true;
    QTest::newRow("other port") << QByteArray("ws://127.0.0.1:PEERPORT/final") << 0 << false;
    QTest::newRow("other host name") << QByteArray("ws://localhost:PORT/final") << 0 << false;
    QTest::newRow("same host, handler") << QByteArray("ws://127.0.0.1:PORT/final") << 1 << true;
    QTest::newRow("other port, handler") << QByteArray("ws://127.0.0.1:PEERPORT/final") << 1 << true;
    QTest::newRow("other host name, handler edits") << QByteArray("ws://localhost:PORT/final") << 2 << true;
    QTest::newRow("other port, redirected() receiver") << QByteArray("ws://127.0.0.1:PEERPORT/final") << 3 << false;
}

void tst_WsSocket::redirectCredentials()
{
    QFETCH(QByteArray, target);
    QFETCH(int, handler);
    QFETCH(bool, credentialsKept);

    RawServer first;
    RawServer other;
    target = withPorts(target, first.port(), other.port());
    const auto upgrade = scripted(kUpgrade + "\r\n");
    first.setResponder([&](const RawRequest &request) {
        return request.path() == "/start" ? redirectResponse(302, target) : upgrade(request);
    });
    other.setResponder(upgrade);

    WsSocket client;
    QList<QPair<QUrl, WsHttpRequest>> seenByHandler;
    QList<QPair<QUrl, WsHttpRequest>> reported;
    connect(&client, &WsSocket::redirected, &client,
            [&](const QUrl &url, const WsHttpRequest &request) { reported.append({url, request}); });
    WsClientOptions options;
    if (handler == 1 || handler == 2) {
        options.handleRedirect = [&](const QUrl &url, WsHttpRequest &request) {
            seenByHandler.append({url, request});
            if (handler == 2) {
                request.headers.remove("Cookie");
                request.headers.append("X-Edited", "1");
            }
        };
    }
    options.followRedirects = true;
    options.headers.append("Cookie", "c=1");
    options.headers.append("X-Keep", "k");
    QVERIFY(openAndWait(client, urlWithPorts("ws://user:pass@127.0.0.1:PORT/start", first.port()), options));

    const RawRequest &start = first.at(0).request;
    QCOMPARE(start.value("Authorization"), QByteArray("Basic dXNlcjpwYXNz"));
    QCOMPARE(start.value("Cookie"), QByteArray("c=1"));

    RawServer &finalServer = other.count() > 0 ? other : first;
    QVERIFY(finalServer.hasRequest());
    const RawRequest &last = finalServer.last().request;
    QCOMPARE(last.target(), QByteArray("/final"));
    QCOMPARE(last.value("Host"), QUrl::fromEncoded(target).authority().toLatin1());
    QCOMPARE(last.value("X-Keep"), QByteArray("k"));
    QCOMPARE(last.value("Authorization"), credentialsKept ? QByteArray("Basic dXNlcjpwYXNz") : QByteArray());
    QCOMPARE(last.value("Cookie"), credentialsKept && handler != 2 ? QByteArray("c=1") : QByteArray());
    QCOMPARE(last.value("X-Edited"), handler == 2 ? QByteArray("1") : QByteArray());
    QCOMPARE(client.url(), QUrl::fromEncoded(target));

    QCOMPARE(seenByHandler.size(), handler == 1 || handler == 2 ? 1 : 0);
    if (!seenByHandler.isEmpty()) {
        QCOMPARE(seenByHandler.first().first, QUrl::fromEncoded(target));
        const WsHttpRequest &seen = seenByHandler.first().second;
        QCOMPARE(seen.method, QByteArray("GET"));
        QCOMPARE(seen.target, QByteArray("/final"));
        QCOMPARE(seen.headers.value("Authorization"), QByteArray("Basic dXNlcjpwYXNz"));
        QCOMPARE(seen.headers.value("Cookie"), QByteArray("c=1"));
    }
    // The notification reports the request as sent.
    QCOMPARE(reported.size(), 1);
    QCOMPARE(reported.first().first, QUrl::fromEncoded(target));
    QCOMPARE(reported.first().second.headers.value("Authorization"), last.value("Authorization"));
    QCOMPARE(reported.first().second.headers.value("Cookie"), last.value("Cookie"));
}

// ---- messages -----------------------------------------------------------------

void tst_WsSocket::roundTrip_data()
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

void tst_WsSocket::roundTrip()
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

void tst_WsSocket::sendKinds_data()
{
    QTest::addColumn<int>("kind");   // the call, as numbered in sendKinds()
    QTest::addColumn<bool>("expectedBinary");

    QTest::newRow("send()") << 0 << true;
    QTest::newRow("send(), binary = false") << 1 << false;
    QTest::newRow("send(), binary = true") << 2 << true;
    QTest::newRow("sendText()") << 3 << false;
    QTest::newRow("sendBinary()") << 4 << true;
}

void tst_WsSocket::sendKinds()
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

void tst_WsSocket::sendCallback()
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

void tst_WsSocket::callbackWithContext()
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

void tst_WsSocket::callbackAfterUnwatchedWrites()
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

void tst_WsSocket::bufferedAmount_data()
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

void tst_WsSocket::bufferedAmount()
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

void tst_WsSocket::sendNotOpen_data()
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

void tst_WsSocket::sendNotOpen()
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

void tst_WsSocket::sendFragments_data()
{
    QTest::addColumn<bool>("binary");
    QTest::newRow("binary") << true;
    QTest::newRow("text") << false;
}

void tst_WsSocket::sendFragments()
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

void tst_WsSocket::sendFragmentsArriveAsOneMessage()
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

void tst_WsSocket::frameMasking_data()
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

void tst_WsSocket::frameMasking()
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

void tst_WsSocket::unmaskedFrameRefusedByServer()
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

void tst_WsSocket::receiveFragments_data()
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

void tst_WsSocket::receiveFragments()
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

void tst_WsSocket::switchBinaryType()
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

// ---- control frames -----------------------------------------------------------

void tst_WsSocket::pingPong_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("text") << QByteArray("hi");
    QTest::newRow("binary") << QByteArray("\x00\xff\x80", 3);
    QTest::newRow("125 bytes") << pattern(125);
}

void tst_WsSocket::pingPong()
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

void tst_WsSocket::autoPongOff()
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

void tst_WsSocket::controlPayloadTooLong_data()
{
    QTest::addColumn<Call>("which");
    QTest::newRow("ping") << Call::Ping;
    QTest::newRow("pong") << Call::Pong;
}

void tst_WsSocket::controlPayloadTooLong()
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

void tst_WsSocket::closeHandshake_data()
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

void tst_WsSocket::closeHandshake()
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

void tst_WsSocket::closeByName()
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

void tst_WsSocket::closeRefused_data()
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

void tst_WsSocket::closeRefused()
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

void tst_WsSocket::closeTwice()
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

void tst_WsSocket::closeDuringHandshake_data()
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

void tst_WsSocket::closeDuringHandshake()
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

void tst_WsSocket::terminate_data()
{
    QTest::addColumn<bool>("closeFirst");
    QTest::newRow("open") << false;
    QTest::newRow("closing") << true;
}

void tst_WsSocket::terminate()
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

void tst_WsSocket::closeTimeout()
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

void tst_WsSocket::peerEndsWithoutCloseFrame()
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

// ---- errors from the peer -----------------------------------------------------

void tst_WsSocket::protocolError_data()
{
    QTest::addColumn<QByteArray>("extensions");   // the response's Sec-WebSocket-Extensions, if any
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QByteArray>("frames");
    QTest::addColumn<int>("delivered");
    QTest::addColumn<WsError>("expected");       // an empty message: any message

    const auto frameError = [](WsError::Code code, const char *what, int closeCode = 1002) {
        return WsError(code, QLatin1String("Invalid WebSocket frame: ") + QLatin1String(what), closeCode);
    };
    const WsClientOptions defaults;
    const QByteArray none;
    const QByteArray deflate = "permessage-deflate";
    const auto maxPayload = [](qint64 limit) {
        return clientOptions([=](WsClientOptions &o) { o.maxPayload = limit; });
    };
    const WsError tooBig(WsError::UnsupportedMessageLength, QStringLiteral("Max payload size exceeded"), 1009);

    QTest::newRow("opcode 5") << none << defaults << hex("85 00") << 0
                              << frameError(WsError::InvalidOpcode, "invalid opcode 5");
    QTest::newRow("opcode 11") << none << defaults << hex("8b 00") << 0
                               << frameError(WsError::InvalidOpcode, "invalid opcode 11");
    QTest::newRow("continuation of nothing") << none << defaults << wireFrame(0x80, "a") << 0
                                             << frameError(WsError::InvalidOpcode, "invalid opcode 0");
    QTest::newRow("message inside a message") << none << defaults << wireFrame(0x01, "a") + wireFrame(0x81, "b") << 0
                                              << frameError(WsError::InvalidOpcode, "invalid opcode 1");
    QTest::newRow("RSV2") << none << defaults << wireFrame(0xa1, "a") << 0
                          << frameError(WsError::UnexpectedRsv23, "RSV2 and RSV3 must be clear");
    QTest::newRow("RSV1 without permessage-deflate") << none << defaults << wireFrame(0xc1, "a") << 0
                                                     << frameError(WsError::UnexpectedRsv1, "RSV1 must be clear");
    QTest::newRow("masked frame") << none << defaults << wireFrame(0x81, "hello", hex("01 02 03 04")) << 0
                                  << frameError(WsError::UnexpectedMask, "MASK must be clear");
    QTest::newRow("ping without FIN") << none << defaults << wireFrame(0x09, {}) << 0
                                      << frameError(WsError::ExpectedFin, "FIN must be set");
    QTest::newRow("126-byte ping") << none << defaults << wireFrame(0x89, pattern(126)) << 0
                                   << frameError(WsError::InvalidControlPayloadLength, "invalid payload length 126");
    QTest::newRow("1-byte close") << none << defaults << hex("88 01 03") << 0
                                  << frameError(WsError::InvalidControlPayloadLength, "invalid payload length 1");
    QTest::newRow("close code 1005") << none << defaults << wireFrame(0x88, closePayload(1005)) << 0
                                     << frameError(WsError::InvalidCloseCode, "invalid status code 1005");
    QTest::newRow("close code 999") << none << defaults << wireFrame(0x88, closePayload(999)) << 0
                                    << frameError(WsError::InvalidCloseCode, "invalid status code 999");
    QTest::newRow("close reason not UTF-8") << none << defaults << wireFrame(0x88, closePayload(1000, hex("c0 af"))) << 0
                                            << frameError(WsError::InvalidUtf8, "invalid UTF-8 sequence", 1007);
    QTest::newRow("text not UTF-8") << none << defaults << wireFrame(0x81, hex("c0 af")) << 0
                                    << frameError(WsError::InvalidUtf8, "invalid UTF-8 sequence", 1007);
    QTest::newRow("text cut inside a character") << none << defaults << wireFrame(0x01, hex("e2")) + wireFrame(0x80, hex("82"))
                                                 << 0 << frameError(WsError::InvalidUtf8, "invalid UTF-8 sequence", 1007);
    const WsError tooLong(WsError::UnsupportedDataPayloadLength,
                          QStringLiteral("Unsupported WebSocket frame: payload length > 2^53 - 1"), 1009);
    QTest::newRow("length of 2^53") << none << defaults << hex("82 7f 00 20 00 00 00 00 00 00") << 0 << tooLong;
    QTest::newRow("length with the top bit") << none << defaults << hex("82 7f 80 00 00 00 00 00 00 00") << 0
                                             << tooLong;
    QTest::newRow("maxPayload") << none << maxPayload(10) << wireFrame(0x82, pattern(10)) + wireFrame(0x82, pattern(11)) << 1
                                << tooBig;
    QTest::newRow("maxPayload over fragments") << none << maxPayload(10)
                                               << wireFrame(0x02, pattern(6)) + wireFrame(0x80, pattern(5)) << 0 << tooBig;
    QTest::newRow("maxFragments")
            << none << clientOptions([](WsClientOptions &o) { o.maxFragments = 2; })
            << wireFrame(0x02, "a") + wireFrame(0x00, "b") + wireFrame(0x80, "c") << 0
            << WsError(WsError::TooManyBufferedParts, QStringLiteral("Too many message fragments"), 1008);
    QTest::newRow("RSV1 on a continuation") << deflate << defaults
                                            << wireFrame(0x41, hex("f2 48 cd 01 00 00 00 ff ff")) + wireFrame(0xc0, hex("ca c9 07 00"))
                                            << 0 << frameError(WsError::UnexpectedRsv1, "RSV1 must be clear");
    QTest::newRow("compressed ping") << deflate << defaults << wireFrame(0xc9, {}) << 0
                                     << frameError(WsError::UnexpectedRsv1, "RSV1 must be clear");
    QTest::newRow("corrupt compressed data") << deflate << defaults << wireFrame(0xc1, hex("ff ff ff ff")) << 0
                                             << WsError(WsError::InvalidCompressedData, QString(), 1007);
    QTest::newRow("inflated over maxPayload") << deflate << maxPayload(100)
                                              << wireFrame(0xc1, rawDeflate(QByteArray(1000, 'a'))) << 0 << tooBig;
}

void tst_WsSocket::protocolError()
{
    QFETCH(QByteArray, extensions);
    QFETCH(WsClientOptions, options);
    QFETCH(QByteArray, frames);
    QFETCH(int, delivered);
    QFETCH(WsError, expected);

    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    const QByteArray extensionLine =
            extensions.isEmpty() ? QByteArray() : "Sec-WebSocket-Extensions: " + extensions + "\r\n";
    const QByteArray response = kUpgrade + extensionLine + "\r\n";
    QVERIFY(openOnRaw(raw, client, response, options));
    raw.last().write(frames);

    QTRY_COMPARE(log.errors.size(), 1);
    const WsError error = log.errors.first();
    QCOMPARE(error.code(), expected.code());
    if (!expected.message().isEmpty())
        QCOMPARE(error.message(), expected.message());
    QVERIFY(!error.message().isEmpty());
    QCOMPARE(error.closeCode(), expected.closeCode());
    QCOMPARE(log.messages.size(), delivered);
    // ws: the socket is already CLOSING when the error is emitted.
    const QStringList tail = log.lines.mid(kOpenedLines.size() + delivered);
    QCOMPARE(tail.mid(0, 2), (QStringList{QStringLiteral("state Closing"), QLatin1String("error ") + error.codeName()}));

    // The peer gets a masked close frame with the code and no reason; then the client ends the connection.
    QTRY_VERIFY(raw.last().disconnected);
    const QList<Frame> sent = raw.last().frames();
    QCOMPARE(sent.size(), 1);
    QCOMPARE(sent.first().b0, quint8(0x88));
    QVERIFY(sent.first().masked);
    QCOMPARE(sent.first().payload, closePayload(expected.closeCode()));

    // No close frame was received: 1006 locally.
    QTRY_COMPARE(log.closes, (QList<QPair<int, QByteArray>>{closeArgs(1006)}));
    QCOMPARE(log.errors.size(), 1);
    QCOMPARE(log.lines.last(), QStringLiteral("closed 1006 \"\""));
}

void tst_WsSocket::skipUtf8Validation()
{
    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    WsClientOptions options;
    options.skipUTF8Validation = true;
    QVERIFY(openOnRaw(raw, client, {}, options));
    raw.last().write(wireFrame(0x81, hex("c0 af")) + wireFrame(0x88, closePayload(1000, hex("ff"))));
    QTRY_COMPARE(log.closes.size(), 1);
    QCOMPARE(log.messages, QByteArrayList{hex("c0 af")});
    QCOMPARE(log.binaryFlags, QList<bool>{false});
    QCOMPARE(log.closes.first(), closeArgs(1000, hex("ff")));
    QCOMPARE(log.errors.size(), 0);
}

// ---- flow control -------------------------------------------------------------

void tst_WsSocket::pauseResume()
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

void tst_WsSocket::pausedSocketSeesTheEnd_data()
{
    QTest::addColumn<bool>("serverPaused");
    QTest::newRow("client paused") << false;
    QTest::newRow("server paused") << true;
}

void tst_WsSocket::pausedSocketSeesTheEnd()
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

void tst_WsSocket::pauseIgnoredWhenNotOpen_data()
{
    QTest::addColumn<int>("state");
    QTest::newRow("never opened") << -1;
    QTest::newRow("connecting") << int(WsSocket::Connecting);
    QTest::newRow("closed") << int(WsSocket::Closed);
}

void tst_WsSocket::pauseIgnoredWhenNotOpen()
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

// ---- permessage-deflate -------------------------------------------------------

void tst_WsSocket::deflateNegotiation_data()
{
    QTest::addColumn<WsServerOptions>("serverOptions");
    QTest::addColumn<WsClientOptions>("options");
    QTest::addColumn<QString>("expected");

    const auto server = [](const std::function<void(WsDeflateOptions &)> &change) {
        WsServerOptions options;
        options.perMessageDeflate = WsDeflateOptions();
        if (change)
            change(*options.perMessageDeflate);
        return options;
    };
    const auto client = [](const std::function<void(WsDeflateOptions &)> &change) {
        return clientOptions([&](WsClientOptions &o) { change(*o.perMessageDeflate); });
    };
    QTest::newRow("defaults") << server({}) << WsClientOptions() << QStringLiteral("permessage-deflate");
    QTest::newRow("server without context takeover")
            << server([](WsDeflateOptions &d) { d.serverNoContextTakeover = true; }) << WsClientOptions()
            << QStringLiteral("permessage-deflate; server_no_context_takeover");
    QTest::newRow("client window set by the server")
            << server([](WsDeflateOptions &d) { d.clientMaxWindowBits = 10; }) << WsClientOptions()
            << QStringLiteral("permessage-deflate; client_max_window_bits=10");
    QTest::newRow("server window asked by the client")
            << server({}) << client([](WsDeflateOptions &d) { d.serverMaxWindowBits = 9; })
            << QStringLiteral("permessage-deflate; server_max_window_bits=9");
    QTest::newRow("client without context takeover")
            << server({}) << client([](WsDeflateOptions &d) { d.clientNoContextTakeover = true; })
            << QStringLiteral("permessage-deflate; client_no_context_takeover");
    QTest::newRow("off on the server") << WsServerOptions() << WsClientOptions() << QString();
    QTest::newRow("off on the client") << server({}) << withoutDeflate() << QString();
}

void tst_WsSocket::deflateNegotiation()
{
    QFETCH(WsServerOptions, serverOptions);
    QFETCH(WsClientOptions, options);
    QFETCH(QString, expected);

    ServerPeer peer(ServerPeer::Echo, serverOptions);
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client, options));
    QCOMPARE(client.extensions(), expected);
    QCOMPARE(peer.socket()->extensions(), expected);

    // Messages go through with the parameters agreed on.
    const QByteArrayList messages = {"short", textPattern(100 * 1024), textPattern(100 * 1024), pattern(3000)};
    for (const QByteArray &message : messages)
        QCOMPARE(client.send(message), WsError());
    QTRY_COMPARE(log.messages.size(), messages.size());
    QVERIFY(log.messages == messages);
    QCOMPARE(log.errors.size(), 0);
}

void tst_WsSocket::deflateRoundTrip_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("binary");
    QTest::addColumn<bool>("compress");

    QTest::newRow("short text") << QByteArray("Hello") << false << true;
    QTest::newRow("empty text") << QByteArray() << false << true;
    QTest::newRow("empty binary") << QByteArray() << true << true;
    QTest::newRow("1 MiB text") << textPattern(kMiB) << false << true;
    QTest::newRow("1 MiB random") << randomBytes(kMiB) << true << true;
    QTest::newRow("compress = false") << textPattern(64 * 1024) << false << false;
}

void tst_WsSocket::deflateRoundTrip()
{
    QFETCH(QByteArray, data);
    QFETCH(bool, binary);
    QFETCH(bool, compress);

    WsServerOptions serverOptions;
    serverOptions.perMessageDeflate = WsDeflateOptions();
    ServerPeer peer(ServerPeer::Echo, serverOptions);
    WsSocket client;
    EventLog log(&client);
    QVERIFY(connectTo(peer, client));
    QCOMPARE(client.extensions(), QStringLiteral("permessage-deflate"));
    EventLog serverLog(peer.socket());

    WsSendOptions options;
    options.binary = binary;
    options.compress = compress;
    bool written = false;
    QCOMPARE(client.send(data, options, [&](const WsError &error) { written = !error.isError(); }), WsError());
    QTRY_COMPARE_WITH_TIMEOUT(log.messages.size(), 1, kLongTimeoutMs);
    QVERIFY(written);
    QCOMPARE(serverLog.binaryFlags, QList<bool>{binary});
    QVERIFY(serverLog.messages.first() == data);
    QCOMPARE(log.binaryFlags, QList<bool>{binary});
    QCOMPARE(log.messages.first().size(), data.size());
    QVERIFY(log.messages.first() == data);
}

void tst_WsSocket::deflateWireBytes_data()
{
    QTest::addColumn<QList<Send>>("sends");
    QTest::addColumn<QByteArrayList>("expected");   // each frame's first byte and payload

    const Send hello{"Hello", true, true};
    QTest::newRow("Hello") << QList<Send>{hello} << QByteArrayList{hex("c1 f2 48 cd c9 c9 07 00")};
    QTest::newRow("Hello twice, context taken over")
            << QList<Send>{hello, hello}
            << QByteArrayList{hex("c1 f2 48 cd c9 c9 07 00"), hex("c1 f2 00 11 00 00")};
    QTest::newRow("not compressed") << QList<Send>{{"Hello", true, false}} << QByteArrayList{hex("81") + "Hello"};
    QTest::newRow("fragmented") << QList<Send>{{"Hel", false, true}, {"lo", true, true}}
                                << QByteArrayList{hex("41 f2 48 cd 01 00 00 00 ff ff"), hex("80 ca c9 07 00")};
    QTest::newRow("empty") << QList<Send>{{"", true, true}} << QByteArrayList{hex("c1 00")};
}

void tst_WsSocket::deflateWireBytes()
{
    QFETCH(QList<Send>, sends);
    QFETCH(QByteArrayList, expected);

    RawServer raw;
    WsSocket client;
    QVERIFY(openOnRaw(raw, client, kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
    QCOMPARE(client.extensions(), QStringLiteral("permessage-deflate"));
    for (const Send &send : sends) {
        WsSendOptions options;
        options.binary = false;
        options.fin = send.fin;
        options.compress = send.compress;
        QCOMPARE(client.send(send.data, options), WsError());
    }
    QTRY_COMPARE(raw.last().frames().size(), expected.size());
    QByteArrayList got;
    for (const Frame &f : raw.last().frames()) {
        QVERIFY(f.masked);
        got.append(firstByteAndPayload(f));
    }
    QCOMPARE(got, expected);
}

void tst_WsSocket::deflateInbound_data()
{
    QTest::addColumn<QByteArray>("frames");
    QTest::addColumn<QByteArrayList>("expected");
    QTest::addColumn<bool>("binary");

    const QByteArray hello = hex("f2 48 cd c9 c9 07 00");
    QTest::newRow("Hello") << wireFrame(0xc1, hello) << QByteArrayList{"Hello"} << false;
    QTest::newRow("Hello twice, context taken over") << wireFrame(0xc1, hello) + wireFrame(0xc1, hex("f2 00 11 00 00"))
                                                     << QByteArrayList{"Hello", "Hello"} << false;
    QTest::newRow("fragmented") << wireFrame(0x41, hex("f2 48 cd 01 00 00 00 ff ff")) + wireFrame(0x80, hex("ca c9 07 00"))
                                << QByteArrayList{"Hello"} << false;
    QTest::newRow("empty") << wireFrame(0xc1, hex("00")) << QByteArrayList{""} << false;
    QTest::newRow("binary") << wireFrame(0xc2, hello) << QByteArrayList{"Hello"} << true;
    QTest::newRow("uncompressed between compressed")
            << wireFrame(0xc1, hello) + wireFrame(0x81, "hi") + wireFrame(0xc1, hex("f2 00 11 00 00"))
            << QByteArrayList{"Hello", "hi", "Hello"} << false;
    // Each message a complete stream: the inflater starts over after its end.
    QTest::newRow("final blocks") << wireFrame(0xc1, rawDeflate("Hello")) + wireFrame(0xc1, rawDeflate("World"))
                                  << QByteArrayList{"Hello", "World"} << false;
    QTest::newRow("1 MiB") << wireFrame(0xc1, rawDeflate(textPattern(kMiB))) << QByteArrayList{textPattern(kMiB)} << false;
}

void tst_WsSocket::deflateInbound()
{
    QFETCH(QByteArray, frames);
    QFETCH(QByteArrayList, expected);
    QFETCH(bool, binary);

    RawServer raw;
    WsSocket client;
    EventLog log(&client);
    QVERIFY(openOnRaw(raw, client, kUpgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
    raw.last().write(frames);
    QTRY_VERIFY(log.messages.size() >= expected.size() || !log.closes.isEmpty());
    QCOMPARE(log.errors, QList<WsError>());
    QCOMPARE(log.messages.size(), expected.size());
    QVERIFY(log.messages == expected);
    QCOMPARE(log.binaryFlags, QList<bool>(expected.size(), binary));
}

QTEST_MAIN(tst_WsSocket)

#include "tst_wssocket.moc"
