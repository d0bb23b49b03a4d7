#pragma once

// An incremental HTTP/1.1 head parser for upgrade requests and handshake
// responses. Linear in its input however it is chunked (each byte is scanned
// once), no regex, bounded by HttpLimits. The bytes after the head are left
// to the caller (ws's `head`).
//
// Lines must end in CRLF: a bare LF is an error, as in Node's HTTP parser
// (llhttp), which ws sits on. Where an error has an llhttp counterpart its
// message is llhttp's, as Node reports it ("Parse Error: Invalid header
// token"). Empty lines before the start line are skipped (RFC 9112 §2.2).

#include <wsqt/wshttp.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qstring.h>

namespace wsqt::core {

struct HttpLimits
{
    int maxLineLength = 8192;   // a request, status or header line, CRLF excluded
    int maxHeaderCount = 100;   // header fields
    int maxHeadSize = 65536;    // the whole head, CRLFCRLF included
};

class HttpHeadParser
{
public:
    enum class Kind { Request, Response };
    enum class Status { NeedMore, Complete, Failed };

    explicit HttpHeadParser(Kind kind, const HttpLimits &limits = {});

    // Consumes bytes up to the end of the head and returns how many it took;
    // bytes past the head are not consumed. After Complete or Failed it takes nothing.
    qsizetype feed(const char *data, qsizetype length);
    qsizetype feed(QByteArrayView data) { return feed(data.data(), data.size()); }
    Status status() const { return m_status; }

    // Valid after Complete.
    const WsHttpRequest &request() const { return m_request; }
    const WsHttpResponse &response() const { return m_response; }

    // After Failed: the HTTP status a server answers with (400 for a malformed
    // head, 414 for a request line over the limit, 431 for header fields over
    // the limits), 0 when parsing a response; and a message saying what was wrong.
    int errorStatus() const { return m_errorStatus; }
    QString errorMessage() const { return m_errorMessage; }

private:
    void fail(int status, const QString &message);
    void parseLine(QByteArrayView line);
    bool parseRequestLine(QByteArrayView line);
    bool parseStatusLine(QByteArrayView line);
    bool parseHeaderLine(QByteArrayView line);

    Kind m_kind;
    HttpLimits m_limits;
    Status m_status = Status::NeedMore;
    QByteArray m_line;          // the line being collected, its LF not yet seen
    qsizetype m_headSize = 0;
    bool m_haveStartLine = false;
    int m_errorStatus = 0;
    QString m_errorMessage;
    WsHttpRequest m_request;
    WsHttpResponse m_response;
};

// The reason phrase HTTP gives a status code ("Bad Request" for 400), as
// Node's http.STATUS_CODES; "unknown" for a code it does not list, as Node's
// ServerResponse.writeHead.
QByteArray httpReasonPhrase(int status);

// Decodes a chunked message body (RFC 9112 §7.1) held whole or in part in
// `raw`: returns true once the last chunk has arrived, with the decoded body
// in `body`; false while more is needed. `*malformed` says it never will be.
bool decodeChunkedBody(QByteArrayView raw, QByteArray *body, bool *malformed);

// True where `list` (a comma-separated header value) holds `token`,
// compared case-insensitively, as for Connection: keep-alive, Upgrade.
bool headerListContains(QByteArrayView list, QByteArrayView token);

// RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ digits and letters.
bool isTokenChar(uchar c);
// A non-empty run of token characters.
bool isToken(QByteArrayView text);

} // namespace wsqt::core
