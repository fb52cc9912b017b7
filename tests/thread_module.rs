//! The low-level module, Python's `_thread`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use threadkit::thread::{self, StackSizeError};
use threadkit::{JoinError, Thread, enumerate};

static HOOK_TEST: Mutex<()> = Mutex::new(());

#[test]
fn start_new_thread_returns_the_ident_at_once() {
    let (tx, rx) = mpsc::channel();
    let gate = Arc::new(thread::allocate_lock());
    gate.acquire();
    let g = gate.clone();
    let ident = thread::start_new_thread(move || {
        g.acquire(); // still blocked when start_new_thread returns
        tx.send(thread::get_ident()).unwrap();
    })
    .unwrap();
    assert_ne!(ident, 0);
    gate.release().unwrap();
    assert_eq!(rx.recv().unwrap(), ident);
}

#[test]
fn low_level_threads_are_hidden_until_they_ask_and_are_not_joinable() {
    let (tx, rx) = mpsc::channel();
    let (back_tx, back_rx) = mpsc::channel::<()>();
    let ident = thread::start_new_thread(move || {
        let hidden = !enumerate()
            .iter()
            .any(|t| t.ident() == Some(thread::get_ident()));
        let me = threadkit::current_thread();
        tx.send((hidden, me)).unwrap();
        back_rx.recv().unwrap();
    })
    .unwrap();
    let (hidden, me) = rx.recv().unwrap();
    assert!(hidden, "not listed before it calls current_thread");
    assert_eq!(me.ident(), Some(ident));
    assert!(me.name().starts_with("Dummy-"), "{}", me.name());
    assert!(me.is_daemon());
    assert!(enumerate().contains(&me));
    assert!(matches!(me.join(), Err(JoinError::NotJoinable { .. })));
    back_tx.send(()).unwrap();
}

#[test]
fn a_panic_in_a_low_level_thread_goes_to_the_excepthook() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    threadkit::set_excepthook(move |_, panic| {
        if panic.message() == "low-level boom" {
            let _ = tx.lock().unwrap().send(panic.clone());
        }
    });
    let ident = thread::start_new_thread(|| panic!("low-level boom")).unwrap();
    let report = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    assert!(report.thread().starts_with("Dummy-"));
    assert!(report.location().unwrap().contains("thread_module.rs"));
    assert_ne!(ident, 0);
    threadkit::reset_excepthook();
}

#[test]
fn exit_ends_the_thread_quietly_running_destructors() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let hooked = Arc::new(AtomicBool::new(false));
    let h = hooked.clone();
    threadkit::set_excepthook(move |t, _| {
        if t.name() == "exiter" {
            h.store(true, Ordering::SeqCst);
        }
    });
    struct Marker(Arc<AtomicBool>);
    impl Drop for Marker {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let after = Arc::new(AtomicBool::new(false));
    let (d, a) = (dropped.clone(), after.clone());
    let t = Thread::builder().name("exiter").target(move || {
        let _m = Marker(d);
        if std::hint::black_box(true) {
            thread::exit();
        }
        a.store(true, Ordering::SeqCst);
    });
    t.start().unwrap();
    assert_eq!(t.join(), Ok(()));
    assert!(dropped.load(Ordering::SeqCst));
    assert!(!after.load(Ordering::SeqCst));
    assert!(!hooked.load(Ordering::SeqCst), "exit is not an exception");
    threadkit::reset_excepthook();
}

#[test]
fn exit_in_a_low_level_thread() {
    let (tx, rx) = mpsc::channel::<u32>();
    thread::start_new_thread(move || {
        let _keep = tx; // dropped on the way out: the receiver sees the end
        thread::exit();
    })
    .unwrap();
    assert!(rx.recv().is_err());
}

#[test]
fn stack_size_reads_sets_and_refuses_too_small() {
    // Only this test touches the process-wide default.
    let before = thread::stack_size(None).unwrap();
    assert_eq!(before, 0, "platform default at first");
    let err: StackSizeError = thread::stack_size(Some(1024)).unwrap_err();
    assert_eq!(err.size(), 1024);
    assert_eq!(
        thread::stack_size(None).unwrap(),
        0,
        "a refused size changes nothing"
    );
    assert_eq!(thread::stack_size(Some(256 * 1024)).unwrap(), 0);
    assert_eq!(thread::stack_size(None).unwrap(), 256 * 1024);
    // Threads started now get it; deep-ish recursion still fits.
    let t = Thread::new(|| {
        fn depth(n: u32) -> u32 {
            let pad = [n; 64];
            if n == 0 {
                0
            } else {
                1 + depth(n - 1) + pad[0] - pad[63]
            }
        }
        assert_eq!(depth(100), 100);
    });
    t.start().unwrap();
    t.join().unwrap();
    assert_eq!(thread::stack_size(Some(0)).unwrap(), 256 * 1024);
    assert_eq!(thread::stack_size(None).unwrap(), 0);
}

#[test]
fn timeout_max_is_accepted_everywhere() {
    let lock = thread::allocate_lock();
    assert!(lock.acquire_timeout(thread::TIMEOUT_MAX));
    let t = Thread::new(|| {});
    t.start().unwrap();
    assert!(t.join_timeout(thread::TIMEOUT_MAX).unwrap().finished());
    lock.release().unwrap();
}

#[test]
fn get_native_id_matches_the_kernel() {
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || tx.send(thread::get_native_id()).unwrap());
    t.start().unwrap();
    t.join().unwrap();
    assert_eq!(Some(rx.recv().unwrap()), t.native_id());
}
