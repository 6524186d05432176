#pragma once

#include <QtGui/qicon.h>

namespace AdminApp {

// An icon of resources/icons by base name ("connect", "emit"...): the SVG drawing when Qt can
// render SVG here, else its PNG renders (Qt's SVG plugin is optional on Debian).
QIcon icon(const QString &name);

} // namespace AdminApp
