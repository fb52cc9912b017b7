//! Semaphore and BoundedSemaphore: Python's behaviour, the error cases, and concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use threadkit::{BoundedSemaphore, Semaphore, Thread, WaitKind};

/// Waits (without sleeping) until `t` is parked in a wait of `kind`.
fn until_parked(t: &Thread, kind: WaitKind) -> threadkit::WaitInfo {
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(info) = t.waiting()
            && info.kind() == kind
        {
            return info;
        }
        assert!(Instant::now() < give_up, "{t:?} never parked on a {kind}");
        std::thread::yield_now();
    }
}

#[test]
fn smoke() {
    let sem = Semaphore::new(2);
    assert_eq!(sem.value(), 2);
    assert!(sem.try_acquire());
    assert!(sem.acquire_timeout(Duration::ZERO));
    assert!(!sem.try_acquire());
    assert!(!sem.acquire_timeout(Duration::ZERO));
    assert_eq!(sem.value(), 0);
    sem.release(1).unwrap();
    sem.acquire();
    sem.release(5).unwrap(); // an unbounded semaphore may go above its initial value
    assert_eq!(sem.value(), 5);
    assert_eq!(format!("{sem:?}"), "Semaphore { value: 5 }");
    assert_eq!(Semaphore::default().value(), 1);
    assert_eq!(BoundedSemaphore::default().value(), 1);
}

#[test]
fn release_zero_is_an_error_and_changes_nothing() {
    let sem = Semaphore::new(1);
    let err = sem.release(0).unwrap_err();
    assert_eq!(err.primitive(), "Semaphore");
    assert_eq!(err.thread(), threadkit::current_thread().name());
    assert_eq!(err.object(), sem.id());
    assert!(err.to_string().contains("zero permits"), "{err}");
    assert_eq!(sem.value(), 1);

    let bounded = BoundedSemaphore::new(1);
    bounded.acquire();
    assert!(bounded.release(0).is_err());
    assert_eq!(bounded.value(), 0);
}

#[test]
fn bounded_over_release_is_an_error_naming_thread_and_primitive() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.bound(), 2);
    let err = sem.release(1).unwrap_err();
    assert_eq!(err.primitive(), "BoundedSemaphore");
    assert_eq!(err.thread(), threadkit::current_thread().name());
    assert!(
        err.to_string()
            .starts_with("too many releases of BoundedSemaphore at 0x")
    );
    assert_eq!(sem.value(), 2);

    // A release that would cross the bound is refused as a whole.
    sem.acquire();
    sem.acquire();
    assert!(sem.release(3).is_err());
    assert_eq!(sem.value(), 0);
    sem.release(2).unwrap();
    assert_eq!(sem.value(), 2);

    // From another thread: the error names that thread.
    let sem = Arc::new(BoundedSemaphore::new(1));
    let s = sem.clone();
    let t = Thread::builder().name("over-releaser").target(move || {
        let err = s.release(1).unwrap_err();
        assert_eq!(err.thread(), "over-releaser");
        assert!(
            err.to_string().ends_with("(in thread over-releaser)"),
            "{err}"
        );
    });
    t.start().unwrap();
    t.join().unwrap();
    assert_eq!(sem.value(), 1);
}

#[test]
fn unbounded_overflow_is_an_error() {
    let sem = Semaphore::new(Semaphore::MAX_VALUE);
    assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    let err = sem.release(1).unwrap_err();
    assert!(err.to_string().contains("overflow"), "{err}");
    assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    assert!(sem.release(usize::MAX).is_err());
    sem.acquire();
    sem.release(1).unwrap();
    assert_eq!(sem.value(), Semaphore::MAX_VALUE);
    // Values above the maximum are clamped.
    assert_eq!(Semaphore::new(usize::MAX).value(), Semaphore::MAX_VALUE);
    assert_eq!(
        BoundedSemaphore::new(usize::MAX).bound(),
        Semaphore::MAX_VALUE
    );
}

#[test]
fn guards_give_back_their_permit() {
    let sem = Semaphore::new(1);
    {
        let g = sem.guard();
        assert!(std::ptr::eq(g.semaphore(), &sem));
        assert_eq!(sem.value(), 0);
        assert!(sem.try_guard().is_none());
        assert!(sem.guard_timeout(Duration::from_millis(1)).is_none());
    }
    assert_eq!(sem.value(), 1);
    let r = std::panic::catch_unwind(|| {
        let _g = sem.guard();
        panic!("inside the section");
    });
    assert!(r.is_err());
    assert_eq!(sem.value(), 1, "the guard released while unwinding");
    sem.guard().forget();
    assert_eq!(sem.value(), 0);

    let bounded = BoundedSemaphore::new(1);
    let g = bounded.guard();
    bounded.release(1).unwrap(); // someone releases a permit they never took
    drop(g); // would exceed the bound: gives nothing back
    assert_eq!(bounded.value(), 1);
}

#[test]
fn acquire_timeout_never_returns_early() {
    let sem = Semaphore::new(0);
    for ms in [1, 30, 100] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!sem.acquire_timeout(d));
        assert!(start.elapsed() >= d, "{:?} < {d:?}", start.elapsed());
    }
    let bounded = BoundedSemaphore::new(1);
    bounded.acquire();
    let start = Instant::now();
    assert!(!bounded.acquire_timeout(Duration::from_millis(50)));
    assert!(start.elapsed() >= Duration::from_millis(50));
    // Waits that timed out leave nothing behind: the next permit is free for anyone.
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 1);
    assert!(sem.try_acquire());
    bounded.release(1).unwrap();
    assert_eq!(bounded.value(), 1);
}

#[test]
fn released_permits_go_to_waiting_threads_first() {
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    let t = Thread::new(move || s.acquire());
    t.start().unwrap();
    until_parked(&t, WaitKind::Semaphore);
    sem.release(1).unwrap();
    // The permit is the waiter's: a running thread cannot take it first.
    assert!(!sem.try_acquire());
    assert_eq!(sem.value(), 0);
    t.join().unwrap();
    sem.release(2).unwrap();
    assert_eq!(sem.value(), 2);
}

#[test]
fn huge_timeout_waits_for_a_release() {
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    let t = Thread::new(move || assert!(s.acquire_timeout(Duration::MAX)));
    t.start().unwrap();
    until_parked(&t, WaitKind::Semaphore);
    sem.release(1).unwrap();
    t.join().unwrap();
    assert_eq!(sem.value(), 0);
}

#[test]
fn blocked_thread_shows_a_semaphore_wait() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    sem.acquire();
    let s = sem.clone();
    let t = Thread::new(move || {
        s.acquire();
        s.release(1).unwrap();
    });
    t.start().unwrap();
    let info = until_parked(&t, WaitKind::Semaphore);
    assert_eq!(info.object(), sem.id());
    assert!(info.location().file().ends_with("semaphore.rs"));
    assert!(info.owner().is_none());
    sem.release(1).unwrap();
    t.join().unwrap();
    assert!(t.waiting().is_none());
    assert_eq!(sem.value(), 1);
}

#[test]
fn release_n_wakes_n_waiters() {
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for i in 0..5 {
        let (s, tx) = (sem.clone(), tx.clone());
        let t = Thread::new(move || {
            s.acquire();
            tx.send(i).unwrap();
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in &threads {
        until_parked(t, WaitKind::Semaphore);
    }
    sem.release(3).unwrap();
    for _ in 0..3 {
        rx.recv().unwrap();
    }
    // Exactly three permits: the other two stay blocked.
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
    assert_eq!(sem.value(), 0);
    sem.release(2).unwrap();
    for _ in 0..2 {
        rx.recv().unwrap();
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.value(), 0);
}

fn bounds_concurrency(n: usize, take: impl Fn() -> Box<dyn FnOnce()> + Send + Sync + 'static) {
    let take = Arc::new(take);
    let inside = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for _ in 0..8 {
        let (take, inside, max_seen) = (take.clone(), inside.clone(), max_seen.clone());
        let t = Thread::new(move || {
            for i in 0..1000 {
                let give_back = take();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max_seen.fetch_max(now, Ordering::SeqCst);
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
                inside.fetch_sub(1, Ordering::SeqCst);
                give_back();
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in threads {
        t.join().unwrap();
    }
    let max = max_seen.load(Ordering::SeqCst);
    assert!(max <= n, "{max} holders at once, limit {n}");
    assert!(max >= 1);
}

#[test]
fn semaphore_bounds_concurrency() {
    let sem = Arc::new(Semaphore::new(3));
    let s = sem.clone();
    bounds_concurrency(3, move || {
        let s = s.clone();
        s.acquire();
        Box::new(move || s.release(1).unwrap())
    });
    assert_eq!(sem.value(), 3);
}

#[test]
fn bounded_semaphore_bounds_concurrency_with_timeouts() {
    let sem = Arc::new(BoundedSemaphore::new(2));
    let s = sem.clone();
    bounds_concurrency(2, move || {
        let s = s.clone();
        while !s.acquire_timeout(Duration::from_micros(50)) {}
        Box::new(move || s.release(1).unwrap())
    });
    assert_eq!(sem.value(), 2);
}

#[test]
fn no_lost_wakeups_with_batched_releases() {
    // Consumers block without timeouts; if a wake-up were lost, this test would hang.
    const CONSUMERS: usize = 4;
    const EACH: usize = 2000;
    let sem = Arc::new(Semaphore::new(0));
    let mut threads = Vec::new();
    for _ in 0..CONSUMERS {
        let s = sem.clone();
        let t = Thread::new(move || {
            for _ in 0..EACH {
                s.acquire();
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    let mut left = CONSUMERS * EACH;
    let mut batch = 1;
    while left > 0 {
        let n = batch.min(left);
        sem.release(n).unwrap();
        left -= n;
        batch = batch % 5 + 1;
        if left.is_multiple_of(97) {
            std::thread::yield_now();
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.value(), 0);
}

#[test]
fn permits_are_conserved_with_timed_acquires() {
    const TOTAL: usize = 6000;
    let sem = Arc::new(Semaphore::new(0));
    let taken = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..3u64 {
        let (s, taken) = (sem.clone(), taken.clone());
        let t = Thread::new(move || {
            let timeout = Duration::from_micros(20 + 40 * i);
            while taken.load(Ordering::SeqCst) < TOTAL {
                if s.acquire_timeout(timeout) {
                    taken.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    for i in 0..TOTAL / 3 {
        sem.release(if i % 2 == 0 { 1 } else { 5 }).unwrap();
        if i % 100 == 0 {
            std::thread::yield_now();
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(taken.load(Ordering::SeqCst), TOTAL);
    assert_eq!(sem.value(), 0);
}

#[test]
fn handoff_between_two_threads() {
    let ping = Arc::new(Semaphore::new(0));
    let pong = Arc::new(Semaphore::new(0));
    let (pi, po) = (ping.clone(), pong.clone());
    let t = Thread::new(move || {
        for _ in 0..5000 {
            pi.acquire();
            po.release(1).unwrap();
        }
    });
    t.start().unwrap();
    for _ in 0..5000 {
        ping.release(1).unwrap();
        pong.acquire();
    }
    t.join().unwrap();
    assert_eq!((ping.value(), pong.value()), (0, 0));
}

#[test]
fn static_semaphore() {
    static S: Semaphore = Semaphore::new(1);
    static B: BoundedSemaphore = BoundedSemaphore::new(1);
    let _g = S.guard();
    let _h = B.guard();
    assert_eq!((S.value(), B.value()), (0, 0));
}
