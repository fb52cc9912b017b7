//! loom models of the raw [`Lock`] and of `Mutex<T>` over it: every interleaving (up to a
//! preemption bound) of a few threads, with loom's own atomics, cells and parking lot.
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_lock
//! ```
//!
//! loom checks more than the assertions written here: a non-atomic cell accessed by two
//! threads without a happens-before edge between them fails the model (so a wrong `Acquire`/
//! `Release` on the lock word fails it), and so does an execution in which every thread is
//! parked (a lost wake-up). Deadlines never fire under loom (it does not model time): the
//! timed acquire is modelled here as an acquire that waits; the race of a timeout against a
//! release is modelled inside the crate (`primitive::park_loom`'s tests), and timeouts in real
//! time by `tests/lock.rs`.
//!
//! `LOOM_MAX_PREEMPTIONS` overrides each model's bound.
#![cfg(loom)]

mod loom_support;

use std::time::Duration;

use lock_api::RawMutexTimed;
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use loom_support::{Handle, bounded, exhaustive};
use threadkit::{Lock, Mutex};

/// A counter that only the holder of `lock` may touch. loom's `UnsafeCell` fails the model if
/// two threads touch it without the lock ordering them.
struct Guarded {
    lock: Lock,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is only accessed by the thread that holds `lock` (or, in
// `release_by_another_thread`, by a thread the holder hands the lock to); loom checks it.
unsafe impl Sync for Guarded {}

impl Guarded {
    fn new() -> Self {
        Guarded {
            lock: Lock::new(),
            value: UnsafeCell::new(0),
        }
    }

    /// Adds `n`; the caller holds the lock.
    fn add(&self, n: usize) {
        // SAFETY: the caller holds the lock (loom checks that no access races).
        self.value.with_mut(|v| unsafe { *v += n });
    }

    fn get(&self) -> usize {
        // SAFETY: as in `add`.
        self.value.with(|v| unsafe { *v })
    }

    /// acquire, add one, release.
    fn increment(&self) {
        self.lock.acquire();
        self.add(1);
        self.lock.release().expect("held by this thread");
    }
}

#[test]
fn two_threads_exclude_each_other() {
    exhaustive(|| {
        let g = Arc::new(Guarded::new());
        let g2 = g.clone();
        let t = thread::spawn(move || g2.increment());
        g.increment();
        t.join().unwrap();
        g.lock.acquire();
        assert_eq!(g.get(), 2);
        g.lock.release().unwrap();
        assert!(!g.lock.locked());
    });
}

#[test]
fn three_threads_exclude_each_other_and_none_sleeps_forever() {
    // Three contenders: a third thread finds PARKED already set and parks behind the second,
    // and a release must leave PARKED set while a waiter remains.
    bounded(3, || {
        let g = Arc::new(Guarded::new());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let g = g.clone();
                thread::spawn(move || g.increment())
            })
            .collect();
        g.increment();
        for t in threads {
            t.join().unwrap();
        }
        g.lock.acquire();
        assert_eq!(g.get(), 3);
        g.lock.release().unwrap();
    });
}

#[test]
fn parked_waiters_are_all_woken() {
    // The lock is held while both threads arrive, so both must take the slow path and park;
    // the single release must wake one, and its release the other.
    bounded(3, || {
        let g = Arc::new(Guarded::new());
        g.lock.acquire();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let g = g.clone();
                thread::spawn(move || g.increment())
            })
            .collect();
        g.add(10);
        g.lock.release().unwrap();
        for t in threads {
            t.join().unwrap();
        }
        assert!(!g.lock.locked());
        g.lock.acquire();
        assert_eq!(g.get(), 12);
        g.lock.release().unwrap();
    });
}

#[test]
fn release_by_another_thread() {
    // Python semantics: any thread may release a Lock. What the releasing thread did before
    // its release happens-before the next acquire, even by a third party.
    exhaustive(|| {
        let g = Arc::new(Guarded::new());
        g.lock.acquire();
        g.add(1);
        let g2 = g.clone();
        let t = thread::spawn(move || {
            // The main thread's writes happened-before the spawn; this thread acts as holder.
            g2.add(2);
            g2.lock
                .release()
                .expect("locked, so any thread may release it");
        });
        g.lock.acquire(); // waits for the other thread's release
        assert_eq!(g.get(), 3);
        g.lock.release().unwrap();
        t.join().unwrap();
    });
}

#[test]
fn try_acquire_races_a_release() {
    exhaustive(|| {
        let g = Arc::new(Guarded::new());
        g.lock.acquire();
        let g2 = g.clone();
        let t = thread::spawn(move || {
            if g2.lock.try_acquire() {
                // Only after the main thread's release: its write is visible.
                assert_eq!(g2.get(), 10);
                g2.add(1);
                g2.lock.release().unwrap();
                true
            } else {
                false
            }
        });
        g.add(10);
        g.lock.release().unwrap();
        let got = t.join().unwrap();
        g.lock.acquire();
        assert_eq!(g.get(), if got { 11 } else { 10 });
        g.lock.release().unwrap();
    });
}

#[test]
fn two_releases_of_one_hold_one_succeeds() {
    exhaustive(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l2 = lock.clone();
        let t = thread::spawn(move || l2.release().is_ok());
        let mine = lock.release().is_ok();
        let theirs = t.join().unwrap();
        assert!(mine ^ theirs, "exactly one release of one hold succeeds");
        assert!(!lock.locked());
    });
}

#[test]
fn timed_acquire_is_woken_by_release() {
    // Deadlines never fire under loom: this checks the timed slow path's wake-up.
    exhaustive(|| {
        let g = Arc::new(Guarded::new());
        g.lock.acquire();
        let g2 = g.clone();
        let t = thread::spawn(move || {
            assert!(g2.lock.acquire_timeout(Duration::from_secs(3600)));
            g2.add(1);
            g2.lock.release().unwrap();
        });
        g.add(1);
        g.lock.release().unwrap();
        t.join().unwrap();
        g.lock.acquire();
        assert_eq!(g.get(), 2);
        g.lock.release().unwrap();
    });
}

#[test]
fn guards_exclude_and_release() {
    exhaustive(|| {
        let g = Arc::new(Guarded::new());
        let g2 = g.clone();
        let t = thread::spawn(move || {
            let _guard = g2.lock.guard();
            g2.add(1);
        });
        if let Some(_guard) = g.lock.try_guard() {
            g.add(1);
        } else {
            let _guard = g.lock.guard();
            g.add(1);
        }
        t.join().unwrap();
        assert!(!g.lock.locked());
        let _guard = g.lock.guard();
        assert_eq!(g.get(), 2);
    });
}

#[test]
fn mutex_through_lock_api() {
    // Under loom `Mutex::new` cannot be used (loom atomics are not `const`): `from_raw`.
    bounded(3, || {
        let m = Arc::new(Mutex::from_raw(Lock::new(), UnsafeCell::new(0usize)));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let m = m.clone();
                thread::spawn(move || {
                    let guard = if i == 0 {
                        m.lock()
                    } else {
                        m.try_lock().unwrap_or_else(|| {
                            m.try_lock_for(Duration::from_secs(3600))
                                .expect("a deadline never fires under loom")
                        })
                    };
                    // SAFETY: the guard excludes every other access (loom checks it).
                    guard.with_mut(|v| unsafe { *v += 1 });
                })
            })
            .collect();
        {
            let guard = m.lock();
            // SAFETY: as above.
            guard.with_mut(|v| unsafe { *v += 1 });
        }
        for t in threads {
            t.join().unwrap();
        }
        let guard = m.lock();
        // SAFETY: as above.
        assert_eq!(guard.with(|v| unsafe { *v }), 3);
        drop(guard);
        assert!(!m.is_locked());
    });
}

#[test]
fn raw_mutex_timed_until_is_woken_by_release() {
    exhaustive(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l2 = lock.clone();
        let t = thread::spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(3600);
            let got = l2.try_lock_until(deadline).is_some();
            assert!(got);
            l2.release().unwrap();
        });
        lock.release().unwrap();
        t.join().unwrap();
        assert!(!lock.locked());
    });
}

#[test]
fn mutex_unlock_wakes_a_parked_locker() {
    // A `Mutex` guard's unlock subtracts what the acquisition added instead of swapping the
    // word free: a locker that marked the word parked, before the unlock read it or between
    // that read and the subtraction, must still be woken (loom fails an execution where it
    // sleeps forever), and the lock must end free.
    exhaustive(|| {
        let m = Arc::new(Mutex::from_raw(Lock::new(), UnsafeCell::new(0usize)));
        let guard = m.lock();
        let h = Handle::default();
        let (m2, h2) = (m.clone(), h.clone());
        let t = thread::spawn(move || {
            h2.publish();
            let guard = m2.lock();
            // SAFETY: the guard excludes every other access (loom checks it).
            guard.with_mut(|v| unsafe { *v += 1 });
        });
        h.until_waiting();
        // SAFETY: as above.
        guard.with_mut(|v| unsafe { *v += 1 });
        drop(guard);
        t.join().unwrap();
        // SAFETY: both threads are done.
        assert_eq!(m.lock().with(|v| unsafe { *v }), 2);
        assert!(!m.is_locked());
    });
}
