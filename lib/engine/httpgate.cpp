#include "httpgate_p.h"

#include "logging_p.h"

#include <QtWebSockets/qwebsocket.h>

#include <QtNetwork/qsslsocket.h>

namespace QSocketIo {

QString RequestHead::path() const
{
    return QUrl::fromEncoded(target).path();
}

static bool headerHasToken(QByteArrayView value, QByteArrayView token)
{
    for (const QByteArray &part : value.toByteArray().split(',')) {
        if (part.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

bool RequestHead::isWebSocketUpgrade() const
{
    return method == "GET" && headerHasToken(header("upgrade"), "websocket")
        && headerHasToken(header("connection"), "upgrade");
}

bool RequestHead::wantsClose() const
{
    const QByteArray connection = header("connection");
    if (version == "HTTP/1.0")
        return !headerHasToken(connection, "keep-alive");
    return headerHasToken(connection, "close");
}

static bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || QByteArrayView("()<>@,;:\\\"/[]?={}").contains(c))
            return false;
    }
    return true;
}

bool parseRequestHead(QByteArrayView head, RequestHead *out)
{
    if (!head.endsWith("\r\n\r\n"))
        return false;
    head.chop(4);
    qsizetype lineEnd = head.indexOf("\r\n");
    const QByteArrayView requestLine = lineEnd < 0 ? head : head.first(lineEnd);
    const qsizetype sp1 = requestLine.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 <= sp1 + 1)
        return false;
    out->method = requestLine.first(sp1).toByteArray();
    out->target = requestLine.sliced(sp1 + 1, sp2 - sp1 - 1).toByteArray();
    out->version = requestLine.sliced(sp2 + 1).toByteArray();
    if (!isToken(out->method) || out->target.contains(' ')
        || (out->version != "HTTP/1.1" && out->version != "HTTP/1.0"))
        return false;
    out->headers.clear();
    while (lineEnd >= 0) {
        const qsizetype start = lineEnd + 2;
        lineEnd = head.indexOf("\r\n", start);
        const QByteArrayView line
            = head.sliced(start, (lineEnd < 0 ? head.size() : lineEnd) - start);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(line.first(colon)))
            return false; // also refuses obsolete line folding
        out->headers.append(
            {line.first(colon).toByteArray(), line.sliced(colon + 1).trimmed().toByteArray()});
    }
    return true;
}

EngineMount::EngineMount(QHttpServer *http)
    : QObject(http)
    , m_http(http)
{
    Http::onWebSockets(http, this, [this] { takeWebSockets(); });
}

EngineMount *EngineMount::of(QHttpServer *http)
{
    if (auto *mount = http->findChild<EngineMount *>(QString(), Qt::FindDirectChildrenOnly))
        return mount;
    return new EngineMount(http);
}

EngineEndpoint *EngineMount::find(const QString &path) const
{
    for (EngineEndpoint *e : m_endpoints) {
        if (e->isEnginePath(path))
            return e;
    }
    return nullptr;
}

void EngineMount::takeWebSockets()
{
    while (QWebSocket *ws = Http::nextWebSocket(m_http)) {
        if (EngineEndpoint *e = find(ws->requestUrl().path())) {
            e->takeWebSocket(ws);
            continue;
        }
        // QtHttpServer has one queue for every path: the application gets its own from us.
        const bool taken = std::any_of(m_endpoints.cbegin(), m_endpoints.cend(),
            [ws](EngineEndpoint *e) { return e->takeForeignWebSocket(ws); });
        if (!taken) {
            connect(ws, &QWebSocket::disconnected, ws, &QObject::deleteLater);
            ws->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("no handler"));
        }
    }
}

EngineListener::EngineListener(const EngineOptions &options, EngineMount *mount, QObject *parent)
    : QTcpServer(parent)
    , m_options(options)
    , m_mount(mount)
{
    setListenBacklogSize(options.listenBacklog);
}

void EngineListener::incomingConnection(qintptr descriptor)
{
    QTcpSocket *socket;
    if (m_options.ssl) {
        auto *ssl = new QSslSocket(this);
        if (!ssl->setSocketDescriptor(descriptor)) {
            delete ssl;
            return;
        }
        ssl->setSslConfiguration(*m_options.ssl);
        connect(ssl, &QSslSocket::sslErrors, ssl, [ssl](const QList<QSslError> &errors) {
            qCDebug(lcEngine) << "TLS handshake failed:" << errors;
            ssl->abort();
        });
        ssl->startServerEncryption();
        socket = ssl;
    } else {
        socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
    }
    // Responses are written in pieces (head, body): without this, Nagle's algorithm holds the
    // last piece until the client acknowledges the first, up to its delayed-ACK time (40 ms).
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    new ConnectionGate(socket, this);
}

void EngineListener::reject(QTcpSocket *socket, int status, const QByteArray &contentType,
    const QByteArray &body, const Http::HeaderList &extraHeaders)
{
    static const QHash<int, QByteArray> reasons = {{400, "Bad Request"}, {403, "Forbidden"},
        {404, "Not Found"}, {408, "Request Timeout"}, {413, "Payload Too Large"},
        {426, "Upgrade Required"},
        {431, "Request Header Fields Too Large"}, {503, "Service Unavailable"}};
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' '
        + reasons.value(status, "Error") + "\r\nConnection: close\r\nContent-Type: " + contentType
        + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    for (const auto &h : extraHeaders)
        response += h.first + ": " + h.second + "\r\n";
    response += "\r\n" + body;
    socket->write(response);
    socket->disconnectFromHost();
}

ConnectionGate::ConnectionGate(QTcpSocket *socket, EngineListener *listener)
    : QObject(socket)
    , m_socket(socket)
    , m_listener(listener)
{
    const EngineOptions &options = listener->options();
    m_idleLimit = options.idleTimeout.count() > 0
        ? options.idleTimeout.count()
        : options.pingInterval.count() + options.pingTimeout.count();
    connect(socket, &QTcpSocket::readyRead, this, &ConnectionGate::beforeHttp);
    connect(socket, &QTcpSocket::bytesWritten, this, [this] { m_lastActivity.start(); });
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    m_requestTimer.start(options.requestTimeout);
    m_lastActivity.start();
    m_idleTimer.start(m_idleLimit);
}

void ConnectionGate::beforeHttp()
{
    m_lastActivity.start();
    const qint64 available = m_socket->bytesAvailable();
    if (available <= m_analyzed)
        return;
    const QByteArray data = m_socket->peek(available);
    const QByteArrayView fresh = QByteArrayView(data).sliced(m_analyzed);
    m_analyzed = data.size();
    analyze(fresh);
}

void ConnectionGate::afterHttp()
{
    m_analyzed = m_socket->bytesAvailable();
}

void ConnectionGate::onIdleTimer()
{
    // Restarted only here, not on every read and write.
    const qint64 idle = m_lastActivity.elapsed();
    if (idle < m_idleLimit) {
        m_idleTimer.start(m_idleLimit - idle);
        return;
    }
    qCDebug(lcEngine) << "closing an idle connection from" << m_socket->peerAddress();
    m_socket->disconnectFromHost();
}

void ConnectionGate::onRequestTimeout()
{
    qCDebug(lcEngine) << "closing a connection whose request did not arrive in time from"
                      << m_socket->peerAddress();
    if (m_line.isEmpty() && m_state == State::Head && !m_handed) {
        m_socket->abort(); // it never said anything
        return;
    }
    fail(408, "request not completed in time");
}

void ConnectionGate::fail(int status, const QByteArray &message, const QByteArray &contentType)
{
    m_requestTimer.stop();
    m_idleTimer.stop();
    detachFromHttp();
    disconnect(m_socket, nullptr, this, nullptr);
    EngineListener::reject(m_socket, status, contentType, message);
}

void ConnectionGate::detachFromHttp()
{
    if (QHttpServer *http = m_listener->httpServer(); m_handed && http)
        Http::detach(m_socket, http);
}

bool ConnectionGate::analyze(QByteArrayView data)
{
    const qint64 maxHead = m_listener->options().maxHeaderSize;
    while (!data.isEmpty()) {
        switch (m_state) {
        case State::Head: {
            if (m_line.isEmpty()) {
                // Tolerate the empty lines some clients send between requests.
                while (!data.isEmpty() && (data.front() == '\r' || data.front() == '\n'))
                    data = data.sliced(1);
                if (data.isEmpty())
                    return true;
                if (!m_requestTimer.isActive())
                    m_requestTimer.start(m_listener->options().requestTimeout);
            }
            const qsizetype searchFrom = qMax<qsizetype>(0, m_line.size() - 3);
            const qsizetype take = qMin<qsizetype>(data.size(), maxHead + 4 - m_line.size());
            m_line.append(data.first(qMax<qsizetype>(take, 0)));
            const qsizetype end = m_line.indexOf("\r\n\r\n", searchFrom);
            if (end < 0) {
                if (m_line.size() > maxHead) {
                    fail(431, "request head too large");
                    return false;
                }
                return true;
            }
            const qsizetype headSize = end + 4;
            data = data.sliced(take - (m_line.size() - headSize));
            m_line.truncate(headSize);
            RequestHead head;
            const bool ok = parseRequestHead(m_line, &head);
            m_line.clear();
            if (!ok) {
                fail(400, "malformed request head");
                return false;
            }
            if (!onHead(head))
                return false;
            break;
        }
        case State::Body: {
            const qint64 n = qMin<qint64>(m_remaining, data.size());
            m_remaining -= n;
            data = data.sliced(n);
            if (m_remaining == 0)
                endOfRequest();
            break;
        }
        case State::ChunkSize:
        case State::Trailer: {
            const qsizetype nl = data.indexOf('\n');
            const qsizetype n = nl < 0 ? data.size() : nl + 1;
            m_line.append(data.first(n));
            data = data.sliced(n);
            if (m_line.size() > 4096) {
                fail(400, "malformed chunked body");
                return false;
            }
            if (nl < 0)
                break;
            const QByteArray line = m_line.trimmed();
            m_line.clear();
            if (m_state == State::Trailer) {
                if (line.isEmpty())
                    endOfRequest();
                break;
            }
            bool ok = false;
            const qsizetype semicolon = line.indexOf(';');
            m_remaining
                = (semicolon < 0 ? line : line.first(semicolon)).trimmed().toLongLong(&ok, 16);
            if (!ok || m_remaining < 0) {
                fail(400, "malformed chunked body");
                return false;
            }
            m_bodySize += m_remaining;
            if (m_bodyLimit >= 0 && m_bodySize > m_bodyLimit) {
                fail(413, "payload too large");
                return false;
            }
            m_state = m_remaining == 0 ? State::Trailer : State::ChunkData;
            break;
        }
        case State::ChunkData: {
            const qint64 n = qMin<qint64>(m_remaining, data.size());
            m_remaining -= n;
            data = data.sliced(n);
            if (m_remaining == 0) {
                m_state = State::ChunkDataEnd;
                m_remaining = 2;
            }
            break;
        }
        case State::ChunkDataEnd: {
            const qint64 n = qMin<qint64>(m_remaining, data.size());
            m_remaining -= n;
            data = data.sliced(n);
            if (m_remaining == 0)
                m_state = State::ChunkSize;
            break;
        }
        }
    }
    return true;
}

bool ConnectionGate::onHead(const RequestHead &head)
{
    EngineMount *mount = m_listener->mount();
    EngineEndpoint *endpoint = mount ? mount->find(head.path()) : nullptr;
    m_bodyLimit = endpoint ? endpoint->endpointOptions().maxHttpBufferSize
        : mount            ? mount->otherPathsBodyLimit()
                           : -1;
    if (!endpoint && (!mount || !mount->servesOtherPaths())) {
        fail(404, "not found");
        return false;
    }
    if (head.isWebSocketUpgrade()) {
        m_requestTimer.stop();
        m_idleTimer.stop();
        disconnect(m_socket, nullptr, this, nullptr);
        deleteLater();
        if (endpoint && !m_handed) {
            // The common case, a fresh connection: straight to the engine's WebSocket server.
            disconnect(m_socket, &QTcpSocket::disconnected, m_socket, &QObject::deleteLater);
            setParent(nullptr);
            m_socket->setParent(nullptr);
            endpoint->takeUpgrade(m_socket, head);
        } else {
            // QtHttpServer upgrades it (the engine takes engine-path WebSockets from there
            // too); what follows is WebSocket frames, no longer for this gate to read.
            handToHttpOnce();
        }
        return false;
    }
    if (endpoint) {
        const QByteArray error = endpoint->checkHead(m_socket, head);
        if (!error.isEmpty()) {
            fail(400, error, "application/json");
            return false;
        }
    }
    if (endpoint) {
        // After a request that asked for the close, pipelined ones are not processed
        // (RFC 9112 9.6).
        Http::Disposition disposition = Http::Disposition::KeepAlive;
        if (m_closeRequested)
            disposition = Http::Disposition::Drop;
        else if (head.wantsClose())
            disposition = Http::Disposition::Close;
        m_closeRequested = m_closeRequested || head.wantsClose();
        Http::pushDisposition(m_socket, disposition);
    }
    const QByteArray transferEncoding = head.header("transfer-encoding");
    const QByteArray contentLength = head.header("content-length");
    if (!transferEncoding.isEmpty()) {
        if (!headerHasToken(transferEncoding, "chunked")) {
            fail(400, "unsupported transfer encoding");
            return false;
        }
        m_state = State::ChunkSize;
        m_bodySize = 0;
    } else if (!contentLength.isEmpty()) {
        bool ok = false;
        m_remaining = contentLength.toLongLong(&ok);
        if (!ok || m_remaining < 0) {
            fail(400, "malformed Content-Length");
            return false;
        }
        if (m_bodyLimit >= 0 && m_remaining > m_bodyLimit) {
            fail(413, "payload too large");
            return false;
        }
        if (m_remaining > 0)
            m_state = State::Body;
        else
            endOfRequest();
    } else {
        endOfRequest();
    }
    if (!m_handed) {
        handToHttpOnce();
        // QtHttpServer connected its readyRead handler after ours; this one runs after both.
        connect(m_socket, &QTcpSocket::readyRead, this, &ConnectionGate::afterHttp);
    }
    return true;
}

void ConnectionGate::handToHttpOnce()
{
    if (m_handed)
        return;
    m_handed = true;
    m_listener->handToHttp(m_socket);
    // The head is already in the socket's buffer: make QtHttpServer look at it.
    QMetaObject::invokeMethod(m_socket, &QTcpSocket::readyRead, Qt::QueuedConnection);
}

void ConnectionGate::endOfRequest()
{
    m_state = State::Head;
    m_requestTimer.stop();
}

} // namespace QSocketIo
