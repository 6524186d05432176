// Unit tests of the bounded send queue and its slow-client policy (EngineOptions::maxBufferedBytes
// and slowClientTimeout). The clients are written here on raw QTcpSockets so that they can stop
// taking what the server sends: a WebSocket client that stops reading (its tiny Qt read buffer and
// the kernel's fill up, then the server's QWebSocket keeps the rest), and a polling client that
// stops sending GETs. A second, fast client shares the broadcasts. Every server listens on
// 127.0.0.1 port 0, every wait is bounded.

#include <QSocketIo/engineserver.h>
#include <QSocketIo/socket.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qpointer.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using namespace QSocketIo;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 5000; // upper bound for anything that should happen "now"
// Upper bound of what a test sends to make a WebSocket client congested: the kernel buffers of a
// loopback connection take a few MiB before the server's QWebSocket has to keep anything.
constexpr qint64 kMaxFill = 96 * 1024 * 1024;

// A masked text frame with FIN set, as RFC 6455 requires of clients.
QByteArray clientTextFrame(const QByteArray &payload)
{
    QByteArray frame;
    frame.append(char(0x81));
    const qsizetype n = payload.size();
    if (n < 126) {
        frame.append(char(0x80 | n));
    } else {
        Q_ASSERT(n < 65536);
        frame.append(char(0x80 | 126));
        frame.append(char(n >> 8));
        frame.append(char(n & 0xff));
    }
    const char mask[4] = {'\x5a', '\x21', '\x7c', '\x03'};
    frame.append(mask, 4);
    for (qsizetype i = 0; i < n; ++i)
        frame.append(char(payload.at(i) ^ mask[i % 4]));
    return frame;
}

// The sequence numbers of the `event` packets among Engine.IO message packets, in order of
// arrival: each is `42["event",n,...]`.
QList<int> sequence(const QList<QByteArray> &packets, const QString &event)
{
    QList<int> out;
    for (const QByteArray &p : packets) {
        if (!p.startsWith("42["))
            continue;
        const QJsonArray a = QJsonDocument::fromJson(p.mid(2)).array();
        if (a.at(0).toString() == event)
            out.append(a.at(1).toInt());
    }
    return out;
}

QList<int> range(int from, int to)
{
    QList<int> out;
    for (int i = from; i < to; ++i)
        out.append(i);
    return out;
}

struct HttpResult
{
    int status = 0;
    QByteArray body;
};

// One HTTP request on a fresh connection (QtHttpServer always sends a Content-Length).
bool httpRequest(quint16 port, const QByteArray &request, HttpResult *out)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(kWait))
        return false;
    socket.write(request);
    QByteArray buffer;
    return QTest::qWaitFor(
        [&] {
            buffer += socket.readAll();
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return false;
            const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
            out->status = lines.first().split(' ').value(1).toInt();
            qsizetype length = -1;
            for (const QByteArray &line : lines) {
                if (line.toLower().startsWith("content-length:"))
                    length = line.mid(15).trimmed().toLongLong();
            }
            if (length < 0 || buffer.size() < headEnd + 4 + length)
                return false;
            out->body = buffer.mid(headEnd + 4, length);
            return true;
        },
        kWait);
}

// A Socket.IO client on a polling session that polls only when told to.
class PollingPeer
{
public:
    quint16 port = 0;
    QString sid;

    // Handshake, then CONNECT to "/" and the CONNECT reply.
    bool open(quint16 serverPort)
    {
        port = serverPort;
        HttpResult r;
        if (!httpRequest(port, get("/socket.io/?EIO=4&transport=polling"), &r) || r.status != 200
            || !r.body.startsWith("0{"))
            return false;
        sid = QJsonDocument::fromJson(r.body.mid(1)).object().value(u"sid").toString();
        if (!httpRequest(port, post("40"), &r) || r.body != "ok")
            return false;
        QList<QByteArray> packets;
        return poll(&packets) && !packets.isEmpty() && packets.first().startsWith("40{");
    }

    // One GET; the Engine.IO packets it brought.
    bool poll(QList<QByteArray> *packets, int *status = nullptr)
    {
        HttpResult r;
        if (!httpRequest(port, get(target()), &r))
            return false;
        if (status)
            *status = r.status;
        *packets = r.body.split('\x1e');
        return true;
    }

private:
    QByteArray target() const
    {
        return "/socket.io/?EIO=4&transport=polling&sid=" + sid.toLatin1();
    }
    QByteArray get(const QByteArray &path) const
    {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
            + "\r\n\r\n";
    }
    QByteArray post(const QByteArray &body) const
    {
        return "POST " + target() + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
            + "\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    }
};

// A Socket.IO client on a WebSocket-only session whose reading can be switched off.
class WsPeer : public QObject
{
public:
    QString sid; // the Engine.IO session
    QList<QByteArray> packets; // Engine.IO text packets, in order of arrival
    bool closed = false;
    QTcpSocket socket; // last member: destroyed first

    WsPeer()
    {
        connect(&socket, &QTcpSocket::readyRead, this, [this] {
            if (m_reading)
                take();
        });
        connect(&socket, &QTcpSocket::disconnected, this, [this] {
            if (m_reading)
                take();
            closed = true;
        });
    }
    ~WsPeer() override
    {
        socket.disconnect(this);
        socket.abort();
    }

    // WebSocket handshake, Engine.IO open, CONNECT to "/" and its reply.
    bool open(quint16 port)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(kWait))
            return false;
        socket.write("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:"
            + QByteArray::number(port)
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        if (!QTest::qWaitFor([this] { return !packets.isEmpty() || closed; }, kWait)
            || !packets.first().startsWith("0{"))
            return false;
        sid = QJsonDocument::fromJson(packets.first().mid(1)).object().value(u"sid").toString();
        socket.write(clientTextFrame("40"));
        return QTest::qWaitFor([this] { return packets.size() >= 2 || closed; }, kWait)
            && packets.at(1).startsWith("40{");
    }

    // From now on nothing is read: Qt stops reading from the kernel once its small read buffer
    // is full, the kernel's receive buffer fills, and TCP flow control stops the server.
    void stopReading()
    {
        m_reading = false;
        // Shrinking SO_RCVBUF as well would be quicker, but below an already advertised window
        // the kernel drops segments and the retransmission backoff stalls the connection.
        socket.setReadBufferSize(4096);
    }
    void resumeReading()
    {
        m_reading = true;
        socket.setReadBufferSize(0);
        take();
    }

    QList<int> seqs(const QString &event = u"seq"_s) const { return sequence(packets, event); }

private:
    bool m_reading = true;
    bool m_upgraded = false;
    QByteArray m_buffer;
    QByteArray m_message; // a fragmented message so far

    void take()
    {
        m_buffer += socket.readAll();
        if (!m_upgraded) {
            const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            if (!m_buffer.startsWith("HTTP/1.1 101")) {
                socket.abort();
                return;
            }
            m_upgraded = true;
            m_buffer.remove(0, headEnd + 4);
        }
        qsizetype pos = 0;
        while (true) {
            const qsizetype used = takeFrame(pos);
            if (used == 0)
                break;
            pos += used;
        }
        m_buffer.remove(0, pos);
    }

    // One unmasked server frame at `pos`; returns its size, 0 when incomplete.
    qsizetype takeFrame(qsizetype pos)
    {
        const qsizetype available = m_buffer.size() - pos;
        if (available < 2)
            return 0;
        const auto b0 = quint8(m_buffer.at(pos));
        quint64 length = quint8(m_buffer.at(pos + 1)) & 0x7f;
        qsizetype head = 2;
        if (length == 126 || length == 127) {
            head = length == 126 ? 4 : 10;
            if (available < head)
                return 0;
            length = 0;
            for (qsizetype i = 2; i < head; ++i)
                length = (length << 8) | quint8(m_buffer.at(pos + i));
        }
        if (quint64(available - head) < length)
            return 0;
        const QByteArray payload = m_buffer.mid(pos + head, qsizetype(length));
        const int opcode = b0 & 0x0f;
        if (opcode == 0x1 || opcode == 0x0) {
            m_message += payload;
            if (b0 & 0x80)
                onMessage(std::exchange(m_message, {}));
        }
        return head + qsizetype(length);
    }

    void onMessage(const QByteArray &packet)
    {
        packets.append(packet);
        if (packet == "2")
            socket.write(clientTextFrame("3"));
    }
};

// The server-side socket of an Engine.IO session.
Socket *socketOf(Namespace *nsp, const QString &engineSid)
{
    const QList<Socket *> sockets = nsp->sockets();
    for (Socket *s : sockets) {
        if (s->engineSocket() && s->engineSocket()->id() == engineSid)
            return s;
    }
    return nullptr;
}

struct Disconnection
{
    QString reason;
    qint64 at = -1; // ms on the test's clock
};

} // namespace

class TestSendQueue : public QObject
{
    Q_OBJECT

private slots:
    void webSocketClientCatchesUp();
    void webSocketClientStaysSlow();
    void pollingClientCatchesUp();
    void pollingClientStaysSlow();
    void zeroTimeoutClosesOnNextTurn();
    void clockStopsBelowBound();
    void zeroBoundIsNoBound();

private:
    // Broadcasts "seq" events (payload `size` bytes, numbered from `*next`) until `slow` is over
    // the bound, letting the event loop run between emits so that the fast clients read.
    static bool fillUntilCongested(Namespace *nsp, EngineSocket *slow, int *next, int size);
};

bool TestSendQueue::fillUntilCongested(Namespace *nsp, EngineSocket *slow, int *next, int size)
{
    const QString filler(size, u'x');
    qint64 sent = 0;
    while (!slow->isCongested() && sent < kMaxFill) {
        nsp->emitEvent(u"seq"_s, {(*next)++, filler});
        sent += size;
        QCoreApplication::processEvents();
    }
    return slow->isCongested();
}

void TestSendQueue::webSocketClientCatchesUp()
{
    SocketServerOptions options;
    options.maxBufferedBytes = 256 * 1024;
    options.slowClientTimeout = 60s; // never reached: the client catches up before
    SocketServer server(options);
    // Receives the signals below: gone before the server, whose destruction still emits.
    QObject context;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Namespace *nsp = server.of(u"/"_s);
    WsPeer slow;
    WsPeer fast;
    QVERIFY(slow.open(server.serverPort()));
    QVERIFY(fast.open(server.serverPort()));
    QPointer<Socket> slowSocket = socketOf(nsp, slow.sid);
    QVERIFY(slowSocket);
    EngineSocket *slowEngine = slowSocket->engineSocket();
    EngineSocket *fastEngine = socketOf(nsp, fast.sid)->engineSocket();
    QSignalSpy congestion(slowEngine, &EngineSocket::congestionChanged);
    QStringList reasons;
    connect(nsp, &Namespace::disconnected, &context,
        [&reasons](Socket *, const QString &reason) { reasons.append(reason); });

    slow.stopReading();
    int next = 0;
    QVERIFY2(fillUntilCongested(nsp, slowEngine, &next, 16 * 1024),
        "the server never held more than maxBufferedBytes for the client that does not read");
    QVERIFY(slowEngine->bufferedBytes() > options.maxBufferedBytes);
    QCOMPARE(congestion.size(), 1);
    QCOMPARE(congestion.at(0).at(0).toBool(), true);
    QVERIFY(!slowEngine->isWritable());

    // Over the bound (nothing ran since it went over): volatile emits are dropped and counted,
    // ordinary ones are still taken.
    const qint64 droppedBefore = slowEngine->droppedVolatileCount();
    QVERIFY(!slowSocket->emitVolatile(u"vol"_s, {100}));
    QCOMPARE(slowEngine->droppedVolatileCount(), droppedBefore + 1);
    const QString filler(1024, u'y');
    for (int i = 0; i < 5; ++i)
        QVERIFY(nsp->emitEvent(u"seq"_s, {next++, filler}));
    QVERIFY(slowSocket->emitEvent(u"direct"_s, {1}));

    // The fast client gets everything meanwhile; with nothing left to write it takes volatile
    // broadcasts, which the slow one drops. The kernel of a connection that is not read may
    // still take some of the queue as its buffers grow, so the slow one is pushed over the
    // bound again, with nothing run between that and the broadcasts.
    QTRY_COMPARE_WITH_TIMEOUT(fast.seqs(), range(0, next), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(fastEngine->isWritable(), kWait);
    QVERIFY(!fastEngine->isCongested());
    QVERIFY(slowSocket->emitEvent(u"top"_s, {0, QString(int(options.maxBufferedBytes), u't')}));
    QVERIFY(slowEngine->isCongested());
    for (int i = 0; i < 5; ++i)
        QVERIFY(nsp->asVolatile().emitEvent(u"vol"_s, {i}));
    QCOMPARE(slowEngine->droppedVolatileCount(), droppedBefore + 6);
    QCOMPARE(fastEngine->droppedVolatileCount(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(sequence(fast.packets, u"vol"_s), range(0, 5), kWait);

    // It reads again: every ordinary packet arrives, in order, and no volatile one.
    slow.resumeReading();
    QTRY_COMPARE_WITH_TIMEOUT(slow.seqs(), range(0, next), 4 * kWait);
    QTRY_COMPARE_WITH_TIMEOUT(slow.seqs(u"direct"_s), QList<int> {1}, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(slow.seqs(u"top"_s), QList<int> {0}, kWait);
    QVERIFY(sequence(slow.packets, u"vol"_s).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(!slowEngine->isCongested(), kWait);
    QVERIFY(congestion.size() % 2 == 0);
    QCOMPARE(congestion.last().at(0).toBool(), false);
    QVERIFY(slowEngine->isWritable());
    QVERIFY(slowSocket && slowSocket->isConnected());
    QVERIFY(reasons.isEmpty());
    QCOMPARE(fast.seqs(), range(0, next));

    // Caught up, it takes volatile emits again.
    QVERIFY(slowSocket->emitVolatile(u"vol"_s, {6}));
    QTRY_COMPARE_WITH_TIMEOUT(sequence(slow.packets, u"vol"_s), QList<int> {6}, kWait);
}

void TestSendQueue::webSocketClientStaysSlow()
{
    SocketServerOptions options;
    options.maxBufferedBytes = 256 * 1024;
    options.slowClientTimeout = 300ms;
    SocketServer server(options);
    // Receives the signals below: gone before the server, whose destruction still emits.
    QObject context;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Namespace *nsp = server.of(u"/"_s);
    WsPeer slow;
    WsPeer fast;
    QVERIFY(slow.open(server.serverPort()));
    QVERIFY(fast.open(server.serverPort()));
    QPointer<Socket> slowSocket = socketOf(nsp, slow.sid);
    QPointer<Socket> fastSocket = socketOf(nsp, fast.sid);
    QVERIFY(slowSocket && fastSocket);
    QElapsedTimer clock;
    clock.start();
    qint64 congestedAt = -1; // the last time it went over: the timeout runs from there
    int congestions = 0;
    connect(slowSocket->engineSocket(), &EngineSocket::congestionChanged, &context,
        [&](bool congested) {
            if (congested) {
                congestedAt = clock.elapsed();
                ++congestions;
            }
        });
    QList<Disconnection> disconnections;
    connect(slowSocket, &Socket::disconnected, &context, [&](const QString &reason) {
        disconnections.append({reason, clock.elapsed()});
    });
    QStringList fastReasons;
    connect(fastSocket, &Socket::disconnected, &context,
        [&](const QString &reason) { fastReasons.append(reason); });

    slow.stopReading();
    int next = 0;
    QVERIFY(fillUntilCongested(nsp, slowSocket->engineSocket(), &next, 16 * 1024));

    // Broadcasts go on, paced by the fast client, until the slow one is closed. Packets as large
    // as the filling ones keep its queue growing faster than the kernel may still take from it.
    const QString filler(16 * 1024, u'z');
    QVERIFY(QTest::qWaitFor(
        [&] {
            if (!disconnections.isEmpty())
                return true;
            if (fast.seqs().size() == next)
                nsp->emitEvent(u"seq"_s, {next++, filler});
            return false;
        },
        4 * kWait));
    QCOMPARE(disconnections.size(), 1);
    QCOMPARE(disconnections.first().reason, u"send buffer full"_s);
    // Coarse timers may fire up to 5% early.
    QVERIFY2(disconnections.first().at - congestedAt >= 250,
        qPrintable(u"closed %1 ms after going over the bound"_s.arg(
            disconnections.first().at - congestedAt)));
    QTRY_COMPARE_WITH_TIMEOUT(server.engine()->clientsCount(), 1, kWait);

    // The fast client lost nothing and stays.
    QTRY_COMPARE_WITH_TIMEOUT(fast.seqs(), range(0, next), kWait);
    QVERIFY(fastSocket && fastSocket->isConnected());
    QVERIFY(fastReasons.isEmpty());
    QVERIFY(!fast.closed);

    // The slow client's connection is gone too.
    slow.resumeReading();
    QTRY_VERIFY_WITH_TIMEOUT(slow.closed, kWait);
}

void TestSendQueue::pollingClientCatchesUp()
{
    SocketServerOptions options;
    options.maxBufferedBytes = 64 * 1024;
    options.slowClientTimeout = 60s;
    SocketServer server(options);
    // Receives the signals below: gone before the server, whose destruction still emits.
    QObject context;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Namespace *nsp = server.of(u"/"_s);
    PollingPeer slow;
    QVERIFY(slow.open(server.serverPort()));
    WsPeer fast;
    QVERIFY(fast.open(server.serverPort()));
    QPointer<Socket> slowSocket = socketOf(nsp, slow.sid);
    QVERIFY(slowSocket);
    EngineSocket *slowEngine = slowSocket->engineSocket();
    QSignalSpy congestion(slowEngine, &EngineSocket::congestionChanged);

    // No GET comes: everything waits in the polling buffer.
    int next = 0;
    QVERIFY(fillUntilCongested(nsp, slowEngine, &next, 8 * 1024));
    QVERIFY(next < 10); // 8 KiB packets over a 64 KiB bound: the count is exact
    QVERIFY(slowEngine->bufferedBytes() > options.maxBufferedBytes);
    QCOMPARE(congestion.size(), 1);

    const qint64 droppedBefore = slowEngine->droppedVolatileCount();
    QVERIFY(!slowSocket->emitVolatile(u"vol"_s, {0}));
    nsp->asVolatile().emitEvent(u"vol"_s, {1});
    QCOMPARE(slowEngine->droppedVolatileCount(), droppedBefore + 2);
    for (int i = 0; i < 3; ++i)
        QVERIFY(slowSocket->emitEvent(u"seq"_s, {next++, u"after"_s}));
    QTRY_COMPARE_WITH_TIMEOUT(fast.seqs(), range(0, next - 3), kWait);

    // One GET takes all of it, in order, and ends the congestion.
    QList<QByteArray> packets;
    QVERIFY(slow.poll(&packets));
    QCOMPARE(sequence(packets, u"seq"_s), range(0, next));
    QVERIFY(sequence(packets, u"vol"_s).isEmpty());
    QVERIFY(!slowEngine->isCongested());
    QCOMPARE(slowEngine->bufferedBytes(), 0);
    QCOMPARE(congestion.size(), 2);
    QCOMPARE(congestion.at(1).at(0).toBool(), false);
    QVERIFY(slowSocket && slowSocket->isConnected());
}

void TestSendQueue::pollingClientStaysSlow()
{
    SocketServerOptions options;
    options.maxBufferedBytes = 64 * 1024;
    options.slowClientTimeout = 300ms;
    SocketServer server(options);
    // Receives the signals below: gone before the server, whose destruction still emits.
    QObject context;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Namespace *nsp = server.of(u"/"_s);
    PollingPeer slow;
    QVERIFY(slow.open(server.serverPort()));
    WsPeer fast;
    QVERIFY(fast.open(server.serverPort()));
    QPointer<Socket> slowSocket = socketOf(nsp, slow.sid);
    QVERIFY(slowSocket);
    QElapsedTimer clock;
    clock.start();
    QList<Disconnection> disconnections;
    connect(slowSocket, &Socket::disconnected, &context, [&](const QString &reason) {
        disconnections.append({reason, clock.elapsed()});
    });
    QString engineReason;
    connect(slowSocket->engineSocket(), &EngineSocket::closed, &context,
        [&](const QString &reason) { engineReason = reason; });

    int next = 0;
    QVERIFY(fillUntilCongested(nsp, slowSocket->engineSocket(), &next, 8 * 1024));
    const qint64 congestedAt = clock.elapsed();
    QTRY_COMPARE_WITH_TIMEOUT(disconnections.size(), 1, kWait);
    QCOMPARE(disconnections.first().reason, u"send buffer full"_s);
    QCOMPARE(engineReason, u"send buffer full"_s);
    QVERIFY(disconnections.first().at - congestedAt >= 250);
    QVERIFY(!slowSocket || !slowSocket->isConnected());
    QTRY_COMPARE_WITH_TIMEOUT(fast.seqs(), range(0, next), kWait);

    // The session is gone: the client's next poll learns it and reconnects.
    QList<QByteArray> packets;
    int status = 0;
    QVERIFY(slow.poll(&packets, &status));
    QCOMPARE(status, 400);
    QCOMPARE(packets.value(0), QByteArray(R"({"code":1,"message":"Session ID unknown"})"));
}

void TestSendQueue::zeroTimeoutClosesOnNextTurn()
{
    EngineOptions options;
    options.maxBufferedBytes = 1024;
    options.slowClientTimeout = 0ms;
    EngineServer server(options);
    // Receives the signals below: gone before the server, whose destruction still emits.
    QObject context;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QPointer<EngineSocket> session;
    connect(&server, &EngineServer::newConnection, &context, [&](EngineSocket *s) { session = s; });
    HttpResult r;
    QVERIFY(httpRequest(server.serverPort(),
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r));
    QCOMPARE(r.status, 200);
    QVERIFY(session);
    QString reason;
    connect(session, &EngineSocket::closed, &context, [&](const QString &why) { reason = why; });

    QVERIFY(session->send(QByteArray(600, 'a')));
    QVERIFY(!session->isCongested());
    // Over the bound: still accepted, and the session lives until the sender returned.
    QVERIFY(session->send(QByteArray(600, 'b')));
    QVERIFY(session->isCongested());
    QCOMPARE(session->state(), EngineSocket::State::Open);
    QVERIFY(!session->sendVolatile({EngineMessage::text("v")}));
    QCOMPARE(session->droppedVolatileCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(reason, u"send buffer full"_s, kWait);
    QCOMPARE(server.clientsCount(), 0);
}

void TestSendQueue::clockStopsBelowBound()
{
    EngineOptions options;
    options.maxBufferedBytes = 1024;
    options.slowClientTimeout = 300ms;
    // The heartbeat is the later event the test waits for.
    options.pingInterval = 1000ms;
    options.pingTimeout = 5000ms;
    EngineServer server(options);
    // Receives the signals below: gone before the server, whose destruction still emits.
    QObject context;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QPointer<EngineSocket> session;
    connect(&server, &EngineServer::newConnection, &context, [&](EngineSocket *s) { session = s; });
    HttpResult r;
    QVERIFY(httpRequest(server.serverPort(),
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r));
    QVERIFY(session);
    QSignalSpy closed(session, &EngineSocket::closed);
    QSignalSpy congestion(session, &EngineSocket::congestionChanged);
    const QByteArray poll = "GET /engine.io/?EIO=4&transport=polling&sid="
        + session->id().toLatin1() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    QElapsedTimer clock;
    clock.start();
    QVERIFY(session->send(QByteArray(2000, 'a')));
    QVERIFY(session->isCongested());
    QVERIFY(httpRequest(server.serverPort(), poll, &r));
    QCOMPARE(r.body, "4" + QByteArray(2000, 'a'));
    QVERIFY(!session->isCongested());
    QCOMPARE(congestion.size(), 2);

    // The next poll is held until the ping: well past the timeout, and the session lives.
    QVERIFY(httpRequest(server.serverPort(), poll, &r));
    QCOMPARE(r.body, QByteArray("2"));
    QVERIFY2(clock.elapsed() > 2 * options.slowClientTimeout.count(),
        qPrintable(u"the ping came %1 ms after the congestion"_s.arg(clock.elapsed())));
    QCOMPARE(closed.size(), 0);
    QCOMPARE(session->state(), EngineSocket::State::Open);
}

void TestSendQueue::zeroBoundIsNoBound()
{
    EngineOptions options;
    options.maxBufferedBytes = 0;
    options.slowClientTimeout = 0ms;
    EngineServer server(options);
    // Receives the signals below: gone before the server, whose destruction still emits.
    QObject context;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QPointer<EngineSocket> session;
    connect(&server, &EngineServer::newConnection, &context, [&](EngineSocket *s) { session = s; });
    HttpResult r;
    QVERIFY(httpRequest(server.serverPort(),
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &r));
    QVERIFY(session);
    QSignalSpy closed(session, &EngineSocket::closed);
    QSignalSpy congestion(session, &EngineSocket::congestionChanged);
    for (int i = 0; i < 64; ++i)
        QVERIFY(session->send(QByteArray(64 * 1024, 'a')));
    QCOMPARE(session->bufferedBytes(), 64 * 64 * 1024);
    QVERIFY(!session->isCongested());
    // A zero slowClientTimeout would have closed it on this turn.
    QCoreApplication::processEvents();
    QCOMPARE(closed.size(), 0);
    QCOMPARE(congestion.size(), 0);
    QCOMPARE(session->state(), EngineSocket::State::Open);
}

QTEST_MAIN(TestSendQueue)
#include "tst_sendqueue.moc"
