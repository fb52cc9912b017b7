//! The wait record as a reader (a dump, a deadlock finder) sees it: one object id, the owner
//! read live (never a stale or a reused name), one start per operation, and a notified
//! `Condition` waiter shown waiting for the lock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use threadkit::{
    Condition, Event, Lock, ObjectKind, RLock, ReleaseErrorKind, Thread, WaitInfo, WaitKind,
    current_thread,
};

const PATIENCE: Duration = Duration::from_secs(30);

/// Waits until `t`'s record satisfies `pred`, and returns it.
fn until(t: &Thread, what: &str, pred: impl Fn(&WaitInfo) -> bool) -> WaitInfo {
    let start = Instant::now();
    loop {
        if let Some(info) = t.waiting()
            && pred(&info)
        {
            return info;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "never saw {what}: {:?}",
            t.waiting()
        );
        std::thread::yield_now();
    }
}

fn started(f: impl FnOnce() + Send + 'static) -> Thread {
    let t = Thread::new(f);
    t.start().expect("thread starts");
    t
}

#[test]
fn the_owner_is_read_when_the_record_is_read_not_when_the_wait_began() {
    // Two threads wait for a lock the main thread holds. The main thread lets go; whichever
    // waiter wins keeps the lock (and waits on an event). The loser's record must now name
    // the winner, not the main thread it saw when it parked.
    let lock = Arc::new(Lock::new());
    let go = Arc::new(Event::new());
    lock.acquire();
    let (tx, rx) = mpsc::channel();
    let waiter = |name: &'static str| {
        let (l, g, tx) = (lock.clone(), go.clone(), tx.clone());
        let t = Thread::builder().name(name).target(move || {
            l.acquire();
            tx.send(name).unwrap();
            g.wait();
            l.release().unwrap();
        });
        t.start().unwrap();
        t
    };
    let (a, b) = (waiter("A"), waiter("B"));
    for t in [&a, &b] {
        let info = until(t, "a lock wait", |i| i.kind() == WaitKind::Lock);
        assert_eq!(info.object(), lock.id());
        assert_eq!(info.owner(), Some(current_thread()));
    }
    lock.release().unwrap();
    let winner = rx.recv().unwrap();
    let (won, lost) = if winner == "A" { (&a, &b) } else { (&b, &a) };
    let info = until(lost, "the loser's wait", |i| i.kind() == WaitKind::Lock);
    assert_eq!(info.owner(), Some(won.clone()), "the holder now");
    assert_eq!(info.owner_ident(), won.ident());
    assert_eq!(lock.holder(), Some(won.clone()));
    go.set();
    a.join().unwrap();
    b.join().unwrap();
}

#[test]
fn a_lock_left_held_by_an_ended_thread_never_names_a_later_thread() {
    // The registry reuses a small number once its thread ends. The lock word and the record
    // name the holder by ident, which is never reused: after the holder ends, nobody is named,
    // however many threads start after it (one of which gets its number).
    let lock = Arc::new(Lock::new());
    let l = lock.clone();
    let holder = started(move || l.acquire()); // ends holding it: legal for a `Lock`
    holder.join().unwrap();
    let ended = holder.ident().expect("it ran");
    assert!(lock.locked());
    let gate = Arc::new(Event::new());
    let later: Vec<Thread> = (0..64)
        .map(|_| {
            let g = gate.clone();
            started(move || g.wait())
        })
        .collect();
    let l = lock.clone();
    let w = started(move || {
        l.acquire();
        l.release().unwrap();
    });
    let info = until(&w, "a lock wait", |i| i.kind() == WaitKind::Lock);
    assert_eq!(
        info.owner_ident(),
        Some(ended),
        "the ended thread, by ident"
    );
    assert_eq!(info.owner(), None, "no live thread holds it");
    assert_eq!(lock.holder(), None);
    for t in &later {
        assert!(t.is_alive());
        assert_ne!(t.ident(), Some(ended));
    }
    lock.release().unwrap(); // any thread may release a `Lock`
    w.join().unwrap();
    gate.set();
    for t in later {
        t.join().unwrap();
    }
}

#[test]
fn records_read_from_another_thread_while_the_owner_changes_name_only_holders() {
    // Three threads pass one lock around as fast as they can while a reader reads their
    // records: every owner a record names must be one of them, never a thread that is not
    // holding it (and reading never blocks or crashes, also when a round's lock is freed
    // right after its last waiter wakes).
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let round_locks: Arc<std::sync::Mutex<Vec<Arc<Lock>>>> = Arc::default();
    let workers: Vec<Thread> = (0..3)
        .map(|_| {
            let (stop, locks) = (stop.clone(), round_locks.clone());
            started(move || {
                while !stop.load(Ordering::Relaxed) {
                    let lock = locks.lock().unwrap().last().cloned();
                    let Some(lock) = lock else {
                        std::thread::yield_now();
                        continue;
                    };
                    for _ in 0..50 {
                        lock.acquire();
                        std::hint::spin_loop();
                        lock.release().unwrap();
                    }
                }
            })
        })
        .collect();
    let idents: Vec<u64> = workers.iter().map(|t| t.ident().unwrap()).collect();
    let reader = {
        let (stop, reads, workers) = (stop.clone(), reads.clone(), workers.clone());
        let idents = idents.clone();
        started(move || {
            while !stop.load(Ordering::Relaxed) {
                for w in &workers {
                    if let Some(info) = w.waiting() {
                        assert_eq!(info.kind(), WaitKind::Lock);
                        assert_eq!(info.object().kind(), ObjectKind::Lock);
                        if let Some(owner) = info.owner_ident() {
                            assert!(idents.contains(&owner), "owner {owner} not a worker");
                            assert_ne!(Some(owner), w.ident(), "a waiter owns its lock");
                        }
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let start = Instant::now();
    // New locks keep coming, and old ones are dropped as soon as the workers leave them.
    while reads.load(Ordering::Relaxed) < 2_000 && start.elapsed() < Duration::from_secs(20) {
        let mut locks = round_locks.lock().unwrap();
        locks.clear();
        locks.push(Arc::new(Lock::new()));
        drop(locks);
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        reads.load(Ordering::Relaxed) > 0,
        "the reader saw no wait at all"
    );
}

/// A thread that waits on `cond` (holding its lock, then released by the wait), and its
/// record once it waits: a `Condition` wait on `cond`.
fn waiting_on<L: threadkit::ConditionLock + 'static>(
    cond: &Arc<Condition<L>>,
) -> (Thread, WaitInfo) {
    let c = cond.clone();
    let w = started(move || {
        let _g = c.guard();
        c.wait().unwrap();
    });
    let before = until(&w, "a condition wait", |i| i.kind() == WaitKind::Condition);
    assert_eq!(before.object(), cond.id());
    (w, before)
}

fn requeued_waiter_reads_as_a_lock_wait<L: threadkit::ConditionLock + 'static>(
    cond: Arc<Condition<L>>,
    lock_kind: ObjectKind,
    all: bool,
) {
    let (w, before) = waiting_on(&cond);
    assert_eq!(before.owner(), None);
    {
        let _g = cond.guard(); // the waiter released it: we get it
        let n = if all {
            cond.notify_all().unwrap()
        } else {
            cond.notify(1).unwrap()
        };
        assert_eq!(n, 1);
        // Notified and moved onto the lock's queue: now it waits for the lock, which we hold.
        let info = until(&w, "a wait for the lock", |i| {
            i.object().kind() == lock_kind
        });
        assert_eq!(info.kind(), WaitKind::Condition);
        assert_eq!(info.object().addr(), std::ptr::from_ref(cond.lock()).addr());
        assert_eq!(info.owner(), Some(current_thread()));
        assert_eq!(info.since(), before.since(), "the same operation");
    }
    w.join().unwrap();
    assert!(w.waiting().is_none());
}

#[test]
fn a_notified_condition_waiter_reads_as_waiting_for_the_lock_and_its_holder() {
    requeued_waiter_reads_as_a_lock_wait(Arc::new(Condition::new()), ObjectKind::RLock, false);
    requeued_waiter_reads_as_a_lock_wait(Arc::new(Condition::new()), ObjectKind::RLock, true);
    let over_lock = || Arc::new(Condition::with_lock(Arc::new(Lock::new())));
    requeued_waiter_reads_as_a_lock_wait(over_lock(), ObjectKind::Lock, false);
    requeued_waiter_reads_as_a_lock_wait(over_lock(), ObjectKind::Lock, true);
}

#[test]
fn a_notified_waiter_of_a_condition_over_an_rlock_shows_its_holders_depth() {
    let cond = Arc::new(Condition::with_lock(Arc::new(RLock::named("depth-r"))));
    let (w, before) = waiting_on(&cond);
    assert_eq!(before.owner_depth(), None, "a condition has no holder");
    let ident = w.ident().unwrap();
    {
        // Held twice while the waiter is moved onto the lock's queue: it waits for the RLock,
        // whose holder (this thread) has it at depth 2.
        let (_a, _b) = (cond.guard(), cond.guard());
        assert_eq!(cond.notify(1).unwrap(), 1);
        let info = until(&w, "a wait for the rlock", |i| {
            i.object() == cond.lock().id()
        });
        assert_eq!(info.kind(), WaitKind::Condition);
        assert_eq!(info.owner(), Some(current_thread()));
        assert_eq!(info.owner_depth(), Some(2));
        assert_eq!(info.object().name(), Some("depth-r"), "the lock's name too");
        let dump = threadkit::observe::dump();
        let wait = dump.thread(ident).unwrap().wait().unwrap();
        assert_eq!(wait.object(), cond.lock().id());
        assert_eq!(wait.owner_ident(), current_thread().ident());
        assert_eq!(wait.owner_depth(), Some(2));
        let text = wait.to_string();
        assert!(text.contains(", recursion depth 2"), "{text}");
        #[cfg(feature = "serde")]
        {
            let v: serde_json::Value = serde_json::from_str(&dump.to_json()).unwrap();
            let t = v["threads"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["ident"] == ident)
                .unwrap();
            assert_eq!(t["wait"]["object"]["name"], "depth-r", "{t}");
            assert_eq!(t["wait"]["owner_depth"], 2, "{t}");
        }
    }
    w.join().unwrap();
}

#[test]
fn a_wait_keeps_its_start_when_it_moves_on_to_the_lock() {
    // A timed condition wait that runs out while another thread holds the lock: the waiter
    // then waits for the lock, and its record keeps the start of the whole operation.
    let cond = Arc::new(Condition::with_lock(Arc::new(RLock::new())));
    let c = cond.clone();
    let (tx, rx) = mpsc::channel();
    let w = started(move || {
        let _g = c.guard();
        tx.send(()).unwrap();
        assert!(
            c.wait_timeout(Duration::from_millis(30))
                .unwrap()
                .timed_out()
        );
    });
    rx.recv().unwrap();
    let first = until(&w, "a condition wait", |i| i.object() == cond.id());
    let g = cond.guard(); // taken while it waits: its timeout ends in a wait for the lock
    let second = until(&w, "a wait for the lock", |i| {
        i.object() == cond.lock().id()
    });
    assert_eq!(second.since(), first.since());
    assert_eq!(second.owner(), Some(current_thread()));
    drop(g);
    w.join().unwrap();
}

#[test]
fn release_errors_say_which_refusal_and_show_the_object_alike() {
    let rlock = Arc::new(RLock::new());
    let _g = rlock.guard();
    let r = rlock.clone();
    let err = std::thread::spawn(move || r.release().unwrap_err())
        .join()
        .unwrap();
    assert_eq!(err.kind(), ReleaseErrorKind::NotOwner);
    assert_eq!(err.object(), rlock.id());
    let addr = format!("{:#x}", rlock.id().addr());
    assert!(err.to_string().contains(&addr), "{err}");
    assert!(format!("{err:?}").contains(&addr), "{err:?}");
    let sem = threadkit::Semaphore::new(0);
    assert_eq!(sem.release(0).unwrap_err().kind(), ReleaseErrorKind::Zero);
    let sem = threadkit::Semaphore::new(usize::MAX);
    assert_eq!(
        sem.release(1).unwrap_err().kind(),
        ReleaseErrorKind::Overflow
    );
}
