#pragma once

#include <QtWidgets/qwidget.h>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QTableView;

namespace AdminApp {

class AdminClient;
class TextFilterProxyModel;

// The connected sockets: a sortable, filterable table, commands on the selected sockets and
// their data and handshake as JSON beside it.
class ConnectionsPage : public QWidget
{
    Q_OBJECT
public:
    struct SocketRef
    {
        QString nsp;
        QString id;
    };

    explicit ConnectionsPage(AdminClient *client, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    TextFilterProxyModel *proxy() const { return m_proxy; }
    QLineEdit *filterEdit() const { return m_filter; }
    QComboBox *namespaceCombo() const { return m_nspCombo; }
    QPlainTextEdit *detailsPane() const { return m_details; }
    QAction *disconnectAction() const { return m_disconnect; }
    QAction *disconnectCloseAction() const { return m_disconnectClose; }
    QAction *joinAction() const { return m_join; }
    QAction *leaveAction() const { return m_leave; }

    QList<SocketRef> selectedSockets() const;
    // Selects the row of that socket; false when it is not shown.
    bool selectSocket(const QString &nsp, const QString &id);
    void setCommandsEnabled(bool enabled);

Q_SIGNALS:
    void emitRequested(const QString &nsp, const QString &socketId);

private:
    void updateActions();
    void updateDetails();
    void updateNamespaces();
    void disconnectSelected(bool close);
    void joinSelected();
    void leaveSelected();

    AdminClient *m_client;
    TextFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLineEdit *m_filter;
    QComboBox *m_nspCombo;
    QPlainTextEdit *m_details;
    QLabel *m_notice;
    QLabel *m_count;
    QAction *m_disconnect;
    QAction *m_disconnectClose;
    QAction *m_join;
    QAction *m_leave;
    QAction *m_emit;
    bool m_commandsEnabled = false;
};

} // namespace AdminApp
