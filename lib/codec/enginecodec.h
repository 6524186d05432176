#pragma once

// Engine.IO v4 packets and payloads as pure functions: no QObject, no I/O.
// https://socket.io/docs/v4/engine-io-protocol/

#include "../qsocketioglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

namespace QSocketIo::EngineIo {

enum class PacketType : quint8 {
    Open = 0,
    Close = 1,
    Ping = 2,
    Pong = 3,
    Message = 4,
    Upgrade = 5,
    Noop = 6,
};

// One Engine.IO packet. `data` is UTF-8 text, or raw bytes when `binary` is set (binary packets are
// always messages). The QByteArray is implicitly shared, so a packet handed to many sessions is not
// copied.
struct Packet
{
    PacketType type = PacketType::Message;
    bool binary = false;
    QByteArray data;

    static Packet text(PacketType type, const QByteArray &data = {}) { return {type, false, data}; }
    static Packet message(const QByteArray &utf8) { return {PacketType::Message, false, utf8}; }
    static Packet binaryMessage(const QByteArray &bytes)
    {
        return {PacketType::Message, true, bytes};
    }

    friend bool operator==(const Packet &a, const Packet &b)
    {
        return a.type == b.type && a.binary == b.binary && a.data == b.data;
    }
    friend bool operator!=(const Packet &a, const Packet &b) { return !(a == b); }
};

enum class DecodeError {
    None,
    Empty, // no bytes where a packet was expected
    UnknownType, // the first character is not '0'..'6' (or 'b' in a payload)
    InvalidBase64, // 'b' packet whose rest is not base64
    InvalidUtf8, // a text packet that is not UTF-8
};

QSOCKETIO_EXPORT QString errorString(DecodeError error);

// The record separator between packets of a polling payload.
inline constexpr char RecordSeparator = '\x1e';

// WebSocket: one packet per frame. A text frame is "<type digit><data>", a binary frame is the raw
// bytes of a binary message.
// encodeTextFrame() takes a text packet; a binary packet must go out as a binary frame (its data).
QSOCKETIO_EXPORT QByteArray encodeTextFrame(const Packet &packet);
// `utf8` must already be valid UTF-8 (WebSocket text frames are validated by the transport).
QSOCKETIO_EXPORT DecodeError decodeTextFrame(QByteArrayView utf8, Packet *out);
QSOCKETIO_EXPORT Packet decodeBinaryFrame(const QByteArray &bytes);

// HTTP long-polling: packets joined by RecordSeparator; a binary message is 'b' + base64.
QSOCKETIO_EXPORT void appendToPayload(QByteArray &payload, const Packet &packet);
QSOCKETIO_EXPORT QByteArray encodePayload(const QList<Packet> &packets);
// Decodes every packet or none: on error `out` is left unchanged.
QSOCKETIO_EXPORT DecodeError decodePayload(QByteArrayView payload, QList<Packet> *out);

} // namespace QSocketIo::EngineIo
