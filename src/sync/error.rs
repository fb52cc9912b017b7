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
    pub fn primitive(&self) -> &'static str {
        self.primitive
    }

    /// The primitive's address, as shown in dumps.
    pub fn address(&self) -> usize {
        self.address
    }

    /// The name of the thread that tried to release.
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
