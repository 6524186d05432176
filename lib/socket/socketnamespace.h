#pragma once

#include "ack.h"
#include "broadcastoperator.h"

#include <QtCore/qobject.h>

#include <memory>

namespace QSocketIo {

class Adapter;
class Socket;
class SocketServer;
class NamespacePrivate;

// A registered handler, for the handler registry (admin app, CLI).
struct QSOCKETIO_EXPORT HandlerInfo
{
    QString nsp;
    QString event;
    QString how; // "on", "SOCKET_EVENT", "signal"
};

// A Socket.IO namespace ("/", "/chat", ...): where sockets connect, with its middlewares,
// handlers and rooms. Owned by its server.
class QSOCKETIO_EXPORT Namespace : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString name READ name CONSTANT)
    Q_PROPERTY(int socketsCount READ socketsCount NOTIFY socketsCountChanged)

public:
    using ConnectMiddleware = std::function<void(Socket *socket, const Next &next)>;

    ~Namespace() override;

    QString name() const;
    SocketServer *server() const;
    Adapter *adapter() const;
    // For a child of a dynamic namespace: the pattern it matched; otherwise null.
    Namespace *parentNamespace() const;

    QList<Socket *> sockets() const;
    Socket *socket(const QString &id) const;
    int socketsCount() const;

    // Run in order for each connecting socket; any may refuse it (CONNECT_ERROR).
    void use(ConnectMiddleware middleware);

    // Registers an event handler for every socket of the namespace, present and future. `how`
    // names the registration in the handler registry ("on", "SOCKET_EVENT", ...).
    void on(const QString &event,
        std::function<void(Socket *socket, const QVariantList &args, const Ack &ack)> handler,
        const QString &how = QStringLiteral("on"));

    // python-socketio's connect handler: runs after the middlewares; returning false refuses
    // the connection ("Connection rejected by server"), throwing a ConnectError refuses it with
    // that message and data.
    void onConnect(std::function<bool(Socket *socket, const QVariant &auth)> handler,
        const QString &how = QStringLiteral("on"));
    void onDisconnect(std::function<void(Socket *socket, const QString &reason)> handler,
        const QString &how = QStringLiteral("on"));

    bool emitEvent(const QString &event, const QVariantList &args = {});

    // Node's serverSideEmit: an event for this namespace's server-side handlers on every other
    // server of the cluster (there are none with the in-memory adapter). False when it could
    // not be sent to them (a reserved event name, the cluster link down).
    bool serverSideEmit(const QString &event, const QVariantList &args = {});
    // The same, collecting the first argument of each server's acknowledgement. `callback` runs
    // once: when every other server answered, or with timedOut set when `timeout` passed
    // first or the cluster could not be reached (zero: the adapter's default, 5 s for Redis).
    void serverSideEmitWithAck(const QString &event, const QVariantList &args,
        std::function<void(bool timedOut, const QVariantList &responses)> callback,
        std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());
    // Handles server-side emits from other servers; call `ack` to answer one that asked for it.
    void onServerSideEmit(const QString &event,
        std::function<void(const QVariantList &args, const Ack &ack)> handler);

    BroadcastOperator to(const QString &room) const;
    BroadcastOperator in(const QString &room) const { return to(room); }
    BroadcastOperator except(const QString &room) const;
    BroadcastOperator asVolatile() const;
    BroadcastOperator all() const;

Q_SIGNALS:
    // Emitted once the socket passed the middlewares and got its CONNECT reply.
    void connected(QSocketIo::Socket *socket);
    void disconnected(QSocketIo::Socket *socket, const QString &reason);
    void socketsCountChanged();
    // A server-side emit from another server of the cluster (after the onServerSideEmit()
    // handlers); `ack` is requested when the sender waits for an answer.
    void serverSideEmitted(
        const QString &event, const QVariantList &args, const QSocketIo::Ack &ack);

private:
    // Its registered handlers, and its signals that have receivers ("signal").
    QList<struct HandlerInfo> handlerInfos() const;
    friend class SocketServer;
    friend class SocketServerPrivate;
    friend class Client;
    friend class Adapter;
    friend class SocketPrivate;
    friend class BroadcastOperator;
    Namespace(SocketServer *server, const QString &name, Namespace *parent);
    Q_DECLARE_PRIVATE(Namespace)
    std::unique_ptr<NamespacePrivate> d_ptr;
};

} // namespace QSocketIo
