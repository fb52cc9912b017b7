//! Errors of thread operations: one type per operation, each naming the thread.

use std::error::Error;
use std::fmt;
use std::io;

/// A panic that ended a thread: what Python calls an uncaught exception in a thread.
///
/// Returned by [`Thread::join`](crate::Thread::join) inside [`JoinError::Panicked`], and given
/// to the [excepthook](crate::set_excepthook).
///
/// # Examples
///
/// ```
/// use threadkit::{JoinError, Thread};
///
/// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
/// let t = Thread::builder().name("boom").target(|| panic!("bad input"));
/// t.start()?;
/// match t.join() {
///     Err(JoinError::Panicked(p)) => {
///         assert_eq!(p.thread(), "boom");
///         assert_eq!(p.message(), "bad input");
///     }
///     other => panic!("expected a panic, got {other:?}"),
/// }
/// threadkit::reset_excepthook();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadPanic {
    pub(crate) thread: String,
    pub(crate) message: String,
    pub(crate) location: Option<String>,
    pub(crate) backtrace: Option<String>,
}

impl ThreadPanic {
    /// The name of the thread that panicked, as it was at the time.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{JoinError, Thread};
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let t = Thread::builder().name("parser").target(|| panic!("bad input"));
    /// t.start()?;
    /// let Err(JoinError::Panicked(p)) = t.join() else { panic!("expected a panic") };
    /// assert_eq!(p.thread(), "parser");
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }

    /// The panic message (`"Box<dyn Any>"` when the payload was not a string).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{JoinError, Thread};
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let formatted = Thread::new(|| panic!("bad input: {}", 42));
    /// let other = Thread::new(|| std::panic::panic_any(42));
    /// formatted.start()?;
    /// other.start()?;
    /// let Err(JoinError::Panicked(p)) = formatted.join() else { panic!("expected a panic") };
    /// assert_eq!(p.message(), "bad input: 42");
    /// let Err(JoinError::Panicked(p)) = other.join() else { panic!("expected a panic") };
    /// assert_eq!(p.message(), "Box<dyn Any>"); // not a string payload
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the panic happened (`file:line:column`), when known.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{JoinError, Thread};
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let expected = format!("{}:{}:", file!(), line!() + 1);
    /// let t = Thread::new(|| panic!("bad input"));
    /// t.start()?;
    /// let Err(JoinError::Panicked(p)) = t.join() else { panic!("expected a panic") };
    /// assert!(p.location().unwrap().starts_with(&expected));
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// A backtrace, captured when `RUST_BACKTRACE` asked for one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::backtrace::{Backtrace, BacktraceStatus};
    /// use threadkit::{JoinError, Thread};
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let t = Thread::new(|| panic!("bad input"));
    /// t.start()?;
    /// let Err(JoinError::Panicked(p)) = t.join() else { panic!("expected a panic") };
    /// // Present exactly when the environment (`RUST_BACKTRACE`, `RUST_LIB_BACKTRACE`) enables them.
    /// let enabled = Backtrace::capture().status() == BacktraceStatus::Captured;
    /// assert_eq!(p.backtrace().is_some(), enabled);
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backtrace(&self) -> Option<&str> {
        self.backtrace.as_deref()
    }
}

impl fmt::Display for ThreadPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread {} panicked", self.thread)?;
        if let Some(loc) = &self.location {
            write!(f, " at {loc}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Error for ThreadPanic {}

/// Why [`Thread::start`](crate::Thread::start) refused.
///
/// # Examples
///
/// ```
/// use threadkit::{StartError, Thread};
///
/// let t = Thread::builder().name("once").target(|| {});
/// t.start()?;
/// let err = t.start().unwrap_err();
/// assert!(matches!(err, StartError::AlreadyStarted { .. }));
/// assert_eq!(err.to_string(), "thread once can only be started once");
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// `start` was called before on this thread.
    AlreadyStarted {
        /// The thread's name.
        thread: String,
    },
    /// The stack size asked for is below the 32 KiB minimum.
    StackTooSmall {
        /// The thread's name.
        thread: String,
        /// The size asked for, in bytes.
        size: usize,
    },
    /// The operating system could not create the thread (resource limits).
    Spawn {
        /// The thread's name.
        thread: String,
        /// What the OS said.
        error: io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::AlreadyStarted { thread } => {
                write!(f, "thread {thread} can only be started once")
            }
            StartError::StackTooSmall { thread, size } => write!(
                f,
                "thread {thread}: stack size {size} is below the minimum of 32768 bytes"
            ),
            StartError::Spawn { thread, error } => {
                write!(f, "can't start new thread {thread}: {error}")
            }
        }
    }
}

impl Error for StartError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StartError::Spawn { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Why [`Thread::join`](crate::Thread::join) or
/// [`join_timeout`](crate::Thread::join_timeout) did not report a clean end.
///
/// # Examples
///
/// ```
/// use threadkit::{JoinError, Thread};
///
/// let t = Thread::builder().name("idle").target(|| {});
/// let err = t.join().unwrap_err();
/// assert!(matches!(err, JoinError::NotStarted { .. }));
/// assert_eq!(err.to_string(), "cannot join thread idle before it is started");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// The thread was never started (or the OS refused to start it).
    NotStarted {
        /// The thread's name.
        thread: String,
    },
    /// A thread tried to join itself, which would wait forever.
    CurrentThread {
        /// The thread's name.
        thread: String,
    },
    /// The thread is not one threadkit started (a dummy, or a `start_new_thread` thread):
    /// there is nothing to join.
    NotJoinable {
        /// The thread's name.
        thread: String,
    },
    /// The thread ended with a panic.
    Panicked(ThreadPanic),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::NotStarted { thread } => {
                write!(f, "cannot join thread {thread} before it is started")
            }
            JoinError::CurrentThread { thread } => {
                write!(f, "thread {thread} cannot join itself")
            }
            JoinError::NotJoinable { thread } => {
                write!(f, "cannot join dummy thread {thread}")
            }
            JoinError::Panicked(p) => p.fmt(f),
        }
    }
}

impl Error for JoinError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            JoinError::Panicked(p) => Some(p),
            _ => None,
        }
    }
}

/// [`Thread::set_daemon`](crate::Thread::set_daemon) on a thread that was already started.
///
/// # Examples
///
/// ```
/// let err = threadkit::main_thread().set_daemon(true).unwrap_err();
/// assert_eq!(err.to_string(), "cannot set daemon status of active thread MainThread");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetDaemonError {
    thread: String,
}

impl SetDaemonError {
    pub(crate) fn new(thread: String) -> Self {
        SetDaemonError { thread }
    }

    /// The thread's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Thread;
    ///
    /// assert_eq!(threadkit::main_thread().set_daemon(true).unwrap_err().thread(), "MainThread");
    /// let t = Thread::builder().name("worker").target(|| {});
    /// t.start()?;
    /// assert_eq!(t.set_daemon(true).unwrap_err().thread(), "worker");
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }
}

impl fmt::Display for SetDaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot set daemon status of active thread {}",
            self.thread
        )
    }
}

impl Error for SetDaemonError {}
