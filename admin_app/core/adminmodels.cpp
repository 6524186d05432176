#include "adminmodels.h"

#include <limits>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonvalue.h>
#include <QtCore/qloggingcategory.h>

#include <algorithm>
#include <map>
#include <set>

Q_LOGGING_CATEGORY(lcAdminModels, "qsocketio.admin.models")

namespace AdminApp {

namespace {

// Qt shows a tooltip that looks like rich text (Qt::mightBeRichText) as HTML: text from the
// monitored server or its clients could then inject markup (<img src=...> loads local files).
// Escaped inside a paragraph that keeps its line breaks and spaces, it shows as it was sent.
QVariant toolTip(const QString &text)
{
    if (text.isEmpty())
        return {};
    return QString(QStringLiteral("<p style='white-space:pre'>") + text.toHtmlEscaped()
        + QStringLiteral("</p>"));
}

QString dateText(const QDateTime &time)
{
    return time.isValid() ? time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                          : QString();
}

// A leaf value as JSON text; QJsonDocument only writes arrays and objects, so the value goes
// through a one-element array whose brackets are cut off.
QString leafJson(const QVariant &value)
{
    const QByteArray json
        = QJsonDocument(QJsonArray {QJsonValue::fromVariant(value)}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(json.mid(1, json.size() - 2));
}

// Qt 6.4's lupdate loops on a template call inside translate()'s arguments: the count comes in
// as a plain parameter.
QString binaryMarker(qint64 size)
{
    const int n = int(qMin<qint64>(size, std::numeric_limits<int>::max()));
    return QCoreApplication::translate("AdminApp::EventLogModel", "<binary %n bytes>", nullptr, n);
}

void writeJson(QString &out, const QVariant &value, bool indented, int level)
{
    const QString newline = indented ? QStringLiteral("\n") : QString();
    const auto pad = [&](int n) { return indented ? QString(n * 2, QLatin1Char(' ')) : QString(); };
    if (value.metaType() == QMetaType::fromType<OmittedBinary>()) {
        out += binaryMarker(value.value<OmittedBinary>().size);
        return;
    }
    switch (value.metaType().id()) {
    case QMetaType::QByteArray:
        // Binary is not JSON: shown as a marker so the text stays readable.
        out += binaryMarker(value.toByteArray().size());
        return;
    case QMetaType::QVariantList:
    case QMetaType::QStringList: {
        const QVariantList list = value.toList();
        if (list.isEmpty()) {
            out += QStringLiteral("[]");
            return;
        }
        out += QLatin1Char('[') + newline;
        for (qsizetype i = 0; i < list.size(); ++i) {
            out += pad(level + 1);
            writeJson(out, list.at(i), indented, level + 1);
            if (i + 1 < list.size())
                out += QLatin1Char(',');
            out += newline;
        }
        out += pad(level) + QLatin1Char(']');
        return;
    }
    case QMetaType::QVariantMap:
    case QMetaType::QVariantHash: {
        QVariantMap map = value.toMap();
        if (value.metaType().id() == QMetaType::QVariantHash) {
            const QVariantHash hash = value.toHash();
            for (auto it = hash.begin(); it != hash.end(); ++it)
                map.insert(it.key(), it.value());
        }
        if (map.isEmpty()) {
            out += QStringLiteral("{}");
            return;
        }
        out += QLatin1Char('{') + newline;
        qsizetype i = 0;
        for (auto it = map.cbegin(); it != map.cend(); ++it, ++i) {
            out += pad(level + 1) + leafJson(it.key()) + QLatin1Char(':');
            if (indented)
                out += QLatin1Char(' ');
            writeJson(out, it.value(), indented, level + 1);
            if (i + 1 < map.size())
                out += QLatin1Char(',');
            out += newline;
        }
        out += pad(level) + QLatin1Char('}');
        return;
    }
    default:
        out += leafJson(value);
    }
}

// `value` with every binary larger than `maxKept` bytes replaced by its size.
QVariant withoutLargeBinary(const QVariant &value, qsizetype maxKept)
{
    switch (value.metaType().id()) {
    case QMetaType::QByteArray: {
        const qsizetype size = value.toByteArray().size();
        return size > maxKept ? QVariant::fromValue(OmittedBinary {size}) : value;
    }
    case QMetaType::QVariantList: {
        QVariantList list = value.toList();
        for (QVariant &v : list)
            v = withoutLargeBinary(v, maxKept);
        return list;
    }
    case QMetaType::QVariantMap: {
        QVariantMap map = value.toMap();
        for (QVariant &v : map)
            v = withoutLargeBinary(v, maxKept);
        return map;
    }
    case QMetaType::QVariantHash: {
        QVariantHash hash = value.toHash();
        for (QVariant &v : hash)
            v = withoutLargeBinary(v, maxKept);
        return hash;
    }
    default:
        return value;
    }
}

QString jsonText(const QVariant &value, bool indented)
{
    QString out;
    writeJson(out, value, indented, 0);
    return out;
}

} // namespace

// The protocol's timestamps: ISO-8601 text (ours, and Node's Date objects once serialized) or
// epoch milliseconds (Node, in a few places).
QDateTime parseTimestamp(const QVariant &value)
{
    switch (value.metaType().id()) {
    case QMetaType::Double:
    case QMetaType::Float:
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
        return QDateTime::fromMSecsSinceEpoch(qint64(value.toDouble()), Qt::UTC);
    case QMetaType::QString: {
        const QString text = value.toString();
        bool isNumber = false;
        const qint64 ms = text.toLongLong(&isNumber);
        if (isNumber)
            return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
        QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
        if (!t.isValid())
            t = QDateTime::fromString(text, Qt::RFC2822Date);
        return t;
    }
    case QMetaType::QDateTime:
        return value.toDateTime();
    default:
        return {};
    }
}

namespace {

bool isNumber(const QVariant &v)
{
    switch (v.metaType().id()) {
    case QMetaType::Double:
    case QMetaType::Float:
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Bool:
        return true;
    default:
        return false;
    }
}

QString uptimeText(double seconds)
{
    const qint64 s = qint64(seconds);
    if (s < 60)
        return QCoreApplication::translate("AdminApp::ServersModel", "%1 s").arg(s);
    if (s < 3600) {
        return QCoreApplication::translate("AdminApp::ServersModel", "%1 min %2 s")
            .arg(s / 60)
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    }
    if (s < 86400) {
        return QCoreApplication::translate("AdminApp::ServersModel", "%1 h %2 min")
            .arg(s / 3600)
            .arg(s / 60 % 60, 2, 10, QLatin1Char('0'));
    }
    return QCoreApplication::translate("AdminApp::ServersModel", "%1 d %2 h")
        .arg(s / 86400)
        .arg(s / 3600 % 24, 2, 10, QLatin1Char('0'));
}

} // namespace

// ServersModel ----------------------------------------------------------------------------------

ServersModel::ServersModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void ServersModel::addStats(const QVariantMap &stats, const QDateTime &now)
{
    const QString hostname = stats.value(QStringLiteral("hostname")).toString();
    const qint64 pid = stats.value(QStringLiteral("pid")).toLongLong();
    QString serverId = stats.value(QStringLiteral("serverId")).toString();
    if (serverId.isEmpty() && !hostname.isEmpty())
        serverId = QStringLiteral("%1#%2").arg(hostname).arg(pid); // Node's default
    if (serverId.isEmpty()) {
        qCWarning(lcAdminModels) << "server_stats without serverId nor hostname ignored";
        return;
    }
    m_now = now;

    Sample sample;
    sample.time = now;
    sample.clients = stats.value(QStringLiteral("clientsCount")).toInt();
    sample.pollingClients = stats.value(QStringLiteral("pollingClientsCount")).toInt();
    for (const QVariant &e : stats.value(QStringLiteral("aggregatedEvents")).toList()) {
        const QVariantMap event = e.toMap();
        const QString type = event.value(QStringLiteral("type")).toString();
        const qint64 count = event.value(QStringLiteral("count")).toLongLong();
        if (type == QLatin1String("bytesIn"))
            sample.bytesIn += count;
        else if (type == QLatin1String("bytesOut"))
            sample.bytesOut += count;
        else if (type == QLatin1String("packetsIn"))
            sample.packetsIn += count;
        else if (type == QLatin1String("packetsOut"))
            sample.packetsOut += count;
        else if (type == QLatin1String("rawConnection"))
            sample.connections += count;
        else if (type == QLatin1String("rawDisconnection"))
            sample.disconnections += count;
    }

    QList<QPair<QString, int>> namespaces;
    for (const QVariant &n : stats.value(QStringLiteral("namespaces")).toList()) {
        const QVariantMap nsp = n.toMap();
        const QString name = nsp.value(QStringLiteral("name")).toString();
        if (!name.isEmpty())
            namespaces.append({name, nsp.value(QStringLiteral("socketsCount")).toInt()});
    }

    auto it = std::find_if(m_servers.begin(), m_servers.end(),
        [&](const Server &s) { return s.serverId == serverId; });
    int row = int(it - m_servers.begin());
    const bool added = it == m_servers.end();
    Server fresh;
    Server &server = added ? fresh : *it;
    server.serverId = serverId;
    server.hostname = hostname;
    server.pid = pid;
    server.uptime = stats.value(QStringLiteral("uptime")).toDouble();
    server.clients = sample.clients;
    server.pollingClients = sample.pollingClients;
    server.namespaces = namespaces;
    server.lastSeen = now;
    server.history.push_back(sample);
    while (server.history.size() > size_t(maxHistory))
        server.history.pop_front();
    if (added) {
        row = int(m_servers.size());
        beginInsertRows({}, row, row);
        m_servers.append(std::move(fresh));
        endInsertRows();
    } else {
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
    // Another server's health may have changed with the time.
    if (m_servers.size() > 1)
        Q_EMIT dataChanged(index(0, Healthy), index(rowCount() - 1, Healthy));
    Q_EMIT sampleAdded(serverId);
}

void ServersModel::clear()
{
    if (m_servers.isEmpty())
        return;
    beginResetModel();
    m_servers.clear();
    endResetModel();
}

void ServersModel::refreshHealth(const QDateTime &now)
{
    m_now = now;
    if (!m_servers.isEmpty())
        Q_EMIT dataChanged(index(0, Healthy), index(rowCount() - 1, Healthy));
}

const QList<ServersModel::Server> &ServersModel::serverList() const
{
    return m_servers;
}

const ServersModel::Server *ServersModel::server(const QString &serverId) const
{
    for (const Server &s : m_servers) {
        if (s.serverId == serverId)
            return &s;
    }
    return nullptr;
}

int ServersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_servers.size());
}

int ServersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ServersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Server &s = m_servers.at(index.row());
    const bool healthy
        = s.lastSeen.isValid() && m_now.isValid() && s.lastSeen.secsTo(m_now) <= unhealthyAfterSecs;
    const auto namespacesText = [&] {
        QStringList parts;
        for (const auto &[name, count] : s.namespaces)
            parts.append(QStringLiteral("%1 (%2)").arg(name).arg(count));
        return parts.join(QStringLiteral(", "));
    };
    switch (role) {
    case ServerIdRole:
        return s.serverId;
    case Qt::DisplayRole:
        switch (index.column()) {
        case ServerId:
            return s.serverId;
        case Hostname:
            return s.hostname;
        case Pid:
            return s.pid;
        case Uptime:
            return uptimeText(s.uptime);
        case Clients:
            return s.clients;
        case PollingClients:
            return s.pollingClients;
        case Namespaces:
            return namespacesText();
        case LastSeen:
            return dateText(s.lastSeen);
        case Healthy:
            return healthy ? tr("yes") : tr("no");
        }
        break;
    case RawRole:
        switch (index.column()) {
        case ServerId:
            return s.serverId;
        case Hostname:
            return s.hostname;
        case Pid:
            return s.pid;
        case Uptime:
            return s.uptime;
        case Clients:
            return s.clients;
        case PollingClients:
            return s.pollingClients;
        case Namespaces: {
            int sockets = 0;
            for (const auto &n : s.namespaces)
                sockets += n.second;
            return sockets;
        }
        case LastSeen:
            return s.lastSeen;
        case Healthy:
            return healthy;
        }
        break;
    case Qt::ToolTipRole:
        if (index.column() == Namespaces)
            return toolTip(namespacesText().replace(QStringLiteral(", "), QStringLiteral("\n")));
        if (index.column() == Healthy && !healthy)
            return tr("No statistics for more than %n seconds", nullptr, unhealthyAfterSecs);
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == Pid || index.column() == Clients || index.column() == PollingClients)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    }
    return {};
}

QVariant ServersModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, o, role);
    switch (section) {
    case ServerId:
        return tr("Server");
    case Hostname:
        return tr("Host name");
    case Pid:
        return tr("PID");
    case Uptime:
        return tr("Uptime");
    case Clients:
        return tr("Clients");
    case PollingClients:
        return tr("Polling clients");
    case Namespaces:
        return tr("Namespaces");
    case LastSeen:
        return tr("Last seen");
    case Healthy:
        return tr("Healthy");
    }
    return {};
}

// SocketsModel ----------------------------------------------------------------------------------

SocketsModel::SocketsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

SocketsModel::SocketInfo SocketsModel::fromSerialized(const QVariantMap &serialized)
{
    SocketInfo info;
    info.id = serialized.value(QStringLiteral("id")).toString();
    info.clientId = serialized.value(QStringLiteral("clientId")).toString();
    info.nsp = serialized.value(QStringLiteral("nsp")).toString();
    info.transport = serialized.value(QStringLiteral("transport")).toString();
    info.handshake = serialized.value(QStringLiteral("handshake")).toMap();
    info.address = info.handshake.value(QStringLiteral("address")).toString();
    const QVariant data = serialized.value(QStringLiteral("data"));
    if (data.metaType().id() == QMetaType::QVariantMap)
        info.data = data.toMap();
    const QVariant rooms = serialized.value(QStringLiteral("rooms"));
    const bool roomsIsList = rooms.metaType().id() == QMetaType::QVariantList
        || rooms.metaType().id() == QMetaType::QStringList;
    for (const QVariant &room : roomsIsList ? rooms.toList() : QVariantList()) {
        const QString name = room.toString();
        if (!name.isEmpty() && !info.rooms.contains(name))
            info.rooms.append(name);
    }
    info.connectedAt = parseTimestamp(info.handshake.value(QStringLiteral("issued")));
    if (!info.connectedAt.isValid())
        info.connectedAt = parseTimestamp(info.handshake.value(QStringLiteral("time")));
    return info;
}

void SocketsModel::reset(const QList<SocketInfo> &sockets)
{
    beginResetModel();
    m_sockets.clear();
    m_rows.clear();
    for (const SocketInfo &s : sockets) {
        if (s.id.isEmpty() || s.nsp.isEmpty())
            continue;
        const auto it = m_rows.constFind({s.nsp, s.id});
        if (it != m_rows.constEnd()) {
            m_sockets[*it] = s;
        } else {
            m_rows.insert({s.nsp, s.id}, int(m_sockets.size()));
            m_sockets.append(s);
        }
    }
    endResetModel();
}

void SocketsModel::addSocket(const SocketInfo &socket)
{
    if (socket.id.isEmpty() || socket.nsp.isEmpty()) {
        qCWarning(lcAdminModels) << "socket without id or namespace ignored";
        return;
    }
    const int row = indexOf(socket.nsp, socket.id);
    if (row >= 0) {
        const QStringList before = m_sockets[row].rooms;
        m_sockets[row] = socket;
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        // The rooms tree moves the socket between the rooms it left and joined.
        for (const QString &room : before) {
            if (!socket.rooms.contains(room))
                Q_EMIT roomLeft(socket.nsp, room, socket.id);
        }
        for (const QString &room : socket.rooms) {
            if (!before.contains(room))
                Q_EMIT roomJoined(socket.nsp, room, socket.id);
        }
        return;
    }
    const int end = int(m_sockets.size());
    beginInsertRows({}, end, end);
    m_sockets.append(socket);
    m_rows.insert({socket.nsp, socket.id}, end);
    endInsertRows();
    Q_EMIT socketAdded(socket.nsp, socket.id, socket.rooms);
}

void SocketsModel::updateSocket(const QString &nsp, const QString &id, const QVariantMap &update)
{
    const int row = indexOf(nsp, id);
    if (row < 0)
        return;
    SocketInfo &s = m_sockets[row];
    if (const auto it = update.find(QStringLiteral("transport")); it != update.end()) {
        s.transport = it->toString();
        Q_EMIT dataChanged(index(row, Transport), index(row, Transport));
    }
    if (const auto it = update.find(QStringLiteral("data")); it != update.end()) {
        s.data = it->toMap();
        Q_EMIT dataChanged(index(row, Data), index(row, Data));
    }
}

void SocketsModel::removeSocket(const QString &nsp, const QString &id)
{
    const int row = indexOf(nsp, id);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    const QStringList rooms = m_sockets.takeAt(row).rooms;
    m_rows.remove({nsp, id});
    // The rows after it moved up by one.
    reindexFrom(row);
    endRemoveRows();
    Q_EMIT socketRemoved(nsp, id, rooms);
}

void SocketsModel::reindexFrom(int row)
{
    for (int i = row; i < int(m_sockets.size()); ++i)
        m_rows[{m_sockets[i].nsp, m_sockets[i].id}] = i;
}

void SocketsModel::joinRoom(const QString &nsp, const QString &room, const QString &id)
{
    const int row = indexOf(nsp, id);
    if (row < 0 || room.isEmpty() || m_sockets[row].rooms.contains(room))
        return;
    m_sockets[row].rooms.append(room);
    Q_EMIT dataChanged(index(row, Rooms), index(row, Rooms));
    Q_EMIT roomJoined(nsp, room, id);
}

void SocketsModel::leaveRoom(const QString &nsp, const QString &room, const QString &id)
{
    const int row = indexOf(nsp, id);
    if (row < 0 || !m_sockets[row].rooms.removeOne(room))
        return;
    Q_EMIT dataChanged(index(row, Rooms), index(row, Rooms));
    Q_EMIT roomLeft(nsp, room, id);
}

void SocketsModel::clear()
{
    if (m_sockets.isEmpty())
        return;
    beginResetModel();
    m_sockets.clear();
    m_rows.clear();
    endResetModel();
}

const QList<SocketsModel::SocketInfo> &SocketsModel::socketList() const
{
    return m_sockets;
}

int SocketsModel::indexOf(const QString &nsp, const QString &id) const
{
    return m_rows.value({nsp, id}, -1);
}

int SocketsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_sockets.size());
}

int SocketsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SocketsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SocketInfo &s = m_sockets.at(index.row());
    switch (role) {
    case SocketIdRole:
        return s.id;
    case NamespaceRole:
        return s.nsp;
    case PrettyJsonRole:
        return index.column() == Data ? jsonText(s.data, true) : QVariant();
    case Qt::DisplayRole:
    case RawRole:
        switch (index.column()) {
        case Id:
            return s.id;
        case ClientId:
            return s.clientId;
        case Namespace:
            return s.nsp;
        case Transport:
            return s.transport;
        case Address:
            return s.address;
        case Rooms:
            return role == RawRole ? QVariant(s.rooms)
                                   : QVariant(s.rooms.join(QStringLiteral(", ")));
        case ConnectedSince:
            return role == RawRole ? QVariant(s.connectedAt) : QVariant(dateText(s.connectedAt));
        case Data:
            return role == RawRole ? QVariant(s.data) : QVariant(jsonText(s.data, false));
        }
        break;
    case Qt::ToolTipRole:
        if (index.column() == Data)
            return toolTip(jsonText(s.data, true));
        if (index.column() == Rooms)
            return toolTip(s.rooms.join(QLatin1Char('\n')));
        if (index.column() == Address) {
            const QString agent = s.handshake.value(QStringLiteral("headers"))
                                      .toMap()
                                      .value(QStringLiteral("user-agent"))
                                      .toString();
            return toolTip(agent);
        }
        break;
    }
    return {};
}

QVariant SocketsModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, o, role);
    switch (section) {
    case Id:
        return tr("Socket ID");
    case ClientId:
        return tr("Client ID");
    case Namespace:
        return tr("Namespace");
    case Transport:
        return tr("Transport");
    case Address:
        return tr("Address");
    case Rooms:
        return tr("Rooms");
    case ConnectedSince:
        return tr("Connected since");
    case Data:
        return tr("Data");
    }
    return {};
}

// RoomsModel ------------------------------------------------------------------------------------

struct RoomsModel::Node
{
    Kind kind = Kind::Namespace;
    QString nsp;
    QString room;
    QString id;
    Node *parent = nullptr;
    int sockets = 0; // namespaces: how many sockets it has, in rooms or not
    Children children; // sorted by key()

    // What siblings are sorted by.
    const QString &key() const
    {
        switch (kind) {
        case Kind::Namespace:
            return nsp;
        case Kind::Room:
            return room;
        case Kind::Member:
            break;
        }
        return id;
    }
};

namespace {

// The first of `nodes` (sorted by key) whose key is not less than `key`.
template <typename Nodes> auto lowerBound(Nodes &nodes, const QString &key)
{
    return std::lower_bound(nodes.begin(), nodes.end(), key,
        [](const auto &node, const QString &k) { return node->key() < k; });
}

} // namespace

RoomsModel::RoomsModel(SocketsModel *source, QObject *parent)
    : QAbstractItemModel(parent)
    , m_source(source)
{
    // Changes go in place so that views keep their selection and expanded rooms; only a reset of
    // the sockets (all_sockets, a new connection) rebuilds the tree.
    connect(source, &QAbstractItemModel::modelReset, this, [this] {
        beginResetModel();
        rebuild();
        endResetModel();
    });
    connect(source, &SocketsModel::socketAdded, this, &RoomsModel::onSocketAdded);
    connect(source, &SocketsModel::socketRemoved, this, &RoomsModel::onSocketRemoved);
    connect(source, &SocketsModel::roomJoined, this,
        [this](const QString &nsp, const QString &room, const QString &id) {
            if (Node *n = namespaceNode(nsp))
                addMember(n, room, id);
        });
    connect(source, &SocketsModel::roomLeft, this,
        [this](const QString &nsp, const QString &room, const QString &id) {
            if (Node *n = namespaceNode(nsp))
                removeMember(n, room, id);
        });
    connect(source, &QObject::destroyed, this, [this] {
        beginResetModel();
        m_source = nullptr;
        m_namespaces.clear();
        endResetModel();
    });
    rebuild();
}

RoomsModel::~RoomsModel() = default;

void RoomsModel::rebuild()
{
    m_namespaces.clear();
    if (!m_source)
        return;
    // nsp -> room -> members, sorted for a stable display.
    std::map<QString, std::map<QString, std::set<QString>>> tree;
    std::map<QString, std::set<QString>> sockets;
    for (const SocketsModel::SocketInfo &s : m_source->socketList()) {
        sockets[s.nsp].insert(s.id);
        auto &rooms = tree[s.nsp];
        for (const QString &room : s.rooms)
            rooms[room].insert(s.id);
    }
    for (const auto &[nsp, rooms] : tree) {
        auto nspNode = std::make_unique<Node>();
        nspNode->kind = Kind::Namespace;
        nspNode->nsp = nsp;
        nspNode->sockets = int(sockets[nsp].size());
        for (const auto &[room, members] : rooms) {
            auto roomNode = std::make_unique<Node>();
            roomNode->kind = Kind::Room;
            roomNode->nsp = nsp;
            roomNode->room = room;
            roomNode->parent = nspNode.get();
            for (const QString &id : members) {
                auto member = std::make_unique<Node>();
                member->kind = Kind::Member;
                member->nsp = nsp;
                member->room = room;
                member->id = id;
                member->parent = roomNode.get();
                roomNode->children.push_back(std::move(member));
            }
            nspNode->children.push_back(std::move(roomNode));
        }
        m_namespaces.push_back(std::move(nspNode));
    }
}

void RoomsModel::onSocketAdded(const QString &nsp, const QString &id, const QStringList &rooms)
{
    Node *nspNode = namespaceNode(nsp);
    if (nspNode) {
        ++nspNode->sockets;
        countChanged(nspNode);
    } else {
        auto node = std::make_unique<Node>();
        node->kind = Kind::Namespace;
        node->nsp = nsp;
        node->sockets = 1;
        nspNode = node.get();
        const auto it = lowerBound(m_namespaces, nsp);
        const int row = int(it - m_namespaces.begin());
        beginInsertRows({}, row, row);
        m_namespaces.insert(it, std::move(node));
        endInsertRows();
    }
    for (const QString &room : rooms)
        addMember(nspNode, room, id);
}

void RoomsModel::onSocketRemoved(const QString &nsp, const QString &id, const QStringList &rooms)
{
    Node *nspNode = namespaceNode(nsp);
    if (!nspNode)
        return;
    for (const QString &room : rooms)
        removeMember(nspNode, room, id);
    if (--nspNode->sockets > 0) {
        countChanged(nspNode);
        return;
    }
    // Its rooms went with their last members above.
    const int row = rowOf(nspNode);
    beginRemoveRows({}, row, row);
    m_namespaces.erase(m_namespaces.begin() + row);
    endRemoveRows();
}

void RoomsModel::addMember(Node *nspNode, const QString &room, const QString &id)
{
    if (room.isEmpty())
        return;
    const auto roomIt = lowerBound(nspNode->children, room);
    if (roomIt == nspNode->children.end() || (*roomIt)->room != room) {
        // A new room comes with its first member.
        auto roomNode = std::make_unique<Node>();
        roomNode->kind = Kind::Room;
        roomNode->nsp = nspNode->nsp;
        roomNode->room = room;
        roomNode->parent = nspNode;
        auto member = std::make_unique<Node>();
        member->kind = Kind::Member;
        member->nsp = nspNode->nsp;
        member->room = room;
        member->id = id;
        member->parent = roomNode.get();
        roomNode->children.push_back(std::move(member));
        const int row = int(roomIt - nspNode->children.begin());
        beginInsertRows(indexOf(nspNode), row, row);
        nspNode->children.insert(roomIt, std::move(roomNode));
        endInsertRows();
        return;
    }
    Node *roomNode = roomIt->get();
    const auto memberIt = lowerBound(roomNode->children, id);
    if (memberIt != roomNode->children.end() && (*memberIt)->id == id)
        return;
    auto member = std::make_unique<Node>();
    member->kind = Kind::Member;
    member->nsp = nspNode->nsp;
    member->room = room;
    member->id = id;
    member->parent = roomNode;
    const int row = int(memberIt - roomNode->children.begin());
    beginInsertRows(indexOf(roomNode), row, row);
    roomNode->children.insert(memberIt, std::move(member));
    endInsertRows();
    countChanged(roomNode);
}

void RoomsModel::removeMember(Node *nspNode, const QString &room, const QString &id)
{
    const auto roomIt = lowerBound(nspNode->children, room);
    if (roomIt == nspNode->children.end() || (*roomIt)->room != room)
        return;
    Node *roomNode = roomIt->get();
    const auto memberIt = lowerBound(roomNode->children, id);
    if (memberIt == roomNode->children.end() || (*memberIt)->id != id)
        return;
    if (roomNode->children.size() == 1) {
        // A room exists while it has members (as on the server).
        const int row = int(roomIt - nspNode->children.begin());
        beginRemoveRows(indexOf(nspNode), row, row);
        nspNode->children.erase(roomIt);
        endRemoveRows();
        return;
    }
    const int row = int(memberIt - roomNode->children.begin());
    beginRemoveRows(indexOf(roomNode), row, row);
    roomNode->children.erase(memberIt);
    endRemoveRows();
    countChanged(roomNode);
}

RoomsModel::Node *RoomsModel::namespaceNode(const QString &nsp) const
{
    const auto it = lowerBound(m_namespaces, nsp);
    return it != m_namespaces.end() && (*it)->nsp == nsp ? it->get() : nullptr;
}

const RoomsModel::Children &RoomsModel::siblings(const Node *node) const
{
    return node->parent ? node->parent->children : m_namespaces;
}

int RoomsModel::rowOf(const Node *node) const
{
    // Rows shift with every insertion and removal: found again rather than stored.
    const Children &nodes = siblings(node);
    return int(lowerBound(nodes, node->key()) - nodes.begin());
}

QModelIndex RoomsModel::indexOf(const Node *node, int column) const
{
    return createIndex(rowOf(node), column, const_cast<Node *>(node));
}

void RoomsModel::countChanged(const Node *node)
{
    // The name's tooltip (private room) depends on the members too.
    Q_EMIT dataChanged(indexOf(node, Name), indexOf(node, Members));
}

QModelIndex RoomsModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid()) {
        if (size_t(row) >= m_namespaces.size())
            return {};
        return createIndex(row, column, m_namespaces[row].get());
    }
    if (parent.column() != 0)
        return {};
    const Node *p = static_cast<const Node *>(parent.internalPointer());
    if (!p || size_t(row) >= p->children.size())
        return {};
    return createIndex(row, column, p->children[row].get());
}

QModelIndex RoomsModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    const Node *node = static_cast<const Node *>(child.internalPointer());
    if (!node || !node->parent)
        return {};
    return indexOf(node->parent);
}

int RoomsModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_namespaces.size());
    if (parent.column() != 0)
        return 0;
    const Node *node = static_cast<const Node *>(parent.internalPointer());
    return node ? int(node->children.size()) : 0;
}

int RoomsModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant RoomsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const Node *node = static_cast<const Node *>(index.internalPointer());
    const int count = node->kind == Kind::Namespace ? node->sockets
        : node->kind == Kind::Room                  ? int(node->children.size())
                                                    : 0;
    switch (role) {
    case NamespaceRole:
        return node->nsp;
    case SocketIdRole:
        return node->kind == Kind::Member ? node->id : QString();
    case RoomRole:
        return node->room;
    case KindRole:
        return QVariant::fromValue(node->kind);
    case Qt::DisplayRole:
        if (index.column() == Name) {
            switch (node->kind) {
            case Kind::Namespace:
                return node->nsp;
            case Kind::Room:
                return node->room;
            case Kind::Member:
                return node->id;
            }
        }
        if (index.column() == Members && node->kind != Kind::Member)
            return count;
        break;
    case RawRole:
        if (index.column() == Members)
            return count;
        return data(index, Qt::DisplayRole);
    case Qt::ToolTipRole:
        if (node->kind == Kind::Room && node->children.size() == 1
            && node->children.front()->id == node->room)
            return toolTip(tr("The private room of socket %1").arg(node->room));
        break;
    }
    return {};
}

QVariant RoomsModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractItemModel::headerData(section, o, role);
    switch (section) {
    case Name:
        return tr("Name");
    case Members:
        return tr("Members");
    }
    return {};
}

QModelIndex RoomsModel::find(const QString &nsp, const QString &room, const QString &id) const
{
    const Node *node = namespaceNode(nsp);
    if (!node || room.isEmpty())
        return node ? indexOf(node) : QModelIndex();
    const auto roomIt = lowerBound(node->children, room);
    if (roomIt == node->children.end() || (*roomIt)->room != room)
        return {};
    node = roomIt->get();
    if (id.isEmpty())
        return indexOf(node);
    const auto memberIt = lowerBound(node->children, id);
    if (memberIt == node->children.end() || (*memberIt)->id != id)
        return {};
    return indexOf(memberIt->get());
}

// HandlersModel ---------------------------------------------------------------------------------

HandlersModel::HandlersModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void HandlersModel::setHandlers(const QVariantList &handlers)
{
    QList<Row> rows;
    for (const QVariant &h : handlers) {
        const QVariantMap map = h.toMap();
        Row row {map.value(QStringLiteral("nsp")).toString(),
            map.value(QStringLiteral("event")).toString(),
            map.value(QStringLiteral("how")).toString()};
        if (row.nsp.isEmpty() || row.event.isEmpty()) {
            qCWarning(lcAdminModels) << "handler entry without nsp or event ignored:" << h;
            continue;
        }
        rows.append(row);
    }
    beginResetModel();
    m_rows = rows;
    endResetModel();
}

void HandlersModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

int HandlersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int HandlersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HandlersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case NamespaceRole:
        return r.nsp;
    case SocketIdRole:
        return QString();
    case Qt::DisplayRole:
    case RawRole:
        switch (index.column()) {
        case Namespace:
            return r.nsp;
        case Event:
            return r.event;
        case How:
            return r.how;
        }
        break;
    }
    return {};
}

QVariant HandlersModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, o, role);
    switch (section) {
    case Namespace:
        return tr("Namespace");
    case Event:
        return tr("Event");
    case How:
        return tr("Registered with");
    }
    return {};
}

// EventLogModel ---------------------------------------------------------------------------------

EventLogModel::EventLogModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void EventLogModel::setCapacity(int capacity)
{
    capacity = std::max(1, capacity);
    m_capacity = capacity;
    while (m_pending.size() > size_t(capacity))
        m_pending.pop_front();
    if (m_entries.size() > size_t(capacity)) {
        const int excess = int(m_entries.size()) - capacity;
        beginRemoveRows({}, 0, excess - 1);
        m_entries.erase(m_entries.begin(), m_entries.begin() + excess);
        endRemoveRows();
    }
}

int EventLogModel::capacity() const
{
    return m_capacity;
}

void EventLogModel::addEvent(Direction direction, const QString &nsp, const QString &socketId,
    const QVariantList &payload, const QVariant &timestamp)
{
    Entry e;
    e.time = parseTimestamp(timestamp);
    if (!e.time.isValid())
        e.time = QDateTime::currentDateTimeUtc();
    e.direction = direction;
    e.nsp = nsp;
    e.socketId = socketId;
    e.event = payload.value(0).toString();
    // Kept for display only: a large binary (an image sent to many sockets, logged once per
    // recipient) would otherwise stay in memory for as long as its entry.
    e.args = withoutLargeBinary(payload.mid(1), maxKeptBinary).toList();

    if (m_paused) {
        m_pending.push_back(std::move(e));
        // Only the newest `capacity` entries could ever be shown.
        while (m_pending.size() > size_t(m_capacity))
            m_pending.pop_front();
        return;
    }
    if (m_entries.size() >= size_t(m_capacity)) {
        const int excess = int(m_entries.size()) - m_capacity + 1;
        beginRemoveRows({}, 0, excess - 1);
        m_entries.erase(m_entries.begin(), m_entries.begin() + excess);
        endRemoveRows();
    }
    const int row = int(m_entries.size());
    beginInsertRows({}, row, row);
    m_entries.push_back(std::move(e));
    endInsertRows();
}

void EventLogModel::clear()
{
    m_pending.clear();
    if (m_entries.empty())
        return;
    beginResetModel();
    m_entries.clear();
    endResetModel();
}

bool EventLogModel::isPaused() const
{
    return m_paused;
}

void EventLogModel::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    if (!paused && !m_pending.empty()) {
        const int incoming = int(m_pending.size());
        if (incoming >= m_capacity) {
            beginResetModel();
            m_entries.clear();
            while (m_pending.size() > size_t(m_capacity))
                m_pending.pop_front();
            m_entries.swap(m_pending);
            endResetModel();
        } else {
            const int excess = int(m_entries.size()) + incoming - m_capacity;
            if (excess > 0) {
                beginRemoveRows({}, 0, excess - 1);
                m_entries.erase(m_entries.begin(), m_entries.begin() + excess);
                endRemoveRows();
            }
            const int first = int(m_entries.size());
            beginInsertRows({}, first, first + incoming - 1);
            for (Entry &e : m_pending)
                m_entries.push_back(std::move(e));
            endInsertRows();
        }
        m_pending.clear();
    }
    Q_EMIT pausedChanged(paused);
}

int EventLogModel::pendingCount() const
{
    return int(m_pending.size());
}

const EventLogModel::Entry &EventLogModel::entry(int row) const
{
    Q_ASSERT(row >= 0 && size_t(row) < m_entries.size());
    return m_entries.at(size_t(row));
}

QString EventLogModel::argsText(const QVariantList &args, bool indented)
{
    return jsonText(args, indented);
}

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &e = m_entries.at(size_t(index.row()));
    switch (role) {
    case SocketIdRole:
        return e.socketId;
    case NamespaceRole:
        return e.nsp;
    case DirectionRole:
        return QVariant::fromValue(e.direction);
    case PrettyJsonRole:
        return argsText(e.args, true);
    case Qt::ToolTipRole:
        if (index.column() == Arguments)
            return toolTip(argsText(e.args, true));
        if (index.column() == Time)
            return e.time.toLocalTime().toString(Qt::ISODateWithMs);
        break;
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return dateText(e.time);
        case Dir:
            return e.direction == Direction::Received ? tr("received") : tr("sent");
        case Namespace:
            return e.nsp;
        case SocketId:
            return e.socketId;
        case Event:
            return e.event;
        case Arguments:
            return argsText(e.args, false);
        }
        break;
    case RawRole:
        switch (index.column()) {
        case Time:
            return e.time;
        case Dir:
            return int(e.direction);
        case Namespace:
            return e.nsp;
        case SocketId:
            return e.socketId;
        case Event:
            return e.event;
        case Arguments:
            return e.args;
        }
        break;
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, o, role);
    switch (section) {
    case Time:
        return tr("Time");
    case Dir:
        return tr("Direction");
    case Namespace:
        return tr("Namespace");
    case SocketId:
        return tr("Socket ID");
    case Event:
        return tr("Event");
    case Arguments:
        return tr("Arguments");
    }
    return {};
}

// TextFilterProxyModel --------------------------------------------------------------------------

TextFilterProxyModel::TextFilterProxyModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    // A room or namespace stays visible when one of its members matches.
    setRecursiveFilteringEnabled(true);
}

void TextFilterProxyModel::setFilterText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    invalidateFilter();
}

QString TextFilterProxyModel::filterText() const
{
    return m_text;
}

void TextFilterProxyModel::setNamespaceFilter(const QString &nsp)
{
    if (nsp == m_nsp)
        return;
    m_nsp = nsp;
    invalidateFilter();
}

QString TextFilterProxyModel::namespaceFilter() const
{
    return m_nsp;
}

bool TextFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *model = sourceModel();
    if (!model)
        return true;
    const QModelIndex first = model->index(sourceRow, 0, sourceParent);
    if (!m_nsp.isEmpty()) {
        const QVariant nsp = model->data(first, NamespaceRole);
        if (nsp.isValid() && nsp.toString() != m_nsp)
            return false;
    }
    const QString text = m_text.trimmed();
    if (text.isEmpty())
        return true;
    const int columns = model->columnCount(sourceParent);
    for (int c = 0; c < columns; ++c) {
        const QString cell = model->data(model->index(sourceRow, c, sourceParent)).toString();
        if (cell.contains(text, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

bool TextFilterProxyModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant l = left.data(RawRole);
    const QVariant r = right.data(RawRole);
    if (l.isValid() && r.isValid()) {
        if (isNumber(l) && isNumber(r))
            return l.toDouble() < r.toDouble();
        if (l.metaType().id() == QMetaType::QDateTime && r.metaType().id() == QMetaType::QDateTime)
            return l.toDateTime() < r.toDateTime();
        if (l.metaType().id() == QMetaType::QString && r.metaType().id() == QMetaType::QString)
            return QString::localeAwareCompare(
                       l.toString().toCaseFolded(), r.toString().toCaseFolded())
                < 0;
    }
    return QString::localeAwareCompare(
               left.data().toString().toCaseFolded(), right.data().toString().toCaseFolded())
        < 0;
}

} // namespace AdminApp
