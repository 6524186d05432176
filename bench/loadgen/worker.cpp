#include "worker.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <functional>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace loadgen {

namespace {

constexpr size_t ScratchSize = 64 * 1024;
constexpr uint64_t EventKey = ~uint64_t(0);
constexpr int64_t ScanPeriodNs = 100'000'000;

uint64_t sockKey(const Sock &s)
{
    return (uint64_t(s.local) << 33) | (uint64_t(s.isPost) << 32) | s.gen;
}

// Parses the decimal number at [p, end); returns the first character after it, or nullptr.
const char *parseNumber(const char *p, const char *end, uint64_t &value)
{
    const auto [q, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || q == p)
        return nullptr;
    return q;
}

bool startsWith(const char *p, size_t n, std::string_view prefix)
{
    return n >= prefix.size() && std::memcmp(p, prefix.data(), prefix.size()) == 0;
}

bool sameIgnoringCase(const char *p, size_t n, std::string_view lower)
{
    if (n != lower.size())
        return false;
    for (size_t i = 0; i < n; ++i) {
        char ch = p[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = char(ch - 'A' + 'a');
        if (ch != lower[i])
            return false;
    }
    return true;
}

bool handshakeState(State s)
{
    switch (s) {
    case State::TcpConnecting:
    case State::WsHandshake:
    case State::PollHandshake:
    case State::EioOpen:
    case State::SioConnecting:
    case State::Joining:
    case State::Closing:
        return true;
    default:
        return false;
    }
}

struct Digits
{
    explicit Digits(uint64_t v) { end = std::to_chars(buf, buf + sizeof buf, v).ptr; }
    std::string_view view() const { return {buf, size_t(end - buf)}; }
    char buf[24];
    char *end;
};

} // namespace

char *Buffer::prepare(size_t n)
{
    if (m_cap - m_end >= n)
        return m_data + m_end;
    const size_t used = size();
    if (m_begin > 0 && m_cap - used >= n && used < m_cap / 2) {
        std::memmove(m_data, m_data + m_begin, used);
    } else {
        const size_t capacity = std::max({m_cap * 2, used + n, size_t(256)});
        char *data = static_cast<char *>(std::malloc(capacity));
        if (!data)
            std::abort();
        if (used)
            std::memcpy(data, m_data + m_begin, used);
        std::free(m_data);
        m_data = data;
        m_cap = capacity;
    }
    m_begin = 0;
    m_end = used;
    return m_data + m_end;
}

Worker::Worker(Shared &shared, int index)
    : m_shared(shared)
    , m_options(shared.options)
    , m_index(index)
{
    const Options &o = m_options;
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_eventFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_epoll >= 0 && m_eventFd >= 0) {
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.u64 = EventKey;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_eventFd, &ev);
    }
    m_rate = std::max(1.0, o.connectRate / o.threads);
    m_maxHandshakes = std::max(1, o.maxHandshakes / o.threads);
    m_timeoutNs = int64_t(o.timeout * 1e9);

    int count = 0;
    for (int i = index; i < o.clients; i += o.threads)
        ++count;
    m_clients = std::vector<Client>(size_t(count));
    const bool calls = o.scenario == Scenario::Echo || o.scenario == Scenario::Binary
        || o.scenario == Scenario::Polling || o.scenario == Scenario::Soak;
    for (int k = 0; k < count; ++k) {
        Client &c = m_clients[size_t(k)];
        c.index = index + k * o.threads;
        c.local = k;
        c.room = o.rooms > 0 ? c.index % o.rooms : 0;
        c.side = o.sideOf(c.index);
        c.post.isPost = true;
        c.ws.local = c.post.local = k;
        c.unresolved = !o.cycling();
        c.polling = o.polling();
        if (calls)
            c.calls = std::make_unique<Call[]>(size_t(o.window));
    }
    if (o.broadcasting() && index == 0 && count > 0) {
        m_sender = &m_clients[0];
        m_shared.senderEventFd.store(m_eventFd);
        m_slotAcked.assign(Shared::SlotCount, false);
        m_slotActive.assign(Shared::SlotCount, false);
    }

    std::string letters(o.payload, 'a');
    for (size_t i = 0; i < o.payload; ++i)
        letters[i] = char('a' + i % 26);
    m_payloadJson = '"' + letters + '"';
    m_echoAck = '[' + m_payloadJson + ']';
    m_rng = o.seed * 0x9E3779B97F4A7C15ull + uint64_t(index) + 1;
    m_pad = letters;
    m_payloadBinary.resize(o.payload);
    for (size_t i = 0; i < o.payload; ++i)
        m_payloadBinary[i] = char(i * 131 + 7);
    for (int side = 0; side < 2; ++side) {
        m_upgradeRequest[side] = "GET " + o.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: "
            + (side ? o.receiversHostHeader : o.hostHeader)
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }
    m_pollHandshake = "GET " + o.path + "?EIO=4&transport=polling HTTP/1.1\r\nHost: " + o.hostHeader
        + "\r\n\r\n";
}

Worker::~Worker()
{
    for (Client &c : m_clients) {
        closeSock(c.ws);
        closeSock(c.post);
    }
    if (m_eventFd >= 0)
        ::close(m_eventFd);
    if (m_epoll >= 0)
        ::close(m_epoll);
    std::free(m_scratch);
}

void Worker::start()
{
    m_thread = std::thread([this] { run(); });
}

void Worker::join()
{
    if (m_thread.joinable())
        m_thread.join();
}

void Worker::run()
{
    m_scratch = static_cast<char *>(std::malloc(ScratchSize));
    epoll_event events[256];
    m_lastTokens = nowNs();
    for (;;) {
        const int phase = m_shared.phase.load(std::memory_order_acquire);
        if (phase == PhaseStop)
            break;
        int64_t now = nowNs();
        if (phase >= PhaseRun && !m_kicked) {
            m_kicked = true;
            m_runStart = now;
            for (Client &c : m_clients) {
                if (m_options.cycling())
                    break;
                if (c.state == State::Ready) {
                    issueCalls(c, now);
                    if (c.ws.fd >= 0 && !c.ws.connecting)
                        flush(c.ws);
                    flushPoll(c);
                } else if (c.state == State::Idle) {
                    // The connect phase ended on its deadline before this one could start.
                    countError(ErrTimeout);
                    c.state = State::Dead;
                } else if (c.state != State::Dead) {
                    kill(c, ErrTimeout);
                }
            }
            if (!m_options.cycling())
                m_nextToStart = m_clients.size();
            if (m_sender && m_sender->state != State::Ready) {
                // Client 0 did not make it: any connected client of this thread on the same
                // server can send.
                auto ready = std::find_if(m_clients.begin(), m_clients.end(),
                    [](const Client &c) { return c.state == State::Ready && c.side == 0; });
                if (ready != m_clients.end())
                    m_sender = &*ready;
                else
                    std::fprintf(stderr, "qsio-loadgen: no connected client to send from\n");
            }
        }
        connectMore(now);
        if (now - m_lastScan >= ScanPeriodNs) {
            m_lastScan = now;
            tick(now);
        }
        if (m_sender && phase >= PhaseRun)
            pumpSender(now);
        if (m_options.scenario == Scenario::Soak && phase >= PhaseRun)
            soakTimers(now);
        if (phase == PhaseDrain && !m_drained && m_measuredOutstanding <= 0) {
            m_drained = true;
            m_shared.drainedWorkers.fetch_add(1);
        }
        const bool moreToStart = m_options.cycling()
            ? (phase == PhaseRun && (!m_restart.empty() || m_nextToStart < m_clients.size()))
            : (phase == PhaseConnect && m_nextToStart < m_clients.size());
        int wait = moreToStart ? 1 : 10;
        if (!m_timers.empty()) {
            const int64_t untilTimer = (m_timers.front().at - nowNs() + 999'999) / 1'000'000;
            wait = int(std::clamp<int64_t>(untilTimer, 0, wait));
        }
        if (m_sender && m_nextIssueNs > 0 && phase == PhaseRun) {
            const int64_t untilIssue = (m_nextIssueNs - nowNs() + 999'999) / 1'000'000;
            wait = int(std::clamp<int64_t>(untilIssue, 0, wait));
        }
        const int n = epoll_wait(m_epoll, events, 256, wait);
        for (int i = 0; i < n; ++i)
            onEvent(events[i].data.u64, events[i].events);
    }
    if (!m_kicked && !m_options.cycling()) {
        // Stopped inside the connect phase (nothing connected anywhere): whoever had not
        // connected by then ran out of time.
        for (Client &c : m_clients) {
            if (c.state != State::Ready && c.state != State::Dead)
                countError(ErrTimeout);
        }
    }
    if (m_sender) {
        for (int64_t seq = m_oldestSeq; seq < m_nextSeq; ++seq) {
            const size_t i = size_t(seq % Shared::SlotCount);
            BroadcastSlot &slot = m_shared.slots[i];
            if (m_slotActive[i] && slot.measured.load()) {
                m_stats.missing += uint64_t(std::max(0, slot.remaining.load()));
                --m_measuredOutstanding;
            }
        }
    }
    if (m_measuredOutstanding > 0)
        m_stats.errors[ErrTimeout] += uint64_t(m_measuredOutstanding);
    if (m_options.scenario == Scenario::Soak) {
        // Calls still without their ack when the run stops (those issued in the window are
        // timeouts above as well).
        for (const Client &c : m_clients)
            m_stats.soak[SoakUnacked] += uint64_t(std::max(0, c.outstanding));
    }
}

void Worker::connectMore(int64_t now)
{
    const double burst = std::max(1.0, m_rate / 100);
    m_tokens = std::min(burst, m_tokens + double(now - m_lastTokens) * m_rate / 1e9);
    m_lastTokens = now;
    if (m_options.cycling()) {
        const bool soak = m_options.scenario == Scenario::Soak;
        while (m_tokens >= 1 && issuing(now) && (!soak || m_handshaking < m_maxHandshakes)) {
            Client *c = nullptr;
            if (!m_restart.empty()) {
                c = &m_clients[size_t(m_restart.back())];
                m_restart.pop_back();
            } else if (m_nextToStart < m_clients.size()) {
                c = &m_clients[m_nextToStart++];
            } else {
                break;
            }
            m_tokens -= 1;
            startClient(*c, now);
        }
        return;
    }
    if (m_shared.phase.load(std::memory_order_relaxed) != PhaseConnect)
        return;
    while (m_tokens >= 1 && m_handshaking < m_maxHandshakes && m_nextToStart < m_clients.size()) {
        m_tokens -= 1;
        startClient(m_clients[m_nextToStart++], now);
    }
}

void Worker::startClient(Client &c, int64_t now)
{
    c.state = State::TcpConnecting;
    c.since = now;
    c.nextId = 0;
    c.outstanding = 0;
    c.attachmentsPending = 0;
    c.fragOpcode = 0;
    c.frag.clear();
    c.pollQueue.clear();
    c.getInFlight = c.postInFlight = false;
    if (m_options.scenario == Scenario::Soak) {
        ++c.cycle;
        c.leaving = c.sawClose = false;
        c.timerAt = 0;
        c.polling = random01() < m_options.pollingShare;
        c.room = int(random01() * m_options.rooms) % m_options.rooms;
        c.getRequest.clear();
        c.postHead.clear();
        for (int i = 0; i < m_options.window; ++i)
            c.calls[size_t(i)].sentNs = 0;
        ++m_stats.soak[SoakConnects];
        if (c.polling)
            ++m_stats.soak[SoakConnectsPolling];
    }
    if (m_options.scenario == Scenario::Churn) {
        if (inWindow(now))
            ++m_measuredOutstanding;
    } else {
        c.handshaking = true;
        ++m_handshaking;
    }
    const int error = openSock(c, c.ws);
    if (error >= 0)
        kill(c, error);
}

// Returns -1, or the error kind when the connection could not even start.
int Worker::openSock(Client &c, Sock &s)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ErrSocket;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const auto &sources = m_options.sourceAddresses;
    if (!sources.empty()) {
        // Lets the kernel pick the port at connect() time by the whole 4-tuple, so each
        // source address is not limited to one ephemeral range shared by all destinations.
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in local {};
        local.sin_family = AF_INET;
        local.sin_addr = sources[size_t(c.index) % sources.size()];
        if (::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof local) < 0) {
            ::close(fd);
            return ErrSocket;
        }
    }
    const sockaddr_in &server = c.side ? m_options.receiversServer : m_options.server;
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&server), sizeof server) < 0
        && errno != EINPROGRESS) {
        const int error = errno == ECONNREFUSED
            ? ErrConnectRefused
            : (errno == EADDRNOTAVAIL ? ErrSocket : ErrConnectFailed);
        ::close(fd);
        return error;
    }
    s.fd = fd;
    ++s.gen;
    s.connecting = true;
    s.wantOut = true;
    s.in.clear();
    s.out.clear();
    epoll_event ev {};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = sockKey(s);
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) < 0) {
        closeSock(s);
        return ErrSocket;
    }
    return -1;
}

void Worker::closeSock(Sock &s)
{
    if (s.fd >= 0)
        ::close(s.fd);
    s.fd = -1;
    s.connecting = false;
    s.wantOut = false;
    s.in.clear();
    s.out.clear();
}

void Worker::kill(Client &c, int kind)
{
    if (c.state == State::Dead || c.state == State::Idle)
        return;
    if (kind >= 0)
        countError(kind);
    const bool soak = m_options.scenario == Scenario::Soak;
    closeSock(c.ws);
    closeSock(c.post);
    if (c.handshaking) {
        c.handshaking = false;
        --m_handshaking;
    }
    if (c.state == State::Ready && m_options.scenario != Scenario::Churn) {
        m_shared.ready.fetch_sub(1);
        countReady(c, -1);
    }
    if (c.unresolved) {
        c.unresolved = false;
        m_shared.unresolved.fetch_sub(1);
    }
    if (c.calls) {
        for (int i = 0; i < m_options.window; ++i) {
            Call &call = c.calls[size_t(i)];
            if (call.sentNs && soak)
                ++m_stats.soak[SoakUnacked];
            if (call.sentNs && inWindow(call.sentNs))
                --m_measuredOutstanding;
            call.sentNs = 0;
        }
    }
    c.outstanding = 0;
    if (m_options.cycling()) {
        if (m_options.scenario == Scenario::Churn && inWindow(c.since))
            --m_measuredOutstanding;
        if (soak) {
            ++m_stats.soak[SoakKilled];
            c.pollQueue.clear();
            c.getInFlight = c.postInFlight = false;
        }
        c.state = State::Idle;
        m_restart.push_back(c.local);
    } else {
        c.state = State::Dead;
    }
}

void Worker::tick(int64_t now)
{
    for (Client &c : m_clients) {
        if (handshakeState(c.state)) {
            if (now - c.since > m_timeoutNs)
                kill(c, ErrTimeout);
        } else if (c.state == State::Ready) {
            if (m_options.scenario == Scenario::Churn) {
                if (now - c.since > m_timeoutNs)
                    kill(c, ErrTimeout);
            } else if (c.outstanding > 0) {
                for (int i = 0; i < m_options.window; ++i) {
                    const int64_t sent = c.calls[size_t(i)].sentNs;
                    if (sent && now - sent > m_timeoutNs) {
                        kill(c, ErrTimeout);
                        break;
                    }
                }
            }
        }
    }
}

void Worker::onEvent(uint64_t key, uint32_t events)
{
    if (key == EventKey) {
        uint64_t value;
        while (::read(m_eventFd, &value, sizeof value) > 0) { }
        m_pumpWanted = true;
        return;
    }
    Client &c = m_clients[size_t(key >> 33)];
    Sock &s = ((key >> 32) & 1) ? c.post : c.ws;
    const uint32_t gen = uint32_t(key);
    if (s.fd < 0 || s.gen != gen)
        return;
    if (s.connecting) {
        int error = 0;
        socklen_t len = sizeof error;
        if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
            error = errno;
        if (error == 0 && !(events & EPOLLOUT))
            return;
        if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            kill(c, error == ECONNREFUSED ? ErrConnectRefused : ErrConnectFailed);
            return;
        }
        onConnected(c, s);
        return;
    }
    const int fd = s.fd;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        onReadable(c, s);
        if (!alive(c, s, fd, gen))
            return;
    }
    if ((events & EPOLLOUT) && s.fd >= 0)
        flush(s);
}

void Worker::setWantOut(Sock &s, bool want)
{
    if (s.wantOut == want || s.fd < 0)
        return;
    s.wantOut = want;
    epoll_event ev {};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = sockKey(s);
    epoll_ctl(m_epoll, EPOLL_CTL_MOD, s.fd, &ev);
}

void Worker::flush(Sock &s)
{
    if (s.fd < 0 || s.connecting)
        return;
    while (!s.out.empty()) {
        const ssize_t n = ::send(s.fd, s.out.head(), s.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            s.out.consume(size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            setWantOut(s, true);
            return;
        }
        // A broken connection: the read side sees the error too and accounts for it there.
        s.out.clear();
        break;
    }
    s.out.trim();
    setWantOut(s, false);
}

void Worker::onConnected(Client &c, Sock &s)
{
    s.connecting = false;
    setWantOut(s, false);
    if (s.isPost) {
        flushPoll(c);
        return;
    }
    if (c.state == State::TcpConnecting) {
        if (c.polling) {
            s.out.append(m_pollHandshake);
            c.state = State::PollHandshake;
        } else {
            s.out.append(m_upgradeRequest[c.side]);
            c.state = State::WsHandshake;
        }
    } else if (c.getInFlight) {
        s.out.append(c.getRequest);
    }
    flush(s);
}

void Worker::onReadable(Client &c, Sock &s)
{
    const int fd = s.fd;
    const uint32_t gen = s.gen;
    for (int round = 0; round < 4; ++round) {
        const bool scratch = s.in.empty();
        char *buf = scratch ? m_scratch : s.in.prepare(ScratchSize);
        const ssize_t r = ::recv(fd, buf, ScratchSize, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r <= 0) {
            if (c.state == State::Closing && c.polling) {
                // Leaving (soak): the server may end a keep-alive connection once the session
                // is closed; a POST still unanswered then is a lost request.
                const bool post = s.isPost;
                closeSock(s);
                if (post && c.postInFlight) {
                    kill(c, ErrUnexpectedClose);
                    return;
                }
                if (!post)
                    c.getInFlight = false;
                soakPollingClosed(c);
            } else if (c.state == State::Closing) {
                finishCycle(c, nowNs());
            } else if (c.polling && c.state != State::PollHandshake
                && !(s.isPost ? c.postInFlight : c.getInFlight)) {
                // The server ended an idle keep-alive connection: reopened when next needed.
                closeSock(s);
            } else {
                kill(c, ErrUnexpectedClose);
            }
            return;
        }
        char *data;
        size_t total;
        if (scratch) {
            data = m_scratch;
            total = size_t(r);
        } else {
            s.in.commit(size_t(r));
            data = s.in.head();
            total = s.in.size();
        }
        const size_t used
            = c.polling ? processHttp(c, s, data, total) : processWs(c, data, total);
        if (!alive(c, s, fd, gen))
            return;
        if (scratch) {
            if (used < total)
                s.in.append(data + used, total - used);
        } else {
            s.in.consume(used);
            s.in.trim();
        }
        if (size_t(r) < ScratchSize)
            break;
    }
    if (c.ws.fd >= 0 && !c.ws.out.empty())
        flush(c.ws);
    if (c.polling)
        flushPoll(c);
}

size_t Worker::processWs(Client &c, char *p, size_t n)
{
    size_t off = 0;
    const int fd = c.ws.fd;
    const uint32_t gen = c.ws.gen;
    if (c.state == State::WsHandshake) {
        const void *end = memmem(p, n, "\r\n\r\n", 4);
        if (!end) {
            if (n > 16384)
                kill(c, ErrHandshake);
            return 0;
        }
        if (!startsWith(p, n, "HTTP/1.1 101")) {
            kill(c, ErrHandshake);
            return 0;
        }
        off = size_t(static_cast<const char *>(end) - p) + 4;
        c.state = State::EioOpen;
    }
    while (n - off >= 2) {
        const auto b0 = uint8_t(p[off]);
        const auto b1 = uint8_t(p[off + 1]);
        uint64_t len = b1 & 0x7f;
        size_t header = 2;
        if (len == 126) {
            if (n - off < 4)
                break;
            len = (uint64_t(uint8_t(p[off + 2])) << 8) | uint8_t(p[off + 3]);
            header = 4;
        } else if (len == 127) {
            if (n - off < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = (len << 8) | uint8_t(p[off + 2 + size_t(i)]);
            header = 10;
        }
        const bool masked = b1 & 0x80;
        if (masked)
            header += 4;
        if (len > (uint64_t(1) << 31)) {
            kill(c, ErrProtocol);
            return off;
        }
        if (n - off < header + len)
            break;
        char *payload = p + off + header;
        if (masked) {
            const char *key = payload - 4;
            for (size_t i = 0; i < len; ++i)
                payload[i] = char(payload[i] ^ key[i & 3]);
        }
        off += header + size_t(len);
        onFrame(c, b0 & 0x80, b0 & 0x0f, payload, size_t(len));
        if (!alive(c, c.ws, fd, gen))
            return off;
    }
    return off;
}

void Worker::onFrame(Client &c, bool fin, int opcode, char *p, size_t n)
{
    switch (opcode) {
    case 0x8:
        if (c.state == State::Closing)
            finishCycle(c, nowNs());
        else
            kill(c, ErrUnexpectedClose);
        return;
    case 0x9:
        sendWsFrame(c.ws, 0xA, {std::string_view(p, n)});
        return;
    case 0xA:
        return;
    case 0x0:
        if (c.fragOpcode == 0) {
            kill(c, ErrProtocol);
            return;
        }
        c.frag.append(p, n);
        if (fin) {
            const bool binary = c.fragOpcode == 0x2;
            c.fragOpcode = 0;
            onEngine(c, binary, c.frag.head(), c.frag.size());
            c.frag.clear();
            c.frag.trim();
        }
        return;
    case 0x1:
    case 0x2:
        if (!fin) {
            c.frag.clear();
            c.frag.append(p, n);
            c.fragOpcode = uint8_t(opcode);
            return;
        }
        onEngine(c, opcode == 0x2, p, n);
        return;
    default:
        kill(c, ErrProtocol);
    }
}

void Worker::onEngine(Client &c, bool binary, const char *p, size_t n)
{
    if (binary) {
        if (c.attachmentsPending <= 0) {
            countError(ErrProtocol);
            return;
        }
        c.attachmentBytes = n;
        if (--c.attachmentsPending == 0 && c.attachmentsForAck)
            onAck(c, c.attachmentAckId, nullptr, n, true);
        return;
    }
    if (n == 0) {
        countError(ErrProtocol);
        return;
    }
    switch (p[0]) {
    case '4':
        onSocketIo(c, p + 1, n - 1);
        return;
    case '2':
        send(c, {"3"});
        return;
    case '0':
        if (c.state == State::EioOpen) {
            send(c, {"40"});
            c.state = State::SioConnecting;
        } else {
            countError(ErrProtocol);
        }
        return;
    case '1':
        if (c.state == State::Closing)
            c.sawClose = true; // the answer to our own close (soak, polling)
        else
            kill(c, ErrUnexpectedClose);
        return;
    case '3':
    case '6':
        return;
    default:
        countError(ErrProtocol);
    }
}

void Worker::onSocketIo(Client &c, const char *p, size_t n)
{
    if (n == 0) {
        countError(ErrProtocol);
        return;
    }
    const char *end = p + n;
    uint64_t count = 0;
    uint64_t id = 0;
    switch (p[0]) {
    case '0':
        if (c.state != State::SioConnecting)
            return;
        if (m_options.scenario == Scenario::Soak) {
            ++m_stats.soak[SoakConnected];
            const int64_t now = nowNs();
            if (!issuing(now))
                return; // past the window: no new call, so that the drain has nothing new
            c.state = State::Joining;
            soakCall(c, CallJoin, now);
        } else if (m_options.scenario == Scenario::Rooms) {
            c.state = State::Joining;
            const Digits room {uint64_t(c.room)};
            send(c, {"420[\"join\",\"room-", room.view(), "\"]"});
            c.nextId = 1;
        } else {
            becomeReady(c);
        }
        return;
    case '4':
        kill(c, ErrConnectError);
        return;
    case '1':
        kill(c, ErrUnexpectedClose);
        return;
    case '2':
        if (m_options.broadcasting())
            onBcast(c, p + 1, n - 1);
        else if (m_options.scenario == Scenario::Soak)
            soakBcast(c, p + 1, n - 1);
        return;
    case '3': {
        const char *q = parseNumber(p + 1, end, id);
        if (!q || *q != '[') {
            countError(ErrProtocol);
            return;
        }
        onAck(c, id, q, size_t(end - q), false);
        return;
    }
    case '5':
    case '6': {
        const char *q = parseNumber(p + 1, end, count);
        if (!q || *q != '-' || count > 16) {
            kill(c, ErrProtocol);
            return;
        }
        c.attachmentsPending = int(count);
        c.attachmentsForAck = p[0] == '6';
        if (c.attachmentsForAck) {
            q = parseNumber(q + 1, end, id);
            if (!q) {
                kill(c, ErrProtocol);
                return;
            }
            c.attachmentAckId = id;
            if (count == 0)
                onAck(c, id, q, size_t(end - q), false);
        }
        return;
    }
    default:
        return;
    }
}

void Worker::becomeReady(Client &c)
{
    c.state = State::Ready;
    if (c.handshaking) {
        c.handshaking = false;
        --m_handshaking;
    }
    if (m_options.scenario == Scenario::Churn) {
        send(c, {"420[\"echo\",", m_payloadJson, "]"});
        return;
    }
    const int ready = m_shared.ready.fetch_add(1) + 1;
    if (m_options.scenario == Scenario::Soak) {
        int peak = m_shared.peakReady.load(std::memory_order_relaxed);
        while (ready > peak && !m_shared.peakReady.compare_exchange_weak(peak, ready)) { }
        const int64_t now = nowNs();
        const double lifetime = m_options.lifetimeMin
            + random01() * (m_options.lifetimeMax - m_options.lifetimeMin);
        c.leaveAt = now + int64_t(lifetime * 1e9);
        // The first emit comes after a random part of one interval, so that clients connected
        // together do not emit together.
        soakSchedule(c,
            std::min(c.leaveAt, now + int64_t(random01() * m_options.interval * 1e9)));
        return;
    }
    countReady(c, 1);
    if (c.unresolved) {
        c.unresolved = false;
        m_shared.unresolved.fetch_sub(1);
    }
    issueCalls(c, nowNs());
}

// The broadcast scenarios' counts of connected clients, per room and per side.
void Worker::countReady(const Client &c, int delta)
{
    if (!m_options.broadcasting())
        return;
    const size_t rooms = size_t(std::max(m_options.rooms, 1));
    if (m_options.scenario == Scenario::Rooms) {
        m_shared.roomReady[size_t(c.room)].fetch_add(delta);
        m_shared.sideRoomReady[size_t(c.side) * rooms + size_t(c.room)].fetch_add(delta);
    }
    m_shared.sideReady[c.side].fetch_add(delta);
}

void Worker::onAck(Client &c, uint64_t id, const char *body, size_t n, bool binary)
{
    switch (m_options.scenario) {
    case Scenario::Echo:
    case Scenario::Polling:
        (void)body;
        completeCall(c, id, !binary && n == m_payloadJson.size() + 2);
        return;
    case Scenario::Binary:
        completeCall(c, id, binary && n == m_options.payload);
        return;
    case Scenario::Broadcast:
    case Scenario::Rooms:
        if (c.state == State::Joining && id == 0) {
            becomeReady(c);
        } else if (&c == m_sender && id >= 1) {
            const int64_t seq = int64_t(id - 1);
            if (seq >= m_oldestSeq && seq < m_nextSeq)
                m_slotAcked[size_t(seq % Shared::SlotCount)] = true;
            m_pumpWanted = true;
        }
        return;
    case Scenario::Churn:
        if (c.state == State::Ready && id == 0) {
            if (n != m_payloadJson.size() + 2)
                countError(ErrProtocol);
            send(c, {"41"});
            sendWsFrame(c.ws, 0x8, {std::string_view("\x03\xe8", 2)});
            c.state = State::Closing;
        }
        return;
    case Scenario::Soak:
        soakAck(c, id, body, n, binary);
        return;
    case Scenario::Idle:
        return;
    }
}

void Worker::issueCalls(Client &c, int64_t now)
{
    if (!c.calls)
        return;
    const int window = m_options.window;
    const bool binary = m_options.scenario == Scenario::Binary;
    while (c.state == State::Ready && c.outstanding < window && issuing(now)) {
        const uint64_t id = c.nextId;
        Call &call = c.calls[size_t(id % uint64_t(window))];
        if (call.sentNs)
            break;
        ++c.nextId;
        const Digits digits(id);
        if (binary) {
            send(c, {"451-", digits.view(), "[\"echo\",{\"_placeholder\":true,\"num\":0}]"});
            send(c, {m_payloadBinary}, true);
        } else {
            send(c, {"42", digits.view(), "[\"echo\",", m_payloadJson, "]"});
        }
        call.id = id;
        call.sentNs = now;
        ++c.outstanding;
        if (inWindow(now))
            ++m_measuredOutstanding;
    }
}

void Worker::completeCall(Client &c, uint64_t id, bool valid)
{
    if (!c.calls) {
        countError(ErrProtocol);
        return;
    }
    Call &call = c.calls[size_t(id % uint64_t(m_options.window))];
    if (call.sentNs == 0 || call.id != id) {
        countError(ErrProtocol);
        return;
    }
    const int64_t now = nowNs();
    const int64_t sent = call.sentNs;
    call.sentNs = 0;
    --c.outstanding;
    if (!valid)
        countError(ErrProtocol);
    if (inWindow(sent)) {
        --m_measuredOutstanding;
        if (valid) {
            ++m_stats.ops;
            m_stats.latency.record(now - sent);
        }
    }
    issueCalls(c, now);
}

void Worker::onBcast(Client &c, const char *p, size_t n)
{
    static constexpr std::string_view prefix = "[\"bcast\",{\"seq\":";
    const char *end = p + n;
    const char *q;
    if (startsWith(p, n, prefix)) {
        q = p + prefix.size();
    } else {
        if (!startsWith(p, n, "[\"bcast\""))
            return;
        q = static_cast<const char *>(memmem(p, n, "\"seq\":", 6));
        if (!q) {
            countError(ErrProtocol);
            return;
        }
        q += 6;
    }
    uint64_t seq = 0;
    if (!parseNumber(q, end, seq)) {
        countError(ErrProtocol);
        return;
    }
    BroadcastSlot &slot = m_shared.slots[size_t(seq % Shared::SlotCount)];
    if (slot.seq.load(std::memory_order_acquire) != int64_t(seq))
        return;
    const int64_t now = nowNs();
    const bool measured = slot.measured.load(std::memory_order_relaxed);
    if (measured) {
        ++m_stats.deliveries;
        ++m_stats.sideDeliveries[c.side];
        m_stats.delivery.record(now - slot.sendNs.load(std::memory_order_relaxed));
    }
    if (slot.sideRemaining[c.side].fetch_sub(1, std::memory_order_acq_rel) == 1 && measured)
        m_stats.sideLatency[c.side].record(now - slot.sendNs.load(std::memory_order_relaxed));
    if (slot.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        slot.doneNs.store(now, std::memory_order_release);
        const int fd = m_shared.senderEventFd.load(std::memory_order_relaxed);
        if (fd == m_eventFd) {
            m_pumpWanted = true;
        } else if (fd >= 0) {
            const uint64_t one = 1;
            if (::write(fd, &one, sizeof one) < 0) {
                // Only EAGAIN is possible, on a counter already far from zero: it is awake.
            }
        }
    }
}

void Worker::pumpSender(int64_t now)
{
    m_pumpWanted = false;
    for (int64_t seq = m_oldestSeq; seq < m_nextSeq; ++seq) {
        const size_t i = size_t(seq % Shared::SlotCount);
        if (!m_slotActive[i])
            continue;
        BroadcastSlot &slot = m_shared.slots[i];
        const int remaining = slot.remaining.load(std::memory_order_acquire);
        const int64_t sent = slot.sendNs.load(std::memory_order_relaxed);
        const bool measured = slot.measured.load(std::memory_order_relaxed);
        const int64_t done = slot.doneNs.load(std::memory_order_acquire);
        bool retire = false;
        if (m_slotAcked[i] && remaining <= 0 && (done != 0 || remaining < 0)) {
            if (measured) {
                ++m_stats.ops;
                m_stats.latency.record((done ? done : now) - sent);
            }
            retire = true;
        } else if (now - sent > m_timeoutNs) {
            if (measured) {
                m_stats.missing += uint64_t(std::max(0, remaining));
                if (!m_slotAcked[i])
                    countError(ErrTimeout);
            }
            retire = true;
        }
        if (retire) {
            if (measured)
                --m_measuredOutstanding;
            slot.seq.store(-1, std::memory_order_release);
            m_slotActive[i] = false;
            m_slotAcked[i] = false;
        }
    }
    while (m_oldestSeq < m_nextSeq && !m_slotActive[size_t(m_oldestSeq % Shared::SlotCount)])
        ++m_oldestSeq;
    Client &c = *m_sender;
    if (c.state != State::Ready)
        return;
    const bool rooms = m_options.scenario == Scenario::Rooms;
    const size_t roomCount = size_t(std::max(m_options.rooms, 1));
    const double rate = m_options.rate;
    const int64_t period = rate > 0 ? int64_t(1e9 / rate) : 0;
    if (rate > 0 && m_nextIssueNs > 0 && now - m_nextIssueNs > 10'000'000) {
        // More than 10 ms behind (the window was full, or this thread was late): the missed
        // broadcasts are not made up for in a burst. ops_per_second shows the rate achieved.
        m_nextIssueNs = now;
    }
    bool sent = false;
    while (issuing(now) && m_nextSeq - m_oldestSeq < m_options.window
        && (rate <= 0 || m_nextIssueNs <= now)) {
        if (rate > 0)
            m_nextIssueNs = (m_nextIssueNs > 0 ? m_nextIssueNs : now) + period;
        const int64_t seq = m_nextSeq++;
        const size_t i = size_t(seq % Shared::SlotCount);
        BroadcastSlot &slot = m_shared.slots[i];
        const int room = rooms ? int(seq % m_options.rooms) : 0;
        const int expected
            = rooms ? m_shared.roomReady[size_t(room)].load() : m_shared.ready.load();
        int sideExpected[2];
        for (int side = 0; side < 2; ++side) {
            sideExpected[side] = rooms
                ? m_shared.sideRoomReady[size_t(side) * roomCount + size_t(room)].load()
                : m_shared.sideReady[side].load();
        }
        const bool measured = inWindow(now);
        slot.sendNs.store(now, std::memory_order_relaxed);
        slot.measured.store(measured, std::memory_order_relaxed);
        slot.doneNs.store(0, std::memory_order_relaxed);
        slot.remaining.store(expected, std::memory_order_relaxed);
        for (int side = 0; side < 2; ++side)
            slot.sideRemaining[side].store(sideExpected[side], std::memory_order_relaxed);
        slot.seq.store(seq, std::memory_order_release);
        m_slotActive[i] = true;
        m_slotAcked[i] = false;
        if (measured) {
            m_stats.expectedDeliveries += uint64_t(expected);
            for (int side = 0; side < 2; ++side)
                m_stats.sideExpected[side] += uint64_t(sideExpected[side]);
            ++m_stats.broadcastsIssued;
            ++m_measuredOutstanding;
        }
        const Digits id(uint64_t(seq) + 1);
        const Digits seqText {uint64_t(seq)};
        const Digits micros {uint64_t(now / 1000)};
        if (rooms) {
            const Digits roomText {uint64_t(room)};
            send(c,
                {"42", id.view(), "[\"room-broadcast\",\"room-", roomText.view(), "\",{\"seq\":",
                    seqText.view(), ",\"t\":", micros.view(), ",\"x\":\"", m_pad, "\"}]"});
        } else {
            send(c,
                {"42", id.view(), "[\"broadcast\",{\"seq\":", seqText.view(),
                    ",\"t\":", micros.view(), ",\"x\":\"", m_pad, "\"}]"});
        }
        sent = true;
    }
    if (sent)
        flush(c.ws);
}

void Worker::finishCycle(Client &c, int64_t now)
{
    closeSock(c.ws);
    if (m_options.scenario == Scenario::Soak) {
        closeSock(c.post);
        c.pollQueue.clear();
        c.getInFlight = c.postInFlight = false;
        ++m_stats.soak[SoakDisconnects];
        m_shared.liveCycles.fetch_add(1, std::memory_order_relaxed);
    } else if (inWindow(c.since)) {
        --m_measuredOutstanding;
        ++m_stats.ops;
        m_stats.latency.record(now - c.since);
    }
    c.state = State::Idle;
    m_restart.push_back(c.local);
}

void Worker::send(Client &c, std::initializer_list<std::string_view> parts, bool binary)
{
    if (c.polling) {
        if (!c.pollQueue.empty())
            c.pollQueue.append("\x1e", 1);
        for (std::string_view part : parts)
            c.pollQueue.append(part);
        return;
    }
    sendWsFrame(c.ws, binary ? 0x2 : 0x1, parts);
}

void Worker::sendWsFrame(Sock &s, uint8_t opcode, std::initializer_list<std::string_view> parts)
{
    size_t len = 0;
    for (std::string_view part : parts)
        len += part.size();
    char *p = s.out.prepare(len + 14);
    size_t h = 0;
    p[h++] = char(0x80 | opcode);
    if (len < 126) {
        p[h++] = char(0x80 | len);
    } else if (len < 65536) {
        p[h++] = char(0x80 | 126);
        p[h++] = char(len >> 8);
        p[h++] = char(len);
    } else {
        p[h++] = char(0x80 | 127);
        for (int i = 7; i >= 0; --i)
            p[h++] = char(uint64_t(len) >> (8 * i));
    }
    // An all-zero masking key: a valid frame whose payload needs no XOR pass.
    std::memset(p + h, 0, 4);
    h += 4;
    for (std::string_view part : parts) {
        std::memcpy(p + h, part.data(), part.size());
        h += part.size();
    }
    s.out.commit(h);
}

void Worker::flushPoll(Client &c)
{
    if (c.postInFlight || c.pollQueue.empty() || c.postHead.empty())
        return;
    Sock &s = c.post;
    if (s.fd < 0) {
        const int error = openSock(c, s);
        if (error >= 0)
            kill(c, error);
        return;
    }
    if (s.connecting)
        return;
    const Digits length(c.pollQueue.size());
    s.out.append(c.postHead);
    s.out.append(length.view());
    s.out.append("\r\n\r\n", 4);
    s.out.append(c.pollQueue.head(), c.pollQueue.size());
    c.pollQueue.clear();
    c.postInFlight = true;
    flush(s);
}

void Worker::issueGet(Client &c)
{
    c.getInFlight = true;
    Sock &s = c.ws;
    if (s.fd < 0) {
        const int error = openSock(c, s);
        if (error >= 0)
            kill(c, error);
        return;
    }
    if (s.connecting)
        return;
    s.out.append(c.getRequest);
    flush(s);
}

size_t Worker::processHttp(Client &c, Sock &s, char *p, size_t n)
{
    size_t off = 0;
    const int fd = s.fd;
    const uint32_t gen = s.gen;
    while (off < n) {
        char *h = p + off;
        const size_t avail = n - off;
        const char *headEnd = static_cast<const char *>(memmem(h, avail, "\r\n\r\n", 4));
        if (!headEnd) {
            if (avail > 65536)
                kill(c, ErrHttp);
            break;
        }
        const size_t headLen = size_t(headEnd - h) + 4;
        uint64_t status = 0;
        if (!startsWith(h, avail, "HTTP/1.") || avail < 12 || !parseNumber(h + 9, h + 12, status)) {
            kill(c, ErrHttp);
            return off;
        }
        uint64_t contentLength = 0;
        bool chunked = false;
        bool closeAfter = false;
        const char *line = static_cast<const char *>(memchr(h, '\n', headLen)) + 1;
        while (line < headEnd) {
            const char *eol
                = static_cast<const char *>(memchr(line, '\r', size_t(headEnd + 2 - line)));
            const char *colon = static_cast<const char *>(memchr(line, ':', size_t(eol - line)));
            if (colon) {
                const char *value = colon + 1;
                while (value < eol && *value == ' ')
                    ++value;
                const size_t nameLen = size_t(colon - line);
                const size_t valueLen = size_t(eol - value);
                if (sameIgnoringCase(line, nameLen, "content-length"))
                    parseNumber(value, eol, contentLength);
                else if (sameIgnoringCase(line, nameLen, "transfer-encoding"))
                    chunked = memmem(value, valueLen, "chunked", 7) != nullptr;
                else if (sameIgnoringCase(line, nameLen, "connection"))
                    closeAfter = sameIgnoringCase(value, valueLen, "close");
            }
            line = eol + 2;
        }
        char *body = h + headLen;
        size_t bodyLen = 0;
        size_t total = 0;
        if (chunked) {
            c.frag.clear();
            size_t q = headLen;
            bool complete = false;
            for (;;) {
                const char *eol = static_cast<const char *>(memmem(h + q, avail - q, "\r\n", 2));
                if (!eol)
                    break;
                uint64_t size = 0;
                const auto [after, ec] = std::from_chars(h + q, eol, size, 16);
                if (ec != std::errc()) {
                    kill(c, ErrHttp);
                    return off;
                }
                (void)after;
                const size_t dataStart = size_t(eol - h) + 2;
                if (avail - dataStart < size + 2)
                    break;
                if (size == 0) {
                    q = dataStart + 2;
                    complete = true;
                    break;
                }
                c.frag.append(h + dataStart, size);
                q = dataStart + size + 2;
            }
            if (!complete)
                break;
            body = c.frag.head();
            bodyLen = c.frag.size();
            total = q;
        } else {
            if (avail - headLen < contentLength)
                break;
            bodyLen = size_t(contentLength);
            total = headLen + bodyLen;
        }
        off += total;
        if (closeAfter) {
            closeSock(s);
            onHttpResponse(c, s, int(status), body, bodyLen);
            return off;
        }
        onHttpResponse(c, s, int(status), body, bodyLen);
        if (!alive(c, s, fd, gen))
            return off;
    }
    return off;
}

void Worker::onHttpResponse(Client &c, Sock &s, int status, char *body, size_t n)
{
    if (s.isPost) {
        if (status != 200) {
            kill(c, ErrHttp);
            return;
        }
        c.postInFlight = false;
        flushPoll(c);
        if (c.state == State::Closing)
            soakPollingClosed(c);
        return;
    }
    c.getInFlight = false;
    if (c.state == State::Closing && status != 200) {
        // Leaving: a poll that reaches the server after our close finds no session (400).
        if (status != 400) {
            kill(c, ErrHttp);
            return;
        }
        c.sawClose = true;
        soakPollingClosed(c);
        return;
    }
    if (c.state == State::PollHandshake) {
        static constexpr std::string_view sidKey = "\"sid\":\"";
        const char *sid = static_cast<const char *>(memmem(body, n, sidKey.data(), sidKey.size()));
        const char *sidEnd = sid ? static_cast<const char *>(memchr(
                                 sid + sidKey.size(), '"', size_t(body + n - sid - sidKey.size())))
                                 : nullptr;
        if (status != 200 || n == 0 || body[0] != '0' || !sidEnd) {
            kill(c, ErrHandshake);
            return;
        }
        const std::string query = m_options.path
            + "?EIO=4&transport=polling&sid=" + std::string(sid + sidKey.size(), sidEnd)
            + " HTTP/1.1\r\nHost: " + m_options.hostHeader + "\r\n";
        c.getRequest = "GET " + query + "\r\n";
        c.postHead = "POST " + query + "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ";
        c.state = State::EioOpen;
    } else if (status != 200) {
        kill(c, ErrHttp);
        return;
    }
    const char *p = body;
    const char *end = body + n;
    while (p < end) {
        const char *sep = static_cast<const char *>(memchr(p, '\x1e', size_t(end - p)));
        const char *packetEnd = sep ? sep : end;
        if (packetEnd > p) {
            if (*p == 'b')
                countError(ErrProtocol);
            else
                onEngine(c, false, p, size_t(packetEnd - p));
            if (c.state == State::Dead || c.state == State::Idle)
                return;
        }
        p = packetEnd + 1;
    }
    if (c.state == State::Closing) {
        // Polls again only while our close is not through: that poll gets the server's close.
        if (!c.sawClose && (c.postInFlight || !c.pollQueue.empty()))
            issueGet(c);
        else
            soakPollingClosed(c);
        return;
    }
    issueGet(c);
    if (c.state != State::Dead)
        flushPoll(c);
}

void Worker::countError(int kind)
{
    ++m_stats.errors[kind];
    m_shared.liveErrors.fetch_add(1, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------------
// Soak: each client loops connect (WebSocket, or polling for --polling-share of the
// connections) -> join a random room -> emits (echo, now and then a room-broadcast) for a random
// lifetime -> disconnect once its acks are in -> connect again. Every ack is checked.

double Worker::random01()
{
    // splitmix64
    uint64_t z = (m_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 11) * (1.0 / 9007199254740992.0);
}

void Worker::soakSchedule(Client &c, int64_t at)
{
    c.timerAt = at;
    m_timers.push_back({at, c.local, c.cycle});
    std::push_heap(m_timers.begin(), m_timers.end(), std::greater<>());
}

void Worker::flushClient(Client &c)
{
    if (c.polling)
        flushPoll(c);
    else if (c.ws.fd >= 0 && !c.ws.out.empty())
        flush(c.ws);
}

void Worker::soakTimers(int64_t now)
{
    while (!m_timers.empty() && m_timers.front().at <= now) {
        std::pop_heap(m_timers.begin(), m_timers.end(), std::greater<>());
        const Timer t = m_timers.back();
        m_timers.pop_back();
        Client &c = m_clients[size_t(t.local)];
        if (c.cycle != t.cycle || c.timerAt != t.at || c.state != State::Ready)
            continue; // stale: the connection ended or was rescheduled
        c.timerAt = 0;
        if (!issuing(now))
            continue; // past the window: the connection is held until the end
        if (now >= c.leaveAt) {
            if (c.outstanding == 0)
                soakLeave(c, now);
            else
                c.leaving = true; // soakAck() lets it go with the last ack
            continue;
        }
        const bool broadcast = random01() < m_options.broadcastShare;
        if (c.outstanding >= m_options.window
            || !soakCall(c, broadcast ? CallRoomBroadcast : CallEcho, now))
            ++m_stats.soak[SoakEmitsDeferred];
        if (c.state != State::Ready)
            continue;
        flushClient(c);
        const int64_t next = now + int64_t((0.5 + random01()) * m_options.interval * 1e9);
        soakSchedule(c, std::min(next, c.leaveAt));
    }
}

bool Worker::soakCall(Client &c, CallKind kind, int64_t now)
{
    const uint64_t id = c.nextId;
    Call &call = c.calls[size_t(id % uint64_t(m_options.window))];
    if (call.sentNs)
        return false;
    ++c.nextId;
    const Digits digits(id);
    const Digits room {uint64_t(c.room)};
    const std::string_view prefix = c.polling ? "proom-" : "room-";
    switch (kind) {
    case CallJoin:
        send(c, {"42", digits.view(), "[\"join\",\"", prefix, room.view(), "\"]"});
        break;
    case CallEcho:
        send(c, {"42", digits.view(), "[\"echo\",", m_payloadJson, "]"});
        break;
    case CallRoomBroadcast:
        // The data names the room and the transport, so a recipient can tell a misdirected one.
        send(c,
            {"42", digits.view(), "[\"room-broadcast\",\"", prefix, room.view(), "\",{\"r\":",
                room.view(), ",\"p\":", c.polling ? "1" : "0", ",\"x\":\"", m_pad, "\"}]"});
        break;
    }
    call.id = id;
    call.sentNs = now;
    call.kind = kind;
    ++c.outstanding;
    if (inWindow(now))
        ++m_measuredOutstanding;
    return true;
}

void Worker::soakAck(Client &c, uint64_t id, const char *body, size_t n, bool binary)
{
    Call &call = c.calls[size_t(id % uint64_t(m_options.window))];
    if (call.sentNs == 0 || call.id != id) {
        countError(ErrProtocol); // an ack for nothing we asked
        return;
    }
    const int64_t now = nowNs();
    const int64_t sent = call.sentNs;
    const CallKind kind = CallKind(call.kind);
    call.sentNs = 0;
    --c.outstanding;
    bool valid = !binary && body;
    uint64_t count = 0;
    if (valid) {
        switch (kind) {
        case CallJoin:
            valid = n == 6 && std::memcmp(body, "[true]", 6) == 0;
            break;
        case CallEcho:
            valid = n == m_echoAck.size() && std::memcmp(body, m_echoAck.data(), n) == 0;
            break;
        case CallRoomBroadcast: {
            // [N]: the room's size, at least the sender itself.
            const char *q = n >= 3 && body[0] == '[' ? parseNumber(body + 1, body + n, count)
                                                    : nullptr;
            valid = q && q == body + n - 1 && *q == ']' && count >= 1;
            break;
        }
        }
    }
    if (inWindow(sent)) {
        --m_measuredOutstanding;
        if (valid) {
            ++m_stats.ops;
            m_stats.latency.record(now - sent);
        }
    }
    if (!valid) {
        if (kind == CallJoin)
            kill(c, ErrProtocol);
        else
            countError(ErrProtocol);
        return;
    }
    m_shared.liveAcks.fetch_add(1, std::memory_order_relaxed);
    switch (kind) {
    case CallJoin:
        ++m_stats.soak[SoakJoins];
        becomeReady(c);
        return;
    case CallEcho:
        ++m_stats.soak[SoakEchoes];
        break;
    case CallRoomBroadcast:
        ++m_stats.soak[SoakRoomBroadcasts];
        m_stats.soak[c.polling ? SoakExpectedPolling : SoakExpectedWs] += count;
        break;
    }
    if (c.state == State::Ready && c.leaving && c.outstanding == 0)
        soakLeave(c, now);
}

void Worker::soakBcast(Client &c, const char *p, size_t n)
{
    // ["bcast",{"p":P,"r":R,"x":"..."}]: the server may order the keys as it likes.
    const char *end = p + n;
    if (!startsWith(p, n, "[\"bcast\",")) {
        ++m_stats.soak[SoakOtherEvents];
        return;
    }
    const char *r = startsWith(p, n, "[\"bcast\",{")
        ? static_cast<const char *>(memmem(p, n, "\"r\":", 4))
        : nullptr;
    const char *t = r ? static_cast<const char *>(memmem(p, n, "\"p\":", 4)) : nullptr;
    uint64_t room = 0;
    uint64_t pollingFlag = 0;
    if (!t || !parseNumber(r + 4, end, room) || !parseNumber(t + 4, end, pollingFlag)) {
        countError(ErrProtocol); // a bcast without the data we sent
        return;
    }
    const bool polling = pollingFlag == 1;
    // A room-broadcast may overtake the join's ack, never the join itself.
    const bool joined
        = c.state == State::Joining || c.state == State::Ready || c.state == State::Closing;
    if (!joined || room != uint64_t(c.room) || polling != c.polling) {
        countError(ErrDelivery);
        return;
    }
    ++m_stats.soak[c.polling ? SoakDeliveredPolling : SoakDeliveredWs];
}

void Worker::soakLeave(Client &c, int64_t now)
{
    m_shared.ready.fetch_sub(1);
    c.state = State::Closing;
    c.since = now;
    send(c, {"41"});
    if (c.polling) {
        // The Engine.IO close in the same POST: the server answers the held poll with "1".
        send(c, {"1"});
        c.sawClose = false;
        flushPoll(c);
    } else {
        sendWsFrame(c.ws, 0x8, {std::string_view("\x03\xe8", 2)});
        flush(c.ws);
    }
}

// A leaving polling client is done once its close went out in an answered POST and no poll is
// outstanding.
void Worker::soakPollingClosed(Client &c)
{
    if (c.state == State::Closing && c.polling && !c.getInFlight && !c.postInFlight
        && c.pollQueue.empty())
        finishCycle(c, nowNs());
}

} // namespace loadgen
