#include "output.h"

#include <QtCore/qstringconverter.h>
#include <QtNetwork/qhostaddress.h>

#include <cstdio>

namespace cli {

namespace {

constexpr qsizetype kHexDumpBytes = 64;

void writeLine(std::FILE *stream, const QByteArray &line)
{
    std::fwrite(line.constData(), 1, size_t(line.size()), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}

QByteArray describeBinary(const QByteArray &data)
{
    QByteArray text = "<binary " + QByteArray::number(data.size()) + " bytes>";
    if (!data.isEmpty())
        text += ' ' + data.left(kHexDumpBytes).toHex();
    if (data.size() > kHexDumpBytes)
        text += "...";
    return text;
}

bool isPrintableText(const QByteArray &data)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder(data);
    if (decoder.hasError())
        return false;
    for (const QChar ch : text) {
        if (ch.category() == QChar::Other_Control)
            return false;
    }
    return true;
}

} // namespace

void printLine(const QByteArray &line)
{
    writeLine(stdout, line);
}

void printError(const QString &line)
{
    writeLine(stderr, line.toLocal8Bit());
}

QByteArray describeMessage(const QByteArray &message, bool isBinary)
{
    return isBinary ? describeBinary(message) : message;
}

QByteArray describePayload(const QByteArray &payload)
{
    return isPrintableText(payload) ? payload : describeBinary(payload);
}

QByteArray describeClose(int code, const QByteArray &reason)
{
    return "(code: " + QByteArray::number(code) + ", reason: \"" + reason + "\")";
}

QString describeEndpoint(const QHostAddress &address, quint16 port)
{
    bool isIPv4 = false;
    const quint32 ipv4 = address.toIPv4Address(&isIPv4);
    QString host;
    if (isIPv4)
        host = QHostAddress(ipv4).toString();
    else if (address.protocol() == QHostAddress::IPv6Protocol)
        host = QLatin1Char('[') + address.toString() + QLatin1Char(']');
    else
        host = address.toString();
    return host + QLatin1Char(':') + QString::number(port);
}

} // namespace cli
