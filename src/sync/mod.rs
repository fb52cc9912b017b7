//! The synchronisation primitives of Python's `threading`, one file each, and the one cold
//! wait path they all block through.

pub(crate) mod barrier;
pub(crate) mod condition;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod local;
pub(crate) mod lock;
pub(crate) mod mutex;
pub(crate) mod rlock;
pub(crate) mod semaphore;
pub(crate) mod timer;
pub(crate) mod wait;

pub use error::ReleaseError;
pub use lock::{Lock, LockGuard};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard};
pub use wait::{WaitInfo, WaitKind, sleep};
