#include "dashboardpage.h"

#include "adminclient.h"
#include "adminmodels.h"
#include "servercard.h"

#include <QtCore/qtimer.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qlabel.h>
#include <QtWidgets/qscrollarea.h>

namespace AdminApp {

DashboardPage::DashboardPage(AdminClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_cardsLayout(new QVBoxLayout)
    , m_summary(new QLabel(this))
    , m_empty(new QLabel(this))
    , m_healthTimer(new QTimer(this))
{
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_empty->setWordWrap(true);

    auto *content = new QWidget;
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 0, 0);
    // Cards share the height (a lone server gets big charts); beyond the window, it scrolls.
    contentLayout->addLayout(m_cardsLayout, 1);
    contentLayout->addWidget(m_empty, 1);
    m_cardsLayout->setSpacing(12);

    auto *scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    layout->addWidget(m_summary);
    layout->addWidget(scroll, 1);

    ServersModel *servers = client->servers();
    connect(servers, &QAbstractItemModel::rowsInserted, this, &DashboardPage::syncCards);
    connect(servers, &QAbstractItemModel::rowsRemoved, this, &DashboardPage::syncCards);
    connect(servers, &QAbstractItemModel::modelReset, this, &DashboardPage::syncCards);
    connect(servers, &QAbstractItemModel::dataChanged, this, &DashboardPage::updateFigures);
    connect(servers, &ServersModel::sampleAdded, this, [this](const QString &serverId) {
        if (ServerCard *c = m_cards.value(serverId))
            c->updateCharts();
    });
    connect(client, &AdminClient::stateChanged, this, &DashboardPage::updateFigures);
    // Health is a matter of time passing without stats, so it is re-checked on a clock.
    m_healthTimer->setInterval(1000);
    connect(m_healthTimer, &QTimer::timeout, this, [this] {
        m_client->servers()->refreshHealth();
        updateFigures();
    });
    m_healthTimer->start();
    syncCards();
}

DashboardPage::~DashboardPage() = default;

void DashboardPage::syncCards()
{
    const ServersModel *servers = m_client->servers();
    QStringList ids;
    for (const ServersModel::Server &server : servers->serverList())
        ids.append(server.serverId);
    for (auto it = m_cards.begin(); it != m_cards.end();) {
        if (!ids.contains(it.key())) {
            delete it.value();
            it = m_cards.erase(it);
        } else {
            ++it;
        }
    }
    // Cards follow the model's order, each server apart even when they share a host name.
    for (int i = 0; i < ids.size(); ++i) {
        ServerCard *card = m_cards.value(ids.at(i));
        if (!card) {
            card = new ServerCard(servers, ids.at(i));
            m_cards.insert(ids.at(i), card);
        }
        if (m_cardsLayout->indexOf(card) != i) {
            m_cardsLayout->removeWidget(card);
            m_cardsLayout->insertWidget(i, card, 1);
        }
        card->updateCharts();
    }
    updateFigures();
}

void DashboardPage::updateFigures()
{
    int clients = 0;
    for (const ServersModel::Server &server : m_client->servers()->serverList())
        clients += server.clients;
    for (ServerCard *card : std::as_const(m_cards))
        card->updateFigures();

    const bool connected = m_client->state() == AdminClient::State::Connected;
    if (m_cards.isEmpty()) {
        m_summary->clear();
        m_empty->setText(connected ? tr("Waiting for the first statistics…")
                                   : tr("Not connected. Use Connect… to pick a server."));
        m_empty->setVisible(true);
    } else {
        m_empty->setVisible(false);
        m_summary->setText(tr("Servers: %1 · Clients: %2").arg(m_cards.size()).arg(clients));
    }
}

} // namespace AdminApp
