#pragma once

// Shared pieces of the tests of how a WebSocket reaches its peer: the test
// certificates, an echo server, a recorder of what a client reports, a
// scriptable HTTP peer, external programs and the Node.js peer.

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include "echo.h"

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstandardpaths.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qsslkey.h>
#include <QtNetwork/qsslsocket.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qtest.h>

#include <functional>
#include <memory>
#include <optional>

namespace reach {

// Generous: external programs start slowly on a loaded machine.
constexpr int kWaitMs = 10000;

// ---- Certificates (made by make-certs.sh) -------------------------------------

inline QString certificatePath(const QString &file)
{
    return QStringLiteral(WSQT_REACH_CERTS_DIR "/") + file;
}

inline bool certificatesPresent()
{
    return QFile::exists(certificatePath(QStringLiteral("ca.crt")));
}

inline QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

inline QSslCertificate certificate(const QString &name)
{
    return QSslCertificate(readFile(certificatePath(name + QStringLiteral(".crt"))), QSsl::Pem);
}

inline QSslKey privateKey(const QString &name)
{
    return QSslKey(readFile(certificatePath(name + QStringLiteral(".key"))), QSsl::Ec, QSsl::Pem);
}

// A server's TLS configuration with the certificate `name`; with
// `requireClientCertificate` it asks for a client certificate signed by the CA.
inline QSslConfiguration serverTls(const QString &name, bool requireClientCertificate = false)
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(certificate(name));
    configuration.setPrivateKey(privateKey(name));
    if (requireClientCertificate) {
        configuration.setCaCertificates({certificate(QStringLiteral("ca"))});
        configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    } else {
        configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    }
    return configuration;
}

// A client's TLS configuration: trusting only the test CA, or the system's
// CAs; with the client certificate `clientName` when not empty.
inline QSslConfiguration clientTls(bool trustTestCa, const QString &clientName = {})
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    if (trustTestCa)
        configuration.setCaCertificates({certificate(QStringLiteral("ca"))});
    if (!clientName.isEmpty()) {
        configuration.setLocalCertificate(certificate(clientName));
        configuration.setPrivateKey(privateKey(clientName));
    }
    return configuration;
}

// ---- Servers and clients ------------------------------------------------------

// A WsServer on 127.0.0.1, a free port, that echoes; `options` gives the rest.
inline std::unique_ptr<WsServer> echoServer(WsServerOptions options = {})
{
    if (options.port == WsServerOptions::NoPort && options.socketPath.isEmpty() && !options.server
        && !options.localServer && !options.noServer) {
        options.port = 0;
        options.host = QHostAddress::LocalHost;
    }
    auto server = std::make_unique<WsServer>(options);
    QObject::connect(server.get(), &WsServer::newConnection, server.get(),
                     [](WsSocket *socket) { wsqt::test::echoMessages(socket); });
    return server;
}

inline QString serverUrl(const WsServer &server, const QString &scheme = QStringLiteral("ws"),
                         const QString &host = QStringLiteral("127.0.0.1"), const QString &path = QStringLiteral("/"))
{
    return QStringLiteral("%1://%2:%3%4").arg(scheme, host).arg(server.address().port).arg(path);
}

// Everything a client socket reports, for QTRY_* checks.
struct ClientRecord
{
    explicit ClientRecord(WsSocket *socket)
    {
        QObject::connect(socket, &WsSocket::opened, socket, [this] {
            ++opened;
            log.append(QStringLiteral("opened"));
        });
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [this](const QByteArray &message) { messages.append(message); });
        QObject::connect(socket, &WsSocket::sslErrors, socket, [this](const QList<QSslError> &errors) {
            sslErrors.append(errors);
            log.append(QStringLiteral("sslErrors"));
        });
        QObject::connect(socket, &WsSocket::errorOccurred, socket, [this](const WsError &error) {
            errors.append(error);
            log.append(QStringLiteral("error ") + error.codeName());
        });
        QObject::connect(socket, &WsSocket::closed, socket, [this](int code) {
            closeCodes.append(code);
            log.append(QStringLiteral("closed %1").arg(code));
        });
    }

    bool isClosed() const { return !closeCodes.isEmpty(); }
    WsError::Code firstErrorCode() const { return errors.isEmpty() ? WsError::NoError : errors.first().code(); }
    QString firstErrorMessage() const { return errors.isEmpty() ? QString() : errors.first().message(); }

    int opened = 0;
    QList<QByteArray> messages;
    QList<WsError> errors;
    QList<int> closeCodes;
    QList<QList<QSslError>> sslErrors;
    QStringList log;        // the signals in the order they came
};

// ---- HTTP ----------------------------------------------------------------------

// A request head (request line and fields, with or without the blank line).
inline WsHttpRequest parseRequestHead(const QByteArray &head)
{
    WsHttpRequest request;
    const QList<QByteArray> lines = head.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QByteArray line = lines[i].endsWith('\r') ? lines[i].chopped(1) : lines[i];
        if (i == 0) {
            const QList<QByteArray> parts = line.split(' ');
            if (parts.size() == 3) {
                request.method = parts[0];
                request.target = parts[1];
                request.version = parts[2];
            }
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            request.headers.append(line.left(colon), line.mid(colon + 1).trimmed());
    }
    return request;
}

// Header fields from "Name: value" lines.
inline WsHttpHeaders headerFields(const QByteArrayList &lines)
{
    WsHttpHeaders headers;
    for (const QByteArray &line : lines) {
        const qsizetype colon = line.indexOf(':');
        headers.append(line.left(colon), line.mid(colon + 1).trimmed());
    }
    return headers;
}

// An HTTP server whose answers a test scripts: each request head is recorded
// and answered with bytes, an upgrade to an echoing WebSocket (through a
// noServer WsServer), or silence; any of them after a delay. With setTls() it
// serves TLS and plain text on the same port, told apart by the first byte.
class HttpPeer : public QTcpServer
{
public:
    struct Reply
    {
        enum Kind { Respond, RespondAndStall, Upgrade, Silent };
        Kind kind = Respond;
        QByteArray bytes;    // Respond: the whole response, then the connection is closed;
                             // RespondAndStall: some bytes, then nothing more
        int delayMs = 0;
    };
    using Responder = std::function<Reply(const WsHttpRequest &request)>;

    struct Exchange
    {
        WsHttpRequest request;
        bool secure = false;
    };

    explicit HttpPeer(Responder responder = {}, QObject *parent = nullptr)
        : QTcpServer(parent), m_responder(std::move(responder))
    {
        WsServerOptions options;
        options.noServer = true;
        m_upgrades = new WsServer(options, this);
    }

    static Reply redirect(int status, const QByteArray &location, int delayMs = 0)
    {
        return {Reply::Respond,
                "HTTP/1.1 " + QByteArray::number(status) + " Redirect\r\nLocation: " + location
                        + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                delayMs};
    }
    static Reply upgrade(int delayMs = 0) { return {Reply::Upgrade, {}, delayMs}; }
    static Reply silent() { return {Reply::Silent, {}, 0}; }

    // For a responder that needs the peer's own port.
    void setResponder(Responder responder) { m_responder = std::move(responder); }
    void setTls(const QSslConfiguration &configuration) { m_tls = configuration; }
    bool start() { return listen(QHostAddress::LocalHost, 0); }
    QByteArray origin(const QByteArray &scheme = "ws", const QByteArray &host = "127.0.0.1") const
    {
        return scheme + "://" + host + ':' + QByteArray::number(serverPort());
    }

    const QList<Exchange> &exchanges() const { return m_exchanges; }
    int connectionCount() const { return m_connections; }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QSslSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        ++m_connections;
        connect(socket, &QIODevice::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    void onReadyRead(QSslSocket *socket)
    {
        if (m_tls && !socket->property("reach_sniffed").toBool()) {
            socket->setProperty("reach_sniffed", true);
            char first = 0;
            // A TLS record of type handshake (22) opens every TLS connection.
            if (socket->peek(&first, 1) == 1 && first == 0x16) {
                socket->setSslConfiguration(*m_tls);
                socket->startServerEncryption();
                return;
            }
        }
        const QByteArray available = socket->peek(socket->bytesAvailable());
        const qsizetype end = available.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        disconnect(socket, &QIODevice::readyRead, this, nullptr);
        const WsHttpRequest request = parseRequestHead(socket->read(end + 4));
        const QByteArray head = socket->readAll();
        m_exchanges.append({request, socket->isEncrypted()});
        const Reply reply = m_responder(request);
        QTimer::singleShot(reply.delayMs, socket, [this, socket, reply, request, head] {
            switch (reply.kind) {
            case Reply::Respond:
                socket->write(reply.bytes);
                socket->disconnectFromHost();
                break;
            case Reply::RespondAndStall:
                socket->write(reply.bytes);
                break;
            case Reply::Upgrade:
                // From here the WsServer owns the socket.
                socket->disconnect();
                m_upgrades->handleUpgrade(request, socket, head,
                                          [](WsSocket *connection, const WsHttpRequest &) {
                                              wsqt::test::echoMessages(connection);
                                          });
                break;
            case Reply::Silent:
                break;
            }
        });
    }

    Responder m_responder;
    std::optional<QSslConfiguration> m_tls;
    WsServer *m_upgrades = nullptr;
    QList<Exchange> m_exchanges;
    int m_connections = 0;
};

// ---- External programs ------------------------------------------------------------

// A program on the PATH or in the system's sbin directories (where Debian
// puts daemons), or empty.
inline QString findProgram(const QString &name)
{
    QString found = QStandardPaths::findExecutable(name);
    if (found.isEmpty()) {
        found = QStandardPaths::findExecutable(
                name, {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"), QStringLiteral("/usr/local/sbin")});
    }
    return found;
}

// A TCP port nobody listens on at the moment (for programs that need a fixed one).
inline quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// Whether something accepts TCP connections on 127.0.0.1:port, trying until
// `timeoutMs` passed: external programs give no other sign of being ready.
inline bool waitForListener(quint16 port, int timeoutMs = kWaitMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        QTcpSocket probe;
        probe.connectToHost(QHostAddress::LocalHost, port);
        if (probe.waitForConnected(qMax<qint64>(1, qMin<qint64>(deadline.remainingTime(), 1000))))
            return true;
        QTest::qWait(50);
    }
    return false;
}

// ---- The Node.js peer (peers/peer.js, with ws from npm) --------------------------------

// Why the Node peer cannot run, or empty when it can.
inline QString nodePeerMissing()
{
    if (QStringLiteral(WSQT_REACH_NODE_EXECUTABLE).isEmpty())
        return QStringLiteral("Node.js was not found at configure time");
    if (!QFile::exists(QStringLiteral(WSQT_REACH_NODE_PATH "/ws/package.json")))
        return QStringLiteral("ws is not installed in " WSQT_REACH_NODE_PATH " (the interop_setup test installs it)");
    return {};
}

// peer.js as a child process: a JSON configuration in, one JSON event a line out.
class NodePeer
{
public:
    explicit NodePeer(const QJsonObject &configuration)
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("NODE_PATH"), QStringLiteral(WSQT_REACH_NODE_PATH));
        m_process.setProcessEnvironment(environment);
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process, [this] {
            while (m_process.canReadLine()) {
                const QJsonObject event = QJsonDocument::fromJson(m_process.readLine()).object();
                if (!event.isEmpty())
                    m_events.append(event);
            }
        });
        m_process.start(QStringLiteral(WSQT_REACH_NODE_EXECUTABLE),
                        {QStringLiteral(WSQT_REACH_PEER_SCRIPT),
                         QString::fromUtf8(QJsonDocument(configuration).toJson(QJsonDocument::Compact))});
    }

    ~NodePeer()
    {
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(3000))
            m_process.kill();
        m_process.waitForFinished(3000);
    }

    // The first event named `name`, waiting for it; an empty object if none came.
    QJsonObject waitForEvent(const QString &name, int timeoutMs = kWaitMs)
    {
        QJsonObject found;
        const auto arrived = [&] {
            found = event(name);
            return !found.isEmpty() || m_process.state() == QProcess::NotRunning;
        };
        if (!QTest::qWaitFor(arrived, timeoutMs))
            return {};
        return found.isEmpty() ? event(name) : found;
    }

    QJsonObject event(const QString &name) const
    {
        for (const QJsonObject &event : m_events) {
            if (event.value(QStringLiteral("event")).toString() == name)
                return event;
        }
        return {};
    }

    const QList<QJsonObject> &events() const { return m_events; }

private:
    QProcess m_process;
    QList<QJsonObject> m_events;
};

} // namespace reach
