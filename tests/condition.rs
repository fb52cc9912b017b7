//! `Condition` (Python's `threading.Condition`) over an `RLock` and over a `Lock`: errors,
//! recursive waits, notify counts, predicates, timeouts, wait records and a producer/consumer
//! stress with exact counts.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use threadkit::{
    Condition, ConditionLock, Lock, RLock, Thread, WaitInfo, WaitKind, current_thread,
};

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

fn lock_cond() -> Condition<Lock> {
    Condition::with_lock(Arc::new(Lock::new()))
}

/// Runs `f` on a new threadkit thread and returns its result.
fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || tx.send(f()).unwrap());
    t.start().unwrap();
    t.join().unwrap();
    rx.recv().unwrap()
}

fn check_unheld_errors<L: ConditionLock + 'static>(cond: &Condition<L>) {
    let me = current_thread().name();
    for (op, err) in [
        ("wait", cond.wait().unwrap_err()),
        (
            "wait",
            cond.wait_timeout(Duration::from_millis(1)).unwrap_err(),
        ),
        ("wait", cond.wait_for(|| true).unwrap_err()),
        (
            "wait",
            cond.wait_for_timeout(|| true, Duration::ZERO).unwrap_err(),
        ),
        ("notify", cond.notify(1).unwrap_err()),
        ("notify", cond.notify(0).unwrap_err()),
        ("notify", cond.notify_one().unwrap_err()),
        ("notify", cond.notify_all().unwrap_err()),
    ] {
        assert_eq!(err.operation(), op);
        assert_eq!(err.primitive(), "Condition");
        assert_eq!(err.thread(), me);
        assert_eq!(err.object(), cond.id());
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("cannot {op} on un-acquired lock")),
            "{text}"
        );
        assert!(text.contains(&me), "{text}");
    }
}

#[test]
fn waiting_or_notifying_without_the_lock_is_an_error_rlock() {
    let cond = Arc::new(Condition::new());
    check_unheld_errors(&*cond);
    assert!(!cond.lock().locked());
    // Held by another thread is not held by us.
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let c = cond.clone();
    let t = Thread::new(move || {
        let _g = c.guard();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
    });
    t.start().unwrap();
    held_rx.recv().unwrap();
    check_unheld_errors(&*cond);
    go_tx.send(()).unwrap();
    t.join().unwrap();
    assert!(!cond.lock().locked());
    // Release through the condition: the RLock's errors.
    let err = cond.release().unwrap_err();
    assert_eq!(err.primitive(), "RLock");
}

#[test]
fn waiting_or_notifying_without_the_lock_is_an_error_lock() {
    let cond = Arc::new(lock_cond());
    check_unheld_errors(&*cond);
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let c = cond.clone();
    let t = Thread::new(move || {
        c.acquire();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        c.release().unwrap();
    });
    t.start().unwrap();
    held_rx.recv().unwrap();
    // Locked, but by another thread: an error here (Python would accept it).
    assert!(cond.lock().locked());
    check_unheld_errors(&*cond);
    go_tx.send(()).unwrap();
    t.join().unwrap();
    let err = cond.release().unwrap_err();
    assert_eq!(err.primitive(), "Lock");
}

#[test]
fn notify_with_nobody_waiting_is_zero() {
    let cond = Condition::new();
    let _g = cond.guard();
    assert_eq!(cond.notify(1).unwrap(), 0);
    assert_eq!(cond.notify(0).unwrap(), 0);
    assert_eq!(cond.notify_all().unwrap(), 0);
    let cond = lock_cond();
    let _g = cond.guard();
    assert_eq!(cond.notify_one().unwrap(), 0);
}

fn wait_timeout_times_out<L: ConditionLock + 'static>(cond: Condition<L>, held: fn(&L) -> bool) {
    cond.acquire();
    for ms in [1u64, 30, 80] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(cond.wait_timeout(d).unwrap().timed_out());
        let took = start.elapsed();
        assert!(took >= d, "gave up after {took:?} < {d:?}");
        assert!(took < d + SLACK, "took {took:?} for {d:?}");
        assert!(held(cond.lock()), "held again after a timeout");
    }
    assert!(cond.wait_timeout(Duration::ZERO).unwrap().timed_out());
    assert!(held(cond.lock()));
    let start = Instant::now();
    let last: Option<u32> = cond
        .wait_for_timeout(|| None, Duration::from_millis(40))
        .unwrap();
    assert_eq!(last, None);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(40), "{took:?}");
    assert!(took < Duration::from_millis(40) + SLACK, "{took:?}");
    let mut calls = 0;
    assert!(
        !cond
            .wait_for_timeout(
                || {
                    calls += 1;
                    false
                },
                Duration::ZERO
            )
            .unwrap()
    );
    assert_eq!(calls, 1, "zero polls once");
    assert!(held(cond.lock()));
    cond.release().unwrap();
    assert!(!cond.lock().locked());
    assert!(format!("{cond:?}").ends_with("waiters: 0 }"), "{cond:?}");
}

#[test]
fn wait_timeout_never_returns_early_and_holds_the_lock_again_rlock() {
    wait_timeout_times_out(Condition::new(), RLock::is_owned);
}

#[test]
fn wait_timeout_never_returns_early_and_holds_the_lock_again_lock() {
    wait_timeout_times_out(lock_cond(), Lock::locked);
}

/// A waiter on `cond` with `timeout` (None: `wait`), its result sent on a channel.
fn notified_in_time<L: ConditionLock + 'static>(
    cond: Arc<Condition<L>>,
    timeout: Option<Duration>,
) {
    let c = cond.clone();
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        c.acquire();
        let r = match timeout {
            Some(d) => !c.wait_timeout(d).unwrap().timed_out(),
            None => c.wait().map(|()| true).unwrap(),
        };
        tx.send((r, f.load(Ordering::SeqCst))).unwrap();
        c.release().unwrap();
    });
    t.start().unwrap();
    let info = parked(&t, WaitKind::Condition);
    assert_eq!(info.object(), cond.id());
    assert!(info.location().file().ends_with("condition.rs"));
    {
        let _g = cond.guard();
        flag.store(true, Ordering::SeqCst);
        assert_eq!(cond.notify(1).unwrap(), 1);
        // Notified but the lock is ours: the waiter is still blocked, in its condition wait.
        assert_eq!(t.waiting().map(|i| i.kind()), Some(WaitKind::Condition));
    }
    assert_eq!(rx.recv().unwrap(), (true, true));
    t.join().unwrap();
    assert!(!cond.lock().locked());
}

#[test]
fn a_notified_wait_returns_true_and_shows_as_a_condition_wait() {
    for timeout in [None, Some(Duration::from_secs(60)), Some(Duration::MAX)] {
        notified_in_time(Arc::new(Condition::new()), timeout);
        notified_in_time(Arc::new(lock_cond()), timeout);
    }
}

#[test]
fn wait_on_a_recursively_held_rlock_releases_every_level_and_restores_them() {
    let cond = Arc::new(Condition::new());
    let c = cond.clone();
    let ready = Arc::new(AtomicBool::new(false));
    let r = ready.clone();
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        for _ in 0..3 {
            c.acquire();
        }
        let ok = c.wait_for(|| r.load(Ordering::SeqCst)).unwrap();
        let count = c.lock().recursion_count();
        let mut releases = Vec::new();
        for _ in 0..4 {
            releases.push(c.release().is_ok());
        }
        tx.send((ok, count, releases)).unwrap();
    });
    t.start().unwrap();
    parked(&t, WaitKind::Condition);
    // Every level gets released (the wait record is written just before the release, so poll):
    // another thread can take it, recursively too.
    while !cond.lock().try_acquire() {
        std::thread::yield_now();
    }
    assert!(cond.lock().try_acquire());
    assert_eq!(cond.lock().holder(), Some(current_thread()));
    ready.store(true, Ordering::SeqCst);
    assert_eq!(cond.notify_all().unwrap(), 1);
    cond.release().unwrap();
    cond.release().unwrap();
    let (ok, count, releases) = rx.recv().unwrap();
    assert!(ok);
    assert_eq!(count, 3, "the recursion count is restored");
    assert_eq!(releases, [true, true, true, false]);
    t.join().unwrap();
    assert!(!cond.lock().locked());
}

/// `waiters` threads wait on `cond`; returns them and a channel of their wake-ups.
fn start_waiters<L: ConditionLock + 'static>(
    cond: &Arc<Condition<L>>,
    waiters: usize,
    woken: &Arc<AtomicUsize>,
) -> (Vec<Thread>, mpsc::Receiver<usize>) {
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for i in 0..waiters {
        let (c, w, tx) = (cond.clone(), woken.clone(), tx.clone());
        let t = Thread::new(move || {
            c.acquire();
            c.wait().unwrap();
            w.fetch_add(1, Ordering::SeqCst);
            tx.send(i).unwrap();
            c.release().unwrap();
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in &threads {
        parked(t, WaitKind::Condition);
    }
    (threads, rx)
}

fn notify_counts<L: ConditionLock + 'static>(cond: Arc<Condition<L>>) {
    let woken = Arc::new(AtomicUsize::new(0));
    let (threads, rx) = start_waiters(&cond, 4, &woken);
    // All four parked; the lock is free, so every one of them is in the queue.
    cond.acquire();
    assert_eq!(cond.notify(1).unwrap(), 1);
    cond.release().unwrap();
    rx.recv().unwrap();
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    // Exactly three are still waiting: notify(2) takes two of them, notify_all the last.
    cond.acquire();
    assert_eq!(cond.notify(2).unwrap(), 2);
    cond.release().unwrap();
    rx.recv().unwrap();
    rx.recv().unwrap();
    assert_eq!(woken.load(Ordering::SeqCst), 3);
    cond.acquire();
    assert_eq!(cond.notify_all().unwrap(), 1);
    assert_eq!(cond.notify_all().unwrap(), 0);
    cond.release().unwrap();
    let mut seen: Vec<usize> = (0..1).map(|_| rx.recv().unwrap()).collect();
    for t in threads {
        t.join().unwrap();
    }
    seen.extend(rx.try_iter());
    assert_eq!(woken.load(Ordering::SeqCst), 4);
    assert!(seen.len() == 1, "each waiter woke once: {seen:?}");
    assert!(format!("{cond:?}").ends_with("waiters: 0 }"), "{cond:?}");
}

#[test]
fn notify_n_wakes_exactly_n_of_the_waiters() {
    notify_counts(Arc::new(Condition::new()));
    notify_counts(Arc::new(lock_cond()));
}

fn notify_all_wakes_all<L: ConditionLock + 'static>(cond: Arc<Condition<L>>) {
    let woken = Arc::new(AtomicUsize::new(0));
    let (threads, rx) = start_waiters(&cond, 5, &woken);
    {
        let _g = cond.guard();
        assert_eq!(cond.notify_all().unwrap(), 5);
        assert_eq!(
            woken.load(Ordering::SeqCst),
            0,
            "nobody runs while we hold the lock"
        );
    }
    let mut ids: Vec<usize> = (0..5).map(|_| rx.recv().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), 5);
    assert!(!cond.lock().locked());
}

#[test]
fn notify_all_wakes_every_waiter() {
    notify_all_wakes_all(Arc::new(Condition::new()));
    notify_all_wakes_all(Arc::new(lock_cond()));
}

#[test]
fn wait_for_returns_the_predicates_value() {
    let cond = Arc::new(Condition::new());
    let items = Arc::new(Mutex::new(VecDeque::new()));
    let (c, q) = (cond.clone(), items.clone());
    let (tx, rx) = mpsc::channel();
    let consumer = Thread::new(move || {
        let _g = c.guard();
        let mut got = Vec::new();
        while got.len() < 3 {
            let item = c
                .wait_for(|| {
                    q.try_lock()
                        .expect("under the condition's lock")
                        .pop_front()
                })
                .unwrap();
            got.push(item); // the `T`: an untimed wait_for never ends on `None`
        }
        // A bool predicate that already holds returns at once.
        assert!(c.wait_for(|| true).unwrap());
        tx.send(got).unwrap();
    });
    consumer.start().unwrap();
    for i in 0..3u32 {
        parked(&consumer, WaitKind::Condition);
        let _g = cond.guard();
        items.try_lock().unwrap().push_back(i);
        // 0 if the consumer, woken for the previous item, has not waited again yet.
        assert!(cond.notify(1).unwrap() <= 1);
    }
    assert_eq!(rx.recv().unwrap(), [0, 1, 2]);
    consumer.join().unwrap();
    assert!(!cond.lock().locked());
}

#[test]
fn wait_for_timeout_returns_the_value_once_it_holds() {
    let cond = Arc::new(lock_cond());
    let flag = Arc::new(AtomicBool::new(false));
    let (c, f) = (cond.clone(), flag.clone());
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || {
        let _g = c.guard();
        let v = c
            .wait_for_timeout(|| f.load(Ordering::SeqCst), Duration::from_secs(60))
            .unwrap();
        tx.send(v).unwrap();
    });
    t.start().unwrap();
    parked(&t, WaitKind::Condition);
    {
        let _g = cond.guard();
        flag.store(true, Ordering::SeqCst);
        cond.notify_all().unwrap();
    }
    assert!(rx.recv().unwrap());
    t.join().unwrap();
}

fn predicate_panics<L: ConditionLock + 'static>(cond: Arc<Condition<L>>, held: fn(&L) -> bool) {
    // Panicking on the first call: the lock stays held by the caller.
    cond.acquire();
    let r = catch_unwind(AssertUnwindSafe(|| {
        cond.wait_for(|| -> bool { panic!("first") })
    }));
    assert!(r.is_err());
    assert!(held(cond.lock()));
    cond.release().unwrap();
    assert!(!cond.lock().locked());

    // Panicking after a wait: the lock was taken back before the predicate ran.
    let c = cond.clone();
    let t = Thread::new(move || {
        let _g = c.guard();
        let mut calls = 0;
        let r = catch_unwind(AssertUnwindSafe(|| {
            c.wait_for(|| {
                calls += 1;
                if calls == 2 {
                    panic!("second");
                }
                false
            })
        }));
        assert!(r.is_err());
        assert!(
            held(c.lock()),
            "held when the predicate panicked after a wait"
        );
        assert_eq!(calls, 2);
    });
    t.start().unwrap();
    parked(&t, WaitKind::Condition);
    {
        let _g = cond.guard();
        assert_eq!(cond.notify(1).unwrap(), 1);
    }
    t.join().unwrap();
    // The guard released it while the thread ended: free and usable.
    assert!(!cond.lock().locked());
    let c = cond.clone();
    assert!(on_thread(move || {
        let ok = c.try_acquire();
        c.release().unwrap();
        ok
    }));
}

#[test]
fn a_panicking_predicate_leaves_the_lock_held_and_usable() {
    predicate_panics(Arc::new(Condition::new()), RLock::is_owned);
    predicate_panics(Arc::new(lock_cond()), Lock::locked);
}

#[test]
fn a_panicking_predicate_keeps_the_recursion_count() {
    let cond = Condition::new();
    cond.acquire();
    cond.acquire();
    let r = catch_unwind(AssertUnwindSafe(|| {
        cond.wait_for(|| -> bool { panic!("p") })
    }));
    assert!(r.is_err());
    assert_eq!(cond.lock().recursion_count(), 2);
    cond.release().unwrap();
    cond.release().unwrap();
    assert!(cond.release().is_err());
}

/// A bounded buffer on two conditions sharing one lock: `producers` x `per` items through
/// `consumers`, every item delivered exactly once.
fn producer_consumer<L: ConditionLock + Default + 'static>(
    producers: usize,
    consumers: usize,
    per: usize,
) {
    const CAP: usize = 8;
    let lock = Arc::new(L::default());
    let not_empty = Arc::new(Condition::with_lock(lock.clone()));
    let not_full = Arc::new(Condition::with_lock(lock.clone()));
    let buf = Arc::new(Mutex::new(VecDeque::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for p in 0..producers {
        let (ne, nf, buf) = (not_empty.clone(), not_full.clone(), buf.clone());
        let t = Thread::new(move || {
            for i in 0..per {
                ne.acquire();
                nf.wait_for(|| buf.try_lock().expect("exclusive").len() < CAP)
                    .unwrap();
                buf.try_lock().expect("exclusive").push_back(p * per + i);
                ne.notify(1).unwrap();
                ne.release().unwrap();
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    let total = producers * per;
    let (tx, rx) = mpsc::channel();
    for _ in 0..consumers {
        let (ne, nf, buf, done, tx) = (
            not_empty.clone(),
            not_full.clone(),
            buf.clone(),
            done.clone(),
            tx.clone(),
        );
        let t = Thread::new(move || {
            let mut mine = Vec::new();
            loop {
                let _g = ne.guard();
                let item = ne
                    .wait_for(|| {
                        let mut b = buf.try_lock().expect("exclusive");
                        if done.load(Ordering::Relaxed) == total {
                            return Some(None);
                        }
                        b.pop_front().map(Some)
                    })
                    .unwrap();
                match item {
                    Some(v) => {
                        mine.push(v);
                        if done.fetch_add(1, Ordering::Relaxed) + 1 == total {
                            ne.notify_all().unwrap(); // wake the other consumers to stop
                        }
                        nf.notify(1).unwrap();
                    }
                    None => break,
                }
            }
            tx.send(mine).unwrap();
        });
        t.start().unwrap();
        threads.push(t);
    }
    drop(tx);
    for t in threads {
        t.join().unwrap();
    }
    let mut all: Vec<usize> = rx.iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (0..total).collect::<Vec<_>>());
    assert!(!lock.locked());
    assert!(format!("{not_empty:?}").ends_with("waiters: 0 }"));
    assert!(format!("{not_full:?}").ends_with("waiters: 0 }"));
}

#[test]
fn producer_consumer_stress_delivers_every_item_once_rlock() {
    producer_consumer::<RLock>(2, 2, 5_000);
}

#[test]
fn producer_consumer_stress_delivers_every_item_once_lock() {
    producer_consumer::<Lock>(2, 2, 5_000);
}

#[test]
fn timed_waiters_racing_notifies_keep_the_state_consistent() {
    // Waiters with tiny timeouts against a notifier: timeouts and requeues race; afterwards
    // nobody is counted as waiting and the lock is free and usable.
    let cond = Arc::new(Condition::new());
    let stop = Arc::new(AtomicBool::new(false));
    let notified = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for _ in 0..3 {
        let (c, n) = (cond.clone(), notified.clone());
        let t = Thread::new(move || {
            for i in 0..300 {
                let _g = c.guard();
                let _g2 = c.guard();
                let start = Instant::now();
                let d = Duration::from_micros(50 + (i % 7) * 100);
                if !c.wait_timeout(d).unwrap().timed_out() {
                    n.fetch_add(1, Ordering::Relaxed);
                } else {
                    assert!(start.elapsed() >= d);
                }
                assert_eq!(c.lock().recursion_count(), 2);
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    let (c, s) = (cond.clone(), stop.clone());
    let notifier = Thread::new(move || {
        while !s.load(Ordering::Relaxed) {
            let _g = c.guard();
            assert!(c.notify(1).unwrap() <= 1);
        }
    });
    notifier.start().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    notifier.join().unwrap();
    assert!(!cond.lock().locked());
    assert!(format!("{cond:?}").ends_with("waiters: 0 }"), "{cond:?}");
    let _g = cond.guard();
    assert_eq!(cond.notify_all().unwrap(), 0);
}

#[test]
fn two_threads_ping_pong() {
    // The bench's scenario as a test: strict alternation, every turn seen.
    const ROUNDS: usize = 2_000;
    let cond = Arc::new(lock_cond());
    let turn = Arc::new(AtomicUsize::new(0));
    let (c, tu) = (cond.clone(), turn.clone());
    let t = Thread::new(move || {
        for i in 0..ROUNDS {
            let _g = c.guard();
            c.wait_for(|| tu.load(Ordering::Relaxed) == 2 * i + 1)
                .unwrap();
            tu.store(2 * i + 2, Ordering::Relaxed);
            c.notify(1).unwrap();
        }
    });
    t.start().unwrap();
    for i in 0..ROUNDS {
        let _g = cond.guard();
        cond.wait_for(|| turn.load(Ordering::Relaxed) == 2 * i)
            .unwrap();
        turn.store(2 * i + 1, Ordering::Relaxed);
        cond.notify(1).unwrap();
    }
    t.join().unwrap();
    assert_eq!(turn.load(Ordering::Relaxed), 2 * ROUNDS);
}

fn reacquire_is_recorded<L: ConditionLock + 'static>(cond: Arc<Condition<L>>) {
    let c = cond.clone();
    let t = Thread::new(move || {
        let _g = c.guard();
        assert!(
            c.wait_timeout(Duration::from_millis(20))
                .unwrap()
                .timed_out()
        );
    });
    t.start().unwrap();
    parked(&t, WaitKind::Condition);
    let lock_addr = cond.lock() as *const L as usize;
    assert_ne!(lock_addr, &*cond as *const Condition<L> as usize);
    // Hold the lock: once its wait times out, the thread blocks taking the lock back.
    let g = cond.guard();
    let info = loop {
        if let Some(info) = t.waiting()
            && info.object().addr() == lock_addr
        {
            break info;
        }
        std::thread::yield_now();
    };
    assert_eq!(info.kind(), WaitKind::Condition);
    assert_eq!(info.owner(), Some(current_thread()));
    drop(g);
    t.join().unwrap();
    assert!(!cond.lock().locked());
}

#[test]
fn taking_the_lock_back_after_a_wait_shows_as_a_condition_wait() {
    reacquire_is_recorded(Arc::new(Condition::new()));
    reacquire_is_recorded(Arc::new(lock_cond()));
}
