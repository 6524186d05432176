#include "socketclient_p.h"

#include "clientlogging_p.h"

#include <algorithm>
#include <exception>

namespace QSocketIo {

Q_LOGGING_CATEGORY(lcClient, "qsocketio.client", QtWarningMsg)
Q_LOGGING_CATEGORY(lcClientTraffic, "qsocketio.client.traffic", QtWarningMsg)

using namespace Qt::StringLiterals;
using SocketIo::Packet;
using SocketIo::PacketType;

QStringList SocketClientOptions::effectiveTransports() const
{
    if (websocketOnly)
        return {u"websocket"_s};
    QStringList known;
    for (const QString &transport : transports) {
        if ((transport == u"polling" || transport == u"websocket") && !known.contains(transport))
            known.append(transport);
    }
    return known.isEmpty() ? QStringList {u"polling"_s, u"websocket"_s} : known;
}

static QString normalizedNsp(const QString &nsp)
{
    if (nsp.isEmpty())
        return u"/"_s;
    return nsp.startsWith(u'/') ? nsp : u'/' + nsp;
}

// A handler's exception must not end the connection, nor the application.
template <typename F> static void guarded(const QString &nsp, const QString &what, F &&f)
{
    try {
        f();
    } catch (const std::exception &e) {
        qCWarning(lcClient).noquote()
            << "handler for" << what << "in namespace" << nsp << "threw:" << e.what();
    } catch (...) {
        qCWarning(lcClient).noquote()
            << "handler for" << what << "in namespace" << nsp << "threw a non-standard exception";
    }
}

SocketClientPrivate::SocketClientPrivate(
    SocketClient *q, std::shared_ptr<ClientManager> manager, const SocketClientOptions &options)
    : q_ptr(q)
    , manager(std::move(manager))
    , options(options)
    , auth(options.auth)
{
}

void SocketClientPrivate::subscribe()
{
    Q_Q(SocketClient);
    if (active)
        return;
    active = true;
    ClientManager *m = manager.get();
    subscriptions = {
        QObject::connect(m, &ClientManager::opened, q, [this] { onOpen(); }),
        QObject::connect(m, &ClientManager::packetReceived, q,
            [this](const Packet &packet) { onPacket(packet); }),
        QObject::connect(m, &ClientManager::errorOccurred, q,
            [this](const QString &message, const QVariant &data) {
                if (!connected)
                    Q_EMIT q_ptr->connectError(message, data);
            }),
        QObject::connect(
            m, &ClientManager::closed, q, [this](const QString &reason) { onClose(reason); }),
        QObject::connect(m, &ClientManager::reconnectAttempt, q, &SocketClient::reconnecting),
        QObject::connect(m, &ClientManager::reconnected, q, &SocketClient::reconnected),
        QObject::connect(m, &ClientManager::reconnectFailed, q, &SocketClient::reconnectFailed),
        QObject::connect(m, &ClientManager::stateChanged, q, [this] { updateState(); }),
        QObject::connect(m, &ClientManager::transportChanged, q, &SocketClient::transportChanged),
    };
}

void SocketClientPrivate::unsubscribe()
{
    for (const QMetaObject::Connection &c : std::as_const(subscriptions))
        QObject::disconnect(c);
    subscriptions.clear();
    active = false;
}

void SocketClientPrivate::open()
{
    autoConnectPending = false;
    if (connected || (active && connectSent))
        return;
    subscribe();
    if (!manager->isReconnecting())
        manager->open();
    if (manager->state() == ClientManager::State::Open && active && !connectSent)
        onOpen();
    updateState();
}

void SocketClientPrivate::onOpen()
{
    if (connectSent || connected)
        return;
    connectSent = true;
    manager->sendPacket(
        Packet {PacketType::Connect, options.nsp, -1, auth.isEmpty() ? QVariant() : auth});
    updateState();
}

void SocketClientPrivate::onPacket(const Packet &packet)
{
    Q_Q(SocketClient);
    if (packet.nsp != options.nsp)
        return;
    switch (packet.type) {
    case PacketType::Connect:
        onConnectReply(packet.data);
        break;
    case PacketType::Event:
    case PacketType::BinaryEvent:
        onEvent(packet);
        break;
    case PacketType::Ack:
    case PacketType::BinaryAck:
        onAck(packet);
        break;
    case PacketType::Disconnect: {
        qCDebug(lcClient).noquote() << "namespace" << options.nsp << "disconnected by the server";
        const QPointer<SocketClient> self(q);
        unsubscribe();
        manager->deactivated();
        if (self)
            onClose(u"io server disconnect"_s);
        break;
    }
    case PacketType::ConnectError: {
        QString message;
        QVariant data;
        if (packet.data.typeId() == QMetaType::QVariantMap) {
            const QVariantMap map = packet.data.toMap();
            message = map.value(u"message"_s).toString();
            data = map.value(u"data"_s);
        } else {
            message = packet.data.toString();
        }
        qCDebug(lcClient).noquote() << "namespace" << options.nsp << "refused:" << message;
        const QPointer<SocketClient> self(q);
        connectSent = false;
        unsubscribe();
        manager->deactivated();
        if (!self)
            return;
        updateState();
        if (self)
            Q_EMIT q->connectError(message, data);
        break;
    }
    }
}

void SocketClientPrivate::onConnectReply(const QVariant &data)
{
    Q_Q(SocketClient);
    const QString sid = data.toMap().value(u"sid"_s).toString();
    if (sid.isEmpty() || connected) {
        qCWarning(lcClient).noquote() << "unexpected CONNECT packet in namespace" << options.nsp;
        return;
    }
    id = sid;
    connected = true;
    connectSent = false;
    ++session;
    const QPointer<SocketClient> self(q);
    updateState();
    // As socket.io-client: events that came before the answer, then what was emitted meanwhile.
    while (self && connected && !receiveBuffer.isEmpty())
        onEvent(receiveBuffer.takeFirst());
    while (self && connected && !sendBuffer.isEmpty())
        manager->sendPacket(sendBuffer.takeFirst());
    if (self && connected)
        Q_EMIT q->connected();
}

void SocketClientPrivate::onEvent(const Packet &packet)
{
    if (!connected) {
        receiveBuffer.append(packet);
        return;
    }
    QVariantList args = packet.data.toList();
    const QString event = args.isEmpty() ? QString() : args.takeFirst().toString();
    Ack ack;
    if (packet.id >= 0) {
        const QPointer<SocketClient> self(q_ptr);
        const quint64 current = session;
        const qint64 ackId = packet.id;
        ack = Ack([this, self, current, ackId](const QVariantList &answer) {
            if (!self || !connected || session != current)
                return;
            manager->sendPacket(Packet {PacketType::Ack, options.nsp, ackId, answer});
        });
    }
    dispatch(event, args, ack);
}

void SocketClientPrivate::dispatch(const QString &event, const QVariantList &args, const Ack &ack)
{
    Q_Q(SocketClient);
    const QPointer<SocketClient> self(q);
    const QList<SocketClient::AnyHandler> any = anyHandlers;
    for (const SocketClient::AnyHandler &handler : any) {
        guarded(options.nsp, event, [&] { handler(event, args); });
        if (!self)
            return;
    }
    const QList<SocketClient::Handler> own = handlers.value(event);
    for (const SocketClient::Handler &handler : own) {
        guarded(options.nsp, event, [&] { handler(args, ack); });
        if (!self)
            return;
    }
    Q_EMIT q->eventReceived(event, args, ack);
}

void SocketClientPrivate::onAck(const Packet &packet)
{
    settleAck(packet.id, false, packet.data.toList());
}

void SocketClientPrivate::settleAck(qint64 id, bool timedOut, const QVariantList &args)
{
    const auto it = acks.find(id);
    if (it == acks.end())
        return;
    const PendingAck pending = it.value();
    acks.erase(it);
    if (pending.timer)
        pending.timer->deleteLater();
    if (pending.callback)
        guarded(options.nsp, u"an ack"_s, [&] { pending.callback(timedOut, args); });
}

void SocketClientPrivate::clearAcks()
{
    // Events still in the send buffer have not reached the server: their acks wait for the
    // next connection.
    QList<qint64> lost;
    for (auto it = acks.cbegin(); it != acks.cend(); ++it) {
        const qint64 ackId = it.key();
        const bool buffered = std::any_of(sendBuffer.cbegin(), sendBuffer.cend(),
            [ackId](const Packet &p) { return p.id == ackId; });
        if (!buffered)
            lost.append(ackId);
    }
    std::sort(lost.begin(), lost.end());
    const QPointer<SocketClient> self(q_ptr);
    for (qint64 ackId : std::as_const(lost)) {
        settleAck(ackId, true, {});
        if (!self)
            return;
    }
}

void SocketClientPrivate::onClose(const QString &reason)
{
    Q_Q(SocketClient);
    const bool wasConnected = connected;
    connected = false;
    connectSent = false;
    id.clear();
    receiveBuffer.clear();
    const QPointer<SocketClient> self(q);
    updateState();
    if (self && wasConnected) {
        qCDebug(lcClient).noquote() << "namespace" << options.nsp << "disconnected:" << reason;
        Q_EMIT q->disconnected(reason);
    }
    if (self)
        clearAcks();
}

bool SocketClientPrivate::sendEvent(
    const QString &event, const QVariantList &args, qint64 ackId, bool isVolatile)
{
    if (SocketIo::isReservedEventName(event)) {
        qCWarning(lcClient).noquote() << event << "is a reserved event name: not emitted";
        return false;
    }
    QVariantList data;
    data.reserve(args.size() + 1);
    data.append(event);
    data.append(args);
    const Packet packet {PacketType::Event, options.nsp, ackId, data};
    if (isVolatile && !(connected && manager->isTransportWritable())) {
        qCDebug(lcClient).noquote() << "volatile" << event << "dropped";
        return false;
    }
    if (connected)
        manager->sendPacket(packet);
    else
        sendBuffer.append(packet);
    return true;
}

void SocketClientPrivate::updateState()
{
    Q_Q(SocketClient);
    SocketClient::State next = SocketClient::State::Disconnected;
    if (connected)
        next = SocketClient::State::Connected;
    else if (active && manager->isReconnecting())
        next = SocketClient::State::Reconnecting;
    else if (active && manager->state() != ClientManager::State::Closed)
        next = SocketClient::State::Connecting;
    if (next == state)
        return;
    state = next;
    Q_EMIT q->stateChanged(next);
}

// ---------------------------------------------------------------------------------------------

static SocketClientOptions withNamespace(const QUrl &url, SocketClientOptions options)
{
    if (options.nsp.isEmpty())
        options.nsp = url.path();
    options.nsp = normalizedNsp(options.nsp);
    return options;
}

SocketClient::SocketClient(const QUrl &url, const SocketClientOptions &options, QObject *parent)
    : SocketClient(ClientManager::create(url, options), withNamespace(url, options), parent)
{
}

SocketClient::SocketClient(
    std::shared_ptr<ClientManager> manager, const SocketClientOptions &options, QObject *parent)
    : QObject(parent)
    , d_ptr(std::make_unique<SocketClientPrivate>(this, std::move(manager), options))
{
    Q_D(SocketClient);
    d->options.nsp = normalizedNsp(options.nsp);
    d->manager->namespaces().insert(d->options.nsp, this);
    if (options.autoConnect) {
        d->autoConnectPending = true;
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (d_func()->autoConnectPending)
                    open();
            },
            Qt::QueuedConnection);
    }
}

SocketClient::~SocketClient()
{
    Q_D(SocketClient);
    if (d->connected)
        d->manager->sendPacket(Packet {PacketType::Disconnect, d->options.nsp, -1, {}});
    d->unsubscribe();
    for (const auto &pending : std::as_const(d->acks))
        delete pending.timer;
    d->acks.clear();
    auto &namespaces = d->manager->namespaces();
    if (namespaces.value(d->options.nsp) == this)
        namespaces.remove(d->options.nsp);
    d->manager->deactivated();
}

SocketClient *SocketClient::of(const QString &nsp, const QVariantMap &auth)
{
    Q_D(SocketClient);
    const QString name = normalizedNsp(nsp);
    if (SocketClient *existing = d->manager->namespaces().value(name))
        return existing;
    SocketClientOptions options = d->options;
    options.nsp = name;
    options.auth = auth;
    return new SocketClient(d->manager, options, this);
}

QUrl SocketClient::url() const
{
    Q_D(const SocketClient);
    return d->manager->url();
}

const SocketClientOptions &SocketClient::options() const
{
    Q_D(const SocketClient);
    return d->options;
}

QString SocketClient::nsp() const
{
    Q_D(const SocketClient);
    return d->options.nsp;
}

QVariantMap SocketClient::auth() const
{
    Q_D(const SocketClient);
    return d->auth;
}

void SocketClient::setAuth(const QVariantMap &auth)
{
    Q_D(SocketClient);
    d->auth = auth;
}

SocketClient::State SocketClient::state() const
{
    Q_D(const SocketClient);
    return d->state;
}

bool SocketClient::isConnected() const
{
    Q_D(const SocketClient);
    return d->connected;
}

bool SocketClient::isActive() const
{
    Q_D(const SocketClient);
    return d->active;
}

QString SocketClient::id() const
{
    Q_D(const SocketClient);
    return d->id;
}

QString SocketClient::engineId() const
{
    Q_D(const SocketClient);
    return d->manager->engineId();
}

QString SocketClient::transport() const
{
    Q_D(const SocketClient);
    return d->manager->transport();
}

qint64 SocketClient::maxPayload() const
{
    Q_D(const SocketClient);
    return d->manager->maxPayload();
}

void SocketClient::open()
{
    Q_D(SocketClient);
    d->open();
}

void SocketClient::disconnect()
{
    Q_D(SocketClient);
    d->autoConnectPending = false;
    const bool wasConnected = d->connected;
    if (wasConnected)
        d->manager->sendPacket(Packet {PacketType::Disconnect, d->options.nsp, -1, {}});
    const QPointer<SocketClient> self(this);
    d->unsubscribe();
    d->connectSent = false;
    d->manager->deactivated();
    if (!self)
        return;
    if (wasConnected)
        d->onClose(u"io client disconnect"_s);
    else
        d->updateState();
}

bool SocketClient::emitEvent(const QString &event, const QVariantList &args)
{
    Q_D(SocketClient);
    return d->sendEvent(event, args, -1, false);
}

void SocketClient::emitWithAck(const QString &event, const QVariantList &args, AckCallback callback,
    std::chrono::milliseconds timeout)
{
    Q_D(SocketClient);
    const qint64 ackId = d->nextAckId++;
    if (!d->sendEvent(event, args, ackId, false)) {
        if (callback)
            guarded(d->options.nsp, event, [&] { callback(true, {}); });
        return;
    }
    SocketClientPrivate::PendingAck pending {std::move(callback), nullptr};
    const std::chrono::milliseconds limit = timeout.count() > 0 ? timeout : d->options.ackTimeout;
    if (limit.count() > 0) {
        pending.timer = new QTimer(this);
        pending.timer->setSingleShot(true);
        connect(pending.timer, &QTimer::timeout, this, [d, ackId] {
            d->sendBuffer.removeIf([ackId](const Packet &p) { return p.id == ackId; });
            d->settleAck(ackId, true, {});
        });
        pending.timer->start(limit);
    }
    d->acks.insert(ackId, pending);
}

bool SocketClient::emitVolatile(const QString &event, const QVariantList &args)
{
    Q_D(SocketClient);
    return d->sendEvent(event, args, -1, true);
}

void SocketClient::on(const QString &event, Handler handler)
{
    Q_D(SocketClient);
    if (handler)
        d->handlers[event].append(std::move(handler));
}

void SocketClient::off(const QString &event)
{
    Q_D(SocketClient);
    d->handlers.remove(event);
}

void SocketClient::onAny(AnyHandler handler)
{
    Q_D(SocketClient);
    if (handler)
        d->anyHandlers.append(std::move(handler));
}

void SocketClient::offAny()
{
    Q_D(SocketClient);
    d->anyHandlers.clear();
}

} // namespace QSocketIo
