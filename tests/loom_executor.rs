//! loom models of the executor's future ([`TaskFuture`]): its state machine (cancel against
//! the worker starting it, two completions racing), a waiter parked against the completion,
//! and done callbacks against the completion. Every interleaving, with loom's atomics and
//! parking lot under the future's own atomics, slot lock and wait path.
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_executor
//! ```
//!
//! loom fails an execution in which every thread sleeps (a lost wake-up). The pool itself
//! (threads, the queue) is exercised by real-time tests (`tests/executor*.rs`) and chaos mode.
#![cfg(loom)]

mod loom_support;

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_support::{Handle, exhaustive};
use threadkit::futures::{FutureError, SetRunning, TaskException, TaskFuture};

#[test]
fn cancel_against_set_running_exactly_one_wins() {
    exhaustive(|| {
        let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
        let g = f.clone();
        let worker = thread::spawn(move || g.set_running_or_notify_cancel().unwrap().running());
        let cancelled = f.cancel();
        let runs = worker.join().unwrap();
        assert_ne!(cancelled, runs, "exactly one of cancel and run wins");
        assert_eq!(f.cancelled(), cancelled);
        assert_eq!(f.running(), runs);
    });
}

#[test]
fn set_result_against_cancel_exactly_one_wins() {
    exhaustive(|| {
        let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
        let g = f.clone();
        let setter = thread::spawn(move || g.set_result(1).is_ok());
        let cancelled = f.cancel();
        let set = setter.join().unwrap();
        assert_ne!(cancelled, set);
        match f.result() {
            Ok(v) => assert!(set && *v == 1),
            Err(FutureError::Cancelled { .. }) => assert!(cancelled),
            Err(e) => panic!("{e}"),
        }
    });
}

#[test]
fn two_completions_one_wins_and_the_other_gets_its_value_back() {
    exhaustive(|| {
        let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
        let g = f.clone();
        let other = thread::spawn(move || {
            g.set_exception(TaskException::custom("x"))
                .map_err(|e| e.into_inner().to_string())
        });
        let mine = f.set_result(7).map_err(|e| e.into_inner());
        let theirs = other.join().unwrap();
        match (mine, theirs) {
            (Ok(()), Err(back)) => {
                assert_eq!(back, "x");
                assert_eq!(*f.result().unwrap(), 7);
            }
            (Err(back), Ok(())) => {
                assert_eq!(back, 7);
                assert!(f.exception().unwrap().is_some());
            }
            other => panic!("exactly one completion must win: {other:?}"),
        }
    });
}

#[test]
fn a_parked_waiter_is_woken_by_the_worker() {
    exhaustive(|| {
        let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
        let handle = Handle::default();
        let (g, h) = (f.clone(), handle.clone());
        let waiter = thread::spawn(move || {
            h.publish();
            *g.result().unwrap()
        });
        handle.until_waiting();
        assert_eq!(f.set_running_or_notify_cancel(), Ok(SetRunning::Running));
        f.set_result(5).unwrap();
        assert_eq!(waiter.join().unwrap(), 5);
    });
}

#[test]
fn a_waiter_racing_the_completion_never_sleeps_forever() {
    exhaustive(|| {
        let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
        let g = f.clone();
        let waiter = thread::spawn(move || g.result().map(|v| *v).is_ok());
        f.set_result(3).unwrap();
        assert!(waiter.join().unwrap());
    });
}

#[test]
fn a_callback_added_against_the_completion_runs_exactly_once() {
    exhaustive(|| {
        let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let g = f.clone();
        let setter = thread::spawn(move || g.set_result(9).unwrap());
        let c = calls.clone();
        f.add_done_callback(move |f| {
            assert_eq!(*f.result().unwrap(), 9);
            c.fetch_add(1, Ordering::SeqCst);
        });
        setter.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}
