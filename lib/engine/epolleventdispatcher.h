#pragma once

#include "../qsocketioglobal.h"

#include <QtCore/qabstracteventdispatcher.h>

#include <memory>

namespace QSocketIo {

class EpollEventDispatcherPrivate;

// A Linux event dispatcher for servers with thousands of sockets. Qt's default dispatchers cost
// O(number of descriptors) per loop iteration (glib and poll() hand the whole descriptor list to
// the kernel) and per QSocketNotifier toggle (glib keeps its poll records in a list), and Qt 6.4
// finds timers by linear search. Here socket notifiers live in an epoll set (level-triggered, as
// in Qt's dispatchers), so an iteration costs O(ready descriptors) and enabling or disabling a
// notifier is at most one epoll_ctl(); a newly enabled write notifier is first checked by one
// poll() over all such descriptors per iteration, so the enable/disable pair sockets go through
// for every message they send costs no system call while the socket has room. Timers are
// ordered by deadline, so starting and stopping one is O(log n); wakeUp() writes an eventfd.
//
// It behaves like Qt's QEventDispatcherUNIX: posted events are sent at the start of every
// processEvents(); Qt::PreciseTimer fires at its deadline (millisecond resolution);
// Qt::CoarseTimer may fire up to 5% of its interval late (never early) so that timers wake
// together; Qt::VeryCoarseTimer fires on whole seconds (under one second it is treated as coarse
// rather than rounded to zero); a zero-interval timer fires once per loop iteration. A notifier
// disabled or deleted while others are being activated is not activated.
// QEventLoop::ExcludeUserInputEvents has nothing to exclude (no user input reaches a non-GUI
// dispatcher).
//
// One instance serves one thread. For the main thread, call installForMainThread() before
// constructing QCoreApplication; for a worker thread, pass a new instance to
// QThread::setEventDispatcher() before QThread::start(). The thread owns the dispatcher.
class QSOCKETIO_EXPORT EpollEventDispatcher : public QAbstractEventDispatcher
{
    Q_OBJECT
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    // Makes a new EpollEventDispatcher the main thread's dispatcher. Call before constructing
    // QCoreApplication (QCoreApplication::setEventDispatcher); later calls have no effect.
    static void installForMainThread();

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    using QAbstractEventDispatcher::registerTimer;
    void registerTimer(
        int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    // Both are safe to call from any thread.
    void wakeUp() override;
    void interrupt() override;

private:
    Q_DISABLE_COPY_MOVE(EpollEventDispatcher)
    std::unique_ptr<EpollEventDispatcherPrivate> d;
};

} // namespace QSocketIo
