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

    /// Waits at most `timeout` for the thread to end; true if it did. Zero polls once; a
    /// timeout too large for the clock waits forever. Never returns false early.
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
    /// assert!(!t.join_timeout(Duration::from_millis(10))?);
    /// gate.release()?;
    /// assert!(t.join_timeout(Duration::MAX)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, JoinError> {
        let until = if timeout.is_zero() {
            Some(Instant::now())
        } else {
            wait::deadline(timeout)
        };
        self.join_until(until, Location::caller())
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
