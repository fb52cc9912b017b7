//! Python's `queue` module: blocking queues for passing items between threads.
//!
//! | Python | threadkit |
//! |---|---|
//! | `queue.Queue(maxsize)`, `LifoQueue(maxsize)`, `PriorityQueue(maxsize)` | [`Queue::new`]`(maxsize)`, [`LifoQueue::new`], [`PriorityQueue::new`] (0: unbounded) |
//! | `queue.SimpleQueue()` | [`SimpleQueue::new`]`()` |
//! | passing the queue object to threads | `q.clone()`: a cheap handle to the same queue |
//! | `q.put(item)` / `q.put(item, timeout=t)` / `q.put_nowait(item)` | [`put`](Queue::put) / [`put_timeout`](Queue::put_timeout) / [`try_put`](Queue::try_put) |
//! | `q.get()` / `q.get(timeout=t)` / `q.get_nowait()` | [`get`](Queue::get) / [`get_timeout`](Queue::get_timeout) / [`try_get`](Queue::try_get) |
//! | `queue.Full`, `queue.Empty`, `queue.ShutDown` | [`TryPutError::Full`], [`TryGetError::Empty`], the `ShutDown` variants, [`PutError`], [`GetError`]; refused items come back inside |
//! | `q.qsize()`, `q.empty()`, `q.full()`, `q.maxsize` | [`qsize`](Queue::qsize), [`empty`](Queue::empty), [`full`](Queue::full), [`maxsize`](Queue::maxsize) |
//! | `q.task_done()`, `q.join()`, `q.unfinished_tasks` | [`task_done`](Queue::task_done)`?` ([`TaskDoneError`] if overused), [`join`](Queue::join), [`join_timeout`](Queue::join_timeout), [`unfinished_tasks`](Queue::unfinished_tasks) |
//! | `q.shutdown()`, `q.shutdown(immediate=True)`, `q.is_shutdown` | [`shutdown`](Queue::shutdown), [`shutdown_immediate`](Queue::shutdown_immediate) (returns the removed items), [`is_shut_down`](Queue::is_shut_down) |
//! | `while True: item = q.get() ...` | `for item in &q { ... }` ([`Iter`]: ends once shut down and drained), [`try_iter`](Queue::try_iter) |
//! | `try: ... finally: q.shutdown()` in a producer | `let q = q.`[`shutdown_guard`](Queue::shutdown_guard)`();` ([`ShutdownGuard`]: shuts down when dropped or unwound) |
//!
//! # Example: a worker pool
//!
//! ```
//! use threadkit::queue::Queue;
//! use threadkit::Thread;
//!
//! let jobs = Queue::new(10);
//! let results = Queue::new(0);
//! let mut workers = Vec::new();
//! for _ in 0..3 {
//!     let (jobs, results) = (jobs.clone(), results.clone());
//!     let t = Thread::new(move || {
//!         for n in &jobs {
//!             results.put(n * n).unwrap();
//!             jobs.task_done().unwrap();
//!         }
//!     });
//!     t.start()?;
//!     workers.push(t);
//! }
//! for n in 1..=20u64 {
//!     jobs.put(n)?;
//! }
//! jobs.join(); // every job done
//! jobs.shutdown(); // and the workers may stop
//! for t in workers {
//!     t.join()?;
//! }
//! assert_eq!(results.try_iter().sum::<u64>(), (1..=20).map(|n| n * n).sum::<u64>());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//!
//! # A producer that may fail
//!
//! A consumer's `for item in &q` ends only once the queue is shut down. A producer that
//! panics before its `shutdown()` would leave the consumers waiting forever; one that holds
//! a [`ShutdownGuard`] shuts the queue down however it ends, as Python's
//! `try: ... finally: q.shutdown()`:
//!
//! ```
//! use threadkit::queue::Queue;
//! use threadkit::Thread;
//!
//! let q = Queue::new(4);
//! let guard = q.shutdown_guard();
//! let producer = Thread::new(move || {
//!     for line in ["1", "2", "x", "4"] {
//!         let n: u32 = line.parse().expect("a number"); // panics at "x"
//!         guard.put(n).unwrap();
//!     }
//! }); // the guard is dropped when the closure ends, or unwinds
//! # threadkit::set_excepthook(|_, _| {}); // keep the doctest's output quiet
//! producer.start()?;
//! let total: u32 = q.iter().sum(); // ends: the guard shut the queue down
//! assert_eq!(total, 3);
//! assert!(producer.join().is_err());
//! # threadkit::reset_excepthook();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod api;
mod array;
mod choice;
mod common;
mod error;
mod fifo;
mod guard;
mod held;
mod iter;
mod lifo;
mod list;
mod lockfree;
mod onelock;
mod priority;
mod simple;
mod split;
mod waiters;

pub use error::{
    GetError, GetTimeoutError, PutError, PutTimeoutError, QueueId, TaskDoneError, TryGetError,
    TryPutError,
};
pub use fifo::Queue;
pub use guard::ShutdownGuard;
pub use iter::{Iter, TryIter};
pub use lifo::LifoQueue;
pub use priority::PriorityQueue;
pub use simple::SimpleQueue;
