#include <QSocketIo/socketiocodec.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qjsonvalue.h>
#include <QtCore/qpoint.h>
#include <QtCore/qurl.h>
#include <QtCore/quuid.h>
#include <QtTest/qtest.h>

#include <cmath>
#include <limits>

using namespace QSocketIo;
using namespace QSocketIo::SocketIo;
using namespace Qt::StringLiterals;

namespace {

// Short spellings for the trees below. Decoded numbers are qint64 or double, so the expected
// values are built from exactly those types.
QVariant i64(qint64 v)
{
    return QVariant::fromValue(v);
}

QVariant null()
{
    return QVariant::fromValue(nullptr);
}

QVariant bytes(const QByteArray &b)
{
    return QVariant(b);
}

QByteArray placeholder(int num)
{
    return R"({"_placeholder":true,"num":)" + QByteArray::number(num) + '}';
}

// A QVariant tree written out with the type of every node, so that comparing two descriptions
// checks the types as well as the values (QVariant's own == treats 1 and 1.0 as equal) and a
// failure shows where the trees differ.
QString describe(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::UnknownType:
        return u"invalid"_s;
    case QMetaType::Nullptr:
        return u"null"_s;
    case QMetaType::Bool:
        return value.toBool() ? u"true"_s : u"false"_s;
    case QMetaType::LongLong:
        return u"i64:"_s + QString::number(value.toLongLong());
    case QMetaType::Double:
        return u"double:"_s + QString::number(value.toDouble(), 'g', 17);
    case QMetaType::QString: {
        QString out = u"str:\""_s;
        for (QChar c : value.toString()) {
            if (c.unicode() < 0x20 || c.unicode() > 0x7e)
                out += u"\\u%1"_s.arg(c.unicode(), 4, 16, QChar(u'0'));
            else
                out += c;
        }
        return out + u'"';
    }
    case QMetaType::QByteArray:
        return u"bytes:"_s + QString::fromLatin1(value.toByteArray().toHex());
    case QMetaType::QVariantList: {
        QStringList items;
        for (const QVariant &item : value.toList())
            items.append(describe(item));
        return u'[' + items.join(u',') + u']';
    }
    case QMetaType::QVariantMap: {
        QStringList items;
        const QVariantMap map = value.toMap();
        for (auto it = map.cbegin(); it != map.cend(); ++it)
            items.append(describe(it.key()) + u'=' + describe(it.value()));
        return u'{' + items.join(u',') + u'}';
    }
    default:
        return QString::fromLatin1(value.metaType().name()) + u':' + value.toString();
    }
}

struct Fed
{
    Decoder::Result result;
    Packet packet;
};

// Feeds a text message and then each binary message, checking that every message but the last
// asks for more.
Fed feed(Decoder &decoder, const QByteArray &text, const QList<QByteArray> &binaries = {})
{
    Decoder::Result result = decoder.addText(text);
    for (const QByteArray &binary : binaries) {
        if (result != Decoder::Result::NeedMore)
            return {result, {}};
        if (!decoder.isAwaitingAttachments())
            return {Decoder::Result::Error, {}};
        result = decoder.addBinary(binary);
    }
    Fed fed {result, {}};
    if (result == Decoder::Result::Packet)
        fed.packet = decoder.takePacket();
    return fed;
}

// The decoder must take ordinary packets after whatever happened before.
bool stillUsable(Decoder &decoder)
{
    if (decoder.isAwaitingAttachments())
        return false;
    Fed fed = feed(decoder, R"(2/chat,3["ok",1])");
    if (fed.result != Decoder::Result::Packet || fed.packet.type != PacketType::Event
        || fed.packet.nsp != u"/chat" || fed.packet.id != 3
        || describe(fed.packet.data) != describe(QVariantList {u"ok"_s, i64(1)}))
        return false;
    fed = feed(decoder, "51-[\"bin\"," + placeholder(0) + ']', {"\x00\xff"_ba});
    return fed.result == Decoder::Result::Packet && fed.packet.type == PacketType::Event
        && describe(fed.packet.data) == describe(QVariantList {u"bin"_s, bytes("\x00\xff"_ba)});
}

Packet makePacket(PacketType type, const QString &nsp, qint64 id, const QVariant &data)
{
    Packet packet;
    packet.type = type;
    packet.nsp = nsp;
    packet.id = id;
    packet.data = data;
    return packet;
}

} // namespace

// Found by QTest through argument-dependent lookup, so failed comparisons print names.
namespace QSocketIo::SocketIo {

char *toString(Decoder::Result result)
{
    switch (result) {
    case Decoder::Result::Packet:
        return qstrdup("Packet");
    case Decoder::Result::NeedMore:
        return qstrdup("NeedMore");
    case Decoder::Result::Error:
        return qstrdup("Error");
    }
    return qstrdup("?");
}

char *toString(PacketType type)
{
    return qstrdup(QByteArray::number(int(type)).constData());
}

} // namespace QSocketIo::SocketIo

class TestSocketIoCodec : public QObject
{
    Q_OBJECT

private slots:
    void encode_data();
    void encode();
    void encodeBinary_data();
    void encodeBinary();
    void appendJsonContinuesNumbering();
    void toJson_data();
    void toJson();
    void toJsonHash();
    void fromJson_data();
    void fromJson();
    void fromJsonErrors_data();
    void fromJsonErrors();
    void decode_data();
    void decode();
    void decodeBinary_data();
    void decodeBinary();
    void decodeBinaryStepByStep();
    void decodeErrors_data();
    void decodeErrors();
    void textWhileAwaitingAttachments();
    void binaryWithoutAnnouncement();
    void maxAttachments();
    void roundTrip_data();
    void roundTrip();
    void canonicalText_data();
    void canonicalText();
    void eventName_data();
    void eventName();
};

void TestSocketIoCodec::encode_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("nsp");
    QTest::addColumn<qint64>("id");
    QTest::addColumn<QVariant>("data");
    QTest::addColumn<QByteArray>("text");

    const QVariantMap auth {{u"token"_s, u"abc"_s}};
    const int connect = int(PacketType::Connect);
    QTest::newRow("connect") << connect << u"/"_s << qint64(-1) << QVariant() << "0"_ba;
    QTest::newRow("connect auth") << connect << u"/"_s << qint64(-1) << QVariant(auth)
                                  << R"(0{"token":"abc"})"_ba;
    QTest::newRow("connect empty auth")
        << connect << u"/"_s << qint64(-1) << QVariant(QVariantMap()) << "0{}"_ba;
    QTest::newRow("connect nsp") << connect << u"/admin"_s << qint64(-1) << QVariant()
                                 << "0/admin,"_ba;
    QTest::newRow("connect nsp auth") << connect << u"/admin"_s << qint64(-1) << QVariant(auth)
                                      << R"(0/admin,{"token":"abc"})"_ba;
    QTest::newRow("connect reply") << connect << u"/"_s << qint64(-1)
                                   << QVariant(QVariantMap {{u"sid"_s, u"oSO0OpakMV_3jnilAAAA"_s}})
                                   << R"(0{"sid":"oSO0OpakMV_3jnilAAAA"})"_ba;
    QTest::newRow("connect reply nsp")
        << connect << u"/admin"_s << qint64(-1)
        << QVariant(QVariantMap {{u"sid"_s, u"oSO0OpakMV_3jnilAAAA"_s}})
        << R"(0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"})"_ba;
    // The empty namespace is the main one too, rather than a stray comma.
    QTest::newRow("connect empty nsp")
        << connect << QString() << qint64(-1) << QVariant() << "0"_ba;

    const int disconnect = int(PacketType::Disconnect);
    QTest::newRow("disconnect") << disconnect << u"/"_s << qint64(-1) << QVariant() << "1"_ba;
    QTest::newRow("disconnect nsp")
        << disconnect << u"/chat"_s << qint64(-1) << QVariant() << "1/chat,"_ba;
    QTest::newRow("disconnect ignores data") << disconnect << u"/chat"_s << qint64(-1)
                                             << QVariant(QVariantList {u"x"_s}) << "1/chat,"_ba;

    const int event = int(PacketType::Event);
    QTest::newRow("event") << event << u"/"_s << qint64(-1)
                           << QVariant(QVariantList {u"hello"_s, 1}) << R"(2["hello",1])"_ba;
    QTest::newRow("event no args")
        << event << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ping"_s}) << R"(2["ping"])"_ba;
    QTest::newRow("event id") << event << u"/"_s << qint64(12) << QVariant(QVariantList {u"x"_s})
                              << R"(212["x"])"_ba;
    QTest::newRow("event id 0") << event << u"/"_s << qint64(0) << QVariant(QVariantList {u"x"_s})
                                << R"(20["x"])"_ba;
    QTest::newRow("event nsp id") << event << u"/chat"_s << qint64(12)
                                  << QVariant(QVariantList {u"x"_s}) << R"(2/chat,12["x"])"_ba;
    QTest::newRow("event nsp") << event << u"/chat"_s << qint64(-1)
                               << QVariant(QVariantList {u"x"_s, QVariantMap {{u"a"_s, true}}})
                               << R"(2/chat,["x",{"a":true}])"_ba;
    QTest::newRow("event big id") << event << u"/"_s << qint64(999999999999999)
                                  << QVariant(QVariantList {u"x"_s})
                                  << R"(2999999999999999["x"])"_ba;

    const int ack = int(PacketType::Ack);
    QTest::newRow("ack") << ack << u"/chat"_s << qint64(12)
                         << QVariant(QVariantList {u"ok"_s, QVariantMap {{u"n"_s, 2}}})
                         << R"(3/chat,12["ok",{"n":2}])"_ba;
    QTest::newRow("ack main nsp") << ack << u"/"_s << qint64(7) << QVariant(QVariantList {1, 2})
                                  << "37[1,2]"_ba;
    QTest::newRow("ack empty") << ack << u"/"_s << qint64(1) << QVariant(QVariantList())
                               << "31[]"_ba;

    // QVariantMap keeps its keys sorted, hence "data" before "message".
    const int connectError = int(PacketType::ConnectError);
    QTest::newRow("connect error")
        << connectError << u"/"_s << qint64(-1)
        << QVariant(QVariantMap {{u"message"_s, u"Not authorized"_s},
               {u"data"_s, QVariantMap {{u"reason"_s, u"expired"_s}}}})
        << R"(4{"data":{"reason":"expired"},"message":"Not authorized"})"_ba;
    QTest::newRow("connect error message only")
        << connectError << u"/admin"_s << qint64(-1)
        << QVariant(QVariantMap {{u"message"_s, u"Not authorized"_s}})
        << R"(4/admin,{"message":"Not authorized"})"_ba;
    QTest::newRow("connect error string")
        << connectError << u"/"_s << qint64(-1) << QVariant(u"Not authorized"_s)
        << R"(4"Not authorized")"_ba;

    // Only EVENT and ACK carry attachments: binary elsewhere is written as null.
    QTest::newRow("connect binary")
        << connect << u"/"_s << qint64(-1) << QVariant(QVariantMap {{u"key"_s, bytes("\x01"_ba)}})
        << R"(0{"key":null})"_ba;
    QTest::newRow("connect error binary")
        << connectError << u"/"_s << qint64(-1)
        << QVariant(QVariantMap {{u"data"_s, bytes("\x01"_ba)}, {u"message"_s, u"m"_s}})
        << R"(4{"data":null,"message":"m"})"_ba;
}

void TestSocketIoCodec::encode()
{
    QFETCH(int, type);
    QFETCH(QString, nsp);
    QFETCH(qint64, id);
    QFETCH(QVariant, data);
    QFETCH(QByteArray, text);

    const Encoded encoded = SocketIo::encode(makePacket(PacketType(type), nsp, id, data));
    QCOMPARE(encoded.text, text);
    QVERIFY(encoded.attachments.isEmpty());
}

void TestSocketIoCodec::encodeBinary_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("nsp");
    QTest::addColumn<qint64>("id");
    QTest::addColumn<QVariant>("data");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<QByteArray>>("attachments");

    const int event = int(PacketType::Event);
    const int ack = int(PacketType::Ack);
    const QByteArray a("\x01\x02", 2);
    const QByteArray b("\x00", 1);
    const QByteArray c("\xff\xfe\xfd", 3);

    QTest::newRow("top level") << event << u"/"_s << qint64(-1)
                               << QVariant(QVariantList {u"ev"_s, a})
                               << "51-[\"ev\"," + placeholder(0) + ']' << QList<QByteArray> {a};
    QTest::newRow("empty binary") << event << u"/"_s << qint64(-1)
                                  << QVariant(QVariantList {u"ev"_s, QByteArray()})
                                  << "51-[\"ev\"," + placeholder(0) + ']'
                                  << QList<QByteArray> {QByteArray()};
    QTest::newRow("several in order")
        << event << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s, a, 1, b, c})
        << "53-[\"ev\"," + placeholder(0) + ",1," + placeholder(1) + ',' + placeholder(2) + ']'
        << QList<QByteArray> {a, b, c};
    QTest::newRow("nested") << event << u"/"_s << qint64(-1)
                            << QVariant(QVariantList {u"upload"_s,
                                   QVariantMap {{u"file"_s, a},
                                       {u"meta"_s, QVariantMap {{u"thumb"_s, b}, {u"w"_s, 3}}}},
                                   QVariantList {c, u"x"_s}})
                            << "53-[\"upload\",{\"file\":" + placeholder(0) + R"(,"meta":{"thumb":)"
            + placeholder(1) + R"(,"w":3}},[)" + placeholder(2) + R"(,"x"]])"
                            << QList<QByteArray> {a, b, c};
    QTest::newRow("same bytes twice")
        << event << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s, a, a})
        << "52-[\"ev\"," + placeholder(0) + ',' + placeholder(1) + ']' << QList<QByteArray> {a, a};
    QTest::newRow("nsp and id") << event << u"/chat"_s << qint64(7)
                                << QVariant(QVariantList {u"ev"_s, a})
                                << "51-/chat,7[\"ev\"," + placeholder(0) + ']'
                                << QList<QByteArray> {a};
    QTest::newRow("binary ack") << ack << u"/"_s << qint64(12) << QVariant(QVariantList {a})
                                << "61-12[" + placeholder(0) + ']' << QList<QByteArray> {a};
    QTest::newRow("binary ack nsp")
        << ack << u"/chat"_s << qint64(12) << QVariant(QVariantList {u"ok"_s, a, b})
        << "62-/chat,12[\"ok\"," + placeholder(0) + ',' + placeholder(1) + ']'
        << QList<QByteArray> {a, b};
    // Asking for the binary type without binary still works, with zero attachments.
    QTest::newRow("binary event without binary")
        << int(PacketType::BinaryEvent) << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s})
        << R"(50-["ev"])"_ba << QList<QByteArray>();
    QTest::newRow("binary ack type")
        << int(PacketType::BinaryAck) << u"/"_s << qint64(3) << QVariant(QVariantList {a})
        << "61-3[" + placeholder(0) + ']' << QList<QByteArray> {a};
}

void TestSocketIoCodec::encodeBinary()
{
    QFETCH(int, type);
    QFETCH(QString, nsp);
    QFETCH(qint64, id);
    QFETCH(QVariant, data);
    QFETCH(QByteArray, text);
    QFETCH(QList<QByteArray>, attachments);

    const Encoded encoded = SocketIo::encode(makePacket(PacketType(type), nsp, id, data));
    QCOMPARE(encoded.text, text);
    QCOMPARE(encoded.attachments, attachments);
}

void TestSocketIoCodec::appendJsonContinuesNumbering()
{
    QByteArray out = "prefix:";
    QList<QByteArray> attachments {"first"_ba};
    appendJson(out, QVariantList {"second"_ba, QVariantMap {{u"k"_s, "third"_ba}}}, &attachments);
    QCOMPARE(out, "prefix:[" + placeholder(1) + R"(,{"k":)" + placeholder(2) + "}]");
    QCOMPARE(attachments, (QList<QByteArray> {"first", "second", "third"}));

    // Without a list, binary is dropped to null.
    out.clear();
    appendJson(out, QVariantList {"bin"_ba, 1}, nullptr);
    QCOMPARE(out, "[null,1]"_ba);
}

void TestSocketIoCodec::toJson_data()
{
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QByteArray>("json");

    QTest::newRow("invalid") << QVariant() << "null"_ba;
    QTest::newRow("nullptr") << null() << "null"_ba;
    QTest::newRow("true") << QVariant(true) << "true"_ba;
    QTest::newRow("false") << QVariant(false) << "false"_ba;

    QTest::newRow("int 0") << QVariant(0) << "0"_ba;
    QTest::newRow("int") << QVariant(42) << "42"_ba;
    QTest::newRow("int negative") << QVariant(-42) << "-42"_ba;
    QTest::newRow("int min") << QVariant(std::numeric_limits<int>::min()) << "-2147483648"_ba;
    QTest::newRow("uint max") << QVariant(std::numeric_limits<uint>::max()) << "4294967295"_ba;
    QTest::newRow("qint64 max") << i64(std::numeric_limits<qint64>::max())
                                << "9223372036854775807"_ba;
    QTest::newRow("qint64 min") << i64(std::numeric_limits<qint64>::min())
                                << "-9223372036854775808"_ba;
    QTest::newRow("quint64 max") << QVariant::fromValue(std::numeric_limits<quint64>::max())
                                 << "18446744073709551615"_ba;
    QTest::newRow("short") << QVariant::fromValue(short(-3)) << "-3"_ba;
    QTest::newRow("ushort") << QVariant::fromValue(ushort(65535)) << "65535"_ba;
    QTest::newRow("long") << QVariant::fromValue(-123456L) << "-123456"_ba;
    QTest::newRow("ulong") << QVariant::fromValue(123456UL) << "123456"_ba;
    QTest::newRow("schar") << QVariant::fromValue(qint8(-5)) << "-5"_ba;
    QTest::newRow("uchar") << QVariant::fromValue(quint8(200)) << "200"_ba;

    QTest::newRow("double half") << QVariant(0.5) << "0.5"_ba;
    QTest::newRow("double negative") << QVariant(-0.25) << "-0.25"_ba;
    QTest::newRow("double tenth") << QVariant(0.1) << "0.1"_ba;
    QTest::newRow("double pi") << QVariant(3.141592653589793) << "3.141592653589793"_ba;
    QTest::newRow("double integral") << QVariant(1.0) << "1"_ba;
    QTest::newRow("double integral negative") << QVariant(-3.0) << "-3"_ba;
    QTest::newRow("double zero") << QVariant(0.0) << "0"_ba;
    QTest::newRow("double negative zero") << QVariant(-0.0) << "0"_ba;
    QTest::newRow("double large integral") << QVariant(1e15) << "1000000000000000"_ba;
    QTest::newRow("double 2^53") << QVariant(9007199254740992.0) << "9007199254740992"_ba;
    QTest::newRow("double 1e21") << QVariant(1e21) << "1e+21"_ba;
    QTest::newRow("double small") << QVariant(1e-7) << "1e-07"_ba;
    QTest::newRow("double max") << QVariant(std::numeric_limits<double>::max())
                                << "1.7976931348623157e+308"_ba;
    QTest::newRow("nan") << QVariant(std::numeric_limits<double>::quiet_NaN()) << "null"_ba;
    QTest::newRow("inf") << QVariant(std::numeric_limits<double>::infinity()) << "null"_ba;
    QTest::newRow("-inf") << QVariant(-std::numeric_limits<double>::infinity()) << "null"_ba;
    QTest::newRow("float") << QVariant(0.5f) << "0.5"_ba;
    QTest::newRow("float integral") << QVariant(2.0f) << "2"_ba;
    QTest::newRow("float nan") << QVariant(std::numeric_limits<float>::quiet_NaN()) << "null"_ba;

    QTest::newRow("string") << QVariant(u"hello"_s) << R"("hello")"_ba;
    QTest::newRow("empty string") << QVariant(QString()) << R"("")"_ba;
    QTest::newRow("quotes") << QVariant(u"he said \"hi\""_s) << R"("he said \"hi\"")"_ba;
    QTest::newRow("backslash") << QVariant(u"C:\\dir\\"_s) << R"("C:\\dir\\")"_ba;
    QTest::newRow("slash") << QVariant(u"a/b"_s) << R"("a/b")"_ba;
    QTest::newRow("short escapes") << QVariant(u"\n\r\t\b\f"_s) << R"("\n\r\t\b\f")"_ba;
    QTest::newRow("control") << QVariant(u"\x01\x1f|\x7f"_s) << "\"\\u0001\\u001f|\x7f\""_ba;
    QTest::newRow("nul") << QVariant(QString(QChar(0))) << R"("\u0000")"_ba;
    QTest::newRow("latin") << QVariant(u"caf\u00e9"_s) << "\"caf\xc3\xa9\""_ba;
    QTest::newRow("bmp") << QVariant(u"\u20ac\u4e2d"_s) << "\"\xe2\x82\xac\xe4\xb8\xad\""_ba;
    QTest::newRow("emoji") << QVariant(u"\U0001F600!"_s) << "\"\xf0\x9f\x98\x80!\""_ba;
    QTest::newRow("max code point") << QVariant(u"\U0010FFFF"_s) << "\"\xf4\x8f\xbf\xbf\""_ba;
    // Lone surrogates cannot be UTF-8: escaped as JSON.stringify does, so that they survive.
    QTest::newRow("lone high surrogate")
        << QVariant(QString(QChar(0xd83d)) + u'x') << R"("\ud83dx")"_ba;
    QTest::newRow("lone low surrogate") << QVariant(QString(QChar(0xde00))) << R"("\ude00")"_ba;
    QTest::newRow("swapped surrogates")
        << QVariant(QString(QChar(0xde00)) + QChar(0xd83d)) << R"("\ude00\ud83d")"_ba;

    QTest::newRow("string list") << QVariant(QStringList {u"a"_s, u"b\"c"_s, QString()})
                                 << R"(["a","b\"c",""])"_ba;
    QTest::newRow("empty string list") << QVariant(QStringList()) << "[]"_ba;
    QTest::newRow("list") << QVariant(
        QVariantList {1, u"two"_s, QVariant(), 0.5, false, QVariantList {QVariantList {}}})
                          << R"([1,"two",null,0.5,false,[[]]])"_ba;
    QTest::newRow("empty list") << QVariant(QVariantList()) << "[]"_ba;
    QTest::newRow("map") << QVariant(QVariantMap {{u"b"_s, QVariantList {true, QVariant()}},
        {u"a"_s, 1}}) << R"({"a":1,"b":[true,null]})"_ba;
    QTest::newRow("empty map") << QVariant(QVariantMap()) << "{}"_ba;
    QTest::newRow("map key escaped")
        << QVariant(QVariantMap {{u"k\"\n"_s, 1}}) << R"({"k\"\n":1})"_ba;
    QTest::newRow("hash") << QVariant(QVariantHash {{u"x"_s, QVariantList {1}}})
                          << R"({"x":[1]})"_ba;
    QTest::newRow("empty hash") << QVariant(QVariantHash()) << "{}"_ba;

    QTest::newRow("json object") << QVariant(
        QJsonObject {{u"a"_s, 1}, {u"b"_s, u"x"_s}, {u"c"_s, QJsonArray {true}}})
                                 << R"({"a":1,"b":"x","c":[true]})"_ba;
    QTest::newRow("json array") << QVariant(QJsonArray {1, u"two"_s, QJsonValue(QJsonValue::Null),
        false, 0.5}) << R"([1,"two",null,false,0.5])"_ba;
    QTest::newRow("json value string") << QVariant(QJsonValue(u"a\"b"_s)) << R"("a\"b")"_ba;
    QTest::newRow("json value double") << QVariant(QJsonValue(0.5)) << "0.5"_ba;
    QTest::newRow("json value integral") << QVariant(QJsonValue(3.0)) << "3"_ba;
    QTest::newRow("json value big integer")
        << QVariant(QJsonValue(qint64(9007199254740993))) << "9007199254740993"_ba;
    QTest::newRow("json value negative integer") << QVariant(QJsonValue(-5)) << "-5"_ba;
    QTest::newRow("json value bool") << QVariant(QJsonValue(true)) << "true"_ba;
    QTest::newRow("json value null") << QVariant(QJsonValue(QJsonValue::Null)) << "null"_ba;
    QTest::newRow("json value undefined")
        << QVariant(QJsonValue(QJsonValue::Undefined)) << "null"_ba;
    QTest::newRow("json value object")
        << QVariant(QJsonValue(QJsonObject {{u"k"_s, 2}})) << R"({"k":2})"_ba;
    QTest::newRow("json value array") << QVariant(QJsonValue(QJsonArray {1, 2})) << "[1,2]"_ba;
    QTest::newRow("json document object")
        << QVariant(QJsonDocument(QJsonObject {{u"k"_s, u"v"_s}})) << R"({"k":"v"})"_ba;
    QTest::newRow("json document array")
        << QVariant(QJsonDocument(QJsonArray {QJsonObject()})) << "[{}]"_ba;
    QTest::newRow("json document null") << QVariant(QJsonDocument()) << "null"_ba;
    QTest::newRow("json inside map")
        << QVariant(QVariantMap {{u"j"_s, QVariant(QJsonArray {1})}}) << R"({"j":[1]})"_ba;

    QTest::newRow("datetime utc") << QVariant(QDateTime(QDate(2024, 1, 2), QTime(3, 4, 5, 678),
        Qt::UTC)) << R"("2024-01-02T03:04:05.678Z")"_ba;
    QTest::newRow("datetime whole second")
        << QVariant(QDateTime(QDate(2024, 1, 2), QTime(3, 4, 5), Qt::UTC))
        << R"("2024-01-02T03:04:05.000Z")"_ba;
    QTest::newRow("datetime offset")
        << QVariant(QDateTime(QDate(2024, 1, 2), QTime(3, 4, 5, 6), Qt::OffsetFromUTC, 7200))
        << R"("2024-01-02T01:04:05.006Z")"_ba;
    QTest::newRow("datetime invalid") << QVariant(QDateTime()) << "null"_ba;
    QTest::newRow("url") << QVariant(QUrl(u"https://example.com/a?b=c#d"_s))
                         << R"("https://example.com/a?b=c#d")"_ba;
    QTest::newRow("uuid") << QVariant(QUuid(u"{67c8770b-44f1-410a-ab9a-f9b5446f13ee}"_s))
                          << R"("{67c8770b-44f1-410a-ab9a-f9b5446f13ee}")"_ba;
    QTest::newRow("binary without attachments") << QVariant("\x01"_ba) << "null"_ba;
    QTest::newRow("unconvertible") << QVariant(QPoint(1, 2)) << "null"_ba;
}

void TestSocketIoCodec::toJson()
{
    QFETCH(QVariant, value);
    QFETCH(QByteArray, json);

    QCOMPARE(SocketIo::toJson(value), json);

    // Whatever is written is JSON that Qt's own parser takes.
    QJsonParseError error;
    QJsonDocument::fromJson('[' + json + ']', &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
}

void TestSocketIoCodec::toJsonHash()
{
    // A hash has no order: parse the output back instead of spelling it.
    const QVariantHash hash {{u"a"_s, 1}, {u"b"_s, u"x"_s}, {u"c"_s, QVariantList {true}}};
    QVariant parsed;
    QVERIFY(SocketIo::fromJson(SocketIo::toJson(hash), &parsed));
    QCOMPARE(describe(parsed),
        describe(QVariantMap {{u"a"_s, i64(1)}, {u"b"_s, u"x"_s}, {u"c"_s, QVariantList {true}}}));
}

void TestSocketIoCodec::fromJson_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QVariant>("value");

    QTest::newRow("integer") << "1"_ba << i64(1);
    QTest::newRow("negative") << "-7"_ba << i64(-7);
    QTest::newRow("zero") << "0"_ba << i64(0);
    QTest::newRow("negative zero") << "-0"_ba << i64(0);
    QTest::newRow("integral with point") << "1.0"_ba << i64(1);
    QTest::newRow("integral exponent") << "1e3"_ba << i64(1000);
    QTest::newRow("2^53 - 1") << "9007199254740991"_ba << i64(9007199254740991);
    QTest::newRow("-(2^53 - 1)") << "-9007199254740991"_ba << i64(-9007199254740991);
    QTest::newRow("2^53") << "9007199254740992"_ba << QVariant(9007199254740992.0);
    QTest::newRow("beyond int64") << "12345678901234567890"_ba << QVariant(12345678901234567890.0);
    QTest::newRow("half") << "0.5"_ba << QVariant(0.5);
    QTest::newRow("negative fraction") << "-2.25"_ba << QVariant(-2.25);
    QTest::newRow("1e21") << "1e21"_ba << QVariant(1e21);
    QTest::newRow("small") << "1e-7"_ba << QVariant(1e-7);
    QTest::newRow("string") << R"("s")"_ba << QVariant(u"s"_s);
    QTest::newRow("escapes") << R"("a\"\\\/\b\f\n\r\t\u0041\u00e9")"_ba
                             << QVariant(u"a\"\\/\b\f\n\r\tA\u00e9"_s);
    QTest::newRow("utf8") << "\"\xf0\x9f\x98\x80\""_ba << QVariant(u"\U0001F600"_s);
    QTest::newRow("surrogate pair escape") << R"("\ud83d\ude00")"_ba << QVariant(u"\U0001F600"_s);
    QTest::newRow("lone surrogate escape") << R"("\ud83d")"_ba << QVariant(QString(QChar(0xd83d)));
    QTest::newRow("true") << "true"_ba << QVariant(true);
    QTest::newRow("false") << "false"_ba << QVariant(false);
    QTest::newRow("null") << "null"_ba << null();
    QTest::newRow("spaces") << " \t\n1 "_ba << i64(1);
    QTest::newRow("array") << R"([1,"a",null,[]])"_ba
                           << QVariant(QVariantList {i64(1), u"a"_s, null(), QVariantList()});
    QTest::newRow("object") << R"({"b":{"c":[0.5]},"a":true})"_ba
                            << QVariant(QVariantMap {{u"a"_s, true},
                                   {u"b"_s, QVariantMap {{u"c"_s, QVariantList {0.5}}}}});
    QTest::newRow("spaced array") << " [ 1 , 2 ] "_ba << QVariant(QVariantList {i64(1), i64(2)});
}

void TestSocketIoCodec::fromJson()
{
    QFETCH(QByteArray, json);
    QFETCH(QVariant, value);

    QVariant out;
    QVERIFY(SocketIo::fromJson(json, &out));
    QCOMPARE(describe(out), describe(value));
}

void TestSocketIoCodec::fromJsonErrors_data()
{
    QTest::addColumn<QByteArray>("json");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("space") << " "_ba;
    QTest::newRow("two values") << "1 2"_ba;
    QTest::newRow("two values comma") << "1,2"_ba;
    QTest::newRow("bracket after scalar") << "1]"_ba;
    QTest::newRow("arrays") << "[1],[2]"_ba;
    QTest::newRow("unclosed array") << "[1"_ba;
    QTest::newRow("unclosed object") << R"({"a":1)"_ba;
    QTest::newRow("object without value") << R"({"a"})"_ba;
    QTest::newRow("trailing comma") << "[1,]"_ba;
    QTest::newRow("single quotes") << "'x'"_ba;
    QTest::newRow("bare word") << "nul"_ba;
    QTest::newRow("overflow") << "1e400"_ba;
    QTest::newRow("unterminated string") << R"("abc)"_ba;
    QTest::newRow("invalid utf8") << "\"\xff\""_ba;
}

void TestSocketIoCodec::fromJsonErrors()
{
    QFETCH(QByteArray, json);
    QVariant out = u"untouched"_s;
    QVERIFY(!SocketIo::fromJson(json, &out));
    QCOMPARE(out, QVariant(u"untouched"_s));
}

void TestSocketIoCodec::decode_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("nsp");
    QTest::addColumn<qint64>("id");
    QTest::addColumn<QVariant>("data");

    const int connect = int(PacketType::Connect);
    const QVariantMap auth {{u"token"_s, u"abc"_s}};
    QTest::newRow("connect") << "0"_ba << connect << u"/"_s << qint64(-1) << QVariant();
    QTest::newRow("connect auth") << R"(0{"token":"abc"})"_ba << connect << u"/"_s << qint64(-1)
                                  << QVariant(auth);
    QTest::newRow("connect empty auth")
        << "0{}"_ba << connect << u"/"_s << qint64(-1) << QVariant(QVariantMap());
    QTest::newRow("connect nsp") << "0/admin,"_ba << connect << u"/admin"_s << qint64(-1)
                                 << QVariant();
    QTest::newRow("connect nsp without comma")
        << "0/admin"_ba << connect << u"/admin"_s << qint64(-1) << QVariant();
    QTest::newRow("connect nsp auth") << R"(0/admin,{"token":"abc"})"_ba << connect << u"/admin"_s
                                      << qint64(-1) << QVariant(auth);
    QTest::newRow("connect main nsp spelled")
        << "0/,"_ba << connect << u"/"_s << qint64(-1) << QVariant();
    QTest::newRow("connect utf8 nsp") << "0/\xc3\xa4"
                                         "dmin,"_ba
                                      << connect << u"/\u00e4dmin"_s << qint64(-1) << QVariant();
    QTest::newRow("connect reply")
        << R"(0{"sid":"oSO0OpakMV_3jnilAAAA"})"_ba << connect << u"/"_s << qint64(-1)
        << QVariant(QVariantMap {{u"sid"_s, u"oSO0OpakMV_3jnilAAAA"_s}});

    const int disconnect = int(PacketType::Disconnect);
    QTest::newRow("disconnect") << "1"_ba << disconnect << u"/"_s << qint64(-1) << QVariant();
    QTest::newRow("disconnect nsp")
        << "1/chat,"_ba << disconnect << u"/chat"_s << qint64(-1) << QVariant();
    QTest::newRow("disconnect nsp without comma")
        << "1/chat"_ba << disconnect << u"/chat"_s << qint64(-1) << QVariant();

    const int event = int(PacketType::Event);
    QTest::newRow("event") << R"(2["hello",1])"_ba << event << u"/"_s << qint64(-1)
                           << QVariant(QVariantList {u"hello"_s, i64(1)});
    QTest::newRow("event name only")
        << R"(2["ping"])"_ba << event << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ping"_s});
    QTest::newRow("event id") << R"(212["x"])"_ba << event << u"/"_s << qint64(12)
                              << QVariant(QVariantList {u"x"_s});
    QTest::newRow("event id 0") << R"(20["x"])"_ba << event << u"/"_s << qint64(0)
                                << QVariant(QVariantList {u"x"_s});
    QTest::newRow("event id leading zeros")
        << R"(2007["x"])"_ba << event << u"/"_s << qint64(7) << QVariant(QVariantList {u"x"_s});
    QTest::newRow("event id 15 digits")
        << R"(2999999999999999["x"])"_ba << event << u"/"_s << qint64(999999999999999)
        << QVariant(QVariantList {u"x"_s});
    QTest::newRow("event id 2^53 - 1")
        << R"(29007199254740991["x"])"_ba << event << u"/"_s << qint64(9007199254740991)
        << QVariant(QVariantList {u"x"_s});
    QTest::newRow("event nsp") << R"(2/chat,["x"])"_ba << event << u"/chat"_s << qint64(-1)
                               << QVariant(QVariantList {u"x"_s});
    // The namespace's comma followed directly by the ack id.
    QTest::newRow("event nsp id") << R"(2/chat,12["x"])"_ba << event << u"/chat"_s << qint64(12)
                                  << QVariant(QVariantList {u"x"_s});
    QTest::newRow("event nested nsp") << R"(2/a/b-c_d,1["x"])"_ba << event << u"/a/b-c_d"_s
                                      << qint64(1) << QVariant(QVariantList {u"x"_s});
    QTest::newRow("event numbers")
        << R"(2["n",0.5,1.0,-3,1e2,2.5e-1,12345678901234])"_ba << event << u"/"_s << qint64(-1)
        << QVariant(
               QVariantList {u"n"_s, 0.5, i64(1), i64(-3), i64(100), 0.25, i64(12345678901234)});
    QTest::newRow("event values")
        << R"(2["v",true,false,null,"s",{"k":[1,{}]},[]])"_ba << event << u"/"_s << qint64(-1)
        << QVariant(QVariantList {u"v"_s, true, false, null(), u"s"_s,
               QVariantMap {{u"k"_s, QVariantList {i64(1), QVariantMap()}}}, QVariantList()});
    QTest::newRow("event integer name") << R"(2[42,"a"])"_ba << event << u"/"_s << qint64(-1)
                                        << QVariant(QVariantList {u"42"_s, u"a"_s});
    QTest::newRow("event fraction name")
        << "2[1.5]"_ba << event << u"/"_s << qint64(-1) << QVariant(QVariantList {u"1.5"_s});
    QTest::newRow("event unicode name") << "2[\"\xf0\x9f\x98\x80\"]"_ba << event << u"/"_s
                                        << qint64(-1) << QVariant(QVariantList {u"\U0001F600"_s});
    QTest::newRow("event empty name") << R"(2[""])"_ba << event << u"/"_s << qint64(-1)
                                      << QVariant(QVariantList {QString(u""_s)});
    // Reserved names are reserved only as event names.
    QTest::newRow("reserved name as argument")
        << R"(2["x","connect"])"_ba << event << u"/"_s << qint64(-1)
        << QVariant(QVariantList {u"x"_s, u"connect"_s});
    QTest::newRow("reserved name other case")
        << R"(2["Connect"])"_ba << event << u"/"_s << qint64(-1)
        << QVariant(QVariantList {u"Connect"_s});
    // Placeholders mean nothing in a packet that announces no attachments.
    QTest::newRow("placeholder in text event")
        << "2[\"x\"," + placeholder(0) + ']' << event << u"/"_s << qint64(-1)
        << QVariant(
               QVariantList {u"x"_s, QVariantMap {{u"_placeholder"_s, true}, {u"num"_s, i64(0)}}});

    const int ack = int(PacketType::Ack);
    QTest::newRow("ack") << R"(3/chat,12["ok",{"n":2}])"_ba << ack << u"/chat"_s << qint64(12)
                         << QVariant(QVariantList {u"ok"_s, QVariantMap {{u"n"_s, i64(2)}}});
    QTest::newRow("ack main nsp") << "37[1,2]"_ba << ack << u"/"_s << qint64(7)
                                  << QVariant(QVariantList {i64(1), i64(2)});
    QTest::newRow("ack empty") << "31[]"_ba << ack << u"/"_s << qint64(1)
                               << QVariant(QVariantList());
    QTest::newRow("ack id 0") << "30[null]"_ba << ack << u"/"_s << qint64(0)
                              << QVariant(QVariantList {null()});

    const int connectError = int(PacketType::ConnectError);
    QTest::newRow("connect error")
        << R"(4{"message":"Not authorized","data":{"reason":"expired"}})"_ba << connectError
        << u"/"_s << qint64(-1)
        << QVariant(QVariantMap {{u"message"_s, u"Not authorized"_s},
               {u"data"_s, QVariantMap {{u"reason"_s, u"expired"_s}}}});
    QTest::newRow("connect error nsp")
        << R"(4/admin,{"message":"Not authorized"})"_ba << connectError << u"/admin"_s << qint64(-1)
        << QVariant(QVariantMap {{u"message"_s, u"Not authorized"_s}});
    QTest::newRow("connect error string") << R"(4"Not authorized")"_ba << connectError << u"/"_s
                                          << qint64(-1) << QVariant(u"Not authorized"_s);

    // Binary types with no attachment are complete at once and come out as EVENT / ACK.
    QTest::newRow("binary event without attachments")
        << R"(50-["ev",1])"_ba << event << u"/"_s << qint64(-1)
        << QVariant(QVariantList {u"ev"_s, i64(1)});
    QTest::newRow("binary ack without attachments")
        << "60-/chat,5[]"_ba << ack << u"/chat"_s << qint64(5) << QVariant(QVariantList());
}

void TestSocketIoCodec::decode()
{
    QFETCH(QByteArray, text);
    QFETCH(int, type);
    QFETCH(QString, nsp);
    QFETCH(qint64, id);
    QFETCH(QVariant, data);

    Decoder decoder;
    QCOMPARE(decoder.addText(text), Decoder::Result::Packet);
    QVERIFY(!decoder.isAwaitingAttachments());
    const Packet packet = decoder.takePacket();
    QCOMPARE(int(packet.type), type);
    QCOMPARE(packet.nsp, nsp);
    QCOMPARE(packet.id, id);
    QCOMPARE(describe(packet.data), describe(data));
    QVERIFY(stillUsable(decoder));
}

void TestSocketIoCodec::decodeBinary_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<QByteArray>>("attachments");
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("nsp");
    QTest::addColumn<qint64>("id");
    QTest::addColumn<QVariant>("data");

    const int event = int(PacketType::Event);
    const int ack = int(PacketType::Ack);
    const QByteArray a("\x01\x02", 2);
    const QByteArray b("\x00", 1);
    const QByteArray c("\xff\xfe\xfd", 3);

    QTest::newRow("top level") << "51-[\"ev\"," + placeholder(0) + ']' << QList<QByteArray> {a}
                               << event << u"/"_s << qint64(-1)
                               << QVariant(QVariantList {u"ev"_s, a});
    QTest::newRow("empty attachment")
        << "51-[\"ev\"," + placeholder(0) + ']' << QList<QByteArray> {QByteArray()} << event
        << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s, QByteArray()});
    QTest::newRow("several in order")
        << "53-[\"ev\"," + placeholder(0) + ',' + placeholder(1) + ',' + placeholder(2) + ']'
        << QList<QByteArray> {a, b, c} << event << u"/"_s << qint64(-1)
        << QVariant(QVariantList {u"ev"_s, a, b, c});
    QTest::newRow("out of order") << "53-[\"ev\"," + placeholder(2) + ',' + placeholder(0) + ','
            + placeholder(1) + ']' << QList<QByteArray> {a, b, c}
                                  << event << u"/"_s << qint64(-1)
                                  << QVariant(QVariantList {u"ev"_s, c, a, b});
    QTest::newRow("nested") << "53-[\"up\",{\"a\":{\"deep\":" + placeholder(1) + "},\"l\":[1,["
            + placeholder(0) + "]]}," + placeholder(2) + ']'
                            << QList<QByteArray> {a, b, c} << event << u"/"_s << qint64(-1)
                            << QVariant(QVariantList {u"up"_s,
                                   QVariantMap {{u"a"_s, QVariantMap {{u"deep"_s, b}}},
                                       {u"l"_s, QVariantList {i64(1), QVariantList {a}}}},
                                   c});
    QTest::newRow("same attachment twice")
        << "51-[\"ev\"," + placeholder(0) + ',' + placeholder(0) + ']' << QList<QByteArray> {a}
        << event << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s, a, a});
    QTest::newRow("unused attachment") << R"(51-["ev"])"_ba << QList<QByteArray> {a} << event
                                       << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s});
    QTest::newRow("nsp and id") << "51-/chat,7[\"ev\"," + placeholder(0) + ']'
                                << QList<QByteArray> {a} << event << u"/chat"_s << qint64(7)
                                << QVariant(QVariantList {u"ev"_s, a});
    QTest::newRow("binary ack") << "61-12[" + placeholder(0) + ']' << QList<QByteArray> {a} << ack
                                << u"/"_s << qint64(12) << QVariant(QVariantList {a});
    QTest::newRow("binary ack nsp")
        << "62-/chat,12[\"ok\"," + placeholder(0) + ',' + placeholder(1) + ']'
        << QList<QByteArray> {a, b} << ack << u"/chat"_s << qint64(12)
        << QVariant(QVariantList {u"ok"_s, a, b});
    // As in the reference parser, other keys beside a placeholder do not matter...
    QTest::newRow("placeholder with extra key")
        << R"(51-["ev",{"_placeholder":true,"num":0,"x":1}])"_ba << QList<QByteArray> {a} << event
        << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s, a});
    // ...but only the boolean true makes one.
    QTest::newRow("placeholder false")
        << R"(51-["ev",{"_placeholder":false,"num":0}])"_ba << QList<QByteArray> {a} << event
        << u"/"_s << qint64(-1)
        << QVariant(QVariantList {
               u"ev"_s, QVariantMap {{u"_placeholder"_s, false}, {u"num"_s, i64(0)}}});
    QTest::newRow("placeholder truthy")
        << R"(51-["ev",{"_placeholder":1,"num":0}])"_ba << QList<QByteArray> {a} << event << u"/"_s
        << qint64(-1)
        << QVariant(QVariantList {
               u"ev"_s, QVariantMap {{u"_placeholder"_s, i64(1)}, {u"num"_s, i64(0)}}});
    QTest::newRow("placeholder num written as double")
        << R"(51-["ev",{"_placeholder":true,"num":0.0}])"_ba << QList<QByteArray> {a} << event
        << u"/"_s << qint64(-1) << QVariant(QVariantList {u"ev"_s, a});
}

void TestSocketIoCodec::decodeBinary()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<QByteArray>, attachments);
    QFETCH(int, type);
    QFETCH(QString, nsp);
    QFETCH(qint64, id);
    QFETCH(QVariant, data);

    Decoder decoder;
    const Fed fed = feed(decoder, text, attachments);
    QCOMPARE(fed.result, Decoder::Result::Packet);
    QVERIFY(!decoder.isAwaitingAttachments());
    QCOMPARE(int(fed.packet.type), type);
    QCOMPARE(fed.packet.nsp, nsp);
    QCOMPARE(fed.packet.id, id);
    QCOMPARE(describe(fed.packet.data), describe(data));
    QVERIFY(stillUsable(decoder));
}

void TestSocketIoCodec::decodeBinaryStepByStep()
{
    Decoder decoder;
    QVERIFY(!decoder.isAwaitingAttachments());
    QCOMPARE(decoder.addText("53-[\"ev\"," + placeholder(0) + ',' + placeholder(1) + ','
                 + placeholder(2) + ']'),
        Decoder::Result::NeedMore);
    QVERIFY(decoder.isAwaitingAttachments());
    QCOMPARE(decoder.addBinary("one"), Decoder::Result::NeedMore);
    QVERIFY(decoder.isAwaitingAttachments());
    QCOMPARE(decoder.addBinary("two"), Decoder::Result::NeedMore);
    QVERIFY(decoder.isAwaitingAttachments());
    QCOMPARE(decoder.addBinary("three"), Decoder::Result::Packet);
    QVERIFY(!decoder.isAwaitingAttachments());
    const Packet packet = decoder.takePacket();
    QCOMPARE(packet.type, PacketType::Event);
    QCOMPARE(
        describe(packet.data), describe(QVariantList {u"ev"_s, "one"_ba, "two"_ba, "three"_ba}));

    // Attachments of one packet do not leak into the next.
    QCOMPARE(decoder.addText("51-[\"ev\"," + placeholder(0) + ']'), Decoder::Result::NeedMore);
    QCOMPARE(decoder.addBinary("four"), Decoder::Result::Packet);
    QCOMPARE(describe(decoder.takePacket().data), describe(QVariantList {u"ev"_s, "four"_ba}));
    QVERIFY(stillUsable(decoder));
}

void TestSocketIoCodec::decodeErrors_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<QByteArray>>("binaries"); // the last one fails, the others need more
    QTest::addColumn<int>("maxAttachments");

    const QList<QByteArray> none;
    const auto row = [&](const char *name, const QByteArray &text,
                         const QList<QByteArray> &binaries = {}, int maxAttachments = 10) {
        QTest::newRow(name) << text << binaries << maxAttachments;
    };

    row("empty", QByteArray());
    row("type 7", "7"_ba);
    row("type 7 with payload", R"(7["x"])"_ba);
    row("type 9", "9"_ba);
    row("type a", "a"_ba);
    row("type space", R"( 2["x"])"_ba);
    row("type high byte", "\xff"_ba);

    row("binary without count", R"(5-["x"])"_ba);
    row("binary count not a number", R"(5x-["x"])"_ba);
    row("binary count with letter", R"(51x-["x"])"_ba);
    row("binary count without dash", R"(51["x"])"_ba);
    row("binary count at end", "51"_ba);
    row("binary type alone", "5"_ba);
    row("binary ack type alone", "6"_ba);
    row("binary count signed", R"(5+1-["x"])"_ba);
    row("binary count negative", R"(5-1-["x"])"_ba);
    row("binary count spaced", R"(5 1-["x"])"_ba);
    row("binary count 7 digits", R"(51234567-["x"])"_ba);
    row("binary count 6 digits", R"(5123456-["x"])"_ba);
    row("too many attachments", "511-[\"x\"]"_ba);
    row("too many attachments for limit", "53-[\"x\"]"_ba, none, 2);

    row("invalid json", R"(2["a")"_ba);
    row("json with garbage", R"(2["a"]x)"_ba);
    row("json two values", R"(2["a"]["b"])"_ba);
    row("json trailing comma", R"(2["a",])"_ba);
    row("json single quotes", "2['a']"_ba);
    row("json invalid utf8", "2[\"\xff\"]"_ba);
    row("json number overflow", R"(2["a",1e400])"_ba);
    row("json unclosed object", R"(0{"a":)"_ba);
    row("negative id", R"(2-1["x"])"_ba);

    row("connect array", "0[]"_ba);
    row("connect string", R"(0"x")"_ba);
    row("connect number", "0/admin,[1]"_ba);
    row("connect null", "0null"_ba);
    row("connect true", "0true"_ba);

    row("disconnect object", "1{}"_ba);
    row("disconnect array", "1/chat,[]"_ba);
    row("disconnect string", R"(1"bye")"_ba);
    row("disconnect null", "1null"_ba);

    row("connect error without payload", "4"_ba);
    row("connect error nsp without payload", "4/admin,"_ba);
    row("connect error array", R"(4["x"])"_ba);
    row("connect error null", "4null"_ba);
    row("connect error bool", "4true"_ba);

    row("event without payload", "2"_ba);
    row("event nsp without payload", "2/chat,"_ba);
    row("event id without payload", "2/chat,12"_ba);
    row("event object", R"(2{"a":1})"_ba);
    row("event string", R"(2"ev")"_ba);
    row("event null", "2null"_ba);
    row("event empty array", "2[]"_ba);
    row("event null name", "2[null]"_ba);
    row("event bool name", "2[true]"_ba);
    row("event object name", "2[{}]"_ba);
    row("event array name", R"(2[["ev"]])"_ba);
    row("binary event empty array", "50-[]"_ba);
    row("binary event not array", "50-{}"_ba);
    row("binary event placeholder name", "51-[" + placeholder(0) + ']');

    row("ack without id", R"(3["x"])"_ba);
    row("ack nsp without id", R"(3/chat,["x"])"_ba);
    row("ack object", R"(312{"a":1})"_ba);
    row("ack string", R"(312"x")"_ba);
    row("ack without payload", "312"_ba);
    row("binary ack without id", "60-[]"_ba);
    row("binary ack not array", "60-1{}"_ba);

    row("id of 17 digits", R"(212345678901234567["x"])"_ba);
    row("ack id above 2^53 - 1", "39007199254740992[]"_ba);
    row("ack id with nsp of 20 digits", "3/chat,12345678901234567890[]"_ba);

    row("placeholder without attachments", "50-[\"ev\"," + placeholder(0) + ']');
    row("placeholder num out of range", "51-[\"ev\"," + placeholder(1) + ']', {"a"});
    row("placeholder num beyond several", "52-[\"ev\"," + placeholder(2) + ']', {"a", "b"});
    row("placeholder num negative", "51-[\"ev\"," + placeholder(-1) + ']', {"a"});
    row("placeholder num string", R"(51-["ev",{"_placeholder":true,"num":"0"}])"_ba, {"a"});
    row("placeholder num fraction", R"(51-["ev",{"_placeholder":true,"num":0.5}])"_ba, {"a"});
    row("placeholder num null", R"(51-["ev",{"_placeholder":true,"num":null}])"_ba, {"a"});
    row("placeholder num missing", R"(51-["ev",{"_placeholder":true}])"_ba, {"a"});
    row("placeholder nested bad", R"(61-1[{"x":[{"_placeholder":true,"num":5}]}])"_ba, {"a"});
}

void TestSocketIoCodec::decodeErrors()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<QByteArray>, binaries);
    QFETCH(int, maxAttachments);

    Decoder decoder(maxAttachments);
    Decoder::Result result = decoder.addText(text);
    for (const QByteArray &binary : binaries) {
        QCOMPARE(result, Decoder::Result::NeedMore);
        QVERIFY(decoder.isAwaitingAttachments());
        result = decoder.addBinary(binary);
    }
    QCOMPARE(result, Decoder::Result::Error);
    QVERIFY2(!decoder.errorString().isEmpty(), text.constData());
    QVERIFY(!decoder.isAwaitingAttachments());
    QVERIFY(stillUsable(decoder));

    // The same again, as the decoder keeps no trace of the failure.
    result = decoder.addText(text);
    for (const QByteArray &binary : binaries)
        result = decoder.addBinary(binary);
    QCOMPARE(result, Decoder::Result::Error);
    QVERIFY(stillUsable(decoder));
}

void TestSocketIoCodec::textWhileAwaitingAttachments()
{
    Decoder decoder;
    QCOMPARE(decoder.addText("52-[\"ev\"," + placeholder(0) + ',' + placeholder(1) + ']'),
        Decoder::Result::NeedMore);
    QCOMPARE(decoder.addBinary("a"), Decoder::Result::NeedMore);
    QCOMPARE(decoder.addText(R"(2["x"])"), Decoder::Result::Error);
    QVERIFY(!decoder.errorString().isEmpty());
    QVERIFY(!decoder.isAwaitingAttachments());
    // The interrupted packet is dropped, and a binary message now belongs to nothing.
    QCOMPARE(decoder.addBinary("b"), Decoder::Result::Error);
    QVERIFY(stillUsable(decoder));

    // Even an empty text message is out of place there.
    QCOMPARE(decoder.addText("51-[\"ev\"," + placeholder(0) + ']'), Decoder::Result::NeedMore);
    QCOMPARE(decoder.addText(QByteArrayView()), Decoder::Result::Error);
    QVERIFY(!decoder.errorString().isEmpty());
    QVERIFY(stillUsable(decoder));
}

void TestSocketIoCodec::binaryWithoutAnnouncement()
{
    Decoder decoder;
    QCOMPARE(decoder.addBinary("a"), Decoder::Result::Error);
    QVERIFY(!decoder.errorString().isEmpty());
    QVERIFY(stillUsable(decoder));

    // After a complete text packet.
    QCOMPARE(decoder.addText(R"(2["x"])"), Decoder::Result::Packet);
    decoder.takePacket();
    QCOMPARE(decoder.addBinary("a"), Decoder::Result::Error);
    QVERIFY(!decoder.errorString().isEmpty());

    // One more than announced.
    QCOMPARE(decoder.addText("51-[\"ev\"," + placeholder(0) + ']'), Decoder::Result::NeedMore);
    QCOMPARE(decoder.addBinary("a"), Decoder::Result::Packet);
    decoder.takePacket();
    QCOMPARE(decoder.addBinary("b"), Decoder::Result::Error);
    QVERIFY(stillUsable(decoder));
}

void TestSocketIoCodec::maxAttachments()
{
    Decoder two(2);
    QCOMPARE(two.addText("52-[\"ev\"," + placeholder(0) + ',' + placeholder(1) + ']'),
        Decoder::Result::NeedMore);
    QCOMPARE(two.addBinary("a"), Decoder::Result::NeedMore);
    QCOMPARE(two.addBinary("b"), Decoder::Result::Packet);
    QCOMPARE(two.addText(R"(53-["ev"])"), Decoder::Result::Error);
    QVERIFY(two.errorString().contains(u'2'));

    Decoder zero(0);
    QCOMPARE(zero.addText(R"(50-["ev"])"), Decoder::Result::Packet);
    QCOMPARE(zero.addText(R"(51-["ev"])"), Decoder::Result::Error);

    Decoder byDefault;
    QCOMPARE(byDefault.addText(R"(510-["ev"])"), Decoder::Result::NeedMore);
    for (int i = 0; i < 9; ++i)
        QCOMPARE(byDefault.addBinary("x"), Decoder::Result::NeedMore);
    QCOMPARE(byDefault.addBinary("x"), Decoder::Result::Packet);
    QCOMPARE(byDefault.addText(R"(511-["ev"])"), Decoder::Result::Error);
}

void TestSocketIoCodec::roundTrip_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("nsp");
    QTest::addColumn<qint64>("id");
    QTest::addColumn<QVariant>("data");

    const int event = int(PacketType::Event);
    const int ack = int(PacketType::Ack);
    const QByteArray a("\x00\x01\x02\xff", 4);
    const QByteArray b("text-looking [\"binary\"]");

    QTest::newRow("connect") << int(PacketType::Connect) << u"/"_s << qint64(-1) << QVariant();
    QTest::newRow("connect auth") << int(PacketType::Connect) << u"/admin"_s << qint64(-1)
                                  << QVariant(QVariantMap {
                                         {u"token"_s, u"t\u00f6k\"en"_s}, {u"n"_s, i64(3)}});
    QTest::newRow("disconnect") << int(PacketType::Disconnect) << u"/chat"_s << qint64(-1)
                                << QVariant();
    QTest::newRow("connect error") << int(PacketType::ConnectError) << u"/"_s << qint64(-1)
                                   << QVariant(QVariantMap {{u"message"_s, u"no"_s},
                                          {u"data"_s, QVariantMap {{u"code"_s, i64(401)}}}});
    QTest::newRow("connect error string")
        << int(PacketType::ConnectError) << u"/x"_s << qint64(-1) << QVariant(u"no"_s);
    QTest::newRow("event") << event << u"/"_s << qint64(-1)
                           << QVariant(QVariantList {u"hello"_s, i64(1), 0.5, true, null(), u""_s});
    QTest::newRow("event numbers")
        << event << u"/"_s << qint64(-1)
        << QVariant(QVariantList {u"n"_s, 0.1, -1e-300, 1e21, 9007199254740992.0,
               i64(-9007199254740991), 3.141592653589793, std::numeric_limits<double>::max(),
               std::numeric_limits<double>::denorm_min()});
    QTest::newRow("event strings")
        << event << u"/chat"_s << qint64(5)
        << QVariant(QVariantList {u"s"_s, u"\"\\/\n\r\t\b\f\x01\x1f\x7f"_s,
               u"\u00e9\u20ac\U0001F600\U0010FFFF"_s,
               QString(QChar(0xd800)) + QChar(0xdbff) + u'x' + QChar(0xdc00), QString(QChar(0))});
    QTest::newRow("event nested")
        << event << u"/"_s << qint64(-1)
        << QVariant(QVariantList {u"deep"_s,
               QVariantMap {{u"a"_s, QVariantList {QVariantMap {{u"b"_s, QVariantList {}}}}},
                   {u""_s, QVariantMap()}, {u"\u00e9"_s, null()}}});
    QTest::newRow("binary event") << event << u"/"_s << qint64(-1)
                                  << QVariant(QVariantList {u"bin"_s, a,
                                         QVariantMap {{u"x"_s, b}, {u"y"_s, QVariantList {a, b}}}});
    QTest::newRow("binary event nsp id")
        << event << u"/chat"_s << qint64(42) << QVariant(QVariantList {u"bin"_s, QByteArray()});
    QTest::newRow("ack") << ack << u"/"_s << qint64(0)
                         << QVariant(QVariantList {u"ok"_s, QVariantMap {{u"n"_s, i64(2)}}});
    QTest::newRow("binary ack") << ack << u"/chat"_s << qint64(999999999999999)
                                << QVariant(QVariantList {a, QVariantList {b}});
}

void TestSocketIoCodec::roundTrip()
{
    QFETCH(int, type);
    QFETCH(QString, nsp);
    QFETCH(qint64, id);
    QFETCH(QVariant, data);

    const Encoded encoded = SocketIo::encode(makePacket(PacketType(type), nsp, id, data));
    Decoder decoder;
    const Fed fed = feed(decoder, encoded.text, encoded.attachments);
    QCOMPARE(fed.result, Decoder::Result::Packet);
    QCOMPARE(int(fed.packet.type), type);
    QCOMPARE(fed.packet.nsp, nsp);
    QCOMPARE(fed.packet.id, id);
    QCOMPARE(describe(fed.packet.data), describe(data));

    // And the decoded packet encodes to the same messages.
    const Encoded again = SocketIo::encode(fed.packet);
    QCOMPARE(again.text, encoded.text);
    QCOMPARE(again.attachments, encoded.attachments);
}

void TestSocketIoCodec::canonicalText_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<QByteArray>>("attachments");

    for (const char *text : {"0", R"(0{"token":"abc"})", "0/admin,", R"(0/admin,{"sid":"x"})", "1",
             "1/chat,", R"(2["hello",1])", R"(2/chat,12["x"])",
             R"(2["v",0.5,-3,true,null,{"a":[{}]}])", R"(3/chat,12["ok",{"n":2}])", "30[]",
             R"(4{"data":{"r":1},"message":"Not authorized"})", R"(4/admin,"no")"})
        QTest::newRow(text) << QByteArray(text) << QList<QByteArray>();
    QTest::newRow("binary event") << "52-/chat,3[\"ev\",{\"a\":" + placeholder(0) + "},"
            + placeholder(1) + ']' << QList<QByteArray> {"a", "b"};
    QTest::newRow("binary ack") << "61-12[" + placeholder(0) + ']' << QList<QByteArray> {"a"};
}

void TestSocketIoCodec::canonicalText()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<QByteArray>, attachments);

    Decoder decoder;
    const Fed fed = feed(decoder, text, attachments);
    QCOMPARE(fed.result, Decoder::Result::Packet);
    const Encoded encoded = SocketIo::encode(fed.packet);
    QCOMPARE(encoded.text, text);
    QCOMPARE(encoded.attachments, attachments);
}

void TestSocketIoCodec::eventName_data()
{
    QTest::addColumn<QVariant>("data");
    QTest::addColumn<QString>("name");

    QTest::newRow("name and args") << QVariant(QVariantList {u"hello"_s, 1}) << u"hello"_s;
    QTest::newRow("name only") << QVariant(QVariantList {u"ping"_s}) << u"ping"_s;
    QTest::newRow("number") << QVariant(QVariantList {i64(42)}) << u"42"_s;
    QTest::newRow("string list") << QVariant(QStringList {u"ev"_s, u"arg"_s}) << u"ev"_s;
    QTest::newRow("empty list") << QVariant(QVariantList()) << QString();
    QTest::newRow("empty string list") << QVariant(QStringList()) << QString();
    QTest::newRow("invalid") << QVariant() << QString();
    QTest::newRow("string") << QVariant(u"ev"_s) << QString();
    QTest::newRow("map") << QVariant(QVariantMap {{u"ev"_s, 1}}) << QString();
    QTest::newRow("map name") << QVariant(QVariantList {QVariantMap {{u"a"_s, 1}}}) << QString();
}

void TestSocketIoCodec::eventName()
{
    QFETCH(QVariant, data);
    QFETCH(QString, name);
    QCOMPARE(SocketIo::eventName(data), name);
    // Decoded events always name themselves.
    if (!name.isEmpty()) {
        Decoder decoder;
        const Fed fed
            = feed(decoder, SocketIo::encode(makePacket(PacketType::Event, u"/"_s, -1, data)).text);
        QCOMPARE(fed.result, Decoder::Result::Packet);
        QCOMPARE(SocketIo::eventName(fed.packet.data), name);
    }
}

QTEST_APPLESS_MAIN(TestSocketIoCodec)

#include "tst_socketiocodec.moc"
