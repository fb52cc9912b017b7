//! A queue's wait queues, as every queue core uses them: [`Waiters`] (parking on a key per
//! kind of waiter, with a bit per key saying someone may be parked there), the bits ([`GET`],
//! [`PUT`], [`JOIN`]), and the wake helpers.

use std::panic::Location;
use std::time::Instant;

use crate::primitive::parking_lot_core::{
    self, DEFAULT_UNPARK_TOKEN, FilterOp, ParkResult, UnparkResult,
};

use super::error::{QueueId, TaskDoneError};
use crate::primitive::{AtomicU32, Ordering};
use crate::sync::wait::{self, Blocked, WaitKind, Waiting};

/// A getter may be parked on [`Waiters::key`]`(GET)`.
pub(super) const GET: u32 = 0b001;
/// A putter may be parked on [`Waiters::key`]`(PUT)`.
pub(super) const PUT: u32 = 0b010;
/// A joiner may be parked on [`Waiters::key`]`(JOIN)`.
pub(super) const JOIN: u32 = 0b100;

/// One queue's wait queues, as the queue cores use them: the bits of `parked` ([`GET`] | [`PUT`] |
/// [`JOIN`]) say "someone may be parked on that key"; the keys are the addresses of the
/// queue's anchor bytes (memory it owns, distinct from its locks' keys).
///
/// A bit is set only in a park's `validate`, with the lock that guards the waiter's condition
/// held (and the bucket lock), and cleared only under the bucket lock, when the last thread
/// queued on its key is woken or times out: so a set bit may be stale (one wasted unpark
/// call), a clear bit is never wrong.
#[derive(Clone, Copy)]
pub(super) struct Waiters<'a> {
    pub(super) parked: &'a AtomicU32,
    pub(super) anchors: &'a [u8; 3],
    /// The queue: the object in the wait records.
    pub(super) object: QueueId,
}

impl Waiters<'_> {
    /// The parking key of the waiters that `bit` stands for.
    pub(super) fn key(self, bit: u32) -> usize {
        std::ptr::from_ref(&self.anchors[bit.trailing_zeros() as usize]).addr()
    }

    /// Whether someone may be parked on `bit`'s key.
    #[inline]
    pub(super) fn any(self, bit: u32) -> bool {
        self.parked.load(Ordering::Relaxed) & bit != 0
    }

    /// Parks on `bit`'s key until woken or `deadline`, recording a `kind` wait at `location`
    /// in `waiting`: begun at the operation's first park (which counts as its contention),
    /// kept across the next ones, cleared when the caller drops it as the operation ends.
    /// The caller holds the lock that guards its condition: `validate` sets the bit under it
    /// and always agrees to sleep, and `release` gives the lock(s) up once this thread is
    /// queued (chaos mode's `park` may return `Invalid` without running it).
    pub(super) fn park(
        self,
        waiting: &mut Option<Waiting>,
        bit: u32,
        (kind, location): (WaitKind, &'static Location<'static>),
        deadline: Option<Instant>,
        release: impl FnOnce(),
    ) -> ParkResult {
        let validate = || {
            self.parked.fetch_or(bit, Ordering::Relaxed);
            true
        };
        let timed_out = |_, was_last_thread| {
            if was_last_thread {
                self.parked.fetch_and(!bit, Ordering::Relaxed);
            }
        };
        let rec = waiting.get_or_insert_with(|| {
            wait::contended(self.object);
            Waiting::begin(Blocked::on(kind, self.object, location).timed_by(deadline))
        });
        rec.park_with(self.key(bit), deadline, validate, release, timed_out)
    }

    /// Marks one task done in the count that `unfinished` finds behind the lock `held`
    /// holds (released before any wake-up); an error naming the queue (and no change) if none
    /// is unfinished. Wakes the joiners when the count reaches zero.
    pub(super) fn task_done<G>(
        self,
        mut held: G,
        unfinished: impl FnOnce(&mut G) -> &mut usize,
        id: impl FnOnce() -> QueueId,
    ) -> Result<(), TaskDoneError> {
        let count = unfinished(&mut held);
        if *count == 0 {
            drop(held);
            return Err(TaskDoneError::new(id()));
        }
        *count -= 1;
        let wake = *count == 0 && self.any(JOIN);
        drop(held);
        if wake {
            self.wake_all(JOIN);
        }
        Ok(())
    }

    /// Wakes one thread parked on `bit`'s key; clears the bit if it was the last.
    #[cold]
    #[inline(never)]
    pub(super) fn wake_one(self, bit: u32) {
        let parked = self.parked;
        let callback = |result: UnparkResult| {
            if !result.have_more_threads {
                parked.fetch_and(!bit, Ordering::Relaxed);
            }
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: the key is the address of an anchor byte the queue owns; the callback
        // neither panics nor calls into the parking lot.
        unsafe { parking_lot_core::unpark_one(self.key(bit), callback) };
    }

    /// Wakes every thread parked on `bit`'s key and clears the bit.
    #[cold]
    #[inline(never)]
    pub(super) fn wake_all(self, bit: u32) {
        let parked = self.parked;
        let callback = |_: UnparkResult| {
            parked.fetch_and(!bit, Ordering::Relaxed);
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: as in `wake_one`; the filter and callback neither panic nor call into the
        // parking lot.
        unsafe { parking_lot_core::unpark_filter(self.key(bit), |_| FilterOp::Unpark, callback) };
    }
}
