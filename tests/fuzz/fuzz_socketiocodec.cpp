#include <QSocketIo/socketiocodec.h>

#include <QtCore/qmap.h>

#include <cstddef>
#include <cstdint>

using namespace QSocketIo::SocketIo;

// Input layout: the first byte controls the run, the rest is the messages.
//   bits 0-2: how many binary messages may follow the text message (0-7); the text and the binary
//             messages are separated by 0xff bytes, which cannot occur in valid UTF-8 text, so
//             "<text>\xff<bin 0>\xff<bin 1>" feeds one text and two binary messages.
//   bit 3:    also check the JSON functions on the text alone.
//   bits 4-6: the decoder's attachment limit (0 meaning the default of 10).
//   bit 7:    feed everything twice to the same decoder.

namespace {

// A failed invariant must stop libFuzzer with a reproducer, also in builds without assertions.
void check(bool condition)
{
    if (!condition)
        __builtin_trap();
}

// QVariant's == converts between types (1 equals 1.0 and "1"); decoding must be exact, so this
// compares types too. Decoded trees hold only these types.
bool same(const QVariant &a, const QVariant &b)
{
    if (a.typeId() != b.typeId())
        return false;
    switch (a.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr:
        return true;
    case QMetaType::Bool:
        return a.toBool() == b.toBool();
    case QMetaType::LongLong:
        return a.toLongLong() == b.toLongLong();
    case QMetaType::Double:
        return a.toDouble() == b.toDouble();
    case QMetaType::QString:
        return a.toString() == b.toString();
    case QMetaType::QByteArray:
        return a.toByteArray() == b.toByteArray();
    case QMetaType::QVariantList: {
        const auto &x = *static_cast<const QVariantList *>(a.constData());
        const auto &y = *static_cast<const QVariantList *>(b.constData());
        if (x.size() != y.size())
            return false;
        for (qsizetype i = 0; i < x.size(); ++i) {
            if (!same(x.at(i), y.at(i)))
                return false;
        }
        return true;
    }
    case QMetaType::QVariantMap: {
        const auto &x = *static_cast<const QVariantMap *>(a.constData());
        const auto &y = *static_cast<const QVariantMap *>(b.constData());
        if (x.size() != y.size())
            return false;
        for (auto i = x.cbegin(), j = y.cbegin(); i != x.cend(); ++i, ++j) {
            if (i.key() != j.key() || !same(i.value(), j.value()))
                return false;
        }
        return true;
    }
    default:
        return false; // a type the decoder never makes
    }
}

int countBinary(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QByteArray:
        return 1;
    case QMetaType::QVariantList: {
        int n = 0;
        for (const QVariant &v : *static_cast<const QVariantList *>(value.constData()))
            n += countBinary(v);
        return n;
    }
    case QMetaType::QVariantMap: {
        int n = 0;
        for (const QVariant &v : *static_cast<const QVariantMap *>(value.constData()))
            n += countBinary(v);
        return n;
    }
    default:
        return 0;
    }
}

bool isReserved(const QString &name)
{
    return name == u"connect" || name == u"connect_error" || name == u"disconnect"
        || name == u"disconnecting" || name == u"newListener" || name == u"removeListener";
}

// What the decoder promises about any packet it returns.
void checkShape(const Packet &packet, bool binary)
{
    check(packet.nsp.startsWith(u'/'));
    check(!packet.nsp.contains(u','));
    check(packet.id >= -1 && packet.id <= 9007199254740991); // 2^53 - 1
    if (!binary)
        check(countBinary(packet.data) == 0);
    const int dataType = packet.data.typeId();
    switch (packet.type) {
    case PacketType::Connect:
        check(!packet.data.isValid() || dataType == QMetaType::QVariantMap);
        break;
    case PacketType::Disconnect:
        check(!packet.data.isValid());
        break;
    case PacketType::ConnectError:
        check(dataType == QMetaType::QVariantMap || dataType == QMetaType::QString);
        break;
    case PacketType::Event: {
        check(dataType == QMetaType::QVariantList);
        const auto &list = *static_cast<const QVariantList *>(packet.data.constData());
        check(!list.isEmpty() && list.first().typeId() == QMetaType::QString);
        check(!isReserved(list.first().toString()));
        check(eventName(packet.data) == list.first().toString());
        break;
    }
    case PacketType::Ack:
        check(dataType == QMetaType::QVariantList);
        check(packet.id >= 0);
        break;
    case PacketType::BinaryEvent:
    case PacketType::BinaryAck:
        check(false); // reported as Event / Ack once complete
    }
}

Decoder::Result decodeEncoded(Decoder &decoder, const Encoded &encoded)
{
    Decoder::Result result = decoder.addText(encoded.text);
    for (const QByteArray &attachment : encoded.attachments) {
        check(result == Decoder::Result::NeedMore);
        result = decoder.addBinary(attachment);
    }
    return result;
}

// Whatever decodes must survive encoding and decoding again unchanged, and its encoding must be a
// fixed point.
void checkRoundTrip(const Packet &packet)
{
    const Encoded encoded = encode(packet);
    check(encoded.attachments.size() == countBinary(packet.data));

    Decoder decoder(int(encoded.attachments.size()));
    check(decodeEncoded(decoder, encoded) == Decoder::Result::Packet);
    const Packet again = decoder.takePacket();
    check(again.type == packet.type);
    check(again.nsp == packet.nsp);
    check(again.id == packet.id);
    check(same(again.data, packet.data));

    const Encoded reencoded = encode(again);
    check(reencoded.text == encoded.text);
    check(reencoded.attachments == encoded.attachments);
}

// Feeds one text message and its binary messages; the decoder must end up idle or waiting, with
// every packet it produced passing the checks.
void feed(Decoder &decoder, const QByteArray &text, const QList<QByteArray> &binaries)
{
    const bool binaryType = !text.isEmpty() && (text.front() == '5' || text.front() == '6');
    Decoder::Result result = decoder.addText(text);
    qsizetype next = 0;
    for (;;) {
        switch (result) {
        case Decoder::Result::Error:
            check(!decoder.errorString().isEmpty());
            check(!decoder.isAwaitingAttachments());
            break;
        case Decoder::Result::Packet: {
            check(!decoder.isAwaitingAttachments());
            const Packet packet = decoder.takePacket();
            checkShape(packet, binaryType);
            checkRoundTrip(packet);
            break;
        }
        case Decoder::Result::NeedMore:
            check(decoder.isAwaitingAttachments());
            if (next == binaries.size())
                return; // left waiting; the next text message ends that with an error
            result = decoder.addBinary(binaries.at(next++));
            continue;
        }
        break;
    }
    // Binary messages that no packet announced.
    for (; next < binaries.size(); ++next) {
        check(decoder.addBinary(binaries.at(next)) == Decoder::Result::Error);
        check(!decoder.errorString().isEmpty());
    }
}

void checkJson(const QByteArray &text)
{
    QVariant value;
    if (!fromJson(text, &value))
        return;
    QByteArray json;
    QList<QByteArray> attachments;
    appendJson(json, value, &attachments);
    check(attachments.isEmpty());
    check(toJson(value) == json);
    QVariant again;
    check(fromJson(json, &again));
    check(same(again, value));
    check(toJson(again) == json);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t control = data[0];
    const QByteArray body(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));

    const qsizetype maxBinaries = control & 7;
    QList<QByteArray> parts;
    qsizetype start = 0;
    while (parts.size() < maxBinaries) {
        const qsizetype separator = body.indexOf('\xff', start);
        if (separator < 0)
            break;
        parts.append(body.sliced(start, separator - start));
        start = separator + 1;
    }
    parts.append(body.sliced(start));
    const QByteArray text = parts.takeFirst();

    if (control & 0x08)
        checkJson(text);

    const int limit = (control >> 4) & 7;
    Decoder decoder(limit == 0 ? 10 : limit);
    const int rounds = (control & 0x80) ? 2 : 1;
    for (int round = 0; round < rounds; ++round)
        feed(decoder, text, parts);

    // Whatever came before, an ordinary packet decodes once any wait is ended.
    if (decoder.isAwaitingAttachments()) {
        check(decoder.addText("2[\"x\"]") == Decoder::Result::Error);
        check(!decoder.isAwaitingAttachments());
    }
    check(decoder.addText("2/chat,1[\"x\"]") == Decoder::Result::Packet);
    const Packet packet = decoder.takePacket();
    check(packet.type == PacketType::Event && packet.nsp == u"/chat" && packet.id == 1);
    return 0;
}
