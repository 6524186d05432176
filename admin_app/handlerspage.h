#pragma once

#include <QtWidgets/qwidget.h>

class QTableView;
class QTreeWidget;

namespace AdminApp {

class AdminClient;

// Our qsio:handlers and qsio:routes extensions: what the server registered, and where it
// listens.
class HandlersPage : public QWidget
{
    Q_OBJECT
public:
    explicit HandlersPage(AdminClient *client, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QTreeWidget *routesView() const { return m_routes; }

private:
    void updateRoutes();

    AdminClient *m_client;
    QTableView *m_view;
    QTreeWidget *m_routes;
};

} // namespace AdminApp
