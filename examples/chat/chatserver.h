#pragma once

// The chat's Socket.IO side: logins, rooms, messages, private messages, typing indicators,
// images and the user list, every client input checked before use.
//
// It works the same on one server and on several sharing a cluster adapter (Redis): whatever
// spans the users (the user and room lists, name checks, private messages, room members) asks
// the whole cluster with fetchSockets(), and a socket's login name lives in its data(), where
// every server sees it.

#include <QSocketIo/remotesocket.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qobject.h>

#include <chrono>

class ChatServer : public QObject
{
    Q_OBJECT
public:
    static constexpr int maxNameLength = 32;
    static constexpr int maxRoomLength = 32;
    static constexpr int maxTextLength = 2000;
    static constexpr int maxImageBytes = 512 * 1024;
    static inline const QString lobby = QStringLiteral("lobby");
    // In a cluster, how often the lists are refreshed when nothing asks for it.
    static constexpr std::chrono::seconds periodicRefresh {15};

    // `cluster`: other servers share the namespace through the adapter. Message ids then carry
    // a random tag of this server ("TAG-N" instead of N) so that they stay unique.
    explicit ChatServer(
        QSocketIo::SocketServer *io, bool cluster = false, QObject *parent = nullptr);

private:
    void checkNameInCluster(QSocketIo::Socket *socket, const QSocketIo::Next &next);
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
    QVariantMap user(QSocketIo::Socket *socket) const;
    // The stamp of an accepted message: {"id", "time"}.
    QVariantMap stamp();

    // The users or rooms changed here: refresh the lists on this server and tell the others.
    void listsChanged();
    // Asks the cluster for every socket and sends this server's clients the user and room
    // lists that changed. One request at a time: a refresh asked for meanwhile runs once after.
    void refreshLists();
    void sendLists(const QList<QSocketIo::RemoteSocket> &sockets);
    void notice(QSocketIo::Socket *from, const QString &room, const QString &text);

    QSocketIo::Namespace *m_nsp;
    QString m_serverTag; // empty on a single server
    qint64 m_nextMessageId = 1;
    bool m_refreshing = false;
    bool m_refreshAgain = false;
    // The lists last sent to this server's clients; cleared when a client connects here.
    QVariantList m_sentUsers;
    QVariantList m_sentRooms;
};
