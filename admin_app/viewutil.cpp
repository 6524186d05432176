#include "viewutil.h"

#include <QtWidgets/qtableview.h>

namespace AdminApp {

void fitColumns(QTableView *view, std::initializer_list<std::pair<int, QString>> samples)
{
    const QFontMetrics fm = view->fontMetrics();
    for (const auto &[column, sample] : samples) {
        const QString header
            = view->model()->headerData(column, Qt::Horizontal, Qt::DisplayRole).toString();
        view->setColumnWidth(
            column, qMax(fm.horizontalAdvance(sample), fm.horizontalAdvance(header) + 16) + 16);
    }
}

} // namespace AdminApp
