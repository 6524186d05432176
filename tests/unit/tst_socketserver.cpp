// Unit tests of the Socket.IO layer (SocketServer, Namespace, Socket, BroadcastOperator) driven
// by a small Socket.IO client written here on top of QWebSocket: it speaks Engine.IO over a
// WebSocket-only session and reads and writes Socket.IO v5 packets by hand, so the test sees the
// exact text the server sends. Every server listens on 127.0.0.1 port 0, every wait is bounded.

#include <QSocketIo/adapter.h>
#include <QSocketIo/socket.h>
#include <QSocketIo/socketevent.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qnetworkrequest.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>
#include <QtWebSockets/qwebsocket.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

using namespace QSocketIo;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

// Handlers registered the decorator way; every server of this test picks them up when it starts
// listening.
SOCKET_EVENT("sock-event", "/reg")
{
    ack({args.value(0).toInt() * 2});
}

SOCKET_EVENT("connect", "/reg")
{
    if (!args.value(0).toMap().contains(u"token"_s))
        throw ConnectError {u"token required"_s, QVariantMap {{u"hint"_s, u"send a token"_s}}};
}

namespace {

constexpr int kWait = 5000; // upper bound for anything that should happen "now"

bool isUrlSafeId(const QString &id)
{
    static const QRegularExpression re(u"^[A-Za-z0-9_-]{20}$"_s);
    return re.match(id).hasMatch();
}

// Compact JSON with sorted keys, so that two payloads compare (and print) as text.
QByteArray canon(const QJsonValue &value)
{
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    if (value.isObject())
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    return "<not an object or array>";
}

QByteArray canon(const char *text)
{
    const QJsonDocument doc = QJsonDocument::fromJson(text);
    return canon(doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object()));
}

// One Socket.IO packet as the client saw it.
struct SioPacket
{
    int type = -1;
    QString nsp = u"/"_s;
    qint64 id = -1;
    int attachmentCount = 0;
    QByteArray text; // the Socket.IO packet (Engine.IO's "4" stripped)
    QJsonValue data; // its payload (undefined when it has none)
    QList<QByteArray> attachments;

    bool isEvent() const { return type == 2 || type == 5; }
    bool isEvent(QStringView name) const { return isEvent() && event() == name; }
    QString event() const { return data.toArray().at(0).toString(); }
    QJsonArray args() const
    {
        QJsonArray a = data.toArray();
        if (!a.isEmpty())
            a.removeFirst();
        return a;
    }
};

// The Socket.IO v5 packet grammar: type [attachments "-"] ["/" nsp ","] [id] [json].
bool parseSioPacket(const QByteArray &text, SioPacket *out)
{
    SioPacket p;
    p.text = text;
    qsizetype i = 0;
    if (text.isEmpty() || text.at(0) < '0' || text.at(0) > '6')
        return false;
    p.type = text.at(i++) - '0';
    if (p.type == 5 || p.type == 6) {
        const qsizetype start = i;
        while (i < text.size() && std::isdigit(uchar(text.at(i))))
            ++i;
        if (i == start || i >= text.size() || text.at(i) != '-')
            return false;
        p.attachmentCount = text.mid(start, i - start).toInt();
        ++i;
    }
    if (i < text.size() && text.at(i) == '/') {
        const qsizetype comma = text.indexOf(',', i);
        const qsizetype end = comma < 0 ? text.size() : comma;
        p.nsp = QString::fromUtf8(text.mid(i, end - i));
        i = comma < 0 ? end : comma + 1;
    }
    const qsizetype idStart = i;
    while (i < text.size() && std::isdigit(uchar(text.at(i))))
        ++i;
    if (i > idStart)
        p.id = text.mid(idStart, i - idStart).toLongLong();
    if (i < text.size()) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(text.mid(i), &error);
        if (error.error != QJsonParseError::NoError)
            return false;
        p.data = doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
    }
    *out = p;
    return true;
}

QByteArray nspPrefix(const QString &nsp)
{
    return nsp == u"/" ? QByteArray() : nsp.toUtf8() + ',';
}

// A Socket.IO client over one Engine.IO WebSocket session.
class SioClient : public QObject
{
public:
    QJsonObject open; // the Engine.IO handshake
    QList<QByteArray> frames; // every text frame, as received
    QList<QByteArray> binaryFrames; // every binary frame
    QList<SioPacket> packets; // complete Socket.IO packets, attachments included
    QList<QByteArray> unparsed; // what did not follow the protocol
    QHash<QString, QByteArray> autoAcks; // event -> ack payload sent to events asking for one
    bool everConnected = false;
    bool disconnected = false;
    bool failed = false;
    QWebSocket ws; // last member: destroyed first

    SioClient()
    {
        connect(&ws, &QWebSocket::connected, this, [this] { everConnected = true; });
        connect(&ws, &QWebSocket::disconnected, this, [this] { disconnected = true; });
        connect(&ws, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            [this] { failed = true; });
        connect(&ws, &QWebSocket::textMessageReceived, this, &SioClient::onText);
        connect(&ws, &QWebSocket::binaryMessageReceived, this, &SioClient::onBinary);
    }
    ~SioClient() override
    {
        ws.disconnect(this);
        ws.abort();
    }

    static QUrl url(quint16 port, const QString &query = {})
    {
        return QUrl(u"ws://127.0.0.1:%1/socket.io/?EIO=4&transport=websocket"_s.arg(port) + query);
    }

    // Opens the session and waits for Engine.IO's open packet.
    bool openSession(quint16 port, const QList<QPair<QByteArray, QByteArray>> &headers = {},
        const QString &query = {})
    {
        QNetworkRequest request(url(port, query));
        for (const auto &h : headers)
            request.setRawHeader(h.first, h.second);
        ws.open(request);
        return QTest::qWaitFor([this] { return !open.isEmpty() || failed || disconnected; }, kWait)
            && !open.isEmpty();
    }

    void send(const QByteArray &sioPacket)
    {
        ws.sendTextMessage(QString::fromUtf8("4" + sioPacket));
    }
    void sendBinary(const QByteArray &bytes) { ws.sendBinaryMessage(bytes); }

    // The index of the first packet at or after `from` that matches, waiting for it; -1 if none
    // came.
    int waitFor(
        const std::function<bool(const SioPacket &)> &match, int from = 0, int timeout = kWait)
    {
        int found = -1;
        const bool matched = QTest::qWaitFor(
            [&] {
                for (int i = from; i < packets.size(); ++i) {
                    if (match(packets.at(i))) {
                        found = i;
                        return true;
                    }
                }
                return false;
            },
            timeout);
        return matched ? found : -1;
    }
    int waitEvent(const QString &event, const QString &nsp = u"/"_s, int from = 0)
    {
        return waitFor([&](const SioPacket &p) { return p.isEvent(event) && p.nsp == nsp; }, from);
    }
    int count(const std::function<bool(const SioPacket &)> &match) const
    {
        return int(std::count_if(packets.cbegin(), packets.cend(), match));
    }
    int countEvent(const QString &event, const QString &nsp = u"/"_s) const
    {
        return count([&](const SioPacket &p) { return p.isEvent(event) && p.nsp == nsp; });
    }

    // Sends CONNECT and returns the server's answer to it (CONNECT or CONNECT_ERROR).
    std::optional<SioPacket> connectTo(const QString &nsp = u"/"_s, const QByteArray &auth = {})
    {
        const int from = int(packets.size());
        send("0" + nspPrefix(nsp) + auth);
        const int i = waitFor(
            [&](const SioPacket &p) { return (p.type == 0 || p.type == 4) && p.nsp == nsp; }, from);
        if (i < 0)
            return std::nullopt;
        return packets.at(i);
    }

    // An event with an ack id that the server's "roundtrip" handler answers: once the answer is
    // here, the server has handled everything the client sent before.
    bool roundTrip(const QString &nsp = u"/"_s)
    {
        const qint64 id = 100000 + nextRoundTrip++;
        const int from = int(packets.size());
        send("2" + nspPrefix(nsp) + QByteArray::number(id) + R"(["roundtrip"])");
        return waitFor(
                   [&](const SioPacket &p) { return p.type == 3 && p.id == id && p.nsp == nsp; },
                   from)
            >= 0;
    }

    bool waitDisconnected(int timeout = kWait)
    {
        return QTest::qWaitFor([this] { return disconnected; }, timeout);
    }

private:
    SioPacket pending;
    int awaiting = 0;
    int nextRoundTrip = 0;

    void onText(const QString &text)
    {
        const QByteArray utf8 = text.toUtf8();
        frames.append(utf8);
        if (utf8 == "2") {
            ws.sendTextMessage(u"3"_s);
            return;
        }
        if (utf8.startsWith('0')) {
            open = QJsonDocument::fromJson(utf8.mid(1)).object();
            return;
        }
        SioPacket p;
        if (!utf8.startsWith('4') || awaiting > 0 || !parseSioPacket(utf8.mid(1), &p)) {
            unparsed.append(utf8);
            return;
        }
        if (p.attachmentCount > 0) {
            pending = p;
            awaiting = p.attachmentCount;
            return;
        }
        deliver(p);
    }
    void onBinary(const QByteArray &bytes)
    {
        binaryFrames.append(bytes);
        if (awaiting == 0) {
            unparsed.append(bytes);
            return;
        }
        pending.attachments.append(bytes);
        if (--awaiting == 0)
            deliver(pending);
    }
    void deliver(const SioPacket &p)
    {
        packets.append(p);
        if (p.isEvent() && p.id >= 0 && autoAcks.contains(p.event()))
            send("3" + nspPrefix(p.nsp) + QByteArray::number(p.id) + autoAcks.value(p.event()));
    }
};

// One client joined to one namespace, with the server's socket for it.
struct Peer
{
    std::unique_ptr<SioClient> client = std::make_unique<SioClient>();
    QPointer<Socket> socket;
    QString sid;
    SioClient *operator->() const { return client.get(); }
};

void addRoundTrip(Namespace *nsp)
{
    nsp->on(u"roundtrip"_s, [](Socket *, const QVariantList &, const Ack &ack) { ack(); });
}

// Opens a session for the peer if it has none and joins `nsp`.
bool join(
    SocketServer &server, Peer &peer, const QString &nsp = u"/"_s, const QByteArray &auth = {})
{
    if (peer->open.isEmpty() && !peer->openSession(server.serverPort()))
        return false;
    const std::optional<SioPacket> reply = peer->connectTo(nsp, auth);
    if (!reply || reply->type != 0)
        return false;
    peer.sid = reply->data.toObject().value(u"sid").toString();
    peer.socket = server.socket(peer.sid, nsp);
    return peer.socket;
}

// Once the peer has this, it has everything the server sent it before.
bool sync(Peer &peer)
{
    static int counter = 0;
    const int n = ++counter;
    if (!peer.socket || !peer.socket->emitEvent(u"sync"_s, {n}))
        return false;
    const QString nsp = peer.socket->nsp()->name();
    return peer->waitFor([&](const SioPacket &p) {
        return p.isEvent(u"sync") && p.nsp == nsp && p.args().at(0).toInt() == n;
    }) >= 0;
}

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

QStringList sorted(const QSet<QString> &set)
{
    return sorted(QStringList(set.cbegin(), set.cend()));
}

QStringList ids(const QList<Socket *> &sockets)
{
    QStringList list;
    for (Socket *s : sockets)
        list.append(s->id());
    return sorted(list);
}

} // namespace

class TestSocketServer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void inMemoryAdapterOwnRooms();

    void connectToDefaultNamespace();
    void connectToCustomNamespace();
    void connectedBeforeFirstEvent();
    void unknownNamespaceRefused();
    void wildcardNamespaces();
    void dynamicNamespace();
    void dynamicNamespaceCallback();
    void dynamicParentConnectedSignal();
    void dynamicParentEmitReachesChildren();
    void middlewaresRunInOrder();
    void middlewareOutlivesConnection();
    void middlewareRefuses();
    void connectHandlerRejects();
    void connectHandlerThrows();
    void emitsDuringConnectHandlerWaitForConnect_data();
    void emitsDuringConnectHandlerWaitForConnect();
    void handshakeContents();
    void eventsAndAcks();
    void ackInNamespace();
    void handlerExceptionIsCaught();
    void serverAckCallback();
    void serverAckTimeout();
    void serverAckTimeoutAfterDisconnect();
    void serverAckSignals();
    void binaryToClient();
    void binaryFromClient();
    void binaryAcks();
    void rooms();
    void broadcastOperator();
    void broadcastWithAck();
    void pythonStyleApi();
    void socketMiddleware();
    void onAnyOutgoing();
    void disconnectByClient();
    void disconnectByServer();
    void disconnectByTransportClose();
    void disconnectOnParseError();
    void disconnectingBeforeDisconnected();
    void connectTimeout();
    void socketEventRegistry();
    void routes();
    void socketApiDefault();
    void gracefulClose();
    void closeAfterBroadcastAckTimedOut();
    void volatileEmit();
    void disconnectFromDisconnecting();
    void emitWithAckOnClosedSocket();
    void ackAskedByRefusedSocket();
    void nextAfterServerDeleted();
    void secondConnectWhileConnecting();
    void disconnectWhileConnectingIsNoOp();
    void reservedEventNamesNotEmitted();
    void throwingPacketMiddleware();
    void emptyChildNamespacesCleanedUp();
};

void TestSocketServer::initTestCase()
{
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

// ---------------------------------------------------------------------------------------------
// Connecting

void TestSocketServer::connectToDefaultNamespace()
{
    QList<Socket *> connected;
    SocketServer server;
    connect(
        server.of(u"/"_s), &Namespace::connected, this, [&](Socket *s) { connected.append(s); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const QString engineSid = c.open.value(u"sid").toString();
    QVERIFY(!engineSid.isEmpty());
    QVERIFY(connected.isEmpty());

    const std::optional<SioPacket> reply = c.connectTo();
    QVERIFY(reply);
    QVERIFY2(reply->text.startsWith("0{"), reply->text.constData());
    QCOMPARE(reply->type, 0);
    QCOMPARE(reply->nsp, u"/"_s);
    const QJsonObject payload = reply->data.toObject();
    QCOMPARE(payload.keys(), QStringList {u"sid"_s});
    const QString sid = payload.value(u"sid").toString();
    QVERIFY2(isUrlSafeId(sid), qPrintable(sid));
    QVERIFY(sid != engineSid);

    QCOMPARE(connected.size(), 1);
    Socket *s = connected.first();
    QCOMPARE(s->id(), sid);
    QCOMPARE(s->nsp(), server.of(u"/"_s));
    QVERIFY(s->isConnected());
    QCOMPARE(s->transport(), u"websocket"_s);
    QVERIFY(s->engineSocket());
    QCOMPARE(s->engineSocket()->id(), engineSid);
    QCOMPARE(server.of(u"/"_s)->socketsCount(), 1);
    QCOMPARE(server.socket(sid), s);
    QVERIFY(c.unparsed.isEmpty());
}

void TestSocketServer::connectToCustomNamespace()
{
    QList<Socket *> connected;
    SocketServer server;
    connect(
        server.of(u"chat"_s), &Namespace::connected, this, [&](Socket *s) { connected.append(s); });
    QCOMPARE(server.of(u"/chat"_s), server.of(u"chat"_s));
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> reply = c.connectTo(u"/chat"_s, R"({"token":"x"})");
    QVERIFY(reply);
    QVERIFY2(reply->text.startsWith("0/chat,{"), reply->text.constData());
    QCOMPARE(reply->type, 0);
    QCOMPARE(reply->nsp, u"/chat"_s);
    const QString sid = reply->data.toObject().value(u"sid").toString();
    QVERIFY2(isUrlSafeId(sid), qPrintable(sid));
    QVERIFY(sid != c.open.value(u"sid").toString());

    QCOMPARE(connected.size(), 1);
    QCOMPARE(connected.first()->id(), sid);
    QCOMPARE(connected.first()->nsp()->name(), u"/chat"_s);
    QCOMPARE(connected.first()->handshake().auth.toMap().value(u"token"_s).toString(), u"x"_s);
    QCOMPARE(server.socket(sid, u"/chat"_s), connected.first());
    QVERIFY(!server.socket(sid)); // not in "/"

    // The same connection joins "/" too, as another socket.
    const std::optional<SioPacket> root = c.connectTo();
    QVERIFY(root);
    QCOMPARE(root->type, 0);
    const QString rootSid = root->data.toObject().value(u"sid").toString();
    QVERIFY(isUrlSafeId(rootSid));
    QVERIFY(rootSid != sid);
    QCOMPARE(server.socket(rootSid)->engineSocket(), connected.first()->engineSocket());
}

void TestSocketServer::connectedBeforeFirstEvent()
{
    QStringList log;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->on(u"first"_s, [&](Socket *, const QVariantList &, const Ack &) { log << u"on:first"_s; });
    connect(nsp, &Namespace::connected, this, [&](Socket *s) {
        log << u"connected"_s;
        connect(s, &Socket::eventReceived, this,
            [&](const QString &event) { log << u"eventReceived:"_s + event; });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    // CONNECT and the first event back to back, without waiting for the CONNECT reply.
    c.send("0");
    c.send(R"(2["first"])");
    QTRY_COMPARE_WITH_TIMEOUT(log.size(), 3, kWait);
    QCOMPARE(log, QStringList({u"connected"_s, u"on:first"_s, u"eventReceived:first"_s}));
}

void TestSocketServer::unknownNamespaceRefused()
{
    QList<Socket *> connected;
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> reply = c.connectTo(u"/nope"_s);
    QVERIFY(reply);
    QCOMPARE(reply->text, QByteArray(R"(4/nope,{"message":"Invalid namespace"})"));
    QVERIFY(!server.existingNamespace(u"/nope"_s));

    // The connection goes on: "/" can still be joined.
    const std::optional<SioPacket> root = c.connectTo();
    QVERIFY(root);
    QCOMPARE(root->type, 0);
    QVERIFY(!c.disconnected);
}

void TestSocketServer::wildcardNamespaces()
{
    SocketServerOptions options;
    options.namespaces = {u"*"_s};
    SocketServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    for (const QString &name : {u"/anything"_s, u"/other/deeper"_s}) {
        const std::optional<SioPacket> reply = c.connectTo(name);
        QVERIFY(reply);
        QVERIFY2(reply->type == 0, reply->text.constData());
        QCOMPARE(reply->nsp, name);
        QVERIFY(server.existingNamespace(name));
        QCOMPARE(server.existingNamespace(name)->socketsCount(), 1);
        QVERIFY(!server.existingNamespace(name)->parentNamespace());
    }
}

void TestSocketServer::dynamicNamespace()
{
    QStringList middlewareRuns;
    SocketServer server;
    Namespace *parent = server.of(QRegularExpression(u"^/dyn-\\d+$"_s));
    QVERIFY(parent);
    parent->use([&](Socket *s, const Next &next) {
        middlewareRuns << s->nsp()->name();
        next();
    });
    parent->on(u"whoami"_s,
        [](Socket *s, const QVariantList &, const Ack &ack) { ack({s->nsp()->name()}); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    for (const QString &name : {u"/dyn-1"_s, u"/dyn-22"_s}) {
        const std::optional<SioPacket> reply = c.connectTo(name);
        QVERIFY(reply);
        QVERIFY2(reply->type == 0, reply->text.constData());
        Namespace *child = server.existingNamespace(name);
        QVERIFY(child);
        QVERIFY(child != parent);
        QCOMPARE(child->name(), name);
        QCOMPARE(child->parentNamespace(), parent);
        QCOMPARE(child->socketsCount(), 1);

        // The parent's handler answers in the child's name.
        c.send("2" + nspPrefix(name) + R"(7["whoami"])");
        const int i = c.waitFor([&](const SioPacket &p) { return p.type == 3 && p.nsp == name; });
        QVERIFY(i >= 0);
        QCOMPARE(c.packets.at(i).text, "3" + nspPrefix(name) + "7[\"" + name.toUtf8() + "\"]");
    }
    QVERIFY(server.existingNamespace(u"/dyn-1"_s) != server.existingNamespace(u"/dyn-22"_s));
    QCOMPARE(middlewareRuns, QStringList({u"/dyn-1"_s, u"/dyn-22"_s}));

    // A name the pattern refuses.
    const std::optional<SioPacket> refused = c.connectTo(u"/dyn-x"_s);
    QVERIFY(refused);
    QCOMPARE(refused->text, QByteArray(R"(4/dyn-x,{"message":"Invalid namespace"})"));
    QCOMPARE(middlewareRuns.size(), 2);
}

// Node: a parent namespace's "connection" listeners are copied to each child it creates, which is
// how `io.of(/regex/).on("connection", ...)` is used. Ours: the parent's connected() signal.
void TestSocketServer::dynamicNamespaceCallback()
{
    QList<QPair<QString, QVariant>> asked;
    SocketServer server;
    Namespace *parent = server.of([&](const QString &name, const QVariant &auth) {
        asked.append({name, auth});
        return name.startsWith(u"/cb-"_s) && auth.toMap().contains(u"ok"_s);
    });
    parent->on(u"whoami"_s,
        [](Socket *s, const QVariantList &, const Ack &ack) { ack({s->nsp()->name()}); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> refused = c.connectTo(u"/cb-1"_s, R"({"nope":1})");
    QVERIFY(refused);
    QCOMPARE(refused->text, QByteArray(R"(4/cb-1,{"message":"Invalid namespace"})"));
    const std::optional<SioPacket> accepted = c.connectTo(u"/cb-1"_s, R"({"ok":1})");
    QVERIFY(accepted);
    QVERIFY2(accepted->type == 0, accepted->text.constData());
    QCOMPARE(server.existingNamespace(u"/cb-1"_s)->parentNamespace(), parent);
    QCOMPARE(asked.size(), 2);
    QCOMPARE(asked.at(1).first, u"/cb-1"_s);
    QCOMPARE(asked.at(1).second.toMap().value(u"ok"_s).toInt(), 1);
    c.send(R"(2/cb-1,3["whoami"])");
    const int i = c.waitFor([](const SioPacket &p) { return p.type == 3 && p.id == 3; });
    QVERIFY(i >= 0);
    QCOMPARE(c.packets.at(i).text, QByteArray(R"(3/cb-1,3["/cb-1"])"));
}

void TestSocketServer::dynamicParentConnectedSignal()
{
    QStringList parentConnected;
    SocketServer server;
    Namespace *parent = server.of(QRegularExpression(u"^/dyn-\\d+$"_s));
    connect(parent, &Namespace::connected, this,
        [&](Socket *s) { parentConnected << s->nsp()->name(); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> reply = c.connectTo(u"/dyn-7"_s);
    QVERIFY(reply);
    QCOMPARE(reply->type, 0);
    QTRY_COMPARE_WITH_TIMEOUT(parentConnected, QStringList {u"/dyn-7"_s}, 1000);
}

// Node: emitting on the parent namespace broadcasts to every child (ParentBroadcastAdapter), each
// child's sockets getting the packet in their own namespace.
void TestSocketServer::dynamicParentEmitReachesChildren()
{
    SocketServer server;
    Namespace *parent = server.of(QRegularExpression(u"^/dyn-\\d+$"_s));
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    Peer a, b;
    QVERIFY(join(server, a, u"/dyn-1"_s));
    QVERIFY(join(server, b, u"/dyn-2"_s));
    parent->emitEvent(u"all-children"_s, {1});
    const int i = a->waitFor(
        [](const SioPacket &p) { return p.isEvent(u"all-children") && p.nsp == u"/dyn-1"; }, 0,
        1000);
    QVERIFY2(i >= 0, "a child namespace's socket did not get the parent's broadcast");
    QCOMPARE(a->packets.at(i).text, QByteArray(R"(2/dyn-1,["all-children",1])"));
    QVERIFY(b->waitEvent(u"all-children"_s, u"/dyn-2"_s) >= 0);
}

// ---------------------------------------------------------------------------------------------
// Connect middlewares and connect handlers

void TestSocketServer::middlewaresRunInOrder()
{
    QStringList log;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->use([&](Socket *s, const Next &next) {
        log << u"first"_s;
        QVERIFY(!s->isConnected());
        next();
    });
    nsp->use([&](Socket *s, const Next &next) {
        log << u"second"_s;
        // Asynchronous: the connection waits for next().
        QTimer::singleShot(100, s, [&log, next] {
            log << u"second done"_s;
            next();
        });
    });
    nsp->use([&](Socket *, const Next &next) {
        log << u"third"_s;
        next();
    });
    connect(nsp, &Namespace::connected, this, [&](Socket *) { log << u"connected"_s; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    QElapsedTimer clock;
    clock.start();
    const std::optional<SioPacket> reply = c.connectTo();
    QVERIFY(reply);
    QCOMPARE(reply->type, 0);
    QVERIFY(clock.elapsed() >= 90);
    QCOMPARE(
        log, QStringList({u"first"_s, u"second"_s, u"second done"_s, u"third"_s, u"connected"_s}));
}

// Node: a socket whose connection closed while its middlewares ran is dropped, never connected.
void TestSocketServer::middlewareOutlivesConnection()
{
    int connected = 0;
    bool middlewareDone = false;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->use([&](Socket *, const Next &next) {
        // The socket itself goes with its connection; the continuation outlives it.
        QTimer::singleShot(300, this, [&middlewareDone, next] {
            middlewareDone = true;
            next();
        });
    });
    connect(nsp, &Namespace::connected, this, [&] { ++connected; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    c.send("0");
    QTest::qWait(50);
    c.ws.close();
    QVERIFY(c.waitDisconnected());
    QTRY_VERIFY_WITH_TIMEOUT(middlewareDone, kWait);
    QTest::qWait(50);
    QCOMPARE(connected, 0);
    QCOMPARE(nsp->socketsCount(), 0);
}

void TestSocketServer::middlewareRefuses()
{
    QStringList log;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->use([&](Socket *, const Next &next) {
        log << u"first"_s;
        next();
    });
    nsp->use([&](Socket *s, const Next &next) {
        log << u"refusing"_s;
        QTimer::singleShot(20, s, [next] {
            next(ConnectError {
                u"not authorized"_s, QVariantMap {{u"code"_s, 42}, {u"retry"_s, false}}});
        });
    });
    nsp->use([&](Socket *, const Next &next) {
        log << u"never"_s;
        next();
    });
    connect(nsp, &Namespace::connected, this, [&](Socket *) { log << u"connected"_s; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> reply = c.connectTo();
    QVERIFY(reply);
    QVERIFY2(reply->text.startsWith("4{"), reply->text.constData());
    QCOMPARE(canon(reply->data),
        canon(R"({"message":"not authorized","data":{"code":42,"retry":false}})"));
    QCOMPARE(log, QStringList({u"first"_s, u"refusing"_s}));
    QCOMPARE(nsp->socketsCount(), 0);
}

void TestSocketServer::connectHandlerRejects()
{
    int connected = 0;
    SocketServer server;
    Namespace *nsp = server.of(u"/reject"_s);
    nsp->onConnect(
        [](Socket *, const QVariant &auth) { return auth.toMap().value(u"token"_s) == u"good"_s; });
    connect(nsp, &Namespace::connected, this, [&] { ++connected; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> refused = c.connectTo(u"/reject"_s, R"({"token":"bad"})");
    QVERIFY(refused);
    QCOMPARE(refused->text, QByteArray(R"(4/reject,{"message":"Connection rejected by server"})"));
    QCOMPARE(connected, 0);

    const std::optional<SioPacket> accepted = c.connectTo(u"/reject"_s, R"({"token":"good"})");
    QVERIFY(accepted);
    QVERIFY2(accepted->type == 0, accepted->text.constData());
    QCOMPARE(connected, 1);
}

void TestSocketServer::emitsDuringConnectHandlerWaitForConnect_data()
{
    QTest::addColumn<bool>("alwaysConnect");
    QTest::newRow("connect after the handlers") << false;
    QTest::newRow("always_connect") << true;
}

void TestSocketServer::emitsDuringConnectHandlerWaitForConnect()
{
    // python-socketio style: the connect handler runs with the socket already in its rooms, and
    // what it sends reaches the client after the CONNECT reply, or never if it refuses.
    QFETCH(bool, alwaysConnect);
    SocketServerOptions options;
    options.alwaysConnect = alwaysConnect;
    SocketServer server(options);
    Namespace *nsp = server.of(u"/hello"_s);
    nsp->onConnect([&server](Socket *socket, const QVariant &auth) {
        socket->emitEvent(u"direct"_s, {1});
        server.emitEvent(u"by-sid"_s, {2}, EmitOptions().to(socket->id()).nsp(u"/hello"_s));
        return auth.toMap().value(u"ok"_s).toBool();
    });
    addRoundTrip(server.of(u"/"_s));
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    QVERIFY(c.connectTo());

    const std::optional<SioPacket> accepted = c.connectTo(u"/hello"_s, R"({"ok":true})");
    QVERIFY(accepted);
    QCOMPARE(accepted->type, 0);
    const int connectAt
        = c.waitFor([](const SioPacket &p) { return p.type == 0 && p.nsp == u"/hello"; });
    const int direct = c.waitEvent(u"direct"_s, u"/hello"_s);
    const int bySid = c.waitEvent(u"by-sid"_s, u"/hello"_s);
    QVERIFY(direct > connectAt);
    QVERIFY(bySid > direct);

    SioClient c2;
    QVERIFY(c2.openSession(server.serverPort()));
    QVERIFY(c2.connectTo());
    const int before = int(c2.packets.size());
    const std::optional<SioPacket> refused = c2.connectTo(u"/hello"_s, R"({"ok":false})");
    QVERIFY(refused);
    if (alwaysConnect) {
        // Connected first, then disconnected by the refusal: what was sent arrives in between.
        QCOMPARE(refused->type, 0);
        QVERIFY(
            c2.waitFor([](const SioPacket &p) { return p.type == 1 && p.nsp == u"/hello"; }, before)
            >= 0);
    } else {
        QCOMPARE(
            refused->text, QByteArray(R"(4/hello,{"message":"Connection rejected by server"})"));
        QVERIFY(c2.roundTrip());
        QCOMPARE(c2.countEvent(u"direct"_s, u"/hello"_s), 0); // dropped with the refusal
        QCOMPARE(c.countEvent(u"direct"_s, u"/hello"_s), 1);
    }
}

void TestSocketServer::connectHandlerThrows()
{
    SocketServer server;
    Namespace *nsp = server.of(u"/throw"_s);
    nsp->onConnect([](Socket *, const QVariant &) -> bool {
        throw ConnectError {u"bad token"_s, QVariantMap {{u"reason"_s, u"expired"_s}}};
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> reply = c.connectTo(u"/throw"_s, R"({"token":"x"})");
    QVERIFY(reply);
    QCOMPARE(reply->type, 4);
    QCOMPARE(reply->nsp, u"/throw"_s);
    QCOMPARE(canon(reply->data), canon(R"({"message":"bad token","data":{"reason":"expired"}})"));
    QCOMPARE(nsp->socketsCount(), 0);
}

void TestSocketServer::handshakeContents()
{
    std::optional<Handshake> seen;
    SocketServer server;
    server.of(u"/"_s)->use([&](Socket *s, const Next &next) {
        seen = s->handshake();
        next();
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient c;
    QVERIFY(c.openSession(server.serverPort(), {{"X-Custom", "hello"}}, u"&foo=bar"_s));
    const std::optional<SioPacket> reply = c.connectTo(u"/"_s, R"({"token":"abc","n":3})");
    QVERIFY(reply);
    QCOMPARE(reply->type, 0);
    QVERIFY(seen);
    QCOMPARE(seen->auth.toMap().value(u"token"_s).toString(), u"abc"_s);
    QCOMPARE(seen->auth.toMap().value(u"n"_s).toInt(), 3);
    QCOMPARE(seen->query.queryItemValue(u"foo"_s), u"bar"_s);
    QCOMPARE(seen->query.queryItemValue(u"EIO"_s), u"4"_s);
    QCOMPARE(seen->header("x-custom"), QByteArray("hello"));
    QCOMPARE(seen->header("X-CUSTOM"), QByteArray("hello"));
    QVERIFY(seen->header("x-absent").isEmpty());
    QVERIFY2(seen->address.isEqual(
                 QHostAddress(QHostAddress::LocalHost), QHostAddress::TolerantConversion),
        qPrintable(seen->address.toString()));
    QVERIFY(!seen->secure);
    QVERIFY(seen->time.isValid());
    QCOMPARE(seen->url.path(), u"/socket.io/"_s);

    // A CONNECT without payload: no auth.
    std::optional<Handshake> second;
    server.of(u"/plain"_s)->use([&](Socket *s, const Next &next) {
        second = s->handshake();
        next();
    });
    QVERIFY(c.connectTo(u"/plain"_s));
    QVERIFY(second);
    QVERIFY(second->auth.toMap().isEmpty());
}

// ---------------------------------------------------------------------------------------------
// Events and acks

void TestSocketServer::eventsAndAcks()
{
    struct Received
    {
        QString event;
        QVariantList args;
        Ack ack;
    };
    QStringList log;
    QList<Received> received;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    addRoundTrip(nsp);
    nsp->on(
        u"hello"_s, [&](Socket *, const QVariantList &, const Ack &) { log << u"nsp-on:hello"_s; });
    nsp->on(u"withAck"_s, [&](Socket *, const QVariantList &, const Ack &ack) {
        log << u"nsp-on:withAck"_s;
        ack({u"ok"_s, 2});
        QVERIFY(ack.isSent());
        ack({u"second"_s}); // ignored
    });
    connect(nsp, &Namespace::connected, this, [&](Socket *s) {
        log << u"connected"_s;
        s->on(u"hello"_s, [&](const QVariantList &, const Ack &) { log << u"socket-on:hello"_s; });
        s->onAny([&](const QString &event, const QVariantList &) { log << u"any:"_s + event; });
        connect(s, &Socket::eventReceived, this,
            [&](const QString &event, const QVariantList &args, const Ack &ack) {
                if (event == u"roundtrip")
                    return;
                log << u"signal:"_s + event;
                received.append({event, args, ack});
            });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    Peer p;
    QVERIFY(join(server, p));
    p->send(R"(2["hello",1,{"a":[true,null]},"x",2.5])");
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1, kWait);
    QCOMPARE(received.at(0).event, u"hello"_s);
    const QVariantList args = received.at(0).args;
    QCOMPARE(args.size(), 4);
    QCOMPARE(args.at(0).toInt(), 1);
    const QVariantList a = args.at(1).toMap().value(u"a"_s).toList();
    QCOMPARE(a.size(), 2);
    QCOMPARE(a.at(0), QVariant(true));
    QVERIFY(a.at(1).isNull());
    QCOMPARE(args.at(2).toString(), u"x"_s);
    QCOMPARE(args.at(3).toDouble(), 2.5);
    QVERIFY(!received.at(0).ack.isRequested());
    QVERIFY(log.contains(u"nsp-on:hello"_s));
    QVERIFY(log.contains(u"socket-on:hello"_s));
    QVERIFY(log.contains(u"any:hello"_s));
    QCOMPARE(log.first(), u"connected"_s);
    QCOMPARE(log.last(), u"signal:hello"_s);

    p->send(R"(27["withAck","x"])");
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 2, kWait);
    QCOMPARE(received.at(1).event, u"withAck"_s);
    QCOMPARE(received.at(1).args, QVariantList {u"x"_s});
    QVERIFY(received.at(1).ack.isRequested());
    QVERIFY(received.at(1).ack.isSent());
    received.at(1).ack({u"third"_s}); // ignored too
    const int i = p->waitFor([](const SioPacket &pk) { return pk.type == 3 && pk.id == 7; });
    QVERIFY(i >= 0);
    QCOMPARE(p->packets.at(i).text, QByteArray(R"(37["ok",2])"));
    QVERIFY(p->roundTrip());
    QVERIFY(sync(p));
    QCOMPARE(p->count([](const SioPacket &pk) { return pk.type == 3 && pk.id == 7; }), 1);

    // An ack kept and answered later.
    Ack kept;
    p.socket->on(u"later"_s, [&](const QVariantList &, const Ack &ack) { kept = ack; });
    p->send(R"(28["later"])");
    QTRY_VERIFY_WITH_TIMEOUT(kept.isRequested(), kWait);
    QVERIFY(!kept.isSent());
    QTimer::singleShot(50, this, [&] { kept({u"done"_s}); });
    const int j = p->waitFor([](const SioPacket &pk) { return pk.type == 3 && pk.id == 8; });
    QVERIFY(j >= 0);
    QCOMPARE(p->packets.at(j).text, QByteArray(R"(38["done"])"));
}

void TestSocketServer::ackInNamespace()
{
    SocketServer server;
    server.of(u"/chat"_s)->on(u"echo"_s, [](Socket *, const QVariantList &args, const Ack &ack) {
        ack(args);
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    Peer p;
    QVERIFY(join(server, p, u"/chat"_s));
    p->send(R"(2/chat,5["echo","hi",{"k":[1,2]}])");
    const int i = p->waitFor([](const SioPacket &pk) { return pk.type == 3; });
    QVERIFY(i >= 0);
    QCOMPARE(p->packets.at(i).nsp, u"/chat"_s);
    QCOMPARE(p->packets.at(i).id, qint64(5));
    QCOMPARE(canon(p->packets.at(i).data), canon(R"(["hi",{"k":[1,2]}])"));
    QVERIFY2(p->packets.at(i).text.startsWith("3/chat,5["), p->packets.at(i).text.constData());
}

void TestSocketServer::handlerExceptionIsCaught()
{
    int socketHandlerRuns = 0;
    QStringList signalled;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->on(u"boom"_s,
        [](Socket *, const QVariantList &, const Ack &) { throw std::runtime_error("kaboom"); });
    nsp->on(
        u"after"_s, [](Socket *, const QVariantList &, const Ack &ack) { ack({u"still here"_s}); });
    connect(nsp, &Namespace::connected, this, [&](Socket *s) {
        s->on(u"boom"_s, [&](const QVariantList &, const Ack &) { ++socketHandlerRuns; });
        connect(s, &Socket::eventReceived, this, [&](const QString &event) { signalled << event; });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    Peer p;
    QVERIFY(join(server, p));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"threw.*kaboom"_s));
    p->send(R"(2["boom"])");
    p->send(R"(21["after"])");
    const int i = p->waitFor([](const SioPacket &pk) { return pk.type == 3 && pk.id == 1; });
    QVERIFY(i >= 0);
    QCOMPARE(canon(p->packets.at(i).data), canon(R"(["still here"])"));
    QCOMPARE(socketHandlerRuns, 1);
    QCOMPARE(signalled, QStringList({u"boom"_s, u"after"_s}));
    QVERIFY(p.socket);
    QVERIFY(p.socket->isConnected());
    QVERIFY(!p->disconnected);
}

void TestSocketServer::serverAckCallback()
{
    int calls = 0;
    bool timedOut = true;
    QVariantList answer;
    SocketServer server;
    server.of(u"/chat"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p, u"/chat"_s));

    p.socket->emitWithAck(u"question"_s, {1, u"two"_s}, [&](bool t, const QVariantList &args) {
        ++calls;
        timedOut = t;
        answer = args;
    });
    const int i = p->waitEvent(u"question"_s, u"/chat"_s);
    QVERIFY(i >= 0);
    const SioPacket event = p->packets.at(i);
    QVERIFY(event.id >= 0);
    QCOMPARE(event.text, "2/chat," + QByteArray::number(event.id) + R"(["question",1,"two"])");
    QCOMPARE(calls, 0);

    p->send("3/chat," + QByteArray::number(event.id) + R"([42,"yes"])");
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QVERIFY(!timedOut);
    QCOMPARE(answer.size(), 2);
    QCOMPARE(answer.at(0).toInt(), 42);
    QCOMPARE(answer.at(1).toString(), u"yes"_s);

    // A second answer to the same id is ignored.
    p->send("3/chat," + QByteArray::number(event.id) + R"([43])");
    QTest::qWait(100);
    QCOMPARE(calls, 1);
}

void TestSocketServer::serverAckTimeout()
{
    int calls = 0;
    bool timedOut = false;
    qint64 elapsed = -1;
    QVariantList answer {u"unset"_s};
    QElapsedTimer clock;
    SocketServer server;
    addRoundTrip(server.of(u"/"_s));
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));

    clock.start();
    p.socket->emitWithAck(
        u"slow"_s, {},
        [&](bool t, const QVariantList &args) {
            ++calls;
            timedOut = t;
            answer = args;
            elapsed = clock.elapsed();
        },
        200ms);
    const int i = p->waitEvent(u"slow"_s);
    QVERIFY(i >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QVERIFY(timedOut);
    QVERIFY(answer.isEmpty());
    QVERIFY2(elapsed >= 190 && elapsed < 2000, qPrintable(QString::number(elapsed)));

    // The late answer changes nothing.
    p->send("3" + QByteArray::number(p->packets.at(i).id) + "[1]");
    QVERIFY(p->roundTrip());
    QCOMPARE(calls, 1);
    QVERIFY(p.socket->isConnected());
}

// Node keeps the timer of `socket.timeout(ms).emit(..., callback)` when the socket disconnects:
// the callback still learns of the timeout. Ours promises the callback runs once, answer or
// timeout.
void TestSocketServer::serverAckTimeoutAfterDisconnect()
{
    int calls = 0;
    bool timedOut = false;
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));

    p.socket->emitWithAck(
        u"never"_s, {},
        [&](bool t, const QVariantList &) {
            ++calls;
            timedOut = t;
        },
        300ms);
    QVERIFY(p->waitEvent(u"never"_s) >= 0);
    p->ws.close();
    QVERIFY(p->waitDisconnected());
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 1500);
    QVERIFY(timedOut);
    QTest::qWait(400);
    QCOMPARE(calls, 1);
}

void TestSocketServer::serverAckSignals()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QSignalSpy acknowledged(p.socket.data(), &Socket::acknowledged);
    QSignalSpy ackTimedOut(p.socket.data(), &Socket::ackTimedOut);

    const qint64 first = p.socket->emitWithAck(u"sig"_s, {1});
    const int i = p->waitEvent(u"sig"_s);
    QVERIFY(i >= 0);
    QCOMPARE(p->packets.at(i).id, first);
    p->send("3" + QByteArray::number(first) + R"(["fine",{"n":1}])");
    QTRY_COMPARE_WITH_TIMEOUT(acknowledged.size(), 1, kWait);
    QCOMPARE(acknowledged.at(0).at(0).toLongLong(), first);
    const QVariantList args = acknowledged.at(0).at(1).toList();
    QCOMPARE(args.size(), 2);
    QCOMPARE(args.at(0).toString(), u"fine"_s);
    QCOMPARE(args.at(1).toMap().value(u"n"_s).toInt(), 1);

    QElapsedTimer clock;
    clock.start();
    const qint64 second = p.socket->emitWithAck(u"sig2"_s, {}, 150ms);
    QVERIFY(second != first);
    QTRY_COMPARE_WITH_TIMEOUT(ackTimedOut.size(), 1, kWait);
    QVERIFY(clock.elapsed() >= 140);
    QCOMPARE(ackTimedOut.at(0).at(0).toLongLong(), second);
    QCOMPARE(acknowledged.size(), 1);
}

// ---------------------------------------------------------------------------------------------
// Binary

void TestSocketServer::binaryToClient()
{
    const QByteArray bytes("\x00\x01\xfe\xff", 4);
    const QByteArray second("second");
    SocketServer server;
    server.of(u"/chat"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p, chat;
    QVERIFY(join(server, p));
    QVERIFY(join(server, chat, u"/chat"_s));

    QVERIFY(p.socket->emitEvent(
        u"bin"_s, {QVariantMap {{u"nested"_s, QVariantList {1, bytes}}}, u"tail"_s}));
    const int i = p->waitEvent(u"bin"_s);
    QVERIFY(i >= 0);
    const SioPacket pk = p->packets.at(i);
    QCOMPARE(pk.type, 5);
    QVERIFY2(pk.text.startsWith("51-["), pk.text.constData());
    QCOMPARE(pk.attachmentCount, 1);
    QCOMPARE(
        canon(pk.data), canon(R"(["bin",{"nested":[1,{"_placeholder":true,"num":0}]},"tail"])"));
    QCOMPARE(pk.attachments, QList<QByteArray> {bytes});
    QVERIFY(p->unparsed.isEmpty());

    QVERIFY(chat.socket->emitEvent(u"two"_s, {bytes, QVariantList {u"x"_s, second}}));
    const int j = chat->waitEvent(u"two"_s, u"/chat"_s);
    QVERIFY(j >= 0);
    const SioPacket two = chat->packets.at(j);
    QVERIFY2(two.text.startsWith("52-/chat,["), two.text.constData());
    QCOMPARE(canon(two.data),
        canon(R"(["two",{"_placeholder":true,"num":0},["x",{"_placeholder":true,"num":1}]])"));
    QCOMPARE(two.attachments, QList<QByteArray>({bytes, second}));
}

void TestSocketServer::binaryFromClient()
{
    const QByteArray bytes("\x00\x01\xfe\xff", 4);
    QList<QVariantList> received;
    SocketServer server;
    server.of(u"/"_s)->on(u"upload"_s, [&](Socket *, const QVariantList &args, const Ack &ack) {
        received.append(args);
        ack({args.value(0).toMap().value(u"file"_s).toByteArray().size()});
    });
    server.of(u"/chat"_s)->on(u"upload"_s, [&](Socket *, const QVariantList &args, const Ack &ack) {
        received.append(args);
        ack({u"chat"_s});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));

    p->send(R"(51-["upload",{"file":{"_placeholder":true,"num":0}},"name"])");
    p->sendBinary(bytes);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1, kWait);
    QCOMPARE(received.at(0).size(), 2);
    const QVariant file = received.at(0).at(0).toMap().value(u"file"_s);
    QCOMPARE(file.typeId(), QMetaType::QByteArray);
    QCOMPARE(file.toByteArray(), bytes);
    QCOMPARE(received.at(0).at(1).toString(), u"name"_s);

    // With an ack id, two attachments, nested in a list.
    p->send(
        R"(52-3["upload",{"file":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":0}]])");
    p->sendBinary("zero");
    p->sendBinary(bytes);
    const int i = p->waitFor([](const SioPacket &pk) { return pk.type == 3 && pk.id == 3; });
    QVERIFY(i >= 0);
    QCOMPARE(p->packets.at(i).text, QByteArray("33[4]"));
    QCOMPARE(received.size(), 2);
    QCOMPARE(received.at(1).at(0).toMap().value(u"file"_s).toByteArray(), bytes);
    QCOMPARE(received.at(1).at(1).toList().value(0).toByteArray(), QByteArray("zero"));

    // In a namespace.
    QVERIFY(p->connectTo(u"/chat"_s));
    p->send(R"(51-/chat,4["upload",{"file":{"_placeholder":true,"num":0}}])");
    p->sendBinary(bytes);
    const int j = p->waitFor([](const SioPacket &pk) { return pk.type == 3 && pk.id == 4; });
    QVERIFY(j >= 0);
    QCOMPARE(p->packets.at(j).text, QByteArray(R"(3/chat,4["chat"])"));
    QCOMPARE(received.size(), 3);
    QCOMPARE(received.at(2).at(0).toMap().value(u"file"_s).toByteArray(), bytes);
}

void TestSocketServer::binaryAcks()
{
    const QByteArray bytes("\x00\x01\xfe\xff", 4);
    int calls = 0;
    QVariantList answer;
    SocketServer server;
    server.of(u"/"_s)->on(u"getbin"_s, [&](Socket *, const QVariantList &, const Ack &ack) {
        ack({QVariantMap {{u"data"_s, bytes}}});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));

    // The server's binary ack.
    p->send(R"(21["getbin"])");
    const int i = p->waitFor([](const SioPacket &pk) { return pk.id == 1; });
    QVERIFY(i >= 0);
    const SioPacket pk = p->packets.at(i);
    QCOMPARE(pk.type, 6);
    QVERIFY2(pk.text.startsWith("61-1["), pk.text.constData());
    QCOMPARE(canon(pk.data), canon(R"([{"data":{"_placeholder":true,"num":0}}])"));
    QCOMPARE(pk.attachments, QList<QByteArray> {bytes});

    // The client's binary ack.
    p.socket->emitWithAck(u"want"_s, {}, [&](bool, const QVariantList &args) {
        ++calls;
        answer = args;
    });
    const int j = p->waitEvent(u"want"_s);
    QVERIFY(j >= 0);
    p->send("61-" + QByteArray::number(p->packets.at(j).id)
        + R"([{"_placeholder":true,"num":0},"text"])");
    p->sendBinary(bytes);
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QCOMPARE(answer.size(), 2);
    QCOMPARE(answer.at(0).typeId(), QMetaType::QByteArray);
    QCOMPARE(answer.at(0).toByteArray(), bytes);
    QCOMPARE(answer.at(1).toString(), u"text"_s);
}

// ---------------------------------------------------------------------------------------------
// Rooms and broadcasts

void TestSocketServer::rooms()
{
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer a, b, c;
    QVERIFY(join(server, a));
    QVERIFY(join(server, b));
    QVERIFY(join(server, c));
    auto syncAll = [&] { return sync(a) && sync(b) && sync(c); };

    QSignalSpy joinedA(a.socket.data(), &Socket::roomJoined);
    QSignalSpy leftA(a.socket.data(), &Socket::roomLeft);
    QCOMPARE(sorted(a.socket->rooms()), QStringList {a.sid}); // its own room
    a.socket->join(u"room1"_s);
    QCOMPARE(joinedA.size(), 1);
    QCOMPARE(joinedA.at(0).at(0).toString(), u"room1"_s);
    a.socket->join(u"room1"_s); // already in it
    QCOMPARE(joinedA.size(), 1);
    QCOMPARE(sorted(a.socket->rooms()), sorted(QStringList {a.sid, u"room1"_s}));
    b.socket->join(QStringList {u"room1"_s, u"room2"_s});
    QVERIFY(nsp->adapter()->rooms().contains(u"room1"_s));
    QVERIFY(nsp->adapter()->rooms().contains(u"room2"_s));

    nsp->to(u"room1"_s).emitEvent(u"news"_s, {1});
    nsp->to(u"room2"_s).emitEvent(u"r2"_s);
    nsp->except(u"room1"_s).emitEvent(u"notRoom1"_s);
    nsp->to(u"room1"_s).except(u"room2"_s).emitEvent(u"r1not2"_s);
    nsp->all().to(QStringList {u"room1"_s, u"room2"_s}).emitEvent(u"union"_s);
    nsp->in(u"room1"_s).except(a.sid).emitEvent(u"exceptSid"_s);
    a.socket->broadcast().emitEvent(u"bcast"_s);
    a.socket->to(u"room1"_s).emitEvent(u"fromA"_s);
    c.socket->except(u"room2"_s).emitEvent(u"fromCnot2"_s);
    QVERIFY(syncAll());

    const QStringList events {u"news"_s, u"r2"_s, u"notRoom1"_s, u"r1not2"_s, u"union"_s,
        u"exceptSid"_s, u"bcast"_s, u"fromA"_s, u"fromCnot2"_s};
    auto got = [&](const Peer &peer) {
        QStringList list;
        for (const QString &e : events) {
            for (int n = peer->countEvent(e); n > 0; --n)
                list << e;
        }
        return list;
    };
    QCOMPARE(got(a), QStringList({u"news"_s, u"r1not2"_s, u"union"_s, u"fromCnot2"_s}));
    QCOMPARE(got(b),
        QStringList({u"news"_s, u"r2"_s, u"union"_s, u"exceptSid"_s, u"bcast"_s, u"fromA"_s}));
    QCOMPARE(got(c), QStringList({u"notRoom1"_s, u"bcast"_s}));
    const int news = a->waitEvent(u"news"_s);
    QCOMPARE(a->packets.at(news).text, QByteArray(R"(2["news",1])"));

    a.socket->leave(u"room1"_s);
    QCOMPARE(leftA.size(), 1);
    QCOMPARE(leftA.at(0).at(0).toString(), u"room1"_s);
    QCOMPARE(sorted(a.socket->rooms()), QStringList {a.sid});
    QVERIFY(nsp->adapter()->rooms().contains(u"room1"_s)); // b is still there
    b.socket->leave(u"room1"_s);
    b.socket->leave(u"room2"_s);
    QVERIFY(!nsp->adapter()->rooms().contains(u"room1"_s));
    QVERIFY(!nsp->adapter()->rooms().contains(u"room2"_s));
    QCOMPARE(sorted(nsp->adapter()->rooms()), sorted(QStringList {a.sid, b.sid, c.sid}));

    // A socket's own room goes with it.
    c->ws.close();
    QTRY_VERIFY_WITH_TIMEOUT(!nsp->adapter()->rooms().contains(c.sid), kWait);
    QCOMPARE(sorted(nsp->adapter()->rooms()), sorted(QStringList {a.sid, b.sid}));
}

void TestSocketServer::broadcastOperator()
{
    QStringList reasons;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    connect(nsp, &Namespace::disconnected, this,
        [&](Socket *s, const QString &reason) { reasons << s->id() + u':' + reason; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer a, b, c;
    QVERIFY(join(server, a));
    QVERIFY(join(server, b));
    QVERIFY(join(server, c));
    QSignalSpy joinedB(b.socket.data(), &Socket::roomJoined);

    nsp->all().socketsJoin(u"everyone"_s);
    for (Peer *p : {&a, &b, &c})
        QVERIFY(p->socket->rooms().contains(u"everyone"_s));
    QCOMPARE(joinedB.size(), 1);
    QCOMPARE(ids(nsp->in(u"everyone"_s).fetchSockets()), sorted(QStringList {a.sid, b.sid, c.sid}));

    nsp->to(u"everyone"_s).except(a.sid).socketsLeave(u"everyone"_s);
    QCOMPARE(ids(nsp->in(u"everyone"_s).fetchSockets()), QStringList {a.sid});
    QCOMPARE(ids(nsp->all().fetchSockets()), sorted(QStringList {a.sid, b.sid, c.sid}));
    QCOMPARE(
        ids(nsp->all().except(u"everyone"_s).fetchSockets()), sorted(QStringList {b.sid, c.sid}));
    nsp->in(b.sid).socketsJoin(QStringList {u"x"_s, u"y"_s});
    QCOMPARE(sorted(b.socket->rooms()), sorted(QStringList {b.sid, u"x"_s, u"y"_s}));
    QVERIFY(nsp->in(u"nobody"_s).fetchSockets().isEmpty());

    // disconnectSockets(): a leaves the namespace; its connection stays.
    nsp->in(u"everyone"_s).disconnectSockets();
    const int i = a->waitFor([](const SioPacket &p) { return p.type == 1; });
    QVERIFY(i >= 0);
    QCOMPARE(a->packets.at(i).text, QByteArray("1"));
    QTRY_COMPARE_WITH_TIMEOUT(
        reasons, QStringList {a.sid + u":server namespace disconnect"_s}, kWait);
    QVERIFY(!nsp->adapter()->rooms().contains(u"everyone"_s));

    // disconnectSockets(true): b's whole connection ends.
    nsp->in(u"x"_s).disconnectSockets(true);
    QVERIFY(b->waitFor([](const SioPacket &p) { return p.type == 1; }) >= 0);
    QVERIFY(b->waitDisconnected());
    QTRY_COMPARE_WITH_TIMEOUT(reasons.size(), 2, kWait);
    QCOMPARE(reasons.at(1), b.sid + u":server namespace disconnect"_s);
    QVERIFY(sync(c));
    QVERIFY(!c->disconnected);
    QCOMPARE(ids(nsp->all().fetchSockets()), QStringList {c.sid});
    QVERIFY(!a->disconnected);
}

void TestSocketServer::broadcastWithAck()
{
    int calls = 0;
    bool timedOut = false;
    QList<QVariantList> responses;
    qint64 elapsed = -1;
    QElapsedTimer clock;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer a, b, c;
    QVERIFY(join(server, a));
    QVERIFY(join(server, b));
    QVERIFY(join(server, c));
    a->autoAcks.insert(u"poll"_s, R"(["a"])");
    b->autoAcks.insert(u"poll"_s, R"(["b"])");
    a.socket->join(u"voters"_s);
    b.socket->join(u"voters"_s);
    auto callback = [&](bool t, const QList<QVariantList> &r) {
        ++calls;
        timedOut = t;
        responses = r;
        elapsed = clock.elapsed();
    };

    clock.start();
    nsp->to(u"voters"_s).emitWithAck(u"poll"_s, {1}, callback, 3000ms);
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QVERIFY(!timedOut);
    QVERIFY2(elapsed < 2000, "did not finish once every recipient answered");
    QStringList answers;
    for (const QVariantList &r : responses)
        answers << r.value(0).toString();
    QCOMPARE(sorted(answers), QStringList({u"a"_s, u"b"_s}));

    // c never answers.
    clock.restart();
    nsp->all().emitWithAck(u"poll"_s, {2}, callback, 300ms);
    QTRY_COMPARE_WITH_TIMEOUT(calls, 2, kWait);
    QVERIFY(timedOut);
    QVERIFY2(elapsed >= 290, qPrintable(QString::number(elapsed)));
    QCOMPARE(responses.size(), 2);
    QVERIFY(c->waitEvent(u"poll"_s) >= 0);

    // Nobody to ask: answered at once, nothing missing.
    nsp->to(u"empty-room"_s).emitWithAck(u"poll"_s, {3}, callback, 3000ms);
    QTRY_COMPARE_WITH_TIMEOUT(calls, 3, 1000);
    QVERIFY(!timedOut);
    QVERIFY(responses.isEmpty());
}

void TestSocketServer::pythonStyleApi()
{
    SocketServer server;
    server.of(u"/chat"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer a, b, c, chat;
    QVERIFY(join(server, a));
    QVERIFY(join(server, b));
    QVERIFY(join(server, c));
    QVERIFY(join(server, chat, u"/chat"_s));
    auto syncAll = [&] { return sync(a) && sync(b) && sync(c) && sync(chat); };

    QVERIFY(server.enterRoom(b.sid, u"r1"_s));
    QVERIFY(server.enterRoom(c.sid, u"r2"_s));
    QVERIFY(!server.enterRoom(u"no-such-sid"_s, u"r1"_s));
    QCOMPARE(server.rooms(b.sid), sorted(QStringList {b.sid, u"r1"_s}));
    QVERIFY(server.rooms(u"no-such-sid"_s).isEmpty());
    QVERIFY(server.rooms(b.sid, u"/chat"_s).isEmpty());

    QVERIFY(server.emitEvent(u"py-to"_s, {1}, EmitOptions().to(a.sid)));
    QVERIFY(server.emitEvent(u"py-rooms"_s, {}, EmitOptions().to(u"r1"_s).room(u"r2"_s)));
    QVERIFY(server.emitEvent(u"py-skip"_s, {}, EmitOptions().skipSid(a.sid).skipSid(c.sid)));
    QVERIFY(server.emitEvent(u"py-chat"_s, {}, EmitOptions().nsp(u"/chat"_s)));
    QVERIFY(server.emitEvent(u"py-all"_s));
    QVERIFY(!server.emitEvent(u"py-nowhere"_s, {}, EmitOptions().nsp(u"/nowhere"_s)));
    QVERIFY(syncAll());

    auto got = [](const Peer &p, const QString &nsp = u"/"_s) {
        QStringList list;
        for (const QString &e :
            {u"py-to"_s, u"py-rooms"_s, u"py-skip"_s, u"py-chat"_s, u"py-all"_s}) {
            if (p->countEvent(e, nsp) > 0)
                list << e;
        }
        return list;
    };
    QCOMPARE(got(a), QStringList({u"py-to"_s, u"py-all"_s}));
    QCOMPARE(got(b), QStringList({u"py-rooms"_s, u"py-skip"_s, u"py-all"_s}));
    QCOMPARE(got(c), QStringList({u"py-rooms"_s, u"py-all"_s}));
    QCOMPARE(got(chat, u"/chat"_s), QStringList({u"py-chat"_s}));
    QCOMPARE(a->packets.at(a->waitEvent(u"py-to"_s)).text, QByteArray(R"(2["py-to",1])"));

    QVERIFY(server.leaveRoom(b.sid, u"r1"_s));
    QCOMPARE(server.rooms(b.sid), QStringList {b.sid});
    QVERIFY(!server.leaveRoom(u"no-such-sid"_s, u"r1"_s));

    QVERIFY(server.disconnect(c.sid));
    const int i = c->waitFor([](const SioPacket &p) { return p.type == 1; });
    QVERIFY(i >= 0);
    QCOMPARE(c->packets.at(i).text, QByteArray("1"));
    QVERIFY(!server.disconnect(u"no-such-sid"_s));
    QVERIFY(server.disconnect(chat.sid, u"/chat"_s));
    QVERIFY(
        chat->waitFor([](const SioPacket &p) { return p.type == 1 && p.nsp == u"/chat"; }) >= 0);
    QTRY_VERIFY_WITH_TIMEOUT(!server.socket(c.sid), kWait);
}

// ---------------------------------------------------------------------------------------------
// Per-socket middlewares and outgoing listeners

void TestSocketServer::socketMiddleware()
{
    QStringList log;
    QList<QVariantList> hello;
    int secretRuns = 0;
    QStringList signalled;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    addRoundTrip(nsp);
    connect(nsp, &Namespace::connected, this, [&](Socket *s) {
        s->use([&](const QString &event, QVariantList &args, const Next &next) {
            log << u"mw1:"_s + event;
            if (event == u"secret") {
                next(ConnectError {u"forbidden"_s, QVariantMap {{u"why"_s, u"secret"_s}}});
                return;
            }
            args.append(u"added"_s);
            next();
        });
        s->use([&, s](const QString &event, QVariantList &, const Next &next) {
            log << u"mw2:"_s + event;
            QTimer::singleShot(30, s, [next] { next(); }); // asynchronous
        });
        s->on(u"hello"_s, [&](const QVariantList &args, const Ack &) { hello.append(args); });
        s->on(u"secret"_s, [&](const QVariantList &, const Ack &) { ++secretRuns; });
        connect(s, &Socket::eventReceived, this, [&](const QString &event) { signalled << event; });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QSignalSpy middlewareError(p.socket.data(), &Socket::middlewareError);

    p->send(R"(2["hello",1])");
    QTRY_COMPARE_WITH_TIMEOUT(hello.size(), 1, kWait);
    QCOMPARE(hello.at(0).size(), 2);
    QCOMPARE(hello.at(0).at(0).toInt(), 1);
    QCOMPARE(hello.at(0).at(1).toString(), u"added"_s);
    QCOMPARE(log, QStringList({u"mw1:hello"_s, u"mw2:hello"_s}));

    p->send(R"(2["secret"])");
    QTRY_COMPARE_WITH_TIMEOUT(middlewareError.size(), 1, kWait);
    QCOMPARE(middlewareError.at(0).at(0).toString(), u"forbidden"_s);
    QCOMPARE(middlewareError.at(0).at(1).toMap().value(u"why"_s).toString(), u"secret"_s);
    QVERIFY(p->roundTrip());
    QCOMPARE(secretRuns, 0);
    QVERIFY(!signalled.contains(u"secret"_s));
    QVERIFY(!log.contains(u"mw2:secret"_s));
    QVERIFY(signalled.contains(u"hello"_s));
    QVERIFY(p.socket->isConnected());
}

void TestSocketServer::onAnyOutgoing()
{
    QList<QPair<QString, QVariantList>> outgoing;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->on(u"in"_s, [](Socket *, const QVariantList &, const Ack &ack) { ack({u"reply"_s}); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p, other;
    QVERIFY(join(server, p));
    QVERIFY(join(server, other));
    p.socket->onAnyOutgoing([&](const QString &event, const QVariantList &args) {
        outgoing.append({event, args});
    });

    QVERIFY(p.socket->emitEvent(u"out1"_s, {5, u"x"_s}));
    nsp->emitEvent(u"out2"_s, {true});
    p.socket->emitWithAck(u"out3"_s, {}, [](bool, const QVariantList &) {});
    other.socket->broadcast().emitEvent(u"out4"_s);
    other.socket->emitEvent(u"notMine"_s);
    p->send(R"(21["in"])"); // incoming events and the acks sent back are not outgoing emits
    QVERIFY(p->waitFor([](const SioPacket &pk) { return pk.type == 3 && pk.id == 1; }) >= 0);
    QVERIFY(sync(p));

    QStringList events;
    for (const auto &o : outgoing)
        events << o.first;
    events.removeAll(u"sync"_s);
    QCOMPARE(events, QStringList({u"out1"_s, u"out2"_s, u"out3"_s, u"out4"_s}));
    QCOMPARE(outgoing.at(0).second, QVariantList({5, u"x"_s}));
    QCOMPARE(outgoing.at(1).second, QVariantList {true});
    QVERIFY(p->waitEvent(u"out4"_s) >= 0);
}

// ---------------------------------------------------------------------------------------------
// Disconnection

void TestSocketServer::disconnectByClient()
{
    QStringList reasons;
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->onDisconnect(
        [&](Socket *, const QString &reason) { reasons << u"onDisconnect:"_s + reason; });
    connect(nsp, &Namespace::disconnected, this,
        [&](Socket *, const QString &reason) { reasons << u"namespace:"_s + reason; });
    connect(nsp, &Namespace::connected, this, [&](Socket *s) {
        connect(s, &Socket::disconnected, this,
            [&](const QString &reason) { reasons << u"socket:"_s + reason; });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));

    p->send("1");
    QTRY_COMPARE_WITH_TIMEOUT(reasons.size(), 3, kWait);
    QCOMPARE(sorted(reasons),
        sorted(QStringList {u"onDisconnect:client namespace disconnect"_s,
            u"namespace:client namespace disconnect"_s, u"socket:client namespace disconnect"_s}));
    QCOMPARE(nsp->socketsCount(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(!p.socket, kWait); // deleted later
    QVERIFY(!nsp->adapter()->rooms().contains(p.sid));

    // The connection goes on; the client may join again.
    QVERIFY(!p->disconnected);
    const std::optional<SioPacket> again = p->connectTo();
    QVERIFY(again);
    QCOMPARE(again->type, 0);
    QVERIFY(again->data.toObject().value(u"sid").toString() != p.sid);
}

void TestSocketServer::disconnectByServer()
{
    QStringList reasons;
    SocketServer server;
    addRoundTrip(server.of(u"/"_s));
    server.of(u"/chat"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QVERIFY(p->connectTo(u"/chat"_s));
    const QString chatSid = p->packets.constLast().data.toObject().value(u"sid").toString();
    QPointer<Socket> chatSocket = server.socket(chatSid, u"/chat"_s);
    QVERIFY(chatSocket);
    connect(chatSocket, &Socket::disconnected, this,
        [&](const QString &reason) { reasons << u"/chat:"_s + reason; });
    connect(p.socket, &Socket::disconnected, this,
        [&](const QString &reason) { reasons << u"/:"_s + reason; });

    chatSocket->disconnect();
    const int i = p->waitFor([](const SioPacket &pk) { return pk.type == 1; });
    QVERIFY(i >= 0);
    QCOMPARE(p->packets.at(i).nsp, u"/chat"_s);
    QVERIFY2(p->packets.at(i).text == "1/chat," || p->packets.at(i).text == "1/chat",
        p->packets.at(i).text.constData());
    QCOMPARE(reasons, QStringList {u"/chat:server namespace disconnect"_s});
    QVERIFY(!server.socket(chatSid, u"/chat"_s));

    // "/" is untouched.
    QVERIFY(p->roundTrip());
    QVERIFY(sync(p));
    p.socket->disconnect();
    const int j = p->waitFor([](const SioPacket &pk) { return pk.type == 1 && pk.nsp == u"/"; });
    QVERIFY(j >= 0);
    QCOMPARE(p->packets.at(j).text, QByteArray("1"));
    QCOMPARE(reasons.size(), 2);
    QCOMPARE(reasons.at(1), u"/:server namespace disconnect"_s);
}

void TestSocketServer::disconnectByTransportClose()
{
    QStringList reasons;
    SocketServer server;
    server.of(u"/chat"_s);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QVERIFY(p->connectTo(u"/chat"_s));
    const QString chatSid = p->packets.constLast().data.toObject().value(u"sid").toString();
    connect(
        p.socket, &Socket::disconnected, this, [&](const QString &r) { reasons << u"/:"_s + r; });
    connect(server.socket(chatSid, u"/chat"_s), &Socket::disconnected, this,
        [&](const QString &r) { reasons << u"/chat:"_s + r; });

    p->ws.close();
    QTRY_COMPARE_WITH_TIMEOUT(reasons.size(), 2, kWait);
    QCOMPARE(sorted(reasons), QStringList({u"/:transport close"_s, u"/chat:transport close"_s}));
    QCOMPARE(server.of(u"/"_s)->socketsCount(), 0);
    QCOMPARE(server.of(u"/chat"_s)->socketsCount(), 0);
}

void TestSocketServer::disconnectOnParseError()
{
    QStringList reasons;
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    connect(p.socket, &Socket::disconnected, this, [&](const QString &r) { reasons << r; });

    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"malformed packet"_s));
    p->send("2{}");
    QTRY_COMPARE_WITH_TIMEOUT(reasons, QStringList {u"parse error"_s}, kWait);
    QVERIFY(p->waitDisconnected());
    QCOMPARE(server.of(u"/"_s)->socketsCount(), 0);
}

void TestSocketServer::disconnectingBeforeDisconnected()
{
    QStringList log;
    QStringList roomsWhenDisconnecting;
    QStringList roomsWhenDisconnected {u"unset"_s};
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    Socket *s = p.socket;
    s->join(u"r1"_s);
    connect(s, &Socket::disconnecting, this, [&, s](const QString &reason) {
        log << u"disconnecting:"_s + reason;
        roomsWhenDisconnecting = sorted(s->rooms());
    });
    connect(s, &Socket::disconnected, this, [&, s](const QString &reason) {
        log << u"disconnected:"_s + reason;
        roomsWhenDisconnected = sorted(s->rooms());
    });

    p->ws.close();
    QTRY_COMPARE_WITH_TIMEOUT(log.size(), 2, kWait);
    QCOMPARE(
        log, QStringList({u"disconnecting:transport close"_s, u"disconnected:transport close"_s}));
    QCOMPARE(roomsWhenDisconnecting, sorted(QStringList {p.sid, u"r1"_s}));
    QVERIFY(roomsWhenDisconnected.isEmpty());
}

void TestSocketServer::connectTimeout()
{
    SocketServerOptions options;
    options.connectTimeout = 300ms;
    SocketServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    SioClient idle;
    Peer joined;
    QElapsedTimer clock;
    clock.start();
    QVERIFY(idle.openSession(server.serverPort()));
    QVERIFY(join(server, joined));
    QVERIFY(idle.waitDisconnected(3000));
    QVERIFY2(clock.elapsed() >= 250, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(idle.packets.isEmpty());

    // A connection that joined a namespace in time stays.
    QTest::qWait(100);
    QVERIFY(!joined->disconnected);
    QVERIFY(sync(joined));
}

// ---------------------------------------------------------------------------------------------
// Registry, routes, default server

void TestSocketServer::socketEventRegistry()
{
    SocketServer server;
    server.of(u"/"_s)->on(u"plain"_s, [](Socket *, const QVariantList &, const Ack &) {});
    connect(server.of(u"/watched"_s), &Namespace::connected, this, [](Socket *) {});
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    QStringList registry;
    for (const HandlerInfo &h : server.handlers())
        registry << h.nsp + u'|' + h.event + u'|' + h.how;
    for (const QString &entry : {u"/reg|sock-event|SOCKET_EVENT"_s, u"/reg|connect|SOCKET_EVENT"_s,
             u"/|plain|on"_s, u"/watched|connect|signal"_s})
        QVERIFY2(registry.contains(entry), qPrintable(registry.join(u", "_s)));
    QCOMPARE(registry.count(u"/reg|sock-event|SOCKET_EVENT"_s), 1);

    // Over the wire: the "connect" one refuses without a token.
    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const std::optional<SioPacket> refused = c.connectTo(u"/reg"_s, "{}");
    QVERIFY(refused);
    QCOMPARE(refused->type, 4);
    QCOMPARE(canon(refused->data),
        canon(R"({"message":"token required","data":{"hint":"send a token"}})"));
    const std::optional<SioPacket> accepted = c.connectTo(u"/reg"_s, R"({"token":"t"})");
    QVERIFY(accepted);
    QVERIFY2(accepted->type == 0, accepted->text.constData());
    c.send(R"(2/reg,1["sock-event",21])");
    const int i = c.waitFor([](const SioPacket &p) { return p.type == 3 && p.id == 1; });
    QVERIFY(i >= 0);
    QCOMPARE(c.packets.at(i).text, QByteArray(R"(3/reg,1[42])"));
}

void TestSocketServer::routes()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QList<SocketServer::Route> routes = server.routes();
    QCOMPARE(routes.size(), 1);
    QCOMPARE(routes.at(0).path, u"/socket.io/"_s);
    QCOMPARE(routes.at(0).transports, QStringList({u"polling"_s, u"websocket"_s}));
    QVERIFY2(routes.at(0).mount.contains(u"127.0.0.1:%1"_s.arg(server.serverPort())),
        qPrintable(routes.at(0).mount));

    SocketServerOptions options;
    options.path = u"custom"_s;
    options.transports = {u"websocket"_s};
    SocketServer other(options);
    QVERIFY(other.listen(QHostAddress::LocalHost, 0));
    QCOMPARE(other.routes().value(0).path, u"/custom/"_s);
    QCOMPARE(other.routes().value(0).transports, QStringList {u"websocket"_s});
}

void TestSocketServer::socketApiDefault()
{
    QVERIFY2(!socketApi(), "a server of an earlier test is still alive");
    SocketServer first;
    QCOMPARE(socketApi(), &first);
    {
        SocketServer second;
        QCOMPARE(socketApi(), &first);
        second.setDefault();
        QCOMPARE(socketApi(), &second);
        first.setDefault();
        QCOMPARE(socketApi(), &first);
        second.setDefault();
    }
    QVERIFY(!socketApi() || socketApi() == &first); // never the destroyed one
}

// ---------------------------------------------------------------------------------------------
// Shutdown and volatile emits

void TestSocketServer::gracefulClose()
{
    QStringList log;
    QElapsedTimer clock;
    qint64 closeTook = -1;
    SocketServer server;
    QSignalSpy closed(&server, &SocketServer::closed);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    Peer p;
    QVERIFY(join(server, p));
    connect(p.socket, &Socket::disconnected, this,
        [&](const QString &reason) { log << u"disconnected:"_s + reason; });

    p.socket->emitWithAck(u"slow"_s, {}, [&](bool timedOut, const QVariantList &args) {
        log << (timedOut ? u"timeout"_s : u"ack:"_s + args.value(0).toString());
    });
    const int i = p->waitEvent(u"slow"_s);
    QVERIFY(i >= 0);
    const QByteArray id = QByteArray::number(p->packets.at(i).id);
    QTimer::singleShot(200, p.client.get(), [&, id] { p->send("3" + id + R"(["late"])"); });

    clock.start();
    server.close(2000ms);
    QVERIFY(server.isClosing());
    QVERIFY(log.isEmpty()); // the close waits for the answer
    // As Node's io.close(): the connection closes without a DISCONNECT packet, so that the
    // client reconnects once the server is back.
    QVERIFY(p->waitDisconnected(4000));
    closeTook = clock.elapsed();
    QCOMPARE(p->count([](const SioPacket &pk) { return pk.type == 1; }), 0);
    QCOMPARE(log, QStringList({u"ack:late"_s, u"disconnected:server shutting down"_s}));
    QVERIFY2(closeTook >= 150 && closeTook < 1900, qPrintable(QString::number(closeTook)));

    QTRY_COMPARE_WITH_TIMEOUT(closed.size(), 1, kWait);
    QTest::qWait(200);
    QCOMPARE(closed.size(), 1);

    // No new connections.
    SioClient late;
    QVERIFY(!late.openSession(port));
}

// A broadcast emitWithAck that timed out waits for nothing any more: a graceful close afterwards
// must not wait for the answers that never came.
void TestSocketServer::closeAfterBroadcastAckTimedOut()
{
    int calls = 0;
    bool timedOut = false;
    SocketServer server;
    QSignalSpy closed(&server, &SocketServer::closed);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));

    server.of(u"/"_s)->all().emitWithAck(
        u"silent"_s, {},
        [&](bool t, const QList<QVariantList> &) {
            ++calls;
            timedOut = t;
        },
        100ms);
    QVERIFY(p->waitEvent(u"silent"_s) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QVERIFY(timedOut);

    QElapsedTimer clock;
    clock.start();
    server.close(3000ms);
    QVERIFY(p->waitDisconnected(4000));
    QVERIFY2(clock.elapsed() < 1500,
        qPrintable(u"the close waited %1 ms for an ack nobody waits for"_s.arg(clock.elapsed())));
    QTRY_COMPARE_WITH_TIMEOUT(closed.size(), 1, kWait);
}

void TestSocketServer::volatileEmit()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QVERIFY(p.socket->engineSocket()->isWritable());
    QVERIFY(p.socket->emitVolatile(u"v"_s, {1}));
    const int i = p->waitEvent(u"v"_s);
    QVERIFY(i >= 0);
    QCOMPARE(p->packets.at(i).text, QByteArray(R"(2["v",1])"));

    QVERIFY(sync(p));
    QVERIFY(server.of(u"/"_s)->asVolatile().emitEvent(u"v2"_s, {2}));
    QVERIFY(p->waitEvent(u"v2"_s) >= 0);
}

void TestSocketServer::disconnectFromDisconnecting()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    int disconnecting = 0;
    QStringList reasons;
    connect(p.socket, &Socket::disconnecting, this, [&] {
        ++disconnecting;
        p.socket->disconnect(); // again, from inside: must not recurse
        p.socket->disconnect(true);
    });
    connect(
        p.socket, &Socket::disconnected, this, [&](const QString &reason) { reasons << reason; });
    p.socket->disconnect();
    QCOMPARE(disconnecting, 1);
    QCOMPARE(reasons, QStringList {u"server namespace disconnect"_s});
}

void TestSocketServer::emitWithAckOnClosedSocket()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QPointer<Socket> socket = p.socket;
    socket->disconnect();
    int calls = 0;
    bool timedOut = false;
    socket->emitWithAck(
        u"never"_s, {},
        [&](bool t, const QVariantList &) {
            ++calls;
            timedOut = t;
        },
        200ms);
    QCOMPARE(calls, 0); // not from inside the call
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QVERIFY(timedOut);
    QTest::qWait(300); // the timeout passes: nothing fires on the deleted socket
    QCOMPARE(calls, 1);
    QVERIFY(!socket);
}

void TestSocketServer::ackAskedByRefusedSocket()
{
    SocketServer server;
    int calls = 0;
    server.of(u"/"_s)->use([&](Socket *s, const Next &next) {
        s->emitWithAck(
            u"question"_s, {},
            [&](bool timedOut, const QVariantList &) { calls += timedOut ? 1 : 100; }, 300ms);
        next(ConnectError {u"no"_s, {}});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    const auto reply = c.connectTo();
    QVERIFY(reply);
    QCOMPARE(reply->type, 4);
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, kWait);
    QTest::qWait(400);
    QCOMPARE(calls, 1);
    QCOMPARE(c.countEvent(u"question"_s), 0); // queued for the CONNECT that never came
}

void TestSocketServer::nextAfterServerDeleted()
{
    std::optional<Next> kept;
    auto server = std::make_unique<SocketServer>();
    server->of(u"/"_s)->use([&](Socket *, const Next &next) { kept.emplace(next); });
    QVERIFY(server->listen(QHostAddress::LocalHost, 0));
    SioClient c;
    QVERIFY(c.openSession(server->serverPort()));
    c.send("0");
    QTRY_VERIFY_WITH_TIMEOUT(kept.has_value(), kWait);
    server.reset();
    (*kept)(); // must do nothing
    (*kept)(ConnectError {u"late"_s, {}});
    QVERIFY(c.waitDisconnected());
}

void TestSocketServer::secondConnectWhileConnecting()
{
    SocketServer server;
    Namespace *nsp = server.of(u"/slow"_s);
    int middlewareRuns = 0;
    nsp->use([&](Socket *, const Next &next) {
        ++middlewareRuns;
        QTimer::singleShot(200, this, [next] { next(); });
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SioClient c;
    QVERIFY(c.openSession(server.serverPort()));
    c.send("0/slow,");
    c.send("0/slow,");
    QVERIFY(c.waitDisconnected()); // a protocol error, as a CONNECT for a joined namespace is
    QTest::qWait(300);
    QCOMPARE(middlewareRuns, 1);
    QCOMPARE(nsp->socketsCount(), 0);
    QVERIFY(nsp->adapter()->rooms().isEmpty());
}

void TestSocketServer::disconnectWhileConnectingIsNoOp()
{
    SocketServer server;
    Namespace *nsp = server.of(u"/"_s);
    nsp->use([](Socket *s, const Next &next) {
        s->disconnect(); // as in Node: nothing happens to a socket still connecting
        next();
    });
    nsp->onConnect([](Socket *s, const QVariant &) {
        s->disconnect();
        return true;
    });
    QStringList order;
    connect(nsp, &Namespace::connected, this, [&](Socket *s) {
        order << u"connected"_s;
        s->join(u"late"_s);
    });
    connect(nsp, &Namespace::disconnected, this, [&] { order << u"disconnected"_s; });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QVERIFY(sync(p));
    QCOMPARE(order, QStringList {u"connected"_s});
    QCOMPARE(p->count([](const SioPacket &pk) { return pk.type == 1; }), 0);
    QVERIFY(p.socket->rooms().contains(u"late"_s));
    p->ws.close();
    QVERIFY(p->waitDisconnected());
    QTRY_VERIFY_WITH_TIMEOUT(nsp->adapter()->rooms().isEmpty(), kWait);
}

void TestSocketServer::reservedEventNamesNotEmitted()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    for (const QString &name : {u"connect"_s, u"connect_error"_s, u"disconnect"_s,
             u"disconnecting"_s, u"newListener"_s, u"removeListener"_s}) {
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"reserved"_s));
        QVERIFY(!p.socket->emitEvent(name));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"reserved"_s));
        QVERIFY(!server.of(u"/"_s)->emitEvent(name));
    }
    QVERIFY(sync(p));
    QVERIFY(p.socket->isConnected());
}

void TestSocketServer::throwingPacketMiddleware()
{
    SocketServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Peer p;
    QVERIFY(join(server, p));
    QStringList errors;
    int handled = 0;
    connect(p.socket, &Socket::middlewareError, this,
        [&](const QString &message) { errors << message; });
    p.socket->on(u"ev"_s, [&](const QVariantList &, const Ack &) { ++handled; });
    p.socket->use([](const QString &event, QVariantList &, const Next &next) {
        if (event == u"ev")
            throw std::runtime_error("bad packet");
        next();
    });
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"threw"_s));
    p->send(R"(2["ev"])");
    QTRY_COMPARE_WITH_TIMEOUT(errors, QStringList {u"bad packet"_s}, kWait);
    QCOMPARE(handled, 0);
    QVERIFY(p.socket->isConnected());
}

void TestSocketServer::emptyChildNamespacesCleanedUp()
{
    SocketServerOptions options;
    options.namespaces = {u"*"_s};
    options.cleanupEmptyChildNamespaces = true;
    SocketServer server(options);
    Namespace *parent = server.of(QRegularExpression(u"^/dyn-\\d+$"_s));
    server.of(u"/kept"_s); // made by the application: stays
    parent->use([](Socket *s, const Next &next) {
        if (s->handshake().auth.toMap().contains(u"refuse"_s))
            next(ConnectError {u"no"_s, {}});
        else
            next();
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    Peer a, b, c;
    QVERIFY(join(server, a, u"/any"_s));
    QVERIFY(join(server, b, u"/dyn-1"_s));
    QVERIFY(join(server, c, u"/kept"_s));
    QPointer<Namespace> any = server.existingNamespace(u"/any"_s);
    QPointer<Namespace> child = server.existingNamespace(u"/dyn-1"_s);
    QVERIFY(any && child);
    QCOMPARE(child->parentNamespace(), parent);
    a->send("1/any,");
    b->send("1/dyn-1,");
    c->send("1/kept,");
    QTRY_VERIFY_WITH_TIMEOUT(!any && !child, kWait);
    QVERIFY(!server.existingNamespace(u"/any"_s));
    QVERIFY(server.existingNamespace(u"/kept"_s));
    QVERIFY(parent->all().fetchSockets().isEmpty());

    // A child made for a connection that is then refused goes too.
    SioClient d;
    QVERIFY(d.openSession(server.serverPort()));
    const auto refused = d.connectTo(u"/dyn-2"_s, R"({"refuse":true})");
    QVERIFY(refused);
    QCOMPARE(refused->type, 4);
    QTRY_VERIFY_WITH_TIMEOUT(!server.existingNamespace(u"/dyn-2"_s), kWait);
}

void TestSocketServer::inMemoryAdapterOwnRooms()
{
    // Each socket's own-id room is implicit in the in-memory adapter; it must behave as a room
    // like any other: joined, left, listed, selected, excluded, joined by another socket.
    SocketServer server;
    Adapter *adapter = server.of(u"/rooms-unit"_s)->adapter();
    QSignalSpy created(adapter, &Adapter::roomCreated);
    QSignalSpy deleted(adapter, &Adapter::roomDeleted);
    QSignalSpy joined(adapter, &Adapter::roomJoined);
    QSignalSpy left(adapter, &Adapter::roomLeft);
    using Set = QSet<QString>;

    adapter->addAll(u"a"_s, {u"a"_s});
    adapter->addAll(u"b"_s, {u"b"_s, u"lobby"_s});
    QCOMPARE(created.size(), 3);
    QCOMPARE(joined.size(), 3);
    QCOMPARE(adapter->socketRooms(u"a"_s), Set({u"a"_s}));
    QCOMPARE(adapter->socketRooms(u"b"_s), Set({u"b"_s, u"lobby"_s}));
    QCOMPARE(adapter->rooms(), Set({u"a"_s, u"b"_s, u"lobby"_s}));
    QCOMPARE(adapter->sockets({u"a"_s}), Set({u"a"_s}));
    QCOMPARE(adapter->sockets({u"a"_s, u"lobby"_s}), Set({u"a"_s, u"b"_s}));

    // Joining again changes nothing; another socket may join a socket's own room.
    adapter->addAll(u"a"_s, {u"a"_s});
    QCOMPARE(joined.size(), 3);
    adapter->addAll(u"b"_s, {u"a"_s});
    QCOMPARE(created.size(), 3); // the room existed
    QCOMPARE(adapter->sockets({u"a"_s}), Set({u"a"_s, u"b"_s}));
    QCOMPARE(adapter->socketRooms(u"b"_s), Set({u"a"_s, u"b"_s, u"lobby"_s}));

    // Excluding a socket's room excludes whoever is in it.
    adapter->addAll(u"c"_s, {u"c"_s});
    QCOMPARE(adapter->sockets({u"c"_s, u"lobby"_s, u"a"_s}).size(), 3);
    BroadcastOptions except;
    except.except = {u"a"_s};
    adapter->addSockets(except, {u"garden"_s}); // c only: a and b are in room "a"
    QCOMPARE(adapter->sockets({u"garden"_s}), Set({u"c"_s}));

    // The owner leaves its own room: it goes on existing while b is in it.
    adapter->del(u"a"_s, u"a"_s);
    QCOMPARE(adapter->socketRooms(u"a"_s), Set());
    QCOMPARE(adapter->sockets({u"a"_s}), Set({u"b"_s}));
    QCOMPARE(deleted.size(), 0);
    adapter->del(u"b"_s, u"a"_s);
    QCOMPARE(deleted.size(), 1);
    QCOMPARE(deleted.last().first().toString(), u"a"_s);
    QVERIFY(!adapter->rooms().contains(u"a"_s));

    // Leaving everything: every room is left, the own one included, and emptied rooms go.
    const qsizetype leftBefore = left.size();
    adapter->delAll(u"b"_s);
    QCOMPARE(left.size() - leftBefore, 2);
    QCOMPARE(adapter->socketRooms(u"b"_s), Set());
    QCOMPARE(adapter->rooms(), Set({u"c"_s, u"garden"_s}));
    adapter->delAll(u"a"_s); // in no room any more: nothing to announce
    QCOMPARE(left.size() - leftBefore, 2);
}

QTEST_GUILESS_MAIN(TestSocketServer)

#include "tst_socketserver.moc"
