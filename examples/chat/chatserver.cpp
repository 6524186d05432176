#include "chatserver.h"

#include <QSocketIo/socket.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qmap.h>
#include <QtCore/qpointer.h>
#include <QtCore/qrandom.h>
#include <QtCore/qtimer.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <utility>

using namespace Qt::StringLiterals;
using QSocketIo::Ack;
using QSocketIo::RemoteSocket;
using QSocketIo::Socket;

Q_LOGGING_CATEGORY(lcChat, "chat")

namespace {

// The server-side emit that tells the other servers of a cluster to refresh their lists.
const QString listsChangedEvent = u"chat:lists-changed"_s;

// Each answer is one map: {"ok": true, ...} or {"ok": false, "error": "..."}.
void refuse(const Ack &ack, const QString &error)
{
    ack({QVariantMap {{u"ok"_s, false}, {u"error"_s, error}}});
}

void accept(const Ack &ack, QVariantMap answer)
{
    answer.insert(u"ok"_s, true);
    ack({answer});
}

bool isString(const QVariant &value)
{
    return value.typeId() == QMetaType::QString;
}

// The first argument when it is an object, else an empty map (whose fields then fail their checks).
QVariantMap objectArg(const QVariantList &args)
{
    const QVariant first = args.value(0);
    return first.typeId() == QMetaType::QVariantMap ? first.toMap() : QVariantMap();
}

bool hasControlCharacters(const QString &text, bool allowNewlines)
{
    return std::any_of(text.cbegin(), text.cend(), [allowNewlines](QChar c) {
        if (allowNewlines && (c == u'\n' || c == u'\t'))
            return false;
        return c.category() == QChar::Other_Control || c.category() == QChar::Other_Format;
    });
}

// Checks a short label (a login name, a room name): the reason it is refused, or an empty string.
QString checkLabel(const QVariant &value, int maxLength, QString *out)
{
    if (!isString(value))
        return u"must be a string"_s;
    const QString text = value.toString().trimmed();
    if (text.isEmpty())
        return u"must not be empty"_s;
    if (text.size() > maxLength)
        return u"must be at most %1 characters"_s.arg(maxLength);
    if (hasControlCharacters(text, false))
        return u"must not contain control characters"_s;
    *out = text;
    return {};
}

QString checkText(const QVariant &value, QString *out)
{
    if (!isString(value))
        return u"text must be a string"_s;
    const QString text = value.toString().trimmed();
    if (text.isEmpty())
        return u"text must not be empty"_s;
    if (text.size() > ChatServer::maxTextLength)
        return u"text must be at most %1 characters"_s.arg(ChatServer::maxTextLength);
    if (hasControlCharacters(text, true))
        return u"text must not contain control characters"_s;
    *out = text;
    return {};
}

// The image type the bytes really are (by their signature), or an empty string.
QString imageTypeOf(const QByteArray &bytes)
{
    if (bytes.startsWith("\x89PNG\r\n\x1a\n"))
        return u"image/png"_s;
    if (bytes.startsWith("\xff\xd8\xff"))
        return u"image/jpeg"_s;
    if (bytes.startsWith("GIF87a") || bytes.startsWith("GIF89a"))
        return u"image/gif"_s;
    if (bytes.size() >= 12 && bytes.startsWith("RIFF") && bytes.mid(8, 4) == "WEBP")
        return u"image/webp"_s;
    return {};
}

// The login name in a client's auth ({name}): the reason it is refused, or an empty string.
QString checkLogin(const QVariant &auth, QString *name)
{
    const QVariant given
        = auth.typeId() == QMetaType::QVariantMap ? auth.toMap().value(u"name"_s) : QVariant();
    if (!given.isValid())
        return u"a name is required"_s;
    if (const QString bad = checkLabel(given, ChatServer::maxNameLength, name); !bad.isEmpty())
        return u"the name "_s + bad;
    return {};
}

QString nameOf(const RemoteSocket &socket)
{
    return socket.data().toMap().value(u"name"_s).toString();
}

bool isNameTaken(const QList<RemoteSocket> &sockets, const QString &name)
{
    return std::any_of(sockets.cbegin(), sockets.cend(), [&name](const RemoteSocket &other) {
        return nameOf(other).compare(name, Qt::CaseInsensitive) == 0;
    });
}

QStringList sortedNames(const QList<RemoteSocket> &sockets)
{
    QStringList names;
    for (const RemoteSocket &s : sockets)
        names.append(nameOf(s));
    names.sort(Qt::CaseInsensitive);
    return names;
}

} // namespace

ChatServer::ChatServer(QSocketIo::SocketServer *io, bool cluster, QObject *parent)
    : QObject(parent)
    , m_nsp(io->of(u"/"_s))
{
    if (cluster) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (int i = 0; i < 6; ++i)
            m_serverTag += QLatin1Char(alphabet[QRandomGenerator::system()->bounded(36)]);
        // A server that stops or crashes tells nobody, and a refresh request may be lost while
        // Redis is away: the lists are refreshed now and then too (sent only when they changed).
        auto *timer = new QTimer(this);
        connect(timer, &QTimer::timeout, this, &ChatServer::refreshLists);
        timer->start(periodicRefresh);
    }
    m_nsp->use(
        [this](Socket *socket, const QSocketIo::Next &next) { checkNameInCluster(socket, next); });
    m_nsp->onConnect(
        [this](Socket *socket, const QVariant &auth) { return onConnect(socket, auth); });
    connect(m_nsp, &QSocketIo::Namespace::connected, this, &ChatServer::onConnected);
    connect(m_nsp, &QSocketIo::Namespace::disconnected, this, &ChatServer::listsChanged);
    // Another server's users or rooms changed.
    m_nsp->onServerSideEmit(
        listsChangedEvent, [this](const QVariantList &, const Ack &) { refreshLists(); });

    auto handle = [this](const QString &event, auto method) {
        m_nsp->on(event, [this, method](Socket *socket, const QVariantList &args, const Ack &ack) {
            (this->*method)(socket, args, ack);
        });
    };
    handle(u"join"_s, &ChatServer::join);
    handle(u"leave"_s, &ChatServer::leave);
    handle(u"message"_s, &ChatServer::message);
    handle(u"private"_s, &ChatServer::privateMessage);
    handle(u"typing"_s, &ChatServer::typing);
    handle(u"image"_s, &ChatServer::image);
}

// The login, first step: a middleware may answer later, so it asks the whole cluster whether
// the name is taken. Two clients taking the same name at the same moment on two servers both
// get it: neither is connected yet while the other asks. onConnect() closes that gap for the
// logins of one server, not across servers (that would need a lock, e.g. in Redis).
void ChatServer::checkNameInCluster(Socket *socket, const QSocketIo::Next &next)
{
    QString name;
    if (const QString reason = checkLogin(socket->handshake().auth, &name); !reason.isEmpty())
        return next(
            QSocketIo::ConnectError {u"Invalid name"_s, QVariantMap {{u"reason"_s, reason}}});
    const QPointer<ChatServer> self(this);
    m_nsp->all().fetchSockets(
        [self, next, name](const QList<RemoteSocket> &sockets, const QString &error) {
            if (!self)
                return next(QSocketIo::ConnectError {u"The server is shutting down"_s, {}});
            // Some servers did not answer in time: a name taken there goes unnoticed.
            if (!error.isEmpty())
                qCWarning(lcChat).noquote() << "login of" << name << "checked in part:" << error;
            if (isNameTaken(sockets, name)) {
                return next(QSocketIo::ConnectError {u"Invalid name"_s,
                    QVariantMap {{u"reason"_s, u"the name %1 is already taken"_s.arg(name)}}});
            }
            next();
        });
}

// The login, second step: runs at once for each connecting socket, so the names of this
// server's sockets are checked again without a gap (the socket itself is in the list, nameless).
bool ChatServer::onConnect(Socket *socket, const QVariant &auth)
{
    QString name;
    QString reason = checkLogin(auth, &name);
    if (reason.isEmpty()) {
        const auto sockets = m_nsp->sockets();
        const bool taken = std::any_of(sockets.cbegin(), sockets.cend(), [&name](Socket *other) {
            return other->data().value(u"name"_s).toString().compare(name, Qt::CaseInsensitive)
                == 0;
        });
        if (taken)
            reason = u"the name %1 is already taken"_s.arg(name);
    }
    if (!reason.isEmpty())
        throw QSocketIo::ConnectError {u"Invalid name"_s, QVariantMap {{u"reason"_s, reason}}};
    // In the socket's data, fetchSockets() shows the name to every server of the cluster.
    socket->setDataValue(u"name"_s, name);
    return true;
}

void ChatServer::onConnected(Socket *socket)
{
    socket->join(lobby);
    connect(socket, &Socket::disconnecting, this, [this, socket] { onDisconnecting(socket); });
    notice(socket, lobby, socket->data().value(u"name"_s).toString() + u" joined"_s);
    // The newcomer has no lists yet: the next ones go out even if nothing else changed.
    m_sentUsers.clear();
    m_sentRooms.clear();
    listsChanged();
}

// Its rooms are still readable here: tell them it stopped typing and left.
void ChatServer::onDisconnecting(Socket *socket)
{
    const QString name = socket->data().value(u"name"_s).toString();
    const auto rooms = socket->rooms();
    for (const QString &room : rooms) {
        if (room == socket->id())
            continue;
        socket->to(room).emitEvent(u"typing"_s,
            {QVariantMap {{u"room"_s, room}, {u"user"_s, user(socket)}, {u"typing"_s, false}}});
        notice(socket, room, name + u" left"_s);
    }
}

// Every socket has a room named by its id, on whichever server it is: joining one would mean
// reading that user's private messages, so the cluster is asked before the join.
void ChatServer::join(Socket *socket, const QVariantList &args, const Ack &ack)
{
    QString room;
    if (const QString reason = checkRoom(args.value(0), &room); !reason.isEmpty())
        return refuse(ack, reason);
    const QPointer<ChatServer> self(this);
    const QPointer<Socket> guard(socket);
    m_nsp->in(room).fetchSockets(
        [self, guard, room, ack](const QList<RemoteSocket> &members, const QString &error) {
            if (!self || !guard || !guard->isConnected())
                return;
            const bool reserved = std::any_of(members.cbegin(), members.cend(),
                [&room](const RemoteSocket &s) { return s.id() == room; });
            if (reserved)
                return refuse(ack, u"that room name is reserved"_s);
            if (!error.isEmpty()) {
                qCWarning(lcChat).noquote() << "join of" << room << "refused:" << error;
                return refuse(ack, u"the other servers did not answer, try again"_s);
            }
            QStringList names = sortedNames(members);
            if (!self->isMember(guard, room)) {
                guard->join(room);
                const QString name = guard->data().value(u"name"_s).toString();
                names.append(name);
                names.sort(Qt::CaseInsensitive);
                self->notice(guard, room, name + u" joined"_s);
                self->listsChanged();
            }
            accept(ack, {{u"room"_s, room}, {u"members"_s, names}});
        });
}

void ChatServer::leave(Socket *socket, const QVariantList &args, const Ack &ack)
{
    QString room;
    if (const QString reason = checkRoom(args.value(0), &room); !reason.isEmpty())
        return refuse(ack, reason);
    if (room == lobby)
        return refuse(ack, u"everyone stays in the lobby"_s);
    if (!isMember(socket, room))
        return refuse(ack, u"you are not in %1"_s.arg(room));
    socket->to(room).emitEvent(u"typing"_s,
        {QVariantMap {{u"room"_s, room}, {u"user"_s, user(socket)}, {u"typing"_s, false}}});
    socket->leave(room);
    notice(socket, room, socket->data().value(u"name"_s).toString() + u" left"_s);
    listsChanged();
    // Those still in the room, as far as the cluster answered.
    m_nsp->in(room).fetchSockets(
        [room, ack](const QList<RemoteSocket> &members, const QString &error) {
            if (!error.isEmpty())
                qCWarning(lcChat).noquote() << "members of" << room << "in part:" << error;
            accept(ack, {{u"room"_s, room}, {u"members"_s, sortedNames(members)}});
        });
}

// {room, text} to the others in the room; the sender's ack carries the message id and time.
void ChatServer::message(Socket *socket, const QVariantList &args, const Ack &ack)
{
    const QVariantMap in = objectArg(args);
    QString room;
    if (const QString reason = checkRoom(in.value(u"room"_s), &room); !reason.isEmpty())
        return refuse(ack, reason);
    if (!isMember(socket, room))
        return refuse(ack, u"you are not in %1"_s.arg(room));
    QString text;
    if (const QString reason = checkText(in.value(u"text"_s), &text); !reason.isEmpty())
        return refuse(ack, reason);
    QVariantMap out = stamp();
    const QVariantMap answer = out;
    out.insert(u"room"_s, room);
    out.insert(u"from"_s, user(socket));
    out.insert(u"text"_s, text);
    socket->to(room).emitEvent(u"message"_s, {out});
    accept(ack, answer);
}

// {to: socket id, text} to that user only, on whichever server it is.
void ChatServer::privateMessage(Socket *socket, const QVariantList &args, const Ack &ack)
{
    const QVariantMap in = objectArg(args);
    const QVariant to = in.value(u"to"_s);
    if (!isString(to) || to.toString().isEmpty())
        return refuse(ack, u"no such user"_s);
    const QString targetId = to.toString();
    const QVariantMap from = user(socket);
    const QVariant text = in.value(u"text"_s);
    // Once the target is found ({id, name}, or an empty map when it is not): `deliver` sends it
    // the message.
    using Deliver = std::function<void(const QVariantMap &message)>;
    auto send = [this, ack, from, text](const QVariantMap &target, const Deliver &deliver) {
        if (target.isEmpty())
            return refuse(ack, u"no such user"_s);
        if (target.value(u"id"_s) == from.value(u"id"_s))
            return refuse(ack, u"you cannot write to yourself"_s);
        QString checked;
        if (const QString reason = checkText(text, &checked); !reason.isEmpty())
            return refuse(ack, reason);
        QVariantMap out = stamp();
        QVariantMap answer = out;
        out.insert(u"from"_s, from);
        out.insert(u"to"_s, target);
        out.insert(u"text"_s, checked);
        deliver(out);
        answer.insert(u"to"_s, target);
        accept(ack, answer);
    };
    if (Socket *local = m_nsp->socket(targetId)) {
        const QVariantMap target = local->isConnected() ? user(local) : QVariantMap();
        const QPointer<Socket> guard(local);
        return send(target, [guard](const QVariantMap &out) {
            if (guard)
                guard->emitEvent(u"private"_s, {out});
        });
    }
    // Elsewhere in the cluster, maybe: the room named by its id holds it.
    const QPointer<ChatServer> self(this);
    m_nsp->in(targetId).fetchSockets(
        [self, send, targetId, ack](const QList<RemoteSocket> &found, const QString &error) {
            if (!self)
                return;
            const auto it = std::find_if(found.cbegin(), found.cend(),
                [&targetId](const RemoteSocket &s) { return s.id() == targetId; });
            if (it == found.cend()) {
                if (!error.isEmpty())
                    qCWarning(lcChat).noquote() << "private message to" << targetId << ":" << error;
                return send({}, {});
            }
            const RemoteSocket target = *it;
            send(QVariantMap {{u"id"_s, target.id()}, {u"name"_s, nameOf(target)}},
                [target](const QVariantMap &out) { target.emitEvent(u"private"_s, {out}); });
        });
}

// {room, typing: bool} to the others in the room. The pages clear an indicator that is not
// renewed, so a client that vanishes mid-word does not leave it behind.
void ChatServer::typing(Socket *socket, const QVariantList &args, const Ack &ack)
{
    const QVariantMap in = objectArg(args);
    QString room;
    if (const QString reason = checkRoom(in.value(u"room"_s), &room); !reason.isEmpty())
        return refuse(ack, reason);
    if (!isMember(socket, room))
        return refuse(ack, u"you are not in %1"_s.arg(room));
    const QVariant typing = in.value(u"typing"_s);
    if (typing.typeId() != QMetaType::Bool)
        return refuse(ack, u"typing must be true or false"_s);
    socket->to(room).emitEvent(u"typing"_s,
        {QVariantMap {
            {u"room"_s, room}, {u"user"_s, user(socket)}, {u"typing"_s, typing.toBool()}}});
    accept(ack, {});
}

// {room, type, name, data: binary}: the bytes must be an image of the type announced, at most
// maxImageBytes; they go on to the others in the room as binary.
void ChatServer::image(Socket *socket, const QVariantList &args, const Ack &ack)
{
    const QVariantMap in = objectArg(args);
    QString room;
    if (const QString reason = checkRoom(in.value(u"room"_s), &room); !reason.isEmpty())
        return refuse(ack, reason);
    if (!isMember(socket, room))
        return refuse(ack, u"you are not in %1"_s.arg(room));
    const QVariant data = in.value(u"data"_s);
    if (data.typeId() != QMetaType::QByteArray)
        return refuse(ack, u"the image must be sent as binary"_s);
    const QByteArray bytes = data.toByteArray();
    if (bytes.isEmpty())
        return refuse(ack, u"the image is empty"_s);
    if (bytes.size() > maxImageBytes)
        return refuse(ack, u"the image is larger than %1 KB"_s.arg(maxImageBytes / 1024));
    const QVariant type = in.value(u"type"_s);
    const QString actual = imageTypeOf(bytes);
    if (actual.isEmpty())
        return refuse(ack, u"only PNG, JPEG, GIF and WebP images are accepted"_s);
    if (!isString(type) || type.toString() != actual)
        return refuse(ack, u"the data is not of the type announced (%1)"_s.arg(actual));
    QString name;
    if (!checkLabel(in.value(u"name"_s), 100, &name).isEmpty())
        name = u"image"_s;
    QVariantMap out = stamp();
    const QVariantMap answer = out;
    out.insert(u"room"_s, room);
    out.insert(u"from"_s, user(socket));
    out.insert(u"type"_s, actual);
    out.insert(u"name"_s, name);
    out.insert(u"data"_s, bytes);
    socket->to(room).emitEvent(u"image"_s, {out});
    accept(ack, answer);
}

// The rooms named by the ids of this server's sockets are refused here at once; join() asks
// the cluster about the others.
QString ChatServer::checkRoom(const QVariant &value, QString *room) const
{
    if (const QString reason = checkLabel(value, maxRoomLength, room); !reason.isEmpty())
        return u"the room name "_s + reason;
    if (m_nsp->socket(*room))
        return u"that room name is reserved"_s;
    return {};
}

bool ChatServer::isMember(Socket *socket, const QString &room) const
{
    return socket->rooms().contains(room);
}

QVariantMap ChatServer::user(Socket *socket) const
{
    return {{u"id"_s, socket->id()}, {u"name"_s, socket->data().value(u"name"_s)}};
}

QVariantMap ChatServer::stamp()
{
    const qint64 n = m_nextMessageId++;
    const QVariant id
        = m_serverTag.isEmpty() ? QVariant(n) : QVariant(m_serverTag + u'-' + QString::number(n));
    return {{u"id"_s, id}, {u"time"_s, QDateTime::currentMSecsSinceEpoch()}};
}

// Each server sends the lists to its own clients, from a cluster-wide fetch that starts after
// it learnt of the change: whatever the order in which the servers' answers cross, each client
// ends with lists that include the last change (a server broadcasting to everyone could have
// its older list arrive after another server's newer one).
void ChatServer::listsChanged()
{
    refreshLists();
    if (!m_nsp->serverSideEmit(listsChangedEvent))
        qCWarning(lcChat) << "the other servers were not told that the lists changed";
}

void ChatServer::refreshLists()
{
    if (m_nsp->sockets().isEmpty())
        return; // nobody here to tell; a client that connects gets fresh lists
    if (m_refreshing) {
        m_refreshAgain = true;
        return;
    }
    m_refreshing = true;
    const QPointer<ChatServer> self(this);
    m_nsp->all().fetchSockets([self](const QList<RemoteSocket> &sockets, const QString &error) {
        if (!self)
            return;
        // Some servers did not answer in time: their users are missing until the next refresh.
        if (!error.isEmpty())
            qCWarning(lcChat).noquote() << "user list incomplete:" << error;
        self->sendLists(sockets);
        self->m_refreshing = false;
        if (std::exchange(self->m_refreshAgain, false))
            self->refreshLists();
    });
}

// The users [{id, name}] by name, and the rooms that have members [{name, count}] by name,
// lobby first; the rooms named by socket ids are not shown. To this server's clients only: the
// other servers send theirs.
void ChatServer::sendLists(const QList<RemoteSocket> &sockets)
{
    QList<RemoteSocket> named;
    std::copy_if(sockets.cbegin(), sockets.cend(), std::back_inserter(named),
        [](const RemoteSocket &s) { return !nameOf(s).isEmpty(); });
    std::sort(named.begin(), named.end(), [](const RemoteSocket &a, const RemoteSocket &b) {
        const int byName = nameOf(a).compare(nameOf(b), Qt::CaseInsensitive);
        return byName != 0 ? byName < 0 : a.id() < b.id();
    });
    QVariantList users;
    QSet<QString> ids;
    for (const RemoteSocket &s : std::as_const(named)) {
        users.append(QVariantMap {{u"id"_s, s.id()}, {u"name"_s, nameOf(s)}});
        ids.insert(s.id());
    }
    QMap<QString, qint64> counts;
    for (const RemoteSocket &s : std::as_const(named)) {
        const QStringList rooms = s.rooms();
        for (const QString &room : rooms) {
            if (!ids.contains(room))
                ++counts[room];
        }
    }
    QStringList names = counts.keys();
    names.removeAll(lobby);
    names.sort(Qt::CaseInsensitive);
    names.prepend(lobby);
    QVariantList rooms;
    for (const QString &room : std::as_const(names))
        rooms.append(QVariantMap {{u"name"_s, room}, {u"count"_s, counts.value(room)}});

    // Only what changed since the last lists sent here.
    const QSocketIo::BroadcastOperator here = m_nsp->all().local();
    if (users != m_sentUsers) {
        m_sentUsers = users;
        here.emitEvent(u"users"_s, {QVariant(users)}); // one argument: the list
    }
    if (rooms != m_sentRooms) {
        m_sentRooms = rooms;
        here.emitEvent(u"rooms"_s, {QVariant(rooms)});
    }
}

void ChatServer::notice(Socket *from, const QString &room, const QString &text)
{
    from->to(room).emitEvent(u"notice"_s, {QVariantMap {{u"room"_s, room}, {u"text"_s, text}}});
}
