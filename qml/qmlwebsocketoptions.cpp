#include "qmlwebsocketoptions.h"

#include <QtCore/qfile.h>
#include <QtCore/qurl.h>
#include <QtNetwork/qsslcertificate.h>

namespace {

// A PEM text, a file path, or a file: or qrc: URL.
QList<QSslCertificate> loadCertificates(const QString &entry)
{
    if (entry.contains(QLatin1String("-----BEGIN")))
        return QSslCertificate::fromData(entry.toUtf8(), QSsl::Pem);
    const QUrl url(entry);
    QString path = entry;
    if (url.scheme() == QLatin1String("file"))
        path = url.toLocalFile();
    else if (url.scheme() == QLatin1String("qrc"))
        path = QLatin1Char(':') + url.path();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QByteArray data = file.readAll();
    const QSsl::EncodingFormat format = data.contains("-----BEGIN") ? QSsl::Pem : QSsl::Der;
    return QSslCertificate::fromData(data, format);
}

} // namespace

QmlReconnectOptions::QmlReconnectOptions(QObject *parent) : QObject(parent) { }

template<typename T>
void QmlReconnectOptions::assign(T &member, const T &value)
{
    if (member == value)
        return;
    member = value;
    Q_EMIT changed();
}

void QmlReconnectOptions::setEnabled(bool on)
{
    assign(m_options.enabled, on);
}

void QmlReconnectOptions::setMinDelay(int milliseconds)
{
    assign(m_options.minDelay, milliseconds);
}

void QmlReconnectOptions::setMaxDelay(int milliseconds)
{
    assign(m_options.maxDelay, milliseconds);
}

void QmlReconnectOptions::setFactor(double factor)
{
    assign(m_options.factor, factor);
}

void QmlReconnectOptions::setJitter(double fraction)
{
    assign(m_options.jitter, fraction);
}

void QmlReconnectOptions::setMaxAttempts(int count)
{
    assign(m_options.maxAttempts, count);
}

void QmlReconnectOptions::setAfterNormalClose(bool on)
{
    assign(m_options.afterNormalClose, on);
}

QmlWebSocketOptions::QmlWebSocketOptions(QObject *parent)
    : QObject(parent), m_reconnect(new QmlReconnectOptions(this))
{
    // A change in the group is a change of the options.
    connect(m_reconnect, &QmlReconnectOptions::changed, this, &QmlWebSocketOptions::changed);
}

template<typename T>
void QmlWebSocketOptions::assign(T &member, const T &value)
{
    if (member == value)
        return;
    member = value;
    Q_EMIT changed();
}

void QmlWebSocketOptions::setMaxPayload(double bytes)
{
    assign(m_options.maxPayload, qint64(bytes));
}

void QmlWebSocketOptions::setHandshakeTimeout(int milliseconds)
{
    assign(m_options.handshakeTimeout, milliseconds);
}

void QmlWebSocketOptions::setCloseTimeout(int milliseconds)
{
    assign(m_options.closeTimeout, milliseconds);
}

void QmlWebSocketOptions::setAutoPong(bool on)
{
    assign(m_options.autoPong, on);
}

void QmlWebSocketOptions::setPerMessageDeflate(bool on)
{
    if (perMessageDeflate() == on)
        return;
    m_options.perMessageDeflate = on ? std::optional<WsDeflateOptions>(WsDeflateOptions()) : std::nullopt;
    Q_EMIT changed();
}

void QmlWebSocketOptions::setFollowRedirects(bool on)
{
    assign(m_options.followRedirects, on);
}

void QmlWebSocketOptions::setMaxRedirects(int count)
{
    assign(m_options.maxRedirects, count);
}

void QmlWebSocketOptions::setOrigin(const QString &origin)
{
    assign(m_options.origin, origin);
}

void QmlWebSocketOptions::setAuth(const QString &auth)
{
    assign(m_options.auth, auth);
}

void QmlWebSocketOptions::setHeaders(const QVariantMap &headers)
{
    assign(m_headers, headers);
}

void QmlWebSocketOptions::setCaCertificates(const QStringList &certificates)
{
    assign(m_caCertificates, certificates);
}

void QmlWebSocketOptions::setIgnoreSslErrors(bool ignore)
{
    assign(m_ignoreSslErrors, ignore);
}

void QmlWebSocketOptions::setPingInterval(int milliseconds)
{
    assign(m_options.pingInterval, milliseconds);
}

void QmlWebSocketOptions::setPongTimeout(int milliseconds)
{
    assign(m_options.pongTimeout, milliseconds);
}

void QmlWebSocketOptions::setHighWaterMark(double bytes)
{
    assign(m_options.highWaterMark, qint64(bytes));
}

void QmlWebSocketOptions::setLowWaterMark(double bytes)
{
    assign(m_options.lowWaterMark, qint64(bytes));
}

void QmlWebSocketOptions::setMaxBufferedAmount(double bytes)
{
    assign(m_options.maxBufferedAmount, qint64(bytes));
}

WsError QmlWebSocketOptions::toClientOptions(WsClientOptions *options) const
{
    *options = m_options;
    options->reconnect = m_reconnect->reconnectOptions();
    for (auto it = m_headers.cbegin(); it != m_headers.cend(); ++it)
        options->headers.set(it.key().toLatin1(), it.value().toString().toUtf8());
    if (m_caCertificates.isEmpty())
        return {};
    QList<QSslCertificate> certificates;
    for (const QString &entry : m_caCertificates) {
        const QList<QSslCertificate> loaded = loadCertificates(entry);
        if (loaded.isEmpty()) {
            return WsError(WsError::InvalidArgument,
                           QStringLiteral("No CA certificate could be read from \"%1\"").arg(entry.left(64)));
        }
        certificates += loaded;
    }
    options->sslConfiguration.addCaCertificates(certificates);
    return {};
}
