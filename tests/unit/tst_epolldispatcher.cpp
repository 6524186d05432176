// EpollEventDispatcher installed as the main thread's dispatcher (see main() at the end), driven
// through Qt's ordinary classes: timers, socket notifiers, posted events, threads, nested loops,
// and real TCP and WebSocket traffic over loopback.

#include <QSocketIo/epolleventdispatcher.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qeventloop.h>
#include <QtCore/qpointer.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qtemporaryfile.h>
#include <QtCore/qthread.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>
#include <QtWebSockets/qwebsocket.h>
#include <QtWebSockets/qwebsocketserver.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

using namespace QSocketIo;
using namespace std::chrono_literals;

namespace {

// Both ends of a socketpair, closed at scope exit.
struct SocketPair
{
    int fd[2] = {-1, -1};
    SocketPair() { socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd); }
    ~SocketPair()
    {
        for (int f : fd) {
            if (f >= 0)
                close(f);
        }
    }
    bool ok() const { return fd[0] >= 0 && fd[1] >= 0; }
    void send(int end, const char *data = "x") { QVERIFY(write(fd[end], data, strlen(data)) > 0); }
    void drain(int end)
    {
        char buf[256];
        while (read(fd[end], buf, sizeof buf) > 0) { }
    }
};

// Counts timer events per id, and lets a test act from inside one.
class TimerTarget : public QObject
{
public:
    std::function<void(int id)> onTimer;
    QList<int> fired;

protected:
    void timerEvent(QTimerEvent *event) override
    {
        fired.append(event->timerId());
        if (onTimer)
            onTimer(event->timerId());
    }
};

class Echo : public QObject
{
    Q_OBJECT
public slots:
    void ping(int n) { emit pong(n, QThread::currentThread()); }
signals:
    void pong(int n, QThread *thread);
};

} // namespace

class tst_EpollDispatcher : public QObject
{
    Q_OBJECT
private slots:
    void installedForMainThread();
    void singleShotOrderAndAccuracy();
    void repeatingTimer();
    void coarseTimerNeverEarly();
    void veryCoarseTimerWholeSeconds();
    void zeroTimerRunsEveryIteration();
    void stopOtherInsideCallback();
    void restartInsideCallback();
    void stopOwnInsideCallbackReusesId();
    void remainingTimeAndRegisteredTimers();
    void timerNotRefiredInNestedLoop();
    void manyTimers();
    void notifierReadWrite();
    void notifierLevelTriggered();
    void writeNotifierWaitsForRoom();
    void notifierHangUp();
    void notifierOnRegularFile();
    void disableOtherInsideActivation();
    void deleteInsideOwnActivation();
    void excludeSocketNotifiers();
    void postedEventsAndDeleteLater();
    void aboutToBlockAndAwake();
    void nestedEventLoops();
    void interruptFromAnotherThread();
    void workerThread();
    void crossThreadPingPong();
    void wakeUpFromManyThreads();
    void timerMovesWithObjectToWorker();
    void tcpEcho();
    void webSocketEcho();
};

void tst_EpollDispatcher::installedForMainThread()
{
    QVERIFY(qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()));
    // Too late now: a warning, and the dispatcher stays.
    QTest::ignoreMessage(QtWarningMsg,
        "EpollEventDispatcher::installForMainThread: must be called before "
        "QCoreApplication is constructed");
    auto *before = QAbstractEventDispatcher::instance();
    EpollEventDispatcher::installForMainThread();
    QCOMPARE(QAbstractEventDispatcher::instance(), before);
}

void tst_EpollDispatcher::singleShotOrderAndAccuracy()
{
    QElapsedTimer clock;
    QList<int> order;
    QList<qint64> at;
    clock.start();
    for (int ms : {60, 20, 40, 20}) {
        QTimer::singleShot(ms, Qt::PreciseTimer, this, [&, ms] {
            order.append(ms);
            at.append(clock.elapsed());
        });
    }
    QTRY_COMPARE(order.size(), 4);
    QCOMPARE(order, (QList<int> {20, 20, 40, 60}));
    for (int i = 0; i < 4; ++i) {
        QVERIFY2(at[i] >= order[i], qPrintable(QString::number(at[i])));
        QVERIFY2(at[i] < order[i] + 250, qPrintable(QString::number(at[i])));
    }
}

void tst_EpollDispatcher::repeatingTimer()
{
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(20);
    int fired = 0;
    QElapsedTimer clock;
    connect(&timer, &QTimer::timeout, this, [&] {
        if (++fired == 10)
            timer.stop();
    });
    clock.start();
    timer.start();
    QTRY_VERIFY(!timer.isActive());
    const qint64 took = clock.elapsed();
    QCOMPARE(fired, 10);
    QVERIFY2(took >= 200, qPrintable(QString::number(took)));
    QVERIFY2(took < 1500, qPrintable(QString::number(took)));
    QTest::qWait(60);
    QCOMPARE(fired, 10);
}

void tst_EpollDispatcher::coarseTimerNeverEarly()
{
    QTimer timer;
    timer.setTimerType(Qt::CoarseTimer);
    timer.setInterval(100);
    QElapsedTimer clock;
    QList<qint64> at;
    connect(&timer, &QTimer::timeout, this, [&] {
        at.append(clock.elapsed());
        if (at.size() == 5)
            timer.stop();
    });
    clock.start();
    timer.start();
    QTRY_COMPARE(at.size(), 5);
    for (int i = 0; i < at.size(); ++i) {
        // Periods count from the nominal deadlines: rounding does not accumulate.
        QVERIFY2(at[i] >= 100 * (i + 1), qPrintable(QString::number(at[i])));
        QVERIFY2(at[i] < 100 * (i + 1) + 5 + 200, qPrintable(QString::number(at[i])));
    }
}

void tst_EpollDispatcher::veryCoarseTimerWholeSeconds()
{
    QTimer timer;
    timer.setTimerType(Qt::VeryCoarseTimer);
    timer.setSingleShot(true);
    timer.setInterval(1200); // rounded to one second
    QElapsedTimer clock;
    qint64 at = -1;
    connect(&timer, &QTimer::timeout, this, [&] { at = clock.elapsed(); });
    clock.start();
    timer.start();
    const int remaining = timer.remainingTime();
    QVERIFY2(remaining >= 400 && remaining <= 1600, qPrintable(QString::number(remaining)));
    QTRY_VERIFY_WITH_TIMEOUT(at >= 0, 5000);
    QVERIFY2(at >= 400 && at < 1900, qPrintable(QString::number(at)));
}

void tst_EpollDispatcher::zeroTimerRunsEveryIteration()
{
    QTimer zero;
    zero.setInterval(0);
    int spins = 0;
    connect(&zero, &QTimer::timeout, this, [&] { ++spins; });
    bool later = false;
    bool posted = false;
    zero.start();
    QTimer::singleShot(50, this, [&] { later = true; });
    QMetaObject::invokeMethod(
        this, [&] { posted = true; }, Qt::QueuedConnection);
    // A zero timer keeps the loop from sleeping but starves neither timers nor posted events.
    QTRY_VERIFY(later);
    QVERIFY(posted);
    zero.stop();
    QVERIFY2(spins > 10, qPrintable(QString::number(spins)));
    const int after = spins;
    QTest::qWait(20);
    QCOMPARE(spins, after);

    // Once per iteration, not in a loop within one.
    TimerTarget target;
    const int id = target.startTimer(0);
    QCoreApplication::processEvents();
    QCOMPARE(target.fired.size(), 1);
    QCoreApplication::processEvents();
    QCOMPARE(target.fired.size(), 2);
    target.killTimer(id);
}

void tst_EpollDispatcher::stopOtherInsideCallback()
{
    // Two timers due in the same pass; the first to fire stops the other.
    QTimer a, b;
    for (QTimer *t : {&a, &b}) {
        t->setSingleShot(true);
        t->setTimerType(Qt::PreciseTimer);
        t->setInterval(10);
    }
    int aFired = 0, bFired = 0;
    connect(&a, &QTimer::timeout, this, [&] {
        ++aFired;
        b.stop();
    });
    connect(&b, &QTimer::timeout, this, [&] {
        ++bFired;
        a.stop();
    });
    a.start();
    b.start();
    QThread::msleep(30); // both overdue when the loop next looks
    QTest::qWait(50);
    QCOMPARE(aFired + bFired, 1);
}

void tst_EpollDispatcher::restartInsideCallback()
{
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setSingleShot(true);
    QElapsedTimer clock;
    QList<qint64> at;
    connect(&timer, &QTimer::timeout, this, [&] {
        at.append(clock.elapsed());
        if (at.size() < 3)
            timer.start(at.size() * 30); // restart with a longer interval
    });
    clock.start();
    timer.start(10);
    QTRY_COMPARE(at.size(), 3);
    QVERIFY(at[0] >= 10);
    QVERIFY(at[1] - at[0] >= 30);
    QVERIFY(at[2] - at[1] >= 60);
    QTest::qWait(100);
    QCOMPARE(at.size(), 3);
}

void tst_EpollDispatcher::stopOwnInsideCallbackReusesId()
{
    // Qt hands a released timer id out again at once: a timer killed and started inside its own
    // event usually comes back with the same id and must then wait for its new deadline.
    TimerTarget target;
    int id = target.startTimer(5ms, Qt::PreciseTimer);
    int restartedId = -1;
    QElapsedTimer clock;
    qint64 secondAt = -1;
    target.onTimer = [&](int current) {
        if (current == id && restartedId < 0) {
            target.killTimer(id);
            restartedId = target.startTimer(80ms, Qt::PreciseTimer);
            clock.start();
        } else if (current == restartedId) {
            secondAt = clock.elapsed();
            target.killTimer(restartedId);
        }
    };
    QTRY_VERIFY(secondAt >= 0);
    QVERIFY2(secondAt >= 80, qPrintable(QString::number(secondAt)));
    QCOMPARE(target.fired.size(), 2);
}

void tst_EpollDispatcher::remainingTimeAndRegisteredTimers()
{
    auto *dispatcher = QAbstractEventDispatcher::instance();
    TimerTarget target;
    const int a = target.startTimer(500ms, Qt::PreciseTimer);
    const int b = target.startTimer(10ms, Qt::CoarseTimer); // under 20 ms: precise
    const int c = target.startTimer(30s, Qt::CoarseTimer); // from 20 s on: very coarse
    const int remaining = dispatcher->remainingTime(a);
    QVERIFY2(remaining > 400 && remaining <= 500, qPrintable(QString::number(remaining)));

    auto timers = dispatcher->registeredTimers(&target);
    std::sort(timers.begin(), timers.end(),
        [](const auto &l, const auto &r) { return l.interval < r.interval; });
    QCOMPARE(timers.size(), 3);
    QCOMPARE(timers[0].timerId, b);
    QCOMPARE(timers[0].timerType, Qt::PreciseTimer);
    QCOMPARE(timers[1].timerId, a);
    QCOMPARE(timers[1].interval, 500);
    QCOMPARE(timers[2].timerId, c);
    QCOMPARE(timers[2].timerType, Qt::VeryCoarseTimer);
    QCOMPARE(timers[2].interval, 30000);

    target.killTimer(b);
    QCOMPARE(dispatcher->registeredTimers(&target).size(), 2);
    QCOMPARE(dispatcher->remainingTime(b), -1);
    QVERIFY(dispatcher->unregisterTimers(&target));
    QVERIFY(dispatcher->registeredTimers(&target).isEmpty());
    QVERIFY(!dispatcher->unregisterTimers(&target));
    // QObject still holds the ids; they go back to Qt's pool through killTimer.
    target.killTimer(a);
    target.killTimer(c);
}

void tst_EpollDispatcher::timerNotRefiredInNestedLoop()
{
    // A repeating timer whose handler spins a nested loop for several periods is not delivered
    // again inside it.
    TimerTarget target;
    int depth = 0, maxDepth = 0;
    const int id = target.startTimer(10ms, Qt::PreciseTimer);
    target.onTimer = [&](int) {
        ++depth;
        maxDepth = std::max(maxDepth, depth);
        if (target.fired.size() == 1) {
            QEventLoop loop;
            QTimer::singleShot(60, &loop, &QEventLoop::quit);
            loop.exec();
        }
        --depth;
    };
    QTRY_VERIFY(target.fired.size() >= 3);
    target.killTimer(id);
    QCOMPARE(maxDepth, 1);
}

void tst_EpollDispatcher::manyTimers()
{
    // 20,000 timers started and stopped in random order: O(log n) each, so well under a second
    // even in the sanitizer build; the survivors fire in deadline order.
    TimerTarget target;
    std::vector<int> ids;
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < 20000; ++i)
        ids.push_back(target.startTimer(std::chrono::milliseconds(1000 + i % 1000)));
    std::mt19937 random(42);
    std::shuffle(ids.begin(), ids.end(), random);
    for (size_t i = 0; i < ids.size() - 10; ++i)
        target.killTimer(ids[i]);
    const qint64 took = clock.elapsed();
    QVERIFY2(took < 3000, qPrintable(QString::number(took)));

    // Firing times as the dispatcher reports them, taken together (the clock barely moves).
    auto *dispatcher = QAbstractEventDispatcher::instance();
    QHash<int, int> remaining;
    for (auto it = ids.end() - 10; it != ids.end(); ++it)
        remaining.insert(*it, dispatcher->remainingTime(*it));
    target.onTimer = [&](int id) { target.killTimer(id); };
    QTRY_COMPARE_WITH_TIMEOUT(target.fired.size(), 10, 5000);
    for (int i = 0; i < 10; ++i) {
        QVERIFY(remaining.contains(target.fired[i]));
        // Remaining times are rounded to milliseconds: neighbours within one may swap.
        if (i > 0)
            QVERIFY(remaining[target.fired[i - 1]] <= remaining[target.fired[i]] + 1);
    }
}

void tst_EpollDispatcher::notifierReadWrite()
{
    SocketPair pair;
    QVERIFY(pair.ok());
    QSocketNotifier reader(pair.fd[0], QSocketNotifier::Read);
    QSocketNotifier writer(pair.fd[0], QSocketNotifier::Write); // same descriptor, two notifiers
    QSignalSpy readSpy(&reader, &QSocketNotifier::activated);
    QSignalSpy writeSpy(&writer, &QSocketNotifier::activated);
    QTRY_VERIFY(writeSpy.size() >= 1); // an empty socket buffer is writable
    writer.setEnabled(false);
    QCOMPARE(readSpy.size(), 0);

    pair.send(1, "hello");
    QTRY_VERIFY(readSpy.size() >= 1);
    QCOMPARE(readSpy.first().at(0).value<QSocketDescriptor>(), QSocketDescriptor(pair.fd[0]));
    QCOMPARE(readSpy.first().at(1).value<QSocketNotifier::Type>(), QSocketNotifier::Read);
    char buf[16];
    QCOMPARE(read(pair.fd[0], buf, sizeof buf), 5);

    const int writes = int(writeSpy.size());
    QTest::qWait(20);
    QCOMPARE(int(writeSpy.size()), writes); // disabled
    writer.setEnabled(true);
    QTRY_VERIFY(writeSpy.size() > writes);
}

void tst_EpollDispatcher::notifierLevelTriggered()
{
    SocketPair pair;
    QSocketNotifier reader(pair.fd[0], QSocketNotifier::Read);
    int activations = 0;
    connect(&reader, &QSocketNotifier::activated, this, [&] { ++activations; });
    pair.send(1);
    // Not read: reported again on every iteration, like poll().
    for (int i = 0; i < 3; ++i)
        QCoreApplication::processEvents();
    QCOMPARE(activations, 3);
    pair.drain(0);
    QCoreApplication::processEvents();
    QCOMPARE(activations, 3);
}

void tst_EpollDispatcher::writeNotifierWaitsForRoom()
{
    SocketPair pair;
    char chunk[4096] = {};
    while (write(pair.fd[0], chunk, sizeof chunk) > 0) { }
    QCOMPARE(errno, EAGAIN);
    QSocketNotifier writer(pair.fd[0], QSocketNotifier::Write);
    int activations = 0;
    connect(&writer, &QSocketNotifier::activated, this, [&] { ++activations; });
    // Full: not activated however many iterations pass.
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents();
    QTest::qWait(20);
    QCOMPARE(activations, 0);
    // Room made by the reader: activated, and again on every iteration while it stays enabled.
    pair.drain(1);
    QTRY_VERIFY(activations >= 1);
    const int before = activations;
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    QCOMPARE(activations, before + 2);
    // Disabled and enabled again, with room: activated at the next iteration.
    writer.setEnabled(false);
    QCoreApplication::processEvents();
    QCOMPARE(activations, before + 2);
    writer.setEnabled(true);
    QCoreApplication::processEvents();
    QCOMPARE(activations, before + 3);
}

void tst_EpollDispatcher::notifierHangUp()
{
    SocketPair pair;
    QSocketNotifier reader(pair.fd[0], QSocketNotifier::Read);
    bool eof = false;
    connect(&reader, &QSocketNotifier::activated, this, [&] {
        char c;
        if (read(pair.fd[0], &c, 1) == 0) {
            eof = true;
            reader.setEnabled(false);
        }
    });
    close(pair.fd[1]);
    pair.fd[1] = -1;
    QTRY_VERIFY(eof);
}

void tst_EpollDispatcher::notifierOnRegularFile()
{
    // epoll refuses regular files; poll() calls them always ready, and so must we.
    QTemporaryFile file;
    QVERIFY(file.open());
    QSocketNotifier reader(file.handle(), QSocketNotifier::Read);
    QSignalSpy spy(&reader, &QSocketNotifier::activated);
    QTRY_VERIFY(spy.size() >= 1);
    reader.setEnabled(false);
    const int count = int(spy.size());
    QTest::qWait(20);
    QCOMPARE(int(spy.size()), count);
}

void tst_EpollDispatcher::disableOtherInsideActivation()
{
    SocketPair one, two;
    QSocketNotifier a(one.fd[0], QSocketNotifier::Read);
    QSocketNotifier b(two.fd[0], QSocketNotifier::Read);
    int aCount = 0, bCount = 0;
    connect(&a, &QSocketNotifier::activated, this, [&] {
        ++aCount;
        one.drain(0);
        b.setEnabled(false);
    });
    connect(&b, &QSocketNotifier::activated, this, [&] {
        ++bCount;
        two.drain(0);
        a.setEnabled(false);
    });
    one.send(1);
    two.send(1);
    // Both are ready in the same wait; whichever goes first disables the other.
    QCoreApplication::processEvents();
    QCOMPARE(aCount + bCount, 1);
    QCoreApplication::processEvents();
    QCOMPARE(aCount + bCount, 1);
    // Re-enabled, the disabled one, still readable, is reported again.
    const int before = aCount + bCount;
    a.setEnabled(true);
    b.setEnabled(true);
    QCoreApplication::processEvents();
    QVERIFY(aCount + bCount > before);
}

void tst_EpollDispatcher::deleteInsideOwnActivation()
{
    SocketPair pair, other;
    auto *reader = new QSocketNotifier(pair.fd[0], QSocketNotifier::Read);
    auto *writer = new QSocketNotifier(pair.fd[0], QSocketNotifier::Write);
    auto *third = new QSocketNotifier(other.fd[0], QSocketNotifier::Read);
    QPointer<QSocketNotifier> readerAlive(reader), writerAlive(writer), thirdAlive(third);
    int activations = 0;
    // Whichever of the three ready notifiers goes first deletes all of them: the other two,
    // already queued, must not be delivered (ASan would catch a delivery to freed memory).
    auto deleteAll = [&] {
        ++activations;
        delete readerAlive.data();
        delete writerAlive.data();
        delete thirdAlive.data();
    };
    connect(reader, &QSocketNotifier::activated, this, deleteAll);
    connect(writer, &QSocketNotifier::activated, this, deleteAll);
    connect(third, &QSocketNotifier::activated, this, deleteAll);
    pair.send(1);
    other.send(1);
    QCoreApplication::processEvents();
    QCOMPARE(activations, 1);
    QVERIFY(!readerAlive && !writerAlive && !thirdAlive);
    QCoreApplication::processEvents();
    QCOMPARE(activations, 1);

    // And a notifier that deletes itself later in its own activation.
    auto *self = new QSocketNotifier(pair.fd[0], QSocketNotifier::Read);
    QPointer<QSocketNotifier> selfAlive(self);
    int selfCount = 0;
    connect(self, &QSocketNotifier::activated, this, [&] {
        ++selfCount;
        selfAlive->setEnabled(false);
        selfAlive->deleteLater();
    });
    QTRY_VERIFY(!selfAlive);
    QCOMPARE(selfCount, 1);
}

void tst_EpollDispatcher::excludeSocketNotifiers()
{
    SocketPair pair;
    QSocketNotifier reader(pair.fd[0], QSocketNotifier::Read);
    int activations = 0;
    connect(&reader, &QSocketNotifier::activated, this, [&] { ++activations; });
    pair.send(1);
    bool posted = false;
    QMetaObject::invokeMethod(
        this, [&] { posted = true; }, Qt::QueuedConnection);
    bool timerFired = false;
    QTimer::singleShot(0, this, [&] { timerFired = true; });
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 30)
        QCoreApplication::processEvents(QEventLoop::ExcludeSocketNotifiers);
    QVERIFY(posted);
    QVERIFY(timerFired);
    QCOMPARE(activations, 0);
    QCoreApplication::processEvents();
    QCOMPARE(activations, 1);

    // A blocking wait that excludes notifiers still wakes for a posted event from another
    // thread.
    QEventLoop loop;
    std::thread poster([&] {
        std::this_thread::sleep_for(30ms);
        QMetaObject::invokeMethod(&loop, "quit", Qt::QueuedConnection);
    });
    clock.restart();
    loop.exec(QEventLoop::ExcludeSocketNotifiers);
    poster.join();
    QVERIFY(clock.elapsed() < 2000);
}

void tst_EpollDispatcher::postedEventsAndDeleteLater()
{
    QList<int> order;
    for (int i = 0; i < 5; ++i)
        QMetaObject::invokeMethod(
            this, [&order, i] { order.append(i); }, Qt::QueuedConnection);
    QCoreApplication::processEvents();
    QCOMPARE(order, (QList<int> {0, 1, 2, 3, 4}));

    QPointer<QObject> doomed = new QObject;
    doomed->deleteLater();
    QVERIFY(doomed);
    QTRY_VERIFY(!doomed);

    // An event posted by a posted event's handler is delivered on a later iteration.
    int chain = 0;
    std::function<void()> next = [&] {
        if (++chain < 100)
            QMetaObject::invokeMethod(this, next, Qt::QueuedConnection);
    };
    QMetaObject::invokeMethod(this, next, Qt::QueuedConnection);
    QTRY_COMPARE(chain, 100);
}

void tst_EpollDispatcher::aboutToBlockAndAwake()
{
    auto *dispatcher = QAbstractEventDispatcher::instance();
    QSignalSpy blocked(dispatcher, &QAbstractEventDispatcher::aboutToBlock);
    QSignalSpy awake(dispatcher, &QAbstractEventDispatcher::awake);
    QEventLoop loop;
    QTimer::singleShot(20, &loop, &QEventLoop::quit);
    loop.exec();
    QVERIFY(blocked.size() >= 1);
    QVERIFY(awake.size() >= 1);
    const int blockedBefore = int(blocked.size());
    QCoreApplication::processEvents(); // no WaitForMoreEvents: never about to block
    QCOMPARE(int(blocked.size()), blockedBefore);
}

void tst_EpollDispatcher::nestedEventLoops()
{
    QList<QString> trace;
    QEventLoop outer;
    QTimer::singleShot(10, this, [&] {
        trace << "outer timer";
        QEventLoop inner;
        QTimer::singleShot(20, this, [&] {
            trace << "inner timer";
            inner.exit(7);
        });
        trace << QString("inner returned %1").arg(inner.exec());
        QTimer::singleShot(10, &outer, [&] { outer.exit(3); });
    });
    QCOMPARE(outer.exec(), 3);
    QCOMPARE(trace, (QList<QString> {"outer timer", "inner timer", "inner returned 7"}));

    // A socket notifier whose handler runs a nested loop: the other ready notifier is delivered
    // once, in whichever loop comes first.
    SocketPair one, two;
    QSocketNotifier a(one.fd[0], QSocketNotifier::Read);
    QSocketNotifier b(two.fd[0], QSocketNotifier::Read);
    int aCount = 0, bCount = 0;
    auto handler = [&](int &count, SocketPair &pair) {
        ++count;
        pair.drain(0);
        if (aCount + bCount == 1) {
            QEventLoop nested;
            QTimer::singleShot(20, &nested, &QEventLoop::quit);
            nested.exec();
        }
    };
    connect(&a, &QSocketNotifier::activated, this, [&] { handler(aCount, one); });
    connect(&b, &QSocketNotifier::activated, this, [&] { handler(bCount, two); });
    one.send(1);
    two.send(1);
    QTest::qWait(60);
    QCOMPARE(aCount, 1);
    QCOMPARE(bCount, 1);
}

void tst_EpollDispatcher::interruptFromAnotherThread()
{
    auto *dispatcher = QAbstractEventDispatcher::instance();
    std::thread other([dispatcher] {
        std::this_thread::sleep_for(50ms);
        dispatcher->interrupt();
    });
    QElapsedTimer clock;
    clock.start();
    // Nothing else to do: only the interrupt ends this wait.
    dispatcher->processEvents(QEventLoop::WaitForMoreEvents);
    other.join();
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));

    // exit() of a loop from another thread goes through interrupt() too.
    QEventLoop loop;
    std::thread stopper([&loop] {
        std::this_thread::sleep_for(30ms);
        loop.exit(5);
    });
    clock.restart();
    QCOMPARE(loop.exec(), 5);
    stopper.join();
    QVERIFY(clock.elapsed() < 5000);
}

// A worker thread with its own EpollEventDispatcher, stopped however the test ends.
struct Worker
{
    QThread thread;
    Worker()
    {
        thread.setEventDispatcher(new EpollEventDispatcher);
        thread.start();
    }
    ~Worker()
    {
        thread.quit();
        thread.wait();
    }
};

void tst_EpollDispatcher::workerThread()
{
    Worker worker;
    QThread &thread = worker.thread;
    QTRY_VERIFY(thread.isRunning());
    QVERIFY(qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance(&thread)));
    QVERIFY(QAbstractEventDispatcher::instance(&thread) != QAbstractEventDispatcher::instance());

    auto *echo = new Echo;
    echo->moveToThread(&thread);
    connect(&thread, &QThread::finished, echo, &QObject::deleteLater);
    QList<int> replies;
    bool allInWorker = true;
    connect(echo, &Echo::pong, this, [&](int n, QThread *where) {
        replies.append(n);
        allInWorker = allInWorker && where == &thread;
    });
    // The worker sleeps in epoll_wait between calls; each queued call wakes it through wakeUp().
    for (int i = 0; i < 200; ++i) {
        QMetaObject::invokeMethod(echo, "ping", Qt::QueuedConnection, Q_ARG(int, i));
        if (i % 50 == 0)
            QThread::msleep(10);
    }
    QTRY_COMPARE(replies.size(), 200);
    QVERIFY(allInWorker);
    for (int i = 0; i < 200; ++i)
        QCOMPARE(replies[i], i);

    // A timer in the worker.
    std::atomic<int> ticks {0};
    QMetaObject::invokeMethod(echo, [&] {
        auto *timer = new QTimer(echo);
        QObject::connect(timer, &QTimer::timeout, [&ticks, timer] {
            if (++ticks == 5)
                timer->stop();
        });
        timer->start(5);
    });
    QTRY_COMPARE(ticks.load(), 5);

    thread.quit();
    QVERIFY(thread.wait(5000));
}

void tst_EpollDispatcher::crossThreadPingPong()
{
    // Each call is sent only when the previous answer is back, so both threads go to sleep in
    // epoll_wait between round trips and every call needs a wakeUp() from the other thread:
    // a lost wake-up stalls the exchange.
    Worker worker;
    auto *echo = new Echo;
    echo->moveToThread(&worker.thread);
    connect(&worker.thread, &QThread::finished, echo, &QObject::deleteLater);
    const int rounds = 5000;
    int done = 0;
    QEventLoop loop;
    connect(echo, &Echo::pong, this, [&](int n) {
        QCOMPARE(n, done);
        if (++done == rounds)
            loop.quit();
        else
            QMetaObject::invokeMethod(echo, "ping", Qt::QueuedConnection, Q_ARG(int, done));
    });
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    QElapsedTimer clock;
    clock.start();
    QMetaObject::invokeMethod(echo, "ping", Qt::QueuedConnection, Q_ARG(int, 0));
    loop.exec();
    QCOMPARE(done, rounds);
    qInfo("%d cross-thread round trips in %lld ms", rounds, clock.elapsed());
}

void tst_EpollDispatcher::wakeUpFromManyThreads()
{
    // Four threads post to a worker in bursts with pauses, so that posts keep landing while the
    // worker is going to sleep or just waking: a wake-up lost in that window leaves the worker
    // asleep with events queued and the count short.
    Worker worker;
    QObject receiver;
    receiver.moveToThread(&worker.thread);
    std::atomic<int> handled {0};
    const int perThread = 5000;
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
        posters.emplace_back([&, t] {
            std::mt19937 random(t);
            for (int i = 0; i < perThread; ++i) {
                QMetaObject::invokeMethod(
                    &receiver, [&handled] { ++handled; }, Qt::QueuedConnection);
                if (random() % 8 == 0)
                    std::this_thread::sleep_for(std::chrono::microseconds(random() % 50));
            }
        });
    }
    for (auto &poster : posters)
        poster.join();
    QTRY_COMPARE_WITH_TIMEOUT(handled.load(), 4 * perThread, 20000);
    QMetaObject::invokeMethod(
        &receiver, [&receiver] { receiver.moveToThread(qApp->thread()); },
        Qt::BlockingQueuedConnection);
}

void tst_EpollDispatcher::timerMovesWithObjectToWorker()
{
    // moveToThread() takes a running timer from this dispatcher (registeredTimers +
    // unregisterTimers) to the worker's (registerTimer with the same id).
    Worker worker;
    QThread &thread = worker.thread;
    auto *timer = new QTimer;
    std::atomic<int> ticks {0};
    std::atomic<QThread *> where {nullptr};
    connect(timer, &QTimer::timeout, timer, [&] {
        where = QThread::currentThread();
        ++ticks;
    });
    timer->start(10);
    QVERIFY(!QAbstractEventDispatcher::instance()->registeredTimers(timer).isEmpty());
    timer->moveToThread(&thread);
    QVERIFY(QAbstractEventDispatcher::instance()->registeredTimers(timer).isEmpty());
    QTRY_VERIFY(ticks.load() >= 3);
    QCOMPARE(where.load(), &thread);
    QMetaObject::invokeMethod(
        timer, [timer] { delete timer; }, Qt::BlockingQueuedConnection);
    thread.quit();
    QVERIFY(thread.wait(5000));
}

void tst_EpollDispatcher::tcpEcho()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    QList<QTcpSocket *> accepted;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *peer = server.nextPendingConnection()) {
            accepted.append(peer);
            connect(peer, &QTcpSocket::readyRead, peer, [peer] { peer->write(peer->readAll()); });
        }
    });

    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QVERIFY(client.waitForConnected(5000) || client.state() == QAbstractSocket::ConnectedState);
    // 1,000 round trips of a 16-byte message, each sent when the previous echo is complete.
    const int rounds = 1000;
    int done = 0;
    QByteArray received;
    auto message = [](int i) { return QByteArray::number(i).rightJustified(16, '.'); };
    connect(&client, &QTcpSocket::readyRead, this, [&] {
        received += client.readAll();
        while (received.size() >= 16) {
            QCOMPARE(received.left(16), message(done));
            received.remove(0, 16);
            if (++done < rounds)
                client.write(message(done));
        }
    });
    QElapsedTimer clock;
    clock.start();
    client.write(message(0));
    QTRY_COMPARE_WITH_TIMEOUT(done, rounds, 30000);
    qInfo("%d TCP round trips in %lld ms", rounds, clock.elapsed());

    client.disconnectFromHost();
    QTRY_VERIFY(
        accepted.size() == 1 && accepted.first()->state() == QAbstractSocket::UnconnectedState);
    qDeleteAll(accepted);
}

void tst_EpollDispatcher::webSocketEcho()
{
    QWebSocketServer server(QStringLiteral("echo"), QWebSocketServer::NonSecureMode);
    QVERIFY(server.listen(QHostAddress::LocalHost));
    connect(&server, &QWebSocketServer::newConnection, this, [&] {
        while (QWebSocket *peer = server.nextPendingConnection()) {
            peer->setParent(&server);
            connect(peer, &QWebSocket::textMessageReceived, peer,
                [peer](const QString &text) { peer->sendTextMessage(text); });
            connect(peer, &QWebSocket::binaryMessageReceived, peer,
                [peer](const QByteArray &data) { peer->sendBinaryMessage(data); });
        }
    });

    QWebSocket client;
    const int rounds = 500;
    int done = 0;
    connect(&client, &QWebSocket::textMessageReceived, this, [&](const QString &text) {
        QCOMPARE(text, QString::number(done));
        if (++done < rounds)
            client.sendTextMessage(QString::number(done));
        else
            client.sendBinaryMessage(QByteArray(100000, 'b')); // larger than one socket write
    });
    bool gotBinary = false;
    connect(&client, &QWebSocket::binaryMessageReceived, this,
        [&](const QByteArray &data) { gotBinary = data == QByteArray(100000, 'b'); });
    connect(
        &client, &QWebSocket::connected, this, [&] { client.sendTextMessage(QString::number(0)); });
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(server.serverPort())));
    QTRY_COMPARE_WITH_TIMEOUT(done, rounds, 30000);
    QTRY_VERIFY(gotBinary);

    QSignalSpy closed(&client, &QWebSocket::disconnected);
    client.close();
    QTRY_COMPARE(closed.size(), 1);
}

// Not QTEST_MAIN: the dispatcher must be in place before QCoreApplication exists.
int main(int argc, char *argv[])
{
    EpollEventDispatcher::installForMainThread();
    QCoreApplication app(argc, argv);
    tst_EpollDispatcher test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epolldispatcher.moc"
