//! Lock benchmarks: threadkit's `Lock` and `Mutex<T>` side by side with `std::sync::Mutex`,
//! `parking_lot` and the hardware floor, uncontended and with two threads hammering one lock.
//!
//! Run with `cargo bench --bench lock -- --warm-up-time 1 --measurement-time 2`. Only ratios
//! between entries of one group in one run mean anything: these machines swing between two
//! parallel cores and one time-sliced core (the contended group prints which one it saw).

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use lock_api::RawMutex as _;

#[path = "support/mod.rs"]
mod support;

/// One uncontended acquire + release pair of each lock, and the floor under all of them.
fn uncontended_pair(c: &mut Criterion) {
    let mut g = c.benchmark_group("uncontended_pair");

    // threadkit: `Lock::acquire()` then `Lock::release()`, its `Result` checked. (Not
    // `black_box(result)`: that would time a copy of the 56-byte `Result`, not the lock.)
    g.bench_function("threadkit_Lock_acquire_release", |b| {
        let lock = threadkit::Lock::new();
        b.iter(|| {
            let lock = black_box(&lock);
            lock.acquire();
            black_box(lock.release().is_ok())
        });
    });

    // threadkit: `let _g = lock.guard();` then drop: Python's `with lock:`.
    g.bench_function("threadkit_Lock_guard", |b| {
        let lock = threadkit::Lock::new();
        b.iter(|| drop(black_box(&lock).guard()));
    });

    // std: `Mutex<()>::lock()` then drop the guard (futex mutex plus the poison check).
    g.bench_function("std_Mutex_lock_unlock", |b| {
        let m = std::sync::Mutex::new(());
        b.iter(|| drop(black_box(&m).lock()));
    });

    // parking_lot: the raw mutex's `lock()` then `unlock()` through lock_api's trait.
    g.bench_function("parking_lot_RawMutex_lock_unlock", |b| {
        let m = <parking_lot::RawMutex as lock_api::RawMutex>::INIT;
        b.iter(|| {
            let m = black_box(&m);
            let guard = m.lock();
            // SAFETY: `guard` came from `lock` on this mutex just above.
            unsafe { m.unlock(guard) };
        });
    });

    // The floor: one compare-exchange (acquire) and one store (release) on an AtomicU32.
    g.bench_function("floor_cas_store", |b| {
        let word = AtomicU32::new(0);
        b.iter(|| {
            let word = black_box(&word);
            let ok = word
                .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok();
            word.store(0, Ordering::Release);
            black_box(ok)
        });
    });
    g.finish();
}

/// Lock a data-carrying mutex, increment the `u64` inside, unlock: threadkit, std, parking_lot.
fn mutex_increment(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_u64_increment");

    // threadkit: `*m.lock() += 1` on `threadkit::Mutex<u64>` (lock_api over `Lock`).
    g.bench_function("threadkit_Mutex", |b| {
        let m = threadkit::Mutex::new(0u64);
        b.iter(|| *black_box(&m).lock() += 1);
    });

    // std: `*m.lock().unwrap() += 1` on `std::sync::Mutex<u64>`.
    g.bench_function("std_Mutex", |b| {
        let m = std::sync::Mutex::new(0u64);
        b.iter(|| *black_box(&m).lock().unwrap() += 1);
    });

    // parking_lot: `*m.lock() += 1` on `parking_lot::Mutex<u64>`.
    g.bench_function("parking_lot_Mutex", |b| {
        let m = parking_lot::Mutex::new(0u64);
        b.iter(|| *black_box(&m).lock() += 1);
    });
    g.finish();
}

/// Runs `op` `iters` times on this thread and on one helper thread at once, and returns the
/// time from the first thread's start to the last thread's end. (Timing from one thread alone
/// would miss the other's work when the two do not overlap, as on a time-sliced core.)
fn hammer(iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    let start = Barrier::new(2);
    let run = || {
        start.wait();
        let t0 = Instant::now();
        for _ in 0..iters {
            op();
        }
        (t0, Instant::now())
    };
    std::thread::scope(|s| {
        let helper = s.spawn(run);
        let (a0, a1) = run();
        let (b0, b1) = helper.join().expect("helper thread");
        a1.max(b1) - a0.min(b0)
    })
}

/// Two threads each doing acquire, increment, release in a loop on one lock. One iteration
/// is one such operation by each thread (throughput counts both).
fn contended(c: &mut Criterion) {
    eprintln!(
        "contended_2_threads: the machine looks like {}",
        support::cpu_mode()
    );
    let mut g = c.benchmark_group("contended_2_threads");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(20);
    g.throughput(Throughput::Elements(2));

    // threadkit: raw `Lock::acquire()`, relaxed load+store of a counter, `release()`.
    g.bench_function("threadkit_Lock", |b| {
        b.iter_custom(|iters| {
            let lock = threadkit::Lock::new();
            let count = AtomicU64::new(0);
            let t = hammer(iters, &|| {
                lock.acquire();
                count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                lock.release().expect("held");
            });
            assert_eq!(count.into_inner(), 2 * iters);
            t
        });
    });

    // threadkit: `*m.lock() += 1` on `threadkit::Mutex<u64>`.
    g.bench_function("threadkit_Mutex", |b| {
        b.iter_custom(|iters| {
            let m = threadkit::Mutex::new(0u64);
            let t = hammer(iters, &|| *m.lock() += 1);
            assert_eq!(m.into_inner(), 2 * iters);
            t
        });
    });

    // std: `*m.lock().unwrap() += 1` on `std::sync::Mutex<u64>`.
    g.bench_function("std_Mutex", |b| {
        b.iter_custom(|iters| {
            let m = std::sync::Mutex::new(0u64);
            let t = hammer(iters, &|| *m.lock().unwrap() += 1);
            assert_eq!(m.into_inner().unwrap(), 2 * iters);
            t
        });
    });

    // parking_lot: `*m.lock() += 1` on `parking_lot::Mutex<u64>`.
    g.bench_function("parking_lot_Mutex", |b| {
        b.iter_custom(|iters| {
            let m = parking_lot::Mutex::new(0u64);
            let t = hammer(iters, &|| *m.lock() += 1);
            assert_eq!(m.into_inner(), 2 * iters);
            t
        });
    });
    g.finish();
    eprintln!(
        "contended_2_threads: afterwards it looks like {}",
        support::cpu_mode()
    );
}

criterion_group!(benches, uncontended_pair, mutex_increment, contended);
criterion_main!(benches);
