#include "console.h"

#include <utility>

namespace cli {

namespace {

// Splits "word rest of line" at the first space; the rest keeps its inner spaces.
std::pair<QByteArray, QByteArray> splitWord(const QByteArray &text)
{
    const qsizetype space = text.indexOf(' ');
    if (space < 0)
        return {text, QByteArray()};
    return {text.left(space), text.mid(space + 1)};
}

ConsoleCommand invalid(const QString &error)
{
    ConsoleCommand command;
    command.kind = ConsoleCommand::Invalid;
    command.error = error;
    return command;
}

ConsoleCommand parseClose(const QByteArray &arguments)
{
    ConsoleCommand command;
    command.kind = ConsoleCommand::Close;
    if (arguments.isEmpty())
        return command;
    const auto [codeText, reason] = splitWord(arguments);
    bool ok = false;
    command.code = codeText.toInt(&ok);
    if (!ok)
        return invalid(QStringLiteral("/close: not a close code: %1").arg(QString::fromUtf8(codeText)));
    command.data = reason;
    return command;
}

} // namespace

ConsoleCommand parseConsoleLine(const QByteArray &line)
{
    ConsoleCommand command;
    if (!line.startsWith('/')) {
        command.data = line;
        return command;
    }
    if (line.startsWith("//")) {
        command.data = line.mid(1);
        return command;
    }
    const auto [name, arguments] = splitWord(line.mid(1));
    if (name == "ping" || name == "pong") {
        command.kind = name == "ping" ? ConsoleCommand::Ping : ConsoleCommand::Pong;
        command.data = arguments;
        return command;
    }
    if (name == "close")
        return parseClose(arguments);
    return invalid(QStringLiteral("unknown command /%1 (type //%1 to send it as a message)")
                           .arg(QString::fromUtf8(name)));
}

QString consoleHelp()
{
    return QStringLiteral(
            "Interactive commands (each line of standard input):\n"
            "  TEXT                    send TEXT as a text message\n"
            "  //TEXT                  send /TEXT as a text message\n"
            "  /ping [DATA]            send a ping\n"
            "  /pong [DATA]            send a pong\n"
            "  /close [CODE [REASON]]  close the connection (default code 1000)\n"
            "The end of input closes the connection with 1000.");
}

} // namespace cli
