//! Stress on the bounded FIFO `Queue` at the capacities where puts and gets meet on nearly
//! every item (1, 2 and 16): producers and consumers with every form of put and get (blocking,
//! timed with a timeout short enough to expire often, non-blocking), `task_done` for each
//! item, and a shutdown in the middle (plain, or immediate) while producers still put.
//!
//! Invariants: the items put successfully are exactly the items got plus the items
//! `shutdown_immediate` returned (count, sum, xor, and item by item); a refused item comes
//! back to its producer and never comes out; each consumer sees each producer's items in
//! increasing order; the count of unfinished tasks ends at zero and the queue empty; a timed
//! operation that times out waited its whole timeout; every thread ends within `PATIENCE`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use threadkit::Thread;
use threadkit::queue::{GetTimeoutError, PutTimeoutError, Queue, TryGetError, TryPutError};

mod common;
use common::{item, start};

const PATIENCE: Duration = Duration::from_secs(120);
/// Short enough to expire often at these capacities.
const SHORT: Duration = Duration::from_micros(200);

fn join_in_time(t: &Thread) {
    common::join_within(t, PATIENCE);
}

/// Puts with the form `how` picks; `Err(item)` once shut down, the item handed back.
fn put_with(q: &Queue<u64>, it: u64, how: u64) -> Result<(), u64> {
    match how % 3 {
        0 => q.put(it).map_err(|e| e.into_inner()),
        1 => loop {
            match q.try_put(it) {
                Ok(()) => return Ok(()),
                Err(TryPutError::Full { item, .. }) => {
                    assert_eq!(item, it, "a refused item comes back");
                    std::thread::yield_now();
                }
                Err(TryPutError::ShutDown { item, .. }) => return Err(item),
            }
        },
        _ => loop {
            let begun = Instant::now();
            match q.put_timeout(it, SHORT) {
                Ok(()) => return Ok(()),
                Err(PutTimeoutError::Timeout { item, .. }) => {
                    assert_eq!(item, it, "a timed-out item comes back");
                    assert!(begun.elapsed() >= SHORT, "put_timeout returned early");
                }
                Err(PutTimeoutError::ShutDown { item, .. }) => return Err(item),
            }
        },
    }
}

/// Gets with the form `how` picks; `None` once shut down and empty.
fn get_with(q: &Queue<u64>, how: u64) -> Option<u64> {
    match how % 3 {
        0 => q.get().ok(),
        1 => loop {
            match q.try_get() {
                Ok(it) => return Some(it),
                Err(TryGetError::Empty { .. }) => std::thread::yield_now(),
                Err(TryGetError::ShutDown { .. }) => return None,
            }
        },
        _ => loop {
            let begun = Instant::now();
            match q.get_timeout(SHORT) {
                Ok(it) => return Some(it),
                Err(GetTimeoutError::Timeout { .. }) => {
                    assert!(begun.elapsed() >= SHORT, "get_timeout returned early");
                }
                Err(GetTimeoutError::ShutDown { .. }) => return None,
            }
        },
    }
}

#[derive(Debug, PartialEq, Eq)]
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
        t.xor ^= i.rotate_left((i % 61) as u32);
    }
    t
}

/// `producers` x `consumers` threads on a queue of `maxsize`. Producers put until refused;
/// once `shutdown_after` items have been got, the main thread shuts the queue down (plain or
/// `immediate`), while producers still put and consumers still get.
fn stress(maxsize: usize, producers: u64, consumers: u64, shutdown_after: usize, immediate: bool) {
    let q = Queue::new(maxsize);
    let got_total = Arc::new(AtomicUsize::new(0));
    let (put_tx, put_rx) = mpsc::channel::<(Vec<u64>, Vec<u64>)>();
    let (got_tx, got_rx) = mpsc::channel::<Vec<u64>>();
    let (reached_tx, reached_rx) = mpsc::channel::<()>();

    let mut threads = Vec::new();
    for p in 0..producers {
        let (q, put_tx) = (q.clone(), put_tx.clone());
        threads.push(start(format!("producer-{p}"), move || {
            let (mut put, mut refused) = (Vec::new(), Vec::new());
            for seq in 0.. {
                let it = item(p, seq);
                match put_with(&q, it, seq / 7 + p) {
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
        let reached_tx = reached_tx.clone();
        threads.push(start(format!("consumer-{c}"), move || {
            let mut got = Vec::new();
            let mut how = c;
            while let Some(it) = get_with(&q, how / 5) {
                got.push(it);
                q.task_done().expect("one task_done per item got");
                how += 1;
                if got_total.fetch_add(1, Ordering::Relaxed) + 1 == shutdown_after {
                    reached_tx.send(()).unwrap();
                }
            }
            got_tx.send(got).unwrap();
        }));
    }
    drop((put_tx, got_tx, reached_tx));
    reached_rx
        .recv_timeout(PATIENCE)
        .expect("the consumers got that many items");
    let drained = if immediate {
        q.shutdown_immediate()
    } else {
        q.shutdown();
        Vec::new()
    };
    for t in &threads {
        join_in_time(t);
    }

    let mut put = Vec::new();
    let mut refused = Vec::new();
    for (p, r) in put_rx.iter() {
        put.extend(p);
        refused.extend(r);
    }
    assert_eq!(
        refused.len(),
        producers as usize,
        "every producer was refused"
    );
    let per_consumer: Vec<Vec<u64>> = got_rx.iter().collect();
    for got in &per_consumer {
        for p in 0..producers {
            let seqs: Vec<u64> = got.iter().filter(|&&i| i >> 32 == p).copied().collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
        }
    }
    let drained_in_order = |p: u64| {
        let seqs: Vec<u64> = drained.iter().filter(|&&i| i >> 32 == p).copied().collect();
        seqs.windows(2).all(|w| w[0] < w[1])
    };
    assert!(
        (0..producers).all(drained_in_order),
        "drained in FIFO order"
    );
    let mut out: Vec<u64> = per_consumer.into_iter().flatten().collect();
    assert!(out.len() >= shutdown_after);
    out.extend(&drained);
    assert_eq!(
        tally(&put),
        tally(&out),
        "items put = items got + items drained"
    );
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
        q.unfinished_tasks(),
        0,
        "got ones done, drained ones counted"
    );
    assert_eq!(q.qsize(), 0);
    assert!(q.join_timeout(Duration::ZERO));
}

#[test]
fn capacity_one_four_by_four_plain_shutdown() {
    stress(1, 4, 4, 20_000, false);
}

#[test]
fn capacity_one_one_by_one_immediate_shutdown() {
    stress(1, 1, 1, 20_000, true);
}

#[test]
fn capacity_two_three_by_two_immediate_shutdown() {
    stress(2, 3, 2, 20_000, true);
}

#[test]
fn capacity_two_two_by_three_plain_shutdown() {
    stress(2, 2, 3, 20_000, false);
}

#[test]
fn capacity_sixteen_eight_by_eight_immediate_shutdown() {
    stress(16, 8, 8, 50_000, true);
}

#[test]
fn capacity_sixteen_one_by_four_plain_shutdown() {
    stress(16, 1, 4, 50_000, false);
}

/// Blocking forms only through one and two slots, `join` waiting while items flow: every
/// item arrives once, FIFO per producer, and `join` returns only once every one is done.
#[test]
fn join_sees_every_item_done_at_capacities_one_and_two() {
    for maxsize in [1, 2] {
        let q = Queue::new(maxsize);
        let (producers, per) = (3u64, 10_000u64);
        let done = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for p in 0..producers {
            let q = q.clone();
            threads.push(start(format!("p{p}"), move || {
                for seq in 0..per {
                    q.put(item(p, seq)).unwrap();
                }
            }));
        }
        let (tx, rx) = mpsc::channel::<Vec<u64>>();
        for c in 0..2 {
            let (q, tx, done) = (q.clone(), tx.clone(), done.clone());
            threads.push(start(format!("c{c}"), move || {
                let mut got = Vec::new();
                for it in &q {
                    got.push(it);
                    done.fetch_add(1, Ordering::SeqCst);
                    q.task_done().unwrap();
                }
                tx.send(got).unwrap();
            }));
        }
        drop(tx);
        for t in &threads[..producers as usize] {
            join_in_time(t);
        }
        assert!(q.join_timeout(PATIENCE), "every task done");
        assert_eq!(done.load(Ordering::SeqCst) as u64, producers * per);
        q.shutdown();
        for t in &threads {
            join_in_time(t);
        }
        let per_consumer: Vec<Vec<u64>> = rx.iter().collect();
        for got in &per_consumer {
            for p in 0..producers {
                let seqs: Vec<u64> = got.iter().filter(|&&i| i >> 32 == p).copied().collect();
                assert!(seqs.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
            }
        }
        let all: Vec<u64> = per_consumer.into_iter().flatten().collect();
        let expected: Vec<u64> = (0..producers)
            .flat_map(|p| (0..per).map(move |s| item(p, s)))
            .collect();
        assert_eq!(tally(&all), tally(&expected));
    }
}

/// A full one-slot queue: a timed put waits its whole timeout and hands the item back; a
/// blocked put is woken by a get; an empty queue's timed get waits its whole timeout.
#[test]
fn timeouts_at_capacity_one_wait_their_whole_time() {
    let q = Queue::new(1);
    q.put(1u64).unwrap();
    let d = Duration::from_millis(30);
    let begun = Instant::now();
    let err = q.put_timeout(2, d).unwrap_err();
    assert!(begun.elapsed() >= d, "early: {:?}", begun.elapsed());
    assert!(err.is_timeout());
    assert_eq!(err.into_inner(), 2);
    assert_eq!(q.get().unwrap(), 1);
    let begun = Instant::now();
    assert!(q.get_timeout(d).unwrap_err().is_timeout());
    assert!(begun.elapsed() >= d, "early: {:?}", begun.elapsed());
    assert_eq!((q.qsize(), q.unfinished_tasks()), (0, 1));
}
