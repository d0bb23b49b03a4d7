#pragma once

/// \file
/// WsHttpHeaders, WsHttpRequest and WsHttpResponse: the HTTP heads of the
/// opening handshake.

#include <wsqt/wsqt_global.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qpair.h>

/// HTTP header fields in the order they were received, duplicates kept.
/// Look-ups compare names case-insensitively, as HTTP requires.
class WSQT_EXPORT WsHttpHeaders
{
public:
    /// One field: its name and value.
    using Field = QPair<QByteArray, QByteArray>;

    /// No fields.
    WsHttpHeaders() = default;
    /// These fields, in this order.
    WsHttpHeaders(std::initializer_list<Field> fields) : m_fields(fields) {}

    /// Whether there is a field of that name.
    bool contains(QByteArrayView name) const;
    /// The first value of that name, or a null QByteArray.
    QByteArray value(QByteArrayView name) const;
    /// Every value of that name, in order.
    QList<QByteArray> values(QByteArrayView name) const;
    /// The values of that name joined with ", ", as HTTP allows for list fields.
    QByteArray combinedValue(QByteArrayView name) const;

    /// Adds a field after the others, even where one of that name exists.
    void append(const QByteArray &name, const QByteArray &value);
    /// Replaces every field of that name by one field, or appends it.
    void set(const QByteArray &name, const QByteArray &value);
    /// Removes every field of that name.
    void remove(QByteArrayView name);

    /// All fields, in order.
    const QList<Field> &fields() const { return m_fields; }
    /// The number of fields.
    qsizetype size() const { return m_fields.size(); }
    /// Whether there is no field.
    bool isEmpty() const { return m_fields.isEmpty(); }

    /// Equal when the same fields come in the same order; names compare exactly here.
    friend bool operator==(const WsHttpHeaders &a, const WsHttpHeaders &b) { return a.m_fields == b.m_fields; }
    /// Not equal: see operator==().
    friend bool operator!=(const WsHttpHeaders &a, const WsHttpHeaders &b) { return !(a == b); }

private:
    void remove(QByteArrayView name, qsizetype from);

    QList<Field> m_fields;
};

/// An HTTP request head: ws's http.IncomingMessage for the upgrade request.
struct WSQT_EXPORT WsHttpRequest
{
    QByteArray method;           ///< the method, "GET" for an upgrade
    QByteArray target;           ///< as sent: path and query
    QByteArray version = "HTTP/1.1"; ///< the HTTP version
    WsHttpHeaders headers;       ///< the header fields

    /// The target's path without its query.
    QByteArray path() const;
};

/// An HTTP response head, and the body where one was read.
struct WSQT_EXPORT WsHttpResponse
{
    int statusCode = 0;          ///< 101 for an upgrade
    QByteArray reasonPhrase;     ///< the text after the status code
    QByteArray version = "HTTP/1.1"; ///< the HTTP version
    WsHttpHeaders headers;       ///< the header fields
    QByteArray body;             ///< read for WsSocket::unexpectedResponse() with handleUnexpectedResponse only
};

Q_DECLARE_METATYPE(WsHttpRequest)
Q_DECLARE_METATYPE(WsHttpResponse)
