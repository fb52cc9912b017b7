//! [`Condvar`]: a condition variable that waits with a [`MutexGuard`], in parking_lot's shape.
//!
//! # How it works
//!
//! `mutex` holds the address of the raw [`Lock`] under the `Mutex` that the current waiters
//! use, 0 when nobody waits. A waiter parks on the condvar's address through the crate's one
//! wait path; under the parking lot's queue lock its `validate` sets `mutex` (or checks that it
//! names the same lock: another one is [`CondvarError`], returned before anything is released),
//! and the lock is released only once the waiter is in the queue (`park_with`'s
//! `before_sleep`), so a notify sent right after cannot be missed.
//!
//! A notify reads `mutex` (0: nobody waits, return at once) and, under both queue locks, moves
//! the waiter from the condvar's queue onto the lock's queue if the lock is held, setting its
//! `PARKED` bit so the holder's release wakes it (parking_lot's requeue: no wake-up only to find
//! the lock taken, no thundering herd on `notify_all`), or wakes it if the lock is free.
//! Whoever takes the last waiter out of the condvar's queue (a notifier, or a waiter timing
//! out) sets `mutex` back to 0, under the queue lock.
//!
//! `mutex` is non-zero only while a waiter is in the condvar's queue, and a waiter borrows its
//! `Mutex` for the whole wait; so under the queue lock a non-zero `mutex` points to a live lock.

use std::cell::Cell;
use std::fmt;
use std::ops::DerefMut;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::lock::Lock;
use super::mutex::MutexGuard;
use super::wait::{self, Blocked, ObjectId, ObjectKind, WaitKind, Waiting};
use crate::primitive::parking_lot_core::{
    self, DEFAULT_UNPARK_TOKEN, ParkResult, RequeueOp, UnparkResult,
};
use crate::primitive::{AtomicUsize, Ordering};
use crate::threading::registry;

/// A condition variable that waits with a [`MutexGuard`]: the data and the lock that guards it
/// are one [`Mutex<T>`](crate::Mutex), as with parking_lot's `Condvar` and std's.
///
/// [`wait`](Condvar::wait) releases the guard's mutex, sleeps until notified, and takes the
/// mutex back before returning; [`wait_while`](Condvar::wait_while) loops on a predicate over
/// the guarded data. The notifier need not hold the mutex. A blocked thread shows up in
/// [`Thread::waiting`](crate::Thread::waiting) as [`WaitKind::Condvar`], while it waits for a
/// notification and while it takes the mutex back.
///
/// No spurious wake-ups: `wait` returns only once notified, a timed wait reports
/// [`timed_out`](WaitTimeoutResult::timed_out) only when its time is up, and
/// [`notify_one`](Condvar::notify_one)/[`notify_all`](Condvar::notify_all) say exactly how many
/// waiters they woke.
///
/// # Performance
///
/// A notify with nobody waiting is one load. A waiter, once queued and the mutex released,
/// spins a few microseconds before it sleeps; a notify that finds the longest waiter still
/// spinning takes it out of the queue at once, so a hand-off between two busy threads costs
/// no sleep and no wake-up from sleep (a ping-pong round trip took 0.04-0.09 of parking_lot's
/// time, and 0.10-0.17 of its CPU, on 2 cores; 8 such pairs on the 2 cores, 0.5-0.8 of its
/// time and CPU). A waiter that already sleeps is moved onto the mutex's queue while the
/// mutex is held, so the notifier's unlock wakes it with the mutex free: one wake-up per
/// waiter, as in parking_lot. A thread whose last 8 spins all ended asleep spins one round
/// only (about 1.4 µs) until a spin catches a notification again.
///
/// # Differences from parking_lot and std
///
/// - Waiting with a second mutex while threads still wait with a first is
///   [`CondvarError`] (parking_lot panics; std may panic or misbehave): nothing is released,
///   the guard stays held.
/// - The timed waits take a [`Duration`] (`wait_timeout`, `wait_while_timeout`, as std names
///   them); a duration too large for the clock waits forever. No poisoning.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Condvar, Mutex, Thread};
///
/// let pair = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
/// let p = pair.clone();
/// let producer = Thread::new(move || {
///     let (items, ready) = &*p;
///     items.lock().push(42);
///     ready.notify_one();
/// });
/// producer.start()?;
/// let (items, ready) = &*pair;
/// let mut g = items.lock();
/// ready.wait_while(&mut g, |v| v.is_empty())?; // one lock: data and condition together
/// assert_eq!(g.pop(), Some(42));
/// drop(g);
/// producer.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Condvar {
    /// The address (provenance exposed) of the raw [`Lock`] the current waiters release; 0
    /// when no thread waits. Set by a waiter and cleared by whoever takes the last waiter out,
    /// both under the parking lot's queue lock of the condvar's key.
    mutex: AtomicUsize,
    /// The name given by `named`, shown in ids, records and dumps; never read on a fast path.
    name: Option<&'static str>,
}

impl Condvar {
    /// A new condition variable with nobody waiting. `const`, so it can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: threadkit::Condvar = threadkit::Condvar::new();
    /// assert!(!READY.notify_one()); // nobody waits
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Condvar {
            mutex: AtomicUsize::new(0),
            name: None,
        }
    }

    /// A new condition variable with nobody waiting.
    #[cfg(loom)]
    pub fn new() -> Self {
        Condvar {
            mutex: AtomicUsize::new(0),
            name: None,
        }
    }

    /// A new Condvar named `name` (otherwise as [`new`](Condvar::new)): the name shows in its
    /// [`id`](Condvar::id), so in wait records, errors, thread dumps and deadlock reports. Costs
    /// nothing on the fast path.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: threadkit::Condvar = threadkit::Condvar::named("ready");
    /// assert_eq!(READY.id().name(), Some("ready"));
    /// ```
    #[cfg(not(loom))]
    pub const fn named(name: &'static str) -> Self {
        let mut this = Self::new();
        this.name = Some(name);
        this
    }

    /// A new Condvar named `name`.
    #[cfg(loom)]
    pub fn named(name: &'static str) -> Self {
        let mut this = Self::new();
        this.name = Some(name);
        this
    }

    /// Releases the guard's mutex, waits until notified, and takes the mutex back before
    /// returning. No spurious wake-ups, but another thread may change the data between the
    /// notification and the return: wait in a loop on the data, or use
    /// [`wait_while`](Condvar::wait_while).
    ///
    /// # Errors
    ///
    /// [`CondvarError`] if other threads are waiting on this condvar with a different mutex;
    /// nothing is released and the guard is still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Condvar, Mutex, Thread};
    ///
    /// let pair = Arc::new((Mutex::new(false), Condvar::new()));
    /// let p = pair.clone();
    /// let t = Thread::new(move || {
    ///     *p.0.lock() = true;
    ///     p.1.notify_all();
    /// });
    /// t.start()?;
    /// let mut started = pair.0.lock();
    /// while !*started {
    ///     pair.1.wait(&mut started)?;
    /// }
    /// assert!(*started);
    /// drop(started);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) -> Result<(), CondvarError> {
        self.wait_guard(guard, None, Location::caller())?;
        Ok(())
    }

    /// Waits while `condition` holds for the guarded data: checks it at once (with the mutex
    /// held), and after each notification, and returns once it is false, with the mutex held.
    ///
    /// If `condition` panics, the panic propagates with the mutex held by the guard.
    ///
    /// # Errors
    ///
    /// [`CondvarError`] as for [`wait`](Condvar::wait); the guard is still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Condvar, Mutex, Thread};
    ///
    /// let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    /// let p = pair.clone();
    /// let t = Thread::new(move || {
    ///     for _ in 0..3 {
    ///         *p.0.lock() += 1;
    ///         p.1.notify_one();
    ///     }
    /// });
    /// t.start()?;
    /// let mut n = pair.0.lock();
    /// pair.1.wait_while(&mut n, |n| *n < 3)?;
    /// assert_eq!(*n, 3);
    /// drop(n);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn wait_while<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> Result<(), CondvarError> {
        let location = Location::caller();
        while condition(guard.deref_mut()) {
            self.wait_guard(guard, None, location)?;
        }
        Ok(())
    }

    /// As [`wait`](Condvar::wait), giving up once `timeout` has passed. The mutex is held
    /// again on return, in both cases. Zero releases the mutex and takes it back; a timeout
    /// too large for the clock waits forever. Never reports a timeout early.
    ///
    /// # Errors
    ///
    /// [`CondvarError`] as for [`wait`](Condvar::wait); the guard is still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use threadkit::{Condvar, Mutex};
    ///
    /// let (m, cv) = (Mutex::new(()), Condvar::new());
    /// let mut g = m.lock();
    /// let start = Instant::now();
    /// let r = cv.wait_timeout(&mut g, Duration::from_millis(20))?;
    /// assert!(r.timed_out());
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// assert!(m.is_locked()); // held again, by `g`
    /// # Ok::<(), threadkit::CondvarError>(())
    /// ```
    #[track_caller]
    pub fn wait_timeout<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> Result<WaitTimeoutResult, CondvarError> {
        let notified = self.wait_guard(guard, wait::deadline(timeout), Location::caller())?;
        Ok(WaitTimeoutResult(!notified))
    }

    /// As [`wait_while`](Condvar::wait_while), giving up once `timeout` has passed:
    /// [`timed_out`](WaitTimeoutResult::timed_out) is true only if `condition` still held when
    /// the time was up (it is checked once more after the last wait). Zero checks it once
    /// without releasing the mutex.
    ///
    /// # Errors
    ///
    /// [`CondvarError`] as for [`wait`](Condvar::wait); the guard is still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::{Condvar, Mutex};
    ///
    /// let (m, cv) = (Mutex::new(5), Condvar::new());
    /// let mut g = m.lock();
    /// let r = cv.wait_while_timeout(&mut g, |n| *n < 10, Duration::from_millis(10))?;
    /// assert!(r.timed_out());
    /// let r = cv.wait_while_timeout(&mut g, |n| *n < 3, Duration::from_millis(10))?;
    /// assert!(!r.timed_out()); // already false: no wait
    /// # Ok::<(), threadkit::CondvarError>(())
    /// ```
    #[track_caller]
    pub fn wait_while_timeout<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        mut condition: impl FnMut(&mut T) -> bool,
        timeout: Duration,
    ) -> Result<WaitTimeoutResult, CondvarError> {
        let location = Location::caller();
        let deadline = wait::deadline(timeout);
        loop {
            if !condition(guard.deref_mut()) {
                return Ok(WaitTimeoutResult(false));
            }
            if deadline.is_some_and(|t| Instant::now() >= t) {
                return Ok(WaitTimeoutResult(true));
            }
            self.wait_guard(guard, deadline, location)?;
        }
    }

    /// Wakes one waiting thread, if any; true if it woke one. The notifier need not hold the
    /// mutex; if it does, the woken thread runs once the notifier unlocks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Condvar, Mutex, Thread};
    ///
    /// let pair = Arc::new((Mutex::new(false), Condvar::new()));
    /// assert!(!pair.1.notify_one()); // nobody waits: one load
    /// let p = pair.clone();
    /// let t = Thread::new(move || {
    ///     let mut g = p.0.lock();
    ///     p.1.wait_while(&mut g, |go| !*go).unwrap();
    /// });
    /// t.start()?;
    /// // Once its Debug says so (it never blocks), the thread is queued on the condvar.
    /// while !format!("{:?}", pair.1).contains("waiting: true") {
    ///     std::thread::yield_now();
    /// }
    /// *pair.0.lock() = true;
    /// assert!(pair.1.notify_one()); // found it
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn notify_one(&self) -> bool {
        let m = self.mutex.load(Ordering::Relaxed);
        if m == 0 {
            return false;
        }
        self.notify_one_slow(m)
    }

    /// Wakes every waiting thread; returns how many. Waiters are moved onto the mutex's
    /// queue while it is held, and woken one at a time as it is released.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Condvar, Mutex, Thread};
    ///
    /// let pair = Arc::new((Mutex::new((0, false)), Condvar::new())); // (waiting, go)
    /// let mut threads = Vec::new();
    /// for _ in 0..3 {
    ///     let p = pair.clone();
    ///     let t = Thread::new(move || {
    ///         let mut g = p.0.lock();
    ///         g.0 += 1;
    ///         p.1.wait_while(&mut g, |s| !s.1).unwrap(); // releases the mutex once queued
    ///     });
    ///     t.start()?;
    ///     threads.push(t);
    /// }
    /// loop {
    ///     let mut g = pair.0.lock();
    ///     if g.0 == 3 {
    ///         // All three counted themselves, then released the mutex: all are queued.
    ///         g.1 = true;
    ///         assert_eq!(pair.1.notify_all(), 3);
    ///         break;
    ///     }
    /// }
    /// for t in threads {
    ///     t.join()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn notify_all(&self) -> usize {
        let m = self.mutex.load(Ordering::Relaxed);
        if m == 0 {
            return 0;
        }
        self.notify_all_slow(m)
    }

    /// The condvar's address: its parking key.
    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// The condvar's identity in wait records and errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Condvar, ObjectKind};
    ///
    /// let cv = Condvar::new();
    /// assert_eq!(cv.id().kind(), ObjectKind::Condvar);
    /// assert_eq!(cv.id().addr(), &cv as *const Condvar as usize);
    /// ```
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::Condvar, self.addr()).named(self.name)
    }

    /// What a waiter with the mutex `raw` records: the condvar, and once a notify moved it
    /// onto the mutex's queue, the mutex and its holder (the one place this file builds one).
    fn blocked(&self, raw: &Lock, location: &'static Location<'static>) -> Blocked {
        Blocked {
            requeue: Some((raw.id(), std::ptr::from_ref(&raw.state))),
            ..Blocked::on(WaitKind::Condvar, self.id(), location)
        }
    }

    /// Waits with the guard's mutex; true if notified (false only when the time was up).
    #[inline]
    fn wait_guard<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<bool, CondvarError> {
        // SAFETY: the guard holds the mutex and stays mutably borrowed for the whole wait, so
        // nothing touches the data while `wait_raw` has released it; `wait_raw` takes it back
        // before returning, on every path (an error returns without releasing it), so the guard
        // is valid again when we give it back. The guard's token is a ZST (`GuardSend`).
        let raw = unsafe { MutexGuard::mutex(guard).raw() };
        self.wait_raw(raw, deadline, location)
    }

    /// Waits, `raw` held by the caller; `raw` is held again on return, also on error.
    #[inline(never)]
    fn wait_raw(
        &self,
        raw: &Lock,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<bool, CondvarError> {
        let key = self.addr();
        let mine = std::ptr::from_ref(raw).expose_provenance();
        let other = Cell::new(0usize);
        let requeued = Cell::new(false);
        wait::contended(self.id());
        // Lives until the mutex is held again: `acquire_slow` switches it to the mutex
        // (keeping its start) if it has to wait for it.
        let rec = Waiting::begin(self.blocked(raw, location).timed_by(deadline));
        let result = loop {
            let validate = || {
                let m = self.mutex.load(Ordering::Relaxed);
                if m == 0 {
                    self.mutex.store(mine, Ordering::Relaxed);
                } else if m != mine {
                    other.set(m);
                    return false;
                }
                true
            };
            let timed_out = |k, was_last_thread| {
                if k == key {
                    if was_last_thread {
                        self.mutex.store(0, Ordering::Relaxed);
                    }
                } else {
                    // Notified (requeued onto the mutex) before the time was up.
                    requeued.set(true);
                    if was_last_thread {
                        raw.clear_parked();
                    }
                }
            };
            let release = || raw.release_held();
            let result = rec.park_spinning(key, deadline, validate, release, timed_out);
            if result != ParkResult::Invalid {
                break result;
            }
            if other.get() != 0 {
                // Not queued, `before_sleep` did not run: the caller still holds `raw`.
                let waiters_mutex = ObjectId::new(ObjectKind::Lock, other.get());
                return Err(CondvarError::new(self.id(), raw.id(), waiters_mutex));
            }
            // Chaos mode's `park` returns `Invalid` without queueing us: not a notification.
        };
        if !raw.try_acquire_fast() {
            raw.acquire_slow(WaitKind::Condvar, raw.id(), None, location);
        }
        drop(rec);
        Ok(result != ParkResult::TimedOut || requeued.get())
    }

    /// The lock at `m`, an address read from `mutex` under the queue lock of the condvar's key
    /// while it still equals `mutex`.
    ///
    /// # Safety
    ///
    /// Call only under that queue lock, with `self.mutex == m != 0`: a waiter then sits in the
    /// condvar's queue (or was just moved by this very call) borrowing its mutex, so the lock
    /// is alive until the queue lock is released.
    unsafe fn lock_at<'a>(m: usize) -> &'a Lock {
        // SAFETY: the caller's contract: `m` is the exposed address of a live `Lock`; the
        // reference never escapes the callbacks of the unpark call that holds the queue lock.
        unsafe { &*std::ptr::with_exposed_provenance::<Lock>(m) }
    }

    #[cold]
    #[inline(never)]
    fn notify_one_slow(&self, m: usize) -> bool {
        if self.unpark_spinning().unparked_threads != 0 {
            return true;
        }
        let validate = || {
            if self.mutex.load(Ordering::Relaxed) != m {
                return RequeueOp::Abort;
            }
            // SAFETY: under the queue lock, `mutex == m != 0` (checked just above).
            let raw = unsafe { Self::lock_at(m) };
            if raw.mark_parked_if_locked() {
                RequeueOp::RequeueOne
            } else {
                RequeueOp::UnparkOne
            }
        };
        let callback = |_, r: UnparkResult| {
            if !r.have_more_threads {
                self.mutex.store(0, Ordering::Relaxed);
            }
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: the keys are this condvar's and the lock its waiters release, whose protocol
        // expects requeued threads (see `Lock::mark_parked_if_locked`); the callbacks only touch
        // atomics: they neither panic nor call into the parking lot.
        let r = unsafe { parking_lot_core::unpark_requeue(self.addr(), m, validate, callback) };
        if r.requeued_threads != 0 {
            wait::mark_requeued_on(m);
        }
        r.unparked_threads + r.requeued_threads != 0
    }

    #[cold]
    #[inline(never)]
    fn notify_all_slow(&self, m: usize) -> usize {
        // A first waiter still spinning is woken (no sleep, no wake-up from sleep); the rest
        // are moved onto the mutex, as they would all be otherwise.
        let first = self.unpark_spinning();
        if first.unparked_threads != 0 && !first.have_more_threads {
            return 1;
        }
        let validate = || {
            if self.mutex.load(Ordering::Relaxed) != m {
                return RequeueOp::Abort;
            }
            // Every waiter leaves the condvar's queue now.
            self.mutex.store(0, Ordering::Relaxed);
            // SAFETY: under the queue lock, `mutex` was `m != 0` until the store above, and the
            // waiters are still parked (about to be moved), borrowing the mutex.
            let raw = unsafe { Self::lock_at(m) };
            if raw.mark_parked_if_locked() {
                RequeueOp::RequeueAll
            } else {
                RequeueOp::UnparkOneRequeueRest
            }
        };
        let callback = |op, r: UnparkResult| {
            if op == RequeueOp::UnparkOneRequeueRest && r.requeued_threads != 0 {
                // SAFETY: as in `validate`: the requeued waiters are parked on the lock.
                unsafe { Self::lock_at(m) }.mark_parked();
            }
            DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: as in `notify_one_slow`.
        let r = unsafe { parking_lot_core::unpark_requeue(self.addr(), m, validate, callback) };
        if r.requeued_threads != 0 {
            wait::mark_requeued_on(m);
        }
        first.unparked_threads + r.unparked_threads + r.requeued_threads
    }

    /// Wakes the first waiter if it is still spinning before its sleep (see
    /// `Waiting::spin_before_sleep`), clearing `mutex` if it was the last.
    fn unpark_spinning(&self) -> UnparkResult {
        let then = |r: UnparkResult| {
            if !r.have_more_threads {
                self.mutex.store(0, Ordering::Relaxed);
            }
        };
        // SAFETY: every waiter on the condvar's key parks with its `Waiting::token`.
        unsafe { wait::unpark_spinning(self.addr(), then) }
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    /// `Condvar { waiting: true }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar")
            .field("waiting", &(self.mutex.load(Ordering::Relaxed) != 0))
            .finish()
    }
}

/// Whether a timed wait on a [`Condvar`] or a [`Condition`](crate::Condition) ended because
/// its time was up (std's `WaitTimeoutResult`). Dropping it is a warning (`#[must_use]`):
/// after `cv.wait_timeout(&mut g, d)?;` the code cannot know whether it was notified.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::{Condvar, Mutex};
///
/// let (m, cv) = (Mutex::new(()), Condvar::new());
/// let r = cv.wait_timeout(&mut m.lock(), Duration::ZERO)?;
/// assert!(r.timed_out());
/// # Ok::<(), threadkit::CondvarError>(())
/// ```
#[must_use = "the wait may have timed out: check `timed_out()`"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(pub(crate) bool);

impl WaitTimeoutResult {
    /// True if the wait ended because the time was up (for `wait_while_timeout`: with the
    /// condition still holding).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::{Condvar, Mutex};
    ///
    /// let (m, cv) = (Mutex::new(1), Condvar::new());
    /// let r = cv.wait_while_timeout(&mut m.lock(), |n| *n == 0, Duration::from_secs(5))?;
    /// assert!(!r.timed_out());
    /// # Ok::<(), threadkit::CondvarError>(())
    /// ```
    #[must_use]
    pub fn timed_out(self) -> bool {
        self.0
    }
}

/// Waiting on a [`Condvar`] with a different mutex than the threads already waiting on it use
/// (parking_lot panics here). Nothing was released: the caller's guard is still held. Names
/// the thread, the condvar and both mutexes.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Condvar, Mutex, Thread};
///
/// let cv = Arc::new(Condvar::new());
/// let first = Arc::new(Mutex::new(false));
/// let (c, f) = (cv.clone(), first.clone());
/// let waiter = Thread::new(move || {
///     let mut g = f.lock();
///     c.wait_while(&mut g, |go| !*go).unwrap();
/// });
/// waiter.start()?;
/// // Until the waiter is queued with `first` (its Debug says so, never blocking):
/// while !format!("{cv:?}").contains("waiting: true") { std::thread::yield_now(); }
/// let second = Mutex::new(());
/// let mut g = second.lock();
/// let err = cv.wait(&mut g).unwrap_err();
/// assert_eq!(err.primitive(), "Condvar");
/// assert_eq!(err.thread(), threadkit::current_thread().name());
/// assert_eq!(err.condvar().addr(), Arc::as_ptr(&cv) as usize);
/// assert!(err.to_string().contains("with a different mutex"));
/// assert!(second.is_locked()); // still held by `g`
/// drop(g);
/// *first.lock() = true;
/// while !cv.notify_one() { std::thread::yield_now(); }
/// waiter.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondvarError {
    condvar: ObjectId,
    mutex: ObjectId,
    waiters_mutex: ObjectId,
    thread: String,
}

impl CondvarError {
    fn new(condvar: ObjectId, mutex: ObjectId, waiters_mutex: ObjectId) -> Self {
        let thread = registry::with_current(|i| i.name().to_string())
            .unwrap_or_else(|| "<exiting thread>".to_string());
        CondvarError {
            condvar,
            mutex,
            waiters_mutex,
            thread,
        }
    }

    /// Always `"Condvar"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Condvar, Mutex, Thread};
    /// # let cv = Arc::new(Condvar::new());
    /// # let first = Arc::new(Mutex::new(false));
    /// # let (c, f) = (cv.clone(), first.clone());
    /// # let w = Thread::new(move || { let mut g = f.lock(); c.wait_while(&mut g, |go| !*go).unwrap(); });
    /// # w.start()?;
    /// # while !format!("{cv:?}").contains("waiting: true") { std::thread::yield_now(); }
    /// let second = Mutex::new(());
    /// let err = cv.wait(&mut second.lock()).unwrap_err(); // `w` waits with `first`
    /// assert_eq!(err.primitive(), "Condvar");
    /// # *first.lock() = true;
    /// # while !cv.notify_one() { std::thread::yield_now(); }
    /// # w.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn primitive(&self) -> &'static str {
        "Condvar"
    }

    /// The condvar's id, as shown in dumps.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Condvar, Mutex, Thread};
    /// # let cv = Arc::new(Condvar::new());
    /// # let first = Arc::new(Mutex::new(false));
    /// # let (c, f) = (cv.clone(), first.clone());
    /// # let w = Thread::new(move || { let mut g = f.lock(); c.wait_while(&mut g, |go| !*go).unwrap(); });
    /// # w.start()?;
    /// # while !format!("{cv:?}").contains("waiting: true") { std::thread::yield_now(); }
    /// let second = Mutex::new(());
    /// let err = cv.wait(&mut second.lock()).unwrap_err(); // `w` waits with `first`
    /// assert_eq!(err.condvar().addr(), Arc::as_ptr(&cv) as usize);
    /// # *first.lock() = true;
    /// # while !cv.notify_one() { std::thread::yield_now(); }
    /// # w.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn condvar(&self) -> ObjectId {
        self.condvar
    }

    /// The id of the caller's mutex (its raw [`Lock`]), which was not released.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Condvar, Mutex, Thread};
    /// # let cv = Arc::new(Condvar::new());
    /// # let first = Arc::new(Mutex::new(false));
    /// # let (c, f) = (cv.clone(), first.clone());
    /// # let w = Thread::new(move || { let mut g = f.lock(); c.wait_while(&mut g, |go| !*go).unwrap(); });
    /// # w.start()?;
    /// # while !format!("{cv:?}").contains("waiting: true") { std::thread::yield_now(); }
    /// let second = Mutex::new(());
    /// let err = cv.wait(&mut second.lock()).unwrap_err(); // `w` waits with `first`
    /// assert_ne!(err.mutex(), err.waiters_mutex());
    /// assert_ne!(err.mutex().addr(), 0);
    /// # *first.lock() = true;
    /// # while !cv.notify_one() { std::thread::yield_now(); }
    /// # w.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mutex(&self) -> ObjectId {
        self.mutex
    }

    /// The address of the mutex (raw [`Lock`]) the threads already waiting use.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Condvar, Mutex, Thread};
    /// # let cv = Arc::new(Condvar::new());
    /// # let first = Arc::new(Mutex::new(false));
    /// # let (c, f) = (cv.clone(), first.clone());
    /// # let w = Thread::new(move || { let mut g = f.lock(); c.wait_while(&mut g, |go| !*go).unwrap(); });
    /// # w.start()?;
    /// # while !format!("{cv:?}").contains("waiting: true") { std::thread::yield_now(); }
    /// let second = Mutex::new(());
    /// let err = cv.wait(&mut second.lock()).unwrap_err(); // `w` waits with `first`
    /// assert_ne!(err.waiters_mutex(), err.mutex());
    /// assert_ne!(err.waiters_mutex().addr(), 0);
    /// # *first.lock() = true;
    /// # while !cv.notify_one() { std::thread::yield_now(); }
    /// # w.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn waiters_mutex(&self) -> ObjectId {
        self.waiters_mutex
    }

    /// The name of the thread that tried to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Condvar, Mutex, Thread};
    /// # let cv = Arc::new(Condvar::new());
    /// # let first = Arc::new(Mutex::new(false));
    /// # let (c, f) = (cv.clone(), first.clone());
    /// # let w = Thread::new(move || { let mut g = f.lock(); c.wait_while(&mut g, |go| !*go).unwrap(); });
    /// # w.start()?;
    /// # while !format!("{cv:?}").contains("waiting: true") { std::thread::yield_now(); }
    /// let second = Mutex::new(());
    /// let err = cv.wait(&mut second.lock()).unwrap_err(); // `w` waits with `first`
    /// assert_eq!(err.thread(), threadkit::current_thread().name());
    /// # *first.lock() = true;
    /// # while !cv.notify_one() { std::thread::yield_now(); }
    /// # w.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }
}

impl fmt::Display for CondvarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot wait on {} with a different mutex: {} is not {}, which its waiters use \
             (in thread {})",
            self.condvar, self.mutex, self.waiters_mutex, self.thread
        )
    }
}

impl std::error::Error for CondvarError {}

/// loom model of [`Condvar::wait_timeout`] with a deadline that may fire at any point (see
/// `park_loom::with_firing_deadlines`), racing a `notify_one` sent under the mutex: the wait
/// reports "not timed out" exactly when the notify found it, returns holding the mutex either
/// way, and leaves the condvar and the mutex word clean; and two waiters that spin before
/// they sleep (`park_loom::with_spinning_waiters`) with two `notify_one`s, each of which finds
/// exactly one of them. The other untimed models are in
/// `tests/loom_condvar.rs`. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib sync::condvar`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::sync::Arc;
    use loom::thread;

    use super::Condvar;
    use crate::primitive::Ordering;
    use crate::primitive::park_loom::{bounded, with_firing_deadlines, with_spinning_waiters};
    use crate::sync::lock::Lock;
    use crate::sync::mutex::Mutex;

    /// Returns whether the wait was notified.
    fn timed_wait_racing_notify() -> bool {
        let p = Arc::new((Mutex::from_raw(Lock::new(), usize::MAX), Condvar::new()));
        let p2 = p.clone();
        let waiter = thread::spawn(move || {
            let mut g = p2.0.lock();
            let r =
                p2.1.wait_timeout(&mut g, Duration::from_secs(3600))
                    .unwrap();
            // Held again: the notifier's result is visible under it once it released.
            !r.timed_out()
        });
        let found = {
            let mut g = p.0.lock();
            let found = p.1.notify_one();
            *g = usize::from(found);
            found
        };
        let notified = waiter.join().unwrap();
        assert_eq!(
            notified, found,
            "notified {notified}, the notify found {found}"
        );
        assert_eq!(
            p.1.mutex.load(Ordering::Relaxed),
            0,
            "a waiter still recorded"
        );
        // SAFETY: only the raw lock's state word is read.
        let raw = unsafe { p.0.raw() };
        assert_eq!(
            raw.state.load(Ordering::Relaxed),
            0,
            "the mutex word is not clean"
        );
        notified
    }

    /// Two waiters that spin before they sleep (one yield under loom, so a notifier can find
    /// them spinning) and two `notify_one`s sent under the mutex. The mutex guards `arrived +
    /// 10 * woken + 100 * notified`. Each notify finds exactly one waiter (taken out while it
    /// spins, or moved onto the mutex while it sleeps), nobody returns without a notify, and
    /// the condvar ends with nobody recorded.
    fn two_spinning_waiters_two_notifies() {
        let p = Arc::new((Mutex::from_raw(Lock::new(), 0usize), Condvar::new()));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let p = p.clone();
                thread::spawn(move || {
                    let mut g = p.0.lock();
                    *g += 1;
                    p.1.wait(&mut g).unwrap();
                    *g += 10;
                    let (woken, notified) = (*g / 10 % 10, *g / 100);
                    assert!(woken <= notified, "{woken} woken by {notified} notifies");
                })
            })
            .collect();
        let wait_until = |digit: usize, target: usize| loop {
            let g = p.0.lock();
            if *g / digit % 10 == target {
                return g;
            }
            drop(g);
            thread::yield_now();
        };
        // Both queued: a waiter gives the mutex up only inside `wait`, once queued.
        let mut g = wait_until(1, 2);
        assert!(p.1.notify_one());
        *g += 100;
        drop(g);
        let mut g = wait_until(10, 1);
        assert!(p.1.notify_one());
        *g += 100;
        assert!(!p.1.notify_one(), "nobody left to notify");
        drop(g);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*p.0.lock(), 222);
        assert_eq!(
            p.1.mutex.load(Ordering::Relaxed),
            0,
            "a waiter still recorded"
        );
    }

    #[test]
    fn two_spinning_waiters_each_notify_wakes_one() {
        let before = crate::sync::wait::SPIN_UNPARKS.load(StdOrdering::Relaxed);
        with_spinning_waiters(|| bounded(2, two_spinning_waiters_two_notifies));
        assert!(
            crate::sync::wait::SPIN_UNPARKS.load(StdOrdering::Relaxed) > before,
            "no notify ever found a waiter spinning"
        );
    }

    #[test]
    fn timed_wait_racing_notify_one() {
        let saw = std::sync::Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let s = saw.clone();
        with_firing_deadlines(|| {
            let mut builder = loom::model::Builder::new();
            if builder.preemption_bound.is_none() {
                builder.preemption_bound = Some(3);
            }
            builder.check(move || {
                s[usize::from(timed_wait_racing_notify())].store(true, StdOrdering::Relaxed);
            });
        });
        assert!(saw[1].load(StdOrdering::Relaxed), "the notify never won");
        assert!(saw[0].load(StdOrdering::Relaxed), "the deadline never won");
    }
}
