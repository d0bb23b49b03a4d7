#include "clientbench.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qtimer.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

namespace {

double ownCpuSeconds()
{
    rusage usage = {};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void usage(const QString &problem)
{
    std::fprintf(stderr, "%s: %s\nUsage: %s --url ws://HOST:PORT/ [--connections N] [--inflight K] [--size BYTES]"
                         " [--warmup S] [--duration S] [--label TEXT]\n",
                 qPrintable(QCoreApplication::applicationName()), qPrintable(problem),
                 qPrintable(QCoreApplication::applicationName()));
    std::exit(2);
}

} // namespace

ClientBenchOptions parseClientBenchOptions()
{
    ClientBenchOptions options;
    const QStringList arguments = QCoreApplication::arguments();
    for (qsizetype i = 1; i < arguments.size(); i += 2) {
        const QString &name = arguments.at(i);
        if (i + 1 >= arguments.size())
            usage(QStringLiteral("%1 needs a value").arg(name));
        const QString &value = arguments.at(i + 1);
        bool ok = true;
        if (name == QLatin1String("--url")) {
            options.url = QUrl(value);
            ok = options.url.isValid();
        } else if (name == QLatin1String("--connections")) {
            options.connections = value.toInt(&ok);
            ok = ok && options.connections > 0;
        } else if (name == QLatin1String("--inflight")) {
            options.inflight = value.toInt(&ok);
            ok = ok && options.inflight > 0;
        } else if (name == QLatin1String("--size")) {
            options.size = value.toInt(&ok);
            ok = ok && options.size >= 0;
        } else if (name == QLatin1String("--warmup")) {
            options.warmup = value.toDouble(&ok);
        } else if (name == QLatin1String("--duration")) {
            options.duration = value.toDouble(&ok);
        } else if (name == QLatin1String("--label")) {
            options.label = value;
        } else {
            usage(QStringLiteral("unknown option %1").arg(name));
        }
        if (!ok)
            usage(QStringLiteral("bad value for %1").arg(name));
    }
    if (options.url.isEmpty())
        usage(QStringLiteral("--url is required"));
    return options;
}

ClientBenchMeter::ClientBenchMeter(const ClientBenchOptions &options, const char *client)
    : m_options(options), m_client(client)
{
}

void ClientBenchMeter::start()
{
    QTimer::singleShot(int(m_options.warmup * 1000), Qt::PreciseTimer, [this] { begin(); });
}

void ClientBenchMeter::fail(const QString &message)
{
    std::fprintf(stderr, "%s: %s\n", qPrintable(QCoreApplication::applicationName()), qPrintable(message));
    std::fflush(stderr);
    QCoreApplication::exit(1);
}

void ClientBenchMeter::begin()
{
    m_measuring = true;
    m_messages = 0;
    m_cpuAtStart = ownCpuSeconds();
    m_clock.start();
    QTimer::singleShot(int(m_options.duration * 1000), Qt::PreciseTimer, [this] { finish(); });
}

void ClientBenchMeter::finish()
{
    const double seconds = double(m_clock.nsecsElapsed()) / 1e9;
    const double cpu = ownCpuSeconds() - m_cpuAtStart;
    const double rate = double(m_messages) / seconds;
    m_measuring = false;
    std::printf("result label=%s client=%s connections=%d inflight=%d size=%d messages=%llu seconds=%.3f"
                " msgs_per_s=%.1f mb_per_s=%.2f own_cpu_pct=%.1f\n",
                qPrintable(m_options.label), m_client, m_options.connections, m_options.inflight, m_options.size,
                static_cast<unsigned long long>(m_messages), seconds, rate, rate * m_options.size / 1e6,
                100.0 * cpu / seconds);
    std::fflush(stdout);
    QCoreApplication::exit(0);
}
