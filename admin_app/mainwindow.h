#pragma once

#include "adminclient.h"

#include <QtCore/qpointer.h>
#include <QtWidgets/qmainwindow.h>

class QAction;
class QLabel;
class QTabWidget;

namespace AdminApp {

class BroadcastDialog;
class ConnectDialog;
class ConnectionsPage;
class DashboardPage;
class EventLogPage;
class HandlersPage;
class RoomsPage;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    AdminClient *client() const { return m_client; }

    // Remembers the settings (without the password) and connects.
    void connectToServer(const ConnectionSettings &settings);
    // The connect dialog, window-modal and not blocking: accepting it connects. Prefilled from
    // `settings`, or from the last connection when none is given.
    ConnectDialog *openConnectDialog(const ConnectionSettings *settings = nullptr);
    // The "Emit…" dialog, prefilled with a namespace and a socket when given.
    BroadcastDialog *openBroadcastDialog(const QString &nsp = {}, const QString &socketId = {});

    QTabWidget *tabs() const { return m_tabs; }
    DashboardPage *dashboardPage() const { return m_dashboard; }
    ConnectionsPage *connectionsPage() const { return m_connections; }
    RoomsPage *roomsPage() const { return m_rooms; }
    HandlersPage *handlersPage() const { return m_handlers; }
    EventLogPage *eventLogPage() const { return m_eventLog; }
    QAction *connectAction() const { return m_connectAction; }
    QAction *disconnectAction() const { return m_disconnectAction; }
    QAction *emitAction() const { return m_emitAction; }
    // The banner above the tabs: a lost connection, a refused login.
    QString bannerText() const;

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void updateState();
    void showBanner(const QString &text, bool error);
    void about();

    AdminClient *m_client;
    QTabWidget *m_tabs;
    DashboardPage *m_dashboard;
    ConnectionsPage *m_connections;
    RoomsPage *m_rooms;
    HandlersPage *m_handlers;
    EventLogPage *m_eventLog;
    QLabel *m_banner;
    QLabel *m_stateLabel;
    QLabel *m_readonlyLabel;
    QAction *m_connectAction = nullptr;
    QAction *m_disconnectAction = nullptr;
    QAction *m_emitAction = nullptr;
    QPointer<ConnectDialog> m_connectDialog;
    QString m_lastError;
};

} // namespace AdminApp
