//! Scoped threads, as `std::thread::scope`: [`scope`], [`Scope`], [`ScopedBuilder`] and
//! [`ScopedJoinHandle`]. Threads that borrow from the caller's stack, each a threadkit
//! [`Thread`] (named, registered, reported to the excepthook), all joined before [`scope`]
//! returns.

use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::builder::Builder;
use super::error::{JoinError, StartError};
use super::spawn::{Joinable, Slot, join_deadline};
use super::thread::{Kind, Target, Thread, locked};

/// Runs `f` with a [`Scope`] in which threads may borrow anything that outlives the call,
/// then waits for every thread spawned in it: std's `thread::scope`, with threadkit threads.
///
/// The wait at the end is a join of each thread, recorded as [`WaitKind::Join`] at the line
/// of the `scope` call (a dump shows the caller waiting on the thread it waits for). Threads
/// spawned by scoped threads are waited for too.
///
/// # Panics
///
/// A panic in a scoped thread goes to the [excepthook](crate::set_excepthook) when it
/// happens (Python's model), as in every threadkit thread. Then, unless the thread's
/// [`ScopedJoinHandle::join`] returned it, `scope` re-raises it (with
/// [`resume_unwind`](std::panic::resume_unwind), so the panic hook does not print it twice)
/// once every thread has ended: the first such thread's payload, in spawn order. std panics
/// with `"a scoped thread panicked"` instead; here the original payload (a `String` with its
/// message, if a [`Thread::join`] took the payload first) comes through. A panic in `f`
/// itself is re-raised after the joins, taking precedence.
///
/// [`WaitKind::Join`]: crate::WaitKind::Join
///
/// # Examples
///
/// ```
/// let mut counts = vec![0; 4];
/// let text = "the quick brown fox jumps";
/// threadkit::scope(|s| {
///     for (i, slot) in counts.iter_mut().enumerate() {
///         s.spawn(move || *slot = text.split(' ').nth(i).unwrap().len());
///     }
/// });
/// assert_eq!(counts, [3, 5, 5, 3]); // every thread ended: the borrows are back
///
/// let total = threadkit::scope(|s| {
///     let h = s.builder().name("summer").spawn(|| counts.iter().sum::<usize>())?;
///     assert_eq!(h.thread().name(), "summer");
///     h.join().map_err(Box::<dyn std::error::Error>::from)
/// })?;
/// assert_eq!(total, 16);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A handle cannot leave its scope:
///
/// ```compile_fail
/// let escaped = threadkit::scope(|s| s.spawn(|| 1));
/// ```
///
/// and what a scoped thread uses must be `Send`, as for every thread:
///
/// ```compile_fail
/// let rc = std::rc::Rc::new(1);
/// threadkit::scope(|s| {
///     s.spawn(|| *rc);
/// });
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let location = Location::caller();
    let scope = Scope {
        threads: Mutex::new(Vec::new()),
        scope: PhantomData,
        env: PhantomData,
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
    // The soundness of the borrows rests on this: no return (or unwind) before every thread
    // spawned in the scope has ended.
    let unhandled = scope.join_all(location);
    match result {
        Err(payload) => panic::resume_unwind(payload),
        Ok(_) if unhandled.is_some() => {
            panic::resume_unwind(unhandled.expect("checked to be some"))
        }
        Ok(value) => value,
    }
}

/// The scope [`scope`] hands its closure: spawn threads into it with
/// [`spawn`](Scope::spawn) or [`builder`](Scope::builder).
///
/// `'scope` is the scope's own lifetime (a handle cannot outlive it); `'env` is what the
/// threads may borrow (anything that outlives the `scope` call).
///
/// # Examples
///
/// ```
/// let v = vec![1, 2, 3];
/// threadkit::scope(|s| {
///     // A scoped thread may spawn more threads into the same scope.
///     s.spawn(|| {
///         s.spawn(|| assert_eq!(v.len(), 3));
///     });
/// });
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    /// Every thread spawned in the scope, with whether its handle's join saw the outcome.
    threads: Mutex<Vec<(Thread, Arc<AtomicBool>)>>,
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Starts a thread (named `Thread-N`, registered, daemon flag of the caller) that runs
    /// `f`, which may borrow from outside the scope, and returns its handle. As
    /// [`spawn`](crate::spawn), it does not wait for the thread to run.
    ///
    /// # Panics
    ///
    /// If the OS cannot start the thread, as std's `Scope::spawn`; use
    /// [`builder`](Scope::builder) for an error value instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let words = ["a", "bb", "ccc"];
    /// let longest = threadkit::scope(|s| {
    ///     let h = s.spawn(|| words.iter().map(|w| w.len()).max());
    ///     h.join()
    /// })?;
    /// assert_eq!(longest, Some(3));
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        match self.spawn_with(Builder::new(), f) {
            Ok(handle) => handle,
            Err(e) => panic!("failed to spawn scoped thread: {e}"),
        }
    }

    /// A builder for a thread in this scope: name, daemon flag, stack size, then
    /// [`spawn`](ScopedBuilder::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// let n = 20;
    /// threadkit::scope(|s| {
    ///     let h = s.builder().name("fib").spawn(|| (0..n).fold((0u64, 1u64), |(a, b), _| (b, a + b)).0)?;
    ///     assert_eq!(h.thread().name(), "fib");
    ///     assert_eq!(h.join()?, 6765);
    ///     Ok::<(), Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(&'scope self) -> ScopedBuilder<'scope, 'env> {
        ScopedBuilder {
            scope: self,
            builder: Builder::new(),
        }
    }

    #[track_caller]
    fn spawn_with<F, T>(
        &'scope self,
        builder: Builder,
        f: F,
    ) -> Result<ScopedJoinHandle<'scope, T>, StartError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let slot: Slot<T> = Arc::new(Mutex::new(None));
        let body: Box<dyn FnOnce() + Send + 'scope> = Box::new(Joinable::body(f, slot.clone()));
        // SAFETY: only the lifetime changes (the two box types have one layout). The body,
        // and with it every borrow it holds, is consumed or dropped before the thread's state
        // becomes FINISHED (the trampoline calls it; a failed start drops it below), and
        // `scope` returns or unwinds only after `join_all` saw every started thread
        // FINISHED; the slot is shared with the handle only, which cannot outlive 'scope.
        // So nothing borrowed is touched after 'scope ends. std's scoped spawn does the same.
        let body: Target =
            unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'scope>, Target>(body) };
        let thread = builder.build_for::<F>(Kind::Started, body);
        if let Err(e) = thread.launch(false) {
            // A start refused before spawning leaves the body in the entry: drop it now,
            // while its borrows are still valid.
            drop(locked(&thread.inner.target).take());
            return Err(e);
        }
        let joined = Arc::new(AtomicBool::new(false));
        locked(&self.threads).push((thread.clone(), joined.clone()));
        Ok(ScopedJoinHandle {
            inner: Joinable { thread, slot },
            joined,
            scope: PhantomData,
        })
    }

    /// Joins every thread spawned in the scope, also those spawned meanwhile by scoped
    /// threads; returns the payload of the first panic no handle's join saw.
    fn join_all(
        &self,
        location: &'static Location<'static>,
    ) -> Option<Box<dyn std::any::Any + Send>> {
        let mut unhandled = None;
        loop {
            // A thread spawns into the scope only while it runs, so once a batch is joined,
            // whatever it spawned is in the list; an empty list means everyone has ended.
            let batch = std::mem::take(&mut *locked(&self.threads));
            if batch.is_empty() {
                return unhandled;
            }
            for (thread, joined) in batch {
                match thread.join_until(None, location) {
                    Ok(_) | Err(JoinError::Exited { .. }) => {}
                    Err(JoinError::Panicked(p)) => {
                        if !joined.load(Ordering::Acquire) && unhandled.is_none() {
                            unhandled = Some(p.into_payload());
                        }
                    }
                    Err(other) => {
                        // Cannot happen (the thread was started by this scope, from another
                        // thread); returning would let its borrows dangle.
                        eprintln!("threadkit: scope cannot join {}: {other}", thread.name());
                        std::process::abort();
                    }
                }
            }
        }
    }
}

impl fmt::Debug for Scope<'_, '_> {
    /// `Scope { threads: 2 }`: the threads not yet joined by the scope's end.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threads = match self.threads.try_lock() {
            Ok(t) => t.len().to_string(),
            Err(_) => "<locked>".to_string(),
        };
        f.debug_struct("Scope")
            .field("threads", &format_args!("{threads}"))
            .finish()
    }
}

/// Configures a thread of a [`Scope`]: [`Scope::builder`]. The same settings as [`Builder`].
///
/// # Examples
///
/// ```
/// threadkit::scope(|s| {
///     let h = s.builder().name("io").daemon(true).stack_size(64 * 1024).spawn(|| 1)?;
///     assert!(h.thread().is_daemon());
///     assert_eq!(h.join()?, 1);
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a ScopedBuilder does nothing until `spawn`"]
#[derive(Debug)]
pub struct ScopedBuilder<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    builder: Builder,
}

impl<'scope, 'env> ScopedBuilder<'scope, 'env> {
    /// The thread's name (default `Thread-N`), as [`Builder::name`].
    ///
    /// # Examples
    ///
    /// ```
    /// threadkit::scope(|s| {
    ///     let h = s.builder().name("named").spawn(|| threadkit::current_thread().name())?;
    ///     assert_eq!(h.join()?, "named");
    ///     Ok::<(), Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.builder = self.builder.name(name);
        self
    }

    /// The daemon flag (default: the creating thread's), as [`Builder::daemon`]. The scope
    /// waits for its threads either way.
    ///
    /// # Examples
    ///
    /// ```
    /// threadkit::scope(|s| {
    ///     let h = s.builder().daemon(true).spawn(|| ())?;
    ///     assert!(h.thread().is_daemon());
    ///     Ok::<(), threadkit::StartError>(())
    /// })?;
    /// # Ok::<(), threadkit::StartError>(())
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.builder = self.builder.daemon(daemon);
        self
    }

    /// The stack size in bytes, as [`Builder::stack_size`]: below 32 KiB,
    /// [`spawn`](ScopedBuilder::spawn) fails.
    ///
    /// # Examples
    ///
    /// ```
    /// threadkit::scope(|s| {
    ///     let err = s.builder().name("tiny").stack_size(1024).spawn(|| ()).unwrap_err();
    ///     assert_eq!(err.to_string(), "thread tiny: stack size 1024 is below the minimum of 32768 bytes");
    /// });
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.builder = self.builder.stack_size(bytes);
        self
    }

    /// Starts the thread in the scope and returns its handle.
    ///
    /// # Errors
    ///
    /// [`StartError`] if the thread could not be started (stack below 32 KiB, the OS
    /// refused); `f` is dropped unrun and the scope carries on.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut hits = 0;
    /// threadkit::scope(|s| {
    ///     s.builder().name("bump").spawn(|| hits += 1)?;
    ///     Ok::<(), threadkit::StartError>(())
    /// })?;
    /// assert_eq!(hits, 1);
    /// # Ok::<(), threadkit::StartError>(())
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> Result<ScopedJoinHandle<'scope, T>, StartError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        self.scope.spawn_with(self.builder, f)
    }
}

/// An owned permission to join a scoped thread and get its closure's value: std's
/// `ScopedJoinHandle`. Dropping it leaves the join to the scope's end.
///
/// # Examples
///
/// ```
/// let data = [3, 1, 2];
/// let sorted = threadkit::scope(|s| {
///     let h = s.spawn(|| { let mut v = data.to_vec(); v.sort(); v });
///     h.join()
/// })?;
/// assert_eq!(sorted, [1, 2, 3]);
/// # Ok::<(), threadkit::JoinError>(())
/// ```
pub struct ScopedJoinHandle<'scope, T> {
    inner: Joinable<T>,
    /// Set once a join of this handle saw how the thread ended: the scope then does not
    /// re-raise its panic.
    joined: Arc<AtomicBool>,
    scope: PhantomData<&'scope ()>,
}

impl<'scope, T> ScopedJoinHandle<'scope, T> {
    /// Waits for the thread to end and returns its closure's value. A panic returned here is
    /// handled: the scope does not re-raise it.
    ///
    /// # Errors
    ///
    /// As [`JoinHandle::join`](crate::JoinHandle::join): [`JoinError::Panicked`] (with the
    /// payload), [`JoinError::Exited`], [`JoinError::CurrentThread`].
    ///
    /// # Examples
    ///
    /// ```
    /// threadkit::set_excepthook(|_, _| {}); // keep stderr quiet in this example
    /// let r = threadkit::scope(|s| s.spawn(|| -> u8 { panic!("caught") }).join());
    /// assert_eq!(r.unwrap_err().into_panic().unwrap().downcast_ref::<&str>(), Some(&"caught"));
    /// threadkit::reset_excepthook();
    /// ```
    #[track_caller]
    pub fn join(self) -> Result<T, JoinError> {
        let outcome = self.inner.join(None, Location::caller());
        self.saw(&outcome);
        match outcome? {
            Some(value) => Ok(value),
            None => unreachable!("an untimed join waits until the thread ended"),
        }
    }

    /// Waits at most `timeout` for the thread to end: `Ok(Ok(value))` if it did, `Ok(Err(self))`
    /// (the handle back) if it still runs. Zero polls once. Never gives up early.
    ///
    /// # Errors
    ///
    /// As [`join`](ScopedJoinHandle::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::Event;
    ///
    /// let go = Event::new();
    /// threadkit::scope(|s| {
    ///     let h = s.spawn(|| { go.wait(); 5 });
    ///     let h = h.join_timeout(Duration::from_millis(10))?.unwrap_err(); // still waiting
    ///     go.set();
    ///     assert_eq!(h.join_timeout(Duration::MAX)?.ok(), Some(5));
    ///     Ok::<(), threadkit::JoinError>(())
    /// })?;
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    #[track_caller]
    pub fn join_timeout(self, timeout: Duration) -> Result<Result<T, Self>, JoinError> {
        let outcome = self.inner.join(join_deadline(timeout), Location::caller());
        self.saw(&outcome);
        Ok(match outcome? {
            Some(value) => Ok(value),
            None => Err(self),
        })
    }

    /// Notes that this handle reported the thread's end (a panic included).
    fn saw(&self, outcome: &Result<Option<T>, JoinError>) {
        let ended = match outcome {
            Ok(value) => value.is_some(),
            Err(JoinError::Panicked(_) | JoinError::Exited { .. }) => true,
            Err(_) => false,
        };
        if ended {
            self.joined.store(true, Ordering::Release);
        }
    }

    /// The thread: its name, ident, daemon flag, what it waits on.
    ///
    /// # Examples
    ///
    /// ```
    /// threadkit::scope(|s| {
    ///     let h = s.spawn(|| ());
    ///     assert!(h.thread().name().starts_with("Thread-"));
    ///     assert!(h.thread().ident().is_some());
    /// });
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.inner.thread
    }

    /// True once the thread has ended: then [`join`](ScopedJoinHandle::join) returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// threadkit::scope(|s| {
    ///     let h = s.spawn(|| 2);
    ///     h.thread().join()?;
    ///     assert!(h.is_finished());
    ///     assert_eq!(h.join()?, 2);
    ///     Ok::<(), threadkit::JoinError>(())
    /// })?;
    /// # Ok::<(), threadkit::JoinError>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> fmt::Debug for ScopedJoinHandle<'_, T> {
    /// `ScopedJoinHandle { thread: <Thread(name, started 7)> }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle")
            .field("thread", &self.inner.thread)
            .finish_non_exhaustive()
    }
}
