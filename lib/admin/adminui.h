#pragma once

// Serves the official Socket.IO Admin UI web app (npm package @socket.io/admin-ui, its `ui/dist`
// folder) from the server's own HTTP port, so a browser reaches the UI and the server at one
// origin. Independent of AdminInstrumentation: the UI is only static files, and it connects to
// whatever admin namespace the user types into its form.

#include "../socket/socketserver.h"

#include <QtCore/qstring.h>

class QHttpServer;

namespace QSocketIo {

// Serves the files of `uiDirectory` (the folder holding the UI's index.html) under `urlPrefix`
// ("/admin-ui/": the prefix itself is the UI's index page, "/admin-ui" redirects there). Only GET
// and HEAD; nothing outside the folder is reachable (no "..", no symbolic link leading out).
//
// The UI's index page loads its two web fonts from public CDNs, which an offline browser cannot
// reach (icon buttons then render blank). With a `fontsDirectory` both come from this server
// instead, under `<urlPrefix>fonts/`: it is either a node_modules folder holding the npm packages
// @mdi/font and @fontsource/roboto, or a folder with `mdi/` and `roboto/` laid out like them.
// Without one the index page is served unchanged.
//
// Call after listen() or attach(). Returns false, with a warning, when the server has no HTTP
// server yet, when `uiDirectory` has no index.html, or when `fontsDirectory` holds neither font.
QSOCKETIO_EXPORT bool serveAdminUi(SocketServer *server, const QString &urlPrefix,
    const QString &uiDirectory, const QString &fontsDirectory = {});

// The same on an application's QHttpServer (which SocketServer::attach() may share).
QSOCKETIO_EXPORT bool serveAdminUi(QHttpServer *http, const QString &urlPrefix,
    const QString &uiDirectory, const QString &fontsDirectory = {});

} // namespace QSocketIo
