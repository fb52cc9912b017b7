//! Semaphore, Event, Barrier and Local beside their nearest peers.
//!
//! - Semaphore acquire+release, uncontended: against the usual construction from a mutex and
//!   a condition variable (parking_lot's and std's), which is what Python's own
//!   `threading.Semaphore` is.
//! - Semaphore hand-off between two threads (a ping-pong round trip) against the same, and
//!   the same round trip with 5 µs of work before each reply (`semaphore_reply_after_work`:
//!   longer than a waiter's fixed spin, so the waiter's adaptive window decides it).
//! - Event `set`, `is_set`, `wait` on a set event, `set`+`clear`: against a `Mutex<bool>` and a
//!   `Condvar` (parking_lot, std).
//! - Barrier(2) cycle between two threads: against `std::sync::Barrier`.
//! - Local::with against `std::thread_local!` and the `thread_local` crate's `ThreadLocal`.
//!
//! Short run: `cargo bench --bench primitives -- --warm-up-time 1 --measurement-time 2`.

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, criterion_group, criterion_main};

/// A counting semaphore from a parking_lot mutex and condition variable.
struct PlSemaphore {
    count: parking_lot::Mutex<usize>,
    cond: parking_lot::Condvar,
}

impl PlSemaphore {
    fn new(n: usize) -> Self {
        PlSemaphore {
            count: parking_lot::Mutex::new(n),
            cond: parking_lot::Condvar::new(),
        }
    }

    fn acquire(&self) {
        let mut c = self.count.lock();
        while *c == 0 {
            self.cond.wait(&mut c);
        }
        *c -= 1;
    }

    fn release(&self) {
        *self.count.lock() += 1;
        self.cond.notify_one();
    }
}

/// A counting semaphore from std's mutex and condition variable.
struct StdSemaphore {
    count: std::sync::Mutex<usize>,
    cond: std::sync::Condvar,
}

impl StdSemaphore {
    fn new(n: usize) -> Self {
        StdSemaphore {
            count: std::sync::Mutex::new(n),
            cond: std::sync::Condvar::new(),
        }
    }

    fn acquire(&self) {
        let mut c = self.count.lock().unwrap();
        while *c == 0 {
            c = self.cond.wait(c).unwrap();
        }
        *c -= 1;
    }

    fn release(&self) {
        *self.count.lock().unwrap() += 1;
        self.cond.notify_one();
    }
}

/// An event from a parking_lot mutex and condition variable.
struct PlEvent {
    flag: parking_lot::Mutex<bool>,
    cond: parking_lot::Condvar,
}

impl PlEvent {
    fn new() -> Self {
        PlEvent {
            flag: parking_lot::Mutex::new(false),
            cond: parking_lot::Condvar::new(),
        }
    }

    fn set(&self) {
        *self.flag.lock() = true;
        self.cond.notify_all();
    }

    fn clear(&self) {
        *self.flag.lock() = false;
    }

    fn is_set(&self) -> bool {
        *self.flag.lock()
    }

    fn wait(&self) {
        let mut f = self.flag.lock();
        while !*f {
            self.cond.wait(&mut f);
        }
    }
}

/// An event from std's mutex and condition variable.
struct StdEvent {
    flag: std::sync::Mutex<bool>,
    cond: std::sync::Condvar,
}

impl StdEvent {
    fn new() -> Self {
        StdEvent {
            flag: std::sync::Mutex::new(false),
            cond: std::sync::Condvar::new(),
        }
    }

    fn set(&self) {
        *self.flag.lock().unwrap() = true;
        self.cond.notify_all();
    }

    fn clear(&self) {
        *self.flag.lock().unwrap() = false;
    }

    fn is_set(&self) -> bool {
        *self.flag.lock().unwrap()
    }

    fn wait(&self) {
        let mut f = self.flag.lock().unwrap();
        while !*f {
            f = self.cond.wait(f).unwrap();
        }
    }
}

/// Times `iters` calls of `main_step` while a helper thread makes `iters` calls of
/// `helper_step` (the two steps meet each other, so this measures round trips). One helper
/// thread per benchmark routine, reused across samples.
fn two_threads<H, M>(b: &mut Bencher, helper_step: H, main_step: M)
where
    H: Fn() + Send + 'static,
    M: Fn(),
{
    let (go_tx, go_rx) = mpsc::channel::<u64>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let helper = std::thread::spawn(move || {
        while let Ok(iters) = go_rx.recv() {
            for _ in 0..iters {
                helper_step();
            }
            done_tx.send(()).unwrap();
        }
    });
    b.iter_custom(|iters| {
        go_tx.send(iters).unwrap();
        let start = Instant::now();
        for _ in 0..iters {
            main_step();
        }
        let elapsed = start.elapsed();
        done_rx.recv().unwrap();
        elapsed
    });
    drop(go_tx);
    helper.join().unwrap();
}

fn semaphore(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore_acquire_release");
    let tk = threadkit::Semaphore::new(1);
    g.bench_function("threadkit", |b| {
        b.iter(|| {
            black_box(&tk).acquire();
            black_box(&tk).release(1).unwrap();
        })
    });
    let tkb = threadkit::BoundedSemaphore::new(1);
    g.bench_function("threadkit_bounded", |b| {
        b.iter(|| {
            black_box(&tkb).acquire();
            black_box(&tkb).release(1).unwrap();
        })
    });
    let tkg = threadkit::Semaphore::new(1);
    g.bench_function("threadkit_guard", |b| {
        b.iter(|| drop(black_box(&tkg).guard()))
    });
    let pl = PlSemaphore::new(1);
    g.bench_function("parking_lot_mutex_condvar", |b| {
        b.iter(|| {
            black_box(&pl).acquire();
            black_box(&pl).release();
        })
    });
    let std = StdSemaphore::new(1);
    g.bench_function("std_mutex_condvar", |b| {
        b.iter(|| {
            black_box(&std).acquire();
            black_box(&std).release();
        })
    });
    g.finish();

    handoff(c, "semaphore_handoff", Duration::ZERO);
    handoff(c, "semaphore_reply_after_work", REPLY_WORK);
}

/// How long the answering thread works before it replies, in `semaphore_reply_after_work`:
/// a little longer than a waiter's fixed spin, far shorter than a time slice.
const REPLY_WORK: Duration = Duration::from_micros(5);

/// A semaphore as the hand-off groups use it.
trait Handoff: Send + Sync + 'static {
    fn empty() -> Self;
    fn post(&self);
    fn take(&self);
}

impl Handoff for threadkit::Semaphore {
    fn empty() -> Self {
        threadkit::Semaphore::new(0)
    }
    fn post(&self) {
        self.release(1).unwrap();
    }
    fn take(&self) {
        self.acquire();
    }
}

impl Handoff for PlSemaphore {
    fn empty() -> Self {
        PlSemaphore::new(0)
    }
    fn post(&self) {
        self.release();
    }
    fn take(&self) {
        self.acquire();
    }
}

impl Handoff for StdSemaphore {
    fn empty() -> Self {
        StdSemaphore::new(0)
    }
    fn post(&self) {
        self.release();
    }
    fn take(&self) {
        self.acquire();
    }
}

/// A request and its reply between two threads over two semaphores, the answering thread
/// busy for `work` between them: one round trip per iteration.
fn handoff(c: &mut Criterion, group: &str, work: Duration) {
    fn run<S: Handoff>(b: &mut Bencher, work: Duration) {
        let (ping, pong) = (Arc::new(S::empty()), Arc::new(S::empty()));
        let (pi, po) = (ping.clone(), pong.clone());
        two_threads(
            b,
            move || {
                pi.take();
                let t = Instant::now();
                while t.elapsed() < work {
                    std::hint::spin_loop();
                }
                po.post();
            },
            || {
                ping.post();
                pong.take();
            },
        );
    }
    let mut g = c.benchmark_group(group);
    g.bench_function("threadkit", |b| run::<threadkit::Semaphore>(b, work));
    g.bench_function("parking_lot_mutex_condvar", |b| run::<PlSemaphore>(b, work));
    g.bench_function("std_mutex_condvar", |b| run::<StdSemaphore>(b, work));
    g.finish();
}

fn event(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_set");
    let tk = threadkit::Event::new();
    g.bench_function("threadkit", |b| b.iter(|| black_box(&tk).set()));
    let pl = PlEvent::new();
    g.bench_function("parking_lot_mutex_condvar", |b| {
        b.iter(|| black_box(&pl).set())
    });
    let std = StdEvent::new();
    g.bench_function("std_mutex_condvar", |b| b.iter(|| black_box(&std).set()));
    g.finish();

    let mut g = c.benchmark_group("event_set_clear");
    g.bench_function("threadkit", |b| {
        b.iter(|| {
            black_box(&tk).set();
            black_box(&tk).clear();
        })
    });
    g.bench_function("parking_lot_mutex_condvar", |b| {
        b.iter(|| {
            black_box(&pl).set();
            black_box(&pl).clear();
        })
    });
    g.bench_function("std_mutex_condvar", |b| {
        b.iter(|| {
            black_box(&std).set();
            black_box(&std).clear();
        })
    });
    g.finish();

    tk.set();
    pl.set();
    std.set();
    let mut g = c.benchmark_group("event_is_set");
    g.bench_function("threadkit", |b| b.iter(|| black_box(&tk).is_set()));
    g.bench_function("parking_lot_mutex_condvar", |b| {
        b.iter(|| black_box(&pl).is_set())
    });
    g.bench_function("std_mutex_condvar", |b| b.iter(|| black_box(&std).is_set()));
    g.finish();

    let mut g = c.benchmark_group("event_wait_on_set");
    g.bench_function("threadkit", |b| b.iter(|| black_box(&tk).wait()));
    g.bench_function("parking_lot_mutex_condvar", |b| {
        b.iter(|| black_box(&pl).wait())
    });
    g.bench_function("std_mutex_condvar", |b| b.iter(|| black_box(&std).wait()));
    g.finish();
}

fn barrier(c: &mut Criterion) {
    let mut g = c.benchmark_group("barrier2_cycle");
    g.bench_function("threadkit", |b| {
        let barrier = Arc::new(threadkit::Barrier::new(2).unwrap());
        let other = barrier.clone();
        two_threads(
            b,
            move || {
                other.wait().unwrap();
            },
            || {
                barrier.wait().unwrap();
            },
        );
    });
    g.bench_function("std", |b| {
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let other = barrier.clone();
        two_threads(
            b,
            move || {
                other.wait();
            },
            || {
                barrier.wait();
            },
        );
    });
    g.finish();
}

fn local(c: &mut Criterion) {
    thread_local! {
        static STD: Cell<u64> = const { Cell::new(0) };
    }
    let mut g = c.benchmark_group("local_with");
    let tk = threadkit::Local::new(|| Cell::new(0u64));
    tk.with(|v| v.set(1));
    g.bench_function("threadkit", |b| {
        b.iter(|| black_box(&tk).with(|v| v.set(v.get() + 1)))
    });
    g.bench_function("std_thread_local", |b| {
        b.iter(|| STD.with(|v| v.set(v.get() + 1)))
    });
    // The `thread_local` crate: per-object values like ours, but a thread's value stays until
    // the `ThreadLocal` is dropped, and a later thread that reuses its id gets it.
    let crate_tl = thread_local::ThreadLocal::<Cell<u64>>::new();
    crate_tl.get_or(|| Cell::new(0)).set(1);
    g.bench_function("thread_local_crate", |b| {
        b.iter(|| {
            let v = black_box(&crate_tl).get_or(|| Cell::new(0));
            v.set(v.get() + 1)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = semaphore, event, barrier, local
}
criterion_main!(benches);
