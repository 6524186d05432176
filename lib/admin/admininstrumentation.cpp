#include "admininstrumentation.h"

#include "../socket/socket.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qhash.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qpointer.h>
#include <QtCore/qrandom.h>
#include <QtCore/qsysinfo.h>
#include <QtCore/qthreadpool.h>
#include <QtCore/qtimer.h>

#include <crypt.h>

#include <cstring>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace QSocketIo {

Q_LOGGING_CATEGORY(lcAdmin, "qsocketio.admin", QtWarningMsg)

namespace {

constexpr std::chrono::milliseconds statsInterval {2000};

// Node's process.uptime(): seconds since this process started, not since the instrumentation
// was made. Linux gives the start time in clock ticks after boot (/proc/self/stat, field 22).
std::optional<double> processUptime()
{
    QFile stat(u"/proc/self/stat"_s);
    QFile uptime(u"/proc/uptime"_s);
    if (!stat.open(QIODevice::ReadOnly) || !uptime.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray statText = stat.readAll();
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    const qsizetype close = statText.lastIndexOf(')');
    if (close < 0)
        return std::nullopt;
    const QList<QByteArray> fields = statText.mid(close + 2).split(' ');
    constexpr int startTimeField = 22 - 3; // fields after the name start at field 3
    if (fields.size() <= startTimeField)
        return std::nullopt;
    bool ok1 = false;
    bool ok2 = false;
    const double startTicks = fields.at(startTimeField).toDouble(&ok1);
    const double sinceBoot = uptime.readAll().split(' ').value(0).toDouble(&ok2);
    const long ticksPerSecond = sysconf(_SC_CLK_TCK);
    if (!ok1 || !ok2 || ticksPerSecond <= 0)
        return std::nullopt;
    return std::max(0.0, sinceBoot - startTicks / double(ticksPerSecond));
}

QString timestamp()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // Length is not secret (bcrypt output has a fixed length); the contents are.
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

QVariantMap serializeSocket(Socket *socket)
{
    QStringList rooms = socket->rooms().values();
    rooms.sort();
    const QString engineId = socket->engineSocket() ? socket->engineSocket()->id() : QString();
    return {
        {u"id"_s, socket->id()},
        {u"clientId"_s, engineId.left(12)},
        {u"transport"_s, socket->transport()},
        {u"nsp"_s, socket->nsp()->name()},
        {u"data"_s, socket->data()},
        {u"handshake"_s, socket->handshake().toVariantMap()},
        {u"rooms"_s, rooms},
    };
}

// A socket of another server of the cluster. Node's admin instrumentation keeps the Engine.IO
// details in data._admin, so that they travel with fetchSockets(); ours are shown when present.
QVariantMap serializeRemoteSocket(const RemoteSocket &socket, const QString &nsp)
{
    QVariantMap data = socket.data().toMap();
    const QVariantMap admin = data.take(u"_admin"_s).toMap();
    QVariantMap handshake = socket.handshake();
    handshake.remove(u"auth"_s);
    QStringList rooms = socket.rooms();
    rooms.sort();
    return {
        {u"id"_s, socket.id()},
        {u"clientId"_s, admin.value(u"clientId"_s, QString()).toString()},
        {u"transport"_s, admin.value(u"transport"_s, QString()).toString()},
        {u"nsp"_s, nsp},
        {u"data"_s, data},
        {u"handshake"_s, handshake},
        {u"rooms"_s, rooms},
    };
}

} // namespace

class AdminInstrumentationPrivate
{
public:
    AdminInstrumentation *q;
    QPointer<SocketServer> server;
    AdminOptions options;
    QPointer<Namespace> admin;
    QTimer statsTimer;
    QElapsedTimer uptime; // when /proc is not readable
    // bcrypt takes a quarter of a second at cost 12: password checks run here, two at a time,
    // never on the event loop. Logins beyond maxPendingLogins are refused at once.
    QThreadPool verifier;
    QHash<quint64, Next> pendingLogins; // by job number, until their check is back
    quint64 lastLogin = 0;
    static constexpr int maxPendingLogins = 64;
    // The data last announced per socket, to notice edits made through Socket::data().
    QHash<Socket *, QVariantMap> announcedData;
    QSet<Socket *> watched; // with an outgoing-event hook
    QHash<Socket *, QList<QVariantList>> sentBeforeAnnounced;
    QSet<Namespace *> hooked;
    QSet<EngineSocket *> hookedConnections;
    // Sockets already announced (a dynamic child's socket shows up through its parent too).
    QSet<Socket *> known;
    QHash<Socket *, QString> pendingSessions; // password logins whose `session` follows CONNECT
    QHash<QString, QDateTime> sessions; // id -> expiry

    struct EventKey
    {
        qint64 second;
        QString type;
        QString subType;
        friend bool operator==(const EventKey &a, const EventKey &b)
        {
            return a.second == b.second && a.type == b.type && a.subType == b.subType;
        }
        friend size_t qHash(const EventKey &k, size_t seed = 0)
        {
            return qHashMulti(seed, k.second, k.type, k.subType);
        }
    };
    QHash<EventKey, qint64> aggregated;
    QList<EventKey> aggregatedOrder;

    bool development() const { return options.mode == AdminOptions::Mode::Development; }
    bool isAdmin(Namespace *nsp) const { return nsp == admin; }

    void count(const QString &type, qint64 n = 1, const QString &subType = {})
    {
        const qint64 second = QDateTime::currentMSecsSinceEpoch() / 1000 * 1000;
        const EventKey key {second, type, subType};
        auto it = aggregated.find(key);
        if (it == aggregated.end()) {
            aggregated.insert(key, n);
            aggregatedOrder.append(key);
        } else {
            *it += n;
        }
    }

    void toAdmins(const QString &event, const QVariantList &args)
    {
        if (admin)
            admin->emitEvent(event, args);
    }

    void hookConnection(EngineSocket *connection)
    {
        if (hookedConnections.contains(connection))
            return;
        hookedConnections.insert(connection);
        QObject::connect(connection, &EngineSocket::packetReceived, q, [this](qint64 bytes) {
            count(u"packetsIn"_s);
            count(u"bytesIn"_s, bytes);
        });
        QObject::connect(connection, &EngineSocket::packetSent, q, [this](qint64 bytes) {
            count(u"packetsOut"_s);
            count(u"bytesOut"_s, bytes);
        });
        // A CONNECT may make a namespace (a `namespaces` entry, "*") that has no creation
        // signal; the server handled the packet before this runs, so the new namespace and its
        // socket are picked up at once.
        QObject::connect(connection, &EngineSocket::messageReceived, q,
            [this](const QByteArray &data, bool binary) {
                if (!binary && data.startsWith('0'))
                    rescanNamespaces();
            });
        QObject::connect(
            connection, &EngineSocket::upgraded, q, [this, connection](const QString &transport) {
                if (!development())
                    return;
                for (Socket *s : std::as_const(known)) {
                    if (s->engineSocket() == connection) {
                        toAdmins(u"socket_updated"_s,
                            {QVariantMap {{u"id"_s, s->id()}, {u"nsp"_s, s->nsp()->name()},
                                {u"transport"_s, transport}}});
                    }
                }
            });
        QObject::connect(
            connection, &EngineSocket::closed, q, [this, connection](const QString &reason) {
                hookedConnections.remove(connection);
                count(u"rawDisconnection"_s, 1, reason);
            });
    }

    void hookNamespace(Namespace *nsp)
    {
        if (hooked.contains(nsp))
            return;
        hooked.insert(nsp);
        QObject::connect(nsp, &QObject::destroyed, q, [this, nsp] { hooked.remove(nsp); });
        QObject::connect(nsp, &Namespace::connected, q, [this](Socket *s) { onConnected(s); });
        QObject::connect(nsp, &Namespace::disconnected, q,
            [this](Socket *s, const QString &reason) { onDisconnected(s, reason); });
        if (development() && !isAdmin(nsp)) {
            // The application's connect handlers and `connected` slots run before this
            // object's slot and may emit already: a middleware is the one place that sees the
            // socket first (Node's instrumentation prepends its listener for the same reason).
            nsp->use([self = QPointer<AdminInstrumentation>(q)](Socket *s, const Next &next) {
                if (self)
                    self->d_func()->watchOutgoing(s);
                next();
            });
        }
        for (Socket *s : nsp->sockets())
            onConnected(s);
    }

    // event_sent for every event the socket is sent. Those emitted before socket_connected
    // went out wait for it.
    void watchOutgoing(Socket *socket)
    {
        if (watched.contains(socket))
            return;
        watched.insert(socket);
        QObject::connect(socket, &QObject::destroyed, q, [this, socket] {
            watched.remove(socket);
            sentBeforeAnnounced.remove(socket);
        });
        const QString name = socket->nsp()->name();
        const QString id = socket->id();
        socket->onAnyOutgoing(
            [self = QPointer<AdminInstrumentation>(q), this, name, id,
                guard = QPointer<Socket>(socket)](const QString &event, const QVariantList &args) {
                if (!self || !guard)
                    return;
                QVariantList payload {event};
                payload.append(args);
                const QVariantList notice {name, id, payload, timestamp()};
                if (!known.contains(guard) && guard->isConnected())
                    onConnected(guard); // a `connected` slot ahead of ours emits
                if (known.contains(guard))
                    toAdmins(u"event_sent"_s, notice);
                else
                    sentBeforeAnnounced[guard].append(notice); // a connect handler emits
            });
    }

    void rescanNamespaces()
    {
        if (!server)
            return;
        for (Namespace *nsp : server->namespaces())
            hookNamespace(nsp);
    }

    void onConnected(Socket *socket)
    {
        if (known.contains(socket) || !socket->isConnected())
            return;
        known.insert(socket);
        QObject::connect(socket, &QObject::destroyed, q, [this, socket] {
            known.remove(socket);
            pendingSessions.remove(socket);
            announcedData.remove(socket);
        });
        Namespace *nsp = socket->nsp();
        if (socket->engineSocket())
            hookConnection(socket->engineSocket());
        if (development()) {
            const QString name = nsp->name();
            const QString id = socket->id();
            // The socket to announce is itself an admin: it learns about itself from
            // all_sockets, the others from this.
            if (admin) {
                BroadcastOperator others = admin->all();
                if (isAdmin(nsp))
                    others = others.except(id);
                others.emitEvent(u"socket_connected"_s, {serializeSocket(socket), timestamp()});
                for (const QString &room : socket->rooms())
                    others.emitEvent(u"room_joined"_s, {name, room, id, timestamp()});
            }
            QObject::connect(socket, &Socket::roomJoined, q, [this, name, id](const QString &room) {
                toAdmins(u"room_joined"_s, {name, room, id, timestamp()});
            });
            QObject::connect(socket, &Socket::roomLeft, q, [this, name, id](const QString &room) {
                toAdmins(u"room_left"_s, {name, room, id, timestamp()});
            });
            announcedData.insert(socket, socket->data());
            QObject::connect(
                socket, &Socket::dataChanged, q, [this, socket] { announceData(socket); });
            if (!isAdmin(nsp)) {
                watchOutgoing(socket);
                for (const QVariantList &notice : sentBeforeAnnounced.take(socket))
                    toAdmins(u"event_sent"_s, notice);
                QPointer<AdminInstrumentation> self(q);
                socket->onAny([self, this, name, id, guard = QPointer<Socket>(socket)](
                                  const QString &event, const QVariantList &args) {
                    if (!self)
                        return;
                    QVariantList payload {event};
                    payload.append(args);
                    toAdmins(u"event_received"_s, {name, id, payload, timestamp()});
                    // The handler runs after this: look at the data once it has.
                    QTimer::singleShot(0, q, [this, guard] {
                        if (guard)
                            announceData(guard);
                    });
                });
            }
        }
        if (isAdmin(nsp))
            welcome(socket);
    }

    void onDisconnected(Socket *socket, const QString &reason)
    {
        if (!known.remove(socket))
            return;
        pendingSessions.remove(socket);
        announcedData.remove(socket);
        if (development()) {
            toAdmins(u"socket_disconnected"_s,
                {socket->nsp()->name(), socket->id(), reason, timestamp()});
        }
    }

    // socket_updated {id, nsp, data} when the data differs from what admins last saw.
    void announceData(Socket *socket)
    {
        auto it = announcedData.find(socket);
        if (it == announcedData.end() || *it == socket->data())
            return;
        *it = socket->data();
        toAdmins(u"socket_updated"_s,
            {QVariantMap {
                {u"id"_s, socket->id()}, {u"nsp"_s, socket->nsp()->name()}, {u"data"_s, *it}}});
    }

    QVariantList supportedFeatures() const
    {
        QVariantList features;
        if (!options.readonly) {
            for (const char *f :
                {"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"})
                features.append(QString::fromLatin1(f));
        }
        features.append(u"AGGREGATED_EVENTS"_s);
        if (development())
            features.append(u"ALL_EVENTS"_s);
        return features;
    }

    void welcome(Socket *socket)
    {
        if (const QString session = pendingSessions.take(socket); !session.isEmpty())
            socket->emitEvent(u"session"_s, {session});
        socket->emitEvent(u"config"_s,
            {QVariantMap {{u"supportedFeatures"_s, supportedFeatures()},
                {u"qsioExtensions"_s, QStringList {u"qsio:handlers"_s, u"qsio:routes"_s}}}});
        if (development())
            sendAllSockets(socket);
        QVariantList handlers;
        QVariantList routes;
        if (server) {
            for (const HandlerInfo &h : server->handlers()) {
                handlers.append(
                    QVariantMap {{u"nsp"_s, h.nsp}, {u"event"_s, h.event}, {u"how"_s, h.how}});
            }
            for (const SocketServer::Route &r : server->routes()) {
                routes.append(QVariantMap {
                    {u"path"_s, r.path}, {u"transports"_s, r.transports}, {u"mount"_s, r.mount}});
            }
        }
        socket->emitEvent(u"qsio:handlers"_s, {QVariant(handlers)});
        socket->emitEvent(u"qsio:routes"_s, {QVariant(routes)});
        socket->emitEvent(u"server_stats"_s, {stats(false)});
        if (!options.readonly)
            registerCommands(socket);
    }

    // This server's sockets, then those of the other servers of a cluster (the adapter's
    // fetchSockets(); with the in-memory adapter there are none and this is synchronous).
    void sendAllSockets(Socket *adminSocket)
    {
        struct Gathering
        {
            int pending = 0;
            QVariantList all;
            QSet<QString> seen; // nsp + id: a dynamic child shows up through its parent too
        };
        auto gathering = std::make_shared<Gathering>();
        const QList<Namespace *> namespaces = server ? server->namespaces() : QList<Namespace *>();
        for (Namespace *nsp : namespaces) {
            for (Socket *s : nsp->sockets()) {
                if (s->isConnected()) {
                    gathering->all.append(serializeSocket(s));
                    gathering->seen.insert(nsp->name() + u' ' + s->id());
                }
            }
        }
        const QPointer<Socket> target(adminSocket);
        gathering->pending = int(namespaces.size()) + 1;
        auto done = [gathering, target] {
            if (--gathering->pending == 0 && target)
                target->emitEvent(u"all_sockets"_s, {QVariant(gathering->all)});
        };
        for (Namespace *nsp : namespaces) {
            nsp->all().fetchSockets(
                [gathering, done](const QList<RemoteSocket> &sockets, const QString &) {
                    for (const RemoteSocket &s : sockets) {
                        const QString nspName = s.nsp() ? s.nsp()->name() : QString();
                        if (s.isLocal() || gathering->seen.contains(nspName + u' ' + s.id()))
                            continue;
                        gathering->seen.insert(nspName + u' ' + s.id());
                        gathering->all.append(serializeRemoteSocket(s, nspName));
                    }
                    done();
                });
        }
        done();
    }

    QVariantMap stats(bool drain)
    {
        QVariantList events;
        if (drain) {
            for (const EventKey &key : std::as_const(aggregatedOrder)) {
                QVariantMap e {{u"timestamp"_s, key.second}, {u"type"_s, key.type},
                    {u"count"_s, aggregated.value(key)}};
                if (!key.subType.isEmpty())
                    e.insert(u"subType"_s, key.subType);
                events.append(e);
            }
            aggregated.clear();
            aggregatedOrder.clear();
        }
        int clients = 0;
        int polling = 0;
        QVariantList namespaces;
        if (server) {
            const QList<EngineSocket *> connections = server->engine()->sockets();
            clients = int(connections.size());
            for (EngineSocket *c : connections)
                polling += c->transport() == u"polling"_s ? 1 : 0;
            for (Namespace *nsp : server->namespaces()) {
                namespaces.append(QVariantMap {
                    {u"name"_s, nsp->name()}, {u"socketsCount"_s, nsp->socketsCount()}});
            }
        }
        return {
            {u"serverId"_s, options.serverId},
            {u"hostname"_s, QSysInfo::machineHostName()},
            {u"pid"_s, QCoreApplication::applicationPid()},
            {u"uptime"_s, processUptime().value_or(uptime.elapsed() / 1000.0)},
            {u"clientsCount"_s, clients},
            {u"pollingClientsCount"_s, polling},
            {u"aggregatedEvents"_s, events},
            {u"namespaces"_s, namespaces},
        };
    }

    static BroadcastOperator select(Namespace *nsp, const QVariant &filter)
    {
        const QString f = filter.toString();
        return f.isEmpty() ? nsp->all() : nsp->in(f);
    }

    // The handlers stay with the admin socket, which may outlive this object: they hold
    // nothing of it.
    void registerCommands(Socket *adminSocket)
    {
        const QPointer<SocketServer> target = server;
        auto nspOf = [target](const QVariantList &args) -> Namespace * {
            return target ? target->existingNamespace(args.value(0).toString()) : nullptr;
        };
        adminSocket->on(u"join"_s, [nspOf](const QVariantList &args, const Ack &) {
            if (Namespace *nsp = nspOf(args))
                select(nsp, args.value(2)).socketsJoin(args.value(1).toString());
        });
        adminSocket->on(u"leave"_s, [nspOf](const QVariantList &args, const Ack &) {
            if (Namespace *nsp = nspOf(args))
                select(nsp, args.value(2)).socketsLeave(args.value(1).toString());
        });
        adminSocket->on(u"_disconnect"_s, [nspOf](const QVariantList &args, const Ack &) {
            if (Namespace *nsp = nspOf(args))
                select(nsp, args.value(2)).disconnectSockets(args.value(1).toBool());
        });
        adminSocket->on(u"emit"_s, [nspOf](const QVariantList &args, const Ack &) {
            Namespace *nsp = nspOf(args);
            const QString event = args.value(2).toString();
            if (!nsp || event.isEmpty())
                return;
            select(nsp, args.value(1)).emitEvent(event, args.mid(3));
        });
    }

    void authenticate(Socket *socket, const Next &next)
    {
        if (options.username.isEmpty())
            return next();
        const QVariantMap auth = socket->handshake().auth.toMap();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (auto it = sessions.begin(); it != sessions.end();)
            it = it.value() < now ? sessions.erase(it) : std::next(it);
        const QString sessionId = auth.value(u"sessionId"_s).toString();
        if (!sessionId.isEmpty() && sessions.contains(sessionId))
            return next();
        if (pendingLogins.size() >= maxPendingLogins)
            return next(ConnectError {u"too many login attempts, try again later"_s, {}});
        const bool userOk = constantTimeEquals(
            auth.value(u"username"_s).toString().toUtf8(), options.username.toUtf8());
        const QByteArray password = auth.value(u"password"_s).toString().toUtf8();
        const QByteArray hash = options.passwordHash;
        const quint64 job = ++lastLogin;
        pendingLogins.insert(job, next);
        // The instrumentation waits for this pool before it goes, so `q` outlives the job;
        // a reply still queued when it goes is dropped with its events.
        verifier.start([this, job, userOk, password, hash, guard = QPointer<Socket>(socket)] {
            const bool passwordOk = AdminInstrumentation::verifyPassword(password, hash);
            QMetaObject::invokeMethod(
                q,
                [this, job, ok = userOk && passwordOk, guard] {
                    const auto it = pendingLogins.constFind(job);
                    if (it == pendingLogins.cend())
                        return;
                    const Next next = *it;
                    pendingLogins.erase(it);
                    if (!ok)
                        return next(ConnectError {u"invalid credentials"_s, {}});
                    if (!guard)
                        return next(); // gone meanwhile: the namespace drops it
                    QString id;
                    for (int i = 0; i < 2; ++i) {
                        id += u"%1"_s.arg(
                            QRandomGenerator::system()->generate(), 8, 16, QChar(u'0'));
                    }
                    sessions.insert(id,
                        QDateTime::currentDateTimeUtc().addMSecs(options.sessionLifetime.count()));
                    pendingSessions.insert(guard, id);
                    next();
                },
                Qt::QueuedConnection);
        });
    }
};

AdminInstrumentation::AdminInstrumentation(
    SocketServer *server, const AdminOptions &options, QObject *parent)
    : QObject(parent)
    , d_ptr(new AdminInstrumentationPrivate)
{
    Q_D(AdminInstrumentation);
    d->q = this;
    d->server = server;
    d->options = options;
    if (d->options.serverId.isEmpty())
        d->options.serverId = QSysInfo::machineHostName();
    d->uptime.start();
    d->verifier.setMaxThreadCount(2);
    d->admin = server->of(d->options.namespaceName);
    // The namespace outlives this object: once it is gone, admins are turned away.
    d->admin->use([self = QPointer<AdminInstrumentation>(this)](Socket *socket, const Next &next) {
        if (!self)
            return next(ConnectError {u"admin instrumentation stopped"_s, {}});
        self->d_func()->authenticate(socket, next);
    });

    EngineServer *engine = server->engine();
    connect(engine, &EngineServer::newConnection, this, [d](EngineSocket *connection) {
        d->count(u"rawConnection"_s);
        d->hookConnection(connection);
        d->rescanNamespaces();
    });
    for (EngineSocket *connection : engine->sockets())
        d->hookConnection(connection);
    d->rescanNamespaces();

    d->statsTimer.setInterval(statsInterval);
    connect(&d->statsTimer, &QTimer::timeout, this, [d] {
        // Namespaces made on demand have no creation signal: pick them up here.
        d->rescanNamespaces();
        if (d->development()) {
            const QList<Socket *> sockets = d->announcedData.keys();
            for (Socket *socket : sockets)
                d->announceData(socket);
        }
        d->toAdmins(u"server_stats"_s, {d->stats(true)});
    });
    d->statsTimer.start();
}

AdminInstrumentation::~AdminInstrumentation()
{
    Q_D(AdminInstrumentation);
    // Password checks still queued are dropped and their admins refused; running ones post to
    // this object, which must still exist until they end.
    d->verifier.clear();
    d->verifier.waitForDone();
    const QList<Next> waiting = d->pendingLogins.values();
    d->pendingLogins.clear();
    for (const Next &next : waiting)
        next(ConnectError {u"admin instrumentation stopped"_s, {}});
}

const AdminOptions &AdminInstrumentation::options() const
{
    return d_func()->options;
}

Namespace *AdminInstrumentation::adminNamespace() const
{
    return d_func()->admin;
}

bool AdminInstrumentation::verifyPassword(const QByteArray &password, const QByteArray &hash)
{
    if (!hash.startsWith("$2a$") && !hash.startsWith("$2b$") && !hash.startsWith("$2y$"))
        return false;
    auto data = std::make_unique<crypt_data>();
    std::memset(data.get(), 0, sizeof(crypt_data));
    const char *out
        = crypt_rn(password.constData(), hash.constData(), data.get(), sizeof(crypt_data));
    if (!out || out[0] == '*')
        return false;
    return constantTimeEquals(QByteArray(out), hash);
}

} // namespace QSocketIo
