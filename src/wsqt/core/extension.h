#pragma once

// Sec-WebSocket-Extensions (RFC 6455 §9.1, RFC 7692): a list of extension
// offers, each with parameters that have a token or quoted-string value or no
// value. Parsed in one linear pass, as ws's extension.js parses it.

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <optional>

namespace wsqt::core {

struct ExtensionParam
{
    QByteArray name;
    std::optional<QByteArray> value;   // unquoted; nullopt for a parameter without a value

    friend bool operator==(const ExtensionParam &a, const ExtensionParam &b)
    {
        return a.name == b.name && a.value == b.value;
    }
};

struct ExtensionOffer
{
    QByteArray name;
    QList<ExtensionParam> params;      // in order, duplicates kept for the extension to judge

    friend bool operator==(const ExtensionOffer &a, const ExtensionOffer &b)
    {
        return a.name == b.name && a.params == b.params;
    }
};

// Parses the header (several header fields joined with ", ") into its offers,
// in order. Fails, with ws's message in `error` ("Unexpected character at
// index N", "Unexpected end of input"), where the grammar is broken. As in ws:
// no whitespace around '=' nor at either end of the header; a quoted value
// must hold a token once its backslash escapes are removed (RFC 6455 §9.1),
// so `x="a b"` and `x=""` are refused at the offending character.
bool parseExtensions(QByteArrayView header, QList<ExtensionOffer> *offers, QString *error);

// Formats offers as a header value: "permessage-deflate; client_max_window_bits".
// Values that are not tokens are quoted.
QByteArray formatExtensions(const QList<ExtensionOffer> &offers);

} // namespace wsqt::core
