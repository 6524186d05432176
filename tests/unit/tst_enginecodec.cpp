#include <QSocketIo/enginecodec.h>

#include <QtCore/qset.h>
#include <QtTest/qtest.h>

#include <initializer_list>

namespace QSocketIo::EngineIo {

// Found by QTest through argument-dependent lookup, so failed comparisons print the packet rather
// than nothing.
char *toString(const Packet &packet)
{
    QByteArray text = "Packet(type=" + QByteArray::number(int(packet.type))
        + (packet.binary ? ", binary, data=" : ", text, data=")
        + packet.data.toPercentEncoding(" {}\":,[]") + ')';
    return qstrdup(text.constData());
}

char *toString(DecodeError error)
{
    return qstrdup(
        (QByteArray::number(int(error)) + " (" + errorString(error).toUtf8() + ')').constData());
}

} // namespace QSocketIo::EngineIo

using namespace QSocketIo;
using namespace QSocketIo::EngineIo;

namespace {

// Building payloads from parts avoids C string hex escapes such as "\x1e4b", which the compiler
// reads as the single character 0x1e4b.
QByteArray joined(std::initializer_list<QByteArray> parts)
{
    QByteArray out;
    bool first = true;
    for (const QByteArray &part : parts) {
        if (!first)
            out.append(RecordSeparator);
        out.append(part);
        first = false;
    }
    return out;
}

QByteArray allByteValues()
{
    QByteArray bytes;
    for (int i = 0; i < 256; ++i)
        bytes.append(char(i));
    return bytes;
}

const QByteArray openJson = R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],)"
                            R"("pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})";

// Error paths must not touch the caller's list, so it starts with something recognisable.
const QList<Packet> sentinel = {Packet::message("sentinel"), Packet::binaryMessage("\x01")};

} // namespace

class TestEngineCodec : public QObject
{
    Q_OBJECT

private slots:
    void textFrame_data();
    void textFrame();
    void textFrameErrors_data();
    void textFrameErrors();
    void textFrameKeepsSeparator();
    void binaryFrame_data();
    void binaryFrame();
    void encodePayload_data();
    void encodePayload();
    void decodePayload_data();
    void decodePayload();
    void appendToPayloadMatchesEncodePayload_data();
    void appendToPayloadMatchesEncodePayload();
    void encodeEmptyPayload();
    void decodePayloadAppends();
    void decodePayloadAcceptsUnpaddedBase64();
    void payloadErrors_data();
    void payloadErrors();
    void largePayloadRoundTrip();
    void errorStrings();
};

void TestEngineCodec::textFrame_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<PacketType>("type");
    QTest::addColumn<QByteArray>("data");

    QTest::newRow("open") << "0" + openJson << PacketType::Open << openJson;
    QTest::newRow("close") << QByteArray("1") << PacketType::Close << QByteArray();
    QTest::newRow("ping") << QByteArray("2") << PacketType::Ping << QByteArray();
    QTest::newRow("ping probe") << QByteArray("2probe") << PacketType::Ping << QByteArray("probe");
    QTest::newRow("pong probe") << QByteArray("3probe") << PacketType::Pong << QByteArray("probe");
    QTest::newRow("message") << QByteArray("4hello") << PacketType::Message << QByteArray("hello");
    QTest::newRow("empty message") << QByteArray("4") << PacketType::Message << QByteArray();
    QTest::newRow("message of digits")
        << QByteArray("4042") << PacketType::Message << QByteArray("042");
    QTest::newRow("message starting with b")
        << QByteArray("4bAQID") << PacketType::Message << QByteArray("bAQID");
    QTest::newRow("message with NUL")
        << QByteArray("4a\0b", 4) << PacketType::Message << QByteArray("a\0b", 3);
    QTest::newRow("utf8 message") << QByteArray("4€ and 日本") << PacketType::Message
                                  << QByteArray("€ and 日本");
    QTest::newRow("upgrade") << QByteArray("5") << PacketType::Upgrade << QByteArray();
    QTest::newRow("noop") << QByteArray("6") << PacketType::Noop << QByteArray();
}

void TestEngineCodec::textFrame()
{
    QFETCH(QByteArray, frame);
    QFETCH(PacketType, type);
    QFETCH(QByteArray, data);

    Packet decoded = Packet::binaryMessage("stale");
    QCOMPARE(decodeTextFrame(frame, &decoded), DecodeError::None);
    QCOMPARE(decoded.type, type);
    QVERIFY(!decoded.binary);
    QCOMPARE(decoded.data, data);
    QCOMPARE(decoded, Packet::text(type, data));

    QCOMPARE(encodeTextFrame(Packet::text(type, data)), frame);
    QCOMPARE(encodeTextFrame(decoded), frame);
}

void TestEngineCodec::textFrameErrors_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<DecodeError>("error");

    QTest::newRow("empty") << QByteArray() << DecodeError::Empty;
    QTest::newRow("type 7") << QByteArray("7") << DecodeError::UnknownType;
    QTest::newRow("type 9 with data") << QByteArray("9hello") << DecodeError::UnknownType;
    QTest::newRow("letter x") << QByteArray("x") << DecodeError::UnknownType;
    QTest::newRow("slash, just below 0") << QByteArray("/") << DecodeError::UnknownType;
    // Binary messages travel as binary WebSocket frames, never as 'b' + base64 text.
    QTest::newRow("base64 binary") << QByteArray("bAQID") << DecodeError::UnknownType;
    QTest::newRow("leading space") << QByteArray(" 4hello") << DecodeError::UnknownType;
    QTest::newRow("NUL type") << QByteArray("\0", 1) << DecodeError::UnknownType;
    QTest::newRow("separator") << QByteArray(1, RecordSeparator) << DecodeError::UnknownType;
    QTest::newRow("multibyte first") << QByteArray("€") << DecodeError::UnknownType;
}

void TestEngineCodec::textFrameErrors()
{
    QFETCH(QByteArray, frame);
    QFETCH(DecodeError, error);

    const Packet before = Packet::text(PacketType::Pong, "untouched");
    Packet packet = before;
    QCOMPARE(decodeTextFrame(frame, &packet), error);
    QCOMPARE(packet, before);
}

void TestEngineCodec::textFrameKeepsSeparator()
{
    // A WebSocket frame holds exactly one packet, so a record separator in it is plain data.
    const QByteArray frame = joined({"4a", "b"});
    Packet packet;
    QCOMPARE(decodeTextFrame(frame, &packet), DecodeError::None);
    QCOMPARE(packet, Packet::message(joined({"a", "b"})));
}

void TestEngineCodec::binaryFrame_data()
{
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("three bytes") << QByteArray("\x01\x02\x03");
    QTest::newRow("looks like a text packet") << QByteArray("4hello");
    QTest::newRow("looks like base64") << QByteArray("bAQID");
    QTest::newRow("all byte values") << allByteValues();
}

void TestEngineCodec::binaryFrame()
{
    QFETCH(QByteArray, bytes);

    const Packet packet = decodeBinaryFrame(bytes);
    QCOMPARE(packet.type, PacketType::Message);
    QVERIFY(packet.binary);
    QCOMPARE(packet.data, bytes);
    QCOMPARE(packet, Packet::binaryMessage(bytes));
}

// Shared by the encode, decode and append tests: each row must hold in every direction.
static void payloadCases()
{
    QTest::addColumn<QList<Packet>>("packets");
    QTest::addColumn<QByteArray>("payload");

    using Packets = QList<Packet>;
    QTest::newRow("single message") << Packets {Packet::message("hello")} << QByteArray("4hello");
    QTest::newRow("empty message") << Packets {Packet::message({})} << QByteArray("4");
    QTest::newRow("open") << Packets {Packet::text(PacketType::Open, openJson)} << "0" + openJson;
    QTest::newRow("close") << Packets {Packet::text(PacketType::Close)} << QByteArray("1");
    QTest::newRow("noop") << Packets {Packet::text(PacketType::Noop)} << QByteArray("6");

    const Packets textPackets = {Packet::text(PacketType::Ping), Packet::message("a"),
        Packet::message("bc"), Packet::text(PacketType::Close)};
    QTest::newRow("many text packets") << textPackets << joined({"2", "4a", "4bc", "1"});

    const Packets emptyMessages = {Packet::message({}), Packet::message({}), Packet::message({})};
    QTest::newRow("repeated empty messages") << emptyMessages << joined({"4", "4", "4"});

    QTest::newRow("binary") << Packets {Packet::binaryMessage("\x01\x02\x03")}
                            << QByteArray("bAQID");
    QTest::newRow("binary with padding")
        << Packets {Packet::binaryMessage("\x01\x02")} << QByteArray("bAQI=");
    QTest::newRow("binary with double padding")
        << Packets {Packet::binaryMessage("\x01")} << QByteArray("bAQ==");
    QTest::newRow("empty binary") << Packets {Packet::binaryMessage({})} << QByteArray("b");

    const QByteArray bytes = allByteValues();
    QTest::newRow("binary of all byte values")
        << Packets {Packet::binaryMessage(bytes)} << "b" + bytes.toBase64();

    const Packets mixed = {Packet::message("hi"), Packet::binaryMessage(QByteArray("\x00\xff", 2)),
        Packet::text(PacketType::Noop), Packet::binaryMessage("\x01\x02\x03"),
        Packet::message("bye")};
    QTest::newRow("binary mixed with text")
        << mixed << joined({"4hi", "bAP8=", "6", "bAQID", "4bye"});

    QTest::newRow("utf8 message") << Packets {Packet::message("€ and 日本")}
                                  << QByteArray("4€ and 日本");

    const Packets utf8Mixed
        = {Packet::message("日本"), Packet::message("😀"), Packet::binaryMessage("€")};
    QTest::newRow("utf8 among others") << utf8Mixed << joined({"4日本", "4😀", "b4oKs"});

    QTest::newRow("message with NUL")
        << Packets {Packet::message(QByteArray("a\0b", 3))} << QByteArray("4a\0b", 4);
}

void TestEngineCodec::encodePayload_data()
{
    payloadCases();
}

void TestEngineCodec::encodePayload()
{
    QFETCH(QList<Packet>, packets);
    QFETCH(QByteArray, payload);

    QCOMPARE(EngineIo::encodePayload(packets), payload);
}

void TestEngineCodec::decodePayload_data()
{
    payloadCases();
}

void TestEngineCodec::decodePayload()
{
    QFETCH(QList<Packet>, packets);
    QFETCH(QByteArray, payload);

    QList<Packet> decoded;
    QCOMPARE(EngineIo::decodePayload(payload, &decoded), DecodeError::None);
    QCOMPARE(decoded, packets);

    // Round trip the other way too: what was decoded encodes back to the same bytes.
    QCOMPARE(EngineIo::encodePayload(decoded), payload);
}

void TestEngineCodec::appendToPayloadMatchesEncodePayload_data()
{
    payloadCases();
}

void TestEngineCodec::appendToPayloadMatchesEncodePayload()
{
    QFETCH(QList<Packet>, packets);
    QFETCH(QByteArray, payload);

    QByteArray appended;
    for (const Packet &packet : std::as_const(packets))
        appendToPayload(appended, packet);
    QCOMPARE(appended, payload);
}

void TestEngineCodec::encodeEmptyPayload()
{
    QCOMPARE(EngineIo::encodePayload({}), QByteArray());
}

void TestEngineCodec::decodePayloadAppends()
{
    QList<Packet> out = sentinel;
    QCOMPARE(EngineIo::decodePayload(joined({"4a", "bAQID"}), &out), DecodeError::None);
    const QList<Packet> decoded = {Packet::message("a"), Packet::binaryMessage("\x01\x02\x03")};
    QCOMPARE(out, sentinel + decoded);
}

void TestEngineCodec::decodePayloadAcceptsUnpaddedBase64()
{
    // Lenient on input: some clients strip the padding.
    QList<Packet> out;
    QCOMPARE(EngineIo::decodePayload(joined({"bAQI", "bAQ"}), &out), DecodeError::None);
    const QList<Packet> expected
        = {Packet::binaryMessage("\x01\x02"), Packet::binaryMessage("\x01")};
    QCOMPARE(out, expected);
}

void TestEngineCodec::payloadErrors_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<DecodeError>("error");

    QTest::newRow("empty payload") << QByteArray() << DecodeError::Empty;
    QTest::newRow("only a separator") << joined({"", ""}) << DecodeError::Empty;
    QTest::newRow("empty part between separators")
        << joined({"4a", "", "4b"}) << DecodeError::Empty;
    QTest::newRow("trailing separator") << joined({"4a", ""}) << DecodeError::Empty;
    QTest::newRow("leading separator") << joined({"", "4a"}) << DecodeError::Empty;

    QTest::newRow("type 7") << QByteArray("7") << DecodeError::UnknownType;
    QTest::newRow("letter x") << QByteArray("xhello") << DecodeError::UnknownType;
    QTest::newRow("slash, just below 0") << QByteArray("/") << DecodeError::UnknownType;
    QTest::newRow("colon, just above 9") << QByteArray(":") << DecodeError::UnknownType;
    QTest::newRow("upper-case B") << QByteArray("BAQID") << DecodeError::UnknownType;
    QTest::newRow("unknown type after good ones")
        << joined({"4a", "bAQID", "7"}) << DecodeError::UnknownType;

    QTest::newRow("invalid base64") << QByteArray("b!!!!") << DecodeError::InvalidBase64;
    QTest::newRow("base64 with space") << QByteArray("bAQ ID") << DecodeError::InvalidBase64;
    QTest::newRow("base64url alphabet") << QByteArray("b-_-_") << DecodeError::InvalidBase64;
    QTest::newRow("padding in the middle") << QByteArray("bAQ==AQI") << DecodeError::InvalidBase64;
    QTest::newRow("padding with bad length") << QByteArray("bAQID=") << DecodeError::InvalidBase64;
    QTest::newRow("invalid base64 after good parts")
        << joined({"4a", "bAQID", "b*"}) << DecodeError::InvalidBase64;

    QTest::newRow("bytes ff fe") << QByteArray("4\xff\xfe") << DecodeError::InvalidUtf8;
    QTest::newRow("lone continuation byte") << QByteArray("4\x80") << DecodeError::InvalidUtf8;
    QTest::newRow("truncated 3-byte sequence at end")
        << QByteArray("4\xe2\x82") << DecodeError::InvalidUtf8;
    QTest::newRow("truncated 2-byte sequence before separator")
        << joined({"4\xc3", "4ok"}) << DecodeError::InvalidUtf8;
    QTest::newRow("truncated 4-byte sequence mid-text")
        << QByteArray("4a\xf0\x9f\x98z") << DecodeError::InvalidUtf8;
    QTest::newRow("overlong NUL") << QByteArray("4\xc0\x80") << DecodeError::InvalidUtf8;
    QTest::newRow("overlong slash, 2 bytes") << QByteArray("4\xc1\xaf") << DecodeError::InvalidUtf8;
    QTest::newRow("overlong slash, 3 bytes")
        << QByteArray("4\xe0\x80\xaf") << DecodeError::InvalidUtf8;
    QTest::newRow("overlong euro, 4 bytes")
        << QByteArray("4\xf0\x82\x82\xac") << DecodeError::InvalidUtf8;
    QTest::newRow("UTF-16 surrogate") << QByteArray("4\xed\xa0\x80") << DecodeError::InvalidUtf8;
    QTest::newRow("beyond U+10FFFF") << QByteArray("4\xf4\x90\x80\x80") << DecodeError::InvalidUtf8;
    QTest::newRow("lead byte f5") << QByteArray("4\xf5\x80\x80\x80") << DecodeError::InvalidUtf8;
    QTest::newRow("latin-1 text") << QByteArray("4caf\xe9") << DecodeError::InvalidUtf8;
    QTest::newRow("invalid utf8 after good parts")
        << joined({"4a", "bAQID", "4\xff"}) << DecodeError::InvalidUtf8;
    QTest::newRow("invalid utf8 in non-message packet")
        << QByteArray("2probe\xff") << DecodeError::InvalidUtf8;
}

void TestEngineCodec::payloadErrors()
{
    QFETCH(QByteArray, payload);
    QFETCH(DecodeError, error);

    QList<Packet> out = sentinel;
    QCOMPARE(EngineIo::decodePayload(payload, &out), error);
    QCOMPARE(out, sentinel);
}

void TestEngineCodec::largePayloadRoundTrip()
{
    QList<Packet> packets;
    for (int i = 0; i < 1000; ++i) {
        const QByteArray n = QByteArray::number(i);
        switch (i % 4) {
        case 0:
            packets.append(Packet::message("message " + n + " €"));
            break;
        case 1:
            packets.append(Packet::binaryMessage(QByteArray(i % 7, char(i))));
            break;
        case 2:
            packets.append(Packet::text(PacketType::Ping));
            break;
        default:
            packets.append(Packet::message({}));
        }
    }

    const QByteArray payload = EngineIo::encodePayload(packets);
    QCOMPARE(payload.count(RecordSeparator), packets.size() - 1);
    QList<Packet> decoded;
    QCOMPARE(EngineIo::decodePayload(payload, &decoded), DecodeError::None);
    QCOMPARE(decoded, packets);
}

void TestEngineCodec::errorStrings()
{
    const QList<DecodeError> errors = {DecodeError::None, DecodeError::Empty,
        DecodeError::UnknownType, DecodeError::InvalidBase64, DecodeError::InvalidUtf8};
    QSet<QString> seen;
    for (DecodeError error : errors) {
        const QString message = errorString(error);
        QVERIFY2(!message.trimmed().isEmpty(), QByteArray::number(int(error)).constData());
        QVERIFY2(!seen.contains(message), qPrintable(message));
        seen.insert(message);
    }
    QCOMPARE(seen.size(), errors.size());
}

QTEST_APPLESS_MAIN(TestEngineCodec)
#include "tst_enginecodec.moc"
