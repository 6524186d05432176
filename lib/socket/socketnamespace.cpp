#include "socketnamespace.h"

#include "socketserver_p.h"

#include "../engine/generateid_p.h"

#include <QtCore/qmetaobject.h>

namespace QSocketIo {

using namespace Qt::StringLiterals;
using SocketIo::Packet;
using SocketIo::PacketType;

NamespacePrivate::NamespacePrivate(
    Namespace *q, SocketServer *server, const QString &name, Namespace *parent)
    : q_ptr(q)
    , server(server)
    , name(name)
    , parent(parent)
{
}

QList<Namespace *> NamespacePrivate::targets()
{
    if (!pattern.pattern().isEmpty() || accept) {
        QList<Namespace *> list;
        for (const QPointer<Namespace> &child : std::as_const(children)) {
            if (child)
                list.append(child);
        }
        return list;
    }
    return {q_ptr};
}

QList<NamespacePrivate *> NamespacePrivate::chain()
{
    QList<NamespacePrivate *> list;
    if (parent)
        list.append(parent->d_func());
    list.append(this);
    return list;
}

void NamespacePrivate::add(Client *client, const QVariant &auth)
{
    Q_Q(Namespace);
    auto *socket = new Socket(q, generateId(), client, auth);
    client->connecting.insert(name, socket);
    QPointer<Socket> guard(socket);
    QPointer<Client> clientGuard(client);
    QPointer<Namespace> self(q); // a middleware may call next() after the server went
    runMiddlewares(socket, 0, [self, guard, clientGuard](const ConnectError *error) {
        if (self)
            self->d_func()->afterMiddlewares(guard, clientGuard, error);
    });
}

void NamespacePrivate::afterMiddlewares(
    QPointer<Socket> socket, QPointer<Client> client, const ConnectError *error)
{
    Q_Q(Namespace);
    if (!socket)
        return;
    SocketPrivate *sd = socket->d_func();
    if (client) {
        client->connecting.remove(name);
        // Qt 6.4 hashes keep room for 48 entries once used: about 2 KB per connection, for a
        // table that stays empty for the rest of the connection's life.
        if (client->connecting.isEmpty())
            client->connecting = {};
    }
    if (!client || !client->connection || sd->state == SocketPrivate::State::Closed
        || client->connection->state() != EngineSocket::State::Open) {
        sd->state = SocketPrivate::State::Closed;
        socket->deleteLater();
        return;
    }
    if (error) {
        refuse(socket, client, *error);
        return;
    }
    join(socket, client);
    const bool alwaysConnect = server->options().alwaysConnect;
    if (alwaysConnect)
        sendConnect(socket, client);
    ConnectError refusal;
    const bool accepted = runConnectHandlers(socket, &refusal);
    if (!socket || !client || sd->state == SocketPrivate::State::Closed)
        return; // a handler ended it
    if (!accepted) {
        if (alwaysConnect) {
            socket->disconnect();
        } else {
            sd->state = SocketPrivate::State::Closed;
            adapter->delAll(sd->id);
            sockets.remove(sd->id);
            client->removeSocket(socket);
            refuse(socket, client, refusal);
        }
        return;
    }
    if (!alwaysConnect)
        sendConnect(socket, client);
    qCDebug(lcSocket) << "socket" << sd->id << "joined" << name;
    Q_EMIT q->socketsCountChanged();
    Q_EMIT q->connected(socket);
    if (parent && socket)
        Q_EMIT parent->connected(socket); // as Node gives a parent's listeners to children
}

void NamespacePrivate::join(Socket *socket, Client *client)
{
    SocketPrivate *sd = socket->d_func();
    sd->joined = true;
    sockets.insert(sd->id, socket);
    client->sockets.insert(name, socket);
    client->connectTimer.stop();
    adapter->addAll(sd->id, {sd->id});
}

void NamespacePrivate::sendConnect(Socket *socket, Client *client)
{
    SocketPrivate *sd = socket->d_func();
    Packet reply;
    reply.type = PacketType::Connect;
    reply.nsp = name;
    reply.data = QVariantMap {{u"sid"_s, sd->id}};
    client->writePacket(reply);
    sd->state = SocketPrivate::State::Connected;
    for (const EngineMessages &messages : std::exchange(sd->pending, {}))
        client->write(messages);
}

void NamespacePrivate::refuse(Socket *socket, Client *client, const ConnectError &error)
{
    qCDebug(lcSocket) << "connection to" << name << "refused:" << error.message;
    Packet refusal;
    refusal.type = PacketType::ConnectError;
    refusal.nsp = name;
    QVariantMap payload {{u"message"_s, error.message}};
    if (error.data.isValid())
        payload.insert(u"data"_s, error.data);
    refusal.data = payload;
    client->writePacket(refusal);
    SocketPrivate *sd = socket->d_func();
    sd->state = SocketPrivate::State::Closed;
    sd->pending.clear();
    // What a middleware asked of the client will not be answered.
    const QList<qint64> waiting = sd->acks.keys();
    for (qint64 ackId : waiting)
        sd->takeAck(ackId, true, {});
    socket->deleteLater();
    server->d_func()->cleanupIfEmpty(q_ptr);
}

bool NamespacePrivate::runConnectHandlers(Socket *socket, ConnectError *error)
{
    QPointer<Socket> guard(socket);
    for (NamespacePrivate *n : chain()) {
        for (const auto &handler : std::as_const(n->connectHandlers)) {
            try {
                if (!handler(socket, socket->handshake().auth)) {
                    *error = ConnectError {u"Connection rejected by server"_s, {}};
                    return false;
                }
            } catch (const ConnectError &e) {
                *error = e;
                return false;
            } catch (const std::exception &e) {
                qCWarning(lcSocket) << "connect handler of" << n->name << "threw:" << e.what();
                *error = ConnectError {u"Internal server error"_s, {}};
                return false;
            } catch (...) {
                qCWarning(lcSocket) << "connect handler of" << n->name << "threw";
                *error = ConnectError {u"Internal server error"_s, {}};
                return false;
            }
            if (!guard)
                return false;
        }
    }
    return true;
}

void NamespacePrivate::runMiddlewares(
    Socket *socket, int index, std::function<void(const ConnectError *)> done)
{
    Q_Q(Namespace);
    // The parent's middlewares run before the child's own.
    QList<Namespace::ConnectMiddleware> all;
    for (NamespacePrivate *n : chain())
        all.append(n->middlewares);
    if (index >= all.size()) {
        done(nullptr);
        return;
    }
    QPointer<Socket> guard(socket);
    QPointer<Namespace> self(q);
    auto called = std::make_shared<bool>(false);
    Next next([self, guard, index, done, called](const ConnectError *error) {
        if (*called)
            return; // a middleware calling next twice
        *called = true;
        if (error || !guard || !self)
            done(error);
        else
            self->d_func()->runMiddlewares(guard, index + 1, done);
    });
    try {
        all.at(index)(socket, next);
    } catch (const std::exception &e) {
        qCWarning(lcSocket) << "connect middleware of" << name << "threw:" << e.what();
        next(ConnectError {u"Internal server error"_s, {}});
    } catch (...) {
        qCWarning(lcSocket) << "connect middleware of" << name << "threw";
        next(ConnectError {u"Internal server error"_s, {}});
    }
}

void NamespacePrivate::remove(Socket *socket, const QString &reason)
{
    Q_Q(Namespace);
    const QString id = socket->d_func()->id;
    const QSet<QString> rooms = adapter->socketRooms(id);
    if (!sockets.remove(id))
        return;
    adapter->delAll(id);
    // The adapter's signals no longer find the socket: it announces the rooms it left itself,
    // its own-id room included, as Node's adapter does on disconnect.
    for (const QString &room : rooms)
        Q_EMIT socket->roomLeft(room);
    Q_EMIT q->socketsCountChanged();
    for (NamespacePrivate *n : chain()) {
        for (const auto &handler : std::as_const(n->disconnectHandlers)) {
            try {
                handler(socket, reason);
            } catch (...) {
                qCWarning(lcSocket) << "disconnect handler of" << n->name << "threw";
            }
        }
    }
    Q_EMIT q->disconnected(socket, reason);
    if (parent)
        Q_EMIT parent->disconnected(socket, reason);
    server->d_func()->cleanupIfEmpty(q);
}

Namespace::Namespace(SocketServer *server, const QString &name, Namespace *parent)
    : QObject(server)
    , d_ptr(std::make_unique<NamespacePrivate>(this, server, name, parent))
{
}

Namespace::~Namespace()
{
    Q_D(Namespace);
    delete d->adapter;
}

QString Namespace::name() const
{
    return d_func()->name;
}
SocketServer *Namespace::server() const
{
    return d_func()->server;
}
Adapter *Namespace::adapter() const
{
    return d_func()->adapter;
}
Namespace *Namespace::parentNamespace() const
{
    return d_func()->parent;
}
QList<Socket *> Namespace::sockets() const
{
    return d_func()->sockets.values();
}
Socket *Namespace::socket(const QString &id) const
{
    return d_func()->sockets.value(id);
}
int Namespace::socketsCount() const
{
    return int(d_func()->sockets.size());
}

void Namespace::use(ConnectMiddleware middleware)
{
    d_func()->middlewares.append(std::move(middleware));
}

void Namespace::on(const QString &event,
    std::function<void(Socket *, const QVariantList &, const Ack &)> handler, const QString &how)
{
    d_func()->handlers.append({event, std::move(handler), how});
}

void Namespace::onConnect(
    std::function<bool(Socket *, const QVariant &)> handler, const QString &how)
{
    Q_D(Namespace);
    d->handlers.append({u"connect"_s, {}, how});
    d->connectHandlers.append(std::move(handler));
}

void Namespace::onDisconnect(
    std::function<void(Socket *, const QString &)> handler, const QString &how)
{
    Q_D(Namespace);
    d->handlers.append({u"disconnect"_s, {}, how});
    d->disconnectHandlers.append(std::move(handler));
}

QList<HandlerInfo> Namespace::handlerInfos() const
{
    Q_D(const Namespace);
    QList<HandlerInfo> list;
    for (const auto &r : d->handlers)
        list.append({d->name, r.event, r.how});
    if (isSignalConnected(QMetaMethod::fromSignal(&Namespace::connected)))
        list.append({d->name, u"connect"_s, u"signal"_s});
    if (isSignalConnected(QMetaMethod::fromSignal(&Namespace::disconnected)))
        list.append({d->name, u"disconnect"_s, u"signal"_s});
    return list;
}

bool Namespace::emitEvent(const QString &event, const QVariantList &args)
{
    return all().emitEvent(event, args);
}

bool Namespace::serverSideEmit(const QString &event, const QVariantList &args)
{
    if (!isEmittable(event)) {
        qCWarning(lcSocket) << "serverSideEmit: reserved event name" << event;
        return false;
    }
    return d_func()->adapter->serverSideEmit(QVariantList {event} + args);
}

void Namespace::serverSideEmitWithAck(const QString &event, const QVariantList &args,
    std::function<void(bool, const QVariantList &)> callback, std::chrono::milliseconds timeout)
{
    if (!isEmittable(event)) {
        qCWarning(lcSocket) << "serverSideEmitWithAck: reserved event name" << event;
        callback(true, {});
        return;
    }
    d_func()->adapter->serverSideEmitWithAck(
        QVariantList {event} + args, timeout, std::move(callback));
}

void Namespace::onServerSideEmit(
    const QString &event, std::function<void(const QVariantList &, const Ack &)> handler)
{
    d_func()->serverSideHandlers[event].append(std::move(handler));
}

void NamespacePrivate::dispatchServerSideEmit(
    const QVariantList &packet, std::function<void(const QVariantList &)> ack)
{
    Q_Q(Namespace);
    const QString event = packet.value(0).toString();
    if (packet.isEmpty() || packet.first().typeId() != QMetaType::QString) {
        qCWarning(lcSocket) << "server-side emit without an event name on" << name << "ignored";
        return;
    }
    const QVariantList args = packet.mid(1);
    const Ack answer = ack ? Ack(std::move(ack)) : Ack();
    const QPointer<Namespace> guard(q);
    const auto handlers = serverSideHandlers.value(event);
    for (const auto &handler : handlers) {
        try {
            handler(args, answer);
        } catch (const std::exception &e) {
            qCWarning(lcSocket) << "server-side emit handler for" << event << "on" << name
                                << "threw:" << e.what();
        } catch (...) {
            qCWarning(lcSocket) << "server-side emit handler for" << event << "on" << name
                                << "threw a non-standard exception";
        }
        if (!guard)
            return;
    }
    Q_EMIT q->serverSideEmitted(event, args, answer);
}

BroadcastOperator Namespace::all() const
{
    return BroadcastOperator(const_cast<Namespace *>(this));
}

BroadcastOperator Namespace::to(const QString &room) const
{
    return all().to(room);
}

BroadcastOperator Namespace::except(const QString &room) const
{
    return all().except(room);
}

BroadcastOperator Namespace::asVolatile() const
{
    return all().asVolatile();
}

} // namespace QSocketIo
