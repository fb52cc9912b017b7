//! Local: one value per thread, made on first use, dropped at the thread's end or with the
//! Local, whichever comes first; never twice.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use threadkit::{Event, Local, Thread};

/// Counts its drops.
struct Tracked {
    drops: Arc<AtomicUsize>,
    value: Cell<usize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn tracked_local(made: &Arc<AtomicUsize>, drops: &Arc<AtomicUsize>) -> Local<Tracked> {
    let (made, drops) = (made.clone(), drops.clone());
    Local::new(move || {
        made.fetch_add(1, Ordering::SeqCst);
        Tracked {
            drops: drops.clone(),
            value: Cell::new(0),
        }
    })
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn local_is_send_and_sync_without_t_sync() {
    assert_send_sync::<Local<Cell<u32>>>();
    assert_send_sync::<Local<RefCell<Vec<String>>>>();
}

#[test]
fn values_are_distinct_per_thread_and_made_once_each() {
    let made = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let local = Arc::new(tracked_local(&made, &drops));
    local.with(|v| v.value.set(1000));
    let mut threads = Vec::new();
    for i in 1..=4 {
        let l = local.clone();
        let t = Thread::new(move || {
            assert_eq!(l.with(|v| v.value.get()), 0, "a fresh value");
            for _ in 0..10 {
                l.with(|v| v.value.set(v.value.get() + i));
            }
            assert_eq!(l.with(|v| v.value.get()), 10 * i);
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(local.with(|v| v.value.get()), 1000);
    assert_eq!(made.load(Ordering::SeqCst), 5, "one init per thread");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        4,
        "each thread's value dropped at its end"
    );
    drop(local);
    assert_eq!(drops.load(Ordering::SeqCst), 5, "and ours with the Local");
}

#[test]
fn value_dropped_when_its_thread_ends() {
    let made = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let local = Arc::new(tracked_local(&made, &drops));
    let l = local.clone();
    let t = Thread::new(move || l.with(|v| v.value.set(7)));
    t.start().unwrap();
    t.join().unwrap();
    // join returns after the thread's thread-locals are dropped.
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(made.load(Ordering::SeqCst), 1);
    // Also for threads threadkit did not start.
    let l = local.clone();
    std::thread::spawn(move || l.with(|v| v.value.set(8)))
        .join()
        .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(local);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "no value of ours was made here"
    );
}

#[test]
fn dropping_the_local_drops_every_threads_value_at_once() {
    let made = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let local = Arc::new(tracked_local(&made, &drops));
    let used = Arc::new(threadkit::Semaphore::new(0));
    let finish = Arc::new(Event::new());
    let mut threads = Vec::new();
    for _ in 0..3 {
        let (l, used, finish) = (local.clone(), used.clone(), finish.clone());
        let t = Thread::new(move || {
            l.with(|v| v.value.set(1));
            drop(l); // this thread no longer holds the Local
            used.release(1).unwrap();
            finish.wait(); // alive, holding a value, until told to end
        });
        t.start().unwrap();
        threads.push(t);
    }
    local.with(|v| v.value.set(2));
    for _ in 0..3 {
        used.acquire();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(local); // the last handle
    assert_eq!(
        drops.load(Ordering::SeqCst),
        4,
        "all four values, threads still alive"
    );
    finish.set();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 4, "never dropped twice");
    assert_eq!(made.load(Ordering::SeqCst), 4);
}

#[test]
fn local_as_a_field_of_a_shared_struct() {
    struct Context {
        name: String,
        scratch: Local<RefCell<Vec<usize>>>,
    }
    let ctx = Arc::new(Context {
        name: "ctx".into(),
        scratch: Local::default(),
    });
    let mut threads = Vec::new();
    for i in 0..3 {
        let ctx = ctx.clone();
        let t = Thread::new(move || {
            assert_eq!(ctx.name, "ctx");
            for j in 0..5 {
                ctx.scratch.with(|s| s.borrow_mut().push(i * 10 + j));
            }
            let mine = ctx.scratch.with(|s| s.borrow().clone());
            assert_eq!(mine, (0..5).map(|j| i * 10 + j).collect::<Vec<_>>());
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(ctx.scratch.with(|s| s.borrow().is_empty()));
}

#[test]
fn nested_use_and_init_using_other_locals() {
    let base = Arc::new(Local::new(|| 5usize));
    let b = base.clone();
    let derived = Local::new(move || b.get() * 2);
    assert_eq!(derived.get(), 10);
    derived.with(|outer| {
        derived.with(|inner| assert!(std::ptr::eq(outer, inner)));
        base.with(|x| assert_eq!(*x, 5));
    });
    // A new Local first used inside another's `with`.
    let late = Local::new(|| "late");
    base.with(|_| assert_eq!(late.get(), "late"));
}

#[test]
fn many_short_lived_locals_drop_their_values() {
    let made = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    for i in 0..1000 {
        let l = tracked_local(&made, &drops);
        l.with(|v| v.value.set(i));
        drop(l);
        assert_eq!(drops.load(Ordering::SeqCst), i + 1);
    }
    assert_eq!(made.load(Ordering::SeqCst), 1000);
}

#[test]
fn local_drop_racing_thread_ends_drops_each_value_once() {
    for _ in 0..50 {
        let made = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let local = Arc::new(tracked_local(&made, &drops));
        let mut threads = Vec::new();
        for _ in 0..4 {
            let l = local.clone();
            let t = Thread::new(move || {
                l.with(|v| v.value.set(1));
                drop(l);
            });
            t.start().unwrap();
            threads.push(t);
        }
        local.with(|v| v.value.set(1));
        drop(local); // maybe the last handle, maybe not: races with the threads' ends
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), made.load(Ordering::SeqCst));
        assert_eq!(made.load(Ordering::SeqCst), 5);
    }
}

#[test]
fn use_from_a_late_thread_local_destructor_does_not_panic() {
    // A thread-local whose destructor uses the Local, possibly after the thread's Local
    // storage is gone: `with` then lends a temporary value, dropped right after.
    struct UsesLocal(Option<Arc<Local<Tracked>>>);
    impl Drop for UsesLocal {
        fn drop(&mut self) {
            if let Some(l) = self.0.take() {
                l.with(|v| v.value.set(v.value.get() + 1));
            }
        }
    }
    thread_local! {
        static LATE: RefCell<UsesLocal> = const { RefCell::new(UsesLocal(None)) };
    }
    let made = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let local = Arc::new(tracked_local(&made, &drops));
    let l = local.clone();
    let t = Thread::new(move || {
        // Registered before the Local's storage, so its destructor tends to run after it.
        LATE.with(|late| late.borrow_mut().0 = Some(l.clone()));
        l.with(|v| v.value.set(1));
    });
    t.start().unwrap();
    t.join().unwrap();
    if cfg!(target_os = "linux") {
        // Destructors run in reverse order of registration: LATE's ran after the storage
        // was gone and used a temporary value.
        assert_eq!(made.load(Ordering::SeqCst), 2);
    }
    assert_eq!(drops.load(Ordering::SeqCst), made.load(Ordering::SeqCst));
}

#[test]
fn debug_never_blocks() {
    let l = Local::new(|| 1);
    l.with(|_| {});
    assert_eq!(format!("{l:?}"), "Local { threads: Some(1), .. }");
}
