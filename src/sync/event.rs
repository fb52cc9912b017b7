//! [`Event`]: a flag that threads wait for, as Python's `threading.Event`.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::wait::{self, Attempt, Blocked, ObjectId, ObjectKind, ParkWord, WaitKind};
use crate::primitive::{AtomicUsize, Ordering};

/// Set while threads are parked (or about to park) waiting for the flag.
const PARKED: usize = 0b01;
/// The flag: the lowest bit of a counter of changes (odd: set), so that setting it is one
/// `fetch_or` and clearing it one increment.
const SET: usize = 0b10;

/// A flag, as Python's `threading.Event`: [`set`](Event::set) raises it and wakes every
/// waiting thread, [`clear`](Event::clear) lowers it, and [`wait`](Event::wait) blocks until
/// it is raised.
///
/// [`is_set`](Event::is_set), and [`wait`](Event::wait) on a set event, are one atomic load;
/// `set` is one atomic `fetch_or` and `clear` one compare-exchange (a load when clear
/// already); `set` goes to the parking lot only when a thread is parked. A waiting thread
/// spins briefly (and, where its recent waits were answered within tens of microseconds,
/// yields and looks for up to 64 µs), then parks, and while parked
/// [`Thread::waiting`](crate::Thread::waiting) shows it as a [`WaitKind::Event`] wait.
///
/// Every thread that was waiting when the flag was set returns `true`, even if the flag is
/// cleared again before it gets to run: the event counts its changes, and a waiter returns
/// once the count moved, whatever the flag says by then (Python's behaviour).
///
/// # Differences from Python
///
/// - `wait(timeout)` is [`wait_timeout`](Event::wait_timeout); [`wait`](Event::wait) returns
///   nothing, since it can only return once the event was set.
/// - No lock inside: `set`, `clear` and `is_set` never block.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Event, Thread};
///
/// let ready = Arc::new(Event::new());
/// let r = ready.clone();
/// let t = Thread::new(move || {
///     r.wait();
///     assert!(r.is_set());
/// });
/// t.start()?;
/// ready.set();
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Event {
    /// | bits | meaning |
    /// |---|---|
    /// | 0 `PARKED` | threads are parked or about to park; cleared by the `set` that wakes them, or under the queue lock by the last waiter to time out |
    /// | 1.. | a counter of changes (wrapping), whose lowest bit, `SET`, is the flag: `set` turns an even count odd (`fetch_or`), `clear` an odd one even (`+ SET`) |
    ///
    /// A waiter that saw the counter at an even `c` returns once it is no longer `c`: the
    /// first change from an even count is always a `set`, so a set followed at once by a clear
    /// still releases it.
    state: AtomicUsize,
    /// The name given by `named`, shown in ids, records and dumps; never read on a fast path.
    name: Option<&'static str>,
}

impl Event {
    /// A new event, not set. `const`, so it can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static SHUTDOWN: threadkit::Event = threadkit::Event::new();
    /// assert!(!SHUTDOWN.is_set());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Event {
            state: AtomicUsize::new(0),
            name: None,
        }
    }

    /// A new event, not set.
    #[cfg(loom)]
    pub fn new() -> Self {
        Event {
            state: AtomicUsize::new(0),
            name: None,
        }
    }

    /// A new Event named `name` (otherwise as [`new`](Event::new)): the name shows in its
    /// [`id`](Event::id), so in wait records, errors, thread dumps and deadlock reports. Costs
    /// nothing on the fast path.
    ///
    /// # Examples
    ///
    /// ```
    /// static SHUTDOWN: threadkit::Event = threadkit::Event::named("shutdown");
    /// assert_eq!(SHUTDOWN.id().name(), Some("shutdown"));
    /// ```
    #[cfg(not(loom))]
    pub const fn named(name: &'static str) -> Self {
        let mut this = Self::new();
        this.name = Some(name);
        this
    }

    /// A new Event named `name`.
    #[cfg(loom)]
    pub fn named(name: &'static str) -> Self {
        let mut this = Self::new();
        this.name = Some(name);
        this
    }

    /// True while the flag is set. One atomic load; a snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = threadkit::Event::new();
    /// assert!(!e.is_set());
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and wakes every waiting thread. Threads that call [`wait`](Event::wait)
    /// afterwards return at once, until [`clear`](Event::clear). Setting a set event changes
    /// nothing.
    ///
    /// Whatever the calling thread wrote before `set` is visible to a thread once its `wait`
    /// returns (or once it sees [`is_set`](Event::is_set) true).
    ///
    /// # Examples
    ///
    /// ```
    /// let e = threadkit::Event::new();
    /// e.set();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    #[inline]
    pub fn set(&self) {
        // Also when set already: a release write, so that a waiter that sees the flag also
        // sees what this thread wrote before calling `set`.
        let old = self.state.fetch_or(SET, Ordering::Release);
        if old & PARKED != 0 {
            self.wake_all();
        }
    }

    /// Clears the flag: later calls to [`wait`](Event::wait) block until the next
    /// [`set`](Event::set). Threads already woken by a `set` still return `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = threadkit::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    #[inline]
    pub fn clear(&self) {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & SET != 0 {
            // Odd to even: the increment carries out of the flag bit into the counter.
            match self.state.compare_exchange_weak(
                s,
                s.wrapping_add(SET),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(x) => s = x,
            }
        }
    }

    /// Blocks until the flag is set. Returns at once (one atomic load) if it is set already.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = threadkit::Event::new();
    /// e.set();
    /// e.wait(); // returns at once
    /// ```
    #[inline]
    #[track_caller]
    pub fn wait(&self) {
        let s = self.state.load(Ordering::Acquire);
        if s & SET == 0 {
            self.wait_slow(s, None, Location::caller());
        }
    }

    /// Blocks until the flag is set or `timeout` has passed; true if the flag was set (also if
    /// it was set and cleared again meanwhile). Zero polls once; a timeout too large for the
    /// clock waits forever. False only once the time is up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = threadkit::Event::new();
    /// assert!(!e.wait_timeout(Duration::from_millis(5)));
    /// e.set();
    /// assert!(e.wait_timeout(Duration::from_millis(5)));
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "false means the wait timed out with the flag still clear"]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let s = self.state.load(Ordering::Acquire);
        if s & SET != 0 {
            return true;
        }
        if timeout.is_zero() {
            return false;
        }
        self.wait_slow(s, wait::deadline(timeout), Location::caller())
    }

    /// The event's id, as wait records show it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Event, ObjectKind};
    /// let event = Event::new();
    /// assert_eq!(event.id().kind(), ObjectKind::Event);
    /// assert_eq!(event.id().addr(), &event as *const Event as usize);
    /// ```
    pub fn id(&self) -> ObjectId {
        ObjectId::new(ObjectKind::Event, self.addr()).named(self.name)
    }

    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// Waits, from state `s` (flag clear), until the counter moves on (the flag was set). A
    /// `None` deadline waits forever. True once it did.
    #[cold]
    #[inline(never)]
    fn wait_slow(
        &self,
        s: usize,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> bool {
        let waiting = Waiting {
            event: self,
            count: s & !PARKED,
            location,
        };
        wait::spin_mark_park(&waiting, s, deadline).is_ok()
    }

    /// A `set` found the parked bit: clear it, then wake everyone parked on the event (a thread
    /// about to park sees the bit gone, or the flag, and does not sleep).
    #[cold]
    #[inline(never)]
    fn wake_all(&self) {
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
        wait::unpark_all(self.addr());
    }
}

/// One wait for an [`Event`], as [`wait::spin_mark_park`] sees it.
struct Waiting<'a> {
    event: &'a Event,
    /// The change counter when the wait began: done once it moves.
    count: usize,
    location: &'static Location<'static>,
}

impl Waiting<'_> {
    fn done(&self, s: usize) -> bool {
        s & !PARKED != self.count
    }
}

impl ParkWord for Waiting<'_> {
    type State = usize;
    /// A set answers the waiters.
    const LOOKS: bool = true;

    fn key(&self) -> usize {
        self.event.addr()
    }

    fn blocked(&self) -> Blocked {
        Blocked::on(WaitKind::Event, self.event.id(), self.location)
    }

    fn load(&self) -> usize {
        self.event.state.load(Ordering::Acquire)
    }

    fn attempt(&self, s: usize) -> Attempt<usize> {
        if self.done(s) {
            Attempt::Done
        } else {
            Attempt::Wait
        }
    }

    fn marked(s: usize) -> bool {
        s & PARKED != 0
    }

    fn mark(&self, s: usize) -> Result<(), usize> {
        self.event
            .state
            .compare_exchange_weak(s, s | PARKED, Ordering::Acquire, Ordering::Acquire)
            .map(drop)
    }

    /// Sleep only while the counter has not moved and the parked bit is set.
    fn sleep_ok(&self) -> bool {
        let s = self.event.state.load(Ordering::Relaxed);
        !self.done(s) && s & PARKED != 0
    }

    fn unmark(&self) {
        self.event.state.fetch_and(!PARKED, Ordering::Relaxed);
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    /// `Event { set: true }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// loom models of a timed wait racing `set`, with deadlines that may fire at any point (only
/// the crate can make them fire: see `primitive::park_loom::with_firing_deadlines`). The
/// untimed models are in `tests/loom_semaphore_event.rs`. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib sync::event`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;

    use super::{Event, PARKED};
    use crate::primitive::Ordering;
    use crate::primitive::park_loom::{bounded, with_firing_deadlines};

    /// An event and a value written before it is set.
    struct Flagged {
        event: Event,
        value: UnsafeCell<usize>,
    }

    // SAFETY: `value` is written before `event.set()` and read only after a wait that saw the
    // set; loom fails the model if that does not order the two.
    unsafe impl Sync for Flagged {}

    fn no_parked_bit(e: &Event) -> bool {
        e.state.load(Ordering::Relaxed) & PARKED == 0
    }

    #[test]
    fn a_timeout_with_nobody_to_set_returns_false_and_cleans_up() {
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let e = Event::new();
                // Returns at all only because the deadline fired: nobody sets the event.
                assert!(!e.wait_timeout(Duration::from_secs(3600)));
                assert!(no_parked_bit(&e), "a timed-out last waiter clears PARKED");
                e.set();
                assert!(e.wait_timeout(Duration::ZERO));
            });
        });
    }

    #[test]
    fn a_timeout_racing_set_answers_by_what_it_saw() {
        // Across all executions both answers must occur (so the timer really races the set),
        // `true` must come with the setter's write visible, and nobody may stay parked.
        static SAW_TRUE: AtomicBool = AtomicBool::new(false);
        static SAW_FALSE: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let f = Arc::new(Flagged {
                    event: Event::new(),
                    value: UnsafeCell::new(0),
                });
                let f2 = f.clone();
                let waiter = thread::spawn(move || {
                    let got = f2.event.wait_timeout(Duration::from_secs(3600));
                    if got {
                        // SAFETY: the wait saw the set, which follows the write (loom checks).
                        assert_eq!(f2.value.with(|v| unsafe { *v }), 1);
                    }
                    got
                });
                // SAFETY: the only write, before the set; the waiter reads only after it.
                f.value.with_mut(|v| unsafe { *v = 1 });
                // A slow setter: the waiter's spin is a loom `yield_now`, after which loom
                // runs other threads first; without these the waiter could never park (and
                // time out) before the set.
                thread::yield_now();
                thread::yield_now();
                f.event.set();
                let got = waiter.join().unwrap();
                if got {
                    SAW_TRUE.store(true, StdOrdering::Relaxed);
                } else {
                    SAW_FALSE.store(true, StdOrdering::Relaxed);
                }
                assert!(f.event.is_set());
                assert!(no_parked_bit(&f.event), "nobody is parked any more");
            });
        });
        assert!(SAW_TRUE.load(StdOrdering::Relaxed), "the set never won");
        assert!(
            SAW_FALSE.load(StdOrdering::Relaxed),
            "the deadline never won"
        );
    }

    #[test]
    fn a_timeout_never_strands_an_untimed_waiter() {
        // A timed and an untimed waiter, and set, clear, set racing them (the last set, so
        // that a waiter arriving after the clear has one to return for): when the timed
        // waiter times out as the last queued thread it clears PARKED, which must not leave
        // the untimed one asleep through the set (loom fails an execution where it sleeps).
        with_firing_deadlines(|| {
            bounded(2, || {
                let e = Arc::new(Event::new());
                let e1 = e.clone();
                let timed = thread::spawn(move || e1.wait_timeout(Duration::from_secs(3600)));
                let e2 = e.clone();
                let plain = thread::spawn(move || e2.wait());
                e.set();
                e.clear();
                e.set();
                timed.join().unwrap();
                plain.join().unwrap();
                assert!(no_parked_bit(&e), "nobody is parked any more");
                assert!(e.is_set());
            });
        });
    }
}
