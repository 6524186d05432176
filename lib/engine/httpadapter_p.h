#pragma once

// Every call into QtHttpServer lives in this file and its .cpp: QtHttpServer's API changes in
// 6.5 and 6.8 (see docs), and a port to a newer Qt should touch nothing else.

#include <QtCore/qpointer.h>
#include <QtCore/qurl.h>
#include <QtCore/qurlquery.h>
#include <QtNetwork/qhostaddress.h>
#include <QtNetwork/qtcpsocket.h>

#include <functional>
#include <memory>

class QHttpServer;
class QHttpServerResponder;
class QTcpServer;
class QWebSocket;

namespace QSocketIo::Http {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

QByteArray headerValue(const HeaderList &headers, QByteArrayView name);

// What a handler needs of a request, copied out of QtHttpServer's request object (which is reused
// for the connection's next request once the handler returns).
struct Request
{
    QByteArray method; // upper case
    QUrl url;
    QUrlQuery query;
    HeaderList headers;
    QByteArray body;
    QHostAddress remoteAddress;
    quint16 remotePort = 0;
    bool secure = false;

    QByteArray header(QByteArrayView name) const { return headerValue(headers, name); }
};

// The answer to one request, possibly given later (a held long-poll). Move-only.
class Exchange
{
public:
    Exchange();
    Exchange(Exchange &&other) noexcept;
    Exchange &operator=(Exchange &&other) noexcept;
    ~Exchange();

    // False once the client went away: a write then would reach a deleted socket.
    bool isAlive() const;
    QTcpSocket *socket() const { return m_socket; }
    // Headers added to whatever response this exchange gets (CORS).
    void setExtraHeaders(const HeaderList &headers) { m_extraHeaders = headers; }
    void respond(int status, const HeaderList &headers, const QByteArray &body);

private:
    friend void addRoute(
        QHttpServer *, const QString &, QObject *, std::function<void(Request &&, Exchange &&)>);
    std::unique_ptr<QHttpServerResponder> m_responder;
    QPointer<QTcpSocket> m_socket;
    HeaderList m_extraHeaders;
    bool m_close = false;
};

using Handler = std::function<void(Request &&, Exchange &&)>;

// Routes every method on `path` (normalised, "/x/") and on the same path without its trailing
// slash.
void addRoute(QHttpServer *server, const QString &path, QObject *context, Handler handler);

QHttpServer *createServer(QObject *parent);

// The next WebSocket that `server` upgraded by itself (when it listens on its own).
QWebSocket *nextWebSocket(QHttpServer *server);
// Calls `onNew` (in `context`) whenever `server` upgraded WebSockets wait to be taken.
void onWebSockets(QHttpServer *server, QObject *context, std::function<void()> onNew);
// Stops `server` from reading `socket` (its request handling ends; the socket stays open).
void detach(QTcpSocket *socket, QHttpServer *server);

// Hands a connection whose first request head was already peeked to `server`'s HTTP handling.
void bindListener(QHttpServer *server, QTcpServer *listener);

// What to do with an engine-path request once QtHttpServer hands it to the route, recorded by
// the listener as it reads each head, in order (requests on one connection reach the route in
// the order they were sent). QtHttpServer 6.4 ignores `Connection: close` and HTTP/1.0.
enum class Disposition : char {
    KeepAlive = 'k',
    Close = 'c', // answer, then close the connection
    Drop = 'd', // pipelined after a request that asked for the close: not processed
};
void pushDisposition(QTcpSocket *socket, Disposition disposition);

} // namespace QSocketIo::Http
