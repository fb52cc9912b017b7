//! Barrier: indices, the action, breaking (timeout, abort, panicking action, reset) and
//! recovery, reuse over many cycles.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::{Barrier, BrokenCause, JoinError, Thread, WaitKind};

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

/// Starts `n` threads that each run `f(i)`.
fn spawn(n: usize, f: impl Fn(usize) + Send + Sync + 'static) -> Vec<Thread> {
    let f = Arc::new(f);
    (0..n)
        .map(|i| {
            let f = f.clone();
            let t = Thread::new(move || f(i));
            t.start().unwrap();
            t
        })
        .collect()
}

#[test]
fn parties_must_be_positive() {
    let err = Barrier::new(0).unwrap_err();
    assert_eq!(err.parties(), 0);
    assert_eq!(
        err.to_string(),
        "a Barrier needs 1 to 16777215 parties, not 0"
    );
    assert!(Barrier::new(1 << 24).is_err());
    assert_eq!(
        Barrier::new((1 << 24) - 1).unwrap().parties(),
        (1 << 24) - 1
    );
}

#[test]
fn smoke() {
    let b = Barrier::new(1).unwrap();
    assert_eq!(b.parties(), 1);
    for _ in 0..3 {
        assert_eq!(b.wait().unwrap(), 0);
        assert_eq!(b.wait_timeout(Duration::ZERO).unwrap(), 0);
    }
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.broken());
    assert_eq!(b.timeout(), None);
    assert_eq!(
        format!("{b:?}"),
        "Barrier { parties: 1, n_waiting: 0, broken: false, timeout: None, action: false }"
    );
}

#[test]
fn indices_are_a_permutation_every_cycle() {
    const PARTIES: usize = 4;
    const CYCLES: usize = 500;
    let b = Arc::new(Barrier::new(PARTIES).unwrap());
    let seen = Arc::new(Mutex::new(vec![Vec::new(); CYCLES]));
    let (b2, seen2) = (b.clone(), seen.clone());
    let threads = spawn(PARTIES, move |_| {
        for cycle in 0..CYCLES {
            let index = b2.wait().unwrap();
            seen2.lock().unwrap()[cycle].push(index);
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    let expected: BTreeSet<usize> = (0..PARTIES).collect();
    for (cycle, indices) in seen.lock().unwrap().iter().enumerate() {
        let got: BTreeSet<usize> = indices.iter().copied().collect();
        assert_eq!(indices.len(), PARTIES);
        assert_eq!(got, expected, "cycle {cycle}");
    }
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn action_runs_once_per_cycle_in_the_last_thread_before_release() {
    const PARTIES: usize = 3;
    const CYCLES: usize = 300;
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = Arc::new(Mutex::new(Vec::new()));
    let (r, who) = (runs.clone(), runner.clone());
    let b = Arc::new(Barrier::new(PARTIES).unwrap().with_action(move || {
        r.fetch_add(1, Ordering::SeqCst);
        who.lock().unwrap().push(threadkit::current_thread().name());
    }));
    let last = Arc::new(Mutex::new(vec![String::new(); CYCLES]));
    let (b2, runs2, last2) = (b.clone(), runs.clone(), last.clone());
    let threads = spawn(PARTIES, move |_| {
        for cycle in 0..CYCLES {
            let index = b2.wait().unwrap();
            // The action of this cycle has run before anyone is released.
            assert!(runs2.load(Ordering::SeqCst) > cycle);
            if index == PARTIES - 1 {
                last2.lock().unwrap()[cycle] = threadkit::current_thread().name();
            }
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), CYCLES);
    assert_eq!(*runner.lock().unwrap(), *last.lock().unwrap());
}

#[test]
fn more_threads_than_parties() {
    // Four threads on a barrier for two: cycles pair them arbitrarily (so no thread can count
    // on a fixed number of waits); stop them with abort once enough cycles ran.
    const THREADS: usize = 4;
    const CYCLES: usize = 400;
    let runs = Arc::new(AtomicUsize::new(0));
    let oks = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let b = Arc::new(Barrier::new(2).unwrap().with_action(move || {
        r.fetch_add(1, Ordering::SeqCst);
    }));
    let (b2, oks2) = (b.clone(), oks.clone());
    let threads = spawn(THREADS, move |_| {
        loop {
            match b2.wait() {
                Ok(index) => {
                    assert!(index < 2);
                    oks2.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => {
                    assert_eq!(e.cause(), BrokenCause::Abort);
                    return;
                }
            }
        }
    });
    while runs.load(Ordering::SeqCst) < CYCLES {
        std::thread::yield_now();
    }
    b.abort();
    for t in threads {
        t.join().unwrap();
    }
    let (runs, oks) = (runs.load(Ordering::SeqCst), oks.load(Ordering::SeqCst));
    // Each cycle released its two threads, except perhaps the one the abort broke while its
    // action ran.
    assert!(
        oks == 2 * runs || oks == 2 * (runs - 1),
        "{oks} oks, {runs} actions"
    );
}

#[test]
fn timeout_breaks_the_barrier_until_reset() {
    let b = Arc::new(Barrier::new(3).unwrap());
    let b2 = b.clone();
    let other = Thread::new(move || {
        let err = b2.wait().unwrap_err();
        assert_eq!(err.cause(), BrokenCause::Timeout);
    });
    other.start().unwrap();
    until_parked(&other, WaitKind::Barrier);
    assert_eq!(b.n_waiting(), 1);

    let d = Duration::from_millis(60);
    let start = Instant::now();
    let err = b.wait_timeout(d).unwrap_err();
    assert!(
        start.elapsed() >= d,
        "timed out early: {:?}",
        start.elapsed()
    );
    assert_eq!(err.cause(), BrokenCause::Timeout);
    assert_eq!(err.thread(), threadkit::current_thread().name());
    assert_eq!(err.object(), b.id());
    assert!(err.to_string().contains("a wait timed out"), "{err}");
    other.join().unwrap();

    assert!(b.broken());
    assert_eq!(b.n_waiting(), 0);
    // Later arrivals fail at once.
    assert_eq!(b.wait().unwrap_err().cause(), BrokenCause::Timeout);
    assert_eq!(
        b.wait_timeout(Duration::from_secs(3600))
            .unwrap_err()
            .cause(),
        BrokenCause::Timeout
    );

    b.reset();
    assert!(!b.broken());
    let b2 = b.clone();
    let threads = spawn(2, move |_| {
        b2.wait().unwrap();
    });
    b.wait().unwrap();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn default_timeout_applies_to_wait() {
    let b = Barrier::new(2)
        .unwrap()
        .with_timeout(Duration::from_millis(40));
    assert_eq!(b.timeout(), Some(Duration::from_millis(40)));
    let start = Instant::now();
    assert_eq!(b.wait().unwrap_err().cause(), BrokenCause::Timeout);
    assert!(start.elapsed() >= Duration::from_millis(40));
    // A huge default timeout is no timeout.
    let b = Arc::new(Barrier::new(2).unwrap().with_timeout(Duration::MAX));
    let b2 = b.clone();
    let t = Thread::new(move || {
        b2.wait().unwrap();
    });
    t.start().unwrap();
    until_parked(&t, WaitKind::Barrier);
    b.wait().unwrap();
    t.join().unwrap();
}

#[test]
fn zero_timeout_breaks_unless_last() {
    let b = Barrier::new(2).unwrap();
    assert_eq!(
        b.wait_timeout(Duration::ZERO).unwrap_err().cause(),
        BrokenCause::Timeout
    );
    assert!(b.broken());
}

#[test]
fn abort_releases_waiters_with_an_error() {
    let b = Arc::new(Barrier::new(3).unwrap());
    let b2 = b.clone();
    let threads = spawn(2, move |_| {
        let err = b2.wait().unwrap_err();
        assert_eq!(err.cause(), BrokenCause::Abort);
    });
    for t in &threads {
        until_parked(t, WaitKind::Barrier);
    }
    assert_eq!(b.n_waiting(), 2);
    b.abort();
    for t in threads {
        t.join().unwrap();
    }
    assert!(b.broken());
    assert_eq!(b.wait().unwrap_err().cause(), BrokenCause::Abort);
    b.abort(); // aborting a broken barrier changes nothing
    b.reset();
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn reset_breaks_current_waiters_then_the_barrier_works() {
    let b = Arc::new(Barrier::new(3).unwrap());
    let b2 = b.clone();
    let threads = spawn(2, move |_| {
        let err = b2.wait().unwrap_err();
        assert_eq!(err.cause(), BrokenCause::Reset);
    });
    for t in &threads {
        until_parked(t, WaitKind::Barrier);
    }
    b.reset();
    for t in threads {
        t.join().unwrap();
    }
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
    let b2 = b.clone();
    let threads = spawn(2, move |_| {
        b2.wait().unwrap();
    });
    b.wait().unwrap();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn panicking_action_breaks_the_barrier() {
    threadkit::set_excepthook(|_, _| {}); // the panic below is expected
    let first = Arc::new(AtomicBool::new(true));
    let f = first.clone();
    let b = Arc::new(Barrier::new(2).unwrap().with_action(move || {
        if f.swap(false, Ordering::SeqCst) {
            panic!("action failed");
        }
    }));
    let b2 = b.clone();
    let threads = spawn(2, move |_| match b2.wait() {
        Ok(_) => panic!("the cycle cannot succeed"),
        Err(e) => assert_eq!(e.cause(), BrokenCause::ActionPanicked),
    });
    let mut panicked = 0;
    for t in threads {
        match t.join() {
            Ok(()) => {}
            Err(JoinError::Panicked(p)) => {
                assert_eq!(p.message(), "action failed");
                panicked += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    threadkit::reset_excepthook();
    assert_eq!(
        panicked, 1,
        "the action's panic continues in its thread only"
    );
    assert!(b.broken());
    assert_eq!(b.wait().unwrap_err().cause(), BrokenCause::ActionPanicked);
    b.reset();
    let b2 = b.clone();
    let t = Thread::new(move || {
        b2.wait().unwrap();
    });
    t.start().unwrap();
    b.wait().unwrap();
    t.join().unwrap();
}

#[test]
fn blocked_thread_shows_a_barrier_wait() {
    let b = Arc::new(Barrier::new(2).unwrap());
    let b2 = b.clone();
    let t = Thread::new(move || {
        b2.wait().unwrap();
    });
    t.start().unwrap();
    let info = until_parked(&t, WaitKind::Barrier);
    assert_eq!(info.object(), b.id());
    assert!(info.location().file().ends_with("barrier.rs"));
    b.wait().unwrap();
    t.join().unwrap();
    assert!(t.waiting().is_none());
}

#[test]
fn timeouts_racing_completions_stay_consistent() {
    // Two threads with short timeouts: every cycle either completes for both or breaks for
    // both (then both reset it); nobody hangs, and the barrier ends usable.
    let b = Arc::new(Barrier::new(2).unwrap());
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let gate = Arc::new(Barrier::new(2).unwrap());
    let (b2, o2, g2) = (b.clone(), outcomes.clone(), gate.clone());
    let threads = spawn(2, move |i| {
        for round in 0..300 {
            let r = b2.wait_timeout(Duration::from_micros(50 + 30 * i as u64));
            o2.lock().unwrap().push((round, r.is_ok()));
            g2.wait().unwrap();
            if r.is_err() && i == 0 {
                b2.reset();
            }
            g2.wait().unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    let outcomes = outcomes.lock().unwrap();
    for round in 0..300 {
        let both: Vec<bool> = outcomes
            .iter()
            .filter(|(r, _)| *r == round)
            .map(|&(_, ok)| ok)
            .collect();
        assert_eq!(both.len(), 2);
        assert_eq!(both[0], both[1], "round {round}: {both:?}");
    }
    assert!(!b.broken());
}

#[test]
fn resets_and_aborts_amid_waiters_never_hang_or_miscount() {
    // Waiters with short timeouts, while another thread keeps resetting and aborting: every
    // path (breaking, leaving a broken cycle, resetting with threads inside, arrivals waiting
    // for a reset) runs many times. Nobody hangs, indices stay in range, and afterwards the
    // barrier works again.
    const PARTIES: usize = 3;
    let b = Arc::new(Barrier::new(PARTIES).unwrap().with_action(|| {}));
    let done = Arc::new(AtomicUsize::new(0));
    let oks = Arc::new(AtomicUsize::new(0));
    let (b2, d2, o2) = (b.clone(), done.clone(), oks.clone());
    let waiters = spawn(PARTIES + 1, move |i| {
        for round in 0..1500u64 {
            let d = Duration::from_micros(20 + (round * 7 + i as u64 * 13) % 200);
            match b2.wait_timeout(d) {
                Ok(index) => {
                    assert!(index < PARTIES);
                    o2.fetch_add(1, Ordering::Relaxed);
                }
                // Resets with other threads inside the broken cycle, or arriving meanwhile.
                Err(_) => b2.reset(),
            }
        }
        d2.fetch_add(1, Ordering::SeqCst);
    });
    let mut n = 0u64;
    while done.load(Ordering::SeqCst) < PARTIES + 1 {
        n += 1;
        if n.is_multiple_of(16) {
            b.abort();
        }
        std::thread::yield_now();
    }
    eprintln!(
        "{} successful waits, {n} rounds of resets",
        oks.load(Ordering::Relaxed)
    );
    for t in waiters {
        t.join().unwrap();
    }
    b.reset();
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
    let b2 = b.clone();
    let threads = spawn(PARTIES - 1, move |_| {
        b2.wait().unwrap();
    });
    b.wait().unwrap();
    for t in threads {
        t.join().unwrap();
    }
}
