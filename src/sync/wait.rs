//! The one cold blocking path: record what the thread waits on, park, clear the record.
//!
//! Every primitive that blocks (locks, joins, sleeps, and every primitive built later) parks
//! through [`park`], so that a thread dump can tell, for any blocked thread, what it waits on,
//! who holds it, where in the user's code the wait started and since when. Fast paths never
//! come here: the record costs a clock read and a few plain stores (a seqlock the thread
//! alone writes, see [`WaitSlot`]), paid only by a thread that is about to sleep anyway.
//!
//! # Timeouts
//!
//! One rule for the whole crate: a timeout is a [`Duration`]; zero polls once without
//! blocking; any duration is accepted, and one too large to add to [`Instant::now`] waits
//! forever instead of panicking. A timed wait never returns "timed out" early.

use std::fmt;
use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
use std::time::{Duration, Instant};

use crate::Thread;
use crate::primitive::parking_lot_core::{self, DEFAULT_PARK_TOKEN, ParkResult};
use crate::threading::registry;

/// What a blocked thread waits for.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Event, Thread, WaitKind};
///
/// let ready = Arc::new(Event::new());
/// let r = ready.clone();
/// let t = Thread::new(move || r.wait());
/// t.start()?;
/// let info = loop {
///     if let Some(info) = t.waiting() { break info; }
///     std::thread::yield_now();
/// };
/// ready.set(); // let the thread finish before checking the snapshot
/// t.join()?;
/// assert_eq!(info.kind(), WaitKind::Event);
/// assert_eq!(info.kind().to_string(), "event");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitKind {
    /// Acquiring a [`Lock`](crate::Lock) (or a [`Mutex`](crate::Mutex)).
    Lock,
    /// Joining a thread: the object is that thread's entry.
    Join,
    /// Waiting in [`Thread::start`](crate::Thread::start) for the new thread to run.
    Start,
    /// [`sleep`].
    Sleep,
    /// Acquiring an `RLock`.
    RLock,
    /// Waiting on a `Condition` (or re-acquiring its lock after a wait).
    Condition,
    /// Acquiring a `Semaphore` or `BoundedSemaphore`.
    Semaphore,
    /// Waiting for an `Event` to be set.
    Event,
    /// Waiting at a `Barrier` for the other parties.
    Barrier,
    /// A queue `get` waiting for an item.
    QueueGet,
    /// A queue `put` waiting for room.
    QueuePut,
    /// A queue `join` waiting for every item to be marked done.
    QueueJoin,
    /// Waiting for an executor's future (`result`, `exception`, `wait`, `as_completed`,
    /// `wait_idle`): the owner is the worker running the task, none while it is queued.
    Future,
}

impl fmt::Display for WaitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            WaitKind::Lock => "lock",
            WaitKind::Join => "join",
            WaitKind::Start => "start",
            WaitKind::Sleep => "sleep",
            WaitKind::RLock => "rlock",
            WaitKind::Condition => "condition",
            WaitKind::Semaphore => "semaphore",
            WaitKind::Event => "event",
            WaitKind::Barrier => "barrier",
            WaitKind::QueueGet => "queue get",
            WaitKind::QueuePut => "queue put",
            WaitKind::QueueJoin => "queue join",
            WaitKind::Future => "future",
        };
        f.write_str(s)
    }
}

/// What a primitive tells the wait path about the wait it is starting.
#[derive(Clone, Copy)]
pub(crate) struct Blocked {
    pub(crate) kind: WaitKind,
    /// The primitive's address: its identity in dumps.
    pub(crate) object: usize,
    /// The holder's small thread number, 0 when unknown or meaningless.
    pub(crate) owner: u32,
    pub(crate) location: &'static Location<'static>,
}

/// The record kept in the waiting thread's registry entry while it is parked.
#[derive(Clone, Copy)]
pub(crate) struct WaitRecord {
    on: Blocked,
    since: Instant,
}

/// Every [`WaitKind`], in declaration order: a kind's code in a [`WaitSlot`] is its index
/// here plus one (see `kind_codes_decode_to_their_kind`).
const KINDS: [WaitKind; 13] = [
    WaitKind::Lock,
    WaitKind::Join,
    WaitKind::Start,
    WaitKind::Sleep,
    WaitKind::RLock,
    WaitKind::Condition,
    WaitKind::Semaphore,
    WaitKind::Event,
    WaitKind::Barrier,
    WaitKind::QueueGet,
    WaitKind::QueuePut,
    WaitKind::QueueJoin,
    WaitKind::Future,
];

impl WaitKind {
    /// This kind's code in a [`WaitSlot`]: never 0, which means "not waiting".
    fn code(self) -> u8 {
        KINDS
            .iter()
            .position(|&k| k == self)
            .map_or(0, |i| i as u8 + 1)
    }
}

/// The clock origin of [`WaitSlot::since`]: set before the first wait is recorded.
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Where a thread's current wait is recorded, in its registry entry: written only by the
/// thread itself (a seqlock: a few plain stores per wait, no lock, no read-modify-write) and
/// read by anyone, without blocking, through [`WaitSlot::read`].
///
/// `seq` is odd while a record is being written. Clearing is one store of `kind = 0`, which a
/// reader sees either before (the old record, complete) or after (no record).
pub(crate) struct WaitSlot {
    seq: AtomicU32,
    /// 0 when not waiting, else [`WaitKind::code`].
    kind: AtomicU8,
    owner: AtomicU32,
    object: AtomicUsize,
    location: AtomicPtr<Location<'static>>,
    /// Nanoseconds from [`EPOCH`] to the start of the wait.
    since: AtomicU64,
}

impl WaitSlot {
    pub(crate) const fn new() -> Self {
        WaitSlot {
            seq: AtomicU32::new(0),
            kind: AtomicU8::new(0),
            owner: AtomicU32::new(0),
            object: AtomicUsize::new(0),
            location: AtomicPtr::new(std::ptr::null_mut()),
            since: AtomicU64::new(0),
        }
    }

    /// Records the wait that starts now. Only the thread that owns the slot calls this.
    fn set(&self, on: &Blocked) {
        let epoch = *EPOCH.get_or_init(Instant::now);
        let since = Instant::now().saturating_duration_since(epoch);
        let since = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX);
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.kind.store(on.kind.code(), Ordering::Relaxed);
        self.owner.store(on.owner, Ordering::Relaxed);
        self.object.store(on.object, Ordering::Relaxed);
        self.location.store(
            std::ptr::from_ref(on.location).cast_mut(),
            Ordering::Relaxed,
        );
        self.since.store(since, Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Ends the wait. Only the thread that owns the slot calls this.
    fn clear(&self) {
        self.kind.store(0, Ordering::Release);
    }

    /// A consistent snapshot of the record, if the thread is waiting. Never blocks: gives up
    /// (answering `None`) if the writer keeps changing the record under it.
    pub(crate) fn read(&self) -> Option<WaitRecord> {
        for _ in 0..64 {
            let seq = self.seq.load(Ordering::Acquire);
            if seq & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let kind = self.kind.load(Ordering::Relaxed);
            let owner = self.owner.load(Ordering::Relaxed);
            let object = self.object.load(Ordering::Relaxed);
            let location = self.location.load(Ordering::Relaxed);
            let since = self.since.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != seq {
                continue;
            }
            let kind = *KINDS.get(usize::from(kind).checked_sub(1)?)?;
            // SAFETY: a non-zero kind read in an unchanged sequence comes with the location
            // written beside it, a `&'static Location` turned into a pointer by `set`.
            let location = unsafe { location.as_ref()? };
            let epoch = *EPOCH.get()?;
            return Some(WaitRecord {
                on: Blocked {
                    kind,
                    object,
                    owner,
                    location,
                },
                since: epoch + Duration::from_nanos(since),
            });
        }
        None
    }
}

/// A snapshot of what a thread is blocked on, from [`Thread::waiting`](crate::Thread::waiting).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::{Thread, WaitKind};
///
/// let t = Thread::new(|| threadkit::sleep(Duration::from_millis(200)));
/// t.start()?;
/// let info = loop {
///     if let Some(info) = t.waiting() { break info; }
///     std::thread::yield_now();
/// };
/// assert_eq!(info.kind(), WaitKind::Sleep);
/// assert!(info.location().file().ends_with(".rs"));
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WaitInfo {
    rec: WaitRecord,
}

impl WaitInfo {
    pub(crate) fn from_record(rec: WaitRecord) -> Self {
        WaitInfo { rec }
    }

    /// The kind of wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Event, Thread, WaitKind};
    ///
    /// let gate = Arc::new(Event::new());
    /// let g = gate.clone();
    /// let worker = Thread::new(move || g.wait());
    /// worker.start()?;
    /// let w = worker.clone();
    /// let joiner = Thread::new(move || w.join().unwrap());
    /// joiner.start()?;
    /// let info = loop {
    ///     if let Some(info) = joiner.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// let owner = info.owner(); // looked up while the joined thread is alive
    /// gate.set(); // let both threads finish before checking
    /// joiner.join()?;
    /// assert_eq!(info.kind(), WaitKind::Join);
    /// assert_eq!(owner, Some(worker)); // the thread being joined
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> WaitKind {
        self.rec.on.kind
    }

    /// The address of the object waited on: the same for every thread waiting on it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // released on unwinding too, should an assert fail
    /// let l = lock.clone();
    /// let t = Thread::new(move || {
    ///     l.acquire();
    ///     l.release().unwrap();
    /// });
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.object(), Arc::as_ptr(&lock) as usize);
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn object(&self) -> usize {
        self.rec.on.object
    }

    /// The thread that held the object when the wait began (a lock's holder, the thread being
    /// joined), if known and still alive.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // the main thread holds the lock
    /// let l = lock.clone();
    /// let t = Thread::new(move || {
    ///     l.acquire();
    ///     l.release().unwrap();
    /// });
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.owner(), Some(threadkit::current_thread()));
    /// assert_eq!(info.owner(), lock.holder());
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owner(&self) -> Option<Thread> {
        registry::lookup(self.rec.on.owner)
    }

    /// The caller's source location of the blocking call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // released on unwinding too, should an assert fail
    /// let l = lock.clone();
    /// let line = line!() + 1;
    /// let t = Thread::new(move || { l.acquire(); l.release().unwrap(); });
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.location().file(), file!());
    /// assert_eq!(info.location().line(), line); // the `l.acquire()` call
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.rec.on.location
    }

    /// When the wait began.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Instant;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // released on unwinding too, should an assert fail
    /// let l = lock.clone();
    /// let t = Thread::new(move || {
    ///     l.acquire();
    ///     l.release().unwrap();
    /// });
    /// let before = Instant::now();
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert!(before <= info.since() && info.since() <= Instant::now());
    /// // Later snapshots of the same wait report the same start.
    /// assert_eq!(t.waiting().map(|i| i.since()), Some(info.since()));
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn since(&self) -> Instant {
        self.rec.since
    }
}

impl fmt::Debug for WaitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitInfo")
            .field("kind", &self.kind())
            .field("object", &format_args!("{:#x}", self.object()))
            .field("owner", &self.rec.on.owner)
            .field("location", &format_args!("{}", self.location()))
            .field("waited", &self.since().elapsed())
            .finish()
    }
}

/// The deadline for a timeout that starts now; `None` means "wait forever".
#[inline]
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Parks the calling thread on `key` until unparked, `deadline` passes, or `validate`
/// (run under the parking lot's queue lock) says not to sleep. While parked, the thread's
/// registry entry says what it waits on.
///
/// `timed_out(key, was_last_thread)` runs under the queue lock when the deadline passes.
/// Neither callback may panic or call into the parking lot.
#[cold]
#[inline(never)]
pub(crate) fn park(
    key: usize,
    on: Blocked,
    deadline: Option<Instant>,
    validate: impl FnOnce() -> bool,
    timed_out: impl FnOnce(usize, bool),
) -> ParkResult {
    park_with(key, on, deadline, validate, || {}, timed_out)
}

/// [`park`] with a `before_sleep` callback: it runs once the thread is in the wait queue (so no
/// wake-up sent from now on can be missed) and before it sleeps. It may call the parking lot's
/// unpark functions (to release a lock that wakes someone) but must not park or panic.
#[cold]
#[inline(never)]
pub(crate) fn park_with(
    key: usize,
    on: Blocked,
    deadline: Option<Instant>,
    validate: impl FnOnce() -> bool,
    before_sleep: impl FnOnce(),
    timed_out: impl FnOnce(usize, bool),
) -> ParkResult {
    let entry = registry::current_ptr();
    // SAFETY: a non-null entry pointer stays valid for the calling thread's lifetime (see
    // `registry::current_handle`).
    let entry = unsafe { entry.as_ref() };
    if let Some(e) = entry {
        e.wait.set(&on);
    }
    // SAFETY: the callbacks are the caller's, under the contract above, which is the one
    // parking_lot_core asks for.
    let result = unsafe {
        parking_lot_core::park(
            key,
            validate,
            before_sleep,
            timed_out,
            DEFAULT_PARK_TOKEN,
            deadline,
        )
    };
    if let Some(e) = entry {
        e.wait.clear();
    }
    result
}

/// Wakes every thread parked on `key`.
#[inline]
pub(crate) fn unpark_all(key: usize) -> usize {
    // SAFETY: no callback runs; waking threads parked on any key is always sound.
    unsafe { parking_lot_core::unpark_all(key, parking_lot_core::DEFAULT_UNPARK_TOKEN) }
}

/// Sleeps the calling thread for `duration`, as Python's `time.sleep`, and shows up as a
/// [`WaitKind::Sleep`] wait in [`Thread::waiting`](crate::Thread::waiting) meanwhile.
///
/// Zero yields the processor once; a duration too large for the clock sleeps forever. Never
/// returns early.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// threadkit::sleep(Duration::from_millis(10));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
#[track_caller]
pub fn sleep(duration: Duration) {
    if duration.is_zero() {
        std::thread::yield_now();
        return;
    }
    let until = deadline(duration);
    let anchor = 0u8;
    let key = std::ptr::from_ref(&anchor).addr();
    let on = Blocked {
        kind: WaitKind::Sleep,
        object: key,
        owner: 0,
        location: Location::caller(),
    };
    loop {
        park(key, on, until, || true, |_, _| {});
        match until {
            Some(t) if Instant::now() >= t => return,
            _ => {}
        }
    }
}

/// Spins a little while `cond` holds, then parks on `key` until it stops holding. The waker
/// must change what `cond` reads before calling [`unpark_all`] on `key`. Returns false if
/// `deadline` passed first (a deadline already past polls `cond` once).
pub(crate) fn wait_while(
    key: usize,
    on: Blocked,
    deadline: Option<Instant>,
    cond: impl Fn() -> bool,
) -> bool {
    let mut spin = parking_lot_core::SpinWait::new();
    loop {
        if !cond() {
            return true;
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return false;
        }
        if !spin.spin() {
            park(key, on, deadline, &cond, |_, _| {});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_decode_to_their_kind() {
        for (i, &kind) in KINDS.iter().enumerate() {
            assert_eq!(usize::from(kind.code()), i + 1, "{kind:?}");
        }
        assert_eq!(KINDS.len(), WaitKind::Future as usize + 1, "a kind missing");
    }
}
