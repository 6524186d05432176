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

QVariantMap Handshake::toVariantMap(bool withAuth) const
{
    QVariantMap headerMap;
    for (const auto &[name, value] : headers)
        headerMap.insert(QString::fromLatin1(name).toLower(), QString::fromLatin1(value));
    QVariantMap queryMap;
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded))
        queryMap.insert(key, value);
    QString path = url.path(QUrl::FullyEncoded);
    if (url.hasQuery())
        path += u'?' + url.query(QUrl::FullyEncoded);
    QVariantMap map {
        {QStringLiteral("address"), address.toString()},
        {QStringLiteral("headers"), headerMap},
        {QStringLiteral("query"), queryMap},
        {QStringLiteral("issued"), time.toMSecsSinceEpoch()},
        {QStringLiteral("secure"), secure},
        {QStringLiteral("time"), time.toUTC().toString(Qt::RFC2822Date)},
        {QStringLiteral("url"), path},
        {QStringLiteral("xdomain"), !header("origin").isEmpty()},
    };
    if (withAuth)
        map.insert(QStringLiteral("auth"), auth.isValid() ? auth : QVariantMap());
    return map;
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
        pending.timerId = startTimer(timeout, Qt::PreciseTimer);
        ackTimers.insert(pending.timerId, ackId);
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
    if (pending.timerId) {
        ackTimers.remove(pending.timerId);
        killTimer(pending.timerId);
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
    auto chain = std::make_shared<PacketChain>();
    chain->socket = q_ptr;
    chain->d = this;
    chain->event = event;
    chain->args = std::move(args);
    chain->ack = ack;
    chain->run();
}

// One incoming event on its way through the socket's middlewares, each of which may call next()
// later. Held only by the Next handed to the current middleware: a middleware that drops it
// without calling it drops the event.
void SocketPrivate::PacketChain::run()
{
    if (done)
        return;
    if (!socket || !d->connected()) {
        done = true;
        return;
    }
    if (index >= d->middlewares.size()) {
        done = true;
        d->dispatch(event, args, ack);
        return;
    }
    const auto middleware = d->middlewares.at(index++);
    auto self = shared_from_this();
    auto called = std::make_shared<bool>(false);
    const Next next([self, called](const ConnectError *error) {
        if (*called || self->done)
            return;
        *called = true;
        if (!error) {
            self->run();
            return;
        }
        self->done = true;
        if (self->socket)
            Q_EMIT self->socket->middlewareError(error->message, error->data);
    });
    try {
        middleware(event, args, next);
    } catch (const std::exception &e) {
        qCWarning(lcSocket) << "middleware of socket" << d->id << "threw:" << e.what();
        next(ConnectError {QString::fromUtf8(e.what()), {}});
    } catch (...) {
        qCWarning(lcSocket) << "middleware of socket" << d->id << "threw";
        next(ConnectError {u"middleware error"_s, {}});
    }
}

void SocketPrivate::dispatch(const QString &event, const QVariantList &args, const Ack &ack)
{
    Q_Q(Socket);
    // Handlers may register handlers, or end the socket: iterate over copies, check liveness.
    QPointer<Socket> self(q);
    const auto any = anyHandlers;
    for (const auto &h : any) {
        guarded(id, event, [&] { h(event, args); });
        if (!self)
            return;
    }
    QPointer<Namespace> ns(nsp);
    for (NamespacePrivate *n : nsp->d_func()->chain()) {
        const auto registered = n->handlers;
        for (const auto &r : registered) {
            if (r.handler && r.event == event)
                guarded(id, event, [&] { r.handler(q, args, ack); });
            if (!self || !ns)
                return;
        }
    }
    const auto own = handlers.value(event);
    for (const auto &h : own) {
        guarded(id, event, [&] { h(args, ack); });
        if (!self)
            return;
    }
    Q_EMIT q->eventReceived(event, args, ack);
}

void SocketPrivate::onClose(const QString &reason)
{
    Q_Q(Socket);
    if (state == State::Closed || !joined || closing)
        return;
    closing = true; // a disconnecting() slot may call disconnect() again
    QPointer<Socket> guard(q);
    Q_EMIT q->disconnecting(reason);
    if (!guard)
        return;
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
void Socket::setData(const QVariantMap &data)
{
    Q_D(Socket);
    if (d->data == data)
        return;
    d->data = data;
    Q_EMIT dataChanged();
}
void Socket::setDataValue(const QString &key, const QVariant &value)
{
    Q_D(Socket);
    auto it = d->data.constFind(key);
    if (it != d->data.constEnd() && *it == value)
        return;
    d->data.insert(key, value);
    Q_EMIT dataChanged();
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
    return isEmittable(event) && d->sendPacket(eventPacket(d->nsp->name(), event, args));
}

bool Socket::emitVolatile(const QString &event, const QVariantList &args)
{
    Q_D(Socket);
    return isEmittable(event) && d->sendPacket(eventPacket(d->nsp->name(), event, args), true);
}

qint64 SocketPrivate::emitWithAck(const QString &event, const QVariantList &args,
    AckCallback callback, std::chrono::milliseconds timeout)
{
    Packet p = eventPacket(nsp->name(), event, args);
    p.id = registerAck(std::move(callback), timeout);
    if (!isEmittable(event) || !sendPacket(p)) {
        // Never sent: the answer will not come. Told on the next turn, as a timeout would be.
        QMetaObject::invokeMethod(
            this, [this, id = p.id] { takeAck(id, true, {}); }, Qt::QueuedConnection);
    }
    return p.id;
}

void Socket::emitWithAck(const QString &event, const QVariantList &args, AckCallback callback,
    std::chrono::milliseconds timeout)
{
    d_func()->emitWithAck(event, args, std::move(callback), timeout);
}

qint64 Socket::emitWithAck(
    const QString &event, const QVariantList &args, std::chrono::milliseconds timeout)
{
    return d_func()->emitWithAck(event, args, {}, timeout);
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
    // As in Node, a socket still connecting (in its middlewares) is not disconnected: refuse
    // it from the middleware or connect handler instead.
    if (d->state != SocketPrivate::State::Connected || d->closing)
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
