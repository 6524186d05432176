#include "mainwindow.h"

#include "adminmodels.h"
#include "broadcastdialog.h"
#include "connectdialog.h"
#include "connectionspage.h"
#include "dashboardpage.h"
#include "eventlogpage.h"
#include "handlerspage.h"
#include "icons.h"
#include "roomspage.h"

#include <QtCore/qsettings.h>
#include <QtCore/qtimer.h>
#include <QtGui/qaction.h>
#include <QtGui/qevent.h>
#include <QtGui/qkeysequence.h>
#include <QtWidgets/qapplication.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qlabel.h>
#include <QtWidgets/qmenubar.h>
#include <QtWidgets/qmessagebox.h>
#include <QtWidgets/qstatusbar.h>
#include <QtWidgets/qtabwidget.h>
#include <QtWidgets/qtoolbar.h>

#ifndef QSIO_ADMIN_VERSION
#define QSIO_ADMIN_VERSION "0.0.0"
#endif

namespace AdminApp {

namespace {

enum Tab { DashboardTab, ConnectionsTab, RoomsTab, HandlersTab, EventLogTab };

QString stateText(AdminClient::State state)
{
    switch (state) {
    case AdminClient::State::Disconnected:
        return MainWindow::tr("Disconnected");
    case AdminClient::State::Connecting:
        return MainWindow::tr("Connecting…");
    case AdminClient::State::Connected:
        return MainWindow::tr("Connected");
    case AdminClient::State::Reconnecting:
        return MainWindow::tr("Reconnecting…");
    }
    return {};
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_client(new AdminClient(this))
    , m_tabs(new QTabWidget(this))
    , m_banner(new QLabel(this))
    , m_stateLabel(new QLabel(this))
    , m_readonlyLabel(new QLabel(tr("Read-only"), this))
{
    setWindowIcon(icon(QStringLiteral("qsocketio-admin")));
    m_dashboard = new DashboardPage(m_client, m_tabs);
    m_connections = new ConnectionsPage(m_client, m_tabs);
    m_rooms = new RoomsPage(m_client, m_tabs);
    m_handlers = new HandlersPage(m_client, m_tabs);
    m_eventLog = new EventLogPage(m_client, m_tabs);
    m_tabs->setDocumentMode(true);
    m_tabs->insertTab(
        DashboardTab, m_dashboard, icon(QStringLiteral("dashboard")), tr("&Dashboard"));
    m_tabs->insertTab(
        ConnectionsTab, m_connections, icon(QStringLiteral("sockets")), tr("&Connections"));
    m_tabs->insertTab(RoomsTab, m_rooms, icon(QStringLiteral("rooms")), tr("&Rooms"));
    m_tabs->insertTab(HandlersTab, m_handlers, icon(QStringLiteral("handlers")), tr("&Handlers"));
    m_tabs->insertTab(EventLogTab, m_eventLog, icon(QStringLiteral("events")), tr("&Event Log"));

    m_banner->setObjectName(QStringLiteral("banner"));
    // The banner quotes the server's error messages: plain text, never markup (rich text would
    // load images, even from local paths such as /dev/zero).
    m_banner->setTextFormat(Qt::PlainText);
    m_stateLabel->setTextFormat(Qt::PlainText);
    m_banner->setWordWrap(true);
    m_banner->setMargin(8);
    m_banner->setVisible(false);

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);

    createActions();
    statusBar()->addWidget(m_stateLabel, 1);
    statusBar()->addPermanentWidget(m_readonlyLabel);
    m_readonlyLabel->setToolTip(tr("The server accepts no commands: actions are disabled."));

    connect(m_client, &AdminClient::stateChanged, this, [this](AdminClient::State state) {
        if (state == AdminClient::State::Connected) {
            m_lastError.clear();
            showBanner({}, false);
        } else if (state == AdminClient::State::Reconnecting) {
            showBanner(tr("The connection to %1 is lost. Reconnecting…")
                           .arg(m_client->settings().url.toDisplayString()),
                false);
        }
        updateState();
    });
    connect(m_client, &AdminClient::disconnected, this, [this](const QString &reason) {
        if (m_client->state() == AdminClient::State::Reconnecting) {
            showBanner(tr("The connection to %1 is lost (%2). Reconnecting…")
                           .arg(m_client->settings().url.toDisplayString(), reason),
                false);
        }
        statusBar()->showMessage(tr("Disconnected: %1").arg(reason), 5000);
    });
    connect(m_client, &AdminClient::connectError, this, [this](const QString &message) {
        m_lastError = message;
        const bool retrying = m_client->state() == AdminClient::State::Reconnecting
            || m_client->state() == AdminClient::State::Connecting;
        showBanner(retrying ? tr("Cannot connect to %1: %2. Retrying…")
                                  .arg(m_client->settings().url.toDisplayString(), message)
                            : tr("Cannot connect to %1: %2")
                                  .arg(m_client->settings().url.toDisplayString(), message),
            true);
        if (m_connectDialog)
            m_connectDialog->setError(message);
        updateState();
        // A refusal (bad credentials...) is not retried: the login form comes back with it. The
        // client may publish its Disconnected state just after this signal, hence the delay.
        QTimer::singleShot(0, this, [this, message] {
            if (m_connectDialog || m_client->state() != AdminClient::State::Disconnected)
                return;
            const ConnectionSettings settings = m_client->settings();
            openConnectDialog(&settings)->setError(message);
        });
    });
    connect(m_client, &AdminClient::sessionReceived, this, [this] {
        QSettings settings;
        m_client->settings().save(settings);
    });
    connect(m_client, &AdminClient::configChanged, this, &MainWindow::updateState);
    connect(m_connections, &ConnectionsPage::emitRequested, this,
        [this](const QString &nsp, const QString &id) { openBroadcastDialog(nsp, id); });

    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1180, 760);
    updateState();
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions()
{
    m_connectAction = new QAction(icon(QStringLiteral("connect")), tr("&Connect…"), this);
    m_connectAction->setShortcut(QKeySequence::Open);
    m_connectAction->setToolTip(tr("Connect to a server"));
    connect(m_connectAction, &QAction::triggered, this, [this] { openConnectDialog(); });

    m_disconnectAction = new QAction(icon(QStringLiteral("disconnect")), tr("&Disconnect"), this);
    m_disconnectAction->setToolTip(tr("Close the connection to the server"));
    connect(m_disconnectAction, &QAction::triggered, m_client, &AdminClient::disconnectFromServer);

    m_emitAction = new QAction(icon(QStringLiteral("emit")), tr("&Emit…"), this);
    m_emitAction->setShortcut(Qt::CTRL | Qt::Key_E);
    m_emitAction->setToolTip(tr("Emit an event to sockets of the server"));
    connect(m_emitAction, &QAction::triggered, this, [this] {
        const QList<ConnectionsPage::SocketRef> selected = m_connections->selectedSockets();
        if (m_tabs->currentWidget() == m_connections && selected.size() == 1)
            openBroadcastDialog(selected.first().nsp, selected.first().id);
        else
            openBroadcastDialog();
    });

    auto *quit = new QAction(icon(QStringLiteral("quit")), tr("&Quit"), this);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    auto *aboutAction
        = new QAction(icon(QStringLiteral("about")), tr("&About QSocketIo Admin"), this);
    aboutAction->setMenuRole(QAction::AboutRole);
    connect(aboutAction, &QAction::triggered, this, &MainWindow::about);
    auto *aboutQt = new QAction(tr("About &Qt"), this);
    aboutQt->setMenuRole(QAction::AboutQtRole);
    connect(aboutQt, &QAction::triggered, qApp, &QApplication::aboutQt);

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addActions({m_connectAction, m_disconnectAction});
    file->addSeparator();
    file->addAction(quit);

    QMenu *server = menuBar()->addMenu(tr("&Server"));
    server->addAction(m_emitAction);
    server->addSeparator();
    server->addActions({m_connections->disconnectAction(), m_connections->disconnectCloseAction(),
        m_connections->joinAction(), m_connections->leaveAction()});
    server->addSeparator();
    server->addActions(
        {m_rooms->leaveAction(), m_rooms->clearAction(), m_rooms->disconnectAllAction()});

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(aboutAction);
    help->addAction(aboutQt);

    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addActions({m_connectAction, m_disconnectAction});
    bar->addSeparator();
    bar->addAction(m_emitAction);
}

void MainWindow::connectToServer(const ConnectionSettings &settings)
{
    QSettings stored;
    settings.save(stored);
    m_lastError.clear();
    showBanner({}, false);
    m_client->connectToServer(settings);
    updateState();
}

ConnectDialog *MainWindow::openConnectDialog(const ConnectionSettings *settings)
{
    if (m_connectDialog) {
        m_connectDialog->raise();
        m_connectDialog->activateWindow();
        return m_connectDialog;
    }
    auto *dialog = new ConnectDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (settings) {
        dialog->setSettings(*settings);
    } else {
        QSettings stored;
        dialog->setSettings(ConnectionSettings::load(stored));
    }
    connect(
        dialog, &QDialog::accepted, this, [this, dialog] { connectToServer(dialog->settings()); });
    m_connectDialog = dialog;
    dialog->open();
    return dialog;
}

BroadcastDialog *MainWindow::openBroadcastDialog(const QString &nsp, const QString &socketId)
{
    auto *dialog = new BroadcastDialog(m_client, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!nsp.isEmpty())
        dialog->setNamespace(nsp);
    if (!socketId.isEmpty())
        dialog->setTarget(BroadcastDialog::Target::Socket, socketId);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        statusBar()->showMessage(
            tr("Emitted “%1” to %2")
                .arg(dialog->eventName(),
                    dialog->filter().isEmpty() ? dialog->nsp() : dialog->filter()),
            5000);
    });
    dialog->open();
    return dialog;
}

QString MainWindow::bannerText() const
{
    return m_banner->isVisible() ? m_banner->text() : QString();
}

void MainWindow::showBanner(const QString &text, bool error)
{
    m_banner->setText(text);
    m_banner->setStyleSheet(error
            ? QStringLiteral("QLabel#banner { background: #fce8e6; color: #a50e0e;"
                             " border: 1px solid #f5c2bd; border-radius: 4px; }")
            : QStringLiteral("QLabel#banner { background: #fef7e0; color: #7a4f01;"
                             " border: 1px solid #f9e3a3; border-radius: 4px; }"));
    m_banner->setVisible(!text.isEmpty());
}

void MainWindow::updateState()
{
    const AdminClient::State state = m_client->state();
    const bool connected = state == AdminClient::State::Connected;
    const bool commands = connected && !m_client->isReadonly();
    m_emitAction->setEnabled(commands);
    m_connections->setCommandsEnabled(commands);
    m_rooms->setCommandsEnabled(commands);
    m_disconnectAction->setEnabled(state != AdminClient::State::Disconnected);
    m_readonlyLabel->setVisible(connected && m_client->isReadonly());
    m_tabs->setTabVisible(HandlersTab, connected && m_client->hasHandlersExtension());

    const ConnectionSettings settings = m_client->settings();
    const QString where = settings.url.toDisplayString() + settings.nsp;
    QString status = stateText(state);
    if (state != AdminClient::State::Disconnected)
        status += u' ' + where;
    if (connected && !m_client->isDevelopmentMode())
        status += tr(" · production mode (aggregates only)");
    m_stateLabel->setText(status);
    setWindowTitle(state == AdminClient::State::Disconnected
            ? tr("QSocketIo Admin")
            : tr("%1 — QSocketIo Admin").arg(settings.url.toDisplayString()));
}

void MainWindow::about()
{
    QMessageBox box(this);
    box.setWindowTitle(tr("About QSocketIo Admin"));
    box.setIconPixmap(icon(QStringLiteral("qsocketio-admin")).pixmap(64, 64));
    box.setText(tr("<h3>QSocketIo Admin %1</h3>").arg(QStringLiteral(QSIO_ADMIN_VERSION)));
    box.setInformativeText(
        tr("Monitors and commands Socket.IO servers through the Socket.IO Admin UI protocol: "
           "servers, sockets, rooms, handlers and events.<br><br>Built with Qt %1.")
            .arg(QString::fromLatin1(qVersion())));
    box.exec();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    QMainWindow::closeEvent(event);
}

} // namespace AdminApp
