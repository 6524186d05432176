#pragma once

// SOCKET_EVENT: register a free function as a Socket.IO event handler, the way the Python
// plugin's @SocketEvent("name", namespace="/chat") decorator does. Each server collects the
// registered functions when it starts listening (or attaches).
//
//     SOCKET_EVENT("message", "/chat")
//     {
//         socket->to(args.value(0).toString()).emitEvent("new_message", args);
//         ack({true});
//     }
//
// The body sees `socket` (QSocketIo::Socket *), `args` (const QVariantList &) and `ack`
// (const QSocketIo::Ack &). Two event names are special: "connect" runs while the socket
// connects (args holds the auth payload; throw a QSocketIo::ConnectError to refuse it), and
// "disconnect" runs after it left (args holds the reason). The namespace defaults to "/".

#include "ack.h"

namespace QSocketIo {

class Socket;

using SocketEventFunction = void (*)(Socket *socket, const QVariantList &args, const Ack &ack);

struct QSOCKETIO_EXPORT SocketEventRegistration
{
    const char *event;
    const char *nsp;
    SocketEventFunction function;
    const char *file;
    int line;
};

QSOCKETIO_EXPORT bool registerSocketEvent(SocketEventFunction function, const char *file, int line,
    const char *event, const char *nsp = "/");
QSOCKETIO_EXPORT QList<SocketEventRegistration> registeredSocketEvents();

} // namespace QSocketIo

#define QSIO_CONCAT_(a, b) a##b
#define QSIO_CONCAT(a, b) QSIO_CONCAT_(a, b)
#define SOCKET_EVENT(...)                                                                          \
    static void QSIO_CONCAT(qsioSocketEvent_, __LINE__)(                                           \
        QSocketIo::Socket *, const QVariantList &, const QSocketIo::Ack &);                        \
    [[maybe_unused]] static const bool QSIO_CONCAT(qsioSocketEventRegistered_, __LINE__)           \
        = QSocketIo::registerSocketEvent(                                                          \
            &QSIO_CONCAT(qsioSocketEvent_, __LINE__), __FILE__, __LINE__, __VA_ARGS__);            \
    static void QSIO_CONCAT(qsioSocketEvent_, __LINE__)(                                           \
        [[maybe_unused]] QSocketIo::Socket * socket, [[maybe_unused]] const QVariantList &args,    \
        [[maybe_unused]] const QSocketIo::Ack &ack)
