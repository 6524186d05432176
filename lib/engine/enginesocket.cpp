#include "enginesocket.h"

#include "engineserver_p.h"
#include "enginesocket_p.h"
#include "logging_p.h"
#include "wsconnection_p.h"

#include <optional>

namespace QSocketIo {

using namespace Qt::StringLiterals;
using EngineIo::Packet;
using EngineIo::PacketType;

static constexpr int noopInterval = 100; // ms, how often a poll held during an upgrade is released
static constexpr qint64 writableLimit = 64 * 1024;

EngineSocketPrivate::EngineSocketPrivate(EngineSocket *q, EngineServerPrivate *server,
    const QString &id, const EngineHandshake &handshake)
    : q_ptr(q)
    , server(server)
    , id(id)
    , handshake(handshake)
{
}

struct EngineMessage::Data
{
    EngineIo::Packet packet;
    mutable std::optional<QString> webSocketText;
    mutable QByteArray webSocketFrame;
};

EngineMessage::EngineMessage(const EngineIo::Packet &packet)
    : d(std::make_shared<Data>(Data {packet, std::nullopt, {}}))
{
}

EngineMessage EngineMessage::text(const QByteArray &utf8)
{
    return EngineMessage(Packet::message(utf8));
}

EngineMessage EngineMessage::binary(const QByteArray &bytes)
{
    return EngineMessage(Packet::binaryMessage(bytes));
}

const EngineIo::Packet &EngineMessage::packet() const
{
    return d->packet;
}

const QString &EngineMessage::webSocketText() const
{
    if (!d->webSocketText)
        d->webSocketText = QString::fromUtf8(EngineIo::encodeTextFrame(d->packet));
    return *d->webSocketText;
}

const QByteArray &EngineMessage::webSocketFrame() const
{
    if (d->webSocketFrame.isEmpty()) {
        // A text frame holds the packet type's digit, then the data (encodeTextFrame()).
        const char type = char('0' + int(d->packet.type));
        d->webSocketFrame = d->packet.binary
            ? RawWebSocket::frame(0x2, d->packet.data)
            : RawWebSocket::frame(0x1, QByteArrayView(&type, 1), d->packet.data);
    }
    return d->webSocketFrame;
}

EngineSocketPrivate::~EngineSocketPrivate()
{
    forget();
    if (ws)
        server->retire(std::exchange(ws, nullptr));
    if (probe)
        server->retire(std::exchange(probe, nullptr));
}

void EngineSocketPrivate::schedulePing()
{
    pingTimer.start(server->options.pingInterval);
}

void EngineSocketPrivate::onPingTimer()
{
    enqueue(EngineMessage(Packet::text(PacketType::Ping)));
    pongTimer.start(server->options.pingTimeout);
}

void EngineSocketPrivate::onPongTimeout()
{
    onClose(u"ping timeout"_s, u"no pong within %1 ms"_s.arg(server->options.pingTimeout.count()));
}

void EngineSocketPrivate::onNoopTimer()
{
    noopTimer.start(noopInterval); // first: releasing the poll may end the session
    if (heldPoll)
        releaseHeldPoll();
}

void EngineSocketPrivate::onCloseTimeout()
{
    if (!buffer.isEmpty())
        qCWarning(lcEngine) << "session" << id << "closed with" << buffer.size()
                            << "packets the client did not poll for";
    onClose(closeReason, u"close timeout"_s);
}

void EngineSocketPrivate::logTraffic(const char *direction, const Packet &packet) const
{
    qCDebug(lcEngineTraffic).noquote()
        << id << direction << (packet.binary ? u"binary"_s : QString::number(int(packet.type)))
        << (packet.binary ? QString::number(packet.data.size()) + u" bytes"_s
                          : QString::fromUtf8(packet.data.left(200)));
}

bool EngineSocketPrivate::enqueue(const EngineMessage &message)
{
    if (state != EngineSocket::State::Open)
        return false;
    const Packet &packet = message.packet();
    if (lcEngineTraffic().isDebugEnabled())
        logTraffic("<-", packet);
    Q_EMIT q_ptr->packetSent(packet.data.size());
    if (transport == Transport::WebSocket) {
        ws->sendMessage(message);
    } else {
        bufferBytes += packet.data.size();
        buffer.append(packet);
        if (heldPoll && !flushQueued) {
            // Packets sent in the same event-loop turn leave in one response.
            flushQueued = true;
            QMetaObject::invokeMethod(
                this,
                [this] {
                    flushQueued = false;
                    flushPoll();
                },
                Qt::QueuedConnection);
        }
    }
    // Once congested, more bytes cannot make it less so: only the drain paths look again.
    if (!congested)
        updateCongestion();
    return true;
}

void EngineSocketPrivate::updateCongestion()
{
    Q_Q(EngineSocket);
    const qint64 limit = server->options.maxBufferedBytes;
    const qint64 queued = q->bufferedBytes();
    const bool over = limit > 0 && queued > limit;
    if (over == congested)
        return;
    congested = over;
    if (over) {
        const auto timeout = server->options.slowClientTimeout;
        qCDebug(lcEngine) << "session" << id << "went over maxBufferedBytes" << limit << "with"
                          << queued << "bytes queued; closed in" << timeout.count()
                          << "ms unless it catches up";
        // A zero timeout still waits for the next turn, so that a send never ends the session
        // under its caller (a broadcast loop, a handler).
        slowTimer.start(timeout);
    } else {
        qCDebug(lcEngine) << "session" << id << "caught up:" << queued << "bytes queued";
        slowTimer.stop();
    }
    Q_EMIT q->congestionChanged(over);
}

void EngineSocketPrivate::closeSlowClient()
{
    Q_Q(EngineSocket);
    const qint64 queued = q->bufferedBytes();
    const QString description
        = u"%1 bytes queued for more than %2 ms (maxBufferedBytes %3)"_s.arg(queued)
              .arg(server->options.slowClientTimeout.count())
              .arg(server->options.maxBufferedBytes);
    qCWarning(lcEngine).noquote() << "session" << id << "closed as a slow client:" << description;
    // A client that does not read would not read a close frame either: drop the connection
    // and what it holds now, rather than keep both through a close handshake.
    delete std::exchange(ws, nullptr);
    onClose(u"send buffer full"_s, description);
}

void EngineSocketPrivate::answerPoll(Http::Exchange &exchange, const QByteArray &payload)
{
    exchange.respond(200,
        {{"Content-Type", "text/plain; charset=UTF-8"}, {"Cache-Control", "no-store"}}, payload);
}

QByteArray EngineSocketPrivate::takeBuffer()
{
    const QByteArray payload = EngineIo::encodePayload(buffer);
    buffer.clear();
    bufferBytes = 0;
    return payload;
}

void EngineSocketPrivate::flushPoll()
{
    if (heldPoll && !buffer.isEmpty())
        releaseHeldPoll();
}

Http::Exchange EngineSocketPrivate::takeHeldPoll()
{
    Http::Exchange exchange = std::move(*heldPoll);
    heldPoll.reset();
    server->heldPolls.remove(exchange.socket());
    if (exchange.socket())
        QObject::disconnect(exchange.socket(), &QTcpSocket::disconnected, this, nullptr);
    return exchange;
}

void EngineSocketPrivate::releaseHeldPoll()
{
    Q_Q(EngineSocket);
    if (!heldPoll)
        return;
    Http::Exchange exchange = takeHeldPoll();
    if (!exchange.isAlive()) {
        // Its connection is closing: what the session holds cannot reach the client.
        onClose(u"transport error"_s, u"poll connection closed prematurely"_s);
        return;
    }
    const bool hadData = !buffer.isEmpty();
    answerPoll(exchange, hadData ? takeBuffer() : QByteArray("6"));
    if (hadData) {
        if (congested)
            updateCongestion();
        Q_EMIT q->drained();
    }
}

void EngineSocketPrivate::forget()
{
    if (heldPoll)
        takeHeldPoll();
    if (state != EngineSocket::State::Closed) {
        state = EngineSocket::State::Closed;
        server->sessions.remove(id);
    }
}

void EngineSocketPrivate::onPollGet(Http::Exchange &&exchange)
{
    Q_Q(EngineSocket);
    if (heldPoll) {
        Http::Exchange second = std::move(exchange);
        server->refuse(second, {3, u"overlapping GET requests for session %1"_s.arg(id)}, {});
        onClose(u"transport error"_s, u"overlapping GET requests"_s);
        return;
    }
    if (state == EngineSocket::State::Closing) {
        buffer.append(Packet::text(PacketType::Close));
        answerPoll(exchange, takeBuffer());
        onClose(closeReason);
        return;
    }
    if (!buffer.isEmpty()) {
        answerPoll(exchange, takeBuffer());
        if (congested)
            updateCongestion();
        Q_EMIT q->drained();
        return;
    }
    if (probed) {
        answerPoll(exchange, "6");
        return;
    }
    QTcpSocket *socket = exchange.socket();
    if (!socket)
        return;
    heldPoll.emplace(std::move(exchange));
    server->heldPolls.insert(socket, q);
    QObject::connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        if (heldPoll) {
            heldPoll.reset();
            server->heldPolls.remove(socket);
            onClose(u"transport error"_s, u"poll connection closed prematurely"_s);
        }
    });
}

void EngineSocketPrivate::onPollPost(const QByteArray &body, Http::Exchange &&exchange)
{
    if (postInProgress == exchange.socket())
        postInProgress = nullptr;
    QList<Packet> packets;
    const EngineIo::DecodeError error = EngineIo::decodePayload(body, &packets);
    if (error != EngineIo::DecodeError::None) {
        server->refuse(
            exchange, {3, u"malformed payload: %1"_s.arg(EngineIo::errorString(error))}, {});
        onClose(u"parse error"_s, EngineIo::errorString(error));
        return;
    }
    exchange.respond(200, {{"Content-Type", "text/html"}}, "ok");
    QPointer<EngineSocketPrivate> self(this); // a handler may delete the session or the server
    for (const Packet &packet : std::as_const(packets)) {
        handlePacket(packet);
        if (!self || state == EngineSocket::State::Closed)
            break;
    }
}

void EngineSocketPrivate::handlePacket(const Packet &packet)
{
    Q_Q(EngineSocket);
    if (lcEngineTraffic().isDebugEnabled())
        logTraffic("->", packet);
    Q_EMIT q->packetReceived(packet.data.size());
    switch (packet.type) {
    case PacketType::Pong:
        if (pongTimer.isActive()) {
            pongTimer.stop();
            schedulePing();
        }
        break;
    case PacketType::Message:
        Q_EMIT q->messageReceived(packet.data, packet.binary);
        break;
    case PacketType::Close:
        onClose(u"transport close"_s, u"client sent a close packet"_s);
        break;
    case PacketType::Open:
        onClose(u"parse error"_s, u"unexpected open packet from the client"_s);
        break;
    case PacketType::Ping:
        // In v4 only the server pings (v3 clients did).
        onClose(u"transport error"_s, u"invalid heartbeat direction"_s);
        break;
    case PacketType::Upgrade:
    case PacketType::Noop:
        break;
    }
}

void EngineSocketPrivate::wsText(WsConnection *connection, const QByteArray &utf8)
{
    if (connection == probe)
        onProbeText(utf8);
    else if (connection == ws)
        onWebSocketText(utf8);
}

void EngineSocketPrivate::wsBinary(WsConnection *connection, const QByteArray &bytes)
{
    if (connection == probe)
        discardProbe(u"binary frame during the probe"_s);
    else if (connection == ws)
        onWebSocketBinary(bytes);
}

void EngineSocketPrivate::wsWritten(WsConnection *connection)
{
    Q_Q(EngineSocket);
    if (connection != ws)
        return;
    if (congested)
        updateCongestion();
    if (connection->bytesToWrite() == 0)
        Q_EMIT q->drained();
}

void EngineSocketPrivate::wsClosed(WsConnection *connection, int code, const QString &reason)
{
    if (connection == probe) {
        discardProbe(u"probe connection closed"_s);
        return;
    }
    if (connection != ws)
        return;
    ws = nullptr;
    server->retire(connection);
    if (code == WsConnection::CloseTooBig) {
        qCWarning(lcEngine) << "session" << id << "sent a message over maxPayload"
                            << server->options.maxHttpBufferSize;
        onClose(u"transport error"_s, u"message larger than maxPayload"_s);
    } else if (code == WsConnection::CloseProtocolError || code == WsConnection::CloseInvalidData) {
        qCDebug(lcEngine) << "session" << id << "broke the WebSocket protocol:" << reason;
        onClose(u"transport error"_s, reason);
    } else {
        onClose(u"transport close"_s, reason);
    }
}

void EngineSocketPrivate::attachWebSocket(WsConnection *connection)
{
    transport = Transport::WebSocket;
    ws = connection;
    connection->setReceiver(this);
    ws->sendMessage(
        EngineMessage(Packet::text(PacketType::Open, server->openPacket(id, /*polling*/ false))));
}

void EngineSocketPrivate::onWebSocketText(const QByteArray &utf8)
{
    Packet packet;
    const EngineIo::DecodeError error = EngineIo::decodeTextFrame(utf8, &packet);
    if (error != EngineIo::DecodeError::None) {
        qCWarning(lcEngine) << "session" << id
                            << "sent a malformed packet:" << EngineIo::errorString(error);
        onClose(u"parse error"_s, EngineIo::errorString(error));
        return;
    }
    handlePacket(packet);
}

void EngineSocketPrivate::onWebSocketBinary(const QByteArray &bytes)
{
    handlePacket(EngineIo::decodeBinaryFrame(bytes));
}

void EngineSocketPrivate::attachProbe(WsConnection *connection)
{
    probe = connection;
    connection->setReceiver(this);
    upgradeTimer.start(server->options.upgradeTimeout);
}

void EngineSocketPrivate::onProbeText(const QByteArray &text)
{
    if (text == "2probe" && !probed) {
        probed = true;
        probe->sendText("3probe");
        // The client pauses polling before it sends the upgrade packet: let its poll return.
        releaseHeldPoll();
        noopTimer.start(noopInterval);
    } else if (text == "5" && probed) {
        completeUpgrade();
    } else {
        discardProbe(
            u"unexpected packet during the probe: %1"_s.arg(QString::fromUtf8(text.left(50))));
    }
}

void EngineSocketPrivate::completeUpgrade()
{
    Q_Q(EngineSocket);
    upgradeTimer.stop();
    noopTimer.stop();
    releaseHeldPoll();
    transport = Transport::WebSocket;
    ws = std::exchange(probe, nullptr);
    probed = false;
    for (const Packet &packet : std::as_const(buffer))
        ws->sendMessage(EngineMessage(packet));
    buffer.clear();
    bufferBytes = 0;
    if (congested)
        updateCongestion(); // the queue moved into the WebSocket; it did not shrink
    qCDebug(lcEngine) << "session" << id << "upgraded to websocket";
    Q_EMIT q->upgraded(u"websocket"_s);
}

void EngineSocketPrivate::discardProbe(const QString &why)
{
    upgradeTimer.stop();
    noopTimer.stop();
    probed = false;
    if (WsConnection *p = std::exchange(probe, nullptr)) {
        qCDebug(lcEngine) << "session" << id << "upgrade abandoned:" << why;
        server->retire(p);
    }
}

void EngineSocketPrivate::beginClose(const QString &reason)
{
    if (state != EngineSocket::State::Open)
        return;
    discardProbe(u"session closing"_s);
    state = EngineSocket::State::Closing;
    // The session ends for `reason` now, not for a heartbeat missed meanwhile, nor for a slow
    // client (closeTimeout bounds the wait).
    pingTimer.stop();
    pongTimer.stop();
    slowTimer.stop();
    closeReason = reason;
    if (transport == Transport::WebSocket) {
        onClose(reason); // retire() lets what was written go out first
        return;
    }
    if (heldPoll) {
        Http::Exchange exchange = takeHeldPoll();
        buffer.append(Packet::text(PacketType::Close));
        answerPoll(exchange, takeBuffer());
        onClose(reason);
        return;
    }
    // Wait for the client's next poll to hand it what is queued and the close packet.
    closeTimer.start(server->options.closeTimeout);
}

void EngineSocketPrivate::onClose(const QString &reason, const QString &description)
{
    Q_Q(EngineSocket);
    if (state == EngineSocket::State::Closed)
        return;
    state = EngineSocket::State::Closed;
    pingTimer.stop();
    pongTimer.stop();
    upgradeTimer.stop();
    noopTimer.stop();
    closeTimer.stop();
    slowTimer.stop();
    if (heldPoll) {
        Http::Exchange exchange = takeHeldPoll();
        answerPoll(exchange, "1");
    }
    if (WsConnection *p = std::exchange(probe, nullptr))
        server->retire(p);
    if (WsConnection *w = std::exchange(ws, nullptr))
        server->retire(w);
    buffer.clear();
    bufferBytes = 0;
    qCDebug(lcEngine) << "session" << id << "closed:" << reason << description;
    server->removeSession(q);
    QPointer<EngineSocket> self(q); // a slot may delete the server, and the session with it
    Q_EMIT q->closed(reason, description);
    if (self)
        q->deleteLater();
}

EngineSocket::EngineSocket(
    EngineServerPrivate *server, const QString &id, const EngineHandshake &handshake)
    : d_ptr(std::make_unique<EngineSocketPrivate>(this, server, id, handshake))
{
}

EngineSocket::~EngineSocket() = default;

QString EngineSocket::id() const
{
    return d_func()->id;
}

QString EngineSocket::transport() const
{
    return d_func()->transport == EngineSocketPrivate::Transport::WebSocket ? u"websocket"_s
                                                                            : u"polling"_s;
}

EngineSocket::State EngineSocket::state() const
{
    return d_func()->state;
}

const EngineHandshake &EngineSocket::handshake() const
{
    return d_func()->handshake;
}

EngineServer *EngineSocket::server() const
{
    return d_func()->server->q_ptr;
}

bool EngineSocket::send(const QByteArray &utf8Text)
{
    return d_func()->enqueue(EngineMessage::text(utf8Text));
}

bool EngineSocket::sendBinary(const QByteArray &bytes)
{
    return d_func()->enqueue(EngineMessage::binary(bytes));
}

bool EngineSocket::sendPacket(const EngineIo::Packet &packet)
{
    return d_func()->enqueue(EngineMessage(packet));
}

bool EngineSocket::sendMessage(const EngineMessage &message)
{
    return d_func()->enqueue(message);
}

bool EngineSocket::sendVolatile(const QList<EngineMessage> &messages)
{
    Q_D(EngineSocket);
    if (d->state != State::Open)
        return false;
    if (!isWritable()) {
        ++d->droppedVolatile;
        qCDebug(lcEngineTraffic).noquote()
            << d->id << "<- dropped a volatile message"
            << (d->congested ? u"(over maxBufferedBytes)"_s : u"(transport busy)"_s)
            << d->droppedVolatile << "so far";
        return false;
    }
    for (const EngineMessage &message : messages)
        d->enqueue(message);
    return true;
}

bool EngineSocket::isWritable() const
{
    Q_D(const EngineSocket);
    if (d->state != State::Open || d->congested)
        return false;
    if (d->transport == EngineSocketPrivate::Transport::WebSocket)
        return d->ws && d->ws->bytesToWrite() < writableLimit;
    return d->heldPoll.has_value() && d->buffer.isEmpty();
}

qint64 EngineSocket::bufferedBytes() const
{
    Q_D(const EngineSocket);
    return d->bufferBytes + (d->ws ? d->ws->bytesToWrite() : 0);
}

bool EngineSocket::isCongested() const
{
    return d_func()->congested;
}

qint64 EngineSocket::droppedVolatileCount() const
{
    return d_func()->droppedVolatile;
}

void EngineSocket::close(const QString &reason)
{
    d_func()->beginClose(reason);
}

} // namespace QSocketIo
