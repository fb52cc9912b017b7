//! loom models of the queue core (through [`Queue`], FIFO, bounded 1 and unbounded): every
//! interleaving (up to a preemption bound) of a producer and one or two consumers, of
//! shutdown against blocked getters and putters, and of `task_done` against `join`, with
//! loom's atomics and parking lot under the queue's own `Lock`.
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_queue
//! ```
//!
//! loom fails any execution in which every thread is parked, so "no waiter left asleep" is
//! checked in every interleaving; the assertions check that no item is lost or duplicated.
//!
//! `LOOM_MAX_PREEMPTIONS` overrides each model's bound.
#![cfg(loom)]

mod loom_support;

use loom::sync::Arc;
use loom::thread;
use loom_support::bounded;
use threadkit::queue::Queue;

/// One producer puts `items` (1, 2, ...) then shuts the queue down; `consumers` threads get
/// until the queue is shut down and empty. Every item is taken exactly once (count and sum),
/// and every consumer ends (none left asleep after the shutdown).
fn produce_consume(maxsize: usize, items: u64, consumers: usize) {
    let q = Queue::new(maxsize);
    let threads: Vec<_> = (0..consumers)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || {
                let (mut n, mut sum) = (0u64, 0u64);
                while let Ok(item) = q.get() {
                    n += 1;
                    sum += item;
                }
                (n, sum)
            })
        })
        .collect();
    for item in 1..=items {
        q.put(item).expect("not shut down yet");
    }
    q.shutdown();
    let (mut n, mut sum) = (0, 0);
    for t in threads {
        let (tn, ts) = t.join().unwrap();
        n += tn;
        sum += ts;
    }
    assert_eq!(n, items, "items taken");
    assert_eq!(sum, items * (items + 1) / 2, "checksum");
    assert!(q.empty());
}

#[test]
fn bounded_one_producer_one_consumer() {
    // Capacity 1, two items: the second put blocks until the get makes room.
    bounded(3, || produce_consume(1, 2, 1));
}

#[test]
fn bounded_one_producer_two_consumers() {
    bounded(2, || produce_consume(1, 2, 2));
}

#[test]
fn unbounded_one_producer_one_consumer() {
    bounded(3, || produce_consume(0, 2, 1));
}

#[test]
fn unbounded_one_producer_two_consumers() {
    bounded(2, || produce_consume(0, 2, 2));
}

#[test]
fn a_put_blocked_on_a_full_queue_is_woken_by_a_get() {
    bounded(3, || {
        let q = Queue::new(1);
        q.put(1u32).unwrap();
        let p = q.clone();
        let putter = thread::spawn(move || p.put(2).expect("not shut down"));
        assert_eq!(q.get().unwrap(), 1);
        putter.join().unwrap();
        assert_eq!(q.get().unwrap(), 2);
        assert!(q.empty());
    });
}

#[test]
fn shutdown_wakes_a_blocked_getter_and_a_blocked_putter() {
    // Two queues, so one thread can block on an empty get while another blocks on a full
    // put; one shutdown of each. The getter gets ShutDown; the putter gets its item back
    // (or, if it got in first... it cannot: the queue stays full). Nothing is lost.
    bounded(2, || {
        let full = Queue::new(1);
        full.put(1u32).unwrap();
        let empty = Queue::<u32>::new(1);
        let f = full.clone();
        let putter = thread::spawn(move || f.put(2).map_err(|e| e.into_inner()));
        let e = empty.clone();
        let getter = thread::spawn(move || e.get().map_err(|_| ()));
        full.shutdown();
        empty.shutdown();
        assert_eq!(
            putter.join().unwrap(),
            Err(2),
            "the refused item comes back"
        );
        assert_eq!(getter.join().unwrap(), Err(()), "shut down and empty");
        // A plain shutdown keeps what was queued.
        assert_eq!(full.get().unwrap(), 1);
        assert!(full.get().is_err());
    });
}

#[test]
fn shutdown_wakes_a_getter_and_a_putter_of_one_queue() {
    // One queue of capacity 1, full: a putter blocks; a getter takes the queued item, which
    // may let the putter in. Whatever the order, after shutdown the putter either put its
    // item (then the getter or the drain below finds it) or got it back: never both, never
    // neither.
    bounded(2, || {
        let q = Queue::new(1);
        q.put(1u32).unwrap();
        let p = q.clone();
        let putter = thread::spawn(move || p.put(2).map_err(|e| e.into_inner()));
        let g = q.clone();
        let getter = thread::spawn(move || g.get().ok());
        q.shutdown();
        let refused = putter.join().unwrap().err();
        let got = getter.join().unwrap();
        let mut seen: Vec<u32> = got.into_iter().chain(refused).collect();
        while let Ok(item) = q.get() {
            seen.push(item);
        }
        seen.sort_unstable();
        assert_eq!(
            seen,
            [1, 2],
            "every item once: taken, drained, or handed back"
        );
    });
}

#[test]
fn join_returns_once_every_item_is_done() {
    // A worker gets two items and marks each done; the main thread joins. join must not return
    // before the second task_done (checked by the count of items the worker has finished),
    // and must return after it (loom fails the model if the joiner is left asleep).
    bounded(3, || {
        let q = Queue::new(0);
        let done = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        q.put(1u32).unwrap();
        q.put(2).unwrap();
        let w = q.clone();
        let d = done.clone();
        let worker = thread::spawn(move || {
            for _ in 0..2 {
                w.get().unwrap();
                d.fetch_add(1, loom::sync::atomic::Ordering::Relaxed);
                w.task_done().unwrap();
            }
        });
        q.join();
        assert_eq!(done.load(loom::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().unwrap();
        assert!(q.task_done().is_err(), "one task_done too many");
    });
}
