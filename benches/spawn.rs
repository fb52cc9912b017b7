//! Threads that return a value, scoped threads and owned permits, beside their std (and
//! threadkit's own borrowed) counterparts.
//!
//! Run with `cargo bench --bench spawn -- --warm-up-time 1 --measurement-time 2`. Only ratios
//! between entries of one group in one run mean anything.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

/// Spawning a thread that returns a value, and joining it for the value.
fn spawn_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_join_value");
    g.bench_function("threadkit_spawn_join", |b| {
        b.iter(|| threadkit::spawn(|| black_box(7u64)).join().expect("join"));
    });
    // The `Thread` path it is built on: start + join with the value through a side channel.
    g.bench_function("threadkit_Thread_start_join", |b| {
        b.iter(|| {
            let t = threadkit::Thread::new(|| {
                black_box(7u64);
            });
            t.start().expect("start");
            t.join().expect("join");
        });
    });
    g.bench_function("std_named_spawn_join", |b| {
        b.iter(|| {
            std::thread::Builder::new()
                .name("Thread-1".to_string())
                .spawn(|| black_box(7u64))
                .expect("spawn")
                .join()
                .expect("join")
        });
    });
    g.finish();
}

/// A scope with four threads that borrow a slice and sum a quarter each.
fn scope4(c: &mut Criterion) {
    let data: Vec<u64> = (0..4096).collect();
    let mut g = c.benchmark_group("scope_4_threads");
    g.bench_function("threadkit_scope", |b| {
        b.iter(|| {
            threadkit::scope(|s| {
                let hs: Vec<_> = data
                    .chunks(1024)
                    .map(|c| s.spawn(move || c.iter().sum::<u64>()))
                    .collect();
                hs.into_iter().map(|h| h.join().expect("join")).sum::<u64>()
            })
        });
    });
    g.bench_function("std_scope", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let hs: Vec<_> = data
                    .chunks(1024)
                    .map(|c| s.spawn(move || c.iter().sum::<u64>()))
                    .collect();
                hs.into_iter().map(|h| h.join().expect("join")).sum::<u64>()
            })
        });
    });
    g.finish();
}

/// An uncontended acquire + release: owned permit, borrowed guard; a guard that owns an `Arc`
/// of its mutex beside parking_lot's (and the borrowed guards, as references).
fn permits(c: &mut Criterion) {
    let sem = Arc::new(threadkit::Semaphore::new(1));
    let mut g = c.benchmark_group("semaphore_permit_pair");
    g.bench_function("threadkit_acquire_owned", |b| {
        b.iter(|| drop(black_box(sem.clone().acquire_owned())));
    });
    g.bench_function("threadkit_guard", |b| {
        b.iter(|| drop(black_box(sem.guard())));
    });
    let m = Arc::new(threadkit::Mutex::new(0u64));
    let pm = Arc::new(parking_lot::Mutex::new(0u64));
    g.bench_function("threadkit_lock_arc", |b| {
        b.iter(|| *m.lock_arc() += 1);
    });
    g.bench_function("threadkit_lock", |b| {
        b.iter(|| *m.lock() += 1);
    });
    g.bench_function("parking_lot_lock_arc", |b| {
        b.iter(|| *pm.lock_arc() += 1);
    });
    g.bench_function("parking_lot_lock", |b| {
        b.iter(|| *pm.lock() += 1);
    });
    g.finish();
}

criterion_group!(benches, spawn_join, scope4, permits);
criterion_main!(benches);
