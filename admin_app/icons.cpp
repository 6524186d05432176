#include "icons.h"

#include <QtCore/qhash.h>
#include <QtGui/qimagereader.h>

namespace AdminApp {

QIcon icon(const QString &name)
{
    static const bool svg = QImageReader::supportedImageFormats().contains("svg");
    static QHash<QString, QIcon> cache;
    auto it = cache.find(name);
    if (it != cache.end())
        return *it;
    QIcon result;
    if (svg) {
        result.addFile(QStringLiteral(":/icons/%1.svg").arg(name));
    } else {
        result.addFile(QStringLiteral(":/icons/%1.png").arg(name), QSize(16, 16));
        result.addFile(QStringLiteral(":/icons/%1@2x.png").arg(name), QSize(32, 32));
        result.addFile(QStringLiteral(":/icons/%1@4x.png").arg(name), QSize(64, 64));
    }
    cache.insert(name, result);
    return result;
}

} // namespace AdminApp
