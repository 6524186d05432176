#pragma once

#include "socketnamespace.h"

#include "../engine/engineoptions.h"
#include "../engine/engineserver.h"

#include <QtCore/qregularexpression.h>

namespace QSocketIo {

class Socket;
class SocketServerPrivate;

// python-socketio's server options, in C++ case, on top of the Engine.IO ones.
struct QSOCKETIO_EXPORT SocketServerOptions : EngineOptions
{
    SocketServerOptions() { path = QStringLiteral("/socket.io/"); }

    // Namespaces clients may connect to besides those created with of(): empty means only
    // those; {"*"} means any (created on first connect).
    QStringList namespaces;
    // python-socketio's always_connect: send the CONNECT reply before the connect handlers
    // run, and a disconnect if they then refuse.
    bool alwaysConnect = false;
    // A connection that joins no namespace in this time is closed.
    ms connectTimeout {45000};
    // Most binary attachments one packet may announce.
    int maxAttachments = 10;
    // Node's cleanupEmptyChildNamespaces: a namespace made on demand (a dynamic child, or one
    // `namespaces` allowed) goes when its last socket leaves, so clients cannot pile them up.
    bool cleanupEmptyChildNamespaces = false;
    // Default timeout of emitWithAck() calls that give none (0: wait for ever).
    ms ackTimeout {0};
    // python-socketio's `logger`: switches the qsocketio.socket category to debug.
    bool logger = false;
    // Makes every namespace's adapter (default: in memory).
    std::function<class Adapter *(Namespace *)> adapterFactory;
};

// Where SocketServer::emitEvent() sends: python-socketio's keyword arguments, chained.
//     server.emitEvent("news", {data}, EmitOptions().to("lobby").skipSid(sid).nsp("/chat"));
class QSOCKETIO_EXPORT EmitOptions
{
public:
    // A room or a socket id (python's `to` and `room`); several calls add several.
    EmitOptions &to(const QString &roomOrSid)
    {
        m_rooms.append(roomOrSid);
        return *this;
    }
    EmitOptions &room(const QString &room) { return to(room); }
    EmitOptions &skipSid(const QString &sid)
    {
        m_skipSids.append(sid);
        return *this;
    }
    EmitOptions &nsp(const QString &nsp)
    {
        m_nsp = nsp;
        return *this;
    }

    QStringList rooms() const { return m_rooms; }
    QStringList skipSids() const { return m_skipSids; }
    QString nsp() const { return m_nsp; }

private:
    QStringList m_rooms;
    QStringList m_skipSids;
    QString m_nsp = QStringLiteral("/");
};

// The application's default server (python's socket_api()): the first SocketServer made, or
// the one given to setDefault(). Null when there is none.
QSOCKETIO_EXPORT SocketServer *socketApi();

// A Socket.IO v5 server: namespaces, rooms, acks, binary, on the Engine.IO server.
class QSOCKETIO_EXPORT SocketServer : public QObject
{
    Q_OBJECT
public:
    explicit SocketServer(const SocketServerOptions &options = {}, QObject *parent = nullptr);
    ~SocketServer() override;

    const SocketServerOptions &options() const;
    EngineServer *engine() const;

    // Makes this the server socketApi() returns.
    void setDefault();

    bool attach(QHttpServer *server);
    bool listen(const QHostAddress &address = QHostAddress::Any, quint16 port = 0);
    quint16 serverPort() const;
    QString errorString() const;

    // The namespace of that name, created when missing ("/chat"; "chat" is the same).
    Namespace *of(const QString &name);
    // Dynamic namespaces: names matching the pattern (or accepted by the callback) are created
    // when a client connects; `of()` returns the parent, whose middlewares and handlers each
    // child gets.
    Namespace *of(const QRegularExpression &pattern);
    Namespace *of(std::function<bool(const QString &name, const QVariant &auth)> accept);
    Namespace *existingNamespace(const QString &name) const;
    QList<Namespace *> namespaces() const;

    // python-socketio's server-level API, by socket id.
    bool emitEvent(
        const QString &event, const QVariantList &args = {}, const EmitOptions &options = {});
    bool enterRoom(
        const QString &sid, const QString &room, const QString &nsp = QStringLiteral("/"));
    bool leaveRoom(
        const QString &sid, const QString &room, const QString &nsp = QStringLiteral("/"));
    QStringList rooms(const QString &sid, const QString &nsp = QStringLiteral("/")) const;
    bool disconnect(const QString &sid, const QString &nsp = QStringLiteral("/"));
    Socket *socket(const QString &sid, const QString &nsp = QStringLiteral("/")) const;

    QList<HandlerInfo> handlers() const;

    // Where the server answers: its path, transports, and how it is reached.
    struct Route
    {
        QString path;
        QStringList transports;
        QString mount; // "listening on ADDRESS:PORT" or "attached to an application's QHttpServer"
    };
    QList<Route> routes() const;

    // Graceful shutdown: no new connections; acks the server still waits for get up to `timeout`;
    // then every socket ends ("server shutting down") and each connection closes after what was
    // queued, without a DISCONNECT packet (clients reconnect to the next server, as from Node's
    // io.close()); closed() follows. Also run (waiting for it) when the application quits.
    void close(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    bool isClosing() const;

Q_SIGNALS:
    void closed();

private:
    friend class Namespace;
    friend class NamespacePrivate;
    friend class Client;
    Q_DECLARE_PRIVATE(SocketServer)
    std::unique_ptr<SocketServerPrivate> d_ptr;
};

} // namespace QSocketIo
