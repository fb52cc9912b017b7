//! [`wait`] and [`as_completed`]: waiting on many futures at once, Python's
//! `concurrent.futures.wait` and `as_completed`.
//!
//! Both register one [`Collector`] on every future not yet done; a future that becomes done
//! (finished or cancelled) tells it its index. They depend on [`TaskFuture`] alone, so they
//! work on futures from several executors and on hand-made ones.

use std::collections::{HashSet, VecDeque};
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::collector::Collector;
use super::error::AsCompletedTimeout;
use super::future::TaskFuture;
use crate::sync::wait as sync_wait;

/// The futures, each once (by identity), in the order first given.
fn distinct<'a, T>(fs: impl IntoIterator<Item = &'a TaskFuture<T>>) -> Vec<&'a TaskFuture<T>>
where
    T: 'a,
{
    let mut seen = HashSet::new();
    fs.into_iter()
        .filter(|f| seen.insert(Arc::as_ptr(f.shared()).addr()))
        .collect()
}

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
///
/// # Examples
///
/// ```
/// use threadkit::futures::{ReturnWhen, TaskFuture, wait};
///
/// let a = TaskFuture::new();
/// a.set_result(1)?;
/// let b: TaskFuture<i32> = TaskFuture::new();
/// let (done, not_done) = wait([&a, &b], ReturnWhen::FirstCompleted);
/// assert_eq!((done.len(), not_done.len()), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any future is done (finished or cancelled).
    FirstCompleted,
    /// As soon as any future finishes with an exception; if none does, when all are done.
    FirstException,
    /// When every future is done.
    AllCompleted,
}

/// The futures that were done and those that were not, each in the order given.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{ReturnWhen, TaskFuture, Waited, wait};
///
/// let a = TaskFuture::new();
/// a.set_result(1)?;
/// let (done, not_done): Waited<'_, i32> = wait([&a], ReturnWhen::AllCompleted);
/// assert_eq!((done.len(), not_done.len()), (1, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Waited<'a, T> = (Vec<&'a TaskFuture<T>>, Vec<&'a TaskFuture<T>>);

/// Waits until the futures satisfy `when`, and returns `(done, not_done)`: Python's
/// `concurrent.futures.wait(fs, return_when=..)`. A future given twice counts once.
///
/// # Examples
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// use threadkit::futures::{ReturnWhen, wait};
///
/// let pool = ThreadPoolExecutor::new(4)?;
/// let fs: Vec<_> = (0..4).map(|i| pool.submit(move || i * 10)).collect::<Result<_, _>>()?;
/// let (done, not_done) = wait(&fs, ReturnWhen::AllCompleted);
/// assert_eq!((done.len(), not_done.len()), (4, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[track_caller]
pub fn wait<'a, T: 'a>(
    fs: impl IntoIterator<Item = &'a TaskFuture<T>>,
    when: ReturnWhen,
) -> Waited<'a, T> {
    wait_until(fs, None, when, Location::caller())
}

/// [`wait`], returning after at most `timeout` even if `when` is not satisfied.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::futures::{ReturnWhen, TaskFuture, wait_timeout};
///
/// let never: TaskFuture<()> = TaskFuture::new();
/// let (done, not_done) =
///     wait_timeout([&never], Duration::from_millis(10), ReturnWhen::AllCompleted);
/// assert!(done.is_empty());
/// assert_eq!(not_done.len(), 1);
/// ```
#[track_caller]
#[must_use = "the second vector holds the futures that did not finish in time"]
pub fn wait_timeout<'a, T: 'a>(
    fs: impl IntoIterator<Item = &'a TaskFuture<T>>,
    timeout: Duration,
    when: ReturnWhen,
) -> Waited<'a, T> {
    wait_until(fs, sync_wait::deadline(timeout), when, Location::caller())
}

fn wait_until<'a, T: 'a>(
    fs: impl IntoIterator<Item = &'a TaskFuture<T>>,
    deadline: Option<Instant>,
    when: ReturnWhen,
    location: &'static Location<'static>,
) -> Waited<'a, T> {
    let fs = distinct(fs);
    let collector = Collector::new();
    let (mut done, mut failed) = (0, 0);
    for (i, f) in fs.iter().enumerate() {
        if let Some(exc) = f.shared().register(&collector, i) {
            done += 1;
            failed += usize::from(exc);
        }
    }
    let n = fs.len();
    let enough = || {
        let d = done + collector.completed.load(Ordering::SeqCst);
        let x = failed + collector.failed.load(Ordering::SeqCst);
        match when {
            ReturnWhen::FirstCompleted => d >= 1 || n == 0,
            ReturnWhen::FirstException => x >= 1 || d == n,
            ReturnWhen::AllCompleted => d == n,
        }
    };
    if !enough() {
        collector.wait(deadline, location, enough);
    }
    for f in &fs {
        f.shared().unregister(&collector);
    }
    fs.into_iter().partition(|f| f.done())
}

/// Yields the futures as they become done (finished or cancelled), each once: Python's
/// `concurrent.futures.as_completed(fs)`. Those already done come first, in the order given.
///
/// # Examples
///
/// ```
/// use threadkit::ThreadPoolExecutor;
/// use threadkit::futures::as_completed;
///
/// let pool = ThreadPoolExecutor::new(3)?;
/// let fs: Vec<_> = (1..=3).map(|i| pool.submit(move || i)).collect::<Result<_, _>>()?;
/// let mut sum = 0;
/// for f in as_completed(&fs) {
///     sum += f?.result()?; // an error only with a timeout: see `as_completed_timeout`
/// }
/// assert_eq!(sum, 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[track_caller]
pub fn as_completed<'a, T: 'a>(
    fs: impl IntoIterator<Item = &'a TaskFuture<T>>,
) -> AsCompleted<'a, T> {
    AsCompleted::new(fs, None, Location::caller())
}

/// [`as_completed`] with an overall timeout, counted from this call: when it passes with
/// futures unfinished, the iterator yields one [`AsCompletedTimeout`] error and ends.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::futures::{TaskFuture, as_completed_timeout};
///
/// let f: TaskFuture<u8> = TaskFuture::new();
/// let results: Vec<_> = as_completed_timeout([&f], Duration::from_millis(10)).collect();
/// assert_eq!(results.len(), 1);
/// assert!(results[0].is_err());
/// ```
#[track_caller]
pub fn as_completed_timeout<'a, T: 'a>(
    fs: impl IntoIterator<Item = &'a TaskFuture<T>>,
    timeout: Duration,
) -> AsCompleted<'a, T> {
    AsCompleted::new(fs, Some(timeout), Location::caller())
}

/// The iterator of [`as_completed`]: each future once, in the order they became done.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{TaskFuture, as_completed};
///
/// let (a, b) = (TaskFuture::new(), TaskFuture::new());
/// b.set_result("b")?;
/// a.set_result("a")?;
/// let order: Vec<_> = as_completed([&a, &b, &a]).map(|f| *f.unwrap().result().unwrap()).collect();
/// assert_eq!(order, ["a", "b"]); // both already done: the order given, duplicates once
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "an iterator does nothing unless consumed"]
pub struct AsCompleted<'a, T> {
    fs: Vec<&'a TaskFuture<T>>,
    collector: Arc<Collector>,
    /// Indices done before the call, yielded first.
    ready: VecDeque<usize>,
    /// How many of the collector's `order` were yielded.
    taken: usize,
    /// How many registered futures are still to be yielded.
    left: usize,
    deadline: Option<Instant>,
    timeout: Option<Duration>,
    location: &'static Location<'static>,
    ended: bool,
}

impl<'a, T> AsCompleted<'a, T> {
    fn new(
        fs: impl IntoIterator<Item = &'a TaskFuture<T>>,
        timeout: Option<Duration>,
        location: &'static Location<'static>,
    ) -> Self {
        let fs = distinct(fs);
        let collector = Collector::new();
        let mut ready = VecDeque::new();
        for (i, f) in fs.iter().enumerate() {
            if f.shared().register(&collector, i).is_some() {
                ready.push_back(i);
            }
        }
        let left = fs.len() - ready.len();
        AsCompleted {
            fs,
            collector,
            ready,
            taken: 0,
            left,
            deadline: timeout.and_then(sync_wait::deadline),
            timeout,
            location,
            ended: false,
        }
    }
}

impl<'a, T> Iterator for AsCompleted<'a, T> {
    type Item = Result<&'a TaskFuture<T>, AsCompletedTimeout>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(i) = self.ready.pop_front() {
            return Some(Ok(self.fs[i]));
        }
        if self.left == 0 || self.ended {
            return None;
        }
        let taken = self.taken;
        let c = &self.collector;
        let deadline = if self.timeout.is_some() {
            // A timeout too large for the clock waits forever.
            self.deadline
        } else {
            None
        };
        if !c.wait(deadline, self.location, || {
            c.completed.load(Ordering::SeqCst) > taken
        }) {
            self.ended = true;
            return Some(Err(AsCompletedTimeout {
                unfinished: self.left,
                total: self.fs.len(),
                timeout: self.timeout.unwrap_or(Duration::MAX),
                thread: crate::current_thread().name(),
            }));
        }
        let i = c.order.lock()[taken];
        self.taken += 1;
        self.left -= 1;
        Some(Ok(self.fs[i]))
    }
}

impl<T> Drop for AsCompleted<'_, T> {
    fn drop(&mut self) {
        if self.left > 0 {
            for f in &self.fs {
                f.shared().unregister(&self.collector);
            }
        }
    }
}
