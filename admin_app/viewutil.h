#pragma once

#include <QtCore/qstring.h>

#include <initializer_list>
#include <utility>

class QTableView;

namespace AdminApp {

// Column widths from a typical value per column (and the header text): ResizeToContents would
// measure every row of a table that may hold thousands.
void fitColumns(QTableView *view, std::initializer_list<std::pair<int, QString>> samples);

} // namespace AdminApp
