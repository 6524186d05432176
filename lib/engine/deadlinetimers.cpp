#include "deadlinetimers_p.h"

#include <QtCore/qcoreevent.h>

namespace QSocketIo {

// One scheduler per thread: a session, a connection gate or a client only ever starts its timers
// from the thread it lives in, so each event-loop thread gets its own ordered map and Qt timer.
static thread_local DeadlineScheduler *t_scheduler = nullptr;

DeadlineTimer::DeadlineTimer(std::function<void()> callback)
    : m_callback(std::move(callback))
{
}

DeadlineTimer::~DeadlineTimer()
{
    stop();
    if (m_scheduler)
        m_scheduler->release();
}

void DeadlineTimer::start(std::chrono::milliseconds interval)
{
    const qint64 deadline
        = DeadlineScheduler::now() + qMax<qint64>(0, interval.count()) * 1000 * 1000;
    if (m_scheduler && m_scheduler == t_scheduler) {
        if (m_active)
            m_scheduler->remove(this);
    } else {
        // First start, or the owner moved to another thread since the last one.
        stop();
        if (m_scheduler)
            m_scheduler->release();
        m_scheduler = DeadlineScheduler::acquire();
    }
    m_scheduler->insert(this, deadline);
}

void DeadlineTimer::stop()
{
    if (m_active)
        m_scheduler->remove(this);
}

DeadlineScheduler *DeadlineScheduler::acquire()
{
    if (!t_scheduler)
        t_scheduler = new DeadlineScheduler;
    ++t_scheduler->m_references;
    return t_scheduler;
}

void DeadlineScheduler::release()
{
    if (--m_references == 0)
        delete this;
}

DeadlineScheduler::~DeadlineScheduler()
{
    if (t_scheduler == this)
        t_scheduler = nullptr;
}

void DeadlineScheduler::insert(DeadlineTimer *timer, qint64 deadline)
{
    if (m_dispatching && deadline <= m_dispatchNow)
        deadline = m_dispatchNow + 1;
    // Equal deadlines keep the order they were started in (multimap inserts at the upper
    // bound), as Qt timers of equal interval would.
    timer->m_entry = m_deadlines.emplace(deadline, timer);
    timer->m_active = true;
    if (!m_dispatching && (!m_armed || deadline < m_armedFor))
        arm();
}

void DeadlineScheduler::remove(DeadlineTimer *timer)
{
    m_deadlines.erase(timer->m_entry);
    timer->m_active = false;
}

void DeadlineScheduler::arm()
{
    if (m_deadlines.empty()) {
        m_timer.stop();
        m_armed = false;
        return;
    }
    const qint64 deadline = m_deadlines.begin()->first;
    constexpr qint64 nsPerMs = 1000 * 1000;
    // Rounded up: a wake-up before the deadline would find nothing to do.
    const qint64 waitMs = qMax<qint64>(0, (deadline - now() + nsPerMs - 1) / nsPerMs);
    m_timer.start(
        int(qMin<qint64>(waitMs, std::numeric_limits<int>::max())), Qt::PreciseTimer, this);
    m_armedFor = deadline;
    m_armed = true;
}

void DeadlineScheduler::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    ++m_references; // a callback may destroy the last timer of the thread
    m_dispatching = true;
    m_dispatchNow = now();
    // The map is looked at afresh after each callback, which may have started, stopped or
    // destroyed any timer.
    while (!m_deadlines.empty()) {
        const auto first = m_deadlines.begin();
        if (first->first > m_dispatchNow)
            break;
        DeadlineTimer *timer = first->second;
        m_deadlines.erase(first);
        timer->m_active = false;
        timer->m_callback(); // may destroy `timer`
    }
    m_dispatching = false;
    arm();
    release();
}

} // namespace QSocketIo
