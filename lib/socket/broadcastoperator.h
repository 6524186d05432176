#pragma once

#include "adapter.h"

#include <QtCore/qpointer.h>

#include <chrono>

namespace QSocketIo {

class Namespace;
class Socket;

// Selects sockets of one namespace by room and acts on them all: emit, join, leave, disconnect,
// fetch. A value: each call returns a new operator.
class QSOCKETIO_EXPORT BroadcastOperator
{
public:
    explicit BroadcastOperator(Namespace *nsp, const BroadcastOptions &options = {});

    BroadcastOperator to(const QString &room) const;
    BroadcastOperator to(const QStringList &rooms) const;
    BroadcastOperator in(const QString &room) const { return to(room); }
    BroadcastOperator except(const QString &room) const;
    BroadcastOperator except(const QStringList &rooms) const;
    BroadcastOperator asVolatile() const; // dropped for sockets that cannot take it now
    BroadcastOperator local() const;

    // False for a reserved event name, or when a cluster adapter could not send it to the other
    // servers (this server's sockets got it).
    bool emitEvent(const QString &event, const QVariantList &args = {}) const;
    // Every recipient's answer; `callback` runs once all answered or the timeout passed, with
    // the answers received (timedOut tells whether some are missing). A zero timeout takes
    // SocketServerOptions::ackTimeout, or 10 s when that is unset too.
    void emitWithAck(const QString &event, const QVariantList &args,
        std::function<void(bool timedOut, const QList<QVariantList> &responses)> callback,
        std::chrono::milliseconds timeout) const;

    void socketsJoin(const QString &room) const;
    void socketsJoin(const QStringList &rooms) const;
    void socketsLeave(const QString &room) const;
    void disconnectSockets(bool close = false) const;
    // The sockets on this server.
    QList<Socket *> fetchSockets() const;
    // Every server's (Node's fetchSockets()). The callback runs once, and may run before this
    // returns: at once with the in-memory adapter or when the cluster cannot be reached, later
    // when other servers are asked. Each socket's handshake (auth included, as in Node) and data
    // travel to the asking server.
    void fetchSockets(FetchSocketsCallback callback) const;

    const BroadcastOptions &options() const { return m_options; }

private:
    QPointer<Namespace> m_nsp;
    BroadcastOptions m_options;
};

} // namespace QSocketIo
