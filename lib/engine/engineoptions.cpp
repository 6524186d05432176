#include "engineoptions.h"

#include <QtCore/qfile.h>
#include <QtNetwork/qsslkey.h>

namespace QSocketIo {

CorsAllowedOrigins CorsAllowedOrigins::any()
{
    CorsAllowedOrigins c;
    c.m_kind = Kind::Any;
    return c;
}

CorsAllowedOrigins CorsAllowedOrigins::list(const QStringList &origins)
{
    CorsAllowedOrigins c;
    if (origins.contains(QStringLiteral("*"))) {
        c.m_kind = Kind::Any;
    } else {
        c.m_kind = origins.isEmpty() ? Kind::Disabled : Kind::List;
        c.m_origins = origins;
    }
    return c;
}

CorsAllowedOrigins CorsAllowedOrigins::callback(std::function<bool(const QString &)> allow)
{
    CorsAllowedOrigins c;
    c.m_kind = Kind::Callback;
    c.m_callback = std::move(allow);
    return c;
}

CorsAllowedOrigins CorsAllowedOrigins::disabled()
{
    CorsAllowedOrigins c;
    c.m_kind = Kind::Disabled;
    return c;
}

bool CorsAllowedOrigins::allows(const QString &origin, const QString &sameOrigin) const
{
    switch (m_kind) {
    case Kind::Disabled:
    case Kind::Any:
        return true;
    case Kind::SameOrigin:
        return origin.compare(sameOrigin, Qt::CaseInsensitive) == 0;
    case Kind::List:
        return m_origins.contains(origin);
    case Kind::Callback:
        return m_callback && m_callback(origin);
    }
    return false;
}

QString EngineOptions::normalizedPath(const QString &path)
{
    QString p = path.trimmed();
    while (p.startsWith(QLatin1Char('/')))
        p.remove(0, 1);
    while (p.endsWith(QLatin1Char('/')))
        p.chop(1);
    return p.isEmpty() ? QStringLiteral("/") : QLatin1Char('/') + p + QLatin1Char('/');
}

std::optional<QSslConfiguration> EngineOptions::tlsFromPemFiles(
    const QString &certificateFile, const QString &privateKeyFile, QString *error)
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return std::nullopt;
    };
    QFile certFile(certificateFile);
    if (!certFile.open(QIODevice::ReadOnly))
        return fail(
            QStringLiteral("cannot read %1: %2").arg(certificateFile, certFile.errorString()));
    QFile keyFile(privateKeyFile);
    if (!keyFile.open(QIODevice::ReadOnly))
        return fail(
            QStringLiteral("cannot read %1: %2").arg(privateKeyFile, keyFile.errorString()));
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (chain.isEmpty())
        return fail(QStringLiteral("no PEM certificate in %1").arg(certificateFile));
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        return fail(
            QStringLiteral("no unencrypted RSA or EC PEM private key in %1").arg(privateKeyFile));
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setLocalCertificateChain(chain);
    ssl.setPrivateKey(key);
    ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    return ssl;
}

} // namespace QSocketIo
