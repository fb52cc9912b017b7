//! Stress: 32 producers and 32 consumers (64 threads on a 2-core machine) on one queue, with
//! every form of put and get, `task_done` for each item and a `join` that must see them all.
//!
//! Invariants checked: every item is consumed exactly once (count, sum, xor and a seen-flag
//! per item), `join` returns only once every item is marked done, the queue ends empty with no
//! unfinished task, and no thread is left blocked (all joined, none waiting, none listed).
//! (`queue_stress.rs` covers every queue type with a few threads each; this file covers many.)

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::watchdog;
use threadkit::Thread;
use threadkit::queue::{LifoQueue, PriorityQueue, Queue};

const PRODUCERS: usize = 32;
const CONSUMERS: usize = 32;
const LIMIT: Duration = Duration::from_secs(240);
const STACK: usize = 64 * 1024;
const HOUR: Duration = Duration::from_secs(3600);

/// What the test needs from a queue type.
trait Q: Clone + Send + Sync + 'static {
    fn make(maxsize: usize) -> Self;
    fn put_how(&self, item: u64, how: usize);
    /// `None` once shut down and drained.
    fn get_how(&self, how: usize) -> Option<u64>;
    /// Drains with `for item in &q` until shut down, calling `f` on each item.
    fn drain(&self, f: &mut dyn FnMut(u64));
    fn task_done(&self);
    fn join(&self);
    fn shutdown(&self);
    fn unfinished(&self) -> usize;
    fn qsize(&self) -> usize;
}

macro_rules! q {
    ($Q:ident) => {
        impl Q for $Q<u64> {
            fn make(maxsize: usize) -> Self {
                $Q::new(maxsize)
            }
            fn put_how(&self, item: u64, how: usize) {
                match how % 3 {
                    0 => self.put(item).expect("not shut down"),
                    1 => self.put_timeout(item, HOUR).expect("an hour is enough"),
                    _ => {
                        let mut item = item;
                        loop {
                            match self.try_put(item) {
                                Ok(()) => break,
                                Err(e) => {
                                    assert!(e.is_full(), "{e}");
                                    item = e.into_inner(); // handed back
                                    std::thread::yield_now();
                                }
                            }
                        }
                    }
                }
            }
            fn get_how(&self, how: usize) -> Option<u64> {
                match how % 3 {
                    0 => self.get().ok(),
                    1 => loop {
                        let short = Duration::from_millis(1);
                        let start = Instant::now();
                        match self.get_timeout(short) {
                            Ok(item) => break Some(item),
                            Err(e) if e.is_timeout() => {
                                assert!(start.elapsed() >= short, "timed out early")
                            }
                            Err(_) => break None,
                        }
                    },
                    _ => loop {
                        match self.try_get() {
                            Ok(item) => break Some(item),
                            Err(e) if e.is_empty() => std::thread::yield_now(),
                            Err(_) => break None,
                        }
                    },
                }
            }
            fn drain(&self, f: &mut dyn FnMut(u64)) {
                for item in self {
                    f(item);
                }
            }
            fn task_done(&self) {
                $Q::task_done(self).expect("one per item");
            }
            fn join(&self) {
                $Q::join(self)
            }
            fn shutdown(&self) {
                $Q::shutdown(self)
            }
            fn unfinished(&self) -> usize {
                self.unfinished_tasks()
            }
            fn qsize(&self) -> usize {
                $Q::qsize(self)
            }
        }
    };
}
q!(Queue);
q!(LifoQueue);
q!(PriorityQueue);

/// Count, wrapping sum and xor of some items: together they catch a lost or duplicated one.
#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Tally {
    count: u64,
    sum: u64,
    xor: u64,
}

impl Tally {
    fn add(&mut self, item: u64) {
        self.count += 1;
        self.sum = self
            .sum
            .wrapping_add(item.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        self.xor ^= item.rotate_left((item % 61) as u32);
    }

    fn merge(&mut self, o: Tally) {
        self.count += o.count;
        self.sum = self.sum.wrapping_add(o.sum);
        self.xor ^= o.xor;
    }
}

fn start(name: String, f: impl FnOnce() + Send + 'static) -> Thread {
    let t = Thread::builder().name(name).stack_size(STACK).target(f);
    t.start().expect("the thread starts");
    t
}

/// 32 producers put `per` items each into a queue of `maxsize`; 32 consumers take them (half
/// with `for item in &q`, half with get/get_timeout/try_get) and mark each done. The main
/// thread joins the producers, then `join`s the queue (every item done), then shuts it down
/// so that the consumers' loops end.
fn stress<T: Q>(name: &'static str, maxsize: usize, per: usize) {
    let _dog = watchdog(name, LIMIT);
    let total = PRODUCERS * per;
    let q = T::make(maxsize);
    let seen: Arc<Vec<AtomicBool>> = Arc::new((0..total).map(|_| AtomicBool::new(false)).collect());
    let done = Arc::new(AtomicUsize::new(0));
    let tallies = Arc::new(std::sync::Mutex::new(Tally::default()));
    let go = Arc::new(std::sync::Barrier::new(PRODUCERS + CONSUMERS + 1));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (q, go) = (q.clone(), go.clone());
            start(format!("{name}-put-{p}"), move || {
                go.wait();
                for seq in 0..per {
                    q.put_how((p * per + seq) as u64, p + seq);
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let (q, go, seen, done, tallies) = (
                q.clone(),
                go.clone(),
                seen.clone(),
                done.clone(),
                tallies.clone(),
            );
            start(format!("{name}-get-{c}"), move || {
                go.wait();
                let mut mine = Tally::default();
                let mut take = |item: u64| {
                    assert!(
                        !seen[item as usize].swap(true, Ordering::Relaxed),
                        "item {item} consumed twice"
                    );
                    mine.add(item);
                    done.fetch_add(1, Ordering::SeqCst);
                    q.task_done();
                };
                if c % 2 == 0 {
                    q.drain(&mut take);
                } else {
                    let mut round = c;
                    while let Some(item) = q.get_how(round) {
                        take(item);
                        round += 1;
                    }
                }
                tallies.lock().unwrap().merge(mine);
            })
        })
        .collect();
    go.wait();
    for t in &producers {
        t.join().expect("a producer failed");
    }
    // Every item is put; `join` returns once every one of them is marked done.
    q.join();
    assert_eq!(done.load(Ordering::SeqCst), total, "join returned early");
    assert_eq!(q.unfinished(), 0);
    assert_eq!(q.qsize(), 0);
    q.shutdown();
    let all: Vec<Thread> = producers.into_iter().chain(consumers).collect();
    for t in &all {
        t.join().expect("a stress thread failed");
    }
    let listed = threadkit::enumerate();
    for t in &all {
        assert!(t.waiting().is_none(), "{} is left blocked", t.name());
        assert!(!listed.contains(t));
    }
    let mut expected = Tally::default();
    (0..total as u64).for_each(|i| expected.add(i));
    assert_eq!(*tallies.lock().unwrap(), expected);
    assert!(seen.iter().all(|f| f.load(Ordering::Relaxed)));
    assert_eq!(q.unfinished(), 0);
    assert_eq!(q.qsize(), 0);
}

#[test]
fn thirty_two_producers_and_thirty_two_consumers_on_a_bounded_fifo_queue() {
    stress::<Queue<u64>>(
        "thirty_two_producers_and_thirty_two_consumers_on_a_bounded_fifo_queue",
        64,
        3_000,
    );
}

#[test]
fn thirty_two_producers_and_thirty_two_consumers_on_an_unbounded_fifo_queue() {
    stress::<Queue<u64>>(
        "thirty_two_producers_and_thirty_two_consumers_on_an_unbounded_fifo_queue",
        0,
        2_000,
    );
}

#[test]
fn thirty_two_producers_and_thirty_two_consumers_on_one_slot_lifo_and_priority_queues() {
    let name = "thirty_two_producers_and_thirty_two_consumers_on_one_slot_lifo_and_priority_queues";
    stress::<LifoQueue<u64>>(name, 1, 500);
    stress::<PriorityQueue<u64>>(name, 16, 1_000);
}
