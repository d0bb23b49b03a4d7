// wsqt: a WebSocket client and server for the command line.

#include "connectsession.h"
#include "exitcode.h"
#include "listensession.h"
#include "output.h"

#include <wsqt/wsqtversion.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qloggingcategory.h>

#include <optional>

using namespace cli;

namespace {

QString generalHelp()
{
    return QStringLiteral(
                   "Usage: wsqt <command> [options]\n"
                   "\n"
                   "A WebSocket client and server for the command line.\n"
                   "\n"
                   "Commands:\n"
                   "  listen <port>  run a server that prints, echoes or broadcasts messages\n"
                   "  connect <url>  connect to a server and exchange messages\n"
                   "\n"
                   "Run \"wsqt <command> --help\" for the options of a command.\n"
                   "\n")
            + exitStatusHelp();
}

// Parses a command's arguments; returns the exit status when there is
// nothing to run: after the help, or a usage error.
template<typename Config>
std::optional<int> parse(const CommandSpec<Config> &spec, const QStringList &arguments, Config *config)
{
    const ParseOutcome outcome = parseCommand(spec, arguments, config);
    switch (outcome.action) {
    case ParseOutcome::Run:
        return std::nullopt;
    case ParseOutcome::ShowHelp:
        printLine(outcome.text.toLocal8Bit());
        return ExitSuccess;
    case ParseOutcome::Fail:
        break;
    }
    printError(QStringLiteral("wsqt %1: %2\nTry \"wsqt %1 --help\".").arg(spec.name, outcome.text));
    return ExitUsage;
}

int listen(const QStringList &arguments)
{
    ListenConfig config;
    if (const std::optional<int> status = parse(listenCommand(), arguments, &config))
        return *status;
    ListenSession session(config);
    if (!session.start())
        return ExitFailure;
    return QCoreApplication::exec();
}

int connectTo(const QStringList &arguments)
{
    ConnectConfig config;
    if (const std::optional<int> status = parse(connectCommand(), arguments, &config))
        return *status;
    ConnectSession session(config);
    if (const WsError error = session.start()) {
        printError(QStringLiteral("wsqt connect: %1").arg(error.message()));
        return ExitUsage;
    }
    QObject::connect(&session, &ConnectSession::finished, &QCoreApplication::exit);
    return QCoreApplication::exec();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("wsqt"));
    QCoreApplication::setApplicationVersion(QStringLiteral(WSQT_VERSION_STR));
    // Every error reaches the tool as a WsError and is reported once, as
    // "error: ..."; QT_LOGGING_RULES still turns the library's log back on.
    QLoggingCategory::setFilterRules(QStringLiteral("wsqt.*.warning=false"));

    const QStringList arguments = QCoreApplication::arguments();
    const QString command = arguments.value(1);
    if (command == QLatin1String("listen"))
        return listen(arguments);
    if (command == QLatin1String("connect"))
        return connectTo(arguments);
    if (command == QLatin1String("-h") || command == QLatin1String("--help") || command == QLatin1String("help")) {
        printLine(generalHelp().toLocal8Bit());
        return ExitSuccess;
    }
    if (command == QLatin1String("-v") || command == QLatin1String("--version")) {
        printLine("wsqt " WSQT_VERSION_STR);
        return ExitSuccess;
    }
    printError((command.isEmpty() ? QStringLiteral("wsqt: missing command")
                                  : QStringLiteral("wsqt: unknown command: %1").arg(command))
               + QStringLiteral("\n\n") + generalHelp());
    return ExitUsage;
}
