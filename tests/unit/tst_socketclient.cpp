// Unit tests of SocketClient against this library's own SocketServer (127.0.0.1, port 0), each
// behaviour on polling only, WebSocket only and polling upgraded to WebSocket; a bare
// QWebSocketServer stands in for a server that stops sending pings. Every wait is bounded.

#include <QSocketIo/socket.h>
#include <QSocketIo/socketclient.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qpointer.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qtcpserver.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>
#include <QtWebSockets/qwebsocket.h>
#include <QtWebSockets/qwebsocketserver.h>

#include <stdexcept>

using namespace QSocketIo;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 5000; // upper bound for anything that should happen "now"

QUrl urlOf(const SocketServer &server)
{
    return QUrl(u"http://127.0.0.1:%1"_s.arg(server.serverPort()));
}

// The three transport setups: the options, and the transport the connection ends up on.
SocketClientOptions optionsFor(const QString &setup)
{
    SocketClientOptions options;
    options.reconnectionDelay = 50ms;
    options.reconnectionDelayMax = 200ms;
    options.timeout = 3s;
    if (setup == u"polling")
        options.transports = {u"polling"_s};
    else if (setup == u"websocket")
        options.websocketOnly = true;
    return options;
}

QString finalTransport(const QString &setup)
{
    return setup == u"polling" ? u"polling"_s : u"websocket"_s;
}

void addSetupRows()
{
    QTest::addColumn<QString>("setup");
    QTest::newRow("polling") << u"polling"_s;
    QTest::newRow("websocket") << u"websocket"_s;
    QTest::newRow("upgrade") << u"upgrade"_s;
}

// Waits until the client is connected and on the transport the setup ends on.
#define WAIT_READY(client, setup)                                                                  \
    do {                                                                                           \
        QTRY_VERIFY_WITH_TIMEOUT((client).isConnected(), kWait);                                   \
        QTRY_COMPARE_WITH_TIMEOUT((client).transport(), finalTransport(setup), kWait);             \
    } while (false)

Socket *onlySocket(SocketServer &server, const QString &nsp = u"/"_s)
{
    const QList<Socket *> sockets = server.of(nsp)->sockets();
    return sockets.size() == 1 ? sockets.first() : nullptr;
}

QByteArray ramp(int n)
{
    QByteArray bytes(n, Qt::Uninitialized);
    for (int i = 0; i < n; ++i)
        bytes[i] = char(i & 0xff);
    return bytes;
}

// Arguments with binary at several depths.
QVariantList nestedBinaryArgs()
{
    return {
        u"text é ✓"_s,
        qint64(42),
        QVariantMap {
            {u"bin"_s, QByteArray("\x00\x01\xfe\xff", 4)},
            {u"deep"_s, QVariantList {QVariantMap {{u"more"_s, ramp(300)}}, true}},
        },
        QVariantList {QByteArray("first"), QByteArray()},
        QVariant::fromValue(nullptr),
    };
}

} // namespace

class TestSocketClient : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();

    void connectWithAuth_data() { addSetupRows(); }
    void connectWithAuth();
    void eventsBothWays_data() { addSetupRows(); }
    void eventsBothWays();
    void largeBinary_data() { addSetupRows(); }
    void largeBinary();
    void acksBothWays_data() { addSetupRows(); }
    void acksBothWays();
    void ackTimeout();
    void ackSettledOnDisconnect();
    void namespacesShareConnection_data() { addSetupRows(); }
    void namespacesShareConnection();
    void urlPathIsNamespace();
    void queryAndHeaders_data() { addSetupRows(); }
    void queryAndHeaders();
    void tls_data() { addSetupRows(); }
    void tls();
    void connectRefusedWithData_data() { addSetupRows(); }
    void connectRefusedWithData();
    void serverDisconnect_data() { addSetupRows(); }
    void serverDisconnect();
    void clientDisconnect_data() { addSetupRows(); }
    void clientDisconnect();
    void reconnectAfterTransportClose_data() { addSetupRows(); }
    void reconnectAfterTransportClose();
    void reconnectAfterServerRestart();
    void reconnectionGivesUp();
    void noReconnectionWhenDisabled();
    void emitsQueuedUntilConnected_data() { addSetupRows(); }
    void emitsQueuedUntilConnected();
    void volatileDroppedWhenNotConnected();
    void heartbeat_data() { addSetupRows(); }
    void heartbeat();
    void pingTimeout();
    void pollingRespectsMaxPayload();
    void handlerExceptionIsCaught();
    void reservedEventNames();
    void stateAndProperties();
    void deleteFromHandler();
};

void TestSocketClient::initTestCase()
{
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void TestSocketClient::connectWithAuth()
{
    QFETCH(QString, setup);
    SocketServer server;
    QVariant seenAuth;
    connect(server.of(u"/"_s), &Namespace::connected, this,
        [&](Socket *s) { seenAuth = s->handshake().auth; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClientOptions options = optionsFor(setup);
    const QVariantMap auth {{u"token"_s, u"abc"_s}, {u"n"_s, qint64(1)}};
    options.auth = auth;
    SocketClient client(urlOf(server), options);
    QSignalSpy connectedSpy(&client, &SocketClient::connected);
    WAIT_READY(client, setup);
    QCOMPARE(connectedSpy.size(), 1);
    QCOMPARE(seenAuth.toMap(), auth);

    Socket *socket = onlySocket(server);
    QVERIFY(socket);
    QCOMPARE(client.id(), socket->id());
    QCOMPARE(client.engineId(), socket->engineSocket()->id());
    QVERIFY(client.id() != client.engineId());
    QTRY_COMPARE_WITH_TIMEOUT(socket->transport(), finalTransport(setup), kWait);
    QCOMPARE(client.state(), SocketClient::State::Connected);
    QCOMPARE(client.nsp(), u"/"_s);
}

void TestSocketClient::eventsBothWays()
{
    QFETCH(QString, setup);
    SocketServer server;
    QList<QVariantList> atServer;
    server.of(u"/"_s)->on(u"hello"_s, [&](Socket *s, const QVariantList &args, const Ack &) {
        atServer.append(args);
        s->emitEvent(u"welcome"_s, args);
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient client(urlOf(server), optionsFor(setup));
    QList<QVariantList> viaOn;
    QList<QPair<QString, QVariantList>> viaAny;
    client.on(u"welcome"_s, [&](const QVariantList &args, const Ack &ack) {
        QVERIFY(!ack.isRequested());
        viaOn.append(args);
    });
    client.onAny([&](const QString &event, const QVariantList &args) {
        viaAny.append({event, args});
    });
    QSignalSpy received(&client, &SocketClient::eventReceived);
    WAIT_READY(client, setup);

    const QVariantList args = nestedBinaryArgs();
    QVERIFY(client.emitEvent(u"hello"_s, args));
    QVERIFY(client.emitEvent(u"hello"_s, {u"second"_s}));
    QTRY_COMPARE_WITH_TIMEOUT(viaOn.size(), 2, kWait);
    QCOMPARE(atServer.size(), 2);
    QCOMPARE(atServer.at(0), args);
    QCOMPARE(viaOn.at(0), args);
    QCOMPARE(viaOn.at(1), QVariantList {u"second"_s});
    QCOMPARE(viaAny.size(), 2);
    QCOMPARE(viaAny.at(0).first, u"welcome"_s);
    QCOMPARE(viaAny.at(0).second, args);
    QCOMPARE(received.size(), 2);
    QCOMPARE(received.at(0).at(0).toString(), u"welcome"_s);
    QCOMPARE(received.at(0).at(1).toList(), args);

    client.off(u"welcome"_s);
    client.offAny();
    QVERIFY(client.emitEvent(u"hello"_s, {u"third"_s}));
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 3, kWait);
    QCOMPARE(viaOn.size(), 2);
    QCOMPARE(viaAny.size(), 2);
}

void TestSocketClient::largeBinary()
{
    QFETCH(QString, setup);
    SocketServer server;
    server.of(u"/"_s)->on(
        u"echo"_s, [](Socket *, const QVariantList &args, const Ack &ack) { ack(args); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient client(urlOf(server), optionsFor(setup));
    WAIT_READY(client, setup);
    const QByteArray big = ramp(300000);
    QVariantList answer;
    bool done = false;
    client.emitWithAck(u"echo"_s, {big, QVariantMap {{u"also"_s, big.left(1000)}}},
        [&](bool timedOut, const QVariantList &args) {
            QVERIFY(!timedOut);
            answer = args;
            done = true;
        });
    QTRY_VERIFY_WITH_TIMEOUT(done, kWait);
    QCOMPARE(answer.size(), 2);
    QCOMPARE(answer.at(0).toByteArray(), big);
    QCOMPARE(answer.at(1).toMap().value(u"also"_s).toByteArray(), big.left(1000));
}

void TestSocketClient::acksBothWays()
{
    QFETCH(QString, setup);
    SocketServer server;
    server.of(u"/"_s)->on(u"double"_s, [](Socket *, const QVariantList &args, const Ack &ack) {
        ack({args.value(0).toLongLong() * 2, QByteArray("\x01\x02", 2)});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient client(urlOf(server), optionsFor(setup));
    client.on(u"ask"_s, [](const QVariantList &args, const Ack &ack) {
        QVERIFY(ack.isRequested());
        ack({u"answer"_s, args.value(0), QVariantMap {{u"bin"_s, QByteArray("\xff", 1)}}});
        ack({u"second call does nothing"_s});
    });
    WAIT_READY(client, setup);

    // Client to server.
    QList<QVariantList> answers;
    for (int i = 1; i <= 3; ++i) {
        client.emitWithAck(u"double"_s, {qint64(i)}, [&](bool timedOut, const QVariantList &args) {
            QVERIFY(!timedOut);
            answers.append(args);
        });
    }
    QTRY_COMPARE_WITH_TIMEOUT(answers.size(), 3, kWait);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(answers.at(i).value(0).toLongLong(), qint64(2 * (i + 1)));
        QCOMPARE(answers.at(i).value(1).toByteArray(), QByteArray("\x01\x02", 2));
    }

    // Server to client.
    Socket *socket = onlySocket(server);
    QVERIFY(socket);
    QVariantList fromClient;
    bool answered = false;
    socket->emitWithAck(
        u"ask"_s, {QByteArray("q")},
        [&](bool timedOut, const QVariantList &args) {
            QVERIFY(!timedOut);
            fromClient = args;
            answered = true;
        },
        3s);
    QTRY_VERIFY_WITH_TIMEOUT(answered, kWait);
    QCOMPARE(fromClient,
        (QVariantList {
            u"answer"_s, QByteArray("q"), QVariantMap {{u"bin"_s, QByteArray("\xff", 1)}}}));
}

void TestSocketClient::ackTimeout()
{
    SocketServer server;
    server.of(u"/"_s)->on(u"late"_s, [](Socket *, const QVariantList &, const Ack &ack) {
        QTimer::singleShot(600ms, [ack] { ack({u"too late"_s}); });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClientOptions options = optionsFor(u"websocket"_s);
    options.ackTimeout = 150ms;
    SocketClient client(urlOf(server), options);
    WAIT_READY(client, u"websocket"_s);

    int calls = 0;
    bool timedOut = false;
    client.emitWithAck(u"silence"_s, {}, [&](bool t, const QVariantList &args) {
        ++calls;
        timedOut = t;
        QVERIFY(args.isEmpty());
    });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QVERIFY(timedOut);

    // A late answer after the timeout is not delivered a second time.
    int lateCalls = 0;
    bool lateTimedOut = false;
    client.emitWithAck(
        u"late"_s, {},
        [&](bool t, const QVariantList &) {
            ++lateCalls;
            lateTimedOut = t;
        },
        200ms);
    QTRY_COMPARE_WITH_TIMEOUT(lateCalls, 1, kWait);
    QVERIFY(lateTimedOut);
    QTest::qWait(700);
    QCOMPARE(lateCalls, 1);

    // An explicit timeout wins over the option; the answer arrives in time.
    bool ok = false;
    client.emitWithAck(
        u"late"_s, {}, [&](bool t, const QVariantList &args) { ok = !t && args.size() == 1; }, 3s);
    QTRY_VERIFY_WITH_TIMEOUT(ok, kWait);
}

void TestSocketClient::ackSettledOnDisconnect()
{
    SocketServer server;
    server.of(u"/"_s)->on(
        u"hang-up"_s, [](Socket *s, const QVariantList &, const Ack &) { s->disconnect(); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient client(urlOf(server), optionsFor(u"websocket"_s));
    WAIT_READY(client, u"websocket"_s);
    int calls = 0;
    bool timedOut = false;
    client.emitWithAck(u"hang-up"_s, {}, [&](bool t, const QVariantList &) {
        ++calls;
        timedOut = t;
    });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QVERIFY(timedOut);
    QVERIFY(!client.isConnected());
}

void TestSocketClient::namespacesShareConnection()
{
    QFETCH(QString, setup);
    SocketServer server;
    QVariant chatAuth;
    connect(server.of(u"/chat"_s), &Namespace::connected, this,
        [&](Socket *s) { chatAuth = s->handshake().auth; });
    for (const QString &name : {u"/"_s, u"/chat"_s}) {
        server.of(name)->on(
            u"where"_s, [name](Socket *, const QVariantList &, const Ack &ack) { ack({name}); });
    }
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClient root(urlOf(server), optionsFor(setup));
    SocketClient *chat = root.of(u"chat"_s, {{u"room"_s, u"lobby"_s}});
    QCOMPARE(root.of(u"/chat"_s), chat);
    QCOMPARE(root.of(u"/"_s), &root);
    QCOMPARE(chat->nsp(), u"/chat"_s);
    WAIT_READY(root, setup);
    QTRY_VERIFY_WITH_TIMEOUT(chat->isConnected(), kWait);
    QCOMPARE(chatAuth.toMap().value(u"room"_s).toString(), u"lobby"_s);
    QCOMPARE(chat->engineId(), root.engineId());
    QVERIFY(chat->id() != root.id());
    QCOMPARE(server.of(u"/chat"_s)->sockets().first()->engineSocket(),
        onlySocket(server)->engineSocket());

    QStringList answers;
    const auto record = [&](bool timedOut, const QVariantList &args) {
        answers.append(timedOut ? u"timeout"_s : args.value(0).toString());
    };
    root.emitWithAck(u"where"_s, {}, record);
    chat->emitWithAck(u"where"_s, {}, record);
    QTRY_COMPARE_WITH_TIMEOUT(answers.size(), 2, kWait);
    answers.sort();
    QCOMPARE(answers, (QStringList {u"/"_s, u"/chat"_s}));

    // Leaving one namespace keeps the connection for the other.
    QSignalSpy rootDisconnected(&root, &SocketClient::disconnected);
    chat->disconnect();
    QTRY_COMPARE_WITH_TIMEOUT(server.of(u"/chat"_s)->socketsCount(), 0, kWait);
    QTest::qWait(100);
    QVERIFY(root.isConnected());
    QCOMPARE(rootDisconnected.size(), 0);
    answers.clear();
    root.emitWithAck(u"where"_s, {}, record);
    QTRY_COMPARE_WITH_TIMEOUT(answers, QStringList {u"/"_s}, kWait);

    // And joining again reuses it.
    const QString engineId = root.engineId();
    chat->open();
    QTRY_VERIFY_WITH_TIMEOUT(chat->isConnected(), kWait);
    QCOMPARE(chat->engineId(), engineId);
}

void TestSocketClient::urlPathIsNamespace()
{
    SocketServer server;
    server.of(u"/admin"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QUrl url = urlOf(server);
    url.setPath(u"/admin"_s);
    SocketClient client(url, optionsFor(u"websocket"_s));
    QCOMPARE(client.nsp(), u"/admin"_s);
    QTRY_VERIFY_WITH_TIMEOUT(client.isConnected(), kWait);
    QCOMPARE(server.of(u"/admin"_s)->socketsCount(), 1);
}

void TestSocketClient::queryAndHeaders()
{
    QFETCH(QString, setup);
    SocketServer server;
    Handshake seen;
    connect(
        server.of(u"/"_s), &Namespace::connected, this, [&](Socket *s) { seen = s->handshake(); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QUrl url = urlOf(server);
    url.setQuery(u"from=url"_s);
    SocketClientOptions options = optionsFor(setup);
    options.query.addQueryItem(u"token"_s, u"a b&c"_s);
    options.extraHeaders = {{"X-Client-Test", "yes"}};
    SocketClient client(url, options);
    WAIT_READY(client, setup);
    QCOMPARE(seen.query.queryItemValue(u"from"_s), u"url"_s);
    QCOMPARE(seen.query.queryItemValue(u"token"_s, QUrl::FullyDecoded), u"a b&c"_s);
    QCOMPARE(seen.query.queryItemValue(u"EIO"_s), u"4"_s);
    QCOMPARE(seen.header("x-client-test"), QByteArray("yes"));
}

void TestSocketClient::tls()
{
    QFETCH(QString, setup);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString cert = dir.filePath(u"cert.pem"_s);
    const QString key = dir.filePath(u"key.pem"_s);
    QProcess openssl;
    openssl.start(u"openssl"_s,
        {u"req"_s, u"-x509"_s, u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s,
            u"ec_paramgen_curve:prime256v1"_s, u"-nodes"_s, u"-keyout"_s, key, u"-out"_s, cert,
            u"-days"_s, u"1"_s, u"-subj"_s, u"/CN=127.0.0.1"_s});
    if (!openssl.waitForFinished(30000) || openssl.exitCode() != 0)
        QSKIP("the openssl command is not available");
    SocketServerOptions serverOptions;
    QString error;
    serverOptions.ssl = EngineOptions::tlsFromPemFiles(cert, key, &error);
    QVERIFY2(serverOptions.ssl, qPrintable(error));
    SocketServer server(serverOptions);
    server.of(u"/"_s)->on(
        u"echo"_s, [](Socket *, const QVariantList &args, const Ack &ack) { ack(args); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QUrl url(u"https://127.0.0.1:%1"_s.arg(server.serverPort()));

    // A self-signed certificate is refused by default...
    SocketClientOptions strict = optionsFor(setup);
    strict.reconnection = false;
    SocketClient refused(url, strict);
    QSignalSpy errors(&refused, &SocketClient::connectError);
    QVERIFY(errors.wait(kWait));
    QVERIFY(!refused.isConnected());

    // ... and accepted without peer verification.
    SocketClientOptions options = optionsFor(setup);
    options.rejectUnauthorized = false;
    SocketClient client(url, options);
    WAIT_READY(client, setup);
    bool ok = false;
    client.emitWithAck(u"echo"_s, {QByteArray("secret")}, [&](bool t, const QVariantList &args) {
        ok = !t && args == QVariantList {QByteArray("secret")};
    });
    QTRY_VERIFY_WITH_TIMEOUT(ok, kWait);
    QVERIFY(onlySocket(server)->handshake().secure);
}

void TestSocketClient::connectRefusedWithData()
{
    QFETCH(QString, setup);
    SocketServer server;
    server.of(u"/guarded"_s)->use([](Socket *s, const Next &next) {
        if (s->handshake().auth.toMap().value(u"token"_s) == u"open sesame"_s)
            next();
        else
            next(ConnectError {u"not allowed"_s, QVariantMap {{u"hint"_s, u"token"_s}}});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SocketClientOptions options = optionsFor(setup);
    options.nsp = u"/guarded"_s;
    SocketClient client(urlOf(server), options);
    QSignalSpy errors(&client, &SocketClient::connectError);
    QSignalSpy reconnecting(&client, &SocketClient::reconnecting);
    QSignalSpy connectedSpy(&client, &SocketClient::connected);
    QVERIFY(errors.wait(kWait));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.at(0).at(0).toString(), u"not allowed"_s);
    QCOMPARE(errors.at(0).at(1).toMap(), (QVariantMap {{u"hint"_s, u"token"_s}}));
    QCOMPARE(client.state(), SocketClient::State::Disconnected);
    QVERIFY(!client.isActive());
    // A refusal is final until the application tries again.
    QTest::qWait(400);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(reconnecting.size(), 0);
    QCOMPARE(connectedSpy.size(), 0);
    QVERIFY(client.transport().isEmpty());

    client.setAuth({{u"token"_s, u"open sesame"_s}});
    client.open();
    WAIT_READY(client, setup);
    QCOMPARE(server.of(u"/guarded"_s)->socketsCount(), 1);
}

void TestSocketClient::serverDisconnect()
{
    QFETCH(QString, setup);
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient client(urlOf(server), optionsFor(setup));
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    QSignalSpy reconnecting(&client, &SocketClient::reconnecting);
    QSignalSpy states(&client, &SocketClient::stateChanged);
    WAIT_READY(client, setup);
    Socket *socket = onlySocket(server);
    QVERIFY(socket);
    socket->disconnect();
    QVERIFY(disconnected.wait(kWait));
    QCOMPARE(disconnected.at(0).at(0).toString(), u"io server disconnect"_s);
    QCOMPARE(client.state(), SocketClient::State::Disconnected);
    QVERIFY(client.id().isEmpty());
    QCOMPARE(states.last().at(0).value<SocketClient::State>(), SocketClient::State::Disconnected);
    QTest::qWait(500); // several reconnection delays
    QCOMPARE(reconnecting.size(), 0);
    QCOMPARE(disconnected.size(), 1);
    QCOMPARE(server.of(u"/"_s)->socketsCount(), 0);
    QVERIFY(client.transport().isEmpty());
}

void TestSocketClient::clientDisconnect()
{
    QFETCH(QString, setup);
    SocketServer server;
    QString serverReason;
    connect(server.of(u"/"_s), &Namespace::disconnected, this,
        [&](Socket *, const QString &reason) { serverReason = reason; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient client(urlOf(server), optionsFor(setup));
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    WAIT_READY(client, setup);
    client.disconnect();
    QCOMPARE(disconnected.size(), 1);
    QCOMPARE(disconnected.at(0).at(0).toString(), u"io client disconnect"_s);
    QCOMPARE(client.state(), SocketClient::State::Disconnected);
    QTRY_COMPARE_WITH_TIMEOUT(serverReason, u"client namespace disconnect"_s, kWait);

    // open() connects again, with a new socket id.
    client.open();
    WAIT_READY(client, setup);
    QCOMPARE(server.of(u"/"_s)->socketsCount(), 1);
}

void TestSocketClient::reconnectAfterTransportClose()
{
    QFETCH(QString, setup);
    SocketServer server;
    int serverConnections = 0;
    connect(server.of(u"/"_s), &Namespace::connected, this, [&] { ++serverConnections; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient client(urlOf(server), optionsFor(setup));
    QSignalSpy connectedSpy(&client, &SocketClient::connected);
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    QSignalSpy reconnecting(&client, &SocketClient::reconnecting);
    QSignalSpy reconnected(&client, &SocketClient::reconnected);
    QList<SocketClient::State> states;
    connect(&client, &SocketClient::stateChanged, this,
        [&](SocketClient::State s) { states.append(s); });
    WAIT_READY(client, setup);
    const QString firstId = client.id();
    const QString firstEngineId = client.engineId();

    onlySocket(server)->engineSocket()->close();
    QVERIFY(disconnected.wait(kWait));
    QCOMPARE(disconnected.at(0).at(0).toString(), u"transport close"_s);
    QTRY_COMPARE_WITH_TIMEOUT(connectedSpy.size(), 2, kWait);
    QCOMPARE(reconnecting.size(), 1);
    QCOMPARE(reconnecting.at(0).at(0).toInt(), 1);
    QCOMPARE(reconnected.size(), 1);
    QCOMPARE(serverConnections, 2);
    QVERIFY(client.id() != firstId);
    QVERIFY(client.engineId() != firstEngineId);
    QCOMPARE(client.id(), onlySocket(server)->id());
    QCOMPARE(states.mid(states.indexOf(SocketClient::State::Connected)),
        (QList<SocketClient::State> {SocketClient::State::Connected,
            SocketClient::State::Reconnecting, SocketClient::State::Connecting,
            SocketClient::State::Connected}));

    // The new connection works both ways.
    server.of(u"/"_s)->on(
        u"ping-me"_s, [](Socket *, const QVariantList &args, const Ack &ack) { ack(args); });
    bool ok = false;
    client.emitWithAck(u"ping-me"_s, {u"x"_s},
        [&](bool t, const QVariantList &args) { ok = !t && args == QVariantList {u"x"_s}; });
    QTRY_VERIFY_WITH_TIMEOUT(ok, kWait);
}

void TestSocketClient::reconnectAfterServerRestart()
{
    auto server = std::make_unique<SocketServer>();
    QVERIFY(server->listen(QHostAddress::LocalHost, 0));
    const quint16 port = server->serverPort();
    const QUrl url = urlOf(*server);

    SocketClientOptions options = optionsFor(u"upgrade"_s);
    options.auth = {{u"who"_s, u"me"_s}};
    SocketClient client(url, options);
    QSignalSpy connectedSpy(&client, &SocketClient::connected);
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    QSignalSpy reconnecting(&client, &SocketClient::reconnecting);
    WAIT_READY(client, u"upgrade"_s);

    server.reset();
    QVERIFY(disconnected.wait(kWait));
    const QString reason = disconnected.at(0).at(0).toString();
    QVERIFY2(reason == u"transport close" || reason == u"transport error", qPrintable(reason));
    // Attempts fail while nobody listens.
    QTRY_VERIFY_WITH_TIMEOUT(reconnecting.size() >= 2, kWait);
    QVERIFY(!client.isConnected());

    server = std::make_unique<SocketServer>();
    QVariant auth;
    connect(server->of(u"/"_s), &Namespace::connected, this,
        [&](Socket *s) { auth = s->handshake().auth; });
    QVERIFY(server->listen(QHostAddress::LocalHost, port));
    QTRY_COMPARE_WITH_TIMEOUT(connectedSpy.size(), 2, kWait);
    QCOMPARE(auth.toMap().value(u"who"_s).toString(), u"me"_s); // CONNECT sent again, with auth
    WAIT_READY(client, u"upgrade"_s);
}

void TestSocketClient::reconnectionGivesUp()
{
    // A port nobody listens on.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const QUrl url(u"http://127.0.0.1:%1"_s.arg(probe.serverPort()));
    probe.close();

    SocketClientOptions options = optionsFor(u"polling"_s);
    options.reconnectionAttempts = 2;
    SocketClient client(url, options);
    QSignalSpy errors(&client, &SocketClient::connectError);
    QSignalSpy reconnecting(&client, &SocketClient::reconnecting);
    QSignalSpy failed(&client, &SocketClient::reconnectFailed);
    QVERIFY(failed.wait(kWait));
    QCOMPARE(errors.size(), 3); // the first try and two attempts
    QCOMPARE(errors.at(0).at(0).toString(), u"xhr poll error"_s);
    QCOMPARE(reconnecting.size(), 2);
    QCOMPARE(reconnecting.at(1).at(0).toInt(), 2);
    QCOMPARE(client.state(), SocketClient::State::Disconnected);
    QTest::qWait(300);
    QCOMPARE(errors.size(), 3);
}

void TestSocketClient::noReconnectionWhenDisabled()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClientOptions options = optionsFor(u"websocket"_s);
    options.reconnection = false;
    SocketClient client(urlOf(server), options);
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    QSignalSpy reconnecting(&client, &SocketClient::reconnecting);
    WAIT_READY(client, u"websocket"_s);
    onlySocket(server)->engineSocket()->close();
    QVERIFY(disconnected.wait(kWait));
    QCOMPARE(client.state(), SocketClient::State::Disconnected);
    QTest::qWait(300);
    QCOMPARE(reconnecting.size(), 0);
    QVERIFY(!client.isConnected());

    client.open(); // by hand
    WAIT_READY(client, u"websocket"_s);
}

void TestSocketClient::emitsQueuedUntilConnected()
{
    QFETCH(QString, setup);
    SocketServer server;
    QStringList seen;
    server.of(u"/"_s)->on(u"early"_s, [&](Socket *, const QVariantList &args, const Ack &ack) {
        seen.append(args.value(0).toString());
        ack({u"ok"_s});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClientOptions options = optionsFor(setup);
    options.autoConnect = false;
    SocketClient client(urlOf(server), options);
    QCOMPARE(client.state(), SocketClient::State::Disconnected);
    QVERIFY(client.emitEvent(u"early"_s, {u"one"_s}));
    bool acked = false;
    client.emitWithAck(u"early"_s, {u"two"_s},
        [&](bool t, const QVariantList &args) { acked = !t && args == QVariantList {u"ok"_s}; });
    QTest::qWait(50);
    QVERIFY(seen.isEmpty());
    client.open();
    QCOMPARE(client.state(), SocketClient::State::Connecting);
    QVERIFY(client.emitEvent(u"early"_s, {u"three"_s}));
    QTRY_COMPARE_WITH_TIMEOUT(seen, (QStringList {u"one"_s, u"two"_s, u"three"_s}), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(acked, kWait);
}

void TestSocketClient::volatileDroppedWhenNotConnected()
{
    SocketServer server;
    QStringList seen;
    server.of(u"/"_s)->on(u"v"_s, [&](Socket *, const QVariantList &args, const Ack &) {
        seen.append(args.value(0).toString());
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient client(urlOf(server), optionsFor(u"websocket"_s));
    QVERIFY(!client.emitVolatile(u"v"_s, {u"before"_s}));
    WAIT_READY(client, u"websocket"_s);
    QVERIFY(client.emitVolatile(u"v"_s, {u"after"_s}));
    QTRY_COMPARE_WITH_TIMEOUT(seen, QStringList {u"after"_s}, kWait);
}

void TestSocketClient::heartbeat()
{
    QFETCH(QString, setup);
    SocketServerOptions serverOptions;
    serverOptions.pingInterval = 100ms;
    serverOptions.pingTimeout = 150ms;
    SocketServer server(serverOptions);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient client(urlOf(server), optionsFor(setup));
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    WAIT_READY(client, setup);
    // Many ping intervals: the client answers every ping, the server keeps it.
    QTest::qWait(800);
    QCOMPARE(disconnected.size(), 0);
    QVERIFY(client.isConnected());
    QCOMPARE(server.of(u"/"_s)->socketsCount(), 1);
}

void TestSocketClient::pingTimeout()
{
    // A server that opens the session and then never pings.
    QWebSocketServer fake(u"fake"_s, QWebSocketServer::NonSecureMode);
    QVERIFY(fake.listen(QHostAddress::LocalHost, 0));
    QList<QWebSocket *> peers;
    connect(&fake, &QWebSocketServer::newConnection, this, [&] {
        QWebSocket *ws = fake.nextPendingConnection();
        peers.append(ws);
        ws->sendTextMessage(
            uR"(0{"sid":"fake-sid","upgrades":[],"pingInterval":150,"pingTimeout":100,"maxPayload":1000000})"_s);
        connect(ws, &QWebSocket::textMessageReceived, ws, [ws](const QString &text) {
            if (text.startsWith(u"40"))
                ws->sendTextMessage(uR"(40{"sid":"fake-socket"})"_s);
        });
    });
    SocketClientOptions options = optionsFor(u"websocket"_s);
    options.reconnection = false;
    SocketClient client(QUrl(u"http://127.0.0.1:%1"_s.arg(fake.serverPort())), options);
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    QTRY_VERIFY_WITH_TIMEOUT(client.isConnected(), kWait);
    QCOMPARE(client.id(), u"fake-socket"_s);
    QCOMPARE(client.engineId(), u"fake-sid"_s);
    QVERIFY(disconnected.wait(kWait));
    QCOMPARE(disconnected.at(0).at(0).toString(), u"ping timeout"_s);
    qDeleteAll(peers);
}

void TestSocketClient::pollingRespectsMaxPayload()
{
    SocketServerOptions serverOptions;
    serverOptions.maxHttpBufferSize = 2000;
    SocketServer server(serverOptions);
    QStringList seen;
    server.of(u"/"_s)->on(u"chunk"_s, [&](Socket *, const QVariantList &args, const Ack &) {
        seen.append(args.value(0).toString().left(4));
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient client(urlOf(server), optionsFor(u"polling"_s));
    QSignalSpy disconnected(&client, &SocketClient::disconnected);
    WAIT_READY(client, u"polling"_s);
    // Twenty packets of ~600 bytes, written at once: more than one POST may carry.
    QStringList expected;
    for (int i = 0; i < 20; ++i) {
        const QString tag = QString::number(i).rightJustified(4, u'0');
        expected.append(tag);
        QVERIFY(client.emitEvent(u"chunk"_s, {tag + QString(600, u'x')}));
    }
    QTRY_COMPARE_WITH_TIMEOUT(seen, expected, kWait);
    QCOMPARE(disconnected.size(), 0);
}

void TestSocketClient::handlerExceptionIsCaught()
{
    SocketServer server;
    connect(server.of(u"/"_s), &Namespace::connected, this, [](Socket *s) {
        s->emitEvent(u"boom"_s);
        s->emitEvent(u"fine"_s);
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClient client(urlOf(server), optionsFor(u"websocket"_s));
    client.on(u"boom"_s,
        [](const QVariantList &, const Ack &) { throw std::runtime_error("handler failure"); });
    bool fine = false;
    client.on(u"fine"_s, [&](const QVariantList &, const Ack &) { fine = true; });
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(u"handler for boom in namespace / threw: handler failure"_s));
    QTRY_VERIFY_WITH_TIMEOUT(fine, kWait);
    QVERIFY(client.isConnected());
}

void TestSocketClient::reservedEventNames()
{
    SocketClientOptions options;
    options.autoConnect = false;
    SocketClient client(QUrl(u"http://127.0.0.1:9"_s), options);
    QTest::ignoreMessage(QtWarningMsg, "connect is a reserved event name: not emitted");
    QVERIFY(!client.emitEvent(u"connect"_s));
    bool timedOut = false;
    QTest::ignoreMessage(QtWarningMsg, "disconnect is a reserved event name: not emitted");
    client.emitWithAck(u"disconnect"_s, {}, [&](bool t, const QVariantList &) { timedOut = t; });
    QVERIFY(timedOut);
}

void TestSocketClient::stateAndProperties()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SocketClientOptions options = optionsFor(u"upgrade"_s);
    SocketClient client(urlOf(server), options);
    QSignalSpy transports(&client, &SocketClient::transportChanged);
    QCOMPARE(
        client.property("state").value<SocketClient::State>(), SocketClient::State::Disconnected);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), SocketClient::State::Connected, kWait);
    QVERIFY(client.property("connected").toBool());
    QCOMPARE(client.property("id").toString(), client.id());
    QTRY_COMPARE_WITH_TIMEOUT(client.property("transport").toString(), u"websocket"_s, kWait);
    QCOMPARE(transports.size(), 2);
    QCOMPARE(transports.at(0).at(0).toString(), u"polling"_s);
    QCOMPARE(transports.at(1).at(0).toString(), u"websocket"_s);
    QCOMPARE(client.url(), urlOf(server));
    QCOMPARE(client.options().effectiveTransports(), (QStringList {u"polling"_s, u"websocket"_s}));
}

void TestSocketClient::deleteFromHandler()
{
    SocketServer server;
    connect(
        server.of(u"/"_s), &Namespace::connected, this, [](Socket *s) { s->emitEvent(u"bye"_s); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QPointer<SocketClient> client = new SocketClient(urlOf(server), optionsFor(u"polling"_s));
    client->on(u"bye"_s, [&](const QVariantList &, const Ack &) { delete client.data(); });
    QTRY_VERIFY_WITH_TIMEOUT(client.isNull(), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(server.of(u"/"_s)->socketsCount(), 0, kWait);
}

QTEST_GUILESS_MAIN(TestSocketClient)
#include "tst_socketclient.moc"
