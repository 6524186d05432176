#include "remotesocket.h"

#include "broadcastoperator.h"
#include "socketnamespace.h"

namespace QSocketIo {

RemoteSocket::RemoteSocket(Namespace *nsp, const QVariantMap &description, bool local)
    : m_nsp(nsp)
    , m_id(description.value(QStringLiteral("id")).toString())
    , m_handshake(description.value(QStringLiteral("handshake")).toMap())
    , m_rooms(description.value(QStringLiteral("rooms")).toStringList())
    , m_data(description.value(QStringLiteral("data")))
    , m_local(local)
{
}

// Each command goes to the room named by the socket's id, through the adapter: the socket is
// reached on whichever server holds it.
bool RemoteSocket::emitEvent(const QString &event, const QVariantList &args) const
{
    return m_nsp && m_nsp->to(m_id).emitEvent(event, args);
}

void RemoteSocket::join(const QString &room) const
{
    join(QStringList {room});
}

void RemoteSocket::join(const QStringList &rooms) const
{
    if (m_nsp)
        m_nsp->to(m_id).socketsJoin(rooms);
}

void RemoteSocket::leave(const QString &room) const
{
    if (m_nsp)
        m_nsp->to(m_id).socketsLeave(room);
}

void RemoteSocket::disconnect(bool close) const
{
    if (m_nsp)
        m_nsp->to(m_id).disconnectSockets(close);
}

} // namespace QSocketIo
