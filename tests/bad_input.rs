//! Misuse and edge inputs of threads, the registry and `Lock`/`Mutex<T>` that the other test
//! files do not already cover: each test is a row of the table in `docs/guarantees.md`.
//!
//! Timed checks assert that a wait never ends early, and allow generous lateness.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use lock_api::RawMutexTimed;
use support::{in_child, run_child, watchdog};
use threadkit::{
    JoinError, JoinStatus, Lock, Mutex, StartError, Thread, WaitKind, current_thread, enumerate,
    main_thread,
};

const LIMIT: Duration = Duration::from_secs(120);
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// Waits (yielding) until `t` is parked in a wait of kind `kind`.
fn wait_until_parked(t: &Thread, kind: WaitKind) {
    loop {
        if t.waiting().is_some_and(|w| w.kind() == kind) {
            return;
        }
        std::thread::yield_now();
    }
}

#[test]
fn acquire_timeout_max_on_a_held_lock_waits_for_the_release() {
    let _dog = watchdog("acquire_timeout(MAX)", LIMIT);
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = lock.clone();
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || tx.send(l.acquire_timeout(Duration::MAX)).unwrap());
    t.start().unwrap();
    wait_until_parked(&t, WaitKind::Lock);
    assert!(rx.try_recv().is_err(), "Duration::MAX did not give up");
    lock.release().unwrap();
    assert!(rx.recv().unwrap());
    t.join().unwrap();
    lock.release().unwrap();
}

#[test]
fn a_lock_is_not_reentrant_a_timed_reacquire_times_out() {
    let lock = Lock::new();
    lock.acquire();
    let wait = Duration::from_millis(20);
    let start = Instant::now();
    assert!(!lock.acquire_timeout(wait));
    assert!(start.elapsed() >= wait);
    assert!(!lock.try_acquire());
    lock.release().unwrap();
}

#[test]
fn a_thread_blocked_on_a_lock_it_holds_is_freed_by_a_release_from_another_thread() {
    // acquire() twice deadlocks the thread, as in Python; the wait record shows it waiting on
    // a lock it holds itself, and (Python semantics) any thread may release it.
    let _dog = watchdog("self-deadlock", LIMIT);
    let lock = Arc::new(Lock::new());
    let l = lock.clone();
    let t = Thread::builder().name("self-locked").target(move || {
        l.acquire();
        l.acquire();
        l.release().unwrap();
    });
    t.start().unwrap();
    wait_until_parked(&t, WaitKind::Lock);
    let w = t.waiting().expect("still parked");
    assert_eq!(w.owner(), Some(t.clone()), "it waits on itself");
    assert_eq!(lock.holder(), Some(t.clone()));
    lock.release().unwrap();
    t.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn mutex_timed_forms_at_the_edges() {
    let _dog = watchdog("mutex timed forms", LIMIT);
    let m = Arc::new(Mutex::new(0));
    // Zero and a deadline already past poll once.
    assert!(m.try_lock_for(Duration::ZERO).is_some());
    assert!(
        m.try_lock_until(Instant::now() - Duration::from_secs(1))
            .is_some()
    );
    let g = m.lock();
    assert!(m.try_lock_for(Duration::ZERO).is_none());
    assert!(m.try_lock_until(Instant::now()).is_none());
    let wait = Duration::from_millis(20);
    let start = Instant::now();
    assert!(m.try_lock_for(wait).is_none());
    assert!(start.elapsed() >= wait);
    // Duration::MAX waits until the holder lets go.
    let m2 = m.clone();
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        let g = m2.try_lock_for(Duration::MAX);
        tx.send(g.is_some()).unwrap();
    });
    t.start().unwrap();
    wait_until_parked(&t, WaitKind::Lock);
    drop(g);
    assert!(rx.recv().unwrap());
    t.join().unwrap();
    // The raw lock agrees.
    // SAFETY: only the raw lock's timed acquire, released at once below.
    let raw = unsafe { m.raw() };
    assert!(raw.try_lock_for(Duration::MAX).is_some());
    raw.release().unwrap();
}

#[test]
fn sleep_for_duration_max_sleeps_without_panicking() {
    // A daemon thread: the process does not wait for it at exit.
    let t = Thread::builder()
        .name("sleeps-forever")
        .daemon(true)
        .target(|| threadkit::sleep(Duration::MAX));
    t.start().unwrap();
    wait_until_parked(&t, WaitKind::Sleep);
    assert!(
        t.join_timeout(Duration::from_millis(20))
            .unwrap()
            .timed_out()
    );
    assert!(t.is_alive());
}

#[test]
fn joining_the_main_thread_from_another_thread_waits_for_it() {
    let main = main_thread();
    let wait = Duration::from_millis(30);
    let start = Instant::now();
    assert_eq!(main.join_timeout(wait), Ok(JoinStatus::TimedOut));
    assert!(start.elapsed() >= wait);
    assert!(main.is_alive());
}

#[test]
fn set_daemon_and_start_on_running_threads_are_refused() {
    let main = main_thread();
    assert!(main.set_daemon(true).is_err());
    assert!(!main.is_daemon());
    assert!(matches!(
        main.start(),
        Err(StartError::AlreadyStarted { ref thread }) if thread == "MainThread"
    ));
    let me = current_thread(); // this test's thread: a dummy
    assert!(me.set_daemon(false).is_err());
    assert!(matches!(me.start(), Err(StartError::AlreadyStarted { .. })));
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        let me = current_thread();
        tx.send((me.set_daemon(true).is_err(), me.start().is_err()))
            .unwrap();
    });
    t.start().unwrap();
    assert_eq!(rx.recv().unwrap(), (true, true));
    t.join().unwrap();
}

#[test]
fn builder_stack_sizes_at_the_edges() {
    for size in [1, 32 * 1024 - 1] {
        let t = Thread::builder().stack_size(size).target(|| {});
        assert!(
            matches!(t.start(), Err(StartError::StackTooSmall { size: s, .. }) if s == size),
            "size {size}"
        );
        assert!(!t.is_alive());
        assert!(matches!(t.join(), Err(JoinError::NotStarted { .. })));
    }
    let t = Thread::builder().stack_size(32 * 1024).target(|| {});
    t.start().expect("exactly the minimum is allowed");
    t.join().unwrap();
    // 0 is "the default", as for `thread::stack_size(Some(0))`.
    let t = Thread::builder().stack_size(0).target(|| {});
    t.start().expect("0 asks for the default size");
    t.join().unwrap();
}

#[test]
fn a_stack_too_large_for_the_os_fails_to_start_cleanly() {
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let t = Thread::builder()
        .name("huge-stack")
        .stack_size(usize::MAX)
        .target(move || r.store(true, Ordering::SeqCst));
    let err = t.start().unwrap_err();
    assert!(
        matches!(err, StartError::Spawn { ref thread, .. } if thread == "huge-stack"),
        "{err:?}"
    );
    assert!(err.to_string().contains("huge-stack"));
    assert!(!t.is_alive());
    assert!(!enumerate().contains(&t));
    assert!(matches!(t.join(), Err(JoinError::NotStarted { .. })));
    assert!(matches!(
        t.join_timeout(Duration::from_secs(1)),
        Err(JoinError::NotStarted { .. })
    ));
    // A failed start counts as a start: it is not retried.
    assert!(matches!(t.start(), Err(StartError::AlreadyStarted { .. })));
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn a_process_wide_stack_size_too_large_for_the_os_fails_every_start_cleanly() {
    // The process-wide default is shared by every thread: in a child process.
    const TEST: &str = "a_process_wide_stack_size_too_large_for_the_os_fails_every_start_cleanly";
    if in_child(TEST) {
        assert_eq!(threadkit::thread::stack_size(Some(usize::MAX)), Ok(0));
        let t = Thread::new(|| {});
        assert!(matches!(t.start(), Err(StartError::Spawn { .. })));
        assert!(matches!(
            threadkit::thread::start_new_thread(|| {}),
            Err(StartError::Spawn { .. })
        ));
        assert_eq!(
            threadkit::thread::stack_size(Some(0)),
            Ok(usize::MAX),
            "back to the default"
        );
        let t = Thread::new(|| {});
        t.start().unwrap();
        t.join().unwrap();
        println!("MARKER scenario done");
        return;
    }
    let child = run_child(TEST, CHILD_LIMIT);
    child.assert_success();
    assert!(
        child.stdout.contains("MARKER scenario done"),
        "{}",
        child.describe()
    );
}

#[test]
fn odd_names_are_kept_exactly() {
    let long_multibyte = "é".repeat(20); // 40 bytes: the OS name is cut on a char boundary
    // (An empty name counts as none, as in Python: see `tests/thread_defaults.rs`.)
    for name in ["nul\0inside".to_string(), long_multibyte] {
        let (tx, rx) = mpsc::channel();
        let t = Thread::builder().name(name.clone()).target(move || {
            tx.send(current_thread().name()).unwrap();
            // Renaming itself with the same odd name does not panic either.
            current_thread().set_name(current_thread().name());
        });
        assert_eq!(t.name(), name);
        t.start().unwrap();
        assert_eq!(rx.recv().unwrap(), name);
        t.join().unwrap();
        assert_eq!(t.name(), name);
        assert!(format!("{t:?}").contains(&name));
    }
}

#[test]
fn thread_exit_on_a_foreign_thread_unwinds_it_quietly() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    let result = std::thread::spawn(move || {
        let _flag = Flag(d);
        threadkit::thread::exit();
    })
    .join();
    let payload = result.expect_err("the thread unwound");
    assert!(payload.downcast_ref::<&str>().is_none() && payload.downcast_ref::<String>().is_none());
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn current_thread_and_locks_still_work_in_a_thread_local_destructor() {
    // A thread-local destroyed after the thread's registry entry is gone: current_thread()
    // gives an unregistered dummy, and locks work with an anonymous owner.
    struct Late(Arc<Lock>, mpsc::Sender<(bool, bool, bool)>);
    impl Drop for Late {
        fn drop(&mut self) {
            let me = current_thread();
            let listed = enumerate().contains(&me);
            self.0.acquire();
            let holder_unknown = self.0.holder().is_none();
            let released = self.0.release().is_ok();
            let _ = self.1.send((listed, holder_unknown, released));
        }
    }
    std::thread_local!(static LATE: std::cell::RefCell<Option<Late>> = const { std::cell::RefCell::new(None) });
    let lock = Arc::new(Lock::new());
    let (tx, rx) = mpsc::channel();
    let l = lock.clone();
    std::thread::spawn(move || {
        // Registered before the registry's own thread-locals, so destroyed after them.
        LATE.with(|s| *s.borrow_mut() = Some(Late(l, tx)));
        current_thread();
    })
    .join()
    .unwrap();
    assert_eq!(rx.recv().unwrap(), (false, true, true));
    assert!(!lock.locked());
}

// ----- RLock, Condition, Semaphore, Event, Barrier, Timer, queues ---------------------------

#[test]
fn an_rlock_left_held_by_an_ended_thread_stays_locked_and_no_other_thread_may_release_it() {
    // Unlike a `Lock`, an `RLock` may only be released by its holder: a thread that ends
    // holding one (a bare `acquire`, no guard) leaves it locked.
    let _dog = watchdog("rlock held by an ended thread", LIMIT);
    let lock = Arc::new(threadkit::RLock::new());
    let l = lock.clone();
    let t = Thread::new(move || {
        l.acquire();
        l.acquire();
    });
    t.start().unwrap();
    t.join().unwrap();
    assert!(lock.locked());
    assert!(!lock.is_owned());
    assert_ne!(
        lock.holder(),
        Some(t.clone()),
        "a finished thread is never named"
    );
    let err = lock.release().unwrap_err();
    assert_eq!(err.primitive(), "RLock");
    assert!(!lock.try_acquire());
    let wait = Duration::from_millis(20);
    let start = Instant::now();
    assert!(!lock.acquire_timeout(wait));
    assert!(start.elapsed() >= wait);
    assert!(lock.locked(), "nothing changed");
}

#[test]
fn condition_wait_timeout_max_waits_for_the_notify() {
    let _dog = watchdog("condition wait_timeout(MAX)", LIMIT);
    let cond = Arc::new(threadkit::Condition::with_lock(Arc::new(Lock::new())));
    let c = cond.clone();
    let waiter = Thread::new(move || {
        let _g = c.guard();
        assert!(
            !c.wait_timeout(Duration::MAX).unwrap().timed_out(),
            "notified, not timed out"
        );
        assert!(c.lock().locked(), "held again");
    });
    waiter.start().unwrap();
    wait_until_parked(&waiter, WaitKind::Condition);
    let _g = cond.guard();
    // The waiter queued before releasing the lock we now hold: the notify finds it.
    assert_eq!(cond.notify(1).unwrap(), 1);
    drop(_g);
    waiter.join().unwrap();
    // And a predicate wait with `Duration::MAX` returns the value once it holds.
    let _g = cond.guard();
    assert!(cond.wait_for_timeout(|| true, Duration::MAX).unwrap());
}

#[test]
fn event_wait_timeout_max_on_a_clear_event_waits_for_the_set() {
    let _dog = watchdog("event wait_timeout(MAX)", LIMIT);
    let event = Arc::new(threadkit::Event::new());
    let e = event.clone();
    let waiter = Thread::new(move || assert!(e.wait_timeout(Duration::MAX)));
    waiter.start().unwrap();
    wait_until_parked(&waiter, WaitKind::Event);
    assert!(
        !event.wait_timeout(Duration::ZERO),
        "zero polls: still clear"
    );
    event.set();
    waiter.join().unwrap();
}

#[test]
fn semaphore_acquire_timeouts_at_the_edges() {
    let _dog = watchdog("semaphore timeouts at the edges", LIMIT);
    let sem = Arc::new(threadkit::Semaphore::new(0));
    let bounded = Arc::new(threadkit::BoundedSemaphore::new(1));
    assert!(bounded.try_acquire());
    // Zero polls once, and does not leave a waiter behind to swallow a later release.
    let start = Instant::now();
    assert!(!sem.acquire_timeout(Duration::ZERO));
    assert!(!bounded.acquire_timeout(Duration::ZERO));
    assert!(sem.guard_timeout(Duration::ZERO).is_none());
    assert!(start.elapsed() < Duration::from_secs(5));
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 1, "the permit went to nobody");
    assert!(sem.try_acquire());
    // `Duration::MAX` waits until a release.
    let (s, b) = (sem.clone(), bounded.clone());
    let waiter = Thread::new(move || {
        assert!(s.acquire_timeout(Duration::MAX));
        assert!(b.acquire_timeout(Duration::MAX));
    });
    waiter.start().unwrap();
    wait_until_parked(&waiter, WaitKind::Semaphore);
    sem.release(1).unwrap();
    bounded.release(1).unwrap();
    waiter.join().unwrap();
    assert_eq!((sem.value(), bounded.value()), (0, 0));
}

#[test]
fn barrier_wait_timeout_max_waits_and_a_broken_barrier_refuses_at_once() {
    let _dog = watchdog("barrier wait_timeout(MAX)", LIMIT);
    let b = Arc::new(threadkit::Barrier::new(2).unwrap());
    let b2 = b.clone();
    let waiter = Thread::new(move || {
        b2.wait_timeout(Duration::MAX).unwrap();
    });
    waiter.start().unwrap();
    wait_until_parked(&waiter, WaitKind::Barrier);
    b.wait().unwrap();
    waiter.join().unwrap();
    // Broken: every wait, however long its timeout, fails at once with the cause.
    b.abort();
    let start = Instant::now();
    for r in [
        b.wait(),
        b.wait_timeout(Duration::MAX),
        b.wait_timeout(Duration::ZERO),
    ] {
        assert_eq!(r.unwrap_err().cause(), threadkit::BrokenCause::Abort);
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    b.reset();
    assert!(!b.broken());
}

#[test]
fn timer_intervals_at_the_edges_and_a_second_start() {
    let _dog = watchdog("timer edges", LIMIT);
    let fired = Arc::new(AtomicBool::new(false));
    let f = fired.clone();
    let now = threadkit::Timer::new(Duration::ZERO, move || f.store(true, Ordering::SeqCst));
    now.start().unwrap();
    assert!(matches!(
        now.start(),
        Err(StartError::AlreadyStarted { .. })
    ));
    now.join().unwrap();
    assert!(
        fired.load(Ordering::SeqCst),
        "a zero interval fires at once"
    );
    assert!(matches!(
        now.start(),
        Err(StartError::AlreadyStarted { .. })
    ));
    // An interval too large for the clock never fires: it waits until cancelled.
    let never = threadkit::Timer::new(Duration::MAX, || panic!("must not fire"));
    never.start().unwrap();
    wait_until_parked(never.thread(), WaitKind::Event);
    assert!(
        never
            .join_timeout(Duration::from_millis(20))
            .unwrap()
            .timed_out()
    );
    assert!(never.cancel());
    never.join().unwrap();
    assert!(never.is_cancelled() && !never.has_fired());
}

#[test]
fn queue_huge_timeouts_wait_as_long_as_they_must() {
    let _dog = watchdog("queue timeouts MAX", LIMIT);
    let q = threadkit::queue::Queue::new(1);
    q.put(1).unwrap();
    let p = q.clone();
    let putter = Thread::new(move || p.put_timeout(2, Duration::MAX).unwrap());
    putter.start().unwrap();
    wait_until_parked(&putter, WaitKind::QueuePut);
    let j = q.clone();
    let joiner = Thread::new(move || assert!(j.join_timeout(Duration::MAX)));
    joiner.start().unwrap();
    wait_until_parked(&joiner, WaitKind::QueueJoin);
    assert_eq!(q.get_timeout(Duration::MAX).unwrap(), 1);
    putter.join().unwrap();
    assert_eq!(q.get().unwrap(), 2);
    q.task_done().unwrap();
    assert!(joiner.is_alive(), "one task is still unfinished");
    q.task_done().unwrap();
    joiner.join().unwrap();
    assert!(q.task_done().is_err());
}

#[test]
fn a_panicking_local_init_stores_nothing_and_is_retried() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let local = threadkit::Local::new(move || {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("init failed");
        }
        7u32
    });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| local.with(|v| *v)));
    assert!(r.is_err(), "the panic passes through");
    assert_eq!(local.with(|v| *v), 7, "init runs again");
    assert_eq!(local.with(|v| *v), 7);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "and only then is the value kept"
    );
}

#[test]
fn condition_notify_wakes_the_longest_waiting_first() {
    // A promise rather than a misuse: `notify(1)` takes the oldest waiter.
    let _dog = watchdog("condition notify order", LIMIT);
    let cond = Arc::new(threadkit::Condition::new());
    let (tx, rx) = mpsc::channel();
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let (c, tx) = (cond.clone(), tx.clone());
            let t = Thread::new(move || {
                let _g = c.guard();
                c.wait().unwrap();
                tx.send(i).unwrap();
            });
            t.start().unwrap();
            // Queued in this order: each one is parked before the next starts.
            wait_until_parked(&t, WaitKind::Condition);
            let _g = cond.guard(); // it released the lock only once queued
            t
        })
        .collect();
    for i in 0..4 {
        {
            let _g = cond.guard();
            assert_eq!(cond.notify(1).unwrap(), 1);
        }
        assert_eq!(rx.recv().unwrap(), i, "woken out of order");
    }
    for t in waiters {
        t.join().unwrap();
    }
}
