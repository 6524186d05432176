#include "clienttransport_p.h"

#include "clientlogging_p.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkcookie.h>
#include <QtNetwork/qnetworkcookiejar.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtWebSockets/qwebsocket.h>

#include <atomic>

namespace QSocketIo {

using namespace Qt::StringLiterals;
using EngineIo::Packet;
using EngineIo::PacketType;

ClientTransport::ClientTransport(const TransportSettings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{
}

QUrl ClientTransport::requestUrl(bool webSocket) const
{
    QUrl url = m_settings.url;
    if (webSocket)
        url.setScheme(url.scheme() == u"https" ? u"wss"_s : u"ws"_s);
    QUrlQuery query = m_settings.query;
    query.addQueryItem(u"EIO"_s, u"4"_s);
    query.addQueryItem(u"transport"_s, name());
    if (!m_sid.isEmpty())
        query.addQueryItem(u"sid"_s, m_sid);
    if (!webSocket) {
        // Unique per request, so that no cache between us and the server answers a poll.
        static std::atomic<quint32> counter {0};
        query.addQueryItem(u"t"_s,
            QString::number(QDateTime::currentMSecsSinceEpoch(), 36) + u'.'
                + QString::number(++counter, 36));
    }
    url.setQuery(query);
    return url;
}

QNetworkRequest ClientTransport::request(bool webSocket) const
{
    QNetworkRequest request(requestUrl(webSocket));
    for (const auto &header : m_settings.extraHeaders)
        request.setRawHeader(header.first, header.second);
    if (m_settings.url.scheme() == u"https") {
        QSslConfiguration ssl = m_settings.ssl.value_or(QSslConfiguration::defaultConfiguration());
        if (!m_settings.rejectUnauthorized)
            ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        request.setSslConfiguration(ssl);
    }
    return request;
}

void ClientTransport::fail(const QString &message, const QString &description)
{
    if (m_state == State::Closed)
        return;
    close();
    Q_EMIT failed(message, description);
}

// ---------------------------------------------------------------------------------------------
// Polling

PollingTransport::~PollingTransport()
{
    if (m_get) {
        QObject::disconnect(m_get, nullptr, this, nullptr);
        m_get->abort();
        m_get->deleteLater();
    }
    if (m_post) { // its payload is on its way: let it finish
        QObject::disconnect(m_post, nullptr, this, nullptr);
        QObject::connect(m_post, &QNetworkReply::finished, m_post, &QObject::deleteLater);
    }
}

void PollingTransport::watchTls(QNetworkReply *reply) const
{
    if (!m_settings.rejectUnauthorized) {
        QObject::connect(reply, &QNetworkReply::sslErrors, reply,
            [reply](const QList<QSslError> &) { reply->ignoreSslErrors(); });
    }
}

void PollingTransport::open()
{
    m_state = State::Opening;
    poll();
}

void PollingTransport::poll()
{
    QNetworkRequest request = this->request(false);
    m_get = m_settings.network->get(request);
    watchTls(m_get);
    connect(m_get, &QNetworkReply::finished, this, &PollingTransport::onPollFinished);
}

static QString replyProblem(QNetworkReply *reply)
{
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() == QNetworkReply::NoError && status == 200)
        return {};
    QString problem = status ? u"HTTP %1"_s.arg(status) : reply->errorString();
    const QByteArray body = reply->readAll().left(200);
    if (!body.isEmpty())
        problem += u": "_s + QString::fromUtf8(body);
    return problem;
}

QNetworkReply *PollingTransport::takeFinished(
    QPointer<QNetworkReply> &slot, const QString &errorReason)
{
    QNetworkReply *reply = slot;
    slot = nullptr;
    if (!reply)
        return nullptr;
    reply->deleteLater();
    if (m_state == State::Closed)
        return nullptr;
    if (const QString problem = replyProblem(reply); !problem.isEmpty()) {
        fail(errorReason, problem);
        return nullptr;
    }
    return reply;
}

void PollingTransport::onPollFinished()
{
    QNetworkReply *reply = takeFinished(m_get, u"xhr poll error"_s);
    if (!reply)
        return;
    QList<Packet> packets;
    const EngineIo::DecodeError error = EngineIo::decodePayload(reply->readAll(), &packets);
    if (error != EngineIo::DecodeError::None) {
        fail(u"xhr poll error"_s, EngineIo::errorString(error));
        return;
    }
    const QPointer<PollingTransport> self(this);
    for (const Packet &packet : std::as_const(packets)) {
        if (m_state == State::Opening && packet.type == PacketType::Open) {
            m_state = State::Open;
            m_writable = true;
        }
        if (packet.type == PacketType::Close) {
            m_state = State::Closed; // the server has ended the session: no close packet back
            m_writable = false;
            Q_EMIT closed(u"transport closed by the server"_s);
            return;
        }
        Q_EMIT packetReceived(packet);
        if (!self || m_state == State::Closed)
            return;
    }
    if (m_state == State::Opening) {
        fail(u"xhr poll error"_s, u"the first poll brought no open packet"_s);
        return;
    }
    if (m_state == State::Pausing)
        checkPaused();
    else if (m_state == State::Open)
        poll();
}

QNetworkReply *PollingTransport::post(const QByteArray &payload)
{
    QNetworkRequest request = this->request(false);
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"text/plain;charset=UTF-8"_s);
    QNetworkReply *reply = m_settings.network->post(request, payload);
    watchTls(reply);
    return reply;
}

void PollingTransport::send(const QList<Packet> &packets)
{
    Q_ASSERT(m_writable && !m_post);
    m_writable = false;
    m_post = post(EngineIo::encodePayload(packets));
    connect(m_post, &QNetworkReply::finished, this, &PollingTransport::onPostFinished);
}

void PollingTransport::onPostFinished()
{
    if (!takeFinished(m_post, u"xhr post error"_s))
        return;
    m_writable = true;
    if (m_state == State::Pausing) {
        checkPaused();
        return;
    }
    Q_EMIT drained();
}

void PollingTransport::close()
{
    if (m_state == State::Closed)
        return;
    const bool open = m_state != State::Opening;
    m_state = State::Closed;
    m_writable = false;
    if (m_get) {
        QObject::disconnect(m_get, nullptr, this, nullptr);
        m_get->abort();
        m_get->deleteLater();
        m_get = nullptr;
    }
    if (!open)
        return;
    // Tell the server, after the POST in flight if any (it refuses overlapping POSTs). Neither
    // reply needs this transport any more.
    QNetworkAccessManager *network = m_settings.network;
    const QNetworkRequest closeRequest = request(false);
    const bool tolerant = !m_settings.rejectUnauthorized;
    auto sendClose = [network, closeRequest, tolerant] {
        QNetworkRequest request = closeRequest;
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"text/plain;charset=UTF-8"_s);
        QNetworkReply *reply = network->post(request, QByteArray("1"));
        if (tolerant) {
            QObject::connect(reply, &QNetworkReply::sslErrors, reply,
                [reply](const QList<QSslError> &) { reply->ignoreSslErrors(); });
        }
        QObject::connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
    };
    if (m_post) {
        QNetworkReply *inFlight = m_post;
        QObject::disconnect(inFlight, nullptr, this, nullptr);
        m_post = nullptr;
        QObject::connect(inFlight, &QNetworkReply::finished, network, [inFlight, sendClose] {
            inFlight->deleteLater();
            sendClose();
        });
    } else {
        sendClose();
    }
}

void PollingTransport::pause(std::function<void()> done)
{
    m_state = State::Pausing;
    m_onPaused = std::move(done);
    checkPaused();
}

void PollingTransport::checkPaused()
{
    if (m_state != State::Pausing || m_get || m_post)
        return;
    m_state = State::Paused;
    if (auto done = std::exchange(m_onPaused, nullptr))
        done();
}

void PollingTransport::resume()
{
    if (m_state != State::Pausing && m_state != State::Paused)
        return;
    m_onPaused = nullptr;
    m_state = State::Open;
    if (!m_get)
        poll();
    if (!m_post) {
        m_writable = true;
        Q_EMIT drained();
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocket

WebSocketTransport::~WebSocketTransport()
{
    release();
}

void WebSocketTransport::open()
{
    m_state = State::Opening;
    // Not a child: on close it lives on until its close handshake is done, so that what was
    // sent just before reaches the server.
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest);
    connect(m_socket, &QWebSocket::connected, this, [this] {
        m_state = State::Open;
        m_writable = true;
        Q_EMIT opened();
    });
    connect(m_socket, &QWebSocket::textMessageReceived, this, &WebSocketTransport::onText);
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, &WebSocketTransport::onBinary);
    connect(m_socket, &QWebSocket::disconnected, this, [this] {
        if (m_state == State::Opening) {
            fail(u"websocket error"_s, m_socket->errorString());
        } else if (m_state != State::Closed) {
            m_state = State::Closed;
            m_writable = false;
            Q_EMIT closed(m_socket->closeReason());
        }
    });
    connect(m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
        [this](
            QAbstractSocket::SocketError) { fail(u"websocket error"_s, m_socket->errorString()); });
    if (!m_settings.rejectUnauthorized) {
        connect(m_socket, &QWebSocket::sslErrors, this,
            [this](const QList<QSslError> &) { m_socket->ignoreSslErrors(); });
    }
    QNetworkRequest request = this->request(true);
    if (m_settings.url.scheme() == u"https")
        m_socket->setSslConfiguration(request.sslConfiguration());
    // Cookies the server set on polling responses (sticky sessions) go with the handshake too.
    if (QNetworkCookieJar *jar = m_settings.network->cookieJar()) {
        QByteArray cookies;
        for (const QNetworkCookie &cookie : jar->cookiesForUrl(m_settings.url)) {
            if (!cookies.isEmpty())
                cookies += "; ";
            cookies += cookie.toRawForm(QNetworkCookie::NameAndValueOnly);
        }
        if (!cookies.isEmpty() && !request.hasRawHeader("Cookie"))
            request.setRawHeader("Cookie", cookies);
    }
    m_socket->open(request);
}

void WebSocketTransport::onText(const QString &text)
{
    if (m_state == State::Closed)
        return;
    Packet packet;
    const EngineIo::DecodeError error = EngineIo::decodeTextFrame(text.toUtf8(), &packet);
    if (error != EngineIo::DecodeError::None) {
        fail(u"websocket error"_s, EngineIo::errorString(error));
        return;
    }
    if (packet.type == PacketType::Close) {
        m_state = State::Closed;
        m_writable = false;
        release();
        Q_EMIT closed(u"transport closed by the server"_s);
        return;
    }
    Q_EMIT packetReceived(packet);
}

void WebSocketTransport::onBinary(const QByteArray &bytes)
{
    if (m_state != State::Closed)
        Q_EMIT packetReceived(EngineIo::decodeBinaryFrame(bytes));
}

void WebSocketTransport::send(const QList<Packet> &packets)
{
    for (const Packet &packet : packets) {
        if (packet.binary)
            m_socket->sendBinaryMessage(packet.data);
        else
            m_socket->sendTextMessage(QString::fromUtf8(EngineIo::encodeTextFrame(packet)));
    }
}

void WebSocketTransport::close()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_writable = false;
    release();
}

void WebSocketTransport::release()
{
    QWebSocket *socket = std::exchange(m_socket, nullptr);
    if (!socket)
        return;
    QObject::disconnect(socket, nullptr, this, nullptr);
    if (socket->state() == QAbstractSocket::UnconnectedState) {
        socket->deleteLater();
        return;
    }
    // Nothing is left behind if the application ends before the close handshake.
    if (QCoreApplication *app = QCoreApplication::instance(); app && app->thread() == thread())
        socket->setParent(app);
    QObject::connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    // A server that never answers the close handshake does not keep it for ever.
    QTimer::singleShot(3000, socket, [socket] {
        socket->abort();
        socket->deleteLater();
    });
    socket->close();
}

} // namespace QSocketIo
