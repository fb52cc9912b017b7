//! `RwLock<T>` beside std's and parking_lot's: uncontended read and write pairs, read-mostly
//! with 2 and 16 threads, and write-heavy with 4 threads.
//!
//! Short run: `cargo bench --bench rwlock -- --warm-up-time 1 --measurement-time 2`.
//! The contended groups report the time per operation of one thread (every thread does
//! `iters` operations at once).

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// What the benchmarks do with a lock: a read that looks at the value, a write that bumps it.
trait Rw: Send + Sync + 'static {
    fn new() -> Self;
    fn read(&self) -> u64;
    fn write(&self);
}

impl Rw for threadkit::RwLock<u64> {
    fn new() -> Self {
        threadkit::RwLock::new(0)
    }
    #[inline]
    fn read(&self) -> u64 {
        *self.read()
    }
    #[inline]
    fn write(&self) {
        *self.write() += 1;
    }
}

impl Rw for parking_lot::RwLock<u64> {
    fn new() -> Self {
        parking_lot::RwLock::new(0)
    }
    #[inline]
    fn read(&self) -> u64 {
        *self.read()
    }
    #[inline]
    fn write(&self) {
        *self.write() += 1;
    }
}

impl Rw for std::sync::RwLock<u64> {
    fn new() -> Self {
        std::sync::RwLock::new(0)
    }
    #[inline]
    fn read(&self) -> u64 {
        *self.read().unwrap()
    }
    #[inline]
    fn write(&self) {
        *self.write().unwrap() += 1;
    }
}

/// `threads` threads each do `iters` operations, one write every `write_every` (the others
/// reads); returns the time until all are done.
fn contended<L: Rw>(iters: u64, threads: usize, write_every: u64) -> Duration {
    let lock = Arc::new(L::new());
    let start_line = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (lock, start_line) = (lock.clone(), start_line.clone());
            std::thread::spawn(move || {
                start_line.wait();
                // Offset the writes so the threads do not write in lockstep.
                for i in 0..iters {
                    if (i + t as u64).is_multiple_of(write_every) {
                        lock.write();
                    } else {
                        black_box(lock.read());
                    }
                }
            })
        })
        .collect();
    start_line.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    start.elapsed()
}

macro_rules! peers {
    ($g:expr, |$ty:ident| $body:expr) => {{
        {
            type $ty = threadkit::RwLock<u64>;
            $g.bench_function("threadkit_rwlock", |b| $body(b));
        }
        {
            type $ty = parking_lot::RwLock<u64>;
            $g.bench_function("parking_lot_rwlock", |b| $body(b));
        }
        {
            type $ty = std::sync::RwLock<u64>;
            $g.bench_function("std_rwlock", |b| $body(b));
        }
    }};
}

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("rwlock_uncontended_read_pair");
    peers!(g, |L| |b: &mut criterion::Bencher| {
        let lock = <L as Rw>::new();
        b.iter(|| black_box(Rw::read(black_box(&lock))))
    });
    g.finish();
    let mut g = c.benchmark_group("rwlock_uncontended_write_pair");
    peers!(g, |L| |b: &mut criterion::Bencher| {
        let lock = <L as Rw>::new();
        b.iter(|| Rw::write(black_box(&lock)))
    });
    g.finish();
}

fn read_mostly(c: &mut Criterion) {
    for threads in [2usize, 16] {
        let mut g = c.benchmark_group(format!("rwlock_read_mostly_{threads}t"));
        g.sample_size(20);
        peers!(g, |L| |b: &mut criterion::Bencher| {
            b.iter_custom(|iters| contended::<L>(iters, threads, 100))
        });
        g.finish();
    }
}

fn write_heavy(c: &mut Criterion) {
    let mut g = c.benchmark_group("rwlock_write_heavy_4t");
    g.sample_size(20);
    peers!(g, |L| |b: &mut criterion::Bencher| {
        b.iter_custom(|iters| contended::<L>(iters, 4, 2))
    });
    g.finish();
}

criterion_group!(benches, uncontended, read_mostly, write_heavy);
criterion_main!(benches);
