#include "redisadapter.h"

#include "msgpack_p.h"
#include "redisclient_p.h"

#include "../socket/socketnamespace.h"
#include "../socket/socketserver.h"

#include <QtCore/qrandom.h>
#include <QtCore/qurl.h>

using namespace Qt::StringLiterals;

namespace QSocketIo {

namespace {

// socket.io-adapter's request types, as on the wire.
enum RequestType {
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
};

QString randomId(int length)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    QString id(length, Qt::Uninitialized);
    for (QChar &c : id)
        c = QLatin1Char(alphabet[QRandomGenerator::global()->bounded(int(sizeof alphabet) - 1)]);
    return id;
}

bool containsBinary(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QByteArray:
        return true;
    case QMetaType::QVariantList:
        for (const QVariant &v : value.toList()) {
            if (containsBinary(v))
                return true;
        }
        return false;
    case QMetaType::QVariantMap: {
        const QVariantMap map = value.toMap();
        for (auto it = map.cbegin(); it != map.cend(); ++it) {
            if (containsBinary(*it))
                return true;
        }
        return false;
    }
    default:
        return false;
    }
}

// Requests and answers travel as JSON, as Node sends them, unless they carry binary, which only
// msgpack keeps (Node reads both: a payload starting with '{' is JSON).
QByteArray encodeRequest(const QVariantMap &message)
{
    return containsBinary(message) ? MsgPack::encode(message) : SocketIo::toJson(message);
}

bool decodeRequest(const QByteArray &payload, QVariantMap *out, QString *error)
{
    QVariant value;
    if (payload.startsWith('{')) {
        if (!SocketIo::fromJson(payload, &value)) {
            *error = u"invalid JSON"_s;
            return false;
        }
    } else if (!MsgPack::decode(payload, &value, error)) {
        return false;
    }
    if (value.typeId() != QMetaType::QVariantMap) {
        *error = u"not an object"_s;
        return false;
    }
    *out = value.toMap();
    return true;
}

QStringList sorted(const QSet<QString> &set)
{
    QStringList list = set.values();
    list.sort();
    return list;
}

QSet<QString> toSet(const QVariant &list)
{
    QSet<QString> set;
    for (const QVariant &v : list.toList())
        set.insert(v.toString());
    return set;
}

QVariantMap wireOptions(const BroadcastOptions &options)
{
    return {{u"rooms"_s, sorted(options.rooms)}, {u"except"_s, sorted(options.except)}};
}

// A broadcast's options carry its flags too; unset flags are left out, as Node leaves them.
QVariantMap wireBroadcastOptions(const BroadcastOptions &options)
{
    QVariantMap flags;
    if (options.flags.isVolatile)
        flags.insert(u"volatile"_s, true);
    if (options.flags.timeout.count() > 0)
        flags.insert(u"timeout"_s, qint64(options.flags.timeout.count()));
    QVariantMap opts = wireOptions(options);
    opts.insert(u"flags"_s, flags);
    return opts;
}

BroadcastOptions fromWire(const QVariantMap &opts)
{
    BroadcastOptions options;
    options.rooms = toSet(opts.value(u"rooms"_s));
    options.except = toSet(opts.value(u"except"_s));
    const QVariantMap flags = opts.value(u"flags"_s).toMap();
    options.flags.isVolatile = flags.value(u"volatile"_s).toBool();
    options.flags.timeout = std::chrono::milliseconds(flags.value(u"timeout"_s).toLongLong());
    // What arrives from the cluster is delivered here only.
    options.flags.local = true;
    return options;
}

QVariantMap wirePacket(const SocketIo::Packet &packet)
{
    // Binary travels inline (msgpack bin), so the type stays EVENT as in Node.
    return {{u"type"_s, int(SocketIo::PacketType::Event)}, {u"data"_s, packet.data},
        {u"nsp"_s, packet.nsp}};
}

} // namespace

bool RedisAdapterOptions::setAddress(const QString &address)
{
    QString text = address.trimmed();
    if (text.isEmpty())
        return false;
    if (!text.contains(u"://"_s))
        text.prepend(u"redis://"_s);
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != u"redis"_s || url.host().isEmpty()
        || (!url.path().isEmpty() && url.path() != u"/"_s) || url.hasQuery())
        return false;
    const int p = url.port(6379);
    if (p <= 0 || p > 65535)
        return false;
    host = url.host();
    port = quint16(p);
    username = url.userName();
    password = url.password();
    return true;
}

// The two connections of one server, shared by its namespaces' adapters: a child of the
// SocketServer, found by the factory.
class RedisLink : public QObject
{
    Q_OBJECT
public:
    RedisLink(SocketServer *server, const RedisAdapterOptions &options)
        : QObject(server)
        , key(options.key)
        , address(u"%1:%2"_s.arg(options.host).arg(options.port))
    {
        RedisClientOptions o;
        o.host = options.host;
        o.port = options.port;
        o.username = options.username;
        o.password = options.password;
        o.name = u"qsocketio-pub"_s;
        pub = new RedisClient(o, this);
        o.name = u"qsocketio-sub"_s;
        sub = new RedisClient(o, this);
        connect(sub, &RedisClient::message, this, &RedisLink::dispatch);
        for (RedisClient *client : {pub, sub}) {
            connect(client, &RedisClient::stateChanged, this, &RedisLink::updateConnected);
            connect(client, &RedisClient::subscribed, this, &RedisLink::updateConnected);
        }
    }

    static RedisLink *forServer(SocketServer *server, const RedisAdapterOptions &options)
    {
        const auto links = server->findChildren<RedisLink *>(QString(), Qt::FindDirectChildrenOnly);
        for (RedisLink *link : links) {
            if (link->key == options.key)
                return link;
        }
        return new RedisLink(server, options);
    }

    static QList<QByteArray> channelsOf(const RedisAdapter *adapter)
    {
        return {adapter->m_requestChannel, adapter->m_responseChannel,
            adapter->m_specificResponseChannel};
    }
    static QByteArray patternOf(const RedisAdapter *adapter) { return adapter->m_channel + '*'; }

    void attach(RedisAdapter *adapter)
    {
        adapters.append(adapter);
        if (pub->state() == RedisClient::State::Closed)
            pub->open();
        if (sub->state() == RedisClient::State::Closed)
            sub->open();
        // A namespace made again before the old one's deferred delete ran shares its channel
        // names: the newest adapter gets the messages, and the names stay subscribed until the
        // last adapter using them goes.
        const QByteArray pattern = patternOf(adapter);
        byPattern.insert(pattern, adapter);
        if (refs[pattern]++ == 0)
            sub->psubscribe(pattern);
        for (const QByteArray &channel : channelsOf(adapter)) {
            byChannel.insert(channel, adapter);
            if (refs[channel]++ == 0)
                sub->subscribe(channel);
        }
        updateConnected();
    }

    void detach(RedisAdapter *adapter)
    {
        if (!adapters.removeOne(adapter))
            return;
        // Another adapter of the same namespace name, if any, gets its messages again.
        RedisAdapter *heir = nullptr;
        for (auto it = adapters.crbegin(); it != adapters.crend() && !heir; ++it) {
            if (*it && (*it)->m_channel == adapter->m_channel)
                heir = *it;
        }
        const QByteArray pattern = patternOf(adapter);
        if (byPattern.value(pattern) == adapter) {
            if (heir)
                byPattern.insert(pattern, heir);
            else
                byPattern.remove(pattern);
        }
        if (--refs[pattern] == 0) {
            refs.remove(pattern);
            sub->punsubscribe(pattern);
        }
        for (const QByteArray &channel : channelsOf(adapter)) {
            if (byChannel.value(channel) == adapter) {
                if (heir && channel != adapter->m_specificResponseChannel)
                    byChannel.insert(channel, heir);
                else
                    byChannel.remove(channel);
            }
            if (--refs[channel] == 0) {
                refs.remove(channel);
                sub->unsubscribe(channel);
            }
        }
        // The last one: the server is going. Commands still waiting for Redis are answered
        // (with an error) now, while the server is whole.
        if (adapters.isEmpty()) {
            pub->close();
            sub->close();
        }
    }

    // This adapter's requests and answers can flow: both connections up, and its own channels
    // subscribed (Node counts this server only once it is subscribed).
    bool isReady(const RedisAdapter *adapter) const
    {
        if (!pub->isReady() || !sub->isReady() || !sub->isSubscribed(patternOf(adapter)))
            return false;
        for (const QByteArray &channel : channelsOf(adapter)) {
            if (!sub->isSubscribed(channel))
                return false;
        }
        return true;
    }

    QString unavailableReason(const RedisAdapter *adapter) const
    {
        if (pub->isReady() && sub->isReady()) {
            return isReady(adapter) ? QString() : u"not subscribed to the cluster's channels yet"_s;
        }
        const QString error = !pub->isReady() ? pub->lastError() : sub->lastError();
        return error.isEmpty() ? u"not connected to Redis"_s
                               : u"not connected to Redis (%1)"_s.arg(error);
    }

    QString key;
    QString address;
    RedisClient *pub;
    RedisClient *sub;

private:
    void dispatch(const QByteArray &pattern, const QByteArray &channel, const QByteArray &payload)
    {
        if (!pattern.isEmpty()) {
            if (RedisAdapter *adapter = byPattern.value(pattern))
                adapter->onBroadcastMessage(channel, payload);
            return;
        }
        RedisAdapter *adapter = byChannel.value(channel);
        if (!adapter)
            return;
        if (channel == adapter->m_requestChannel)
            adapter->onRequest(payload);
        else
            adapter->onResponse(payload);
    }

    void updateConnected()
    {
        const bool up = pub->isReady() && sub->isReady();
        if (up != linkUp) {
            linkUp = up;
            if (up)
                qCInfo(lcRedis).noquote() << "connected to Redis at" << address;
        }
        const auto current = adapters;
        for (const QPointer<RedisAdapter> &adapter : current) {
            if (!adapter)
                continue;
            const bool now = isReady(adapter);
            if (now == adapter->m_connected)
                continue;
            adapter->m_connected = now;
            Q_EMIT adapter->connectedChanged(now);
        }
    }

    bool linkUp = false;
    QList<QPointer<RedisAdapter>> adapters;
    QHash<QByteArray, int> refs; // adapters using each channel and pattern
    QHash<QByteArray, RedisAdapter *> byPattern;
    QHash<QByteArray, RedisAdapter *> byChannel;
};

Adapter::Factory RedisAdapter::factory(const RedisAdapterOptions &options)
{
    return [options](Namespace *nsp) -> Adapter * {
        // A dynamic namespace's parent (no name) has no sockets of its own: its broadcasts go
        // through its children's adapters. Node gives it no Redis channels either.
        if (nsp->name().isEmpty())
            return new InMemoryAdapter(nsp);
        return new RedisAdapter(nsp, RedisLink::forServer(nsp->server(), options), options);
    };
}

RedisAdapter::RedisAdapter(Namespace *nsp, RedisLink *link, const RedisAdapterOptions &options)
    : InMemoryAdapter(nsp)
    , m_link(link)
    , m_options(options)
    , m_uid(randomId(6))
{
    const QByteArray key = options.key.toUtf8();
    const QByteArray name = nsp->name().toUtf8();
    m_channel = key + '#' + name + '#';
    m_requestChannel = key + "-request#" + name + '#';
    m_responseChannel = key + "-response#" + name + '#';
    m_specificResponseChannel = m_responseChannel + m_uid.toLatin1() + '#';
    link->attach(this);
}

RedisAdapter::~RedisAdapter()
{
    close();
}

void RedisAdapter::close()
{
    if (m_closed)
        return;
    m_closed = true;
    m_ackRequests.clear();
    // Whoever still waits learns that no more answers come.
    const QStringList pending = m_requests.keys();
    for (const QString &id : pending)
        finishRequest(id, u"server shutting down"_s);
    if (m_link)
        m_link->detach(this);
}

bool RedisAdapter::isConnected() const
{
    return m_connected;
}

void RedisAdapter::fail(const QString &message)
{
    // Every message sent during an outage, and every malformed one a peer sends, would be a
    // line of its own: at most one warning a second, with the count of those left out.
    if (m_lastWarning.isValid() && m_lastWarning.elapsed() < 1000) {
        ++m_warningsLeftOut;
        qCDebug(lcRedis).noquote() << message;
    } else {
        if (m_warningsLeftOut > 0) {
            qCWarning(lcRedis).noquote()
                << message << u"(and %1 more in the second before)"_s.arg(m_warningsLeftOut);
        } else {
            qCWarning(lcRedis).noquote() << message;
        }
        m_warningsLeftOut = 0;
        m_lastWarning.start();
    }
    Q_EMIT clusterError(message);
}

QString RedisAdapter::unavailableReason() const
{
    if (m_closed)
        return u"server shutting down"_s;
    return m_link ? m_link->unavailableReason(this) : u"no Redis link"_s;
}

bool RedisAdapter::publish(
    const QByteArray &channel, const QByteArray &payload, const QString &what)
{
    if (m_closed)
        return false;
    if (!m_link || !m_link->pub->isReady()) {
        fail(u"%1 on %2 not sent to the other servers: %3"_s.arg(
            what, nsp()->name(), unavailableReason()));
        return false;
    }
    const QPointer<RedisAdapter> self(this);
    const QString ns = nsp()->name();
    const bool sent = m_link->pub->command(
        {"PUBLISH", channel, payload}, [self, what, ns](const RedisReply &reply) {
            if (reply.isError() && self && !self->m_closed) {
                self->fail(u"%1 on %2 may not have reached the other servers: %3"_s.arg(
                    what, ns, QString::fromUtf8(reply.string)));
            }
        });
    if (!sent) {
        fail(u"%1 on %2 not sent to the other servers: Redis refused the command"_s.arg(
            what, nsp()->name()));
    }
    return sent;
}

void RedisAdapter::reply(const QVariantMap &request, const QByteArray &payload)
{
    const QString requester = request.value(u"uid"_s).toString();
    const QByteArray channel = m_options.publishOnSpecificResponseChannel && !requester.isEmpty()
        ? m_responseChannel + requester.toUtf8() + '#'
        : m_responseChannel;
    publish(channel, payload, u"an answer to a request"_s);
}

void RedisAdapter::serverCount(std::function<void(int, const QString &)> callback)
{
    // Counted before this server's own subscription is confirmed, the other servers would be
    // one too few: the answer would silently miss one.
    if (m_closed || !m_link || !m_link->isReady(this)) {
        callback(-1, unavailableReason());
        return;
    }
    const QByteArray channel = m_requestChannel;
    const bool sent
        = m_link->pub->command({"PUBSUB", "NUMSUB", channel}, [callback](const RedisReply &reply) {
              if (reply.isError()) {
                  callback(-1, QString::fromUtf8(reply.string));
                  return;
              }
              if (reply.type != RedisReply::Type::Array || reply.elements.size() != 2
                  || reply.elements.at(1).type != RedisReply::Type::Integer) {
                  callback(-1, u"unexpected answer to PUBSUB NUMSUB"_s);
                  return;
              }
              callback(int(reply.elements.at(1).integer), {});
          });
    if (!sent)
        callback(-1, u"Redis refused PUBSUB NUMSUB"_s);
}

bool RedisAdapter::broadcast(const SocketIo::Packet &packet, const BroadcastOptions &options)
{
    bool sent = true;
    if (!options.flags.local) {
        const QByteArray message = MsgPack::encode(
            QVariantList {m_uid, wirePacket(packet), wireBroadcastOptions(options)});
        QByteArray channel = m_channel;
        if (options.rooms.size() == 1)
            channel += options.rooms.cbegin()->toUtf8() + '#';
        sent = publish(channel, message, u"a broadcast"_s);
    }
    InMemoryAdapter::broadcast(packet, options);
    return sent;
}

void RedisAdapter::onBroadcastMessage(const QByteArray &channel, const QByteArray &payload)
{
    if (!channel.startsWith(m_channel))
        return;
    // A message for one room names it in its channel: skip it without decoding when no socket
    // here is in that room.
    const QByteArray room = channel.sliced(m_channel.size());
    if (!room.isEmpty() && !roomExists(QString::fromUtf8(room.chopped(1))))
        return;
    QVariant decoded;
    QString error;
    if (!MsgPack::decode(payload, &decoded, &error)) {
        fail(u"malformed broadcast on %1 ignored: %2"_s.arg(QString::fromUtf8(channel), error));
        return;
    }
    const QVariantList message = decoded.toList();
    if (message.size() < 2 || message.at(1).typeId() != QMetaType::QVariantMap) {
        fail(u"malformed broadcast on %1 ignored: not [uid, packet, options]"_s.arg(
            QString::fromUtf8(channel)));
        return;
    }
    if (message.at(0).toString() == m_uid)
        return;
    const QVariantMap packet = message.at(1).toMap();
    const QString packetNsp = packet.value(u"nsp"_s, u"/"_s).toString();
    if (packetNsp != nsp()->name())
        return;
    const int type = packet.value(u"type"_s).toInt();
    const QVariant data = packet.value(u"data"_s);
    if ((type != int(SocketIo::PacketType::Event) && type != int(SocketIo::PacketType::BinaryEvent))
        || data.typeId() != QMetaType::QVariantList || data.toList().isEmpty()) {
        fail(u"broadcast on %1 ignored: not an event packet"_s.arg(QString::fromUtf8(channel)));
        return;
    }
    SocketIo::Packet local;
    local.nsp = packetNsp;
    local.data = data;
    InMemoryAdapter::broadcast(local, fromWire(message.value(2).toMap()));
}

void RedisAdapter::broadcastWithAck(const SocketIo::Packet &packet, const BroadcastOptions &options,
    std::function<void(int)> onCount, std::function<void(const QVariantList &)> onAck)
{
    if (options.flags.local) {
        InMemoryAdapter::broadcastWithAck(packet, options, std::move(onCount), std::move(onAck));
        return;
    }
    auto request = std::make_shared<AckRequest>();
    request->onCount = std::move(onCount);
    request->onAck = onAck;
    const QString requestId = randomId(6);
    const QVariantMap message {{u"uid"_s, m_uid}, {u"requestId"_s, requestId},
        {u"type"_s, int(Broadcast)}, {u"packet"_s, wirePacket(packet)},
        {u"opts"_s, wireBroadcastOptions(options)}};
    // When the request cannot go out, the count is never reported: the caller's timeout says
    // that some answers are missing.
    if (publish(m_requestChannel, MsgPack::encode(message), u"a broadcast with acks"_s)) {
        m_ackRequests.insert(requestId, request);
        // Nothing tells when every remote client has answered: forget the request after the
        // broadcast's own timeout, as Node does.
        const auto forget
            = options.flags.timeout.count() > 0 ? options.flags.timeout : m_options.requestsTimeout;
        QTimer::singleShot(forget, this, [this, requestId] { m_ackRequests.remove(requestId); });
        const std::weak_ptr<AckRequest> weak = request;
        serverCount([weak, this](int count, const QString &error) {
            auto r = weak.lock();
            if (!r)
                return;
            if (count < 0) {
                fail(u"broadcast with acks on %1: cannot count the servers: %2"_s.arg(
                    nsp()->name(), error));
                return;
            }
            r->expectedServers = qMax(0, count - 1);
            r->check();
        });
    }
    InMemoryAdapter::broadcastWithAck(
        packet, options,
        [request](int count) {
            request->localCount = count;
            request->check();
        },
        std::move(onAck));
}

void RedisAdapter::AckRequest::check()
{
    if (counted || localCount < 0 || expectedServers < 0 || answeredServers < expectedServers)
        return;
    counted = true;
    onCount(localCount + remoteCount);
}

void RedisAdapter::addSockets(const BroadcastOptions &options, const QSet<QString> &rooms)
{
    InMemoryAdapter::addSockets(options, rooms);
    if (options.flags.local)
        return;
    publish(m_requestChannel,
        encodeRequest({{u"uid"_s, m_uid}, {u"type"_s, int(RemoteJoin)},
            {u"opts"_s, wireOptions(options)}, {u"rooms"_s, sorted(rooms)}}),
        u"socketsJoin"_s);
}

void RedisAdapter::delSockets(const BroadcastOptions &options, const QSet<QString> &rooms)
{
    InMemoryAdapter::delSockets(options, rooms);
    if (options.flags.local)
        return;
    publish(m_requestChannel,
        encodeRequest({{u"uid"_s, m_uid}, {u"type"_s, int(RemoteLeave)},
            {u"opts"_s, wireOptions(options)}, {u"rooms"_s, sorted(rooms)}}),
        u"socketsLeave"_s);
}

void RedisAdapter::disconnectSockets(const BroadcastOptions &options, bool close)
{
    // Published first: the local disconnects may run handlers that delete things.
    if (!options.flags.local) {
        publish(m_requestChannel,
            encodeRequest({{u"uid"_s, m_uid}, {u"type"_s, int(RemoteDisconnect)},
                {u"opts"_s, wireOptions(options)}, {u"close"_s, close}}),
            u"disconnectSockets"_s);
    }
    InMemoryAdapter::disconnectSockets(options, close);
}

void RedisAdapter::fetchSockets(const BroadcastOptions &options, FetchSocketsCallback callback)
{
    QList<RemoteSocket> local;
    for (Socket *socket : InMemoryAdapter::fetchSockets(options))
        local.append(RemoteSocket(nsp(), describe(socket), true));
    if (options.flags.local) {
        callback(local, {});
        return;
    }
    const QPointer<RedisAdapter> self(this);
    const auto timeout
        = options.flags.timeout.count() > 0 ? options.flags.timeout : m_options.requestsTimeout;
    const QVariantMap opts = wireOptions(options);
    serverCount([self, local, callback, timeout, opts](int count, const QString &error) {
        if (!self || self->m_closed) {
            callback(local, u"server shutting down"_s);
            return;
        }
        if (count < 0) {
            self->fail(u"fetchSockets on %1 got this server's sockets only: %2"_s.arg(
                self->nsp()->name(), error));
            callback(local, error);
            return;
        }
        if (count <= 1) {
            callback(local, {});
            return;
        }
        Request r;
        r.kind = Request::Fetch;
        r.expected = count - 1;
        r.sockets = local;
        r.onFetch = callback;
        self->startRequest(std::move(r), timeout,
            {{u"uid"_s, self->m_uid}, {u"type"_s, int(RemoteFetch)}, {u"opts"_s, opts}},
            u"fetchSockets"_s);
    });
}

bool RedisAdapter::serverSideEmit(const QVariantList &packet)
{
    return publish(m_requestChannel,
        encodeRequest({{u"uid"_s, m_uid}, {u"type"_s, int(ServerSideEmit)}, {u"data"_s, packet}}),
        u"serverSideEmit"_s);
}

void RedisAdapter::serverSideEmitWithAck(const QVariantList &packet,
    std::chrono::milliseconds timeout, std::function<void(bool, const QVariantList &)> callback)
{
    if (timeout.count() <= 0)
        timeout = m_options.requestsTimeout;
    const QPointer<RedisAdapter> self(this);
    serverCount([self, packet, callback, timeout](int count, const QString &error) {
        if (!self || self->m_closed) {
            callback(true, {});
            return;
        }
        if (count < 0) {
            self->fail(
                u"serverSideEmitWithAck on %1 not sent: %2"_s.arg(self->nsp()->name(), error));
            callback(true, {});
            return;
        }
        if (count <= 1) {
            callback(false, {});
            return;
        }
        Request r;
        r.kind = Request::ServerSideEmit;
        r.expected = count - 1;
        r.onServerSideEmit = callback;
        self->startRequest(std::move(r), timeout,
            {{u"uid"_s, self->m_uid}, {u"type"_s, int(ServerSideEmit)}, {u"data"_s, packet}},
            u"serverSideEmitWithAck"_s);
    });
}

void RedisAdapter::startRequest(
    Request request, std::chrono::milliseconds timeout, QVariantMap message, const QString &what)
{
    const QString requestId = randomId(6);
    request.timer = std::make_shared<QTimer>();
    request.timer->setSingleShot(true);
    connect(request.timer.get(), &QTimer::timeout, this,
        [this, requestId] { finishRequest(requestId, u"timeout reached"_s); });
    request.timer->start(timeout);
    // Registered before it is sent: answers may come back at once.
    m_requests.insert(requestId, std::move(request));
    message.insert(u"requestId"_s, requestId);
    if (!publish(m_requestChannel, encodeRequest(message), what))
        finishRequest(requestId, u"not sent"_s);
}

void RedisAdapter::finishRequest(const QString &requestId, const QString &failure)
{
    auto it = m_requests.find(requestId);
    if (it == m_requests.end())
        return;
    Request r = std::move(*it);
    m_requests.erase(it);
    if (r.timer)
        r.timer->stop();
    const bool timedOut = !failure.isEmpty();
    QString error;
    if (timedOut) {
        error = u"%1: only %2 of %3 other servers answered"_s.arg(failure)
                    .arg(r.received)
                    .arg(r.expected);
    }
    if (r.kind == Request::Fetch)
        r.onFetch(r.sockets, error);
    else
        r.onServerSideEmit(timedOut, r.responses);
}

void RedisAdapter::onRequest(const QByteArray &payload)
{
    QVariantMap request;
    QString error;
    if (!decodeRequest(payload, &request, &error)) {
        fail(u"malformed request on %1 ignored: %2"_s.arg(nsp()->name(), error));
        return;
    }
    const QString requestId = request.value(u"requestId"_s).toString();
    const bool fromHere = request.value(u"uid"_s).toString() == m_uid;
    const QVariantMap opts = request.value(u"opts"_s).toMap();
    switch (request.value(u"type"_s).toInt()) {
    case Sockets: {
        if (fromHere)
            return;
        BroadcastOptions options;
        options.rooms = toSet(request.value(u"rooms"_s));
        reply(request,
            encodeRequest(
                {{u"requestId"_s, requestId}, {u"sockets"_s, sorted(sockets(options.rooms))}}));
        return;
    }
    case AllRooms:
        if (fromHere)
            return;
        reply(request, encodeRequest({{u"requestId"_s, requestId}, {u"rooms"_s, sorted(rooms())}}));
        return;
    case RemoteJoin:
    case RemoteLeave:
    case RemoteDisconnect: {
        // Ours were applied here when they were sent.
        if (fromHere)
            return;
        const int type = request.value(u"type"_s).toInt();
        if (request.contains(u"opts"_s)) {
            const BroadcastOptions options = fromWire(opts);
            if (type == RemoteJoin)
                InMemoryAdapter::addSockets(options, toSet(request.value(u"rooms"_s)));
            else if (type == RemoteLeave)
                InMemoryAdapter::delSockets(options, toSet(request.value(u"rooms"_s)));
            else
                InMemoryAdapter::disconnectSockets(options, request.value(u"close"_s).toBool());
            return;
        }
        // The single-socket form of older adapters: answered by the server that has the socket.
        const QString sid = request.value(u"sid"_s).toString();
        Socket *socket = localSocket(sid);
        if (!socket)
            return;
        if (type == RemoteJoin)
            InMemoryAdapter::addAll(sid, {request.value(u"room"_s).toString()});
        else if (type == RemoteLeave)
            InMemoryAdapter::del(sid, request.value(u"room"_s).toString());
        reply(request, encodeRequest({{u"requestId"_s, requestId}}));
        if (type == RemoteDisconnect) {
            BroadcastOptions options;
            options.rooms = {sid};
            InMemoryAdapter::disconnectSockets(options, request.value(u"close"_s).toBool());
        }
        return;
    }
    case RemoteFetch: {
        if (fromHere || m_requests.contains(requestId))
            return;
        QVariantList found;
        for (Socket *socket : InMemoryAdapter::fetchSockets(fromWire(opts)))
            found.append(describe(socket));
        reply(request, encodeRequest({{u"requestId"_s, requestId}, {u"sockets"_s, found}}));
        return;
    }
    case ServerSideEmit: {
        if (fromHere)
            return;
        const QVariantList data = request.value(u"data"_s).toList();
        if (data.isEmpty()) {
            fail(u"server-side emit without an event on %1 ignored"_s.arg(nsp()->name()));
            return;
        }
        std::function<void(const QVariantList &)> ack;
        if (request.contains(u"requestId"_s)) {
            const QPointer<RedisAdapter> self(this);
            ack = [self, request, requestId](const QVariantList &args) {
                if (!self)
                    return;
                QVariantMap answer {{u"type"_s, int(ServerSideEmit)}, {u"requestId"_s, requestId}};
                if (!args.isEmpty())
                    answer.insert(u"data"_s, args.first());
                self->reply(request, encodeRequest(answer));
            };
        }
        serverSideEmitReceived(data, std::move(ack));
        return;
    }
    case Broadcast: {
        if (fromHere || m_ackRequests.contains(requestId))
            return;
        const QVariantMap packet = request.value(u"packet"_s).toMap();
        SocketIo::Packet local;
        local.nsp = nsp()->name();
        local.data = packet.value(u"data"_s);
        if (local.data.typeId() != QMetaType::QVariantList || local.data.toList().isEmpty()) {
            fail(u"broadcast with acks on %1 ignored: no event"_s.arg(nsp()->name()));
            return;
        }
        local.id = nextAckId();
        BroadcastOptions options = fromWire(opts);
        if (options.flags.timeout.count() <= 0)
            options.flags.timeout = m_options.requestsTimeout;
        const QPointer<RedisAdapter> self(this);
        InMemoryAdapter::broadcastWithAck(
            local, options,
            [self, request, requestId](int count) {
                if (self) {
                    self->reply(request,
                        encodeRequest({{u"type"_s, int(BroadcastClientCount)},
                            {u"requestId"_s, requestId}, {u"clientCount"_s, count}}));
                }
            },
            [self, request, requestId](const QVariantList &args) {
                if (!self)
                    return;
                QVariantMap answer {{u"type"_s, int(BroadcastAck)}, {u"requestId"_s, requestId}};
                if (!args.isEmpty())
                    answer.insert(u"packet"_s, args.first());
                // Node decodes this answer with msgpack whatever it holds.
                self->reply(request, MsgPack::encode(answer));
            });
        return;
    }
    default:
        return;
    }
}

void RedisAdapter::onResponse(const QByteArray &payload)
{
    QVariantMap response;
    QString error;
    if (!decodeRequest(payload, &response, &error)) {
        fail(u"malformed answer on %1 ignored: %2"_s.arg(nsp()->name(), error));
        return;
    }
    const QString requestId = response.value(u"requestId"_s).toString();
    if (auto ack = m_ackRequests.value(requestId)) {
        const int type = response.value(u"type"_s).toInt();
        if (type == BroadcastClientCount) {
            ack->remoteCount += response.value(u"clientCount"_s).toInt();
            ++ack->answeredServers;
            ack->check();
        } else if (type == BroadcastAck) {
            ack->onAck(response.contains(u"packet"_s) ? QVariantList {response.value(u"packet"_s)}
                                                      : QVariantList {});
        }
        return;
    }
    auto it = m_requests.find(requestId);
    if (it == m_requests.end())
        return;
    Request &r = *it;
    ++r.received;
    if (r.kind == Request::Fetch) {
        for (const QVariant &s : response.value(u"sockets"_s).toList())
            r.sockets.append(RemoteSocket(nsp(), s.toMap(), false));
    } else {
        r.responses.append(response.value(u"data"_s));
    }
    if (r.received >= r.expected)
        finishRequest(requestId, QString());
}

} // namespace QSocketIo

#include "redisadapter.moc"
