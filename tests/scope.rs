//! Scoped threads: `threadkit::scope`, borrowing from the caller's stack, all joined at the
//! scope's end, panics reported and re-raised.
//!
//! Tests that replace the (global) excepthook hold `HOOK_TEST` and only record their own
//! threads (by name prefix).

use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use threadkit::{Event, JoinError, StartError, Thread, WaitKind, enumerate};

mod support;

static HOOK_TEST: Mutex<()> = Mutex::new(());

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

#[test]
fn threads_borrow_and_mutate_the_callers_locals_and_all_end_before_scope_returns() {
    let input: Vec<u64> = (1..=100).collect();
    let mut sums = [0u64; 4];
    let finished = AtomicUsize::new(0);
    threadkit::scope(|s| {
        for (i, out) in sums.iter_mut().enumerate() {
            let (input, finished) = (&input, &finished);
            s.spawn(move || {
                *out = input.iter().skip(i).step_by(4).sum();
                threadkit::sleep(Duration::from_millis(5));
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(finished.load(Ordering::SeqCst), 4, "every thread ended");
    assert_eq!(sums.iter().sum::<u64>(), 5050);
}

#[test]
fn scoped_threads_are_named_registered_threadkit_threads_returning_values() {
    let go = Event::new();
    let name = threadkit::scope(|s| {
        let h = s
            .builder()
            .name("scoped-named")
            .daemon(true)
            .spawn(|| {
                go.wait();
                threadkit::current_thread().name()
            })
            .unwrap();
        assert_eq!(h.thread().name(), "scoped-named");
        assert!(h.thread().is_daemon());
        assert!(enumerate().contains(h.thread()), "listed while it runs");
        assert!(!h.is_finished());
        go.set();
        h.join().unwrap()
    });
    assert_eq!(name, "scoped-named");
}

#[test]
fn scoped_threads_can_spawn_into_the_same_scope_and_the_scope_waits_for_those_too() {
    let done = AtomicUsize::new(0);
    threadkit::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                // The grandchildren outlive their spawner.
                for _ in 0..2 {
                    s.spawn(|| {
                        threadkit::sleep(Duration::from_millis(10));
                        done.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 6);
}

#[test]
fn an_unjoined_panic_is_reported_then_re_raised_after_every_thread_ended() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let seen = record_hook("scoped-panic");
    let slow_done = AtomicBool::new(false);
    let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        threadkit::scope(|s| {
            s.builder()
                .name("scoped-panic-1")
                .spawn(|| panic::panic_any(41u32))
                .unwrap();
            s.spawn(|| {
                threadkit::sleep(Duration::from_millis(20));
                slow_done.store(true, Ordering::SeqCst);
            });
        })
    }));
    assert!(
        slow_done.load(Ordering::SeqCst),
        "re-raised only after all ended"
    );
    let payload = caught.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<u32>(),
        Some(&41),
        "the thread's own payload"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [("scoped-panic-1".to_string(), "Box<dyn Any>".to_string())]
    );
    threadkit::reset_excepthook();
}

#[test]
fn a_panic_the_handle_returned_is_handled_and_not_re_raised() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let message = threadkit::scope(|s| {
        let h = s.spawn(|| -> u8 { panic!("handled") });
        match h.join() {
            Err(JoinError::Panicked(p)) => p.message().to_string(),
            other => panic!("expected a panic, got {other:?}"),
        }
    });
    assert_eq!(message, "handled");
    threadkit::reset_excepthook();
}

#[test]
fn a_panic_in_the_scope_closure_wins_and_waits_for_the_threads() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let done = AtomicBool::new(false);
    let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        threadkit::scope(|s| {
            s.spawn(|| -> () { panic!("thread") });
            s.spawn(|| {
                threadkit::sleep(Duration::from_millis(10));
                done.store(true, Ordering::SeqCst);
            });
            panic::panic_any("closure");
        })
    }));
    assert!(done.load(Ordering::SeqCst));
    assert_eq!(caught.unwrap_err().downcast_ref::<&str>(), Some(&"closure"));
    threadkit::reset_excepthook();
}

#[test]
fn the_scope_end_is_a_recorded_join_wait_on_the_running_thread() {
    let go = Arc::new(Event::new());
    let (tx, rx) = mpsc::channel::<Thread>();
    let g = go.clone();
    let outer = Thread::builder()
        .name("scope-owner")
        .spawn(move || {
            threadkit::scope(|s| {
                let h = s.builder().name("scope-inner").spawn(|| g.wait()).unwrap();
                tx.send(h.thread().clone()).unwrap();
            })
        })
        .unwrap();
    let inner = rx.recv().unwrap();
    let info = loop {
        match outer.thread().waiting() {
            Some(info) if info.kind() == WaitKind::Join => break info,
            _ => std::thread::yield_now(),
        }
    };
    assert_eq!(info.owner(), Some(inner));
    assert!(
        info.location().file().ends_with("scope.rs"),
        "the scope call's line"
    );
    go.set();
    outer.join().unwrap();
}

#[test]
fn a_refused_start_is_an_error_the_closure_is_dropped_and_the_scope_carries_on() {
    let ran = AtomicBool::new(false);
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Bump(Arc<AtomicUsize>);
    impl Drop for Bump {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let bump = Bump(dropped.clone());
    let ok = threadkit::scope(|s| {
        let err = s
            .builder()
            .name("scoped-tiny")
            .stack_size(1000)
            .spawn({
                let ran = &ran;
                move || {
                    let _b = bump; // owned by the closure: dropped with it
                    ran.store(true, Ordering::SeqCst);
                }
            })
            .unwrap_err();
        assert!(
            matches!(&err, StartError::StackTooSmall { thread, size: 1000 } if thread == "scoped-tiny")
        );
        s.spawn(|| 3).join().unwrap()
    });
    assert_eq!(ok, 3);
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[test]
fn thread_exit_in_a_scoped_thread_is_a_clean_end_without_a_value() {
    let err = threadkit::scope(|s| {
        s.builder()
            .name("scoped-exit")
            .spawn(|| -> u8 { threadkit::thread::exit() })
            .unwrap()
            .join()
            .unwrap_err()
    });
    assert!(matches!(err, JoinError::Exited { ref thread } if thread == "scoped-exit"));
    // Not joined by a handle: the scope's end takes it quietly.
    threadkit::scope(|s| {
        s.spawn(|| threadkit::thread::exit());
    });
}

#[test]
fn join_timeout_hands_the_scoped_handle_back() {
    let go = Event::new();
    threadkit::scope(|s| {
        let h = s.spawn(|| {
            go.wait();
            7
        });
        let began = std::time::Instant::now();
        let h = h
            .join_timeout(Duration::from_millis(30))
            .unwrap()
            .unwrap_err();
        assert!(
            began.elapsed() >= Duration::from_millis(30),
            "gave up early"
        );
        go.set();
        assert_eq!(h.join_timeout(Duration::MAX).unwrap().ok(), Some(7));
    });
}

#[test]
fn the_value_of_an_unjoined_handle_is_dropped_before_the_scope_returns() {
    let drops = AtomicUsize::new(0);
    struct Counted<'a>(&'a AtomicUsize);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    threadkit::scope(|s| {
        let _ = s.spawn(|| Counted(&drops));
        s.spawn(|| Counted(&drops));
    });
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panic_seen_only_through_thread_join_is_still_re_raised_with_its_message() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        threadkit::scope(|s| {
            let h = s.spawn(|| -> () { panic::panic_any(5u8) });
            // Python's join: it reports the panic (and takes the payload), but the handle
            // never did, so the scope still re-raises it.
            let err = h.thread().join().unwrap_err();
            assert!(matches!(err, JoinError::Panicked(ref p) if p.has_payload()));
        })
    }));
    let payload = caught.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("Box<dyn Any>"),
        "the payload went to the first joiner; the scope re-raises the message"
    );
    threadkit::reset_excepthook();
}

#[test]
fn stress_many_scopes_with_nested_spawns_end_with_every_thread_joined() {
    // Each round: a scope of 4 threads, each spawning one more into the scope; the threads
    // borrow a per-round counter. Every round must see all 8 increments before `scope` returns,
    // and no thread may stay in the registry.
    let _watchdog = support::watchdog("scope stress", Duration::from_secs(120));
    for round in 0..100 {
        let hits = AtomicUsize::new(0);
        let seen = Mutex::new(Vec::new());
        let sum = threadkit::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|i| {
                    let (hits, seen) = (&hits, &seen);
                    s.spawn(move || {
                        s.spawn(move || {
                            seen.lock().unwrap().push(threadkit::current_thread());
                            hits.fetch_add(1, Ordering::SeqCst)
                        });
                        seen.lock().unwrap().push(threadkit::current_thread());
                        hits.fetch_add(1, Ordering::SeqCst);
                        i * round
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
        });
        assert_eq!(sum, 6 * round);
        assert_eq!(hits.load(Ordering::SeqCst), 8, "round {round}");
        let listed = enumerate();
        for t in seen.into_inner().unwrap() {
            assert!(!t.is_alive(), "{t:?} still runs after its scope");
            assert!(!listed.contains(&t), "{t:?} still listed");
        }
    }
}
