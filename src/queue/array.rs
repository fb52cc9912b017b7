//! The core of a bounded [`Queue`](super::Queue): a ring of slots claimed with one
//! compare-and-swap each (Dmitry Vyukov's bounded MPMC queue, as in crossbeam-channel's
//! array flavor), with sleepers that are woken only when one actually sleeps.
//!
//! # Why not a lock
//!
//! The two-lock [`Split`](super::split::Split) core makes a full (or empty) queue a
//! hand-off: at small capacities nearly every put meets a full queue and every get an empty
//! one, and a hand-off under locks ends in a park and a wake-up per item (issue 12: 4x4
//! threads at capacity 64 cost 3.3 us of CPU per item, crossbeam 0.22). Here a put or get
//! that finds the queue full or empty spins, then yields (crossbeam's [`Backoff`] steps: see
//! [`spun`]) before it parks, and since each slot says by itself whether it is
//! ready, the other side's progress shows up without any lock. A putter that must sleep
//! hands its item to the getters (see below), so a consumer never waits for a producer to
//! wake up before it finds the next item.
//!
//! # The ring
//!
//! `cap` slots, each a stamp and room for one item. A position (`head`, `tail`, a stamp) is
//! `lap * one_lap + index` where `index < cap` and `one_lap` is a power of two above twice
//! the capacity, so the bit `mark_bit` just under `one_lap` is never part of an index: `tail`
//! uses it as the shut-down mark. Slot `i` starts with stamp `i` (lap 0, empty).
//!
//! | slot stamp, seen from position `p` of the slot | meaning |
//! |---|---|
//! | `p` | empty and free for the put at `p` |
//! | `p + 1` | holds the item put at `p`, for the get at `p` |
//! | `p - one_lap + 1` (the put one lap earlier) | still holds the last lap's item: full |
//!
//! - A **put** reads `tail`; if its slot's stamp equals it, it claims the slot by moving
//!   `tail` on (CAS), writes the item, and stores stamp `tail + 1` (Release: the item is then
//!   visible to whoever reads that stamp with Acquire).
//! - A **get** reads `head`; if its slot's stamp is `head + 1`, it claims the slot (CAS on
//!   `head`), reads the item, and stores stamp `head + one_lap` (the put one lap later may
//!   now use it).
//! - A claimed slot that is still being written (or read) makes the other side wait for it,
//!   spinning and then yielding (its thread may have lost its processor in between): the
//!   operation already counts (in `qsize`, in `unfinished`), so "not ready" is never
//!   reported as "empty" or "full".
//!
//! Items put by one producer get increasing positions, and gets take positions in order:
//! first in, first out per producer.
//!
//! # Counting, sleeping and waking
//!
//! As the unbounded core's: see [`lockfree`](super::lockfree). [`count`](Array::count)`(tail)`
//! is the number of puts ever made and `count(head)` the number of gets. (The counts wrap
//! after at least 2^62 items: centuries at a billion items a second.)
//!
//! A putter that finds the queue full backs off until there is room for a batch, not for
//! one item (see [`Array::room_spun`]), so that it and the getters do not meet on every
//! slot of a full queue.
//!
//! **Putters hand their item over** (as flume's bounded channel does): a putter that must
//! sleep lists a record with its item (on its own stack) in `putters`, sets the `PUT` bit
//! (list locked: the bit says "the list is not empty"), looks once more whether the queue is
//! still full, and parks on the record's address. A get that frees a slot and sees the bit
//! locks the list, claims the free slot as a put would, moves the first record's item into
//! it, marks the record done and wakes its putter, all before unlocking; the woken putter
//! just returns. A putter that wakes for another reason (deadline, shutdown, room seen before
//! it slept) locks the list: its record still listed means the item is still its own, to
//! take back; unlisted means a get put it. So each record is settled exactly once, and the
//! putter's stack frame outlives every access to it. The bit and the re-check pair as above
//! (the putter's `fetch_or`, then its loads; the get's CAS on `head`, then its load of the
//! bit), and the record's park validates "not done, still full, not shut down" under the
//! bucket lock that the get's (or the shutdown's) wake-up takes after marking it.

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::ptr::NonNull;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use super::common::{QueueLock, QueueMutex, Refused, Wait, source_by_get};
use super::error::{QueueId, TaskDoneError};
use super::lockfree::{Backoff, ItemCell, Sleepers, loom_fence, loom_yield, spun, unshared};
use super::waiters::PUT;
use crate::primitive::parking_lot_core::ParkResult;
use crate::primitive::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::wait::{self, WaitKind, Waiting};

/// The largest capacity served by this core: the ring is allocated whole up front (a stamp
/// and an item per slot), so larger bounds use the two-lock core, which grows on demand.
pub(crate) const ARRAY_MAX: usize = 1 << 16;

/// One place in the ring.
struct Slot<T> {
    /// The position this slot is ready for (see the module docs' table).
    stamp: AtomicUsize,
    /// The item, present exactly while the stamp says "holds the item put at p".
    item: ItemCell<T>,
}

/// A putter asleep on a full queue, with its item (on the putter's stack).
struct Pending<T> {
    item: ItemCell<T>,
    /// Set (with the putters' list locked) once a get has put the item.
    done: AtomicBool,
}

/// A listed [`Pending`]: only touched with the putters' list locked.
struct Handed<T>(NonNull<Pending<T>>);

impl<T> Clone for Handed<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Handed<T> {}

// SAFETY: a `Handed` is only dereferenced with the putters' list locked, while its putter
// keeps the `Pending` alive (see `wait_handed`); the item moves to another thread, hence
// `T: Send`.
unsafe impl<T: Send> Send for Handed<T> {}

/// A bounded FIFO queue on a ring of stamped slots: see the module docs.
pub(crate) struct Array<T> {
    /// Position of the next get. Moved on only by a get's CAS.
    head: CachePadded<AtomicUsize>,
    /// Position of the next put, with `mark_bit` set once shut down. Moved on only by a
    /// put's CAS; the mark is set by `shutdown` and never cleared.
    tail: CachePadded<AtomicUsize>,
    /// Who sleeps, and the tasks marked done (the `PUT` bit of its `parked` is this core's:
    /// see `putters`).
    sleepers: Sleepers,
    /// The putters asleep on a full queue, longest waiting first, each with its item: a get
    /// that frees a slot puts the first one's item for it (so the consumers need not wait
    /// for a putter to wake up to find the next item). The `PUT` bit of `parked` says "not
    /// empty", set and cleared with the lock held.
    putters: CachePadded<QueueMutex<VecDeque<Handed<T>>>>,
    // ---- read-only from here on ----
    slots: Box<[Slot<T>]>,
    cap: usize,
    /// `(cap + 1).next_power_of_two()`: the shut-down mark in `tail`; below it, the index.
    mark_bit: usize,
    /// `2 * mark_bit`: one lap's step in a position.
    one_lap: usize,
    /// `one_lap.trailing_zeros()`: a position's lap number is `pos >> lap_shift`.
    lap_shift: u32,
}

// SAFETY: an item is written into a slot only by the put that claimed the slot (by its CAS on
// `tail`) and read only by the get that claimed it (CAS on `head`), and the stamp's
// Release/Acquire orders the write before the read, so no two threads touch an item cell at
// once; items move between threads, hence `T: Send`. Everything else is atomics or read-only.
unsafe impl<T: Send> Sync for Array<T> {}

impl<T> Array<T> {
    /// A queue of capacity `cap`, `1..=ARRAY_MAX`.
    pub(crate) fn new(kind: &'static str, cap: usize) -> Self {
        assert!(
            (1..=ARRAY_MAX).contains(&cap),
            "array capacity out of range"
        );
        let mark_bit = (cap + 1).next_power_of_two();
        let one_lap = mark_bit * 2;
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                item: ItemCell::new(),
            })
            .collect();
        Array {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            sleepers: Sleepers::new(kind),
            putters: CachePadded::new(QueueMutex::from_raw(QueueLock::new(), VecDeque::new())),
            slots,
            cap,
            mark_bit,
            one_lap,
            lap_shift: one_lap.trailing_zeros(),
        }
    }

    pub(crate) fn id(&self) -> QueueId {
        self.sleepers.id()
    }

    /// This queue core, named `name`.
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.sleepers.name(name);
        self
    }

    fn addr(&self) -> usize {
        self.sleepers.addr()
    }

    /// Puts ever made: the count of `tail`.
    #[inline]
    fn puts(&self) -> usize {
        self.count(self.tail.load(Ordering::SeqCst))
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.cap
    }

    /// Items put (or gets made) before position `pos`; the mark bit is ignored.
    #[inline]
    fn count(&self, pos: usize) -> usize {
        (pos >> self.lap_shift)
            .wrapping_mul(self.cap)
            .wrapping_add(pos & (self.mark_bit - 1))
    }

    /// Items in the queue, counting puts and gets under way. `head` is read first: every get
    /// it counts followed its put, so the `tail` read after it counts at least as many.
    #[inline]
    pub(crate) fn qsize(&self) -> usize {
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst);
        self.count(tail)
            .wrapping_sub(self.count(head))
            .min(self.cap)
    }

    #[inline]
    pub(crate) fn full(&self) -> bool {
        self.qsize() >= self.cap
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    // ----- put -------------------------------------------------------------------------

    /// Puts `item`, waiting for room as `wait` allows; hands the item back if refused.
    #[inline]
    #[track_caller]
    pub(crate) fn put(
        &self,
        item: T,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (T, Refused)> {
        match self.claim_put() {
            Ok(claim) => {
                self.fill(claim, item);
                Ok(())
            }
            Err(Refused::NotNow) => self.put_slow(item, wait, location),
            Err(why) => Err((item, why)),
        }
    }

    /// Claims the slot for the next put: the slot and the stamp that publishes the item;
    /// `NotNow` if the queue is full, `ShutDown` if it is shut down.
    #[inline]
    fn claim_put(&self) -> Result<(&Slot<T>, usize), Refused> {
        let backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(Refused::ShutDown);
            }
            let index = tail & (self.mark_bit - 1);
            let slot = &self.slots[index];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                let next = if index + 1 < self.cap {
                    tail + 1
                } else {
                    (tail & !(self.one_lap - 1)).wrapping_add(self.one_lap)
                };
                match self.tail.compare_exchange_weak(
                    tail,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok((slot, tail + 1)),
                    Err(now) => {
                        tail = now;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's item: full, unless a get has claimed it
                // and is reading it right now (then the room is as good as there).
                loom_fence();
                let head = self.head.load(Ordering::SeqCst);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(Refused::NotNow);
                }
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another put took this position first (look again), or the put a lap
                // before is still writing this slot. That put's thread may have lost its
                // processor: snooze, which yields once the spins are done (see `claim_get`).
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Writes `item` into a claimed slot, publishes it, and wakes one getter if any sleeps.
    #[inline]
    fn fill(&self, (slot, stamp): (&Slot<T>, usize), item: T) {
        // SAFETY: this thread claimed the slot by moving `tail` past it, and its stamp said
        // empty (the last get of it published its read with Release, which our Acquire load
        // saw): nobody else reads or writes the cell until we store the new stamp.
        unsafe { slot.item.write(item) };
        slot.stamp.store(stamp, Ordering::Release);
        self.sleepers.put_done();
    }

    /// The queue looked full: fails, or spins, then parks until there is room or shutdown.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn put_slow(
        &self,
        mut item: T,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (T, Refused)> {
        let Some(deadline) = wait.deadline() else {
            return Err((item, Refused::NotNow));
        };
        let mut timed_out = false;
        let mut looked = false;
        let mut waiting = None;
        loop {
            let backoff = Backoff::new();
            loop {
                match self.claim_put() {
                    Ok(claim) => {
                        self.fill(claim, item);
                        return Ok(());
                    }
                    Err(Refused::NotNow) => {}
                    Err(why) => return Err((item, why)),
                }
                // After a timed-out park, one look is enough.
                if timed_out || self.room_spun(&backoff) {
                    break;
                }
            }
            // A `TimedOut` park means the deadline passed (parking_lot_core's promise).
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return Err((item, Refused::Timeout));
            }
            // Where this thread's sleeps are cut short (a consumer that takes an item every
            // few microseconds), it looks on instead of handing its item over and sleeping:
            // the getter then frees a slot without a wake-up to pay.
            if !std::mem::replace(&mut looked, true)
                && wait::look_before_sleep(deadline, || !self.put_must_sleep())
            {
                continue;
            }
            match self.wait_handed(item, deadline, &mut waiting, location) {
                Ok(()) => return Ok(()),
                Err((back, result)) => {
                    (item, timed_out) = (back, result == ParkResult::TimedOut);
                    loom_yield(result);
                }
            }
        }
    }

    /// Parks with `item` handed to the getters: the get that next frees a slot puts it
    /// (`Ok`), unless this thread takes it back first (with how its park ended), woken by the
    /// shutdown or a deadline, or finding room before it slept (then it tries again itself).
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn wait_handed(
        &self,
        item: T,
        deadline: Option<Instant>,
        waiting: &mut Option<Waiting>,
        location: &'static Location<'static>,
    ) -> Result<(), (T, ParkResult)> {
        let pending = Pending {
            item: ItemCell::new(),
            done: AtomicBool::new(false),
        };
        // SAFETY: `pending` is not shared yet.
        unsafe { pending.item.write(item) };
        let me = NonNull::from(&pending);
        {
            let mut putters = self.putters.lock();
            putters.push_back(Handed(me));
            self.sleepers.parked.fetch_or(PUT, Ordering::SeqCst);
        }
        loom_fence();
        let result = if self.put_must_sleep() {
            // Sleeps unless a get already put the item, or room or the shutdown came since
            // the look above: a get that frees a slot after it, or the shutdown, sees the
            // `PUT` bit, and wakes this thread under the bucket lock `validate` runs under.
            let validate = || !pending.done.load(Ordering::Acquire) && self.put_must_sleep();
            let rec = self.sleepers.begin(waiting, WaitKind::QueuePut, location);
            wait::adapting(|| rec.park(me.addr().get(), deadline, validate, |_, _| {}))
        } else {
            ParkResult::Invalid
        };
        // Gets hand items over with the list locked, so under the lock `pending` is either
        // still listed (the item is ours) or done.
        let mut putters = self.putters.lock();
        let Some(at) = putters.iter().position(|h| h.0 == me) else {
            drop(putters);
            debug_assert!(pending.done.load(Ordering::Relaxed));
            return Ok(());
        };
        putters.remove(at);
        if putters.is_empty() {
            self.sleepers.parked.fetch_and(!PUT, Ordering::SeqCst);
        }
        drop(putters);
        // SAFETY: unlisted under the lock, so no get can reach `pending` any more, and no
        // get took the item (it would have unlisted it in the same critical section).
        let item = unsafe { pending.item.read() };
        Err((item, result))
    }

    /// After a get freed a slot and saw the `PUT` bit: puts the item of the longest-waiting
    /// putter for it and wakes it, if the slot is still free (another put may have taken it;
    /// then the putter waits for the next get).
    #[cold]
    #[inline(never)]
    fn hand_over(&self) {
        let mut putters = self.putters.lock();
        let Some(&Handed(first)) = putters.front() else {
            return;
        };
        let Ok(claim) = self.claim_put() else {
            return; // full again, or shut down (the shutdown wakes the putter)
        };
        putters.pop_front();
        if putters.is_empty() {
            self.sleepers.parked.fetch_and(!PUT, Ordering::SeqCst);
        }
        // SAFETY: the putter that listed `first` takes it back only with the lock held, so
        // while we hold the lock it lives (its owner is parked or waits for the lock) and
        // its item is there; unlisting it makes the item ours.
        let pending = unsafe { first.as_ref() };
        // SAFETY: as above: the item is there, and moved out once.
        let item = unsafe { pending.item.read() };
        self.fill(claim, item);
        pending.done.store(true, Ordering::Release);
        // Woken with the lock held: the putter cannot return (and reuse the key) before.
        wait::unpark_all(first.addr().get());
        drop(putters);
    }

    /// A putter's backoff on a full queue: [`spun`]'s steps, until the queue has room for a
    /// batch (a sixteenth of the capacity, at least one item); true once the backoff is
    /// done (then the putter parks, and a get wakes it as soon as there is room for one).
    ///
    /// Why a batch: a putter that retries as soon as one slot is free keeps the queue full,
    /// and then it and the getter meet on every item, each pulling the other's `head` and
    /// slot lines across the cores. In the queue benchmarks at bound 1024 that lock-step
    /// took one put in five down the slow path and ran at 0.2 to 0.5 of crossbeam's
    /// throughput; waiting for a sixteenth free sent one put in 100 to 300 there and ran at
    /// 0.8 to 1.3 (1x1 and 2x2). It is only a backoff: the putter parks no later than
    /// before, and `put_must_sleep` still lets it in as soon as there is room for its item.
    fn room_spun(&self, backoff: &Backoff) -> bool {
        let batch = (self.cap / 16).max(1);
        loop {
            if spun(backoff) {
                return true;
            }
            if self.cap - self.qsize() >= batch {
                return false;
            }
        }
    }

    /// In a putter's `validate`, after setting its bit: full and not shut down.
    fn put_must_sleep(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        tail & self.mark_bit == 0 && head.wrapping_add(self.one_lap) == tail
    }

    // ----- get -------------------------------------------------------------------------

    /// Takes the next item, waiting for one as `wait` allows.
    #[inline]
    #[track_caller]
    pub(crate) fn get(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, Refused> {
        match self.claim_get() {
            Ok(claim) => Ok(self.take(claim)),
            Err(Refused::NotNow) => self.get_slow(wait, location),
            Err(why) => Err(why),
        }
    }

    /// Claims the slot of the next get: the slot and the stamp that frees it; `NotNow` if
    /// the queue is empty, `ShutDown` if it is also shut down.
    #[inline]
    fn claim_get(&self) -> Result<(&Slot<T>, usize), Refused> {
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let index = head & (self.mark_bit - 1);
            let slot = &self.slots[index];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head.wrapping_add(1) {
                let next = if index + 1 < self.cap {
                    head + 1
                } else {
                    (head & !(self.one_lap - 1)).wrapping_add(self.one_lap)
                };
                match self.head.compare_exchange_weak(
                    head,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok((slot, head.wrapping_add(self.one_lap))),
                    Err(now) => {
                        head = now;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Nothing here yet: empty, unless a put has claimed the slot and is writing
                // it right now (then the item is as good as there).
                loom_fence();
                let tail = self.tail.load(Ordering::SeqCst);
                if tail & !self.mark_bit == head {
                    let shut = tail & self.mark_bit != 0;
                    return Err(if shut {
                        Refused::ShutDown
                    } else {
                        Refused::NotNow
                    });
                }
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another get took this position first (look again), or the get a lap
                // before is still reading this slot. That get's thread may have lost its
                // processor between its claim and its release of the slot; then every get
                // and put waits for it here. Snooze (crossbeam's choice), which yields once
                // the spins are done: with a plain spin (never yielding) the waiters kept
                // their processors until the tick preempted them, and the matrix's 8x8 cap
                // 10 cell stalled for whole ticks (4-28 ms at a time, two thirds of a run
                // with the CPUs far apart; in-process A/B, near rounds: 1.21 -> 2.90 of the
                // best peer).
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Reads the item out of a claimed slot, frees the slot, and if a putter sleeps, puts its
    /// item into the free slot for it and wakes it.
    #[inline]
    fn take(&self, (slot, stamp): (&Slot<T>, usize)) -> T {
        // SAFETY: this thread claimed the slot by moving `head` past it, and its stamp said
        // "holds an item" (the put published its write with Release, which our Acquire load
        // saw): nobody else touches the cell until we store the new stamp, and the item is
        // initialised and read exactly once.
        let item = unsafe { slot.item.read() };
        slot.stamp.store(stamp, Ordering::Release);
        if self.sleepers.someone_parked(PUT) {
            self.hand_over();
        }
        item
    }

    /// The queue looked empty: fails, or spins, then parks until an item or shutdown.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_slow(&self, wait: Wait, location: &'static Location<'static>) -> Result<T, Refused> {
        let take_now = || self.claim_get().map(|claim| self.take(claim));
        let sleepers = &self.sleepers;
        sleepers.get_slow(wait, location, take_now, || self.get_must_sleep())
    }

    /// In a getter's `validate`, after setting its bit: empty and not shut down.
    fn get_must_sleep(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        tail == head // also false once the mark is set
    }

    // ----- tasks -----------------------------------------------------------------------

    /// Tasks put and not yet marked done.
    pub(crate) fn unfinished(&self) -> usize {
        self.sleepers.unfinished(|| self.puts())
    }

    /// Marks one task done; an error (and no change) if none is unfinished.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        self.sleepers.task_done(|| self.puts())
    }

    /// Waits until every task is done; false if `wait` ran out first.
    #[track_caller]
    pub(crate) fn join(&self, wait: Wait, location: &'static Location<'static>) -> bool {
        self.sleepers.join(wait, location, || self.puts())
    }

    // ----- shutdown --------------------------------------------------------------------

    /// Shuts the queue down; with `immediate`, also removes (and returns, in get order) every
    /// item and marks a task done for each (never below zero). Wakes every parked getter and
    /// putter, and the joiners if no task is left.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<T> {
        self.tail.fetch_or(self.mark_bit, Ordering::SeqCst);
        let mut removed = Vec::new();
        if immediate {
            // No put can claim a slot any more; a put that claimed one before the mark is
            // waited for by `claim_get`, so this takes every item the queue holds.
            while let Ok(claim) = self.claim_get() {
                removed.push(self.take(claim));
            }
            self.sleepers.mark_done(removed.len(), || self.puts());
        }
        let parked = self.sleepers.wake_after_shutdown(|| self.puts());
        if parked & PUT != 0 {
            // Each takes its item back and finds the queue shut down. Woken with the lock
            // held, as in `hand_over`.
            let putters = self.putters.lock();
            for h in putters.iter() {
                wait::unpark_all(h.0.addr().get());
            }
        }
        removed
    }

    /// Everything `Debug` shows, without blocking.
    pub(crate) fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        f.debug_struct(name)
            .field("addr", &format_args!("{:#x}", self.addr()))
            .field("maxsize", &self.cap)
            .field("qsize", &self.qsize())
            .field("unfinished", &self.unfinished())
            .field("shut_down", &self.is_shut_down())
            .finish()
    }
}

impl<T> Drop for Array<T> {
    fn drop(&mut self) {
        // `&mut self`: every put and get has finished, so the slots from `head` to `tail`
        // hold exactly the items left.
        let head = unshared(&mut self.head);
        let tail = unshared(&mut self.tail) & !self.mark_bit;
        let left = self.count(tail).wrapping_sub(self.count(head));
        let first = head & (self.mark_bit - 1);
        for i in 0..left {
            let index = (first + i) % self.cap;
            // SAFETY: slot `index` lies between `head` and `tail`, so its put finished (no
            // operation is under way) and no get took it: it holds an initialised item,
            // dropped here once.
            unsafe { self.slots[index].item.drop_in_place() };
        }
    }
}

source_by_get!([T: Send] Array<T>, T);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::queue::lockfree::{addr_of, assert_own_lines};

    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn positions_wrap_laps_and_count_items() {
        for cap in [1, 2, 3, 7, 16] {
            let q = Array::<usize>::new("Queue", cap);
            for round in 0..5 {
                for i in 0..cap {
                    q.put(round * cap + i, Wait::Poll, here()).unwrap();
                }
                assert_eq!(q.qsize(), cap);
                assert!(q.full());
                assert_eq!(
                    q.put(usize::MAX, Wait::Poll, here()).unwrap_err(),
                    (usize::MAX, Refused::NotNow)
                );
                for i in 0..cap {
                    assert_eq!(q.get(Wait::Poll, here()), Ok(round * cap + i));
                }
                assert_eq!(q.get(Wait::Poll, here()), Err(Refused::NotNow));
                assert_eq!(q.qsize(), 0);
                assert_eq!(q.unfinished(), (round + 1) * cap);
            }
        }
    }

    /// A putter whose thread's window is open looks before it sleeps: it still times out
    /// no earlier than its timeout, with its item given back, and a get during its look (or
    /// its sleep) lets its item in, after the one before it.
    #[test]
    fn a_putter_looking_within_its_window_times_out_late_and_puts_in_order() {
        use crate::sync::window::ThreadWindow;
        use std::time::Duration;
        for _ in 0..4 {
            ThreadWindow::time_sleep(|| (), |()| true);
        }
        assert!(
            !ThreadWindow::get().is_zero(),
            "short sleeps opened the window"
        );
        let q = Array::new("Queue", 1);
        q.put(1u32, Wait::Poll, here()).unwrap();
        let timeout = Duration::from_millis(30);
        let t0 = Instant::now();
        assert_eq!(
            q.put(2, Wait::For(timeout), here()).unwrap_err(),
            (2, Refused::Timeout)
        );
        assert!(t0.elapsed() >= timeout, "the put gave up early");
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_micros(20));
                assert_eq!(q.get(Wait::Forever, here()), Ok(1));
            });
            q.put(2, Wait::Forever, here()).unwrap();
        });
        assert_eq!(q.get(Wait::Poll, here()), Ok(2));
        assert_eq!(q.qsize(), 0);
    }

    #[test]
    fn task_done_never_goes_below_zero_and_shutdown_immediate_counts_removed() {
        let q = Array::<u8>::new("Queue", 4);
        assert!(q.task_done().is_err());
        for i in 0..3 {
            q.put(i, Wait::Poll, here()).unwrap();
        }
        q.task_done().unwrap();
        assert_eq!(q.unfinished(), 2);
        assert_eq!(q.get(Wait::Poll, here()), Ok(0));
        // Two items left, two tasks unfinished: both go, the count reaches zero.
        assert_eq!(q.shutdown(true), [1, 2]);
        assert_eq!((q.unfinished(), q.qsize()), (0, 0));
        assert!(q.join(Wait::Poll, here()));
        assert_eq!(q.get(Wait::Poll, here()), Err(Refused::ShutDown));
        assert_eq!(
            q.put(9, Wait::Forever, here()).unwrap_err(),
            (9, Refused::ShutDown)
        );
    }

    #[test]
    fn dropping_the_queue_drops_the_items_left_once() {
        use std::sync::Arc;
        let token = Arc::new(());
        let q = Array::new("Queue", 3);
        for _ in 0..3 {
            q.put(token.clone(), Wait::Poll, here()).unwrap();
        }
        drop(q.get(Wait::Poll, here()));
        q.put(token.clone(), Wait::Poll, here()).unwrap(); // wraps into slot 0
        assert_eq!(Arc::strong_count(&token), 4);
        drop(q);
        assert_eq!(Arc::strong_count(&token), 1);
    }

    #[test]
    fn the_hot_atomics_each_have_a_line() {
        let q = Array::<u8>::new("Queue", 1);
        assert_own_lines(&[
            addr_of(&*q.head),
            addr_of(&*q.tail),
            addr_of(&*q.sleepers.parked),
            addr_of(&*q.sleepers.done),
        ]);
    }
}

/// loom models of the ring's timed waits racing the other side, with deadlines that may fire
/// at any point (see `primitive::park_loom::with_firing_deadlines`; the untimed models are in
/// `tests/loom_queue.rs`). Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib queue::array`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::primitive::park_loom::with_firing_deadlines;

    const LONG: Duration = Duration::from_secs(3600);

    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn a_timed_get_racing_a_put_at_capacity_one_gets_it_or_leaves_it_queued() {
        // Both answers must occur across the executions (the timer really races the put).
        static GOT: AtomicBool = AtomicBool::new(false);
        static TIMED_OUT: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(Array::<u32>::new("Queue", 1));
                let q2 = q.clone();
                let getter = thread::spawn(move || q2.get(Wait::For(LONG), here()));
                q.put(7, Wait::Forever, here()).unwrap();
                match getter.join().unwrap() {
                    Ok(item) => {
                        assert_eq!(item, 7);
                        assert_eq!(q.qsize(), 0);
                        GOT.store(true, StdOrdering::Relaxed);
                    }
                    Err(why) => {
                        assert_eq!(why, Refused::Timeout);
                        assert_eq!(q.get(Wait::Poll, here()), Ok(7));
                        TIMED_OUT.store(true, StdOrdering::Relaxed);
                    }
                }
                assert_eq!(q.unfinished(), 1);
            });
        });
        assert!(GOT.load(StdOrdering::Relaxed) && TIMED_OUT.load(StdOrdering::Relaxed));
    }

    #[test]
    fn a_timed_put_racing_a_get_at_capacity_one_puts_or_hands_the_item_back() {
        static PUT: AtomicBool = AtomicBool::new(false);
        static TIMED_OUT: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(Array::<u32>::new("Queue", 1));
                q.put(1, Wait::Poll, here()).unwrap();
                let q2 = q.clone();
                let putter = thread::spawn(move || q2.put(2, Wait::For(LONG), here()));
                assert_eq!(q.get(Wait::Forever, here()), Ok(1));
                match putter.join().unwrap() {
                    Ok(()) => {
                        assert_eq!(q.get(Wait::Poll, here()), Ok(2));
                        assert_eq!(q.unfinished(), 2);
                        PUT.store(true, StdOrdering::Relaxed);
                    }
                    Err((item, why)) => {
                        assert_eq!((item, why), (2, Refused::Timeout));
                        assert_eq!(q.get(Wait::Poll, here()), Err(Refused::NotNow));
                        assert_eq!(q.unfinished(), 1);
                        TIMED_OUT.store(true, StdOrdering::Relaxed);
                    }
                }
            });
        });
        assert!(PUT.load(StdOrdering::Relaxed) && TIMED_OUT.load(StdOrdering::Relaxed));
    }

    #[test]
    fn a_timed_get_and_a_timed_put_racing_shutdown_at_capacity_one_end() {
        // A full one-slot queue: a timed putter and (after the main thread's get) a timed
        // getter race a shutdown. Nobody is left asleep; every item is got once, or handed
        // back; the putter never puts after the shutdown began refusing.
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(Array::<u32>::new("Queue", 1));
                q.put(1, Wait::Poll, here()).unwrap();
                let q2 = q.clone();
                let putter = thread::spawn(move || q2.put(2, Wait::For(LONG), here()));
                let first = q.get(Wait::For(LONG), here());
                q.shutdown(false);
                let put = putter.join().unwrap();
                let mut seen: Vec<u32> = first.into_iter().collect();
                if let Err((item, why)) = put {
                    assert!(why == Refused::Timeout || why == Refused::ShutDown);
                    seen.push(item);
                }
                while let Ok(item) = q.get(Wait::For(LONG), here()) {
                    seen.push(item);
                }
                seen.sort_unstable();
                assert_eq!(seen, [1, 2]);
                assert!(q.is_shut_down());
            });
        });
    }

    #[test]
    fn a_timed_join_racing_task_done_answers_by_the_count() {
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(Array::<u32>::new("Queue", 1));
                q.put(1, Wait::Forever, here()).unwrap();
                let q2 = q.clone();
                let joiner = thread::spawn(move || q2.join(Wait::For(LONG), here()));
                assert_eq!(q.get(Wait::Poll, here()), Ok(1));
                q.task_done().unwrap();
                let done = joiner.join().unwrap();
                assert!(done || q.unfinished() == 0);
                assert_eq!(q.unfinished(), 0);
            });
        });
    }
}
