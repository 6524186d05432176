#pragma once

// The room bookkeeping and broadcast delivery behind a namespace, swappable (in memory by
// default, Redis for several nodes), after Node's socket.io-adapter.

#include "../codec/socketiocodec.h"
#include "../engine/enginesocket.h"
#include "../qsocketioglobal.h"
#include "remotesocket.h"

#include <QtCore/qobject.h>
#include <QtCore/qset.h>

#include <chrono>
#include <functional>

namespace QSocketIo {

class Namespace;
class Socket;

// A Socket.IO packet as the engine sends it: its text message, then one binary message per
// attachment. Made once per packet, shared by every recipient.
using EngineMessages = QList<EngineMessage>;
QSOCKETIO_EXPORT EngineMessages prepare(const SocketIo::Packet &packet);

struct QSOCKETIO_EXPORT BroadcastFlags
{
    bool isVolatile = false; // dropped for sockets whose transport is not writable
    bool local = false; // this node only (matters for cluster adapters)
    std::chrono::milliseconds timeout {0}; // of a broadcast with acks
};

struct QSOCKETIO_EXPORT BroadcastOptions
{
    QSet<QString> rooms; // empty: every socket of the namespace
    QSet<QString> except; // rooms (socket ids included) whose sockets are skipped
    BroadcastFlags flags;
};

class QSOCKETIO_EXPORT Adapter : public QObject
{
    Q_OBJECT
public:
    explicit Adapter(Namespace *ns);
    ~Adapter() override;

    Namespace *nsp() const { return m_nsp; }

    virtual void addAll(const QString &sid, const QSet<QString> &rooms) = 0;
    virtual void del(const QString &sid, const QString &room) = 0;
    virtual void delAll(const QString &sid) = 0;

    // Encodes `packet` once and writes it to every socket the options select. False when a
    // cluster adapter could not hand it to the other servers (local delivery happens anyway).
    virtual bool broadcast(const SocketIo::Packet &packet, const BroadcastOptions &options) = 0;
    // Like broadcast(), with an ack id per packet; `onCount` learns how many sockets got it
    // (all nodes), `onAck` each answer.
    virtual void broadcastWithAck(const SocketIo::Packet &packet, const BroadcastOptions &options,
        std::function<void(int clientCount)> onCount,
        std::function<void(const QVariantList &args)> onAck)
        = 0;

    virtual QSet<QString> sockets(const QSet<QString> &rooms) const = 0;
    virtual QSet<QString> socketRooms(const QString &sid) const = 0;
    virtual QSet<QString> rooms() const = 0;

    virtual void addSockets(const BroadcastOptions &options, const QSet<QString> &rooms) = 0;
    virtual void delSockets(const BroadcastOptions &options, const QSet<QString> &rooms) = 0;
    virtual void disconnectSockets(const BroadcastOptions &options, bool close) = 0;
    // Local sockets the options select.
    virtual QList<Socket *> fetchSockets(const BroadcastOptions &options) const = 0;

    // The cluster-wide forms; single-node adapters keep these defaults (this server only).
    // Every socket the options select, on every server; the callback runs once, maybe at once.
    virtual void fetchSockets(const BroadcastOptions &options, FetchSocketsCallback callback);
    // A server-side emit (`packet` is [event, args...]) to the other servers; false when it
    // could not be sent. Single node: there is nobody to send it to, so true.
    virtual bool serverSideEmit(const QVariantList &packet);
    // The same, with the first argument of each server's acknowledgement; the callback runs
    // once, when every other server answered or `timeout` passed (timedOut set). A zero
    // timeout takes the adapter's own default.
    virtual void serverSideEmitWithAck(const QVariantList &packet,
        std::chrono::milliseconds timeout,
        std::function<void(bool timedOut, const QVariantList &responses)> callback);

    // The server is going: answer whatever still waits for other servers (with an error) and
    // leave the cluster. Called once, while the server is still whole; the default does nothing.
    virtual void close();

    using Factory = std::function<Adapter *(Namespace *)>;
    // The adapter every namespace gets unless the server was given another factory. The
    // in-memory adapter registers itself here.
    static void setDefaultFactory(Factory factory);
    static Factory defaultFactory();

Q_SIGNALS:
    void roomCreated(const QString &room);
    void roomDeleted(const QString &room);
    void roomJoined(const QString &room, const QString &sid);
    void roomLeft(const QString &room, const QString &sid);

protected:
    // Writes an encoded packet to one local socket; false when there is no such socket or a
    // volatile packet was dropped.
    bool deliver(const QString &sid, const SocketIo::Packet &packet, const EngineMessages &messages,
        bool isVolatile) const;
    // Registers an ack for a packet sent to a local socket through deliver(); forgotten after
    // `timeout` (or when the socket goes).
    void expectAck(const QString &sid, qint64 id, std::function<void(const QVariantList &)> onAck,
        std::chrono::milliseconds timeout) const;
    Socket *localSocket(const QString &sid) const;
    // The wire form of a local socket for fetchSockets(): {id, handshake, rooms, data}.
    static QVariantMap describe(Socket *socket);
    // Hands a server-side emit from another server to the namespace's handlers; `ack` (may be
    // empty) sends the first argument of the answer back.
    void serverSideEmitReceived(
        const QVariantList &packet, std::function<void(const QVariantList &args)> ack) const;
    // A fresh ack id of the namespace, for a broadcast with acks that came from another server.
    qint64 nextAckId() const;

private:
    Namespace *m_nsp;
};

} // namespace QSocketIo
