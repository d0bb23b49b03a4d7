#include "tlsfiles.h"

#include <QtCore/qfile.h>
#include <QtNetwork/qsslcertificate.h>
#include <QtNetwork/qsslkey.h>

namespace cli {

namespace {

QString readFile(const QString &path, QByteArray *contents)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
    *contents = file.readAll();
    return {};
}

QString readCertificates(const QString &path, QList<QSslCertificate> *certificates)
{
    QByteArray pem;
    if (QString error = readFile(path, &pem); !error.isEmpty())
        return error;
    *certificates = QSslCertificate::fromData(pem, QSsl::Pem);
    if (certificates->isEmpty())
        return QStringLiteral("no PEM certificate in %1").arg(path);
    return {};
}

} // namespace

QString addCaCertificates(const QString &path, QSslConfiguration &configuration)
{
    QList<QSslCertificate> certificates;
    if (QString error = readCertificates(path, &certificates); !error.isEmpty())
        return error;
    configuration.addCaCertificates(certificates);
    return {};
}

QString setLocalCertificate(const QString &certificatePath, const QString &keyPath,
                            QSslConfiguration &configuration)
{
    QList<QSslCertificate> chain;
    if (QString error = readCertificates(certificatePath, &chain); !error.isEmpty())
        return error;
    QByteArray pem;
    if (QString error = readFile(keyPath, &pem); !error.isEmpty())
        return error;
    QSslKey key;
    for (const QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
        key = QSslKey(pem, algorithm, QSsl::Pem);
        if (!key.isNull())
            break;
    }
    if (key.isNull())
        return QStringLiteral("no PEM private key in %1").arg(keyPath);
    configuration.setLocalCertificateChain(chain);
    configuration.setPrivateKey(key);
    return {};
}

} // namespace cli
