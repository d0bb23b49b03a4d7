#include <wsqt/wshttp.h>

namespace {

bool sameName(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), a.size(), b.data(), b.size()) == 0;
}

} // namespace

bool WsHttpHeaders::contains(QByteArrayView name) const
{
    for (const Field &field : m_fields) {
        if (sameName(field.first, name))
            return true;
    }
    return false;
}

QByteArray WsHttpHeaders::value(QByteArrayView name) const
{
    for (const Field &field : m_fields) {
        if (sameName(field.first, name))
            return field.second;
    }
    return {};
}

QList<QByteArray> WsHttpHeaders::values(QByteArrayView name) const
{
    QList<QByteArray> result;
    for (const Field &field : m_fields) {
        if (sameName(field.first, name))
            result.append(field.second);
    }
    return result;
}

QByteArray WsHttpHeaders::combinedValue(QByteArrayView name) const
{
    return values(name).join(", ");
}

void WsHttpHeaders::append(const QByteArray &name, const QByteArray &value)
{
    m_fields.append({name, value});
}

void WsHttpHeaders::set(const QByteArray &name, const QByteArray &value)
{
    for (qsizetype i = 0; i < m_fields.size(); ++i) {
        if (sameName(m_fields[i].first, name)) {
            m_fields[i].second = value;
            remove(name, i + 1);
            return;
        }
    }
    append(name, value);
}

void WsHttpHeaders::remove(QByteArrayView name)
{
    remove(name, 0);
}

void WsHttpHeaders::remove(QByteArrayView name, qsizetype from)
{
    for (qsizetype i = m_fields.size() - 1; i >= from; --i) {
        if (sameName(m_fields[i].first, name))
            m_fields.removeAt(i);
    }
}

QByteArray WsHttpRequest::path() const
{
    const qsizetype query = target.indexOf('?');
    return query < 0 ? target : target.left(query);
}
