#include <QSocketIo/enginecodec.h>

#include <cstddef>
#include <cstdint>

using namespace QSocketIo::EngineIo;

namespace {

// A failed invariant must stop libFuzzer with a reproducer, also in builds without assertions.
void check(bool condition)
{
    if (!condition)
        __builtin_trap();
}

bool isDecodeError(DecodeError error)
{
    switch (error) {
    case DecodeError::Empty:
    case DecodeError::UnknownType:
    case DecodeError::InvalidBase64:
    case DecodeError::InvalidUtf8:
        return true;
    case DecodeError::None:
        break;
    }
    return false;
}

void fuzzTextFrame(QByteArrayView input)
{
    const Packet before = Packet::binaryMessage("untouched");
    Packet packet = before;
    const DecodeError error = decodeTextFrame(input, &packet);
    if (error != DecodeError::None) {
        check(isDecodeError(error));
        check(!errorString(error).isEmpty());
        check(packet == before);
        return;
    }
    check(!packet.binary);
    check(int(packet.type) >= 0 && int(packet.type) <= 6);
    // A text frame has a single spelling, so re-encoding must give back the input exactly.
    check(encodeTextFrame(packet) == input);
}

void fuzzBinaryFrame(const QByteArray &input)
{
    const Packet packet = decodeBinaryFrame(input);
    check(packet.binary);
    check(packet.type == PacketType::Message);
    check(packet.data == input);

    // The same message sent over polling instead must survive the base64 detour.
    QList<Packet> decoded;
    check(decodePayload(encodePayload({packet}), &decoded) == DecodeError::None);
    check(decoded.size() == 1);
    check(decoded.front() == packet);
}

void fuzzPayload(QByteArrayView input)
{
    const QList<Packet> sentinel = {Packet::message("sentinel")};
    QList<Packet> out = sentinel;
    const DecodeError error = decodePayload(input, &out);
    if (error != DecodeError::None) {
        check(isDecodeError(error));
        check(!errorString(error).isEmpty());
        check(out == sentinel);
        return;
    }
    check(out.size() > sentinel.size());
    check(out.front() == sentinel.front());
    const QList<Packet> packets = out.sliced(sentinel.size());
    check(packets.size() == input.count(RecordSeparator) + 1);
    for (const Packet &packet : packets) {
        check(!packet.binary || packet.type == PacketType::Message);
        if (!packet.binary) {
            check(QByteArrayView(packet.data).isValidUtf8());
            check(!packet.data.contains(RecordSeparator));
        }
    }

    const QByteArray encoded = encodePayload(packets);
    QByteArray appended;
    for (const Packet &packet : packets)
        appendToPayload(appended, packet);
    check(appended == encoded);

    // Base64 has several accepted spellings (padding may be missing, trailing bits may be set), so
    // the input need not come back byte for byte, but the packets must, and the canonical form must
    // be a fixed point.
    QList<Packet> again;
    check(decodePayload(encoded, &again) == DecodeError::None);
    check(again == packets);
    check(encodePayload(again) == encoded);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    fuzzTextFrame(input);
    fuzzBinaryFrame(input);
    fuzzPayload(input);
    return 0;
}
