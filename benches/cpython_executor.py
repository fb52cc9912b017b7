#!/usr/bin/env python3
"""CPython baseline for benches/executor.rs: concurrent.futures.ThreadPoolExecutor.

- tasks_with_futures: 100 000 tiny tasks submitted, then every result waited for;
- round_trip: one submit + result on an idle pool.

The pool has as many workers as the Rust bench (the machine's CPU count). Each case runs
several times; the median is reported, in tasks per second.

Run:

    python3 benches/cpython_executor.py           # ~30 seconds
    python3 benches/cpython_executor.py --quick   # a few seconds
    python3 benches/cpython_executor.py --json    # one JSON document for benches/report.py
                                                  # (time per task, as the Rust bench)
"""

import argparse
import concurrent.futures as cf
import json
import os
import platform
import statistics
import time

TASKS = 100_000


def tiny(i):
    return i


def tasks_with_futures(pool, n):
    t0 = time.perf_counter()
    fs = [pool.submit(tiny, i) for i in range(n)]
    total = 0
    for f in fs:
        total += f.result()
    return time.perf_counter() - t0


def round_trip(pool, n):
    t0 = time.perf_counter()
    for i in range(n):
        pool.submit(tiny, i).result()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    runs = 3 if args.quick else 7
    tasks = TASKS // 10 if args.quick else TASKS
    workers = os.cpu_count() or 2
    results = {}
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        for name, case, n in [
            ("tasks_with_futures", tasks_with_futures, tasks),
            ("round_trip", round_trip, tasks // 10),
        ]:
            rates = [n / case(pool, n) for _ in range(runs)]
            results[name] = statistics.median(rates)
    if args.json:
        # The shape benches/report.py reads: time per task beside the Rust rows it pairs with.
        pairs = {"tasks_with_futures": "threadkit", "round_trip": "threadkit submit+result"}
        print(json.dumps({
            "python": platform.python_version(),
            "quick": args.quick,
            "workers": workers,
            "results": [{"group": name, "name": "ThreadPoolExecutor submit + result",
                         "ns_per_op": 1e9 / rate, "pairs_with": pairs[name],
                         "tasks_per_s": rate}
                        for name, rate in results.items()],
        }))
    else:
        for name, rate in results.items():
            print(f"{name:20} {rate:12.0f} tasks/s  ({workers} workers)")


if __name__ == "__main__":
    main()
