#!/usr/bin/python3
"""Cross-server broadcast through Redis: QSocketIo ("ours", interop_server --redis) against
Node's socket.io 4.8 with @socket.io/redis-adapter 8.3, on the same contract, the same load
generator and the same Redis, and writes bench/CLUSTER.md.

Per server kind and per repetition: a fresh redis-server on a free loopback port (no
persistence) and two servers A and B of that kind in one cluster. The generator's sender and a
few receivers talk to A, the many receivers to B (qsio-loadgen --receivers-url), so that every
broadcast crosses from A to B through Redis. CPU of A, B and redis-server over the generator's
measurement window, RSS of A and B, and Redis's own PUBLISH figures are read for each scenario.

Standard library only, like run.py, whose helpers (Server, Sampler, the generator runner, the
machine facts) it imports. The report says what each scenario does; qsio-loadgen's
--receivers-url, --local-receivers and --rate are in bench/loadgen/README.md.

    bench/cluster.py            # 3 runs of each scenario on each kind, about 4 minutes
    bench/cluster.py --quick    # 200 receivers, 2-second windows, one run: checks that all works
"""

import argparse
import datetime
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import run  # noqa: E402 (the matrix runner: servers, /proc sampling, the generator, machine facts)
from run import BenchError, fmt, log  # noqa: E402

KINDS = ["ours", "node"]
ROLES = ["A", "B", "Redis"]
# The request channel of namespace "/" (redis-adapter's default key "socket.io"): every server
# of a cluster subscribes to it once, which is how Node counts a cluster's servers.
REQUEST_CHANNEL = "socket.io-request#/#"


class Scenario:
    """One generator pass on a running cluster. `receivers` and `on_a` are the clients on B and
    on A (the sender included); None takes the run's --receivers / --on-a."""

    def __init__(self, name, loadgen, args, title, receivers=None):
        self.name = name
        self.loadgen = loadgen
        self.args = args
        self.title = title
        self.receivers = receivers

    def loadgen_args(self, config, url_b):
        receivers = self.receivers if self.receivers is not None else config.receivers
        args = {"clients": receivers + config.on_a, "local-receivers": config.on_a - 1,
                "receivers-url": url_b, "payload": config.payload,
                "duration": config.duration, "warmup": config.warmup}
        args.update({k: (v(config) if callable(v) else v) for k, v in self.args.items()})
        return args

    def describe(self, config):
        receivers = self.receivers if self.receivers is not None else config.receivers
        return self.title.format(receivers=receivers, on_a=config.on_a, rate=config.rate,
                                 window=config.max_window, payload=config.payload)


SCENARIOS = [
    Scenario("broadcast", "broadcast", {"window": 1},
             "Closed loop: `broadcast` from A, the next one once all {receivers:,} clients on B "
             "and the {on_a} on A got the previous one"),
    Scenario("broadcast-rate", "broadcast", {"window": 64, "rate": lambda c: c.rate},
             "Fixed rate: {rate:g} broadcasts/s (at most 64 outstanding), the same load on both "
             "kinds, {receivers:,} clients on B"),
    Scenario("broadcast-max", "broadcast", {"window": lambda c: c.max_window},
             "Saturation: {window} broadcasts outstanding, {receivers:,} clients on B"),
    Scenario("rooms", "rooms", {"window": 1, "rooms": 10},
             "Room fan-out across servers: 10 rooms, each with members on both servers "
             "({on_a} on A, {receivers:,} on B in all), `room-broadcast` round-robin, closed loop"),
    Scenario("hop", "broadcast", {"window": 1},
             "The Redis hop alone: closed loop, {receivers} clients on B and {on_a} on A",
             receivers=10),
]
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}


# ---------------------------------------------------------------------------------------------
# Redis


def read_reply(f):
    """One RESP reply from a binary file object: str, int, None or a list of them."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise BenchError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise BenchError(f"Redis answered: {rest.decode(errors='replace')}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise BenchError(f"unexpected RESP line from Redis: {line[:80]!r}")


def redis_command(port, *args):
    """Runs one command on a fresh connection (closed before returning, so that it is never
    counted as one of a server's connections)."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"".join(parts))
            with s.makefile("rb") as f:
                return read_reply(f)
    except OSError as error:
        raise BenchError(f"Redis on port {port}: {error}") from error


def redis_info(port):
    """INFO stats and commandstats as one dict; `reply_bytes` is what the replies cost in
    Redis's output byte count, to be taken off the next reading."""
    info = {"reply_bytes": 0}
    for section in ("stats", "commandstats"):
        text = redis_command(port, "INFO", section)
        info["reply_bytes"] += len(text.encode()) + 16  # the bulk string's RESP framing
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if not sep:
                continue
            if key.startswith("cmdstat_"):
                fields = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
                info[key] = {k: float(v) for k, v in fields.items()}
            elif value.isdigit():
                info[key] = int(value)
    return info


def redis_delta(before, after):
    """PUBLISH calls, Redis's own microseconds per PUBLISH, and the bytes in and out per
    PUBLISH between two readings (everything else on Redis then is the readings themselves)."""
    pub0 = before.get("cmdstat_publish", {})
    pub1 = after.get("cmdstat_publish", {})
    calls = pub1.get("calls", 0) - pub0.get("calls", 0)
    usec = pub1.get("usec", 0) - pub0.get("usec", 0)
    net_in = after.get("total_net_input_bytes", 0) - before.get("total_net_input_bytes", 0)
    net_out = (after.get("total_net_output_bytes", 0) - before.get("total_net_output_bytes", 0)
               - before["reply_bytes"])
    return {"publish_calls": calls,
            "publish_usec_per_call": usec / calls if calls else None,
            "bytes_in_per_publish": net_in / calls if calls else None,
            "bytes_out_per_publish": net_out / calls if calls else None}


def redis_clients(port):
    """Redis's connections (this query's own left out), each a dict of CLIENT LIST's fields."""
    clients = []
    for line in redis_command(port, "CLIENT", "LIST").splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        if fields.get("cmd") != "client|list":
            clients.append(fields)
    return clients


# ---------------------------------------------------------------------------------------------
# Processes


class Process(run.Server):
    """A process run.Server cannot start itself (redis-server, Node's server with --redis),
    started here; waited for, stopped and read with run.Server's own methods."""

    def __init__(self, kind, argv, port, env, config, logdir, label):
        self.kind = kind
        self.port = port
        self.argv = argv
        self.logpath = os.path.join(logdir, f"{label}.{kind}.log")
        self.logfile = open(self.logpath, "wb")
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                         stdout=self.logfile, stderr=subprocess.STDOUT)
        except OSError as error:
            self.logfile.close()
            raise BenchError(f"cannot start {argv[0]}: {error}") from error
        run.Server.STARTED.append(self)
        self.pid = self.proc.pid
        self._wait_listening(config.start_timeout)


def drop_debug_environment():
    """Every server runs as in production: no debug switch inherited from the caller (run.Server
    starts ours with this process's environment)."""
    for name in ("DEBUG", "NODE_DEBUG", "NODE_OPTIONS", "QT_LOGGING_RULES"):
        os.environ.pop(name, None)


def start_redis(config, logdir, label):
    port = run.free_port()
    argv = [config.redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no"]
    return Process("redis", argv, port, dict(os.environ), config, logdir, label)


def start_server(kind, config, logdir, label, redis_port):
    address = f"127.0.0.1:{redis_port}"
    if kind == "ours":
        # run.Server's own command line (--bench --epoll, --max-payload, --ours-args), joined
        # to the cluster.
        return run.Server("ours", config, logdir, label, ["--redis", address])
    port = run.free_port()
    env = dict(os.environ)
    env.update({"PORT": str(port), "MAX_HTTP_BUFFER_SIZE": str(config.max_payload),
                "NODE_ENV": "production"})
    argv = [config.node, os.path.join(BENCH, "servers", "node", "server.mjs"), "--redis", address]
    return Process("node", argv, port, env, config, logdir, label)


class Cluster:
    """Redis and two servers of one kind, both subscribed before it is handed out."""

    def __init__(self, kind, config, logdir, label):
        self.kind = kind
        self.procs = {}
        try:
            self.procs["Redis"] = start_redis(config, logdir, f"{label}-redis")
            for role in ("A", "B"):
                self.procs[role] = start_server(kind, config, logdir, f"{label}-{role}",
                                                self.procs["Redis"].port)
            self.clients = self._wait_subscribed(config.start_timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def redis_port(self):
        return self.procs["Redis"].port

    def url(self, role):
        return f"http://127.0.0.1:{self.procs[role].port}"

    def _wait_subscribed(self, timeout):
        deadline = time.monotonic() + timeout
        count = None
        while time.monotonic() < deadline:
            count = redis_command(self.redis_port, "PUBSUB", "NUMSUB", REQUEST_CHANNEL)[1]
            if count == 2:
                return redis_clients(self.redis_port)
            self.check_alive()
            time.sleep(0.1)
        raise BenchError(f"{self.kind}: {count} server(s) subscribed to {REQUEST_CHANNEL} "
                         f"within {timeout} s, not 2")

    def check_alive(self):
        for role, proc in self.procs.items():
            if not proc.alive():
                raise BenchError(f"{self.kind} {role} exited with status {proc.proc.returncode}:"
                                 f"\n{proc.log_tail()}")

    def stop(self):
        for proc in reversed(list(self.procs.values())):
            proc.stop()


# ---------------------------------------------------------------------------------------------
# Measuring


def process_cpu_clock(pid):
    """The clock id of a process's CPU time (glibc's clock_getcpuclockid(): CPUCLOCK_SCHED of
    the whole process), which Linux lets any process read."""
    return ((~pid) << 3) | 2


READ_CPU_TICKS_PROC = run.read_cpu_ticks


def read_cpu_ticks_exact(pid):
    """run.read_cpu_ticks with nanoseconds behind it: the same kernel count (the process's
    sum_exec_runtime, every thread, user and system) that /proc/PID/stat gives in whole 10 ms
    ticks, so that a few hundred broadcasts of 20 µs each still measure. main() puts it in
    run.read_cpu_ticks' place, so that run.Sampler (its sampling, its interpolation at the
    window's bounds) reads with it. Falls back to /proc/PID/stat."""
    try:
        return time.clock_gettime(process_cpu_clock(pid)) * run.CLK_TCK
    except OSError:
        return READ_CPU_TICKS_PROC(pid)


def measure(config, cluster, scenario, logdir, label):
    args = scenario.loadgen_args(config, cluster.url("B"))
    logpath = os.path.join(logdir, f"{label}.{scenario.name}.loadgen.log")
    samplers = {role: run.Sampler(cluster.procs[role].pid) for role in ROLES}
    ticks = {role: READ_CPU_TICKS_PROC(cluster.procs[role].pid) for role in ROLES}
    for sampler in samplers.values():
        sampler.start()
    before = redis_info(cluster.redis_port)
    try:
        report, launched = run.run_loadgen(config, cluster.procs["A"], scenario.loadgen, args,
                                           logpath)
    finally:
        for sampler in samplers.values():
            sampler.stop()
    cluster.check_alive()
    # /proc/PID/stat's count over the whole generator run, beside the exact one: a check that
    # both clocks agree.
    proc_cpu = {role: (READ_CPU_TICKS_PROC(cluster.procs[role].pid) - ticks[role]) / run.CLK_TCK
                for role in ROLES}
    exact_cpu = {role: samplers[role].cpu_seconds(launched, time.monotonic())
                 for role in ROLES}
    redis = redis_delta(before, redis_info(cluster.redis_port))
    if not report.get("ops"):
        raise BenchError(f"the generator completed no broadcast in the window (log: {logpath})")
    t0, t1 = run.window_of(report, launched)
    return {"loadgen": report, "args": args,
            "cpu_s": {role: samplers[role].cpu_seconds(t0, t1) for role in ROLES},
            "memory": {role: samplers[role].memory_at(t1) for role in ROLES},
            "cpu_run_s": exact_cpu, "cpu_run_proc_stat_s": proc_cpu, "redis": redis}


def figures(r):
    """The figures of one run, flat, for the tables (None where not known)."""
    lg = r["loadgen"]
    ops = lg.get("ops") or 0
    dur = lg.get("duration_seconds") or 0
    sides = lg.get("sides") or [{}, {}]
    f = {"broadcasts_per_s": lg.get("ops_per_second"), "fanout": lg.get("fanout"),
         "deliveries_per_s": lg.get("deliveries_per_second"),
         "missing": lg.get("missing"), "errors": lg.get("errors_total"),
         "loadgen_cpu_pct": lg.get("cpu_percent_window"),
         "on_a": sides[0].get("clients_connected"), "on_b": sides[1].get("clients_connected")}
    for side, name in ((1, "b"), (0, "a")):
        lat = sides[side].get("last_delivery_latency_us") or {}
        f[f"p50_ms_{name}"] = lat["p50"] / 1000 if lat.get("count") else None
        f[f"p99_ms_{name}"] = lat["p99"] / 1000 if lat.get("count") else None
    total = 0.0
    for role in ROLES:
        cpu = r["cpu_s"].get(role)
        f[f"cpu_ms_{role}"] = 1000 * cpu / ops if cpu is not None and ops else None
        f[f"cpu_pct_{role}"] = 100 * cpu / dur if cpu is not None and dur else None
        total = total + cpu if cpu is not None and total is not None else None
    f["cpu_ms_total"] = 1000 * total / ops if total is not None and ops else None
    b_deliveries = sides[1].get("deliveries")
    cpu_b = r["cpu_s"].get("B")
    f["cpu_us_per_delivery_B"] = 1e6 * cpu_b / b_deliveries if cpu_b and b_deliveries else None
    for role in ("A", "B"):
        rss = r["memory"].get(role, {}).get("rss_kib")
        f[f"rss_mib_{role}"] = rss / 1024 if rss else None
    f["redis_usec_per_publish"] = r["redis"].get("publish_usec_per_call")
    f["redis_bytes_in"] = r["redis"].get("bytes_in_per_publish")
    f["redis_bytes_out"] = r["redis"].get("bytes_out_per_publish")
    return f


def problems(r, expected_a, expected_b):
    """What is wrong with one run's counts, in words (empty when every receiver got every
    broadcast)."""
    lg = r["loadgen"]
    found = []
    if lg.get("missing"):
        found.append(f"{lg['missing']:,} deliveries missing")
    if lg.get("errors_total"):
        kinds = {k: v for k, v in (lg.get("errors") or {}).items() if v}
        found.append(f"errors {kinds}")
    sides = lg.get("sides") or [{}, {}]
    for side, want, role in ((0, expected_a, "A"), (1, expected_b, "B")):
        got = sides[side].get("clients_connected")
        if got != want:
            found.append(f"{got} clients on {role} instead of {want}")
        if sides[side].get("deliveries") != sides[side].get("expected_deliveries"):
            found.append(f"{role}: {sides[side].get('deliveries')} deliveries of "
                         f"{sides[side].get('expected_deliveries')} expected")
    return found


# ---------------------------------------------------------------------------------------------
# The report

# (title, figure key, digits); the ratio column is ours / Node for every row.
ROWS = [
    ("broadcasts/s", "broadcasts_per_s", 3),
    ("deliveries/s (all receivers)", "deliveries_per_s", 3),
    ("latency to the last receiver on B, p50 ms", "p50_ms_b", 3),
    ("latency to the last receiver on B, p99 ms", "p99_ms_b", 3),
    ("latency to the last receiver on A, p50 ms", "p50_ms_a", 3),
    ("CPU ms per broadcast: A", "cpu_ms_A", 3),
    ("CPU ms per broadcast: B", "cpu_ms_B", 3),
    ("CPU ms per broadcast: redis-server", "cpu_ms_Redis", 3),
    ("CPU ms per broadcast: A + B + Redis", "cpu_ms_total", 3),
    ("B's CPU µs per delivery on B", "cpu_us_per_delivery_B", 3),
    ("CPU % of one core: A", "cpu_pct_A", 3),
    ("CPU % of one core: B", "cpu_pct_B", 3),
    ("CPU % of one core: redis-server", "cpu_pct_Redis", 3),
    ("CPU % of one core: the generator", "loadgen_cpu_pct", 3),
    ("RSS MiB at the window's end: A", "rss_mib_A", 3),
    ("RSS MiB at the window's end: B", "rss_mib_B", 3),
    ("Redis: µs inside PUBLISH (its own count)", "redis_usec_per_publish", 3),
    ("Redis: bytes in per PUBLISH", "redis_bytes_in", 4),
    ("Redis: bytes out per PUBLISH (to both subscribers)", "redis_bytes_out", 4),
]


def median_of(runs, key):
    values = [figures(r)[key] for r in runs if isinstance(r, dict)]
    values = [v for v in values if v is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def cell(runs, key, digits):
    med, low, high = median_of(runs, key)
    if med is None:
        return "—"
    text = fmt(med, digits)
    if len([r for r in runs if isinstance(r, dict)]) > 1 and high > low:
        text += f" <sub>{fmt(low, digits)}–{fmt(high, digits)}</sub>"
    return text


def scenario_table(results, name, kinds):
    runs = {kind: results.get(kind, {}).get(name, []) for kind in kinds}
    head = ["figure"] + [("ours" if k == "ours" else "Node") for k in kinds]
    both = "ours" in kinds and "node" in kinds
    if both:
        head.append("ours / Node")
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for title, key, digits in ROWS:
        cells = [title] + [cell(runs[k], key, digits) for k in kinds]
        if both:
            cells.append(fmt(run.ratio(median_of(runs["ours"], key)[0],
                                       median_of(runs["node"], key)[0]), 2))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SUMMARY = [("broadcasts/s", "broadcasts_per_s"), ("p50 ms to B's last", "p50_ms_b"),
           ("p99 ms", "p99_ms_b"), ("CPU ms/broadcast A", "cpu_ms_A"),
           ("B", "cpu_ms_B"), ("Redis", "cpu_ms_Redis"), ("RSS MiB A", "rss_mib_A"),
           ("B", "rss_mib_B"), ("missing", "missing")]


def summary_table(results, names, kinds):
    """One row per scenario and kind: the medians of the main figures."""
    head = ["scenario", "server"] + [title for title, _ in SUMMARY]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name in names:
        for kind in kinds:
            runs = results.get(kind, {}).get(name, [])
            cells = [name, "ours" if kind == "ours" else "Node"]
            for _, key in SUMMARY:
                value = median_of(runs, key)[0]
                cells.append("—" if value is None else fmt(value))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def med(results, kind, name, key):
    return median_of(results.get(kind, {}).get(name, []), key)[0]


def interpretation(config, results, kinds):
    """Plain sentences computed from the medians."""
    out = []
    names = {"ours": "Ours", "node": "Node"}
    for kind in kinds:
        full = {role: med(results, kind, "broadcast", f"cpu_ms_{role}") for role in ROLES}
        hop = {role: med(results, kind, "hop", f"cpu_ms_{role}") for role in ROLES}
        total = med(results, kind, "broadcast", "cpu_ms_total")
        if None in list(full.values()) + list(hop.values()) or not total:
            continue
        per_delivery = (full["B"] - hop["B"]) / max(1, config.receivers - 10) * 1000
        fanout_share = max(0.0, full["B"] - hop["B"]) / total * 100
        out.append(
            f"- **{names[kind]}, where the CPU goes** (closed loops, one broadcast at a time): "
            f"a broadcast to {config.receivers:,} receivers on B costs {fmt(total)} ms of CPU "
            f"in all: B {fmt(full['B'])} ms, A {fmt(full['A'])} ms, redis-server "
            f"{fmt(full['Redis'])} ms. With 10 receivers on B (`hop`) it costs B "
            f"{fmt(hop['B'])} ms, A {fmt(hop['A'])} ms and Redis {fmt(hop['Redis'])} ms: "
            f"what a broadcast costs whatever its fan-out (the event's parsing on A, the msgpack "
            f"encoding, the PUBLISH, the message read back and decoded on both subscribers, the "
            f"wake-ups). Each further receiver on B adds about {fmt(per_delivery)} µs to B, so "
            f"at {config.receivers:,} receivers the fan-out on B is {fmt(fanout_share, 2)} % of "
            f"the cluster's CPU per broadcast.")
    for kind in kinds:
        local = med(results, kind, "hop", "p50_ms_a")
        far = med(results, kind, "hop", "p50_ms_b")
        many = med(results, kind, "broadcast", "p50_ms_b")
        if None in (local, far, many):
            continue
        out.append(
            f"- **{names[kind]}, latency**: with 10 receivers on each server the last one on A "
            f"has the broadcast after {fmt(local)} ms (p50) and the last one on B after "
            f"{fmt(far)} ms, so the way through Redis and B's decoding add about "
            f"{fmt(far - local)} ms; with {config.receivers:,} receivers on B the last one waits "
            f"{fmt(many)} ms, the rest being B writing to one socket after the other (and the "
            f"generator reading them, on the same cores).")
    if "ours" in kinds and "node" in kinds:
        pairs = [("broadcast", "broadcasts_per_s", "closed-loop broadcasts/s"),
                 ("broadcast-max", "broadcasts_per_s", "broadcasts/s at saturation"),
                 ("broadcast", "p50_ms_b", "p50 latency to the last receiver on B"),
                 ("broadcast", "cpu_ms_total", "CPU per broadcast (closed loop)"),
                 ("broadcast-rate", "cpu_ms_total",
                  f"CPU per broadcast at {config.rate:g}/s"),
                 ("broadcast", "cpu_us_per_delivery_B", "B's CPU per delivery"),
                 ("rooms", "broadcasts_per_s", "room-broadcasts/s"),
                 ("broadcast", "rss_mib_B", "B's RSS")]
        words = []
        for name, key, title in pairs:
            rel = run.ratio(med(results, "ours", name, key), med(results, "node", name, key))
            if rel is not None:
                words.append(f"{title} {fmt(rel, 2)}×")
        if words:
            out.append("- **Ours against Node** (ours / Node, medians): " + "; ".join(words)
                       + ".")
        size = {k: med(results, k, "broadcast", "redis_bytes_in") for k in kinds}
        inside = {k: med(results, k, "broadcast", "redis_usec_per_publish") for k in kinds}
        if None not in list(size.values()) + list(inside.values()):
            out.append(
                f"- **Through Redis** each broadcast is one PUBLISH of about "
                f"{fmt(size['ours'], 4)} bytes from ours and {fmt(size['node'], 4)} from Node "
                f"(the same msgpack `[uid, packet, options]` of redis-adapter 8 with "
                f"{config.payload} bytes of padding in the data), which Redis writes to both "
                f"servers' subscribers. Redis spends {fmt(inside['ours'])} µs (ours) and "
                f"{fmt(inside['node'])} µs (Node) inside each PUBLISH; the rest of its CPU per "
                f"broadcast is reading and writing its sockets, and at the fixed rate its "
                f"wake-ups and its own timers.")
    loaded = []
    for kind in kinds:
        one = med(results, kind, "broadcast", "cpu_ms_B")
        many = med(results, kind, "broadcast-max", "cpu_ms_B")
        pct = med(results, kind, "broadcast-max", "cpu_pct_B")
        if None not in (one, many, pct):
            loaded.append(f"{'ours' if kind == 'ours' else 'Node'} {fmt(one)} → {fmt(many)} ms "
                          f"({fmt(100 * (many - one) / one, 2)} %, B at {fmt(pct)} % of a core)")
    if loaded:
        out.append(
            f"- **Under load** ({config.max_window} broadcasts outstanding against one at a "
            f"time), B's CPU per broadcast goes: {'; '.join(loaded)}. B, at a full core, is "
            f"what limits the cluster's broadcasts/s: A and Redis stay at a few per cent.")
    rate_note = [k for k in kinds if med(results, k, "broadcast-rate", "cpu_ms_total")]
    if rate_note:
        out.append(
            f"- At the fixed rate ({config.rate:g}/s) every process sleeps between "
            f"broadcasts, so each broadcast also pays for waking A, Redis and B up (and a share "
            f"of their idle timers): its CPU per broadcast is above the closed loops', for both "
            f"kinds alike.")
    busy = [f"{k} {name}" for k in kinds for name in results.get(k, {})
            if (med(results, k, name, "loadgen_cpu_pct") or 0) > 85]
    if busy:
        out.append(f"- The generator used more than 85 % of a core in: {', '.join(busy)}. "
                   f"There it, not the servers, may have set the pace of the closed loops.")
    return out


def write_report(config, facts, results, checks, started, finished, out):
    kinds = [k for k in KINDS if k in config.kinds]
    names = [n for n in config.scenarios]
    lines = [
        "# Cross-server broadcast through Redis: QSocketIo and Node",
        "",
        "Written by `bench/cluster.py`. Per server kind, Redis and two servers A and B in one "
        "cluster: ours is `interop_server --bench --epoll --redis` (QSocketIo's `RedisAdapter`), "
        "Node's is `bench/servers/node/server.mjs --redis` (socket.io with "
        "`@socket.io/redis-adapter`, one publishing and one subscribed Redis connection each). "
        f"`qsio-loadgen` connects {config.on_a} clients to A (the sender among them) and "
        f"{config.receivers:,} to B; the sender calls the contract's `broadcast` (the server "
        "`io.emit`s `bcast` to everyone, which reaches B through Redis) or `room-broadcast`. "
        "Every receiver must get every broadcast: the generator counts each delivery. CPU is "
        "each process's user + system time (every thread) over the generator's measurement "
        "window, sampled and interpolated as `bench/run.py` does, but read from the process's "
        "CPU-time clock (`clock_gettime` on its `clock_getcpuclockid`), the kernel count that "
        "`/proc/PID/stat` gives in 10 ms ticks: ticks would not resolve a few hundred "
        "broadcasts of 20 µs (both readings are in the raw JSON and agree). RSS is VmRSS "
        "from `/proc` at the window's end.",
        "",
    ]
    if config.note:
        lines += [f"**Note:** {config.note}", ""]
    lines += [
        f"Run from {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC"
        + (" with `--quick` (small sizes, short windows, one run: not comparable to a full "
           "run)" if config.quick else "")
        + f"; every figure is the median of {config.reps} run(s) of the scenario on each kind "
        "(the smallest and largest beside it). The kinds take turns; each repetition starts a "
        "fresh Redis and fresh servers, which then serve the scenarios one after the other:",
        "",
        "```sh",
        config.command_line,
        "```",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in facts.items()]
    cores = len(os.sched_getaffinity(0))
    lines += [
        "",
        f"**{cores} cores for everything**: A, B, redis-server, the generator (one thread) and "
        "this script's sampling share them, so the throughputs are those of the whole "
        "cluster on this machine, and the latencies include waiting for a core. The CPU per "
        "broadcast of each process is the figure to compare across kinds.",
        "",
        "## Commands",
        "",
        "```sh",
        f"{config.redis_server} --port $REDIS --bind 127.0.0.1 --save '' --appendonly no",
    ]
    if "ours" in kinds:
        ours = [f"{k}={v}" for k, v in config.ours_env.items()] + [
            os.path.relpath(config.ours_bin, ROOT), "--port", "PORT", "--max-payload",
            str(config.max_payload), "--bench", "--epoll"] + config.ours_args
        lines.append("# ours, A and B: " + shlex.join(ours).replace(" PORT ", " $PORT ")
                     + " --redis 127.0.0.1:$REDIS")
    if "node" in kinds:
        lines.append("# Node, A and B: NODE_ENV=production PORT=$PORT MAX_HTTP_BUFFER_SIZE="
                     f"{config.max_payload} node bench/servers/node/server.mjs --redis "
                     "127.0.0.1:$REDIS")
    lines.append("# the generator, per scenario (below): "
                 f"{os.path.relpath(config.loadgen, ROOT)} --url http://127.0.0.1:$A_PORT "
                 "--receivers-url http://127.0.0.1:$B_PORT --json --threads "
                 f"{config.loadgen_threads} ...")
    lines += ["```", "", "## Results", "",
              f"Medians of {config.reps} run(s); CPU in ms per broadcast, latency from the "
              "sender's emit to the moment the last client on B got the broadcast.", "",
              summary_table(results, names, kinds), ""]
    if checks:
        lines += ["**Counts that did not add up** (every receiver must get every broadcast):",
                  ""] + [f"- {c}" for c in checks] + [""]
    else:
        lines += ["Every run: all clients connected where they should, every receiver got every "
                  "broadcast issued in the window (deliveries = expected on both servers, "
                  "`missing` 0), no error.", ""]
    for name in names:
        scenario = SCENARIO_BY_NAME[name]
        args = scenario.loadgen_args(config, "http://127.0.0.1:$B_PORT")
        flags = " ".join(f"--{k} {v}" for k, v in args.items())
        lines += [f"### {name}: {scenario.describe(config)}", "",
                  f"Generator: `qsio-loadgen --url http://127.0.0.1:$A_PORT --scenario "
                  f"{scenario.loadgen} --json --threads {config.loadgen_threads} {flags}`", "",
                  scenario_table(results, name, kinds), ""]
        failed = [f"{k}: {r}" for k in kinds for r in results.get(k, {}).get(name, [])
                  if isinstance(r, str)]
        if failed:
            lines += ["Not measured: " + "; ".join(f.splitlines()[0] for f in failed), ""]
    lines += ["## What the figures say", ""]
    lines += interpretation(config, results, kinds) or ["(not enough figures to say)"]
    lines += [
        "",
        "Where the costs lie, per broadcast: A parses the sender's event, encodes the packet "
        "once as msgpack for Redis, PUBLISHes it, writes it to its own few clients, and reads "
        "its own message back from its subscription (decoding it to find its own uid). Redis "
        "reads one PUBLISH and writes the message to the two subscribers. B reads and decodes "
        "the message once, encodes the Socket.IO packet once, and writes one WebSocket frame "
        "to each of its clients: one `send()` per socket, and on loopback the kernel also "
        "does the receiving side's TCP work inside that call. The msgpack work is per "
        "broadcast; the writes are per receiver, which is why B's figure grows with the "
        "fan-out and A's and Redis's do not.",
        "",
    ]
    lines += kept_by_hand(out)
    with open(out, "w") as f:
        f.write("\n".join(lines))


KEPT_START = "<!-- kept by hand: bench/cluster.py copies this section into each report -->"
KEPT_END = "<!-- end of the section kept by hand -->"


def kept_by_hand(path):
    """The hand-written section of the report being replaced (profiles, observations), so that
    a new run keeps it; it says itself when and on what it was written."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    start, end = text.find(KEPT_START), text.find(KEPT_END)
    if start < 0 or end < start:
        return []
    return ["", text[start:end + len(KEPT_END)], ""]


# ---------------------------------------------------------------------------------------------
# Setup


def loadgen_has_receivers_url(path):
    return "--receivers-url" in run.command_output([path, "--help"])


def build_dir_of(path):
    directory = os.path.dirname(os.path.abspath(path))
    while directory != os.path.dirname(directory):
        if os.path.exists(os.path.join(directory, "CMakeCache.txt")):
            return directory
        directory = os.path.dirname(directory)
    return None


def setup(config):
    run.find_or_build(config, "ours" in config.kinds)
    if not loadgen_has_receivers_url(config.loadgen):
        build = build_dir_of(config.loadgen)
        if build is None:
            raise SystemExit(f"{config.loadgen} has no --receivers-url and no build directory")
        log(f"{config.loadgen} predates --receivers-url: rebuilding it in {build}")
        subprocess.run(["cmake", "--build", build, "--target", "qsio-loadgen", "-j2"],
                       check=True)
        if not loadgen_has_receivers_url(config.loadgen):
            raise SystemExit(f"{config.loadgen} still has no --receivers-url")
    if "ours" in config.kinds and "--redis" not in run.command_output(
            [config.ours_bin, "--help"]):
        raise SystemExit(f"{config.ours_bin} has no --redis option (built without hiredis?)")
    if "node" in config.kinds:
        node_dir = os.path.join(BENCH, "servers", "node")
        if not os.path.isdir(os.path.join(node_dir, "node_modules", "@socket.io",
                                          "redis-adapter")):
            log("installing the Node server's packages (npm ci)")
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=node_dir, check=True)
    if not os.access(config.redis_server, os.X_OK):
        raise SystemExit(f"{config.redis_server} is missing (Debian's redis-server package)")


def node_package_version(name):
    path = os.path.join(BENCH, "servers", "node", "node_modules", *name.split("/"),
                        "package.json")
    try:
        with open(path) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return "not installed"


def facts_of(config):
    facts = run.machine_facts(config)
    for key in [k for k in facts if k.startswith("python")]:
        del facts[key]
    facts["redis-server"] = run.command_output([config.redis_server, "--version"])
    facts["Node's Redis packages"] = ", ".join(
        f"{name} {node_package_version(name)}"
        for name in ("@socket.io/redis-adapter", "redis", "notepack.io"))
    facts["hiredis (ours)"] = run.command_output(
        ["dpkg-query", "-W", "-f", "${Version}", "libhiredis0.14"]) or "?"
    facts["generator threads"] = str(config.loadgen_threads)
    return facts


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Cross-server broadcast through Redis, QSocketIo against Node's socket.io "
        "with @socket.io/redis-adapter; writes bench/CLUSTER.md.")
    p.add_argument("--quick", action="store_true",
                   help="200 receivers, 2-second windows, one run each: checks that all works")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma list of ours,node")
    p.add_argument("--scenarios", default=",".join(SCENARIO_BY_NAME),
                   help="comma list (default: all: %s)" % ",".join(SCENARIO_BY_NAME))
    p.add_argument("--reps", type=int, default=None, help="runs of each scenario (3, quick 1)")
    p.add_argument("--receivers", type=int, default=None, help="clients on B (1000, quick 200)")
    p.add_argument("--on-a", type=int, default=10, help="clients on A, the sender included")
    p.add_argument("--duration", type=float, default=None, help="measured seconds (4, quick 2)")
    p.add_argument("--warmup", type=float, default=None, help="seconds (2, quick 1)")
    p.add_argument("--payload", type=int, default=32, help="padding in each broadcast's data")
    p.add_argument("--rate", type=float, default=50,
                   help="broadcasts/s of broadcast-rate (below both kinds' saturation)")
    p.add_argument("--max-window", type=int, default=16,
                   help="broadcasts outstanding in broadcast-max")
    p.add_argument("--out", default=os.path.join(BENCH, "CLUSTER.md"), help="report file")
    p.add_argument("--raw", default=None, help="also write every raw figure as JSON here")
    p.add_argument("--from-raw", default=None, metavar="FILE",
                   help="write the report from a raw file of an earlier run, running nothing")
    p.add_argument("--note", default="", help="a line put at the top of the report")
    p.add_argument("--ours-bin", default=None, help="interop_server (default build/tests/...)")
    p.add_argument("--ours-args", default="", help="extra arguments for ours")
    p.add_argument("--ours-env", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--loadgen", default=None, help="qsio-loadgen (default: found in build*/)")
    p.add_argument("--loadgen-threads", type=int, default=0,
                   help="generator threads (default: 1 on two cores or fewer, else 2)")
    p.add_argument("--loadgen-timeout", type=float, default=30)
    p.add_argument("--start-timeout", type=float, default=20)
    p.add_argument("--max-payload", type=int, default=16 * 1024 * 1024)
    p.add_argument("--node", default=shutil.which("node") or "node")
    p.add_argument("--redis-server", default="/usr/bin/redis-server")
    config = p.parse_args(argv)
    config.kinds = [k for k in config.kinds.split(",") if k]
    for k in config.kinds:
        if k not in KINDS:
            p.error(f"unknown kind {k!r} (known: {', '.join(KINDS)})")
    config.scenarios = [s for s in config.scenarios.split(",") if s]
    for s in config.scenarios:
        if s not in SCENARIO_BY_NAME:
            p.error(f"unknown scenario {s!r} (known: {', '.join(SCENARIO_BY_NAME)})")
    if config.on_a < 1:
        p.error("--on-a needs at least 1 (the sender)")
    quick = config.quick
    config.reps = config.reps or (1 if quick else 3)
    config.receivers = config.receivers or (200 if quick else 1000)
    config.duration = config.duration or (2 if quick else 4)
    config.warmup = config.warmup if config.warmup is not None else (1 if quick else 2)
    config.ours_args = shlex.split(config.ours_args)
    for item in config.ours_env:
        if "=" not in item:
            p.error(f"--ours-env wants NAME=VALUE, not {item!r}")
    config.ours_env = dict(item.split("=", 1) for item in config.ours_env)
    if config.loadgen_threads <= 0:
        config.loadgen_threads = 1 if len(os.sched_getaffinity(0)) <= 2 else 2
    config.python = sys.executable  # run.machine_facts asks; its lines are dropped
    config.command_line = shlex.join(
        [os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + list(argv))
    return config


KEPT = ("kinds", "scenarios", "reps", "receivers", "on_a", "duration", "warmup", "payload",
        "rate", "max_window", "quick", "note", "command_line", "loadgen_threads", "ours_bin",
        "ours_args", "ours_env", "loadgen", "max_payload", "redis_server")


def all_checks(config, results):
    checks = []
    for kind, by_name in results.items():
        for name, runs in by_name.items():
            scenario = SCENARIO_BY_NAME[name]
            receivers = scenario.receivers if scenario.receivers is not None \
                else config.receivers
            for i, r in enumerate(runs, 1):
                if isinstance(r, str):
                    checks.append(f"{kind} {name} run {i}: not measured: {r.splitlines()[0]}")
                    continue
                checks += [f"{kind} {name} run {i}: {p}"
                           for p in problems(r, config.on_a, receivers)]
    return checks


def main(argv):
    config = parse_args(argv)
    if config.from_raw:
        with open(config.from_raw) as f:
            raw = json.load(f)
        for key, value in raw["config"].items():
            setattr(config, key, value)
        config.note = config.note or raw["config"].get("note", "")
        write_report(config, raw["facts"], raw["results"], all_checks(config, raw["results"]),
                     datetime.datetime.fromisoformat(raw["started"]),
                     datetime.datetime.fromisoformat(raw["finished"]), config.out)
        log(f"wrote {config.out} from {config.from_raw}")
        return 0
    config.nofile = run.raise_nofile()
    drop_debug_environment()
    run.read_cpu_ticks = read_cpu_ticks_exact

    def on_signal(signum, _frame):
        run.stop_all_servers()
        sys.exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    setup(config)
    logdir = tempfile.mkdtemp(prefix="qsio-cluster-")
    log(f"logs in {logdir}; kinds {','.join(config.kinds)}; scenarios "
        f"{','.join(config.scenarios)}; {config.reps} run(s) each")
    started = datetime.datetime.now(datetime.timezone.utc)
    facts = facts_of(config)
    results = {kind: {name: [] for name in config.scenarios} for kind in config.kinds}
    connections = {}
    try:
        for rep in range(1, config.reps + 1):
            for kind in config.kinds:
                label = f"r{rep}-{kind}"
                t = time.monotonic()
                try:
                    cluster = Cluster(kind, config, logdir, label)
                except BenchError as error:
                    log(f"{label}: the cluster did not start: {error}")
                    for name in config.scenarios:
                        results[kind][name].append(f"the cluster did not start: {error}")
                    continue
                try:
                    connections[label] = [{k: c.get(k) for k in ("name", "sub", "psub", "cmd")}
                                          for c in cluster.clients]
                    for name in config.scenarios:
                        try:
                            r = measure(config, cluster, SCENARIO_BY_NAME[name], logdir, label)
                            f = figures(r)
                            log(f"{label} {name}: {fmt(f['broadcasts_per_s'])} broadcasts/s, "
                                f"p50 {fmt(f['p50_ms_b'])} ms, CPU ms/broadcast A "
                                f"{fmt(f['cpu_ms_A'])} B {fmt(f['cpu_ms_B'])} Redis "
                                f"{fmt(f['cpu_ms_Redis'])}, missing {f['missing']}, "
                                f"errors {f['errors']}")
                        except BenchError as error:
                            r = str(error)
                            log(f"{label} {name}: FAILED: {error}")
                        results[kind][name].append(r)
                        time.sleep(0.5)  # the last clients' disconnections
                finally:
                    cluster.stop()
                log(f"{label}: done in {time.monotonic() - t:.0f} s")
    finally:
        run.stop_all_servers()
    finished = datetime.datetime.now(datetime.timezone.utc)
    facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    subscribers = {label: sum(1 for c in conns if int(c.get("psub") or 0) > 0)
                   for label, conns in connections.items()}
    facts["Redis connections per cluster (subscribed)"] = ", ".join(sorted(
        {f"{len(conns)} ({subscribers[label]})" for label, conns in connections.items()}))
    kept = {k: getattr(config, k) for k in KEPT}
    raw = {"config": kept, "started": started.isoformat(), "finished": finished.isoformat(),
           "facts": facts, "results": results, "redis_connections": connections}
    for path in filter(None, [os.path.join(logdir, "raw.json"), config.raw]):
        with open(path, "w") as f:
            json.dump(raw, f, indent=1, default=str)
    checks = all_checks(config, results)
    write_report(config, facts, results, checks, started, finished, config.out)
    with open(config.out) as f:
        print(f.read())
    log(f"wrote {config.out} (logs and raw.json in {logdir})")
    for c in checks:
        log(f"check: {c}")
    return 1 if checks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
