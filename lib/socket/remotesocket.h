#pragma once

#include "../qsocketioglobal.h"

#include <QtCore/qpointer.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qvariant.h>

#include <functional>

namespace QSocketIo {

class Namespace;
class RemoteSocket;

// Called once by a cluster-wide fetchSockets() with every socket found, and why some servers'
// sockets may be missing (error is empty when every server answered in time).
using FetchSocketsCallback
    = std::function<void(const QList<RemoteSocket> &sockets, const QString &error)>;

// A socket as a cluster-wide fetchSockets() reports it, on this server or another (Node's
// RemoteSocket): a snapshot of its id, handshake, rooms and data, and commands that reach it
// wherever it is, through the namespace's adapter.
class QSOCKETIO_EXPORT RemoteSocket
{
public:
    RemoteSocket() = default;
    // `description` is the wire form: {id, handshake, rooms, data}.
    RemoteSocket(Namespace *nsp, const QVariantMap &description, bool local);

    QString id() const { return m_id; }
    // Node's handshake object: headers (lower-case names), time, address, xdomain, secure,
    // issued (epoch ms), url, query, auth.
    QVariantMap handshake() const { return m_handshake; }
    QStringList rooms() const { return m_rooms; }
    QVariant data() const { return m_data; }
    bool isLocal() const { return m_local; } // on this server
    Namespace *nsp() const { return m_nsp; }

    bool emitEvent(const QString &event, const QVariantList &args = {}) const;
    void join(const QString &room) const;
    void join(const QStringList &rooms) const;
    void leave(const QString &room) const;
    void disconnect(bool close = false) const;

private:
    QPointer<Namespace> m_nsp;
    QString m_id;
    QVariantMap m_handshake;
    QStringList m_rooms;
    QVariant m_data;
    bool m_local = false;
};

} // namespace QSocketIo
