//! loom models of [`Semaphore`], [`BoundedSemaphore`] and [`Event`]: every interleaving (up
//! to a preemption bound where three threads run) with loom's own atomics, cells and parking
//! lot.
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_semaphore_event
//! ```
//!
//! Besides the assertions written here, loom fails an execution in which a non-atomic cell is
//! touched by two threads without a happens-before edge (a semaphore that lets two holders in,
//! a release or a `set` without release ordering), and an execution in which every thread
//! sleeps (a lost wake-up). Deadlines never fire here: timed calls are modelled as calls that
//! wait. The race of an `Event` timeout against `set` is modelled inside the crate (the
//! `loom_tests` of `src/sync/event.rs`, which can make deadlines fire); timeouts in real time
//! by `tests/semaphore.rs` and `tests/event.rs`.
//!
//! `LOOM_MAX_PREEMPTIONS` overrides each bounded model's bound.
#![cfg(loom)]

mod loom_support;

use std::time::Duration;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use loom_support::{Handle, bounded, exhaustive};
use threadkit::{BoundedSemaphore, Event, Semaphore};

/// A counter that only the holder of a permit of `sem` (a `Semaphore(1)`) may touch.
struct Guarded<S> {
    sem: S,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is only accessed by a thread holding the one permit (or, for the event
// models, after the event ordered the accesses); loom fails the model otherwise.
unsafe impl<S: Sync> Sync for Guarded<S> {}

impl<S> Guarded<S> {
    fn new(sem: S) -> Arc<Self> {
        Arc::new(Guarded {
            sem,
            value: UnsafeCell::new(0),
        })
    }

    fn add(&self, n: usize) {
        // SAFETY: the caller holds the permit (loom checks that no access races).
        self.value.with_mut(|v| unsafe { *v += n });
    }

    fn get(&self) -> usize {
        // SAFETY: as in `add`.
        self.value.with(|v| unsafe { *v })
    }
}

// ---------------------------------------------------------------------------------------
// Semaphore
// ---------------------------------------------------------------------------------------

/// Acquires one permit in the way `how` picks, adds one, gives it back.
fn increment(g: &Guarded<Semaphore>, how: usize) {
    match how {
        0 => g.sem.acquire(),
        1 => assert!(g.sem.acquire_timeout(Duration::from_secs(3600))),
        _ => {
            if !g.sem.try_acquire() {
                g.sem.acquire();
            }
        }
    }
    g.add(1);
    g.sem.release(1).unwrap();
}

#[test]
fn semaphore_of_one_excludes_two_threads() {
    exhaustive(|| {
        let g = Guarded::new(Semaphore::new(1));
        let g2 = g.clone();
        let t = thread::spawn(move || increment(&g2, 2));
        increment(&g, 0);
        t.join().unwrap();
        assert_eq!(g.sem.value(), 1, "permits conserved");
        g.sem.acquire();
        assert_eq!(g.get(), 2);
        g.sem.release(1).unwrap();
    });
}

#[test]
fn semaphore_of_one_excludes_three_threads_and_conserves_permits() {
    bounded(2, || {
        let g = Guarded::new(Semaphore::new(1));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let g = g.clone();
                thread::spawn(move || increment(&g, i + 1))
            })
            .collect();
        increment(&g, 0);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(g.sem.value(), 1, "permits conserved");
        g.sem.acquire();
        assert_eq!(g.get(), 3);
        g.sem.release(1).unwrap();
    });
}

#[test]
fn semaphore_release_wakes_a_blocked_acquire() {
    // The waiter may find the permit already there, or register and park: either way the
    // release must reach it, and what the releaser wrote before is visible to it.
    // With `parked`, the release comes only once the waiter is in the wait path.
    for (how, parked) in [(0, false), (1, false), (0, true), (1, true)] {
        exhaustive(move || {
            let g = Guarded::new(Semaphore::new(0));
            let g2 = g.clone();
            let h = Handle::default();
            let h2 = h.clone();
            let t = thread::spawn(move || {
                h2.publish();
                if how == 0 {
                    g2.sem.acquire();
                } else {
                    assert!(g2.sem.acquire_timeout(Duration::from_secs(3600)));
                }
                assert_eq!(g2.get(), 7);
            });
            if parked {
                h.until_waiting();
            }
            g.add(7);
            g.sem.release(1).unwrap();
            t.join().unwrap();
            assert_eq!(g.sem.value(), 0, "the one permit went to the waiter");
        });
    }
}

#[test]
fn semaphore_one_release_of_two_wakes_both_waiters() {
    // Both waiters are in the wait path before the release of two: it must hand one permit
    // to each and wake both.
    bounded(3, || {
        let sem = Arc::new(Semaphore::new(0));
        let handles = [Handle::default(), Handle::default()];
        let threads: Vec<_> = handles
            .iter()
            .map(|h| {
                let sem = sem.clone();
                let h = h.clone();
                thread::spawn(move || {
                    h.publish();
                    sem.acquire();
                })
            })
            .collect();
        for h in &handles {
            h.until_waiting();
        }
        sem.release(2).unwrap();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
        assert!(!sem.try_acquire(), "no permit created or duplicated");
    });
}

#[test]
fn semaphore_two_releases_of_one_wake_both_waiters() {
    bounded(2, || {
        let sem = Arc::new(Semaphore::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            })
            .collect();
        sem.release(1).unwrap();
        sem.release(1).unwrap();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
    });
}

#[test]
fn semaphore_zero_release_is_an_error_that_changes_nothing() {
    exhaustive(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = sem.clone();
        let t = thread::spawn(move || s2.acquire());
        assert!(sem.release(0).is_err());
        sem.release(1).unwrap();
        t.join().unwrap();
        assert_eq!(sem.value(), 0);
    });
}

// ---------------------------------------------------------------------------------------
// BoundedSemaphore
// ---------------------------------------------------------------------------------------

#[test]
fn bounded_over_release_racing_an_acquire() {
    // One permit, one thread that takes it and gives it back, and one extra release by the
    // main thread: whichever order they land in, exactly one of the two releases finds the
    // semaphore full and is refused, and the value ends at its bound.
    exhaustive(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        let s2 = sem.clone();
        let t = thread::spawn(move || {
            s2.acquire();
            s2.release(1).is_ok()
        });
        let mine = sem.release(1).is_ok();
        let theirs = t.join().unwrap();
        assert!(
            mine ^ theirs,
            "exactly one release refused (mine {mine}, theirs {theirs})"
        );
        assert_eq!(sem.value(), 1);
        assert_eq!(sem.bound(), 1);
    });
}

#[test]
fn bounded_over_release_racing_a_blocked_acquire() {
    // The permit is held, so the acquirer may register and park. The main thread's first
    // release hands it the permit; its second is refused or the acquirer's release is.
    bounded(3, || {
        let sem = Arc::new(BoundedSemaphore::new(1));
        sem.acquire();
        let s2 = sem.clone();
        let t = thread::spawn(move || {
            s2.acquire();
            s2.release(1).is_ok()
        });
        sem.release(1).unwrap();
        let mine = sem.release(1).is_ok();
        let theirs = t.join().unwrap();
        assert!(
            mine ^ theirs,
            "exactly one release refused (mine {mine}, theirs {theirs})"
        );
        assert_eq!(sem.value(), 1);
        assert!(sem.release(1).is_err(), "full: refused");
        assert_eq!(sem.value(), 1, "a refused release changes nothing");
    });
}

// ---------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------

#[test]
fn event_set_wakes_a_waiter_and_publishes_writes() {
    // With `parked`, the set comes only once the waiter is in the wait path.
    for (timed, parked) in [(false, false), (true, false), (false, true), (true, true)] {
        exhaustive(move || {
            let g = Guarded::new(Event::new());
            let g2 = g.clone();
            let h = Handle::default();
            let h2 = h.clone();
            let t = thread::spawn(move || {
                h2.publish();
                if timed {
                    assert!(g2.sem.wait_timeout(Duration::from_secs(3600)));
                } else {
                    g2.sem.wait();
                }
                assert!(g2.sem.is_set());
                // Ordered after the setter's write by `set` (loom checks it).
                assert_eq!(g2.get(), 3);
            });
            if parked {
                h.until_waiting();
            }
            g.add(3);
            g.sem.set();
            t.join().unwrap();
            assert!(g.sem.is_set());
        });
    }
}

#[test]
fn event_set_wakes_two_waiters() {
    // Both waiters are in the wait path before the set: one `set` must wake both.
    bounded(3, || {
        let e = Arc::new(Event::new());
        let handles = [Handle::default(), Handle::default()];
        let threads: Vec<_> = handles
            .iter()
            .map(|h| {
                let e = e.clone();
                let h = h.clone();
                thread::spawn(move || {
                    h.publish();
                    e.wait();
                })
            })
            .collect();
        for h in &handles {
            h.until_waiting();
        }
        e.set();
        for t in threads {
            t.join().unwrap();
        }
        assert!(e.is_set());
    });
}

#[test]
fn event_a_set_then_clear_still_releases_a_waiter() {
    // set; clear; set: wherever the waiter starts (before the first set, between the clear
    // and the second set, after it), it sees the event set or a set comes after its start,
    // so it must return, also when it wakes while the event is clear again (the first set
    // moved the event's counter: that set is what it returns for).
    exhaustive(|| {
        let e = Arc::new(Event::new());
        let e2 = e.clone();
        let t = thread::spawn(move || e2.wait());
        e.set();
        e.clear();
        assert!(!e.is_set());
        e.set();
        t.join().unwrap();
    });
}

#[test]
fn event_clear_racing_wait_never_loses_a_later_set() {
    bounded(3, || {
        let e = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let e = e.clone();
                thread::spawn(move || e.wait())
            })
            .collect();
        e.clear(); // a clear of a clear event changes nothing
        e.set();
        e.clear();
        e.set();
        for w in waiters {
            w.join().unwrap();
        }
        assert!(e.is_set());
    });
}
