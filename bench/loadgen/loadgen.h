// Shared declarations of qsio-loadgen: options, statistics and the state its worker threads
// share with the main thread. Everything else lives in the workers' own memory.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loadgen {

enum class Scenario { Idle, Echo, Binary, Broadcast, Rooms, Churn, Polling, Soak };

struct Options
{
    std::string url;
    std::string path = "/socket.io/";
    std::string hostHeader;
    sockaddr_in server {};
    Scenario scenario = Scenario::Echo;
    std::string scenarioName = "echo";
    int clients = 100;
    int threads = 2;
    int window = 1;
    int rooms = 10;
    int maxHandshakes = 256;
    double duration = 10;
    double warmup = 1;
    double timeout = 30;
    double connectRate = 2000;
    size_t payload = 32;
    std::vector<in_addr> sourceAddresses;
    // Broadcast, rooms: with a receivers URL the sender (client 0) and the `localReceivers`
    // clients after it connect to `url`, every other client to this second server (another
    // server of the same cluster), so that the broadcasts cross between servers.
    std::string receiversUrl;
    sockaddr_in receiversServer {};
    std::string receiversHostHeader;
    int localReceivers = 0;
    // Broadcast, rooms: broadcasts issued per second, at most `window` outstanding (0: the
    // next one as soon as the window has room).
    double rate = 0;
    bool holdUntilStdinCloses = false;
    bool json = false;
    // Soak: each client's connection lives a random time in [lifetimeMin, lifetimeMax] s and
    // emits every `interval` s on average (uniform in [0.5, 1.5] x interval); that share of the
    // emits are room-broadcasts, that share of the connections use HTTP long-polling.
    double lifetimeMin = 2;
    double lifetimeMax = 10;
    double interval = 0.5;
    double broadcastShare = 0.05;
    double pollingShare = 0;
    double progress = 10; // soak: seconds between progress lines on stderr (0: none)
    uint64_t seed = 1;

    // Every client uses polling (the polling scenario); soak mixes per connection.
    bool polling() const { return scenario == Scenario::Polling; }
    // Clients loop connect -> ... -> disconnect -> connect instead of holding one connection.
    bool cycling() const { return scenario == Scenario::Churn || scenario == Scenario::Soak; }
    bool broadcasting() const
    {
        return scenario == Scenario::Broadcast || scenario == Scenario::Rooms;
    }
    bool split() const { return !receiversUrl.empty(); }
    // Which server client `index` talks to: 0 the --url one, 1 the --receivers-url one.
    int sideOf(int index) const { return split() && index > localReceivers ? 1 : 0; }
};

enum ErrorKind : int {
    ErrSocket,
    ErrConnectRefused,
    ErrConnectFailed,
    ErrHandshake,
    ErrConnectError,
    ErrUnexpectedClose,
    ErrTimeout,
    ErrProtocol,
    ErrHttp,
    ErrDelivery,
    ErrorKindCount
};
extern const char *const errorKindNames[ErrorKindCount];

// Log-linear buckets over nanoseconds: exact below 128 ns, then 64 buckets per power of two,
// so any recorded value is off by at most 1/128 of itself once read back as a bucket middle.
class Histogram
{
public:
    static constexpr int SubBits = 6;
    static constexpr int Buckets = (48 - SubBits) * (1 << SubBits) + (1 << SubBits);

    void record(int64_t ns)
    {
        const uint64_t v = ns < 0 ? 0 : uint64_t(ns);
        ++m_counts[index(v)];
        ++m_count;
        m_sum += v;
        if (v > m_max)
            m_max = v;
        if (v < m_min)
            m_min = v;
    }
    void merge(const Histogram &other);
    uint64_t count() const { return m_count; }
    // Nanoseconds at quantile q (0..1).
    double quantile(double q) const;
    double mean() const { return m_count ? double(m_sum) / double(m_count) : 0; }
    uint64_t max() const { return m_max; }
    uint64_t min() const { return m_count ? m_min : 0; }

private:
    static int index(uint64_t v)
    {
        constexpr uint64_t limit = uint64_t(1) << 47;
        if (v >= limit)
            v = limit - 1;
        if (v < (uint64_t(2) << SubBits))
            return int(v);
        const int msb = 63 - __builtin_clzll(v);
        const int e = msb - SubBits;
        return (e << SubBits) + int(v >> e);
    }
    static double middle(int idx);

    std::vector<uint64_t> m_counts = std::vector<uint64_t>(Buckets);
    uint64_t m_count = 0;
    uint64_t m_sum = 0;
    uint64_t m_max = 0;
    uint64_t m_min = UINT64_MAX;
};

// Soak counters, reported as the "soak" object of the JSON output (names in stats.cpp).
enum SoakCounter : int {
    SoakConnects, // connections started (TCP connect issued)
    SoakConnectsPolling, // of which over HTTP long-polling
    SoakConnected, // reached the Socket.IO CONNECT reply
    SoakJoins, // join acks received (valid)
    SoakEchoes, // echo acks received (valid)
    SoakRoomBroadcasts, // room-broadcast acks received (valid)
    SoakEmitsDeferred, // emits due while the client already had --window calls outstanding
    SoakUnacked, // calls whose ack never came: outstanding when the client was killed or at the end
    SoakDisconnects, // cycles ended by our own disconnect, the server's close seen
    SoakKilled, // cycles ended by an error (counted in errors by kind)
    SoakExpectedWs, // sum of the room-broadcast acks' counts, WebSocket rooms
    SoakDeliveredWs, // bcast events received by WebSocket clients
    SoakExpectedPolling, // the same for the polling clients' rooms
    SoakDeliveredPolling,
    SoakOtherEvents, // events other than bcast (the full interop_server emits "auth" on connect)
    SoakCounterCount
};
extern const char *const soakCounterNames[SoakCounterCount];

struct Stats
{
    uint64_t errors[ErrorKindCount] = {};
    uint64_t soak[SoakCounterCount] = {};
    uint64_t ops = 0;
    uint64_t deliveries = 0;
    uint64_t expectedDeliveries = 0;
    uint64_t missing = 0;
    uint64_t broadcastsIssued = 0;
    Histogram latency;
    Histogram delivery;
    // Per side (the --url server's clients, the --receivers-url server's clients): deliveries
    // of measured broadcasts expected and received, and from each emit to the moment the last
    // client of that side got it.
    uint64_t sideExpected[2] = {};
    uint64_t sideDeliveries[2] = {};
    Histogram sideLatency[2];

    void merge(const Stats &other);
    uint64_t errorsTotal() const;
};

enum Phase : int { PhaseConnect, PhaseRun, PhaseDrain, PhaseStop };

// One broadcast in flight. The sender's thread fills it before emitting; any thread that
// receives the matching "bcast" counts itself off with `remaining`.
struct BroadcastSlot
{
    std::atomic<int64_t> seq {-1};
    std::atomic<int64_t> sendNs {0};
    std::atomic<int64_t> doneNs {0};
    std::atomic<int> remaining {0};
    std::atomic<int> sideRemaining[2] {};
    std::atomic<bool> measured {false};
};

struct Shared
{
    explicit Shared(const Options &o);

    static constexpr int SlotCount = 4096;

    const Options &options;
    std::atomic<int> phase {PhaseConnect};
    std::atomic<int64_t> windowStart {INT64_MAX};
    std::atomic<int64_t> windowEnd {INT64_MAX};
    std::atomic<int> ready {0};
    std::atomic<int> unresolved {0};
    std::atomic<int> drainedWorkers {0};
    std::atomic<int> senderEventFd {-1};
    // Soak: live totals for the progress lines (the exact figures are in each worker's Stats).
    std::atomic<uint64_t> liveCycles {0};
    std::atomic<uint64_t> liveAcks {0};
    std::atomic<uint64_t> liveErrors {0};
    std::atomic<int> peakReady {0};
    std::unique_ptr<std::atomic<int>[]> roomReady;
    // With --receivers-url: the clients connected to each side, in all and per room
    // (index side * rooms + room).
    std::atomic<int> sideReady[2] {};
    std::unique_ptr<std::atomic<int>[]> sideRoomReady;
    std::unique_ptr<BroadcastSlot[]> slots;
};

int64_t nowNs();

} // namespace loadgen
