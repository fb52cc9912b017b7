//! RLock and Condition beside their nearest peers: parking_lot's `ReentrantMutex` and
//! `Condvar`, std's `Mutex` + `Condvar`.
//!
//! Short run: `cargo bench --bench rlock_condition -- --warm-up-time 1 --measurement-time 2`.
//! CPython figures for the same operations: `python3 benches/cpython_rlock_condition.py`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use threadkit::{Condition, ConditionLock, Lock, RLock, ReentrantMutex};

fn rlock_pair(c: &mut Criterion) {
    let mut g = c.benchmark_group("rlock_uncontended_pair");
    let rl = RLock::new();
    g.bench_function("threadkit_rlock_acquire_release", |b| {
        b.iter(|| {
            black_box(&rl).acquire();
            black_box(&rl).release().unwrap();
        })
    });
    g.bench_function("threadkit_rlock_guard", |b| {
        b.iter(|| drop(black_box(&rl).guard()))
    });
    let rm = ReentrantMutex::new(0u64);
    g.bench_function("threadkit_reentrant_mutex", |b| {
        b.iter(|| drop(black_box(&rm).lock()))
    });
    let pl = parking_lot::ReentrantMutex::new(0u64);
    g.bench_function("parking_lot_reentrant_mutex", |b| {
        b.iter(|| drop(black_box(&pl).lock()))
    });
    let lock = Lock::new();
    g.bench_function("threadkit_lock_guard", |b| {
        b.iter(|| drop(black_box(&lock).guard()))
    });
    let sm = std::sync::Mutex::new(0u64);
    g.bench_function("std_mutex", |b| b.iter(|| drop(black_box(&sm).lock())));
    g.finish();
}

fn rlock_depth2(c: &mut Criterion) {
    let mut g = c.benchmark_group("rlock_recursive_depth2");
    let rl = RLock::new();
    g.bench_function("threadkit_rlock", |b| {
        b.iter(|| {
            let a = black_box(&rl).guard();
            let b2 = black_box(&rl).guard();
            drop(b2);
            drop(a);
        })
    });
    let rm = ReentrantMutex::new(0u64);
    g.bench_function("threadkit_reentrant_mutex", |b| {
        b.iter(|| {
            let a = black_box(&rm).lock();
            let b2 = black_box(&rm).lock();
            drop(b2);
            drop(a);
        })
    });
    let pl = parking_lot::ReentrantMutex::new(0u64);
    g.bench_function("parking_lot_reentrant_mutex", |b| {
        b.iter(|| {
            let a = black_box(&pl).lock();
            let b2 = black_box(&pl).lock();
            drop(b2);
            drop(a);
        })
    });
    g.finish();
}

/// `iters` round trips between this thread and a partner, each waiting for its turn on a
/// condition; the time from when both are ready.
fn ping_pong_threadkit<L: ConditionLock + 'static>(
    iters: u64,
    make: fn() -> Condition<L>,
) -> Duration {
    let cond = Arc::new(make());
    let turn = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(Barrier::new(2));
    let (c, t, r) = (cond.clone(), turn.clone(), ready.clone());
    let partner = std::thread::spawn(move || {
        // Register the new thread with threadkit before the clock starts.
        threadkit::current_thread();
        r.wait();
        for i in 0..iters {
            let _g = c.guard();
            while t.load(Ordering::Relaxed) != 2 * i + 1 {
                c.wait().unwrap();
            }
            t.store(2 * i + 2, Ordering::Relaxed);
            c.notify(1).unwrap();
        }
    });
    ready.wait();
    let start = Instant::now();
    for i in 0..iters {
        let _g = cond.guard();
        while turn.load(Ordering::Relaxed) != 2 * i {
            cond.wait().unwrap();
        }
        turn.store(2 * i + 1, Ordering::Relaxed);
        cond.notify(1).unwrap();
    }
    // The last turn is the partner's.
    {
        let _g = cond.guard();
        while turn.load(Ordering::Relaxed) != 2 * iters {
            cond.wait().unwrap();
        }
    }
    let took = start.elapsed();
    partner.join().unwrap();
    took
}

fn ping_pong_parking_lot(iters: u64) -> Duration {
    let pair = Arc::new((parking_lot::Mutex::new(0u64), parking_lot::Condvar::new()));
    let ready = Arc::new(Barrier::new(2));
    let (p, r) = (pair.clone(), ready.clone());
    let partner = std::thread::spawn(move || {
        r.wait();
        let (m, cv) = &*p;
        for i in 0..iters {
            let mut g = m.lock();
            while *g != 2 * i + 1 {
                cv.wait(&mut g);
            }
            *g = 2 * i + 2;
            cv.notify_one();
        }
    });
    ready.wait();
    let start = Instant::now();
    let (m, cv) = &*pair;
    for i in 0..iters {
        let mut g = m.lock();
        while *g != 2 * i {
            cv.wait(&mut g);
        }
        *g = 2 * i + 1;
        cv.notify_one();
    }
    {
        let mut g = m.lock();
        while *g != 2 * iters {
            cv.wait(&mut g);
        }
    }
    let took = start.elapsed();
    partner.join().unwrap();
    took
}

fn ping_pong_std(iters: u64) -> Duration {
    let pair = Arc::new((std::sync::Mutex::new(0u64), std::sync::Condvar::new()));
    let ready = Arc::new(Barrier::new(2));
    let (p, r) = (pair.clone(), ready.clone());
    let partner = std::thread::spawn(move || {
        r.wait();
        let (m, cv) = &*p;
        for i in 0..iters {
            let mut g = m.lock().unwrap();
            while *g != 2 * i + 1 {
                g = cv.wait(g).unwrap();
            }
            *g = 2 * i + 2;
            cv.notify_one();
        }
    });
    ready.wait();
    let start = Instant::now();
    let (m, cv) = &*pair;
    for i in 0..iters {
        let mut g = m.lock().unwrap();
        while *g != 2 * i {
            g = cv.wait(g).unwrap();
        }
        *g = 2 * i + 1;
        cv.notify_one();
    }
    {
        let mut g = m.lock().unwrap();
        while *g != 2 * iters {
            g = cv.wait(g).unwrap();
        }
    }
    let took = start.elapsed();
    partner.join().unwrap();
    took
}

fn condition_ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("condition_ping_pong_round_trip");
    g.bench_function("threadkit_condition_rlock", |b| {
        b.iter_custom(|iters| ping_pong_threadkit(iters, Condition::new))
    });
    g.bench_function("threadkit_condition_lock", |b| {
        b.iter_custom(|iters| {
            ping_pong_threadkit(iters, || Condition::with_lock(Arc::new(Lock::new())))
        })
    });
    g.bench_function("parking_lot_condvar", |b| {
        b.iter_custom(ping_pong_parking_lot)
    });
    g.bench_function("std_condvar", |b| b.iter_custom(ping_pong_std));
    g.finish();
}

fn notify_no_waiter(c: &mut Criterion) {
    let mut g = c.benchmark_group("notify_one_no_waiter");
    let cond = Condition::new();
    let guard = cond.guard();
    g.bench_function("threadkit_condition_rlock", |b| {
        b.iter(|| black_box(&cond).notify(1).unwrap())
    });
    drop(guard);
    let cond = Condition::with_lock(Arc::new(Lock::new()));
    let guard = cond.guard();
    g.bench_function("threadkit_condition_lock", |b| {
        b.iter(|| black_box(&cond).notify(1).unwrap())
    });
    drop(guard);
    let m = parking_lot::Mutex::new(());
    let cv = parking_lot::Condvar::new();
    let guard = m.lock();
    g.bench_function("parking_lot_condvar", |b| {
        b.iter(|| black_box(&cv).notify_one())
    });
    drop(guard);
    let m = std::sync::Mutex::new(());
    let cv = std::sync::Condvar::new();
    let guard = m.lock().unwrap();
    g.bench_function("std_condvar", |b| b.iter(|| black_box(&cv).notify_one()));
    drop(guard);
    g.finish();
}

criterion_group!(
    benches,
    rlock_pair,
    rlock_depth2,
    condition_ping_pong,
    notify_no_waiter
);
criterion_main!(benches);
