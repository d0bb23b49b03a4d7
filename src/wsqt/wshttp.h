#pragma once

#include <wsqt/wsqt_global.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qpair.h>

// HTTP header fields in the order they were received, duplicates kept.
// Look-ups compare names case-insensitively, as HTTP requires.
class WSQT_EXPORT WsHttpHeaders
{
public:
    using Field = QPair<QByteArray, QByteArray>;

    WsHttpHeaders() = default;
    WsHttpHeaders(std::initializer_list<Field> fields) : m_fields(fields) {}

    bool contains(QByteArrayView name) const;
    // The first value of that name, or a null QByteArray.
    QByteArray value(QByteArrayView name) const;
    QList<QByteArray> values(QByteArrayView name) const;
    // The values of that name joined with ", ", as HTTP allows for list fields.
    QByteArray combinedValue(QByteArrayView name) const;

    void append(const QByteArray &name, const QByteArray &value);
    // Replaces every field of that name by one field, or appends it.
    void set(const QByteArray &name, const QByteArray &value);
    void remove(QByteArrayView name);

    const QList<Field> &fields() const { return m_fields; }
    qsizetype size() const { return m_fields.size(); }
    bool isEmpty() const { return m_fields.isEmpty(); }

    friend bool operator==(const WsHttpHeaders &a, const WsHttpHeaders &b) { return a.m_fields == b.m_fields; }
    friend bool operator!=(const WsHttpHeaders &a, const WsHttpHeaders &b) { return !(a == b); }

private:
    void remove(QByteArrayView name, qsizetype from);

    QList<Field> m_fields;
};

// An HTTP request head: ws's http.IncomingMessage for the upgrade request.
struct WSQT_EXPORT WsHttpRequest
{
    QByteArray method;
    QByteArray target;           // as sent: path and query
    QByteArray version = "HTTP/1.1";
    WsHttpHeaders headers;

    // The target's path without its query.
    QByteArray path() const;
};

// An HTTP response head, and the body where one was read.
struct WSQT_EXPORT WsHttpResponse
{
    int statusCode = 0;
    QByteArray reasonPhrase;
    QByteArray version = "HTTP/1.1";
    WsHttpHeaders headers;
    QByteArray body;
};

Q_DECLARE_METATYPE(WsHttpRequest)
Q_DECLARE_METATYPE(WsHttpResponse)
