#pragma once

// Sec-WebSocket-Protocol (RFC 6455 §4.1, §11.3.4): a comma-separated list of
// tokens. Parsed in one linear pass as ws's subprotocol.js parses it.

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

namespace wsqt::core {

// Splits the header into its tokens, in order. Fails, with ws's message in
// `error`, on an empty token, a duplicate, a character that is not a token
// character, or whitespace inside a token. SP and HTAB may surround the
// commas, but not start the header or end it ("Unexpected end of input"):
// Node trims header values, so ws never sees them there.
bool parseSubprotocols(QByteArrayView header, QList<QByteArray> *protocols, QString *error);

// True when `protocol` is a non-empty RFC 7230 token.
bool isValidSubprotocol(QByteArrayView protocol);

} // namespace wsqt::core
