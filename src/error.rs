//! [`Error`]: one crate-level error for code that does not want to name each operation's
//! error type. Every error type of the crate converts into it with `?`.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

use crate::futures::{
    AsCompletedTimeout, BuildError, FutureError, InvalidStateError, SetError, ShutdownError,
    SubmitError,
};
use crate::queue::{
    GetError, GetTimeoutError, PutError, PutTimeoutError, QueueId, TaskDoneError, TryGetError,
    TryPutError,
};
use crate::thread::StackSizeError;
use crate::{
    BarrierPartiesError, BrokenBarrierError, ConditionError, CondvarError, JoinError, ReleaseError,
    SetDaemonError, StartError, ThreadPanic,
};

/// Any error threadkit returns, for code that would rather write one type than fifteen:
/// every error type of the crate converts into it, so `?` works in a function returning
/// `Result<_, threadkit::Error>`.
///
/// Each variant keeps the original error, with its accessors (thread names, the primitive,
/// the panic payload). `Display` is the original's message and `source` the original's
/// source (the variant is transparent). `Error` is `Send + Sync + 'static`, so it also goes
/// into `Box<dyn std::error::Error + Send + Sync>` (and `anyhow::Error`).
///
/// # Refused queue items
///
/// The put errors ([`PutError<T>`], [`TryPutError<T>`], [`PutTimeoutError<T>`]) carry the
/// refused item, of the queue's item type; `Error` is not generic, so it keeps the item
/// type-erased in a [`RefusedItem`]: nothing is lost, and
/// [`RefusedItem::into_item`] gives it back as a `T`. This needs `T: Send + 'static` (for a
/// non-`'static` item, call `into_inner()` before converting).
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
/// use threadkit::{Error, Lock};
///
/// fn work(q: &Queue<u32>, lock: &Lock) -> Result<u32, Error> {
///     let h = threadkit::spawn(|| 40);
///     let n = h.join()?; // JoinError
///     q.try_put(n)?; // TryPutError<u32>
///     lock.release()?; // ReleaseError: it was never acquired
///     Ok(q.get()?)
/// }
///
/// let q = Queue::new(0);
/// let err = work(&q, &Lock::new()).unwrap_err();
/// assert!(matches!(err, Error::Release(_)));
/// assert!(err.to_string().contains("Lock at 0x")); // the original message
/// assert_eq!(q.qsize(), 1);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// [`Thread::start`](crate::Thread::start) or a spawn refused.
    Start(StartError),
    /// A join did not report a clean end (a panic included, with its payload). Boxed, like
    /// [`Condvar`](Error::Condvar), to keep `Error` small: a `Result<T, Error>` stays cheap.
    Join(Box<JoinError>),
    /// [`Thread::set_daemon`](crate::Thread::set_daemon) on a started thread.
    SetDaemon(SetDaemonError),
    /// [`thread::stack_size`](crate::thread::stack_size) refused a size.
    StackSize(StackSizeError),
    /// A lock, RLock or semaphore release refused.
    Release(ReleaseError),
    /// A condition waited on or notified without its lock.
    Condition(ConditionError),
    /// A barrier was broken.
    BrokenBarrier(BrokenBarrierError),
    /// A barrier was made for no parties.
    BarrierParties(BarrierPartiesError),
    /// A queue refused a put; the item is inside.
    Put(RefusedItem),
    /// A blocking `get` on a queue that is shut down.
    Get(GetError),
    /// A `try_get` found the queue empty or shut down.
    TryGet(TryGetError),
    /// A `get_timeout` ran out of time, or the queue is shut down.
    GetTimeout(GetTimeoutError),
    /// `task_done` was called more often than items were put.
    TaskDone(TaskDoneError),
    /// A [`Condvar`](crate::Condvar) waited on with a second mutex.
    Condvar(Box<CondvarError>),
    /// A [`TaskFuture`](crate::TaskFuture)'s result: cancelled, timed out, or its task failed.
    Future(FutureError),
    /// An executor-side call on a future in the wrong state (a second `set_result`, ...).
    InvalidState(InvalidStateError),
    /// A future refused a value or an exception (`set_result`, `set_exception`): the value
    /// is kept inside.
    Set(RefusedTask),
    /// A [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) builder refused its settings.
    ExecutorBuild(BuildError),
    /// A pool refused a task (shut down, or broken): the task is kept inside.
    Submit(RefusedTask),
    /// `shutdown(wait = true)` called from one of the pool's own workers.
    ExecutorShutdown(ShutdownError),
    /// [`as_completed`](crate::futures::as_completed) ran out of time.
    AsCompletedTimeout(AsCompletedTimeout),
}

impl Error {
    /// The original error, as a trait object (what `Display` and `source` read from).
    fn inner(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            Error::Start(e) => e,
            Error::Join(e) => &**e,
            Error::SetDaemon(e) => e,
            Error::StackSize(e) => e,
            Error::Release(e) => e,
            Error::Condition(e) => e,
            Error::BrokenBarrier(e) => e,
            Error::BarrierParties(e) => e,
            Error::Put(e) => e,
            Error::Get(e) => e,
            Error::TryGet(e) => e,
            Error::GetTimeout(e) => e,
            Error::TaskDone(e) => e,
            Error::Condvar(e) => &**e,
            Error::Future(e) => e,
            Error::InvalidState(e) => e,
            Error::Set(e) => e,
            Error::ExecutorBuild(e) => e,
            Error::Submit(e) => e,
            Error::ExecutorShutdown(e) => e,
            Error::AsCompletedTimeout(e) => e,
        }
    }

    /// True if a timed wait ran out of time (a queue's `put_timeout` or `get_timeout`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// let err = threadkit::Error::from(q.get_timeout(Duration::ZERO).unwrap_err());
    /// assert!(err.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Put(e) => e.is_timeout(),
            Error::GetTimeout(e) => e.is_timeout(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner(), f)
    }
}

impl std::error::Error for Error {
    /// The original error's source (the variant is transparent): for example the OS error of
    /// a failed start, or the [`ThreadPanic`] of a panicked join.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner().source()
    }
}

macro_rules! from_error {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(e)
            }
        }
    )*};
}

from_error!(
    Start(StartError),
    SetDaemon(SetDaemonError),
    StackSize(StackSizeError),
    Release(ReleaseError),
    Condition(ConditionError),
    BrokenBarrier(BrokenBarrierError),
    BarrierParties(BarrierPartiesError),
    Get(GetError),
    TryGet(TryGetError),
    GetTimeout(GetTimeoutError),
    TaskDone(TaskDoneError),
    Future(FutureError),
    InvalidState(InvalidStateError),
    ExecutorBuild(BuildError),
    ExecutorShutdown(ShutdownError),
    AsCompletedTimeout(AsCompletedTimeout),
);

impl From<JoinError> for Error {
    fn from(e: JoinError) -> Self {
        Error::Join(Box::new(e))
    }
}

impl From<CondvarError> for Error {
    fn from(e: CondvarError) -> Self {
        Error::Condvar(Box::new(e))
    }
}

impl<F: Send + 'static> From<SubmitError<F>> for Error {
    fn from(e: SubmitError<F>) -> Self {
        let message = e.to_string();
        Error::Submit(RefusedTask::new(message, e.into_inner()))
    }
}

impl<V: Send + 'static> From<SetError<V>> for Error {
    fn from(e: SetError<V>) -> Self {
        let message = e.to_string();
        Error::Set(RefusedTask::new(message, e.into_inner()))
    }
}

/// A task a pool refused ([`Error::Submit`]) or a value a future refused ([`Error::Set`]),
/// kept type-erased inside the crate-level [`Error`]:
/// [`into_inner`](RefusedTask::into_inner) gives it back.
///
/// # Examples
///
/// ```
/// use threadkit::{Error, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(1)?;
/// pool.shutdown(true, false)?;
/// fn seven() -> i32 {
///     7
/// }
/// let err: Error = pool.submit(seven as fn() -> i32).unwrap_err().into();
/// let Error::Submit(refused) = err else { panic!("a submit error") };
/// assert!(refused.to_string().contains("after shutdown"));
/// let task = refused.into_inner::<fn() -> i32>().ok().expect("the task comes back");
/// assert_eq!(task(), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RefusedTask {
    message: String,
    /// The task or value; a `Mutex` only so that the error is `Sync`.
    inner: Mutex<Box<dyn Any + Send>>,
}

impl RefusedTask {
    fn new<T: Send + 'static>(message: String, inner: T) -> Self {
        RefusedTask {
            message,
            inner: Mutex::new(Box::new(inner)),
        }
    }

    /// The refused task (or value) as `T`; `Err(self)`, unchanged, if it is not a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::Error;
    /// use threadkit::futures::TaskFuture;
    ///
    /// let f = TaskFuture::new();
    /// f.set_result(1u8)?;
    /// let err: Error = f.set_result(9u8).unwrap_err().into();
    /// let Error::Set(refused) = err else { panic!("a set error") };
    /// let refused = refused.into_inner::<u32>().unwrap_err(); // the wrong type: nothing lost
    /// assert_eq!(refused.into_inner::<u8>().ok(), Some(9));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner<T: 'static>(self) -> Result<T, Self> {
        let inner = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        match inner.downcast::<T>() {
            Ok(t) => Ok(*t),
            Err(inner) => Err(RefusedTask {
                message: self.message,
                inner: Mutex::new(inner),
            }),
        }
    }
}

impl fmt::Debug for RefusedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefusedTask")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for RefusedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RefusedTask {}

impl From<ThreadPanic> for Error {
    /// As a [`JoinError::Panicked`].
    fn from(p: ThreadPanic) -> Self {
        Error::Join(Box::new(JoinError::Panicked(p)))
    }
}

impl<T: Send + 'static> From<PutError<T>> for Error {
    fn from(e: PutError<T>) -> Self {
        let (message, queue) = (e.to_string(), e.queue());
        Error::Put(RefusedItem::new(
            Refusal::ShutDown,
            queue,
            message,
            e.into_inner(),
        ))
    }
}

impl<T: Send + 'static> From<TryPutError<T>> for Error {
    fn from(e: TryPutError<T>) -> Self {
        let why = if e.is_full() {
            Refusal::Full
        } else {
            Refusal::ShutDown
        };
        let (message, queue) = (e.to_string(), e.queue());
        Error::Put(RefusedItem::new(why, queue, message, e.into_inner()))
    }
}

impl<T: Send + 'static> From<PutTimeoutError<T>> for Error {
    fn from(e: PutTimeoutError<T>) -> Self {
        let why = if e.is_timeout() {
            Refusal::Timeout
        } else {
            Refusal::ShutDown
        };
        let (message, queue) = (e.to_string(), e.queue());
        Error::Put(RefusedItem::new(why, queue, message, e.into_inner()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    Full,
    ShutDown,
    Timeout,
}

/// A queue's put error inside [`Error::Put`], with the refused item kept type-erased:
/// [`into_item`](RefusedItem::into_item) gives it back.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
/// use threadkit::Error;
///
/// let q = Queue::new(1);
/// q.put(String::from("first"))?;
/// let err: Error = q.try_put(String::from("second")).unwrap_err().into();
/// let Error::Put(refused) = err else { panic!("a put error") };
/// assert!(refused.is_full());
/// assert_eq!(refused.queue(), q.id());
/// assert_eq!(refused.to_string(), q.try_put(String::new()).unwrap_err().to_string());
/// assert_eq!(refused.into_item::<String>().ok(), Some(String::from("second")));
/// # Ok::<(), Error>(())
/// ```
pub struct RefusedItem {
    why: Refusal,
    queue: QueueId,
    message: String,
    /// The item; a `Mutex` only so that the error is `Sync` (reached through `self` by value).
    item: Mutex<Box<dyn Any + Send>>,
}

impl RefusedItem {
    fn new<T: Send + 'static>(why: Refusal, queue: QueueId, message: String, item: T) -> Self {
        RefusedItem {
            why,
            queue,
            message,
            item: Mutex::new(Box::new(item)),
        }
    }

    /// The queue that refused the item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadkit::queue::Queue::new(0);
    /// q.shutdown();
    /// let threadkit::Error::Put(e) = q.put(1).unwrap_err().into() else { unreachable!() };
    /// assert_eq!(e.queue(), q.id());
    /// ```
    pub fn queue(&self) -> QueueId {
        self.queue
    }

    /// True if the queue was full (a `try_put`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadkit::queue::Queue::new(1);
    /// q.put(1)?;
    /// let threadkit::Error::Put(e) = q.try_put(2).unwrap_err().into() else { unreachable!() };
    /// assert!(e.is_full());
    /// # Ok::<(), threadkit::Error>(())
    /// ```
    pub fn is_full(&self) -> bool {
        self.why == Refusal::Full
    }

    /// True if the queue was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadkit::queue::Queue::new(0);
    /// q.shutdown();
    /// let threadkit::Error::Put(e) = q.put(1).unwrap_err().into() else { unreachable!() };
    /// assert!(e.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.why == Refusal::ShutDown
    }

    /// True if a `put_timeout` found no room in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = threadkit::queue::Queue::new(1);
    /// q.put(1)?;
    /// let err = q.put_timeout(2, Duration::ZERO).unwrap_err();
    /// let threadkit::Error::Put(e) = err.into() else { unreachable!() };
    /// assert!(e.is_timeout());
    /// # Ok::<(), threadkit::Error>(())
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.why == Refusal::Timeout
    }

    /// The refused item as the queue's item type `T`; `Err(self)`, unchanged, if `T` is not
    /// that type.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadkit::queue::Queue::new(0);
    /// q.shutdown();
    /// let threadkit::Error::Put(e) = q.put(7u64).unwrap_err().into() else { unreachable!() };
    /// let e = e.into_item::<i32>().unwrap_err(); // the wrong type: nothing lost
    /// assert_eq!(e.into_item::<u64>().ok(), Some(7));
    /// ```
    pub fn into_item<T: 'static>(self) -> Result<T, Self> {
        let item = self.item.into_inner().unwrap_or_else(|e| e.into_inner());
        match item.downcast::<T>() {
            Ok(item) => Ok(*item),
            Err(item) => Err(RefusedItem {
                item: Mutex::new(item),
                ..self
            }),
        }
    }
}

impl fmt::Debug for RefusedItem {
    /// As the put errors' `Debug`: the message, not the item (which need not be `Debug`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefusedItem")
            .field("queue", &self.queue)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for RefusedItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RefusedItem {}
