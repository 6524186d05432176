#pragma once

#include "../qsocketioglobal.h"

#include <QtCore/qstringlist.h>
#include <QtNetwork/qsslconfiguration.h>

#include <chrono>
#include <functional>
#include <optional>

namespace QSocketIo {

// Which browser origins may talk to the server, with python-socketio's meaning of
// `cors_allowed_origins`: unset means same origin only, "*" any, a list those, a callback decides.
// Requests without an Origin header (non-browser clients) are always allowed.
class QSOCKETIO_EXPORT CorsAllowedOrigins
{
public:
    enum class Kind { SameOrigin, Any, List, Callback, Disabled };

    CorsAllowedOrigins() = default; // same origin only
    static CorsAllowedOrigins sameOrigin() { return {}; }
    static CorsAllowedOrigins any();
    static CorsAllowedOrigins list(const QStringList &origins); // a list holding "*" means any
    static CorsAllowedOrigins callback(std::function<bool(const QString &origin)> allow);
    // No CORS handling at all: no Origin check and no CORS headers (python-socketio's `[]`),
    // for when a proxy in front of the server deals with CORS.
    static CorsAllowedOrigins disabled();

    Kind kind() const { return m_kind; }
    QStringList origins() const { return m_origins; }

    // `sameOrigin` is the server's own origin as the request named it (scheme://Host).
    bool allows(const QString &origin, const QString &sameOrigin) const;

private:
    Kind m_kind = Kind::SameOrigin;
    QStringList m_origins;
    std::function<bool(const QString &)> m_callback;
};

// The Engine.IO session cookie, off unless set (Node's `cookie` option).
struct QSOCKETIO_EXPORT CookieOptions
{
    QString name = QStringLiteral("io");
    QString path = QStringLiteral("/");
    bool httpOnly = true;
    QString sameSite = QStringLiteral("Lax"); // "Strict", "Lax", "None", or empty for none
};

struct QSOCKETIO_EXPORT EngineOptions
{
    using ms = std::chrono::milliseconds;

    // The URL path both transports answer on. Normalised to one leading and one trailing slash:
    // "engine.io", "/engine.io" and "/engine.io/" are the same; requests to "/engine.io" and
    // "/engine.io/" both match.
    QString path = QStringLiteral("/engine.io/");
    QStringList transports = {QStringLiteral("polling"), QStringLiteral("websocket")};
    bool allowUpgrades = true;
    ms pingInterval {25000};
    ms pingTimeout {20000};
    // Time a client has to complete the polling -> WebSocket upgrade once it opened the probe.
    ms upgradeTimeout {10000};
    // Largest POST body or WebSocket message accepted, advertised to clients as `maxPayload`.
    qint64 maxHttpBufferSize = 1000000;
    CorsAllowedOrigins corsAllowedOrigins;
    bool corsCredentials = true;
    std::optional<CookieOptions> cookie;

    // Protection of the listener.
    qint64 maxHeaderSize = 16384; // a larger request head is answered 431
    // A request's head and body must arrive within this time of its first byte (a new
    // connection's first request within this time of the connection): else 408 and close.
    ms requestTimeout {30000};
    // A kept-alive connection with no traffic either way for this long is closed; 0 means
    // pingInterval + pingTimeout, beyond which a held long-poll has had its answer.
    ms idleTimeout {0};
    int listenBacklog = 1024;
    // WebSocket I/O threads. 0: everything runs in the server's thread. N > 0: the WebSocket
    // connections our listener upgrades over plain TCP are spread over N worker threads, each
    // with its own event loop (an EpollEventDispatcher when the server's thread runs one):
    // reading, frame parsing and writing happen there, while sessions, rooms, handlers and
    // signals stay in the server's thread, so nothing changes for the application. Polling,
    // TLS, and WebSockets upgraded by an application's own QHttpServer stay in the server's
    // thread.
    int workerThreads = 0;
    // Used by close(): how long queued packets may take to reach polling clients.
    ms closeTimeout {5000};

    // The slow-client policy. A connection is over the bound while more than maxBufferedBytes
    // are queued for its client but not yet taken by it (the polling buffer, or what the
    // WebSocket has not yet handed to the operating system). Over the bound volatile packets
    // are dropped, other packets are still queued, and a connection that stays over it for
    // slowClientTimeout is closed with reason "send buffer full" (0: on the next event-loop
    // turn). 16 MiB is sixteen maxPayload-sized messages on top of the several MiB the kernel
    // buffers of a TCP connection already hold: a client that reads at all stays far below it,
    // and a stalled one costs at most that much plus what is sent to it during the timeout.
    // 0 switches the policy off.
    qint64 maxBufferedBytes = 16 * 1024 * 1024;
    ms slowClientTimeout {10000};

    // TLS (https and wss) when this holds a local certificate and private key.
    std::optional<QSslConfiguration> ssl;

    // python-socketio's `engineio_logger`: when true, the engine's traffic logging category
    // (qsocketio.engine.traffic) is switched on at debug level.
    bool engineioLogger = false;

    static QString normalizedPath(const QString &path);
    // A server TLS configuration from PEM files (certificate chain; RSA or EC private key).
    // Empty, with `error` set, when a file cannot be read or parsed.
    static std::optional<QSslConfiguration> tlsFromPemFiles(
        const QString &certificateFile, const QString &privateKeyFile, QString *error = nullptr);
};

} // namespace QSocketIo
