//! [`PriorityQueue`]: lowest first, as Python's `queue.PriorityQueue`, and stable.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use super::core::{Buffer, Core, Refused, Wait, shared_api, tracked_api};
use super::error::{
    GetError, GetTimeoutError, PutError, PutTimeoutError, QueueId, TaskDoneError, TryGetError,
    TryPutError,
};
use super::iter::{Iter, TryIter};

/// The most the buffer reserves up front for a bounded queue; it grows past this on demand.
const PREALLOCATE_MAX: usize = 1024;

/// An item and its arrival number, ordered so that std's max-heap pops the lowest item, and
/// among equal items the one that came first.
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T: Ord> Ord for Entry<T> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .item
            .cmp(&self.item)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<T: Ord> PartialOrd for Entry<T> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> PartialEq for Entry<T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Entry<T> {}

/// The priority queue's buffer: a binary heap and the next arrival number.
pub(crate) struct Heap<T> {
    heap: BinaryHeap<Entry<T>>,
    next_seq: u64,
}

impl<T: Ord> Buffer for Heap<T> {
    type Item = T;

    fn for_maxsize(maxsize: usize) -> Self {
        Heap {
            heap: BinaryHeap::with_capacity(maxsize.min(PREALLOCATE_MAX)),
            next_seq: 0,
        }
    }

    #[inline]
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        self.heap.push(Entry { item, seq });
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.heap.pop().map(|e| e.item)
    }

    #[inline]
    fn len(&self) -> usize {
        self.heap.len()
    }

    fn take_all(&mut self) -> Self {
        Heap {
            heap: std::mem::take(&mut self.heap),
            next_seq: self.next_seq,
        }
    }

    fn into_pop_order(self) -> Vec<T> {
        // Ascending in `Entry`'s order is the reverse of the pop order.
        let sorted = self.heap.into_sorted_vec();
        sorted.into_iter().rev().map(|e| e.item).collect()
    }
}

/// A queue that hands out its lowest item first, as Python's `queue.PriorityQueue` (which
/// uses `heapq`), shared between threads.
///
/// Items that compare equal come out in the order they were put: the queue numbers every
/// item on arrival and breaks ties by that number. (Python does not promise this; a common
/// idiom there puts `(priority, counter, item)` tuples to get it.) Put `(priority, item)`
/// tuples, or any `Ord` type (for instance a job ordered by its priority field only); wrap
/// in [`std::cmp::Reverse`] for highest first.
///
/// Everything else is as for [`Queue`](super::Queue): a cheap `Clone` handle, optional bound,
/// blocking/timed/non-blocking operations, `task_done`/`join`, shutdown, iteration.
///
/// # Differences from Python
///
/// As for [`Queue`](super::Queue#differences-from-python), and: stable among equal
/// items; items need `Ord` instead of `<`.
///
/// # Examples
///
/// ```
/// use std::cmp::Ordering;
/// use threadkit::queue::PriorityQueue;
///
/// /// Ordered by priority only: jobs of equal priority compare equal.
/// #[derive(Debug, PartialEq, Eq)]
/// struct Job { priority: u8, what: &'static str }
/// impl Ord for Job {
///     fn cmp(&self, other: &Self) -> Ordering { self.priority.cmp(&other.priority) }
/// }
/// impl PartialOrd for Job {
///     fn partial_cmp(&self, other: &Self) -> Option<Ordering> { Some(self.cmp(other)) }
/// }
///
/// let q = PriorityQueue::new(0);
/// q.put(Job { priority: 2, what: "write report" })?;
/// q.put(Job { priority: 1, what: "fix the build" })?;
/// q.put(Job { priority: 2, what: "answer mail" })?;
/// assert_eq!(q.get()?.what, "fix the build");
/// assert_eq!(q.get()?.what, "write report"); // equal priority: in order of arrival
/// assert_eq!(q.get()?.what, "answer mail");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PriorityQueue<T> {
    core: Arc<Core<Heap<T>>>,
}

impl<T: Ord> PriorityQueue<T> {
    /// A new priority queue holding at most `maxsize` items; `0` means unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::PriorityQueue<u32> = threadkit::queue::PriorityQueue::new(0);
    /// assert_eq!(q.maxsize(), 0);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        PriorityQueue {
            core: Arc::new(Core::new("PriorityQueue", maxsize)),
        }
    }
}

impl<T: Ord> Default for PriorityQueue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        PriorityQueue::new(0)
    }
}

shared_api!(PriorityQueue, "PriorityQueue::new(0)", Ord);
tracked_api!(PriorityQueue, Ord);
