#include "wsthreads_p.h"

#include "enginesocket.h"
#include "logging_p.h"

#include <QtCore/qabstracteventdispatcher.h>
#include <QtCore/qthread.h>

#include <iterator>
#include <unistd.h>

namespace QSocketIo {


// ---- ThreadedWebSocket (server thread)

ThreadedWebSocket::ThreadedWebSocket(WsWorker *worker, std::shared_ptr<WsShared> shared)
    : m_worker(worker)
    , m_shared(std::move(shared))
{
    m_shared->proxy = this;
}

ThreadedWebSocket::~ThreadedWebSocket()
{
    m_shared->proxy = nullptr;
    if (!m_workerDone) // the worker drops its side
        m_worker->post({WsWorker::Op::Drop, m_shared, {}});
}

void ThreadedWebSocket::start()
{
    m_worker->post({WsWorker::Op::Start, m_shared, {}});
}

void ThreadedWebSocket::send(const QByteArray &frame)
{
    if (m_shutdown)
        return;
    const qint64 queued
        = m_shared->queued.fetch_add(frame.size(), std::memory_order_relaxed) + frame.size();
    if (queued >= m_shared->reportAbove)
        m_shared->reportDrain.store(true, std::memory_order_relaxed);
    m_worker->post({WsWorker::Op::Send, m_shared, frame});
}

void ThreadedWebSocket::sendText(QByteArrayView utf8)
{
    send(RawWebSocket::frame(0x1, utf8));
}

void ThreadedWebSocket::sendMessage(const EngineMessage &message)
{
    send(message.webSocketFrame());
}

void ThreadedWebSocket::shutdown(
    std::chrono::milliseconds timeout, std::function<void(WsConnection *)> finished)
{
    m_receiver = nullptr;
    m_finished = std::move(finished);
    m_shutdown = true;
    WsWorker::ToWorker item {WsWorker::Op::Shutdown, m_shared, {}};
    item.number = timeout.count();
    m_worker->post(std::move(item));
}

// ---- WsWorker

WsWorker::WsWorker(QAbstractEventDispatcher *eventDispatcher)
    : m_thread(new QThread)
    , m_workerContext(new QObject)
{
    m_thread->setObjectName(QStringLiteral("QSocketIo WebSocket worker"));
    if (eventDispatcher)
        m_thread->setEventDispatcher(eventDispatcher);
    m_workerContext->moveToThread(m_thread);
    m_thread->start();
}

WsWorker::~WsWorker()
{
    flushOutbox(); // connections adopted or dropped meanwhile
    // The connections go with the thread, in it (their notifiers and timers belong to it).
    QMetaObject::invokeMethod(
        m_workerContext,
        [this] {
            for (const auto &shared : std::as_const(m_owned)) {
                shared->raw->setReceiver(nullptr);
                delete std::exchange(shared->raw, nullptr);
            }
            m_owned.clear();
            delete m_workerContext;
            QThread::currentThread()->quit();
        },
        Qt::QueuedConnection);
    m_thread->wait();
    delete m_thread;
}

ThreadedWebSocket *WsWorker::adopt(int fd, qint64 maxMessage, qint64 maxBuffered,
    const QByteArray &response, const QByteArray &initial)
{
    auto shared = std::make_shared<WsShared>();
    // Below this many queued bytes nothing depends on the drain: the session is writable
    // (under 64 KiB) and not congested (under maxBufferedBytes). Above it the worker reports it.
    shared->reportAbove = qMin<qint64>(16 * 1024, maxBuffered > 0 ? maxBuffered : 16 * 1024);
    auto *proxy = new ThreadedWebSocket(this, shared);
    ToWorker item {Op::Adopt, std::move(shared), response, initial, fd, maxMessage};
    post(std::move(item));
    return proxy;
}

// Both directions batch: an item goes to its side's outbox, and the outbox goes to the other
// thread in one locked append (and at most one wake-up) at the end of the current batch, or on
// the next event-loop turn (a posted event runs after the socket notifications of this turn).
void WsWorker::post(ToWorker &&item)
{
    m_outbox.push_back(std::move(item));
    if (!m_outboxFlushScheduled) {
        m_outboxFlushScheduled = true;
        QMetaObject::invokeMethod(&m_serverContext, [this] { flushOutbox(); }, Qt::QueuedConnection);
    }
}

// Moves `outbox` to the end of `inbox` under `lock`; true when `inbox` was empty (its consumer
// then needs a wake-up: otherwise one is already on its way).
template<typename Item>
static bool handOver(std::vector<Item> &outbox, QMutex &lock, std::vector<Item> &inbox)
{
    QMutexLocker locker(&lock);
    const bool wasEmpty = inbox.empty();
    if (wasEmpty) {
        inbox.swap(outbox);
    } else {
        std::move(outbox.begin(), outbox.end(), std::back_inserter(inbox));
        outbox.clear();
    }
    return wasEmpty;
}

void WsWorker::flushOutbox()
{
    m_outboxFlushScheduled = false;
    if (!m_outbox.empty() && handOver(m_outbox, m_toWorkerLock, m_toWorker))
        QMetaObject::invokeMethod(m_workerContext, [this] { drainInWorker(); }, Qt::QueuedConnection);
}

void WsWorker::postToServer(ToServer &&item)
{
    m_workerOutbox.push_back(std::move(item));
    if (!m_workerOutboxFlushScheduled) {
        m_workerOutboxFlushScheduled = true;
        QMetaObject::invokeMethod(m_workerContext, [this] { flushWorkerOutbox(); }, Qt::QueuedConnection);
    }
}

void WsWorker::flushWorkerOutbox()
{
    m_workerOutboxFlushScheduled = false;
    if (!m_workerOutbox.empty() && handOver(m_workerOutbox, m_toServerLock, m_toServer))
        QMetaObject::invokeMethod(&m_serverContext, [this] { drainInServer(); }, Qt::QueuedConnection);
}

WsShared *WsWorker::sharedOf(WsConnection *raw) const
{
    const auto it = m_owned.constFind(raw);
    return it == m_owned.cend() ? nullptr : it->get();
}

void WsWorker::forget(WsShared *shared)
{
    if (shared->raw) {
        m_owned.remove(shared->raw);
        shared->raw = nullptr;
    }
}

void WsWorker::drainInWorker()
{
    std::vector<ToWorker> items;
    {
        QMutexLocker locker(&m_toWorkerLock);
        items.swap(m_toWorker);
    }
    // Everything this batch gives one connection leaves in one write, after the batch.
    std::vector<std::shared_ptr<WsShared>> corked;
    for (ToWorker &item : items) {
        WsShared *s = item.shared.get();
        switch (item.op) {
        case Op::Adopt: {
            auto *raw = new RawWebSocket(item.fd, item.number, item.initial, false);
            s->raw = raw;
            m_owned.insert(raw, item.shared);
            raw->setReceiver(this);
            raw->setDeferCloseAnswer(true);
            raw->writeRaw(item.bytes);
            break;
        }
        case Op::Start:
            if (s->raw) {
                if (s->raw->isCorked()) {
                    s->raw->uncork();
                    if (!s->raw)
                        break;
                }
                s->raw->start();
            }
            break;
        case Op::Send:
            s->queued.fetch_sub(item.bytes.size(), std::memory_order_relaxed);
            if (s->raw) {
                if (!s->raw->isCorked()) {
                    s->raw->cork();
                    corked.push_back(item.shared);
                }
                s->raw->writeFrame(item.bytes);
            }
            break;
        case Op::Shutdown:
            if (RawWebSocket *raw = s->raw) {
                if (raw->isCorked())
                    raw->uncork(); // what was sent before the shutdown goes first
                if (!s->raw)
                    break;
                raw->shutdown(std::chrono::milliseconds(item.number),
                    [this, shared = item.shared](WsConnection *c) {
                        forget(shared.get());
                        delete c;
                        postToServer({Event::Finished, shared});
                    });
            } else {
                postToServer({Event::Finished, item.shared});
            }
            break;
        case Op::Drop:
            if (RawWebSocket *raw = s->raw) {
                forget(s);
                raw->setReceiver(nullptr);
                delete raw;
            }
            break;
        }
    }
    for (const auto &shared : corked) {
        if (RawWebSocket *raw = shared->raw) {
            raw->uncork(); // may finish (delete) a retired connection
            if (RawWebSocket *still = shared->raw) {
                const qint64 now = still->bytesToWrite();
                const qint64 queued = shared->queued.fetch_add(
                                          now - shared->rawQueued, std::memory_order_relaxed)
                    + now - shared->rawQueued;
                shared->rawQueued = now;
                if (now == 0 && queued < shared->reportAbove
                    && shared->reportDrain.exchange(false, std::memory_order_relaxed))
                    postToServer({Event::Written, shared});
            }
        }
    }
    flushWorkerOutbox();
}

void WsWorker::drainInServer()
{
    std::vector<ToServer> items;
    {
        QMutexLocker locker(&m_toServerLock);
        items.swap(m_toServer);
    }
    for (ToServer &item : items) {
        ThreadedWebSocket *proxy = item.shared->proxy;
        if (!proxy)
            continue; // deleted meanwhile
        if (item.event == Event::Finished) {
            if (auto finished = std::exchange(proxy->m_finished, nullptr)) {
                proxy->m_workerDone = true; // nothing left to drop
                finished(proxy); // deletes it
            }
            continue;
        }
        Receiver *receiver = proxy->m_receiver;
        if (!receiver)
            continue;
        switch (item.event) {
        case Event::Text:
            receiver->wsText(proxy, item.bytes);
            break;
        case Event::Binary:
            receiver->wsBinary(proxy, item.bytes);
            break;
        case Event::Written:
            receiver->wsWritten(proxy);
            break;
        case Event::Closed:
            proxy->m_receiver = nullptr;
            receiver->wsClosed(proxy, item.code, item.reason);
            break;
        case Event::Finished:
            break;
        }
    }
    flushOutbox(); // the answers to this batch
}

void WsWorker::wsText(WsConnection *connection, const QByteArray &utf8)
{
    if (sharedOf(connection))
        postToServer({Event::Text, m_owned.value(connection), utf8});
}

void WsWorker::wsBinary(WsConnection *connection, const QByteArray &bytes)
{
    if (sharedOf(connection))
        postToServer({Event::Binary, m_owned.value(connection), bytes});
}

void WsWorker::wsWritten(WsConnection *connection)
{
    WsShared *s = sharedOf(connection);
    if (!s)
        return;
    const qint64 now = connection->bytesToWrite();
    s->queued.fetch_add(now - s->rawQueued, std::memory_order_relaxed);
    s->rawQueued = now;
    if (now == 0)
        s->reportDrain.store(false, std::memory_order_relaxed);
    postToServer({Event::Written, m_owned.value(connection)});
}

void WsWorker::wsClosed(WsConnection *connection, int code, const QString &reason)
{
    if (sharedOf(connection))
        postToServer({Event::Closed, m_owned.value(connection), {}, code, reason});
}

} // namespace QSocketIo
