//! `Condvar` (parking_lot's shape over threadkit's `MutexGuard`): waits and notifies with exact
//! counts, predicates, timeouts, the two-mutex misuse as an error value, wait records, a
//! producer/consumer stress with exact counts; and `Condition::wait_for` over `Option<T>`.

mod support;

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::{Condition, Condvar, Mutex, Thread, WaitInfo, WaitKind, current_thread};

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

/// Yields until some thread is queued on `cv` (its Debug never blocks).
fn queued(cv: &Condvar) {
    while !format!("{cv:?}").contains("waiting: true") {
        std::thread::yield_now();
    }
}

fn start(name: &str, f: impl FnOnce() + Send + 'static) -> Thread {
    let t = Thread::builder().name(name).target(f);
    t.start().unwrap();
    t
}

#[test]
fn notify_with_nobody_waiting_wakes_nobody() {
    let cv = Condvar::new();
    assert!(!cv.notify_one());
    assert_eq!(cv.notify_all(), 0);
    assert_eq!(format!("{cv:?}"), "Condvar { waiting: false }");
}

#[test]
fn notify_one_wakes_exactly_one_and_says_so() {
    let _w = support::watchdog("notify_one_wakes_exactly_one", Duration::from_secs(60));
    let pair = Arc::new((Mutex::new((0u32, 0u32)), Condvar::new())); // (waiting, tickets)
    let mut threads = Vec::new();
    for i in 0..3 {
        let p = pair.clone();
        threads.push(start(&format!("cv-one-{i}"), move || {
            let mut g = p.0.lock();
            g.0 += 1;
            p.1.wait_while(&mut g, |s| s.1 == 0).unwrap();
            g.1 -= 1;
        }));
    }
    // Once all three counted themselves under the mutex and released it, all are queued.
    loop {
        let g = pair.0.lock();
        if g.0 == 3 {
            break;
        }
        drop(g);
        std::thread::yield_now();
    }
    for expect_alive in [2, 1, 0] {
        {
            let mut g = pair.0.lock();
            g.1 += 1;
            assert!(pair.1.notify_one(), "a queued waiter was not found");
        }
        // Exactly one leaves: wait until the ticket is used, then count the living.
        loop {
            if pair.0.lock().1 == 0 {
                break;
            }
            std::thread::yield_now();
        }
        while threads.iter().filter(|t| t.is_alive()).count() > expect_alive {
            std::thread::yield_now();
        }
        assert_eq!(
            threads.iter().filter(|t| t.is_alive()).count(),
            expect_alive
        );
    }
    assert!(!pair.1.notify_one());
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn notify_all_counts_every_waiter_and_requeues_them_while_held() {
    let _w = support::watchdog("notify_all_counts", Duration::from_secs(60));
    let pair = Arc::new((Mutex::new((0u32, false, 0u32)), Condvar::new())); // waiting, go, done
    let mut threads = Vec::new();
    for i in 0..4 {
        let p = pair.clone();
        threads.push(start(&format!("cv-all-{i}"), move || {
            let mut g = p.0.lock();
            g.0 += 1;
            p.1.wait_while(&mut g, |s| !s.1).unwrap();
            g.2 += 1; // under the mutex, taken back after the wait
        }));
    }
    let mut g = loop {
        let g = pair.0.lock();
        if g.0 == 4 {
            break g;
        }
        drop(g);
        std::thread::yield_now();
    };
    g.1 = true;
    assert_eq!(pair.1.notify_all(), 4);
    assert_eq!(pair.1.notify_all(), 0, "they left the condvar's queue");
    // Requeued onto the mutex we hold, still parked (their record still says condvar): none
    // can run before we release it.
    parked(&threads[0], WaitKind::Condvar);
    assert_eq!(g.2, 0);
    drop(g);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(pair.0.lock().2, 4);
}

#[test]
fn wait_timeout_times_out_never_early_and_holds_the_mutex_again() {
    let m = Mutex::new(7);
    let cv = Condvar::new();
    let mut g = m.lock();
    for ms in [0u64, 1, 30] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        let r = cv.wait_timeout(&mut g, d).unwrap();
        let took = start.elapsed();
        assert!(r.timed_out());
        assert!(took >= d, "{ms} ms: returned after {took:?}");
        assert!(took < d + SLACK, "{ms} ms: took {took:?}");
        assert!(m.is_locked());
        assert_eq!(*g, 7);
    }
    assert!(!cv.notify_one(), "the timed-out waiter left the queue");
    // A timeout too large for the clock waits forever: it is woken by a notify instead.
    drop(g);
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p = pair.clone();
    let t = start("cv-forever", move || {
        let mut g = p.0.lock();
        let r =
            p.1.wait_while_timeout(&mut g, |go| !*go, Duration::MAX)
                .unwrap();
        assert!(!r.timed_out());
    });
    queued(&pair.1);
    *pair.0.lock() = true;
    assert!(pair.1.notify_one());
    t.join().unwrap();
}

#[test]
fn wait_timeout_reports_a_notify_as_not_timed_out() {
    let _w = support::watchdog("wait_timeout_notified", Duration::from_secs(60));
    let pair = Arc::new((Mutex::new(()), Condvar::new()));
    let p = pair.clone();
    let t = start("cv-timed-notified", move || {
        let mut g = p.0.lock();
        let r = p.1.wait_timeout(&mut g, Duration::from_secs(3600)).unwrap();
        assert!(!r.timed_out());
    });
    queued(&pair.1);
    assert!(pair.1.notify_one());
    t.join().unwrap();
}

#[test]
fn wait_while_timeout_checks_the_condition_once_more_at_the_deadline() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let mut g = m.lock();
    let mut calls = 0;
    let start = Instant::now();
    let r = cv
        .wait_while_timeout(
            &mut g,
            |_| {
                calls += 1;
                true
            },
            Duration::from_millis(20),
        )
        .unwrap();
    assert!(r.timed_out());
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(calls >= 2, "checked at once and after the wait: {calls}");
    // Zero checks once, without waiting.
    let mut calls = 0;
    let r = cv
        .wait_while_timeout(
            &mut g,
            |_| {
                calls += 1;
                true
            },
            Duration::ZERO,
        )
        .unwrap();
    assert!(r.timed_out());
    assert_eq!(calls, 1);
}

#[test]
fn waiting_with_a_second_mutex_is_an_error_that_keeps_the_guard() {
    let _w = support::watchdog("second_mutex", Duration::from_secs(60));
    let cv = Arc::new(Condvar::new());
    let first = Arc::new(Mutex::new(false));
    let (c, f) = (cv.clone(), first.clone());
    let waiter = start("cv-first-mutex", move || {
        let mut g = f.lock();
        c.wait_while(&mut g, |go| !*go).unwrap();
    });
    queued(&cv);
    let second = Mutex::new(vec![1, 2]);
    // SAFETY: only the raw locks' addresses are taken; no guard is touched.
    let (first_raw, second_raw) = unsafe {
        (
            first.raw() as *const _ as usize,
            second.raw() as *const _ as usize,
        )
    };
    let mut g = second.lock();
    for err in [
        cv.wait(&mut g).unwrap_err(),
        cv.wait_while(&mut g, |_| true).unwrap_err(),
        cv.wait_timeout(&mut g, Duration::from_secs(1)).unwrap_err(),
        cv.wait_while_timeout(&mut g, |_| true, Duration::from_secs(1))
            .unwrap_err(),
    ] {
        assert_eq!(err.primitive(), "Condvar");
        assert_eq!(err.condvar().addr(), Arc::as_ptr(&cv) as usize);
        assert_eq!(err.thread(), current_thread().name());
        assert_eq!(err.mutex().addr(), second_raw);
        assert_eq!(err.waiters_mutex().addr(), first_raw);
        let msg = err.to_string();
        assert!(msg.contains("Condvar at"), "{msg}");
        assert!(msg.contains(current_thread().name().as_str()), "{msg}");
    }
    // Nothing was released: the guard still holds the data.
    assert!(second.is_locked());
    g.push(3);
    drop(g);
    assert_eq!(*second.lock(), [1, 2, 3]);
    // The first waiter is undisturbed, and once it is gone the condvar takes any mutex.
    *first.lock() = true;
    assert!(cv.notify_one());
    waiter.join().unwrap();
    let r = cv.wait_timeout(&mut second.lock(), Duration::ZERO).unwrap();
    assert!(r.timed_out());
}

#[test]
fn a_panicking_predicate_leaves_the_mutex_to_the_guard() {
    let m = Mutex::new(1);
    let cv = Condvar::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut g = m.lock();
        let _ = cv.wait_while(&mut g, |_| panic!("predicate"));
    }));
    assert!(r.is_err());
    assert!(!m.is_locked(), "the guard released it while unwinding");
    assert!(m.try_lock().is_some());
}

#[test]
fn a_waiter_records_its_wait_and_the_caller_line() {
    let _w = support::watchdog("wait_record", Duration::from_secs(60));
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p = pair.clone();
    let line = line!() + 3;
    let t = start("cv-recorded", move || {
        let mut g = p.0.lock();
        p.1.wait_while(&mut g, |go| !*go).unwrap();
    });
    let info = parked(&t, WaitKind::Condvar);
    assert_eq!(info.object().addr(), &pair.1 as *const Condvar as usize);
    assert_eq!(info.location().file(), file!());
    assert_eq!(info.location().line(), line);
    assert_eq!(info.kind().to_string(), "condvar");
    queued(&pair.1);
    *pair.0.lock() = true;
    assert!(pair.1.notify_one());
    t.join().unwrap();
    assert!(t.waiting().is_none());
}

#[test]
fn producers_and_consumers_pass_every_item_once() {
    let _w = support::watchdog("cv_producer_consumer", Duration::from_secs(120));
    const PER: u64 = 2000;
    const CAP: usize = 4;
    struct Q {
        items: Mutex<(VecDeque<u64>, u32)>, // (buffer, producers done)
        not_empty: Condvar,
        not_full: Condvar,
    }
    let q = Arc::new(Q {
        items: Mutex::new((VecDeque::new(), 0)),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    let mut producers = Vec::new();
    for p in 0..2u64 {
        let q = q.clone();
        producers.push(start(&format!("cv-prod-{p}"), move || {
            for i in 0..PER {
                let mut g = q.items.lock();
                q.not_full.wait_while(&mut g, |s| s.0.len() >= CAP).unwrap();
                g.0.push_back(p * PER + i);
                drop(g);
                q.not_empty.notify_one();
            }
            q.items.lock().1 += 1;
            q.not_empty.notify_all();
        }));
    }
    let mut consumers = Vec::new();
    let (tx, rx) = std::sync::mpsc::channel();
    for c in 0..2 {
        let (q, tx) = (q.clone(), tx.clone());
        consumers.push(start(&format!("cv-cons-{c}"), move || {
            let mut got = Vec::new();
            loop {
                let mut g = q.items.lock();
                q.not_empty
                    .wait_while(&mut g, |s| s.0.is_empty() && s.1 < 2)
                    .unwrap();
                match g.0.pop_front() {
                    Some(v) => {
                        drop(g);
                        q.not_full.notify_one();
                        got.push(v);
                    }
                    None => break,
                }
            }
            tx.send(got).unwrap();
        }));
    }
    drop(tx);
    for t in producers.into_iter().chain(consumers) {
        t.join().unwrap();
    }
    let mut all: Vec<u64> = rx.iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (0..2 * PER).collect::<Vec<_>>());
}

/// Issue 13: an untimed `Condition::wait_for` over `Option<T>` returns the `T`.
#[test]
fn condition_wait_for_over_an_option_returns_the_value() {
    let cond = Arc::new(Condition::new());
    let slot = Arc::new(Mutex::new(None::<String>));
    let (c, s) = (cond.clone(), slot.clone());
    let t = start("cond-option", move || {
        let _g = c.guard();
        let got: String = c.wait_for(|| s.lock().take()).unwrap();
        assert_eq!(got, "job");
    });
    {
        let _g = cond.guard();
        *slot.lock() = Some("job".to_string());
        cond.notify_all().unwrap();
    }
    t.join().unwrap();
    // The timed form keeps returning the predicate's last value, falsy on a timeout.
    let _g = cond.guard();
    let last: Option<u8> = cond
        .wait_for_timeout(|| None, Duration::from_millis(1))
        .unwrap();
    assert_eq!(last, None);
    let ok: bool = cond.wait_for(|| true).unwrap();
    assert!(ok);
}

#[test]
fn a_notified_waiter_reads_as_waiting_for_the_mutex_and_its_holder() {
    let _w = support::watchdog("condvar_requeued_record", Duration::from_secs(60));
    for all in [false, true] {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p = pair.clone();
        let w = start("cv-requeued", move || {
            let mut g = p.0.lock();
            p.1.wait_while(&mut g, |go| !*go).unwrap();
        });
        let before = parked(&w, WaitKind::Condvar);
        assert_eq!(before.object(), pair.1.id());
        assert_eq!(before.owner(), None);
        {
            let mut g = pair.0.lock(); // the waiter released it: we get it
            *g = true;
            let woke = if all {
                pair.1.notify_all() == 1
            } else {
                pair.1.notify_one()
            };
            assert!(woke);
            // Moved onto the mutex's queue while we hold it: now it waits for the mutex.
            let info = loop {
                match w.waiting() {
                    Some(i) if i.object().kind() == threadkit::ObjectKind::Lock => break i,
                    _ => std::thread::yield_now(),
                }
            };
            assert_eq!(info.kind(), WaitKind::Condvar);
            // SAFETY: only the raw lock's address is read.
            let raw = unsafe { pair.0.raw() };
            assert_eq!(info.object(), raw.id());
            assert_eq!(info.owner(), Some(current_thread()));
            assert_eq!(info.since(), before.since(), "the same operation");
        }
        w.join().unwrap();
        assert!(w.waiting().is_none());
    }
}
