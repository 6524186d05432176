#include "epolleventdispatcher.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qcoreevent.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qthread.h>
#include <QtCore/qvarlengtharray.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace QSocketIo {

Q_LOGGING_CATEGORY(lcDispatcher, "qsocketio.dispatcher", QtWarningMsg)

namespace {

constexpr qint64 NsPerMs = 1000 * 1000;
constexpr qint64 NsPerSecond = 1000 * NsPerMs;

// Qt's own dispatchers treat coarse timers this way: below 20 ms, 5% is under a millisecond, so
// the timer is precise; from 20 s on, 5% is over a second, so whole seconds will do.
constexpr qint64 CoarseAsPreciseUpToMs = 20;
constexpr qint64 CoarseAsVeryCoarseFromMs = 20000;

// How many ready descriptors one epoll_wait() hands back; the rest stay ready (level-triggered)
// and come with the next iteration.
constexpr int MaxEventsPerWait = 512;

qint64 monotonicNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * NsPerSecond + ts.tv_nsec;
}

qint64 roundUpTo(qint64 value, qint64 step)
{
    return (value + step - 1) / step * step;
}

// Hang-up and error are reported whatever the interest set says; as in Qt's own dispatcher they
// wake every notifier of the descriptor, whose owner then sees the EOF or the error and closes
// the socket (else a level-triggered hang-up would be reported again and again).
constexpr uint32_t activationMask[3] = {
    EPOLLIN | EPOLLHUP | EPOLLERR, // QSocketNotifier::Read
    EPOLLOUT | EPOLLHUP | EPOLLERR, // QSocketNotifier::Write
    EPOLLPRI | EPOLLHUP | EPOLLERR, // QSocketNotifier::Exception
};

const char *typeName(QSocketNotifier::Type type)
{
    switch (type) {
    case QSocketNotifier::Read:
        return "Read";
    case QSocketNotifier::Write:
        return "Write";
    case QSocketNotifier::Exception:
        return "Exception";
    }
    return "?";
}

struct SocketEntry
{
    QSocketNotifier *notifiers[3] = {};
    // Position of each notifier in the activation queue, so that unregistering one that is
    // waiting there is O(1) however many sockets became ready together.
    int queued[3] = {-1, -1, -1};
    uint32_t inEpoll = 0; // interest set the epoll instance holds; 0: not in it
    bool alwaysReady = false;
    // A write notifier is first checked by the per-iteration poll() over writeProbes; it joins the
    // epoll set only once that poll() finds the socket full (see probeWrites()).
    bool writeInEpoll = false;
    bool inWriteProbes = false; // the descriptor is listed in writeProbes

    bool isEmpty() const { return !notifiers[0] && !notifiers[1] && !notifiers[2]; }
};

struct QueuedNotifier
{
    QSocketNotifier *notifier; // null once disabled or deleted
    int fd;
    int type;
};

struct Timer;
using Schedule = std::multimap<qint64, Timer *>;

struct Timer
{
    int id = 0;
    qint64 intervalMs = 0;
    Qt::TimerType type = Qt::CoarseTimer;
    QObject *object = nullptr;
    // Registrations of one id are told apart by serial: Qt hands a released id out again at
    // once, so a timer stopped and started inside a timer event comes back with the same id.
    quint64 serial = 0;
    qint64 nominalNs = 0; // when it is due, before coarse rounding; periods count from here
    bool firing = false; // its timer event is being delivered (maybe in a nested loop)
    Schedule::iterator slot;
};

} // namespace

class EpollEventDispatcherPrivate
{
public:
    EpollEventDispatcherPrivate();
    ~EpollEventDispatcherPrivate();

    SocketEntry *findSocket(int fd)
    {
        return fd >= 0 && size_t(fd) < sockets.size() ? &sockets[size_t(fd)] : nullptr;
    }
    void updateInterest(int fd, SocketEntry &entry);
    void removeSocket(int fd, SocketEntry &entry);
    void enqueue(int fd, SocketEntry &entry, int type);
    void probeWrites();
    int activateQueuedNotifiers();
    void drainWakeUps();

    qint64 firingTime(const Timer &timer) const;
    void schedule(Timer &timer, qint64 nominalNs);
    void forgetTimer(std::unordered_map<int, Timer>::iterator it, bool unlinkFromObject);
    int waitTimeoutMs(bool includeTimers, bool includeNotifiers) const;
    int activateTimers();

    int epollFd = -1;
    int wakeFd = -1;
    std::atomic<bool> wakeUpPending {false};
    std::atomic<bool> interrupted {false};

    // Indexed by descriptor: the kernel hands out the lowest free numbers, so this stays dense.
    std::vector<SocketEntry> sockets;
    // Descriptors epoll refuses (regular files): poll() reports them always ready, and so do we.
    std::unordered_set<int> alwaysReady;
    // Notifiers to activate, shared with nested loops so that each is activated once; a slot is
    // nulled when its notifier is disabled or deleted before its turn.
    std::vector<QueuedNotifier> activationQueue;
    size_t activationHead = 0;
    // Descriptors whose write notifier is enabled but not in the epoll set. Sockets enable their
    // write notifier for each message and disable it once the message is flushed, in the next
    // iteration: two epoll_ctl() calls per message per socket, which for a broadcast cost more
    // than Qt's poll() of every descriptor. One poll() over these instead costs one system call
    // per iteration, and a socket with room for the message never enters the epoll set.
    std::vector<int> writeProbes;
    std::vector<pollfd> probeFds;

    std::unordered_map<int, Timer> timers;
    Schedule timeline; // by firing time; equal times keep registration order
    std::unordered_map<QObject *, QVarLengthArray<int, 2>> timersByObject;
    quint64 nextSerial = 1;
};

EpollEventDispatcherPrivate::EpollEventDispatcherPrivate()
{
    epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (epollFd < 0)
        qFatal("EpollEventDispatcher: epoll_create1: %s", strerror(errno));
    wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd < 0)
        qFatal("EpollEventDispatcher: eventfd: %s", strerror(errno));
    epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = wakeFd;
    if (epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeFd, &ev) < 0)
        qFatal("EpollEventDispatcher: epoll_ctl(eventfd): %s", strerror(errno));
}

EpollEventDispatcherPrivate::~EpollEventDispatcherPrivate()
{
    close(wakeFd);
    close(epollFd);
}

void EpollEventDispatcherPrivate::updateInterest(int fd, SocketEntry &entry)
{
    if (entry.alwaysReady)
        return;
    uint32_t wanted = 0;
    if (entry.notifiers[QSocketNotifier::Read])
        wanted |= EPOLLIN;
    if (entry.notifiers[QSocketNotifier::Exception])
        wanted |= EPOLLPRI;
    if (!entry.notifiers[QSocketNotifier::Write]) {
        entry.writeInEpoll = false;
    } else if (entry.writeInEpoll) {
        wanted |= EPOLLOUT;
    } else if (!entry.inWriteProbes) {
        entry.inWriteProbes = true;
        writeProbes.push_back(fd);
    }
    if (wanted == entry.inEpoll)
        return;
    if (!wanted) {
        epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, nullptr);
        entry.inEpoll = 0;
        return;
    }
    epoll_event ev {};
    ev.events = wanted;
    ev.data.fd = fd;
    int rc = epoll_ctl(epollFd, entry.inEpoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    // A descriptor closed while its notifiers were enabled left the epoll set with its last
    // close(); if the number came back for a new socket, it has to be added again.
    if (rc < 0 && errno == ENOENT)
        rc = epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev);
    else if (rc < 0 && errno == EEXIST)
        rc = epoll_ctl(epollFd, EPOLL_CTL_MOD, fd, &ev);
    if (rc == 0) {
        entry.inEpoll = wanted;
        return;
    }
    entry.inEpoll = 0;
    if (errno == EPERM) {
        entry.alwaysReady = true;
        alwaysReady.insert(fd);
        return;
    }
    qCWarning(lcDispatcher, "QSocketNotifier: cannot watch socket %d: %s", fd, strerror(errno));
}

void EpollEventDispatcherPrivate::removeSocket(int fd, SocketEntry &entry)
{
    if (entry.inEpoll) {
        // Fails harmlessly when the descriptor is already closed; done eagerly because a
        // descriptor still shared with another process or a dup() would stay in the set and keep
        // reporting readiness for a number that may now belong to someone else.
        epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, nullptr);
    }
    if (entry.alwaysReady)
        alwaysReady.erase(fd);
    // Still listed in writeProbes (dropped from there lazily): keep saying so, so that it is
    // never listed twice.
    const bool listed = entry.inWriteProbes;
    entry = SocketEntry();
    entry.inWriteProbes = listed;
}

void EpollEventDispatcherPrivate::enqueue(int fd, SocketEntry &entry, int type)
{
    if (!entry.notifiers[type] || entry.queued[type] >= 0)
        return;
    entry.queued[type] = int(activationQueue.size());
    activationQueue.push_back({entry.notifiers[type], fd, type});
}

void EpollEventDispatcherPrivate::probeWrites()
{
    probeFds.clear();
    size_t kept = 0;
    for (int fd : writeProbes) {
        SocketEntry &entry = sockets[size_t(fd)];
        if (!entry.notifiers[QSocketNotifier::Write] || entry.writeInEpoll || entry.alwaysReady) {
            entry.inWriteProbes = false;
            continue;
        }
        writeProbes[kept++] = fd;
        probeFds.push_back({fd, POLLOUT, 0});
    }
    writeProbes.resize(kept);
    if (probeFds.empty())
        return;
    const int rc = poll(probeFds.data(), nfds_t(probeFds.size()), 0);
    if (rc < 0 && errno != EINTR)
        qCWarning(lcDispatcher, "poll: %s", strerror(errno));
    kept = 0;
    for (size_t i = 0; i < probeFds.size(); ++i) {
        const int fd = probeFds[i].fd;
        SocketEntry &entry = sockets[size_t(fd)];
        if (rc > 0 && (probeFds[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
            // Stays listed: checked again next iteration if still enabled, as level-triggered.
            enqueue(fd, entry, QSocketNotifier::Write);
            writeProbes[kept++] = fd;
        } else {
            // Full (or poll() failed): let epoll wait for room.
            entry.inWriteProbes = false;
            entry.writeInEpoll = true;
            updateInterest(fd, entry);
        }
    }
    writeProbes.resize(kept);
}

int EpollEventDispatcherPrivate::activateQueuedNotifiers()
{
    int activated = 0;
    // Indexes, not iterators: a handler may run a nested loop that appends to the queue.
    while (activationHead < activationQueue.size()) {
        const QueuedNotifier next = activationQueue[activationHead++];
        if (!next.notifier)
            continue;
        sockets[size_t(next.fd)].queued[next.type] = -1;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(next.notifier, &event);
        ++activated;
    }
    activationQueue.clear();
    activationHead = 0;
    return activated;
}

void EpollEventDispatcherPrivate::drainWakeUps()
{
    eventfd_t count;
    (void)eventfd_read(wakeFd, &count);
    // Cleared only after the read: a wakeUp() that finds the flag still set skipped its write,
    // but its event was posted before this point, and the loop sends posted events again before
    // it next waits. Cleared before the read, the flag could stay set with the eventfd empty,
    // and every later wakeUp() would skip its write while the thread sleeps.
    wakeUpPending.store(false);
}

qint64 EpollEventDispatcherPrivate::firingTime(const Timer &timer) const
{
    switch (timer.type) {
    case Qt::PreciseTimer:
        break;
    case Qt::CoarseTimer: {
        // Let the timer fire on the roundest millisecond boundary within 5% after its due time,
        // so that coarse timers started at different moments wake the thread together. Never
        // earlier than due: code that measures a coarse interval sees at least the interval.
        const qint64 slack = timer.intervalMs * NsPerMs / 20;
        for (qint64 stepMs : {1000, 500, 250, 100, 50, 20, 10, 5, 2}) {
            const qint64 rounded = roundUpTo(timer.nominalNs, stepMs * NsPerMs);
            if (rounded - timer.nominalNs <= slack)
                return rounded;
        }
        break;
    }
    case Qt::VeryCoarseTimer:
        return (timer.nominalNs + NsPerSecond / 2) / NsPerSecond * NsPerSecond;
    }
    return timer.nominalNs;
}

void EpollEventDispatcherPrivate::schedule(Timer &timer, qint64 nominalNs)
{
    timer.nominalNs = nominalNs;
    // Inserted after the timers already due at the same time: Qt's order for equal deadlines.
    timer.slot = timeline.emplace(firingTime(timer), &timer);
}

void EpollEventDispatcherPrivate::forgetTimer(
    std::unordered_map<int, Timer>::iterator it, bool unlinkFromObject)
{
    Timer &timer = it->second;
    timeline.erase(timer.slot);
    if (unlinkFromObject) {
        auto owner = timersByObject.find(timer.object);
        if (owner != timersByObject.end()) {
            auto &ids = owner->second;
            for (qsizetype i = 0; i < ids.size(); ++i) {
                if (ids[i] == timer.id) {
                    ids[i] = ids.back();
                    ids.removeLast();
                    break;
                }
            }
            if (ids.isEmpty())
                timersByObject.erase(owner);
        }
    }
    timers.erase(it);
}

int EpollEventDispatcherPrivate::waitTimeoutMs(bool includeTimers, bool includeNotifiers) const
{
    if (includeNotifiers && (!alwaysReady.empty() || activationHead < activationQueue.size()))
        return 0;
    if (!includeTimers)
        return -1;
    // A timer whose event is still being delivered (we are in a loop nested inside it) does not
    // count: it is not fired again until its handler returns.
    for (const auto &[when, timer] : timeline) {
        if (timer->firing)
            continue;
        const qint64 left = when - monotonicNs();
        if (left <= 0)
            return 0;
        // Rounded up: waking a little early would only spin until the deadline.
        return int(qMin<qint64>((left + NsPerMs - 1) / NsPerMs, INT_MAX));
    }
    return -1;
}

int EpollEventDispatcherPrivate::activateTimers()
{
    if (timeline.empty())
        return 0;
    const qint64 now = monotonicNs();
    // The timers due at the start of the pass, taken up front: one re-armed during the pass (a
    // zero timer, or one already late again) waits for the next pass, so a pass always ends.
    QVarLengthArray<std::pair<int, quint64>, 32> due;
    for (auto it = timeline.begin(); it != timeline.end() && it->first <= now; ++it) {
        if (!it->second->firing)
            due.append({it->second->id, it->second->serial});
    }

    int activated = 0;
    for (const auto &[id, serial] : due) {
        auto it = timers.find(id);
        // Stopped, or stopped and started again, by an earlier handler of this pass.
        if (it == timers.end() || it->second.serial != serial || it->second.firing)
            continue;
        Timer &timer = it->second;
        // Re-armed before delivery, so that the handler sees the next period in remainingTime()
        // and may stop or restart the timer.
        timeline.erase(timer.slot);
        const qint64 period = timer.intervalMs * NsPerMs;
        qint64 next = timer.nominalNs + period;
        if (next < now)
            next = now + period; // missed periods are dropped, not caught up
        schedule(timer, next);
        if (timer.intervalMs > 0)
            ++activated;

        timer.firing = true;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(timer.object, &event);
        auto after = timers.find(id);
        if (after != timers.end() && after->second.serial == serial)
            after->second.firing = false;
    }
    return activated;
}

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , d(std::make_unique<EpollEventDispatcherPrivate>())
{
}

EpollEventDispatcher::~EpollEventDispatcher() = default;

void EpollEventDispatcher::installForMainThread()
{
    if (QCoreApplication::instance() || QThread::currentThread()->eventDispatcher()) {
        qCWarning(lcDispatcher,
            "EpollEventDispatcher::installForMainThread: must be called "
            "before QCoreApplication is constructed");
        return;
    }
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    d->interrupted.store(false, std::memory_order_relaxed);
    emit awake();

    QCoreApplication::sendPostedEvents();

    const bool includeTimers = !flags.testFlag(QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !flags.testFlag(QEventLoop::ExcludeSocketNotifiers);
    const bool mayBlock = flags.testFlag(QEventLoop::WaitForMoreEvents)
        && !d->interrupted.load(std::memory_order_relaxed);
    if (mayBlock)
        emit aboutToBlock();
    if (d->interrupted.load(std::memory_order_relaxed))
        return false;

    int handled = 0;
    if (includeNotifiers)
        d->probeWrites(); // before the timeout: a writable socket means no waiting
    // Events posted after sendPostedEvents() above, from this thread or another, went through
    // wakeUp(): the eventfd is readable and the wait returns at once.
    const int timeout = mayBlock ? d->waitTimeoutMs(includeTimers, includeNotifiers) : 0;
    if (includeNotifiers) {
        epoll_event events[MaxEventsPerWait];
        const int ready = epoll_wait(d->epollFd, events, MaxEventsPerWait, timeout);
        if (ready < 0 && errno != EINTR)
            qCWarning(lcDispatcher, "epoll_wait: %s", strerror(errno));
        for (int i = 0; i < ready; ++i) {
            const int fd = events[i].data.fd;
            if (fd == d->wakeFd) {
                d->drainWakeUps();
                ++handled;
                continue;
            }
            SocketEntry *entry = d->findSocket(fd);
            if (!entry)
                continue;
            for (int type = 0; type < 3; ++type) {
                if (events[i].events & activationMask[type])
                    d->enqueue(fd, *entry, type);
            }
        }
        for (int fd : d->alwaysReady) {
            SocketEntry &entry = d->sockets[size_t(fd)];
            d->enqueue(fd, entry, QSocketNotifier::Read);
            d->enqueue(fd, entry, QSocketNotifier::Write);
        }
        handled += d->activateQueuedNotifiers();
    } else {
        // Only the eventfd: a loop excluding socket notifiers still wakes for posted events.
        pollfd wake {d->wakeFd, POLLIN, 0};
        if (poll(&wake, 1, timeout) > 0) {
            d->drainWakeUps();
            ++handled;
        }
    }

    if (includeTimers)
        handled += d->activateTimers();
    return handled > 0;
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const int fd = int(notifier->socket());
    const int type = notifier->type();
    if (fd < 0 || type < 0 || type > 2) {
        qCWarning(lcDispatcher, "QSocketNotifier: internal error");
        return;
    }
    if (notifier->thread() != thread() || thread() != QThread::currentThread()) {
        qCWarning(lcDispatcher,
            "QSocketNotifier: socket notifiers cannot be enabled from another "
            "thread");
        return;
    }
    if (size_t(fd) >= d->sockets.size())
        d->sockets.resize(size_t(fd) + 1);
    SocketEntry &entry = d->sockets[size_t(fd)];
    if (QSocketNotifier *previous = entry.notifiers[type]; previous && previous != notifier) {
        qCWarning(lcDispatcher,
            "QSocketNotifier: Multiple socket notifiers for same socket %d "
            "and type %s",
            fd, typeName(notifier->type()));
        if (entry.queued[type] >= 0) {
            d->activationQueue[size_t(entry.queued[type])].notifier = nullptr;
            entry.queued[type] = -1;
        }
    }
    entry.notifiers[type] = notifier;
    d->updateInterest(fd, entry);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const int fd = int(notifier->socket());
    const int type = notifier->type();
    SocketEntry *entry = d->findSocket(fd);
    if (!entry || type < 0 || type > 2 || entry->notifiers[type] != notifier)
        return;
    entry->notifiers[type] = nullptr;
    if (entry->queued[type] >= 0) {
        d->activationQueue[size_t(entry->queued[type])].notifier = nullptr;
        entry->queued[type] = -1;
    }
    if (entry->isEmpty())
        d->removeSocket(fd, *entry);
    else
        d->updateInterest(fd, *entry);
}

void EpollEventDispatcher::registerTimer(
    int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    if (timerId < 1 || interval < 0 || !object) {
        qCWarning(lcDispatcher, "EpollEventDispatcher::registerTimer: invalid arguments");
        return;
    }
    if (object->thread() != thread() || thread() != QThread::currentThread()) {
        qCWarning(lcDispatcher,
            "EpollEventDispatcher::registerTimer: timers cannot be started "
            "from another thread");
        return;
    }
    if (auto stale = d->timers.find(timerId); stale != d->timers.end())
        d->forgetTimer(stale, true);

    if (interval == 0) {
        timerType = Qt::PreciseTimer;
    } else if (timerType == Qt::VeryCoarseTimer && interval < 1000) {
        // Whole seconds would turn it into a zero timer or stretch it several times over.
        timerType = Qt::CoarseTimer;
    }
    if (timerType == Qt::CoarseTimer) {
        if (interval <= CoarseAsPreciseUpToMs)
            timerType = Qt::PreciseTimer;
        else if (interval >= CoarseAsVeryCoarseFromMs)
            timerType = Qt::VeryCoarseTimer;
    }
    if (timerType == Qt::VeryCoarseTimer)
        interval = (interval + 500) / 1000 * 1000;

    Timer &timer = d->timers[timerId];
    timer.id = timerId;
    timer.intervalMs = interval;
    timer.type = timerType;
    timer.object = object;
    timer.serial = d->nextSerial++;
    timer.firing = false;
    d->schedule(timer, monotonicNs() + interval * NsPerMs);
    d->timersByObject[object].append(timerId);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    auto it = d->timers.find(timerId);
    if (it == d->timers.end())
        return false;
    d->forgetTimer(it, true);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    auto owner = d->timersByObject.find(object);
    if (owner == d->timersByObject.end())
        return false;
    const auto ids = std::move(owner->second);
    d->timersByObject.erase(owner);
    for (int id : ids) {
        auto it = d->timers.find(id);
        if (it != d->timers.end())
            d->forgetTimer(it, false);
    }
    return true;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(
    QObject *object) const
{
    QList<TimerInfo> list;
    auto owner = d->timersByObject.find(object);
    if (owner == d->timersByObject.end())
        return list;
    for (int id : owner->second) {
        const Timer &timer = d->timers.at(id);
        list.append(TimerInfo(id, int(timer.intervalMs), timer.type));
    }
    return list;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    auto it = d->timers.find(timerId);
    if (it == d->timers.end())
        return -1;
    const qint64 left = it->second.slot->first - monotonicNs();
    if (left <= 0)
        return 0;
    return int(qMin<qint64>((left + NsPerMs - 1) / NsPerMs, INT_MAX));
}

void EpollEventDispatcher::wakeUp()
{
    // One write per sleep is enough; the flag spares the syscall when many threads post to this
    // one in a burst.
    if (!d->wakeUpPending.exchange(true, std::memory_order_acq_rel))
        (void)eventfd_write(d->wakeFd, 1);
}

void EpollEventDispatcher::interrupt()
{
    d->interrupted.store(true, std::memory_order_relaxed);
    wakeUp();
}

} // namespace QSocketIo
