//! loom models of [`RLock`] and of [`Condition`] over an `RLock` and over a raw [`Lock`]:
//! every interleaving (up to a preemption bound where three threads run) with loom's own
//! atomics, cells and parking lot.
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_rlock_condition
//! ```
//!
//! Besides the assertions written here, loom fails an execution in which a non-atomic cell is
//! touched by two threads without a happens-before edge (so a lock that lets two holders in,
//! or a wait that returns without the lock, fails), and an execution in which every thread
//! sleeps (a lost wake-up). Deadlines never fire here: timed calls are modelled as calls that
//! wait; their timeouts are tested in real time (`tests/rlock.rs`, `tests/condition.rs`), and
//! `Condition::wait_timeout` with deadlines firing at any point by the in-crate loom models
//! of `src/sync/condition.rs` (`--lib sync::condition::loom_tests`).
//!
//! `LOOM_MAX_PREEMPTIONS` overrides each bounded model's bound.
#![cfg(loom)]

mod loom_support;

use std::time::Duration;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use loom_support::{Handle, bounded, exhaustive};
use threadkit::{Condition, ConditionLock, Lock, RLock};

/// A value that only the holder of `lock` may touch (loom's cell checks it).
struct Guarded<L> {
    lock: L,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is only accessed by the holder of `lock`; loom fails the model otherwise.
unsafe impl<L: Sync> Sync for Guarded<L> {}

impl<L> Guarded<L> {
    fn new(lock: L) -> Self {
        Guarded {
            lock,
            value: UnsafeCell::new(0),
        }
    }

    /// Adds `n`; the caller holds the lock.
    fn add(&self, n: usize) {
        // SAFETY: the caller holds the lock (loom checks that no access races).
        self.value.with_mut(|v| unsafe { *v += n });
    }

    /// Reads the value; the caller holds the lock.
    fn get(&self) -> usize {
        // SAFETY: as in `add`.
        self.value.with(|v| unsafe { *v })
    }
}

// ---------------------------------------------------------------------------------------
// RLock
// ---------------------------------------------------------------------------------------

/// Acquires twice (once by the fast path's recursion, once more through `try_acquire`), adds
/// one between each level, checks the count at every level, and releases both levels.
fn recursive_increment(g: &Guarded<RLock>) {
    g.lock.acquire();
    assert_eq!(g.lock.recursion_count(), 1);
    g.add(1);
    assert!(
        g.lock.try_acquire(),
        "the owner always gets its own lock again"
    );
    assert_eq!(g.lock.recursion_count(), 2);
    g.add(1);
    g.lock.release().unwrap();
    assert_eq!(g.lock.recursion_count(), 1);
    assert!(g.lock.is_owned(), "one level released, one still held");
    g.lock.release().unwrap();
    assert!(!g.lock.is_owned());
    assert_eq!(g.lock.recursion_count(), 0);
}

#[test]
fn rlock_recursive_holder_excludes_another_thread() {
    exhaustive(|| {
        let g = Arc::new(Guarded::new(RLock::new()));
        let g2 = g.clone();
        let t = thread::spawn(move || recursive_increment(&g2));
        g.lock.acquire();
        g.add(10);
        g.lock.release().unwrap();
        t.join().unwrap();
        g.lock.acquire();
        assert_eq!(g.get(), 12);
        assert_eq!(g.lock.recursion_count(), 1);
        g.lock.release().unwrap();
        assert!(!g.lock.locked());
    });
}

#[test]
fn rlock_two_recursive_holders_and_a_third_thread() {
    bounded(2, || {
        let g = Arc::new(Guarded::new(RLock::new()));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let g = g.clone();
                thread::spawn(move || recursive_increment(&g))
            })
            .collect();
        g.lock.acquire();
        g.add(10);
        g.lock.release().unwrap();
        for t in threads {
            t.join().unwrap();
        }
        g.lock.acquire();
        assert_eq!(g.get(), 14);
        g.lock.release().unwrap();
        assert!(!g.lock.locked());
    });
}

#[test]
fn rlock_release_by_a_non_owner_is_an_error_that_changes_nothing() {
    exhaustive(|| {
        let g = Arc::new(Guarded::new(RLock::new()));
        g.lock.acquire();
        g.lock.acquire();
        let g2 = g.clone();
        let t = thread::spawn(move || {
            // Whether the main thread still holds it (another's) or has let go (unlocked),
            // this thread owns no level: an error either way.
            assert!(g2.lock.release().is_err());
            assert!(!g2.lock.is_owned());
            g2.lock.acquire();
            g2.add(1);
            g2.lock.release().unwrap();
            assert!(g2.lock.release().is_err(), "released all it held");
        });
        // The failed release, wherever it falls, must not have taken one of these levels.
        g.add(10);
        assert_eq!(g.lock.recursion_count(), 2);
        g.lock.release().unwrap();
        assert_eq!(g.lock.recursion_count(), 1);
        assert!(g.lock.is_owned());
        g.add(10);
        g.lock.release().unwrap();
        t.join().unwrap();
        assert!(!g.lock.locked());
        g.lock.acquire();
        assert_eq!(g.get(), 21);
        g.lock.release().unwrap();
    });
}

#[test]
fn rlock_waiters_are_woken_by_the_last_release() {
    // The lock is held at depth 2 until both waiters are parked (or about to park): releasing
    // one level must wake nobody (loom would flag an access race if it let a waiter in),
    // releasing the last must wake one, and that one's release the other. One waiter waits
    // with a timeout (which never fires under loom) to take the timed slow path.
    bounded(3, || {
        let g = Arc::new(Guarded::new(RLock::new()));
        g.lock.acquire();
        g.lock.acquire();
        let handles = [Handle::default(), Handle::default()];
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let g = g.clone();
                let h = handles[i].clone();
                thread::spawn(move || {
                    h.publish();
                    if i == 0 {
                        g.lock.acquire();
                    } else {
                        assert!(g.lock.acquire_timeout(Duration::from_secs(3600)));
                    }
                    assert_eq!(g.lock.recursion_count(), 1);
                    g.add(1);
                    g.lock.release().unwrap();
                })
            })
            .collect();
        for h in &handles {
            h.until_waiting();
        }
        g.add(10);
        g.lock.release().unwrap();
        g.add(10);
        g.lock.release().unwrap();
        for t in threads {
            t.join().unwrap();
        }
        g.lock.acquire();
        assert_eq!(g.get(), 22);
        g.lock.release().unwrap();
    });
}

// ---------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------

/// What a model needs to know of the condition's lock: whether the caller holds it, and at
/// what depth.
trait Held: ConditionLock + 'static {
    fn new_lock() -> Self;
    /// True if the calling thread holds the lock.
    fn held_here(&self) -> bool;
    /// How many levels the model takes before waiting (2 for an RLock: the wait must release
    /// and restore both).
    const DEPTH: usize;
    /// The calling thread's depth (1 for a held Lock).
    fn depth(&self) -> usize;
}

impl Held for RLock {
    fn new_lock() -> Self {
        RLock::new()
    }
    fn held_here(&self) -> bool {
        self.is_owned()
    }
    const DEPTH: usize = 2;
    fn depth(&self) -> usize {
        self.recursion_count()
    }
}

impl Held for Lock {
    fn new_lock() -> Self {
        Lock::new()
    }
    fn held_here(&self) -> bool {
        self.holder() == Some(threadkit::current_thread())
    }
    const DEPTH: usize = 1;
    fn depth(&self) -> usize {
        usize::from(self.held_here())
    }
}

/// A condition and a counter guarded by its lock.
struct Shared<L: Held> {
    cond: Condition<L>,
    /// Guarded by the condition's lock.
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is only accessed by the holder of the condition's lock; loom checks it.
unsafe impl<L: Held> Sync for Shared<L> {}

impl<L: Held> Shared<L> {
    fn new() -> Arc<Self> {
        Arc::new(Shared {
            cond: Condition::with_lock(std::sync::Arc::new(L::new_lock())),
            value: UnsafeCell::new(0),
        })
    }

    fn get(&self) -> usize {
        assert!(self.cond.lock().held_here(), "read without the lock");
        // SAFETY: the caller holds the lock (loom checks it).
        self.value.with(|v| unsafe { *v })
    }

    fn add(&self, n: usize) {
        assert!(self.cond.lock().held_here(), "write without the lock");
        // SAFETY: as in `get`.
        self.value.with_mut(|v| unsafe { *v += n });
    }

    /// Takes the lock `L::DEPTH` times.
    fn enter(&self) {
        for _ in 0..L::DEPTH {
            self.cond.acquire();
        }
        assert_eq!(self.cond.lock().depth(), L::DEPTH);
    }

    /// Releases the `L::DEPTH` levels taken by `enter`.
    fn leave(&self) {
        for _ in 0..L::DEPTH {
            self.cond.release().unwrap();
        }
        assert!(!self.cond.lock().held_here());
    }

    /// After a wait returns: the lock is held again, at the depth it had.
    fn check_restored(&self) {
        assert!(
            self.cond.lock().held_here(),
            "wait returned without the lock"
        );
        assert_eq!(self.cond.lock().depth(), L::DEPTH, "depth not restored");
    }
}

/// One waiter waits until the value is non-zero; a notifier sets it under the lock and
/// notifies one. In every interleaving the waiter returns (loom fails an execution where it
/// sleeps forever) holding the lock at its depth, and sees the notifier's write. Whether the
/// notify found the waiter asleep or not, it is harmless and counts right.
fn flag_then_notify<L: Held>(timed: bool) {
    let s = Shared::<L>::new();
    let s2 = s.clone();
    let waiter = thread::spawn(move || {
        s2.enter();
        while s2.get() == 0 {
            if timed {
                // The deadline never fires under loom: true means notified.
                assert!(
                    !s2.cond
                        .wait_timeout(Duration::from_secs(3600))
                        .unwrap()
                        .timed_out()
                );
            } else {
                s2.cond.wait().unwrap();
            }
            s2.check_restored();
        }
        assert_eq!(s2.get(), 1);
        s2.leave();
    });
    s.cond.acquire();
    s.add(1);
    let woken = s.cond.notify(1).unwrap();
    assert!(woken <= 1, "notify(1) woke {woken}");
    s.cond.release().unwrap();
    waiter.join().unwrap();
    assert!(!s.cond.lock().locked());
}

#[test]
fn condition_rlock_waiter_sees_the_flag_and_gets_its_depth_back() {
    exhaustive(|| flag_then_notify::<RLock>(false));
}

#[test]
fn condition_lock_waiter_sees_the_flag_and_holds_the_lock_again() {
    exhaustive(|| flag_then_notify::<Lock>(false));
}

#[test]
fn condition_timed_wait_is_notified() {
    exhaustive(|| flag_then_notify::<RLock>(true));
    exhaustive(|| flag_then_notify::<Lock>(true));
}

#[test]
fn condition_wait_for_returns_the_predicate() {
    exhaustive(|| {
        let s = Shared::<RLock>::new();
        let s2 = s.clone();
        let waiter = thread::spawn(move || {
            s2.enter();
            let seen = s2
                .cond
                .wait_for(|| (s2.get() != 0).then(|| s2.get()))
                .unwrap();
            assert_eq!(seen, 5);
            s2.check_restored();
            s2.leave();
        });
        s.cond.acquire();
        s.add(5);
        s.cond.notify_all().unwrap();
        s.cond.release().unwrap();
        waiter.join().unwrap();
    });
}

/// Two waiters wait once each; once both sleep, two `notify(1)` wake exactly one each. Each
/// waiter checks on waking that no more waiters have woken than notifies were sent; both
/// must come back (no lost wake-up, none woken twice, no wake-up swallowed by a requeue).
fn two_waiters_two_notifies<L: Held>() {
    // value = arrived + 10 * woken + 100 * notified, all under the lock.
    const ARRIVED: usize = 1;
    const WOKEN: usize = 10;
    const NOTIFIED: usize = 100;
    let s = Shared::<L>::new();
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            thread::spawn(move || {
                s.enter();
                s.add(ARRIVED);
                s.cond.wait().unwrap();
                s.check_restored();
                s.add(WOKEN);
                let v = s.get();
                let (woken, notified) = (v / WOKEN % 10, v / NOTIFIED);
                assert!(woken <= notified, "{woken} woken by {notified} notifies");
                s.leave();
            })
        })
        .collect();
    let wait_until = |target: usize, digit: usize| loop {
        s.cond.acquire();
        if s.get() / digit % 10 == target {
            return;
        }
        s.cond.release().unwrap();
        thread::yield_now();
    };
    // Both waiters are queued once their arrival is visible under the lock: a waiter leaves
    // the lock only from inside `wait`, after it has queued.
    wait_until(2, ARRIVED);
    assert_eq!(s.cond.notify(1).unwrap(), 1);
    s.add(NOTIFIED);
    s.cond.release().unwrap();
    wait_until(1, WOKEN);
    assert_eq!(s.cond.notify(1).unwrap(), 1);
    s.add(NOTIFIED);
    assert_eq!(s.cond.notify(1).unwrap(), 0, "nobody left to notify");
    s.cond.release().unwrap();
    for w in waiters {
        w.join().unwrap();
    }
    s.cond.acquire();
    assert_eq!(s.get(), 2 * ARRIVED + 2 * WOKEN + 2 * NOTIFIED);
    s.cond.release().unwrap();
}

#[test]
fn condition_rlock_notify_one_wakes_exactly_one_per_notify() {
    // Bound 1: the RLock variant takes each level separately, and at bound 2 runs for minutes.
    bounded(1, two_waiters_two_notifies::<RLock>);
}

#[test]
fn condition_lock_notify_one_wakes_exactly_one_per_notify() {
    bounded(2, two_waiters_two_notifies::<Lock>);
}

#[test]
fn condition_notify_all_wakes_both_waiters() {
    // Two waiters, one notify_all: the first is woken or requeued onto the held lock, the
    // second requeued behind it; both must get the lock in turn. (This model once failed
    // because, under loom only, the second waiter to run could take a number the first had
    // freed and read a stale lock word naming it as its own: see `registry::remove`.)
    bounded(2, || {
        let s = Shared::<RLock>::new();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || {
                    s.enter();
                    while s.get() < 100 {
                        s.cond.wait().unwrap();
                        s.check_restored();
                    }
                    s.add(1);
                    s.leave();
                })
            })
            .collect();
        s.cond.acquire();
        s.add(100);
        let woken = s.cond.notify_all().unwrap();
        assert!(woken <= 2);
        s.cond.release().unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        s.cond.acquire();
        assert_eq!(s.get(), 102);
        s.cond.release().unwrap();
    });
}

#[test]
fn condition_notify_without_waiters_or_lock() {
    exhaustive(|| {
        let s = Shared::<RLock>::new();
        // Not held: an error, and nothing changes.
        assert!(s.cond.notify(1).is_err());
        assert!(s.cond.wait().is_err());
        let s2 = s.clone();
        let t = thread::spawn(move || {
            // Races the main thread's notifies: may be the lone waiter or find nobody.
            s2.cond.acquire();
            s2.add(1);
            s2.cond.release().unwrap();
        });
        s.cond.acquire();
        assert_eq!(s.cond.notify(1).unwrap(), 0, "no waiter, nothing woken");
        assert_eq!(s.cond.notify_all().unwrap(), 0);
        s.cond.release().unwrap();
        t.join().unwrap();
        s.cond.acquire();
        assert_eq!(s.get(), 1);
        s.cond.release().unwrap();
    });
}
