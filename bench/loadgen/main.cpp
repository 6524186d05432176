// qsio-loadgen: drives a Socket.IO v5 server with many clients and reports throughput and
// latency. See README.md next to this file for the options, scenarios and output fields.

#include "loadgen.h"
#include "worker.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

using namespace loadgen;

namespace {

const char *const usageText = R"(usage: qsio-loadgen --url http://HOST:PORT [options]
  --scenario NAME           idle | echo | binary | broadcast | rooms | churn | polling | soak
                            (echo)
  --path PATH               Engine.IO path (/socket.io/)
  --clients N               clients; churn: concurrent workers (100)
  --threads T               generator threads (2)
  --duration S              measured seconds (10)
  --warmup S                seconds before measuring (1)
  --payload BYTES           payload size (32)
  --window W                calls (broadcasts) outstanding per client (sender) (1)
  --rate R                  broadcast, rooms: broadcasts per second (0: closed loop) (0)
  --receivers-url URL       broadcast, rooms: the receivers connect to this other server
  --local-receivers N       with --receivers-url: N receivers stay on --url (0)
  --rooms R                 rooms, soak: number of rooms (10)
  --connect-rate R          new connections per second (2000; churn: unlimited)
  --max-handshakes H        concurrent handshakes (256)
  --source-addresses LIST   local addresses to bind: A-B range or comma list
  --timeout S               bound on connecting, each handshake, each call, the drain (30)
  --hold-until-stdin-closes idle: hold until stdin reaches EOF instead of --duration
  --json                    one JSON object on stdout
soak only:
  --lifetime MIN[-MAX]      seconds a connection lives, uniform in [MIN, MAX] (2-10)
  --interval S              mean seconds between a client's emits (0.5)
  --broadcast-share F       share of the emits that are room-broadcasts (0.05)
  --polling-share F         share of the connections over HTTP long-polling (0)
  --progress S              seconds between progress lines on stderr, 0: none (10)
  --seed N                  random seed (1)
)";

[[noreturn]] void usageError(const std::string &message)
{
    std::fprintf(stderr, "qsio-loadgen: %s\n%s", message.c_str(), usageText);
    std::exit(2);
}

double parseDouble(const std::string &name, const std::string &value, double min, double max)
{
    char *end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(v >= min && v <= max))
        usageError("--" + name + " needs a number in [" + std::to_string(min) + ", "
            + std::to_string(max) + "], not '" + value + "'");
    return v;
}

int parseInt(const std::string &name, const std::string &value, long min, long max)
{
    char *end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < min || v > max)
        usageError("--" + name + " needs an integer in [" + std::to_string(min) + ", "
            + std::to_string(max) + "], not '" + value + "'");
    return int(v);
}

bool parseAddress(const std::string &text, in_addr &out)
{
    return inet_pton(AF_INET, text.c_str(), &out) == 1;
}

void parseSources(const std::string &list, std::vector<in_addr> &out)
{
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos)
            comma = list.size();
        const std::string item = list.substr(start, comma - start);
        start = comma + 1;
        if (item.empty())
            continue;
        const size_t dash = item.find('-');
        in_addr first {};
        if (!parseAddress(item.substr(0, dash), first))
            usageError("bad source address '" + item + "'");
        if (dash == std::string::npos) {
            out.push_back(first);
            continue;
        }
        std::string last = item.substr(dash + 1);
        if (last.find('.') == std::string::npos) // "127.0.0.1-16": the last octet
            last = item.substr(0, item.rfind('.', dash) + 1) + last;
        in_addr lastAddress {};
        if (!parseAddress(last, lastAddress))
            usageError("bad source address range '" + item + "'");
        const uint32_t a = ntohl(first.s_addr);
        const uint32_t b = ntohl(lastAddress.s_addr);
        if (b < a || b - a > 65535)
            usageError("bad source address range '" + item + "'");
        for (uint32_t v = a; v <= b; ++v) {
            in_addr address {};
            address.s_addr = htonl(v);
            out.push_back(address);
        }
    }
    if (out.empty())
        usageError("--source-addresses is empty");
}

void parseUrl(
    const std::string &url, const char *option, sockaddr_in &server, std::string &hostHeader)
{
    const std::string prefix = "http://";
    if (url.compare(0, prefix.size(), prefix) != 0)
        usageError(std::string(option) + " must start with http:// (" + url + ")");
    std::string rest = url.substr(prefix.size());
    rest = rest.substr(0, rest.find('/'));
    const size_t colon = rest.rfind(':');
    const std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
    const std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    addrinfo hints {};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *result = nullptr;
    if (host.empty() || getaddrinfo(host.c_str(), port.c_str(), &hints, &result) != 0 || !result)
        usageError("cannot resolve " + rest + " to an IPv4 address");
    std::memcpy(&server, result->ai_addr, sizeof server);
    freeaddrinfo(result);
    hostHeader = rest;
}

Options parseOptions(int argc, char **argv)
{
    Options o;
    bool connectRateSet = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(usageText, stdout);
            std::exit(0);
        }
        if (arg.compare(0, 2, "--") != 0)
            usageError("unexpected argument '" + arg + "'");
        arg = arg.substr(2);
        std::string value;
        bool hasValue = false;
        if (const size_t eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            hasValue = true;
        }
        if (arg == "json" || arg == "hold-until-stdin-closes") {
            if (hasValue)
                usageError("--" + arg + " takes no value");
            (arg == "json" ? o.json : o.holdUntilStdinCloses) = true;
            continue;
        }
        static const char *const valued[] = {"url", "path", "scenario", "clients", "threads",
            "duration", "warmup", "payload", "window", "rooms", "connect-rate", "max-handshakes",
            "source-addresses", "timeout", "lifetime", "interval", "broadcast-share",
            "polling-share", "progress", "seed", "receivers-url", "local-receivers", "rate"};
        if (std::find(std::begin(valued), std::end(valued), arg) == std::end(valued))
            usageError("unknown option --" + arg);
        if (!hasValue) {
            if (i + 1 >= argc)
                usageError("--" + arg + " needs a value");
            value = argv[++i];
        }
        if (arg == "url") {
            o.url = value;
        } else if (arg == "path") {
            o.path = value;
            if (o.path.empty() || o.path[0] != '/')
                o.path.insert(0, "/");
            if (o.path.back() != '/')
                o.path += '/';
        } else if (arg == "scenario") {
            static const std::pair<const char *, Scenario> names[]
                = {{"idle", Scenario::Idle}, {"echo", Scenario::Echo}, {"binary", Scenario::Binary},
                    {"broadcast", Scenario::Broadcast}, {"rooms", Scenario::Rooms},
                    {"churn", Scenario::Churn}, {"polling", Scenario::Polling},
                    {"soak", Scenario::Soak}};
            bool found = false;
            for (const auto &[name, scenario] : names) {
                if (value == name) {
                    o.scenario = scenario;
                    o.scenarioName = name;
                    found = true;
                }
            }
            if (!found)
                usageError("unknown scenario '" + value + "'");
        } else if (arg == "clients") {
            o.clients = parseInt(arg, value, 1, 10'000'000);
        } else if (arg == "threads") {
            o.threads = parseInt(arg, value, 1, 256);
        } else if (arg == "duration") {
            o.duration = parseDouble(arg, value, 0.001, 1e7);
        } else if (arg == "warmup") {
            o.warmup = parseDouble(arg, value, 0, 1e6);
        } else if (arg == "payload") {
            o.payload = size_t(parseInt(arg, value, 0, 100'000'000));
        } else if (arg == "window") {
            o.window = parseInt(arg, value, 1, 1024);
        } else if (arg == "rooms") {
            o.rooms = parseInt(arg, value, 1, 1'000'000);
        } else if (arg == "connect-rate") {
            o.connectRate = parseDouble(arg, value, 1, 1e9);
            connectRateSet = true;
        } else if (arg == "max-handshakes") {
            o.maxHandshakes = parseInt(arg, value, 1, 10'000'000);
        } else if (arg == "source-addresses") {
            parseSources(value, o.sourceAddresses);
        } else if (arg == "timeout") {
            o.timeout = parseDouble(arg, value, 0.001, 1e6);
        } else if (arg == "lifetime") {
            const size_t dash = value.find('-');
            o.lifetimeMin = parseDouble(arg, value.substr(0, dash), 0.001, 1e6);
            o.lifetimeMax = dash == std::string::npos
                ? o.lifetimeMin
                : parseDouble(arg, value.substr(dash + 1), o.lifetimeMin, 1e6);
        } else if (arg == "interval") {
            o.interval = parseDouble(arg, value, 0.001, 1e6);
        } else if (arg == "broadcast-share") {
            o.broadcastShare = parseDouble(arg, value, 0, 1);
        } else if (arg == "polling-share") {
            o.pollingShare = parseDouble(arg, value, 0, 1);
        } else if (arg == "progress") {
            o.progress = parseDouble(arg, value, 0, 1e6);
        } else if (arg == "seed") {
            o.seed = uint64_t(parseInt(arg, value, 0, 2'000'000'000));
        } else if (arg == "receivers-url") {
            o.receiversUrl = value;
        } else if (arg == "local-receivers") {
            o.localReceivers = parseInt(arg, value, 0, 10'000'000);
        } else if (arg == "rate") {
            o.rate = parseDouble(arg, value, 0, 1e6);
        } else {
            usageError("unknown option --" + arg);
        }
    }
    if (o.url.empty())
        usageError("--url is required");
    // Churn measures how fast the server takes connections: a default cap would measure the cap.
    if (o.scenario == Scenario::Churn && !connectRateSet)
        o.connectRate = 1e9;
    if (o.scenario == Scenario::Soak && o.lifetimeMax < o.lifetimeMin)
        usageError("--lifetime: MAX below MIN");
    if ((o.split() || o.rate > 0) && !o.broadcasting())
        usageError("--receivers-url and --rate are for the broadcast and rooms scenarios");
    if (o.localReceivers > 0 && !o.split())
        usageError("--local-receivers needs --receivers-url");
    parseUrl(o.url, "--url", o.server, o.hostHeader);
    if (o.split())
        parseUrl(o.receiversUrl, "--receivers-url", o.receiversServer, o.receiversHostHeader);
    return o;
}

double seconds(const timeval &tv)
{
    return double(tv.tv_sec) + double(tv.tv_usec) / 1e6;
}

double cpuSeconds(const rusage &ru)
{
    return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

void sleepUntil(int64_t deadline)
{
    for (;;) {
        const int64_t left = deadline - nowNs();
        if (left <= 0)
            return;
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(left, 50'000'000)));
    }
}

std::string histogramJson(const Histogram &h)
{
    char buf[512];
    std::snprintf(buf, sizeof buf,
        "{\"count\":%llu,\"min\":%.0f,\"mean\":%.1f,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,"
        "\"p999\":%.0f,\"max\":%.0f}",
        static_cast<unsigned long long>(h.count()), double(h.min()) / 1e3, h.mean() / 1e3,
        h.quantile(0.5) / 1e3, h.quantile(0.9) / 1e3, h.quantile(0.99) / 1e3,
        h.quantile(0.999) / 1e3, double(h.max()) / 1e3);
    return buf;
}

std::string histogramText(const Histogram &h)
{
    char buf[512];
    std::snprintf(buf, sizeof buf,
        "p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (mean %.1f, n %llu)",
        h.quantile(0.5) / 1e3, h.quantile(0.9) / 1e3, h.quantile(0.99) / 1e3,
        h.quantile(0.999) / 1e3, double(h.max()) / 1e3, h.mean() / 1e3,
        static_cast<unsigned long long>(h.count()));
    return buf;
}

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + '"';
}

const char *transportName(const Options &o)
{
    if (o.polling())
        return "polling";
    if (o.scenario == Scenario::Soak && o.pollingShare > 0)
        return o.pollingShare >= 1 ? "polling" : "mixed";
    return "websocket";
}

struct Report
{
    int connected = 0;
    int connectedEnd = 0;
    double connectSeconds = 0;
    double windowSeconds = 0;
    double wallSeconds = 0;
    double cpuWindow = 0;
    rusage usage {};
    long rlimitNofile = 0;
    int peakConnected = 0;
    int sideConnected[2] = {};
};

uint64_t shortfall(uint64_t expected, uint64_t got)
{
    return expected > got ? expected - got : 0;
}

// With --receivers-url: each server's clients apart (0: --url, 1: --receivers-url).
std::string sidesJson(const Options &o, const Stats &s, const Report &r)
{
    if (!o.split())
        return "";
    std::string out = ",\"receivers_url\":" + jsonString(o.receiversUrl) + ",\"sides\":[";
    for (int side = 0; side < 2; ++side) {
        char buf[1024];
        std::snprintf(buf, sizeof buf,
            "%s{\"url\":%s,\"clients_connected\":%d,\"expected_deliveries\":%llu,"
            "\"deliveries\":%llu,\"missing\":%llu,\"last_delivery_latency_us\":",
            side ? "," : "", jsonString(side ? o.receiversUrl : o.url).c_str(),
            r.sideConnected[side], static_cast<unsigned long long>(s.sideExpected[side]),
            static_cast<unsigned long long>(s.sideDeliveries[side]),
            static_cast<unsigned long long>(
                shortfall(s.sideExpected[side], s.sideDeliveries[side])));
        out += buf + histogramJson(s.sideLatency[side]) + "}";
    }
    return out + "]";
}

// Soak: the counters, and the deliveries missing on each transport's rooms.
std::string soakJson(const Options &o, const Stats &s, const Report &r)
{
    std::string out = ",\"soak\":{";
    char buf[160];
    std::snprintf(buf, sizeof buf,
        "\"lifetime_min\":%g,\"lifetime_max\":%g,\"interval\":%g,\"broadcast_share\":%g,"
        "\"polling_share\":%g,\"peak_connected\":%d",
        o.lifetimeMin, o.lifetimeMax, o.interval, o.broadcastShare, o.pollingShare,
        r.peakConnected);
    out += buf;
    for (int i = 0; i < SoakCounterCount; ++i)
        out += ",\"" + std::string(soakCounterNames[i]) + "\":" + std::to_string(s.soak[i]);
    out += ",\"missing_ws\":"
        + std::to_string(shortfall(s.soak[SoakExpectedWs], s.soak[SoakDeliveredWs]))
        + ",\"missing_polling\":"
        + std::to_string(shortfall(s.soak[SoakExpectedPolling], s.soak[SoakDeliveredPolling]))
        + "}";
    return out;
}

void printJson(const Options &o, const Stats &s, const Report &r)
{
    const char *op = "none";
    switch (o.scenario) {
    case Scenario::Echo:
    case Scenario::Binary:
    case Scenario::Polling:
    case Scenario::Soak:
        op = "ack";
        break;
    case Scenario::Broadcast:
    case Scenario::Rooms:
        op = "broadcast";
        break;
    case Scenario::Churn:
        op = "connection";
        break;
    case Scenario::Idle:
        break;
    }
    const double window = r.windowSeconds > 0 ? r.windowSeconds : 1;
    std::string errors = "{";
    for (int i = 0; i < ErrorKindCount; ++i) {
        if (i)
            errors += ',';
        errors += '"';
        errors += errorKindNames[i];
        errors += "\":" + std::to_string(s.errors[i]);
    }
    errors += '}';
    const double cpu = cpuSeconds(r.usage);
    std::printf("{\"scenario\":%s,\"transport\":\"%s\",\"url\":%s,\"path\":%s,\"threads\":%d,"
                "\"clients_requested\":%d,\"clients_connected\":%d,\"clients_connected_end\":%d,"
                "\"connect_seconds\":%.3f,\"warmup_seconds\":%.3f,\"duration_seconds\":%.3f,"
                "\"payload_bytes\":%zu,\"window\":%d,\"rate\":%g,\"rooms\":%d,\"op\":\"%s\","
                "\"ops\":%llu,"
                "\"ops_per_second\":%.1f,\"latency_us\":%s,\"deliveries\":%llu,"
                "\"deliveries_per_second\":%.1f,\"expected_deliveries\":%llu,\"fanout\":%.2f,"
                "\"missing\":%llu,\"delivery_latency_us\":%s,\"errors_total\":%llu,"
                "\"errors\":%s,\"wall_seconds\":%.3f,\"cpu_user_seconds\":%.3f,"
                "\"cpu_system_seconds\":%.3f,\"cpu_seconds\":%.3f,\"cpu_percent\":%.1f,"
                "\"cpu_percent_window\":%.1f,\"max_rss_kib\":%ld,\"rlimit_nofile\":%ld%s%s}\n",
        jsonString(o.scenarioName).c_str(), transportName(o), jsonString(o.url).c_str(),
        jsonString(o.path).c_str(), o.threads, o.clients, r.connected, r.connectedEnd,
        r.connectSeconds, o.scenario == Scenario::Idle ? 0.0 : o.warmup, r.windowSeconds, o.payload,
        o.window, o.rate,
        o.scenario == Scenario::Rooms || o.scenario == Scenario::Soak ? o.rooms : 0, op,
        static_cast<unsigned long long>(s.ops), double(s.ops) / window,
        histogramJson(s.latency).c_str(), static_cast<unsigned long long>(s.deliveries),
        double(s.deliveries) / window, static_cast<unsigned long long>(s.expectedDeliveries),
        s.broadcastsIssued ? double(s.expectedDeliveries) / double(s.broadcastsIssued) : 0.0,
        static_cast<unsigned long long>(s.missing), histogramJson(s.delivery).c_str(),
        static_cast<unsigned long long>(s.errorsTotal()), errors.c_str(), r.wallSeconds,
        seconds(r.usage.ru_utime), seconds(r.usage.ru_stime), cpu,
        r.wallSeconds > 0 ? cpu / r.wallSeconds * 100 : 0.0,
        r.windowSeconds > 0 ? r.cpuWindow / r.windowSeconds * 100 : 0.0, r.usage.ru_maxrss,
        r.rlimitNofile, o.scenario == Scenario::Soak ? soakJson(o, s, r).c_str() : "",
        sidesJson(o, s, r).c_str());
}

void printHuman(const Options &o, const Stats &s, const Report &r)
{
    const double window = r.windowSeconds > 0 ? r.windowSeconds : 1;
    std::printf("scenario %s (%s), %d threads: %d/%d clients connected in %.2f s, %d at the end\n",
        o.scenarioName.c_str(), transportName(o), o.threads, r.connected,
        o.clients, r.connectSeconds, r.connectedEnd);
    const char *what = nullptr;
    switch (o.scenario) {
    case Scenario::Echo:
    case Scenario::Binary:
    case Scenario::Polling:
    case Scenario::Soak:
        what = "acks";
        break;
    case Scenario::Broadcast:
    case Scenario::Rooms:
        what = "broadcasts fully delivered";
        break;
    case Scenario::Churn:
        what = "connections completed";
        break;
    case Scenario::Idle:
        break;
    }
    if (what) {
        std::printf("window %.2f s: %llu %s, %.1f/s\n", r.windowSeconds,
            static_cast<unsigned long long>(s.ops), what, double(s.ops) / window);
        std::printf("latency us: %s\n", histogramText(s.latency).c_str());
    } else {
        std::printf("held %.2f s\n", r.windowSeconds);
    }
    if (o.broadcasting()) {
        std::printf("deliveries %llu (%.1f/s) of %llu expected, fan-out %.1f, missing %llu\n",
            static_cast<unsigned long long>(s.deliveries), double(s.deliveries) / window,
            static_cast<unsigned long long>(s.expectedDeliveries),
            s.broadcastsIssued ? double(s.expectedDeliveries) / double(s.broadcastsIssued) : 0.0,
            static_cast<unsigned long long>(s.missing));
        std::printf("each delivery, us: %s\n", histogramText(s.delivery).c_str());
        for (int side = 0; side < (o.split() ? 2 : 0); ++side) {
            std::printf("%s (%d clients): %llu of %llu deliveries, missing %llu; last delivery "
                        "us: %s\n",
                side ? o.receiversUrl.c_str() : o.url.c_str(), r.sideConnected[side],
                static_cast<unsigned long long>(s.sideDeliveries[side]),
                static_cast<unsigned long long>(s.sideExpected[side]),
                static_cast<unsigned long long>(
                    shortfall(s.sideExpected[side], s.sideDeliveries[side])),
                histogramText(s.sideLatency[side]).c_str());
        }
    }
    if (o.scenario == Scenario::Soak) {
        std::string counters = "peak_connected " + std::to_string(r.peakConnected);
        for (int i = 0; i < SoakCounterCount; ++i)
            counters += std::string(", ") + soakCounterNames[i] + " " + std::to_string(s.soak[i]);
        std::printf("soak: %s\n", counters.c_str());
    }
    std::string errors;
    for (int i = 0; i < ErrorKindCount; ++i) {
        if (s.errors[i])
            errors += std::string(errors.empty() ? "" : ", ") + errorKindNames[i] + " "
                + std::to_string(s.errors[i]);
    }
    std::printf("errors: %s\n", errors.empty() ? "none" : errors.c_str());
    std::printf("generator: %.2f s CPU over %.2f s (%.0f %% of one core; %.0f %% in the window), "
                "max RSS %.1f MiB\n",
        cpuSeconds(r.usage), r.wallSeconds,
        r.wallSeconds > 0 ? cpuSeconds(r.usage) / r.wallSeconds * 100 : 0.0,
        r.windowSeconds > 0 ? r.cpuWindow / r.windowSeconds * 100 : 0.0,
        double(r.usage.ru_maxrss) / 1024);
}

} // namespace

int main(int argc, char **argv)
{
    const Options o = parseOptions(argc, argv);
    Report report;

    rlimit limit {};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    report.rlimitNofile = long(limit.rlim_cur);
    const long needed = long(double(o.clients)
                            * (o.polling() ? 2 : (o.scenario == Scenario::Soak ? 1 + o.pollingShare : 1)))
        + 64;
    if (limit.rlim_cur != RLIM_INFINITY && long(limit.rlim_cur) < needed)
        std::fprintf(stderr,
            "qsio-loadgen: warning: RLIMIT_NOFILE is %ld (hard limit), %d clients need about "
            "%ld descriptors: the connections past the limit will fail (raise `ulimit -Hn`)\n",
            long(limit.rlim_cur), o.clients, needed);
    if (o.sourceAddresses.empty() && o.clients > 25000 && !o.cycling())
        std::fprintf(stderr,
            "qsio-loadgen: warning: %d connections from one source address may exhaust the "
            "ephemeral ports; consider --source-addresses 127.0.0.1-127.0.0.16\n",
            o.clients);

    Shared shared(o);
    const bool churn = o.cycling(); // churn and soak: no connect phase, clients cycle
    const bool soak = o.scenario == Scenario::Soak;
    shared.unresolved.store(churn ? 0 : o.clients);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < o.threads; ++i) {
        workers.push_back(std::make_unique<Worker>(shared, i));
        if (!workers.back()->ok()) {
            std::fprintf(
                stderr, "qsio-loadgen: cannot create epoll/eventfd: %s\n", std::strerror(errno));
            return 1;
        }
    }

    const int64_t timeoutNs = int64_t(o.timeout * 1e9);
    const int64_t durationNs = int64_t(o.duration * 1e9);
    const int64_t start = nowNs();
    rusage windowUsage {};
    if (churn) {
        shared.windowStart.store(start + int64_t(o.warmup * 1e9));
        shared.windowEnd.store(shared.windowStart.load() + durationNs);
        shared.phase.store(PhaseRun, std::memory_order_release);
    }
    for (auto &w : workers)
        w->start();

    int exitCode = 0;
    if (!churn) {
        int64_t lastProgress = start;
        while (shared.unresolved.load() > 0 && nowNs() - start < timeoutNs) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            if (nowNs() - lastProgress > 2'000'000'000) {
                lastProgress = nowNs();
                std::fprintf(
                    stderr, "qsio-loadgen: %d/%d connected\n", shared.ready.load(), o.clients);
            }
        }
        if (shared.unresolved.load() > 0)
            std::fprintf(stderr,
                "qsio-loadgen: connect phase timed out after %.1f s with %d/%d connected\n",
                o.timeout, shared.ready.load(), o.clients);
        report.connectSeconds = double(nowNs() - start) / 1e9;
        report.connected = shared.ready.load();
        if (report.connected == 0) {
            std::fprintf(stderr, "qsio-loadgen: nothing connected to %s, scenario not started\n",
                o.url.c_str());
            exitCode = 1;
        } else if (o.scenario == Scenario::Idle) {
            std::fprintf(stderr, "READY %d\n", report.connected);
            std::fflush(stderr);
        }
    } else {
        report.connected = o.clients;
    }

    if (exitCode == 0) {
        if (!churn) {
            const int64_t now = nowNs();
            const int64_t windowStart
                = now + (o.scenario == Scenario::Idle ? 0 : int64_t(o.warmup * 1e9));
            shared.windowStart.store(windowStart);
            shared.windowEnd.store(o.holdUntilStdinCloses && o.scenario == Scenario::Idle
                    ? INT64_MAX
                    : windowStart + durationNs);
            shared.phase.store(PhaseRun, std::memory_order_release);
        }
        sleepUntil(shared.windowStart.load());
        getrusage(RUSAGE_SELF, &windowUsage);
        if (soak)
            report.connected = shared.ready.load();
        for (int side = 0; side < 2; ++side)
            report.sideConnected[side] = shared.sideReady[side].load();
        if (o.holdUntilStdinCloses && o.scenario == Scenario::Idle) {
            char buf[4096];
            while (true) {
                const ssize_t n = ::read(0, buf, sizeof buf);
                if (n == 0 || (n < 0 && errno != EINTR))
                    break;
            }
            shared.windowEnd.store(nowNs());
        } else if (soak && o.progress > 0) {
            const int64_t step = int64_t(o.progress * 1e9);
            for (int64_t next = start + step; next < shared.windowEnd.load(); next += step) {
                sleepUntil(next);
                std::fprintf(stderr,
                    "qsio-loadgen: soak t=%.1f connected=%d peak=%d cycles=%llu acks=%llu "
                    "errors=%llu\n",
                    double(nowNs() - start) / 1e9, shared.ready.load(), shared.peakReady.load(),
                    static_cast<unsigned long long>(shared.liveCycles.load()),
                    static_cast<unsigned long long>(shared.liveAcks.load()),
                    static_cast<unsigned long long>(shared.liveErrors.load()));
                std::fflush(stderr);
            }
            sleepUntil(shared.windowEnd.load());
        } else {
            sleepUntil(shared.windowEnd.load());
        }
        rusage endUsage {};
        getrusage(RUSAGE_SELF, &endUsage);
        report.cpuWindow = cpuSeconds(endUsage) - cpuSeconds(windowUsage);
        report.connectedEnd = churn && !soak ? o.clients : shared.ready.load();
        report.windowSeconds = double(shared.windowEnd.load() - shared.windowStart.load()) / 1e9;
        shared.phase.store(PhaseDrain, std::memory_order_release);
        const int64_t drainStart = nowNs();
        while (shared.drainedWorkers.load() < o.threads && nowNs() - drainStart < timeoutNs)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        // Soak: the room-broadcasts' acks are in; their deliveries to clients on other threads
        // may still be in the sockets.
        if (soak)
            sleepUntil(nowNs() + std::min<int64_t>(1'000'000'000, timeoutNs));
    }
    shared.phase.store(PhaseStop, std::memory_order_release);
    for (auto &w : workers)
        w->join();

    Stats total;
    for (auto &w : workers)
        total.merge(w->stats());
    if (soak) {
        // As the broadcast scenarios report them; "missing" counts the WebSocket rooms only:
        // a polling client that leaves may lose what the server still held for it, by design.
        report.peakConnected = shared.peakReady.load();
        total.deliveries = total.soak[SoakDeliveredWs] + total.soak[SoakDeliveredPolling];
        total.expectedDeliveries
            = total.soak[SoakExpectedWs] + total.soak[SoakExpectedPolling];
        total.broadcastsIssued = total.soak[SoakRoomBroadcasts];
        total.missing = total.soak[SoakExpectedWs] > total.soak[SoakDeliveredWs]
            ? total.soak[SoakExpectedWs] - total.soak[SoakDeliveredWs]
            : 0;
    }
    report.wallSeconds = double(nowNs() - start) / 1e9;
    getrusage(RUSAGE_SELF, &report.usage);
    if (exitCode != 0) {
        std::string errors;
        for (int i = 0; i < ErrorKindCount; ++i) {
            if (total.errors[i])
                errors
                    += std::string(" ") + errorKindNames[i] + "=" + std::to_string(total.errors[i]);
        }
        std::fprintf(
            stderr, "qsio-loadgen: errors:%s\n", errors.empty() ? " none" : errors.c_str());
    }
    if (o.json)
        printJson(o, total, report);
    else
        printHuman(o, total, report);
    return exitCode;
}
