//! Errors of the synchronisation primitives: each names the primitive and the thread.

use std::error::Error;
use std::fmt;

use crate::threading::record::ObjectId;
use crate::threading::registry;

/// Why a release was refused: the cases Python reports with one `RuntimeError` or
/// `ValueError`, told apart, as std's `io::ErrorKind` and crossbeam's error enums do.
///
/// # Examples
///
/// ```
/// use threadkit::{BoundedSemaphore, Lock, ReleaseErrorKind, Semaphore};
///
/// assert_eq!(Lock::new().release().unwrap_err().kind(), ReleaseErrorKind::Unlocked);
/// assert_eq!(Semaphore::new(0).release(0).unwrap_err().kind(), ReleaseErrorKind::Zero);
/// let full = BoundedSemaphore::new(1);
/// assert_eq!(full.release(1).unwrap_err().kind(), ReleaseErrorKind::OverRelease);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReleaseErrorKind {
    /// The lock was not locked (Python: `RuntimeError: release unlocked lock`).
    Unlocked,
    /// An `RLock` held by another thread (Python: `RuntimeError: cannot release un-acquired
    /// lock`).
    NotOwner,
    /// `release(0)` of a semaphore (Python: `ValueError: n must be one or more`).
    Zero,
    /// A semaphore's count would overflow.
    Overflow,
    /// A `BoundedSemaphore` released more times than it was acquired (Python: `ValueError:
    /// Semaphore released too many times`).
    OverRelease,
}

impl ReleaseErrorKind {
    /// The words the error's message starts with.
    fn reason(self) -> &'static str {
        match self {
            ReleaseErrorKind::Unlocked => "release unlocked",
            ReleaseErrorKind::NotOwner => "release another thread's",
            ReleaseErrorKind::Zero => "release of zero permits of",
            ReleaseErrorKind::Overflow => "permit count overflow in",
            ReleaseErrorKind::OverRelease => "too many releases of",
        }
    }
}

/// A release the calling thread may not make: an unlocked [`Lock`](crate::Lock) or `RLock`,
/// an `RLock` owned by another thread, or a semaphore release of zero permits, past its
/// bound or past the counter's range ([`kind`](ReleaseError::kind) says which). Nothing
/// changed. Names the object (by its [`ObjectId`]) and the thread.
///
/// `Display` and `Debug` show the object the same way (`Lock at 0x5581c3a0`).
///
/// # Examples
///
/// ```
/// use threadkit::{Lock, ReleaseErrorKind};
///
/// let lock = Lock::new();
/// let err = lock.release().unwrap_err();
/// assert_eq!(err.kind(), ReleaseErrorKind::Unlocked);
/// assert_eq!(err.primitive(), "Lock");
/// assert_eq!(err.object(), lock.id());
/// assert_eq!(err.thread(), threadkit::current_thread().name());
/// let shown = format!("{:#x}", lock.id().addr());
/// assert!(err.to_string().contains(&shown) && format!("{err:?}").contains(&shown));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseError {
    kind: ReleaseErrorKind,
    object: ObjectId,
    thread: String,
}

impl ReleaseError {
    /// A refused release of `object`, for `kind`, by the calling thread.
    pub(crate) fn new(kind: ReleaseErrorKind, object: ObjectId) -> Self {
        ReleaseError {
            kind,
            object,
            thread: current_name(),
        }
    }

    /// Why the release was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{RLock, ReleaseErrorKind};
    ///
    /// let lock = Arc::new(RLock::new());
    /// let _g = lock.guard();
    /// let l = lock.clone();
    /// let err = std::thread::spawn(move || l.release().unwrap_err()).join().unwrap();
    /// assert_eq!(err.kind(), ReleaseErrorKind::NotOwner);
    /// ```
    pub fn kind(&self) -> ReleaseErrorKind {
        self.kind
    }

    /// The object whose release was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ObjectKind, RLock};
    ///
    /// let rlock = RLock::new();
    /// let err = rlock.release().unwrap_err();
    /// assert_eq!(err.object(), rlock.id());
    /// assert_eq!(err.object().kind(), ObjectKind::RLock);
    /// ```
    pub fn object(&self) -> ObjectId {
        self.object
    }

    /// The kind of primitive (`"Lock"`, ...): the name of the object's
    /// [`ObjectKind`](crate::ObjectKind).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{BoundedSemaphore, Lock, RLock, Semaphore};
    ///
    /// assert_eq!(Lock::new().release().unwrap_err().primitive(), "Lock");
    /// assert_eq!(RLock::new().release().unwrap_err().primitive(), "RLock");
    /// assert_eq!(Semaphore::new(0).release(0).unwrap_err().primitive(), "Semaphore");
    /// let full = BoundedSemaphore::new(1);
    /// assert_eq!(full.release(1).unwrap_err().primitive(), "BoundedSemaphore");
    /// ```
    pub fn primitive(&self) -> &'static str {
        self.object.kind().as_str()
    }

    /// The name of the thread that tried to release.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, mpsc};
    /// use threadkit::{RLock, Thread};
    ///
    /// let lock = Arc::new(RLock::new());
    /// lock.acquire();
    /// let (tx, rx) = mpsc::channel();
    /// let l = lock.clone();
    /// let t = Thread::builder()
    ///     .name("intruder")
    ///     .target(move || tx.send(l.release().unwrap_err()).unwrap());
    /// t.start()?;
    /// t.join()?;
    /// assert_eq!(rx.recv()?.thread(), "intruder");
    /// assert!(lock.is_owned()); // the refused release changed nothing
    /// lock.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (in thread {})",
            self.kind.reason(),
            self.object,
            self.thread
        )
    }
}

impl Error for ReleaseError {}

/// The calling thread's name, for an error message.
pub(crate) fn current_name() -> String {
    registry::with_current(|i| i.name().to_string())
        .unwrap_or_else(|| "<exiting thread>".to_string())
}
