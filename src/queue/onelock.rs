//! The one-lock core of [`LifoQueue`](super::LifoQueue): a buffer behind a [`Lock`], the
//! task count, the shut-down flag, and the three waits (for an item, for room, for every task
//! done). `PriorityQueue`, `SimpleQueue` and an unbounded (or largely bounded) `Queue` use
//! the two-lock core of [`split`](super::split) instead (a LIFO queue's two ends are one end),
//! with the same waiting protocol, and a bounded `Queue` the slot ring of
//! [`array`](super::array). The wait queues and wake helpers are in
//! [`waiters`](super::waiters), the lock guard in [`held`](super::held), what every core
//! shares in [`common`](super::common).
//!
//! # Design
//!
//! On a few cores a short critical section beats a lock-free structure (the numbers:
//! a parking_lot `Mutex<VecDeque>` + `Condvar` outruns crossbeam-channel and flume), so the
//! buffer is a plain collection behind threadkit's own [`Lock`]; a put or get is one
//! acquire, the collection operation, two plain counter updates and one release.
//!
//! Waiting threads park through
//! [`Waiting::park_with`](crate::sync::wait::Waiting::park_with) on one of three keys
//! (getters, putters, joiners), with a bit in [`OneLock::parked`] per key saying "someone may
//! be parked there":
//!
//! - A waiter holds the buffer lock while it checks its condition, and sets its bit in
//!   `validate`, under the parking lot's bucket lock, in the same critical section that puts
//!   it in the wait queue. Only then, in `before_sleep`, does it release the buffer lock. So
//!   anyone who changes the state after the check (which needs the buffer lock) sees the bit
//!   and finds the waiter queued: no lost wake-ups.
//! - Wakers read the bit under the buffer lock and, only if it is set, wake after releasing
//!   the lock: one getter per item put, one putter per item taken, every joiner when the
//!   count of unfinished tasks reaches zero. A put with nobody parked makes no wake call.
//! - A bit is cleared only under the bucket lock, when the last thread queued on its key is
//!   woken or times out (`UnparkResult::have_more_threads`, `timed_out`'s `was_last_thread`).
//!   So a set bit may be stale (one wasted unpark call) but a clear bit is never wrong.
//!
//! In a bounded queue, a getter or putter about to park first spins briefly (if nobody is
//! parked yet on its key), polling [`OneLock::len`], a copy of the buffer's length kept beside
//! the lock, without taking the lock; a short gap between producer and consumer then costs
//! no sleep. Both sides must do it: in our measurements, a bounded queue where only one side
//! spins hands items over one wake-up at a time (10x slower). In an unbounded queue only
//! getters ever wait, and they do not spin: a spinning consumer would take each item as it
//! is put, fighting the producer for the lock's cache line, where a parked one lets the
//! producer run ahead and then takes the batch.
//!
//! Then a getter (of any queue) looks on, yielding, within the queue's adaptive
//! [`SpinWindow`] if it can claim it: the window opens only where getters' sleeps are cut
//! short by new items. Without it, a consumer that answers a producer waiting for its answer
//! slept on every item: on a 2-vCPU VM a request/reply round trip over two unbounded queues
//! took 40-55 µs (two wake-ups of a thread whose core had gone idle), where it takes about
//! 1 µs now; the throughput matrix did not lose by it (the getter polls a copy of the
//! length, not the lock).

use std::cell::UnsafeCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::time::Instant;

use crate::primitive::parking_lot_core::ParkResult;

use super::common::{Refused, Wait, lock_pace, put_slack, source_by_get, spin_until};
use super::error::{QueueId, TaskDoneError, queue_id};
use super::held::{Guarded, Held};
use super::waiters::{GET, JOIN, PUT, Waiters};
use crate::Lock;
use crate::primitive::{AtomicU32, AtomicUsize, Ordering};
use crate::sync::wait::WaitKind;
use crate::sync::window::{SpinWindow, ThreadWindow};
use crossbeam_utils::CachePadded;

/// The collection behind a one-lock queue (today only `LifoQueue`'s `Vec`).
pub(crate) trait Buffer {
    type Item;

    /// An empty buffer for a queue of `maxsize` (0: unbounded).
    fn for_maxsize(maxsize: usize) -> Self;
    fn push(&mut self, item: Self::Item);
    fn pop(&mut self) -> Option<Self::Item>;
    fn len(&self) -> usize;
    /// Takes every item out in O(1), leaving the buffer empty (done under the lock).
    fn take_all(&mut self) -> Self
    where
        Self: Sized;
    /// The items in the order `pop` would have returned them (done after unlocking).
    fn into_pop_order(self) -> Vec<Self::Item>;
    /// Called by every put before it takes the lock: a check of the item that may panic
    /// (the priority queue's `Ord` check), so that it panics in the putter with no lock
    /// held. Nothing by default.
    #[inline]
    fn admit(_item: &Self::Item) {}
    /// Whether `push` may panic (it calls user code): then a put makes its item visible and
    /// wakes a getter even when the push panics.
    const MAY_PANIC: bool = false;
}

/// What the lock protects. `repr(C)` so that the buffer's header comes first (see [`OneLock`]).
#[repr(C)]
pub(super) struct State<B> {
    buf: B,
    /// Items put and not yet marked done by `task_done`.
    unfinished: usize,
    shut_down: bool,
}

/// The shared queue: see the module docs.
///
/// Layout: everything a put or get writes (the lock word, the parked bits, the length copy,
/// the buffer's header, the task count) sits in the first 64-byte line, which the
/// allocation starts on; the read-only fields follow. So a hand-over between two cores
/// moves one cache line, and nothing else shares it.
#[repr(C, align(64))]
pub(crate) struct OneLock<B> {
    /// [`GET`] | [`PUT`] | [`JOIN`]: someone may be parked on that key. Set only in a park's
    /// `validate` (buffer lock and bucket lock held), cleared only under the bucket lock.
    parked: AtomicU32,
    /// The buffer's length, stored under the lock after every change: read without the lock
    /// by `qsize`/`empty`/`full` and by spinning waiters.
    len: AtomicUsize,
    /// Only touched with `lock` held.
    state: UnsafeCell<State<B>>,
    /// Last of the hot fields: its word ends the first line, its (unused) name field starts
    /// the read-only part.
    lock: Lock,
    // ---- read-only from here on ----
    /// 0: unbounded.
    maxsize: usize,
    kind: &'static str,
    /// The name given by the queue's `named` constructor, shown in its id.
    name: Option<&'static str>,
    /// The wait queues' keys are the addresses of these bytes (getters, putters, joiners):
    /// memory we own, distinct from the lock's own key.
    anchors: [u8; 3],
    /// How long a getter looks before it parks, past its fixed spins (written only by
    /// getters about to park, so on a line of its own).
    window: CachePadded<SpinWindow>,
}

// SAFETY: `state` is only reached through a `Held` guard, which exists only while `lock` is
// held, so at most one thread touches the buffer at a time; items move between threads
// through it, hence `B: Send`. Everything else is atomics or immutable.
unsafe impl<B: Send> Sync for OneLock<B> {}

// SAFETY: this module reaches `state` only through `Held` (`locked`, `debug_fields`, and
// `wait_until`'s `assume` of a lock still held), and `lock` is always the one field.
unsafe impl<B> Guarded for OneLock<B> {
    type State = State<B>;
    #[inline]
    fn lock(&self) -> &Lock {
        &self.lock
    }
    #[inline]
    fn state(&self) -> &UnsafeCell<State<B>> {
        &self.state
    }
}

/// The buffer lock, held: derefs to the state, releases on drop.
type Locked<'a, B> = Held<'a, OneLock<B>>;

impl<B: Buffer> OneLock<B> {
    pub(crate) fn new(kind: &'static str, maxsize: usize) -> Self {
        OneLock {
            lock: Lock::new(),
            parked: AtomicU32::new(0),
            len: AtomicUsize::new(0),
            maxsize,
            state: UnsafeCell::new(State {
                buf: B::for_maxsize(maxsize),
                unfinished: 0,
                shut_down: false,
            }),
            anchors: [0; 3],
            kind,
            name: None,
            window: CachePadded::new(SpinWindow::new()),
        }
    }

    pub(crate) fn id(&self) -> QueueId {
        queue_id(self.kind, self.addr()).named(self.name)
    }

    /// This queue core, named `name`.
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    fn waiters(&self) -> Waiters<'_> {
        Waiters {
            parked: &self.parked,
            anchors: &self.anchors,
            object: self.id(),
        }
    }

    #[inline]
    #[track_caller]
    fn locked(&self) -> Locked<'_, B> {
        Held::acquire(self, lock_pace(self.maxsize))
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    #[inline]
    pub(crate) fn qsize(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn full(&self) -> bool {
        self.maxsize != 0 && self.qsize() >= self.maxsize
    }

    // ----- put -------------------------------------------------------------------------

    /// Puts `item`, waiting for room as `wait` allows; hands the item back if refused.
    #[inline]
    #[track_caller]
    pub(crate) fn put(
        &self,
        item: B::Item,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (B::Item, Refused)> {
        B::admit(&item);
        let st = self.locked();
        if st.shut_down || (self.maxsize != 0 && st.buf.len() >= self.maxsize) {
            return self.put_slow(st, item, wait, location);
        }
        self.push(st, item);
        Ok(())
    }

    /// Pushes under the lock, counts the task, wakes one getter if any is parked.
    #[inline]
    fn push(&self, mut st: Locked<'_, B>, item: B::Item) {
        st.unfinished += 1;
        // A push that panics (an `Ord` that fails for a pair of items) still leaves the item
        // filed in and counted: publish it and wake a getter as if it had returned, then let
        // the panic go on to the putter.
        let pushed = if B::MAY_PANIC {
            panic::catch_unwind(AssertUnwindSafe(|| st.buf.push(item)))
        } else {
            st.buf.push(item);
            Ok(())
        };
        self.len.store(st.buf.len(), Ordering::Relaxed);
        let wake = self.waiters().any(GET);
        // Unbounded, the getter is woken with the lock still held (as a condition variable
        // notified under its mutex). In the LIFO matrix (6 alternating runs) that took the
        // unbounded 4x4 cell from 0.61-1.08 of the peer's throughput to 1.00-1.42 and 8x8
        // from 0.91-1.05 to 1.06-2.62; 1x1 stayed at 0.88-1.16 (0.77-1.01 before). Bounded,
        // the wake stays after the release: there a getter woken into the held lock made the
        // capacity-1 and -2 cells at 8x8 lose (0.5-0.75 of the peer).
        if wake && self.maxsize == 0 {
            self.waiters().wake_one(GET);
            drop(st);
        } else {
            drop(st);
            if wake {
                self.waiters().wake_one(GET);
            }
        }
        if let Err(payload) = pushed {
            panic::resume_unwind(payload);
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn put_slow(
        &self,
        st: Locked<'_, B>,
        item: B::Item,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (B::Item, Refused)> {
        if st.shut_down {
            return Err((item, Refused::ShutDown));
        }
        let Some(deadline) = wait.deadline() else {
            return Err((item, Refused::NotNow));
        };
        let maxsize = self.maxsize;
        let ready = |s: &State<B>| s.shut_down || s.buf.len() < maxsize;
        // The spin and the look wait for a burst's room (`put_slack`), the park for any.
        let slack = put_slack(maxsize);
        let hint = || self.len.load(Ordering::Relaxed) + slack <= maxsize;
        match self.wait_until(
            st,
            (PUT, WaitKind::QueuePut, location),
            deadline,
            ready,
            Some(hint),
        ) {
            Ok(st) if !st.shut_down => {
                self.push(st, item);
                Ok(())
            }
            Ok(_) => Err((item, Refused::ShutDown)),
            Err(_) => Err((item, Refused::Timeout)),
        }
    }

    // ----- get -------------------------------------------------------------------------

    /// Takes the next item, waiting for one as `wait` allows.
    #[inline]
    #[track_caller]
    pub(crate) fn get(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<B::Item, Refused> {
        let mut st = self.locked();
        match st.buf.pop() {
            Some(item) => {
                self.took(st);
                Ok(item)
            }
            None => self.get_slow(st, wait, location),
        }
    }

    /// After a pop under the lock: publishes the length, wakes one putter if any is parked.
    #[inline]
    fn took(&self, st: Locked<'_, B>) {
        self.len.store(st.buf.len(), Ordering::Relaxed);
        let wake = self.waiters().any(PUT);
        drop(st);
        if wake {
            self.waiters().wake_one(PUT);
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_slow(
        &self,
        st: Locked<'_, B>,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<B::Item, Refused> {
        if st.shut_down {
            return Err(Refused::ShutDown);
        }
        let deadline = wait.deadline().ok_or(Refused::NotNow)?;
        let ready = |s: &State<B>| s.shut_down || s.buf.len() != 0;
        // Spin only where putters spin too: see the module docs.
        let hint = (self.maxsize != 0).then_some(|| self.len.load(Ordering::Relaxed) != 0);
        match self.wait_until(
            st,
            (GET, WaitKind::QueueGet, location),
            deadline,
            ready,
            hint,
        ) {
            Ok(mut st) => match st.buf.pop() {
                Some(item) => {
                    self.took(st);
                    Ok(item)
                }
                None => Err(Refused::ShutDown),
            },
            Err(_) => Err(Refused::Timeout),
        }
    }

    // ----- tasks -----------------------------------------------------------------------

    pub(crate) fn unfinished(&self) -> usize {
        self.locked().unfinished
    }

    /// Marks one task done; an error (and no change) if none is unfinished.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        self.waiters()
            .task_done(self.locked(), |st| &mut st.unfinished, || self.id())
    }

    /// Waits until every task is done; false if `wait` ran out first.
    #[track_caller]
    pub(crate) fn join(&self, wait: Wait, location: &'static Location<'static>) -> bool {
        let st = self.locked();
        if st.unfinished == 0 {
            return true;
        }
        self.join_slow(st, wait, location)
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn join_slow(
        &self,
        st: Locked<'_, B>,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> bool {
        let Some(deadline) = wait.deadline() else {
            return false;
        };
        let ready = |s: &State<B>| s.unfinished == 0;
        let hint = None::<fn() -> bool>;
        self.wait_until(
            st,
            (JOIN, WaitKind::QueueJoin, location),
            deadline,
            ready,
            hint,
        )
        .is_ok()
    }

    // ----- shutdown --------------------------------------------------------------------

    /// Shuts the queue down; with `immediate`, also removes (and returns) every item and marks
    /// a task done for each. Wakes every parked getter and putter, and the joiners if the
    /// count of unfinished tasks is zero.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<B::Item> {
        let mut st = self.locked();
        st.shut_down = true;
        let removed = immediate.then(|| {
            let removed = st.buf.take_all();
            st.unfinished = st.unfinished.saturating_sub(removed.len());
            self.len.store(0, Ordering::Relaxed);
            removed
        });
        let waiters = self.waiters();
        let wake = [GET, PUT].map(|bit| waiters.any(bit));
        let wake_joiners = st.unfinished == 0 && waiters.any(JOIN);
        drop(st);
        for (bit, wake) in [GET, PUT].into_iter().zip(wake) {
            if wake {
                waiters.wake_all(bit);
            }
        }
        if wake_joiners {
            waiters.wake_all(JOIN);
        }
        removed.map_or_else(Vec::new, B::into_pop_order)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.locked().shut_down
    }

    // ----- waiting and waking ----------------------------------------------------------

    /// With the lock held, waits until `ready` holds (returning the lock held) or `deadline`
    /// passes (returning the lock held, `Err`). `what` is the waiters' bit, the kind of wait
    /// and the caller's location. If nobody is parked on the bit's key yet, spins first if
    /// `hint` is given, and a getter then looks on within the queue's window, a putter within
    /// its thread's own, if it can claim it; then parks there.
    #[track_caller]
    fn wait_until<'a>(
        &'a self,
        mut st: Locked<'a, B>,
        what: (u32, WaitKind, &'static Location<'static>),
        deadline: Option<Instant>,
        ready: impl Fn(&State<B>) -> bool,
        hint: Option<impl Fn() -> bool>,
    ) -> Result<Locked<'a, B>, Locked<'a, B>> {
        let (bit, kind, location) = what;
        let mut spun = false;
        let mut waiting = None;
        loop {
            if ready(&st) {
                return Ok(st);
            }
            if deadline.is_some_and(|t| Instant::now() >= t) {
                return Err(st);
            }
            if !spun {
                spun = true;
                // Getters share the queue's window; a putter (its `hint`: room) looks within
                // its thread's own.
                let claim = match bit {
                    GET => self.window.claim(deadline),
                    PUT => ThreadWindow::claim(deadline),
                    _ => None,
                };
                if (hint.is_some() || claim.is_some()) && !self.waiters().any(bit) {
                    drop(st);
                    let item = || self.len.load(Ordering::Relaxed) != 0;
                    let came = hint.as_ref().is_some_and(|hint| {
                        spin_until(hint);
                        hint()
                    });
                    if !came && let Some(claim) = claim {
                        match hint.as_ref() {
                            Some(hint) if bit == PUT => claim.yield_until(hint),
                            _ => claim.yield_until(item),
                        };
                    }
                    st = self.locked();
                    continue;
                }
            }
            // The lock is released in `before_sleep`, once this thread is queued. `validate`
            // always agrees to sleep (the condition cannot change while we hold the lock), so
            // `before_sleep` always runs.
            std::mem::forget(st);
            let release = || self.lock.release_shared();
            let mut park = || {
                self.waiters()
                    .park(&mut waiting, bit, (kind, location), deadline, release)
            };
            let woken = |r: &ParkResult| *r != ParkResult::TimedOut;
            let result = match bit {
                GET => self.window.time_sleep(park, woken),
                PUT => ThreadWindow::time_sleep(park, woken),
                _ => park(),
            };
            st = if result == ParkResult::Invalid {
                // Only chaos mode's `park` returns `Invalid` here (`validate` always agrees),
                // and it does so without running `before_sleep`: the lock is still ours.
                // SAFETY: so this thread holds the lock, whose guard it forgot above.
                unsafe { Held::assume(self) }
            } else {
                self.locked()
            };
        }
    }

    /// Everything `Debug` shows, without blocking: `None` if the lock is held.
    pub(crate) fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        let mut d = f.debug_struct(name);
        d.field("addr", &format_args!("{:#x}", self.addr()));
        if self.maxsize != 0 {
            d.field("maxsize", &self.maxsize);
        }
        if let Some(st) = Held::try_acquire(self) {
            d.field("qsize", &st.buf.len());
            d.field("unfinished", &st.unfinished);
            d.field("shut_down", &st.shut_down);
            drop(st);
        } else {
            d.field("state", &format_args!("<locked>"));
        }
        d.finish()
    }
}

source_by_get!([B: Buffer + Send] OneLock<B>, B::Item);

#[cfg(all(test, not(loom)))]
mod tests {

    use super::*;

    struct Show<'a>(&'a OneLock<Vec<u8>>);

    impl fmt::Debug for Show<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.debug_fields(f, "Queue")
        }
    }

    #[test]
    fn debug_never_blocks_while_locked() {
        let core = OneLock::<Vec<u8>>::new("Queue", 4);
        core.put(1, Wait::Poll, Location::caller()).unwrap();
        let open = format!("{:?}", Show(&core));
        assert!(
            open.contains("qsize: 1") && open.contains("maxsize: 4"),
            "{open}"
        );
        let held = core.locked();
        let shut = format!("{:?}", Show(&core)); // would deadlock if Debug took the lock
        assert!(
            shut.contains("<locked>") && shut.contains("maxsize: 4"),
            "{shut}"
        );
        drop(held);
        assert!(!core.lock.locked(), "Debug released what it took");
    }

    #[test]
    fn hot_fields_share_the_first_cache_line() {
        fn check<B: Buffer>() {
            let core = OneLock::<B>::new("Queue", 0);
            let base = std::ptr::from_ref(&core).addr();
            assert_eq!(base % 64, 0);
            let end = std::ptr::from_ref(&core.lock.state).addr() + size_of::<u64>();
            assert!(end - base <= 64, "{} bytes", end - base);
        }
        check::<Vec<u64>>();
    }

    #[test]
    fn wait_keys_are_distinct_from_each_other_and_the_lock() {
        let core = OneLock::<Vec<u8>>::new("Queue", 0);
        let lock_key = std::ptr::from_ref(&core.lock).addr();
        let w = core.waiters();
        let keys = [w.key(GET), w.key(PUT), w.key(JOIN)];
        for (i, k) in keys.iter().enumerate() {
            assert_ne!(*k, lock_key);
            assert!(!keys[i + 1..].contains(k));
        }
    }
}
