#pragma once

#include <QtCore/qabstractitemmodel.h>
#include <QtQml/qqml.h>

class QmlWebSocket;
Q_MOC_INCLUDE("qmlwebsocket.h")

// WebSocketServer's `clients`: its open connections, in the order they came.
class QmlClientsModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum Role { SocketRole = Qt::UserRole + 1, PeerAddressRole, PeerPortRole, ProtocolRole, ReadyStateRole };

    explicit QmlClientsModel(QObject *parent = nullptr);

    int count() const { return int(m_clients.size()); }
    const QList<QmlWebSocket *> &clients() const { return m_clients; }
    // The connection at `index`, or null.
    Q_INVOKABLE QmlWebSocket *get(int index) const;

    void append(QmlWebSocket *client);
    void remove(QmlWebSocket *client);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

Q_SIGNALS:
    void countChanged();

private:
    QList<QmlWebSocket *> m_clients;
};
