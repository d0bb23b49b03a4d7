#pragma once

// An incremental HTTP/1.1 head parser for upgrade requests and handshake
// responses. Linear in its input however it is chunked (each byte is scanned
// once), no regex, bounded by HttpLimits. The bytes after the head are left
// to the caller (ws's `head`).

#include <wsqt/wshttp.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>

namespace wsqt::core {

struct HttpLimits
{
    int maxLineLength = 8192;   // a request, status or header line
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
    Status status() const { return m_status; }

    // Valid after Complete.
    const WsHttpRequest &request() const { return m_request; }
    const WsHttpResponse &response() const { return m_response; }

    // After Failed: the HTTP status a server answers with (400 for a malformed
    // head, 414 for a request line over the limit, 431 for header fields over
    // the limits) and a message saying what was wrong.
    int errorStatus() const { return m_errorStatus; }
    QString errorMessage() const { return m_errorMessage; }

private:
    void fail(int status, const QString &message);
    bool parseStartLine(QByteArrayView line);
    bool parseHeaderLine(QByteArrayView line);

    Kind m_kind;
    HttpLimits m_limits;
    Status m_status = Status::NeedMore;
    QByteArray m_line;          // the line being collected
    qsizetype m_headSize = 0;
    bool m_haveStartLine = false;
    int m_errorStatus = 0;
    QString m_errorMessage;
    WsHttpRequest m_request;
    WsHttpResponse m_response;
};

// The reason phrase HTTP gives a status code ("Bad Request" for 400), as Node's http.STATUS_CODES.
QByteArray httpReasonPhrase(int status);

// True where `list` (a comma-separated header value) holds `token`,
// compared case-insensitively, as for Connection: keep-alive, Upgrade.
bool headerListContains(QByteArrayView list, QByteArrayView token);

} // namespace wsqt::core
