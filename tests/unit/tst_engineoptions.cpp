// EngineOptions: CORS policies (unit and through a running server), path normalisation, the
// traffic logger switch and TLS loading.
#include <QSocketIo/engineserver.h>

#include <QtCore/qloggingcategory.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qsslkey.h>
#include <QtTest/qtest.h>

using namespace QSocketIo;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(QSocketIo::CorsAllowedOrigins)

class TestEngineOptions : public QObject
{
    Q_OBJECT
private slots:
    void corsAllows_data();
    void corsAllows();
    void corsThroughServer_data();
    void corsThroughServer();
    void normalizedPath_data();
    void normalizedPath();
    void engineioLoggerSwitchesTrafficCategory();
    void tlsFromPemFiles();
};

void TestEngineOptions::corsAllows_data()
{
    QTest::addColumn<CorsAllowedOrigins>("cors");
    QTest::addColumn<QString>("origin");
    QTest::addColumn<bool>("allowed");
    const QString self = u"http://127.0.0.1:3000"_s;
    const auto onlyExample = CorsAllowedOrigins::callback(
        [](const QString &origin) { return origin.endsWith(u".example"_s); });
    QTest::newRow("same origin: itself") << CorsAllowedOrigins() << self << true;
    QTest::newRow("same origin: case of the host")
        << CorsAllowedOrigins() << u"HTTP://127.0.0.1:3000"_s << true;
    QTest::newRow("same origin: other port")
        << CorsAllowedOrigins() << u"http://127.0.0.1:3001"_s << false;
    QTest::newRow("same origin: https")
        << CorsAllowedOrigins() << u"https://127.0.0.1:3000"_s << false;
    QTest::newRow("any") << CorsAllowedOrigins::any() << u"http://evil.example"_s << true;
    QTest::newRow("list with star is any")
        << CorsAllowedOrigins::list({u"*"_s}) << u"http://x"_s << true;
    QTest::newRow("list: member") << CorsAllowedOrigins::list(
        {u"http://a.example"_s, u"http://b.example"_s})
                                  << u"http://b.example"_s << true;
    QTest::newRow("list: not a member")
        << CorsAllowedOrigins::list({u"http://a.example"_s}) << u"http://a.example.evil"_s << false;
    QTest::newRow("callback: yes") << onlyExample << u"http://a.example"_s << true;
    QTest::newRow("callback: no") << onlyExample << u"http://a.test"_s << false;
    QTest::newRow("empty callback refuses") << CorsAllowedOrigins::callback({}) << self << false;
    QTest::newRow("disabled lets all through")
        << CorsAllowedOrigins::disabled() << u"http://x"_s << true;
    QTest::newRow("empty list is disabled")
        << CorsAllowedOrigins::list({}) << u"http://x"_s << true;
}

void TestEngineOptions::corsAllows()
{
    QFETCH(CorsAllowedOrigins, cors);
    QFETCH(QString, origin);
    QFETCH(bool, allowed);
    QCOMPARE(cors.allows(origin, u"http://127.0.0.1:3000"_s), allowed);
}

void TestEngineOptions::corsThroughServer_data()
{
    QTest::addColumn<CorsAllowedOrigins>("cors");
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("allowOrigin");
    const auto callback = CorsAllowedOrigins::callback(
        [](const QString &origin) { return origin == u"http://ok.example"_s; });
    QTest::newRow("callback accepts")
        << callback << QByteArray("http://ok.example") << 200 << QByteArray("http://ok.example");
    QTest::newRow("callback refuses")
        << callback << QByteArray("http://no.example") << 403 << QByteArray();
    QTest::newRow("disabled: no check, no headers")
        << CorsAllowedOrigins::disabled() << QByteArray("http://no.example") << 200 << QByteArray();
    QTest::newRow("no Origin header is always fine")
        << callback << QByteArray() << 200 << QByteArray();
}

void TestEngineOptions::corsThroughServer()
{
    QFETCH(CorsAllowedOrigins, cors);
    QFETCH(QByteArray, origin);
    QFETCH(int, status);
    QFETCH(QByteArray, allowOrigin);
    EngineOptions options;
    options.corsAllowedOrigins = cors;
    EngineServer server(options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QNetworkAccessManager nam;
    QNetworkRequest request(
        QUrl(u"http://127.0.0.1:%1/engine.io/?EIO=4&transport=polling"_s.arg(server.serverPort())));
    if (!origin.isEmpty())
        request.setRawHeader("Origin", origin);
    QNetworkReply *reply = nam.get(request);
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 5000);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), status);
    QCOMPARE(reply->rawHeader("Access-Control-Allow-Origin"), allowOrigin);
    const QByteArray body = reply->readAll();
    if (status == 200)
        QVERIFY(body.startsWith("0{\"sid\":\""));
    else
        QCOMPARE(body, QByteArray(R"({"code":4,"message":"Forbidden"})"));
    QCOMPARE(server.clientsCount(), status == 200 ? 1 : 0);
    delete reply;
}

void TestEngineOptions::normalizedPath_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("normalized");
    QTest::newRow("bare") << u"socket.io"_s << u"/socket.io/"_s;
    QTest::newRow("leading") << u"/socket.io"_s << u"/socket.io/"_s;
    QTest::newRow("both") << u"/socket.io/"_s << u"/socket.io/"_s;
    QTest::newRow("many slashes") << u"//a/b//"_s << u"/a/b/"_s;
    QTest::newRow("spaces around") << u"  x  "_s << u"/x/"_s;
    QTest::newRow("root") << u"/"_s << u"/"_s;
    QTest::newRow("empty") << QString() << u"/"_s;
}

void TestEngineOptions::normalizedPath()
{
    QFETCH(QString, path);
    QFETCH(QString, normalized);
    QCOMPARE(EngineOptions::normalizedPath(path), normalized);
}

void TestEngineOptions::engineioLoggerSwitchesTrafficCategory()
{
    EngineOptions loud;
    loud.engineioLogger = true;
    EngineServer b(loud);
    QList<QString> seen;
    static QList<QString> *sink = nullptr;
    sink = &seen;
    const QtMessageHandler previous = qInstallMessageHandler(
        [](QtMsgType, const QMessageLogContext &context, const QString &message) {
            if (sink && QByteArrayView(context.category) == "qsocketio.engine.traffic")
                sink->append(message);
        });
    QVERIFY(b.listen(QHostAddress::LocalHost, 0));
    QNetworkAccessManager nam;
    QNetworkReply *reply = nam.get(QNetworkRequest(
        QUrl(u"http://127.0.0.1:%1/engine.io/?EIO=4&transport=polling"_s.arg(b.serverPort()))));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 5000);
    qInstallMessageHandler(previous);
    sink = nullptr;
    delete reply;
    QVERIFY2(!seen.isEmpty(), "no traffic logged with engineioLogger on");
    QVERIFY(seen.first().contains(u"<- 0"_s));
}

void TestEngineOptions::tlsFromPemFiles()
{
    QString error;
    QVERIFY(!EngineOptions::tlsFromPemFiles(
        u"/nonexistent/cert.pem"_s, u"/nonexistent/key.pem"_s, &error));
    QVERIFY(error.contains(u"/nonexistent/cert.pem"_s));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString cert = dir.filePath(u"cert.pem"_s);
    const QString key = dir.filePath(u"key.pem"_s);
    QFile garbage(cert);
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write("not a certificate");
    garbage.close();
    QFile::copy(cert, key);
    error.clear();
    QVERIFY(!EngineOptions::tlsFromPemFiles(cert, key, &error));
    QVERIFY2(error.contains(u"no PEM certificate"_s), qPrintable(error));

    QFile::remove(cert);
    QFile::remove(key);
    for (const QStringList &keyArgs : {QStringList {u"-newkey"_s, u"rsa:2048"_s},
             QStringList {
                 u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s, u"ec_paramgen_curve:prime256v1"_s}}) {
        QProcess openssl;
        openssl.start(u"openssl"_s,
            QStringList {u"req"_s, u"-x509"_s} + keyArgs
                + QStringList {u"-nodes"_s, u"-keyout"_s, key, u"-out"_s, cert, u"-days"_s, u"1"_s,
                    u"-subj"_s, u"/CN=127.0.0.1"_s});
        if (!openssl.waitForFinished(30000) || openssl.exitCode() != 0)
            QSKIP("the openssl command is not available");
        error.clear();
        const auto ssl = EngineOptions::tlsFromPemFiles(cert, key, &error);
        QVERIFY2(ssl, qPrintable(error));
        QVERIFY(!ssl->localCertificate().isNull());
        QVERIFY(!ssl->privateKey().isNull());
    }
}

QTEST_GUILESS_MAIN(TestEngineOptions)
#include "tst_engineoptions.moc"
