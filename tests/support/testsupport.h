#pragma once

// Shared helpers for the core's unit tests.

#include <QtCore/qbytearray.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfile.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstring.h>

namespace wsqt::test {

// "81 05 48 65" -> bytes; spaces and newlines are ignored.
inline QByteArray hex(const char *text)
{
    QByteArray compact(text);
    compact.replace(' ', "").replace('\n', "");
    return QByteArray::fromHex(compact);
}

inline QByteArray readVector(const QString &name)
{
    QFile file(QStringLiteral(WSQT_VECTORS_DIR "/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read test vector %s", qPrintable(name));
    return file.readAll();
}

// Runs this test binary again with `variable` set to `value` and the test
// function `testFunction` only; returns its output, or a null array (with
// the reason in `failure`) when it did not exit cleanly.
inline QByteArray runSelfWithEnvironment(const QString &variable, const QString &value,
                                         const QString &testFunction, QByteArray *failure)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(variable, value);
    QProcess child;
    child.setProcessEnvironment(environment);
    child.setProcessChannelMode(QProcess::MergedChannels);
    child.start(QCoreApplication::applicationFilePath(), {testFunction});
    const bool finished = child.waitForFinished(60000);
    const QByteArray output = child.readAll();
    if (!finished || child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0) {
        *failure = output.isEmpty() ? QByteArray("the child did not finish cleanly") : output;
        return {};
    }
    return output;
}

} // namespace wsqt::test
