#include "connectionspage.h"
#include "viewutil.h"

#include "adminclient.h"
#include "adminmodels.h"
#include "icons.h"
#include "jsontext.h"

#include <QtGui/qaction.h>
#include <QtGui/qfontdatabase.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qcombobox.h>
#include <QtWidgets/qheaderview.h>
#include <QtWidgets/qinputdialog.h>
#include <QtWidgets/qlabel.h>
#include <QtWidgets/qlineedit.h>
#include <QtWidgets/qmenu.h>
#include <QtWidgets/qplaintextedit.h>
#include <QtWidgets/qsplitter.h>
#include <QtWidgets/qtableview.h>
#include <QtWidgets/qtoolbar.h>

#include <set>

namespace AdminApp {

ConnectionsPage::ConnectionsPage(AdminClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_proxy(new TextFilterProxyModel(this))
    , m_view(new QTableView(this))
    , m_filter(new QLineEdit(this))
    , m_nspCombo(new QComboBox(this))
    , m_details(new QPlainTextEdit(this))
    , m_notice(new QLabel(this))
    , m_count(new QLabel(this))
{
    m_proxy->setSourceModel(client->sockets());
    m_proxy->setSortRole(RawRole);

    m_view->setObjectName(QStringLiteral("connectionsView"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(SocketsModel::ConnectedSince, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);

    m_filter->setPlaceholderText(tr("Filter sockets (id, address, room, data…)"));
    m_filter->setClearButtonEnabled(true);
    m_nspCombo->setMinimumContentsLength(14);
    m_nspCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_details->setReadOnly(true);
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_details->setPlaceholderText(tr("Select a socket to see its data and handshake."));
    m_notice->setWordWrap(true);
    m_notice->setText(tr("The server runs in production mode: it reports no individual sockets."));
    m_notice->setVisible(false);

    m_disconnect = new QAction(icon(QStringLiteral("disconnect-socket")), tr("&Disconnect"), this);
    m_disconnect->setToolTip(tr("Disconnect the selected sockets from their namespace"));
    m_disconnectClose = new QAction(
        icon(QStringLiteral("close-connection")), tr("Disconnect and &Close Connection"), this);
    m_disconnectClose->setToolTip(
        tr("Disconnect the selected sockets and close their Engine.IO connections"));
    m_join = new QAction(icon(QStringLiteral("join-room")), tr("&Join Room…"), this);
    m_join->setToolTip(tr("Make the selected sockets join a room"));
    m_leave = new QAction(icon(QStringLiteral("leave-room")), tr("&Leave Room…"), this);
    m_leave->setToolTip(tr("Make the selected sockets leave a room"));
    m_emit = new QAction(icon(QStringLiteral("emit")), tr("&Emit to Socket…"), this);
    connect(m_disconnect, &QAction::triggered, this, [this] { disconnectSelected(false); });
    connect(m_disconnectClose, &QAction::triggered, this, [this] { disconnectSelected(true); });
    connect(m_join, &QAction::triggered, this, &ConnectionsPage::joinSelected);
    connect(m_leave, &QAction::triggered, this, &ConnectionsPage::leaveSelected);
    connect(m_emit, &QAction::triggered, this, [this] {
        const QList<SocketRef> selected = selectedSockets();
        if (!selected.isEmpty())
            Q_EMIT emitRequested(selected.first().nsp, selected.first().id);
    });

    auto *bar = new QToolBar(this);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(16, 16));
    bar->addWidget(m_filter);
    bar->addWidget(m_nspCombo);
    bar->addSeparator();
    bar->addActions({m_disconnect, m_disconnectClose, m_join, m_leave});
    m_filter->setMinimumWidth(260);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(bar);
    layout->addWidget(m_notice);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_count);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &TextFilterProxyModel::setFilterText);
    connect(m_nspCombo, &QComboBox::currentIndexChanged, this,
        [this] { m_proxy->setNamespaceFilter(m_nspCombo->currentData().toString()); });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateActions();
        updateDetails();
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        &ConnectionsPage::updateDetails);
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        if (!m_view->indexAt(pos).isValid())
            return;
        QMenu menu(this);
        menu.addActions({m_disconnect, m_disconnectClose});
        menu.addSeparator();
        menu.addActions({m_join, m_leave});
        menu.addSeparator();
        menu.addAction(m_emit);
        menu.exec(m_view->viewport()->mapToGlobal(pos));
    });

    SocketsModel *sockets = client->sockets();
    auto changed = [this] {
        updateNamespaces();
        updateDetails();
        updateActions();
        m_count->setText(tr("Sockets shown: %1 of %2")
                             .arg(m_proxy->rowCount())
                             .arg(m_client->sockets()->rowCount()));
    };
    connect(sockets, &QAbstractItemModel::rowsInserted, this, changed);
    connect(sockets, &QAbstractItemModel::rowsRemoved, this, changed);
    connect(sockets, &QAbstractItemModel::modelReset, this, changed);
    connect(sockets, &QAbstractItemModel::dataChanged, this, &ConnectionsPage::updateDetails);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, changed);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, changed);
    connect(client, &AdminClient::configChanged, this, [this] {
        m_notice->setVisible(
            m_client->state() == AdminClient::State::Connected && !m_client->isDevelopmentMode());
    });
    changed();

    fitColumns(m_view,
        {{SocketsModel::Id, QStringLiteral("n9NfLsyco22JT2ybNzIAW")},
            {SocketsModel::ClientId, QStringLiteral("CjsDbUHhM6xQW")},
            {SocketsModel::Namespace, QStringLiteral("/custom")},
            {SocketsModel::Transport, QStringLiteral("websocket")},
            {SocketsModel::Address, QStringLiteral("127.000.000.001")},
            {SocketsModel::Rooms, QStringLiteral("lobby, games, support")},
            {SocketsModel::ConnectedSince, QStringLiteral("2026-12-31 23:59:59")}});
}

QList<ConnectionsPage::SocketRef> ConnectionsPage::selectedSockets() const
{
    QList<SocketRef> out;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    for (const QModelIndex &index : rows)
        out.append({index.data(NamespaceRole).toString(), index.data(SocketIdRole).toString()});
    return out;
}

bool ConnectionsPage::selectSocket(const QString &nsp, const QString &id)
{
    for (int row = 0; row < m_proxy->rowCount(); ++row) {
        const QModelIndex index = m_proxy->index(row, 0);
        if (index.data(NamespaceRole).toString() == nsp && index.data(SocketIdRole) == id) {
            m_view->selectionModel()->select(
                index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
            m_view->setCurrentIndex(index);
            m_view->scrollTo(index);
            return true;
        }
    }
    return false;
}

void ConnectionsPage::setCommandsEnabled(bool enabled)
{
    m_commandsEnabled = enabled;
    updateActions();
}

void ConnectionsPage::updateActions()
{
    const bool any = m_view->selectionModel()->hasSelection();
    for (QAction *action : {m_disconnect, m_disconnectClose, m_join, m_leave})
        action->setEnabled(m_commandsEnabled && any);
    m_emit->setEnabled(m_commandsEnabled && selectedSockets().size() == 1);
}

void ConnectionsPage::updateDetails()
{
    QModelIndex current = m_view->selectionModel()->currentIndex();
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        m_details->clear();
        return;
    }
    if (!current.isValid() || !m_view->selectionModel()->isRowSelected(current.row()))
        current = rows.first();
    const QString nsp = current.data(NamespaceRole).toString();
    const QString id = current.data(SocketIdRole).toString();
    const int row = m_client->sockets()->indexOf(nsp, id);
    if (row < 0) {
        m_details->clear();
        return;
    }
    const SocketsModel::SocketInfo &s = m_client->sockets()->socketList().at(row);
    const QVariantMap shown {
        {QStringLiteral("id"), s.id},
        {QStringLiteral("clientId"), s.clientId},
        {QStringLiteral("nsp"), s.nsp},
        {QStringLiteral("transport"), s.transport},
        {QStringLiteral("rooms"), s.rooms},
        {QStringLiteral("connectedAt"), s.connectedAt},
        {QStringLiteral("data"), s.data},
        {QStringLiteral("handshake"), s.handshake},
    };
    const QString text = prettyJson(shown);
    if (m_details->toPlainText() != text)
        m_details->setPlainText(text);
}

void ConnectionsPage::updateNamespaces()
{
    std::set<QString> names;
    for (const SocketsModel::SocketInfo &socket : m_client->sockets()->socketList())
        names.insert(socket.nsp);
    QStringList wanted {QString()};
    for (const QString &name : names)
        wanted.append(name);
    QStringList have;
    for (int i = 0; i < m_nspCombo->count(); ++i)
        have.append(m_nspCombo->itemData(i).toString());
    if (have == wanted)
        return;
    const QString current = m_nspCombo->currentData().toString();
    const QSignalBlocker blocker(m_nspCombo);
    m_nspCombo->clear();
    m_nspCombo->addItem(tr("All namespaces"), QString());
    for (const QString &name : names)
        m_nspCombo->addItem(name, name);
    // A namespace that emptied stays the filter: its sockets may come back.
    int index = m_nspCombo->findData(current);
    if (index < 0 && !current.isEmpty()) {
        m_nspCombo->addItem(current, current);
        index = m_nspCombo->count() - 1;
    }
    m_nspCombo->setCurrentIndex(qMax(0, index));
}

void ConnectionsPage::disconnectSelected(bool close)
{
    for (const SocketRef &s : selectedSockets())
        m_client->disconnectSockets(s.nsp, close, s.id);
}

void ConnectionsPage::joinSelected()
{
    const QList<SocketRef> selected = selectedSockets();
    if (selected.isEmpty())
        return;
    bool ok = false;
    const QString room = QInputDialog::getText(this, tr("Join Room"),
        tr("Room the selected sockets join:"), QLineEdit::Normal, QString(), &ok)
                             .trimmed();
    if (!ok || room.isEmpty())
        return;
    for (const SocketRef &s : selected)
        m_client->joinRoom(s.nsp, room, s.id);
}

void ConnectionsPage::leaveSelected()
{
    const QList<SocketRef> selected = selectedSockets();
    if (selected.isEmpty())
        return;
    std::set<QString> rooms;
    for (const SocketRef &s : selected) {
        const int row = m_client->sockets()->indexOf(s.nsp, s.id);
        if (row < 0)
            continue;
        for (const QString &room : m_client->sockets()->socketList().at(row).rooms) {
            if (room != s.id)
                rooms.insert(room);
        }
    }
    QStringList items;
    for (const QString &room : rooms)
        items.append(room);
    bool ok = false;
    const QString room = QInputDialog::getItem(
        this, tr("Leave Room"), tr("Room the selected sockets leave:"), items, 0, true, &ok)
                             .trimmed();
    if (!ok || room.isEmpty())
        return;
    for (const SocketRef &s : selected)
        m_client->leaveRoom(s.nsp, room, s.id);
}

} // namespace AdminApp
