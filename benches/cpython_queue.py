#!/usr/bin/env python3
"""CPython baseline for benches/queue.rs: the same work with queue.Queue, queue.SimpleQueue
and queue.PriorityQueue.

P producer threads put N integers in total, C consumer threads get them all; the throughput is
N divided by the time from the common start to the last item got, in items per second. The
cases mirror the Rust bench: 1P1C and 2P2C, bounded (1024) and unbounded, and the bounded
PriorityQueue fed scrambled integers. SimpleQueue is always unbounded. Each case runs several
times; the median is reported.

Run (CPython 3.11, as the issue asks):

    python3.11 benches/cpython_queue.py           # ~1 minute
    python3.11 benches/cpython_queue.py --quick   # a few seconds
    python3.11 benches/cpython_queue.py --json    # one JSON document for benches/report.py
"""

import argparse
import json
import queue
import statistics
import sys
import threading
import time

BOUND = 1024


def scramble(i):
    """The Rust bench's scramble, so the priority runs do not put sorted items."""
    return ((i * 0x9E3779B97F4A7C15) & 0xFFFF_FFFF_FFFF_FFFF) >> 40


def run(q, items, producers, consumers, item=None):
    """Moves `items` integers (`item(i)` if given) through `q`; returns the elapsed seconds."""
    start = threading.Barrier(producers + consumers + 1)

    def share(total, n, i):
        return total // n + (1 if i < total % n else 0)

    def produce(n):
        put = q.put
        start.wait()
        if item is None:
            for i in range(n):
                put(i)
        else:
            for i in range(n):
                put(item(i))

    def consume(n):
        get = q.get
        start.wait()
        for _ in range(n):
            get()

    producer_threads = [
        threading.Thread(target=produce, args=(share(items, producers, i),))
        for i in range(producers)
    ]
    consumer_threads = [
        threading.Thread(target=consume, args=(share(items, consumers, i),))
        for i in range(consumers)
    ]
    for t in producer_threads + consumer_threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in consumer_threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for t in producer_threads:
        t.join()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds in all")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (for benches/report.py) instead of the table",
    )
    args = parser.parse_args()
    items, rounds = (50_000, 3) if args.quick else (300_000, 5)

    if not args.json:
        print(f"CPython {sys.version.split()[0]}, {items} items per run, median of {rounds}")
    # (kind, constructor, group suffix, item function)
    cases = [
        ("Queue", lambda: queue.Queue(BOUND), f"fifo_{{}}_bounded{BOUND}", None),
        ("Queue", lambda: queue.Queue(), "fifo_{}_unbounded", None),
        ("SimpleQueue", lambda: queue.SimpleQueue(), "fifo_{}_unbounded", None),
        ("PriorityQueue", lambda: queue.PriorityQueue(BOUND), f"priority_{{}}_bounded{BOUND}",
         scramble),
    ]
    results = []
    for producers, consumers in [(1, 1), (2, 2)]:
        for kind, make, group, item in cases:
            rates = [
                items / run(make(), items, producers, consumers, item) for _ in range(rounds)
            ]
            rate = statistics.median(rates)
            group = group.format(f"{producers}p{consumers}c")
            if args.json:
                # ns per item: the unit of the Rust groups (Throughput::Elements(1) per item).
                results.append({"group": group, "name": f"queue.{kind}", "ns_per_op": 1e9 / rate,
                                "pairs_with": "threadkit"})
            else:
                print(f"{group + '/' + kind:40} {rate / 1e6:8.3f} Melem/s", flush=True)
    if args.json:
        json.dump({"python": sys.version.split()[0], "quick": args.quick, "results": results},
                  sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
