#!/usr/bin/env python3
"""Measures threadkit beside its peers and CPython; writes BENCHMARKS.md and benches/chart.svg.

Run from anywhere in the repository, with Rust and Python 3 installed:

    python3 benches/report.py            # the full report (3 interleaved rounds)
    python3 benches/report.py --quick    # a few seconds per benchmark, one round

In order, it:

1. makes sure a pinned matplotlib is importable from a private venv in target/bench-venv
   (created and filled with pip on first use; --no-chart skips the chart and this step);
2. builds the criterion benches (`cargo bench --no-run`);
3. runs every criterion bench (benches/*.rs), each followed at once by the CPython script that
   times the same operations (benches/cpython_*.py --json), round after round, so that every
   ratio compares two measurements taken minutes apart on a machine whose speed swings;
   then measures again, `--confirm N` more times (full: 2, quick: 0), every criterion group
   with a row within CONFIRM_BAND (15%) of its target on either side, as extra rounds: one
   round near the line says little either way on these machines;
4. builds benches/matrix.rs, which is not a criterion bench but its own program (the queue
   matrix: every queue kind at capacities 1 to unbounded and 1x1 to 8x8 threads, the
   oversubscribed rows and the large backlogs), and runs it once (quick: `--rounds 2 --ms 15`,
   full: `--rounds 7 --ms 100`) with `--csv` into the results directory; then, with
   `--confirm N`, runs the cells and rows within 15% of parity again (`--cell`, N times the
   rounds) and adds their runs to the CSV as later rounds;
5. reads criterion's `raw.csv` files (<criterion home>/rN/<benchmark>/new/raw.csv: criterion's
   `csv_output` feature, the output its user guide documents as stable; the median of the
   samples' time per iteration, divided by the group's throughput elements, which is the
   median criterion prints), the scripts' JSON and the matrix's CSV (each cell: the median of
   the per-round ratios to the best peer; and, where the CSV has the cache-line round trips
   measured before and after each round, the ratios of the rounds that ran with the two
   CPUs far apart, apart from the others), and writes BENCHMARKS.md and the chart (the
   per-operation ratios, and a heat map of each queue kind's matrix).

Crate versions and bench targets come from `cargo metadata` (the resolved dependency graph).

Every ratio is a ratio of times per operation (for queues: per item), taken within one round
and then the median over the rounds. threadkit / peer below 1 means threadkit is faster;
CPython / threadkit is how many times longer CPython takes.

`--bench NAME` runs only some benches (`--bench matrix` only the matrix; `--matrix-only TEXT`
keeps the matrix cells whose name, like `fifo 1x1 cap 16`, contains TEXT; `--no-matrix` skips
it; `--matrix-also MACHINE CSV` adds the tables of a matrix the prebuilt binary wrote with
`--csv` on another machine, such as one with many cores). `--from DIR` renders a run saved in
DIR (the results directory a run prints) without measuring anything; the test suite uses it on
a small fixture (tests/fixtures/bench_report). `--from DIR --show-confirm` prints what the
second look (`--confirm`) would measure again in that run.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The chart's plotting library, pinned so that every machine draws the same chart.
MATPLOTLIB = "matplotlib==" + ("3.10.9" if sys.version_info >= (3, 10) else "3.9.4")

# Criterion settings and rounds per mode. Quick: a few seconds per benchmark, for development.
MODES = {
    "quick": {"warm_up": 0.5, "measurement": 1.0, "rounds": 1, "confirm": 0,
              "cpython": ["--quick"]},
    "full": {"warm_up": 1.0, "measurement": 3.0, "rounds": 3, "confirm": 2, "cpython": []},
}

# After the rounds, every operation and matrix row whose ratio lies within this fraction of
# its target, on either side, is measured again `confirm` more times (`--confirm N`) and
# reported as the median over all its runs: between two sittings of this machine a
# contended benchmark moves 10-30% and a small-capacity queue cell flips between a fast and
# a slow mode, so one round near the line says little either way. Rows far from the line
# are not measured again.
CONFIRM_BAND = 0.15

# The criterion benches, each with the CPython script that times the same operations (run
# right after it). Benches listed in Cargo.toml but not here run too, after these.
SUITE = [
    ("limits", None),
    ("lock", "cpython_baseline.py"),
    ("thread", None),
    ("rlock_condition", "cpython_rlock_condition.py"),
    ("primitives", "cpython_primitives.py"),
    ("queue", "cpython_queue.py"),
    ("rwlock", None),
    ("condvar", None),
    ("spawn", None),
    ("executor", "cpython_executor.py"),
    ("observe_graph", None),
]

# Not a criterion bench: benches/matrix.rs is its own program (the queue matrix and the
# oversubscribed rows). report.py builds it and runs it once per report, after the rounds,
# with --csv into <results>/matrix/matrix.csv (see MATRIX_MODES: its --rounds and --ms).
MATRIX = "matrix"
MATRIX_MODES = {"quick": {"rounds": 2, "ms": 15}, "full": {"rounds": 7, "ms": 100}}
# The matrix's axes, in the order the tables show them; capacity 0 is unbounded.
MATRIX_KINDS = [("fifo", "FIFO `Queue`"), ("lifo", "`LifoQueue`"),
                ("priority", "`PriorityQueue`")]
MATRIX_SHAPES = [(1, 1), (2, 2), (4, 4), (8, 8)]
MATRIX_CAPS = [1, 2, 10, 16, 64, 1024, 0]
MATRIX_COLUMNS = ["kind", "producers", "consumers", "cap", "imp", "items_per_s", "round",
                  "items", "wall_ns", "cpu_ns", "line_ns", "line_after_ns"]
# A matrix round "ran far" (a virtual machine whose host had put its two CPUs on distant cores
# for a while) when the cache-line round trips measured before and after it (line_ns,
# line_after_ns: see line_round_trip in benches/matrix.rs) were both above this many times
# the median of the whole run; "near" when both were at most that; neither when they
# disagree. The median, not the lowest: a host may also put them on one core's two
# hyperthreads for a while.
FAR_LINE = 2.0
# The oversubscribed rows of the matrix binary: CSV kind -> (title, unit of one operation).
OVERSUBSCRIBED = {
    "oversubscribed_mutex": ("`Mutex<u64>` += 1, 16 threads", "op"),
    "oversubscribed_barrier": ("`Barrier`, 8 parties", "cycle"),
    "oversubscribed_queue": ("FIFO queue 4x4, capacity 64", "item"),
}
# The large-backlog rows of the matrix binary (a fixed 2 000 000 items through unbounded
# queues): CSV kind -> (title, unit of one operation).
BACKLOG = {
    "backlog_priority_1x1": ("`PriorityQueue` 1x1 unbounded, 2 000 000 items", "item"),
    "backlog_priority_4x4": ("`PriorityQueue` 4x4 unbounded, 2 000 000 items", "item"),
    "backlog_fifo_1x1": ("FIFO `Queue` 1x1 unbounded, 2 000 000 items", "item"),
}

# The hardware floors measured by benches/limits.rs.
CAS = "limit_uncontended_cas_store"
LINE = "limit_cache_line_round_trip"
FUTEX = "limit_futex_wake_round_trip"
FLOORS = {
    CAS: "one uncontended compare-exchange + store",
    LINE: "cache-line round trip between two threads",
    FUTEX: "futex wake round trip between two threads",
}

MUTEX_CONDVAR = ["parking_lot_mutex_condvar", "std_mutex_condvar"]
QUEUE_PEERS = ["crossbeam", "flume", "std_mpsc", "parking_lot"]
RWLOCK_PEERS = ["std_rwlock", "parking_lot_rwlock"]
CONDVAR_PEERS = ["std_condvar", "parking_lot_condvar"]
# benches/executor.rs's pools with futures (rayon has none: it is in tasks_no_futures).
POOL_PEERS = ["threadpool", "crossbeam+parking_lot"]


def op(group, title, threadkit, peers, floor=None, target=None, refs=(), peer_map=None):
    """One operation (a criterion group) and what the report compares in it.

    `threadkit`: the threadkit functions, one summary row each; `peers`: the functions of
    other libraries, whose fastest is "the best peer" (`peer_map` narrows them for some
    threadkit functions); `refs`: shown, never the best peer; `floor`: the limits.rs group
    under it; `target`: (factor, [peer functions], text, [threadkit functions it applies to]
    or None for all) meaning time <= factor x the fastest of those peers, or
    ("ns", bound, text, fns) meaning time <= bound.
    """
    return {"group": group, "title": title, "threadkit": threadkit, "peers": peers,
            "refs": list(refs), "floor": floor, "target": target, "peer_map": peer_map or {}}


# A ratio this little over its target is reported as "within noise", not as a gap: the
# median of a criterion run moves about that much between runs.
NOISE = 0.02


FAMILIES = [
    ("Lock and Mutex", [
        op("uncontended_pair", "Lock acquire + release, uncontended",
           ["threadkit_Lock_acquire_release", "threadkit_Lock_guard"],
           ["std_Mutex_lock_unlock", "parking_lot_RawMutex_lock_unlock"], CAS,
           (1.0, ["std_Mutex_lock_unlock", "parking_lot_RawMutex_lock_unlock"],
            "<= faster of std, parking_lot", None),
           refs=["floor_cas_store"]),
        op("mutex_u64_increment", "Mutex<u64>: lock, += 1, unlock",
           ["threadkit_Mutex"], ["std_Mutex", "parking_lot_Mutex"], CAS,
           (1.0, ["std_Mutex", "parking_lot_Mutex"], "<= faster of std, parking_lot", None)),
        op("contended_2_threads", "Lock, 2 threads hammering (per operation)",
           ["threadkit_Lock", "threadkit_Mutex"], ["std_Mutex", "parking_lot_Mutex"], LINE,
           (1.0, ["std_Mutex", "parking_lot_Mutex"], "<= faster of std, parking_lot", None)),
    ]),
    ("Threads", [
        op("start_join", "Thread start + join",
           ["threadkit_Thread_start_join", "threadkit_start_new_thread_handshake"],
           ["std_spawn_join", "std_named_spawn_join"], FUTEX,
           (1.1, ["std_spawn_join"], "<= 1.1 x std spawn + join",
            ["threadkit_Thread_start_join"])),
        op("thread_create", "Thread::new, never started", ["threadkit_Thread_new"], []),
        op("current_thread", "current_thread() / get_ident()",
           ["threadkit_current_thread", "threadkit_get_ident"],
           ["std_thread_current", "std_thread_current_id"], CAS,
           ("ns", 5.0, "a few ns (<= 5 ns)", ["threadkit_current_thread"]),
           peer_map={"threadkit_current_thread": ["std_thread_current"],
                     "threadkit_get_ident": ["std_thread_current_id"]}),
    ]),
    ("RLock and Condition", [
        op("rlock_uncontended_pair", "RLock acquire + release, uncontended",
           ["threadkit_rlock_acquire_release", "threadkit_rlock_guard",
            "threadkit_reentrant_mutex"],
           ["parking_lot_reentrant_mutex"], CAS,
           (1.0, ["parking_lot_reentrant_mutex"], "<= parking_lot ReentrantMutex", None),
           refs=["threadkit_lock_guard", "std_mutex"]),
        op("rlock_recursive_depth2", "RLock taken twice (recursion depth 2)",
           ["threadkit_rlock", "threadkit_reentrant_mutex"],
           ["parking_lot_reentrant_mutex"], CAS),
        op("condition_ping_pong_round_trip", "Condition ping-pong, one round trip",
           ["threadkit_condition_rlock", "threadkit_condition_lock"],
           ["parking_lot_condvar", "std_condvar"], FUTEX,
           (1.0, ["parking_lot_condvar"], "<= parking_lot Condvar", None)),
        op("notify_one_no_waiter", "Condition notify(1) with no waiter",
           ["threadkit_condition_rlock", "threadkit_condition_lock"],
           ["parking_lot_condvar", "std_condvar"]),
    ]),
    ("Semaphore, Event, Barrier, Local", [
        op("semaphore_acquire_release", "Semaphore acquire + release, uncontended",
           ["threadkit", "threadkit_bounded", "threadkit_guard"], MUTEX_CONDVAR, CAS,
           (0.5, MUTEX_CONDVAR, "<= half of the faster Mutex + Condvar semaphore", None)),
        op("semaphore_handoff", "Semaphore hand-off between 2 threads, round trip",
           ["threadkit"], MUTEX_CONDVAR, FUTEX),
        op("semaphore_reply_after_work",
           "Semaphore request + reply after 5 µs of work, round trip",
           ["threadkit"], MUTEX_CONDVAR, FUTEX,
           (1.0, MUTEX_CONDVAR, "<= faster Mutex + Condvar semaphore", None)),
        op("event_set", "Event set (already set)", ["threadkit"], MUTEX_CONDVAR, CAS,
           (0.5, MUTEX_CONDVAR, "<= half of the faster Mutex + Condvar event", None)),
        op("event_set_clear", "Event set + clear", ["threadkit"], MUTEX_CONDVAR, CAS,
           (0.5, MUTEX_CONDVAR, "<= half of the faster Mutex + Condvar event", None)),
        op("event_is_set", "Event is_set", ["threadkit"], MUTEX_CONDVAR, CAS,
           (0.5, MUTEX_CONDVAR, "<= half of the faster Mutex + Condvar event", None)),
        op("event_wait_on_set", "Event wait on a set event", ["threadkit"], MUTEX_CONDVAR, CAS,
           (0.5, MUTEX_CONDVAR, "<= half of the faster Mutex + Condvar event", None)),
        op("barrier2_cycle", "Barrier(2), one cycle of 2 threads", ["threadkit"], ["std"], FUTEX,
           (1.0, ["std"], "<= std Barrier", None)),
        op("local_with", "Local value read + write", ["threadkit"], ["std_thread_local"]),
    ]),
    ("Queues (time per item)", [
        op(f"fifo_{pc}_{b}", f"Queue {pc.upper()} {b.replace('1024', ' 1024')}",
           ["threadkit"] + (["threadkit_simple"] if b == "unbounded" else []),
           QUEUE_PEERS, LINE,
           (1.0, QUEUE_PEERS, "throughput >= best of crossbeam, flume, std mpsc, "
            "parking_lot Mutex<VecDeque>", None))
        for pc in ["1p1c", "2p2c"] for b in ["bounded1024", "unbounded"]
    ] + [
        op(f"priority_{pc}_bounded1024", f"PriorityQueue {pc.upper()} bounded 1024",
           ["threadkit"], ["parking_lot"], LINE,
           (1.0, ["parking_lot"], "throughput >= parking_lot Mutex<BinaryHeap>", None))
        for pc in ["1p1c", "2p2c"]
    ] + [
        op("queue_reply_round_trip", "request + reply through two unbounded queues",
           ["threadkit", "threadkit_simple"], QUEUE_PEERS, FUTEX,
           (1.0, QUEUE_PEERS, "<= best of crossbeam, flume, std mpsc, "
            "parking_lot Mutex<VecDeque>", None)),
        op("queue_pipeline_busy_consumer",
           "Queue(10), a consumer busy 10 µs per item (time per item)",
           ["threadkit"], QUEUE_PEERS, None,
           (1.0, QUEUE_PEERS, "<= best of crossbeam, flume, std mpsc, "
            "parking_lot Mutex<VecDeque>", None)),
    ]),
]

FAMILIES += [
    ("RwLock", [
        op(group, title, ["threadkit_rwlock"], RWLOCK_PEERS, floor,
           (1.0, RWLOCK_PEERS, "<= faster of std, parking_lot", None))
        for group, title, floor in [
            ("rwlock_uncontended_read_pair", "RwLock read + unlock, uncontended", CAS),
            ("rwlock_uncontended_write_pair", "RwLock write + unlock, uncontended", CAS),
            ("rwlock_read_mostly_2t", "RwLock read-mostly, 2 threads (per operation)", LINE),
            ("rwlock_read_mostly_16t", "RwLock read-mostly, 16 threads (per operation)", None),
            ("rwlock_write_heavy_4t", "RwLock write-heavy, 4 threads (per operation)", None),
        ]
    ]),
    ("Condvar (over a MutexGuard)", [
        op("condvar_ping_pong_round_trip", "Condvar ping-pong, one round trip",
           ["threadkit_condvar"], CONDVAR_PEERS, FUTEX,
           (1.0, CONDVAR_PEERS, "<= faster of std, parking_lot Condvar", None)),
        op("condvar_notify_one_no_waiter", "Condvar notify_one with no waiter",
           ["threadkit_condvar"], CONDVAR_PEERS, CAS),
    ]),
    ("spawn, scope, owned permits and guards", [
        op("spawn_join_value", "spawn + join for the value",
           ["threadkit_spawn_join", "threadkit_Thread_start_join"], ["std_named_spawn_join"],
           FUTEX, (1.1, ["std_named_spawn_join"], "<= 1.1 x std spawn + join",
                   ["threadkit_spawn_join"])),
        op("scope_4_threads", "scope with 4 borrowing threads", ["threadkit_scope"],
           ["std_scope"], FUTEX, (1.1, ["std_scope"], "<= 1.1 x std::thread::scope", None)),
        op("semaphore_permit_pair", "Owned permit and Arc guard, uncontended pair",
           ["threadkit_acquire_owned", "threadkit_lock_arc"], ["parking_lot_lock_arc"], CAS,
           refs=["threadkit_guard", "threadkit_lock", "parking_lot_lock"],
           peer_map={"threadkit_acquire_owned": [],
                     "threadkit_lock_arc": ["parking_lot_lock_arc"]}),
    ]),
    ("ThreadPoolExecutor (time per task)", [
        op("tasks_with_futures", "100 000 tasks, each with its future", ["threadkit"],
           POOL_PEERS, None,
           (1.0, POOL_PEERS, "throughput >= best of threadpool, crossbeam pool", None)),
        # Without futures: `execute` (fire-and-forget) and a scope's `spawn`. `submit` and a
        # scope's `submit` make a future per task even when it is dropped: reference rows.
        op("tasks_no_futures", "100 000 tasks without futures",
           ["threadkit execute+wait_idle", "threadkit scope spawn"],
           ["rayon scope", "rayon spawn+latch", "threadpool execute+join"], None,
           (1.0, ["rayon scope"], "throughput >= rayon::scope", None),
           refs=["threadkit submit+wait_idle", "threadkit scope"]),
        # 16 workers: on a small machine, more workers than cores (most of them asleep).
        op("tasks_16_workers", "100 000 tasks on 16 workers, without futures",
           ["threadkit execute+wait_idle"], ["rayon scope", "threadpool execute+join"], None,
           (1.0, ["rayon scope", "threadpool execute+join"],
            "throughput >= best of rayon::scope, threadpool", None),
           refs=["threadkit submit+result"]),
        op("round_trip", "submit + result round trip on an idle pool",
           ["threadkit submit+result"], ["crossbeam+parking_lot", "threadpool+mpsc"], FUTEX,
           (1.1, ["Semaphore hand-off"], "<= 1.1 x threadkit's Semaphore hand-off", None),
           refs=["Semaphore hand-off"]),
    ]),
    # The observability's graph searches: no peer does this, so times only.
    ("Observability (times only)", [
        op("observe_graph/wait_for_1000_threads", "wait-for graph of 1000 threads",
           ["build_and_search", "search", "search_one_ring"], []),
        op("observe_graph/lock_order_known_edge", "lock-order graph, an edge already known",
           ["LockOrderGraph::insert_edge"], [], refs=["std HashSet::contains"]),
    ]),
]

PEER_LABELS = {"parking_lot": "parking_lot Mutex<BinaryHeap>"}


class ReportError(Exception):
    """A problem the user must fix; printed without a traceback."""


# ----------------------------------------------------------------------------------------
# Running


def log(msg):
    print(f"[report] {msg}", file=sys.stderr, flush=True)


def cargo_metadata(deps=False):
    """`cargo metadata --format-version 1` for this repository (`--no-deps` unless `deps`)."""
    cmd = ["cargo", "metadata", "--format-version", "1"] + ([] if deps else ["--no-deps"])
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    except OSError as e:
        raise ReportError(f"cannot run cargo ({e}); is Rust (cargo) installed and on PATH?")
    if r.returncode != 0:
        raise ReportError(f"`{shlex.join(cmd)}` failed:\n{r.stderr.strip()[-1500:]}")
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise ReportError(f"`{shlex.join(cmd)}` printed no JSON ({e})")


def root_package(md):
    """The package whose manifest is this repository's Cargo.toml, from cargo metadata."""
    manifest = (ROOT / "Cargo.toml").resolve()
    for pkg in md.get("packages", []):
        if Path(pkg["manifest_path"]).resolve() == manifest:
            return pkg
    raise ReportError(f"cargo metadata lists no package for {manifest}")


def target_dir():
    """cargo's target directory (honours CARGO_TARGET_DIR and config)."""
    try:
        return Path(cargo_metadata()["target_directory"])
    except KeyError as e:
        raise ReportError(f"cargo metadata has no target directory ({e!r})")


def crate_versions():
    """{crate name: version} of threadkit's own dependencies (normal, dev and target-specific),
    as cargo resolved them: from the root's node in `cargo metadata`'s resolve graph, so a
    crate that Cargo.lock holds in two versions (lock_api 0.4 for a peer, 0.5 for threadkit)
    shows the one threadkit builds against."""
    md = cargo_metadata(deps=True)
    try:
        root = root_package(md)["id"]
        packages = {p["id"]: p for p in md["packages"]}
        node = next(n for n in md["resolve"]["nodes"] if n["id"] == root)
        return {packages[d["pkg"]]["name"]: packages[d["pkg"]]["version"] for d in node["deps"]}
    except (KeyError, TypeError, StopIteration) as e:
        raise ReportError(f"cargo metadata's resolve graph lacks threadkit's node ({e!r})")


def ensure_matplotlib(venv):
    """The python of a venv holding the pinned matplotlib; creates and fills it if needed."""
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    want = MATPLOTLIB.split("==")[1]
    check = [str(py), "-c", "import matplotlib; print(matplotlib.__version__)"]
    if py.exists():
        r = subprocess.run(check, capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == want:
            return py
    log(f"installing {MATPLOTLIB} into {venv} for the chart (once)")
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", MATPLOTLIB],
    ]
    for step in steps:
        r = subprocess.run(step, capture_output=True, text=True)
        if r.returncode != 0:
            raise ReportError(
                f"could not set up the chart's plotting library: `{shlex.join(step)}` failed:\n"
                f"{(r.stderr or r.stdout).strip()[-1500:]}\n"
                "The chart needs Python's venv module (Debian/Ubuntu: apt-get install "
                f"python3-venv) and pip access to PyPI for {MATPLOTLIB}. "
                "Run with --no-chart to write BENCHMARKS.md without the chart.")
    r = subprocess.run(check, capture_output=True, text=True)
    if r.returncode != 0 or r.stdout.strip() != want:
        raise ReportError(f"{MATPLOTLIB} installed into {venv} but does not import: "
                          f"{r.stderr.strip()[-800:]}")
    return py


def bench_names():
    """The package's bench targets (from cargo metadata), in SUITE order first, then the rest."""
    names = [t["name"] for t in root_package(cargo_metadata())["targets"]
             if "bench" in t["kind"]]
    ordered = [(b, s) for b, s in SUITE if b in names]
    ordered += [(b, None) for b in names if b not in dict(SUITE)]
    return ordered


def run_logged(cmd, log_path, env=None):
    """Runs `cmd` from the repository root with output to `log_path`; returns (code, text)."""
    with open(log_path, "w") as f:
        f.write(f"$ {shlex.join(cmd)}\n")
        f.flush()
        r = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env)
    return r.returncode, Path(log_path).read_text(errors="replace")


def machine_info(python):
    """CPU, cores, kernel, compiler and interpreter versions, peer crate versions."""
    cpu = "unknown CPU"
    try:
        # The first CPU's fields: a VM often names only the vendor ("Intel(R) Xeon(R)
        # Processor"), so the family and model numbers tell two machine kinds apart.
        fields = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        if "model name" in fields:
            cpu = fields["model name"]
            if "cpu family" in fields and "model" in fields:
                cpu += f" (family {fields['cpu family']}, model {fields['model']})"
    except OSError:
        cpu = platform.processor() or cpu
    rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip()
    py = subprocess.run([python, "-c", "import platform, sys; "
                         "print(platform.python_implementation(), sys.version.split()[0])"],
                        capture_output=True, text=True).stdout.strip()
    crates = crate_versions()
    peers = ", ".join(f"{c} {crates[c]}" for c in
                      ["parking_lot", "parking_lot_core", "lock_api", "crossbeam-channel",
                       "flume", "thread_local", "criterion"] if c in crates)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "rustc": rustc or "unknown rustc",
        "python": py or "unknown",
        "crates": peers,
    }


def measure(args, mode, results, own_dir):
    """Runs the benches and the CPython scripts into `results`; returns the run's metadata."""
    settings = dict(MODES[mode])
    if args.rounds:
        settings["rounds"] = args.rounds
    if args.confirm is not None:
        settings["confirm"] = args.confirm
    suite = bench_names()
    if args.bench:
        unknown = set(args.bench) - {b for b, _ in suite}
        if unknown:
            raise ReportError(f"no such bench in Cargo.toml: {', '.join(sorted(unknown))}")
        suite = [(b, s) for b, s in suite if b in args.bench]
    # Clear the previous run, but only in a directory this script made.
    marker = results / ".threadkit-bench-report"
    if not own_dir and results.exists() and any(results.iterdir()) and not marker.exists():
        raise ReportError(f"{results} is not empty and was not made by report.py; "
                          "choose another --results directory")
    results.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by benches/report.py; cleared at the start of each run\n")
    for sub in ["criterion", "cpython", "logs", "matrix"]:
        shutil.rmtree(results / sub, ignore_errors=True)
        (results / sub).mkdir(parents=True)
    meta = {
        "mode": mode,
        "command": "python3 benches/report.py" + (" " + shlex.join(args.argv) if args.argv else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "warm_up": settings["warm_up"],
        "measurement": settings["measurement"],
        "rounds": settings["rounds"],
        "confirm": {"rounds": settings["confirm"], "groups": [], "cells": []},
        "partial": bool(args.bench or args.filter or args.matrix_only or args.no_matrix),
        "machine": machine_info(args.python),
        "load_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "probes": [],
        "failures": [],
        "notes": [],
    }
    started = time.monotonic()
    with_matrix = any(b == MATRIX for b, _ in suite) and not args.no_matrix
    suite = [(b, s) for b, s in suite if b != MATRIX]

    if suite:
        log("building the benches (cargo bench --no-run)")
        build = ["cargo", "bench", "--no-run"] + [a for b, _ in suite for a in ("--bench", b)]
        code, out = run_logged(build, results / "logs" / "build.log")
        if code != 0:
            raise ReportError(f"the benches do not build:\n{out[-3000:]}")
    matrix_exe = build_matrix(results) if with_matrix else None

    crit_args = ["--warm-up-time", str(settings["warm_up"]),
                 "--measurement-time", str(settings["measurement"]),
                 "--noplot", "--color", "never"]
    groups_of = {}  # bench -> the criterion groups it wrote
    for k in range(1, settings["rounds"] + 1):
        # Rotate the order each round, so no family always runs first or last.
        shift = (k - 1) % max(1, len(suite))
        for bench, script in suite[shift:] + suite[:shift]:
            wrote = run_criterion(bench, args.filter, crit_args, k, f"{k}/{settings['rounds']}",
                                  results, meta)
            groups_of.setdefault(bench, set()).update(wrote)
            if script and not args.no_cpython:
                run_cpython(args, settings, script, k, results, meta)
    if settings["confirm"] and groups_of:
        confirm_criterion(settings, crit_args, groups_of, results, meta)
    if matrix_exe:
        run_matrix(args, mode, matrix_exe, results, meta)
        if settings["confirm"]:
            confirm_matrix(settings, mode, matrix_exe, results, meta)
    meta["seconds"] = round(time.monotonic() - started)
    meta["load_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return meta


def build_matrix(results):
    """Builds benches/matrix.rs and returns its executable (from cargo's JSON messages)."""
    log("building the matrix (cargo bench --bench matrix --no-run)")
    cmd = ["cargo", "bench", "--bench", MATRIX, "--no-run", "--message-format=json"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    (results / "logs" / "build-matrix.log").write_text(r.stderr)
    if r.returncode != 0:
        raise ReportError(f"the matrix does not build:\n{r.stderr[-3000:]}")
    exe = None
    for line in r.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
                and msg.get("target", {}).get("name") == MATRIX
                and "bench" in msg.get("target", {}).get("kind", [])):
            exe = msg["executable"]
    if not exe:
        raise ReportError(f"`{shlex.join(cmd)}` named no executable for the matrix bench")
    return exe


def matrix_flags(mode, rounds=None):
    """The matrix binary's --rounds and --ms for `mode` (`rounds` instead of the mode's)."""
    m = MATRIX_MODES[mode]
    return ["--rounds", str(rounds or m["rounds"]), "--ms", str(m["ms"])]


def exec_matrix(exe, flags, name, results, meta, what):
    """Runs the matrix binary with `flags` and --csv results/matrix/<name>.csv, its Markdown
    to results/matrix/<name>.md and its progress to logs/<name>.log; records a failure as
    `what`. Returns (exit code, seconds)."""
    out = results / "matrix"
    log_path = results / "logs" / f"{name}.log"
    cmd = [exe] + flags + ["--csv", str(out / f"{name}.csv")]
    t0 = time.monotonic()
    with open(out / f"{name}.md", "w") as so, open(log_path, "w") as se:
        se.write(f"$ {shlex.join(cmd)}\n")
        se.flush()
        code = subprocess.run(cmd, cwd=ROOT, stdout=so, stderr=se).returncode
    seconds = round(time.monotonic() - t0)
    log(f"{what} {'ok' if code == 0 else f'FAILED (exit {code})'} in {seconds} s")
    if code != 0:
        meta["failures"].append(f"{what} (`{shlex.join(cmd)}`) exited {code}: see {log_path}")
    return code, seconds


def run_matrix(args, mode, exe, results, meta):
    """Runs the matrix binary once into results/matrix/matrix.csv (and .md)."""
    flags = matrix_flags(mode) + (["--only", args.matrix_only] if args.matrix_only else [])
    _, seconds = exec_matrix(exe, flags, "matrix", results, meta, "the matrix")
    meta["matrix"] = {"command": "matrix " + shlex.join(flags), "seconds": seconds}


def run_criterion(bench, name_filter, crit_args, k, which, results, meta):
    """Runs one criterion bench into the criterion home of round `k` (each benchmark's samples
    land in its new/raw.csv there); returns the groups it wrote. `which` names the round in
    the progress lines."""
    home = results / "criterion" / f"r{k}"
    before = set(home.glob("**/new/raw.csv"))
    env = dict(os.environ, CRITERION_HOME=str(home))
    t0 = time.monotonic()
    cmd = ["cargo", "bench", "--bench", bench, "--"] + crit_args + (
        [name_filter] if name_filter else [])
    log_name = f"r{k}-{bench}.log"
    code, out = run_logged(cmd, results / "logs" / log_name, env)
    for line in out.splitlines():
        if "looks like" in line:  # a bench's machine-mode probe (lock, limits)
            meta["probes"].append({"round": k, "bench": bench, "said": line.strip()})
    status = "ok" if code == 0 else f"FAILED (exit {code})"
    log(f"round {which}: bench {bench} {status} in {time.monotonic() - t0:.0f} s")
    if code != 0:
        meta["failures"].append(f"round {k}: `cargo bench --bench {bench}` exited {code}: "
                                f"see {results / 'logs' / log_name}")
    wrote = set()
    for raw in set(home.glob("**/new/raw.csv")) - before:
        try:
            wrote.add(read_raw_csv(raw)[0])
        except ReportError:
            pass  # reported when the run is read
    return wrote


def near_target(rows):
    """The criterion groups with a summary row within CONFIRM_BAND of its target."""
    return sorted({r["group"] for r in rows if r["target"] and r["target"]["value"]
                   and r["target"]["value"] >= r["target"]["limit"] * (1 - CONFIRM_BAND)})


def near_parity(matrix):
    """The matrix cells (by the matrix binary's names) and extra rows (by CSV kind) whose
    throughput is within CONFIRM_BAND of the best peer's, or below it."""
    if not matrix:
        return []
    near = lambda cell: cell["speed"] <= 1 + CONFIRM_BAND
    cells = [f"{kind} {p}x{c} {cap_name(cap)}"
             for (kind, p, c, cap), cell in sorted(matrix["cells"].items()) if near(cell)]
    return cells + sorted(kind for kind, cell in matrix["over"].items() if near(cell))


def confirm_criterion(settings, crit_args, groups_of, results, meta):
    """Measures the groups near their targets `confirm` more times, as rounds after the last
    (criterion homes r<rounds+1>...), without their CPython scripts."""
    times, units, cpython = load(results)
    _, rows, _ = compute(times, units, cpython)
    bench_of = {g: b for b, groups in groups_of.items() for g in groups}
    todo = [(bench_of[g], g) for g in near_target(rows) if g in bench_of]
    meta["confirm"]["groups"] = [g for _, g in todo]
    n, last = settings["confirm"], settings["rounds"]
    log(f"measuring again, {n} more time{'s' if n != 1 else ''}: "
        f"{', '.join(g for _, g in todo) or 'nothing'}")
    for j in range(1, n + 1):
        for bench, group in todo:
            run_criterion(bench, f"^{re.escape(group)}/", crit_args, last + j,
                          f"{last + j} (again {j}/{n}, {group})", results, meta)


def confirm_matrix(settings, mode, exe, results, meta):
    """Runs the matrix cells and rows near parity again (`--cell`, the mode's rounds times
    `confirm`) and adds their runs to matrix.csv as later rounds."""
    samples = load_matrix(results)
    if samples is None:
        return
    cells = near_parity(compute_matrix(samples))
    meta["confirm"]["cells"] = cells
    if not cells:
        return
    first = MATRIX_MODES[mode]["rounds"]  # the first run's rounds: 0 .. first - 1
    rounds = first * settings["confirm"]
    meta["confirm"]["matrix_rounds"] = rounds
    flags = matrix_flags(mode, rounds) + [a for c in cells for a in ("--cell", c)]
    code, _ = exec_matrix(exe, flags, "again", results, meta,
                          f"the matrix's second look ({len(cells)} cells and rows)")
    if code != 0:
        return
    # Append as rounds after the first run's, so each cell's median covers both runs.
    out = results / "matrix"
    with open(out / "again.csv", newline="", encoding="utf-8") as f:
        again = list(csv.DictReader(f))
    with open(out / "matrix.csv", "a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=MATRIX_COLUMNS)
        for r in again:
            r["round"] = str(int(r["round"]) + first)
            w.writerow(r)


def run_cpython(args, settings, script, k, results, meta):
    """Runs one CPython baseline with --json into results/cpython/rK/<script>.json."""
    path = ROOT / "benches" / script
    if not path.exists():
        note = f"no CPython baseline: benches/{script} does not exist"
        if note not in meta["notes"]:
            meta["notes"].append(note)
        return
    t0 = time.monotonic()
    cmd = [args.python, str(path), "--json"] + settings["cpython"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    (results / "logs" / f"r{k}-{path.stem}.log").write_text(r.stdout + r.stderr)
    try:
        if r.returncode != 0:
            raise ValueError(f"exit {r.returncode}: {r.stderr.strip()[-500:]}")
        doc = json.loads(r.stdout)
        if not isinstance(doc.get("results"), list):
            raise ValueError("no \"results\" list in its output")
    except ValueError as e:
        meta["failures"].append(f"round {k}: `{shlex.join(cmd)}` gave no usable JSON ({e})")
        log(f"round {k}: CPython {script} FAILED")
        return
    out = results / "cpython" / f"r{k}"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{path.stem}.json").write_text(json.dumps(doc, indent=1))
    log(f"round {k}: CPython {script} ok in {time.monotonic() - t0:.0f} s")


# ----------------------------------------------------------------------------------------
# Reading


def read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ReportError(f"cannot read {path}: {e}")


# The columns of criterion's raw.csv (its user guide, "CSV Output").
RAW_CSV_COLUMNS = ["group", "function", "value", "throughput_num", "throughput_type",
                   "sample_measured_value", "unit", "iteration_count"]


def read_raw_csv(path):
    """One benchmark from criterion's raw.csv: (group, function, median ns per iteration,
    throughput count, unit of the count). The median is of each sample's time / iterations,
    the statistic criterion reports as the median."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != RAW_CSV_COLUMNS:
                raise ValueError(f"columns {reader.fieldnames}, expected {RAW_CSV_COLUMNS}")
            rows = list(reader)
        if not rows:
            raise ValueError("no samples")
        per_iter = []
        for row in rows:
            if row["unit"] != "ns":
                raise ValueError(f"unit {row['unit']!r}, expected ns (a wall-clock time)")
            value, iters = float(row["sample_measured_value"]), int(row["iteration_count"])
            if not (value > 0 and iters > 0):
                raise ValueError(f"sample {value} ns over {iters} iterations")
            per_iter.append(value / iters)
        first = rows[0]
        if any((r["group"], r["function"], r["value"]) !=
               (first["group"], first["function"], first["value"]) for r in rows):
            raise ValueError("samples of more than one benchmark")
        per, unit = 1, "op"
        kind, num = first["throughput_type"], first["throughput_num"]
        if kind:
            # "elements", "bytes", "bits", or "elements/bytes" with num "E/B".
            per = max(1, int(num.split("/")[0]))
            unit = {"bytes": "byte", "bits": "bit"}.get(kind, "item")
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, TypeError, KeyError) as e:
        raise ReportError(f"{path}: not criterion's raw.csv ({e})")
    func = "/".join(x for x in [first["function"], first["value"]] if x)
    return first["group"], func, statistics.median(per_iter), per, unit


def load(results, need_criterion=True):
    """{(group, function): {round: ns per op}}, {group: unit}, CPython entries, from `results`.
    Without `need_criterion` (a run that has the matrix), no criterion results is no error."""
    times, units = {}, {}
    home = results / "criterion"
    if not home.is_dir():
        if not need_criterion:
            return times, units, {}
        raise ReportError(f"no criterion results in {home}")
    for raw in sorted(home.glob("r*/**/new/raw.csv")):
        m = re.fullmatch(r"r(\d+)", raw.relative_to(home).parts[0])
        if not m:
            continue
        group, func, median, per, unit = read_raw_csv(raw)
        times.setdefault((group, func or group), {})[int(m.group(1))] = median / per
        units[group] = unit
    if not times and need_criterion:
        raise ReportError(f"no criterion rounds (rN/<benchmark>/new/raw.csv) under {home}; "
                          "criterion writes raw.csv with its csv_output feature")
    cpython = {}
    for path in sorted((results / "cpython").glob("r*/*.json")):
        m = re.fullmatch(r"r(\d+)", path.parent.name)
        if not m:
            continue
        doc = read_json(path)
        for entry in doc.get("results", []):
            try:
                key = (entry["group"], entry["name"])
                ns = float(entry["ns_per_op"])
            except (KeyError, TypeError, ValueError) as e:
                raise ReportError(f"{path}: entry {entry!r} lacks group/name/ns_per_op ({e!r})")
            c = cpython.setdefault(key, {"rounds": {}, "pairs_with": entry.get("pairs_with"),
                                         "python": doc.get("python")})
            c["rounds"][int(m.group(1))] = ns
    return times, units, cpython


def load_matrix(results):
    """The matrix binary's runs from results/matrix/matrix.csv, or None if it did not run."""
    path = results / "matrix" / "matrix.csv"
    return load_matrix_csv(path) if path.exists() else None


def load_matrix_csv(path):
    """The runs in a CSV written by the matrix binary's --csv: {(kind, producers, consumers,
    cap): {implementation: {round: (items/s, CPU ns/item, (cache-line round trips before and
    after the round, ns; after is None in a CSV with line_ns only) or None)}}} (a CSV from
    before the line columns has no round trips)."""
    samples = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames not in (MATRIX_COLUMNS, MATRIX_COLUMNS[:-1],
                                         MATRIX_COLUMNS[:-2]):
                raise ValueError(f"columns {reader.fieldnames}, expected {MATRIX_COLUMNS}")
            for line, row in enumerate(reader, start=2):
                try:
                    key = (row["kind"], int(row["producers"]), int(row["consumers"]),
                           int(row["cap"]))
                    rate, items = float(row["items_per_s"]), int(row["items"])
                    cpu, rnd = float(row["cpu_ns"]), int(row["round"])
                    if not (rate > 0 and items > 0 and cpu >= 0 and float(row["wall_ns"]) > 0):
                        raise ValueError("a rate, item count or time that is not positive")
                    before = float(row["line_ns"]) if row.get("line_ns") else 0.0
                    after = float(row["line_after_ns"]) if row.get("line_after_ns") else None
                except (TypeError, ValueError) as e:
                    raise ValueError(f"line {line}: {e}")
                samples.setdefault(key, {}).setdefault(row["imp"], {})[rnd] = (
                    rate, cpu / items, (before, after) if before > 0 else None)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as e:
        raise ReportError(f"{path}: not the matrix binary's CSV ({e})")
    return samples


# ----------------------------------------------------------------------------------------
# Computing


def matrix_cell(imps, far_above=None):
    """threadkit against its peers in one matrix cell or oversubscribed row: the median over
    the rounds of threadkit's items/s / the best peer's and of its CPU per item / the least
    peer's; the peer fastest in most rounds; each implementation's medians. threadkit's other
    implementations of the cell (`threadkit_simple`: SimpleQueue in the unbounded FIFO cells)
    are listed with the medians, never taken for a peer. With `far_above` (ns), also the
    throughput ratio's median over the rounds whose cache-line round trips (before and after)
    were both at most that ("near") and over those where both were above it ("far"), and how
    many of each."""
    tk = imps.get("threadkit")
    peers = [i for i in imps if not i.startswith("threadkit")]
    if not tk or not peers:
        return None
    speed, cpu, wins = [], [], {}
    phase = {"near": [], "far": []}
    for r, (rate, per, line) in sorted(tk.items()):
        here = [(imps[p][r], p) for p in peers if r in imps[p]]
        if not here:
            continue
        best_rate, best = max((v[0], p) for v, p in here)
        wins[best] = wins.get(best, 0) + 1
        speed.append(rate / best_rate)
        kind = line_phase(line, far_above)
        if kind:
            phase[kind].append(rate / best_rate)
        least = min(v[1] for v, _ in here)
        if least > 0:
            cpu.append(per / least)
    if not speed:
        return None
    return {"speed": med(speed), "cpu": med(cpu), "rounds": len(speed),
            "phase": {k: {"speed": med(v), "rounds": len(v)} for k, v in phase.items()},
            "best_peer": max(peers, key=lambda p: (wins.get(p, 0), -peers.index(p))),
            "per_imp": {i: {"rate": med([v[0] for v in rounds.values()]),
                            "cpu": med([v[1] for v in rounds.values()])}
                        for i, rounds in imps.items()}}


def compute_matrix(samples):
    """{"cells": {(kind, p, c, cap): cell}, "over": {kind: cell}} from load_matrix's runs
    ("over": the oversubscribed and large-backlog rows)."""
    if samples is None:
        return None
    # The round trips, once per round of each cell or row (every implementation of a round
    # carries its round's).
    per_round = [v[2] for imps in samples.values() for v in next(iter(imps.values())).values()
                 if v[2] is not None]
    every = [t for r in per_round for t in r if t is not None]
    far_above = FAR_LINE * med(every) if every else None
    cells, over = {}, {}
    for key, imps in samples.items():
        cell = matrix_cell(imps, far_above)
        if cell is None:
            continue
        if key[0] in OVERSUBSCRIBED or key[0] in BACKLOG:
            over[key[0]] = cell
        else:
            cells[key] = cell
    line = None
    if per_round:
        kinds = [line_phase(r, far_above) for r in per_round]
        line = {"lowest": min(every), "median": med(every), "highest": max(every),
                "far_above": far_above, "rounds": len(per_round),
                "after": any(r[1] is not None for r in per_round),
                "far": kinds.count("far"), "changed": kinds.count(None)}
    return {"cells": cells, "over": over, "line": line}


def line_phase(line, far_above):
    """"near" or "far" for a round whose cache-line round trips (before, after) were both at
    most `far_above` or both above it; None if they disagree or were not measured."""
    if line is None or far_above is None:
        return None
    before = line[0] > far_above
    after = before if line[1] is None else line[1] > far_above
    if before != after:
        return None
    return "far" if before else "near"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio_rounds(a, b):
    """Median over the rounds both have of a[r] / b[r] (dicts round -> ns)."""
    return med([a[r] / b[r] for r in a if r in b and b[r] > 0])


def min_rounds(series):
    """Round-wise minimum of several {round: ns} dicts (rounds where any has a value)."""
    out = {}
    for s in series:
        for r, v in s.items():
            out[r] = min(v, out.get(r, v))
    return out


def library(func):
    for lib in ["parking_lot_core", "parking_lot", "crossbeam", "flume", "std", "libc",
                "rayon", "threadpool"]:
        if func.startswith(lib):
            return lib
    return "other"


def compute(times, units, cpython):
    """Groups the measurements into families, operations and summary rows."""
    by_group = {}
    for (group, func), rounds in times.items():
        by_group.setdefault(group, {})[func] = rounds
    cpy_by_group = {}
    for (group, name), c in cpython.items():
        cpy_by_group.setdefault(group, {})[name] = c

    families = [(name, [dict(o) for o in ops]) for name, ops in FAMILIES]
    known = {o["group"] for _, ops in families for o in ops} | set(FLOORS)
    others = []
    for group in sorted(set(by_group) - known):
        funcs = sorted(by_group[group])
        others.append(op(group, group, [f for f in funcs if f.startswith("threadkit")],
                         [f for f in funcs if not f.startswith(("threadkit", "floor"))],
                         refs=[f for f in funcs if f.startswith("floor")]))
    if others:
        families.append(("Other", others))

    out_families, rows, missing = [], [], []
    for fam, ops in families:
        fam_ops, fam_floors = [], []
        for o in ops:
            g = o["group"]
            funcs = by_group.get(g)
            if not funcs:
                missing.append(g)
                continue
            listed = o["threadkit"] + o["peers"] + o["refs"]
            o["refs"] = o["refs"] + sorted(f for f in funcs if f not in listed)
            o["unit"] = units.get(g, "op")
            tk = [f for f in o["threadkit"] if f in funcs]
            peers = [f for f in o["peers"] if f in funcs]
            floor = by_group.get(o["floor"]) if o["floor"] else None
            if floor and o["floor"] not in fam_floors:
                fam_floors.append(o["floor"])
            floor_rounds = min_rounds(floor.values()) if floor else {}
            cpy = cpy_by_group.get(g, {})
            impls = []
            for f in tk + peers + [f for f in o["refs"] if f in funcs]:
                kind = "threadkit" if f in tk else "peer" if f in peers else "reference"
                impls.append({"name": f, "kind": kind, "ns": med(funcs[f].values()),
                              "rounds": funcs[f]})
            for name, c in cpy.items():
                impls.append({"name": f"CPython {name}", "kind": "CPython",
                              "ns": med(c["rounds"].values()), "rounds": c["rounds"],
                              "pairs_with": c["pairs_with"]})
            o["impls"] = impls
            o["rows"] = []
            for f in tk:
                mine = [p for p in o["peer_map"].get(f, peers) if p in funcs]
                row = summary_row(o, f, funcs, mine, floor_rounds, cpy, tk)
                row["family"] = fam
                o["rows"].append(row)
                rows.append(row)
            fam_ops.append(o)
        if fam_ops:
            floors = []
            for fl in fam_floors:
                for f, r in sorted(by_group[fl].items()):
                    floors.append({"group": fl, "name": f, "what": FLOORS[fl],
                                   "ns": med(r.values())})
            out_families.append({"name": fam, "ops": fam_ops, "floors": floors})
    return out_families, rows, missing


def summary_row(o, f, funcs, peers, floor_rounds, cpy, tk):
    """The summary of threadkit function `f` in operation `o`."""
    mine = funcs[f]
    row = {"group": o["group"], "title": o["title"], "function": f, "unit": o["unit"],
           "ns": med(mine.values()), "several": len(tk) > 1}
    peer_ns = {p: med(funcs[p].values()) for p in peers}
    row["peers"] = [{"name": p, "library": library(p), "ns": peer_ns[p],
                     "ratio": ratio_rounds(mine, funcs[p])} for p in peers]
    if peers:
        best = min(peers, key=lambda p: peer_ns[p])
        row["best_peer"] = {"name": best, "ns": peer_ns[best],
                            "ratio": ratio_rounds(mine, min_rounds(funcs[p] for p in peers))}
    else:
        row["best_peer"] = None
    # CPython: the entries that name this function, else (for the first threadkit function)
    # the entries that name none.
    paired = [(n, c) for n, c in cpy.items() if c["pairs_with"] == f]
    if not paired and f == tk[0]:
        paired = [(n, c) for n, c in cpy.items() if c["pairs_with"] in (None, "", "threadkit")]
    if paired:
        name, c = paired[0]
        row["cpython"] = {"name": name, "ns": med(c["rounds"].values()),
                          "ratio": ratio_rounds(c["rounds"], mine)}
    else:
        row["cpython"] = None
    row["floor"] = ({"group": o["floor"], "ratio": ratio_rounds(mine, floor_rounds)}
                    if floor_rounds else None)
    row["target"] = None
    t = o["target"]
    if t and (t[3] is None or f in t[3]):
        if t[0] == "ns":
            row["target"] = {"text": t[2], "value": row["ns"], "limit": t[1], "absolute": True}
        else:
            of = [p for p in t[1] if p in funcs]
            if of:
                r = ratio_rounds(mine, min_rounds(funcs[p] for p in of))
                row["target"] = {"text": t[2], "value": r, "limit": t[0], "absolute": False,
                                 "of": of}
        if row["target"]:
            v, lim = row["target"]["value"], row["target"]["limit"]
            row["target"]["met"] = v <= lim
            row["target"]["state"] = ("met" if v <= lim else "within noise"
                                      if v <= lim * (1 + NOISE) else "behind")
    return row


# ----------------------------------------------------------------------------------------
# Writing


def fmt_ns(ns):
    if ns is None:
        return "—"
    for scale, unit in [(1e6, "ms"), (1e3, "µs"), (1, "ns")]:
        if ns >= scale or unit == "ns":
            v = ns / scale
            digits = 2 if v < 10 else 1 if v < 100 else 0
            return f"{v:.{digits}f} {unit}"


def fmt_ratio(r):
    if r is None:
        return "—"
    if r < 0.1:
        return f"{r:.2g}"
    return f"{r:.2f}" if r < 10 else f"{r:.1f}" if r < 100 else f"{r:.0f}"


def fmt_rate(ns):
    if not ns:
        return "—"
    rate = 1e3 / ns
    return f"{rate:.{2 if rate < 10 else 1 if rate < 100 else 0}f} M/s"


def label(row):
    short = re.sub(r"^threadkit[_ ]?", "", row["function"])
    return f"{row['title']} [{short}]" if row["several"] and short else row["title"]


def cap_name(cap):
    return "unbounded" if cap == 0 else f"cap {cap}"


def matrix_markdown(meta, matrix, other=None):
    """The queue matrix and oversubscribed sections, and the lines they add to the gaps.
    `other`: (machine label, CSV path) of a matrix run elsewhere (--matrix-also)."""
    m = {} if other else meta.get("matrix") or {}
    on = f" on {other[0]}" if other else ""
    cells, over = matrix["cells"], matrix["over"]
    lines = [f"## Queue matrix{on}", "",
             "Items moved from P producer threads to C consumer threads through each queue kind "
             "at each capacity, by `benches/matrix.rs` (one program, every implementation in "
             "the same process, in rotating order, round after round"
             + (f"; run as `{m['command']}`" if m.get("command") else "")
             + (f", in {fmt_duration(m['seconds'])}" if m.get("seconds") else "")
             + (f"; run on {other[0]}, its `--csv` output `{Path(other[1]).name}`"
                if other else "") + "). In each run the producers put for the same time "
             "(`--ms`) whatever the implementation's speed, then the queue is drained; a run "
             "counts the items its consumers took.",
             "",
             "Each cell: **threadkit throughput / the best peer's** (above 1.00 threadkit moves "
             "more items per second) **/ threadkit CPU per item / the least peer's** (below 1.00 "
             "threadkit burns less CPU; process user + system time over the run), each the "
             "median of the per-round ratios. A throughput ratio in bold is below 1.00: a gap. "
             "Peers: FIFO: crossbeam-channel, flume, std `sync_channel`/`channel` (1 consumer "
             "only), parking_lot `Mutex<VecDeque>` + `Condvar`; LIFO: parking_lot `Mutex<Vec>` "
             "+ `Condvar`; priority: parking_lot `Mutex<BinaryHeap>` + `Condvar`.", ""]
    lines += line_phases(matrix)
    gaps = []
    for kind, title in MATRIX_KINDS:
        mine = {k: c for k, c in cells.items() if k[0] == kind}
        if not mine:
            continue
        lines += [f"### {title}{on}", "",
                  "| P x C | " + " | ".join(cap_name(c) for c in MATRIX_CAPS) + " |",
                  "|---|" + "--:|" * len(MATRIX_CAPS)]
        for p, c in MATRIX_SHAPES:
            row = []
            for cap in MATRIX_CAPS:
                cell = mine.get((kind, p, c, cap))
                if cell is None:
                    row.append("—")
                    continue
                speed = fmt_ratio(cell["speed"])
                if cell["speed"] < 1.0:
                    speed = f"**{speed}**"
                    gaps.append(f"{kind} {p}x{c} {cap_name(cap)} ({fmt_ratio(cell['speed'])})")
                row.append(f"{speed} / {fmt_ratio(cell['cpu'])}")
            lines.append(f"| {p} x {c} | " + " | ".join(row) + " |")
        lines.append("")
        lines += ["<details><summary>Each implementation (medians over the rounds)</summary>",
                  "", "| cell | best peer | implementation | items per second | CPU per item |",
                  "|---|---|---|--:|--:|"]
        for key in sorted(mine, key=cell_order):
            cell = mine[key]
            name = f"{key[1]}x{key[2]} {cap_name(key[3])}"
            for imp, v in cell["per_imp"].items():
                lines.append(f"| {name} | `{cell['best_peer']}` | `{imp}` | "
                             f"{fmt_count(v['rate'])} | {fmt_ns(v['cpu'])} |")
        lines += ["", "</details>", ""]
    sections = [
        ("Oversubscribed", OVERSUBSCRIBED,
         "More threads than the machine has cores, from the same program: wall "
         "throughput and CPU time (process user + system) per operation; threadkit's "
         "ratios are medians of the per-round ratios, a throughput ratio in bold is "
         "below 1.00 (a gap)."),
        ("Large backlogs", BACKLOG,
         "2 000 000 items through an unbounded queue, from the same program: a fixed count "
         "rather than the matrix's target duration, so that the producers run as far ahead "
         "of the consumers as they do in a long run; same columns as above."),
    ]
    for heading, rows, intro in sections:
        present = [(k, v) for k, v in rows.items() if over.get(k)]
        if not present:
            continue
        lines += [f"## {heading}{on}", "", intro, "",
                  "| operation | threadkit throughput | threadkit CPU per op | best peer "
                  "| threadkit throughput / best peer's | threadkit CPU / least peer's |",
                  "|---|--:|--:|---|--:|--:|"]
        for kind, (title, unit) in present:
            cell = over[kind]
            tk = cell["per_imp"]["threadkit"]
            speed = fmt_ratio(cell["speed"])
            if cell["speed"] < 1.0:
                speed = f"**{speed}**"
                gaps.append(f"{heading.lower()}: {title} ({fmt_ratio(cell['speed'])})")
            lines.append(f"| {title} | {fmt_count(tk['rate'])}/s | {fmt_ns(tk['cpu'])} / {unit} "
                         f"| `{cell['best_peer']}` | {speed} | {fmt_ratio(cell['cpu'])} |")
        lines += ["", "| operation | implementation | wall throughput | CPU per op |",
                  "|---|---|--:|--:|"]
        for kind, (title, unit) in present:
            for imp, v in over[kind]["per_imp"].items():
                lines.append(f"| {title} | `{imp}` | {fmt_count(v['rate'])}/s | "
                             f"{fmt_ns(v['cpu'])} / {unit} |")
        lines.append("")
    gap_lines = []
    if gaps:
        gap_lines = [f"Queue matrix, oversubscribed and large-backlog rows{on} where threadkit's "
                     "throughput is "
                     f"below the best peer's ({len(gaps)}): " + ", ".join(gaps) + ".", ""]
    elif cells or over:
        gap_lines = [f"Queue matrix, oversubscribed and large-backlog rows{on}: threadkit's "
                     "throughput is at "
                     "least the best peer's in every measured cell.", ""]
    return lines, gap_lines


def cell_order(key):
    """Sort key of a matrix cell (kind, producers, consumers, cap): the tables' order, kind by
    kind, shapes down, capacities across with unbounded last."""
    kinds = [k for k, _ in MATRIX_KINDS]
    return (kinds.index(key[0]) if key[0] in kinds else len(kinds),
            MATRIX_SHAPES.index(key[1:3]) if key[1:3] in MATRIX_SHAPES else 99, key[3] or 1e9)


def line_phases(matrix):
    """The matrix section's paragraph on the cache-line round trips measured before (and
    after) each round (none for a CSV without them), and the cells' ratios in near and far
    rounds."""
    line = matrix.get("line")
    if not line:
        return []
    when = "Before and after" if line["after"] else "Before"
    out = [f"{when} each round the program measures how long one cache line takes to "
           f"go from one CPU to another and back (two threads pinned to the first two CPUs "
           f"take turns writing it): lowest {line['lowest']:.0f} ns, median "
           f"{line['median']:.0f} ns, highest {line['highest']:.0f} ns, over "
           f"{line['rounds']} rounds. "]
    whole = " from start to end" if line["after"] else ""
    changed = (f" ({line['changed']} more began on one side of it and ended on the other)"
               if line["changed"] else "")
    if not line["far"]:
        out[0] += f"No round ran above {FAR_LINE:g} x the median{whole}{changed}."
        return out + [""]
    out[0] += (f"{line['far']} of them ran above {FAR_LINE:g} x the median "
               f"({line['far_above']:.0f} ns){whole}{changed}: on a virtual "
               "machine, the host had put the two CPUs on distant cores. Such a round can "
               "move far fewer items than a near one, for threadkit and its peers alike but "
               "not by the same factor: the cells whose rounds ran in both kinds show "
               "threadkit's throughput ratio in each below.")
    rows = []
    for key in sorted(matrix["cells"], key=cell_order):
        near, far = (matrix["cells"][key]["phase"][k] for k in ("near", "far"))
        if near["rounds"] and far["rounds"]:
            rows.append(f"| {key[0]} {key[1]}x{key[2]} {cap_name(key[3])} | "
                        f"{fmt_ratio(near['speed'])} ({near['rounds']}) | "
                        f"{fmt_ratio(far['speed'])} ({far['rounds']}) |")
    out.append("")
    if rows:
        out += ["<details><summary>Throughput ratio in near and far rounds "
                f"({len(rows)} cells ran in both)</summary>", "",
                "| cell | near rounds (how many) | far rounds (how many) |", "|---|--:|--:|"]
        out += rows + ["", "</details>", ""]
    return out


def fmt_count(x):
    if x is None:
        return "—"
    for scale, unit in [(1e9, " G"), (1e6, " M"), (1e3, " k")]:
        if x >= scale:
            return f"{x / scale:.{2 if x / scale < 10 else 1 if x / scale < 100 else 0}f}{unit}"
    return f"{x:.0f}"


def write_markdown(meta, families, rows, missing, chart_rel, out, matrix=None,
                   extra_matrices=()):
    m = meta["machine"]
    lines = [
        "# threadkit benchmarks",
        "",
        "<!-- Written by benches/report.py from one run; rerun the command to refresh. -->",
        "",
        f"Measured by `{meta['command']}` on {meta['date']}: **{meta['mode']} mode**, criterion "
        f"`--warm-up-time {meta['warm_up']:g} --measurement-time {meta['measurement']:g}`, "
        f"{meta['rounds']} round{'s' if meta['rounds'] != 1 else ''} (every bench, then its "
        "CPython script, round after round"
        + (f"; then the queue matrix once, `{meta['matrix']['command']}`"
           if meta.get("matrix") else "") + ")"
        + confirm_summary(meta)
        + (f"; the run took {fmt_duration(meta['seconds'])}" if meta.get("seconds") else "")
        + "." + (" **Partial run** (--bench/--filter): some operations were not measured."
                 if meta.get("partial") else ""),
        "",
        "| machine | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} logical CPUs |",
        f"| OS | {m['os']} |",
        f"| Rust | {m['rustc']} (std is this toolchain's) |",
        f"| Crates | {m['crates']} |",
        f"| Python | {m['python']} |",
    ]
    if meta.get("load_start") is not None:
        lines.append(f"| Load average | {meta['load_start']:.1f} at the start, "
                     f"{meta.get('load_end') or 0:.1f} at the end (on {m['cores']} CPUs) |")
    seen = {}
    for p in meta.get("probes", []):
        mode = re.sub(r".*looks like ", "", p["said"])
        seen[mode] = seen.get(mode, 0) + 1
    if seen:
        counts = ", ".join(f"{mode} {n} time{'s' if n > 1 else ''}"
                           for mode, n in sorted(seen.items(), key=lambda kv: -kv[1]))
        change = "changed during the run" if len(seen) > 1 else "steady"
        lines.append(f"| Machine mode | {change}: the probes (in `limits` and before and after "
                     f"`contended_2_threads`, each round) saw {counts} |")
    else:
        lines.append("| Machine mode | not probed in this run |")
    lines += [
        "",
        "How to read it:",
        "",
        "- **Times** are criterion's median time per operation (queues: per item moved; the "
        "2-thread hammering: per operation of one thread), the median over the rounds.",
        "- **threadkit / peer** divides threadkit's time by the peer's, round by round (then the "
        "median): below 1.00 threadkit is faster. The best peer is the fastest of the listed "
        "peers in each round.",
        "- **CPython / threadkit** divides CPython's time for the same operation (its `threading` "
        "or `queue` module, from `benches/cpython_*.py`) by threadkit's: how many times faster "
        "threadkit is than Python.",
        "- **threadkit / floor** compares with the hardware limits of `benches/limits.rs`, listed "
        "at the end of each family: how far above what the machine allows threadkit stays "
        "(below 1 means the operation amortizes that cost, as a queue does over many items).",
        "- **Target** is the goal the project set for that operation: *met*, *within noise* "
        f"(less than {NOISE:.0%} over) or **behind**; the misses are listed under [Gaps](#gaps).",
        "- These machines switch between two truly parallel cores and one time-sliced core; "
        "absolute times move up to 5x between the two, the best peer changes with them, and only "
        "ratios from one run mean much.",
        "",
    ]
    if chart_rel:
        lines += [f"![threadkit time / peer time and CPython time / threadkit time]({chart_rel})",
                  ""]
    if meta.get("failures"):
        lines += ["**Problems in this run:**", ""] + [f"- {f}" for f in meta["failures"]] + [""]
    if meta.get("notes"):
        lines += ["Notes: " + "; ".join(meta["notes"]) + ".", ""]

    lines += ["## Summary", ""]
    for fam in families:
        lines += [f"### {fam['name']}", "",
                  "| operation | threadkit | time | best peer | time | threadkit / best peer "
                  "| CPython | CPython / threadkit | threadkit / floor | target |",
                  "|---|---|--:|---|--:|--:|---|--:|--:|---|"]
        for o in fam["ops"]:
            for row in o["rows"]:
                bp, cp, fl, tg = row["best_peer"], row["cpython"], row["floor"], row["target"]
                lines.append("| " + " | ".join([
                    f"{o['title']} (`{o['group']}`)",
                    f"`{row['function']}`",
                    fmt_time_cell(row["ns"], row["unit"]),
                    f"`{bp['name']}`" if bp else "—",
                    fmt_time_cell(bp["ns"], row["unit"]) if bp else "—",
                    fmt_ratio(bp["ratio"]) if bp else "—",
                    cp["name"] if cp else "—",
                    fmt_ratio(cp["ratio"]) if cp else "—",
                    fmt_ratio(fl["ratio"]) if fl else "—",
                    fmt_target(tg),
                ]) + " |")
        for fl in fam["floors"]:
            lines.append(f"| *floor: {fl['what']}* (`{fl['group']}`) | `{fl['name']}` | "
                         f"{fmt_ns(fl['ns'])} | | | | | | | |")
        lines.append("")

    matrix_gaps = []
    if matrix is not None:
        more, matrix_gaps = matrix_markdown(meta, matrix)
        lines += more
    for label, path, other in extra_matrices:
        more, more_gaps = matrix_markdown(meta, other, (label, path))
        lines += more
        matrix_gaps += more_gaps

    gaps = [r for r in rows if r["target"] and r["target"]["state"] == "behind"]
    close = [r for r in rows if r["target"] and r["target"]["state"] == "within noise"]
    lines += ["## Gaps", ""] + confirm_lines(meta)
    if gaps:
        lines += [f"Operations where threadkit misses its target by more than {NOISE:.0%} "
                  "in this run:", "",
                  "| operation | threadkit | measured | target |", "|---|---|--:|---|"]
        for r in gaps:
            t = r["target"]
            measured = (fmt_ns(t["value"]) if t["absolute"]
                        else f"{fmt_ratio(t['value'])} x the fastest of "
                             + ", ".join(f"`{p}`" for p in t["of"]))
            lines.append(f"| {r['title']} (`{r['group']}`) | `{r['function']}` | {measured} | "
                         f"{t['text']} |")
    else:
        lines.append(f"None: every operation with a target meets it, or misses it by less than "
                     f"{NOISE:.0%}, in this run.")
    lines.append("")
    if close:
        lines += [f"Within {NOISE:.0%} over the target (run-to-run noise): "
                  + ", ".join(f"`{r['group']}` `{r['function']}` "
                              f"({fmt_target_value(r['target'])})" for r in close) + ".", ""]
    lines += matrix_gaps
    if missing:
        lines += ["Not measured in this run: " + ", ".join(f"`{g}`" for g in missing) + ".", ""]

    lines += ["## Every measurement", "",
              "Each operation's implementations, with threadkit's time divided by each one "
              "(round by round, then the median).", ""]
    for fam in families:
        for o in fam["ops"]:
            tk = [r["function"] for r in o["rows"]]
            lines += [f"### {o['title']} (`{o['group']}`)", "",
                      "| implementation | kind | time | "
                      + " | ".join(f"`{f}` / this" for f in tk) + " |",
                      "|---|---|--:|" + "--:|" * len(tk)]
            by_name = {i["name"]: i for i in o["impls"]}
            for i in o["impls"]:
                cells = []
                for f in tk:
                    mine = by_name[f]["rounds"]
                    cells.append(fmt_ratio(ratio_rounds(mine, i["rounds"])))
                lines.append(f"| `{i['name']}` | {i['kind']} | {fmt_time_cell(i['ns'], o['unit'])}"
                             " | " + " | ".join(cells) + " |")
            lines.append("")
    Path(out).write_text("\n".join(lines))


def confirm_summary(meta):
    """The header's words on the second look (`--confirm`), or nothing."""
    c = meta.get("confirm") or {}
    if not c.get("rounds"):
        return ""
    n = c["rounds"]
    return (f"; then each operation and matrix row within {CONFIRM_BAND:.0%} of its target "
            f"measured {n} more time{'s' if n != 1 else ''} (see [Gaps](#gaps))")


def confirm_lines(meta):
    """The Gaps section's list of what was measured again, or nothing."""
    c = meta.get("confirm") or {}
    if not c.get("rounds"):
        return []
    groups, cells = c.get("groups") or [], c.get("cells") or []
    if not groups and not cells:
        return [f"Measured again: nothing (no operation or matrix row was within "
                f"{CONFIRM_BAND:.0%} of its target after the rounds).", ""]
    n = c["rounds"]
    what = []
    if groups:
        what.append(f"{len(groups)} operation{'s' if len(groups) != 1 else ''} ("
                    + ", ".join(f"`{g}`" for g in groups) + f") in {n} more round"
                    + ("s" if n != 1 else ""))
    if cells:
        m = c.get("matrix_rounds") or n
        what.append(f"{len(cells)} matrix cell{'s' if len(cells) != 1 else ''} or row"
                    f"{'s' if len(cells) != 1 else ''} (" + ", ".join(cells)
                    + f") in {m} more round{'s' if m != 1 else ''} of the matrix")
    return [f"Measured again, because after the rounds their ratio lay within "
            f"{CONFIRM_BAND:.0%} of the target on either side: " + "; ".join(what)
            + ". Their figures below and above are medians over all their runs.", ""]


def fmt_time_cell(ns, unit):
    if unit == "item" and ns:
        return f"{fmt_ns(ns)} ({fmt_rate(ns)})"
    return fmt_ns(ns)


def fmt_target(t):
    if not t:
        return ""
    value = fmt_ns(t["value"]) if t["absolute"] else fmt_ratio(t["value"])
    state = "**behind**" if t["state"] == "behind" else t["state"]
    return f"{state} ({value}; {t['text']})"


def fmt_target_value(t):
    return fmt_ns(t["value"]) if t["absolute"] else fmt_ratio(t["value"])


def fmt_duration(s):
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{s} s"


def matrix_chart_data(matrix):
    """The heat maps' numbers: {kind: [[throughput ratio or None per capacity] per shape]}."""
    if not matrix:
        return {}
    out = {}
    for kind, _ in MATRIX_KINDS:
        grid = [[(matrix["cells"].get((kind, p, c, cap)) or {}).get("speed")
                 for cap in MATRIX_CAPS] for p, c in MATRIX_SHAPES]
        if any(v is not None for row in grid for v in row):
            out[kind] = grid
    return out


# ----------------------------------------------------------------------------------------
# The chart (runs in the venv's python: `report.py --draw DATA SVG`)


def draw(data_path, svg_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "threadkit-benchmarks"  # stable ids: diffs stay small
    plt.rcParams["svg.fonttype"] = "none"  # text stays text
    plt.rcParams["font.size"] = 9
    data = json.loads(Path(data_path).read_text())
    meta = data["meta"]
    # Rows with something to draw (a peer or CPython ratio): times-only rows have none.
    rows = [r for r in data["rows"] if (r["best_peer"] and r["best_peer"]["ratio"])
            or (r["cpython"] and r["cpython"]["ratio"])]
    heat = data.get("matrix") or {}
    n = len(rows)
    bars_h = 0.24 * n + 1.4 if n else 0
    heat_h = 2.9 if heat else 0
    height = bars_h + heat_h + (0.6 if bars_h and heat_h else 0)
    fig = plt.figure(figsize=(13, max(height, 2)))
    outer = fig.add_gridspec(
        (1 if n else 0) + (1 if heat else 0), 1, hspace=0.35,
        height_ratios=[h for h in (bars_h, heat_h) if h])
    # Fixed margins in inches: the title above, the axis labels below.
    fig.subplots_adjust(top=1 - 0.65 / max(height, 2), bottom=0.75 / max(height, 2))
    if heat:
        draw_heat(fig, outer[-1], heat)
    m = meta["machine"]
    fig.suptitle(f"threadkit benchmarks: {m['cpu']}, {m['cores']} CPUs, {meta['mode']} mode, "
                 f"{meta['date']} (median of per-round ratios)", fontsize=11)
    if n:
        top = outer[0].subgridspec(1, 2, width_ratios=[3, 2], wspace=0.04)
        left = fig.add_subplot(top[0])
        right = fig.add_subplot(top[1], sharey=left)
        right.tick_params(labelleft=False)
        draw_bars(fig, left, right, rows)
    if str(svg_path).endswith(".png"):  # for looking at it while developing
        fig.savefig(svg_path, format="png", bbox_inches="tight", dpi=110)
    else:
        fig.savefig(svg_path, format="svg", bbox_inches="tight", metadata={"Date": None})


def draw_heat(fig, spec, heat):
    """One heat map per queue kind: threadkit throughput / best peer's, numbers in the cells."""
    from matplotlib.colors import LogNorm
    kinds = [(k, t) for k, t in MATRIX_KINDS if k in heat]
    grid = spec.subgridspec(1, len(kinds), wspace=0.15)
    norm = LogNorm(vmin=0.1, vmax=10)
    image = None
    for i, (kind, title) in enumerate(kinds):
        ax = fig.add_subplot(grid[i])
        values = [[v if v is not None else float("nan") for v in row] for row in heat[kind]]
        clipped = [[min(max(v, 0.1), 10) if v == v else v for v in row] for row in values]
        image = ax.imshow(clipped, cmap="RdYlGn", norm=norm, aspect="auto")
        for y, row in enumerate(values):
            for x, v in enumerate(row):
                text = "—" if v != v else fmt_ratio(v)
                dark = v == v and (v < 0.2 or v > 5)  # the colour map's dark ends
                ax.text(x, y, text, ha="center", va="center", fontsize=7,
                        color="white" if dark else "black",
                        fontweight="bold" if v == v and v < 1 else "normal")
        ax.set_xticks(range(len(MATRIX_CAPS)))
        ax.set_xticklabels([cap_name(c).replace("cap ", "") for c in MATRIX_CAPS], fontsize=7)
        ax.set_yticks(range(len(MATRIX_SHAPES)))
        ax.set_yticklabels([f"{p}x{c}" for p, c in MATRIX_SHAPES] if i == 0 else [])
        ax.set_xlabel("capacity", fontsize=8)
        if i == 0:
            ax.set_ylabel("producers x consumers", fontsize=8)
        ax.set_title(f"{title.replace('`', '')}: threadkit items/s / best peer's", fontsize=9,
                     loc="left")
    if image is not None:
        bar = fig.colorbar(image, ax=fig.axes[-len(kinds):], fraction=0.02, pad=0.01)
        ticks = [0.1, 0.25, 0.5, 1, 2, 4, 10]
        bar.set_ticks(ticks)
        bar.set_ticklabels([f"{t:g}" for t in ticks])
        bar.minorticks_off()
        bar.set_label("above 1: threadkit faster (log)", fontsize=8)


def draw_bars(fig, left, right, rows):
    """The bars: threadkit / peer (left) and CPython / threadkit (right), one row each."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(rows)
    ys = list(range(n - 1, -1, -1))
    markers = {"std": ("s", "#1f77b4"), "parking_lot": ("D", "#ff7f0e"),
               "crossbeam": ("^", "#9467bd"), "flume": ("v", "#8c564b"),
               "rayon": ("P", "#17becf"), "threadpool": ("X", "#bcbd22"),
               "other": ("o", "#7f7f7f")}

    # Left: threadkit / peer, a bar from parity to the best peer's ratio, a marker per peer.
    for y, row in zip(ys, rows):
        bp = row["best_peer"]
        if bp and bp["ratio"]:
            r = bp["ratio"]
            t = row["target"]
            colour = ("#999999" if not t else "#d62728" if t["state"] == "behind"
                      else "#2ca02c")
            left.barh(y, abs(r - 1), left=min(r, 1), height=0.6, color=colour, alpha=0.55)
            left.text(max(r, 1), y, f" {fmt_ratio(r)}", va="center", fontsize=7)
        for p in row["peers"]:
            if p["ratio"]:
                mk, c = markers.get(p["library"], markers["other"])
                left.plot(p["ratio"], y, mk, color=c, markersize=4)
    left.axvline(1, color="black", linewidth=0.8)
    left.set_xscale("log")
    left.set_xlabel("threadkit time / peer time (log scale; left of 1: threadkit is faster)")
    left.set_title("threadkit time / peer time: below 1, threadkit is faster", fontsize=9,
                   loc="left")
    handles = [Patch(color="#2ca02c", alpha=0.55, label="best peer: target met"),
               Patch(color="#d62728", alpha=0.55, label="best peer: target missed"),
               Patch(color="#999999", alpha=0.55, label="best peer: no target")]
    handles += [Line2D([], [], marker=mk, color=c, linestyle="", label=f"peer: {lib}")
                for lib, (mk, c) in markers.items()]
    # Under the bars' axis labels (an offset in inches, whatever the figure's height).
    below = 0.5 / (left.get_position().height * fig.get_figheight())
    left.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -below), ncol=10,
                fontsize=8, frameon=False)

    # Right: CPython / threadkit.
    for y, row in zip(ys, rows):
        cp = row["cpython"]
        if cp and cp["ratio"]:
            right.barh(y, cp["ratio"], height=0.6, color="#3776ab", alpha=0.7)
            right.text(cp["ratio"], y, f" {fmt_ratio(cp['ratio'])}x", va="center", fontsize=7)
    right.set_xscale("log")
    right.axvline(1, color="black", linewidth=0.8)
    right.set_xlabel("CPython time / threadkit time (log scale)")
    right.set_title("CPython time / threadkit time: how many times faster than Python",
                    fontsize=9, loc="left")
    lo, hi = right.get_xlim()
    right.set_xlim(min(lo, 0.5), hi * 2)

    left.set_yticks(ys)
    left.set_yticklabels([label(r) for r in rows])
    left.set_ylim(-0.7, n - 0.3)
    prev = None
    for y, row in zip(ys, rows):
        if prev is not None and row["family"] != prev:
            for ax in (left, right):
                ax.axhline(y + 0.5, color="#bbbbbb", linewidth=0.6)
        prev = row["family"]
    for ax in (left, right):
        ax.grid(axis="x", which="major", color="#dddddd", linewidth=0.5)
        ax.set_axisbelow(True)


# ----------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(
        description="Run threadkit's benchmarks beside its peers and CPython; write "
                    "BENCHMARKS.md and benches/chart.svg.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="a few seconds per benchmark, one round (development)")
    mode.add_argument("--full", action="store_true",
                      help="longer measurements, three interleaved rounds (the default)")
    p.add_argument("--rounds", type=int, help="rounds instead of the mode's default")
    p.add_argument("--confirm", type=int, metavar="N",
                   help="measure the operations and matrix rows within "
                        f"{CONFIRM_BAND * 100:.0f}%% of their targets N more times after the rounds "
                        "(full: 2, quick: 0)")
    p.add_argument("--bench", action="append",
                   help="run only this criterion bench (repeatable; the report says partial)")
    p.add_argument("--filter", help="criterion's name filter, passed to every bench")
    p.add_argument("--no-cpython", action="store_true", help="skip the CPython baselines")
    p.add_argument("--no-matrix", action="store_true",
                   help="do not run the queue matrix (benches/matrix.rs)")
    p.add_argument("--matrix-only", metavar="TEXT",
                   help="run only the matrix cells whose name (`fifo 1x1 cap 16`) contains TEXT "
                        "(the matrix's --only; the oversubscribed rows match `oversubscribed`, the "
                        "large backlogs `backlog`)")
    p.add_argument("--matrix-also", nargs=2, action="append", metavar=("MACHINE", "CSV"),
                   help="also show the matrix the prebuilt matrix binary wrote with --csv CSV on "
                        "another machine (MACHINE: how the report names it, e.g. '16 cores, "
                        "EPYC 9654'), beside this run's (repeatable; read when rendering, so it "
                        "works with --from too)")
    p.add_argument("--no-chart", action="store_true", help="do not draw benches/chart.svg")
    p.add_argument("--python", default=sys.executable,
                   help="the CPython that runs the baselines (default: this one)")
    p.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    p.add_argument("--chart", type=Path, default=ROOT / "benches" / "chart.svg")
    p.add_argument("--results", type=Path,
                   help="where raw results go (default: <cargo target dir>/bench-report)")
    p.add_argument("--from", dest="source", type=Path,
                   help="render the run saved in this results directory; measure nothing")
    p.add_argument("--show-confirm", action="store_true",
                   help="with --from: print (JSON) the operations and matrix rows that "
                        "--confirm would measure again in that run, and exit")
    p.add_argument("--draw", nargs=2, metavar=("DATA", "SVG"), help=argparse.SUPPRESS)
    p.add_argument("--versions", action="store_true",
                   help="print the resolved versions of threadkit's dependencies (JSON) and exit")
    args = p.parse_args()
    args.argv = [a for a in sys.argv[1:]]
    if args.draw:
        draw(*args.draw)
        return 0
    if args.versions:
        try:
            print(json.dumps(crate_versions(), indent=1, sort_keys=True))
        except ReportError as e:
            print(f"report.py: error: {e}", file=sys.stderr)
            return 1
        return 0
    if args.rounds is not None and args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.confirm is not None and args.confirm < 0:
        p.error("--confirm must be 0 or more")
    if args.show_confirm and not args.source:
        p.error("--show-confirm reads a saved run: give it --from DIR")

    try:
        venv_python = None
        if args.source:
            results = args.source
            meta = read_json(results / "meta.json")
        else:
            tdir = target_dir()
            results = (args.results or tdir / "bench-report").resolve()
            if not args.no_chart:
                venv_python = ensure_matplotlib(tdir / "bench-venv")
            meta = measure(args, "quick" if args.quick else "full", results,
                           own_dir=args.results is None)
            (results / "meta.json").write_text(json.dumps(meta, indent=1))
        samples = load_matrix(results)
        times, units, cpython = load(results, need_criterion=samples is None)
        families, rows, missing = compute(times, units, cpython)
        matrix = compute_matrix(samples)
        if args.show_confirm:
            print(json.dumps({"groups": near_target(rows), "cells": near_parity(matrix)},
                             indent=1))
            return 0
        chart_rel = None
        if not args.no_chart:
            if venv_python is None:
                venv_python = ensure_matplotlib(target_dir() / "bench-venv")
            data = results / "chart-data.json"
            data.write_text(json.dumps({"meta": meta, "rows": rows,
                                        "matrix": matrix_chart_data(matrix)}, indent=1))
            args.chart.parent.mkdir(parents=True, exist_ok=True)
            r = subprocess.run([str(venv_python), __file__, "--draw", str(data), str(args.chart)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise ReportError(f"drawing the chart failed:\n{r.stderr.strip()[-2000:]}")
            chart_rel = os.path.relpath(args.chart, args.output.resolve().parent)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        extra = [(label, csv_path, compute_matrix(load_matrix_csv(Path(csv_path))))
                 for label, csv_path in args.matrix_also or []]
        write_markdown(meta, families, rows, missing, chart_rel, args.output, matrix, extra)
    except ReportError as e:
        print(f"report.py: error: {e}", file=sys.stderr)
        return 1
    log(f"wrote {args.output}" + (f" and {args.chart}" if chart_rel else "")
        + f" (raw results in {results})")
    if meta.get("failures"):
        log("problems in this run (also listed in the report):")
        for f in meta["failures"]:
            log(f"  {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
