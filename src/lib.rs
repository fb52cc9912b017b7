//! # threadkit: Python's threading model, in Rust
//!
//! threadkit gives Rust the model of Python's `threading` and `_thread` modules: named
//! threads in a live registry ([`enumerate`], [`current_thread`], [`active_count`]), `join`
//! with timeouts, daemon threads and a process that waits for the others at exit, an
//! excepthook for panics, and a [`Lock`] as cheap as the best Rust locks. And it lets you see
//! inside a running program: every blocked thread records what it waits on, who holds it,
//! and the line of code that blocked ([`Thread::waiting`]).
//!
//! ## A tour
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use threadkit::{Lock, Thread};
//!
//! let print_lock = Arc::new(Lock::new());
//! let mut workers = Vec::new();
//! for (name, delay) in [("Thread-A", 1), ("Thread-B", 2)] {
//!     let lock = print_lock.clone();
//!     let t = Thread::builder().name(name).target(move || {
//!         let _g = lock.guard(); // Python's `with lock:`
//!         threadkit::sleep(Duration::from_millis(delay));
//!         println!("{} done", threadkit::current_thread().name());
//!     });
//!     t.start()?;
//!     workers.push(t);
//! }
//! assert!(threadkit::enumerate().len() >= 1);
//! for t in &workers {
//!     t.join()?;
//!     assert!(!t.is_alive());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Coming from Python
//!
//! | Python | threadkit |
//! |---|---|
//! | `_thread.start_new_thread(f, args)` | [`thread::start_new_thread`]`(move \|\| f(args))?` |
//! | `_thread.allocate_lock()`, `_thread.exit()`, `_thread.stack_size(n)` | [`thread::allocate_lock`], [`thread::exit`], [`thread::stack_size`]`(Some(n))?` |
//! | `threading.Thread(target=f, name=n, daemon=d)` | `Thread::builder().name(n).daemon(d).target(f)` ([`Builder`]) |
//! | subclass `Thread`, override `run` | `impl` [`Run`] `for MyThread`, [`Thread::from_run`]`(my)` |
//! | `t.start()` / `t.join()` / `t.join(timeout)` | [`t.start()?`](Thread::start) / [`t.join()?`](Thread::join) / [`t.join_timeout(d)?`](Thread::join_timeout) (a [`JoinStatus`]: [`finished()`](JoinStatus::finished) if it ended, [`timed_out()`](JoinStatus::timed_out) if it still runs; dropping it is a warning) |
//! | `is_alive()`, `name`, `ident`, `native_id`, `daemon` | [`is_alive()`](Thread::is_alive), [`name()`](Thread::name)/[`set_name()`](Thread::set_name), [`ident()`](Thread::ident), [`native_id()`](Thread::native_id), [`is_daemon()`](Thread::is_daemon)/[`set_daemon()`](Thread::set_daemon) |
//! | `active_count()`, `current_thread()`, `enumerate()`, `main_thread()` | [`active_count()`], [`current_thread()`], [`enumerate()`], [`main_thread()`] |
//! | `get_ident()`, `get_native_id()` | [`get_ident()`], [`get_native_id()`] |
//! | `threading.excepthook = f` | [`set_excepthook`]`(f)`, [`reset_excepthook`], [`default_excepthook`] |
//! | interpreter exit waits for non-daemon threads | the same, at process exit; [`shutdown()`](fn@shutdown) to wait explicitly |
//! | `time.sleep(s)` | [`sleep`]`(Duration)` (shows up as a wait in dumps) |
//! | `lock = threading.Lock()` | [`Lock::new()`](Lock::new) (`const`: may be a `static`) |
//! | `lock.acquire()`, `acquire(False)`, `acquire(timeout=t)` | [`acquire()`](Lock::acquire), [`try_acquire()`](Lock::try_acquire), [`acquire_timeout(t)`](Lock::acquire_timeout) |
//! | `lock.release()`, `lock.locked()`, `with lock:` | [`release()?`](Lock::release), [`locked()`](Lock::locked), `let _g = lock.`[`guard()`](Lock::guard)`;` |
//! | a lock around data | [`Mutex<T>`] |
//! | `threading.RLock()` | [`RLock::new()`](RLock::new); [`is_owned()`](RLock::is_owned), [`recursion_count()`](RLock::recursion_count); release by a non-owner is a [`ReleaseError`] |
//! | a reentrant lock around data | [`ReentrantMutex<T>`] |
//! | `threading.Condition()` / `Condition(lock)` | [`Condition::new()`](Condition::new) (its own [`RLock`]) / [`Condition::with_lock`] |
//! | `wait()`, `wait(timeout)`, `wait_for(pred)`, `wait_for(pred, timeout)` | [`wait()?`](Condition::wait), [`wait_timeout(d)?`](Condition::wait_timeout) ([`WaitTimeoutResult`]), [`wait_for(pred)?`](Condition::wait_for), [`wait_for_timeout(pred, d)?`](Condition::wait_for_timeout) |
//! | `notify(n)`, `notify_all()` | [`notify(n)?`](Condition::notify), [`notify_all()?`](Condition::notify_all); waiting or notifying without the lock is a [`ConditionError`] |
//! | `Semaphore(n)`, `BoundedSemaphore(n)` | [`Semaphore::new(n)`](Semaphore::new), [`BoundedSemaphore::new(n)`](BoundedSemaphore::new); `release(n)?`, `let _p = sem.guard();` |
//! | `threading.Event()` | [`Event::new()`](Event::new): `set`, `clear`, `is_set`, `wait`, [`wait_timeout(t)`](Event::wait_timeout) |
//! | `threading.Barrier(n, action, timeout)` | [`Barrier::new(n)?`](Barrier::new)`.with_action(f).with_timeout(t)`; a broken barrier is a [`BrokenBarrierError`] |
//! | `threading.Timer(t, f)` | [`Timer::new(t, f)`](Timer::new), `start()?`, `cancel()` |
//! | `threading.local()` | [`Local::new(init)`](Local::new), `with(\|v\| ...)` |
//! | `queue.Queue(maxsize)`, `LifoQueue`, `PriorityQueue`, `SimpleQueue` | [`queue::Queue::new(maxsize)`](queue::Queue::new), [`queue::LifoQueue`], [`queue::PriorityQueue`] (stable among equals), [`queue::SimpleQueue`] |
//! | `put(x)`, `put(x, timeout=t)`, `put_nowait(x)` | `put(x)?`, `put_timeout(x, t)?`, `try_put(x)?`: a refused item comes back inside the error |
//! | `get()`, `get(timeout=t)`, `get_nowait()` | `get()?`, `get_timeout(t)?`, `try_get()?` |
//! | `qsize()`, `empty()`, `full()`, `task_done()`, `join()` | the same names; `join_timeout(t)` |
//! | `shutdown()`, `shutdown(immediate=True)` | `shutdown()`, `shutdown_immediate()` (returns the removed items) |
//! | `try: produce() finally: q.shutdown()` | `let q = q.`[`shutdown_guard()`](queue::Queue::shutdown_guard)`;` ([`queue::ShutdownGuard`]: shuts down when dropped or unwound) |
//! | `concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)` | [`ThreadPoolExecutor::new(n)?`](ThreadPoolExecutor::new), [`ThreadPoolExecutor::builder()`](ThreadPoolExecutor::builder) |
//! | `ex.submit(f)`, `ex.map(f, it)`, `ex.shutdown(wait, cancel_futures)`, `with ex:` | [`submit(f)?`](ThreadPoolExecutor::submit), [`map(f, it)`](ThreadPoolExecutor::map), [`shutdown(wait, cancel)?`](ThreadPoolExecutor::shutdown), drop |
//! | `Future`: `result()`, `exception()`, `cancel()`, `done()`, `add_done_callback(fn)` | [`TaskFuture`]: the same names (not `Future`: that is `std::future::Future`, which it implements) |
//! | `wait(fs, return_when=..)`, `as_completed(fs)` | [`futures::wait`], [`futures::as_completed`]; everything else in [`futures`] |
//!
//! ## Coming from std / parking_lot
//!
//! | std / parking_lot / tokio | threadkit |
//! |---|---|
//! | `std::thread::spawn(f)`, `Builder::spawn(f)` | [`spawn`]`(f)`, [`Builder::spawn`]`(f)?`: a [`JoinHandle<T>`] with [`join`](JoinHandle::join), [`join_timeout`](JoinHandle::join_timeout), [`thread`](JoinHandle::thread) |
//! | `std::thread::scope` | [`scope`], [`Scope::spawn`], [`Scope::builder`] |
//! | `resume_unwind(h.join().unwrap_err())` | `resume_unwind(h.join().unwrap_err().`[`into_panic()`](JoinError::into_panic)`.unwrap())` |
//! | parking_lot `Mutex`, `ReentrantMutex`, `arc_lock`, `serde` | [`Mutex`], [`ReentrantMutex`], [`ArcMutexGuard`], [`ArcReentrantMutexGuard`]; the `serde` feature |
//! | tokio `OwnedSemaphorePermit` | [`Semaphore::acquire_owned`] -> [`OwnedSemaphorePermit`], [`OwnedBoundedSemaphorePermit`] |
//! | `len()`, `is_empty()` | on every queue, beside `qsize()`, `empty()` |
//! | one error type for `?` | [`Error`], with `From` every error of the crate |
//! | `std::sync::RwLock<T>`, `parking_lot::RwLock<T>` | [`RwLock<T>`] over threadkit's [`RawRwLock`] (`const fn new`, upgradable and timed, no poisoning; a waiting writer keeps new readers out); guards [`RwLockReadGuard`], [`RwLockWriteGuard`], [`RwLockUpgradableReadGuard`], [`MappedRwLockReadGuard`], [`MappedRwLockWriteGuard`] |
//! | `Condvar` with a `Mutex<T>` | [`Condvar`] with [`Mutex<T>`]: [`wait`](Condvar::wait), [`wait_while`](Condvar::wait_while), [`wait_timeout`](Condvar::wait_timeout), [`wait_while_timeout`](Condvar::wait_while_timeout) ([`WaitTimeoutResult`]), [`notify_one`](Condvar::notify_one), [`notify_all`](Condvar::notify_all); one condvar used with two mutexes is a [`CondvarError`], not a panic |
//!
//! ## Timeouts
//!
//! One rule everywhere: a timeout is a [`Duration`](std::time::Duration). Zero polls once
//! without blocking; any duration is valid, and one too large to add to `Instant::now()`
//! waits forever. Infinite waits are separate methods (`acquire()` beside
//! `acquire_timeout(d)` and `try_acquire()`), so there are no sentinel values. A timed wait
//! never reports a timeout early.
//!
//! ## Errors, panics, exit
//!
//! - Misuse that Python answers with `RuntimeError` returns an error value here, whose message
//!   names the thread and the primitive ([`StartError`], [`JoinError`], [`ReleaseError`],
//!   [`SetDaemonError`], [`thread::StackSizeError`]). threadkit never panics for it.
//! - A panic in a thread is Python's uncaught exception: it ends that thread only, goes to the
//!   excepthook (by default `Exception in thread NAME:` and the message on stderr), and
//!   [`Thread::join`] returns it as [`JoinError::Panicked`]. Guards release on unwind; nothing
//!   is poisoned.
//! - When `main` returns (or `std::process::exit` is called), the process waits for every live
//!   non-daemon thread threadkit started, as Python does. Daemon threads and
//!   [`thread::start_new_thread`] threads are not waited for.
//!
//! ## What threadkit changes in the program that uses it
//!
//! Two process-wide things happen when the first thread is started, both Python's model; a
//! host program (or a library that uses threadkit inside another program) can turn each off:
//!
//! - **A panic hook.** threadkit installs one (`std::panic::set_hook`) in front of the hook
//!   that was in place. For a panic in a thread threadkit started, it keeps the location and
//!   backtrace for the excepthook's report, then calls the previous hook, so an error
//!   reporter installed before (Sentry, tracing-panic) still sees every panic; only std's
//!   default hook is not called for those threads, as the excepthook's
//!   `Exception in thread NAME:` report replaces its `thread 'NAME' panicked at` text. Other
//!   threads' panics go to the previous hook untouched. Opt out with
//!   [`set_panic_hook_enabled`]`(false)`.
//! - **A wait at exit.** When `main` returns, the process waits for every live non-daemon
//!   thread threadkit started (an `atexit` handler). Opt out with
//!   [`set_join_at_exit`]`(false)`: the process then exits as Rust programs do, stopping
//!   the threads wherever they are.
//!
//! ```
//! // A library that must not change its host: no panic hook, no wait at exit.
//! threadkit::set_panic_hook_enabled(false);
//! threadkit::set_join_at_exit(false);
//! let t = threadkit::Thread::new(|| {});
//! t.start()?;
//! t.join()?;
//! assert!(!threadkit::panic_hook_enabled() && !threadkit::join_at_exit());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Seeing inside
//!
//! A thread that blocks in threadkit (lock, join, start, sleep) writes what it waits on into
//! its registry entry just before it parks, and clears it when the blocking call returns; the
//! fast paths write nothing. [`Thread::waiting`] reads it: the [`WaitKind`], the object (an
//! [`ObjectId`], the same value errors about that object carry), its holder at the moment of
//! reading (by ident, never reused), the caller's source line (`#[track_caller]`) and since
//! when. [`Lock::holder`] tells who holds a lock.
//!
//! Every primitive can carry a name (`Lock::named("db")`, `RLock::named`, `Semaphore::named`,
//! `Event::named`, `Condvar::named`, `RawRwLock::named`, all `const`; `Condition::named`,
//! `Barrier::with_name`, `queue::Queue::named` and the other queues; a `Mutex` through
//! `Mutex::from_raw(Lock::named("db"), value)`), shown in its [`ObjectId`], so in records,
//! errors and reports. The [`observe`] module reads the records of every thread at once:
//!
//! - [`observe::dump()`]: a thread dump that prints like `jstack` (and serialises to JSON
//!   with the `serde` feature): every thread, running or blocked on what, held by whom, at
//!   which line, since when, and the locks it holds while [`observe::set_held_tracking`] is
//!   on. It never blocks, so it works in a deadlocked program and from a panicking thread;
//!   [`observe::dump_on_signal`] prints one on SIGQUIT.
//! - [`observe::deadlocks()`]: wait-for cycles through locks, joins and futures, and Go's
//!   "every non-daemon thread is asleep", each confirmed by a second reading; waits with a
//!   timeout are never reported. [`observe::watch()`] (or `THREADKIT_DEADLOCK=report|abort[:ms]`,
//!   read at the first thread start, or by [`observe::watch_from_env`]) runs a watchdog that
//!   reports them or aborts.
//!
//! ```
//! use threadkit::{Lock, observe};
//!
//! static DB: Lock = Lock::named("db");
//! let _g = DB.guard();
//! let dump = observe::dump();
//! let me = dump.thread(threadkit::get_ident()).unwrap();
//! assert!(me.wait().is_none()); // running
//! assert!(observe::deadlocks().is_empty());
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

/// The README's Rust snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod error;
pub mod observe;
// Python's `concurrent.futures`; the source lives in `src/executor/` (DESIGN.md's layout).
#[path = "executor/mod.rs"]
pub mod futures;
mod primitive;
pub mod queue;
mod sync;
mod sys;
pub mod thread;
mod threading;

pub use error::{Error, RefusedItem, RefusedTask};
pub use futures::{Executor, TaskFuture, ThreadPoolExecutor};
pub use sync::{
    ArcMutexGuard, ArcReentrantMutexGuard, OwnedBoundedSemaphorePermit, OwnedSemaphorePermit,
};
pub use sync::{
    Barrier, BarrierPartiesError, BoundedSemaphore, BoundedSemaphoreGuard, BrokenBarrierError,
    BrokenCause, Condition, ConditionError, ConditionLock, Event, Local, Lock, LockGuard,
    MappedMutexGuard, MappedReentrantMutexGuard, Mutex, MutexGuard, RLock, RLockGuard,
    ReentrantMutex, ReentrantMutexGuard, ReleaseError, ReleaseErrorKind, Semaphore, SemaphoreGuard,
    ThreadNumber, Timer, Truthy, sleep,
};
pub use sync::{Condvar, CondvarError, WaitTimeoutResult};
pub use sync::{
    MappedRwLockReadGuard, MappedRwLockWriteGuard, RawRwLock, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};
pub use threading::JoinStatus;
pub use threading::{
    Builder, JoinError, ObjectId, ObjectKind, Run, SetDaemonError, StartError, Thread, ThreadPanic,
    WaitInfo, WaitKind, active_count, current_thread, default_excepthook, enumerate, get_ident,
    get_native_id, main_thread, reset_excepthook, set_excepthook, shutdown,
};
pub use threading::{JoinHandle, Scope, ScopedBuilder, ScopedJoinHandle, scope, spawn};
pub use threading::{join_at_exit, panic_hook_enabled, set_join_at_exit, set_panic_hook_enabled};
