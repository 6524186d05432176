#pragma once

// SIGINT and SIGTERM quit the application's event loop, so that what runs at the end of main()
// and at exit (SocketServer's graceful close, LeakSanitizer's check) happens. The handler only
// writes a byte to a socket pair that the loop watches.

#include <QtCore/qcoreapplication.h>
#include <QtCore/qsocketnotifier.h>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace QSocketIoExamples {

inline int signalFds[2] = {-1, -1};

inline void onQuitSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = ::write(signalFds[1], &byte, 1);
}

inline void quitOnSignals(QCoreApplication *app)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, signalFds) != 0)
        return;
    auto *notifier = new QSocketNotifier(signalFds[0], QSocketNotifier::Read, app);
    QObject::connect(notifier, &QSocketNotifier::activated, app, [] {
        char byte;
        [[maybe_unused]] const ssize_t read = ::read(signalFds[0], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onQuitSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

} // namespace QSocketIoExamples
