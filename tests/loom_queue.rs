//! loom models of the queue cores: the slot ring behind a bounded `Queue` (capacities 1 and 2,
//! where put and get meet on every item), the list of slot blocks behind `SimpleQueue` (three
//! slots a block under loom, so that its models link, cross and free blocks), and the
//! two-lock core behind an unbounded `Queue` and `PriorityQueue`, whose consumers take
//! batches out of the producers' buffer, and whose putters wait for room on the head's lock. Every interleaving (up to a
//! preemption bound) of a producer and one or two consumers, of two producers (order per
//! producer), of shutdown (plain and immediate) against blocked or racing getters and
//! putters, of `task_done` against `join`, and of a priority get against a put that finished
//! before it, with loom's atomics and parking lot under the queues' own `Lock`s.
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
use threadkit::queue::{PriorityQueue, Queue, SimpleQueue};

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
    // One preemption: see the note on the ring models below.
    bounded_ring(1, || produce_consume(1, 2, 2));
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

#[test]
fn unbounded_two_producers_keep_their_order() {
    // Two producers, one consumer that takes three items (so its batch swaps interleave with
    // the puts in every way): each producer's items come out in the order it put them.
    bounded(2, || {
        let q = Queue::new(0);
        let a = q.clone();
        let pa = thread::spawn(move || {
            a.put(1u32).unwrap();
            a.put(2).unwrap();
        });
        let b = q.clone();
        let pb = thread::spawn(move || b.put(10u32).unwrap());
        let got: Vec<u32> = (0..3).map(|_| q.get().unwrap()).collect();
        pa.join().unwrap();
        pb.join().unwrap();
        let from_a: Vec<u32> = got.iter().copied().filter(|&i| i < 10).collect();
        assert_eq!(from_a, [1, 2], "got {got:?}");
        assert!(got.contains(&10));
        assert!(q.empty() && q.qsize() == 0);
        assert_eq!(q.unfinished_tasks(), 3);
    });
}

#[test]
fn unbounded_shutdown_immediate_races_a_producer_and_a_consumer() {
    // Items 1 and 2 are queued; a producer puts 3 and a consumer gets one while the main
    // thread shuts down immediately. Every item is got, returned by the shutdown or refused
    // to the producer: exactly once. The unfinished count drops by what the shutdown removed.
    bounded(2, || {
        let q = SimpleQueue::new();
        q.put(1u32).unwrap();
        q.put(2).unwrap();
        let p = q.clone();
        let producer = thread::spawn(move || p.put(3).err().map(|e| e.into_inner()));
        let c = q.clone();
        let consumer = thread::spawn(move || c.get().ok());
        let removed = q.shutdown_immediate();
        let refused = producer.join().unwrap();
        let got = consumer.join().unwrap();
        let mut seen: Vec<u32> = removed.iter().copied().chain(refused).chain(got).collect();
        assert!(
            q.get().is_err(),
            "nothing left after the immediate shutdown"
        );
        seen.sort_unstable();
        assert_eq!(
            seen,
            [1, 2, 3],
            "removed {removed:?}, refused {refused:?}, got {got:?}"
        );
        assert!(
            removed.windows(2).all(|w| w[0] < w[1]),
            "in order: {removed:?}"
        );
        assert_eq!(q.qsize(), 0);
    });
}

#[test]
fn unbounded_get_waiting_on_both_ends_is_woken_by_a_put_or_the_shutdown() {
    // The main thread takes one item (swapping the batch of two into the consumers' end);
    // a consumer then drains the queue while a producer puts one more and the main thread
    // shuts the queue down once the put is in: the consumer gets both remaining items in
    // order, whether it finds them, parks and is woken by the put, or by the shutdown.
    bounded(3, || {
        let q = Queue::new(0);
        q.put(1u32).unwrap();
        q.put(2).unwrap();
        assert_eq!(q.get().unwrap(), 1);
        let c = q.clone();
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(item) = c.get() {
                got.push(item);
            }
            got
        });
        let p = q.clone();
        let producer = thread::spawn(move || p.put(3).unwrap());
        producer.join().unwrap();
        q.shutdown();
        assert_eq!(consumer.join().unwrap(), [2, 3]);
        assert_eq!(q.unfinished_tasks(), 3);
    });
}

#[test]
fn simple_getters_waiting_are_woken_by_puts_or_the_shutdown() {
    // Two consumers of a `SimpleQueue` wait (spinning or parked) while a producer puts two
    // items and the main thread then shuts the queue down: both items come out once, in
    // order for whoever takes both, and no consumer is left asleep.
    bounded(2, || {
        let q = SimpleQueue::new();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let c = q.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(item) = c.get() {
                        got.push(item);
                    }
                    got
                })
            })
            .collect();
        let p = q.clone();
        let producer = thread::spawn(move || {
            p.put(1u32).unwrap();
            p.put(2).unwrap();
        });
        producer.join().unwrap();
        q.shutdown();
        let mut all = Vec::new();
        for c in consumers {
            let got = c.join().unwrap();
            assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
            all.extend(got);
        }
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
    });
}

#[test]
fn priority_bounded_one_producer_one_consumer_lowest_first() {
    // Capacity 1 on the two-lock core with a heap at the head: the second put waits for
    // room; each item is got once, and the consumer's takes-in never lose one.
    bounded(3, || {
        let q = PriorityQueue::new(1);
        let c = q.clone();
        let consumer = thread::spawn(move || {
            let first = c.get().unwrap();
            let second = c.get().unwrap();
            (first, second)
        });
        q.put(2u32).unwrap();
        q.put(1).unwrap();
        let (first, second) = consumer.join().unwrap();
        // Capacity 1: the first put is taken before the second can be made.
        assert_eq!((first, second), (2, 1));
        assert!(q.empty());
    });
}

#[test]
fn priority_get_sees_every_put_that_finished_before_it() {
    // A get takes in the producers' batch when `pushed` says one waits, read without the
    // tail lock: a put that happened before the get (here through `done`) must be seen, so
    // the lower item comes out first; otherwise either may.
    use loom::sync::atomic::{AtomicBool, Ordering};
    bounded(3, || {
        let q = PriorityQueue::new(0);
        q.put(5u32).unwrap();
        q.put(6).unwrap();
        // Takes in the batch: 6 stays in the heap, so the next get has an item at hand
        // and must still look at the producers' buffer.
        assert_eq!(q.get().unwrap(), 5);
        let done = Arc::new(AtomicBool::new(false));
        let (p, d) = (q.clone(), done.clone());
        let producer = thread::spawn(move || {
            p.put(1).unwrap();
            d.store(true, Ordering::Release);
        });
        let seen = done.load(Ordering::Acquire);
        let first = q.get().unwrap();
        if seen {
            assert_eq!(first, 1, "a finished put is seen by a later get");
        }
        producer.join().unwrap();
        let second = q.get().unwrap();
        let mut both = [first, second];
        both.sort_unstable();
        assert_eq!(both, [1, 6]);
        assert!(q.empty());
    });
}

// ----- the bounded ring (src/queue/array.rs): capacities 1 and 2 ------------------------
//
// An execution here is long (every full or empty meeting parks through the loom parking
// lot, and a woken thread that loses its item to another parks again), so these models
// allow far more branches per execution than loom's default. The models with two getters
// or two blocked putters use one preemption: at two they did not finish in the time there
// was on a shared two-core machine (`LOOM_MAX_PREEMPTIONS=2` runs them deeper).
// At these capacities a put finds the queue full and a get finds it empty on nearly every
// item, so the sleep protocol (the parked bit set in `validate`, then the re-check; the
// waker's look at the bit after its claim) is exercised on every item: a lost wake-up leaves
// every thread parked, which loom reports as a deadlock.

/// [`bounded`] with room for the long executions of the ring's models.
fn bounded_ring(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.max_branches = builder.max_branches.max(500_000);
    builder.check(f);
}

#[test]
fn ring_capacity_one_three_items_meet_on_every_put_and_get() {
    bounded_ring(3, || produce_consume(1, 3, 1));
}

#[test]
fn ring_capacity_two_wraps_around_with_two_consumers() {
    // One preemption: see the note above.
    bounded_ring(1, || produce_consume(2, 3, 2));
}

#[test]
fn ring_capacity_one_two_producers_keep_their_order() {
    // Each producer's items come out in its order, through one slot.
    bounded_ring(2, || {
        let q = Queue::new(1);
        let a = q.clone();
        let pa = thread::spawn(move || {
            a.put(1u32).unwrap();
            a.put(2).unwrap();
        });
        let b = q.clone();
        let pb = thread::spawn(move || b.put(10u32).unwrap());
        let got: Vec<u32> = (0..3).map(|_| q.get().unwrap()).collect();
        pa.join().unwrap();
        pb.join().unwrap();
        let from_a: Vec<u32> = got.iter().copied().filter(|&i| i < 10).collect();
        assert_eq!(from_a, [1, 2], "got {got:?}");
        assert!(got.contains(&10));
        assert_eq!((q.qsize(), q.unfinished_tasks()), (0, 3));
    });
}

#[test]
fn ring_capacity_two_a_full_queue_blocks_two_putters_and_gets_free_them() {
    // Both slots full; two putters block; the main thread takes four items: both putters
    // must be woken (one get frees one slot and hands over at most one putter's item).
    // One preemption: see the note above.
    bounded_ring(1, || {
        let q = Queue::new(2);
        q.put(1u32).unwrap();
        q.put(2).unwrap();
        let putters: Vec<_> = [3u32, 4]
            .into_iter()
            .map(|item| {
                let p = q.clone();
                thread::spawn(move || p.put(item).unwrap())
            })
            .collect();
        let mut got: Vec<u32> = (0..4).map(|_| q.get().unwrap()).collect();
        for p in putters {
            p.join().unwrap();
        }
        assert_eq!(&got[..2], [1, 2], "the queued items first");
        got.sort_unstable();
        assert_eq!(got, [1, 2, 3, 4]);
        assert!(q.empty());
    });
}

#[test]
fn ring_capacity_one_shutdown_immediate_races_a_blocked_putter_and_a_getter() {
    // The slot holds 1; a putter blocks with 2; a getter takes one; the main thread shuts
    // down immediately. Every item is got, returned by the shutdown or handed back to the
    // putter, exactly once; the unfinished count is the got ones (not yet done).
    bounded_ring(2, || {
        let q = Queue::new(1);
        q.put(1u32).unwrap();
        let p = q.clone();
        let putter = thread::spawn(move || p.put(2).err().map(|e| e.into_inner()));
        let g = q.clone();
        let getter = thread::spawn(move || g.get().ok());
        let removed = q.shutdown_immediate();
        let refused = putter.join().unwrap();
        let got = getter.join().unwrap();
        assert!(
            q.get().is_err(),
            "nothing left after the immediate shutdown"
        );
        let mut seen: Vec<u32> = removed.iter().copied().chain(refused).chain(got).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            [1, 2],
            "removed {removed:?}, refused {refused:?}, got {got:?}"
        );
        assert_eq!(q.unfinished_tasks(), usize::from(got.is_some()));
        assert_eq!(q.qsize(), 0);
    });
}

#[test]
fn ring_capacity_one_join_waits_for_task_done_while_items_flow() {
    // A producer puts two items through one slot; a worker gets and marks each done; the
    // main thread joins after the producer is done: join returns only at zero.
    bounded_ring(2, || {
        let q = Queue::new(1);
        let done = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let p = q.clone();
        let producer = thread::spawn(move || {
            p.put(1u32).unwrap();
            p.put(2).unwrap();
        });
        let (w, d) = (q.clone(), done.clone());
        let worker = thread::spawn(move || {
            for _ in 0..2 {
                w.get().unwrap();
                d.fetch_add(1, loom::sync::atomic::Ordering::Relaxed);
                w.task_done().unwrap();
            }
        });
        producer.join().unwrap();
        q.join();
        assert_eq!(done.load(loom::sync::atomic::Ordering::Relaxed), 2);
        worker.join().unwrap();
        assert!(q.task_done().is_err());
    });
}
