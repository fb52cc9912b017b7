//! Which locks each thread holds: a per-thread list, kept only while a run-time switch is on.
//!
//! `Lock`, `RLock` and `Mutex` (through `Lock`) call [`acquired`] and [`released`] on every
//! acquisition and release, fast paths included. Both are inline and, while the switch is off,
//! one relaxed load of a static and a branch not taken: the uncontended benchmarks do not
//! move. While it is on, the calling thread appends to, or removes from, its own list, which
//! lives in its registry entry beside its wait record (written only by that thread, as
//! parking_lot_core's deadlock detector keeps its `resources`), and anyone may read a copy
//! ([`held_by`]). Lock-order checking and thread dumps read these lists.
//!
//! A `Lock` may be released by a thread other than the one that took it (Python allows it):
//! the release then removes nothing, and the entry stays in the taker's list until that thread
//! releases the same lock itself or ends; readers that need certainty compare with the lock's
//! holder.

use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::threading::record::{HeldLock, ObjectId};
use crate::threading::registry;
use crate::threading::thread::Inner;

/// The switch: off unless someone (lock-order checking, a dump that wants held locks) needs
/// the lists.
static TRACKING: AtomicBool = AtomicBool::new(false);

/// Turns held-lock tracking on or off for every thread. Locks taken while it was off are not
/// in the lists.
#[allow(dead_code)]
pub(crate) fn set_tracking(on: bool) {
    TRACKING.store(on, Ordering::Relaxed);
}

/// True while held-lock tracking is on.
#[allow(dead_code)]
pub(crate) fn tracking() -> bool {
    TRACKING.load(Ordering::Relaxed)
}

/// The calling thread has just taken `object` at `location`.
#[inline(always)]
pub(crate) fn acquired(object: ObjectId, location: &'static Location<'static>) {
    if TRACKING.load(Ordering::Relaxed) {
        push(object, location);
    }
}

/// The calling thread has just released `object` (its last level, for an `RLock`).
#[inline(always)]
pub(crate) fn released(object: ObjectId) {
    if TRACKING.load(Ordering::Relaxed) {
        remove(object);
    }
}

#[cold]
#[inline(never)]
fn push(object: ObjectId, location: &'static Location<'static>) {
    registry::with_current(|inner| {
        list(inner).push(HeldLock { object, location });
    });
}

#[cold]
#[inline(never)]
fn remove(object: ObjectId) {
    registry::with_current(|inner| {
        let mut held = list(inner);
        // The most recent first: locks are usually released in the reverse order.
        if let Some(i) = held.iter().rposition(|h| h.object == object) {
            held.remove(i);
        }
    });
}

fn list(inner: &Inner) -> std::sync::MutexGuard<'_, Vec<HeldLock>> {
    // Pushes and removes cannot panic half-way: the list is always whole.
    inner.wait.held.lock().unwrap_or_else(|e| e.into_inner())
}

/// A copy of the locks `thread` holds, oldest first, as far as tracking saw them.
#[allow(dead_code)]
pub(crate) fn held_by(thread: &crate::Thread) -> Vec<HeldLock> {
    list(&thread.inner).clone()
}

/// A copy of the locks the calling thread holds, oldest first.
#[allow(dead_code)]
pub(crate) fn held_by_current() -> Vec<HeldLock> {
    registry::with_current(|inner| list(inner).clone()).unwrap_or_default()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Lock, Mutex, RLock, Thread};

    /// The switch is global and other unit tests take locks: serialise the tests that turn
    /// it on, and check only the calling thread's own list.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn objects() -> Vec<ObjectId> {
        held_by_current().into_iter().map(|h| h.object).collect()
    }

    #[test]
    fn lists_follow_acquire_and_release_while_on() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (a, b) = (Lock::new(), RLock::new());
        let m = Mutex::new(5);
        // SAFETY: only the raw lock's id is read; nothing is locked or unlocked through it.
        let m_id = unsafe { m.raw() }.id();
        set_tracking(true);
        a.acquire();
        b.acquire();
        b.acquire(); // a second level: listed once
        let line = line!() + 1;
        let g = m.lock();
        assert_eq!(objects(), [a.id(), b.id(), m_id]);
        assert_eq!(held_by_current()[2].location.line(), line);
        b.release().unwrap();
        assert_eq!(objects(), [a.id(), b.id(), m_id]);
        b.release().unwrap();
        drop(g);
        assert_eq!(objects(), [a.id()]);
        let me = crate::current_thread();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let reader = Thread::new(move || *s.lock().unwrap() = held_by(&me));
        reader.start().unwrap();
        reader.join().unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1, "read from another thread");
        a.release().unwrap();
        set_tracking(false);
        assert!(objects().is_empty());
    }

    #[test]
    fn a_condition_wait_gives_the_lock_back_and_takes_it_again_in_the_list() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let cond = crate::Condition::new();
        set_tracking(true);
        let g = cond.guard();
        assert_eq!(objects(), [cond.lock().id()]);
        assert!(
            !cond
                .wait_timeout(std::time::Duration::from_millis(1))
                .unwrap()
        );
        assert_eq!(objects(), [cond.lock().id()], "held again, listed once");
        drop(g);
        assert!(objects().is_empty());
        set_tracking(false);
    }

    #[test]
    fn nothing_is_listed_while_off() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        set_tracking(false);
        let a = Lock::new();
        let _g = a.guard();
        assert!(objects().is_empty());
    }
}
