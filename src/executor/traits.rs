//! [`Executor`]: the seam between the code that submits work and what runs it.

use std::panic::Location;

use super::error::{ShutdownError, SubmitError};
use super::future::TaskFuture;
use super::map::Map;

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
