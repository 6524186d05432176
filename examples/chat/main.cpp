// A chat server with its own browser page: the application's QHttpServer serves the page and
// the socket.io client bundle, and Socket.IO shares its port.
//
//     chat_server [--host ADDRESS] [--port PORT]     (PORT also from $PORT; default 3000)
#include "chatserver.h"

#include <QSocketIo/socketserver.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfile.h>
#include <QtCore/qsocketnotifier.h>
#include <QtHttpServer/qhttpserver.h>

#include <csignal>
#include <cstdio>
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

// SIGINT and SIGTERM quit the event loop, so that SocketServer closes gracefully (the pages
// hear "server shutting down"): the handler only writes to a socket pair the loop watches.
int signalFds[2] = {-1, -1};

void onSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = ::write(signalFds[1], &byte, 1);
}

void quitOnSignals(QCoreApplication *app)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalFds) != 0)
        return;
    auto *notifier = new QSocketNotifier(signalFds[0], QSocketNotifier::Read, app);
    QObject::connect(notifier, &QSocketNotifier::activated, app, [] {
        char byte;
        [[maybe_unused]] const ssize_t read = ::read(signalFds[0], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
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
    parser.addOption(hostOption);
    parser.addOption(portOption);
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
    QSocketIo::SocketServer io(options);
    ChatServer chat(&io);
    if (!io.attach(&http) || !io.listen(address, quint16(port))) {
        fprintf(stderr, "chat_server: cannot listen on %s port %u: %s\n", qPrintable(host), port,
            qPrintable(io.errorString()));
        return 1;
    }
    const QString urlHost
        = address.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + host + u']' : host;
    quitOnSignals(&app);
    printf("chat demo on http://%s:%u/\n", qPrintable(urlHost), io.serverPort());
    fflush(stdout);
    return app.exec();
}
