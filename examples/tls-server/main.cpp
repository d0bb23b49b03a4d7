// An echo server over TLS (wss://). The certificate and its private key
// come from PEM files; see README.md for a throwaway pair made with openssl.
//
// Usage: tls-server <certificate.pem> <key.pem> [port]   (default 8443)

#include <wsqt/wsserver.h>
#include <wsqt/wssocket.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdebug.h>
#include <QtCore/qfile.h>
#include <QtNetwork/qsslcertificate.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qsslkey.h>
#include <QtNetwork/qsslsocket.h>

namespace {

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        qCritical().noquote() << "cannot read" << path << ":" << file.errorString();
        return {};
    }
    return file.readAll();
}

// The server's side of TLS: its certificate chain (leaf first) and key.
bool loadIdentity(const QString &certificatePath, const QString &keyPath, QSslConfiguration *tls)
{
    const QList<QSslCertificate> chain = QSslCertificate::fromData(readFile(certificatePath), QSsl::Pem);
    const QByteArray keyPem = readFile(keyPath);
    QSslKey key(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Rsa, QSsl::Pem);
    if (chain.isEmpty() || key.isNull()) {
        qCritical("no PEM certificate or private key found");
        return false;
    }
    tls->setLocalCertificateChain(chain);
    tls->setPrivateKey(key);
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    const QStringList arguments = QCoreApplication::arguments();
    bool ok = true;
    const uint port = arguments.size() > 3 ? arguments.at(3).toUInt(&ok) : 8443;
    if (arguments.size() < 3 || arguments.size() > 4 || !ok || port > 65535) {
        qCritical("Usage: tls-server <certificate.pem> <key.pem> [port]");
        return 2;
    }
    if (!QSslSocket::supportsSsl()) {
        qCritical("this Qt has no TLS backend");
        return 1;
    }

    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (!loadIdentity(arguments.at(1), arguments.at(2), &tls))
        return 1;

    WsServerOptions options;
    options.host = QHostAddress::LocalHost;
    options.port = int(port);
    options.sslConfiguration = tls;         // wss://: a QSslServer under the hood
    options.handshakeTimeout = 5000;        // for the TLS handshake, then again for the request
    // verifyClient sees whether the connection is encrypted.
    options.verifyClient = [](const WsVerifyClientInfo &info) { return info.secure; };
    WsServer server(options);
    if (server.error()) {
        qCritical().noquote() << server.error().message();
        return 1;
    }

    QObject::connect(&server, &WsServer::listening, &server, [&server] {
        qInfo("TLS echo server listening on wss://localhost:%d", int(server.address().port));
    });
    QObject::connect(&server, &WsServer::newConnection, &server, [](WsSocket *socket) {
        QObject::connect(socket, &WsSocket::messageReceived, socket,
                         [socket](const QByteArray &message, bool isBinary) {
                             WsSendOptions sendOptions;
                             sendOptions.binary = isBinary;
                             socket->send(message, sendOptions);
                         });
    });

    return app.exec();
}
