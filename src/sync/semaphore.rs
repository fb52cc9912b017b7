//! [`Semaphore`] and [`BoundedSemaphore`]: counters of permits, as Python's.
//!
//! # The algorithm
//!
//! The count is a signed number in one word: `n > 0` free permits, or `-w`: `w` threads have
//! registered as waiting and no permit is free. Taking a permit is one `fetch_sub`; if the
//! count was not positive, the thread is now a registered waiter. Giving permits back is one
//! `fetch_add`; if the count was negative, the release hands its permits (up to one per
//! registered waiter) to the waiters through a second counter, `handed`, and wakes exactly
//! that many parked threads. A waiter takes a handed permit with a compare-exchange; a waiter
//! whose time is up either takes a handed permit, if there is one, or unregisters (one
//! unserved waiter fewer). So at every moment: registered waiters = unserved (`-count`, when
//! negative) + `handed`; no permit is ever lost or counted twice, no wake-up is spent on a
//! thread that will not get a permit (unless another waiter took it first), and a running
//! thread cannot take a permit that a release meant for a waiting one.
//!
//! The non-blocking forms (`try_acquire`, a zero timeout) and the bounded release use a
//! compare-exchange on the count instead, so they never register and their checks are exact.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::primitive::parking_lot_core::{self, FilterOp, ParkResult, SpinWait};

use super::error::{ReleaseError, ReleaseErrorKind};
use super::wait::{self, Blocked, ObjectId, ObjectKind, WaitKind, Waiting};
use crate::primitive::{AtomicUsize, Ordering};

/// The wait record of a semaphore acquisition: the one place this file builds one.
fn blocked(object: ObjectId, location: &'static Location<'static>) -> Blocked {
    Blocked::on(WaitKind::Semaphore, object, location)
}

/// The largest count a semaphore holds.
const MAX_VALUE: usize = (isize::MAX as usize) >> 1;
/// Releases of at most this many permits use a `fetch_add` (then check the limit and undo);
/// larger ones a compare-exchange. Up to 2^20 concurrent small releases on top of
/// `MAX_VALUE` still fit in the word before they undo themselves.
const SMALL_RELEASE: usize = MAX_VALUE >> 20;

/// The count word read as a signed number.
#[inline]
fn signed(c: usize) -> isize {
    c as isize
}

/// The state and algorithms shared by [`Semaphore`] and [`BoundedSemaphore`].
struct Permits {
    /// The count, two's complement: `n >= 0` free permits, or `-w` when `w` registered waiters
    /// have not been handed a permit yet.
    count: AtomicUsize,
    /// Permits handed by releases to registered waiters and not yet taken by one.
    handed: AtomicUsize,
}

impl Permits {
    #[cfg(not(loom))]
    const fn new(value: usize) -> Self {
        let value = if value > MAX_VALUE { MAX_VALUE } else { value };
        Permits {
            count: AtomicUsize::new(value),
            handed: AtomicUsize::new(0),
        }
    }

    #[cfg(loom)]
    fn new(value: usize) -> Self {
        Permits {
            count: AtomicUsize::new(value.min(MAX_VALUE)),
            handed: AtomicUsize::new(0),
        }
    }

    #[inline]
    fn value(&self) -> usize {
        signed(self.count.load(Ordering::Relaxed)).max(0) as usize
    }

    /// Takes a permit or registers the caller as a waiter: one `fetch_sub`. True if it took
    /// one; false means the caller must now [`wait`](Permits::wait).
    #[inline]
    fn take_or_register(&self) -> bool {
        signed(self.count.fetch_sub(1, Ordering::Acquire)) > 0
    }

    /// Takes a permit if one is free, without registering; retries only when the count
    /// changed under it.
    #[inline]
    fn try_acquire(&self) -> bool {
        let mut c = self.count.load(Ordering::Relaxed);
        while signed(c) > 0 {
            match self
                .count
                .compare_exchange_weak(c, c - 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(x) => c = x,
            }
        }
        false
    }

    /// Takes a permit, waiting until one is free. `object` names the semaphore; it is called
    /// only off the fast paths (a built id passed down would be built on every call).
    #[inline]
    fn acquire(&self, object: impl Fn() -> ObjectId, location: &'static Location<'static>) {
        if !self.take_or_register() {
            self.wait(None, object, location);
        }
    }

    /// Takes a permit, waiting at most `timeout` (zero polls); true if it did.
    #[inline]
    fn acquire_timeout(
        &self,
        timeout: Duration,
        object: impl Fn() -> ObjectId,
        location: &'static Location<'static>,
    ) -> bool {
        if timeout.is_zero() {
            return self.try_acquire();
        }
        self.take_or_register() || self.wait(wait::deadline(timeout), object, location)
    }

    /// Gives back `n` permits, within `MAX_VALUE`: a `fetch_add` for small `n`.
    #[inline]
    fn release(&self, n: usize, object: impl Fn() -> ObjectId) -> Result<(), ReleaseError> {
        if n == 0 || n > SMALL_RELEASE {
            return self.release_checked(n, MAX_VALUE, object);
        }
        let old = signed(self.count.fetch_add(n, Ordering::Release));
        if old > (MAX_VALUE - n) as isize {
            return Err(self.undo_release(n, object));
        }
        if old < 0 {
            self.hand_over(n.min(old.unsigned_abs()), object().addr());
        }
        Ok(())
    }

    /// Gives back `n` permits if the count stays within `bound`: one compare-exchange when
    /// uncontended. Exact: the count never exceeds `bound`, even for a moment.
    #[inline]
    fn release_checked(
        &self,
        n: usize,
        bound: usize,
        object: impl Fn() -> ObjectId,
    ) -> Result<(), ReleaseError> {
        let mut c = self.count.load(Ordering::Relaxed);
        loop {
            let free = signed(c).max(0) as usize;
            if n == 0 || free.saturating_add(n) > bound {
                return Err(self.release_error(n, bound, object()));
            }
            match self.count.compare_exchange_weak(
                c,
                c.wrapping_add(n),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(x) => c = x,
            }
        }
        if signed(c) < 0 {
            self.hand_over(n.min(signed(c).unsigned_abs()), object().addr());
        }
        Ok(())
    }

    /// A small release pushed the count past `MAX_VALUE`: take the permits back out. Threads
    /// that took some meanwhile took them from more than `MAX_VALUE - SMALL_RELEASE` real
    /// ones, so the count stays far above zero.
    #[cold]
    #[inline(never)]
    fn undo_release(&self, n: usize, object: impl FnOnce() -> ObjectId) -> ReleaseError {
        self.count.fetch_sub(n, Ordering::Relaxed);
        self.release_error(n, MAX_VALUE, object())
    }

    #[cold]
    #[inline(never)]
    fn release_error(&self, n: usize, bound: usize, object: ObjectId) -> ReleaseError {
        let kind = if n == 0 {
            ReleaseErrorKind::Zero
        } else if bound == MAX_VALUE {
            ReleaseErrorKind::Overflow
        } else {
            ReleaseErrorKind::OverRelease
        };
        ReleaseError::new(kind, object)
    }

    /// Takes a permit handed to a waiter, if there is one.
    #[inline]
    fn take_handed(&self) -> bool {
        let mut h = self.handed.load(Ordering::Relaxed);
        while h > 0 {
            match self
                .handed
                .compare_exchange_weak(h, h - 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(x) => h = x,
            }
        }
        false
    }

    /// A registered waiter waits for a handed permit until `deadline` (`None`: forever).
    /// True once it took one; false once the time is up and it unregistered.
    #[cold]
    #[inline(never)]
    fn wait(
        &self,
        deadline: Option<Instant>,
        object: impl FnOnce() -> ObjectId,
        location: &'static Location<'static>,
    ) -> bool {
        let object = object();
        wait::contended(object);
        let mut spin = SpinWait::new();
        let mut waiting: Option<Waiting> = None;
        let mut looked = false;
        // Sleep only while nothing is handed: a release adds to `handed` before it wakes.
        let validate = || self.handed.load(Ordering::Relaxed) == 0;
        loop {
            if self.take_handed() {
                return true;
            }
            if deadline.is_some_and(|t| Instant::now() >= t) {
                return self.give_up();
            }
            if spin.spin() {
                continue;
            }
            if !std::mem::replace(&mut looked, true)
                && wait::look_before_sleep(deadline, || !validate())
            {
                continue;
            }
            let rec = waiting.get_or_insert_with(|| {
                Waiting::begin(blocked(object, location).timed_by(deadline))
            });
            // `TimedOut` means the deadline passed (parking_lot_core checks the clock): give
            // up now rather than reading the clock again, which is also what lets the loom
            // models (whose deadlines fire without the clock moving) reach `give_up`.
            let park = || rec.park(object.addr(), deadline, validate, |_, _| {});
            if wait::adapting(park) == ParkResult::TimedOut {
                return self.give_up();
            }
        }
    }

    /// The time is up for a registered waiter: unregister, unless a permit was handed to the
    /// waiters meanwhile (then take it: true).
    #[cold]
    fn give_up(&self) -> bool {
        let mut spin = SpinWait::new();
        loop {
            if self.take_handed() {
                return true;
            }
            let c = self.count.load(Ordering::Relaxed);
            if signed(c) < 0 {
                // One unserved waiter fewer: that is us, waiters being interchangeable.
                if self
                    .count
                    .compare_exchange_weak(
                        c,
                        c.wrapping_add(1),
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok()
                {
                    return false;
                }
                continue;
            }
            // Every registered waiter, us included, has been served: a release is between its
            // `fetch_add` and its `handed` update. Our permit is a moment away.
            if !spin.spin() {
                // Under loom, loom's yield: a std yield would be a spin loop loom cannot end.
                #[cfg(not(loom))]
                std::thread::yield_now();
                #[cfg(loom)]
                loom::thread::yield_now();
            }
        }
    }

    /// A release found `w` registered waiters unserved: hand them a permit each and wake that
    /// many parked threads.
    #[cold]
    #[inline(never)]
    fn hand_over(&self, w: usize, key: usize) {
        self.handed.fetch_add(w, Ordering::Release);
        let mut woken = 0;
        let filter = |_| {
            if woken < w {
                woken += 1;
                FilterOp::Unpark
            } else {
                FilterOp::Stop
            }
        };
        // SAFETY: the key is the semaphore's own address; neither callback panics nor calls
        // into the parking lot.
        unsafe {
            parking_lot_core::unpark_filter(key, filter, |_| parking_lot_core::DEFAULT_UNPARK_TOKEN)
        };
    }
}

/// A semaphore, as Python's `threading.Semaphore`: a count of permits that
/// [`acquire`](Semaphore::acquire) takes (waiting while there is none) and
/// [`release`](Semaphore::release) gives back. Any thread may release, and releases are not
/// checked against the initial count (see [`BoundedSemaphore`] for that).
///
/// Taking a free permit is one atomic `fetch_sub` and releasing one is one `fetch_add`: no
/// lock, no allocation, no clock, no global state. A thread that finds no permit spins
/// briefly (and, where its recent waits were answered within tens of microseconds, yields
/// and looks for up to 64 µs), then parks, and while parked
/// [`Thread::waiting`](crate::Thread::waiting) shows it as a [`WaitKind::Semaphore`] wait
/// with the caller's source line. A release of `n` permits wakes at most `n` parked threads,
/// and none when nobody waits.
///
/// # Fairness
///
/// Permits released while threads wait are handed to the waiters rather than freed, so a
/// `try_acquire` (or the fast path of `acquire`) cannot take them first. Among the waiters the
/// order is not FIFO: a thread that calls `acquire` just after the release registers as a
/// waiter and may take a handed permit before the woken thread runs, so a waiter is not
/// protected from starvation by newer waiters. No permit is lost either way. (Python's
/// semaphore lets any running thread take a permit first.)
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
    /// The name given by `named`, shown in ids, records and dumps; never read on a fast path.
    name: Option<&'static str>,
}

impl Semaphore {
    /// The largest count a semaphore holds: `usize::MAX / 4`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Semaphore;
    ///
    /// assert_eq!(Semaphore::MAX_VALUE, usize::MAX / 4);
    /// let sem = Semaphore::new(usize::MAX); // clamped
    /// assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    /// let err = sem.release(1).unwrap_err(); // no room for one more
    /// assert!(err.to_string().starts_with("permit count overflow in Semaphore"));
    /// assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    /// ```
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
            name: None,
        }
    }

    /// A semaphore with `value` free permits.
    #[cfg(loom)]
    pub fn new(value: usize) -> Self {
        Semaphore {
            permits: Permits::new(value),
            name: None,
        }
    }

    /// A new Semaphore named `name` (otherwise as [`new`](Semaphore::new)): the name shows in its
    /// [`id`](Semaphore::id), so in wait records, errors, thread dumps and deadlock reports. Costs
    /// nothing on the fast path.
    ///
    /// # Examples
    ///
    /// ```
    /// static CONNECTIONS: threadkit::Semaphore = threadkit::Semaphore::named(3, "connections");
    /// assert_eq!(CONNECTIONS.id().name(), Some("connections"));
    /// assert_eq!(CONNECTIONS.value(), 3);
    /// ```
    #[cfg(not(loom))]
    pub const fn named(value: usize, name: &'static str) -> Self {
        let mut this = Self::new(value);
        this.name = Some(name);
        this
    }

    /// A new Semaphore named `name`.
    #[cfg(loom)]
    pub fn named(value: usize, name: &'static str) -> Self {
        let mut this = Self::new(value);
        this.name = Some(name);
        this
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
        self.permits.acquire(|| self.id(), Location::caller());
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
    #[must_use = "if false, no permit was taken: check it before releasing one"]
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
    #[must_use = "if false, no permit was taken: check it before releasing one"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.permits
            .acquire_timeout(timeout, || self.id(), Location::caller())
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
        self.permits.release(n, || self.id())
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
    #[must_use = "the permit is given back as soon as the guard is dropped"]
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
    #[must_use = "the permit is given back as soon as the guard is dropped"]
    pub fn guard_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| SemaphoreGuard { sem: self })
    }

    /// The semaphore's id, as wait records and errors show it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Semaphore, ObjectKind};
    /// let sem = Semaphore::new(1);
    /// assert_eq!(sem.id().kind(), ObjectKind::Semaphore);
    /// assert_eq!(sem.release(0).unwrap_err().object(), sem.id());
    /// ```
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::Semaphore, self.addr()).named(self.name)
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
/// Same behaviour as [`Semaphore`], except [`release`](BoundedSemaphore::release), which is a
/// compare-exchange (one when uncontended) so that the count never exceeds the bound, even
/// for a moment. Blocked threads show up as [`WaitKind::Semaphore`] waits.
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
    /// The name given by `named`, shown in ids, records and dumps; never read on a fast path.
    name: Option<&'static str>,
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
            name: None,
        }
    }

    /// A bounded semaphore with `value` free permits, which is also its bound.
    #[cfg(loom)]
    pub fn new(value: usize) -> Self {
        let bound = value.min(MAX_VALUE);
        BoundedSemaphore {
            permits: Permits::new(bound),
            bound,
            name: None,
        }
    }

    /// A new BoundedSemaphore named `name` (otherwise as [`new`](BoundedSemaphore::new)): the name shows in its
    /// [`id`](BoundedSemaphore::id), so in wait records, errors, thread dumps and deadlock reports. Costs
    /// nothing on the fast path.
    ///
    /// # Examples
    ///
    /// ```
    /// static SLOTS: threadkit::BoundedSemaphore = threadkit::BoundedSemaphore::named(2, "slots");
    /// assert_eq!(SLOTS.id().name(), Some("slots"));
    /// assert_eq!(SLOTS.bound(), 2);
    /// ```
    #[cfg(not(loom))]
    pub const fn named(value: usize, name: &'static str) -> Self {
        let mut this = Self::new(value);
        this.name = Some(name);
        this
    }

    /// A new BoundedSemaphore named `name`.
    #[cfg(loom)]
    pub fn named(value: usize, name: &'static str) -> Self {
        let mut this = Self::new(value);
        this.name = Some(name);
        this
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
        self.permits.acquire(|| self.id(), Location::caller());
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
    #[must_use = "if false, no permit was taken: check it before releasing one"]
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
    #[must_use = "if false, no permit was taken: check it before releasing one"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.permits
            .acquire_timeout(timeout, || self.id(), Location::caller())
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
        self.permits.release_checked(n, self.bound, || self.id())
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
    #[must_use = "the permit is given back as soon as the guard is dropped"]
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
    #[must_use = "the permit is given back as soon as the guard is dropped"]
    pub fn guard_timeout(&self, timeout: Duration) -> Option<BoundedSemaphoreGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| BoundedSemaphoreGuard { sem: self })
    }

    /// The semaphore's id, as wait records and errors show it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{BoundedSemaphore, ObjectKind};
    /// let sem = BoundedSemaphore::new(1);
    /// assert_eq!(sem.id().kind(), ObjectKind::BoundedSemaphore);
    /// assert_eq!(sem.release(0).unwrap_err().object(), sem.id());
    /// ```
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::BoundedSemaphore, self.addr()).named(self.name)
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

/// loom models of a timed acquire racing a release, with deadlines that may fire at any point
/// (only the crate can make them fire: see `primitive::park_loom::with_firing_deadlines`).
/// The untimed models are in `tests/loom_semaphore_event.rs`. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib sync::semaphore`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::sync::Arc;
    use loom::thread;

    use super::{BoundedSemaphore, Semaphore};
    use crate::primitive::Ordering;
    use crate::primitive::park_loom::with_firing_deadlines;

    #[test]
    fn a_timeout_racing_a_release_conserves_the_permit() {
        // The timed acquirer gets the released permit or gives up; either way the permit is
        // counted exactly once: it holds it, or the semaphore does. Across all executions
        // both outcomes occur (the timer really races the release).
        static GOT: AtomicBool = AtomicBool::new(false);
        static GAVE_UP: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let sem = Arc::new(Semaphore::new(0));
                let s2 = sem.clone();
                let t = thread::spawn(move || s2.acquire_timeout(Duration::from_secs(3600)));
                // A slow releaser (loom runs a yielding spinner last: see the Event models).
                thread::yield_now();
                thread::yield_now();
                sem.release(1).unwrap();
                let got = t.join().unwrap();
                if got {
                    GOT.store(true, StdOrdering::Relaxed);
                    assert_eq!(sem.value(), 0, "the permit went to the acquirer");
                } else {
                    GAVE_UP.store(true, StdOrdering::Relaxed);
                    assert_eq!(sem.value(), 1, "the permit stayed with the semaphore");
                }
                assert_eq!(
                    sem.permits.handed.load(Ordering::Relaxed),
                    0,
                    "no permit left handed"
                );
                assert_eq!(sem.permits.count.load(Ordering::Relaxed), usize::from(!got));
            });
        });
        assert!(GOT.load(StdOrdering::Relaxed), "the release never won");
        assert!(GAVE_UP.load(StdOrdering::Relaxed), "the deadline never won");
    }

    #[test]
    fn a_timeout_never_strands_an_untimed_acquirer() {
        // A timed and an untimed acquirer of a BoundedSemaphore(1) held by the main thread;
        // one release. The untimed one must get a permit in the end: from the release, or
        // from the timed one (which gives it back) when that one got it first.
        with_firing_deadlines(|| {
            let mut builder = loom::model::Builder::new();
            if builder.preemption_bound.is_none() {
                builder.preemption_bound = Some(2);
            }
            builder.check(|| {
                let sem = Arc::new(BoundedSemaphore::new(1));
                sem.acquire();
                let s1 = sem.clone();
                let timed = thread::spawn(move || {
                    if s1.acquire_timeout(Duration::from_secs(3600)) {
                        s1.release(1).unwrap();
                    }
                });
                let s2 = sem.clone();
                let plain = thread::spawn(move || {
                    s2.acquire();
                    s2.release(1).unwrap();
                });
                thread::yield_now();
                sem.release(1).unwrap();
                timed.join().unwrap();
                plain.join().unwrap();
                assert_eq!(sem.value(), 1, "permits conserved");
                assert_eq!(sem.permits.handed.load(Ordering::Relaxed), 0);
            });
        });
    }
}

/// Owned permits: a permit that holds an `Arc` of its semaphore instead of a borrow, so it can
/// move into a `'static` thread or be stored (tokio's `OwnedSemaphorePermit` shape). They take
/// and give back permits through the methods above, so their waits are recorded the same way.
impl Semaphore {
    /// Takes a permit, waiting until one is free, and returns it owned: call it on a clone of
    /// the `Arc` (`sem.clone().acquire_owned()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::Semaphore;
    ///
    /// let pool = Arc::new(Semaphore::new(2));
    /// let permit = pool.clone().acquire_owned();
    /// assert_eq!(pool.value(), 1);
    /// let h = threadkit::spawn(move || {
    ///     let _held = permit; // the permit lives in the thread, given back when it ends
    ///     "worked"
    /// });
    /// assert_eq!(h.join()?, "worked");
    /// assert_eq!(pool.value(), 2);
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
        self.acquire();
        OwnedSemaphorePermit {
            sem: self,
            kept: false,
        }
    }

    /// An owned permit if one is free right now, else `None` (the `Arc` clone is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(threadkit::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned();
    /// assert!(p.is_some());
    /// assert!(sem.clone().try_acquire_owned().is_none());
    /// assert_eq!(Arc::strong_count(&sem), 2); // `sem` and the permit
    /// ```
    #[inline]
    pub fn try_acquire_owned(self: Arc<Self>) -> Option<OwnedSemaphorePermit> {
        self.try_acquire().then(move || OwnedSemaphorePermit {
            sem: self,
            kept: false,
        })
    }

    /// An owned permit if one could be taken within `timeout`, else `None`. Zero polls once;
    /// never gives up early.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let sem = Arc::new(threadkit::Semaphore::new(1));
    /// let _p = sem.clone().acquire_owned_timeout(Duration::from_millis(1)).expect("free");
    /// assert!(sem.clone().acquire_owned_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_owned_timeout(
        self: Arc<Self>,
        timeout: Duration,
    ) -> Option<OwnedSemaphorePermit> {
        self.acquire_timeout(timeout)
            .then(move || OwnedSemaphorePermit {
                sem: self,
                kept: false,
            })
    }
}

/// A permit of a [`Semaphore`] that owns an `Arc` of it: `Send` and `'static`, given back when
/// dropped (also while unwinding). Made by [`Semaphore::acquire_owned`],
/// [`try_acquire_owned`](Semaphore::try_acquire_owned) and
/// [`acquire_owned_timeout`](Semaphore::acquire_owned_timeout).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// let sem = Arc::new(threadkit::Semaphore::new(1));
/// let p: threadkit::OwnedSemaphorePermit = sem.clone().acquire_owned();
/// assert!(Arc::ptr_eq(p.semaphore(), &sem));
/// drop(p);
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    /// Set by `forget`: the drop then gives nothing back.
    kept: bool,
}

impl OwnedSemaphorePermit {
    /// The semaphore the permit belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(threadkit::Semaphore::new(3));
    /// let p = sem.clone().acquire_owned();
    /// assert_eq!(p.semaphore().value(), 2);
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Keeps the permit: it goes away without giving the permit back, as if taken with
    /// [`Semaphore::acquire`]. Returns the semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(threadkit::Semaphore::new(1));
    /// let back = sem.clone().acquire_owned().forget();
    /// assert_eq!(back.value(), 0);
    /// ```
    pub fn forget(mut self) -> Arc<Semaphore> {
        self.kept = true;
        self.sem.clone()
    }
}

impl Drop for OwnedSemaphorePermit {
    #[inline]
    fn drop(&mut self) {
        // As `SemaphoreGuard`: fails only if other releases pushed the count to its maximum.
        if !self.kept {
            let _ = self.sem.release(1);
        }
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("semaphore", &*self.sem)
            .finish()
    }
}

/// Owned permits of a [`BoundedSemaphore`], as for [`Semaphore`]: see
/// [`OwnedBoundedSemaphorePermit`].
impl BoundedSemaphore {
    /// Takes a permit, waiting until one is free, and returns it owned
    /// (`sem.clone().acquire_owned()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(threadkit::BoundedSemaphore::new(1));
    /// let permit = sem.clone().acquire_owned();
    /// threadkit::spawn(move || drop(permit)).join()?;
    /// assert_eq!(sem.value(), 1);
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_owned(self: Arc<Self>) -> OwnedBoundedSemaphorePermit {
        self.acquire();
        OwnedBoundedSemaphorePermit {
            sem: self,
            kept: false,
        }
    }

    /// An owned permit if one is free right now, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(threadkit::BoundedSemaphore::new(1));
    /// let _p = sem.clone().try_acquire_owned().expect("free");
    /// assert!(sem.clone().try_acquire_owned().is_none());
    /// ```
    #[inline]
    pub fn try_acquire_owned(self: Arc<Self>) -> Option<OwnedBoundedSemaphorePermit> {
        self.try_acquire()
            .then(move || OwnedBoundedSemaphorePermit {
                sem: self,
                kept: false,
            })
    }

    /// An owned permit if one could be taken within `timeout`, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let sem = Arc::new(threadkit::BoundedSemaphore::new(1));
    /// let _p = sem.clone().acquire_owned_timeout(Duration::ZERO).expect("free");
    /// assert!(sem.clone().acquire_owned_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire_owned_timeout(
        self: Arc<Self>,
        timeout: Duration,
    ) -> Option<OwnedBoundedSemaphorePermit> {
        self.acquire_timeout(timeout)
            .then(move || OwnedBoundedSemaphorePermit {
                sem: self,
                kept: false,
            })
    }
}

/// A permit of a [`BoundedSemaphore`] that owns an `Arc` of it, given back when dropped. As
/// [`BoundedSemaphoreGuard`], a drop that would exceed the bound (the count was raised by
/// releases meanwhile) gives nothing back.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// let sem = Arc::new(threadkit::BoundedSemaphore::new(2));
/// let p: threadkit::OwnedBoundedSemaphorePermit = sem.clone().acquire_owned();
/// assert_eq!(p.semaphore().value(), 1);
/// drop(p);
/// assert_eq!(sem.value(), 2);
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedBoundedSemaphorePermit {
    sem: Arc<BoundedSemaphore>,
    /// Set by `forget`: the drop then gives nothing back.
    kept: bool,
}

impl OwnedBoundedSemaphorePermit {
    /// The semaphore the permit belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(threadkit::BoundedSemaphore::new(1));
    /// let p = sem.clone().acquire_owned();
    /// assert!(Arc::ptr_eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<BoundedSemaphore> {
        &self.sem
    }

    /// Keeps the permit: it goes away without giving the permit back. Returns the semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(threadkit::BoundedSemaphore::new(1));
    /// let back = sem.clone().acquire_owned().forget();
    /// assert_eq!(back.value(), 0);
    /// back.release(1)?;
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    pub fn forget(mut self) -> Arc<BoundedSemaphore> {
        self.kept = true;
        self.sem.clone()
    }
}

impl Drop for OwnedBoundedSemaphorePermit {
    #[inline]
    fn drop(&mut self) {
        if !self.kept {
            let _ = self.sem.release(1);
        }
    }
}

impl fmt::Debug for OwnedBoundedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedBoundedSemaphorePermit")
            .field("semaphore", &*self.sem)
            .finish()
    }
}
