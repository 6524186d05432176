#pragma once

// Socket.IO v5 packets as pure functions: no QObject, no I/O.
// https://socket.io/docs/v4/socket-io-protocol/
//
// Payloads are QVariant trees: null, bool, numbers, QString, QVariantList, QVariantMap, and
// QByteArray for binary, which may stand anywhere (nested too). Encoding replaces each
// QByteArray by a placeholder and returns it as an attachment; decoding puts attachments back.

#include "../qsocketioglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>
#include <QtCore/qvariant.h>

namespace QSocketIo::SocketIo {

enum class PacketType : quint8 {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
};

struct Packet
{
    PacketType type = PacketType::Event;
    QString nsp = QStringLiteral("/");
    qint64 id = -1; // the ack id, -1 for none
    // Connect: the auth map (or invalid); ConnectError: {"message", "data"?}; Event: the event
    // name followed by its arguments; Ack: the arguments; Disconnect: invalid.
    QVariant data;
};

// A packet ready for Engine.IO: its text message, then one binary message per attachment.
struct Encoded
{
    QByteArray text;
    QList<QByteArray> attachments;
};

// Binary packets get their type from the data: an Event or Ack with a QByteArray inside is
// sent as BinaryEvent / BinaryAck.
QSOCKETIO_EXPORT Encoded encode(const Packet &packet);

// JSON text of a payload, binary replaced by placeholders appended to `attachments`.
QSOCKETIO_EXPORT void appendJson(
    QByteArray &out, const QVariant &value, QList<QByteArray> *attachments);
QSOCKETIO_EXPORT QByteArray toJson(const QVariant &value); // no binary allowed (dropped to null)
// Parses one JSON value of any kind (object, array, string, number, literal).
QSOCKETIO_EXPORT bool fromJson(QByteArrayView json, QVariant *out);

// Reassembles packets from Engine.IO messages: a binary packet's text announces how many
// binary messages follow.
class QSOCKETIO_EXPORT Decoder
{
public:
    enum class Result { Packet, NeedMore, Error };

    explicit Decoder(int maxAttachments = 10);

    Result addText(QByteArrayView utf8);
    Result addBinary(const QByteArray &bytes);

    // Valid after Result::Packet.
    Packet takePacket() { return std::move(m_packet); }
    // Valid after Result::Error.
    QString errorString() const { return m_error; }
    bool isAwaitingAttachments() const { return m_expected > 0; }

private:
    Result fail(const QString &error);
    Result finish();

    int m_maxAttachments;
    Packet m_packet;
    int m_expected = 0;
    QList<QByteArray> m_attachments;
    QString m_error;
};

// Names a Socket.IO event may not have (connect, disconnect, ...): clients refuse them.
QSOCKETIO_EXPORT bool isReservedEventName(const QString &name);

// The event name of an Event packet's data, or an empty string when it has none.
QSOCKETIO_EXPORT QString eventName(const QVariant &data);

} // namespace QSocketIo::SocketIo

Q_DECLARE_TYPEINFO(QSocketIo::SocketIo::Packet, Q_RELOCATABLE_TYPE);
