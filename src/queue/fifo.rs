//! [`Queue`]: first in, first out, as Python's `queue.Queue`.

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use super::core::{Buffer, Core, Refused, Source, Wait, shared_api, tracked_api};
use super::error::{
    GetError, GetTimeoutError, PutError, PutTimeoutError, QueueId, TaskDoneError, TryGetError,
    TryPutError,
};
use super::iter::{Iter, TryIter};
use super::split::Split;

/// The most the buffer reserves up front for a bounded queue; it grows past this on demand.
const PREALLOCATE_MAX: usize = 1024;

impl<T> Buffer for VecDeque<T> {
    type Item = T;

    fn for_maxsize(maxsize: usize) -> Self {
        VecDeque::with_capacity(maxsize.min(PREALLOCATE_MAX))
    }

    #[inline]
    fn push(&mut self, item: T) {
        self.push_back(item);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }

    #[inline]
    fn len(&self) -> usize {
        VecDeque::len(self)
    }

    fn take_all(&mut self) -> Self {
        std::mem::take(self)
    }

    fn into_pop_order(self) -> Vec<T> {
        Vec::from(self) // reuses the buffer
    }
}

/// A FIFO queue's core: the one-lock core when bounded (where getters and putters wait for
/// each other), the two-lock [`Split`] core when unbounded (see its module docs).
pub(crate) enum Fifo<T> {
    Bounded(Core<VecDeque<T>>),
    Unbounded(Split<T>),
}

/// Calls `$call` on whichever core `$fifo` holds.
macro_rules! dispatch {
    ($fifo:expr, $core:ident => $call:expr) => {
        match $fifo {
            Fifo::Bounded($core) => $call,
            Fifo::Unbounded($core) => $call,
        }
    };
}

impl<T> Fifo<T> {
    fn new(maxsize: usize) -> Self {
        match maxsize {
            0 => Fifo::Unbounded(Split::new("Queue")),
            _ => Fifo::Bounded(Core::new("Queue", maxsize)),
        }
    }

    pub(crate) fn id(&self) -> QueueId {
        dispatch!(self, c => c.id())
    }

    pub(crate) fn maxsize(&self) -> usize {
        match self {
            Fifo::Bounded(c) => c.maxsize(),
            Fifo::Unbounded(_) => 0,
        }
    }

    #[inline]
    pub(crate) fn qsize(&self) -> usize {
        dispatch!(self, c => c.qsize())
    }

    #[inline]
    pub(crate) fn full(&self) -> bool {
        match self {
            Fifo::Bounded(c) => c.full(),
            Fifo::Unbounded(_) => false,
        }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn put(
        &self,
        item: T,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (T, Refused)> {
        dispatch!(self, c => c.put(item, wait, location))
    }

    #[inline]
    #[track_caller]
    pub(crate) fn get(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, Refused> {
        dispatch!(self, c => c.get(wait, location))
    }

    pub(crate) fn unfinished(&self) -> usize {
        dispatch!(self, c => c.unfinished())
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        dispatch!(self, c => c.task_done())
    }

    #[track_caller]
    pub(crate) fn join(&self, wait: Wait, location: &'static Location<'static>) -> bool {
        dispatch!(self, c => c.join(wait, location))
    }

    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<T> {
        dispatch!(self, c => c.shutdown(immediate))
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        dispatch!(self, c => c.is_shut_down())
    }

    pub(crate) fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        dispatch!(self, c => c.debug_fields(f, name))
    }
}

impl<T: Send> Source<T> for Fifo<T> {
    fn next_blocking(&self, location: &'static Location<'static>) -> Option<T> {
        self.get(Wait::Forever, location).ok()
    }

    fn next_now(&self, location: &'static Location<'static>) -> Option<T> {
        self.get(Wait::Poll, location).ok()
    }

    fn queue_id(&self) -> QueueId {
        self.id()
    }
}

/// A first-in, first-out queue for passing items between threads, as Python's
/// `queue.Queue`: optionally bounded, with blocking, timed and non-blocking `put` and `get`,
/// task tracking (`task_done`/`join`) and shutdown.
///
/// A `Queue` is a handle: [`clone`](Clone::clone) it (one `Arc` increment) to give each
/// thread its own; every method takes `&self`. The queue lives until the last handle is
/// dropped.
///
/// `put` blocks while a bounded queue is full; `get` blocks while it is empty. Every `put`
/// counts an unfinished task, [`task_done`](Queue::task_done) marks one finished, and
/// [`join`](Queue::join) waits until none is left. [`shutdown`](Queue::shutdown) ends it: puts
/// fail (handing the item back), gets drain what is left and then fail, and `for item in
/// &queue` loops end.
///
/// Fast: a put or get is one lock acquire and release around the buffer operation, and wakes
/// another thread only if one is actually asleep. An unbounded queue has two locks, one at
/// each end, so producers and consumers do not slow each other down: a consumer that finds
/// its end empty takes every item queued since in one step. A thread blocked in `get`, `put` or `join`
/// shows what it waits for in [`Thread::waiting`](crate::Thread::waiting).
///
/// A queue can go to other threads only if its items can (`T: Send`):
///
/// ```compile_fail
/// use std::rc::Rc;
/// let q = threadkit::queue::Queue::new(0);
/// q.put(Rc::new(1)).unwrap();
/// let t = threadkit::Thread::new(move || drop(q.get())); // Rc is not Send
/// ```
///
/// # Differences from Python
///
/// - `put(item, block=False)`/`put_nowait` is [`try_put`](Queue::try_put), `put(item,
///   timeout=t)` is [`put_timeout`](Queue::put_timeout); likewise [`try_get`](Queue::try_get)
///   and [`get_timeout`](Queue::get_timeout). Errors are values, not exceptions, and every
///   refused item comes back inside the error.
/// - `shutdown(immediate=True)` is [`shutdown_immediate`](Queue::shutdown_immediate), which
///   returns the removed items instead of discarding them.
/// - [`qsize`](Queue::qsize), [`empty`](Queue::empty) and [`full`](Queue::full) read a counter
///   without taking the lock (Python's are just as approximate).
/// - `task_done` called too often returns [`TaskDoneError`] instead of raising `ValueError`.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
/// use threadkit::Thread;
///
/// let q = Queue::new(10);
/// let done = Queue::new(0);
/// let mut workers = Vec::new();
/// for _ in 0..3 {
///     let (q, done) = (q.clone(), done.clone());
///     let t = Thread::new(move || {
///         for n in &q {
///             done.put(n * 2).unwrap();
///             q.task_done().unwrap();
///         }
///     });
///     t.start()?;
///     workers.push(t);
/// }
/// for n in 1..=100 {
///     q.put(n)?; // waits whenever 10 items are queued
/// }
/// q.join(); // all 100 processed
/// q.shutdown(); // the workers' loops end
/// for t in workers {
///     t.join()?;
/// }
/// assert_eq!(done.try_iter().sum::<i32>(), 2 * 5050);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Queue<T> {
    core: Arc<Fifo<T>>,
}

impl<T> Queue<T> {
    /// A new FIFO queue holding at most `maxsize` items; `0` means unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::Queue<String> = threadkit::queue::Queue::new(0);
    /// assert_eq!(q.maxsize(), 0);
    /// assert!(!q.full());
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Queue {
            core: Arc::new(Fifo::new(maxsize)),
        }
    }
}

impl<T> Default for Queue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        Queue::new(0)
    }
}

shared_api!(Queue, "Queue::new(0)",);
tracked_api!(Queue,);
