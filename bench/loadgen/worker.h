// One generator thread: an epoll loop over the non-blocking sockets of its share of the clients,
// with the HTTP/1.1 and WebSocket client code and the scenarios' client behaviour.
#pragma once

#include "loadgen.h"

#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace loadgen {

// A byte queue that keeps its capacity, so a connection stops allocating once warmed up.
class Buffer
{
public:
    Buffer() = default;
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;
    ~Buffer() { std::free(m_data); }

    size_t size() const { return m_end - m_begin; }
    bool empty() const { return m_begin == m_end; }
    char *head() { return m_data + m_begin; }
    void clear() { m_begin = m_end = 0; }
    void consume(size_t n)
    {
        m_begin += n;
        if (m_begin >= m_end)
            m_begin = m_end = 0;
    }
    char *prepare(size_t n);
    void commit(size_t n) { m_end += n; }
    void append(const void *p, size_t n)
    {
        if (n == 0)
            return;
        std::memcpy(prepare(n), p, n);
        m_end += n;
    }
    void append(std::string_view s) { append(s.data(), s.size()); }
    // Gives memory back after a large message, so idle connections stay small.
    void trim()
    {
        if (empty() && m_cap > 256 * 1024) {
            std::free(m_data);
            m_data = nullptr;
            m_cap = 0;
            clear();
        }
    }

private:
    char *m_data = nullptr;
    size_t m_begin = 0;
    size_t m_end = 0;
    size_t m_cap = 0;
};

enum class State : uint8_t {
    Idle, // not started yet (churn: between cycles)
    TcpConnecting,
    WsHandshake,
    PollHandshake,
    EioOpen,
    SioConnecting,
    Joining,
    Ready,
    Closing, // churn, soak: our disconnect sent, waiting for the server's close
    Dead,
};

struct Client;

struct Sock
{
    int fd = -1;
    int local = 0; // the owning client's index in the worker
    uint32_t gen = 0;
    bool isPost = false;
    bool connecting = false;
    bool wantOut = false;
    Buffer in;
    Buffer out;
};

// What a call asked, so that its ack can be checked (soak).
enum CallKind : uint8_t { CallEcho, CallJoin, CallRoomBroadcast };

struct Call
{
    uint64_t id = 0;
    int64_t sentNs = 0; // 0: free
    uint8_t kind = CallEcho;
};

struct Client
{
    int index = 0; // global client number
    int local = 0; // index in the worker
    int room = 0;
    int side = 0; // 0: connects to --url, 1: to --receivers-url
    State state = State::Idle;
    bool handshaking = false;
    bool unresolved = false;
    bool polling = false; // this connection uses HTTP long-polling
    // Soak: the lifetime is over and the client leaves once its acks are in; a polling client
    // that is leaving saw the server's Engine.IO close (or the session was already gone).
    bool leaving = false;
    bool sawClose = false;
    uint32_t cycle = 0; // soak: connections started, tells stale timers apart
    int64_t leaveAt = 0; // soak: end of this connection's lifetime
    int64_t timerAt = 0; // soak: the pending timer's time (0: none)
    Sock ws; // the WebSocket, or the polling GET connection
    Sock post; // polling: the POST connection
    int64_t since = 0; // start of the current handshake, cycle or close
    uint64_t nextId = 0;
    int outstanding = 0;
    std::unique_ptr<Call[]> calls;
    // A binary packet announced its attachments; they follow as binary frames.
    int attachmentsPending = 0;
    bool attachmentsForAck = false;
    uint64_t attachmentAckId = 0;
    size_t attachmentBytes = 0;
    Buffer frag;
    uint8_t fragOpcode = 0;
    // Polling.
    std::string getRequest;
    std::string postHead;
    Buffer pollQueue;
    bool getInFlight = false;
    bool postInFlight = false;
};

class Worker
{
public:
    Worker(Shared &shared, int index);
    ~Worker();
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;

    void start();
    void join();
    const Stats &stats() const { return m_stats; }
    bool ok() const { return m_epoll >= 0 && m_eventFd >= 0; }

private:
    void run();
    void tick(int64_t now);
    void connectMore(int64_t now);
    void startClient(Client &c, int64_t now);
    int openSock(Client &c, Sock &s);
    void onEvent(uint64_t key, uint32_t events);
    void onConnected(Client &c, Sock &s);
    void onReadable(Client &c, Sock &s);
    size_t processWs(Client &c, char *p, size_t n);
    size_t processHttp(Client &c, Sock &s, char *p, size_t n);
    void onHttpResponse(Client &c, Sock &s, int status, char *body, size_t n);
    void onFrame(Client &c, bool fin, int opcode, char *p, size_t n);
    void onEngine(Client &c, bool binary, const char *p, size_t n);
    void onSocketIo(Client &c, const char *p, size_t n);
    void onAck(Client &c, uint64_t id, const char *body, size_t n, bool binary);
    void onBcast(Client &c, const char *p, size_t n);
    void countReady(const Client &c, int delta);
    void becomeReady(Client &c);
    void send(Client &c, std::initializer_list<std::string_view> parts, bool binary = false);
    void sendWsFrame(Sock &s, uint8_t opcode, std::initializer_list<std::string_view> parts);
    void flush(Sock &s);
    void flushPoll(Client &c);
    void issueGet(Client &c);
    void setWantOut(Sock &s, bool want);
    void issueCalls(Client &c, int64_t now);
    void completeCall(Client &c, uint64_t id, bool valid);
    void pumpSender(int64_t now);
    void finishCycle(Client &c, int64_t now);
    void kill(Client &c, int kind);
    void countError(int kind);
    // Soak.
    struct Timer
    {
        int64_t at;
        int local;
        uint32_t cycle;
        bool operator>(const Timer &o) const { return at > o.at; }
    };
    double random01();
    void soakSchedule(Client &c, int64_t at);
    void soakTimers(int64_t now);
    bool soakCall(Client &c, CallKind kind, int64_t now);
    void soakAck(Client &c, uint64_t id, const char *body, size_t n, bool binary);
    void soakBcast(Client &c, const char *p, size_t n);
    void soakLeave(Client &c, int64_t now);
    void soakPollingClosed(Client &c);
    void flushClient(Client &c);
    void closeSock(Sock &s);
    bool alive(const Client &c, const Sock &s, int fd, uint32_t gen) const
    {
        return s.fd == fd && s.gen == gen && c.state != State::Dead && c.state != State::Idle;
    }
    bool issuing(int64_t now) const
    {
        return m_shared.phase.load(std::memory_order_relaxed) == PhaseRun && now >= m_runStart
            && now < m_shared.windowEnd.load(std::memory_order_relaxed);
    }
    bool inWindow(int64_t t) const
    {
        return t >= m_shared.windowStart.load(std::memory_order_relaxed)
            && t < m_shared.windowEnd.load(std::memory_order_relaxed);
    }

    Shared &m_shared;
    const Options &m_options;
    int m_index;
    int m_epoll = -1;
    int m_eventFd = -1;
    std::thread m_thread;
    Stats m_stats;
    std::vector<Client> m_clients;
    size_t m_nextToStart = 0;
    std::vector<int> m_restart; // churn, soak: clients waiting for their next cycle
    std::vector<Timer> m_timers; // soak: a min-heap on `at`, stale entries skipped
    uint64_t m_rng = 0;
    int m_handshaking = 0;
    int m_maxHandshakes = 1;
    double m_rate = 1;
    double m_tokens = 0;
    int64_t m_lastTokens = 0;
    int64_t m_lastScan = 0;
    int64_t m_runStart = INT64_MAX;
    int64_t m_timeoutNs = 0;
    int64_t m_measuredOutstanding = 0;
    bool m_kicked = false;
    bool m_drained = false;
    char *m_scratch = nullptr;
    // Precomputed packet pieces.
    std::string m_payloadJson; // "abc..." with quotes
    std::string m_echoAck; // the echo ack's arguments: ["abc..."]
    std::string m_payloadBinary;
    std::string m_pad;
    std::string m_upgradeRequest[2]; // per side
    std::string m_pollHandshake;
    // Broadcast sender (client 0's worker only).
    Client *m_sender = nullptr;
    int64_t m_oldestSeq = 0;
    int64_t m_nextSeq = 0;
    int64_t m_nextIssueNs = 0; // with --rate: when the next broadcast is due (0: not started)
    bool m_pumpWanted = false;
    std::vector<bool> m_slotAcked;
    std::vector<bool> m_slotActive;
};

} // namespace loadgen
