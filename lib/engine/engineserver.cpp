#include "engineserver.h"

#include "engineserver_p.h"
#include "enginesocket_p.h"
#include "generateid_p.h"
#include "logging_p.h"
#include "epolleventdispatcher.h"

#include <QtCore/qabstracteventdispatcher.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qrandom.h>
#include <QtCore/qtimer.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtNetwork/qsslsocket.h>
#include <QtWebSockets/qwebsocket.h>
#include <QtWebSockets/qwebsocketserver.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>

namespace QSocketIo {

using namespace Qt::StringLiterals;

static EngineHandshake makeHandshake(const QUrl &url, const QUrlQuery &query,
    const Http::HeaderList &headers, const QHostAddress &peer, quint16 peerPort, bool secure);

static const char *const errorMessages[] = {
    "Transport unknown",
    "Session ID unknown",
    "Bad handshake method",
    "Bad request",
    "Forbidden",
    "Unsupported protocol version",
};

EngineServerPrivate::EngineServerPrivate(EngineServer *q, const EngineOptions &opts)
    : q_ptr(q)
    , options(opts)
{
    options.path = EngineOptions::normalizedPath(options.path);
    if (options.engineioLogger)
        const_cast<QLoggingCategory &>(lcEngineTraffic()).setEnabled(QtDebugMsg, true);
    webSockets = new QWebSocketServer(u"QSocketIo"_s, QWebSocketServer::NonSecureMode, q);
    // Sockets are taken as soon as they are handshaken; the limit only guards against a burst
    // arriving within one event-loop turn.
    webSockets->setMaxPendingConnections(100000);
    // Every socket reaches this server through handleConnection() with its whole request head
    // already read and checked by the ConnectionGate, whose requestTimeout has bounded it (the
    // TLS handshake included): a handshake timer per upgrade (a QTimer each, costly to stop in
    // Qt 6.4) would add nothing. Qt 6.4 only starts one for connections to its own listener,
    // which this server never opens; a negative timeout keeps it so should that change.
    webSockets->setHandshakeTimeout(-1);
    QObject::connect(
        webSockets, &QWebSocketServer::newConnection, q, [this] { onWebSocketConnected(); });
}

EngineServerPrivate::~EngineServerPrivate()
{
    qDeleteAll(std::exchange(retiring, {}));
    workers.clear(); // after the connections above told them to drop theirs
    if (http)
        EngineMount::of(http)->remove(this);
}

void EngineServerPrivate::mount(QHttpServer *server)
{
    Q_Q(EngineServer);
    http = server;
    EngineMount::of(server)->add(this);
    Http::addRoute(server, options.path, q,
        [this](Http::Request &&r, Http::Exchange &&e) { handleHttp(std::move(r), std::move(e)); });
}

bool EngineServerPrivate::isEnginePath(const QString &path) const
{
    const QString &p = options.path;
    return path == p || (p.size() > 1 && QStringView(p).chopped(1) == path);
}

QHttpServer *EngineServerPrivate::ensureHttp()
{
    Q_Q(EngineServer);
    if (!http) {
        mount(Http::createServer(q));
        EngineMount::of(http)->setServesOtherPaths(false);
    }
    return http;
}

QByteArray EngineServerPrivate::errorBody(int code)
{
    return R"({"code":)" + QByteArray::number(code) + R"(,"message":")" + errorMessages[code]
        + R"("})";
}

// Whether `origin` is the server's own, as the request reached it or, behind a reverse proxy,
// as the proxy's X-Forwarded-Proto/-Host headers name it (python-engineio does the same).
static bool isSameOrigin(const QString &origin, const Http::HeaderList &headers, bool secure)
{
    auto matches = [&origin](QStringView scheme, const QByteArray &host) {
        return !host.isEmpty() && origin.size() == scheme.size() + 3 + host.size()
            && origin.startsWith(scheme, Qt::CaseInsensitive)
            && QStringView(origin).sliced(scheme.size(), 3) == u"://"
            && QStringView(origin)
                   .sliced(scheme.size() + 3)
                   .compare(QString::fromLatin1(host), Qt::CaseInsensitive)
            == 0;
    };
    if (matches(secure ? u"https" : u"http", Http::headerValue(headers, "host")))
        return true;
    const QByteArray proto
        = Http::headerValue(headers, "x-forwarded-proto").split(',').first().trimmed();
    const QByteArray host
        = Http::headerValue(headers, "x-forwarded-host").split(',').first().trimmed();
    return !proto.isEmpty()
        && matches(
            QString::fromLatin1(proto), host.isEmpty() ? Http::headerValue(headers, "host") : host);
}

bool EngineServerPrivate::originAllowed(
    const QByteArray &origin, const Http::HeaderList &headers, bool secure) const
{
    const CorsAllowedOrigins &cors = options.corsAllowedOrigins;
    const QString o = QString::fromUtf8(origin);
    if (cors.kind() == CorsAllowedOrigins::Kind::SameOrigin)
        return isSameOrigin(o, headers, secure);
    return cors.allows(o, QString());
}

EngineServerPrivate::Verdict EngineServerPrivate::verify(const QByteArray &method,
    const QUrlQuery &query, const Http::HeaderList &headers, bool secure, bool upgrade) const
{
    Verdict v;
    const QByteArray origin = Http::headerValue(headers, "origin");
    v.originAllowed = origin.isEmpty() || originAllowed(origin, headers, secure);
    auto refuse = [&v](int code, const QString &detail) {
        v.code = code;
        v.detail = detail;
        return v;
    };
    const QString transport = query.queryItemValue(u"transport"_s);
    if (!options.transports.contains(transport))
        return refuse(0, u"transport '%1' is not offered"_s.arg(transport));
    if (query.queryItemValue(u"EIO"_s) != u"4")
        return refuse(
            5, u"EIO=%1 requested, only 4 is supported"_s.arg(query.queryItemValue(u"EIO"_s)));
    if (upgrade && transport != u"websocket")
        return refuse(3, u"upgrade request for transport %1"_s.arg(transport));
    const QString sid = query.queryItemValue(u"sid"_s);
    if (!sid.isEmpty()) {
        EngineSocket *s = sessions.value(sid);
        if (!s)
            return refuse(1, u"no session %1"_s.arg(sid));
        if (upgrade && !options.allowUpgrades)
            return refuse(3, u"upgrades are not allowed"_s);
        if (!upgrade && s->transport() != transport)
            return refuse(3, u"session %1 uses %2, not %3"_s.arg(sid, s->transport(), transport));
        if (!upgrade && method != "GET" && method != "POST")
            return refuse(3, u"method %1 on a polling session"_s.arg(QLatin1String(method)));
    } else {
        if (method != "GET")
            return refuse(2, u"handshake with method %1"_s.arg(QLatin1String(method)));
        if (transport == u"websocket" && !upgrade)
            return refuse(3, u"websocket handshake without an Upgrade header"_s);
        if (closing)
            return refuse(3, u"the server is shutting down"_s);
    }
    if (!v.originAllowed)
        return refuse(4, u"origin %1 is not allowed"_s.arg(QString::fromUtf8(origin)));
    return v;
}

Http::HeaderList EngineServerPrivate::corsHeaders(
    const Http::HeaderList &requestHeaders, bool originAllowed, bool preflight) const
{
    const QByteArray origin = Http::headerValue(requestHeaders, "origin");
    if (origin.isEmpty() || !originAllowed
        || options.corsAllowedOrigins.kind() == CorsAllowedOrigins::Kind::Disabled)
        return {};
    Http::HeaderList h;
    h.append({QByteArrayLiteral("Access-Control-Allow-Origin"), origin});
    h.append({QByteArrayLiteral("Vary"), "Origin"});
    if (options.corsCredentials)
        h.append({QByteArrayLiteral("Access-Control-Allow-Credentials"), "true"});
    if (preflight) {
        h.append({QByteArrayLiteral("Access-Control-Allow-Methods"), "OPTIONS, GET, POST"});
        const QByteArray asked
            = Http::headerValue(requestHeaders, "access-control-request-headers");
        if (!asked.isEmpty())
            h.append({QByteArrayLiteral("Access-Control-Allow-Headers"), asked});
    }
    return h;
}

void EngineServerPrivate::refuse(
    Http::Exchange &exchange, const Verdict &verdict, const Http::HeaderList &cors)
{
    Q_Q(EngineServer);
    qCDebug(lcEngine) << "refused:" << errorMessages[verdict.code] << "-" << verdict.detail;
    exchange.setExtraHeaders(cors);
    exchange.respond(
        errorStatus(verdict.code), {{"Content-Type", "application/json"}}, errorBody(verdict.code));
    Q_EMIT q->connectionError(EngineServer::ErrorCode(verdict.code),
        QString::fromLatin1(errorMessages[verdict.code]), verdict.detail);
}

QString generateId()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    // 15 random bytes are exactly 20 URL-safe base64 characters.
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(words), 15)
                                   .toBase64(QByteArray::Base64UrlEncoding));
}

QByteArray EngineServerPrivate::openPacket(const QString &sid, bool polling) const
{
    const bool offerUpgrade
        = polling && options.allowUpgrades && options.transports.contains(u"websocket"_s);
    return R"({"sid":")" + sid.toLatin1() + R"(","upgrades":)"
        + (offerUpgrade ? R"(["websocket"])" : "[]") + R"(,"pingInterval":)"
        + QByteArray::number(qint64(options.pingInterval.count())) + R"(,"pingTimeout":)"
        + QByteArray::number(qint64(options.pingTimeout.count())) + R"(,"maxPayload":)"
        + QByteArray::number(options.maxHttpBufferSize) + "}";
}

Http::HeaderList EngineServerPrivate::cookieHeaders(const QString &sid) const
{
    if (!options.cookie)
        return {};
    const CookieOptions &c = *options.cookie;
    QByteArray value = c.name.toUtf8() + '=' + sid.toLatin1();
    if (!c.path.isEmpty())
        value += "; Path=" + c.path.toUtf8();
    if (c.httpOnly)
        value += "; HttpOnly";
    if (!c.sameSite.isEmpty())
        value += "; SameSite=" + c.sameSite.toUtf8();
    return {{"Set-Cookie", value}};
}

EngineSocket *EngineServerPrivate::createSession(const EngineHandshake &handshake)
{
    Q_Q(EngineServer);
    QString id;
    do {
        id = generateId();
    } while (sessions.contains(id));
    auto *socket = new EngineSocket(this, id, handshake);
    socket->setParent(q);
    sessions.insert(id, socket);
    qCDebug(lcEngine) << "session" << id << "opened from" << handshake.remoteAddress;
    Q_EMIT q->clientsCountChanged();
    return socket;
}

void EngineServerPrivate::removeSession(EngineSocket *socket)
{
    Q_Q(EngineServer);
    if (sessions.remove(socket->id()) == 0)
        return;
    Q_EMIT q->clientsCountChanged();
    finishCloseIfDone();
}

void EngineServerPrivate::finishCloseIfDone()
{
    Q_Q(EngineServer);
    if (closing && !closeSignalled && sessions.isEmpty()) {
        closeSignalled = true;
        QMetaObject::invokeMethod(q, &EngineServer::closed, Qt::QueuedConnection);
    }
}

void EngineServerPrivate::handleHttp(Http::Request &&request, Http::Exchange &&exchange)
{
    Q_Q(EngineServer);
    if (EngineSocket *held = heldPolls.value(exchange.socket()))
        held->d_func()->releaseHeldPoll();
    if (!isEnginePath(request.url.path())) {
        exchange.respond(404, {}, {});
        return;
    }

    if (request.method == "OPTIONS") {
        const QByteArray origin = request.header("origin");
        if (!origin.isEmpty() && !originAllowed(origin, request.headers, request.secure)) {
            refuse(exchange, {4, u"origin %1 is not allowed"_s.arg(QString::fromUtf8(origin))}, {});
            return;
        }
        exchange.setExtraHeaders(corsHeaders(request.headers, true, true));
        exchange.respond(204, {}, {});
        return;
    }

    if (request.method == "POST") {
        // The head of this POST marked its session busy; whatever becomes of it now, it is over.
        if (EngineSocket *s = sessions.value(request.query.queryItemValue(u"sid"_s))) {
            if (s->d_func()->postInProgress == exchange.socket())
                s->d_func()->postInProgress = nullptr;
        }
    }
    if (request.header("upgrade").compare("websocket", Qt::CaseInsensitive) == 0) {
        // An attached QHttpServer that listens on its own port upgrades by itself once this
        // route returns; an answer written here reaches the client first and refuses it.
        const Verdict v = verifyUpgrade(request.query, request.headers, request.remoteAddress,
            request.remotePort, request.secure);
        if (v.code >= 0)
            refuse(exchange, v, {});
        return;
    }
    const Verdict verdict
        = verify(request.method, request.query, request.headers, request.secure, false);
    const Http::HeaderList cors = corsHeaders(request.headers, verdict.originAllowed, false);
    if (verdict.code >= 0) {
        refuse(exchange, verdict, cors);
        return;
    }
    exchange.setExtraHeaders(cors);

    const QString sid = request.query.queryItemValue(u"sid"_s);
    if (sid.isEmpty()) {
        const EngineHandshake hs = makeHandshake(request.url, request.query, request.headers,
            request.remoteAddress, request.remotePort, request.secure);
        if (allowRequest && !allowRequest(hs)) {
            refuse(exchange, {4, u"refused by allowRequest"_s}, cors);
            return;
        }
        EngineSocket *socket = createSession(hs);
        exchange.setExtraHeaders(cors + cookieHeaders(socket->id()));
        socket->d_func()->enqueue(EngineMessage(
            EngineIo::Packet::text(EngineIo::PacketType::Open, openPacket(socket->id(), true))));
        socket->d_func()->onPollGet(std::move(exchange));
        socket->d_func()->schedulePing();
        Q_EMIT q->newConnection(socket);
        return;
    }
    EngineSocket *socket = sessions.value(sid);
    if (request.method == "GET")
        socket->d_func()->onPollGet(std::move(exchange));
    else
        socket->d_func()->onPollPost(request.body, std::move(exchange));
}

static EngineHandshake makeHandshake(const QUrl &url, const QUrlQuery &query,
    const Http::HeaderList &headers, const QHostAddress &peer, quint16 peerPort, bool secure)
{
    EngineHandshake hs;
    hs.url = url;
    hs.query = query;
    hs.headers = headers;
    hs.remoteAddress = peer;
    hs.remotePort = peerPort;
    hs.secure = secure;
    hs.issued = QDateTime::currentDateTimeUtc();
    return hs;
}

EngineServerPrivate::Verdict EngineServerPrivate::verifyUpgrade(const QUrlQuery &query,
    const Http::HeaderList &headers, const QHostAddress &peer, quint16 peerPort, bool secure) const
{
    Verdict verdict = verify("GET", query, headers, secure, true);
    if (verdict.code < 0 && !query.hasQueryItem(u"sid"_s) && allowRequest
        && !allowRequest(makeHandshake({}, query, headers, peer, peerPort, secure)))
        verdict = {4, u"refused by allowRequest"_s};
    return verdict;
}

void EngineServerPrivate::takeUpgrade(QTcpSocket *socket, const RequestHead &head)
{
    Q_Q(EngineServer);
    const QUrlQuery query(QUrl::fromEncoded(head.target));
    const bool secure = qobject_cast<QSslSocket *>(socket) != nullptr;
    const Verdict verdict
        = verifyUpgrade(query, head.headers, socket->peerAddress(), socket->peerPort(), secure);
    if (verdict.code >= 0) {
        qCDebug(lcEngine) << "refused WebSocket upgrade:" << errorMessages[verdict.code] << "-"
                          << verdict.detail;
        const Http::HeaderList cors = corsHeaders(head.headers, verdict.originAllowed, false);
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        EngineListener::reject(
            socket, errorStatus(verdict.code), "application/json", errorBody(verdict.code), cors);
        Q_EMIT q->connectionError(EngineServer::ErrorCode(verdict.code),
            QString::fromLatin1(errorMessages[verdict.code]), verdict.detail);
        return;
    }
    if (secure)
        webSockets->handleConnection(socket); // TLS: QWebSocket on the QSslSocket
    else
        acceptRawUpgrade(socket, head, query);
}

bool EngineServerPrivate::takeForeignWebSocket(QWebSocket *ws)
{
    Q_Q(EngineServer);
    if (!q->hasOtherWebSocketReceiver())
        return false;
    Q_EMIT q->otherWebSocket(ws);
    return true;
}

QByteArray EngineServerPrivate::checkHead(QTcpSocket *socket, const RequestHead &head)
{
    if (head.method != "POST")
        return {};
    const QUrlQuery query(QUrl::fromEncoded(head.target));
    EngineSocket *s = sessions.value(query.queryItemValue(u"sid"_s));
    if (!s)
        return {}; // verify() answers it once QtHttpServer has parsed it
    EngineSocketPrivate *d = s->d_func();
    QTcpSocket *previous = d->postInProgress;
    if (previous && previous != socket && previous->state() == QAbstractSocket::ConnectedState) {
        d->onClose(u"transport error"_s, u"overlapping POST requests"_s);
        return errorBody(3);
    }
    d->postInProgress = socket;
    return {};
}

void EngineServerPrivate::onWebSocketConnected()
{
    while (QWebSocket *ws = webSockets->nextPendingConnection())
        attachQWebSocket(ws, true);
}

void EngineServerPrivate::attachQWebSocket(QWebSocket *ws, bool verified)
{
    const QUrlQuery query(ws->requestUrl());
    const QNetworkRequest request = ws->request();
    Http::HeaderList headers;
    for (const QByteArray &name : request.rawHeaderList())
        headers.append({name, request.rawHeader(name)});
    QUrl url = ws->requestUrl();
    // QWebSocketServer names every URL ws://; our listeners are all TLS or none.
    const bool secure = options.ssl.has_value();
    url.setScheme(secure ? u"https"_s : u"http"_s);
    const QHostAddress peer = ws->peerAddress();
    const quint16 peerPort = ws->peerPort();
    attachWebSocket(new QtWebSocket(ws, options.maxHttpBufferSize), url, query, headers, peer,
        peerPort, secure, verified);
}

void EngineServerPrivate::acceptRawUpgrade(
    QTcpSocket *socket, const RequestHead &head, const QUrlQuery &query)
{
    const QHostAddress peer = socket->peerAddress();
    const quint16 peerPort = socket->peerPort();
    const QByteArray accept = RawWebSocket::acceptKey(head.header("sec-websocket-key"));
    const QByteArray version = head.header("sec-websocket-version");
    if (version != "13" || accept.isEmpty()) {
        qCDebug(lcEngine) << "refused a WebSocket handshake: version" << version << "key"
                          << head.header("sec-websocket-key");
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        EngineListener::reject(socket, version != "13" ? 426 : 400, "text/plain; charset=UTF-8",
            version != "13" ? "unsupported WebSocket version" : "missing or invalid Sec-WebSocket-Key",
            {{"Sec-WebSocket-Version", "13"}});
        return;
    }
    // Take the descriptor away from QTcpSocket (a duplicate survives its close), with any
    // bytes that followed the request head.
    QByteArray unread = socket->readAll();
    qsizetype start = 0;
    while (start < unread.size() && (unread[start] == '\r' || unread[start] == '\n'))
        ++start;
    const qsizetype headEnd = unread.indexOf("\r\n\r\n", start);
    unread = headEnd < 0 ? QByteArray() : unread.sliced(headEnd + 4);
    const int fd = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    socket->abort();
    socket->deleteLater();
    if (fd < 0) {
        qCWarning(lcEngine) << "cannot take a WebSocket connection:" << strerror(errno);
        return;
    }
    const QByteArray response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Accept: "
        + accept + "\r\n\r\n";
    QUrl url = QUrl::fromEncoded(head.target);
    if (url.isRelative()) {
        url.setScheme(u"http"_s);
        url.setAuthority(QString::fromLatin1(head.header("host")));
    }
    if (options.workerThreads <= 0) {
        auto *raw = new RawWebSocket(fd, options.maxHttpBufferSize, unread);
        raw->writeRaw(response);
        attachWebSocket(raw, url, query, head.headers, peer, peerPort, false, true);
        return;
    }
    startWorkers();
    WsWorker *worker = workers[nextWorker++ % workers.size()].get();
    ThreadedWebSocket *threaded = worker->adopt(
        fd, options.maxHttpBufferSize, options.maxBufferedBytes, response, unread);
    const QPointer<EngineServer> alive(q_func());
    attachWebSocket(threaded, url, query, head.headers, peer, peerPort, false, true);
    // A retired connection lives until its worker is done with it, so the pointer is valid.
    if (alive && !unread.isEmpty() && !retiring.contains(threaded))
        threaded->start(); // its frames are read after the open packet went out
}

void EngineServerPrivate::startWorkers()
{
    if (!workers.empty())
        return;
    const bool epoll = qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
    for (int i = 0; i < options.workerThreads; ++i)
        workers.push_back(std::make_unique<WsWorker>(epoll ? new EpollEventDispatcher : nullptr));
}

void EngineServerPrivate::retire(WsConnection *connection)
{
    connection->setReceiver(nullptr);
    retiring.insert(connection);
    connection->shutdown(std::chrono::seconds(5), [this](WsConnection *c) {
        retiring.remove(c);
        delete c;
    });
}

void EngineServerPrivate::attachWebSocket(WsConnection *connection, const QUrl &url,
    const QUrlQuery &query, const Http::HeaderList &headers, const QHostAddress &peer,
    quint16 peerPort, bool secure, bool verified)
{
    Q_Q(EngineServer);
    const QString sid = query.queryItemValue(u"sid"_s);
    if (!verified && verifyUpgrade(query, headers, peer, peerPort, secure).code >= 0) {
        retire(connection);
        return;
    }
    if (!sid.isEmpty()) {
        EngineSocket *s = sessions.value(sid);
        auto *d = s ? s->d_func() : nullptr;
        if (!d || d->state != EngineSocket::State::Open || d->isUpgradedOrUpgrading()) {
            // A late or duplicate upgrade must not disturb the session it names.
            qCDebug(lcEngine) << "closing a second WebSocket for session" << sid;
            retire(connection);
            return;
        }
        d->attachProbe(connection);
        return;
    }
    if (closing) {
        retire(connection);
        return;
    }
    EngineSocket *socket
        = createSession(makeHandshake(url, query, headers, peer, peerPort, secure));
    socket->d_func()->attachWebSocket(connection);
    socket->d_func()->schedulePing();
    Q_EMIT q->newConnection(socket);
}

EngineServer::EngineServer(const EngineOptions &options, QObject *parent)
    : QObject(parent)
    , d_ptr(std::make_unique<EngineServerPrivate>(this, options))
{
}

EngineServer::~EngineServer()
{
    Q_D(EngineServer);
    // Sessions still tell their owners they end; the server itself says nothing more.
    const QSignalBlocker blocker(this);
    const auto sessions = d->sessions.values();
    for (EngineSocket *s : sessions) {
        s->d_func()->onClose(u"server shutting down"_s, u"server destroyed"_s);
        delete s;
    }
    for (EngineListener *l : std::as_const(d->listeners))
        delete l;
}

const EngineOptions &EngineServer::options() const
{
    return d_func()->options;
}

bool EngineServer::attach(QHttpServer *server)
{
    Q_D(EngineServer);
    if (d->http || !server)
        return false;
    d->mount(server);
    return true;
}

bool EngineServer::listen(const QHostAddress &address, quint16 port)
{
    Q_D(EngineServer);
    QHttpServer *http = d->ensureHttp();
    auto *listener = new EngineListener(d->options, EngineMount::of(http));
    if (!listener->listen(address, port)) {
        d->errorString = listener->errorString();
        qCWarning(lcEngine) << "cannot listen on" << address << port << ":" << d->errorString;
        delete listener;
        return false;
    }
    Http::bindListener(http, listener);
    if (d->options.workerThreads > 0)
        d->startWorkers(); // now rather than at the first connection
    // QtHttpServer parents the listener; keep it ours so close() and the destructor decide.
    listener->setParent(this);
    d->listeners.append(listener);
    d->closing = false;
    d->closeSignalled = false;
    return true;
}

bool EngineServer::isListening() const
{
    Q_D(const EngineServer);
    return std::any_of(d->listeners.cbegin(), d->listeners.cend(),
        [](EngineListener *l) { return l->isListening(); });
}

quint16 EngineServer::serverPort() const
{
    const QList<quint16> ports = serverPorts();
    return ports.isEmpty() ? 0 : ports.first();
}

QList<quint16> EngineServer::serverPorts() const
{
    Q_D(const EngineServer);
    QList<quint16> ports;
    for (EngineListener *l : d->listeners) {
        if (l->isListening())
            ports.append(l->serverPort());
    }
    return ports;
}

bool EngineServer::hasOtherWebSocketReceiver() const
{
    return isSignalConnected(QMetaMethod::fromSignal(&EngineServer::otherWebSocket));
}

QHttpServer *EngineServer::httpServer() const
{
    return d_func()->http;
}

QString EngineServer::errorString() const
{
    return d_func()->errorString;
}

void EngineServer::setAllowRequest(std::function<bool(const EngineHandshake &)> allow)
{
    d_func()->allowRequest = std::move(allow);
}

QList<EngineSocket *> EngineServer::sockets() const
{
    return d_func()->sessions.values();
}

EngineSocket *EngineServer::socket(const QString &id) const
{
    return d_func()->sessions.value(id);
}

int EngineServer::clientsCount() const
{
    return int(d_func()->sessions.size());
}

void EngineServer::stopListening()
{
    Q_D(EngineServer);
    for (EngineListener *l : std::as_const(d->listeners))
        l->close();
}

void EngineServer::close()
{
    Q_D(EngineServer);
    if (d->closing)
        return;
    d->closing = true;
    stopListening();
    const auto sessions = d->sessions.values();
    for (EngineSocket *s : sessions)
        s->close(u"server shutting down"_s);
    d->finishCloseIfDone();
}

bool EngineServer::isClosing() const
{
    return d_func()->closing;
}

QByteArray EngineHandshake::header(QByteArrayView name) const
{
    return Http::headerValue(headers, name);
}

} // namespace QSocketIo
