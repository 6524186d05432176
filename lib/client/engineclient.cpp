#include "engineclient_p.h"

#include "clientlogging_p.h"

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>

namespace QSocketIo {

using namespace Qt::StringLiterals;
using EngineIo::Packet;
using EngineIo::PacketType;

EngineClient::EngineClient(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    m_pingTimer.setSingleShot(true);
    connect(&m_pingTimer, &QTimer::timeout, this, [this] { onClose(u"ping timeout"_s); });
}

EngineClient::~EngineClient()
{
    if (m_probe) {
        m_probe->close();
        delete m_probe;
    }
    if (m_transport) {
        m_transport->close();
        delete m_transport;
    }
}

QString EngineClient::transportName() const
{
    return m_transport && m_state != State::Closed ? m_transport->name() : QString();
}

bool EngineClient::isWritable() const
{
    return m_state == State::Open && !m_upgrading && m_transport && m_transport->isWritable();
}

ClientTransport *EngineClient::createTransport(const QString &name)
{
    if (name == u"websocket")
        return new WebSocketTransport(m_options.transport, this);
    return new PollingTransport(m_options.transport, this);
}

void EngineClient::setTransport(ClientTransport *transport)
{
    if (m_transport) {
        QObject::disconnect(m_transport, nullptr, this, nullptr);
        m_transport->deleteLater();
    }
    m_transport = transport;
    connect(transport, &ClientTransport::packetReceived, this, &EngineClient::onPacket);
    connect(transport, &ClientTransport::drained, this, &EngineClient::flush);
    connect(transport, &ClientTransport::closed, this,
        [this](const QString &description) { onClose(u"transport close"_s, description); });
    connect(transport, &ClientTransport::failed, this, &EngineClient::onError);
}

void EngineClient::open()
{
    Q_ASSERT(m_state == State::Closed);
    const QString first = m_options.transports.value(0, u"polling"_s);
    m_state = State::Opening;
    setTransport(createTransport(first));
    qCDebug(lcClient).noquote() << "opening" << first << "to" << m_options.transport.url.toString();
    m_transport->open();
}

void EngineClient::send(const QList<Packet> &packets)
{
    if (m_state != State::Open && m_state != State::Opening)
        return;
    for (const Packet &packet : packets) {
        qCDebug(lcClientTraffic).noquote()
            << "out" << int(packet.type)
            << (packet.binary ? u"<%1 bytes>"_s.arg(packet.data.size())
                              : QString::fromUtf8(packet.data.left(200)));
    }
    m_writeBuffer.append(packets);
    flush();
}

void EngineClient::onPacket(const Packet &packet)
{
    if (m_state == State::Closed)
        return;
    qCDebug(lcClientTraffic).noquote()
        << "in" << int(packet.type)
        << (packet.binary ? u"<%1 bytes>"_s.arg(packet.data.size())
                          : QString::fromUtf8(packet.data.left(200)));
    switch (packet.type) {
    case PacketType::Open:
        if (m_state == State::Opening)
            onHandshake(packet.data);
        break;
    case PacketType::Ping:
        m_pingTimer.start(m_pingInterval + m_pingTimeout);
        send({Packet::text(PacketType::Pong, packet.data)});
        break;
    case PacketType::Message:
        if (m_state == State::Open || m_state == State::Closing)
            Q_EMIT messageReceived(packet);
        break;
    case PacketType::Close:
    case PacketType::Pong:
    case PacketType::Upgrade:
    case PacketType::Noop:
        break;
    }
}

void EngineClient::onHandshake(const QByteArray &json)
{
    const QJsonObject open = QJsonDocument::fromJson(json).object();
    const QString sid = open.value(u"sid").toString();
    if (sid.isEmpty()) {
        onError(u"server error"_s, u"invalid open packet: "_s + QString::fromUtf8(json.left(200)));
        return;
    }
    m_id = sid;
    m_pingInterval = open.value(u"pingInterval").toInt(25000);
    m_pingTimeout = open.value(u"pingTimeout").toInt(20000);
    m_maxPayload = qint64(open.value(u"maxPayload").toDouble(0));
    m_upgrades.clear();
    for (const auto &upgrade : open.value(u"upgrades").toArray()) {
        if (m_options.transports.contains(upgrade.toString()))
            m_upgrades.append(upgrade.toString());
    }
    m_transport->setSid(sid);
    m_state = State::Open;
    qCDebug(lcClient).noquote() << "open" << sid << "on" << m_transport->name();
    const QPointer<EngineClient> self(this);
    Q_EMIT transportChanged(m_transport->name());
    if (!self || m_state != State::Open)
        return;
    Q_EMIT opened();
    if (!self || m_state != State::Open)
        return;
    flush();
    if (m_options.upgrade && m_transport->name() == u"polling") {
        for (const QString &upgrade : std::as_const(m_upgrades)) {
            if (upgrade == u"websocket")
                probe(upgrade);
        }
    }
    m_pingTimer.start(m_pingInterval + m_pingTimeout);
}

void EngineClient::probe(const QString &name)
{
    ClientTransport *probe = createTransport(name);
    probe->setSid(m_id);
    m_probe = probe;
    connect(probe, &ClientTransport::opened, this,
        [probe] { probe->send({Packet::text(PacketType::Ping, "probe")}); });
    connect(probe, &ClientTransport::packetReceived, this, [this, probe](const Packet &packet) {
        if (m_probe != probe || m_upgrading)
            return;
        if (packet.type != PacketType::Pong || packet.data != "probe") {
            probeFailed(u"probe error"_s);
            return;
        }
        m_upgrading = true;
        // The switch waits until the polling requests in flight are done, so that nothing
        // arrives out of order.
        m_transport->pause([this, probe] {
            if (m_probe != probe || m_state == State::Closed)
                return;
            QObject::disconnect(probe, nullptr, this, nullptr);
            m_probe = nullptr;
            setTransport(probe);
            probe->send({Packet::text(PacketType::Upgrade)});
            m_upgrading = false;
            qCDebug(lcClient).noquote() << "upgraded" << m_id << "to" << probe->name();
            const QPointer<EngineClient> self(this);
            Q_EMIT transportChanged(probe->name());
            if (self)
                flush();
        });
    });
    connect(probe, &ClientTransport::closed, this,
        [this](const QString &) { probeFailed(u"probe transport closed"_s); });
    connect(probe, &ClientTransport::failed, this,
        [this](const QString &message, const QString &description) {
            probeFailed(message + u": "_s + description);
        });
    probe->open();
}

void EngineClient::probeFailed(const QString &why)
{
    ClientTransport *probe = m_probe;
    if (!probe)
        return;
    qCDebug(lcClient).noquote() << "upgrade of" << m_id << "failed:" << why;
    m_probe = nullptr;
    QObject::disconnect(probe, nullptr, this, nullptr);
    probe->close();
    probe->deleteLater();
    if (m_upgrading) {
        m_upgrading = false;
        if (m_transport)
            m_transport->resume();
        flush();
    }
}

QList<Packet> EngineClient::takeWritablePackets()
{
    // Polling payloads stay within the server's maxPayload; one packet always goes, whatever
    // its size (the server then refuses it, as it would from any client).
    if (m_maxPayload <= 0 || m_transport->name() != u"polling")
        return std::exchange(m_writeBuffer, {});
    qint64 size = 0;
    qsizetype count = 0;
    for (; count < m_writeBuffer.size(); ++count) {
        const Packet &packet = m_writeBuffer.at(count);
        const qint64 packetSize
            = 1 + (packet.binary ? (packet.data.size() + 2) / 3 * 4 : packet.data.size());
        const qint64 next = size + (count > 0 ? 1 : 0) + packetSize;
        if (count > 0 && next > m_maxPayload)
            break;
        size = next;
    }
    QList<Packet> batch = m_writeBuffer.first(count);
    m_writeBuffer.remove(0, count);
    return batch;
}

void EngineClient::flush()
{
    while ((m_state == State::Open || m_state == State::Closing) && !m_upgrading && m_transport
        && m_transport->isWritable() && !m_writeBuffer.isEmpty()) {
        m_transport->send(takeWritablePackets());
    }
    if (m_state == State::Closing && m_writeBuffer.isEmpty() && !m_upgrading
        && (!m_transport || m_transport->isWritable())) {
        finishClose();
    }
}

void EngineClient::close()
{
    if (m_state == State::Opening) {
        onClose(u"forced close"_s);
        return;
    }
    if (m_state != State::Open)
        return;
    m_state = State::Closing;
    flush();
}

void EngineClient::finishClose()
{
    onClose(u"forced close"_s);
}

void EngineClient::onError(const QString &message, const QString &description)
{
    if (m_state == State::Closed)
        return;
    qCDebug(lcClient).noquote() << "transport error:" << message << description;
    const QPointer<EngineClient> self(this);
    Q_EMIT errorOccurred(message, description);
    if (self)
        onClose(u"transport error"_s, description);
}

void EngineClient::onClose(const QString &reason, const QString &description)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_pingTimer.stop();
    if (m_probe) {
        QObject::disconnect(m_probe, nullptr, this, nullptr);
        m_probe->close();
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    m_upgrading = false;
    if (m_transport) {
        QObject::disconnect(m_transport, nullptr, this, nullptr);
        m_transport->close();
    }
    m_writeBuffer.clear();
    qCDebug(lcClient).noquote() << "closed" << m_id << reason << description;
    m_id.clear();
    Q_EMIT closed(reason, description);
}

} // namespace QSocketIo
