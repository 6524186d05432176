#pragma once

#include <QtWidgets/qwidget.h>

class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;
class QTimer;

namespace AdminApp {

class AdminClient;
class TextFilterProxyModel;

// Events in and out of every monitored socket, live; pausing holds new entries back (and counts
// them) so a row can be read in peace.
class EventLogPage : public QWidget
{
    Q_OBJECT
public:
    explicit EventLogPage(AdminClient *client, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    TextFilterProxyModel *proxy() const { return m_proxy; }
    QLineEdit *filterEdit() const { return m_filter; }
    QPushButton *pauseButton() const { return m_pause; }
    QPushButton *clearButton() const { return m_clear; }
    QPlainTextEdit *argumentsPane() const { return m_args; }

private:
    void updatePauseButton();
    void updateArguments();

    AdminClient *m_client;
    TextFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLineEdit *m_filter;
    QPushButton *m_pause;
    QPushButton *m_clear;
    QPlainTextEdit *m_args;
    QTimer *m_pendingTimer;
    bool m_follow = true;
};

} // namespace AdminApp
