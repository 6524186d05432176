// AdminClient against real servers: our SocketServer with AdminInstrumentation in this process
// (127.0.0.1, port 0), and Node's socket.io with @socket.io/admin-ui (nodeServer). A second
// SocketClient plays the monitored application's user. Every wait is bounded and event driven.

#include "adminclient.h"
#include "adminmodels.h"

#include <QSocketIo/admininstrumentation.h>
#include <QSocketIo/socket.h>
#include <QSocketIo/socketclient.h>
#include <QSocketIo/socketevent.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qprocess.h>
#include <QtCore/qsettings.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/qabstractitemmodeltester.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <crypt.h>

#include <cstring>
#include <functional>
#include <memory>

using namespace AdminApp;
using namespace QSocketIo;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 10000;
// A lost connection comes back after the client's backoff (up to 5 s, randomized).
constexpr int kReconnectWait = 30000;

SOCKET_EVENT("registered_by_macro", "/macro") { }

QByteArray bcrypt(const QByteArray &password)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof setting))
        return {};
    auto data = std::make_unique<crypt_data>();
    std::memset(data.get(), 0, sizeof(crypt_data));
    const char *out = crypt_rn(password.constData(), setting, data.get(), sizeof(crypt_data));
    return out && out[0] != '*' ? QByteArray(out) : QByteArray();
}

// Our server with the admin namespace, on a port of its own or a given one (restarts).
struct Server
{
    explicit Server(const AdminOptions &options = {}, quint16 port = 0,
        const SocketServerOptions &serverOptions = {})
    {
        server = std::make_unique<SocketServer>(serverOptions);
        Namespace *root = server->of(u"/"_s);
        root->on(u"hello"_s, [](Socket *s, const QVariantList &args, const Ack &) {
            s->emitEvent(u"reply"_s, {args.value(0).toInt() + 1});
        });
        root->on(u"enter"_s, [](Socket *s, const QVariantList &args, const Ack &) {
            s->join(args.value(0).toString());
        });
        admin = std::make_unique<AdminInstrumentation>(server.get(), options);
        listening = server->listen(QHostAddress::LocalHost, port);
    }
    ~Server()
    {
        admin.reset();
        server.reset();
    }
    QUrl url() const { return QUrl(u"http://127.0.0.1:%1"_s.arg(server->serverPort())); }

    std::unique_ptr<SocketServer> server;
    std::unique_ptr<AdminInstrumentation> admin;
    bool listening = false;
};

ConnectionSettings settingsFor(const QUrl &url)
{
    ConnectionSettings s;
    s.url = url;
    return s;
}

std::unique_ptr<SocketClient> userClient(const QUrl &url)
{
    SocketClientOptions o;
    o.nsp = u"/"_s;
    o.reconnection = false;
    o.timeout = 5s;
    return std::make_unique<SocketClient>(url, o);
}

int socketRow(const SocketsModel *model, const QString &nsp, const QString &id)
{
    return id.isEmpty() ? -1 : model->indexOf(nsp, id);
}

bool hasRoom(const SocketsModel *model, const QString &nsp, const QString &id, const QString &room)
{
    const int row = socketRow(model, nsp, id);
    return row >= 0 && model->socketList().at(row).rooms.contains(room);
}

bool logHas(const EventLogModel *log, EventLogModel::Direction direction, const QString &event)
{
    for (int i = 0; i < log->rowCount(); ++i) {
        if (log->entry(i).direction == direction && log->entry(i).event == event)
            return true;
    }
    return false;
}

// Every model of the client under QAbstractItemModelTester for the whole test.
struct Testers
{
    explicit Testers(AdminClient &c)
    {
        const auto mode = QAbstractItemModelTester::FailureReportingMode::QtTest;
        for (QAbstractItemModel *m : std::initializer_list<QAbstractItemModel *> {
                 c.servers(), c.sockets(), c.rooms(), c.handlers(), c.eventLog()})
            testers.push_back(std::make_unique<QAbstractItemModelTester>(m, mode));
    }
    std::vector<std::unique_ptr<QAbstractItemModelTester>> testers;
};

} // namespace

class tst_AdminClient : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void settingsRoundTrip();
    void authPayload();
    void loginWithoutAuth();
    void optionsMapping();
    void basicAuth();
    void wrongPassword();
    void sessionReused();
    void staleSessionRetriesPassword();
    void staleSessionWithoutPassword();
    void sessionBoundToServer();
    void sessionNotSentElsewhere();
    void maxPayload();
    void socketsModelShowsUser();
    void joinAndLeave();
    void emitBinary();
    void disconnectCommand();
    void eventLog();
    void handlersAndRoutes();
    void readonlyServer();
    void commandsWhileDisconnected();
    void serverRestart();
    void malformedEvents();
    void nodeServer();
    void nodeServerReadonlyProduction();
};

void tst_AdminClient::settingsRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(u"admin.ini"_s);
    ConnectionSettings s;
    s.url = QUrl(u"https://example.test:8443"_s);
    s.path = u"/io/"_s;
    s.nsp = u"/watch"_s;
    s.username = u"admin"_s;
    s.password = u"secret"_s;
    s.websocketOnly = true;
    s.ignoreTlsErrors = true;
    s.setSession(u"0123456789abcdef"_s);
    {
        QSettings settings(file, QSettings::IniFormat);
        s.save(settings);
    }
    QSettings settings(file, QSettings::IniFormat);
    QVERIFY(settings.childGroups().contains(u"connection"_s));
    for (const QString &key : settings.allKeys())
        QVERIFY2(!key.contains(u"password"_s, Qt::CaseInsensitive), qPrintable(key));
    QFile raw(file);
    QVERIFY(raw.open(QIODevice::ReadOnly));
    QVERIFY(!raw.readAll().contains("secret"));
    const ConnectionSettings loaded = ConnectionSettings::load(settings);
    QCOMPARE(loaded.url, s.url);
    QCOMPARE(loaded.path, s.path);
    QCOMPARE(loaded.nsp, s.nsp);
    QCOMPARE(loaded.username, s.username);
    QVERIFY(loaded.password.isEmpty());
    QCOMPARE(loaded.websocketOnly, true);
    QCOMPARE(loaded.ignoreTlsErrors, true);
    QCOMPARE(loaded.sessionId, s.sessionId);

    // Nothing saved yet: the defaults.
    QSettings empty(dir.filePath(u"empty.ini"_s), QSettings::IniFormat);
    const ConnectionSettings defaults = ConnectionSettings::load(empty);
    QCOMPARE(defaults.url, QUrl(u"http://localhost:3000"_s));
    QCOMPARE(defaults.nsp, u"/admin"_s);
    QCOMPARE(defaults.path, u"/socket.io/"_s);
}

void tst_AdminClient::authPayload()
{
    ConnectionSettings s;
    QVERIFY(s.auth().isEmpty());
    s.username = u"u"_s;
    s.password = u"p"_s;
    QCOMPARE(s.auth(), (QVariantMap {{u"username"_s, u"u"_s}, {u"password"_s, u"p"_s}}));
    s.setSession(u"abc"_s);
    QCOMPARE(s.auth(), (QVariantMap {{u"sessionId"_s, u"abc"_s}}));
}

void tst_AdminClient::loginWithoutAuth()
{
    Server server;
    QVERIFY(server.listening);
    AdminClient client;
    Testers testers(client);
    QSignalSpy states(&client, &AdminClient::stateChanged);
    QSignalSpy connected(&client, &AdminClient::connected);
    QSignalSpy config(&client, &AdminClient::configChanged);
    QCOMPARE(client.state(), AdminClient::State::Disconnected);
    QVERIFY(!client.socketClient());

    client.connectToServer(settingsFor(server.url()));
    QVERIFY(client.socketClient());
    QCOMPARE(client.state(), AdminClient::State::Connecting);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QCOMPARE(connected.size(), 1);
    QCOMPARE(states.first().first().value<AdminClient::State>(), AdminClient::State::Connecting);
    QCOMPARE(states.last().first().value<AdminClient::State>(), AdminClient::State::Connected);
    QTRY_VERIFY_WITH_TIMEOUT(client.supportedFeatures().contains(u"ALL_EVENTS"_s), kWait);
    QVERIFY(!config.isEmpty());
    QVERIFY(!client.isReadonly());
    QVERIFY(client.isDevelopmentMode());
    QVERIFY(client.hasHandlersExtension());
    QVERIFY(client.lastError().isEmpty());

    // The admin socket itself is listed, and the server's stats arrive.
    QTRY_VERIFY_WITH_TIMEOUT(
        socketRow(client.sockets(), u"/admin"_s, client.socketClient()->id()) >= 0, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(client.servers()->rowCount(), 1, kWait);
    QCOMPARE(client.servers()->serverList().first().pid, QCoreApplication::applicationPid());
    QVERIFY(client.rooms()->find(u"/admin"_s).isValid());

    QSignalSpy disconnected(&client, &AdminClient::disconnected);
    client.disconnectFromServer();
    QCOMPARE(client.state(), AdminClient::State::Disconnected);
    QVERIFY(!client.socketClient());
    QCOMPARE(disconnected.size(), 1);
}

void tst_AdminClient::optionsMapping()
{
    Server server;
    AdminClient client;
    ConnectionSettings s = settingsFor(server.url());
    s.websocketOnly = true;
    s.ignoreTlsErrors = true;
    s.path = u"socket.io"_s;
    client.connectToServer(s);
    QVERIFY(client.socketClient());
    const SocketClientOptions &o = client.socketClient()->options();
    QVERIFY(o.websocketOnly);
    QVERIFY(!o.rejectUnauthorized);
    QCOMPARE(o.nsp, u"/admin"_s);
    QVERIFY(o.reconnection);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QCOMPARE(client.socketClient()->transport(), u"websocket"_s);
    // The admin socket shows as a WebSocket one from the start.
    QTRY_VERIFY_WITH_TIMEOUT(
        socketRow(client.sockets(), u"/admin"_s, client.socketClient()->id()) >= 0, kWait);
    const int row = socketRow(client.sockets(), u"/admin"_s, client.socketClient()->id());
    QCOMPARE(client.sockets()->socketList().at(row).transport, u"websocket"_s);
}

void tst_AdminClient::basicAuth()
{
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = bcrypt("s3cret");
    QVERIFY(!options.passwordHash.isEmpty());
    Server server(options);
    QVERIFY(server.listening);

    AdminClient client;
    Testers testers(client);
    QSignalSpy session(&client, &AdminClient::sessionReceived);
    QSignalSpy errors(&client, &AdminClient::connectError);
    ConnectionSettings s = settingsFor(server.url());
    s.username = u"admin"_s;
    s.password = u"s3cret"_s;
    client.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(session.size(), 1, kWait);
    const QString id = session.first().first().toString();
    QCOMPARE(id.size(), 16);
    QCOMPARE(client.settings().sessionId, id);
    QVERIFY(client.settings().password == u"s3cret"_s); // kept in memory, never saved
    QTRY_VERIFY_WITH_TIMEOUT(!client.supportedFeatures().isEmpty(), kWait);
    QVERIFY(errors.isEmpty());
}

void tst_AdminClient::wrongPassword()
{
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = bcrypt("s3cret");
    Server server(options);
    QVERIFY(server.listening);

    AdminClient client;
    Testers testers(client);
    QSignalSpy errors(&client, &AdminClient::connectError);
    QSignalSpy connected(&client, &AdminClient::connected);
    ConnectionSettings s = settingsFor(server.url());
    s.username = u"admin"_s;
    s.password = u"wrong"_s;
    client.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(errors.size(), 1, kWait);
    QCOMPARE(errors.first().first().toString(), u"invalid credentials"_s);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Disconnected, kWait);
    QCOMPARE(client.lastError(), u"invalid credentials"_s);
    // A refusal is final: no retry behind the user's back.
    QTest::qWait(1500);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(connected.size(), 0);
    QCOMPARE(client.state(), AdminClient::State::Disconnected);
}

void tst_AdminClient::sessionReused()
{
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = bcrypt("s3cret");
    Server server(options);
    QVERIFY(server.listening);

    AdminClient first;
    QSignalSpy session(&first, &AdminClient::sessionReceived);
    ConnectionSettings s = settingsFor(server.url());
    s.username = u"admin"_s;
    s.password = u"s3cret"_s;
    first.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(session.size(), 1, kWait);

    // What the app saves and loads: no password, the session id instead.
    QTemporaryDir dir;
    QSettings stored(dir.filePath(u"s.ini"_s), QSettings::IniFormat);
    first.settings().save(stored);
    const ConnectionSettings reloaded = ConnectionSettings::load(stored);
    QVERIFY(reloaded.password.isEmpty());
    QCOMPARE(reloaded.sessionId, session.first().first().toString());

    AdminClient second;
    Testers testers(second);
    QSignalSpy errors(&second, &AdminClient::connectError);
    QSignalSpy session2(&second, &AdminClient::sessionReceived);
    second.connectToServer(reloaded);
    QTRY_COMPARE_WITH_TIMEOUT(second.state(), AdminClient::State::Connected, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(!second.supportedFeatures().isEmpty(), kWait);
    QVERIFY(errors.isEmpty());
    QCOMPARE(session2.size(), 0); // no new session for a session login
    QCOMPARE(second.settings().sessionId, reloaded.sessionId);
}

void tst_AdminClient::staleSessionRetriesPassword()
{
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = bcrypt("s3cret");
    Server server(options);
    QVERIFY(server.listening);

    AdminClient client;
    Testers testers(client);
    QSignalSpy errors(&client, &AdminClient::connectError);
    QSignalSpy session(&client, &AdminClient::sessionReceived);
    QSignalSpy states(&client, &AdminClient::stateChanged);
    ConnectionSettings s = settingsFor(server.url());
    s.username = u"admin"_s;
    s.password = u"s3cret"_s;
    s.setSession(u"0123456789abcdef"_s); // from an earlier run of the server
    client.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QVERIFY(errors.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(session.size(), 1, kWait);
    QVERIFY(client.settings().sessionId != s.sessionId);
    // The retry does not show as a disconnection.
    for (const QList<QVariant> &change : std::as_const(states))
        QVERIFY(change.first().value<AdminClient::State>() != AdminClient::State::Disconnected);
}

void tst_AdminClient::staleSessionWithoutPassword()
{
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = bcrypt("s3cret");
    Server server(options);
    QVERIFY(server.listening);

    AdminClient client;
    QSignalSpy errors(&client, &AdminClient::connectError);
    ConnectionSettings s = settingsFor(server.url());
    s.setSession(u"0123456789abcdef"_s);
    client.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(errors.size(), 1, kWait);
    QCOMPARE(errors.first().first().toString(), u"invalid credentials"_s);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Disconnected, kWait);
    QVERIFY(client.settings().sessionId.isEmpty()); // dropped: the dialog asks for a password
}

void tst_AdminClient::sessionBoundToServer()
{
    // A session id is only good for the url, path and namespace it was issued for.
    ConnectionSettings s;
    s.url = QUrl(u"http://a.test:3000"_s);
    s.username = u"admin"_s;
    s.password = u"pw"_s;
    s.setSession(u"0123456789abcdef"_s);
    QVERIFY(s.hasUsableSession());
    QCOMPARE(s.auth(), (QVariantMap {{u"sessionId"_s, u"0123456789abcdef"_s}}));
    const QVariantMap login {{u"username"_s, u"admin"_s}, {u"password"_s, u"pw"_s}};
    for (const auto &change : std::initializer_list<std::function<void(ConnectionSettings &)>> {
             [](ConnectionSettings &c) { c.url = QUrl(u"http://b.test:3000"_s); },
             [](ConnectionSettings &c) { c.url = QUrl(u"http://a.test:3001"_s); },
             [](ConnectionSettings &c) { c.url = QUrl(u"https://a.test:3000"_s); },
             [](ConnectionSettings &c) { c.path = u"/other/"_s; },
             [](ConnectionSettings &c) { c.nsp = u"/admin2"_s; }}) {
        ConnectionSettings changed = s;
        change(changed);
        QVERIFY(!changed.hasUsableSession());
        QCOMPARE(changed.auth(), login); // never sent elsewhere
    }
    // Other settings (the transports) do not bind it.
    ConnectionSettings other = s;
    other.websocketOnly = true;
    QVERIFY(other.hasUsableSession());

    // Saved with where it was issued; dropped on load when that no longer matches.
    QTemporaryDir dir;
    {
        QSettings stored(dir.filePath(u"same.ini"_s), QSettings::IniFormat);
        s.save(stored);
        const ConnectionSettings loaded = ConnectionSettings::load(stored);
        QCOMPARE(loaded.sessionId, s.sessionId);
        QVERIFY(loaded.hasUsableSession());
    }
    {
        QSettings stored(dir.filePath(u"moved.ini"_s), QSettings::IniFormat);
        ConnectionSettings moved = s;
        moved.path = u"/io/"_s;
        moved.save(stored);
        QVERIFY(ConnectionSettings::load(stored).sessionId.isEmpty());
        QCOMPARE(ConnectionSettings::load(stored).path, u"/io/"_s);
    }
    {
        // Written by an older build: no record of where it came from.
        QSettings stored(dir.filePath(u"old.ini"_s), QSettings::IniFormat);
        stored.setValue(u"connection/url"_s, s.url);
        stored.setValue(u"connection/sessionId"_s, s.sessionId);
        QVERIFY(ConnectionSettings::load(stored).sessionId.isEmpty());
    }
}

void tst_AdminClient::sessionNotSentElsewhere()
{
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = bcrypt("s3cret");
    Server first(options);
    QVERIFY(first.listening);
    AdminClient client;
    QSignalSpy session(&client, &AdminClient::sessionReceived);
    ConnectionSettings s = settingsFor(first.url());
    s.username = u"admin"_s;
    s.password = u"s3cret"_s;
    client.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(session.size(), 1, kWait);
    ConnectionSettings issued = client.settings();
    QVERIFY(issued.hasUsableSession());
    client.disconnectFromServer();

    // Another server: the first one's session must not reach it, whatever the caller forgot.
    SocketServer other;
    QVariantList auths;
    QObject::connect(other.of(u"/admin"_s), &Namespace::connected,
        [&](Socket *socket) { auths.append(socket->handshake().auth); });
    QVERIFY(other.listen(QHostAddress::LocalHost, 0));
    ConnectionSettings elsewhere = issued;
    elsewhere.url = QUrl(u"http://127.0.0.1:%1"_s.arg(other.serverPort()));
    client.connectToServer(elsewhere);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QCOMPARE(auths.size(), 1);
    QVERIFY(!auths.first().toMap().contains(u"sessionId"_s));
    QCOMPARE(auths.first().toMap().value(u"username"_s).toString(), u"admin"_s);
    QVERIFY(client.settings().sessionId.isEmpty());
}

void tst_AdminClient::maxPayload()
{
    SocketServerOptions serverOptions;
    serverOptions.maxHttpBufferSize = 200000;
    Server server({}, 0, serverOptions);
    QVERIFY(server.listening);
    AdminClient client;
    QCOMPARE(client.maxPayload(), 0); // unknown before a connection
    client.connectToServer(settingsFor(server.url()));
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QCOMPARE(client.maxPayload(), 200000);
    QCOMPARE(client.socketClient()->maxPayload(), 200000);
    client.disconnectFromServer();
    QCOMPARE(client.maxPayload(), 0);

    // The default (1e6) for a server that sets none.
    Server plain;
    client.connectToServer(settingsFor(plain.url()));
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QCOMPARE(client.maxPayload(), 1000000);
}

void tst_AdminClient::socketsModelShowsUser()
{
    Server server;
    AdminClient client;
    Testers testers(client);
    client.connectToServer(settingsFor(server.url()));
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);

    auto user = userClient(server.url());
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    const QString id = user->id();
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, id) >= 0, kWait);
    const int row = socketRow(client.sockets(), u"/"_s, id);
    const SocketsModel::SocketInfo &info = client.sockets()->socketList().at(row);
    QCOMPARE(info.address, u"127.0.0.1"_s);
    QVERIFY(info.rooms.contains(id));
    QVERIFY(info.connectedAt.isValid());
    QVERIFY(qAbs(info.connectedAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    // The upgrade to WebSocket shows through socket_updated.
    QTRY_COMPARE_WITH_TIMEOUT(user->transport(), u"websocket"_s, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(
        client.sockets()
            ->index(socketRow(client.sockets(), u"/"_s, id), SocketsModel::Transport)
            .data()
            .toString(),
        u"websocket"_s, kWait);
    QCOMPARE(client.sockets()
                 ->index(socketRow(client.sockets(), u"/"_s, id), SocketsModel::Address)
                 .data()
                 .toString(),
        u"127.0.0.1"_s);
    QVERIFY(client.rooms()->find(u"/"_s, id, id).isValid());

    user->disconnect();
    QTRY_COMPARE_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, id), -1, kWait);
    QVERIFY(!client.rooms()->find(u"/"_s, id).isValid());
}

void tst_AdminClient::joinAndLeave()
{
    Server server;
    AdminClient client;
    Testers testers(client);
    client.connectToServer(settingsFor(server.url()));
    QTRY_VERIFY_WITH_TIMEOUT(!client.supportedFeatures().isEmpty(), kWait);
    auto user = userClient(server.url());
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    const QString id = user->id();
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, id) >= 0, kWait);

    QVERIFY(client.joinRoom(u"/"_s, u"vip"_s, id));
    QTRY_VERIFY_WITH_TIMEOUT(hasRoom(client.sockets(), u"/"_s, id, u"vip"_s), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(client.rooms()->find(u"/"_s, u"vip"_s, id).isValid(), kWait);
    // The admin's own socket, in another namespace, is untouched.
    QVERIFY(!hasRoom(client.sockets(), u"/admin"_s, client.socketClient()->id(), u"vip"_s));

    // Without a filter: every socket of the namespace.
    auto other = userClient(server.url());
    QTRY_VERIFY_WITH_TIMEOUT(other->isConnected(), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, other->id()) >= 0, kWait);
    QVERIFY(client.joinRoom(u"/"_s, u"all"_s));
    QTRY_VERIFY_WITH_TIMEOUT(hasRoom(client.sockets(), u"/"_s, other->id(), u"all"_s), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(hasRoom(client.sockets(), u"/"_s, id, u"all"_s), kWait);

    QVERIFY(client.leaveRoom(u"/"_s, u"vip"_s, id));
    QTRY_VERIFY_WITH_TIMEOUT(!hasRoom(client.sockets(), u"/"_s, id, u"vip"_s), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(!client.rooms()->find(u"/"_s, u"vip"_s).isValid(), kWait);
    // A room filter: only the members of "all" that... are all of them.
    QVERIFY(client.leaveRoom(u"/"_s, u"all"_s, u"all"_s));
    QTRY_VERIFY_WITH_TIMEOUT(!hasRoom(client.sockets(), u"/"_s, other->id(), u"all"_s), kWait);
}

void tst_AdminClient::emitBinary()
{
    Server server;
    AdminClient client;
    client.connectToServer(settingsFor(server.url()));
    QTRY_VERIFY_WITH_TIMEOUT(!client.supportedFeatures().isEmpty(), kWait);
    auto user = userClient(server.url());
    QVariantList received;
    user->on(u"news"_s, [&](const QVariantList &args, const Ack &) { received = args; });
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);

    const QByteArray blob("\x00\x01\xfe\xff", 4);
    QVERIFY(client.emitEvent(
        u"/"_s, user->id(), u"news"_s, {u"text"_s, blob, QVariantMap {{u"nested"_s, blob}}}));
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 3, kWait);
    QCOMPARE(received.at(0).toString(), u"text"_s);
    QCOMPARE(received.at(1).typeId(), QMetaType::QByteArray);
    QCOMPARE(received.at(1).toByteArray(), blob);
    QCOMPARE(received.at(2).toMap().value(u"nested"_s).toByteArray(), blob);

    // No filter (null on the wire): every socket of the namespace.
    received.clear();
    QVERIFY(client.emitEvent(u"/"_s, {}, u"news"_s, {1}));
    QTRY_COMPARE_WITH_TIMEOUT(received, QVariantList {1}, kWait);
    // The event log shows the binary argument.
    QTRY_VERIFY_WITH_TIMEOUT(
        logHas(client.eventLog(), EventLogModel::Direction::Sent, u"news"_s), kWait);
    QVERIFY(client.eventLog()
                ->index(0, EventLogModel::Arguments)
                .data()
                .toString()
                .contains(u"<binary 4 bytes>"_s));
}

void tst_AdminClient::disconnectCommand()
{
    Server server;
    AdminClient client;
    Testers testers(client);
    client.connectToServer(settingsFor(server.url()));
    QTRY_VERIFY_WITH_TIMEOUT(!client.supportedFeatures().isEmpty(), kWait);
    auto user = userClient(server.url());
    QSignalSpy gone(user.get(), &SocketClient::disconnected);
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    const QString id = user->id();
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, id) >= 0, kWait);

    QVERIFY(client.disconnectSockets(u"/"_s, false, id));
    QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 1, kWait);
    QCOMPARE(gone.first().first().toString(), u"io server disconnect"_s);
    QTRY_COMPARE_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, id), -1, kWait);
    QCOMPARE(client.state(), AdminClient::State::Connected); // the admin stays
}

void tst_AdminClient::eventLog()
{
    Server server;
    AdminClient client;
    Testers testers(client);
    client.connectToServer(settingsFor(server.url()));
    QTRY_VERIFY_WITH_TIMEOUT(!client.supportedFeatures().isEmpty(), kWait);
    auto user = userClient(server.url());
    QVariantList reply;
    user->on(u"reply"_s, [&](const QVariantList &args, const Ack &) { reply = args; });
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    user->emitEvent(u"hello"_s, {41, QByteArray("bin")});
    QTRY_COMPARE_WITH_TIMEOUT(reply, QVariantList {42}, kWait);

    EventLogModel *log = client.eventLog();
    QTRY_VERIFY_WITH_TIMEOUT(logHas(log, EventLogModel::Direction::Received, u"hello"_s), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(log, EventLogModel::Direction::Sent, u"reply"_s), kWait);
    for (int i = 0; i < log->rowCount(); ++i) {
        const EventLogModel::Entry &e = log->entry(i);
        QCOMPARE(e.socketId, user->id());
        QCOMPARE(e.nsp, u"/"_s);
        QVERIFY(e.time.isValid());
        if (e.event == u"hello"_s) {
            QCOMPARE(e.args.value(0).toInt(), 41);
            QCOMPARE(e.args.value(1).toByteArray(), QByteArray("bin"));
            QCOMPARE(log->index(i, EventLogModel::Arguments).data().toString(),
                u"[41,<binary 3 bytes>]"_s);
        }
    }

    // Paused: the entries wait, and appear on resume.
    log->setPaused(true);
    const int before = log->rowCount();
    user->emitEvent(u"hello"_s, {1});
    QTRY_VERIFY_WITH_TIMEOUT(log->pendingCount() >= 2, kWait);
    QCOMPARE(log->rowCount(), before);
    log->setPaused(false);
    QCOMPARE(log->rowCount(), before + 2);
}

void tst_AdminClient::handlersAndRoutes()
{
    Server server;
    AdminClient client;
    Testers testers(client);
    QSignalSpy routesChanged(&client, &AdminClient::routesChanged);
    client.connectToServer(settingsFor(server.url()));
    QTRY_VERIFY_WITH_TIMEOUT(client.handlers()->rowCount() > 0, kWait);
    const HandlersModel *h = client.handlers();
    const auto hasHandler = [h](const QString &nsp, const QString &event, const QString &how) {
        for (int r = 0; r < h->rowCount(); ++r) {
            if (h->index(r, HandlersModel::Namespace).data().toString() == nsp
                && h->index(r, HandlersModel::Event).data().toString() == event
                && h->index(r, HandlersModel::How).data().toString() == how)
                return true;
        }
        return false;
    };
    QVERIFY(hasHandler(u"/"_s, u"hello"_s, u"on"_s));
    QVERIFY(hasHandler(u"/"_s, u"enter"_s, u"on"_s));
    QVERIFY(hasHandler(u"/macro"_s, u"registered_by_macro"_s, u"SOCKET_EVENT"_s));

    QTRY_VERIFY_WITH_TIMEOUT(!client.routes().isEmpty(), kWait);
    QVERIFY(!routesChanged.isEmpty());
    const QVariantMap route = client.routes().first().toMap();
    QCOMPARE(route.value(u"path"_s).toString(), u"/socket.io/"_s);
    QVERIFY(
        route.value(u"mount"_s).toString().contains(QString::number(server.server->serverPort())));
    QVERIFY(!route.value(u"transports"_s).toStringList().isEmpty());
}

void tst_AdminClient::readonlyServer()
{
    AdminOptions options;
    options.readonly = true;
    Server server(options);
    AdminClient client;
    client.connectToServer(settingsFor(server.url()));
    QTRY_VERIFY_WITH_TIMEOUT(!client.supportedFeatures().isEmpty(), kWait);
    QVERIFY(client.isReadonly());
    QVERIFY(client.isDevelopmentMode());
    auto user = userClient(server.url());
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    QVERIFY(!client.joinRoom(u"/"_s, u"x"_s, user->id()));
    QVERIFY(!client.leaveRoom(u"/"_s, u"x"_s));
    QVERIFY(!client.disconnectSockets(u"/"_s, true));
    QVERIFY(!client.emitEvent(u"/"_s, {}, u"news"_s, {}));
    // Still watching.
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, user->id()) >= 0, kWait);
}

void tst_AdminClient::commandsWhileDisconnected()
{
    AdminClient client;
    QVERIFY(!client.joinRoom(u"/"_s, u"x"_s));
    QVERIFY(!client.leaveRoom(u"/"_s, u"x"_s));
    QVERIFY(!client.disconnectSockets(u"/"_s, false));
    QVERIFY(!client.emitEvent(u"/"_s, {}, u"e"_s, {}));
    QVERIFY(client.isReadonly()); // no config yet
    QVERIFY(client.routes().isEmpty());
}

void tst_AdminClient::serverRestart()
{
    AdminOptions options;
    options.username = u"admin"_s;
    options.passwordHash = bcrypt("s3cret");
    auto server = std::make_unique<Server>(options);
    QVERIFY(server->listening);
    const quint16 port = server->server->serverPort();

    AdminClient client;
    Testers testers(client);
    QSignalSpy states(&client, &AdminClient::stateChanged);
    QSignalSpy disconnected(&client, &AdminClient::disconnected);
    ConnectionSettings s = settingsFor(server->url());
    s.username = u"admin"_s;
    s.password = u"s3cret"_s;
    client.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    auto user = userClient(server->url());
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    const QString userId = user->id();
    const QString adminId = client.socketClient()->id();
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, userId) >= 0, kWait);

    // The server goes away (its sessions with it) and comes back on the same port.
    server.reset();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Reconnecting, kWait);
    QVERIFY(!disconnected.isEmpty());
    server = std::make_unique<Server>(options, port);
    QVERIFY(server->listening);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kReconnectWait);
    const QString newAdminId = client.socketClient()->id();
    QVERIFY(newAdminId != adminId);
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/admin"_s, newAdminId) >= 0, kWait);
    // Stale sockets are gone with the fresh all_sockets.
    QCOMPARE(socketRow(client.sockets(), u"/"_s, userId), -1);
    QCOMPARE(socketRow(client.sockets(), u"/admin"_s, adminId), -1);
    QVERIFY(!client.rooms()->find(u"/"_s).isValid());
    QCOMPARE(client.sockets()->rowCount(), 1);
    bool sawReconnecting = false;
    for (const QList<QVariant> &change : std::as_const(states))
        sawReconnecting
            |= change.first().value<AdminClient::State>() == AdminClient::State::Reconnecting;
    QVERIFY(sawReconnecting);

    // And it goes on working.
    auto again = userClient(server->url());
    QTRY_VERIFY_WITH_TIMEOUT(again->isConnected(), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, again->id()) >= 0, kWait);
    QVERIFY(client.joinRoom(u"/"_s, u"back"_s, again->id()));
    QTRY_VERIFY_WITH_TIMEOUT(hasRoom(client.sockets(), u"/"_s, again->id(), u"back"_s), kWait);
}

namespace {

// Node's socket.io with @socket.io/admin-ui (tests/interop/lib/node-admin-server.mjs): started with
// `args`, it prints "PORT <n>" once listening and exits when its stdin closes.
class NodeServer
{
public:
    // Empty when node or the script is missing.
    static QString missing()
    {
        const QString node = qEnvironmentVariable("NODE_EXECUTABLE");
        if (node.isEmpty() || !QFileInfo(node).isExecutable())
            return u"node not found (NODE_EXECUTABLE is not set to an executable)"_s;
        const QString script = qEnvironmentVariable("NODE_ADMIN_SERVER");
        if (script.isEmpty() || !QFileInfo::exists(script))
            return u"tests/interop/lib/node-admin-server.mjs not found (NODE_ADMIN_SERVER)"_s;
        return {};
    }

    // The URL once it listens, or an invalid one.
    QUrl start(const QStringList &args)
    {
        process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process.start(qEnvironmentVariable("NODE_EXECUTABLE"),
            QStringList {qEnvironmentVariable("NODE_ADMIN_SERVER")} + args);
        if (!process.waitForStarted(kWait))
            return {};
        const QRegularExpression portLine(u"PORT (\\d+)"_s);
        QDeadlineTimer deadline(30000);
        while (!deadline.hasExpired() && process.state() == QProcess::Running) {
            output += process.readAllStandardOutput();
            const QRegularExpressionMatch match = portLine.match(QString::fromUtf8(output));
            if (match.hasMatch())
                return QUrl(u"http://127.0.0.1:%1"_s.arg(match.captured(1)));
            process.waitForReadyRead(200);
        }
        return {};
    }

    ~NodeServer()
    {
        if (process.state() == QProcess::NotRunning)
            return;
        process.closeWriteChannel();
        if (!process.waitForFinished(5000)) {
            process.terminate();
            process.waitForFinished(5000);
        }
    }

    QProcess process;
    QByteArray output;
};

} // namespace

void tst_AdminClient::malformedEvents()
{
    // A server that speaks the protocol badly: every malformed event is dropped with a warning,
    // the rest goes on.
    SocketServer server;
    Namespace *admin = server.of(u"/admin"_s);
    QObject::connect(admin, &Namespace::connected, [](Socket *s) {
        const QVariantMap good = QVariantMap {{u"id"_s, u"ok"_s}, {u"nsp"_s, u"/"_s},
            {u"rooms"_s, QStringList {u"ok"_s}}, {u"handshake"_s, 5}, {u"data"_s, u"text"_s}};
        s->emitEvent(u"config"_s, {u"not a map"_s});
        s->emitEvent(u"all_sockets"_s, {QVariantMap {}});
        s->emitEvent(u"all_sockets"_s, {QVariantList {1, u"x"_s, QVariantMap {{u"id"_s, 3}}}});
        s->emitEvent(u"server_stats"_s, {QVariantList {}});
        s->emitEvent(u"server_stats"_s, {});
        s->emitEvent(u"socket_connected"_s, {5, 6});
        s->emitEvent(u"socket_connected"_s, {QVariantMap {{u"nsp"_s, u"/"_s}}});
        s->emitEvent(u"socket_updated"_s, {u"x"_s});
        s->emitEvent(u"socket_disconnected"_s, {QVariantMap {}});
        s->emitEvent(u"room_joined"_s, {u"/"_s, 5});
        s->emitEvent(u"room_left"_s, {});
        s->emitEvent(u"event_received"_s, {u"/"_s, u"id"_s, u"notalist"_s});
        s->emitEvent(u"event_sent"_s, {u"/"_s, u"id"_s, QVariantList {}});
        s->emitEvent(u"session"_s, {QVariantMap {}});
        s->emitEvent(u"qsio:handlers"_s, {u"x"_s});
        s->emitEvent(u"qsio:routes"_s, {7});
        // Then good ones.
        s->emitEvent(u"socket_connected"_s, {good, u"2024-01-01T00:00:00.000Z"_s});
        s->emitEvent(u"room_joined"_s, {u"/"_s, u"r"_s, u"ok"_s, 1704067200000.0});
        s->emitEvent(u"event_received"_s,
            {u"/"_s, u"ok"_s, QVariantList {u"e"_s, 1}, u"2024-01-01T00:00:01.000Z"_s});
        s->emitEvent(
            u"config"_s, {QVariantMap {{u"supportedFeatures"_s, QStringList {u"ALL_EVENTS"_s}}}});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    AdminClient client;
    Testers testers(client);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"malformed config event ignored"_s));
    QTest::ignoreMessage(
        QtWarningMsg, QRegularExpression(u"malformed qsio:routes event ignored"_s));
    client.connectToServer(settingsFor(QUrl(u"http://127.0.0.1:%1"_s.arg(server.serverPort()))));
    QTRY_COMPARE_WITH_TIMEOUT(client.supportedFeatures(), QStringList {u"ALL_EVENTS"_s}, kWait);
    QCOMPARE(client.state(), AdminClient::State::Connected);
    QVERIFY(client.isReadonly());
    QCOMPARE(client.sockets()->rowCount(), 1);
    const SocketsModel::SocketInfo &info = client.sockets()->socketList().first();
    QCOMPARE(info.id, u"ok"_s);
    QCOMPARE(info.rooms, (QStringList {u"ok"_s, u"r"_s}));
    // No handshake.issued: the event's timestamp.
    QCOMPARE(info.connectedAt, QDateTime(QDate(2024, 1, 1), QTime(0, 0), Qt::UTC));
    QCOMPARE(client.eventLog()->rowCount(), 1);
    QCOMPARE(client.eventLog()->entry(0).event, u"e"_s);
    QCOMPARE(client.servers()->rowCount(), 0);
    QCOMPARE(client.handlers()->rowCount(), 0);
    QVERIFY(client.routes().isEmpty());
    QVERIFY(client.settings().sessionId.isEmpty());
}

void tst_AdminClient::nodeServer()
{
    if (const QString why = NodeServer::missing(); !why.isEmpty())
        QSKIP(qPrintable(why));
    NodeServer nodeServer;
    const QUrl url = nodeServer.start({u"--auth"_s, u"admin:nodepass"_s});
    QVERIFY2(url.isValid(), nodeServer.output.constData());

    AdminClient client;
    Testers testers(client);
    QSignalSpy errors(&client, &AdminClient::connectError);
    ConnectionSettings s = settingsFor(url);
    s.username = u"admin"_s;
    s.password = u"nodepass"_s;
    client.connectToServer(s);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QCOMPARE(client.maxPayload(), 1000000); // Node's default maxHttpBufferSize (1e6)
    QTRY_VERIFY_WITH_TIMEOUT(client.supportedFeatures().contains(u"JOIN"_s), kWait);
    QVERIFY(errors.isEmpty());
    QVERIFY(!client.hasHandlersExtension()); // Node knows nothing of our extensions
    // Node emits `session` before its CONNECT packet; the client still gets it.
    QTRY_VERIFY_WITH_TIMEOUT(!client.settings().sessionId.isEmpty(), kWait);

    auto user = userClient(url);
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    const QString id = user->id();
    QTRY_VERIFY_WITH_TIMEOUT(socketRow(client.sockets(), u"/"_s, id) >= 0, kWait);
    const SocketsModel::SocketInfo info
        = client.sockets()->socketList().at(socketRow(client.sockets(), u"/"_s, id));
    QVERIFY(info.connectedAt.isValid()); // from handshake.issued
    QVERIFY(info.address.contains(u"127.0.0.1"_s));

    QVERIFY(client.joinRoom(u"/"_s, u"node-room"_s, id));
    QTRY_VERIFY_WITH_TIMEOUT(hasRoom(client.sockets(), u"/"_s, id, u"node-room"_s), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(client.rooms()->find(u"/"_s, u"node-room"_s, id).isValid(), kWait);

    // Node sends stats every 2 s.
    QTRY_VERIFY_WITH_TIMEOUT(client.servers()->rowCount() >= 1, kWait);
    QVERIFY(!client.servers()->serverList().first().history.empty());

    // An event both ways through Node's echo handler shows in the log.
    bool acked = false;
    user->emitWithAck(
        u"echo"_s, {u"ping"_s}, [&](bool timedOut, const QVariantList &) { acked = !timedOut; },
        5s);
    QTRY_VERIFY_WITH_TIMEOUT(acked, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(
        logHas(client.eventLog(), EventLogModel::Direction::Received, u"echo"_s), kWait);
}

void tst_AdminClient::nodeServerReadonlyProduction()
{
    if (const QString why = NodeServer::missing(); !why.isEmpty())
        QSKIP(qPrintable(why));
    NodeServer nodeServer;
    const QUrl url = nodeServer.start({u"--readonly"_s, u"--mode"_s, u"production"_s});
    QVERIFY2(url.isValid(), nodeServer.output.constData());

    AdminClient client;
    Testers testers(client);
    client.connectToServer(settingsFor(url));
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), AdminClient::State::Connected, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(
        client.supportedFeatures(), QStringList {u"AGGREGATED_EVENTS"_s}, kWait);
    QVERIFY(client.isReadonly());
    QVERIFY(!client.isDevelopmentMode());
    auto user = userClient(url);
    QTRY_VERIFY_WITH_TIMEOUT(user->isConnected(), kWait);
    QVERIFY(!client.joinRoom(u"/"_s, u"x"_s, user->id()));
    // Aggregates only: stats, no sockets.
    QTRY_VERIFY_WITH_TIMEOUT(client.servers()->rowCount() >= 1, kWait);
    QCOMPARE(client.sockets()->rowCount(), 0);
}

QTEST_MAIN(tst_AdminClient)
#include "tst_adminclient.moc"
