//! Races of the executor under load: cancel against a worker taking the task, shutdown with
//! a long queue and `cancel_futures`, many waiters on one future. A watchdog turns a hang into
//! a failure.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::watchdog;
use threadkit::ThreadPoolExecutor;
use threadkit::futures::{FutureError, ReturnWhen, TaskFuture, wait};

#[test]
fn cancel_against_a_worker_taking_the_task_10_000_rounds() {
    let _w = watchdog("cancel race", Duration::from_secs(120));
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..10_000).map(|_| AtomicUsize::new(0)).collect());
    for round in 0..10_000 {
        let r = runs.clone();
        let f = pool
            .submit(move || {
                r[round].fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        let was_cancelled = f.cancel();
        match f.result() {
            Err(FutureError::Cancelled { .. }) => assert!(was_cancelled, "round {round}"),
            Ok(()) => assert!(!was_cancelled, "round {round}"),
            Err(e) => panic!("round {round}: {e}"),
        }
        assert_eq!(f.cancelled(), was_cancelled, "round {round}");
    }
    pool.wait_idle();
    let mut cancelled = 0;
    for (round, n) in runs.iter().enumerate() {
        match n.load(Ordering::SeqCst) {
            0 => cancelled += 1,
            1 => {}
            n => panic!("round {round} ran {n} times"),
        }
    }
    println!("cancel race: {cancelled} of 10000 cancelled before a worker took them");
}

#[test]
fn shutdown_with_100_000_queued_and_cancel_futures() {
    let _w = watchdog("shutdown cancel_futures", Duration::from_secs(120));
    let pool = ThreadPoolExecutor::new(4).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let fs: Vec<TaskFuture<()>> = (0..100_000)
        .map(|_| {
            let r = ran.clone();
            pool.submit(move || {
                r.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap()
        })
        .collect();
    pool.shutdown(true, true).unwrap();
    let (done, not_done) = wait(&fs, ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (100_000, 0));
    let cancelled = fs.iter().filter(|f| f.cancelled()).count();
    let finished = fs.iter().filter(|f| f.result().is_ok()).count();
    assert_eq!(cancelled + finished, 100_000);
    assert_eq!(finished, ran.load(Ordering::SeqCst));
    println!("shutdown(cancel_futures): {finished} ran, {cancelled} cancelled");
}

#[test]
fn many_waiters_on_many_futures() {
    let _w = watchdog("many waiters", Duration::from_secs(120));
    let pool = ThreadPoolExecutor::new(4).unwrap();
    for _ in 0..200 {
        let f = Arc::new(pool.submit(|| 7u32).unwrap());
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let f = f.clone();
                let t = threadkit::Thread::new(move || assert_eq!(*f.result().unwrap(), 7));
                t.start().unwrap();
                t
            })
            .collect();
        for t in readers {
            t.join().unwrap();
        }
    }
}

#[test]
fn submit_from_many_threads_at_once() {
    let _w = watchdog("concurrent submit", Duration::from_secs(120));
    let pool = Arc::new(ThreadPoolExecutor::new(4).unwrap());
    let total = Arc::new(AtomicUsize::new(0));
    let submitters: Vec<_> = (0..8)
        .map(|_| {
            let (p, t) = (pool.clone(), total.clone());
            let th = threadkit::Thread::new(move || {
                let fs: Vec<_> = (0..2_000)
                    .map(|_| {
                        let t = t.clone();
                        p.submit(move || t.fetch_add(1, Ordering::Relaxed)).unwrap()
                    })
                    .collect();
                for f in fs {
                    f.result().unwrap();
                }
            });
            th.start().unwrap();
            th
        })
        .collect();
    for t in submitters {
        t.join().unwrap();
    }
    pool.wait_idle();
    assert_eq!(total.load(Ordering::SeqCst), 16_000);
    assert!(pool.threads().len() <= 4);
}

#[test]
fn round_trips_racing_shutdown_never_lose_a_task() {
    // Two threads submit and wait, one task at a time (so most tasks are handed straight to
    // the searching worker), while the pool is shut down with `cancel_futures` under them:
    // every task accepted runs exactly once or ends cancelled, and its waiter wakes.
    let _w = watchdog("round trips against shutdown", Duration::from_secs(120));
    for round in 0..200 {
        let pool = Arc::new(ThreadPoolExecutor::new(1 + round % 2).unwrap());
        let ran = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let trips = Arc::new(AtomicUsize::new(0));
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let (p, r) = (pool.clone(), ran.clone());
                let (fin, n) = (finished.clone(), trips.clone());
                let t = threadkit::Thread::new(move || {
                    loop {
                        let r = r.clone();
                        let Ok(f) = p.submit(move || r.fetch_add(1, Ordering::SeqCst)) else {
                            break;
                        };
                        match f.result() {
                            Ok(_) => fin.fetch_add(1, Ordering::SeqCst),
                            Err(FutureError::Cancelled { .. }) => 0,
                            Err(e) => panic!("{e}"),
                        };
                        n.fetch_add(1, Ordering::SeqCst);
                    }
                });
                t.start().unwrap();
                t
            })
            .collect();
        while trips.load(Ordering::SeqCst) < 20 + round {
            std::thread::yield_now();
        }
        pool.shutdown(true, true).unwrap();
        for t in submitters {
            t.join().unwrap();
        }
        assert_eq!(
            finished.load(Ordering::SeqCst),
            ran.load(Ordering::SeqCst),
            "round {round}"
        );
    }
}

#[test]
fn tasks_that_need_every_worker_at_once_wake_the_sleeping_ones() {
    // Four tasks that meet at a barrier can only finish if all four workers run them at
    // once. The first round starts the four workers; they fall asleep between rounds, so
    // each later round needs three sleepers woken: a submit wakes one (it is the searcher until it takes a
    // task), and that one wakes the next while tasks are still queued. A wake lost
    // anywhere in that chain leaves the barrier short and the round hangs (watchdog).
    let _w = watchdog(
        "chained wakes of sleeping workers",
        Duration::from_secs(120),
    );
    let pool = ThreadPoolExecutor::new(4).unwrap();
    for _ in 0..1000 {
        let meet = Arc::new(threadkit::Barrier::new(4).unwrap());
        let fs: Vec<_> = (0..4)
            .map(|_| {
                let m = meet.clone();
                pool.submit(move || m.wait().map(|_| ())).unwrap()
            })
            .collect();
        for f in fs {
            f.into_result().unwrap().unwrap();
        }
        // Let the workers go from searching to sleeping before the next round.
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(pool.threads().len(), 4);
}
