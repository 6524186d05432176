// RedisClient against a real Redis: Debian's redis-server, started on a free loopback port per
// test and killed at its end (also when the test fails; PR_SET_PDEATHSIG covers a crash).

#include "../common/redisserver.h"
#include "adapter/redisclient_p.h"

#include <QSocketIo/epolleventdispatcher.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qpointer.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <csignal>
#include <memory>
#include <optional>
#include <sys/prctl.h>

using namespace QSocketIo;
using namespace std::chrono_literals;
using namespace QSocketIoTest;

namespace {

RedisClientOptions optionsFor(quint16 port)
{
    RedisClientOptions o;
    o.port = port;
    o.connectTimeout = 1000ms;
    o.reconnectMin = 50ms;
    o.reconnectMax = 400ms;
    return o;
}

// A command's reply, waiting for it; nullopt when command() refused it or no reply came.
std::optional<RedisReply> run(RedisClient &client, const QList<QByteArray> &args, int ms = 5000)
{
    struct Wait
    {
        std::optional<RedisReply> reply;
        QPointer<QEventLoop> loop;
    };
    // Shared: the callback may still come after a timed-out wait.
    auto wait = std::make_shared<Wait>();
    const bool sent = client.command(args, [wait](const RedisReply &r) {
        wait->reply = r;
        if (wait->loop)
            wait->loop->quit();
    });
    if (!sent)
        return std::nullopt;
    if (!wait->reply) {
        QEventLoop loop;
        wait->loop = &loop;
        QTimer::singleShot(ms, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return wait->reply;
}

qint64 numsub(RedisClient &client, const QByteArray &channel)
{
    const auto r = run(client, {"PUBSUB", "NUMSUB", channel});
    if (!r || r->type != RedisReply::Type::Array || r->elements.size() != 2)
        return -1;
    return r->elements.at(1).integer;
}

qint64 numpat(RedisClient &client)
{
    const auto r = run(client, {"PUBSUB", "NUMPAT"});
    return r && r->type == RedisReply::Type::Integer ? r->integer : -1;
}

// Counts the warnings of the qsocketio.redis category (the others go on to the test log).
QtMessageHandler previousHandler = nullptr;
int redisWarnings = 0;
void countingHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type == QtWarningMsg && qstrcmp(context.category, "qsocketio.redis") == 0)
        ++redisWarnings;
    previousHandler(type, context, message);
}

} // namespace

class tst_RedisClient : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void replyTypes();
    void pipelining();
    void pubSub();
    void unsubscribeLastThenSubscribe();
    void subscriptionChurn();
    void databaseAndName();
    void redisDownAtStart();
    void redisKilledMidRun();
    void auth();
    void connectTimeout();
    void backoffAndOneWarningPerOutage();
    void closeAndReopen();
    void deleteFromSignals();
    void closeFromCallback();
    void deleteFromCallback();
    void deleteFromMessage();
    void destructionWithPendingCommands();
};

void tst_RedisClient::initTestCase()
{
    if (!QFile::exists(redisServerPath))
        QSKIP("redis-server is not installed (Debian: redis-server)");
}

void tst_RedisClient::replyTypes()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient client(optionsFor(server.port()));
    QVERIFY(!client.command({"PING"})); // not open
    client.open();
    QTRY_VERIFY(client.isReady());

    auto r = run(client, {"PING"});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Status);
    QCOMPARE(r->string, QByteArray("PONG"));

    const QByteArray key("key\0with\r\nbytes", 15);
    QByteArray value("\0\r\n\r\n$3\r\n*1\r\n", 14);
    value += QByteArray("\xff\xfe\x80", 3);
    r = run(client, {"SET", key, value});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Status);
    QCOMPARE(r->string, QByteArray("OK"));
    r = run(client, {"GET", key});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::String);
    QCOMPARE(r->string, value);
    r = run(client, {"STRLEN", key});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Integer);
    QCOMPARE(r->integer, value.size());

    r = run(client, {"DECRBY", "counter", "42"});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Integer);
    QCOMPARE(r->integer, -42);

    // Empty string and nil are different things.
    QVERIFY(run(client, {"SET", "empty", ""}));
    r = run(client, {"GET", "empty"});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::String);
    QVERIFY(r->string.isEmpty());
    r = run(client, {"GET", "missing"});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Nil);

    r = run(client, {"RPUSH", "list", "a", "", QByteArray("\0", 1)});
    QVERIFY(r);
    QCOMPARE(r->integer, 3);
    r = run(client, {"LRANGE", "list", "0", "-1"});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Array);
    QCOMPARE(r->elements.size(), 3);
    QCOMPARE(r->elements.at(0).string, QByteArray("a"));
    QCOMPARE(r->elements.at(1).type, RedisReply::Type::String);
    QCOMPARE(r->elements.at(1).string, QByteArray());
    QCOMPARE(r->elements.at(2).string, QByteArray("\0", 1));
    r = run(client, {"LRANGE", "nolist", "0", "-1"});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Array);
    QVERIFY(r->elements.isEmpty());

    // Nested arrays with every element type.
    r = run(client,
        {"EVAL", "return {7, 'str', {redis.status_reply('FINE'), false}, redis.error_reply('bad')}",
            "0"});
    QVERIFY(r);
    QCOMPARE(r->type, RedisReply::Type::Array);
    QCOMPARE(r->elements.size(), 4);
    QCOMPARE(r->elements.at(0).type, RedisReply::Type::Integer);
    QCOMPARE(r->elements.at(0).integer, 7);
    QCOMPARE(r->elements.at(1).type, RedisReply::Type::String);
    QCOMPARE(r->elements.at(1).string, QByteArray("str"));
    QCOMPARE(r->elements.at(2).type, RedisReply::Type::Array);
    QCOMPARE(r->elements.at(2).elements.at(0).type, RedisReply::Type::Status);
    QCOMPARE(r->elements.at(2).elements.at(0).string, QByteArray("FINE"));
    QCOMPARE(r->elements.at(2).elements.at(1).type, RedisReply::Type::Nil);
    QCOMPARE(r->elements.at(3).type, RedisReply::Type::Error);
    QVERIFY(r->elements.at(3).string.contains("bad"));

    r = run(client, {"NOSUCHCOMMAND", "x"});
    QVERIFY(r);
    QVERIFY(r->isError());
    QVERIFY2(r->string.toLower().contains("unknown command"), r->string.constData());
    r = run(client, {"INCR", "list"});
    QVERIFY(r);
    QVERIFY(r->isError());
    QVERIFY(r->string.startsWith("WRONGTYPE"));

    // A megabyte each way.
    QByteArray big(1 << 20, '\0');
    for (int i = 0; i < big.size(); ++i)
        big[i] = char(i * 7);
    QVERIFY(run(client, {"SET", "big", big}));
    r = run(client, {"GET", "big"});
    QVERIFY(r);
    QCOMPARE(r->string.size(), big.size());
    QVERIFY(r->string == big);

    // Subscription commands do not go through command().
    QVERIFY(!client.command({"SUBSCRIBE", "x"}));
    QVERIFY(!client.command({"psubscribe", "x"}));
    QVERIFY(!client.command({}));
    QVERIFY(client.isReady());
}

void tst_RedisClient::pipelining()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient client(optionsFor(server.port()));
    client.open();
    QTRY_VERIFY(client.isReady());

    const int count = 10000;
    QList<qint64> values;
    values.reserve(count);
    bool allIntegers = true;
    for (int i = 0; i < count; ++i) {
        QVERIFY(client.command({"INCR", "pipelined"}, [&](const RedisReply &r) {
            allIntegers = allIntegers && r.type == RedisReply::Type::Integer;
            values.append(r.integer);
        }));
    }
    // Fire-and-forget commands keep their place in the pipeline.
    QVERIFY(client.command({"SET", "after", "1"}));
    const auto last = run(client, {"GET", "pipelined"});
    QVERIFY(last);
    QCOMPARE(last->string, QByteArray::number(count));
    QCOMPARE(values.size(), count);
    QVERIFY(allIntegers);
    for (int i = 0; i < count; ++i)
        QCOMPARE(values.at(i), qint64(i + 1));
    QCOMPARE(run(client, {"GET", "after"})->string, QByteArray("1"));
}

void tst_RedisClient::pubSub()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient pub(optionsFor(server.port()));
    RedisClient sub(optionsFor(server.port()));
    RedisClient sub2(optionsFor(server.port()));
    pub.open();
    sub.open();
    sub2.open();
    QTRY_VERIFY(pub.isReady() && sub.isReady() && sub2.isReady());

    QSignalSpy subscribed(&sub, &RedisClient::subscribed);
    QSignalSpy messages(&sub, &RedisClient::message);
    QSignalSpy messages2(&sub2, &RedisClient::message);
    const QByteArray channel("room\0\r\n\xff", 8);
    const QByteArray pattern("news.*");
    QVERIFY(sub.isFullySubscribed()); // nothing asked yet
    sub.subscribe(channel);
    sub.subscribe(channel); // already in the set
    sub.psubscribe(pattern);
    QVERIFY(!sub.isFullySubscribed());
    QTRY_VERIFY(sub.isFullySubscribed());
    QCOMPARE(subscribed.count(), 2);
    QSet<QByteArray> confirmed {
        subscribed.at(0).at(0).toByteArray(), subscribed.at(1).at(0).toByteArray()};
    QCOMPARE(confirmed, (QSet<QByteArray> {channel, pattern}));

    // A subscriber connection takes no regular commands.
    QVERIFY(!sub.command({"PING"}));

    const QByteArray payload("\0\x01\r\n\x80\xff payload", 15);
    auto r = run(pub, {"PUBLISH", channel, payload});
    QVERIFY(r);
    QCOMPARE(r->integer, 1);
    QTRY_COMPARE(messages.count(), 1);
    QCOMPARE(messages.at(0).at(0).toByteArray(), QByteArray());
    QCOMPARE(messages.at(0).at(1).toByteArray(), channel);
    QCOMPARE(messages.at(0).at(2).toByteArray(), payload);

    r = run(pub, {"PUBLISH", "news.sports", QByteArray("\0goal", 5)});
    QVERIFY(r);
    QTRY_COMPARE(messages.count(), 2);
    QCOMPARE(messages.at(1).at(0).toByteArray(), pattern);
    QCOMPARE(messages.at(1).at(1).toByteArray(), QByteArray("news.sports"));
    QCOMPARE(messages.at(1).at(2).toByteArray(), QByteArray("\0goal", 5));

    // One subscription per client and channel, whatever the client was asked: the adapter
    // counts cluster members with NUMSUB.
    QCOMPARE(numsub(pub, channel), 1);
    sub2.subscribe(channel);
    QTRY_VERIFY(sub2.isFullySubscribed());
    QCOMPARE(numsub(pub, channel), 2);
    QCOMPARE(numpat(pub), 1);

    sub.unsubscribe(channel);
    QVERIFY(sub.isFullySubscribed()); // what is left is confirmed
    QTRY_COMPARE(numsub(pub, channel), 1);
    r = run(pub, {"PUBLISH", channel, "only sub2"});
    QVERIFY(r);
    QCOMPARE(r->integer, 1);
    QTRY_COMPARE(messages2.count(), 1);
    QCOMPARE(messages2.at(0).at(2).toByteArray(), QByteArray("only sub2"));
    QTest::qWait(50);
    QCOMPARE(messages.count(), 2);

    sub.punsubscribe(pattern);
    QTRY_COMPARE(numpat(pub), 0);
    // No subscription left: regular commands again, once Redis confirmed.
    std::optional<RedisReply> pong;
    QTRY_VERIFY(sub.command({"PING"}, [&](const RedisReply &reply) { pong = reply; }));
    QTRY_VERIFY(pong);
    QCOMPARE(pong->string, QByteArray("PONG"));
}

void tst_RedisClient::unsubscribeLastThenSubscribe()
{
    // hiredis 0.14 leaves subscriber mode on an unsubscribe reply that counts 0, even with a
    // SUBSCRIBE on its way: the client must not let that happen.
    RedisServer server;
    QVERIFY(server.start());
    RedisClient pub(optionsFor(server.port()));
    RedisClient sub(optionsFor(server.port()));
    pub.open();
    sub.open();
    QTRY_VERIFY(pub.isReady() && sub.isReady());
    QSignalSpy messages(&sub, &RedisClient::message);

    sub.subscribe("a");
    QTRY_VERIFY(sub.isFullySubscribed());
    sub.unsubscribe("a");
    sub.subscribe("b");
    sub.punsubscribe("nothing"); // not in the set: nothing sent
    QTRY_VERIFY(sub.isFullySubscribed());
    QCOMPARE(numsub(pub, "a"), 0);
    QCOMPARE(numsub(pub, "b"), 1);

    // The same name out and in again before Redis answered.
    sub.unsubscribe("b");
    sub.subscribe("b");
    sub.psubscribe("p*");
    sub.punsubscribe("p*");
    sub.psubscribe("p*");
    QTRY_VERIFY(sub.isFullySubscribed());
    QTRY_COMPARE(numsub(pub, "b"), 1);
    QCOMPARE(numpat(pub), 1);
    QVERIFY(run(pub, {"PUBLISH", "b", "1"}));
    QVERIFY(run(pub, {"PUBLISH", "pq", "2"}));
    QTRY_COMPARE(messages.count(), 2);
    QVERIFY(sub.isReady());
}

void tst_RedisClient::subscriptionChurn()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient pub(optionsFor(server.port()));
    RedisClient sub(optionsFor(server.port()));
    pub.open();
    sub.open();
    QTRY_VERIFY(pub.isReady() && sub.isReady());

    // Deterministic pseudo-random subscribe / unsubscribe bursts, some waiting for Redis.
    quint32 seed = 12345;
    auto next = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) & 0x7fff;
    };
    QSet<QByteArray> channels, patterns;
    for (int round = 0; round < 40; ++round) {
        for (int op = 0; op < 10; ++op) {
            const QByteArray name = "c" + QByteArray::number(next() % 6);
            const bool pattern = next() % 3 == 0;
            const bool add = next() % 2 == 0;
            QSet<QByteArray> &set = pattern ? patterns : channels;
            if (add) {
                set.insert(name);
                pattern ? sub.psubscribe(name) : sub.subscribe(name);
            } else {
                set.remove(name);
                pattern ? sub.punsubscribe(name) : sub.unsubscribe(name);
            }
        }
        if (round % 4 == 0)
            QTest::qWait(5);
    }
    QTRY_VERIFY(sub.isFullySubscribed());
    QVERIFY(sub.isReady());
    QTRY_COMPARE(numpat(pub), patterns.size());
    for (int i = 0; i < 6; ++i) {
        const QByteArray name = "c" + QByteArray::number(i);
        QCOMPARE(numsub(pub, name), channels.contains(name) ? 1 : 0);
    }
}

void tst_RedisClient::databaseAndName()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClientOptions o = optionsFor(server.port());
    o.database = 3;
    o.name = QStringLiteral("qsio test\n1"); // Redis refuses spaces: sanitized
    RedisClient db3(o);
    RedisClient db0(optionsFor(server.port()));
    db3.open();
    db0.open();
    QTRY_VERIFY(db3.isReady() && db0.isReady());
    QVERIFY(run(db3, {"SET", "where", "three"}));
    QCOMPARE(run(db0, {"GET", "where"})->type, RedisReply::Type::Nil);
    QCOMPARE(run(db3, {"GET", "where"})->string, QByteArray("three"));
    QCOMPARE(run(db3, {"CLIENT", "GETNAME"})->string, QByteArray("qsio_test_1"));

    // A subscriber skips SELECT and still becomes Ready.
    RedisClient sub(o);
    QSignalSpy messages(&sub, &RedisClient::message);
    sub.subscribe("db-agnostic");
    sub.open();
    QTRY_VERIFY(sub.isReady() && sub.isFullySubscribed());
    QVERIFY(run(db0, {"PUBLISH", "db-agnostic", "x"}));
    QTRY_COMPARE(messages.count(), 1);
}

void tst_RedisClient::redisDownAtStart()
{
    const quint16 port = freePort();
    QVERIFY(port);
    RedisClient client(optionsFor(port));
    RedisClient sub(optionsFor(port));
    QSignalSpy disconnected(&client, &RedisClient::disconnected);
    QSignalSpy states(&client, &RedisClient::stateChanged);
    QSignalSpy ready(&client, &RedisClient::ready);
    QSignalSpy messages(&sub, &RedisClient::message);
    sub.subscribe("events");
    client.open();
    sub.open();
    QCOMPARE(client.state(), RedisClient::State::Connecting);
    QCOMPARE(disconnected.count(), 0); // open() itself reports nothing
    QTRY_VERIFY(disconnected.count() >= 2); // retries
    QVERIFY2(disconnected.at(0).at(0).toString().contains(QLatin1String("refused")),
        qPrintable(disconnected.at(0).at(0).toString()));
    QCOMPARE(client.lastError(), disconnected.last().at(0).toString());
    QCOMPARE(client.state(), RedisClient::State::Connecting);
    QCOMPARE(states.count(), 1); // Connecting, and no flapping while down
    QVERIFY(!client.command({"PING"}));
    QVERIFY(!sub.isFullySubscribed());

    RedisServer server;
    QVERIFY(server.start(port));
    QTRY_VERIFY(client.isReady());
    QTRY_VERIFY(sub.isReady() && sub.isFullySubscribed());
    QCOMPARE(ready.count(), 1);
    QCOMPARE(states.count(), 2);
    QCOMPARE(states.at(1).at(0).value<RedisClient::State>(), RedisClient::State::Ready);
    QVERIFY(run(client, {"PUBLISH", "events", "hello"}));
    QTRY_COMPARE(messages.count(), 1);
    QCOMPARE(messages.at(0).at(2).toByteArray(), QByteArray("hello"));
}

void tst_RedisClient::redisKilledMidRun()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient client(optionsFor(server.port()));
    RedisClient sub(optionsFor(server.port()));
    QSignalSpy disconnected(&client, &RedisClient::disconnected);
    QSignalSpy subDisconnected(&sub, &RedisClient::disconnected);
    QSignalSpy subReady(&sub, &RedisClient::ready);
    QSignalSpy messages(&sub, &RedisClient::message);
    sub.subscribe("ch");
    sub.psubscribe("pat.*");
    client.open();
    sub.open();
    QTRY_VERIFY(client.isReady() && sub.isReady() && sub.isFullySubscribed());

    // A command Redis holds on to, and more queued behind it: all of them must get their call.
    std::optional<RedisReply> blpop;
    QVERIFY(client.command({"BLPOP", "nothing", "5"}, [&](const RedisReply &r) {
        QVERIFY(!blpop); // exactly once
        blpop = r;
        // The connection is already gone for whoever looks.
        QVERIFY(!client.isReady());
    }));
    int errors = 0;
    int calls = 0;
    for (int i = 0; i < 100; ++i) {
        QVERIFY(client.command({"GET", "x"}, [&](const RedisReply &r) {
            ++calls;
            errors += r.isError() && r.string.startsWith("connection lost: ");
        }));
    }
    QTest::qWait(100); // all written, BLPOP blocking
    QVERIFY(!blpop);

    server.stop();
    QTRY_VERIFY(blpop);
    QVERIFY(blpop->isError());
    QVERIFY2(blpop->string.startsWith("connection lost: "), blpop->string.constData());
    QCOMPARE(calls, 100);
    QCOMPARE(errors, 100);
    QTRY_VERIFY(disconnected.count() >= 1);
    QTRY_VERIFY(subDisconnected.count() >= 1);
    QVERIFY(!disconnected.at(0).at(0).toString().isEmpty());
    QCOMPARE(client.state(), RedisClient::State::Connecting);
    QVERIFY(!client.command({"PING"}));
    QVERIFY(!sub.isFullySubscribed());
    QTRY_VERIFY(disconnected.count() >= 2); // failed attempts while down

    QVERIFY(server.restart());
    QTRY_VERIFY(client.isReady());
    QTRY_VERIFY(sub.isReady() && sub.isFullySubscribed());
    QCOMPARE(subReady.count(), 2);
    QCOMPARE(numsub(client, "ch"), 1);
    QCOMPARE(numpat(client), 1);
    QVERIFY(run(client, {"PUBLISH", "ch", "again"}));
    QVERIFY(run(client, {"PUBLISH", "pat.x", "too"}));
    QTRY_COMPARE(messages.count(), 2);
    QCOMPARE(messages.at(0).at(2).toByteArray(), QByteArray("again"));
    QCOMPARE(messages.at(1).at(0).toByteArray(), QByteArray("pat.*"));
}

void tst_RedisClient::auth()
{
    RedisServer server;
    QVERIFY(server.start(0, {QStringLiteral("--requirepass"), QStringLiteral("s3cret")}));

    RedisClientOptions good = optionsFor(server.port());
    good.password = QStringLiteral("s3cret");
    good.name = QStringLiteral("authed");
    RedisClient client(good);
    client.open();
    QTRY_VERIFY(client.isReady());
    QCOMPARE(run(client, {"CLIENT", "GETNAME"})->string, QByteArray("authed"));

    // Redis 6 ACL form.
    RedisClientOptions acl = good;
    acl.username = QStringLiteral("default");
    RedisClient aclClient(acl);
    aclClient.psubscribe("x*");
    aclClient.open();
    QTRY_VERIFY(aclClient.isReady() && aclClient.isFullySubscribed());

    RedisClientOptions bad = optionsFor(server.port());
    bad.password = QStringLiteral("wrong");
    RedisClient badClient(bad);
    QSignalSpy ready(&badClient, &RedisClient::ready);
    QSignalSpy disconnected(&badClient, &RedisClient::disconnected);
    badClient.open();
    QTRY_VERIFY(disconnected.count() >= 2); // and it keeps trying
    QCOMPARE(ready.count(), 0);
    QVERIFY(!badClient.isReady());
    QVERIFY2(badClient.lastError().startsWith(QLatin1String("AUTH failed: ")),
        qPrintable(badClient.lastError()));
    QVERIFY(disconnected.at(0).at(0).toString().startsWith(QLatin1String("AUTH failed: ")));
    QVERIFY(!badClient.command({"PING"}));
}

void tst_RedisClient::connectTimeout()
{
    { // A peer that accepts the connection and never answers: only the timeout ends it.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        RedisClientOptions o = optionsFor(silent.serverPort());
        o.connectTimeout = 300ms;
        RedisClient client(o);
        QSignalSpy disconnected(&client, &RedisClient::disconnected);
        QSignalSpy ready(&client, &RedisClient::ready);
        QElapsedTimer clock;
        clock.start();
        client.open();
        QTRY_VERIFY_WITH_TIMEOUT(disconnected.count() >= 1, 3000);
        const qint64 elapsed = clock.elapsed();
        QVERIFY2(elapsed >= 250 && elapsed < 2000, qPrintable(QString::number(elapsed)));
        QVERIFY2(
            client.lastError().contains(QLatin1String("timeout")), qPrintable(client.lastError()));
        QVERIFY(silent.hasPendingConnections());
        QTRY_VERIFY_WITH_TIMEOUT(disconnected.count() >= 2, 3000); // and tries again
        QCOMPARE(ready.count(), 0);
        QCOMPARE(client.state(), RedisClient::State::Connecting);
    }
    { // A non-routable address: the SYN goes unanswered (the timeout), connect() fails at once
        // without a route, or a sandbox proxy accepts and does not speak Redis. Never a hang, never
        // Ready.
        RedisClientOptions o = optionsFor(6379);
        o.host = QStringLiteral("10.255.255.1");
        o.connectTimeout = 300ms;
        RedisClient client(o);
        QSignalSpy disconnected(&client, &RedisClient::disconnected);
        QSignalSpy ready(&client, &RedisClient::ready);
        QElapsedTimer clock;
        clock.start();
        client.open();
        QTRY_VERIFY_WITH_TIMEOUT(disconnected.count() >= 1, 3000);
        QVERIFY(clock.elapsed() < 2000);
        QVERIFY(!client.lastError().isEmpty());
        QCOMPARE(client.state(), RedisClient::State::Connecting);
        QCOMPARE(ready.count(), 0);
        client.close();
        QCOMPARE(client.state(), RedisClient::State::Closed);
    }
}

void tst_RedisClient::backoffAndOneWarningPerOutage()
{
    const quint16 port = freePort();
    QVERIFY(port);
    RedisClientOptions o = optionsFor(port);
    o.reconnectMin = 50ms;
    o.reconnectMax = 300ms;
    RedisClient client(o);
    QList<qint64> at;
    QElapsedTimer clock;
    connect(&client, &RedisClient::disconnected, this, [&] { at.append(clock.elapsed()); });

    redisWarnings = 0;
    previousHandler = qInstallMessageHandler(countingHandler);
    clock.start();
    client.open();
    QTest::qWait(1500);
    qInstallMessageHandler(previousHandler);

    // 0, 50, 150, 350, 650, 950, 1250 ms: about seven attempts, the gaps doubling up to the max.
    QVERIFY2(at.size() >= 4 && at.size() <= 10, qPrintable(QString::number(at.size())));
    QVERIFY(at.at(2) - at.at(1) > at.at(1) - at.at(0));
    const qint64 lastGap = at.at(at.size() - 1) - at.at(at.size() - 2);
    QVERIFY2(lastGap >= 250 && lastGap < 900, qPrintable(QString::number(lastGap)));
    QCOMPARE(redisWarnings, 1);

    // Back, then down again: a new outage, a new warning.
    RedisServer server;
    QVERIFY(server.start(port));
    QTRY_VERIFY(client.isReady());
    previousHandler = qInstallMessageHandler(countingHandler);
    server.stop();
    QTRY_VERIFY(!client.isReady());
    QTest::qWait(400);
    qInstallMessageHandler(previousHandler);
    QCOMPARE(redisWarnings, 2);
}

void tst_RedisClient::closeAndReopen()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient client(optionsFor(server.port()));
    QSignalSpy states(&client, &RedisClient::stateChanged);
    QSignalSpy disconnected(&client, &RedisClient::disconnected);
    client.open();
    QTRY_VERIFY(client.isReady());

    QList<QByteArray> replies;
    QVERIFY(client.command({"BLPOP", "nothing", "5"},
        [&](const RedisReply &r) { replies.append(r.isError() ? r.string : "?"); }));
    QVERIFY(client.command(
        {"PING"}, [&](const RedisReply &r) { replies.append(r.isError() ? r.string : "?"); }));
    client.close();
    // Answered before close() returned.
    QCOMPARE(replies, (QList<QByteArray> {"connection closed", "connection closed"}));
    QCOMPARE(client.state(), RedisClient::State::Closed);
    QCOMPARE(states.last().at(0).value<RedisClient::State>(), RedisClient::State::Closed);
    QVERIFY(!client.command({"PING"}));
    QTest::qWait(200);
    QCOMPARE(client.state(), RedisClient::State::Closed); // no reconnecting
    QCOMPARE(disconnected.count(), 0);
    client.close(); // twice is fine

    client.open();
    QTRY_VERIFY(client.isReady());
    QCOMPARE(run(client, {"PING"})->string, QByteArray("PONG"));
}

void tst_RedisClient::deleteFromSignals()
{
    RedisServer server;
    QVERIFY(server.start());
    const RedisClientOptions o = optionsFor(server.port());

    { // in stateChanged(Connecting), from open()
        QPointer<RedisClient> c = new RedisClient(o);
        connect(c, &RedisClient::stateChanged, c, [&c] { delete c; });
        c->open();
        QVERIFY(!c);
    }
    { // in ready()
        QPointer<RedisClient> c = new RedisClient(o);
        connect(c, &RedisClient::ready, c, [&c] { delete c; });
        c->subscribe("x");
        c->open();
        QTRY_VERIFY(!c);
    }
    { // in subscribed()
        QPointer<RedisClient> c = new RedisClient(o);
        connect(c, &RedisClient::subscribed, c, [&c] { delete c; });
        c->subscribe("x");
        c->subscribe("y");
        c->open();
        QTRY_VERIFY(!c);
    }
    { // close() in ready(): stays closed
        RedisClient c(o);
        QSignalSpy ready(&c, &RedisClient::ready);
        connect(&c, &RedisClient::ready, &c, [&c] { c.close(); });
        c.subscribe("x");
        c.open();
        QTRY_COMPARE(ready.count(), 1);
        QCOMPARE(c.state(), RedisClient::State::Closed);
        QTest::qWait(150);
        QCOMPARE(c.state(), RedisClient::State::Closed);
        QCOMPARE(ready.count(), 1);
    }
    { // in disconnected(), Redis down
        QPointer<RedisClient> c = new RedisClient(optionsFor(freePort()));
        connect(c, &RedisClient::disconnected, c, [&c] { delete c; });
        c->open();
        QTRY_VERIFY(!c);
    }
    { // close() and open() again in disconnected(), Redis down
        RedisClient c(optionsFor(freePort()));
        int count = 0;
        connect(&c, &RedisClient::disconnected, &c, [&] {
            ++count;
            c.close();
            if (count < 3)
                c.open();
        });
        c.open();
        QTRY_COMPARE(count, 3);
        QCOMPARE(c.state(), RedisClient::State::Closed);
    }
    { // in stateChanged(Connecting) when Redis goes away
        RedisServer other;
        QVERIFY(other.start());
        QPointer<RedisClient> c = new RedisClient(optionsFor(other.port()));
        c->open();
        QTRY_VERIFY(c->isReady());
        bool pendingCalled = false;
        QVERIFY(c->command(
            {"BLPOP", "nothing", "5"}, [&](const RedisReply &) { pendingCalled = true; }));
        connect(c, &RedisClient::stateChanged, c, [&c](RedisClient::State s) {
            if (s == RedisClient::State::Connecting)
                delete c;
        });
        QTest::qWait(50);
        other.stop();
        QTRY_VERIFY(!c);
        QVERIFY(pendingCalled);
    }
}

void tst_RedisClient::closeFromCallback()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient client(optionsFor(server.port()));
    client.open();
    QTRY_VERIFY(client.isReady());

    QList<QByteArray> order;
    QList<QByteArray> seenInFirst;
    QVERIFY(client.command({"PING"}, [&](const RedisReply &r) {
        order.append(r.string);
        client.close();
        // Everything after was answered inside close().
        seenInFirst = order;
    }));
    for (int i = 0; i < 3; ++i) {
        QVERIFY(client.command(
            {"BLPOP", "nothing", "5"}, [&](const RedisReply &r) { order.append(r.string); }));
    }
    QTRY_COMPARE(order.size(), 4);
    QCOMPARE(order.at(0), QByteArray("PONG"));
    QCOMPARE(seenInFirst.size(), 4);
    for (int i = 1; i < 4; ++i)
        QCOMPARE(order.at(i), QByteArray("connection closed"));
    QTest::qWait(50);
    QCOMPARE(order.size(), 4);

    // close() and open() again from a callback.
    client.open();
    QTRY_VERIFY(client.isReady());
    bool reopened = false;
    QVERIFY(client.command({"PING"}, [&](const RedisReply &) {
        client.close();
        client.open();
        reopened = true;
    }));
    QTRY_VERIFY(reopened);
    QTRY_VERIFY(client.isReady());
    QCOMPARE(run(client, {"PING"})->string, QByteArray("PONG"));
}

void tst_RedisClient::deleteFromCallback()
{
    RedisServer server;
    QVERIFY(server.start());
    QPointer<RedisClient> client = new RedisClient(optionsFor(server.port()));
    client->open();
    QTRY_VERIFY(client->isReady());

    // The first reply deletes the client; the others, in the same read or not, are still
    // answered exactly once each.
    QList<int> calls(50, 0);
    QList<bool> isError(50, false);
    for (int i = 0; i < 50; ++i) {
        QVERIFY(client->command({"PING"}, [&, i](const RedisReply &r) {
            ++calls[i];
            isError[i] = r.isError();
            if (i == 0)
                delete client;
        }));
    }
    QTRY_VERIFY(!client);
    QTest::qWait(50);
    for (int i = 0; i < 50; ++i)
        QCOMPARE(calls.at(i), 1);
    QVERIFY(!isError.at(0));
}

void tst_RedisClient::deleteFromMessage()
{
    RedisServer server;
    QVERIFY(server.start());
    RedisClient pub(optionsFor(server.port()));
    QPointer<RedisClient> sub = new RedisClient(optionsFor(server.port()));
    sub->subscribe("ch");
    sub->psubscribe("c*");
    int messages = 0;
    connect(sub, &RedisClient::message, sub, [&] {
        ++messages;
        delete sub;
    });
    pub.open();
    sub->open();
    QTRY_VERIFY(pub.isReady() && sub->isReady() && sub->isFullySubscribed());
    // Several messages in one read: the first deletes the client.
    for (int i = 0; i < 20; ++i)
        QVERIFY(pub.command({"PUBLISH", "ch", QByteArray::number(i)}));
    QTRY_VERIFY(!sub);
    QTest::qWait(50);
    QCOMPARE(messages, 1);
    QTRY_COMPARE(numsub(pub, "ch"), 0);

    // close() from message(): the rest of that read is dropped; open() subscribes again.
    RedisClient closing(optionsFor(server.port()));
    closing.subscribe("ch");
    QList<QByteArray> payloads;
    bool closeOnMessage = true;
    connect(&closing, &RedisClient::message, &closing,
        [&](const QByteArray &, const QByteArray &, const QByteArray &payload) {
            payloads.append(payload);
            if (closeOnMessage)
                closing.close();
        });
    closing.open();
    QTRY_VERIFY(closing.isReady() && closing.isFullySubscribed());
    for (int i = 0; i < 20; ++i)
        QVERIFY(pub.command({"PUBLISH", "ch", QByteArray::number(i)}));
    QTRY_COMPARE(closing.state(), RedisClient::State::Closed);
    QTest::qWait(50);
    QCOMPARE(payloads, QList<QByteArray> {"0"});
    closeOnMessage = false;
    closing.open();
    QTRY_VERIFY(closing.isReady() && closing.isFullySubscribed());
    QVERIFY(run(pub, {"PUBLISH", "ch", "back"}));
    QTRY_COMPARE(payloads.size(), 2);
    QCOMPARE(payloads.at(1), QByteArray("back"));
}

void tst_RedisClient::destructionWithPendingCommands()
{
    RedisServer server;
    QVERIFY(server.start());
    int calls = 0;
    int closedErrors = 0;
    auto count = [&](const RedisReply &r) {
        ++calls;
        closedErrors += r.isError() && r.string == "connection closed";
    };

    { // nothing answered yet
        RedisClient client(optionsFor(server.port()));
        client.open();
        QTRY_VERIFY(client.isReady());
        QVERIFY(client.command({"BLPOP", "nothing", "5"}, count));
        for (int i = 0; i < 1000; ++i)
            QVERIFY(client.command({"INCR", "n"}, count));
    }
    QCOMPARE(calls, 1001);
    QCOMPARE(closedErrors, 1001);

    { // partly answered, next to a subscriber
        calls = 0;
        auto sub = std::make_unique<RedisClient>(optionsFor(server.port()));
        sub->subscribe("x");
        auto client = std::make_unique<RedisClient>(optionsFor(server.port()));
        client->open();
        sub->open();
        QTRY_VERIFY(client->isReady() && sub->isReady() && sub->isFullySubscribed());
        for (int i = 0; i < 20000; ++i)
            QVERIFY(client->command({"INCR", "m"}, count));
        QTRY_VERIFY(calls > 0);
        client.reset();
        QCOMPARE(calls, 20000);
        sub.reset();
    }

    { // while connecting, and while retrying
        RedisClient connecting(optionsFor(server.port()));
        connecting.open();
        RedisClient retrying(optionsFor(freePort()));
        retrying.open();
        QTest::qWait(120);
    }
}

// Not QTEST_MAIN: with QSIO_TEST_EPOLL=1 the notifiers run on QSocketIo's epoll dispatcher, which
// must be in place before QCoreApplication exists.
int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIntValue("QSIO_TEST_EPOLL"))
        EpollEventDispatcher::installForMainThread();
    QCoreApplication app(argc, argv);
    tst_RedisClient test;
    return QTest::qExec(&test, argc, argv);
}
#include "tst_redisclient.moc"
