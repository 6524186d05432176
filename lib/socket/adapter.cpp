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
