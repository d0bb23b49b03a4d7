#pragma once

#include <QtCore/qcommandlineoption.h>
#include <QtCore/qcommandlineparser.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>

#include <functional>

namespace cli {

// What a command line asks for.
struct ParseOutcome
{
    enum Action { Run, ShowHelp, Fail };

    Action action = Run;
    QString text;   // ShowHelp: the help text; Fail: the error message
};

// An option and how its values are stored into a command's configuration.
// A command's options are a list of these, so adding a flag adds one entry.
template<typename Config>
struct OptionRule
{
    QCommandLineOption option;
    // Gets every value given (none for a flag); returns an error message, or empty.
    std::function<QString(const QStringList &values, Config &config)> apply;
};

// A command: "wsqt NAME [options] ARGUMENT".
template<typename Config>
struct CommandSpec
{
    QString name;
    QString description;
    QString argumentName;
    QString argumentDescription;
    std::function<QString(const QString &argument, Config &config)> applyArgument;
    bool argumentOptional = false;
    QList<OptionRule<Config>> options;
    // Checks and completes the configuration once every option is applied
    // (files named by options are read here); returns an error message, or empty.
    std::function<QString(Config &config)> finish;
    // Appended to the help text.
    QString helpEpilogue;
};

// `arguments` are the process's, the command name second.
template<typename Config>
ParseOutcome parseCommand(const CommandSpec<Config> &spec, QStringList arguments, Config *config)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(spec.description);
    const QCommandLineOption helpOption = parser.addHelpOption();
    parser.addPositionalArgument(spec.argumentName, spec.argumentDescription);
    for (const OptionRule<Config> &rule : spec.options)
        parser.addOption(rule.option);

    arguments.removeAt(1);
    if (!parser.parse(arguments))
        return {ParseOutcome::Fail, parser.errorText()};
    if (parser.isSet(helpOption)) {
        // Qt names the executable by its path; the usage line names the command.
        QString help = parser.helpText();
        help.replace(0, help.indexOf(QLatin1Char('\n')),
                     QStringLiteral("Usage: wsqt %1 [options] %2").arg(spec.name, spec.argumentName));
        return {ParseOutcome::ShowHelp, help + QLatin1Char('\n') + spec.helpEpilogue};
    }

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1)
        return {ParseOutcome::Fail, QStringLiteral("unexpected argument: %1").arg(positional.at(1))};
    if (positional.isEmpty() && !spec.argumentOptional)
        return {ParseOutcome::Fail, QStringLiteral("missing %1").arg(spec.argumentName)};
    QString error = positional.isEmpty() ? QString() : spec.applyArgument(positional.constFirst(), *config);
    for (auto rule = spec.options.cbegin(); error.isEmpty() && rule != spec.options.cend(); ++rule) {
        if (parser.isSet(rule->option))
            error = rule->apply(parser.values(rule->option), *config);
    }
    if (error.isEmpty() && spec.finish)
        error = spec.finish(*config);
    if (!error.isEmpty())
        return {ParseOutcome::Fail, error};
    return {};
}

} // namespace cli
