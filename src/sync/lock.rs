//! [`Lock`]: the raw lock every other primitive builds on, as Python's `threading.Lock`.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::error::{ReleaseError, ReleaseErrorKind};
use super::held;
use super::wait::{
    self, Attempt, Blocked, EXCLUSION_PAUSES, ObjectId, ObjectKind, Owner, ParkWord, WaitKind,
};
use crate::Thread;
use crate::primitive::parking_lot_core::{self, UnparkResult};
use crate::primitive::{AtomicU64, AtomicUsize, Ordering};
use crate::threading::record::{WORD_LOCKED, WORD_OWNER_SHIFT, WORD_PARKED, word_holder};
use crate::threading::registry;

/// Set while the lock is held.
pub(crate) const LOCKED: u64 = WORD_LOCKED;
/// Set while threads are parked (or about to park) waiting for the lock.
pub(crate) const PARKED: u64 = WORD_PARKED;
/// The holder's ident sits above the two flag bits.
pub(crate) const OWNER_SHIFT: u32 = WORD_OWNER_SHIFT;

/// A lock, as Python's `threading.Lock`: one 64-bit word, not owned (any thread may release it),
/// not reentrant, with blocking, non-blocking and timed acquisition.
///
/// Uncontended, `acquire` is one compare-exchange and `release` one swap (a `Mutex` guard's
/// unlock: one subtraction); neither allocates, reads the clock or touches global state. A
/// thread that must wait spins briefly, then parks, and while parked its registry entry
/// records the lock, its holder and the caller's source line (see
/// [`Thread::waiting`](crate::Thread::waiting)).
///
/// For data protected by a lock, use [`Mutex<T>`](crate::Mutex), built on this type.
///
/// # If the holder ends
///
/// A thread that ends while holding a `Lock` (it returns, or panics between a bare
/// [`acquire`](Lock::acquire) and [`release`](Lock::release)) leaves it locked, as in Python:
/// waiters stay blocked until some thread releases it, which any thread may do. Guards release
/// while a panic unwinds. [`holder`](Lock::holder) then returns `None`: the lock word names its
/// holder by [`ident`](crate::Thread::ident), which is never given to another thread.
///
/// # Fairness
///
/// Not fair, as Python's: a releasing thread wakes one waiter, but a running thread may take
/// the lock first. Throughput wins; starvation is possible under constant contention.
///
/// # Differences from Python
///
/// - `acquire(blocking=False)` is [`try_acquire`](Lock::try_acquire), `acquire(timeout=t)` is
///   [`acquire_timeout`](Lock::acquire_timeout); `with lock:` is [`guard`](Lock::guard).
/// - [`release`](Lock::release) of an unlocked lock returns [`ReleaseError`] instead of raising
///   `RuntimeError`.
/// - [`holder`](Lock::holder) tells who acquired it: Python cannot.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Lock, Thread};
///
/// let lock = Arc::new(Lock::new());
/// let mut threads = Vec::new();
/// for i in 0..2 {
///     let lock = lock.clone();
///     let t = Thread::new(move || {
///         let _g = lock.guard(); // serialises the printing, as in the tutorial
///         println!("thread {i} has the lock");
///     });
///     t.start()?;
///     threads.push(t);
/// }
/// for t in threads {
///     t.join()?;
/// }
/// assert!(!lock.locked());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[repr(C)] // the word first: a queue's core keeps it on its hot line, the name after
pub struct Lock {
    /// | bits | meaning |
    /// |---|---|
    /// | 0 `LOCKED` | held |
    /// | 1 `PARKED` | threads are parked or about to park; only cleared under the parking-lot queue lock, or by a release that then wakes a waiter |
    /// | 2..64 | the holder's [ident](crate::Thread::ident) (0 when unlocked), never reused: a reader of the word (a wait record, [`holder`](Lock::holder)) never mistakes a later thread for the holder |
    ///
    /// `PARKED` without `LOCKED` means: free, and a woken waiter is on its way to take it.
    ///
    /// `RLock` (which is a `Lock` plus a recursion count) and `Condition` (which requeues its
    /// notified waiters onto this word's queue) follow the same protocol.
    pub(crate) state: AtomicU64,
    /// The name given by [`Lock::named`], shown in ids, wait records, errors and dumps. Never
    /// read on a fast path.
    name: Option<&'static str>,
}

impl Lock {
    /// A new, unlocked lock. `const`, so it can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static PRINT: threadkit::Lock = threadkit::Lock::new();
    /// let _g = PRINT.guard();
    /// assert!(PRINT.locked());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Lock {
            state: AtomicU64::new(0),
            name: None,
        }
    }

    /// A new, unlocked lock.
    #[cfg(loom)]
    pub fn new() -> Self {
        Lock {
            state: AtomicU64::new(0),
            name: None,
        }
    }

    /// A new, unlocked lock named `name`: the name shows in its [`id`](Lock::id), so in wait
    /// records, errors, thread dumps and deadlock reports. `const`, so it can be a `static`;
    /// costs nothing on the fast path. A `Mutex` gets a name through its lock:
    /// `Mutex::from_raw(Lock::named("db"), value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Lock, Mutex};
    ///
    /// static DB: Lock = Lock::named("db");
    /// assert_eq!(DB.id().name(), Some("db"));
    /// assert!(DB.id().to_string().starts_with("Lock \"db\" at 0x"));
    ///
    /// static CACHE: Mutex<u32> = Mutex::from_raw(Lock::named("cache"), 0);
    /// let m = &CACHE;
    /// assert_eq!(unsafe { m.raw() }.id().name(), Some("cache"));
    /// ```
    #[cfg(not(loom))]
    pub const fn named(name: &'static str) -> Self {
        Lock {
            state: AtomicU64::new(0),
            name: Some(name),
        }
    }

    /// A new, unlocked lock named `name`.
    #[cfg(loom)]
    pub fn named(name: &'static str) -> Self {
        Lock {
            state: AtomicU64::new(0),
            name: Some(name),
        }
    }

    /// The name given by [`named`](Lock::named), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadkit::Lock::named("db").name(), Some("db"));
    /// assert_eq!(threadkit::Lock::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// Acquires the lock, blocking until it is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// lock.acquire();
    /// assert!(lock.locked());
    /// lock.release()?;
    /// # Ok::<(), threadkit::ReleaseError>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn acquire(&self) {
        self.acquire_paced(EXCLUSION_PAUSES);
    }

    /// [`acquire`](Lock::acquire), a waiter spinning at `pace` ([`ParkWord::pace`]): a lock's
    /// own ([`EXCLUSION_PAUSES`]), or `SpinWait`'s (1) for a lock taken to hand over one thing
    /// at a time (a queue of capacity 1 or 2, whose every put waits for a get and every get
    /// for a put: the thread waited for is about to hand over).
    #[inline]
    #[track_caller]
    pub(crate) fn acquire_paced(&self, pace: u32) {
        if held::active() {
            return self.acquire_tracked(Location::caller(), pace);
        }
        if !self.try_acquire_fast() {
            self.acquire_slow_paced(WaitKind::Lock, self.id(), Location::caller(), pace);
        }
    }

    /// [`acquire_paced`](Lock::acquire_paced) while held locks are tracked: the lock order
    /// is checked first (it may panic before anything is taken), the lock is listed once
    /// taken.
    #[cold]
    #[inline(never)]
    fn acquire_tracked(&self, location: &'static Location<'static>, pace: u32) {
        held::acquiring(self.id(), location);
        if !self.try_acquire_fast() {
            self.acquire_slow_paced(WaitKind::Lock, self.id(), location, pace);
        }
        held::acquired(|| self.id(), location);
    }

    /// Acquires the lock if it is free, without blocking; true if it did. Python's
    /// `acquire(blocking=False)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire());
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "if false, the lock was not acquired: check it before releasing or using what it guards"]
    pub fn try_acquire(&self) -> bool {
        let got = self.try_acquire_raw();
        if got {
            held::acquired(|| self.id(), Location::caller());
        }
        got
    }

    /// [`try_acquire`](Lock::try_acquire) without the held-lock hook, for the primitives
    /// built on this lock (they report themselves).
    #[inline]
    pub(crate) fn try_acquire_raw(&self) -> bool {
        if self.try_acquire_fast() {
            return true;
        }
        let me = registry::current_ident() << OWNER_SHIFT;
        let mut s = self.state.load(Ordering::Relaxed);
        while s & LOCKED == 0 {
            match self.state.compare_exchange_weak(
                s,
                s | LOCKED | me,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(x) => s = x,
            }
        }
        false
    }

    /// Acquires the lock, waiting at most `timeout`; true if it did. Zero polls once; a
    /// timeout too large for the clock waits forever. Never gives up early.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threadkit::Lock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(5)));
    /// assert!(!lock.acquire_timeout(Duration::from_millis(5))); // held by us: not reentrant
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "if false, the lock was not acquired: check it before releasing or using what it guards"]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        let got = self.try_acquire_fast()
            || if timeout.is_zero() {
                self.try_acquire_raw()
            } else {
                let deadline = wait::deadline(timeout);
                self.acquire_slow(WaitKind::Lock, self.id(), deadline, Location::caller())
            };
        if got {
            held::acquired(|| self.id(), Location::caller());
        }
        got
    }

    /// Releases the lock. Any thread may release it, not only the one that acquired it.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] of kind [`Unlocked`](crate::ReleaseErrorKind::Unlocked) if the lock
    /// was not locked; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// lock.acquire();
    /// assert!(lock.release().is_ok());
    /// let err = lock.release().unwrap_err();
    /// assert!(err.to_string().contains("release unlocked Lock"));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        held::released(self.addr());
        let old = self.state.swap(0, Ordering::Release);
        if old & PARKED != 0 {
            self.release_slow();
        }
        if old & LOCKED == 0 {
            return Err(ReleaseError::new(ReleaseErrorKind::Unlocked, self.id()));
        }
        Ok(())
    }

    /// Releases a lock the caller knows is held where another thread may release it too: a
    /// [`LockGuard`]'s drop, a `Condition` over a `Lock` (Python lets any thread release a
    /// `Lock`). One swap, as [`release`](Lock::release): a release that races another leaves
    /// the word free, never torn. The queues' own locks release this way too: with the
    /// subtraction of [`release_held`](Lock::release_held) their loom models explored 1.2-2.4x
    /// as long, and nothing measured calls for it there.
    #[inline]
    pub(crate) fn release_shared(&self) {
        held::released(self.addr());
        if self.state.swap(0, Ordering::Release) & PARKED != 0 {
            self.release_slow();
        }
    }

    /// Releases a lock the caller holds where no other code can release it meanwhile, though
    /// another thread may have acquired it: lock_api's `unlock`, whose contract says the lock
    /// is held in the current context (a `Mutex` guard, which may be sent to another thread).
    ///
    /// While the caller holds the lock only `PARKED` can change in the word, so the word read
    /// without `PARKED` is exactly what the acquisition added: one `fetch_sub` of it whose old
    /// value is only compared with it, which x86 does as a `lock sub` and a test of its flags.
    /// The swap (`xchg`, which returns the old value) measured 1.2x the time of the
    /// `Mutex<u64>` increment on AMD Zen 4. Not for a lock another thread may release
    /// meanwhile: a subtraction of a word read before someone else's release and acquisition
    /// would tear the word.
    #[inline]
    pub(crate) fn release_held(&self) {
        held::released(self.addr());
        let held = self.state.load(Ordering::Relaxed);
        if held & PARKED != 0 {
            self.release_parked(false);
        } else if self.state.fetch_sub(held, Ordering::Release) != held {
            self.release_parked(true);
        }
    }

    /// Releases a lock that the thread of ident `me` acquired and no other code can release
    /// meanwhile, without the held-lock hook: an `RLock`'s last level, which knows its holder.
    /// As [`release_held`](Lock::release_held), but the word's holder bits come from `me`,
    /// not from a load of the word.
    #[inline]
    pub(crate) fn release_as(&self, me: u64) {
        let held = LOCKED | (me << OWNER_SHIFT);
        if self.state.fetch_sub(held, Ordering::Release) != held {
            self.release_parked(true);
        }
    }

    /// A release by subtraction found `PARKED`: before its subtraction (the lock is still
    /// held: swaps it free, then wakes as after a swap) or in the old value it returned
    /// (`subtracted`: the word is left with `PARKED`, alone or beside a new holder). In that
    /// case it wakes one waiter and, under the queue lock, clears `PARKED` if no other waits:
    /// as many read-modify-writes as after a swap, which clears the bit first and sets it
    /// again if more wait.
    #[cold]
    #[inline(never)]
    fn release_parked(&self, subtracted: bool) {
        if !subtracted {
            self.state.swap(0, Ordering::Release);
            return self.release_slow();
        }
        let callback = |result: UnparkResult| {
            if !result.have_more_threads {
                self.clear_parked();
            }
            parking_lot_core::DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: the key is our own address; the callback neither panics nor calls into the
        // parking lot.
        unsafe { parking_lot_core::unpark_one(self.addr(), callback) };
    }

    /// True while the lock is held. A snapshot: it may change right after.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert!(!lock.locked());
    /// let _g = lock.guard();
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    /// Acquires the lock and returns a guard that releases it when dropped, also during a
    /// panic: Python's `with lock:`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// {
    ///     let _g = lock.guard();
    ///     assert!(lock.locked());
    /// }
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    #[track_caller]
    pub fn guard(&self) -> LockGuard<'_> {
        self.acquire();
        LockGuard { lock: self }
    }

    /// A guard if the lock is free right now, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// let g = lock.try_guard();
    /// assert!(g.is_some());
    /// assert!(lock.try_guard().is_none());
    /// ```
    #[inline]
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub fn try_guard(&self) -> Option<LockGuard<'_>> {
        self.try_acquire().then(|| LockGuard { lock: self })
    }

    /// A guard if the lock could be acquired within `timeout`, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threadkit::Lock::new();
    /// let _g = lock.guard_timeout(Duration::from_millis(1)).expect("free");
    /// assert!(lock.guard_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub fn guard_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        // `then`, not `then_some`: a guard built eagerly would release the lock on drop.
        self.acquire_timeout(timeout)
            .then(|| LockGuard { lock: self })
    }

    /// The thread that acquired the lock, if it is held by a thread that is still alive.
    /// A snapshot, for diagnostics (see [If the holder ends](Lock#if-the-holder-ends)); it
    /// looks the holder's ident up in the registry.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert!(lock.holder().is_none());
    /// lock.acquire();
    /// assert_eq!(lock.holder(), Some(threadkit::current_thread()));
    /// ```
    pub fn holder(&self) -> Option<Thread> {
        registry::lookup_ident(word_holder(self.state.load(Ordering::Relaxed)))
    }

    /// The lock's id, as wait records and errors show it: [`ObjectKind::Lock`] and its
    /// address.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Lock, ObjectKind};
    /// let lock = Lock::new();
    /// assert_eq!(lock.id().kind(), ObjectKind::Lock);
    /// assert_eq!(lock.id().addr(), &lock as *const Lock as usize);
    /// ```
    #[inline]
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::Lock, self.addr()).named(self.name)
    }

    /// The lock's address: its parking key.
    pub(crate) fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// True if the lock is held and its state names the thread of ident `ident` as the holder.
    #[inline]
    pub(crate) fn is_held_by(&self, ident: u64) -> bool {
        self.state.load(Ordering::Relaxed) & !PARKED == LOCKED | (ident << OWNER_SHIFT)
    }

    /// Sets `PARKED` if the lock is held, so that its release wakes a thread; false if it is
    /// free. Called under the parking-lot queue lock of the lock's key by a `Condition` that
    /// is about to requeue a notified waiter onto that queue.
    pub(crate) fn mark_parked_if_locked(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & LOCKED == 0 {
                return false;
            }
            if s & PARKED != 0 {
                return true;
            }
            match self.state.compare_exchange_weak(
                s,
                s | PARKED,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(x) => s = x,
            }
        }
    }

    /// Sets `PARKED` unconditionally: threads were requeued onto a free lock, one of them is
    /// woken and its release must wake the next. Under the queue lock of the lock's key.
    pub(crate) fn mark_parked(&self) {
        self.state.fetch_or(PARKED, Ordering::Relaxed);
    }

    /// Clears `PARKED`: the last thread parked on the lock's key left its queue by timing out.
    /// Under the queue lock of the lock's key.
    pub(crate) fn clear_parked(&self) {
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
    }

    /// The uncontended acquisition: one compare-exchange from "free, nobody parked".
    #[inline]
    pub(crate) fn try_acquire_fast(&self) -> bool {
        let me = registry::current_ident() << OWNER_SHIFT;
        self.state
            .compare_exchange_weak(0, LOCKED | me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Spins while nobody is parked, then parks until woken or `deadline`. True once held.
    /// While parked the thread's wait record says `kind` and `id` (an `RLock`, or a
    /// `Condition` re-acquiring its lock, block here too), and the lock word gives its holder.
    #[cold]
    #[inline(never)]
    pub(crate) fn acquire_slow(
        &self,
        kind: WaitKind,
        id: ObjectId,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        self.acquire_slow_with(
            kind,
            id,
            deadline,
            location,
            std::ptr::null(),
            EXCLUSION_PAUSES,
        )
    }

    /// [`acquire_slow`](Lock::acquire_slow) without a deadline, the waiter spinning at `pace`
    /// ([`ParkWord::pace`]).
    #[cold]
    #[inline(never)]
    fn acquire_slow_paced(
        &self,
        kind: WaitKind,
        id: ObjectId,
        location: &'static Location<'static>,
        pace: u32,
    ) -> bool {
        self.acquire_slow_with(kind, id, None, location, std::ptr::null(), pace)
    }

    /// [`acquire_slow`](Lock::acquire_slow) for an `RLock`: the record also shows the
    /// holder's recursion count, read from `count`.
    #[cold]
    #[inline(never)]
    pub(crate) fn acquire_slow_counted(
        &self,
        kind: WaitKind,
        id: ObjectId,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
        count: &AtomicUsize,
    ) -> bool {
        self.acquire_slow_with(kind, id, deadline, location, count, EXCLUSION_PAUSES)
    }

    #[inline]
    fn acquire_slow_with(
        &self,
        kind: WaitKind,
        id: ObjectId,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
        count: *const AtomicUsize,
        pace: u32,
    ) -> bool {
        let acquiring = Acquiring {
            lock: self,
            me: registry::current_ident() << OWNER_SHIFT,
            kind,
            id,
            location,
            count,
            pace,
        };
        wait::spin_mark_park(&acquiring, self.state.load(Ordering::Relaxed), deadline).is_ok()
    }

    /// A release saw `PARKED` (and cleared it with the swap): wake one waiter, and set
    /// `PARKED` again, under the queue lock, if more remain.
    #[cold]
    #[inline(never)]
    fn release_slow(&self) {
        let callback = |result: UnparkResult| {
            if result.have_more_threads {
                self.state.fetch_or(PARKED, Ordering::Relaxed);
            }
            parking_lot_core::DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: the key is our own address; the callback neither panics nor calls into the
        // parking lot.
        unsafe { parking_lot_core::unpark_one(self.addr(), callback) };
    }
}

/// One acquisition on the slow path, as [`wait::spin_mark_park`] sees it.
struct Acquiring<'a> {
    lock: &'a Lock,
    /// The caller's ident, shifted into place.
    me: u64,
    kind: WaitKind,
    id: ObjectId,
    location: &'static Location<'static>,
    /// An `RLock`'s recursion count (its holder's depth in the record), or null.
    count: *const AtomicUsize,
    /// See [`ParkWord::pace`].
    pace: u32,
}

impl ParkWord for Acquiring<'_> {
    type State = u64;
    /// Mutual exclusion: waiters sleep.
    const LOOKS: bool = false;

    fn key(&self) -> usize {
        self.lock.addr()
    }

    fn blocked(&self) -> Blocked {
        let word = std::ptr::from_ref(&self.lock.state);
        let owner = if self.count.is_null() {
            Owner::LockWord(word)
        } else {
            Owner::LockWordCounted(word, self.count)
        };
        Blocked::on(self.kind, self.id, self.location).owned_by(owner)
    }

    fn load(&self) -> u64 {
        self.lock.state.load(Ordering::Relaxed)
    }

    fn attempt(&self, s: u64) -> Attempt<u64> {
        if s & LOCKED != 0 {
            return Attempt::Wait;
        }
        match self.lock.state.compare_exchange_weak(
            s,
            s | LOCKED | self.me,
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => Attempt::Done,
            Err(x) => Attempt::Retry(x),
        }
    }

    fn marked(s: u64) -> bool {
        s & PARKED != 0
    }

    fn pace(&self) -> u32 {
        self.pace
    }

    fn mark(&self, s: u64) -> Result<(), u64> {
        self.lock
            .state
            .compare_exchange_weak(s, s | PARKED, Ordering::Relaxed, Ordering::Relaxed)
            .map(drop)
    }

    fn sleep_ok(&self) -> bool {
        let s = self.lock.state.load(Ordering::Relaxed);
        s & LOCKED != 0 && s & PARKED != 0
    }

    fn unmark(&self) {
        self.lock.clear_parked();
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    /// `Lock { locked: true, holder: 7 }` (the holder's ident): never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Ordering::Relaxed);
        let mut d = f.debug_struct("Lock");
        d.field("locked", &(s & LOCKED != 0));
        if s & LOCKED != 0 {
            d.field("holder", &word_holder(s));
        }
        d.finish()
    }
}

impl Drop for Lock {
    /// Forgets the lock's place in the lock order, while lock-order checking is on (one
    /// relaxed load while it is off): a new lock at the same address starts with no order.
    fn drop(&mut self) {
        held::dropped(self.addr());
    }
}

/// Releases its [`Lock`] when dropped (also while unwinding from a panic). Made by
/// [`Lock::guard`], [`Lock::try_guard`] and [`Lock::guard_timeout`].
///
/// Python lets any thread release a `Lock`, so a guard may be sent to and dropped by another
/// thread.
///
/// # Examples
///
/// ```
/// let lock = threadkit::Lock::new();
/// let g = lock.guard();
/// drop(g);
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl LockGuard<'_> {
    /// The guarded lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// let g = lock.guard();
    /// assert!(std::ptr::eq(g.lock(), &lock));
    /// ```
    pub fn lock(&self) -> &Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.lock.release_shared();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("lock", self.lock)
            .finish()
    }
}

// SAFETY: `lock` acquires the lock (blocking until it is free) before returning a guard and
// `try_lock`/`try_lock_for`/`try_lock_until` return one only once they hold it, so at most one
// guard exists at a time; `unlock` is only called with that guard. Acquire/Release orderings on
// the state word order the critical sections. Guards may cross threads (GuardSend) because a
// `Lock` may be released by any thread.
unsafe impl lock_api::RawMutex for Lock {
    #[cfg(not(loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Lock = Lock::new();

    // loom's atomics cannot be built in a `const`: under loom, build a `Mutex<T>` with
    // `Mutex::from_raw(Lock::new(), value)`; `Mutex::new` fails to compile.
    #[cfg(loom)]
    const INIT: Lock = panic!("under loom, use Mutex::from_raw(Lock::new(), value)");

    type Guard = lock_api::GuardSend;

    #[inline]
    #[track_caller]
    fn lock(&self) -> Self::Guard {
        self.acquire();
        lock_api::GuardSend::new()
    }

    #[inline]
    fn try_lock(&self) -> Option<Self::Guard> {
        self.try_acquire().then(lock_api::GuardSend::new)
    }

    #[inline]
    unsafe fn unlock(&self, _guard: Self::Guard) {
        self.release_held();
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.locked()
    }
}

// SAFETY: as for `RawMutex`: the timed forms return a guard only once the lock is held.
unsafe impl lock_api::RawMutexTimed for Lock {
    type Duration = Duration;
    type Instant = Instant;

    #[inline]
    #[track_caller]
    fn try_lock_for(&self, timeout: Duration) -> Option<Self::Guard> {
        self.acquire_timeout(timeout).then(lock_api::GuardSend::new)
    }

    #[inline]
    #[track_caller]
    fn try_lock_until(&self, deadline: Instant) -> Option<Self::Guard> {
        let got = self.try_acquire_fast()
            || (Instant::now() < deadline
                && self.acquire_slow(
                    WaitKind::Lock,
                    self.id(),
                    Some(deadline),
                    Location::caller(),
                ))
            || self.try_acquire_raw();
        if got {
            held::acquired(|| self.id(), Location::caller());
        }
        got.then(lock_api::GuardSend::new)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Thread, WaitInfo};

    fn until_parked(t: &Thread) -> WaitInfo {
        loop {
            if let Some(info) = t.waiting() {
                return info;
            }
            std::thread::yield_now();
        }
    }

    #[test]
    fn an_acquisition_that_only_spins_reaches_the_contention_hook_and_records_nothing() {
        let lock = Lock::new();
        // Free, but a woken waiter is on its way: the fast path's compare-exchange from 0
        // fails, and the slow path takes the lock at its first look, without parking.
        lock.state.store(PARKED, Ordering::Relaxed);
        let before = wait::contended_count();
        lock.acquire();
        assert_eq!(wait::contended_count(), before + 1);
        assert_eq!(lock.holder(), Some(crate::current_thread()));
        // SAFETY: the calling thread's entry lives as long as the thread.
        let me = unsafe { &*registry::current_ptr() };
        assert!(me.wait_record().is_none(), "no record for a spin");
        lock.release().unwrap();
        // The uncontended path does not count.
        lock.acquire();
        lock.release().unwrap();
        assert_eq!(wait::contended_count(), before + 1);
    }

    #[test]
    fn a_wait_parked_again_after_a_wake_up_keeps_its_start() {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let l = lock.clone();
        let t = Thread::new(move || {
            l.acquire();
            l.release().unwrap();
        });
        t.start().unwrap();
        let first = until_parked(&t);
        for _ in 0..3 {
            // Wake it while the lock is still held: it looks, parks again, same operation.
            wait::unpark_all(lock.addr());
            std::thread::sleep(std::time::Duration::from_millis(2));
            let again = until_parked(&t);
            assert_eq!(again.since(), first.since());
            assert_eq!(again.object(), lock.id());
        }
        lock.release().unwrap();
        t.join().unwrap();
    }
}
