//! [`Queue`]: first in, first out, as Python's `queue.Queue`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::api::{shared_api, tracked_api};
use super::array::{ARRAY_MAX, Array};
use super::choice::{Core, Two};
use super::common::{Refused, Wait};
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
/// Fast: a bounded queue of up to 1 024 items is a ring of slots that a put or get claims
/// with one atomic compare-and-swap, spinning briefly rather than sleeping when the queue is
/// full or empty for a moment (as crossbeam-channel's bounded channel). An unbounded queue
/// (and a larger bound) has two locks, one at each end, so producers and consumers do not
/// slow each other down, and a consumer that finds its end empty takes every item queued
/// since in one step. Either wakes another thread only if one is actually asleep. A thread blocked in `get`,
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
        let core = if (1..=RING_MAX).contains(&maxsize) {
            Two::A(Array::new("Queue", maxsize))
        } else {
            Two::B(Split::new("Queue", maxsize))
        };
        Queue {
            core: Arc::new(core),
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
    /// let bounded: threadkit::queue::Queue<u8> = threadkit::queue::Queue::named(10, "work");
    /// assert_eq!(bounded.id().name(), Some("work"));
    /// ```
    pub fn named(maxsize: usize, name: &'static str) -> Self {
        let core = if (1..=RING_MAX).contains(&maxsize) {
            Two::A(Array::new("Queue", maxsize).with_name(name))
        } else {
            Two::B(Split::new("Queue", maxsize).with_name(name))
        };
        Queue {
            core: Arc::new(core),
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

/// The core behind a [`Queue`]: the slot ring for bounds up to [`RING_MAX`] (it holds up
/// where a full or empty queue is the common case: small bounds), the two-lock core for an
/// unbounded queue or a larger bound (it grows on demand, and batches the hand-off).
type Fifo<T> = Two<Array<T>, Split<T, VecDeque<T>>>;

/// The largest bound served by the ring. In the queue matrix (BENCHMARKS.md) the ring ran
/// 1.1 to 2.5 times crossbeam's throughput at bound 64 where the two-lock core ran 0.04 to
/// 0.33. At bound 1024 the ring first lost (0.2 to 0.5 of crossbeam at 1x1 and 2x2: a
/// producer kept a full ring full and met the getter on every slot); since putters wait for
/// room for a batch, the ring runs 1.3 to 2.3 times crossbeam there in the matrix (medians
/// of 12 rounds, 1x1 to 8x8), where the two-lock core ran 0.5 to 1.8, and level with the
/// two-lock core in the 1P1C and 2P2C criterion rows.
const RING_MAX: usize = 1024;
const _: () = assert!(RING_MAX <= ARRAY_MAX);
