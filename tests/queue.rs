//! Python's `queue` behaviour for each queue type, every error case (the item handed back),
//! timeouts, task tracking, shutdown, iteration and wait records.
//!
//! Threads synchronise on the queues themselves, on channels, or on another thread's wait
//! record (`Thread::waiting`), never on sleeps. Timed waits are checked never to end early,
//! with generous late slack for loaded machines.

use std::cmp::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use threadkit::queue::{
    GetTimeoutError, LifoQueue, PriorityQueue, PutTimeoutError, Queue, SimpleQueue, TryGetError,
    TryPutError,
};
use threadkit::{Thread, WaitKind};

/// Late slack for timed waits: generous, since these machines stall at times.
const LATE: Duration = Duration::from_millis(500);
/// The longest a test waits for another thread to reach a state before failing.
const PATIENCE: Duration = Duration::from_secs(30);

/// Starts a thread running `f`.
fn spawn(f: impl FnOnce() + Send + 'static) -> Thread {
    let t = Thread::new(f);
    t.start().expect("thread starts");
    t
}

/// Waits until `t` is blocked with a wait of `kind`, and returns the wait's object address
/// and source line.
fn wait_for_block(t: &Thread, kind: WaitKind) -> (usize, u32, &'static str) {
    let start = Instant::now();
    loop {
        if let Some(info) = t.waiting()
            && info.kind() == kind
        {
            return (
                info.object().addr(),
                info.location().line(),
                info.location().file(),
            );
        }
        assert!(start.elapsed() < PATIENCE, "thread never blocked in {kind}");
        std::thread::yield_now();
    }
}

fn join_in_time(t: &Thread) {
    assert!(
        t.join_timeout(PATIENCE).expect("joinable").finished(),
        "thread {} did not end",
        t.name()
    );
}

/// A value without `Debug`, `Clone` or `PartialEq`: errors must still work with it.
struct Opaque(u32);

// ----- order ---------------------------------------------------------------------------

#[test]
fn fifo_order() {
    let q = Queue::new(0);
    for i in 0..100 {
        q.put(i).unwrap();
    }
    let got: Vec<_> = q.try_iter().collect();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn lifo_order() {
    let q = LifoQueue::new(0);
    for i in 0..100 {
        q.put(i).unwrap();
    }
    let got: Vec<_> = q.try_iter().collect();
    assert_eq!(got, (0..100).rev().collect::<Vec<_>>());
}

#[test]
fn simple_queue_order() {
    let q = SimpleQueue::new();
    for i in 0..100 {
        q.put(i).unwrap();
    }
    assert_eq!(q.qsize(), 100);
    let got: Vec<_> = q.try_iter().collect();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    assert!(q.empty());
}

/// Ordered by `priority` only, so items of equal priority compare equal.
#[derive(Debug)]
struct Job {
    priority: u32,
    id: u32,
}

impl Ord for Job {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.cmp(&other.priority)
    }
}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Job {}

#[test]
fn priority_lowest_first_and_stable_among_equals() {
    let q = PriorityQueue::new(0);
    // Few priorities, many items: lots of ties, put in a scrambled priority order.
    let jobs: Vec<(u32, u32)> = (0..2000u32)
        .map(|id| (id.wrapping_mul(2_654_435_761) % 7, id))
        .collect();
    for &(priority, id) in &jobs {
        q.put(Job { priority, id }).unwrap();
    }
    let mut expected = jobs.clone();
    expected.sort_by_key(|&(p, _)| p); // a stable sort: ties keep their arrival order
    let got: Vec<(u32, u32)> = q.try_iter().map(|j| (j.priority, j.id)).collect();
    assert_eq!(got, expected);
}

#[test]
fn priority_stable_when_interleaved_with_gets() {
    let q = PriorityQueue::new(0);
    let mut next_id = 0;
    let mut put = |q: &PriorityQueue<Job>, priority| {
        q.put(Job {
            priority,
            id: next_id,
        })
        .unwrap();
        next_id += 1;
    };
    put(&q, 1); // id 0
    put(&q, 1); // id 1
    put(&q, 0); // id 2
    assert_eq!(q.get().unwrap().id, 2);
    put(&q, 1); // id 3
    assert_eq!(q.get().unwrap().id, 0);
    put(&q, 1); // id 4
    let rest: Vec<u32> = q.try_iter().map(|j| j.id).collect();
    assert_eq!(rest, [1, 3, 4]);
}

/// Four producers put 200 000 items of 16 distinct keys into an unbounded queue while one
/// consumer takes half of them, so a backlog of thousands builds up (the consumers' side
/// keeps it as sorted runs that merge). Every producer's items of one key come out in the
/// order it put them (equal items are first in, first out), the items taken once the
/// producers are done come out lowest first, and every item comes out once.
#[test]
fn priority_keeps_each_producers_equal_items_in_order_through_a_large_backlog() {
    const PRODUCERS: u32 = 4;
    const EACH: u32 = 50_000;
    let q = PriorityQueue::new(0);
    // Producer `p`'s `i`th item: id `p * EACH + i`.
    let (during, after) = std::thread::scope(|s| {
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let q = q.clone();
                s.spawn(move || {
                    for i in 0..EACH {
                        let priority = (i ^ p).wrapping_mul(2_654_435_761) >> 28;
                        q.put(Job {
                            priority,
                            id: p * EACH + i,
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        let during: Vec<Job> = (0..PRODUCERS * EACH / 2)
            .map(|_| q.get().unwrap())
            .collect();
        for t in producers {
            t.join().unwrap();
        }
        (during, q.try_iter().collect::<Vec<_>>())
    });
    assert_eq!(during.len() + after.len(), (PRODUCERS * EACH) as usize);
    assert!(
        after.is_sorted(),
        "what was queued when the puts ended came out lowest first"
    );
    // (priority, producer) -> the last id seen: each must come after the one before.
    let mut last = std::collections::HashMap::new();
    for job in during.iter().chain(&after) {
        if let Some(before) = last.insert((job.priority, job.id / EACH), job.id) {
            assert!(
                before < job.id,
                "priority-{} items out of order: {before} then {}",
                job.priority,
                job.id
            );
        }
    }
    let mut ids: Vec<u32> = during.iter().chain(&after).map(|job| job.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), (PRODUCERS * EACH) as usize, "every item once");
}

#[test]
fn shutdown_immediate_returns_items_in_get_order() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for i in [3, 1, 2] {
        fifo.put(i).unwrap();
        lifo.put(i).unwrap();
        prio.put(i).unwrap();
    }
    assert_eq!(fifo.shutdown_immediate(), [3, 1, 2]);
    assert_eq!(lifo.shutdown_immediate(), [2, 1, 3]);
    assert_eq!(prio.shutdown_immediate(), [1, 2, 3]);
    let simple = SimpleQueue::new();
    simple.put(9).unwrap();
    assert_eq!(simple.shutdown_immediate(), [9]);
}

// ----- size ----------------------------------------------------------------------------

#[test]
fn sizes() {
    let q = Queue::new(2);
    assert_eq!(q.maxsize(), 2);
    assert!(q.empty() && !q.full());
    q.put('a').unwrap();
    assert_eq!(q.qsize(), 1);
    assert!(!q.empty() && !q.full());
    q.put('b').unwrap();
    assert!(q.full());
    assert_eq!(q.qsize(), 2);
    q.get().unwrap();
    assert!(!q.full());

    let unbounded = Queue::new(0);
    for i in 0..10_000 {
        unbounded.put(i).unwrap();
    }
    assert!(!unbounded.full());
    assert_eq!(unbounded.qsize(), 10_000);
    assert_eq!(unbounded.maxsize(), 0);
}

// ----- errors hand items back --------------------------------------------------------------

#[test]
fn try_put_full_hands_back_item() {
    let q = Queue::new(1);
    q.put(Opaque(1)).unwrap();
    let err = q.try_put(Opaque(2)).unwrap_err();
    assert!(err.is_full() && !err.is_shut_down());
    assert_eq!(err.queue(), q.id());
    assert!(format!("{err:?}").starts_with("Full"));
    assert!(err.to_string().contains("full Queue at 0x"), "{err}");
    assert_eq!(err.into_inner().0, 2);
    assert_eq!(q.qsize(), 1, "a refused put changes nothing");
    assert_eq!(q.unfinished_tasks(), 1);
}

#[test]
fn try_get_empty() {
    let q: LifoQueue<Opaque> = LifoQueue::new(0);
    let Err(err) = q.try_get() else {
        panic!("an empty queue gave an item")
    };
    assert!(matches!(err, TryGetError::Empty { queue } if queue == q.id()));
    assert!(err.to_string().contains("empty LifoQueue at 0x"), "{err}");
}

#[test]
fn zero_timeouts_poll_once() {
    let q = Queue::new(1);
    let start = Instant::now();
    assert!(q.get_timeout(Duration::ZERO).unwrap_err().is_timeout());
    q.put_timeout(1, Duration::ZERO).unwrap();
    let err = q.put_timeout(2, Duration::ZERO).unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(err.into_inner(), 2);
    assert!(!q.join_timeout(Duration::ZERO));
    assert_eq!(q.get_timeout(Duration::ZERO).unwrap(), 1);
    assert!(start.elapsed() < LATE);
}

#[test]
fn get_timeout_never_early() {
    let q: Queue<u8> = Queue::new(0);
    for ms in [1, 20, 60] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        let err = q.get_timeout(d).unwrap_err();
        let took = start.elapsed();
        assert!(matches!(err, GetTimeoutError::Timeout { .. }));
        assert!(took >= d, "timed out early: {took:?} < {d:?}");
        assert!(took < d + LATE, "timed out late: {took:?}");
    }
}

#[test]
fn put_timeout_never_early_and_hands_back_item() {
    let q = PriorityQueue::new(1);
    q.put(0).unwrap();
    let d = Duration::from_millis(50);
    let start = Instant::now();
    let err = q.put_timeout(7, d).unwrap_err();
    let took = start.elapsed();
    assert!(took >= d, "timed out early: {took:?}");
    assert!(took < d + LATE, "timed out late: {took:?}");
    assert!(matches!(err, PutTimeoutError::Timeout { item: 7, .. }));
    assert!(
        err.to_string().contains("full PriorityQueue at 0x"),
        "{err}"
    );
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.unfinished_tasks(), 1);
}

#[test]
fn join_timeout_never_early() {
    let q = Queue::new(0);
    q.put(()).unwrap();
    let d = Duration::from_millis(50);
    let start = Instant::now();
    assert!(!q.join_timeout(d));
    let took = start.elapsed();
    assert!(took >= d, "gave up early: {took:?}");
    assert!(took < d + LATE, "gave up late: {took:?}");
}

#[test]
fn huge_timeouts_wait_forever_without_panicking() {
    let q = Queue::new(1);
    let (tx, rx) = mpsc::channel();
    let getter = {
        let q = q.clone();
        spawn(move || tx.send(q.get_timeout(Duration::MAX).unwrap()).unwrap())
    };
    wait_for_block(&getter, WaitKind::QueueGet);
    q.put_timeout(5, Duration::MAX).unwrap();
    assert_eq!(rx.recv().unwrap(), 5);
    join_in_time(&getter);
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::MAX));
}

#[test]
fn errors_debug_and_display_without_item_debug() {
    let q = Queue::new(1);
    q.put(Opaque(0)).unwrap();
    let full = q.try_put(Opaque(1)).unwrap_err();
    let timeout = q
        .put_timeout(Opaque(2), Duration::from_millis(1))
        .unwrap_err();
    q.shutdown();
    let put = q.put(Opaque(3)).unwrap_err();
    let try_put = q.try_put(Opaque(4)).unwrap_err();
    let put_t = q
        .put_timeout(Opaque(5), Duration::from_millis(1))
        .unwrap_err();
    for (e, text) in [
        (
            Box::new(full) as Box<dyn std::error::Error>,
            "put_nowait on full Queue",
        ),
        (Box::new(timeout), "put timed out on full Queue"),
        (Box::new(put), "put on shut-down Queue"),
        (Box::new(try_put), "put_nowait on shut-down Queue"),
        (Box::new(put_t), "put on shut-down Queue"),
    ] {
        assert!(e.to_string().starts_with(text), "{e} / {text}");
        let debug = format!("{e:?}");
        assert!(debug.contains("Queue at 0x"), "{debug}");
    }
}

// ----- task_done / join ------------------------------------------------------------------

#[test]
fn task_done_overuse_is_an_error_and_changes_nothing() {
    let q = Queue::new(0);
    let err = q.task_done().unwrap_err();
    assert_eq!(err.queue(), q.id());
    assert_eq!(err.thread(), threadkit::current_thread().name());
    assert!(err.to_string().contains("too many times on Queue at 0x"));
    q.put(1).unwrap();
    q.put(2).unwrap();
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(q.task_done().is_err());
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.qsize(), 2, "task_done does not take items");
    q.put(3).unwrap();
    assert_eq!(
        q.unfinished_tasks(),
        1,
        "the failed call did not go below zero"
    );
}

#[test]
fn task_done_error_names_the_calling_thread() {
    let q: LifoQueue<()> = LifoQueue::new(0);
    let (tx, rx) = mpsc::channel();
    let t = {
        let q = q.clone();
        let t = Thread::builder()
            .name("overdoer")
            .target(move || tx.send(q.task_done().unwrap_err()).unwrap());
        t.start().unwrap();
        t
    };
    let err = rx.recv().unwrap();
    join_in_time(&t);
    assert_eq!(err.thread(), "overdoer");
    assert!(err.to_string().ends_with("(in thread overdoer)"));
}

#[test]
fn join_returns_when_every_task_is_done() {
    let q = Queue::new(0);
    assert!(
        q.join_timeout(Duration::ZERO),
        "nothing put: join returns at once"
    );
    q.join();
    for i in 0..3 {
        q.put(i).unwrap();
    }
    let joiner = {
        let q = q.clone();
        spawn(move || q.join())
    };
    let (object, line, file) = wait_for_block(&joiner, WaitKind::QueueJoin);
    assert_eq!(object, q.id().addr());
    assert!(file.ends_with("queue.rs") && line > 0);
    for _ in 0..3 {
        q.get().unwrap();
    }
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(joiner.is_alive(), "one task is still unfinished");
    q.task_done().unwrap();
    join_in_time(&joiner);
}

#[test]
fn several_joiners_all_released() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    let joiners: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            spawn(move || q.join())
        })
        .collect();
    for j in &joiners {
        wait_for_block(j, WaitKind::QueueJoin);
    }
    q.get().unwrap();
    q.task_done().unwrap();
    for j in &joiners {
        join_in_time(j);
    }
}

// ----- shutdown ------------------------------------------------------------------------

#[test]
fn shutdown_gets_drain_then_fail_puts_fail() {
    let q = Queue::new(0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    q.shutdown();
    q.shutdown(); // again: nothing more happens
    assert!(q.is_shut_down());
    let err = q.put(3).unwrap_err();
    assert_eq!(err.into_inner(), 3);
    let err = q.try_put(4).unwrap_err();
    assert!(err.is_shut_down());
    assert!(matches!(err, TryPutError::ShutDown { item: 4, .. }));
    assert_eq!(q.try_get().unwrap(), 1);
    assert_eq!(q.get().unwrap(), 2);
    let e = q.get().unwrap_err();
    assert_eq!(e.queue(), q.id());
    assert!(q.try_get().unwrap_err().is_shut_down());
    assert!(
        q.get_timeout(Duration::from_secs(60))
            .unwrap_err()
            .is_shut_down()
    );
    assert_eq!(q.unfinished_tasks(), 2);
}

#[test]
fn shutdown_wakes_blocked_getters() {
    let q: Queue<u32> = Queue::new(0);
    let (tx, rx) = mpsc::channel();
    let getters: Vec<_> = (0..3)
        .map(|i| {
            let (q, tx) = (q.clone(), tx.clone());
            spawn(move || {
                let r = if i == 0 {
                    q.get().map_err(|e| e.to_string())
                } else {
                    q.get_timeout(Duration::from_secs(600))
                        .map_err(|e| e.to_string())
                };
                tx.send(r).unwrap();
            })
        })
        .collect();
    for g in &getters {
        let (object, _, file) = wait_for_block(g, WaitKind::QueueGet);
        assert_eq!(object, q.id().addr());
        assert!(
            file.ends_with("queue.rs"),
            "the wait names the caller's file: {file}"
        );
    }
    q.shutdown();
    for g in &getters {
        join_in_time(g);
    }
    for _ in 0..3 {
        let r = rx.recv().unwrap();
        assert!(r.unwrap_err().starts_with("get on shut-down Queue"));
    }
}

#[test]
fn shutdown_wakes_blocked_putters_and_hands_items_back() {
    let q = Queue::new(1);
    q.put(0).unwrap();
    let (tx, rx) = mpsc::channel();
    let putters: Vec<_> = (1..=2)
        .map(|i| {
            let (q, tx) = (q.clone(), tx.clone());
            spawn(move || {
                let back = if i == 1 {
                    q.put(i).unwrap_err().into_inner()
                } else {
                    let e = q.put_timeout(i, Duration::from_secs(600)).unwrap_err();
                    assert!(e.is_shut_down());
                    e.into_inner()
                };
                tx.send(back).unwrap();
            })
        })
        .collect();
    for p in &putters {
        let (object, _, _) = wait_for_block(p, WaitKind::QueuePut);
        assert_eq!(object, q.id().addr());
    }
    q.shutdown();
    for p in &putters {
        join_in_time(p);
    }
    let mut back: Vec<i32> = rx.try_iter().collect();
    back.sort();
    assert_eq!(back, [1, 2]);
    assert_eq!(
        q.get().unwrap(),
        0,
        "the item put before the shutdown is delivered"
    );
}

#[test]
fn shutdown_releases_joiners_when_count_reaches_zero() {
    let q = Queue::new(0);
    q.put('x').unwrap();
    let joiner = {
        let q = q.clone();
        spawn(move || q.join())
    };
    wait_for_block(&joiner, WaitKind::QueueJoin);
    q.shutdown();
    // Not yet: one task is unfinished; shutdown() alone does not finish it.
    assert!(!q.join_timeout(Duration::from_millis(20)));
    assert!(joiner.is_alive());
    assert_eq!(q.get().unwrap(), 'x');
    q.task_done().unwrap();
    join_in_time(&joiner);
}

#[test]
fn shutdown_immediate_empties_counts_tasks_done_and_releases_joiners() {
    let q = Queue::new(0);
    for i in 0..5 {
        q.put(i).unwrap();
    }
    assert_eq!(q.get().unwrap(), 0); // taken, not done: stays unfinished
    let joiner = {
        let q = q.clone();
        spawn(move || q.join())
    };
    wait_for_block(&joiner, WaitKind::QueueJoin);
    let removed = q.shutdown_immediate();
    assert_eq!(removed, [1, 2, 3, 4]);
    assert!(q.empty());
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(joiner.is_alive());
    q.task_done().unwrap();
    join_in_time(&joiner);
    assert!(q.get().is_err());
    assert!(q.shutdown_immediate().is_empty());
}

#[test]
fn shutdown_immediate_wakes_blocked_getters_and_putters() {
    let full = Queue::new(1);
    full.put(1).unwrap();
    let empty: Queue<i32> = Queue::new(1);
    let (tx, rx) = mpsc::channel();
    let putter = {
        let (q, tx) = (full.clone(), tx.clone());
        spawn(move || tx.send(q.put(2).unwrap_err().into_inner()).unwrap())
    };
    let getter = {
        let (q, tx) = (empty.clone(), tx.clone());
        spawn(move || tx.send(if q.get().is_err() { -1 } else { 0 }).unwrap())
    };
    wait_for_block(&putter, WaitKind::QueuePut);
    wait_for_block(&getter, WaitKind::QueueGet);
    assert_eq!(full.shutdown_immediate(), [1]);
    assert!(empty.shutdown_immediate().is_empty());
    join_in_time(&putter);
    join_in_time(&getter);
    let mut got: Vec<i32> = rx.try_iter().collect();
    got.sort();
    assert_eq!(got, [-1, 2]);
}

#[test]
fn task_done_after_shutdown_immediate_of_taken_items_is_checked() {
    // Items removed by shutdown_immediate count as done; a task_done for them is overuse.
    let q = Queue::new(0);
    q.put(1).unwrap();
    assert_eq!(q.shutdown_immediate(), [1]);
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.task_done().is_err());
}

// ----- blocking hand-over ---------------------------------------------------------------

#[test]
fn blocked_getter_gets_the_item() {
    for _ in 0..20 {
        let q = SimpleQueue::new();
        let (tx, rx) = mpsc::channel();
        let getter = {
            let q = q.clone();
            spawn(move || tx.send(q.get().unwrap()).unwrap())
        };
        wait_for_block(&getter, WaitKind::QueueGet);
        q.put(String::from("hello")).unwrap();
        assert_eq!(rx.recv().unwrap(), "hello");
        join_in_time(&getter);
    }
}

#[test]
fn blocked_putter_puts_when_room_is_made() {
    let q = LifoQueue::new(1);
    q.put(1).unwrap();
    let putter = {
        let q = q.clone();
        spawn(move || q.put(2).unwrap())
    };
    wait_for_block(&putter, WaitKind::QueuePut);
    assert_eq!(q.get().unwrap(), 1);
    join_in_time(&putter);
    assert_eq!(q.get().unwrap(), 2);
    assert_eq!(q.unfinished_tasks(), 2);
}

/// A putter on a full queue backs off until there is room for a batch (a sixteenth of the
/// bound), but one free slot is enough for it to finish: the batch is only a backoff.
#[test]
fn blocked_putter_on_a_large_full_queue_puts_when_one_slot_is_made() {
    let q = Queue::new(1024);
    for i in 0..1024 {
        q.put(i).unwrap();
    }
    let putter = {
        let q = q.clone();
        spawn(move || q.put(1024).unwrap())
    };
    wait_for_block(&putter, WaitKind::QueuePut);
    assert_eq!(q.get().unwrap(), 0);
    join_in_time(&putter);
    assert_eq!(q.qsize(), 1024);
    let rest: Vec<i32> = (0..1024).map(|_| q.get().unwrap()).collect();
    assert_eq!(rest, (1..=1024).collect::<Vec<_>>());
}

#[test]
fn timed_get_woken_by_put_before_deadline() {
    let q = Queue::new(0);
    let (tx, rx) = mpsc::channel();
    let getter = {
        let q = q.clone();
        spawn(move || tx.send(q.get_timeout(Duration::from_secs(600))).unwrap())
    };
    wait_for_block(&getter, WaitKind::QueueGet);
    q.put(11).unwrap();
    assert_eq!(rx.recv().unwrap().unwrap(), 11);
    join_in_time(&getter);
}

// ----- iteration -----------------------------------------------------------------------

#[test]
fn for_loop_drains_until_shutdown() {
    let q = Queue::new(4);
    let (tx, rx) = mpsc::channel();
    let worker = {
        let q = q.clone();
        spawn(move || {
            let mut got = Vec::new();
            for item in &q {
                got.push(item);
                q.task_done().unwrap();
            }
            tx.send(got).unwrap();
        })
    };
    for i in 0..50 {
        q.put(i).unwrap();
    }
    q.join();
    q.shutdown();
    join_in_time(&worker);
    assert_eq!(rx.recv().unwrap(), (0..50).collect::<Vec<_>>());
}

#[test]
fn iterator_is_fused_and_try_iter_stops_when_empty() {
    let q = PriorityQueue::new(0);
    q.put(2).unwrap();
    q.put(1).unwrap();
    assert_eq!(q.try_iter().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(q.try_iter().next(), None);
    q.put(3).unwrap();
    q.shutdown();
    let mut it = q.iter();
    assert_eq!(it.next(), Some(3));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
    assert!(format!("{it:?}").contains("PriorityQueue at 0x"));
}

#[test]
fn iterator_wait_record_names_the_for_line() {
    let q: Queue<u8> = Queue::new(0);
    let for_line = line!() + 3;
    let worker = {
        let q = q.clone();
        spawn(move || for _ in &q {})
    };
    let (object, line, file) = wait_for_block(&worker, WaitKind::QueueGet);
    assert_eq!(object, q.id().addr());
    assert!(file.ends_with("queue.rs"), "{file}");
    assert_eq!(line, for_line, "the line of the `for`");
    q.shutdown();
    join_in_time(&worker);
}

// ----- handles, Debug --------------------------------------------------------------------

#[test]
fn clones_share_one_queue() {
    let a = Queue::new(0);
    let b = a.clone();
    a.put(1).unwrap();
    assert_eq!(b.get().unwrap(), 1);
    assert_eq!(a.id(), b.id());
    assert_ne!(a.id(), Queue::<i32>::new(0).id());
    let d = Queue::<u8>::default();
    assert_eq!(d.maxsize(), 0);
}

#[test]
fn debug_shows_state() {
    let q = Queue::new(3);
    q.put(Opaque(1)).unwrap();
    let s = format!("{q:?}");
    assert!(s.starts_with("Queue {"), "{s}");
    assert!(s.contains("maxsize: 3") && s.contains("qsize: 1") && s.contains("unfinished: 1"));
    assert!(s.contains("shut_down: false"), "{s}");
    let s = format!("{:?}", SimpleQueue::<Opaque>::new());
    assert!(
        s.starts_with("SimpleQueue {") && !s.contains("maxsize"),
        "{s}"
    );
}

#[test]
fn queue_handles_are_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Queue<String>>();
    check::<LifoQueue<String>>();
    check::<PriorityQueue<String>>();
    check::<SimpleQueue<String>>();
    fn check_err<E: std::error::Error + Send + Sync + 'static>() {}
    check_err::<threadkit::queue::PutError<String>>();
    check_err::<TryPutError<String>>();
    check_err::<PutTimeoutError<String>>();
    check_err::<threadkit::queue::GetError>();
    check_err::<TryGetError>();
    check_err::<GetTimeoutError>();
    check_err::<threadkit::queue::TaskDoneError>();
}
