#include "handlerspage.h"

#include "adminclient.h"
#include "adminmodels.h"

#include <QtCore/qsortfilterproxymodel.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qgroupbox.h>
#include <QtWidgets/qheaderview.h>
#include <QtWidgets/qsplitter.h>
#include <QtWidgets/qtableview.h>
#include <QtWidgets/qtreewidget.h>

namespace AdminApp {

HandlersPage::HandlersPage(AdminClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_view(new QTableView(this))
    , m_routes(new QTreeWidget(this))
{
    auto *proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(client->handlers());
    m_view->setObjectName(QStringLiteral("handlersView"));
    m_view->setModel(proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(HandlersModel::Namespace, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);

    m_routes->setObjectName(QStringLiteral("routesView"));
    m_routes->setRootIsDecorated(false);
    m_routes->setHeaderLabels({tr("Path"), tr("Transports"), tr("Mount")});
    m_routes->header()->setSectionResizeMode(QHeaderView::ResizeToContents);

    auto *handlersBox = new QGroupBox(tr("Event handlers"), this);
    auto *handlersLayout = new QVBoxLayout(handlersBox);
    handlersLayout->addWidget(m_view);
    auto *routesBox = new QGroupBox(tr("Routes"), this);
    auto *routesLayout = new QVBoxLayout(routesBox);
    routesLayout->addWidget(m_routes);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(handlersBox);
    splitter->addWidget(routesBox);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(client, &AdminClient::routesChanged, this, &HandlersPage::updateRoutes);
    connect(client, &AdminClient::configChanged, this, &HandlersPage::updateRoutes);
    updateRoutes();
}

void HandlersPage::updateRoutes()
{
    m_routes->clear();
    for (const QVariant &route : m_client->routes()) {
        const QVariantMap m = route.toMap();
        auto *item = new QTreeWidgetItem(m_routes);
        item->setText(0, m.value(QStringLiteral("path")).toString());
        item->setText(1, m.value(QStringLiteral("transports")).toStringList().join(u", "));
        item->setText(2, m.value(QStringLiteral("mount")).toString());
    }
}

} // namespace AdminApp
