#include "connectdialog.h"

#include "icons.h"

#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qcheckbox.h>
#include <QtWidgets/qdialogbuttonbox.h>
#include <QtWidgets/qformlayout.h>
#include <QtWidgets/qlabel.h>
#include <QtWidgets/qlineedit.h>
#include <QtWidgets/qpushbutton.h>

namespace AdminApp {

ConnectDialog::ConnectDialog(QWidget *parent)
    : QDialog(parent)
    , m_url(new QLineEdit(this))
    , m_path(new QLineEdit(this))
    , m_nsp(new QLineEdit(this))
    , m_user(new QLineEdit(this))
    , m_password(new QLineEdit(this))
    , m_websocketOnly(new QCheckBox(tr("&WebSocket only (no long-polling)"), this))
    , m_ignoreTls(new QCheckBox(tr("&Ignore TLS certificate errors"), this))
    , m_message(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Connect to a Socket.IO Server"));
    setWindowIcon(icon(QStringLiteral("connect")));

    m_url->setPlaceholderText(QStringLiteral("http://localhost:3000"));
    m_url->setMinimumWidth(320);
    m_path->setPlaceholderText(QStringLiteral("/socket.io/"));
    m_nsp->setPlaceholderText(QStringLiteral("/admin"));
    m_user->setPlaceholderText(tr("optional"));
    m_password->setEchoMode(QLineEdit::Password);
    m_ignoreTls->setToolTip(tr("Accept self-signed certificates. For development servers only."));

    auto *form = new QFormLayout;
    form->addRow(tr("Server &URL:"), m_url);
    form->addRow(tr("&Path:"), m_path);
    form->addRow(tr("Admin &namespace:"), m_nsp);
    form->addRow(tr("User&name:"), m_user);
    form->addRow(tr("Pass&word:"), m_password);
    form->addRow(QString(), m_websocketOnly);
    form->addRow(QString(), m_ignoreTls);

    m_message->setObjectName(QStringLiteral("connectError"));
    // The server's error message, as it is: markup in it is not rendered (rich text would load
    // images, even from local paths such as /dev/zero).
    m_message->setTextFormat(Qt::PlainText);
    m_message->setWordWrap(true);
    m_message->setVisible(false);
    m_message->setStyleSheet(QStringLiteral("color: #b00020;"));

    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Connect"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_message);
    layout->addStretch();
    layout->addWidget(m_buttons);

    for (QLineEdit *edit : {m_url, m_path, m_nsp})
        connect(edit, &QLineEdit::textChanged, this, &ConnectDialog::validate);
    validate();
}

void ConnectDialog::setSettings(const ConnectionSettings &settings)
{
    m_initial = settings;
    m_url->setText(settings.url.toString());
    m_path->setText(settings.path);
    m_nsp->setText(settings.nsp);
    m_user->setText(settings.username);
    m_password->setText(settings.password);
    m_websocketOnly->setChecked(settings.websocketOnly);
    m_ignoreTls->setChecked(settings.ignoreTlsErrors);
    validate();
}

ConnectionSettings ConnectDialog::settings() const
{
    ConnectionSettings s = m_initial;
    s.url = QUrl::fromUserInput(m_url->text().trimmed());
    // The Engine.IO handshake starts over HTTP even for WebSocket only.
    if (s.url.scheme() == u"ws")
        s.url.setScheme(QStringLiteral("http"));
    else if (s.url.scheme() == u"wss")
        s.url.setScheme(QStringLiteral("https"));
    s.path = m_path->text().trimmed().isEmpty() ? QStringLiteral("/socket.io/")
                                                : m_path->text().trimmed();
    s.nsp = m_nsp->text().trimmed().isEmpty() ? QStringLiteral("/admin") : m_nsp->text().trimmed();
    if (!s.nsp.startsWith(u'/'))
        s.nsp.prepend(u'/');
    s.username = m_user->text().trimmed();
    s.password = m_password->text();
    s.websocketOnly = m_websocketOnly->isChecked();
    s.ignoreTlsErrors = m_ignoreTls->isChecked();
    // A session belongs to one server endpoint (URL, path and admin namespace) and one login: it
    // is dropped when any of them changed, and a typed password asks for a new one. Compared
    // exactly, as ConnectionSettings does: unchanged fields come back as they were given.
    if (s.url != m_initial.url || s.path != m_initial.path || s.nsp != m_initial.nsp
        || s.username != m_initial.username || !s.password.isEmpty())
        s.clearSession();
    return s;
}

void ConnectDialog::setError(const QString &message)
{
    m_message->setText(message);
    m_message->setVisible(!message.isEmpty());
}

bool ConnectDialog::isInputValid() const
{
    const QUrl url = QUrl::fromUserInput(m_url->text().trimmed());
    const QString scheme = url.scheme();
    return url.isValid() && !url.host().isEmpty()
        && (scheme == u"http" || scheme == u"https" || scheme == u"ws" || scheme == u"wss");
}

void ConnectDialog::validate()
{
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(isInputValid());
}

} // namespace AdminApp
