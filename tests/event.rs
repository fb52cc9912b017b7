//! Event: Python's behaviour (including set-then-clear waking every waiter), timeouts and
//! concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadkit::{Event, Thread, WaitKind};

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
    let e = Event::new();
    assert!(!e.is_set());
    assert!(!e.wait_timeout(Duration::ZERO));
    assert_eq!(format!("{e:?}"), "Event { set: false }");
    e.set();
    assert!(e.is_set());
    e.wait();
    assert!(e.wait_timeout(Duration::ZERO));
    assert!(e.wait_timeout(Duration::MAX));
    e.set(); // setting a set event changes nothing
    assert!(e.is_set());
    e.clear();
    assert!(!e.is_set());
    e.clear();
    assert!(!e.is_set());
    assert!(!Event::default().is_set());
}

#[test]
fn wait_timeout_never_returns_early() {
    let e = Event::new();
    for ms in [1, 30, 100] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!e.wait_timeout(d));
        assert!(start.elapsed() >= d, "{:?} < {d:?}", start.elapsed());
    }
}

#[test]
fn set_wakes_every_waiter() {
    let e = Arc::new(Event::new());
    let data = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..6 {
        let (e, data) = (e.clone(), data.clone());
        let t = Thread::new(move || {
            if i % 2 == 0 {
                e.wait();
            } else {
                assert!(e.wait_timeout(Duration::from_secs(3600)));
            }
            // What the setter wrote before `set` is visible after `wait`.
            assert_eq!(data.load(Ordering::Relaxed), 42);
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in &threads {
        until_parked(t, WaitKind::Event);
    }
    data.store(42, Ordering::Relaxed);
    e.set();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn set_then_clear_still_releases_every_waiter() {
    for _round in 0..20 {
        let e = Arc::new(Event::new());
        let woke = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for i in 0..4 {
            let (e, woke) = (e.clone(), woke.clone());
            let t = Thread::new(move || {
                let ok = if i % 2 == 0 {
                    e.wait();
                    true
                } else {
                    e.wait_timeout(Duration::from_secs(3600))
                };
                assert!(ok, "a waiter that was waiting at the set returns true");
                woke.fetch_add(1, Ordering::SeqCst);
            });
            t.start().unwrap();
            threads.push(t);
        }
        for t in &threads {
            until_parked(t, WaitKind::Event);
        }
        e.set();
        e.clear(); // before the waiters get to run
        for t in threads {
            // A waiter left behind would wait forever: fail instead of hanging.
            assert!(
                t.join_timeout(Duration::from_secs(60)).unwrap().finished(),
                "a waiter missed the set"
            );
        }
        assert_eq!(woke.load(Ordering::SeqCst), 4);
        assert!(!e.is_set());
        assert!(
            !e.wait_timeout(Duration::ZERO),
            "later waiters see the clear"
        );
    }
}

#[test]
fn waiters_after_clear_block_again() {
    let e = Arc::new(Event::new());
    e.set();
    e.clear();
    let e2 = e.clone();
    let t = Thread::new(move || e2.wait());
    t.start().unwrap();
    let info = until_parked(&t, WaitKind::Event);
    assert_eq!(info.object(), e.id());
    assert!(info.location().file().ends_with("event.rs"));
    assert!(
        t.join_timeout(Duration::from_millis(20))
            .unwrap()
            .timed_out()
    );
    e.set();
    t.join().unwrap();
    assert!(t.waiting().is_none());
}

#[test]
fn timed_waiter_and_set_race() {
    // Waiters with short timeouts against a setter: each wait returns true only if the event
    // was set at some point during it, and false never early.
    let e = Arc::new(Event::new());
    let stop = Arc::new(Event::new());
    let mut threads = Vec::new();
    for _ in 0..3 {
        let (e, stop) = (e.clone(), stop.clone());
        let t = Thread::new(move || {
            while !stop.is_set() {
                let d = Duration::from_micros(200);
                let start = Instant::now();
                if !e.wait_timeout(d) {
                    assert!(start.elapsed() >= d);
                }
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    for i in 0..3000 {
        e.set();
        e.clear();
        if i % 50 == 0 {
            std::thread::yield_now();
        }
    }
    stop.set();
    e.set();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn ping_pong_loses_no_wakeup() {
    let ping = Arc::new(Event::new());
    let pong = Arc::new(Event::new());
    let (pi, po) = (ping.clone(), pong.clone());
    let t = Thread::new(move || {
        for _ in 0..5000 {
            pi.wait();
            pi.clear();
            po.set();
        }
    });
    t.start().unwrap();
    for _ in 0..5000 {
        ping.set();
        pong.wait();
        pong.clear();
    }
    t.join().unwrap();
}

#[test]
fn static_event() {
    static READY: Event = Event::new();
    let t = Thread::new(|| READY.set());
    t.start().unwrap();
    READY.wait();
    t.join().unwrap();
    assert!(READY.is_set());
}
