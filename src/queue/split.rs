//! The core of the unbounded FIFO queues (`Queue::new(0)` and `SimpleQueue`): two locks, one
//! for each end, so that producers and consumers do not fight over one cache line.
//!
//! # Design
//!
//! The one-lock [`Core`](super::core::Core) makes every put and every get take the same lock,
//! whose cache line then travels between the producing and the consuming cores for each
//! item. An unbounded FIFO queue needs no such meeting point: producers never wait, and the
//! consumers only need the items in order. So the queue is two buffers, each behind its own
//! [`Lock`] on its own 64-byte line:
//!
//! - the **tail**, a `Vec`: producers push here, under the tail lock. It also holds what
//!   producers and waiters share: the count of unfinished tasks, the shut-down flag and the
//!   parked bits.
//! - the **head**, a `VecDeque`: consumers pop here, under the head lock. When it is empty,
//!   a consumer takes the tail lock too and takes the producers' whole buffer (a lone item is
//!   just popped): one lock hold, O(1), moves the pending batch, and the producers get the
//!   head's empty buffer back with its capacity, so nothing is allocated in the steady state.
//!
//! Every item in the head was put before every item in the tail, so the order is the order
//! of the puts (first in, first out, also across producers). When the consumers keep up, the
//! batches are one item long and a get takes both locks (each on a line the other side
//! rarely touches); when they fall behind, the producers run without meeting them.
//!
//! Lock order: head before tail. Puts, `task_done` and `join` take only the tail lock; a get
//! that finds the head empty, and `shutdown`, take both.
//!
//! Waiting is the protocol of the one-lock core (see its module docs), with the tail lock as
//! the buffer lock: a getter finds both buffers empty while holding both locks, sets its
//! parked bit in `validate` (tail lock held), and releases both locks in `before_sleep`.
//! Items reach the head only from the tail, and a put into the tail reads the bit under the
//! tail lock after pushing, so no put after the getter's check can miss it. Joiners wait on
//! the tail lock alone, as `unfinished` lives there. Getters park at once (no spinning), as
//! in the one-lock core's unbounded queues.
//!
//! [`qsize`](Split::qsize) is `pushed - popped`, two counters each written under its own
//! lock on its own line: exact whenever no put or get is under way, and never negative.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::time::Instant;

use super::core::{GET, JOIN, Refused, Source, Wait, Waiters};
use super::error::{QueueId, TaskDoneError};
use crate::Lock;
use crate::primitive::parking_lot_core::ParkResult;
use crate::primitive::{AtomicU32, AtomicUsize, Ordering};
use crate::sync::wait::{self, WaitKind};

/// What the tail lock protects.
struct TailState<T> {
    /// A `Vec`: a push is cheaper than a `VecDeque`'s, and consumers take it whole.
    buf: Vec<T>,
    /// Items put and not yet marked done by `task_done`.
    unfinished: usize,
    shut_down: bool,
}

/// The producers' end: everything a put touches, on one line.
#[repr(C, align(64))]
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

/// The consumers' end, on its own line.
#[repr(C, align(64))]
struct Head<T> {
    lock: Lock,
    /// Items ever taken out (wrapping), stored under `lock` with `Release`.
    popped: AtomicUsize,
    /// Only touched with `lock` held.
    buf: UnsafeCell<VecDeque<T>>,
}

/// The shared unbounded FIFO queue: see the module docs.
#[repr(C)]
pub(crate) struct Split<T> {
    tail: Tail<T>,
    head: Head<T>,
    // ---- read-only from here on ----
    kind: &'static str,
    /// The wait queues' keys are the addresses of these bytes (getters, unused, joiners, as
    /// the bits' positions): memory we own, distinct from the locks' keys.
    anchors: [u8; 3],
}

// SAFETY: each `UnsafeCell` is only reached through a guard that exists only while its lock
// is held, so at most one thread touches each buffer at a time; items move between threads
// through them, hence `T: Send`. Everything else is atomics or immutable.
unsafe impl<T: Send> Sync for Split<T> {}

/// The tail lock, held: derefs to the tail's state, releases on drop.
struct TailGuard<'a, T> {
    tail: &'a Tail<T>,
}

impl<T> Deref for TailGuard<'_, T> {
    type Target = TailState<T>;
    #[inline]
    fn deref(&self) -> &TailState<T> {
        // SAFETY: a `TailGuard` exists only while the tail lock is held by its creator.
        unsafe { &*self.tail.state.get() }
    }
}

impl<T> DerefMut for TailGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut TailState<T> {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { &mut *self.tail.state.get() }
    }
}

impl<T> Drop for TailGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.tail.lock.release_held();
    }
}

/// The head lock, held: derefs to the head buffer, releases on drop.
struct HeadGuard<'a, T> {
    head: &'a Head<T>,
}

impl<T> HeadGuard<'_, T> {
    /// Counts `n` more items taken out (under the head lock).
    #[inline]
    fn count_taken(&self, n: usize) {
        let popped = self.head.popped.load(Ordering::Relaxed).wrapping_add(n);
        self.head.popped.store(popped, Ordering::Release);
    }
}

impl<T> Deref for HeadGuard<'_, T> {
    type Target = VecDeque<T>;
    #[inline]
    fn deref(&self) -> &VecDeque<T> {
        // SAFETY: a `HeadGuard` exists only while the head lock is held by its creator.
        unsafe { &*self.head.buf.get() }
    }
}

impl<T> DerefMut for HeadGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut VecDeque<T> {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { &mut *self.head.buf.get() }
    }
}

impl<T> Drop for HeadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.head.lock.release_held();
    }
}

impl<T> Split<T> {
    pub(crate) fn new(kind: &'static str) -> Self {
        Split {
            tail: Tail {
                lock: Lock::new(),
                parked: AtomicU32::new(0),
                pushed: AtomicUsize::new(0),
                state: UnsafeCell::new(TailState {
                    buf: Vec::new(),
                    unfinished: 0,
                    shut_down: false,
                }),
            },
            head: Head {
                lock: Lock::new(),
                popped: AtomicUsize::new(0),
                buf: UnsafeCell::new(VecDeque::new()),
            },
            kind,
            anchors: [0; 3],
        }
    }

    pub(crate) fn id(&self) -> QueueId {
        QueueId::new(self.kind, self.addr())
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    fn waiters(&self) -> Waiters<'_> {
        Waiters {
            parked: &self.tail.parked,
            anchors: &self.anchors,
            object: self.addr(),
        }
    }

    #[inline]
    #[track_caller]
    fn tail_locked(&self) -> TailGuard<'_, T> {
        self.tail.lock.acquire();
        TailGuard { tail: &self.tail }
    }

    #[inline]
    #[track_caller]
    fn head_locked(&self) -> HeadGuard<'_, T> {
        self.head.lock.acquire();
        HeadGuard { head: &self.head }
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

    // ----- put -------------------------------------------------------------------------

    /// Puts `item`; hands it back if shut down. Never waits (the queue is unbounded), so
    /// `wait` and `location` (the one-lock core's arguments) are unused.
    #[inline]
    #[track_caller]
    pub(crate) fn put(
        &self,
        item: T,
        _wait: Wait,
        _location: &'static Location<'static>,
    ) -> Result<(), (T, Refused)> {
        let mut tail = self.tail_locked();
        if tail.shut_down {
            drop(tail);
            return Err((item, Refused::ShutDown));
        }
        tail.unfinished += 1;
        tail.buf.push(item);
        let pushed = self.tail.pushed.load(Ordering::Relaxed).wrapping_add(1);
        self.tail.pushed.store(pushed, Ordering::Relaxed);
        let wake = self.waiters().any(GET);
        drop(tail);
        if wake {
            self.waiters().wake_one(GET);
        }
        Ok(())
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
        match head.pop_front() {
            Some(item) => {
                head.count_taken(1);
                drop(head);
                Ok(item)
            }
            None => self.refill(head, wait, location),
        }
    }

    /// The head is empty: swaps in the tail's batch, or waits.
    #[inline(never)]
    #[track_caller]
    fn refill(
        &self,
        mut head: HeadGuard<'_, T>,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, Refused> {
        let mut tail = self.tail_locked();
        let Some(item) = next_item(&mut head, &mut tail.buf) else {
            return self.get_slow(head, tail, wait, location);
        };
        drop(tail);
        head.count_taken(1);
        drop(head);
        Ok(item)
    }

    /// Both locks held, both buffers empty: fails, or waits for an item or the shutdown.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_slow<'a>(
        &'a self,
        mut head: HeadGuard<'a, T>,
        mut tail: TailGuard<'a, T>,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, Refused> {
        let mut deadline = None;
        let mut first = true;
        let mut timed_out = false;
        loop {
            if let Some(item) = next_item(&mut head, &mut tail.buf) {
                drop(tail);
                head.count_taken(1);
                return Ok(item);
            }
            if tail.shut_down {
                return Err(Refused::ShutDown);
            }
            if first {
                first = false;
                deadline = match wait {
                    Wait::Poll => return Err(Refused::NotNow),
                    Wait::Forever => None,
                    Wait::For(d) => wait::deadline(d),
                };
            }
            // A `TimedOut` park means the deadline passed (parking_lot_core's promise).
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return Err(Refused::Timeout);
            }
            // Both locks are released in `before_sleep`, once this thread is queued.
            std::mem::forget(head);
            std::mem::forget(tail);
            let release = || {
                self.tail.lock.release_held();
                self.head.lock.release_held();
            };
            let result =
                self.waiters()
                    .park(GET, (WaitKind::QueueGet, location), deadline, release);
            timed_out = result == ParkResult::TimedOut;
            if result == ParkResult::Invalid {
                // Only chaos mode's `park` returns `Invalid` here (`validate` always
                // agrees), without running `before_sleep`: both locks are still ours.
                head = HeadGuard { head: &self.head };
                tail = TailGuard { tail: &self.tail };
            } else {
                head = self.head_locked();
                tail = self.tail_locked();
            }
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
        let deadline = match wait {
            Wait::Poll => return false,
            Wait::Forever => None,
            Wait::For(d) => wait::deadline(d),
        };
        let mut timed_out = false;
        loop {
            if tail.unfinished == 0 {
                return true;
            }
            if timed_out || deadline.is_some_and(|t| Instant::now() >= t) {
                return false;
            }
            std::mem::forget(tail);
            let release = || self.tail.lock.release_held();
            let result =
                self.waiters()
                    .park(JOIN, (WaitKind::QueueJoin, location), deadline, release);
            timed_out = result == ParkResult::TimedOut;
            tail = if result == ParkResult::Invalid {
                // As in `get_slow`: chaos mode's `Invalid` leaves the lock ours.
                TailGuard { tail: &self.tail }
            } else {
                self.tail_locked()
            };
        }
    }

    // ----- shutdown --------------------------------------------------------------------

    /// Shuts the queue down; with `immediate`, also removes (and returns) every item and marks
    /// a task done for each. Wakes every parked getter, and the joiners if the count of
    /// unfinished tasks is zero.
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
        let wake_joiners = tail.unfinished == 0 && waiters.any(JOIN);
        drop(tail);
        drop(head);
        if wake_getters {
            waiters.wake_all(GET);
        }
        if wake_joiners {
            waiters.wake_all(JOIN);
        }
        removed.map_or_else(Vec::new, |(first, then)| {
            let mut all = Vec::from(first); // reuses the buffer
            all.extend(then);
            all
        })
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
        if self.tail.lock.try_acquire() {
            let tail = TailGuard { tail: &self.tail };
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

/// The next item, with both locks held: from the head, else from the producers' buffer
/// (taking its whole batch if it has more than one item).
#[inline]
fn next_item<T>(head: &mut VecDeque<T>, tail: &mut Vec<T>) -> Option<T> {
    if let Some(item) = head.pop_front() {
        return Some(item);
    }
    if tail.len() > 1 {
        take_batch(head, tail);
        return head.pop_front();
    }
    tail.pop()
}

/// Moves the producers' batch into the empty head, in O(1), and gives the producers the
/// head's buffer (with its capacity) in exchange.
#[inline]
fn take_batch<T>(head: &mut VecDeque<T>, batch: &mut Vec<T>) {
    debug_assert!(head.is_empty());
    let spare = Vec::from(std::mem::take(head)); // empty: nothing moves
    *head = VecDeque::from(std::mem::replace(batch, spare));
}

impl<T: Send> Source<T> for Split<T> {
    fn next_blocking(&self, location: &'static Location<'static>) -> Option<T> {
        self.get(Wait::Forever, location).ok()
    }

    fn next_now(&self, location: &'static Location<'static>) -> Option<T> {
        self.get(Wait::Poll, location).ok()
    }

    fn queue_id(&self) -> QueueId {
        self.id()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn each_end_has_its_own_cache_line() {
        let q = Split::<u64>::new("Queue");
        let base = std::ptr::from_ref(&q).addr();
        assert_eq!(base % 64, 0);
        let tail_end = std::ptr::from_ref(&q.tail.state).addr() + size_of::<TailState<u64>>();
        assert!(tail_end - base <= 64, "tail: {} bytes", tail_end - base);
        let head = std::ptr::from_ref(&q.head).addr();
        assert_eq!(head - base, 64);
        let head_end = std::ptr::from_ref(&q.head.buf).addr() + size_of::<VecDeque<u64>>();
        assert!(head_end - head <= 64, "head: {} bytes", head_end - head);
    }

    #[test]
    fn wait_keys_are_distinct_from_each_other_and_the_locks() {
        let q = Split::<u8>::new("Queue");
        let locks = [q.tail.lock.addr(), q.head.lock.addr()];
        let (get, join) = (q.waiters().key(GET), q.waiters().key(JOIN));
        assert_ne!(get, join);
        assert!(!locks.contains(&get) && !locks.contains(&join));
    }

    #[test]
    fn order_survives_batches_and_shutdown_immediate_returns_both_ends() {
        let q = Split::<u32>::new("Queue");
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
        struct Show<'a>(&'a Split<u8>);
        impl fmt::Debug for Show<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug_fields(f, "Queue")
            }
        }
        let q = Split::<u8>::new("Queue");
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

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn a_timed_get_racing_a_put_gets_it_or_leaves_it_queued() {
        // Both answers must occur across the executions (the timer really races the put);
        // the item is got exactly once, and the parked bit is clear once nobody waits.
        static GOT: AtomicBool = AtomicBool::new(false);
        static TIMED_OUT: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(Split::<u32>::new("Queue"));
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
                let q = Arc::new(Split::<u32>::new("Queue"));
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
