#include "redisclient_p.h"

#include <QtNetwork/qhostaddress.h>
#include <QtNetwork/qhostinfo.h>

#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qtimer.h>
#include <QtCore/qvarlengtharray.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

// Design notes.
//
// hiredis calls our reply callbacks from inside redisAsyncHandleRead/Write and redisAsyncFree,
// and frees the context from inside those calls when the connection fails. User code run from
// there could close or delete the client while hiredis still walks its own lists. So hiredis'
// callbacks only convert the reply and queue the work; dispatch() runs the queue once hiredis has
// returned, checking after each item that the client still exists. Nothing but dispatch() runs
// user code (callbacks and signals alike).
//
// Debian's hiredis ships adapters/qt.h, but it declares a Q_OBJECT class in a system header (moc
// would have to process it) and defines static functions in every translation unit that includes
// it; the few ev hooks below drive two QSocketNotifiers instead.

namespace QSocketIo {

Q_LOGGING_CATEGORY(lcRedis, "qsocketio.redis", QtWarningMsg)

namespace {

// hiredis writes with write(2), not send(MSG_NOSIGNAL): a Redis that goes away while a command is
// being written would kill the process with SIGPIPE. QtNetwork ignores SIGPIPE process-wide for
// the same reason; a handler the application installed itself is left alone.
void ignoreSigpipe()
{
    static const bool done = [] {
        struct sigaction current = {};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
            struct sigaction ignore = {};
            ignore.sa_handler = SIG_IGN;
            ::sigaction(SIGPIPE, &ignore, nullptr);
        }
        return true;
    }();
    Q_UNUSED(done);
}

RedisReply convertReply(const redisReply *r)
{
    RedisReply out;
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(convertReply(r->element[i]));
        break;
    case REDIS_REPLY_NIL:
    default:
        out.type = RedisReply::Type::Nil;
        break;
    }
    return out;
}

QByteArray elementString(const redisReply *r, size_t i)
{
    const redisReply *e = r->element[i];
    if (e->type != REDIS_REPLY_STRING && e->type != REDIS_REPLY_STATUS)
        return {};
    return QByteArray(e->str, qsizetype(e->len));
}

bool isSubscriberCommand(const QByteArray &name)
{
    const QByteArray lower = name.toLower();
    return lower == "subscribe" || lower == "psubscribe" || lower == "ssubscribe"
        || lower == "unsubscribe" || lower == "punsubscribe" || lower == "sunsubscribe"
        || lower == "monitor";
}

QByteArray lostMessage(const redisAsyncContext *ac)
{
    if (ac->c.err)
        return QByteArrayLiteral("connection lost: ") + QByteArray(ac->c.errstr);
    return QByteArrayLiteral("connection closed");
}

} // namespace

class RedisClientPrivate
{
    Q_DECLARE_PUBLIC(RedisClient)
public:
    using Callback = std::function<void(const RedisReply &)>;
    using State = RedisClient::State;

    RedisClientPrivate(RedisClient *q, const RedisClientOptions &options)
        : q_ptr(q)
        , options(options)
        , backoff(options.reconnectMin)
    {
    }

    // Work for dispatch(). Callbacks run even while the client is being destroyed (every
    // accepted command gets its call); the rest (signals, internal steps) is dropped then.
    struct Work
    {
        std::function<void()> fn;
        bool isCallback;
    };

    struct Subscriptions
    {
        QSet<QByteArray> wanted; // what the user asked for
        QSet<QByteArray> sent; // (P)SUBSCRIBE written on the current connection
        QSet<QByteArray> confirmed; // and confirmed by Redis
    };

    void postCallback(std::function<void()> fn) { queue.push_back({std::move(fn), true}); }
    void post(std::function<void()> fn) { queue.push_back({std::move(fn), false}); }
    void dispatch();

    void setState(State s);
    QString describe() const;

    void startConnect();
    void connectTo(const QByteArray &host); // an IP address
    void retireNotifiers();
    void freeContext();
    void failOrphans();
    void onSocketEvent(quint64 gen, bool write);
    void onConnected(quint64 gen);
    void onHandshakeReply(quint64 gen, const QString &step, const RedisReply &reply);
    void becomeReady();
    void connectionDown(const QString &reason, bool wasReady = false);
    void onConnectTimeout();

    bool sendCommand(const QList<QByteArray> &args, Callback callback);
    bool sendSubscription(const char *command, const QSet<QByteArray> &names);
    void syncSubscriptions();
    bool subscriberMode() const;

    // hiredis hooks (inside hiredis: they only record and queue)
    void contextGone();
    void onReply(redisAsyncContext *c, quint64 id, const redisReply *reply);
    void onPubSub(const redisReply *reply);

    RedisClient *const q_ptr;
    const RedisClientOptions options;
    State state = State::Closed;
    QString lastError;
    bool closed = true; // not opened, or close(): no reconnecting
    quint64 lookupGeneration = 0; // the host name lookup whose answer is still wanted
    bool destroying = false;
    bool inOutage = false; // warned about the current outage already

    redisAsyncContext *ac = nullptr;
    quint64 generation = 0; // of ac; queued work of an older connection compares it
    bool freeingByUs = false;
    std::unique_ptr<QSocketNotifier> readNotifier;
    std::unique_ptr<QSocketNotifier> writeNotifier;
    std::vector<std::unique_ptr<QSocketNotifier>> retired;
    QTimer connectTimer;
    QTimer reconnectTimer;
    std::chrono::milliseconds backoff;
    int handshakePending = 0;

    quint64 nextId = 1;
    std::unordered_map<quint64, Callback> pending;

    Subscriptions channels;
    Subscriptions patterns;
    int pendingUnsubscribes = 0;

    std::deque<Work> queue;
};

// --- hiredis glue ---

namespace {

RedisClientPrivate *privateOf(const redisAsyncContext *ac)
{
    return static_cast<RedisClientPrivate *>(ac->data);
}

void evAddRead(void *privdata)
{
    auto d = static_cast<RedisClientPrivate *>(privdata);
    if (d->readNotifier)
        d->readNotifier->setEnabled(true);
}

void evDelRead(void *privdata)
{
    auto d = static_cast<RedisClientPrivate *>(privdata);
    if (d->readNotifier)
        d->readNotifier->setEnabled(false);
}

void evAddWrite(void *privdata)
{
    auto d = static_cast<RedisClientPrivate *>(privdata);
    if (d->writeNotifier)
        d->writeNotifier->setEnabled(true);
}

void evDelWrite(void *privdata)
{
    auto d = static_cast<RedisClientPrivate *>(privdata);
    if (d->writeNotifier)
        d->writeNotifier->setEnabled(false);
}

void evCleanup(void *privdata)
{
    static_cast<RedisClientPrivate *>(privdata)->contextGone();
}

void onConnectCallback(const redisAsyncContext *ac, int status)
{
    // A failure is reported by the cleanup hook hiredis calls right after this.
    if (status != REDIS_OK)
        return;
    RedisClientPrivate *d = privateOf(ac);
    d->post([d, gen = d->generation] { d->onConnected(gen); });
}

void onReplyCallback(redisAsyncContext *ac, void *reply, void *privdata)
{
    privateOf(ac)->onReply(
        ac, quint64(reinterpret_cast<quintptr>(privdata)), static_cast<redisReply *>(reply));
}

void onPubSubCallback(redisAsyncContext *ac, void *reply, void *)
{
    privateOf(ac)->onPubSub(static_cast<redisReply *>(reply));
}

} // namespace

void RedisClientPrivate::contextGone()
{
    // Newer hiredis versions call the cleanup hook more than once.
    if (!ac)
        return;
    const QString reason
        = ac->c.err ? QString::fromUtf8(ac->c.errstr) : QStringLiteral("connection closed");
    retireNotifiers();
    connectTimer.stop();
    ac = nullptr;
    channels.sent.clear();
    channels.confirmed.clear();
    patterns.sent.clear();
    patterns.confirmed.clear();
    pendingUnsubscribes = 0;
    handshakePending = 0;
    if (freeingByUs)
        return; // the caller reports
    const bool wasReady = state == State::Ready;
    // Before the error replies queued ahead of this run: a callback that looks at state()
    // must not see Ready on a connection that is gone.
    setState(State::Connecting);
    post([this, gen = generation, reason, wasReady] {
        if (gen == generation && !ac && !closed)
            connectionDown(reason, wasReady);
    });
}

void RedisClientPrivate::onReply(redisAsyncContext *c, quint64 id, const redisReply *reply)
{
    // The id, not a pointer: hiredis 0.14 can hand a callback's privdata to a later reply it
    // cannot match (it reuses the last callback it ran); an id already answered is ignored.
    auto it = pending.find(id);
    if (it == pending.end())
        return;
    Callback callback = std::move(it->second);
    pending.erase(it);
    RedisReply converted = reply ? convertReply(reply) : RedisReply::error(lostMessage(c));
    postCallback([callback = std::move(callback), converted = std::move(converted)] {
        callback(converted);
    });
}

void RedisClientPrivate::onPubSub(const redisReply *reply)
{
    // NULL when the context goes: the next connection subscribes again.
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        // A refused SUBSCRIBE (an ACL without the channel, say): the subscription never
        // completes, so say why.
        qCWarning(lcRedis).noquote()
            << describe()
            << "subscription refused:" << QString::fromUtf8(reply->str, int(reply->len));
        return;
    }
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
        return;
    const QByteArray kind = elementString(reply, 0).toLower();
    const quint64 gen = generation;
    if (kind == "message") {
        post([this, gen, channel = elementString(reply, 1), payload = elementString(reply, 2)] {
            // Still wanted: messages already on the wire when unsubscribe() was called are dropped.
            if (gen == generation && !closed && channels.wanted.contains(channel))
                Q_EMIT q_ptr->message(QByteArray(), channel, payload);
        });
    } else if (kind == "pmessage" && reply->elements >= 4) {
        post([this, gen, pattern = elementString(reply, 1), channel = elementString(reply, 2),
                 payload = elementString(reply, 3)] {
            if (gen == generation && !closed && patterns.wanted.contains(pattern))
                Q_EMIT q_ptr->message(pattern, channel, payload);
        });
    } else if (kind == "subscribe" || kind == "psubscribe") {
        const bool isPattern = kind.startsWith('p');
        post([this, gen, isPattern, name = elementString(reply, 1)] {
            if (gen != generation || !ac)
                return;
            Subscriptions &subs = isPattern ? patterns : channels;
            // A confirmation for a name unsubscribed since (and maybe wanted again, but not yet
            // re-sent) does not count.
            if (!subs.sent.contains(name) || !subs.wanted.contains(name)
                || subs.confirmed.contains(name))
                return;
            subs.confirmed.insert(name);
            Q_EMIT q_ptr->subscribed(name);
        });
    } else if (kind == "unsubscribe" || kind == "punsubscribe") {
        post([this, gen] {
            if (gen != generation || !ac || pendingUnsubscribes == 0)
                return;
            if (--pendingUnsubscribes == 0)
                syncSubscriptions();
        });
    }
}

// --- connection ---

void RedisClientPrivate::dispatch()
{
    QPointer<RedisClient> alive(q_ptr);
    while (!queue.empty()) {
        Work work = std::move(queue.front());
        queue.pop_front();
        if (destroying && !work.isCallback)
            continue;
        work.fn();
        if (!alive)
            return; // deleted from a callback or a slot; `this` is gone too
    }
}

void RedisClientPrivate::setState(State s)
{
    if (state == s)
        return;
    state = s;
    post([this, s] { Q_EMIT q_ptr->stateChanged(s); });
}

QString RedisClientPrivate::describe() const
{
    const QString endpoint = QStringLiteral("%1:%2").arg(options.host).arg(options.port);
    const QString name = q_ptr->objectName();
    return name.isEmpty() ? endpoint : QStringLiteral("%1 (%2)").arg(name, endpoint);
}

void RedisClientPrivate::startConnect()
{
    Q_Q(RedisClient);
    // hiredis 0.14 would resolve a host name with a blocking getaddrinfo(), freezing the event
    // loop on every attempt while DNS is slow: names are resolved here, without blocking.
    if (QHostAddress literal; literal.setAddress(options.host)) {
        connectTo(options.host.toUtf8());
        return;
    }
    const quint64 lookup = ++lookupGeneration;
    QHostInfo::lookupHost(options.host, q, [this, lookup](const QHostInfo &info) {
        if (lookup != lookupGeneration || closed || ac)
            return;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            connectionDown(QStringLiteral("cannot resolve %1: %2")
                               .arg(options.host,
                                   info.errorString().isEmpty() ? QStringLiteral("no address")
                                                                : info.errorString()));
            dispatch();
            return;
        }
        connectTo(info.addresses().constFirst().toString().toUtf8());
        dispatch();
    });
}

void RedisClientPrivate::connectTo(const QByteArray &host)
{
    Q_Q(RedisClient);
    Q_ASSERT(!ac);
    ++generation;
    retired.clear();
    // hiredis 0.14's asynchronous connect has no timeout: connectTimer below.
    redisAsyncContext *context = redisAsyncConnect(host.constData(), int(options.port));
    if (!context || context->err) {
        const QString reason = context ? QString::fromUtf8(context->c.errstr)
                                       : QStringLiteral("cannot allocate a hiredis context");
        if (context)
            redisAsyncFree(context); // no hooks installed yet: no callbacks
        // From the event loop, like an asynchronous failure: open() emits no disconnected().
        QMetaObject::invokeMethod(
            q,
            [this, gen = generation, reason] {
                if (gen != generation || closed || ac)
                    return;
                connectionDown(reason);
                dispatch();
            },
            Qt::QueuedConnection);
        return;
    }

    ac = context;
    ac->data = this;
    ac->ev.data = this;
    ac->ev.addRead = evAddRead;
    ac->ev.delRead = evDelRead;
    ac->ev.addWrite = evAddWrite;
    ac->ev.delWrite = evDelWrite;
    ac->ev.cleanup = evCleanup;

    const quint64 gen = generation;
    readNotifier = std::make_unique<QSocketNotifier>(qintptr(ac->c.fd), QSocketNotifier::Read);
    readNotifier->setEnabled(false);
    QObject::connect(readNotifier.get(), &QSocketNotifier::activated, q,
        [this, gen] { onSocketEvent(gen, false); });
    writeNotifier = std::make_unique<QSocketNotifier>(qintptr(ac->c.fd), QSocketNotifier::Write);
    writeNotifier->setEnabled(false);
    QObject::connect(writeNotifier.get(), &QSocketNotifier::activated, q,
        [this, gen] { onSocketEvent(gen, true); });

    // Also enables the write notifier: the first writability tells that connect(2) finished.
    redisAsyncSetConnectCallback(ac, onConnectCallback);
    connectTimer.start(options.connectTimeout);
    qCDebug(lcRedis).noquote() << describe() << "connecting";
}

void RedisClientPrivate::retireNotifiers()
{
    // Called inside hiredis, maybe from one of these notifiers' own activation: disabled now
    // (before hiredis closes the fd, which a new connection may get again), deleted by the next
    // connect attempt, which never runs inside an activation of theirs.
    for (auto *n : {&readNotifier, &writeNotifier}) {
        if (*n) {
            (*n)->setEnabled(false);
            retired.push_back(std::move(*n));
        }
    }
}

void RedisClientPrivate::freeContext()
{
    if (!ac)
        return;
    Q_ASSERT(!(ac->c.flags & REDIS_IN_CALLBACK));
    freeingByUs = true;
    // Runs every pending callback with a NULL reply (queued as errors), then the cleanup hook.
    redisAsyncFree(ac);
    freeingByUs = false;
    ac = nullptr;
    failOrphans();
}

void RedisClientPrivate::failOrphans()
{
    // hiredis answers every callback it holds when the context goes; this only catches a
    // version that does not, so that no accepted command is left without its call.
    if (ac || pending.empty())
        return;
    auto orphans = std::move(pending);
    pending.clear();
    std::vector<std::pair<quint64, Callback>> sorted(orphans.begin(), orphans.end());
    std::sort(sorted.begin(), sorted.end(),
        [](const auto &a, const auto &b) { return a.first < b.first; });
    for (auto &entry : sorted) {
        postCallback([callback = std::move(entry.second)] {
            callback(RedisReply::error(QByteArrayLiteral("connection closed")));
        });
    }
}

void RedisClientPrivate::onSocketEvent(quint64 gen, bool write)
{
    if (gen != generation || !ac)
        return;
    if (write)
        redisAsyncHandleWrite(ac);
    else
        redisAsyncHandleRead(ac);
    if (!ac)
        failOrphans();
    dispatch();
}

void RedisClientPrivate::onConnected(quint64 gen)
{
    if (gen != generation || !ac || closed)
        return;
    redisEnableKeepAlive(&ac->c);
    qCDebug(lcRedis).noquote() << describe() << "connected";

    QList<std::pair<QString, QList<QByteArray>>> steps;
    if (!options.password.isEmpty()) {
        QList<QByteArray> args {QByteArrayLiteral("AUTH")};
        if (!options.username.isEmpty())
            args.append(options.username.toUtf8());
        args.append(options.password.toUtf8());
        steps.append({QStringLiteral("AUTH"), args});
    }
    // A subscriber skips SELECT: pub/sub ignores the database.
    if (options.database != 0 && channels.wanted.isEmpty() && patterns.wanted.isEmpty()) {
        steps.append({QStringLiteral("SELECT"),
            {QByteArrayLiteral("SELECT"), QByteArray::number(options.database)}});
    }
    if (!options.name.isEmpty()) {
        // Redis refuses names with spaces or control characters; a cosmetic option must not
        // keep the client from connecting.
        QByteArray name = options.name.toUtf8();
        for (char &c : name) {
            if (uchar(c) <= ' ' || uchar(c) > '~')
                c = '_';
        }
        steps.append({QStringLiteral("CLIENT SETNAME"),
            {QByteArrayLiteral("CLIENT"), QByteArrayLiteral("SETNAME"), name}});
    }
    // Ready means Redis answered, not just that something accepted the TCP connection (a proxy,
    // a wrong port): the connect timeout also covers this reply.
    steps.append({QStringLiteral("PING"), {QByteArrayLiteral("PING")}});
    // Pipelined: the first error reply is the one reported.
    handshakePending = int(steps.size());
    for (const auto &step : std::as_const(steps)) {
        const QString label = step.first;
        if (!sendCommand(step.second, [this, gen, label](const RedisReply &reply) {
                onHandshakeReply(gen, label, reply);
            })) {
            const QString reason = QStringLiteral("%1 could not be sent").arg(label);
            freeContext();
            connectionDown(reason);
            return;
        }
    }
}

void RedisClientPrivate::onHandshakeReply(quint64 gen, const QString &step, const RedisReply &reply)
{
    if (gen != generation || !ac || closed || state == State::Ready || handshakePending <= 0)
        return;
    if (reply.isError()) {
        const QString reason
            = QStringLiteral("%1 failed: %2").arg(step, QString::fromUtf8(reply.string));
        freeContext();
        connectionDown(reason);
        return;
    }
    if (--handshakePending == 0)
        becomeReady();
}

void RedisClientPrivate::becomeReady()
{
    connectTimer.stop();
    backoff = options.reconnectMin;
    if (inOutage)
        qCInfo(lcRedis).noquote() << describe() << "connected again";
    else
        qCDebug(lcRedis).noquote() << describe() << "ready";
    inOutage = false;
    setState(State::Ready);
    post([this] { Q_EMIT q_ptr->ready(); });
    post([this, gen = generation] {
        if (gen == generation)
            syncSubscriptions();
    });
}

void RedisClientPrivate::connectionDown(const QString &reason, bool wasReady)
{
    Q_ASSERT(!ac);
    lastError = reason;
    if (!closed) {
        reconnectTimer.start(backoff);
        // One warning per outage; the retries that follow are only worth a debug line.
        if (!inOutage) {
            qCWarning(lcRedis).noquote()
                << describe() << (wasReady ? "connection lost:" : "cannot connect:") << reason
                << "- retrying until Redis is back";
            inOutage = true;
        } else {
            qCDebug(lcRedis).noquote() << describe() << "still down:" << reason << "- next try in"
                                       << backoff.count() << "ms";
        }
        const std::chrono::milliseconds floor(1); // a reconnectMin of 0 must still grow
        const auto ceiling = std::max({options.reconnectMax, options.reconnectMin, floor});
        backoff = std::clamp(backoff * 2, floor, ceiling);
        setState(State::Connecting);
    }
    post([this, reason] { Q_EMIT q_ptr->disconnected(reason); });
}

void RedisClientPrivate::onConnectTimeout()
{
    if (!ac || state == State::Ready || closed)
        return;
    const QString reason = QStringLiteral("connect timeout: Redis not ready after %1 ms")
                               .arg(options.connectTimeout.count());
    freeContext();
    connectionDown(reason);
    dispatch();
}

// --- commands and subscriptions ---

bool RedisClientPrivate::sendCommand(const QList<QByteArray> &args, Callback callback)
{
    Q_ASSERT(ac);
    QVarLengthArray<const char *, 8> argv;
    QVarLengthArray<size_t, 8> lengths;
    for (const QByteArray &arg : args) {
        argv.append(arg.constData());
        lengths.append(size_t(arg.size()));
    }
    quint64 id = 0;
    const bool hasCallback = bool(callback);
    if (hasCallback) {
        id = nextId++;
        pending.emplace(id, std::move(callback));
    }
    const int rc = redisAsyncCommandArgv(ac, hasCallback ? onReplyCallback : nullptr,
        reinterpret_cast<void *>(quintptr(id)), int(argv.size()), argv.data(), lengths.data());
    if (rc != REDIS_OK) {
        if (hasCallback)
            pending.erase(id);
        return false;
    }
    return true;
}

bool RedisClientPrivate::sendSubscription(const char *command, const QSet<QByteArray> &names)
{
    QVarLengthArray<const char *, 16> argv;
    QVarLengthArray<size_t, 16> lengths;
    argv.append(command);
    lengths.append(strlen(command));
    for (const QByteArray &name : names) {
        argv.append(name.constData());
        lengths.append(size_t(name.size()));
    }
    // hiredis routes every later message and (un)subscribe reply for these names to the callback
    // registered here.
    return redisAsyncCommandArgv(
               ac, onPubSubCallback, nullptr, int(argv.size()), argv.data(), lengths.data())
        == REDIS_OK;
}

void RedisClientPrivate::syncSubscriptions()
{
    if (state != State::Ready || !ac)
        return;
    const std::pair<Subscriptions *, const char *> unsubs[]
        = {{&channels, "UNSUBSCRIBE"}, {&patterns, "PUNSUBSCRIBE"}};
    for (const auto &[subs, command] : unsubs) {
        QSet<QByteArray> gone = subs->sent;
        gone.subtract(subs->wanted);
        if (gone.isEmpty())
            continue;
        // hiredis refuses an UNSUBSCRIBE when it thinks the connection has no subscription left;
        // then there is nothing to undo on the server either.
        if (sendSubscription(command, gone))
            pendingUnsubscribes += int(gone.size());
        subs->sent.subtract(gone);
        subs->confirmed.subtract(gone);
    }
    // hiredis 0.14 leaves subscriber mode when an unsubscribe reply counts 0 subscriptions left,
    // even with a SUBSCRIBE still on its way; that SUBSCRIBE's reply would then hit an assert().
    // So new subscriptions wait until the unsubscribes are confirmed.
    if (pendingUnsubscribes > 0)
        return;
    const std::pair<Subscriptions *, const char *> subscribes[]
        = {{&channels, "SUBSCRIBE"}, {&patterns, "PSUBSCRIBE"}};
    for (const auto &[subs, command] : subscribes) {
        QSet<QByteArray> added = subs->wanted;
        added.subtract(subs->sent);
        if (added.isEmpty())
            continue;
        if (sendSubscription(command, added))
            subs->sent.unite(added);
    }
}

bool RedisClientPrivate::subscriberMode() const
{
    return !channels.wanted.isEmpty() || !patterns.wanted.isEmpty() || !channels.sent.isEmpty()
        || !patterns.sent.isEmpty() || pendingUnsubscribes > 0
        || (ac && (ac->c.flags & REDIS_SUBSCRIBED));
}

// --- RedisClient ---

RedisClient::RedisClient(const RedisClientOptions &options, QObject *parent)
    : QObject(parent)
    , d_ptr(std::make_unique<RedisClientPrivate>(this, options))
{
    Q_D(RedisClient);
    ignoreSigpipe();
    d->connectTimer.setSingleShot(true);
    d->reconnectTimer.setSingleShot(true);
    connect(&d->connectTimer, &QTimer::timeout, this, [d] { d->onConnectTimeout(); });
    connect(&d->reconnectTimer, &QTimer::timeout, this, [d] {
        if (d->closed || d->ac)
            return;
        d->startConnect();
        d->dispatch();
    });
}

RedisClient::~RedisClient()
{
    Q_D(RedisClient);
    d->destroying = true;
    close();
}

void RedisClient::open()
{
    Q_D(RedisClient);
    if (!d->closed || d->destroying)
        return;
    d->closed = false;
    d->inOutage = false;
    d->backoff = d->options.reconnectMin;
    d->setState(State::Connecting);
    d->startConnect();
    d->dispatch();
}

void RedisClient::close()
{
    Q_D(RedisClient);
    d->closed = true;
    ++d->lookupGeneration;
    d->connectTimer.stop();
    d->reconnectTimer.stop();
    d->freeContext();
    d->setState(State::Closed);
    d->dispatch();
}

RedisClient::State RedisClient::state() const
{
    Q_D(const RedisClient);
    return d->state;
}

QString RedisClient::lastError() const
{
    Q_D(const RedisClient);
    return d->lastError;
}

bool RedisClient::command(
    const QList<QByteArray> &args, std::function<void(const RedisReply &)> callback)
{
    Q_D(RedisClient);
    if (d->state != State::Ready || !d->ac || args.isEmpty())
        return false;
    if (isSubscriberCommand(args.first())) {
        qCWarning(lcRedis).noquote() << d->describe() << "command() cannot send" << args.first()
                                     << "(use subscribe() and friends)";
        return false;
    }
    if (d->subscriberMode()) {
        qCWarning(lcRedis).noquote() << d->describe() << "has subscriptions: command()"
                                     << args.first() << "refused (use another client)";
        return false;
    }
    return d->sendCommand(args, std::move(callback));
}

void RedisClient::subscribe(const QByteArray &channel)
{
    Q_D(RedisClient);
    if (d->channels.wanted.contains(channel))
        return;
    d->channels.wanted.insert(channel);
    d->syncSubscriptions();
}

void RedisClient::psubscribe(const QByteArray &pattern)
{
    Q_D(RedisClient);
    if (d->patterns.wanted.contains(pattern))
        return;
    d->patterns.wanted.insert(pattern);
    d->syncSubscriptions();
}

void RedisClient::unsubscribe(const QByteArray &channel)
{
    Q_D(RedisClient);
    if (!d->channels.wanted.remove(channel))
        return;
    d->channels.confirmed.remove(channel);
    d->syncSubscriptions();
}

void RedisClient::punsubscribe(const QByteArray &pattern)
{
    Q_D(RedisClient);
    if (!d->patterns.wanted.remove(pattern))
        return;
    d->patterns.confirmed.remove(pattern);
    d->syncSubscriptions();
}

bool RedisClient::isSubscribed(const QByteArray &channelOrPattern) const
{
    Q_D(const RedisClient);
    return d->channels.confirmed.contains(channelOrPattern)
        || d->patterns.confirmed.contains(channelOrPattern);
}

bool RedisClient::isFullySubscribed() const
{
    Q_D(const RedisClient);
    return d->channels.confirmed == d->channels.wanted
        && d->patterns.confirmed == d->patterns.wanted;
}

} // namespace QSocketIo
