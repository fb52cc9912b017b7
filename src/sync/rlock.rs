//! [`RLock`]: a reentrant lock, as Python's `threading.RLock`, and [`ReentrantMutex<T>`], data
//! behind a reentrant lock.

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::panic::Location;
use std::sync::atomic::AtomicU64 as StdAtomicU64;
use std::time::{Duration, Instant};

use super::error::{ReleaseError, ReleaseErrorKind};
use super::held;
use super::lock::{LOCKED, Lock, OWNER_SHIFT};
use super::wait::{self, ObjectId, ObjectKind, WaitKind};
use crate::Thread;
use crate::primitive::{AtomicUsize, Ordering};
use crate::threading::record::word_holder;
use crate::threading::registry;

/// A reentrant lock, as Python's `threading.RLock`: the thread that holds it may acquire it
/// again, and must release it as many times as it acquired it; only that thread may release it.
///
/// An `RLock` is a [`Lock`] whose state word names its holder, plus a recursion count that
/// only the holder touches. Uncontended, `acquire` is one compare-exchange and the last
/// `release` one subtraction; a recursive `acquire` or an inner `release` is a plain load and
/// store.
/// None of them allocates, reads the clock or touches global state. A thread that must wait
/// spins briefly, then parks, and while parked its registry entry records the lock (as
/// [`WaitKind::RLock`]), its holder and the caller's source line (see
/// [`Thread::waiting`](crate::Thread::waiting)).
///
/// For data protected by a reentrant lock, use [`ReentrantMutex<T>`].
///
/// # Fairness
///
/// Not fair, as Python's: a releasing thread wakes one waiter, but a running thread may take
/// the lock first.
///
/// # Differences from Python
///
/// - `acquire(blocking=False)` is [`try_acquire`](RLock::try_acquire), `acquire(timeout=t)` is
///   [`acquire_timeout`](RLock::acquire_timeout); `with rlock:` is [`guard`](RLock::guard).
/// - [`release`](RLock::release) by a thread that does not hold the lock, or of an unlocked
///   lock, returns [`ReleaseError`] instead of raising `RuntimeError`.
/// - [`holder`](RLock::holder), [`is_owned`](RLock::is_owned) (Python's private `_is_owned`)
///   and [`recursion_count`](RLock::recursion_count) are public.
/// - The recursion count is a `usize`: acquiring more than `usize::MAX` times without
///   releasing panics where CPython raises `OverflowError`.
/// - A lock left held by a thread that ended stays held by that thread (its
///   [ident](crate::Thread::ident) is never reused): no later thread can release it, and
///   waiters wait forever. CPython, whose idents are reused, may hand it to a later thread.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{RLock, Thread};
///
/// let lock = Arc::new(RLock::new());
/// fn outer(lock: &RLock) -> usize {
///     let _g = lock.guard();
///     inner(lock) + 1
/// }
/// fn inner(lock: &RLock) -> usize {
///     let _g = lock.guard(); // the same thread: does not deadlock
///     lock.recursion_count()
/// }
/// assert_eq!(outer(&lock), 3);
///
/// lock.acquire();
/// let l = lock.clone();
/// let t = Thread::new(move || assert!(l.release().is_err())); // not the holder
/// t.start()?;
/// t.join()?;
/// lock.release()?;
/// assert!(!lock.locked());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
// `repr(C)`, `lock` first: the `RLock` and its `Lock` share one address (the parking key of
// its waiters), though wait records and errors name it by its own id (`ObjectKind::RLock`).
#[repr(C)]
pub struct RLock {
    /// The lock itself; its state word's owner bits name the holder.
    lock: Lock,
    /// How many times the holder has acquired it. Read and written only by the holder (the
    /// lock's Acquire/Release orderings hand it from one holder to the next), so Relaxed
    /// loads and stores suffice; atomic only so that `Debug` may read a snapshot.
    count: AtomicUsize,
    /// The holder's ident while held, else 0: a copy of the owner bits of the lock's word,
    /// written and cleared only by the holder (Relaxed, like `count`). The fast paths test
    /// it instead of loading the lock's word: a load of the word right after the
    /// compare-exchange or swap that changed it waits for that instruction to finish, and
    /// measured 1.2-1.5x parking_lot's `ReentrantMutex` pair, and 0.92x with this copy.
    ///
    /// std's atomic even under loom: no ordering matters here (a thread reads its own ident
    /// back only if it wrote it itself, and every other value it may read differs from its
    /// ident), and loom exploring its loads and stores made the RLock and Condition models
    /// run past ten minutes (stopped there) instead of seven.
    owner: StdAtomicU64,
}

impl RLock {
    /// A new, unlocked reentrant lock. `const`, so it can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static LOG: threadkit::RLock = threadkit::RLock::new();
    /// let _a = LOG.guard();
    /// let _b = LOG.guard();
    /// assert_eq!(LOG.recursion_count(), 2);
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        RLock {
            lock: Lock::new(),
            count: AtomicUsize::new(0),
            owner: StdAtomicU64::new(0),
        }
    }

    /// A new, unlocked reentrant lock.
    #[cfg(loom)]
    pub fn new() -> Self {
        RLock {
            lock: Lock::new(),
            count: AtomicUsize::new(0),
            owner: StdAtomicU64::new(0),
        }
    }

    /// A new reentrant lock named `name` (otherwise as [`new`](RLock::new)): the name shows in
    /// its [`id`](RLock::id), so in wait records, errors, thread dumps and deadlock reports.
    /// `const`; costs nothing on the fast path (the name is kept by its inner [`Lock`]).
    ///
    /// # Examples
    ///
    /// ```
    /// static LOG: threadkit::RLock = threadkit::RLock::named("log");
    /// assert_eq!(LOG.id().name(), Some("log"));
    /// ```
    #[cfg(not(loom))]
    pub const fn named(name: &'static str) -> Self {
        RLock {
            lock: Lock::named(name),
            count: AtomicUsize::new(0),
            owner: StdAtomicU64::new(0),
        }
    }

    /// A new reentrant lock named `name`.
    #[cfg(loom)]
    pub fn named(name: &'static str) -> Self {
        RLock {
            lock: Lock::named(name),
            count: AtomicUsize::new(0),
            owner: StdAtomicU64::new(0),
        }
    }

    /// Acquires the lock, blocking until it is free or already held by the calling thread
    /// (then the recursion count goes up by one).
    ///
    /// # Panics
    ///
    /// If the recursion count would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// lock.acquire();
    /// lock.acquire();
    /// assert_eq!(lock.recursion_count(), 2);
    /// lock.release()?;
    /// lock.release()?;
    /// assert!(!lock.locked());
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    // Always inlined, as `release` is: left to the compiler, two nested guards stayed four
    // calls, 1.4x the time of parking_lot's `ReentrantMutex`; inlined, 1.02-1.07x.
    #[inline(always)]
    #[track_caller]
    pub fn acquire(&self) {
        let me = registry::current_ident();
        if held::active() {
            return self.acquire_tracked(me, Location::caller());
        }
        if !self.try_acquire_fast(me, Location::caller()) {
            self.acquire_slow(None, Location::caller());
        }
    }

    /// [`acquire`](RLock::acquire) while held locks are tracked: a first level checks the
    /// lock order first (it may panic before anything is taken).
    #[cold]
    #[inline(never)]
    fn acquire_tracked(&self, me: u64, location: &'static Location<'static>) {
        if !self.owned_by(me) {
            held::acquiring(self.id(), location);
        }
        if !self.try_acquire_fast(me, location) {
            self.acquire_slow(None, location);
        }
    }

    /// Acquires the lock if it is free or already held by the calling thread, without
    /// blocking; true if it did. Python's `acquire(blocking=False)`.
    ///
    /// # Panics
    ///
    /// If the recursion count would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(threadkit::RLock::new());
    /// assert!(lock.try_acquire());
    /// assert!(lock.try_acquire()); // reentrant
    /// let l = lock.clone();
    /// let other = std::thread::spawn(move || l.try_acquire());
    /// assert!(!other.join().unwrap());
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "if false, the lock was not acquired: check it before releasing or using what it guards"]
    pub fn try_acquire(&self) -> bool {
        let me = registry::current_ident();
        self.try_acquire_fast(me, Location::caller()) || self.try_acquire_slow(Location::caller())
    }

    /// Acquires the lock, waiting at most `timeout` for another thread to release it; true if
    /// it did. Immediate if the calling thread already holds it. Zero polls once; a timeout
    /// too large for the clock waits forever. Never gives up early.
    ///
    /// # Panics
    ///
    /// If the recursion count would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// let lock = Arc::new(threadkit::RLock::new());
    /// assert!(lock.acquire_timeout(Duration::from_millis(5)));
    /// let l = lock.clone();
    /// let other = std::thread::spawn(move || l.acquire_timeout(Duration::from_millis(5)));
    /// assert!(!other.join().unwrap());
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "if false, the lock was not acquired: check it before releasing or using what it guards"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        let me = registry::current_ident();
        if self.try_acquire_fast(me, Location::caller()) {
            return true;
        }
        if timeout.is_zero() {
            return self.try_acquire_slow(Location::caller());
        }
        self.acquire_slow(wait::deadline(timeout), Location::caller())
    }

    /// Releases one level: the recursion count goes down by one, and the lock is free again
    /// when it reaches zero.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if the lock is not locked, or is held by another thread; nothing
    /// changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// lock.acquire();
    /// assert!(lock.release().is_ok());
    /// let err = lock.release().unwrap_err();
    /// assert_eq!(err.primitive(), "RLock");
    /// assert!(err.to_string().contains("release unlocked RLock"));
    /// ```
    // Always inlined: see `acquire`.
    #[inline(always)]
    pub fn release(&self) -> Result<(), ReleaseError> {
        let me = registry::current_ident();
        if self.owner.load(Ordering::Relaxed) != me {
            return self.release_slow(me, self.lock.state.load(Ordering::Relaxed));
        }
        self.release_level();
        Ok(())
    }

    /// True while the lock is held by any thread. A snapshot: it may change right after.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// assert!(!lock.locked());
    /// let _g = lock.guard();
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// True if the calling thread holds the lock: Python's `RLock._is_owned()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(threadkit::RLock::new());
    /// assert!(!lock.is_owned());
    /// lock.acquire();
    /// assert!(lock.is_owned());
    /// let l = lock.clone();
    /// assert!(!std::thread::spawn(move || l.is_owned()).join().unwrap());
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.owned_by(registry::current_ident())
    }

    /// How many times the calling thread has acquired the lock without releasing it: 0 if
    /// it does not hold it (CPython's `RLock._recursion_count()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// assert_eq!(lock.recursion_count(), 0);
    /// let _a = lock.guard();
    /// let _b = lock.guard();
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    pub fn recursion_count(&self) -> usize {
        if self.is_owned() {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// The thread that holds the lock, if it is held by a thread that is still alive. A
    /// snapshot, for diagnostics.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// assert!(lock.holder().is_none());
    /// let _g = lock.guard();
    /// assert_eq!(lock.holder(), Some(threadkit::current_thread()));
    /// ```
    pub fn holder(&self) -> Option<Thread> {
        self.lock.holder()
    }

    /// Acquires the lock and returns a guard that releases one level when dropped, also
    /// during a panic: Python's `with rlock:`.
    ///
    /// # Panics
    ///
    /// If the recursion count would overflow `usize`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// {
    ///     let _outer = lock.guard();
    ///     let _inner = lock.guard();
    ///     assert_eq!(lock.recursion_count(), 2);
    /// }
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    #[track_caller]
    pub fn guard(&self) -> RLockGuard<'_> {
        self.acquire();
        RLockGuard::new(self)
    }

    /// A guard if the lock is free or held by the calling thread, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// let a = lock.try_guard();
    /// assert!(a.is_some());
    /// assert!(lock.try_guard().is_some()); // reentrant
    /// ```
    #[inline]
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub fn try_guard(&self) -> Option<RLockGuard<'_>> {
        // `then`, not `then_some`: a guard built eagerly would release on drop.
        self.try_acquire().then(|| RLockGuard::new(self))
    }

    /// A guard if the lock could be acquired within `timeout`, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threadkit::RLock::new();
    /// let _g = lock.guard_timeout(Duration::from_millis(1)).expect("free");
    /// assert!(lock.guard_timeout(Duration::from_millis(1)).is_some()); // reentrant
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub fn guard_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_>> {
        self.acquire_timeout(timeout).then(|| RLockGuard::new(self))
    }

    /// The lock's id, as wait records and errors show it: [`ObjectKind::RLock`] and its
    /// address.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ObjectKind, RLock};
    /// let lock = RLock::new();
    /// assert_eq!(lock.id().kind(), ObjectKind::RLock);
    /// assert_eq!(lock.id().addr(), &lock as *const RLock as usize);
    /// ```
    #[inline]
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::RLock, self.addr()).named(self.lock.name())
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// The underlying lock: the key notified `Condition` waiters are requeued onto.
    pub(crate) fn raw(&self) -> &Lock {
        &self.lock
    }

    /// The recursion count, for the record of a `Condition` waiter that a notify moves onto
    /// this lock (its readers show the holder's depth).
    pub(crate) fn count_word(&self) -> &AtomicUsize {
        &self.count
    }

    /// True if thread `me` (the caller) holds the lock.
    #[inline]
    fn owned_by(&self, me: u64) -> bool {
        self.owner.load(Ordering::Relaxed) == me
    }

    /// The uncontended acquisition (one compare-exchange) and the recursive one (a load and
    /// a store). False means: take the slow path (contended, a spurious compare-exchange
    /// failure, or a caller without a thread number of its own).
    #[inline]
    fn try_acquire_fast(&self, me: u64, location: &'static Location<'static>) -> bool {
        if self.owner.load(Ordering::Relaxed) == me {
            self.count_up();
            return true;
        }
        let ok = self
            .lock
            .state
            .compare_exchange_weak(
                0,
                LOCKED | (me << OWNER_SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok();
        if ok {
            self.took(1, location);
        }
        ok
    }

    /// One more level for the holder.
    #[inline]
    fn count_up(&self) {
        let c = self.count.load(Ordering::Relaxed);
        let c = c.checked_add(1).expect("RLock recursion count overflow");
        self.count.store(c, Ordering::Relaxed);
    }

    /// The calling thread (`me`) just took the underlying lock: record it as the holder.
    #[inline]
    fn took(&self, count: usize, location: &'static Location<'static>) {
        self.count.store(count, Ordering::Relaxed);
        self.owner
            .store(registry::current_ident(), Ordering::Relaxed);
        held::acquired(|| self.id(), location);
    }

    #[cold]
    #[inline(never)]
    fn try_acquire_slow(&self, location: &'static Location<'static>) -> bool {
        if self.owned_by(registry::current_ident()) {
            self.count_up();
            return true;
        }
        if self.lock.try_acquire_raw() {
            self.took(1, location);
            return true;
        }
        false
    }

    /// Blocks (recorded as [`WaitKind::RLock`]) until the lock is taken or `deadline` passes.
    #[cold]
    #[inline(never)]
    fn acquire_slow(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        if self.owned_by(registry::current_ident()) {
            self.count_up();
            return true;
        }
        let got = self.lock.try_acquire_raw()
            || self
                .lock
                .acquire_slow_counted(WaitKind::RLock, self.id(), deadline, location, &self.count)
            // The deadline passed: one last poll, so a lock freed at the last moment counts.
            || self.lock.try_acquire_raw();
        if got {
            self.took(1, location);
        }
        got
    }

    /// Releases one level; the caller holds the lock.
    #[inline]
    fn release_level(&self) {
        let c = self.count.load(Ordering::Relaxed);
        if c > 1 {
            self.count.store(c - 1, Ordering::Relaxed);
        } else {
            self.release_all();
        }
    }

    /// Releases every level at once; the caller holds the lock.
    #[inline]
    fn release_all(&self) {
        let me = self.owner.load(Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        held::released(self.addr());
        self.lock.release_as(me);
    }

    /// A release whose quick check failed: an error, or a holder without a thread number.
    #[cold]
    #[inline(never)]
    fn release_slow(&self, me: u64, s: u64) -> Result<(), ReleaseError> {
        if s & LOCKED == 0 {
            return Err(ReleaseError::new(ReleaseErrorKind::Unlocked, self.id()));
        }
        if !self.owned_by(me) {
            return Err(ReleaseError::new(ReleaseErrorKind::NotOwner, self.id()));
        }
        self.release_level();
        Ok(())
    }

    /// For `Condition`: the recursion count, if the calling thread holds the lock.
    pub(crate) fn held_count(&self) -> Option<usize> {
        self.is_owned().then(|| self.count.load(Ordering::Relaxed))
    }

    /// For `Condition::wait`: releases every level (the caller holds the lock; it read the
    /// count with [`held_count`](Self::held_count)). Never panics.
    pub(crate) fn release_for_wait(&self) {
        self.release_all();
    }

    /// For `Condition::wait`: takes the lock again with the recursion count it had, blocking
    /// (recorded as [`WaitKind::Condition`]) while another thread holds it.
    pub(crate) fn acquire_restore(&self, count: usize, location: &'static Location<'static>) {
        if !self.lock.try_acquire_fast() {
            self.lock.acquire_slow_counted(
                WaitKind::Condition,
                self.id(),
                None,
                location,
                &self.count,
            );
        }
        self.took(count, location);
    }
}

impl Drop for RLock {
    /// Forgets the lock's place in the lock order, while lock-order checking is on (one
    /// relaxed load while it is off).
    fn drop(&mut self) {
        held::dropped(self.addr());
    }
}

impl Default for RLock {
    fn default() -> Self {
        RLock::new()
    }
}

impl fmt::Debug for RLock {
    /// `RLock { locked: true, holder: 7, count: 2 }`: never blocks. The count is a snapshot
    /// written by the holder.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock.state.load(Ordering::Relaxed);
        let mut d = f.debug_struct("RLock");
        d.field("locked", &(s & LOCKED != 0));
        if s & LOCKED != 0 {
            d.field("holder", &word_holder(s));
            d.field("count", &self.count.load(Ordering::Relaxed));
        }
        d.finish()
    }
}

/// Releases one level of its [`RLock`] when dropped (also while unwinding from a panic). Made
/// by [`RLock::guard`], [`RLock::try_guard`] and [`RLock::guard_timeout`].
///
/// Only the holder may release an `RLock`, so a guard cannot be sent to another thread
/// (`RLockGuard` is not `Send`). If the calling thread no longer holds the lock when the guard
/// drops (it released it by hand with [`RLock::release`]), the drop does nothing rather than
/// release a lock another thread may hold by now.
///
/// ```compile_fail
/// let lock: &'static threadkit::RLock = Box::leak(Box::new(threadkit::RLock::new()));
/// let g = lock.guard();
/// std::thread::spawn(move || drop(g)); // error: `RLockGuard` cannot be sent between threads
/// ```
///
/// # Examples
///
/// ```
/// let lock = threadkit::RLock::new();
/// let g = lock.guard();
/// assert!(std::ptr::eq(g.rlock(), &lock));
/// drop(g);
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    rlock: &'a RLock,
    /// Not `Send`: only the holder may release.
    _not_send: PhantomData<*const ()>,
}

impl<'a> RLockGuard<'a> {
    fn new(rlock: &'a RLock) -> Self {
        RLockGuard {
            rlock,
            _not_send: PhantomData,
        }
    }

    /// The guarded lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RLock::new();
    /// let g = lock.guard();
    /// assert!(g.rlock().is_owned());
    /// ```
    pub fn rlock(&self) -> &'a RLock {
        self.rlock
    }
}

impl Drop for RLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // Only fails if the holder released by hand meanwhile: then there is nothing to do.
        let _ = self.rlock.release();
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("rlock", self.rlock)
            .finish()
    }
}

/// The owner id of [`ReentrantMutex<T>`]: the calling thread's [ident](crate::get_ident) (one
/// thread-local load), which is never reused, also for a thread running its thread-local
/// destructors.
///
/// # Examples
///
/// ```
/// use lock_api::GetThreadId;
/// let id = threadkit::ThreadNumber::INIT.nonzero_thread_id();
/// assert_eq!(id, threadkit::ThreadNumber::INIT.nonzero_thread_id());
/// let other = std::thread::spawn(|| threadkit::ThreadNumber::INIT.nonzero_thread_id());
/// assert_ne!(id, other.join().unwrap());
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct ThreadNumber;

// SAFETY: idents are unique in the process and never reused (one counter), and a thread's
// ident, cached in a destructor-free thread-local, never changes. (On a 32-bit target the
// `usize` would repeat after 2^32 threads.)
unsafe impl lock_api::GetThreadId for ThreadNumber {
    const INIT: Self = ThreadNumber;

    #[inline]
    fn nonzero_thread_id(&self) -> NonZeroUsize {
        NonZeroUsize::new(registry::current_ident() as usize).expect("idents are never 0")
    }
}

/// A value protected by a reentrant lock: the thread that holds it may lock it again.
///
/// This is `lock_api::ReentrantMutex` over threadkit's raw [`Lock`] and [`ThreadNumber`], so
/// it has lock_api's whole API (`lock`, `try_lock`, `try_lock_for`, `is_owned_by_current_thread`,
/// `get_mut`, `into_inner`, guard mapping). Guards give shared references only (several may
/// exist on one thread); use a `Cell` or `RefCell` inside for mutation. A thread waiting for it
/// shows up in [`Thread::waiting`](crate::Thread::waiting) as waiting on the inner `Lock`.
///
/// # Differences from Python
///
/// Python has no data-carrying lock; this is an [`RLock`] around a value. No poisoning: a
/// panic while locked releases the lock.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use threadkit::ReentrantMutex;
///
/// let log = ReentrantMutex::new(RefCell::new(Vec::new()));
/// let outer = log.lock();
/// outer.borrow_mut().push("outer");
/// {
///     let inner = log.lock(); // same thread: no deadlock
///     inner.borrow_mut().push("inner");
/// }
/// drop(outer);
/// assert_eq!(*log.lock().borrow(), ["outer", "inner"]);
/// ```
pub type ReentrantMutex<T> = lock_api::ReentrantMutex<Lock, ThreadNumber, T>;

/// The guard of a [`ReentrantMutex<T>`]: derefs to `&T`, unlocks one level when dropped. Not
/// `Send`.
///
/// # Examples
///
/// ```
/// let m = threadkit::ReentrantMutex::new(5);
/// let g: threadkit::ReentrantMutexGuard<'_, i32> = m.lock();
/// assert_eq!(*g, 5);
/// ```
pub type ReentrantMutexGuard<'a, T> = lock_api::ReentrantMutexGuard<'a, Lock, ThreadNumber, T>;

/// A [`ReentrantMutexGuard`] narrowed to part of the value with `ReentrantMutexGuard::map`.
///
/// # Examples
///
/// ```
/// use threadkit::{MappedReentrantMutexGuard, ReentrantMutex, ReentrantMutexGuard};
/// let m = ReentrantMutex::new((1, "a"));
/// let s: MappedReentrantMutexGuard<'_, &str> = ReentrantMutexGuard::map(m.lock(), |v| &v.1);
/// assert_eq!(*s, "a");
/// ```
pub type MappedReentrantMutexGuard<'a, T> =
    lock_api::MappedReentrantMutexGuard<'a, Lock, ThreadNumber, T>;
