#pragma once

#include "ack.h"
#include "broadcastoperator.h"

#include "../engine/enginesocket.h"

#include <QtCore/qobject.h>
#include <QtCore/qset.h>
#include <QtCore/qvariant.h>

#include <chrono>
#include <memory>

namespace QSocketIo {

class Namespace;
class SocketServer;
class SocketPrivate;

// What the client's connection carried, for handlers and middlewares (python-socketio's environ
// plus the CONNECT auth payload).
struct QSOCKETIO_EXPORT Handshake
{
    QList<QPair<QByteArray, QByteArray>> headers;
    QUrlQuery query;
    QHostAddress address;
    QDateTime time; // when the Engine.IO connection was made
    QVariant auth; // the CONNECT payload (a map), or invalid
    bool secure = false;
    QUrl url;

    QByteArray header(QByteArrayView name) const; // case-insensitive, empty when absent
    // Node's handshake object (headers with lower-case names, time, address, xdomain, secure,
    // issued, url, query), with `auth` only when asked: the admin UI must never see it.
    QVariantMap toVariantMap(bool withAuth = false) const;
};

// One client in one namespace. Owned by its namespace; deleted (deleteLater) after
// disconnected().
class QSOCKETIO_EXPORT Socket : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString id READ id CONSTANT)
    Q_PROPERTY(bool connected READ isConnected NOTIFY disconnected)

public:
    using Handler = std::function<void(const QVariantList &args, const Ack &ack)>;
    using AnyHandler = std::function<void(const QString &event, const QVariantList &args)>;
    // Sees each incoming event before any handler, and may change its arguments; next() passes
    // it on, next(error) drops it and emits middlewareError() (as Node's socket "error").
    using PacketMiddleware
        = std::function<void(const QString &event, QVariantList &args, const Next &next)>;

    ~Socket() override;

    QString id() const;
    Namespace *nsp() const;
    SocketServer *server() const;
    const Handshake &handshake() const;
    QString transport() const; // of the underlying Engine.IO connection
    EngineSocket *engineSocket() const;
    bool isConnected() const;

    // Per-socket data owned by the application (Node's socket.data). setData() and
    // setDataValue() announce the change through dataChanged(); the admin instrumentation also
    // notices edits made through the reference, after the event handler that made them.
    QVariantMap &data();
    void setData(const QVariantMap &data);
    void setDataValue(const QString &key, const QVariant &value);

    QSet<QString> rooms() const;
    void join(const QString &room);
    void join(const QStringList &rooms);
    void leave(const QString &room);

    bool emitEvent(const QString &event, const QVariantList &args = {});
    // The client's ack arrives through `callback` (or the timeout with timedOut set).
    void emitWithAck(const QString &event, const QVariantList &args, AckCallback callback,
        std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());
    // Signal form: the result arrives as acknowledged(id, args) or ackTimedOut(id).
    qint64 emitWithAck(const QString &event, const QVariantList &args,
        std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());
    // A volatile emit is dropped when the transport cannot take it now, as in Node, and always
    // while the connection is over EngineOptions::maxBufferedBytes (see
    // EngineSocket::droppedVolatileCount()).
    bool emitVolatile(const QString &event, const QVariantList &args = {});

    // To everyone in the namespace (or the given rooms) except this socket.
    BroadcastOperator broadcast() const;
    BroadcastOperator to(const QString &room) const;
    BroadcastOperator except(const QString &room) const;

    void on(const QString &event, Handler handler);
    void onAny(AnyHandler handler);
    void onAnyOutgoing(AnyHandler handler);
    void use(PacketMiddleware middleware);

    // Leave the namespace (reason "server namespace disconnect"); `close` ends the whole
    // connection, every namespace of it.
    void disconnect(bool close = false);
    // QObject::disconnect(receiver) is hidden by the above; a pointer must not turn into `close`.
    // Use QObject::disconnect(socket, ...) to drop signal connections.
    void disconnect(const QObject *receiver) = delete;

Q_SIGNALS:
    void eventReceived(const QString &event, const QVariantList &args, const QSocketIo::Ack &ack);
    void acknowledged(qint64 id, const QVariantList &args);
    void ackTimedOut(qint64 id);
    void middlewareError(const QString &message, const QVariant &data);
    void roomJoined(const QString &room);
    void roomLeft(const QString &room);
    void dataChanged();
    // Before the socket leaves its rooms (they are still readable).
    void disconnecting(const QString &reason);
    // Node's reasons, and "send buffer full" when the connection stayed over
    // EngineOptions::maxBufferedBytes for slowClientTimeout.
    void disconnected(const QString &reason);

private:
    friend class NamespacePrivate;
    friend class SocketServerPrivate;
    friend class Adapter;
    friend class Client;
    Socket(Namespace *nsp, const QString &id, class Client *client, const QVariant &auth);
    Q_DECLARE_PRIVATE(Socket)
    std::unique_ptr<SocketPrivate> d_ptr;
};

} // namespace QSocketIo
