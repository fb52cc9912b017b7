//! Errors of the executor and its futures: one type per operation, each naming the pool (or
//! the future) and the thread; a refused closure or value comes back inside the error.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::ThreadPanic;

/// Why a task gave no value: the exception set on its future (Python's
/// `future.exception()`).
///
/// # Examples
///
/// ```
/// use threadkit::futures::{TaskException, TaskFuture};
///
/// let f: TaskFuture<u8> = TaskFuture::new();
/// f.set_exception(TaskException::custom("disk full"))?;
/// let e = f.exception()?.expect("an exception");
/// assert_eq!(e.to_string(), "disk full");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TaskException {
    /// The task panicked: the report the excepthook would have had (the panic went to the
    /// future instead, as in Python).
    Panicked(Arc<ThreadPanic>),
    /// The pool broke before the task ran: an initializer failed or panicked.
    BrokenPool {
        /// The pool's name (its thread name prefix).
        pool: String,
        /// What broke it.
        reason: String,
    },
    /// An error set by hand through [`TaskFuture::set_exception`](super::TaskFuture::set_exception).
    Custom(Arc<dyn Error + Send + Sync>),
}

impl TaskException {
    /// An exception carrying `error`, for executors built by hand.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::TaskException;
    ///
    /// let e = TaskException::custom("timeout talking to the server");
    /// assert_eq!(e.to_string(), "timeout talking to the server");
    /// ```
    pub fn custom(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        TaskException::Custom(Arc::from(error.into()))
    }

    /// The panic, if the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(1)?;
    /// let f = pool.submit(|| -> u8 { panic!("bad input") })?;
    /// let e = f.exception()?.expect("it panicked");
    /// assert_eq!(e.panic().map(|p| p.message()), Some("bad input"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn panic(&self) -> Option<&ThreadPanic> {
        match self {
            TaskException::Panicked(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for TaskException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskException::Panicked(p) => write!(f, "the task panicked: {p}"),
            TaskException::BrokenPool { pool, reason } => {
                write!(f, "pool {pool} is broken: {reason}")
            }
            TaskException::Custom(e) => write!(f, "{e}"),
        }
    }
}

impl Error for TaskException {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TaskException::Panicked(p) => Some(&**p),
            TaskException::Custom(e) => Some(&**e),
            TaskException::BrokenPool { .. } => None,
        }
    }
}

/// Why [`TaskFuture::result`](super::TaskFuture::result) (and its variants) gave no value:
/// Python's `CancelledError`, `TimeoutError`, or the task's exception.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::futures::{FutureError, TaskFuture};
///
/// let f: TaskFuture<u8> = TaskFuture::new();
/// assert!(matches!(f.result_timeout(Duration::ZERO), Err(FutureError::Timeout { .. })));
/// assert!(f.cancel());
/// assert!(matches!(f.result(), Err(FutureError::Cancelled { .. })));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum FutureError {
    /// The future was cancelled before its task ran.
    Cancelled {
        /// Which future (`"a future of pool NAME"` or `"a hand-made future"`).
        future: String,
        /// The thread that asked.
        thread: String,
    },
    /// The timeout passed before the future was done.
    Timeout {
        /// Which future.
        future: String,
        /// The thread that waited.
        thread: String,
        /// How long it waited.
        timeout: Duration,
    },
    /// The task failed: it panicked, or its pool broke.
    Failed(TaskException),
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled { future, thread } => {
                write!(f, "{future} was cancelled (asked by thread {thread})")
            }
            FutureError::Timeout {
                future,
                thread,
                timeout,
            } => write!(
                f,
                "thread {thread} timed out after {timeout:?} waiting for {future}"
            ),
            FutureError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl Error for FutureError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            FutureError::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// An executor-side call made in the wrong state (Python's `InvalidStateError`): setting the
/// result of a future that is already done, or starting one that is not pending.
///
/// # Examples
///
/// ```
/// use threadkit::futures::TaskFuture;
///
/// let f = TaskFuture::new();
/// f.set_result(1)?;
/// let err = f.set_result(2).unwrap_err();
/// assert_eq!(err.state(), "finished");
/// assert_eq!(err.into_inner(), 2); // the refused value comes back
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidStateError {
    pub(crate) op: &'static str,
    pub(crate) state: &'static str,
    pub(crate) future: String,
    pub(crate) thread: String,
}

impl InvalidStateError {
    /// The state the future was in (`"pending"`, `"running"`, `"cancelled"`, `"finished"`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::{SetRunning, TaskFuture};
    ///
    /// let f: TaskFuture<()> = TaskFuture::new();
    /// f.cancel();
    /// assert_eq!(f.set_running_or_notify_cancel(), Ok(SetRunning::Cancelled));
    /// let err = f.set_running_or_notify_cancel().unwrap_err();
    /// assert_eq!(err.state(), "cancelled");
    /// ```
    pub fn state(&self) -> &'static str {
        self.state
    }
}

impl fmt::Display for InvalidStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} in state {} (thread {})",
            self.op, self.future, self.state, self.thread
        )
    }
}

impl Error for InvalidStateError {}

/// [`set_result`](super::TaskFuture::set_result) or
/// [`set_exception`](super::TaskFuture::set_exception) refused: the future was already done.
/// The value comes back.
///
/// # Examples
///
/// ```
/// use threadkit::futures::TaskFuture;
///
/// let f = TaskFuture::new();
/// assert!(f.cancel());
/// let err = f.set_result(String::from("late")).unwrap_err();
/// assert_eq!(err.state(), "cancelled");
/// assert_eq!(err.into_inner(), "late");
/// ```
pub struct SetError<V> {
    pub(crate) error: Box<InvalidStateError>,
    pub(crate) value: V,
}

impl<V> SetError<V> {
    /// The refused value.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = threadkit::futures::TaskFuture::new();
    /// f.set_result(1u8)?;
    /// assert_eq!(f.set_result(9).unwrap_err().into_inner(), 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> V {
        self.value
    }

    /// The state the future was in.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = threadkit::futures::TaskFuture::new();
    /// f.set_result(1u8)?;
    /// assert_eq!(f.set_result(9).unwrap_err().state(), "finished");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn state(&self) -> &'static str {
        self.error.state
    }
}

impl<V> fmt::Debug for SetError<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<V> fmt::Display for SetError<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<V> Error for SetError<V> {}

/// Why a pool could not be built: `max_workers` was 0 (Python's `ValueError`).
///
/// # Examples
///
/// ```
/// use threadkit::ThreadPoolExecutor;
///
/// let err = ThreadPoolExecutor::new(0).unwrap_err();
/// assert!(err.to_string().contains("max_workers must be greater than 0"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    pub(crate) pool: String,
    pub(crate) thread: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "max_workers must be greater than 0 (pool {}, built by thread {})",
            self.pool, self.thread
        )
    }
}

impl Error for BuildError {}

/// Why [`submit`](super::ThreadPoolExecutor::submit) refused a task.
///
/// # Examples
///
/// ```
/// use threadkit::futures::SubmitErrorKind;
///
/// let pool = threadkit::ThreadPoolExecutor::new(1)?;
/// pool.shutdown(true, false)?;
/// let err = pool.submit(|| 42).unwrap_err();
/// assert_eq!(err.kind(), &SubmitErrorKind::Shutdown);
/// assert_eq!((err.into_inner())(), 42); // the closure comes back
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitErrorKind {
    /// The pool was shut down (Python: "cannot schedule new futures after shutdown").
    Shutdown,
    /// The pool is broken (an initializer failed); the reason.
    Broken(String),
    /// The pool has no worker and could not start one; the start error.
    Spawn(String),
}

/// [`submit`](super::ThreadPoolExecutor::submit) refused: the task comes back.
///
/// # Examples
///
/// ```
/// let pool = threadkit::ThreadPoolExecutor::new(1)?;
/// pool.shutdown(false, false)?;
/// let err = pool.submit(|| ()).unwrap_err();
/// assert!(err.to_string().contains("cannot schedule new futures after shutdown"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SubmitError<F> {
    pub(crate) kind: SubmitErrorKind,
    pub(crate) pool: String,
    pub(crate) thread: String,
    pub(crate) task: F,
}

impl<F> SubmitError<F> {
    /// Why the task was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::SubmitErrorKind;
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// pool.shutdown(true, false)?;
    /// assert_eq!(pool.submit(|| ()).unwrap_err().kind(), &SubmitErrorKind::Shutdown);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> &SubmitErrorKind {
        &self.kind
    }

    /// The refused task.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// pool.shutdown(true, false)?;
    /// let task = pool.submit(|| 7).unwrap_err().into_inner();
    /// assert_eq!(task(), 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> F {
        self.task
    }
}

impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitError")
            .field("kind", &self.kind)
            .field("pool", &self.pool)
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (pool, thread) = (&self.pool, &self.thread);
        match &self.kind {
            SubmitErrorKind::Shutdown => write!(
                f,
                "cannot schedule new futures after shutdown (pool {pool}, thread {thread})"
            ),
            SubmitErrorKind::Broken(reason) => write!(
                f,
                "cannot schedule new futures: pool {pool} is broken: {reason} (thread {thread})"
            ),
            SubmitErrorKind::Spawn(e) => write!(
                f,
                "cannot schedule new futures: pool {pool} could not start a worker: {e} \
                 (thread {thread})"
            ),
        }
    }
}

impl<F> Error for SubmitError<F> {}

/// [`shutdown`](super::ThreadPoolExecutor::shutdown) with `wait = true` called from one of the
/// pool's own workers: it would wait for itself, so nothing was done.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::ThreadPoolExecutor;
///
/// let pool = Arc::new(ThreadPoolExecutor::builder().thread_name_prefix("own").build()?);
/// let p = pool.clone();
/// let f = pool.submit(move || p.shutdown(true, false).map_err(|e| e.to_string()))?;
/// let err = f.into_result()?.unwrap_err();
/// assert!(err.contains("own_0"), "{err}");
/// pool.shutdown(true, false)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShutdownError {
    pub(crate) pool: String,
    pub(crate) thread: String,
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shutdown(wait=true) called from thread {}, a worker of pool {}: it would wait \
             for itself (call shutdown(false, ..) from a worker)",
            self.thread, self.pool
        )
    }
}

impl Error for ShutdownError {}

/// [`as_completed`](super::as_completed)'s timeout passed with futures unfinished (Python's
/// `TimeoutError: N (of M) futures unfinished`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::futures::{TaskFuture, as_completed_timeout};
///
/// let done = TaskFuture::new();
/// done.set_result(1)?;
/// let waiting: TaskFuture<i32> = TaskFuture::new();
/// let mut it = as_completed_timeout([&done, &waiting], Duration::from_millis(10));
/// assert!(it.next().unwrap().is_ok());
/// let err = it.next().unwrap().unwrap_err();
/// assert_eq!((err.unfinished(), err.total()), (1, 2));
/// assert!(err.to_string().contains("1 (of 2) futures unfinished"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsCompletedTimeout {
    pub(crate) unfinished: usize,
    pub(crate) total: usize,
    pub(crate) timeout: Duration,
    pub(crate) thread: String,
}

impl AsCompletedTimeout {
    /// How many futures were not done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let f: threadkit::futures::TaskFuture<()> = threadkit::futures::TaskFuture::new();
    /// let mut it = threadkit::futures::as_completed_timeout([&f], Duration::ZERO);
    /// assert_eq!(it.next().unwrap().unwrap_err().unfinished(), 1);
    /// ```
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// How many distinct futures were given.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let f: threadkit::futures::TaskFuture<()> = threadkit::futures::TaskFuture::new();
    /// let mut it = threadkit::futures::as_completed_timeout([&f, &f], Duration::ZERO);
    /// assert_eq!(it.next().unwrap().unwrap_err().total(), 1); // duplicates count once
    /// ```
    pub fn total(&self) -> usize {
        self.total
    }
}

impl fmt::Display for AsCompletedTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (of {}) futures unfinished after {:?} (thread {})",
            self.unfinished, self.total, self.timeout, self.thread
        )
    }
}

impl Error for AsCompletedTimeout {}
