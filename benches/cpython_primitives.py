#!/usr/bin/env python3
"""CPython baseline for benches/primitives.rs: the same operations on threading's own
Semaphore, BoundedSemaphore, Event, Barrier and local.

    python3 benches/cpython_primitives.py          # about a minute
    python3 benches/cpython_primitives.py --quick  # a few seconds
    python3 benches/cpython_primitives.py --json   # one JSON document for benches/report.py

Prints, for each operation, the best time per operation over several repeats (the least
disturbed run), in the units criterion uses. Written for CPython 3.11; any 3.x runs it.
"""

import argparse
import json
import platform
import sys
import threading
import time


def best_per_op(fn, loops, repeats):
    """Runs fn(loops) `repeats` times; returns the best seconds per loop."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(loops)
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def semaphore_pair(sem):
    acquire, release = sem.acquire, sem.release

    def run(n):
        for _ in range(n):
            acquire()
            release()

    return run


def event_set(ev):
    s = ev.set

    def run(n):
        for _ in range(n):
            s()

    return run


def event_set_clear(ev):
    s, c = ev.set, ev.clear

    def run(n):
        for _ in range(n):
            s()
            c()

    return run


def event_is_set(ev):
    f = ev.is_set

    def run(n):
        for _ in range(n):
            f()

    return run


def event_wait_on_set(ev):
    w = ev.wait

    def run(n):
        for _ in range(n):
            w()

    return run


def two_threads(helper_step, main_step):
    """Times `n` main steps while a helper thread makes `n` helper steps (they meet each
    other, so this measures round trips). One helper thread, reused across runs."""
    go = threading.Semaphore(0)
    done = threading.Semaphore(0)
    todo = [0]

    def helper():
        while True:
            go.acquire()
            n = todo[0]
            if n < 0:
                return
            for _ in range(n):
                helper_step()
            done.release()

    t = threading.Thread(target=helper, daemon=True)
    t.start()

    def run(n):
        todo[0] = n
        go.release()
        for _ in range(n):
            main_step()
        done.acquire()

    def stop():
        todo[0] = -1
        go.release()
        t.join()

    return run, stop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds in all")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (for benches/report.py) instead")
    args = parser.parse_args()
    scale = 0.05 if args.quick else 1.0
    repeats = 3 if args.quick else 7

    def loops(n):
        return max(10, int(n * scale))

    rows = []

    def report(group, what, seconds, pairs_with="threadkit"):
        # `pairs_with`: the benches/primitives.rs function this is compared with.
        ns = seconds * 1e9
        rows.append({"group": group, "name": what, "ns_per_op": ns, "pairs_with": pairs_with})
        if not args.json:
            shown = f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.1f} ns"
            print(f"{group:28s} {what:24s} {shown:>12s}", flush=True)

    if not args.json:
        print(f"# CPython {platform.python_version()} ({sys.implementation.name}), "
              f"switch interval {sys.getswitchinterval() * 1e3:.1f} ms"
              + (", --quick" if args.quick else ""))

    report("semaphore_acquire_release", "Semaphore",
           best_per_op(semaphore_pair(threading.Semaphore(1)), loops(1_000_000), repeats))
    report("semaphore_acquire_release", "BoundedSemaphore",
           best_per_op(semaphore_pair(threading.BoundedSemaphore(1)), loops(1_000_000), repeats),
           "threadkit_bounded")

    ping, pong = threading.Semaphore(0), threading.Semaphore(0)

    def helper_step():
        ping.acquire()
        pong.release()

    def main_step():
        ping.release()
        pong.acquire()

    run, stop = two_threads(helper_step, main_step)
    report("semaphore_handoff", "Semaphore", best_per_op(run, loops(20_000), repeats))
    stop()

    ev = threading.Event()
    report("event_set", "Event", best_per_op(event_set(ev), loops(2_000_000), repeats))
    report("event_set_clear", "Event",
           best_per_op(event_set_clear(ev), loops(1_000_000), repeats))
    ev.set()
    report("event_is_set", "Event", best_per_op(event_is_set(ev), loops(5_000_000), repeats))
    report("event_wait_on_set", "Event",
           best_per_op(event_wait_on_set(ev), loops(2_000_000), repeats))

    barrier = threading.Barrier(2)
    run, stop = two_threads(barrier.wait, barrier.wait)
    report("barrier2_cycle", "Barrier", best_per_op(run, loops(20_000), repeats))
    stop()

    local = threading.local()
    local.x = 0

    def local_rw(n):
        for _ in range(n):
            local.x += 1

    report("local_with", "local attribute +=", best_per_op(local_rw, loops(5_000_000), repeats))

    if args.json:
        json.dump({"python": platform.python_version(), "quick": args.quick, "results": rows},
                  sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
