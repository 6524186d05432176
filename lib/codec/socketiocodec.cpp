#include "socketiocodec.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qurl.h>

#include <cmath>

namespace QSocketIo::SocketIo {

using namespace Qt::StringLiterals;

// Writes UTF-8 straight from UTF-16 rather than through toUtf8(), which turns a lone surrogate
// (valid in a JSON string as "\ud800") into '?'; lone surrogates are escaped, as JSON.stringify
// does, so they survive a round trip.
static void appendEscaped(QByteArray &out, QStringView s)
{
    static const char hex[] = "0123456789abcdef";
    const auto appendUnicodeEscape = [&out](char16_t u) {
        out.append("\\u");
        out.append(hex[(u >> 12) & 0xf]);
        out.append(hex[(u >> 8) & 0xf]);
        out.append(hex[(u >> 4) & 0xf]);
        out.append(hex[u & 0xf]);
    };
    out.reserve(out.size() + s.size() + 2);
    out.append('"');
    const qsizetype size = s.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char16_t c = s[i].unicode();
        if (c < 0x80) {
            switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\f':
                out.append("\\f");
                break;
            default:
                if (c < 0x20)
                    appendUnicodeEscape(c);
                else
                    out.append(char(c));
            }
        } else if (c < 0x800) {
            out.append(char(0xc0 | (c >> 6)));
            out.append(char(0x80 | (c & 0x3f)));
        } else if (QChar::isHighSurrogate(c) && i + 1 < size
            && QChar::isLowSurrogate(s[i + 1].unicode())) {
            const char32_t u = QChar::surrogateToUcs4(c, s[++i].unicode());
            out.append(char(0xf0 | (u >> 18)));
            out.append(char(0x80 | ((u >> 12) & 0x3f)));
            out.append(char(0x80 | ((u >> 6) & 0x3f)));
            out.append(char(0x80 | (u & 0x3f)));
        } else if (QChar::isSurrogate(c)) {
            appendUnicodeEscape(c);
        } else {
            out.append(char(0xe0 | (c >> 12)));
            out.append(char(0x80 | ((c >> 6) & 0x3f)));
            out.append(char(0x80 | (c & 0x3f)));
        }
    }
    out.append('"');
}

static void appendDouble(QByteArray &out, double d)
{
    if (!std::isfinite(d)) {
        out.append("null"); // as JSON.stringify does
        return;
    }
    if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) {
        out.append(QByteArray::number(qint64(d)));
        return;
    }
    out.append(QByteArray::number(d, 'g', QLocale::FloatingPointShortest));
}

static void appendJsonValue(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Object:
        out.append(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
        break;
    case QJsonValue::Array:
        out.append(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
        break;
    case QJsonValue::String:
        appendEscaped(out, value.toString());
        break;
    case QJsonValue::Double:
        // A QJsonValue may hold an integer beyond 2^53, which toDouble() would round.
        if (const QVariant number = value.toVariant(); number.typeId() == QMetaType::LongLong)
            out.append(QByteArray::number(number.toLongLong()));
        else
            appendDouble(out, value.toDouble());
        break;
    case QJsonValue::Bool:
        out.append(value.toBool() ? "true" : "false");
        break;
    default:
        out.append("null");
    }
}

template <typename Map>
static void appendObject(QByteArray &out, const Map &map, QList<QByteArray> *attachments)
{
    out.append('{');
    for (auto it = map.cbegin(); it != map.cend(); ++it) {
        if (it != map.cbegin())
            out.append(',');
        appendEscaped(out, it.key());
        out.append(':');
        appendJson(out, it.value(), attachments);
    }
    out.append('}');
}

void appendJson(QByteArray &out, const QVariant &value, QList<QByteArray> *attachments)
{
    switch (value.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr:
        out.append("null");
        return;
    case QMetaType::Bool:
        out.append(value.toBool() ? "true" : "false");
        return;
    case QMetaType::Int:
    case QMetaType::Short:
    case QMetaType::Long:
    case QMetaType::LongLong:
    case QMetaType::SChar:
        out.append(QByteArray::number(value.toLongLong()));
        return;
    case QMetaType::UInt:
    case QMetaType::UShort:
    case QMetaType::ULong:
    case QMetaType::ULongLong:
    case QMetaType::UChar:
        out.append(QByteArray::number(value.toULongLong()));
        return;
    case QMetaType::Double:
    case QMetaType::Float:
        appendDouble(out, value.toDouble());
        return;
    case QMetaType::QString:
        appendEscaped(out, *static_cast<const QString *>(value.constData()));
        return;
    case QMetaType::QByteArray:
        if (!attachments) {
            out.append("null");
            return;
        }
        out.append(R"({"_placeholder":true,"num":)");
        out.append(QByteArray::number(attachments->size()));
        out.append('}');
        attachments->append(*static_cast<const QByteArray *>(value.constData()));
        return;
    case QMetaType::QVariantList: {
        const auto &list = *static_cast<const QVariantList *>(value.constData());
        out.append('[');
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (i)
                out.append(',');
            appendJson(out, list.at(i), attachments);
        }
        out.append(']');
        return;
    }
    case QMetaType::QStringList: {
        const auto &list = *static_cast<const QStringList *>(value.constData());
        out.append('[');
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (i)
                out.append(',');
            appendEscaped(out, list.at(i));
        }
        out.append(']');
        return;
    }
    case QMetaType::QVariantMap:
        appendObject(out, *static_cast<const QVariantMap *>(value.constData()), attachments);
        return;
    case QMetaType::QVariantHash:
        appendObject(out, *static_cast<const QVariantHash *>(value.constData()), attachments);
        return;
    case QMetaType::QJsonValue:
        appendJsonValue(out, value.toJsonValue());
        return;
    case QMetaType::QJsonObject:
        appendJsonValue(out, QJsonValue(value.toJsonObject()));
        return;
    case QMetaType::QJsonArray:
        appendJsonValue(out, QJsonValue(value.toJsonArray()));
        return;
    case QMetaType::QJsonDocument: {
        const QJsonDocument doc = value.toJsonDocument();
        if (doc.isNull())
            out.append("null");
        else
            out.append(doc.toJson(QJsonDocument::Compact));
        return;
    }
    case QMetaType::QDateTime: {
        // What JSON.stringify makes of a Date, an invalid one included.
        const QDateTime dateTime = value.toDateTime();
        if (dateTime.isValid())
            appendEscaped(out, dateTime.toUTC().toString(Qt::ISODateWithMs));
        else
            out.append("null");
        return;
    }
    default:
        if (value.canConvert<QString>())
            appendEscaped(out, value.toString());
        else
            out.append("null");
    }
}

QByteArray toJson(const QVariant &value)
{
    QByteArray out;
    appendJson(out, value, nullptr);
    return out;
}

static QVariant fromJsonValue(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Bool:
        return value.toBool();
    case QJsonValue::Double: {
        const double d = value.toDouble();
        if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0)
            return qint64(d);
        return d;
    }
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Array: {
        const QJsonArray array = value.toArray();
        QVariantList list;
        list.reserve(array.size());
        for (const QJsonValue &v : array)
            list.append(fromJsonValue(v));
        return list;
    }
    case QJsonValue::Object: {
        const QJsonObject object = value.toObject();
        QVariantMap map;
        for (auto it = object.constBegin(); it != object.constEnd(); ++it)
            map.insert(it.key(), fromJsonValue(it.value()));
        return map;
    }
    default:
        return QVariant::fromValue(nullptr);
    }
}

bool fromJson(QByteArrayView json, QVariant *out)
{
    QJsonParseError error;
    const bool container = !json.isEmpty() && (json.front() == '{' || json.front() == '[');
    // QJsonDocument parses objects and arrays only: a scalar is parsed inside an array.
    const QByteArray text = container ? json.toByteArray() : '[' + json.toByteArray() + ']';
    const QJsonDocument doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError)
        return false;
    if (container)
        *out = doc.isObject() ? fromJsonValue(doc.object()) : fromJsonValue(doc.array());
    else if (doc.array().size() == 1)
        *out = fromJsonValue(doc.array().first());
    else
        return false;
    return true;
}

Encoded encode(const Packet &packet)
{
    Encoded encoded;
    QByteArray json;
    json.reserve(120); // most packets fit: no reallocation while the JSON grows
    PacketType type = packet.type;
    // Only EVENT and ACK can carry attachments; elsewhere binary is written as null, since a peer
    // would take binary messages after, say, a CONNECT packet for a protocol error.
    const bool canCarryBinary = type == PacketType::Event || type == PacketType::Ack
        || type == PacketType::BinaryEvent || type == PacketType::BinaryAck;
    if (type != PacketType::Disconnect && packet.data.isValid())
        appendJson(json, packet.data, canCarryBinary ? &encoded.attachments : nullptr);
    if (!encoded.attachments.isEmpty()) {
        if (type == PacketType::Event)
            type = PacketType::BinaryEvent;
        else if (type == PacketType::Ack)
            type = PacketType::BinaryAck;
    }
    QByteArray &out = encoded.text;
    out.reserve(json.size() + packet.nsp.size() + 24);
    out.append(char('0' + int(type)));
    if (type == PacketType::BinaryEvent || type == PacketType::BinaryAck) {
        out.append(QByteArray::number(encoded.attachments.size()));
        out.append('-');
    }
    if (!packet.nsp.isEmpty() && packet.nsp != u"/") {
        out.append(packet.nsp.toUtf8());
        out.append(',');
    }
    if (packet.id >= 0)
        out.append(QByteArray::number(packet.id));
    out.append(json);
    return encoded;
}

QString eventName(const QVariant &data)
{
    if (data.typeId() == QMetaType::QStringList) { // which encode() writes as an array too
        const auto &names = *static_cast<const QStringList *>(data.constData());
        return names.isEmpty() ? QString() : names.first();
    }
    if (data.typeId() != QMetaType::QVariantList)
        return {};
    const auto &list = *static_cast<const QVariantList *>(data.constData());
    return list.isEmpty() ? QString() : list.first().toString();
}

Decoder::Decoder(int maxAttachments)
    : m_maxAttachments(maxAttachments)
{
}

Decoder::Result Decoder::fail(const QString &error)
{
    m_error = error;
    m_expected = 0;
    m_attachments.clear();
    m_packet = {};
    return Result::Error;
}

bool isReservedEventName(const QString &name)
{
    return name == u"connect" || name == u"connect_error" || name == u"disconnect"
        || name == u"disconnecting" || name == u"newListener" || name == u"removeListener";
}

Decoder::Result Decoder::addText(QByteArrayView utf8)
{
    if (m_expected > 0)
        return fail(u"a text packet arrived while binary attachments were awaited"_s);
    if (utf8.isEmpty())
        return fail(u"empty packet"_s);
    qsizetype i = 0;
    const char t = utf8[i++];
    if (t < '0' || t > '6')
        return fail(u"unknown packet type"_s);
    Packet packet;
    packet.type = PacketType(t - '0');
    const bool binary
        = packet.type == PacketType::BinaryEvent || packet.type == PacketType::BinaryAck;
    int attachments = 0;
    if (binary) {
        // Digits only: toInt() would also take signs and surrounding spaces.
        const qsizetype start = i;
        while (i < utf8.size() && utf8[i] >= '0' && utf8[i] <= '9' && i - start < 6)
            attachments = attachments * 10 + (utf8[i++] - '0');
        if (i == start || i >= utf8.size() || utf8[i] != '-')
            return fail(u"malformed attachment count"_s);
        if (attachments > m_maxAttachments)
            return fail(
                u"too many attachments (%1, at most %2)"_s.arg(attachments).arg(m_maxAttachments));
        ++i;
    }
    if (i < utf8.size() && utf8[i] == '/') {
        const qsizetype comma = utf8.indexOf(',', i);
        const qsizetype end = comma < 0 ? utf8.size() : comma;
        packet.nsp = QString::fromUtf8(utf8.sliced(i, end - i));
        i = comma < 0 ? end : comma + 1;
    }
    const qsizetype idStart = i;
    while (i < utf8.size() && utf8[i] >= '0' && utf8[i] <= '9')
        ++i;
    if (i > idStart) {
        // Ids stay within what a JavaScript number holds exactly (2^53 - 1).
        constexpr qint64 maxId = (qint64(1) << 53) - 1;
        bool ok = i - idStart <= 16;
        if (ok)
            packet.id = utf8.sliced(idStart, i - idStart).toLongLong(&ok);
        if (!ok || packet.id > maxId)
            return fail(u"ack id too large"_s);
    }
    if (i < utf8.size() && !fromJson(utf8.sliced(i), &packet.data))
        return fail(u"invalid JSON payload"_s);

    const int dataType = packet.data.typeId();
    switch (packet.type) {
    case PacketType::Connect:
        if (packet.data.isValid() && dataType != QMetaType::QVariantMap)
            return fail(u"CONNECT payload must be an object"_s);
        break;
    case PacketType::Disconnect:
        if (packet.data.isValid())
            return fail(u"DISCONNECT carries no payload"_s);
        break;
    case PacketType::ConnectError:
        if (dataType != QMetaType::QVariantMap && dataType != QMetaType::QString)
            return fail(u"CONNECT_ERROR payload must be an object or a string"_s);
        break;
    case PacketType::Event:
    case PacketType::BinaryEvent: {
        if (dataType != QMetaType::QVariantList)
            return fail(u"EVENT payload must be an array"_s);
        auto &list = *static_cast<QVariantList *>(packet.data.data());
        if (list.isEmpty())
            return fail(u"EVENT payload has no event name"_s);
        const int nameType = list.first().typeId();
        if (nameType == QMetaType::LongLong || nameType == QMetaType::Double)
            list.first() = list.first().toString();
        else if (nameType != QMetaType::QString || isReservedEventName(list.first().toString()))
            return fail(u"invalid event name"_s);
        break;
    }
    case PacketType::Ack:
    case PacketType::BinaryAck:
        if (dataType != QMetaType::QVariantList)
            return fail(u"ACK payload must be an array"_s);
        if (packet.id < 0)
            return fail(u"ACK without an id"_s);
        break;
    }
    m_packet = std::move(packet);
    if (binary) {
        m_packet.type
            = m_packet.type == PacketType::BinaryEvent ? PacketType::Event : PacketType::Ack;
        if (attachments > 0) {
            m_expected = attachments;
            m_attachments.clear();
            m_attachments.reserve(attachments);
            return Result::NeedMore;
        }
        return finish();
    }
    return Result::Packet;
}

Decoder::Result Decoder::addBinary(const QByteArray &bytes)
{
    if (m_expected == 0)
        return fail(u"a binary message arrived that no packet announced"_s);
    m_attachments.append(bytes);
    if (m_attachments.size() < m_expected)
        return Result::NeedMore;
    return finish();
}

// Replaces placeholders by attachments; false on a placeholder that names none.
static bool reconstruct(QVariant &value, const QList<QByteArray> &attachments)
{
    if (value.typeId() == QMetaType::QVariantList) {
        auto &list = *static_cast<QVariantList *>(value.data());
        for (QVariant &v : list) {
            if (!reconstruct(v, attachments))
                return false;
        }
    } else if (value.typeId() == QMetaType::QVariantMap) {
        auto &map = *static_cast<QVariantMap *>(value.data());
        // As in the reference parser: any object whose _placeholder is true (the boolean, not
        // merely something truthy) stands for an attachment.
        const auto placeholder = map.constFind(u"_placeholder"_s);
        if (placeholder != map.cend() && placeholder->typeId() == QMetaType::Bool
            && placeholder->toBool()) {
            const QVariant num = map.value(u"num"_s);
            if (num.typeId() != QMetaType::LongLong)
                return false;
            const qint64 n = num.toLongLong();
            if (n < 0 || n >= attachments.size())
                return false;
            value = attachments.at(n);
            return true;
        }
        for (QVariant &v : map) {
            if (!reconstruct(v, attachments))
                return false;
        }
    }
    return true;
}

Decoder::Result Decoder::finish()
{
    if (!reconstruct(m_packet.data, m_attachments))
        return fail(u"a placeholder names no attachment"_s);
    m_expected = 0;
    m_attachments.clear();
    return Result::Packet;
}

} // namespace QSocketIo::SocketIo
