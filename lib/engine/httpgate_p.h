#pragma once

// The "peek listener": every TCP connection of the server's port passes through a gate that reads
// (without consuming) each request head before QtHttpServer sees it. It enforces the limits that
// QtHttpServer 6.4 lacks (head size, body size, slow heads), honours `Connection: close`, and
// takes WebSocket upgrades for the engine path away from QtHttpServer to our QWebSocketServer.

#include "engineoptions.h"
#include "httpadapter_p.h"

#include <QtCore/qbasictimer.h>
#include <QtCore/qpointer.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtNetwork/qtcpserver.h>

class QHttpServer;

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

class EngineListener : public QTcpServer
{
    Q_OBJECT
public:
    struct Hooks
    {
        std::function<bool(const QString &path)> isEnginePath;
        // Whether requests for other paths have a handler (an attached application server);
        // when not, they are answered 404 from their head, before any body is read.
        std::function<bool()> servesOtherPaths;
        // Takes ownership of `socket`, whose unread bytes start with the upgrade request.
        std::function<void(QTcpSocket *socket, const RequestHead &head)> takeUpgrade;
        // Sees the head of every other engine-path request before its body is read. Returns an
        // empty body to let it through, or the JSON error body of a 400 that refuses it.
        std::function<QByteArray(QTcpSocket *socket, const RequestHead &head)> checkHead;
    };

    EngineListener(const EngineOptions &options, Hooks hooks, QObject *parent = nullptr);

    void setHttpServer(QHttpServer *server) { m_http = server; }
    QHttpServer *httpServer() const { return m_http; }
    const EngineOptions &options() const { return m_options; }
    const Hooks &hooks() const { return m_hooks; }
    void handToHttp(QTcpSocket *socket) { addPendingConnection(socket); }

    // Writes a complete response and closes the connection once it is sent.
    static void reject(QTcpSocket *socket, int status, const QByteArray &contentType,
                       const QByteArray &body, const Http::HeaderList &extraHeaders = {});

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    const EngineOptions &m_options;
    Hooks m_hooks;
    QPointer<QHttpServer> m_http;
};

// Follows one connection's byte stream: request heads, then bodies by Content-Length or chunks.
class ConnectionGate : public QObject
{
    Q_OBJECT
public:
    ConnectionGate(QTcpSocket *socket, EngineListener *listener);

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    enum class State { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer };

    void beforeHttp();
    void afterHttp();
    // Consumes `data` (new bytes); returns false when the connection was rejected or taken away.
    bool analyze(QByteArrayView data);
    bool onHead(const RequestHead &head);
    bool endOfRequest();
    void fail(int status, const QByteArray &message,
              const QByteArray &contentType = "text/plain; charset=UTF-8");
    void detachFromHttp();
    void handToHttpOnce();

    QTcpSocket *m_socket;
    EngineListener *m_listener;
    bool m_handed = false;   // QtHttpServer reads this connection
    bool m_enginePath = false; // the current request is ours, so our body limit applies
    bool m_closeRequested = false;
    qsizetype m_analyzed = 0; // unread bytes at the socket's front already analyzed
    State m_state = State::Head;
    QByteArray m_line;        // the head (or chunk-size / trailer line) being accumulated
    qint64 m_remaining = 0;   // bytes left in the body or chunk
    qint64 m_bodySize = 0;    // chunked bodies: bytes so far
    QBasicTimer m_headTimer;
};

} // namespace QSocketIo
