#pragma once

#include <QtCore/qstring.h>

namespace AdminApp {

// Installs Qt's own translations and the app's for `language` ("de", "fr", "en"...; empty means
// the system locale), replacing any installed before. Returns false when the app has no
// translation for a language other than English.
bool installTranslations(const QString &language = {});
// Back to the English source strings.
void removeTranslations();

} // namespace AdminApp
