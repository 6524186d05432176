#pragma once

#include <QtWidgets/qframe.h>

class QChart;
class QChartView;
class QDateTimeAxis;
class QGridLayout;
class QLabel;
class QLineSeries;
class QValueAxis;

namespace AdminApp {

class ServersModel;

// The dashboard's section for one server.
class ServerCard : public QFrame
{
    Q_OBJECT
public:
    ServerCard(const ServersModel *model, const QString &serverId, QWidget *parent = nullptr);

    QString serverId() const { return m_serverId; }
    // Figures from the model's row (cheap; every second).
    void updateFigures();
    // Charts from the sample history (after each sample).
    void updateCharts();

    QLineSeries *clientsSeries() const { return m_clients; }
    QLineSeries *bytesInSeries() const { return m_bytesIn; }

private:
    struct Chart
    {
        QChart *chart;
        QChartView *view;
        QDateTimeAxis *time;
        QValueAxis *value;
    };
    Chart makeChart(const QString &title, const QString &unit);
    QLabel *addFigure(QGridLayout *grid, int row, int column, const QString &caption);

    const ServersModel *m_model;
    QString m_serverId;
    QLabel *m_title;
    QLabel *m_health;
    QLabel *m_clientsLabel;
    QLabel *m_pollingLabel;
    QLabel *m_uptimeLabel;
    QLabel *m_namespacesLabel;
    Chart m_connectionsChart;
    Chart m_trafficChart;
    QLineSeries *m_clients;
    QLineSeries *m_polling;
    QLineSeries *m_bytesIn;
    QLineSeries *m_bytesOut;
};

} // namespace AdminApp
