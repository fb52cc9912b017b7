//! The queues' public methods, written once: `shared_api!` generates what all four queue
//! types have (put, get and their timed and non-blocking forms, sizes, shutdown, iteration,
//! `Clone`, `Debug`), `tracked_api!` what the three with a capacity and task tracking add.
//! Each expands in the queue type's own module, over its `core` field (any queue core with
//! the common method set: `put`, `get`, `qsize`, `shutdown`, `task_done`, `join`, ...), and
//! names the types it needs (`Wait`, `Refused`, the errors, the iterators) from there.

/// The methods every queue type shares (all four), with their docs. `$Q` is the type,
/// `$new` a constructor expression for the doc examples, `$($bound)*` the bound on `T`.
macro_rules! shared_api {
    ($Q:ident, $new:literal, $($bound:tt)*) => {
        impl<T: $($bound)*> $Q<T> {
            /// Puts `item` at the queue's end (for a bounded queue, waiting while it is full).
            ///
            /// Counts one more unfinished task (see `task_done`, on the queues that have it).
            /// While it waits, the calling thread shows a
            /// [`WaitKind::QueuePut`](crate::WaitKind::QueuePut) wait with this line in
            /// [`Thread::waiting`](crate::Thread::waiting).
            ///
            /// # Errors
            ///
            /// [`PutError`] if the queue is shut down, before or during the wait; the item
            /// is inside ([`PutError::into_inner`]).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// q.put(7)?;
            /// assert_eq!(q.get()?, 7);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            #[track_caller]
            pub fn put(&self, item: T) -> Result<(), PutError<T>> {
                let location = std::panic::Location::caller();
                self.core
                    .put(item, Wait::Forever, location)
                    .map_err(|(item, _)| PutError::new(item, self.core.id()))
            }

            /// Removes and returns the next item, waiting while the queue is empty.
            ///
            /// After a shutdown, the items already in the queue are still delivered; then
            /// `get` fails. While it waits, the calling thread shows a
            /// [`WaitKind::QueueGet`](crate::WaitKind::QueueGet) wait with this line in
            /// [`Thread::waiting`](crate::Thread::waiting).
            ///
            /// # Errors
            ///
            /// [`GetError`] once the queue is shut down and empty.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// let producer = q.clone();
            /// let t = threadkit::Thread::new(move || producer.put(42).unwrap());
            /// t.start()?;
            /// assert_eq!(q.get()?, 42); // waits for the producer
            /// t.join()?;
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            #[track_caller]
            pub fn get(&self) -> Result<T, GetError> {
                let location = std::panic::Location::caller();
                self.core
                    .get(Wait::Forever, location)
                    .map_err(|_| GetError::new(self.core.id()))
            }

            /// [`get`](Self::get), waiting at most `timeout` for an item (Python's
            /// `get(timeout=t)`). Zero polls once; a timeout too large for the clock waits
            /// forever. Never times out early.
            ///
            /// # Errors
            ///
            /// [`GetTimeoutError::Timeout`] if no item came in time,
            /// [`GetTimeoutError::ShutDown`] once the queue is shut down and empty.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// assert!(q.get_timeout(Duration::from_millis(5)).unwrap_err().is_timeout());
            /// q.put(1)?;
            /// assert_eq!(q.get_timeout(Duration::from_millis(5))?, 1);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            #[track_caller]
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
                let location = std::panic::Location::caller();
                self.core
                    .get(Wait::timeout(timeout), location)
                    .map_err(|why| {
                        let queue = self.core.id();
                        match why {
                            Refused::ShutDown => GetTimeoutError::ShutDown { queue },
                            _ => GetTimeoutError::Timeout { queue },
                        }
                    })
            }

            /// Removes and returns the next item if there is one now (Python's
            /// `get_nowait()`).
            ///
            /// # Errors
            ///
            /// [`TryGetError::Empty`] if the queue is empty, [`TryGetError::ShutDown`] if it
            /// is also shut down.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// assert!(q.try_get().unwrap_err().is_empty());
            /// q.put(1)?;
            /// assert_eq!(q.try_get()?, 1);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            #[track_caller]
            pub fn try_get(&self) -> Result<T, TryGetError> {
                let location = std::panic::Location::caller();
                self.core.get(Wait::Poll, location).map_err(|why| {
                    let queue = self.core.id();
                    match why {
                        Refused::ShutDown => TryGetError::ShutDown { queue },
                        _ => TryGetError::Empty { queue },
                    }
                })
            }

            /// The number of items in the queue: a snapshot that may change right after
            /// (as Python's, "approximate"). Does not take the lock.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// q.put(1)?;
            /// q.put(2)?;
            /// assert_eq!(q.qsize(), 2);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn qsize(&self) -> usize {
                self.core.qsize()
            }

            /// True if the queue holds no item right now (a snapshot).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// assert!(q.empty());
            /// q.put(1)?;
            /// assert!(!q.empty());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn empty(&self) -> bool {
                self.core.qsize() == 0
            }

            /// The Rust name of [`qsize`](Self::qsize): the number of items right now (a
            /// snapshot, without taking the lock).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// q.put('a')?;
            /// assert_eq!(q.len(), 1);
            /// assert_eq!(q.len(), q.qsize());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn len(&self) -> usize {
                self.core.qsize()
            }

            /// The Rust name of [`empty`](Self::empty): true if the queue holds no item right
            /// now (a snapshot).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// assert!(q.is_empty());
            /// q.put('a')?;
            /// assert!(!q.is_empty());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.core.qsize() == 0
            }

            /// Shuts the queue down (Python 3.13's `shutdown()`): every later `put` fails,
            /// and so do the puts waiting for room now, each handing its item back; `get`s
            /// deliver what is left, then fail. Blocked getters and putters wake up.
            /// Calling it again does nothing more.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// q.put(1)?;
            /// q.shutdown();
            /// assert!(q.is_shut_down());
            /// assert_eq!(q.put(2).unwrap_err().into_inner(), 2);
            /// assert_eq!(q.get()?, 1);
            /// assert!(q.get().is_err());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn shutdown(&self) {
                self.core.shutdown(false);
            }

            /// Shuts the queue down and empties it (Python's `shutdown(immediate=True)`),
            /// returning the removed items in the order `get` would have returned them, so
            /// none is lost. Each removed item counts as a task done, so `join` can return.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// q.put(1)?;
            /// let left = q.shutdown_immediate();
            /// assert_eq!(left, [1]);
            /// assert!(q.get().is_err());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn shutdown_immediate(&self) -> Vec<T> {
                self.core.shutdown(true)
            }

            /// True once [`shutdown`](Self::shutdown) or
            /// [`shutdown_immediate`](Self::shutdown_immediate) was called (Python's
            /// `is_shutdown` attribute).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// # q.put(0)?;
            /// assert!(!q.is_shut_down());
            /// q.shutdown();
            /// assert!(q.is_shut_down());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }

            /// A guard that shuts the queue down ([`shutdown`](Self::shutdown)) when dropped,
            /// also while a panic unwinds: give it to a producer, and its consumers' loops
            /// end however the producer ends. See [`ShutdownGuard`](super::ShutdownGuard).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// {
            ///     let producer = q.shutdown_guard();
            ///     producer.put(1)?;
            /// } // dropped: the queue is shut down
            /// assert!(q.is_shut_down());
            /// assert_eq!(q.iter().collect::<Vec<_>>(), [1]);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn shutdown_guard(&self) -> super::ShutdownGuard<Self> {
                super::ShutdownGuard::new(self.clone(), Self::shutdown)
            }

            /// An iterator that [`get`](Self::get)s items until the queue is shut down and
            /// empty: the loop of a worker thread. `for item in &queue` is the same.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// for i in 0..3 {
            ///     q.put(i)?;
            /// }
            /// q.shutdown(); // the loop below ends once the queue is drained
            /// let mut total = 0;
            /// for i in q.iter() {
            ///     total += i;
            /// }
            /// assert_eq!(total, 3);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[track_caller]
            pub fn iter(&self) -> Iter<'_, T>
            where
                T: Send,
            {
                Iter::new(&*self.core, std::panic::Location::caller())
            }

            /// An iterator over the items there are now, without waiting: it ends as soon
            /// as the queue is empty.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// q.put(5)?;
            /// q.put(5)?;
            /// assert_eq!(q.try_iter().sum::<i32>(), 10);
            /// assert!(q.empty());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[track_caller]
            pub fn try_iter(&self) -> TryIter<'_, T>
            where
                T: Send,
            {
                TryIter::new(&*self.core, std::panic::Location::caller())
            }

            /// The queue's identity (kind and address), as errors and wait records show it;
            /// equal for every clone of one queue.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", $new, ";")]
            /// # q.put(0)?;
            /// assert_eq!(q.id(), q.clone().id());
            #[doc = concat!("assert_eq!(q.id().kind(), threadkit::ObjectKind::", stringify!($Q), ");")]
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn id(&self) -> QueueId {
                self.core.id()
            }
        }

        impl<T: $($bound)*> Clone for $Q<T> {
            /// Another handle to the same queue (an `Arc` clone).
            fn clone(&self) -> Self {
                $Q {
                    core: self.core.clone(),
                }
            }
        }

        impl<T: $($bound)*> std::fmt::Debug for $Q<T> {
            /// The address, capacity, size, unfinished count and shut-down flag; never
            /// blocks (shows `<locked>` while another thread holds the queue's lock).
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.core.debug_fields(f, stringify!($Q))
            }
        }

        impl<'a, T: Send + $($bound)*> IntoIterator for &'a $Q<T> {
            type Item = T;
            type IntoIter = Iter<'a, T>;

            /// Same as [`iter`]($Q::iter).
            #[track_caller]
            fn into_iter(self) -> Iter<'a, T> {
                Iter::new(&*self.core, std::panic::Location::caller())
            }
        }
    };
}
pub(crate) use shared_api;

/// The methods of the queues with a capacity and task tracking (`Queue`, `LifoQueue`,
/// `PriorityQueue`), with their docs.
macro_rules! tracked_api {
    ($Q:ident, $($bound:tt)*) => {
        impl<T: $($bound)*> $Q<T> {
            /// [`put`](Self::put), waiting at most `timeout` for room (Python's
            /// `put(item, timeout=t)`). Zero polls once; a timeout too large for the clock
            /// waits forever. Never times out early.
            ///
            /// # Errors
            ///
            /// [`PutTimeoutError::Timeout`] if the queue stayed full,
            /// [`PutTimeoutError::ShutDown`] if it is shut down; both hold the item.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::new(1);")]
            /// q.put_timeout(1, Duration::from_millis(5))?;
            /// let err = q.put_timeout(2, Duration::from_millis(5)).unwrap_err();
            /// assert!(err.is_timeout());
            /// assert_eq!(err.into_inner(), 2);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            #[track_caller]
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutTimeoutError<T>> {
                let location = std::panic::Location::caller();
                self.core
                    .put(item, Wait::timeout(timeout), location)
                    .map_err(|(item, why)| {
                        let queue = self.core.id();
                        match why {
                            Refused::ShutDown => PutTimeoutError::ShutDown { item, queue },
                            _ => PutTimeoutError::Timeout { item, queue },
                        }
                    })
            }

            /// Puts `item` if there is room now (Python's `put_nowait`).
            ///
            /// # Errors
            ///
            /// [`TryPutError::Full`] or [`TryPutError::ShutDown`], holding the item.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::new(1);")]
            /// q.try_put(1)?;
            /// assert!(q.try_put(2).unwrap_err().is_full());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            #[track_caller]
            pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
                let location = std::panic::Location::caller();
                self.core
                    .put(item, Wait::Poll, location)
                    .map_err(|(item, why)| {
                        let queue = self.core.id();
                        match why {
                            Refused::ShutDown => TryPutError::ShutDown { item, queue },
                            _ => TryPutError::Full { item, queue },
                        }
                    })
            }

            /// True if the queue is bounded and holds `maxsize` items right now (a
            /// snapshot).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::new(1);")]
            /// assert!(!q.full());
            /// q.put(1)?;
            /// assert!(q.full());
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn full(&self) -> bool {
                self.core.full()
            }

            /// The capacity given to `new`; 0 means unbounded.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::<u8>::new(10);")]
            /// assert_eq!(q.maxsize(), 10);
            /// ```
            #[inline]
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }

            /// Marks one item taken from the queue as processed (Python's `task_done()`).
            /// When every item ever put has been marked, [`join`](Self::join) returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] (naming the queue and the calling thread) if it is called
            /// more times than items were put; nothing changes then.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::new(0);")]
            /// q.put(1)?;
            /// q.get()?;
            /// q.task_done()?;
            /// assert!(q.task_done().is_err());
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Items put and not yet marked done (Python's `unfinished_tasks` attribute).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::new(0);")]
            /// q.put(1)?;
            /// q.get()?;
            /// assert_eq!(q.unfinished_tasks(), 1); // taken, not yet done
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn unfinished_tasks(&self) -> usize {
                self.core.unfinished()
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done) (Python's `join()`). Returns at once if none
            /// is unfinished. While it waits, the thread shows a
            /// [`WaitKind::QueueJoin`](crate::WaitKind::QueueJoin) wait.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::new(0);")]
            /// let worker = q.clone();
            /// let t = threadkit::Thread::new(move || {
            ///     for _job in &worker {
            ///         worker.task_done().unwrap();
            ///     }
            /// });
            /// t.start()?;
            /// for job in 0..10 {
            ///     q.put(job)?;
            /// }
            /// q.join(); // every job processed
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// q.shutdown(); // ends the worker's loop
            /// t.join()?;
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[track_caller]
            pub fn join(&self) {
                self.core.join(Wait::Forever, std::panic::Location::caller());
            }

            /// [`join`](Self::join), waiting at most `timeout`; true if every task is done.
            /// Zero polls once; a timeout too large for the clock waits forever. Never
            /// reports false early.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let q = threadkit::queue::", stringify!($Q), "::new(0);")]
            /// assert!(q.join_timeout(Duration::ZERO));
            /// q.put(1)?;
            /// assert!(!q.join_timeout(Duration::from_millis(5)));
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[track_caller]
            #[must_use = "false means the wait timed out with tasks still unfinished"]
            pub fn join_timeout(&self, timeout: Duration) -> bool {
                self.core
                    .join(Wait::timeout(timeout), std::panic::Location::caller())
            }
        }
    };
}
pub(crate) use tracked_api;
