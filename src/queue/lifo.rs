//! [`LifoQueue`]: last in, first out, as Python's `queue.LifoQueue`.

use std::sync::Arc;
use std::time::Duration;

use super::api::{shared_api, tracked_api};
use super::common::{PREALLOCATE_MAX, Refused, Wait};
use super::error::{
    GetError, GetTimeoutError, PutError, PutTimeoutError, QueueId, TaskDoneError, TryGetError,
    TryPutError,
};
use super::iter::{Iter, TryIter};
use super::onelock::{Buffer, OneLock};

impl<T> Buffer for Vec<T> {
    type Item = T;

    fn for_maxsize(maxsize: usize) -> Self {
        Vec::with_capacity(maxsize.min(PREALLOCATE_MAX))
    }

    #[inline]
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }

    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn take_all(&mut self) -> Self {
        std::mem::take(self)
    }

    fn into_pop_order(mut self) -> Vec<T> {
        self.reverse();
        self
    }
}

/// A last-in, first-out queue (a stack) shared between threads, as Python's
/// `queue.LifoQueue`: `get` returns the item put most recently.
///
/// Everything else is as for [`Queue`](super::Queue): a cheap `Clone` handle, optional bound,
/// blocking/timed/non-blocking operations, `task_done`/`join`, shutdown, iteration.
///
/// # Differences from Python
///
/// As for [`Queue`](super::Queue#differences-from-python).
///
/// # Examples
///
/// ```
/// use threadkit::queue::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// for page in ["home", "docs", "api"] {
///     q.put(page)?;
/// }
/// assert_eq!(q.get()?, "api");
/// assert_eq!(q.get()?, "docs");
/// assert_eq!(q.shutdown_immediate(), ["home"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LifoQueue<T> {
    core: Arc<OneLock<Vec<T>>>,
}

impl<T> LifoQueue<T> {
    /// A new LIFO queue holding at most `maxsize` items; `0` means unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::LifoQueue<u32> = threadkit::queue::LifoQueue::new(5);
    /// assert_eq!(q.maxsize(), 5);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        LifoQueue {
            core: Arc::new(OneLock::new("LifoQueue", maxsize)),
        }
    }

    /// A new queue named `name` (otherwise as [`new`](LifoQueue::new)): the name shows in its
    /// [`id`](LifoQueue::id), so in wait records, errors, thread dumps and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::LifoQueue<u8> = threadkit::queue::LifoQueue::named(5, "stack");
    /// assert_eq!(q.id().name(), Some("stack"));
    /// ```
    pub fn named(maxsize: usize, name: &'static str) -> Self {
        LifoQueue {
            core: Arc::new(OneLock::new("LifoQueue", maxsize).with_name(name)),
        }
    }
}

impl<T> Default for LifoQueue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        LifoQueue::new(0)
    }
}

shared_api!(LifoQueue, "LifoQueue::new(0)",);
tracked_api!(LifoQueue,);
