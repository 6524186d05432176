#include "broadcastoperator.h"

#include "socketserver_p.h"

#include <QtCore/qtimer.h>

namespace QSocketIo {

using SocketIo::Packet;
using SocketIo::PacketType;

BroadcastOperator::BroadcastOperator(Namespace *nsp, const BroadcastOptions &options)
    : m_nsp(nsp)
    , m_options(options)
{
}

BroadcastOperator BroadcastOperator::to(const QString &room) const
{
    BroadcastOperator b = *this;
    b.m_options.rooms.insert(room);
    return b;
}

BroadcastOperator BroadcastOperator::to(const QStringList &rooms) const
{
    BroadcastOperator b = *this;
    for (const QString &room : rooms)
        b.m_options.rooms.insert(room);
    return b;
}

BroadcastOperator BroadcastOperator::except(const QString &room) const
{
    BroadcastOperator b = *this;
    b.m_options.except.insert(room);
    return b;
}

BroadcastOperator BroadcastOperator::except(const QStringList &rooms) const
{
    BroadcastOperator b = *this;
    for (const QString &room : rooms)
        b.m_options.except.insert(room);
    return b;
}

BroadcastOperator BroadcastOperator::asVolatile() const
{
    BroadcastOperator b = *this;
    b.m_options.flags.isVolatile = true;
    return b;
}

BroadcastOperator BroadcastOperator::local() const
{
    BroadcastOperator b = *this;
    b.m_options.flags.local = true;
    return b;
}

bool BroadcastOperator::emitEvent(const QString &event, const QVariantList &args) const
{
    if (!m_nsp || !isEmittable(event))
        return false;
    bool sent = true;
    for (Namespace *target : m_nsp->d_func()->targets())
        sent &= target->adapter()->broadcast(eventPacket(target->name(), event, args), m_options);
    return sent;
}

void BroadcastOperator::emitWithAck(const QString &event, const QVariantList &args,
    std::function<void(bool, const QList<QVariantList> &)> callback,
    std::chrono::milliseconds timeout) const
{
    const QList<Namespace *> targets = m_nsp ? m_nsp->d_func()->targets() : QList<Namespace *>();
    struct State
    {
        int expected = 0;
        int pendingCounts = 0; // adapters that have not said how many sockets got it
        QList<QVariantList> responses;
        bool done = false;
        QTimer timer;
    };
    auto state = std::make_shared<State>();
    state->pendingCounts = int(targets.size());
    auto finish = [state, callback](bool timedOut) {
        if (state->done)
            return;
        state->done = true;
        state->timer.stop();
        // The timer's connection holds this state: let both go.
        QObject::disconnect(&state->timer, nullptr, nullptr, nullptr);
        callback(timedOut, state->responses);
    };
    auto check = [state, finish] {
        if (state->pendingCounts == 0 && state->responses.size() >= state->expected)
            finish(false);
    };
    if (targets.isEmpty() || !isEmittable(event)) {
        finish(!targets.isEmpty());
        return;
    }
    // Every recipient's ack waits for its answer: never for ever.
    if (timeout.count() <= 0)
        timeout = m_nsp->server()->options().ackTimeout;
    if (timeout.count() <= 0)
        timeout = std::chrono::seconds(10);
    state->timer.setSingleShot(true);
    state->timer.setTimerType(Qt::PreciseTimer);
    QObject::connect(&state->timer, &QTimer::timeout, m_nsp, [finish] { finish(true); });
    state->timer.start(timeout);
    BroadcastOptions options = m_options;
    options.flags.timeout = timeout;
    for (Namespace *target : targets) {
        Packet p = eventPacket(target->name(), event, args);
        p.id = target->d_func()->nextAckId++;
        target->adapter()->broadcastWithAck(
            p, options,
            [state, check](int count) {
                state->expected += count;
                --state->pendingCounts;
                check();
            },
            [state, check](const QVariantList &answer) {
                if (state->done)
                    return;
                state->responses.append(answer);
                check();
            });
    }
}

void BroadcastOperator::socketsJoin(const QString &room) const
{
    socketsJoin(QStringList {room});
}

void BroadcastOperator::socketsJoin(const QStringList &rooms) const
{
    if (!m_nsp)
        return;
    for (Namespace *target : m_nsp->d_func()->targets())
        target->adapter()->addSockets(m_options, QSet<QString>(rooms.cbegin(), rooms.cend()));
}

void BroadcastOperator::socketsLeave(const QString &room) const
{
    if (!m_nsp)
        return;
    for (Namespace *target : m_nsp->d_func()->targets())
        target->adapter()->delSockets(m_options, {room});
}

void BroadcastOperator::disconnectSockets(bool close) const
{
    if (!m_nsp)
        return;
    for (Namespace *target : m_nsp->d_func()->targets())
        target->adapter()->disconnectSockets(m_options, close);
}

QList<Socket *> BroadcastOperator::fetchSockets() const
{
    QList<Socket *> sockets;
    if (!m_nsp)
        return sockets;
    for (Namespace *target : m_nsp->d_func()->targets())
        sockets.append(target->adapter()->fetchSockets(m_options));
    return sockets;
}

void BroadcastOperator::fetchSockets(FetchSocketsCallback callback) const
{
    const QList<Namespace *> targets = m_nsp ? m_nsp->d_func()->targets() : QList<Namespace *>();
    if (targets.isEmpty()) {
        callback({}, {});
        return;
    }
    // A dynamic parent's children answer separately: gather them all, then call back once.
    struct State
    {
        int pending = 0;
        QList<RemoteSocket> sockets;
        QStringList errors;
    };
    auto state = std::make_shared<State>();
    state->pending = int(targets.size());
    for (Namespace *target : targets) {
        target->adapter()->fetchSockets(
            m_options, [state, callback](const QList<RemoteSocket> &found, const QString &error) {
                state->sockets.append(found);
                if (!error.isEmpty())
                    state->errors.append(error);
                if (--state->pending == 0)
                    callback(state->sockets, state->errors.join(QStringLiteral("; ")));
            });
    }
}

} // namespace QSocketIo
