#include "httpadapter_p.h"

#include <QtCore/qregularexpression.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtHttpServer/qhttpserverrequest.h>
#include <QtHttpServer/qhttpserverresponder.h>
#include <QtNetwork/qsslsocket.h>
#include <QtWebSockets/qwebsocket.h>

namespace QSocketIo::Http {

static const char dispositionProperty[] = "_qsocketio_dispositions";

QByteArray headerValue(const HeaderList &headers, QByteArrayView name)
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

Exchange::Exchange() = default;
Exchange::Exchange(Exchange &&other) noexcept = default;
Exchange &Exchange::operator=(Exchange &&other) noexcept = default;
Exchange::~Exchange() = default;

bool Exchange::isAlive() const
{
    return m_responder && m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
}

void Exchange::respond(int status, const HeaderList &headers, const QByteArray &body)
{
    if (!isAlive()) {
        m_responder.reset();
        return;
    }
    const bool close = m_close;
    m_responder->writeStatusLine(QHttpServerResponder::StatusCode(status));
    for (const auto &h : headers)
        m_responder->writeHeader(h.first, h.second);
    for (const auto &h : std::as_const(m_extraHeaders))
        m_responder->writeHeader(h.first, h.second);
    m_responder->writeHeader(QByteArrayLiteral("Content-Length"), QByteArray::number(body.size()));
    if (close)
        m_responder->writeHeader(QByteArrayLiteral("Connection"), QByteArrayLiteral("close"));
    m_responder->writeBody(body);
    m_responder.reset();
    if (close)
        m_socket->disconnectFromHost();
}

static QByteArray methodName(QHttpServerRequest::Method method)
{
    using M = QHttpServerRequest::Method;
    switch (method) {
    case M::Get:
        return QByteArrayLiteral("GET");
    case M::Put:
        return QByteArrayLiteral("PUT");
    case M::Delete:
        return QByteArrayLiteral("DELETE");
    case M::Post:
        return QByteArrayLiteral("POST");
    case M::Head:
        return QByteArrayLiteral("HEAD");
    case M::Options:
        return QByteArrayLiteral("OPTIONS");
    case M::Patch:
        return QByteArrayLiteral("PATCH");
    case M::Connect:
        return QByteArrayLiteral("CONNECT");
    case M::Trace:
        return QByteArrayLiteral("TRACE");
    default:
        return QByteArrayLiteral("UNKNOWN");
    }
}

void addRoute(QHttpServer *server, const QString &path, QObject *context, Handler handler)
{
    auto shared = std::make_shared<Handler>(std::move(handler));
    QPointer<QObject> guard(context);
    auto view = [shared, guard](const QHttpServerRequest &req, QHttpServerResponder &&responder) {
        Exchange exchange;
        exchange.m_socket = responder.socket();
        if (QTcpSocket *s = exchange.m_socket) {
            QByteArray queue = s->property(dispositionProperty).toByteArray();
            if (!queue.isEmpty()) {
                const auto disposition = Disposition(queue.front());
                s->setProperty(dispositionProperty, queue.sliced(1));
                if (disposition == Disposition::Drop)
                    return;
                exchange.m_close = disposition == Disposition::Close;
            }
        }
        exchange.m_responder = std::make_unique<QHttpServerResponder>(std::move(responder));
        if (!guard) {
            exchange.respond(404, {}, {});
            return;
        }
        Request r;
        r.method = methodName(req.method());
        r.url = req.url();
        r.query = req.query();
        r.headers = req.headers();
        r.body = req.body();
        r.remoteAddress = req.remoteAddress();
        if (QTcpSocket *s = exchange.socket()) {
            r.remotePort = s->peerPort();
            r.secure = qobject_cast<QSslSocket *>(s) != nullptr;
        }
        (*shared)(std::move(r), std::move(exchange));
    };
    // QtHttpServer 6.4 reads a route's path as a regular expression: "." would match any
    // character.
    server->route(QRegularExpression::escape(path), view);
    if (path.size() > 1 && path.endsWith(QLatin1Char('/')))
        server->route(QRegularExpression::escape(path.chopped(1)), view);
}

QHttpServer *createServer(QObject *parent)
{
    return new QHttpServer(parent);
}

void onWebSockets(QHttpServer *server, QObject *context, std::function<void()> onNew)
{
    QObject::connect(server, &QHttpServer::newWebSocketConnection, context, std::move(onNew));
}

void detach(QTcpSocket *socket, QHttpServer *server)
{
    // QtHttpServer 6.4 connects the socket's readyRead with itself as the receiver.
    socket->disconnect(server);
}

QWebSocket *nextWebSocket(QHttpServer *server)
{
    return server->nextPendingWebSocketConnection().release();
}

void bindListener(QHttpServer *server, QTcpServer *listener)
{
    server->bind(listener);
}

void pushDisposition(QTcpSocket *socket, Disposition disposition)
{
    socket->setProperty(dispositionProperty,
        socket->property(dispositionProperty).toByteArray() + char(disposition));
}

} // namespace QSocketIo::Http
