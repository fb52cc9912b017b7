//! Many producers and consumers, every operation form, timeouts, and a shutdown in the
//! middle (producers put until refused, so it always lands mid-stream): no item may be lost
//! or duplicated. Every item is unique and accounted for:
//! the items put successfully are exactly the items got plus the items
//! `shutdown_immediate` returned (count, sum, xor, and item by item); refused items came
//! back to their producer. Bounded in time: every thread must end within `PATIENCE`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use threadkit::Thread;
use threadkit::queue::{
    GetTimeoutError, LifoQueue, PriorityQueue, PutTimeoutError, Queue, SimpleQueue, TryGetError,
    TryPutError,
};

mod common;
use common::{item, start};

const PATIENCE: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(1);

/// The operations the stress needs, for each queue type.
trait Stressed: Clone + Send + 'static {
    fn new(maxsize: usize) -> Self;
    /// Puts with the form chosen by `how`; `Err(item)` once shut down (the item handed
    /// back). Retries timeouts and "full" itself.
    fn put_with(&self, item: u64, how: u64) -> Result<(), u64>;
    /// Gets with the form chosen by `how`; `None` once shut down and empty.
    fn get_with(&self, how: u64) -> Option<u64>;
    fn task_done(&self);
    fn shutdown_immediate(&self) -> Vec<u64>;
    fn unfinished(&self) -> usize;
}

macro_rules! stressed {
    ($Q:ident) => {
        impl Stressed for $Q<u64> {
            fn new(maxsize: usize) -> Self {
                $Q::new(maxsize)
            }
            fn put_with(&self, item: u64, how: u64) -> Result<(), u64> {
                match how % 3 {
                    0 => self.put(item).map_err(|e| e.into_inner()),
                    1 => loop {
                        match self.try_put(item) {
                            Ok(()) => return Ok(()),
                            Err(TryPutError::Full { item: back, .. }) => {
                                assert_eq!(back, item);
                                std::thread::yield_now();
                            }
                            Err(TryPutError::ShutDown { item, .. }) => return Err(item),
                        }
                    },
                    _ => loop {
                        match self.put_timeout(item, SHORT) {
                            Ok(()) => return Ok(()),
                            Err(PutTimeoutError::Timeout { item: back, .. }) => {
                                assert_eq!(back, item)
                            }
                            Err(PutTimeoutError::ShutDown { item, .. }) => return Err(item),
                        }
                    },
                }
            }
            fn get_with(&self, how: u64) -> Option<u64> {
                match how % 3 {
                    0 => self.get().ok(),
                    1 => loop {
                        match self.try_get() {
                            Ok(item) => return Some(item),
                            Err(TryGetError::Empty { .. }) => std::thread::yield_now(),
                            Err(TryGetError::ShutDown { .. }) => return None,
                        }
                    },
                    _ => loop {
                        match self.get_timeout(SHORT) {
                            Ok(item) => return Some(item),
                            Err(GetTimeoutError::Timeout { .. }) => {}
                            Err(GetTimeoutError::ShutDown { .. }) => return None,
                        }
                    },
                }
            }
            fn task_done(&self) {
                $Q::task_done(self).expect("one task_done per item got");
            }
            fn shutdown_immediate(&self) -> Vec<u64> {
                $Q::shutdown_immediate(self)
            }
            fn unfinished(&self) -> usize {
                self.unfinished_tasks()
            }
        }
    };
}

stressed!(Queue);
stressed!(LifoQueue);
stressed!(PriorityQueue);

/// SimpleQueue: unbounded, no task tracking.
impl Stressed for SimpleQueue<u64> {
    fn new(_maxsize: usize) -> Self {
        SimpleQueue::new()
    }
    fn put_with(&self, item: u64, _how: u64) -> Result<(), u64> {
        self.put(item).map_err(|e| e.into_inner())
    }
    fn get_with(&self, how: u64) -> Option<u64> {
        match how % 2 {
            0 => self.get().ok(),
            _ => loop {
                match self.get_timeout(SHORT) {
                    Ok(item) => return Some(item),
                    Err(e) if e.is_timeout() => {}
                    Err(_) => return None,
                }
            },
        }
    }
    fn task_done(&self) {}
    fn shutdown_immediate(&self) -> Vec<u64> {
        SimpleQueue::shutdown_immediate(self)
    }
    fn unfinished(&self) -> usize {
        0
    }
}

fn join_in_time(t: &Thread) {
    common::join_within(t, PATIENCE);
}

struct Tally {
    count: usize,
    sum: u64,
    xor: u64,
}

fn tally<'a>(items: impl IntoIterator<Item = &'a u64>) -> Tally {
    let mut t = Tally {
        count: 0,
        sum: 0,
        xor: 0,
    };
    for &i in items {
        t.count += 1;
        t.sum = t.sum.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        t.xor ^= i;
    }
    t
}

/// `producers` x `consumers` threads move items through a queue of `maxsize`, using every
/// operation form. Producers put until the queue refuses them; the consumer that gets the
/// `shutdown_after`-th item calls `shutdown_immediate`. Checks that nothing is lost or
/// duplicated.
fn stress<Q: Stressed>(maxsize: usize, producers: u64, consumers: u64, shutdown_after: usize) {
    let q = Q::new(maxsize);
    let got_total = Arc::new(AtomicUsize::new(0));
    let (put_tx, put_rx) = mpsc::channel::<(Vec<u64>, Vec<u64>)>();
    let (got_tx, got_rx) = mpsc::channel::<Vec<u64>>();
    let (drained_tx, drained_rx) = mpsc::channel::<Vec<u64>>();

    let mut threads = Vec::new();
    for p in 0..producers {
        let (q, put_tx) = (q.clone(), put_tx.clone());
        threads.push(start(format!("producer-{p}"), move || {
            let (mut put, mut refused) = (Vec::new(), Vec::new());
            for seq in 0.. {
                let it = item(p, seq);
                match q.put_with(it, seq + p) {
                    Ok(()) => put.push(it),
                    Err(back) => {
                        assert_eq!(back, it, "the refused item comes back");
                        refused.push(back);
                        break;
                    }
                }
            }
            put_tx.send((put, refused)).unwrap();
        }));
    }
    for c in 0..consumers {
        let (q, got_tx, got_total) = (q.clone(), got_tx.clone(), got_total.clone());
        let drained_tx = drained_tx.clone();
        threads.push(start(format!("consumer-{c}"), move || {
            let mut got = Vec::new();
            let mut how = c;
            while let Some(it) = q.get_with(how) {
                got.push(it);
                q.task_done();
                how += 1;
                if got_total.fetch_add(1, Ordering::Relaxed) + 1 == shutdown_after {
                    drained_tx.send(q.shutdown_immediate()).unwrap();
                }
            }
            got_tx.send(got).unwrap();
        }));
    }
    drop((put_tx, got_tx, drained_tx));
    for t in &threads {
        join_in_time(t);
    }

    let drained = drained_rx.recv().expect("the shutdown happened");
    let mut put = Vec::new();
    let mut refused = Vec::new();
    for (p, r) in put_rx.iter() {
        put.extend(p);
        refused.extend(r);
    }
    assert_eq!(
        refused.len(),
        producers as usize,
        "every producer was stopped by a refusal"
    );
    let mut out: Vec<u64> = got_rx.iter().flatten().collect();
    assert!(out.len() >= shutdown_after);
    out.extend(&drained);

    let (a, b) = (tally(&put), tally(&out));
    assert_eq!(a.count, b.count, "items put = items got + items drained");
    assert_eq!(a.sum, b.sum, "checksum");
    assert_eq!(a.xor, b.xor, "xor checksum");
    let outs: HashSet<u64> = out.iter().copied().collect();
    assert_eq!(outs.len(), out.len(), "no item delivered twice");
    assert!(
        put.iter().all(|i| outs.contains(i)),
        "every item put came out"
    );
    assert!(
        refused.iter().all(|i| !outs.contains(i)),
        "a refused item never came out"
    );
    assert_eq!(
        q.unfinished(),
        0,
        "every item got was done, every drained one counted"
    );
}

#[test]
fn stress_fifo_bounded() {
    stress::<Queue<u64>>(64, 4, 4, 100_000);
}

#[test]
fn stress_fifo_tiny_capacity() {
    stress::<Queue<u64>>(1, 3, 3, 10_000);
}

/// Two slots: every put and get meets the other side, and the ring wraps every other item.
#[test]
fn stress_fifo_capacity_two() {
    stress::<Queue<u64>>(2, 3, 3, 10_000);
}

/// The tutorial's kind of bound: small enough that putters fill it and wait.
#[test]
fn stress_fifo_capacity_sixteen() {
    stress::<Queue<u64>>(16, 4, 4, 20_000);
}

/// A bound above the ring's: the two-lock core, bounded.
#[test]
fn stress_fifo_large_bound() {
    stress::<Queue<u64>>(1024, 4, 4, 50_000);
}

#[test]
fn stress_fifo_unbounded() {
    stress::<Queue<u64>>(0, 4, 4, 50_000);
}

#[test]
fn stress_lifo() {
    stress::<LifoQueue<u64>>(16, 4, 4, 20_000);
}

/// Capacities 1 and 2: every put waits for a get, on the one-lock core.
#[test]
fn stress_lifo_tiny_capacities() {
    stress::<LifoQueue<u64>>(1, 3, 3, 5_000);
    stress::<LifoQueue<u64>>(2, 3, 3, 5_000);
}

/// A small bound: one heap behind one lock.
#[test]
fn stress_priority() {
    stress::<PriorityQueue<u64>>(16, 4, 4, 20_000);
}

/// Capacities 1 and 2: every put waits for a get.
#[test]
fn stress_priority_tiny_capacities() {
    stress::<PriorityQueue<u64>>(1, 3, 3, 5_000);
    stress::<PriorityQueue<u64>>(2, 3, 3, 5_000);
}

/// A bound above the one-lock core's: the two-lock core with its batches.
#[test]
fn stress_priority_large_bound() {
    stress::<PriorityQueue<u64>>(1024, 4, 4, 20_000);
}

/// No bound: producers that never wait for room must still not outrun the consumers without
/// end (they file their batch in themselves once it is large), or this test runs out of
/// memory.
#[test]
fn stress_priority_unbounded() {
    stress::<PriorityQueue<u64>>(0, 4, 4, 20_000);
}

#[test]
fn stress_simple() {
    stress::<SimpleQueue<u64>>(0, 4, 4, 50_000);
}

#[test]
fn sixteen_producers_and_sixteen_consumers_through_a_simple_queue_in_order_per_producer() {
    // A `SimpleQueue` is lock-free slot blocks of 31 items: thousands of blocks are linked
    // in and freed while sixteen threads at each end race for their slots on two cores.
    // Each producer puts a fixed run (so the test's own bookkeeping stays small), then the
    // queue is shut down and the consumers drain it: every item comes out once, and each
    // consumer sees each producer's items in the order they were put.
    const PER: u64 = 20_000;
    let q = SimpleQueue::new();
    let producers: Vec<Thread> = (0..16u64)
        .map(|p| {
            let q = q.clone();
            start(format!("producer-{p}"), move || {
                for seq in 0..PER {
                    q.put(item(p, seq)).expect("not shut down yet");
                }
            })
        })
        .collect();
    let (got_tx, got_rx) = mpsc::channel::<Vec<u64>>();
    let consumers: Vec<Thread> = (0..16u64)
        .map(|c| {
            let (q, got_tx) = (q.clone(), got_tx.clone());
            start(format!("consumer-{c}"), move || {
                let got: Vec<u64> = q.iter().collect();
                got_tx.send(got).unwrap();
            })
        })
        .collect();
    drop(got_tx);
    for t in &producers {
        join_in_time(t);
    }
    q.shutdown();
    for t in &consumers {
        join_in_time(t);
    }
    let mut all = Vec::new();
    for got in got_rx.iter() {
        let mut last = std::collections::HashMap::new();
        for &it in &got {
            let (p, seq) = (it >> 32, it & 0xffff_ffff);
            if let Some(before) = last.insert(p, seq) {
                assert!(before < seq, "producer {p}: {seq} after {before}");
            }
        }
        all.extend(got);
    }
    let put: Vec<u64> = (0..16u64)
        .flat_map(|p| (0..PER).map(move |seq| item(p, seq)))
        .collect();
    let (a, b) = (tally(&put), tally(&all));
    assert_eq!(a.count, b.count, "items put = items got");
    assert_eq!((a.sum, a.xor), (b.sum, b.xor), "checksums");
    assert_eq!(
        all.iter().copied().collect::<HashSet<u64>>().len(),
        all.len()
    );
    assert!(q.empty());
}

/// Blocking forms only, a queue of one slot, a normal shutdown at the end: every item is
/// delivered exactly once, in order per producer, and `join` sees every task done.
#[test]
fn handoff_through_one_slot_in_order() {
    let q = Queue::new(1);
    let producers = 3u64;
    let per = 20_000u64;
    let (tx, rx) = mpsc::channel::<Vec<u64>>();
    let mut threads = Vec::new();
    for p in 0..producers {
        let q = q.clone();
        threads.push(start(format!("p{p}"), move || {
            for seq in 0..per {
                q.put(item(p, seq)).unwrap();
            }
        }));
    }
    let mut consumers = Vec::new();
    for c in 0..3 {
        let (q, tx) = (q.clone(), tx.clone());
        consumers.push(start(format!("c{c}"), move || {
            let mut got = Vec::new();
            for it in &q {
                got.push(it);
                q.task_done().unwrap();
            }
            tx.send(got).unwrap();
        }));
    }
    drop(tx);
    for t in &threads {
        join_in_time(t);
    }
    assert!(q.join_timeout(PATIENCE), "every task done");
    q.shutdown();
    for t in &consumers {
        join_in_time(t);
    }
    let per_consumer: Vec<Vec<u64>> = rx.iter().collect();
    // Per consumer, each producer's items arrive in increasing order (FIFO).
    for got in &per_consumer {
        for p in 0..producers {
            let seqs: Vec<u64> = got.iter().filter(|&&i| i >> 32 == p).copied().collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
        }
    }
    let mut all: Vec<u64> = per_consumer.into_iter().flatten().collect();
    all.sort_unstable();
    let mut expected: Vec<u64> = (0..producers)
        .flat_map(|p| (0..per).map(move |s| item(p, s)))
        .collect();
    expected.sort_unstable();
    assert_eq!(all, expected);
}
