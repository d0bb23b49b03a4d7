#include "http.h"

#include <algorithm>
#include <cstring>

namespace wsqt::core {

namespace {

// One bit per byte: RFC 9110 tchar.
constexpr bool tokenTable(uchar c)
{
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

struct TokenChars
{
    bool table[256] = {};
    constexpr TokenChars()
    {
        for (int c = 0; c < 256; ++c)
            table[c] = tokenTable(uchar(c));
    }
};

constexpr TokenChars tokenChars;

bool isSpaceOrTab(char c)
{
    return c == ' ' || c == '\t';
}

QByteArrayView trimmed(QByteArrayView text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && isSpaceOrTab(text[begin]))
        ++begin;
    while (end > begin && isSpaceOrTab(text[end - 1]))
        --end;
    return text.sliced(begin, end - begin);
}

// A field value may hold HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5), as llhttp accepts.
bool isFieldValueChar(uchar c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

QString parseError(const char *reason)
{
    return QLatin1String("Parse Error: ") + QLatin1String(reason);
}

// "HTTP/1.0" or "HTTP/1.1"; other versions cannot carry a WebSocket handshake.
enum class VersionCheck { Ok, NotHttp, BadVersion };

VersionCheck checkVersion(QByteArrayView version)
{
    if (!version.startsWith("HTTP/"))
        return VersionCheck::NotHttp;
    if (version == "HTTP/1.1" || version == "HTTP/1.0")
        return VersionCheck::Ok;
    return VersionCheck::BadVersion;
}

} // namespace

bool isTokenChar(uchar c)
{
    return tokenChars.table[c];
}

bool isToken(QByteArrayView text)
{
    if (text.isEmpty())
        return false;
    for (char c : text) {
        if (!isTokenChar(uchar(c)))
            return false;
    }
    return true;
}

HttpHeadParser::HttpHeadParser(Kind kind, const HttpLimits &limits)
    : m_kind(kind), m_limits(limits)
{
}

void HttpHeadParser::fail(int status, const QString &message)
{
    m_status = Status::Failed;
    m_errorStatus = m_kind == Kind::Request ? status : 0;
    m_errorMessage = message;
}

qsizetype HttpHeadParser::feed(const char *data, qsizetype length)
{
    qsizetype used = 0;
    while (m_status == Status::NeedMore && used < length) {
        const qsizetype budget = qsizetype(m_limits.maxHeadSize) - m_headSize;
        if (budget <= 0) {
            fail(431, parseError("Header overflow"));
            break;
        }
        // Only the new bytes are searched for the LF: a line split over many
        // feeds is never rescanned from its start.
        const char *begin = data + used;
        const qsizetype window = qMin(length - used, budget);
        const auto *lf = static_cast<const char *>(std::memchr(begin, '\n', size_t(window)));
        const qsizetype piece = lf ? lf - begin + 1 : window;

        // The shortest content the line can have: without its LF and one CR.
        const qsizetype lineSize = m_line.size() + piece;
        if (lineSize - (lf ? 2 : 1) > m_limits.maxLineLength) {
            if (!m_haveStartLine && m_kind == Kind::Request)
                fail(414, QStringLiteral("Request line too long"));
            else
                fail(431, parseError("Header overflow"));
            break;
        }

        m_headSize += piece;
        used += piece;
        if (!lf) {
            m_line.append(begin, piece);
            continue;
        }
        if (m_line.isEmpty()) {
            parseLine(QByteArrayView(begin, piece));
        } else {
            m_line.append(begin, piece);
            parseLine(m_line);
            m_line.clear();
        }
    }
    if (m_status != Status::NeedMore)
        m_line = QByteArray(); // nothing more will be collected
    return used;
}

void HttpHeadParser::parseLine(QByteArrayView line)
{
    line.chop(1); // the LF
    if (!line.endsWith('\r')) {
        // A bare LF: llhttp's words depend on where it stands.
        if (!m_haveStartLine) {
            fail(400, parseError(m_kind == Kind::Request ? "Expected CRLF after version"
                                                         : "Missing expected CR after response line"));
        } else {
            fail(400, parseError(line.isEmpty() ? "Invalid header field char"
                                                : "Missing expected CR after header value"));
        }
        return;
    }
    line.chop(1);

    if (!m_haveStartLine) {
        if (line.isEmpty())
            return; // an empty line before the start line is ignored
        m_haveStartLine = m_kind == Kind::Request ? parseRequestLine(line) : parseStatusLine(line);
        return;
    }
    if (line.isEmpty()) {
        m_status = Status::Complete;
        return;
    }
    parseHeaderLine(line);
}

bool HttpHeadParser::parseRequestLine(QByteArrayView line)
{
    // method SP request-target SP HTTP-version
    const qsizetype methodEnd = line.indexOf(' ');
    const QByteArrayView method = methodEnd < 0 ? line : line.first(methodEnd);
    if (!isToken(method)) {
        fail(400, parseError("Invalid method encountered"));
        return false;
    }
    if (methodEnd < 0) {
        fail(400, parseError("Expected space after method"));
        return false;
    }

    const QByteArrayView rest = line.sliced(methodEnd + 1);
    const qsizetype targetEnd = rest.indexOf(' ');
    const QByteArrayView target = targetEnd < 0 ? rest : rest.first(targetEnd);
    const auto badTargetChar = [](char c) { return uchar(c) <= 0x20 || uchar(c) == 0x7f; };
    if (target.isEmpty() || std::any_of(target.begin(), target.end(), badTargetChar)) {
        fail(400, parseError("Invalid char in url path"));
        return false;
    }

    const QByteArrayView version = targetEnd < 0 ? QByteArrayView() : rest.sliced(targetEnd + 1);
    if (!version.startsWith("HTTP/")) {
        fail(400, parseError("Expected HTTP/, RTSP/ or ICE/"));
        return false;
    }
    if (version.size() > 8 && checkVersion(version.first(8)) == VersionCheck::Ok) {
        fail(400, parseError("Expected CRLF after version"));
        return false;
    }
    if (checkVersion(version) != VersionCheck::Ok) {
        fail(400, parseError("Invalid HTTP version"));
        return false;
    }

    m_request.method = method.toByteArray();
    m_request.target = target.toByteArray();
    m_request.version = version.toByteArray();
    return true;
}

bool HttpHeadParser::parseStatusLine(QByteArrayView line)
{
    // HTTP-version SP status-code [SP reason-phrase]
    const qsizetype versionEnd = line.indexOf(' ');
    const QByteArrayView version = versionEnd < 0 ? line : line.first(versionEnd);
    switch (checkVersion(version.first(qMin<qsizetype>(version.size(), 8)))) {
    case VersionCheck::NotHttp:
        fail(400, parseError("Expected HTTP/, RTSP/ or ICE/"));
        return false;
    case VersionCheck::BadVersion:
        fail(400, parseError("Invalid HTTP version"));
        return false;
    case VersionCheck::Ok:
        break;
    }
    if (versionEnd != 8) {
        fail(400, parseError("Expected space after version"));
        return false;
    }

    const QByteArrayView rest = line.sliced(versionEnd + 1);
    int code = 0;
    for (qsizetype i = 0; i < 3; ++i) {
        if (i >= rest.size() || rest[i] < '0' || rest[i] > '9') {
            fail(400, parseError("Invalid status code"));
            return false;
        }
        code = code * 10 + (rest[i] - '0');
    }
    if (rest.size() > 3 && rest[3] != ' ') {
        fail(400, parseError("Invalid response status"));
        return false;
    }
    const QByteArrayView reason = rest.size() > 3 ? rest.sliced(4) : QByteArrayView();
    if (reason.contains('\r')) {
        fail(400, parseError("Missing expected LF after response line"));
        return false;
    }

    m_response.version = version.toByteArray();
    m_response.statusCode = code;
    m_response.reasonPhrase = reason.toByteArray();
    return true;
}

bool HttpHeadParser::parseHeaderLine(QByteArrayView line)
{
    if (line.front() == '\r') {
        fail(400, parseError("Expected LF after headers"));
        return false;
    }
    if (isSpaceOrTab(line.front())) {
        // obs-fold (RFC 9112 §5.2) is refused, as llhttp refuses it.
        const bool afterField = m_kind == Kind::Request ? !m_request.headers.isEmpty()
                                                        : !m_response.headers.isEmpty();
        if (afterField)
            fail(400, parseError("Unexpected whitespace after header value"));
        else
            fail(400, parseError(m_kind == Kind::Request ? "Unexpected space after start line"
                                                         : "Invalid header token"));
        return false;
    }

    const qsizetype colon = line.indexOf(':');
    const QByteArrayView name = colon < 0 ? line : line.first(colon);
    if (colon < 0 || !isToken(name)) {
        fail(400, parseError("Invalid header token"));
        return false;
    }
    const QByteArrayView value = trimmed(line.sliced(colon + 1));
    for (char c : value) {
        if (!isFieldValueChar(uchar(c))) {
            fail(400, parseError(c == '\r' ? "Missing expected LF after header value"
                                           : "Invalid header value char"));
            return false;
        }
    }

    WsHttpHeaders &headers = m_kind == Kind::Request ? m_request.headers : m_response.headers;
    if (headers.size() >= m_limits.maxHeaderCount) {
        fail(431, QStringLiteral("Too many header fields"));
        return false;
    }
    // A non-null empty value: a field sent empty is still present.
    headers.append(name.toByteArray(), value.isEmpty() ? QByteArray("") : value.toByteArray());
    return true;
}

QByteArray httpReasonPhrase(int status)
{
    switch (status) {
    case 100: return QByteArrayLiteral("Continue");
    case 101: return QByteArrayLiteral("Switching Protocols");
    case 102: return QByteArrayLiteral("Processing");
    case 103: return QByteArrayLiteral("Early Hints");
    case 200: return QByteArrayLiteral("OK");
    case 201: return QByteArrayLiteral("Created");
    case 202: return QByteArrayLiteral("Accepted");
    case 203: return QByteArrayLiteral("Non-Authoritative Information");
    case 204: return QByteArrayLiteral("No Content");
    case 205: return QByteArrayLiteral("Reset Content");
    case 206: return QByteArrayLiteral("Partial Content");
    case 207: return QByteArrayLiteral("Multi-Status");
    case 208: return QByteArrayLiteral("Already Reported");
    case 226: return QByteArrayLiteral("IM Used");
    case 300: return QByteArrayLiteral("Multiple Choices");
    case 301: return QByteArrayLiteral("Moved Permanently");
    case 302: return QByteArrayLiteral("Found");
    case 303: return QByteArrayLiteral("See Other");
    case 304: return QByteArrayLiteral("Not Modified");
    case 305: return QByteArrayLiteral("Use Proxy");
    case 307: return QByteArrayLiteral("Temporary Redirect");
    case 308: return QByteArrayLiteral("Permanent Redirect");
    case 400: return QByteArrayLiteral("Bad Request");
    case 401: return QByteArrayLiteral("Unauthorized");
    case 402: return QByteArrayLiteral("Payment Required");
    case 403: return QByteArrayLiteral("Forbidden");
    case 404: return QByteArrayLiteral("Not Found");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 406: return QByteArrayLiteral("Not Acceptable");
    case 407: return QByteArrayLiteral("Proxy Authentication Required");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 409: return QByteArrayLiteral("Conflict");
    case 410: return QByteArrayLiteral("Gone");
    case 411: return QByteArrayLiteral("Length Required");
    case 412: return QByteArrayLiteral("Precondition Failed");
    case 413: return QByteArrayLiteral("Payload Too Large");
    case 414: return QByteArrayLiteral("URI Too Long");
    case 415: return QByteArrayLiteral("Unsupported Media Type");
    case 416: return QByteArrayLiteral("Range Not Satisfiable");
    case 417: return QByteArrayLiteral("Expectation Failed");
    case 418: return QByteArrayLiteral("I'm a Teapot");
    case 421: return QByteArrayLiteral("Misdirected Request");
    case 422: return QByteArrayLiteral("Unprocessable Entity");
    case 423: return QByteArrayLiteral("Locked");
    case 424: return QByteArrayLiteral("Failed Dependency");
    case 425: return QByteArrayLiteral("Too Early");
    case 426: return QByteArrayLiteral("Upgrade Required");
    case 428: return QByteArrayLiteral("Precondition Required");
    case 429: return QByteArrayLiteral("Too Many Requests");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 451: return QByteArrayLiteral("Unavailable For Legal Reasons");
    case 500: return QByteArrayLiteral("Internal Server Error");
    case 501: return QByteArrayLiteral("Not Implemented");
    case 502: return QByteArrayLiteral("Bad Gateway");
    case 503: return QByteArrayLiteral("Service Unavailable");
    case 504: return QByteArrayLiteral("Gateway Timeout");
    case 505: return QByteArrayLiteral("HTTP Version Not Supported");
    case 506: return QByteArrayLiteral("Variant Also Negotiates");
    case 507: return QByteArrayLiteral("Insufficient Storage");
    case 508: return QByteArrayLiteral("Loop Detected");
    case 509: return QByteArrayLiteral("Bandwidth Limit Exceeded");
    case 510: return QByteArrayLiteral("Not Extended");
    case 511: return QByteArrayLiteral("Network Authentication Required");
    default: return QByteArrayLiteral("unknown");
    }
}

bool headerListContains(QByteArrayView list, QByteArrayView token)
{
    qsizetype start = 0;
    while (start <= list.size()) {
        qsizetype comma = list.indexOf(',', start);
        if (comma < 0)
            comma = list.size();
        const QByteArrayView item = trimmed(list.sliced(start, comma - start));
        if (item.size() == token.size()
            && qstrnicmp(item.data(), item.size(), token.data(), token.size()) == 0) {
            return true;
        }
        start = comma + 1;
    }
    return false;
}

bool decodeChunkedBody(QByteArrayView raw, QByteArray *body, bool *malformed)
{
    body->clear();
    *malformed = false;
    qsizetype pos = 0;
    for (;;) {
        const qsizetype lineEnd = raw.indexOf(QByteArrayView("\r\n"), pos);
        if (lineEnd < 0)
            return false;
        // The size, in hex, then optional extensions after ';'.
        QByteArrayView sizeText = raw.sliced(pos, lineEnd - pos);
        if (const qsizetype semicolon = sizeText.indexOf(';'); semicolon >= 0)
            sizeText = sizeText.first(semicolon);
        bool ok = false;
        const qint64 size = sizeText.trimmed().toLongLong(&ok, 16);
        if (!ok || size < 0 || sizeText.trimmed().isEmpty()) {
            *malformed = true;
            return false;
        }
        pos = lineEnd + 2;
        if (size == 0)
            return true;   // trailers, if any, are not kept
        if (raw.size() - pos < size + 2)
            return false;
        body->append(raw.sliced(pos, qsizetype(size)));
        pos += qsizetype(size);
        if (raw.sliced(pos, 2) != QByteArrayView("\r\n")) {
            *malformed = true;
            return false;
        }
        pos += 2;
    }
}

} // namespace wsqt::core
