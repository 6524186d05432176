#include "socketclient_p.h"

#include "clientlogging_p.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qrandom.h>
#include <QtCore/qthread.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>

#include <algorithm>
#include <cmath>

namespace QSocketIo {

using namespace Qt::StringLiterals;
using SocketIo::Packet;

static QString normalizedPath(const QString &path)
{
    QString p = path.trimmed();
    while (p.startsWith(u'/'))
        p.remove(0, 1);
    while (p.endsWith(u'/'))
        p.chop(1);
    return p.isEmpty() ? u"/"_s : u'/' + p + u'/';
}

ClientManager::ClientManager(const QUrl &url, const SocketClientOptions &options)
    : m_url(url)
    , m_options(options)
    , m_network(new QNetworkAccessManager(this))
{
    m_reconnectTimer.setSingleShot(true);
    m_openTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, [this] {
        Busy busy(this);
        if (m_skipReconnect)
            return;
        const QPointer<ClientManager> self(this);
        qCDebug(lcClient).noquote() << "reconnection attempt" << m_attempts << "to" << m_url;
        Q_EMIT reconnectAttempt(m_attempts);
        if (!self || m_skipReconnect)
            return;
        m_openIsReconnect = true;
        open();
    });
    connect(&m_openTimer, &QTimer::timeout, this, [this] {
        Busy busy(this);
        if (m_state != State::Opening)
            return;
        releaseEngine(true);
        onOpenFailed(u"timeout"_s, {});
    });
}

// Requests still in flight when the last client goes (its DISCONNECT packet, the polling close
// packet) are not cut short: the network access manager outlives us until they are done.
static void releaseNetwork(QNetworkAccessManager *network)
{
    network->setParent(nullptr);
    const auto busy = [network] {
        const auto replies = network->findChildren<QNetworkReply *>();
        return std::any_of(replies.cbegin(), replies.cend(),
            [](const QNetworkReply *reply) { return !reply->isFinished(); });
    };
    QCoreApplication *app = QCoreApplication::instance();
    if (!busy() || !app || app->thread() != QThread::currentThread()) {
        delete network;
        return;
    }
    network->setParent(app); // so that nothing is left behind if the application ends first
    QTimer::singleShot(5000, network, &QObject::deleteLater);
    QObject::connect(network, &QNetworkAccessManager::finished, network, [network, busy] {
        if (!busy())
            network->deleteLater();
    });
}

ClientManager::~ClientManager()
{
    // Engines (the current one, and any still closing) go first: their transports' last
    // requests need the network access manager.
    qDeleteAll(findChildren<EngineClient *>(Qt::FindDirectChildrenOnly));
    releaseNetwork(m_network);
}

std::shared_ptr<ClientManager> ClientManager::create(
    const QUrl &url, const SocketClientOptions &options)
{
    // A client may be deleted from a handler this manager called; it then goes once the handler
    // has returned.
    return std::shared_ptr<ClientManager>(new ClientManager(url, options), [](ClientManager *m) {
        m->m_skipReconnect = true;
        m->m_reconnectTimer.stop();
        m->m_openTimer.stop();
        if (m->m_busy) {
            // Owned by the application meanwhile, so it still goes if the event loop never
            // runs again (a program or test that ends right here).
            if (!m->parent())
                m->setParent(QCoreApplication::instance());
            m->deleteLater();
        }
        else
            delete m;
    });
}

QString ClientManager::engineId() const
{
    return m_engine && m_state == State::Open ? m_engine->id() : QString();
}

QString ClientManager::transport() const
{
    return m_engine && m_state == State::Open ? m_engine->transportName() : QString();
}

bool ClientManager::isTransportWritable() const
{
    return m_engine && m_state == State::Open && m_engine->isWritable();
}

void ClientManager::open()
{
    if (m_state != State::Closed)
        return;
    m_skipReconnect = false;
    m_state = State::Opening;

    EngineClient::Options options;
    QUrl base = m_url.adjusted(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo);
    if (base.scheme() == u"ws")
        base.setScheme(u"http"_s);
    else if (base.scheme() == u"wss")
        base.setScheme(u"https"_s);
    base.setPath(normalizedPath(m_options.path));
    options.transport.url = base;
    options.transport.query = QUrlQuery(m_url);
    for (const auto &item : m_options.query.queryItems())
        options.transport.query.addQueryItem(item.first, item.second);
    options.transport.extraHeaders = m_options.extraHeaders;
    options.transport.ssl = m_options.ssl;
    options.transport.rejectUnauthorized = m_options.rejectUnauthorized;
    options.transport.network = m_network;
    options.transports = m_options.effectiveTransports();
    options.upgrade = m_options.upgrade;

    auto *engine = new EngineClient(options, this);
    m_engine = engine;
    connect(engine, &EngineClient::opened, this, &ClientManager::onEngineOpened);
    connect(engine, &EngineClient::errorOccurred, this, &ClientManager::onEngineError);
    connect(engine, &EngineClient::closed, this,
        [this](const QString &reason, const QString &) { onEngineClosed(reason); });
    connect(engine, &EngineClient::messageReceived, this, &ClientManager::onEngineMessage);
    connect(engine, &EngineClient::transportChanged, this, [this](const QString &name) {
        Busy busy(this);
        Q_EMIT transportChanged(name);
    });
    if (m_options.timeout.count() > 0)
        m_openTimer.start(m_options.timeout);
    const QPointer<ClientManager> self(this);
    Q_EMIT stateChanged();
    if (self && m_engine == engine)
        engine->open();
}

void ClientManager::onEngineOpened()
{
    Busy busy(this);
    m_openTimer.stop();
    m_state = State::Open;
    m_decoder = SocketIo::Decoder(10000);
    const bool wasReconnect = std::exchange(m_openIsReconnect, false);
    const int attempt = m_attempts;
    if (wasReconnect) {
        m_reconnecting = false;
        m_attempts = 0;
    }
    qCDebug(lcClient).noquote() << "connected to" << m_url << "as" << engineId();
    const QPointer<ClientManager> self(this);
    Q_EMIT stateChanged();
    if (!self || m_state != State::Open)
        return;
    Q_EMIT opened();
    if (self && wasReconnect)
        Q_EMIT reconnected(attempt);
}

void ClientManager::onEngineError(const QString &message, const QString &description)
{
    Busy busy(this);
    if (m_state == State::Opening) {
        releaseEngine(false);
        onOpenFailed(message, description);
    } else {
        Q_EMIT errorOccurred(message, description);
    }
}

void ClientManager::onOpenFailed(const QString &message, const QVariant &data)
{
    qCDebug(lcClient).noquote() << "cannot connect to" << m_url << message << data.toString();
    m_openTimer.stop();
    m_state = State::Closed;
    const bool wasReconnect = std::exchange(m_openIsReconnect, false);
    const QPointer<ClientManager> self(this);
    Q_EMIT errorOccurred(message, data);
    if (!self)
        return;
    if (wasReconnect) {
        m_reconnecting = false;
        reconnect();
    } else if (!m_reconnecting && m_options.reconnection && m_attempts == 0) {
        reconnect();
    }
    if (self)
        Q_EMIT stateChanged();
}

void ClientManager::onEngineClosed(const QString &reason)
{
    Busy busy(this);
    onClose(reason);
}

void ClientManager::onEngineMessage(const EngineIo::Packet &packet)
{
    Busy busy(this);
    const SocketIo::Decoder::Result result
        = packet.binary ? m_decoder.addBinary(packet.data) : m_decoder.addText(packet.data);
    switch (result) {
    case SocketIo::Decoder::Result::NeedMore:
        return;
    case SocketIo::Decoder::Result::Packet:
        Q_EMIT packetReceived(m_decoder.takePacket());
        return;
    case SocketIo::Decoder::Result::Error:
        qCWarning(lcClient).noquote()
            << "invalid Socket.IO packet from" << m_url << ":" << m_decoder.errorString();
        onClose(u"parse error"_s);
        return;
    }
}

void ClientManager::releaseEngine(bool close)
{
    EngineClient *engine = m_engine;
    if (!engine)
        return;
    m_engine = nullptr;
    QObject::disconnect(engine, nullptr, this, nullptr);
    if (close && engine->state() != EngineClient::State::Closed) {
        // What is queued (a DISCONNECT packet) still goes out.
        connect(engine, &EngineClient::closed, engine, &QObject::deleteLater);
        engine->close();
        if (engine->state() == EngineClient::State::Closed)
            engine->deleteLater();
    } else {
        engine->deleteLater();
    }
}

void ClientManager::onClose(const QString &reason)
{
    releaseEngine(true);
    m_openTimer.stop();
    m_state = State::Closed;
    m_attempts = 0;
    m_openIsReconnect = false;
    qCDebug(lcClient).noquote() << "connection to" << m_url << "closed:" << reason;
    const QPointer<ClientManager> self(this);
    // Clients that will hear of a reconnection go straight from Connected to Reconnecting.
    const bool retry = m_options.reconnection && !m_skipReconnect;
    if (retry)
        m_reconnecting = true;
    Q_EMIT closed(reason);
    if (!self)
        return;
    if (retry && !m_skipReconnect) {
        m_reconnecting = false;
        reconnect();
    }
    if (self)
        Q_EMIT stateChanged();
}

std::chrono::milliseconds ClientManager::nextDelay()
{
    // Exponential backoff (factor 2) from reconnectionDelay, spread by randomizationFactor on
    // either side so that clients of a restarted server do not all come back at once.
    const double base
        = double(m_options.reconnectionDelay.count()) * std::pow(2.0, double(qMin(m_attempts, 62)));
    ++m_attempts;
    double delay = base;
    const double factor = qBound(0.0, m_options.randomizationFactor, 1.0);
    if (factor > 0)
        delay = base * (1.0 + factor * (2.0 * QRandomGenerator::global()->generateDouble() - 1.0));
    delay = qMin(delay, double(m_options.reconnectionDelayMax.count()));
    return std::chrono::milliseconds(qint64(qMax(0.0, delay)));
}

void ClientManager::reconnect()
{
    if (m_reconnecting || m_skipReconnect)
        return;
    if (m_options.reconnectionAttempts >= 0 && m_attempts >= m_options.reconnectionAttempts) {
        qCDebug(lcClient).noquote()
            << "giving up on" << m_url << "after" << m_attempts << "attempts";
        m_attempts = 0;
        const QPointer<ClientManager> self(this);
        Q_EMIT stateChanged();
        if (self)
            Q_EMIT reconnectFailed();
        return;
    }
    const std::chrono::milliseconds delay = nextDelay();
    m_reconnecting = true;
    qCDebug(lcClient).noquote() << "reconnecting to" << m_url << "in" << delay.count() << "ms";
    m_reconnectTimer.start(delay);
    Q_EMIT stateChanged();
}

void ClientManager::sendPacket(const Packet &packet)
{
    if (!m_engine || m_state != State::Open)
        return;
    const SocketIo::Encoded encoded = SocketIo::encode(packet);
    QList<EngineIo::Packet> packets;
    packets.reserve(1 + encoded.attachments.size());
    packets.append(EngineIo::Packet::message(encoded.text));
    for (const QByteArray &attachment : encoded.attachments)
        packets.append(EngineIo::Packet::binaryMessage(attachment));
    m_engine->send(packets);
}

void ClientManager::deactivated()
{
    for (const QPointer<SocketClient> &client : std::as_const(m_namespaces)) {
        if (client && client->isActive())
            return;
    }
    closeConnection();
}

void ClientManager::closeConnection()
{
    Busy busy(this);
    m_skipReconnect = true;
    m_reconnecting = false;
    m_openIsReconnect = false;
    m_reconnectTimer.stop();
    if (m_state == State::Closed && !m_engine) {
        Q_EMIT stateChanged();
        return;
    }
    onClose(u"forced close"_s);
}

} // namespace QSocketIo
