//! Executor throughput and latency, side by side with the peers.
//!
//! - `tasks_with_futures`: 100 000 tiny tasks, each with its future, submitted from one
//!   thread, then every result waited for. Peers: a pool built the usual way (a
//!   crossbeam-channel queue of boxed jobs, each future a parking_lot `Mutex` + `Condvar`
//!   slot), the `threadpool` crate (`execute`, each result through its own slot).
//! - `tasks_no_futures`: the same tasks fire-and-forget, then wait for all: threadkit's
//!   `submit` + `wait_idle`, `execute` + `wait_idle`, `scope` + `submit` and `scope` + `spawn`, against `rayon::spawn` + a latch, `rayon::scope`,
//!   and `threadpool`'s `execute` + `join`.
//! - `round_trip`: one submit + result on an idle pool, against the same with the peers and a
//!   bare two-thread hand-off (threadkit's `Semaphore` ping-pong).
//!
//! Every pool has the same number of workers: the machine's parallelism.
//!
//! Run: `cargo bench --bench executor -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use threadkit::{Semaphore, Thread, ThreadPoolExecutor};

const TASKS: u64 = 100_000;

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The usual hand-made pool: crossbeam-channel of boxed jobs, parking_lot slots as futures.
mod cbpl {
    use std::sync::Arc;

    use parking_lot::{Condvar, Mutex};

    type Job = Box<dyn FnOnce() + Send>;

    pub struct Pool {
        tx: Option<crossbeam_channel::Sender<Job>>,
        threads: Vec<std::thread::JoinHandle<()>>,
    }

    pub struct Slot<T> {
        value: Mutex<Option<T>>,
        ready: Condvar,
    }

    impl<T> Slot<T> {
        pub fn wait(&self) -> T {
            let mut v = self.value.lock();
            loop {
                if let Some(x) = v.take() {
                    return x;
                }
                self.ready.wait(&mut v);
            }
        }
    }

    impl Pool {
        pub fn new(n: usize) -> Self {
            let (tx, rx) = crossbeam_channel::unbounded::<Job>();
            let threads = (0..n)
                .map(|_| {
                    let rx = rx.clone();
                    std::thread::spawn(move || {
                        for job in rx {
                            job();
                        }
                    })
                })
                .collect();
            Pool {
                tx: Some(tx),
                threads,
            }
        }

        pub fn submit<T: Send + 'static>(
            &self,
            f: impl FnOnce() -> T + Send + 'static,
        ) -> Arc<Slot<T>> {
            let slot = Arc::new(Slot {
                value: Mutex::new(None),
                ready: Condvar::new(),
            });
            let s = slot.clone();
            let job: Job = Box::new(move || {
                let v = f();
                *s.value.lock() = Some(v);
                s.ready.notify_one();
            });
            self.tx.as_ref().unwrap().send(job).unwrap();
            slot
        }
    }

    impl Drop for Pool {
        fn drop(&mut self) {
            self.tx.take();
            for t in self.threads.drain(..) {
                t.join().unwrap();
            }
        }
    }
}

/// A count-down latch for the rayon spawn peer: the last task wakes the waiter.
struct Latch {
    left: AtomicUsize,
    lock: parking_lot::Mutex<()>,
    done: parking_lot::Condvar,
}

impl Latch {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Latch {
            left: AtomicUsize::new(n),
            lock: parking_lot::Mutex::new(()),
            done: parking_lot::Condvar::new(),
        })
    }
    fn count_down(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _g = self.lock.lock();
            self.done.notify_all();
        }
    }
    fn wait(&self) {
        let mut g = self.lock.lock();
        while self.left.load(Ordering::Acquire) != 0 {
            self.done.wait(&mut g);
        }
    }
}

fn time_batches(iters: u64, mut batch: impl FnMut()) -> Duration {
    let t0 = Instant::now();
    for _ in 0..iters {
        batch();
    }
    t0.elapsed()
}

fn tasks_with_futures(c: &mut Criterion) {
    let n = workers();
    let mut g = c.benchmark_group("tasks_with_futures");
    g.throughput(Throughput::Elements(TASKS));
    g.sample_size(10);

    let pool = ThreadPoolExecutor::new(n).unwrap();
    bench_submit_results(&mut g, "threadkit", &pool);
    drop(pool);

    let pool = cbpl::Pool::new(n);
    g.bench_function("crossbeam+parking_lot", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                let fs: Vec<_> = (0..TASKS)
                    .map(|i| pool.submit(move || black_box(i)))
                    .collect();
                let mut sum = 0u64;
                for f in fs {
                    sum = sum.wrapping_add(f.wait());
                }
                black_box(sum);
            })
        })
    });
    drop(pool);

    let pool = threadpool::ThreadPool::new(n);
    g.bench_function("threadpool", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                let fs: Vec<_> = (0..TASKS)
                    .map(|i| {
                        let slot = Arc::new(cbpl_slot());
                        let s = slot.clone();
                        pool.execute(move || {
                            *s.0.lock() = Some(black_box(i));
                            s.1.notify_one();
                        });
                        slot
                    })
                    .collect();
                let mut sum = 0u64;
                for f in fs {
                    let mut v = f.0.lock();
                    let x = loop {
                        if let Some(x) = v.take() {
                            break x;
                        }
                        f.1.wait(&mut v);
                    };
                    sum = sum.wrapping_add(x);
                }
                black_box(sum);
            })
        })
    });
    drop(pool);
    g.finish();
}

#[allow(clippy::type_complexity)]
fn cbpl_slot() -> (parking_lot::Mutex<Option<u64>>, parking_lot::Condvar) {
    (parking_lot::Mutex::new(None), parking_lot::Condvar::new())
}

fn tasks_no_futures(c: &mut Criterion) {
    let n = workers();
    let mut g = c.benchmark_group("tasks_no_futures");
    g.throughput(Throughput::Elements(TASKS));
    g.sample_size(10);

    let pool = ThreadPoolExecutor::new(n).unwrap();
    let sink = Arc::new(AtomicUsize::new(0));
    g.bench_function("threadkit submit+wait_idle", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                for i in 0..TASKS {
                    let s = sink.clone();
                    let _ = pool.submit(move || {
                        s.fetch_add(black_box(i as usize) & 1, Ordering::Relaxed);
                    });
                }
                pool.wait_idle();
            })
        })
    });
    bench_execute(&mut g, &pool, &sink);
    g.bench_function("threadkit scope", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                let sink = &sink;
                pool.scope(|s| {
                    for i in 0..TASKS {
                        let _ = s.submit(move || {
                            sink.fetch_add(black_box(i as usize) & 1, Ordering::Relaxed);
                        });
                    }
                })
                .unwrap();
            })
        })
    });
    g.bench_function("threadkit scope spawn", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                let sink = &sink;
                pool.scope(|s| {
                    for i in 0..TASKS {
                        let _ = s.spawn(move || {
                            sink.fetch_add(black_box(i as usize) & 1, Ordering::Relaxed);
                        });
                    }
                })
                .unwrap();
            })
        })
    });
    drop(pool);

    let rp = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap();
    g.bench_function("rayon spawn+latch", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                let latch = Latch::new(TASKS as usize);
                for i in 0..TASKS {
                    let (l, s) = (latch.clone(), sink.clone());
                    rp.spawn(move || {
                        s.fetch_add(black_box(i as usize) & 1, Ordering::Relaxed);
                        l.count_down();
                    });
                }
                latch.wait();
            })
        })
    });
    bench_rayon_scope(&mut g, &rp, &sink);
    drop(rp);

    let tp = threadpool::ThreadPool::new(n);
    bench_threadpool_execute(&mut g, &tp, &sink);
    g.finish();
}

/// `TASKS` submits to `pool`, then every future's result.
fn bench_submit_results(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    pool: &ThreadPoolExecutor,
) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                let fs: Vec<_> = (0..TASKS)
                    .map(|i| pool.submit(move || black_box(i)).unwrap())
                    .collect();
                let mut sum = 0u64;
                for f in fs {
                    sum = sum.wrapping_add(f.into_result().unwrap());
                }
                black_box(sum);
            })
        })
    });
}

/// `pool.execute` of `TASKS` tasks, then `wait_idle`.
fn bench_execute(
    g: &mut BenchmarkGroup<'_, WallTime>,
    pool: &ThreadPoolExecutor,
    sink: &Arc<AtomicUsize>,
) {
    g.bench_function("threadkit execute+wait_idle", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                for i in 0..TASKS {
                    let s = sink.clone();
                    let _ = pool.execute(move || {
                        s.fetch_add(black_box(i as usize) & 1, Ordering::Relaxed);
                    });
                }
                pool.wait_idle();
            })
        })
    });
}

/// `TASKS` tasks spawned in a `rayon::scope`.
fn bench_rayon_scope(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rp: &rayon::ThreadPool,
    sink: &Arc<AtomicUsize>,
) {
    g.bench_function("rayon scope", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                let sink = &**sink;
                rp.scope(|s| {
                    for i in 0..TASKS {
                        s.spawn(move |_| {
                            sink.fetch_add(black_box(i as usize) & 1, Ordering::Relaxed);
                        });
                    }
                });
            })
        })
    });
}

/// `TASKS` tasks given to the `threadpool` crate, then its `join`.
fn bench_threadpool_execute(
    g: &mut BenchmarkGroup<'_, WallTime>,
    tp: &threadpool::ThreadPool,
    sink: &Arc<AtomicUsize>,
) {
    g.bench_function("threadpool execute+join", |b| {
        b.iter_custom(|iters| {
            time_batches(iters, || {
                for i in 0..TASKS {
                    let s = sink.clone();
                    tp.execute(move || {
                        s.fetch_add(black_box(i as usize) & 1, Ordering::Relaxed);
                    });
                }
                tp.join();
            })
        })
    });
}

/// Workers in the oversubscribed group: more than this machine's cores on most machines
/// (Python's default is min(32, CPUs + 4)), so most of them sleep while a few run.
const MANY_WORKERS: usize = 16;

/// The same stream of tasks on 16 workers: on a small machine most of them sleep, and a pool
/// that wakes them all for a stream of short tasks spends its time switching between them.
fn tasks_16_workers(c: &mut Criterion) {
    let mut g = c.benchmark_group("tasks_16_workers");
    g.throughput(Throughput::Elements(TASKS));
    g.sample_size(10);

    let pool = ThreadPoolExecutor::new(MANY_WORKERS).unwrap();
    let sink = Arc::new(AtomicUsize::new(0));
    bench_execute(&mut g, &pool, &sink);
    bench_submit_results(&mut g, "threadkit submit+result", &pool);
    drop(pool);

    let rp = rayon::ThreadPoolBuilder::new()
        .num_threads(MANY_WORKERS)
        .build()
        .unwrap();
    bench_rayon_scope(&mut g, &rp, &sink);
    drop(rp);

    let tp = threadpool::ThreadPool::new(MANY_WORKERS);
    bench_threadpool_execute(&mut g, &tp, &sink);
    g.finish();
}

fn round_trip(c: &mut Criterion) {
    let n = workers();
    let mut g = c.benchmark_group("round_trip");
    g.throughput(Throughput::Elements(1));

    let pool = ThreadPoolExecutor::new(n).unwrap();
    g.bench_function("threadkit submit+result", |b| {
        b.iter(|| {
            pool.submit(|| black_box(1u64))
                .unwrap()
                .into_result()
                .unwrap()
        })
    });
    drop(pool);

    let pool = cbpl::Pool::new(n);
    g.bench_function("crossbeam+parking_lot", |b| {
        b.iter(|| pool.submit(|| black_box(1u64)).wait())
    });
    drop(pool);

    let pool = threadpool::ThreadPool::new(n);
    g.bench_function("threadpool+mpsc", |b| {
        b.iter(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            pool.execute(move || tx.send(black_box(1u64)).unwrap());
            rx.recv().unwrap()
        })
    });
    drop(pool);

    // The bare hand-off: a partner thread answers each release with one of its own.
    let ping = Arc::new(Semaphore::new(0));
    let pong = Arc::new(Semaphore::new(0));
    let stop = Arc::new(AtomicUsize::new(0));
    let (pi, po, st) = (ping.clone(), pong.clone(), stop.clone());
    let partner = Thread::new(move || {
        loop {
            pi.acquire();
            if st.load(Ordering::Acquire) != 0 {
                return;
            }
            po.release(1).unwrap();
        }
    });
    partner.start().unwrap();
    g.bench_function("Semaphore hand-off", |b| {
        b.iter(|| {
            ping.release(1).unwrap();
            pong.acquire();
        })
    });
    stop.store(1, Ordering::Release);
    ping.release(1).unwrap();
    partner.join().unwrap();
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    tasks_with_futures(&mut c);
    tasks_no_futures(&mut c);
    tasks_16_workers(&mut c);
    round_trip(&mut c);
    c.final_summary();
}
