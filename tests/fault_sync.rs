//! Faults in the synchronisation primitives and the queues: a panic in a `Timer` function, in
//! a `Barrier` action, in a `Condition::wait_for` predicate, while holding an `RLock` guard or
//! a semaphore guard, and inside a queue worker's loop. After each, the primitive must stay
//! usable, the panic be reported (by `join`, and to the excepthook), and the registry stay
//! consistent (the panicking thread leaves `enumerate()`, nobody is left blocked).
//!
//! Tests that replace the process-wide excepthook hold `support::Recorder` (which serialises them).

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex, mpsc};
use std::time::{Duration, Instant};

use support::{Recorder, watchdog};
use threadkit::queue::Queue;
use threadkit::{
    Barrier, BoundedSemaphore, BrokenCause, Condition, JoinError, RLock, Semaphore, Thread, Timer,
    WaitKind, enumerate,
};

const LIMIT: Duration = Duration::from_secs(120);

fn start(name: &str, f: impl FnOnce() + Send + 'static) -> Thread {
    let t = Thread::builder().name(name).target(f);
    t.start().unwrap();
    t
}

/// Yields until `t` is parked on a wait of `kind`.
fn wait_until_parked(t: &Thread, kind: WaitKind) {
    while !t.waiting().is_some_and(|w| w.kind() == kind) {
        std::thread::yield_now();
    }
}

/// The thread ended with a panic whose message is `message`.
fn assert_panicked(t: &Thread, message: &str) {
    match t.join() {
        Err(JoinError::Panicked(p)) => assert_eq!(p.message(), message),
        other => panic!("expected the panic {message:?}, got {other:?}"),
    }
}

/// None of `threads` is alive, blocked or listed.
fn assert_gone(threads: &[&Thread]) {
    let listed = enumerate();
    for t in threads {
        assert!(!t.is_alive(), "{} is alive", t.name());
        assert!(t.waiting().is_none(), "{} is blocked", t.name());
        assert!(!listed.contains(t), "{} is still listed", t.name());
    }
}

#[test]
fn a_panic_in_a_timer_function_is_reported_and_leaves_other_timers_alone() {
    let _dog = watchdog("timer panic", LIMIT);
    let hook = Recorder::install("fault-timer");
    let fired = Arc::new(AtomicUsize::new(0));
    let bad = Timer::with_builder(
        Thread::builder().name("fault-timer-bad"),
        Duration::from_millis(1),
        || panic!("timer function failed"),
    );
    let f = fired.clone();
    let good = Timer::with_builder(
        Thread::builder().name("fault-timer-good"),
        Duration::from_millis(2),
        move || {
            f.fetch_add(1, Ordering::SeqCst);
        },
    );
    let f = fired.clone();
    let cancelled = Timer::with_builder(
        Thread::builder().name("fault-timer-cancelled"),
        Duration::from_secs(3600),
        move || {
            f.fetch_add(100, Ordering::SeqCst);
        },
    );
    bad.start().unwrap();
    good.start().unwrap();
    cancelled.start().unwrap();
    let err = bad.join().unwrap_err();
    let JoinError::Panicked(p) = &err else {
        panic!("expected a panic, got {err:?}")
    };
    assert_eq!(p.message(), "timer function failed");
    assert_eq!(p.thread(), "fault-timer-bad");
    assert_eq!(bad.join(), Err(err), "every join reports it");
    // The timer is finished: fired, its event set even though the function panicked.
    assert!(bad.has_fired());
    assert!(!bad.is_cancelled());
    assert!(bad.finished().is_set());
    assert!(!bad.cancel(), "too late to cancel");
    assert!(!bad.is_alive());
    // The others: one fires as usual, one is cancelled as usual.
    good.join().unwrap();
    assert!(good.has_fired());
    assert!(cancelled.cancel());
    cancelled.join().unwrap();
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    assert_eq!(
        hook.seen(),
        [(
            "fault-timer-bad".to_string(),
            "timer function failed".to_string()
        )]
    );
    assert_gone(&[bad.thread(), good.thread(), cancelled.thread()]);
}

#[test]
fn a_panic_in_a_barrier_action_breaks_it_for_every_waiter_until_reset() {
    const PARTIES: usize = 4;
    let _dog = watchdog("barrier action panic", LIMIT);
    let hook = Recorder::install("fault-barrier");
    let fail = Arc::new(AtomicBool::new(true));
    let actions = Arc::new(AtomicUsize::new(0));
    let (fl, ac) = (fail.clone(), actions.clone());
    let barrier = Arc::new(Barrier::new(PARTIES).unwrap().with_action(move || {
        ac.fetch_add(1, Ordering::SeqCst);
        if fl.load(Ordering::SeqCst) {
            panic!("barrier action failed");
        }
    }));
    let causes = Arc::new(StdMutex::new(Vec::new()));
    let threads: Vec<_> = (0..PARTIES)
        .map(|i| {
            let (b, c) = (barrier.clone(), causes.clone());
            start(&format!("fault-barrier-{i}"), move || {
                // The thread that runs the action panics out of `wait`; the others get
                // the error.
                let err = b.wait().expect_err("the action broke the cycle");
                c.lock().unwrap().push(err.cause());
            })
        })
        .collect();
    let mut panicked = Vec::new();
    for t in &threads {
        match t.join() {
            Ok(()) => {}
            Err(JoinError::Panicked(p)) => {
                assert_eq!(p.message(), "barrier action failed");
                panicked.push(t.name());
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(panicked.len(), 1, "the action ran in exactly one thread");
    assert_eq!(
        *causes.lock().unwrap(),
        [BrokenCause::ActionPanicked; PARTIES - 1]
    );
    assert_eq!(actions.load(Ordering::SeqCst), 1);
    assert_eq!(
        hook.seen(),
        [(panicked[0].clone(), "barrier action failed".to_string())]
    );
    assert_gone(&threads.iter().collect::<Vec<_>>());
    // Broken until reset: an arrival is refused at once, with the same cause.
    assert!(barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(
        barrier.wait().unwrap_err().cause(),
        BrokenCause::ActionPanicked
    );
    barrier.reset();
    assert!(!barrier.broken());
    // Usable again: a full cycle, whose action runs once (and no longer panics).
    fail.store(false, Ordering::SeqCst);
    let again: Vec<_> = (0..PARTIES)
        .map(|i| {
            let b = barrier.clone();
            start(&format!("fault-barrier-again-{i}"), move || {
                b.wait().expect("a fresh cycle");
            })
        })
        .collect();
    for t in &again {
        t.join().unwrap();
    }
    assert_eq!(actions.load(Ordering::SeqCst), 2);
    assert!(!barrier.broken());
    assert_eq!(hook.seen().len(), 1);
}

#[test]
fn a_panic_in_a_wait_for_predicate_leaves_the_lock_held_and_other_waiters_wakeable() {
    let _dog = watchdog("wait_for predicate panic", LIMIT);
    let hook = Recorder::install("fault-pred");
    let cond = Arc::new(Condition::new());
    let flag = Arc::new(AtomicBool::new(false));
    let calls: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
    // Waits (each predicate call counted) until `flag`.
    let (c, f, n) = (cond.clone(), flag.clone(), calls.clone());
    let waiter = start("fault-pred-waiter", move || {
        let _g = c.guard();
        let got = c
            .wait_for(|| {
                n[0].fetch_add(1, Ordering::SeqCst);
                f.load(Ordering::SeqCst)
            })
            .unwrap();
        assert!(got);
    });
    // Its predicate panics on its second call; the panic is caught in the thread.
    let (c, n) = (cond.clone(), calls.clone());
    let catcher = start("fault-pred-catcher", move || {
        let _g = c.guard();
        let r = catch_unwind(AssertUnwindSafe(|| {
            c.wait_for(|| {
                if n[1].fetch_add(1, Ordering::SeqCst) == 1 {
                    panic!("predicate failed");
                }
                false
            })
        }));
        assert!(r.is_err());
        // The lock is held again, at its level, as when `wait_for` was called.
        assert!(c.lock().is_owned());
        assert_eq!(c.lock().recursion_count(), 1);
        // And the condition works: a timed wait times out and holds the lock again.
        assert!(
            c.wait_timeout(Duration::from_millis(1))
                .unwrap()
                .timed_out()
        );
        assert!(c.lock().is_owned());
    });
    // Its predicate panics on its second call, uncaught: the guard releases on unwind.
    let (c, n) = (cond.clone(), calls.clone());
    let panicker = start("fault-pred-panicker", move || {
        let _g = c.guard();
        let _ = c.wait_for(|| {
            if n[2].fetch_add(1, Ordering::SeqCst) == 1 {
                panic!("predicate failed, uncaught");
            }
            false
        });
        unreachable!("the predicate panics");
    });
    // A waiter's first predicate call returned false while it held the lock, and it
    // releases the lock only once queued: taking the lock proves they all wait.
    for i in 0..3 {
        while calls[i].load(Ordering::SeqCst) < 1 {
            std::thread::yield_now();
        }
    }
    {
        let _g = cond.guard();
        assert_eq!(cond.notify_all().unwrap(), 3);
    }
    catcher.join().unwrap();
    assert_panicked(&panicker, "predicate failed, uncaught");
    assert!(!cond.lock().locked() || cond.lock().holder() == Some(waiter.clone()));
    // The plain waiter saw `false` again and waits again; a notify still reaches it.
    while calls[0].load(Ordering::SeqCst) < 2 {
        std::thread::yield_now();
    }
    {
        let _g = cond.guard();
        flag.store(true, Ordering::SeqCst);
        assert_eq!(cond.notify(1).unwrap(), 1, "the waiter is still queued");
    }
    waiter.join().unwrap();
    assert!(!cond.lock().locked());
    assert_eq!(
        hook.seen(),
        [(
            "fault-pred-panicker".to_string(),
            "predicate failed, uncaught".to_string()
        )]
    );
    assert_gone(&[&waiter, &catcher, &panicker]);
    let _g = cond.guard();
    assert_eq!(cond.notify_all().unwrap(), 0);
}

#[test]
fn a_panic_while_holding_rlock_guards_releases_every_level_and_wakes_the_waiter() {
    let _dog = watchdog("rlock guard panic", LIMIT);
    let hook = Recorder::install("fault-rlock");
    let lock = Arc::new(RLock::new());
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let l = lock.clone();
    let holder = start("fault-rlock", move || {
        let _a = l.guard();
        let _b = l.guard();
        let _c = l.guard();
        assert_eq!(l.recursion_count(), 3);
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        panic!("panic while holding three levels");
    });
    held_rx.recv().unwrap();
    let got = Arc::new(AtomicBool::new(false));
    let (l, g) = (lock.clone(), got.clone());
    let waiter = start("fault-rlock-waiter", move || {
        let _g = l.guard();
        assert_eq!(l.recursion_count(), 1, "a fresh hold, not the dead one's");
        g.store(true, Ordering::SeqCst);
    });
    wait_until_parked(&waiter, WaitKind::RLock);
    go_tx.send(()).unwrap();
    assert_panicked(&holder, "panic while holding three levels");
    waiter.join().unwrap();
    assert!(got.load(Ordering::SeqCst));
    assert!(!lock.locked());
    assert_eq!(lock.recursion_count(), 0);
    assert!(lock.try_acquire(), "usable by others");
    assert!(lock.is_owned());
    lock.release().unwrap();
    assert_eq!(hook.seen().len(), 1);
    assert_gone(&[&holder, &waiter]);
}

#[test]
fn a_panic_while_holding_a_semaphore_guard_returns_the_permit() {
    let _dog = watchdog("semaphore guard panic", LIMIT);
    let hook = Recorder::install("fault-sem");
    let sem = Arc::new(Semaphore::new(1));
    let bounded = Arc::new(BoundedSemaphore::new(1));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let (s, b) = (sem.clone(), bounded.clone());
    let holder = start("fault-sem", move || {
        let _p = s.guard();
        let _q = b.guard();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        panic!("panic while holding permits");
    });
    held_rx.recv().unwrap();
    assert_eq!((sem.value(), bounded.value()), (0, 0));
    let (s, b) = (sem.clone(), bounded.clone());
    let waiter = start("fault-sem-waiter", move || {
        let _p = s.guard();
        let _q = b
            .guard_timeout(Duration::MAX)
            .expect("waits as long as needed");
    });
    wait_until_parked(&waiter, WaitKind::Semaphore);
    go_tx.send(()).unwrap();
    assert_panicked(&holder, "panic while holding permits");
    waiter.join().unwrap();
    assert_eq!(sem.value(), 1, "the permit came back");
    assert_eq!(bounded.value(), 1);
    assert!(bounded.release(1).is_err(), "not returned twice");
    assert!(sem.try_acquire());
    sem.release(1).unwrap();
    assert_eq!(hook.seen().len(), 1);
    assert_gone(&[&holder, &waiter]);
}

#[test]
fn a_panic_inside_a_queue_worker_loop_leaves_the_queue_usable_and_its_count_right() {
    const ITEMS: u32 = 40;
    const FAIL_AT: u32 = 13;
    let _dog = watchdog("queue worker panic", LIMIT);
    let hook = Recorder::install("fault-queue");
    let q: Queue<u32> = Queue::new(0);
    for i in 0..ITEMS {
        q.put(i).unwrap();
    }
    let w = q.clone();
    let worker = start("fault-queue-worker", move || {
        for item in &w {
            if item == FAIL_AT {
                panic!("worker failed on {item}");
            }
            w.task_done().unwrap();
        }
    });
    assert_panicked(&worker, &format!("worker failed on {FAIL_AT}"));
    // Items 0..13 done, item 13 taken but never marked done, the rest still queued.
    assert_eq!(q.qsize(), (ITEMS - FAIL_AT - 1) as usize);
    assert_eq!(q.unfinished_tasks(), (ITEMS - FAIL_AT) as usize);
    assert!(!q.is_shut_down());
    // Another worker takes over.
    let done = Arc::new(AtomicUsize::new(0));
    let (w, d) = (q.clone(), done.clone());
    let second = start("fault-queue-second", move || {
        for item in &w {
            assert!(item > FAIL_AT);
            w.task_done().unwrap();
            d.fetch_add(1, Ordering::SeqCst);
        }
    });
    while done.load(Ordering::SeqCst) < (ITEMS - FAIL_AT - 1) as usize {
        std::thread::yield_now();
    }
    // Only the lost item is unfinished: `join` waits for it, never returning early.
    assert_eq!(q.unfinished_tasks(), 1);
    let wait = Duration::from_millis(20);
    let t0 = Instant::now();
    assert!(!q.join_timeout(wait));
    assert!(t0.elapsed() >= wait);
    q.task_done().unwrap(); // the lost item, accounted for by hand
    assert!(q.join_timeout(Duration::ZERO));
    q.join();
    assert!(q.task_done().is_err(), "one too many");
    // Still a working queue.
    q.put(99).unwrap();
    q.join();
    q.shutdown();
    second.join().unwrap();
    assert_eq!(done.load(Ordering::SeqCst), (ITEMS - FAIL_AT) as usize);
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(
        hook.seen(),
        [(
            "fault-queue-worker".to_string(),
            format!("worker failed on {FAIL_AT}")
        )]
    );
    assert_gone(&[&worker, &second]);
}

#[test]
fn a_panicking_ord_in_a_priority_queue_get_leaves_every_item_queued_and_counted() {
    use threadkit::queue::PriorityQueue;
    /// While set, comparing two `Item`s panics.
    static TOUCHY: AtomicBool = AtomicBool::new(false);
    let _dog = watchdog("priority queue Ord panic", LIMIT);
    // Unbounded (the two-lock core, where gets file items in) and small bounded (one lock
    // around one heap, where puts do).
    for maxsize in [0, 16] {
        TOUCHY.store(false, Ordering::SeqCst);
        get_panics_and_nothing_is_lost(PriorityQueue::new(maxsize), &TOUCHY);
    }

    /// An item whose comparison panics while `TOUCHY` is set.
    #[derive(Debug, PartialEq, Eq)]
    struct Item(u32);
    impl Ord for Item {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            if TOUCHY.load(Ordering::SeqCst) {
                panic!("comparison failed");
            }
            self.0.cmp(&other.0)
        }
    }
    impl PartialOrd for Item {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }

    fn get_panics_and_nothing_is_lost(q: PriorityQueue<Item>, touchy: &AtomicBool) {
        q.put(Item(2)).unwrap();
        q.put(Item(3)).unwrap();
        assert_eq!(q.get().unwrap(), Item(2), "files both items in");
        q.put(Item(2)).unwrap();
        q.put(Item(1)).unwrap();
        // Comparisons fail from here on, as an `Ord` that fails only for some pairs would when
        // the pair meets: the get that files the batch in panics.
        touchy.store(true, Ordering::SeqCst);
        let r = catch_unwind(AssertUnwindSafe(|| q.get()));
        touchy.store(false, Ordering::SeqCst);
        assert!(r.is_err(), "the panic passes through get");
        assert_eq!(q.qsize(), 3, "nothing was taken out");
        // The locks were released during the unwind, no item was lost, and every item in the
        // queue is counted as a task: each one taken can be marked done, and then `join`
        // returns.
        let mut got = Vec::new();
        while let Ok(Item(n)) = q.try_get() {
            got.push(n);
            q.task_done()
                .expect("every queued item is an unfinished task");
        }
        got.sort_unstable();
        assert_eq!(
            got,
            [1, 2, 3],
            "the items the panic interrupted stay queued"
        );
        q.task_done().unwrap(); // the first item got
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.join_timeout(Duration::ZERO));
        assert!(q.empty());
        q.put(Item(4)).unwrap();
        assert_eq!(q.get().unwrap(), Item(4));
    }
}

#[test]
fn a_panicking_ord_in_a_small_priority_queue_put_leaves_the_item_queued_and_counted() {
    use threadkit::queue::PriorityQueue;
    static TOUCHY: AtomicBool = AtomicBool::new(false);
    /// An item whose comparison with another panics while `TOUCHY` is set (comparing an
    /// item with itself never does: the put's check of the item passes).
    #[derive(Debug, PartialEq, Eq)]
    struct Item(u32);
    impl Ord for Item {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            if TOUCHY.load(Ordering::SeqCst) && self.0 != other.0 {
                panic!("comparison failed");
            }
            self.0.cmp(&other.0)
        }
    }
    impl PartialOrd for Item {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    let _dog = watchdog("small priority queue Ord panic in put", LIMIT);
    // Bounded small: one lock around one heap, so the put files its item in and compares.
    let q = PriorityQueue::new(16);
    q.put(Item(2)).unwrap();
    q.put(Item(3)).unwrap();
    TOUCHY.store(true, Ordering::SeqCst);
    let r = catch_unwind(AssertUnwindSafe(|| q.put(Item(1))));
    TOUCHY.store(false, Ordering::SeqCst);
    assert!(r.is_err(), "the panic passes through put");
    // The item is in and counted, the lock was released, and the queue is fully usable.
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.unfinished_tasks(), 3);
    let mut got: Vec<u32> = (0..3).map(|_| q.get().unwrap().0).collect();
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3]);
    for _ in 0..3 {
        q.task_done().unwrap();
    }
    assert!(q.join_timeout(Duration::ZERO));
    q.put(Item(5)).unwrap();
    q.put(Item(4)).unwrap();
    assert_eq!(q.get().unwrap(), Item(4));
    assert_eq!(q.get().unwrap(), Item(5));
}

#[test]
fn a_priority_queue_item_whose_ord_panics_panics_in_its_put_and_is_not_queued() {
    use threadkit::queue::PriorityQueue;
    /// Drops of the poison item.
    static POISON_DROPS: AtomicUsize = AtomicUsize::new(0);
    /// Key 13 is poison: any comparison with it panics, whatever the other side (a float
    /// key that is NaN behind an `unwrap`, say).
    #[derive(Debug, PartialEq, Eq)]
    struct Key(u32);
    impl Ord for Key {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            assert!(self.0 != 13 && other.0 != 13, "cannot compare 13");
            self.0.cmp(&other.0)
        }
    }
    impl PartialOrd for Key {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Drop for Key {
        fn drop(&mut self) {
            if self.0 == 13 {
                POISON_DROPS.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    let _dog = watchdog("priority queue poison item", LIMIT);
    let recorder = Recorder::install("fault-prio-");
    let q = PriorityQueue::new(3);
    for k in [5, 2, 8] {
        q.put(Key(k)).unwrap();
    }
    // The queue is full, but the put compares before it waits: as in Python, the panic
    // reaches the putter, and the item never enters the queue.
    let p = q.clone();
    let putter = start("fault-prio-putter", move || {
        let _ = p.put(Key(13));
        unreachable!("the put panics");
    });
    assert_panicked(&putter, "cannot compare 13");
    assert_eq!(
        POISON_DROPS.load(Ordering::SeqCst),
        1,
        "dropped by the unwind"
    );
    assert_eq!(
        recorder.seen(),
        [(
            "fault-prio-putter".to_string(),
            "cannot compare 13".to_string()
        )]
    );
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.unfinished_tasks(), 3, "not counted as a task");
    // Every other item comes out in order, to other consumers, and the queue takes more.
    let c = q.clone();
    let consumer = start("fault-prio-consumer", move || {
        let first: Vec<u32> = (0..2).map(|_| c.get().unwrap().0).collect();
        assert_eq!(first, [2, 5]);
    });
    consumer.join().unwrap();
    q.put(Key(1)).unwrap();
    q.put(Key(9)).unwrap();
    q.shutdown();
    let c = q.clone();
    let rest = Arc::new(StdMutex::new(Vec::new()));
    let r = rest.clone();
    let consumer = start("fault-prio-consumer-2", move || {
        r.lock().unwrap().extend(c.iter().map(|k| k.0));
    });
    consumer.join().unwrap();
    assert_eq!(*rest.lock().unwrap(), [1, 8, 9]);
    assert_gone(&[&putter, &consumer]);
}
