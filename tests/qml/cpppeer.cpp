#include "cpppeer.h"

#include <wsqt/wsserver.h>
#include <wsqt/wsqtversion.h>
#include <wsqt/wssocket.h>

#include <QtCore/qfile.h>
#include <QtNetwork/qsslkey.h>
#include <QtNetwork/qtcpsocket.h>

namespace {

QByteArray readData(const char *name)
{
    QFile file(QLatin1String(WSQT_QML_TEST_DATA "/") + QLatin1String(name));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// "word rest of the line" -> {"word", "rest of the line"}
std::pair<QByteArray, QByteArray> firstWord(const QByteArray &line)
{
    const qsizetype space = line.indexOf(' ');
    if (space < 0)
        return {line, QByteArray()};
    return {line.left(space), line.mid(space + 1)};
}

WsServerOptions localOptions()
{
    WsServerOptions options;
    options.port = 0;
    options.host = QHostAddress::LocalHost;
    return options;
}

WsServerOptions tlsOptions()
{
    WsServerOptions options = localOptions();
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(QSslCertificate(readData("server.pem"), QSsl::Pem));
    configuration.setPrivateKey(QSslKey(readData("server-key.pem"), QSsl::Rsa, QSsl::Pem));
    options.sslConfiguration = configuration;
    return options;
}

} // namespace

CppPeer::CppPeer(QObject *parent)
    : QObject(parent), m_echo(new WsServer(localOptions(), this)), m_tls(new WsServer(tlsOptions(), this))
{
    serve(m_echo);
    serve(m_tls);
    QTcpServer closed;
    closed.listen(QHostAddress::LocalHost, 0);
    m_closedUrl = QStringLiteral("ws://127.0.0.1:%1/").arg(closed.serverPort());
    m_silent.listen(QHostAddress::LocalHost, 0);
    connect(&m_silent, &QTcpServer::newConnection, this, [this] {
        while (m_silent.nextPendingConnection()) {
            ++m_silentConnections;
            Q_EMIT silentConnectionsChanged();
        }
    });
    m_redirect.listen(QHostAddress::LocalHost, 0);
    connect(&m_redirect, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *socket = m_redirect.nextPendingConnection()) {
            connect(socket, &QIODevice::readyRead, socket, [this, socket] {
                if (!socket->readAll().contains("\r\n\r\n"))
                    return;
                socket->write("HTTP/1.1 302 Found\r\nLocation: " + echoUrl().toLatin1()
                              + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                socket->disconnectFromHost();
            });
            connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
        }
    });
}

QString CppPeer::echoUrl() const
{
    return QStringLiteral("ws://127.0.0.1:%1/").arg(m_echo->address().port);
}

QString CppPeer::tlsUrl() const
{
    return QStringLiteral("wss://localhost:%1/").arg(m_tls->address().port);
}

QString CppPeer::silentUrl() const
{
    return QStringLiteral("ws://127.0.0.1:%1/").arg(m_silent.serverPort());
}

QString CppPeer::redirectUrl() const
{
    return QStringLiteral("ws://127.0.0.1:%1/").arg(m_redirect.serverPort());
}

QString CppPeer::caFile() const
{
    return QStringLiteral(WSQT_QML_TEST_DATA "/ca.pem");
}

QString CppPeer::caPem() const
{
    return QString::fromLatin1(readData("ca.pem"));
}

bool CppPeer::deflateAvailable() const
{
#if defined(WSQT_HAS_DEFLATE) && !WSQT_HAS_DEFLATE
    return false;
#else
    return true;
#endif
}

void CppPeer::serve(WsServer *server)
{
    connect(server, &WsServer::newConnection, this, [this](WsSocket *socket, const WsHttpRequest &request) {
        m_lastHeaders.clear();
        for (const WsHttpHeaders::Field &field : request.headers.fields())
            m_lastHeaders.insert(QString::fromLatin1(field.first).toLower(), QString::fromUtf8(field.second));
        ++m_connections;
        Q_EMIT connectionsChanged();
        connect(socket, &WsSocket::messageReceived, this, [this, socket](const QByteArray &message, bool isBinary) {
            Q_EMIT peerReceived(isBinary ? QVariant(message) : QVariant(QString::fromUtf8(message)), isBinary);
            obey(socket, message, isBinary);
        });
        connect(socket, &WsSocket::pongReceived, this, [this](const QByteArray &payload) {
            // Not null, so that QML sees an empty ArrayBuffer.
            Q_EMIT peerPong(payload.isNull() ? QByteArray("") : payload);
        });
        connect(socket, &WsSocket::closed, this, [this](int code, const QByteArray &reason) {
            --m_connections;
            Q_EMIT connectionsChanged();
            Q_EMIT peerClosed(code, QString::fromUtf8(reason));
        });
    });
}

// Text starting with "!" is a command; anything else comes back as it came.
void CppPeer::obey(WsSocket *socket, const QByteArray &message, bool isBinary)
{
    if (isBinary || !message.startsWith('!')) {
        WsSendOptions options;
        options.binary = isBinary;
        socket->send(message, options);
        return;
    }
    const auto [command, argument] = firstWord(message.mid(1));
    if (command == "ping") {
        socket->ping(argument);
    } else if (command == "close") {
        const auto [code, reason] = firstWord(argument);
        socket->close(code.toInt(), reason);
    } else if (command == "terminate") {
        socket->terminate();
    } else if (command == "bytes") {
        QByteArray bytes(argument.toInt(), Qt::Uninitialized);
        for (qsizetype i = 0; i < bytes.size(); ++i)
            bytes[i] = char(i % 256);
        socket->sendBinary(bytes);
    } else if (command == "fragments") {
        // One message in three frames; a text one splits "é" between two.
        const bool binary = argument == "binary";
        const QList<QByteArray> parts = binary ? QList<QByteArray>{"ab", "cd", "ef"}
                                               : QList<QByteArray>{"caf", "\xc3", "\xa9!"};
        for (qsizetype i = 0; i < parts.size(); ++i) {
            WsSendOptions options;
            options.binary = binary;
            options.fin = i == parts.size() - 1;
            socket->send(parts[i], options);
        }
    } else if (command == "protocol") {
        socket->sendText(socket->protocol());
    }
}
