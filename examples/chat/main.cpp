// A chat server with its own browser page: the application's QHttpServer serves the page and
// the socket.io client bundle, and Socket.IO shares its port.
//
//     chat_server [--host ADDRESS] [--port PORT]     (PORT also from $PORT; default 3000)
//                 [--admin] [--admin-user NAME --admin-password-hash BCRYPT] [--admin-readonly]
//                 [--admin-ui DIR [--admin-fonts DIR]] [--redis HOST:PORT]
//
// --redis makes it one server of a cluster: every chat_server given the same Redis shares the
// users, rooms and messages (QSocketIo::RedisAdapter, wire-compatible with Node's
// @socket.io/redis-adapter).
//
// The admin options add the Socket.IO Admin UI protocol on namespace /admin; --admin-ui serves
// the official web UI (the ui/dist folder of npm's @socket.io/admin-ui) at /admin-ui/.
#include "../common/quitonsignals.h"
#include "chatserver.h"

#include <QSocketIo/admininstrumentation.h>
#include <QSocketIo/adminui.h>
#include <QSocketIo/redisadapter.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfile.h>
#include <QtCore/qsocketnotifier.h>
#include <QtHttpServer/qhttpserver.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {

// Serves one embedded file at `path`, read once.
void serveResource(
    QHttpServer &http, const QString &path, const QString &resource, const QByteArray &mimeType)
{
    QFile file(resource);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("missing resource %s", qPrintable(resource));
    const QByteArray body = file.readAll();
    http.route(path, QHttpServerRequest::Method::Get, [body, mimeType] {
        QHttpServerResponse response(mimeType, body);
        response.setHeader("Cache-Control", "no-cache");
        response.setHeader("X-Content-Type-Options", "nosniff");
        // The page loads nothing from elsewhere; images arrive as binary and show as blob: URLs.
        response.setHeader("Content-Security-Policy",
            "default-src 'self'; img-src 'self' blob:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
        return response;
    });
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"chat_server"_s);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"QSocketIo chat demo: a browser page and its Socket.IO server on one port."_s);
    parser.addHelpOption();
    const QCommandLineOption hostOption(
        u"host"_s, u"Address to listen on (default 127.0.0.1)."_s, u"address"_s, u"127.0.0.1"_s);
    const QCommandLineOption portOption(u"port"_s,
        u"Port to listen on; 0 picks a free one (default $PORT, else 3000)."_s, u"port"_s);
    const QCommandLineOption adminOption(
        u"admin"_s, u"Admin UI instrumentation on namespace /admin, without auth."_s);
    const QCommandLineOption adminUserOption(u"admin-user"_s,
        u"Admin UI user name (basic auth, with --admin-password-hash)."_s, u"name"_s);
    const QCommandLineOption adminHashOption(u"admin-password-hash"_s,
        u"bcrypt hash ($2a$, $2b$ or $2y$) of the admin password."_s, u"hash"_s);
    const QCommandLineOption adminReadonlyOption(
        u"admin-readonly"_s, u"The admin UI may watch, not act."_s);
    const QCommandLineOption adminUiOption(u"admin-ui"_s,
        u"Serve the Admin UI web app at /admin-ui/ from this folder (@socket.io/admin-ui's "
        "ui/dist)."_s,
        u"dir"_s);
    const QCommandLineOption adminFontsOption(u"admin-fonts"_s,
        u"Serve the Admin UI's web fonts from this folder (a node_modules with @mdi/font and "
        "@fontsource/roboto) instead of public CDNs."_s,
        u"dir"_s);
    const QCommandLineOption redisOption(u"redis"_s,
        u"Share the chat with the other servers using this Redis: HOST:PORT, HOST or "
        "redis://[[USER]:PASSWORD@]HOST[:PORT]."_s,
        u"address"_s);
    parser.addOption(hostOption);
    parser.addOption(portOption);
    parser.addOption(redisOption);
    parser.addOptions({adminOption, adminUserOption, adminHashOption, adminReadonlyOption,
        adminUiOption, adminFontsOption});
    parser.process(app);

    const QString host = parser.value(hostOption);
    QHostAddress address;
    if (host == u"localhost")
        address = QHostAddress::LocalHost;
    else if (!address.setAddress(host)) {
        fprintf(stderr, "chat_server: --host wants an IP address, not %s\n", qPrintable(host));
        return 2;
    }
    QString portText
        = parser.isSet(portOption) ? parser.value(portOption) : qEnvironmentVariable("PORT");
    if (portText.isEmpty())
        portText = u"3000"_s;
    bool ok = false;
    const uint port = portText.toUInt(&ok);
    if (!ok || port > 65535) {
        fprintf(stderr, "chat_server: the port must be a number from 0 to 65535, not %s\n",
            qPrintable(portText));
        return 2;
    }

    if (parser.isSet(adminUserOption) != parser.isSet(adminHashOption)) {
        fprintf(stderr, "chat_server: --admin-user and --admin-password-hash go together\n");
        return 2;
    }
    if (parser.isSet(adminFontsOption) && !parser.isSet(adminUiOption)) {
        fprintf(stderr, "chat_server: --admin-fonts needs --admin-ui\n");
        return 2;
    }
    const bool admin = parser.isSet(adminOption) || parser.isSet(adminUserOption)
        || parser.isSet(adminReadonlyOption);

    QSocketIo::RedisAdapterOptions redis;
    const bool cluster = parser.isSet(redisOption);
    if (cluster && !redis.setAddress(parser.value(redisOption))) {
        fprintf(stderr, "chat_server: --redis wants HOST:PORT or a redis:// URL, not %s\n",
            qPrintable(parser.value(redisOption)));
        return 2;
    }

    QHttpServer http;
    serveResource(http, u"/"_s, u":/web/index.html"_s, "text/html; charset=utf-8");
    serveResource(http, u"/index.html"_s, u":/web/index.html"_s, "text/html; charset=utf-8");
    serveResource(http, u"/app.js"_s, u":/web/app.js"_s, "text/javascript; charset=utf-8");
    serveResource(http, u"/style.css"_s, u":/web/style.css"_s, "text/css; charset=utf-8");
    serveResource(http, u"/favicon.svg"_s, u":/web/favicon.svg"_s, "image/svg+xml");
    serveResource(http, u"/vendor/socket.io.min.js"_s, u":/web/vendor/socket.io.min.js"_s,
        "text/javascript; charset=utf-8");

    // Same-origin CORS (the default): only the page served here may connect from a browser.
    QSocketIo::SocketServerOptions options;
    if (cluster)
        options.adapterFactory = QSocketIo::RedisAdapter::factory(redis);
    QSocketIo::SocketServer io(options);
    ChatServer chat(&io, cluster);
    std::unique_ptr<QSocketIo::AdminInstrumentation> instrumentation;
    if (admin) {
        QSocketIo::AdminOptions adminOptions;
        adminOptions.username = parser.value(adminUserOption);
        adminOptions.passwordHash = parser.value(adminHashOption).toUtf8();
        adminOptions.readonly = parser.isSet(adminReadonlyOption);
        instrumentation = std::make_unique<QSocketIo::AdminInstrumentation>(&io, adminOptions);
    }
    if (!io.attach(&http)) {
        fprintf(stderr, "chat_server: cannot attach to the HTTP server: %s\n",
            qPrintable(io.errorString()));
        return 1;
    }
    if (parser.isSet(adminUiOption)
        && !QSocketIo::serveAdminUi(
            &io, u"/admin-ui/"_s, parser.value(adminUiOption), parser.value(adminFontsOption))) {
        fprintf(stderr, "chat_server: cannot serve the admin UI from %s\n",
            qPrintable(parser.value(adminUiOption)));
        return 2;
    }
    if (!io.listen(address, quint16(port))) {
        fprintf(stderr, "chat_server: cannot listen on %s port %u: %s\n", qPrintable(host), port,
            qPrintable(io.errorString()));
        return 1;
    }
    const QString urlHost
        = address.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + host + u']' : host;
    QSocketIoExamples::quitOnSignals(&app);
    printf("chat demo on http://%s:%u/\n", qPrintable(urlHost), io.serverPort());
    if (cluster) {
        // The password, if any, stays out of the output.
        printf("cluster: Redis at %s:%u\n", qPrintable(redis.host), unsigned(redis.port));
        // Until it is connected, the chat sees this server's users only.
        if (auto *adapter = qobject_cast<QSocketIo::RedisAdapter *>(io.of(u"/"_s)->adapter())) {
            QObject::connect(
                adapter, &QSocketIo::RedisAdapter::connectedChanged, &app, [](bool connected) {
                    printf("cluster: %s\n", connected ? "connected" : "disconnected");
                    fflush(stdout);
                });
            if (adapter->isConnected())
                printf("cluster: connected\n");
        }
    }
    if (instrumentation) {
        printf("admin namespace /admin (%s%s)\n",
            parser.isSet(adminUserOption) ? "basic auth" : "no auth",
            parser.isSet(adminReadonlyOption) ? ", read-only" : "");
    }
    if (parser.isSet(adminUiOption))
        printf("admin UI on http://%s:%u/admin-ui/\n", qPrintable(urlHost), io.serverPort());
    fflush(stdout);
    return app.exec();
}
