// The server the interop tests and benchmarks drive, on one port:
// - at /engine.io/ a plain Engine.IO server that sends every message back to its sender;
// - at /socket.io/ a Socket.IO server with namespaces "/" and "/custom" and the events the
//   interop tests and benchmarks expect (see addSocketIoHandlers()); with --admin (or
//   --admin-user and --admin-password-hash, --admin-readonly, --admin-production) the Admin UI
//   namespace "/admin" as well.
// With --redis HOST:PORT the Socket.IO server joins a cluster through the Redis adapter
// (Node's @socket.io/redis-adapter format) and gets the cluster events of addClusterHandlers().
// Stays up until killed.

#include "../../examples/common/quitonsignals.h"

#include <QSocketIo/admininstrumentation.h>
#include <QSocketIo/engineserver.h>
#include <QSocketIo/epolleventdispatcher.h>
#include <QSocketIo/redisadapter.h>
#include <QSocketIo/socket.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>

#include <cstdio>

using namespace QSocketIo;
using namespace Qt::StringLiterals;

// The benchmarks' contract (bench/README.md), the same in the Node and python reference
// servers: echo, broadcast, join, room-broadcast on "/".
static void addBenchContract(Namespace *root)
{
    root->on(u"echo"_s,
        [](Socket *, const QVariantList &args, const Ack &ack) { ack({args.value(0)}); });
    root->on(u"broadcast"_s, [root](Socket *, const QVariantList &args, const Ack &ack) {
        root->emitEvent(u"bcast"_s, {args.value(0)});
        ack({root->socketsCount()});
    });
    root->on(u"join"_s, [](Socket *s, const QVariantList &args, const Ack &ack) {
        s->join(args.value(0).toString());
        ack({true});
    });
    // The sender gets the recipient count, as with "broadcast".
    root->on(u"room-broadcast"_s, [root](Socket *, const QVariantList &args, const Ack &ack) {
        const QString room = args.value(0).toString();
        root->to(room).emitEvent(u"bcast"_s, {args.value(1)});
        ack({int(root->adapter()->sockets({room}).size())});
    });
}

static void addSocketIoHandlers(SocketServer &io)
{
    addBenchContract(io.of(u"/"_s));
    for (const QString &name : {u"/"_s, u"/custom"_s}) {
        QObject::connect(io.of(name), &Namespace::connected, [](Socket *socket) {
            const QVariant auth = socket->handshake().auth;
            socket->emitEvent(u"auth"_s, {auth.isValid() ? auth : QVariantMap()});
        });
    }
    Namespace *root = io.of(u"/"_s);
    root->on(u"message"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->emitEvent(u"message-back"_s, args);
    });
    root->on(u"message-with-ack"_s,
        [](Socket *, const QVariantList &args, const Ack &ack) { ack(args); });
    root->on(u"leave"_s, [](Socket *s, const QVariantList &args, const Ack &ack) {
        s->leave(args.value(0).toString());
        ack({true});
    });
    // The server asks the client: emits args[0] with the remaining args and an ack; the
    // client's answer comes back as this event's ack.
    root->on(u"request-ack"_s, [](Socket *s, const QVariantList &args, const Ack &ack) {
        if (args.isEmpty())
            return;
        s->emitWithAck(
            args.at(0).toString(), args.mid(1),
            [ack](bool timedOut, const QVariantList &answer) {
                ack(timedOut ? QVariantList {u"timeout"_s} : answer);
            },
            std::chrono::seconds(5));
    });
    // Beyond the shared contract, for this project's own interop tests:
    // to-socket (sid, event, ...args): to one socket by id; except-room (room, event, ...args):
    // to every socket of "/" outside the room; volatile (data): answered as a volatile
    // volatile-back; server-disconnect: the server disconnects the socket; any-count and
    // outgoing-count (ack): how many events the catch-all listeners saw.
    root->on(u"to-socket"_s, [root](Socket *, const QVariantList &args, const Ack &) {
        if (args.size() >= 2)
            root->to(args.at(0).toString()).emitEvent(args.at(1).toString(), args.mid(2));
    });
    root->on(u"except-room"_s, [root](Socket *, const QVariantList &args, const Ack &) {
        if (args.size() >= 2)
            root->except(args.at(0).toString()).emitEvent(args.at(1).toString(), args.mid(2));
    });
    root->on(u"volatile"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        s->emitVolatile(u"volatile-back"_s, args);
    });
    root->on(u"server-disconnect"_s,
        [](Socket *s, const QVariantList &, const Ack &) { s->disconnect(); });
    QObject::connect(root, &Namespace::connected, [](Socket *socket) {
        socket->onAny([socket](const QString &, const QVariantList &) {
            socket->data()[u"incoming"_s] = socket->data().value(u"incoming"_s).toInt() + 1;
        });
        socket->onAnyOutgoing([socket](const QString &, const QVariantList &) {
            socket->data()[u"outgoing"_s] = socket->data().value(u"outgoing"_s).toInt() + 1;
        });
        socket->on(u"any-count"_s, [socket](const QVariantList &, const Ack &ack) {
            ack({socket->data().value(u"incoming"_s).toInt()});
        });
        socket->on(u"outgoing-count"_s, [socket](const QVariantList &, const Ack &ack) {
            ack({socket->data().value(u"outgoing"_s).toInt()});
        });
    });

    // Dynamic namespaces /dyn-<number>: on connect the server emits "nsp" with the name.
    Namespace *dynamic = io.of(QRegularExpression(u"^/dyn-\\d+$"_s));
    QObject::connect(dynamic, &Namespace::connected,
        [](Socket *socket) { socket->emitEvent(u"nsp"_s, {socket->nsp()->name()}); });

    // /guarded: a middleware wants auth {token: "secret"}, else refuses with data.
    io.of(u"/guarded"_s)->use([](Socket *socket, const Next &next) {
        if (socket->handshake().auth.toMap().value(u"token"_s) == u"secret"_s)
            next();
        else
            next(ConnectError {u"not authorized"_s, QVariantMap {{u"reason"_s, u"no token"_s}}});
    });
    root->on(u"to-room"_s, [](Socket *s, const QVariantList &args, const Ack &) {
        if (args.size() < 2)
            return;
        s->to(args.at(0).toString()).emitEvent(args.at(1).toString(), args.mid(2));
    });
}

static QVariantMap describe(const RemoteSocket &s)
{
    return {{u"id"_s, s.id()}, {u"rooms"_s, s.rooms()}, {u"data"_s, s.data()},
        {u"local"_s, s.isLocal()}, {u"handshake"_s, s.handshake()}};
}

// Cross-server operations driven by clients, for the cluster tests (tests/interop/lib/
// cluster-server.mjs gives a Node server the same events). On "/":
// - sockets-join / sockets-leave (room or null, target): io.in(room).socketsJoin(target);
// - disconnect-sockets (room or null, close);
// - fetch-sockets (room or null) -> ack {sockets: [{id, rooms, data, local, handshake}], error};
// - set-data (key, value): the socket's data, seen by fetch-sockets;
// - server-side-emit (event, ...args); server-side-emit-with-ack (event, ...args) -> ack
//   {timedOut, responses};
// - emit-with-ack-to (room or null, event, ...args) -> ack {timedOut, responses}: a broadcast
//   with acks across the cluster;
// - volatile-to (room, event, ...args);
// - server-id -> ack with this server's id.
// Every server-side emit received is passed to this server's clients as "sse-received"
// [event, ...args]; "ping-sse" is also acknowledged with ["pong", serverId, ...args].
static void addClusterHandlers(SocketServer &io, const QString &serverId)
{
    Namespace *root = io.of(u"/"_s);
    auto select = [root](const QVariant &room) {
        return room.isNull() || room.toString().isEmpty() ? root->all() : root->in(room.toString());
    };
    root->on(u"sockets-join"_s, [select](Socket *, const QVariantList &args, const Ack &ack) {
        select(args.value(0)).socketsJoin(args.value(1).toString());
        ack({true});
    });
    root->on(u"sockets-leave"_s, [select](Socket *, const QVariantList &args, const Ack &ack) {
        select(args.value(0)).socketsLeave(args.value(1).toString());
        ack({true});
    });
    root->on(u"disconnect-sockets"_s, [select](Socket *, const QVariantList &args, const Ack &ack) {
        ack({true});
        select(args.value(0)).disconnectSockets(args.value(1).toBool());
    });
    root->on(u"fetch-sockets"_s, [select](Socket *, const QVariantList &args, const Ack &ack) {
        select(args.value(0))
            .fetchSockets([ack](const QList<RemoteSocket> &sockets, const QString &error) {
                QVariantList list;
                for (const RemoteSocket &s : sockets)
                    list.append(describe(s));
                ack({QVariantMap {{u"sockets"_s, list},
                    {u"error"_s,
                        error.isEmpty() ? QVariant::fromValue(nullptr) : QVariant(error)}}});
            });
    });
    root->on(u"set-data"_s, [](Socket *s, const QVariantList &args, const Ack &ack) {
        s->setDataValue(args.value(0).toString(), args.value(1));
        ack({true});
    });
    root->on(u"server-side-emit"_s, [root](Socket *, const QVariantList &args, const Ack &ack) {
        ack({root->serverSideEmit(args.value(0).toString(), args.mid(1))});
    });
    root->on(
        u"server-side-emit-with-ack"_s, [root](Socket *, const QVariantList &args, const Ack &ack) {
            root->serverSideEmitWithAck(args.value(0).toString(), args.mid(1),
                [ack](bool timedOut, const QVariantList &responses) {
                    ack({QVariantMap {{u"timedOut"_s, timedOut}, {u"responses"_s, responses}}});
                });
        });
    root->on(u"emit-with-ack-to"_s, [select](Socket *, const QVariantList &args, const Ack &ack) {
        select(args.value(0))
            .emitWithAck(
                args.value(1).toString(), args.mid(2),
                [ack](bool timedOut, const QList<QVariantList> &responses) {
                    QVariantList firsts;
                    for (const QVariantList &r : responses)
                        firsts.append(r.value(0));
                    ack({QVariantMap {{u"timedOut"_s, timedOut}, {u"responses"_s, firsts}}});
                },
                std::chrono::seconds(5));
    });
    root->on(u"volatile-to"_s, [root](Socket *, const QVariantList &args, const Ack &) {
        root->in(args.value(0).toString())
            .asVolatile()
            .emitEvent(args.value(1).toString(), args.mid(2));
    });
    root->on(u"server-id"_s,
        [serverId](Socket *, const QVariantList &, const Ack &ack) { ack({serverId}); });
    root->onServerSideEmit(u"ping-sse"_s, [serverId](const QVariantList &args, const Ack &ack) {
        ack(QVariantList {u"pong"_s, serverId} + args);
    });
    QObject::connect(root, &Namespace::serverSideEmitted,
        [root](const QString &event, const QVariantList &args, const Ack &) {
            root->all().local().emitEvent(u"sse-received"_s, QVariantList {event} + args);
        });
}

int main(int argc, char **argv)
{
    // The dispatcher must be in place before the application object exists.
    for (int i = 1; i < argc; ++i) {
        if (qstrcmp(argv[i], "--epoll") == 0)
            EpollEventDispatcher::installForMainThread();
    }
    QCoreApplication app(argc, argv);
    QSocketIoExamples::quitOnSignals(&app);
    QCommandLineParser parser;
    parser.setApplicationDescription(u"QSocketIo interop test server"_s);
    parser.addHelpOption();
    const QCommandLineOption host(u"host"_s, u"Address to listen on."_s, u"host"_s, u"127.0.0.1"_s);
    const QCommandLineOption port(u"port"_s, u"Port (0: any free port)."_s, u"port"_s,
        qEnvironmentVariable("PORT", u"3000"_s));
    const QCommandLineOption pingInterval(u"ping-interval"_s, u"Ping interval."_s, u"ms"_s);
    const QCommandLineOption pingTimeout(u"ping-timeout"_s, u"Ping timeout."_s, u"ms"_s);
    const QCommandLineOption maxPayload(u"max-payload"_s, u"max_http_buffer_size."_s, u"bytes"_s);
    const QCommandLineOption connectTimeout(
        u"connect-timeout"_s, u"Socket.IO connect timeout."_s, u"ms"_s);
    const QCommandLineOption corsOrigin(
        u"cors-origin"_s, u"Allowed origin (repeatable, '*' for any)."_s, u"origin"_s);
    const QCommandLineOption noCredentials(
        u"no-cors-credentials"_s, u"Do not allow credentials."_s);
    const QCommandLineOption tlsCert(u"tls-cert"_s, u"PEM certificate for TLS."_s, u"file"_s);
    const QCommandLineOption tlsKey(u"tls-key"_s, u"PEM private key for TLS."_s, u"file"_s);
    const QCommandLineOption transports(
        u"transports"_s, u"Comma-separated transports."_s, u"list"_s);
    const QCommandLineOption noUpgrades(u"no-upgrades"_s, u"Do not offer upgrades."_s);
    const QCommandLineOption cookie(
        u"cookie"_s, u"Set a session cookie of this name."_s, u"name"_s);
    const QCommandLineOption admin(u"admin"_s, u"Serve the Admin UI namespace /admin (no auth)."_s);
    const QCommandLineOption adminUser(
        u"admin-user"_s, u"Admin UI basic auth: user name (implies --admin)."_s, u"name"_s);
    const QCommandLineOption adminPasswordHash(u"admin-password-hash"_s,
        u"Admin UI basic auth: bcrypt hash of the password."_s, u"bcrypt"_s);
    const QCommandLineOption adminReadonly(
        u"admin-readonly"_s, u"Admin UI without commands (implies --admin)."_s);
    const QCommandLineOption adminProduction(u"admin-production"_s,
        u"Admin UI in production mode: aggregates only (implies --admin)."_s);
    const QCommandLineOption bench(u"bench"_s,
        u"Only the benchmarks' contract (echo, broadcast, join, room-broadcast), without the "
        "interop tests' extra listeners."_s);
    const QCommandLineOption epoll(
        u"epoll"_s, u"Run on QSocketIo's epoll event dispatcher instead of Qt's default."_s);
    const QCommandLineOption workerThreads(u"worker-threads"_s,
        u"WebSocket I/O worker threads (EngineOptions::workerThreads)."_s, u"n"_s);
    const QCommandLineOption redis(u"redis"_s,
        u"Join a cluster through Redis at HOST:PORT (Node's redis-adapter format)."_s,
        u"host:port"_s);
    const QCommandLineOption serverId(
        u"server-id"_s, u"This server's name in the cluster and the admin UI."_s, u"id"_s);
    const QCommandLineOption redisTimeout(u"redis-requests-timeout"_s,
        u"How long cluster requests wait for the other servers (default 5000)."_s, u"ms"_s);
    parser.addOptions({redis, redisTimeout, serverId});
    parser.addOptions({workerThreads, epoll, bench, host, port, pingInterval, pingTimeout,
        maxPayload, connectTimeout, corsOrigin, noCredentials, tlsCert, tlsKey, transports,
        noUpgrades, cookie, admin, adminUser, adminPasswordHash, adminReadonly, adminProduction});
    parser.process(app);

    auto number = [&](const QCommandLineOption &option) {
        bool ok = false;
        const qint64 value = parser.value(option).toLongLong(&ok);
        if (!ok || value < 0) {
            std::fprintf(
                stderr, "--%s needs a non-negative number\n", qPrintable(option.names().first()));
            std::exit(2);
        }
        return value;
    };

    EngineOptions options;
    options.path = u"/engine.io/"_s;
    if (parser.isSet(pingInterval))
        options.pingInterval = std::chrono::milliseconds(number(pingInterval));
    if (parser.isSet(pingTimeout))
        options.pingTimeout = std::chrono::milliseconds(number(pingTimeout));
    if (parser.isSet(maxPayload))
        options.maxHttpBufferSize = number(maxPayload);
    if (parser.isSet(workerThreads))
        options.workerThreads = int(qMin<qint64>(number(workerThreads), 64));
    if (parser.isSet(corsOrigin))
        options.corsAllowedOrigins = CorsAllowedOrigins::list(parser.values(corsOrigin));
    options.corsCredentials = !parser.isSet(noCredentials);
    if (parser.isSet(transports))
        options.transports = parser.value(transports).split(u',', Qt::SkipEmptyParts);
    options.allowUpgrades = !parser.isSet(noUpgrades);
    if (parser.isSet(cookie)) {
        CookieOptions c;
        c.name = parser.value(cookie);
        options.cookie = c;
    }
    if (parser.isSet(tlsCert) != parser.isSet(tlsKey)) {
        std::fprintf(stderr, "--tls-cert and --tls-key go together\n");
        return 2;
    }
    if (parser.isSet(tlsCert)) {
        QString error;
        options.ssl
            = EngineOptions::tlsFromPemFiles(parser.value(tlsCert), parser.value(tlsKey), &error);
        if (!options.ssl) {
            std::fprintf(stderr, "TLS: %s\n", qPrintable(error));
            return 2;
        }
    }

    SocketServerOptions ioOptions;
    static_cast<EngineOptions &>(ioOptions) = options;
    ioOptions.path = u"/socket.io/"_s;
    if (parser.isSet(connectTimeout))
        ioOptions.connectTimeout = std::chrono::milliseconds(number(connectTimeout));
    if (parser.isSet(redis)) {
        RedisAdapterOptions redisOptions;
        if (!redisOptions.setAddress(parser.value(redis))) {
            std::fprintf(stderr, "--redis needs HOST:PORT\n");
            return 2;
        }
        if (parser.isSet(redisTimeout))
            redisOptions.requestsTimeout = std::chrono::milliseconds(number(redisTimeout));
        ioOptions.adapterFactory = RedisAdapter::factory(redisOptions);
    }
    const QString id = parser.isSet(serverId)
        ? parser.value(serverId)
        : u"qsio-%1"_s.arg(QCoreApplication::applicationPid());
    SocketServer io(ioOptions);
    if (parser.isSet(bench)) {
        addBenchContract(io.of(u"/"_s));
    } else {
        addSocketIoHandlers(io);
        addClusterHandlers(io, id);
    }
    if (parser.isSet(adminUser) != parser.isSet(adminPasswordHash)) {
        std::fprintf(stderr, "--admin-user and --admin-password-hash go together\n");
        return 2;
    }
    std::unique_ptr<AdminInstrumentation> instrumentation;
    if (parser.isSet(admin) || parser.isSet(adminUser) || parser.isSet(adminReadonly)
        || parser.isSet(adminProduction)) {
        AdminOptions adminOptions;
        adminOptions.username = parser.value(adminUser);
        adminOptions.passwordHash = parser.value(adminPasswordHash).toUtf8();
        adminOptions.readonly = parser.isSet(adminReadonly);
        if (parser.isSet(serverId))
            adminOptions.serverId = id;
        if (parser.isSet(adminProduction))
            adminOptions.mode = AdminOptions::Mode::Production;
        instrumentation = std::make_unique<AdminInstrumentation>(&io, adminOptions);
    }

    EngineServer server(options);
    QObject::connect(&server, &EngineServer::newConnection, [](EngineSocket *socket) {
        QObject::connect(socket, &EngineSocket::messageReceived, socket,
            [socket](const QByteArray &data, bool binary) {
                if (binary)
                    socket->sendBinary(data);
                else
                    socket->send(data);
            });
    });
    const QHostAddress address(parser.value(host));
    if (address.isNull()) {
        std::fprintf(stderr, "--host needs an IP address\n");
        return 2;
    }
    const qint64 portNumber = number(port);
    if (portNumber > 65535 || !io.listen(address, quint16(portNumber))) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(io.errorString()));
        return 1;
    }
    server.attach(io.engine()->httpServer()); // the same port, its own path
    const QString shownHost = address.protocol() == QAbstractSocket::IPv6Protocol
        ? u'[' + address.toString() + u']'
        : address.toString();
    std::printf("listening on %s://%s:%u\n", options.ssl ? "https" : "http", qPrintable(shownHost),
        unsigned(io.serverPort()));
    std::fflush(stdout);
    return app.exec();
}
