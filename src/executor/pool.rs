//! [`ThreadPoolExecutor`]: Python's `concurrent.futures.ThreadPoolExecutor` on threadkit
//! threads and a [`SimpleQueue`] of boxed jobs.
//!
//! Workers start lazily, one per `submit` that finds no idle worker (Python's idle
//! semaphore: a worker adds a token after each task, a submit takes one instead of starting
//! a thread), up to `max_workers`. An idle worker sleeps in the queue's `get`: an idle pool
//! uses no CPU. `shutdown` shuts the queue down: workers finish what is queued (or, with
//! `cancel_futures`, the queue is emptied and its futures cancelled) and end.

use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use super::error::{BuildError, ShutdownError, SubmitError, SubmitErrorKind, TaskException};
use super::future::{INLINE_WORDS, IdleToken, Shared, TaskFuture, panic_report, pool_id, run_task};
use super::mailbox::Mailbox;
use super::traits::Executor;
use super::traits::Map;
use crate::primitive::parking_lot_core::{DEFAULT_UNPARK_TOKEN, ParkResult, UnparkToken};
use crate::queue::{SimpleQueue, TryGetError};
use crate::sync::wait::{self, Blocked, ObjectId, ObjectKind, Waiting};
use crate::sync::window::SpinWindow;
use crate::{Lock, Mutex, Thread, WaitKind};

/// A queued task: run it, or complete its future without running it.
pub(crate) trait Job: Send {
    /// Runs the task (unless its future was cancelled); a task with a future gives the
    /// worker's idle token as it completes it.
    fn run(self: Box<Self>, idle: &mut IdleToken<'_>);
    /// Does not run the task: cancels its future (`None`) or fails it.
    fn fail(self: Box<Self>, why: Option<TaskException>);
}

pub(crate) type BoxJob = Box<dyn Job>;

/// What the queue holds: a boxed job, a small closure kept inside its future, or a small
/// closure without a future kept in the queue's slot itself.
pub(crate) enum Work {
    Boxed(BoxJob),
    Inline(Inline),
    Small(Small),
}

impl Work {
    fn run(self, idle: &mut IdleToken<'_>) {
        match self {
            Work::Boxed(j) => j.run(idle),
            Work::Inline(j) => j.run(idle),
            Work::Small(j) => j.run(),
        }
    }

    fn fail(self, why: Option<TaskException>) {
        match self {
            Work::Boxed(j) => j.fail(why),
            Work::Inline(j) => j.fail(why),
            Work::Small(j) => j.fail(),
        }
    }
}

/// How many words a closure without a future may take to travel in the queue's slot itself
/// ([`Small`]) rather than in a box: a few captured references and indices.
pub(crate) const SMALL_WORDS: usize = 2;

/// A task without a future whose closure travels by value in the queue (no allocation per
/// task: the submitter's `malloc` and the worker's `free` of a boxed job were a fifth of a
/// scope's spawn loop). The closure's bytes, what else its functions need (a scope's state),
/// and the functions that know its type.
pub(crate) struct Small {
    data: mem::MaybeUninit<[usize; SMALL_WORDS]>,
    extra: *const (),
    vtable: &'static SmallVTable,
}

pub(crate) struct SmallVTable {
    /// Runs the closure read from the bytes.
    pub(crate) run: unsafe fn(*mut u8, *const ()),
    /// Drops the closure read from the bytes, without running it.
    pub(crate) fail: unsafe fn(*mut u8, *const ()),
}

// SAFETY: a `Small` is built only from an `F: Send` (see `Small::with`): it moves the
// closure to the worker as a `Box<F>` would; `extra` is shared state that is `Sync`.
unsafe impl Send for Small {}

impl Small {
    /// Whether a closure of type `F` fits in a `Small`.
    pub(crate) fn fits<F>() -> bool {
        mem::size_of::<F>() <= mem::size_of::<[usize; SMALL_WORDS]>()
            && mem::align_of::<F>() <= mem::align_of::<usize>()
    }

    /// Moves `f` into a `Small` run by `vtable`'s functions with `extra`.
    ///
    /// # Safety
    ///
    /// `vtable`'s functions read an `F` from the bytes (once) and accept `extra`; `F` is
    /// `Send` and `extra` points to `Sync` state that outlives the job.
    pub(crate) unsafe fn with<F>(f: F, extra: *const (), vtable: &'static SmallVTable) -> Small {
        assert!(Self::fits::<F>(), "checked by the caller");
        let mut data = mem::MaybeUninit::<[usize; SMALL_WORDS]>::uninit();
        // SAFETY: the bytes are large and aligned enough for `F` (asserted) and ours.
        unsafe { data.as_mut_ptr().cast::<F>().write(f) };
        Small {
            data,
            extra,
            vtable,
        }
    }

    fn run(self) {
        let mut this = mem::ManuallyDrop::new(self);
        // SAFETY: the bytes hold the closure `with` wrote for this vtable, and the job is
        // consumed here (not dropped afterwards): the closure is moved out exactly once.
        unsafe { (this.vtable.run)(this.data.as_mut_ptr().cast(), this.extra) }
    }

    fn fail(self) {
        let mut this = mem::ManuallyDrop::new(self);
        // SAFETY: as in `run`.
        unsafe { (this.vtable.fail)(this.data.as_mut_ptr().cast(), this.extra) }
    }
}

/// Dropped without running (the queue went away with it): drop the closure.
impl Drop for Small {
    fn drop(&mut self) {
        // SAFETY: as in `run`; a dropped job is neither run nor failed.
        unsafe { (self.vtable.fail)(self.data.as_mut_ptr().cast(), self.extra) }
    }
}

/// A task whose closure lives in its future's allocation (`Shared::inline`): one allocation
/// per task instead of two, and nothing allocated on one thread and freed on another but the
/// future itself. A raw `Arc<Shared<T>>` and the functions that know `F` and `T`.
pub(crate) struct Inline {
    ptr: NonNull<()>,
    /// What else the functions need (a scoped task's scope), or null.
    extra: *const (),
    vtable: &'static InlineVTable,
}

pub(crate) struct InlineVTable {
    pub(crate) run: unsafe fn(NonNull<()>, *const (), &mut IdleToken<'_>),
    pub(crate) fail: unsafe fn(NonNull<()>, *const (), Option<TaskException>),
}

// SAFETY: an `Inline` is built only from `F: Send` and `T: Send` (see `Inline::new`): it
// moves the closure and a future reference to the worker, as a `Box<Task<F, T>>` would.
unsafe impl Send for Inline {}

impl Inline {
    /// Whether a closure of type `F` fits in a future's inline cell.
    pub(crate) fn fits<F>() -> bool {
        mem::size_of::<F>() <= mem::size_of::<[usize; INLINE_WORDS]>()
            && mem::align_of::<F>() <= mem::align_of::<usize>()
    }

    /// Moves `f` into `shared`'s inline cell; the job owns the `shared` reference.
    pub(crate) fn new<F, T>(shared: Arc<Shared<T>>, f: F) -> Inline
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // SAFETY: the functions are `InlineFor<F, T>`'s, and take no extra.
        unsafe { Self::with(shared, f, std::ptr::null(), &InlineFor::<F, T>::VTABLE) }
    }

    /// Moves `f` into `shared`'s inline cell, with `vtable`'s functions and `extra`.
    ///
    /// # Safety
    ///
    /// `vtable`'s functions take the closure out as an `F` and the reference as an
    /// `Arc<Shared<T>>` (see [`take_inline`]), and accept `extra`. `F` and `T` are `Send`.
    pub(crate) unsafe fn with<F, T>(
        shared: Arc<Shared<T>>,
        f: F,
        extra: *const (),
        vtable: &'static InlineVTable,
    ) -> Inline {
        assert!(Self::fits::<F>(), "checked by the caller");
        // SAFETY: the cell is large and aligned enough for `F` (asserted), and nobody else
        // touches it: the future is new and its task not yet queued.
        unsafe { shared.inline.get().cast::<F>().write(f) };
        // SAFETY: `Arc::into_raw` never returns null.
        let ptr = unsafe { NonNull::new_unchecked(Arc::into_raw(shared).cast::<()>().cast_mut()) };
        Inline { ptr, extra, vtable }
    }

    fn run(self, idle: &mut IdleToken<'_>) {
        let this = mem::ManuallyDrop::new(self);
        // SAFETY: `ptr` and `vtable` come from `new` for the same `F` and `T`, and the job is
        // consumed here (not dropped afterwards): the closure is moved out exactly once.
        unsafe { (this.vtable.run)(this.ptr, this.extra, idle) }
    }

    fn fail(self, why: Option<TaskException>) {
        let this = mem::ManuallyDrop::new(self);
        // SAFETY: as in `run`.
        unsafe { (this.vtable.fail)(this.ptr, this.extra, why) }
    }
}

/// Dropped without running (the queue went away with it): cancel the future.
impl Drop for Inline {
    fn drop(&mut self) {
        // SAFETY: as in `run`; a dropped job is neither run nor failed.
        unsafe { (self.vtable.fail)(self.ptr, self.extra, None) }
    }
}

/// Takes an inline task's closure out and its `Arc` back.
///
/// # Safety
///
/// `ptr` is the raw `Arc<Shared<T>>` of an `Inline` built for `F`, used once.
pub(crate) unsafe fn take_inline<F, T>(ptr: NonNull<()>) -> (Arc<Shared<T>>, F) {
    // SAFETY: the caller's contract: `ptr` came from `Arc::into_raw` of this type.
    let shared = unsafe { Arc::from_raw(ptr.as_ptr().cast::<Shared<T>>()) };
    // SAFETY: `Inline::with` wrote an `F` there, and this is its one read.
    let f = unsafe { shared.inline.get().cast::<F>().read() };
    (shared, f)
}

struct InlineFor<F, T>(PhantomData<(F, T)>);

impl<F, T> InlineFor<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    const VTABLE: InlineVTable = InlineVTable {
        run: Self::run,
        fail: Self::fail,
    };

    unsafe fn run(ptr: NonNull<()>, _: *const (), idle: &mut IdleToken<'_>) {
        // SAFETY: the caller's contract (see `Inline::run`).
        let (shared, f) = unsafe { take_inline::<F, T>(ptr) };
        run_task(&shared, f, idle);
    }

    unsafe fn fail(ptr: NonNull<()>, _: *const (), why: Option<TaskException>) {
        // SAFETY: the caller's contract (see `Inline::fail`).
        let (shared, f) = unsafe { take_inline::<F, T>(ptr) };
        drop(f);
        fail_future(&shared, why);
    }
}

/// A plain task: a closure and the future it completes.
struct Task<F, T> {
    f: F,
    shared: Arc<Shared<T>>,
}

impl<F, T> Job for Task<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(self: Box<Self>, idle: &mut IdleToken<'_>) {
        let Task { f, shared } = *self;
        run_task(&shared, f, idle);
    }

    fn fail(self: Box<Self>, why: Option<TaskException>) {
        let Task { f, shared } = *self;
        drop(f);
        fail_future(&shared, why);
    }
}

/// A task without a future ([`ThreadPoolExecutor::execute`]): its panic goes to the
/// excepthook.
struct Fired<F>(Option<F>);

impl<F: FnOnce() + Send> Fired<F> {
    const VTABLE: SmallVTable = SmallVTable {
        run: Self::run_small,
        fail: Self::fail_small,
    };

    unsafe fn run_small(data: *mut u8, _: *const ()) {
        // SAFETY: the contract of `Small::with`, as `execute` built it: an `F`, read once.
        run_fired(unsafe { data.cast::<F>().read() });
    }

    unsafe fn fail_small(data: *mut u8, _: *const ()) {
        // SAFETY: as in `run_small`.
        drop(unsafe { data.cast::<F>().read() });
    }
}

impl<F: FnOnce() + Send> Job for Fired<F> {
    fn run(mut self: Box<Self>, _: &mut IdleToken<'_>) {
        if let Some(f) = self.0.take() {
            run_fired(f);
        }
    }

    fn fail(self: Box<Self>, _why: Option<TaskException>) {}
}

/// Runs a fire-and-forget task: a panic is reported to the excepthook as the worker's, as if
/// it had ended the thread, and the worker goes on.
fn run_fired(f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        let report = panic_report(payload.as_ref());
        drop(payload);
        crate::threading::excepthook::call(&crate::current_thread(), &report);
    }
}

/// Cancels (`None`) or fails a future whose task will not run.
pub(crate) fn fail_future<T>(shared: &Arc<Shared<T>>, why: Option<TaskException>) {
    match why {
        None => {
            shared.cancel();
            // The executor saw the cancellation: mark it, as Python's worker would.
            let _ = shared.set_running_or_notify_cancel();
        }
        Some(e) => {
            // Refused only if the user cancelled it meanwhile: then it stays cancelled.
            let _ = shared.complete(super::future::Outcome::Failed(Box::new(e)), "set_exception");
        }
    }
}

/// What an initializer returns.
type Initializer = Arc<dyn Fn() -> Result<(), Box<dyn Error + Send + Sync>> + Send + Sync>;

/// What the pool lock guards.
struct State {
    shutdown: bool,
    broken: Option<String>,
    workers: Vec<Thread>,
}

/// The pool, shared by the handle and the workers.
pub(crate) struct Pool {
    name: Arc<str>,
    max_workers: usize,
    queue: SimpleQueue<Work>,
    initializer: Option<Initializer>,
    /// Python's idle semaphore: tasks finished and not yet matched by a submit. Kept only
    /// while the pool can still start workers (`full` unset).
    idle: CachePadded<AtomicUsize>,
    /// Set once `max_workers` workers were started: no more idle tokens are counted.
    full: AtomicBool,
    /// Tasks submitted so far, handed over or queued (written under the pool lock).
    submitted: CachePadded<AtomicUsize>,
    /// Jobs put into the queue so far, counted after each put (under the pool lock). A worker
    /// that reads this and then finds the queue empty has seen every one of those jobs taken:
    /// it tags its search with the number, and a submit that still counts as many hands its
    /// job over without overtaking a queued one, and without reading the queue's count (a
    /// line the workers write). On a line of its own: a hand-off does not write it, so a
    /// searcher reads it without taking a line from the submitter.
    queued: CachePadded<AtomicUsize>,
    /// Tasks done so far (run, cancelled or failed): `wait_idle` waits until it reaches
    /// `submitted`. On its own line, away from the submitters'.
    completed: CachePadded<AtomicUsize>,
    /// How many threads are in `wait_idle`: the last task wakes them only if any.
    idle_waiters: AtomicUsize,
    /// Whether a worker is searching (polling for a task instead of sleeping): at most one
    /// spins at a time (see [`next_job`](Pool::next_job)). A submit hands its job straight to
    /// it when nothing is queued ahead.
    mailbox: CachePadded<Mailbox<Work>>,
    /// Workers asleep waiting for a task, or about to sleep (they look at the queue once more
    /// after counting themselves here). Their parking key is this field's address.
    sleeping: CachePadded<AtomicUsize>,
    /// Set once the pool is shut down (after its queue): sleeping workers wake up and drain.
    closed: AtomicBool,
    /// How long the searching worker keeps yielding and looking after its spins. No claim
    /// is taken on it: there is one searcher at a time already.
    search: SpinWindow,
    state: Mutex<State>,
}

/// How the searching worker polls the queue before it sleeps: `IDLE_SPINS` looks a pause
/// apart (the 127 pauses of crossbeam's seven doubling spins, in steps of one), then at least
/// `IDLE_YIELDS` yields (crossbeam-channel's receivers do the same), and yields on until the
/// pool's search window has passed (a [`SpinWindow`], adapted to the sleeps that end the
/// searches).
///
/// One pause apart rather than doubling: a pause takes 26 ns on an AMD Zen 4 core (and
/// ~40 ns on Intel since Skylake), so the fourth doubled spin already lasts 400 ns, and a job
/// handed over meanwhile waited for its end. With the future's waiter looking a pause apart
/// too (`FUTURE_SPINS`), a submit + result round trip on an idle 2-worker pool (2-vCPU Zen 4
/// VM, both ways in one process, alternating; medians of eight runs) took 0.66-0.87x the
/// doubling build's time with a closure that captures nothing and 0.78-0.98x with one that
/// captures a number (whose closure is one more cache line for the worker to fetch); 100 000
/// tasks with or without futures, on 2 or 16 workers, stayed within noise (0.95-1.04x).
const IDLE_SPINS: u32 = 127;
const IDLE_YIELDS: u32 = 4;

/// How many times a submitter that would wake a sleeping worker first looks (a pause each)
/// whether a worker has started searching or taken the task: see [`Pool::wake_sleeper`].
const WAKE_GRACE: u32 = 32;

/// The token a worker woken by [`Pool::wake_one`] finds: its waker has taken it out of
/// `sleeping` and handed it the mailbox's claim for a search (a shutdown wakes sleepers with
/// the default token: they count themselves out, and hold nothing).
const WOKEN_TO_SEARCH: UnparkToken = UnparkToken(1);

/// Every live pool, for the exit hook and for deadlock reports ([`live_pools`]).
static POOLS: std::sync::Mutex<Vec<Weak<Pool>>> = std::sync::Mutex::new(Vec::new());

/// Python's `_python_exit`: at process exit, every pool still alive is shut down (without
/// waiting) so that its workers finish the queued tasks and end, and the exit-time join of
/// non-daemon threads can finish.
pub(crate) fn at_exit() {
    let pools: Vec<_> = POOLS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for p in pools {
        let _ = p.shutdown(false, false);
    }
}

/// Process-wide counter behind the default names `ThreadPoolExecutor-N`.
static POOL_COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Pool {
    fn key(&self) -> usize {
        std::ptr::from_ref(&*self.completed).addr()
    }

    fn refusal(&self, st: &State) -> Option<SubmitErrorKind> {
        if let Some(reason) = &st.broken {
            return Some(SubmitErrorKind::Broken(reason.clone()));
        }
        st.shutdown.then_some(SubmitErrorKind::Shutdown)
    }

    /// Queues the job `make(f)` builds, starting a worker if none is idle; refused, `f`
    /// comes back.
    pub(crate) fn enqueue<F>(
        self: &Arc<Self>,
        f: F,
        make: impl FnOnce(F) -> Work,
    ) -> Result<(), SubmitError<F>> {
        let mut st = self.state.lock();
        if let Some(kind) = self.refusal(&st) {
            drop(st);
            return Err(self.submit_error(kind, f));
        }
        // A worker searches and nothing is queued ahead (the submitter's own earlier tasks
        // included: the searcher saw the queue empty after this many puts, see `Pool::queued`):
        // hand the job straight to it. It is idle, so no worker is started.
        let queued = self.queued.load(Ordering::Relaxed);
        let handing = self.mailbox.searching_with(queued);
        if !handing && let Err(e) = self.find_worker(&mut st) {
            drop(st);
            return Err(self.submit_error(SubmitErrorKind::Spawn(e), f));
        }
        // Counted before any worker can finish it.
        self.submitted.fetch_add(1, Ordering::SeqCst);
        let mut job = make(f);
        if handing {
            match self.mailbox.offer(job, queued) {
                Ok(()) => return Ok(()),
                Err(back) => {
                    job = back;
                    // The searcher had just gone: a worker exists, so a failed start leaves
                    // the task queued for it.
                    let _ = self.find_worker(&mut st);
                }
            }
        }
        // The queue is shut down only under the pool lock, after `shutdown` was set.
        let put = self.queue.put(job);
        if put.is_ok() {
            // After the put: a searcher that reads the new count sees the job in the queue.
            self.queued.store(queued.wrapping_add(1), Ordering::Release);
        }
        drop(st);
        match put {
            Ok(()) => self.wake_for_work(),
            Err(refused) => {
                refused.into_inner().fail(None);
                self.job_done();
            }
        }
        Ok(())
    }

    /// Before a put: takes an idle worker's token, or starts a worker while fewer than
    /// `max_workers` run; the error only if that failed and no worker runs at all.
    fn find_worker(self: &Arc<Self>, st: &mut State) -> Result<(), String> {
        if st.workers.len() < self.max_workers
            && !self.take_idle_token()
            && let Err(e) = self.start_worker(st)
            && st.workers.is_empty()
        {
            return Err(e);
        }
        Ok(())
    }

    /// Takes one idle worker's token (Python's `_idle_semaphore.acquire(timeout=0)`): false
    /// if there was none.
    fn take_idle_token(&self) -> bool {
        self.idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// After a put: makes sure some worker will take the task. Nothing to do while a worker
    /// is searching (it will find the task) or none sleeps (every worker is busy or starting,
    /// and each looks at the queue before it sleeps); otherwise wakes one sleeper.
    ///
    /// The put, then a `SeqCst` fence, then the loads of `sleeping` and the mailbox's state;
    /// a worker about to sleep ends its search (a `SeqCst` write of that state), counts
    /// itself in `sleeping`, then a fence, then looks at the queue. So either this thread
    /// sees the sleeper (and wakes it, or sees a searcher that will look at the queue after
    /// ending its search), or the worker sees the task.
    #[inline]
    fn wake_for_work(&self) {
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) != 0 && !self.mailbox.searching() {
            self.wake_sleeper();
        }
    }

    /// A worker sleeps and none searches: a worker that has just finished a task is usually
    /// about to search again (then it takes the task and nobody pays for a wake-up: a
    /// submit + result round trip on a pool with sleeping workers stays between two
    /// threads), so give it a moment; then wake one sleeper. No moment when more tasks are
    /// queued: the running workers are not keeping up, and the submitter must not wait.
    #[cold]
    #[inline(never)]
    fn wake_sleeper(&self) {
        if self.queue.qsize() > 1 {
            self.wake_one();
            return;
        }
        for _ in 0..WAKE_GRACE {
            std::hint::spin_loop();
            if self.mailbox.searching() || self.queue.qsize() == 0 {
                return;
            }
        }
        self.wake_one();
    }

    /// Wakes one sleeping worker and counts it out of `sleeping` at once, under the parking
    /// lot's queue lock: a woken thread may wait long for a core (on a busy machine, or one
    /// with more workers than cores), and until then the submitters must not take it for a
    /// sleeper still to wake and call into the parking lot on every task for nobody. The
    /// woken worker looks at the queue before it sleeps again, so no task is missed.
    ///
    /// The woken worker is the pool's searcher from now on (it holds the mailbox's claim):
    /// until it runs and takes a task, no other submit wakes a worker (tokio's rule), so a
    /// stream of tasks on a busy machine does not wake every sleeper at once. It wakes the
    /// next one itself if more tasks are queued when it takes its own.
    fn wake_one(&self) {
        if !self.mailbox.claim_for_waking() {
            // A worker searches or is being woken: it will look at the queue.
            return;
        }
        let woken = wait::unpark_one_then(self.sleep_key(), |woken| {
            if woken {
                self.sleeping.fetch_sub(1, Ordering::SeqCst);
                WOKEN_TO_SEARCH
            } else {
                DEFAULT_UNPARK_TOKEN
            }
        });
        if !woken {
            // The sleeper counted was not parked yet: it looks at the queue before it parks.
            self.mailbox.end_waking();
        }
    }

    fn sleep_key(&self) -> usize {
        std::ptr::from_ref(&*self.sleeping).addr()
    }

    fn submit_error<F>(&self, kind: SubmitErrorKind, task: F) -> SubmitError<F> {
        SubmitError {
            kind,
            pool: self.name.to_string(),
            thread: crate::current_thread().name(),
            task,
        }
    }

    fn start_worker(self: &Arc<Self>, st: &mut State) -> Result<(), String> {
        let pool = self.clone();
        let t = Thread::builder()
            .name(format!("{}_{}", self.name, st.workers.len()))
            .daemon(false)
            .target(move || pool.work());
        t.start().map_err(|e| e.to_string())?;
        st.workers.push(t);
        if st.workers.len() == self.max_workers {
            self.full.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// A worker's life: the initializer, then tasks until the queue is shut down.
    fn work(self: Arc<Self>) {
        if let Some(init) = &self.initializer {
            let why = match panic::catch_unwind(AssertUnwindSafe(|| init())) {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!(
                    "initializer failed in thread {}: {e}",
                    crate::current_thread().name()
                )),
                Err(p) => Some(format!(
                    "initializer panicked in thread {}: {}",
                    crate::current_thread().name(),
                    panic_report(p.as_ref()).message()
                )),
            };
            if let Some(reason) = why {
                self.break_pool(reason);
                return;
            }
        }
        let mut next = None;
        while let Some(job) = next.take().or_else(|| self.next_job(&mut next)) {
            let mut idle =
                IdleToken::new((!self.full.load(Ordering::Relaxed)).then_some(&*self.idle));
            job.run(&mut idle);
            // The idle token before the count: once `wait_idle` returns, the next submit
            // finds this worker idle instead of starting another. A task with a future gave
            // it already, before its outcome could be seen (see `run_task`).
            idle.give();
            self.job_done();
        }
    }

    /// The next job, or `None` once the queue is shut down and empty.
    ///
    /// At most one idle worker searches: it polls the queue a little (spinning, then a few
    /// yields, as crossbeam-channel's receivers do, and more yields while the pool's adaptive
    /// search window lasts) before it sleeps, so a submitter that keeps up a stream of tasks,
    /// or answers each result with a new task, rarely pays for waking a worker; the other idle workers
    /// look once and sleep, so an idle pool of many workers does not spin on every core (and,
    /// on a machine with fewer cores than workers, the one searcher and the submitter are
    /// not slowed down by the others' spinning). A searcher that finds a task while more are
    /// queued wakes a sleeper to search next (tokio's rule), so a burst still spreads over
    /// the workers.
    ///
    /// The searcher also watches the pool's [`Mailbox`], where a submit that finds it
    /// searching and nothing queued hands its job. A searcher that took a queued job and was
    /// handed one as it ended its search runs the handed one (submitted first) and leaves
    /// the queued one in `next`.
    fn next_job(&self, next: &mut Option<Work>) -> Option<Work> {
        // Whether this worker holds the mailbox's claim for a search (it was woken to search).
        let mut woken = false;
        loop {
            // A busy pool: the queue has work, take it without searching.
            if let Some(found) = self.poll_queue() {
                if woken {
                    self.end_waking();
                }
                return found;
            }
            // Another worker searches: sleep (unless a task came in meanwhile). A look
            // first, as a failed compare-exchange would still take the mailbox's line from
            // the submitters, who read it on every submit.
            if !woken && self.mailbox.searching() {
                woken = self.sleep_until_work();
                continue;
            }
            // The count of queued jobs, then a second look at the queue: if it is still
            // empty, every one of those jobs was taken, and the search is tagged with the
            // count (see `Pool::queued`). Read only here: the busy path above must not pull
            // the submitters' line on every task.
            let queued = self.queued.load(Ordering::Acquire);
            if let Some(found) = self.poll_queue() {
                if woken {
                    self.end_waking();
                }
                return found;
            }
            if woken {
                // Every path below ends by returning or by sleeping again.
                self.mailbox.search_after_waking(queued);
            } else if !self.mailbox.start_search(queued) {
                woken = self.sleep_until_work();
                continue;
            }
            let found = self.search_queue();
            let handed = self.mailbox.end_search(queued);
            if handed.is_some() && !self.full.load(Ordering::Relaxed) {
                // The submit found this worker idle without taking its token: take it here,
                // so that the count still says how many workers are free.
                self.take_idle_token();
            }
            if (handed.is_some() || matches!(found, Some(Some(_)))) && self.queue.qsize() != 0 {
                self.wake_for_work();
            }
            match (found, handed) {
                // The handed job first: it was handed while nothing was queued (its tag says
                // so), so the queued one came after it.
                (Some(Some(job)), Some(h)) => {
                    *next = Some(job);
                    return Some(h);
                }
                // A job handed over before the queue was shut down still runs.
                (_, Some(h)) => return Some(h),
                (Some(found), None) => return found,
                (None, None) => {
                    woken = self.search.time_sleep(|| self.sleep_until_work(), |_| true);
                }
            }
        }
    }

    /// A worker woken to search took a task instead: it gives the mailbox's claim up, and
    /// wakes the next sleeper if more tasks are queued (submits that came meanwhile saw the
    /// claim, took it for a searcher, and woke nobody: the claim's end, then a fence, then
    /// the look at the queue, against their put, fence, and look at the mailbox).
    fn end_waking(&self) {
        self.mailbox.end_waking();
        fence(Ordering::SeqCst);
        if self.queue.qsize() != 0 {
            self.wake_for_work();
        }
    }

    /// One look at the queue: `Some(Some(job))` if a job was there, `Some(None)` if the queue
    /// is shut down and empty, `None` if it is empty.
    fn poll_queue(&self) -> Option<Option<Work>> {
        // The count first, two loads: an empty look then writes nothing a submit needs (and a
        // queue shut down meanwhile shows in `closed`).
        if self.queue.qsize() != 0 || self.closed.load(Ordering::Relaxed) {
            match self.queue.try_get() {
                Ok(job) => return Some(Some(job)),
                Err(TryGetError::Empty { .. }) => {}
                Err(_) => return Some(None),
            }
        }
        None
    }

    /// The search: looks at the queue a pause apart (`IDLE_SPINS` times), then between yields
    /// (at least `IDLE_YIELDS`, and on until the pool's search window has passed), and stops
    /// early if a job waits in the mailbox. As [`poll_queue`](Pool::poll_queue), `None` if
    /// the queue stayed empty or a job waits in the mailbox.
    fn search_queue(&self) -> Option<Option<Work>> {
        let window = self.search.get();
        let start = (!window.is_zero()).then(Instant::now);
        let mut round = 0u32;
        loop {
            if self.mailbox.full() {
                return None;
            }
            if let Some(found) = self.poll_queue() {
                return Some(found);
            }
            if round < IDLE_SPINS {
                std::hint::spin_loop();
            } else if round < IDLE_SPINS + IDLE_YIELDS
                || start.is_some_and(|t| t.elapsed() < window)
            {
                std::thread::yield_now();
            } else {
                return None;
            }
            round += 1;
        }
    }

    /// Sleeps until a submit (or a searcher that found more work) wakes this worker, or the
    /// pool shuts down; returns at once if a task came in meanwhile. The wait is recorded
    /// as a get on the pool's queue, which is what the worker waits for. True if the worker
    /// was woken to search: it holds the mailbox's claim (see [`wake_one`](Pool::wake_one)).
    fn sleep_until_work(&self) -> bool {
        self.sleeping.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        // Only atomic loads under the parking lot's bucket lock.
        let no_work = || self.queue.qsize() == 0 && !self.closed.load(Ordering::SeqCst);
        if no_work() {
            let on = Blocked::on(WaitKind::QueueGet, self.queue.id(), Location::caller());
            let woke = Waiting::begin(on).park(self.sleep_key(), None, no_work, |_, _| {});
            if woke == ParkResult::Unparked(WOKEN_TO_SEARCH) {
                // `wake_one` counted this worker out already.
                return true;
            }
        }
        self.sleeping.fetch_sub(1, Ordering::SeqCst);
        false
    }

    /// An initializer failed: refuse new tasks and fail the queued ones with the reason.
    fn break_pool(&self, reason: String) {
        let mut jobs = Vec::new();
        let reason = {
            let mut st = self.state.lock();
            // The first failure is the reason; later ones say the same thing again.
            let reason = st.broken.get_or_insert(reason).clone();
            while let Ok(job) = self.queue.try_get() {
                jobs.push(job);
            }
            reason
        };
        for job in jobs {
            job.fail(Some(TaskException::BrokenPool {
                pool: self.name.to_string(),
                reason: reason.clone(),
            }));
            self.job_done();
        }
    }

    fn job_done(&self) {
        let done = self.completed.fetch_add(1, Ordering::SeqCst) + 1;
        if self.idle_waiters.load(Ordering::SeqCst) != 0
            && done == self.submitted.load(Ordering::SeqCst)
        {
            wait::unpark_all(self.key());
        }
    }

    fn own_worker(&self) -> bool {
        self.state.lock().workers.iter().any(Thread::is_current)
    }

    pub(crate) fn shutdown(&self, wait: bool, cancel_futures: bool) -> Result<(), ShutdownError> {
        if wait && self.own_worker() {
            return Err(ShutdownError {
                pool: self.name.to_string(),
                thread: crate::current_thread().name(),
            });
        }
        let (cancelled, workers) = {
            let mut st = self.state.lock();
            st.shutdown = true;
            let cancelled = if cancel_futures {
                self.queue.shutdown_immediate()
            } else {
                self.queue.shutdown();
                Vec::new()
            };
            (
                cancelled,
                if wait { st.workers.clone() } else { Vec::new() },
            )
        };
        // After the queue's shutdown: a woken worker drains what is left, then ends.
        self.closed.store(true, Ordering::SeqCst);
        wait::unpark_all(self.sleep_key());
        for job in cancelled {
            job.fail(None);
            self.job_done();
        }
        for t in workers {
            // A worker's panics go to futures; a join error here cannot happen.
            let _ = t.join();
        }
        Ok(())
    }

    /// Tasks submitted and not yet done.
    fn pending(&self) -> usize {
        // `submitted` first: every task counted in `completed` was counted there before.
        let submitted = self.submitted.load(Ordering::SeqCst);
        submitted.saturating_sub(self.completed.load(Ordering::SeqCst))
    }

    /// Waits until nothing submitted is pending; false if `deadline` passed first.
    fn wait_idle(&self, deadline: Option<Instant>, location: &'static Location<'static>) -> bool {
        let busy = || self.pending() != 0;
        if !busy() {
            return true;
        }
        self.idle_waiters.fetch_add(1, Ordering::SeqCst);
        let idle = wait::wait_while(self.key(), self.blocked(location), deadline, busy);
        self.idle_waiters.fetch_sub(1, Ordering::SeqCst);
        idle
    }

    /// The wait record of a thread in `wait_idle`: the pool, no one owner.
    fn blocked(&self, location: &'static Location<'static>) -> Blocked {
        Blocked::on(
            WaitKind::ExecutorIdle,
            ObjectId::new(ObjectKind::ThreadPoolExecutor, self.key()),
            location,
        )
    }
}

/// Builds a [`ThreadPoolExecutor`]: Python's constructor arguments.
///
/// # Examples
///
/// ```
/// use threadkit::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(2)
///     .thread_name_prefix("fetch")
///     .build()?;
/// let name = pool.submit(|| threadkit::current_thread().name())?;
/// assert_eq!(name.result()?, "fetch_0");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `build`"]
#[derive(Default)]
pub struct ExecutorBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
}

impl fmt::Debug for ExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorBuilder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

impl ExecutorBuilder {
    /// The most workers the pool starts (default: min(32, CPUs + 4), as Python). 0 makes
    /// [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().max_workers(3).build()?;
    /// assert_eq!(pool.max_workers(), 3);
    /// assert!(threadkit::ThreadPoolExecutor::builder().max_workers(0).build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Names the workers `PREFIX_0`, `PREFIX_1`, ... (default `ThreadPoolExecutor-N`, N
    /// counting pools in this process).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().thread_name_prefix("io").build()?;
    /// assert_eq!(pool.name(), "io");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs `init` in each worker before its first task. If it returns an error or panics,
    /// the pool is broken: queued and later tasks fail with
    /// [`TaskException::BrokenPool`] / [`SubmitErrorKind::Broken`], saying why.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::{FutureError, TaskException};
    ///
    /// let pool = threadkit::ThreadPoolExecutor::builder()
    ///     .initializer(|| Err("no database"))
    ///     .build()?;
    /// let f = pool.submit(|| 1)?;
    /// match f.result() {
    ///     Err(FutureError::Failed(TaskException::BrokenPool { reason, .. })) => {
    ///         assert!(reason.contains("no database"), "{reason}")
    ///     }
    ///     other => panic!("expected a broken pool, got {other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn initializer<F, E>(mut self, init: F) -> Self
    where
        F: Fn() -> Result<(), E> + Send + Sync + 'static,
        E: Into<Box<dyn Error + Send + Sync>>,
    {
        self.initializer = Some(Arc::new(move || init().map_err(Into::into)));
        self
    }

    /// Builds the pool. No worker starts until the first `submit`.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `max_workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().build()?;
    /// assert!(pool.threads().is_empty()); // lazy
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<ThreadPoolExecutor, BuildError> {
        let name: Arc<str> = match self.prefix {
            Some(p) => p.into(),
            None => format!(
                "ThreadPoolExecutor-{}",
                POOL_COUNTER.fetch_add(1, Ordering::Relaxed)
            )
            .into(),
        };
        let max_workers = match self.max_workers {
            Some(0) => {
                return Err(BuildError {
                    pool: name.to_string(),
                    thread: crate::current_thread().name(),
                });
            }
            Some(n) => n,
            None => default_max_workers(),
        };
        let pool = Arc::new(Pool {
            name,
            max_workers,
            queue: SimpleQueue::new(),
            initializer: self.initializer,
            idle: CachePadded::new(AtomicUsize::new(0)),
            full: AtomicBool::new(false),
            submitted: CachePadded::new(AtomicUsize::new(0)),
            queued: CachePadded::new(AtomicUsize::new(0)),
            completed: CachePadded::new(AtomicUsize::new(0)),
            idle_waiters: AtomicUsize::new(0),
            mailbox: CachePadded::new(Mailbox::new()),
            sleeping: CachePadded::new(AtomicUsize::new(0)),
            closed: AtomicBool::new(false),
            search: SpinWindow::new(),
            state: Mutex::from_raw(
                Lock::new(),
                State {
                    shutdown: false,
                    broken: None,
                    workers: Vec::new(),
                },
            ),
        });
        {
            let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
            pools.retain(|w| w.strong_count() > 0);
            pools.push(Arc::downgrade(&pool));
        }
        Ok(ThreadPoolExecutor { pool })
    }
}

/// Python's default: min(32, CPUs + 4).
fn default_max_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    32.min(cpus + 4)
}

/// A pool of worker threads running submitted closures: Python's
/// `concurrent.futures.ThreadPoolExecutor`.
///
/// Workers are threadkit threads named `PREFIX_i` (visible in [`enumerate`](crate::enumerate)),
/// started lazily (an idle one is reused first) up to `max_workers`. A task's panic goes to its
/// [`TaskFuture`], not to the excepthook. Dropping the pool shuts it down and waits for the
/// queued tasks, like leaving Python's `with` block; at process exit a pool still alive is
/// shut down and its workers are joined with the other non-daemon threads.
///
/// # Differences from Python
///
/// - Misuse is an error value: `max_workers == 0` ([`BuildError`]), submitting after
///   shutdown ([`SubmitError`], which hands the closure back), `shutdown(true, ..)` from a
///   worker of the same pool ([`ShutdownError`], where Python deadlocks).
/// - [`wait_idle`](Self::wait_idle) waits until everything submitted is done (rayon#650).
/// - [`scope`](Self::scope) runs tasks that borrow from the caller's stack.
///
/// # Examples
///
/// ```
/// use threadkit::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(4)?;
/// let futures: Vec<_> = (0..8).map(|i| pool.submit(move || i * i)).collect::<Result<_, _>>()?;
/// let squares: Vec<i32> = futures.into_iter().map(|f| f.into_result()).collect::<Result<_, _>>()?;
/// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ThreadPoolExecutor {
    pool: Arc<Pool>,
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads, named `ThreadPoolExecutor-N_i`.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `max_workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(2)?;
    /// assert_eq!(pool.max_workers(), 2);
    /// assert!(threadkit::ThreadPoolExecutor::new(0).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(max_workers: usize) -> Result<Self, BuildError> {
        Self::builder().max_workers(max_workers).build()
    }

    /// A builder: `max_workers`, `thread_name_prefix`, `initializer`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().max_workers(1).build()?;
    /// assert_eq!(pool.max_workers(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// The most workers this pool starts.
    ///
    /// # Examples
    ///
    /// ```
    /// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// let pool = threadkit::ThreadPoolExecutor::builder().build()?;
    /// assert_eq!(pool.max_workers(), 32.min(cpus + 4));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_workers(&self) -> usize {
        self.pool.max_workers
    }

    /// The pool's name: its workers' name prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// assert!(pool.name().starts_with("ThreadPoolExecutor-"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.pool.name
    }

    /// The workers started so far, in start order.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::builder().thread_name_prefix("w").build()?;
    /// assert!(pool.threads().is_empty());
    /// pool.submit(|| ())?.result()?;
    /// assert_eq!(pool.threads()[0].name(), "w_0");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn threads(&self) -> Vec<Thread> {
        self.pool.state.lock().workers.clone()
    }

    /// Schedules `f` and returns its future.
    ///
    /// # Errors
    ///
    /// [`SubmitError`] holding `f` if the pool was shut down or is broken, or has no worker
    /// and could not start one.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// let f = pool.submit(|| "done")?;
    /// assert_eq!(*f.result()?, "done");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Result<TaskFuture<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let shared = Arc::new(Shared::new(Some(self.pool.name.clone())));
        let s = shared.clone();
        self.pool.enqueue(f, move |f| {
            if Inline::fits::<F>() {
                Work::Inline(Inline::new(s, f))
            } else {
                Work::Boxed(Box::new(Task { f, shared: s }))
            }
        })?;
        Ok(TaskFuture::from_shared(shared))
    }

    /// Runs `f` in the pool without a future (fire-and-forget, like `rayon::spawn` or the
    /// `threadpool` crate's `execute`): the cheapest way to queue work whose result nobody
    /// waits for; a small closure is not even boxed. [`wait_idle`](Self::wait_idle) waits for
    /// it like any task.
    ///
    /// Python has no such method. A panic in `f` has no future to go to, so it is reported
    /// as a panic that ends a thread would be: the [excepthook](crate::set_excepthook) gets
    /// it, with the worker's name; the worker lives on. A task the pool cancels (shutdown
    /// with `cancel_futures`, a broken pool) is dropped without running.
    ///
    /// # Errors
    ///
    /// [`SubmitError`] holding `f` if the pool was shut down or is broken, or has no worker
    /// and could not start one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(2)?;
    /// let hits = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..100 {
    ///     let h = hits.clone();
    ///     pool.execute(move || { h.fetch_add(1, Ordering::Relaxed); })?;
    /// }
    /// pool.wait_idle();
    /// assert_eq!(hits.load(Ordering::Relaxed), 100);
    /// pool.shutdown(true, false)?;
    /// assert!(pool.execute(|| ()).is_err()); // the closure comes back in the error
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn execute<F>(&self, f: F) -> Result<(), SubmitError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        self.pool.enqueue(f, |f| {
            if Small::fits::<F>() {
                // SAFETY: `Fired<F>`'s functions read an `F` and take no extra; `F` is `Send`.
                Work::Small(unsafe { Small::with(f, std::ptr::null(), &Fired::<F>::VTABLE) })
            } else {
                Work::Boxed(Box::new(Fired(Some(f))))
            }
        })
    }

    pub(crate) fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// The pool's name, shared (the origin every future of this pool names).
    pub(crate) fn name_arc(&self) -> Arc<str> {
        self.pool.name.clone()
    }

    /// Calls `f` on each item in pool tasks, yielding the results in input order (Python's
    /// `executor.map`). Every item is submitted now; see
    /// [`map_buffered`](Self::map_buffered) for a bounded look-ahead and
    /// [`Map::timeout`] for an overall timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(3)?;
    /// let out: Vec<u64> = pool.map(|x: u64| x * 2, 1..=4).collect::<Result<_, _>>()?;
    /// assert_eq!(out, [2, 4, 6, 8]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn map<I, F, T>(&self, f: F, items: I) -> Map<'_, Self, I::IntoIter, F, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        Map::new(self, f, items.into_iter(), None, Location::caller())
    }

    /// [`map`](Self::map) that keeps at most `buffersize` tasks submitted ahead of the
    /// consumer (Python 3.14's `buffersize`): a huge or endless iterator is read only as
    /// results are taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(2)?;
    /// let first: Vec<u64> = pool
    ///     .map_buffered(|x: u64| x + 1, 0.., 4) // endless input
    ///     .take(3)
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(first, [1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn map_buffered<I, F, T>(
        &self,
        f: F,
        items: I,
        buffersize: usize,
    ) -> Map<'_, Self, I::IntoIter, F, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        Map::new(
            self,
            f,
            items.into_iter(),
            Some(buffersize.max(1)),
            Location::caller(),
        )
    }

    /// Stops the pool: no new tasks; with `cancel_futures`, queued tasks that have not
    /// started are cancelled; with `wait`, returns once every worker has ended (after the
    /// running and, without `cancel_futures`, the queued tasks). Calling it again does
    /// nothing more (it waits again if asked).
    ///
    /// # Errors
    ///
    /// [`ShutdownError`] if `wait` is true and the caller is one of this pool's workers
    /// (it would wait for itself); nothing is done then.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// let f = pool.submit(|| 5)?;
    /// pool.shutdown(true, false)?;
    /// assert_eq!(*f.result()?, 5); // queued work finished
    /// pool.shutdown(true, false)?; // idempotent
    /// assert!(pool.submit(|| 6).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) -> Result<(), ShutdownError> {
        self.pool.shutdown(wait, cancel_futures)
    }

    /// Blocks until every task submitted so far is done (run, cancelled or failed); the pool
    /// stays open (rayon#650, rust-threadpool#19).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(4)?;
    /// let count = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..100 {
    ///     let c = count.clone();
    ///     let _ = pool.submit(move || c.fetch_add(1, Ordering::SeqCst))?;
    /// }
    /// pool.wait_idle();
    /// assert_eq!(count.load(Ordering::SeqCst), 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn wait_idle(&self) {
        self.pool.wait_idle(None, Location::caller());
    }

    /// [`wait_idle`](Self::wait_idle), waiting at most `timeout`: true if the pool became idle.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// let gate = std::sync::Arc::new(threadkit::Event::new());
    /// let g = gate.clone();
    /// let _f = pool.submit(move || g.wait())?;
    /// assert!(!pool.wait_idle_timeout(Duration::from_millis(10)));
    /// gate.set();
    /// assert!(pool.wait_idle_timeout(Duration::from_secs(60)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    #[must_use = "false means the pool was still busy when the time was up"]
    pub fn wait_idle_timeout(&self, timeout: Duration) -> bool {
        self.pool
            .wait_idle(wait::deadline(timeout), Location::caller())
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolExecutor")
            .field("name", &self.pool.name)
            .field("max_workers", &self.pool.max_workers)
            .field("pending", &self.pool.pending())
            .finish_non_exhaustive()
    }
}

/// Shuts the pool down and waits for its tasks, like leaving Python's `with` block; from one
/// of its own workers it does not wait (that would wait for itself).
impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        let wait = !self.pool.own_worker();
        let _ = self.pool.shutdown(wait, false);
    }
}

impl Executor for ThreadPoolExecutor {
    fn submit<F, T>(&self, f: F) -> Result<TaskFuture<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        ThreadPoolExecutor::submit(self, f)
    }

    fn shutdown(&self, wait: bool, cancel_futures: bool) -> Result<(), ShutdownError> {
        ThreadPoolExecutor::shutdown(self, wait, cancel_futures)
    }
}

/// A live pool as deadlock reports see it (`observe::deadlock`): which futures are its own
/// (their wait records carry its [`pool_id`]), how many workers it may start, and the idents
/// of those it started.
pub(crate) struct PoolView {
    pub(crate) id: usize,
    pub(crate) name: Arc<str>,
    pub(crate) max_workers: usize,
    pub(crate) workers: Vec<u64>,
}

/// Every live pool, for deadlock reports. Never blocks: a pool whose lock is busy (or every
/// pool, if the list of pools is) is left out.
pub(crate) fn live_pools() -> Vec<PoolView> {
    let pools: Vec<Arc<Pool>> = match POOLS.try_lock() {
        Ok(pools) => pools.iter().filter_map(Weak::upgrade).collect(),
        Err(std::sync::TryLockError::Poisoned(p)) => {
            p.into_inner().iter().filter_map(Weak::upgrade).collect()
        }
        Err(std::sync::TryLockError::WouldBlock) => return Vec::new(),
    };
    pools
        .iter()
        .filter_map(|p| {
            let st = p.state.try_lock()?;
            Some(PoolView {
                id: pool_id(&p.name),
                name: p.name.clone(),
                max_workers: p.max_workers,
                workers: st.workers.iter().filter_map(Thread::ident).collect(),
            })
        })
        .collect()
}
