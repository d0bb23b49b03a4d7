#pragma once

#include <QtCore/qstring.h>
#include <QtNetwork/qsslconfiguration.h>

namespace cli {

// Adds the CA certificates of a PEM file to `configuration`; returns an error message, or empty.
QString addCaCertificates(const QString &path, QSslConfiguration &configuration);
// Sets the certificate (chain) and private key of PEM files; returns an error message, or empty.
QString setLocalCertificate(const QString &certificatePath, const QString &keyPath,
                            QSslConfiguration &configuration);

} // namespace cli
