#include "jsontext.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>

namespace AdminApp {

namespace {

QVariant withoutBinary(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QByteArray:
        return QStringLiteral("<binary %1 bytes>").arg(value.toByteArray().size());
    case QMetaType::QVariantList: {
        QVariantList out;
        for (const QVariant &v : value.toList())
            out.append(withoutBinary(v));
        return out;
    }
    case QMetaType::QVariantMap: {
        QVariantMap out;
        const QVariantMap map = value.toMap();
        for (auto it = map.cbegin(); it != map.cend(); ++it)
            out.insert(it.key(), withoutBinary(it.value()));
        return out;
    }
    case QMetaType::QVariantHash: {
        QVariantMap out;
        const QVariantHash hash = value.toHash();
        for (auto it = hash.cbegin(); it != hash.cend(); ++it)
            out.insert(it.key(), withoutBinary(it.value()));
        return out;
    }
    case QMetaType::QStringList: {
        QVariantList out;
        for (const QString &s : value.toStringList())
            out.append(s);
        return out;
    }
    case QMetaType::QDateTime:
        return value.toDateTime().toString(Qt::ISODateWithMs);
    default:
        return value;
    }
}

} // namespace

QString prettyJson(const QVariant &value)
{
    const QJsonValue json = QJsonValue::fromVariant(withoutBinary(value));
    if (json.isObject())
        return QString::fromUtf8(QJsonDocument(json.toObject()).toJson(QJsonDocument::Indented))
            .trimmed();
    if (json.isArray())
        return QString::fromUtf8(QJsonDocument(json.toArray()).toJson(QJsonDocument::Indented))
            .trimmed();
    // A document holds only objects and arrays: a scalar goes through a one-element array.
    const QByteArray compact = QJsonDocument(QJsonArray {json}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(compact.mid(1, compact.size() - 2));
}

ParsedArguments parseArguments(const QString &text)
{
    ParsedArguments result;
    if (text.trimmed().isEmpty()) {
        result.ok = true;
        return result;
    }
    // Wrapping in brackets lets the parser take any single value, scalars included, and keeps
    // its error offsets one byte off from the user's text.
    const QByteArray utf8 = text.toUtf8();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + utf8 + "\n]", &error);
    if (error.error != QJsonParseError::NoError) {
        const int byteOffset = qBound(0, error.offset - 1, int(utf8.size()));
        const QString before = QString::fromUtf8(utf8.left(byteOffset));
        result.offset = int(before.size());
        const int line = int(before.count(u'\n')) + 1;
        const int column = int(before.size() - before.lastIndexOf(u'\n'));
        result.error = QCoreApplication::translate(
            "AdminApp::BroadcastDialog", "Invalid JSON at line %1, column %2 (offset %3): %4")
                           .arg(line)
                           .arg(column)
                           .arg(result.offset)
                           .arg(error.errorString());
        return result;
    }
    const QJsonArray wrapper = doc.array();
    if (wrapper.size() != 1) {
        result.error = QCoreApplication::translate("AdminApp::BroadcastDialog",
            "Several values: write the arguments as one JSON array, [first, second]");
        return result;
    }
    const QJsonValue value = wrapper.first();
    result.ok = true;
    result.args
        = value.isArray() ? value.toArray().toVariantList() : QVariantList {value.toVariant()};
    return result;
}

} // namespace AdminApp
