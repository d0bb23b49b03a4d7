#pragma once

#include <wsqt/wserror.h>
#include <wsqt/wsoptions.h>

#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qvariant.h>
#include <QtQml/qqml.h>

// The grouped `options.reconnect` of WebSocket: reconnecting after a lost
// connection, with exponential backoff.
class QmlReconnectOptions : public QObject
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(bool enabled READ enabled WRITE setEnabled NOTIFY changed)
    Q_PROPERTY(int minDelay READ minDelay WRITE setMinDelay NOTIFY changed)
    Q_PROPERTY(int maxDelay READ maxDelay WRITE setMaxDelay NOTIFY changed)
    Q_PROPERTY(double factor READ factor WRITE setFactor NOTIFY changed)
    Q_PROPERTY(double jitter READ jitter WRITE setJitter NOTIFY changed)
    Q_PROPERTY(int maxAttempts READ maxAttempts WRITE setMaxAttempts NOTIFY changed)
    Q_PROPERTY(bool afterNormalClose READ afterNormalClose WRITE setAfterNormalClose NOTIFY changed)

public:
    explicit QmlReconnectOptions(QObject *parent = nullptr);

    bool enabled() const { return m_options.enabled; }
    void setEnabled(bool on);
    int minDelay() const { return m_options.minDelay; }
    void setMinDelay(int milliseconds);
    int maxDelay() const { return m_options.maxDelay; }
    void setMaxDelay(int milliseconds);
    double factor() const { return m_options.factor; }
    void setFactor(double factor);
    double jitter() const { return m_options.jitter; }
    void setJitter(double fraction);
    int maxAttempts() const { return m_options.maxAttempts; }
    void setMaxAttempts(int count);
    bool afterNormalClose() const { return m_options.afterNormalClose; }
    void setAfterNormalClose(bool on);

    const WsReconnectOptions &reconnectOptions() const { return m_options; }

Q_SIGNALS:
    void changed();

private:
    template<typename T>
    void assign(T &member, const T &value);

    WsReconnectOptions m_options;
};

// WebSocket's grouped `options`: the connection settings QML can give, read
// each time the socket opens. Byte counts are doubles: QML cannot assign a
// literal to a 64-bit integer property, and a double holds every count
// exactly up to 2^53.
class QmlWebSocketOptions : public QObject
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(double maxPayload READ maxPayload WRITE setMaxPayload NOTIFY changed)
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
    Q_PROPERTY(int pingInterval READ pingInterval WRITE setPingInterval NOTIFY changed)
    Q_PROPERTY(int pongTimeout READ pongTimeout WRITE setPongTimeout NOTIFY changed)
    Q_PROPERTY(double highWaterMark READ highWaterMark WRITE setHighWaterMark NOTIFY changed)
    Q_PROPERTY(double lowWaterMark READ lowWaterMark WRITE setLowWaterMark NOTIFY changed)
    Q_PROPERTY(double maxBufferedAmount READ maxBufferedAmount WRITE setMaxBufferedAmount NOTIFY changed)
    Q_PROPERTY(QmlReconnectOptions *reconnect READ reconnect CONSTANT)

public:
    explicit QmlWebSocketOptions(QObject *parent = nullptr);

    double maxPayload() const { return double(m_options.maxPayload); }
    void setMaxPayload(double bytes);
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
    int pingInterval() const { return m_options.pingInterval; }
    void setPingInterval(int milliseconds);
    int pongTimeout() const { return m_options.pongTimeout; }
    void setPongTimeout(int milliseconds);
    double highWaterMark() const { return double(m_options.highWaterMark); }
    void setHighWaterMark(double bytes);
    double lowWaterMark() const { return double(m_options.lowWaterMark); }
    void setLowWaterMark(double bytes);
    double maxBufferedAmount() const { return double(m_options.maxBufferedAmount); }
    void setMaxBufferedAmount(double bytes);
    QmlReconnectOptions *reconnect() const { return m_reconnect; }

    // The library's options, or the reason they cannot be built (a CA
    // certificate that is neither a readable file nor PEM data).
    WsError toClientOptions(WsClientOptions *options) const;

Q_SIGNALS:
    void changed();

private:
    template<typename T>
    void assign(T &member, const T &value);

    WsClientOptions m_options;
    QmlReconnectOptions *m_reconnect;
    QVariantMap m_headers;
    QStringList m_caCertificates;
    bool m_ignoreSslErrors = false;
};
