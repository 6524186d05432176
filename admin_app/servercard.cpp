#include "servercard.h"

#include "adminmodels.h"

#include <QtCharts/qchart.h>
#include <QtCharts/qchartview.h>
#include <QtCharts/qdatetimeaxis.h>
#include <QtCharts/qlineseries.h>
#include <QtCharts/qvalueaxis.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qgraphicslayout.h>
#include <QtWidgets/qgridlayout.h>
#include <QtWidgets/qlabel.h>

#include <cmath>

namespace AdminApp {

namespace {

QString uptimeText(double seconds)
{
    const qint64 total = qint64(seconds);
    const qint64 days = total / 86400;
    const QString clock = QStringLiteral("%1:%2:%3")
                              .arg((total / 3600) % 24, 2, 10, QLatin1Char('0'))
                              .arg((total / 60) % 60, 2, 10, QLatin1Char('0'))
                              .arg(total % 60, 2, 10, QLatin1Char('0'));
    return days > 0 ? ServerCard::tr("%1 d %2").arg(days).arg(clock) : clock;
}

// The axis ends on a round number a little above the data, so lines never touch the frame.
double niceCeiling(double value)
{
    if (value <= 4)
        return 4;
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (double step : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (value * 1.1 <= step * magnitude)
            return step * magnitude;
    }
    return 10 * magnitude;
}

} // namespace

ServerCard::ServerCard(const ServersModel *model, const QString &serverId, QWidget *parent)
    : QFrame(parent)
    , m_model(model)
    , m_serverId(serverId)
    , m_title(new QLabel(this))
    , m_health(new QLabel(this))
    , m_clients(new QLineSeries(this))
    , m_polling(new QLineSeries(this))
    , m_bytesIn(new QLineSeries(this))
    , m_bytesOut(new QLineSeries(this))
{
    setObjectName(QStringLiteral("serverCard"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    setBackgroundRole(QPalette::Base);

    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.25);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setObjectName(QStringLiteral("serverTitle"));
    // Title and health are markup built here around escaped server data. Said so explicitly: the
    // guess (Qt::AutoText) would show an escaped "a&amp;b" as is when no tag follows it.
    m_title->setTextFormat(Qt::RichText);
    m_health->setTextFormat(Qt::RichText);

    auto *header = new QHBoxLayout;
    header->addWidget(m_title, 1);
    header->addWidget(m_health);

    auto *figures = new QGridLayout;
    figures->setHorizontalSpacing(28);
    figures->setVerticalSpacing(0);
    m_clientsLabel = addFigure(figures, 0, 0, tr("Clients"));
    m_pollingLabel = addFigure(figures, 0, 1, tr("Polling clients"));
    m_uptimeLabel = addFigure(figures, 0, 2, tr("Uptime"));
    figures->setColumnStretch(3, 1);

    // Namespaces are many and long-named at times: a line of their own, at text size.
    m_namespacesLabel = new QLabel(this);
    m_namespacesLabel->setWordWrap(true);
    m_namespacesLabel->setTextFormat(Qt::RichText);

    m_clients->setName(tr("Clients"));
    m_polling->setName(tr("Polling"));
    m_bytesIn->setName(tr("In"));
    m_bytesOut->setName(tr("Out"));
    m_connectionsChart = makeChart(tr("Connections"), tr("clients"));
    m_trafficChart = makeChart(tr("Traffic"), tr("bytes/s"));
    for (QLineSeries *series : {m_clients, m_polling}) {
        m_connectionsChart.chart->addSeries(series);
        series->attachAxis(m_connectionsChart.time);
        series->attachAxis(m_connectionsChart.value);
    }
    for (QLineSeries *series : {m_bytesIn, m_bytesOut}) {
        m_trafficChart.chart->addSeries(series);
        series->attachAxis(m_trafficChart.time);
        series->attachAxis(m_trafficChart.value);
    }

    auto *charts = new QHBoxLayout;
    charts->addWidget(m_connectionsChart.view);
    charts->addWidget(m_trafficChart.view);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addLayout(figures);
    layout->addWidget(m_namespacesLabel);
    layout->addLayout(charts, 1);

    updateFigures();
    updateCharts();
}

QLabel *ServerCard::addFigure(QGridLayout *grid, int row, int column, const QString &caption)
{
    auto *value = new QLabel(this);
    value->setTextFormat(Qt::PlainText);
    QFont font = value->font();
    font.setPointSizeF(font.pointSizeF() * 1.5);
    value->setFont(font);
    auto *label = new QLabel(caption, this);
    label->setForegroundRole(QPalette::PlaceholderText);
    grid->addWidget(value, row * 2, column, Qt::AlignLeft | Qt::AlignBottom);
    grid->addWidget(label, row * 2 + 1, column, Qt::AlignLeft | Qt::AlignTop);
    return value;
}

ServerCard::Chart ServerCard::makeChart(const QString &title, const QString &unit)
{
    Chart c;
    c.chart = new QChart;
    c.chart->setTitle(title);
    c.chart->setAnimationOptions(QChart::NoAnimation);
    c.chart->legend()->setAlignment(Qt::AlignBottom);
    c.chart->setMargins(QMargins(4, 4, 4, 4));
    c.chart->layout()->setContentsMargins(0, 0, 0, 0);
    c.chart->setBackgroundRoundness(0);
    c.time = new QDateTimeAxis(c.chart);
    c.time->setFormat(QStringLiteral("HH:mm:ss"));
    c.time->setTickCount(5);
    c.value = new QValueAxis(c.chart);
    c.value->setLabelFormat(QStringLiteral("%.0f"));
    c.value->setTitleText(unit);
    c.value->setMin(0);
    c.chart->addAxis(c.time, Qt::AlignBottom);
    c.chart->addAxis(c.value, Qt::AlignLeft);
    c.view = new QChartView(c.chart, this);
    c.view->setRenderHint(QPainter::Antialiasing);
    c.view->setMinimumHeight(220);
    return c;
}

void ServerCard::updateFigures()
{
    const ServersModel::Server *server = m_model->server(m_serverId);
    if (!server)
        return;
    QString title = server->serverId.toHtmlEscaped();
    QStringList details;
    if (!server->hostname.isEmpty() && server->hostname != server->serverId)
        details.append(server->hostname.toHtmlEscaped());
    if (server->pid > 0)
        details.append(tr("pid %1").arg(server->pid));
    if (!details.isEmpty())
        title += QStringLiteral(" <span style=\"font-weight:normal\">(%1)</span>")
                     .arg(details.join(QStringLiteral(", ")));
    m_title->setText(title);

    const QDateTime now = QDateTime::currentDateTimeUtc();
    const bool healthy = server->lastSeen.isValid()
        && server->lastSeen.secsTo(now) <= ServersModel::unhealthyAfterSecs;
    m_health->setText(healthy
            ? QStringLiteral("<span style=\"color:#1e8e3e\">●</span> ") + tr("Healthy")
            : QStringLiteral("<span style=\"color:#d93025\">●</span> ")
                + tr("No news for %1 s").arg(server->lastSeen.secsTo(now)));
    m_health->setToolTip(
        tr("Last statistics: %1")
            .arg(QLocale().toString(server->lastSeen.toLocalTime(), QLocale::LongFormat)));

    m_clientsLabel->setText(QString::number(server->clients));
    m_pollingLabel->setText(QString::number(server->pollingClients));
    m_uptimeLabel->setText(uptimeText(server->uptime));
    QStringList namespaces;
    for (const auto &nsp : server->namespaces) {
        namespaces.append(
            QStringLiteral("<b>%1</b>&nbsp;(%2)").arg(nsp.first.toHtmlEscaped()).arg(nsp.second));
    }
    m_namespacesLabel->setText(tr("Namespaces (sockets):") + QStringLiteral("&nbsp;&nbsp;")
        + (namespaces.isEmpty() ? tr("none") : namespaces.join(QStringLiteral(" &nbsp;·&nbsp; "))));
}

void ServerCard::updateCharts()
{
    const ServersModel::Server *server = m_model->server(m_serverId);
    if (!server)
        return;
    QList<QPointF> clients, polling, in, out;
    double maxClients = 0, maxBytes = 0;
    QDateTime previous;
    for (const ServersModel::Sample &sample : server->history) {
        const double x = double(sample.time.toMSecsSinceEpoch());
        clients.append({x, double(sample.clients)});
        polling.append({x, double(sample.pollingClients)});
        maxClients = qMax(maxClients, double(sample.clients));
        // Samples are about 2 s apart but not exactly: a rate is comparable across gaps.
        const double secs
            = previous.isValid() ? qMax(0.5, previous.msecsTo(sample.time) / 1000.0) : 2.0;
        const double rateIn = sample.bytesIn / secs;
        const double rateOut = sample.bytesOut / secs;
        in.append({x, rateIn});
        out.append({x, rateOut});
        maxBytes = qMax(maxBytes, qMax(rateIn, rateOut));
        previous = sample.time;
    }
    m_clients->replace(clients);
    m_polling->replace(polling);
    m_bytesIn->replace(in);
    m_bytesOut->replace(out);

    QDateTime last
        = server->history.empty() ? QDateTime::currentDateTimeUtc() : server->history.back().time;
    QDateTime first = server->history.empty() ? last : server->history.front().time;
    // At least half a minute shown, so the first two samples do not fill the width.
    if (first.secsTo(last) < 30)
        first = last.addSecs(-30);
    for (const Chart *c : {&m_connectionsChart, &m_trafficChart})
        c->time->setRange(first.toLocalTime(), last.toLocalTime());
    m_connectionsChart.value->setRange(0, niceCeiling(maxClients));
    m_connectionsChart.value->applyNiceNumbers();
    m_trafficChart.value->setRange(0, niceCeiling(maxBytes));
    m_trafficChart.value->applyNiceNumbers();
}

} // namespace AdminApp
