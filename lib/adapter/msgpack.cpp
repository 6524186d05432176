#include "msgpack_p.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qendian.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qjsonvalue.h>
#include <QtCore/qlist.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qstringconverter.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qvariantmap.h>

// The packer and the visitor parser without msgpack.hpp's type adaptors (a quarter of the headers).
// parse.hpp needs unpack.hpp's load helpers but does not include it.
#include <msgpack/null_visitor.hpp>
#include <msgpack/pack.hpp>
#include <msgpack/parse.hpp>
#include <msgpack/unpack.hpp>

#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace QSocketIo::MsgPack {

namespace {

Q_LOGGING_CATEGORY(lcMsgPack, "qsocketio.msgpack", QtWarningMsg)

// --- Encoding ---

class ByteArrayWriter
{
public:
    explicit ByteArrayWriter(QByteArray &out)
        : m_out(out)
    {
    }
    void write(const char *data, std::size_t size) { m_out.append(data, qsizetype(size)); }

private:
    QByteArray &m_out;
};

template <typename T> const T &ref(const QVariant &value)
{
    return *static_cast<const T *>(value.constData());
}

class Encoder
{
public:
    explicit Encoder(QByteArray &out)
        : m_writer(out)
        , m_packer(m_writer)
    {
    }

    void pack(const QVariant &value)
    {
        switch (value.typeId()) {
        case QMetaType::Bool:
            value.toBool() ? m_packer.pack_true() : m_packer.pack_false();
            break;
        case QMetaType::Int:
        case QMetaType::Long:
        case QMetaType::LongLong:
        case QMetaType::Short:
        case QMetaType::Char:
        case QMetaType::SChar:
            m_packer.pack_int64(value.toLongLong());
            break;
        case QMetaType::UInt:
        case QMetaType::ULong:
        case QMetaType::ULongLong:
        case QMetaType::UShort:
        case QMetaType::UChar:
            m_packer.pack_uint64(value.toULongLong());
            break;
        case QMetaType::Double:
        case QMetaType::Float:
            packNumber(value.toDouble());
            break;
        case QMetaType::QString:
            packString(ref<QString>(value));
            break;
        case QMetaType::QByteArray:
            packBinary(ref<QByteArray>(value));
            break;
        case QMetaType::QVariantList:
            packList(ref<QVariantList>(value));
            break;
        case QMetaType::QStringList:
            packList(ref<QStringList>(value));
            break;
        case QMetaType::QVariantMap:
            packMap(ref<QVariantMap>(value));
            break;
        case QMetaType::QVariantHash:
            packMap(ref<QVariantHash>(value));
            break;
        case QMetaType::QJsonValue:
            packJson(ref<QJsonValue>(value));
            break;
        case QMetaType::QJsonObject:
            packMap(ref<QJsonObject>(value));
            break;
        case QMetaType::QJsonArray:
            packList(ref<QJsonArray>(value));
            break;
        default: // invalid, Nullptr and everything without a MessagePack form
            m_packer.pack_nil();
            break;
        }
    }

private:
    // MessagePack lengths are 32-bit; notepack.io throws beyond that, we cannot fail here.
    bool fitsLength(qsizetype size, const char *what)
    {
        if (quint64(size) <= std::numeric_limits<quint32>::max())
            return true;
        qCWarning(lcMsgPack, "%s of %lld elements is too large for MessagePack, encoded as nil",
            what, qlonglong(size));
        m_packer.pack_nil();
        return false;
    }

    void packNumber(double d)
    {
        constexpr double two63 = 9223372036854775808.0;
        constexpr double two64 = 18446744073709551616.0;
        // notepack.io sends every integral number (Math.floor(x) === x) in the smallest int form,
        // whatever its magnitude; only past the 64-bit ranges, where its own bytes come out
        // wrong, do we keep float64. -0.0 becomes 0, as in notepack.io.
        if (std::isfinite(d) && std::floor(d) == d) {
            if (d >= 0 && d < two64) {
                m_packer.pack_uint64(std::uint64_t(d));
                return;
            }
            if (d < 0 && d >= -two63) {
                m_packer.pack_int64(std::int64_t(d));
                return;
            }
        }
        if (d == two64) {
            // msgpack-cxx 4.x's pack_double, testing for an integral value itself, converts 2^64
            // to uint64_t (undefined behaviour), so this one value is written by hand.
            char buf[9];
            buf[0] = char(0xcb);
            qToBigEndian(d, buf + 1);
            m_writer.write(buf, sizeof buf);
            return;
        }
        m_packer.pack_double(d);
    }

    void packString(QStringView s)
    {
        const QByteArray utf8 = s.toUtf8();
        if (!fitsLength(utf8.size(), "a string"))
            return;
        m_packer.pack_str(quint32(utf8.size()));
        m_packer.pack_str_body(utf8.constData(), quint32(utf8.size()));
    }

    void packBinary(const QByteArray &bytes)
    {
        if (!fitsLength(bytes.size(), "a byte array"))
            return;
        m_packer.pack_bin(quint32(bytes.size()));
        m_packer.pack_bin_body(bytes.constData(), quint32(bytes.size()));
    }

    template <typename List> void packList(const List &list)
    {
        if (!fitsLength(list.size(), "a list"))
            return;
        m_packer.pack_array(quint32(list.size()));
        for (const auto &item : list) {
            if constexpr (std::is_same_v<List, QStringList>)
                packString(item);
            else if constexpr (std::is_same_v<List, QJsonArray>)
                packJson(item);
            else
                pack(item);
        }
    }

    template <typename Map> void packMap(const Map &map)
    {
        if (!fitsLength(map.size(), "a map"))
            return;
        m_packer.pack_map(quint32(map.size()));
        for (auto it = map.begin(); it != map.end(); ++it) {
            packString(it.key());
            if constexpr (std::is_same_v<Map, QJsonObject>)
                packJson(it.value());
            else
                pack(it.value());
        }
    }

    // Walks the JSON types directly rather than through toVariant(), which would first copy
    // whole objects and arrays into QVariant trees.
    void packJson(const QJsonValue &value)
    {
        switch (value.type()) {
        case QJsonValue::Bool:
            value.toBool() ? m_packer.pack_true() : m_packer.pack_false();
            break;
        case QJsonValue::Double:
            // toVariant() keeps an integer that QJsonValue holds as qint64 exact.
            pack(value.toVariant());
            break;
        case QJsonValue::String:
            packString(value.toString());
            break;
        case QJsonValue::Array:
            packList(value.toArray());
            break;
        case QJsonValue::Object:
            packMap(value.toObject());
            break;
        case QJsonValue::Null:
        case QJsonValue::Undefined:
            m_packer.pack_nil();
            break;
        }
    }

    ByteArrayWriter m_writer;
    msgpack::packer<ByteArrayWriter> m_packer;
};

// --- Decoding ---

constexpr std::size_t MaxDepth = 100;

// JavaScript's Date range: anything outside it is an Invalid Date to the Node peers.
constexpr qint64 MaxDateMSecs = 8'640'000'000'000'000;

// The bytes of an item before its str/bin/ext body (for ext: before the type byte), or all of
// it for the other kinds. msgpack-cxx's visitor never says where an item starts, so the builder
// keeps its own cursor with this to put byte offsets into its messages.
std::size_t headerSize(uchar marker)
{
    if (marker < 0xc0 || marker >= 0xe0)
        return 1;
    switch (marker) {
    case 0xc4: // bin 8
    case 0xc7: // ext 8
    case 0xcc: // uint 8
    case 0xd0: // int 8
    case 0xd9: // str 8
        return 2;
    case 0xc5:
    case 0xc8:
    case 0xcd:
    case 0xd1:
    case 0xda:
    case 0xdc: // array 16
    case 0xde: // map 16
        return 3;
    case 0xc6:
    case 0xc9: // ext 32
    case 0xca: // float 32
    case 0xce:
    case 0xd2:
    case 0xdb:
    case 0xdd:
    case 0xdf:
        return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
        return 9;
    default: // nil, 0xc1, false, true, fixext 1..16
        return 1;
    }
}

class TreeBuilder : public msgpack::null_visitor
{
public:
    TreeBuilder(const char *data, std::size_t size)
        : m_data(data)
        , m_size(size)
    {
    }

    bool visit_nil() { return deliver(QVariant::fromValue(nullptr), begin(), "nil"); }
    bool visit_boolean(bool v) { return deliver(QVariant(v), begin(), "a boolean"); }
    bool visit_positive_integer(std::uint64_t v)
    {
        if (v > std::uint64_t(std::numeric_limits<qint64>::max()))
            return deliver(QVariant(double(v)), begin(), "an integer");
        return deliver(QVariant(qint64(v)), begin(), "an integer");
    }
    bool visit_negative_integer(std::int64_t v)
    {
        return deliver(QVariant(qint64(v)), begin(), "an integer");
    }
    bool visit_float32(float v) { return deliver(QVariant(double(v)), begin(), "a float"); }
    bool visit_float64(double v) { return deliver(QVariant(v), begin(), "a float"); }
    bool visit_str(const char *v, std::uint32_t size)
    {
        const std::size_t at = begin(size);
        QString s = m_utf8.decode(QByteArrayView(v, size));
        if (m_utf8.hasError())
            return fail(at, QStringLiteral("invalid UTF-8 in the string"));
        Frame *top = m_stack.empty() ? nullptr : &m_stack.back();
        if (top && top->isMap && top->expectKey) {
            top->key = std::move(s);
            return true;
        }
        return deliver(QVariant(std::move(s)), at, "a string");
    }
    bool visit_bin(const char *v, std::uint32_t size)
    {
        return deliver(QVariant(QByteArray(v, size)), begin(size), "binary");
    }
    bool visit_ext(const char *v, std::uint32_t size)
    {
        const std::size_t at = begin(size);
        if (size == 0) // ext 32 of 2^32 - 1 bytes, whose size msgpack-cxx passes on truncated
            return fail(at, QStringLiteral("ext too large"));
        const auto type = qint8(v[0]);
        const char *body = v + 1;
        const std::uint32_t length = size - 1;
        if (type == 0 && uchar(m_data[at]) == 0xd4) // notepack.io's undefined
            return deliver(QVariant(), at, "undefined");
        if (type == -1 && (length == 4 || length == 8 || length == 12))
            return timestamp(body, length, at);
        return fail(at, QStringLiteral("unsupported ext type %1 (%2 bytes)").arg(type).arg(length));
    }

    bool start_array(std::uint32_t count) { return push(false, count, begin()); }
    bool end_array() { return pop(); }
    bool start_map(std::uint32_t count) { return push(true, count, begin()); }
    bool start_map_key()
    {
        m_stack.back().expectKey = true;
        return true;
    }
    bool start_map_value()
    {
        m_stack.back().expectKey = false;
        return true;
    }
    bool end_map() { return pop(); }

    void parse_error(std::size_t, std::size_t)
    {
        fail(m_pos, QStringLiteral("reserved type byte 0x%1").arg(uchar(m_data[m_pos]), 2, 16));
    }
    void insufficient_bytes(std::size_t, std::size_t)
    {
        if (m_pos >= m_size)
            fail(m_pos, QStringLiteral("unexpected end of data inside an array or map"));
        else
            fail(m_pos, QStringLiteral("truncated item: it runs past the end of the data"));
    }

    QVariant takeResult() { return std::move(m_root); }
    const QString &error() const { return m_error; }
    std::size_t position() const { return m_pos; }

private:
    struct Frame
    {
        bool isMap = false;
        bool expectKey = false;
        QVariantList list;
        QVariantMap map;
        QString key;
    };

    // Moves the cursor past the item that starts there and returns where it started.
    std::size_t begin(std::size_t bodySize = 0)
    {
        const std::size_t at = m_pos;
        m_pos += headerSize(uchar(m_data[at])) + bodySize;
        return at;
    }

    bool inKeyPosition() const
    {
        return !m_stack.empty() && m_stack.back().isMap && m_stack.back().expectKey;
    }

    bool fail(std::size_t at, const QString &what)
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("MessagePack: %1 at byte %2").arg(what).arg(at);
        return false;
    }

    bool keyError(std::size_t at, const char *kind)
    {
        return fail(at, QStringLiteral("map key is %1, not a string").arg(QLatin1String(kind)));
    }

    bool deliver(QVariant &&value, std::size_t at, const char *kind)
    {
        if (m_stack.empty()) {
            m_root = std::move(value);
            return true;
        }
        Frame &top = m_stack.back();
        if (!top.isMap) {
            top.list.append(std::move(value));
        } else if (top.expectKey) {
            return keyError(at, kind);
        } else if (!value.isValid()) {
            // A key set to undefined in JavaScript is left out when the object is encoded again,
            // even if an earlier duplicate of the key had a value.
            top.map.remove(top.key);
        } else {
            top.map.insert(top.key, std::move(value));
        }
        return true;
    }

    bool push(bool isMap, std::uint32_t count, std::size_t at)
    {
        const char *kind = isMap ? "a map" : "an array";
        if (inKeyPosition())
            return keyError(at, kind);
        if (m_stack.size() >= MaxDepth)
            return fail(at, QStringLiteral("nesting deeper than %1 levels").arg(MaxDepth));
        // Every element takes at least one byte: a count beyond what is left is a lie, caught
        // before anything is allocated for it.
        const std::size_t remaining = m_size - m_pos;
        const std::uint64_t minimum = std::uint64_t(count) * (isMap ? 2 : 1);
        if (minimum > remaining) {
            return fail(at,
                QStringLiteral("%1 of %2 elements with only %3 bytes left")
                    .arg(QLatin1String(kind))
                    .arg(count)
                    .arg(remaining));
        }
        Frame frame;
        frame.isMap = isMap;
        if (!isMap)
            frame.list.reserve(qsizetype(count));
        m_stack.push_back(std::move(frame));
        return true;
    }

    bool pop()
    {
        Frame frame = std::move(m_stack.back());
        m_stack.pop_back();
        QVariant value = frame.isMap ? QVariant(std::move(frame.map)) : QVariant(frame.list);
        if (m_stack.empty()) {
            m_root = std::move(value);
            return true;
        }
        Frame &top = m_stack.back();
        if (top.isMap)
            top.map.insert(top.key, std::move(value));
        else
            top.list.append(std::move(value));
        return true;
    }

    bool timestamp(const char *body, std::uint32_t length, std::size_t at)
    {
        qint64 seconds = 0;
        quint32 nanoseconds = 0;
        if (length == 4) {
            seconds = qFromBigEndian<quint32>(body);
        } else if (length == 8) {
            const quint64 packed = qFromBigEndian<quint64>(body);
            nanoseconds = quint32(packed >> 34);
            seconds = qint64(packed & ((quint64(1) << 34) - 1));
        } else {
            nanoseconds = qFromBigEndian<quint32>(body);
            seconds = qFromBigEndian<qint64>(body + 4);
        }
        if (nanoseconds > 999'999'999)
            return fail(at, QStringLiteral("timestamp with %1 nanoseconds").arg(nanoseconds));
        if (seconds > MaxDateMSecs / 1000 || seconds < -MaxDateMSecs / 1000)
            return fail(at, QStringLiteral("timestamp out of range (%1 s)").arg(seconds));
        qint64 msecs = seconds * 1000 + nanoseconds / 1'000'000;
        // JavaScript's Date truncates the fraction toward zero, not down.
        if (msecs < 0 && nanoseconds % 1'000'000 != 0)
            ++msecs;
        if (msecs > MaxDateMSecs || msecs < -MaxDateMSecs)
            return fail(at, QStringLiteral("timestamp out of range (%1 s)").arg(seconds));
        return deliver(QVariant(QDateTime::fromMSecsSinceEpoch(msecs, Qt::UTC)), at, "a timestamp");
    }

    const char *m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    std::vector<Frame> m_stack;
    QVariant m_root;
    QString m_error;
    // Strict (invalid input is an error, not U+FFFD) and keeping a leading U+FEFF, which
    // QString::fromUtf8 would drop but Node's Buffer.toString keeps.
    QStringDecoder m_utf8 {QStringDecoder::Utf8,
        QStringConverter::Flag::Stateless | QStringConverter::Flag::ConvertInitialBom};
};

} // namespace

void append(QByteArray &out, const QVariant &value)
{
    Encoder(out).pack(value);
}

QByteArray encode(const QVariant &value)
{
    QByteArray out;
    append(out, value);
    return out;
}

bool decode(QByteArrayView data, QVariant *out, QString *error)
{
    auto failed = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    if (data.isEmpty())
        return failed(QStringLiteral("MessagePack: no data"));

    TreeBuilder builder(data.data(), std::size_t(data.size()));
    std::size_t offset = 0;
    bool ok = false;
    try {
        ok = msgpack::parse(data.data(), std::size_t(data.size()), offset, builder);
    } catch (const std::exception &e) {
        // msgpack-cxx throws for ext sizes that overflow size_t (32-bit builds); allocation
        // failures land here too rather than taking the process down.
        return failed(QStringLiteral("MessagePack: %1 at byte %2")
                          .arg(QString::fromLocal8Bit(e.what()))
                          .arg(builder.position()));
    }
    if (!ok) {
        if (builder.error().isEmpty())
            return failed(
                QStringLiteral("MessagePack: malformed data at byte %1").arg(builder.position()));
        return failed(builder.error());
    }
    if (offset != std::size_t(data.size())) {
        return failed(QStringLiteral("MessagePack: %1 trailing bytes at byte %2")
                          .arg(std::size_t(data.size()) - offset)
                          .arg(offset));
    }
    Q_ASSERT(builder.position() == offset);
    if (out)
        *out = builder.takeResult();
    return true;
}

} // namespace QSocketIo::MsgPack
