//! `RLock` (Python's `threading.RLock`) and `ReentrantMutex<T>`: recursion, ownership
//! errors, guards and panics, timeouts, wait records, and mutual exclusion under contention.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use threadkit::{RLock, ReentrantMutex, Thread, WaitInfo, WaitKind, current_thread};

const SLACK: Duration = Duration::from_millis(500);

/// Waits (yielding, never sleeping) until `t` is parked in a wait of kind `kind`.
fn parked(t: &Thread, kind: WaitKind) -> WaitInfo {
    loop {
        if let Some(info) = t.waiting()
            && info.kind() == kind
        {
            return info;
        }
        std::thread::yield_now();
    }
}

/// Runs `f` on a new threadkit thread and returns its result.
fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || tx.send(f()).unwrap());
    t.start().unwrap();
    t.join().unwrap();
    rx.recv().unwrap()
}

#[test]
fn recursion_acquire_three_release_three_then_error() {
    let lock = RLock::new();
    for i in 1..=3 {
        lock.acquire();
        assert_eq!(lock.recursion_count(), i);
    }
    assert!(lock.locked());
    assert!(lock.is_owned());
    for i in (0..3).rev() {
        lock.release().unwrap();
        assert_eq!(lock.recursion_count(), i);
    }
    assert!(!lock.locked());
    let err = lock.release().unwrap_err();
    assert_eq!(err.primitive(), "RLock");
    assert_eq!(err.thread(), current_thread().name());
    assert_eq!(err.object(), lock.id());
    let text = err.to_string();
    assert!(text.contains("release unlocked RLock"), "{text}");
    assert!(!lock.locked());
    // Still usable.
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

#[test]
fn release_by_another_thread_is_an_error_that_changes_nothing() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    lock.acquire();
    let l = lock.clone();
    let (name, text, primitive, owned, count) = on_thread(move || {
        let err = l.release().unwrap_err();
        (
            current_thread().name(),
            err.to_string(),
            err.primitive(),
            l.is_owned(),
            l.recursion_count(),
        )
    });
    assert_eq!(primitive, "RLock");
    assert!(text.contains("release another thread's RLock"), "{text}");
    assert!(text.contains(&name), "{text} names {name}");
    assert!(!owned);
    assert_eq!(count, 0);
    // Our hold is intact: two levels.
    assert_eq!(lock.recursion_count(), 2);
    assert_eq!(lock.holder(), Some(current_thread()));
    lock.release().unwrap();
    lock.release().unwrap();
    assert!(!lock.locked());
}

#[test]
fn another_thread_cannot_take_it_while_held_at_any_level() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    lock.acquire();
    let l = lock.clone();
    assert!(!on_thread(move || l.try_acquire()));
    lock.release().unwrap();
    let l = lock.clone();
    assert!(!on_thread(move || l.try_acquire()), "one level still held");
    lock.release().unwrap();
    let l = lock.clone();
    assert!(on_thread(move || {
        let got = l.try_acquire();
        l.release().unwrap();
        got
    }));
}

#[test]
fn guards_release_one_level_each_also_on_panic() {
    let lock = RLock::new();
    let outer = lock.guard();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _inner = lock.guard();
        let _inner2 = lock.try_guard().expect("reentrant");
        assert_eq!(lock.recursion_count(), 3);
        panic!("boom");
    }));
    assert!(r.is_err());
    assert_eq!(
        lock.recursion_count(),
        1,
        "the inner guards released on unwind"
    );
    drop(outer);
    assert!(!lock.locked());

    // A panic holding the only level leaves it free for another thread.
    let lock = Arc::new(RLock::new());
    let l = lock.clone();
    let t = Thread::new(move || {
        let _g = l.guard();
        panic!("in thread");
    });
    t.start().unwrap();
    assert!(t.join().is_err());
    assert!(!lock.locked());
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

#[test]
fn a_guard_dropped_after_a_manual_release_does_not_release_another_holder() {
    let lock = Arc::new(RLock::new());
    let g = lock.guard();
    lock.release().unwrap(); // by hand: the guard's level is gone
    let l = lock.clone();
    let (took_tx, took_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let t = Thread::new(move || {
        l.acquire();
        took_tx.send(()).unwrap();
        done_rx.recv().unwrap();
        assert!(l.is_owned());
        l.release().unwrap();
    });
    t.start().unwrap();
    took_rx.recv().unwrap();
    drop(g); // not the holder any more: does nothing
    assert!(lock.locked());
    assert_eq!(lock.holder(), Some(t.clone()));
    done_tx.send(()).unwrap();
    t.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn a_blocked_acquirer_shows_an_rlock_wait_and_wakes_on_the_last_release() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    lock.acquire();
    let l = lock.clone();
    let got = Arc::new(AtomicBool::new(false));
    let g = got.clone();
    let t = Thread::new(move || {
        l.acquire();
        g.store(true, Ordering::SeqCst);
        l.release().unwrap();
    });
    t.start().unwrap();
    let info = parked(&t, WaitKind::RLock);
    assert_eq!(info.owner(), Some(current_thread()));
    assert_eq!(info.object(), lock.id());
    assert!(info.location().file().ends_with("rlock.rs"));
    lock.release().unwrap();
    // One level is still held: the waiter cannot have the lock.
    assert!(lock.is_owned());
    assert!(!got.load(Ordering::SeqCst));
    lock.release().unwrap();
    t.join().unwrap();
    assert!(got.load(Ordering::SeqCst));
    assert!(!lock.locked());
}

#[test]
fn acquire_timeout_never_gives_up_early() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    let l = lock.clone();
    let took = on_thread(move || {
        let mut took = Vec::new();
        for ms in [1u64, 30, 80] {
            let d = Duration::from_millis(ms);
            let start = Instant::now();
            assert!(!l.acquire_timeout(d));
            took.push((d, start.elapsed()));
        }
        assert!(!l.acquire_timeout(Duration::ZERO));
        assert!(l.try_guard().is_none());
        assert!(l.guard_timeout(Duration::from_millis(1)).is_none());
        took
    });
    for (d, t) in took {
        assert!(t >= d, "gave up after {t:?} < {d:?}");
        assert!(t < d + SLACK, "took {t:?} for {d:?}");
    }
    // The holder gets it at once, whatever the timeout.
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(lock.acquire_timeout(Duration::MAX));
    assert_eq!(lock.recursion_count(), 3);
    for _ in 0..3 {
        lock.release().unwrap();
    }
    // Free: zero and "forever" both succeed.
    let l = lock.clone();
    assert!(on_thread(move || {
        let a = l.acquire_timeout(Duration::ZERO);
        let b = l.acquire_timeout(Duration::MAX);
        let n = l.recursion_count();
        l.release().unwrap();
        l.release().unwrap();
        a && b && n == 2
    }));
    assert!(!lock.locked());
}

#[test]
fn acquire_timeout_succeeds_when_released_in_time() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    let l = lock.clone();
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        let got = l.acquire_timeout(Duration::from_secs(60));
        tx.send((got, l.recursion_count())).unwrap();
        l.release().unwrap();
    });
    t.start().unwrap();
    parked(&t, WaitKind::RLock);
    lock.release().unwrap();
    assert_eq!(rx.recv().unwrap(), (true, 1));
    t.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn timed_out_waiters_do_not_strand_the_others() {
    let lock = Arc::new(RLock::new());
    lock.acquire();
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for i in 0..4 {
        let l = lock.clone();
        let tx = tx.clone();
        let t = Thread::new(move || {
            if i % 2 == 0 {
                tx.send(("timed", l.acquire_timeout(Duration::from_millis(20))))
                    .unwrap();
            } else {
                let _g = l.guard();
                tx.send(("blocking", true)).unwrap();
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    let mut timed_out = 0;
    while timed_out < 2 {
        let (kind, ok) = rx.recv().unwrap();
        assert_eq!((kind, ok), ("timed", false));
        timed_out += 1;
    }
    lock.release().unwrap();
    for _ in 0..2 {
        assert_eq!(rx.recv().unwrap(), ("blocking", true));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(!lock.locked());
}

#[test]
fn holder_locked_is_owned_and_debug_never_block() {
    let lock = Arc::new(RLock::new());
    assert_eq!(format!("{lock:?}"), "RLock { locked: false }");
    let l = lock.clone();
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let t = Thread::new(move || {
        let _a = l.guard();
        let _b = l.guard();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
    });
    t.start().unwrap();
    held_rx.recv().unwrap();
    assert!(lock.locked());
    assert!(!lock.is_owned());
    assert_eq!(lock.recursion_count(), 0);
    assert_eq!(lock.holder(), Some(t.clone()));
    let text = format!("{lock:?}");
    assert!(text.starts_with("RLock { locked: true, holder: "), "{text}");
    assert!(text.ends_with("count: 2 }"), "{text}");
    go_tx.send(()).unwrap();
    t.join().unwrap();
    assert!(lock.holder().is_none());
}

#[test]
fn a_static_rlock() {
    static LOCK: RLock = RLock::new();
    let _a = LOCK.guard();
    let _b = LOCK.guard();
    assert_eq!(LOCK.recursion_count(), 2);
}

#[test]
fn mutual_exclusion_under_contention_with_recursion() {
    // A non-atomic increment (load, then store) under the lock, taken twice: lost updates
    // would show if two threads were ever inside at once.
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 20_000;
    let lock = Arc::new(RLock::new());
    let counter = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for _ in 0..THREADS {
        let (l, c) = (lock.clone(), counter.clone());
        let t = Thread::new(move || {
            for i in 0..ROUNDS {
                let _outer = l.guard();
                let _inner = l.guard();
                let v = c.load(Ordering::Relaxed);
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
                c.store(v + 1, Ordering::Relaxed);
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * ROUNDS);
    assert!(!lock.locked());
}

#[test]
fn reentrant_mutex_locks_again_on_one_thread_and_excludes_others() {
    let m = Arc::new(ReentrantMutex::new(Cell::new(0u64)));
    {
        let a = m.lock();
        let b = m.lock();
        a.set(a.get() + 1);
        b.set(b.get() + 1);
        assert!(m.is_owned_by_current_thread());
        let m2 = m.clone();
        assert!(!on_thread(move || m2.try_lock().is_some()));
        let m2 = m.clone();
        let (got, t) = on_thread(move || {
            let start = Instant::now();
            let got = m2.try_lock_for(Duration::from_millis(30)).is_some();
            (got, start.elapsed())
        });
        assert!(!got);
        assert!(t >= Duration::from_millis(30), "{t:?}");
    }
    assert!(!m.is_locked());
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 10_000;
    let mut threads = Vec::new();
    for _ in 0..THREADS {
        let m = m.clone();
        let t = Thread::new(move || {
            for _ in 0..ROUNDS {
                let g = m.lock();
                let g2 = m.lock();
                g2.set(g.get() + 1);
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(m.lock().get(), 2 + THREADS * ROUNDS);
}

#[test]
fn reentrant_mutex_waiter_is_recorded() {
    let m = Arc::new(ReentrantMutex::new(()));
    let g = m.lock();
    let m2 = m.clone();
    let t = Thread::new(move || drop(m2.lock()));
    t.start().unwrap();
    let info = parked(&t, WaitKind::Lock);
    assert_eq!(info.owner(), Some(current_thread()));
    drop(g);
    t.join().unwrap();
}

#[test]
fn locks_taken_in_thread_local_destructors_still_exclude() {
    // A thread that has left the registry (its thread-locals are being dropped) has no thread
    // number of its own; it must still be told apart from other such threads.
    struct TakeInDrop(
        Arc<RLock>,
        mpsc::Sender<(bool, bool, usize)>,
        Arc<std::sync::Barrier>,
    );
    impl Drop for TakeInDrop {
        fn drop(&mut self) {
            // Make sure this thread's registry entry is gone first.
            assert_eq!(threadkit::get_ident(), 0, "no registry entry any more");
            let lock = &self.0;
            let first = lock.try_acquire();
            // Both threads try while the first still holds it.
            self.2.wait();
            let again = lock.try_acquire(); // reentrant for the holder only
            let count = lock.recursion_count();
            self.2.wait();
            if first {
                assert!(again);
                lock.release().unwrap();
                lock.release().unwrap();
            } else {
                assert!(lock.release().is_err());
            }
            self.1.send((first, again, count)).unwrap();
        }
    }
    thread_local! {
        static SLOT: std::cell::RefCell<Option<TakeInDrop>> = const { std::cell::RefCell::new(None) };
    }
    let lock = Arc::new(RLock::new());
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for _ in 0..2 {
        let (l, tx, b) = (lock.clone(), tx.clone(), barrier.clone());
        handles.push(std::thread::spawn(move || {
            // Registered first, dropped last: after threadkit's own thread-locals.
            SLOT.with(|s| *s.borrow_mut() = Some(TakeInDrop(l, tx, b)));
            let _ = threadkit::current_thread();
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let mut results: Vec<_> = rx.iter().take(2).collect();
    results.sort();
    assert_eq!(results, [(false, false, 0), (true, true, 2)]);
    assert!(!lock.locked());
}
