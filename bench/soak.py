#!/usr/bin/python3
"""Soak test: a long churn run (connects, disconnects, emits, room joins and room-broadcasts)
against interop_server while its RSS and CPU are sampled; after a warm-up the RSS must stay
flat, and the server must exit with status 0 after SIGTERM. With --asan the same run, smaller,
against the AddressSanitizer build, which must report nothing (no ASan, LeakSanitizer or UBSan
report; LeakSanitizer checks at the exit that SIGTERM brings). gdb is optional: when present it
reads glibc's heap figures of the idle server before and after the load.

Standard library only; builds nothing (build the binaries first, see bench/README.md). Writes
its section of a markdown report (bench/SOAK.md by default; the RSS run and the ASan run each
keep their own section) and exits 0 on success, 1 when the run failed its checks, 2 when it
could not run.

    bench/soak.py                                  # 10 minutes, 2,000 clients
    bench/soak.py --asan                           # 10 minutes, 200 clients, ASan build
    bench/soak.py --duration 60 --warmup 20        # a short trial
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
from run import command_output, cpu_model  # noqa: E402 (the matrix runner's helpers)
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The server's own descriptors (listening socket, event loop, logs) beside one per connection.
FD_MARGIN = 200
SANITIZER_PATTERNS = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"]
ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
    "LSAN_OPTIONS": f"suppressions={ROOT}/tests/lsan.supp:print_suppressions=0",
}
# What each mode runs unless told otherwise: the RSS run at the target scale, the ASan run
# (several times slower per operation) at a tenth of it, with shorter lifetimes so that each
# client still goes through many connections.
DEFAULTS = {
    "rss": {"server": "build/tests/interop_server", "clients": 2000, "connect_rate": 400,
            "lifetime": "5-30", "interval": 1.0, "stop_timeout": 30.0},
    "asan": {"server": "build-asan/tests/interop_server", "clients": 200, "connect_rate": 100,
             "lifetime": "2-10", "interval": 0.5, "stop_timeout": 120.0},
}
SECTION_TITLES = {"rss": "RSS soak", "asan": "AddressSanitizer / LeakSanitizer soak"}


def log(message):
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class SoakError(Exception):
    """The run could not be made (not a failed check): exit status 2."""


# ---------------------------------------------------------------------------------------------
# /proc readings


def read_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def read_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


# ---------------------------------------------------------------------------------------------
# Processes


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def free_port():
    """A free port below the ephemeral range (32768 and up), so that the generator's own
    connections can never be handed the server's port."""
    candidates = list(range(20000, 32768))
    random.shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SoakError("no free port found in 20000-32767")


class Server:
    def __init__(self, argv, env, logdir, start_timeout):
        self.argv = argv
        self.out_path = os.path.join(logdir, "server.out")
        self.err_path = os.path.join(logdir, "server.err")
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                         stdout=self.out, stderr=self.err)
        except OSError as error:
            raise SoakError(f"cannot start {argv[0]}: {error}") from error
        self.pid = self.proc.pid
        deadline = time.monotonic() + start_timeout
        while True:
            with open(self.out_path, errors="replace") as f:
                match = re.search(r"^listening on (http://\S+)$", f.read(), re.M)
            if match:
                self.url = match.group(1)
                return
            if self.proc.poll() is not None:
                raise SoakError(f"server exited with status {self.proc.returncode} before "
                                f"listening:\n{self.stderr_text()[-3000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise SoakError(f"server did not listen within {start_timeout} s")
            time.sleep(0.1)

    def alive(self):
        return self.proc.poll() is None

    def stderr_text(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def terminate(self, timeout):
        """SIGTERM, then waits; returns (status, seconds): the exit status (negative: killed by
        that signal), or None when it had to be killed with SIGKILL after `timeout` seconds.
        interop_server quits its event loop on SIGTERM, tears down and exits through exit(), so
        that LeakSanitizer's exit-time check runs."""
        start = time.monotonic()
        status = self.proc.poll()
        if status is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                status = None
        self.out.close()
        self.err.close()
        return status, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def gdb_call(pid, expression, logdir, name):
    """Runs `call EXPRESSION` in the process with gdb (attached for a moment); False when there
    is no gdb or it could not run. Only the optional heap reading uses it."""
    gdb = shutil.which("gdb")
    if not gdb:
        return False
    # The program from /proc: the binary may have been rebuilt (replaced) since it started,
    # and gdb, left to find it by its path, would then load no symbols at all.
    argv = [gdb, "-batch", "-nx", "-iex", "set debuginfod enabled off", f"/proc/{pid}/exe",
            "-p", str(pid),
            "-iex", "set auto-load off", "-ex", f"call {expression}"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    with open(os.path.join(logdir, f"gdb-{name}.log"), "w") as f:
        f.write(shlex.join(argv) + "\n" + done.stdout + done.stderr)
    return True


def malloc_stats(server, logdir, name):
    """glibc's heap figures of the (idle) server: malloc_stats() called with gdb prints them on
    its stderr. Returns {"system": bytes, "in_use": bytes}, or None (no gdb, or no figures)."""
    before = len(server.stderr_text())
    if not gdb_call(server.pid, "(void) malloc_stats()", logdir, name):
        return None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = server.stderr_text()[before:]
        match = re.search(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*"
                          r"in use bytes\s*=\s*(\d+)", text)
        if match:
            return {"system": int(match.group(1)), "in_use": int(match.group(2))}
        time.sleep(0.1)
    return None


class LoadgenProgress(threading.Thread):
    """Copies the generator's stderr to a file and keeps its latest soak progress line."""

    PATTERN = re.compile(r"soak t=(\S+) connected=(\d+) peak=(\d+) cycles=(\d+) acks=(\d+) "
                         r"errors=(\d+)")

    def __init__(self, stream, path):
        super().__init__(daemon=True)
        self.stream = stream
        self.path = path
        self.latest = None

    def run(self):
        with open(self.path, "w") as f:
            for line in self.stream:
                f.write(line)
                f.flush()
                match = self.PATTERN.search(line)
                if match:
                    self.latest = {"connected": int(match.group(2)),
                                   "cycles": int(match.group(4)), "acks": int(match.group(5)),
                                   "errors": int(match.group(6))}


# ---------------------------------------------------------------------------------------------
# Figures


def least_squares(points):
    """Slope and intercept of the least-squares line through (x, y) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0, my
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return slope, my - slope * mx


def rss_verdict(samples, warmup, end, config, cycles_per_minute, acks_per_minute):
    """The flatness check over the samples taken between the warm-up and the end of the load."""
    post = [s for s in samples if warmup <= s["t"] <= end and s["rss"] is not None]
    if len(post) < 3:
        return {"ok": False, "reasons": [f"only {len(post)} RSS samples after the warm-up"]}
    rss = [s["rss"] for s in post]
    slope, _ = least_squares([(s["t"] / 60, s["rss"]) for s in post])  # KiB per minute
    span = (post[-1]["t"] - post[0]["t"]) / 60
    median = statistics.median(rss)
    growth = slope * span  # what the fitted line rises over the post-warm-up span
    figures = {
        "samples": len(post), "span_min": span, "min": min(rss), "max": max(rss),
        "median": median, "first": rss[0], "last": rss[-1], "slope": slope, "growth": growth,
        "growth_pct": growth / median * 100 if median else 0.0,
        "growth_bound": median * config.max_growth_pct / 100,
        "slope_bound": config.max_slope,
        "bytes_per_cycle": slope * 1024 / cycles_per_minute if cycles_per_minute else None,
        "bytes_per_ack": slope * 1024 / acks_per_minute if acks_per_minute else None,
    }
    reasons = []
    if growth > figures["growth_bound"]:
        reasons.append(f"RSS grew {growth:,.0f} KiB after the warm-up (fitted), over "
                       f"{config.max_growth_pct:g} % of the median {median:,.0f} KiB")
    if slope > config.max_slope:
        reasons.append(f"RSS slope {slope:,.1f} KiB/min after the warm-up, over "
                       f"{config.max_slope:g} KiB/min")
    figures["ok"] = not reasons
    figures["reasons"] = reasons
    return figures


def loadgen_problems(report, clients, populations):
    """What makes the generator's run a failure: errors of any kind, acks that never came,
    broadcast deliveries missing on the WebSocket rooms, or a population that stayed short of
    the target."""
    problems = []
    soak = report.get("soak", {})
    if report.get("errors_total", 0):
        kinds = ", ".join(f"{k} {v}" for k, v in report.get("errors", {}).items() if v)
        problems.append(f"generator errors: {report['errors_total']} ({kinds})")
    if soak.get("unacked", 0):
        problems.append(f"{soak['unacked']} emits never acked")
    if soak.get("missing_ws", 0):
        problems.append(f"{soak['missing_ws']} room-broadcast deliveries missing (WebSocket)")
    if not report.get("ops"):
        problems.append("no ack counted")
    if populations:
        median = statistics.median(populations)
        if median < 0.9 * clients:
            problems.append(f"the population stayed at {median:,.0f} connected (median after "
                            f"the warm-up), under 90 % of the {clients:,} asked")
    return problems


# ---------------------------------------------------------------------------------------------
# Report


def machine_facts(server_bin):
    facts = {}
    facts["CPU"] = f"{cpu_model()}, nproc {os.cpu_count()} " \
        f"({len(os.sched_getaffinity(0))} usable)"
    facts["kernel"] = platform.release()
    facts["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    head = command_output(["git", "rev-parse", "HEAD"], cwd=ROOT)
    dirty = command_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT)
    changed = [line.split(maxsplit=1)[-1] for line in dirty.splitlines() if line.strip()]
    facts["commit"] = (head or "?") + (
        " with uncommitted changes in " + ", ".join(changed[:8])
        + (f" and {len(changed) - 8} more" if len(changed) > 8 else "") if changed else "")
    try:
        built = datetime.datetime.fromtimestamp(os.stat(server_bin).st_mtime)
        facts["server binary"] = f"{os.path.relpath(server_bin, ROOT)}, built " \
            f"{built:%Y-%m-%d %H:%M}"
    except OSError:
        pass
    return facts


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:,.1f}"


def series_rows(samples, row_period):
    """One row per `row_period` seconds: RSS min / max / last, mean CPU, clients connected."""
    rows = []
    bucket = []
    bound = row_period
    for s in samples:
        while s["t"] > bound + 1e-6:
            if bucket:
                rows.append((bound, bucket))
                bucket = []
            bound += row_period
        bucket.append(s)
    if bucket:
        rows.append((bound, bucket))
    lines = ["| until t (s) | RSS min MiB | RSS max MiB | RSS last MiB | server CPU % | "
             "connected |", "|---:|---:|---:|---:|---:|---:|"]
    for bound, group in rows:
        rss = [s["rss"] for s in group if s["rss"] is not None]
        cpu = [s["cpu"] for s in group if s["cpu"] is not None]
        connected = [s["connected"] for s in group if s["connected"] is not None]
        cells = [f"{min(bound, group[-1]['t']):.0f}",
                 mib(min(rss)) if rss else "-", mib(max(rss)) if rss else "-",
                 mib(rss[-1]) if rss else "-",
                 f"{statistics.mean(cpu):.0f}" if cpu else "-",
                 f"{connected[-1]}" if connected else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def loadgen_table(report):
    soak = report.get("soak", {})
    lat = report.get("latency_us", {})
    rows = [
        ("population asked / peak / at the end",
         f"{report.get('clients_requested')} / {soak.get('peak_connected')} / "
         f"{report.get('clients_connected_end')}"),
        ("connections started (polling)",
         f"{soak.get('connects', 0):,} ({soak.get('connects_polling', 0):,})"),
        ("connected / joined", f"{soak.get('connected', 0):,} / {soak.get('joins', 0):,}"),
        ("disconnects (clean) / killed by an error",
         f"{soak.get('disconnects', 0):,} / {soak.get('killed', 0):,}"),
        ("echo acks", f"{soak.get('echoes', 0):,}"),
        ("room-broadcast acks", f"{soak.get('room_broadcasts', 0):,}"),
        ("deliveries WebSocket: expected / received / missing",
         f"{soak.get('expected_deliveries_ws', 0):,} / {soak.get('deliveries_ws', 0):,} / "
         f"{soak.get('missing_ws', 0):,}"),
        ("deliveries polling: expected / received / missing",
         f"{soak.get('expected_deliveries_polling', 0):,} / "
         f"{soak.get('deliveries_polling', 0):,} / {soak.get('missing_polling', 0):,}"),
        ("acks (all kinds), per second",
         f"{report.get('ops', 0):,}, {report.get('ops_per_second', 0):,.0f}/s"),
        ("ack latency p50 / p99 / max (us)",
         f"{lat.get('p50', 0):,.0f} / {lat.get('p99', 0):,.0f} / {lat.get('max', 0):,.0f}"),
        ("emits deferred (previous ack still outstanding)", f"{soak.get('emits_deferred', 0):,}"),
        ("emits never acked", f"{soak.get('unacked', 0):,}"),
        ("errors", f"{report.get('errors_total', 0):,}" + (
            " (" + ", ".join(f"{k} {v}" for k, v in report.get("errors", {}).items() if v) + ")"
            if report.get("errors_total") else "")),
        ("generator CPU", f"{report.get('cpu_seconds', 0):.1f} s "
         f"({report.get('cpu_percent', 0):.0f} % of one core)"),
    ]
    lines = ["| loadgen total | |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return lines


HEADER = """# Soak test

Written by [`soak.py`](soak.py) (standard library only; it builds nothing). A churn run
(`qsio-loadgen --scenario soak`: connects, room joins, echo emits with acks, room-broadcasts,
disconnects and reconnects, a share of the connections over HTTP long-polling) against
`interop_server --bench --epoll`, with the server's RSS (VmRSS) and CPU sampled every 5 s; then
the same run at a tenth of the scale against the AddressSanitizer + UBSan build. Each mode
rewrites its own section below.

```sh
cmake --build build -j2 --target qsio-loadgen interop_server
bench/soak.py                  # 10 minutes, 2,000 clients, warm-up 120 s  (RSS section)
cmake --build build-asan -j2 --target interop_server
bench/soak.py --asan           # 10 minutes, 200 clients, ASan/LSan/UBSan  (ASan section)
bench/soak.py --help           # sizes, bounds, binaries
```

Bounds (RSS run, after the warm-up): the least-squares line through the RSS samples rises by
less than 5 % of their median over the span, and its slope stays under 512 KiB/min. When gdb is
installed, the run also reads glibc's `malloc_stats()` of the idle server before and after the
load: the heap still in use once every client left must not exceed the figure before by 5 % of
the median RSS (without gdb that check is skipped and the report says so). Both modes fail on
any generator error, any emit without its ack, any room-broadcast delivery missing on the
WebSocket rooms, a population under 90 % of the target, or a server that does not exit with
status 0 after SIGTERM (`interop_server` quits its event loop on SIGTERM, so it tears down and
exits through `exit()`, and LeakSanitizer's exit-time check runs); the ASan run also fails on
any sanitizer report.

"""


def write_section(path, mode, lines):
    """Replaces this mode's section of the report (or appends it), keeping the other one."""
    begin, end = f"<!-- soak:{mode}:begin -->", f"<!-- soak:{mode}:end -->"
    section = "\n".join([begin] + lines + [end]) + "\n"
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = HEADER
    if begin in text and end in text:
        text = text[:text.index(begin)] + section.rstrip("\n") + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


# ---------------------------------------------------------------------------------------------
# The run


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Soak test of interop_server: churn load with RSS sampling (default) or "
        "under AddressSanitizer/LeakSanitizer (--asan).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--asan", action="store_true",
                   help="run the ASan build's server at a smaller scale and check its reports")
    p.add_argument("--server", help="server binary (default: build/tests/interop_server, "
                   "build-asan/tests/interop_server with --asan)")
    p.add_argument("--server-args", default="--bench --epoll",
                   help="arguments of the server (beside --host and --port)")
    p.add_argument("--loadgen", default=os.path.join(ROOT, "build", "bench", "qsio-loadgen"))
    p.add_argument("--port", type=int, default=0, help="0: a free port below 32768")
    p.add_argument("--duration", type=float, default=600, help="seconds of load")
    p.add_argument("--sample", type=float, default=5, help="seconds between RSS/CPU samples")
    p.add_argument("--warmup", type=float, default=120,
                   help="seconds at the start left out of the flatness check")
    p.add_argument("--clients", type=int, help="concurrent clients (default 2000, 200 with --asan)")
    p.add_argument("--connect-rate", type=float,
                   help="new connections per second at most (default 400, 100 with --asan)")
    p.add_argument("--lifetime", help="seconds a connection lives, MIN-MAX "
                   "(default 5-30, 2-10 with --asan)")
    p.add_argument("--interval", type=float,
                   help="mean seconds between a client's emits (default 1, 0.5 with --asan)")
    p.add_argument("--broadcast-share", type=float, default=0.05,
                   help="share of the emits that are room-broadcasts")
    p.add_argument("--polling-share", type=float, default=0.1,
                   help="share of the connections over HTTP long-polling")
    p.add_argument("--rooms", type=int, default=50, help="rooms per transport")
    p.add_argument("--payload", type=int, default=32, help="echo and broadcast payload bytes")
    p.add_argument("--threads", type=int, default=1 if (os.cpu_count() or 1) <= 2 else 2,
                   help="generator threads")
    p.add_argument("--source-addresses", default="127.0.0.1-127.0.0.8",
                   help="local addresses the generator spreads its connections over")
    p.add_argument("--timeout", type=float, default=30,
                   help="generator bound on each handshake and each ack")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-growth-pct", type=float, default=5,
                   help="RSS check: the fitted growth after the warm-up under this %% of the "
                   "post-warm-up median")
    p.add_argument("--max-slope", type=float, default=512,
                   help="RSS check: the least-squares slope after the warm-up under this many "
                   "KiB per minute (at the default load, about 5,800 connection cycles and "
                   "120,000 acks a minute, 512 KiB/min is 90 B per cycle or 4 B per ack: "
                   "leaking one per-connection object would exceed it)")
    p.add_argument("--settle", type=float, default=7,
                   help="seconds the idle server gets after the load before its heap is read "
                   "and SIGTERM comes (its WebSocket close deadlines are 5 s)")
    p.add_argument("--stop-timeout", type=float,
                   help="seconds the server gets to exit after SIGTERM before it is killed "
                   "with SIGKILL and the run fails (default 30, 120 with --asan: "
                   "LeakSanitizer's exit-time scan takes a while)")
    p.add_argument("--no-malloc-stats", dest="malloc_stats", action="store_false",
                   help="do not read glibc's heap figures of the idle server before and after "
                   "the load (with gdb, when it is installed; skipped without it)")
    p.add_argument("--note", help="a bold line at the top of this run's section "
                   "(e.g. 'trial run, 60 s')")
    p.add_argument("--out", default=os.path.join(BENCH, "SOAK.md"), help="the report")
    p.add_argument("--log-dir", help="where the processes' output goes (default: a new "
                   "/tmp/qsio-soak-* folder)")
    config = p.parse_args(argv)
    mode = "asan" if config.asan else "rss"
    for key, value in DEFAULTS[mode].items():
        if getattr(config, key, None) is None:
            setattr(config, key, value)
    config.mode = mode
    config.server = os.path.abspath(os.path.join(ROOT, config.server)
                                    if not os.path.isabs(config.server) else config.server)
    if not config.asan and config.warmup >= config.duration:
        p.error(f"--warmup {config.warmup:g} leaves nothing of --duration {config.duration:g} "
                "to check")
    if config.sample <= 0 or config.duration <= 0:
        p.error("--sample and --duration must be positive")
    return config


def run(config, argv):
    started = datetime.datetime.now()
    for path in (config.server, config.loadgen):
        if not os.access(path, os.X_OK):
            raise SoakError(f"{path} is missing: build it first, e.g. cmake --build "
                            f"{os.path.dirname(os.path.dirname(path))} --target "
                            f"{os.path.basename(path)}")
    logdir = config.log_dir or tempfile.mkdtemp(prefix="qsio-soak-")
    os.makedirs(logdir, exist_ok=True)
    log(f"logs in {logdir}")
    soft, hard = raise_nofile()
    needed = int(config.clients * (1 + config.polling_share)) + FD_MARGIN
    if soft < needed:
        log(f"warning: RLIMIT_NOFILE {soft} is below the {needed} descriptors "
            f"{config.clients} clients need")

    facts = machine_facts(config.server)
    env = dict(os.environ)
    if config.asan:
        env.update(ASAN_ENV)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    port = config.port or free_port()
    server_argv = [config.server] + shlex.split(config.server_args) + [
        "--host", "127.0.0.1", "--port", str(port)]
    log("starting " + shlex.join(server_argv))
    server = Server(server_argv, env, logdir, start_timeout=120 if config.asan else 30)
    loadgen = None
    try:
        heap_before = None
        heap_note = None
        if not config.asan and config.malloc_stats:
            if not shutil.which("gdb"):
                heap_note = "not read: gdb is not installed"
                log(f"heap figures {heap_note}")
            else:
                heap_before = malloc_stats(server, logdir, "malloc-before")
                if not heap_before:
                    heap_note = (f"not read: gdb gave no malloc_stats() figures (see "
                                 f"{logdir}/gdb-malloc-before.log)")
                    log(f"heap figures {heap_note}")
        loadgen_argv = [
            config.loadgen, "--url", server.url, "--scenario", "soak", "--json",
            "--clients", str(config.clients), "--threads", str(config.threads),
            "--duration", f"{config.duration:g}", "--warmup", "0",
            "--connect-rate", f"{config.connect_rate:g}", "--rooms", str(config.rooms),
            "--lifetime", config.lifetime, "--interval", f"{config.interval:g}",
            "--broadcast-share", f"{config.broadcast_share:g}",
            "--polling-share", f"{config.polling_share:g}", "--payload", str(config.payload),
            "--timeout", f"{config.timeout:g}", "--progress", f"{config.sample:g}",
            "--seed", str(config.seed), "--source-addresses", config.source_addresses]
        log("running " + shlex.join(loadgen_argv))
        samples = []
        t0 = time.monotonic()
        last_ticks, last_t = read_cpu_ticks(server.pid), t0
        samples.append({"t": 0.0, "rss": read_rss_kib(server.pid), "cpu": None,
                        "connected": 0})
        loadgen = subprocess.Popen(loadgen_argv, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        progress = LoadgenProgress(loadgen.stderr, os.path.join(logdir, "loadgen.err"))
        progress.start()
        stdout = []
        reader = threading.Thread(target=lambda: stdout.append(loadgen.stdout.read()),
                                  daemon=True)
        reader.start()
        deadline = t0 + config.duration + 2 * config.timeout + 60
        server_died = None
        next_sample = t0 + config.sample
        while loadgen.poll() is None:
            now = time.monotonic()
            if now > deadline:
                loadgen.kill()
                raise SoakError(f"qsio-loadgen did not finish within {deadline - t0:.0f} s")
            if now >= next_sample:
                next_sample += config.sample
                if not server.alive():
                    server_died = server.proc.returncode
                    log(f"the server exited (status {server_died}) during the run")
                    loadgen.terminate()
                    break
                try:
                    ticks = read_cpu_ticks(server.pid)
                    rss = read_rss_kib(server.pid)
                except (OSError, ValueError):
                    continue
                cpu = (ticks - last_ticks) / CLK_TCK / (now - last_t) * 100
                last_ticks, last_t = ticks, now
                latest = progress.latest or {}
                samples.append({"t": now - t0, "rss": rss, "cpu": cpu,
                                "connected": latest.get("connected")})
                if len(samples) % max(1, int(60 / config.sample)) == 0:
                    log(f"t={now - t0:.0f} s RSS {rss / 1024:.1f} MiB, CPU {cpu:.0f} %, "
                        f"{latest.get('connected', '?')} connected, "
                        f"{latest.get('errors', '?')} errors")
            time.sleep(min(0.2, max(0.0, next_sample - time.monotonic())))
        loadgen.wait()
        load_end = time.monotonic() - t0
        reader.join(timeout=10)
        progress.join(timeout=10)
        loadgen_status = loadgen.returncode
        report = {}
        text = "".join(stdout).strip()
        if text:
            try:
                report = json.loads(text[text.index("{"):])
            except ValueError:
                pass
        with open(os.path.join(logdir, "loadgen.json"), "w") as f:
            f.write(text + "\n")

        # The idle server once every client left.
        after = None
        heap_after = None
        if server.alive():
            time.sleep(min(config.settle, 10))
            try:
                after = read_rss_kib(server.pid)
            except (OSError, ValueError):
                pass
            if heap_before:
                heap_after = malloc_stats(server, logdir, "malloc-after")
            if heap_before and not heap_after:
                heap_note = (f"not read after the load: gdb gave no malloc_stats() figures "
                             f"(see {logdir}/gdb-malloc-after.log)")
                log(f"heap figures {heap_note}")
        alive_at_end = server.alive()
        log("stopping the server with SIGTERM")
        status, stop_seconds = server.terminate(timeout=config.stop_timeout)
        log(f"server exit status {'killed' if status is None else status} after "
            f"{stop_seconds:.1f} s")
        server_stderr = server.stderr_text()
    finally:
        if loadgen is not None and loadgen.poll() is None:
            loadgen.kill()
            loadgen.wait()
        server.kill()

    # Checks.
    problems = []
    if server_died is not None or not alive_at_end:
        problems.append(f"the server exited during the run (status {server.proc.returncode})")
    if loadgen_status != 0:
        problems.append(f"qsio-loadgen exited with status {loadgen_status}")
    if not report:
        problems.append("no JSON report from qsio-loadgen")
    soak = report.get("soak", {})
    duration = report.get("duration_seconds") or config.duration
    cycles_per_minute = soak.get("disconnects", 0) / duration * 60 if duration else 0
    acks_per_minute = report.get("ops", 0) / duration * 60 if duration else 0
    # The population is checked once the ramp-up is over: after the warm-up (the ASan run,
    # which has none, after its first quarter).
    settled = config.warmup if not config.asan else min(config.warmup, config.duration / 4)
    populations = [s["connected"] for s in samples
                   if s["connected"] is not None and settled <= s["t"] <= load_end]
    if report:
        problems += loadgen_problems(report, config.clients, populations)
    rss = None
    sanitizer_lines = []
    if alive_at_end:
        if status is None:
            problems.append(f"the server did not exit within {config.stop_timeout:g} s of "
                            "SIGTERM (killed with SIGKILL)")
        elif status == -signal.SIGTERM:
            problems.append("the server was killed by SIGTERM without running exit()"
                            + (": LeakSanitizer's exit-time check did not run"
                               if config.asan else ""))
        elif status != 0:
            problems.append(f"the server exited with status {status} after SIGTERM")
    if config.asan:
        sanitizer_lines = [line for line in server_stderr.splitlines()
                           if any(p in line for p in SANITIZER_PATTERNS)]
        if sanitizer_lines:
            problems.append(f"{len(sanitizer_lines)} sanitizer report line(s) in the server's "
                            "stderr")
    else:
        rss = rss_verdict(samples, config.warmup, load_end, config, cycles_per_minute,
                          acks_per_minute)
        if not rss["ok"]:
            problems += rss["reasons"]
        # What the idle server still holds in its heap after the load, beside what it held
        # before: a leak whatever RSS does (which malloc's free but resident pages blur).
        if heap_before and heap_after and rss.get("median"):
            grown = (heap_after["in_use"] - heap_before["in_use"]) / 1024
            if grown > rss["growth_bound"]:
                problems.append(f"the idle server holds {grown:,.0f} KiB more heap after the "
                                f"load than before, over {config.max_growth_pct:g} % of the "
                                f"median RSS")
    passed = not problems

    # The report.
    lines = [f"## {SECTION_TITLES[config.mode]}", ""]
    if config.note:
        lines += [f"**{config.note}**", ""]
    lines.append(f"**{'PASS' if passed else 'FAIL'}**"
                 + ("" if passed else ": " + "; ".join(problems)))
    lines.append("")
    common = ("no generator error of any kind, no emit left without its ack, no room-broadcast "
              "delivery missing on the WebSocket rooms, the population at 90 % of the target "
              "or more")
    stop = (f"the server, stopped with SIGTERM once idle, exits with status 0 within "
            f"{config.stop_timeout:g} s")
    if config.asan:
        lines.append(f"Checks: {common}; {stop} (LeakSanitizer's check runs at that exit) and "
                     "its stderr holds no `ERROR: AddressSanitizer`, `ERROR: LeakSanitizer` or "
                     "`runtime error:` line.")
    else:
        lines.append(f"Checks: {common}; {stop}; after the warm-up, the RSS line fitted by "
                     f"least squares rises by less than {config.max_growth_pct:g} % of the "
                     f"median RSS over the span and its slope stays under "
                     f"{config.max_slope:g} KiB/min; the idle server's heap in use after the "
                     f"load exceeds the one before by less than {config.max_growth_pct:g} % of "
                     "the median RSS (when gdb can read it).")
    lines.append("")
    lines.append(f"Run {started:%Y-%m-%d %H:%M} to {datetime.datetime.now():%H:%M}, "
                 f"{config.duration:g} s of load"
                 + (f", warm-up {config.warmup:g} s" if not config.asan else "")
                 + f", samples every {config.sample:g} s.")
    lines.append("")
    lines.append("- command: `" + shlex.join(["bench/soak.py"] + argv) + "`")
    for name, value in facts.items():
        lines.append(f"- {name}: {value}")
    lines.append("- server: `" + shlex.join(
        ([f"{k}={v}" for k, v in ASAN_ENV.items()] if config.asan else [])
        + [os.path.relpath(server_argv[0], ROOT)] + server_argv[1:]) + "`")
    lines.append("- generator: `" + shlex.join(
        [os.path.relpath(loadgen_argv[0], ROOT)] + loadgen_argv[1:]) + "`")
    lines.append(f"- logs: `{logdir}`")
    lines.append("")
    if report:
        lines += loadgen_table(report)
        lines.append("")
    if soak.get("missing_polling"):
        lines.append(f"Note: {soak['missing_polling']} deliveries to polling clients were lost, "
                     "not counted as a failure: a polling client that leaves loses what the "
                     "server still held for it (as with the reference server).")
        lines.append("")
    if rss:
        lines.append(f"RSS after the warm-up ({rss.get('samples', 0)} samples over "
                     f"{rss.get('span_min', 0):.1f} min):")
        lines.append("")
        if "median" in rss:
            bpc = rss["bytes_per_cycle"]
            bpa = rss["bytes_per_ack"]
            lines += [
                "| RSS after warm-up | |", "|---|---:|",
                f"| min / median / max | {mib(rss['min'])} / {mib(rss['median'])} / "
                f"{mib(rss['max'])} MiB |",
                f"| first / last | {mib(rss['first'])} / {mib(rss['last'])} MiB |",
                f"| least-squares slope | {rss['slope']:+,.1f} KiB/min (bound "
                f"{rss['slope_bound']:g}) |",
                f"| fitted growth over the span | {rss['growth']:+,.0f} KiB = "
                f"{rss['growth_pct']:+.2f} % of the median (bound {config.max_growth_pct:g} %"
                f" = {rss['growth_bound']:,.0f} KiB) |",
                "| slope per connection cycle / per ack | "
                + (f"{bpc:+.1f} B" if bpc is not None else "-") + " / "
                + (f"{bpa:+.2f} B" if bpa is not None else "-") + " |",
            ]
        lines.append("")
    if after is not None:
        lines.append(f"RSS of the idle server {min(config.settle, 10):g} s after the "
                     f"generator left: {mib(after)} MiB (peak sample "
                     f"{mib(max(s['rss'] for s in samples if s['rss']))} MiB).")
        lines.append("")
    if heap_before and heap_after:
        grown = heap_after["in_use"] - heap_before["in_use"]
        cycles = soak.get("disconnects", 0) + soak.get("killed", 0)
        lines.append(
            "Heap of the idle server (glibc `malloc_stats()`, called with gdb): in use "
            f"{heap_before['in_use'] / 1024:,.0f} KiB before the load, "
            f"{heap_after['in_use'] / 1024:,.0f} KiB after it ({grown / 1024:+,.0f} KiB"
            + (f", {grown / cycles:+.1f} B per connection cycle" if cycles else "")
            + "); malloc's arena "
            f"{heap_after['system'] / 1024:,.0f} KiB. What the server still holds once every "
            "client left bounds any per-connection leak; RSS above that is memory malloc "
            "keeps free inside its arena, resident since a peak touched it.")
        lines.append("")
    elif heap_note:
        lines.append(f"Heap of the idle server (glibc `malloc_stats()`): {heap_note}.")
        lines.append("")
    lines.append("Server stop: SIGTERM, exit status "
                 + (f"{'killed with SIGKILL' if status is None else status} after "
                    f"{stop_seconds:.1f} s" if alive_at_end else "- (it had already exited)")
                 + (f". Sanitizer report lines in its stderr: {len(sanitizer_lines)}."
                    if config.asan else "."))
    lines.append("")
    if config.asan:
        if sanitizer_lines:
            lines.append("```")
            lines += server_stderr.splitlines()[:80]
            lines.append("```")
            lines.append("")
    lines.append("RSS series (server; CPU in % of one core; `connected` from the generator):")
    lines.append("")
    row_period = 60 if config.duration >= 300 else config.sample
    lines += series_rows(samples, row_period)
    if after is not None:
        lines.append(f"| after | {mib(after)} | {mib(after)} | {mib(after)} | - | 0 |")
    lines.append("")
    lines.append("<details><summary>every sample, t (s): RSS (KiB)</summary>")
    lines.append("")
    lines.append(", ".join(f"{s['t']:.0f}: {s['rss']}" for s in samples))
    lines.append("")
    lines.append("</details>")
    lines.append("")
    write_section(config.out, config.mode, lines)
    log(f"{'PASS' if passed else 'FAIL'}; report section written to {config.out}")
    for problem in problems:
        log(f"  {problem}")
    return 0 if passed else 1


def main(argv):
    config = parse_args(argv)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        return run(config, argv)
    except SoakError as error:
        log(f"cannot run: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
