//! `ThreadPoolExecutor::execute`: fire-and-forget tasks. Its own test binary because it sets
//! the process-wide excepthook.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use threadkit::{Event, ThreadPoolExecutor};

/// Counts drops of the closures that capture it.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn execute_runs_small_and_large_tasks_and_a_panic_goes_to_the_excepthook() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    threadkit::set_excepthook(move |thread, panic| {
        s.lock()
            .unwrap()
            .push(format!("{}: {}", thread.name(), panic.message()));
    });
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .thread_name_prefix("fire")
        .build()
        .unwrap();
    let (ran, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let big = [1usize; 16]; // too large to travel unboxed
    for _ in 0..1000 {
        let (r, d) = (ran.clone(), DropCount(dropped.clone()));
        pool.execute(move || {
            let _d = d;
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        let (r, d) = (ran.clone(), DropCount(dropped.clone()));
        pool.execute(move || {
            let _d = d;
            r.fetch_add(big.iter().sum::<usize>(), Ordering::SeqCst);
        })
        .unwrap();
    }
    pool.execute(|| panic!("fired boom")).unwrap();
    pool.wait_idle();
    assert_eq!(ran.load(Ordering::SeqCst), 1000 + 1000 * 16);
    assert_eq!(dropped.load(Ordering::SeqCst), 2000);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("fire_"), "{seen:?}");
    assert!(seen[0].ends_with(": fired boom"), "{seen:?}");
    // The worker that caught the panic lives on.
    let f = pool.submit(|| 7).unwrap();
    assert_eq!(*f.result().unwrap(), 7);
    threadkit::reset_excepthook();
}

#[test]
fn execute_cancelled_by_shutdown_is_dropped_unrun_and_refused_after_comes_back() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let (started, gate) = (Arc::new(Event::new()), Arc::new(Event::new()));
    let (st, g) = (started.clone(), gate.clone());
    pool.execute(move || {
        st.set();
        g.wait();
    })
    .unwrap();
    started.wait();
    let (ran, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let big = [1usize; 16];
    for _ in 0..10 {
        let (r, d) = (ran.clone(), DropCount(dropped.clone()));
        pool.execute(move || {
            let _d = d;
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        let (r, d) = (ran.clone(), DropCount(dropped.clone()));
        pool.execute(move || {
            let _d = d;
            r.fetch_add(big[0], Ordering::SeqCst);
        })
        .unwrap();
    }
    pool.shutdown(false, true).unwrap();
    gate.set();
    pool.shutdown(true, false).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(dropped.load(Ordering::SeqCst), 20);
    let r = ran.clone();
    let refused = pool.execute(move || {
        r.fetch_add(100, Ordering::SeqCst);
    });
    let err = refused.unwrap_err();
    assert!(err.to_string().contains(pool.name()), "{err}");
    (err.into_inner())();
    assert_eq!(ran.load(Ordering::SeqCst), 100); // the closure came back intact
}
