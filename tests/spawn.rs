//! Threads that return a value: `threadkit::spawn`, `Builder::spawn`, `JoinHandle<T>`, and the
//! panic payload that `JoinError::Panicked` keeps.
//!
//! Tests that replace the (global) excepthook hold `HOOK_TEST` and only record their own
//! threads (by name prefix).

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use threadkit::{Event, JoinError, JoinHandle, StartError, Thread, WaitKind, enumerate};

static HOOK_TEST: Mutex<()> = Mutex::new(());

/// Installs an excepthook that records `(thread name, message)` of threads named `prefix*`.
fn record_hook(prefix: &'static str) -> Arc<Mutex<Vec<(String, String)>>> {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let s = seen.clone();
    threadkit::set_excepthook(move |thread, panic| {
        if thread.name().starts_with(prefix) {
            s.lock()
                .unwrap()
                .push((thread.name(), panic.message().to_string()));
        }
    });
    seen
}

/// Counts drops, to tell whether a closure or a value was dropped (and when).
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn join_returns_the_closures_value_and_the_thread_is_a_registered_threadkit_thread() {
    let go = Arc::new(Event::new());
    let g = go.clone();
    let h = Thread::builder()
        .name("spawn-value")
        .daemon(true)
        .spawn(move || {
            g.wait();
            (threadkit::current_thread().name(), vec![1, 2, 3])
        })
        .unwrap();
    assert_eq!(h.thread().name(), "spawn-value");
    assert!(h.thread().is_daemon());
    assert!(h.thread().is_alive());
    assert!(!h.is_finished());
    assert!(enumerate().contains(h.thread()), "listed while it runs");
    go.set();
    let (name, v) = h.join().unwrap();
    assert_eq!(name, "spawn-value");
    assert_eq!(v, [1, 2, 3]);
}

/// `spawn` returns without waiting for the thread to run (std's behaviour): the thread is
/// registered and alive at once, and its native id is known once it runs.
#[test]
fn a_spawned_thread_is_alive_at_once_and_its_native_id_known_once_it_runs() {
    let running = Arc::new(Event::new());
    let go = Arc::new(Event::new());
    let (r, g) = (running.clone(), go.clone());
    let h = threadkit::spawn(move || {
        r.set();
        g.wait();
        threadkit::current_thread().native_id()
    });
    assert!(h.thread().is_alive());
    assert!(h.thread().ident().is_some());
    assert!(enumerate().contains(h.thread()));
    running.wait();
    let seen = h.thread().native_id();
    assert!(seen.is_some());
    go.set();
    assert_eq!(h.join().unwrap(), seen);
}

#[test]
fn spawn_uses_the_default_name_and_the_callers_daemon_flag() {
    let h = threadkit::spawn(|| threadkit::current_thread().is_daemon());
    assert!(h.thread().name().starts_with("Thread-"));
    let inherited = h.thread().is_daemon();
    assert_eq!(h.join().unwrap(), inherited);
    // From a non-daemon threadkit thread, the spawned thread is non-daemon.
    let outer = Thread::builder()
        .daemon(false)
        .spawn(|| threadkit::spawn(|| 1).thread().is_daemon())
        .unwrap();
    assert!(!outer.join().unwrap());
}

#[test]
fn a_question_mark_inside_the_worker_comes_back_as_the_value() {
    let h = threadkit::spawn(|| -> Result<i32, std::num::ParseIntError> {
        let n: i32 = "x".parse()?;
        Ok(n)
    });
    let err = h.join().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "invalid digit found in string");
}

#[test]
fn a_panic_goes_to_the_excepthook_once_and_join_hands_back_the_payload() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let seen = record_hook("spawn-panic");
    let h = Thread::builder()
        .name("spawn-panic-1")
        .spawn(|| -> u32 { panic::panic_any(vec![7u8, 8]) })
        .unwrap();
    let err = h.join().unwrap_err();
    let JoinError::Panicked(p) = &err else {
        panic!("expected Panicked, got {err:?}")
    };
    assert_eq!(p.thread(), "spawn-panic-1");
    assert!(p.has_payload());
    let payload = err.into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<Vec<u8>>(), Some(&vec![7, 8]));
    assert_eq!(
        *seen.lock().unwrap(),
        [("spawn-panic-1".to_string(), "Box<dyn Any>".to_string())],
        "reported once, when it happened"
    );
    threadkit::reset_excepthook();
}

#[test]
fn the_payload_resumes_as_the_same_panic_in_the_joiner() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let n = std::hint::black_box(3);
    let h = threadkit::spawn(move || -> () { panic!("worker failed: {n}") });
    let err = h.join().unwrap_err();
    let caught = panic::catch_unwind(|| panic::resume_unwind(err.into_panic().unwrap()));
    let payload = caught.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("worker failed: 3")
    );
    threadkit::reset_excepthook();
}

#[test]
fn the_first_join_takes_the_payload_and_later_joins_get_the_message() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let h = threadkit::spawn(|| -> () { panic::panic_any(99i64) });
    let thread = h.thread().clone();
    // A Thread::join (Python's join, any number of times) gets there first.
    let Err(JoinError::Panicked(mut first)) = thread.join() else {
        panic!("expected a panic")
    };
    assert_eq!(
        first.take_payload().unwrap().downcast_ref::<i64>(),
        Some(&99)
    );
    let Err(JoinError::Panicked(again)) = thread.join() else {
        panic!("every join reports the panic")
    };
    assert!(!again.has_payload());
    assert_eq!(again, first, "the same text");
    // The handle still reports the panic; its payload is now the message.
    let err = h.join().unwrap_err();
    assert!(matches!(&err, JoinError::Panicked(p) if !p.has_payload()));
    let payload = err.into_panic().unwrap();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("Box<dyn Any>")
    );
    threadkit::reset_excepthook();
}

#[test]
fn a_clone_of_a_report_keeps_the_text_and_leaves_the_payload() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let h = threadkit::spawn(|| -> () { panic!("cloned") });
    let Err(JoinError::Panicked(p)) = h.join() else {
        panic!("expected a panic")
    };
    let copy = p.clone();
    assert_eq!(copy, p);
    assert!(!copy.has_payload());
    assert!(p.has_payload());
    assert!(format!("{p:?}").contains("payload: present"));
    assert!(format!("{copy:?}").contains("payload: taken"));
    threadkit::reset_excepthook();
}

#[test]
fn join_timeout_hands_the_handle_back_and_never_returns_early() {
    let go = Arc::new(Event::new());
    let g = go.clone();
    let h = threadkit::spawn(move || {
        g.wait();
        "done"
    });
    let timeout = Duration::from_millis(50);
    let began = Instant::now();
    let h = match h.join_timeout(timeout).unwrap() {
        Ok(v) => panic!("it waits for the event, yet returned {v}"),
        Err(h) => h,
    };
    assert!(began.elapsed() >= timeout, "gave up early");
    let h = h.join_timeout(Duration::ZERO).unwrap().unwrap_err(); // a poll
    go.set();
    assert_eq!(h.join_timeout(Duration::MAX).unwrap().ok(), Some("done"));
}

#[test]
fn thread_exit_leaves_no_value_and_join_says_so() {
    let h = Thread::builder()
        .name("spawn-exit")
        .spawn(|| -> u32 { threadkit::thread::exit() })
        .unwrap();
    let err = h.join().unwrap_err();
    assert!(matches!(&err, JoinError::Exited { thread } if thread == "spawn-exit"));
    assert_eq!(
        err.to_string(),
        "thread spawn-exit exited before returning a value"
    );
    assert!(err.into_panic().is_none());
}

#[test]
fn a_thread_joining_its_own_handle_gets_an_error_not_a_hang() {
    let (tx, rx) = mpsc::channel::<JoinHandle<()>>();
    let (result_tx, result_rx) = mpsc::channel();
    let h = Thread::builder()
        .name("spawn-self")
        .spawn(move || {
            let me = rx.recv().unwrap();
            result_tx.send(me.join()).unwrap();
        })
        .unwrap();
    let thread = h.thread().clone();
    tx.send(h).unwrap();
    let err = result_rx.recv().unwrap().unwrap_err();
    assert!(matches!(&err, JoinError::CurrentThread { thread } if thread == "spawn-self"));
    thread.join().unwrap();
}

#[test]
fn a_refused_start_is_an_error_and_drops_the_closure_unrun() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(drops.clone());
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let err = Thread::builder()
        .name("spawn-tiny")
        .stack_size(4096)
        .spawn(move || {
            let _g = &guard;
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap_err();
    assert!(
        matches!(&err, StartError::StackTooSmall { thread, size: 4096 } if thread == "spawn-tiny")
    );
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the closure was dropped");
    assert_eq!(ran.load(Ordering::SeqCst), 0, "and never ran");
}

#[test]
fn dropping_the_handle_detaches_the_thread_and_drops_its_value_when_it_ends() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let go = Arc::new(Event::new());
    let g = go.clone();
    let h = threadkit::spawn(move || {
        g.wait();
        DropCount(d)
    });
    let thread = h.thread().clone();
    drop(h);
    assert!(thread.is_alive(), "detached, not stopped");
    go.set();
    thread.join().unwrap();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the unclaimed value was dropped"
    );
}

#[test]
fn a_thread_joining_a_handle_records_a_join_wait_on_that_thread() {
    let go = Arc::new(Event::new());
    let g = go.clone();
    let worker = Thread::builder()
        .name("spawn-joined")
        .spawn(move || {
            g.wait();
            5
        })
        .unwrap();
    let target = worker.thread().clone();
    let joiner = Thread::builder()
        .name("spawn-joiner")
        .spawn(move || worker.join().unwrap())
        .unwrap();
    let info = loop {
        if let Some(info) = joiner.thread().waiting() {
            break info;
        }
        std::thread::yield_now();
    };
    assert_eq!(info.kind(), WaitKind::Join);
    assert_eq!(info.owner(), Some(target));
    assert!(info.location().file().ends_with("spawn.rs"));
    go.set();
    assert_eq!(joiner.join().unwrap(), 5);
}

#[test]
fn handles_are_send_and_debug_never_blocks() {
    fn assert_send<T: Send>() {}
    assert_send::<JoinHandle<Vec<u8>>>();
    let h = Thread::builder().name("spawn-debug").spawn(|| ()).unwrap();
    assert!(format!("{h:?}").starts_with("JoinHandle { thread: <Thread(spawn-debug"));
    h.join().unwrap();
}
