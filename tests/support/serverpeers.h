#pragma once

// Peers for the WsServer tests: a raw client that writes hand-made HTTP and
// frames and reads the server's exact bytes, an echo server, and WsSocket
// clients. Everything waits on the event loop (waitFor()), since the server
// runs in the same thread.

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include "echo.h"
#include "waitfor.h"
#include "wireframe.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qendian.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

namespace serverpeers {

constexpr int kWaitMs = wsqt::test::kDefaultWaitMs;

using wsqt::test::echoMessages;
using wsqt::test::kFixedMaskKey;
using wsqt::test::waitFor;
using wsqt::test::wireFrame;

// RFC 6455's sample key and the Sec-WebSocket-Accept it gives.
inline const QByteArray kKey = "dGhlIHNhbXBsZSBub25jZQ==";
inline const QByteArray kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ---- HTTP -------------------------------------------------------------------

// The header fields of a valid upgrade request, in the order they are sent.
inline WsHttpHeaders upgradeHeaders()
{
    return {
        {"Host", "127.0.0.1"},
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", kKey},
        {"Sec-WebSocket-Version", "13"},
    };
}

// An upgrade request. The fields of `changes` take the place of the default
// field of their name (a null value removes it); the others are appended.
inline QByteArray upgradeRequest(const QByteArray &target = "/", const WsHttpHeaders &changes = {},
                                 const QByteArray &method = "GET")
{
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\n";
    const auto appendField = [&request](const WsHttpHeaders::Field &field) {
        if (!field.second.isNull())
            request += field.first + ": " + field.second + "\r\n";
    };
    const WsHttpHeaders defaults = upgradeHeaders();
    for (const auto &field : defaults.fields()) {
        if (!changes.contains(field.first)) {
            appendField(field);
            continue;
        }
        for (const QByteArray &value : changes.values(field.first))
            appendField({field.first, value});
    }
    for (const auto &field : changes.fields()) {
        if (!defaults.contains(field.first))
            appendField(field);
    }
    return request + "\r\n";
}

// ws's answers (abortHandshake), byte for byte.
inline const QByteArray kBadRequest =
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n"
        "Bad Request";
inline const QByteArray kUnauthorized =
        "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n"
        "Unauthorized";
inline const QByteArray kServiceUnavailable =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/html\r\n"
        "Content-Length: 19\r\n\r\nService Unavailable";
inline const QByteArray kInvalidKey =
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 43\r\n\r\n"
        "Missing or invalid Sec-WebSocket-Key header";
inline const QByteArray kInvalidProtocol =
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 37\r\n\r\n"
        "Invalid Sec-WebSocket-Protocol header";
inline const QByteArray kInvalidExtensions =
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 55\r\n\r\n"
        "Invalid or unacceptable Sec-WebSocket-Extensions header";

// A bare answer, as Node's HTTP server gives when it cannot read a request.
inline QByteArray statusOnly(const QByteArray &statusLine)
{
    return statusLine + "\r\nConnection: close\r\n\r\n";
}

inline const QByteArray kTimeout = statusOnly("HTTP/1.1 408 Request Timeout");

struct HttpHead
{
    int status = 0;
    QByteArray statusLine;
    WsHttpHeaders headers;
};

// Parses a response head (status line and fields, without the blank line).
inline HttpHead parseResponseHead(const QByteArray &head)
{
    HttpHead result;
    const QList<QByteArray> lines = head.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QByteArray line = lines[i].endsWith('\r') ? lines[i].chopped(1) : lines[i];
        if (i == 0) {
            result.statusLine = line;
            result.status = line.mid(9, 3).toInt();
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            result.headers.append(line.left(colon), line.mid(colon + 1).trimmed());
    }
    return result;
}

// ---- Frames -----------------------------------------------------------------

// A frame with the shortest length encoding, masked (with a fixed key, so
// that the bytes are known) unless `masked` is false: as a client sends it.
inline QByteArray frame(quint8 firstByte, const QByteArray &payload, bool masked = true,
                        const QByteArray &maskKey = kFixedMaskKey)
{
    return wireFrame(firstByte, payload, masked ? maskKey : QByteArray());
}

struct Frame
{
    quint8 firstByte = 0;
    QByteArray payload;     // unmasked
    QByteArray raw;         // the whole frame as received

    int opcode() const { return firstByte & 0x0F; }
};

// Takes one complete frame off the front of `buffer`; false while incomplete.
inline bool takeFrame(QByteArray *buffer, Frame *out)
{
    if (buffer->size() < 2)
        return false;
    const auto *bytes = reinterpret_cast<const uchar *>(buffer->constData());
    qsizetype headerSize = 2;
    quint64 length = bytes[1] & 0x7F;
    if (length == 126) {
        headerSize = 4;
        if (buffer->size() < headerSize)
            return false;
        length = qFromBigEndian<quint16>(bytes + 2);
    } else if (length == 127) {
        headerSize = 10;
        if (buffer->size() < headerSize)
            return false;
        length = qFromBigEndian<quint64>(bytes + 2);
    }
    const bool masked = bytes[1] & 0x80;
    if (masked)
        headerSize += 4;
    if (quint64(buffer->size()) < headerSize + length)
        return false;
    out->firstByte = bytes[0];
    out->raw = buffer->left(headerSize + qsizetype(length));
    out->payload = out->raw.mid(headerSize);
    if (masked) {
        const QByteArray key = out->raw.mid(headerSize - 4, 4);
        for (qsizetype i = 0; i < out->payload.size(); ++i)
            out->payload[i] = char(out->payload[i] ^ key[i % 4]);
    }
    buffer->remove(0, out->raw.size());
    return true;
}

// ---- Raw client -------------------------------------------------------------

// A TCP client whose every byte is written by the test.
class RawClient
{
public:
    RawClient() : m_socket(new QTcpSocket) { }

    QTcpSocket *socket() const { return m_socket.get(); }

    bool connectTo(quint16 port)
    {
        m_socket->connectToHost(QHostAddress::LocalHost, port);
        return waitFor([this] { return m_socket->state() == QAbstractSocket::ConnectedState; });
    }

    void write(const QByteArray &bytes) { m_socket->write(bytes); }

    // What arrived and was not taken yet.
    QByteArray &received()
    {
        m_received += m_socket->readAll();
        return m_received;
    }

    bool isClosed() const { return m_socket->state() == QAbstractSocket::UnconnectedState; }

    bool waitForBytes(qsizetype count, int timeout = kWaitMs)
    {
        return waitFor([&] { return received().size() >= count; }, timeout);
    }

    // Everything the server sends until it closes the connection.
    QByteArray readUntilClosed(int timeout = kWaitMs)
    {
        const bool closed = waitFor([this] {
            received();
            return isClosed();
        }, timeout);
        received();
        if (!closed)
            m_received += "(still open)";
        return std::exchange(m_received, QByteArray());
    }

    // Reads a response head; what follows it stays in received().
    bool readResponseHead(HttpHead *head, int timeout = kWaitMs)
    {
        if (!waitFor([this] { return received().contains("\r\n\r\n"); }, timeout))
            return false;
        const qsizetype end = m_received.indexOf("\r\n\r\n");
        *head = parseResponseHead(m_received.left(end));
        m_received.remove(0, end + 4);
        return true;
    }

    // Sends a valid upgrade request and reads a 101 with the right accept key.
    bool upgrade(const QByteArray &target = "/", const WsHttpHeaders &changes = {})
    {
        write(upgradeRequest(target, changes));
        HttpHead head;
        return readResponseHead(&head) && head.status == 101
                && head.headers.value("Sec-WebSocket-Accept") == kAccept;
    }

    bool connectAndUpgrade(quint16 port, const QByteArray &target = "/")
    {
        return connectTo(port) && upgrade(target);
    }

    void sendFrame(quint8 firstByte, const QByteArray &payload) { write(frame(firstByte, payload)); }

    bool readFrame(Frame *out, int timeout = kWaitMs)
    {
        return waitFor([&] { return takeFrame(&received(), out); }, timeout);
    }

    // Waits for the server's close frame and the end of the connection.
    bool readCloseAndEnd(Frame *closeFrame, int timeout = kWaitMs)
    {
        while (readFrame(closeFrame, timeout)) {
            if (closeFrame->opcode() == 0x8)
                return waitFor([this] { return isClosed(); }, timeout);
        }
        return false;
    }

private:
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_received;
};

// ---- WebSocket peers --------------------------------------------------------

// Listens on a free port, on 127.0.0.1 unless another host is set, where
// `options` picks no mode.
inline WsServerOptions localOptions(WsServerOptions options = {})
{
    if (options.port == WsServerOptions::NoPort && !options.server && !options.noServer)
        options.port = 0;
    if (options.host == QHostAddress(QHostAddress::Any))
        options.host = QHostAddress::LocalHost;
    return options;
}

inline std::unique_ptr<WsServer> echoServer(const WsServerOptions &options = {})
{
    auto server = std::make_unique<WsServer>(localOptions(options));
    QObject::connect(server.get(), &WsServer::newConnection, server.get(),
                     [](WsSocket *socket) { echoMessages(socket); });
    return server;
}

inline QUrl localUrl(quint16 port, const QString &path = QStringLiteral("/"))
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(port).arg(path));
}

// A client open to ws://127.0.0.1:port/path, or null when the handshake failed.
inline std::unique_ptr<WsSocket> openClient(quint16 port, const QString &path = QStringLiteral("/"),
                                            const QStringList &protocols = {},
                                            const WsClientOptions &options = {})
{
    auto client = std::make_unique<WsSocket>();
    if (client->open(localUrl(port, path), protocols, options).isError())
        return nullptr;
    if (!waitFor([&] { return client->readyState() != WsSocket::Connecting; }, kWaitMs)
        || client->readyState() != WsSocket::Open)
        return nullptr;
    return client;
}

// Whether a fresh client gets an echo of a message: the server still serves.
inline bool echoes(quint16 port)
{
    const std::unique_ptr<WsSocket> client = openClient(port);
    if (!client)
        return false;
    QSignalSpy messages(client.get(), &WsSocket::messageReceived);
    client->sendText(QStringLiteral("still there?"));
    if (!waitFor([&] { return !messages.isEmpty(); }, kWaitMs))
        return false;
    const bool echoed = messages.first().at(0).toByteArray() == "still there?";
    client->close(1000);
    return waitFor([&] { return client->readyState() == WsSocket::Closed; }, kWaitMs) && echoed;
}

} // namespace serverpeers
