//! `Lock` (Python's `threading.Lock`) and `Mutex<T>`: semantics, errors, timeouts, and
//! mutual exclusion under contention.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use lock_api::RawMutexTimed;
use threadkit::{Lock, Mutex, Thread, WaitKind, current_thread};

const SLACK: Duration = Duration::from_millis(500);

#[test]
fn acquire_release_and_locked() {
    let lock = Lock::new();
    assert!(!lock.locked());
    lock.acquire();
    assert!(lock.locked());
    assert!(!lock.try_acquire(), "not reentrant");
    lock.release().unwrap();
    assert!(!lock.locked());
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

#[test]
fn releasing_an_unlocked_lock_is_an_error_that_changes_nothing() {
    let lock = Lock::new();
    let err = lock.release().unwrap_err();
    assert_eq!(err.primitive(), "Lock");
    assert_eq!(err.thread(), current_thread().name());
    assert_eq!(err.object(), lock.id());
    let text = err.to_string();
    assert!(text.contains("release unlocked Lock"), "{text}");
    assert!(text.contains(&current_thread().name()), "{text}");
    assert!(!lock.locked());
    lock.acquire();
    lock.release().unwrap();
}

#[test]
fn any_thread_may_release_a_lock() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = lock.clone();
    let t = Thread::new(move || l.release().unwrap());
    t.start().unwrap();
    t.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn a_released_lock_wakes_a_blocked_acquirer() {
    let lock = Arc::new(Lock::new());
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
    while t.waiting().is_none() {
        std::thread::yield_now();
    }
    assert!(!got.load(Ordering::SeqCst));
    lock.release().unwrap();
    t.join().unwrap();
    assert!(got.load(Ordering::SeqCst));
}

#[test]
fn acquire_timeout_never_gives_up_early() {
    let lock = Lock::new();
    lock.acquire();
    for ms in [1u64, 30, 80] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!lock.acquire_timeout(d));
        let took = start.elapsed();
        assert!(took >= d, "gave up after {took:?} < {d:?}");
        assert!(took < d + SLACK, "took {took:?} for {d:?}");
    }
    // Zero polls once.
    assert!(!lock.acquire_timeout(Duration::ZERO));
    lock.release().unwrap();
    assert!(lock.acquire_timeout(Duration::ZERO));
    lock.release().unwrap();
    // Too large for the clock: waits forever, so with a free lock it simply succeeds.
    assert!(lock.acquire_timeout(Duration::MAX));
    lock.release().unwrap();
}

#[test]
fn acquire_timeout_succeeds_when_the_lock_is_released_in_time() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = lock.clone();
    let (tx, rx) = mpsc::channel();
    let t = Thread::new(move || tx.send(l.acquire_timeout(Duration::from_secs(60))).unwrap());
    t.start().unwrap();
    while t.waiting().is_none() {
        std::thread::yield_now();
    }
    lock.release().unwrap();
    assert!(rx.recv().unwrap());
    t.join().unwrap();
    assert!(lock.locked(), "the waiter holds it now");
    lock.release().unwrap();
}

#[test]
fn a_timed_out_waiter_does_not_strand_the_others() {
    let lock = Arc::new(Lock::new());
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
                l.acquire();
                tx.send(("blocking", true)).unwrap();
                l.release().unwrap();
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    // Both timed waiters give up while the lock is held.
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
fn guards_release_on_drop_and_on_unwind() {
    let lock = Lock::new();
    {
        let g = lock.guard();
        assert!(std::ptr::eq(g.lock(), &lock));
        assert!(lock.locked());
    }
    assert!(!lock.locked());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = lock.guard();
        panic!("inside");
    }));
    assert!(r.is_err());
    assert!(!lock.locked());
    let g = lock.try_guard().unwrap();
    assert!(lock.try_guard().is_none());
    assert!(lock.guard_timeout(Duration::from_millis(5)).is_none());
    drop(g);
    assert!(lock.guard_timeout(Duration::from_millis(5)).is_some());
}

#[test]
fn a_guard_may_be_released_by_another_thread() {
    fn assert_send<T: Send>(_: &T) {}
    static LOCK: Lock = Lock::new();
    let g = LOCK.guard();
    assert_send(&g);
    std::thread::scope(|s| {
        s.spawn(move || drop(g));
    });
    assert!(!LOCK.locked());
}

#[test]
fn holder_and_waiting_name_the_threads_and_the_line() {
    let lock = Arc::new(Lock::new());
    assert!(lock.holder().is_none());
    lock.acquire();
    assert_eq!(lock.holder(), Some(current_thread()));
    let l = lock.clone();
    let (tx, rx) = mpsc::channel();
    let t = Thread::builder().name("lock-waiter").target(move || {
        tx.send(line!() + 1).unwrap();
        l.acquire();
        l.release().unwrap();
    });
    t.start().unwrap();
    let line = rx.recv().unwrap();
    let info = loop {
        if let Some(i) = t.waiting() {
            break i;
        }
        std::thread::yield_now();
    };
    assert_eq!(info.kind(), WaitKind::Lock);
    assert_eq!(info.object(), lock.id());
    assert_eq!(info.owner(), Some(current_thread()));
    assert_eq!(info.location().line(), line);
    assert!(format!("{:?}", *lock).contains("locked: true"));
    lock.release().unwrap();
    t.join().unwrap();
    assert!(t.waiting().is_none());
}

#[test]
fn mutex_through_lock_api_and_its_timed_forms() {
    let m = Mutex::new(vec![1]);
    m.lock().push(2);
    {
        let _g = m.lock();
        assert!(m.try_lock().is_none());
        assert!(m.try_lock_for(Duration::from_millis(5)).is_none());
        assert!(
            m.try_lock_until(Instant::now() + Duration::from_millis(5))
                .is_none()
        );
    }
    assert_eq!(*m.try_lock_for(Duration::ZERO).unwrap(), [1, 2]);
    let raw = Lock::new();
    assert!(
        raw.try_lock_until(Instant::now() - Duration::from_millis(1))
            .is_some()
    );
    assert!(raw.try_lock_until(Instant::now()).is_none());
    assert_eq!(m.into_inner(), [1, 2]);
}

/// A counter that is only correct if the lock really excludes.
struct Unsync(UnsafeCell<u64>);
// SAFETY: every access in these tests happens while holding the lock under test.
unsafe impl Sync for Unsync {}

#[test]
fn mutual_exclusion_under_contention() {
    const THREADS: usize = 8;
    const ROUNDS: u64 = 20_000;
    let lock = Arc::new(Lock::new());
    let count = Arc::new(Unsync(UnsafeCell::new(0)));
    let inside = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let (lock, count, inside) = (lock.clone(), count.clone(), inside.clone());
            let t = Thread::new(move || {
                for r in 0..ROUNDS {
                    // Mix the three ways to acquire.
                    match (i + r as usize) % 3 {
                        0 => lock.acquire(),
                        1 => {
                            while !lock.try_acquire() {
                                std::hint::spin_loop();
                            }
                        }
                        _ => while !lock.acquire_timeout(Duration::from_micros(50)) {},
                    }
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    // SAFETY: we hold the lock.
                    unsafe { *count.0.get() += 1 };
                    inside.fetch_sub(1, Ordering::SeqCst);
                    lock.release().unwrap();
                }
            });
            t.start().unwrap();
            t
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(!lock.locked());
    // SAFETY: every thread has ended.
    assert_eq!(unsafe { *count.0.get() }, THREADS as u64 * ROUNDS);
}

#[test]
fn mutex_counts_exactly_from_many_threads() {
    let total = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let total = total.clone();
            std::thread::spawn(move || {
                for _ in 0..10_000 {
                    *total.lock() += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*total.lock(), 60_000);
}
