#include "broadcastoperator.h"

#include "socketserver_p.h"

#include <QtCore/qtimer.h>

namespace QSocketIo {

using SocketIo::Packet;
using SocketIo::PacketType;

BroadcastOperator::BroadcastOperator(Namespace *nsp, const BroadcastOptions &options)
    : m_nsp(nsp), m_options(options)
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
    if (!m_nsp)
        return false;
    m_nsp->adapter()->broadcast(eventPacket(m_nsp->name(), event, args), m_options);
    return true;
}

void BroadcastOperator::emitWithAck(
        const QString &event, const QVariantList &args,
        std::function<void(bool, const QList<QVariantList> &)> callback,
        std::chrono::milliseconds timeout) const
{
    if (!m_nsp) {
        callback(true, {});
        return;
    }
    struct State
    {
        int expected = -1;
        QList<QVariantList> responses;
        bool done = false;
        QTimer timer;
    };
    auto state = std::make_shared<State>();
    auto finish = [state, callback](bool timedOut) {
        if (state->done)
            return;
        state->done = true;
        state->timer.stop();
        callback(timedOut, state->responses);
    };
    state->timer.setSingleShot(true);
    state->timer.setTimerType(Qt::PreciseTimer);
    QObject::connect(&state->timer, &QTimer::timeout, m_nsp, [finish] { finish(true); });
    state->timer.start(timeout);
    Packet p = eventPacket(m_nsp->name(), event, args);
    p.id = m_nsp->d_func()->nextAckId++;
    m_nsp->adapter()->broadcastWithAck(
            p, m_options,
            [state, finish](int count) {
                state->expected = count;
                if (state->responses.size() >= count)
                    finish(false);
            },
            [state, finish](const QVariantList &answer) {
                if (state->done)
                    return;
                state->responses.append(answer);
                if (state->expected >= 0 && state->responses.size() >= state->expected)
                    finish(false);
            });
}

void BroadcastOperator::socketsJoin(const QString &room) const
{
    socketsJoin(QStringList{room});
}

void BroadcastOperator::socketsJoin(const QStringList &rooms) const
{
    if (m_nsp)
        m_nsp->adapter()->addSockets(m_options, QSet<QString>(rooms.cbegin(), rooms.cend()));
}

void BroadcastOperator::socketsLeave(const QString &room) const
{
    if (m_nsp)
        m_nsp->adapter()->delSockets(m_options, {room});
}

void BroadcastOperator::disconnectSockets(bool close) const
{
    if (m_nsp)
        m_nsp->adapter()->disconnectSockets(m_options, close);
}

QList<Socket *> BroadcastOperator::fetchSockets() const
{
    return m_nsp ? m_nsp->adapter()->fetchSockets(m_options) : QList<Socket *>();
}

} // namespace QSocketIo
