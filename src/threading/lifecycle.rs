//! Starting and joining: [`Thread::start`], [`Thread::join`], and the trampoline every thread
//! threadkit starts runs first.

use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::error::{JoinError, StartError};
use super::thread::{Inner, Kind, Target, Thread, locked, state};
use super::{excepthook, registry, shutdown};
use crate::observe::timeline;
use crate::sync::wait::{self, Blocked, ObjectId, ObjectKind, Owner, WaitKind};
use crate::sys;

/// The smallest stack a thread may ask for, as Python's `_thread.stack_size`.
pub(crate) const MIN_STACK: usize = 32 * 1024;

/// The unwind payload of [`thread::exit`](crate::thread::exit): ends a thread quietly.
pub(crate) struct ThreadExit;

impl Thread {
    /// Starts the thread. Returns once the new thread is registered and running: its
    /// [`ident`](Thread::ident) and [`native_id`](Thread::native_id) are known and
    /// [`enumerate`](crate::enumerate) lists it.
    ///
    /// # Errors
    ///
    /// - [`StartError::AlreadyStarted`] if `start` was called before.
    /// - [`StartError::StackTooSmall`] if the builder asked for less than 32 KiB of stack.
    /// - [`StartError::Spawn`] if the OS refused (the thread then counts as never started).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// t.start()?;
    /// assert!(t.start().is_err());
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn start(&self) -> Result<(), StartError> {
        self.launch(true)
    }

    /// Starts the thread; with `until_running`, returns only once it runs (Python's
    /// `start`), without, once the OS thread is created (std's `spawn`): the thread is then
    /// registered, alive and listed, and only its native id may still be unknown.
    #[track_caller]
    pub(crate) fn launch(&self, until_running: bool) -> Result<(), StartError> {
        let inner = &self.inner;
        let stack = inner.stack_size.or_else(crate::thread::default_stack_size);
        if let Some(size) = stack.filter(|&s| s < MIN_STACK) {
            return Err(StartError::StackTooSmall {
                thread: self.name(),
                size,
            });
        }
        if inner
            .state
            .compare_exchange(
                state::NEW,
                state::STARTING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(StartError::AlreadyStarted {
                thread: self.name(),
            });
        }
        let target = locked(&inner.target)
            .take()
            .expect("an unstarted thread always has its target");
        spawn(inner, stack, target)?;
        if !until_running {
            return Ok(());
        }
        let key = inner.state_key();
        let on = blocked(WaitKind::Start, inner, Location::caller());
        let starting = || inner.state.load(Ordering::Acquire) == state::STARTING;
        if spin_while(START_SPIN, starting) {
            wait::wait_while(key, on, None, starting);
        }
        Ok(())
    }

    /// Waits until the thread has ended (its body returned or panicked, its thread-locals
    /// dropped). Any number of threads may join the same thread, any number of times.
    ///
    /// # Errors
    ///
    /// - [`JoinError::Panicked`] if the body panicked: every join reports it; the first one
    ///   also gets the panic payload (see [`ThreadPanic`](crate::ThreadPanic)).
    /// - [`JoinError::NotStarted`], [`JoinError::CurrentThread`], [`JoinError::NotJoinable`]
    ///   for misuse: nothing waited.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// t.start()?;
    /// t.join()?;
    /// t.join()?; // joining again returns at once
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn join(&self) -> Result<(), JoinError> {
        self.join_until(None, Location::caller()).map(|_| ())
    }

    /// Waits at most `timeout` for the thread to end, and says whether it did: a
    /// [`JoinStatus`], which must be looked at (`t.join_timeout(d)?;` alone is a warning: the
    /// thread may still run). Python's `t.join(timeout)` followed by `t.is_alive()`, in one
    /// call. Zero polls once; a timeout too large for the clock waits forever. Never reports
    /// [`TimedOut`](JoinStatus::TimedOut) early.
    ///
    /// # Errors
    ///
    /// As [`join`](Thread::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let gate = std::sync::Arc::new(threadkit::Lock::new());
    /// gate.acquire();
    /// let g = gate.clone();
    /// let t = threadkit::Thread::new(move || g.acquire());
    /// t.start()?;
    /// assert!(t.join_timeout(Duration::from_millis(10))?.timed_out());
    /// gate.release()?;
    /// assert!(t.join_timeout(Duration::MAX)?.finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> Result<JoinStatus, JoinError> {
        let until = if timeout.is_zero() {
            Some(Instant::now())
        } else {
            wait::deadline(timeout)
        };
        self.join_until(until, Location::caller())
            .map(JoinStatus::from_finished)
    }

    pub(crate) fn join_until(
        &self,
        until: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<bool, JoinError> {
        let inner = &self.inner;
        if matches!(inner.kind, Kind::Dummy | Kind::LowLevel) {
            return Err(JoinError::NotJoinable {
                thread: self.name(),
            });
        }
        match inner.state.load(Ordering::Acquire) {
            state::NEW | state::FAILED => {
                return Err(JoinError::NotStarted {
                    thread: self.name(),
                });
            }
            state::FINISHED => return self.outcome(),
            _ => {}
        }
        if self.is_current() {
            return Err(JoinError::CurrentThread {
                thread: self.name(),
            });
        }
        let key = inner.state_key();
        let on = blocked(WaitKind::Join, inner, location);
        if wait::wait_while(key, on, until, || {
            inner.state.load(Ordering::Acquire) != state::FINISHED
        }) {
            self.outcome()
        } else {
            Ok(false)
        }
    }

    fn outcome(&self) -> Result<bool, JoinError> {
        // The first join takes the payload; later ones get the text (see `ThreadPanic`).
        match &mut *locked(&self.inner.panic) {
            Some(p) => Err(JoinError::Panicked(p.take())),
            None => Ok(true),
        }
    }
}

/// Whether a timed join saw the thread end: what [`Thread::join_timeout`] and
/// [`Timer::join_timeout`](crate::Timer::join_timeout) return (a panic in the thread is a
/// [`JoinError::Panicked`] instead). Python's `t.join(timeout)` returns `None` either way and
/// leaves the caller to ask `t.is_alive()`; here the answer comes back, and dropping it is a
/// warning (`#[must_use]`), as std's [`WaitTimeoutResult`](std::sync::WaitTimeoutResult) is
/// for a condvar: the code after `t.join_timeout(d)?;` would believe that the thread ended.
///
/// Ask it with [`finished`](JoinStatus::finished) or [`timed_out`](JoinStatus::timed_out), or
/// match on it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::{Event, JoinStatus, Thread};
///
/// let go = std::sync::Arc::new(Event::new());
/// let g = go.clone();
/// let t = Thread::new(move || g.wait());
/// t.start()?;
/// assert_eq!(t.join_timeout(Duration::ZERO)?, JoinStatus::TimedOut); // still waiting
/// go.set();
/// match t.join_timeout(Duration::from_secs(60))? {
///     JoinStatus::Finished => assert!(!t.is_alive()),
///     JoinStatus::TimedOut => panic!("a set event lets the thread end"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "the thread may still be running: check `finished()` or `timed_out()`"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinStatus {
    /// The thread ended: its body returned (or called [`thread::exit`](crate::thread::exit))
    /// and its thread-locals were dropped.
    Finished,
    /// The time was up with the thread still running.
    TimedOut,
}

impl JoinStatus {
    /// True if the thread ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// t.start()?;
    /// assert!(t.join_timeout(std::time::Duration::MAX)?.finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn finished(self) -> bool {
        matches!(self, JoinStatus::Finished)
    }

    /// True if the time was up with the thread still running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let go = std::sync::Arc::new(threadkit::Event::new());
    /// let g = go.clone();
    /// let t = threadkit::Thread::new(move || g.wait());
    /// t.start()?;
    /// assert!(t.join_timeout(Duration::from_millis(5))?.timed_out());
    /// go.set();
    /// assert!(!t.join_timeout(Duration::MAX)?.timed_out());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn timed_out(self) -> bool {
        matches!(self, JoinStatus::TimedOut)
    }

    /// `Finished` if `finished`, else `TimedOut`.
    pub(crate) const fn from_finished(finished: bool) -> JoinStatus {
        if finished {
            JoinStatus::Finished
        } else {
            JoinStatus::TimedOut
        }
    }
}

/// How long [`Thread::start`] spins, checking for the new thread to report in, before it
/// parks. The OS takes some tens of µs to get a new thread running; parking and being woken
/// costs about as much again (a futex wait, a wake-up call from the child, the scheduler's
/// latency), so a short spin makes `start` about a third cheaper. The spin yields the processor
/// between checks, so a child waiting for this very CPU gets it.
const START_SPIN: Duration = Duration::from_micros(50);

/// Spins while `cond` holds, for at most `budget`: checks it between pause instructions and
/// yields the processor every few checks. Returns whether `cond` still holds.
fn spin_while(budget: Duration, cond: impl Fn() -> bool) -> bool {
    let began = Instant::now();
    loop {
        for _ in 0..32 {
            if !cond() {
                return false;
            }
            std::hint::spin_loop();
        }
        std::thread::yield_now();
        if began.elapsed() >= budget {
            return cond();
        }
    }
}

/// The record of a wait for thread `inner` (to start, or to end): the one place this file
/// builds one. The thread is its own owner, by ident.
fn blocked(kind: WaitKind, inner: &Inner, location: &'static Location<'static>) -> Blocked {
    Blocked::on(kind, ObjectId::of(ObjectKind::Thread, inner), location)
        .owned_by(Owner::Thread(inner.ident.load(Ordering::Relaxed)))
}

/// Registers the entry and creates the OS thread. On failure the entry leaves the table and
/// the thread counts as never started.
pub(crate) fn spawn(
    inner: &Arc<Inner>,
    stack: Option<usize>,
    target: Target,
) -> Result<(), StartError> {
    inner.ident.store(registry::next_ident(), Ordering::Release);
    registry::insert(inner);
    shutdown::install_hooks();
    let name = inner.name();
    let mut builder = std::thread::Builder::new();
    if !name.contains('\0') {
        builder = builder.name(name.to_string());
    }
    if let Some(size) = stack {
        builder = builder.stack_size(size);
    }
    let child = inner.clone();
    match builder.spawn(move || trampoline(child, target)) {
        // Detached: joins wait on the entry's state, which also outlives the OS thread.
        Ok(handle) => {
            drop(handle);
            Ok(())
        }
        Err(error) => {
            registry::remove(inner);
            inner.state.store(state::FAILED, Ordering::Release);
            wait::unpark_all(inner.state_key());
            Err(StartError::Spawn {
                thread: name.to_string(),
                error,
            })
        }
    }
}

/// First and last code of every thread threadkit starts.
fn trampoline(inner: Arc<Inner>, target: Target) {
    inner.native_id.store(sys::native_id(), Ordering::Release);
    let _ = inner.started_at.set(Instant::now());
    // Registers the thread-local owner first, so its destructor (which marks the thread
    // finished) runs after the body's own thread-locals are dropped.
    registry::bind_started(inner.clone());
    let ident = inner.ident.load(Ordering::Acquire);
    if timeline::is_recording() {
        timeline::thread_started(ident, &inner.name());
    }
    inner.state.store(state::ALIVE, Ordering::Release);
    wait::unpark_all(inner.state_key());

    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(target))
        && !payload.is::<ThreadExit>()
    {
        let report = excepthook::report(&inner, payload.as_ref());
        let hooked = report.text_only();
        *report.payload.lock().unwrap_or_else(|e| e.into_inner()) = Some(payload);
        *locked(&inner.panic) = Some(report);
        excepthook::call(&Thread::from_inner(inner.clone()), &hooked);
    }
    timeline::thread_ended(ident);
}

/// Dropping the answer of a timed or non-blocking call is a warning, and an error under
/// `#![deny(unused_must_use)]`: each `compile_fail` block below drops one, and the first
/// block, which looks at every one of them under the same lint level, compiles (so each
/// failure is the lint's, not a typo's).
///
/// ```no_run
/// #![deny(unused_must_use)]
/// use std::time::Duration;
/// use threadkit::{
///     BoundedSemaphore, Condition, Condvar, Event, Lock, Mutex, RLock, Semaphore, Thread,
///     ThreadPoolExecutor, Timer, queue::Queue,
/// };
/// fn used() -> Result<(), Box<dyn std::error::Error>> {
///     let d = Duration::ZERO;
///     let t = Thread::new(|| {});
///     let _b = Thread::builder().target(|| {});
///     let timer = Timer::new(d, || {});
///     let _ = t.join_timeout(d)?.finished();
///     let _ = timer.join_timeout(d)?.timed_out();
///     let _ = threadkit::spawn(|| 1u8).join_timeout(d)?.is_ok();
///     let cond = Condition::new();
///     let _ = cond.wait_timeout(d)?.timed_out();
///     let (m, cv) = (Mutex::new(0), Condvar::new());
///     let _ = cv.wait_timeout(&mut m.lock(), d)?.timed_out();
///     let _ = cv.wait_while_timeout(&mut m.lock(), |n| *n == 0, d)?.timed_out();
///     let _ = Lock::new().try_acquire();
///     let _ = Lock::new().acquire_timeout(d);
///     let _ = RLock::new().try_acquire();
///     let _ = RLock::new().acquire_timeout(d);
///     let _ = cond.try_acquire();
///     let _ = cond.acquire_timeout(d);
///     let _ = Semaphore::new(1).try_acquire();
///     let _ = Semaphore::new(1).acquire_timeout(d);
///     let _ = BoundedSemaphore::new(1).try_acquire();
///     let _ = BoundedSemaphore::new(1).acquire_timeout(d);
///     let _ = Event::new().wait_timeout(d);
///     let _ = Queue::<u8>::new(0).join_timeout(d);
///     let _ = ThreadPoolExecutor::new(1)?.wait_idle_timeout(d);
///     let f = threadkit::futures::TaskFuture::<u8>::new();
///     let _ = f.set_running_or_notify_cancel()?.running();
///     let when = threadkit::futures::ReturnWhen::AllCompleted;
///     let (_done, _late) = threadkit::futures::wait_timeout([&f], d, when);
///     Ok(())
/// }
/// ```
///
/// `t.join_timeout(d)?;` (the thread may still run):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn dropped(t: &threadkit::Thread) -> Result<(), threadkit::JoinError> {
///     t.join_timeout(std::time::Duration::ZERO)?;
///     Ok(())
/// }
/// ```
///
/// `h.join_timeout(d)?;` on a [`JoinHandle`](crate::JoinHandle) (its `Err(h)`, still running,
/// is a `Result` too):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn dropped(h: threadkit::JoinHandle<u8>) -> Result<(), threadkit::JoinError> {
///     h.join_timeout(std::time::Duration::ZERO)?;
///     Ok(())
/// }
/// ```
///
/// `timer.join_timeout(d)?;`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn dropped(t: &threadkit::Timer) -> Result<(), threadkit::JoinError> {
///     t.join_timeout(std::time::Duration::ZERO)?;
///     Ok(())
/// }
/// ```
///
/// `cond.wait_timeout(d)?;` (notified or timed out?):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn dropped(c: &threadkit::Condition) -> Result<(), threadkit::ConditionError> {
///     c.wait_timeout(std::time::Duration::ZERO)?;
///     Ok(())
/// }
/// ```
///
/// `cv.wait_timeout(&mut g, d)?;`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn dropped(cv: &threadkit::Condvar, m: &threadkit::Mutex<u8>) -> Result<(), threadkit::CondvarError> {
///     cv.wait_timeout(&mut m.lock(), std::time::Duration::ZERO)?;
///     Ok(())
/// }
/// ```
///
/// `cv.wait_while_timeout(&mut g, p, d)?;`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn dropped(cv: &threadkit::Condvar, m: &threadkit::Mutex<u8>) -> Result<(), threadkit::CondvarError> {
///     cv.wait_while_timeout(&mut m.lock(), |n| *n == 0, std::time::Duration::ZERO)?;
///     Ok(())
/// }
/// ```
///
/// `lock.try_acquire();`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Lock::new().try_acquire();
/// ```
///
/// `lock.acquire_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Lock::new().acquire_timeout(std::time::Duration::ZERO);
/// ```
///
/// `rlock.try_acquire();`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::RLock::new().try_acquire();
/// ```
///
/// `rlock.acquire_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::RLock::new().acquire_timeout(std::time::Duration::ZERO);
/// ```
///
/// `cond.try_acquire();`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Condition::new().try_acquire();
/// ```
///
/// `cond.acquire_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Condition::new().acquire_timeout(std::time::Duration::ZERO);
/// ```
///
/// `sem.try_acquire();`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Semaphore::new(1).try_acquire();
/// ```
///
/// `sem.acquire_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Semaphore::new(1).acquire_timeout(std::time::Duration::ZERO);
/// ```
///
/// `bounded.try_acquire();`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::BoundedSemaphore::new(1).try_acquire();
/// ```
///
/// `bounded.acquire_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::BoundedSemaphore::new(1).acquire_timeout(std::time::Duration::ZERO);
/// ```
///
/// `event.wait_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Event::new().wait_timeout(std::time::Duration::ZERO);
/// ```
///
/// `queue.join_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::queue::Queue::<u8>::new(0).join_timeout(std::time::Duration::ZERO);
/// ```
///
/// `pool.wait_idle_timeout(d);`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn dropped(pool: &threadkit::ThreadPoolExecutor) {
///     pool.wait_idle_timeout(std::time::Duration::ZERO);
/// }
/// ```
///
/// `f.set_running_or_notify_cancel()?;` (the task may have been cancelled):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use threadkit::futures::{InvalidStateError, TaskFuture};
/// fn dropped(f: &TaskFuture<u8>) -> Result<(), InvalidStateError> {
///     f.set_running_or_notify_cancel()?;
///     Ok(())
/// }
/// ```
///
/// `Thread::new(|| ...);` (never started):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Thread::new(|| {});
/// ```
///
/// `Thread::builder().target(|| ...);` (never started):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Thread::builder().target(|| {});
/// ```
///
/// `Timer::new(d, f);` (never started):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// threadkit::Timer::new(std::time::Duration::ZERO, || {});
/// ```
///
/// `futures::wait_timeout(fs, d, when);` (which futures did not finish in time is lost):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use threadkit::futures::{ReturnWhen, TaskFuture, wait_timeout};
/// let f = TaskFuture::<u8>::new();
/// wait_timeout([&f], std::time::Duration::ZERO, ReturnWhen::AllCompleted);
/// ```
#[cfg(doctest)]
struct MustUseChecks;
