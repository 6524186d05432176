// The admin app as a user drives it: a real SocketServer with its AdminInstrumentation in this
// process, the main window logged in through the connect dialog's code path, and a real
// socket.io-client under Node as the monitored application. Every wait is bounded.

#include "adminclient.h"
#include "adminmodels.h"
#include "broadcastdialog.h"
#include "connectdialog.h"
#include "connectionspage.h"
#include "dashboardpage.h"
#include "eventlogpage.h"
#include "i18n.h"
#include "jsontext.h"
#include "mainwindow.h"
#include "roomspage.h"
#include "servercard.h"

#include "../common/redisserver.h"

#include <QSocketIo/admininstrumentation.h>
#include <QSocketIo/redisadapter.h>
#include <QSocketIo/socketclient.h>
#include <QSocketIo/socketserver.h>

#include <QtCharts/qlineseries.h>
#include <QtCore/qdir.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qprocess.h>
#include <QtCore/qsettings.h>
#include <QtCore/qstandardpaths.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtemporaryfile.h>
#include <QtCore/qtimer.h>
#include <QtGui/qaction.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>
#include <QtWidgets/qapplication.h>
#include <QtWidgets/qcheckbox.h>
#include <QtWidgets/qlabel.h>
#include <QtWidgets/qlineedit.h>
#include <QtWidgets/qmessagebox.h>
#include <QtWidgets/qplaintextedit.h>
#include <QtWidgets/qpushbutton.h>
#include <QtWidgets/qtableview.h>
#include <QtWidgets/qtabwidget.h>
#include <QtWidgets/qtooltip.h>
#include <QtWidgets/qtreeview.h>

#include <functional>

using namespace AdminApp;
using namespace QSocketIo;
using namespace Qt::StringLiterals;

namespace {

constexpr int kWait = 20000;

QUrl urlOf(const SocketServer &server)
{
    return QUrl(u"http://127.0.0.1:%1"_s.arg(server.serverPort()));
}

// tests/admin/node_client.mjs: a socket.io-client whose life arrives as JSON lines.
class NodeClient
{
public:
    explicit NodeClient(const QUrl &url)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, [this] {
            while (m_process.canReadLine()) {
                const QByteArray line = m_process.readLine().trimmed();
                const QJsonDocument doc = QJsonDocument::fromJson(line);
                if (doc.isObject())
                    m_lines.append(doc.object());
                else
                    qWarning() << "node client:" << line;
            }
        });
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start(QStringLiteral(QSIO_NODE_EXECUTABLE),
            {QStringLiteral(QSIO_NODE_CLIENT), url.toString(), QStringLiteral(QSIO_NODE_MODULES)});
    }
    ~NodeClient()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    QString socketId() const { return first(u"connect"_s).value(u"id"_s).toString(); }
    QString disconnectReason() const
    {
        return first(u"disconnect"_s).value(u"reason"_s).toString();
    }
    QJsonArray eventArgs(const QString &event) const
    {
        for (const QJsonObject &line : m_lines) {
            if (line.value(u"type"_s) == u"event"_s && line.value(u"event"_s) == event)
                return line.value(u"args"_s).toArray();
        }
        return {};
    }
    bool received(const QString &event) const
    {
        for (const QJsonObject &line : m_lines) {
            if (line.value(u"type"_s) == u"event"_s && line.value(u"event"_s) == event)
                return true;
        }
        return false;
    }
    void emitEvent(const QString &event, const QJsonArray &args)
    {
        m_process.write(QJsonDocument(QJsonObject {{u"event"_s, event}, {u"args"_s, args}})
                            .toJson(QJsonDocument::Compact)
            + '\n');
    }

private:
    QJsonObject first(const QString &type) const
    {
        for (const QJsonObject &line : m_lines) {
            if (line.value(u"type"_s) == type)
                return line;
        }
        return {};
    }
    QProcess m_process;
    QList<QJsonObject> m_lines;
};

int rowOf(const QAbstractItemModel *model, int column, const QString &text)
{
    for (int row = 0; row < model->rowCount(); ++row) {
        if (model->index(row, column).data().toString() == text)
            return row;
    }
    return -1;
}

bool hasRowWith(const QAbstractItemModel *model, int column, const QString &text)
{
    return rowOf(model, column, text) >= 0;
}

ConnectDialog *visibleConnectDialog(const MainWindow &window)
{
    for (ConnectDialog *dialog : window.findChildren<ConnectDialog *>()) {
        if (dialog->isVisible())
            return dialog;
    }
    return nullptr;
}

// Logs in the way a user does: the dialog's fields, then OK.
void logIn(MainWindow &window, const QUrl &url)
{
    const ConnectionSettings blank;
    ConnectDialog *dialog = window.openConnectDialog(&blank);
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    dialog->urlEdit()->setText(url.toString());
    dialog->pathEdit()->setText(u"/socket.io/"_s);
    dialog->namespaceEdit()->setText(u"/admin"_s);
    dialog->userEdit()->clear();
    dialog->passwordEdit()->clear();
    dialog->websocketOnlyBox()->setChecked(false);
    QVERIFY(dialog->isInputValid());
    dialog->accept();
    QTRY_COMPARE_WITH_TIMEOUT(window.client()->state(), AdminClient::State::Connected, kWait);
}

} // namespace

class tst_AdminApp : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void fullFlow();
    void readonlyDisablesActions();
    void dashboardCardPerServer();
    void clusterServersInOneDashboard();
    void invalidJsonKeepsSendDisabled();
    void parseArguments_data();
    void parseArguments();
    void connectDialogRejectsBadUrl();
    void passwordNotStored();
    void refusedLoginReopensDialog();
    void connectDialogDropsSessionOfOtherServer();
    void roomConfirmationIsPlainText();
    void serverTextIsNotMarkup();
    void attachmentWithinServerLimit();
    void germanTranslation();
};

void tst_AdminApp::initTestCase()
{
    // Settings go to a throw-away location, not the user's.
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"QSocketIo-tests"_s);
    QCoreApplication::setApplicationName(u"tst_adminapp"_s);
    QSettings().clear();
    removeTranslations();
}

void tst_AdminApp::fullFlow()
{
    if (!QFileInfo(QStringLiteral(QSIO_NODE_EXECUTABLE)).isExecutable()
        || !QFileInfo::exists(QStringLiteral(QSIO_NODE_MODULES "/socket.io-client")))
        QSKIP("node or tests/interop/node_modules/socket.io-client missing (npm ci in "
              "tests/interop)");

    SocketServer server;
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    MainWindow window;
    window.show();
    QVERIFY(!window.emitAction()->isEnabled());
    logIn(window, urlOf(server));
    QTRY_VERIFY_WITH_TIMEOUT(window.emitAction()->isEnabled(), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(!window.dashboardPage()->serverIds().isEmpty(), kWait);
    QVERIFY(window.bannerText().isEmpty());
    // The server's handler extension is advertised: the tab is there.
    QTRY_VERIFY_WITH_TIMEOUT(window.tabs()->isTabVisible(3), kWait);

    NodeClient node(urlOf(server));
    QTRY_VERIFY_WITH_TIMEOUT(!node.socketId().isEmpty(), kWait);
    const QString id = node.socketId();

    ConnectionsPage *connections = window.connectionsPage();
    QAbstractItemModel *table = connections->view()->model();
    QTRY_VERIFY_WITH_TIMEOUT(hasRowWith(table, SocketsModel::Id, id), kWait);
    QCOMPARE(
        table->index(rowOf(table, SocketsModel::Id, id), SocketsModel::Namespace).data().toString(),
        u"/"_s);

    // The filter narrows the table to that socket (the admin's own socket is listed too).
    connections->filterEdit()->setText(id);
    QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 1, kWait);
    connections->filterEdit()->clear();
    QTRY_VERIFY_WITH_TIMEOUT(table->rowCount() >= 2, kWait);

    // Selecting it shows its handshake as JSON and enables the commands.
    window.tabs()->setCurrentWidget(connections);
    QVERIFY(connections->selectSocket(u"/"_s, id));
    QVERIFY(connections->detailsPane()->toPlainText().contains(id));
    QVERIFY(connections->detailsPane()->toPlainText().contains(u"handshake"_s));
    QVERIFY(connections->disconnectAction()->isEnabled());

    // Emit… with the row selected targets that socket.
    window.emitAction()->trigger();
    auto *dialog = window.findChild<BroadcastDialog *>();
    QVERIFY(dialog);
    QCOMPARE(dialog->nsp(), u"/"_s);
    QCOMPARE(dialog->target(), BroadcastDialog::Target::Socket);
    QCOMPARE(dialog->filter(), id);
    dialog->setEventName(u"news"_s);
    dialog->setArgumentsText(u"[{\"a\":1}]"_s);
    QVERIFY(dialog->isInputValid());
    QVERIFY(dialog->sendButton()->isEnabled());
    dialog->sendButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(node.received(u"news"_s), kWait);
    const QJsonArray expected {QJsonObject {{u"a"_s, 1}}};
    QCOMPARE(node.eventArgs(u"news"_s), expected);

    // The event log shows what went out and what came in.
    EventLogPage *log = window.eventLogPage();
    QTRY_VERIFY_WITH_TIMEOUT(
        hasRowWith(log->view()->model(), EventLogModel::Event, u"news"_s), kWait);
    node.emitEvent(u"hello-admin"_s, QJsonArray {42, u"x"_s});
    QTRY_VERIFY_WITH_TIMEOUT(
        hasRowWith(log->view()->model(), EventLogModel::Event, u"hello-admin"_s), kWait);
    // Its arguments, pretty, in the pane.
    const int row = rowOf(log->view()->model(), EventLogModel::Event, u"hello-admin"_s);
    log->view()->setCurrentIndex(log->view()->model()->index(row, 0));
    QVERIFY(log->argumentsPane()->toPlainText().contains(u"42"_s));
    // Paused, the log holds new entries back and says how many.
    log->pauseButton()->click();
    QVERIFY(window.client()->eventLog()->isPaused());
    node.emitEvent(u"while-paused"_s, {});
    QTRY_COMPARE_WITH_TIMEOUT(window.client()->eventLog()->pendingCount(), 1, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(log->pauseButton()->text().contains(u'1'), kWait);
    QVERIFY(!hasRowWith(log->view()->model(), EventLogModel::Event, u"while-paused"_s));
    log->pauseButton()->click();
    QVERIFY(hasRowWith(log->view()->model(), EventLogModel::Event, u"while-paused"_s));
    // The filter.
    log->filterEdit()->setText(u"hello-admin"_s);
    QTRY_COMPARE_WITH_TIMEOUT(log->view()->model()->rowCount(), 1, kWait);
    log->filterEdit()->clear();

    // Disconnecting the selected row ends the Node client's socket.
    QVERIFY(connections->selectSocket(u"/"_s, id));
    QVERIFY(connections->disconnectAction()->isEnabled());
    connections->disconnectAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(node.disconnectReason(), u"io server disconnect"_s, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(!hasRowWith(table, SocketsModel::Id, id), kWait);

    // A lost server shows in the banner while the client tries again.
    server.close(std::chrono::milliseconds(0));
    QTRY_VERIFY_WITH_TIMEOUT(!window.bannerText().isEmpty(), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(!window.emitAction()->isEnabled(), kWait);
}

void tst_AdminApp::readonlyDisablesActions()
{
    SocketServer server;
    AdminOptions options;
    options.readonly = true;
    AdminInstrumentation admin(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    MainWindow window;
    window.show();
    logIn(window, urlOf(server));
    QTRY_VERIFY_WITH_TIMEOUT(window.client()->isReadonly(), kWait);
    // The admin's own socket is listed: select it, the commands stay off all the same.
    ConnectionsPage *connections = window.connectionsPage();
    QTRY_VERIFY_WITH_TIMEOUT(connections->view()->model()->rowCount() >= 1, kWait);
    connections->view()->selectRow(0);
    QVERIFY(connections->view()->selectionModel()->hasSelection());
    QVERIFY(!window.emitAction()->isEnabled());
    QVERIFY(!connections->disconnectAction()->isEnabled());
    QVERIFY(!connections->disconnectCloseAction()->isEnabled());
    QVERIFY(!connections->joinAction()->isEnabled());
    QVERIFY(!connections->leaveAction()->isEnabled());
    QVERIFY(!window.roomsPage()->leaveAction()->isEnabled());
    QVERIFY(!window.roomsPage()->clearAction()->isEnabled());
    QVERIFY(!window.roomsPage()->disconnectAllAction()->isEnabled());
    QVERIFY(window.connectAction()->isEnabled());
}

void tst_AdminApp::dashboardCardPerServer()
{
    MainWindow window;
    ServersModel *servers = window.client()->servers();
    const QDateTime t0 = QDateTime::currentDateTimeUtc();
    // Two servers of one cluster on one host: two cards all the same.
    const auto stats = [](const QString &id, int clients, qint64 bytesIn) {
        return QVariantMap {{u"serverId"_s, id}, {u"hostname"_s, u"node-1"_s}, {u"pid"_s, 42},
            {u"uptime"_s, 3725.5}, {u"clientsCount"_s, clients}, {u"pollingClientsCount"_s, 1},
            {u"aggregatedEvents"_s,
                QVariantList {QVariantMap {
                    {u"timestamp"_s, 0}, {u"type"_s, u"bytesIn"_s}, {u"count"_s, bytesIn}}}},
            {u"namespaces"_s,
                QVariantList {QVariantMap {{u"name"_s, u"/"_s}, {u"socketsCount"_s, clients}}}}};
    };
    servers->addStats(stats(u"east"_s, 3, 1000), t0);
    servers->addStats(stats(u"west"_s, 5, 0), t0);
    servers->addStats(stats(u"east"_s, 4, 2000), t0.addSecs(2));
    QCOMPARE(window.dashboardPage()->serverIds(), (QStringList {u"east"_s, u"west"_s}));
    ServerCard *east = window.dashboardPage()->card(u"east"_s);
    QVERIFY(east);
    QCOMPARE(east->clientsSeries()->count(), 2);
    QCOMPARE(east->clientsSeries()->at(1).y(), 4.0);
    // Traffic is drawn per second: 2000 bytes over 2 s.
    QCOMPARE(east->bytesInSeries()->at(1).y(), 1000.0);
    QCOMPARE(window.dashboardPage()->card(u"west"_s)->clientsSeries()->count(), 1);

    servers->clear();
    QVERIFY(window.dashboardPage()->serverIds().isEmpty());
}

// Two servers sharing a private Redis: the app, logged in to one, shows a card for each and the
// sockets of both, and its commands reach the other server's sockets.
void tst_AdminApp::clusterServersInOneDashboard()
{
    if (!QFileInfo(QSocketIoTest::redisServerPath).isExecutable())
        QSKIP("redis-server missing (Debian: redis-server)");
    if (!QFileInfo(QStringLiteral(QSIO_NODE_EXECUTABLE)).isExecutable()
        || !QFileInfo::exists(QStringLiteral(QSIO_NODE_MODULES "/socket.io-client")))
        QSKIP("node or tests/interop/node_modules/socket.io-client missing");
    QSocketIoTest::RedisServer redis;
    QVERIFY(redis.start());
    RedisAdapterOptions redisOptions;
    redisOptions.port = redis.port();
    SocketServerOptions options;
    options.adapterFactory = RedisAdapter::factory(redisOptions);
    SocketServer east(options);
    SocketServer west(options);
    AdminOptions eastAdmin;
    eastAdmin.serverId = u"east"_s;
    AdminInstrumentation instrumentEast(&east, eastAdmin);
    AdminOptions westAdmin;
    westAdmin.serverId = u"west"_s;
    AdminInstrumentation instrumentWest(&west, westAdmin);
    QVERIFY(east.listen(QHostAddress::LocalHost, 0));
    QVERIFY(west.listen(QHostAddress::LocalHost, 0));
    const auto inCluster = [](SocketServer &server) {
        for (Namespace *nsp : server.namespaces()) {
            auto *adapter = qobject_cast<RedisAdapter *>(nsp->adapter());
            if (adapter && !adapter->isConnected())
                return false;
        }
        return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(inCluster(east) && inCluster(west), kWait);

    NodeClient onWest(urlOf(west));
    QTRY_VERIFY_WITH_TIMEOUT(!onWest.socketId().isEmpty(), kWait);
    const QString id = onWest.socketId();

    MainWindow window;
    window.show();
    logIn(window, urlOf(east));
    QTRY_COMPARE_WITH_TIMEOUT(
        window.dashboardPage()->serverIds(), (QStringList {u"east"_s, u"west"_s}), kWait);
    QAbstractItemModel *table = window.connectionsPage()->view()->model();
    QTRY_VERIFY_WITH_TIMEOUT(hasRowWith(table, SocketsModel::Id, id), kWait);

    // The app's disconnect goes to east's admin namespace; the socket is on west.
    QVERIFY(window.client()->disconnectSockets(u"/"_s, false, id));
    QTRY_VERIFY_WITH_TIMEOUT(west.of(u"/"_s)->socket(id) == nullptr, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(!hasRowWith(table, SocketsModel::Id, id), kWait);
}

void tst_AdminApp::invalidJsonKeepsSendDisabled()
{
    AdminClient client;
    BroadcastDialog dialog(&client);
    dialog.setNamespace(u"/"_s);
    dialog.setEventName(u"news"_s);
    QVERIFY(dialog.isInputValid()); // no arguments at all is fine

    dialog.setArgumentsText(u"[{\"a\": 1}, "_s);
    QVERIFY(!dialog.isInputValid());
    QVERIFY(!dialog.sendButton()->isEnabled());
    QVERIFY2(dialog.errorText().contains(u"offset"_s), qPrintable(dialog.errorText()));

    dialog.setArgumentsText(u"{\"a\": 1}"_s);
    QVERIFY(dialog.isInputValid());
    QVERIFY(dialog.errorText().isEmpty());

    dialog.setArgumentsText(u"nope"_s);
    QVERIFY(!dialog.sendButton()->isEnabled());

    // A room target needs a room.
    dialog.setArgumentsText(u"1"_s);
    dialog.setTarget(BroadcastDialog::Target::Room);
    QVERIFY(!dialog.isInputValid());
    dialog.setTarget(BroadcastDialog::Target::Room, u"lobby"_s);
    QVERIFY(dialog.isInputValid());
    QCOMPARE(dialog.filter(), u"lobby"_s);

    // Not connected: pressing Send keeps the dialog open and says why.
    dialog.show();
    dialog.sendButton()->click();
    QVERIFY(dialog.isVisible());
    QVERIFY(!dialog.errorText().isEmpty());
}

void tst_AdminApp::parseArguments_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QVariantList>("args");
    QTest::addColumn<int>("offset");
    QTest::newRow("blank") << u"  \n"_s << true << QVariantList {} << -1;
    QTest::newRow("array") << u"[1, \"two\"]"_s << true << QVariantList {1, u"two"_s} << -1;
    QTest::newRow("object") << u"{\"a\":1}"_s << true << QVariantList {QVariantMap {{u"a"_s, 1}}}
                            << -1;
    QTest::newRow("string") << u"\"hi\""_s << true << QVariantList {u"hi"_s} << -1;
    QTest::newRow("number") << u"3.5"_s << true << QVariantList {3.5} << -1;
    QTest::newRow("nested array") << u"[[1]]"_s << true << QVariantList {QVariantList {1}} << -1;
    QTest::newRow("bad token") << u"[1, x]"_s << false << QVariantList {} << 4;
    QTest::newRow("two values") << u"1, 2"_s << false << QVariantList {} << -1;
}

void tst_AdminApp::parseArguments()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QVariantList, args);
    QFETCH(int, offset);
    const ParsedArguments parsed = AdminApp::parseArguments(text);
    QCOMPARE(parsed.ok, ok);
    if (ok) {
        QCOMPARE(QJsonDocument::fromVariant(parsed.args), QJsonDocument::fromVariant(args));
    } else {
        QVERIFY(!parsed.error.isEmpty());
        if (offset >= 0)
            QVERIFY2(qAbs(parsed.offset - offset) <= 1, qPrintable(parsed.error));
    }
}

void tst_AdminApp::connectDialogRejectsBadUrl()
{
    ConnectDialog dialog;
    dialog.urlEdit()->setText(u"ftp://example.com"_s);
    QVERIFY(!dialog.isInputValid());
    dialog.urlEdit()->setText(u"https://example.com:8443"_s);
    QVERIFY(dialog.isInputValid());
    dialog.namespaceEdit()->setText(u"admin"_s);
    QCOMPARE(dialog.settings().nsp, u"/admin"_s);
    dialog.urlEdit()->setText(u"ws://127.0.0.1:3000"_s);
    QCOMPARE(dialog.settings().url.scheme(), u"http"_s);
}

void tst_AdminApp::passwordNotStored()
{
    MainWindow window;
    ConnectionSettings settings;
    settings.url = QUrl(u"http://127.0.0.1:9"_s); // nothing listens there
    settings.username = u"admin"_s;
    settings.password = u"s3cret-pass"_s;
    window.connectToServer(settings);
    window.client()->disconnectFromServer();

    QSettings stored;
    const QStringList keys = stored.allKeys();
    QVERIFY(!keys.isEmpty());
    for (const QString &key : keys) {
        QVERIFY2(!stored.value(key).toString().contains(u"s3cret-pass"_s), qPrintable(key));
    }
    const ConnectionSettings loaded = ConnectionSettings::load(stored);
    QCOMPARE(loaded.username, u"admin"_s);
    QVERIFY(loaded.password.isEmpty());
}

void tst_AdminApp::refusedLoginReopensDialog()
{
    SocketServer server;
    AdminOptions options;
    options.username = u"admin"_s;
    // bcrypt (cost 4) of "open-sesame".
    options.passwordHash = "$2b$04$lChTQUWTdxB1uIp.6.wXOOkinO.iaoOFil2uXEUECor/fzR9o582S";
    AdminInstrumentation admin(&server, options);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QSettings().clear();

    MainWindow window;
    window.show();
    const ConnectionSettings blank;
    ConnectDialog *dialog = window.openConnectDialog(&blank);
    dialog->urlEdit()->setText(urlOf(server).toString());
    dialog->userEdit()->setText(u"admin"_s);
    dialog->passwordEdit()->setText(u"wrong"_s);
    dialog->accept();
    // Refused: the form is back, saying why, and the banner too.
    QTRY_VERIFY_WITH_TIMEOUT(visibleConnectDialog(window), kWait);
    dialog = visibleConnectDialog(window);
    QVERIFY(!window.bannerText().isEmpty());
    QCOMPARE(dialog->userEdit()->text(), u"admin"_s);

    dialog->passwordEdit()->setText(u"open-sesame"_s);
    dialog->accept();
    QTRY_COMPARE_WITH_TIMEOUT(window.client()->state(), AdminClient::State::Connected, kWait);
    QVERIFY(window.bannerText().isEmpty());
    // The session the server issued is remembered for the next start, the password is not.
    QTRY_VERIFY_WITH_TIMEOUT(
        !ConnectionSettings::load(*std::make_unique<QSettings>()).sessionId.isEmpty(), kWait);
    QSettings stored;
    for (const QString &key : stored.allKeys())
        QVERIFY2(!stored.value(key).toString().contains(u"open-sesame"_s), qPrintable(key));
}

void tst_AdminApp::connectDialogDropsSessionOfOtherServer()
{
    ConnectionSettings saved;
    saved.url = QUrl(u"http://127.0.0.1:3000"_s);
    saved.path = u"/socket.io/"_s;
    saved.nsp = u"/admin"_s;
    saved.username = u"admin"_s;
    saved.setSession(u"sid-1"_s);
    ConnectDialog dialog;
    dialog.setSettings(saved);
    QCOMPARE(dialog.settings().sessionId, u"sid-1"_s);
    QVERIFY(dialog.settings().hasUsableSession());

    // Another path, URL or namespace is another server (or another Socket.IO server on the same
    // port): the session id must not be sent there.
    dialog.pathEdit()->setText(u"/other/"_s);
    QVERIFY(dialog.settings().sessionId.isEmpty());
    QVERIFY(!dialog.settings().hasUsableSession());
    dialog.pathEdit()->setText(u"/socket.io/"_s);
    QCOMPARE(dialog.settings().sessionId, u"sid-1"_s);
    dialog.urlEdit()->setText(u"http://127.0.0.1:3001"_s);
    QVERIFY(dialog.settings().sessionId.isEmpty());
    dialog.urlEdit()->setText(u"http://127.0.0.1:3000"_s);
    dialog.namespaceEdit()->setText(u"/admin2"_s);
    QVERIFY(dialog.settings().sessionId.isEmpty());
    dialog.namespaceEdit()->setText(u"/admin"_s);
    QCOMPARE(dialog.settings().sessionId, u"sid-1"_s);
    // Another login, or a password typed, asks for a new session.
    dialog.userEdit()->setText(u"root"_s);
    QVERIFY(dialog.settings().sessionId.isEmpty());
    dialog.userEdit()->setText(u"admin"_s);
    dialog.passwordEdit()->setText(u"typed"_s);
    QVERIFY(dialog.settings().sessionId.isEmpty());
}

void tst_AdminApp::roomConfirmationIsPlainText()
{
    AdminClient client;
    SocketsModel::SocketInfo socket;
    socket.id = u"s1"_s;
    socket.nsp = u"/"_s;
    socket.rooms = {u"s1"_s, u"<b>x</b>"_s};
    client.sockets()->addSocket(socket);
    RoomsPage page(&client);
    page.setCommandsEnabled(true);
    page.show();
    const QModelIndex room = client.rooms()->find(u"/"_s, u"<b>x</b>"_s);
    QVERIFY(room.isValid());
    page.view()->setCurrentIndex(room);
    QVERIFY(page.disconnectAllAction()->isEnabled());

    // The box is modal: it is looked at, then answered, from the event loop it runs.
    QString text;
    Qt::TextFormat format = Qt::AutoText;
    bool seen = false;
    int tries = 0;
    std::function<void()> inspect = [&] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box) {
            if (++tries < 200)
                QTimer::singleShot(20, inspect);
            return;
        }
        seen = true;
        text = box->text();
        format = box->textFormat();
        box->button(QMessageBox::No)->click();
    };
    QTimer::singleShot(0, inspect);
    page.disconnectAllAction()->trigger();
    QVERIFY(seen);
    QVERIFY2(text.contains(u"<b>x</b>"_s), qPrintable(text));
    QCOMPARE(format, Qt::PlainText);
}

void tst_AdminApp::serverTextIsNotMarkup()
{
    MainWindow window;
    window.show();
    // A server's error message with markup: the banner and the login form quote it as text.
    Q_EMIT window.client()->connectError(u"<b>x</b>"_s);
    auto *banner = window.findChild<QLabel *>(u"banner"_s);
    QVERIFY(banner);
    QCOMPARE(banner->textFormat(), Qt::PlainText);
    QVERIFY2(window.bannerText().contains(u"<b>x</b>"_s), qPrintable(window.bannerText()));
    QTRY_VERIFY_WITH_TIMEOUT(visibleConnectDialog(window), kWait);
    auto *error = visibleConnectDialog(window)->findChild<QLabel *>(u"connectError"_s);
    QVERIFY(error);
    QCOMPARE(error->text(), u"<b>x</b>"_s);
    QCOMPARE(error->textFormat(), Qt::PlainText);
    visibleConnectDialog(window)->reject();

    // Item tooltips (here the rooms of a socket) are server data too.
    SocketsModel::SocketInfo socket;
    socket.id = u"s1"_s;
    socket.nsp = u"/"_s;
    socket.rooms = {u"<b>x</b>"_s};
    window.client()->sockets()->addSocket(socket);
    window.tabs()->setCurrentWidget(window.connectionsPage());
    QTableView *view = window.connectionsPage()->view();
    QTRY_COMPARE_WITH_TIMEOUT(view->model()->rowCount(), 1, kWait);
    const QModelIndex rooms = view->model()->index(0, SocketsModel::Rooms);
    view->scrollTo(rooms);
    const QPoint pos = view->visualRect(rooms).center();
    QVERIFY(view->viewport()->rect().contains(pos));
    QHelpEvent help(QEvent::ToolTip, pos, view->viewport()->mapToGlobal(pos));
    QApplication::sendEvent(view->viewport(), &help);
    QTRY_VERIFY_WITH_TIMEOUT(QToolTip::isVisible(), kWait);
    QVERIFY2(QToolTip::text().contains(u"&lt;b&gt;x&lt;/b&gt;"_s), qPrintable(QToolTip::text()));
    QToolTip::hideText();

    // The dashboard card's title is markup of our own around the escaped server id.
    ServersModel *servers = window.client()->servers();
    servers->addStats({{u"serverId"_s, u"a&b"_s}, {u"hostname"_s, u"a&b"_s}});
    ServerCard *card = window.dashboardPage()->card(u"a&b"_s);
    QVERIFY(card);
    auto *title = card->findChild<QLabel *>(u"serverTitle"_s);
    QVERIFY(title);
    QCOMPARE(title->textFormat(), Qt::RichText);
    QCOMPARE(title->text(), u"a&amp;b"_s);
}

void tst_AdminApp::attachmentWithinServerLimit()
{
    SocketServerOptions options;
    options.maxHttpBufferSize = 100000;
    SocketServer server(options);
    AdminInstrumentation admin(&server);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    MainWindow window;
    window.show();
    logIn(window, urlOf(server));
    QTRY_COMPARE_WITH_TIMEOUT(window.client()->maxPayload(), qint64(100000), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(window.emitAction()->isEnabled(), kWait);

    BroadcastDialog *dialog = window.openBroadcastDialog(u"/"_s);
    dialog->setEventName(u"file"_s);
    QVERIFY(dialog->isInputValid());
    QVERIFY(dialog->maxAttachmentSize() < 100000);

    QTemporaryFile big;
    QVERIFY(big.open());
    QVERIFY(big.write(QByteArray(150000, 'x')) == 150000);
    big.flush();
    dialog->setAttachment(big.fileName());
    QVERIFY(!dialog->isInputValid());
    QVERIFY(!dialog->sendButton()->isEnabled());
    QVERIFY2(dialog->errorText().contains(u"too big"_s), qPrintable(dialog->errorText()));
    QVERIFY2(!dialog->attachmentInfo().isEmpty(), "the size is shown");
    // Pressed all the same (a stale button): nothing is read or sent, the dialog stays.
    dialog->accept();
    QVERIFY(dialog->isVisible());

    // Close to the limit is too big as well: the rest of the packet travels with it.
    QTemporaryFile edge;
    QVERIFY(edge.open());
    QVERIFY(edge.write(QByteArray(99990, 'x')) == 99990);
    edge.flush();
    dialog->setAttachment(edge.fileName());
    QVERIFY(!dialog->isInputValid());

    // Not a regular file: refused without reading it.
    QTemporaryDir dir;
    dialog->setAttachment(dir.path());
    QVERIFY(!dialog->isInputValid());
    QVERIFY2(dialog->errorText().contains(u"regular"_s), qPrintable(dialog->errorText()));
    if (QFileInfo::exists(u"/dev/zero"_s)) {
        dialog->setAttachment(u"/dev/zero"_s);
        QVERIFY(!dialog->isInputValid());
    }

    QTemporaryFile small;
    QVERIFY(small.open());
    QVERIFY(small.write(QByteArray(1000, 'y')) == 1000);
    small.flush();
    dialog->setAttachment(small.fileName());
    QVERIFY2(dialog->isInputValid(), qPrintable(dialog->errorText()));
    QVERIFY(dialog->errorText().isEmpty());
    QVERIFY(!dialog->attachmentInfo().isEmpty());

    // The largest file allowed does go through, to a socket of the namespace, and the server
    // keeps the connection.
    SocketClient receiver(urlOf(server));
    QByteArray received;
    receiver.on(u"file"_s, [&](const QVariantList &args, const Ack &) {
        if (!args.isEmpty())
            received = args.last().toByteArray();
    });
    QTRY_VERIFY_WITH_TIMEOUT(receiver.isConnected(), kWait);
    QTemporaryFile largest;
    QVERIFY(largest.open());
    const qint64 max = dialog->maxAttachmentSize();
    QVERIFY(largest.write(QByteArray(max, 'z')) == max);
    largest.flush();
    dialog->setAttachment(largest.fileName());
    QVERIFY2(dialog->isInputValid(), qPrintable(dialog->errorText()));
    QSignalSpy lost(window.client(), &AdminClient::disconnected);
    const QPointer<BroadcastDialog> sent(dialog);
    dialog->sendButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(!sent || !sent->isVisible(), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), max, kWait);
    QCOMPARE(lost.count(), 0);
    QCOMPARE(window.client()->state(), AdminClient::State::Connected);

    // Without a connection the limit is unknown: files stay capped at 100 MB.
    AdminClient offline;
    BroadcastDialog unconnected(&offline);
    QCOMPARE(unconnected.maxAttachmentSize(), qint64(100) * 1024 * 1024);
}

void tst_AdminApp::germanTranslation()
{
    QVERIFY(installTranslations(u"de"_s));
    QCOMPARE(
        QCoreApplication::translate("AdminApp::MainWindow", "&Connections"), u"&Verbindungen"_s);
    {
        MainWindow window;
        QCOMPARE(window.tabs()->tabText(1), u"&Verbindungen"_s);
        QCOMPARE(window.emitAction()->text(), u"&Senden…"_s);
    }
    QVERIFY(installTranslations(u"fr"_s));
    QCOMPARE(QCoreApplication::translate("AdminApp::MainWindow", "&Connections"), u"&Connexions"_s);
    removeTranslations();
    QCOMPARE(
        QCoreApplication::translate("AdminApp::MainWindow", "&Connections"), u"&Connections"_s);
}

QTEST_MAIN(tst_AdminApp)
#include "tst_adminapp.moc"
