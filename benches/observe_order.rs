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
use std::sync::{Arc, mpsc};
use std::time::Instant;

use criterion::{Bencher, Criterion, criterion_group, criterion_main};
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

/// Times `main_step` run `iters` times while a helper thread runs `helper_step` as often
/// (one helper for the whole benchmark), with recording `on` or off during each batch.
fn two_threads<H, M>(b: &mut Bencher, on: bool, helper_step: H, main_step: M)
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
        recording(on);
        go_tx.send(iters).unwrap();
        let start = Instant::now();
        for _ in 0..iters {
            main_step();
        }
        let elapsed = start.elapsed();
        done_rx.recv().unwrap();
        recording(false);
        elapsed
    });
    drop(go_tx);
    helper.join().unwrap();
}

fn recording_rows(c: &mut Criterion) {
    let mut g = c.benchmark_group("recording_semaphore_handoff");
    for on in [false, true] {
        let name = if on {
            "contention_and_timeline_on"
        } else {
            "off"
        };
        g.bench_function(name, |b| {
            let (ping, pong) = (
                Arc::new(threadkit::Semaphore::new(0)),
                Arc::new(threadkit::Semaphore::new(0)),
            );
            let (pi, po) = (ping.clone(), pong.clone());
            two_threads(
                b,
                on,
                move || {
                    pi.acquire();
                    po.release(1).unwrap();
                },
                || {
                    ping.release(1).unwrap();
                    pong.acquire();
                },
            );
        });
    }
    g.finish();

    let mut g = c.benchmark_group("recording_contended_lock");
    for on in [false, true] {
        let name = if on {
            "contention_and_timeline_on"
        } else {
            "off"
        };
        g.bench_function(name, |b| {
            let lock = Arc::new(threadkit::Lock::new());
            let l = lock.clone();
            two_threads(
                b,
                on,
                move || drop(black_box(&l).guard()),
                || drop(black_box(&lock).guard()),
            );
        });
    }
    g.finish();
}

criterion_group!(benches, two_locks, recording_rows);
criterion_main!(benches);
