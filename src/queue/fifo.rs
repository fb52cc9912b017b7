//! [`Queue`]: first in, first out, as Python's `queue.Queue`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::core::{Refused, Wait, shared_api, tracked_api};
use super::error::{
    GetError, GetTimeoutError, PutError, PutTimeoutError, QueueId, TaskDoneError, TryGetError,
    TryPutError,
};
use super::iter::{Iter, TryIter};
use super::split::Split;

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
/// Fast: the queue has two locks, one at each end, so producers and consumers do not slow
/// each other down; a put or get is one lock acquire and release around the buffer
/// operation, and a consumer that finds its end empty takes every item queued since in one
/// step. It wakes another thread only if one is actually asleep. A thread blocked in `get`,
/// `put` or `join` shows what it waits for in [`Thread::waiting`](crate::Thread::waiting).
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
    core: Arc<Split<T, VecDeque<T>>>,
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
            core: Arc::new(Split::new("Queue", maxsize)),
        }
    }

    /// A new queue named `name` (otherwise as [`new`](Queue::new)): the name shows in its
    /// [`id`](Queue::id), so in wait records, errors, thread dumps and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::Queue<u8> = threadkit::queue::Queue::named(0, "jobs");
    /// assert_eq!(q.id().name(), Some("jobs"));
    /// assert_eq!(q.id().to_string(), format!("Queue \"jobs\" at {:#x}", q.id().addr()));
    /// ```
    pub fn named(maxsize: usize, name: &'static str) -> Self {
        Queue {
            core: Arc::new(Split::new("Queue", maxsize).with_name(name)),
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
