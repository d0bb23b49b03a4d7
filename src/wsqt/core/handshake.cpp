#include "handshake.h"

#include "http.h"
#include "random.h"
#include "subprotocol.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qset.h>

#include <cmath>
#include <limits>

namespace wsqt::core {

namespace {

using Field = WsHttpHeaders::Field;

const char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), a.size(), b.data(), b.size()) == 0;
}

// Node refuses a field value with a control character other than HTAB.
bool isValidFieldValue(QByteArrayView value)
{
    for (char c : value) {
        const uchar u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return false;
    }
    return true;
}

WsError invalidArgument(const QString &message)
{
    return WsError(WsError::InvalidArgument, message);
}

WsError handshakeFailed(const char *message)
{
    return WsError(WsError::HandshakeFailed, QLatin1String(message));
}

HandshakeRejection reject(HandshakeRejection::Reason reason, int status, const char *message)
{
    return {reason, status, QByteArray(message), {}};
}

// ws's /^[+/0-9A-Za-z]{22}==$/: base64 of 16 bytes.
bool isValidKey(QByteArrayView key)
{
    if (key.size() != 24 || !key.endsWith("=="))
        return false;
    for (char c : key.first(22)) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                || c == '+' || c == '/';
        if (!ok)
            return false;
    }
    return true;
}

int digitValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

// JavaScript's Number(string) on a header value read as Latin-1
// (ECMA-262 StringToNumber), which is how ws reads Sec-WebSocket-Version:
// " 13", "+13.0", "1.3e1" and "0xd" are all 13. NaN where it is not a number.
double javaScriptNumber(QByteArrayView text)
{
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    const auto isJsSpace = [](char c) {
        const uchar u = uchar(c);
        return u == ' ' || (u >= '\t' && u <= '\r') || u == 0xa0;
    };
    while (!text.isEmpty() && isJsSpace(text.front()))
        text = text.sliced(1);
    while (!text.isEmpty() && isJsSpace(text.back()))
        text.chop(1);
    if (text.isEmpty())
        return 0;

    // 0x, 0o and 0b integers take no sign.
    if (text.size() > 2 && text[0] == '0') {
        const char prefix = char(text[1] | 0x20);
        const int base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : prefix == 'b' ? 2 : 0;
        if (base != 0) {
            double value = 0;
            for (char c : text.sliced(2)) {
                const int digit = digitValue(c);
                if (digit >= base)
                    return nan;
                value = value * base + digit;
            }
            return value;
        }
    }

    qsizetype i = 0;
    const bool negative = text[0] == '-';
    if (text[0] == '+' || text[0] == '-')
        ++i;
    if (text.sliced(i) == "Infinity")
        return negative ? -HUGE_VAL : HUGE_VAL;
    const auto digits = [&] {
        const qsizetype from = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
            ++i;
        return i - from;
    };
    qsizetype mantissaDigits = digits();
    if (i < text.size() && text[i] == '.') {
        ++i;
        mantissaDigits += digits();
    }
    if (mantissaDigits == 0)
        return nan;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-'))
            ++i;
        if (digits() == 0)
            return nan;
    }
    if (i != text.size())
        return nan;
    // Qt's conversion is exact (correctly rounded) and ignores the locale.
    bool ok = false;
    const double value = text.toByteArray().toDouble(&ok);
    return ok ? value : nan;
}

// "HTTP/1.1" or later.
bool isHttp11OrLater(QByteArrayView version)
{
    if (!version.startsWith("HTTP/"))
        return false;
    const QByteArrayView number = version.sliced(5);
    const qsizetype dot = number.indexOf('.');
    if (dot <= 0)
        return false;
    bool majorOk = false;
    bool minorOk = false;
    const int major = number.first(dot).toByteArray().toInt(&majorOk);
    const int minor = number.sliced(dot + 1).toByteArray().toInt(&minorOk);
    return majorOk && minorOk && (major > 1 || (major == 1 && minor >= 1));
}

// Sets a field as Node's OutgoingMessage.setHeader does: a field of the same
// name keeps its place but takes the new name and value; others of that name go.
void setField(QList<Field> *fields, const QByteArray &name, const QByteArray &value)
{
    bool set = false;
    for (qsizetype i = 0; i < fields->size();) {
        if (!equalsIgnoringCase((*fields)[i].first, name)) {
            ++i;
        } else if (!set) {
            (*fields)[i] = {name, value};
            set = true;
            ++i;
        } else {
            fields->removeAt(i);
        }
    }
    if (!set)
        fields->append({name, value});
}

bool hasField(const QList<Field> &fields, QByteArrayView name)
{
    for (const Field &field : fields) {
        if (equalsIgnoringCase(field.first, name))
            return true;
    }
    return false;
}

// Repeated application fields go out as repeated lines, as Node sends a
// field given as an array, except Cookie, which Node joins with "; "
// (RFC 6265 §5.4: one Cookie field).
QList<Field> applicationFields(const WsHttpHeaders &headers)
{
    QList<Field> fields;
    qsizetype cookie = -1;
    for (const Field &field : headers.fields()) {
        if (!equalsIgnoringCase(field.first, "Cookie")) {
            fields.append(field);
        } else if (cookie < 0) {
            cookie = fields.size();
            fields.append(field);
        } else {
            fields[cookie].second += "; " + field.second;
        }
    }
    return fields;
}

// The request's fields in the order ws and Node put them on the wire.
QList<Field> clientFields(const ClientHandshakeRequest &request)
{
    QList<Field> fields = applicationFields(request.headers);
    setField(&fields, "Sec-WebSocket-Version", QByteArray::number(request.protocolVersion));
    setField(&fields, "Sec-WebSocket-Key", request.key);
    setField(&fields, "Connection", "Upgrade");
    setField(&fields, "Upgrade", "websocket");
    if (!request.extensionOffer.isEmpty())
        setField(&fields, "Sec-WebSocket-Extensions", request.extensionOffer);
    if (!request.protocols.isEmpty())
        setField(&fields, "Sec-WebSocket-Protocol", request.protocols.join(','));
    if (!request.origin.isEmpty()) {
        setField(&fields, request.protocolVersion < 13 ? "Sec-WebSocket-Origin" : "Origin",
                 request.origin);
    }
    if (!request.host.isEmpty() && !hasField(fields, "Host"))
        fields.append({"Host", request.host});
    if (!request.auth.isEmpty() && !hasField(fields, "Authorization"))
        fields.append({"Authorization", "Basic " + request.auth.toBase64()});
    return fields;
}

QString quotedName(QByteArrayView name)
{
    return QLatin1String("[\"") + QString::fromLatin1(name) + QLatin1String("\"]");
}

} // namespace

QByteArray generateWebSocketKey()
{
    uchar bytes[16];
    fillRandom(bytes, sizeof bytes);
    return QByteArray(reinterpret_cast<const char *>(bytes), sizeof bytes).toBase64();
}

QByteArray computeAcceptKey(QByteArrayView key)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(key);
    sha1.addData(QByteArrayView(kGuid));
    return sha1.result().toBase64();
}

bool requestsUpgrade(const WsHttpHeaders &headers)
{
    bool upgrade = false;
    for (const QByteArray &value : headers.values("Upgrade"))
        upgrade = upgrade || !value.isEmpty();
    return upgrade && headerListContains(headers.combinedValue("Connection"), "upgrade");
}

WsError validateClientRequest(const ClientHandshakeRequest &request)
{
    if (request.protocolVersion != 8 && request.protocolVersion != 13) {
        return invalidArgument(QStringLiteral("Unsupported protocol version: %1 (supported versions: 8, 13)")
                                       .arg(request.protocolVersion));
    }

    QSet<QByteArray> protocols;
    for (const QByteArray &protocol : request.protocols) {
        if (!isValidSubprotocol(protocol) || protocols.contains(protocol))
            return invalidArgument(QStringLiteral("An invalid or duplicated subprotocol was specified"));
        protocols.insert(protocol);
    }

    for (char c : request.resource) {
        if (uchar(c) <= 0x20)
            return invalidArgument(QStringLiteral("Request path contains unescaped characters"));
    }

    // Node checks each field as it is set: the application's first.
    for (const Field &field : request.headers.fields()) {
        if (!isToken(field.first))
            return invalidArgument(QLatin1String("Header name must be a valid HTTP token ") + quotedName(field.first));
        if (!isValidFieldValue(field.second))
            return invalidArgument(QLatin1String("Invalid character in header content ") + quotedName(field.first));
    }
    for (const Field &field : clientFields(request)) {
        if (!isValidFieldValue(field.second))
            return invalidArgument(QLatin1String("Invalid character in header content ") + quotedName(field.first));
    }
    return {};
}

QByteArray buildClientRequest(const ClientHandshakeRequest &request)
{
    QByteArray head = "GET " + (request.resource.isEmpty() ? QByteArray("/") : request.resource)
            + " HTTP/1.1\r\n";
    for (const Field &field : clientFields(request))
        head += field.first + ": " + field.second + "\r\n";
    head += "\r\n";
    return head;
}

WsError verifyServerResponse(const WsHttpResponse &response, const ClientHandshakeRequest &request,
                             const QList<QByteArray> &offeredExtensions, ClientHandshakeResult *result)
{
    const WsHttpHeaders &headers = response.headers;
    // Node emits 'response' rather than 'upgrade' for these, and ws reports them so.
    if (response.statusCode != 101 || !requestsUpgrade(headers)) {
        return WsError(WsError::UnexpectedResponse,
                       QStringLiteral("Unexpected server response: %1").arg(response.statusCode));
    }

    if (!equalsIgnoringCase(headers.combinedValue("Upgrade"), "websocket"))
        return handshakeFailed("Invalid Upgrade header");

    if (!headers.contains("Sec-WebSocket-Accept")
        || headers.combinedValue("Sec-WebSocket-Accept") != computeAcceptKey(request.key)) {
        return handshakeFailed("Invalid Sec-WebSocket-Accept header");
    }

    QByteArray protocol;
    if (headers.contains("Sec-WebSocket-Protocol")) {
        protocol = headers.combinedValue("Sec-WebSocket-Protocol");
        if (request.protocols.isEmpty())
            return handshakeFailed("Server sent a subprotocol but none was requested");
        if (!request.protocols.contains(protocol))
            return handshakeFailed("Server sent an invalid subprotocol");
    } else if (!request.protocols.isEmpty()) {
        return handshakeFailed("Server sent no subprotocol");
    }

    QList<ExtensionOffer> extensions;
    if (headers.contains("Sec-WebSocket-Extensions")) {
        if (offeredExtensions.isEmpty())
            return handshakeFailed("Server sent a Sec-WebSocket-Extensions header but no extension was requested");
        if (!parseExtensions(headers.combinedValue("Sec-WebSocket-Extensions"), &extensions, nullptr))
            return handshakeFailed("Invalid Sec-WebSocket-Extensions header");
        for (const ExtensionOffer &extension : extensions) {
            if (!offeredExtensions.contains(extension.name))
                return handshakeFailed("Server indicated an extension that was not requested");
        }
    }

    if (result) {
        result->protocol = protocol;
        result->extensions = extensions;
    }
    return {};
}

HandshakeRejection HandshakeRejection::unacceptableExtensions()
{
    return reject(Reason::Extensions, 400, "Invalid or unacceptable Sec-WebSocket-Extensions header");
}

HandshakeRejection validateUpgradeRequest(const WsHttpRequest &request, UpgradeRequest *upgrade,
                                          bool withExtensions)
{
    const WsHttpHeaders &headers = request.headers;
    if (request.method != "GET")
        return reject(HandshakeRejection::Reason::Method, 405, "Invalid HTTP method");

    if (!headers.contains("Upgrade") || !equalsIgnoringCase(headers.combinedValue("Upgrade"), "websocket"))
        return reject(HandshakeRejection::Reason::Upgrade, 400, "Invalid Upgrade header");

    const QByteArray key = headers.combinedValue("Sec-WebSocket-Key");
    if (!isValidKey(key))
        return reject(HandshakeRejection::Reason::Key, 400, "Missing or invalid Sec-WebSocket-Key header");

    const double version = javaScriptNumber(headers.combinedValue("Sec-WebSocket-Version"));
    if (version != 13 && version != 8) {
        HandshakeRejection rejection = reject(HandshakeRejection::Reason::Version, 400, "Missing or invalid Sec-WebSocket-Version header");
        rejection.headers.append("Sec-WebSocket-Version", "13, 8");
        return rejection;
    }

    QList<QByteArray> protocols;
    if (headers.contains("Sec-WebSocket-Protocol")
        && !parseSubprotocols(headers.combinedValue("Sec-WebSocket-Protocol"), &protocols, nullptr)) {
        return reject(HandshakeRejection::Reason::Protocol, 400, "Invalid Sec-WebSocket-Protocol header");
    }

    QList<ExtensionOffer> extensions;
    if (withExtensions && headers.contains("Sec-WebSocket-Extensions")
        && !parseExtensions(headers.combinedValue("Sec-WebSocket-Extensions"), &extensions, nullptr)) {
        return HandshakeRejection::unacceptableExtensions();
    }

    if (!headerListContains(headers.combinedValue("Connection"), "upgrade"))
        return reject(HandshakeRejection::Reason::Connection, 400, "Invalid Connection header");
    if (!isHttp11OrLater(request.version))
        return reject(HandshakeRejection::Reason::HttpVersion, 400, "Invalid HTTP version");

    if (upgrade) {
        upgrade->key = key;
        upgrade->version = int(version);
        upgrade->protocols = protocols;
        upgrade->extensions = extensions;
        upgrade->origin = headers.combinedValue(version == 8 ? "Sec-WebSocket-Origin" : "Origin");
    }
    return {};
}

QList<QByteArray> buildAcceptHeaderLines(QByteArrayView key, const QByteArray &protocol,
                                         const QByteArray &extensions)
{
    QList<QByteArray> lines = {
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: " + computeAcceptKey(key),
    };
    if (!protocol.isEmpty())
        lines.append("Sec-WebSocket-Protocol: " + protocol);
    if (!extensions.isEmpty())
        lines.append("Sec-WebSocket-Extensions: " + extensions);
    return lines;
}

QByteArray serializeHeaderLines(const QList<QByteArray> &lines)
{
    QByteArray head;
    for (const QByteArray &line : lines)
        head += line + "\r\n";
    head += "\r\n";
    return head;
}

QByteArray buildErrorResponse(int status, const QByteArray &message, const WsHttpHeaders &extraHeaders)
{
    const QByteArray reason = httpReasonPhrase(status);
    const QByteArray body = message.isEmpty() ? reason : message;
    QList<Field> fields = {
        {"Connection", "close"},
        {"Content-Type", "text/html"},
        {"Content-Length", QByteArray::number(body.size())},
    };
    for (const Field &extra : extraHeaders.fields()) {
        bool replaced = false;
        for (qsizetype i = 0; i < 3; ++i) {
            if (equalsIgnoringCase(fields[i].first, extra.first)) {
                fields[i].second = extra.second;
                replaced = true;
            }
        }
        if (!replaced)
            fields.append(extra);
    }

    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n";
    for (const Field &field : fields)
        response += field.first + ": " + field.second + "\r\n";
    response += "\r\n" + body;
    return response;
}

} // namespace wsqt::core
