//! Rust names beside Python's: `len`/`is_empty` beside `qsize`/`empty` on every queue, and
//! `Default` where a type has an obvious one.

use threadkit::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
use threadkit::{
    BoundedSemaphore, Condition, Event, Lock, Mutex, RLock, ReentrantMutex, Semaphore,
};

macro_rules! len_agrees_with_qsize {
    ($q:expr) => {{
        let q = $q;
        assert!(q.is_empty() && q.empty());
        assert_eq!(q.len(), 0);
        q.put(3).unwrap();
        q.put(1).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q.len(), q.qsize());
        assert!(!q.is_empty() && !q.empty());
        q.get().unwrap();
        q.get().unwrap();
        assert!(q.is_empty());
        // Shut down and drained: still answers, without blocking.
        q.shutdown();
        assert_eq!(q.len(), 0);
    }};
}

#[test]
fn every_queue_has_len_and_is_empty() {
    len_agrees_with_qsize!(Queue::new(2));
    len_agrees_with_qsize!(LifoQueue::new(2));
    len_agrees_with_qsize!(PriorityQueue::new(2));
    len_agrees_with_qsize!(SimpleQueue::new());
}

#[test]
fn default_queues_are_unbounded() {
    let q: Queue<u8> = Queue::default();
    let l: LifoQueue<u8> = LifoQueue::default();
    let p: PriorityQueue<u8> = PriorityQueue::default();
    assert_eq!((q.maxsize(), l.maxsize(), p.maxsize()), (0, 0, 0));
    let s: SimpleQueue<u8> = SimpleQueue::default();
    for i in 0..1000 {
        s.put(i as u8).unwrap();
    }
    assert_eq!(s.len(), 1000);
}

#[test]
fn default_primitives_are_pythons_defaults() {
    let lock = Lock::default();
    assert!(!lock.locked());
    let rlock = RLock::default();
    assert!(!rlock.is_owned());
    let event = Event::default();
    assert!(!event.is_set());
    let cond = Condition::default(); // Condition() over its own RLock
    assert!(cond.notify_all().is_err(), "not held");
    assert_eq!(Semaphore::default().value(), 1, "Python's Semaphore()");
    let b = BoundedSemaphore::default();
    assert_eq!((b.value(), b.bound()), (1, 1));
    let m: Mutex<Vec<u8>> = Mutex::default();
    assert!(m.lock().is_empty());
    let r: ReentrantMutex<u8> = ReentrantMutex::default();
    assert_eq!(*r.lock(), 0);
}
