// qsocketio-admin: the desktop admin app of QSocketIo servers (and of any server speaking the
// Socket.IO Admin UI protocol).

#include "connectdialog.h"
#include "i18n.h"
#include "mainwindow.h"

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qsettings.h>
#include <QtCore/qtimer.h>
#include <QtWidgets/qapplication.h>
#include <QtWidgets/qtabwidget.h>

#include <cstdio>

#ifndef QSIO_ADMIN_VERSION
#define QSIO_ADMIN_VERSION "0.0.0"
#endif

using namespace AdminApp;

namespace {

// --lang is needed before the parser's own texts are translated, so it is found by hand first.
QString languageArgument(const QStringList &arguments)
{
    for (int i = 1; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if (a.startsWith(QLatin1String("--lang=")))
            return a.mid(7);
        if (a == QLatin1String("--lang") && i + 1 < arguments.size())
            return arguments.at(i + 1);
    }
    return {};
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("QSocketIo"));
    QApplication::setApplicationName(QStringLiteral("qsocketio-admin"));
    QApplication::setApplicationDisplayName(QStringLiteral("QSocketIo Admin"));
    QApplication::setApplicationVersion(QStringLiteral(QSIO_ADMIN_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("qsocketio-admin"));

    const QString language = languageArgument(QApplication::arguments());
    if (!installTranslations(language) && !language.isEmpty())
        std::fprintf(
            stderr, "qsocketio-admin: no translation for language %s\n", qPrintable(language));

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate(
        "main", "Monitors and commands Socket.IO servers through the Admin UI protocol."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption url(QStringLiteral("url"),
        QApplication::translate("main", "Server URL, e.g. http://localhost:3000."),
        QStringLiteral("url"));
    const QCommandLineOption path(QStringLiteral("path"),
        QApplication::translate("main", "Socket.IO path (default /socket.io/)."),
        QStringLiteral("path"));
    const QCommandLineOption nsp(QStringLiteral("namespace"),
        QApplication::translate("main", "Admin namespace (default /admin)."),
        QStringLiteral("nsp"));
    const QCommandLineOption user(QStringLiteral("user"),
        QApplication::translate(
            "main", "User name; the password comes from the QSOCKETIO_PASSWORD variable."),
        QStringLiteral("name"));
    const QCommandLineOption websocketOnly(QStringLiteral("websocket-only"),
        QApplication::translate("main", "Use WebSocket only, no long-polling."));
    const QCommandLineOption lang(QStringLiteral("lang"),
        QApplication::translate("main", "Language of the interface: de, fr or en."),
        QStringLiteral("lang"));
    const QCommandLineOption connectNow(QStringLiteral("connect"),
        QApplication::translate("main", "Connect at start, without the connect dialog."));
    // For tools/screenshot-admin.sh, not for users: hidden from --help.
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral("Save the window to FILE, then quit."), QStringLiteral("file"));
    screenshot.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption screenshotDelay(QStringLiteral("screenshot-delay"),
        QStringLiteral("Milliseconds before the screenshot."), QStringLiteral("ms"),
        QStringLiteral("5000"));
    screenshotDelay.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption screenshotTab(QStringLiteral("screenshot-tab"),
        QStringLiteral("Tab shown for the screenshot."), QStringLiteral("index"),
        QStringLiteral("0"));
    screenshotTab.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({url, path, nsp, user, websocketOnly, lang, connectNow, screenshot,
        screenshotDelay, screenshotTab});
    parser.process(app);

    QSettings stored;
    ConnectionSettings settings = ConnectionSettings::load(stored);
    const ConnectionSettings before = settings;
    if (parser.isSet(url))
        settings.url = QUrl::fromUserInput(parser.value(url));
    if (parser.isSet(path))
        settings.path = parser.value(path);
    if (parser.isSet(nsp))
        settings.nsp = parser.value(nsp);
    if (parser.isSet(user))
        settings.username = parser.value(user);
    if (parser.isSet(websocketOnly))
        settings.websocketOnly = true;
    settings.password = qEnvironmentVariable("QSOCKETIO_PASSWORD");
    // A session issued for another server or login is worth nothing here.
    if (settings.url != before.url || settings.nsp != before.nsp
        || settings.username != before.username)
        settings.sessionId.clear();

    MainWindow window;
    window.show();
    if (parser.isSet(connectNow))
        window.connectToServer(settings);
    else
        window.openConnectDialog(&settings);

    if (parser.isSet(screenshot)) {
        window.tabs()->setCurrentIndex(parser.value(screenshotTab).toInt());
        QTimer::singleShot(parser.value(screenshotDelay).toInt(), &window, [&] {
            const bool saved = window.grab().save(parser.value(screenshot));
            if (!saved)
                std::fprintf(stderr, "qsocketio-admin: cannot write %s\n",
                    qPrintable(parser.value(screenshot)));
            QApplication::exit(saved ? 0 : 1);
        });
    }
    return app.exec();
}
