#pragma once

#include "../socket/ack.h"

#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qurl.h>
#include <QtCore/qurlquery.h>
#include <QtCore/qvariant.h>
#include <QtNetwork/qsslconfiguration.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace QSocketIo {

class ClientManager;
class SocketClientPrivate;

// socket.io-client's options, in C++ case, with its defaults.
struct QSOCKETIO_EXPORT SocketClientOptions
{
    using ms = std::chrono::milliseconds;

    // The server's path for both transports ("socket.io", "/socket.io" and "/socket.io/" are the
    // same).
    QString path = QStringLiteral("/socket.io/");
    // The namespace; empty means the URL's path, or "/" when it has none (as io(url) does).
    QString nsp;
    // Sent with every CONNECT (the server's handshake auth); none when empty.
    QVariantMap auth;
    // Tried in order: the first opens the connection, a later "websocket" is an upgrade.
    QStringList transports = {QStringLiteral("polling"), QStringLiteral("websocket")};
    // Shortcut for transports = {"websocket"}: no polling at all.
    bool websocketOnly = false;
    // Upgrade from polling to WebSocket when the server offers it.
    bool upgrade = true;
    // Added to every Engine.IO request, after the URL's own query.
    QUrlQuery query;
    // Sent with every polling request and the WebSocket handshake.
    QList<QPair<QByteArray, QByteArray>> extraHeaders;

    bool reconnection = true;
    int reconnectionAttempts = -1; // -1: for ever
    ms reconnectionDelay {1000};
    ms reconnectionDelayMax {5000};
    double randomizationFactor = 0.5;
    // Time the Engine.IO connection has to open before the attempt counts as failed.
    ms timeout {20000};
    // Default timeout of emitWithAck() calls that give none (0: wait until disconnected).
    ms ackTimeout {0};
    // Connect on the next turn of the event loop after construction, as io(url) does.
    bool autoConnect = true;

    // For https: the TLS configuration (CA certificates, client certificate...).
    std::optional<QSslConfiguration> ssl;
    // Node's rejectUnauthorized: false accepts any server certificate (tests, self-signed).
    bool rejectUnauthorized = true;

    // The transports actually used (websocketOnly applied).
    QStringList effectiveTransports() const;
};

// A Socket.IO v5 client for one namespace (socket.io-client's Socket and its Manager). Other
// namespaces share its connection through of().
//
//     SocketClient client(QUrl("http://localhost:3000"), options);
//     client.on("news", [](const QVariantList &args, const Ack &ack) { ack({"thanks"}); });
//     QObject::connect(&client, &SocketClient::connected, [&] { client.emitEvent("hi", {1}); });
class QSOCKETIO_EXPORT SocketClient : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool connected READ isConnected NOTIFY stateChanged)
    Q_PROPERTY(QString id READ id NOTIFY stateChanged)
    Q_PROPERTY(QString transport READ transport NOTIFY transportChanged)

public:
    enum class State {
        // Not trying: before open(), after disconnect(), a refusal, a loss with reconnection
        // off, or giving up.
        Disconnected,
        Connecting, // the connection is opening, or the namespace's CONNECT awaits its answer
        Connected,
        Reconnecting, // the connection was lost (or never made): waiting for the next attempt
    };
    Q_ENUM(State)

    using Handler = std::function<void(const QVariantList &args, const Ack &ack)>;
    using AnyHandler = std::function<void(const QString &event, const QVariantList &args)>;
    using Options = SocketClientOptions;

    explicit SocketClient(
        const QUrl &url, const SocketClientOptions &options = {}, QObject *parent = nullptr);
    ~SocketClient() override;

    // Another namespace over this client's connection (socket.io-client's multiplexing). Made
    // once per namespace, a child of this client; its options are this one's.
    SocketClient *of(const QString &nsp, const QVariantMap &auth = {});

    QUrl url() const;
    const SocketClientOptions &options() const;
    QString nsp() const;
    // The auth of the next CONNECT (a reconnection, or the next open()).
    QVariantMap auth() const;
    void setAuth(const QVariantMap &auth);

    State state() const;
    bool isConnected() const;
    // True while connected or trying to be (socket.io-client's `active`).
    bool isActive() const;
    QString id() const; // the Socket.IO socket id while connected
    QString engineId() const; // the Engine.IO session id while the connection is open
    QString transport() const; // "polling", "websocket", or empty when closed
    // The largest message the server accepts, in bytes: the maxPayload of its Engine.IO handshake
    // (its maxHttpBufferSize; 1e6 by default on Node). A larger event is refused by the server,
    // which then closes the connection. 0 while the connection is not open (unknown).
    qint64 maxPayload() const;

    // Connects (again, after disconnect() or a refusal).
    void open();
    // Leaves the namespace; the connection closes when no other namespace uses it. No
    // reconnection follows.
    void disconnect();
    // A pointer must not turn into anything here; use QObject::disconnect(client, ...) to drop
    // signal connections.
    void disconnect(const QObject *receiver) = delete;

    // Sent now when connected, else queued until the next connection (socket.io-client's send
    // buffer). False for a reserved name.
    bool emitEvent(const QString &event, const QVariantList &args = {});
    // The server's answer arrives through `callback`; timedOut is set when `timeout` (or the
    // ackTimeout option) passed first, or when the connection was lost after the event went out.
    void emitWithAck(const QString &event, const QVariantList &args, AckCallback callback,
        std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());
    // Dropped (false) unless connected with a transport that takes it now.
    bool emitVolatile(const QString &event, const QVariantList &args = {});

    // Handlers of incoming events; eventReceived() is emitted as well. An exception a handler
    // throws is caught and logged.
    void on(const QString &event, Handler handler);
    void off(const QString &event);
    void onAny(AnyHandler handler);
    void offAny();

Q_SIGNALS:
    void connected();
    // socket.io-client's reasons: "io server disconnect", "io client disconnect" (neither is
    // followed by a reconnection), "transport close", "transport error", "ping timeout",
    // "parse error".
    void disconnected(const QString &reason);
    // The server refused the namespace (message and data of its CONNECT_ERROR; no retry
    // follows), or the connection failed ("xhr poll error", "websocket error", "timeout"...;
    // reconnection goes on).
    void connectError(const QString &message, const QVariant &data);
    void eventReceived(const QString &event, const QVariantList &args, const QSocketIo::Ack &ack);
    void stateChanged(QSocketIo::SocketClient::State state);
    void transportChanged(const QString &transport);
    void reconnecting(int attempt);
    void reconnected(int attempt);
    void reconnectFailed();

private:
    SocketClient(std::shared_ptr<ClientManager> manager, const SocketClientOptions &options,
        QObject *parent);
    Q_DECLARE_PRIVATE(SocketClient)
    std::unique_ptr<SocketClientPrivate> d_ptr;
};

} // namespace QSocketIo
