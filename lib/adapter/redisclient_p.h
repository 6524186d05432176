#pragma once

// One connection to a Redis server for the Redis adapter, on hiredis' asynchronous API driven by
// the Qt event loop. Reconnects by itself with a back-off until close(); a subscriber client
// re-issues its SUBSCRIBE / PSUBSCRIBE commands after each reconnect. Not public API.

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>

#include <chrono>
#include <functional>
#include <memory>

namespace QSocketIo {

// "qsocketio.redis": connection losses (one warning per outage), retries at info/debug.
Q_DECLARE_LOGGING_CATEGORY(lcRedis)

struct RedisReply
{
    enum class Type { Error, Status, Integer, String, Array, Nil };
    Type type = Type::Nil;
    QByteArray string; // Error, Status, String
    qint64 integer = 0;
    QList<RedisReply> elements; // Array

    bool isError() const { return type == Type::Error; }
    // An error that did not come from the server ("not connected", "connection lost").
    static RedisReply error(const QByteArray &message)
    {
        RedisReply r;
        r.type = Type::Error;
        r.string = message;
        return r;
    }
};

struct RedisClientOptions
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    QString username; // AUTH username password when set (Redis 6 ACL), AUTH password otherwise
    QString password; // no AUTH when empty
    int database = 0; // SELECT when not 0 (ignored by a subscriber: pub/sub is global)
    std::chrono::milliseconds connectTimeout {3000};
    std::chrono::milliseconds reconnectMin {100}; // back-off doubles up to reconnectMax
    std::chrono::milliseconds reconnectMax {3000};
    QString name; // CLIENT SETNAME when set, to tell connections apart in CLIENT LIST
};

class RedisClientPrivate;

class RedisClient : public QObject
{
    Q_OBJECT
public:
    enum class State { Closed, Connecting, Ready };
    Q_ENUM(State)

    explicit RedisClient(const RedisClientOptions &options, QObject *parent = nullptr);
    ~RedisClient() override; // closes; pending callbacks get an error reply

    // Starts connecting; keeps trying until close().
    void open();
    // Disconnects and stops reconnecting. Pending command callbacks get an error reply
    // ("connection closed") before close() returns.
    void close();

    State state() const;
    bool isReady() const { return state() == State::Ready; }
    QString lastError() const;

    // Sends a command (binary-safe arguments) when Ready and returns true; the callback gets
    // the reply, or an error reply when the connection is lost before the reply came (a command
    // is never silently dropped). Returns false without calling the callback when not Ready.
    // Not for SUBSCRIBE and friends; also returns false on a client with subscriptions (Redis
    // takes no regular commands from a subscriber connection: use another client).
    bool command(
        const QList<QByteArray> &args, std::function<void(const RedisReply &)> callback = {});

    // Subscriber side. Adds to the set of channels / patterns this client keeps subscribed (now
    // if Ready, and again after every reconnect). subscribed() is emitted when Redis confirms.
    void subscribe(const QByteArray &channel);
    void psubscribe(const QByteArray &pattern);
    void unsubscribe(const QByteArray &channel);
    void punsubscribe(const QByteArray &pattern);
    // True when Redis confirmed every channel and pattern in the set on the current connection.
    bool isFullySubscribed() const;
    // True when Redis confirmed this channel or pattern on the current connection.
    bool isSubscribed(const QByteArray &channelOrPattern) const;

Q_SIGNALS:
    void stateChanged(QSocketIo::RedisClient::State state);
    // Ready: connected, AUTH/SELECT/SETNAME done (not yet resubscribed, see subscribed()).
    void ready();
    // The connection went (or a connect attempt failed); `reason` is hiredis' error text.
    void disconnected(const QString &reason);
    void subscribed(const QByteArray &channelOrPattern);
    // A message on a SUBSCRIBE channel (pattern empty) or a PSUBSCRIBE pattern.
    void message(const QByteArray &pattern, const QByteArray &channel, const QByteArray &payload);

private:
    Q_DECLARE_PRIVATE(RedisClient)
    std::unique_ptr<RedisClientPrivate> d_ptr;
};

} // namespace QSocketIo
