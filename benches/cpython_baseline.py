#!/usr/bin/env python3
"""CPython baseline for threadkit's lock and thread benchmarks.

Times, in CPython, the operations that benches/lock.rs and benches/thread.rs time in Rust, so
that the Rust numbers can be read as a ratio to Python:

    python3 benches/cpython_baseline.py          # about half a minute
    python3 benches/cpython_baseline.py --quick  # a few seconds
    python3 benches/cpython_baseline.py --json   # one JSON document for benches/report.py

Each operation runs in a loop timed with time.perf_counter_ns(); the number printed is the
median over several repeats of (loop time / iterations), in nanoseconds per operation. The cost
of an empty loop of the same length is printed too: it is included in every other line (a
Python loop cannot be timed without it), and subtracting it gives the operation alone.
"""

import argparse
import json
import statistics
import sys
import threading
import time


def timed_loop(body, iters, repeats):
    """Median ns per iteration of body(iters) over `repeats` runs; body runs the loop itself."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        body(iters)
        samples.append((time.perf_counter_ns() - t0) / iters)
    return statistics.median(samples)


def empty_loop(n):
    """The loop alone: what every other measurement also pays per iteration."""
    for _ in range(n):
        pass


def lock_pair(n):
    """Lock.acquire() then Lock.release(), uncontended."""
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    for _ in range(n):
        acquire()
        release()


def lock_with(n):
    """`with lock:` around nothing, uncontended (threadkit: lock.guard() and drop)."""
    lock = threading.Lock()
    for _ in range(n):
        with lock:
            pass


def lock_increment(n):
    """`with lock: counter += 1`, uncontended (threadkit: `*mutex.lock() += 1`)."""
    lock = threading.Lock()
    counter = [0]
    for _ in range(n):
        with lock:
            counter[0] += 1


def contended(n):
    """Two threads each doing n times: acquire, increment a shared counter, release.

    Timed from the moment both are released by a barrier until both have finished; the
    per-iteration figure divides by the 2n operations (as the Rust bench's throughput does).
    """
    lock = threading.Lock()
    counter = [0]
    barrier = threading.Barrier(2)

    def work():
        acquire, release = lock.acquire, lock.release
        barrier.wait()
        for _ in range(n):
            acquire()
            counter[0] += 1
            release()

    helper = threading.Thread(target=work)
    helper.start()
    work()
    helper.join()
    assert counter[0] == 2 * n


def start_join(n):
    """threading.Thread(target=f).start() then .join(), with an empty f."""
    def body():
        pass

    for _ in range(n):
        t = threading.Thread(target=body)
        t.start()
        t.join()


def current_thread(n):
    """threading.current_thread()."""
    ct = threading.current_thread
    for _ in range(n):
        ct()


def get_ident(n):
    """threading.get_ident()."""
    gi = threading.get_ident
    for _ in range(n):
        gi()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run in a few seconds")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (for benches/report.py) instead")
    args = parser.parse_args()

    # (name, function, iterations, repeats, divisor, (criterion group, threadkit function)):
    # divisor turns loop iterations into operations (the contended loop does 2 per iteration,
    # one on each thread); the last item names what benches/lock.rs or thread.rs compares.
    scale = 10 if args.quick else 1
    rows = [
        ("empty loop (included below)", empty_loop, 2_000_000 // scale, 7, 1, None),
        ("Lock acquire+release", lock_pair, 2_000_000 // scale, 7, 1,
         ("uncontended_pair", "threadkit_Lock_acquire_release")),
        ("with lock", lock_with, 2_000_000 // scale, 7, 1,
         ("uncontended_pair", "threadkit_Lock_guard")),
        ("with lock: counter += 1", lock_increment, 2_000_000 // scale, 7, 1,
         ("mutex_u64_increment", "threadkit_Mutex")),
        ("contended 2 threads, per op", contended, 500_000 // scale, 5, 2,
         ("contended_2_threads", "threadkit_Lock")),
        ("Thread start+join", start_join, 20_000 // scale, 5, 1,
         ("start_join", "threadkit_Thread_start_join")),
        ("current_thread()", current_thread, 2_000_000 // scale, 7, 1,
         ("current_thread", "threadkit_current_thread")),
        ("get_ident()", get_ident, 2_000_000 // scale, 7, 1,
         ("current_thread", "threadkit_get_ident")),
    ]
    if not args.json:
        print(f"CPython {sys.version.split()[0]} ({'quick' if args.quick else 'full'} run)")
        print(f"{'operation':<32} {'iterations':>10} {'ns/op':>10}")
    results = []
    for name, fn, iters, repeats, div, pair in rows:
        if args.quick:
            repeats = min(repeats, 3)
        ns = timed_loop(fn, iters, repeats) / div
        if args.json:
            if pair:
                results.append({"group": pair[0], "name": name, "ns_per_op": ns,
                                "pairs_with": pair[1]})
        else:
            print(f"{name:<32} {iters:>10} {ns:>10.1f}")
    if args.json:
        json.dump({"python": sys.version.split()[0], "quick": args.quick, "results": results},
                  sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
