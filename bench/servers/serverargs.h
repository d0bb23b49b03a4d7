#pragma once

// The command line shared by the Qt echo servers,
// "[--port N] [--deflate] [--threads N] [--ping-interval MS]" (the last three
// where a server supports them), and the line that tells bench/run.sh where a
// server listens.

#include <QtCore/qcoreapplication.h>
#include <QtCore/qstringlist.h>

#include <cstdio>
#include <cstdlib>

struct ServerArguments
{
    // What a server supports beyond --port.
    enum Feature { Deflate = 0x1, Threads = 0x2, PingInterval = 0x4 };

    quint16 port = 0;
    bool deflate = false;
    int threads = 0;        // event-loop threads besides the server's own; 0: none
    int pingInterval = 0;   // heartbeat in ms; 0: none
};

// Exits with status 2 on a bad command line.
inline ServerArguments parseServerArguments(int features)
{
    ServerArguments arguments;
    const QStringList list = QCoreApplication::arguments();
    for (qsizetype i = 1; i < list.size(); ++i) {
        bool ok = true;
        if (list.at(i) == QLatin1String("--port") && i + 1 < list.size()) {
            arguments.port = list.at(++i).toUShort(&ok);
        } else if (list.at(i) == QLatin1String("--deflate") && (features & ServerArguments::Deflate)) {
            arguments.deflate = true;
        } else if (list.at(i) == QLatin1String("--threads") && (features & ServerArguments::Threads)
                   && i + 1 < list.size()) {
            arguments.threads = list.at(++i).toInt(&ok);
            ok = ok && arguments.threads >= 0 && arguments.threads <= 1024;
        } else if (list.at(i) == QLatin1String("--ping-interval") && (features & ServerArguments::PingInterval)
                   && i + 1 < list.size()) {
            arguments.pingInterval = list.at(++i).toInt(&ok);
            ok = ok && arguments.pingInterval > 0;
        } else {
            ok = false;
        }
        if (!ok) {
            std::fprintf(stderr, "Usage: %s [--port N]%s%s%s\n", qPrintable(QCoreApplication::applicationName()),
                         (features & ServerArguments::Deflate) ? " [--deflate]" : "",
                         (features & ServerArguments::Threads) ? " [--threads N]" : "",
                         (features & ServerArguments::PingInterval) ? " [--ping-interval MS]" : "");
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
