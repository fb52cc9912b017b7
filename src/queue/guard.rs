//! [`ShutdownGuard`]: shuts a queue down when it is dropped, also by a panic's unwinding, so a
//! producer that fails cannot leave its consumers waiting forever.

use std::fmt;
use std::ops::Deref;

/// Shuts its queue down when dropped: at the end of the scope that holds it, or while a panic
/// unwinds through that scope. Made by `shutdown_guard()` on every queue type
/// ([`Queue::shutdown_guard`](super::Queue::shutdown_guard),
/// [`LifoQueue`](super::LifoQueue::shutdown_guard),
/// [`PriorityQueue`](super::PriorityQueue::shutdown_guard),
/// [`SimpleQueue`](super::SimpleQueue::shutdown_guard)).
///
/// A consumer loop `for item in &q` ends once the queue is shut down and drained; if the
/// producer panics before it calls [`shutdown`](super::Queue::shutdown), nothing ends that
/// loop. A producer that holds a guard shuts the queue down however it ends. The shutdown is
/// the plain one: items already put are still delivered.
///
/// The guard holds its own handle to the queue (a clone), so it can move into the producer
/// thread, and it derefs to the queue: `guard.put(x)` puts into it. With several producers,
/// one guard shuts the queue down for all of them: give it to the code that ends when they
/// all have (for example the thread that joins them).
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
/// use threadkit::Thread;
///
/// let q = Queue::new(0);
/// let producer = {
///     let q = q.shutdown_guard(); // moves into the producer
///     Thread::new(move || {
///         q.put(1).unwrap();
///         q.put(2).unwrap();
///         panic!("the producer failed"); // the guard shuts the queue down on the way out
///     })
/// };
/// # threadkit::set_excepthook(|_, _| {}); // keep the doctest's output quiet
/// producer.start()?;
/// // Without the guard, this loop would wait for a third item forever.
/// let got: Vec<i32> = q.iter().collect();
/// assert_eq!(got, [1, 2]);
/// assert!(producer.join().is_err());
/// # threadkit::reset_excepthook();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard at once shuts the queue down at once"]
pub struct ShutdownGuard<Q> {
    queue: Q,
    shutdown: fn(&Q),
}

impl<Q> ShutdownGuard<Q> {
    /// A guard that calls `shutdown(&queue)` when dropped.
    pub(crate) fn new(queue: Q, shutdown: fn(&Q)) -> Self {
        ShutdownGuard { queue, shutdown }
    }

    /// The queue the guard shuts down (also reached through `Deref`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadkit::queue::SimpleQueue::new();
    /// let guard = q.shutdown_guard();
    /// guard.queue().put("x")?;
    /// drop(guard);
    /// assert!(q.is_shut_down());
    /// assert_eq!(q.get()?, "x");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue(&self) -> &Q {
        &self.queue
    }
}

impl<Q> Deref for ShutdownGuard<Q> {
    type Target = Q;

    fn deref(&self) -> &Q {
        &self.queue
    }
}

impl<Q> Drop for ShutdownGuard<Q> {
    fn drop(&mut self) {
        (self.shutdown)(&self.queue);
    }
}

impl<Q: fmt::Debug> fmt::Debug for ShutdownGuard<Q> {
    /// The queue's `Debug`; never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownGuard")
            .field("queue", &self.queue)
            .finish()
    }
}
