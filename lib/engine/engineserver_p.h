#pragma once

#include "engineserver.h"
#include "httpadapter_p.h"
#include "httpgate_p.h"
#include "wsconnection_p.h"
#include "wsthreads_p.h"

#include <QtCore/qhash.h>
#include <QtCore/qpointer.h>
#include <QtHttpServer/qhttpserver.h>

class QWebSocket;
class QWebSocketServer;

namespace QSocketIo {

class EngineServerPrivate : public EngineEndpoint
{
    Q_DECLARE_PUBLIC(EngineServer)
public:
    EngineServerPrivate(EngineServer *q, const EngineOptions &options);
    ~EngineServerPrivate() override;

    // EngineEndpoint
    const EngineOptions &endpointOptions() const override { return options; }
    bool isEnginePath(const QString &path) const override;
    void takeUpgrade(QTcpSocket *socket, const RequestHead &head) override;
    QByteArray checkHead(QTcpSocket *socket, const RequestHead &head) override;
    void takeWebSocket(QWebSocket *ws) override { attachQWebSocket(ws, false); }
    bool takeForeignWebSocket(QWebSocket *ws) override;

    EngineServer *q_ptr;
    EngineOptions options;
    QPointer<QHttpServer> http;
    QList<EngineListener *> listeners;
    QWebSocketServer *webSockets = nullptr;
    QHash<QString, EngineSocket *> sessions;
    QSet<WsConnection *> retiring;
    std::vector<std::unique_ptr<WsWorker>> workers; // EngineOptions::workerThreads, made lazily
    size_t nextWorker = 0;
    // Connections on which a long-poll is held, so a second request on the same connection can
    // release it first (QtHttpServer 6.4 does not order responses per connection).
    QHash<QTcpSocket *, EngineSocket *> heldPolls;
    std::function<bool(const EngineHandshake &)> allowRequest;
    QString errorString;
    bool closing = false; // close() was called; no new sessions
    bool closeSignalled = false;

    QHttpServer *ensureHttp();
    void handleHttp(Http::Request &&request, Http::Exchange &&exchange);
    void onWebSocketConnected();
    // `verified`: the upgrade request passed verifyUpgrade() before its handshake. WebSockets
    // that QtHttpServer upgraded by itself are checked here (its answer to a refused request
    // went out already; the socket is then only closed).
    void attachQWebSocket(QWebSocket *ws, bool verified);
    // A handshaken WebSocket for the engine's path: a new session, or the probe of an upgrade.
    // Takes ownership of `connection`.
    void attachWebSocket(WsConnection *connection, const QUrl &url, const QUrlQuery &query,
        const Http::HeaderList &headers, const QHostAddress &peer, quint16 peerPort,
        bool secure, bool verified);
    // Our own WebSocket handshake on a plain TCP connection (see wsconnection_p.h).
    void acceptRawUpgrade(QTcpSocket *socket, const RequestHead &head, const QUrlQuery &query);
    // Closes a connection no session uses any more, gracefully: what it holds goes out, then
    // the close handshake (5 s at most). The server deletes those still closing when it goes.
    void retire(WsConnection *connection);
    void startWorkers(); // EngineOptions::workerThreads, once
    void mount(QHttpServer *server);

    // Validation shared by both transports; returns the error, or -1 when the request is fine.
    struct Verdict
    {
        int code = -1;
        QString detail;
        bool originAllowed = true; // no Origin header, or one CORS allows
    };
    Verdict verify(const QByteArray &method, const QUrlQuery &query,
        const Http::HeaderList &headers, bool secure, bool upgrade) const;
    bool originAllowed(
        const QByteArray &origin, const Http::HeaderList &headers, bool secure) const;
    // The checks an upgrade request passes before its WebSocket handshake, whichever component
    // parsed it (our listener, or an attached QHttpServer listening on its own).
    Verdict verifyUpgrade(const QUrlQuery &query, const Http::HeaderList &headers,
        const QHostAddress &peer, quint16 peerPort, bool secure) const;
    Http::HeaderList corsHeaders(
        const Http::HeaderList &requestHeaders, bool originAllowed, bool preflight) const;
    void refuse(Http::Exchange &exchange, const Verdict &verdict, const Http::HeaderList &cors);
    static QByteArray errorBody(int code);
    static int errorStatus(int code) { return code == 4 ? 403 : 400; }

    EngineSocket *createSession(const EngineHandshake &handshake);
    void removeSession(EngineSocket *socket);
    QByteArray openPacket(const QString &sid, bool polling) const;
    Http::HeaderList cookieHeaders(const QString &sid) const;
    void finishCloseIfDone();
};

} // namespace QSocketIo
