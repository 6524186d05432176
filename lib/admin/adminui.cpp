#include "adminui.h"

#include "../engine/httpgate_p.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qregularexpression.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtHttpServer/qhttpserverrequest.h>
#include <QtHttpServer/qhttpserverresponder.h>

#include <optional>

using namespace Qt::StringLiterals;

namespace QSocketIo {

Q_LOGGING_CATEGORY(lcAdminUi, "qsocketio.admin.ui", QtWarningMsg)

namespace {

// The UI's largest file (a source map) is about 3 MB; anything bigger is not the UI's and would
// only cost memory: a file is read whole to answer, and each connection's send buffer holds a
// copy until its reader takes it.
constexpr qint64 maxFileSize = 8 * 1024 * 1024;

// The weights the UI's index page asks the font CDN for.
constexpr int robotoWeights[] = {100, 300, 400, 500, 700, 900};

const QString mdiStylesheet = u"css/materialdesignicons.min.css"_s;
// Not a file of @fontsource/roboto: made by joining its per-weight stylesheets, which sit in the
// same folder, so their relative font URLs still resolve.
const QString robotoStylesheet = u"roboto.css"_s;

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

struct Reply
{
    int status = 404;
    HeaderList headers;
    QByteArray body;
};

struct UiRequest
{
    QByteArray encodedPath; // after the prefix, still percent-encoded
    QByteArray ifNoneMatch;
};

QByteArray contentType(const QString &fileName)
{
    static const QHash<QString, QByteArray> types = {
        {u"html"_s, "text/html; charset=utf-8"},
        {u"htm"_s, "text/html; charset=utf-8"},
        {u"js"_s, "text/javascript; charset=utf-8"},
        {u"mjs"_s, "text/javascript; charset=utf-8"},
        {u"css"_s, "text/css; charset=utf-8"},
        {u"json"_s, "application/json"},
        {u"map"_s, "application/json"},
        {u"txt"_s, "text/plain; charset=utf-8"},
        {u"md"_s, "text/plain; charset=utf-8"},
        {u"png"_s, "image/png"},
        {u"jpg"_s, "image/jpeg"},
        {u"jpeg"_s, "image/jpeg"},
        {u"gif"_s, "image/gif"},
        {u"webp"_s, "image/webp"},
        {u"svg"_s, "image/svg+xml"},
        {u"ico"_s, "image/x-icon"},
        {u"woff"_s, "font/woff"},
        {u"woff2"_s, "font/woff2"},
        {u"ttf"_s, "font/ttf"},
        {u"otf"_s, "font/otf"},
        {u"eot"_s, "application/vnd.ms-fontobject"},
        {u"wasm"_s, "application/wasm"},
    };
    const qsizetype dot = fileName.lastIndexOf(u'.');
    if (dot < 0)
        return "application/octet-stream";
    return types.value(fileName.sliced(dot + 1).toLower(), "application/octet-stream");
}

// The build names its bundles after their content ("app.0d7d7845.js"): such a name never
// changes meaning, so browsers may keep it. Everything else is revalidated through its ETag.
QByteArray cacheControl(const QString &fileName)
{
    static const QRegularExpression hashed(u"\\.[0-9a-f]{8,}\\.[A-Za-z0-9]+$"_s);
    if (hashed.match(fileName).hasMatch())
        return "public, max-age=31536000, immutable";
    return "no-cache";
}

// The decoded path segments of `encoded`, or nothing when a segment could lead out of the
// folder or name something the UI never has: "..", ".", hidden files, empty segments (an
// absolute path after the prefix), encoded slashes, backslashes, NUL, invalid UTF-8.
std::optional<QStringList> safeSegments(const QByteArray &encoded)
{
    QStringList segments;
    if (encoded.isEmpty())
        return segments;
    for (const QByteArray &part : encoded.split('/')) {
        const QByteArray decoded = QByteArray::fromPercentEncoding(part);
        if (decoded.isEmpty() || decoded.startsWith('.') || decoded.contains('/')
            || decoded.contains('\\') || decoded.contains('\0'))
            return std::nullopt;
        const QString segment = QString::fromUtf8(decoded);
        if (segment.toUtf8() != decoded)
            return std::nullopt;
        segments.append(segment);
    }
    return segments;
}

// The regular file `segments` name under `root` (canonical), following symbolic links only
// while they stay inside it; empty when there is none.
QString resolve(const QString &root, const QStringList &segments)
{
    if (root.isEmpty() || segments.isEmpty())
        return {};
    const QString inside = root.endsWith(u'/') ? root : root + u'/';
    const QFileInfo info(inside + segments.join(u'/'));
    const QString canonical = info.canonicalFilePath();
    if (canonical.isEmpty() || !canonical.startsWith(inside))
        return {};
    const QFileInfo target(canonical);
    return target.isFile() && target.isReadable() ? canonical : QString();
}

std::optional<QByteArray> readBounded(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    // The size first, so that a big file costs no read; the bounded read covers one that grows.
    QByteArray data;
    if (file.size() <= maxFileSize)
        data = file.read(maxFileSize + 1);
    if (file.size() > maxFileSize || data.size() > maxFileSize) {
        qCWarning(lcAdminUi) << "not serving" << path << "(larger than" << maxFileSize << "bytes)";
        return std::nullopt;
    }
    return data;
}

QString canonicalDir(const QString &path)
{
    const QFileInfo info(path);
    return info.isDir() ? info.canonicalFilePath() : QString();
}

// The first of `candidates` (below `base`) that holds `marker`, canonical; or empty.
QString findPackage(const QString &base, const QStringList &candidates, const QString &marker)
{
    for (const QString &candidate : candidates) {
        const QString dir = canonicalDir(base + u'/' + candidate);
        if (!dir.isEmpty() && QFileInfo(dir + u'/' + marker).isFile())
            return dir;
    }
    return {};
}

class AdminUiSite
{
public:
    QString prefix; // "/admin-ui/"
    QString uiRoot;
    QString mdiRoot; // empty: the MDI stylesheet link stays as it is
    QString robotoRoot; // empty: so does Roboto's

    Reply answer(const UiRequest &request) const
    {
        const std::optional<QStringList> segments = safeSegments(request.encodedPath);
        if (!segments)
            return {};
        if (segments->isEmpty() || *segments == QStringList {u"index.html"_s})
            return indexPage(request);
        if (segments->size() >= 3 && segments->at(0) == u"fonts") {
            const QString &family = segments->at(1);
            const QStringList rest = segments->sliced(2);
            if (family == u"mdi" && !mdiRoot.isEmpty())
                return fileReply(request, resolve(mdiRoot, rest));
            if (family == u"roboto" && !robotoRoot.isEmpty()) {
                if (rest == QStringList {robotoStylesheet})
                    return robotoReply(request);
                return fileReply(request, resolve(robotoRoot, rest));
            }
        }
        return fileReply(request, resolve(uiRoot, *segments));
    }

private:
    static bool notModified(const UiRequest &request, const QByteArray &etag)
    {
        for (const QByteArray &tag : request.ifNoneMatch.split(',')) {
            const QByteArray t = tag.trimmed();
            if (t == etag || t == "*")
                return true;
        }
        return false;
    }

    static Reply finish(const UiRequest &request, const QString &name, QByteArray body,
        const QByteArray &etag, const QByteArray &cache)
    {
        Reply reply;
        reply.headers = {{"Cache-Control", cache}, {"ETag", etag}};
        if (notModified(request, etag)) {
            reply.status = 304;
            return reply;
        }
        reply.status = 200;
        reply.headers.emplaceBack("Content-Type", contentType(name));
        reply.headers.emplaceBack("X-Content-Type-Options", "nosniff");
        reply.body = std::move(body);
        return reply;
    }

    static QByteArray bodyTag(const QByteArray &body)
    {
        return '"' + QCryptographicHash::hash(body, QCryptographicHash::Sha1).toHex().left(20)
            + '"';
    }

    Reply fileReply(const UiRequest &request, const QString &path) const
    {
        if (path.isEmpty())
            return {};
        const QFileInfo info(path);
        // Size and time name a version without reading the file, so a 304 costs no read.
        const QByteArray etag = "\"" + QByteArray::number(info.size(), 16) + '-'
            + QByteArray::number(info.lastModified().toMSecsSinceEpoch(), 16) + '"';
        QByteArray data;
        if (!notModified(request, etag)) {
            const std::optional<QByteArray> read = readBounded(path);
            if (!read)
                return {};
            data = *read;
        }
        return finish(request, info.fileName(), data, etag, cacheControl(info.fileName()));
    }

    Reply indexPage(const UiRequest &request) const
    {
        const QString path = resolve(uiRoot, {u"index.html"_s});
        const std::optional<QByteArray> page = path.isEmpty() ? std::nullopt : readBounded(path);
        if (!page)
            return {};
        const QByteArray body = rewriteFontLinks(*page);
        Reply reply = finish(request, u"index.html"_s, body, bodyTag(body), "no-cache");
        // The page can disconnect sockets with one click: no framing by other sites.
        reply.headers.emplaceBack("X-Frame-Options", "DENY");
        reply.headers.emplaceBack("Content-Security-Policy", "frame-ancestors 'none'");
        return reply;
    }

    Reply robotoReply(const UiRequest &request) const
    {
        QByteArray css;
        for (int weight : robotoWeights) {
            const QString path = resolve(robotoRoot, {QString::number(weight) + u".css"_s});
            if (path.isEmpty())
                continue;
            const std::optional<QByteArray> part = readBounded(path);
            if (part)
                css += *part + '\n';
        }
        return finish(request, robotoStylesheet, css, bodyTag(css), "no-cache");
    }

    // Points the index page's two CDN stylesheet links at the copies served here.
    QByteArray rewriteFontLinks(const QByteArray &page) const
    {
        if (mdiRoot.isEmpty() && robotoRoot.isEmpty())
            return page;
        static const QRegularExpression link(
            u"<link\\b[^>]*>"_s, QRegularExpression::CaseInsensitiveOption);
        static const QRegularExpression href(
            u"(\\bhref\\s*=\\s*)(\"[^\"]*\"|'[^']*')"_s, QRegularExpression::CaseInsensitiveOption);
        const QString text = QString::fromUtf8(page);
        QString out;
        out.reserve(text.size());
        qsizetype last = 0;
        for (const QRegularExpressionMatch &tag : link.globalMatch(text)) {
            const QString original = tag.captured();
            const QRegularExpressionMatch h = href.match(original);
            if (!h.hasMatch())
                continue;
            const QString url = h.captured(2).mid(1).chopped(1);
            const bool remote = url.startsWith(u"https://", Qt::CaseInsensitive)
                || url.startsWith(u"http://", Qt::CaseInsensitive) || url.startsWith(u"//");
            if (!remote)
                continue;
            QString local;
            if (!mdiRoot.isEmpty() && url.contains(u"materialdesignicons"))
                local = prefix + u"fonts/mdi/"_s + mdiStylesheet;
            else if (!robotoRoot.isEmpty() && url.contains(u"family=Roboto"))
                local = prefix + u"fonts/roboto/"_s + robotoStylesheet;
            if (local.isEmpty())
                continue;
            QString replaced = original;
            replaced.replace(
                h.capturedStart(2), h.capturedLength(2), u'"' + local.toHtmlEscaped() + u'"');
            out += QStringView(text).sliced(last, tag.capturedStart() - last);
            out += replaced;
            last = tag.capturedEnd();
        }
        out += QStringView(text).sliced(last);
        return out.toUtf8();
    }
};

bool isHeaderToken(const QByteArray &value, QByteArrayView token)
{
    for (const QByteArray &part : value.split(',')) {
        if (part.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// The only QtHttpServer calls of the admin layer: a route for everything under the prefix and
// one for the prefix without its slash. Each request is answered before the handler returns,
// so the responder's socket cannot be gone yet.
void addRoutes(QHttpServer *http, std::shared_ptr<const AdminUiSite> site)
{
    const QString prefix = site->prefix;
    auto view = [site](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        using Method = QHttpServerRequest::Method;
        const bool head = request.method() == Method::Head;
        const QByteArray path = request.url().path(QUrl::FullyEncoded).toUtf8();
        const QByteArray encodedPrefix = QUrl::toPercentEncoding(site->prefix, "/");
        Reply reply;
        if (request.method() != Method::Get && !head) {
            reply.status = 405;
            reply.headers = {{"Allow", "GET, HEAD"}};
        } else if (!path.startsWith(encodedPrefix)) {
            // The prefix without its slash: relative URLs in the page need the slash.
            reply.status = 301;
            QByteArray location = encodedPrefix;
            if (const QString query = request.url().query(QUrl::FullyEncoded); !query.isEmpty())
                location += '?' + query.toUtf8();
            reply.headers = {{"Location", location}};
        } else {
            UiRequest r;
            r.encodedPath = path.sliced(encodedPrefix.size());
            r.ifNoneMatch = request.value("if-none-match");
            reply = site->answer(r);
        }
        if (reply.status == 404) {
            reply.headers.emplaceBack("Content-Type", "text/plain; charset=utf-8");
            reply.body = "not found\n";
        }
        const bool close = isHeaderToken(request.value("connection"), "close");
        responder.writeStatusLine(QHttpServerResponder::StatusCode(reply.status));
        for (const auto &h : std::as_const(reply.headers))
            responder.writeHeader(h.first, h.second);
        if (reply.status != 304) {
            responder.writeHeader(
                QByteArrayLiteral("Content-Length"), QByteArray::number(reply.body.size()));
        }
        if (close)
            responder.writeHeader(QByteArrayLiteral("Connection"), QByteArrayLiteral("close"));
        // HEAD: the headers of the GET, without its body.
        responder.writeBody(head ? QByteArray() : reply.body);
        if (close) {
            if (QTcpSocket *socket = responder.socket())
                socket->disconnectFromHost();
        }
    };
    // QtHttpServer 6.4 anchors a route's pattern and matches it as a regular expression.
    http->route(QRegularExpression::escape(prefix) + u"[\\s\\S]*"_s, view);
    if (prefix.size() > 1)
        http->route(QRegularExpression::escape(prefix.chopped(1)), view);
}

} // namespace

bool serveAdminUi(QHttpServer *http, const QString &urlPrefix, const QString &uiDirectory,
    const QString &fontsDirectory)
{
    if (!http) {
        qCWarning(lcAdminUi) << "serveAdminUi: no HTTP server";
        return false;
    }
    auto site = std::make_shared<AdminUiSite>();
    site->prefix = urlPrefix;
    if (!site->prefix.startsWith(u'/'))
        site->prefix.prepend(u'/');
    if (!site->prefix.endsWith(u'/'))
        site->prefix.append(u'/');
    site->uiRoot = canonicalDir(uiDirectory);
    if (site->uiRoot.isEmpty() || !QFileInfo(site->uiRoot + u"/index.html"_s).isFile()) {
        qCWarning(lcAdminUi).noquote()
            << "serveAdminUi:" << QDir::toNativeSeparators(uiDirectory)
            << "has no index.html; give the ui/dist folder of the npm package "
               "@socket.io/admin-ui";
        return false;
    }
    if (!fontsDirectory.isEmpty()) {
        site->mdiRoot = findPackage(fontsDirectory, {u"@mdi/font"_s, u"mdi"_s}, mdiStylesheet);
        site->robotoRoot
            = findPackage(fontsDirectory, {u"@fontsource/roboto"_s, u"roboto"_s}, u"400.css"_s);
        if (site->mdiRoot.isEmpty() && site->robotoRoot.isEmpty()) {
            qCWarning(lcAdminUi).noquote()
                << "serveAdminUi:" << QDir::toNativeSeparators(fontsDirectory)
                << "holds neither @mdi/font nor @fontsource/roboto (nor mdi/ and roboto/)";
            return false;
        }
        if (site->mdiRoot.isEmpty())
            qCWarning(lcAdminUi) << "serveAdminUi: no @mdi/font in" << fontsDirectory
                                 << "- the UI's icons come from the CDN";
        if (site->robotoRoot.isEmpty())
            qCWarning(lcAdminUi) << "serveAdminUi: no @fontsource/roboto in" << fontsDirectory
                                 << "- the UI's text font comes from the CDN";
    }
    addRoutes(http, std::move(site));
    return true;
}

bool serveAdminUi(SocketServer *server, const QString &urlPrefix, const QString &uiDirectory,
    const QString &fontsDirectory)
{
    QHttpServer *http = server ? server->engine()->httpServer() : nullptr;
    if (!http) {
        qCWarning(lcAdminUi) << "serveAdminUi: call it after the server's listen() or attach()";
        return false;
    }
    if (!serveAdminUi(http, urlPrefix, uiDirectory, fontsDirectory))
        return false;
    // A server that listens on its own answers every other path with 404 before QtHttpServer
    // sees it; the UI's paths must now reach QtHttpServer's routes, as an application's do.
    // QtHttpServer would read any body sent to them whole, so they keep the engine's limit.
    EngineMount *mount = EngineMount::of(http);
    if (!mount->servesOtherPaths()) {
        mount->setServesOtherPaths(true);
        mount->setOtherPathsBodyLimit(server->options().maxHttpBufferSize);
    }
    return true;
}

} // namespace QSocketIo
