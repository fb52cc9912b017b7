//! [`Condition`]: a condition variable bound to a [`Lock`] or an [`RLock`], as Python's
//! `threading.Condition`.
//!
//! # How it works
//!
//! A waiter checks that it holds the lock, counts itself in `waiters`, and parks on the
//! condition's key through the crate's one wait path; the lock is released only once the
//! waiter is in the parking lot's queue (`park_with`'s `before_sleep`), so a notify sent right
//! after the release cannot be missed. An `RLock` held recursively is released all the way
//! down and its count restored afterwards.
//!
//! A notifier holds the lock, so a notified waiter could not take it yet anyway: instead of
//! waking it, `notify` moves it from the condition's queue onto the lock's queue (parking_lot's
//! requeue) and sets the lock's `PARKED` bit, so the notifier's release wakes it with the lock
//! free. One wake-up per notified waiter, no thundering herd on `notify_all`. A waiter woken
//! either way takes the lock back before `wait` returns, even after a timeout.
//!
//! `waiters` counts the threads in the condition's queue. It goes up under the lock before a
//! waiter enqueues, and down under the parking lot's queue lock when a waiter is notified or
//! times out; a notifier, which holds the lock, therefore sees every waiter that entered before
//! it, and `notify` with no waiter costs a thread-local read and two loads.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::primitive::parking_lot_core::{
    self, DEFAULT_UNPARK_TOKEN, ParkResult, RequeueOp, UnparkResult,
};

use super::condvar::WaitTimeoutResult;
use super::error::{ReleaseError, current_name};
use super::held;
use super::lock::{Lock, LockGuard};
use super::rlock::{RLock, RLockGuard};
use super::wait::{self, Blocked, ObjectId, ObjectKind, WaitKind, Waiting};
use crate::primitive::{AtomicUsize, Ordering};
use crate::threading::registry;

mod sealed {
    use std::panic::Location;

    use crate::sync::lock::Lock;
    use crate::sync::wait::ObjectId;

    /// What [`Condition`](super::Condition) needs from its lock; implemented by `Lock` and
    /// `RLock` only.
    pub trait Sealed {
        /// The lock's id, as wait records show it.
        fn object_id(&self) -> ObjectId;
        /// The underlying raw lock: its address is the key waiters are requeued onto.
        fn raw(&self) -> &Lock;
        /// The lock's recursion count (an `RLock`'s), null for a `Lock`: a requeued waiter's
        /// record reads its holder's depth from it.
        fn count_word(&self) -> *const crate::primitive::AtomicUsize;
        /// The count to restore after a wait, if the calling thread holds the lock.
        fn held_count(&self) -> Option<usize>;
        /// Whether the calling thread holds the lock.
        fn is_held(&self) -> bool;
        /// Releases the lock completely. The caller holds it. Must not panic or park.
        fn release_for_wait(&self);
        /// Takes the lock back with `count` levels, blocking as a `Condition` wait.
        fn acquire_restore(&self, count: usize, location: &'static Location<'static>);
    }
}

/// A lock a [`Condition`] can be bound to: [`Lock`] or [`RLock`] (sealed: no other type can
/// implement it).
///
/// # Examples
///
/// ```
/// use threadkit::{ConditionLock, Lock, RLock};
///
/// fn with_guard<L: ConditionLock>(lock: &L) -> bool {
///     let _g = lock.guard();
///     true
/// }
/// assert!(with_guard(&Lock::new()));
/// assert!(with_guard(&RLock::new()));
/// ```
pub trait ConditionLock: sealed::Sealed + fmt::Debug + Send + Sync {
    /// The guard [`guard`](ConditionLock::guard) returns: [`LockGuard`] or [`RLockGuard`].
    type Guard<'a>
    where
        Self: 'a;

    /// Acquires the lock, blocking ([`Lock::acquire`], [`RLock::acquire`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ConditionLock, Lock};
    /// let lock = Lock::new();
    /// ConditionLock::acquire(&lock);
    /// assert!(ConditionLock::locked(&lock));
    /// ```
    #[track_caller]
    fn acquire(&self);

    /// Acquires the lock if that needs no waiting; true if it did.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ConditionLock, RLock};
    /// let lock = RLock::new();
    /// assert!(ConditionLock::try_acquire(&lock));
    /// assert!(ConditionLock::try_acquire(&lock)); // reentrant
    /// ```
    fn try_acquire(&self) -> bool;

    /// Acquires the lock, waiting at most `timeout`; true if it did.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::{ConditionLock, Lock};
    /// let lock = Lock::new();
    /// assert!(ConditionLock::acquire_timeout(&lock, Duration::from_millis(1)));
    /// assert!(!ConditionLock::acquire_timeout(&lock, Duration::from_millis(1)));
    /// ```
    #[track_caller]
    fn acquire_timeout(&self, timeout: Duration) -> bool;

    /// Releases the lock (one level of an `RLock`).
    ///
    /// # Errors
    ///
    /// [`ReleaseError`]: not locked, or (`RLock`) held by another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ConditionLock, RLock};
    /// assert!(ConditionLock::release(&RLock::new()).is_err());
    /// ```
    fn release(&self) -> Result<(), ReleaseError>;

    /// True while the lock is held by any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ConditionLock, Lock};
    /// assert!(!ConditionLock::locked(&Lock::new()));
    /// ```
    fn locked(&self) -> bool;

    /// Acquires the lock and returns its guard (the type's own `guard()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ConditionLock, Lock};
    /// let lock = Lock::new();
    /// let g = ConditionLock::guard(&lock);
    /// assert!(lock.locked());
    /// drop(g);
    /// assert!(!lock.locked());
    /// ```
    #[track_caller]
    fn guard(&self) -> Self::Guard<'_>;
}

impl sealed::Sealed for Lock {
    fn object_id(&self) -> ObjectId {
        self.id()
    }

    fn raw(&self) -> &Lock {
        self
    }

    fn count_word(&self) -> *const AtomicUsize {
        std::ptr::null()
    }

    #[inline]
    fn held_count(&self) -> Option<usize> {
        self.is_held().then_some(1)
    }

    #[inline]
    fn is_held(&self) -> bool {
        self.is_held_by(registry::current_ident())
    }

    fn release_for_wait(&self) {
        self.release_shared();
    }

    fn acquire_restore(&self, _count: usize, location: &'static Location<'static>) {
        if !self.try_acquire_fast() {
            self.acquire_slow(WaitKind::Condition, self.id(), None, location);
        }
        held::acquired(|| self.id(), location);
    }
}

impl ConditionLock for Lock {
    type Guard<'a> = LockGuard<'a>;

    #[inline]
    #[track_caller]
    fn acquire(&self) {
        Lock::acquire(self);
    }

    #[inline]
    fn try_acquire(&self) -> bool {
        Lock::try_acquire(self)
    }

    #[inline]
    #[track_caller]
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        Lock::acquire_timeout(self, timeout)
    }

    #[inline]
    fn release(&self) -> Result<(), ReleaseError> {
        Lock::release(self)
    }

    #[inline]
    fn locked(&self) -> bool {
        Lock::locked(self)
    }

    #[inline]
    #[track_caller]
    fn guard(&self) -> LockGuard<'_> {
        Lock::guard(self)
    }
}

impl sealed::Sealed for RLock {
    fn object_id(&self) -> ObjectId {
        self.id()
    }

    fn raw(&self) -> &Lock {
        RLock::raw(self)
    }

    fn count_word(&self) -> *const AtomicUsize {
        RLock::count_word(self)
    }

    #[inline]
    fn held_count(&self) -> Option<usize> {
        RLock::held_count(self)
    }

    #[inline]
    fn is_held(&self) -> bool {
        self.is_owned()
    }

    fn release_for_wait(&self) {
        RLock::release_for_wait(self);
    }

    fn acquire_restore(&self, count: usize, location: &'static Location<'static>) {
        RLock::acquire_restore(self, count, location);
    }
}

impl ConditionLock for RLock {
    type Guard<'a> = RLockGuard<'a>;

    #[inline]
    #[track_caller]
    fn acquire(&self) {
        RLock::acquire(self);
    }

    #[inline]
    fn try_acquire(&self) -> bool {
        RLock::try_acquire(self)
    }

    #[inline]
    #[track_caller]
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        RLock::acquire_timeout(self, timeout)
    }

    #[inline]
    fn release(&self) -> Result<(), ReleaseError> {
        RLock::release(self)
    }

    #[inline]
    fn locked(&self) -> bool {
        RLock::locked(self)
    }

    #[inline]
    #[track_caller]
    fn guard(&self) -> RLockGuard<'_> {
        RLock::guard(self)
    }
}

/// What a [`Condition::wait_for`] predicate returns: a value with Python's truthiness. `bool`
/// (true stops the wait) and `Option<T>` (`Some` stops it).
///
/// An untimed [`wait_for`](Condition::wait_for) returns only once the value is truthy, so it
/// hands back [`Value`](Truthy::Value): the `T` inside the `Some` (no option to unwrap), and for
/// `bool` the `true` itself. A timed [`wait_for_timeout`](Condition::wait_for_timeout) may
/// give up on a falsy value, so it returns the predicate's last value as it is.
///
/// # Examples
///
/// ```
/// use threadkit::Truthy;
/// assert!(true.is_truthy());
/// assert!(Some(0).is_truthy());
/// assert!(!None::<i32>.is_truthy());
/// assert_eq!(Some(7).into_value(), Some(7)); // the `T`, if truthy
/// assert_eq!(None::<i32>.into_value(), None);
/// ```
pub trait Truthy {
    /// What an untimed [`Condition::wait_for`] returns once the value is truthy: `T` for
    /// `Option<T>`, `bool` (always `true`) for `bool`.
    type Value;

    /// True if waiting should stop.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Truthy;
    /// assert!(!false.is_truthy());
    /// ```
    fn is_truthy(&self) -> bool;

    /// The value an untimed wait returns, if this one is truthy; `None` if it is falsy.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Truthy;
    /// assert_eq!(Some("job").into_value(), Some("job"));
    /// assert_eq!(true.into_value(), Some(true));
    /// assert_eq!(false.into_value(), None);
    /// ```
    fn into_value(self) -> Option<Self::Value>;
}

impl Truthy for bool {
    type Value = bool;

    #[inline]
    fn is_truthy(&self) -> bool {
        *self
    }

    #[inline]
    fn into_value(self) -> Option<bool> {
        self.then_some(true)
    }
}

impl<T> Truthy for Option<T> {
    type Value = T;

    #[inline]
    fn is_truthy(&self) -> bool {
        self.is_some()
    }

    #[inline]
    fn into_value(self) -> Option<T> {
        self
    }
}

/// A condition variable, as Python's `threading.Condition`: threads wait on it, holding its
/// lock, until another thread holding the lock notifies them.
///
/// A `Condition` is bound to one lock, a [`RLock`] by default (as in Python) or a [`Lock`],
/// shared through an `Arc` so that several conditions may use the same lock
/// ([`with_lock`](Condition::with_lock)). [`wait`](Condition::wait) releases the lock (all the
/// levels of an `RLock` held recursively), sleeps until notified, and takes the lock back (with
/// the same recursion count) before returning. [`notify`](Condition::notify) wakes at most `n`
/// of the threads that were waiting when it was called, [`notify_all`](Condition::notify_all)
/// every one of them. A thread blocked in a wait shows up in
/// [`Thread::waiting`](crate::Thread::waiting) as [`WaitKind::Condition`], both while it
/// waits for a notification and while it takes the lock back.
///
/// No spurious wake-ups: `wait` returns only once notified, and
/// [`wait_timeout`](Condition::wait_timeout) reports a timeout only when its time is up. Still,
/// another thread may change the state between the notification and the wake-up, so wait for
/// a predicate with [`wait_for`](Condition::wait_for), as in Python.
///
/// # Performance
///
/// `notify` with nobody waiting is a thread-local read and two loads (no system call, no
/// queue lock). A waiter, once queued and the lock released, spins a few microseconds before
/// it sleeps; a notify that finds the longest waiter still spinning takes it out of the queue
/// at once, so a hand-off between two busy threads costs no sleep and no wake-up from sleep
/// (a ping-pong round trip took 0.06-0.09 of parking_lot's `Condvar` time, and 0.15 of its
/// CPU, on 2 cores). A waiter that already sleeps is moved onto the lock's queue rather than
/// woken, and the notifier's release wakes it: one wake-up each way, as with parking_lot's
/// `Condvar` (waking a sleeper directly measured 3x slower: it wakes up only to find the lock
/// still held). A thread whose last 8 spins all ended asleep spins one round only (about
/// 1.4 µs) until a spin catches a notification again.
///
/// # Differences from Python
///
/// - `with cond:` is `let _g = cond.`[`guard()`](Condition::guard)`;`; `wait(timeout)` is
///   [`wait_timeout`](Condition::wait_timeout), `wait_for(predicate, timeout)` is
///   [`wait_for_timeout`](Condition::wait_for_timeout).
/// - Waiting or notifying without holding the lock returns [`ConditionError`] instead of
///   raising `RuntimeError`.
/// - Over a `Lock`, "holding" means: locked by the calling thread (the lock word records who
///   acquired it). Python only checks that the `Lock` is locked, by anyone.
/// - [`notify`](Condition::notify) and [`notify_all`](Condition::notify_all) return how many
///   waiters they notified.
/// - A wait with a zero timeout still releases and re-acquires the lock, as in Python, but
///   [`wait_for_timeout`](Condition::wait_for_timeout) with a zero timeout evaluates the
///   predicate once without releasing the lock.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::collections::VecDeque;
/// use std::sync::Arc;
/// use threadkit::{Condition, ReentrantMutex, Thread};
///
/// // A queue guarded by the condition's lock, as in Python's producer/consumer idiom.
/// let cond = Arc::new(Condition::new());
/// let items = Arc::new(ReentrantMutex::new(RefCell::new(VecDeque::new())));
/// let (c, q) = (cond.clone(), items.clone());
/// let consumer = Thread::new(move || {
///     let _g = c.guard();
///     let item: i32 = c.wait_for(|| q.lock().borrow_mut().pop_front()).unwrap();
///     assert_eq!(item, 42); // the value inside the predicate's `Some`
/// });
/// consumer.start()?;
/// {
///     let _g = cond.guard();
///     items.lock().borrow_mut().push_back(42);
///     cond.notify(1)?;
/// }
/// consumer.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Condition<L: ConditionLock = RLock> {
    lock: Arc<L>,
    /// Threads in this condition's parking queue: incremented under the lock before a waiter
    /// enqueues; decremented under the parking lot's queue lock by whoever takes a waiter out
    /// (a notifier, or the waiter itself when it times out).
    waiters: AtomicUsize,
    /// The name given by `named`, shown in ids, records and dumps; never read on a fast path.
    name: Option<&'static str>,
}

impl Condition<RLock> {
    /// A condition with a new [`RLock`] of its own, as Python's `Condition()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let _g = cond.guard();
    /// assert!(cond.lock().is_owned());
    /// ```
    pub fn new() -> Self {
        Condition::with_lock(Arc::new(RLock::new()))
    }

    /// A condition named `name` with a new [`RLock`] of its own, also named `name`: the name
    /// shows in the condition's [`id`](Condition::id) and its lock's, so in wait records,
    /// errors, thread dumps and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::named("jobs");
    /// assert_eq!(cond.id().name(), Some("jobs"));
    /// assert_eq!(cond.lock().id().name(), Some("jobs"));
    /// ```
    pub fn named(name: &'static str) -> Self {
        Condition::with_lock(Arc::new(RLock::named(name))).with_name(name)
    }
}

impl Default for Condition<RLock> {
    fn default() -> Self {
        Condition::new()
    }
}

impl<L: ConditionLock> Condition<L> {
    /// A condition bound to `lock`, which other conditions and threads may share, as
    /// Python's `Condition(lock)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Condition, Lock};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let not_empty = Condition::with_lock(lock.clone());
    /// let not_full = Condition::with_lock(lock.clone());
    /// let _g = not_empty.guard();
    /// assert!(not_full.lock().locked()); // the same lock
    /// ```
    pub fn with_lock(lock: Arc<L>) -> Self {
        Condition {
            lock,
            waiters: AtomicUsize::new(0),
            name: None,
        }
    }

    /// This condition, named `name` (for a condition made with
    /// [`with_lock`](Condition::with_lock)); the name shows in its [`id`](Condition::id).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Condition, Lock};
    ///
    /// let lock = Arc::new(Lock::named("queue"));
    /// let not_empty = Condition::with_lock(lock.clone()).with_name("not empty");
    /// assert_eq!(not_empty.id().name(), Some("not empty"));
    /// assert_eq!(not_empty.lock().id().name(), Some("queue"));
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// The lock this condition is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// cond.acquire();
    /// assert_eq!(cond.lock().recursion_count(), 1);
    /// cond.release()?;
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    pub fn lock(&self) -> &L {
        &self.lock
    }

    /// Acquires the lock (see [`Lock::acquire`], [`RLock::acquire`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// cond.acquire();
    /// assert!(cond.lock().locked());
    /// cond.release()?;
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire(&self) {
        self.lock.acquire();
    }

    /// Acquires the lock if that needs no waiting; true if it did.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.try_acquire());
    /// cond.release()?;
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    #[inline]
    #[must_use = "if false, the lock was not acquired: check it before waiting, notifying or releasing"]
    pub fn try_acquire(&self) -> bool {
        self.lock.try_acquire()
    }

    /// Acquires the lock, waiting at most `timeout`; true if it did.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.acquire_timeout(Duration::from_millis(10)));
    /// cond.release()?;
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "if false, the lock was not acquired: check it before waiting, notifying or releasing"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.lock.acquire_timeout(timeout)
    }

    /// Releases the lock (one level of an `RLock`).
    ///
    /// # Errors
    ///
    /// The lock's [`ReleaseError`]: not locked, or (`RLock`) held by another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.release().is_err());
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.lock.release()
    }

    /// Acquires the lock and returns its guard: Python's `with cond:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// {
    ///     let _g = cond.guard();
    ///     assert!(cond.lock().locked());
    /// }
    /// assert!(!cond.lock().locked());
    /// ```
    #[inline]
    #[track_caller]
    pub fn guard(&self) -> L::Guard<'_> {
        self.lock.guard()
    }

    /// Waits until notified. The calling thread must hold the lock: `wait` releases it (every
    /// level of an `RLock`), sleeps, and takes it back (with the same recursion count) before
    /// it returns. Returns only once notified: no spurious wake-ups.
    ///
    /// # Errors
    ///
    /// [`ConditionError`] if the calling thread does not hold the lock; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use threadkit::{Condition, Thread};
    ///
    /// let cond = Arc::new(Condition::new());
    /// let ready = Arc::new(AtomicBool::new(false));
    /// let (c, r) = (cond.clone(), ready.clone());
    /// let t = Thread::new(move || {
    ///     let _g = c.guard();
    ///     r.store(true, Ordering::Relaxed);
    ///     c.notify_all().unwrap();
    /// });
    /// let _g = cond.guard();
    /// t.start()?; // it needs the lock, which we hold until we wait
    /// while !ready.load(Ordering::Relaxed) {
    ///     cond.wait()?;
    /// }
    /// drop(_g);
    /// t.join()?;
    /// assert!(cond.wait().is_err()); // not holding the lock
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn wait(&self) -> Result<(), ConditionError> {
        let count = self.held_count("wait")?;
        self.wait_held(count, None, Location::caller());
        Ok(())
    }

    /// Waits until notified or until `timeout` has passed, and says which: a
    /// [`WaitTimeoutResult`] whose [`timed_out`](WaitTimeoutResult::timed_out) is true only
    /// when the time is up (Python's `wait(timeout)` returns its negation). It must be looked
    /// at: `cond.wait_timeout(d)?;` alone is a warning. The lock is released meanwhile and
    /// held again when it returns, in both cases. Zero releases the lock, lets a waiting
    /// notifier in, and takes it back; a timeout too large for the clock waits forever.
    ///
    /// # Errors
    ///
    /// [`ConditionError`] if the calling thread does not hold the lock; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let cond = threadkit::Condition::new();
    /// let _g = cond.guard();
    /// let start = Instant::now();
    /// assert!(cond.wait_timeout(Duration::from_millis(20))?.timed_out());
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// assert!(cond.lock().is_owned()); // held again
    /// # Ok::<(), threadkit::ConditionError>(())
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<WaitTimeoutResult, ConditionError> {
        let count = self.held_count("wait")?;
        let notified = self.wait_held(count, wait::deadline(timeout), Location::caller());
        Ok(WaitTimeoutResult(!notified))
    }

    /// Waits until `predicate` returns a truthy value ([`Truthy`]: `true`, or `Some(_)`), and
    /// returns it: `true` for a `bool` predicate, the `T` itself for an `Option<T>` one (an
    /// untimed wait never ends on `None`, so there is no option to unwrap). The predicate runs
    /// with the lock held: first at once, then after each notification. Python's
    /// `wait_for(predicate)`.
    ///
    /// If the predicate panics, the panic propagates with the lock held by the caller, as it
    /// was when `wait_for` was called (a guard then releases it while unwinding).
    ///
    /// # Errors
    ///
    /// [`ConditionError`] if the calling thread does not hold the lock (checked before the
    /// predicate first runs, and before each wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use threadkit::{Condition, Thread};
    ///
    /// let cond = Arc::new(Condition::new());
    /// let stock = Arc::new(AtomicU32::new(0));
    /// let (c, s) = (cond.clone(), stock.clone());
    /// let producer = Thread::new(move || {
    ///     for _ in 0..3 {
    ///         let _g = c.guard();
    ///         s.fetch_add(1, Ordering::Relaxed);
    ///         c.notify_all().unwrap();
    ///     }
    /// });
    /// producer.start()?;
    /// let _g = cond.guard();
    /// let ok = cond.wait_for(|| stock.load(Ordering::Relaxed) == 3)?;
    /// assert!(ok);
    /// drop(_g);
    /// producer.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn wait_for<T: Truthy>(
        &self,
        mut predicate: impl FnMut() -> T,
    ) -> Result<T::Value, ConditionError> {
        let location = Location::caller();
        self.held_count("wait")?;
        loop {
            if let Some(value) = predicate().into_value() {
                return Ok(value);
            }
            let count = self.held_count("wait")?;
            self.wait_held(count, None, location);
        }
    }

    /// As [`wait_for`](Condition::wait_for), giving up once `timeout` has passed; returns the
    /// predicate's last value (falsy only if the time is up), as Python's
    /// `wait_for(predicate, timeout)`. Zero evaluates the predicate once; a timeout too large
    /// for the clock waits forever.
    ///
    /// # Errors
    ///
    /// [`ConditionError`] if the calling thread does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threadkit::Condition::new();
    /// let _g = cond.guard();
    /// let got: Option<u8> = cond.wait_for_timeout(|| None, Duration::from_millis(10))?;
    /// assert_eq!(got, None);
    /// assert!(cond.wait_for_timeout(|| true, Duration::ZERO)?);
    /// # Ok::<(), threadkit::ConditionError>(())
    /// ```
    #[track_caller]
    pub fn wait_for_timeout<T: Truthy>(
        &self,
        mut predicate: impl FnMut() -> T,
        timeout: Duration,
    ) -> Result<T, ConditionError> {
        let location = Location::caller();
        self.held_count("wait")?;
        let deadline = wait::deadline(timeout);
        loop {
            let value = predicate();
            if value.is_truthy() || deadline.is_some_and(|t| Instant::now() >= t) {
                return Ok(value);
            }
            let count = self.held_count("wait")?;
            self.wait_held(count, deadline, location);
        }
    }

    /// Wakes at most `n` of the threads waiting on this condition when it is called, and
    /// returns how many it woke. The calling thread must hold the lock; the woken threads
    /// run once they can take it back, after the caller releases it. Python's `notify(n)`.
    ///
    /// # Errors
    ///
    /// [`ConditionError`] if the calling thread does not hold the lock; nobody is woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert!(cond.notify(1).is_err()); // not holding the lock
    /// let _g = cond.guard();
    /// assert_eq!(cond.notify(1)?, 0); // nobody waits: nearly free
    /// # Ok::<(), threadkit::ConditionError>(())
    /// ```
    #[inline]
    pub fn notify(&self, n: usize) -> Result<usize, ConditionError> {
        if !self.lock.is_held() {
            return Err(ConditionError::new("notify", self.id()));
        }
        let waiting = self.waiters.load(Ordering::Relaxed);
        if n == 0 || waiting == 0 {
            return Ok(0);
        }
        Ok(if n >= waiting {
            self.requeue_all()
        } else {
            self.requeue(n)
        })
    }

    /// [`notify(1)`](Condition::notify): wakes one waiting thread, if any; returns how many
    /// it woke (0 or 1).
    ///
    /// # Errors
    ///
    /// [`ConditionError`] if the calling thread does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let _g = cond.guard();
    /// assert_eq!(cond.notify_one()?, 0);
    /// # Ok::<(), threadkit::ConditionError>(())
    /// ```
    #[inline]
    pub fn notify_one(&self) -> Result<usize, ConditionError> {
        self.notify(1)
    }

    /// Wakes every thread waiting on this condition; returns how many. Python's
    /// `notify_all()`.
    ///
    /// # Errors
    ///
    /// [`ConditionError`] if the calling thread does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let _g = cond.guard();
    /// assert_eq!(cond.notify_all()?, 0);
    /// # Ok::<(), threadkit::ConditionError>(())
    /// ```
    #[inline]
    pub fn notify_all(&self) -> Result<usize, ConditionError> {
        self.notify(usize::MAX)
    }

    /// The condition's id, as wait records and errors show it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Condition, ObjectKind};
    /// let cond = Condition::new();
    /// assert_eq!(cond.id().kind(), ObjectKind::Condition);
    /// assert_eq!(cond.wait().unwrap_err().object(), cond.id()); // not holding the lock
    /// ```
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::Condition, self.addr()).named(self.name)
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// The parking key of this condition's waiters: its address plus one. Every other
    /// primitive parks on an address aligned to at least 4, and none can be at an address
    /// inside this one, so no other primitive can wake these waiters by accident.
    fn key(&self) -> usize {
        self.addr() + 1
    }

    /// The lock's recursion count if the calling thread holds it, else the error for `op`.
    #[inline]
    fn held_count(&self, op: &'static str) -> Result<usize, ConditionError> {
        self.lock
            .held_count()
            .ok_or_else(|| ConditionError::new(op, self.id()))
    }

    /// Waits, the lock held `count` times by the caller; true if notified. The lock is held
    /// again, `count` times, on return.
    #[inline(never)]
    fn wait_held(
        &self,
        count: usize,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        let key = self.key();
        let raw = self.lock.raw();
        self.waiters.fetch_add(1, Ordering::Relaxed);
        // The record lives until the lock is held again: `acquire_restore` switches it to the
        // lock (keeping its start) if it has to wait for it.
        let rec = Waiting::begin(self.blocked(location).timed_by(deadline));
        let mut requeued = false;
        let result = loop {
            let timed_out = |k, was_last_thread| {
                if k == key {
                    self.waiters.fetch_sub(1, Ordering::Relaxed);
                } else {
                    // Notified (requeued onto the lock) before the time was up.
                    requeued = true;
                    if was_last_thread {
                        raw.clear_parked();
                    }
                }
            };
            let release = || self.lock.release_for_wait();
            let result = rec.park_spinning(key, deadline, || true, release, timed_out);
            // `validate` always agrees, so parking_lot never returns `Invalid` here; chaos
            // mode's `park` does, without queueing us or running `before_sleep`: the lock is
            // still held and we are still counted in `waiters`. Not a notification: park again.
            if result != ParkResult::Invalid {
                break result;
            }
        };
        self.lock.acquire_restore(count, location);
        drop(rec);
        !matches!(result, ParkResult::TimedOut) || requeued
    }

    /// The wait record of a waiter: the one place this file builds one. It names the
    /// condition, and the lock that a notification moves the waiter onto (with an `RLock`'s
    /// count, so a requeued waiter's readers see its holder's depth).
    fn blocked(&self, location: &'static Location<'static>) -> Blocked {
        let raw = self.lock.raw();
        Blocked {
            requeue: Some((self.lock.object_id(), std::ptr::from_ref(&raw.state))),
            requeue_count: self.lock.count_word(),
            ..Blocked::on(WaitKind::Condition, self.id(), location)
        }
    }

    /// After a requeue: marks the waiters now parked on the lock as waiting for it.
    fn mark_requeued(&self) {
        wait::mark_requeued_on(self.lock.raw().addr());
    }

    /// Moves every waiter onto the lock's queue (or, if the lock is free, wakes one and moves
    /// the rest).
    #[cold]
    #[inline(never)]
    fn requeue_all(&self) -> usize {
        // A first waiter still spinning is woken (no sleep, no wake-up from sleep); the rest
        // are moved, as they would all be otherwise.
        let first = self.unpark_spinning();
        if first.unparked_threads != 0 && !first.have_more_threads {
            return 1;
        }
        let raw = self.lock.raw();
        let validate = || {
            if raw.mark_parked_if_locked() {
                RequeueOp::RequeueAll
            } else {
                RequeueOp::UnparkOneRequeueRest
            }
        };
        let callback = |op, r: UnparkResult| {
            if op == RequeueOp::UnparkOneRequeueRest && r.requeued_threads != 0 {
                raw.mark_parked();
            }
            self.waiters
                .fetch_sub(r.unparked_threads + r.requeued_threads, Ordering::Relaxed);
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: both keys belong to this condition and its lock, whose protocols expect
        // requeued threads; the callbacks only touch atomics: they neither panic nor call
        // into the parking lot.
        let r =
            unsafe { parking_lot_core::unpark_requeue(self.key(), raw.addr(), validate, callback) };
        if r.requeued_threads != 0 {
            self.mark_requeued();
        }
        first.unparked_threads + r.unparked_threads + r.requeued_threads
    }

    /// Moves (or wakes, if the lock is free) waiters one at a time, at most `n`.
    #[cold]
    #[inline(never)]
    fn requeue(&self, n: usize) -> usize {
        let raw = self.lock.raw();
        let mut moved = 0;
        let mut requeued = 0;
        while moved < n {
            let first = self.unpark_spinning();
            if first.unparked_threads != 0 {
                moved += 1;
                if !first.have_more_threads {
                    break;
                }
                continue;
            }
            let validate = || {
                if raw.mark_parked_if_locked() {
                    RequeueOp::RequeueOne
                } else {
                    RequeueOp::UnparkOne
                }
            };
            let callback = |_, r: UnparkResult| {
                self.waiters
                    .fetch_sub(r.unparked_threads + r.requeued_threads, Ordering::Relaxed);
                DEFAULT_UNPARK_TOKEN
            };
            // SAFETY: as in `requeue_all`.
            let r = unsafe {
                parking_lot_core::unpark_requeue(self.key(), raw.addr(), validate, callback)
            };
            moved += r.unparked_threads + r.requeued_threads;
            requeued += r.requeued_threads;
            if !r.have_more_threads {
                break;
            }
        }
        if requeued != 0 {
            self.mark_requeued();
        }
        moved
    }

    /// Wakes the first waiter if it is still spinning before its sleep (see
    /// `Waiting::spin_before_sleep`), counting it out of `waiters`.
    fn unpark_spinning(&self) -> UnparkResult {
        let then = |_| {
            self.waiters.fetch_sub(1, Ordering::Relaxed);
        };
        // SAFETY: every waiter on the condition's key parks with its `Waiting::token`.
        unsafe { wait::unpark_spinning(self.key(), then) }
    }
}

impl<L: ConditionLock> fmt::Debug for Condition<L> {
    /// `Condition { lock: RLock { locked: false }, waiters: 0 }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &*self.lock)
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
            .finish()
    }
}

/// Waiting on or notifying a [`Condition`] without holding its lock: Python's `RuntimeError:
/// cannot wait on un-acquired lock`. Names the operation and the thread.
///
/// # Examples
///
/// ```
/// let cond = threadkit::Condition::new();
/// let err = cond.wait().unwrap_err();
/// assert_eq!(err.operation(), "wait");
/// assert_eq!(err.primitive(), "Condition");
/// assert_eq!(err.thread(), threadkit::current_thread().name());
/// assert!(err.to_string().starts_with("cannot wait on un-acquired lock"));
/// let shown = format!("{:#x}", cond.id().addr()); // Display and Debug alike
/// assert!(err.to_string().contains(&shown) && format!("{err:?}").contains(&shown));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    operation: &'static str,
    object: ObjectId,
    thread: String,
}

impl ConditionError {
    fn new(operation: &'static str, object: ObjectId) -> Self {
        ConditionError {
            operation,
            object,
            thread: current_name(),
        }
    }

    /// `"wait"` or `"notify"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert_eq!(cond.notify_all().unwrap_err().operation(), "notify");
    /// ```
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Always `"Condition"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert_eq!(cond.notify(1).unwrap_err().primitive(), "Condition");
    /// ```
    pub fn primitive(&self) -> &'static str {
        "Condition"
    }

    /// The condition, as wait records show it.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// let err = cond.wait().unwrap_err();
    /// assert_eq!(err.object(), cond.id());
    /// assert_eq!(err.object().addr(), &cond as *const _ as usize);
    /// ```
    pub fn object(&self) -> ObjectId {
        self.object
    }

    /// The name of the thread that tried.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadkit::Condition::new();
    /// assert_eq!(cond.wait().unwrap_err().thread(), threadkit::current_thread().name());
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} on un-acquired lock: {} (in thread {})",
            self.operation, self.object, self.thread
        )
    }
}

impl std::error::Error for ConditionError {}

/// loom models of [`Condition::wait_timeout`] with deadlines that may fire at any point (see
/// `park_loom::with_firing_deadlines`, which integration tests cannot reach), over a [`Lock`]
/// and over an [`RLock`] held twice. The untimed models are in
/// `tests/loom_rlock_condition.rs`. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib sync::condition`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;

    use super::{Condition, ConditionLock, Lock, RLock};
    use crate::primitive::Ordering;
    use crate::primitive::park_loom::{bounded, with_firing_deadlines};

    /// No notify has run yet.
    const NOT_YET: usize = usize::MAX;

    /// What the waiter and the notifier tell each other, under the condition's lock.
    struct Talk {
        /// What the first `notify(1)` returned, `NOT_YET` before it.
        first_notify: usize,
        /// The waiter is (about to be, under the lock) in its second, untimed wait.
        second_waiting: bool,
        /// The second notify has been sent.
        second_sent: bool,
    }

    struct Shared<L: ConditionLock> {
        cond: Condition<L>,
        talk: UnsafeCell<Talk>,
    }

    // SAFETY: `talk` is only touched by the holder of the condition's lock (`with` checks that
    // the caller holds it, and loom fails an execution where two accesses race).
    unsafe impl<L: ConditionLock> Sync for Shared<L> {}

    impl<L: ConditionLock + 'static> Shared<L> {
        /// Runs `f` on the shared state; the caller holds the lock.
        fn with<R>(&self, f: impl FnOnce(&mut Talk) -> R) -> R {
            assert!(self.cond.lock().is_held(), "touched without the lock");
            // SAFETY: the caller holds the lock (checked above; loom checks the ordering).
            self.talk.with_mut(|t| f(unsafe { &mut *t }))
        }

        fn enter(&self, depth: usize) {
            for _ in 0..depth {
                self.cond.acquire();
            }
        }

        fn leave(&self, depth: usize) {
            for _ in 0..depth {
                self.cond.release().unwrap();
            }
            assert!(!self.cond.lock().is_held());
        }

        fn assert_depth(&self, depth: usize, what: &str) {
            assert_eq!(self.cond.lock().held_count(), Some(depth), "{what}");
        }
    }

    /// A waiter holding the lock `depth` times does a `wait_timeout` whose deadline may fire at
    /// any point, racing one `notify(1)`; then a second, untimed waiter/notify pair checks that
    /// the race left the condition in order. Returns whether `wait_timeout` reported a notify
    /// (not [`timed_out`](WaitTimeoutResult::timed_out)).
    ///
    /// - The wait returns holding the lock `depth` times, whatever happened.
    /// - `true` only if the notify found it (the notify returned 1, and wrote so before
    ///   releasing the lock the waiter then took back); `false` only if the notify found
    ///   nobody (it came before the waiter queued, or after it left the queue): no notify is
    ///   lost on a waiter that reports a timeout, and none is counted for a waiter it missed.
    /// - The second notify finds the second wait (the waiter count is right, so a notify
    ///   does not skip it), and wakes it (loom fails an execution in which it sleeps on).
    /// - At the end no waiter is counted and the lock word is 0 (no stale `PARKED`).
    fn timed_wait_racing_notify<L: ConditionLock + 'static>(new: fn() -> L, depth: usize) -> bool {
        let s = Arc::new(Shared {
            cond: Condition::with_lock(std::sync::Arc::new(new())),
            talk: UnsafeCell::new(Talk {
                first_notify: NOT_YET,
                second_waiting: false,
                second_sent: false,
            }),
        });
        let s2 = s.clone();
        let waiter = thread::spawn(move || {
            s2.enter(depth);
            let got = !s2
                .cond
                .wait_timeout(Duration::from_secs(3600))
                .unwrap()
                .timed_out();
            s2.assert_depth(depth, "the timed wait returned without its levels");
            if got {
                assert_eq!(
                    s2.with(|t| t.first_notify),
                    1,
                    "true, but no notify found the waiter"
                );
            }
            // Let the first notify happen (if it has not yet) before the second wait, so
            // that it cannot be taken for the second one's.
            while s2.with(|t| t.first_notify) == NOT_YET {
                s2.leave(depth);
                thread::yield_now();
                s2.enter(depth);
            }
            s2.with(|t| t.second_waiting = true);
            s2.cond.wait().unwrap();
            s2.assert_depth(depth, "the second wait returned without its levels");
            assert!(s2.with(|t| t.second_sent), "woken without a notify");
            s2.leave(depth);
            got
        });

        s.cond.acquire();
        let first = s.cond.notify(1).unwrap();
        assert!(first <= 1);
        s.with(|t| t.first_notify = first);
        s.cond.release().unwrap();

        loop {
            s.cond.acquire();
            if s.with(|t| t.second_waiting) {
                break;
            }
            s.cond.release().unwrap();
            thread::yield_now();
        }
        s.with(|t| t.second_sent = true);
        assert_eq!(
            s.cond.notify(1).unwrap(),
            1,
            "the second wait was not found: the first race left a wrong waiter count"
        );
        s.cond.release().unwrap();

        let got = waiter.join().unwrap();
        assert_eq!(
            got,
            first == 1,
            "wait_timeout returned {got}, the notify found {first} waiter(s)"
        );
        assert_eq!(
            s.cond.waiters.load(Ordering::Relaxed),
            0,
            "a waiter still counted"
        );
        assert_eq!(
            s.cond.lock().raw().state.load(Ordering::Relaxed),
            0,
            "the lock word is not clean"
        );
        got
    }

    /// Runs the model over every interleaving within the bound, and checks that both answers
    /// occurred (so the deadline really raced the notify).
    fn check_both_answers(bound: usize, model: fn() -> bool) {
        let saw = std::sync::Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let s = saw.clone();
        with_firing_deadlines(|| {
            bounded(bound, move || {
                s[usize::from(model())].store(true, StdOrdering::Relaxed);
            });
        });
        assert!(saw[1].load(StdOrdering::Relaxed), "the notify never won");
        assert!(saw[0].load(StdOrdering::Relaxed), "the deadline never won");
    }

    #[test]
    fn lock_timed_wait_racing_notify() {
        check_both_answers(3, || timed_wait_racing_notify(Lock::new, 1));
    }

    #[test]
    fn rlock_timed_wait_racing_notify() {
        // Bound 2: the two levels make bound 3 take ~25 s; 2 already reaches a waiter requeued
        // onto the lock whose deadline then fires.
        check_both_answers(2, || timed_wait_racing_notify(RLock::new, 2));
    }
}
