#include "eventlogpage.h"
#include "viewutil.h"

#include "adminclient.h"
#include "adminmodels.h"
#include "icons.h"

#include <QtCore/qtimer.h>
#include <QtGui/qfontdatabase.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qheaderview.h>
#include <QtWidgets/qlineedit.h>
#include <QtWidgets/qplaintextedit.h>
#include <QtWidgets/qpushbutton.h>
#include <QtWidgets/qscrollbar.h>
#include <QtWidgets/qsplitter.h>
#include <QtWidgets/qtableview.h>

namespace AdminApp {

EventLogPage::EventLogPage(AdminClient *client, QWidget *parent)
    : QWidget(parent)
    , m_client(client)
    , m_proxy(new TextFilterProxyModel(this))
    , m_view(new QTableView(this))
    , m_filter(new QLineEdit(this))
    , m_pause(new QPushButton(this))
    , m_clear(new QPushButton(icon(QStringLiteral("clear")), tr("C&lear"), this))
    , m_args(new QPlainTextEdit(this))
    , m_pendingTimer(new QTimer(this))
{
    EventLogModel *log = client->eventLog();
    m_proxy->setSourceModel(log);

    m_view->setObjectName(QStringLiteral("eventLogView"));
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->horizontalHeader()->setStretchLastSection(true);
    fitColumns(m_view,
        {{EventLogModel::Time, QStringLiteral("2026-12-31 23:59:59.999")},
            {EventLogModel::Dir, QStringLiteral("received")},
            {EventLogModel::Namespace, QStringLiteral("/custom")},
            {EventLogModel::SocketId, QStringLiteral("n9NfLsyco22JT2ybNzIAW")},
            {EventLogModel::Event, QStringLiteral("message-back")}});

    m_filter->setPlaceholderText(tr("Filter events (name, socket, arguments…)"));
    m_filter->setClearButtonEnabled(true);
    m_pause->setCheckable(true);
    m_args->setReadOnly(true);
    m_args->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_args->setPlaceholderText(tr("Select an event to see its arguments."));

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_pause);
    bar->addWidget(m_clear);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_args);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(splitter, 1);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &TextFilterProxyModel::setFilterText);
    connect(m_pause, &QPushButton::toggled, log, &EventLogModel::setPaused);
    connect(log, &EventLogModel::pausedChanged, this, &EventLogPage::updatePauseButton);
    connect(m_clear, &QPushButton::clicked, log, &EventLogModel::clear);
    // The model has no signal for entries held back, so the count is polled while paused.
    m_pendingTimer->setInterval(500);
    connect(m_pendingTimer, &QTimer::timeout, this, &EventLogPage::updatePauseButton);

    // Follow new entries only while the view sits at its bottom: reading older ones is not
    // interrupted.
    connect(m_proxy, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
        const QScrollBar *bar = m_view->verticalScrollBar();
        m_follow = bar->value() >= bar->maximum() - 2;
    });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_follow)
            QTimer::singleShot(0, m_view, &QTableView::scrollToBottom);
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        &EventLogPage::updateArguments);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &EventLogPage::updateArguments);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &EventLogPage::updateArguments);
    updatePauseButton();
}

void EventLogPage::updatePauseButton()
{
    EventLogModel *log = m_client->eventLog();
    const bool paused = log->isPaused();
    {
        const QSignalBlocker blocker(m_pause);
        m_pause->setChecked(paused);
    }
    if (paused) {
        m_pause->setIcon(icon(QStringLiteral("resume")));
        m_pause->setText(tr("&Resume (%1 pending)").arg(log->pendingCount()));
        m_pendingTimer->start();
    } else {
        m_pause->setIcon(icon(QStringLiteral("pause")));
        m_pause->setText(tr("&Pause"));
        m_pendingTimer->stop();
    }
}

void EventLogPage::updateArguments()
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    if (!current.isValid()) {
        m_args->clear();
        return;
    }
    const QModelIndex args = current.siblingAtColumn(EventLogModel::Arguments);
    m_args->setPlainText(args.data(PrettyJsonRole).toString());
}

} // namespace AdminApp
