//! What every queue core shares: how long an operation may wait ([`Wait`], and its deadline:
//! [`Wait::deadline`]), why it did not
//! happen ([`Refused`]), the iterators' view of a queue ([`Source`]), the buffers' up-front
//! reservation ([`PREALLOCATE_MAX`]), and the short spins before a lock-based core parks
//! ([`spin_until`], and a getter's [`look_until`]), and the raw lock of a queue's own
//! mutex ([`QueueLock`]).

use std::panic::Location;
use std::time::{Duration, Instant};

use super::error::QueueId;
use crate::Lock;
use crate::sync::wait::{self, EXCLUSION_PAUSES};

/// The raw lock of a queue's own lock_api mutex ([`QueueMutex`]: the bounded queue's list of
/// sleeping putters): a [`Lock`] whose unlock swaps the word free, as the queues' other locks
/// release (`Lock::release_shared`), where a `Mutex` guard's unlock subtracts. With the
/// subtraction, the bounded queue's loom models ran past ten minutes instead of five.
pub(super) struct QueueLock(Lock);

/// A mutex over [`QueueLock`].
pub(super) type QueueMutex<T> = lock_api::Mutex<QueueLock, T>;

impl QueueLock {
    /// A new, unlocked lock.
    pub(super) fn new() -> Self {
        QueueLock(Lock::new())
    }
}

// SAFETY: a guard is handed out only once the inner lock is held, and `unlock` (called only
// with that guard) releases it.
unsafe impl lock_api::RawMutex for QueueLock {
    #[cfg(not(loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: QueueLock = QueueLock(Lock::new());

    // As for `Lock`: loom's atomics cannot be built in a `const`; use `QueueLock::new`.
    #[cfg(loom)]
    const INIT: QueueLock = panic!("under loom, use QueueMutex::from_raw(QueueLock::new(), value)");

    type Guard = lock_api::GuardSend;

    #[inline]
    #[track_caller]
    fn lock(&self) -> Self::Guard {
        self.0.acquire();
        lock_api::GuardSend::new()
    }

    #[inline]
    fn try_lock(&self) -> Option<Self::Guard> {
        self.0.try_acquire().then(lock_api::GuardSend::new)
    }

    #[inline]
    unsafe fn unlock(&self, _guard: Self::Guard) {
        self.0.release_shared();
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.0.locked()
    }
}

/// The most a bounded queue's buffers reserve up front; they grow past this on demand.
pub(super) const PREALLOCATE_MAX: usize = 1024;

/// Spin rounds before a getter or putter parks: rounds `1..=SPIN_RELAX` busy-wait `2^round`
/// pause instructions, the rest yield the processor.
const SPIN_ROUNDS: u32 = 8;
const SPIN_RELAX: u32 = 4;

/// How long an operation may wait.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    /// Not at all (`try_*`, or a zero timeout).
    Poll,
    /// Until it can proceed.
    Forever,
    /// At most this long (never zero).
    For(Duration),
}

impl Wait {
    /// A timeout: zero polls.
    #[inline]
    pub(crate) fn timeout(d: Duration) -> Self {
        if d.is_zero() {
            Wait::Poll
        } else {
            Wait::For(d)
        }
    }

    /// The deadline of an operation that found it must wait: `None` if it may not
    /// (`Poll`: it refuses at once), `Some(None)` if it waits without one (`Forever`, or a
    /// timeout too large for the clock), `Some(Some(t))` if it waits until `t`.
    #[inline]
    pub(crate) fn deadline(self) -> Option<Option<Instant>> {
        match self {
            Wait::Poll => None,
            Wait::Forever => Some(None),
            Wait::For(d) => Some(wait::deadline(d)),
        }
    }
}

/// Why a put or get did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Full (put) or empty (get), and the caller would not wait.
    NotNow,
    /// The wait timed out.
    Timeout,
    /// The queue is shut down (and, for a get, empty).
    ShutDown,
}

/// The pace at which a lock-based queue of `maxsize` waits for its lock
/// (`Lock::acquire_paced`): a lock's own ([`EXCLUSION_PAUSES`]), but `SpinWait`'s (1) at
/// capacity 1 and 2, where every put waits for a get and every get for a put, and a waiter
/// that looked less often than that moved 0.6-0.9x the items.
#[inline]
pub(super) fn lock_pace(maxsize: usize) -> u32 {
    if matches!(maxsize, 1 | 2) {
        1
    } else {
        EXCLUSION_PAUSES
    }
}

/// The room a producer blocked on a full lock-based queue of `maxsize` spins (and looks) for
/// before it tries again: an eighth of the queue, at least one slot. It then refills in a
/// burst while the consumers run alone, instead of meeting them at every item of a full
/// queue; the park after the spin and the look waits for any room.
#[inline]
pub(super) fn put_slack(maxsize: usize) -> usize {
    (maxsize / 8).max(1)
}

/// Spins [`SPIN_ROUNDS`] rounds at most, until `hint` says the wait may be over.
#[inline]
pub(super) fn spin_until(hint: &impl Fn() -> bool) {
    relax_then_yield(hint, SPIN_ROUNDS - SPIN_RELAX, None);
}

/// The yields an idle getter of the two-lock core looks between after the pauses of
/// [`relax_until`], before it parks (see [`look_until`]).
const LOOK_YIELDS: u32 = 10;

/// Before an idle getter parks: the pauses of [`relax_until`], then up to [`LOOK_YIELDS`]
/// yields, until `hint` says an item came or `deadline` passes. About crossbeam-channel's
/// receivers' backoff: a consumer that sleeps after one empty look pays a wake-up (and its
/// producer the system call that wakes it) for every batch, which costs most where a cache
/// line takes long to cross between the cores.
pub(super) fn look_until(hint: &impl Fn() -> bool, deadline: Option<Instant>) {
    relax_then_yield(hint, LOOK_YIELDS, deadline);
}

/// The pauses of [`relax_until`], then up to `yields` yields, until `hint` holds or
/// `deadline` passes.
#[inline]
fn relax_then_yield(hint: &impl Fn() -> bool, yields: u32, deadline: Option<Instant>) {
    if relax_until(hint) {
        return;
    }
    for _ in 0..yields {
        std::thread::yield_now();
        if hint() || deadline.is_some_and(|t| Instant::now() >= t) {
            return;
        }
    }
}

/// Busy-waits the rounds of [`spin_until`] that pause (rounds `1..=SPIN_RELAX`, no yields),
/// until `hint` says the wait may be over; true if it did.
#[inline]
pub(super) fn relax_until(hint: &impl Fn() -> bool) -> bool {
    for round in 1..=SPIN_RELAX {
        for _ in 0..(1u32 << round) {
            std::hint::spin_loop();
        }
        if hint() {
            return true;
        }
    }
    false
}

/// The item iterators' view of a queue, whatever its order.
pub(crate) trait Source<T>: Sync {
    /// The next item, waiting for one; `None` once the queue is shut down and empty.
    fn next_blocking(&self, location: &'static Location<'static>) -> Option<T>;
    /// The next item if there is one now.
    fn next_now(&self, location: &'static Location<'static>) -> Option<T>;
    /// The queue's identity.
    fn queue_id(&self) -> QueueId;
}

/// Implements [`Source`] for a queue core by its `get` (blocking, or a poll) and its `id`:
/// `source_by_get!([generics] Core, Item);`.
macro_rules! source_by_get {
    ([$($generics:tt)*] $core:ty, $item:ty) => {
        impl<$($generics)*> $crate::queue::common::Source<$item> for $core {
            fn next_blocking(
                &self,
                location: &'static ::std::panic::Location<'static>,
            ) -> Option<$item> {
                self.get($crate::queue::common::Wait::Forever, location).ok()
            }

            fn next_now(&self, location: &'static ::std::panic::Location<'static>) -> Option<$item> {
                self.get($crate::queue::common::Wait::Poll, location).ok()
            }

            fn queue_id(&self) -> $crate::queue::error::QueueId {
                self.id()
            }
        }
    };
}
pub(super) use source_by_get;
