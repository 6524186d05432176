#pragma once

// WebSocket I/O on worker threads (EngineOptions::workerThreads). Each worker thread has its
// own event loop and owns the RawWebSocket of the connections given to it (round robin):
// reading, frame parsing, unmasking, UTF-8 checks and every system call happen there. Sessions,
// namespaces, rooms and handlers stay in the server's thread, so rooms and broadcasts work as
// with one thread. Only packets cross threads: frames (implicitly shared QByteArrays, a
// broadcast's frame built once for all recipients) go to the worker in one queue per worker;
// messages and events come back in one queue per worker. A queue wakes its consumer only when
// it goes from empty to non-empty, and a worker writes everything a batch gave one connection
// in one system call.

#include "wsconnection_p.h"

#include <QtCore/qhash.h>
#include <QtCore/qmutex.h>
#include <QtCore/qobject.h>

#include <atomic>
#include <memory>
#include <vector>

class QAbstractEventDispatcher;
class QThread;

namespace QSocketIo {

class WsWorker;

// What both threads know of one connection.
struct WsShared
{
    class ThreadedWebSocket *proxy = nullptr; // server thread only; null once deleted
    RawWebSocket *raw = nullptr; // worker thread only; null once deleted
    std::atomic<qint64> queued {0}; // bytes sent by the server thread and not yet in the kernel
    qint64 rawQueued = 0; // worker thread only: raw->bytesToWrite() last seen
    // Set by the server thread when much is queued: the worker then reports the drain (the
    // session's congestion state and `drained` depend on it) even if the kernel took it all.
    std::atomic<bool> reportDrain {false};
    qint64 reportAbove = 16 * 1024; // set once, before the worker sees it
};

// The server thread's side of a connection that a worker serves.
class ThreadedWebSocket final : public WsConnection
{
public:
    ThreadedWebSocket(WsWorker *worker, std::shared_ptr<WsShared> shared);
    // Parses the bytes that came with the request head, after what was sent so far (the
    // Engine.IO open packet).
    void start();
    ~ThreadedWebSocket() override; // drops the connection (the worker deletes its side)

    void sendText(QByteArrayView utf8) override;
    void sendMessage(const EngineMessage &message) override;
    qint64 bytesToWrite() const override { return m_shared->queued.load(std::memory_order_relaxed); }
    void shutdown(std::chrono::milliseconds timeout,
        std::function<void(WsConnection *)> finished) override;

private:
    friend class WsWorker;
    void send(const QByteArray &frame);

    WsWorker *m_worker;
    std::shared_ptr<WsShared> m_shared;
    std::function<void(WsConnection *)> m_finished;
    bool m_shutdown = false;
    bool m_workerDone = false; // the worker deleted its side after the shutdown
};

// One worker thread and the two queues between it and the server's thread.
class WsWorker : public WsConnection::Receiver
{
public:
    // `eventDispatcher`: given to the thread (an EpollEventDispatcher when the server's thread
    // uses one), or null for Qt's default.
    explicit WsWorker(QAbstractEventDispatcher *eventDispatcher);
    ~WsWorker(); // stops the thread; its connections are dropped

    // Server thread: a connection whose handshake response is `response`; the worker takes
    // `fd` and the bytes already read after the request head.
    // `maxBuffered`: the session's EngineOptions::maxBufferedBytes (drains below it matter).
    ThreadedWebSocket *adopt(int fd, qint64 maxMessage, qint64 maxBuffered,
        const QByteArray &response, const QByteArray &initial);

private:
    friend class ThreadedWebSocket;
    enum class Op { Adopt, Start, Send, Shutdown, Drop };
    struct ToWorker
    {
        Op op;
        std::shared_ptr<WsShared> shared;
        QByteArray bytes; // Send: a frame; Adopt: the handshake response
        QByteArray initial = {}; // Adopt
        int fd = -1; // Adopt
        qint64 number = 0; // Adopt: max message size; Shutdown: timeout in ms
    };
    enum class Event { Text, Binary, Written, Closed, Finished };
    struct ToServer
    {
        Event event;
        std::shared_ptr<WsShared> shared;
        QByteArray bytes = {};
        int code = 0;
        QString reason = {};
    };

    void post(ToWorker &&item); // server thread
    void flushOutbox(); // server thread
    void postToServer(ToServer &&item); // worker thread
    void flushWorkerOutbox(); // worker thread
    void drainInWorker();
    void drainInServer();
    void forget(WsShared *shared); // worker thread: its RawWebSocket is gone
    WsShared *sharedOf(WsConnection *raw) const;

    // WsConnection::Receiver, in the worker thread, for every RawWebSocket it owns
    void wsText(WsConnection *connection, const QByteArray &utf8) override;
    void wsBinary(WsConnection *connection, const QByteArray &bytes) override;
    void wsWritten(WsConnection *connection) override;
    void wsClosed(WsConnection *connection, int code, const QString &reason) override;

    QThread *m_thread;
    QObject *m_workerContext; // lives in the worker thread
    QObject m_serverContext; // lives in the server's thread
    std::vector<ToWorker> m_outbox; // server thread: not yet handed over
    bool m_outboxFlushScheduled = false;
    std::vector<ToServer> m_workerOutbox; // worker thread: not yet handed over
    bool m_workerOutboxFlushScheduled = false;
    QMutex m_toWorkerLock;
    std::vector<ToWorker> m_toWorker;
    QMutex m_toServerLock;
    std::vector<ToServer> m_toServer;
    // Worker thread only: the connections it owns, by their RawWebSocket.
    QHash<WsConnection *, std::shared_ptr<WsShared>> m_owned;
};

} // namespace QSocketIo
