#include "inmemoryadapter.h"

#include "../socket/socket.h"
#include "../socket/socketnamespace.h"

namespace QSocketIo {

// Every namespace gets this adapter unless the server was given another factory.
static const bool registered = [] {
    Adapter::setDefaultFactory([](Namespace *ns) { return new InMemoryAdapter(ns); });
    return true;
}();

InMemoryAdapter::InMemoryAdapter(Namespace *ns)
    : Adapter(ns)
{
}

bool InMemoryAdapter::isInRoom(const QString &sid, const QString &room) const
{
    const auto it = m_sids.constFind(sid);
    if (it == m_sids.cend())
        return false;
    return room == sid ? it->inOwnRoom : it->rooms.contains(room);
}

const QString *InMemoryAdapter::owner(const QString &room) const
{
    const auto it = m_sids.constFind(room);
    return it != m_sids.cend() && it->inOwnRoom ? &it.key() : nullptr;
}

bool InMemoryAdapter::roomExists(const QString &room) const
{
    return m_rooms.contains(room) || owner(room);
}

void InMemoryAdapter::addAll(const QString &sid, const QSet<QString> &rooms)
{
    m_sids[sid]; // known from now on, even in no room
    for (const QString &room : rooms) {
        if (isInRoom(sid, room))
            continue;
        const bool created = !roomExists(room);
        Member &mine = m_sids[sid];
        if (room == sid) {
            mine.inOwnRoom = true;
        } else {
            mine.rooms.insert(room);
            m_rooms[room].insert(sid);
        }
        if (created)
            Q_EMIT roomCreated(room);
        Q_EMIT roomJoined(room, sid);
    }
}

void InMemoryAdapter::del(const QString &sid, const QString &room)
{
    if (!isInRoom(sid, room))
        return;
    Member &mine = m_sids[sid];
    if (room == sid) {
        mine.inOwnRoom = false;
    } else {
        mine.rooms.remove(room);
        auto r = m_rooms.find(room);
        if (r != m_rooms.end()) {
            r->remove(sid);
            if (r->isEmpty())
                m_rooms.erase(r);
        }
    }
    if (!roomExists(room))
        Q_EMIT roomDeleted(room);
    Q_EMIT roomLeft(room, sid);
}

void InMemoryAdapter::delAll(const QString &sid)
{
    const auto it = m_sids.constFind(sid);
    if (it == m_sids.cend())
        return;
    const bool own = it->inOwnRoom;
    const QSet<QString> rooms = it->rooms;
    if (own)
        del(sid, sid);
    for (const QString &room : rooms)
        del(sid, room);
    m_sids.remove(sid);
}

QList<QString> InMemoryAdapter::select(const BroadcastOptions &options) const
{
    QSet<QString> excluded;
    for (const QString &room : options.except) {
        excluded.unite(m_rooms.value(room));
        if (const QString *sid = owner(room))
            excluded.insert(*sid);
    }
    QList<QString> ids;
    if (options.rooms.isEmpty()) {
        ids.reserve(m_sids.size());
        for (auto it = m_sids.cbegin(); it != m_sids.cend(); ++it) {
            if (!excluded.contains(it.key()))
                ids.append(it.key());
        }
        return ids;
    }
    QSet<QString> seen;
    const auto take = [&](const QString &sid) {
        if (!excluded.contains(sid) && !seen.contains(sid)) {
            seen.insert(sid);
            ids.append(sid);
        }
    };
    for (const QString &room : options.rooms) {
        if (const QString *sid = owner(room))
            take(*sid);
        const auto members = m_rooms.constFind(room);
        if (members == m_rooms.cend())
            continue;
        for (const QString &sid : *members)
            take(sid);
    }
    return ids;
}

bool InMemoryAdapter::broadcast(const SocketIo::Packet &packet, const BroadcastOptions &options)
{
    const QList<QString> recipients = select(options);
    if (recipients.isEmpty())
        return true;
    const EngineMessages messages = prepare(packet); // once for all recipients
    for (const QString &sid : recipients)
        deliver(sid, packet, messages, options.flags.isVolatile);
    return true;
}

void InMemoryAdapter::broadcastWithAck(const SocketIo::Packet &packet,
    const BroadcastOptions &options, std::function<void(int)> onCount,
    std::function<void(const QVariantList &)> onAck)
{
    const EngineMessages messages = prepare(packet);
    int count = 0;
    for (const QString &sid : select(options)) {
        if (deliver(sid, packet, messages, options.flags.isVolatile)) {
            expectAck(sid, packet.id, onAck, options.flags.timeout);
            ++count;
        }
    }
    onCount(count);
}

QSet<QString> InMemoryAdapter::sockets(const QSet<QString> &rooms) const
{
    BroadcastOptions options;
    options.rooms = rooms;
    const QList<QString> ids = select(options);
    return QSet<QString>(ids.cbegin(), ids.cend());
}

QSet<QString> InMemoryAdapter::socketRooms(const QString &sid) const
{
    const auto it = m_sids.constFind(sid);
    if (it == m_sids.cend())
        return {};
    QSet<QString> rooms = it->rooms;
    if (it->inOwnRoom)
        rooms.insert(sid);
    return rooms;
}

QSet<QString> InMemoryAdapter::rooms() const
{
    QSet<QString> all;
    for (auto it = m_rooms.cbegin(); it != m_rooms.cend(); ++it)
        all.insert(it.key());
    for (auto it = m_sids.cbegin(); it != m_sids.cend(); ++it) {
        if (it->inOwnRoom)
            all.insert(it.key());
    }
    return all;
}

void InMemoryAdapter::addSockets(const BroadcastOptions &options, const QSet<QString> &rooms)
{
    for (const QString &sid : select(options))
        addAll(sid, rooms);
}

void InMemoryAdapter::delSockets(const BroadcastOptions &options, const QSet<QString> &rooms)
{
    for (const QString &sid : select(options)) {
        for (const QString &room : rooms)
            del(sid, room);
    }
}

void InMemoryAdapter::disconnectSockets(const BroadcastOptions &options, bool close)
{
    for (const QString &sid : select(options)) {
        if (Socket *s = localSocket(sid))
            s->disconnect(close);
    }
}

QList<Socket *> InMemoryAdapter::fetchSockets(const BroadcastOptions &options) const
{
    QList<Socket *> list;
    for (const QString &sid : select(options)) {
        if (Socket *s = localSocket(sid))
            list.append(s);
    }
    return list;
}

} // namespace QSocketIo
