#pragma once

// A peer whose every byte and every fault is the test's: it writes hand-made
// frames, and ends the connection the ways a network or a hostile peer can
// (a reset, a FIN, a peer that stops reading or falls silent). It plays the
// client of a WsServer under test (ScriptedPeer::connectTo) or the server of
// a WsSocket under test (ScriptedServer). It runs on the test's event loop.

#include "waitfor.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qcryptographichash.h>
#include <QtCore/qendian.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

#include <sys/socket.h>

#include <memory>
#include <vector>

namespace wsqt::test {

// A frame with the shortest length encoding; masked (with a fixed key, so
// the bytes are known) when it goes from a client.
inline QByteArray scriptedFrame(quint8 firstByte, const QByteArray &payload, bool masked)
{
    QByteArray bytes(1, char(firstByte));
    const char maskBit = masked ? char(0x80) : char(0);
    const qsizetype length = payload.size();
    uchar extended[8];
    if (length < 126) {
        bytes += char(maskBit | char(length));
    } else if (length < 65536) {
        bytes += char(maskBit | 126);
        qToBigEndian(quint16(length), extended);
        bytes.append(reinterpret_cast<const char *>(extended), 2);
    } else {
        bytes += char(maskBit | 127);
        qToBigEndian(quint64(length), extended);
        bytes.append(reinterpret_cast<const char *>(extended), 8);
    }
    if (!masked)
        return bytes + payload;
    static const char key[4] = {0x37, char(0xfa), 0x21, 0x3d};
    bytes.append(key, 4);
    const qsizetype start = bytes.size();
    bytes += payload;
    for (qsizetype i = 0; i < length; ++i)
        bytes[start + i] = char(bytes[start + i] ^ key[i % 4]);
    return bytes;
}

inline QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xFF) + reason;
}

class ScriptedPeer
{
public:
    enum class Side { Client, Server };

    // Takes a connected socket over.
    ScriptedPeer(QTcpSocket *socket, Side side) : m_socket(socket), m_side(side) { }

    // A client of 127.0.0.1:port; null when it could not connect.
    static std::unique_ptr<ScriptedPeer> connectTo(quint16 port)
    {
        auto socket = std::make_unique<QTcpSocket>();
        socket->connectToHost(QHostAddress::LocalHost, port);
        if (!waitFor([&] { return socket->state() == QAbstractSocket::ConnectedState; }))
            return nullptr;
        return std::make_unique<ScriptedPeer>(socket.release(), Side::Client);
    }

    QTcpSocket *socket() const { return m_socket.get(); }

    // Hands the bytes to the kernel before returning, so that what the test
    // scripts next (a reset, say) comes after them on the wire.
    void write(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        while (m_socket->bytesToWrite() > 0 && m_socket->flush()) { }
    }

    // A frame as this side sends it: masked from a client.
    void sendFrame(quint8 firstByte, const QByteArray &payload)
    {
        write(scriptedFrame(firstByte, payload, m_side == Side::Client));
    }
    void sendClose(quint16 code, const QByteArray &reason = {}) { sendFrame(0x88, closePayload(code, reason)); }

    // A client's upgrade; true once the server answered 101.
    bool upgrade(const QByteArray &extraHeaders = {})
    {
        write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              + extraHeaders + "\r\n");
        if (!waitFor([this] { return received().contains("\r\n\r\n"); }))
            return false;
        const qsizetype end = m_received.indexOf("\r\n\r\n");
        const bool switched = m_received.startsWith("HTTP/1.1 101 ");
        m_received.remove(0, end + 4);
        return switched;
    }

    // ---- faults
    // A TCP reset: what the kernel still holds for the peer is dropped.
    void reset()
    {
        const linger abortive{1, 0};
        ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
        m_socket->abort();
    }
    // A FIN: this side sends nothing more and goes on reading.
    void finish() { ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR); }
    // Reads nothing more, so that the peer's writes back up into its own buffers.
    void stopReading()
    {
        m_reading = false;
        m_socket->setReadBufferSize(1);
    }

    // ---- what arrived
    QByteArray &received()
    {
        if (m_reading)
            m_received += m_socket->readAll();
        return m_received;
    }
    bool isClosed() const { return m_socket->state() == QAbstractSocket::UnconnectedState; }
    // Reads until the other side ends the connection.
    bool waitForEnd(int timeout = kDefaultWaitMs)
    {
        return waitFor([this] {
            received();
            return isClosed();
        }, timeout);
    }

private:
    std::unique_ptr<QTcpSocket> m_socket;
    Side m_side;
    QByteArray m_received;
    bool m_reading = true;
};

// A server on 127.0.0.1 that answers each upgrade with a 101 and then
// leaves the connection to the test, for a WsSocket client under test.
class ScriptedServer
{
public:
    ScriptedServer()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                m_pending.push_back(std::make_unique<ScriptedPeer>(socket, ScriptedPeer::Side::Server));
        });
        m_server.listen(QHostAddress::LocalHost);
    }

    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port())); }

    // Waits for the next client and answers its upgrade; null when none came.
    std::unique_ptr<ScriptedPeer> acceptUpgrade(const QByteArray &extraHeaders = {})
    {
        if (!waitFor([this] { return !m_pending.empty(); }))
            return nullptr;
        std::unique_ptr<ScriptedPeer> peer = std::move(m_pending.front());
        m_pending.erase(m_pending.begin());
        if (!waitFor([&] { return peer->received().contains("\r\n\r\n"); }))
            return nullptr;
        QByteArray &request = peer->received();
        const qsizetype end = request.indexOf("\r\n\r\n");
        const qsizetype keyStart = request.indexOf("Sec-WebSocket-Key: ") + 19;
        const QByteArray key = request.mid(keyStart, request.indexOf("\r\n", keyStart) - keyStart);
        request.remove(0, end + 4);
        const QByteArray accept =
                QCryptographicHash::hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
                        .toBase64();
        peer->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " + accept + "\r\n" + extraHeaders + "\r\n");
        return peer;
    }

private:
    QTcpServer m_server;
    std::vector<std::unique_ptr<ScriptedPeer>> m_pending;
};

} // namespace wsqt::test
