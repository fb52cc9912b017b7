//! [`Barrier`]: a meeting point for a fixed number of threads, as Python's
//! `threading.Barrier`, and its errors.

use std::error::Error;
use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::time::{Duration, Instant};

use super::error::current_name;
use super::wait::{self, Attempt, Blocked, ObjectId, ObjectKind, ParkWord, WaitKind};
use crate::primitive::{AtomicU64, Ordering};

/// Bits of the state word that count the threads of the current cycle.
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
/// The cycle is broken: waiters leave with an error, arrivals are refused.
const BROKEN: u64 = 1 << 24;
/// `reset` was called while threads were inside a broken cycle: the last of them to leave
/// starts the next cycle; arrivals wait for it.
const RESETTING: u64 = 1 << 25;
/// Threads are parked (or about to park) on the barrier.
const PARKED: u64 = 1 << 26;
/// Why the cycle broke: a [`BrokenCause`] in two bits.
const CAUSE_SHIFT: u32 = 27;
const CAUSE_MASK: u64 = 0b11 << CAUSE_SHIFT;
/// The cycle number, wrapping, in the top bits.
const GEN_SHIFT: u32 = 29;
const GEN_MASK: u64 = !((1 << GEN_SHIFT) - 1);
const GEN_ONE: u64 = 1 << GEN_SHIFT;

/// The most parties a barrier can have.
const MAX_PARTIES: usize = COUNT_MASK as usize;

fn count(s: u64) -> usize {
    (s & COUNT_MASK) as usize
}

/// The state of a fresh cycle after the one in `s`: count 0, not broken, nobody parked.
fn next_cycle(s: u64) -> u64 {
    (s & GEN_MASK).wrapping_add(GEN_ONE)
}

/// A barrier for a fixed number of threads, as Python's `threading.Barrier`: each of `parties`
/// threads calls [`wait`](Barrier::wait), and all of them return once the last has arrived.
/// The barrier then starts over, ready for the next cycle.
///
/// Each thread gets its arrival index, `0..parties`, different for each thread of a cycle. An
/// optional action ([`with_action`](Barrier::with_action)) runs once per cycle, in the last
/// thread to arrive, before the others are released. A timeout (given to
/// [`wait_timeout`](Barrier::wait_timeout), or as the default of
/// [`with_timeout`](Barrier::with_timeout)), a call to [`abort`](Barrier::abort) or a
/// panicking action breaks the barrier: every thread waiting in it, and every thread that
/// arrives later, gets a [`BrokenBarrierError`], until [`reset`](Barrier::reset).
///
/// Arriving is one compare-exchange on one word; a thread that must wait spins briefly (and,
/// where its recent waits were answered within tens of microseconds, yields and looks for up
/// to 64 µs), then parks, and while parked [`Thread::waiting`](crate::Thread::waiting) shows
/// it as a [`WaitKind::Barrier`] wait. The last thread wakes the others only if one of them parked.
///
/// # Differences from Python
///
/// - `Barrier(parties, action, timeout)` is
///   `Barrier::new(parties)?.with_action(action).with_timeout(timeout)`; `parties == 0`
///   returns a [`BarrierPartiesError`] instead of raising `ValueError`.
/// - `wait(timeout)` is [`wait_timeout`](Barrier::wait_timeout); both return a `Result`,
///   whose error says why the barrier broke ([`BrokenCause`]).
/// - An action that panics breaks the barrier, as an action that raises does in Python, and
///   the panic continues in the thread that ran it.
/// - Threads arriving while the action runs (more threads than parties) wait for the next
///   cycle, as in Python; a cycle does not wait for the previous one's threads to leave.
/// - A timeout covers the whole call. Python waits without a timeout while the previous
///   cycle's action runs and only then starts the clock; here a party whose time runs out
///   while it waits for the action to end breaks that running cycle, whose parties then get
///   [`BrokenCause::Timeout`] too.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use threadkit::{Barrier, Thread};
///
/// let cycles = Arc::new(AtomicUsize::new(0));
/// let c = cycles.clone();
/// let barrier = Arc::new(Barrier::new(3)?.with_action(move || {
///     c.fetch_add(1, Ordering::SeqCst);
/// }));
/// let mut threads = Vec::new();
/// for _ in 0..3 {
///     let b = barrier.clone();
///     let t = Thread::new(move || {
///         let index = b.wait().expect("not broken");
///         assert!(index < 3);
///     });
///     t.start()?;
///     threads.push(t);
/// }
/// for t in threads {
///     t.join()?;
/// }
/// assert_eq!(cycles.load(Ordering::SeqCst), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Barrier {
    /// | bits | meaning |
    /// |---|---|
    /// | 0..24 | threads counted in this cycle and not yet gone (equal to `parties` while the action runs) |
    /// | 24 `BROKEN` | the cycle is broken |
    /// | 25 `RESETTING` | broken, and `reset` waits for the cycle's threads to leave |
    /// | 26 `PARKED` | threads are parked or about to park; cleared by whoever ends the cycle or breaks it, or under the queue lock by the last waiter to time out |
    /// | 27..29 | the [`BrokenCause`] while `BROKEN` |
    /// | 29..64 | the cycle number (wrapping) |
    ///
    /// A waiter of cycle `g` returns its index once the cycle number is no longer `g`: a
    /// broken cycle keeps its number until every thread counted in it has seen `BROKEN` and
    /// left, so a changed number always means the cycle completed.
    state: AtomicU64,
    parties: usize,
    action: Option<Box<dyn Fn() + Send + Sync>>,
    timeout: Option<Duration>,
    /// The name given by `named`, shown in ids, records and dumps; never read on a fast path.
    name: Option<&'static str>,
}

impl Barrier {
    /// A barrier for `parties` threads, without action or default timeout.
    ///
    /// # Errors
    ///
    /// [`BarrierPartiesError`] if `parties` is 0 or above 16 777 215.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = threadkit::Barrier::new(1)?;
    /// assert_eq!(b.wait()?, 0); // one party: never waits
    /// assert!(threadkit::Barrier::new(0).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(parties: usize) -> Result<Barrier, BarrierPartiesError> {
        if parties == 0 || parties > MAX_PARTIES {
            return Err(BarrierPartiesError { parties });
        }
        Ok(Barrier {
            state: AtomicU64::new(0),
            parties,
            action: None,
            timeout: None,
            name: None,
        })
    }

    /// This barrier, named `name`: the name shows in its [`id`](Barrier::id), so in wait
    /// records, errors, thread dumps and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = threadkit::Barrier::new(2)?.with_name("start line");
    /// assert_eq!(b.id().name(), Some("start line"));
    /// # Ok::<(), threadkit::BarrierPartiesError>(())
    /// ```
    #[must_use]
    pub fn with_name(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets the action: run once per cycle by the last thread to arrive, before the others
    /// are released (Python's `action` argument).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let r = ran.clone();
    /// let b = threadkit::Barrier::new(1)?.with_action(move || r.store(true, Ordering::SeqCst));
    /// b.wait()?;
    /// assert!(ran.load(Ordering::SeqCst));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_action<F>(mut self, action: F) -> Barrier
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.action = Some(Box::new(action));
        self
    }

    /// Sets the default timeout, used by [`wait`](Barrier::wait) (Python's `timeout`
    /// argument). A timeout too large for the clock means none.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = threadkit::Barrier::new(2)?.with_timeout(Duration::from_millis(10));
    /// assert_eq!(b.timeout(), Some(Duration::from_millis(10)));
    /// assert!(b.wait().is_err()); // nobody else came: timed out, broken
    /// assert!(b.broken());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Barrier {
        self.timeout = Some(timeout);
        self
    }

    /// Waits until all parties have called `wait` in this cycle (or for the default timeout,
    /// if one was set) and returns this thread's arrival index, `0..parties`.
    ///
    /// A thread that arrives while the cycle's action runs (more threads than parties), or
    /// while a [`reset`](Barrier::reset) waits for the threads of a broken cycle to leave,
    /// first waits for that to end, within the same timeout; a timeout then breaks the
    /// barrier as well.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken when the thread arrives or while it
    /// waits (by a timeout, [`abort`](Barrier::abort), a panicking action, or a
    /// [`reset`](Barrier::reset) while it waited). A wait that times out breaks the barrier.
    ///
    /// # Panics
    ///
    /// If the action panics: the barrier breaks, and the panic continues in the thread that
    /// ran the action.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Barrier, Thread};
    ///
    /// let b = Arc::new(Barrier::new(2)?);
    /// let b2 = b.clone();
    /// let t = Thread::new(move || {
    ///     b2.wait().unwrap();
    /// });
    /// t.start()?;
    /// let index = b.wait()?;
    /// assert!(index == 0 || index == 1);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn wait(&self) -> Result<usize, BrokenBarrierError> {
        let deadline = self.timeout.and_then(wait::deadline);
        self.wait_until(deadline, Location::caller())
    }

    /// As [`wait`](Barrier::wait), waiting at most `timeout` (instead of the default). Zero
    /// waits not at all: unless this thread is the last to arrive, the barrier breaks. A
    /// timeout too large for the clock waits forever. Never times out early.
    ///
    /// # Errors
    ///
    /// As [`wait`](Barrier::wait); the thread whose wait timed out gets
    /// [`BrokenCause::Timeout`].
    ///
    /// # Panics
    ///
    /// As [`wait`](Barrier::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::{Barrier, BrokenCause};
    ///
    /// let b = Barrier::new(2)?;
    /// let err = b.wait_timeout(Duration::from_millis(5)).unwrap_err();
    /// assert_eq!(err.cause(), BrokenCause::Timeout);
    /// assert_eq!(b.wait().unwrap_err().cause(), BrokenCause::Timeout); // broken until reset
    /// b.reset();
    /// assert!(!b.broken());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        let deadline = if timeout.is_zero() {
            Some(Instant::now())
        } else {
            wait::deadline(timeout)
        };
        self.wait_until(deadline, Location::caller())
    }

    /// Breaks the barrier: every thread waiting in it, and every thread that arrives until
    /// [`reset`](Barrier::reset), gets a [`BrokenBarrierError`] ([`BrokenCause::Abort`]).
    /// Python's `abort()`, to release threads when something went wrong elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Barrier, BrokenCause};
    /// let b = Barrier::new(2)?;
    /// b.abort();
    /// assert!(b.broken());
    /// assert_eq!(b.wait().unwrap_err().cause(), BrokenCause::Abort);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn abort(&self) {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & BROKEN != 0 && s & RESETTING == 0 {
                return;
            }
            let new = (s & !(RESETTING | PARKED | CAUSE_MASK)) | BROKEN | BrokenCause::Abort.bits();
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        if s & PARKED != 0 {
            self.wake_all();
        }
    }

    /// Returns the barrier to its initial state, as Python's `reset()`. Threads waiting in it
    /// get a [`BrokenBarrierError`] ([`BrokenCause::Reset`], or the cause that broke it);
    /// threads arriving meanwhile wait until those have left, and then start a fresh cycle
    /// (one whose own timeout runs out first gets [`BrokenCause::Timeout`] and breaks
    /// nothing: it never arrived).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = threadkit::Barrier::new(1)?;
    /// b.abort();
    /// assert!(b.wait().is_err());
    /// b.reset();
    /// assert_eq!(b.wait()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reset(&self) {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & RESETTING != 0 || (s & BROKEN == 0 && count(s) == 0) {
                return; // already on its way to a fresh cycle, or in one
            }
            let new = if count(s) == 0 {
                next_cycle(s)
            } else if s & BROKEN != 0 {
                (s & !PARKED) | RESETTING
            } else {
                (s & !PARKED) | BROKEN | RESETTING | BrokenCause::Reset.bits()
            };
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        if s & PARKED != 0 {
            self.wake_all();
        }
    }

    /// The number of threads the barrier releases per cycle.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadkit::Barrier::new(4)?.parties(), 4);
    /// # Ok::<(), threadkit::BarrierPartiesError>(())
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the current cycle (0 while broken). A snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Barrier, Thread};
    ///
    /// let b = Arc::new(Barrier::new(2)?);
    /// assert_eq!(b.n_waiting(), 0);
    /// let b2 = b.clone();
    /// let t = Thread::new(move || { b2.wait().unwrap(); });
    /// t.start()?;
    /// while b.n_waiting() == 0 {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(b.n_waiting(), 1);
    /// b.wait()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn n_waiting(&self) -> usize {
        let s = self.state.load(Ordering::Relaxed);
        if s & BROKEN != 0 { 0 } else { count(s) }
    }

    /// True while the barrier is broken (and not in the middle of a [`reset`](Barrier::reset)).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = threadkit::Barrier::new(2)?;
    /// assert!(!b.broken());
    /// b.abort();
    /// assert!(b.broken());
    /// # Ok::<(), threadkit::BarrierPartiesError>(())
    /// ```
    pub fn broken(&self) -> bool {
        self.state.load(Ordering::Relaxed) & (BROKEN | RESETTING) == BROKEN
    }

    /// The default timeout of [`wait`](Barrier::wait), if one was set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadkit::Barrier::new(2)?.timeout(), None);
    /// # Ok::<(), threadkit::BarrierPartiesError>(())
    /// ```
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The barrier's id, as wait records and errors show it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Barrier, ObjectKind};
    /// let b = Barrier::new(2)?;
    /// assert_eq!(b.id().kind(), ObjectKind::Barrier);
    /// assert_eq!(b.id().addr(), &b as *const Barrier as usize);
    /// # Ok::<(), threadkit::BarrierPartiesError>(())
    /// ```
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::Barrier, self.addr()).named(self.name)
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    fn wait_until(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<usize, BrokenBarrierError> {
        let mut s = self.state.load(Ordering::Acquire);
        // Arrive: count ourselves in the current cycle, unless it is full (its action runs)
        // or being reset, in which case wait for the next one.
        let (cycle, index) = loop {
            if s & (BROKEN | RESETTING) == BROKEN {
                return Err(self.error(s));
            }
            if s & RESETTING != 0 || count(s) == self.parties {
                let full = s & GEN_MASK;
                let entered =
                    move |v: u64| v & GEN_MASK != full || v & (BROKEN | RESETTING) == BROKEN;
                s = match self.block(s, deadline, location, entered) {
                    Ok(v) => v,
                    Err(v) if v & RESETTING != 0 => {
                        // Time is up while a reset drains: this thread never arrived, so it
                        // breaks nothing (the cycle is broken already, and the fresh one to
                        // come is not its to break); its own wait timed out.
                        return Err(self.error_because(BrokenCause::Timeout));
                    }
                    Err(v) => {
                        // Time is up before we could even arrive: a fresh cycle that began
                        // meanwhile gets our (already late) arrival, else report the break.
                        let v = self.time_out(v);
                        if v & BROKEN != 0 {
                            return Err(self.error(v));
                        }
                        v
                    }
                };
                continue;
            }
            let index = count(s);
            let last = index + 1 == self.parties;
            let new = if last && self.action.is_none() {
                next_cycle(s)
            } else {
                s + 1
            };
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if new & COUNT_MASK == 0 => {
                    if s & PARKED != 0 {
                        self.wake_all();
                    }
                    return Ok(index);
                }
                Ok(_) => break (s & GEN_MASK, index),
                Err(x) => s = x,
            }
        };
        if index + 1 == self.parties {
            return self.run_action(cycle, index);
        }
        // Wait for the cycle to end or break. If the time is up first, break it (Python: the
        // party whose wait times out breaks the barrier, for everyone): unless the last party
        // arrived between the deadline and the break, which then leaves the new cycle alone
        // (`break_cycle` breaks only `cycle`), and this party passes with the others.
        let ended = |v: u64| v & GEN_MASK != cycle || v & BROKEN != 0;
        let mut s = s + 1;
        loop {
            s = match self.block(s, deadline, location, ended) {
                Ok(v) => v,
                Err(v) => self.time_out(v),
            };
            if s & GEN_MASK != cycle {
                return Ok(index);
            }
            if s & BROKEN != 0 {
                return Err(self.leave(s));
            }
        }
    }

    /// The last thread of a cycle with an action: run it, then start the next cycle, unless
    /// the cycle broke meanwhile (or the action panicked).
    fn run_action(&self, cycle: u64, index: usize) -> Result<usize, BrokenBarrierError> {
        let action = self.action.as_ref().expect("only called with an action");
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(action)) {
            self.break_cycle(cycle, BrokenCause::ActionPanicked);
            self.leave(self.state.load(Ordering::Acquire));
            panic::resume_unwind(payload);
        }
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & BROKEN != 0 {
                return Err(self.leave(s));
            }
            match self.state.compare_exchange_weak(
                s,
                next_cycle(s),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        if s & PARKED != 0 {
            self.wake_all();
        }
        Ok(index)
    }

    /// The time is up for a thread that saw state `s`: break that cycle (unless it has just
    /// ended or broken) and return the state after.
    fn time_out(&self, s: u64) -> u64 {
        self.break_cycle(s & GEN_MASK, BrokenCause::Timeout);
        self.state.load(Ordering::Acquire)
    }

    /// Breaks cycle `cycle` with `cause`, unless it has ended or is broken already.
    fn break_cycle(&self, cycle: u64, cause: BrokenCause) {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & GEN_MASK != cycle || s & BROKEN != 0 {
                return;
            }
            let new = (s & !(PARKED | CAUSE_MASK)) | BROKEN | cause.bits();
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(x) => s = x,
            }
        }
        if s & PARKED != 0 {
            self.wake_all();
        }
    }

    /// A thread counted in a broken cycle leaves it; the last to leave a resetting cycle
    /// starts the next one. Returns the error for the leaving thread.
    fn leave(&self, mut s: u64) -> BrokenBarrierError {
        let error = self.error(s);
        loop {
            debug_assert!(s & BROKEN != 0 && count(s) > 0);
            let new = if count(s) == 1 && s & RESETTING != 0 {
                next_cycle(s)
            } else {
                s - 1
            };
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    if new & COUNT_MASK == 0 && new & BROKEN == 0 && s & PARKED != 0 {
                        self.wake_all();
                    }
                    return error;
                }
                Err(x) => s = x,
            }
        }
    }

    /// Spins, then parks, until `done` holds for the state; `Ok(state)` then, `Err(state)` if
    /// `deadline` passed first (a park that timed out returns at once: no second park).
    fn block(
        &self,
        s: u64,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
        done: impl Fn(u64) -> bool,
    ) -> Result<u64, u64> {
        let waiting = Waiting {
            barrier: self,
            location,
            done,
        };
        wait::spin_mark_park(&waiting, s, deadline)
    }

    #[cold]
    #[inline(never)]
    fn wake_all(&self) {
        wait::unpark_all(self.addr());
    }

    #[cold]
    fn error(&self, s: u64) -> BrokenBarrierError {
        self.error_because(BrokenCause::from_bits(s))
    }

    #[cold]
    fn error_because(&self, cause: BrokenCause) -> BrokenBarrierError {
        BrokenBarrierError {
            cause,
            object: self.id(),
            thread: current_name(),
        }
    }
}

/// One wait at a [`Barrier`], as [`wait::spin_mark_park`] sees it: done once `done` holds.
struct Waiting<'a, F> {
    barrier: &'a Barrier,
    location: &'static Location<'static>,
    done: F,
}

impl<F: Fn(u64) -> bool> ParkWord for Waiting<'_, F> {
    type State = u64;
    /// The last party answers the others.
    const LOOKS: bool = true;

    fn key(&self) -> usize {
        self.barrier.addr()
    }

    fn blocked(&self) -> Blocked {
        Blocked::on(WaitKind::Barrier, self.barrier.id(), self.location)
    }

    fn load(&self) -> u64 {
        self.barrier.state.load(Ordering::Acquire)
    }

    fn attempt(&self, s: u64) -> Attempt<u64> {
        if (self.done)(s) {
            Attempt::Done
        } else {
            Attempt::Wait
        }
    }

    fn marked(s: u64) -> bool {
        s & PARKED != 0
    }

    fn mark(&self, s: u64) -> Result<(), u64> {
        self.barrier
            .state
            .compare_exchange_weak(s, s | PARKED, Ordering::Acquire, Ordering::Acquire)
            .map(drop)
    }

    fn sleep_ok(&self) -> bool {
        let s = self.barrier.state.load(Ordering::Relaxed);
        !(self.done)(s) && s & PARKED != 0
    }

    fn unmark(&self) {
        self.barrier.state.fetch_and(!PARKED, Ordering::Relaxed);
    }
}

impl fmt::Debug for Barrier {
    /// `Barrier { parties: 3, n_waiting: 1, broken: false }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .field("timeout", &self.timeout)
            .field("action", &self.action.is_some())
            .finish()
    }
}

/// Why a [`Barrier`] broke.
///
/// # Examples
///
/// ```
/// use threadkit::{Barrier, BrokenCause};
/// let b = Barrier::new(3)?;
/// b.abort();
/// assert_eq!(b.wait().unwrap_err().cause(), BrokenCause::Abort);
/// # Ok::<(), threadkit::BarrierPartiesError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BrokenCause {
    /// [`Barrier::abort`] was called.
    Abort,
    /// A thread's wait timed out.
    Timeout,
    /// The barrier's action panicked.
    ActionPanicked,
    /// [`Barrier::reset`] was called while threads waited.
    Reset,
}

impl BrokenCause {
    fn bits(self) -> u64 {
        let n = match self {
            BrokenCause::Abort => 0,
            BrokenCause::Timeout => 1,
            BrokenCause::ActionPanicked => 2,
            BrokenCause::Reset => 3,
        };
        n << CAUSE_SHIFT
    }

    fn from_bits(s: u64) -> Self {
        match (s & CAUSE_MASK) >> CAUSE_SHIFT {
            0 => BrokenCause::Abort,
            1 => BrokenCause::Timeout,
            2 => BrokenCause::ActionPanicked,
            _ => BrokenCause::Reset,
        }
    }
}

impl fmt::Display for BrokenCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BrokenCause::Abort => "abort() was called",
            BrokenCause::Timeout => "a wait timed out",
            BrokenCause::ActionPanicked => "the action panicked",
            BrokenCause::Reset => "reset() was called while threads waited",
        })
    }
}

/// A [`Barrier`] wait that failed because the barrier is broken: Python's
/// `threading.BrokenBarrierError`. Names the thread, the barrier and the [`BrokenCause`].
///
/// # Examples
///
/// ```
/// use threadkit::{Barrier, BrokenCause};
/// let b = Barrier::new(2)?;
/// b.abort();
/// let err = b.wait().unwrap_err();
/// assert_eq!(err.cause(), BrokenCause::Abort);
/// assert_eq!(err.thread(), threadkit::current_thread().name());
/// assert!(err.to_string().starts_with("broken Barrier"));
/// # Ok::<(), threadkit::BarrierPartiesError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenBarrierError {
    cause: BrokenCause,
    object: ObjectId,
    thread: String,
}

impl BrokenBarrierError {
    /// Why the barrier broke.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, mpsc};
    /// use threadkit::{Barrier, BrokenCause, Thread};
    ///
    /// let b = Arc::new(Barrier::new(2)?);
    /// let (tx, rx) = mpsc::channel();
    /// let b2 = b.clone();
    /// let t = Thread::new(move || tx.send(b2.wait()).unwrap());
    /// t.start()?;
    /// while t.waiting().is_none() {
    ///     std::thread::yield_now(); // until the thread is parked at the barrier
    /// }
    /// b.reset(); // breaks the wait in progress
    /// assert_eq!(rx.recv()?.unwrap_err().cause(), BrokenCause::Reset);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cause(&self) -> BrokenCause {
        self.cause
    }

    /// The barrier, as wait records show it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Barrier;
    ///
    /// let b = Barrier::new(2)?;
    /// b.abort();
    /// let err = b.wait().unwrap_err();
    /// assert_eq!(err.object(), b.id());
    /// assert!(err.to_string().contains(&format!("{:#x}", b.id().addr())));
    /// assert!(format!("{err:?}").contains(&format!("{:#x}", b.id().addr())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn object(&self) -> ObjectId {
        self.object
    }

    /// The name of the thread whose wait failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, mpsc};
    /// use threadkit::{Barrier, Thread};
    ///
    /// let b = Arc::new(Barrier::new(2)?);
    /// b.abort();
    /// let (tx, rx) = mpsc::channel();
    /// let b2 = b.clone();
    /// let t = Thread::builder()
    ///     .name("party")
    ///     .target(move || tx.send(b2.wait().unwrap_err()).unwrap());
    /// t.start()?;
    /// t.join()?;
    /// assert_eq!(rx.recv()?.thread(), "party");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }
}

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "broken {} (in thread {}): {}",
            self.object, self.thread, self.cause
        )
    }
}

impl Error for BrokenBarrierError {}

/// [`Barrier::new`] was asked for 0 parties (Python's `ValueError`), or more than a barrier
/// can count (16 777 215).
///
/// # Examples
///
/// ```
/// let err = threadkit::Barrier::new(0).unwrap_err();
/// assert_eq!(err.parties(), 0);
/// assert_eq!(err.to_string(), "a Barrier needs 1 to 16777215 parties, not 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarrierPartiesError {
    parties: usize,
}

impl BarrierPartiesError {
    /// The number of parties asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Barrier;
    ///
    /// assert_eq!(Barrier::new(0).unwrap_err().parties(), 0);
    /// assert_eq!(Barrier::new(1 << 24).unwrap_err().parties(), 1 << 24);
    /// assert!(Barrier::new((1 << 24) - 1).is_ok()); // the largest barrier
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }
}

impl fmt::Display for BarrierPartiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a Barrier needs 1 to {MAX_PARTIES} parties, not {}",
            self.parties
        )
    }
}

impl Error for BarrierPartiesError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_wait_timing_out_while_a_reset_drains_gets_timeout_and_breaks_nothing() {
        let b = Barrier::new(2).unwrap();
        // As if one party were still counted in a broken cycle that a reset is draining.
        let draining =
            b.state.load(Ordering::Relaxed) | BROKEN | RESETTING | BrokenCause::Reset.bits() | 1;
        b.state.store(draining, Ordering::Relaxed);
        let timeout = Duration::from_millis(20);
        let start = Instant::now();
        let err = b.wait_timeout(timeout).unwrap_err();
        assert!(start.elapsed() >= timeout, "returned early");
        assert_eq!(err.cause(), BrokenCause::Timeout);
        assert_eq!(
            b.state.load(Ordering::Relaxed),
            draining,
            "the late thread changed nothing"
        );
        // The counted party leaves: the fresh cycle starts, unbroken.
        assert_eq!(b.leave(draining).cause(), BrokenCause::Reset);
        assert!(!b.broken());
        assert_eq!(count(b.state.load(Ordering::Relaxed)), 0);
    }
}

/// loom models of a timed wait racing the last arrival and an abort, with deadlines that may
/// fire at any point (only the crate can make them fire: see
/// `primitive::park_loom::with_firing_deadlines`), and of the cycle number wrapping around.
/// The untimed models are in `tests/loom_barrier.rs`. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib sync::barrier`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::sync::Arc;
    use loom::thread;

    use super::{Barrier, BrokenCause, COUNT_MASK, GEN_MASK, PARKED, count, next_cycle};
    use crate::primitive::park_loom::{bounded, with_firing_deadlines};
    use crate::primitive::{AtomicU64, Ordering};

    /// A timeout that only a firing deadline ends.
    const LONG: Duration = Duration::from_secs(3600);

    fn state(b: &Barrier) -> u64 {
        b.state.load(Ordering::Relaxed)
    }

    /// A fresh cycle (after a completed one or a reset): nobody counted, nothing set but the
    /// cycle number.
    fn assert_fresh(b: &Barrier) {
        assert_eq!(state(b) & !GEN_MASK, 0, "state {:#x}", state(b));
        assert!(!b.broken());
    }

    /// Two threads meet at `b` (a fresh Barrier(2)): one index each.
    fn meet_again(b: &Arc<Barrier>) {
        let b2 = b.clone();
        let t = thread::spawn(move || b2.wait().expect("nobody breaks it"));
        let mine = b.wait().expect("nobody breaks it");
        assert_eq!(mine + t.join().unwrap(), 1);
        assert_fresh(b);
    }

    #[test]
    fn a_timeout_racing_the_last_arrival_is_all_or_nothing() {
        // Barrier(2): a spawned party waits with a timeout whose deadline may fire at any
        // point, the main thread arrives (slowly, so that the other can park first) and waits
        // forever. Either the cycle completes for both (indices 0 and 1, the cycle number
        // moved on by one) or it breaks for both with BrokenCause::Timeout (the cycle number
        // unchanged); in particular a deadline that fires after the main thread completed the
        // cycle must not break the next one. Nobody stays parked (loom fails an execution
        // where a thread sleeps forever), and after a reset the barrier works again. Across
        // the executions both outcomes must occur.
        static PASSED: AtomicBool = AtomicBool::new(false);
        static BROKE: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            bounded(4, || {
                let b = Arc::new(Barrier::new(2).unwrap());
                let cycle = state(&b) & GEN_MASK;
                let b1 = b.clone();
                let timed = thread::spawn(move || b1.wait_timeout(LONG).map_err(|e| e.cause()));
                thread::yield_now();
                thread::yield_now();
                let mine = b.wait().map_err(|e| e.cause());
                let theirs = timed.join().unwrap();
                let s = state(&b);
                assert_eq!(s & PARKED, 0, "nobody is parked any more");
                match (mine, theirs) {
                    (Ok(a), Ok(t)) => {
                        assert_eq!(a + t, 1, "indices {a} and {t}");
                        assert_eq!(s, next_cycle(cycle), "one cycle, completed");
                        PASSED.store(true, StdOrdering::Relaxed);
                    }
                    (Err(a), Err(t)) => {
                        assert_eq!((a, t), (BrokenCause::Timeout, BrokenCause::Timeout));
                        assert!(b.broken());
                        assert_eq!(s & GEN_MASK, cycle, "a broken cycle keeps its number");
                        assert_eq!(count(s), 0, "both left the broken cycle");
                        BROKE.store(true, StdOrdering::Relaxed);
                    }
                    other => panic!("one party released, one broken: {other:?}"),
                }
                b.reset();
                assert_fresh(&b);
                meet_again(&b);
            });
        });
        assert!(
            PASSED.load(StdOrdering::Relaxed),
            "the cycle never completed"
        );
        assert!(
            BROKE.load(StdOrdering::Relaxed),
            "the deadline never broke it"
        );
    }

    #[test]
    fn a_timeout_breaks_the_cycle_for_every_party_or_none() {
        // Barrier(3): one party waits with a timeout that may fire at any point, two wait
        // forever. Either all three pass (indices 0, 1, 2) or all three get
        // BrokenCause::Timeout: a timeout never releases some parties and breaks others, and
        // never leaves a party asleep. Across the executions both outcomes must occur.
        static PASSED: AtomicBool = AtomicBool::new(false);
        static BROKE: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            bounded(2, || {
                let b = Arc::new(Barrier::new(3).unwrap());
                let b1 = b.clone();
                let timed = thread::spawn(move || b1.wait_timeout(LONG).map_err(|e| e.cause()));
                let b2 = b.clone();
                let plain = thread::spawn(move || b2.wait().map_err(|e| e.cause()));
                thread::yield_now();
                let mut all = vec![b.wait().map_err(|e| e.cause())];
                all.push(timed.join().unwrap());
                all.push(plain.join().unwrap());
                assert_eq!(state(&b) & PARKED, 0, "nobody is parked any more");
                if all.iter().all(Result::is_ok) {
                    let mut indices: Vec<usize> = all.into_iter().map(Result::unwrap).collect();
                    indices.sort_unstable();
                    assert_eq!(indices, [0, 1, 2]);
                    PASSED.store(true, StdOrdering::Relaxed);
                } else {
                    assert_eq!(all, [Err(BrokenCause::Timeout); 3]);
                    BROKE.store(true, StdOrdering::Relaxed);
                }
            });
        });
        assert!(
            PASSED.load(StdOrdering::Relaxed),
            "the cycle never completed"
        );
        assert!(
            BROKE.load(StdOrdering::Relaxed),
            "the deadline never broke it"
        );
    }

    #[test]
    fn a_timeout_racing_an_abort_keeps_the_first_cause() {
        // Barrier(2): a party waits with a timeout that may fire at any point while the main
        // thread aborts. Whichever broke the barrier first is the cause the waiter gets and
        // the one the barrier keeps (a later abort or timeout does not overwrite it); the
        // waiter is not left asleep, and a reset makes the barrier fresh again.
        static ABORTED: AtomicBool = AtomicBool::new(false);
        static TIMED_OUT: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let b = Arc::new(Barrier::new(2).unwrap());
                let b1 = b.clone();
                let timed = thread::spawn(move || b1.wait_timeout(LONG).map_err(|e| e.cause()));
                thread::yield_now();
                thread::yield_now();
                b.abort();
                let cause = timed.join().unwrap().unwrap_err();
                match cause {
                    BrokenCause::Abort => ABORTED.store(true, StdOrdering::Relaxed),
                    BrokenCause::Timeout => TIMED_OUT.store(true, StdOrdering::Relaxed),
                    other => panic!("broken by {other:?}"),
                }
                assert!(b.broken());
                assert_eq!(state(&b) & (PARKED | COUNT_MASK), 0, "nobody left inside");
                assert_eq!(
                    b.wait().unwrap_err().cause(),
                    cause,
                    "the first cause stays"
                );
                b.reset();
                assert_fresh(&b);
            });
        });
        assert!(
            ABORTED.load(StdOrdering::Relaxed),
            "the abort never came first"
        );
        assert!(
            TIMED_OUT.load(StdOrdering::Relaxed),
            "the deadline never came first"
        );
    }

    #[test]
    fn the_cycle_number_wraps_around() {
        // Barrier(2) in its last cycle number: two threads meet twice, so the first cycle
        // wraps the number to 0 while a party may still be waiting in it, and the second
        // cycle must not be mistaken for the first (or the first for completed too early).
        bounded(3, || {
            let b = Arc::new(Barrier {
                state: AtomicU64::new(GEN_MASK),
                ..Barrier::new(2).unwrap()
            });
            let b1 = b.clone();
            let t = thread::spawn(move || [b1.wait().unwrap(), b1.wait().unwrap()]);
            let mine = [b.wait().unwrap(), b.wait().unwrap()];
            let theirs = t.join().unwrap();
            assert_eq!([mine[0] + theirs[0], mine[1] + theirs[1]], [1, 1]);
            assert_eq!(state(&b), next_cycle(next_cycle(GEN_MASK)));
            assert_eq!(next_cycle(GEN_MASK), 0, "the first cycle wrapped");
        });
    }
}
