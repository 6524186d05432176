#pragma once

#include <QtWidgets/qdialog.h>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace AdminApp {

class AdminClient;

// "Emit…": one event to every socket of a namespace, a room, or one socket, with JSON arguments
// and optionally a file as one more, binary, argument. Send stays disabled while the JSON does
// not parse, and while the file is not a regular file or too big for the server's messages.
class BroadcastDialog : public QDialog
{
    Q_OBJECT
public:
    enum class Target { All, Room, Socket };
    Q_ENUM(Target)

    explicit BroadcastDialog(AdminClient *client, QWidget *parent = nullptr);

    void setNamespace(const QString &nsp);
    QString nsp() const;
    void setTarget(Target target, const QString &value = {});
    Target target() const;
    QString filter() const; // the room or socket id; empty for all
    void setEventName(const QString &event);
    QString eventName() const;
    void setArgumentsText(const QString &json);
    void setAttachment(const QString &fileName); // empty: none
    QString attachment() const;
    // The attached file's size as shown; empty without one.
    QString attachmentInfo() const;
    // The largest file the server takes with this event in one message: its maxPayload less the
    // rest of the packet (and base64 over long-polling), or 100 MB when the limit is unknown.
    qint64 maxAttachmentSize() const;

    bool isInputValid() const;
    QString errorText() const;
    QPushButton *sendButton() const;

public Q_SLOTS:
    // Sends and closes; stays open with the reason when the event could not be sent.
    void accept() override;

private:
    void fillNamespaces();
    void fillTargets();
    void validate();
    void chooseFile();
    QString attachmentError() const;

    AdminClient *m_client;
    QComboBox *m_nsp;
    QComboBox *m_targetKind;
    QComboBox *m_targetValue;
    QLineEdit *m_event;
    QPlainTextEdit *m_args;
    QLabel *m_error;
    QLineEdit *m_file;
    QLabel *m_fileSize;
    QPushButton *m_clearFile;
    QDialogButtonBox *m_buttons;
};

} // namespace AdminApp
