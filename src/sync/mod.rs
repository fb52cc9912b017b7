//! The synchronisation primitives of Python's `threading`, one file each, and the one cold
//! wait path they all block through.

pub(crate) mod error;
pub(crate) mod lock;
pub(crate) mod mutex;
pub(crate) mod wait;

pub use error::ReleaseError;
pub use lock::{Lock, LockGuard};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard};
pub use wait::{WaitInfo, WaitKind, sleep};
