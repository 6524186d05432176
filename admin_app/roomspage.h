#pragma once

#include <QtCore/qset.h>
#include <QtWidgets/qwidget.h>

class QAction;
class QTreeView;

namespace AdminApp {

class AdminClient;

// Namespaces, their rooms and each room's members, with the room-wide commands.
class RoomsPage : public QWidget
{
    Q_OBJECT
public:
    explicit RoomsPage(AdminClient *client, QWidget *parent = nullptr);

    QTreeView *view() const { return m_view; }
    QAction *leaveAction() const { return m_leave; }
    QAction *clearAction() const { return m_clear; }
    QAction *disconnectAllAction() const { return m_disconnectAll; }
    void setCommandsEnabled(bool enabled);

private:
    void updateActions();
    void restoreExpansion();
    void leaveRoom();
    void clearRoom();
    void disconnectAll();

    AdminClient *m_client;
    QTreeView *m_view;
    QAction *m_leave;
    QAction *m_clear;
    QAction *m_disconnectAll;
    QSet<QString> m_collapsedNamespaces;
    QSet<QString> m_expandedRooms; // "nsp\nroom"
    bool m_commandsEnabled = false;
    bool m_restoring = false;
};

} // namespace AdminApp
