#include "adminclient.h"

#include "adminmodels.h"

#include <QSocketIo/socketclient.h>

#include <QtCore/qloggingcategory.h>
#include <QtCore/qsettings.h>
#include <QtCore/qtimer.h>

Q_LOGGING_CATEGORY(lcAdminClient, "qsocketio.admin.client")

namespace AdminApp {

namespace {

const QString kGroup = QStringLiteral("connection");

bool isList(const QVariant &v)
{
    return v.metaType().id() == QMetaType::QVariantList
        || v.metaType().id() == QMetaType::QStringList;
}

bool isMap(const QVariant &v)
{
    return v.metaType().id() == QMetaType::QVariantMap;
}

bool isString(const QVariant &v)
{
    return v.metaType().id() == QMetaType::QString;
}

void warnMalformed(const QString &event, const QVariantList &args)
{
    qCWarning(lcAdminClient).noquote() << "malformed" << event << "event ignored:" << args;
}

} // namespace

// ConnectionSettings ----------------------------------------------------------------------------

ConnectionSettings ConnectionSettings::load(QSettings &settings)
{
    ConnectionSettings s;
    settings.beginGroup(kGroup);
    s.url = settings.value(QStringLiteral("url"), s.url).toUrl();
    s.path = settings.value(QStringLiteral("path"), s.path).toString();
    s.nsp = settings.value(QStringLiteral("nsp"), s.nsp).toString();
    s.username = settings.value(QStringLiteral("username"), s.username).toString();
    s.websocketOnly = settings.value(QStringLiteral("websocketOnly"), s.websocketOnly).toBool();
    s.ignoreTlsErrors
        = settings.value(QStringLiteral("ignoreTlsErrors"), s.ignoreTlsErrors).toBool();
    s.sessionId = settings.value(QStringLiteral("sessionId")).toString();
    s.sessionUrl = settings.value(QStringLiteral("sessionUrl")).toUrl();
    s.sessionPath = settings.value(QStringLiteral("sessionPath")).toString();
    s.sessionNsp = settings.value(QStringLiteral("sessionNsp")).toString();
    settings.endGroup();
    // Issued for another server (or saved by an older build, without where it came from): sending
    // it would hand one server's credentials to another.
    if (!s.hasUsableSession())
        s.clearSession();
    return s;
}

void ConnectionSettings::save(QSettings &settings) const
{
    settings.beginGroup(kGroup);
    settings.setValue(QStringLiteral("url"), url);
    settings.setValue(QStringLiteral("path"), path);
    settings.setValue(QStringLiteral("nsp"), nsp);
    settings.setValue(QStringLiteral("username"), username);
    settings.setValue(QStringLiteral("websocketOnly"), websocketOnly);
    settings.setValue(QStringLiteral("ignoreTlsErrors"), ignoreTlsErrors);
    if (hasUsableSession()) {
        settings.setValue(QStringLiteral("sessionId"), sessionId);
        settings.setValue(QStringLiteral("sessionUrl"), sessionUrl);
        settings.setValue(QStringLiteral("sessionPath"), sessionPath);
        settings.setValue(QStringLiteral("sessionNsp"), sessionNsp);
    } else {
        for (const char *key : {"sessionId", "sessionUrl", "sessionPath", "sessionNsp"})
            settings.remove(QLatin1String(key));
    }
    // A password written by an older build would otherwise linger.
    settings.remove(QStringLiteral("password"));
    settings.endGroup();
}

void ConnectionSettings::setSession(const QString &id)
{
    sessionId = id;
    sessionUrl = url;
    sessionPath = path;
    sessionNsp = nsp;
}

void ConnectionSettings::clearSession()
{
    sessionId.clear();
    sessionUrl.clear();
    sessionPath.clear();
    sessionNsp.clear();
}

bool ConnectionSettings::hasUsableSession() const
{
    return !sessionId.isEmpty() && sessionUrl.isValid() && sessionUrl == url && sessionPath == path
        && sessionNsp == nsp;
}

QVariantMap ConnectionSettings::auth() const
{
    if (hasUsableSession())
        return {{QStringLiteral("sessionId"), sessionId}};
    if (!username.isEmpty())
        return {{QStringLiteral("username"), username}, {QStringLiteral("password"), password}};
    return {};
}

// AdminClient -----------------------------------------------------------------------------------

class AdminClient::Private
{
public:
    explicit Private(AdminClient *q)
        : q(q)
    {
    }

    AdminClient *q;
    ConnectionSettings settings;
    QPointer<QSocketIo::SocketClient> client;
    State state = State::Disconnected;
    QString lastError;
    QStringList features;
    QStringList extensions;
    QVariantList routes;
    // A refused session id gets one password retry per connection.
    bool retriedWithPassword = false;
    bool retrying = false;
    QTimer healthTimer;

    ServersModel *servers = nullptr;
    SocketsModel *sockets = nullptr;
    RoomsModel *rooms = nullptr;
    HandlersModel *handlers = nullptr;
    EventLogModel *eventLog = nullptr;

    void dropClient();
    void syncState();
    void hookEvents(QSocketIo::SocketClient *c);
    void onConnectError(const QString &message, const QVariant &data);
    bool command(const char *feature, const QString &event, const QVariantList &args);
    bool commandsAllowed(const char *feature) const;
};

void AdminClient::Private::dropClient()
{
    if (!client)
        return;
    QSocketIo::SocketClient *c = client;
    client = nullptr;
    QObject::disconnect(c, nullptr, q, nullptr);
    c->disconnect();
    // We may be inside one of its signals.
    c->deleteLater();
    healthTimer.stop();
    retrying = false;
}

void AdminClient::Private::syncState()
{
    State next = State::Disconnected;
    if (retrying) {
        next = State::Connecting;
    } else if (client) {
        switch (client->state()) {
        case QSocketIo::SocketClient::State::Disconnected:
            next = State::Disconnected;
            break;
        case QSocketIo::SocketClient::State::Connecting:
            next = State::Connecting;
            break;
        case QSocketIo::SocketClient::State::Connected:
            next = State::Connected;
            break;
        case QSocketIo::SocketClient::State::Reconnecting:
            next = State::Reconnecting;
            break;
        }
    }
    if (next == state)
        return;
    state = next;
    Q_EMIT q->stateChanged(state);
}

void AdminClient::Private::onConnectError(const QString &message, const QVariant &data)
{
    QString text = message;
    if (text.isEmpty())
        text = data.toMap().value(QStringLiteral("message")).toString();
    lastError = text;
    const bool refused = client && client->state() == QSocketIo::SocketClient::State::Disconnected;
    const bool sentSession
        = client && !client->auth().value(QStringLiteral("sessionId")).toString().isEmpty();
    if (refused && sentSession) {
        // The server forgot the session (restart, expiry): never send it again.
        settings.clearSession();
        if (!retriedWithPassword && !settings.username.isEmpty()) {
            retriedWithPassword = true;
            retrying = true;
            client->setAuth(settings.auth());
            // The client is still unwinding its refusal.
            QTimer::singleShot(0, client, [this, c = client] {
                if (c != client || !retrying)
                    return;
                retrying = false;
                c->open();
                syncState();
            });
            return;
        }
    }
    Q_EMIT q->connectError(text);
    // The refusal's Disconnected state may have been announced before this error: publish it now.
    syncState();
}

void AdminClient::Private::hookEvents(QSocketIo::SocketClient *c)
{
    using Args = const QVariantList &;
    using Ack = const QSocketIo::Ack &;

    c->on(QStringLiteral("session"), [this](Args args, Ack) {
        if (!isString(args.value(0)) || args.value(0).toString().isEmpty())
            return warnMalformed(QStringLiteral("session"), args);
        settings.setSession(args.value(0).toString());
        Q_EMIT q->sessionReceived(settings.sessionId);
    });
    c->on(QStringLiteral("config"), [this](Args args, Ack) {
        if (!isMap(args.value(0)))
            return warnMalformed(QStringLiteral("config"), args);
        const QVariantMap config = args.value(0).toMap();
        features = config.value(QStringLiteral("supportedFeatures")).toStringList();
        extensions = config.value(QStringLiteral("qsioExtensions")).toStringList();
        // Without per-socket tracking no all_sockets follows to replace the old list.
        if (!features.contains(QLatin1String("ALL_EVENTS")))
            sockets->clear();
        if (!extensions.contains(QLatin1String("qsio:handlers")))
            handlers->clear();
        if (!extensions.contains(QLatin1String("qsio:routes")) && !routes.isEmpty()) {
            routes.clear();
            Q_EMIT q->routesChanged();
        }
        Q_EMIT q->configChanged();
    });
    c->on(QStringLiteral("all_sockets"), [this](Args args, Ack) {
        if (!isList(args.value(0)))
            return warnMalformed(QStringLiteral("all_sockets"), args);
        QList<SocketsModel::SocketInfo> list;
        for (const QVariant &s : args.value(0).toList()) {
            if (isMap(s))
                list.append(SocketsModel::fromSerialized(s.toMap()));
        }
        sockets->reset(list);
    });
    c->on(QStringLiteral("server_stats"), [this](Args args, Ack) {
        if (!isMap(args.value(0)))
            return warnMalformed(QStringLiteral("server_stats"), args);
        servers->addStats(args.value(0).toMap());
    });
    c->on(QStringLiteral("socket_connected"), [this](Args args, Ack) {
        if (!isMap(args.value(0)))
            return warnMalformed(QStringLiteral("socket_connected"), args);
        SocketsModel::SocketInfo info = SocketsModel::fromSerialized(args.value(0).toMap());
        if (info.id.isEmpty() || info.nsp.isEmpty())
            return warnMalformed(QStringLiteral("socket_connected"), args);
        if (!info.connectedAt.isValid()) {
            info.connectedAt = parseTimestamp(args.value(1));
        }
        sockets->addSocket(info);
    });
    c->on(QStringLiteral("socket_updated"), [this](Args args, Ack) {
        const QVariantMap update = args.value(0).toMap();
        const QString id = update.value(QStringLiteral("id")).toString();
        const QString nsp = update.value(QStringLiteral("nsp")).toString();
        if (!isMap(args.value(0)) || id.isEmpty() || nsp.isEmpty())
            return warnMalformed(QStringLiteral("socket_updated"), args);
        sockets->updateSocket(nsp, id, update);
    });
    c->on(QStringLiteral("socket_disconnected"), [this](Args args, Ack) {
        if (!isString(args.value(0)) || !isString(args.value(1)))
            return warnMalformed(QStringLiteral("socket_disconnected"), args);
        sockets->removeSocket(args.value(0).toString(), args.value(1).toString());
    });
    for (const bool joined : {true, false}) {
        const QString name = joined ? QStringLiteral("room_joined") : QStringLiteral("room_left");
        c->on(name, [this, joined, name](Args args, Ack) {
            if (!isString(args.value(0)) || !isString(args.value(1)) || !isString(args.value(2)))
                return warnMalformed(name, args);
            if (joined)
                sockets->joinRoom(args[0].toString(), args[1].toString(), args[2].toString());
            else
                sockets->leaveRoom(args[0].toString(), args[1].toString(), args[2].toString());
        });
    }
    for (const bool received : {true, false}) {
        const QString name
            = received ? QStringLiteral("event_received") : QStringLiteral("event_sent");
        c->on(name, [this, received, name](Args args, Ack) {
            if (!isString(args.value(0)) || !isString(args.value(1)) || !isList(args.value(2))
                || args.value(2).toList().isEmpty())
                return warnMalformed(name, args);
            eventLog->addEvent(
                received ? EventLogModel::Direction::Received : EventLogModel::Direction::Sent,
                args[0].toString(), args[1].toString(), args[2].toList(), args.value(3));
        });
    }
    c->on(QStringLiteral("qsio:handlers"), [this](Args args, Ack) {
        if (!isList(args.value(0)))
            return warnMalformed(QStringLiteral("qsio:handlers"), args);
        handlers->setHandlers(args.value(0).toList());
    });
    c->on(QStringLiteral("qsio:routes"), [this](Args args, Ack) {
        if (!isList(args.value(0)))
            return warnMalformed(QStringLiteral("qsio:routes"), args);
        routes.clear();
        for (const QVariant &r : args.value(0).toList()) {
            if (isMap(r))
                routes.append(r);
        }
        Q_EMIT q->routesChanged();
    });
}

bool AdminClient::Private::commandsAllowed(const char *feature) const
{
    return client && client->isConnected() && features.contains(QLatin1String(feature));
}

bool AdminClient::Private::command(
    const char *feature, const QString &event, const QVariantList &args)
{
    if (!commandsAllowed(feature)) {
        qCDebug(lcAdminClient) << event << "not sent: not connected or not allowed";
        return false;
    }
    return client->emitEvent(event, args);
}

AdminClient::AdminClient(QObject *parent)
    : QObject(parent)
    , d(new Private(this))
{
    d->servers = new ServersModel(this);
    d->sockets = new SocketsModel(this);
    d->rooms = new RoomsModel(d->sockets, this);
    d->handlers = new HandlersModel(this);
    d->eventLog = new EventLogModel(this);
    d->healthTimer.setInterval(1000);
    connect(&d->healthTimer, &QTimer::timeout, this, [this] { d->servers->refreshHealth(); });
}

AdminClient::~AdminClient()
{
    if (d->client) {
        QSocketIo::SocketClient *c = d->client;
        QObject::disconnect(c, nullptr, this, nullptr);
        delete c;
    }
    delete d;
}

void AdminClient::connectToServer(const ConnectionSettings &settings)
{
    d->dropClient();
    d->servers->clear();
    d->sockets->clear();
    d->handlers->clear();
    d->eventLog->clear();
    d->features.clear();
    d->extensions.clear();
    d->routes.clear();
    d->lastError.clear();
    d->retriedWithPassword = false;
    d->settings = settings;
    // settings() must not hand a session for another server back to be saved.
    if (!d->settings.hasUsableSession())
        d->settings.clearSession();
    Q_EMIT configChanged();
    Q_EMIT routesChanged();

    QSocketIo::SocketClientOptions options;
    options.path = settings.path;
    options.nsp = settings.nsp;
    options.auth = settings.auth();
    options.websocketOnly = settings.websocketOnly;
    options.rejectUnauthorized = !settings.ignoreTlsErrors;
    options.autoConnect = false;

    auto *c = new QSocketIo::SocketClient(settings.url, options, this);
    d->client = c;
    d->hookEvents(c);
    connect(c, &QSocketIo::SocketClient::stateChanged, this, [this, c] {
        if (c != d->client)
            return;
        // A refusal announces Disconnected just before its error: wait for the error's handling
        // (which may retry) so the state does not flicker.
        if (c->state() == QSocketIo::SocketClient::State::Disconnected)
            QTimer::singleShot(0, this, [this] { d->syncState(); });
        else
            d->syncState();
    });
    connect(c, &QSocketIo::SocketClient::connected, this, [this] {
        d->retriedWithPassword = false;
        d->lastError.clear();
        d->syncState();
        Q_EMIT connected();
    });
    connect(c, &QSocketIo::SocketClient::disconnected, this, [this](const QString &reason) {
        d->lastError = reason;
        d->syncState();
        Q_EMIT disconnected(reason);
    });
    connect(c, &QSocketIo::SocketClient::connectError, this,
        [this](const QString &message, const QVariant &data) { d->onConnectError(message, data); });
    d->healthTimer.start();
    c->open();
    d->syncState();
}

void AdminClient::disconnectFromServer()
{
    if (!d->client)
        return;
    const bool wasConnected = d->client->isConnected();
    d->dropClient();
    d->syncState();
    if (wasConnected)
        Q_EMIT disconnected(QStringLiteral("io client disconnect"));
}

ConnectionSettings AdminClient::settings() const
{
    return d->settings;
}

AdminClient::State AdminClient::state() const
{
    return d->state;
}

QString AdminClient::lastError() const
{
    return d->lastError;
}

QStringList AdminClient::supportedFeatures() const
{
    return d->features;
}

bool AdminClient::isReadonly() const
{
    for (const char *f : {"EMIT", "JOIN", "LEAVE", "DISCONNECT"}) {
        if (d->features.contains(QLatin1String(f)))
            return false;
    }
    return true;
}

bool AdminClient::isDevelopmentMode() const
{
    return d->features.contains(QLatin1String("ALL_EVENTS"));
}

bool AdminClient::hasHandlersExtension() const
{
    return d->extensions.contains(QLatin1String("qsio:handlers"));
}

QVariantList AdminClient::routes() const
{
    return d->routes;
}

ServersModel *AdminClient::servers() const
{
    return d->servers;
}

SocketsModel *AdminClient::sockets() const
{
    return d->sockets;
}

RoomsModel *AdminClient::rooms() const
{
    return d->rooms;
}

HandlersModel *AdminClient::handlers() const
{
    return d->handlers;
}

EventLogModel *AdminClient::eventLog() const
{
    return d->eventLog;
}

bool AdminClient::joinRoom(const QString &nsp, const QString &room, const QString &filter)
{
    QVariantList args {nsp, room};
    if (!filter.isEmpty())
        args.append(filter);
    return d->command("JOIN", QStringLiteral("join"), args);
}

bool AdminClient::leaveRoom(const QString &nsp, const QString &room, const QString &filter)
{
    QVariantList args {nsp, room};
    if (!filter.isEmpty())
        args.append(filter);
    return d->command("LEAVE", QStringLiteral("leave"), args);
}

bool AdminClient::disconnectSockets(const QString &nsp, bool closeConnection, const QString &filter)
{
    QVariantList args {nsp, closeConnection};
    if (!filter.isEmpty())
        args.append(filter);
    return d->command("DISCONNECT", QStringLiteral("_disconnect"), args);
}

bool AdminClient::emitEvent(
    const QString &nsp, const QString &filter, const QString &event, const QVariantList &args)
{
    if (event.isEmpty())
        return false;
    QVariantList all {
        nsp, filter.isEmpty() ? QVariant::fromValue(nullptr) : QVariant(filter), event};
    all.append(args);
    return d->command("EMIT", QStringLiteral("emit"), all);
}

qint64 AdminClient::maxPayload() const
{
    return d->client ? d->client->maxPayload() : 0;
}

QSocketIo::SocketClient *AdminClient::socketClient() const
{
    return d->client;
}

} // namespace AdminApp
