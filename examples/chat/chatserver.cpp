#include "chatserver.h"

#include <QSocketIo/adapter.h>
#include <QSocketIo/socket.h>

#include <QtCore/qdatetime.h>

#include <algorithm>

using namespace Qt::StringLiterals;
using QSocketIo::Ack;
using QSocketIo::Socket;

namespace {

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

} // namespace

ChatServer::ChatServer(QSocketIo::SocketServer *io, QObject *parent)
    : QObject(parent)
    , m_nsp(io->of(u"/"_s))
{
    m_nsp->onConnect(
        [this](Socket *socket, const QVariant &auth) { return onConnect(socket, auth); });
    connect(m_nsp, &QSocketIo::Namespace::connected, this, &ChatServer::onConnected);
    connect(m_nsp, &QSocketIo::Namespace::disconnected, this, [this] {
        sendUsers();
        sendRooms();
    });

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

// The login: the client's auth is {name}. Runs before the socket is connected, so the names
// taken are those of the sockets already in.
bool ChatServer::onConnect(Socket *socket, const QVariant &auth)
{
    const QVariant given
        = auth.typeId() == QMetaType::QVariantMap ? auth.toMap().value(u"name"_s) : QVariant();
    QString name;
    QString reason;
    if (!given.isValid()) {
        reason = u"a name is required"_s;
    } else if (const QString bad = checkLabel(given, maxNameLength, &name); !bad.isEmpty()) {
        reason = u"the name "_s + bad;
    } else {
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
    socket->data().insert(u"name"_s, name);
    return true;
}

void ChatServer::onConnected(Socket *socket)
{
    socket->join(lobby);
    connect(socket, &Socket::disconnecting, this, [this, socket] { onDisconnecting(socket); });
    notice(socket, lobby, socket->data().value(u"name"_s).toString() + u" joined"_s);
    sendUsers();
    sendRooms();
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

void ChatServer::join(Socket *socket, const QVariantList &args, const Ack &ack)
{
    QString room;
    if (const QString reason = checkRoom(args.value(0), &room); !reason.isEmpty())
        return refuse(ack, reason);
    if (!isMember(socket, room)) {
        socket->join(room);
        notice(socket, room, socket->data().value(u"name"_s).toString() + u" joined"_s);
        sendRooms();
    }
    accept(ack, {{u"room"_s, room}, {u"members"_s, memberNames(room)}});
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
    sendRooms();
    accept(ack, {{u"room"_s, room}, {u"members"_s, memberNames(room)}});
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

// {to: socket id, text} to that user only.
void ChatServer::privateMessage(Socket *socket, const QVariantList &args, const Ack &ack)
{
    const QVariantMap in = objectArg(args);
    const QVariant to = in.value(u"to"_s);
    Socket *target = isString(to) ? m_nsp->socket(to.toString()) : nullptr;
    if (!target || !target->isConnected())
        return refuse(ack, u"no such user"_s);
    if (target == socket)
        return refuse(ack, u"you cannot write to yourself"_s);
    QString text;
    if (const QString reason = checkText(in.value(u"text"_s), &text); !reason.isEmpty())
        return refuse(ack, reason);
    QVariantMap out = stamp();
    QVariantMap answer = out;
    out.insert(u"from"_s, user(socket));
    out.insert(u"to"_s, user(target));
    out.insert(u"text"_s, text);
    target->emitEvent(u"private"_s, {out});
    answer.insert(u"to"_s, user(target));
    accept(ack, answer);
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

QString ChatServer::checkRoom(const QVariant &value, QString *room) const
{
    if (const QString reason = checkLabel(value, maxRoomLength, room); !reason.isEmpty())
        return u"the room name "_s + reason;
    // Each socket has a room of its own id: joining it would mean reading its private messages.
    if (m_nsp->socket(*room))
        return u"that room name is reserved"_s;
    return {};
}

bool ChatServer::isMember(Socket *socket, const QString &room) const
{
    return socket->rooms().contains(room);
}

QStringList ChatServer::memberNames(const QString &room) const
{
    QStringList names;
    const auto ids = m_nsp->adapter()->sockets({room});
    for (const QString &id : ids) {
        if (Socket *s = m_nsp->socket(id))
            names.append(s->data().value(u"name"_s).toString());
    }
    names.sort(Qt::CaseInsensitive);
    return names;
}

QVariantMap ChatServer::user(Socket *socket) const
{
    return {{u"id"_s, socket->id()}, {u"name"_s, socket->data().value(u"name"_s)}};
}

QVariantMap ChatServer::stamp()
{
    return {{u"id"_s, m_nextMessageId++}, {u"time"_s, QDateTime::currentMSecsSinceEpoch()}};
}

// Everyone gets the whole list: [{id, name}] by name.
void ChatServer::sendUsers()
{
    auto sockets = m_nsp->sockets();
    std::sort(sockets.begin(), sockets.end(), [](Socket *a, Socket *b) {
        return a->data().value(u"name"_s).toString().compare(
                   b->data().value(u"name"_s).toString(), Qt::CaseInsensitive)
            < 0;
    });
    QVariantList users;
    for (Socket *s : std::as_const(sockets))
        users.append(user(s));
    m_nsp->emitEvent(u"users"_s, {QVariant(users)}); // one argument: the list
}

// Everyone gets the rooms that have members, [{name, count}] by name, lobby first; the rooms of
// socket ids are not shown.
void ChatServer::sendRooms()
{
    QStringList names;
    const auto all = m_nsp->adapter()->rooms();
    for (const QString &room : all) {
        if (!m_nsp->socket(room) && room != lobby)
            names.append(room);
    }
    names.sort(Qt::CaseInsensitive);
    names.prepend(lobby);
    QVariantList rooms;
    for (const QString &room : std::as_const(names)) {
        const auto ids = m_nsp->adapter()->sockets({room});
        const auto count = std::count_if(
            ids.cbegin(), ids.cend(), [this](const QString &id) { return m_nsp->socket(id); });
        if (count > 0 || room == lobby)
            rooms.append(QVariantMap {{u"name"_s, room}, {u"count"_s, qint64(count)}});
    }
    m_nsp->emitEvent(u"rooms"_s, {QVariant(rooms)});
}

void ChatServer::notice(Socket *from, const QString &room, const QString &text)
{
    from->to(room).emitEvent(u"notice"_s, {QVariantMap {{u"room"_s, room}, {u"text"_s, text}}});
}
