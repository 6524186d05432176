#include "adapter.h"

#include "socketserver_p.h"

namespace QSocketIo {

EngineMessages prepare(const SocketIo::Packet &packet)
{
    const SocketIo::Encoded encoded = SocketIo::encode(packet);
    EngineMessages messages;
    messages.reserve(1 + encoded.attachments.size());
    messages.append(EngineMessage::text(encoded.text));
    for (const QByteArray &attachment : encoded.attachments)
        messages.append(EngineMessage::binary(attachment));
    return messages;
}

static Adapter::Factory &defaultFactoryRef()
{
    static Adapter::Factory factory;
    return factory;
}

Adapter::Adapter(Namespace *ns)
    : QObject(nullptr)
    , m_nsp(ns)
{
}

Adapter::~Adapter() = default;

void Adapter::setDefaultFactory(Factory factory)
{
    defaultFactoryRef() = std::move(factory);
}

Adapter::Factory Adapter::defaultFactory()
{
    return defaultFactoryRef();
}

void Adapter::fetchSockets(const BroadcastOptions &options, FetchSocketsCallback callback)
{
    QList<RemoteSocket> found;
    for (Socket *socket : fetchSockets(options))
        found.append(RemoteSocket(m_nsp, describe(socket), true));
    callback(found, {});
}

void Adapter::close() { }

bool Adapter::serverSideEmit(const QVariantList &)
{
    return true;
}

void Adapter::serverSideEmitWithAck(const QVariantList &, std::chrono::milliseconds,
    std::function<void(bool, const QVariantList &)> callback)
{
    callback(false, {});
}

QVariantMap Adapter::describe(Socket *socket)
{
    QStringList rooms = socket->rooms().values();
    rooms.sort();
    return {
        {QStringLiteral("id"), socket->id()},
        {QStringLiteral("handshake"), socket->handshake().toVariantMap(true)},
        {QStringLiteral("rooms"), rooms},
        {QStringLiteral("data"), socket->data()},
    };
}

void Adapter::serverSideEmitReceived(
    const QVariantList &packet, std::function<void(const QVariantList &)> ack) const
{
    m_nsp->d_func()->dispatchServerSideEmit(packet, std::move(ack));
}

qint64 Adapter::nextAckId() const
{
    return m_nsp->d_func()->nextAckId++;
}

Socket *Adapter::localSocket(const QString &sid) const
{
    return m_nsp->socket(sid);
}

bool Adapter::deliver(const QString &sid, const SocketIo::Packet &packet,
    const EngineMessages &messages, bool isVolatile) const
{
    Socket *socket = m_nsp->socket(sid);
    if (!socket)
        return false;
    SocketPrivate *d = socket->d_func();
    if (d->state == SocketPrivate::State::Closed)
        return false;
    if (!d->anyOutgoingHandlers.isEmpty())
        d->notifyOutgoing(packet);
    return d->write(messages, isVolatile);
}

void Adapter::expectAck(const QString &sid, qint64 id,
    std::function<void(const QVariantList &)> onAck, std::chrono::milliseconds timeout) const
{
    Socket *socket = m_nsp->socket(sid);
    if (!socket)
        return;
    socket->d_func()->registerAck(
        [onAck](bool timedOut, const QVariantList &args) {
            if (!timedOut)
                onAck(args);
        },
        timeout, id);
}

} // namespace QSocketIo
