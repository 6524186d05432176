// The Python plugin's README examples, one for one, in C++ (see README.md, "Coming from the
// Python plugin"). Run it and connect any Socket.IO client to http://127.0.0.1:8000.
// `python_port --list` prints the registered handlers and the routes, as the plugin's CLI did.

#include <QSocketIo/socket.h>
#include <QSocketIo/socketevent.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qtextstream.h>

using namespace QSocketIo;
using namespace Qt::StringLiterals;

// A stand-in for the application's token check.
static bool validateToken(const QString &token)
{
    return token == u"let-me-in"_s;
}

// @SocketEvent("connect"): the handshake holds what python's environ held. Throwing a
// ConnectError refuses the connection (python returned False or raised).
SOCKET_EVENT("connect")
{
    const QString token = socket->handshake().query.queryItemValue(u"token"_s);
    if (!validateToken(token))
        throw ConnectError {
            u"authentication failed"_s, QVariantMap {{u"reason"_s, u"bad token"_s}}};
    qInfo("Authenticated client %s connected", qPrintable(socket->id()));
    socketApi()->emitEvent(
        u"welcome"_s, {QVariantMap {{u"msg"_s, u"Welcome!"_s}}}, EmitOptions().to(socket->id()));
    socketApi()->emitEvent(u"authenticated"_s, {}, EmitOptions().to(socket->id()));
}

SOCKET_EVENT("disconnect")
{
    qInfo("Client %s disconnected (%s)", qPrintable(socket->id()),
        qPrintable(args.value(0).toString()));
}

SOCKET_EVENT("message")
{
    qInfo("Received message from %s", qPrintable(socket->id()));
    // Broadcast to all clients.
    socketApi()->emitEvent(
        u"response"_s, {QVariantMap {{u"message"_s, args.value(0)}, {u"from"_s, socket->id()}}});
}

// Namespaces.
SOCKET_EVENT("join", "/chat")
{
    const QString room = args.value(0).toMap().value(u"room"_s).toString();
    socketApi()->enterRoom(socket->id(), room, u"/chat"_s);
    socketApi()->emitEvent(u"joined"_s, {QVariantMap {{u"room"_s, room}}},
        EmitOptions().to(socket->id()).nsp(u"/chat"_s));
}

SOCKET_EVENT("message", "/chat")
{
    const QVariantMap data = args.value(0).toMap();
    socketApi()->emitEvent(u"new_message"_s,
        {QVariantMap {{u"user"_s, socket->id()}, {u"message"_s, data.value(u"message"_s)}}},
        EmitOptions().to(data.value(u"room"_s).toString()).nsp(u"/chat"_s));
}

// Rooms and broadcasting.
SOCKET_EVENT("join_room")
{
    const QString room = args.value(0).toString();
    socketApi()->enterRoom(socket->id(), room);
    socketApi()->emitEvent(
        u"joined_room"_s, {QVariantMap {{u"room"_s, room}}}, EmitOptions().to(socket->id()));
}

SOCKET_EVENT("leave_room")
{
    const QString room = args.value(0).toString();
    socketApi()->leaveRoom(socket->id(), room);
    socketApi()->emitEvent(
        u"left_room"_s, {QVariantMap {{u"room"_s, room}}}, EmitOptions().to(socket->id()));
}

SOCKET_EVENT("send_to_room")
{
    const QVariantMap data = args.value(0).toMap();
    socketApi()->emitEvent(u"room_message"_s,
        {QVariantMap {{u"from"_s, socket->id()}, {u"message"_s, data.value(u"message"_s)}}},
        EmitOptions().to(data.value(u"room"_s).toString()));
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);

    // App.configurePlugin(SocketPlugin(), cors_allowed_origins=["*"], ping_interval=25,
    //                     ping_timeout=5, socketio_path="socket.io", ...)
    SocketServerOptions options;
    options.corsAllowedOrigins = CorsAllowedOrigins::any(); // adjust for production
    options.pingInterval = std::chrono::seconds(25);
    options.pingTimeout = std::chrono::seconds(5);
    options.path = u"socket.io"_s;
    options.allowUpgrades = true;
    options.maxHttpBufferSize = 1000000;
    options.engineioLogger = false;
    options.logger = false;
    SocketServer server(options);
    server.of(u"/chat"_s);

    const QStringList arguments = app.arguments();
    const int portIndex = arguments.indexOf(u"--port"_s);
    const quint16 port = portIndex > 0 ? quint16(arguments.value(portIndex + 1).toUInt()) : 8000;
    if (!server.listen(QHostAddress::LocalHost, port)) {
        qCritical("cannot listen: %s", qPrintable(server.errorString()));
        return 1;
    }
    QTextStream out(stdout);
    if (arguments.contains(u"--list"_s)) {
        out << "Socket handlers:\n";
        for (const HandlerInfo &h : server.handlers())
            out << "  " << h.nsp << "  " << h.event << "  (" << h.how << ")\n";
        out << "Routes:\n";
        for (const SocketServer::Route &r : server.routes())
            out << "  " << r.path << "  " << r.transports.join(u',') << "  " << r.mount << "\n";
        return 0;
    }
    out << "listening on http://127.0.0.1:" << server.serverPort() << Qt::endl;
    return app.exec();
}
