//! The bodies of the `_thread` functions.

use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::Lock;
use crate::threading::builder::Builder;
use crate::threading::error::StartError;
use crate::threading::lifecycle::{self, MIN_STACK, ThreadExit};
use crate::threading::registry;
use crate::threading::thread::{Kind, locked};

/// Python's `_thread.LockType`: the type [`allocate_lock`] returns.
///
/// # Examples
///
/// ```
/// use threadkit::thread::{LockType, allocate_lock};
///
/// let lock: LockType = allocate_lock();
/// assert!(lock.try_acquire());
/// assert!(lock.locked());
/// assert!(!lock.try_acquire()); // not reentrant, as in Python
/// lock.release()?;
/// assert!(!lock.locked());
/// # Ok::<(), threadkit::ReleaseError>(())
/// ```
pub type LockType = Lock;

/// The longest timeout any blocking call accepts: every [`Duration`]. A wait longer than the
/// clock can represent waits forever instead of failing.
///
/// # Examples
///
/// ```
/// let lock = threadkit::thread::allocate_lock();
/// assert!(lock.acquire_timeout(threadkit::thread::TIMEOUT_MAX));
/// ```
pub const TIMEOUT_MAX: Duration = Duration::MAX;

/// The default stack size for threads started from now on; 0 means the platform's.
static STACK_SIZE: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn default_stack_size() -> Option<usize> {
    match STACK_SIZE.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Starts a bare thread that calls `f`, as Python's `_thread.start_new_thread`, and returns
/// its [`ident`](crate::Thread::ident) at once.
///
/// The thread is a daemon: the process does not wait for it at exit. It is not joinable and
/// [`enumerate`](crate::enumerate) lists it only once it calls
/// [`current_thread`](crate::current_thread) (as `Dummy-N`). A panic in `f` goes to the
/// [excepthook](crate::set_excepthook).
///
/// # Errors
///
/// [`StartError::Spawn`] if the OS could not create the thread,
/// [`StartError::StackTooSmall`] if [`stack_size`] was set below 32 KiB (it cannot be).
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
///
/// let (tx, rx) = mpsc::channel();
/// let ident = threadkit::thread::start_new_thread(move || {
///     tx.send(threadkit::thread::get_ident()).unwrap();
/// })?;
/// assert_eq!(rx.recv()?, ident);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn start_new_thread<F>(f: F) -> Result<u64, StartError>
where
    F: FnOnce() + Send + 'static,
{
    let t = Builder::new()
        .daemon(true)
        .build(Kind::LowLevel, Box::new(f));
    let target = locked(&t.inner.target)
        .take()
        .expect("a new thread has its target");
    t.inner
        .state
        .store(crate::threading::thread::state::STARTING, Ordering::Release);
    lifecycle::spawn(&t.inner, default_stack_size(), target)?;
    Ok(t.inner.ident.load(Ordering::Acquire))
}

/// A new, unlocked [`Lock`], as Python's `_thread.allocate_lock()`.
///
/// # Examples
///
/// ```
/// let lock = threadkit::thread::allocate_lock();
/// assert!(!lock.locked());
/// ```
pub fn allocate_lock() -> Lock {
    Lock::new()
}

/// Ends the calling thread quietly, as Python's `_thread.exit()` (raising `SystemExit`).
///
/// - In a thread threadkit started (with [`Thread`](crate::Thread) or
///   [`start_new_thread`]): unwinds to the start of the thread, dropping every value on the
///   way; the thread ends normally (no excepthook, `join` returns `Ok`).
/// - In the main thread: as Python's `SystemExit` there, waits for the non-daemon threads
///   ([`shutdown`](crate::shutdown())) and exits the process with status 0. Values on the main
///   thread's stack are not dropped.
/// - In any other thread: unwinds that thread quietly; a `std::thread` join then returns
///   `Err` with a private payload.
///
/// A `catch_unwind` between the call and the thread's start would stop the unwinding: don't
/// call `exit` inside one.
///
/// # Examples
///
/// ```
/// let t = threadkit::Thread::new(|| {
///     let _cleanup = String::from("dropped on the way out");
///     threadkit::thread::exit();
/// });
/// t.start()?;
/// t.join()?; // a clean end, not a panic
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn exit() -> ! {
    let is_main = registry::with_current(|i| i.kind == Kind::Main).unwrap_or(false);
    if is_main {
        crate::shutdown();
        std::process::exit(0);
    }
    std::panic::resume_unwind(Box::new(ThreadExit))
}

/// Reads or sets the stack size of threads started from now on, as Python's
/// `_thread.stack_size([size])`. Returns the size that was in force before (0: the
/// platform's default). `Some(0)` goes back to the platform's default; 0 given to
/// [`Builder::stack_size`](crate::Builder::stack_size) means the default too.
///
/// # Errors
///
/// [`StackSizeError`] for a size below 32 KiB other than 0; nothing changes.
///
/// # Examples
///
/// ```
/// use threadkit::thread::stack_size;
///
/// assert!(stack_size(Some(1000)).is_err());
/// let before = stack_size(None)?;
/// stack_size(Some(512 * 1024))?;
/// assert_eq!(stack_size(None)?, 512 * 1024);
/// stack_size(Some(before))?;
/// # Ok::<(), threadkit::thread::StackSizeError>(())
/// ```
pub fn stack_size(size: Option<usize>) -> Result<usize, StackSizeError> {
    match size {
        None => Ok(STACK_SIZE.load(Ordering::Relaxed)),
        Some(s) if s != 0 && s < MIN_STACK => Err(StackSizeError { size: s }),
        Some(s) => Ok(STACK_SIZE.swap(s, Ordering::Relaxed)),
    }
}

/// [`stack_size`] was given a size below the 32 KiB minimum.
///
/// # Examples
///
/// ```
/// let err = threadkit::thread::stack_size(Some(4096)).unwrap_err();
/// assert_eq!(err.size(), 4096);
/// assert_eq!(err.to_string(), "stack size 4096 is invalid: the minimum is 32768 bytes (or 0 for the default)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSizeError {
    size: usize,
}

impl StackSizeError {
    /// The size that was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = threadkit::thread::stack_size(Some(32 * 1024 - 1)).unwrap_err();
    /// assert_eq!(err.size(), 32 * 1024 - 1);
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }
}

impl fmt::Display for StackSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stack size {} is invalid: the minimum is {MIN_STACK} bytes (or 0 for the default)",
            self.size
        )
    }
}

impl Error for StackSizeError {}
