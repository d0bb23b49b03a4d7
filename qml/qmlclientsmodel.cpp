#include "qmlclientsmodel.h"

#include "qmlwebsocket.h"

QmlClientsModel::QmlClientsModel(QObject *parent) : QAbstractListModel(parent) { }

QmlWebSocket *QmlClientsModel::get(int index) const
{
    return m_clients.value(index);
}

void QmlClientsModel::append(QmlWebSocket *client)
{
    const int row = count();
    beginInsertRows(QModelIndex(), row, row);
    m_clients.append(client);
    endInsertRows();
    connect(client, &QmlWebSocket::readyStateChanged, this, [this, client] {
        const QModelIndex changed = index(int(m_clients.indexOf(client)));
        Q_EMIT dataChanged(changed, changed, {ReadyStateRole});
    });
    Q_EMIT countChanged();
}

void QmlClientsModel::remove(QmlWebSocket *client)
{
    const int row = int(m_clients.indexOf(client));
    if (row < 0)
        return;
    client->disconnect(this);
    beginRemoveRows(QModelIndex(), row, row);
    m_clients.removeAt(row);
    endRemoveRows();
    Q_EMIT countChanged();
}

int QmlClientsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant QmlClientsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    QmlWebSocket *client = m_clients.at(index.row());
    switch (role) {
    case SocketRole:
        return QVariant::fromValue(client);
    case PeerAddressRole:
        return client->peerAddress();
    case PeerPortRole:
        return client->peerPort();
    case ProtocolRole:
        return client->protocol();
    case ReadyStateRole:
        return int(client->readyState());
    default:
        return {};
    }
}

QHash<int, QByteArray> QmlClientsModel::roleNames() const
{
    return {
        {SocketRole, "socket"},
        {PeerAddressRole, "peerAddress"},
        {PeerPortRole, "peerPort"},
        {ProtocolRole, "protocol"},
        {ReadyStateRole, "readyState"},
    };
}
