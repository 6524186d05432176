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

void InMemoryAdapter::addAll(const QString &sid, const QSet<QString> &rooms)
{
    QSet<QString> &mine = m_sids[sid];
    for (const QString &room : rooms) {
        if (mine.contains(room))
            continue;
        mine.insert(room);
        auto it = m_rooms.find(room);
        const bool created = it == m_rooms.end();
        if (created)
            it = m_rooms.insert(room, {});
        it->insert(sid);
        if (created)
            Q_EMIT roomCreated(room);
        Q_EMIT roomJoined(room, sid);
    }
}

void InMemoryAdapter::del(const QString &sid, const QString &room)
{
    auto s = m_sids.find(sid);
    if (s == m_sids.end() || !s->remove(room))
        return;
    auto r = m_rooms.find(room);
    if (r != m_rooms.end()) {
        r->remove(sid);
        if (r->isEmpty()) {
            m_rooms.erase(r);
            Q_EMIT roomDeleted(room);
        }
    }
    Q_EMIT roomLeft(room, sid);
}

void InMemoryAdapter::delAll(const QString &sid)
{
    const QSet<QString> rooms = m_sids.value(sid);
    for (const QString &room : rooms)
        del(sid, room);
    m_sids.remove(sid);
}

QList<QString> InMemoryAdapter::select(const BroadcastOptions &options) const
{
    QSet<QString> excluded;
    for (const QString &room : options.except)
        excluded.unite(m_rooms.value(room));
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
    for (const QString &room : options.rooms) {
        for (const QString &sid : m_rooms.value(room)) {
            if (!excluded.contains(sid) && !seen.contains(sid)) {
                seen.insert(sid);
                ids.append(sid);
            }
        }
    }
    return ids;
}

void InMemoryAdapter::broadcast(const SocketIo::Packet &packet, const BroadcastOptions &options)
{
    const EngineMessages messages = prepare(packet); // once for all recipients
    for (const QString &sid : select(options))
        deliver(sid, packet, messages, options.flags.isVolatile);
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
    return m_sids.value(sid);
}

QSet<QString> InMemoryAdapter::rooms() const
{
    QSet<QString> all;
    for (auto it = m_rooms.cbegin(); it != m_rooms.cend(); ++it)
        all.insert(it.key());
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
