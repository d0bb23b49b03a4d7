#pragma once

#include <QtCore/qstring.h>

namespace cli {

// The process exit status; every command documents it in its --help.
enum ExitCode {
    ExitSuccess = 0,    // the connection ended with a normal close
    ExitFailure = 1,    // connecting, the opening handshake or listening failed, or an error close
    ExitUsage = 2,      // the command line was wrong
};

inline QString exitStatusHelp()
{
    return QStringLiteral(
            "Exit status:\n"
            "  0  the connection closed normally: with code 1000, without a code (1005),\n"
            "     or after this side started the close\n"
            "  1  connecting, the opening handshake or listening failed, or the\n"
            "     connection closed with any other code or because of an error\n"
            "  2  the command line was wrong");
}

} // namespace cli
