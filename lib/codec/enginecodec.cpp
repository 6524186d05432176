#include "enginecodec.h"

namespace QSocketIo::EngineIo {

QString errorString(DecodeError error)
{
    switch (error) {
    case DecodeError::None:
        return QStringLiteral("no error");
    case DecodeError::Empty:
        return QStringLiteral("empty packet");
    case DecodeError::UnknownType:
        return QStringLiteral("unknown packet type");
    case DecodeError::InvalidBase64:
        return QStringLiteral("invalid base64 in binary packet");
    case DecodeError::InvalidUtf8:
        return QStringLiteral("text packet is not valid UTF-8");
    }
    return QStringLiteral("unknown error");
}

static bool isValidUtf8(QByteArrayView bytes)
{
    // Strict RFC 3629 (rejects overlongs, surrogates, > U+10FFFF, truncations) without building a
    // QString. QStringDecoder::decode() would not do: it returns a lazy proxy that decodes nothing
    // unless converted, so its hasError() stays false.
    return bytes.isValidUtf8();
}

QByteArray encodeTextFrame(const Packet &packet)
{
    Q_ASSERT(!packet.binary);
    QByteArray out;
    out.reserve(packet.data.size() + 1);
    out.append(char('0' + int(packet.type)));
    out.append(packet.data);
    return out;
}

DecodeError decodeTextFrame(QByteArrayView utf8, Packet *out)
{
    if (utf8.isEmpty())
        return DecodeError::Empty;
    const char c = utf8.front();
    if (c < '0' || c > '6')
        return DecodeError::UnknownType;
    out->type = PacketType(c - '0');
    out->binary = false;
    out->data = utf8.sliced(1).toByteArray();
    return DecodeError::None;
}

Packet decodeBinaryFrame(const QByteArray &bytes)
{
    return Packet::binaryMessage(bytes);
}

void appendToPayload(QByteArray &payload, const Packet &packet)
{
    if (!payload.isEmpty())
        payload.append(RecordSeparator);
    if (packet.binary) {
        payload.append('b');
        payload.append(packet.data.toBase64());
    } else {
        payload.append(char('0' + int(packet.type)));
        payload.append(packet.data);
    }
}

QByteArray encodePayload(const QList<Packet> &packets)
{
    QByteArray out;
    qsizetype size = 0;
    for (const Packet &p : packets)
        size += 1 + (p.binary ? (p.data.size() + 2) / 3 * 4 + 1 : p.data.size() + 1);
    out.reserve(size);
    for (const Packet &p : packets)
        appendToPayload(out, p);
    return out;
}

static DecodeError decodeOne(QByteArrayView part, Packet *out)
{
    if (part.isEmpty())
        return DecodeError::Empty;
    if (part.front() == 'b') {
        auto result = QByteArray::fromBase64Encoding(
            part.sliced(1).toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
        if (!result)
            return DecodeError::InvalidBase64;
        *out = Packet::binaryMessage(std::move(result.decoded));
        return DecodeError::None;
    }
    if (!isValidUtf8(part))
        return DecodeError::InvalidUtf8;
    return decodeTextFrame(part, out);
}

DecodeError decodePayload(QByteArrayView payload, QList<Packet> *out)
{
    if (payload.isEmpty())
        return DecodeError::Empty;
    QList<Packet> packets;
    qsizetype start = 0;
    while (true) {
        qsizetype end = payload.indexOf(RecordSeparator, start);
        if (end < 0)
            end = payload.size();
        Packet packet;
        const DecodeError error = decodeOne(payload.sliced(start, end - start), &packet);
        if (error != DecodeError::None)
            return error;
        packets.append(std::move(packet));
        if (end == payload.size())
            break;
        start = end + 1;
    }
    out->append(std::move(packets));
    return DecodeError::None;
}

} // namespace QSocketIo::EngineIo
