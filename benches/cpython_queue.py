#!/usr/bin/env python3
"""CPython baseline for benches/queue.rs: the same work with queue.Queue and queue.SimpleQueue.

P producer threads put N integers in total, C consumer threads get them all; the throughput is
N divided by the time from the common start to the last item got, in items per second. The
cases mirror the Rust bench: 1P1C and 2P2C, bounded (1024) and unbounded. SimpleQueue is
always unbounded. Each case runs several times; the median is reported.

Run (CPython 3.11, as the issue asks):

    python3.11 benches/cpython_queue.py           # ~1 minute
    python3.11 benches/cpython_queue.py --quick   # a few seconds
"""

import argparse
import queue
import statistics
import sys
import threading
import time

BOUND = 1024


def run(q, items, producers, consumers):
    """Moves `items` integers through `q`; returns the elapsed seconds."""
    start = threading.Barrier(producers + consumers + 1)

    def share(total, n, i):
        return total // n + (1 if i < total % n else 0)

    def produce(n):
        put = q.put
        start.wait()
        for i in range(n):
            put(i)

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
    args = parser.parse_args()
    items, rounds = (50_000, 3) if args.quick else (300_000, 5)

    print(f"CPython {sys.version.split()[0]}, {items} items per run, median of {rounds}")
    cases = [
        ("Queue", lambda: queue.Queue(BOUND), f"bounded{BOUND}"),
        ("Queue", lambda: queue.Queue(), "unbounded"),
        ("SimpleQueue", lambda: queue.SimpleQueue(), "unbounded"),
    ]
    for producers, consumers in [(1, 1), (2, 2)]:
        for kind, make, bound in cases:
            rates = [items / run(make(), items, producers, consumers) for _ in range(rounds)]
            rate = statistics.median(rates)
            name = f"fifo_{producers}p{consumers}c_{bound}/{kind}"
            print(f"{name:40} {rate / 1e6:8.3f} Melem/s")


if __name__ == "__main__":
    main()
