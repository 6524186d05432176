#include "socket.h"

#include "socketserver_p.h"

#include <QtCore/qcoreevent.h>

namespace QSocketIo {

using namespace Qt::StringLiterals;
using SocketIo::Packet;
using SocketIo::PacketType;

Ack::Ack(std::function<void(const QVariantList &)> send)
    : m_state(std::make_shared<State>(State {std::move(send), false}))
{
}

bool Ack::isSent() const
{
    return m_state && m_state->sent;
}

void Ack::operator()(const QVariantList &args) const
{
    if (!m_state || m_state->sent)
        return;
    m_state->sent = true;
    m_state->send(args);
}

QByteArray Handshake::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

// A handler's exception must not end the connection, nor the server.
template <typename F> static void guarded(const QString &socketId, const QString &what, F &&f)
{
    try {
        f();
    } catch (const std::exception &e) {
        qCWarning(lcSocket).noquote()
            << "handler for" << what << "of socket" << socketId << "threw:" << e.what();
    } catch (...) {
        qCWarning(lcSocket).noquote()
            << "handler for" << what << "of socket" << socketId << "threw a non-standard exception";
    }
}

SocketPrivate::SocketPrivate(
    Socket *q, Namespace *nsp, const QString &id, Client *client, const QVariant &auth)
    : q_ptr(q)
    , nsp(nsp)
    , id(id)
    , client(client)
{
    const EngineHandshake &e = client->connection->handshake();
    handshake.headers = e.headers;
    handshake.query = e.query;
    handshake.address = e.remoteAddress;
    handshake.time = e.issued;
    handshake.auth = auth;
    handshake.secure = e.secure;
    handshake.url = e.url;
}

SocketPrivate::~SocketPrivate() = default;

bool SocketPrivate::sendPacket(const Packet &packet, bool isVolatile)
{
    if (state == State::Closed || !client)
        return false;
    if (packet.type == PacketType::Event && !anyOutgoingHandlers.isEmpty())
        notifyOutgoing(packet);
    return write(prepare(packet), isVolatile);
}

bool SocketPrivate::write(const EngineMessages &messages, bool isVolatile)
{
    switch (state) {
    case State::Connected:
        return client && client->write(messages, isVolatile);
    case State::Connecting:
        if (isVolatile)
            return false;
        pending.append(messages);
        return true;
    case State::Closed:
        break;
    }
    return false;
}

void SocketPrivate::notifyOutgoing(const Packet &packet)
{
    QVariantList args = packet.data.toList();
    const QString event = args.isEmpty() ? QString() : args.takeFirst().toString();
    for (const auto &h : std::as_const(anyOutgoingHandlers))
        guarded(id, u"outgoing "_s + event, [&] { h(event, args); });
}

qint64 SocketPrivate::registerAck(
    AckCallback callback, std::chrono::milliseconds timeout, qint64 ackId)
{
    if (ackId < 0)
        ackId = nsp->d_func()->nextAckId++;
    PendingAck pending;
    pending.callback = std::move(callback);
    if (timeout.count() <= 0)
        timeout = nsp->server()->options().ackTimeout;
    if (timeout.count() > 0) {
        pending.timer = new QBasicTimer;
        pending.timer->start(int(timeout.count()), Qt::PreciseTimer, this);
        ackTimers.insert(pending.timer->timerId(), ackId);
    }
    acks.insert(ackId, std::move(pending));
    return ackId;
}

void SocketPrivate::takeAck(qint64 ackId, bool timedOut, const QVariantList &args)
{
    Q_Q(Socket);
    auto it = acks.find(ackId);
    if (it == acks.end()) {
        qCDebug(lcSocket) << "socket" << id << "acknowledged unknown id" << ackId;
        return;
    }
    PendingAck pending = std::move(*it);
    acks.erase(it);
    if (pending.timer) {
        ackTimers.remove(pending.timer->timerId());
        delete pending.timer;
    }
    if (pending.callback)
        guarded(id, u"ack"_s, [&] { pending.callback(timedOut, args); });
    else if (timedOut)
        Q_EMIT q->ackTimedOut(ackId);
    else
        Q_EMIT q->acknowledged(ackId, args);
}

void SocketPrivate::timerEvent(QTimerEvent *event)
{
    const auto it = ackTimers.constFind(event->timerId());
    if (it != ackTimers.cend())
        takeAck(*it, true, {});
}

void SocketPrivate::onAck(Packet &&packet)
{
    takeAck(packet.id, false, packet.data.toList());
}

void SocketPrivate::onEvent(Packet &&packet)
{
    QVariantList args = std::move(*static_cast<QVariantList *>(packet.data.data()));
    const QString event = args.takeFirst().toString();
    Ack ack;
    if (packet.id >= 0) {
        QPointer<Socket> self(q_ptr);
        const qint64 ackId = packet.id;
        const QString nspName = nsp->name();
        ack = Ack([self, ackId, nspName](const QVariantList &ackArgs) {
            if (!self)
                return;
            Packet reply;
            reply.type = PacketType::Ack;
            reply.nsp = nspName;
            reply.id = ackId;
            reply.data = ackArgs;
            self->d_func()->sendPacket(reply);
        });
    }
    if (middlewares.isEmpty()) {
        dispatch(event, args, ack);
        return;
    }
    // Middlewares run in order, each possibly later (next() kept and called afterwards).
    auto state = std::make_shared<std::pair<QVariantList, int>>(std::move(args), 0);
    QPointer<Socket> self(q_ptr);
    auto step = std::make_shared<std::function<void()>>();
    *step = [self, state, event, ack, step]() {
        if (!self || !self->d_func()->connected())
            return;
        SocketPrivate *d = self->d_func();
        if (state->second >= d->middlewares.size()) {
            d->dispatch(event, state->first, ack);
            *step = nullptr; // break the cycle
            return;
        }
        const auto middleware = d->middlewares.at(state->second++);
        Next next([self, step](const ConnectError *error) {
            if (!self || !*step)
                return;
            if (error) {
                Q_EMIT self->middlewareError(error->message, error->data);
                *step = nullptr;
                return;
            }
            (*step)();
        });
        guarded(d->id, u"middleware"_s, [&] { middleware(event, state->first, next); });
    };
    (*step)();
}

void SocketPrivate::dispatch(const QString &event, const QVariantList &args, const Ack &ack)
{
    Q_Q(Socket);
    QPointer<Socket> self(q);
    for (const auto &h : std::as_const(anyHandlers))
        guarded(id, event, [&] { h(event, args); });
    for (NamespacePrivate *n : nsp->d_func()->chain()) {
        for (const auto &r : std::as_const(n->handlers)) {
            if (self && r.handler && r.event == event)
                guarded(id, event, [&] { r.handler(q, args, ack); });
        }
    }
    if (!self)
        return;
    for (const auto &h : handlers.value(event))
        guarded(id, event, [&] { h(args, ack); });
    if (self)
        Q_EMIT q->eventReceived(event, args, ack);
}

void SocketPrivate::onClose(const QString &reason)
{
    Q_Q(Socket);
    if (state == State::Closed || !joined)
        return;
    Q_EMIT q->disconnecting(reason);
    state = State::Closed;
    // No answer can come any more.
    QPointer<Socket> self(q);
    const QList<qint64> waiting = acks.keys();
    for (qint64 ackId : waiting) {
        if (!self)
            return;
        takeAck(ackId, true, {});
    }
    nsp->d_func()->remove(q, reason);
    if (client)
        client->removeSocket(q);
    qCDebug(lcSocket) << "socket" << id << "left" << nsp->name() << ":" << reason;
    Q_EMIT q->disconnected(reason);
    q->deleteLater();
}

Socket::Socket(Namespace *nsp, const QString &id, Client *client, const QVariant &auth)
    : QObject(nsp)
    , d_ptr(std::make_unique<SocketPrivate>(this, nsp, id, client, auth))
{
}

Socket::~Socket() = default;

QString Socket::id() const
{
    return d_func()->id;
}
Namespace *Socket::nsp() const
{
    return d_func()->nsp;
}
SocketServer *Socket::server() const
{
    return d_func()->nsp->server();
}
const Handshake &Socket::handshake() const
{
    return d_func()->handshake;
}
bool Socket::isConnected() const
{
    return d_func()->connected();
}
QVariantMap &Socket::data()
{
    return d_func()->data;
}

EngineSocket *Socket::engineSocket() const
{
    Q_D(const Socket);
    return d->client ? d->client->connection.data() : nullptr;
}

QString Socket::transport() const
{
    EngineSocket *e = engineSocket();
    return e ? e->transport() : QString();
}

QSet<QString> Socket::rooms() const
{
    Q_D(const Socket);
    return d->nsp->adapter()->socketRooms(d->id);
}

void Socket::join(const QString &room)
{
    join(QStringList {room});
}

void Socket::join(const QStringList &rooms)
{
    Q_D(Socket);
    if (!d->joined || d->state == SocketPrivate::State::Closed)
        return;
    d->nsp->adapter()->addAll(d->id, QSet<QString>(rooms.cbegin(), rooms.cend()));
}

void Socket::leave(const QString &room)
{
    Q_D(Socket);
    d->nsp->adapter()->del(d->id, room);
}

bool Socket::emitEvent(const QString &event, const QVariantList &args)
{
    Q_D(Socket);
    return d->sendPacket(eventPacket(d->nsp->name(), event, args));
}

bool Socket::emitVolatile(const QString &event, const QVariantList &args)
{
    Q_D(Socket);
    return d->sendPacket(eventPacket(d->nsp->name(), event, args), true);
}

void Socket::emitWithAck(const QString &event, const QVariantList &args, AckCallback callback,
    std::chrono::milliseconds timeout)
{
    Q_D(Socket);
    Packet p = eventPacket(d->nsp->name(), event, args);
    p.id = d->registerAck(std::move(callback), timeout);
    d->sendPacket(p);
}

qint64 Socket::emitWithAck(
    const QString &event, const QVariantList &args, std::chrono::milliseconds timeout)
{
    Q_D(Socket);
    Packet p = eventPacket(d->nsp->name(), event, args);
    p.id = d->registerAck({}, timeout);
    d->sendPacket(p);
    return p.id;
}

BroadcastOperator Socket::broadcast() const
{
    Q_D(const Socket);
    return BroadcastOperator(d->nsp).except(d->id);
}

BroadcastOperator Socket::to(const QString &room) const
{
    return broadcast().to(room);
}

BroadcastOperator Socket::except(const QString &room) const
{
    return broadcast().except(room);
}

void Socket::on(const QString &event, Handler handler)
{
    d_func()->handlers[event].append(std::move(handler));
}

void Socket::onAny(AnyHandler handler)
{
    d_func()->anyHandlers.append(std::move(handler));
}

void Socket::onAnyOutgoing(AnyHandler handler)
{
    d_func()->anyOutgoingHandlers.append(std::move(handler));
}

void Socket::use(PacketMiddleware middleware)
{
    d_func()->middlewares.append(std::move(middleware));
}

void Socket::disconnect(bool close)
{
    Q_D(Socket);
    if (d->state == SocketPrivate::State::Closed)
        return;
    if (close && d->client) {
        d->client->disconnectAll(u"server namespace disconnect"_s);
        return;
    }
    Packet p;
    p.type = PacketType::Disconnect;
    p.nsp = d->nsp->name();
    d->sendPacket(p);
    d->onClose(u"server namespace disconnect"_s);
}

} // namespace QSocketIo
