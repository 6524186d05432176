#include "i18n.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qlibraryinfo.h>
#include <QtCore/qlocale.h>
#include <QtCore/qtranslator.h>

#include <memory>

namespace AdminApp {

namespace {

std::unique_ptr<QTranslator> &qtTranslator()
{
    static std::unique_ptr<QTranslator> translator;
    return translator;
}

std::unique_ptr<QTranslator> &appTranslator()
{
    static std::unique_ptr<QTranslator> translator;
    return translator;
}

} // namespace

void removeTranslations()
{
    for (auto *slot : {&qtTranslator(), &appTranslator()}) {
        if (*slot)
            QCoreApplication::removeTranslator(slot->get());
        slot->reset();
    }
}

bool installTranslations(const QString &language)
{
    removeTranslations();
    const QLocale locale = language.isEmpty() ? QLocale::system() : QLocale(language);
    if (locale.language() == QLocale::English || locale.language() == QLocale::C)
        return true;

    auto qt = std::make_unique<QTranslator>();
    if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
            QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        QCoreApplication::installTranslator(qt.get());
        qtTranslator() = std::move(qt);
    }

    // Embedded by qt_add_translations under /i18n.
    auto app = std::make_unique<QTranslator>();
    if (!app->load(locale, QStringLiteral("qsocketio-admin"), QStringLiteral("_"),
            QStringLiteral(":/i18n")))
        return false;
    QCoreApplication::installTranslator(app.get());
    appTranslator() = std::move(app);
    return true;
}

} // namespace AdminApp
