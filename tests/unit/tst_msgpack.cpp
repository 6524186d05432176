#include "adapter/msgpack_p.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qhash.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qjsonvalue.h>
#include <QtCore/qpoint.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstandardpaths.h>
#include <QtTest/qtest.h>

#include <cmath>
#include <limits>

using namespace QSocketIo;
using namespace Qt::StringLiterals;

namespace {

QVariant i64(qint64 v)
{
    return QVariant::fromValue(v);
}

QVariant dbl(double v)
{
    return QVariant::fromValue(v);
}

QVariant null()
{
    return QVariant::fromValue(nullptr);
}

QVariant bin(const QByteArray &b)
{
    return QVariant(b);
}

QByteArray hex(const char *spaced)
{
    return QByteArray::fromHex(spaced);
}

QVariant dateMs(qint64 ms)
{
    return QVariant(QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC));
}

// A QVariant tree written out with the type of every node, so that comparing two descriptions
// checks the types as well as the values (QVariant's == treats 1 and 1.0 as equal) and a failure
// shows where the trees differ.
QString describe(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::UnknownType:
        return u"undefined"_s;
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
        return u"bin:"_s + QString::fromLatin1(value.toByteArray().toHex());
    case QMetaType::QDateTime: {
        const QDateTime dt = value.toDateTime();
        return u"date:"_s + QString::number(dt.toMSecsSinceEpoch())
            + (dt.timeSpec() == Qt::UTC ? u"Z"_s : u"(not UTC)"_s);
    }
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
            items.append(it.key() + u'=' + describe(it.value()));
        return u'{' + items.join(u',') + u'}';
    }
    default:
        return QString::fromLatin1(value.metaType().name()) + u':' + value.toString();
    }
}

QVariantList filledList(int count, const QVariant &item)
{
    QVariantList list;
    list.reserve(count);
    for (int i = 0; i < count; ++i)
        list.append(item);
    return list;
}

// Keys k00, k01, ... (sorted the same way in QVariantMap and in a JavaScript object).
QVariantMap filledMap(int count)
{
    QVariantMap map;
    for (int i = 0; i < count; ++i)
        map.insert(u"k%1"_s.arg(i, 5, 10, QChar(u'0')), i64(i));
    return map;
}

QVariant nested(int depth, const QVariant &leaf)
{
    QVariant v = leaf;
    for (int i = 0; i < depth; ++i)
        v = QVariantList {v};
    return v;
}

// A tree with every kind of value, binary among them, as the Redis adapter sends a broadcast.
QVariant sampleTree()
{
    return QVariantList {
        u"uid-1"_s,
        QVariantMap {
            {u"type"_s, i64(2)},
            {u"nsp"_s, u"/chat"_s},
            {u"data"_s,
                QVariantList {u"event"_s,
                    QVariantMap {{u"bytes"_s, bin(hex("00ff10"))},
                        {u"list"_s, QVariantList {null(), true, false}}, {u"pi"_s, dbl(3.25)},
                        {u"neg"_s, i64(-70000)},
                        {u"big"_s, i64(std::numeric_limits<qint64>::min())},
                        {u"text"_s, u"h\u00e9llo \u20ac\U0001F600"_s}},
                    bin(QByteArray(300, '\x7f'))}},
        },
        QVariantMap {{u"rooms"_s, QVariantList {u"r1"_s, u"r2"_s}}, {u"except"_s, QVariantList {}},
            {u"flags"_s, QVariantMap {}}},
    };
}

// Where tests/interop (with its node_modules) is.
QString interopDir()
{
    const QByteArray env = qgetenv("QSIO_SOURCE_DIR");
    if (!env.isEmpty())
        return QDir(QString::fromLocal8Bit(env)).filePath(u"tests/interop"_s);
    return QDir(QFileInfo(QString::fromUtf8(__FILE__)).absolutePath()).filePath(u"../interop"_s);
}

// Runs notepack.io in Node on a batch of requests, one a line: "e:<JS expression>" (which may use
// `notepack`) answers the hex of notepack.encode(value), "d:<hex>" the hex of
// notepack.encode(notepack.decode(bytes)), "t:<hex>" getTime() of the Date notepack.decode(bytes)
// makes. The requests go through stdin because a single argument is limited to 128 KiB.
const char nodeScript[] = R"JS(
const path = require('path');
const notepack = require('module').createRequire(
    path.join(process.env.QSIO_INTEROP_DIR, 'package.json'))('notepack.io');
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
const out = [];
for (const line of lines) {
  const kind = line.slice(0, 2), arg = line.slice(2);
  try {
    if (kind === 'e:') {
      out.push(notepack.encode(eval('(' + arg + ')')).toString('hex'));
    } else if (kind === 'd:') {
      out.push(notepack.encode(notepack.decode(Buffer.from(arg, 'hex'))).toString('hex'));
    } else if (kind === 't:') {
      out.push(String(notepack.decode(Buffer.from(arg, 'hex')).getTime()));
    } else {
      out.push('error: unknown request');
    }
  } catch (e) {
    out.push('error: ' + e.message);
  }
}
process.stdout.write(out.join('\n') + '\n');
)JS";

// Empty when Node or notepack.io is missing.
QString nodeExecutable()
{
    const QString node = QStandardPaths::findExecutable(u"node"_s);
    if (node.isEmpty() || !QFileInfo::exists(interopDir() + u"/node_modules/notepack.io"_s))
        return {};
    return node;
}

QStringList runNotepack(const QStringList &requests, QString *failure)
{
    QProcess node;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"QSIO_INTEROP_DIR"_s, interopDir());
    node.setProcessEnvironment(env);
    node.start(nodeExecutable(), {u"-e"_s, QString::fromUtf8(nodeScript)});
    if (!node.waitForStarted(30000)) {
        *failure = u"node did not start: "_s + node.errorString();
        return {};
    }
    node.write(requests.join(u'\n').toUtf8() + '\n');
    node.closeWriteChannel();
    if (!node.waitForFinished(60000) || node.exitCode() != 0) {
        *failure = u"node failed: "_s + QString::fromUtf8(node.readAllStandardError());
        node.kill();
        node.waitForFinished();
        return {};
    }
    QStringList answers = QString::fromUtf8(node.readAllStandardOutput()).split(u'\n');
    if (!answers.isEmpty() && answers.last().isEmpty())
        answers.removeLast();
    if (answers.size() != requests.size()) {
        *failure
            = u"node answered %1 lines to %2 requests"_s.arg(answers.size()).arg(requests.size());
        return {};
    }
    return answers;
}

// A JavaScript value and the QVariant the library would hold for it.
struct InteropCase
{
    const char *name;
    QString js;
    QVariant value;
};

QList<InteropCase> interopCases()
{
    const QString keyedObject = u"Object.fromEntries(Array.from({length: %1}, "
                                "(_, i) => ['k' + String(i).padStart(5, '0'), i]))"_s;
    return {
        {"null", u"null"_s, null()},
        {"undefined is nil", u"undefined"_s, QVariant()},
        {"true", u"true"_s, true},
        {"false", u"false"_s, false},
        {"0", u"0"_s, i64(0)},
        {"-0", u"-0"_s, dbl(-0.0)},
        {"127", u"127"_s, i64(127)},
        {"128", u"128"_s, i64(128)},
        {"255", u"255"_s, i64(255)},
        {"256", u"256"_s, i64(256)},
        {"65535", u"65535"_s, i64(65535)},
        {"65536", u"65536"_s, i64(65536)},
        {"2^32-1", u"2**32 - 1"_s, i64(0xffffffffLL)},
        {"2^32", u"2**32"_s, i64(0x100000000LL)},
        {"2^53 (int)", u"2**53"_s, i64(1LL << 53)},
        {"2^53 (double)", u"2**53"_s, dbl(9007199254740992.0)},
        {"2^60 (double)", u"2**60"_s, dbl(std::ldexp(1.0, 60))},
        {"2^63 (double)", u"2**63"_s, dbl(std::ldexp(1.0, 63))},
        {"2^63 (quint64)", u"2**63"_s, QVariant::fromValue(quint64(1) << 63)},
        {"2^64-2048 (double)", u"2**64 - 2048"_s, dbl(18446744073709549568.0)},
        {"-1", u"-1"_s, i64(-1)},
        {"-32", u"-32"_s, i64(-32)},
        {"-33", u"-33"_s, i64(-33)},
        {"-128", u"-128"_s, i64(-128)},
        {"-129", u"-129"_s, i64(-129)},
        {"-32768", u"-32768"_s, i64(-32768)},
        {"-32769", u"-32769"_s, i64(-32769)},
        {"-2^31", u"-(2**31)"_s, i64(-0x80000000LL)},
        {"-2^31-1", u"-(2**31) - 1"_s, i64(-0x80000001LL)},
        {"-2^53", u"-(2**53)"_s, i64(-(1LL << 53))},
        {"-2^63 (double)", u"-(2**63)"_s, dbl(-std::ldexp(1.0, 63))},
        {"-2^63 (int)", u"-(2**63)"_s, i64(std::numeric_limits<qint64>::min())},
        {"integral double", u"42"_s, dbl(42.0)},
        {"0.5", u"0.5"_s, dbl(0.5)},
        {"-1.5", u"-1.5"_s, dbl(-1.5)},
        {"denormal", u"5e-324"_s, dbl(5e-324)},
        {"NaN", u"NaN"_s, dbl(qQNaN())},
        {"Infinity", u"Infinity"_s, dbl(qInf())},
        {"-Infinity", u"-Infinity"_s, dbl(-qInf())},
        {"float 1.5", u"1.5"_s, QVariant(1.5f)},
        {"empty string", u"''"_s, u""_s},
        {"str 31", u"'x'.repeat(31)"_s, QString(31, u'x')},
        {"str 32", u"'x'.repeat(32)"_s, QString(32, u'x')},
        {"str 255", u"'x'.repeat(255)"_s, QString(255, u'x')},
        {"str 256", u"'x'.repeat(256)"_s, QString(256, u'x')},
        {"str 65535", u"'x'.repeat(65535)"_s, QString(65535, u'x')},
        {"str 65536", u"'x'.repeat(65536)"_s, QString(65536, u'x')},
        {"non-ASCII short", u"'h\\u00e9\\u20ac\\u{1F600}'"_s, u"h\u00e9\u20ac\U0001F600"_s},
        {"non-ASCII 33 bytes", u"'\\u20ac'.repeat(11)"_s, QString(11, QChar(0x20ac))},
        {"non-ASCII long", u"'\\u00e9\\u{1F600}'.repeat(40)"_s,
            QString(u"\u00e9\U0001F600"_s).repeated(40)},
        {"leading BOM", u"'\\ufeffbom'"_s, u"\ufeffbom"_s},
        {"NUL inside", u"'a\\u0000b'"_s, QString::fromUtf16(u"a\0b", 3)},
        {"bin 0", u"Buffer.alloc(0)"_s, bin({})},
        {"bin 2", u"Buffer.from([0, 255])"_s, bin(hex("00ff"))},
        {"bin 255", u"Buffer.alloc(255, 7)"_s, bin(QByteArray(255, 7))},
        {"bin 256", u"Buffer.alloc(256, 7)"_s, bin(QByteArray(256, 7))},
        {"bin 65535", u"Buffer.alloc(65535, 7)"_s, bin(QByteArray(65535, 7))},
        {"bin 65536", u"Buffer.alloc(65536, 7)"_s, bin(QByteArray(65536, 7))},
        {"Uint8Array", u"new Uint8Array([1, 2, 3])"_s, bin(hex("010203"))},
        {"ArrayBuffer", u"new ArrayBuffer(3)"_s, bin(QByteArray(3, 0))},
        {"array 0", u"[]"_s, QVariantList {}},
        {"array 15", u"Array(15).fill(1)"_s, filledList(15, i64(1))},
        {"array 16", u"Array(16).fill(null)"_s, filledList(16, null())},
        {"array 65535", u"Array(65535).fill(0)"_s, filledList(65535, i64(0))},
        {"array 65536", u"Array(65536).fill(0)"_s, filledList(65536, i64(0))},
        {"undefined in array", u"[1, undefined]"_s, QVariantList {i64(1), QVariant()}},
        {"map 0", u"({})"_s, QVariantMap {}},
        {"map 15", keyedObject.arg(15), filledMap(15)},
        {"map 16", keyedObject.arg(16), filledMap(16)},
        {"map 65536", keyedObject.arg(65536), filledMap(65536)},
        {"undefined and function values left out", u"({a: undefined, b: 1, c() {}})"_s,
            QVariantMap {{u"b"_s, i64(1)}}},
        {"broadcast packet",
            // Keys in QVariantMap's order.
            u"['uid-1', {data: ['event', {big: -(2**63), bytes: Buffer.from([0, 255, 16]), "
            "list: [null, true, false], neg: -70000, pi: 3.25, "
            "text: 'h\\u00e9llo \\u20ac\\u{1F600}'}, Buffer.alloc(300, 127)], nsp: '/chat', "
            "type: 2}, {except: [], flags: {}, rooms: ['r1', 'r2']}]"_s,
            sampleTree()},
        {"QStringList", u"['a', 'b']"_s, QStringList {u"a"_s, u"b"_s}},
        {"QJsonObject", u"({a: 1, b: [true, null, 0.5, 'x']})"_s,
            QJsonObject {{u"a"_s, 1}, {u"b"_s, QJsonArray {true, QJsonValue(), 0.5, u"x"_s}}}},
    };
}

} // namespace

class tst_MsgPack : public QObject
{
    Q_OBJECT

private slots:
    void encodeForms_data();
    void encodeForms();
    void appendKeepsContent();
    void decodeForms_data();
    void decodeForms();
    void roundTrip_data();
    void roundTrip();
    void undefinedExt();
    void timestampExt_data();
    void timestampExt();
    void decodeErrors_data();
    void decodeErrors();
    void nestingLimit();
    void hugeDeclaredLengths();
    void truncationsAndMutations();
    void notepackInterop_data();
    void notepackInterop();
    void notepackDates();
    void notepackReordersIndexKeys();
    void notepackHugeIntegralNumbers();

private:
    QHash<QString, QString> m_notepack; // request -> answer
    QString m_notepackFailure;
    bool m_notepackRan = false;
};

void tst_MsgPack::encodeForms_data()
{
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QByteArray>("expected");

    const auto row = [](const char *name, const QVariant &value, const QByteArray &expected) {
        QTest::newRow(name) << value << expected;
    };
    const auto repeated
        = [](const char *header, qsizetype n, char c) { return hex(header) + QByteArray(n, c); };

    row("invalid", QVariant(), hex("c0"));
    row("nullptr", null(), hex("c0"));
    row("true", true, hex("c3"));
    row("false", false, hex("c2"));

    row("fixint 0", i64(0), hex("00"));
    row("fixint 1", i64(1), hex("01"));
    row("fixint 127", i64(127), hex("7f"));
    row("uint8 128", i64(128), hex("cc80"));
    row("uint8 255", i64(255), hex("ccff"));
    row("uint16 256", i64(256), hex("cd0100"));
    row("uint16 65535", i64(65535), hex("cdffff"));
    row("uint32 65536", i64(65536), hex("ce00010000"));
    row("uint32 2^32-1", i64(0xffffffffLL), hex("ceffffffff"));
    row("uint64 2^32", i64(0x100000000LL), hex("cf0000000100000000"));
    row("uint64 INT64_MAX", i64(std::numeric_limits<qint64>::max()), hex("cf7fffffffffffffff"));
    row("uint64 UINT64_MAX", QVariant::fromValue(std::numeric_limits<quint64>::max()),
        hex("cfffffffffffffffff"));
    row("negative fixint -1", i64(-1), hex("ff"));
    row("negative fixint -32", i64(-32), hex("e0"));
    row("int8 -33", i64(-33), hex("d0df"));
    row("int8 -128", i64(-128), hex("d080"));
    row("int16 -129", i64(-129), hex("d1ff7f"));
    row("int16 -32768", i64(-32768), hex("d18000"));
    row("int32 -32769", i64(-32769), hex("d2ffff7fff"));
    row("int32 -2^31", i64(-0x80000000LL), hex("d280000000"));
    row("int64 -2^31-1", i64(-0x80000001LL), hex("d3ffffffff7fffffff"));
    row("int64 INT64_MIN", i64(std::numeric_limits<qint64>::min()), hex("d38000000000000000"));

    row("int", QVariant(int(-5)), hex("fb"));
    row("uint", QVariant(uint(300)), hex("cd012c"));
    row("short", QVariant::fromValue(short(-200)), hex("d1ff38"));
    row("ushort", QVariant::fromValue(ushort(65535)), hex("cdffff"));
    row("signed char", QVariant::fromValue(qint8(-100)), hex("d09c"));
    row("uchar", QVariant::fromValue(quint8(200)), hex("ccc8"));
    row("long", QVariant::fromValue(long(-40000)), hex("d2ffff63c0"));
    row("qulonglong small", QVariant::fromValue(quint64(7)), hex("07"));

    row("double 0.0", dbl(0.0), hex("00"));
    row("double -0.0", dbl(-0.0), hex("00"));
    row("double 1.0", dbl(1.0), hex("01"));
    row("double -1.0", dbl(-1.0), hex("ff"));
    row("double 255.0", dbl(255.0), hex("ccff"));
    row("double -129.0", dbl(-129.0), hex("d1ff7f"));
    row("double 2^53", dbl(9007199254740992.0), hex("cf0020000000000000"));
    row("double 2^63", dbl(std::ldexp(1.0, 63)), hex("cf8000000000000000"));
    row("double 2^64-2048", dbl(18446744073709549568.0), hex("cffffffffffffff800"));
    row("double 2^64", dbl(std::ldexp(1.0, 64)), hex("cb43f0000000000000"));
    row("double 1e20", dbl(1e20), hex("cb4415af1d78b58c40"));
    row("double -2^63", dbl(-std::ldexp(1.0, 63)), hex("d38000000000000000"));
    row("double -2^64", dbl(-std::ldexp(1.0, 64)), hex("cbc3f0000000000000"));
    row("double 0.5", dbl(0.5), hex("cb3fe0000000000000"));
    row("double -1.5", dbl(-1.5), hex("cbbff8000000000000"));
    row("double denormal", dbl(5e-324), hex("cb0000000000000001"));
    row("double NaN", dbl(qQNaN()), hex("cb7ff8000000000000"));
    row("double inf", dbl(qInf()), hex("cb7ff0000000000000"));
    row("double -inf", dbl(-qInf()), hex("cbfff0000000000000"));
    row("float 1.5", QVariant(1.5f), hex("cb3ff8000000000000"));
    row("float 3.0", QVariant(3.0f), hex("03"));

    row("fixstr 0", u""_s, hex("a0"));
    row("fixstr 1", u"a"_s, hex("a161"));
    row("fixstr 31", QString(31, u'x'), repeated("bf", 31, 'x'));
    row("str8 32", QString(32, u'x'), repeated("d920", 32, 'x'));
    row("str8 255", QString(255, u'x'), repeated("d9ff", 255, 'x'));
    row("str16 256", QString(256, u'x'), repeated("da0100", 256, 'x'));
    row("str16 65535", QString(65535, u'x'), repeated("daffff", 65535, 'x'));
    row("str32 65536", QString(65536, u'x'), repeated("db00010000", 65536, 'x'));
    row("UTF-8 2 bytes", u"\u00e9"_s, hex("a2c3a9"));
    row("UTF-8 3 bytes", u"\u20ac"_s, hex("a3e282ac"));
    row("UTF-8 4 bytes", u"\U0001F600"_s, hex("a4f09f9880"));
    // The length counts UTF-8 bytes: 11 characters, 33 bytes.
    row("UTF-8 str8", QString(11, QChar(0x20ac)),
        hex("d921") + QByteArray("\xe2\x82\xac").repeated(11));
    row("leading BOM kept", u"\ufeff"_s, hex("a3efbbbf"));

    row("bin8 0", bin({}), hex("c400"));
    row("bin8 1", bin(hex("ab")), hex("c401ab"));
    row("bin8 255", bin(QByteArray(255, 7)), repeated("c4ff", 255, 7));
    row("bin16 256", bin(QByteArray(256, 7)), repeated("c50100", 256, 7));
    row("bin16 65535", bin(QByteArray(65535, 7)), repeated("c5ffff", 65535, 7));
    row("bin32 65536", bin(QByteArray(65536, 7)), repeated("c600010000", 65536, 7));

    row("fixarray 0", QVariantList {}, hex("90"));
    row("fixarray 15", filledList(15, null()), repeated("9f", 15, '\xc0'));
    row("array16 16", filledList(16, null()), repeated("dc0010", 16, '\xc0'));
    row("array16 65535", filledList(65535, null()), repeated("dcffff", 65535, '\xc0'));
    row("array32 65536", filledList(65536, null()), repeated("dd00010000", 65536, '\xc0'));
    row("QStringList", QStringList {u"a"_s, u""_s}, hex("92 a161 a0"));

    row("fixmap 0", QVariantMap {}, hex("80"));
    row("fixmap 1", QVariantMap {{u"a"_s, i64(1)}}, hex("81 a161 01"));
    row("fixmap sorted", QVariantMap {{u"b"_s, i64(2)}, {u"a"_s, i64(1)}},
        hex("82 a161 01 a162 02"));
    QByteArray map15 = hex("8f");
    QByteArray map16 = hex("de0010");
    for (int i = 0; i < 16; ++i) {
        const QByteArray entry
            = hex("a6") + u"k%1"_s.arg(i, 5, 10, QChar(u'0')).toLatin1() + QByteArray(1, char(i));
        if (i < 15)
            map15 += entry;
        map16 += entry;
    }
    row("fixmap 15", filledMap(15), map15);
    row("map16 16", filledMap(16), map16);
    QByteArray map65536 = hex("df00010000");
    for (int i = 0; i < 65536; ++i) {
        map65536 += hex("a6") + u"k%1"_s.arg(i, 5, 10, QChar(u'0')).toLatin1();
        if (i < 128)
            map65536 += char(i);
        else if (i < 256)
            map65536 += hex("cc") + char(i);
        else
            map65536 += hex("cd") + char(i >> 8) + char(i & 0xff);
    }
    row("map32 65536", filledMap(65536), map65536);
    row("QVariantHash", QVariantHash {{u"k"_s, u"v"_s}}, hex("81 a16b a176"));

    row("QJsonValue null", QVariant::fromValue(QJsonValue()), hex("c0"));
    row("QJsonValue undefined", QVariant::fromValue(QJsonValue(QJsonValue::Undefined)), hex("c0"));
    row("QJsonValue integer", QVariant::fromValue(QJsonValue(qint64(1) << 40)),
        hex("cf0000010000000000"));
    row("QJsonValue double", QVariant::fromValue(QJsonValue(0.5)), hex("cb3fe0000000000000"));
    row("QJsonValue string", QVariant::fromValue(QJsonValue(u"x"_s)), hex("a178"));
    row("QJsonObject",
        QVariant::fromValue(QJsonObject {{u"b"_s, QJsonArray {true, QJsonValue()}}, {u"a"_s, 1}}),
        hex("82 a161 01 a162 92 c3 c0"));
    row("QJsonArray", QVariant::fromValue(QJsonArray {1, u"a"_s, QJsonObject {}}),
        hex("93 01 a161 80"));

    // The header's rule: a type without a MessagePack form is nil (QDateTime included, although
    // the decoder makes one from the timestamp ext).
    row("QPoint", QVariant(QPoint(1, 2)), hex("c0"));
    row("QDateTime", dateMs(0), hex("c0"));

    row("nested",
        QVariantMap {{u"a"_s, QVariantList {i64(1), u"x"_s}},
            {u"b"_s, QVariantMap {{u"c"_s, bin(hex("0102"))}}}},
        hex("82 a161 92 01 a178 a162 81 a163 c4020102"));
}

void tst_MsgPack::encodeForms()
{
    QFETCH(QVariant, value);
    QFETCH(QByteArray, expected);
    const QByteArray actual = MsgPack::encode(value);
    if (actual.size() > 64 || expected.size() > 64) {
        QCOMPARE(actual.size(), expected.size());
        QCOMPARE(actual.left(16).toHex(' '), expected.left(16).toHex(' '));
        QVERIFY(actual == expected);
    } else {
        QCOMPARE(actual.toHex(' '), expected.toHex(' '));
    }
}

void tst_MsgPack::appendKeepsContent()
{
    QByteArray out = "prefix";
    MsgPack::append(out, QVariantList {i64(1), u"a"_s});
    MsgPack::append(out, true);
    QCOMPARE(out, "prefix"_ba + hex("92 01 a161 c3"));
}

void tst_MsgPack::decodeForms_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QVariant>("expected");

    const auto row = [](const char *name, const QByteArray &input, const QVariant &expected) {
        QTest::newRow(name) << input << expected;
    };

    row("nil", hex("c0"), null());
    row("true", hex("c3"), true);
    row("false", hex("c2"), false);
    row("fixint 0", hex("00"), i64(0));
    row("fixint 127", hex("7f"), i64(127));
    row("negative fixint -1", hex("ff"), i64(-1));
    row("negative fixint -32", hex("e0"), i64(-32));
    row("uint8", hex("ccff"), i64(255));
    row("uint16", hex("cdffff"), i64(65535));
    row("uint32", hex("ceffffffff"), i64(0xffffffffLL));
    row("uint64 INT64_MAX", hex("cf7fffffffffffffff"), i64(std::numeric_limits<qint64>::max()));
    row("uint64 2^63 is double", hex("cf8000000000000000"), dbl(std::ldexp(1.0, 63)));
    row("uint64 UINT64_MAX is double", hex("cfffffffffffffffff"), dbl(std::ldexp(1.0, 64)));
    row("int8", hex("d080"), i64(-128));
    row("int16", hex("d18000"), i64(-32768));
    row("int32", hex("d280000000"), i64(-0x80000000LL));
    row("int64", hex("d38000000000000000"), i64(std::numeric_limits<qint64>::min()));
    // Forms larger than needed are still read.
    row("uint8 small", hex("cc05"), i64(5));
    row("int8 positive", hex("d005"), i64(5));
    row("int64 positive", hex("d30000000000000005"), i64(5));
    row("uint64 small", hex("cf0000000000000005"), i64(5));
    row("float32", hex("ca3fc00000"), dbl(1.5));
    row("float32 NaN", hex("ca7fc00000"), dbl(qQNaN()));
    row("float64", hex("cb3fe0000000000000"), dbl(0.5));
    row("float64 integral", hex("cb4045000000000000"), dbl(42.0));
    row("float64 -inf", hex("cbfff0000000000000"), dbl(-qInf()));
    row("fixstr empty", hex("a0"), u""_s);
    row("fixstr", hex("a3616263"), u"abc"_s);
    row("str8 short", hex("d903616263"), u"abc"_s);
    row("str16 empty", hex("da0000"), u""_s);
    row("str32", hex("db00000001 61"), u"a"_s);
    row("str UTF-8", hex("aa 68c3a9e282acf09f9880"), u"h\u00e9\u20ac\U0001F600"_s);
    row("str leading BOM kept", hex("a4 efbbbf61"), u"\ufeffa"_s);
    row("str NUL", hex("a3 610062"), QString::fromUtf16(u"a\0b", 3));
    row("bin8 empty", hex("c400"), bin({}));
    row("bin8", hex("c40200ff"), bin(hex("00ff")));
    row("bin16", hex("c50002 0102"), bin(hex("0102")));
    row("bin32", hex("c600000002 0102"), bin(hex("0102")));
    row("fixarray empty", hex("90"), QVariantList {});
    row("fixarray", hex("93 01 a161 c0"), QVariantList {i64(1), u"a"_s, null()});
    row("array16", hex("dc0001 c3"), QVariantList {true});
    row("array32", hex("dd00000001 c3"), QVariantList {true});
    row("fixmap empty", hex("80"), QVariantMap {});
    row("fixmap", hex("82 a162 02 a161 01"), QVariantMap {{u"a"_s, i64(1)}, {u"b"_s, i64(2)}});
    row("map16", hex("de0001 a0 c0"), QVariantMap {{u""_s, null()}});
    row("map32", hex("df00000001 a161 90"), QVariantMap {{u"a"_s, QVariantList {}}});
    // The last of duplicate keys wins, as in JavaScript.
    row("duplicate keys", hex("82 a161 01 a161 02"), QVariantMap {{u"a"_s, i64(2)}});
    row("nested", hex("82 a161 92 01 a178 a162 81 a163 c4020102"),
        QVariantMap {{u"a"_s, QVariantList {i64(1), u"x"_s}},
            {u"b"_s, QVariantMap {{u"c"_s, bin(hex("0102"))}}}});
    row("empty containers nested", hex("92 90 81 a0 80"),
        QVariantList {QVariantList {}, QVariantMap {{u""_s, QVariantMap {}}}});
}

void tst_MsgPack::decodeForms()
{
    QFETCH(QByteArray, input);
    QFETCH(QVariant, expected);
    QVariant actual;
    QString error;
    QVERIFY2(MsgPack::decode(input, &actual, &error), qPrintable(error));
    QCOMPARE(describe(actual), describe(expected));
}

void tst_MsgPack::roundTrip_data()
{
    QTest::addColumn<QVariant>("value");

    QTest::newRow("broadcast packet") << sampleTree();
    QTest::newRow("binary everywhere")
        << QVariant(QVariantMap {{u"a"_s, bin(QByteArray(70000, '\x01'))},
               {u"b"_s, QVariantList {bin({}), bin(hex("c1")), bin(hex("d40000"))}},
               {u"c"_s, QVariantMap {{u"d"_s, bin(QByteArray(256, '\xc0'))}}}});
    QTest::newRow("numbers") << QVariant(QVariantList {i64(0), i64(-1), i64(127), i64(-33),
        i64(65536), i64(std::numeric_limits<qint64>::max()),
        i64(std::numeric_limits<qint64>::min()), dbl(0.1), dbl(-2.5e-300), dbl(qInf())});
    QTest::newRow("strings") << QVariant(QVariantList {
        u""_s, QString(40, u'y'), u"\u00e9\u20ac\U0001F600"_s, QString(70000, QChar(0x20ac))});
    QTest::newRow("100 levels") << nested(100, u"deep"_s);
    QTest::newRow("maps 100 levels") << [] {
        QVariant v = i64(1);
        for (int i = 0; i < 100; ++i)
            v = QVariantMap {{u"k"_s, v}, {u"b"_s, bin(hex("01"))}};
        return v;
    }();
}

void tst_MsgPack::roundTrip()
{
    QFETCH(QVariant, value);
    const QByteArray bytes = MsgPack::encode(value);
    QVariant decoded;
    QString error;
    QVERIFY2(MsgPack::decode(bytes, &decoded, &error), qPrintable(error));
    QCOMPARE(describe(decoded), describe(value));
    QCOMPARE(MsgPack::encode(decoded), bytes);
}

void tst_MsgPack::undefinedExt()
{
    QVariant v = u"untouched"_s;
    QString error;
    QVERIFY2(MsgPack::decode(hex("d40000"), &v, &error), qPrintable(error));
    QVERIFY(!v.isValid());
    // notepack.io does not look at the data byte.
    QVERIFY(MsgPack::decode(hex("d40005"), &v));
    QVERIFY(!v.isValid());

    QVERIFY(MsgPack::decode(hex("93 01 d40000 02"), &v));
    QCOMPARE(describe(v), describe(QVariantList {i64(1), QVariant(), i64(2)}));

    QVERIFY(MsgPack::decode(hex("83 a161 01 a162 d40000 a163 c0"), &v));
    QCOMPARE(describe(v), describe(QVariantMap {{u"a"_s, i64(1)}, {u"c"_s, null()}}));
    // JavaScript's object ends up with the key set to undefined, which encode() then leaves out.
    QVERIFY(MsgPack::decode(hex("82 a161 01 a161 d40000"), &v));
    QCOMPARE(describe(v), describe(QVariantMap {}));
    QVERIFY(MsgPack::decode(hex("81 a161 91 d40000"), &v));
    QCOMPARE(describe(v), describe(QVariantMap {{u"a"_s, QVariantList {QVariant()}}}));

    // What notepack.io 3 makes of undefined in an array: nil.
    QCOMPARE(MsgPack::encode(QVariantList {QVariant()}).toHex(), "91c0"_ba);

    QVERIFY(!MsgPack::decode(hex("81 d40000 01"), &v, &error));
    QVERIFY2(error.contains(u"map key is undefined, not a string at byte 1"_s), qPrintable(error));
    // Only fixext 1 is undefined; notepack.io reads ext 8/16/32 of type 0 as an ArrayBuffer.
    QVERIFY(!MsgPack::decode(hex("c70100 00"), &v, &error));
    QVERIFY2(error.contains(u"unsupported ext type 0 (1 bytes) at byte 0"_s), qPrintable(error));
}

void tst_MsgPack::timestampExt_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qint64>("msecs");

    QTest::newRow("ts32 epoch") << hex("d6ff 00000000") << qint64(0);
    QTest::newRow("ts32") << hex("d6ff 6553f100") << qint64(1700000000000);
    QTest::newRow("ts32 max") << hex("d6ff ffffffff") << qint64(4294967295000);
    QTest::newRow("ts64") << hex("d7ff 1d5353006553f100") << qint64(1700000000123);
    QTest::newRow("ts64 sub-ms dropped")
        << hex("d7ff 003d08fc 00000001") << qint64(1000); // 999999 ns
    QTest::newRow("ts64 max seconds") << hex("d7ff 00000003ffffffff") << qint64(17179869183000);
    QTest::newRow("ts96 negative") << hex("c70cff 1dcd6500 ffffffffffffffff") << qint64(-500);
    // -1 s + 0.5 ms: JavaScript's Date truncates toward zero.
    QTest::newRow("ts96 negative sub-ms")
        << hex("c70cff 0007a120 ffffffffffffffff") << qint64(-999);
    QTest::newRow("ts96 positive")
        << hex("c70cff 00000000 0000000400000000") << qint64(17179869184000);
    QTest::newRow("ts96 JS max") << hex("c70cff 00000000 000007dba8218000")
                                 << qint64(8640000000000000);
    QTest::newRow("ts96 JS min") << hex("c70cff 00000000 fffff82457de8000")
                                 << qint64(-8640000000000000);
    QTest::newRow("in array") << hex("91 d6ff00000001") << qint64(1000);
}

void tst_MsgPack::timestampExt()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, msecs);
    QVariant v;
    QString error;
    QVERIFY2(MsgPack::decode(input, &v, &error), qPrintable(error));
    if (v.typeId() == QMetaType::QVariantList)
        v = v.toList().value(0);
    QCOMPARE(describe(v), describe(dateMs(msecs)));
}

void tst_MsgPack::decodeErrors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("message");

    const auto row = [](const char *name, const QByteArray &input, const QString &message) {
        QTest::newRow(name) << input << message;
    };

    row("empty", {}, u"no data"_s);
    row("reserved 0xc1", hex("c1"), u"reserved type byte 0xc1 at byte 0"_s);
    row("reserved 0xc1 nested", hex("92 01 c1"), u"reserved type byte 0xc1 at byte 2"_s);
    row("reserved 0xc1 as key", hex("81 c1 01"), u"reserved type byte 0xc1 at byte 1"_s);

    row("truncated uint16", hex("cd01"),
        u"truncated item: it runs past the end of the data at byte 0"_s);
    row("truncated float64", hex("91 cb000000"),
        u"truncated item: it runs past the end of the data at byte 1"_s);
    row("truncated str header", hex("d9"),
        u"truncated item: it runs past the end of the data at byte 0"_s);
    row("truncated str body", hex("a36162"),
        u"truncated item: it runs past the end of the data at byte 0"_s);
    row("truncated item in array", hex("93 01 cd01"),
        u"truncated item: it runs past the end of the data at byte 2"_s);
    row("truncated array", hex("92 91 01"),
        u"unexpected end of data inside an array or map at byte 3"_s);
    row("truncated map value", hex("81 a161"),
        u"unexpected end of data inside an array or map at byte 3"_s);
    row("truncated ext", hex("d6ff0000"),
        u"truncated item: it runs past the end of the data at byte 0"_s);
    row("truncated timestamp 96", hex("c70cff 00"),
        u"truncated item: it runs past the end of the data at byte 0"_s);

    row("trailing byte", hex("01 02"), u"1 trailing bytes at byte 1"_s);
    row("trailing bytes", hex("c0 c0 c0"), u"2 trailing bytes at byte 1"_s);
    row("trailing after array", hex("91 01 ff"), u"1 trailing bytes at byte 2"_s);

    row("str32 length beyond data", hex("db ffffffff 61"),
        u"truncated item: it runs past the end of the data at byte 0"_s);
    row("bin32 length beyond data", hex("c6 ffffffff"),
        u"truncated item: it runs past the end of the data at byte 0"_s);
    row("ext32 length beyond data", hex("c9 ffffffff ff"),
        u"truncated item: it runs past the end of the data at byte 0"_s);
    row("array32 count beyond data", hex("dd ffffffff"),
        u"an array of 4294967295 elements with only 0 bytes left at byte 0"_s);
    row("map32 count beyond data", hex("df ffffffff 01"),
        u"a map of 4294967295 elements with only 1 bytes left at byte 0"_s);
    row("array16 count beyond data", hex("91 dc0003 01 02"),
        u"an array of 3 elements with only 2 bytes left at byte 1"_s);
    row("map needs two bytes an entry", hex("82 a0 01"),
        u"a map of 2 elements with only 2 bytes left at byte 0"_s);

    row("integer key", hex("81 01 02"), u"map key is an integer, not a string at byte 1"_s);
    row("nil key", hex("81 c0 02"), u"map key is nil, not a string at byte 1"_s);
    row("boolean key", hex("81 c3 02"), u"map key is a boolean, not a string at byte 1"_s);
    row("float key", hex("81 cb3fe0000000000000 02"),
        u"map key is a float, not a string at byte 1"_s);
    row("binary key", hex("81 c40161 02"), u"map key is binary, not a string at byte 1"_s);
    row("array key", hex("81 90 02"), u"map key is an array, not a string at byte 1"_s);
    row("map key", hex("81 80 02"), u"map key is a map, not a string at byte 1"_s);
    row("timestamp key", hex("81 d6ff00000000 02"),
        u"map key is a timestamp, not a string at byte 1"_s);
    row("second key not a string", hex("82 a161 01 ccff 02"),
        u"map key is an integer, not a string at byte 4"_s);

    row("invalid UTF-8 byte", hex("a1 ff"), u"invalid UTF-8 in the string at byte 0"_s);
    row("invalid UTF-8 nested", hex("92 01 a2 c328"), u"invalid UTF-8 in the string at byte 2"_s);
    row("overlong UTF-8", hex("a2 c080"), u"invalid UTF-8 in the string at byte 0"_s);
    row("UTF-8 surrogate", hex("a3 eda080"), u"invalid UTF-8 in the string at byte 0"_s);
    row("UTF-8 beyond U+10FFFF", hex("a4 f4908080"), u"invalid UTF-8 in the string at byte 0"_s);
    row("UTF-8 cut short", hex("a2 61e2"), u"invalid UTF-8 in the string at byte 0"_s);
    row("invalid UTF-8 in key", hex("81 a1ff 01"), u"invalid UTF-8 in the string at byte 1"_s);

    row("ext type 5", hex("d505 0000"), u"unsupported ext type 5 (2 bytes) at byte 0"_s);
    row("ext 16 type 0", hex("c80001 00 00"), u"unsupported ext type 0 (1 bytes) at byte 0"_s);
    row("legacy date ext", hex("d700 0000000000000000"),
        u"unsupported ext type 0 (8 bytes) at byte 0"_s);
    row("timestamp of 2 bytes", hex("d5ff 0000"), u"unsupported ext type -1 (2 bytes) at byte 0"_s);
    row("timestamp of 0 bytes", hex("c700ff"), u"unsupported ext type -1 (0 bytes) at byte 0"_s);
    row("timestamp64 nanoseconds", hex("d7ff ee6b2800 00000000"),
        u"timestamp with 1000000000 nanoseconds at byte 0"_s);
    row("timestamp96 nanoseconds", hex("92 c0 c70cff 3b9aca00 0000000000000000"),
        u"timestamp with 1000000000 nanoseconds at byte 2"_s);
    row("timestamp96 beyond JS", hex("c70cff 00000000 000007dba8218001"),
        u"timestamp out of range (8640000000001 s) at byte 0"_s);
    row("timestamp96 huge", hex("c70cff 00000000 7fffffffffffffff"), u"timestamp out of range"_s);
    row("timestamp96 most negative", hex("c70cff 00000000 8000000000000000"),
        u"timestamp out of range"_s);

    row("depth 101", QByteArray(101, '\x91') + hex("c0"),
        u"nesting deeper than 100 levels at byte 100"_s);
    row("depth 101 maps", hex("81a16b").repeated(101) + hex("c0"),
        u"nesting deeper than 100 levels at byte 300"_s);
    row("depth a million", QByteArray(1'000'000, '\x91'),
        u"nesting deeper than 100 levels at byte 100"_s);
}

void tst_MsgPack::decodeErrors()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, message);
    QVariant v = u"untouched"_s;
    QString error;
    QVERIFY(!MsgPack::decode(input, &v, &error));
    QVERIFY2(error.contains(message), qPrintable(u"got: "_s + error));
    QVERIFY(!MsgPack::decode(input, &v));
    QVERIFY(!MsgPack::decode(input, nullptr, nullptr));
}

void tst_MsgPack::nestingLimit()
{
    QVariant v;
    QString error;
    QVERIFY2(MsgPack::decode(QByteArray(100, '\x91') + hex("c0"), &v, &error), qPrintable(error));
    QCOMPARE(describe(v), describe(nested(100, null())));
    QVERIFY2(
        MsgPack::decode(hex("81a16b").repeated(100) + hex("c0"), &v, &error), qPrintable(error));
    // Empty containers at the limit count too.
    QVERIFY(!MsgPack::decode(QByteArray(100, '\x91') + hex("90"), &v, &error));
    QVERIFY2(error.contains(u"at byte 100"_s), qPrintable(error));
}

void tst_MsgPack::hugeDeclaredLengths()
{
    // Each claims gigabytes; none may be allocated (ASan would report it) or waited for.
    const QByteArray inputs[] = {
        hex("dd ffffffff 01 02 03"),
        hex("df ffffffff a161 01"),
        hex("db ffffffff 616263"),
        hex("c6 ffffffff 00"),
        hex("c9 ffffffff 01 00"),
        hex("91 dd 7fffffff c0"),
        hex("dc ffff") + QByteArray(65534, '\xc0'),
    };
    QElapsedTimer timer;
    timer.start();
    for (const QByteArray &input : inputs) {
        QString error;
        QVERIFY(!MsgPack::decode(input, nullptr, &error));
        QVERIFY(!error.isEmpty());
    }
    QVERIFY(timer.elapsed() < 5000);
}

void tst_MsgPack::truncationsAndMutations()
{
    const QByteArray valid = MsgPack::encode(
        QVariantList {sampleTree(), dateMs(0), QVariantMap {{u"x"_s, bin(QByteArray(20, 'b'))}}});
    QVERIFY(MsgPack::decode(valid, nullptr));
    // Every proper prefix is incomplete.
    for (qsizetype n = 0; n < valid.size(); ++n) {
        QString error;
        if (MsgPack::decode(QByteArrayView(valid).first(n), nullptr, &error))
            QFAIL(qPrintable(u"prefix of %1 bytes decoded"_s.arg(n)));
        QVERIFY(error.contains(u"byte"_s) || n == 0);
    }
    // Damaged bytes anywhere fail or decode to something; either way nothing breaks.
    const char replacements[]
        = {'\x00', '\x7f', '\x91', '\xc1', '\xc7', '\xd4', '\xdb', '\xdd', '\xdf', '\xff'};
    int decoded = 0;
    for (qsizetype i = 0; i < valid.size(); ++i) {
        for (char r : replacements) {
            QByteArray damaged = valid;
            damaged[i] = r;
            QVariant v;
            QString error;
            if (MsgPack::decode(damaged, &v, &error)) {
                ++decoded;
                MsgPack::encode(v);
            } else {
                QVERIFY(!error.isEmpty());
            }
        }
    }
    QVERIFY(decoded > 0);
}

void tst_MsgPack::notepackInterop_data()
{
    if (nodeExecutable().isEmpty())
        QSKIP("node or tests/interop/node_modules/notepack.io missing (npm ci in tests/interop)");
    QTest::addColumn<QString>("js");
    QTest::addColumn<QVariant>("value");
    for (const InteropCase &c : interopCases())
        QTest::newRow(c.name) << c.js << c.value;
}

// notepack.io encodes each JavaScript value exactly as we encode its QVariant; our bytes, decoded
// and encoded again by notepack.io, come back unchanged; and its bytes survive our decode and
// encode unchanged.
void tst_MsgPack::notepackInterop()
{
    QFETCH(QString, js);
    QFETCH(QVariant, value);

    if (!m_notepackRan) {
        m_notepackRan = true;
        QStringList requests;
        for (const InteropCase &c : interopCases()) {
            requests.append(u"e:"_s + c.js);
            requests.append(u"d:"_s + QString::fromLatin1(MsgPack::encode(c.value).toHex()));
        }
        const QStringList answers = runNotepack(requests, &m_notepackFailure);
        for (qsizetype i = 0; i < answers.size(); ++i)
            m_notepack.insert(requests.at(i), answers.at(i));
    }
    if (!m_notepackFailure.isEmpty())
        QFAIL(qPrintable(m_notepackFailure));

    const QByteArray ours = MsgPack::encode(value).toHex();
    const QByteArray theirs = m_notepack.value(u"e:"_s + js).toLatin1();
    QVERIFY2(!theirs.startsWith("error"), theirs.constData());
    QCOMPARE(ours.left(200), theirs.left(200));
    QVERIFY(ours == theirs);

    const QByteArray reencoded = m_notepack.value(u"d:"_s + QString::fromLatin1(ours)).toLatin1();
    QVERIFY(reencoded == ours);

    QVariant decoded;
    QString error;
    QVERIFY2(MsgPack::decode(QByteArray::fromHex(theirs), &decoded, &error), qPrintable(error));
    QVERIFY(MsgPack::encode(decoded).toHex() == theirs);
}

void tst_MsgPack::notepackDates()
{
    if (nodeExecutable().isEmpty())
        QSKIP("node or tests/interop/node_modules/notepack.io missing (npm ci in tests/interop)");

    // Dates notepack.io encodes (all three timestamp forms) and the msecs we must read back.
    const QList<std::pair<QString, qint64>> dates = {
        {u"new Date(0)"_s, 0},
        {u"new Date(1700000000000)"_s, 1700000000000},
        {u"new Date(1700000000123)"_s, 1700000000123},
        {u"new Date(-1)"_s, -1},
        {u"new Date(-1700000000123)"_s, -1700000000123},
        {u"new Date(2**34 * 1000)"_s, 17179869184000},
        {u"new Date(8.64e15)"_s, 8640000000000000},
        {u"new Date(-8.64e15)"_s, -8640000000000000},
    };
    // Timestamps notepack.io does not write but may read, for its reading to agree with ours.
    const QList<QByteArray> foreign = {
        hex("d7ff 003d08fc 00000001"),
        hex("c70cff 0007a120 ffffffffffffffff"),
        hex("c70cff 3b9ac9ff fffffffffffffffe"),
        hex("c70cff 000f4240 ffffffffffffffff"),
        hex("c70cff 00000001 0000000000000000"),
    };
    QStringList requests;
    for (const auto &[js, ms] : dates)
        requests.append(u"e:"_s + js);
    for (const QByteArray &bytes : foreign)
        requests.append(u"t:"_s + QString::fromLatin1(bytes.toHex()));
    QString failure;
    const QStringList answers = runNotepack(requests, &failure);
    if (!failure.isEmpty())
        QFAIL(qPrintable(failure));

    qsizetype i = 0;
    for (const auto &[js, ms] : dates) {
        const QString &answer = answers.at(i++);
        QVariant v;
        QString error;
        QVERIFY2(MsgPack::decode(QByteArray::fromHex(answer.toLatin1()), &v, &error),
            qPrintable(js + u": "_s + answer + u": "_s + error));
        QCOMPARE(describe(v), describe(dateMs(ms)));
    }
    for (const QByteArray &bytes : foreign) {
        const QString &answer = answers.at(i++);
        QVariant v;
        QString error;
        QVERIFY2(MsgPack::decode(bytes, &v, &error), qPrintable(error));
        QCOMPARE(QString::number(v.toDateTime().toMSecsSinceEpoch()), answer);
    }
}

// QVariantMap orders keys as strings; a JavaScript object puts array-index keys first, in numeric
// order. The bytes differ, the decoded maps do not.
void tst_MsgPack::notepackReordersIndexKeys()
{
    if (nodeExecutable().isEmpty())
        QSKIP("node or tests/interop/node_modules/notepack.io missing (npm ci in tests/interop)");
    const QVariantMap map {{u"10"_s, i64(1)}, {u"9"_s, i64(2)}, {u"a"_s, i64(3)}};
    const QByteArray ours = MsgPack::encode(map);
    QCOMPARE(ours.toHex(' '), hex("83 a23130 01 a139 02 a161 03").toHex(' '));
    QString failure;
    const QStringList answers
        = runNotepack({u"d:"_s + QString::fromLatin1(ours.toHex())}, &failure);
    if (!failure.isEmpty())
        QFAIL(qPrintable(failure));
    const QByteArray theirs = QByteArray::fromHex(answers.value(0).toLatin1());
    QCOMPARE(theirs.toHex(' '), hex("83 a139 02 a23130 01 a161 03").toHex(' '));
    QVariant decoded;
    QVERIFY(MsgPack::decode(theirs, &decoded));
    QCOMPARE(describe(decoded), describe(map));
}

// notepack.io writes every integral number as an int, even beyond the 64-bit ranges where its
// arithmetic produces wrong bytes (2^64 comes out as 0). We write float64 there, which notepack.io
// reads back correctly.
void tst_MsgPack::notepackHugeIntegralNumbers()
{
    if (nodeExecutable().isEmpty())
        QSKIP("node or tests/interop/node_modules/notepack.io missing (npm ci in tests/interop)");
    const QList<std::pair<QString, double>> numbers = {
        {u"2**64"_s, std::ldexp(1.0, 64)},
        {u"1e20"_s, 1e20},
        {u"1e300"_s, 1e300},
        {u"-(2**64)"_s, -std::ldexp(1.0, 64)},
    };
    QStringList requests;
    for (const auto &[js, d] : numbers) {
        requests.append(u"e:"_s + js);
        requests.append(u"e:notepack.decode(Buffer.from('%1', 'hex')) === %2"_s.arg(
            QString::fromLatin1(MsgPack::encode(dbl(d)).toHex()), js));
    }
    QString failure;
    const QStringList answers = runNotepack(requests, &failure);
    if (!failure.isEmpty())
        QFAIL(qPrintable(failure));
    qsizetype i = 0;
    for (const auto &[js, d] : numbers) {
        const QByteArray theirs = QByteArray::fromHex(answers.at(i++).toLatin1());
        const QByteArray ours = MsgPack::encode(dbl(d));
        QCOMPARE(quint8(ours.at(0)), quint8(0xcb));
        QVERIFY2(theirs.size() == 9 && quint8(theirs.at(0)) != 0xcb, qPrintable(js));
        QVariant decoded;
        QVERIFY(MsgPack::decode(theirs, &decoded));
        QVERIFY2(decoded.toDouble() != d, qPrintable(js + u" came through notepack.io intact"_s));
        QCOMPARE(answers.at(i++), u"c3"_s); // true: notepack.io reads our float64 correctly
    }
}

QTEST_GUILESS_MAIN(tst_MsgPack)
#include "tst_msgpack.moc"
