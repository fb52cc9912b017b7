//! What the two lock-free FIFO cores share: the slot ring behind a bounded `Queue`
//! ([`Array`](super::array::Array)) and the list of slot blocks behind an unbounded one
//! ([`List`](super::list::List)). Both claim a slot with one compare-and-swap and count items
//! by their positions; both sleep and wake, count tasks done and wait for them the same way,
//! which is this file: [`Sleepers`], and the cell an item sits in ([`ItemCell`]), the
//! backoff before a park ([`spun`]) and the loom-only helpers.
//!
//! # Sleeping and waking
//!
//! `parked` holds a bit per kind of sleeper ([`GET`], [`PUT`], [`JOIN`]); getters and joiners
//! park on their own key (an anchor byte of the queue) through the crate's one wait path. A
//! waiter sets its bit in the park's `validate` (under the parking lot's bucket lock) and
//! then, still there, checks again whether it must sleep; a waker reads the bit after its own
//! change and calls into the parking lot only if it is set. Both sides are sequentially
//! consistent pairs (the waiter: `fetch_or` of the bit, then its loads of the core's
//! positions and of `done`; the waker: its CAS on a position or on `done`, or the shut-down
//! `fetch_or`, then the load of the bit), so in their single total order either the waker sees
//! the bit (and finds the waiter queued, since the bucket lock orders the unpark after the
//! enqueue) or the waiter sees the change (and does not sleep). A bit is cleared only under
//! the bucket lock when the last waiter on its key is woken or times out; a `validate` that
//! declines to sleep leaves its bit set, which costs the next waker one unpark call that
//! finds nobody and clears it.
//!
//! One put wakes at most one getter; a woken getter tries again, and since it tries before
//! looking at its deadline, a wake-up is never thrown away.
//!
//! A getter whose backoff ran out looks on, yielding, within the queue's adaptive
//! [`SpinWindow`] before it parks, if it can claim the window (one getter at a time; the
//! window opens only where sleeps are cut short by new items, as in a reply queue).
//!
//! # Counting without more atomics
//!
//! A core's positions count items: the puts ever made and the gets. So `qsize` is their
//! difference and the unfinished task count is puts minus `done`, where `done` counts
//! `task_done` calls (and items that `shutdown_immediate` removed). A put pays nothing for
//! task accounting.

use std::mem::MaybeUninit;
use std::panic::Location;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use super::common::{Refused, Wait};
use super::error::{QueueId, TaskDoneError, queue_id};
use super::waiters::{GET, JOIN, Waiters};
use crate::primitive::parking_lot_core::ParkResult;
use crate::primitive::{AtomicU32, AtomicUsize, Ordering};
use crate::sync::wait::{self, Blocked, WaitKind, Waiting};
use crate::sync::window::SpinWindow;

/// A lock-free core's sleepers and task count: see the module docs.
pub(super) struct Sleepers {
    /// [`GET`] | [`PUT`] | [`JOIN`]: someone may be parked on that key. Set only in a park's
    /// `validate`, cleared only under the bucket lock (see the module docs). Read by every
    /// put and get, written only around sleeps: a line of its own.
    pub(super) parked: CachePadded<AtomicU32>,
    /// Tasks marked done (`task_done`, and items removed by `shutdown_immediate`); never more
    /// than the puts made.
    pub(super) done: CachePadded<AtomicUsize>,
    kind: &'static str,
    /// The queue's name, if it was given one (`Queue::named`).
    name: Option<&'static str>,
    /// The wait queues' keys are the addresses of these bytes (getters, putters, joiners, as
    /// the bits' positions): memory we own.
    anchors: [u8; 3],
    /// How long a getter looks before it parks, past its backoff (written only by getters
    /// about to park, so on a line of its own).
    window: CachePadded<SpinWindow>,
}

impl Sleepers {
    pub(super) fn new(kind: &'static str) -> Self {
        Sleepers {
            parked: CachePadded::new(AtomicU32::new(0)),
            done: CachePadded::new(AtomicUsize::new(0)),
            kind,
            name: None,
            anchors: [0; 3],
            window: CachePadded::new(SpinWindow::new()),
        }
    }

    pub(super) fn name(&mut self, name: &'static str) {
        self.name = Some(name);
    }

    /// The queue's identity: its kind, name and an address inside it.
    pub(super) fn id(&self) -> QueueId {
        queue_id(self.kind, self.addr()).named(self.name)
    }

    pub(super) fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    pub(super) fn waiters(&self) -> Waiters<'_> {
        Waiters {
            parked: &self.parked,
            anchors: &self.anchors,
            object: self.id(),
        }
    }

    /// The wait record of a getter, putter or joiner of this queue (the one place the
    /// lock-free cores build one), begun when the operation first parks and kept across its
    /// later parks, so its start is the operation's; the operation counts once as contention.
    pub(super) fn begin<'w>(
        &self,
        waiting: &'w mut Option<Waiting>,
        kind: WaitKind,
        location: &'static Location<'static>,
    ) -> &'w Waiting {
        waiting.get_or_insert_with(|| {
            wait::contended(self.id());
            Waiting::begin(Blocked::on(kind, self.id(), location))
        })
    }

    /// Whether someone may be parked on `bit`'s key; called after this thread's change to a
    /// position or to `done` (see the module docs).
    #[inline]
    pub(super) fn someone_parked(&self, bit: u32) -> bool {
        loom_fence();
        self.parked.load(Ordering::SeqCst) & bit != 0
    }

    /// After a put: wakes one getter if any sleeps.
    #[inline]
    pub(super) fn put_done(&self) {
        if self.someone_parked(GET) {
            self.waiters().wake_one(GET);
        }
    }

    /// Parks on `bit`'s key until woken or `deadline`, unless `must_sleep`, checked after
    /// setting the bit (see the module docs), says the wait is over.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub(super) fn park(
        &self,
        bit: u32,
        (waiting, kind, location): (&mut Option<Waiting>, WaitKind, &'static Location<'static>),
        deadline: Option<Instant>,
        must_sleep: impl FnOnce() -> bool,
    ) -> ParkResult {
        let validate = || {
            self.parked.fetch_or(bit, Ordering::SeqCst);
            loom_fence();
            must_sleep()
        };
        let timed_out = |_, was_last_thread| {
            if was_last_thread {
                self.parked.fetch_and(!bit, Ordering::Relaxed);
            }
        };
        let key = self.waiters().key(bit);
        let rec = self.begin(waiting, kind, location);
        rec.park(key, deadline, validate, timed_out)
    }

    /// A get that found the queue empty: fails, or spins, then parks until `take_now` gets
    /// an item or says the queue is shut down. `must_sleep` (run in the park's `validate`,
    /// after the `GET` bit is set) says whether the queue is still empty and not shut down.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub(super) fn get_slow<T>(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
        take_now: impl Fn() -> Result<T, Refused>,
        must_sleep: impl Fn() -> bool,
    ) -> Result<T, Refused> {
        let deadline = wait.deadline().ok_or(Refused::NotNow)?;
        let mut timed_out = false;
        let mut waiting = None;
        loop {
            let backoff = Backoff::new();
            loop {
                match take_now() {
                    Err(Refused::NotNow) => {}
                    done => return done,
                }
                if timed_out || spun(&backoff) {
                    break;
                }
            }
            if !timed_out && let Some(claim) = self.window.claim(deadline) {
                let got = std::cell::Cell::new(None);
                claim.yield_until(|| match take_now() {
                    Err(Refused::NotNow) => false,
                    done => {
                        got.set(Some(done));
                        true
                    }
                });
                if let Some(done) = got.into_inner() {
                    return done;
                }
            }
            // A `TimedOut` park means the deadline passed (parking_lot_core's promise).
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return Err(Refused::Timeout);
            }
            let on = (&mut waiting, WaitKind::QueueGet, location);
            let result = self.window.time_sleep(
                || self.park(GET, on, deadline, &must_sleep),
                |r| *r != ParkResult::TimedOut,
            );
            timed_out = result == ParkResult::TimedOut;
            loom_yield(result);
        }
    }

    // ----- tasks -----------------------------------------------------------------------

    /// Tasks put and not yet marked done, of the `puts` made. `done` is read first: it never
    /// exceeds the puts counted when it was moved on, and the `puts` read after it counts at
    /// least those.
    pub(super) fn unfinished(&self, puts: impl Fn() -> usize) -> usize {
        let done = self.done.load(Ordering::SeqCst);
        puts().wrapping_sub(done)
    }

    /// Marks one task done; an error (and no change) if none is unfinished.
    pub(super) fn task_done(&self, puts: impl Fn() -> usize) -> Result<(), TaskDoneError> {
        if self.mark_done(1, puts) == 0 {
            return Err(TaskDoneError::new(self.id()));
        }
        Ok(())
    }

    /// Marks up to `n` tasks done, never more than are unfinished; returns how many, and
    /// wakes the joiners if none is left.
    pub(super) fn mark_done(&self, n: usize, puts: impl Fn() -> usize) -> usize {
        let mut done = self.done.load(Ordering::SeqCst);
        let marked = loop {
            let marked = puts().wrapping_sub(done).min(n);
            if marked == 0 {
                return 0;
            }
            match self.done.compare_exchange(
                done,
                done.wrapping_add(marked),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break marked,
                Err(now) => done = now,
            }
        };
        if self.someone_parked(JOIN) && self.unfinished(&puts) == 0 {
            self.waiters().wake_all(JOIN);
        }
        marked
    }

    /// Waits until every task is done; false if `wait` ran out first.
    #[track_caller]
    pub(super) fn join(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
        puts: impl Fn() -> usize,
    ) -> bool {
        if self.unfinished(&puts) == 0 {
            return true;
        }
        self.join_slow(wait, location, puts)
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn join_slow(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
        puts: impl Fn() -> usize,
    ) -> bool {
        let Some(deadline) = wait.deadline() else {
            return false;
        };
        let mut timed_out = false;
        let mut waiting = None;
        loop {
            if self.unfinished(&puts) == 0 {
                return true;
            }
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return false;
            }
            let sleep = || self.unfinished(&puts) != 0;
            let on = (&mut waiting, WaitKind::QueueJoin, location);
            let result = self.park(JOIN, on, deadline, sleep);
            timed_out = result == ParkResult::TimedOut;
            loom_yield(result);
        }
    }

    /// After the shut-down mark is set (and an immediate shutdown's items removed): wakes
    /// every parked getter, and the joiners if no task is left; returns the bits read, for a
    /// core with sleepers of its own (the ring's putters).
    pub(super) fn wake_after_shutdown(&self, puts: impl Fn() -> usize) -> u32 {
        loom_fence();
        let parked = self.parked.load(Ordering::SeqCst);
        if parked & GET != 0 {
            self.waiters().wake_all(GET);
        }
        if parked & JOIN != 0 && self.unfinished(puts) == 0 {
            self.waiters().wake_all(JOIN);
        }
        parked
    }
}

/// The value of an atomic that no other thread can reach (`&mut`): no loom branch.
pub(super) fn unshared(a: &mut AtomicUsize) -> usize {
    #[cfg(not(loom))]
    return *a.get_mut();
    #[cfg(loom)]
    return a.with_mut(|v| *v);
}

/// A sequentially consistent fence under loom only. The algorithms pair sequentially
/// consistent operations (see the module docs), which is enough for the memory model and the
/// hardware; loom models SeqCst loads and stores more weakly than the model does, so its
/// builds add fences, which it models exactly.
#[inline(always)]
pub(super) fn loom_fence() {
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// crossbeam's exponential backoff: spins, then yields, then says "park now".
#[cfg(not(loom))]
pub(super) use crossbeam_utils::Backoff;

/// Under loom a spin is one `yield_now` (which tells loom to run someone else, so a wait
/// for a slot that another thread is writing or reading ends), and a full or empty queue
/// parks at once: a yield there would let loom run the other side to completion first
/// (loom runs a yielded thread only when the others block or yield) and hide every
/// interleaving in which the waiter parks first. See [`loom_yield`] for the one place a
/// round does yield.
#[cfg(loom)]
pub(super) struct Backoff;

#[cfg(loom)]
impl Backoff {
    pub(super) fn new() -> Self {
        Backoff
    }

    pub(super) fn spin(&self) {
        loom::thread::yield_now();
    }

    pub(super) fn snooze(&self) {
        loom::thread::yield_now();
    }

    pub(super) fn is_completed(&self) -> bool {
        true
    }
}

/// Under loom, a yield after a park that declined to sleep (the queue was no longer full or
/// empty at the look under the bucket lock): the next round's loads then see what changed
/// (loom does not let a load that follows a yield return a value seen before it), where
/// without it loom explores rounds that see stale values forever. A no-op otherwise: the
/// next round's spin is enough on real hardware.
#[inline(always)]
pub(super) fn loom_yield(result: ParkResult) {
    #[cfg(loom)]
    if result == ParkResult::Invalid {
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    let _ = result;
}

/// One more backoff step before a full or empty queue parks; true once the backoff is
/// done (under loom, at once). The steps are crossbeam's: busy-wait `2^step` pauses for
/// steps 0 to 6, then yield the processor up to step 10, then park, which is how
/// crossbeam-channel's array flavour waits too. On a quiet machine the other side's put or
/// get nearly always lands within those steps, so a full or empty meeting costs no park and
/// no wake-up: with the earlier rule (three pauses, then park) every item at capacities
/// 1 to 16 paid a futex round trip, 0.02 to 0.07 of crossbeam's throughput in the matrix,
/// and with these steps the same cells run at 0.6 to 1.3 of it (BENCHMARKS.md). The cost:
/// on a machine loaded by other programs a yielding waiter can lose its processor for
/// longer than a parked one would, as crossbeam's channel does.
#[inline]
pub(super) fn spun(backoff: &Backoff) -> bool {
    if backoff.is_completed() {
        return true;
    }
    backoff.snooze();
    false
}

/// The room for one item in a slot: a plain cell, or loom's checked one.
pub(super) struct ItemCell<T>(Cell<MaybeUninit<T>>);

#[cfg(not(loom))]
type Cell<T> = std::cell::UnsafeCell<T>;
#[cfg(loom)]
type Cell<T> = loom::cell::UnsafeCell<T>;

impl<T> ItemCell<T> {
    pub(super) fn new() -> Self {
        ItemCell(Cell::new(MaybeUninit::uninit()))
    }

    /// # Safety
    ///
    /// The caller has the cell to itself and it holds no item.
    #[inline]
    pub(super) unsafe fn write(&self, item: T) {
        // SAFETY: the caller's promise: the cell is ours and empty.
        unsafe { self.with_mut(|p| (*p).write(item)) };
    }

    /// # Safety
    ///
    /// The caller has the cell to itself and it holds an item, which the caller now owns
    /// (the cell counts as empty afterwards).
    #[inline]
    pub(super) unsafe fn read(&self) -> T {
        // SAFETY: the caller's promise: the cell is ours and holds an initialised item,
        // read out once.
        unsafe { self.with_mut(|p| (*p).assume_init_read()) }
    }

    /// # Safety
    ///
    /// As [`read`](ItemCell::read), the item being dropped instead of returned.
    pub(super) unsafe fn drop_in_place(&self) {
        // SAFETY: the caller's promise, passed on.
        drop(unsafe { self.read() });
    }

    /// Runs `f` on the cell's pointer.
    ///
    /// # Safety
    ///
    /// The caller has the cell to itself for the call (loom checks this in its builds).
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn with_mut<R>(&self, f: impl FnOnce(*mut MaybeUninit<T>) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` on the cell's pointer, loom checking that no other thread is in the cell.
    ///
    /// # Safety
    ///
    /// As the plain build's.
    #[cfg(loom)]
    unsafe fn with_mut<R>(&self, f: impl FnOnce(*mut MaybeUninit<T>) -> R) -> R {
        self.0.with_mut(f)
    }
}

/// For the cores' tests: asserts that no two of the fields at `addrs` share a 64-byte line
/// (the hot atomics that different threads write).
#[cfg(all(test, not(loom)))]
pub(super) fn assert_own_lines(addrs: &[usize]) {
    let lines: Vec<usize> = addrs.iter().map(|a| a / 64).collect();
    for (i, line) in lines.iter().enumerate() {
        assert!(!lines[i + 1..].contains(line), "{lines:?}");
    }
}

/// For the cores' tests: the address of `field`.
#[cfg(all(test, not(loom)))]
pub(super) fn addr_of<T>(field: &T) -> usize {
    std::ptr::from_ref(field).addr()
}
