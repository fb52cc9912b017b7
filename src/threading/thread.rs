//! [`Thread`]: the handle, its registry entry, and the [`Run`] trait.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use super::error::{SetDaemonError, ThreadPanic};
use super::record::{WaitInfo, WaitSlot};
use crate::sys;

/// What kind of thread an entry describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Made by [`Thread::new`], a [`Builder`](crate::Builder) or [`Thread::from_run`].
    Started,
    /// Made by `thread::start_new_thread`: never joined, never waited for at exit.
    LowLevel,
    /// The thread that runs `main`.
    Main,
    /// A thread threadkit did not start.
    Dummy,
}

/// Life states of an entry, in the order they are reached.
///
/// | state | meaning | `is_alive` |
/// |---|---|---|
/// | `NEW` | created, `start` not called | no |
/// | `STARTING` | `start` registered it and is spawning the OS thread | yes |
/// | `ALIVE` | the OS thread runs | yes |
/// | `FINISHED` | the target returned or panicked, thread-locals dropped | no |
/// | `FAILED` | the OS refused to create the thread | no |
pub(crate) mod state {
    pub(crate) const NEW: u8 = 0;
    pub(crate) const STARTING: u8 = 1;
    pub(crate) const ALIVE: u8 = 2;
    pub(crate) const FINISHED: u8 = 3;
    pub(crate) const FAILED: u8 = 4;
}

pub(crate) type Target = Box<dyn FnOnce() + Send + 'static>;

/// One thread's registry entry. Shared by every [`Thread`] handle to it.
pub(crate) struct Inner {
    /// Small number, unique among live threads (see the registry). 0 before start.
    pub(crate) number: AtomicU32,
    /// Unique, never reused. 0 before start.
    pub(crate) ident: AtomicU64,
    /// The kernel's thread id. 0 before the thread runs.
    pub(crate) native_id: AtomicU64,
    name: Mutex<Arc<str>>,
    pub(crate) daemon: AtomicBool,
    /// One of [`state`]'s constants; its address is the key joiners park on.
    pub(crate) state: AtomicU8,
    pub(crate) kind: Kind,
    /// Whether [`enumerate`](super::enumerate) lists it (dummies: once they asked for
    /// `current_thread`).
    pub(crate) visible: AtomicBool,
    pub(crate) started_at: OnceLock<Instant>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) target: Mutex<Option<Target>>,
    /// Set when the target panicked; every join reports it.
    pub(crate) panic: Mutex<Option<ThreadPanic>>,
    /// What the thread is blocked on right now, written by the cold wait path only.
    pub(crate) wait: WaitSlot,
}

pub(crate) fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every value behind these mutexes is valid between statements: a panic elsewhere cannot
    // leave it half-written, so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    /// The thread's live wait, read now (see [`WaitSlot::read`](super::record::WaitSlot::read)).
    pub(crate) fn wait_record(&self) -> Option<super::record::WaitRecord> {
        self.wait.read(self.ident.load(Ordering::Relaxed))
    }

    pub(crate) fn new_unstarted(
        name: String,
        daemon: bool,
        stack_size: Option<usize>,
        kind: Kind,
        target: Target,
    ) -> Self {
        let mut inner = Inner::new(kind, name, daemon, state::NEW);
        inner.stack_size = stack_size;
        inner.target = Mutex::new(Some(target));
        inner.visible = AtomicBool::new(kind == Kind::Started);
        inner
    }

    /// An entry for a thread that already runs (main, dummy).
    pub(crate) fn new_bound(kind: Kind, name: String, daemon: bool) -> Self {
        let inner = Inner::new(kind, name, daemon, state::ALIVE);
        let _ = inner.started_at.set(Instant::now());
        inner.visible.store(kind == Kind::Main, Ordering::Relaxed);
        inner
    }

    fn new(kind: Kind, name: String, daemon: bool, state: u8) -> Self {
        Inner {
            number: AtomicU32::new(0),
            ident: AtomicU64::new(0),
            native_id: AtomicU64::new(0),
            name: Mutex::new(name.into()),
            daemon: AtomicBool::new(daemon),
            state: AtomicU8::new(state),
            kind,
            visible: AtomicBool::new(false),
            started_at: OnceLock::new(),
            stack_size: None,
            target: Mutex::new(None),
            panic: Mutex::new(None),
            wait: WaitSlot::new(),
        }
    }

    pub(crate) fn name(&self) -> Arc<str> {
        locked(&self.name).clone()
    }

    pub(crate) fn state_key(&self) -> usize {
        std::ptr::from_ref(&self.state).addr()
    }
}

/// A thread, as Python's `threading.Thread`: a cheap, cloneable handle to one thread's entry.
///
/// Create it from a closure ([`Thread::new`], [`Thread::builder`]) or from a type that
/// implements [`Run`] ([`Thread::from_run`]), then [`start`](Thread::start) it. Every clone
/// refers to the same thread; handles compare equal when they do.
///
/// # Differences from Python
///
/// - There is no GIL: threads run truly in parallel.
/// - Misuse (starting twice, joining the current thread, ...) returns an error value instead
///   of raising `RuntimeError`.
/// - A panic in the thread is Python's uncaught exception: it goes to the
///   [excepthook](crate::set_excepthook), and [`join`](Thread::join) returns it as
///   [`JoinError::Panicked`](crate::JoinError::Panicked).
/// - [`ident`](Thread::ident) is never reused within a process.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use threadkit::Thread;
///
/// let hits = Arc::new(AtomicU32::new(0));
/// let h = hits.clone();
/// let t = Thread::builder().name("worker").target(move || {
///     h.fetch_add(1, Ordering::SeqCst);
/// });
/// assert!(!t.is_alive());
/// t.start()?;
/// t.join()?;
/// assert_eq!(hits.load(Ordering::SeqCst), 1);
/// assert_eq!(t.name(), "worker");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Thread {
    pub(crate) inner: Arc<Inner>,
}

/// The body of a thread, for the "subclass `Thread` and override `run()`" pattern.
///
/// The implementing type's fields are the thread's own state, available in `run` through
/// `self`, as Python's `self.counter` is in a `Thread` subclass.
///
/// # Examples
///
/// ```
/// use threadkit::{Run, Thread};
///
/// struct Counter { name: &'static str, count: u32 }
///
/// impl Run for Counter {
///     fn run(&mut self) {
///         while self.count > 0 {
///             self.count -= 1;
///         }
///         assert_eq!(threadkit::current_thread().name(), self.name);
///     }
/// }
///
/// let t = Thread::builder().name("Counter-1").run(Counter { name: "Counter-1", count: 3 });
/// t.start()?;
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Run: Send + 'static {
    /// What the thread does once started. A panic here ends the thread only; see
    /// [`Thread`].
    fn run(&mut self);
}

impl Thread {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Thread { inner }
    }
    /// The thread's name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadkit::main_thread().name(), "MainThread");
    /// ```
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// Renames the thread. When the thread renames itself, the OS-level name (what `top -H`
    /// and debuggers show) follows, truncated to what the OS allows.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// t.set_name("renamed");
    /// assert_eq!(t.name(), "renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        let name: Arc<str> = name.into().into();
        *locked(&self.inner.name) = name.clone();
        if self.is_current() {
            sys::set_current_name(&name);
        }
    }

    /// A number unique to this thread in this process, never reused; `None` before
    /// [`start`](Thread::start), kept after the thread ends.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// assert_eq!(t.ident(), None);
    /// t.start()?;
    /// assert!(t.ident().is_some());
    /// t.join()?;
    /// assert!(t.ident().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ident(&self) -> Option<u64> {
        nonzero(self.inner.ident.load(Ordering::Acquire))
    }

    /// The kernel's id for the thread (Linux: the tid `top -H` shows); `None` before
    /// [`start`](Thread::start), kept after the thread ends.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// t.start()?;
    /// assert!(t.native_id().is_some());
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn native_id(&self) -> Option<u64> {
        nonzero(self.inner.native_id.load(Ordering::Acquire))
    }

    /// True from the moment [`start`](Thread::start) registers the thread until its body has
    /// returned (or panicked) and its thread-locals are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// assert!(!t.is_alive());
    /// t.start()?;
    /// t.join()?;
    /// assert!(!t.is_alive());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_alive(&self) -> bool {
        matches!(
            self.inner.state.load(Ordering::Acquire),
            state::STARTING | state::ALIVE
        )
    }

    /// Whether the process may exit without waiting for this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!threadkit::main_thread().is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon.load(Ordering::Acquire)
    }

    /// Sets the daemon flag. Only before [`start`](Thread::start).
    ///
    /// # Errors
    ///
    /// [`SetDaemonError`] once the thread has been started (or is not one threadkit starts).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::new(|| {});
    /// t.set_daemon(true)?;
    /// t.start()?;
    /// assert!(t.set_daemon(false).is_err());
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_daemon(&self, daemon: bool) -> Result<(), SetDaemonError> {
        if self.inner.state.load(Ordering::Acquire) != state::NEW {
            return Err(SetDaemonError::new(self.name()));
        }
        self.inner.daemon.store(daemon, Ordering::Release);
        Ok(())
    }

    /// What this thread is blocked on right now, if it is parked in a threadkit primitive
    /// (a lock, a join, a [`sleep`](crate::sleep), ...): the kind of wait, the object, its
    /// holder when known, the caller's source line and since when.
    ///
    /// The answer is a snapshot; it never blocks, even while the program is deadlocked.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Lock, Thread, WaitKind};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// let held = lock.guard(); // a failing assert below unwinds and releases it
    /// let l = lock.clone();
    /// let t = Thread::new(move || {
    ///     l.acquire();
    ///     l.release().unwrap();
    /// });
    /// t.start()?;
    /// // Wait until the thread has parked on the lock.
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.kind(), WaitKind::Lock);
    /// assert_eq!(info.owner(), Some(threadkit::current_thread()));
    /// drop(held);
    /// t.join()?;
    /// assert!(t.waiting().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn waiting(&self) -> Option<WaitInfo> {
        self.inner.wait_record().map(WaitInfo::from_record)
    }
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

impl PartialEq for Thread {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Thread {}

impl Hash for Thread {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.inner).hash(state);
    }
}

impl fmt::Debug for Thread {
    /// Like Python's repr: `<Thread(name, started daemon 7)>`. Never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.inner.state.load(Ordering::Acquire) {
            state::NEW => "initial",
            state::STARTING | state::ALIVE => "started",
            state::FAILED => "failed",
            _ => "stopped",
        };
        let name = match self.inner.name.try_lock() {
            Ok(n) => n.to_string(),
            Err(_) => "<locked>".to_string(),
        };
        let kind = match self.inner.kind {
            Kind::Started => "Thread",
            Kind::LowLevel | Kind::Dummy => "DummyThread",
            Kind::Main => "MainThread",
        };
        write!(f, "<{kind}({name}, {status}")?;
        if self.is_daemon() {
            write!(f, " daemon")?;
        }
        if let Some(id) = self.ident() {
            write!(f, " {id}")?;
        }
        write!(f, ")>")
    }
}
