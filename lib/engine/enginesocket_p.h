#pragma once

#include "deadlinetimers_p.h"
#include "enginesocket.h"
#include "httpadapter_p.h"

#include <QtCore/qpointer.h>

#include <optional>

class QWebSocket;

namespace QSocketIo {

class EngineServerPrivate;

class EngineSocketPrivate : public QObject
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

    QWebSocket *ws = nullptr; // the WebSocket transport, once upgraded (or from the start)
    QWebSocket *probe = nullptr; // a WebSocket that is being probed for the upgrade
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
    void attachWebSocket(QWebSocket *socket); // WebSocket-only session, from the handshake
    void attachProbe(QWebSocket *socket);
    bool isUpgradedOrUpgrading() const { return transport == Transport::WebSocket || probe; }

    bool enqueue(const EngineMessage &message);
    void logTraffic(const char *direction, const EngineIo::Packet &packet) const;
    static void writeToWebSocket(QWebSocket *socket, const EngineMessage &message);
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
    void onWebSocketText(const QString &text);
    void onWebSocketBinary(const QByteArray &bytes);
    void onProbeText(const QString &text);
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
    void setupWebSocket(QWebSocket *socket);
    // Closes after what was written went out; `owner` (the server) deletes it if the close
    // handshake has not finished by the time the server goes.
    static void closeWebSocket(QWebSocket *socket, QObject *owner);
};

} // namespace QSocketIo
