#pragma once

#include "../codec/enginecodec.h"
#include "../qsocketioglobal.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qobject.h>
#include <QtCore/qurl.h>
#include <QtCore/qurlquery.h>
#include <QtNetwork/qhostaddress.h>

#include <memory>

namespace QSocketIo {

class EngineServer;
class EngineServerPrivate;
class EngineSocketPrivate;

// What the client's first request (the handshake) carried.
struct QSOCKETIO_EXPORT EngineHandshake
{
    QUrl url;
    QUrlQuery query;
    QList<QPair<QByteArray, QByteArray>> headers;
    QHostAddress remoteAddress;
    quint16 remotePort = 0;
    bool secure = false;
    QDateTime issued;

    QByteArray header(QByteArrayView name) const; // case-insensitive, empty when absent
};

// A message prepared once for any number of sessions (a broadcast): what each transport needs
// of it is made on first use and shared, so sending it to many sessions copies nothing.
class QSOCKETIO_EXPORT EngineMessage
{
public:
    explicit EngineMessage(const EngineIo::Packet &packet);
    static EngineMessage text(const QByteArray &utf8);
    static EngineMessage binary(const QByteArray &bytes);

    const EngineIo::Packet &packet() const;
    // The WebSocket text frame ("4" + data) as QWebSocket takes it; text packets only.
    const QString &webSocketText() const;
    // The whole WebSocket frame (header and payload, as a server sends it): text or binary.
    const QByteArray &webSocketFrame() const;

private:
    struct Data;
    std::shared_ptr<Data> d;
};

// One Engine.IO session. Owned by its EngineServer; deleted (deleteLater) after closed().
class QSOCKETIO_EXPORT EngineSocket : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString id READ id CONSTANT)
    Q_PROPERTY(QString transport READ transport NOTIFY upgraded)
    Q_PROPERTY(State state READ state)
    // No notify signal: it changes with every packet, and watching it must cost nothing.
    Q_PROPERTY(qint64 bufferedBytes READ bufferedBytes)
    Q_PROPERTY(bool congested READ isCongested NOTIFY congestionChanged)
    Q_PROPERTY(qint64 droppedVolatileCount READ droppedVolatileCount)

public:
    enum class State { Open, Closing, Closed };
    Q_ENUM(State)

    ~EngineSocket() override;

    QString id() const;
    QString transport() const; // "polling" or "websocket"
    State state() const;
    const EngineHandshake &handshake() const;
    EngineServer *server() const;

    // Queue a message; false when the session is no longer open. Packets are written in order.
    bool send(const QByteArray &utf8Text);
    bool sendBinary(const QByteArray &bytes);
    bool sendPacket(const EngineIo::Packet &packet);
    bool sendMessage(const EngineMessage &message);
    // Messages that are worth sending only now (Socket.IO's volatile emits): queued, all of
    // them, when isWritable(), else dropped, all of them, and counted. False when dropped.
    bool sendVolatile(const QList<EngineMessage> &messages);

    // True when a packet sent now would go out at once rather than wait in a buffer, and the
    // connection is not congested; volatile messages are dropped when this is false.
    bool isWritable() const;
    // Bytes queued for the client but not yet taken by it: the polling buffer (payload bytes),
    // or what the WebSocket has not yet handed to the operating system.
    qint64 bufferedBytes() const;
    // More than EngineOptions::maxBufferedBytes are queued: the slow-client policy applies
    // (volatile messages dropped; closed with reason "send buffer full" if it lasts
    // slowClientTimeout).
    bool isCongested() const;
    // Volatile messages dropped so far (each sendVolatile() call that returned false).
    qint64 droppedVolatileCount() const;

    // Flush what is queued, then end the session (reason "forced close" unless given).
    void close(const QString &reason = QStringLiteral("forced close"));

Q_SIGNALS:
    void messageReceived(const QByteArray &data, bool binary);
    // Every Engine.IO packet in or out (heartbeats included), with its payload size; for
    // traffic statistics such as the admin instrumentation's.
    void packetReceived(qint64 bytes);
    void packetSent(qint64 bytes);
    void upgraded(const QString &transport);
    // Everything queued was written to the transport.
    void drained();
    // The connection went over maxBufferedBytes (true) or back below it (false).
    void congestionChanged(bool congested);
    // reason: "transport close", "transport error", "ping timeout", "parse error", "forced close",
    // "send buffer full" (over maxBufferedBytes for slowClientTimeout) or the reason given to
    // close(); description adds detail for logs.
    void closed(const QString &reason, const QString &description);

private:
    friend class EngineServer;
    friend class EngineServerPrivate;
    EngineSocket(EngineServerPrivate *server, const QString &id, const EngineHandshake &handshake);
    Q_DECLARE_PRIVATE(EngineSocket)
    std::unique_ptr<EngineSocketPrivate> d_ptr;
};

} // namespace QSocketIo
