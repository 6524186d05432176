#pragma once

#include <QtCore/qmap.h>
#include <QtWidgets/qwidget.h>

class QLabel;
class QTimer;
class QVBoxLayout;

namespace AdminApp {

class AdminClient;
class ServerCard;

// One card per server of the cluster (by serverId): its figures, health, namespaces, and charts
// of connections and traffic from the samples ServersModel keeps.
class DashboardPage : public QWidget
{
    Q_OBJECT
public:
    explicit DashboardPage(AdminClient *client, QWidget *parent = nullptr);
    ~DashboardPage() override;

    QStringList serverIds() const { return m_cards.keys(); }
    ServerCard *card(const QString &serverId) const { return m_cards.value(serverId); }

private:
    void syncCards();
    void updateFigures();

    AdminClient *m_client;
    QVBoxLayout *m_cardsLayout;
    QLabel *m_summary;
    QLabel *m_empty;
    QMap<QString, ServerCard *> m_cards;
    QTimer *m_healthTimer;
};

} // namespace AdminApp
