//! The queue matrix and the oversubscribed rows, as one self-contained program.
//!
//! Every queue kind (FIFO `Queue`, `LifoQueue`, `PriorityQueue`) moves items from P producer
//! threads to C consumer threads at every capacity a user is likely to pick (1, 2, 10, 16, 64,
//! 1024 and unbounded) and at 1x1, 2x2, 4x4 and 8x8 threads, side by side with its peers in
//! the same process, in rotating order, round after round (each round runs every chosen cell
//! once, so that each cell's rounds spread over the whole run):
//!
//! - FIFO: `crossbeam_channel::bounded`/`unbounded`, `flume`, std `sync_channel`/`channel`
//!   (one consumer only: std's receiver cannot be shared), and a parking_lot
//!   `Mutex<VecDeque>` with two `Condvar`s that notify only when a thread waits;
//! - LIFO: the same parking_lot queue over a `Vec`;
//! - priority: the same parking_lot queue over a `BinaryHeap`.
//!
//! The unbounded FIFO cells also run threadkit's `SimpleQueue` (`threadkit_simple`: the
//! lock-free list of slot blocks, where `Queue(0)` is the two-lock core) in the same rounds.
//! It is listed with each implementation's medians and left out of the ratios, so that every
//! run, on whatever machine, is also an A/B of the two unbounded cores.
//!
//! Each cell reports threadkit's throughput divided by the best peer's (higher is better) and
//! threadkit's CPU time per item divided by the lowest peer's (lower is better), each the
//! median of the per-round ratios: ratios taken within one round cancel most of a shared
//! machine's swings. CPU time is the whole process's user + system time over the run
//! (`getrusage`), so it counts spinning and the work of waking sleepers.
//!
//! Then the oversubscribed rows: a lock hammered by 16 threads, an 8-party barrier, and a 4x4
//! queue at capacity 64, with wall throughput and CPU time per operation; and the large
//! backlogs: 2 000 000 items through unbounded queues (a priority queue 1x1 and 4x4, a FIFO
//! queue 1x1), a fixed count rather than a duration, so that the backlog grows as large as
//! it does in a user's long run whatever `--ms` says.
//!
//! Nothing here needs cargo or Python at run time: build once with
//! `cargo bench --bench matrix --no-run` (it prints the executable's path), copy that file to
//! any Linux machine of the same architecture, and run it there:
//!
//! ```text
//! matrix [--rounds N] [--ms MS] [--only TEXT] [--cell NAME]... [--kinds fifo,lifo,priority]
//!        [--csv FILE] [--no-oversubscribed]
//! ```
//!
//! `--ms` is how long the producers of one run (and the threads of an oversubscribed run)
//! go on, in every cell and for every implementation alike; the queue is then drained, and
//! the items the consumers took are what a run counts. A fixed item count would not do: at
//! the small capacities the slowest peer is 10 to 40 times slower than the others, so a count
//! that gives it `--ms` gives the others runs of a millisecond or two, and with more threads
//! than cores such a run is decided by how the scheduler happens to interleave the threads in
//! its first time slices (on 2 cores, `fifo 4x4 cap 10` moved 3.5 or 17-34 M items/s from run
//! to run, threadkit and crossbeam alike, at 170 000 items). `--only` keeps the cells whose
//! name (`fifo 4x4 cap 64`) contains the text (`oversubscribed` and `backlog` keep those
//! sections); `--csv` also writes every run (the oversubscribed rows too, with
//! kinds `oversubscribed_mutex`, `_barrier`, `_queue`, and the large backlogs, with kinds
//! `backlog_priority_1x1`, `backlog_priority_4x4`, `backlog_fifo_1x1`; every line also
//! carries `line_ns` and `line_after_ns`, the cache-line round trip between two CPUs
//! measured before and after its round: see [`line_round_trip`]);
//! `--no-oversubscribed` leaves out both sections. `--cell NAME` (repeatable) runs exactly the
//! cells so named (`fifo 1x1 cap 1`, not `cap 10`) and the extra rows whose CSV kind is NAME
//! (`oversubscribed_queue`), and nothing else: the report uses it to measure again the cells
//! near their targets.

use std::collections::{BinaryHeap, VecDeque};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, mpsc};
use std::time::{Duration, Instant};

use threadkit::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};

#[path = "support/peer_queue.rs"]
mod peer_queue;
use peer_queue::{PlQueue, scramble};

/// The capacities of the matrix; 0 is unbounded.
const CAPS: [usize; 7] = [1, 2, 10, 16, 64, 1024, 0];
/// Producers x consumers.
const SHAPES: [(usize, usize); 4] = [(1, 1), (2, 2), (4, 4), (8, 8)];

/// Process CPU time (user + system) so far.
#[cfg(unix)]
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given, which is zeroed and ours.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[cfg(not(unix))]
fn cpu_time() -> Duration {
    Duration::ZERO
}

/// The round trip of one cache line between the first two CPUs this process may run on, in
/// nanoseconds: two threads, each pinned to one of them, take turns writing it (the best of
/// five batches of 2 000 turns, so that a preempted batch does not count). Measured before
/// and after every round and written with each run (`line_ns`, `line_after_ns`), because a
/// virtual machine's host may move its virtual CPUs between one core's hyperthreads, nearby
/// cores and distant ones for seconds at a time: on a 2-vCPU EPYC guest about 27, 65 or
/// 320 ns, and in the slow phase threadkit's queues (lock-free cores and locked ones alike)
/// moved half the items or fewer where crossbeam-channel's list hardly changed. 0 where it
/// cannot be measured (fewer than two CPUs, or not Linux).
#[cfg(target_os = "linux")]
fn line_round_trip() -> f64 {
    // SAFETY: `cpu_set_t` is plain data; sched_getaffinity only writes the set it is given.
    let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: as above, for the calling thread (pid 0).
    if unsafe { libc::sched_getaffinity(0, size, &mut allowed) } != 0 {
        return 0.0;
    }
    let mut cpus = (0..libc::CPU_SETSIZE as usize).filter(|&c| {
        // SAFETY: `c` is below CPU_SETSIZE, the set's size.
        unsafe { libc::CPU_ISSET(c, &allowed) }
    });
    let (Some(a), Some(b)) = (cpus.next(), cpus.next()) else {
        return 0.0;
    };
    // Pins the calling thread to `cpu`; false if the system refused.
    let pin = |cpu: usize| {
        // SAFETY: a zeroed set with one CPU added, for the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, size, &set) == 0
        }
    };
    const TURNS: u64 = 2_000;
    let line = crossbeam_utils::CachePadded::new(AtomicU64::new(0));
    // Set by a thread that could not be pinned (or the measuring thread, when it is done
    // early): the other stops waiting.
    let give_up = AtomicBool::new(false);
    // Waits until the line holds `v`; false if the other side gave up.
    let wait_for = |v: u64| {
        while line.load(Ordering::Acquire) != v {
            if give_up.load(Ordering::Relaxed) {
                return false;
            }
            std::hint::spin_loop();
        }
        true
    };
    let best = std::thread::scope(|s| {
        s.spawn(|| {
            if !pin(b) {
                give_up.store(true, Ordering::Relaxed);
                return;
            }
            // Answers each odd value with the next even one.
            for i in 0..5 * TURNS {
                if !wait_for(2 * i + 1) {
                    return;
                }
                line.store(2 * i + 2, Ordering::Release);
            }
        });
        // Its own thread too: a pinned main thread would pass its mask on to every thread
        // the matrix spawns afterwards.
        let measuring = s.spawn(|| {
            if !pin(a) {
                give_up.store(true, Ordering::Relaxed);
                return f64::INFINITY;
            }
            let mut best = f64::INFINITY;
            for batch in 0..5 {
                let t = Instant::now();
                for i in batch * TURNS..(batch + 1) * TURNS {
                    line.store(2 * i + 1, Ordering::Release);
                    if !wait_for(2 * i + 2) {
                        return f64::INFINITY;
                    }
                }
                best = best.min(t.elapsed().as_nanos() as f64 / TURNS as f64);
            }
            best
        });
        measuring.join().unwrap_or(f64::INFINITY)
    });
    if best.is_finite() { best } else { 0.0 }
}

#[cfg(not(target_os = "linux"))]
fn line_round_trip() -> f64 {
    0.0
}

/// Adds one round's runs to the CSV: `runs` holds a line per run without its last two
/// columns, which this appends: the round trip `before` the round and one measured now,
/// after it (a round may start in one phase and end in another).
fn add_round(csv: &mut String, runs: &str, before: f64) {
    let after = line_round_trip();
    for run in runs.lines() {
        let _ = writeln!(csv, "{run},{before:.0},{after:.0}");
    }
}

/// Wall time, process CPU time and operations (items moved, lock operations, barrier
/// cycles) of one run.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    ops: u64,
}

/// How long one run goes on.
#[derive(Clone, Copy)]
enum Amount {
    /// A fixed number of items (operations): the large backlogs.
    Items(u64),
    /// The producers (lock or barrier threads) go on until this much time has passed since
    /// the start line; then the queue is drained (see [`run`]). The matrix and the
    /// oversubscribed rows: every implementation runs for `--ms`, whatever its speed.
    For(Duration),
}

/// The item a timed run's last producer sends once per consumer after everything else: a
/// consumer that gets it stops. No measured item has this value (the priority runs'
/// scrambled items are below 2^24).
const STOP: u64 = u64::MAX;

/// A timed run's flag, set by the main thread when the time is up; on its own cache line,
/// away from the measured object.
type StopFlag = crossbeam_utils::CachePadded<AtomicBool>;

/// On the main thread, after the start line: for a timed run, sleeps its duration and sets
/// `stop`.
fn stop_after(amount: Amount, stop: &StopFlag) {
    if let Amount::For(d) = amount {
        std::thread::sleep(d);
        stop.store(true, Ordering::Relaxed);
    }
}

/// The start line of a run: every thread is spawned and waiting before the clock starts, so a
/// main thread that an oversubscribed machine deschedules cannot start the clock late.
struct Start {
    ready: Barrier,
    go: Barrier,
}

impl Start {
    fn new(threads: usize) -> Self {
        Start {
            ready: Barrier::new(threads + 1),
            go: Barrier::new(threads + 1),
        }
    }

    /// Called by each measured thread before its work.
    fn wait(&self) {
        self.ready.wait();
        self.go.wait();
    }

    /// Called by the main thread: waits until every thread is ready, reads the clocks, and
    /// lets them go.
    fn go(&self) -> (Instant, Duration) {
        self.ready.wait();
        let t = (Instant::now(), cpu_time());
        self.go.wait();
        t
    }
}

/// Moves items from `producers` threads to one consumer per receiving end in `rxs`. With
/// [`Amount::Items`], each producer puts and each consumer takes its known share; with
/// [`Amount::For`], the producers put until the time is up, then the last of them to stop
/// puts one [`STOP`] per consumer, and each consumer takes until it gets one. A FIFO or
/// priority queue hands the stops out after every item; a LIFO queue would hand them out
/// first, so for it (`empty` given) the last producer waits until the consumers have drained
/// the queue before it puts them. Every item put is taken and counted, whatever the kind (the
/// run checks it): `ops` is the items the consumers took, which is what the throughput and
/// CPU per item divide by. Every kind of queue (FIFO, LIFO, priority) runs the same program.
fn run<S, R>(
    amount: Amount,
    producers: usize,
    tx: S,
    rxs: Vec<R>,
    send: fn(&S, u64),
    recv: fn(&R) -> u64,
    empty: Option<fn(&S) -> bool>,
) -> Sample
where
    S: Clone + Send,
    R: Send,
{
    let consumers = rxs.len();
    let start = Start::new(producers + consumers);
    let stop = StopFlag::default();
    let left = AtomicUsize::new(producers);
    let share = |total: u64, n: usize, i: usize| {
        total / n as u64 + u64::from((i as u64) < total % n as u64)
    };
    std::thread::scope(|s| {
        let mut producing = Vec::new();
        for p in 0..producers {
            let (tx, start, stop, left) = (tx.clone(), &start, &stop, &left);
            producing.push(s.spawn(move || {
                start.wait();
                match amount {
                    Amount::Items(items) => {
                        let mine = share(items, producers, p);
                        for i in 0..mine {
                            send(&tx, i);
                        }
                        mine
                    }
                    Amount::For(_) => {
                        let mut i = 0;
                        while !stop.load(Ordering::Relaxed) {
                            send(&tx, i);
                            i += 1;
                        }
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            // A LIFO queue hands out its newest item first: a stop put on
                            // top of a backlog would end the consumers before the backlog
                            // (which they would never count), so it waits for the drain.
                            if let Some(empty) = empty {
                                while !empty(&tx) {
                                    std::thread::yield_now();
                                }
                            }
                            for _ in 0..consumers {
                                send(&tx, STOP);
                            }
                        }
                        i
                    }
                }
            }));
        }
        drop(tx);
        let mut consuming = Vec::new();
        for (c, rx) in rxs.into_iter().enumerate() {
            let start = &start;
            consuming.push(s.spawn(move || {
                start.wait();
                let (mut sum, mut taken) = (0u64, 0u64);
                match amount {
                    Amount::Items(items) => {
                        taken = share(items, consumers, c);
                        for _ in 0..taken {
                            sum = sum.wrapping_add(recv(&rx));
                        }
                    }
                    Amount::For(_) => loop {
                        let v = recv(&rx);
                        if v == STOP {
                            break;
                        }
                        sum = sum.wrapping_add(v);
                        taken += 1;
                    },
                }
                black_box(sum);
                taken
            }));
        }
        let (t0, c0) = start.go();
        stop_after(amount, &stop);
        let put: u64 = producing.into_iter().map(|h| h.join().unwrap()).sum();
        let ops = consuming.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            ops, put,
            "the consumers took {ops} items of the {put} put: a run must drain its queue"
        );
        Sample {
            wall: t0.elapsed(),
            cpu: cpu_time().saturating_sub(c0),
            ops,
        }
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Fifo,
    Lifo,
    Priority,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Fifo => "fifo",
            Kind::Lifo => "lifo",
            Kind::Priority => "priority",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Fifo => "FIFO `Queue`",
            Kind::Lifo => "`LifoQueue`",
            Kind::Priority => "`PriorityQueue`",
        }
    }

    /// threadkit first, then its peers in this kind and shape.
    fn imps(self, consumers: usize) -> Vec<&'static str> {
        match self {
            Kind::Fifo if consumers == 1 => {
                vec!["threadkit", "crossbeam", "flume", "std_mpsc", "parking_lot"]
            }
            Kind::Fifo => vec!["threadkit", "crossbeam", "flume", "parking_lot"],
            Kind::Lifo | Kind::Priority => vec!["threadkit", "parking_lot"],
        }
    }

    /// threadkit's other implementations of the cell, run in the same rounds and left out
    /// of the ratios (see the module docs: `SimpleQueue` in the unbounded FIFO cells).
    fn extras(self, cap: usize) -> &'static [&'static str] {
        match self {
            Kind::Fifo if cap == 0 => &["threadkit_simple"],
            _ => &[],
        }
    }
}

struct Cell {
    kind: Kind,
    producers: usize,
    consumers: usize,
    /// 0: unbounded.
    cap: usize,
}

impl Cell {
    fn name(&self) -> String {
        let cap = match self.cap {
            0 => "unbounded".to_string(),
            k => format!("cap {k}"),
        };
        format!(
            "{} {}x{} {cap}",
            self.kind.name(),
            self.producers,
            self.consumers
        )
    }
}

/// [`run`] with one handle for both ends, cloned for each consumer: threadkit's queues and
/// the parking_lot queue.
fn run_shared<Q: Clone + Send>(
    amount: Amount,
    producers: usize,
    consumers: usize,
    q: Q,
    send: fn(&Q, u64),
    recv: fn(&Q) -> u64,
    empty: Option<fn(&Q) -> bool>,
) -> Sample {
    let rxs = (0..consumers).map(|_| q.clone()).collect();
    run(amount, producers, q, rxs, send, recv, empty)
}

/// One run of `imp` in `cell`.
fn sample(imp: &str, amount: Amount, cell: &Cell) -> Sample {
    let &Cell {
        kind,
        producers: p,
        consumers: c,
        cap,
    } = cell;
    let pre = cap.clamp(1, 1024);
    match (imp, kind) {
        ("threadkit", Kind::Fifo) => run_shared(
            amount,
            p,
            c,
            Queue::new(cap),
            |q, v| q.put(v).unwrap(),
            |q| q.get().unwrap(),
            None,
        ),
        ("threadkit_simple", Kind::Fifo) => run_shared(
            amount,
            p,
            c,
            SimpleQueue::new(),
            |q, v| q.put(v).unwrap(),
            |q| q.get().unwrap(),
            None,
        ),
        ("threadkit", Kind::Lifo) => run_shared(
            amount,
            p,
            c,
            LifoQueue::new(cap),
            |q, v| q.put(v).unwrap(),
            |q| q.get().unwrap(),
            Some(|q| q.empty()),
        ),
        ("threadkit", Kind::Priority) => run_shared(
            amount,
            p,
            c,
            PriorityQueue::new(cap),
            |q, v| q.put(priority_item(v)).unwrap(),
            |q| q.get().unwrap(),
            None,
        ),
        ("parking_lot", Kind::Fifo) => run_shared(
            amount,
            p,
            c,
            PlQueue::new(VecDeque::with_capacity(pre), cap),
            |q, v| q.put(v),
            |q| q.get(),
            None,
        ),
        ("parking_lot", Kind::Lifo) => run_shared(
            amount,
            p,
            c,
            PlQueue::new(Vec::with_capacity(pre), cap),
            |q, v| q.put(v),
            |q| q.get(),
            Some(|q| q.is_empty()),
        ),
        ("parking_lot", Kind::Priority) => run_shared(
            amount,
            p,
            c,
            PlQueue::new(BinaryHeap::with_capacity(pre), cap),
            |q, v| q.put(priority_item(v)),
            |q| q.get(),
            None,
        ),
        ("crossbeam", _) => {
            let (tx, rx) = match cap {
                0 => crossbeam_channel::unbounded(),
                k => crossbeam_channel::bounded(k),
            };
            let rxs = (0..c).map(|_| rx.clone()).collect();
            run(
                amount,
                p,
                tx,
                rxs,
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
                None,
            )
        }
        ("flume", _) => {
            let (tx, rx) = match cap {
                0 => flume::unbounded(),
                k => flume::bounded(k),
            };
            let rxs = (0..c).map(|_| rx.clone()).collect();
            run(
                amount,
                p,
                tx,
                rxs,
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
                None,
            )
        }
        ("std_mpsc", _) if cap == 0 => {
            let (tx, rx) = mpsc::channel();
            run(
                amount,
                p,
                tx,
                vec![rx],
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
                None,
            )
        }
        ("std_mpsc", _) => {
            let (tx, rx) = mpsc::sync_channel(cap);
            run(
                amount,
                p,
                tx,
                vec![rx],
                |t, v| t.send(v).unwrap(),
                |r| r.recv().unwrap(),
                None,
            )
        }
        _ => unreachable!("no implementation {imp} for {kind:?}"),
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

/// A priority run's item: `v` scrambled, so that the runs do not put sorted items, or
/// [`STOP`] as it is (the greatest, so it comes out after every item).
fn priority_item(v: u64) -> u64 {
    if v == STOP { v } else { scramble(v) }
}

/// The measured result of one cell.
struct Outcome {
    /// threadkit's throughput / the best peer's, median of the rounds.
    speed: f64,
    /// threadkit's CPU per item / the lowest peer's, median of the rounds.
    cpu: f64,
    /// The peer that was fastest most often.
    best_peer: &'static str,
    /// Medians per implementation: (name, items/s, CPU ns/item).
    per_imp: Vec<(&'static str, f64, f64)>,
}

/// One cell's runs so far: [`Measuring::round`] adds a round, [`Measuring::outcome`] sums
/// them up.
struct Measuring {
    /// threadkit at 0, its peers up to `peers`, then threadkit's extras (no ratios).
    imps: Vec<&'static str>,
    peers: usize,
    rates: Vec<Vec<f64>>,
    cpus: Vec<Vec<f64>>,
    speed: Vec<f64>,
    cpu: Vec<f64>,
    wins: Vec<usize>,
}

impl Measuring {
    fn new(cell: &Cell) -> Self {
        let mut imps = cell.kind.imps(cell.consumers);
        let peers = imps.len();
        imps.extend(cell.kind.extras(cell.cap));
        let n = imps.len();
        Measuring {
            imps,
            peers,
            rates: vec![Vec::new(); n],
            cpus: vec![Vec::new(); n],
            speed: Vec::new(),
            cpu: Vec::new(),
            wins: vec![0; n],
        }
    }

    /// Runs every implementation of `cell` once (in an order that rotates with `round`),
    /// between two measures of the cache-line round trip, and writes the runs to `csv`.
    fn round(&mut self, cell: &Cell, round: usize, target: Duration, csv: &mut String) {
        let before = line_round_trip();
        let mut runs = String::new();
        let imps = &self.imps;
        let mut this = vec![(0.0, 0.0); imps.len()];
        for k in 0..imps.len() {
            let i = (k + round) % imps.len();
            let s = sample(imps[i], Amount::For(target), cell);
            let items = s.ops.max(1);
            let rate = items as f64 / s.wall.as_secs_f64();
            let ns = s.cpu.as_nanos() as f64 / items as f64;
            this[i] = (rate, ns);
            self.rates[i].push(rate);
            self.cpus[i].push(ns);
            let _ = writeln!(
                runs,
                "{},{},{},{},{},{},{round},{items},{},{}",
                cell.kind.name(),
                cell.producers,
                cell.consumers,
                cell.cap,
                imps[i],
                rate,
                s.wall.as_nanos(),
                s.cpu.as_nanos()
            );
        }
        add_round(csv, &runs, before);
        let peers = self.peers;
        let (best, best_i) = this[1..peers]
            .iter()
            .enumerate()
            .map(|(i, t)| (t.0, i + 1))
            .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
        self.wins[best_i] += 1;
        let least_cpu = this[1..peers]
            .iter()
            .map(|t| t.1)
            .fold(f64::INFINITY, f64::min);
        self.speed.push(this[0].0 / best);
        self.cpu.push(this[0].1 / least_cpu);
    }

    fn outcome(mut self) -> Outcome {
        let wins = &self.wins;
        let best_peer = (1..self.peers)
            .max_by_key(|&i| wins[i])
            .map_or("", |i| self.imps[i]);
        let per_imp = self
            .imps
            .iter()
            .enumerate()
            .map(|(i, &imp)| (imp, median(&mut self.rates[i]), median(&mut self.cpus[i])))
            .collect();
        Outcome {
            speed: median(&mut self.speed),
            cpu: median(&mut self.cpu),
            best_peer,
            per_imp,
        }
    }
}

/// The oversubscribed rows: `(row, implementation, ops/s, CPU ns/op)` per round, medians.
/// With `--csv`, each run is also a CSV line whose kind is the row's key (`oversubscribed_mutex`,
/// `oversubscribed_barrier`, `oversubscribed_queue`), `producers` its thread count, `items`
/// its operations.
fn oversubscribed(rounds: usize, target: Duration, filter: &Filter, csv: &mut String) {
    const THREADS: usize = 16;
    const PARTIES: usize = 8;

    /// `THREADS` threads do `op` on `lock`: `n` times in all, or until the time is up.
    fn hammer<L: Sync>(amount: Amount, lock: &L, op: fn(&L)) -> Sample {
        let start = Start::new(THREADS);
        let stop = StopFlag::default();
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (start, stop) = (&start, &stop);
                    s.spawn(move || {
                        start.wait();
                        match amount {
                            Amount::Items(n) => {
                                let n = n / THREADS as u64;
                                for _ in 0..n {
                                    op(lock);
                                }
                                n
                            }
                            Amount::For(_) => {
                                let mut n = 0;
                                while !stop.load(Ordering::Relaxed) {
                                    op(lock);
                                    n += 1;
                                }
                                n
                            }
                        }
                    })
                })
                .collect();
            let (t0, c0) = start.go();
            stop_after(amount, &stop);
            let ops = hs.into_iter().map(|h| h.join().unwrap()).sum();
            Sample {
                wall: t0.elapsed(),
                cpu: cpu_time().saturating_sub(c0),
                ops,
            }
        })
    }

    const QUEUE_CELL: Cell = Cell {
        kind: Kind::Fifo,
        producers: 4,
        consumers: 4,
        cap: 64,
    };

    /// `PARTIES` threads meet at a barrier, `n` cycles or until the time is up; `wait` is
    /// true for one party per cycle (the leader). The parties must agree on the last cycle:
    /// the leader of cycle k (counted from 0) that sees the flag sets `end` to k + 2, so the
    /// cycle after it is the last. A party may read `end` before that write and go on to
    /// cycle k + 1, as every party does; after cycle k + 1 every party sees the write (the
    /// leader made it before it reached that cycle's barrier) and stops.
    fn cycles(amount: Amount, wait: &(dyn Fn() -> bool + Sync)) -> Sample {
        let start = Start::new(PARTIES);
        let stop = StopFlag::default();
        let end = AtomicU64::new(u64::MAX);
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..PARTIES)
                .map(|_| {
                    let (start, stop, end) = (&start, &stop, &end);
                    s.spawn(move || {
                        start.wait();
                        let n = match amount {
                            Amount::Items(n) => n,
                            Amount::For(_) => u64::MAX,
                        };
                        let mut k = 0;
                        while k < n && k < end.load(Ordering::Relaxed) {
                            if wait() && stop.load(Ordering::Relaxed) {
                                end.fetch_min(k + 2, Ordering::Relaxed);
                            }
                            k += 1;
                        }
                        k
                    })
                })
                .collect();
            let (t0, c0) = start.go();
            stop_after(amount, &stop);
            let ops = hs.into_iter().map(|h| h.join().unwrap()).max().unwrap_or(0);
            Sample {
                wall: t0.elapsed(),
                cpu: cpu_time().saturating_sub(c0),
                ops,
            }
        })
    }

    let lock_rows: [(&str, Run); 3] = [
        ("threadkit", |a| {
            let l = threadkit::Mutex::new(0u64);
            hammer(a, &l, |l| *l.lock() += 1)
        }),
        ("std", |a| {
            let l = std::sync::Mutex::new(0u64);
            hammer(a, &l, |l| *l.lock().unwrap() += 1)
        }),
        ("parking_lot", |a| {
            let l = parking_lot::Mutex::new(0u64);
            hammer(a, &l, |l| *l.lock() += 1)
        }),
    ];
    let barrier_rows: [(&str, Run); 2] = [
        ("threadkit", |a| {
            let b = threadkit::Barrier::new(PARTIES).unwrap();
            cycles(a, &|| b.wait().unwrap() == 0)
        }),
        ("std", |a| {
            let b = std::sync::Barrier::new(PARTIES);
            cycles(a, &|| b.wait().is_leader())
        }),
    ];
    let queue_rows: [(&str, Run); 4] = [
        ("threadkit", |a| sample("threadkit", a, &QUEUE_CELL)),
        ("crossbeam", |a| sample("crossbeam", a, &QUEUE_CELL)),
        ("flume", |a| sample("flume", a, &QUEUE_CELL)),
        ("parking_lot", |a| sample("parking_lot", a, &QUEUE_CELL)),
    ];
    let groups: [Group<'_>; 3] = [
        (
            "Mutex<u64> += 1, 16 threads",
            "op",
            &lock_rows,
            "mutex",
            THREADS,
            0,
            0,
            0,
        ),
        (
            "Barrier, 8 parties",
            "cycle",
            &barrier_rows,
            "barrier",
            PARTIES,
            0,
            0,
            0,
        ),
        (
            "FIFO queue 4x4 cap 64",
            "item",
            &queue_rows,
            "queue",
            4,
            4,
            64,
            0,
        ),
    ];
    extra_rows(
        "Oversubscribed",
        "oversubscribed",
        &groups,
        rounds,
        target,
        filter,
        csv,
    );
}

/// One run of an implementation in a row of [`extra_rows`], for an [`Amount`].
type Run = fn(Amount) -> Sample;

/// One row of [`extra_rows`]: (title, unit of one operation, implementations, CSV key,
/// threads, consumers, capacity, operations per run: 0 to run for `--ms` instead).
type Group<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, Run)],
    &'a str,
    usize,
    usize,
    usize,
    u64,
);

/// Runs each group's implementations in rotating order, round after round, and prints a
/// table (`## {title}`) of wall throughput and CPU per operation; CSV kinds are
/// `{prefix}_{key}`; `filter` picks the rows (see [`Filter::row`]). Prints nothing when it
/// keeps none.
fn extra_rows(
    title: &str,
    prefix: &str,
    groups: &[Group<'_>],
    rounds: usize,
    target: Duration,
    filter: &Filter,
    csv: &mut String,
) {
    let mut heading = false;
    for &(row, unit, imps, key, threads, consumers, cap, fixed) in groups {
        if !filter.row(row, prefix, &format!("{prefix}_{key}")) {
            continue;
        }
        if !heading {
            heading = true;
            println!("\n## {title}\n");
            println!(
                "| row | implementation | wall throughput (per s) | CPU per op | time / best | CPU / least |"
            );
            println!("|---|---|--:|--:|--:|--:|");
        }
        let amount = match fixed {
            0 => Amount::For(target),
            n => Amount::Items(n),
        };
        let mut rate = vec![Vec::new(); imps.len()];
        let mut cpu = vec![Vec::new(); imps.len()];
        for round in 0..rounds {
            let before = line_round_trip();
            let mut runs = String::new();
            for k in 0..imps.len() {
                let i = (k + round) % imps.len();
                let s = (imps[i].1)(amount);
                let n = s.ops.max(1);
                let _ = writeln!(
                    runs,
                    "{prefix}_{key},{threads},{consumers},{cap},{},{},{round},{n},{},{}",
                    imps[i].0,
                    n as f64 / s.wall.as_secs_f64(),
                    s.wall.as_nanos(),
                    s.cpu.as_nanos()
                );
                rate[i].push(n as f64 / s.wall.as_secs_f64());
                cpu[i].push(s.cpu.as_nanos() as f64 / n as f64);
            }
            add_round(csv, &runs, before);
        }
        let rates: Vec<f64> = rate.iter_mut().map(|r| median(r)).collect();
        let cpus: Vec<f64> = cpu.iter_mut().map(|c| median(c)).collect();
        let best = rates.iter().copied().fold(0.0, f64::max);
        let least = cpus.iter().copied().fold(f64::INFINITY, f64::min);
        for (i, (imp, _)) in imps.iter().enumerate() {
            println!(
                "| {row} | {imp} | {} | {:.0} ns / {unit} | {:.2} | {:.2} |",
                si(rates[i]),
                cpus[i],
                best / rates[i],
                cpus[i] / least
            );
        }
    }
}

/// The large backlogs: [`BACKLOG_ITEMS`] items through unbounded queues, whatever `--ms`
/// says, so the producers run as far ahead of the consumers as they do in a long run (a
/// priority queue's backlog then outgrows the caches).
fn backlogs(rounds: usize, filter: &Filter, csv: &mut String) {
    const PRIORITY_1X1: Cell = Cell {
        kind: Kind::Priority,
        producers: 1,
        consumers: 1,
        cap: 0,
    };
    const PRIORITY_4X4: Cell = Cell {
        kind: Kind::Priority,
        producers: 4,
        consumers: 4,
        cap: 0,
    };
    const FIFO_1X1: Cell = Cell {
        kind: Kind::Fifo,
        producers: 1,
        consumers: 1,
        cap: 0,
    };
    let priority_1x1: [(&str, Run); 2] = [
        ("threadkit", |a| sample("threadkit", a, &PRIORITY_1X1)),
        ("parking_lot", |a| sample("parking_lot", a, &PRIORITY_1X1)),
    ];
    let priority_4x4: [(&str, Run); 2] = [
        ("threadkit", |a| sample("threadkit", a, &PRIORITY_4X4)),
        ("parking_lot", |a| sample("parking_lot", a, &PRIORITY_4X4)),
    ];
    let fifo_1x1: [(&str, Run); 5] = [
        ("threadkit", |a| sample("threadkit", a, &FIFO_1X1)),
        ("crossbeam", |a| sample("crossbeam", a, &FIFO_1X1)),
        ("flume", |a| sample("flume", a, &FIFO_1X1)),
        ("std_mpsc", |a| sample("std_mpsc", a, &FIFO_1X1)),
        ("parking_lot", |a| sample("parking_lot", a, &FIFO_1X1)),
    ];
    let n = BACKLOG_ITEMS;
    let groups: [Group<'_>; 3] = [
        (
            "PriorityQueue 1x1 unbounded, 2 000 000 items",
            "item",
            &priority_1x1,
            "priority_1x1",
            1,
            1,
            0,
            n,
        ),
        (
            "PriorityQueue 4x4 unbounded, 2 000 000 items",
            "item",
            &priority_4x4,
            "priority_4x4",
            4,
            4,
            0,
            n,
        ),
        (
            "FIFO Queue 1x1 unbounded, 2 000 000 items",
            "item",
            &fifo_1x1,
            "fifo_1x1",
            1,
            1,
            0,
            n,
        ),
    ];
    extra_rows(
        "Large backlogs",
        "backlog",
        &groups,
        rounds,
        Duration::ZERO,
        filter,
        csv,
    );
}

/// Items per run in the large-backlog rows.
const BACKLOG_ITEMS: u64 = 2_000_000;

/// `1.23 M` style.
fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// Which cells and extra rows run: see the module docs' `--only` and `--cell`.
struct Filter {
    only: String,
    cells: Vec<String>,
}

impl Filter {
    /// Keeps the grid cell `name`.
    fn cell(&self, name: &str) -> bool {
        name.contains(&self.only) && (self.cells.is_empty() || self.cells.iter().any(|c| c == name))
    }

    /// Keeps the extra row titled `row`, of CSV kind `kind`, in the section whose kinds
    /// start with `prefix`.
    fn row(&self, row: &str, prefix: &str, kind: &str) -> bool {
        if !self.cells.is_empty() {
            return self.cells.iter().any(|c| c == kind);
        }
        self.only.is_empty() || row.contains(&self.only) || prefix.contains(&self.only)
    }
}

struct Args {
    rounds: usize,
    target: Duration,
    filter: Filter,
    kinds: Vec<Kind>,
    csv: Option<String>,
    oversubscribed: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rounds: 5,
        target: Duration::from_millis(40),
        filter: Filter {
            only: String::new(),
            cells: Vec::new(),
        },
        kinds: vec![Kind::Fifo, Kind::Lifo, Kind::Priority],
        csv: None,
        oversubscribed: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--rounds" => args.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--ms" => {
                let ms: u64 = value()?.parse().map_err(|e| format!("--ms: {e}"))?;
                args.target = Duration::from_millis(ms);
            }
            "--only" => args.filter.only = value()?,
            "--cell" => args.filter.cells.push(value()?),
            "--csv" => args.csv = Some(value()?),
            "--no-oversubscribed" => args.oversubscribed = false,
            "--kinds" => {
                args.kinds = value()?
                    .split(',')
                    .map(|k| match k {
                        "fifo" => Ok(Kind::Fifo),
                        "lifo" => Ok(Kind::Lifo),
                        "priority" => Ok(Kind::Priority),
                        other => Err(format!("unknown kind {other}")),
                    })
                    .collect::<Result<_, _>>()?
            }
            // What `cargo bench` passes to every bench binary.
            "--bench" => {}
            "-h" | "--help" => {
                return Err(
                    "usage: matrix [--rounds N] [--ms MS] [--only TEXT] [--cell NAME]... \
                            [--kinds fifo,lifo,priority] [--csv FILE] [--no-oversubscribed]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "# threadkit queue matrix\n\n{} logical CPUs, {} rounds, about {} ms per run; each cell: \
         threadkit throughput / best peer's (higher is better) and threadkit CPU per item / \
         least peer's (lower is better), medians of per-round ratios; the best peer most often \
         under the cell.",
        cpus,
        args.rounds,
        args.target.as_millis()
    );
    let mut csv = String::from(
        "kind,producers,consumers,cap,imp,items_per_s,round,items,wall_ns,cpu_ns,line_ns,\
         line_after_ns\n",
    );
    // Every chosen cell, in the tables' order; then round after round, one round of each
    // cell in turn, so that a cell's rounds spread over the whole run: a machine that is
    // slower for a few seconds (see `line_round_trip`) then costs each cell a round or two,
    // rather than every round of the cells it happens to meet.
    let cells: Vec<Cell> = args
        .kinds
        .iter()
        .flat_map(|&kind| {
            SHAPES.into_iter().flat_map(move |(p, c)| {
                CAPS.into_iter().map(move |cap| Cell {
                    kind,
                    producers: p,
                    consumers: c,
                    cap,
                })
            })
        })
        .filter(|cell| args.filter.cell(&cell.name()))
        .collect();
    let mut measuring: Vec<Measuring> = cells.iter().map(Measuring::new).collect();
    for round in 0..args.rounds {
        if cells.is_empty() {
            break;
        }
        for (cell, m) in cells.iter().zip(&mut measuring) {
            m.round(cell, round, args.target, &mut csv);
        }
        eprintln!(
            "round {} of {} done ({} cells)",
            round + 1,
            args.rounds,
            cells.len()
        );
    }
    let outcomes: Vec<(&Cell, Outcome)> = cells
        .iter()
        .zip(measuring)
        .map(|(cell, m)| (cell, m.outcome()))
        .collect();
    let mut detail = String::new();
    for &kind in &args.kinds {
        let mine: Vec<&(&Cell, Outcome)> =
            outcomes.iter().filter(|(c, _)| c.kind == kind).collect();
        if mine.is_empty() {
            continue;
        }
        let mut table = format!(
            "\n## {}\n\n| P x C | {} |\n|---|{}\n",
            kind.title(),
            CAPS.map(|c| if c == 0 {
                "unbounded".to_string()
            } else {
                format!("cap {c}")
            })
            .join(" | "),
            "--:|".repeat(CAPS.len())
        );
        for (p, c) in SHAPES {
            let mut line = format!("| {p} x {c} |");
            for cap in CAPS {
                let found = mine
                    .iter()
                    .find(|(cell, _)| (cell.producers, cell.consumers, cell.cap) == (p, c, cap));
                let Some((cell, o)) = found else {
                    line += " |";
                    continue;
                };
                let _ = write!(line, " {:.2} / {:.2} {} |", o.speed, o.cpu, o.best_peer);
                let _ = write!(detail, "{}:", cell.name());
                for (imp, rate, ns) in &o.per_imp {
                    let _ = write!(detail, " {imp} {} /s {ns:.0} ns", si(*rate));
                }
                detail.push('\n');
            }
            table += &line;
            table.push('\n');
        }
        print!("{table}");
    }
    if !detail.is_empty() {
        println!("\n## Per implementation (medians: items per second, CPU per item)\n");
        println!("```text\n{detail}```");
    }
    if args.oversubscribed {
        oversubscribed(args.rounds, args.target, &args.filter, &mut csv);
        backlogs(args.rounds, &args.filter, &mut csv);
    }
    if let Some(path) = args.csv
        && let Err(e) = std::fs::write(&path, csv)
    {
        eprintln!("cannot write {path}: {e}");
        std::process::exit(1);
    }
}
