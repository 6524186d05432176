#include "broadcastdialog.h"

#include "adminclient.h"
#include "adminmodels.h"
#include "icons.h"
#include "jsontext.h"

#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtGui/qfontdatabase.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qcombobox.h>
#include <QtWidgets/qdialogbuttonbox.h>
#include <QtWidgets/qfiledialog.h>
#include <QtWidgets/qformlayout.h>
#include <QtWidgets/qlabel.h>
#include <QtWidgets/qlineedit.h>
#include <QtWidgets/qplaintextedit.h>
#include <QtWidgets/qpushbutton.h>

#include <set>

namespace AdminApp {

BroadcastDialog::BroadcastDialog(AdminClient *client, QWidget *parent)
    : QDialog(parent)
    , m_client(client)
    , m_nsp(new QComboBox(this))
    , m_targetKind(new QComboBox(this))
    , m_targetValue(new QComboBox(this))
    , m_event(new QLineEdit(this))
    , m_args(new QPlainTextEdit(this))
    , m_error(new QLabel(this))
    , m_file(new QLineEdit(this))
    , m_clearFile(new QPushButton(tr("C&lear"), this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Emit an Event"));
    setWindowIcon(icon(QStringLiteral("emit")));

    m_nsp->setEditable(true);
    m_nsp->setInsertPolicy(QComboBox::NoInsert);
    m_targetKind->addItem(tr("All sockets of the namespace"), int(Target::All));
    m_targetKind->addItem(tr("Sockets in a room"), int(Target::Room));
    m_targetKind->addItem(tr("One socket"), int(Target::Socket));
    m_targetValue->setEditable(true);
    m_targetValue->setInsertPolicy(QComboBox::NoInsert);
    m_targetValue->setMinimumContentsLength(24);
    m_event->setPlaceholderText(tr("event name"));
    m_args->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_args->setPlaceholderText(tr("[\"hello\", {\"count\": 1}]  or one value, e.g. {\"a\": 1}"));
    m_args->setTabChangesFocus(true);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_file->setReadOnly(true);
    m_file->setPlaceholderText(tr("no file"));

    auto *browse = new QPushButton(tr("&Browse…"), this);
    connect(browse, &QPushButton::clicked, this, &BroadcastDialog::chooseFile);
    connect(m_clearFile, &QPushButton::clicked, this, [this] { setAttachment({}); });
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(browse);
    fileRow->addWidget(m_clearFile);

    auto *targetRow = new QHBoxLayout;
    targetRow->addWidget(m_targetKind);
    targetRow->addWidget(m_targetValue, 1);

    auto *form = new QFormLayout;
    form->addRow(tr("&Namespace:"), m_nsp);
    // Rows holding a layout get no buddy from QFormLayout: their labels are made here.
    auto *toLabel = new QLabel(tr("&To:"), this);
    toLabel->setBuddy(m_targetKind);
    form->addRow(toLabel, targetRow);
    form->addRow(tr("&Event:"), m_event);
    form->addRow(tr("&Arguments (JSON):"), m_args);
    form->addRow(QString(), m_error);
    auto *fileLabel = new QLabel(tr("Binary &file:"), this);
    fileLabel->setBuddy(browse);
    form->addRow(fileLabel, fileRow);

    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Send"));
    m_buttons->button(QDialogButtonBox::Ok)->setIcon(icon(QStringLiteral("emit")));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &BroadcastDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form, 1);
    layout->addWidget(m_buttons);
    resize(560, 420);

    connect(m_nsp, &QComboBox::currentTextChanged, this, [this] {
        fillTargets();
        validate();
    });
    connect(m_targetKind, &QComboBox::currentIndexChanged, this, [this] {
        fillTargets();
        validate();
    });
    connect(m_targetValue, &QComboBox::currentTextChanged, this, &BroadcastDialog::validate);
    connect(m_event, &QLineEdit::textChanged, this, &BroadcastDialog::validate);
    connect(m_args, &QPlainTextEdit::textChanged, this, &BroadcastDialog::validate);

    fillNamespaces();
    fillTargets();
    setAttachment({});
    validate();
}

void BroadcastDialog::fillNamespaces()
{
    // Every namespace the servers report, admin included: an event to it is legitimate.
    std::set<QString> names {QStringLiteral("/")};
    for (const ServersModel::Server &server : m_client->servers()->serverList()) {
        for (const auto &nsp : server.namespaces)
            names.insert(nsp.first);
    }
    for (const SocketsModel::SocketInfo &socket : m_client->sockets()->socketList())
        names.insert(socket.nsp);
    const QString current = m_nsp->currentText();
    m_nsp->clear();
    for (const QString &name : names)
        m_nsp->addItem(name);
    m_nsp->setCurrentText(current.isEmpty() ? QStringLiteral("/") : current);
}

void BroadcastDialog::fillTargets()
{
    const QString current = m_targetValue->currentText();
    m_targetValue->clear();
    const Target kind = target();
    m_targetValue->setEnabled(kind != Target::All);
    std::set<QString> values;
    for (const SocketsModel::SocketInfo &socket : m_client->sockets()->socketList()) {
        if (socket.nsp != nsp())
            continue;
        if (kind == Target::Socket) {
            values.insert(socket.id);
        } else if (kind == Target::Room) {
            for (const QString &room : socket.rooms)
                values.insert(room);
        }
    }
    for (const QString &value : values)
        m_targetValue->addItem(value);
    m_targetValue->setCurrentText(kind == Target::All ? QString() : current);
}

void BroadcastDialog::setNamespace(const QString &nsp)
{
    m_nsp->setCurrentText(nsp);
}

QString BroadcastDialog::nsp() const
{
    const QString name = m_nsp->currentText().trimmed();
    return name.startsWith(u'/') ? name : u'/' + name;
}

void BroadcastDialog::setTarget(Target target, const QString &value)
{
    m_targetKind->setCurrentIndex(m_targetKind->findData(int(target)));
    m_targetValue->setCurrentText(value);
}

BroadcastDialog::Target BroadcastDialog::target() const
{
    return Target(m_targetKind->currentData().toInt());
}

QString BroadcastDialog::filter() const
{
    return target() == Target::All ? QString() : m_targetValue->currentText().trimmed();
}

void BroadcastDialog::setEventName(const QString &event)
{
    m_event->setText(event);
}

QString BroadcastDialog::eventName() const
{
    return m_event->text().trimmed();
}

void BroadcastDialog::setArgumentsText(const QString &json)
{
    m_args->setPlainText(json);
}

void BroadcastDialog::setAttachment(const QString &fileName)
{
    m_file->setText(fileName);
    m_clearFile->setEnabled(!fileName.isEmpty());
    if (fileName.isEmpty()) {
        m_file->setToolTip(QString());
    } else {
        m_file->setToolTip(
            tr("Sent as one more argument, binary (%1 bytes)").arg(QFileInfo(fileName).size()));
    }
    validate();
}

QString BroadcastDialog::attachment() const
{
    return m_file->text();
}

QString BroadcastDialog::errorText() const
{
    return m_error->text();
}

QPushButton *BroadcastDialog::sendButton() const
{
    return m_buttons->button(QDialogButtonBox::Ok);
}

bool BroadcastDialog::isInputValid() const
{
    return sendButton()->isEnabled();
}

void BroadcastDialog::validate()
{
    QString error;
    const ParsedArguments parsed = parseArguments(m_args->toPlainText());
    if (!parsed.ok)
        error = parsed.error;
    else if (eventName().isEmpty())
        error = tr("Enter an event name.");
    else if (target() != Target::All && filter().isEmpty())
        error = target() == Target::Room ? tr("Enter a room.") : tr("Enter a socket id.");
    // An empty event name is the normal state of a fresh dialog, not worth a red line.
    m_error->setText(parsed.ok ? QString() : error);
    m_error->setVisible(!parsed.ok);
    sendButton()->setEnabled(error.isEmpty());
}

void BroadcastDialog::chooseFile()
{
    const QString fileName = QFileDialog::getOpenFileName(this, tr("Attach a File"));
    if (!fileName.isEmpty())
        setAttachment(fileName);
}

void BroadcastDialog::accept()
{
    const ParsedArguments parsed = parseArguments(m_args->toPlainText());
    if (!parsed.ok || !isInputValid())
        return;
    QVariantList args = parsed.args;
    if (!attachment().isEmpty()) {
        QFile file(attachment());
        if (!file.open(QIODevice::ReadOnly)) {
            m_error->setText(tr("Cannot read %1: %2").arg(attachment(), file.errorString()));
            m_error->setVisible(true);
            return;
        }
        args.append(file.readAll());
    }
    if (!m_client->emitEvent(nsp(), filter(), eventName(), args)) {
        m_error->setText(tr("Not sent: the connection is down or the server is read-only."));
        m_error->setVisible(true);
        return;
    }
    QDialog::accept();
}

} // namespace AdminApp
