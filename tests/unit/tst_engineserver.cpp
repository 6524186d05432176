// Unit tests of EngineServer / EngineSocket driven by Qt-side clients: raw QTcpSocket speaking
// HTTP/1.1 (and WebSocket framing) by hand where the exact bytes matter, QNetworkAccessManager and
// QWebSocket where convenient. Every server listens on 127.0.0.1 (or ::1) port 0, every wait is
// bounded.

#include <QSocketIo/engineserver.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qrandom.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qtimer.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtHttpServer/qhttpserverresponse.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>
#include <QtWebSockets/qwebsocket.h>

using namespace QSocketIo;
using namespace std::chrono_literals;

// Runs a helper that may fail with QVERIFY/QCOMPARE and leaves the calling test if it did.
#define CHECKED(call)                                                                              \
    do {                                                                                           \
        call;                                                                                      \
        if (QTest::currentTestFailed())                                                            \
            return;                                                                                \
    } while (false)

namespace {

constexpr int kWait = 5000; // upper bound for anything that should happen "now"

// ---------------------------------------------------------------------------------------------
// HTTP by hand

struct HttpResponse
{
    int status = 0;
    QByteArray statusLine;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QByteArray raw;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        }
        return {};
    }
    int headerCount(QByteArrayView name) const
    {
        int n = 0;
        for (const auto &h : headers)
            n += h.first.compare(name, Qt::CaseInsensitive) == 0;
        return n;
    }
    bool hasHeader(QByteArrayView name) const { return headerCount(name) > 0; }
};

// Parses one response at the front of `buf`. Returns the bytes it used, 0 when incomplete, -1 when
// malformed. A body without Content-Length runs to the end of the connection (`eof`).
qsizetype parseHttpResponse(const QByteArray &buf, bool eof, HttpResponse *out)
{
    const qsizetype headEnd = buf.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return eof && !buf.isEmpty() ? -1 : 0;
    HttpResponse r;
    const QList<QByteArray> lines = buf.left(headEnd).split('\n');
    r.statusLine = lines.first();
    if (r.statusLine.endsWith('\r'))
        r.statusLine.chop(1);
    const QList<QByteArray> parts = r.statusLine.split(' ');
    if (parts.size() < 2 || !parts.first().startsWith("HTTP/1."))
        return -1;
    bool ok = false;
    r.status = parts.at(1).toInt(&ok);
    if (!ok)
        return -1;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        QByteArray line = lines.at(i);
        if (line.endsWith('\r'))
            line.chop(1);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return -1;
        r.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    const qsizetype bodyStart = headEnd + 4;
    qsizetype used = 0;
    const QByteArray contentLength = r.header("content-length");
    if (!contentLength.isEmpty()) {
        const qsizetype length = contentLength.toLongLong(&ok);
        if (!ok)
            return -1;
        if (buf.size() < bodyStart + length)
            return 0;
        r.body = buf.mid(bodyStart, length);
        used = bodyStart + length;
    } else if (r.status / 100 == 1 || r.status == 204 || r.status == 304) {
        used = bodyStart;
    } else {
        if (!eof)
            return 0;
        r.body = buf.mid(bodyStart);
        used = buf.size();
    }
    r.raw = buf.left(used);
    *out = r;
    return used;
}

// A client-side TCP connection that collects everything the server sends.
class RawClient : public QObject
{
public:
    QByteArray buffer;
    bool closed = false;
    QTcpSocket socket; // last member: destroyed first

    RawClient()
    {
        connect(&socket, &QTcpSocket::readyRead, this, [this] { buffer += socket.readAll(); });
        connect(&socket, &QTcpSocket::disconnected, this, [this] {
            buffer += socket.readAll();
            closed = true;
        });
    }
    ~RawClient() override
    {
        socket.disconnect(this);
        socket.abort();
    }

    bool connectTo(const QHostAddress &address, quint16 port)
    {
        socket.connectToHost(address, port);
        return QTest::qWaitFor(
                   [this] {
                       return socket.state() == QAbstractSocket::ConnectedState
                           || socket.error() != QAbstractSocket::UnknownSocketError;
                   },
                   kWait)
            && socket.state() == QAbstractSocket::ConnectedState;
    }

    void send(const QByteArray &bytes)
    {
        socket.write(bytes);
        socket.flush();
    }

    // Waits for one complete response and removes it from the buffer.
    bool readResponse(HttpResponse *out, int timeout = kWait)
    {
        qsizetype used = 0;
        (void)QTest::qWaitFor(
            [&] {
                used = parseHttpResponse(buffer, closed, out);
                return used != 0;
            },
            timeout);
        if (used <= 0)
            return false;
        buffer.remove(0, used);
        return true;
    }

    bool waitClosed(int timeout = kWait)
    {
        return QTest::qWaitFor([this] { return closed; }, timeout);
    }

    // One WebSocket frame from the server (after a 101 was read off the buffer).
    bool readFrame(quint8 *opcode, QByteArray *payload, int timeout = kWait)
    {
        qsizetype used = 0;
        (void)QTest::qWaitFor(
            [&] {
                used = parseFrame(opcode, payload);
                return used != 0 || closed;
            },
            timeout);
        if (used <= 0)
            return false;
        buffer.remove(0, used);
        return true;
    }

private:
    qsizetype parseFrame(quint8 *opcode, QByteArray *payload) const
    {
        if (buffer.size() < 2)
            return 0;
        const auto b0 = quint8(buffer.at(0));
        const auto b1 = quint8(buffer.at(1));
        quint64 length = b1 & 0x7f;
        qsizetype pos = 2;
        if (length == 126) {
            if (buffer.size() < 4)
                return 0;
            length = (quint64(quint8(buffer.at(2))) << 8) | quint8(buffer.at(3));
            pos = 4;
        } else if (length == 127) {
            if (buffer.size() < 10)
                return 0;
            length = 0;
            for (int i = 2; i < 10; ++i)
                length = (length << 8) | quint8(buffer.at(i));
            pos = 10;
        }
        const bool masked = b1 & 0x80;
        QByteArray mask;
        if (masked) {
            if (buffer.size() < pos + 4)
                return 0;
            mask = buffer.mid(pos, 4);
            pos += 4;
        }
        if (quint64(buffer.size() - pos) < length)
            return 0;
        *opcode = b0 & 0x0f;
        *payload = buffer.mid(pos, qsizetype(length));
        if (masked) {
            for (qsizetype i = 0; i < payload->size(); ++i)
                (*payload)[i] = char((*payload)[i] ^ mask[i % 4]);
        }
        return pos + qsizetype(length);
    }
};

// A masked client frame (FIN set).
QByteArray wsClientFrame(quint8 opcode, const QByteArray &payload)
{
    QByteArray frame;
    frame.append(char(0x80 | opcode));
    const qsizetype n = payload.size();
    if (n < 126) {
        frame.append(char(0x80 | n));
    } else if (n < 65536) {
        frame.append(char(0x80 | 126));
        frame.append(char(n >> 8));
        frame.append(char(n & 0xff));
    } else {
        frame.append(char(0x80 | 127));
        for (int i = 7; i >= 0; --i)
            frame.append(char((quint64(n) >> (8 * i)) & 0xff));
    }
    const char mask[4] = {'\x1b', '\x7e', '\x33', '\xc4'};
    frame.append(mask, 4);
    for (qsizetype i = 0; i < n; ++i)
        frame.append(char(payload.at(i) ^ mask[i % 4]));
    return frame;
}

QByteArray hostHeader(quint16 port, const QByteArray &host = "127.0.0.1")
{
    return host + ':' + QByteArray::number(port);
}

QByteArray httpGet(quint16 port, const QByteArray &target, const QByteArray &extraHeaders = {},
    const QByteArray &host = "127.0.0.1")
{
    return "GET " + target + " HTTP/1.1\r\nHost: " + hostHeader(port, host) + "\r\n" + extraHeaders
        + "\r\n";
}

QByteArray httpPost(quint16 port, const QByteArray &target, const QByteArray &body,
    const QByteArray &extraHeaders = {})
{
    return "POST " + target + " HTTP/1.1\r\nHost: " + hostHeader(port)
        + "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\n" + extraHeaders + "\r\n" + body;
}

const QByteArray kHandshakeTarget = "/engine.io/?EIO=4&transport=polling";

QByteArray pollTarget(const QString &sid)
{
    return "/engine.io/?EIO=4&transport=polling&sid=" + sid.toLatin1();
}

const QByteArray kWsKey = "dGhlIHNhbXBsZSBub25jZQ==";

QByteArray expectedAccept(const QByteArray &key)
{
    return QCryptographicHash::hash(
        key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
        .toBase64();
}

QByteArray upgradeRequest(quint16 port, const QByteArray &target)
{
    return "GET " + target + " HTTP/1.1\r\nHost: " + hostHeader(port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kWsKey
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

bool isValidSid(const QString &sid)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9_-]{20}$"));
    return re.match(sid).hasMatch();
}

const QByteArray kBadRequestBody = R"({"code":3,"message":"Bad request"})";
const QByteArray kForbiddenBody = R"({"code":4,"message":"Forbidden"})";
const QByteArray kUnknownSidBody = R"({"code":1,"message":"Session ID unknown"})";

// One request on a fresh connection.
void request(quint16 port, const QByteArray &bytes, HttpResponse *out,
    const QHostAddress &address = QHostAddress::LocalHost)
{
    RawClient c;
    QVERIFY2(c.connectTo(address, port), "cannot connect");
    c.send(bytes);
    QVERIFY2(c.readResponse(out), "no complete response");
}

QJsonObject parseOpen(const QByteArray &packet)
{
    if (!packet.startsWith("0{"))
        return {};
    return QJsonDocument::fromJson(packet.mid(1)).object();
}

// Polling handshake; checks the answer and returns the sid.
void handshakeOn(RawClient &c, quint16 port, QString *sid, HttpResponse *response = nullptr,
    const QByteArray &host = "127.0.0.1")
{
    c.send(httpGet(port, kHandshakeTarget, {}, host));
    HttpResponse r;
    QVERIFY2(c.readResponse(&r), "no handshake response");
    QCOMPARE(r.status, 200);
    QVERIFY2(r.body.startsWith("0{"), r.body.constData());
    const QJsonObject open = parseOpen(r.body);
    *sid = open.value(u"sid").toString();
    QVERIFY2(isValidSid(*sid), qPrintable(*sid));
    if (response)
        *response = r;
}

void handshake(quint16 port, QString *sid, HttpResponse *response = nullptr)
{
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    CHECKED(handshakeOn(c, port, sid, response));
}

void echo(EngineSocket *s)
{
    QObject::connect(
        s, &EngineSocket::messageReceived, s, [s](const QByteArray &data, bool binary) {
            if (binary)
                s->sendBinary(data);
            else
                s->send(data);
        });
}

// ---------------------------------------------------------------------------------------------
// WebSocket with QWebSocket

class WsClient : public QObject
{
public:
    struct Message
    {
        bool binary;
        QByteArray data;
    };
    QList<Message> messages;
    bool everConnected = false;
    bool disconnected = false;
    bool failed = false;
    bool autoPong = false;
    QWebSocket ws; // last member: destroyed first

    WsClient()
    {
        connect(&ws, &QWebSocket::connected, this, [this] { everConnected = true; });
        connect(&ws, &QWebSocket::disconnected, this, [this] { disconnected = true; });
        connect(&ws, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            [this] { failed = true; });
        connect(&ws, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
            messages.append({false, text.toUtf8()});
            if (autoPong && text == u"2")
                ws.sendTextMessage(QStringLiteral("3"));
        });
        connect(&ws, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &bytes) {
            messages.append({true, bytes});
        });
    }
    ~WsClient() override
    {
        ws.disconnect(this);
        ws.abort();
    }

    bool open(const QUrl &url)
    {
        ws.open(url);
        return QTest::qWaitFor([this] { return everConnected || failed || disconnected; }, kWait)
            && everConnected;
    }
    bool waitForMessages(qsizetype n, int timeout = kWait)
    {
        return QTest::qWaitFor([&] { return messages.size() >= n; }, timeout);
    }
    bool waitDisconnected(int timeout = kWait)
    {
        return QTest::qWaitFor([this] { return disconnected; }, timeout);
    }
    QList<QByteArray> texts() const
    {
        QList<QByteArray> out;
        for (const Message &m : messages) {
            if (!m.binary)
                out.append(m.data);
        }
        return out;
    }
};

QUrl wsUrl(quint16 port, const QString &sid = {}, const QString &host = QStringLiteral("127.0.0.1"))
{
    QString url
        = QStringLiteral("ws://%1:%2/engine.io/?EIO=4&transport=websocket").arg(host).arg(port);
    if (!sid.isEmpty())
        url += QStringLiteral("&sid=") + sid;
    return QUrl(url);
}

// Waits for the session's closed signal; returns its reason.
struct CloseRecorder
{
    QString reason;
    qint64 at = -1;
    int count = 0;
    void attach(EngineSocket *s, const QElapsedTimer *clock = nullptr)
    {
        QObject::connect(
            s, &EngineSocket::closed, s, [this, clock](const QString &r, const QString &) {
                reason = r;
                at = clock ? clock->elapsed() : 0;
                ++count;
            });
    }
    bool wait(int timeout = kWait)
    {
        return QTest::qWaitFor([this] { return count > 0; }, timeout);
    }
};

} // namespace

class TestEngineServer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void handshakePolling();
    void pathNormalisation_data();
    void pathNormalisation();
    void pollingEcho_data();
    void pollingEcho();
    void pollingBatchesSendsOfOneTurn();
    void heldGetAnsweredLater();
    void mountedOnApplicationServer();
    void ipv6();
    void webSocketOnlySession();
    void secondWebSocketForWebSocketSession();
    void upgradeByHand();
    void heartbeatAnswered_data();
    void heartbeatAnswered();
    void heartbeatTimeout_data();
    void heartbeatTimeout();
    void headTooLarge_data();
    void headTooLarge();
    void stalledHead_data();
    void stalledHead();
    void contentLengthTooLarge();
    void chunkedBody();
    void malformedRequest_data();
    void malformedRequest();
    void connectionClose_data();
    void connectionClose();
    void overlappingGet();
    void malformedPayload_data();
    void malformedPayload();
    void allowRequestRefuses();
    void cookie_data();
    void cookie();
    void gracefulCloseHeldPollAndWebSocket();
    void gracefulCloseWaitsForNextPoll();
    void survivesGarbage();
    void badSidUpgrade();
    void upgradeOnUsedKeepAliveConnection_data();
    void upgradeOnUsedKeepAliveConnection();
    void requestOnConnectionHoldingPoll();
    void pipelinedRequests_data();
    void pipelinedRequests();
    void headAndBodyInPieces();
    void heldGetDropped();
    void upgradeTimeout();
    void probeClosedByClient();
    void gracefulCloseTimeout();
    void closeWithoutSessions();
    void bodyLimitOnEveryEngineTarget_data();
    void bodyLimitOnEveryEngineTarget();
    void upgradeWithListConnectionHeader();
    void standaloneOtherPathBodyNotBuffered();
    void idleKeepAliveClosed();
    void stalledBodyTimesOut();
    void deletedSessionLeavesBooks();
    void refusedPostDoesNotBlockSession();
    void forwardedOriginIsSameOrigin();
    void upgradeForPollingTransportRefused();
    void foreignWebSocketReachesApplication();
};

void TestEngineServer::initTestCase()
{
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

// ---------------------------------------------------------------------------------------------

void TestEngineServer::handshakePolling()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QVERIFY(port != 0);
    QSignalSpy newConnection(&server, &EngineServer::newConnection);
    QCOMPARE(server.clientsCount(), 0);

    HttpResponse r;
    CHECKED(request(port, httpGet(port, kHandshakeTarget), &r));
    QCOMPARE(r.status, 200);
    QVERIFY2(r.body.startsWith("0{"), r.body.constData());
    QCOMPARE(r.header("content-type"), QByteArray("text/plain; charset=UTF-8"));
    QCOMPARE(r.headerCount("content-length"), 1);
    QVERIFY(!r.hasHeader("set-cookie"));

    const QJsonObject open = parseOpen(r.body);
    const QString sid = open.value(u"sid").toString();
    QVERIFY2(isValidSid(sid), qPrintable(sid));
    QCOMPARE(open.value(u"upgrades").toArray(), QJsonArray {QStringLiteral("websocket")});
    QCOMPARE(open.value(u"pingInterval").toInt(), 25000);
    QCOMPARE(open.value(u"pingTimeout").toInt(), 20000);
    QCOMPARE(open.value(u"maxPayload").toInt(), 1000000);

    QCOMPARE(newConnection.count(), 1);
    auto *s = newConnection.at(0).at(0).value<EngineSocket *>();
    QVERIFY(s);
    QCOMPARE(s->id(), sid);
    QCOMPARE(s->transport(), QStringLiteral("polling"));
    QCOMPARE(s->state(), EngineSocket::State::Open);
    QCOMPARE(server.clientsCount(), 1);
    QCOMPARE(server.socket(sid), s);
    QCOMPARE(s->handshake().query.queryItemValue(QStringLiteral("transport")),
        QStringLiteral("polling"));
    QVERIFY(s->handshake().remoteAddress.isLoopback());

    // A second handshake is another session with another sid.
    QString sid2;
    CHECKED(handshake(port, &sid2));
    QVERIFY(sid2 != sid);
    QCOMPARE(newConnection.count(), 2);
    QCOMPARE(server.clientsCount(), 2);
}

void TestEngineServer::pathNormalisation_data()
{
    QTest::addColumn<QString>("optionPath");
    QTest::newRow("engine.io") << QStringLiteral("engine.io");
    QTest::newRow("/engine.io") << QStringLiteral("/engine.io");
    QTest::newRow("/engine.io/") << QStringLiteral("/engine.io/");
}

void TestEngineServer::pathNormalisation()
{
    QFETCH(QString, optionPath);
    EngineOptions options;
    options.path = optionPath;
    EngineServer server(options);
    QCOMPARE(server.options().path, QStringLiteral("/engine.io/"));
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    for (const QByteArray &target : {QByteArray("/engine.io/?EIO=4&transport=polling"),
             QByteArray("/engine.io?EIO=4&transport=polling")}) {
        HttpResponse r;
        CHECKED(request(port, httpGet(port, target), &r));
        QVERIFY2(r.status == 200, target.constData());
        QVERIFY2(r.body.startsWith("0{"), target.constData());
    }
    QCOMPARE(server.clientsCount(), 2);

    // Other paths are not the engine's.
    HttpResponse r;
    CHECKED(request(port, httpGet(port, "/other/?EIO=4&transport=polling"), &r));
    QCOMPARE(r.status, 404);
    QCOMPARE(server.clientsCount(), 2);
}

void TestEngineServer::pollingEcho_data()
{
    QTest::addColumn<QByteArray>("post");
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("binary");
    QTest::newRow("text") << QByteArray("4hello") << QByteArray("hello") << false;
    QTest::newRow("utf-8 text") << QByteArray("4h\xc3\xa9llo \xe2\x82\xac")
                                << QByteArray("h\xc3\xa9llo \xe2\x82\xac") << false;
    QTest::newRow("binary") << QByteArray("bAAH/") << QByteArray("\x00\x01\xff", 3) << true;
}

void TestEngineServer::pollingEcho()
{
    QFETCH(QByteArray, post);
    QFETCH(QByteArray, message);
    QFETCH(bool, binary);

    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    EngineSocket *s = server.socket(sid);
    QVERIFY(s);
    echo(s);
    QSignalSpy received(s, &EngineSocket::messageReceived);

    HttpResponse r;
    CHECKED(request(port, httpPost(port, pollTarget(sid), post), &r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("ok"));
    QCOMPARE(received.count(), 1);
    QCOMPARE(received.at(0).at(0).toByteArray(), message);
    QCOMPARE(received.at(0).at(1).toBool(), binary);

    CHECKED(request(port, httpGet(port, pollTarget(sid)), &r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, post); // binary goes back as "b" + base64, text as "4..."
}

void TestEngineServer::pollingBatchesSendsOfOneTurn()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    EngineSocket *s = server.socket(sid);
    QVERIFY(s);

    // Held GET, then three sends in one turn: one response with all three.
    RawClient get;
    QVERIFY(get.connectTo(QHostAddress::LocalHost, port));
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait); // the GET is held
    QVERIFY(get.buffer.isEmpty());
    QVERIFY(s->send("a"));
    QVERIFY(s->send("b"));
    QVERIFY(s->sendBinary(QByteArray("\x01\x02\xff", 3)));
    HttpResponse r;
    QVERIFY(get.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body,
        QByteArray("4a\x1e"
                   "4b\x1e"
                   "bAQL/"));

    // Nothing else was left behind: the next GET is held, not answered.
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    QTest::qWait(150);
    QVERIFY2(get.buffer.isEmpty(), get.buffer.constData());

    // close() answers the held GET with the close packet.
    CloseRecorder closed;
    closed.attach(s);
    s->close();
    QVERIFY(get.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("1"));
    QVERIFY(closed.wait());
    QCOMPARE(closed.reason, QStringLiteral("forced close"));

    // Sends while no GET is held wait for the next GET, all in one payload.
    RawClient get2;
    QVERIFY(get2.connectTo(QHostAddress::LocalHost, port));
    QString sid2;
    CHECKED(handshake(port, &sid2));
    EngineSocket *s2 = server.socket(sid2);
    QVERIFY(s2);
    QVERIFY(s2->send("x"));
    QVERIFY(s2->send("y"));
    QTest::qWait(50); // several event-loop turns
    QVERIFY(s2->send("z"));
    get2.send(httpGet(port, pollTarget(sid2)));
    QVERIFY(get2.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body,
        QByteArray("4x\x1e"
                   "4y\x1e"
                   "4z"));
}

void TestEngineServer::heldGetAnsweredLater()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);

    RawClient get;
    QVERIFY(get.connectTo(QHostAddress::LocalHost, port));
    QElapsedTimer clock;
    clock.start();
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    QTimer::singleShot(300, s, [s] { s->send("later"); });
    QTest::qWait(150);
    QVERIFY2(get.buffer.isEmpty(), "the GET was answered before anything was sent");
    HttpResponse r;
    QVERIFY(get.readResponse(&r));
    QVERIFY2(clock.elapsed() >= 280, QByteArray::number(clock.elapsed()).constData());
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("4later"));
}

void TestEngineServer::mountedOnApplicationServer()
{
    QHttpServer http; // outlives the engine
    http.route(QStringLiteral("/api/hello"),
        [] { return QHttpServerResponse(QByteArray("text/plain"), QByteArray("hi")); });
    EngineServer server;
    QVERIFY(server.attach(&http));
    QVERIFY(!server.attach(&http)); // only once
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QVERIFY(port != 0);

    // The application's REST route.
    QNetworkAccessManager nam;
    QNetworkReply *reply
        = nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/api/hello").arg(port))));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), kWait);
    QCOMPARE(reply->error(), QNetworkReply::NoError);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(reply->readAll(), QByteArray("hi"));
    reply->deleteLater();

    // Engine.IO polling handshake, then the REST route on the same keep-alive connection.
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QString sid;
    CHECKED(handshakeOn(c, port, &sid));
    c.send(httpGet(port, "/api/hello"));
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("hi"));

    // A WebSocket-only Engine.IO connection on the same port.
    WsClient ws;
    QVERIFY(ws.open(wsUrl(port)));
    QVERIFY(ws.waitForMessages(1));
    QCOMPARE(ws.messages.first().binary, false);
    const QJsonObject open = parseOpen(ws.messages.first().data);
    QVERIFY2(isValidSid(open.value(u"sid").toString()), ws.messages.first().data.constData());
    QCOMPARE(open.value(u"upgrades").toArray(), QJsonArray());
    QCOMPARE(server.clientsCount(), 2);
    EngineSocket *wsSession = server.socket(open.value(u"sid").toString());
    QVERIFY(wsSession);
    QCOMPARE(wsSession->transport(), QStringLiteral("websocket"));
    echo(wsSession);
    ws.ws.sendTextMessage(QStringLiteral("4mounted"));
    QVERIFY(ws.waitForMessages(2));
    QCOMPARE(ws.messages.at(1).data, QByteArray("4mounted"));
}

void TestEngineServer::ipv6()
{
    {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHostIPv6, 0))
            QSKIP("no IPv6 loopback on this machine");
    }
    EngineServer server;
    QVERIFY2(server.listen(QHostAddress::LocalHostIPv6, 0), qPrintable(server.errorString()));
    const quint16 port = server.serverPort();

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHostIPv6, port));
    QString sid;
    CHECKED(handshakeOn(c, port, &sid, nullptr, "[::1]"));
    EngineSocket *s = server.socket(sid);
    QVERIFY(s);
    QCOMPARE(s->handshake().remoteAddress.protocol(), QAbstractSocket::IPv6Protocol);
    QVERIFY(s->handshake().remoteAddress.isEqual(QHostAddress::LocalHostIPv6));

    // WebSocket over [::1] as well.
    WsClient ws;
    QVERIFY(ws.open(wsUrl(port, {}, QStringLiteral("[::1]"))));
    QVERIFY(ws.waitForMessages(1));
    QVERIFY2(ws.messages.first().data.startsWith("0{"), ws.messages.first().data.constData());
    QCOMPARE(server.clientsCount(), 2);
}

void TestEngineServer::webSocketOnlySession()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QSignalSpy newConnection(&server, &EngineServer::newConnection);
    EngineSocket *s = nullptr;
    connect(&server, &EngineServer::newConnection, this, [&s](EngineSocket *socket) {
        s = socket;
        echo(socket);
    });

    WsClient ws;
    QVERIFY(ws.open(wsUrl(port)));
    QVERIFY(ws.waitForMessages(1));
    QCOMPARE(ws.messages.first().binary, false);
    const QJsonObject open = parseOpen(ws.messages.first().data);
    const QString sid = open.value(u"sid").toString();
    QVERIFY2(isValidSid(sid), ws.messages.first().data.constData());
    QCOMPARE(open.value(u"upgrades").toArray(), QJsonArray());
    QCOMPARE(open.value(u"pingInterval").toInt(), 25000);
    QCOMPARE(newConnection.count(), 1);
    QVERIFY(s);
    QCOMPARE(s->id(), sid);
    QCOMPARE(s->transport(), QStringLiteral("websocket"));
    QCOMPARE(server.clientsCount(), 1);
    QSignalSpy received(s, &EngineSocket::messageReceived);

    ws.ws.sendTextMessage(QStringLiteral("4hello"));
    QVERIFY(ws.waitForMessages(2));
    QCOMPARE(ws.messages.at(1).binary, false);
    QCOMPARE(ws.messages.at(1).data, QByteArray("4hello"));
    QCOMPARE(received.count(), 1);
    QCOMPARE(received.at(0).at(0).toByteArray(), QByteArray("hello"));
    QCOMPARE(received.at(0).at(1).toBool(), false);

    const QByteArray bytes("\x00\x01\xfe\xff", 4);
    ws.ws.sendBinaryMessage(bytes);
    QVERIFY(ws.waitForMessages(3));
    QCOMPARE(ws.messages.at(2).binary, true);
    QCOMPARE(ws.messages.at(2).data, bytes); // no type byte on binary frames
    QCOMPARE(received.count(), 2);
    QCOMPARE(received.at(1).at(0).toByteArray(), bytes);
    QCOMPARE(received.at(1).at(1).toBool(), true);

    // Client close packet ends the session.
    CloseRecorder closed;
    closed.attach(s);
    ws.ws.sendTextMessage(QStringLiteral("1"));
    QVERIFY(closed.wait());
    QCOMPARE(closed.reason, QStringLiteral("transport close"));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientsCount(), 0, kWait);
    QVERIFY(ws.waitDisconnected());
}

void TestEngineServer::secondWebSocketForWebSocketSession()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QPointer<EngineSocket> s;
    connect(&server, &EngineServer::newConnection, this, [&s](EngineSocket *socket) {
        s = socket;
        echo(socket);
    });

    WsClient first;
    QVERIFY(first.open(wsUrl(port)));
    QVERIFY(first.waitForMessages(1));
    const QString sid = parseOpen(first.messages.first().data).value(u"sid").toString();
    QVERIFY(isValidSid(sid));
    QVERIFY(s);
    CloseRecorder closed;
    closed.attach(s);

    WsClient second;
    second.ws.open(wsUrl(port, sid));
    QVERIFY(second.waitDisconnected());
    QVERIFY2(second.everConnected, "the second WebSocket was refused instead of accepted");
    QCOMPARE(second.messages.size(), 0);

    // The first session is untouched.
    first.ws.sendTextMessage(QStringLiteral("4still here"));
    QVERIFY(first.waitForMessages(2));
    QCOMPARE(first.messages.at(1).data, QByteArray("4still here"));
    QCOMPARE(closed.count, 0);
    QVERIFY(s);
    QCOMPARE(s->state(), EngineSocket::State::Open);
    QCOMPARE(server.clientsCount(), 1);
    QVERIFY(!first.disconnected);
}

void TestEngineServer::upgradeByHand()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    QSignalSpy upgraded(s, &EngineSocket::upgraded);
    QSignalSpy received(s, &EngineSocket::messageReceived);
    CloseRecorder closed;
    closed.attach(s);

    // A packet sent before the upgrade goes out through polling.
    RawClient get;
    QVERIFY(get.connectTo(QHostAddress::LocalHost, port));
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    QVERIFY(s->send("m1"));
    HttpResponse r;
    QVERIFY(get.readResponse(&r));
    QCOMPARE(r.body, QByteArray("4m1"));

    // Hold the next GET, then probe.
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    WsClient ws;
    QVERIFY(ws.open(wsUrl(port, sid)));
    QCOMPARE(s->transport(), QStringLiteral("polling"));
    ws.ws.sendTextMessage(QStringLiteral("2probe"));
    QVERIFY(ws.waitForMessages(1));
    QCOMPARE(ws.messages.at(0).data, QByteArray("3probe"));
    QVERIFY(get.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("6"));
    QCOMPARE(upgraded.count(), 0);
    QCOMPARE(s->transport(), QStringLiteral("polling"));

    // Packets the server sends between the probe and "5".
    QVERIFY(s->send("m2"));
    QVERIFY(s->sendBinary(QByteArray("\x02\x03", 2)));
    QVERIFY(s->send("m3"));
    ws.ws.sendTextMessage(QStringLiteral("5"));
    QTRY_COMPARE_WITH_TIMEOUT(upgraded.count(), 1, kWait);
    QCOMPARE(upgraded.at(0).at(0).toString(), QStringLiteral("websocket"));
    QCOMPARE(s->transport(), QStringLiteral("websocket"));
    QVERIFY(s->send("m4"));

    QVERIFY(ws.waitForMessages(5));
    QTest::qWait(50);
    QCOMPARE(ws.messages.size(), 5);
    QCOMPARE(ws.messages.at(1).binary, false);
    QCOMPARE(ws.messages.at(1).data, QByteArray("4m2"));
    QCOMPARE(ws.messages.at(2).binary, true);
    QCOMPARE(ws.messages.at(2).data, QByteArray("\x02\x03", 2));
    QCOMPARE(ws.messages.at(3).data, QByteArray("4m3"));
    QCOMPARE(ws.messages.at(4).data, QByteArray("4m4"));

    // Messages from the client over the new transport.
    ws.ws.sendTextMessage(QStringLiteral("4from ws"));
    QTRY_COMPARE_WITH_TIMEOUT(received.count(), 1, kWait);
    QCOMPARE(received.at(0).at(0).toByteArray(), QByteArray("from ws"));

    // Polling is over for this sid.
    CHECKED(request(port, httpGet(port, pollTarget(sid)), &r));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QCOMPARE(r.body, kBadRequestBody);
    QVERIFY(s);
    QCOMPARE(s->state(), EngineSocket::State::Open);
    QCOMPARE(closed.count, 0);
    QCOMPARE(server.clientsCount(), 1);
}

void TestEngineServer::heartbeatAnswered_data()
{
    QTest::addColumn<bool>("webSocket");
    QTest::newRow("polling") << false;
    QTest::newRow("websocket") << true;
}

void TestEngineServer::heartbeatAnswered()
{
    QFETCH(bool, webSocket);
    EngineOptions options;
    options.pingInterval = 300ms;
    options.pingTimeout = 200ms;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QPointer<EngineSocket> s;
    connect(
        &server, &EngineServer::newConnection, this, [&s](EngineSocket *socket) { s = socket; });
    CloseRecorder closed;
    QElapsedTimer clock;
    int pings = 0;
    WsClient ws;
    RawClient get, post;

    if (webSocket) {
        ws.autoPong = true;
        QVERIFY(ws.open(wsUrl(port)));
        QVERIFY(ws.waitForMessages(1));
        QVERIFY(s);
        closed.attach(s);
        const QJsonObject open = parseOpen(ws.messages.first().data);
        QCOMPARE(open.value(u"pingInterval").toInt(), 300);
        QCOMPARE(open.value(u"pingTimeout").toInt(), 200);
        QTest::qWait(1700);
        for (const QByteArray &t : ws.texts().mid(1)) {
            QCOMPARE(t, QByteArray("2"));
            ++pings;
        }
        QVERIFY(!ws.disconnected);
    } else {
        QVERIFY(get.connectTo(QHostAddress::LocalHost, port));
        QVERIFY(post.connectTo(QHostAddress::LocalHost, port));
        QString sid;
        HttpResponse r;
        CHECKED(handshakeOn(get, port, &sid, &r));
        QCOMPARE(parseOpen(r.body).value(u"pingInterval").toInt(), 300);
        QVERIFY(s);
        closed.attach(s);
        clock.start();
        while (clock.elapsed() < 1700) {
            get.send(httpGet(port, pollTarget(sid)));
            QVERIFY2(get.readResponse(&r, 2000), "poll not answered");
            QCOMPARE(r.status, 200);
            for (const QByteArray &packet : r.body.split('\x1e')) {
                QCOMPARE(packet, QByteArray("2"));
                ++pings;
                post.send(httpPost(port, pollTarget(sid), "3"));
                HttpResponse pr;
                QVERIFY(post.readResponse(&pr));
                QCOMPARE(pr.status, 200);
                QCOMPARE(pr.body, QByteArray("ok"));
            }
        }
    }
    QVERIFY2(pings >= 4, QByteArray::number(pings).constData());
    QCOMPARE(closed.count, 0);
    QVERIFY(s);
    QCOMPARE(s->state(), EngineSocket::State::Open);
    QCOMPARE(server.clientsCount(), 1);
}

void TestEngineServer::heartbeatTimeout_data()
{
    QTest::addColumn<bool>("webSocket");
    QTest::newRow("polling") << false;
    QTest::newRow("websocket") << true;
}

void TestEngineServer::heartbeatTimeout()
{
    QFETCH(bool, webSocket);
    EngineOptions options;
    options.pingInterval = 300ms;
    options.pingTimeout = 200ms;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QPointer<EngineSocket> s;
    CloseRecorder closed;
    QElapsedTimer clock;
    connect(&server, &EngineServer::newConnection, this, [&](EngineSocket *socket) {
        s = socket;
        closed.attach(socket, &clock);
    });

    // The clock starts before the handshake request leaves, so the server's timers (started
    // when it answers) cannot have run longer than it.
    WsClient ws;
    if (webSocket) {
        clock.start();
        QVERIFY(ws.open(wsUrl(port)));
        QVERIFY(ws.waitForMessages(1));
    } else {
        RawClient c;
        QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
        clock.start();
        c.send(httpGet(port, kHandshakeTarget));
        HttpResponse r;
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 200);
    }
    QVERIFY(s);
    QVERIFY(closed.wait(3000));
    QCOMPARE(closed.reason, QStringLiteral("ping timeout"));
    QVERIFY2(closed.at >= 450 && closed.at <= 900, QByteArray::number(closed.at).constData());
    QCOMPARE(server.clientsCount(), 0);
    if (webSocket) {
        QCOMPARE(ws.messages.size(), 2);
        QCOMPARE(ws.messages.at(1).data, QByteArray("2"));
        QVERIFY(ws.waitDisconnected());
    }
}

void TestEngineServer::headTooLarge_data()
{
    QTest::addColumn<bool>("terminated");
    QTest::newRow("complete head") << true;
    QTest::newRow("head still growing") << false;
}

void TestEngineServer::headTooLarge()
{
    QFETCH(bool, terminated);
    EngineOptions options;
    options.maxHeaderSize = 1024;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    // A head of exactly maxHeaderSize bytes (terminating empty line included) is fine; a few
    // bytes more is not (whether or not the terminator counts).
    const auto headOfSize = [port](qsizetype size) {
        QByteArray head = httpGet(port, kHandshakeTarget, "X-Filler: ");
        head.chop(2); // "\r\n" that ended the header block
        return head + QByteArray(size - head.size() - 4, 'a') + "\r\n\r\n";
    };
    HttpResponse r;
    QCOMPARE(headOfSize(1024).size(), 1024);
    CHECKED(request(port, headOfSize(1024), &r));
    QCOMPARE(r.status, 200);
    CHECKED(request(port, headOfSize(1024 + 5), &r));
    QCOMPARE(r.status, 431);

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QByteArray head = "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: "
        + hostHeader(port) + "\r\nX-Filler: " + QByteArray(2000, 'a');
    if (terminated)
        head += "\r\n\r\n";
    c.send(head);
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 431);
    QVERIFY(c.waitClosed());
    QCOMPARE(server.clientsCount(), 1);
}

void TestEngineServer::stalledHead_data()
{
    QTest::addColumn<QByteArray>("sent");
    QTest::newRow("partial head") << QByteArray(
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x");
    QTest::newRow("nothing") << QByteArray();
}

void TestEngineServer::stalledHead()
{
    QFETCH(QByteArray, sent);
    EngineOptions options;
    options.requestTimeout = 300ms;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    RawClient c;
    QElapsedTimer clock;
    clock.start();
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    if (!sent.isEmpty())
        c.send(sent);
    QVERIFY(c.waitClosed(3000));
    const qint64 elapsed = clock.elapsed();
    QVERIFY2(elapsed >= 250 && elapsed <= 1500, QByteArray::number(elapsed).constData());
    if (sent.isEmpty()) {
        QVERIFY2(c.buffer.isEmpty(), c.buffer.constData());
    } else {
        HttpResponse r;
        QVERIFY2(c.readResponse(&r, 0), c.buffer.constData());
        QCOMPARE(r.status, 408);
    }
    QCOMPARE(server.clientsCount(), 0);

    // A complete request in time is served.
    HttpResponse r;
    CHECKED(request(port, httpGet(port, kHandshakeTarget), &r));
    QCOMPARE(r.status, 200);
}

void TestEngineServer::contentLengthTooLarge()
{
    EngineOptions options;
    options.maxHttpBufferSize = 1000;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    // Only the head: the 413 must come without the body.
    c.send("POST " + pollTarget(sid) + " HTTP/1.1\r\nHost: " + hostHeader(port)
        + "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1001\r\n\r\n");
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 413);
    QVERIFY(c.waitClosed());
}

void TestEngineServer::chunkedBody()
{
    EngineOptions options;
    options.maxHttpBufferSize = 1000;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    EngineSocket *s = server.socket(sid);
    QVERIFY(s);
    QSignalSpy received(s, &EngineSocket::messageReceived);

    const QByteArray chunkedHead = "POST " + pollTarget(sid)
        + " HTTP/1.1\r\nHost: " + hostHeader(port)
        + "\r\nContent-Type: text/plain;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n";

    // Within the limit: decoded and delivered.
    {
        RawClient c;
        QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
        c.send(chunkedHead
            + "3\r\n4hi\r\n4\r\n\x1e"
              "4yo\r\n0\r\n\r\n");
        HttpResponse r;
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("ok"));
        QCOMPARE(received.count(), 2);
        QCOMPARE(received.at(0).at(0).toByteArray(), QByteArray("hi"));
        QCOMPARE(received.at(1).at(0).toByteArray(), QByteArray("yo"));
    }

    // Chunks adding up to more than the limit.
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    c.send(chunkedHead + "258\r\n4" + QByteArray(599, 'x') + "\r\n");
    QTest::qWait(50);
    QVERIFY2(c.buffer.isEmpty(), c.buffer.constData()); // 600 bytes are fine so far
    c.send("258\r\n" + QByteArray(600, 'y') + "\r\n");
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 413);
    QVERIFY(c.waitClosed());
    QCOMPARE(received.count(), 2);
}

void TestEngineServer::malformedRequest_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("no spaces") << QByteArray("GARBAGE\r\n\r\n");
    QTest::newRow("no version") << QByteArray("GET /engine.io/\r\n\r\n");
    QTest::newRow("bad version") << QByteArray("GET /engine.io/ HTTP/7.1\r\nHost: x\r\n\r\n");
    QTest::newRow("double space") << QByteArray("GET  /engine.io/ HTTP/1.1\r\nHost: x\r\n\r\n");
    QTest::newRow("header without colon")
        << QByteArray("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost x\r\n\r\n");
    QTest::newRow("bad method") << QByteArray("G(T /engine.io/ HTTP/1.1\r\nHost: x\r\n\r\n");
}

void TestEngineServer::malformedRequest()
{
    QFETCH(QByteArray, bytes);
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    c.send(bytes);
    HttpResponse r;
    QVERIFY2(c.readResponse(&r), c.buffer.constData());
    QCOMPARE(r.status, 400);
    QVERIFY(c.waitClosed());
    QCOMPARE(server.clientsCount(), 0);
}

void TestEngineServer::connectionClose_data()
{
    QTest::addColumn<QByteArray>("version");
    QTest::addColumn<QByteArray>("extraHeader");
    QTest::addColumn<bool>("expectClose");
    QTest::newRow("HTTP/1.1 Connection: close")
        << QByteArray("HTTP/1.1") << QByteArray("Connection: close\r\n") << true;
    QTest::newRow("HTTP/1.0") << QByteArray("HTTP/1.0") << QByteArray() << true;
    QTest::newRow("HTTP/1.1 keep-alive") << QByteArray("HTTP/1.1") << QByteArray() << false;
}

void TestEngineServer::connectionClose()
{
    QFETCH(QByteArray, version);
    QFETCH(QByteArray, extraHeader);
    QFETCH(bool, expectClose);
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    c.send("GET " + kHandshakeTarget + ' ' + version + "\r\nHost: " + hostHeader(port) + "\r\n"
        + extraHeader + "\r\n");
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 200);
    QVERIFY(r.body.startsWith("0{"));
    if (expectClose) {
        QCOMPARE(r.header("connection").toLower(), QByteArray("close"));
        QVERIFY(c.waitClosed());
    } else {
        QVERIFY(r.header("connection").toLower() != "close");
        QTest::qWait(200);
        QVERIFY(!c.closed);
        c.send(httpGet(port, kHandshakeTarget));
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.startsWith("0{"));
        QCOMPARE(server.clientsCount(), 2);
    }
}

void TestEngineServer::overlappingGet()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    CloseRecorder closed;
    closed.attach(s);

    RawClient first;
    QVERIFY(first.connectTo(QHostAddress::LocalHost, port));
    first.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);

    HttpResponse r;
    CHECKED(request(port, httpGet(port, pollTarget(sid)), &r));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.body, kBadRequestBody);

    HttpResponse held;
    QVERIFY(first.readResponse(&held));
    QCOMPARE(held.status, 200);
    QCOMPARE(held.body, QByteArray("1"));
    QVERIFY(closed.wait());
    QCOMPARE(closed.reason, QStringLiteral("transport error"));
    QCOMPARE(server.clientsCount(), 0);
}

void TestEngineServer::malformedPayload_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("unknown type") << QByteArray("9xyz");
    QTest::newRow("bad base64") << QByteArray("b!!!");
    QTest::newRow("good then bad") << QByteArray("4ok\x1e"
                                                 "9bad");
    QTest::newRow("empty packet") << QByteArray("4ok\x1e");
}

void TestEngineServer::malformedPayload()
{
    QFETCH(QByteArray, payload);
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    CloseRecorder closed;
    closed.attach(s);
    QSignalSpy received(s, &EngineSocket::messageReceived);

    HttpResponse r;
    CHECKED(request(port, httpPost(port, pollTarget(sid), payload), &r));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QCOMPARE(r.body, kBadRequestBody);
    QVERIFY(closed.wait());
    QCOMPARE(closed.reason, QStringLiteral("parse error"));
    QCOMPARE(received.count(), 0); // all or nothing
    QCOMPARE(server.clientsCount(), 0);
}

void TestEngineServer::allowRequestRefuses()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QStringList seen;
    server.setAllowRequest([&seen](const EngineHandshake &hs) {
        seen.append(hs.query.queryItemValue(QStringLiteral("transport")) + u'/'
            + hs.query.queryItemValue(QStringLiteral("token")));
        return false;
    });
    QSignalSpy newConnection(&server, &EngineServer::newConnection);
    QSignalSpy errors(&server, &EngineServer::connectionError);

    HttpResponse r;
    CHECKED(request(port, httpGet(port, kHandshakeTarget + "&token=abc"), &r));
    QCOMPARE(r.status, 403);
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QCOMPARE(r.body, kForbiddenBody);

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    c.send(upgradeRequest(port, "/engine.io/?EIO=4&transport=websocket&token=def"));
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.statusLine, QByteArray("HTTP/1.1 403 Forbidden"));
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QCOMPARE(r.body, kForbiddenBody);
    QVERIFY(!r.hasHeader("sec-websocket-accept"));
    QVERIFY(c.waitClosed());

    WsClient ws;
    QVERIFY(!ws.open(wsUrl(port)));

    QCOMPARE(seen.mid(0, 2),
        (QStringList {QStringLiteral("polling/abc"), QStringLiteral("websocket/def")}));
    QCOMPARE(newConnection.count(), 0);
    QCOMPARE(server.clientsCount(), 0);
    QVERIFY(errors.count() >= 2);
    QCOMPARE(
        errors.at(0).at(0).value<EngineServer::ErrorCode>(), EngineServer::ErrorCode::Forbidden);
    QCOMPARE(
        errors.at(1).at(0).value<EngineServer::ErrorCode>(), EngineServer::ErrorCode::Forbidden);
    QCOMPARE(errors.at(0).at(1).toString(), QStringLiteral("Forbidden"));

    // Allowed again: handshakes work.
    server.setAllowRequest([](const EngineHandshake &) { return true; });
    QString sid;
    CHECKED(handshake(port, &sid));
    QCOMPARE(server.clientsCount(), 1);
}

void TestEngineServer::cookie_data()
{
    QTest::addColumn<bool>("enabled");
    QTest::newRow("unset") << false;
    QTest::newRow("default cookie") << true;
}

void TestEngineServer::cookie()
{
    QFETCH(bool, enabled);
    EngineOptions options;
    if (enabled)
        options.cookie = CookieOptions {};
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    HttpResponse r;
    QString sid;
    {
        RawClient c;
        QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
        CHECKED(handshakeOn(c, port, &sid, &r));
    }
    if (enabled) {
        QCOMPARE(r.headerCount("set-cookie"), 1);
        QCOMPARE(
            r.header("set-cookie"), "io=" + sid.toLatin1() + "; Path=/; HttpOnly; SameSite=Lax");
    } else {
        QCOMPARE(r.headerCount("set-cookie"), 0);
    }
    // Only the handshake sets it.
    CHECKED(request(port, httpPost(port, pollTarget(sid), "4x"), &r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headerCount("set-cookie"), 0);
}

void TestEngineServer::gracefulCloseHeldPollAndWebSocket()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QStringList events;
    QSignalSpy serverClosed(&server, &EngineServer::closed);
    connect(&server, &EngineServer::closed, this,
        [&events] { events.append(QStringLiteral("server")); });

    QString pollSid;
    CHECKED(handshake(port, &pollSid));
    QPointer<EngineSocket> p = server.socket(pollSid);
    QVERIFY(p);

    QPointer<EngineSocket> w;
    connect(&server, &EngineServer::newConnection, this, [&w](EngineSocket *s) {
        if (s->transport() == u"websocket")
            w = s;
    });
    WsClient ws;
    QVERIFY(ws.open(wsUrl(port)));
    QVERIFY(ws.waitForMessages(1));
    QVERIFY(w);

    for (EngineSocket *s : {p.data(), w.data()}) {
        const QString name = s == p ? QStringLiteral("P") : QStringLiteral("W");
        connect(s, &EngineSocket::closed, this,
            [&events, name](const QString &reason) { events.append(name + u':' + reason); });
    }

    RawClient held;
    QVERIFY(held.connectTo(QHostAddress::LocalHost, port));
    held.send(httpGet(port, pollTarget(pollSid)));
    QTRY_VERIFY_WITH_TIMEOUT(p->isWritable(), kWait);

    QVERIFY(p->send("queued-p"));
    QVERIFY(w->send("queued-w"));
    server.close();
    QVERIFY(server.isClosing());
    QVERIFY(!server.isListening());

    HttpResponse r;
    QVERIFY(held.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body,
        QByteArray("4queued-p\x1e"
                   "1"));

    QVERIFY(ws.waitDisconnected());
    QCOMPARE(ws.texts().mid(1), QList<QByteArray> {QByteArray("4queued-w")});

    QTRY_COMPARE_WITH_TIMEOUT(serverClosed.count(), 1, kWait);
    QCOMPARE(events.size(), 3);
    QVERIFY(events.contains(QStringLiteral("P:server shutting down")));
    QVERIFY(events.contains(QStringLiteral("W:server shutting down")));
    QCOMPARE(events.last(), QStringLiteral("server"));
    QCOMPARE(server.clientsCount(), 0);
    QTest::qWait(100);
    QCOMPARE(serverClosed.count(), 1);

    // The port no longer accepts connections.
    QTcpSocket refused;
    QSignalSpy refusedError(&refused, &QAbstractSocket::errorOccurred);
    refused.connectToHost(QHostAddress::LocalHost, port);
    QTRY_VERIFY_WITH_TIMEOUT(refusedError.count() > 0, kWait);
    QCOMPARE(refused.error(), QAbstractSocket::ConnectionRefusedError);
}

void TestEngineServer::gracefulCloseWaitsForNextPoll()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QSignalSpy serverClosed(&server, &EngineServer::closed);

    RawClient c; // keep-alive connection that outlives the listener
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QString sid;
    CHECKED(handshakeOn(c, port, &sid));
    QPointer<EngineSocket> p = server.socket(sid);
    QVERIFY(p);
    CloseRecorder closed;
    closed.attach(p);

    QVERIFY(p->send("queued"));
    server.close();
    QVERIFY(!p->send("too late"));
    QTest::qWait(150);
    QCOMPARE(closed.count, 0); // waits for the client's next poll
    QCOMPARE(serverClosed.count(), 0);

    c.send(httpGet(port, pollTarget(sid)));
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body,
        QByteArray("4queued\x1e"
                   "1"));
    QVERIFY(closed.wait());
    QCOMPARE(closed.reason, QStringLiteral("server shutting down"));
    QTRY_COMPARE_WITH_TIMEOUT(serverClosed.count(), 1, kWait);

    // No new session after shutting down, even on a connection that is still open.
    c.send(httpGet(port, kHandshakeTarget));
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.body, kBadRequestBody);
    QCOMPARE(server.clientsCount(), 0);
}

void TestEngineServer::survivesGarbage()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    // Random bytes, more than a head may hold (no CR, so no end of head).
    {
        QRandomGenerator rng(20240611);
        QByteArray junk(20000, Qt::Uninitialized);
        for (char &ch : junk) {
            ch = char(rng.bounded(256));
            if (ch == '\r')
                ch = 'x';
        }
        RawClient c;
        QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
        c.send(junk);
        HttpResponse r;
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 431);
        QVERIFY(c.waitClosed());
    }
    // A TLS ClientHello-like start followed by an empty line.
    {
        RawClient c;
        QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
        c.send(QByteArray("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 junk\r\n\r\n", 21));
        HttpResponse r;
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 400);
        QVERIFY(c.waitClosed());
    }
    // Binary garbage after a valid request on a keep-alive connection.
    {
        RawClient c;
        QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
        QString sid;
        CHECKED(handshakeOn(c, port, &sid));
        c.send(QByteArray("\x00\xff\x13\x37 \r\n\r\n", 9));
        HttpResponse r;
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 400);
        QVERIFY(c.waitClosed());
    }

    QString sid;
    CHECKED(handshake(port, &sid));
    QVERIFY(server.socket(sid));
}

void TestEngineServer::badSidUpgrade()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QSignalSpy errors(&server, &EngineServer::connectionError);

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    c.send(upgradeRequest(port, "/engine.io/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA"));
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.statusLine, QByteArray("HTTP/1.1 400 Bad Request"));
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QCOMPARE(r.header("content-length"), QByteArray::number(kUnknownSidBody.size()));
    QCOMPARE(r.body, kUnknownSidBody);
    QVERIFY(r.raw.endsWith("\r\n\r\n" + kUnknownSidBody));
    QVERIFY(c.waitClosed());
    QCOMPARE(c.buffer, QByteArray()); // nothing after the response
    QCOMPARE(errors.count(), 1);
    QCOMPARE(
        errors.at(0).at(0).value<EngineServer::ErrorCode>(), EngineServer::ErrorCode::UnknownSid);

    QString sid;
    CHECKED(handshake(port, &sid));
    QCOMPARE(server.clientsCount(), 1);
}

void TestEngineServer::upgradeOnUsedKeepAliveConnection_data()
{
    QTest::addColumn<bool>("withSid");
    QTest::newRow("websocket-only session") << false;
    QTest::newRow("upgrade of the polling session") << true;
}

void TestEngineServer::upgradeOnUsedKeepAliveConnection()
{
    QFETCH(bool, withSid);
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QList<QPointer<EngineSocket>> sessions;
    connect(&server, &EngineServer::newConnection, this,
        [&sessions](EngineSocket *s) { sessions.append(s); });

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QString pollSid;
    CHECKED(handshakeOn(c, port, &pollSid));
    QCOMPARE(sessions.size(), 1);
    QPointer<EngineSocket> polling = sessions.first();
    QSignalSpy upgraded(polling, &EngineSocket::upgraded);

    QByteArray target = "/engine.io/?EIO=4&transport=websocket";
    if (withSid)
        target += "&sid=" + pollSid.toLatin1();
    c.send(upgradeRequest(port, target));
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 101);
    QCOMPARE(r.header("sec-websocket-accept"), expectedAccept(kWsKey));

    quint8 opcode = 0;
    QByteArray payload;
    EngineSocket *session = nullptr;
    if (withSid) {
        c.send(wsClientFrame(0x1, "2probe"));
        QVERIFY(c.readFrame(&opcode, &payload));
        QCOMPARE(opcode, quint8(0x1));
        QCOMPARE(payload, QByteArray("3probe"));
        c.send(wsClientFrame(0x1, "5"));
        QTRY_COMPARE_WITH_TIMEOUT(upgraded.count(), 1, kWait);
        QVERIFY(polling);
        QCOMPARE(polling->transport(), QStringLiteral("websocket"));
        session = polling;
    } else {
        QVERIFY(c.readFrame(&opcode, &payload));
        QCOMPARE(opcode, quint8(0x1));
        const QJsonObject open = parseOpen(payload);
        const QString sid = open.value(u"sid").toString();
        QVERIFY2(isValidSid(sid), payload.constData());
        QVERIFY(sid != pollSid);
        QCOMPARE(open.value(u"upgrades").toArray(), QJsonArray());
        QTRY_COMPARE_WITH_TIMEOUT(sessions.size(), 2, kWait);
        QVERIFY(sessions.at(1));
        session = sessions.at(1);
        QCOMPARE(session->id(), sid);
        QCOMPARE(session->transport(), QStringLiteral("websocket"));
    }

    // A working session: echo both ways.
    QSignalSpy received(session, &EngineSocket::messageReceived);
    echo(session);
    c.send(wsClientFrame(0x1, "4over raw"));
    QVERIFY(c.readFrame(&opcode, &payload));
    QCOMPARE(opcode, quint8(0x1));
    QCOMPARE(payload, QByteArray("4over raw"));
    QCOMPARE(received.count(), 1);
    QCOMPARE(received.at(0).at(0).toByteArray(), QByteArray("over raw"));
    c.send(wsClientFrame(0x2, QByteArray("\x00\x10", 2)));
    QVERIFY(c.readFrame(&opcode, &payload));
    QCOMPARE(opcode, quint8(0x2));
    QCOMPARE(payload, QByteArray("\x00\x10", 2));

    QString sid;
    CHECKED(handshake(port, &sid));
    QVERIFY(server.socket(sid));
}

void TestEngineServer::requestOnConnectionHoldingPoll()
{
    // QtHttpServer 6.4 does not order responses per connection: a second request on the
    // connection of a held poll must release the poll first (with a noop), then be answered.
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QString sid;
    CHECKED(handshakeOn(c, port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    QSignalSpy received(s, &EngineSocket::messageReceived);
    c.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    c.send(httpPost(port, pollTarget(sid), "4same connection"));
    HttpResponse first, second;
    QVERIFY(c.readResponse(&first));
    QCOMPARE(first.status, 200);
    QCOMPARE(first.body, QByteArray("6"));
    QVERIFY(c.readResponse(&second));
    QCOMPARE(second.status, 200);
    QCOMPARE(second.body, QByteArray("ok"));
    QTRY_COMPARE_WITH_TIMEOUT(received.count(), 1, kWait);
    QCOMPARE(received.at(0).at(0).toByteArray(), QByteArray("same connection"));
    QVERIFY(s);
    QCOMPARE(s->state(), EngineSocket::State::Open);
    QVERIFY(!c.closed);
}

void TestEngineServer::pipelinedRequests_data()
{
    QTest::addColumn<bool>("closeOnFirst");
    QTest::newRow("close on the second") << false;
    QTest::newRow("close on the first") << true;
}

void TestEngineServer::pipelinedRequests()
{
    // HTTP/1.1 pipelining: two requests in one write. `Connection: close` belongs to the request
    // that carries it: the connection closes after *that* request's response (RFC 9112 9.6: and
    // no later request is processed). Fails with the current library: the gate stores one
    // per-socket close flag (Http::setCloseAfterResponse) that the last analysed head overwrites.
    QFETCH(bool, closeOnFirst);
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    const QByteArray closeHeader = "Connection: close\r\n";
    c.send(httpGet(port, kHandshakeTarget, closeOnFirst ? closeHeader : QByteArray())
        + httpGet(port, kHandshakeTarget, closeOnFirst ? QByteArray() : closeHeader));
    HttpResponse first, second;
    QVERIFY2(c.readResponse(&first), c.buffer.constData());
    QCOMPARE(first.status, 200);
    QVERIFY(first.body.startsWith("0{"));
    if (closeOnFirst) {
        QCOMPARE(first.header("connection").toLower(), QByteArray("close"));
        QVERIFY(c.waitClosed());
        QVERIFY2(c.buffer.isEmpty(), c.buffer.constData()); // nothing answered after the close
        QTRY_COMPARE_WITH_TIMEOUT(server.clientsCount(), 1, kWait);
    } else {
        QVERIFY2(first.header("connection").toLower() != "close",
            "the first response closed the connection");
        QVERIFY2(c.readResponse(&second), "the second pipelined request was not answered");
        QCOMPARE(second.status, 200);
        QVERIFY(second.body.startsWith("0{"));
        QCOMPARE(second.header("connection").toLower(), QByteArray("close"));
        QVERIFY(c.waitClosed());
        QCOMPARE(server.clientsCount(), 2);
    }
}

void TestEngineServer::headAndBodyInPieces()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    // A head that arrives in several TCP segments, split inside "\r\n\r\n".
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    const QByteArray head = httpGet(port, kHandshakeTarget);
    const qsizetype cuts[] = {5, head.size() - 3, head.size() - 1};
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        c.send(head.mid(from, cut - from));
        from = cut;
        QTest::qWait(30);
        QVERIFY(c.buffer.isEmpty());
    }
    c.send(head.mid(from));
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 200);
    const QString sid = parseOpen(r.body).value(u"sid").toString();
    QVERIFY(isValidSid(sid));
    EngineSocket *s = server.socket(sid);
    QVERIFY(s);
    QSignalSpy received(s, &EngineSocket::messageReceived);

    // A POST whose body comes after its head, in two pieces, on the same connection.
    const QByteArray post = httpPost(port, pollTarget(sid),
        "4first\x1e"
        "4second");
    const qsizetype bodyStart = post.indexOf("\r\n\r\n") + 4;
    c.send(post.left(bodyStart));
    QTest::qWait(30);
    c.send(post.mid(bodyStart, 4));
    QTest::qWait(30);
    QVERIFY(c.buffer.isEmpty());
    QCOMPARE(received.count(), 0);
    c.send(post.mid(bodyStart + 4));
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("ok"));
    QCOMPARE(received.count(), 2);
    QCOMPARE(received.at(0).at(0).toByteArray(), QByteArray("first"));
    QCOMPARE(received.at(1).at(0).toByteArray(), QByteArray("second"));
}

void TestEngineServer::heldGetDropped()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    CloseRecorder closed;
    closed.attach(s);
    {
        RawClient get;
        QVERIFY(get.connectTo(QHostAddress::LocalHost, port));
        get.send(httpGet(port, pollTarget(sid)));
        QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    } // the client goes away with the GET pending
    QVERIFY(closed.wait());
    QCOMPARE(closed.reason, QStringLiteral("transport error"));
    QCOMPARE(server.clientsCount(), 0);
}

void TestEngineServer::upgradeTimeout()
{
    EngineOptions options;
    options.upgradeTimeout = 300ms;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    CloseRecorder closed;
    closed.attach(s);
    QSignalSpy upgraded(s, &EngineSocket::upgraded);

    WsClient ws;
    QElapsedTimer clock;
    clock.start();
    QVERIFY(ws.open(wsUrl(port, sid)));
    ws.ws.sendTextMessage(QStringLiteral("2probe"));
    QVERIFY(ws.waitForMessages(1));
    QCOMPARE(ws.messages.at(0).data, QByteArray("3probe"));
    // No "5": the server gives up on the probe.
    QVERIFY(ws.waitDisconnected(3000));
    QVERIFY2(clock.elapsed() >= 250, QByteArray::number(clock.elapsed()).constData());
    QCOMPARE(upgraded.count(), 0);
    QCOMPARE(closed.count, 0);
    QVERIFY(s);
    QCOMPARE(s->transport(), QStringLiteral("polling"));

    // Polling goes on as before: a GET is held again (not answered with a noop) and gets data.
    RawClient get;
    QVERIFY(get.connectTo(QHostAddress::LocalHost, port));
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    QVERIFY(get.buffer.isEmpty());
    QVERIFY(s->send("still polling"));
    HttpResponse r;
    QVERIFY(get.readResponse(&r));
    QCOMPARE(r.body, QByteArray("4still polling"));
}

void TestEngineServer::probeClosedByClient()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    CloseRecorder closed;
    closed.attach(s);
    {
        WsClient ws;
        QVERIFY(ws.open(wsUrl(port, sid)));
        ws.ws.sendTextMessage(QStringLiteral("2probe"));
        QVERIFY(ws.waitForMessages(1));
        QCOMPARE(ws.messages.at(0).data, QByteArray("3probe"));
        ws.ws.close();
        QVERIFY(ws.waitDisconnected());
    }
    QTest::qWait(100);
    QCOMPARE(closed.count, 0);
    QVERIFY(s);
    QCOMPARE(s->transport(), QStringLiteral("polling"));
    RawClient get;
    QVERIFY(get.connectTo(QHostAddress::LocalHost, port));
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    QVERIFY(s->send("after the probe"));
    HttpResponse r;
    QVERIFY(get.readResponse(&r));
    QCOMPARE(r.body, QByteArray("4after the probe"));

    // A new probe after the failed one still upgrades.
    get.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(s->isWritable(), kWait);
    WsClient ws;
    QVERIFY(ws.open(wsUrl(port, sid)));
    ws.ws.sendTextMessage(QStringLiteral("2probe"));
    QVERIFY(ws.waitForMessages(1));
    QCOMPARE(ws.messages.at(0).data, QByteArray("3probe"));
    QVERIFY(get.readResponse(&r));
    QCOMPARE(r.body, QByteArray("6"));
    ws.ws.sendTextMessage(QStringLiteral("5"));
    QTRY_COMPARE_WITH_TIMEOUT(s->transport(), QStringLiteral("websocket"), kWait);
}

void TestEngineServer::gracefulCloseTimeout()
{
    // A polling client that never polls again: the session ends after closeTimeout.
    EngineOptions options;
    options.closeTimeout = 300ms;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    QElapsedTimer clock;
    CloseRecorder closed;
    closed.attach(s, &clock);
    QSignalSpy serverClosed(&server, &EngineServer::closed);
    QVERIFY(s->send("never fetched"));
    QTest::ignoreMessage(QtWarningMsg,
        QRegularExpression(QStringLiteral("closed with 1 packets the client did not poll for")));
    clock.start();
    server.close();
    QVERIFY(closed.wait(3000));
    QCOMPARE(closed.reason, QStringLiteral("server shutting down"));
    QVERIFY2(closed.at >= 250 && closed.at <= 1500, QByteArray::number(closed.at).constData());
    QTRY_COMPARE_WITH_TIMEOUT(serverClosed.count(), 1, kWait);
}

void TestEngineServer::closeWithoutSessions()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QSignalSpy serverClosed(&server, &EngineServer::closed);
    server.close();
    server.close(); // twice is harmless
    QVERIFY(!server.isListening());
    QTRY_COMPARE_WITH_TIMEOUT(serverClosed.count(), 1, kWait);
    QTest::qWait(50);
    QCOMPARE(serverClosed.count(), 1);
}

void TestEngineServer::bodyLimitOnEveryEngineTarget_data()
{
    QTest::addColumn<QByteArray>("pathPrefix");
    QTest::newRow("origin-form") << QByteArray("/engine.io/");
    // QtHttpServer routes these to the engine too (it matches the decoded path / the path of an
    // absolute-form target, which RFC 9112 3.2.2 requires servers to accept). Fails with the
    // current library: the gate's isEnginePath() compares the raw target bytes, so it applies no
    // limit, while the route still delivers the message to the session.
    QTest::newRow("percent-encoded path") << QByteArray("/engine%2Eio/");
    QTest::newRow("absolute-form") << QByteArray("http://127.0.0.1:%PORT%/engine.io/");
}

void TestEngineServer::bodyLimitOnEveryEngineTarget()
{
    QFETCH(QByteArray, pathPrefix);
    EngineOptions options;
    options.maxHttpBufferSize = 1000;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    pathPrefix.replace("%PORT%", QByteArray::number(port));
    QString sid;
    CHECKED(handshake(port, &sid));
    QPointer<EngineSocket> s = server.socket(sid);
    QVERIFY(s);
    QSignalSpy received(s, &EngineSocket::messageReceived);
    const QByteArray target = pathPrefix + "?EIO=4&transport=polling&sid=" + sid.toLatin1();

    // The target reaches the session at all (a small POST is delivered)...
    HttpResponse r;
    CHECKED(request(port, httpPost(port, target, "4small"), &r));
    QCOMPARE(r.status, 200);
    QCOMPARE(received.count(), 1);

    // ...so the session's limit must hold for it: 5000 bytes against maxHttpBufferSize 1000.
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    c.send(httpPost(port, target, "4" + QByteArray(4999, 'x')));
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 413);
    QVERIFY(c.waitClosed());
    QCOMPARE(received.count(), 1); // the oversized message was not delivered
}

void TestEngineServer::upgradeWithListConnectionHeader()
{
    // Firefox sends "Connection: keep-alive, Upgrade".
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QByteArray req = upgradeRequest(port, "/engine.io/?EIO=4&transport=websocket");
    req.replace("Connection: Upgrade", "Connection: keep-alive, Upgrade");
    req.replace("Upgrade: websocket", "Upgrade: WebSocket");
    c.send(req);
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 101);
    QCOMPARE(r.header("sec-websocket-accept"), expectedAccept(kWsKey));
    quint8 opcode = 0;
    QByteArray payload;
    QVERIFY(c.readFrame(&opcode, &payload));
    QCOMPARE(opcode, quint8(0x1));
    QVERIFY2(payload.startsWith("0{"), payload.constData());
    QCOMPARE(server.clientsCount(), 1);
}

void TestEngineServer::standaloneOtherPathBodyNotBuffered()
{
    // A stand-alone engine serves nothing but its path. A POST elsewhere announcing a huge body
    // must be turned away from its head (as for the engine path: 413 before the body; or 404),
    // not buffered by QtHttpServer, which has no body limit in 6.4, until the body is complete.
    // Fails with the current library (the gate limits bodies on the engine path only).
    EngineOptions options;
    options.maxHttpBufferSize = 1000;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();

    // Small requests elsewhere are answered 404.
    HttpResponse r;
    CHECKED(request(port, httpPost(port, "/elsewhere", "x"), &r));
    QCOMPARE(r.status, 404);

    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    c.send("POST /elsewhere HTTP/1.1\r\nHost: " + hostHeader(port)
        + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 1073741824\r\n\r\n");
    c.send(QByteArray(64 * 1024, 'z'));
    QVERIFY2(c.readResponse(&r, 2000),
        "no answer to a 1 GiB POST outside the engine path: the body is being buffered");
    QVERIFY2(r.status == 413 || r.status == 404, r.statusLine.constData());
    QVERIFY(c.waitClosed());
}

void TestEngineServer::idleKeepAliveClosed()
{
    EngineOptions options;
    options.idleTimeout = 300ms;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QElapsedTimer clock;
    clock.start();
    c.send(httpGet(port, kHandshakeTarget));
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 200);
    // Kept alive, then silent: closed once idle for the limit, not before.
    QTest::qWait(150);
    QVERIFY(!c.closed);
    QVERIFY(c.waitClosed(3000));
    const qint64 elapsed = clock.elapsed();
    QVERIFY2(elapsed >= 280 && elapsed <= 1500, QByteArray::number(elapsed).constData());
}

void TestEngineServer::stalledBodyTimesOut()
{
    EngineOptions options;
    options.requestTimeout = 300ms;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    RawClient c;
    QVERIFY(c.connectTo(QHostAddress::LocalHost, port));
    QByteArray post = httpPost(port, pollTarget(sid), QByteArray(100, 'x'));
    post.chop(96); // the head and 4 bytes of the announced 100
    c.send(post);
    QVERIFY(c.waitClosed(3000));
    HttpResponse r;
    QVERIFY2(c.readResponse(&r, 0), c.buffer.constData());
    QCOMPARE(r.status, 408);
}

void TestEngineServer::deletedSessionLeavesBooks()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    RawClient held;
    QVERIFY(held.connectTo(QHostAddress::LocalHost, port));
    held.send(httpGet(port, pollTarget(sid)));
    QTRY_VERIFY_WITH_TIMEOUT(server.socket(sid), kWait);
    QTest::qWait(50); // the GET is held now
    delete server.socket(sid);
    QCOMPARE(server.clientsCount(), 0);
    QVERIFY(!server.socket(sid));
    HttpResponse r;
    CHECKED(request(port, httpGet(port, pollTarget(sid)), &r));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.body, kUnknownSidBody);
    // A request arriving on the connection of the dropped poll is still served.
    held.send(httpGet(port, kHandshakeTarget));
    QVERIFY(held.readResponse(&r));
    QCOMPARE(r.status, 200);
}

void TestEngineServer::refusedPostDoesNotBlockSession()
{
    EngineOptions options;
    options.corsAllowedOrigins = CorsAllowedOrigins::list({QStringLiteral("http://ok.example")});
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    QString sid;
    CHECKED(handshake(port, &sid));
    HttpResponse r;
    CHECKED(request(
        port, httpPost(port, pollTarget(sid), "4refused", "Origin: http://evil.example\r\n"), &r));
    QCOMPARE(r.status, 403);
    EngineSocket *socket = server.socket(sid);
    QVERIFY(socket);
    QSignalSpy received(socket, &EngineSocket::messageReceived);
    CHECKED(request(port, httpPost(port, pollTarget(sid), "4accepted"), &r));
    QCOMPARE(r.status, 200);
    QCOMPARE(received.count(), 1);
    QCOMPARE(received.first().first().toByteArray(), QByteArray("accepted"));
}

void TestEngineServer::forwardedOriginIsSameOrigin()
{
    EngineServer server; // same origin only
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    HttpResponse r;
    CHECKED(request(port,
        httpGet(port, kHandshakeTarget,
            "Origin: https://app.example\r\nX-Forwarded-Proto: https\r\n"
            "X-Forwarded-Host: app.example\r\n"),
        &r));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("access-control-allow-origin"), QByteArray("https://app.example"));
    CHECKED(request(port,
        httpGet(port, kHandshakeTarget,
            "Origin: https://other.example\r\nX-Forwarded-Proto: https\r\n"
            "X-Forwarded-Host: app.example\r\n"),
        &r));
    QCOMPARE(r.status, 403);
}

void TestEngineServer::upgradeForPollingTransportRefused()
{
    EngineServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const quint16 port = server.serverPort();
    HttpResponse r;
    CHECKED(request(port, upgradeRequest(port, kHandshakeTarget), &r));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.body, kBadRequestBody);
    QCOMPARE(server.clientsCount(), 0);
}

void TestEngineServer::foreignWebSocketReachesApplication()
{
    // An application server listening by itself upgrades WebSockets for every path: the
    // engine keeps its own and hands the application the others.
    QHttpServer http;
    // In 6.4 the route must match the upgrade request and write nothing.
    http.route(QStringLiteral("/chat"), [](const QHttpServerRequest &, QHttpServerResponder &&) {});
    EngineServer server;
    QVERIFY(server.attach(&http));
    QList<QWebSocket *> foreign;
    connect(&server, &EngineServer::otherWebSocket, this, [&foreign](QWebSocket *ws) {
        foreign.append(ws);
        ws->sendTextMessage(QStringLiteral("app"));
    });
    const quint16 port = http.listen(QHostAddress::LocalHost, 0);
    QVERIFY(port);
    QWebSocket app;
    QSignalSpy appText(&app, &QWebSocket::textMessageReceived);
    app.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/chat").arg(port)));
    QVERIFY(appText.wait(kWait));
    QCOMPARE(appText.first().first().toString(), QStringLiteral("app"));
    QCOMPARE(foreign.size(), 1);
    QCOMPARE(server.clientsCount(), 0);

    QWebSocket engine;
    QSignalSpy engineText(&engine, &QWebSocket::textMessageReceived);
    engine.open(
        QUrl(QStringLiteral("ws://127.0.0.1:%1/engine.io/?EIO=4&transport=websocket").arg(port)));
    QVERIFY(engineText.wait(kWait));
    QVERIFY(engineText.first().first().toString().startsWith(QStringLiteral("0{")));
    QCOMPARE(server.clientsCount(), 1);
    qDeleteAll(foreign);
}

QTEST_GUILESS_MAIN(TestEngineServer)
#include "tst_engineserver.moc"
