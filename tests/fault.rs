//! Faults: panics in a `Run` impl, while holding a `Lock` guard, a `Mutex` guard or a bare
//! acquired `Lock`, in many threads at once, in the excepthook; and a thread that ends while
//! holding a `Lock`. After each, the primitive must stay usable, the registry consistent (the
//! thread leaves `enumerate()`), and the panic reported (by `join`, and to the excepthook).
//!
//! Tests that replace the process-wide excepthook hold `support::Recorder` (which serialises them). Tests that need exact
//! process-wide counts, or stderr, run their scenario in a child process.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use support::{Recorder, in_child, run_child, watchdog};
use threadkit::{JoinError, Lock, Mutex, Run, Thread, WaitKind, current_thread, enumerate};

const LIMIT: Duration = Duration::from_secs(120);
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// Waits (yielding) until `t` is parked on a lock.
fn wait_until_blocked_on_lock(t: &Thread) {
    loop {
        if t.waiting().is_some_and(|w| w.kind() == WaitKind::Lock) {
            return;
        }
        std::thread::yield_now();
    }
}

/// A thread that acquires `lock`, bumps `count`, and releases it.
fn start_taker(name: &str, lock: &Arc<Lock>, count: &Arc<AtomicUsize>) -> Thread {
    let (l, c) = (lock.clone(), count.clone());
    let t = Thread::builder().name(name).target(move || {
        l.acquire();
        c.fetch_add(1, Ordering::SeqCst);
        l.release().expect("held");
    });
    t.start().unwrap();
    t
}

#[test]
fn a_panic_in_a_run_impl_is_reported_and_the_thread_leaves_the_registry() {
    struct Worker {
        steps: u32,
        fail_at: u32,
    }
    impl Run for Worker {
        fn run(&mut self) {
            while self.steps < 10 {
                self.steps += 1;
                if self.steps == self.fail_at {
                    panic!("worker failed at step {}", self.steps);
                }
            }
        }
    }
    let hook = Recorder::install("fault-run");
    let t = Thread::builder().name("fault-run").run(Worker {
        steps: 0,
        fail_at: 3,
    });
    t.start().unwrap();
    let err = t.join().unwrap_err();
    let JoinError::Panicked(p) = &err else {
        panic!("expected a panic, got {err:?}")
    };
    assert_eq!(p.message(), "worker failed at step 3");
    assert_eq!(p.thread(), "fault-run");
    assert!(p.location().unwrap().contains("fault.rs"));
    assert_eq!(
        hook.seen(),
        [(
            "fault-run".to_string(),
            "worker failed at step 3".to_string()
        )]
    );
    assert!(!t.is_alive());
    assert!(!enumerate().contains(&t));
    assert_eq!(t.join(), Err(err), "every join reports it");
    // A Run thread after it works normally.
    let ok = Thread::builder().name("fault-run-ok").run(Worker {
        steps: 0,
        fail_at: 99,
    });
    ok.start().unwrap();
    ok.join().unwrap();
    assert!(hook.seen().len() == 1);
}

#[test]
fn a_panic_while_holding_a_lock_guard_releases_it_and_wakes_the_waiter() {
    let _dog = watchdog("lock guard panic", LIMIT);
    let hook = Recorder::install("fault-guard");
    let lock = Arc::new(Lock::new());
    let count = Arc::new(AtomicUsize::new(0));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let l = lock.clone();
    let holder = Thread::builder().name("fault-guard").target(move || {
        let _g = l.guard();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        panic!("panic while holding the guard");
    });
    holder.start().unwrap();
    held_rx.recv().unwrap();
    let waiter = start_taker("fault-guard-waiter", &lock, &count);
    wait_until_blocked_on_lock(&waiter);
    go_tx.send(()).unwrap();
    assert!(matches!(holder.join(), Err(JoinError::Panicked(_))));
    waiter.join().unwrap(); // woken by the guard's release during the unwind
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(!lock.locked());
    assert!(lock.try_acquire(), "still usable");
    lock.release().unwrap();
    assert_eq!(hook.seen().len(), 1);
}

#[test]
fn a_panic_while_holding_a_mutex_guard_releases_it_without_poisoning() {
    let _dog = watchdog("mutex guard panic", LIMIT);
    let _hook = Recorder::install("fault-mutex");
    let m = Arc::new(Mutex::new(vec![1]));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let m2 = m.clone();
    let holder = Thread::builder().name("fault-mutex").target(move || {
        let mut g = m2.lock();
        g.push(2); // half-way through an update
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        panic!("panic while holding the mutex");
    });
    holder.start().unwrap();
    held_rx.recv().unwrap();
    let m3 = m.clone();
    let waiter = Thread::builder()
        .name("fault-mutex-waiter")
        .target(move || m3.lock().push(3));
    waiter.start().unwrap();
    wait_until_blocked_on_lock(&waiter);
    go_tx.send(()).unwrap();
    assert!(matches!(holder.join(), Err(JoinError::Panicked(_))));
    waiter.join().unwrap();
    assert!(!m.is_locked());
    assert_eq!(
        *m.lock(),
        [1, 2, 3],
        "no poisoning: the data as the threads left it"
    );
}

#[test]
fn a_panic_after_a_bare_acquire_leaves_the_lock_locked_for_anyone_to_release() {
    // Python: an exception between acquire() and release() outside a `with` block leaves
    // the lock locked. Only guards release on unwind.
    let _dog = watchdog("bare acquire panic", LIMIT);
    let _hook = Recorder::install("fault-bare");
    let lock = Arc::new(Lock::new());
    let l = lock.clone();
    let t = Thread::builder().name("fault-bare").target(move || {
        l.acquire();
        panic!("panic after a bare acquire");
    });
    t.start().unwrap();
    assert!(t.join().is_err());
    assert!(lock.locked());
    assert_ne!(
        lock.holder(),
        Some(t.clone()),
        "a finished thread is never named"
    );
    assert!(!lock.try_acquire());
    lock.release().expect("any thread may release it");
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

#[test]
fn a_thread_that_exits_holding_a_lock_leaves_it_locked_until_anyone_releases_it() {
    let _dog = watchdog("exit holding a lock", LIMIT);
    let lock = Arc::new(Lock::new());
    let count = Arc::new(AtomicUsize::new(0));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let l = lock.clone();
    let holder = Thread::builder().name("exits-holding").target(move || {
        l.acquire();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        // Returns without releasing.
    });
    holder.start().unwrap();
    held_rx.recv().unwrap();
    assert_eq!(lock.holder(), Some(holder.clone()));
    // A waiter queued while the holder lives stays queued after it ends.
    let waiter = start_taker("exits-holding-waiter", &lock, &count);
    wait_until_blocked_on_lock(&waiter);
    go_tx.send(()).unwrap();
    holder.join().unwrap();
    assert!(lock.locked(), "the lock stays locked");
    assert_ne!(
        lock.holder(),
        Some(holder.clone()),
        "a finished thread is never named"
    );
    assert!(
        waiter
            .join_timeout(Duration::from_millis(30))
            .unwrap()
            .timed_out()
    );
    assert_eq!(count.load(Ordering::SeqCst), 0);
    assert!(waiter.waiting().is_some_and(|w| w.kind() == WaitKind::Lock));
    lock.release().expect("any thread may release it");
    waiter.join().unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(!lock.locked());
}

#[test]
fn holder_names_nobody_once_the_holder_is_gone_even_after_its_number_is_reused() {
    // In a child process, so that no other test's threads take numbers meanwhile.
    const TEST: &str =
        "holder_names_nobody_once_the_holder_is_gone_even_after_its_number_is_reused";
    if in_child(TEST) {
        current_thread(); // this thread's own entry exists before the scenario
        let lock = Arc::new(Lock::new());
        let l = lock.clone();
        let gone = Thread::builder().name("gone").target(move || l.acquire());
        gone.start().unwrap();
        gone.join().unwrap();
        assert!(lock.locked());
        assert_eq!(lock.holder(), None, "the holder is gone");
        // The next thread gets the freed number; the lock word names its holder by ident,
        // never reused, so `holder` still names nobody.
        let gate = Arc::new(Lock::new());
        gate.acquire();
        let g = gate.clone();
        let next = Thread::builder().name("next").target(move || {
            g.acquire();
            g.release().unwrap();
        });
        next.start().unwrap();
        assert_eq!(lock.holder(), None, "not the thread that reuses the number");
        gate.release().unwrap();
        next.join().unwrap();
        assert_eq!(lock.holder(), None);
        lock.release().unwrap();
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
fn many_panicking_threads_leave_the_registry_as_it_was() {
    // Exact process-wide counts: in a child process.
    const TEST: &str = "many_panicking_threads_leave_the_registry_as_it_was";
    if in_child(TEST) {
        threadkit::set_excepthook(|_, _| {});
        let before = threadkit::active_count();
        let listed = enumerate();
        let lock = Arc::new(Lock::new());
        let m = Arc::new(Mutex::new(0u32));
        let threads: Vec<_> = (0..100)
            .map(|i| {
                let (lock, m) = (lock.clone(), m.clone());
                let t = Thread::builder()
                    .name(format!("panicker-{i}"))
                    .stack_size(64 * 1024)
                    .target(move || {
                        let _g = lock.guard();
                        *m.lock() += 1;
                        panic!("panicker {i}");
                    });
                t.start().unwrap();
                t
            })
            .collect();
        for (i, t) in threads.iter().enumerate() {
            match t.join() {
                Err(JoinError::Panicked(p)) => assert_eq!(p.message(), format!("panicker {i}")),
                other => panic!("expected a panic, got {other:?}"),
            }
        }
        assert_eq!(threadkit::active_count(), before);
        assert_eq!(enumerate(), listed);
        assert!(!lock.locked());
        assert_eq!(*m.lock(), 100);
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
fn a_panicking_excepthook_is_reported_on_stderr_and_join_still_reports_the_panic() {
    const TEST: &str =
        "a_panicking_excepthook_is_reported_on_stderr_and_join_still_reports_the_panic";
    if in_child(TEST) {
        threadkit::set_excepthook(|_, _| panic!("the hook itself fails"));
        let t = Thread::builder()
            .name("hooked")
            .target(|| panic!("original panic"));
        t.start().unwrap();
        match t.join() {
            Err(JoinError::Panicked(p)) => assert_eq!(p.message(), "original panic"),
            other => panic!("expected the original panic, got {other:?}"),
        }
        // The process and threadkit carry on.
        let after = Thread::new(|| {});
        after.start().unwrap();
        after.join().unwrap();
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
    // Python's header and the hook's own panic, then the original panic's default report
    // (the full layout is checked in `tests/hooks.rs`).
    let hook = child.stderr.find("Exception in threading.excepthook:\n");
    let own = child.stderr.find("\nthe hook itself fails\n");
    let original = child.stderr.find("Exception in thread hooked:\n");
    assert!(
        hook.is_some() && hook < own && own < original,
        "{}",
        child.describe()
    );
    assert!(
        child.stderr.contains("\noriginal panic\n"),
        "{}",
        child.describe()
    );
}

#[test]
fn thread_exit_while_holding_a_guard_releases_it() {
    let lock = Arc::new(Lock::new());
    let l = lock.clone();
    let t = Thread::new(move || {
        let _g = l.guard();
        threadkit::thread::exit();
    });
    t.start().unwrap();
    assert_eq!(t.join(), Ok(()));
    assert!(!lock.locked());
}

#[test]
fn a_joiner_waiting_with_a_timeout_sees_the_panic_at_once() {
    let _dog = watchdog("join_timeout of a panicking thread", LIMIT);
    let _hook = Recorder::install("fault-timed-join");
    let gate = Arc::new(Lock::new());
    gate.acquire();
    let g = gate.clone();
    let t = Thread::builder().name("fault-timed-join").target(move || {
        g.acquire();
        panic!("late panic");
    });
    t.start().unwrap();
    let t2 = t.clone();
    let joiner = Thread::new(move || {
        assert!(matches!(
            t2.join_timeout(Duration::from_secs(3600)),
            Err(JoinError::Panicked(_))
        ));
    });
    joiner.start().unwrap();
    loop {
        if joiner.waiting().is_some_and(|w| w.kind() == WaitKind::Join) {
            break;
        }
        std::thread::yield_now();
    }
    gate.release().unwrap();
    joiner.join().unwrap();
}
