#include "socketserver.h"

#include "socketevent.h"
#include "socketserver_p.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qeventloop.h>
#include <QtCore/qtimer.h>

#include <QtCore/qcoreevent.h>

namespace QSocketIo {

using namespace Qt::StringLiterals;
using SocketIo::Packet;
using SocketIo::PacketType;

Q_LOGGING_CATEGORY(lcSocket, "qsocketio.socket", QtWarningMsg)

bool isEmittable(const QString &event)
{
    if (!SocketIo::isReservedEventName(event))
        return true;
    qCWarning(lcSocket) << "not emitted: the event name" << event << "is reserved by Socket.IO";
    return false;
}

Packet eventPacket(const QString &nsp, const QString &event, const QVariantList &args)
{
    Packet p;
    p.type = PacketType::Event;
    p.nsp = nsp;
    QVariantList data;
    data.reserve(args.size() + 1);
    data.append(event);
    data.append(args);
    p.data = std::move(data);
    return p;
}

// ---- Client ----

Client::Client(SocketServerPrivate *server, EngineSocket *connection)
    : QObject(connection)
    , server(server)
    , connection(connection)
    , key(connection)
    , decoder(server->options.maxAttachments)
{
    connect(connection, &EngineSocket::messageReceived, this, &Client::onMessage);
    connect(connection, &EngineSocket::closed, this,
        [this](const QString &reason) { onConnectionClosed(reason); });
    connectTimer.start(server->options.connectTimeout);
}

Client::~Client()
{
    server->clients.remove(key);
}

void Client::onConnectTimeout()
{
    if (sockets.isEmpty() && connection) {
        qCDebug(lcSocket) << "connection" << connection->id() << "joined no namespace in time";
        connection->close(u"connect timeout"_s);
    }
}

bool Client::write(const EngineMessages &messages, bool isVolatile)
{
    if (!connection || connection->state() != EngineSocket::State::Open)
        return false;
    if (isVolatile)
        return connection->sendVolatile(messages);
    for (const EngineMessage &message : messages)
        connection->sendMessage(message);
    return true;
}

bool Client::writePacket(const Packet &packet, bool isVolatile)
{
    return write(prepare(packet), isVolatile);
}

void Client::onMessage(const QByteArray &data, bool binary)
{
    const auto result = binary ? decoder.addBinary(data) : decoder.addText(data);
    switch (result) {
    case SocketIo::Decoder::Result::NeedMore:
        return;
    case SocketIo::Decoder::Result::Error:
        protocolError(decoder.errorString());
        return;
    case SocketIo::Decoder::Result::Packet:
        onPacket(decoder.takePacket());
        return;
    }
}

void Client::protocolError(const QString &why)
{
    qCWarning(lcSocket) << "closing connection" << (connection ? connection->id() : QString())
                        << "after a malformed packet:" << why;
    const auto list = sockets.values();
    for (Socket *s : list)
        s->d_func()->onClose(u"parse error"_s);
    if (connection)
        connection->close(u"parse error"_s);
}

void Client::onPacket(Packet &&packet)
{
    Socket *socket = sockets.value(packet.nsp);
    const bool connectType
        = packet.type == PacketType::Connect || packet.type == PacketType::ConnectError;
    if (!socket && packet.type == PacketType::Connect) {
        connectTo(packet.nsp, packet.data);
        return;
    }
    if (!socket || connectType) {
        // As Node does: a packet for a namespace the client has not joined, or a CONNECT for
        // one it has, ends the connection.
        protocolError(
            u"packet of type %1 for namespace %2 in the wrong state"_s.arg(int(packet.type))
                .arg(packet.nsp));
        return;
    }
    switch (packet.type) {
    case PacketType::Event:
        socket->d_func()->onEvent(std::move(packet));
        break;
    case PacketType::Ack:
        socket->d_func()->onAck(std::move(packet));
        break;
    case PacketType::Disconnect:
        socket->d_func()->onClose(u"client namespace disconnect"_s);
        break;
    default:
        break;
    }
}

void Client::connectTo(const QString &name, const QVariant &auth)
{
    if (connecting.value(name)) {
        protocolError(u"second CONNECT to %1 while the first is in progress"_s.arg(name));
        return;
    }
    Namespace *nsp = server->closing ? nullptr : server->namespaceFor(name, auth);
    if (!nsp) {
        Packet refusal;
        refusal.type = PacketType::ConnectError;
        refusal.nsp = name;
        refusal.data = QVariantMap {
            {u"message"_s, server->closing ? u"Server shutting down"_s : u"Invalid namespace"_s}};
        writePacket(refusal);
        return;
    }
    nsp->d_func()->add(this, auth);
}

void Client::removeSocket(Socket *socket)
{
    sockets.removeSocket(socket);
}

void Client::disconnectAll(const QString &reason)
{
    const auto list = sockets.values();
    for (Socket *s : list) {
        Packet p;
        p.type = PacketType::Disconnect;
        p.nsp = s->d_func()->nsp->name();
        writePacket(p);
        s->d_func()->onClose(reason);
    }
    if (connection)
        connection->close();
}

void Client::onConnectionClosed(const QString &reason)
{
    const auto list = sockets.values();
    for (Socket *s : list)
        s->d_func()->onClose(reason);
    // Those still in their middlewares will never connect.
    for (const QPointer<Socket> &s : std::exchange(connecting, {})) {
        if (s) {
            s->d_func()->state = SocketPrivate::State::Closed;
            s->deleteLater();
        }
    }
}

// ---- SocketServerPrivate ----

SocketServerPrivate::SocketServerPrivate(SocketServer *q, const SocketServerOptions &opts)
    : q_ptr(q)
    , options(opts)
{
    if (options.logger)
        const_cast<QLoggingCategory &>(lcSocket()).setEnabled(QtDebugMsg, true);
}

QString SocketServerPrivate::normalizedName(const QString &name)
{
    return name.startsWith(u'/') ? name : u'/' + name;
}

Adapter *SocketServerPrivate::makeAdapter(Namespace *nsp) const
{
    const Adapter::Factory factory
        = options.adapterFactory ? options.adapterFactory : Adapter::defaultFactory();
    Q_ASSERT_X(factory, "SocketServer", "no adapter factory (the in-memory adapter registers one)");
    return factory(nsp);
}

Namespace *SocketServerPrivate::createNamespace(const QString &name, Namespace *parent)
{
    Q_Q(SocketServer);
    auto *nsp = new Namespace(q, name, parent);
    NamespacePrivate *nd = nsp->d_func();
    nd->adapter = makeAdapter(nsp);
    QObject::connect(
        nd->adapter, &Adapter::roomJoined, nsp, [nsp](const QString &room, const QString &sid) {
            if (Socket *s = nsp->socket(sid))
                Q_EMIT s->roomJoined(room);
        });
    QObject::connect(
        nd->adapter, &Adapter::roomLeft, nsp, [nsp](const QString &room, const QString &sid) {
            if (Socket *s = nsp->socket(sid))
                Q_EMIT s->roomLeft(room);
        });
    if (!name.isEmpty())
        namespaces.insert(name, nsp);
    if (parent)
        parent->d_func()->children.append(nsp);
    return nsp;
}

Namespace *SocketServerPrivate::namespaceFor(const QString &name, const QVariant &auth)
{
    if (Namespace *nsp = namespaces.value(name))
        return nsp;
    for (Namespace *parent : std::as_const(dynamicParents)) {
        NamespacePrivate *pd = parent->d_func();
        const bool match = pd->accept ? pd->accept(name, auth) : pd->pattern.match(name).hasMatch();
        if (match) {
            Namespace *child = createNamespace(name, parent);
            child->d_func()->onDemand = true;
            return child;
        }
    }
    if (options.namespaces.contains(u"*"_s) || options.namespaces.contains(name)) {
        Namespace *nsp = createNamespace(name, nullptr);
        nsp->d_func()->onDemand = true;
        return nsp;
    }
    return nullptr;
}

void SocketServerPrivate::cleanupIfEmpty(Namespace *nsp)
{
    NamespacePrivate *nd = nsp->d_func();
    if (!options.cleanupEmptyChildNamespaces || !nd->onDemand || !nd->sockets.isEmpty())
        return;
    if (namespaces.value(nd->name) == nsp)
        namespaces.remove(nd->name);
    if (nd->parent)
        nd->parent->d_func()->children.removeAll(nsp);
    nsp->deleteLater();
}

void SocketServerPrivate::onConnection(EngineSocket *connection)
{
    if (closing) {
        connection->close(u"server shutting down"_s);
        return;
    }
    clients.insert(connection, new Client(this, connection));
}

void SocketServerPrivate::collectSocketEvents()
{
    Q_Q(SocketServer);
    if (socketEventsCollected)
        return;
    socketEventsCollected = true;
    for (const SocketEventRegistration &r : registeredSocketEvents()) {
        Namespace *nsp = q->of(QString::fromUtf8(r.nsp));
        const QString event = QString::fromUtf8(r.event);
        const SocketEventFunction function = r.function;
        if (event == u"connect") {
            nsp->onConnect(
                [function](Socket *socket, const QVariant &auth) {
                    function(socket, {auth}, Ack());
                    return true;
                },
                u"SOCKET_EVENT"_s);
        } else if (event == u"disconnect") {
            nsp->onDisconnect([function](Socket *socket,
                                  const QString &reason) { function(socket, {reason}, Ack()); },
                u"SOCKET_EVENT"_s);
        } else {
            nsp->on(
                event,
                [function](Socket *socket, const QVariantList &args, const Ack &ack) {
                    function(socket, args, ack);
                },
                u"SOCKET_EVENT"_s);
        }
    }
}

int SocketServerPrivate::pendingAcks() const
{
    int count = 0;
    for (Namespace *n : namespaces) {
        for (Socket *s : n->d_func()->sockets)
            count += int(s->d_func()->acks.size());
    }
    return count;
}

void SocketServerPrivate::finishClose()
{
    // As Node's io.close(): the sockets end here with "server shutting down" and the
    // connections close after what was queued, without a DISCONNECT packet, so that clients
    // reconnect once the server is back.
    const auto list = clients.values();
    for (Client *c : list) {
        const auto sockets = c->sockets.values();
        for (Socket *s : sockets)
            s->d_func()->onClose(u"server shutting down"_s);
    }
    engine->close();
}

static QPointer<SocketServer> &defaultServer()
{
    static QPointer<SocketServer> server;
    return server;
}

SocketServer *socketApi()
{
    return defaultServer();
}

// ---- SocketServer ----

SocketServer::SocketServer(const SocketServerOptions &options, QObject *parent)
    : QObject(parent)
    , d_ptr(std::make_unique<SocketServerPrivate>(this, options))
{
    Q_D(SocketServer);
    d->engine = new EngineServer(d->options, this);
    d->options.path = d->engine->options().path;
    connect(d->engine, &EngineServer::newConnection, this,
        [d](EngineSocket *connection) { d->onConnection(connection); });
    connect(d->engine, &EngineServer::closed, this, &SocketServer::closed);
    of(u"/"_s);
    if (!defaultServer())
        defaultServer() = this;
    if (QCoreApplication *app = QCoreApplication::instance()) {
        // The event loop has stopped when aboutToQuit comes: run it a little longer so the
        // clients hear of the shutdown.
        connect(app, &QCoreApplication::aboutToQuit, this, [this] {
            Q_D(SocketServer);
            if (d->engine->clientsCount() == 0)
                return;
            QEventLoop loop;
            connect(this, &SocketServer::closed, &loop, &QEventLoop::quit);
            QTimer::singleShot(3000, &loop, &QEventLoop::quit);
            close(std::chrono::milliseconds(1000));
            loop.exec();
        });
    }
}

void SocketServer::setDefault()
{
    defaultServer() = this;
}

SocketServer::~SocketServer()
{
    Q_D(SocketServer);
    // Sessions end before the namespaces their sockets belong to.
    delete d->engine;
    // Cluster adapters call back whoever still waits for other servers now, while the server is
    // whole: after this body the private part is gone before the namespaces are.
    const auto namespaces = findChildren<Namespace *>(Qt::FindDirectChildrenOnly);
    for (Namespace *nsp : namespaces)
        nsp->adapter()->close();
}

const SocketServerOptions &SocketServer::options() const
{
    return d_func()->options;
}
EngineServer *SocketServer::engine() const
{
    return d_func()->engine;
}
bool SocketServer::attach(QHttpServer *server)
{
    Q_D(SocketServer);
    d->collectSocketEvents();
    if (!d->engine->attach(server))
        return false;
    d->mountDescription = u"attached to an application's QHttpServer"_s;
    return true;
}
quint16 SocketServer::serverPort() const
{
    return d_func()->engine->serverPort();
}
QString SocketServer::errorString() const
{
    return d_func()->engine->errorString();
}

bool SocketServer::listen(const QHostAddress &address, quint16 port)
{
    Q_D(SocketServer);
    d->collectSocketEvents();
    if (!d->engine->listen(address, port))
        return false;
    const QString where
        = u"listening on %1:%2"_s.arg(address.toString()).arg(d->engine->serverPorts().constLast());
    d->mountDescription
        = d->mountDescription.isEmpty() ? where : d->mountDescription + u", "_s + where;
    return true;
}

QList<SocketServer::Route> SocketServer::routes() const
{
    Q_D(const SocketServer);
    return {{d->options.path, d->options.transports, d->mountDescription}};
}

Namespace *SocketServer::of(const QString &name)
{
    Q_D(SocketServer);
    const QString n = SocketServerPrivate::normalizedName(name);
    if (Namespace *nsp = d->namespaces.value(n))
        return nsp;
    return d->createNamespace(n, nullptr);
}

Namespace *SocketServer::of(const QRegularExpression &pattern)
{
    Q_D(SocketServer);
    Namespace *parent = d->createNamespace(QString(), nullptr);
    parent->d_func()->name = pattern.pattern();
    parent->d_func()->pattern = pattern;
    d->dynamicParents.append(parent);
    return parent;
}

Namespace *SocketServer::of(std::function<bool(const QString &, const QVariant &)> accept)
{
    Q_D(SocketServer);
    Namespace *parent = d->createNamespace(QString(), nullptr);
    parent->d_func()->name = u"<callback>"_s;
    parent->d_func()->accept = std::move(accept);
    d->dynamicParents.append(parent);
    return parent;
}

Namespace *SocketServer::existingNamespace(const QString &name) const
{
    return d_func()->namespaces.value(SocketServerPrivate::normalizedName(name));
}

QList<Namespace *> SocketServer::namespaces() const
{
    return d_func()->namespaces.values();
}

Socket *SocketServer::socket(const QString &sid, const QString &nsp) const
{
    Namespace *n = existingNamespace(nsp);
    return n ? n->socket(sid) : nullptr;
}

bool SocketServer::emitEvent(
    const QString &event, const QVariantList &args, const EmitOptions &options)
{
    Namespace *n = existingNamespace(options.nsp());
    if (!n)
        return false;
    return n->all().to(options.rooms()).except(options.skipSids()).emitEvent(event, args);
}

bool SocketServer::enterRoom(const QString &sid, const QString &room, const QString &nsp)
{
    Socket *s = socket(sid, nsp);
    if (s)
        s->join(room);
    return s;
}

bool SocketServer::leaveRoom(const QString &sid, const QString &room, const QString &nsp)
{
    Socket *s = socket(sid, nsp);
    if (s)
        s->leave(room);
    return s;
}

QStringList SocketServer::rooms(const QString &sid, const QString &nsp) const
{
    Socket *s = socket(sid, nsp);
    if (!s)
        return {};
    const QSet<QString> rooms = s->rooms();
    QStringList list(rooms.cbegin(), rooms.cend());
    list.sort();
    return list;
}

bool SocketServer::disconnect(const QString &sid, const QString &nsp)
{
    Socket *s = socket(sid, nsp);
    if (s)
        s->disconnect();
    return s;
}

QList<HandlerInfo> SocketServer::handlers() const
{
    Q_D(const SocketServer);
    QList<HandlerInfo> list;
    QList<Namespace *> all = d->namespaces.values();
    all.append(d->dynamicParents);
    for (Namespace *n : std::as_const(all)) {
        if (n->parentNamespace())
            continue; // children share their parent's handlers
        list.append(n->handlerInfos());
    }
    std::sort(list.begin(), list.end(), [](const HandlerInfo &a, const HandlerInfo &b) {
        return std::tie(a.nsp, a.event, a.how) < std::tie(b.nsp, b.event, b.how);
    });
    return list;
}

void SocketServer::close(std::chrono::milliseconds timeout)
{
    Q_D(SocketServer);
    if (d->closing)
        return;
    d->closing = true;
    d->engine->stopListening();
    if (d->pendingAcks() == 0 || timeout.count() <= 0) {
        d->finishClose();
        return;
    }
    // Let the answers the server waits for arrive, up to the timeout.
    auto *poll = new QTimer(this);
    const QDeadlineTimer deadline(timeout);
    connect(poll, &QTimer::timeout, this, [d, poll, deadline] {
        if (d->pendingAcks() > 0 && !deadline.hasExpired())
            return;
        poll->deleteLater();
        d->finishClose();
    });
    poll->start(20);
}

bool SocketServer::isClosing() const
{
    return d_func()->closing;
}

} // namespace QSocketIo
