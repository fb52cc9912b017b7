//! Iterators that take items out of a queue: [`Iter`] (waits, ends at shutdown) and
//! [`TryIter`] (takes what is there now).

use std::fmt;
use std::iter::FusedIterator;
use std::panic::Location;

use super::common::Source;

/// Takes items from a queue with [`get`](crate::queue::Queue::get) until the queue is shut
/// down and empty. Made by `iter()` on any queue, or by `for item in &queue`.
///
/// While it waits for an item, the thread's wait record shows the line where the iterator
/// was made (the `for` line).
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(0);
/// let worker = q.clone();
/// let t = threadkit::Thread::new(move || {
///     let mut seen = Vec::new();
///     for word in &worker {
///         seen.push(word);
///     }
///     assert_eq!(seen, ["One", "Two"]);
/// });
/// t.start()?;
/// q.put("One")?;
/// q.put("Two")?;
/// q.shutdown(); // the worker drains the queue, then its loop ends
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "iterators are lazy and take nothing unless consumed"]
pub struct Iter<'a, T> {
    src: &'a dyn Source<T>,
    location: &'static Location<'static>,
    done: bool,
}

impl<'a, T> Iter<'a, T> {
    pub(crate) fn new(src: &'a dyn Source<T>, location: &'static Location<'static>) -> Self {
        Iter {
            src,
            location,
            done: false,
        }
    }
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.done {
            return None;
        }
        let item = self.src.next_blocking(self.location);
        self.done = item.is_none();
        item
    }
}

impl<T> FusedIterator for Iter<'_, T> {}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("queue", &self.src.queue_id())
            .finish_non_exhaustive()
    }
}

/// Takes the items a queue holds now, without waiting; ends as soon as the queue is empty.
/// Made by `try_iter()` on any queue.
///
/// # Examples
///
/// ```
/// use threadkit::queue::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// for i in 1..=3 {
///     q.put(i)?;
/// }
/// assert_eq!(q.try_iter().collect::<Vec<_>>(), [3, 2, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "iterators are lazy and take nothing unless consumed"]
pub struct TryIter<'a, T> {
    src: &'a dyn Source<T>,
    location: &'static Location<'static>,
}

impl<'a, T> TryIter<'a, T> {
    pub(crate) fn new(src: &'a dyn Source<T>, location: &'static Location<'static>) -> Self {
        TryIter { src, location }
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.src.next_now(self.location)
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryIter")
            .field("queue", &self.src.queue_id())
            .finish_non_exhaustive()
    }
}
