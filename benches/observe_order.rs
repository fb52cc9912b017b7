//! The cost of `threadkit::observe`'s switches.
//!
//! - `lock_order_two_locks`: taking two locks in order and releasing them, uncontended, with
//!   lock-order checking on, against `tracing-mutex`'s `stdsync::tracing::Mutex` (which always checks)
//!   doing the same; threadkit with checking off and std's `Mutex` as the floors.
//! - `recording_semaphore_handoff`, `recording_contended_lock`: blocking paths with the
//!   contention profile and the timeline recording, against the same with both off.
//!
//! Run with `cargo bench --bench observe_order -- --warm-up-time 1 --measurement-time 2`.
//! Only ratios between entries of one group in one run mean anything.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use threadkit::observe::{contention, lock_order, timeline};

fn two_locks(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_order_two_locks");

    g.bench_function("threadkit_Lock_checking_on", |b| {
        let (x, y) = (threadkit::Lock::new(), threadkit::Lock::new());
        lock_order::enable(lock_order::OnCycle::Panic);
        b.iter(|| {
            let _gx = black_box(&x).guard();
            let _gy = black_box(&y).guard();
        });
        lock_order::disable();
    });

    g.bench_function("threadkit_Mutex_checking_on", |b| {
        let (x, y) = (threadkit::Mutex::new(0u64), threadkit::Mutex::new(0u64));
        lock_order::enable(lock_order::OnCycle::Panic);
        b.iter(|| {
            let mut gx = black_box(&x).lock();
            let mut gy = black_box(&y).lock();
            *gx += 1;
            *gy += 1;
        });
        lock_order::disable();
    });

    g.bench_function("tracing_mutex_stdsync_tracing_Mutex", |b| {
        let (x, y) = (
            tracing_mutex::stdsync::tracing::Mutex::new(0u64),
            tracing_mutex::stdsync::tracing::Mutex::new(0u64),
        );
        b.iter(|| {
            let mut gx = black_box(&x).lock().unwrap();
            let mut gy = black_box(&y).lock().unwrap();
            *gx += 1;
            *gy += 1;
        });
    });

    g.bench_function("threadkit_Mutex_checking_off", |b| {
        let (x, y) = (threadkit::Mutex::new(0u64), threadkit::Mutex::new(0u64));
        b.iter(|| {
            let mut gx = black_box(&x).lock();
            let mut gy = black_box(&y).lock();
            *gx += 1;
            *gy += 1;
        });
    });

    g.bench_function("std_Mutex", |b| {
        let (x, y) = (std::sync::Mutex::new(0u64), std::sync::Mutex::new(0u64));
        b.iter(|| {
            let mut gx = black_box(&x).lock().unwrap();
            let mut gy = black_box(&y).lock().unwrap();
            *gx += 1;
            *gy += 1;
        });
    });
    g.finish();
}

/// Turns the contention profile and the timeline on (`true`) or off; a new recording drops
/// the last one, so memory stays bounded by one batch.
fn recording(on: bool) {
    if on {
        contention::reset();
        contention::enable();
        timeline::stop();
        timeline::start();
    } else {
        contention::disable();
        timeline::stop();
    }
}

/// `iters` round trips of a two-semaphore ping-pong with a second thread.
fn semaphore_handoff(iters: u64) -> Duration {
    let (ping, pong) = (
        Arc::new(threadkit::Semaphore::new(0)),
        Arc::new(threadkit::Semaphore::new(0)),
    );
    let (pi, po) = (ping.clone(), pong.clone());
    let partner = std::thread::spawn(move || {
        for _ in 0..iters {
            pi.acquire();
            po.release(1).unwrap();
        }
    });
    let start = Instant::now();
    for _ in 0..iters {
        ping.release(1).unwrap();
        pong.acquire();
    }
    let t = start.elapsed();
    partner.join().unwrap();
    t
}

/// `iters` acquire-release pairs by each of two threads on one lock.
fn contended_lock(iters: u64) -> Duration {
    let lock = Arc::new(threadkit::Lock::new());
    let l = lock.clone();
    let start = Instant::now();
    let partner = std::thread::spawn(move || {
        for _ in 0..iters {
            let _g = l.guard();
            black_box(());
        }
    });
    for _ in 0..iters {
        let _g = lock.guard();
        black_box(());
    }
    partner.join().unwrap();
    start.elapsed()
}

fn recording_rows(c: &mut Criterion) {
    for (group, f) in [
        (
            "recording_semaphore_handoff",
            semaphore_handoff as fn(u64) -> Duration,
        ),
        ("recording_contended_lock", contended_lock),
    ] {
        let mut g = c.benchmark_group(group);
        for on in [false, true] {
            let name = if on {
                "contention_and_timeline_on"
            } else {
                "off"
            };
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    recording(on);
                    let t = f(iters);
                    recording(false);
                    t
                });
            });
        }
        g.finish();
    }
}

criterion_group!(benches, two_locks, recording_rows);
criterion_main!(benches);
