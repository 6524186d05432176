#pragma once

#include "engineoptions.h"
#include "enginesocket.h"

#include <QtCore/qobject.h>
#include <QtNetwork/qhostaddress.h>

#include <memory>

class QHttpServer;
class QWebSocket;

namespace QSocketIo {

class EngineServerPrivate;

// An Engine.IO v4 server: long-polling and WebSocket on one port and path, with the upgrade
// between them and the heartbeat. Usable on its own (each message is a QByteArray) or as the
// transport of SocketServer.
class QSOCKETIO_EXPORT EngineServer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(int clientsCount READ clientsCount NOTIFY clientsCountChanged)

public:
    // Engine.IO's error codes, sent as {"code":N,"message":"..."} with HTTP 400 (403 for
    // Forbidden).
    enum class ErrorCode {
        UnknownTransport = 0,
        UnknownSid = 1,
        BadHandshakeMethod = 2,
        BadRequest = 3,
        Forbidden = 4,
        UnsupportedProtocolVersion = 5,
    };
    Q_ENUM(ErrorCode)

    explicit EngineServer(const EngineOptions &options = {}, QObject *parent = nullptr);
    ~EngineServer() override;

    const EngineOptions &options() const;

    // Serve on an application's QHttpServer: our route sits beside the application's, and the
    // port opened by listen() then serves both. Call before listen(); the server must outlive
    // this object.
    bool attach(QHttpServer *server);

    // May be called several times (IPv4 and IPv6, several ports). Port 0 picks a free port.
    bool listen(const QHostAddress &address = QHostAddress::Any, quint16 port = 0);
    bool isListening() const;
    quint16 serverPort() const; // the first listening port
    QList<quint16> serverPorts() const;
    QString errorString() const;
    // The HTTP server in use: the attached one, or our own once listen() made it. Another
    // EngineServer may attach to it to serve its own path on the same port.
    QHttpServer *httpServer() const;

    // Node's allowRequest: refuse a handshake (HTTP 403, code 4 "Forbidden") by returning false.
    // It may run more than once for one connection attempt: keep it free of side effects.
    void setAllowRequest(std::function<bool(const EngineHandshake &)> allow);

    QList<EngineSocket *> sockets() const;
    EngineSocket *socket(const QString &id) const;
    int clientsCount() const;

    // Stop taking new connections; sessions go on.
    void stopListening();

    // Graceful close: stop accepting, let queued packets out, close every session with
    // reason "server shutting down", then emit closed().
    void close();
    bool isClosing() const;

Q_SIGNALS:
    void newConnection(QSocketIo::EngineSocket *socket);
    void clientsCountChanged();
    // A request refused with an Engine.IO error (Node's "connection_error").
    void connectionError(
        QSocketIo::EngineServer::ErrorCode code, const QString &message, const QString &detail);
    void closed();
    // Attached to an application's QHttpServer, the engine takes the WebSockets that server
    // upgrades (it has one queue for every path): those for the application's own paths come
    // here, owned by the receiver. Without a receiver they are closed.
    void otherWebSocket(QWebSocket *socket);

private:
    friend class EngineServerPrivate;
    bool hasOtherWebSocketReceiver() const;
    Q_DECLARE_PRIVATE(EngineServer)
    std::unique_ptr<EngineServerPrivate> d_ptr;
};

} // namespace QSocketIo
