//! Stress: many threads (64, on a 2-core machine) hammer one `Lock` and one `Mutex<T>` with
//! every way of acquiring, for hundreds of thousands of operations in all; then 1 000 threads
//! block on one lock at the same time and must all wake and finish.
//!
//! Invariants checked: no two threads are ever inside at once (a flag), the counter total is
//! exact (a non-atomic counter: a lost update shows), every timed acquire that gave up waited
//! its whole timeout, and at the end the lock is free and every thread has finished. A
//! watchdog fails the run instead of hanging if a thread never wakes.

mod support;

use std::cell::UnsafeCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lock_api::RawMutexTimed;
use support::watchdog;
use threadkit::{Lock, Mutex, Thread, WaitKind};

/// Contending threads per test: far more than the machine's cores.
const THREADS: usize = 64;
/// Acquisitions per thread: 64 × 5 000 = 320 000 per test.
const ROUNDS: usize = 5_000;
/// A healthy run takes seconds; a stuck one is failed after this.
const LIMIT: Duration = Duration::from_secs(240);
/// Small stacks: the tests start hundreds of threads.
const STACK: usize = 64 * 1024;

/// A counter only the holder of `lock` touches, and a flag that catches two holders at once.
struct Shared {
    lock: Lock,
    inside: AtomicBool,
    count: UnsafeCell<u64>,
}

// SAFETY: `count` is only accessed between acquiring and releasing `lock`; `inside` checks it.
unsafe impl Sync for Shared {}

impl Shared {
    /// The critical section; the caller holds the lock.
    fn critical(&self) {
        assert!(
            !self.inside.swap(true, Ordering::Relaxed),
            "two threads hold the lock at once"
        );
        // SAFETY: the caller holds the lock, so no other thread touches `count`.
        let n = unsafe {
            *self.count.get() += 1;
            *self.count.get()
        };
        if n % 64 == 0 {
            // Hold the lock across a reschedule now and then, so that the others pile up in
            // the slow path and park (an unfair lock otherwise lets one thread run on).
            std::thread::yield_now();
        }
        self.inside.store(false, Ordering::Relaxed);
    }
}

/// Starts `n` small-stack threads running `body(i)`, lets them all go at once (else each
/// would finish before the next one starts, and nothing would contend), and joins them all.
fn run_threads(n: usize, body: impl Fn(usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let go = Arc::new(std::sync::Barrier::new(n + 1));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (body, go) = (body.clone(), go.clone());
            let t = Thread::builder()
                .name(format!("stress-{i}"))
                .stack_size(STACK)
                .target(move || {
                    go.wait();
                    body(i)
                });
            t.start().expect("the thread starts");
            t
        })
        .collect();
    go.wait();
    for t in threads {
        t.join().expect("a stress thread failed");
    }
}

#[test]
fn sixty_four_threads_on_one_lock_count_exactly() {
    let _dog = watchdog("sixty_four_threads_on_one_lock_count_exactly", LIMIT);
    let shared = Arc::new(Shared {
        lock: Lock::new(),
        inside: AtomicBool::new(false),
        count: UnsafeCell::new(0),
    });
    let succeeded = Arc::new(AtomicUsize::new(0));
    let (s, ok) = (shared.clone(), succeeded.clone());
    run_threads(THREADS, move |i| {
        let mut mine = 0;
        for round in 0..ROUNDS {
            match (i + round) % 5 {
                0 => {
                    s.lock.acquire();
                    s.critical();
                    s.lock.release().expect("held");
                }
                1 => {
                    let _g = s.lock.guard();
                    s.critical();
                }
                2 => {
                    while !s.lock.try_acquire() {
                        std::thread::yield_now();
                    }
                    s.critical();
                    s.lock.release().expect("held");
                }
                3 => {
                    // Long enough never to expire here: the timed slow path, succeeding.
                    assert!(s.lock.acquire_timeout(Duration::from_secs(3600)));
                    s.critical();
                    s.lock.release().expect("held");
                }
                _ => {
                    // Short: sometimes gives up, and then must have waited the whole time.
                    let wait = Duration::from_micros(200);
                    let start = Instant::now();
                    if s.lock.acquire_timeout(wait) {
                        s.critical();
                        s.lock.release().expect("held");
                    } else {
                        assert!(start.elapsed() >= wait, "gave up early");
                        continue;
                    }
                }
            }
            mine += 1;
            if round % 16 == 0 {
                std::thread::yield_now(); // let the others at it
            }
        }
        ok.fetch_add(mine, Ordering::Relaxed);
    });
    let total = succeeded.load(Ordering::Relaxed);
    assert!(
        total >= THREADS * ROUNDS * 4 / 5,
        "only {total} acquisitions"
    );
    assert!(!shared.lock.locked());
    assert_eq!(shared.lock.holder(), None);
    shared.lock.acquire();
    // SAFETY: we hold the lock and every other thread has ended.
    assert_eq!(unsafe { *shared.count.get() }, total as u64);
    shared.lock.release().unwrap();
}

#[test]
fn sixty_four_threads_on_one_mutex_count_exactly() {
    let _dog = watchdog("sixty_four_threads_on_one_mutex_count_exactly", LIMIT);
    let m = Arc::new(Mutex::new((0u64, false)));
    let m2 = m.clone();
    run_threads(THREADS, move |i| {
        for round in 0..ROUNDS {
            let mut g = match (i + round) % 3 {
                0 => m2.lock(),
                1 => loop {
                    if let Some(g) = m2.try_lock() {
                        break g;
                    }
                    std::thread::yield_now();
                },
                _ => m2
                    .try_lock_for(Duration::from_secs(3600))
                    .expect("an hour is long enough"),
            };
            assert!(!g.1, "two guards at once");
            g.1 = true;
            g.0 += 1;
            if g.0 % 64 == 0 {
                std::thread::yield_now(); // others pile up and park, as above
            }
            g.1 = false;
        }
    });
    assert!(!m.is_locked());
    let g = m.lock();
    assert_eq!(g.0, (THREADS * ROUNDS) as u64);
    // The raw lock's timed forms agree with the guard-based ones.
    // SAFETY: only reads the raw lock's state through a shared reference.
    let raw = unsafe { m.raw() };
    assert!(
        raw.try_lock_for(Duration::ZERO).is_none(),
        "held by our guard"
    );
}

#[test]
fn a_thousand_threads_blocked_on_one_lock_all_wake_and_finish() {
    const BLOCKED: usize = 1_000;
    let _dog = watchdog(
        "a_thousand_threads_blocked_on_one_lock_all_wake_and_finish",
        LIMIT,
    );
    let shared = Arc::new(Shared {
        lock: Lock::new(),
        inside: AtomicBool::new(false),
        count: UnsafeCell::new(0),
    });
    shared.lock.acquire();
    let threads: Vec<_> = (0..BLOCKED)
        .map(|i| {
            let s = shared.clone();
            let t = Thread::builder()
                .name(format!("blocked-{i}"))
                .stack_size(STACK)
                .target(move || {
                    s.lock.acquire();
                    s.critical();
                    s.lock.release().expect("held");
                });
            t.start().expect("the thread starts");
            t
        })
        .collect();
    // Every one of them is parked on the lock (as its wait record says) at the same time.
    for t in &threads {
        loop {
            match t.waiting() {
                Some(w) if w.kind() == WaitKind::Lock => {
                    assert_eq!(w.object(), shared.lock.id());
                    break;
                }
                _ => std::thread::yield_now(),
            }
        }
    }
    assert_eq!(shared.lock.holder(), Some(threadkit::current_thread()));
    // SAFETY: we hold the lock; every other thread is blocked on it.
    assert_eq!(unsafe { *shared.count.get() }, 0);
    shared.lock.release().unwrap();
    for t in &threads {
        t.join().expect("a blocked thread failed");
        assert!(!t.is_alive());
        assert!(t.waiting().is_none());
    }
    assert!(!shared.lock.locked());
    shared.lock.acquire();
    // SAFETY: we hold the lock and every other thread has ended.
    assert_eq!(unsafe { *shared.count.get() }, BLOCKED as u64);
    shared.lock.release().unwrap();
    let listed = threadkit::enumerate();
    assert!(threads.iter().all(|t| !listed.contains(t)));
}
