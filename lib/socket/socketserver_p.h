#pragma once

#include "socket.h"
#include "socketnamespace.h"
#include "socketserver.h"

#include "../codec/socketiocodec.h"
#include "../engine/deadlinetimers_p.h"

#include <QtCore/qloggingcategory.h>
#include <QtCore/qpointer.h>
#include <QtCore/qvarlengtharray.h>

namespace QSocketIo {

// Connections, namespaces, protocol errors: warnings and up by default.
Q_DECLARE_LOGGING_CATEGORY(lcSocket)

class SocketServerPrivate;

SocketIo::Packet eventPacket(const QString &nsp, const QString &event, const QVariantList &args);
// False, with a warning, for the names Socket.IO reserves (clients would drop the connection).
bool isEmittable(const QString &event);

// One Engine.IO connection and the namespace sockets multiplexed on it.
// A connection's sockets by namespace name. Most connections have one, so no hash: a Qt 6.4
// hash keeps room for 48 entries once used, about 1.7 KB per connection.
class SocketsByNamespace
{
public:
    bool isEmpty() const { return m_list.isEmpty(); }
    Socket *value(const QString &nsp) const
    {
        for (const auto &entry : m_list) {
            if (entry.first == nsp)
                return entry.second;
        }
        return nullptr;
    }
    void insert(const QString &nsp, Socket *socket)
    {
        for (auto &entry : m_list) {
            if (entry.first == nsp) {
                entry.second = socket;
                return;
            }
        }
        m_list.append({nsp, socket});
    }
    void removeSocket(Socket *socket)
    {
        for (auto it = m_list.begin(); it != m_list.end(); ++it) {
            if (it->second == socket) {
                m_list.erase(it);
                return;
            }
        }
    }
    QList<Socket *> values() const
    {
        QList<Socket *> list;
        list.reserve(m_list.size());
        for (const auto &entry : m_list)
            list.append(entry.second);
        return list;
    }

private:
    QVarLengthArray<std::pair<QString, Socket *>, 1> m_list;
};

class Client : public QObject
{
    Q_OBJECT
public:
    Client(SocketServerPrivate *server, EngineSocket *connection);
    ~Client() override;

    SocketServerPrivate *server;
    QPointer<EngineSocket> connection;
    EngineSocket *const key; // the server's key for this client, valid after the connection went
    SocketIo::Decoder decoder;
    SocketsByNamespace sockets;
    // Sockets in their middlewares and connect handlers, by namespace name: a second CONNECT
    // for one of them is a protocol error, and they go when the connection goes.
    QHash<QString, QPointer<Socket>> connecting;
    DeadlineTimer connectTimer {[this] { onConnectTimeout(); }};

    bool write(const EngineMessages &messages, bool isVolatile = false);
    bool writePacket(const SocketIo::Packet &packet, bool isVolatile = false);
    void onMessage(const QByteArray &data, bool binary);
    void onPacket(SocketIo::Packet &&packet);
    void connectTo(const QString &nsp, const QVariant &auth);
    void onConnectionClosed(const QString &reason);
    void protocolError(const QString &why);
    // Every namespace gets a DISCONNECT, then the connection closes.
    void disconnectAll(const QString &reason);
    void removeSocket(Socket *socket);
    void onConnectTimeout();
};

struct PendingAck
{
    AckCallback callback; // empty for the signal form
    int timerId = 0; // QObject timer of the SocketPrivate, 0 for none
};

class SocketPrivate : public QObject
{
    Q_OBJECT
    Q_DECLARE_PUBLIC(Socket)
public:
    SocketPrivate(
        Socket *q, Namespace *nsp, const QString &id, Client *client, const QVariant &auth);
    ~SocketPrivate() override;

    Socket *q_ptr;
    Namespace *nsp;
    QString id;
    QPointer<Client> client;
    Handshake handshake;
    QVariantMap data;
    // Connecting: in its middlewares and connect handlers; what is sent meanwhile waits in
    // `pending` for the CONNECT reply (and is dropped if the connection is refused).
    enum class State { Connecting, Connected, Closed };
    State state = State::Connecting;
    bool joined = false; // in the namespace and its own room
    QList<EngineMessages> pending;
    bool connected() const { return state == State::Connected; }
    QHash<qint64, PendingAck> acks;
    QHash<int, qint64> ackTimers; // timer id -> ack id
    bool closing = false; // in onClose(): its signals may call back
    QList<Socket::PacketMiddleware> middlewares;
    QHash<QString, QList<Socket::Handler>> handlers;
    QList<Socket::AnyHandler> anyHandlers;
    QList<Socket::AnyHandler> anyOutgoingHandlers;

    bool sendPacket(const SocketIo::Packet &packet, bool isVolatile = false);
    bool write(const EngineMessages &messages, bool isVolatile);
    // Waits for the client's ack `ackId` (a fresh one when negative); the callback runs once,
    // with the answer, on timeout, or when the socket disconnects first.
    qint64 registerAck(AckCallback callback, std::chrono::milliseconds timeout, qint64 ackId = -1);
    qint64 emitWithAck(const QString &event, const QVariantList &args, AckCallback callback,
        std::chrono::milliseconds timeout);

    struct PacketChain : std::enable_shared_from_this<PacketChain>
    {
        QPointer<Socket> socket;
        SocketPrivate *d = nullptr; // valid while `socket` is
        QString event;
        QVariantList args;
        Ack ack;
        int index = 0;
        bool done = false;
        void run();
    };
    void takeAck(qint64 ackId, bool timedOut, const QVariantList &args);
    void onEvent(SocketIo::Packet &&packet);
    void dispatch(const QString &event, const QVariantList &args, const Ack &ack);
    void onAck(SocketIo::Packet &&packet);
    void notifyOutgoing(const SocketIo::Packet &packet);
    // Leaves rooms and the namespace, emits disconnecting/disconnected, deletes later.
    void onClose(const QString &reason);

protected:
    void timerEvent(QTimerEvent *event) override;
};

class NamespacePrivate
{
    Q_DECLARE_PUBLIC(Namespace)
public:
    NamespacePrivate(Namespace *q, SocketServer *server, const QString &name, Namespace *parent);

    struct Registered
    {
        QString event;
        std::function<void(Socket *, const QVariantList &, const Ack &)> handler;
        QString how;
    };

    Namespace *q_ptr;
    SocketServer *server;
    QString name;
    QPointer<Namespace> parent; // dynamic parent of a child namespace
    bool onDemand = false; // made when a client connected to it
    QList<QPointer<Namespace>> children; // of a dynamic parent
    Adapter *adapter = nullptr;
    QHash<QString, Socket *> sockets;
    QList<Namespace::ConnectMiddleware> middlewares;
    QList<std::function<bool(Socket *, const QVariant &)>> connectHandlers;
    QList<Registered> handlers; // connect/disconnect ones have no handler: listed, not dispatched
    QList<std::function<void(Socket *, const QString &)>> disconnectHandlers;
    qint64 nextAckId = 0; // shared by the sockets of the namespace, as broadcasts need one id
    QHash<QString, QList<std::function<void(const QVariantList &, const Ack &)>>>
        serverSideHandlers;

    // Dynamic parents only.
    QRegularExpression pattern;
    std::function<bool(const QString &, const QVariant &)> accept;

    void add(Client *client, const QVariant &auth);
    void afterMiddlewares(
        QPointer<Socket> socket, QPointer<Client> client, const ConnectError *error);
    void join(Socket *socket, Client *client);
    void sendConnect(Socket *socket, Client *client);
    void refuse(Socket *socket, Client *client, const ConnectError &error);
    // python-socketio's connect handlers, run once the socket is in its rooms.
    bool runConnectHandlers(Socket *socket, ConnectError *error);
    void runMiddlewares(Socket *socket, int index, std::function<void(const ConnectError *)> done);
    void remove(Socket *socket, const QString &reason);
    void dispatchServerSideEmit(
        const QVariantList &packet, std::function<void(const QVariantList &)> ack);
    // The namespace and, for a child, its parent: whose middlewares and handlers apply.
    QList<NamespacePrivate *> chain();
    // Where a broadcast on this namespace goes: itself, or a dynamic parent's children.
    QList<Namespace *> targets();
};

class SocketServerPrivate
{
    Q_DECLARE_PUBLIC(SocketServer)
public:
    SocketServerPrivate(SocketServer *q, const SocketServerOptions &options);

    SocketServer *q_ptr;
    SocketServerOptions options;
    EngineServer *engine = nullptr;
    QHash<QString, Namespace *> namespaces;
    QList<Namespace *> dynamicParents;
    QHash<EngineSocket *, Client *> clients;
    bool closing = false;
    bool socketEventsCollected = false;
    QString mountDescription;

    static QString normalizedName(const QString &name);
    Namespace *createNamespace(const QString &name, Namespace *parent);
    // A namespace made on demand that is empty now goes, if the options say so.
    void cleanupIfEmpty(Namespace *nsp);
    // The namespace a client may connect to under `name`, created if the options or a dynamic
    // parent allow it; null when refused.
    Namespace *namespaceFor(const QString &name, const QVariant &auth);
    void onConnection(EngineSocket *connection);
    Adapter *makeAdapter(Namespace *nsp) const;
    void collectSocketEvents();
    int pendingAcks() const;
    void finishClose();
};

} // namespace QSocketIo
