#pragma once

// Item models of the admin app, fed by AdminClient from the Admin UI protocol's events. Each is a
// QAbstractItemModel that views (and tests) use as they are; sorting and filtering go through the
// proxies at the end.

#include <QtCore/qabstractitemmodel.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qsortfilterproxymodel.h>
#include <QtCore/qvariant.h>

#include <deque>
#include <memory>
#include <vector>

namespace AdminApp {

enum Role {
    SocketIdRole = Qt::UserRole + 1, // QString
    NamespaceRole, // QString
    RoomRole, // QString (rooms model)
    KindRole, // RoomsModel::Kind
    ServerIdRole, // QString (servers model)
    RawRole, // the unformatted value (QVariant: QDateTime, QVariantMap, QStringList, number)
    PrettyJsonRole, // indented JSON text (event args, socket data)
    DirectionRole, // EventLogModel::Direction
};

// What the event log keeps of a binary argument too large to keep (EventLogModel): its size only.
struct OmittedBinary
{
    qint64 size = 0;
};

// The protocol's timestamps: ISO-8601 text, or epoch milliseconds (Node, in a few places).
QDateTime parseTimestamp(const QVariant &value);

// One line per server of the cluster, from server_stats; keeps a history of samples for charts.
class ServersModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        ServerId,
        Hostname,
        Pid,
        Uptime,
        Clients,
        PollingClients,
        Namespaces,
        LastSeen,
        Healthy,
        ColumnCount
    };
    struct Sample
    {
        QDateTime time; // when the stats arrived
        int clients = 0;
        int pollingClients = 0;
        qint64 bytesIn = 0; // in the interval since the previous sample (aggregatedEvents)
        qint64 bytesOut = 0;
        qint64 packetsIn = 0;
        qint64 packetsOut = 0;
        qint64 connections = 0; // rawConnection
        qint64 disconnections = 0; // rawDisconnection
    };
    struct Server
    {
        QString serverId;
        QString hostname;
        qint64 pid = 0;
        double uptime = 0; // seconds, as the server reported it
        int clients = 0;
        int pollingClients = 0;
        QList<QPair<QString, int>> namespaces; // name, socketsCount
        QDateTime lastSeen;
        std::deque<Sample> history; // bounded to maxHistory
    };

    static constexpr int maxHistory = 600; // 20 minutes at one sample per 2 s
    static constexpr int unhealthyAfterSecs = 10; // as the web UI

    explicit ServersModel(QObject *parent = nullptr);

    // Takes one server_stats payload (a QVariantMap as the client decodes it).
    void addStats(const QVariantMap &stats, const QDateTime &now = QDateTime::currentDateTimeUtc());
    void clear();
    // Re-evaluates health (call every second or so).
    void refreshHealth(const QDateTime &now = QDateTime::currentDateTimeUtc());

    const QList<Server> &serverList() const;
    const Server *server(const QString &serverId) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void sampleAdded(const QString &serverId);

private:
    QList<Server> m_servers;
    QDateTime m_now;
};

// Connected sockets, from all_sockets / socket_connected / socket_updated / socket_disconnected /
// room_joined / room_left.
class SocketsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Id,
        ClientId,
        Namespace,
        Transport,
        Address,
        Rooms,
        ConnectedSince,
        Data,
        ColumnCount
    };
    struct SocketInfo
    {
        QString id;
        QString clientId;
        QString nsp;
        QString transport;
        QString address;
        QStringList rooms;
        QDateTime connectedAt;
        QVariantMap data;
        QVariantMap handshake;
    };

    explicit SocketsModel(QObject *parent = nullptr);

    // A SerializedSocket of the protocol.
    static SocketInfo fromSerialized(const QVariantMap &serialized);

    void reset(const QList<SocketInfo> &sockets);
    void addSocket(const SocketInfo &socket); // replaces one with the same nsp + id
    // socket_updated: only the keys present in `update` ({data} or {transport}) change.
    void updateSocket(const QString &nsp, const QString &id, const QVariantMap &update);
    void removeSocket(const QString &nsp, const QString &id);
    void joinRoom(const QString &nsp, const QString &room, const QString &id);
    void leaveRoom(const QString &nsp, const QString &room, const QString &id);
    void clear();

    const QList<SocketInfo> &socketList() const;
    int indexOf(const QString &nsp, const QString &id) const; // constant time

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    // Changes of the rooms tree, so that RoomsModel follows them in place (modelReset aside,
    // which stands for any change). Each comes after the change and its row signals.
    void socketAdded(const QString &nsp, const QString &id, const QStringList &rooms);
    void socketRemoved(const QString &nsp, const QString &id, const QStringList &rooms);
    void roomJoined(const QString &nsp, const QString &room, const QString &id);
    void roomLeft(const QString &nsp, const QString &room, const QString &id);

private:
    void reindexFrom(int row);

    QList<SocketInfo> m_sockets;
    // (nsp, id) -> row: socket events arrive by the thousand on a busy server.
    QHash<QPair<QString, QString>, int> m_rows;
};

// namespace -> room -> member socket ids, derived from a SocketsModel and kept in sync through its
// signals, in place: selections and persistent indexes survive unrelated changes. Every level is
// sorted by name.
class RoomsModel : public QAbstractItemModel
{
    Q_OBJECT
public:
    enum class Kind { Namespace, Room, Member };
    Q_ENUM(Kind)
    enum Column { Name, Members, ColumnCount }; // Members: count for namespaces and rooms

    explicit RoomsModel(SocketsModel *source, QObject *parent = nullptr);
    ~RoomsModel() override; // Node is complete only in the .cpp

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

    // Index of a namespace, room, or member (for tests and selection restore).
    QModelIndex find(const QString &nsp, const QString &room = {}, const QString &id = {}) const;

private:
    struct Node;
    using Children = std::vector<std::unique_ptr<Node>>;
    void rebuild();
    void onSocketAdded(const QString &nsp, const QString &id, const QStringList &rooms);
    void onSocketRemoved(const QString &nsp, const QString &id, const QStringList &rooms);
    void addMember(Node *nspNode, const QString &room, const QString &id);
    void removeMember(Node *nspNode, const QString &room, const QString &id);
    Node *namespaceNode(const QString &nsp) const;
    const Children &siblings(const Node *node) const;
    int rowOf(const Node *node) const;
    QModelIndex indexOf(const Node *node, int column = 0) const;
    void countChanged(const Node *node);

    SocketsModel *m_source;
    Children m_namespaces;
};

// Registered handlers (qsio:handlers): namespace, event, how.
class HandlersModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Namespace, Event, How, ColumnCount };
    explicit HandlersModel(QObject *parent = nullptr);

    void setHandlers(const QVariantList &handlers); // [{nsp, event, how}]
    void clear();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        QString nsp, event, how;
    };
    QList<Row> m_rows;
};

// event_received / event_sent, newest last, bounded. While paused, arriving entries wait (still
// bounded) and appear on resume: nothing is dropped by pausing.
class EventLogModel : public QAbstractTableModel
{
    Q_OBJECT
    Q_PROPERTY(bool paused READ isPaused WRITE setPaused NOTIFY pausedChanged)
public:
    enum class Direction { Received, Sent };
    Q_ENUM(Direction)
    enum Column { Time, Dir, Namespace, SocketId, Event, Arguments, ColumnCount };
    struct Entry
    {
        QDateTime time;
        Direction direction = Direction::Received;
        QString nsp;
        QString socketId;
        QString event;
        // QByteArray for binary up to maxKeptBinary bytes, OmittedBinary for larger (the log
        // only shows their size, and may hold thousands of entries).
        QVariantList args;
    };

    static constexpr qsizetype maxKeptBinary = 64;

    explicit EventLogModel(QObject *parent = nullptr);

    void setCapacity(int capacity); // default 5000; the oldest entries go first
    int capacity() const;
    // payload: the protocol's [eventName, ...args]; `timestamp` ISO-8601 or epoch ms.
    void addEvent(Direction direction, const QString &nsp, const QString &socketId,
        const QVariantList &payload, const QVariant &timestamp);
    void clear();
    bool isPaused() const;
    void setPaused(bool paused);
    int pendingCount() const; // waiting while paused

    const Entry &entry(int row) const;
    // Compact JSON of the arguments, binary (and OmittedBinary) as <binary N bytes>.
    static QString argsText(const QVariantList &args, bool indented = false);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void pausedChanged(bool paused);

private:
    std::deque<Entry> m_entries;
    std::deque<Entry> m_pending;
    int m_capacity = 5000;
    bool m_paused = false;
};

// Case-insensitive text filter over every column, plus an optional exact namespace.
class TextFilterProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit TextFilterProxyModel(QObject *parent = nullptr);
    void setFilterText(const QString &text);
    QString filterText() const;
    void setNamespaceFilter(const QString &nsp); // empty: all
    QString namespaceFilter() const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override; // RawRole

private:
    QString m_text;
    QString m_nsp;
};

} // namespace AdminApp

Q_DECLARE_METATYPE(AdminApp::OmittedBinary)
