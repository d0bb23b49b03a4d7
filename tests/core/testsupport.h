#pragma once

// Shared helpers for the core's unit tests.

#include <QtCore/qbytearray.h>
#include <QtCore/qfile.h>
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

} // namespace wsqt::test
