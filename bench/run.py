#!/usr/bin/python3
"""Runs the benchmark matrix: every scenario of qsio-loadgen against every server (ours, Node's
socket.io, python-socketio), each server started fresh per scenario, and writes RESULTS.md.

Standard library only, so that Debian's /usr/bin/python3 runs it as it is. See bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
CLK_TCK = os.sysconf("SC_CLK_TCK")
ALL_SERVERS = ["ours", "node", "python"]
# Room for the server's own descriptors (listening socket, event loop, logs) beside one per
# connection.
FD_MARGIN = 200
# Past this many connections to one server port the loopback runs out of source ports (the
# usual 32768-60999 range), so the generator spreads its connections over several addresses.
SOURCE_PORTS_PER_ADDRESS = 25000


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """A failure that ends one scenario run (not the matrix), with a message worth reading."""


# ---------------------------------------------------------------------------------------------
# Scenarios


class Scenario:
    """One row group of the report: a loadgen scenario with its sizes, run on each server.

    `kind` picks how it is measured: "idle" holds N connections and compares memory with the
    fresh server's; "load" measures CPU and memory over the generator's measurement window;
    "threads" is a load run of ours made twice, the second time with --ours-threads-args.
    """

    def __init__(self, name, kind, loadgen, args, title, quick_args=None, python_args=None,
                 servers=None):
        self.name = name
        self.kind = kind
        self.loadgen = loadgen
        self.args = args
        self.title = title
        self.quick_args = quick_args or {}
        # python-socketio is far slower; these overrides keep the matrix's length bounded.
        self.python_args = python_args or {}
        self.servers = servers

    def loadgen_args(self, server, quick):
        args = dict(self.args)
        if quick:
            args.update(self.quick_args)
        if server == "python":
            for key, value in self.python_args.items():
                # A cap, never a raise: --quick sizes stay as small as they are.
                args[key] = min(args[key], value) if key in args else value
        return args


SCENARIOS = [
    Scenario("idle-1k", "idle", "idle", {"clients": 1000},
             "Idle WebSocket connections: {clients:,}",
             quick_args={"clients": 200}),
    Scenario("idle-10k", "idle", "idle", {"clients": 10000},
             "Idle WebSocket connections: {clients:,}",
             quick_args={"clients": 1000}),
    Scenario("echo", "load", "echo", {"clients": 100, "window": 4, "payload": 32, "duration": 10},
             "Echo with ack (WebSocket, {payload}-byte text, "
             "{clients} clients × {window} outstanding)",
             quick_args={"duration": 3}, python_args={"duration": 5}),
    Scenario("binary", "load", "binary",
             {"clients": 100, "window": 4, "payload": 4096, "duration": 10},
             "Binary echo with ack (WebSocket, {payload}-byte attachment, "
             "{clients} clients × {window} outstanding)",
             quick_args={"duration": 3}, python_args={"duration": 5}),
    Scenario("broadcast-1k", "load", "broadcast",
             {"clients": 1000, "window": 1, "payload": 32, "duration": 10},
             "Broadcast to {clients:,} clients "
             "(one sender, next broadcast once all got the previous)",
             quick_args={"clients": 200, "duration": 3}, python_args={"duration": 5}),
    Scenario("rooms", "load", "rooms",
             {"clients": 1000, "rooms": 10, "window": 1, "payload": 32, "duration": 10},
             "Room fan-out ({clients:,} clients in {rooms} rooms, room-broadcast round-robin)",
             quick_args={"clients": 200, "duration": 3}, python_args={"duration": 5}),
    Scenario("churn", "load", "churn", {"clients": 50, "duration": 10},
             "Churn ({clients} workers: connect, CONNECT, one echo, disconnect)",
             quick_args={"clients": 20, "duration": 3}, python_args={"duration": 5}),
    Scenario("polling", "load", "polling",
             {"clients": 100, "window": 1, "payload": 32, "duration": 10},
             "Echo with ack over HTTP long-polling ({clients} clients, {payload}-byte text)",
             quick_args={"clients": 50, "duration": 3}, python_args={"duration": 5}),
    # A generator that outpaces two server threads needs many calls in flight.
    Scenario("echo-threads", "threads", "echo",
             {"clients": 200, "window": 8, "payload": 32, "duration": 10},
             "Ours: echo throughput with two worker threads against one "
             "({clients} clients × {window} outstanding)",
             quick_args={"duration": 3}, servers=["ours"]),
    Scenario("idle-50k", "idle", "idle", {"clients": 50000},
             "Idle WebSocket connections: {clients:,}",
             quick_args={"clients": 2000}, servers=["ours"]),
    Scenario("broadcast-50k", "load", "broadcast",
             {"clients": 50000, "window": 1, "payload": 32, "duration": 10},
             "Broadcast to {clients:,} clients",
             quick_args={"clients": 2000, "duration": 3}, servers=["ours"]),
]
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}


# ---------------------------------------------------------------------------------------------
# /proc readings


def read_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def read_memory(pid):
    """VmRSS, VmHWM and Pss in KiB (Pss is None where smaps_rollup is missing)."""
    result = {"rss_kib": None, "hwm_kib": None, "pss_kib": None}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                result["rss_kib"] = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                result["hwm_kib"] = int(line.split()[1])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    result["pss_kib"] = int(line.split()[1])
                    break
    except OSError:
        pass
    return result


class Sampler(threading.Thread):
    """Samples a process's CPU every `interval` seconds and its memory every `mem_every`
    samples, so that figures for the generator's measurement window can be read afterwards
    (the window's bounds are only known from the generator's report)."""

    def __init__(self, pid, interval=0.05, mem_every=10):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.mem_every = mem_every
        self.cpu = []  # (monotonic, ticks)
        self.mem = []  # (monotonic, memory dict)
        self._halt = threading.Event()

    def run(self):
        n = 0
        while not self._halt.is_set():
            try:
                self.cpu.append((time.monotonic(), read_cpu_ticks(self.pid)))
                if n % self.mem_every == 0:
                    self.mem.append((time.monotonic(), read_memory(self.pid)))
            except (OSError, ValueError):
                return
            n += 1
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()
        try:
            self.cpu.append((time.monotonic(), read_cpu_ticks(self.pid)))
            self.mem.append((time.monotonic(), read_memory(self.pid)))
        except (OSError, ValueError):
            pass

    def ticks_at(self, t):
        samples = self.cpu
        if not samples:
            return None
        if t <= samples[0][0]:
            return samples[0][1]
        for (t0, v0), (t1, v1) in zip(samples, samples[1:]):
            if t0 <= t <= t1:
                return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1
        return samples[-1][1]

    def cpu_seconds(self, t_start, t_end):
        a, b = self.ticks_at(t_start), self.ticks_at(t_end)
        return None if a is None or b is None else (b - a) / CLK_TCK

    def memory_at(self, t):
        if not self.mem:
            return {}
        return min(self.mem, key=lambda sample: abs(sample[0] - t))[1]


# ---------------------------------------------------------------------------------------------
# Servers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process, started fresh for one scenario on a free port."""

    STARTED = []  # every live Server, for the exit handler

    def __init__(self, kind, config, logdir, label, extra_args=()):
        self.kind = kind
        self.port = free_port()
        env = dict(os.environ)
        env["PORT"] = str(self.port)
        env["MAX_HTTP_BUFFER_SIZE"] = str(config.max_payload)
        if kind == "ours":
            env.update(config.ours_env)
            # --bench: the contract alone, as the reference servers serve it. --epoll: the
            # library's own event dispatcher (EpollEventDispatcher), which an application
            # installs with one call; bench/README.md says how to measure without it.
            argv = [config.ours_bin, "--port", str(self.port),
                    "--max-payload", str(config.max_payload), "--bench", "--epoll"]
            argv += config.ours_args + list(extra_args)
        elif kind == "node":
            argv = [config.node, os.path.join(BENCH, "servers", "node", "server.mjs")]
        elif kind == "python":
            argv = [config.python, os.path.join(BENCH, "servers", "python", "server.py")]
        else:
            raise BenchError(f"unknown server {kind}")
        self.argv = argv
        self.logpath = os.path.join(logdir, f"{label}.{kind}.server.log")
        self.logfile = open(self.logpath, "wb")
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                         stdout=self.logfile, stderr=subprocess.STDOUT)
        except OSError as error:
            raise BenchError(f"{kind}: cannot start {argv[0]}: {error}") from error
        Server.STARTED.append(self)
        self.pid = self.proc.pid
        self._wait_listening(config.start_timeout)

    def log_tail(self, lines=15):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-lines:]).rstrip()
        except OSError:
            return ""

    def _wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.log_tail()
                last = output.splitlines()[-1] if output else "no output"
                self.stop()
                raise BenchError(
                    f"{self.kind} server exited with status {self.proc.returncode} before "
                    f"listening: {last}\ncommand: {shlex.join(self.argv)}\noutput:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise BenchError(f"{self.kind} server did not listen on port {self.port} within "
                         f"{timeout} s; its output:\n{self.log_tail()}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()
        if self in Server.STARTED:
            Server.STARTED.remove(self)


def stop_all_servers():
    for server in list(Server.STARTED):
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - the exit path must reach every server
            pass


# ---------------------------------------------------------------------------------------------
# The generator


def loadgen_timeout(config, args):
    """The generator's --timeout, which also bounds its connect phase: large enough for the
    slowest server to take every handshake (a few hundred a second on a busy machine)."""
    return max(config.loadgen_timeout, int(args.get("clients", 0)) / 400 + 10)


def loadgen_argv(config, url, scenario_name, args):
    argv = [config.loadgen, "--url", url, "--scenario", scenario_name, "--json",
            "--threads", str(config.loadgen_threads),
            "--timeout", f"{loadgen_timeout(config, args):g}"]
    for key, value in args.items():
        argv += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    clients = int(args.get("clients", 0))
    if clients > SOURCE_PORTS_PER_ADDRESS and "source-addresses" not in args:
        count = min(254, clients // SOURCE_PORTS_PER_ADDRESS + 1)
        argv += ["--source-addresses", f"127.0.0.1-127.0.0.{count}"]
    return argv


def parse_json_output(text, what):
    text = text.strip()
    try:
        return json.loads(text[text.index("{"):])
    except (ValueError, json.JSONDecodeError) as error:
        raise BenchError(f"{what}: no JSON from qsio-loadgen ({error}); stdout was:\n"
                         f"{text[-2000:]}") from error


def run_loadgen(config, server, scenario_name, args, logpath):
    """Runs one generator pass; returns (report, launch time). CPU and memory of the
    measurement window are read from a Sampler afterwards with the report's timings."""
    argv = loadgen_argv(config, f"http://127.0.0.1:{server.port}", scenario_name, args)
    duration = float(args.get("duration", 10)) + float(args.get("warmup", 1))
    # Connect phase, warm-up, window and drain, each bounded by the generator's own timeout.
    timeout = duration + 3 * loadgen_timeout(config, args) + 30
    with open(logpath, "ab") as errlog:
        errlog.write(f"$ {shlex.join(argv)}\n".encode())
        errlog.flush()
        launched = time.monotonic()
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=errlog, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise BenchError(f"qsio-loadgen {scenario_name} did not finish within "
                             f"{timeout:.0f} s (log: {logpath})") from error
    if done.returncode != 0:
        raise BenchError(f"qsio-loadgen {scenario_name} exited with {done.returncode} "
                         f"(log: {logpath}); server alive: {server.alive()}\n"
                         f"{tail(logpath)}")
    return parse_json_output(done.stdout.decode(errors="replace"), scenario_name), launched


def tail(path, lines=10):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# Measurements


def window_of(report, launched):
    start = launched + float(report.get("connect_seconds", 0)) + float(
        report.get("warmup_seconds", 0))
    return start, start + float(report.get("duration_seconds", 0))


def warm_up(config, server, logpath):
    """A few connections and calls before the baseline, so lazily set-up code (JIT, imports,
    first-use tables) is not counted as per-connection memory."""
    run_loadgen(config, server, "echo",
                {"clients": 20, "duration": config.warmup, "warmup": 0}, logpath)
    time.sleep(1)


def measure_load(config, kind, scenario, args, logdir, extra_args=()):
    label = scenario.name + ("-mt" if extra_args else "")
    logpath = os.path.join(logdir, f"{label}.{kind}.loadgen.log")
    server = Server(kind, config, logdir, label, extra_args)
    try:
        before = read_memory(server.pid)
        sampler = Sampler(server.pid)
        sampler.start()
        args = dict(args)
        args.setdefault("warmup", config.warmup)
        report, launched = run_loadgen(config, server, scenario.loadgen, args, logpath)
        sampler.stop()
        if not server.alive():
            raise BenchError(f"{kind} server died during {scenario.name}:\n{server.log_tail()}")
        if not report.get("ops"):
            raise BenchError(f"the generator completed no operation in the window "
                             f"(log: {logpath})")
        t0, t1 = window_of(report, launched)
        cpu = sampler.cpu_seconds(t0, t1)
        return {
            "server": kind,
            "loadgen": report,
            "server_cpu_window_s": cpu,
            "server_cpu_total_s": sampler.cpu_seconds(launched, time.monotonic()),
            "memory_start": before,
            "memory_window_start": sampler.memory_at(t0),
            "memory_window_end": sampler.memory_at(t1),
            "memory_end": read_memory(server.pid),
            "argv": server.argv,
        }
    finally:
        server.stop()


def measure_idle(config, kind, scenario, args, logdir):
    label = scenario.name
    logpath = os.path.join(logdir, f"{label}.{kind}.loadgen.log")
    server = Server(kind, config, logdir, label)
    proc = None
    errlog = None
    try:
        warm_up(config, server, logpath)
        baseline = read_memory(server.pid)
        argv = loadgen_argv(config, f"http://127.0.0.1:{server.port}", "idle",
                            dict(args, **{"hold-until-stdin-closes": True}))
        errlog = open(logpath, "ab")
        errlog.write(f"$ {shlex.join(argv)}\n".encode())
        errlog.flush()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        ready = threading.Event()
        state = {"ready": None}

        def read_stderr():
            for raw in proc.stderr:
                if not errlog.closed:  # closed when the run was abandoned
                    errlog.write(raw)
                    errlog.flush()
                match = re.search(rb"READY (\d+)", raw)
                if match:
                    state["ready"] = int(match.group(1))
                    ready.set()
            ready.set()

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        # stdout is read from the start too: a pipe left unread could block the generator.
        out = []
        out_reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
        out_reader.start()
        connect_timeout = loadgen_timeout(config, args) + 30
        t_connect = time.monotonic()
        if not ready.wait(connect_timeout) or state["ready"] is None:
            raise BenchError(f"qsio-loadgen idle gave no READY within {connect_timeout:.0f} s "
                             f"(log: {logpath})\n{tail(logpath)}")
        connect_wall = time.monotonic() - t_connect
        # Lets the last handshakes' buffers and timers settle before reading memory.
        time.sleep(config.settle)
        cpu0, t0 = read_cpu_ticks(server.pid), time.monotonic()
        held = read_memory(server.pid)
        time.sleep(config.idle_hold)
        cpu1, t1 = read_cpu_ticks(server.pid), time.monotonic()
        held_end = read_memory(server.pid)
        proc.stdin.close()
        try:
            proc.wait(timeout=loadgen_timeout(config, args) + 60)
        except subprocess.TimeoutExpired as error:
            raise BenchError(f"qsio-loadgen idle did not exit after stdin closed "
                             f"(log: {logpath})") from error
        reader.join(5)
        out_reader.join(5)
        report = parse_json_output(b"".join(out).decode(errors="replace"), scenario.name)
        if not server.alive():
            raise BenchError(f"{kind} server died during {scenario.name}:\n{server.log_tail()}")
        return {
            "server": kind,
            "loadgen": report,
            "ready": state["ready"],
            "connect_wall_s": connect_wall,
            "baseline": baseline,
            "held": held,
            "held_end": held_end,
            "idle_cpu_s": (cpu1 - cpu0) / CLK_TCK,
            "idle_hold_s": t1 - t0,
            "argv": server.argv,
        }
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if errlog is not None:
            errlog.close()
        server.stop()


def measure(config, kind, scenario, logdir):
    args = scenario.loadgen_args(kind, config.quick)
    clients = int(args.get("clients", 0))
    needed = clients * (2 if scenario.loadgen == "polling" else 1) + FD_MARGIN
    if needed > config.nofile:
        raise BenchError(f"needs {needed:,} descriptors per process, the limit here is "
                         f"{config.nofile:,} (raise the hard RLIMIT_NOFILE, e.g. `ulimit -Hn "
                         f"{max(needed, 65536) * 2}` as root, and run again)")
    if scenario.kind == "idle":
        return measure_idle(config, kind, scenario, args, logdir)
    if scenario.kind == "threads":
        one = measure_load(config, kind, scenario, args, logdir)
        try:
            two = measure_load(config, kind, scenario, args, logdir,
                               extra_args=config.ours_threads_args)
        except BenchError as error:
            one["threads_error"] = str(error).splitlines()[0]
            two = None
        one["two_threads"] = two
        return one
    return measure_load(config, kind, scenario, args, logdir)


# ---------------------------------------------------------------------------------------------
# Figures


def fmt(value, digits=3):
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def ratio(value, reference):
    if value is None or reference in (None, 0):
        return None
    return value / reference


def idle_figures(r):
    n = r["loadgen"].get("clients_connected_end") or r["ready"] or 0
    base, held = r["baseline"], r["held"]

    def per_conn(key):
        if n <= 0 or base.get(key) is None or held.get(key) is None:
            return None
        return (held[key] - base[key]) / n

    return {
        "connected": n,
        "rss0_mib": (base["rss_kib"] or 0) / 1024,
        "rssn_mib": (held["rss_kib"] or 0) / 1024,
        "rss_per_conn_kib": per_conn("rss_kib"),
        "pss_per_conn_kib": per_conn("pss_kib"),
        "hwm_mib": (r["held_end"].get("hwm_kib") or 0) / 1024,
        "idle_cpu_pct": 100 * r["idle_cpu_s"] / r["idle_hold_s"] if r["idle_hold_s"] else None,
        "connect_s": r["loadgen"].get("connect_seconds"),
        "errors": r["loadgen"].get("errors_total"),
    }


def load_figures(r):
    lg = r["loadgen"]
    cpu = r["server_cpu_window_s"]
    ops = lg.get("ops") or 0
    dur = lg.get("duration_seconds") or 0
    lat = lg.get("latency_us") or {}
    f = {
        "ops": ops,
        "ops_per_s": lg.get("ops_per_second"),
        "server_cpu_s": cpu,
        "server_cpu_pct": 100 * cpu / dur if cpu is not None and dur else None,
        "ops_per_cpu_s": ops / cpu if cpu else None,
        "cpu_ms_per_op": 1000 * cpu / ops if cpu is not None and ops else None,
        "p50_ms": lat.get("p50", 0) / 1000 if lat else None,
        "p99_ms": lat.get("p99", 0) / 1000 if lat else None,
        "rss_mib": (r["memory_window_end"].get("rss_kib") or 0) / 1024,
        "hwm_mib": (r["memory_end"].get("hwm_kib") or 0) / 1024,
        "pss_mib": (r["memory_window_end"].get("pss_kib") or 0) / 1024,
        "loadgen_cpu_pct": lg.get("cpu_percent_window"),
        "errors": lg.get("errors_total"),
        "clients": lg.get("clients_connected"),
    }
    if lg.get("op") == "broadcast":
        deliveries = lg.get("deliveries") or 0
        f["deliveries_per_s"] = lg.get("deliveries_per_second")
        f["fanout"] = lg.get("fanout")
        f["missing"] = lg.get("missing")
        f["cpu_us_per_delivery"] = 1e6 * cpu / deliveries if cpu is not None and deliveries \
            else None
    return f


# Each table: (column title, figure key, higher is better?) -- the ratio to Node is printed for
# the marked ones.
LOAD_COLUMNS = {
    "ack": [("round trips/s", "ops_per_s", True), ("server CPU %", "server_cpu_pct", None),
            ("round trips per server CPU-s", "ops_per_cpu_s", True),
            ("p50 ms", "p50_ms", None), ("p99 ms", "p99_ms", None),
            ("RSS MiB", "rss_mib", None), ("peak RSS MiB", "hwm_mib", None)],
    "broadcast": [("broadcasts/s", "ops_per_s", True), ("fan-out", "fanout", None),
                  ("deliveries/s", "deliveries_per_s", True),
                  ("server CPU %", "server_cpu_pct", None),
                  ("server CPU ms per broadcast", "cpu_ms_per_op", False),
                  ("server CPU µs per delivery", "cpu_us_per_delivery", None),
                  ("p50 ms (last delivery)", "p50_ms", None), ("p99 ms", "p99_ms", None),
                  ("missing", "missing", None), ("peak RSS MiB", "hwm_mib", None)],
    "connection": [("cycles/s", "ops_per_s", True), ("server CPU %", "server_cpu_pct", None),
                   ("server CPU ms per cycle", "cpu_ms_per_op", False),
                   ("p50 ms", "p50_ms", None), ("p99 ms", "p99_ms", None),
                   ("RSS MiB at end", "rss_mib", None), ("peak RSS MiB", "hwm_mib", None)],
}
IDLE_COLUMNS = [("connected", "connected", None), ("RSS MiB, 0 conns", "rss0_mib", None),
                ("RSS MiB, N conns", "rssn_mib", None),
                ("RSS KiB per conn", "rss_per_conn_kib", False),
                ("Pss KiB per conn", "pss_per_conn_kib", False),
                ("idle CPU %", "idle_cpu_pct", None), ("connect s", "connect_s", None)]


def figures_of(scenario, result):
    if scenario.kind == "idle":
        return idle_figures(result)
    return load_figures(result)


def table(scenario, results, servers):
    """Markdown table, one row per server, with ratios to Node after the marked columns."""
    rows = {kind: figures_of(scenario, r) for kind, r in results.items() if isinstance(r, dict)}
    if scenario.kind == "idle":
        columns = IDLE_COLUMNS
    else:
        op = {"broadcast": "broadcast", "rooms": "broadcast", "churn": "connection"}
        columns = LOAD_COLUMNS[op.get(scenario.loadgen, "ack")]
    node = rows.get("node")
    head = ["server"]
    for title, _, better in columns:
        head.append(title)
        if better is not None and node is not None:
            head.append("× Node")
    head += ["errors", "generator CPU %"] if scenario.kind != "idle" else ["errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind in servers:
        r = results.get(kind)
        if r is None:
            continue
        if isinstance(r, str):
            lines.append(f"| {kind} | " + f"not measured: {r}".replace("\n", " ").replace(
                "|", "/") + " |" * (len(head) - 1))
            continue
        f = rows[kind]
        cells = [kind]
        for title, key, better in columns:
            cells.append(fmt(f.get(key)))
            if better is not None and node is not None:
                cells.append(fmt(ratio(f.get(key), node.get(key)), 2))
        cells.append(fmt(f.get("errors")))
        if scenario.kind != "idle":
            cells.append(fmt(f.get("loadgen_cpu_pct")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def threads_table(result):
    if not isinstance(result, dict):
        return f"not measured: {result}"
    one = load_figures(result)
    lines = ["| ours | round trips/s | server CPU % | round trips per server CPU-s | p99 ms |",
             "|---|---|---|---|---|",
             f"| one thread | {fmt(one['ops_per_s'])} | {fmt(one['server_cpu_pct'])} | "
             f"{fmt(one['ops_per_cpu_s'])} | {fmt(one['p99_ms'])} |"]
    if result.get("two_threads"):
        two = load_figures(result["two_threads"])
        lines.append(f"| with `{shlex.join(result['two_threads']['argv'][5:])}` | "
                     f"{fmt(two['ops_per_s'])} | {fmt(two['server_cpu_pct'])} | "
                     f"{fmt(two['ops_per_cpu_s'])} | {fmt(two['p99_ms'])} |")
    else:
        lines.append(f"\nThe two-thread run did not happen: {result.get('threads_error')}")
    if len(os.sched_getaffinity(0)) < 4:
        lines.append("\nFewer than four cores here: two server threads and the generator share "
                     "them, so this ratio says little.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Targets


def target_rows(results, quick):
    """(target, ours, node, verdict) rows; a verdict is PASS, FAIL or n/a (with why)."""

    def fig(name, kind):
        r = results.get(name, {}).get(kind)
        if not isinstance(r, dict):
            return None
        return figures_of(SCENARIO_BY_NAME[name], r)

    def compare(title, name, key, limit, better_higher, unit):
        ours, node = fig(name, "ours"), fig(name, "node")
        if ours is None or node is None or ours.get(key) is None or node.get(key) is None:
            return (title, "—", "—", f"n/a ({name} not measured on both)")
        rel = ratio(ours[key], node[key])
        ok = rel is not None and (rel >= limit if better_higher else rel <= limit)
        return (title, f"{fmt(ours[key])} {unit}", f"{fmt(node[key])} {unit}",
                f"{'PASS' if ok else 'FAIL'} ({fmt(rel, 2)}× Node)")

    rows = [
        compare("Echo round trips per server CPU-second ≥ 3× Node", "echo", "ops_per_cpu_s",
                3.0, True, "/CPU-s"),
        compare("Broadcast to 1,000 clients: server CPU per broadcast ≤ 0.7× Node",
                "broadcast-1k", "cpu_ms_per_op", 0.7, False, "ms"),
    ]
    idle = "idle-10k" if fig("idle-10k", "ours") and fig("idle-10k", "node") else "idle-1k"
    rows.append(compare(f"Memory per idle WebSocket connection ≤ 0.5× Node ({idle})", idle,
                        "rss_per_conn_kib", 0.5, False, "KiB"))

    idle50, b50 = fig("idle-50k", "ours"), fig("broadcast-50k", "ours")
    want = SCENARIO_BY_NAME["idle-50k"].loadgen_args("ours", quick)["clients"]
    if idle50 is None or b50 is None:
        why = results.get("idle-50k", {}).get("ours") or results.get("broadcast-50k", {}).get(
            "ours")
        why = why if isinstance(why, str) else "idle-50k and broadcast-50k not both run"
        rows.append(("50,000 idle WebSocket connections on ours, a broadcast reaching all",
                     "—", "", f"n/a ({why.splitlines()[0]})"))
    else:
        ok = (idle50["connected"] >= want and b50.get("clients", 0) >= want
              and b50.get("missing") == 0 and (b50.get("fanout") or 0) >= want)
        rows.append((f"{want:,} idle WebSocket connections on ours, a broadcast reaching all",
                     f"{idle50['connected']:,} held, {fmt(idle50['rssn_mib'])} MiB "
                     f"({fmt(idle50['rss_per_conn_kib'])} KiB each); broadcast fan-out "
                     f"{fmt(b50.get('fanout'))}, missing {b50.get('missing')}", "",
                     "PASS" if ok else "FAIL"))

    mt = results.get("echo-threads", {}).get("ours")
    title = "Two worker threads: echo throughput ≥ 1.7× one thread"
    if not isinstance(mt, dict):
        rows.append((title, "—", "", "n/a (echo-threads not run)"))
    elif not mt.get("two_threads"):
        rows.append((title, "—", "", f"n/a ({mt.get('threads_error')})"))
    else:
        one, two = load_figures(mt), load_figures(mt["two_threads"])
        rel = ratio(two["ops_per_s"], one["ops_per_s"])
        rows.append((title, f"{fmt(two['ops_per_s'])} vs {fmt(one['ops_per_s'])} round trips/s",
                     "", f"{'PASS' if rel and rel >= 1.7 else 'FAIL'} ({fmt(rel, 2)}×)"))
    return rows


# ---------------------------------------------------------------------------------------------
# Machine facts


def command_output(argv, cwd=None):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20,
                              cwd=cwd).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (or what platform knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_facts(config):
    facts = {}
    facts["CPU"] = cpu_model()
    usable = len(os.sched_getaffinity(0))
    facts["cores (online / usable by this run)"] = f"{os.cpu_count()} / {usable}"
    try:
        with open("/proc/meminfo") as f:
            facts["memory"] = f"{int(f.readline().split()[1]) // 1024:,} MiB"
    except OSError:
        pass
    facts["kernel"] = platform.release()
    try:
        with open("/etc/debian_version") as f:
            facts["Debian"] = f.read().strip()
    except OSError:
        pass
    facts["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    facts["Qt"] = command_output(["qtpaths6", "--qt-query", "QT_VERSION"]) or "?"
    cache = os.path.join(os.path.dirname(os.path.dirname(config.ours_bin)), "CMakeCache.txt")
    build_type, compiler = "?", "?"
    try:
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    build_type = line.split("=", 1)[1].strip()
                elif line.startswith("CMAKE_CXX_COMPILER:"):
                    compiler = line.split("=", 1)[1].strip()
    except OSError:
        pass
    version = command_output([compiler, "--version"]).splitlines() if compiler != "?" else []
    facts["ours"] = f"{os.path.relpath(config.ours_bin, ROOT)} ({build_type}, " \
        f"{version[0] if version else '?'})"
    if config.ours_env or config.ours_args:
        facts["ours run as"] = "`" + shlex.join(
            [f"{k}={v}" for k, v in config.ours_env.items()] + ["interop_server"]
            + config.ours_args) + "`"
    head = command_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT)
    dirty = command_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT)
    facts["source"] = f"commit {head or '?'}" + (" with uncommitted changes" if dirty else "")
    facts["Node"] = command_output([config.node, "--version"])
    try:
        with open(os.path.join(BENCH, "servers", "node", "node_modules", "socket.io",
                               "package.json")) as f:
            facts["socket.io (Node)"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        facts["socket.io (Node)"] = "not installed"
    facts["python"] = command_output(
        [config.python, "-c", "import sys; print(sys.version.split()[0])"])
    facts["python-socketio / python-engineio / aiohttp"] = command_output(
        [config.python, "-c",
         "from importlib.metadata import version as v; print(' / '.join(v(p) for p in "
         "('python-socketio', 'python-engineio', 'aiohttp')))"]) or "?"
    facts["descriptor limit (RLIMIT_NOFILE)"] = f"{config.nofile:,}"
    return facts


# ---------------------------------------------------------------------------------------------
# The report


def write_report(config, facts, results, started, finished, out):
    servers = config.servers
    lines = [
        "# QSocketIo benchmark results",
        "",
        "Written by `bench/run.py`. QSocketIo (\"ours\", `interop_server`) beside Node's "
        "socket.io and python-socketio, each serving the same small contract (echo with ack, "
        "broadcast, rooms) to the same load generator, `qsio-loadgen`, each started fresh for "
        "each scenario. Server CPU is utime + stime from `/proc/PID/stat` over the generator's "
        "measurement window, memory is VmRSS / VmHWM / Pss from `/proc`; \"× Node\" is the "
        "server's figure over Node's (above 1 is better for rates, below 1 for costs). How each "
        "figure is taken, and the choices made for each server, are in `bench/README.md`.",
        "",
    ]
    if config.note:
        lines += [f"**Note:** {config.note}", ""]
    lines += [
        f"Run from {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC"
        + (" with `--quick` (small sizes, seconds-long windows: not comparable to a full run)"
           if config.quick else "") + ", with:",
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
    lines += ["", "## Targets", ""]
    if config.quick:
        lines += ["With `--quick` the sizes are smaller than the targets name: these verdicts "
                  "only show that the runner computes them.", ""]
    lines += ["| target | ours | Node | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in target_rows(results, config.quick)]
    lines += ["", "## Scenarios", ""]
    if "python" in servers:
        caps = sorted({f"{k} {v}" for s in SCENARIOS if s.name in results
                       and (s.servers is None or "python" in s.servers)
                       for k, v in s.loadgen_args("python", config.quick).items()
                       if s.loadgen_args("ours", config.quick).get(k) != v})
        if caps:
            lines += [f"python-socketio runs with these caps, to keep the matrix short (its "
                      f"figures are per second or per operation, so they stay comparable): "
                      f"{', '.join(caps)}.", ""]
    for scenario in SCENARIOS:
        if scenario.name not in results:
            continue
        args = scenario.loadgen_args("ours", config.quick)
        flags = dict(args)
        flags.setdefault("warmup", config.warmup)
        if scenario.kind == "idle":
            flags = {"clients": args["clients"], "hold-until-stdin-closes": True}
        lines += [f"### {scenario.name}: {scenario.title.format(**args)}", "",
                  f"Generator: `qsio-loadgen --scenario {scenario.loadgen} --threads "
                  f"{config.loadgen_threads} "
                  + " ".join(f"--{k}" + ("" if v is True else f" {v}") for k, v in flags.items())
                  + "`", ""]
        if scenario.kind == "threads":
            lines.append(threads_table(results[scenario.name].get("ours")))
        else:
            lines.append(table(scenario, results[scenario.name], servers))
        lines.append("")
    # What each optimisation bought: kept by hand beside the code (the figures of each step were
    # taken before and after it), copied into every report.
    summary = os.path.join(BENCH, "optimizations-summary.md")
    if os.path.exists(summary):
        with open(summary) as f:
            lines += ["", f.read().rstrip(), ""]
    with open(out, "w") as f:
        f.write("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# Setup


def find_or_build(config, need_ours):
    """Finds interop_server and qsio-loadgen; builds the missing ones in build/."""
    build = os.path.join(ROOT, "build")
    ours = config.ours_bin or os.path.join(build, "tests", "interop_server")
    candidates = [config.loadgen] if config.loadgen else [
        os.path.join(build, "bench", "qsio-loadgen"),
        os.path.join(build, "bench", "loadgen", "qsio-loadgen"),
        os.path.join(ROOT, "build-bench", "bench", "qsio-loadgen"),
        os.path.join(ROOT, "build-bench", "bench", "loadgen", "qsio-loadgen")]
    loadgen = next((c for c in candidates if os.access(c, os.X_OK)), None)
    targets = []
    if need_ours and not os.access(ours, os.X_OK):
        if config.ours_bin:
            raise SystemExit(f"--ours-bin {ours} is not an executable")
        targets.append("interop_server")
    if loadgen is None:
        if config.loadgen:
            raise SystemExit(f"--loadgen {config.loadgen} is not an executable")
        targets.append("qsio-loadgen")
    if targets:
        log(f"building {' '.join(targets)} in {build} (RelWithDebInfo)")
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            subprocess.run(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True)
        subprocess.run(["cmake", "--build", build, "--target", *targets, "-j2"], check=True)
        loadgen = loadgen or next((c for c in candidates if os.access(c, os.X_OK)), None)
    if loadgen is None:
        raise SystemExit("qsio-loadgen was not found after the build")
    config.ours_bin, config.loadgen = ours, loadgen


def ensure_node_modules(config):
    node_dir = os.path.join(BENCH, "servers", "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "socket.io")):
        log("installing the Node server's packages (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=node_dir, check=True)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Runs the QSocketIo benchmark matrix against Node's socket.io and "
        "python-socketio and writes bench/RESULTS.md.")
    p.add_argument("--quick", action="store_true", help="small sizes, seconds-long windows")
    p.add_argument("--servers", default=",".join(ALL_SERVERS),
                   help="comma list of ours,node,python (default: all)")
    p.add_argument("--scenarios", default=None,
                   help="comma list (default: all: %s)" % ",".join(SCENARIO_BY_NAME))
    p.add_argument("--out", default=os.path.join(BENCH, "RESULTS.md"), help="report file")
    p.add_argument("--raw", default=None, help="also write every raw figure as JSON here")
    p.add_argument("--note", default="", help="a line put at the top of the report")
    p.add_argument("--from-raw", default=None, metavar="FILE",
                   help="write the report from a --raw file of an earlier run, running nothing")
    p.add_argument("--ours-bin", default=None, help="interop_server (default build/tests/...)")
    p.add_argument("--ours-args", default="", help="extra arguments for every run of ours")
    p.add_argument("--ours-env", action="append", default=[], metavar="NAME=VALUE",
                   help="environment for every run of ours (repeatable), e.g. QT_NO_GLIB=1")
    p.add_argument("--ours-threads-args", default="--worker-threads 2",
                   help="what echo-threads adds to ours for its two-thread run")
    p.add_argument("--loadgen", default=None, help="qsio-loadgen (default: found in build*/)")
    p.add_argument("--loadgen-threads", type=int, default=0,
                   help="generator threads (default: 1 on two cores or fewer, else 2)")
    p.add_argument("--loadgen-timeout", type=float, default=30, help="the generator's --timeout")
    p.add_argument("--warmup", type=float, default=None, help="seconds (default 2, quick 1)")
    p.add_argument("--settle", type=float, default=None,
                   help="idle: seconds between the last connection and the memory reading")
    p.add_argument("--idle-hold", type=float, default=None,
                   help="idle: seconds over which idle CPU is read")
    p.add_argument("--max-payload", type=int, default=16 * 1024 * 1024,
                   help="max_http_buffer_size given to every server")
    p.add_argument("--start-timeout", type=float, default=20, help="seconds for a server to listen")
    p.add_argument("--node", default=shutil.which("node") or "node")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="the interpreter that has python3-socketio and python3-aiohttp")
    config = p.parse_args(argv)
    config.servers = [s for s in config.servers.split(",") if s]
    for s in config.servers:
        if s not in ALL_SERVERS:
            p.error(f"unknown server {s!r} (known: {', '.join(ALL_SERVERS)})")
    if config.scenarios:
        config.scenarios = [s for s in config.scenarios.split(",") if s]
        for s in config.scenarios:
            if s not in SCENARIO_BY_NAME:
                p.error(f"unknown scenario {s!r} (known: {', '.join(SCENARIO_BY_NAME)})")
    else:
        config.scenarios = list(SCENARIO_BY_NAME)
    config.ours_args = shlex.split(config.ours_args)
    for item in config.ours_env:
        if "=" not in item:
            p.error(f"--ours-env wants NAME=VALUE, not {item!r}")
    config.ours_env = dict(item.split("=", 1) for item in config.ours_env)
    config.ours_threads_args = shlex.split(config.ours_threads_args)
    if config.loadgen_threads <= 0:
        config.loadgen_threads = 1 if len(os.sched_getaffinity(0)) <= 2 else 2
    config.warmup = config.warmup if config.warmup is not None else (1 if config.quick else 2)
    config.settle = config.settle if config.settle is not None else (1 if config.quick else 3)
    config.idle_hold = config.idle_hold if config.idle_hold is not None else (
        2 if config.quick else 5)
    config.command_line = shlex.join(
        [os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + list(argv))
    return config


def report_from_raw(config):
    with open(config.from_raw) as f:
        raw = json.load(f)
    for key in ("servers", "quick", "warmup", "loadgen_threads", "command_line"):
        setattr(config, key, raw["config"][key])
    config.note = config.note or raw["config"].get("note", "")
    started = datetime.datetime.fromisoformat(raw["started"])
    finished = datetime.datetime.fromisoformat(raw["finished"])
    write_report(config, raw["facts"], raw["results"], started, finished, config.out)
    log(f"wrote {config.out} from {config.from_raw}")
    return 0


def main(argv):
    config = parse_args(argv)
    if config.from_raw:
        return report_from_raw(config)
    config.nofile = raise_nofile()

    def on_signal(signum, _frame):
        stop_all_servers()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    find_or_build(config, "ours" in config.servers)
    if "node" in config.servers:
        ensure_node_modules(config)
    logdir = tempfile.mkdtemp(prefix="qsio-bench-")
    log(f"logs in {logdir}; servers {','.join(config.servers)}; "
        f"scenarios {','.join(config.scenarios)}")
    started = datetime.datetime.now(datetime.timezone.utc)
    facts = machine_facts(config)
    results = {}
    try:
        for name in config.scenarios:
            scenario = SCENARIO_BY_NAME[name]
            results[name] = {}
            for kind in config.servers:
                if scenario.servers and kind not in scenario.servers:
                    continue
                log(f"{name} on {kind}")
                t = time.monotonic()
                try:
                    results[name][kind] = measure(config, kind, scenario, logdir)
                    log(f"{name} on {kind}: done in {time.monotonic() - t:.0f} s")
                except BenchError as error:
                    results[name][kind] = str(error)
                    log(f"{name} on {kind}: FAILED: {error}")
    finally:
        stop_all_servers()
    finished = datetime.datetime.now(datetime.timezone.utc)
    facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    # The raw figures first, so that a run is never lost to a fault in the report's rendering.
    kept = {k: getattr(config, k) for k in
            ("servers", "quick", "warmup", "loadgen_threads", "command_line", "note")}
    raw = {"config": kept, "started": started.isoformat(), "finished": finished.isoformat(),
           "facts": facts, "results": results}
    for path in filter(None, [os.path.join(logdir, "raw.json"), config.raw]):
        with open(path, "w") as f:
            json.dump(raw, f, indent=1, default=str)
    write_report(config, facts, results, started, finished, config.out)
    log(f"wrote {config.out} (logs in {logdir})")
    failed = [f"{n}/{k}" for n, rs in results.items() for k, r in rs.items() if isinstance(r, str)]
    if failed:
        log(f"not measured: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
