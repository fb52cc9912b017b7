//! The synchronisation primitives of Python's `threading`, one file each, and the one cold
//! wait path they all block through.

pub(crate) mod barrier;
pub(crate) mod condition;
pub(crate) mod condvar;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod held;
pub(crate) mod local;
pub(crate) mod lock;
pub(crate) mod mutex;
pub(crate) mod rlock;
pub(crate) mod rwlock;
pub(crate) mod semaphore;
pub(crate) mod timer;
pub(crate) mod wait;
pub(crate) mod window;

pub use barrier::{Barrier, BarrierPartiesError, BrokenBarrierError, BrokenCause};
pub use condition::{Condition, ConditionError, ConditionLock, Truthy};
pub use condvar::{Condvar, CondvarError, WaitTimeoutResult};
pub use error::{ReleaseError, ReleaseErrorKind};
pub use event::Event;
pub use local::Local;
pub use lock::{Lock, LockGuard};
pub use mutex::{ArcMutexGuard, ArcReentrantMutexGuard, MappedMutexGuard, Mutex, MutexGuard};
pub use rlock::{
    MappedReentrantMutexGuard, RLock, RLockGuard, ReentrantMutex, ReentrantMutexGuard, ThreadNumber,
};
pub use rwlock::{
    MappedRwLockReadGuard, MappedRwLockWriteGuard, RawRwLock, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    BoundedSemaphore, BoundedSemaphoreGuard, OwnedBoundedSemaphorePermit, OwnedSemaphorePermit,
    Semaphore, SemaphoreGuard,
};
pub use timer::Timer;
pub use wait::sleep;
