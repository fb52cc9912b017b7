//! [`Semaphore`] and [`BoundedSemaphore`]: counters of permits, as Python's.
//!
//! Both share one word of state (the permit count and a parked bit) and one slow path. A
//! permit is taken with one compare-exchange and given back with one; only a thread that finds
//! no permit parks, and only a release that sees the parked bit goes to the parking lot, where
//! it wakes at most as many waiters as it released permits.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use parking_lot_core::{FilterOp, ParkResult, SpinWait, UnparkResult};

use super::error::ReleaseError;
use super::wait::{self, Blocked, WaitKind};
use crate::primitive::{AtomicUsize, Ordering};

/// Set while threads are parked (or about to park) waiting for a permit. Cleared only under
/// the parking lot's queue lock, when the queue for this semaphore is empty.
const PARKED: usize = 0b1;
/// One permit, in the state word: the count sits above the parked bit.
const ONE: usize = 0b10;
/// The largest count the state word holds.
const MAX_VALUE: usize = usize::MAX >> 1;

/// The state and algorithms shared by [`Semaphore`] and [`BoundedSemaphore`].
struct Permits {
    /// | bits | meaning |
    /// |---|---|
    /// | 0 `PARKED` | threads are parked or about to park; set by a waiter that found no permit, cleared under the queue lock once the queue is empty |
    /// | 1.. | the number of free permits |
    ///
    /// A release adds its permits first and then, if `PARKED` was set, wakes up to that many
    /// waiters; woken waiters compete with running threads for the permits (no hand-off).
    state: AtomicUsize,
}

impl Permits {
    #[cfg(not(loom))]
    const fn new(value: usize) -> Self {
        let value = if value > MAX_VALUE { MAX_VALUE } else { value };
        Permits {
            state: AtomicUsize::new(value * ONE),
        }
    }

    #[cfg(loom)]
    fn new(value: usize) -> Self {
        Permits {
            state: AtomicUsize::new(value.min(MAX_VALUE) * ONE),
        }
    }

    #[inline]
    fn value(&self) -> usize {
        self.state.load(Ordering::Relaxed) / ONE
    }

    /// One compare-exchange when a permit is free.
    #[inline]
    fn try_acquire_fast(&self) -> bool {
        let s = self.state.load(Ordering::Relaxed);
        s >= ONE
            && self
                .state
                .compare_exchange_weak(s, s - ONE, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Takes a permit if one is free; retries only when the word changed under it.
    #[inline]
    fn try_acquire(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s >= ONE {
            match self
                .state
                .compare_exchange_weak(s, s - ONE, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(x) => s = x,
            }
        }
        false
    }

    #[inline]
    fn acquire_timeout(
        &self,
        timeout: Duration,
        object: usize,
        location: &'static Location<'static>,
    ) -> bool {
        if self.try_acquire_fast() {
            return true;
        }
        if timeout.is_zero() {
            return self.try_acquire();
        }
        self.acquire_slow(wait::deadline(timeout), object, location)
    }

    /// Adds `n` permits if the count stays within `bound`, then wakes up to `n` waiters if
    /// any are parked.
    #[inline]
    fn release(&self, n: usize, bound: usize, object: usize) -> Result<(), ReleaseError> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let new_value = match (s / ONE).checked_add(n) {
                Some(v) if v <= bound && n != 0 => v,
                _ => return Err(self.release_error(n, bound, object)),
            };
            match self.state.compare_exchange_weak(
                s,
                (new_value * ONE) | (s & PARKED),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        if s & PARKED != 0 {
            self.release_slow(n, object);
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn release_error(&self, n: usize, bound: usize, object: usize) -> ReleaseError {
        let primitive = if bound == MAX_VALUE {
            "Semaphore"
        } else {
            "BoundedSemaphore"
        };
        let reason = if n == 0 {
            "release of zero permits of"
        } else if bound == MAX_VALUE {
            "permit count overflow in"
        } else {
            "too many releases of"
        };
        ReleaseError::with_reason(primitive, object, reason)
    }

    /// Spins while nobody is parked, then parks until a permit is taken or `deadline` passes.
    /// A `None` deadline waits forever. True once a permit is taken.
    #[cold]
    #[inline(never)]
    fn acquire_slow(
        &self,
        deadline: Option<Instant>,
        object: usize,
        location: &'static Location<'static>,
    ) -> bool {
        let mut spin = SpinWait::new();
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s >= ONE {
                match self.state.compare_exchange_weak(
                    s,
                    s - ONE,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return true,
                    Err(x) => s = x,
                }
                continue;
            }
            if s & PARKED == 0 && spin.spin() {
                s = self.state.load(Ordering::Relaxed);
                continue;
            }
            if s & PARKED == 0
                && let Err(x) = self.state.compare_exchange_weak(
                    s,
                    PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
            {
                s = x;
                continue;
            }
            let on = Blocked {
                kind: WaitKind::Semaphore,
                object,
                owner: 0,
                location,
            };
            // Sleep only while there is no permit and the parked bit is still ours to rely on.
            let validate = || self.state.load(Ordering::Relaxed) == PARKED;
            let timed_out = |_, was_last_thread| {
                if was_last_thread {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
            };
            if let ParkResult::TimedOut = wait::park(object, on, deadline, validate, timed_out) {
                // The time is up: take a permit released at the last moment, else give up.
                return self.try_acquire();
            }
            spin.reset();
            s = self.state.load(Ordering::Relaxed);
        }
    }

    /// A release of `n` permits saw the parked bit: wake up to `n` waiters, and clear the bit,
    /// under the queue lock, if none remain.
    #[cold]
    #[inline(never)]
    fn release_slow(&self, n: usize, key: usize) {
        let mut woken = 0;
        let filter = |_| {
            if woken < n {
                woken += 1;
                FilterOp::Unpark
            } else {
                FilterOp::Stop
            }
        };
        let callback = |result: UnparkResult| {
            if !result.have_more_threads {
                self.state.fetch_and(!PARKED, Ordering::Relaxed);
            }
            parking_lot_core::DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: the key is our own address; neither callback panics nor calls into the
        // parking lot.
        unsafe { parking_lot_core::unpark_filter(key, filter, callback) };
    }
}

/// A semaphore, as Python's `threading.Semaphore`: a count of permits that
/// [`acquire`](Semaphore::acquire) takes (waiting while there is none) and
/// [`release`](Semaphore::release) gives back. Any thread may release, and releases are not
/// checked against the initial count (see [`BoundedSemaphore`] for that).
///
/// Taking a free permit is one compare-exchange and releasing one is another: no lock, no
/// allocation, no clock, no global state. A thread that finds no permit spins briefly, then
/// parks, and while parked [`Thread::waiting`](crate::Thread::waiting) shows it as a
/// [`WaitKind::Semaphore`] wait with the caller's source line. A release of `n` permits wakes at
/// most `n` parked threads, and none when nobody is parked.
///
/// # Fairness
///
/// Not fair, as Python's: a woken waiter competes with running threads for the released
/// permit, and may park again if one of them takes it first.
///
/// # Differences from Python
///
/// - `acquire(blocking=False)` is [`try_acquire`](Semaphore::try_acquire) and
///   `acquire(timeout=t)` is [`acquire_timeout`](Semaphore::acquire_timeout); `with sem:` is
///   [`guard`](Semaphore::guard).
/// - `Semaphore(-1)` cannot be written (the count is a `usize`); a count above
///   [`Semaphore::MAX_VALUE`] is clamped to it.
/// - `release(0)` (Python's `ValueError`) and a release that would push the count past
///   [`Semaphore::MAX_VALUE`] return a [`ReleaseError`] and change nothing.
/// - [`value`](Semaphore::value) reads the count, which Python keeps private.
///
/// # Examples
///
/// At most two workers in the section at once:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use threadkit::{Semaphore, Thread};
///
/// let pool = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let mut threads = Vec::new();
/// for _ in 0..4 {
///     let (pool, inside) = (pool.clone(), inside.clone());
///     let t = Thread::new(move || {
///         let _permit = pool.guard();
///         assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
///         inside.fetch_sub(1, Ordering::SeqCst);
///     });
///     t.start()?;
///     threads.push(t);
/// }
/// for t in threads {
///     t.join()?;
/// }
/// assert_eq!(pool.value(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Semaphore {
    permits: Permits,
}

impl Semaphore {
    /// The largest count a semaphore holds: `usize::MAX / 2`.
    pub const MAX_VALUE: usize = MAX_VALUE;

    /// A semaphore with `value` free permits. `const`, so it can be a `static`. A value above
    /// [`Semaphore::MAX_VALUE`] is clamped to it.
    ///
    /// # Examples
    ///
    /// ```
    /// static CONNECTIONS: threadkit::Semaphore = threadkit::Semaphore::new(3);
    /// assert_eq!(CONNECTIONS.value(), 3);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: usize) -> Self {
        Semaphore {
            permits: Permits::new(value),
        }
    }

    /// A semaphore with `value` free permits.
    #[cfg(loom)]
    pub fn new(value: usize) -> Self {
        Semaphore {
            permits: Permits::new(value),
        }
    }

    /// Takes a permit, waiting until one is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire(&self) {
        if !self.permits.try_acquire_fast() {
            self.permits
                .acquire_slow(None, self.addr(), Location::caller());
        }
    }

    /// Takes a permit if one is free, without waiting; true if it did. Python's
    /// `acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.permits.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`; true if it did. Zero polls once; a timeout
    /// too large for the clock waits forever. False only once the time is up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::Semaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::from_millis(5)));
    /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.permits
            .acquire_timeout(timeout, self.addr(), Location::caller())
    }

    /// Gives back `n` permits (Python's `release(n)`), waking up to `n` waiting threads. Any
    /// thread may release, whether or not it acquired.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if `n` is 0, or if the count would exceed [`Semaphore::MAX_VALUE`];
    /// the count is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(0);
    /// sem.release(2)?;
    /// assert_eq!(sem.value(), 2);
    /// assert!(sem.release(0).is_err());
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        self.permits.release(n, MAX_VALUE, self.addr())
    }

    /// The number of free permits right now. A snapshot: it may change right after.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(4);
    /// let _p = sem.guard();
    /// assert_eq!(sem.value(), 3);
    /// ```
    #[inline]
    pub fn value(&self) -> usize {
        self.permits.value()
    }

    /// Takes a permit and returns a guard that gives it back when dropped, also during a
    /// panic: Python's `with sem:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// {
    ///     let _permit = sem.guard();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub fn guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard { sem: self }
    }

    /// A guard if a permit is free right now, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// let p = sem.try_guard();
    /// assert!(p.is_some());
    /// assert!(sem.try_guard().is_none());
    /// ```
    #[inline]
    pub fn try_guard(&self) -> Option<SemaphoreGuard<'_>> {
        self.try_acquire().then(|| SemaphoreGuard { sem: self })
    }

    /// A guard if a permit could be taken within `timeout`, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::Semaphore::new(1);
    /// let _p = sem.guard_timeout(Duration::from_millis(1)).expect("free");
    /// assert!(sem.guard_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    #[track_caller]
    pub fn guard_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| SemaphoreGuard { sem: self })
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }
}

impl Default for Semaphore {
    /// `Semaphore::new(1)`, as Python's `Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    /// `Semaphore { value: 2 }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// A permit of a [`Semaphore`], given back when dropped (also while unwinding from a panic).
/// Made by [`Semaphore::guard`], [`Semaphore::try_guard`] and [`Semaphore::guard_timeout`].
///
/// Any thread may release a semaphore, so a guard may be sent to and dropped by another thread.
///
/// # Examples
///
/// ```
/// let sem = threadkit::Semaphore::new(1);
/// let p = sem.guard();
/// drop(p);
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    sem: &'a Semaphore,
}

impl SemaphoreGuard<'_> {
    /// The semaphore the permit belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// let p = sem.guard();
    /// assert!(std::ptr::eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Semaphore {
        self.sem
    }

    /// Keeps the permit: the guard goes away without giving it back, as if the permit had been
    /// taken with [`Semaphore::acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::Semaphore::new(1);
    /// sem.guard().forget();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphoreGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // Fails only if other releases pushed the count to `MAX_VALUE` meanwhile; the count
        // then stays there, which is all a release could have done.
        let _ = self.sem.release(1);
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard")
            .field("semaphore", self.sem)
            .finish()
    }
}

/// A semaphore that refuses to be released above its initial count, as Python's
/// `threading.BoundedSemaphore`: the usual guard against releasing more often than acquiring.
///
/// Same costs and behaviour as [`Semaphore`]; only [`release`](BoundedSemaphore::release)
/// differs. Blocked threads show up as [`WaitKind::Semaphore`] waits.
///
/// # Differences from Python
///
/// As for [`Semaphore`]; an over-release returns a [`ReleaseError`] (Python's `ValueError`)
/// and leaves the count unchanged. A guard's drop cannot report that error: it then gives
/// nothing back (see [`BoundedSemaphoreGuard`]).
///
/// # Examples
///
/// ```
/// let sem = threadkit::BoundedSemaphore::new(2);
/// sem.acquire();
/// sem.release(1)?;
/// let err = sem.release(1).unwrap_err();
/// assert_eq!(err.primitive(), "BoundedSemaphore");
/// assert!(err.to_string().starts_with("too many releases of BoundedSemaphore"));
/// assert_eq!(sem.value(), 2);
/// # Ok::<(), threadkit::ReleaseError>(())
/// ```
pub struct BoundedSemaphore {
    permits: Permits,
    bound: usize,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` free permits, which is also its bound. `const`, so it
    /// can be a `static`. A value above [`Semaphore::MAX_VALUE`] is clamped to it.
    ///
    /// # Examples
    ///
    /// ```
    /// static SLOTS: threadkit::BoundedSemaphore = threadkit::BoundedSemaphore::new(2);
    /// assert_eq!(SLOTS.bound(), 2);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: usize) -> Self {
        let bound = if value > MAX_VALUE { MAX_VALUE } else { value };
        BoundedSemaphore {
            permits: Permits::new(bound),
            bound,
        }
    }

    /// A bounded semaphore with `value` free permits, which is also its bound.
    #[cfg(loom)]
    pub fn new(value: usize) -> Self {
        let bound = value.min(MAX_VALUE);
        BoundedSemaphore {
            permits: Permits::new(bound),
            bound,
        }
    }

    /// Takes a permit, waiting until one is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire(&self) {
        if !self.permits.try_acquire_fast() {
            self.permits
                .acquire_slow(None, self.addr(), Location::caller());
        }
    }

    /// Takes a permit if one is free, without waiting; true if it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.permits.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`; true if it did. Zero polls once; a timeout
    /// too large for the clock waits forever. False only once the time is up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// assert!(sem.acquire_timeout(Duration::ZERO));
    /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.permits
            .acquire_timeout(timeout, self.addr(), Location::caller())
    }

    /// Gives back `n` permits, waking up to `n` waiting threads.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if `n` is 0 or if the count would exceed the
    /// [`bound`](BoundedSemaphore::bound); the count is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(3);
    /// sem.acquire();
    /// sem.acquire();
    /// assert!(sem.release(3).is_err()); // 1 + 3 > 3: refused as a whole
    /// assert_eq!(sem.value(), 1);
    /// sem.release(2)?;
    /// assert_eq!(sem.value(), 3);
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        self.permits.release(n, self.bound, self.addr())
    }

    /// The number of free permits right now. A snapshot: it may change right after.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(4);
    /// let _p = sem.guard();
    /// assert_eq!(sem.value(), 3);
    /// ```
    #[inline]
    pub fn value(&self) -> usize {
        self.permits.value()
    }

    /// The initial count, above which releases are refused.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(5);
    /// sem.acquire();
    /// assert_eq!(sem.bound(), 5);
    /// ```
    #[inline]
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Takes a permit and returns a guard that gives it back when dropped: Python's
    /// `with sem:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// {
    ///     let _permit = sem.guard();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub fn guard(&self) -> BoundedSemaphoreGuard<'_> {
        self.acquire();
        BoundedSemaphoreGuard { sem: self }
    }

    /// A guard if a permit is free right now, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// let p = sem.try_guard();
    /// assert!(p.is_some());
    /// assert!(sem.try_guard().is_none());
    /// ```
    #[inline]
    pub fn try_guard(&self) -> Option<BoundedSemaphoreGuard<'_>> {
        self.try_acquire()
            .then(|| BoundedSemaphoreGuard { sem: self })
    }

    /// A guard if a permit could be taken within `timeout`, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// let _p = sem.guard_timeout(Duration::from_millis(1)).expect("free");
    /// assert!(sem.guard_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    #[track_caller]
    pub fn guard_timeout(&self, timeout: Duration) -> Option<BoundedSemaphoreGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| BoundedSemaphoreGuard { sem: self })
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }
}

impl Default for BoundedSemaphore {
    /// `BoundedSemaphore::new(1)`, as Python's `BoundedSemaphore()`.
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl fmt::Debug for BoundedSemaphore {
    /// `BoundedSemaphore { value: 1, bound: 2 }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.bound)
            .finish()
    }
}

/// A permit of a [`BoundedSemaphore`], given back when dropped (also while unwinding).
///
/// If other threads over-released meanwhile, so that giving the permit back would exceed the
/// bound, the drop gives nothing back (a drop cannot return the [`ReleaseError`] that
/// [`BoundedSemaphore::release`] would).
///
/// # Examples
///
/// ```
/// let sem = threadkit::BoundedSemaphore::new(1);
/// let p = sem.guard();
/// assert!(sem.release(2).is_err());
/// drop(p);
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct BoundedSemaphoreGuard<'a> {
    sem: &'a BoundedSemaphore,
}

impl BoundedSemaphoreGuard<'_> {
    /// The semaphore the permit belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// let p = sem.guard();
    /// assert!(std::ptr::eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &BoundedSemaphore {
        self.sem
    }

    /// Keeps the permit: the guard goes away without giving it back.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadkit::BoundedSemaphore::new(1);
    /// sem.guard().forget();
    /// assert_eq!(sem.value(), 0);
    /// sem.release(1)?;
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for BoundedSemaphoreGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        let _ = self.sem.release(1);
    }
}

impl fmt::Debug for BoundedSemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphoreGuard")
            .field("semaphore", self.sem)
            .finish()
    }
}
