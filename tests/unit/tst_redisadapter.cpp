// RedisAdapter in one process, against a private redis-server: what the interop tests cannot
// reach from outside (lifetimes, the moment a server joins, warnings), and option parsing.

#include "../common/redisserver.h"
#include "adapter/redisclient_p.h"

#include <QSocketIo/redisadapter.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qpointer.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

using namespace QSocketIo;
using namespace QSocketIoTest;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 10000;

RedisAdapter *redisAdapter(Namespace *nsp)
{
    return qobject_cast<RedisAdapter *>(nsp->adapter());
}

// PUBSUB NUMSUB of a channel, through a client of its own.
int numSub(quint16 port, const QByteArray &channel)
{
    RedisClientOptions o;
    o.port = port;
    RedisClient client(o);
    client.open();
    if (!QTest::qWaitFor([&] { return client.isReady(); }, kWait))
        return -1;
    int count = -1;
    bool done = false;
    client.command({"PUBSUB", "NUMSUB", channel}, [&](const RedisReply &r) {
        if (r.type == RedisReply::Type::Array && r.elements.size() == 2)
            count = int(r.elements.at(1).integer);
        done = true;
    });
    return QTest::qWaitFor([&] { return done; }, kWait) ? count : -1;
}

// A subscriber of namespaces' request channels that never answers: a server that stays silent.
std::unique_ptr<RedisClient> silentPeer(quint16 port, const QList<QByteArray> &namespaces)
{
    RedisClientOptions o;
    o.port = port;
    auto client = std::make_unique<RedisClient>(o);
    for (const QByteArray &nsp : namespaces)
        client->subscribe("socket.io-request#" + nsp + '#');
    client->open();
    if (!QTest::qWaitFor([&] { return client->isFullySubscribed() && client->isReady(); }, kWait))
        return nullptr;
    return client;
}

SocketServerOptions clusterOptions(quint16 port)
{
    RedisAdapterOptions redis;
    redis.port = port;
    redis.requestsTimeout = 3s;
    SocketServerOptions options;
    options.adapterFactory = RedisAdapter::factory(redis);
    return options;
}

// Counts the warnings of the qsocketio.redis category while it lives.
class WarningCounter
{
public:
    WarningCounter()
    {
        s_count = 0;
        m_previous = qInstallMessageHandler(
            [](QtMsgType type, const QMessageLogContext &context, const QString &) {
                if (type == QtWarningMsg && qstrcmp(context.category, "qsocketio.redis") == 0)
                    ++s_count;
            });
    }
    ~WarningCounter() { qInstallMessageHandler(m_previous); }
    int count() const { return s_count; }

private:
    static inline int s_count = 0;
    QtMessageHandler m_previous;
};

} // namespace

class tst_RedisAdapter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void setAddress_data();
    void setAddress();
    void oneSubscriberPerServer();
    void sameNamespaceTwice();
    void notCountedBeforeSubscribed();
    void pendingRequestsAnsweredWhileServerWhole();
    void oneWarningPerSecondWhileDown();
};

void tst_RedisAdapter::initTestCase()
{
    if (!QFileInfo(redisServerPath).isExecutable())
        QSKIP("redis-server is not installed (Debian: redis-server)");
}

void tst_RedisAdapter::setAddress_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::newRow("host:port") << u"10.0.0.5:7000"_s << true << u"10.0.0.5"_s << 7000 << QString()
                               << QString();
    QTest::newRow("host") << u"redis"_s << true << u"redis"_s << 6379 << QString() << QString();
    QTest::newRow("url") << u"redis://app:s3cret@cache.local:6380"_s << true << u"cache.local"_s
                         << 6380 << u"app"_s << u"s3cret"_s;
    QTest::newRow("password only")
        << u"redis://:pw@127.0.0.1"_s << true << u"127.0.0.1"_s << 6379 << QString() << u"pw"_s;
    QTest::newRow("ipv6") << u"[::1]:6390"_s << true << u"::1"_s << 6390 << QString() << QString();
    QTest::newRow("empty") << QString() << false << QString() << 0 << QString() << QString();
    QTest::newRow("bad port") << u"host:99999"_s << false << QString() << 0 << QString()
                              << QString();
    QTest::newRow("other scheme") << u"http://host:80"_s << false << QString() << 0 << QString()
                                  << QString();
    QTest::newRow("a path") << u"redis://host:1/2/3"_s << false << QString() << 0 << QString()
                            << QString();
}

void tst_RedisAdapter::setAddress()
{
    QFETCH(QString, address);
    QFETCH(bool, valid);
    RedisAdapterOptions options;
    QCOMPARE(options.setAddress(address), valid);
    if (!valid) {
        QCOMPARE(options.host, u"127.0.0.1"_s); // untouched
        return;
    }
    QTEST(options.host, "host");
    QTEST(int(options.port), "port");
    QTEST(options.username, "user");
    QTEST(options.password, "password");
}

// Node counts a cluster's servers by the subscribers of the request channel.
void tst_RedisAdapter::oneSubscriberPerServer()
{
    RedisServer redis;
    QVERIFY(redis.start());
    SocketServer a(clusterOptions(redis.port()));
    SocketServer b(clusterOptions(redis.port()));
    a.of(u"/chat"_s);
    b.of(u"/chat"_s);
    for (SocketServer *s : {&a, &b}) {
        QTRY_VERIFY_WITH_TIMEOUT(redisAdapter(s->of(u"/"_s))->isConnected(), kWait);
        QTRY_VERIFY_WITH_TIMEOUT(redisAdapter(s->of(u"/chat"_s))->isConnected(), kWait);
    }
    QCOMPARE(numSub(redis.port(), "socket.io-request#/#"), 2);
    QCOMPARE(numSub(redis.port(), "socket.io-request#/chat#"), 2);
}

// A namespace made again before the old one's deferred delete ran (a client leaving and coming
// back in one read, with cleanupEmptyChildNamespaces) shares its channel names with it: the old
// adapter going must not take the subscriptions of the new one along.
void tst_RedisAdapter::sameNamespaceTwice()
{
    RedisServer redis;
    QVERIFY(redis.start());
    SocketServer server(clusterOptions(redis.port()));
    Namespace *nsp = server.of(u"/room"_s);
    auto *first = redisAdapter(nsp);
    QVERIFY(first);
    QTRY_VERIFY_WITH_TIMEOUT(first->isConnected(), kWait);
    std::unique_ptr<Adapter> second(server.options().adapterFactory(nsp));
    auto *again = qobject_cast<RedisAdapter *>(second.get());
    QVERIFY(again);
    QTRY_VERIFY_WITH_TIMEOUT(again->isConnected(), kWait);
    QCOMPARE(numSub(redis.port(), "socket.io-request#/room#"), 1);

    // The second one goes (as the old namespace would): the first keeps its subscriptions.
    second.reset();
    QTest::qWait(200);
    QVERIFY(first->isConnected());
    QCOMPARE(numSub(redis.port(), "socket.io-request#/room#"), 1);
    // And it still hears the cluster: a server-side emit from another server arrives.
    SocketServer other(clusterOptions(redis.port()));
    QTRY_VERIFY_WITH_TIMEOUT(redisAdapter(other.of(u"/room"_s))->isConnected(), kWait);
    QSignalSpy received(nsp, &Namespace::serverSideEmitted);
    QVERIFY(other.of(u"/room"_s)->serverSideEmit(u"hello"_s, {1}));
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1, kWait);
    QCOMPARE(received.at(0).at(0).toString(), u"hello"_s);
}

// Until its own subscription is confirmed, a server is not counted: asking the cluster then
// must fail plainly, not report "no other servers".
void tst_RedisAdapter::notCountedBeforeSubscribed()
{
    RedisServer redis;
    QVERIFY(redis.start());
    SocketServer other(clusterOptions(redis.port()));
    QTRY_VERIFY_WITH_TIMEOUT(redisAdapter(other.of(u"/"_s))->isConnected(), kWait);

    SocketServer server(clusterOptions(redis.port()));
    Namespace *root = server.of(u"/"_s);
    // Ask at every event-loop turn until the adapter is in: never a complete empty answer.
    int incompleteAnswers = 0;
    int completeAnswers = 0;
    bool everIncompleteAfterConnected = false;
    while (!redisAdapter(root)->isConnected()) {
        bool done = false;
        const bool connectedWhenAsked = redisAdapter(root)->isConnected();
        root->serverSideEmitWithAck(
            u"ping"_s, {},
            [&](bool timedOut, const QVariantList &) {
                (timedOut ? incompleteAnswers : completeAnswers) += 1;
                everIncompleteAfterConnected |= timedOut && connectedWhenAsked;
                done = true;
            },
            2s);
        QVERIFY(QTest::qWaitFor([&] { return done; }, kWait));
        QCOMPARE(completeAnswers, 0);
        QTest::qWait(1);
    }
    QVERIFY(incompleteAnswers > 0);
    QVERIFY(!everIncompleteAfterConnected);
    // Once in, the other server answers.
    other.of(u"/"_s)->onServerSideEmit(
        u"ping"_s, [](const QVariantList &, const Ack &ack) { ack({u"pong"_s}); });
    bool done = false;
    root->serverSideEmitWithAck(u"ping"_s, {}, [&](bool timedOut, const QVariantList &responses) {
        QVERIFY(!timedOut);
        QCOMPARE(responses, QVariantList {u"pong"_s});
        done = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, kWait);
}

// A server deleted while it waits for other servers: the callbacks run with an error during
// its destructor, while it can still be used, not after its private part went.
void tst_RedisAdapter::pendingRequestsAnsweredWhileServerWhole()
{
    RedisServer redis;
    QVERIFY(redis.start());
    auto silent = silentPeer(redis.port(), {"/", "/late"});
    QVERIFY(silent);
    auto *server = new SocketServer(clusterOptions(redis.port()));
    Namespace *late = server->of(u"/late"_s); // made after the Redis link, deleted after it
    Namespace *root = server->of(u"/"_s);
    QTRY_VERIFY_WITH_TIMEOUT(redisAdapter(root)->isConnected(), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(redisAdapter(late)->isConnected(), kWait);
    QString fetchError;
    bool fetched = false;
    bool sseTimedOut = false;
    bool sseDone = false;
    root->all().fetchSockets([&](const QList<RemoteSocket> &, const QString &error) {
        fetchError = error;
        fetched = true;
        // The server is whole: this must be fine.
        server->of(u"/"_s)->emitEvent(u"bye"_s);
        server->of(u"/late"_s)->emitEvent(u"bye"_s);
    });
    late->serverSideEmitWithAck(u"ping"_s, {}, [&](bool timedOut, const QVariantList &) {
        sseTimedOut = timedOut;
        sseDone = true;
        server->of(u"/late"_s)->emitEvent(u"bye"_s);
    });
    // Both requests are out and waiting for the silent peer.
    QTest::qWait(300);
    QVERIFY(!fetched);
    QVERIFY(!sseDone);
    delete server;
    QVERIFY(fetched);
    QVERIFY(sseDone);
    QVERIFY(sseTimedOut);
    QVERIFY2(fetchError.contains(u"server shutting down"_s), qPrintable(fetchError));
}

void tst_RedisAdapter::oneWarningPerSecondWhileDown()
{
    const quint16 port = freePort(); // nothing listens there
    SocketServer server(clusterOptions(port));
    Namespace *root = server.of(u"/"_s);
    QSignalSpy errors(redisAdapter(root), &RedisAdapter::clusterError);
    QTest::qWait(100);
    WarningCounter warnings;
    for (int i = 0; i < 500; ++i)
        QVERIFY(!root->emitEvent(u"news"_s, {i}));
    QCOMPARE(errors.size(), 500); // each one is reported to the application
    QVERIFY2(warnings.count() <= 2, qPrintable(QString::number(warnings.count())));
    QVERIFY(warnings.count() >= 1);
}

QTEST_GUILESS_MAIN(tst_RedisAdapter)
#include "tst_redisadapter.moc"
