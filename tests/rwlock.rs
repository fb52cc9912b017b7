//! `RwLock<T>` over threadkit's `RawRwLock`: sharing and exclusion, a waiting writer keeps new
//! readers out (no writer starvation), timeouts that never return early and undo cleanly,
//! upgradable reads and downgrades, wait records naming the writer, and a stress with exact
//! counts.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadkit::{
    RawRwLock, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard, Thread,
    WaitInfo, WaitKind, current_thread,
};

const SLACK: Duration = Duration::from_millis(500);

/// Waits (yielding, never sleeping) until `t` is parked in a wait of kind `kind`.
fn parked(t: &Thread, kind: WaitKind) -> WaitInfo {
    loop {
        if let Some(info) = t.waiting()
            && info.kind() == kind
        {
            return info;
        }
        std::thread::yield_now();
    }
}

fn start(name: &str, f: impl FnOnce() + Send + 'static) -> Thread {
    let t = Thread::builder().name(name).target(f);
    t.start().unwrap();
    t
}

fn raw<T>(lock: &RwLock<T>) -> &RawRwLock {
    // SAFETY: only the raw lock's state is read; no guard is touched.
    unsafe { lock.raw() }
}

#[test]
fn readers_share_and_a_writer_excludes() {
    static STATIC: RwLock<u32> = RwLock::new(3); // `const fn new`
    assert_eq!(*STATIC.read(), 3);
    let lock = RwLock::new(1);
    let a = lock.read();
    let b = lock.read();
    assert!(lock.is_locked() && !lock.is_locked_exclusive());
    assert!(lock.try_write().is_none());
    assert!(lock.try_write_for(Duration::from_millis(5)).is_none());
    drop((a, b));
    let mut w = lock.write();
    *w = 2;
    assert!(lock.is_locked_exclusive());
    assert!(lock.try_read().is_none());
    assert!(lock.try_read_for(Duration::from_millis(5)).is_none());
    assert!(lock.try_upgradable_read().is_none());
    drop(w);
    assert!(!lock.is_locked());
    assert_eq!(*lock.read(), 2);
    assert_eq!(
        format!("{:?}", raw(&lock)),
        "RawRwLock { readers: 0, writer: false }"
    );
}

#[test]
fn a_waiting_writer_keeps_new_readers_out() {
    let _w = support::watchdog("writer_not_starved", Duration::from_secs(60));
    let lock = Arc::new(RwLock::new(0u32));
    let first = lock.read();
    let l = lock.clone();
    let writer = start("rw-writer", move || *l.write() += 1);
    // The writer has the WRITER bit and waits for `first` to leave.
    parked(&writer, WaitKind::RwLockWrite);
    assert!(
        lock.try_read().is_none(),
        "a new reader got past a waiting writer"
    );
    let l = lock.clone();
    let reader = start("rw-late-reader", move || assert_eq!(*l.read(), 1));
    let info = parked(&reader, WaitKind::RwLockRead);
    assert_eq!(info.owner(), Some(writer.clone()), "the writer in the way");
    assert_eq!(
        info.object().addr(),
        raw(&lock) as *const RawRwLock as usize
    );
    assert_eq!(info.object().kind(), threadkit::ObjectKind::RwLock);
    assert_eq!(info.kind().to_string(), "rwlock read");
    drop(first);
    writer.join().unwrap();
    reader.join().unwrap();
    assert_eq!(*lock.read(), 1);
}

#[test]
fn a_blocked_writer_records_the_writer_holding_it() {
    let _w = support::watchdog("writer_records_owner", Duration::from_secs(60));
    let lock = Arc::new(RwLock::new(()));
    let g = lock.write();
    assert_eq!(raw(&lock).writer(), Some(current_thread()));
    let l = lock.clone();
    let line = line!() + 1;
    let t = start("rw-second-writer", move || drop(l.write()));
    let info = parked(&t, WaitKind::RwLockWrite);
    assert_eq!(info.owner(), Some(current_thread()));
    assert_eq!(info.location().line(), line);
    assert_eq!(info.location().file(), file!());
    drop(g);
    t.join().unwrap();
    assert!(raw(&lock).writer().is_none());
}

#[test]
fn timed_locks_never_return_early_and_undo_cleanly() {
    let lock = Arc::new(RwLock::new(0));
    {
        let _r = lock.read();
        for ms in [1u64, 30] {
            let d = Duration::from_millis(ms);
            let start = Instant::now();
            assert!(lock.try_write_for(d).is_none());
            let took = start.elapsed();
            assert!(took >= d && took < d + SLACK, "{ms} ms: {took:?}");
            // The writer that timed out while draining gave WRITER back: readers come in.
            assert!(lock.try_read().is_some());
        }
        let deadline = Instant::now() + Duration::from_millis(10);
        assert!(lock.try_write_until(deadline).is_none());
        assert!(Instant::now() >= deadline);
    }
    {
        let _w = lock.write();
        for ms in [1u64, 30] {
            let d = Duration::from_millis(ms);
            let start = Instant::now();
            assert!(lock.try_read_for(d).is_none());
            assert!(lock.try_upgradable_read_for(d).is_none());
            assert!(start.elapsed() >= 2 * d);
        }
    }
    assert_eq!(
        format!("{:?}", raw(&lock)),
        "RawRwLock { readers: 0, writer: false }"
    );
    assert!(lock.try_write_for(Duration::ZERO).is_some());
    assert!(lock.try_read_for(Duration::MAX).is_some()); // too large: waits forever, got it
}

#[test]
fn a_timed_out_writer_wakes_the_readers_it_kept_out() {
    let _w = support::watchdog("timed_out_writer_wakes", Duration::from_secs(60));
    let lock = Arc::new(RwLock::new(0));
    let first = lock.read();
    let l = lock.clone();
    let writer = start("rw-timed-writer", move || {
        assert!(l.try_write_for(Duration::from_millis(300)).is_none());
    });
    parked(&writer, WaitKind::RwLockWrite);
    let l = lock.clone();
    let reader = start("rw-kept-out", move || drop(l.read()));
    // Usually the reader parks behind the waiting writer (if the machine is so slow that the
    // writer gave up first, the reader simply gets in).
    while reader.is_alive() && reader.waiting().map(|i| i.kind()) != Some(WaitKind::RwLockRead) {
        std::thread::yield_now();
    }
    // Keep `first` until the writer gives up; the reader must then get in, woken.
    writer.join().unwrap();
    reader.join().unwrap();
    drop(first);
}

#[test]
fn upgradable_reads_upgrade_and_downgrade() {
    let _w = support::watchdog("upgradable", Duration::from_secs(60));
    let lock = Arc::new(RwLock::new(vec![1]));
    let u = lock.upgradable_read();
    assert_eq!(raw(&lock).writer(), Some(current_thread()));
    let r = lock.read(); // plain readers share with it
    assert!(lock.try_upgradable_read().is_none());
    assert!(lock.try_write().is_none());
    let u = RwLockUpgradableReadGuard::try_upgrade(u).expect_err("a reader is inside");
    let u = RwLockUpgradableReadGuard::try_upgrade_for(u, Duration::from_millis(10))
        .expect_err("the reader stays");
    // The failed upgrades left it upgradable, and plain readers still come in.
    assert!(lock.try_read().is_some());
    let l = lock.clone();
    start("rw-no-writer", move || assert!(l.try_write().is_none()))
        .join()
        .unwrap();
    drop(r);
    let mut w = RwLockUpgradableReadGuard::upgrade(u);
    w.push(2);
    let u = RwLockWriteGuard::downgrade_to_upgradable(w);
    assert!(lock.try_read().is_some());
    let r = RwLockUpgradableReadGuard::downgrade(u);
    assert!(lock.try_upgradable_read().is_some());
    assert_eq!(*r, [1, 2]);
    drop(r);
    let w = lock.write();
    let r = RwLockWriteGuard::downgrade(w);
    assert!(lock.try_write().is_none());
    assert_eq!(RwLockReadGuard::rwlock(&r).read().len(), 2);
    drop(r);
    assert!(!lock.is_locked());
}

#[test]
fn an_upgrade_waits_for_the_readers_and_a_timed_one_undoes() {
    let _w = support::watchdog("upgrade_waits", Duration::from_secs(60));
    let lock = Arc::new(RwLock::new(0));
    let r = lock.read();
    let l = lock.clone();
    let timed_done = Arc::new(AtomicBool::new(false));
    let td = timed_done.clone();
    let t = start("rw-upgrader", move || {
        let u = l.upgradable_read();
        let start = Instant::now();
        let u = RwLockUpgradableReadGuard::try_upgrade_for(u, Duration::from_millis(20))
            .expect_err("the main thread's reader stays");
        assert!(start.elapsed() >= Duration::from_millis(20));
        td.store(true, Ordering::SeqCst);
        let mut w = RwLockUpgradableReadGuard::upgrade(u);
        *w += 1;
    });
    // The untimed upgrade waits, holding WRITER, for our reader: new readers stay out.
    while !timed_done.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    parked(&t, WaitKind::RwLockWrite);
    assert!(lock.try_read().is_none());
    drop(r);
    t.join().unwrap();
    assert_eq!(*lock.read(), 1);
}

#[test]
fn writers_and_readers_stress_with_exact_counts() {
    let _w = support::watchdog("rw_stress", Duration::from_secs(120));
    const ROUNDS: usize = 3000;
    // Two fields a writer changes together: a reader must never see them differ.
    let lock = Arc::new(RwLock::new((0usize, 0usize)));
    let torn = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..2 {
        let l = lock.clone();
        threads.push(start(&format!("rw-stress-w{i}"), move || {
            for n in 0..ROUNDS {
                if n % 3 == 0 {
                    let u = l.upgradable_read();
                    let mut w = RwLockUpgradableReadGuard::upgrade(u);
                    w.0 += 1;
                    w.1 += 1;
                } else if let Some(mut w) = (n % 3 == 1)
                    .then(|| l.try_write_for(Duration::from_secs(3600)))
                    .flatten()
                {
                    w.0 += 1;
                    w.1 += 1;
                } else {
                    let mut w = l.write();
                    w.0 += 1;
                    w.1 += 1;
                }
            }
        }));
    }
    for i in 0..3 {
        let (l, torn) = (lock.clone(), torn.clone());
        threads.push(start(&format!("rw-stress-r{i}"), move || {
            for n in 0..ROUNDS {
                let g = if n % 2 == 0 {
                    l.read()
                } else {
                    l.try_read_for(Duration::from_secs(3600)).unwrap()
                };
                if g.0 != g.1 {
                    torn.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(torn.load(Ordering::Relaxed), 0);
    assert_eq!(*lock.read(), (2 * ROUNDS, 2 * ROUNDS));
    assert_eq!(
        format!("{:?}", raw(&lock)),
        "RawRwLock { readers: 0, writer: false }"
    );
}

#[test]
fn a_guard_may_be_dropped_by_another_thread() {
    let lock = RwLock::new(5);
    std::thread::scope(|s| {
        let r = lock.read();
        s.spawn(move || assert_eq!(*r, 5)); // dropped there
        let w = lock.write(); // waits for that thread's drop
        s.spawn(move || drop(w));
    });
    assert!(!lock.is_locked());
}
