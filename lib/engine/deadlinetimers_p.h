#pragma once

// Qt 6.4 keeps a thread's timers in a list that it searches linearly to stop or restart one, so
// tens of thousands of sessions each restarting heartbeat and request timers spend most of
// their time in that search. DeadlineTimer is the replacement for QBasicTimer inside the
// library: every deadline of a thread sits in one ordered map (O(log n) to start or stop) and a
// single Qt timer, armed for the earliest one, drives them all.

#include <QtCore/qbasictimer.h>
#include <QtCore/qobject.h>

#include <chrono>
#include <functional>
#include <map>

namespace QSocketIo {

class DeadlineScheduler;

// A one-shot timer whose callback runs in the thread that started it. Like QBasicTimer it
// belongs to its owner (a member); destroying it stops it, also from inside a callback. A
// callback may start or stop any timer, its own included, and may destroy its owner, provided
// it touches nothing of the owner afterwards.
class DeadlineTimer
{
public:
    explicit DeadlineTimer(std::function<void()> callback);
    ~DeadlineTimer();
    DeadlineTimer(const DeadlineTimer &) = delete;
    DeadlineTimer &operator=(const DeadlineTimer &) = delete;

    // (Re)starts the timer: the callback runs once, `interval` from now. A zero interval runs
    // it on the next turn of the event loop, never inside the caller.
    void start(std::chrono::milliseconds interval);
    void start(qint64 intervalMs) { start(std::chrono::milliseconds(intervalMs)); }
    void stop();
    bool isActive() const { return m_active; }

private:
    friend class DeadlineScheduler;
    using Map = std::multimap<qint64, DeadlineTimer *>;

    std::function<void()> m_callback;
    DeadlineScheduler *m_scheduler = nullptr; // holds a reference on it while set
    Map::iterator m_entry;
    bool m_active = false;
};

// The deadlines of one thread. Created with the first timer started in the thread and deleted
// with the last DeadlineTimer that used it, so nothing of it outlives the event loop.
class DeadlineScheduler : public QObject
{
public:
    static DeadlineScheduler *acquire(); // the current thread's, with one more reference
    void release();

    // Nanoseconds on the monotonic clock that Qt's timers use too.
    static qint64 now()
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    qsizetype pendingCount() const { return qsizetype(m_deadlines.size()); }

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    friend class DeadlineTimer;

    DeadlineScheduler() = default;
    ~DeadlineScheduler() override;
    void insert(DeadlineTimer *timer, qint64 deadline);
    void remove(DeadlineTimer *timer);
    void arm();

    DeadlineTimer::Map m_deadlines;
    QBasicTimer m_timer;
    // The deadline m_timer is set for. Stopping timers never re-arms it (the next wake-up
    // may then find nothing due, and re-arms): only an earlier new deadline does.
    qint64 m_armedFor = 0;
    bool m_armed = false;
    qsizetype m_references = 0;
    // While callbacks run: deadlines at or before it that are started meanwhile wait for the
    // next turn, as a zero-interval Qt timer would; arming waits for the end of the batch.
    bool m_dispatching = false;
    qint64 m_dispatchNow = 0;
};

} // namespace QSocketIo
