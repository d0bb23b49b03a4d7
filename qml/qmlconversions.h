#pragma once

// Conversions between the library's value types and what QML code sees.

#include <wsqt/wshttp.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qvariant.h>

class QJSValue;

namespace wsqtqml {

// What send(), ping() and pong() were given from JavaScript.
struct Payload
{
    enum Kind { Invalid, Text, Binary };
    Kind kind = Invalid;
    QByteArray data;    // UTF-8 for Text
};

// A string, an ArrayBuffer, or a typed array or DataView (its bytes only);
// undefined and null are empty binary data when `emptyAllowed`.
Payload payloadFromJs(const QJSValue &value, bool emptyAllowed);

// Bytes as QML gets them: an ArrayBuffer, empty rather than null.
QByteArray arrayBuffer(const QByteArray &bytes);

// Header fields as a JavaScript object: lower-case names, repeated fields
// joined with ", " as HTTP allows.
QVariantMap headersToJs(const WsHttpHeaders &headers);
// {method, target, path, headers}
QVariantMap requestToJs(const WsHttpRequest &request);

} // namespace wsqtqml
