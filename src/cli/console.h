#pragma once

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>

namespace cli {

// One line typed into the interactive client: a message, or a slash command.
//   /ping [data]  /pong [data]  /close [code [reason]]
// A line starting with "//" is sent as a message without its first "/".
struct ConsoleCommand
{
    enum Kind { Message, Ping, Pong, Close, Invalid };

    Kind kind = Message;
    QByteArray data;    // the message, the ping or pong payload, or the close reason
    int code = 1000;    // Close
    QString error;      // Invalid: why the line was not understood
};

ConsoleCommand parseConsoleLine(const QByteArray &line);

// The commands, one per line, for the help text.
QString consoleHelp();

} // namespace cli
