// Unit tests of AdminInstrumentation: our SocketClient plays the admin UI on "/admin" against a
// SocketServer on 127.0.0.1 (port 0), a second client plays the monitored application. Every
// wait is bounded.

#include <QSocketIo/admininstrumentation.h>
#include <QSocketIo/socket.h>
#include <QSocketIo/socketclient.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qjsondocument.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <crypt.h>

#include <cstring>

using namespace QSocketIo;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 5000;

struct Received
{
    QString event;
    QVariantList args;
};

// Records every event a client gets, in order.
class Recorder
{
public:
    explicit Recorder(SocketClient &client)
    {
        client.onAny([this](const QString &event, const QVariantList &args) {
            events.append({event, args});
        });
    }
    QList<Received> all(const QString &event) const
    {
        QList<Received> out;
        for (const Received &r : events) {
            if (r.event == event)
                out.append(r);
        }
        return out;
    }
    int count(const QString &event) const { return int(all(event).size()); }
    int indexOf(const QString &event) const
    {
        for (int i = 0; i < events.size(); ++i) {
            if (events[i].event == event)
                return i;
        }
        return -1;
    }
    // The first such event whose arguments satisfy `match`; empty when none.
    QVariantList find(
        const QString &event, const std::function<bool(const QVariantList &)> &match = {}) const
    {
        for (const Received &r : events) {
            if (r.event == event && (!match || match(r.args)))
                return r.args;
        }
        return {};
    }
    QList<Received> events;
};

SocketClientOptions clientOptions(const QString &nsp = u"/"_s)
{
    SocketClientOptions options;
    options.nsp = nsp;
    options.reconnection = false;
    options.timeout = 3s;
    return options;
}

QUrl urlOf(const SocketServer &server)
{
    return QUrl(u"http://127.0.0.1:%1"_s.arg(server.serverPort()));
}

bool isTimestamp(const QVariant &v)
{
    const QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    return t.isValid() && v.toString().endsWith(u'Z') && v.toString().contains(u'.');
}

// Started with the process, before any test: a lower bound of the process's age.
QElapsedTimer processClock = [] {
    QElapsedTimer t;
    t.start();
    return t;
}();

QByteArray bcrypt(const QByteArray &password, int cost = 4)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting))
        return {};
    auto data = std::make_unique<crypt_data>();
    std::memset(data.get(), 0, sizeof(crypt_data));
    const char *out = crypt_rn(password.constData(), setting, data.get(), sizeof(crypt_data));
    return out && out[0] != '*' ? QByteArray(out) : QByteArray();
}

// Server handlers the monitored client drives.
void addAppHandlers(SocketServer &server)
{
    Namespace *root = server.of(u"/"_s);
    root->on(u"enter"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->join(args.value(0).toString());
    });
    root->on(u"exit"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->leave(args.value(0).toString());
    });
    root->on(u"hello"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->emitEvent(u"reply"_s, {args.value(0).toInt() + 1});
    });
}

} // namespace

class tst_AdminInstrumentation : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void config_data();
    void config();
    void allSockets();
    void serverStats();
    void socketEvents();
    void commands();
    void readonlyIgnoresCommands();
    void basicAuth();
    void verifyPassword();
    void namespaceMadeOnDemand();
    void destroyedInstrumentation();
    void dataUpdates();
    void eventsAroundConnectAndDisconnect();
    void binaryArgumentsAsAttachments();
    void uptimeCountsFromProcessStart();
    void passwordCheckOffTheEventLoop();
    void destroyedDuringPasswordCheck();
};

void tst_AdminInstrumentation::config_data()
{
    QTest::addColumn<bool>("production");
    QTest::addColumn<bool>("readonly");
    QTest::addColumn<QStringList>("features");
    const QStringList commands {u"EMIT"_s, u"JOIN"_s, u"LEAVE"_s, u"DISCONNECT"_s, u"MJOIN"_s,
        u"MLEAVE"_s, u"MDISCONNECT"_s};
    QTest::newRow("development") << false << false
                                 << commands
            + QStringList {u"AGGREGATED_EVENTS"_s, u"ALL_EVENTS"_s};
    QTest::newRow("development readonly")
        << false << true << QStringList {u"AGGREGATED_EVENTS"_s, u"ALL_EVENTS"_s};
    QTest::newRow("production") << true << false << commands + QStringList {u"AGGREGATED_EVENTS"_s};
    QTest::newRow("production readonly") << true << true << QStringList {u"AGGREGATED_EVENTS"_s};
}

void tst_AdminInstrumentation::config()
{
    QFETCH(bool, production);
    QFETCH(bool, readonly);
    QFETCH(QStringList, features);

    SocketServer server;
    server.of(u"/"_s)->on(u"ping"_s, [](Socket *, const QVariantList &, const Ack &) {});
    AdminOptions options;
    options.readonly = readonly;
    options.mode = production ? AdminOptions::Mode::Production : AdminOptions::Mode::Development;
    AdminInstrumentation admin(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"qsio:routes"_s) == 1, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"server_stats"_s) >= 1, kWait);

    const QVariantMap config = rec.find(u"config"_s).value(0).toMap();
    QCOMPARE(config.value(u"supportedFeatures"_s).toStringList(), features);
    QCOMPARE(rec.count(u"all_sockets"_s), production ? 0 : 1);
    QCOMPARE(rec.indexOf(u"config"_s), 0);
    if (!production)
        QCOMPARE(rec.indexOf(u"all_sockets"_s), 1);
    QVERIFY(rec.indexOf(u"qsio:handlers"_s) > rec.indexOf(u"config"_s));

    const QVariantList handlers = rec.find(u"qsio:handlers"_s).value(0).toList();
    bool found = false;
    for (const QVariant &h : handlers) {
        const QVariantMap m = h.toMap();
        found |= m.value(u"nsp"_s) == u"/"_s && m.value(u"event"_s) == u"ping"_s
            && m.value(u"how"_s) == u"on"_s;
    }
    QVERIFY2(
        found, qPrintable(QJsonDocument::fromVariant(handlers).toJson(QJsonDocument::Compact)));
    const QVariantList routes = rec.find(u"qsio:routes"_s).value(0).toList();
    QCOMPARE(routes.size(), 1);
    QCOMPARE(routes.first().toMap().value(u"path"_s).toString(), u"/socket.io/"_s);

    if (production) {
        // Aggregates only: another client's arrival is not reported.
        SocketClient app(urlOf(server), clientOptions());
        QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);
        QTest::qWait(200);
        QCOMPARE(rec.count(u"socket_connected"_s), 0);
    }
}

void tst_AdminInstrumentation::allSockets()
{
    SocketServer server;
    server.of(u"/"_s);
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClientOptions appOptions = clientOptions();
    appOptions.transports = {u"polling"_s};
    appOptions.auth = {{u"token"_s, u"secret"_s}};
    appOptions.extraHeaders = {{"X-Custom-Header", "hello"}};
    QUrlQuery query;
    query.addQueryItem(u"room"_s, u"lobby"_s);
    appOptions.query = query;
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    SocketClient app(urlOf(server), appOptions);
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);
    server.of(u"/"_s)->socket(app.id())->data().insert(u"name"_s, u"alice"_s);

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"all_sockets"_s) == 1, kWait);

    const QVariantList all = rec.find(u"all_sockets"_s).value(0).toList();
    QVariantMap s;
    bool sawAdmin = false;
    for (const QVariant &v : all) {
        if (v.toMap().value(u"nsp"_s) == u"/"_s)
            s = v.toMap();
        sawAdmin |= v.toMap().value(u"nsp"_s) == u"/admin"_s;
    }
    QVERIFY2(sawAdmin, "the admin's own socket is listed");
    QCOMPARE(s.value(u"id"_s).toString(), app.id());
    QCOMPARE(s.value(u"clientId"_s).toString(), app.engineId().left(12));
    QCOMPARE(s.value(u"transport"_s).toString(), u"polling"_s);
    QCOMPARE(s.value(u"data"_s).toMap().value(u"name"_s).toString(), u"alice"_s);
    QCOMPARE(s.value(u"rooms"_s).toStringList(), QStringList {app.id()});
    QVERIFY(!s.contains(u"auth"_s));

    const QVariantMap hs = s.value(u"handshake"_s).toMap();
    QVERIFY(!hs.contains(u"auth"_s));
    QCOMPARE(hs.value(u"address"_s).toString(), u"127.0.0.1"_s);
    QCOMPARE(hs.value(u"headers"_s).toMap().value(u"x-custom-header"_s).toString(), u"hello"_s);
    QVERIFY(!hs.value(u"headers"_s).toMap().contains(u"X-Custom-Header"_s));
    QCOMPARE(hs.value(u"query"_s).toMap().value(u"room"_s).toString(), u"lobby"_s);
    QCOMPARE(hs.value(u"query"_s).toMap().value(u"EIO"_s).toString(), u"4"_s);
    const qint64 issued = hs.value(u"issued"_s).toLongLong();
    QVERIFY2(issued >= before - 1000 && issued <= QDateTime::currentMSecsSinceEpoch(),
        qPrintable(QString::number(issued)));
    QCOMPARE(hs.value(u"secure"_s).toBool(), false);
    QVERIFY(!hs.value(u"time"_s).toString().isEmpty());
    QVERIFY(hs.value(u"url"_s).toString().startsWith(u"/socket.io/?"_s));
    QVERIFY(hs.contains(u"xdomain"_s));
    QCOMPARE(hs.value(u"xdomain"_s).toBool(), false);
}

void tst_AdminInstrumentation::serverStats()
{
    SocketServer server;
    server.of(u"/"_s);
    AdminOptions options;
    options.serverId = u"node-7"_s;
    AdminInstrumentation admin(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClientOptions appOptions = clientOptions();
    appOptions.transports = {u"polling"_s};
    SocketClient app(urlOf(server), appOptions);
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"server_stats"_s) == 1, kWait);
    QElapsedTimer timer;
    timer.start();
    // The periodic one follows within the interval (2 s) plus slack.
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"server_stats"_s) >= 2, 2500);
    QVERIFY(timer.elapsed() <= 2500);

    const QVariantMap stats = rec.all(u"server_stats"_s).at(1).args.value(0).toMap();
    QCOMPARE(stats.value(u"serverId"_s).toString(), u"node-7"_s);
    QCOMPARE(stats.value(u"hostname"_s).toString(), QSysInfo::machineHostName());
    QCOMPARE(stats.value(u"pid"_s).toLongLong(), QCoreApplication::applicationPid());
    QVERIFY(stats.value(u"uptime"_s).toDouble() > 0);
    QCOMPARE(stats.value(u"clientsCount"_s).toInt(), 2);
    QCOMPARE(stats.value(u"pollingClientsCount"_s).toInt(), ui.transport() == u"polling"_s ? 2 : 1);

    QMap<QString, int> names;
    for (const QVariant &n : stats.value(u"namespaces"_s).toList())
        names.insert(
            n.toMap().value(u"name"_s).toString(), n.toMap().value(u"socketsCount"_s).toInt());
    QCOMPARE(names.value(u"/"_s), 1);
    QCOMPARE(names.value(u"/admin"_s), 1);

    // Counted since the previous stats: everything of both connections so far.
    QMap<QString, qint64> totals;
    for (const Received &r : rec.all(u"server_stats"_s)) {
        for (const QVariant &e : r.args.value(0).toMap().value(u"aggregatedEvents"_s).toList()) {
            const QVariantMap m = e.toMap();
            QCOMPARE(m.value(u"timestamp"_s).toLongLong() % 1000, 0);
            QVERIFY(m.value(u"count"_s).toLongLong() > 0);
            totals[m.value(u"type"_s).toString()] += m.value(u"count"_s).toLongLong();
        }
    }
    QCOMPARE(totals.value(u"rawConnection"_s), 2);
    QVERIFY(totals.value(u"packetsIn"_s) >= 2); // two CONNECT packets at least
    QVERIFY(totals.value(u"packetsOut"_s) >= 4); // two OPEN and two CONNECT replies
    QVERIFY(totals.value(u"bytesIn"_s) > 0);
    QVERIFY(totals.value(u"bytesOut"_s) > 0);

    // A closed connection is counted with its reason.
    app.disconnect();
    QTRY_VERIFY_WITH_TIMEOUT(
        !rec.find(u"server_stats"_s,
                [](const QVariantList &args) {
                    for (const QVariant &e :
                        args.value(0).toMap().value(u"aggregatedEvents"_s).toList()) {
                        if (e.toMap().value(u"type"_s) == u"rawDisconnection"_s
                            && !e.toMap().value(u"subType"_s).toString().isEmpty())
                            return true;
                    }
                    return false;
                })
             .isEmpty(),
        3000);
}

void tst_AdminInstrumentation::socketEvents()
{
    SocketServer server;
    addAppHandlers(server);
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"all_sockets"_s) == 1, kWait);

    SocketClient app(urlOf(server), clientOptions());
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);
    const QString id = app.id();
    auto byId = [id](int index) {
        return [id, index](const QVariantList &a) { return a.value(index).toString() == id; };
    };

    QTRY_VERIFY_WITH_TIMEOUT(
        !rec.find(u"socket_connected"_s,
                [id](const QVariantList &a) { return a.value(0).toMap().value(u"id"_s) == id; })
             .isEmpty(),
        kWait);
    const QVariantList connected = rec.find(u"socket_connected"_s,
        [id](const QVariantList &a) { return a.value(0).toMap().value(u"id"_s) == id; });
    QCOMPARE(connected.size(), 2);
    QCOMPARE(connected.value(0).toMap().value(u"nsp"_s).toString(), u"/"_s);
    QVERIFY(isTimestamp(connected.value(1)));

    // The client starts on polling and upgrades.
    QTRY_VERIFY_WITH_TIMEOUT(
        !rec.find(u"socket_updated"_s,
                [id](const QVariantList &a) { return a.value(0).toMap().value(u"id"_s) == id; })
             .isEmpty(),
        kWait);
    const QVariantMap updated
        = rec.find(u"socket_updated"_s,
                 [id](const QVariantList &a) { return a.value(0).toMap().value(u"id"_s) == id; })
              .value(0)
              .toMap();
    QCOMPARE(updated,
        (QVariantMap {{u"id"_s, id}, {u"nsp"_s, u"/"_s}, {u"transport"_s, u"websocket"_s}}));

    app.emitEvent(u"enter"_s, {u"r1"_s});
    QTRY_VERIFY_WITH_TIMEOUT(
        !rec.find(u"room_joined"_s,
                [id](const QVariantList &a) { return a.value(1) == u"r1"_s && a.value(2) == id; })
             .isEmpty(),
        kWait);
    const QVariantList joined = rec.find(u"room_joined"_s,
        [id](const QVariantList &a) { return a.value(1) == u"r1"_s && a.value(2) == id; });
    QCOMPARE(joined.size(), 4);
    QCOMPARE(joined.value(0).toString(), u"/"_s);
    QVERIFY(isTimestamp(joined.value(3)));
    // Its own-id room too.
    QVERIFY(!rec.find(u"room_joined"_s,
                    [id](const QVariantList &a) { return a.value(1) == id && a.value(2) == id; })
                 .isEmpty());

    // The "enter" event itself was seen, arguments in order.
    const QVariantList enter = rec.find(u"event_received"_s, byId(1));
    QCOMPARE(enter.size(), 4);
    QCOMPARE(enter.value(0).toString(), u"/"_s);
    QCOMPARE(enter.value(2).toList(), (QVariantList {u"enter"_s, u"r1"_s}));
    QVERIFY(isTimestamp(enter.value(3)));

    app.emitEvent(u"hello"_s, {41});
    QTRY_VERIFY_WITH_TIMEOUT(!rec.find(u"event_sent"_s, byId(1)).isEmpty(), kWait);
    const QVariantList sent = rec.find(u"event_sent"_s, byId(1));
    QCOMPARE(sent.size(), 4);
    QCOMPARE(sent.value(0).toString(), u"/"_s);
    const QVariantList payload = sent.value(2).toList();
    QCOMPARE(payload.size(), 2);
    QCOMPARE(payload.value(0).toString(), u"reply"_s);
    QCOMPARE(payload.value(1).toInt(), 42);
    QVERIFY(isTimestamp(sent.value(3)));

    app.emitEvent(u"exit"_s, {u"r1"_s});
    QTRY_VERIFY_WITH_TIMEOUT(
        !rec.find(u"room_left"_s,
                [id](const QVariantList &a) { return a.value(1) == u"r1"_s && a.value(2) == id; })
             .isEmpty(),
        kWait);
    const QVariantList left = rec.find(u"room_left"_s,
        [id](const QVariantList &a) { return a.value(1) == u"r1"_s && a.value(2) == id; });
    QCOMPARE(left.value(0).toString(), u"/"_s);
    QVERIFY(isTimestamp(left.value(3)));

    app.disconnect();
    QTRY_VERIFY_WITH_TIMEOUT(!rec.find(u"socket_disconnected"_s, byId(1)).isEmpty(), kWait);
    const QVariantList gone = rec.find(u"socket_disconnected"_s, byId(1));
    QCOMPARE(gone.size(), 4);
    QCOMPARE(gone.value(0).toString(), u"/"_s);
    QCOMPARE(gone.value(2).toString(), u"client namespace disconnect"_s);
    QVERIFY(isTimestamp(gone.value(3)));

    // Admin traffic stays out of the event stream.
    for (const Received &r : rec.events) {
        if (r.event == u"event_received"_s || r.event == u"event_sent"_s)
            QCOMPARE(r.args.value(0).toString(), u"/"_s);
    }
}

void tst_AdminInstrumentation::commands()
{
    SocketServer server;
    addAppHandlers(server);
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"config"_s) == 1, kWait);
    SocketClient app(urlOf(server), clientOptions());
    SocketClient other(urlOf(server), clientOptions());
    Recorder appRec(app);
    Recorder otherRec(other);
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected() && other.isConnected(), kWait);
    Socket *appSocket = server.socket(app.id());
    Socket *otherSocket = server.socket(other.id());
    QVERIFY(appSocket && otherSocket);

    ui.emitEvent(u"join"_s, {u"/"_s, u"vip"_s, app.id()});
    QTRY_VERIFY_WITH_TIMEOUT(appSocket->rooms().contains(u"vip"_s), kWait);
    QVERIFY(!otherSocket->rooms().contains(u"vip"_s));

    ui.emitEvent(u"join"_s, {u"/"_s, u"all"_s});
    QTRY_VERIFY_WITH_TIMEOUT(
        appSocket->rooms().contains(u"all"_s) && otherSocket->rooms().contains(u"all"_s), kWait);

    ui.emitEvent(u"emit"_s, {u"/"_s, u"vip"_s, u"news"_s, 1, u"two"_s});
    QTRY_COMPARE_WITH_TIMEOUT(appRec.count(u"news"_s), 1, kWait);
    QCOMPARE(appRec.find(u"news"_s), (QVariantList {1, u"two"_s}));
    ui.emitEvent(u"emit"_s, {u"/"_s, QVariant(), u"everyone"_s});
    QTRY_VERIFY_WITH_TIMEOUT(
        appRec.count(u"everyone"_s) == 1 && otherRec.count(u"everyone"_s) == 1, kWait);
    QCOMPARE(otherRec.count(u"news"_s), 0);

    ui.emitEvent(u"leave"_s, {u"/"_s, u"all"_s});
    QTRY_VERIFY_WITH_TIMEOUT(
        !appSocket->rooms().contains(u"all"_s) && !otherSocket->rooms().contains(u"all"_s), kWait);
    ui.emitEvent(u"leave"_s, {u"/"_s, u"vip"_s, app.id()});
    QTRY_VERIFY_WITH_TIMEOUT(!appSocket->rooms().contains(u"vip"_s), kWait);

    QSignalSpy appGone(&app, &SocketClient::disconnected);
    ui.emitEvent(u"_disconnect"_s, {u"/"_s, false, app.id()});
    QTRY_COMPARE_WITH_TIMEOUT(appGone.size(), 1, kWait);
    QCOMPARE(appGone.first().first().toString(), u"io server disconnect"_s);
    QVERIFY(other.isConnected());

    QSignalSpy otherGone(&other, &SocketClient::disconnected);
    ui.emitEvent(u"_disconnect"_s, {u"/"_s, true});
    QTRY_COMPARE_WITH_TIMEOUT(otherGone.size(), 1, kWait);
    QVERIFY(ui.isConnected());
}

void tst_AdminInstrumentation::readonlyIgnoresCommands()
{
    SocketServer server;
    addAppHandlers(server);
    AdminOptions options;
    options.readonly = true;
    AdminInstrumentation admin(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"config"_s) == 1, kWait);
    SocketClient app(urlOf(server), clientOptions());
    Recorder appRec(app);
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);
    Socket *appSocket = server.socket(app.id());

    ui.emitEvent(u"join"_s, {u"/"_s, u"vip"_s});
    ui.emitEvent(u"emit"_s, {u"/"_s, QVariant(), u"news"_s});
    ui.emitEvent(u"_disconnect"_s, {u"/"_s, true});
    // Something the server does answer, sent after the commands: once it is back, they were
    // processed (or ignored).
    app.emitEvent(u"hello"_s, {1});
    QTRY_COMPARE_WITH_TIMEOUT(appRec.count(u"reply"_s), 1, kWait);
    QTest::qWait(200);
    QVERIFY(!appSocket->rooms().contains(u"vip"_s));
    QCOMPARE(appRec.count(u"news"_s), 0);
    QVERIFY(app.isConnected());
}

void tst_AdminInstrumentation::basicAuth()
{
    const QByteArray hash = bcrypt("s3cret");
    QVERIFY(hash.startsWith("$2b$"));

    SocketServer server;
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = hash;
    AdminInstrumentation admin(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    const auto refused = [&](const QVariantMap &auth) -> QString {
        SocketClientOptions o = clientOptions(u"/admin"_s);
        o.auth = auth;
        SocketClient ui(urlOf(server), o);
        QSignalSpy error(&ui, &SocketClient::connectError);
        if (!error.wait(kWait) && error.isEmpty())
            return ui.isConnected() ? u"connected"_s : u"nothing"_s;
        return error.first().first().toString() + u'|'
            + error.first().value(1).toMap().value(u"message"_s).toString();
    };
    QCOMPARE(refused({{u"username"_s, u"admin"_s}, {u"password"_s, u"wrong"_s}}),
        u"invalid credentials|"_s);
    QCOMPARE(refused({{u"username"_s, u"root"_s}, {u"password"_s, u"s3cret"_s}}),
        u"invalid credentials|"_s);
    QCOMPARE(refused({{u"sessionId"_s, u"0123456789abcdef"_s}}), u"invalid credentials|"_s);
    QCOMPARE(refused({{u"sessionId"_s, QVariant()}}), u"invalid credentials|"_s);

    SocketClientOptions o = clientOptions(u"/admin"_s);
    o.auth = {{u"username"_s, u"admin"_s}, {u"password"_s, u"s3cret"_s}};
    SocketClient ui(urlOf(server), o);
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"config"_s) == 1, kWait);
    QCOMPARE(rec.indexOf(u"session"_s), 0); // right after CONNECT, before config
    const QString session = rec.find(u"session"_s).value(0).toString();
    QCOMPARE(session.size(), 16);
    QVERIFY(QRegularExpression(u"^[0-9a-f]{16}$"_s).match(session).hasMatch());

    // A page reload: the session id alone is enough, and no new session is issued.
    SocketClientOptions again = clientOptions(u"/admin"_s);
    again.auth = {{u"sessionId"_s, session}};
    SocketClient reloaded(urlOf(server), again);
    Recorder rec2(reloaded);
    QTRY_VERIFY_WITH_TIMEOUT(rec2.count(u"config"_s) == 1, kWait);
    QCOMPARE(rec2.count(u"session"_s), 0);
}

void tst_AdminInstrumentation::verifyPassword()
{
    const QByteArray hash = bcrypt("pw");
    QVERIFY(AdminInstrumentation::verifyPassword("pw", hash));
    QVERIFY(!AdminInstrumentation::verifyPassword("pW", hash));
    QVERIFY(!AdminInstrumentation::verifyPassword("pw", {}));
    // Only bcrypt hashes are taken, not other schemes crypt() knows.
    QVERIFY(!AdminInstrumentation::verifyPassword("pw", "pwXwhatever"));
}

void tst_AdminInstrumentation::namespaceMadeOnDemand()
{
    SocketServerOptions serverOptions;
    serverOptions.namespaces = {u"*"_s};
    SocketServer server(serverOptions);
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"all_sockets"_s) == 1, kWait);

    // Well before the next stats tick could pick the new namespace up.
    QElapsedTimer timer;
    timer.start();
    SocketClient app(urlOf(server), clientOptions(u"/late"_s));
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);
    app.emitEvent(u"note"_s, {u"hi"_s});
    QTRY_VERIFY_WITH_TIMEOUT(!rec.find(u"event_received"_s).isEmpty(), kWait);

    QVERIFY2(timer.elapsed() < 1500, qPrintable(QString::number(timer.elapsed())));
    QCOMPARE(
        rec.find(u"socket_connected"_s).value(0).toMap().value(u"nsp"_s).toString(), u"/late"_s);
    QCOMPARE(rec.find(u"event_received"_s).value(2).toList(), (QVariantList {u"note"_s, u"hi"_s}));
}

void tst_AdminInstrumentation::destroyedInstrumentation()
{
    SocketServer server;
    addAppHandlers(server);
    auto *admin = new AdminInstrumentation(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    SocketClient app(urlOf(server), clientOptions());
    Recorder appRec(app);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"config"_s) == 1 && app.isConnected(), kWait);
    delete admin;

    // The application goes on; the admin's commands and new admins find nothing behind them.
    app.emitEvent(u"hello"_s, {1});
    QTRY_COMPARE_WITH_TIMEOUT(appRec.count(u"reply"_s), 1, kWait);
    ui.emitEvent(u"emit"_s, {u"/"_s, QVariant(), u"news"_s});
    QTRY_COMPARE_WITH_TIMEOUT(appRec.count(u"news"_s), 1, kWait);
    SocketClient late(urlOf(server), clientOptions(u"/admin"_s));
    QSignalSpy refused(&late, &SocketClient::connectError);
    QVERIFY(refused.wait(kWait));
    QCOMPARE(refused.first().first().toString(), u"admin instrumentation stopped"_s);
    QCOMPARE(rec.count(u"event_received"_s), 0);
}

void tst_AdminInstrumentation::dataUpdates()
{
    SocketServer server;
    Namespace *root = server.of(u"/"_s);
    root->use([](Socket *s, const Next &next) {
        s->data().insert(u"role"_s, u"guest"_s);
        next();
    });
    root->on(u"name"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->setDataValue(u"name"_s, args.value(0));
    });
    // Edited through the reference: no signal, noticed after the handler.
    root->on(u"score"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->data()[u"score"_s] = args.value(0);
    });
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClientOptions appOptions = clientOptions();
    appOptions.transports = {u"websocket"_s}; // no transport update in the way
    SocketClient app(urlOf(server), appOptions);
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);
    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"all_sockets"_s) == 1, kWait);
    const QString id = app.id();
    QVariantMap listed;
    for (const QVariant &s : rec.find(u"all_sockets"_s).value(0).toList()) {
        if (s.toMap().value(u"id"_s) == id)
            listed = s.toMap();
    }
    QCOMPARE(listed.value(u"data"_s).toMap(), (QVariantMap {{u"role"_s, u"guest"_s}}));

    auto updates = [&] {
        QList<QVariantMap> out;
        for (const Received &r : rec.all(u"socket_updated"_s)) {
            const QVariantMap m = r.args.value(0).toMap();
            if (m.value(u"id"_s) == id && m.contains(u"data"_s))
                out.append(m);
        }
        return out;
    };
    app.emitEvent(u"name"_s, {u"ada"_s});
    QTRY_COMPARE_WITH_TIMEOUT(updates().size(), 1, kWait);
    QCOMPARE(updates().at(0),
        (QVariantMap {{u"id"_s, id}, {u"nsp"_s, u"/"_s},
            {u"data"_s, QVariantMap {{u"role"_s, u"guest"_s}, {u"name"_s, u"ada"_s}}}}));

    app.emitEvent(u"score"_s, {7});
    QTRY_COMPARE_WITH_TIMEOUT(updates().size(), 2, kWait);
    QCOMPARE(updates().at(1).value(u"data"_s).toMap().value(u"score"_s).toInt(), 7);

    // The same value again changes nothing: no update follows, not even at the stats tick.
    app.emitEvent(u"name"_s, {u"ada"_s});
    app.emitEvent(u"score"_s, {7});
    const int stats = rec.count(u"server_stats"_s);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"server_stats"_s) > stats, kWait);
    QCOMPARE(updates().size(), 2);
}

void tst_AdminInstrumentation::eventsAroundConnectAndDisconnect()
{
    SocketServer server;
    Namespace *root = server.of(u"/"_s);
    // Both run before the instrumentation's own `connected` slot.
    root->onConnect([](Socket *s, const QVariant &) {
        s->emitEvent(u"welcome"_s, {1});
        return true;
    });
    QObject::connect(root, &Namespace::connected, root, [](Socket *s) {
        s->join(u"early"_s);
        s->emitEvent(u"from-slot"_s, {2});
    });
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"all_sockets"_s) == 1, kWait);

    SocketClient app(urlOf(server), clientOptions());
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);
    const QString id = app.id();
    auto sentIndex = [&](const QString &event) {
        for (int i = 0; i < rec.events.size(); ++i) {
            const Received &r = rec.events[i];
            if (r.event == u"event_sent"_s && r.args.value(1) == id
                && r.args.value(2).toList().value(0) == event)
                return i;
        }
        return -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(sentIndex(u"welcome"_s) >= 0 && sentIndex(u"from-slot"_s) >= 0, kWait);
    int connectedAt = -1;
    for (int i = 0; i < rec.events.size(); ++i) {
        if (rec.events[i].event == u"socket_connected"_s
            && rec.events[i].args.value(0).toMap().value(u"id"_s) == id)
            connectedAt = i;
    }
    QVERIFY(connectedAt >= 0);
    QVERIFY(connectedAt < sentIndex(u"welcome"_s));
    QVERIFY(sentIndex(u"welcome"_s) < sentIndex(u"from-slot"_s));
    QCOMPARE(rec.events.at(sentIndex(u"welcome"_s)).args.value(2).toList(),
        (QVariantList {u"welcome"_s, 1}));

    // Leaving at disconnect: every room, its own-id room included, as Node reports it.
    app.disconnect();
    QTRY_VERIFY_WITH_TIMEOUT(!rec.find(u"socket_disconnected"_s).isEmpty(), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(!rec.find(u"room_left"_s,
                                     [id](const QVariantList &a) {
                                         return a.value(1) == u"early"_s && a.value(2) == id;
                                     })
                                  .isEmpty(),
        kWait);
    QVERIFY(!rec.find(u"room_left"_s,
                    [id](const QVariantList &a) { return a.value(1) == id && a.value(2) == id; })
                 .isEmpty());
}

void tst_AdminInstrumentation::binaryArgumentsAsAttachments()
{
    SocketServer server;
    server.of(u"/"_s)->on(u"upload"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->emitEvent(u"stored"_s, {QVariantMap {{u"copy"_s, args.value(1)}}});
    });
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"all_sockets"_s) == 1, kWait);
    SocketClient app(urlOf(server), clientOptions());
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);

    // Bytes JSON could not carry: if they arrive as QByteArray, they travelled as attachments.
    const QByteArray blob("\x00\x01\xfe\xff binary", 11);
    app.emitEvent(u"upload"_s, {u"f.bin"_s, blob});
    QTRY_VERIFY_WITH_TIMEOUT(!rec.find(u"event_received"_s).isEmpty(), kWait);
    const QVariantList in = rec.find(u"event_received"_s).value(2).toList();
    QCOMPARE(in.size(), 3);
    QCOMPARE(in.value(0).toString(), u"upload"_s);
    QCOMPARE(in.value(2).userType(), QMetaType::QByteArray);
    QCOMPARE(in.value(2).toByteArray(), blob);

    QTRY_VERIFY_WITH_TIMEOUT(!rec.find(u"event_sent"_s).isEmpty(), kWait);
    const QVariantList out = rec.find(u"event_sent"_s).value(2).toList();
    QCOMPARE(out.value(0).toString(), u"stored"_s);
    const QVariant nested = out.value(1).toMap().value(u"copy"_s);
    QCOMPARE(nested.userType(), QMetaType::QByteArray);
    QCOMPARE(nested.toByteArray(), blob);
}

void tst_AdminInstrumentation::uptimeCountsFromProcessStart()
{
    // The instrumentation is made well after the process started.
    QTest::qWait(300);
    const double atLeast = processClock.elapsed() / 1000.0;
    SocketServer server;
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient ui(urlOf(server), clientOptions(u"/admin"_s));
    Recorder rec(ui);
    QTRY_VERIFY_WITH_TIMEOUT(rec.count(u"server_stats"_s) == 1, kWait);
    const double uptime
        = rec.find(u"server_stats"_s).value(0).toMap().value(u"uptime"_s).toDouble();
    // /proc counts in clock ticks (10 ms).
    QVERIFY2(uptime >= atLeast - 0.02, qPrintable(u"%1 < %2"_s.arg(uptime).arg(atLeast)));
    QVERIFY2(uptime < atLeast + 60, qPrintable(QString::number(uptime)));
}

void tst_AdminInstrumentation::passwordCheckOffTheEventLoop()
{
    // Cost 13: about half a second of bcrypt, long enough to see the server answer meanwhile.
    const QByteArray hash = bcrypt("slow", 13);
    QVERIFY(hash.startsWith("$2b$13$"));
    SocketServer server;
    addAppHandlers(server);
    bool checking = false;
    // Runs just before the instrumentation's own middleware, which then starts the check.
    server.of(u"/admin"_s)->use([&checking](Socket *, const Next &next) {
        checking = true;
        next();
    });
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = hash;
    AdminInstrumentation admin(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient app(urlOf(server), clientOptions());
    Recorder appRec(app);
    QTRY_VERIFY_WITH_TIMEOUT(app.isConnected(), kWait);

    SocketClientOptions o = clientOptions(u"/admin"_s);
    o.auth = {{u"username"_s, u"admin"_s}, {u"password"_s, u"slow"_s}};
    o.timeout = 10s;
    SocketClient ui(urlOf(server), o);
    QTRY_VERIFY_WITH_TIMEOUT(checking, kWait);
    // Had bcrypt run on the event loop, the login would be answered before this.
    app.emitEvent(u"hello"_s, {1});
    QTRY_COMPARE_WITH_TIMEOUT(appRec.count(u"reply"_s), 1, kWait);
    QVERIFY(!ui.isConnected());
    QTRY_VERIFY_WITH_TIMEOUT(ui.isConnected(), 10000);
}

void tst_AdminInstrumentation::destroyedDuringPasswordCheck()
{
    const QByteArray hash = bcrypt("slow", 13);
    SocketServer server;
    bool checking = false;
    server.of(u"/admin"_s)->use([&checking](Socket *, const Next &next) {
        checking = true;
        next();
    });
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = hash;
    auto *admin = new AdminInstrumentation(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClientOptions o = clientOptions(u"/admin"_s);
    o.auth = {{u"username"_s, u"admin"_s}, {u"password"_s, u"slow"_s}};
    SocketClient ui(urlOf(server), o);
    QSignalSpy refused(&ui, &SocketClient::connectError);
    QTRY_VERIFY_WITH_TIMEOUT(checking, kWait);
    // Waits for the running check, then refuses the admin it was for.
    delete admin;
    QTRY_COMPARE_WITH_TIMEOUT(refused.size(), 1, kWait);
    QCOMPARE(refused.first().first().toString(), u"admin instrumentation stopped"_s);
    QVERIFY(!ui.isConnected());
}

QTEST_MAIN(tst_AdminInstrumentation)
#include "tst_admininstrumentation.moc"
