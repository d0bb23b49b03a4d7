#pragma once

#include <wsqt/wserror.h>
#include <wsqt/wsoptions.h>

#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qvariant.h>
#include <QtQml/qqml.h>

// WebSocket's grouped `options`: the connection settings QML can give, read
// each time the socket opens.
class QmlWebSocketOptions : public QObject
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(qint64 maxPayload READ maxPayload WRITE setMaxPayload NOTIFY changed)
    Q_PROPERTY(int handshakeTimeout READ handshakeTimeout WRITE setHandshakeTimeout NOTIFY changed)
    Q_PROPERTY(int closeTimeout READ closeTimeout WRITE setCloseTimeout NOTIFY changed)
    Q_PROPERTY(bool autoPong READ autoPong WRITE setAutoPong NOTIFY changed)
    Q_PROPERTY(bool perMessageDeflate READ perMessageDeflate WRITE setPerMessageDeflate NOTIFY changed)
    Q_PROPERTY(bool followRedirects READ followRedirects WRITE setFollowRedirects NOTIFY changed)
    Q_PROPERTY(int maxRedirects READ maxRedirects WRITE setMaxRedirects NOTIFY changed)
    Q_PROPERTY(QString origin READ origin WRITE setOrigin NOTIFY changed)
    Q_PROPERTY(QString auth READ auth WRITE setAuth NOTIFY changed)
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY changed)
    Q_PROPERTY(QStringList caCertificates READ caCertificates WRITE setCaCertificates NOTIFY changed)
    Q_PROPERTY(bool ignoreSslErrors READ ignoreSslErrors WRITE setIgnoreSslErrors NOTIFY changed)

public:
    explicit QmlWebSocketOptions(QObject *parent = nullptr);

    qint64 maxPayload() const { return m_options.maxPayload; }
    void setMaxPayload(qint64 bytes);
    int handshakeTimeout() const { return m_options.handshakeTimeout; }
    void setHandshakeTimeout(int milliseconds);
    int closeTimeout() const { return m_options.closeTimeout; }
    void setCloseTimeout(int milliseconds);
    bool autoPong() const { return m_options.autoPong; }
    void setAutoPong(bool on);
    bool perMessageDeflate() const { return m_options.perMessageDeflate.has_value(); }
    void setPerMessageDeflate(bool on);
    bool followRedirects() const { return m_options.followRedirects; }
    void setFollowRedirects(bool on);
    int maxRedirects() const { return m_options.maxRedirects; }
    void setMaxRedirects(int count);
    QString origin() const { return m_options.origin; }
    void setOrigin(const QString &origin);
    QString auth() const { return m_options.auth; }
    void setAuth(const QString &auth);
    QVariantMap headers() const { return m_headers; }
    void setHeaders(const QVariantMap &headers);
    QStringList caCertificates() const { return m_caCertificates; }
    void setCaCertificates(const QStringList &certificates);
    bool ignoreSslErrors() const { return m_ignoreSslErrors; }
    void setIgnoreSslErrors(bool ignore);

    // The library's options, or the reason they cannot be built (a CA
    // certificate that is neither a readable file nor PEM data).
    WsError toClientOptions(WsClientOptions *options) const;

Q_SIGNALS:
    void changed();

private:
    template<typename T>
    void assign(T &member, const T &value);

    WsClientOptions m_options;
    QVariantMap m_headers;
    QStringList m_caCertificates;
    bool m_ignoreSslErrors = false;
};
