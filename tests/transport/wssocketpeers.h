#pragma once

// Peers for the WsSocket tests: a raw server that answers each request head
// with bytes of the test's choosing and keeps what the client sends, a
// WsServer peer, a log of a socket's signals, a parser for the frames a raw
// peer receives, and the helpers that open a client on either peer.

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

inline char *toString(const WsError &error)
{
    return QTest::toString(QStringLiteral("%1 \"%2\" close %3")
                                   .arg(error.codeName(), error.message())
                                   .arg(error.closeCode()));
}

namespace wssocketpeers {

using wsqt::test::wireFrame;

inline const QByteArray kGuid = QByteArrayLiteral("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
// Megabytes over loopback: generous for a loaded CI machine.
inline constexpr int kLongTimeoutMs = 30000;
// How long the event loop runs to show that something does NOT happen.
inline constexpr int kQuietMs = 100;
inline constexpr qsizetype kMiB = 1024 * 1024;

// A successful upgrade response; {accept} is filled in from the request's key.
inline const QByteArray kUpgrade = QByteArrayLiteral("HTTP/1.1 101 Switching Protocols\r\n"
                                                     "Upgrade: websocket\r\n"
                                                     "Connection: Upgrade\r\n"
                                                     "Sec-WebSocket-Accept: {accept}\r\n");

inline QByteArray hex(const char *digits)
{
    return QByteArray::fromHex(QByteArray(digits));
}

inline QByteArray acceptKey(const QByteArray &key)
{
    return QCryptographicHash::hash(key + kGuid, QCryptographicHash::Sha1).toBase64();
}

inline QByteArray closePayload(int code, const QByteArray &reason = {})
{
    QByteArray payload;
    payload.append(char((code >> 8) & 0xff));
    payload.append(char(code & 0xff));
    return payload + reason;
}

// Binary data in which a lost, repeated or moved block shows.
inline QByteArray pattern(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char(i ^ (i >> 8) ^ (i >> 16));
    return data;
}

// ASCII text that compresses well and still shows a moved block.
inline QByteArray textPattern(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char('a' + ((i / 64) + (i >> 12)) % 26);
    return data;
}

inline QByteArray randomBytes(qsizetype size)
{
    QRandomGenerator generator(20240611);
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char(generator.bounded(256));
    return data;
}

// Raw DEFLATE data (RFC 1951) ending with a final block: qCompress's zlib
// stream without its length prefix, zlib header and checksum.
inline QByteArray rawDeflate(const QByteArray &data)
{
    const QByteArray zlib = qCompress(data);
    return zlib.mid(4 + 2, zlib.size() - 4 - 2 - 4);
}

// `text` with PORT and PEERPORT replaced by those port numbers.
inline QByteArray withPorts(QByteArray text, quint16 port, quint16 peerPort = 0)
{
    text.replace("PEERPORT", QByteArray::number(peerPort));
    return text.replace("PORT", QByteArray::number(port));
}

inline QUrl urlWithPorts(const QByteArray &text, quint16 port, quint16 peerPort = 0)
{
    return QUrl::fromEncoded(withPorts(text, port, peerPort));
}

template <typename Change>
inline WsClientOptions clientOptions(Change change)
{
    WsClientOptions options;
    change(options);
    return options;
}

inline WsClientOptions withoutDeflate()
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
inline QList<Frame> parseFrames(const QByteArray &bytes)
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
inline QByteArray firstByteAndPayload(const Frame &f)
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
inline RawServer::Responder scripted(const QByteArray &response)
{
    return [response](const RawRequest &request) {
        return QByteArray(response).replace("{accept}", acceptKey(request.value("Sec-WebSocket-Key")));
    };
}

inline QByteArray redirectResponse(int status, const QByteArray &location)
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

inline QPair<int, QByteArray> closeArgs(int code, const QByteArray &reason = {})
{
    return {code, reason};
}

// The lines of a client that opened: the start of every successful log.
inline const QStringList kOpenedLines = {QStringLiteral("state Connecting"), QStringLiteral("upgraded 101"),
                                         QStringLiteral("state Open"), QStringLiteral("opened")};

// Opens `client` and waits for opened(); false, with the reason logged, when it does not open.
inline bool openAndWait(WsSocket &client, const QUrl &url, const WsClientOptions &options = {},
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
inline bool connectTo(ServerPeer &peer, WsSocket &client, const WsClientOptions &options = {},
                      const QStringList &protocols = {})
{
    return openAndWait(client, peer.url(), options, protocols)
            && QTest::qWaitFor([&] { return peer.socket() && peer.socket()->readyState() == WsSocket::Open; });
}

// Opens `client` on a raw peer that answers `response` (a plain upgrade by default).
inline bool openOnRaw(RawServer &raw, WsSocket &client, const QByteArray &response = {},
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

inline WsError call(WsSocket &socket, Call which, const QByteArray &data, const WsSocket::Callback &callback = {})
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

} // namespace wssocketpeers

Q_DECLARE_METATYPE(WsClientOptions)
Q_DECLARE_METATYPE(WsServerOptions)
Q_DECLARE_METATYPE(wssocketpeers::Send)
Q_DECLARE_METATYPE(wssocketpeers::Call)
