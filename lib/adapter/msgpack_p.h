#pragma once

// MessagePack for the Redis adapter's wire format (Node's @socket.io/redis-adapter and
// redis-emitter encode with notepack.io). Works on the library's payload type, QVariant trees:
// null (QMetaType::Nullptr), bool, integers, double, QString, QByteArray (binary), QVariantList,
// QVariantMap. Not public API.

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qstring.h>
#include <QtCore/qvariant.h>

namespace QSocketIo::MsgPack {

// Encodes as Node's peers do: strings as str (never bin), integers (and doubles holding an
// integral value JavaScript can represent exactly) in the smallest int form, other numbers as
// float64, QByteArray as bin, maps with string keys. An invalid QVariant is nil; a QStringList is
// an array; QJsonValue/QJsonObject/QJsonArray are converted first; any other type is nil.
void append(QByteArray &out, const QVariant &value);
QByteArray encode(const QVariant &value);

// Decodes exactly one value filling all of `data`. nil -> QVariant::fromValue(nullptr); int and
// uint -> qint64 (uint64 above INT64_MAX -> double); float32/float64 -> double; str -> QString
// (invalid UTF-8 is an error); bin -> QByteArray; array -> QVariantList; map -> QVariantMap with
// str keys (any other key type is an error); ext type 0 of notepack.io's `undefined` -> invalid
// QVariant (and omitted from maps); the timestamp ext (-1) -> QDateTime (UTC); other ext -> error.
// Nesting deeper than 100 levels is an error. On error returns false with a message in `error`
// (when given) that says what and at which byte offset.
bool decode(QByteArrayView data, QVariant *out, QString *error = nullptr);

} // namespace QSocketIo::MsgPack
