//! Python's `concurrent.futures` (thread pools): [`ThreadPoolExecutor`], [`TaskFuture`],
//! [`wait`], [`as_completed`], and the [`Executor`] trait.
//!
//! | Python | threadkit |
//! |---|---|
//! | `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)` | [`ThreadPoolExecutor::new(n)?`](ThreadPoolExecutor::new), [`ThreadPoolExecutor::builder()`](ThreadPoolExecutor::builder)`.max_workers(n).thread_name_prefix(p).initializer(f).build()?` |
//! | `ex.submit(f, *args)` | [`ex.submit(move \|\| f(args))?`](ThreadPoolExecutor::submit) -> [`TaskFuture<T>`] |
//! | `ex.map(f, it, timeout=t, buffersize=n)` | [`ex.map(f, it)`](ThreadPoolExecutor::map)`.timeout(t)`, [`ex.map_buffered(f, it, n)`](ThreadPoolExecutor::map_buffered) |
//! | `ex.shutdown(wait, cancel_futures=c)`, `with ex:` | [`ex.shutdown(wait, c)?`](ThreadPoolExecutor::shutdown), drop |
//! | `fut.result()`, `result(timeout)` | [`result()?`](TaskFuture::result) (by reference), [`result_timeout(d)?`](TaskFuture::result_timeout), [`into_result()?`](TaskFuture::into_result) |
//! | `fut.exception()`, `cancel()`, `cancelled()`, `running()`, `done()` | the same names |
//! | `fut.add_done_callback(fn)` | [`add_done_callback(f)`](TaskFuture::add_done_callback) |
//! | `set_running_or_notify_cancel()`, `set_result(v)`, `set_exception(e)` | the same names ([`SetRunning`] for `True`/`False`); [`InvalidStateError`], [`SetError`] |
//! | `wait(fs, timeout, return_when)` | [`wait(fs, when)`](wait()), [`wait_timeout(fs, d, when)`](wait_timeout), [`ReturnWhen`] |
//! | `as_completed(fs, timeout)` | [`as_completed(fs)`](as_completed()), [`as_completed_timeout(fs, d)`](as_completed_timeout) |
//! | `CancelledError`, `TimeoutError`, `BrokenThreadPool` | [`FutureError`], [`AsCompletedTimeout`], [`TaskException::BrokenPool`] |
//! | `concurrent.futures.Executor` | the [`Executor`] trait |
//!
//! Beyond Python: [`ThreadPoolExecutor::scope`] (tasks that borrow, with
//! [`Scope::submit`] or, without a future, [`Scope::spawn`]), `.await` on a
//! [`TaskFuture`], [`ThreadPoolExecutor::wait_idle`], and a thread blocked on a future shows
//! a [`WaitKind::Future`](crate::WaitKind::Future) wait naming the worker that runs it.

mod collector;
mod error;
mod future;
mod mailbox;
mod pool;
mod scope;
mod traits;
mod wait;

pub use error::{
    AsCompletedTimeout, BuildError, FutureError, InvalidStateError, SetError, ShutdownError,
    SubmitError, SubmitErrorKind, TaskException,
};
pub use future::{SetRunning, TaskFuture};
pub(crate) use pool::at_exit;
pub use pool::{ExecutorBuilder, ThreadPoolExecutor};
pub(crate) use pool::{PoolView, live_pools};
pub use scope::{Scope, ScopeError};
pub use traits::{Executor, Map};
pub use wait::{
    AsCompleted, ReturnWhen, Waited, as_completed, as_completed_timeout, wait, wait_timeout,
};
