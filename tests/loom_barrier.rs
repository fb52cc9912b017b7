//! loom models of [`Barrier`]: every interleaving (up to a preemption bound) of two or three
//! threads meeting once or twice, with loom's atomics and parking lot.
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_barrier
//! ```
//!
//! Besides the assertions, loom fails any execution in which every thread is parked, so "every
//! thread returns" is checked for each interleaving. Deadlines never fire in these models: the
//! timeout race is modelled here with a zero timeout (already expired when the thread
//! arrives), which breaks the barrier at any point of the other thread's arrival. The models in
//! which a parked thread's deadline fires at any point, and the cycle number's wrap-around,
//! need the crate's internals: they are in `src/sync/barrier.rs` (`loom_tests`, run with
//! `--lib sync::barrier`).
//!
//! `LOOM_MAX_PREEMPTIONS` overrides each model's bound.
#![cfg(loom)]

mod loom_support;

use std::time::Duration;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use loom_support::{bounded, exhaustive};
use threadkit::{Barrier, BrokenCause};

/// A count of the action's runs, written only by the action and read by the threads it
/// releases. A loom cell, not an atomic: loom then checks that every read happens after the
/// write it must see (the barrier's state word has to carry that edge), and the count adds no
/// scheduling points to the model.
struct Runs(UnsafeCell<usize>);

// SAFETY: the action writes the count while every party is inside the barrier (the last one
// runs it) and the parties read it only after their release; loom reports any access that
// these do not order.
unsafe impl Sync for Runs {}

impl Runs {
    fn get(&self) -> usize {
        // SAFETY: see `impl Sync`.
        self.0.with(|n| unsafe { *n })
    }
}

/// `parties` threads (the model's main thread and `parties - 1` spawned ones) each wait
/// `cycles` times on a barrier with an action that counts cycles. Checks that every wait
/// succeeds, that each cycle's indices are a permutation of `0..parties`, that the action runs
/// exactly once per cycle, and that it runs before any thread of its cycle is released.
fn meet(parties: usize, cycles: usize) {
    let runs = Arc::new(Runs(UnsafeCell::new(0)));
    let r = runs.clone();
    let barrier = Arc::new(Barrier::new(parties).unwrap().with_action(move || {
        // SAFETY: see `impl Sync for Runs`.
        r.0.with_mut(|n| unsafe { *n += 1 });
    }));
    let run = {
        let barrier = barrier.clone();
        let runs = runs.clone();
        move || {
            let mut indices = Vec::new();
            for cycle in 1..=cycles {
                let index = barrier.wait().expect("nobody breaks the barrier");
                // This cycle's action ran before the release, and the next cycle's cannot have
                // run: that cycle needs this thread's arrival.
                assert_eq!(runs.get(), cycle, "the action's runs after cycle {cycle}");
                indices.push(index);
            }
            indices
        }
    };
    let threads: Vec<_> = (1..parties).map(|_| thread::spawn(run.clone())).collect();
    let mut all = vec![run()];
    all.extend(threads.into_iter().map(|t| t.join().unwrap()));
    for cycle in 0..cycles {
        let mut indices: Vec<usize> = all.iter().map(|v| v[cycle]).collect();
        indices.sort_unstable();
        assert_eq!(indices, (0..parties).collect::<Vec<_>>(), "cycle {cycle}");
    }
    assert_eq!(runs.get(), cycles);
    assert!(!barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn two_parties_one_cycle() {
    exhaustive(|| meet(2, 1));
}

#[test]
fn two_parties_two_cycles() {
    bounded(3, || meet(2, 2));
}

#[test]
fn three_parties_one_cycle() {
    bounded(2, || meet(3, 1));
}

#[test]
fn three_parties_two_cycles() {
    bounded(1, || meet(3, 2));
}

#[test]
fn a_thread_arriving_while_the_action_runs_waits_for_the_next_cycle() {
    // Barrier(1) with an action, two threads: each is its cycle's only party and runs the
    // action, so one may arrive while the other's action runs (the cycle is full): it must
    // wait, maybe parked, for that cycle to end and then run its own. The runs must not
    // overlap (loom reports two unordered writes to the count) and both must happen.
    exhaustive(|| {
        let runs = Arc::new(Runs(UnsafeCell::new(0)));
        let r = runs.clone();
        let barrier = Arc::new(Barrier::new(1).unwrap().with_action(move || {
            // SAFETY: the barrier runs one action at a time (loom checks).
            r.0.with_mut(|n| unsafe { *n += 1 });
        }));
        let b = barrier.clone();
        let t = thread::spawn(move || b.wait());
        assert_eq!(barrier.wait(), Ok(0));
        assert_eq!(t.join().unwrap(), Ok(0));
        assert_eq!(runs.get(), 2);
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn abort_releases_a_waiting_thread() {
    // Barrier(3): the spawned thread can never complete the cycle alone, so it either waits
    // and is woken by the abort, or arrives after it; both end in BrokenCause::Abort.
    exhaustive(|| {
        let barrier = Arc::new(Barrier::new(3).unwrap());
        let b = barrier.clone();
        let t = thread::spawn(move || b.wait().map_err(|e| e.cause()));
        barrier.abort();
        assert_eq!(t.join().unwrap(), Err(BrokenCause::Abort));
        assert!(barrier.broken());
        assert_eq!(barrier.wait().unwrap_err().cause(), BrokenCause::Abort);
    });
}

#[test]
fn abort_racing_the_last_arrival_is_all_or_nothing() {
    // Barrier(2), a third thread aborts while the two arrive: either the cycle completed
    // first (both Ok, distinct indices) or the abort came first (both BrokenCause::Abort).
    bounded(3, || {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let b = barrier.clone();
        let waiter = thread::spawn(move || b.wait().map_err(|e| e.cause()));
        let b = barrier.clone();
        let aborter = thread::spawn(move || b.abort());
        let mine = barrier.wait().map_err(|e| e.cause());
        let theirs = waiter.join().unwrap();
        aborter.join().unwrap();
        match (mine, theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a + b, 1, "indices {a} and {b}"),
            (Err(a), Err(b)) => {
                assert_eq!(a, BrokenCause::Abort);
                assert_eq!(b, BrokenCause::Abort);
            }
            other => panic!("one thread released, one broken: {other:?}"),
        }
        assert!(barrier.broken());
    });
}

#[test]
fn a_zero_timeout_racing_the_last_arrival_is_all_or_nothing() {
    // One thread waits with a zero timeout (its time is up as soon as it has arrived), the
    // other waits forever: if the second arrives before the first breaks the cycle, both are
    // released; else both get BrokenCause::Timeout. Nobody is left asleep either way.
    exhaustive(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let b = barrier.clone();
        let t = thread::spawn(move || b.wait_timeout(Duration::ZERO).map_err(|e| e.cause()));
        let mine = barrier.wait().map_err(|e| e.cause());
        let theirs = t.join().unwrap();
        match (mine, theirs) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a + b, 1, "indices {a} and {b}");
                assert!(!barrier.broken());
            }
            (Err(a), Err(b)) => {
                assert_eq!((a, b), (BrokenCause::Timeout, BrokenCause::Timeout));
                assert!(barrier.broken());
            }
            other => panic!("one thread released, one broken: {other:?}"),
        }
    });
}

#[test]
fn reset_after_a_break_gives_a_working_barrier() {
    // A thread waits; the main thread aborts, resets, and the two then meet in a fresh cycle
    // (the waiter leaves the broken cycle, retries, and meets the main thread).
    bounded(2, || {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let b = barrier.clone();
        let t = thread::spawn(move || {
            loop {
                if let Ok(index) = b.wait() {
                    return index;
                }
                // Broken (by the abort): wait for the reset, then try again.
                while b.broken() {
                    thread::yield_now();
                }
            }
        });
        barrier.abort();
        barrier.reset();
        // After our own reset nothing breaks the barrier again: this wait must succeed.
        let mine = barrier.wait().expect("reset, and nobody breaks it again");
        let theirs = t.join().unwrap();
        assert_eq!(mine + theirs, 1);
        assert!(!barrier.broken());
    });
}
