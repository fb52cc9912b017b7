//! `Condvar` (waiting with a `MutexGuard`) beside parking_lot's `Condvar` and std's: a
//! ping-pong round trip between two threads, and a notify with nobody waiting.
//!
//! Short run: `cargo bench --bench condvar -- --warm-up-time 1 --measurement-time 2`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// The ping-pong, written once for any mutex/condvar pair: how to lock, how to wait.
macro_rules! ping_pong {
    ($iters:expr, $pair:expr, |$m:ident| $lock:expr, |$cv:ident, $g:ident| $wait:expr) => {{
        let iters: u64 = $iters;
        let pair = Arc::new($pair);
        let ready = Arc::new(Barrier::new(2));
        let (p, r) = (pair.clone(), ready.clone());
        let partner = std::thread::spawn(move || {
            r.wait();
            let (m, cv) = &*p;
            for i in 0..iters {
                let mut g = {
                    let $m = m;
                    $lock
                };
                while *g != 2 * i + 1 {
                    g = {
                        let ($cv, $g) = (cv, g);
                        $wait
                    };
                }
                *g = 2 * i + 2;
                cv.notify_one();
            }
        });
        ready.wait();
        let start = Instant::now();
        let (m, cv) = &*pair;
        for i in 0..iters {
            let mut g = {
                let $m = m;
                $lock
            };
            while *g != 2 * i {
                g = {
                    let ($cv, $g) = (cv, g);
                    $wait
                };
            }
            *g = 2 * i + 1;
            cv.notify_one();
        }
        {
            let mut g = {
                let $m = m;
                $lock
            };
            while *g != 2 * iters {
                g = {
                    let ($cv, $g) = (cv, g);
                    $wait
                };
            }
        }
        let took: Duration = start.elapsed();
        partner.join().unwrap();
        took
    }};
}

fn condvar_ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("condvar_ping_pong_round_trip");
    g.bench_function("threadkit_condvar", |b| {
        b.iter_custom(|iters| {
            ping_pong!(
                iters,
                (threadkit::Mutex::new(0u64), threadkit::Condvar::new()),
                |m| m.lock(),
                |cv, g| {
                    let mut g = g;
                    cv.wait(&mut g).unwrap();
                    g
                }
            )
        })
    });
    g.bench_function("parking_lot_condvar", |b| {
        b.iter_custom(|iters| {
            ping_pong!(
                iters,
                (parking_lot::Mutex::new(0u64), parking_lot::Condvar::new()),
                |m| m.lock(),
                |cv, g| {
                    let mut g = g;
                    cv.wait(&mut g);
                    g
                }
            )
        })
    });
    g.bench_function("std_condvar", |b| {
        b.iter_custom(|iters| {
            ping_pong!(
                iters,
                (std::sync::Mutex::new(0u64), std::sync::Condvar::new()),
                |m| m.lock().unwrap(),
                |cv, g| cv.wait(g).unwrap()
            )
        })
    });
    g.finish();
}

fn condvar_notify_no_waiter(c: &mut Criterion) {
    let mut g = c.benchmark_group("condvar_notify_one_no_waiter");
    let cv = threadkit::Condvar::new();
    g.bench_function("threadkit_condvar", |b| {
        b.iter(|| black_box(&cv).notify_one())
    });
    let cv = parking_lot::Condvar::new();
    g.bench_function("parking_lot_condvar", |b| {
        b.iter(|| black_box(&cv).notify_one())
    });
    let cv = std::sync::Condvar::new();
    g.bench_function("std_condvar", |b| b.iter(|| black_box(&cv).notify_one()));
    g.finish();
}

criterion_group!(benches, condvar_ping_pong, condvar_notify_no_waiter);
criterion_main!(benches);
