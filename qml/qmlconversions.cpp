#include "qmlconversions.h"

#include <QtQml/qjsvalue.h>

namespace wsqtqml {

namespace {

bool isArrayBuffer(const QJSValue &value)
{
    return value.isObject() && value.toVariant().metaType() == QMetaType::fromType<QByteArray>();
}

} // namespace

Payload payloadFromJs(const QJSValue &value, bool emptyAllowed)
{
    Payload payload;
    if (value.isString()) {
        payload.kind = Payload::Text;
        payload.data = value.toString().toUtf8();
    } else if (isArrayBuffer(value)) {
        payload.kind = Payload::Binary;
        payload.data = value.toVariant().toByteArray();
    } else if (const QJSValue buffer = value.property(QStringLiteral("buffer")); isArrayBuffer(buffer)) {
        // A view: only the bytes it covers.
        const QByteArray whole = buffer.toVariant().toByteArray();
        const qsizetype offset = qsizetype(value.property(QStringLiteral("byteOffset")).toNumber());
        const qsizetype length = qsizetype(value.property(QStringLiteral("byteLength")).toNumber());
        payload.kind = Payload::Binary;
        payload.data = whole.mid(offset, length);
    } else if (emptyAllowed && (value.isUndefined() || value.isNull())) {
        payload.kind = Payload::Binary;
    }
    return payload;
}

QByteArray arrayBuffer(const QByteArray &bytes)
{
    return bytes.isNull() ? QByteArray("") : bytes;
}

QVariantMap headersToJs(const WsHttpHeaders &headers)
{
    QVariantMap map;
    for (const WsHttpHeaders::Field &field : headers.fields()) {
        const QString name = QString::fromLatin1(field.first).toLower();
        if (!map.contains(name))
            map.insert(name, QString::fromUtf8(headers.combinedValue(field.first)));
    }
    return map;
}

QVariantMap requestToJs(const WsHttpRequest &request)
{
    return {
        {QStringLiteral("method"), QString::fromLatin1(request.method)},
        {QStringLiteral("target"), QString::fromUtf8(request.target)},
        {QStringLiteral("path"), QString::fromUtf8(request.path())},
        {QStringLiteral("headers"), headersToJs(request.headers)},
    };
}

} // namespace wsqtqml
