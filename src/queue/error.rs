//! The queue errors: one type per operation, each naming the queue, and every error that
//! refuses an item handing it back ([`into_inner`](PutError::into_inner)).
//!
//! None of them needs `T: Debug`: their `Debug` shows the queue and elides the item, so a
//! `Result<(), PutError<MyJob>>` can be `unwrap`ped or `?`-ed whatever `MyJob` is.

use std::error::Error;
use std::fmt;

use crate::threading::record::{ObjectId, ObjectKind};
use crate::threading::registry;

/// Which queue an error (or a wait record) is about: the crate-wide [`ObjectId`] (another
/// name for it, kept for the queue module), whose [`kind`](ObjectId::kind) is the queue's type
/// and whose address is the same a blocked thread's
/// [`WaitInfo::object`](crate::WaitInfo::object) shows.
///
/// Displays as `Queue at 0x5581c3a0`, in `Debug` too.
///
/// # Examples
///
/// ```
/// use threadkit::ObjectKind;
/// use threadkit::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
///
/// let q = Queue::new(1);
/// q.put(1)?;
/// let err = q.try_put(2).unwrap_err();
/// assert_eq!(err.queue().kind(), ObjectKind::Queue);
/// assert_eq!(err.queue(), q.id());
/// assert!(err.to_string().starts_with("put_nowait on full Queue at 0x"));
/// assert_eq!(LifoQueue::<u8>::new(0).id().kind(), ObjectKind::LifoQueue);
/// assert_eq!(PriorityQueue::<u8>::new(0).id().kind(), ObjectKind::PriorityQueue);
/// assert_eq!(SimpleQueue::<u8>::new().id().kind(), ObjectKind::SimpleQueue);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type QueueId = ObjectId;

/// The id of the queue of type `kind` (`"Queue"`, `"LifoQueue"`, `"PriorityQueue"` or
/// `"SimpleQueue"`, as the cores are built with) at `addr`.
pub(crate) fn queue_id(kind: &'static str, addr: usize) -> ObjectId {
    let kind = match kind {
        "LifoQueue" => ObjectKind::LifoQueue,
        "PriorityQueue" => ObjectKind::PriorityQueue,
        "SimpleQueue" => ObjectKind::SimpleQueue,
        _ => ObjectKind::Queue,
    };
    ObjectId::new(kind, addr)
}

/// [`put`](crate::queue::Queue::put) on a queue that is shut down, before or while the put
/// waited for room (Python's `queue.ShutDown`). Holds the refused item.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(0);
/// q.shutdown();
/// let err = q.put(String::from("job")).unwrap_err();
/// assert!(err.to_string().starts_with("put on shut-down Queue"));
/// assert_eq!(err.into_inner(), "job"); // nothing is lost
/// ```
pub struct PutError<T> {
    item: T,
    queue: QueueId,
}

impl<T> PutError<T> {
    pub(crate) fn new(item: T, queue: QueueId) -> Self {
        PutError { item, queue }
    }

    /// The refused item, handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.shutdown();
    /// let err = q.put(vec![1, 2, 3]).unwrap_err();
    /// assert_eq!(err.into_inner(), [1, 2, 3]);
    /// ```
    pub fn into_inner(self) -> T {
        self.item
    }

    /// The queue that refused it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// let handle = q.clone();
    /// handle.shutdown();
    /// let err = q.put('x').unwrap_err();
    /// assert_eq!(err.queue(), q.id());
    /// assert_eq!(err.queue(), handle.id()); // the same queue, whichever handle
    /// ```
    pub fn queue(&self) -> QueueId {
        self.queue
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutError")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "put on shut-down {}", self.queue)
    }
}

impl<T> Error for PutError<T> {}

/// Why [`try_put`](crate::queue::Queue::try_put) (Python's `put_nowait`) refused an item,
/// with the item.
///
/// # Examples
///
/// ```
/// use threadkit::queue::{Queue, TryPutError};
///
/// let q = Queue::new(1);
/// q.try_put(1)?;
/// match q.try_put(2) {
///     Err(TryPutError::Full { item, .. }) => assert_eq!(item, 2),
///     other => panic!("expected Full, got {other:?}"),
/// }
/// q.shutdown();
/// let err = q.try_put(3).unwrap_err();
/// assert!(err.is_shut_down());
/// assert_eq!(err.into_inner(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum TryPutError<T> {
    /// The queue is full (Python's `queue.Full`).
    Full {
        /// The refused item.
        item: T,
        /// The queue.
        queue: QueueId,
    },
    /// The queue is shut down (Python's `queue.ShutDown`).
    ShutDown {
        /// The refused item.
        item: T,
        /// The queue.
        queue: QueueId,
    },
}

impl<T> TryPutError<T> {
    /// The refused item, handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.try_put("first")?;
    /// assert_eq!(q.try_put("second").unwrap_err().into_inner(), "second"); // full
    /// q.shutdown();
    /// assert_eq!(q.try_put("third").unwrap_err().into_inner(), "third"); // shut down
    /// assert_eq!(q.get()?, "first");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full { item, .. } | TryPutError::ShutDown { item, .. } => item,
        }
    }

    /// True if the queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.try_put(1)?;
    /// let err = q.try_put(2).unwrap_err();
    /// assert!(err.is_full());
    /// assert!(!err.is_shut_down());
    /// assert_eq!(err.to_string(), format!("put_nowait on full {}", q.id()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full { .. })
    }

    /// True if the queue was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0); // unbounded: never full
    /// q.shutdown();
    /// let err = q.try_put(1).unwrap_err();
    /// assert!(err.is_shut_down());
    /// assert!(!err.is_full());
    /// assert_eq!(err.to_string(), format!("put_nowait on shut-down {}", q.id()));
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, TryPutError::ShutDown { .. })
    }

    /// The queue that refused the item.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::LifoQueue;
    ///
    /// let q = LifoQueue::new(1);
    /// q.try_put(1)?;
    /// let err = q.try_put(2).unwrap_err();
    /// assert_eq!(err.queue(), q.id());
    /// assert_eq!(err.queue().kind().as_str(), "LifoQueue");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue(&self) -> QueueId {
        match self {
            TryPutError::Full { queue, .. } | TryPutError::ShutDown { queue, .. } => *queue,
        }
    }
}

impl<T> From<PutError<T>> for TryPutError<T> {
    fn from(e: PutError<T>) -> Self {
        TryPutError::ShutDown {
            item: e.item,
            queue: e.queue,
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.is_full() { "Full" } else { "ShutDown" };
        f.debug_struct(name)
            .field("queue", &self.queue())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full { queue, .. } => write!(f, "put_nowait on full {queue}"),
            TryPutError::ShutDown { queue, .. } => write!(f, "put_nowait on shut-down {queue}"),
        }
    }
}

impl<T> Error for TryPutError<T> {}

/// Why [`put_timeout`](crate::queue::Queue::put_timeout) refused an item, with the item.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::queue::{PutTimeoutError, Queue};
///
/// let q = Queue::new(1);
/// q.put('a')?;
/// let err = q.put_timeout('b', Duration::from_millis(10)).unwrap_err();
/// assert!(err.is_timeout());
/// assert!(matches!(err, PutTimeoutError::Timeout { item: 'b', .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub enum PutTimeoutError<T> {
    /// No room was made before the timeout (Python's `queue.Full`).
    Timeout {
        /// The refused item.
        item: T,
        /// The queue.
        queue: QueueId,
    },
    /// The queue is shut down (Python's `queue.ShutDown`).
    ShutDown {
        /// The refused item.
        item: T,
        /// The queue.
        queue: QueueId,
    },
}

impl<T> PutTimeoutError<T> {
    /// The refused item, handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.put(String::from("a"))?;
    /// let err = q.put_timeout(String::from("b"), Duration::ZERO).unwrap_err();
    /// assert_eq!(err.into_inner(), "b");
    /// assert_eq!(q.get()?, "a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutTimeoutError::Timeout { item, .. } | PutTimeoutError::ShutDown { item, .. } => item,
        }
    }

    /// True if the wait timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.put(1)?;
    /// let start = Instant::now();
    /// let err = q.put_timeout(2, Duration::from_millis(10)).unwrap_err();
    /// assert!(err.is_timeout());
    /// assert!(!err.is_shut_down());
    /// assert!(start.elapsed() >= Duration::from_millis(10)); // never early
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, PutTimeoutError::Timeout { .. })
    }

    /// True if the queue was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.shutdown();
    /// let err = q.put_timeout(1, Duration::from_secs(3600)).unwrap_err(); // returns at once
    /// assert!(err.is_shut_down());
    /// assert!(!err.is_timeout());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, PutTimeoutError::ShutDown { .. })
    }

    /// The queue that refused the item.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(1);
    /// q.put(1)?;
    /// let err = q.put_timeout(2, Duration::ZERO).unwrap_err();
    /// assert_eq!(err.queue(), q.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue(&self) -> QueueId {
        match self {
            PutTimeoutError::Timeout { queue, .. } | PutTimeoutError::ShutDown { queue, .. } => {
                *queue
            }
        }
    }
}

impl<T> From<PutError<T>> for PutTimeoutError<T> {
    fn from(e: PutError<T>) -> Self {
        PutTimeoutError::ShutDown {
            item: e.item,
            queue: e.queue,
        }
    }
}

impl<T> fmt::Debug for PutTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.is_timeout() {
            "Timeout"
        } else {
            "ShutDown"
        };
        f.debug_struct(name)
            .field("queue", &self.queue())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutTimeoutError::Timeout { queue, .. } => {
                write!(f, "put timed out on full {queue}")
            }
            PutTimeoutError::ShutDown { queue, .. } => write!(f, "put on shut-down {queue}"),
        }
    }
}

impl<T> Error for PutTimeoutError<T> {}

/// [`get`](crate::queue::Queue::get) on a queue that is shut down and empty (Python's
/// `queue.ShutDown`): there is nothing left and nothing will come.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(0);
/// q.put(1)?;
/// q.shutdown();
/// assert_eq!(q.get()?, 1); // what was put before the shutdown is still delivered
/// let err = q.get().unwrap_err();
/// assert!(err.to_string().starts_with("get on shut-down Queue"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GetError {
    queue: QueueId,
}

impl GetError {
    pub(crate) fn new(queue: QueueId) -> Self {
        GetError { queue }
    }

    /// The queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::PriorityQueue;
    ///
    /// let q: PriorityQueue<u32> = PriorityQueue::new(0);
    /// q.shutdown();
    /// let err = q.get().unwrap_err();
    /// assert_eq!(err.queue(), q.id());
    /// assert_eq!(err.queue().kind().as_str(), "PriorityQueue");
    /// ```
    pub fn queue(&self) -> QueueId {
        self.queue
    }
}

impl fmt::Debug for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetError")
            .field("queue", &self.queue)
            .finish()
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "get on shut-down {}", self.queue)
    }
}

impl Error for GetError {}

/// Why [`try_get`](crate::queue::Queue::try_get) (Python's `get_nowait`) returned nothing.
///
/// # Examples
///
/// ```
/// use threadkit::queue::{Queue, TryGetError};
///
/// let q: Queue<u8> = Queue::new(0);
/// assert!(matches!(q.try_get(), Err(TryGetError::Empty { .. })));
/// q.shutdown();
/// assert!(q.try_get().unwrap_err().is_shut_down());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// The queue is empty (Python's `queue.Empty`).
    Empty {
        /// The queue.
        queue: QueueId,
    },
    /// The queue is shut down and empty (Python's `queue.ShutDown`).
    ShutDown {
        /// The queue.
        queue: QueueId,
    },
}

impl TryGetError {
    /// True if the queue was empty but not shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// let err = q.try_get().unwrap_err();
    /// assert!(err.is_empty());
    /// assert!(!err.is_shut_down());
    /// q.put(7)?;
    /// assert_eq!(q.try_get()?, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryGetError::Empty { .. })
    }

    /// True if the queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q = Queue::new(0);
    /// q.put(1)?;
    /// q.shutdown();
    /// assert_eq!(q.try_get()?, 1); // items put before the shutdown still come out
    /// let err = q.try_get().unwrap_err();
    /// assert!(err.is_shut_down());
    /// assert!(!err.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, TryGetError::ShutDown { .. })
    }

    /// The queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::SimpleQueue;
    ///
    /// let q: SimpleQueue<u8> = SimpleQueue::new();
    /// let err = q.try_get().unwrap_err();
    /// assert_eq!(err.queue(), q.id());
    /// assert_eq!(err.to_string(), format!("get_nowait on empty {}", q.id()));
    /// ```
    pub fn queue(&self) -> QueueId {
        match self {
            TryGetError::Empty { queue } | TryGetError::ShutDown { queue } => *queue,
        }
    }
}

impl From<GetError> for TryGetError {
    fn from(e: GetError) -> Self {
        TryGetError::ShutDown { queue: e.queue }
    }
}

impl fmt::Debug for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.is_empty() { "Empty" } else { "ShutDown" };
        f.debug_struct(name).field("queue", &self.queue()).finish()
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty { queue } => write!(f, "get_nowait on empty {queue}"),
            TryGetError::ShutDown { queue } => write!(f, "get_nowait on shut-down {queue}"),
        }
    }
}

impl Error for TryGetError {}

/// Why [`get_timeout`](crate::queue::Queue::get_timeout) returned nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::queue::{GetTimeoutError, Queue};
///
/// let q: Queue<u8> = Queue::new(0);
/// let err = q.get_timeout(Duration::from_millis(10)).unwrap_err();
/// assert!(matches!(err, GetTimeoutError::Timeout { .. }));
/// assert!(err.to_string().starts_with("get timed out on empty Queue"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum GetTimeoutError {
    /// No item came before the timeout (Python's `queue.Empty`).
    Timeout {
        /// The queue.
        queue: QueueId,
    },
    /// The queue is shut down and empty (Python's `queue.ShutDown`).
    ShutDown {
        /// The queue.
        queue: QueueId,
    },
}

impl GetTimeoutError {
    /// True if the wait timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// let start = Instant::now();
    /// let err = q.get_timeout(Duration::from_millis(10)).unwrap_err();
    /// assert!(err.is_timeout());
    /// assert!(!err.is_shut_down());
    /// assert!(start.elapsed() >= Duration::from_millis(10)); // never early
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, GetTimeoutError::Timeout { .. })
    }

    /// True if the queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// q.shutdown();
    /// let err = q.get_timeout(Duration::from_secs(3600)).unwrap_err(); // returns at once
    /// assert!(err.is_shut_down());
    /// assert!(!err.is_timeout());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, GetTimeoutError::ShutDown { .. })
    }

    /// The queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// let err = q.get_timeout(Duration::ZERO).unwrap_err();
    /// assert_eq!(err.queue(), q.id());
    /// ```
    pub fn queue(&self) -> QueueId {
        match self {
            GetTimeoutError::Timeout { queue } | GetTimeoutError::ShutDown { queue } => *queue,
        }
    }
}

impl From<GetError> for GetTimeoutError {
    fn from(e: GetError) -> Self {
        GetTimeoutError::ShutDown { queue: e.queue }
    }
}

impl fmt::Debug for GetTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.is_timeout() {
            "Timeout"
        } else {
            "ShutDown"
        };
        f.debug_struct(name).field("queue", &self.queue()).finish()
    }
}

impl fmt::Display for GetTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetTimeoutError::Timeout { queue } => write!(f, "get timed out on empty {queue}"),
            GetTimeoutError::ShutDown { queue } => write!(f, "get on shut-down {queue}"),
        }
    }
}

impl Error for GetTimeoutError {}

/// [`task_done`](crate::queue::Queue::task_done) called more times than items were put
/// (Python's `ValueError`). Nothing changed.
///
/// # Examples
///
/// ```
/// use threadkit::queue::Queue;
///
/// let q = Queue::new(0);
/// q.put("job")?;
/// q.get()?;
/// q.task_done()?;
/// let err = q.task_done().unwrap_err();
/// assert_eq!(err.thread(), threadkit::current_thread().name());
/// assert!(err.to_string().starts_with("task_done() called too many times on Queue at 0x"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TaskDoneError {
    queue: QueueId,
    thread: String,
}

impl TaskDoneError {
    pub(crate) fn new(queue: QueueId) -> Self {
        let thread = registry::with_current(|i| i.name().to_string())
            .unwrap_or_else(|| "<exiting thread>".to_string());
        TaskDoneError { queue, thread }
    }

    /// The queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// let err = q.task_done().unwrap_err(); // nothing was put
    /// assert_eq!(err.queue(), q.id());
    /// assert_eq!(q.unfinished_tasks(), 0); // nothing changed
    /// ```
    pub fn queue(&self) -> QueueId {
        self.queue
    }

    /// The name of the thread that called `task_done`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use threadkit::{queue::Queue, Thread};
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// let (tx, rx) = mpsc::channel();
    /// let worker = q.clone();
    /// let t = Thread::builder()
    ///     .name("worker")
    ///     .target(move || tx.send(worker.task_done().unwrap_err()).unwrap());
    /// t.start()?;
    /// t.join()?;
    /// assert_eq!(rx.recv()?.thread(), "worker");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }
}

impl fmt::Debug for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskDoneError")
            .field("queue", &self.queue)
            .field("thread", &self.thread)
            .finish()
    }
}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task_done() called too many times on {} (in thread {})",
            self.queue, self.thread
        )
    }
}

impl Error for TaskDoneError {}
