//! Queue throughput, side by side with the peers, in items per second.
//!
//! Each group moves the same items from P producer threads to C consumer threads through
//! one queue; one criterion iteration is one item (put and got). Peers: crossbeam-channel,
//! flume, std mpsc (single consumer only, so 1P1C only) and a parking_lot `Mutex<VecDeque>`
//! with two `Condvar`s written here, notifying only when a thread waits (the strongest simple
//! lock-based queue). threadkit's queues keep their task accounting (the unfinished count
//! behind `task_done`/`join`) on, as always. The unbounded groups also run `SimpleQueue`
//! (`threadkit_simple`: the lock-free list, where an unbounded `Queue` has two locks).
//!
//! `PriorityQueue` runs against a parking_lot `Mutex<BinaryHeap>` + `Condvar` queue.
//!
//! `queue_reply_round_trip` times one request and its reply through two unbounded queues
//! (a caller and a worker answering it), where both sides wait for every item.
//! `queue_pipeline_busy_consumer` times one item through a `Queue(10)` (the tutorial's work
//! queue) whose consumer works 10 µs on each, so the producer waits for room on every item.
//!
//! Run: `cargo bench --bench queue -- --warm-up-time 1 --measurement-time 2`.
//!
//! On shared machines whose speed swings between runs, `-- --paired 25` skips criterion and
//! instead runs every implementation once per round, in a rotating order, for 25 rounds of
//! a million items, printing each one's median rate and the median of the per-round ratios
//! threadkit / best peer and threadkit / parking_lot: ratios taken within one round cancel
//! most of the machine's mood swings. `--only TEXT` runs only the cases whose name contains
//! `TEXT` (for instance `-- --paired 40 --only unbounded`); `--solo IMP` runs only the
//! implementation `IMP` and prints its rates (for profilers: `perf stat`, callgrind).

use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::sync::{Barrier, mpsc};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{Bencher, BenchmarkGroup, Criterion, Throughput};
use threadkit::queue::{PriorityQueue, Queue, SimpleQueue};

#[path = "support/peer_queue.rs"]
mod peer_queue;
use peer_queue::{PlQueue, scramble};

/// The bound of the bounded runs.
const BOUND: usize = 1024;

/// Moves `items` items from `producers` threads to the consumers, each of which gets a
/// receiving end from `rxs`; returns the time from the common start to the last item.
fn run<S, R>(
    items: u64,
    producers: usize,
    tx: S,
    rxs: Vec<R>,
    send: fn(&S, u64),
    recv: fn(&R) -> u64,
) -> Duration
where
    S: Clone + Send,
    R: Send,
{
    let consumers = rxs.len();
    let start = Barrier::new(producers + consumers + 1);
    let share = |total: u64, n: usize, i: usize| {
        total / n as u64 + u64::from((i as u64) < total % n as u64)
    };
    std::thread::scope(|s| {
        for p in 0..producers {
            let (tx, start) = (tx.clone(), &start);
            let n = share(items, producers, p);
            s.spawn(move || {
                start.wait();
                for i in 0..n {
                    send(&tx, i);
                }
            });
        }
        let mut handles = Vec::new();
        for (c, rx) in rxs.into_iter().enumerate() {
            let start = &start;
            let n = share(items, consumers, c);
            handles.push(s.spawn(move || {
                start.wait();
                let mut sum = 0u64;
                for _ in 0..n {
                    sum = sum.wrapping_add(recv(&rx));
                }
                black_box(sum);
            }));
        }
        start.wait();
        let t0 = Instant::now();
        for h in handles {
            h.join().unwrap();
        }
        t0.elapsed()
    })
}

fn fifo_group(g: &mut BenchmarkGroup<'_, WallTime>, p: usize, c: usize, bound: Option<usize>) {
    let cap = bound.unwrap_or(0);
    g.bench_function("threadkit", |b| {
        b.iter_custom(|n| {
            let q = Queue::new(cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(n, p, q, rxs, |q, v| q.put(v).unwrap(), |q| q.get().unwrap())
        })
    });
    if bound.is_none() {
        g.bench_function("threadkit_simple", |b| {
            b.iter_custom(|n| {
                let q = SimpleQueue::new();
                let rxs = (0..c).map(|_| q.clone()).collect();
                run(n, p, q, rxs, |q, v| q.put(v).unwrap(), |q| q.get().unwrap())
            })
        });
    }
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| {
            let q = PlQueue::new(VecDeque::with_capacity(cap.min(BOUND)), cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(n, p, q, rxs, |q, v| q.put(v), |q| q.get())
        })
    });
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|n| {
            let (tx, rx) = match bound {
                Some(k) => crossbeam_channel::bounded(k),
                None => crossbeam_channel::unbounded(),
            };
            let rxs = (0..c).map(|_| rx.clone()).collect();
            run(
                n,
                p,
                tx,
                rxs,
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
            )
        })
    });
    g.bench_function("flume", |b| {
        b.iter_custom(|n| {
            let (tx, rx) = match bound {
                Some(k) => flume::bounded(k),
                None => flume::unbounded(),
            };
            let rxs = (0..c).map(|_| rx.clone()).collect();
            run(
                n,
                p,
                tx,
                rxs,
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
            )
        })
    });
    if c == 1 {
        match bound {
            Some(k) => g.bench_function("std_mpsc", |b| {
                b.iter_custom(|n| {
                    let (tx, rx) = mpsc::sync_channel(k);
                    run(
                        n,
                        p,
                        tx,
                        vec![rx],
                        |t, v| t.send(v).unwrap(),
                        |r| r.recv().unwrap(),
                    )
                })
            }),
            None => g.bench_function("std_mpsc", |b| {
                b.iter_custom(|n| {
                    let (tx, rx) = mpsc::channel();
                    run(
                        n,
                        p,
                        tx,
                        vec![rx],
                        |t, v| t.send(v).unwrap(),
                        |r| r.recv().unwrap(),
                    )
                })
            }),
        };
    }
}

fn priority_group(g: &mut BenchmarkGroup<'_, WallTime>, p: usize, c: usize, bound: Option<usize>) {
    let cap = bound.unwrap_or(0);
    g.bench_function("threadkit", |b| {
        b.iter_custom(|n| {
            let q = PriorityQueue::new(cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(
                n,
                p,
                q,
                rxs,
                |q, v| q.put(scramble(v)).unwrap(),
                |q| q.get().unwrap(),
            )
        })
    });
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| {
            let q = PlQueue::new(BinaryHeap::with_capacity(cap.min(BOUND)), cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(n, p, q, rxs, |q, v| q.put(scramble(v)), |q| q.get())
        })
    });
}

/// One request and its reply: this thread puts an item into one queue, a partner thread
/// gets it and puts the answer into a second queue, which this thread gets. What a caller
/// waiting on a worker fed through a queue pays per request; both sides wait on every item.
fn reply_round_trip<S, R>(
    b: &mut Bencher<'_>,
    requests: (S, R),
    replies: (S, R),
    send: fn(&S, u64),
    recv: fn(&R) -> u64,
) where
    S: Send,
    R: Send,
{
    let ((ask, take), (answer, hear)) = (requests, replies);
    std::thread::scope(|s| {
        s.spawn(move || {
            loop {
                let v = recv(&take);
                if v == u64::MAX {
                    return;
                }
                send(&answer, v + 1);
            }
        });
        b.iter(|| {
            send(&ask, 1);
            black_box(recv(&hear))
        });
        send(&ask, u64::MAX);
    });
}

fn reply_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_reply_round_trip");
    g.throughput(Throughput::Elements(1));
    let tk = || {
        let q = Queue::new(0);
        (q.clone(), q)
    };
    g.bench_function("threadkit", |b| {
        reply_round_trip(
            b,
            tk(),
            tk(),
            |q, v| q.put(v).unwrap(),
            |q| q.get().unwrap(),
        )
    });
    let simple = || {
        let q = SimpleQueue::new();
        (q.clone(), q)
    };
    g.bench_function("threadkit_simple", |b| {
        reply_round_trip(
            b,
            simple(),
            simple(),
            |q, v| q.put(v).unwrap(),
            |q| q.get().unwrap(),
        )
    });
    let pl = || {
        let q = PlQueue::new(VecDeque::new(), 0);
        (q.clone(), q)
    };
    g.bench_function("parking_lot", |b| {
        reply_round_trip(b, pl(), pl(), |q, v| q.put(v), |q| q.get())
    });
    g.bench_function("crossbeam", |b| {
        reply_round_trip(
            b,
            crossbeam_channel::unbounded(),
            crossbeam_channel::unbounded(),
            |t, v| t.send(v).unwrap(),
            |r| r.recv().unwrap(),
        )
    });
    g.bench_function("flume", |b| {
        reply_round_trip(
            b,
            flume::unbounded(),
            flume::unbounded(),
            |t, v| t.send(v).unwrap(),
            |r| r.recv().unwrap(),
        )
    });
    g.bench_function("std_mpsc", |b| {
        reply_round_trip(
            b,
            mpsc::channel(),
            mpsc::channel(),
            |t, v| t.send(v).unwrap(),
            |r| r.recv().unwrap(),
        )
    });
    g.finish();
}

/// How long the consumer of `queue_pipeline_busy_consumer` works on each item: longer than
/// a waiter's fixed spin, far shorter than a time slice.
const CONSUMER_WORK: Duration = Duration::from_micros(10);
/// The bound of `queue_pipeline_busy_consumer`: the tutorial's work queue's.
const PIPELINE_BOUND: usize = 10;

/// A producer that puts `n` items as fast as the bounded queue takes them, and this thread
/// consuming them, busy for [`CONSUMER_WORK`] on each: the queue stays full and the producer
/// waits for room on every item. The time per item is the consumer's work plus what the
/// queue adds to it (a producer asleep on the full queue makes each get pay a wake-up).
fn busy_pipeline<S: Send, R>(
    b: &mut Bencher<'_>,
    make: impl Fn() -> (S, R),
    send: fn(&S, u64),
    recv: fn(&R) -> u64,
) {
    b.iter_custom(|n| {
        let (tx, rx) = make();
        std::thread::scope(|s| {
            s.spawn(move || {
                for i in 0..n {
                    send(&tx, i);
                }
            });
            let start = Instant::now();
            for _ in 0..n {
                black_box(recv(&rx));
                let t = Instant::now();
                while t.elapsed() < CONSUMER_WORK {
                    std::hint::spin_loop();
                }
            }
            start.elapsed()
        })
    });
}

fn pipeline_group(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_pipeline_busy_consumer");
    g.throughput(Throughput::Elements(1));
    g.bench_function("threadkit", |b| {
        let make = || {
            let q = Queue::new(PIPELINE_BOUND);
            (q.clone(), q)
        };
        busy_pipeline(b, make, |q, v| q.put(v).unwrap(), |q| q.get().unwrap())
    });
    g.bench_function("parking_lot", |b| {
        let make = || {
            let q = PlQueue::new(VecDeque::new(), PIPELINE_BOUND);
            (q.clone(), q)
        };
        busy_pipeline(b, make, |q, v| q.put(v), |q| q.get())
    });
    g.bench_function("crossbeam", |b| {
        let make = || crossbeam_channel::bounded(PIPELINE_BOUND);
        busy_pipeline(b, make, |t, v| t.send(v).unwrap(), |r| r.recv().unwrap())
    });
    g.bench_function("flume", |b| {
        let make = || flume::bounded(PIPELINE_BOUND);
        busy_pipeline(b, make, |t, v| t.send(v).unwrap(), |r| r.recv().unwrap())
    });
    g.bench_function("std_mpsc", |b| {
        let make = || mpsc::sync_channel(PIPELINE_BOUND);
        busy_pipeline(b, make, |t, v| t.send(v).unwrap(), |r| r.recv().unwrap())
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    reply_group(c);
    pipeline_group(c);
    for (p, k) in [(1, 1), (2, 2)] {
        for bound in [Some(BOUND), None] {
            let name = match bound {
                Some(b) => format!("fifo_{p}p{k}c_bounded{b}"),
                None => format!("fifo_{p}p{k}c_unbounded"),
            };
            let mut g = c.benchmark_group(name);
            g.throughput(Throughput::Elements(1)).sample_size(20);
            fifo_group(&mut g, p, k, bound);
            g.finish();
        }
    }
    for (p, k) in [(1, 1), (2, 2)] {
        let mut g = c.benchmark_group(format!("priority_{p}p{k}c_bounded{BOUND}"));
        g.throughput(Throughput::Elements(1)).sample_size(20);
        priority_group(&mut g, p, k, Some(BOUND));
        g.finish();
    }
}

/// One run of `imp` on a case: items per second.
fn rate(imp: &str, items: u64, case: &Case) -> f64 {
    let &Case {
        producers: p,
        consumers: c,
        bound: cap,
        priority,
        ..
    } = case;
    let d = match (imp, priority) {
        ("threadkit", false) => {
            let q = Queue::new(cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(
                items,
                p,
                q,
                rxs,
                |q, v| q.put(v).unwrap(),
                |q| q.get().unwrap(),
            )
        }
        ("threadkit", true) => {
            let q = PriorityQueue::new(cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(
                items,
                p,
                q,
                rxs,
                |q, v| q.put(scramble(v)).unwrap(),
                |q| q.get().unwrap(),
            )
        }
        ("parking_lot", false) => {
            let q = PlQueue::new(VecDeque::with_capacity(cap.min(BOUND)), cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(items, p, q, rxs, |q, v| q.put(v), |q| q.get())
        }
        ("parking_lot", true) => {
            let q = PlQueue::new(BinaryHeap::with_capacity(cap.min(BOUND)), cap);
            let rxs = (0..c).map(|_| q.clone()).collect();
            run(items, p, q, rxs, |q, v| q.put(scramble(v)), |q| q.get())
        }
        ("crossbeam", _) => {
            let (tx, rx) = match cap {
                0 => crossbeam_channel::unbounded(),
                k => crossbeam_channel::bounded(k),
            };
            let rxs = (0..c).map(|_| rx.clone()).collect();
            run(
                items,
                p,
                tx,
                rxs,
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
            )
        }
        ("flume", _) => {
            let (tx, rx) = match cap {
                0 => flume::unbounded(),
                k => flume::bounded(k),
            };
            let rxs = (0..c).map(|_| rx.clone()).collect();
            run(
                items,
                p,
                tx,
                rxs,
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
            )
        }
        ("std_mpsc", _) if cap == 0 => {
            let (tx, rx) = mpsc::channel();
            run(
                items,
                p,
                tx,
                vec![rx],
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
            )
        }
        ("std_mpsc", _) => {
            let (tx, rx) = mpsc::sync_channel(cap);
            run(
                items,
                p,
                tx,
                vec![rx],
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
            )
        }
        _ => unreachable!("unknown implementation {imp}"),
    };
    items as f64 / d.as_secs_f64()
}

struct Case {
    name: String,
    producers: usize,
    consumers: usize,
    /// 0: unbounded.
    bound: usize,
    priority: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The interleaved comparison: see the file docs.
fn paired(rounds: usize, items: u64, only: &str, solo: Option<&str>) {
    let mut cases = Vec::new();
    for (p, c) in [(1, 1), (2, 2)] {
        for bound in [BOUND, 0] {
            let b = if bound == 0 {
                "unbounded".to_string()
            } else {
                format!("bounded{bound}")
            };
            let name = format!("fifo_{p}p{c}c_{b}");
            cases.push(Case {
                name,
                producers: p,
                consumers: c,
                bound,
                priority: false,
            });
        }
    }
    for (p, c) in [(1, 1), (2, 2)] {
        let name = format!("priority_{p}p{c}c_bounded{BOUND}");
        cases.push(Case {
            name,
            producers: p,
            consumers: c,
            bound: BOUND,
            priority: true,
        });
    }
    cases.retain(|c| c.name.contains(only));
    println!(
        "{rounds} rounds of {items} items; medians of rates (Melem/s) and of per-round ratios"
    );
    for case in &cases {
        let mut imps = vec!["threadkit", "parking_lot"];
        if !case.priority {
            imps.extend(["crossbeam", "flume"]);
            if case.consumers == 1 {
                imps.push("std_mpsc");
            }
        }
        if let Some(imp) = solo {
            let mut r: Vec<f64> = (0..rounds).map(|_| rate(imp, items, case)).collect();
            println!("{:27} {imp} {:.1}", case.name, median(&mut r) / 1e6);
            continue;
        }
        let mut rates = vec![Vec::new(); imps.len()];
        let (mut vs_best, mut vs_pl) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let mut this = vec![0.0; imps.len()];
            for k in 0..imps.len() {
                let i = (k + round) % imps.len();
                this[i] = rate(imps[i], items, case);
                rates[i].push(this[i]);
            }
            let best = this[1..].iter().copied().fold(0.0, f64::max);
            vs_best.push(this[0] / best);
            vs_pl.push(this[0] / this[1]);
        }
        let mut line = format!("{:27}", case.name);
        for (imp, r) in imps.iter().zip(&mut rates) {
            line += &format!(" {imp} {:.1}", median(r) / 1e6);
        }
        line += &format!(
            " | threadkit/best {:.2} threadkit/parking_lot {:.2}",
            median(&mut vs_best),
            median(&mut vs_pl)
        );
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--paired") {
        let rounds = args.get(i + 1).and_then(|r| r.parse().ok()).unwrap_or(15);
        let only = args.iter().position(|a| a == "--only");
        let only = only
            .and_then(|i| args.get(i + 1))
            .map_or("", String::as_str);
        let solo = args.iter().position(|a| a == "--solo");
        let solo = solo.and_then(|i| args.get(i + 1)).map(String::as_str);
        paired(rounds, 1_000_000, only, solo);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
