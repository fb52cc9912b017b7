//! [`Executor`]: the seam between the code that submits work and what runs it, and [`Map`],
//! the iterator of its `map(f, items)` (results in input order, with an optional bounded
//! look-ahead and an overall timeout): the trait's provided methods return it, and it
//! submits through the trait, so the two live in one file.

use std::collections::VecDeque;
use std::fmt;
use std::iter::Fuse;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{FutureError, ShutdownError, SubmitError, TaskException};
use super::future::TaskFuture;

/// What runs submitted closures: Python's `concurrent.futures.Executor`.
///
/// [`ThreadPoolExecutor`](super::ThreadPoolExecutor) implements it; [`wait`](super::wait) and
/// [`as_completed`](super::as_completed) depend on [`TaskFuture`] alone, so another backend
/// (a process pool, a cluster) can implement this trait and keep its callers' code.
/// [`map`](Self::map) and [`map_buffered`](Self::map_buffered) come with it, built on
/// [`submit`](Self::submit).
///
/// # Examples
///
/// ```
/// use threadkit::futures::Executor;
///
/// fn total(e: &impl Executor, xs: Vec<u64>) -> u64 {
///     e.map(|x| x * x, xs).map(|r| r.unwrap()).sum()
/// }
/// let pool = threadkit::ThreadPoolExecutor::new(2)?;
/// assert_eq!(total(&pool, vec![1, 2, 3]), 14);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Executor {
    /// Schedules `f`; its future gets the value, the panic, or the cancellation.
    ///
    /// # Errors
    ///
    /// [`SubmitError`] holding `f` if the executor refuses it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::Executor;
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// let f = Executor::submit(&pool, || 2 + 2)?;
    /// assert_eq!(*f.result()?, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn submit<F, T>(&self, f: F) -> Result<TaskFuture<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Stops taking work, as [`ThreadPoolExecutor::shutdown`](super::ThreadPoolExecutor::shutdown).
    ///
    /// # Errors
    ///
    /// [`ShutdownError`] if waiting would wait for the caller itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::Executor;
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// Executor::shutdown(&pool, true, false)?;
    /// assert!(Executor::submit(&pool, || ()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> Result<(), ShutdownError>;

    /// `f` over `items` in tasks, results in input order; everything submitted now.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::Executor;
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(2)?;
    /// let out: Vec<i32> = Executor::map(&pool, |x: i32| -x, [1, 2]).collect::<Result<_, _>>()?;
    /// assert_eq!(out, [-1, -2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    fn map<I, F, T>(&self, f: F, items: I) -> Map<'_, Self, I::IntoIter, F, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        Map::new(self, f, items.into_iter(), None, Location::caller())
    }

    /// [`map`](Self::map) with at most `buffersize` tasks submitted ahead of the consumer.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::Executor;
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(2)?;
    /// let first: Vec<u32> = Executor::map_buffered(&pool, |x: u32| x, 0.., 2)
    ///     .take(2)
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(first, [0, 1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    fn map_buffered<I, F, T>(
        &self,
        f: F,
        items: I,
        buffersize: usize,
    ) -> Map<'_, Self, I::IntoIter, F, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        Map::new(
            self,
            f,
            items.into_iter(),
            Some(buffersize.max(1)),
            Location::caller(),
        )
    }
}

/// The iterator returned by [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map) and
/// [`Executor::map`]: each item's result (or why there is none), in input order.
///
/// Dropping it cancels the tasks it submitted that have not started. After a timeout or a
/// refused submission it yields that error once, cancels what it queued, and ends.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let pool = threadkit::ThreadPoolExecutor::new(2)?;
/// let lens: Vec<usize> = pool
///     .map(|s: &'static str| s.len(), ["a", "bb", "ccc"])
///     .timeout(Duration::from_secs(60))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(lens, [1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the iterator cancels the tasks that have not started"]
pub struct Map<'a, E: ?Sized, I: Iterator, F, T> {
    executor: &'a E,
    items: Fuse<I>,
    f: Arc<F>,
    queued: VecDeque<TaskFuture<T>>,
    buffersize: Option<usize>,
    started: Instant,
    timeout: Option<Duration>,
    /// A submission refused: yielded after the queued results.
    refused: Option<String>,
    location: &'static Location<'static>,
    ended: bool,
}

impl<'a, E, I, F, T> Map<'a, E, I, F, T>
where
    E: Executor + ?Sized,
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    pub(crate) fn new(
        executor: &'a E,
        f: F,
        items: I,
        buffersize: Option<usize>,
        location: &'static Location<'static>,
    ) -> Self {
        let mut map = Map {
            executor,
            items: items.fuse(),
            f: Arc::new(f),
            queued: VecDeque::new(),
            buffersize,
            started: Instant::now(),
            timeout: None,
            refused: None,
            location,
            ended: false,
        };
        while buffersize.is_none_or(|n| map.queued.len() < n) && map.submit_next() {}
        map
    }

    /// Gives up once `timeout` has passed since the `map` call (Python's `timeout=`): the
    /// result being waited for is then a [`FutureError::Timeout`], and the rest are cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::futures::FutureError;
    ///
    /// let pool = threadkit::ThreadPoolExecutor::new(1)?;
    /// let gate = std::sync::Arc::new(threadkit::Event::new());
    /// let g = gate.clone();
    /// let mut it = pool.map(move |_: u8| g.wait(), [1]).timeout(Duration::from_millis(10));
    /// assert!(matches!(it.next(), Some(Err(FutureError::Timeout { .. }))));
    /// assert!(it.next().is_none());
    /// gate.set();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Submits the next item; false when there is none or the executor refused it.
    fn submit_next(&mut self) -> bool {
        if self.refused.is_some() {
            return false;
        }
        let Some(item) = self.items.next() else {
            return false;
        };
        let f = self.f.clone();
        match self.executor.submit(move || f(item)) {
            Ok(fut) => {
                self.queued.push_back(fut);
                true
            }
            Err(e) => {
                self.refused = Some(e.to_string());
                false
            }
        }
    }

    fn cancel_rest(&mut self) {
        self.ended = true;
        for f in self.queued.drain(..) {
            f.cancel();
        }
    }
}

impl<E, I, F, T> Iterator for Map<'_, E, I, F, T>
where
    E: Executor + ?Sized,
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    type Item = Result<T, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let Some(fut) = self.queued.pop_front() else {
            self.ended = true;
            return self.refused.take().map(|reason| {
                Err(FutureError::Failed(TaskException::custom(format!(
                    "map: an item was not submitted: {reason}"
                ))))
            });
        };
        if self.buffersize.is_some() {
            self.submit_next();
        }
        let deadline = self.timeout.and_then(|t| self.started.checked_add(t));
        let timeout = self.timeout.unwrap_or(Duration::MAX);
        match fut.into_result_until(deadline, timeout, self.location) {
            Ok(v) => Some(Ok(v)),
            Err((e, back)) => {
                if let Some(f) = back {
                    f.cancel();
                    self.cancel_rest();
                }
                Some(Err(e))
            }
        }
    }
}

impl<E: ?Sized, I: Iterator, F, T> Drop for Map<'_, E, I, F, T> {
    fn drop(&mut self) {
        for f in self.queued.drain(..) {
            f.cancel();
        }
    }
}

impl<E: ?Sized, I: Iterator, F, T> fmt::Debug for Map<'_, E, I, F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("queued", &self.queued.len())
            .field("buffersize", &self.buffersize)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
