#include "subprotocol.h"

#include "http.h"

#include <QtCore/qset.h>

namespace wsqt::core {

namespace {

QString unexpectedCharacter(qsizetype index)
{
    return QStringLiteral("Unexpected character at index %1").arg(index);
}

QString duplicated(QByteArrayView protocol)
{
    // Node reads header bytes as Latin-1.
    return QStringLiteral("The \"%1\" subprotocol is duplicated").arg(QString::fromLatin1(protocol));
}

} // namespace

bool parseSubprotocols(QByteArrayView header, QList<QByteArray> *protocols, QString *error)
{
    QList<QByteArray> result;
    QSet<QByteArray> seen;   // a set, so that many tokens stay linear
    qsizetype start = -1;    // the current token's first byte
    qsizetype end = -1;      // the whitespace after it, if any

    const auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const auto take = [&](qsizetype tokenEnd) {
        QByteArray protocol = header.sliced(start, tokenEnd - start).toByteArray();
        if (seen.contains(protocol))
            return fail(duplicated(protocol));
        seen.insert(protocol);
        result.append(std::move(protocol));
        return true;
    };

    for (qsizetype i = 0; i < header.size(); ++i) {
        const char c = header[i];
        if (end == -1 && isTokenChar(uchar(c))) {
            if (start == -1)
                start = i;
        } else if (i != 0 && (c == ' ' || c == '\t')) {
            if (end == -1 && start != -1)
                end = i;
        } else if (c == ',') {
            if (start == -1)
                return fail(unexpectedCharacter(i));
            if (!take(end == -1 ? i : end))
                return false;
            start = end = -1;
        } else {
            return fail(unexpectedCharacter(i));
        }
    }

    if (start == -1 || end != -1)
        return fail(QStringLiteral("Unexpected end of input"));
    if (!take(header.size()))
        return false;
    if (protocols)
        *protocols = std::move(result);
    return true;
}

bool isValidSubprotocol(QByteArrayView protocol)
{
    return isToken(protocol);
}

} // namespace wsqt::core
