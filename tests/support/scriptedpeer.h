#pragma once

// A peer whose every byte and every fault is the test's: it writes hand-made
// frames, and ends the connection the ways a network or a hostile peer can
// (a reset, a FIN, a peer that stops reading or falls silent). It plays the
// client of a WsServer under test (ScriptedPeer::connectTo) or the server of
// a WsSocket under test (ScriptedServer), in plain TCP or TLS. It runs on the
// test's event loop.

#include "waitfor.h"
#include "wireframe.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qcryptographichash.h>
#include <QtCore/qendian.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qsslsocket.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

#include <sys/socket.h>

#include <memory>
#include <optional>
#include <vector>

namespace wsqt::test {

// A frame with the shortest length encoding; masked (with the fixed key, so
// that the bytes are known) when it goes from a client.
inline QByteArray scriptedFrame(quint8 firstByte, const QByteArray &payload, bool masked)
{
    return wireFrame(firstByte, payload, masked ? kFixedMaskKey : QByteArray());
}

inline QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xFF) + reason;
}

// A client's upgrade request; `extraHeaders` are whole "Name: value\r\n" lines.
inline QByteArray scriptedUpgradeRequest(const QByteArray &extraHeaders = {})
{
    return "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + extraHeaders + "\r\n";
}

// The 101 answer to the upgrade request whose head is `request`. Its size
// does not depend on the key, so a script can plan cuts in it beforehand.
inline QByteArray scriptedUpgradeResponse(const QByteArray &request, const QByteArray &extraHeaders = {})
{
    const qsizetype keyStart = request.indexOf("Sec-WebSocket-Key: ") + 19;
    const QByteArray key = request.mid(keyStart, request.indexOf("\r\n", keyStart) - keyStart);
    const QByteArray accept =
            QCryptographicHash::hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
                    .toBase64();
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " + accept + "\r\n" + extraHeaders + "\r\n";
}

class ScriptedPeer
{
public:
    enum class Side { Client, Server };

    // Takes a connected socket over.
    ScriptedPeer(QTcpSocket *socket, Side side) : m_socket(socket), m_side(side)
    {
        // Without Nagle's delay what write() hands the kernel leaves at once,
        // so that a reset right after it cannot drop it unsent.
        m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    }

    // A client of 127.0.0.1:port; null when it could not connect. With
    // `tls` the socket is a QSslSocket, still in plain text: see startTls().
    static std::unique_ptr<ScriptedPeer> connectTo(quint16 port, bool tls = false)
    {
        std::unique_ptr<QTcpSocket> socket(tls ? new QSslSocket : new QTcpSocket);
        socket->connectToHost(QHostAddress::LocalHost, port);
        if (!waitFor([&] { return socket->state() == QAbstractSocket::ConnectedState; }))
            return nullptr;
        return std::make_unique<ScriptedPeer>(socket.release(), Side::Client);
    }

    // Starts TLS on a QSslSocket's connection, as this side's role, and
    // waits for it; false when there is no QSslSocket or the handshake failed.
    bool startTls(const QSslConfiguration &configuration)
    {
        auto *ssl = qobject_cast<QSslSocket *>(m_socket.get());
        if (!ssl)
            return false;
        ssl->setSslConfiguration(configuration);
        if (m_side == Side::Client)
            ssl->startClientEncryption();
        else
            ssl->startServerEncryption();
        return waitFor([ssl] { return ssl->isEncrypted() || ssl->state() != QAbstractSocket::ConnectedState; })
                && ssl->isEncrypted();
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
        write(scriptedUpgradeRequest(extraHeaders));
        QByteArray head;
        return readHead(&head) && head.startsWith("HTTP/1.1 101 ");
    }

    // Takes an HTTP head, up to and with its blank line, off what arrived;
    // false when none came within `timeout` ms.
    bool readHead(QByteArray *head, int timeout = kDefaultWaitMs)
    {
        if (!waitFor([this] { return received().contains("\r\n\r\n"); }, timeout))
            return false;
        const qsizetype end = m_received.indexOf("\r\n\r\n") + 4;
        *head = m_received.left(end);
        m_received.remove(0, end);
        return true;
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
    void resumeReading()
    {
        m_reading = true;
        m_socket->setReadBufferSize(0);
    }

    // ---- what arrived
    QByteArray &received()
    {
        // After reset() the socket is closed, with nothing more to read.
        if (m_reading && m_socket->isOpen())
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
// leaves the connection to the test, for a WsSocket client under test. With
// a TLS configuration its connections are QSslSockets, encrypted before the
// upgrade (acceptUpgrade) or when the test says (nextConnection, startTls).
class ScriptedServer
{
public:
    explicit ScriptedServer(std::optional<QSslConfiguration> tls = std::nullopt)
        : m_server(tls.has_value()), m_tls(std::move(tls))
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                // The peer owns it, whichever of the two goes first.
                socket->setParent(nullptr);
                m_pending.push_back(std::make_unique<ScriptedPeer>(socket, ScriptedPeer::Side::Server));
            }
        });
        m_server.listen(QHostAddress::LocalHost);
    }

    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const
    {
        return QUrl(QStringLiteral("%1://127.0.0.1:%2/").arg(m_tls ? QLatin1String("wss") : QLatin1String("ws"))
                            .arg(port()));
    }

    // Waits for the next client, as it connected (before any TLS); null when none came.
    std::unique_ptr<ScriptedPeer> nextConnection()
    {
        if (!waitFor([this] { return !m_pending.empty(); }))
            return nullptr;
        std::unique_ptr<ScriptedPeer> peer = std::move(m_pending.front());
        m_pending.erase(m_pending.begin());
        return peer;
    }

    // Waits for the next client and answers its upgrade; null when none came.
    std::unique_ptr<ScriptedPeer> acceptUpgrade(const QByteArray &extraHeaders = {})
    {
        std::unique_ptr<ScriptedPeer> peer = nextConnection();
        QByteArray request;
        if (!peer || (m_tls && !peer->startTls(*m_tls)) || !peer->readHead(&request))
            return nullptr;
        peer->write(scriptedUpgradeResponse(request, extraHeaders));
        return peer;
    }

private:
    // Hands out QSslSockets for TLS, left in plain text until startTls().
    class Listener : public QTcpServer
    {
    public:
        explicit Listener(bool tls) : m_tls(tls) { }

    protected:
        void incomingConnection(qintptr descriptor) override
        {
            QTcpSocket *socket = m_tls ? new QSslSocket(this) : new QTcpSocket(this);
            if (socket->setSocketDescriptor(descriptor))
                addPendingConnection(socket);
            else
                delete socket;
        }

    private:
        bool m_tls;
    };

    Listener m_server;
    std::optional<QSslConfiguration> m_tls;
    std::vector<std::unique_ptr<ScriptedPeer>> m_pending;
};

} // namespace wsqt::test
