//! [`Mutex<T>`]: data behind a [`Lock`], with guards, from lock_api.

use super::lock::Lock;
use super::rlock::ThreadNumber;

/// A value protected by a [`Lock`]: lock it to get a guard that derefs to the value.
///
/// This is `lock_api::Mutex` over threadkit's raw lock, so it has lock_api's whole API
/// (`lock`, `try_lock`, `try_lock_for`, `try_lock_until`, `get_mut`, `into_inner`, guard
/// mapping) and blocks through threadkit's wait path: a thread waiting for it shows up in
/// [`Thread::waiting`](crate::Thread::waiting) with the line of its `lock()` call.
///
/// # Differences from `std::sync::Mutex`
///
/// No poisoning, as in Python and parking_lot: a panic while locked releases the lock and the
/// data is as the panicking thread left it. Guards are `Send`, since the underlying `Lock` may
/// be released by any thread.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Mutex, Thread};
///
/// let total = Arc::new(Mutex::new(0u64));
/// let mut threads = Vec::new();
/// for _ in 0..4 {
///     let total = total.clone();
///     let t = Thread::new(move || {
///         for _ in 0..1000 {
///             *total.lock() += 1;
///         }
///     });
///     t.start()?;
///     threads.push(t);
/// }
/// for t in threads {
///     t.join()?;
/// }
/// assert_eq!(*total.lock(), 4000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Mutex<T> = lock_api::Mutex<Lock, T>;

/// The guard of a [`Mutex<T>`]: derefs to the value, unlocks when dropped.
///
/// # Examples
///
/// ```
/// let m = threadkit::Mutex::new(vec![1]);
/// let mut g: threadkit::MutexGuard<'_, Vec<i32>> = m.lock();
/// g.push(2);
/// drop(g);
/// assert_eq!(*m.lock(), [1, 2]);
/// ```
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, Lock, T>;

/// A [`MutexGuard`] narrowed to part of the value with `MutexGuard::map`.
///
/// # Examples
///
/// ```
/// use threadkit::{MappedMutexGuard, Mutex, MutexGuard};
/// let m = Mutex::new((1, String::from("a")));
/// let mut s: MappedMutexGuard<'_, String> = MutexGuard::map(m.lock(), |v| &mut v.1);
/// s.push('b');
/// drop(s);
/// assert_eq!(m.lock().1, "ab");
/// ```
pub type MappedMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, Lock, T>;

/// The guard of a [`Mutex<T>`] locked through an `Arc` (`mutex.lock_arc()`,
/// `try_lock_arc()`, `try_lock_arc_for(d)`): it owns a clone of the `Arc` instead of
/// borrowing, so it can be returned from a function or moved into a `'static` thread (it is
/// `Send`: any thread may release threadkit's lock). lock_api's `arc_lock` guard; a thread
/// blocked in `lock_arc` records its wait like any `lock()`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{ArcMutexGuard, Mutex};
///
/// let jobs = Arc::new(Mutex::new(vec![1, 2]));
/// let mut held: ArcMutexGuard<Vec<i32>> = jobs.lock_arc();
/// // The guard moves into another thread, which works on the data and unlocks it.
/// let h = threadkit::spawn(move || {
///     held.push(3);
///     held.len()
/// });
/// assert_eq!(h.join()?, 3);
/// assert_eq!(*jobs.lock(), [1, 2, 3]);
/// assert!(jobs.try_lock_arc().is_some()); // unlocked when the guard was dropped
/// # Ok::<(), threadkit::JoinError>(())
/// ```
pub type ArcMutexGuard<T> = lock_api::ArcMutexGuard<Lock, T>;

/// The guard of a [`ReentrantMutex<T>`](crate::ReentrantMutex) locked through an `Arc`
/// (`remutex.lock_arc()`, `try_lock_arc()`, `try_lock_arc_for(d)`): it owns a clone of the
/// `Arc`, so it is not tied to a borrow. Unlike [`ArcMutexGuard`] it is not `Send`: a
/// reentrant lock belongs to the thread that holds it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{ArcReentrantMutexGuard, ReentrantMutex};
///
/// fn open(log: &Arc<ReentrantMutex<Vec<&'static str>>>) -> ArcReentrantMutexGuard<Vec<&'static str>> {
///     log.lock_arc() // returned: no borrow of `log` outlives the call
/// }
/// let log = Arc::new(ReentrantMutex::new(vec!["start"]));
/// let outer = open(&log);
/// let inner = log.lock_arc(); // reentrant: the same thread locks again
/// assert_eq!(inner.len(), 1);
/// drop(inner);
/// drop(outer);
/// assert!(log.try_lock_arc().is_some());
/// ```
pub type ArcReentrantMutexGuard<T> = lock_api::ArcReentrantMutexGuard<Lock, ThreadNumber, T>;
