// The engine's own RFC 6455 server side (RawWebSocket, used for every plain-TCP WebSocket our
// listener accepts), driven through a real EngineServer on 127.0.0.1 by a QTcpSocket that speaks
// WebSocket framing byte by byte: the handshake, length encodings, fragmentation, control frames,
// frames split across TCP writes, protocol errors and their close codes, the close handshake,
// vanishing and slow peers. Every wait is bounded.
//
// Set QSIO_TEST_EPOLL=1 to run it on QSocketIo's EpollEventDispatcher instead of Qt's default,
// and QSIO_TEST_WORKER_THREADS=2 to run the WebSocket I/O on two worker threads (ctest runs
// it in three ways).

#include <QSocketIo/engineserver.h>
#include <QSocketIo/epolleventdispatcher.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qcryptographichash.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qendian.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qrandom.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <dirent.h>
#include <sys/socket.h>

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

const QByteArray kWsTarget = "/engine.io/?EIO=4&transport=websocket";

// ---------------------------------------------------------------------------------------------
// Frames

constexpr quint8 OpContinuation = 0x0;
constexpr quint8 OpText = 0x1;
constexpr quint8 OpBinary = 0x2;
constexpr quint8 OpClose = 0x8;
constexpr quint8 OpPing = 0x9;
constexpr quint8 OpPong = 0xA;

struct FrameOptions
{
    bool fin = true;
    bool mask = true;
    quint8 rsv = 0; // bits 0x70 of the first byte
    qint64 announced = -1; // the length in the header; -1: the payload's
    bool headerOnly = false; // stop after the header (masking key included)
};

FrameOptions notFin()
{
    FrameOptions o;
    o.fin = false;
    return o;
}

FrameOptions unmasked()
{
    FrameOptions o;
    o.mask = false;
    return o;
}

FrameOptions withRsv(quint8 rsv)
{
    FrameOptions o;
    o.rsv = rsv;
    return o;
}

// Only the header (with its masking key) of a frame announcing `length` bytes.
FrameOptions headerOnly(qint64 length)
{
    FrameOptions o;
    o.announced = length;
    o.headerOnly = true;
    return o;
}

// A client frame, masked with a key that changes from frame to frame.
QByteArray clientFrame(quint8 opcode, QByteArrayView payload, const FrameOptions &o = {})
{
    static quint32 counter = 0x5a17c3e1;
    counter = counter * 1103515245u + 12345u;
    uchar key[4];
    qToBigEndian(counter, key);

    const quint64 n = o.announced >= 0 ? quint64(o.announced) : quint64(payload.size());
    QByteArray f;
    f.append(char((o.fin ? 0x80 : 0) | (o.rsv & 0x70) | (opcode & 0x0f)));
    const char maskBit = o.mask ? char(0x80) : char(0);
    if (n < 126) {
        f.append(char(maskBit | char(n)));
    } else if (n < 65536) {
        f.append(char(maskBit | 126));
        uchar len[2];
        qToBigEndian(quint16(n), len);
        f.append(reinterpret_cast<const char *>(len), 2);
    } else {
        f.append(char(maskBit | 127));
        uchar len[8];
        qToBigEndian(n, len);
        f.append(reinterpret_cast<const char *>(len), 8);
    }
    if (o.mask)
        f.append(reinterpret_cast<const char *>(key), 4);
    if (o.headerOnly)
        return f;
    const qsizetype start = f.size();
    f.append(payload.data(), payload.size());
    if (o.mask) {
        for (qsizetype i = 0; i < payload.size(); ++i)
            f[start + i] = char(f[start + i] ^ key[i & 3]);
    }
    return f;
}

QByteArray closePayload(int code, QByteArrayView reason = {})
{
    uchar c[2];
    qToBigEndian(quint16(code), c);
    return QByteArray(reinterpret_cast<const char *>(c), 2) + reason.toByteArray();
}

// The header a server must put in front of an `n`-byte payload: FIN, no RSV, no mask, the
// shortest length encoding.
QByteArray expectedServerHeader(quint8 opcode, quint64 n)
{
    QByteArray h;
    h.append(char(0x80 | opcode));
    if (n < 126) {
        h.append(char(n));
    } else if (n < 65536) {
        h.append(char(126));
        h.append(char(n >> 8));
        h.append(char(n & 0xff));
    } else {
        h.append(char(127));
        for (int i = 7; i >= 0; --i)
            h.append(char((n >> (8 * i)) & 0xff));
    }
    return h;
}

struct ServerFrame
{
    bool fin = false;
    quint8 rsv = 0;
    quint8 opcode = 0xff;
    bool masked = false;
    QByteArray header;
    QByteArray payload;

    int closeCode() const // -1 when the close frame has no code
    {
        return payload.size() >= 2 ? qFromBigEndian<quint16>(payload.constData()) : -1;
    }
};

// Parses one server frame at the front of `data`: bytes used, 0 when incomplete.
qsizetype parseServerFrame(QByteArrayView data, ServerFrame *out)
{
    if (data.size() < 2)
        return 0;
    const auto *p = reinterpret_cast<const uchar *>(data.data());
    quint64 length = p[1] & 0x7f;
    qsizetype pos = 2;
    if (length == 126) {
        if (data.size() < 4)
            return 0;
        length = qFromBigEndian<quint16>(p + 2);
        pos = 4;
    } else if (length == 127) {
        if (data.size() < 10)
            return 0;
        length = qFromBigEndian<quint64>(p + 2);
        pos = 10;
    }
    const bool masked = p[1] & 0x80;
    uchar key[4] = {};
    if (masked) {
        if (data.size() < pos + 4)
            return 0;
        std::memcpy(key, p + pos, 4);
        pos += 4;
    }
    if (quint64(data.size() - pos) < length)
        return 0;
    out->fin = p[0] & 0x80;
    out->rsv = p[0] & 0x70;
    out->opcode = p[0] & 0x0f;
    out->masked = masked;
    out->header = data.first(pos).toByteArray();
    out->payload = data.sliced(pos, qsizetype(length)).toByteArray();
    if (masked) {
        for (qsizetype i = 0; i < out->payload.size(); ++i)
            out->payload[i] = char(out->payload[i] ^ key[i & 3]);
    }
    return pos + qsizetype(length);
}

// ---------------------------------------------------------------------------------------------
// HTTP

struct HttpResponse
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        }
        return {};
    }
    bool hasHeader(QByteArrayView name) const
    {
        return std::any_of(headers.cbegin(), headers.cend(),
            [name](const auto &h) { return h.first.compare(name, Qt::CaseInsensitive) == 0; });
    }
};

// One response at the front of `data` (a 101 ends with its head): bytes used, 0 when incomplete,
// -1 when malformed.
qsizetype parseHttpResponse(QByteArrayView data, HttpResponse *out)
{
    const qsizetype headEnd = data.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return 0;
    const QList<QByteArray> lines = data.first(headEnd).toByteArray().split('\n');
    const QList<QByteArray> parts = lines.first().trimmed().split(' ');
    if (parts.size() < 2 || !parts.first().startsWith("HTTP/1."))
        return -1;
    HttpResponse r;
    bool ok = false;
    r.status = parts.at(1).toInt(&ok);
    if (!ok)
        return -1;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return -1;
        r.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    qsizetype used = headEnd + 4;
    if (r.status != 101) {
        const qsizetype length = r.header("content-length").toLongLong(&ok);
        if (!ok)
            return -1;
        if (data.size() < used + length)
            return 0;
        r.body = data.sliced(used, length).toByteArray();
        used += length;
    }
    *out = r;
    return used;
}

QByteArray randomKey(int bytes = 16)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    for (char &c : raw)
        c = char(QRandomGenerator::global()->bounded(256));
    return raw.toBase64();
}

QByteArray expectedAccept(const QByteArray &key)
{
    return QCryptographicHash::hash(
        key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
        .toBase64();
}

QByteArray upgradeHead(quint16 port, const QByteArray &key, const QByteArray &target = kWsTarget)
{
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

QJsonObject parseOpen(const QByteArray &packet)
{
    if (!packet.startsWith("0{"))
        return {};
    return QJsonDocument::fromJson(packet.mid(1)).object();
}

// Descriptors this process holds: a leaked WebSocket descriptor shows here.
int openDescriptors()
{
    int n = 0;
    if (DIR *d = ::opendir("/proc/self/fd")) {
        while (const dirent *e = ::readdir(d))
            n += e->d_name[0] != '.';
        ::closedir(d);
    }
    return n - 1; // the directory's own
}

// ---------------------------------------------------------------------------------------------
// The client

class Peer : public QObject
{
public:
    QByteArray buffer; // received, from `pos` on not yet parsed
    qsizetype pos = 0;
    bool closed = false;
    bool paused = false; // stop reading (the kernel's buffers fill up)
    QTcpSocket socket; // last member: destroyed first

    Peer()
    {
        connect(&socket, &QTcpSocket::readyRead, this, [this] {
            if (!paused)
                pull();
        });
        connect(&socket, &QTcpSocket::disconnected, this, [this] {
            pull();
            closed = true;
        });
    }
    ~Peer() override
    {
        socket.disconnect(this);
        socket.abort();
    }

    void pull()
    {
        if (socket.isOpen())
            buffer += socket.readAll();
    }
    QByteArrayView unparsed() const { return QByteArrayView(buffer).sliced(pos); }
    void consume(qsizetype n)
    {
        pos += n;
        if (pos == buffer.size() || pos > 4 * 1024 * 1024) {
            buffer.remove(0, pos);
            pos = 0;
        }
    }

    void pause()
    {
        paused = true;
        socket.setReadBufferSize(64 * 1024);
    }
    void resume()
    {
        paused = false;
        socket.setReadBufferSize(0);
        pull();
    }

    bool connectTo(quint16 port)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
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

    bool readResponse(HttpResponse *out, int timeout = kWait)
    {
        qsizetype used = 0;
        (void)QTest::qWaitFor(
            [&] {
                used = parseHttpResponse(unparsed(), out);
                return used != 0 || closed;
            },
            timeout);
        if (used <= 0)
            return false;
        consume(used);
        return true;
    }

    bool readFrame(ServerFrame *out, int timeout = kWait)
    {
        qsizetype used = 0;
        (void)QTest::qWaitFor(
            [&] {
                used = parseServerFrame(unparsed(), out);
                return used != 0 || closed;
            },
            timeout);
        if (used <= 0)
            return false;
        consume(used);
        return true;
    }

    // Nothing more arrives within `ms` (for checks that something does NOT happen).
    bool quietFor(int ms)
    {
        QTest::qWait(ms);
        return unparsed().isEmpty();
    }

    bool waitClosed(int timeout = kWait)
    {
        return QTest::qWaitFor([this] { return closed; }, timeout);
    }
};

// A listening EngineServer that records its sessions' traffic.
// QSIO_TEST_WORKER_THREADS=N runs every test with EngineOptions::workerThreads = N.
static EngineOptions withWorkerThreads(EngineOptions options)
{
    options.workerThreads = qEnvironmentVariableIntValue("QSIO_TEST_WORKER_THREADS");
    return options;
}

class Harness : public QObject
{
public:
    struct Message
    {
        QByteArray data;
        bool binary;
    };
    QPointer<EngineSocket> session; // the last one created
    int created = 0;
    QList<Message> received;
    int closedCount = 0;
    QString closedReason;
    QString closedDescription;
    EngineServer server; // last member: destroyed first, while the records above still live

    explicit Harness(const EngineOptions &options = {})
        : server(withWorkerThreads(options))
    {
        connect(&server, &EngineServer::newConnection, this, [this](EngineSocket *s) {
            ++created;
            session = s;
            connect(s, &EngineSocket::messageReceived, this,
                [this](const QByteArray &data, bool binary) { received.append({data, binary}); });
            connect(s, &EngineSocket::closed, this,
                [this](const QString &reason, const QString &description) {
                    ++closedCount;
                    closedReason = reason;
                    closedDescription = description;
                });
        });
    }
    ~Harness() override { server.disconnect(this); }

    bool listen() { return server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return server.serverPort(); }
};

// Connects, upgrades and reads the 101 and the Engine.IO open packet.
void openWebSocket(Harness &h, Peer &c, QJsonObject *open = nullptr)
{
    QVERIFY2(c.connectTo(h.port()), "cannot connect");
    const QByteArray key = randomKey();
    c.send(upgradeHead(h.port(), key));
    HttpResponse r;
    QVERIFY2(c.readResponse(&r), "no handshake response");
    QCOMPARE(r.status, 101);
    QCOMPARE(r.header("sec-websocket-accept"), expectedAccept(key));
    ServerFrame f;
    QVERIFY2(c.readFrame(&f), "no open packet");
    QCOMPARE(f.opcode, OpText);
    QVERIFY2(f.payload.startsWith("0{"), f.payload.constData());
    QVERIFY(h.session);
    QCOMPARE(parseOpen(f.payload).value(u"sid").toString(), h.session->id());
    if (open)
        *open = parseOpen(f.payload);
}

// Reads the next frame, which must be a valid server frame with this opcode and payload.
void expectFrame(Peer &c, quint8 opcode, const QByteArray &payload, int timeout = kWait)
{
    ServerFrame f;
    QVERIFY2(c.readFrame(&f, timeout), "no frame");
    QCOMPARE(f.opcode, opcode);
    QVERIFY(f.fin);
    QCOMPARE(f.rsv, quint8(0));
    QVERIFY2(!f.masked, "a server frame is masked");
    QCOMPARE(f.header, expectedServerHeader(opcode, quint64(payload.size())));
    QCOMPARE(f.payload.size(), payload.size());
    QVERIFY2(f.payload == payload, f.payload.left(80).toHex().constData());
}

// Reads the next frame, which must be the server's close frame; returns its code.
void expectClose(Peer &c, int *code, int timeout = kWait)
{
    ServerFrame f;
    QVERIFY2(c.readFrame(&f, timeout), "no close frame from the server");
    QVERIFY2(f.opcode == OpClose,
        qPrintable(QStringLiteral("opcode %1 instead of a close frame, payload %2")
                       .arg(f.opcode)
                       .arg(QString::fromLatin1(f.payload.left(40).toHex()))));
    QVERIFY(f.fin);
    QVERIFY(!f.masked);
    QVERIFY(f.payload.size() <= 125);
    QVERIFY2(f.payload.size() != 1, "one-byte close payload");
    if (f.payload.size() > 2)
        QVERIFY(QByteArrayView(f.payload).sliced(2).isValidUtf8());
    *code = f.closeCode();
}

QByteArray pattern(qsizetype size, int seed)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";
    QByteArray b(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        b[i] = alphabet[(i * 7 + seed * 13 + i / 61) % 58];
    return b;
}

QByteArray randomBytes(qsizetype size)
{
    QByteArray b(size, Qt::Uninitialized);
    QRandomGenerator gen(quint32(size) + 7);
    for (char &c : b)
        c = char(gen.bounded(256));
    return b;
}

} // namespace

class TestRawWebSocket : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    // 1. handshake
    void handshake_data();
    void handshake();
    void handshakeRefused_data();
    void handshakeRefused();
    // 2. messages and length encodings
    void messageSizes_data();
    void messageSizes();
    void messageAtSizeLimit();
    // 3. fragmentation and control frames
    void fragmented_data();
    void fragmented();
    // 4. TCP segmentation
    void splitWrites_data();
    void splitWrites();
    void manyFramesInOneWrite();
    void pipelinedWithUpgrade_data();
    void pipelinedWithUpgrade();
    void answersFromHandlers_data();
    void answersFromHandlers();
    // 5. protocol errors
    void protocolErrors_data();
    void protocolErrors();
    void protocolErrorUnanswered();
    // 6. close handshake
    void clientClose_data();
    void clientClose();
    void serverClose();
    void serverCloseUnanswered();
    // 7. vanishing peer
    void peerVanishes_data();
    void peerVanishes();
    // 8. slow reader
    void slowReader();
    void burstToFastReader();
    // 9. polling -> WebSocket upgrade (upgradeByHand in tst_engineserver covers the plain probe
    //    over our listener; this adds the probe pipelined with the upgrade request)
    void upgradeProbePipelined();
};

void TestRawWebSocket::initTestCase()
{
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

// ---------------------------------------------------------------------------------------------
// 1. Handshake

void TestRawWebSocket::handshake_data()
{
    QTest::addColumn<QByteArray>("upgradeHeaders");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("accept"); // empty: computed here

    // RFC 6455 section 1.3's example, with the answer it gives.
    QTest::newRow("rfc sample key") << QByteArray("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                                    << QByteArray("dGhlIHNhbXBsZSBub25jZQ==")
                                    << QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    QTest::newRow("random key") << QByteArray("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                                << randomKey() << QByteArray();
    // Firefox sends "keep-alive, Upgrade"; header names and values in other cases.
    QTest::newRow("firefox-style headers")
        << QByteArray("upgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n") << randomKey()
        << QByteArray();
}

void TestRawWebSocket::handshake()
{
    QFETCH(QByteArray, upgradeHeaders);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, accept);
    if (accept.isEmpty())
        accept = expectedAccept(key);

    EngineOptions options;
    options.pingInterval = 12345ms;
    options.pingTimeout = 6789ms;
    options.maxHttpBufferSize = 424242;
    Harness h(options);
    QVERIFY(h.listen());
    QSignalSpy newConnection(&h.server, &EngineServer::newConnection);
    Peer c;
    QVERIFY(c.connectTo(h.port()));
    c.send("GET " + kWsTarget + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(h.port())
        + "\r\n" + upgradeHeaders + "Sec-WebSocket-Key: " + key
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n");

    HttpResponse r;
    QVERIFY2(c.readResponse(&r), c.unparsed().toByteArray().constData());
    QCOMPARE(r.status, 101);
    QCOMPARE(r.header("sec-websocket-accept"), accept);
    QCOMPARE(r.header("upgrade").toLower(), QByteArray("websocket"));
    QVERIFY(r.header("connection").toLower().contains("upgrade"));
    QVERIFY(!r.hasHeader("sec-websocket-extensions")); // none negotiated: RSV bits stay 0
    QVERIFY(!r.hasHeader("sec-websocket-protocol"));

    // The open packet, as the first (text) frame.
    ServerFrame f;
    QVERIFY(c.readFrame(&f));
    QCOMPARE(f.opcode, OpText);
    QVERIFY(f.fin);
    QVERIFY(!f.masked);
    QCOMPARE(f.rsv, quint8(0));
    QCOMPARE(f.header, expectedServerHeader(OpText, quint64(f.payload.size())));
    QVERIFY2(f.payload.startsWith("0{"), f.payload.constData());
    const QJsonObject open = parseOpen(f.payload);
    QCOMPARE(open.value(u"upgrades").toArray(), QJsonArray());
    QCOMPARE(open.value(u"pingInterval").toInt(), 12345);
    QCOMPARE(open.value(u"pingTimeout").toInt(), 6789);
    QCOMPARE(open.value(u"maxPayload").toInt(), 424242);
    QCOMPARE(newConnection.count(), 1);
    QVERIFY(h.session);
    QCOMPARE(open.value(u"sid").toString(), h.session->id());
    QCOMPARE(h.session->transport(), QStringLiteral("websocket"));
    QCOMPARE(h.server.clientsCount(), 1);
    QVERIFY(c.quietFor(50)); // nothing else
}

void TestRawWebSocket::handshakeRefused_data()
{
    QTest::addColumn<QByteArray>("keyAndVersion");
    QTest::addColumn<int>("status");

    const QByteArray v13 = "Sec-WebSocket-Version: 13\r\n";
    QTest::newRow("no key") << v13 << 400;
    QTest::newRow("empty key") << QByteArray("Sec-WebSocket-Key: \r\n" + v13) << 400;
    QTest::newRow("key of 15 bytes") << QByteArray("Sec-WebSocket-Key: " + randomKey(15) + "\r\n" + v13) << 400;
    QTest::newRow("key of 17 bytes") << QByteArray("Sec-WebSocket-Key: " + randomKey(17) + "\r\n" + v13) << 400;
    QTest::newRow("key not base64")
        << QByteArray("Sec-WebSocket-Key: !!!!not*base64*at*all!!!\r\n" + v13) << 400;
    QTest::newRow("version 8")
        << QByteArray("Sec-WebSocket-Key: " + randomKey() + "\r\nSec-WebSocket-Version: 8\r\n")
        << 426;
}

void TestRawWebSocket::handshakeRefused()
{
    QFETCH(QByteArray, keyAndVersion);
    QFETCH(int, status);

    Harness h;
    QVERIFY(h.listen());
    QSignalSpy newConnection(&h.server, &EngineServer::newConnection);
    Peer c;
    QVERIFY(c.connectTo(h.port()));
    c.send("GET " + kWsTarget + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(h.port())
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + keyAndVersion + "\r\n");
    HttpResponse r;
    QVERIFY2(c.readResponse(&r), c.unparsed().toByteArray().constData());
    QCOMPARE(r.status, status);
    QVERIFY(!r.hasHeader("sec-websocket-accept"));
    if (status == 426)
        QCOMPARE(r.header("sec-websocket-version"), QByteArray("13"));
    QVERIFY2(c.waitClosed(), "the refused connection stays open");
    QVERIFY2(c.unparsed().isEmpty(), c.unparsed().toByteArray().toHex().constData()); // no frames
    QCOMPARE(newConnection.count(), 0);
    QCOMPARE(h.created, 0);
    QCOMPARE(h.server.clientsCount(), 0);
}

// ---------------------------------------------------------------------------------------------
// 2. Messages both ways at every length encoding

void TestRawWebSocket::messageSizes_data()
{
    QTest::addColumn<int>("size"); // the WebSocket payload size
    for (int size : {0, 1, 125, 126, 127, 65535, 65536, 200000})
        QTest::addRow("%d", size) << size;
}

void TestRawWebSocket::messageSizes()
{
    QFETCH(int, size);
    EngineOptions options;
    options.maxHttpBufferSize = 300000;
    Harness h(options);
    QVERIFY(h.listen());
    Peer c;
    CHECKED(openWebSocket(h, c));

    // Binary: the payload is the message.
    const QByteArray bytes = randomBytes(size);
    c.send(clientFrame(OpBinary, bytes));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 1, kWait);
    QCOMPARE(h.received.at(0).binary, true);
    QCOMPARE(h.received.at(0).data.size(), bytes.size());
    QVERIFY(h.received.at(0).data == bytes);

    QVERIFY(h.session->sendBinary(bytes));
    CHECKED(expectFrame(c, OpBinary, bytes));

    // Text: "4" + the message (a text payload is never empty).
    if (size > 0) {
        const QByteArray text = pattern(size - 1, size);
        c.send(clientFrame(OpText, "4" + text));
        QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 2, kWait);
        QCOMPARE(h.received.at(1).binary, false);
        QCOMPARE(h.received.at(1).data.size(), text.size());
        QVERIFY(h.received.at(1).data == text);

        QVERIFY(h.session->send(text));
        CHECKED(expectFrame(c, OpText, "4" + text));
    }
    QVERIFY(c.quietFor(20));
    QCOMPARE(h.closedCount, 0);
}

void TestRawWebSocket::messageAtSizeLimit()
{
    EngineOptions options;
    options.maxHttpBufferSize = 1000;
    Harness h(options);
    QVERIFY(h.listen());
    Peer c;
    CHECKED(openWebSocket(h, c));

    // Exactly the limit is accepted, in one frame or in fragments.
    c.send(clientFrame(OpText, "4" + pattern(999, 1)));
    c.send(clientFrame(OpBinary, pattern(1000, 2)));
    c.send(clientFrame(OpBinary, pattern(400, 3), notFin())
        + clientFrame(OpContinuation, pattern(600, 4)));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 3, kWait);
    QCOMPARE(h.received.at(0).data, pattern(999, 1));
    QCOMPARE(h.received.at(1).data, pattern(1000, 2));
    QCOMPARE(h.received.at(2).data, pattern(400, 3) + pattern(600, 4));
    QCOMPARE(h.closedCount, 0);

    // One byte more is not.
    c.send(clientFrame(OpBinary, pattern(1001, 5)));
    int code = 0;
    CHECKED(expectClose(c, &code));
    QCOMPARE(code, 1009);
    QTRY_COMPARE_WITH_TIMEOUT(h.closedCount, 1, kWait);
    QCOMPARE(h.closedReason, QStringLiteral("transport error"));
    QCOMPARE(h.received.size(), 3);
}

// ---------------------------------------------------------------------------------------------
// 3. Fragmentation, with control frames between the fragments

void TestRawWebSocket::fragmented_data()
{
    QTest::addColumn<bool>("binary");
    QTest::newRow("text") << false;
    QTest::newRow("binary") << true;
}

void TestRawWebSocket::fragmented()
{
    QFETCH(bool, binary);
    Harness h;
    QVERIFY(h.listen());
    Peer c;
    CHECKED(openWebSocket(h, c));

    // Text: "4" + a message whose euro sign (E2 82 AC) is split between fragments 2 and 3.
    const QByteArray part1 = binary ? QByteArray("\x00\xff\x01", 3) : QByteArray("4hel");
    const QByteArray part2 = binary ? QByteArray("\x80\x7f", 2) : QByteArray("lo \xe2\x82");
    const QByteArray part3 = binary ? QByteArray(300, '\xaa') : QByteArray("\xac world");
    const QByteArray message = binary ? part1 + part2 + part3 : QByteArray("hello \xe2\x82\xac world");
    const quint8 opcode = binary ? OpBinary : OpText;

    c.send(clientFrame(opcode, part1, notFin()));
    c.send(clientFrame(OpPing, "ping one"));
    CHECKED(expectFrame(c, OpPong, "ping one"));
    c.send(clientFrame(OpContinuation, part2, notFin()));
    c.send(clientFrame(OpPong, "unsolicited")); // ignored
    c.send(clientFrame(OpContinuation, {}, notFin())); // an empty fragment is legal
    const QByteArray maxPing = pattern(125, 9); // the largest control payload
    c.send(clientFrame(OpPing, maxPing));
    CHECKED(expectFrame(c, OpPong, maxPing));
    QCOMPARE(h.received.size(), 0); // nothing before the last fragment
    c.send(clientFrame(OpPing, {}));
    c.send(clientFrame(OpContinuation, part3));
    CHECKED(expectFrame(c, OpPong, {}));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 1, kWait);
    QCOMPARE(h.received.at(0).binary, binary);
    QCOMPARE(h.received.at(0).data, message);

    // The state is reset: an unfragmented message and another fragmented one follow.
    c.send(clientFrame(OpText, "4next"));
    c.send(clientFrame(opcode, part1, notFin()) + clientFrame(OpContinuation, part2, notFin())
        + clientFrame(OpContinuation, part3));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 3, kWait);
    QCOMPARE(h.received.at(1).data, QByteArray("next"));
    QCOMPARE(h.received.at(1).binary, false);
    QCOMPARE(h.received.at(2).data, message);
    QCOMPARE(h.received.at(2).binary, binary);
    QVERIFY(c.quietFor(20));
    QCOMPARE(h.closedCount, 0);
}

// ---------------------------------------------------------------------------------------------
// 4. Frames split across TCP writes, many frames per write, frames pipelined with the upgrade

void TestRawWebSocket::splitWrites_data()
{
    // The stream: A text, 16-bit length (8-byte header); B binary, 64-bit length (14-byte
    // header); C small text (6-byte header).
    const qsizetype a = 8 + 1 + 200;
    const qsizetype b = 14 + 70000;
    const qsizetype cEnd = a + b + 6 + 4;
    QTest::addColumn<QList<qsizetype>>("cuts");
    QTest::newRow("header after 1 byte") << QList<qsizetype> {1};
    QTest::newRow("in the 16-bit length") << QList<qsizetype> {3};
    QTest::newRow("in the mask (16-bit frame)") << QList<qsizetype> {6};
    QTest::newRow("in the payload (16-bit frame)") << QList<qsizetype> {50};
    QTest::newRow("at a frame boundary") << QList<qsizetype> {a};
    QTest::newRow("in the 64-bit length") << QList<qsizetype> {a + 2, a + 6};
    QTest::newRow("in the mask (64-bit frame)") << QList<qsizetype> {a + 11};
    QTest::newRow("in the payload (64-bit frame)") << QList<qsizetype> {a + 14 + 1, a + 40000};
    QTest::newRow("header after 1 byte (small frame)") << QList<qsizetype> {a + b + 1};
    QTest::newRow("all of them")
        << QList<qsizetype> {1, 3, 6, 50, a, a + 1, a + 2, a + 6, a + 11, a + 15, a + 40000,
               a + b + 1, a + b + 4};
    QList<qsizetype> everyByte;
    for (qsizetype i = 1; i < a; i += i < 12 ? 1 : 50)
        everyByte.append(i);
    for (qsizetype i = a; i < a + 20; ++i)
        everyByte.append(i);
    for (qsizetype i = a + b; i < cEnd; ++i)
        everyByte.append(i);
    QTest::newRow("byte by byte through the headers") << everyByte;
}

void TestRawWebSocket::splitWrites()
{
    QFETCH(QList<qsizetype>, cuts);
    Harness h;
    QVERIFY(h.listen());
    Peer c;
    CHECKED(openWebSocket(h, c));

    const QByteArray textA = pattern(200, 1);
    const QByteArray bytesB = randomBytes(70000);
    const QByteArray frameA = clientFrame(OpText, "4" + textA);
    const QByteArray frameB = clientFrame(OpBinary, bytesB);
    const QByteArray frameC = clientFrame(OpText, "4end");
    QCOMPARE(frameA.size(), 8 + 201);
    QCOMPARE(frameB.size(), 14 + 70000);
    const QByteArray stream = frameA + frameB + frameC;
    const QList<qsizetype> ends = {frameA.size(), frameA.size() + frameB.size(), stream.size()};

    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        QVERIFY(cut > from && cut < stream.size());
        c.send(stream.sliced(from, cut - from));
        from = cut;
        QVERIFY(c.socket.bytesToWrite() == 0 || c.socket.waitForBytesWritten(kWait));
        QTest::qWait(10); // let the server read the piece on its own
        const qsizetype complete = std::count_if(
            ends.cbegin(), ends.cend(), [cut](qsizetype end) { return end <= cut; });
        QVERIFY2(h.received.size() <= complete, "a message delivered before its last byte");
        QCOMPARE(h.closedCount, 0);
    }
    c.send(stream.sliced(from));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 3, kWait);
    QCOMPARE(h.received.at(0).binary, false);
    QVERIFY(h.received.at(0).data == textA);
    QCOMPARE(h.received.at(1).binary, true);
    QVERIFY(h.received.at(1).data == bytesB);
    QCOMPARE(h.received.at(2).binary, false);
    QCOMPARE(h.received.at(2).data, QByteArray("end"));
    QCOMPARE(h.closedCount, 0);
}

void TestRawWebSocket::manyFramesInOneWrite()
{
    Harness h;
    QVERIFY(h.listen());
    Peer c;
    CHECKED(openWebSocket(h, c));

    QByteArray all;
    QList<QByteArray> expected;
    for (int i = 0; i < 300; ++i) {
        const QByteArray data = "m" + QByteArray::number(i) + pattern(i % 140, i);
        expected.append(data);
        all += clientFrame(OpText, "4" + data);
        if (i % 100 == 50)
            all += clientFrame(OpPing, "p" + QByteArray::number(i));
    }
    c.send(all);
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), expected.size(), kWait);
    for (qsizetype i = 0; i < expected.size(); ++i)
        QCOMPARE(h.received.at(i).data, expected.at(i));
    CHECKED(expectFrame(c, OpPong, "p50"));
    CHECKED(expectFrame(c, OpPong, "p150"));
    CHECKED(expectFrame(c, OpPong, "p250"));
    QVERIFY(c.quietFor(20));
    QCOMPARE(h.closedCount, 0);
}

void TestRawWebSocket::pipelinedWithUpgrade_data()
{
    QTest::addColumn<QByteArray>("withHead"); // sent in the same write as the request head
    QTest::addColumn<QByteArray>("later"); // sent once the 101 arrived
    QTest::addColumn<QByteArrayList>("messages"); // "t:" text, "b:" binary
    QTest::addColumn<QByteArray>("pong"); // expected after the open packet; empty: none
    QTest::addColumn<int>("closeCode"); // expected close frame from the server; 0: none

    QTest::newRow("whole frames")
        << QByteArray(clientFrame(OpText, "4first") + clientFrame(OpPing, "pp")
               + clientFrame(OpBinary, QByteArray("\x01\x02", 2)))
        << QByteArray() << QByteArrayList {"t:first", QByteArray("b:\x01\x02", 4)}
        << QByteArray("pp") << 0;
    const QByteArray second = clientFrame(OpText, "4second" + pattern(300, 1));
    QTest::newRow("a frame split after the head")
        << QByteArray(clientFrame(OpText, "4first") + second.first(5)) << second.sliced(5)
        << QByteArrayList {"t:first", "t:second" + pattern(300, 1)} << QByteArray() << 0;
    QTest::newRow("only part of a header")
        << QByteArray(second.first(1)) << second.sliced(1)
        << QByteArrayList {"t:second" + pattern(300, 1)} << QByteArray() << 0;
    QTest::newRow("message and close")
        << QByteArray(clientFrame(OpText, "4x") + clientFrame(OpClose, closePayload(1000)))
        << QByteArray() << QByteArrayList {"t:x"} << QByteArray() << 1000;
    QTest::newRow("protocol error")
        << clientFrame(OpText, "4x", unmasked()) << QByteArray() << QByteArrayList {}
        << QByteArray() << 1002;
}

void TestRawWebSocket::pipelinedWithUpgrade()
{
    QFETCH(QByteArray, withHead);
    QFETCH(QByteArray, later);
    QFETCH(QByteArrayList, messages);
    QFETCH(QByteArray, pong);
    QFETCH(int, closeCode);

    Harness h;
    QVERIFY(h.listen());
    Peer c;
    QVERIFY(c.connectTo(h.port()));
    const QByteArray key = randomKey();
    c.send(upgradeHead(h.port(), key) + withHead);
    HttpResponse r;
    QVERIFY(c.readResponse(&r));
    QCOMPARE(r.status, 101);
    QCOMPARE(r.header("sec-websocket-accept"), expectedAccept(key));
    ServerFrame open;
    QVERIFY(c.readFrame(&open));
    QCOMPARE(open.opcode, OpText);
    QVERIFY2(open.payload.startsWith("0{"), open.payload.constData());
    QCOMPARE(h.created, 1);
    if (!later.isEmpty()) {
        QTest::qWait(20);
        c.send(later);
    }
    if (!pong.isEmpty())
        CHECKED(expectFrame(c, OpPong, pong));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), messages.size(), kWait);
    for (qsizetype i = 0; i < messages.size(); ++i) {
        QCOMPARE(h.received.at(i).binary, messages.at(i).startsWith("b:"));
        QCOMPARE(h.received.at(i).data, messages.at(i).sliced(2));
    }
    if (closeCode) {
        int code = 0;
        CHECKED(expectClose(c, &code));
        QCOMPARE(code, closeCode);
        QTRY_COMPARE_WITH_TIMEOUT(h.closedCount, 1, kWait);
        QCOMPARE(h.closedReason,
            closeCode == 1000 ? QStringLiteral("transport close")
                              : QStringLiteral("transport error"));
        if (closeCode != 1000)
            c.send(clientFrame(OpClose, closePayload(closeCode)));
        QVERIFY2(c.waitClosed(), "the server did not close TCP after the close handshake");
    } else {
        QVERIFY(c.quietFor(20));
        QCOMPARE(h.closedCount, 0);
        QVERIFY(!c.closed);
    }
}

void TestRawWebSocket::answersFromHandlers_data()
{
    QTest::addColumn<bool>("handlerCloses");
    QTest::newRow("echoes, then the client closes") << false;
    QTest::newRow("the handler closes the session mid-batch") << true;
}

// What the session sends from its handlers, while a batch of frames read at once is being
// parsed, goes out in order and before the close frame.
void TestRawWebSocket::answersFromHandlers()
{
    QFETCH(bool, handlerCloses);
    Harness h;
    QVERIFY(h.listen());
    const int descriptors = openDescriptors();
    {
        Peer c;
        CHECKED(openWebSocket(h, c));
        QPointer<EngineSocket> s = h.session;
        connect(s, &EngineSocket::messageReceived, s, [s](const QByteArray &data, bool binary) {
            if (data == "bye") {
                s->send("ack");
                s->close();
            } else if (binary) {
                s->sendBinary(data);
            } else {
                s->send(data);
            }
        });

        QByteArray batch;
        for (int i = 0; i < 50; ++i) {
            batch += clientFrame(OpText, "4e" + QByteArray::number(i));
            if (i == 20)
                batch += clientFrame(OpBinary, QByteArray("\x00\x01", 2));
            if (i == 30 && handlerCloses)
                batch += clientFrame(OpText, "4bye");
        }
        if (!handlerCloses)
            batch += clientFrame(OpClose, closePayload(1000));
        QElapsedTimer clock;
        clock.start();
        c.send(batch);

        const int echoed = handlerCloses ? 31 : 50;
        for (int i = 0; i < echoed; ++i) {
            CHECKED(expectFrame(c, OpText, "4e" + QByteArray::number(i)));
            if (i == 20)
                CHECKED(expectFrame(c, OpBinary, QByteArray("\x00\x01", 2)));
        }
        if (handlerCloses)
            CHECKED(expectFrame(c, OpText, "4ack"));
        int code = 0;
        CHECKED(expectClose(c, &code));
        QCOMPARE(code, 1000);
        QTRY_COMPARE_WITH_TIMEOUT(h.closedCount, 1, kWait);
        if (handlerCloses) {
            QCOMPARE(h.closedReason, QStringLiteral("forced close"));
            // Frames after the one that closed the session are not delivered.
            QCOMPARE(h.received.size(), 32 + 1);
            QCOMPARE(h.received.last().data, QByteArray("bye"));
            c.send(clientFrame(OpClose, closePayload(1000)));
        } else {
            QCOMPARE(h.closedReason, QStringLiteral("transport close"));
            QCOMPARE(h.received.size(), 51);
        }
        QVERIFY2(c.waitClosed(), "the server did not close TCP after the close handshake");
        QVERIFY2(clock.elapsed() < 3000, QByteArray::number(clock.elapsed()).constData());
        QVERIFY2(c.unparsed().isEmpty(), "frames after the close frame");
    }
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), descriptors, kWait);
}

// ---------------------------------------------------------------------------------------------
// 5. Protocol errors

void TestRawWebSocket::protocolErrors_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");

    QTest::newRow("unmasked frame") << clientFrame(OpText, "4hi", unmasked()) << 1002;
    QTest::newRow("unmasked empty ping") << clientFrame(OpPing, {}, unmasked()) << 1002;
    QTest::newRow("RSV1 set") << clientFrame(OpText, "4hi", withRsv(0x40)) << 1002;
    QTest::newRow("RSV2 set") << clientFrame(OpText, "4hi", withRsv(0x20)) << 1002;
    QTest::newRow("RSV3 set") << clientFrame(OpBinary, "x", withRsv(0x10)) << 1002;
    QTest::newRow("opcode 3") << clientFrame(3, "4hi") << 1002;
    QTest::newRow("opcode 7") << clientFrame(7, {}) << 1002;
    QTest::newRow("opcode 0xB") << clientFrame(0xB, {}) << 1002;
    QTest::newRow("opcode 0xF") << clientFrame(0xF, "x") << 1002;
    QTest::newRow("ping of 126 bytes") << clientFrame(OpPing, pattern(126, 1)) << 1002;
    QTest::newRow("pong of 126 bytes") << clientFrame(OpPong, pattern(126, 1)) << 1002;
    QTest::newRow("close of 126 bytes")
        << clientFrame(OpClose, closePayload(1000, pattern(124, 1))) << 1002;
    QTest::newRow("fragmented ping") << clientFrame(OpPing, "a", notFin()) << 1002;
    QTest::newRow("fragmented close")
        << clientFrame(OpClose, closePayload(1000), notFin()) << 1002;
    QTest::newRow("continuation without a start") << clientFrame(OpContinuation, "4hi") << 1002;
    QTest::newRow("unfinished continuation without a start")
        << clientFrame(OpContinuation, "4hi", notFin()) << 1002;
    QTest::newRow("text inside a fragmented text")
        << QByteArray(clientFrame(OpText, "4a", notFin()) + clientFrame(OpText, "4b")) << 1002;
    QTest::newRow("binary inside a fragmented text")
        << QByteArray(clientFrame(OpText, "4a", notFin()) + clientFrame(OpBinary, "b")) << 1002;
    QTest::newRow("text inside a fragmented binary")
        << QByteArray(clientFrame(OpBinary, "a", notFin())
               + clientFrame(OpContinuation, "b", notFin()) + clientFrame(OpText, "4c", notFin()))
        << 1002;
    QTest::newRow("close with a 1-byte payload") << clientFrame(OpClose, "\x03") << 1002;

    QTest::newRow("invalid UTF-8") << clientFrame(OpText, "4ab\xff") << 1007;
    QTest::newRow("truncated UTF-8 sequence") << clientFrame(OpText, "4ab\xe2\x82") << 1007;
    QTest::newRow("overlong UTF-8") << clientFrame(OpText, "4\xc0\xaf") << 1007;
    QTest::newRow("UTF-16 surrogate in UTF-8") << clientFrame(OpText, "4\xed\xa0\x80") << 1007;
    QTest::newRow("invalid UTF-8 split across fragments")
        << QByteArray(clientFrame(OpText, "4a\xe2\x82", notFin())
               + clientFrame(OpContinuation, "\x28z"))
        << 1007;

    // maxHttpBufferSize is 1000 in this test. Only headers: the payload is never sent.
    QTest::newRow("too big: 64-bit length, header only")
        << clientFrame(OpBinary, {}, headerOnly(qint64(1) << 40)) << 1009;
    QTest::newRow("too big: largest 64-bit length, header only")
        << clientFrame(OpText, {}, headerOnly(std::numeric_limits<qint64>::max()))
        << 1009;
    QTest::newRow("too big: 16-bit length, header only")
        << clientFrame(OpText, {}, headerOnly(1001)) << 1009;
    QTest::newRow("too big: fragments add up, header only")
        << QByteArray(clientFrame(OpBinary, pattern(600, 1), notFin())
               + clientFrame(OpContinuation, {}, headerOnly(401)))
        << 1009;
}

void TestRawWebSocket::protocolErrors()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);

    EngineOptions options;
    options.maxHttpBufferSize = 1000;
    Harness h(options);
    QVERIFY(h.listen());
    const int descriptors = openDescriptors();
    {
        Peer c;
        CHECKED(openWebSocket(h, c));
        c.send(bytes);
        int got = 0;
        CHECKED(expectClose(c, &got));
        QCOMPARE(got, code);
        QTRY_COMPARE_WITH_TIMEOUT(h.closedCount, 1, kWait);
        QCOMPARE(h.closedReason, QStringLiteral("transport error"));
        QCOMPARE(h.received.size(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(h.server.clientsCount(), 0, kWait);

        // The client completes the close handshake: the server closes TCP at once.
        QElapsedTimer clock;
        clock.start();
        c.send(clientFrame(OpClose, closePayload(code)));
        QVERIFY2(c.waitClosed(), "the server did not close TCP after the close handshake");
        QVERIFY2(clock.elapsed() < 3000, QByteArray::number(clock.elapsed()).constData());
        QVERIFY2(c.unparsed().isEmpty(), "frames after the close frame");
    }
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), descriptors, kWait);
}

void TestRawWebSocket::protocolErrorUnanswered()
{
    Harness h;
    QVERIFY(h.listen());
    const int descriptors = openDescriptors();
    {
        Peer c;
        CHECKED(openWebSocket(h, c));
        QElapsedTimer clock;
        clock.start();
        c.send(clientFrame(OpText, "4x", withRsv(0x40)));
        int code = 0;
        CHECKED(expectClose(c, &code));
        QCOMPARE(code, 1002);
        // No close frame back: the server gives up on the handshake after about 5 s.
        QVERIFY2(c.waitClosed(8000), "the connection outlived the close timeout");
        qInfo() << "dropped after" << clock.elapsed() << "ms";
        QVERIFY2(clock.elapsed() <= 7000, QByteArray::number(clock.elapsed()).constData());
        QCOMPARE(h.closedReason, QStringLiteral("transport error"));
    }
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), descriptors, kWait);
}

// ---------------------------------------------------------------------------------------------
// 6. Close handshake

void TestRawWebSocket::clientClose_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QList<int>>("answers"); // acceptable codes in the server's close frame
    QTest::addColumn<QString>("reason"); // the session's; empty: not checked

    const QString transportClose = QStringLiteral("transport close");
    QTest::newRow("1000 with a reason")
        << closePayload(1000, "bye \xe2\x82\xac") << QList<int> {1000} << transportClose;
    QTest::newRow("no payload") << QByteArray() << QList<int> {-1, 1000} << transportClose;
    QTest::newRow("1001") << closePayload(1001) << QList<int> {1001, 1000} << transportClose;
    QTest::newRow("3000") << closePayload(3000) << QList<int> {3000, 1000} << transportClose;
    QTest::newRow("4999") << closePayload(4999) << QList<int> {4999, 1000} << transportClose;

    // RFC 6455 7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control
    // frame by an endpoint"; codes below 1000, unassigned ones in 1000-2999 and 5000 and up
    // are not valid in a close frame (7.4.2; Autobahn 7.9.x, 7.13.x expect a 1002 answer).
    // Echoing them back is wrong. (1006 once made the server drop its answer with the
    // connection, taking the peer's code for its own "connection lost".)
    for (int invalid : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
        QTest::addRow("invalid code %d", invalid)
            << closePayload(invalid) << QList<int> {1002} << QString();
    // RFC 6455 8.1: a close reason that is not UTF-8 fails the connection (Autobahn 7.5.1).
    QTest::newRow("reason not UTF-8")
        << closePayload(1000, "bad \xff") << QList<int> {1007} << QString();
}

void TestRawWebSocket::clientClose()
{
    QFETCH(QByteArray, payload);
    QFETCH(QList<int>, answers);
    QFETCH(QString, reason);

    Harness h;
    QVERIFY(h.listen());
    const int descriptors = openDescriptors();
    {
        Peer c;
        CHECKED(openWebSocket(h, c));
        QElapsedTimer clock;
        clock.start();
        c.send(clientFrame(OpClose, payload));
        int code = 0;
        CHECKED(expectClose(c, &code));
        QVERIFY2(answers.contains(code),
            qPrintable(QStringLiteral("the server answered close code %1").arg(code)));
        QVERIFY2(c.waitClosed(), "the server did not close TCP after the close handshake");
        QVERIFY2(clock.elapsed() < 3000, QByteArray::number(clock.elapsed()).constData());
        QVERIFY2(c.unparsed().isEmpty(), "frames after the close frame");
        QTRY_COMPARE_WITH_TIMEOUT(h.closedCount, 1, kWait);
        if (!reason.isEmpty())
            QCOMPARE(h.closedReason, reason);
        QTRY_COMPARE_WITH_TIMEOUT(h.server.clientsCount(), 0, kWait);
    }
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), descriptors, kWait);
}

void TestRawWebSocket::serverClose()
{
    Harness h;
    QVERIFY(h.listen());
    const int descriptors = openDescriptors();
    {
        Peer c;
        CHECKED(openWebSocket(h, c));
        QPointer<EngineSocket> s = h.session;
        QVERIFY(s->send("a"));
        QVERIFY(s->sendBinary(QByteArray("\x01\x00", 2)));
        QVERIFY(s->send(pattern(70000, 3)));
        QVERIFY(s->send("last"));
        s->close();
        QVERIFY(!s || !s->send("after close"));

        CHECKED(expectFrame(c, OpText, "4a"));
        CHECKED(expectFrame(c, OpBinary, QByteArray("\x01\x00", 2)));
        CHECKED(expectFrame(c, OpText, "4" + pattern(70000, 3)));
        CHECKED(expectFrame(c, OpText, "4last"));
        int code = 0;
        CHECKED(expectClose(c, &code));
        QCOMPARE(code, 1000);
        QTRY_COMPARE_WITH_TIMEOUT(h.closedCount, 1, kWait);
        QCOMPARE(h.closedReason, QStringLiteral("forced close"));
        // The server waits for the client's close frame before it closes TCP...
        QVERIFY(c.quietFor(100));
        QVERIFY2(!c.closed, "the server closed TCP before the client answered its close frame");
        // ...and closes it once the answer arrives.
        QElapsedTimer clock;
        clock.start();
        c.send(clientFrame(OpClose, closePayload(1000)));
        QVERIFY2(c.waitClosed(), "the server did not close TCP after the close handshake");
        QVERIFY2(clock.elapsed() < 3000, QByteArray::number(clock.elapsed()).constData());
        QVERIFY2(c.unparsed().isEmpty(), "frames after the close frame");
        QCOMPARE(h.server.clientsCount(), 0);
    }
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), descriptors, kWait);
}

void TestRawWebSocket::serverCloseUnanswered()
{
    Harness h;
    QVERIFY(h.listen());
    const int descriptors = openDescriptors();
    {
        Peer c;
        CHECKED(openWebSocket(h, c));
        QElapsedTimer clock;
        clock.start();
        h.session->close();
        int code = 0;
        CHECKED(expectClose(c, &code));
        QCOMPARE(code, 1000);
        // Data frames from the client meanwhile are not delivered, and do not end the wait.
        c.send(clientFrame(OpText, "4ignored") + clientFrame(OpPing, "p"));
        QVERIFY2(c.waitClosed(8000), "a client that never answers the close frame is kept");
        qInfo() << "dropped after" << clock.elapsed() << "ms";
        QVERIFY2(clock.elapsed() <= 7000, QByteArray::number(clock.elapsed()).constData());
        QCOMPARE(h.received.size(), 0);
        QCOMPARE(h.closedCount, 1);
        QVERIFY2(c.unparsed().isEmpty(), "frames after the close frame");
    }
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), descriptors, kWait);
}

// ---------------------------------------------------------------------------------------------
// 7. The peer vanishes

void TestRawWebSocket::peerVanishes_data()
{
    QTest::addColumn<QString>("how");
    QTest::newRow("abort (FIN)") << QStringLiteral("fin");
    QTest::newRow("reset (RST)") << QStringLiteral("rst");
    QTest::newRow("in the middle of a frame") << QStringLiteral("mid-frame");
    QTest::newRow("in the middle of a fragmented message") << QStringLiteral("mid-message");
    QTest::newRow("while the server's queue is full") << QStringLiteral("queue-full");
}

void TestRawWebSocket::peerVanishes()
{
    QFETCH(QString, how);
    EngineOptions options;
    options.maxBufferedBytes = 0; // not closed as a slow client
    Harness h(options);
    QVERIFY(h.listen());
    const int descriptors = openDescriptors();
    {
        Peer c;
        CHECKED(openWebSocket(h, c));
        if (how == u"mid-frame") {
            c.send(clientFrame(OpText, "4" + pattern(1000, 1)).first(300));
        } else if (how == u"mid-message") {
            c.send(clientFrame(OpText, "4abc", notFin()));
            c.send(clientFrame(OpPing, "sync"));
            CHECKED(expectFrame(c, OpPong, "sync"));
        } else if (how == u"queue-full") {
            c.pause();
            const QByteArray chunk = pattern(1 << 20, 1);
            for (int i = 0; i < 16; ++i)
                QVERIFY(h.session->send(chunk));
            QTRY_VERIFY_WITH_TIMEOUT(h.session->bufferedBytes() > 0, kWait);
        } else if (how == u"rst") {
            const linger l {1, 0};
            QCOMPARE(::setsockopt(int(c.socket.socketDescriptor()), SOL_SOCKET, SO_LINGER, &l,
                         sizeof l),
                0);
        }
        QTest::qWait(20);
        QCOMPARE(h.closedCount, 0);
        QElapsedTimer clock;
        clock.start();
        c.socket.abort();
        QTRY_COMPARE_WITH_TIMEOUT(h.closedCount, 1, kWait);
        QVERIFY2(clock.elapsed() < 2000, QByteArray::number(clock.elapsed()).constData());
        QCOMPARE(h.closedReason, QStringLiteral("transport close"));
        QCOMPARE(h.received.size(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(h.server.clientsCount(), 0, kWait);
    }
    // The descriptor goes at once, not after a close timeout.
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), descriptors, 2000);
}

// ---------------------------------------------------------------------------------------------
// 8. A slow reader

void TestRawWebSocket::slowReader()
{
    EngineOptions options;
    options.maxBufferedBytes = 0; // the slow-client policy is tested elsewhere
    options.pingInterval = 300000ms;
    options.pingTimeout = 300000ms;
    Harness h(options);
    QVERIFY(h.listen());
    Peer c;
    CHECKED(openWebSocket(h, c));
    QPointer<EngineSocket> s = h.session;
    QSignalSpy drained(s, &EngineSocket::drained);

    constexpr int count = 320; // 20 MiB
    constexpr int size = 64 * 1024;
    c.pause();
    for (int i = 0; i < count; ++i)
        QVERIFY(s->send(pattern(size, i)));
    const qint64 queued = s->bufferedBytes();
    qInfo() << "queued in user space after sending:" << queued;
    QVERIFY2(queued > 4 * 1024 * 1024, QByteArray::number(queued).constData());
    QTest::qWait(200);
    QVERIFY2(s->bufferedBytes() > 0, "drained while the client reads nothing");
    QVERIFY(s->bufferedBytes() <= queued);

    c.resume();
    int seen = 0;
    const bool all = QTest::qWaitFor(
        [&] {
            ServerFrame f;
            qsizetype used;
            while (seen < count && (used = parseServerFrame(c.unparsed(), &f)) > 0) {
                c.consume(used);
                if (f.opcode != OpText || f.masked || !f.fin || f.payload.size() != size + 1
                    || f.payload.at(0) != '4' || QByteArrayView(f.payload).sliced(1) != pattern(size, seen)) {
                    qWarning() << "frame" << seen << "wrong: opcode" << f.opcode << "size"
                               << f.payload.size();
                    return true;
                }
                ++seen;
            }
            return seen == count || c.closed;
        },
        120000);
    QVERIFY(all);
    QCOMPARE(seen, count);
    QTRY_COMPARE_WITH_TIMEOUT(s->bufferedBytes(), qint64(0), kWait);
    QVERIFY(drained.count() >= 1);
    QVERIFY(c.quietFor(20));
    QCOMPARE(h.closedCount, 0);

    // Still a working session.
    c.send(clientFrame(OpText, "4done"));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 1, kWait);
    QCOMPARE(h.received.at(0).data, QByteArray("done"));
}

// A burst over maxBufferedBytes to a client that reads at once: the connection is congested for
// a moment, then not, and is not closed as a slow client, whether the kernel ever refused data
// or not (with worker threads the bytes wait in the queue to the worker first).
void TestRawWebSocket::burstToFastReader()
{
    EngineOptions options;
    options.maxBufferedBytes = 64 * 1024;
    options.slowClientTimeout = 1000ms;
    options.pingInterval = 300000ms;
    options.pingTimeout = 300000ms;
    Harness h(options);
    QVERIFY(h.listen());
    Peer c;
    CHECKED(openWebSocket(h, c));
    QPointer<EngineSocket> s = h.session;
    QSignalSpy congestion(s, &EngineSocket::congestionChanged);
    constexpr int count = 40; // 40 x 4 KiB: over the bound, well under the kernel's buffers
    for (int i = 0; i < count; ++i)
        QVERIFY(s->send(pattern(4096, i)));
    int seen = 0;
    QVERIFY(QTest::qWaitFor(
        [&] {
            ServerFrame f;
            qsizetype used;
            while ((used = parseServerFrame(c.unparsed(), &f)) > 0) {
                c.consume(used);
                ++seen;
            }
            return seen == count || c.closed;
        },
        kWait));
    QCOMPARE(seen, count);
    QTRY_VERIFY_WITH_TIMEOUT(!s || (s->bufferedBytes() == 0 && !s->isCongested()), kWait);
    QVERIFY2(s, "closed as a slow client");
    QTest::qWait(1500); // beyond slowClientTimeout
    QVERIFY(s);
    QCOMPARE(h.closedCount, 0);
    if (!congestion.isEmpty())
        QCOMPARE(congestion.constLast().at(0).toBool(), false);
}

// ---------------------------------------------------------------------------------------------
// 9. Upgrade from polling, the probe pipelined with the upgrade request

void TestRawWebSocket::upgradeProbePipelined()
{
    Harness h;
    QVERIFY(h.listen());
    Peer poll;
    QVERIFY(poll.connectTo(h.port()));
    poll.send("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:"
        + QByteArray::number(h.port()) + "\r\n\r\n");
    HttpResponse r;
    QVERIFY(poll.readResponse(&r));
    QCOMPARE(r.status, 200);
    const QString sid = parseOpen(r.body).value(u"sid").toString();
    QVERIFY2(!sid.isEmpty(), r.body.constData());
    QPointer<EngineSocket> s = h.session;
    QVERIFY(s);
    QCOMPARE(s->id(), sid);
    QSignalSpy upgraded(s, &EngineSocket::upgraded);

    Peer ws;
    QVERIFY(ws.connectTo(h.port()));
    const QByteArray key = randomKey();
    ws.send(upgradeHead(h.port(), key, kWsTarget + "&sid=" + sid.toLatin1())
        + clientFrame(OpText, "2probe"));
    QVERIFY(ws.readResponse(&r));
    QCOMPARE(r.status, 101);
    QCOMPARE(r.header("sec-websocket-accept"), expectedAccept(key));
    CHECKED(expectFrame(ws, OpText, "3probe"));
    QCOMPARE(s->transport(), QStringLiteral("polling"));
    QVERIFY(s->send("queued during the probe"));
    ws.send(clientFrame(OpText, "5") + clientFrame(OpText, "4over ws"));
    QTRY_COMPARE_WITH_TIMEOUT(upgraded.count(), 1, kWait);
    QCOMPARE(s->transport(), QStringLiteral("websocket"));
    CHECKED(expectFrame(ws, OpText, "4queued during the probe"));
    QTRY_COMPARE_WITH_TIMEOUT(h.received.size(), 1, kWait);
    QCOMPARE(h.received.at(0).data, QByteArray("over ws"));
    QVERIFY(s->send("after"));
    CHECKED(expectFrame(ws, OpText, "4after"));
    QCOMPARE(h.created, 1);
    QCOMPARE(h.closedCount, 0);
}

// Not QTEST_MAIN: the epoll dispatcher must be in place before QCoreApplication exists.
int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIntValue("QSIO_TEST_EPOLL"))
        EpollEventDispatcher::installForMainThread();
    QCoreApplication app(argc, argv);
    TestRawWebSocket test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_rawwebsocket.moc"
