//! [`RwLock<T>`]: many readers or one writer, lock_api's guards over threadkit's own raw
//! reader-writer lock, [`RawRwLock`].
//!
//! # How it works
//!
//! One word holds everything (see the table on [`RawRwLock`]'s `state`). A reader that sees no
//! `WRITER` bit adds itself with one `fetch_add` (no compare-exchange to fail under other
//! readers) and is in unless a writer took the bit meanwhile; then it takes itself back out and
//! waits. (The load first keeps refused readers off the writer's cache line: measured, it wins
//! in the write-heavy and 16-thread read-mostly runs and costs nothing uncontended.) A writer first takes the `WRITER` bit (one compare-exchange when
//! the lock is free), which keeps new readers out, then waits for the readers already inside to
//! leave: so a stream of readers cannot starve a writer.
//!
//! Three parking keys, all inside the lock (its address, +1, +2), so no token is needed to
//! tell waiters apart: readers waiting for the writer to leave, writers and upgradable readers
//! waiting for the `WRITER`/`UPGRADABLE` bit, and the one writer that holds `WRITER` waiting
//! for the readers to drain. Each has its "parked" bit, set before parking and checked by the
//! park's `validate` under the queue lock; a waker clears the bit and then wakes (all readers,
//! one writer, the drainer), so a waiter that queued before the clear is woken and one that
//! validates after it sees the clear bit and retries (the protocol of [`Lock`](crate::Lock)).
//!
//! A blocked thread records its wait through the crate's one wait path, with the writer (or
//! upgradable reader) that keeps it out as the owner: that thread's ident (never reused) is
//! kept in `holder`, beside the word, in the layout of a `Lock`'s word, so a reader of the
//! record finds the holder at the time it reads.
//!
//! What that costs, uncontended (a write and its unlock beside parking_lot's pair, which is
//! the same compare-exchange and a `fetch_sub`; criterion, builds alternating, AMD Zen 4):
//! the holder's two stores and the lock-order checks' two loads of the tracking mode made
//! the pair 1.05x parking_lot's time while both unlocked with a `lock xadd` (a `fetch_sub`
//! whose old value is kept), 1.00x without them. This unlock only compares the old value
//! with `WRITER`, which x86 does as a `lock dec` and a flag test: the pair, bookkeeping and
//! all, then takes 0.92-0.95x parking_lot's time. The writer's ident in the high half of
//! `state` instead of the stores (one compare-exchange of `WRITER | ident`) measured 1.2x on
//! an Intel Xeon: the compare-exchange then waits for the thread-local read of the ident.
//! BENCHMARKS.md has the ratios to std and parking_lot.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::held;
use super::wait::{
    self, Blocked, EXCLUSION_PAUSES, ObjectId, ObjectKind, Owner, PacedSpin, WaitKind, Waiting,
};
use crate::primitive::parking_lot_core::{self, ParkResult, SpinWait, UnparkResult};
use crate::primitive::{AtomicU64, AtomicUsize, Ordering};
use crate::threading::record::{WORD_LOCKED, WORD_OWNER_SHIFT, word_holder};
use crate::threading::registry;

/// Held for writing, or a writer holds it and waits for the readers inside to leave.
const WRITER: usize = 1;
/// Held by an upgradable reader (also counted in the readers).
const UPGRADABLE: usize = 1 << 1;
/// Readers are parked (or about to) on the lock's address, waiting for `WRITER` to clear.
const READERS_PARKED: usize = 1 << 2;
/// Writers or upgradable readers are parked (or about to) on address + 1, waiting for
/// `WRITER` and `UPGRADABLE` to clear.
const WRITERS_PARKED: usize = 1 << 3;
/// The thread holding `WRITER` is parked (or about to) on address + 2, waiting for the
/// readers to drain.
const DRAINING: usize = 1 << 4;
/// One reader.
const ONE_READER: usize = 1 << 5;
/// The readers' count, above the flags.
const READERS: usize = !(ONE_READER - 1);
/// The top bit: a reader count reaching it is refused (it cannot overflow), see
/// [`RawRwLock`]'s "Limits".
const TOO_MANY: usize = 1 << (usize::BITS - 1);

/// threadkit's raw reader-writer lock: the state under [`RwLock<T>`], implementing lock_api's
/// `RawRwLock` (+ timed, upgradable, downgrade). Use it through [`RwLock<T>`]; the raw type is
/// public so that `RwLock::from_raw` and lock_api's generic code can name it.
///
/// # Fairness
///
/// Writers are not starved: a writer that finds readers inside takes the lock's `WRITER` bit at
/// once, which makes new readers wait, and waits for those inside to leave. Otherwise not fair:
/// a running thread may take the lock before a woken one (throughput wins, as in
/// [`Lock`](crate::Lock)). A writer's release wakes every waiting reader and one waiting writer.
///
/// # Limits
///
/// At most `usize::MAX >> 6` read guards at once (2^58 on 64-bit targets, 2^26 on 32-bit
/// ones): only leaked guards can reach it, and then a further reader waits (yielding) until
/// one leaves, instead of overflowing.
///
/// # Examples
///
/// ```
/// use lock_api::RawRwLock as _;
/// let raw = threadkit::RawRwLock::new();
/// raw.lock_shared();
/// assert!(raw.is_locked() && !raw.is_locked_exclusive());
/// assert!(raw.try_lock_exclusive().is_none());
/// // SAFETY: this thread holds the shared lock taken above.
/// unsafe { raw.unlock_shared(lock_api::GuardSend::new()) };
/// assert!(raw.try_lock_exclusive().is_some());
/// ```
pub struct RawRwLock {
    /// | bits | meaning |
    /// |---|---|
    /// | 0 `WRITER` | held for writing, or the writer that holds this bit waits for readers to drain; new readers and writers wait |
    /// | 1 `UPGRADABLE` | an upgradable reader holds it (also counted below); writers wait |
    /// | 2 `READERS_PARKED` | readers parked on the address |
    /// | 3 `WRITERS_PARKED` | writers/upgradable readers parked on the address + 1 |
    /// | 4 `DRAINING` | the `WRITER` holder is parked on the address + 2 until the readers are 0 |
    /// | 5.. | readers inside (a reader refused by `WRITER` adds itself for a moment, then leaves) |
    ///
    /// Parked bits are cleared by a waker before it wakes, or under the queue lock by the last
    /// waiter leaving on a timeout. `WRITER` and `UPGRADABLE` are never set together.
    state: AtomicUsize,
    /// The thread holding `WRITER` or `UPGRADABLE`, in a `Lock` word's layout (the locked bit
    /// and the ident above the flags), 0 when neither is held: the owner a blocked thread's
    /// record names, read live. Set just after taking the bit, cleared just before giving it
    /// up (the release ordering of that RMW orders the two).
    holder: AtomicU64,
    /// The name given by `named`, shown in ids, records and dumps; never read on a fast path.
    name: Option<&'static str>,
}

impl RawRwLock {
    /// A new, unlocked raw lock. `const`, so an `RwLock` can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawRwLock as _;
    /// static RAW: threadkit::RawRwLock = threadkit::RawRwLock::new();
    /// assert!(!RAW.is_locked());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        RawRwLock {
            state: AtomicUsize::new(0),
            holder: AtomicU64::new(0),
            name: None,
        }
    }

    /// A new, unlocked raw lock.
    #[cfg(loom)]
    pub fn new() -> Self {
        RawRwLock {
            state: AtomicUsize::new(0),
            holder: AtomicU64::new(0),
            name: None,
        }
    }

    /// A new RawRwLock named `name` (otherwise as [`new`](RawRwLock::new)): the name shows in its
    /// [`id`](RawRwLock::id), so in wait records, errors, thread dumps and deadlock reports. Costs
    /// nothing on the fast path.
    /// An `RwLock<T>` gets a name through its raw lock:
    /// `RwLock::from_raw(RawRwLock::named("config"), value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{RawRwLock, RwLock};
    /// let config = RwLock::from_raw(RawRwLock::named("config"), 0);
    /// // SAFETY: only reads the raw lock's id.
    /// assert_eq!(unsafe { config.raw() }.id().name(), Some("config"));
    /// ```
    #[cfg(not(loom))]
    pub const fn named(name: &'static str) -> Self {
        let mut this = Self::new();
        this.name = Some(name);
        this
    }

    /// A new RawRwLock named `name`.
    #[cfg(loom)]
    pub fn named(name: &'static str) -> Self {
        let mut this = Self::new();
        this.name = Some(name);
        this
    }

    /// The thread holding the lock for writing (or upgradable reading), if any and still
    /// alive: a snapshot, for diagnostics. Readers are not named.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::RwLock::new(0);
    /// // SAFETY: only reads the raw lock's state; no guard is touched.
    /// let raw = unsafe { lock.raw() };
    /// assert!(raw.writer().is_none());
    /// let _w = lock.write();
    /// assert_eq!(raw.writer(), Some(threadkit::current_thread()));
    /// ```
    pub fn writer(&self) -> Option<crate::Thread> {
        if self.state.load(Ordering::Relaxed) & (WRITER | UPGRADABLE) == 0 {
            return None;
        }
        registry::lookup_ident(word_holder(self.holder.load(Ordering::Relaxed)))
    }

    /// The lock's identity in wait records.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::ObjectKind;
    ///
    /// let lock = threadkit::RwLock::new(0);
    /// // SAFETY: only reads the raw lock's address.
    /// let raw = unsafe { lock.raw() };
    /// assert_eq!(raw.id().kind(), ObjectKind::RwLock);
    /// ```
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::RwLock, self.addr()).named(self.name)
    }

    /// Names the calling thread as the `WRITER`/`UPGRADABLE` holder (it just took the bit).
    #[inline]
    fn set_holder(&self) {
        let me = registry::current_ident();
        self.holder
            .store(WORD_LOCKED | (me << WORD_OWNER_SHIFT), Ordering::Relaxed);
    }

    /// Clears the holder (the caller is about to give up `WRITER`/`UPGRADABLE`).
    #[inline]
    fn clear_holder(&self) {
        self.holder.store(0, Ordering::Relaxed);
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// Key of readers waiting for `WRITER` to clear.
    fn readers_key(&self) -> usize {
        self.addr()
    }

    /// Key of writers/upgradable readers waiting for `WRITER`/`UPGRADABLE` to clear.
    fn writers_key(&self) -> usize {
        self.addr() + 1
    }

    /// Key of the `WRITER` holder waiting for the readers to drain.
    fn drain_key(&self) -> usize {
        self.addr() + 2
    }

    /// What a blocked thread records (the one place this file builds one): the holder of
    /// `WRITER`/`UPGRADABLE`, read live, for a thread kept out by that bit; nobody for the
    /// writer waiting for the readers to leave (readers are not named).
    fn blocked(
        &self,
        kind: WaitKind,
        by_bit: bool,
        location: &'static Location<'static>,
    ) -> Blocked {
        let on = Blocked::on(kind, self.id(), location);
        if by_bit {
            on.owned_by(Owner::LockWord(std::ptr::from_ref(&self.holder)))
        } else {
            on
        }
    }

    // ---- held-lock hooks (lock-order checking, dumps) ----

    /// A blocking acquisition (shared, exclusive or upgradable) while held locks are
    /// tracked: the lock order is checked first (it may panic before anything is taken), the
    /// lock is listed once taken.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn lock_tracked(&self, mode: Mode) {
        let location = Location::caller();
        held::acquiring(self.id(), location);
        match mode {
            Mode::Shared => self.lock_shared_at(None),
            Mode::Exclusive => self.lock_exclusive_at(None),
            Mode::Upgradable => self.lock_upgradable_at(None),
        };
        held::acquired(|| self.id(), location);
    }

    /// A timed or non-blocking acquisition ended: lists the lock if `got` (one relaxed load
    /// while tracking is off). Returns `got`.
    #[inline]
    #[track_caller]
    fn took(&self, got: bool) -> bool {
        if got {
            held::acquired(|| self.id(), Location::caller());
        }
        got
    }

    // ---- shared ----

    #[inline]
    fn try_lock_shared_fast(&self) -> bool {
        let old = self.state.fetch_add(ONE_READER, Ordering::Acquire);
        if old & (WRITER | TOO_MANY) == 0 {
            return true;
        }
        self.leave_reader();
        false
    }

    /// A reader leaves: one `fetch_sub`; the last one out wakes a draining writer.
    #[inline]
    fn leave_reader(&self) {
        let old = self.state.fetch_sub(ONE_READER, Ordering::Release);
        // The last reader out while the writer drains (one test for both).
        if old & (DRAINING | READERS) == DRAINING | ONE_READER {
            self.wake_drainer();
        }
    }

    /// A shared acquisition without blocking, also when a refused fast path raced.
    fn try_lock_shared_slow(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & (WRITER | TOO_MANY) == 0 {
            match self.state.compare_exchange_weak(
                s,
                s + ONE_READER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(x) => s = x,
            }
        }
        false
    }

    #[inline]
    #[track_caller]
    fn lock_shared_at(&self, deadline: Option<Instant>) -> bool {
        // A writer is in or draining: wait, without touching the count.
        if self.state.load(Ordering::Relaxed) & WRITER != 0 {
            return self.lock_shared_slow(deadline, Location::caller());
        }
        let old = self.state.fetch_add(ONE_READER, Ordering::Acquire);
        old & (WRITER | TOO_MANY) == 0 || self.lock_shared_refused(deadline, Location::caller())
    }

    /// The fast path counted us in but a writer holds `WRITER`: leave, then wait.
    #[cold]
    #[inline(never)]
    fn lock_shared_refused(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        self.leave_reader();
        self.lock_shared_slow(deadline, location)
    }

    /// Waits while a writer holds `WRITER`; true once in as a reader, false at `deadline`.
    #[cold]
    #[inline(never)]
    fn lock_shared_slow(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        wait::contended(self.id());
        let mut rec: Option<Waiting> = None;
        // At a lock's pace: see `EXCLUSION_PAUSES`.
        let mut spin = PacedSpin::new(EXCLUSION_PAUSES);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & WRITER == 0 {
                if s & TOO_MANY != 0 {
                    // Only leaked guards get here (see "Limits"): wait for a reader to leave.
                    std::thread::yield_now();
                    s = self.state.load(Ordering::Relaxed);
                    continue;
                }
                match self.state.compare_exchange_weak(
                    s,
                    s + ONE_READER,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return true,
                    Err(x) => s = x,
                }
                continue;
            }
            if s & READERS_PARKED == 0 && spin.spin() {
                s = self.state.load(Ordering::Relaxed);
                continue;
            }
            if s & READERS_PARKED == 0
                && let Err(x) = self.state.compare_exchange_weak(
                    s,
                    s | READERS_PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
            {
                s = x;
                continue;
            }
            let rec = rec.get_or_insert_with(|| {
                Waiting::begin(
                    self.blocked(WaitKind::RwLockRead, true, location)
                        .timed_by(deadline),
                )
            });
            let validate = || {
                let s = self.state.load(Ordering::Relaxed);
                s & WRITER != 0 && s & READERS_PARKED != 0
            };
            let timed_out = |_, was_last_thread| {
                if was_last_thread {
                    self.state.fetch_and(!READERS_PARKED, Ordering::Relaxed);
                }
            };
            if rec.park(self.readers_key(), deadline, validate, timed_out) == ParkResult::TimedOut {
                return false;
            }
            spin.reset();
            s = self.state.load(Ordering::Relaxed);
        }
    }

    // ---- exclusive and upgradable: the WRITER/UPGRADABLE bit ----

    /// Takes `WRITER` (with `add` = `WRITER`) or `UPGRADABLE` and a reader (with
    /// `add` = `UPGRADABLE | ONE_READER`) once neither bit is set; false at `deadline`.
    #[cold]
    #[inline(never)]
    fn take_bit_slow(
        &self,
        add: usize,
        kind: WaitKind,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        wait::contended(self.id());
        let mut rec: Option<Waiting> = None;
        // At a lock's pace: see `EXCLUSION_PAUSES`.
        let mut spin = PacedSpin::new(EXCLUSION_PAUSES);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & (WRITER | UPGRADABLE | TOO_MANY) == 0 {
                match self.state.compare_exchange_weak(
                    s,
                    s + add,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        self.set_holder();
                        return true;
                    }
                    Err(x) => s = x,
                }
                continue;
            }
            if s & (WRITER | UPGRADABLE) == 0 {
                // An upgradable reader over the reader limit (leaked guards only).
                std::thread::yield_now();
                s = self.state.load(Ordering::Relaxed);
                continue;
            }
            if s & WRITERS_PARKED == 0 && spin.spin() {
                s = self.state.load(Ordering::Relaxed);
                continue;
            }
            if s & WRITERS_PARKED == 0
                && let Err(x) = self.state.compare_exchange_weak(
                    s,
                    s | WRITERS_PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
            {
                s = x;
                continue;
            }
            let rec = rec.get_or_insert_with(|| {
                Waiting::begin(self.blocked(kind, true, location).timed_by(deadline))
            });
            let validate = || {
                let s = self.state.load(Ordering::Relaxed);
                s & (WRITER | UPGRADABLE) != 0 && s & WRITERS_PARKED != 0
            };
            let timed_out = |_, was_last_thread| {
                if was_last_thread {
                    self.state.fetch_and(!WRITERS_PARKED, Ordering::Relaxed);
                }
            };
            if rec.park(self.writers_key(), deadline, validate, timed_out) == ParkResult::TimedOut {
                return false;
            }
            spin.reset();
            s = self.state.load(Ordering::Relaxed);
        }
    }

    /// The `WRITER` holder waits for the readers inside to leave. On timeout it gives `WRITER`
    /// back, adding `restore` (0 for a writer; `UPGRADABLE | ONE_READER` for an upgrade, which
    /// stays an upgradable reader), wakes whom `WRITER` kept out, and returns false.
    #[inline]
    fn drain(
        &self,
        restore: usize,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        let s = self.state.load(Ordering::Acquire);
        if s & READERS == 0 {
            return true;
        }
        self.drain_slow(s, restore, deadline, location)
    }

    #[cold]
    #[inline(never)]
    fn drain_slow(
        &self,
        mut s: usize,
        restore: usize,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        let mut rec: Option<Waiting> = None;
        let mut spin = SpinWait::new();
        while s & READERS != 0 {
            if spin.spin() {
                s = self.state.load(Ordering::Acquire);
                continue;
            }
            if s & DRAINING == 0
                && let Err(x) = self.state.compare_exchange_weak(
                    s,
                    s | DRAINING,
                    Ordering::Acquire,
                    Ordering::Acquire,
                )
            {
                s = x;
                continue;
            }
            // Readers are not named: the wait has no owner. Nested in the writer's wait for the
            // bit (if it had one), it keeps that wait's start.
            let rec = rec.get_or_insert_with(|| {
                Waiting::begin(
                    self.blocked(WaitKind::RwLockWrite, false, location)
                        .timed_by(deadline),
                )
            });
            let validate = || {
                let s = self.state.load(Ordering::Relaxed);
                s & READERS != 0 && s & DRAINING != 0
            };
            // Only the `WRITER` holder parks on this key: it is always the last one.
            let timed_out = |_, _| {
                self.state.fetch_and(!DRAINING, Ordering::Relaxed);
            };
            if rec.park(self.drain_key(), deadline, validate, timed_out) == ParkResult::TimedOut {
                if restore == 0 {
                    self.clear_holder();
                }
                let old = self
                    .state
                    .fetch_add(restore.wrapping_sub(WRITER), Ordering::Release);
                self.wake_waiters(old);
                return false;
            }
            s = self.state.load(Ordering::Acquire);
        }
        true
    }

    #[inline]
    fn try_lock_exclusive_fast(&self) -> bool {
        let ok = self
            .state
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if ok {
            self.set_holder();
        }
        ok
    }

    #[inline]
    #[track_caller]
    fn lock_exclusive_at(&self, deadline: Option<Instant>) -> bool {
        if self.try_lock_exclusive_fast() {
            return true;
        }
        let location = Location::caller();
        self.take_bit_slow(WRITER, WaitKind::RwLockWrite, deadline, location)
            && self.drain(0, deadline, location)
    }

    fn try_lock_exclusive_slow(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & (WRITER | UPGRADABLE | READERS) == 0 {
            match self.state.compare_exchange_weak(
                s,
                s | WRITER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.set_holder();
                    return true;
                }
                Err(x) => s = x,
            }
        }
        false
    }

    #[inline]
    fn unlock_exclusive_inner(&self) {
        self.clear_holder();
        // One `fetch_sub` whose old value is only compared with `WRITER`: on x86 a `lock dec`
        // and a test of its flags, where a `lock xadd` (which returns the old value) made
        // the uncontended pair 1.1x as long on AMD Zen 4. A compare-and-swap from exactly
        // `WRITER` measured slower than the `lock xadd`.
        if self.state.fetch_sub(WRITER, Ordering::Release) != WRITER {
            self.unlock_exclusive_slow();
        }
    }

    /// Someone else was in the word when the writer left: wakes whoever is parked. The old
    /// value is gone, but the word now still has every parked bit that was set before the
    /// release, unless a waker cleared it since (a waker clears, then wakes) or the last
    /// waiter left on a timeout; a bit set since is woken needlessly, and that waiter parks
    /// again.
    #[cold]
    #[inline(never)]
    fn unlock_exclusive_slow(&self) {
        self.wake_waiters(self.state.load(Ordering::Relaxed));
    }

    #[inline]
    fn try_lock_upgradable_fast(&self) -> bool {
        let s = self.state.load(Ordering::Relaxed);
        if s & (WRITER | UPGRADABLE | TOO_MANY) != 0 {
            return false;
        }
        let ok = self
            .state
            .compare_exchange_weak(
                s,
                s + (UPGRADABLE | ONE_READER),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok();
        if ok {
            self.set_holder();
        }
        ok
    }

    fn try_lock_upgradable_slow(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & (WRITER | UPGRADABLE | TOO_MANY) == 0 {
            match self.state.compare_exchange_weak(
                s,
                s + (UPGRADABLE | ONE_READER),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.set_holder();
                    return true;
                }
                Err(x) => s = x,
            }
        }
        false
    }

    #[inline]
    #[track_caller]
    fn lock_upgradable_at(&self, deadline: Option<Instant>) -> bool {
        self.try_lock_upgradable_fast()
            || self.take_bit_slow(
                UPGRADABLE | ONE_READER,
                WaitKind::RwLockRead,
                deadline,
                Location::caller(),
            )
    }

    #[inline]
    fn unlock_upgradable_inner(&self) {
        self.clear_holder();
        let old = self
            .state
            .fetch_sub(UPGRADABLE | ONE_READER, Ordering::Release);
        if old & WRITERS_PARKED != 0 {
            self.wake_waiters(old & !READERS_PARKED);
        }
    }

    /// Upgradable to `WRITER` at once (the readers may still be inside).
    #[inline]
    fn upgrade_take(&self) {
        self.state.fetch_add(
            WRITER.wrapping_sub(UPGRADABLE | ONE_READER),
            Ordering::Acquire,
        );
    }

    #[inline]
    #[track_caller]
    fn upgrade_at(&self, deadline: Option<Instant>) -> bool {
        self.upgrade_take();
        self.drain(UPGRADABLE | ONE_READER, deadline, Location::caller())
    }

    fn try_upgrade_inner(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & READERS == ONE_READER {
            match self.state.compare_exchange_weak(
                s,
                s.wrapping_add(WRITER.wrapping_sub(UPGRADABLE | ONE_READER)),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(x) => s = x,
            }
        }
        false
    }

    // ---- wake-ups ----

    /// `old` is the state just before the caller cleared `WRITER` or `UPGRADABLE` (after a
    /// writer's unlock: just after): clears the parked bits it shows and wakes those threads
    /// (every reader, one writer).
    #[inline]
    fn wake_waiters(&self, old: usize) {
        let bits = old & (READERS_PARKED | WRITERS_PARKED);
        if bits != 0 {
            self.wake_slow(bits);
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_slow(&self, bits: usize) {
        self.state.fetch_and(!bits, Ordering::Relaxed);
        if bits & READERS_PARKED != 0 {
            wait::unpark_all(self.readers_key());
        }
        if bits & WRITERS_PARKED != 0 {
            let callback = |r: UnparkResult| {
                if r.have_more_threads {
                    self.state.fetch_or(WRITERS_PARKED, Ordering::Relaxed);
                }
                parking_lot_core::DEFAULT_UNPARK_TOKEN
            };
            // SAFETY: the key is inside this lock; the callback only touches an atomic: it
            // neither panics nor calls into the parking lot.
            unsafe { parking_lot_core::unpark_one(self.writers_key(), callback) };
        }
    }

    /// The last reader left while the `WRITER` holder drains: wake it.
    #[cold]
    #[inline(never)]
    fn wake_drainer(&self) {
        let callback = |_: UnparkResult| {
            self.state.fetch_and(!DRAINING, Ordering::Relaxed);
            parking_lot_core::DEFAULT_UNPARK_TOKEN
        };
        // SAFETY: as in `wake_slow`.
        unsafe { parking_lot_core::unpark_one(self.drain_key(), callback) };
    }
}

/// Which acquisition [`RawRwLock::lock_tracked`] makes.
#[derive(Clone, Copy)]
enum Mode {
    Shared,
    Exclusive,
    Upgradable,
}

impl Drop for RawRwLock {
    /// Forgets the lock's place in the lock order, while lock-order checking is on (one
    /// relaxed load while it is off): a new lock at the same address starts with no order.
    fn drop(&mut self) {
        held::dropped(self.addr());
    }
}

impl Default for RawRwLock {
    fn default() -> Self {
        RawRwLock::new()
    }
}

impl fmt::Debug for RawRwLock {
    /// `RawRwLock { readers: 2, writer: false }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Ordering::Relaxed);
        let mut d = f.debug_struct("RawRwLock");
        d.field("readers", &((s & READERS) / ONE_READER));
        d.field("writer", &(s & WRITER != 0));
        if s & UPGRADABLE != 0 {
            d.field("upgradable", &true);
        }
        if s & (WRITER | UPGRADABLE) != 0 {
            d.field("holder", &word_holder(self.holder.load(Ordering::Relaxed)));
        }
        d.finish()
    }
}

// SAFETY: a shared guard is returned only once the reader is counted with `WRITER` clear (an
// Acquire RMW), and `WRITER` cannot be taken to the drained state while a reader is counted;
// an exclusive guard only once `WRITER` is ours and the readers are 0 (an Acquire load after
// their Release `fetch_sub`). So a writer excludes everyone, readers exclude writers. Unlocks
// are Release RMWs. Guards may cross threads: nothing is tied to the locking thread.
unsafe impl lock_api::RawRwLock for RawRwLock {
    #[cfg(not(loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawRwLock = RawRwLock::new();

    // Under loom, build with `RwLock::from_raw(RawRwLock::new(), value)`.
    #[cfg(loom)]
    const INIT: RawRwLock = panic!("under loom, use RwLock::from_raw(RawRwLock::new(), value)");

    type SharedGuard = lock_api::GuardSend;
    type ExclusiveGuard = lock_api::GuardSend;

    #[inline]
    #[track_caller]
    fn lock_shared(&self) -> lock_api::GuardSend {
        if held::active() {
            self.lock_tracked(Mode::Shared);
        } else {
            self.lock_shared_at(None);
        }
        lock_api::GuardSend::new()
    }

    #[inline]
    #[track_caller]
    fn try_lock_shared(&self) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_shared_fast() || self.try_lock_shared_slow();
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    unsafe fn unlock_shared(&self, _guard: lock_api::GuardSend) {
        held::released(self.addr());
        self.leave_reader();
    }

    #[inline]
    #[track_caller]
    fn lock_exclusive(&self) -> lock_api::GuardSend {
        if held::active() {
            self.lock_tracked(Mode::Exclusive);
        } else {
            self.lock_exclusive_at(None);
        }
        lock_api::GuardSend::new()
    }

    #[inline]
    #[track_caller]
    fn try_lock_exclusive(&self) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_exclusive_fast() || self.try_lock_exclusive_slow();
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    unsafe fn unlock_exclusive(&self, _guard: lock_api::GuardSend) {
        held::released(self.addr());
        self.unlock_exclusive_inner();
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & (WRITER | READERS) != 0
    }

    #[inline]
    fn is_locked_exclusive(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WRITER != 0
    }
}

// SAFETY: as for `RawRwLock`: the timed forms return a guard only once acquired, and a
// writer that times out while draining gives `WRITER` back (waking whom it kept out).
unsafe impl lock_api::RawRwLockTimed for RawRwLock {
    type Duration = Duration;
    type Instant = Instant;

    #[inline]
    #[track_caller]
    fn try_lock_shared_for(&self, timeout: Duration) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_shared_fast()
            || if timeout.is_zero() {
                self.try_lock_shared_slow()
            } else {
                self.lock_shared_slow(wait::deadline(timeout), Location::caller())
            };
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    #[track_caller]
    fn try_lock_shared_until(&self, deadline: Instant) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_shared_fast()
            || (Instant::now() < deadline
                && self.lock_shared_slow(Some(deadline), Location::caller()))
            || self.try_lock_shared_slow();
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    #[track_caller]
    fn try_lock_exclusive_for(&self, timeout: Duration) -> Option<lock_api::GuardSend> {
        let got = if timeout.is_zero() {
            self.try_lock_exclusive_fast() || self.try_lock_exclusive_slow()
        } else {
            self.lock_exclusive_at(wait::deadline(timeout))
        };
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    #[track_caller]
    fn try_lock_exclusive_until(&self, deadline: Instant) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_exclusive_fast()
            || (Instant::now() < deadline && self.lock_exclusive_at(Some(deadline)))
            || self.try_lock_exclusive_slow();
        self.took(got).then(lock_api::GuardSend::new)
    }
}

// SAFETY: a writer becomes a reader in one RMW (`WRITER` off, one reader on), so no other
// writer can come in between; waiters kept out by `WRITER` are woken.
unsafe impl lock_api::RawRwLockDowngrade for RawRwLock {
    #[inline]
    unsafe fn downgrade(&self, _guard: lock_api::GuardSend) -> lock_api::GuardSend {
        self.clear_holder();
        let old = self
            .state
            .fetch_add(ONE_READER.wrapping_sub(WRITER), Ordering::Release);
        self.wake_waiters(old);
        lock_api::GuardSend::new()
    }
}

// SAFETY: an upgradable reader is a reader that also holds `UPGRADABLE`, which only one thread
// holds at a time and which keeps writers (and other upgradable readers) out; an upgrade turns
// it into `WRITER` in one RMW, so no writer can come in between, then waits for the readers.
unsafe impl lock_api::RawRwLockUpgrade for RawRwLock {
    type UpgradableGuard = lock_api::GuardSend;

    #[inline]
    #[track_caller]
    fn lock_upgradable(&self) -> lock_api::GuardSend {
        if held::active() {
            self.lock_tracked(Mode::Upgradable);
        } else {
            self.lock_upgradable_at(None);
        }
        lock_api::GuardSend::new()
    }

    #[inline]
    #[track_caller]
    fn try_lock_upgradable(&self) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_upgradable_fast() || self.try_lock_upgradable_slow();
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    unsafe fn unlock_upgradable(&self, _guard: lock_api::GuardSend) {
        held::released(self.addr());
        self.unlock_upgradable_inner();
    }

    #[inline]
    #[track_caller]
    unsafe fn upgrade(&self, _guard: lock_api::GuardSend) -> lock_api::GuardSend {
        self.upgrade_at(None);
        lock_api::GuardSend::new()
    }

    #[inline]
    unsafe fn try_upgrade(
        &self,
        guard: lock_api::GuardSend,
    ) -> Result<lock_api::GuardSend, lock_api::GuardSend> {
        if self.try_upgrade_inner() {
            Ok(lock_api::GuardSend::new())
        } else {
            Err(guard)
        }
    }
}

// SAFETY: each downgrade is one RMW that keeps the caller inside as a reader (or upgradable
// reader) and wakes whom the released bit kept out.
unsafe impl lock_api::RawRwLockUpgradeDowngrade for RawRwLock {
    #[inline]
    unsafe fn downgrade_upgradable(&self, _guard: lock_api::GuardSend) -> lock_api::GuardSend {
        self.clear_holder();
        let old = self.state.fetch_sub(UPGRADABLE, Ordering::Release);
        self.wake_waiters(old & !READERS_PARKED);
        lock_api::GuardSend::new()
    }

    #[inline]
    unsafe fn downgrade_to_upgradable(&self, _guard: lock_api::GuardSend) -> lock_api::GuardSend {
        let old = self.state.fetch_add(
            (UPGRADABLE | ONE_READER).wrapping_sub(WRITER),
            Ordering::Release,
        );
        // Writers stay out (`UPGRADABLE`): wake the readers only.
        self.wake_waiters(old & !WRITERS_PARKED);
        lock_api::GuardSend::new()
    }
}

// SAFETY: as for `RawRwLockUpgrade` and `RawRwLockTimed`; an upgrade that times out while
// draining becomes an upgradable reader again (`drain`'s `restore`).
unsafe impl lock_api::RawRwLockUpgradeTimed for RawRwLock {
    #[inline]
    #[track_caller]
    fn try_lock_upgradable_for(&self, timeout: Duration) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_upgradable_fast()
            || if timeout.is_zero() {
                self.try_lock_upgradable_slow()
            } else {
                self.lock_upgradable_at(wait::deadline(timeout))
            };
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    #[track_caller]
    fn try_lock_upgradable_until(&self, deadline: Instant) -> Option<lock_api::GuardSend> {
        let got = self.try_lock_upgradable_fast()
            || (Instant::now() < deadline && self.lock_upgradable_at(Some(deadline)))
            || self.try_lock_upgradable_slow();
        self.took(got).then(lock_api::GuardSend::new)
    }

    #[inline]
    #[track_caller]
    unsafe fn try_upgrade_for(
        &self,
        guard: lock_api::GuardSend,
        timeout: Duration,
    ) -> Result<lock_api::GuardSend, lock_api::GuardSend> {
        let got = if timeout.is_zero() {
            self.try_upgrade_inner()
        } else {
            self.upgrade_at(wait::deadline(timeout))
        };
        if got {
            Ok(lock_api::GuardSend::new())
        } else {
            Err(guard)
        }
    }

    #[inline]
    #[track_caller]
    unsafe fn try_upgrade_until(
        &self,
        guard: lock_api::GuardSend,
        deadline: Instant,
    ) -> Result<lock_api::GuardSend, lock_api::GuardSend> {
        let got = self.try_upgrade_inner()
            || (Instant::now() < deadline && self.upgrade_at(Some(deadline)));
        if got {
            Ok(lock_api::GuardSend::new())
        } else {
            Err(guard)
        }
    }
}

/// Data shared by many readers or changed by one writer: lock_api's `RwLock` over threadkit's
/// [`RawRwLock`] (Python has none; this is the one a Rust user expects).
///
/// It has lock_api's whole API: `read`, `write`, `try_read`/`try_write`,
/// `try_read_for`/`try_write_for` (and `_until`), `upgradable_read` with
/// `RwLockUpgradableReadGuard::upgrade`, `RwLockWriteGuard::downgrade`, guard mapping,
/// `get_mut`, `into_inner`. A blocked reader or writer shows up in
/// [`Thread::waiting`](crate::Thread::waiting) as [`WaitKind::RwLockRead`] or
/// [`WaitKind::RwLockWrite`], with the writer in the way as the owner.
///
/// # Fairness
///
/// Writers are not starved by readers: once a writer waits, new readers wait behind it (see
/// [`RawRwLock`]). A reader that already holds a read guard and asks for another while a writer
/// waits deadlocks, as with std and parking_lot: do not nest read locks.
///
/// # Differences from `std::sync::RwLock`
///
/// No poisoning (as in parking_lot and Python); `const fn new`; upgradable reads; timed
/// locking; guards are `Send`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{RwLock, Thread};
///
/// let config = Arc::new(RwLock::new(String::from("v1")));
/// let mut readers = Vec::new();
/// for _ in 0..3 {
///     let c = config.clone();
///     let t = Thread::new(move || assert!(c.read().starts_with('v')));
///     t.start()?;
///     readers.push(t);
/// }
/// config.write().replace_range(1.., "2");
/// for t in readers {
///     t.join()?;
/// }
/// assert_eq!(*config.read(), "v2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type RwLock<T> = lock_api::RwLock<RawRwLock, T>;

/// A shared guard of an [`RwLock<T>`]: derefs to the value; the read lock is released when it
/// is dropped.
///
/// # Examples
///
/// ```
/// let lock = threadkit::RwLock::new(5);
/// let a: threadkit::RwLockReadGuard<'_, i32> = lock.read();
/// let b = lock.read(); // readers share
/// assert_eq!(*a + *b, 10);
/// assert!(lock.try_write().is_none());
/// ```
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;

/// The exclusive guard of an [`RwLock<T>`]: derefs mutably; the write lock is released when it
/// is dropped. `RwLockWriteGuard::downgrade` turns it into a read guard without letting a
/// writer in.
///
/// # Examples
///
/// ```
/// use threadkit::{RwLock, RwLockWriteGuard};
/// let lock = RwLock::new(vec![1]);
/// let mut w: RwLockWriteGuard<'_, Vec<i32>> = lock.write();
/// w.push(2);
/// assert!(lock.try_read().is_none());
/// let r = RwLockWriteGuard::downgrade(w);
/// assert_eq!(*r, [1, 2]);
/// assert!(lock.try_read().is_some());
/// ```
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;

/// An upgradable read guard of an [`RwLock<T>`]: shares the lock with plain readers, excludes
/// writers and other upgradable readers, and can become a write guard
/// (`RwLockUpgradableReadGuard::upgrade`) without letting another writer in first.
///
/// # Examples
///
/// ```
/// use threadkit::{RwLock, RwLockUpgradableReadGuard};
/// let lock = RwLock::new(1);
/// let u = lock.upgradable_read();
/// assert_eq!(*lock.read(), 1); // plain readers still come in
/// assert!(lock.try_upgradable_read().is_none());
/// let mut w = RwLockUpgradableReadGuard::upgrade(u);
/// *w += 1;
/// drop(w);
/// assert_eq!(*lock.read(), 2);
/// ```
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;

/// An [`RwLockReadGuard`] narrowed to part of the value with `RwLockReadGuard::map`.
///
/// # Examples
///
/// ```
/// use threadkit::{MappedRwLockReadGuard, RwLock, RwLockReadGuard};
/// let lock = RwLock::new((1, String::from("a")));
/// let s: MappedRwLockReadGuard<'_, String> = RwLockReadGuard::map(lock.read(), |v| &v.1);
/// assert_eq!(*s, "a");
/// ```
pub type MappedRwLockReadGuard<'a, T> = lock_api::MappedRwLockReadGuard<'a, RawRwLock, T>;

/// An [`RwLockWriteGuard`] narrowed to part of the value with `RwLockWriteGuard::map`.
///
/// # Examples
///
/// ```
/// use threadkit::{MappedRwLockWriteGuard, RwLock, RwLockWriteGuard};
/// let lock = RwLock::new((1, String::from("a")));
/// let mut s: MappedRwLockWriteGuard<'_, String> =
///     RwLockWriteGuard::map(lock.write(), |v| &mut v.1);
/// s.push('b');
/// drop(s);
/// assert_eq!(lock.read().1, "ab");
/// ```
pub type MappedRwLockWriteGuard<'a, T> = lock_api::MappedRwLockWriteGuard<'a, RawRwLock, T>;

/// loom models of the timed forms with deadlines that may fire at any point (see
/// `park_loom::with_firing_deadlines`, which integration tests cannot reach): a writer whose
/// wait for the readers times out must give `WRITER` back and wake the reader it kept out; a
/// reader whose wait for the writer times out must leave no parked bit behind. The untimed
/// hand-offs are in `tests/loom_rwlock.rs`. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib sync::rwlock`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use lock_api::{GuardSend, RawRwLock as _, RawRwLockTimed as _};
    use loom::sync::Arc;
    use loom::thread;

    use super::RawRwLock;
    use crate::primitive::Ordering;
    use crate::primitive::park_loom::{bounded, with_firing_deadlines};

    /// Runs `model` everywhere within the bound and checks that both answers occurred.
    fn check_both(bound: usize, model: fn() -> bool) {
        let saw = std::sync::Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let s = saw.clone();
        with_firing_deadlines(|| {
            bounded(bound, move || {
                s[usize::from(model())].store(true, StdOrdering::Relaxed);
            });
        });
        assert!(saw[1].load(StdOrdering::Relaxed), "the lock never came");
        assert!(saw[0].load(StdOrdering::Relaxed), "the deadline never won");
    }

    fn assert_clean(lock: &RawRwLock) {
        assert_eq!(lock.state.load(Ordering::Relaxed), 0, "a bit left behind");
    }

    /// A reader inside; a timed writer waits for it; the reader leaves at any point. Whatever
    /// happens, a reader arriving meanwhile gets in (woken if the writer kept it out), and the
    /// word ends clean. Returns whether the writer got the lock.
    fn timed_writer_racing_reader_leaving() -> bool {
        let lock = Arc::new(RawRwLock::new());
        lock.lock_shared();
        let l = lock.clone();
        let writer = thread::spawn(move || {
            let got = l
                .try_lock_exclusive_for(Duration::from_secs(3600))
                .is_some();
            if got {
                // SAFETY: taken just above.
                unsafe { l.unlock_exclusive(GuardSend::new()) };
            }
            got
        });
        let l = lock.clone();
        let late_reader = thread::spawn(move || {
            l.lock_shared();
            // SAFETY: taken just above.
            unsafe { l.unlock_shared(GuardSend::new()) };
        });
        // SAFETY: held since the start.
        unsafe { lock.unlock_shared(GuardSend::new()) };
        late_reader.join().unwrap();
        let got = writer.join().unwrap();
        assert_clean(&lock);
        got
    }

    /// A writer holds the lock; a timed reader waits; the writer leaves at any point.
    fn timed_reader_racing_writer_leaving() -> bool {
        let lock = Arc::new(RawRwLock::new());
        lock.lock_exclusive();
        let l = lock.clone();
        let who = Arc::new((
            std::sync::OnceLock::new(),
            crate::primitive::AtomicBool::new(false),
        ));
        let w = who.clone();
        let reader = thread::spawn(move || {
            let _ = w.0.set(crate::current_thread());
            let got = l.try_lock_shared_for(Duration::from_secs(3600)).is_some();
            w.1.store(true, Ordering::Relaxed);
            if got {
                // SAFETY: taken just above.
                unsafe { l.unlock_shared(GuardSend::new()) };
            }
            got
        });
        // Let the reader reach its wait (loom runs a yielding spinner only when we yield).
        while !who.1.load(Ordering::Relaxed)
            && who
                .0
                .get()
                .is_none_or(|t: &crate::Thread| t.waiting().is_none())
        {
            thread::yield_now();
        }
        // SAFETY: held since the start.
        unsafe { lock.unlock_exclusive(GuardSend::new()) };
        let got = reader.join().unwrap();
        assert_clean(&lock);
        got
    }

    #[test]
    fn writer_timeout_while_draining() {
        check_both(2, timed_writer_racing_reader_leaving);
    }

    #[test]
    fn reader_timeout_while_a_writer_holds() {
        check_both(3, timed_reader_racing_writer_leaving);
    }
}
