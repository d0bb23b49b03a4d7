#include "listenoptions.h"

#include "exitcode.h"
#include "tlsfiles.h"

namespace cli {

namespace {

QString applyPort(const QString &text, ListenConfig &config)
{
    bool ok = false;
    const uint port = text.toUInt(&ok);
    if (!ok || port > 65535)
        return QStringLiteral("invalid port: %1").arg(text);
    config.server.port = int(port);
    return {};
}

QString applyHost(const QStringList &values, ListenConfig &config)
{
    const QString &text = values.constLast();
    QHostAddress address;
    if (text == QLatin1String("localhost"))
        address = QHostAddress::LocalHost;
    else if (!address.setAddress(text))
        return QStringLiteral("invalid host address: %1").arg(text);
    config.server.host = address;
    return {};
}

QString applyPath(const QStringList &values, ListenConfig &config)
{
    const QString &path = values.constLast();
    if (!path.startsWith(QLatin1Char('/')))
        return QStringLiteral("the path must start with \"/\": %1").arg(path);
    config.server.path = path;
    return {};
}

QString applyMode(ListenConfig::Mode mode, ListenConfig &config)
{
    if (config.mode != ListenConfig::Mode::Print && config.mode != mode)
        return QStringLiteral("--echo and --broadcast exclude each other");
    config.mode = mode;
    return {};
}

QString applyMaxPayload(const QStringList &values, ListenConfig &config)
{
    bool ok = false;
    const qint64 bytes = values.constLast().toLongLong(&ok);
    if (!ok || bytes < 0)
        return QStringLiteral("invalid --max-payload: %1").arg(values.constLast());
    config.server.maxPayload = bytes;
    return {};
}

QString applyDeflateThreshold(const QStringList &values, ListenConfig &config)
{
    bool ok = false;
    const int bytes = values.constLast().toInt(&ok);
    if (!ok || bytes < 0)
        return QStringLiteral("invalid --deflate-threshold: %1").arg(values.constLast());
    if (!config.server.perMessageDeflate)
        config.server.perMessageDeflate = WsDeflateOptions();
    config.server.perMessageDeflate->threshold = bytes;
    return {};
}

QString finish(ListenConfig &config)
{
    const bool hasPort = config.server.port != WsServerOptions::NoPort;
    if (hasPort == !config.server.socketPath.isEmpty())
        return QStringLiteral("give either a port or --unix PATH");
    if (config.tlsCertificate.isEmpty() != config.tlsKey.isEmpty())
        return QStringLiteral("--tls-cert and --tls-key go together");
    if (config.tlsCertificate.isEmpty())
        return {};
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (QString error = setLocalCertificate(config.tlsCertificate, config.tlsKey, tls); !error.isEmpty())
        return error;
    config.server.sslConfiguration = tls;
    return {};
}

QString lastValue(const QStringList &values, QString *target)
{
    *target = values.constLast();
    return {};
}

} // namespace

CommandSpec<ListenConfig> listenCommand()
{
    using Mode = ListenConfig::Mode;
    CommandSpec<ListenConfig> spec;
    spec.name = QStringLiteral("listen");
    spec.description = QStringLiteral(
            "Runs a WebSocket server. Once it listens it prints \"listening on HOST:PORT\".\n"
            "Without --echo or --broadcast it prints each message received as \"< MESSAGE\"\n"
            "(binary as \"<binary N bytes> HEX\", the hex cut after 64 bytes) and sends each\n"
            "line of standard input to every client as a text message. Connections,\n"
            "disconnections and errors are logged to standard error.");
    spec.argumentName = QStringLiteral("port");
    spec.argumentDescription = QStringLiteral("The TCP port; 0 picks a free one (not with --unix).");
    spec.applyArgument = applyPort;
    spec.argumentOptional = true;
    spec.finish = finish;
    spec.options = {
        {QCommandLineOption(QStringLiteral("host"),
                            QStringLiteral("The address to listen on (default: every interface, IPv4 and IPv6)."),
                            QStringLiteral("address")),
         applyHost},
        {QCommandLineOption(QStringLiteral("path"),
                            QStringLiteral("Accept connections only on this path; others get 400."),
                            QStringLiteral("path")),
         applyPath},
        {QCommandLineOption(QStringLiteral("echo"), QStringLiteral("Send each message back to its sender.")),
         [](const QStringList &, ListenConfig &config) { return applyMode(Mode::Echo, config); }},
        {QCommandLineOption(QStringLiteral("broadcast"),
                            QStringLiteral("Send each message to every other client.")),
         [](const QStringList &, ListenConfig &config) { return applyMode(Mode::Broadcast, config); }},
        {QCommandLineOption(QStringLiteral("max-payload"),
                            QStringLiteral("The largest message in bytes; a larger one closes the "
                                           "connection with 1009 (default: 104857600, 0: no limit)."),
                            QStringLiteral("bytes")),
         applyMaxPayload},
        {QCommandLineOption({QStringLiteral("s"), QStringLiteral("subprotocol")},
                            QStringLiteral("Accept this subprotocol (repeatable); the client's first "
                                           "accepted one is chosen. None is chosen without this."),
                            QStringLiteral("protocol")),
         [](const QStringList &values, ListenConfig &config) {
             config.protocols += values;
             return QString();
         }},
        {QCommandLineOption(QStringLiteral("deflate"), QStringLiteral("Accept permessage-deflate.")),
         [](const QStringList &, ListenConfig &config) {
             if (!config.server.perMessageDeflate)
                 config.server.perMessageDeflate = WsDeflateOptions();
             return QString();
         }},
        {QCommandLineOption(QStringLiteral("deflate-threshold"),
                            QStringLiteral("With --deflate: messages under this size are not compressed "
                                           "when the server's context takeover is off (default: 1024)."),
                            QStringLiteral("bytes")),
         applyDeflateThreshold},
        {QCommandLineOption(QStringLiteral("tls-cert"),
                            QStringLiteral("Serve TLS (wss://) with this PEM certificate (chain)."),
                            QStringLiteral("file")),
         [](const QStringList &values, ListenConfig &config) { return lastValue(values, &config.tlsCertificate); }},
        {QCommandLineOption(QStringLiteral("tls-key"), QStringLiteral("The PEM private key of --tls-cert."),
                            QStringLiteral("file")),
         [](const QStringList &values, ListenConfig &config) { return lastValue(values, &config.tlsKey); }},
        {QCommandLineOption(QStringLiteral("unix"),
                            QStringLiteral("Listen on this UNIX domain socket instead of a port."),
                            QStringLiteral("path")),
         [](const QStringList &values, ListenConfig &config) {
             return lastValue(values, &config.server.socketPath);
         }},
    };
    spec.helpEpilogue = exitStatusHelp();
    return spec;
}

} // namespace cli
