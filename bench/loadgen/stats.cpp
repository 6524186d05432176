#include "loadgen.h"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace loadgen {

const char *const errorKindNames[ErrorKindCount] = {"socket", "connect_refused", "connect_failed",
    "handshake", "connect_error", "unexpected_close", "timeout", "protocol", "http", "delivery"};

const char *const soakCounterNames[SoakCounterCount] = {"connects", "connects_polling",
    "connected", "joins", "echoes", "room_broadcasts", "emits_deferred", "unacked", "disconnects",
    "killed", "expected_deliveries_ws", "deliveries_ws", "expected_deliveries_polling",
    "deliveries_polling", "other_events"};

int64_t nowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void Histogram::merge(const Histogram &other)
{
    for (int i = 0; i < Buckets; ++i)
        m_counts[size_t(i)] += other.m_counts[size_t(i)];
    m_count += other.m_count;
    m_sum += other.m_sum;
    if (other.m_max > m_max)
        m_max = other.m_max;
    if (other.m_min < m_min)
        m_min = other.m_min;
}

double Histogram::middle(int idx)
{
    if (idx < (2 << SubBits))
        return idx;
    const int e = (idx >> SubBits) - 1;
    const uint64_t mantissa = uint64_t(idx - (e << SubBits));
    const double low = double(mantissa << e);
    return low + double(uint64_t(1) << e) / 2;
}

double Histogram::quantile(double q) const
{
    if (m_count == 0)
        return 0;
    const auto rank = uint64_t(std::ceil(q * double(m_count)));
    uint64_t seen = 0;
    for (int i = 0; i < Buckets; ++i) {
        seen += m_counts[size_t(i)];
        if (seen >= rank && seen > 0) {
            // The extremes are known exactly; a bucket middle must not step past them.
            const double v = middle(i);
            if (v > double(m_max))
                return double(m_max);
            if (v < double(min()))
                return double(min());
            return v;
        }
    }
    return double(m_max);
}

void Stats::merge(const Stats &other)
{
    for (int i = 0; i < ErrorKindCount; ++i)
        errors[i] += other.errors[i];
    for (int i = 0; i < SoakCounterCount; ++i)
        soak[i] += other.soak[i];
    ops += other.ops;
    deliveries += other.deliveries;
    expectedDeliveries += other.expectedDeliveries;
    missing += other.missing;
    broadcastsIssued += other.broadcastsIssued;
    latency.merge(other.latency);
    delivery.merge(other.delivery);
    for (int side = 0; side < 2; ++side) {
        sideExpected[side] += other.sideExpected[side];
        sideDeliveries[side] += other.sideDeliveries[side];
        sideLatency[side].merge(other.sideLatency[side]);
    }
}

uint64_t Stats::errorsTotal() const
{
    uint64_t total = 0;
    for (uint64_t e : errors)
        total += e;
    return total;
}

Shared::Shared(const Options &o)
    : options(o)
    , roomReady(std::make_unique<std::atomic<int>[]>(size_t(std::max(o.rooms, 1))))
    , sideRoomReady(std::make_unique<std::atomic<int>[]>(2 * size_t(std::max(o.rooms, 1))))
    , slots(std::make_unique<BroadcastSlot[]>(SlotCount))
{
    for (int i = 0; i < std::max(o.rooms, 1); ++i)
        roomReady[size_t(i)].store(0);
    for (int i = 0; i < 2 * std::max(o.rooms, 1); ++i)
        sideRoomReady[size_t(i)].store(0);
}

} // namespace loadgen
