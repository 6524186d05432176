#pragma once

// The chat's Socket.IO side: logins, rooms, messages, private messages, typing indicators,
// images and the user list, every client input checked before use.

#include <QSocketIo/socketserver.h>

#include <QtCore/qobject.h>

class ChatServer : public QObject
{
    Q_OBJECT
public:
    static constexpr int maxNameLength = 32;
    static constexpr int maxRoomLength = 32;
    static constexpr int maxTextLength = 2000;
    static constexpr int maxImageBytes = 512 * 1024;
    static inline const QString lobby = QStringLiteral("lobby");

    explicit ChatServer(QSocketIo::SocketServer *io, QObject *parent = nullptr);

private:
    bool onConnect(QSocketIo::Socket *socket, const QVariant &auth);
    void onConnected(QSocketIo::Socket *socket);
    void onDisconnecting(QSocketIo::Socket *socket);

    void join(QSocketIo::Socket *socket, const QVariantList &args, const QSocketIo::Ack &ack);
    void leave(QSocketIo::Socket *socket, const QVariantList &args, const QSocketIo::Ack &ack);
    void message(QSocketIo::Socket *socket, const QVariantList &args, const QSocketIo::Ack &ack);
    void privateMessage(
        QSocketIo::Socket *socket, const QVariantList &args, const QSocketIo::Ack &ack);
    void typing(QSocketIo::Socket *socket, const QVariantList &args, const QSocketIo::Ack &ack);
    void image(QSocketIo::Socket *socket, const QVariantList &args, const QSocketIo::Ack &ack);

    // Checks a room name; returns the reason it is refused, or an empty string.
    QString checkRoom(const QVariant &value, QString *room) const;
    bool isMember(QSocketIo::Socket *socket, const QString &room) const;
    QStringList memberNames(const QString &room) const;
    QVariantMap user(QSocketIo::Socket *socket) const;
    // The stamp of an accepted message: {"id", "time"}.
    QVariantMap stamp();

    void sendUsers();
    void sendRooms();
    void notice(QSocketIo::Socket *from, const QString &room, const QString &text);

    QSocketIo::Namespace *m_nsp;
    qint64 m_nextMessageId = 1;
};
