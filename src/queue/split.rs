//! The two-lock core of `Queue`, `PriorityQueue` and `SimpleQueue`: one lock for each end,
//! so that producers and consumers do not fight over one cache line.
//!
//! # Design
//!
//! The one-lock [`OneLock`](super::onelock::OneLock) core makes every put and every get take the same lock,
//! whose cache line then travels between the producing and the consuming cores for each
//! item; in a priority queue the heap's own lines travel too, as both sides sift. So this
//! queue is two buffers, each behind its own [`Lock`] on its own cache line:
//!
//! - the **tail**, a `Vec`: producers push here, under the tail lock. It also holds what
//!   producers and waiters share: the count of unfinished tasks, the shut-down flag, the
//!   parked bits of getters and joiners, and (bounded queues) the last count of items taken
//!   that producers have seen.
//! - the **head**, a [`Head`] buffer in the queue's order (a `VecDeque` for FIFO, sorted runs
//!   for priority): consumers take items here, under the head lock. A
//!   consumer takes the producers' whole batch in one step while holding both locks (O(1):
//!   the buffers trade places), then, with the tail lock released, files it in (a priority
//!   head sorts it).
//!
//! A FIFO head takes in the batch when it runs dry; every item in the head was put before
//! every item in the tail, so the order is the order of the puts. A priority head takes it
//! in before every get that finds one waiting (`pushed - popped` counts more items than the
//! head holds), so a get sees every item put before it started, and keeps each batch's
//! items after every item taken in before them, which is what keeps equal items first in,
//! first out. Only
//! consumers (and, past a large backlog, producers helping them) touch the runs.
//!
//! Lock order: head before tail. Puts, `task_done` and `join` take only the tail lock; a get
//! that takes in a batch, a put that finds a bounded queue full, and `shutdown` take both.
//!
//! **Getters** wait with the protocol of the one-lock core (see its module docs), with the
//! tail lock as the buffer lock: a getter finds both buffers empty while holding both locks,
//! sets its parked bit in `validate` (tail lock held), and releases both locks in
//! `before_sleep`. Items reach the head only from the tail, and a put into the tail reads
//! the bit under the tail lock after pushing, so no put after the getter's check can miss
//! it. Joiners wait on the tail lock alone, as `unfinished` lives there. Before its first
//! park a getter looks at the count, with both locks released: one that claims the head's
//! adaptive [`SpinWindow`] while the window lasts, a FIFO getter first with a few pauses
//! between looks, then (as a priority getter from the start) yielding between them; a FIFO
//! getter without the window for a few pauses and ten yields ([`look_until`]). A priority
//! getter without the window parks at once (it takes in every batch that waits, and one
//! caught sooner is smaller and costs a sort of its own). The window
//! opens only where getters' sleeps are cut short by new items: without it, a consumer that
//! answers a producer which waits for its answer (a reply queue) slept on every item, and
//! each exchange cost two wake-ups of a thread whose core had gone idle.
//!
//! **Putters** of a bounded queue check for room under the tail lock against the last
//! `popped` count they saw, which never exceeds the true one, so a put never overfills; only
//! when that looks full do they read the head's `popped` again (which sits alone on its line,
//! so that this polling does not take the head lock's line from the consumers). A putter that
//! finds the queue full waits, spinning then yielding, for an eighth of it to come free (so
//! that producers refill in bursts rather than meet consumers at every item), then takes
//! both locks and checks the exact count: with room, it puts; without, it sets the `PUT` bit
//! in the head's own parked word in `validate` and releases both locks in `before_sleep`. A get takes items out under the head lock and reads that bit
//! under the same lock, so a get after the putter's check sees the bit, and one before it
//! had already counted its item when the putter looked.
//!
//! [`qsize`](Split::qsize) is `pushed - popped`, two counters each written under its own
//! lock on its own line: exact whenever no put or get is under way, and never negative.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::panic::Location;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use super::common::{
    PREALLOCATE_MAX, Refused, Wait, lock_pace, look_until, put_slack, relax_until, source_by_get,
    spin_until,
};
use super::error::{QueueId, TaskDoneError, queue_id};
use super::held::{Guarded, Held};
use super::waiters::{GET, JOIN, PUT, Waiters};
use crate::Lock;
use crate::primitive::parking_lot_core::ParkResult;
use crate::primitive::{AtomicU32, AtomicUsize, Ordering};
use crate::sync::wait::{self, WaitKind, Waiting};
use crate::sync::window::{SpinWindow, ThreadWindow};

/// The consumers' buffer of a [`Split`] queue, in the queue's order.
pub(crate) trait Head: Default {
    type Item;

    /// Whether a get takes in the producers' batch whenever one waits, rather than only
    /// when this buffer runs dry: true where a later item may come out first (priority).
    /// An eager head's [`take_in`](Head::take_in) takes the batch whole and returns `None`,
    /// so a producer may file a batch in too (see [`Split::help_file_in`]).
    const EAGER: bool;

    /// An empty buffer for a queue of `maxsize` (0: unbounded).
    fn for_maxsize(maxsize: usize) -> Self;

    /// Items held, including any taken in and not yet filed.
    fn len(&self) -> usize;

    /// The next item, in the queue's order (head lock held).
    fn pop(&mut self) -> Option<Self::Item>;

    /// With both locks held, in O(1): takes in the producers' `batch` (leaving it empty) and
    /// returns the next item if that needs no more work; `None` means "call
    /// [`settle`](Head::settle), then [`pop`](Head::pop)" (or that both were empty).
    fn take_in(&mut self, batch: &mut Vec<Self::Item>) -> Option<Self::Item>;

    /// Files in what [`take_in`](Head::take_in) took (head lock held, tail lock released).
    fn settle(&mut self) {}

    /// Runs in the putter, before `item` goes near a lock: a head that compares items
    /// checks here that `item` can be compared, so that an `Ord` that panics for it panics
    /// in the putter (as Python's `put` raises) and the item is never queued.
    #[inline]
    fn admit(item: &Self::Item) {
        let _ = item;
    }

    /// The items of a removed head and, after them, of a removed batch, in the order gets
    /// would have returned them (done after unlocking).
    fn into_pop_order(self, batch: Vec<Self::Item>) -> Vec<Self::Item>;
}

impl<T> Head for VecDeque<T> {
    type Item = T;
    const EAGER: bool = false;

    fn for_maxsize(maxsize: usize) -> Self {
        VecDeque::with_capacity(maxsize.min(PREALLOCATE_MAX))
    }

    #[inline]
    fn len(&self) -> usize {
        VecDeque::len(self)
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }

    /// The next item: from the head, else from the producers' buffer (taking its whole
    /// batch if it has more than one item).
    #[inline]
    fn take_in(&mut self, batch: &mut Vec<T>) -> Option<T> {
        if let Some(item) = self.pop_front() {
            return Some(item);
        }
        if batch.len() > 1 {
            take_batch(self, batch);
            return self.pop_front();
        }
        batch.pop()
    }

    fn into_pop_order(self, batch: Vec<T>) -> Vec<T> {
        let mut all = Vec::from(self); // reuses the buffer
        all.extend(batch);
        all
    }
}

/// What the tail lock protects.
struct TailState<T> {
    /// A `Vec`: a push is cheaper than a `VecDeque`'s, and consumers take it whole.
    buf: Vec<T>,
    /// Items put and not yet marked done by `task_done`.
    unfinished: usize,
    /// Bounded queues: the head's `popped` as last read, never more than it is now.
    popped_seen: usize,
    shut_down: bool,
}

/// The producers' end: everything a put touches, on one line (padded by [`Split`]).
#[repr(C)]
struct Tail<T> {
    lock: Lock,
    /// [`GET`] | [`JOIN`]: someone may be parked on that key. Set only in a park's `validate`
    /// (tail lock and bucket lock held), cleared only under the bucket lock.
    parked: AtomicU32,
    /// Items ever put (wrapping), stored under `lock`.
    pushed: AtomicUsize,
    /// Only touched with `lock` held.
    state: UnsafeCell<TailState<T>>,
}

/// The consumers' end, starting a line of its own (padded by [`Split`]).
#[repr(C)]
struct End<H> {
    lock: Lock,
    /// [`PUT`]: a putter may be parked. Set only in a park's `validate` (both locks and the
    /// bucket lock held), cleared only under the bucket lock; read by gets under `lock`.
    parked: AtomicU32,
    /// Only touched with `lock` held.
    buf: UnsafeCell<H>,
    /// How long a getter looks before it parks, past its fixed spins (written only by
    /// getters about to park).
    window: SpinWindow,
    /// Items ever taken out (wrapping), stored under `lock` with `Release`.
    popped: CachePadded<AtomicUsize>,
}

/// The shared two-lock queue: see the module docs.
#[repr(C)]
pub(crate) struct Split<T, H> {
    /// Each end on its own cache line(s): `CachePadded` knows the platform's line size, and
    /// that x86_64 and aarch64 prefetch lines in pairs (128 bytes).
    tail: CachePadded<Tail<T>>,
    head: CachePadded<End<H>>,
    // ---- read-only from here on ----
    /// 0: unbounded.
    maxsize: usize,
    kind: &'static str,
    /// The name given by the queue's `named` constructor, shown in its id.
    name: Option<&'static str>,
    /// The wait queues' keys are the addresses of these bytes (getters, unused, joiners, as
    /// the bits' positions): memory we own, distinct from the locks' keys.
    anchors: [u8; 3],
}

// SAFETY: each `UnsafeCell` is only reached through a guard that exists only while its lock
// is held, so at most one thread touches each buffer at a time; items move between threads
// through them, hence `T: Send`. Everything else is atomics or immutable.
unsafe impl<T: Send, H: Send> Sync for Split<T, H> {}

// SAFETY: this module reaches a `Tail`'s `state` only through `Held` (`tail_locked`,
// `debug_fields`, and `assume` of a lock still held after a park), and `lock` is always the
// one field.
unsafe impl<T> Guarded for Tail<T> {
    type State = TailState<T>;
    #[inline]
    fn lock(&self) -> &Lock {
        &self.lock
    }
    #[inline]
    fn state(&self) -> &UnsafeCell<TailState<T>> {
        &self.state
    }
}

// SAFETY: as for `Tail`: an `End`'s `buf` is reached only through `Held` (`head_locked`, and
// `assume` of a lock still held after a park).
unsafe impl<H> Guarded for End<H> {
    type State = H;
    #[inline]
    fn lock(&self) -> &Lock {
        &self.lock
    }
    #[inline]
    fn state(&self) -> &UnsafeCell<H> {
        &self.buf
    }
}

/// The tail lock, held: derefs to the tail's state, releases on drop.
type TailGuard<'a, T> = Held<'a, Tail<T>>;

/// The head lock, held: derefs to the head buffer, releases on drop.
type HeadGuard<'a, H> = Held<'a, End<H>>;

impl<H> HeadGuard<'_, H> {
    /// Counts `n` more items taken out (under the head lock).
    #[inline]
    fn count_taken(&self, n: usize) {
        let head = Held::owner(self);
        let popped = head.popped.load(Ordering::Relaxed).wrapping_add(n);
        head.popped.store(popped, Ordering::Release);
    }
}

/// The producers' batch size at which a producer of an eager head (a priority queue) files
/// the batch in itself, once the queue holds more than [`HELP_ABOVE_BYTES`] of items: see
/// [`Split::help_file_in`].
const HELP_AT: usize = 1024;

/// The backlog (in bytes of items) below which producers of an eager head never file items
/// in. Below it producers only append, which is what makes the two-lock priority queue
/// faster than one lock around one heap; above it they are held to the consumers' pace, so a
/// flood of puts cannot grow the queue without end. In the queue matrix, helping from 1 024
/// items on cost every unbounded cell (0.4 to 0.9 of the peer's throughput, against 1.0 to
/// 3.3 with this budget, which those runs of 350 000 `u64`s stay under); a 4x4 stress test
/// whose producers put until the consumers have taken 20 000 items ran out of memory with no
/// help at all (3.6 GB in 23 s) and stays at 0.26 GB with either rule.
const HELP_ABOVE_BYTES: usize = 8 << 20;

impl<T, H: Head<Item = T>> Split<T, H> {
    pub(crate) fn new(kind: &'static str, maxsize: usize) -> Self {
        Split {
            tail: CachePadded::new(Tail {
                lock: Lock::new(),
                parked: AtomicU32::new(0),
                pushed: AtomicUsize::new(0),
                state: UnsafeCell::new(TailState {
                    buf: Vec::new(),
                    unfinished: 0,
                    popped_seen: 0,
                    shut_down: false,
                }),
            }),
            head: CachePadded::new(End {
                lock: Lock::new(),
                parked: AtomicU32::new(0),
                buf: UnsafeCell::new(H::for_maxsize(maxsize)),
                window: SpinWindow::new(),
                popped: CachePadded::new(AtomicUsize::new(0)),
            }),
            maxsize,
            kind,
            name: None,
            anchors: [0; 3],
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

    /// Getters and joiners: their bits live on the tail's line, where puts read them.
    fn waiters(&self) -> Waiters<'_> {
        Waiters {
            parked: &self.tail.parked,
            anchors: &self.anchors,
            object: self.id(),
        }
    }

    /// Putters: their bit lives on the head's line, where gets read it.
    fn putters(&self) -> Waiters<'_> {
        Waiters {
            parked: &self.head.parked,
            anchors: &self.anchors,
            object: self.id(),
        }
    }

    #[inline]
    #[track_caller]
    fn tail_locked(&self) -> TailGuard<'_, T> {
        Held::acquire(&*self.tail, lock_pace(self.maxsize))
    }

    #[inline]
    #[track_caller]
    fn head_locked(&self) -> HeadGuard<'_, H> {
        Held::acquire(&*self.head, lock_pace(self.maxsize))
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Items in the queue: `pushed - popped`. `popped` is read first, with `Acquire`: every
    /// item it counts was pushed before it was taken, so the `pushed` read after it counts
    /// at least as many, and the difference never goes below zero.
    #[inline]
    pub(crate) fn qsize(&self) -> usize {
        let popped = self.head.popped.load(Ordering::Acquire);
        let pushed = self.tail.pushed.load(Ordering::Relaxed);
        pushed.wrapping_sub(popped)
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
        item: T,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (T, Refused)> {
        H::admit(&item);
        let mut tail = self.tail_locked();
        if tail.shut_down || (self.maxsize != 0 && !self.room(&mut tail)) {
            return self.put_slow(tail, item, wait, location);
        }
        self.push(tail, item);
        Ok(())
    }

    /// Whether a bounded queue has room, by the last `popped` count seen; only when that
    /// looks full is the head's count read again (a line the producers rarely touch).
    #[inline]
    fn room(&self, tail: &mut TailGuard<'_, T>) -> bool {
        let pushed = self.tail.pushed.load(Ordering::Relaxed);
        if pushed.wrapping_sub(tail.popped_seen) < self.maxsize {
            return true;
        }
        tail.popped_seen = self.head.popped.load(Ordering::Acquire);
        pushed.wrapping_sub(tail.popped_seen) < self.maxsize
    }

    /// Pushes under the tail lock, counts the task, wakes one getter if any is parked.
    #[inline]
    fn push(&self, mut tail: TailGuard<'_, T>, item: T) {
        tail.unfinished += 1;
        tail.buf.push(item);
        let pushed = self.tail.pushed.load(Ordering::Relaxed).wrapping_add(1);
        self.tail.pushed.store(pushed, Ordering::Relaxed);
        let wake = self.waiters().any(GET);
        let help = H::EAGER && tail.buf.len() >= HELP_AT && self.backlog_is_large();
        drop(tail);
        if wake {
            self.waiters().wake_one(GET);
        }
        if help {
            self.help_file_in();
        }
    }

    /// Whether the queue holds more than [`HELP_ABOVE_BYTES`] of items: then a producer with
    /// a large batch files it in itself.
    #[inline]
    fn backlog_is_large(&self) -> bool {
        let items = HELP_ABOVE_BYTES / mem::size_of::<T>().max(1);
        self.qsize() > items.max(HELP_AT)
    }

    /// A producer whose batch has grown to [`HELP_AT`] items, in a queue holding more than
    /// [`HELP_ABOVE_BYTES`] of items, files the batch into the head itself, under the head
    /// lock, as a get would. An eager head (a priority queue) files every
    /// item in, and only gets did: producers that only append could outrun the consumers
    /// without end (an unbounded queue grew until the process ran out of memory in a stress
    /// test), where producers that must take the head lock now and then are held to the
    /// pace at which items are filed, as producers of a `Mutex<BinaryHeap>` are.
    #[cold]
    #[inline(never)]
    fn help_file_in(&self) {
        let mut head = self.head_locked();
        let mut tail = self.tail_locked();
        if tail.buf.len() < HELP_AT {
            return; // a get (or another producer) took it in meanwhile
        }
        let next = head.take_in(&mut tail.buf);
        debug_assert!(next.is_none(), "an eager head takes a batch in whole");
        drop(tail);
        head.settle();
    }

    /// Shut down, or a bounded queue looked full: fails, or waits for room or the shutdown.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn put_slow(
        &self,
        tail: TailGuard<'_, T>,
        item: T,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (T, Refused)> {
        if tail.shut_down {
            return Err((item, Refused::ShutDown));
        }
        let Some(deadline) = wait.deadline() else {
            return Err((item, Refused::NotNow));
        };
        // Both locks are needed to park (head first), so the tail lock goes. If no putter
        // sleeps already, wait a little (spinning, then yielding) for a burst's room
        // (`put_slack`), then take whatever room there is.
        drop(tail);
        if !self.putters().any(PUT) {
            let slack = put_slack(self.maxsize);
            let burst = || self.qsize() + slack <= self.maxsize;
            spin_until(&burst);
            // Still full: look on within the thread's window, if it is open, before parking,
            // for the same room (a look that ended at the first free slot would bring the
            // meeting at every item back).
            if self.qsize() >= self.maxsize {
                wait::look_before_sleep(deadline, burst);
            }
        }
        let mut head = self.head_locked();
        let mut tail = self.tail_locked();
        let mut timed_out = false;
        let mut waiting = None;
        loop {
            if tail.shut_down {
                return Err((item, Refused::ShutDown));
            }
            tail.popped_seen = self.head.popped.load(Ordering::Relaxed); // exact: head held
            if self.room(&mut tail) {
                drop(head);
                self.push(tail, item);
                return Ok(());
            }
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return Err((item, Refused::Timeout));
            }
            let what = (PUT, WaitKind::QueuePut, location);
            let putters = self.putters();
            let park = || self.park_both(head, tail, putters, &mut waiting, what, deadline);
            (head, tail, timed_out) = ThreadWindow::time_sleep(park, |r| !r.2);
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
    ) -> Result<T, Refused> {
        let mut head = self.head_locked();
        if H::EAGER && self.batch_waiting(&head) {
            return self.refill(head, wait, location);
        }
        match head.pop() {
            Some(item) => Ok(self.took(head, item)),
            None => self.refill(head, wait, location),
        }
    }

    /// Whether the producers' buffer may hold items: more were put than were taken out or
    /// are in the head. A put that finished before this get began is counted (its store
    /// of `pushed` happened before this load); a stale read only costs a look.
    #[inline]
    fn batch_waiting(&self, head: &HeadGuard<'_, H>) -> bool {
        let popped = self.head.popped.load(Ordering::Relaxed); // ours: head held
        let pushed = self.tail.pushed.load(Ordering::Relaxed);
        pushed.wrapping_sub(popped) != head.len()
    }

    /// After taking `item` out under the head lock: counts it, releases the lock, and wakes
    /// one putter if any is parked.
    #[inline]
    fn took(&self, head: HeadGuard<'_, H>, item: T) -> T {
        head.count_taken(1);
        let wake = self.putters().any(PUT);
        drop(head);
        if wake {
            self.putters().wake_one(PUT);
        }
        item
    }

    /// Takes in the producers' batch, or waits.
    #[inline(never)]
    #[track_caller]
    fn refill(
        &self,
        mut head: HeadGuard<'_, H>,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, Refused> {
        let mut tail = self.tail_locked();
        if let Some(item) = head.take_in(&mut tail.buf) {
            drop(tail);
            return Ok(self.took(head, item));
        }
        if head.len() == 0 {
            return self.get_slow(head, tail, wait, location);
        }
        drop(tail);
        Ok(self.settled_pop(head))
    }

    /// Files in a taken batch and takes the next item (the head holds one).
    #[inline]
    fn settled_pop(&self, mut head: HeadGuard<'_, H>) -> T {
        head.settle();
        let item = head.pop();
        // `len() != 0` was checked with both locks held, and only gets take items out.
        let item = item.expect("a head holding items pops one");
        self.took(head, item)
    }

    /// Both locks held, both buffers empty: fails, or waits for an item or the shutdown.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_slow<'a>(
        &'a self,
        mut head: HeadGuard<'a, H>,
        mut tail: TailGuard<'a, T>,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, Refused> {
        let mut deadline = None;
        let mut first = true;
        let mut timed_out = false;
        let mut waiting = None;
        loop {
            if let Some(item) = head.take_in(&mut tail.buf) {
                drop(tail);
                return Ok(self.took(head, item));
            }
            if head.len() != 0 {
                drop(tail);
                return Ok(self.settled_pop(head));
            }
            if tail.shut_down {
                return Err(Refused::ShutDown);
            }
            if first {
                first = false;
                deadline = wait.deadline().ok_or(Refused::NotNow)?;
                let claim = if self.waiters().any(GET) {
                    None
                } else {
                    self.head.window.claim(deadline)
                };
                // Without the window a FIFO getter still looks a little, as
                // crossbeam-channel's receivers do; a priority one parks at once (not under
                // loom either: a model would explore every look).
                if claim.is_some() || (!H::EAGER && !cfg!(loom)) {
                    drop(tail);
                    drop(head);
                    let came = || self.qsize() != 0;
                    match claim {
                        // A FIFO getter first busy-waits (30 pauses, checking): where a
                        // partner answers within a microsecond (a reply queue), a yield per
                        // look made each exchange wait out a system call. A priority head
                        // does not: it takes in every batch that waits, and one caught
                        // sooner is smaller and costs a sort of its own.
                        Some(claim) => {
                            if H::EAGER || !relax_until(&came) {
                                claim.yield_until(came);
                            }
                        }
                        None => look_until(&came, deadline),
                    }
                    head = self.head_locked();
                    tail = self.tail_locked();
                    continue;
                }
            }
            // A `TimedOut` park means the deadline passed (parking_lot_core's promise).
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return Err(Refused::Timeout);
            }
            let what = (GET, WaitKind::QueueGet, location);
            let getters = self.waiters();
            let park = || self.park_both(head, tail, getters, &mut waiting, what, deadline);
            (head, tail, timed_out) = self.head.window.time_sleep(park, |r| !r.2);
        }
    }

    /// Parks on `what`'s key of `waiters` with both locks held, releasing both in
    /// `before_sleep`, once this thread is queued; returns both locks, taken again, and
    /// whether the deadline passed (a `TimedOut` park: parking_lot_core's promise).
    #[track_caller]
    fn park_both<'a>(
        &'a self,
        head: HeadGuard<'a, H>,
        tail: TailGuard<'a, T>,
        waiters: Waiters<'_>,
        waiting: &mut Option<Waiting>,
        what: (u32, WaitKind, &'static Location<'static>),
        deadline: Option<Instant>,
    ) -> (HeadGuard<'a, H>, TailGuard<'a, T>, bool) {
        let (bit, kind, location) = what;
        std::mem::forget(head);
        std::mem::forget(tail);
        let release = || {
            self.tail.lock.release_shared();
            self.head.lock.release_shared();
        };
        let result = waiters.park(waiting, bit, (kind, location), deadline, release);
        if result == ParkResult::Invalid {
            // Only chaos mode's `park` returns `Invalid` here (`validate` always agrees),
            // without running `before_sleep`: both locks are still ours.
            // SAFETY: so this thread holds the head lock, whose guard it forgot above.
            let head = unsafe { Held::assume(&*self.head) };
            // SAFETY: and the tail lock, likewise.
            let tail = unsafe { Held::assume(&*self.tail) };
            (head, tail, false)
        } else {
            let head = self.head_locked();
            (head, self.tail_locked(), result == ParkResult::TimedOut)
        }
    }

    // ----- tasks -----------------------------------------------------------------------

    pub(crate) fn unfinished(&self) -> usize {
        self.tail_locked().unfinished
    }

    /// Marks one task done; an error (and no change) if none is unfinished.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        self.waiters().task_done(
            self.tail_locked(),
            |tail| &mut tail.unfinished,
            || self.id(),
        )
    }

    /// Waits until every task is done; false if `wait` ran out first.
    #[track_caller]
    pub(crate) fn join(&self, wait: Wait, location: &'static Location<'static>) -> bool {
        let tail = self.tail_locked();
        if tail.unfinished == 0 {
            return true;
        }
        self.join_slow(tail, wait, location)
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn join_slow<'a>(
        &'a self,
        mut tail: TailGuard<'a, T>,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> bool {
        let Some(deadline) = wait.deadline() else {
            return false;
        };
        let mut timed_out = false;
        let mut waiting = None;
        loop {
            if tail.unfinished == 0 {
                return true;
            }
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return false;
            }
            std::mem::forget(tail);
            let release = || self.tail.lock.release_shared();
            let result = self.waiters().park(
                &mut waiting,
                JOIN,
                (WaitKind::QueueJoin, location),
                deadline,
                release,
            );
            timed_out = result == ParkResult::TimedOut;
            tail = if result == ParkResult::Invalid {
                // As in `get_slow`: chaos mode's `Invalid` leaves the lock ours.
                // SAFETY: so this thread holds the tail lock, whose guard it forgot above.
                unsafe { Held::assume(&*self.tail) }
            } else {
                self.tail_locked()
            };
        }
    }

    // ----- shutdown --------------------------------------------------------------------

    /// Shuts the queue down; with `immediate`, also removes (and returns) every item and marks
    /// a task done for each. Wakes every parked getter and putter, and the joiners if the
    /// count of unfinished tasks is zero.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<T> {
        let mut head = self.head_locked();
        let mut tail = self.tail_locked();
        tail.shut_down = true;
        let removed = immediate.then(|| {
            let first = std::mem::take(&mut *head);
            let then = std::mem::take(&mut tail.buf);
            let n = first.len() + then.len();
            tail.unfinished = tail.unfinished.saturating_sub(n);
            head.count_taken(n);
            (first, then)
        });
        let waiters = self.waiters();
        let wake_getters = waiters.any(GET);
        let wake_putters = self.putters().any(PUT);
        let wake_joiners = tail.unfinished == 0 && waiters.any(JOIN);
        drop(tail);
        drop(head);
        if wake_getters {
            waiters.wake_all(GET);
        }
        if wake_putters {
            self.putters().wake_all(PUT);
        }
        if wake_joiners {
            waiters.wake_all(JOIN);
        }
        removed.map_or_else(Vec::new, |(first, then)| first.into_pop_order(then))
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.tail_locked().shut_down
    }

    // ----- waiting and waking ----------------------------------------------------------

    /// Everything `Debug` shows, without blocking: the state is `<locked>` if the tail lock
    /// is held.
    pub(crate) fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        let mut d = f.debug_struct(name);
        d.field("addr", &format_args!("{:#x}", self.addr()));
        if self.maxsize != 0 {
            d.field("maxsize", &self.maxsize);
        }
        if let Some(tail) = Held::try_acquire(&*self.tail) {
            d.field("qsize", &self.qsize());
            d.field("unfinished", &tail.unfinished);
            d.field("shut_down", &tail.shut_down);
            drop(tail);
        } else {
            d.field("state", &format_args!("<locked>"));
        }
        d.finish()
    }
}

/// Moves the producers' batch into the empty head, in O(1), and gives the producers the
/// head's buffer (with its capacity) in exchange.
#[inline]
fn take_batch<T>(head: &mut VecDeque<T>, batch: &mut Vec<T>) {
    debug_assert!(head.is_empty());
    let spare = Vec::from(std::mem::take(head)); // empty: nothing moves
    *head = VecDeque::from(std::mem::replace(batch, spare));
}

source_by_get!([T: Send, H: Head<Item = T> + Send] Split<T, H>, T);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    type Fifo<T> = Split<T, VecDeque<T>>;

    #[test]
    fn each_end_has_its_own_cache_line() {
        // The platform's line: 128 bytes where lines are prefetched in pairs (x86_64, aarch64).
        let line = align_of::<CachePadded<u8>>();
        let q = Fifo::<u64>::new("Queue", 0);
        let base = std::ptr::from_ref(&q).addr();
        assert_eq!(base % line, 0);
        let tail_end = std::ptr::from_ref(&q.tail.state).addr() + size_of::<TailState<u64>>();
        assert!(tail_end - base <= 2 * 64, "tail: {} bytes", tail_end - base);
        let head = std::ptr::from_ref(&*q.head).addr();
        assert_eq!(head - base, size_of::<CachePadded<Tail<u64>>>());
        assert_eq!((head - base) % line, 0);
        let head_end = std::ptr::from_ref(&q.head.buf).addr() + size_of::<VecDeque<u64>>();
        assert!(head_end - head <= 64, "head: {} bytes", head_end - head);
        let popped = std::ptr::from_ref(&*q.head.popped).addr();
        assert_eq!(popped % line, 0, "popped starts a line");
        assert!(popped >= head_end, "popped is alone on its line");
    }

    #[test]
    fn wait_keys_are_distinct_from_each_other_and_the_locks() {
        let q = Fifo::<u8>::new("Queue", 0);
        let locks = [q.tail.lock.addr(), q.head.lock.addr()];
        let (get, join) = (q.waiters().key(GET), q.waiters().key(JOIN));
        assert_ne!(get, join);
        assert!(!locks.contains(&get) && !locks.contains(&join));
    }

    #[test]
    fn order_survives_batches_and_shutdown_immediate_returns_both_ends() {
        let q = Fifo::<u32>::new("Queue", 0);
        let here = Location::caller();
        for i in 0..3 {
            q.put(i, Wait::Poll, here).unwrap();
        }
        assert_eq!(q.get(Wait::Poll, here), Ok(0)); // swaps 0..3 into the head
        for i in 3..5 {
            q.put(i, Wait::Poll, here).unwrap();
        }
        assert_eq!(q.qsize(), 4);
        assert_eq!(q.unfinished(), 5);
        assert_eq!(q.shutdown(true), [1, 2, 3, 4]);
        assert_eq!((q.qsize(), q.unfinished()), (0, 1));
        assert_eq!(q.get(Wait::Poll, here), Err(Refused::ShutDown));
        assert_eq!(
            q.put(9, Wait::Poll, here).unwrap_err(),
            (9, Refused::ShutDown)
        );
    }

    #[test]
    fn debug_never_blocks_while_locked() {
        struct Show<'a>(&'a Fifo<u8>);
        impl fmt::Debug for Show<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug_fields(f, "Queue")
            }
        }
        let q = Fifo::<u8>::new("Queue", 0);
        q.put(1, Wait::Poll, Location::caller()).unwrap();
        let open = format!("{:?}", Show(&q));
        assert!(
            open.contains("qsize: 1") && open.contains("unfinished: 1"),
            "{open}"
        );
        let held = q.tail_locked();
        let shut = format!("{:?}", Show(&q));
        assert!(shut.contains("<locked>"), "{shut}");
        drop(held);
        assert!(!q.tail.lock.locked());
    }
}

/// loom models of the two-lock core's timed waits racing a put or a `task_done`, with
/// deadlines that may fire at any point (see `primitive::park_loom::with_firing_deadlines`;
/// the untimed models are in `tests/loom_queue.rs`). Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib queue::split`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::primitive::park_loom::with_firing_deadlines;

    type Fifo<T> = Split<T, VecDeque<T>>;

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn a_timed_get_racing_a_put_gets_it_or_leaves_it_queued() {
        // Both answers must occur across the executions (the timer really races the put);
        // the item is got exactly once, and the parked bit is clear once nobody waits.
        static GOT: AtomicBool = AtomicBool::new(false);
        static TIMED_OUT: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(Fifo::<u32>::new("Queue", 0));
                let q2 = q.clone();
                let getter = thread::spawn(move || q2.get(Wait::For(LONG), Location::caller()));
                q.put(7, Wait::Forever, Location::caller()).unwrap();
                match getter.join().unwrap() {
                    Ok(item) => {
                        assert_eq!(item, 7);
                        assert_eq!(q.qsize(), 0);
                        GOT.store(true, StdOrdering::Relaxed);
                    }
                    Err(why) => {
                        assert_eq!(why, Refused::Timeout);
                        assert_eq!(q.get(Wait::Poll, Location::caller()), Ok(7));
                        TIMED_OUT.store(true, StdOrdering::Relaxed);
                    }
                }
                assert_eq!(q.tail.parked.load(Ordering::Relaxed) & GET, 0);
            });
        });
        assert!(GOT.load(StdOrdering::Relaxed) && TIMED_OUT.load(StdOrdering::Relaxed));
    }

    #[test]
    fn a_timed_join_racing_task_done_answers_by_the_count() {
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(Fifo::<u32>::new("Queue", 0));
                q.put(1, Wait::Forever, Location::caller()).unwrap();
                let q2 = q.clone();
                let joiner = thread::spawn(move || q2.join(Wait::For(LONG), Location::caller()));
                q.task_done().unwrap();
                // true only once the count is zero, which the task_done made it; false only
                // by the deadline. Either way nobody is left parked.
                let done = joiner.join().unwrap();
                assert!(done || q.unfinished() == 0);
                assert_eq!(q.tail.parked.load(Ordering::Relaxed) & JOIN, 0);
            });
        });
    }
}
