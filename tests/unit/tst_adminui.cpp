// Unit tests of serveAdminUi(): a fake UI folder and fonts folder in a temporary directory, served
// by a SocketServer on 127.0.0.1 (port 0) that listens on its own, and by an application's
// QHttpServer. Requests go over a raw QTcpSocket so that "..", encoded slashes and the like reach
// the server exactly as written (QUrl would tidy them away). Every wait is bounded.

#include <QSocketIo/adminui.h>
#include <QSocketIo/socketserver.h>

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtHttpServer/qhttpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qtest.h>

using namespace QSocketIo;
using namespace Qt::StringLiterals;

namespace {

constexpr int kWait = 5000;

// The real index page's two CDN stylesheets, as @socket.io/admin-ui 0.5.1 ships them.
const QByteArray robotoCdn = "https://fonts.example/css?family=Roboto:100,300,400,500,700,900";
const QByteArray mdiCdn
    = "https://cdn.example/npm/@mdi/font@latest/css/materialdesignicons.min.css";
const QByteArray indexHtml = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                             "<link rel=\"icon\" href=\"favicon.png\"><title>Admin UI</title>"
                             "<link rel=\"stylesheet\" href=\""
    + robotoCdn + "\"><link rel=\"stylesheet\" href=\"" + mdiCdn
    + "\"><link href=\"css/app.6e3b9661.css\" rel=\"stylesheet\"></head><body><div id=\"app\">"
      "</div><script src=\"js/app.0d7d7845.js\"></script></body></html>";
const QByteArray secret = "the secret outside the folder";

struct Response
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    bool complete = false;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        }
        return {};
    }
};

// One request on a fresh connection, the target sent byte for byte. The server runs in this
// thread: every wait spins the event loop.
Response request(quint16 port, const QByteArray &method, const QByteArray &target,
    const QByteArray &extraHeaders = {})
{
    Response r;
    QTcpSocket socket;
    QByteArray data;
    QObject::connect(&socket, &QTcpSocket::readyRead, [&] { data += socket.readAll(); });
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; }, kWait))
        return r;
    socket.write(method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
        + "\r\n" + extraHeaders + "\r\n");
    qsizetype headEnd = -1;
    qint64 length = -1;
    const bool answered = QTest::qWaitFor(
        [&] {
            if (headEnd < 0 && (headEnd = data.indexOf("\r\n\r\n")) >= 0) {
                const QList<QByteArray> lines = data.first(headEnd).split('\n');
                r.status = lines.value(0).split(' ').value(1).toInt();
                for (const QByteArray &line : lines.sliced(1)) {
                    const qsizetype colon = line.indexOf(':');
                    r.headers.append(
                        {line.first(colon).trimmed(), line.sliced(colon + 1).trimmed()});
                }
                const bool bodyless = method == "HEAD" || r.status == 304;
                length = bodyless ? 0 : r.header("content-length").toLongLong();
            }
            if (headEnd >= 0 && data.size() - headEnd - 4 >= length) {
                r.body = data.sliced(headEnd + 4);
                r.complete = true;
            }
            return r.complete;
        },
        kWait);
    return answered ? r : Response();
}

void writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

} // namespace

class tst_AdminUi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void indexPage();
    void fontLinksRewritten();
    void fontsServed();
    void contentTypes_data();
    void contentTypes();
    void cacheHeaders();
    void redirect();
    void traversal_data();
    void traversal();
    void symlinkInside();
    void notFound_data();
    void notFound();
    void methods_data();
    void methods();
    void head();
    void etag();
    void tooLarge();
    void engineStillServes();
    void otherPathsStill404();
    void bodiesLimited();
    void applicationServer();
    void refusals();

private:
    QTemporaryDir m_dir;
    QString m_ui;
    QString m_fonts;
    std::unique_ptr<SocketServer> m_io;
    quint16 m_port = 0;
};

void tst_AdminUi::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_ui = m_dir.filePath(u"ui"_s);
    m_fonts = m_dir.filePath(u"node_modules"_s);
    writeFile(m_ui + u"/index.html"_s, indexHtml);
    writeFile(m_ui + u"/js/app.0d7d7845.js"_s, "console.log('app');");
    writeFile(m_ui + u"/js/app.0d7d7845.js.map"_s, "{}");
    writeFile(m_ui + u"/css/app.6e3b9661.css"_s, "body{}");
    writeFile(m_ui + u"/favicon.png"_s, "\x89PNG");
    writeFile(m_ui + u"/img/logo.svg"_s, "<svg/>");
    writeFile(m_ui + u"/notes with space.txt"_s, "spaced");
    writeFile(m_ui + u"/.hidden"_s, "hidden");
    writeFile(m_ui + u"/blob"_s, "bytes");
    writeFile(m_dir.filePath(u"secret.txt"_s), secret);
    QVERIFY(QFile::link(m_dir.filePath(u"secret.txt"_s), m_ui + u"/escape.txt"_s));
    QVERIFY(QFile::link(m_dir.path(), m_ui + u"/escape-dir"_s));
    QVERIFY(QFile::link(u"js/app.0d7d7845.js"_s, m_ui + u"/inside.js"_s));
    writeFile(m_fonts + u"/@mdi/font/css/materialdesignicons.min.css"_s,
        "@font-face{src:url(../fonts/materialdesignicons-webfont.woff2?v=7.4.47)}");
    writeFile(m_fonts + u"/@mdi/font/fonts/materialdesignicons-webfont.woff2"_s, "wOF2");
    writeFile(m_fonts + u"/@fontsource/roboto/400.css"_s, "/* roboto 400 */");
    writeFile(m_fonts + u"/@fontsource/roboto/700.css"_s, "/* roboto 700 */");
    writeFile(m_fonts + u"/@fontsource/roboto/files/roboto-latin-400-normal.woff2"_s, "wOF2");

    m_io = std::make_unique<SocketServer>();
    QVERIFY(m_io->listen(QHostAddress::LocalHost, 0));
    m_port = m_io->serverPort();
    QVERIFY(serveAdminUi(m_io.get(), u"/admin-ui/"_s, m_ui, m_fonts));
    // Without fonts, and a prefix given without its slashes.
    QVERIFY(serveAdminUi(m_io.get(), u"plain"_s, m_ui));
}

void tst_AdminUi::indexPage()
{
    for (const QByteArray target : {"/admin-ui/", "/admin-ui/index.html", "/admin-ui/?x=1"}) {
        const Response r = request(m_port, "GET", target);
        QVERIFY2(r.complete, target);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), "text/html; charset=utf-8");
        QCOMPARE(r.header("cache-control"), "no-cache");
        QCOMPARE(r.header("x-frame-options"), "DENY");
        QVERIFY(r.body.contains("<div id=\"app\">"));
    }
}

void tst_AdminUi::fontLinksRewritten()
{
    const Response r = request(m_port, "GET", "/admin-ui/");
    QCOMPARE(r.status, 200);
    QVERIFY(!r.body.contains(robotoCdn));
    QVERIFY(!r.body.contains(mdiCdn));
    QVERIFY(
        r.body.contains("<link rel=\"stylesheet\" href=\"/admin-ui/fonts/roboto/roboto.css\">"));
    QVERIFY(r.body.contains(
        "<link rel=\"stylesheet\" href=\"/admin-ui/fonts/mdi/css/materialdesignicons.min.css\">"));
    // Relative links are the page's own and stay.
    QVERIFY(r.body.contains("<link href=\"css/app.6e3b9661.css\" rel=\"stylesheet\">"));
    QCOMPARE(r.body.size(),
        indexHtml.size() - robotoCdn.size() - mdiCdn.size()
            + qsizetype(strlen("/admin-ui/fonts/roboto/roboto.css"))
            + qsizetype(strlen("/admin-ui/fonts/mdi/css/materialdesignicons.min.css")));

    const Response plain = request(m_port, "GET", "/plain/");
    QCOMPARE(plain.status, 200);
    QCOMPARE(plain.body, indexHtml);
}

void tst_AdminUi::fontsServed()
{
    Response r = request(m_port, "GET", "/admin-ui/fonts/mdi/css/materialdesignicons.min.css");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), "text/css; charset=utf-8");
    QVERIFY(r.body.contains("materialdesignicons-webfont.woff2"));
    // The stylesheet's relative URL, with its version query.
    r = request(
        m_port, "GET", "/admin-ui/fonts/mdi/fonts/materialdesignicons-webfont.woff2?v=7.4.47");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), "font/woff2");
    QCOMPARE(r.body, "wOF2");
    r = request(m_port, "GET", "/admin-ui/fonts/roboto/roboto.css");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), "text/css; charset=utf-8");
    QVERIFY(r.body.contains("/* roboto 400 */"));
    QVERIFY(r.body.contains("/* roboto 700 */"));
    r = request(m_port, "GET", "/admin-ui/fonts/roboto/files/roboto-latin-400-normal.woff2");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), "font/woff2");
    // No fonts configured there.
    QCOMPARE(
        request(m_port, "GET", "/plain/fonts/mdi/css/materialdesignicons.min.css").status, 404);
}

void tst_AdminUi::contentTypes_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("type");
    QTest::newRow("js") << "/admin-ui/js/app.0d7d7845.js"_ba
                        << "text/javascript; charset=utf-8"_ba;
    QTest::newRow("map") << "/admin-ui/js/app.0d7d7845.js.map"_ba
                         << "application/json"_ba;
    QTest::newRow("css") << "/admin-ui/css/app.6e3b9661.css"_ba
                         << "text/css; charset=utf-8"_ba;
    QTest::newRow("png") << "/admin-ui/favicon.png"_ba
                         << "image/png"_ba;
    QTest::newRow("svg") << "/admin-ui/img/logo.svg"_ba
                         << "image/svg+xml"_ba;
    QTest::newRow("txt, encoded space") << "/admin-ui/notes%20with%20space.txt"_ba
                                        << "text/plain; charset=utf-8"_ba;
    QTest::newRow("no extension") << "/admin-ui/blob"_ba
                                  << "application/octet-stream"_ba;
}

void tst_AdminUi::contentTypes()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, type);
    const Response r = request(m_port, "GET", target);
    QVERIFY(r.complete);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), type);
    QCOMPARE(r.header("x-content-type-options"), "nosniff");
    QCOMPARE(r.header("content-length").toLongLong(), r.body.size());
}

void tst_AdminUi::cacheHeaders()
{
    QCOMPARE(request(m_port, "GET", "/admin-ui/js/app.0d7d7845.js").header("cache-control"),
        "public, max-age=31536000, immutable");
    QCOMPARE(request(m_port, "GET", "/admin-ui/favicon.png").header("cache-control"), "no-cache");
    QVERIFY(!request(m_port, "GET", "/admin-ui/favicon.png").header("etag").isEmpty());
}

void tst_AdminUi::redirect()
{
    Response r = request(m_port, "GET", "/admin-ui");
    QCOMPARE(r.status, 301);
    QCOMPARE(r.header("location"), "/admin-ui/");
    r = request(m_port, "GET", "/admin-ui?lang=en");
    QCOMPARE(r.status, 301);
    QCOMPARE(r.header("location"), "/admin-ui/?lang=en");
    r = request(m_port, "HEAD", "/plain");
    QCOMPARE(r.status, 301);
    QCOMPARE(r.header("location"), "/plain/");
}

void tst_AdminUi::traversal_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("..") << "/admin-ui/../secret.txt"_ba;
    QTest::newRow("js/../..") << "/admin-ui/js/../../secret.txt"_ba;
    QTest::newRow("encoded ..") << "/admin-ui/%2e%2e/secret.txt"_ba;
    QTest::newRow("encoded upper") << "/admin-ui/%2E%2E/secret.txt"_ba;
    QTest::newRow("encoded slash") << "/admin-ui/..%2fsecret.txt"_ba;
    QTest::newRow("all encoded") << "/admin-ui/%2e%2e%2f%2e%2e%2fsecret.txt"_ba;
    QTest::newRow("double encoded") << "/admin-ui/%252e%252e/secret.txt"_ba;
    QTest::newRow("backslash") << "/admin-ui/..%5csecret.txt"_ba;
    QTest::newRow("absolute") << "/admin-ui//etc/passwd"_ba;
    QTest::newRow("encoded absolute") << "/admin-ui/%2fetc%2fpasswd"_ba;
    QTest::newRow("fonts ..") << "/admin-ui/fonts/mdi/../../../secret.txt"_ba;
    QTest::newRow("fonts encoded ..") << "/admin-ui/fonts/mdi/%2e%2e/%2e%2e/%2e%2e/secret.txt"_ba;
    QTest::newRow("nul") << "/admin-ui/index.html%00.png"_ba;
    QTest::newRow("symlink out") << "/admin-ui/escape.txt"_ba;
    QTest::newRow("symlinked dir out") << "/admin-ui/escape-dir/secret.txt"_ba;
    QTest::newRow("hidden file") << "/admin-ui/.hidden"_ba;
    QTest::newRow("dot") << "/admin-ui/./index.html"_ba;
    QTest::newRow("invalid utf-8") << "/admin-ui/%ff%fe"_ba;
}

void tst_AdminUi::traversal()
{
    QFETCH(QByteArray, target);
    const Response r = request(m_port, "GET", target);
    QVERIFY(r.complete);
    QCOMPARE(r.status, 404);
    QVERIFY(!r.body.contains(secret));
}

void tst_AdminUi::symlinkInside()
{
    const Response r = request(m_port, "GET", "/admin-ui/inside.js");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, "console.log('app');");
}

void tst_AdminUi::notFound_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("missing") << "/admin-ui/missing.js"_ba;
    QTest::newRow("directory") << "/admin-ui/js"_ba;
    QTest::newRow("directory/") << "/admin-ui/js/"_ba;
    QTest::newRow("fonts root") << "/admin-ui/fonts/mdi/"_ba;
    QTest::newRow("no family") << "/admin-ui/fonts/other/x.css"_ba;
}

void tst_AdminUi::notFound()
{
    QFETCH(QByteArray, target);
    const Response r = request(m_port, "GET", target);
    QVERIFY(r.complete);
    QCOMPARE(r.status, 404);
}

void tst_AdminUi::methods_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("POST") << "POST"_ba
                          << "/admin-ui/"_ba;
    QTest::newRow("PUT") << "PUT"_ba
                         << "/admin-ui/index.html"_ba;
    QTest::newRow("DELETE") << "DELETE"_ba
                            << "/admin-ui/favicon.png"_ba;
    QTest::newRow("OPTIONS") << "OPTIONS"_ba
                             << "/admin-ui/"_ba;
    QTest::newRow("PATCH, no slash") << "PATCH"_ba
                                     << "/admin-ui"_ba;
}

void tst_AdminUi::methods()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    const Response r = request(m_port, method, target, "Content-Length: 0\r\n");
    QVERIFY(r.complete);
    QCOMPARE(r.status, 405);
    QCOMPARE(r.header("allow"), "GET, HEAD");
}

void tst_AdminUi::head()
{
    const Response get = request(m_port, "GET", "/admin-ui/");
    const Response head = request(m_port, "HEAD", "/admin-ui/");
    QVERIFY(head.complete);
    QCOMPARE(head.status, 200);
    QCOMPARE(head.header("content-type"), "text/html; charset=utf-8");
    QCOMPARE(head.header("content-length").toLongLong(), get.body.size());
    QVERIFY(head.body.isEmpty());
    const Response file = request(m_port, "HEAD", "/admin-ui/js/app.0d7d7845.js");
    QCOMPARE(file.status, 200);
    QCOMPARE(file.header("content-length"), "19");
}

void tst_AdminUi::etag()
{
    for (const QByteArray target :
        {"/admin-ui/", "/admin-ui/favicon.png", "/admin-ui/fonts/roboto/roboto.css"}) {
        const Response first = request(m_port, "GET", target);
        const QByteArray tag = first.header("etag");
        QVERIFY2(!tag.isEmpty(), target);
        const Response again = request(m_port, "GET", target, "If-None-Match: " + tag + "\r\n");
        QVERIFY(again.complete);
        QCOMPARE(again.status, 304);
        QVERIFY(again.body.isEmpty());
        const Response other
            = request(m_port, "GET", target, "If-None-Match: \"something-else\"\r\n");
        QCOMPARE(other.status, 200);
        QCOMPARE(other.body, first.body);
    }
}

void tst_AdminUi::tooLarge()
{
    // Sparse: costs no disk. Over the limit, the file is not read at all.
    QFile big(m_ui + u"/big.bin"_s);
    QVERIFY(big.open(QIODevice::WriteOnly));
    QVERIFY(big.resize(8 * 1024 * 1024 + 1));
    big.close();
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"not serving .*big.bin"_s));
    QCOMPARE(request(m_port, "GET", "/admin-ui/big.bin").status, 404);
    QVERIFY(big.remove());
}

void tst_AdminUi::engineStillServes()
{
    const Response r = request(m_port, "GET", "/socket.io/?EIO=4&transport=polling");
    QVERIFY(r.complete);
    QCOMPARE(r.status, 200);
    QVERIFY(r.body.startsWith("0{"));
}

void tst_AdminUi::otherPathsStill404()
{
    QCOMPARE(request(m_port, "GET", "/").status, 404);
    QCOMPARE(request(m_port, "GET", "/admin-uix/index.html").status, 404);
    QCOMPARE(request(m_port, "GET", "/secret.txt").status, 404);
}

void tst_AdminUi::bodiesLimited()
{
    // QtHttpServer would read a body for the UI's paths whole: the engine's limit (1 MB by
    // default) turns it away from its head.
    const Response big
        = request(m_port, "POST", "/admin-ui/index.html", "Content-Length: 1000001\r\n");
    QCOMPARE(big.status, 413);
    const Response small = request(m_port, "POST", "/admin-ui/index.html", "Content-Length: 0\r\n");
    QCOMPARE(small.status, 405);
}

void tst_AdminUi::applicationServer()
{
    QHttpServer http;
    http.route(u"/"_s, [] { return QHttpServerResponse("text/plain", "app"); });
    QVERIFY(serveAdminUi(&http, u"/tools/admin/"_s, m_ui, m_fonts));
    const quint16 port = http.listen(QHostAddress::LocalHost, 0);
    QVERIFY(port != 0);
    QCOMPARE(request(port, "GET", "/").body, "app");
    const Response r = request(port, "GET", "/tools/admin/");
    QCOMPARE(r.status, 200);
    QVERIFY(r.body.contains("href=\"/tools/admin/fonts/mdi/css/materialdesignicons.min.css\""));
    QCOMPARE(request(port, "GET", "/tools/admin").header("location"), "/tools/admin/");
    QCOMPARE(request(port, "GET", "/tools/admin/fonts/roboto/roboto.css").status, 200);
}

void tst_AdminUi::refusals()
{
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"has no index.html"_s));
    QVERIFY(!serveAdminUi(m_io.get(), u"/x/"_s, m_dir.filePath(u"node_modules"_s)));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"has no index.html"_s));
    QVERIFY(!serveAdminUi(m_io.get(), u"/x/"_s, m_dir.filePath(u"missing"_s)));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"holds neither"_s));
    QVERIFY(!serveAdminUi(m_io.get(), u"/x/"_s, m_ui, m_dir.filePath(u"ui/js"_s)));
    SocketServer idle;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"after the server's listen"_s));
    QVERIFY(!serveAdminUi(&idle, u"/x/"_s, m_ui));
    // Nothing was added for the refused prefix.
    QCOMPARE(request(m_port, "GET", "/x/").status, 404);
}

QTEST_GUILESS_MAIN(tst_AdminUi)
#include "tst_adminui.moc"
