//! Threads and the registry: Python's `threading.Thread`, `current_thread`, `enumerate`,
//! `main_thread`, the excepthook and join semantics.
//!
//! The registry is process-global and these tests run in parallel: each test counts only its
//! own threads. Tests that replace the (global) excepthook hold `HOOK_TEST`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration, Instant};

use threadkit::{
    JoinError, Lock, Run, StartError, Thread, ThreadPanic, WaitKind, current_thread, enumerate,
    main_thread,
};

static HOOK_TEST: Mutex<()> = Mutex::new(());

/// Late slack for timed waits on a loaded VM.
const SLACK: Duration = Duration::from_millis(500);

/// A lock held by the test, and a thread blocked on it until the test releases it.
fn blocked_thread(name: &str) -> (Arc<Lock>, Thread) {
    let gate = Arc::new(Lock::new());
    gate.acquire();
    let g = gate.clone();
    let t = Thread::builder().name(name).target(move || {
        g.acquire();
        g.release().unwrap();
    });
    t.start().unwrap();
    (gate, t)
}

#[test]
fn start_runs_the_target_once_and_join_waits_for_it() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let t = Thread::new(move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    t.join().unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(!t.is_alive());
}

#[test]
fn start_twice_is_an_error_naming_the_thread() {
    let t = Thread::builder().name("twice").target(|| {});
    t.start().unwrap();
    let err = t.start().unwrap_err();
    assert!(matches!(err, StartError::AlreadyStarted { ref thread } if thread == "twice"));
    assert!(err.to_string().contains("twice"));
    t.join().unwrap();
    assert!(matches!(t.start(), Err(StartError::AlreadyStarted { .. })));
}

#[test]
fn join_before_start_is_an_error_and_does_not_block() {
    let t = Thread::builder().name("unstarted").target(|| {});
    assert_eq!(
        t.join(),
        Err(JoinError::NotStarted {
            thread: "unstarted".into()
        })
    );
    assert!(matches!(
        t.join_timeout(Duration::from_secs(10)),
        Err(JoinError::NotStarted { .. })
    ));
}

#[test]
fn joining_the_current_thread_is_an_error() {
    let (tx, rx) = mpsc::channel();
    let t = Thread::builder().name("selfish").target(move || {
        tx.send(current_thread().join()).unwrap();
    });
    t.start().unwrap();
    let res = rx.recv().unwrap();
    assert_eq!(
        res,
        Err(JoinError::CurrentThread {
            thread: "selfish".into()
        })
    );
    t.join().unwrap();
}

#[test]
fn a_dummy_thread_is_not_joinable() {
    let dummy = std::thread::spawn(current_thread).join().unwrap();
    assert!(matches!(dummy.join(), Err(JoinError::NotJoinable { .. })));
}

#[test]
fn many_threads_may_join_one_thread_many_times() {
    let (gate, t) = blocked_thread("joined-by-many");
    let ready = Arc::new(Barrier::new(5));
    let joiners: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            let ready = ready.clone();
            std::thread::spawn(move || {
                ready.wait();
                t.join().unwrap();
                t.join().unwrap();
                assert!(!t.is_alive());
            })
        })
        .collect();
    ready.wait();
    gate.release().unwrap();
    for j in joiners {
        j.join().unwrap();
    }
    t.join().unwrap();
}

#[test]
fn join_timeout_is_never_early_and_reports_the_end() {
    let (gate, t) = blocked_thread("slow");
    let wait = Duration::from_millis(60);
    let start = Instant::now();
    assert!(t.join_timeout(wait).unwrap().timed_out());
    let took = start.elapsed();
    assert!(
        took >= wait,
        "join_timeout returned after {took:?} < {wait:?}"
    );
    assert!(took < wait + SLACK, "join_timeout took {took:?}");
    assert!(t.is_alive());
    // Zero polls.
    assert!(t.join_timeout(Duration::ZERO).unwrap().timed_out());
    gate.release().unwrap();
    // A timeout too large for the clock waits forever instead of panicking.
    assert!(t.join_timeout(Duration::MAX).unwrap().finished());
    assert!(t.join_timeout(Duration::ZERO).unwrap().finished());
}

#[test]
fn is_alive_ident_and_native_id_follow_the_life_cycle() {
    let (tx, rx) = mpsc::channel();
    let (gate, _) = (Arc::new(Lock::new()), ());
    gate.acquire();
    let g = gate.clone();
    let t = Thread::new(move || {
        tx.send((threadkit::get_ident(), threadkit::get_native_id()))
            .unwrap();
        g.acquire();
    });
    assert!(!t.is_alive());
    assert_eq!(t.ident(), None);
    assert_eq!(t.native_id(), None);
    t.start().unwrap();
    // Known as soon as start returns, as in Python.
    let ident = t.ident().expect("ident after start");
    let native = t.native_id().expect("native id after start");
    assert!(t.is_alive());
    assert!(enumerate().contains(&t));
    let (inner_ident, inner_native) = rx.recv().unwrap();
    assert_eq!(ident, inner_ident);
    assert_eq!(native, inner_native);
    assert_ne!(native, threadkit::get_native_id());
    gate.release().unwrap();
    t.join().unwrap();
    assert!(!t.is_alive());
    assert!(!enumerate().contains(&t));
    // Kept after exit.
    assert_eq!(t.ident(), Some(ident));
    assert_eq!(t.native_id(), Some(native));
}

#[test]
fn idents_are_unique() {
    let threads: Vec<_> = (0..8).map(|_| Thread::new(|| {})).collect();
    for t in &threads {
        t.start().unwrap();
    }
    let mut ids: Vec<_> = threads.iter().map(|t| t.ident().unwrap()).collect();
    for t in &threads {
        t.join().unwrap();
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
}

#[test]
fn default_names_count_up_and_names_can_change() {
    let a = Thread::new(|| {});
    let b = Thread::new(|| {});
    let n = |t: &Thread| -> u64 {
        t.name()
            .strip_prefix("Thread-")
            .expect("default name Thread-N")
            .parse()
            .unwrap()
    };
    assert!(n(&b) > n(&a));
    a.set_name("renamed");
    assert_eq!(a.name(), "renamed");
}

#[cfg(target_os = "linux")]
#[test]
fn the_os_thread_name_follows_the_name() {
    fn comm() -> String {
        let path = format!("/proc/self/task/{}/comm", threadkit::get_native_id());
        std::fs::read_to_string(path).unwrap().trim().to_string()
    }
    let (tx, rx) = mpsc::channel();
    let t = Thread::builder()
        .name("os-named-thread-with-a-long-name")
        .target(move || {
            let before = comm();
            current_thread().set_name("renamed-inside");
            tx.send((before, comm())).unwrap();
        });
    t.start().unwrap();
    t.join().unwrap();
    let (before, after) = rx.recv().unwrap();
    assert_eq!(before, "os-named-thread"); // Linux keeps 15 bytes
    assert_eq!(after, "renamed-inside");
}

#[test]
fn daemon_flag_is_inherited_and_frozen_at_start() {
    // Threads made from a thread threadkit did not start (this test thread) are daemon.
    let from_dummy = Thread::new(|| {});
    assert!(from_dummy.is_daemon());
    let (tx, rx) = mpsc::channel();
    let parent = Thread::builder().daemon(false).target(move || {
        let child = Thread::new(|| {});
        let daemon_child = Thread::builder().daemon(true).target(|| {});
        tx.send((child.is_daemon(), daemon_child.is_daemon()))
            .unwrap();
    });
    parent.start().unwrap();
    parent.join().unwrap();
    assert_eq!(rx.recv().unwrap(), (false, true));

    let t = Thread::new(|| {});
    t.set_daemon(false).unwrap();
    assert!(!t.is_daemon());
    t.start().unwrap();
    let err = t.set_daemon(true).unwrap_err();
    assert_eq!(err.thread(), t.name());
    assert!(!t.is_daemon());
    t.join().unwrap();
}

#[test]
fn run_trait_gives_the_thread_its_own_fields() {
    struct Counter {
        name: String,
        count: u32,
        out: mpsc::Sender<(String, u32)>,
    }
    impl Run for Counter {
        fn run(&mut self) {
            while self.count < 5 {
                self.count += 1;
            }
            self.out
                .send((current_thread().name(), self.count))
                .unwrap();
            assert_eq!(current_thread().name(), self.name);
        }
    }
    let (tx, rx) = mpsc::channel();
    let t = Thread::builder().name("counter").run(Counter {
        name: "counter".into(),
        count: 0,
        out: tx,
    });
    t.start().unwrap();
    t.join().unwrap();
    assert_eq!(rx.recv().unwrap(), ("counter".to_string(), 5));
    let t2 = Thread::from_run(Counter {
        name: String::new(),
        count: 4,
        out: mpsc::channel().0,
    });
    assert!(t2.name().starts_with("Thread-"));
}

#[test]
fn a_panic_ends_only_its_thread_and_join_reports_it_every_time() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let s = seen.clone();
    threadkit::set_excepthook(move |thread, panic| {
        if thread.name().starts_with("hook-test") {
            s.lock()
                .unwrap()
                .push((thread.name(), panic.message().to_string()));
        }
    });
    let t = Thread::builder()
        .name("hook-test-1")
        .target(|| panic!("went wrong: {}", 42));
    t.start().unwrap();
    let err = t.join().unwrap_err();
    let JoinError::Panicked(p) = &err else {
        panic!("expected Panicked, got {err:?}")
    };
    assert_eq!(p.thread(), "hook-test-1");
    assert_eq!(p.message(), "went wrong: 42");
    assert!(p.location().unwrap().contains("threading.rs"));
    assert!(err.to_string().contains("went wrong: 42"));
    assert_eq!(t.join().unwrap_err(), err, "every join reports the panic");
    assert_eq!(
        *seen.lock().unwrap(),
        [("hook-test-1".to_string(), "went wrong: 42".to_string())]
    );
    // The process, the registry and other threads carry on.
    let ok = Thread::new(|| {});
    ok.start().unwrap();
    ok.join().unwrap();
    threadkit::reset_excepthook();
}

#[test]
fn a_panicking_excepthook_does_not_take_the_thread_down_with_it() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|thread, _| {
        if thread.name() == "hook-test-2" {
            panic!("the hook itself fails");
        }
    });
    let t = Thread::builder()
        .name("hook-test-2")
        .target(|| panic!("first"));
    t.start().unwrap();
    let err = t.join().unwrap_err();
    assert!(matches!(err, JoinError::Panicked(ref p) if p.message() == "first"));
    threadkit::reset_excepthook();
}

#[test]
fn non_string_panic_payloads_are_reported() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let t = Thread::new(|| std::panic::panic_any(7u32));
    t.start().unwrap();
    let err = t.join().unwrap_err();
    assert!(matches!(err, JoinError::Panicked(ref p) if p.message() == "Box<dyn Any>"));
    threadkit::reset_excepthook();
}

#[test]
fn guards_release_when_a_thread_panics() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let lock = Arc::new(Lock::new());
    let data = Arc::new(threadkit::Mutex::new(1));
    let (l, d) = (lock.clone(), data.clone());
    let t = Thread::new(move || {
        let _g = l.guard();
        let mut v = d.lock();
        *v = 2;
        panic!("while holding both");
    });
    t.start().unwrap();
    assert!(t.join().is_err());
    assert!(!lock.locked());
    assert_eq!(*data.lock(), 2, "no poisoning: the data is as it was left");
    threadkit::reset_excepthook();
}

#[test]
fn thread_locals_are_dropped_before_join_returns() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    thread_local!(static SLOT: std::cell::RefCell<Option<Flag>> = const { std::cell::RefCell::new(None) });
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    let t = Thread::new(move || SLOT.with(|s| *s.borrow_mut() = Some(Flag(d))));
    t.start().unwrap();
    t.join().unwrap();
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn current_thread_main_thread_and_dummies() {
    let main = main_thread();
    assert_eq!(main.name(), "MainThread");
    assert!(!main.is_daemon());
    assert!(main.is_alive());
    assert!(enumerate().contains(&main));
    // libtest runs tests on threads it starts: they are dummies, not the main thread.
    let me = current_thread();
    assert_ne!(me, main);
    assert!(me.name().starts_with("Dummy-"));
    assert!(me.is_daemon());
    assert_eq!(current_thread(), me, "the same entry every time");
    assert!(enumerate().contains(&me));

    let (tx, rx) = mpsc::channel();
    let (back_tx, back_rx) = mpsc::channel::<()>();
    let h = std::thread::spawn(move || {
        let d = current_thread();
        tx.send(d.clone()).unwrap();
        back_rx.recv().unwrap();
        d
    });
    let dummy = rx.recv().unwrap();
    assert!(dummy.is_alive());
    assert!(enumerate().contains(&dummy));
    back_tx.send(()).unwrap();
    h.join().unwrap();
    assert!(
        !dummy.is_alive(),
        "a dummy's entry leaves when its thread ends"
    );
    assert!(!enumerate().contains(&dummy));
}

#[test]
fn current_thread_inside_a_started_thread_is_that_thread() {
    let (tx, rx) = mpsc::channel();
    let t = Thread::builder().name("me").target(move || {
        tx.send(current_thread()).unwrap();
    });
    t.start().unwrap();
    let inside = rx.recv().unwrap();
    assert_eq!(inside, t);
    t.join().unwrap();
}

#[test]
fn waiting_records_joins_and_sleeps_with_the_callers_line() {
    let (gate, target) = blocked_thread("join-target");
    let t2 = target.clone();
    let (tx, rx) = mpsc::channel();
    let joiner = Thread::builder().name("joiner").target(move || {
        tx.send(line!() + 1).unwrap();
        t2.join().unwrap();
    });
    joiner.start().unwrap();
    let line = rx.recv().unwrap();
    let info = loop {
        if let Some(info) = joiner.waiting() {
            break info;
        }
        std::thread::yield_now();
    };
    assert_eq!(info.kind(), WaitKind::Join);
    assert_eq!(info.owner(), Some(target.clone()));
    assert_eq!(info.location().line(), line);
    assert!(info.location().file().ends_with("threading.rs"));
    assert!(info.since() <= Instant::now());
    // The target itself waits on the gate lock, held by this test thread.
    let on_lock = loop {
        if let Some(info) = target.waiting() {
            break info;
        }
        std::thread::yield_now();
    };
    assert_eq!(on_lock.kind(), WaitKind::Lock);
    assert_eq!(on_lock.owner(), Some(current_thread()));
    assert_eq!(on_lock.object(), gate.id());
    gate.release().unwrap();
    joiner.join().unwrap();
    assert!(joiner.waiting().is_none());
    assert!(target.waiting().is_none());
}

#[test]
fn waiting_snapshots_are_never_torn_while_the_thread_moves_between_waits() {
    // The worker alternates between two different waits as fast as it can; every snapshot
    // must describe one of them whole (kind, object and line together), never a mix, and
    // each new wait must carry its own start time. Counts distinct waits seen, not reads.
    // A wait is recorded once it is about to park, after its spins and yields: on a machine
    // whose cores other programs keep busy, a 20 us semaphore wait times out before that,
    // so every 8th one lasts 30 ms (it parks, and is seen), and 20 of them are enough.
    let sem = Arc::new(threadkit::Semaphore::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (s, d) = (sem.clone(), done.clone());
    let (tx, rx) = mpsc::channel();
    // A daemon: a failed assert below must not leave the process waiting for it.
    let worker = Thread::builder().daemon(true).target(move || {
        let sem_line = line!() + 5;
        tx.send(sem_line).unwrap();
        let mut n = 0u32;
        while !d.load(Ordering::Relaxed) {
            let timeout = Duration::from_micros(if n.is_multiple_of(8) { 30_000 } else { 20 });
            let _ = s.acquire_timeout(timeout);
            threadkit::sleep(Duration::from_micros(20));
            n += 1;
        }
    });
    worker.start().unwrap();
    let sem_line = rx.recv().unwrap();
    let sleep_line = sem_line + 1;
    let (mut on_sem, mut on_sleep) = (0u32, 0u32);
    let mut last: Option<(WaitKind, Instant)> = None;
    let start = Instant::now();
    while (on_sem < 20 || on_sleep < 200) && start.elapsed() < Duration::from_secs(60) {
        let Some(info) = worker.waiting() else {
            continue;
        };
        let this = (info.kind(), info.since());
        if last == Some(this) {
            continue;
        }
        if let Some((_, before)) = last {
            assert!(before <= info.since(), "a later wait started earlier");
        }
        last = Some(this);
        match info.kind() {
            WaitKind::Semaphore => {
                assert_eq!(info.object(), sem.id());
                assert_eq!(info.location().line(), sem_line);
                on_sem += 1;
            }
            WaitKind::Sleep => {
                assert_ne!(info.object(), sem.id());
                assert_eq!(info.location().line(), sleep_line);
                on_sleep += 1;
            }
            other => panic!("unexpected wait {other:?}"),
        }
        assert!(info.since() <= Instant::now());
    }
    done.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    assert!(
        on_sem >= 20 && on_sleep >= 200,
        "{on_sem} / {on_sleep} snapshots"
    );
}

#[test]
fn stack_size_below_the_minimum_is_refused() {
    let t = Thread::builder()
        .name("tiny")
        .stack_size(1024)
        .target(|| {});
    let err = t.start().unwrap_err();
    assert!(matches!(err, StartError::StackTooSmall { size: 1024, .. }));
    assert!(err.to_string().contains("tiny"));
    assert!(!t.is_alive());
    let ok = Thread::builder().stack_size(64 * 1024).target(|| {});
    ok.start().unwrap();
    ok.join().unwrap();
}

#[test]
fn handles_are_cheap_shared_and_debuggable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Thread>();
    assert_send_sync::<ThreadPanic>();
    let t = Thread::builder().name("dbg").daemon(true).target(|| {});
    assert_eq!(format!("{t:?}"), "<Thread(dbg, initial daemon)>");
    t.start().unwrap();
    t.join().unwrap();
    let shown = format!("{t:?}");
    assert!(shown.starts_with("<Thread(dbg, stopped daemon "), "{shown}");
    let set: std::collections::HashSet<Thread> = [t.clone(), t.clone()].into_iter().collect();
    assert_eq!(set.len(), 1);
}

#[test]
fn sleep_never_returns_early() {
    for ms in [1u64, 20] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        threadkit::sleep(d);
        assert!(start.elapsed() >= d);
    }
    threadkit::sleep(Duration::ZERO);
}
