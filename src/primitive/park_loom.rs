//! parking_lot_core's API on loom's primitives, so that loom can model every park and unpark.
//!
//! One FIFO queue of waiters (each with its key and park token) behind a loom `Mutex`, in a
//! `loom::lazy_static!` so that every execution starts with an empty lot. A waiter sleeps on
//! its own loom `Condvar` until its state says it was unparked; an unparker takes it out of
//! the queue, then (still under the queue lock) hands it its token and notifies it. The
//! callbacks run where parking_lot_core runs them:
//!
//! | callback | runs |
//! |---|---|
//! | `park`'s `validate` | under the queue lock, before the thread is queued |
//! | `park`'s `before_sleep` | after the thread is queued and the lock released, before it sleeps |
//! | `park`'s `timed_out(key, was_last_thread)` | under the queue lock, as the timed-out thread leaves the queue |
//! | `unpark_one`/`unpark_filter`/`unpark_requeue` callbacks, `filter`, `validate` | under the queue lock, before any thread is woken |
//!
//! Waiters with the same key are woken in the order they parked, and threads requeued by
//! `unpark_requeue` go to the back of their new key's waiters, as in parking_lot_core.
//!
//! # Time
//!
//! loom does not model time, so by default a deadline never fires: a timed `park` waits until
//! it is unparked, and a model in which nobody unparks it fails as a deadlock. Inside
//! [`with_firing_deadlines`] a timed `park` instead spawns a loom thread standing for its
//! timer, which may fire at any point of the execution: loom then explores the timeout racing
//! every unpark. A fired timer makes `park` return `TimedOut` whatever the clock says, so use
//! it only for callers that give up on `TimedOut` (a caller that re-checks the clock and parks
//! again would wait forever after the first fire).
#![allow(dead_code)] // parts of parking_lot_core's API that no primitive uses yet

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use loom::sync::{Condvar, Mutex};

/// Result of a park operation.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum ParkResult {
    /// Unparked by another thread, with the given token.
    Unparked(UnparkToken),
    /// The validation callback returned false.
    Invalid,
    /// The deadline fired.
    TimedOut,
}

impl ParkResult {
    /// True if another thread unparked us.
    pub(crate) fn is_unparked(self) -> bool {
        matches!(self, ParkResult::Unparked(_))
    }
}

/// Result of an unpark operation.
#[derive(Copy, Clone, Default, Eq, PartialEq, Debug)]
#[non_exhaustive]
pub(crate) struct UnparkResult {
    /// How many threads were unparked.
    pub(crate) unparked_threads: usize,
    /// How many threads were requeued.
    pub(crate) requeued_threads: usize,
    /// Whether threads remain parked on the original key.
    pub(crate) have_more_threads: bool,
}

/// What `unpark_requeue` should do.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum RequeueOp {
    /// Nothing.
    Abort,
    /// Unpark the first thread and requeue the rest.
    UnparkOneRequeueRest,
    /// Requeue every thread.
    RequeueAll,
    /// Unpark the first thread, leave the rest.
    UnparkOne,
    /// Requeue the first thread, leave the rest.
    RequeueOne,
}

/// What `unpark_filter` should do with one thread.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) enum FilterOp {
    /// Unpark it and go on.
    Unpark,
    /// Leave it and go on.
    Skip,
    /// Leave it and stop.
    Stop,
}

/// A value an unparker passes to the thread it wakes.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) struct UnparkToken(pub(crate) usize);

/// A value a parked thread shows to `unpark_filter`.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub(crate) struct ParkToken(pub(crate) usize);

/// The default unpark token.
pub(crate) const DEFAULT_UNPARK_TOKEN: UnparkToken = UnparkToken(0);

/// The default park token.
pub(crate) const DEFAULT_PARK_TOKEN: ParkToken = ParkToken(0);

/// One parked thread, shared between its queue entry, its own `park` call and its timer.
///
/// The thread sleeps on its own condition variable: a loom `Thread::unpark` would be wrong
/// here, since loom lets it wake a thread blocked in any other primitive (a join, a mutex)
/// if it arrives after the parked thread has moved on.
struct Waiter {
    state: Mutex<WaitState>,
    wake: Condvar,
}

#[derive(Default)]
struct WaitState {
    /// Set, with the unparker's token, by the unparker that took the thread out of the queue.
    unparked: Option<UnparkToken>,
    /// Set by the timer thread when the deadline fires.
    fired: bool,
}

impl Waiter {
    /// Hands the token over and wakes the thread. The caller holds the queue lock and has
    /// taken the thread out of the queue.
    fn unpark(&self, token: UnparkToken) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.unparked = Some(token);
        self.wake.notify_one();
    }

    /// What the timer thread does when the deadline comes.
    fn fire(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.fired = true;
        self.wake.notify_one();
    }
}

/// A queued thread: its key (changed by a requeue), its park token and the waiter.
struct Entry {
    key: usize,
    park_token: ParkToken,
    waiter: Arc<Waiter>,
}

loom::lazy_static! {
    /// Every parked thread, in the order it parked.
    static ref LOT: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
}

fn lot() -> loom::sync::MutexGuard<'static, Vec<Entry>> {
    LOT.lock().unwrap_or_else(|e| e.into_inner())
}

std::thread_local! {
    /// Whether deadlines fire. A std thread-local of the OS thread that runs the model: loom
    /// runs every thread of an execution on it.
    static FIRING: Cell<bool> = const { Cell::new(false) };
}

std::thread_local! {
    /// Whether queued waiters spin before they sleep (`Waiting::spin_before_sleep`): off
    /// unless inside [`with_spinning_waiters`], because the spin's yield multiplies the
    /// interleavings of every model with a `Condvar` or `Condition` in it (the two-waiter
    /// notify models went from about 5 to over 14 minutes).
    static SPINNING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the thread-local switch `flag` on, and puts it back as it was afterwards
/// (also when `f` panics).
fn with_switch<R>(flag: &'static std::thread::LocalKey<Cell<bool>>, f: impl FnOnce() -> R) -> R {
    struct Reset(&'static std::thread::LocalKey<Cell<bool>>, bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            self.0.with(|c| c.set(self.1));
        }
    }
    let _reset = Reset(flag, flag.with(|c| c.replace(true)));
    f()
}

/// Runs `f` (a `loom::model` call) with waiters that spin (one yield) between queueing and
/// sleeping, so that a notifier can find them spinning.
pub(crate) fn with_spinning_waiters<R>(f: impl FnOnce() -> R) -> R {
    with_switch(&SPINNING, f)
}

/// Whether waiters spin before they sleep in the running model (see
/// [`with_spinning_waiters`]).
pub(crate) fn spinning_waiters() -> bool {
    SPINNING.with(Cell::get)
}

/// Runs `f` (a `loom::model` call) with deadlines that may fire at any point: each timed
/// `park` gets a timer thread that loom schedules like any other. Each timer counts against
/// loom's thread limit.
pub(crate) fn with_firing_deadlines<R>(f: impl FnOnce() -> R) -> R {
    with_switch(&FIRING, f)
}

/// Parks the calling thread on `key`: see `parking_lot_core::park`. The deadline never fires
/// unless inside [`with_firing_deadlines`].
///
/// # Safety
///
/// As `parking_lot_core::park`: `validate` and `timed_out` run under the queue lock and must
/// not panic or call into the parking lot; `before_sleep` may unpark but not park.
pub(crate) unsafe fn park(
    key: usize,
    validate: impl FnOnce() -> bool,
    before_sleep: impl FnOnce(),
    timed_out: impl FnOnce(usize, bool),
    park_token: ParkToken,
    timeout: Option<Instant>,
) -> ParkResult {
    let waiter = Arc::new(Waiter {
        state: Mutex::new(WaitState::default()),
        wake: Condvar::new(),
    });
    {
        let mut lot = lot();
        if !validate() {
            return ParkResult::Invalid;
        }
        lot.push(Entry {
            key,
            park_token,
            waiter: waiter.clone(),
        });
    }
    if timeout.is_some() && FIRING.with(Cell::get) {
        let timer = waiter.clone();
        loom::thread::spawn(move || timer.fire());
    }
    before_sleep();
    let mut s = waiter.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(token) = s.unparked {
            return ParkResult::Unparked(token);
        }
        if s.fired {
            // Lock order: the queue, then a waiter's state (as unparkers take them).
            drop(s);
            let mut lot = lot();
            if let Some(i) = lot.iter().position(|e| Arc::ptr_eq(&e.waiter, &waiter)) {
                let key = lot.remove(i).key;
                let was_last_thread = !lot.iter().any(|e| e.key == key);
                timed_out(key, was_last_thread);
                return ParkResult::TimedOut;
            }
            // An unparker took us out of the queue first, and set `unparked` while it held
            // the queue lock we have held since.
            drop(lot);
            s = waiter.state.lock().unwrap_or_else(|e| e.into_inner());
            debug_assert!(s.unparked.is_some());
            continue;
        }
        s = waiter.wake.wait(s).unwrap_or_else(|e| e.into_inner());
    }
}

/// Unparks the first thread parked on `key`: see `parking_lot_core::unpark_one`.
///
/// # Safety
///
/// As `parking_lot_core::unpark_one`: `callback` runs under the queue lock and must not panic
/// or call into the parking lot.
pub(crate) unsafe fn unpark_one(
    key: usize,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> UnparkResult {
    let mut lot = lot();
    let mut result = UnparkResult::default();
    let Some(i) = lot.iter().position(|e| e.key == key) else {
        callback(result);
        return result;
    };
    let entry = lot.remove(i);
    result.unparked_threads = 1;
    result.have_more_threads = lot.iter().any(|e| e.key == key);
    let token = callback(result);
    entry.waiter.unpark(token);
    result
}

/// Unparks every thread parked on `key`: see `parking_lot_core::unpark_all`.
///
/// # Safety
///
/// None beyond `parking_lot_core::unpark_all`'s (the key should be the caller's).
pub(crate) unsafe fn unpark_all(key: usize, unpark_token: UnparkToken) -> usize {
    let mut lot = lot();
    let (woken, kept): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut *lot)
        .into_iter()
        .partition(|e| e.key == key);
    *lot = kept;
    for e in &woken {
        e.waiter.unpark(unpark_token);
    }
    woken.len()
}

/// Unparks the threads on `key` that `filter` picks: see `parking_lot_core::unpark_filter`.
///
/// # Safety
///
/// As `parking_lot_core::unpark_filter`: `filter` and `callback` run under the queue lock and
/// must not panic or call into the parking lot.
pub(crate) unsafe fn unpark_filter(
    key: usize,
    mut filter: impl FnMut(ParkToken) -> FilterOp,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> UnparkResult {
    let mut lot = lot();
    let mut result = UnparkResult::default();
    let mut woken = Vec::new();
    let mut kept = Vec::new();
    let mut stopped = false;
    for e in std::mem::take(&mut *lot) {
        if stopped || e.key != key {
            kept.push(e);
            continue;
        }
        match filter(e.park_token) {
            FilterOp::Unpark => woken.push(e),
            FilterOp::Skip => {
                result.have_more_threads = true;
                kept.push(e);
            }
            FilterOp::Stop => {
                result.have_more_threads = true;
                stopped = true;
                kept.push(e);
            }
        }
    }
    *lot = kept;
    result.unparked_threads = woken.len();
    let token = callback(result);
    for e in &woken {
        e.waiter.unpark(token);
    }
    result
}

/// Moves threads from `key_from` to `key_to`, maybe unparking the first: see
/// `parking_lot_core::unpark_requeue`.
///
/// # Safety
///
/// As `parking_lot_core::unpark_requeue`: `validate` and `callback` run under the queue lock
/// and must not panic or call into the parking lot.
pub(crate) unsafe fn unpark_requeue(
    key_from: usize,
    key_to: usize,
    validate: impl FnOnce() -> RequeueOp,
    callback: impl FnOnce(RequeueOp, UnparkResult) -> UnparkToken,
) -> UnparkResult {
    let mut lot = lot();
    let mut result = UnparkResult::default();
    let op = validate();
    if op == RequeueOp::Abort {
        return result;
    }
    let unpark_first = matches!(op, RequeueOp::UnparkOneRequeueRest | RequeueOp::UnparkOne);
    let only_one = matches!(op, RequeueOp::UnparkOne | RequeueOp::RequeueOne);
    let mut woken = None;
    let mut requeued = Vec::new();
    let mut kept = Vec::new();
    let mut stopped = false;
    for mut e in std::mem::take(&mut *lot) {
        if stopped || e.key != key_from {
            kept.push(e);
            continue;
        }
        if unpark_first && woken.is_none() {
            woken = Some(e);
            result.unparked_threads = 1;
        } else {
            e.key = key_to;
            requeued.push(e);
            result.requeued_threads += 1;
        }
        stopped = only_one;
    }
    if stopped {
        result.have_more_threads = kept.iter().any(|e| e.key == key_from);
    }
    // Requeued threads queue behind the threads already waiting on `key_to`.
    kept.extend(requeued);
    *lot = kept;
    let token = callback(op, result);
    if let Some(e) = woken {
        e.waiter.unpark(token);
    }
    result
}

/// Backoff for spin loops: under loom, one spin (a `yield_now`, which tells loom the thread
/// waits for another), then "park instead".
#[derive(Default)]
pub(crate) struct SpinWait {
    counter: u32,
}

impl SpinWait {
    /// Spins this many times before advising to park.
    const LIMIT: u32 = 1;

    /// A new `SpinWait`.
    pub(crate) fn new() -> Self {
        SpinWait { counter: 0 }
    }

    /// Starts counting again.
    pub(crate) fn reset(&mut self) {
        self.counter = 0;
    }

    /// Yields once and returns true, or returns false once the limit is reached.
    pub(crate) fn spin(&mut self) -> bool {
        if self.counter >= Self::LIMIT {
            return false;
        }
        self.counter += 1;
        loom::thread::yield_now();
        true
    }

    /// Yields (a loom spin loop must, or loom explores it forever).
    pub(crate) fn spin_no_yield(&mut self) {
        self.counter = (self.counter + 1).min(Self::LIMIT);
        loom::thread::yield_now();
    }
}

/// For the crate's loom tests: runs the model `f` with at most `bound` preemptions per
/// execution, unless `LOOM_MAX_PREEMPTIONS` says otherwise (three threads explored
/// exhaustively take far too long).
#[cfg(test)]
pub(crate) fn bounded(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

/// Models of the model: the shim keeps parking_lot_core's promises, and the raw lock's timeout
/// races every release. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib park_loom`.
#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::thread;

    use super::*;
    use crate::Lock;

    /// Parks on `key` until unparked (or `validate` refuses); no timeout.
    fn park_plain(key: usize, validate: impl FnOnce() -> bool) -> ParkResult {
        // SAFETY: the callbacks neither panic nor call into the parking lot.
        unsafe { park(key, validate, || {}, |_, _| {}, DEFAULT_PARK_TOKEN, None) }
    }

    fn key_of<T>(x: &T) -> usize {
        std::ptr::from_ref(x).addr()
    }

    #[test]
    fn a_flag_set_before_unpark_all_is_never_missed() {
        loom::model::Builder::new().check(|| {
            let flag = Arc::new(AtomicBool::new(false));
            let f2 = flag.clone();
            let key = key_of(&*flag);
            let t = thread::spawn(move || {
                while !f2.load(Ordering::Acquire) {
                    let r = park_plain(key, || !f2.load(Ordering::Relaxed));
                    assert_ne!(r, ParkResult::TimedOut);
                }
            });
            flag.store(true, Ordering::Release);
            // SAFETY: our own key.
            unsafe { unpark_all(key, DEFAULT_UNPARK_TOKEN) };
            t.join().unwrap();
            assert!(lot().is_empty());
        });
    }

    #[test]
    fn unpark_one_wakes_in_park_order_and_reports_who_is_left() {
        bounded(3, || {
            let queued = Arc::new(AtomicUsize::new(0));
            let order = Arc::new(std::sync::Mutex::new(Vec::new()));
            let key = key_of(&*queued);
            let waiters: Vec<_> = (0..2)
                .map(|i| {
                    let (queued, order) = (queued.clone(), order.clone());
                    thread::spawn(move || {
                        let r = park_plain(key, || {
                            // Under the queue lock: the order of these pushes is queue order.
                            order.lock().unwrap().push(i);
                            queued.fetch_add(1, Ordering::Relaxed);
                            true
                        });
                        (i, r)
                    })
                })
                .collect();
            while queued.load(Ordering::Relaxed) < 2 {
                thread::yield_now();
            }
            // SAFETY: our own key; the callbacks do not panic unless the shim is wrong.
            let first = unsafe {
                unpark_one(key, |r| {
                    assert_eq!((r.unparked_threads, r.have_more_threads), (1, true));
                    UnparkToken(1)
                })
            };
            assert!(first.have_more_threads);
            // SAFETY: as above.
            let second = unsafe {
                unpark_one(key, |r| {
                    assert_eq!((r.unparked_threads, r.have_more_threads), (1, false));
                    UnparkToken(2)
                })
            };
            assert_eq!(second.unparked_threads, 1);
            // SAFETY: as above.
            let none = unsafe { unpark_one(key, |_| UnparkToken(3)) };
            assert_eq!(none.unparked_threads, 0);
            let order = order.lock().unwrap().clone();
            for w in waiters {
                let (i, r) = w.join().unwrap();
                let expected = if order[0] == i { 1 } else { 2 };
                assert_eq!(r, ParkResult::Unparked(UnparkToken(expected)));
            }
        });
    }

    #[test]
    fn requeue_and_filter_move_and_pick_waiters() {
        bounded(3, || {
            let queued = Arc::new(AtomicUsize::new(0));
            let from = key_of(&*queued);
            let to = from + 1;
            let waiters: Vec<_> = (0..2)
                .map(|i| {
                    let queued = queued.clone();
                    thread::spawn(move || {
                        // SAFETY: the callbacks neither panic nor call into the parking lot.
                        unsafe {
                            park(
                                from,
                                || {
                                    queued.fetch_add(1, Ordering::Relaxed);
                                    true
                                },
                                || {},
                                |_, _| {},
                                ParkToken(i),
                                None,
                            )
                        }
                    })
                })
                .collect();
            while queued.load(Ordering::Relaxed) < 2 {
                thread::yield_now();
            }
            // Move both to `to`, waking nobody.
            // SAFETY: our own keys; the callbacks do not panic unless the shim is wrong.
            let moved = unsafe {
                unpark_requeue(
                    from,
                    to,
                    || RequeueOp::RequeueAll,
                    |_, r| {
                        assert_eq!((r.unparked_threads, r.requeued_threads), (0, 2));
                        UnparkToken(9)
                    },
                )
            };
            assert!(!moved.have_more_threads);
            // SAFETY: as above.
            assert_eq!(unsafe { unpark_all(from, UnparkToken(9)) }, 0);
            // Wake only the waiter whose park token is 1.
            // SAFETY: as above.
            let picked = unsafe {
                unpark_filter(
                    to,
                    |t| {
                        if t == ParkToken(1) {
                            FilterOp::Unpark
                        } else {
                            FilterOp::Skip
                        }
                    },
                    |r| {
                        assert_eq!((r.unparked_threads, r.have_more_threads), (1, true));
                        UnparkToken(7)
                    },
                )
            };
            assert_eq!(picked.unparked_threads, 1);
            // SAFETY: as above.
            assert_eq!(unsafe { unpark_all(to, UnparkToken(8)) }, 1);
            let results: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
            assert_eq!(
                results,
                [
                    ParkResult::Unparked(UnparkToken(8)),
                    ParkResult::Unparked(UnparkToken(7))
                ]
            );
            assert!(lot().is_empty());
        });
    }

    #[test]
    fn a_deadline_racing_unpark_one_gives_exactly_one_outcome() {
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let anchor = Arc::new(AtomicUsize::new(0));
                let key = key_of(&*anchor);
                let a2 = anchor.clone();
                let unparker = thread::spawn(move || {
                    // SAFETY: our own key; the callback does not panic.
                    unsafe { unpark_one(key, |_| UnparkToken(5)) }.unparked_threads
                });
                // SAFETY: the callbacks neither panic nor call into the parking lot.
                let r = unsafe {
                    park(
                        key,
                        || true,
                        || {},
                        |k, last| {
                            assert_eq!(k, key);
                            assert!(last);
                            a2.store(1, Ordering::Relaxed);
                        },
                        DEFAULT_PARK_TOKEN,
                        Some(Instant::now()),
                    )
                };
                let unparked = unparker.join().unwrap();
                match r {
                    ParkResult::Unparked(t) => {
                        assert_eq!((t, unparked), (UnparkToken(5), 1));
                        assert_eq!(anchor.load(Ordering::Relaxed), 0, "timed_out not called");
                    }
                    ParkResult::TimedOut => {
                        assert_eq!(unparked, 0);
                        assert_eq!(anchor.load(Ordering::Relaxed), 1, "timed_out called");
                    }
                    ParkResult::Invalid => panic!("validate said yes"),
                }
                assert!(lot().is_empty());
            });
        });
    }

    #[test]
    fn a_lock_timeout_racing_a_release_strands_nobody() {
        // One timed and one untimed waiter behind a held lock; the timer may fire at any
        // point. Whoever times out, and whether it was the last waiter or not, the untimed
        // waiter must get the lock and no one may stay queued.
        with_firing_deadlines(|| {
            bounded(3, || {
                let lock = Arc::new(Lock::new());
                lock.acquire();
                let l1 = lock.clone();
                let timed = thread::spawn(move || {
                    let got = l1.acquire_timeout(Duration::from_secs(3600));
                    if got {
                        l1.release().unwrap();
                    }
                    got
                });
                let l2 = lock.clone();
                let plain = thread::spawn(move || {
                    l2.acquire();
                    l2.release().unwrap();
                });
                lock.release().unwrap();
                timed.join().unwrap();
                plain.join().unwrap();
                assert!(!lock.locked());
                assert!(lot().is_empty(), "a waiter left in the queue");
                assert!(lock.try_acquire());
                lock.release().unwrap();
            });
        });
    }
}
