//! [`Timer`]: a thread that runs a function after an interval unless cancelled first, as
//! Python's `threading.Timer`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::event::Event;
use crate::primitive::{AtomicU8, Ordering};
use crate::{Builder, JoinError, JoinStatus, StartError, Thread};

/// The function has neither run nor been cancelled.
const PENDING: u8 = 0;
/// The function runs or has run.
const FIRED: u8 = 1;
/// `cancel` came first: the function never runs.
const CANCELLED: u8 = 2;

/// What the timer's thread and its handles share.
struct Shared {
    /// `PENDING`, then `FIRED` or `CANCELLED`, decided by one compare-exchange.
    state: AtomicU8,
    /// Set by `cancel` to cut the thread's wait short.
    finished: Event,
}

/// A thread that calls a function once an interval has passed, unless
/// [`cancel`](Timer::cancel)ed first: Python's `threading.Timer`.
///
/// A `Timer` is a [`Thread`]: it has a name (`Thread-N` by default, as in Python), shows in
/// [`enumerate`](crate::enumerate) while it runs, and is started and joined like any other.
/// Its thread waits for the interval on an [`Event`], so `cancel` ends the wait at once (no
/// sleeping thread left behind), and while it waits [`Thread::waiting`] shows an
/// [`WaitKind::Event`](crate::WaitKind::Event) wait. A panic in the function is a panic of
/// the timer's thread: it goes to the excepthook and [`join`](Timer::join) reports it.
///
/// Like any non-daemon thread (and as in Python), a pending timer keeps the process alive at
/// exit until it fires: [`cancel`](Timer::cancel) it, or make it a daemon with
/// [`with_builder`](Timer::with_builder).
///
/// # Differences from Python
///
/// - `Timer(interval, function, args, kwargs)` is `Timer::new(interval, move || ...)`: the
///   closure carries the arguments.
/// - [`cancel`](Timer::cancel) says whether it stopped the function (Python returns `None`).
/// - The interval is a [`Duration`]; one too large for the clock never fires.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
/// use threadkit::Timer;
///
/// let fired = Arc::new(AtomicBool::new(false));
/// let f = fired.clone();
/// let timer = Timer::new(Duration::from_millis(10), move || f.store(true, Ordering::SeqCst));
/// timer.start()?;
/// timer.join()?;
/// assert!(fired.load(Ordering::SeqCst));
/// assert!(!timer.cancel()); // too late: harmless
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Timer {
    thread: Thread,
    shared: Arc<Shared>,
    interval: Duration,
}

impl Timer {
    /// A timer, not started, that will call `f` `interval` after [`start`](Timer::start).
    /// Its thread gets the default name (`Thread-N`) and the creating thread's daemon flag.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = threadkit::Timer::new(Duration::from_secs(60), || println!("never"));
    /// assert!(t.thread().name().starts_with("Thread-"));
    /// assert!(!t.is_alive());
    /// ```
    #[must_use = "a Timer does nothing until `start` is called"]
    pub fn new<F>(interval: Duration, f: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        Timer::with_builder(Builder::new(), interval, f)
    }

    /// A timer whose thread takes its name, daemon flag and stack size from `builder`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::{Thread, Timer};
    ///
    /// let builder = Thread::builder().name("reminder").daemon(true);
    /// let t = Timer::with_builder(builder, Duration::from_secs(60), || {});
    /// assert_eq!(t.thread().name(), "reminder");
    /// assert!(t.thread().is_daemon());
    /// ```
    #[must_use = "a Timer does nothing until `start` is called"]
    pub fn with_builder<F>(builder: Builder, interval: Duration, f: F) -> Timer
    where
        F: FnOnce() + Send + 'static,
    {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(PENDING),
            finished: Event::new(),
        });
        let s = shared.clone();
        let thread = builder.target(move || {
            // The event set before the time is up (by `cancel`, or by whoever holds
            // `finished()`) means: do not fire, as Python's `if not self.finished.is_set()`.
            let next = if s.finished.wait_timeout(interval) {
                CANCELLED
            } else {
                FIRED
            };
            let won = s
                .state
                .compare_exchange(PENDING, next, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
            if won && next == FIRED {
                // Set even if `f` panics, as Python's `finally: self.finished.set()`.
                let _set = SetOnDrop(&s.finished);
                f();
            }
        });
        Timer {
            thread,
            shared,
            interval,
        }
    }

    /// Starts the timer's thread; the interval counts from now.
    ///
    /// # Errors
    ///
    /// As [`Thread::start`]: [`StartError::AlreadyStarted`] on a second call, or the OS
    /// refused to create the thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = threadkit::Timer::new(Duration::ZERO, || {});
    /// t.start()?;
    /// assert!(t.start().is_err());
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn start(&self) -> Result<(), StartError> {
        self.thread.start()
    }

    /// Stops the timer if its function has not started yet; true if this call stopped it.
    /// False (and nothing happens) once the function runs or has run, or if the timer was
    /// cancelled before. The timer's thread then ends at once, without waiting out the
    /// interval. May be called before [`start`](Timer::start): the timer then never fires.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = threadkit::Timer::new(Duration::from_secs(3600), || panic!("must not run"));
    /// t.start()?;
    /// assert!(t.cancel());
    /// assert!(!t.cancel());
    /// t.join()?; // returns at once: the wait was cut short
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&self) -> bool {
        let stopped = self
            .shared
            .state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if stopped {
            self.shared.finished.set();
        }
        stopped
    }

    /// True once [`cancel`](Timer::cancel) stopped the timer.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::from_secs(1), || {});
    /// t.cancel();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.shared.state.load(Ordering::Acquire) == CANCELLED
    }

    /// True once the function has started running (it may still run, or have panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::ZERO, || {});
    /// assert!(!t.has_fired());
    /// t.start()?;
    /// t.join()?;
    /// assert!(t.has_fired());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_fired(&self) -> bool {
        self.shared.state.load(Ordering::Acquire) == FIRED
    }

    /// The [`Event`] the timer's thread waits on, Python's `timer.finished`: set by
    /// [`cancel`](Timer::cancel), and after the function has run (or panicked). Setting it
    /// before the interval is up cancels the timer, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::ZERO, || {});
    /// t.start()?;
    /// t.finished().wait();
    /// assert!(t.has_fired());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finished(&self) -> &Event {
        &self.shared.finished
    }

    /// Waits until the timer's thread has ended (fired or cancelled).
    ///
    /// # Errors
    ///
    /// As [`Thread::join`]: [`JoinError::Panicked`] if the function panicked,
    /// [`JoinError::NotStarted`] before [`start`](Timer::start).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::from_millis(1), || {});
    /// assert!(t.join().is_err()); // not started
    /// t.start()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn join(&self) -> Result<(), JoinError> {
        self.thread.join()
    }

    /// Waits at most `timeout` for the timer's thread to end, and says whether it did
    /// ([`JoinStatus`], which must be looked at).
    ///
    /// # Errors
    ///
    /// As [`Thread::join_timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = threadkit::Timer::new(Duration::from_secs(3600), || {});
    /// t.start()?;
    /// assert!(t.join_timeout(Duration::from_millis(5))?.timed_out());
    /// t.cancel();
    /// assert!(t.join_timeout(Duration::MAX)?.finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> Result<JoinStatus, JoinError> {
        self.thread.join_timeout(timeout)
    }

    /// True while the timer's thread runs: from [`start`](Timer::start) until it fired (and
    /// the function returned) or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::from_secs(3600), || {});
    /// t.start()?;
    /// assert!(t.is_alive());
    /// t.cancel();
    /// t.join()?;
    /// assert!(!t.is_alive());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// The timer's thread: its name, ident, daemon flag, what it waits on.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Timer::new(std::time::Duration::from_secs(3600), || {});
    /// t.start()?;
    /// assert!(threadkit::enumerate().contains(t.thread()));
    /// t.cancel();
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// The interval between [`start`](Timer::start) and the call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = threadkit::Timer::new(Duration::from_secs(2), || {});
    /// assert_eq!(t.interval(), Duration::from_secs(2));
    /// ```
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

/// Sets an event when dropped, also while unwinding.
struct SetOnDrop<'a>(&'a Event);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set();
    }
}

impl fmt::Debug for Timer {
    /// `Timer { thread: <Thread(Thread-3, started 12)>, interval: 1s, state: "pending" }`:
    /// never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.shared.state.load(Ordering::Acquire) {
            PENDING => "pending",
            FIRED => "fired",
            _ => "cancelled",
        };
        f.debug_struct("Timer")
            .field("thread", &self.thread)
            .field("interval", &self.interval)
            .field("state", &state)
            .finish()
    }
}
