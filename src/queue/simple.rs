//! [`SimpleQueue`]: unbounded FIFO without task tracking, as Python's `queue.SimpleQueue`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::api::shared_api;
use super::common::{Refused, Wait};
use super::error::{GetError, GetTimeoutError, PutError, QueueId, TryGetError};
use super::iter::{Iter, TryIter};
use super::split::Split;

/// An unbounded first-in, first-out queue without task tracking, as Python's
/// `queue.SimpleQueue`: `put` never waits, `get` waits for an item.
///
/// A cheap `Clone` handle like [`Queue`](super::Queue), with the same `get` family,
/// `qsize`/`empty`, shutdown and iteration, but no `maxsize`, `full`, `task_done` or `join`.
///
/// # Differences from Python
///
/// - Python's `SimpleQueue` has no `shutdown`; this one has (the same as
///   [`Queue::shutdown`](super::Queue::shutdown)), so that a `for item in &queue` worker loop
///   can end. So `put` returns a `Result`: it fails only after a shutdown, handing the item
///   back.
/// - `put_nowait` and `put(block, timeout)` are just [`put`](SimpleQueue::put), which never
///   waits.
///
/// # Examples
///
/// ```
/// use threadkit::queue::SimpleQueue;
///
/// let results = SimpleQueue::new();
/// let mut threads = Vec::new();
/// for i in 0..4u64 {
///     let results = results.clone();
///     let t = threadkit::Thread::new(move || results.put(i * i).unwrap());
///     t.start()?;
///     threads.push(t);
/// }
/// for t in threads {
///     t.join()?;
/// }
/// assert_eq!(results.try_iter().sum::<u64>(), 0 + 1 + 4 + 9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SimpleQueue<T> {
    core: Arc<Split<T, VecDeque<T>>>,
}

impl<T> SimpleQueue<T> {
    /// A new, empty, unbounded queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::SimpleQueue<u8> = threadkit::queue::SimpleQueue::new();
    /// assert!(q.empty());
    /// ```
    pub fn new() -> Self {
        SimpleQueue {
            core: Arc::new(Split::new("SimpleQueue", 0)),
        }
    }

    /// A new queue named `name` (otherwise as [`new`](SimpleQueue::new)): the name shows in its
    /// [`id`](SimpleQueue::id), so in wait records, errors, thread dumps and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::SimpleQueue<u8> = threadkit::queue::SimpleQueue::named("log");
    /// assert_eq!(q.id().name(), Some("log"));
    /// ```
    pub fn named(name: &'static str) -> Self {
        SimpleQueue {
            core: Arc::new(Split::new("SimpleQueue", 0).with_name(name)),
        }
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        SimpleQueue::new()
    }
}

shared_api!(SimpleQueue, "SimpleQueue::new()",);
