//! `TaskFuture`, `wait` and `as_completed`: CPython's `test_concurrent_futures` cases
//! (test_future.py, test_wait.py, test_as_completed.py), one behaviour a test, on hand-made
//! futures and on pool futures. Timed cases never accept an early return and allow late ones.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::futures::{
    FutureError, ReturnWhen, SetRunning, TaskException, TaskFuture, as_completed,
    as_completed_timeout, wait, wait_timeout,
};
use threadkit::{Event, Thread, ThreadPoolExecutor, WaitKind};

/// The excepthook is global: tests that replace it run one at a time.
static HOOK: Mutex<()> = Mutex::new(());

fn finished<T>(v: T) -> TaskFuture<T> {
    let f = TaskFuture::new();
    f.set_result(v).unwrap();
    f
}

fn failed<T>(msg: &str) -> TaskFuture<T> {
    let f = TaskFuture::new();
    f.set_exception(TaskException::custom(msg.to_string()))
        .unwrap();
    f
}

fn cancelled<T>() -> TaskFuture<T> {
    let f = TaskFuture::new();
    assert!(f.cancel());
    f
}

fn running<T>() -> TaskFuture<T> {
    let f = TaskFuture::new();
    assert_eq!(f.set_running_or_notify_cancel(), Ok(SetRunning::Running));
    f
}

// ---- states -------------------------------------------------------------------------------

#[test]
fn states_of_pending_running_cancelled_finished() {
    let p: TaskFuture<u8> = TaskFuture::new();
    assert!(!p.done() && !p.running() && !p.cancelled());
    let r: TaskFuture<u8> = running();
    assert!(!r.done() && r.running() && !r.cancelled());
    let c: TaskFuture<u8> = cancelled();
    assert!(c.done() && !c.running() && c.cancelled());
    let f = finished(1u8);
    assert!(f.done() && !f.running() && !f.cancelled());
    let e: TaskFuture<u8> = failed("x");
    assert!(e.done() && !e.cancelled());
}

#[test]
fn cancel_is_true_only_while_pending_or_already_cancelled() {
    assert!(TaskFuture::<u8>::new().cancel());
    let c: TaskFuture<u8> = cancelled();
    assert!(c.cancel());
    assert!(!running::<u8>().cancel());
    assert!(!finished(1).cancel());
    assert!(!failed::<u8>("x").cancel());
}

#[test]
fn set_running_or_notify_cancel_on_cancelled_says_cancelled_once() {
    let c: TaskFuture<u8> = cancelled();
    assert_eq!(c.set_running_or_notify_cancel(), Ok(SetRunning::Cancelled));
    let err = c.set_running_or_notify_cancel().unwrap_err();
    assert_eq!(err.state(), "cancelled");
    assert!(err.to_string().contains("set_running_or_notify_cancel"));
}

#[test]
fn set_running_twice_or_after_finish_is_an_invalid_state() {
    let r: TaskFuture<u8> = running();
    assert_eq!(
        r.set_running_or_notify_cancel().unwrap_err().state(),
        "running"
    );
    let f = finished(1);
    assert_eq!(
        f.set_running_or_notify_cancel().unwrap_err().state(),
        "finished"
    );
}

#[test]
fn multiple_set_result_is_an_invalid_state_and_hands_the_value_back() {
    let f = finished(String::from("first"));
    let err = f.set_result(String::from("second")).unwrap_err();
    assert_eq!(err.state(), "finished");
    assert!(err.to_string().contains("set_result"), "{err}");
    assert!(err.to_string().contains("hand-made future"), "{err}");
    assert_eq!(err.into_inner(), "second");
    assert_eq!(f.result().unwrap(), "first");
}

#[test]
fn multiple_set_exception_is_an_invalid_state() {
    let f: TaskFuture<u8> = failed("first");
    let err = f
        .set_exception(TaskException::custom("second"))
        .unwrap_err();
    assert_eq!(err.state(), "finished");
    assert_eq!(err.into_inner().to_string(), "second");
    assert_eq!(f.exception().unwrap().unwrap().to_string(), "first");
}

#[test]
fn set_result_on_a_cancelled_future_is_refused() {
    let f: TaskFuture<u8> = cancelled();
    assert_eq!(f.set_result(3).unwrap_err().state(), "cancelled");
    assert!(f.cancelled());
}

#[test]
fn debug_shows_the_state() {
    assert!(format!("{:?}", TaskFuture::<u8>::new()).contains("pending"));
    assert!(format!("{:?}", running::<u8>()).contains("running"));
    assert!(format!("{:?}", cancelled::<u8>()).contains("cancelled"));
    assert!(format!("{:?}", finished(1)).contains("finished"));
}

// ---- result / exception -------------------------------------------------------------------

#[test]
fn result_timeout_on_pending_times_out_never_early() {
    let f: TaskFuture<u8> = TaskFuture::new();
    let d = Duration::from_millis(50);
    let t0 = Instant::now();
    let err = f.result_timeout(d).unwrap_err();
    assert!(t0.elapsed() >= d);
    match err {
        FutureError::Timeout { timeout, .. } => assert_eq!(timeout, d),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[test]
fn result_of_cancelled_is_cancelled_error() {
    let f: TaskFuture<u8> = cancelled();
    let err = f.result_timeout(Duration::ZERO).unwrap_err();
    assert!(matches!(err, FutureError::Cancelled { .. }), "{err:?}");
    assert!(err.to_string().contains("cancelled"));
    assert!(matches!(f.exception(), Err(FutureError::Cancelled { .. })));
}

#[test]
fn result_of_failed_is_its_exception() {
    let f: TaskFuture<u8> = failed("boom");
    match f.result() {
        Err(FutureError::Failed(e)) => assert_eq!(e.to_string(), "boom"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn result_of_finished_returns_by_reference() {
    let f = finished(vec![1, 2]);
    let a: &Vec<i32> = f.result().unwrap();
    let b: &Vec<i32> = f.result_timeout(Duration::ZERO).unwrap();
    assert!(std::ptr::eq(a, b));
}

#[test]
fn exception_timeout_on_pending_times_out_and_success_gives_none() {
    let f: TaskFuture<u8> = TaskFuture::new();
    let d = Duration::from_millis(50);
    let t0 = Instant::now();
    assert!(matches!(
        f.exception_timeout(d),
        Err(FutureError::Timeout { .. })
    ));
    assert!(t0.elapsed() >= d);
    f.set_result(1).unwrap();
    assert!(f.exception().unwrap().is_none());
}

#[test]
fn result_set_from_another_thread_wakes_the_waiter() {
    let f = Arc::new(TaskFuture::new());
    let g = f.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(20));
        g.set_result(42).unwrap();
    });
    t.start().unwrap();
    assert_eq!(*f.result().unwrap(), 42);
    t.join().unwrap();
}

#[test]
fn cancel_from_another_thread_wakes_the_waiter() {
    let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
    let g = f.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(20));
        assert!(g.cancel());
    });
    t.start().unwrap();
    assert!(matches!(f.result(), Err(FutureError::Cancelled { .. })));
    t.join().unwrap();
}

#[test]
fn several_threads_read_one_result_by_reference() {
    let f = Arc::new(TaskFuture::new());
    let sum = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (f, sum) = (f.clone(), sum.clone());
            let t = Thread::new(move || {
                let v: &String = f.result().unwrap();
                sum.fetch_add(v.len(), Ordering::SeqCst);
            });
            t.start().unwrap();
            t
        })
        .collect();
    f.set_result(String::from("hello")).unwrap();
    for t in readers {
        t.join().unwrap();
    }
    assert_eq!(sum.load(Ordering::SeqCst), 20);
}

#[test]
fn owner_takes_the_value_out() {
    let f = finished(String::from("mine"));
    let s: String = f.into_result().unwrap();
    assert_eq!(s, "mine");
}

#[test]
fn into_result_timeout_hands_the_future_back() {
    let f: TaskFuture<u8> = TaskFuture::new();
    let (err, back) = f
        .into_result_timeout(Duration::from_millis(10))
        .unwrap_err();
    assert!(matches!(err, FutureError::Timeout { .. }));
    let back = back.unwrap();
    back.set_result(4).unwrap();
    assert_eq!(back.into_result().unwrap(), 4);
}

#[test]
fn a_thread_waiting_on_a_future_records_a_future_wait() {
    let f: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
    let g = f.clone();
    let t = Thread::new(move || {
        let _ = g.result();
    });
    t.start().unwrap();
    let info = loop {
        if let Some(info) = t.waiting() {
            break info;
        }
        std::thread::yield_now();
    };
    f.set_result(1).unwrap();
    t.join().unwrap();
    assert_eq!(info.kind(), WaitKind::Future);
    assert_eq!(info.kind().to_string(), "future");
    assert_eq!(info.owner(), None); // not running anywhere
}

#[test]
fn a_future_wait_names_the_worker_running_the_task() {
    let pool = ThreadPoolExecutor::builder()
        .thread_name_prefix("runner")
        .build()
        .unwrap();
    let gate = Arc::new(Event::new());
    let started = Arc::new(Event::new());
    let (g, s) = (gate.clone(), started.clone());
    let f = Arc::new(
        pool.submit(move || {
            s.set();
            g.wait();
        })
        .unwrap(),
    );
    started.wait();
    let f2 = f.clone();
    let waiter = Thread::new(move || {
        let _ = f2.result();
    });
    waiter.start().unwrap();
    let info = loop {
        if let Some(info) = waiter.waiting() {
            break info;
        }
        std::thread::yield_now();
    };
    let owner = info.owner().map(|t| t.name());
    gate.set();
    waiter.join().unwrap();
    assert_eq!(info.kind(), WaitKind::Future);
    assert_eq!(owner.as_deref(), Some("runner_0"));
}

// ---- callbacks ----------------------------------------------------------------------------

#[test]
fn done_callback_with_result() {
    let seen = Arc::new(Mutex::new(None));
    let f = TaskFuture::new();
    let s = seen.clone();
    f.add_done_callback(move |f| *s.lock().unwrap() = Some(*f.result().unwrap()));
    assert!(seen.lock().unwrap().is_none());
    f.set_result(5).unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(5));
}

#[test]
fn done_callback_with_exception() {
    let seen = Arc::new(Mutex::new(None));
    let f: TaskFuture<u8> = TaskFuture::new();
    let s = seen.clone();
    f.add_done_callback(move |f| {
        *s.lock().unwrap() = f.exception().unwrap().map(|e| e.to_string());
    });
    f.set_exception(TaskException::custom("bad")).unwrap();
    assert_eq!(seen.lock().unwrap().as_deref(), Some("bad"));
}

#[test]
fn done_callback_with_cancel() {
    let seen = Arc::new(Mutex::new(false));
    let f: TaskFuture<u8> = TaskFuture::new();
    let s = seen.clone();
    f.add_done_callback(move |f| *s.lock().unwrap() = f.cancelled());
    assert!(f.cancel());
    assert!(*seen.lock().unwrap());
}

#[test]
fn done_callbacks_run_in_the_order_added() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let f = TaskFuture::new();
    for i in 0..5 {
        let o = order.clone();
        f.add_done_callback(move |_| o.lock().unwrap().push(i));
    }
    f.set_result(()).unwrap();
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn done_callback_on_a_done_future_runs_at_once() {
    for f in [finished(1u8), failed("x"), cancelled()] {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        f.add_done_callback(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn a_panicking_callback_goes_to_the_excepthook_and_the_others_still_run() {
    let _serial = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let reports = Arc::new(Mutex::new(Vec::new()));
    let r = reports.clone();
    threadkit::set_excepthook(move |_, p| r.lock().unwrap().push(p.message().to_string()));
    let ran = Arc::new(AtomicUsize::new(0));
    let f = TaskFuture::new();
    let r1 = ran.clone();
    f.add_done_callback(|_| panic!("callback failed"));
    f.add_done_callback(move |_| {
        r1.fetch_add(1, Ordering::SeqCst);
    });
    f.set_result(1).unwrap();
    // Already done: runs at once, and its panic is reported the same way.
    f.add_done_callback(|_| panic!("late callback failed"));
    threadkit::reset_excepthook();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(
        *reports.lock().unwrap(),
        ["callback failed", "late callback failed"]
    );
    assert_eq!(*f.result().unwrap(), 1);
}

#[test]
fn a_task_panic_goes_to_the_future_not_the_excepthook() {
    let _serial = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let reports = Arc::new(AtomicUsize::new(0));
    let r = reports.clone();
    threadkit::set_excepthook(move |_, _| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let pool = ThreadPoolExecutor::builder()
        .thread_name_prefix("panicky")
        .build()
        .unwrap();
    let f = pool
        .submit(|| -> u8 { panic!("task failed: {}", 7) })
        .unwrap();
    let e = f.exception().unwrap().unwrap().clone();
    pool.shutdown(true, false).unwrap();
    threadkit::reset_excepthook();
    let p = e.panic().unwrap();
    assert_eq!(p.message(), "task failed: 7");
    assert_eq!(p.thread(), "panicky_0");
    assert!(p.location().unwrap().contains("futures.rs"));
    assert_eq!(reports.load(Ordering::SeqCst), 0);
}

// ---- async ---------------------------------------------------------------------------------

/// A tiny `block_on`: polls on this thread and parks it until the waker unparks it.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Wake};
    struct Unparker(std::thread::Thread);
    impl Wake for Unparker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unparker(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn await_a_pool_task_from_async_code() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let a = pool
        .submit(|| {
            threadkit::sleep(Duration::from_millis(20));
            20
        })
        .unwrap();
    let b = pool.submit(|| 22).unwrap();
    let sum = block_on(async move { a.await.unwrap() + b.await.unwrap() });
    assert_eq!(sum, 42);
}

#[test]
fn await_a_cancelled_or_failed_future_gives_the_error() {
    let c: TaskFuture<u8> = cancelled();
    assert!(matches!(block_on(c), Err(FutureError::Cancelled { .. })));
    let e: TaskFuture<u8> = failed("nope");
    assert!(matches!(block_on(e), Err(FutureError::Failed(_))));
}

#[test]
fn await_waits_for_callbacks_before_taking_the_value() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let go = Arc::new(Event::new());
    let g = go.clone();
    let fut = pool
        .submit(move || {
            g.wait();
            String::from("v")
        })
        .unwrap();
    let in_cb = Arc::new(Event::new());
    let release = Arc::new(Event::new());
    let cb_done = Arc::new(AtomicUsize::new(0));
    let (i, r, d) = (in_cb.clone(), release.clone(), cb_done.clone());
    fut.add_done_callback(move |f| {
        i.set();
        r.wait();
        assert_eq!(f.result().unwrap(), "v"); // still readable while the owner waits
        d.store(1, Ordering::SeqCst);
    });
    go.set();
    in_cb.wait(); // the worker is inside the callback, the future is done
    assert!(fut.done());
    let r = release.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(20));
        r.set();
    });
    t.start().unwrap();
    assert_eq!(block_on(fut).unwrap(), "v");
    assert_eq!(cb_done.load(Ordering::SeqCst), 1);
    t.join().unwrap();
}

// ---- wait -----------------------------------------------------------------------------------

#[test]
fn wait_first_completed_returns_at_the_first_done() {
    let pending: TaskFuture<u8> = TaskFuture::new();
    let slow = Arc::new(TaskFuture::new());
    let s = slow.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(20));
        s.set_result(1u8).unwrap();
    });
    t.start().unwrap();
    let (done, not_done) = wait([&pending, &*slow], ReturnWhen::FirstCompleted);
    assert_eq!(done.len(), 1);
    assert!(std::ptr::eq(done[0], &*slow));
    assert!(std::ptr::eq(not_done[0], &pending));
    t.join().unwrap();
}

#[test]
fn wait_first_completed_counts_a_cancel() {
    let a: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
    let b: TaskFuture<u8> = TaskFuture::new();
    let a2 = a.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(10));
        a2.cancel();
    });
    t.start().unwrap();
    let (done, not_done) = wait([&*a, &b], ReturnWhen::FirstCompleted);
    assert_eq!((done.len(), not_done.len()), (1, 1));
    assert!(done[0].cancelled());
    t.join().unwrap();
}

#[test]
fn wait_first_exception_returns_at_the_first_exception() {
    let ok = finished(1u8);
    let pending: TaskFuture<u8> = TaskFuture::new();
    let bad = Arc::new(TaskFuture::new());
    let b = bad.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(10));
        b.set_exception(TaskException::custom("x")).unwrap();
    });
    t.start().unwrap();
    let (done, not_done) = wait([&ok, &pending, &*bad], ReturnWhen::FirstException);
    assert_eq!((done.len(), not_done.len()), (2, 1));
    assert!(std::ptr::eq(not_done[0], &pending));
    t.join().unwrap();
}

#[test]
fn wait_first_exception_with_an_exception_already_returns_at_once() {
    let bad: TaskFuture<u8> = failed("x");
    let pending: TaskFuture<u8> = TaskFuture::new();
    let (done, not_done) = wait([&bad, &pending], ReturnWhen::FirstException);
    assert_eq!((done.len(), not_done.len()), (1, 1));
}

#[test]
fn wait_first_exception_without_one_waits_for_all() {
    let a = finished(1u8);
    let b = Arc::new(TaskFuture::new());
    let b2 = b.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(10));
        b2.set_result(2u8).unwrap();
    });
    t.start().unwrap();
    let (done, not_done) = wait([&a, &*b], ReturnWhen::FirstException);
    assert_eq!((done.len(), not_done.len()), (2, 0));
    t.join().unwrap();
}

#[test]
fn wait_all_completed_waits_for_every_future() {
    let pool = ThreadPoolExecutor::new(4).unwrap();
    let fs: Vec<_> = (0..8)
        .map(|i| {
            pool.submit(move || {
                threadkit::sleep(Duration::from_millis(i));
                i
            })
            .unwrap()
        })
        .collect();
    let (done, not_done) = wait(&fs, ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (8, 0));
    assert!(fs.iter().all(TaskFuture::done));
}

#[test]
fn wait_timeout_returns_what_is_done_never_early() {
    let a = finished(1u8);
    let b: TaskFuture<u8> = TaskFuture::new();
    let d = Duration::from_millis(50);
    let t0 = Instant::now();
    let (done, not_done) = wait_timeout([&a, &b], d, ReturnWhen::AllCompleted);
    assert!(t0.elapsed() >= d);
    assert_eq!((done.len(), not_done.len()), (1, 1));
}

#[test]
fn wait_counts_a_duplicate_once() {
    let a = finished(1u8);
    let (done, not_done) = wait([&a, &a, &a], ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (1, 0));
}

#[test]
fn wait_on_nothing_returns_at_once() {
    let none: [&TaskFuture<u8>; 0] = [];
    let (done, not_done) = wait(none, ReturnWhen::FirstCompleted);
    assert!(done.is_empty() && not_done.is_empty());
}

// ---- as_completed ----------------------------------------------------------------------------

#[test]
fn as_completed_yields_done_ones_first_then_in_completion_order() {
    let already = finished(0u8);
    let (a, b) = (Arc::new(TaskFuture::new()), Arc::new(TaskFuture::new()));
    let (a2, b2) = (a.clone(), b.clone());
    let t = Thread::new(move || {
        b2.set_result(2u8).unwrap();
        threadkit::sleep(Duration::from_millis(10));
        a2.set_result(1u8).unwrap();
    });
    let mut it = as_completed([&*a, &*b, &already]);
    t.start().unwrap();
    let order: Vec<u8> = it.by_ref().map(|f| *f.unwrap().result().unwrap()).collect();
    t.join().unwrap();
    assert_eq!(order, [0, 2, 1]);
}

#[test]
fn as_completed_yields_cancelled_futures() {
    let a: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
    let b = finished(1u8);
    let a2 = a.clone();
    let t = Thread::new(move || {
        threadkit::sleep(Duration::from_millis(10));
        assert!(a2.cancel());
    });
    t.start().unwrap();
    let got: Vec<bool> = as_completed([&b, &*a])
        .map(|f| f.unwrap().cancelled())
        .collect();
    t.join().unwrap();
    assert_eq!(got, [false, true]);
}

#[test]
fn as_completed_yields_a_duplicate_once() {
    let a = finished(1u8);
    let b: Arc<TaskFuture<u8>> = Arc::new(TaskFuture::new());
    let b2 = b.clone();
    let t = Thread::new(move || b2.set_result(2).unwrap());
    t.start().unwrap();
    let n = as_completed([&a, &*b, &a, &*b]).count();
    t.join().unwrap();
    assert_eq!(n, 2);
}

#[test]
fn as_completed_timeout_says_how_many_of_how_many_are_unfinished() {
    let a = finished(1u8);
    let (b, c): (TaskFuture<u8>, TaskFuture<u8>) = (TaskFuture::new(), TaskFuture::new());
    let d = Duration::from_millis(50);
    let t0 = Instant::now();
    let mut it = as_completed_timeout([&a, &b, &c], d);
    assert!(it.next().unwrap().is_ok());
    let err = it.next().unwrap().unwrap_err();
    assert!(t0.elapsed() >= d);
    assert_eq!((err.unfinished(), err.total()), (2, 3));
    assert!(
        err.to_string().starts_with("2 (of 3) futures unfinished"),
        "{err}"
    );
    assert!(it.next().is_none());
}

#[test]
fn as_completed_mixes_pools_and_hand_made_futures() {
    let p1 = ThreadPoolExecutor::new(1).unwrap();
    let p2 = ThreadPoolExecutor::new(1).unwrap();
    let fs = [
        p1.submit(|| 1).unwrap(),
        p2.submit(|| 2).unwrap(),
        finished(3),
    ];
    let mut got: Vec<i32> = as_completed(&fs)
        .map(|f| *f.unwrap().result().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, [1, 2, 3]);
}

#[test]
fn dropping_as_completed_early_unregisters() {
    let a: TaskFuture<u8> = TaskFuture::new();
    {
        let mut it = as_completed_timeout([&a], Duration::ZERO);
        assert!(it.next().unwrap().is_err());
    }
    // Completing after the iterator is gone tells nobody and does not fail.
    a.set_result(1).unwrap();
    assert_eq!(*a.result().unwrap(), 1);
}
