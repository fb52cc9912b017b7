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
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::threading::record::{HeldLock, ObjectId};
use crate::threading::registry;
use crate::threading::thread::Inner;

/// What lock-order checking does at this file's hook points. The checker lives in the
/// observability layer above (`observe::lock_order`), which installs these before it first
/// turns [`ORDER`] on: the sync layer calls up only through them, so the layers form a DAG.
pub(crate) struct OrderHooks {
    /// Checks the calling thread's held locks before it blocks to take an object.
    pub(crate) check: fn(ObjectId, &'static Location<'static>),
    /// A lock at this address is dropped: its node leaves the order.
    pub(crate) forget: fn(usize),
    /// The calling thread took a lock.
    pub(crate) pushed: fn(HeldLock),
    /// The calling thread released a lock.
    pub(crate) removed: fn(ObjectId),
}

static ORDER_HOOKS: OnceLock<OrderHooks> = OnceLock::new();

/// Installs the lock-order hooks (the first call wins; later ones are the same functions).
pub(crate) fn install_order_hooks(hooks: OrderHooks) {
    let _ = ORDER_HOOKS.set(hooks);
}

/// The installed hooks, if lock-order checking was ever enabled.
#[inline]
fn order_hooks() -> Option<&'static OrderHooks> {
    ORDER_HOOKS.get()
}

/// The lists are kept (a dump wants held locks).
const TRACK: u8 = 1;
/// Lock-order checking is on (`observe::lock_order`): the lists are kept, and every blocking
/// acquisition is checked against the global order first.
const ORDER: u8 = 2;

/// The switch: zero unless someone (lock-order checking, a dump that wants held locks) needs
/// the lists. One byte, so that the fast paths test one relaxed load against zero.
static MODE: AtomicU8 = AtomicU8::new(0);

/// Turns held-lock tracking on or off for every thread. Locks taken while it was off are not
/// in the lists. Lock-order checking keeps the lists while it is on, whatever this says.
#[allow(dead_code)]
pub(crate) fn set_tracking(on: bool) {
    if on {
        MODE.fetch_or(TRACK, Ordering::Relaxed);
    } else {
        MODE.fetch_and(!TRACK, Ordering::Relaxed);
    }
}

/// Turns lock-order checking's use of the lists (and its checks) on or off.
pub(crate) fn set_order(on: bool) {
    if on {
        MODE.fetch_or(ORDER, Ordering::SeqCst);
    } else {
        MODE.fetch_and(!ORDER, Ordering::SeqCst);
    }
}

/// True while the lists are kept (tracking or lock-order checking on).
#[allow(dead_code)]
pub(crate) fn tracking() -> bool {
    MODE.load(Ordering::Relaxed) != 0
}

/// True while lock-order checking is on.
#[inline(always)]
pub(crate) fn ordering() -> bool {
    MODE.load(Ordering::Relaxed) & ORDER != 0
}

/// True while the lists are kept: a lock whose blocking acquire checks the order takes its
/// [`acquiring`]/[`acquired`] path only then, so that its fast path tests one load.
#[inline(always)]
pub(crate) fn active() -> bool {
    MODE.load(Ordering::Relaxed) != 0
}

/// The calling thread is about to block, if it must, to take `object` at `location`: while
/// lock-order checking is on, checks the order of the locks it holds before `object` (and may
/// report, call back or panic, before anything is taken). Only for untimed acquisitions:
/// timed and non-blocking ones cannot deadlock forever, and a try-lock in either order is a
/// common way to avoid one.
#[inline]
pub(crate) fn acquiring(object: ObjectId, location: &'static Location<'static>) {
    if ordering()
        && let Some(h) = order_hooks()
    {
        (h.check)(object, location);
    }
}

/// The calling thread has just taken `object` at `location`.
#[inline(always)]
pub(crate) fn acquired(object: ObjectId, location: &'static Location<'static>) {
    if active() {
        push(object, location);
    }
}

/// The calling thread has just released `object` (its last level, for an `RLock`).
#[inline(always)]
pub(crate) fn released(object: ObjectId) {
    if active() {
        remove(object);
    }
}

/// A lock at `addr` is being dropped: while lock-order checking is on, its node leaves the
/// order graph, so that a new lock at the same address starts with no order.
#[inline(always)]
pub(crate) fn dropped(addr: usize) {
    if ordering()
        && let Some(h) = order_hooks()
    {
        (h.forget)(addr);
    }
}

/// Calls `f` with the calling thread's list (empty for a thread without a registry entry).
pub(crate) fn with_held<R>(f: impl FnOnce(&[HeldLock]) -> R) -> R {
    let mut f = Some(f);
    if let Some(r) = registry::with_current(|inner| (f.take().expect("once"))(&list(inner))) {
        return r;
    }
    (f.take().expect("once"))(&[])
}

#[cold]
#[inline(never)]
fn push(object: ObjectId, location: &'static Location<'static>) {
    let lock = HeldLock { object, location };
    registry::with_current(|inner| list(inner).push(lock));
    if ordering()
        && let Some(h) = order_hooks()
    {
        (h.pushed)(lock);
    }
}

#[cold]
#[inline(never)]
fn remove(object: ObjectId) {
    if ordering()
        && let Some(h) = order_hooks()
    {
        (h.removed)(object);
    }
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
            cond.wait_timeout(std::time::Duration::from_millis(1))
                .unwrap()
                .timed_out()
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
