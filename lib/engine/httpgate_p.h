#pragma once

// The "peek listener": every TCP connection of the server's port passes through a gate that reads
// (without consuming) each request head before QtHttpServer sees it. It enforces the limits that
// QtHttpServer 6.4 lacks (head size, body size, slow heads), honours `Connection: close`, and
// takes WebSocket upgrades for the engine path away from QtHttpServer to our QWebSocketServer.

#include "deadlinetimers_p.h"
#include "engineoptions.h"
#include "httpadapter_p.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qpointer.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtNetwork/qtcpserver.h>

class QHttpServer;
class QWebSocket;

namespace QSocketIo {

struct RequestHead
{
    QByteArray method;
    QByteArray target;
    QByteArray version;
    Http::HeaderList headers;

    QByteArray header(QByteArrayView name) const { return Http::headerValue(headers, name); }
    // The decoded path, as QtHttpServer routes it (origin-form and absolute-form targets).
    QString path() const;
    bool isWebSocketUpgrade() const;
    bool wantsClose() const;
};

// Parses "METHOD target HTTP/1.x\r\nName: value\r\n...\r\n\r\n". False on anything malformed.
bool parseRequestHead(QByteArrayView head, RequestHead *out);

// What the listener asks of an engine server whose path a request names.
class EngineEndpoint
{
public:
    virtual ~EngineEndpoint() = default;
    virtual const EngineOptions &endpointOptions() const = 0;
    virtual bool isEnginePath(const QString &path) const = 0;
    // Takes ownership of `socket`, whose unread bytes start with the upgrade request.
    virtual void takeUpgrade(QTcpSocket *socket, const RequestHead &head) = 0;
    // Sees the head of every other request for the engine before its body is read. Returns an
    // empty body to let it through, or the JSON error body of a 400 that refuses it.
    virtual QByteArray checkHead(QTcpSocket *socket, const RequestHead &head) = 0;
    // A WebSocket that QtHttpServer upgraded by itself for the engine's path.
    virtual void takeWebSocket(QWebSocket *ws) = 0;
    // One for another path of an application's server: true when the application takes it.
    virtual bool takeForeignWebSocket(QWebSocket *ws) = 0;
};

// The engine servers served by one QHttpServer (several may share it, each on its own path),
// and its listeners. A child of the QHttpServer.
class EngineMount : public QObject
{
    Q_OBJECT
public:
    static EngineMount *of(QHttpServer *http);

    void add(EngineEndpoint *endpoint) { m_endpoints.append(endpoint); }
    void remove(EngineEndpoint *endpoint) { m_endpoints.removeAll(endpoint); }
    EngineEndpoint *find(const QString &path) const;
    // False when the QHttpServer belongs to an engine (no application routes): requests for
    // other paths are then answered 404 from their head, before any body is read.
    bool servesOtherPaths() const { return m_servesOtherPaths; }
    void setServesOtherPaths(bool serves) { m_servesOtherPaths = serves; }
    // Largest body a request for another path may announce (-1: no limit, the application's
    // own QHttpServer decides); larger ones get 413 before the body is read.
    qint64 otherPathsBodyLimit() const { return m_otherPathsBodyLimit; }
    void setOtherPathsBodyLimit(qint64 limit) { m_otherPathsBodyLimit = limit; }

private:
    explicit EngineMount(QHttpServer *http);
    void takeWebSockets();

    QHttpServer *m_http;
    QList<EngineEndpoint *> m_endpoints;
    bool m_servesOtherPaths = true;
    qint64 m_otherPathsBodyLimit = -1;
};

class EngineListener : public QTcpServer
{
    Q_OBJECT
public:
    // `options` (of the engine that listens) sets the connection-level limits and TLS.
    EngineListener(const EngineOptions &options, EngineMount *mount, QObject *parent = nullptr);

    QHttpServer *httpServer() const
    {
        return m_mount ? qobject_cast<QHttpServer *>(m_mount->parent()) : nullptr;
    }
    const EngineOptions &options() const { return m_options; }
    EngineMount *mount() const { return m_mount; }
    void handToHttp(QTcpSocket *socket) { addPendingConnection(socket); }

    // Writes a complete response and closes the connection once it is sent.
    static void reject(QTcpSocket *socket, int status, const QByteArray &contentType,
        const QByteArray &body, const Http::HeaderList &extraHeaders = {});

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    const EngineOptions &m_options;
    QPointer<EngineMount> m_mount;
};

// Follows one connection's byte stream: request heads, then bodies by Content-Length or chunks.
class ConnectionGate : public QObject
{
    Q_OBJECT
public:
    ConnectionGate(QTcpSocket *socket, EngineListener *listener);

private:
    enum class State { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer };

    void beforeHttp();
    void afterHttp();
    // Consumes `data` (new bytes); returns false when the connection was rejected or taken away.
    bool analyze(QByteArrayView data);
    bool onHead(const RequestHead &head);
    void endOfRequest();
    void fail(int status, const QByteArray &message,
        const QByteArray &contentType = "text/plain; charset=UTF-8");
    void detachFromHttp();
    void handToHttpOnce();
    void onIdleTimer();
    void onRequestTimeout();

    QTcpSocket *m_socket;
    EngineListener *m_listener;
    bool m_handed = false; // QtHttpServer reads this connection
    qint64 m_bodyLimit = -1; // the current request's engine's limit; -1: not an engine request
    bool m_closeRequested = false;
    qsizetype m_analyzed = 0; // unread bytes at the socket's front already analyzed
    State m_state = State::Head;
    QByteArray m_line; // the head (or chunk-size / trailer line) being accumulated
    qint64 m_remaining = 0; // bytes left in the body or chunk
    qint64 m_bodySize = 0; // chunked bodies: bytes so far
    // Runs from a request's first byte to the end of its body.
    DeadlineTimer m_requestTimer {[this] { onRequestTimeout(); }};
    DeadlineTimer m_idleTimer {[this] { onIdleTimer(); }}; // checks m_lastActivity now and then
    QElapsedTimer m_lastActivity;
    qint64 m_idleLimit;
};

} // namespace QSocketIo
