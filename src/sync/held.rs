//! Which locks each thread holds: a per-thread list, kept only while a run-time switch is on.
//!
//! `Lock`, `RLock`, `Mutex` (through `Lock`) and `RwLock` call [`acquired`] and [`released`]
//! on every acquisition and release, fast paths included. Both are inline and, while the
//! switch is off, one relaxed load of a static and a branch not taken: the uncontended
//! benchmarks do not move. While it is on, the calling thread appends to, or removes from, its
//! own list, which lives in its registry entry beside its wait record: written only by that
//! thread, with plain stores (no lock, no read-modify-write, as parking_lot_core's deadlock
//! detector keeps its thread-local `resources`), and read by anyone without blocking it (a
//! seqlock over a fixed array, see `record::HeldList`). Lock-order checking reads the calling
//! thread's own list; thread dumps read everyone's ([`held_by`]).
//!
//! Each time the switch goes from off to on, a new generation starts: lists from before
//! (whose releases were not seen while it was off) read as empty.
//!
//! A `Lock` may be released by a thread other than the one that took it (Python allows it):
//! the release then removes nothing, and the entry stays in the taker's list until that thread
//! releases the same lock itself or ends; readers that need certainty compare with the lock's
//! holder.

use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use crate::threading::record::{HeldList, HeldLock, HeldRead, ObjectId};
use crate::threading::registry;
use crate::threading::thread::Inner;

/// What lock-order checking does at this file's hook points. The checker lives in the
/// observability layer above (`observe::lock_order`), which installs these before it first
/// turns [`ORDER`] on: the sync layer calls up only through them, so the layers form a DAG.
pub(crate) struct OrderHooks {
    /// Checks the calling thread's held locks (its own list, of the generation given) before
    /// it blocks to take an object.
    pub(crate) check: fn(&HeldList, u32, ObjectId, &'static Location<'static>),
    /// A lock at this address is dropped: its node leaves the order.
    pub(crate) forget: fn(usize),
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

/// The lists' generation: bumped each time [`MODE`] goes from zero to non-zero, so that the
/// entries left in the lists while it was zero (their releases unseen) no longer count.
static GENERATION: AtomicU32 = AtomicU32::new(1);

/// Sets or clears `bit` of [`MODE`], starting a new generation of lists if it was zero.
fn set_mode(bit: u8, on: bool) {
    if on {
        if MODE.load(Ordering::SeqCst) == 0 {
            GENERATION.fetch_add(1, Ordering::SeqCst);
        }
        MODE.fetch_or(bit, Ordering::SeqCst);
    } else {
        MODE.fetch_and(!bit, Ordering::SeqCst);
    }
}

/// The lists' current generation.
#[inline(always)]
fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

/// Turns held-lock tracking on or off for every thread. Locks taken while it was off are not
/// in the lists. Lock-order checking keeps the lists while it is on, whatever this says.
#[allow(dead_code)]
pub(crate) fn set_tracking(on: bool) {
    set_mode(TRACK, on);
}

/// Turns lock-order checking's use of the lists (and its checks) on or off.
pub(crate) fn set_order(on: bool) {
    set_mode(ORDER, on);
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
        let generation = generation();
        let checked = registry::with_current(|inner| {
            (h.check)(&inner.wait.held, generation, object, location)
        });
        if checked.is_none() {
            // In the thread's teardown (no entry left): an empty list, checked all the same.
            (h.check)(&HeldList::new(), generation, object, location);
        }
    }
}

/// The calling thread has just taken the object that `object` names, at `location`. Takes
/// a closure, called only while tracking: a built id passed in is built on every call,
/// tracked or not (the compiler moves it ahead of the test).
#[inline(always)]
pub(crate) fn acquired(object: impl FnOnce() -> ObjectId, location: &'static Location<'static>) {
    if active() {
        push(object(), location);
    }
}

/// The calling thread has just released the lock at `addr` (its last level, for an `RLock`).
/// Takes the address, not the lock's id, for the reason [`acquired`] takes a closure.
#[inline(always)]
pub(crate) fn released(addr: usize) {
    if active() {
        remove(addr);
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

#[cold]
#[inline(never)]
fn push(object: ObjectId, location: &'static Location<'static>) {
    let lock = HeldLock { object, location };
    let generation = generation();
    registry::with_current(|inner| inner.wait.held.push(generation, lock));
}

#[cold]
#[inline(never)]
fn remove(addr: usize) {
    let generation = generation();
    registry::with_current(|inner| inner.wait.held.remove(generation, addr));
}

/// A copy of the locks the thread of entry `inner` holds, oldest first, as far as tracking
/// saw them, read without blocking it; `None` if it kept changing its list meanwhile.
pub(crate) fn read(inner: &Inner) -> Option<HeldRead> {
    inner.wait.held.read(generation())
}

/// A copy of the locks `thread` holds, oldest first, as far as tracking saw them.
#[allow(dead_code)]
pub(crate) fn held_by(thread: &crate::Thread) -> Vec<HeldLock> {
    read(&thread.inner).map(|r| r.locks).unwrap_or_default()
}

/// A copy of the locks the calling thread holds, oldest first.
#[allow(dead_code)]
pub(crate) fn held_by_current() -> Vec<HeldLock> {
    registry::with_current(|inner| inner.wait.held.own(generation())).unwrap_or_default()
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

    /// The calling thread's list, as another thread reads it.
    fn read_from_another_thread() -> Vec<HeldLock> {
        let me = crate::current_thread();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let reader = Thread::new(move || *s.lock().unwrap() = held_by(&me));
        reader.start().unwrap();
        reader.join().unwrap();
        std::mem::take(&mut *seen.lock().unwrap())
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
        assert_eq!(
            read_from_another_thread().len(),
            1,
            "read from another thread"
        );
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
    fn more_locks_than_the_slots_are_all_listed_in_order_and_removed() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let n = crate::threading::record::HELD_SLOTS + 5;
        let locks: Vec<Lock> = (0..n).map(|_| Lock::new()).collect();
        set_tracking(true);
        for l in &locks {
            l.acquire();
        }
        let ids: Vec<ObjectId> = locks.iter().map(Lock::id).collect();
        assert_eq!(objects(), ids);
        // Read by another thread too (the spill list included).
        let seen: Vec<ObjectId> = read_from_another_thread()
            .iter()
            .map(|h| h.object)
            .collect();
        assert_eq!(seen, ids);
        // Out of order: one from the slots (a spilled one moves up), one spilled.
        locks[3].release().unwrap();
        locks[n - 2].release().unwrap();
        let mut expected = ids.clone();
        expected.remove(n - 2);
        expected.remove(3);
        assert_eq!(objects(), expected);
        for (i, l) in locks.iter().enumerate() {
            if i != 3 && i != n - 2 {
                l.release().unwrap();
            }
        }
        assert!(objects().is_empty());
        set_tracking(false);
    }

    #[test]
    fn a_list_left_while_off_is_forgotten_when_tracking_starts_again() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let a = Lock::new();
        set_tracking(true);
        a.acquire();
        set_tracking(false);
        a.release().unwrap(); // unseen: tracking is off
        set_tracking(true);
        assert!(
            objects().is_empty(),
            "a new generation: the stale entry is gone"
        );
        a.acquire();
        assert_eq!(objects(), [a.id()]);
        a.release().unwrap();
        set_tracking(false);
    }

    #[test]
    fn a_reader_never_sees_a_torn_or_mixed_list_while_the_owner_changes_it() {
        let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        set_tracking(true);
        let locks: Arc<Vec<Lock>> = Arc::new((0..4).map(|_| Lock::new()).collect());
        let ids: Vec<ObjectId> = locks.iter().map(Lock::id).collect();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (l, st) = (locks.clone(), stop.clone());
        let writer = Thread::new(move || {
            // Nested prefixes only: any consistent read is a prefix of `ids`.
            while !st.load(Ordering::Relaxed) {
                for k in 1..=l.len() {
                    for x in &l[..k] {
                        x.acquire();
                    }
                    for x in l[..k].iter().rev() {
                        x.release().unwrap();
                    }
                }
            }
        });
        writer.start().unwrap();
        let mut reads = 0;
        let mut nonempty = 0;
        // Until enough reads caught the writer mid-way (bounded in time on a loaded machine).
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while (reads < 20_000 || nonempty < 100) && std::time::Instant::now() < give_up {
            let Some(r) = read(&writer.inner) else {
                continue;
            };
            reads += 1;
            let got: Vec<ObjectId> = r.locks.iter().map(|h| h.object).collect();
            assert!(ids.starts_with(&got), "torn or mixed read: {got:?}");
            assert!(r.locks.iter().all(|h| h.location.line() > 0));
            nonempty += usize::from(!got.is_empty());
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        set_tracking(false);
        assert!(nonempty > 0, "no read saw the writer holding a lock");
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
