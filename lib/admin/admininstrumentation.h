#pragma once

// Server side of the Socket.IO Admin UI protocol (docs: admin-protocol.md): an admin namespace
// that streams the server's sockets, rooms, events and traffic statistics to the official web UI
// and to our own admin tools, and takes their commands. Nothing is hooked until one is made.

#include "../socket/socketserver.h"

#include <QtCore/qobject.h>

#include <memory>

namespace QSocketIo {

class AdminInstrumentationPrivate;

struct QSOCKETIO_EXPORT AdminOptions
{
    enum class Mode {
        Development, // every socket, room and event is reported
        Production, // aggregates only
    };

    QString namespaceName = QStringLiteral("/admin");
    // Basic auth when a username is set: the UI's password must match the bcrypt hash
    // ($2a$, $2b$ or $2y$). Without one, any admin may connect.
    QString username;
    QByteArray passwordHash;
    // No command handlers at all: the UI can only watch.
    bool readonly = false;
    // Empty: the host name.
    QString serverId;
    Mode mode = Mode::Development;
    // How long a session id issued after a password login stays valid.
    std::chrono::milliseconds sessionLifetime {std::chrono::hours(24)};
};

class QSOCKETIO_EXPORT AdminInstrumentation : public QObject
{
    Q_OBJECT
public:
    AdminInstrumentation(
        SocketServer *server, const AdminOptions &options = {}, QObject *parent = nullptr);
    ~AdminInstrumentation() override;

    const AdminOptions &options() const;
    Namespace *adminNamespace() const;

    // True when `password` matches the bcrypt `hash` (constant-time comparison).
    static bool verifyPassword(const QByteArray &password, const QByteArray &hash);

private:
    Q_DECLARE_PRIVATE(AdminInstrumentation)
    std::unique_ptr<AdminInstrumentationPrivate> d_ptr;
};

} // namespace QSocketIo
