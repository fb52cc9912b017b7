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

    /// The thread's name. Default, as Python 3.10+: `Thread-N (target)` when the body given
    /// to [`target`](Builder::target) is a named function (`target(process_data)` gives
    /// `Thread-1 (process_data)`: the last segment of its path, without generic arguments),
    /// plain `Thread-N` for a closure or a [`Run`] body; N counts up per process.
    ///
    /// An empty name counts as no name, as in Python (`Thread(name="")`): the thread gets
    /// the default name. ([`Thread::set_name`] takes any name, the empty one included.)
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().name("db").target(|| {});
    /// assert_eq!(t.name(), "db");
    ///
    /// fn process_data() {}
    /// let t = threadkit::Thread::builder().name("").target(process_data);
    /// assert!(t.name().starts_with("Thread-") && t.name().ends_with(" (process_data)"));
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
    /// [`thread::stack_size`](crate::thread::stack_size), else the platform's. 0 asks for no
    /// size of its own, as 0 means "the platform's default" to `thread::stack_size`: the
    /// default applies, as if `stack_size` had not been called. Any other size below 32 KiB
    /// makes [`start`](Thread::start) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().stack_size(1 << 20).target(|| {});
    /// t.start()?;
    /// t.join()?;
    /// let t = threadkit::Thread::builder().stack_size(0).target(|| {});
    /// t.start()?; // the default size
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = (bytes != 0).then_some(bytes);
        self
    }

    /// An unstarted thread that will call `f`. Unless a [`name`](Builder::name) was given,
    /// it is `Thread-N (f)` where `f` is a named function, `Thread-N` for a closure.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().target(|| println!("hello"));
    /// t.start()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use = "a Thread does nothing until `start` is called"]
    pub fn target<F>(self, f: F) -> Thread
    where
        F: FnOnce() + Send + 'static,
    {
        let target_name = function_name(std::any::type_name::<F>());
        self.build_named(Kind::Started, Box::new(f), target_name)
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
    #[must_use = "a Thread does nothing until `start` is called"]
    pub fn run<R: Run>(self, mut body: R) -> Thread {
        self.build(Kind::Started, Box::new(move || body.run()))
    }

    pub(crate) fn build(self, kind: Kind, target: super::thread::Target) -> Thread {
        self.build_named(kind, target, None)
    }

    /// As [`build`](Builder::build) for a body that wraps the user's function `F` (a
    /// [`spawn`](crate::spawn) or scoped spawn): the default name comes from `F`, not from
    /// the wrapper.
    pub(crate) fn build_for<F: ?Sized>(self, kind: Kind, target: super::thread::Target) -> Thread {
        self.build_named(kind, target, function_name(std::any::type_name::<F>()))
    }

    /// As [`build`](Builder::build), naming the default name after `target_name` if any.
    fn build_named(
        self,
        kind: Kind,
        target: super::thread::Target,
        target_name: Option<&str>,
    ) -> Thread {
        let prefix = if kind == Kind::Started {
            "Thread"
        } else {
            "Dummy"
        };
        let name = match self.name.filter(|n| !n.is_empty()) {
            Some(name) => name,
            None => {
                let name = registry::next_name(prefix);
                match target_name {
                    Some(f) => format!("{name} ({f})"),
                    None => name,
                }
            }
        };
        let daemon = self.daemon.unwrap_or_else(inherited_daemon);
        let inner = Inner::new_unstarted(name, daemon, self.stack_size, kind, target);
        Thread::from_inner(Arc::new(inner))
    }
}

/// The name of the function whose type is `type_name` (from `std::any::type_name`): the
/// last segment of its path, generic arguments left out (`app::jobs::process_data<u32>` ->
/// `process_data`). `None` for a closure, a function pointer, a reference or a box (types
/// that are not a named function), and for std's own items (a `Box<dyn FnOnce()>`, an
/// `AssertUnwindSafe<F>`: their path names the wrapper, not the function).
fn function_name(type_name: &str) -> Option<&str> {
    const NOT_A_FUNCTION: [&str; 9] = [
        "&", "*", "(", "[", "dyn ", "fn(", "unsafe ", "extern ", "impl ",
    ];
    if NOT_A_FUNCTION.iter().any(|p| type_name.starts_with(p))
        || ["core::", "alloc::", "std::"]
            .iter()
            .any(|p| type_name.starts_with(p))
    {
        return None;
    }
    // The last `::` outside angle brackets starts the last segment; a `<` there starts its
    // generic arguments.
    let mut depth = 0usize;
    let mut start = 0;
    let mut end = type_name.len();
    let bytes = type_name.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => {
                if depth == 0 && i > start {
                    end = i;
                }
                depth += 1;
            }
            b'>' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                start = i + 2;
                end = type_name.len();
            }
            _ => {}
        }
    }
    let name = type_name.get(start..end)?;
    let is_ident = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c == '_' || c.is_alphanumeric());
    is_ident.then_some(name)
}

/// The daemon flag of the calling thread: Python's default for new threads. A thread
/// threadkit did not start gets an (unlisted) entry here, which counts as daemon.
fn inherited_daemon() -> bool {
    registry::with_current(|inner| inner.daemon.load(Ordering::Acquire)).unwrap_or(true)
}

/// The ways to make a [`Thread`]: each goes through a [`Builder`].
impl Thread {
    /// A new, unstarted thread that will call `f`, with a default name and the daemon flag
    /// of the creating thread. Same as `Thread::builder().target(f)`. The default name is
    /// Python's (3.10+): `Thread-N (f)` when `f` is a named function, `Thread-N` for a
    /// closure.
    ///
    /// # Examples
    ///
    /// ```
    /// fn process_data() {}
    /// let t = threadkit::Thread::new(process_data);
    /// let n: u64 = t.name()
    ///     .strip_prefix("Thread-").unwrap()
    ///     .strip_suffix(" (process_data)").unwrap()
    ///     .parse()?;
    /// let c = threadkit::Thread::new(|| {});
    /// assert_eq!(c.name(), format!("Thread-{}", n + 1));
    /// t.start()?;
    /// t.join()?;
    ///
    /// let t = threadkit::Thread::new(|| {});
    /// assert!(t.name().starts_with("Thread-"));
    /// t.start()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use = "a Thread does nothing until `start` is called"]
    pub fn new<F>(f: F) -> Thread
    where
        F: FnOnce() + Send + 'static,
    {
        Builder::new().target(f)
    }

    /// A [`Builder`] to set the name, daemon flag and stack size before choosing the body.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadkit::Thread::builder().name("io").daemon(true).target(|| {});
    /// assert_eq!(t.name(), "io");
    /// assert!(t.is_daemon());
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A new, unstarted thread whose body is `body.run()`. Same as
    /// `Thread::builder().run(body)`.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Hello;
    /// impl threadkit::Run for Hello {
    ///     fn run(&mut self) {}
    /// }
    /// let t = threadkit::Thread::from_run(Hello);
    /// t.start()?;
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use = "a Thread does nothing until `start` is called"]
    pub fn from_run<R: Run>(body: R) -> Thread {
        Builder::new().run(body)
    }
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn a_function_is_named_by_its_last_segment_and_nothing_else_is_named() {
        fn process_data() {}
        fn generic<T>() {}
        struct S;
        impl S {
            fn method() {}
        }
        fn name_of<F>(_: &F) -> Option<&'static str> {
            function_name(std::any::type_name::<F>())
        }
        assert_eq!(name_of(&process_data), Some("process_data"));
        assert_eq!(name_of(&generic::<Vec<u8>>), Some("generic"));
        assert_eq!(name_of(&S::method), Some("method"));
        assert_eq!(name_of(&|| {}), None);
        let boxed: Box<dyn FnOnce()> = Box::new(process_data);
        assert_eq!(name_of(&boxed), None);
        assert_eq!(name_of(&(process_data as fn())), None);
        assert_eq!(function_name("<app::S as app::Run>::run<u32>"), Some("run"));
        assert_eq!(function_name("app::f<u32>::{{closure}}"), None);
        assert_eq!(function_name("&app::f"), None);
    }
}
