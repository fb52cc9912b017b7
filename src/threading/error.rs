//! Errors of thread operations: one type per operation, each naming the thread.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Mutex;

/// A panic that ended a thread: what Python calls an uncaught exception in a thread.
///
/// Returned by [`Thread::join`](crate::Thread::join) inside [`JoinError::Panicked`], and given
/// to the [excepthook](crate::set_excepthook).
///
/// # The payload
///
/// Beside its text (thread name, message, location, backtrace) a report can carry the panic's
/// payload, the `Box<dyn Any + Send>` that `panic!` unwound with, so a caller can re-raise it
/// with [`std::panic::resume_unwind`] or downcast it. A thread may be joined any number of
/// times, from any number of threads, but a payload exists once: **the first join that sees the
/// panic takes the payload**; every later join gets the same text without it
/// ([`has_payload`](ThreadPanic::has_payload) is false). [`into_payload`](ThreadPanic::into_payload)
/// then gives the message as a `String` payload, so re-raising always works. The excepthook
/// gets the text only (the payload waits for a join), a clone of a report never carries the
/// payload, and comparisons (`==`) look at the text only.
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
pub struct ThreadPanic {
    pub(crate) thread: String,
    pub(crate) message: String,
    pub(crate) location: Option<String>,
    pub(crate) backtrace: Option<String>,
    /// What `panic!` unwound with; taken by the first join (a `Mutex` only to keep the report
    /// `Sync`: it is reached through `&mut self`, never locked across a call).
    pub(crate) payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl ThreadPanic {
    /// This report without its payload, for a later join or the excepthook.
    pub(crate) fn text_only(&self) -> ThreadPanic {
        ThreadPanic {
            thread: self.thread.clone(),
            message: self.message.clone(),
            location: self.location.clone(),
            backtrace: self.backtrace.clone(),
            payload: Mutex::new(None),
        }
    }

    /// A copy of the text that takes the payload out of `self`: what a join returns.
    pub(crate) fn take(&mut self) -> ThreadPanic {
        let copy = self.text_only();
        *copy.payload_slot() = self.payload_slot().take();
        copy
    }

    fn payload_slot(&self) -> std::sync::MutexGuard<'_, Option<Box<dyn Any + Send>>> {
        // Nothing can panic while the slot is locked, so it is never poisoned in practice.
        self.payload.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this report still carries the panic's payload: true for the first join that saw
    /// the panic, false for later joins and for clones.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{JoinError, Thread};
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let t = Thread::new(|| panic!("bad input"));
    /// t.start()?;
    /// let Err(JoinError::Panicked(first)) = t.join() else { panic!("expected a panic") };
    /// let Err(JoinError::Panicked(second)) = t.join() else { panic!("expected a panic") };
    /// assert!(first.has_payload());
    /// assert!(!second.has_payload()); // the first join took it
    /// assert_eq!(first, second); // the same text
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_payload(&self) -> bool {
        self.payload_slot().is_some()
    }

    /// Takes the payload out of the report, leaving the text; `None` if it was taken before.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{JoinError, Thread};
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let t = Thread::new(|| std::panic::panic_any(404u16));
    /// t.start()?;
    /// let Err(JoinError::Panicked(mut p)) = t.join() else { panic!("expected a panic") };
    /// let payload = p.take_payload().expect("the first join has it");
    /// assert_eq!(payload.downcast_ref::<u16>(), Some(&404));
    /// assert!(p.take_payload().is_none());
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_payload(&mut self) -> Option<Box<dyn Any + Send>> {
        self.payload
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// The payload to re-raise with [`std::panic::resume_unwind`]: the one the thread panicked
    /// with, or (when an earlier join took that) the message as a `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{JoinError, Thread};
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let t = Thread::new(|| panic!("bad input"));
    /// t.start()?;
    /// let Err(JoinError::Panicked(p)) = t.join() else { panic!("expected a panic") };
    /// // Re-raise it here, as if the panic had happened in this thread.
    /// let caught = std::panic::catch_unwind(|| std::panic::resume_unwind(p.into_payload()));
    /// let payload = caught.unwrap_err();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"bad input"));
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_payload(mut self) -> Box<dyn Any + Send> {
        match self.take_payload() {
            Some(payload) => payload,
            None => Box::new(self.message),
        }
    }

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

impl Clone for ThreadPanic {
    /// A copy of the text; the payload stays with the original.
    fn clone(&self) -> Self {
        self.text_only()
    }
}

impl PartialEq for ThreadPanic {
    /// Compares the text (thread, message, location, backtrace), not the payload.
    fn eq(&self, other: &Self) -> bool {
        self.thread == other.thread
            && self.message == other.message
            && self.location == other.location
            && self.backtrace == other.backtrace
    }
}

impl Eq for ThreadPanic {}

impl fmt::Debug for ThreadPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_lock`: a Debug print never blocks.
        let payload = match self.payload.try_lock() {
            Ok(p) => {
                if p.is_some() {
                    "present"
                } else {
                    "taken"
                }
            }
            Err(_) => "<locked>",
        };
        f.debug_struct("ThreadPanic")
            .field("thread", &self.thread)
            .field("message", &self.message)
            .field("location", &self.location)
            .field("backtrace", &self.backtrace)
            .field("payload", &format_args!("{payload}"))
            .finish()
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
    /// A thread made by [`spawn`](crate::spawn) (or a scope) ended through
    /// [`thread::exit`](crate::thread::exit) before its closure returned, so there is no value
    /// to hand back. ([`Thread::join`](crate::Thread::join) counts such an end as clean.)
    Exited {
        /// The thread's name.
        thread: String,
    },
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
            JoinError::Exited { thread } => {
                write!(f, "thread {thread} exited before returning a value")
            }
        }
    }
}

impl JoinError {
    /// The panic payload to re-raise with [`std::panic::resume_unwind`], when the thread
    /// panicked (see [`ThreadPanic::into_payload`]: the message as a `String` if an earlier
    /// join took the payload); `None` for the misuse errors, where nothing panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Thread;
    ///
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let t = Thread::new(|| std::panic::panic_any(7u8));
    /// t.start()?;
    /// let payload = t.join().unwrap_err().into_panic().expect("it panicked");
    /// assert_eq!(payload.downcast_ref::<u8>(), Some(&7));
    ///
    /// let never = Thread::new(|| {});
    /// assert!(never.join().unwrap_err().into_panic().is_none()); // not started: no panic
    /// threadkit::reset_excepthook();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_panic(self) -> Option<Box<dyn Any + Send>> {
        match self {
            JoinError::Panicked(p) => Some(p.into_payload()),
            _ => None,
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
