#pragma once

// What the C++ client benchmarks share: the command line and the meter that
// counts echoes over the measured window and prints the result line.
//
//   --url ws://127.0.0.1:PORT/ [--connections N] [--inflight K] [--size BYTES]
//   [--warmup S] [--duration S] [--label TEXT]

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qstring.h>
#include <QtCore/qurl.h>

struct ClientBenchOptions
{
    QUrl url;
    int connections = 1;
    int inflight = 1;
    int size = 64;
    double warmup = 1.0;
    double duration = 5.0;
    QString label = QStringLiteral("-");
};

// Exits with status 2 on a bad command line.
ClientBenchOptions parseClientBenchOptions();

class ClientBenchMeter
{
public:
    ClientBenchMeter(const ClientBenchOptions &options, const char *client);

    // Every connection is open and pumping: the warm-up starts, then the
    // measured window; at its end the result is printed and the event loop quits.
    void start();
    // One echo came back.
    void count()
    {
        if (m_measuring)
            ++m_messages;
    }
    // A connection failed: prints why and quits with status 1.
    static void fail(const QString &message);

private:
    void begin();
    void finish();

    const ClientBenchOptions &m_options;
    const char *m_client;
    bool m_measuring = false;
    quint64 m_messages = 0;
    QElapsedTimer m_clock;
    double m_cpuAtStart = 0;
};
