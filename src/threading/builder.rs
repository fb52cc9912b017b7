//! [`Builder`]: name, daemon flag and stack size, then the body.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::registry;
use super::thread::{Inner, Kind, Run, Thread};

/// Configures a [`Thread`] before choosing its body, as the keyword arguments of Python's
/// `threading.Thread(name=..., daemon=...)`.
///
/// # Examples
///
/// ```
/// use threadkit::Thread;
///
/// let t = Thread::builder()
///     .name("fetcher")
///     .daemon(true)
///     .stack_size(256 * 1024)
///     .target(|| {});
/// t.start()?;
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a Builder does nothing until `target` or `run` gives it a body"]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with every setting at its default.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Builder::new().target(|| {});
    /// assert!(t.name().starts_with("Thread-"));
    /// ```
    pub fn new() -> Self {
        Builder::default()
    }

    /// The thread's name. Default: `Thread-N`, N counting up per process.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().name("db").target(|| {});
    /// assert_eq!(t.name(), "db");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether the process may exit without waiting for the thread. Default: the daemon flag
    /// of the thread that creates it (the main thread is non-daemon; threads threadkit did
    /// not start count as daemon).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().daemon(true).target(|| {});
    /// assert!(t.is_daemon());
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// The stack size in bytes. Default: the size set with
    /// [`thread::stack_size`](crate::thread::stack_size), else the platform's. A size below
    /// 32 KiB makes [`start`](Thread::start) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().stack_size(1 << 20).target(|| {});
    /// t.start()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// An unstarted thread that will call `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().target(|| println!("hello"));
    /// t.start()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn target<F>(self, f: F) -> Thread
    where
        F: FnOnce() + Send + 'static,
    {
        self.build(Kind::Started, Box::new(f))
    }

    /// An unstarted thread whose body is `body.run()`.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Job(u32);
    /// impl threadkit::Run for Job {
    ///     fn run(&mut self) { self.0 += 1; }
    /// }
    /// let t = threadkit::Thread::builder().name("job").run(Job(0));
    /// t.start()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run<R: Run>(self, mut body: R) -> Thread {
        self.build(Kind::Started, Box::new(move || body.run()))
    }

    pub(crate) fn build(self, kind: Kind, target: super::thread::Target) -> Thread {
        let prefix = if kind == Kind::Started {
            "Thread"
        } else {
            "Dummy"
        };
        let name = self.name.unwrap_or_else(|| registry::next_name(prefix));
        let daemon = self.daemon.unwrap_or_else(inherited_daemon);
        let inner = Inner::new_unstarted(name, daemon, self.stack_size, kind, target);
        Thread::from_inner(Arc::new(inner))
    }
}

/// The daemon flag of the calling thread: Python's default for new threads. A thread
/// threadkit did not start gets an (unlisted) entry here, which counts as daemon.
fn inherited_daemon() -> bool {
    registry::with_current(|inner| inner.daemon.load(Ordering::Acquire)).unwrap_or(true)
}
