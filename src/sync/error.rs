//! Errors of the synchronisation primitives: each names the primitive and the thread.

use std::error::Error;
use std::fmt;

use crate::threading::registry;

/// A release of something the calling thread may not release: an unlocked
/// [`Lock`](crate::Lock), and (in later primitives) a lock owned by another thread.
///
/// # Examples
///
/// ```
/// let lock = threadkit::Lock::new();
/// let err = lock.release().unwrap_err();
/// assert_eq!(err.primitive(), "Lock");
/// assert_eq!(err.thread(), threadkit::current_thread().name());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseError {
    primitive: &'static str,
    address: usize,
    thread: String,
    reason: &'static str,
}

impl ReleaseError {
    /// Releasing `primitive` at `address`, which was not locked.
    pub(crate) fn new(primitive: &'static str, address: usize) -> Self {
        Self::with_reason(primitive, address, "release unlocked")
    }

    pub(crate) fn with_reason(
        primitive: &'static str,
        address: usize,
        reason: &'static str,
    ) -> Self {
        let thread = registry::with_current(|i| i.name().to_string())
            .unwrap_or_else(|| "<exiting thread>".to_string());
        ReleaseError {
            primitive,
            address,
            thread,
            reason,
        }
    }

    /// The kind of primitive (`"Lock"`, ...).
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
        self.primitive
    }

    /// The primitive's address, as shown in dumps.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Lock, RLock};
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.release().unwrap_err().address(), &lock as *const Lock as usize);
    /// let rlock = RLock::new();
    /// assert_eq!(rlock.release().unwrap_err().address(), &rlock as *const RLock as usize);
    /// ```
    pub fn address(&self) -> usize {
        self.address
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
            "{} {} at {:#x} (in thread {})",
            self.reason, self.primitive, self.address, self.thread
        )
    }
}

impl Error for ReleaseError {}
