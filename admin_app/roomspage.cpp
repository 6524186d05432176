#include "roomspage.h"

#include "adminclient.h"
#include "adminmodels.h"
#include "icons.h"

#include <QtGui/qaction.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qheaderview.h>
#include <QtWidgets/qmenu.h>
#include <QtWidgets/qmessagebox.h>
#include <QtWidgets/qtoolbar.h>
#include <QtWidgets/qtreeview.h>

namespace AdminApp {

namespace {

RoomsModel::Kind kindOf(const QModelIndex &index)
{
    return RoomsModel::Kind(index.data(KindRole).toInt());
}

QString roomKey(const QModelIndex &index)
{
    return index.data(NamespaceRole).toString() + u'\n' + index.data(RoomRole).toString();
}

} // namespace

RoomsPage::RoomsPage(AdminClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_view(new QTreeView(this))
{
    m_view->setObjectName(QStringLiteral("roomsView"));
    m_view->setModel(client->rooms());
    m_view->setAlternatingRowColors(true);
    m_view->setUniformRowHeights(true);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionResizeMode(RoomsModel::Name, QHeaderView::Stretch);
    m_view->header()->setSectionResizeMode(RoomsModel::Members, QHeaderView::ResizeToContents);

    m_leave = new QAction(icon(QStringLiteral("leave-room")), tr("&Leave Room"), this);
    m_leave->setToolTip(tr("The selected member leaves the room"));
    m_clear = new QAction(icon(QStringLiteral("clear")), tr("&Clear Room"), this);
    m_clear->setToolTip(tr("Every socket of the namespace leaves the selected room"));
    m_disconnectAll = new QAction(
        icon(QStringLiteral("disconnect-socket")), tr("&Disconnect All in Room"), this);
    m_disconnectAll->setToolTip(tr("Disconnect every socket in the selected room"));
    connect(m_leave, &QAction::triggered, this, &RoomsPage::leaveRoom);
    connect(m_clear, &QAction::triggered, this, &RoomsPage::clearRoom);
    connect(m_disconnectAll, &QAction::triggered, this, &RoomsPage::disconnectAll);

    auto *bar = new QToolBar(this);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(16, 16));
    bar->addActions({m_leave, m_clear, m_disconnectAll});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(bar);
    layout->addWidget(m_view, 1);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
        &RoomsPage::updateActions);
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        if (!m_view->indexAt(pos).isValid())
            return;
        QMenu menu(this);
        menu.addActions({m_leave, m_clear, m_disconnectAll});
        menu.exec(m_view->viewport()->mapToGlobal(pos));
    });

    // The model rebuilds itself as sockets come and go; what the user opened stays open.
    connect(m_view, &QTreeView::expanded, this, [this](const QModelIndex &index) {
        if (m_restoring)
            return;
        if (kindOf(index) == RoomsModel::Kind::Namespace)
            m_collapsedNamespaces.remove(index.data(NamespaceRole).toString());
        else
            m_expandedRooms.insert(roomKey(index));
    });
    connect(m_view, &QTreeView::collapsed, this, [this](const QModelIndex &index) {
        if (m_restoring)
            return;
        if (kindOf(index) == RoomsModel::Kind::Namespace)
            m_collapsedNamespaces.insert(index.data(NamespaceRole).toString());
        else
            m_expandedRooms.remove(roomKey(index));
    });
    QAbstractItemModel *model = client->rooms();
    connect(model, &QAbstractItemModel::modelReset, this, &RoomsPage::restoreExpansion);
    connect(model, &QAbstractItemModel::layoutChanged, this, &RoomsPage::restoreExpansion);
    connect(model, &QAbstractItemModel::rowsInserted, this, &RoomsPage::restoreExpansion);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &RoomsPage::updateActions);
    connect(model, &QAbstractItemModel::modelReset, this, &RoomsPage::updateActions);
    restoreExpansion();
    updateActions();
}

void RoomsPage::setCommandsEnabled(bool enabled)
{
    m_commandsEnabled = enabled;
    updateActions();
}

void RoomsPage::restoreExpansion()
{
    m_restoring = true;
    QAbstractItemModel *model = m_view->model();
    for (int n = 0; n < model->rowCount(); ++n) {
        const QModelIndex nsp = model->index(n, 0);
        m_view->setExpanded(
            nsp, !m_collapsedNamespaces.contains(nsp.data(NamespaceRole).toString()));
        for (int r = 0; r < model->rowCount(nsp); ++r) {
            const QModelIndex room = model->index(r, 0, nsp);
            m_view->setExpanded(room, m_expandedRooms.contains(roomKey(room)));
        }
    }
    m_restoring = false;
    updateActions();
}

void RoomsPage::updateActions()
{
    const QModelIndex current = m_view->currentIndex();
    const bool valid = current.isValid();
    const RoomsModel::Kind kind = valid ? kindOf(current) : RoomsModel::Kind::Namespace;
    m_leave->setEnabled(m_commandsEnabled && valid && kind == RoomsModel::Kind::Member);
    m_clear->setEnabled(m_commandsEnabled && valid && kind == RoomsModel::Kind::Room);
    m_disconnectAll->setEnabled(m_commandsEnabled && valid && kind == RoomsModel::Kind::Room);
}

void RoomsPage::leaveRoom()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid() || kindOf(current) != RoomsModel::Kind::Member)
        return;
    m_client->leaveRoom(current.data(NamespaceRole).toString(), current.data(RoomRole).toString(),
        current.data(SocketIdRole).toString());
}

void RoomsPage::clearRoom()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid() || kindOf(current) != RoomsModel::Kind::Room)
        return;
    // Without a filter, the protocol's `leave` applies to every socket of the namespace.
    m_client->leaveRoom(current.data(NamespaceRole).toString(), current.data(RoomRole).toString());
}

void RoomsPage::disconnectAll()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid() || kindOf(current) != RoomsModel::Kind::Room)
        return;
    const QString nsp = current.data(NamespaceRole).toString();
    const QString room = current.data(RoomRole).toString();
    QMessageBox box(QMessageBox::Question, tr("Disconnect All in Room"),
        tr("Disconnect every socket in room “%1” of namespace %2?").arg(room, nsp),
        QMessageBox::Yes | QMessageBox::No, this);
    // Room and namespace names come from the server's clients: shown as they are, never as
    // markup (rich text would load images, even from local paths such as /dev/zero).
    box.setTextFormat(Qt::PlainText);
    if (box.exec() == QMessageBox::Yes)
        m_client->disconnectSockets(nsp, false, room);
}

} // namespace AdminApp
