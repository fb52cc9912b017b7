//! Timer: fires once after the interval, cancel prevents it (immediately), cancel after firing
//! is harmless, and the timer is a thread like any other.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use threadkit::{JoinError, Thread, Timer, WaitKind};

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
fn fires_once_after_the_interval() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let c = calls.clone();
    let interval = Duration::from_millis(80);
    let timer = Timer::new(interval, move || {
        c.fetch_add(1, Ordering::SeqCst);
        tx.send(Instant::now()).unwrap();
    });
    assert_eq!(timer.interval(), interval);
    assert!(!timer.has_fired() && !timer.is_cancelled());
    let start = Instant::now();
    timer.start().unwrap();
    let fired_at = rx.recv().unwrap();
    assert!(
        fired_at - start >= interval,
        "fired early: {:?}",
        fired_at - start
    );
    timer.join().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(timer.has_fired());
    assert!(timer.finished().is_set());
    assert!(!timer.is_alive());
    // Cancel after firing: harmless, says so.
    assert!(!timer.cancel());
    assert!(!timer.is_cancelled());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(timer.start().is_err(), "a timer starts once, as a thread");
}

#[test]
fn cancel_prevents_firing_and_ends_the_wait_at_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let timer = Timer::new(Duration::from_secs(3600), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    timer.start().unwrap();
    let info = until_parked(timer.thread(), WaitKind::Event);
    assert_eq!(info.object(), timer.finished().id());
    assert!(timer.cancel());
    assert!(!timer.cancel(), "a second cancel does nothing");
    assert!(timer.is_cancelled());
    // The thread does not sleep out the hour.
    assert!(
        timer
            .join_timeout(Duration::from_secs(30))
            .unwrap()
            .finished()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(!timer.has_fired());
}

#[test]
fn cancel_before_start() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let timer = Timer::new(Duration::ZERO, move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    assert!(timer.cancel());
    timer.start().unwrap();
    timer.join().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn setting_finished_cancels_as_in_python() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let timer = Timer::new(Duration::from_secs(3600), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    timer.start().unwrap();
    timer.finished().set();
    timer.join().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(timer.is_cancelled());
}

#[test]
fn a_timer_is_a_named_thread_in_enumerate() {
    let timer = Timer::new(Duration::from_secs(3600), || {});
    let name = timer.thread().name();
    assert!(name.starts_with("Thread-"), "{name}");
    timer.start().unwrap();
    assert!(timer.is_alive());
    assert!(threadkit::enumerate().contains(timer.thread()));
    assert!(timer.thread().ident().is_some());
    assert!(
        timer
            .join_timeout(Duration::from_millis(10))
            .unwrap()
            .timed_out()
    );
    timer.cancel();
    timer.join().unwrap();
    assert!(!threadkit::enumerate().contains(timer.thread()));

    let named = Timer::with_builder(
        Thread::builder().name("reminder").daemon(true),
        Duration::ZERO,
        || assert_eq!(threadkit::current_thread().name(), "reminder"),
    );
    assert!(named.thread().is_daemon());
    named.start().unwrap();
    named.join().unwrap();
    assert!(named.has_fired());
    let debug = format!("{named:?}");
    assert!(
        debug.contains("reminder") && debug.contains("fired"),
        "{debug}"
    );
}

#[test]
fn join_before_start_is_an_error() {
    let timer = Timer::new(Duration::ZERO, || {});
    assert!(matches!(timer.join(), Err(JoinError::NotStarted { .. })));
}

#[test]
fn a_panicking_function_is_reported_by_join() {
    threadkit::set_excepthook(|_, _| {});
    let timer = Timer::new(Duration::ZERO, || panic!("timer went off badly"));
    timer.start().unwrap();
    let err = timer.join().unwrap_err();
    threadkit::reset_excepthook();
    match err {
        JoinError::Panicked(p) => assert_eq!(p.message(), "timer went off badly"),
        other => panic!("{other}"),
    }
    assert!(timer.finished().is_set());
    assert!(timer.has_fired());
}

#[test]
fn cancel_racing_the_interval_runs_at_most_once() {
    // Whoever wins, the function runs exactly when cancel reports failure.
    for i in 0..200u64 {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let timer = Timer::new(Duration::from_micros(i * 5), move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        timer.start().unwrap();
        if i % 3 == 0 {
            std::thread::yield_now();
        }
        let stopped = timer.cancel();
        timer.join().unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            usize::from(!stopped),
            "round {i}"
        );
    }
}
