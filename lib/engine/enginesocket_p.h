#pragma once

#include "deadlinetimers_p.h"
#include "enginesocket.h"
#include "httpadapter_p.h"
#include "wsconnection_p.h"

#include <QtCore/qpointer.h>

#include <optional>

namespace QSocketIo {

class EngineServerPrivate;

class EngineSocketPrivate : public QObject, public WsConnection::Receiver
{
    Q_OBJECT
    Q_DECLARE_PUBLIC(EngineSocket)
public:
    enum class Transport { Polling, WebSocket };

    EngineSocketPrivate(EngineSocket *q, EngineServerPrivate *server, const QString &id,
        const EngineHandshake &handshake);
    ~EngineSocketPrivate() override;

    EngineSocket *q_ptr;
    EngineServerPrivate *server;
    QString id;
    EngineHandshake handshake;
    EngineSocket::State state = EngineSocket::State::Open;
    Transport transport = Transport::Polling;
    QString closeReason; // set while closing gracefully

    // Polling: packets wait here until a GET takes them; also holds packets while an upgrade
    // is under way.
    QList<EngineIo::Packet> buffer;
    qint64 bufferBytes = 0;
    std::optional<Http::Exchange> heldPoll;
    bool flushQueued = false;
    // The connection whose POST is being received: a second POST meanwhile is refused, so
    // packets are processed in the order the client sent them.
    QPointer<QTcpSocket> postInProgress;

    WsConnection *ws = nullptr; // the WebSocket transport, once upgraded (or from the start)
    WsConnection *probe = nullptr; // a WebSocket that is being probed for the upgrade
    bool probed = false; // "2probe" answered

    DeadlineTimer pingTimer {[this] { onPingTimer(); }};
    DeadlineTimer pongTimer {[this] { onPongTimeout(); }};
    DeadlineTimer upgradeTimer {
        [this] { discardProbe(QStringLiteral("upgrade not completed in time")); }};
    DeadlineTimer noopTimer {[this] { onNoopTimer(); }};
    DeadlineTimer closeTimer {[this] { onCloseTimeout(); }};

    // The slow-client policy (EngineOptions::maxBufferedBytes, slowClientTimeout).
    bool congested = false;
    qint64 droppedVolatile = 0;
    DeadlineTimer slowTimer {[this] { closeSlowClient(); }}; // runs while congested

    void onPollGet(Http::Exchange &&exchange);
    void onPollPost(const QByteArray &body, Http::Exchange &&exchange);
    // Both take ownership of the connection.
    void attachWebSocket(WsConnection *connection); // WebSocket-only session, from the handshake
    void attachProbe(WsConnection *connection);
    bool isUpgradedOrUpgrading() const { return transport == Transport::WebSocket || probe; }

    bool enqueue(const EngineMessage &message);
    void logTraffic(const char *direction, const EngineIo::Packet &packet) const;
    void flushPoll();
    // Hands the polling buffer over as one payload and empties it.
    QByteArray takeBuffer();
    // Compares what is queued with the bound; enters or leaves the congested state.
    void updateCongestion();
    void closeSlowClient();
    // Removes the held poll from the session and the server's books.
    Http::Exchange takeHeldPoll();
    void releaseHeldPoll(); // answer a held poll with what is buffered, or a noop
    // A destroyed session leaves the server's books without signals.
    void forget();
    void answerPoll(Http::Exchange &exchange, const QByteArray &payload);
    void handlePacket(const EngineIo::Packet &packet);
    void onWebSocketText(const QByteArray &utf8);
    void onWebSocketBinary(const QByteArray &bytes);
    void onProbeText(const QByteArray &text);
    // WsConnection::Receiver, for both `ws` and `probe`
    void wsText(WsConnection *connection, const QByteArray &utf8) override;
    void wsBinary(WsConnection *connection, const QByteArray &bytes) override;
    void wsWritten(WsConnection *connection) override;
    void wsClosed(WsConnection *connection, int code, const QString &reason) override;
    void completeUpgrade();
    void discardProbe(const QString &why);
    void schedulePing();
    void onPingTimer();
    void onPongTimeout();
    void onNoopTimer(); // releases a poll held during an upgrade, every noopInterval
    void onCloseTimeout();
    void beginClose(const QString &reason);
    void finishGracefulClose();
    void onClose(const QString &reason, const QString &description = {});
};

} // namespace QSocketIo
