#pragma once

#include "adminclient.h"

#include <QtWidgets/qdialog.h>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace AdminApp {

// Where and as whom to connect. The password is kept only in this dialog and the settings it
// returns; a session id the server issued before is passed on unless the server (URL, path,
// admin namespace) or the login changed.
class ConnectDialog : public QDialog
{
    Q_OBJECT
public:
    explicit ConnectDialog(QWidget *parent = nullptr);

    void setSettings(const ConnectionSettings &settings);
    ConnectionSettings settings() const;
    void setError(const QString &message);

    QLineEdit *urlEdit() const { return m_url; }
    QLineEdit *pathEdit() const { return m_path; }
    QLineEdit *namespaceEdit() const { return m_nsp; }
    QLineEdit *userEdit() const { return m_user; }
    QLineEdit *passwordEdit() const { return m_password; }
    QCheckBox *websocketOnlyBox() const { return m_websocketOnly; }
    QCheckBox *ignoreTlsBox() const { return m_ignoreTls; }
    bool isInputValid() const;

private:
    void validate();

    QLineEdit *m_url;
    QLineEdit *m_path;
    QLineEdit *m_nsp;
    QLineEdit *m_user;
    QLineEdit *m_password;
    QCheckBox *m_websocketOnly;
    QCheckBox *m_ignoreTls;
    QLabel *m_message;
    QDialogButtonBox *m_buttons;
    ConnectionSettings m_initial;
};

} // namespace AdminApp
