//! `shutdown_guard()`: a producer that panics before its `shutdown()` still ends its
//! consumers' `for item in &q` loops, on every queue kind.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadkit::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
use threadkit::{JoinError, Thread};

/// Serialises the tests that replace the process-wide excepthook.
static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Starts `consumers` threads that each sum `for item in &q` and add their share to the
/// total; runs `producer` (which puts 1..=3 through a guard, then panics) in a thread; checks
/// that every consumer's loop ended with every item delivered once and the producer's panic
/// reported.
fn check<Q>(q: Q, consumers: usize, producer: impl FnOnce(Q) + Send + 'static)
where
    Q: Clone + Send + 'static,
    for<'a> &'a Q: IntoIterator<Item = u32>,
{
    let _serial = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    // A consumer left waiting (no shutdown) would hang the joins below: fail instead.
    let _dog = support::watchdog("shutdown guard", Duration::from_secs(20));
    threadkit::set_excepthook(|_, _| {}); // the producer's panic is expected
    let total = Arc::new(AtomicUsize::new(0));
    let workers: Vec<Thread> = (0..consumers)
        .map(|_| {
            let (q, total) = (q.clone(), total.clone());
            let t = Thread::new(move || {
                let sum: u32 = (&q).into_iter().sum();
                total.fetch_add(sum as usize, Ordering::SeqCst);
            });
            t.start().unwrap();
            t
        })
        .collect();
    let p = q.clone();
    let producer = Thread::new(move || producer(p));
    producer.start().unwrap();
    match producer.join() {
        Err(JoinError::Panicked(p)) => assert_eq!(p.message(), "producer failed"),
        other => panic!("expected the producer's panic, got {other:?}"),
    }
    // Each consumer's loop ends (a loop that did not would hang this join).
    for w in workers {
        w.join().unwrap();
    }
    threadkit::reset_excepthook();
    assert_eq!(total.load(Ordering::SeqCst), 1 + 2 + 3);
}

#[test]
fn a_panicking_producer_ends_the_consumers_loops_on_a_queue() {
    check(Queue::new(2), 3, |q: Queue<u32>| {
        let q = q.shutdown_guard();
        for i in 1..=3 {
            q.put(i).unwrap();
        }
        panic!("producer failed");
    });
}

#[test]
fn a_panicking_producer_ends_the_consumers_loops_on_a_lifo_queue() {
    check(LifoQueue::new(0), 2, |q: LifoQueue<u32>| {
        let q = q.shutdown_guard();
        for i in 1..=3 {
            q.put(i).unwrap();
        }
        panic!("producer failed");
    });
}

#[test]
fn a_panicking_producer_ends_the_consumers_loops_on_a_priority_queue() {
    check(PriorityQueue::new(1), 2, |q: PriorityQueue<u32>| {
        let q = q.shutdown_guard();
        for i in [3, 1, 2] {
            q.put(i).unwrap();
        }
        panic!("producer failed");
    });
}

#[test]
fn a_panicking_producer_ends_the_consumers_loops_on_a_simple_queue() {
    check(SimpleQueue::new(), 2, |q: SimpleQueue<u32>| {
        let q = q.shutdown_guard();
        for i in 1..=3 {
            q.put(i).unwrap();
        }
        panic!("producer failed");
    });
}

#[test]
fn the_guard_shuts_down_at_a_normal_end_too_and_items_are_still_delivered() {
    let q = Queue::new(0);
    {
        let guard = q.shutdown_guard();
        guard.put(7).unwrap();
        assert!(!q.is_shut_down(), "not before the guard goes");
    }
    assert!(q.is_shut_down());
    assert_eq!(q.get().unwrap(), 7);
    assert!(q.get().is_err(), "shut down and drained");
}
