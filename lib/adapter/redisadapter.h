#pragma once

// Rooms and broadcasts shared by several servers through Redis pub/sub, in the wire format of
// Node's @socket.io/redis-adapter 8.x (classic variant): a cluster may mix these servers with
// Node ones, and @socket.io/redis-emitter reaches their clients.
//
//     SocketServerOptions options;
//     options.adapterFactory = RedisAdapter::factory({.host = "10.0.0.5", .port = 6379});
//     SocketServer server(options);

#include "inmemoryadapter.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>

#include <chrono>
#include <memory>

namespace QSocketIo {

struct QSOCKETIO_EXPORT RedisAdapterOptions
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    QString username; // Redis 6 ACL user; empty: AUTH with the password alone
    QString password; // empty: no AUTH
    // Node's `key`: the prefix of every channel. Servers of one cluster must agree on it.
    QString key = QStringLiteral("socket.io");
    // How long fetchSockets() and serverSideEmitWithAck() wait for the other servers.
    std::chrono::milliseconds requestsTimeout {5000};
    // Node's option of that name: answers go to the requester's own response channel.
    bool publishOnSpecificResponseChannel = false;

    // "HOST:PORT", "HOST" (port 6379) or "redis://[[USER]:PASSWORD@]HOST[:PORT]"; false when
    // it is not one of these.
    bool setAddress(const QString &address);
};

class RedisLink;

class QSOCKETIO_EXPORT RedisAdapter : public InMemoryAdapter
{
    Q_OBJECT
    Q_PROPERTY(bool connected READ isConnected NOTIFY connectedChanged)

public:
    // For SocketServerOptions::adapterFactory. Each server opens two Redis connections, shared
    // by its namespaces: one publishes, one is subscribed (Node counts the servers of a cluster
    // by the subscribers of a channel, so there must be exactly one per server).
    static Factory factory(const RedisAdapterOptions &options);

    ~RedisAdapter() override;

    // This namespace adapter's id in the cluster (6 characters, as Node's).
    QString uid() const { return m_uid; }
    const RedisAdapterOptions &options() const { return m_options; }
    // Both connections up and every channel subscribed.
    bool isConnected() const;

    bool broadcast(const SocketIo::Packet &packet, const BroadcastOptions &options) override;
    void broadcastWithAck(const SocketIo::Packet &packet, const BroadcastOptions &options,
        std::function<void(int)> onCount, std::function<void(const QVariantList &)> onAck) override;
    void addSockets(const BroadcastOptions &options, const QSet<QString> &rooms) override;
    void delSockets(const BroadcastOptions &options, const QSet<QString> &rooms) override;
    void disconnectSockets(const BroadcastOptions &options, bool close) override;
    using InMemoryAdapter::fetchSockets;
    void fetchSockets(const BroadcastOptions &options, FetchSocketsCallback callback) override;
    bool serverSideEmit(const QVariantList &packet) override;
    void close() override;
    void serverSideEmitWithAck(const QVariantList &packet, std::chrono::milliseconds timeout,
        std::function<void(bool, const QVariantList &)> callback) override;

Q_SIGNALS:
    void connectedChanged(bool connected);
    // Something the cluster did not get or sent malformed; also logged (qsocketio.redis).
    void clusterError(const QString &message);

private:
    friend class RedisLink;
    RedisAdapter(Namespace *nsp, RedisLink *link, const RedisAdapterOptions &options);

    void onBroadcastMessage(const QByteArray &channel, const QByteArray &payload);
    void onRequest(const QByteArray &payload);
    void onResponse(const QByteArray &payload);
    bool publish(const QByteArray &channel, const QByteArray &payload, const QString &what);
    void reply(const QVariantMap &request, const QByteArray &payload);
    void fail(const QString &message);
    // PUBSUB NUMSUB of the request channel: how many servers the cluster has (this one too),
    // or -1 with the reason.
    void serverCount(std::function<void(int count, const QString &error)> callback);
    // Calls the request back: answered, or with `failure` saying why not all answers came.
    void finishRequest(const QString &requestId, const QString &failure);
    QString unavailableReason() const;
    struct Request;
    // Sends `message` (a requestId added) to the other servers and waits for their answers.
    void startRequest(Request request, std::chrono::milliseconds timeout, QVariantMap message,
        const QString &what);

    struct Request
    {
        enum Kind { Fetch, ServerSideEmit } kind = Fetch;
        int expected = 0; // answers from other servers
        int received = 0;
        QList<RemoteSocket> sockets;
        QVariantList responses;
        FetchSocketsCallback onFetch;
        std::function<void(bool, const QVariantList &)> onServerSideEmit;
        std::shared_ptr<QTimer> timer;
    };
    struct AckRequest
    {
        std::function<void(int)> onCount;
        std::function<void(const QVariantList &)> onAck;
        int localCount = -1; // not known yet
        int expectedServers = -1; // other servers, once NUMSUB answered
        int answeredServers = 0;
        int remoteCount = 0;
        bool counted = false;
        void check();
    };

    QPointer<RedisLink> m_link;
    RedisAdapterOptions m_options;
    QString m_uid;
    QByteArray m_channel; // key#nsp#
    QByteArray m_requestChannel;
    QByteArray m_responseChannel;
    QByteArray m_specificResponseChannel;
    bool m_connected = false;
    bool m_closed = false;
    QElapsedTimer m_lastWarning;
    int m_warningsLeftOut = 0;
    QHash<QString, Request> m_requests;
    QHash<QString, std::shared_ptr<AckRequest>> m_ackRequests;
};

} // namespace QSocketIo
