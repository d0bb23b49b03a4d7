// Runs a fuzz target without libFuzzer, as a test: on the inputs its seed
// files give, on deterministic mutations of them, on random inputs and on the
// inputs the target builds itself. Or writes the seed inputs out as the
// starting corpus of a libFuzzer run.
//
// Usage: <target>_replay [--write-corpus DIR] [--mutations N] [PATH...]
//
// PATHs are files or directories, whose inputs then run alone (that is how
// a failure is replayed). Without any, the target's seed directories
// (compiled in) are read, and mutations, random inputs and the inputs the
// target builds run too. A .hex file is decoded as
// tests/vectors/frames/README.md describes; a .fuzz file, or one without a
// suffix as libFuzzer names what it finds (crash-*, timeout-*), is a
// complete input and runs as it is; .md files are skipped; any other file
// is a seed as it is.

#include "fuzzsupport.h"

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>

#include <csignal>
#include <cstdio>

namespace {

using wsqt::fuzz::Random;

[[noreturn]] void fatal(const QString &message)
{
    std::fprintf(stderr, "%s\n", qPrintable(message));
    std::exit(2);
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Two hex digits per byte, whitespace between bytes, '#' to the end of the
// line; anything else makes the vector unusable.
QByteArray decodeHex(const QString &path, const QByteArray &text)
{
    QByteArray bytes;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '#') {
            while (i < text.size() && text[i] != '\n')
                ++i;
            continue;
        }
        const int high = hexDigit(c);
        const int low = i + 1 < text.size() ? hexDigit(text[i + 1]) : -1;
        if (high < 0 || low < 0)
            fatal(QStringLiteral("%1: not a hex vector at offset %2").arg(path).arg(i));
        bytes.append(char(high << 4 | low));
        ++i;
    }
    return bytes;
}

struct Input
{
    QString name;
    QByteArray data;
};

void addFile(const QString &path, QList<Input> *seeds, QList<Input> *complete)
{
    const QFileInfo info(path);
    if (info.suffix() == QLatin1String("md"))
        return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        fatal(QStringLiteral("cannot read %1").arg(path));
    QByteArray content = file.readAll();
    if (info.suffix() == QLatin1String("fuzz") || info.suffix().isEmpty()) {
        complete->append({info.completeBaseName(), content});
        return;
    }
    if (info.suffix() == QLatin1String("hex"))
        content = decodeHex(path, content);
    QList<QByteArray> inputs;
    wsqt::fuzz::addSeedInputs(info.fileName(), content, &inputs);
    for (qsizetype i = 0; i < inputs.size(); ++i)
        seeds->append({QStringLiteral("%1-%2").arg(info.completeBaseName()).arg(i), inputs[i]});
}

void addPath(const QString &path, QList<Input> *seeds, QList<Input> *complete)
{
    const QFileInfo info(path);
    if (!info.exists())
        fatal(QStringLiteral("no such file or directory: %1").arg(path));
    if (!info.isDir()) {
        addFile(path, seeds, complete);
        return;
    }
    const QDir dir(path);
    for (const QString &name : dir.entryList(QDir::Files, QDir::Name))
        addFile(dir.filePath(name), seeds, complete);
}

// Byte-level edits of a seed, of the kinds libFuzzer makes.
QByteArray mutate(QByteArray data, const QList<Input> &seeds, Random *random)
{
    const int edits = 1 + int(random->below(4));
    for (int e = 0; e < edits; ++e) {
        const qsizetype size = data.size();
        const auto at = [&](qsizetype bound) { return qsizetype(random->below(quint64(bound))); };
        switch (random->below(7)) {
        case 0:
            if (size)
                data[at(size)] ^= char(1 << random->below(8));
            break;
        case 1:
            if (size)
                data[at(size)] = char(random->next());
            break;
        case 2: {
            QByteArray inserted(1 + at(8), Qt::Uninitialized);
            for (char &c : inserted)
                c = char(random->next());
            data.insert(at(size + 1), inserted);
            break;
        }
        case 3:
            if (size)
                data.remove(at(size), 1 + at(16));
            break;
        case 4:
            data.truncate(at(size + 1));
            break;
        case 5:
            if (size) {
                const qsizetype from = at(size);
                const QByteArray slice = data.mid(from, 1 + at(64));
                data.insert(at(size + 1), slice);
            }
            break;
        default: {
            const QByteArray &other = seeds[at(seeds.size())].data;
            data = data.left(at(size + 1)) + other.mid(at(other.size() + 1));
            break;
        }
        }
    }
    return data;
}

// The input running now, saved by the abort handler so that a failure can be
// replayed alone and minimised.
QByteArray currentName;
QByteArray currentInput;
QByteArray failurePath;

extern "C" void saveFailedInput(int signal)
{
    std::fprintf(stderr, "failed on input %s (%lld bytes), saved as %s\n", currentName.constData(),
                 qlonglong(currentInput.size()), failurePath.constData());
    if (FILE *file = std::fopen(failurePath.constData(), "wb")) {
        std::fwrite(currentInput.constData(), 1, size_t(currentInput.size()), file);
        std::fclose(file);
    }
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}

void run(const QString &name, const QByteArray &input)
{
    currentName = name.toLocal8Bit();
    currentInput = input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.constData()), size_t(input.size()));
}

void writeCorpus(const QString &directory, const QList<Input> &inputs)
{
    if (!QDir().mkpath(directory))
        fatal(QStringLiteral("cannot create %1").arg(directory));
    for (const Input &input : inputs) {
        QFile file(QDir(directory).filePath(input.name));
        if (!file.open(QIODevice::WriteOnly) || file.write(input.data) != input.data.size())
            fatal(QStringLiteral("cannot write %1").arg(file.fileName()));
    }
}

} // namespace

int main(int argc, char **argv)
{
    QString corpus;
    int mutations = 16;
    QStringList paths;
    for (int i = 1; i < argc; ++i) {
        const QString arg = QString::fromLocal8Bit(argv[i]);
        if (arg == QLatin1String("--write-corpus") && i + 1 < argc)
            corpus = QString::fromLocal8Bit(argv[++i]);
        else if (arg == QLatin1String("--mutations") && i + 1 < argc)
            mutations = QString::fromLocal8Bit(argv[++i]).toInt();
        else if (arg.startsWith(QLatin1Char('-')))
            fatal(QStringLiteral("usage: %1 [--write-corpus DIR] [--mutations N] [PATH...]")
                          .arg(QString::fromLocal8Bit(argv[0])));
        else
            paths.append(arg);
    }
    // Files named on the command line run alone: that is how a failure is replayed.
    const bool explicitPaths = !paths.isEmpty();
    if (!explicitPaths)
        paths = QString::fromUtf8(WSQT_FUZZ_SEEDS).split(QLatin1Char('|'), Qt::SkipEmptyParts);

    QList<Input> seeds;
    QList<Input> complete;
    for (const QString &path : std::as_const(paths))
        addPath(path, &seeds, &complete);
    if (!explicitPaths) {
        QList<QByteArray> generated;
        wsqt::fuzz::addGeneratedInputs(&generated);
        for (qsizetype i = 0; i < generated.size(); ++i)
            seeds.append({QStringLiteral("generated-%1").arg(i), generated[i]});
    }

    if (!corpus.isEmpty()) {
        writeCorpus(corpus, seeds + complete);
        std::printf("%lld inputs written to %s\n", qlonglong(seeds.size() + complete.size()),
                    qPrintable(corpus));
        return 0;
    }

    failurePath = QFileInfo(QString::fromLocal8Bit(argv[0])).fileName().toLocal8Bit() + "-failed.fuzz";
    std::signal(SIGABRT, saveFailedInput);
    for (const Input &input : std::as_const(complete))
        run(input.name, input.data);
    for (const Input &input : std::as_const(seeds))
        run(input.name, input.data);

    if (explicitPaths) {
        std::printf("%lld inputs: all passed\n", qlonglong(complete.size() + seeds.size()));
        return 0;
    }
    Random random(0x5eed);
    qsizetype mutated = 0;
    for (int round = 0; round < mutations && !seeds.isEmpty(); ++round) {
        for (const Input &input : std::as_const(seeds)) {
            run(QStringLiteral("%1 mutated in round %2").arg(input.name).arg(round),
                mutate(input.data, seeds, &random));
            ++mutated;
        }
    }
    // Inputs of no structure at all, of every small length.
    constexpr int randomInputs = 2000;
    for (int i = 0; i < randomInputs; ++i) {
        QByteArray input(qsizetype(random.below(i < 1000 ? 16 : 1024)), Qt::Uninitialized);
        for (char &c : input)
            c = char(random.next());
        run(QStringLiteral("random-%1").arg(i), input);
    }
    std::printf("%lld complete inputs, %lld seed inputs, %lld mutations, %d random inputs: all passed\n",
                qlonglong(complete.size()), qlonglong(seeds.size()), qlonglong(mutated), randomInputs);
    return 0;
}
