#pragma once

// The admin app's connection to one server (or one cluster) through its Admin UI namespace
// (docs: admin-protocol.md plus our qsio:* extensions). It turns the protocol's events into the
// models the windows show and sends the protocol's commands. No widget code here: the models are
// tested without a screen.

#include <QtCore/qdatetime.h>
#include <QtCore/qobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qurl.h>
#include <QtCore/qvariant.h>

class QSettings;

namespace QSocketIo {
class SocketClient;
}

namespace AdminApp {

class ServersModel;
class SocketsModel;
class RoomsModel;
class HandlersModel;
class EventLogModel;

// What the connect dialog asks for. Saved in QSettings without the password; the session id the
// server issued after a password login is saved instead and sent on the next connect, but only to
// the url, path and namespace it was issued for.
struct ConnectionSettings
{
    QUrl url {QStringLiteral("http://localhost:3000")};
    QString path = QStringLiteral("/socket.io/");
    QString nsp = QStringLiteral("/admin");
    QString username;
    QString password; // never saved
    bool websocketOnly = false;
    // https with a self-signed certificate (development servers).
    bool ignoreTlsErrors = false;
    QString sessionId;
    // Where sessionId was issued (setSession() records them).
    QUrl sessionUrl;
    QString sessionPath;
    QString sessionNsp;

    // A session issued for the current url, path and namespace.
    void setSession(const QString &id);
    void clearSession();
    // A session id is set and url, path and namespace are still those it was issued for.
    bool hasUsableSession() const;

    // A saved session that does not match the saved url, path and namespace is dropped.
    static ConnectionSettings load(QSettings &settings);
    void save(QSettings &settings) const;
    // The CONNECT auth payload: {sessionId} when hasUsableSession(), {username,password} when a
    // username is set, else none.
    QVariantMap auth() const;
};

class AdminClient : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool readonly READ isReadonly NOTIFY configChanged)

public:
    enum class State { Disconnected, Connecting, Connected, Reconnecting };
    Q_ENUM(State)

    explicit AdminClient(QObject *parent = nullptr);
    ~AdminClient() override;

    // Drops any current connection and its data, then connects. A refused session id is dropped
    // and the username/password (when set) tried once before connectError() is reported.
    void connectToServer(const ConnectionSettings &settings);
    void disconnectFromServer();

    ConnectionSettings settings() const; // with the session id the server issued, if any
    State state() const;
    QString lastError() const;

    // From the server's `config`.
    QStringList supportedFeatures() const;
    bool isReadonly() const; // no EMIT/JOIN/LEAVE/DISCONNECT feature
    bool isDevelopmentMode() const; // ALL_EVENTS: per-socket data available
    bool hasHandlersExtension() const; // qsio:handlers advertised
    QVariantList routes() const; // qsio:routes ({path, transports, mount}), empty if absent

    ServersModel *servers() const;
    SocketsModel *sockets() const;
    RoomsModel *rooms() const;
    HandlersModel *handlers() const;
    EventLogModel *eventLog() const;

    // Commands (ignored, returning false, when not connected or readonly). `filter` is a room or a
    // socket id; empty means every socket of the namespace.
    bool joinRoom(const QString &nsp, const QString &room, const QString &filter = {});
    bool leaveRoom(const QString &nsp, const QString &room, const QString &filter = {});
    bool disconnectSockets(const QString &nsp, bool closeConnection, const QString &filter = {});
    // args may hold QByteArray values anywhere: they travel as binary attachments.
    bool emitEvent(
        const QString &nsp, const QString &filter, const QString &event, const QVariantList &args);

    // The largest message the server accepts, in bytes (its maxHttpBufferSize, from the
    // Engine.IO handshake): an emit larger than this would be refused and close the connection.
    // 0 when unknown (not connected).
    qint64 maxPayload() const;

    // The underlying client (tests, diagnostics); null when disconnected.
    QSocketIo::SocketClient *socketClient() const;

Q_SIGNALS:
    void stateChanged(AdminApp::AdminClient::State state);
    void connected();
    // The server refused us (bad credentials...) or the connection failed; reconnection goes on
    // for failures and stops for refusals.
    void connectError(const QString &message);
    void disconnected(const QString &reason);
    void sessionReceived(const QString &sessionId);
    void configChanged();
    void routesChanged();

private:
    class Private;
    Private *d;
};

} // namespace AdminApp
