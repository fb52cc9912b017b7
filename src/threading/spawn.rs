//! Threads that return a value, in std's shape: [`spawn`], [`Builder::spawn`] and
//! [`JoinHandle<T>`]. A thin layer over [`Thread`]: the closure's value travels through a
//! slot the handle shares with the thread; starting, the registry, the excepthook and joining
//! are `Thread`'s own.

use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::builder::Builder;
use super::error::{JoinError, StartError};
use super::thread::{Kind, Thread, locked};
use crate::sync::wait;

/// Where a thread leaves its closure's value for the handle.
pub(crate) type Slot<T> = Arc<Mutex<Option<T>>>;

/// A started thread and the slot its value lands in: the part [`JoinHandle`] and
/// [`ScopedJoinHandle`](crate::ScopedJoinHandle) share.
pub(crate) struct Joinable<T> {
    pub(crate) thread: Thread,
    pub(crate) slot: Slot<T>,
}

impl<T> Joinable<T> {
    /// The body a thread runs to fill `slot` with `f`'s value.
    pub(crate) fn body<'a, F>(f: F, slot: Slot<T>) -> impl FnOnce() + Send + 'a
    where
        F: FnOnce() -> T + Send + 'a,
        T: Send + 'a,
    {
        move || {
            let value = f();
            *locked(&slot) = Some(value);
        }
    }

    /// Waits until `until` (forever if `None`); `Ok(None)` if the time ran out first.
    pub(crate) fn join(
        &self,
        until: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<Option<T>, JoinError> {
        if !self.thread.join_until(until, location)? {
            return Ok(None);
        }
        match locked(&self.slot).take() {
            Some(value) => Ok(Some(value)),
            // The thread ended cleanly without filling the slot: `thread::exit()`.
            None => Err(JoinError::Exited {
                thread: self.thread.name(),
            }),
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        // Started, so the state is STARTING, ALIVE or FINISHED: not alive means finished.
        !self.thread.is_alive()
    }
}

/// The deadline of a timed join: zero polls once, a timeout too large for the clock waits
/// forever (as [`Thread::join_timeout`]).
pub(crate) fn join_deadline(timeout: Duration) -> Option<Instant> {
    if timeout.is_zero() {
        Some(Instant::now())
    } else {
        wait::deadline(timeout)
    }
}

/// Starts a thread that runs `f` and returns a handle whose [`join`](JoinHandle::join) gives
/// back `f`'s value: std's `thread::spawn`, with a threadkit [`Thread`] underneath (named
/// `Thread-N`, registered, daemon flag of the caller, waited for at exit unless daemon).
///
/// Use [`Builder::spawn`] to name the thread or to get an error value instead of a panic when
/// the OS cannot start it.
///
/// Like std's, it returns as soon as the OS has created the thread, without waiting for it to
/// run: the thread is already registered, [alive](Thread::is_alive) and
/// [listed](crate::enumerate), with its [`ident`](Thread::ident); only its
/// [`native_id`](Thread::native_id) may be `None` until it has begun to run.
/// [`Thread::start`] waits for that, as Python's `start` does.
///
/// # Panics
///
/// If the thread cannot be started (the OS refused, or a process-wide
/// [`stack_size`](crate::thread::stack_size) below what the OS accepts), as std's `spawn`.
///
/// # Examples
///
/// ```
/// let h = threadkit::spawn(|| 6 * 7);
/// assert!(h.thread().name().starts_with("Thread-"));
/// assert_eq!(h.join()?, 42);
/// # Ok::<(), threadkit::JoinError>(())
/// ```
///
/// The closure must own what it uses (`'static`); to borrow, use [`scope`](crate::scope):
///
/// ```compile_fail
/// let local = vec![1, 2];
/// let h = threadkit::spawn(|| local.len());
/// ```
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().spawn(f) {
        Ok(handle) => handle,
        Err(e) => panic!("failed to spawn thread: {e}"),
    }
}

impl Builder {
    /// Starts a thread with this builder's settings that runs `f`, and returns a handle whose
    /// [`join`](JoinHandle::join) gives back `f`'s value (std's `Builder::spawn`). As
    /// [`spawn`], it does not wait for the thread to run.
    ///
    /// # Errors
    ///
    /// [`StartError`] if the thread could not be started: a stack size below 32 KiB, or the
    /// OS refused. `f` is dropped unrun.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Thread;
    ///
    /// let h = Thread::builder().name("parser").spawn(|| "1,2,3".split(',').count())?;
    /// assert_eq!(h.thread().name(), "parser");
    /// assert_eq!(h.join()?, 3);
    ///
    /// let err = Thread::builder().name("tiny").stack_size(1024).spawn(|| ()).unwrap_err();
    /// assert!(matches!(err, threadkit::StartError::StackTooSmall { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, StartError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot: Slot<T> = Arc::new(Mutex::new(None));
        let body = Box::new(Joinable::body(f, slot.clone()));
        let thread = self.build_for::<F>(Kind::Started, body);
        thread.launch(false)?;
        Ok(JoinHandle {
            inner: Joinable { thread, slot },
        })
    }
}

/// An owned permission to join a thread started by [`spawn`] or [`Builder::spawn`] and get
/// its closure's value: std's `JoinHandle<T>` over a threadkit [`Thread`].
///
/// Dropping the handle detaches the thread: it runs on (and, unless daemon, is waited for at
/// exit); its value is dropped when it ends.
///
/// # Panics in the thread
///
/// As for every threadkit thread, a panic goes to the [excepthook](crate::set_excepthook)
/// (by default `Exception in thread NAME:` on stderr), and then [`join`](JoinHandle::join)
/// returns it as [`JoinError::Panicked`] with the payload, ready for
/// [`resume_unwind`](std::panic::resume_unwind) ([`JoinError::into_panic`]). This is Python's
/// model (every uncaught exception is reported when it happens) and what std users see too
/// (std's panic hook prints every panic); a program that wants silence sets an excepthook.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
/// let h = threadkit::spawn(|| -> Result<u32, std::num::ParseIntError> {
///     let n: u32 = "41".parse()?; // `?` works inside a worker
///     Ok(n + 1)
/// });
/// assert_eq!(h.join()?, Ok(42));
///
/// let h = threadkit::spawn(|| -> u32 { panic!("no value") });
/// let payload = h.join().unwrap_err().into_panic().unwrap();
/// assert_eq!(payload.downcast_ref::<&str>(), Some(&"no value"));
/// threadkit::reset_excepthook();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JoinHandle<T> {
    inner: Joinable<T>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to end and returns its closure's value.
    ///
    /// # Errors
    ///
    /// - [`JoinError::Panicked`] if the closure panicked (with the payload, unless a
    ///   [`Thread::join`] on the same thread took it first).
    /// - [`JoinError::Exited`] if the closure called [`thread::exit`](crate::thread::exit).
    /// - [`JoinError::CurrentThread`] if the thread tries to join itself (the handle was sent
    ///   into it): nothing waited.
    ///
    /// # Examples
    ///
    /// ```
    /// let data = vec![1, 2, 3];
    /// let h = threadkit::spawn(move || data.iter().sum::<i32>());
    /// assert_eq!(h.join()?, 6);
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    #[track_caller]
    pub fn join(self) -> Result<T, JoinError> {
        match self.inner.join(None, Location::caller())? {
            Some(value) => Ok(value),
            None => unreachable!("an untimed join waits until the thread ended"),
        }
    }

    /// Waits at most `timeout` for the thread to end: `Ok(Ok(value))` if it did, `Ok(Err(self))`
    /// (the handle back, to wait again later) if it still runs. Zero polls once; a timeout
    /// too large for the clock waits forever. Never gives up early.
    ///
    /// # Errors
    ///
    /// As [`join`](JoinHandle::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use threadkit::Event;
    ///
    /// let go = Arc::new(Event::new());
    /// let g = go.clone();
    /// let h = threadkit::spawn(move || { g.wait(); "done" });
    /// let h = match h.join_timeout(Duration::from_millis(10))? {
    ///     Ok(_) => unreachable!("it waits for the event"),
    ///     Err(still_running) => still_running,
    /// };
    /// go.set();
    /// assert_eq!(h.join_timeout(Duration::MAX)?.ok(), Some("done"));
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    #[track_caller]
    pub fn join_timeout(self, timeout: Duration) -> Result<Result<T, Self>, JoinError> {
        Ok(
            match self
                .inner
                .join(join_deadline(timeout), Location::caller())?
            {
                Some(value) => Ok(value),
                None => Err(self),
            },
        )
    }

    /// The thread: its name, ident, daemon flag, what it waits on.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = threadkit::Thread::builder().name("w").daemon(true).spawn(|| ())?;
    /// assert_eq!(h.thread().name(), "w");
    /// assert!(h.thread().is_daemon());
    /// assert!(h.thread().ident().is_some());
    /// h.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.inner.thread
    }

    /// True once the thread has ended (its closure returned or panicked): then
    /// [`join`](JoinHandle::join) returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = threadkit::spawn(|| 1);
    /// h.thread().join()?; // wait through the Thread; the value stays for the handle
    /// assert!(h.is_finished());
    /// assert_eq!(h.join()?, 1);
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    /// `JoinHandle { thread: <Thread(name, started 7)> }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", &self.inner.thread)
            .finish_non_exhaustive()
    }
}
