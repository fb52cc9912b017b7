#!/usr/bin/env python3
"""CPython baseline for benches/rlock_condition.rs: the same operations on threading.RLock
and threading.Condition, timed with perf_counter (best of several runs, per operation).

    python3 benches/cpython_rlock_condition.py            # about 20 s
    python3 benches/cpython_rlock_condition.py --quick    # a few seconds
    python3 benches/cpython_rlock_condition.py --json     # one JSON document for benches/report.py
"""

import json
import sys
import threading
import time


def best_of(runs, n, body):
    """The fastest of `runs` timings of `body(n)`, per iteration, in nanoseconds."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        body(n)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e9


def rlock_acquire_release(n):
    rl = threading.RLock()
    acquire, release = rl.acquire, rl.release
    for _ in range(n):
        acquire()
        release()


def rlock_with(n):
    rl = threading.RLock()
    for _ in range(n):
        with rl:
            pass


def rlock_depth2(n):
    rl = threading.RLock()
    for _ in range(n):
        with rl:
            with rl:
                pass


def lock_with(n):
    lock = threading.Lock()
    for _ in range(n):
        with lock:
            pass


def notify_no_waiter(n, lock_type):
    cond = threading.Condition(lock_type())
    with cond:
        notify = cond.notify
        for _ in range(n):
            notify()


def ping_pong(n, lock_type):
    """n round trips: two threads take turns under one condition, as in the Rust bench."""
    cond = threading.Condition(lock_type())
    turn = [0]

    def partner():
        for i in range(n):
            with cond:
                while turn[0] != 2 * i + 1:
                    cond.wait()
                turn[0] = 2 * i + 2
                cond.notify()

    t = threading.Thread(target=partner)
    t.start()
    for i in range(n):
        with cond:
            while turn[0] != 2 * i:
                cond.wait()
            turn[0] = 2 * i + 1
            cond.notify()
    with cond:
        while turn[0] != 2 * n:
            cond.wait()
    t.join()


def main():
    quick = "--quick" in sys.argv
    as_json = "--json" in sys.argv
    runs = 3 if quick else 7
    n_fast = 200_000 if quick else 1_000_000
    n_pp = 2_000 if quick else 20_000
    # (criterion group, what CPython runs, the threadkit function it compares with, ns per op)
    rows = [
        ("rlock_uncontended_pair", "RLock acquire()+release()", "threadkit_rlock_acquire_release",
         best_of(runs, n_fast, rlock_acquire_release)),
        ("rlock_uncontended_pair", "with RLock", "threadkit_rlock_guard",
         best_of(runs, n_fast, rlock_with)),
        ("rlock_uncontended_pair", "with Lock (reference)", "threadkit_lock_guard",
         best_of(runs, n_fast, lock_with)),
        ("rlock_recursive_depth2", "with RLock: with RLock", "threadkit_rlock",
         best_of(runs, n_fast, rlock_depth2)),
        ("notify_one_no_waiter", "Condition(RLock).notify()", "threadkit_condition_rlock",
         best_of(runs, n_fast, lambda n: notify_no_waiter(n, threading.RLock))),
        ("notify_one_no_waiter", "Condition(Lock).notify()", "threadkit_condition_lock",
         best_of(runs, n_fast, lambda n: notify_no_waiter(n, threading.Lock))),
        ("condition_ping_pong_round_trip", "Condition(RLock) ping-pong",
         "threadkit_condition_rlock",
         best_of(runs, n_pp, lambda n: ping_pong(n, threading.RLock))),
        ("condition_ping_pong_round_trip", "Condition(Lock) ping-pong", "threadkit_condition_lock",
         best_of(runs, n_pp, lambda n: ping_pong(n, threading.Lock))),
    ]
    if as_json:
        results = [
            {"group": group, "name": name, "ns_per_op": ns, "pairs_with": pairs}
            for group, name, pairs, ns in rows
        ]
        json.dump({"python": sys.version.split()[0], "quick": quick, "results": results},
                  sys.stdout, indent=1)
        print()
        return
    print(f"CPython {sys.version.split()[0]} ({'quick' if quick else 'full'}; best of {runs})")
    for group, name, _, ns in rows:
        value, unit = (ns / 1000, "us") if group == "condition_ping_pong_round_trip" else (ns, "ns")
        print(f"{group + '/' + name:60s} {value:10.2f} {unit}")


if __name__ == "__main__":
    main()
