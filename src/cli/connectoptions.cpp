#include "connectoptions.h"

#include "console.h"
#include "exitcode.h"
#include "tlsfiles.h"

#include <cmath>

namespace cli {

namespace {

QString applyUrl(const QString &text, ConnectConfig &config)
{
    // As wscat: "host:port/path" means ws://host:port/path.
    const bool hasScheme = text.contains(QLatin1String("://")) || text.startsWith(QLatin1String("ws+unix:"));
    config.url = QUrl(hasScheme ? text : QStringLiteral("ws://") + text, QUrl::StrictMode);
    if (!config.url.isValid())
        return QStringLiteral("invalid URL: %1 (%2)").arg(text, config.url.errorString());
    return {};
}

QString applyHeaders(const QStringList &values, ConnectConfig &config)
{
    for (const QString &header : values) {
        const qsizetype colon = header.indexOf(QLatin1Char(':'));
        const QString name = header.left(colon).trimmed();
        if (colon < 0 || name.isEmpty() || name.contains(QLatin1Char(' ')))
            return QStringLiteral("invalid header, expected \"Name: value\": %1").arg(header);
        config.client.headers.append(name.toUtf8(), header.mid(colon + 1).trimmed().toUtf8());
    }
    return {};
}

QString applyWait(const QStringList &values, ConnectConfig &config)
{
    bool ok = false;
    const double seconds = values.constLast().toDouble(&ok);
    // The limit keeps the milliseconds within an int.
    if (!ok || !std::isfinite(seconds) || seconds < 0 || seconds > 2e6)
        return QStringLiteral("invalid --wait: %1").arg(values.constLast());
    config.waitMs = int(std::lround(seconds * 1000));
    return {};
}

QString applyProxy(const QStringList &values, ConnectConfig &config)
{
    const QUrl url(values.constLast(), QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    QNetworkProxy::ProxyType type;
    if (scheme == QLatin1String("http"))
        type = QNetworkProxy::HttpProxy;
    else if (scheme == QLatin1String("socks5") || scheme == QLatin1String("socks5h"))
        type = QNetworkProxy::Socks5Proxy;
    else
        return QStringLiteral("invalid --proxy, expected http:// or socks5://: %1").arg(values.constLast());
    if (url.host().isEmpty() || url.port() <= 0)
        return QStringLiteral("--proxy needs a host and a port: %1").arg(values.constLast());
    config.client.proxy = QNetworkProxy(type, url.host(), quint16(url.port()), url.userName(), url.password());
    return {};
}

QString lastValue(const QStringList &values, QString *target)
{
    *target = values.constLast();
    return {};
}

QString finish(ConnectConfig &config)
{
    if (config.clientCertificate.isEmpty() != config.clientKey.isEmpty())
        return QStringLiteral("--cert and --key go together");
    if (config.clientCertificate.isEmpty())
        return {};
    return setLocalCertificate(config.clientCertificate, config.clientKey, config.client.sslConfiguration);
}

} // namespace

CommandSpec<ConnectConfig> connectCommand()
{
    CommandSpec<ConnectConfig> spec;
    spec.name = QStringLiteral("connect");
    spec.description = QStringLiteral(
            "Connects to a WebSocket server. Prints \"connected (press CTRL+C to quit)\" once\n"
            "open (after \"subprotocol: NAME\" when one was chosen), each message received as\n"
            "\"< MESSAGE\" (binary as \"<binary N bytes> HEX\", the hex cut after 64 bytes) and\n"
            "\"disconnected (code: N, reason: \"...\")\" at the end. Errors go to standard error.");
    spec.argumentName = QStringLiteral("url");
    spec.argumentDescription = QStringLiteral("ws://, wss:// or ws+unix: URL; without a scheme, ws://.");
    spec.applyArgument = applyUrl;
    spec.options = {
        {QCommandLineOption({QStringLiteral("H"), QStringLiteral("header")},
                            QStringLiteral("Add a request header (repeatable)."), QStringLiteral("Name: value")),
         applyHeaders},
        {QCommandLineOption({QStringLiteral("s"), QStringLiteral("subprotocol")},
                            QStringLiteral("Offer this subprotocol (repeatable)."), QStringLiteral("protocol")),
         [](const QStringList &values, ConnectConfig &config) {
             config.protocols += values;
             return QString();
         }},
        {QCommandLineOption({QStringLiteral("o"), QStringLiteral("origin")},
                            QStringLiteral("Send this Origin header."), QStringLiteral("origin")),
         [](const QStringList &values, ConnectConfig &config) {
             config.client.origin = values.constLast();
             return QString();
         }},
        {QCommandLineOption({QStringLiteral("x"), QStringLiteral("execute")},
                            QStringLiteral("Send this text message once connected (repeatable), then "
                                           "close with 1000 instead of reading standard input."),
                            QStringLiteral("message")),
         [](const QStringList &values, ConnectConfig &config) {
             config.messages += values;
             return QString();
         }},
        {QCommandLineOption({QStringLiteral("w"), QStringLiteral("wait")},
                            QStringLiteral("Close with 1000 this many seconds after the --execute "
                                           "messages were sent, or without them, after connecting."),
                            QStringLiteral("seconds")),
         applyWait},
        {QCommandLineOption({QStringLiteral("P"), QStringLiteral("show-ping-pong")},
                            QStringLiteral("Print the pings and pongs received.")),
         [](const QStringList &, ConnectConfig &config) {
             config.showPingPong = true;
             return QString();
         }},
        {QCommandLineOption(QStringLiteral("no-deflate"), QStringLiteral("Do not offer permessage-deflate.")),
         [](const QStringList &, ConnectConfig &config) {
             config.client.perMessageDeflate.reset();
             return QString();
         }},
        {QCommandLineOption(QStringLiteral("ca"),
                            QStringLiteral("Trust the CA certificates of this PEM file (verification stays on)."),
                            QStringLiteral("file")),
         [](const QStringList &values, ConnectConfig &config) {
             for (const QString &path : values) {
                 if (QString error = addCaCertificates(path, config.client.sslConfiguration); !error.isEmpty())
                     return error;
             }
             return QString();
         }},
        {QCommandLineOption(QStringLiteral("cert"), QStringLiteral("Present this PEM client certificate."),
                            QStringLiteral("file")),
         [](const QStringList &values, ConnectConfig &config) { return lastValue(values, &config.clientCertificate); }},
        {QCommandLineOption(QStringLiteral("key"), QStringLiteral("The PEM private key of --cert."),
                            QStringLiteral("file")),
         [](const QStringList &values, ConnectConfig &config) { return lastValue(values, &config.clientKey); }},
        {QCommandLineOption(QStringLiteral("insecure"),
                            QStringLiteral("Do not verify the server's certificate (unsafe; warned about).")),
         [](const QStringList &, ConnectConfig &config) {
             config.insecure = true;
             return QString();
         }},
        {QCommandLineOption(QStringLiteral("proxy"),
                            QStringLiteral("Connect through this proxy: http://[user:password@]host:port "
                                           "(HTTP CONNECT) or socks5://[user:password@]host:port."),
                            QStringLiteral("url")),
         applyProxy},
    };
    spec.finish = finish;
    spec.helpEpilogue = consoleHelp() + QStringLiteral("\n\n") + exitStatusHelp();
    return spec;
}

} // namespace cli
