#pragma once

#include "../socket/adapter.h"

#include <QtCore/qhash.h>

namespace QSocketIo {

// Rooms of one namespace on this node; the default adapter.
class QSOCKETIO_EXPORT InMemoryAdapter : public Adapter
{
    Q_OBJECT
public:
    explicit InMemoryAdapter(Namespace *ns);

    void addAll(const QString &sid, const QSet<QString> &rooms) override;
    void del(const QString &sid, const QString &room) override;
    void delAll(const QString &sid) override;
    bool broadcast(const SocketIo::Packet &packet, const BroadcastOptions &options) override;
    void broadcastWithAck(const SocketIo::Packet &packet, const BroadcastOptions &options,
        std::function<void(int)> onCount, std::function<void(const QVariantList &)> onAck) override;
    QSet<QString> sockets(const QSet<QString> &rooms) const override;
    QSet<QString> socketRooms(const QString &sid) const override;
    QSet<QString> rooms() const override;
    void addSockets(const BroadcastOptions &options, const QSet<QString> &rooms) override;
    void delSockets(const BroadcastOptions &options, const QSet<QString> &rooms) override;
    void disconnectSockets(const BroadcastOptions &options, bool close) override;
    QList<Socket *> fetchSockets(const BroadcastOptions &options) const override;
    using Adapter::fetchSockets;

protected:
    // The local socket ids the options select, in a stable order.
    QList<QString> select(const BroadcastOptions &options) const;
    bool roomExists(const QString &room) const;

private:
    // Every socket is in the room named by its id, so that room is not stored: a pair of
    // one-element sets per socket would cost about 2.7 KB (Qt 6.4 hashes keep room for 48
    // entries once used). `inOwnRoom` says whether the socket is in it (it may leave it).
    struct Member
    {
        QSet<QString> rooms; // besides its own
        bool inOwnRoom = false;
    };
    bool isInRoom(const QString &sid, const QString &room) const;
    // The socket whose id names `room`, when it is in it.
    const QString *owner(const QString &room) const;

    QHash<QString, QSet<QString>> m_rooms; // room -> socket ids, own-id memberships excepted
    QHash<QString, Member> m_sids; // socket id -> its rooms
};

} // namespace QSocketIo
