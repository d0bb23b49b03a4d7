#pragma once

// The command line shared by the Qt echo servers, "[--port N] [--deflate]",
// and the line that tells bench/run.sh where a server listens.

#include <QtCore/qcoreapplication.h>
#include <QtCore/qstringlist.h>

#include <cstdio>
#include <cstdlib>

struct ServerArguments
{
    quint16 port = 0;
    bool deflate = false;
};

// Exits with status 2 on a bad command line.
inline ServerArguments parseServerArguments(bool deflateSupported)
{
    ServerArguments arguments;
    const QStringList list = QCoreApplication::arguments();
    for (qsizetype i = 1; i < list.size(); ++i) {
        bool ok = true;
        if (list.at(i) == QLatin1String("--port") && i + 1 < list.size())
            arguments.port = list.at(++i).toUShort(&ok);
        else if (list.at(i) == QLatin1String("--deflate") && deflateSupported)
            arguments.deflate = true;
        else
            ok = false;
        if (!ok) {
            std::fprintf(stderr, "Usage: %s [--port N]%s\n", qPrintable(QCoreApplication::applicationName()),
                         deflateSupported ? " [--deflate]" : "");
            std::exit(2);
        }
    }
    return arguments;
}

inline void announcePort(quint16 port)
{
    std::printf("listening %u\n", unsigned(port));
    std::fflush(stdout);
}
