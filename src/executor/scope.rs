//! [`Scope`]: pool tasks that borrow from the caller's stack, like `std::thread::scope` and
//! `rayon::scope`.

use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::{SubmitError, TaskException};
use super::future::{IdleToken, Shared, TaskFuture, run_task};
use super::pool::{
    BoxJob, Inline, InlineVTable, Job, Small, SmallVTable, ThreadPoolExecutor, Work, fail_future,
    take_inline,
};
use crate::sync::wait::{self, Blocked, ObjectId, ObjectKind};
use crate::{ThreadPanic, WaitKind};

/// What the scope and its tasks share.
struct ScopeState {
    /// Tasks submitted and not yet dropped (run, cancelled or failed, and their closure and
    /// future handle gone).
    running: AtomicUsize,
    panics: std::sync::Mutex<Vec<ThreadPanic>>,
}

impl ScopeState {
    fn key(&self) -> usize {
        std::ptr::from_ref(&self.running).addr()
    }

    /// A task is gone. The decrement is the last touch of the state: once `running` is 0 the
    /// scope may return and free it, so the last task wakes the key (an address, not read)
    /// without looking at anything else.
    fn done(&self) {
        let key = self.key();
        if self.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            wait::unpark_all(key);
        }
    }
}

/// The wait record of a scope waiting for its tasks: like `wait_idle`, a wait for the pool's
/// work (the object is the scope's state, named as its pool's kind), no one owner.
fn blocked(object: usize, location: &'static Location<'static>) -> Blocked {
    Blocked::on(
        WaitKind::ExecutorIdle,
        ObjectId::new(ObjectKind::ThreadPoolExecutor, object),
        location,
    )
}

/// A scoped task: the closure may borrow `'scope` data, so the scope waits until this is
/// dropped (which happens after it ran or was cancelled).
struct ScopedTask<'scope, F, T> {
    f: Option<F>,
    shared: Option<Arc<Shared<T>>>,
    /// The scope's state lives in `scope`'s frame until every task was dropped.
    scope: &'scope ScopeState,
}

impl<F, T> Job for ScopedTask<'_, F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(mut self: Box<Self>, idle: &mut IdleToken<'_>) {
        if let (Some(f), Some(shared)) = (self.f.take(), self.shared.as_ref())
            && let Some(p) = run_task(shared, f, idle)
        {
            self.scope
                .panics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(p);
        }
    }

    fn fail(mut self: Box<Self>, why: Option<TaskException>) {
        drop(self.f.take());
        if let Some(shared) = &self.shared {
            fail_future(shared, why);
        }
    }
}

impl<F, T> Drop for ScopedTask<'_, F, T> {
    fn drop(&mut self) {
        // Dropped without running (cannot happen while the pool lives, but the borrow must
        // end before the scope does either way): the closure first, then the future.
        if self.f.take().is_some()
            && let Some(shared) = &self.shared
        {
            shared.cancel();
        }
        drop(self.shared.take());
        self.scope.done();
    }
}

/// A small scoped task kept in its future's allocation (see `pool::Inline`); the extra
/// pointer is the scope's state.
struct ScopedInline<F, T>(PhantomData<(F, T)>);

impl<F, T> ScopedInline<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    const VTABLE: InlineVTable = InlineVTable {
        run: Self::run,
        fail: Self::fail,
    };

    unsafe fn run(ptr: NonNull<()>, scope: *const (), idle: &mut IdleToken<'_>) {
        // SAFETY: the contract of `Inline::with`, as `Scope::submit` built it.
        let (shared, f) = unsafe { take_inline::<F, T>(ptr) };
        // SAFETY: the scope's state outlives its tasks (`scope` waits for `running` = 0).
        let scope = unsafe { &*scope.cast::<ScopeState>() };
        if let Some(p) = run_task(&shared, f, idle) {
            scope
                .panics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(p);
        }
        drop(shared);
        scope.done();
    }

    unsafe fn fail(ptr: NonNull<()>, scope: *const (), why: Option<TaskException>) {
        // SAFETY: as in `run`.
        let (shared, f) = unsafe { take_inline::<F, T>(ptr) };
        drop(f);
        fail_future(&shared, why);
        drop(shared);
        // SAFETY: as in `run`.
        unsafe { &*scope.cast::<ScopeState>() }.done();
    }
}

/// A scope of pool tasks that may borrow from the caller: see
/// [`ThreadPoolExecutor::scope`].
///
/// # Examples
///
/// ```
/// let pool = threadkit::ThreadPoolExecutor::new(2)?;
/// let words = vec!["a", "bb", "ccc"];
/// let total = pool.scope(|s| {
///     let fs: Vec<_> = words.iter().map(|w| s.submit(|| w.len()).unwrap()).collect();
///     fs.iter().map(|f| *f.result().unwrap()).sum::<usize>()
/// })?;
/// assert_eq!(total, 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    executor: &'scope ThreadPoolExecutor,
    state: ScopeState,
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// A small scoped task without a future, carried in the queue's slot (see `pool::Small`);
/// the extra pointer is the scope's state.
struct SmallSpawned<F>(PhantomData<F>);

impl<F> SmallSpawned<F>
where
    F: FnOnce() + Send,
{
    const VTABLE: SmallVTable = SmallVTable {
        run: Self::run,
        fail: Self::fail,
    };

    unsafe fn run(data: *mut u8, scope: *const ()) {
        // SAFETY: the contract of `Small::with`, as `Scope::spawn` built it: the bytes hold
        // an `F`, read once.
        let f = unsafe { data.cast::<F>().read() };
        // SAFETY: the scope's state outlives its tasks (`scope` waits for `running` = 0).
        let scope = unsafe { &*scope.cast::<ScopeState>() };
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
            let p = super::future::panic_report(payload.as_ref());
            scope
                .panics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(p);
        }
        scope.done();
    }

    unsafe fn fail(data: *mut u8, scope: *const ()) {
        // SAFETY: as in `run`.
        drop(unsafe { data.cast::<F>().read() });
        // SAFETY: as in `run`.
        unsafe { &*scope.cast::<ScopeState>() }.done();
    }
}

/// A scoped task without a future ([`Scope::spawn`]): its panic goes to the scope's
/// [`ScopeError`] only.
struct Spawned<'scope, F> {
    f: Option<F>,
    scope: &'scope ScopeState,
}

impl<F> Job for Spawned<'_, F>
where
    F: FnOnce() + Send,
{
    fn run(mut self: Box<Self>, _: &mut IdleToken<'_>) {
        if let Some(f) = self.f.take()
            && let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f))
        {
            let p = super::future::panic_report(payload.as_ref());
            self.scope
                .panics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(p);
        }
    }

    fn fail(mut self: Box<Self>, _why: Option<TaskException>) {
        drop(self.f.take());
    }
}

impl<F> Drop for Spawned<'_, F> {
    fn drop(&mut self) {
        drop(self.f.take());
        self.scope.done();
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Runs `f` in the pool without a future (like `rayon::Scope::spawn`): cheaper than
    /// [`submit`](Self::submit) when no result is needed. A panic in `f` comes back in the
    /// scope's [`ScopeError`]; a task the pool cancels (shutdown with `cancel_futures`, a
    /// broken pool) does not run.
    ///
    /// # Errors
    ///
    /// [`SubmitError`] holding `f` if the pool refuses it (shut down or broken).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(2)?;
    /// let hits = AtomicUsize::new(0);
    /// pool.scope(|s| {
    ///     for _ in 0..10 {
    ///         s.spawn(|| { hits.fetch_add(1, Ordering::Relaxed); }).unwrap();
    ///     }
    /// })?;
    /// assert_eq!(hits.into_inner(), 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn<F>(&'scope self, f: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() + Send + 'scope,
    {
        let state = &self.state;
        self.executor.pool().enqueue(f, move |f| {
            state.running.fetch_add(1, Ordering::SeqCst);
            if Small::fits::<F>() {
                // SAFETY: `SmallSpawned<F>`'s functions read an `F` and take this scope's
                // state, which outlives every task (`scope` waits for `running` = 0, and the
                // functions touch nothing after `done`); `F` is `Send`, the state `Sync`.
                return Work::Small(unsafe {
                    Small::with(
                        f,
                        std::ptr::from_ref(state).cast(),
                        &SmallSpawned::<F>::VTABLE,
                    )
                });
            }
            let job: Box<dyn Job + 'scope> = Box::new(Spawned {
                f: Some(f),
                scope: state,
            });
            // SAFETY: only the lifetime changes, as in `submit`: `scope` returns only after
            // this job was dropped (closure first, then the count).
            Work::Boxed(unsafe { mem::transmute::<Box<dyn Job + 'scope>, BoxJob>(job) })
        })
    }

    /// Submits `f`, which may borrow anything that outlives the scope.
    ///
    /// # Errors
    ///
    /// [`SubmitError`] holding `f` if the pool refuses it (shut down or broken).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(2)?;
    /// let mut counts = [0usize; 2];
    /// let (a, b) = counts.split_at_mut(1);
    /// pool.scope(|s| {
    ///     s.submit(|| a[0] += 1).unwrap();
    ///     s.submit(|| b[0] += 2).unwrap();
    /// })?;
    /// assert_eq!(counts, [1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn submit<F, T>(&'scope self, f: F) -> Result<TaskFuture<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let pool = self.executor.pool();
        let shared = Arc::new(Shared::new(Some(self.executor.name_arc())));
        let s = shared.clone();
        let state = &self.state;
        pool.enqueue(f, move |f| {
            state.running.fetch_add(1, Ordering::SeqCst);
            if Inline::fits::<F>() {
                // SAFETY: `ScopedInline<F, T>`'s functions take an `F` and an
                // `Arc<Shared<T>>`, and the extra is this scope's state, which outlives every
                // task (see the transmute below for why); `F` and `T` are `Send`.
                return Work::Inline(unsafe {
                    Inline::with(
                        s,
                        f,
                        std::ptr::from_ref(state).cast(),
                        &ScopedInline::<F, T>::VTABLE,
                    )
                });
            }
            let job: Box<dyn Job + 'scope> = Box::new(ScopedTask {
                f: Some(f),
                shared: Some(s),
                scope: state,
            });
            // SAFETY: only the lifetime changes. The job borrows `'scope` data (the closure's
            // captures and the scope's state); `scope` returns only after `running` is back
            // to 0, that is after every job was dropped (its closure and its future handle
            // first, `done` last, touching nothing of the job after that), and `'scope`
            // outlives that call.
            Work::Boxed(unsafe { mem::transmute::<Box<dyn Job + 'scope>, BoxJob>(job) })
        })?;
        Ok(TaskFuture::from_shared(shared))
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("pool", &self.executor.name())
            .field("running", &self.state.running.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A [`scope`](ThreadPoolExecutor::scope) whose tasks panicked: the panics (each also in its
/// task's future) and the value the scope's closure returned.
///
/// # Examples
///
/// ```
/// let pool = threadkit::ThreadPoolExecutor::new(1)?;
/// let err = pool.scope(|s| { s.submit(|| panic!("bad row")).unwrap(); 7 }).unwrap_err();
/// assert_eq!(err.panics()[0].message(), "bad row");
/// assert_eq!(err.into_inner(), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ScopeError<R> {
    panics: Vec<ThreadPanic>,
    value: R,
}

impl<R> ScopeError<R> {
    /// The tasks' panics, in the order they happened.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// let err = pool.scope(|s| { s.submit(|| panic!("x")).unwrap(); }).unwrap_err();
    /// assert_eq!(err.panics().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn panics(&self) -> &[ThreadPanic] {
        &self.panics
    }

    /// The value the scope's closure returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// let err = pool.scope(|s| { s.submit(|| panic!("x")).unwrap(); "v" }).unwrap_err();
    /// assert_eq!(err.into_inner(), "v");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> R {
        self.value
    }
}

impl<R> fmt::Debug for ScopeError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeError")
            .field("panics", &self.panics)
            .finish_non_exhaustive()
    }
}

impl<R> fmt::Display for ScopeError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} scoped task(s) panicked", self.panics.len())?;
        if let Some(p) = self.panics.first() {
            write!(f, "; the first: {p}")?;
        }
        Ok(())
    }
}

impl<R> std::error::Error for ScopeError<R> {}

impl ThreadPoolExecutor {
    /// Runs `body` with a [`Scope`] whose tasks may borrow from the caller's stack, and
    /// returns once every task submitted in it is done (like `std::thread::scope`). A panic
    /// in the body is resumed after the tasks are done.
    ///
    /// A task that waits for another task of the same scope needs a free worker for it: in a
    /// one-worker pool it waits forever (its wait record says so).
    ///
    /// # Errors
    ///
    /// [`ScopeError`] if any task panicked: the panics, and the body's value.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(4)?;
    /// let data = vec![1, 2, 3, 4];
    /// let sums = std::sync::Mutex::new(Vec::new());
    /// pool.scope(|s| {
    ///     for chunk in data.chunks(2) {
    ///         let sums = &sums;
    ///         s.submit(move || sums.lock().unwrap().push(chunk.iter().sum::<i32>())).unwrap();
    ///     }
    /// })?;
    /// let mut sums = sums.into_inner().unwrap();
    /// sums.sort();
    /// assert_eq!(sums, [3, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn scope<'env, F, R>(&self, body: F) -> Result<R, ScopeError<R>>
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
    {
        let location = Location::caller();
        let scope = Scope {
            executor: self,
            state: ScopeState {
                running: AtomicUsize::new(0),
                panics: std::sync::Mutex::new(Vec::new()),
            },
            _scope: PhantomData,
            _env: PhantomData,
        };
        let result = panic::catch_unwind(AssertUnwindSafe(|| body(&scope)));
        let st = &scope.state;
        let busy = || st.running.load(Ordering::SeqCst) != 0;
        if busy() {
            wait::wait_while(st.key(), blocked(st.key(), location), None, busy);
        }
        let value = match result {
            Ok(v) => v,
            Err(payload) => panic::resume_unwind(payload),
        };
        let panics = mem::take(&mut *st.panics.lock().unwrap_or_else(|e| e.into_inner()));
        if panics.is_empty() {
            Ok(value)
        } else {
            Err(ScopeError { panics, value })
        }
    }
}
