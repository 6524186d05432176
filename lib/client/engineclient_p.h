#pragma once

// An Engine.IO v4 client session (engine.io-client's Socket): handshake, heartbeat, the
// polling -> WebSocket upgrade and the write buffer, over ClientTransport.

#include "clienttransport_p.h"

#include <QtCore/qobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>

namespace QSocketIo {

class EngineClient : public QObject
{
    Q_OBJECT
public:
    enum class State { Closed, Opening, Open, Closing };

    struct Options
    {
        TransportSettings transport;
        QStringList transports;
        bool upgrade = true;
    };

    EngineClient(const Options &options, QObject *parent);
    ~EngineClient() override;

    void open();
    // After what is queued has been written; closed("forced close") follows.
    void close();
    // Packets of one send() are written together (one POST when polling allows it).
    void send(const QList<EngineIo::Packet> &packets);

    State state() const { return m_state; }
    QString id() const { return m_id; }
    QString transportName() const;
    // The handshake's maxPayload (the server's maxHttpBufferSize); 0 before the handshake.
    qint64 maxPayload() const { return m_maxPayload; }
    // A packet sent now would be written at once rather than wait in the buffer.
    bool isWritable() const;

Q_SIGNALS:
    void opened();
    void messageReceived(const QSocketIo::EngineIo::Packet &packet);
    void transportChanged(const QString &name);
    // Before closed(): the transport failed ("xhr poll error", "websocket error"...).
    void errorOccurred(const QString &message, const QString &description);
    // "transport close", "transport error", "ping timeout" or "forced close".
    void closed(const QString &reason, const QString &description);

private:
    ClientTransport *createTransport(const QString &name);
    void setTransport(ClientTransport *transport);
    void onPacket(const EngineIo::Packet &packet);
    void onHandshake(const QByteArray &json);
    void onError(const QString &message, const QString &description);
    void onClose(const QString &reason, const QString &description = {});
    void flush();
    QList<EngineIo::Packet> takeWritablePackets();
    void probe(const QString &name);
    void probeFailed(const QString &why);
    void finishClose();

    Options m_options;
    State m_state = State::Closed;
    QString m_id;
    QPointer<ClientTransport> m_transport;
    QPointer<ClientTransport> m_probe;
    bool m_upgrading = false;
    QList<EngineIo::Packet> m_writeBuffer;
    QStringList m_upgrades;
    qint64 m_maxPayload = 0;
    int m_pingInterval = 25000;
    int m_pingTimeout = 20000;
    QTimer m_pingTimer;
};

} // namespace QSocketIo
