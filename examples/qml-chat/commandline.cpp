#include "commandline.h"

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qtextstream.h>
#include <QtGui/qimage.h>
#include <QtQuick/qquickwindow.h>

namespace {

CommandLine *g_instance = nullptr;

} // namespace

void CommandLine::parse(const QCoreApplication &application)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("A WebSocket chat: one window hosts, the others join."));
    parser.addHelpOption();
    const QCommandLineOption host(QStringLiteral("host-port"),
                                  QStringLiteral("Host the chat on <port> (0: any free port)."),
                                  QStringLiteral("port"));
    const QCommandLineOption join(QStringLiteral("join"), QStringLiteral("Join the chat at <url>."),
                                  QStringLiteral("url"));
    const QCommandLineOption name(QStringLiteral("name"), QStringLiteral("Chat as <name>."), QStringLiteral("name"));
    const QCommandLineOption say(QStringLiteral("say"), QStringLiteral("Say <text> once connected (repeatable)."),
                                 QStringLiteral("text"));
    const QCommandLineOption quitAfter(QStringLiteral("quit-after"),
                                       QStringLiteral("Leave and quit once <count> messages are shown."),
                                       QStringLiteral("count"));
    const QCommandLineOption dump(QStringLiteral("dump"),
                                  QStringLiteral("Print the messages shown when quitting (with --quit-after)."));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Save the window to <file> when quitting (with --quit-after)."),
                                        QStringLiteral("file"));
    parser.addOptions({host, join, name, say, quitAfter, dump, screenshot});
    parser.process(application);

    auto *commandLine = new CommandLine;
    bool valid = true;
    if (parser.isSet(host))
        commandLine->m_hostPort = parser.value(host).toInt(&valid);
    if (valid && parser.isSet(quitAfter))
        commandLine->m_quitAfter = parser.value(quitAfter).toInt(&valid);
    if (!valid || (parser.isSet(host) && parser.isSet(join)))
        parser.showHelp(1);
    commandLine->m_joinUrl = parser.value(join);
    commandLine->m_name = parser.value(name);
    commandLine->m_messages = parser.values(say);
    commandLine->m_dump = parser.isSet(dump);
    commandLine->m_screenshot = parser.value(screenshot);
    g_instance = commandLine;
}

CommandLine *CommandLine::create(QQmlEngine *, QJSEngine *)
{
    // The engine takes ownership of the instance.
    return g_instance;
}

void CommandLine::print(const QString &line) const
{
    QTextStream(stdout) << line << Qt::endl;
}

void CommandLine::finish(QQuickWindow *window, const QStringList &transcript) const
{
    if (m_dump) {
        for (const QString &line : transcript)
            print(QStringLiteral("message: ") + line);
    }
    if (!m_screenshot.isEmpty()) {
        const bool saved = window->grabWindow().save(m_screenshot);
        print(saved ? QStringLiteral("screenshot: ") + m_screenshot
                    : QStringLiteral("screenshot failed: ") + m_screenshot);
    }
}
