#include "broadcastdialog.h"

#include "adminclient.h"
#include "adminmodels.h"
#include "icons.h"
#include "jsontext.h"

#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qlocale.h>
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

#include <QSocketIo/socketclient.h>

#include <set>

namespace AdminApp {

namespace {

// The file is read whole into memory, on the UI thread: bounded even when the server's limit is
// not known (yet).
constexpr qint64 kUnknownLimitMaxSize = 100 * 1024 * 1024;
// Room for the rest of the event's packet (namespace, target, event name, JSON arguments, the
// placeholder of the attachment) besides its own text.
constexpr qint64 kPacketMargin = 1024;

} // namespace

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
    , m_fileSize(new QLabel(this))
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
    // Errors quote the JSON typed and the file's name: shown as they are, never as markup.
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_file->setReadOnly(true);
    m_file->setPlaceholderText(tr("no file"));

    auto *browse = new QPushButton(tr("&Browse…"), this);
    connect(browse, &QPushButton::clicked, this, &BroadcastDialog::chooseFile);
    connect(m_clearFile, &QPushButton::clicked, this, [this] { setAttachment({}); });
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    m_fileSize->setTextFormat(Qt::PlainText);
    fileRow->addWidget(m_fileSize);
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
    // The server's message size limit arrives with the connection.
    connect(m_client, &AdminClient::stateChanged, this, &BroadcastDialog::validate);

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
    const QFileInfo info(fileName);
    if (fileName.isEmpty()) {
        m_file->setToolTip(QString());
        m_fileSize->clear();
    } else {
        m_file->setToolTip(tr("Sent as one more argument, binary (%1 bytes)").arg(info.size()));
        m_fileSize->setText(info.isFile() ? QLocale().formattedDataSize(info.size()) : QString());
    }
    validate();
}

QString BroadcastDialog::attachmentInfo() const
{
    return m_fileSize->text();
}

qint64 BroadcastDialog::maxAttachmentSize() const
{
    const qint64 maxPayload = m_client->maxPayload();
    if (maxPayload <= 0)
        return kUnknownLimitMaxSize;
    // A larger message is not refused politely: the server drops it and closes the connection.
    const qint64 packet = kPacketMargin + m_args->toPlainText().toUtf8().size()
        + eventName().toUtf8().size() + nsp().toUtf8().size() + filter().toUtf8().size();
    qint64 room = maxPayload - packet;
    // Long-polling carries binary as "b" + base64: 4 characters per 3 bytes.
    const QSocketIo::SocketClient *socket = m_client->socketClient();
    if (socket && socket->transport() == u"polling")
        room = (room - 1) / 4 * 3;
    return qMax<qint64>(0, room);
}

QString BroadcastDialog::attachmentError() const
{
    const QString fileName = attachment();
    if (fileName.isEmpty())
        return {};
    const QFileInfo info(fileName);
    if (!info.exists())
        return tr("The file %1 does not exist.").arg(fileName);
    // Devices, FIFOs and directories have no size to check, and some never end (/dev/zero).
    if (!info.isFile())
        return tr("%1 is not a regular file.").arg(fileName);
    const qint64 max = maxAttachmentSize();
    if (info.size() > max) {
        return tr("The file is too big (%1): the server takes at most %2 in one message.")
            .arg(QLocale().formattedDataSize(info.size()), QLocale().formattedDataSize(max));
    }
    return {};
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
    const QString fileError = attachmentError();
    if (!parsed.ok)
        error = parsed.error;
    else if (!fileError.isEmpty())
        error = fileError;
    else if (eventName().isEmpty())
        error = tr("Enter an event name.");
    else if (target() != Target::All && filter().isEmpty())
        error = target() == Target::Room ? tr("Enter a room.") : tr("Enter a socket id.");
    // An empty event name is the normal state of a fresh dialog, not worth a red line.
    const bool shown = !parsed.ok || !fileError.isEmpty();
    m_error->setText(shown ? error : QString());
    m_error->setVisible(shown);
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
        // Checked again before reading: the file may have changed since it was chosen.
        const QString fileError = attachmentError();
        if (!fileError.isEmpty()) {
            validate();
            return;
        }
        QFile file(attachment());
        if (!file.open(QIODevice::ReadOnly)) {
            m_error->setText(tr("Cannot read %1: %2").arg(attachment(), file.errorString()));
            m_error->setVisible(true);
            return;
        }
        // No more than was checked, should the file grow meanwhile.
        const qint64 size = file.size();
        if (size > maxAttachmentSize()) {
            validate();
            return;
        }
        args.append(file.read(size));
    }
    if (!m_client->emitEvent(nsp(), filter(), eventName(), args)) {
        m_error->setText(tr("Not sent: the connection is down or the server is read-only."));
        m_error->setVisible(true);
        return;
    }
    QDialog::accept();
}

} // namespace AdminApp
