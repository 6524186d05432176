// The per-thread deadline scheduler that replaces QBasicTimer inside the engine: order,
// re-entrancy from callbacks, owners that go away, and many timers at once.

#include "engine/deadlinetimers_p.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qthread.h>
#include <QtTest/qtest.h>

#include <memory>
#include <vector>

using namespace QSocketIo;
using namespace std::chrono_literals;

class tst_DeadlineTimers : public QObject
{
    Q_OBJECT
private slots:
    void firesOnceAfterInterval();
    void ordersByDeadline();
    void equalDeadlinesKeepStartOrder();
    void stopBeforeFiring();
    void restartPostpones();
    void stopOwnInsideCallback();
    void stopOtherInsideCallback();
    void restartInsideCallback();
    void zeroIntervalWaitsForNextTurn();
    void ownerDestroyedInsideCallback();
    void otherOwnerDestroyedInsideCallback();
    void ownerDestroyedWhilePending();
    void earlierDeadlineRearms();
    void manyTimers();
    void perThread();
};

void tst_DeadlineTimers::firesOnceAfterInterval()
{
    int fired = 0;
    QElapsedTimer clock;
    qint64 at = -1;
    DeadlineTimer timer([&] {
        ++fired;
        at = clock.elapsed();
    });
    clock.start();
    timer.start(50ms);
    QVERIFY(timer.isActive());
    QTRY_COMPARE(fired, 1);
    QVERIFY(!timer.isActive());
    QVERIFY2(at >= 50, qPrintable(QString::number(at)));
    QTest::qWait(100);
    QCOMPARE(fired, 1); // one-shot
}

void tst_DeadlineTimers::ordersByDeadline()
{
    QList<int> order;
    DeadlineTimer a([&] { order.append(1); });
    DeadlineTimer b([&] { order.append(2); });
    DeadlineTimer c([&] { order.append(3); });
    c.start(60ms);
    a.start(20ms);
    b.start(40ms);
    QTRY_COMPARE(order.size(), 3);
    QCOMPARE(order, QList<int>({1, 2, 3}));
}

void tst_DeadlineTimers::equalDeadlinesKeepStartOrder()
{
    QList<int> order;
    std::vector<std::unique_ptr<DeadlineTimer>> timers;
    for (int i = 0; i < 20; ++i)
        timers.push_back(std::make_unique<DeadlineTimer>([&order, i] { order.append(i); }));
    // One event-loop turn fires them all: the deadlines differ by nanoseconds at most, and
    // those started later never come before those started earlier.
    for (auto &t : timers)
        t->start(10ms);
    QTRY_COMPARE(order.size(), 20);
    for (int i = 0; i < 20; ++i)
        QCOMPARE(order.at(i), i);
}

void tst_DeadlineTimers::stopBeforeFiring()
{
    int fired = 0;
    DeadlineTimer timer([&] { ++fired; });
    timer.start(20ms);
    timer.stop();
    QVERIFY(!timer.isActive());
    timer.stop(); // twice is harmless
    QTest::qWait(80);
    QCOMPARE(fired, 0);
}

void tst_DeadlineTimers::restartPostpones()
{
    int fired = 0;
    QElapsedTimer clock;
    qint64 at = -1;
    DeadlineTimer timer([&] {
        ++fired;
        at = clock.elapsed();
    });
    clock.start();
    timer.start(30ms);
    QTest::qWait(15);
    timer.start(60ms); // from now: at 75 ms or later
    QTRY_COMPARE(fired, 1);
    QVERIFY2(at >= 75, qPrintable(QString::number(at)));
    QTest::qWait(60);
    QCOMPARE(fired, 1);
}

void tst_DeadlineTimers::stopOwnInsideCallback()
{
    int fired = 0;
    std::unique_ptr<DeadlineTimer> timer;
    timer = std::make_unique<DeadlineTimer>([&] {
        ++fired;
        timer->stop(); // already inactive: a no-op, as QBasicTimer::stop() in timerEvent
        QVERIFY(!timer->isActive());
    });
    timer->start(10ms);
    QTRY_COMPARE(fired, 1);
    QTest::qWait(50);
    QCOMPARE(fired, 1);
}

void tst_DeadlineTimers::stopOtherInsideCallback()
{
    int firedA = 0;
    int firedB = 0;
    DeadlineTimer b([&] { ++firedB; });
    DeadlineTimer a([&] {
        ++firedA;
        b.stop();
    });
    // Both due in the same turn: a runs first and stops b before its turn comes.
    a.start(10ms);
    b.start(10ms);
    QTRY_COMPARE(firedA, 1);
    QTest::qWait(50);
    QCOMPARE(firedB, 0);
    QVERIFY(!b.isActive());
}

void tst_DeadlineTimers::restartInsideCallback()
{
    int fired = 0;
    std::unique_ptr<DeadlineTimer> timer;
    timer = std::make_unique<DeadlineTimer>([&] {
        if (++fired < 3)
            timer->start(10ms);
    });
    timer->start(10ms);
    QTRY_COMPARE(fired, 3);
    QVERIFY(!timer->isActive());
    QTest::qWait(50);
    QCOMPARE(fired, 3);
}

void tst_DeadlineTimers::zeroIntervalWaitsForNextTurn()
{
    int fired = 0;
    std::unique_ptr<DeadlineTimer> timer;
    timer = std::make_unique<DeadlineTimer>([&] {
        ++fired;
        timer->start(0ms); // must not run again inside this dispatch
    });
    timer->start(0ms);
    QCOMPARE(fired, 0); // never inside the caller
    QCoreApplication::processEvents();
    QTRY_VERIFY(fired >= 1);
    const int seen = fired;
    QVERIFY(timer->isActive());
    QTRY_VERIFY(fired > seen); // and it comes back on a later turn
    timer->stop();
}

// An owner in the shape of EngineSocketPrivate: its timers are members.
struct Owner
{
    std::function<void(Owner *)> onFire;
    DeadlineTimer timer {[this] { onFire(this); }};
    DeadlineTimer second {[this] { onFire(this); }};
};

void tst_DeadlineTimers::ownerDestroyedInsideCallback()
{
    int fired = 0;
    auto *owner = new Owner;
    owner->onFire = [&](Owner *self) {
        ++fired;
        delete self;
    };
    owner->timer.start(10ms);
    owner->second.start(10ms); // goes with its owner before its turn comes
    QTRY_COMPARE(fired, 1);
    QTest::qWait(50);
    QCOMPARE(fired, 1);
}

void tst_DeadlineTimers::otherOwnerDestroyedInsideCallback()
{
    int firedVictim = 0;
    auto *victim = new Owner;
    victim->onFire = [&](Owner *) { ++firedVictim; };
    Owner killer;
    killer.onFire = [&](Owner *) {
        delete victim;
        victim = nullptr;
    };
    killer.timer.start(10ms);
    victim->timer.start(10ms);
    victim->second.start(15ms);
    QTRY_VERIFY(!victim);
    QTest::qWait(50);
    QCOMPARE(firedVictim, 0);
}

void tst_DeadlineTimers::ownerDestroyedWhilePending()
{
    int fired = 0;
    DeadlineTimer survivor([&] { ++fired; });
    {
        Owner owner;
        owner.onFire = [&](Owner *) { fired += 100; };
        owner.timer.start(10ms);
        survivor.start(20ms);
    }
    QTRY_COMPARE(fired, 1);
    QTest::qWait(30);
    QCOMPARE(fired, 1);
}

void tst_DeadlineTimers::earlierDeadlineRearms()
{
    QElapsedTimer clock;
    qint64 shortAt = -1;
    DeadlineTimer late([] {});
    DeadlineTimer early([&] { shortAt = clock.elapsed(); });
    clock.start();
    late.start(5000ms); // the Qt timer is armed for it first
    early.start(20ms);
    QTRY_VERIFY(shortAt >= 0);
    QVERIFY2(shortAt >= 20 && shortAt < 1000, qPrintable(QString::number(shortAt)));
    QVERIFY(late.isActive());
}

void tst_DeadlineTimers::manyTimers()
{
    constexpr int count = 100000;
    std::vector<int> fired(count, 0);
    std::vector<std::unique_ptr<DeadlineTimer>> timers;
    timers.reserve(count);
    for (int i = 0; i < count; ++i)
        timers.push_back(std::make_unique<DeadlineTimer>([&fired, i] { ++fired[i]; }));
    // All started, then every odd one stopped and every multiple of 4 restarted.
    for (int i = 0; i < count; ++i)
        timers[i]->start(std::chrono::milliseconds(20 + i % 50));
    for (int i = 1; i < count; i += 2)
        timers[i]->stop();
    for (int i = 0; i < count; i += 4)
        timers[i]->start(std::chrono::milliseconds(10 + i % 30));
    // Every fourth of the rest goes with its owner before firing.
    for (int i = 2; i < count; i += 8)
        timers[i].reset();
    auto pending = [&] {
        int n = 0;
        for (const auto &t : timers)
            n += t && t->isActive();
        return n;
    };
    QTRY_COMPARE_WITH_TIMEOUT(pending(), 0, 30000);
    for (int i = 0; i < count; ++i) {
        const bool expected = i % 2 == 0 && (i % 8 != 2);
        QCOMPARE(fired[i], expected ? 1 : 0);
    }
}

void tst_DeadlineTimers::perThread()
{
    // A worker thread's timers run in that thread, on its own event loop.
    QThread worker;
    QObject context; // runs the test's code in the worker
    context.moveToThread(&worker);
    worker.start();
    std::atomic<int> fired {0};
    std::atomic<QThread *> ranIn {nullptr};
    DeadlineTimer *timer = nullptr;
    QMetaObject::invokeMethod(
        &context,
        [&] {
            timer = new DeadlineTimer([&] {
                ranIn = QThread::currentThread();
                ++fired;
            });
            timer->start(10ms);
        },
        Qt::BlockingQueuedConnection);
    int mainFired = 0;
    DeadlineTimer here([&] { ++mainFired; });
    here.start(10ms);
    QTRY_COMPARE(fired.load(), 1);
    QTRY_COMPARE(mainFired, 1);
    QCOMPARE(ranIn.load(), &worker);
    QMetaObject::invokeMethod(
        &context, [&] { delete timer; }, Qt::BlockingQueuedConnection);
    worker.quit();
    worker.wait();
}

QTEST_GUILESS_MAIN(tst_DeadlineTimers)
#include "tst_deadlinetimers.moc"
