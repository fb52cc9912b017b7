//! [`SimpleQueue`]: unbounded FIFO without task tracking, as Python's `queue.SimpleQueue`.

use std::sync::Arc;
use std::time::Duration;

use super::api::shared_api;
use super::common::{Refused, Wait};
use super::error::{GetError, GetTimeoutError, PutError, QueueId, TryGetError};
use super::iter::{Iter, TryIter};
use super::list::List;

/// An unbounded first-in, first-out queue without task tracking, as Python's
/// `queue.SimpleQueue`: `put` never waits, `get` waits for an item.
///
/// A cheap `Clone` handle like [`Queue`](super::Queue), with the same `get` family,
/// `qsize`/`empty`, shutdown and iteration, but no `maxsize`, `full`, `task_done` or `join`.
///
/// Lock-free: a put or get claims its slot in a list of slot blocks with one
/// compare-and-swap (crossbeam-channel's unbounded channel works the same way), so many
/// producers and consumers do not queue up behind one another, and one that loses its
/// processor mid-operation holds up nobody but the get of its own item. The thread pool keeps
/// its jobs in one, as Python's does. An unbounded [`Queue`](super::Queue) has two locks
/// instead, and its consumer takes every item queued since its last look in one step: in a
/// stream of items it moves more per second (BENCHMARKS.md's queue matrix, 2 cores: level
/// with this queue with one producer and one consumer, both about 1.9 times crossbeam's
/// channel; 1.2-1.4 times this queue with 2 to 8 of each, where this one runs at 0.86-0.93
/// of crossbeam's), while this queue answers a request sooner (a request and its reply
/// through two queues: 0.74 of `Queue`'s time) and never makes a thread wait for a lock
/// holder that lost its processor.
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
    core: Arc<List<T>>,
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
            core: Arc::new(List::new("SimpleQueue")),
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
            core: Arc::new(List::new("SimpleQueue").with_name(name)),
        }
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        SimpleQueue::new()
    }
}

shared_api!(SimpleQueue, "SimpleQueue::new()",);
