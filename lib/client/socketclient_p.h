#pragma once

#include "socketclient.h"

#include "../codec/socketiocodec.h"
#include "engineclient_p.h"

#include <QtCore/qhash.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace QSocketIo {

// socket.io-client's Manager: one Engine.IO connection shared by the namespaces of one server,
// Socket.IO packet decoding, and reconnection with exponential backoff. Owned jointly by its
// SocketClients.
class ClientManager : public QObject
{
    Q_OBJECT
public:
    enum class State { Closed, Opening, Open };

    ClientManager(const QUrl &url, const SocketClientOptions &options);
    ~ClientManager() override;

    static std::shared_ptr<ClientManager> create(
        const QUrl &url, const SocketClientOptions &options);

    const QUrl &url() const { return m_url; }
    State state() const { return m_state; }
    bool isReconnecting() const { return m_reconnecting; }
    QString engineId() const;
    QString transport() const;
    // Only an open connection's handshake says what the server accepts now.
    qint64 maxPayload() const
    {
        return m_engine && m_state == State::Open ? m_engine->maxPayload() : 0;
    }
    bool isTransportWritable() const;

    void open();
    void sendPacket(const SocketIo::Packet &packet);
    // A client stopped using the connection: it closes when no active client is left.
    void deactivated();

    QHash<QString, QPointer<SocketClient>> &namespaces() { return m_namespaces; }

Q_SIGNALS:
    void opened();
    void packetReceived(const QSocketIo::SocketIo::Packet &packet);
    void errorOccurred(const QString &message, const QVariant &data);
    void closed(const QString &reason);
    void reconnectAttempt(int attempt);
    void reconnected(int attempt);
    void reconnectFailed();
    void stateChanged();
    void transportChanged(const QString &name);

private:
    // Entry points from the event loop count themselves, so that a client deleted from a
    // handler they call deletes this manager only once they have returned.
    struct Busy
    {
        explicit Busy(ClientManager *m)
            : m(m)
        {
            ++m->m_busy;
        }
        ~Busy() { --m->m_busy; }
        ClientManager *m;
    };

    void onEngineOpened();
    void onEngineError(const QString &message, const QString &description);
    void onEngineClosed(const QString &reason);
    void onEngineMessage(const EngineIo::Packet &packet);
    void onOpenFailed(const QString &message, const QVariant &data);
    void onClose(const QString &reason);
    void releaseEngine(bool close);
    void reconnect();
    void closeConnection();
    std::chrono::milliseconds nextDelay();

    QUrl m_url;
    SocketClientOptions m_options;
    QNetworkAccessManager *m_network;
    QPointer<EngineClient> m_engine;
    State m_state = State::Closed;
    SocketIo::Decoder m_decoder {10000};
    bool m_skipReconnect = false;
    bool m_reconnecting = false;
    bool m_openIsReconnect = false;
    int m_attempts = 0;
    QTimer m_reconnectTimer;
    QTimer m_openTimer;
    int m_busy = 0;
    QHash<QString, QPointer<SocketClient>> m_namespaces;
};

class SocketClientPrivate
{
    Q_DECLARE_PUBLIC(SocketClient)
public:
    SocketClientPrivate(SocketClient *q, std::shared_ptr<ClientManager> manager,
        const SocketClientOptions &options);

    void open();
    void subscribe();
    void unsubscribe();
    void onOpen();
    void onPacket(const SocketIo::Packet &packet);
    void onConnectReply(const QVariant &data);
    void onEvent(const SocketIo::Packet &packet);
    void onAck(const SocketIo::Packet &packet);
    void onClose(const QString &reason);
    void dispatch(const QString &event, const QVariantList &args, const Ack &ack);
    bool sendEvent(const QString &event, const QVariantList &args, qint64 ackId, bool isVolatile);
    void settleAck(qint64 id, bool timedOut, const QVariantList &args);
    void clearAcks();
    void updateState();

    struct PendingAck
    {
        AckCallback callback;
        QTimer *timer = nullptr;
    };

    SocketClient *q_ptr;
    std::shared_ptr<ClientManager> manager;
    SocketClientOptions options;
    QVariantMap auth;
    bool active = false;
    bool connected = false;
    bool connectSent = false;
    bool autoConnectPending = false;
    QString id;
    quint64 session = 0; // counts connections, so that a late Ack does not reach the next one
    qint64 nextAckId = 0;
    QHash<qint64, PendingAck> acks;
    QList<SocketIo::Packet> sendBuffer;
    QList<SocketIo::Packet> receiveBuffer;
    QHash<QString, QList<SocketClient::Handler>> handlers;
    QList<SocketClient::AnyHandler> anyHandlers;
    SocketClient::State state = SocketClient::State::Disconnected;
    QList<QMetaObject::Connection> subscriptions;
};

} // namespace QSocketIo
