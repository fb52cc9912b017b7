//! loom models of [`RawRwLock`], the raw state under `RwLock<T>`: the reader/writer hand-offs
//! (a writer waits for the readers inside to leave, readers wait for the writer, an upgrade
//! waits for the readers), with every interleaving (bounded where three threads run).
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_rwlock
//! ```
//!
//! The value is a loom cell that readers read (`with`) and writers change (`with_mut`): loom
//! fails an execution in which a writer's access is not ordered with every other access (so a
//! lock that lets a reader in beside a writer, or orders them too weakly, fails), and one in
//! which every thread sleeps (a lost wake-up). Deadlines never fire here: the timed forms are
//! modelled as waits; timeouts racing the hand-offs, with deadlines firing at any point, are
//! modelled inside the crate (`--lib sync::rwlock::loom_tests`).
//!
//! `LOOM_MAX_PREEMPTIONS` overrides each bounded model's bound.
#![cfg(loom)]

mod loom_support;

use std::time::Duration;

use lock_api::{
    GuardSend, RawRwLock as _, RawRwLockDowngrade as _, RawRwLockTimed as _, RawRwLockUpgrade as _,
};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use loom_support::{Handle, bounded, exhaustive};
use threadkit::RawRwLock;

struct Guarded {
    lock: RawRwLock,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is read under a shared or upgradable lock and written under the exclusive
// one; loom fails the model if two accesses (one a write) are not ordered.
unsafe impl Sync for Guarded {}

impl Guarded {
    fn new() -> Arc<Self> {
        Arc::new(Guarded {
            lock: RawRwLock::new(),
            value: UnsafeCell::new(0),
        })
    }

    /// The caller holds the lock, in any mode.
    fn get(&self) -> usize {
        // SAFETY: as on the `Sync` impl.
        self.value.with(|v| unsafe { *v })
    }

    /// The caller holds the lock exclusively.
    fn add(&self, n: usize) {
        // SAFETY: as on the `Sync` impl.
        self.value.with_mut(|v| unsafe { *v += n });
    }

    fn read(&self) -> usize {
        self.lock.lock_shared();
        let v = self.get();
        // SAFETY: this thread holds the shared lock taken above.
        unsafe { self.lock.unlock_shared(GuardSend::new()) };
        v
    }

    fn write(&self, n: usize) {
        self.lock.lock_exclusive();
        self.add(n);
        // SAFETY: this thread holds the exclusive lock taken above.
        unsafe { self.lock.unlock_exclusive(GuardSend::new()) };
    }

    /// No bit left behind: nobody holds it, nobody is counted, no stale parked bit.
    fn assert_clean(&self) {
        assert_eq!(
            format!("{:?}", self.lock),
            "RawRwLock { readers: 0, writer: false }"
        );
        assert!(
            self.lock.try_lock_exclusive().is_some(),
            "a parked bit or reader left"
        );
        // SAFETY: taken just above.
        unsafe { self.lock.unlock_exclusive(GuardSend::new()) };
    }
}

#[test]
fn writer_waits_for_the_reader_inside() {
    exhaustive(|| {
        let g = Guarded::new();
        g.lock.lock_shared();
        let h = Handle::default();
        let (g2, h2) = (g.clone(), h.clone());
        let w = thread::spawn(move || {
            h2.publish();
            g2.write(1);
        });
        h.until_waiting();
        assert_eq!(g.get(), 0);
        // SAFETY: held since the start.
        unsafe { g.lock.unlock_shared(GuardSend::new()) };
        w.join().unwrap();
        assert_eq!(g.read(), 1);
        g.assert_clean();
    });
}

#[test]
fn reader_waits_for_the_writer() {
    exhaustive(|| {
        let g = Guarded::new();
        g.lock.lock_exclusive();
        let h = Handle::default();
        let (g2, h2) = (g.clone(), h.clone());
        let r = thread::spawn(move || {
            h2.publish();
            assert_eq!(g2.read(), 5, "a reader got in before the writer left");
        });
        h.until_waiting();
        g.add(5);
        // SAFETY: held since the start.
        unsafe { g.lock.unlock_exclusive(GuardSend::new()) };
        r.join().unwrap();
        g.assert_clean();
    });
}

#[test]
fn timed_forms_hand_off_like_the_untimed_ones() {
    // Deadlines do not fire under loom: this takes the timed slow paths to the hand-off.
    bounded(3, || {
        let g = Guarded::new();
        g.lock.lock_shared();
        let (g2, h) = (g.clone(), Handle::default());
        let h2 = h.clone();
        let w = thread::spawn(move || {
            h2.publish();
            assert!(
                g2.lock
                    .try_lock_exclusive_for(Duration::from_secs(3600))
                    .is_some()
            );
            g2.add(1);
            // SAFETY: taken just above.
            unsafe { g2.lock.downgrade(GuardSend::new()) };
            assert_eq!(g2.get(), 1);
            // SAFETY: the downgraded shared lock.
            unsafe { g2.lock.unlock_shared(GuardSend::new()) };
        });
        h.until_waiting();
        // SAFETY: held since the start.
        unsafe { g.lock.unlock_shared(GuardSend::new()) };
        assert!(
            g.lock
                .try_lock_shared_for(Duration::from_secs(3600))
                .is_some()
        );
        let v = g.get();
        // SAFETY: taken just above.
        unsafe { g.lock.unlock_shared(GuardSend::new()) };
        w.join().unwrap();
        assert!(v <= 1);
        g.assert_clean();
    });
}

#[test]
fn two_writers_and_a_reader() {
    bounded(2, || {
        let g = Guarded::new();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let g = g.clone();
                thread::spawn(move || g.write(1))
            })
            .collect();
        let seen = g.read();
        assert!(seen <= 2);
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(g.read(), 2);
        g.assert_clean();
    });
}

#[test]
fn a_waiting_writer_keeps_a_late_reader_out_and_all_get_through() {
    // A reader inside, a writer waiting for it, a second reader arriving: the second reader
    // must not get in before the writer (no starvation), and nobody sleeps forever.
    bounded(2, || {
        let g = Guarded::new();
        g.lock.lock_shared();
        let h = Handle::default();
        let (g2, h2) = (g.clone(), h.clone());
        let w = thread::spawn(move || {
            h2.publish();
            g2.write(1);
        });
        h.until_waiting();
        let g3 = g.clone();
        let r = thread::spawn(move || g3.read());
        // SAFETY: held since the start.
        unsafe { g.lock.unlock_shared(GuardSend::new()) };
        w.join().unwrap();
        let late = r.join().unwrap();
        // The writer was waiting with WRITER set before the late reader started.
        assert_eq!(late, 1, "the late reader got in before the waiting writer");
        g.assert_clean();
    });
}

#[test]
fn an_upgrade_waits_for_the_reader_and_excludes_writers() {
    bounded(2, || {
        let g = Guarded::new();
        g.lock.lock_shared();
        let h = Handle::default();
        let (g2, h2) = (g.clone(), h.clone());
        let u = thread::spawn(move || {
            g2.lock.lock_upgradable();
            let before = g2.get();
            h2.publish();
            // SAFETY: the upgradable lock taken above.
            unsafe { g2.lock.upgrade(GuardSend::new()) };
            g2.add(1);
            // SAFETY: upgraded to exclusive just above.
            unsafe { g2.lock.unlock_exclusive(GuardSend::new()) };
            before
        });
        h.until_waiting();
        // SAFETY: held since the start.
        unsafe { g.lock.unlock_shared(GuardSend::new()) };
        let g3 = g.clone();
        let w = thread::spawn(move || g3.write(10));
        assert_eq!(u.join().unwrap(), 0);
        w.join().unwrap();
        assert_eq!(g.read(), 11);
        g.assert_clean();
    });
}
