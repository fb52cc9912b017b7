//! `observe::deadlocks()` and the watchdog: each report checked for its exact contents
//! (threads, objects, owners, source lines), no report for a timed wait, and the watchdog's
//! abort and Go's all-blocked case in a child process (the deadlock example).
//!
//! The deadlocked threads are daemons and stay blocked until the test process exits.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use threadkit::observe::{self, Deadlock};
use threadkit::{Barrier, Lock, ObjectId, RLock, Thread, WaitKind};

/// Polls `deadlocks()` until one report names all of `idents` (a deadlock, once formed, stays).
fn report_with(idents: &[u64]) -> Deadlock {
    let start = Instant::now();
    loop {
        if let Some(d) = observe::deadlocks().into_iter().find(|d| {
            idents
                .iter()
                .all(|i| d.steps().iter().any(|s| s.ident() == *i))
        }) {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no deadlock among {idents:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// (thread, object, kind, wait line, owner name, line where the owner took it).
type Row = (String, ObjectId, WaitKind, u32, Option<String>, Option<u32>);

fn rows(d: &Deadlock) -> Vec<Row> {
    d.steps()
        .iter()
        .map(|s| {
            let w = s.wait();
            (
                s.thread().to_string(),
                w.object(),
                w.kind(),
                w.location().line(),
                w.owner_name().map(str::to_string),
                s.owner_took().map(|l| l.line()),
            )
        })
        .collect()
}

/// Rotates a cycle's rows so that `first`'s row comes first (a cycle starts at its smallest
/// ident, which the test does not choose).
fn from(mut rows: Vec<Row>, first: &str) -> Vec<Row> {
    let i = rows
        .iter()
        .position(|r| r.0 == first)
        .expect("thread in the cycle");
    rows.rotate_left(i);
    rows
}

#[test]
fn a_two_lock_cycle_names_both_threads_both_locks_and_four_lines() {
    observe::set_held_tracking(true);
    let a = Arc::new(Lock::named("a"));
    let b = Arc::new(Lock::named("b"));
    let both = Arc::new(Barrier::new(2).unwrap());
    static LINES: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
    let t1 = {
        let (a, b, both) = (a.clone(), b.clone(), both.clone());
        Thread::builder().name("one").daemon(true).spawn(move || {
            LINES[0].store(line!() + 1, Ordering::Relaxed);
            let _a = a.guard();
            let _ = both.wait();
            LINES[1].store(line!() + 1, Ordering::Relaxed);
            let _b = b.guard();
        })
    }
    .unwrap();
    let t2 = {
        let (a, b, both) = (a.clone(), b.clone(), both.clone());
        Thread::builder().name("two").daemon(true).spawn(move || {
            LINES[2].store(line!() + 1, Ordering::Relaxed);
            let _b = b.guard();
            let _ = both.wait();
            LINES[3].store(line!() + 1, Ordering::Relaxed);
            let _a = a.guard();
        })
    }
    .unwrap();
    let ids = [t1.thread().ident().unwrap(), t2.thread().ident().unwrap()];
    let d = report_with(&ids);
    assert!(matches!(d, Deadlock::Cycle(_)), "{d}");
    let l = |i: usize| LINES[i].load(Ordering::Relaxed);
    assert_eq!(
        from(rows(&d), "one"),
        vec![
            (
                "one".into(),
                b.id(),
                WaitKind::Lock,
                l(1),
                Some("two".into()),
                Some(l(2))
            ),
            (
                "two".into(),
                a.id(),
                WaitKind::Lock,
                l(3),
                Some("one".into()),
                Some(l(0))
            ),
        ]
    );
    assert_eq!(
        d.steps()[0].wait().object().name(),
        Some(if d.steps()[0].thread() == "one" {
            "b"
        } else {
            "a"
        })
    );
    let text = d.to_string();
    assert!(
        text.starts_with("deadlock: 2 threads wait on each other\n"),
        "{text}"
    );
    let file = file!();
    assert!(
        text.contains(&format!(
            "thread \"one\" waits for {} (lock) at {file}:{}:",
            b.id(),
            l(1)
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "held by \"one\" (ident {}), taken at {file}:{}:",
            ids[0],
            l(0)
        )),
        "{text}"
    );
}

#[test]
fn a_three_thread_cycle_through_an_rlock_and_a_join() {
    // x holds the RLock and joins y; y holds m and waits for n; z holds n and waits for the
    // RLock.
    observe::set_held_tracking(true);
    let r = Arc::new(RLock::named("r"));
    let m = Arc::new(Lock::named("m"));
    let n = Arc::new(Lock::named("n"));
    let all = Arc::new(Barrier::new(3).unwrap());
    let y_thread: Arc<OnceLock<Thread>> = Arc::new(OnceLock::new());
    static LINES: [AtomicU32; 3] = [const { AtomicU32::new(0) }; 3];
    static TOOK: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];
    let x = {
        let (r, all, yt) = (r.clone(), all.clone(), y_thread.clone());
        Thread::builder().name("x").daemon(true).spawn(move || {
            TOOK[0].store(line!() + 1, Ordering::Relaxed);
            let _r = r.guard();
            let _r2 = r.guard(); // depth 2: still one owner
            let _ = all.wait();
            let y = loop {
                if let Some(y) = yt.get() {
                    break y.clone();
                }
                std::thread::yield_now();
            };
            LINES[0].store(line!() + 1, Ordering::Relaxed);
            let _ = y.join();
        })
    }
    .unwrap();
    let y = {
        let (m, n, all) = (m.clone(), n.clone(), all.clone());
        Thread::builder().name("y").daemon(true).spawn(move || {
            let _m = m.guard();
            let _ = all.wait();
            LINES[1].store(line!() + 1, Ordering::Relaxed);
            let _n = n.guard();
        })
    }
    .unwrap();
    y_thread.set(y.thread().clone()).unwrap();
    let z = {
        let (r, n, all) = (r.clone(), n.clone(), all.clone());
        Thread::builder().name("z").daemon(true).spawn(move || {
            TOOK[1].store(line!() + 1, Ordering::Relaxed);
            let _n = n.guard();
            let _ = all.wait();
            LINES[2].store(line!() + 1, Ordering::Relaxed);
            let _r = r.guard();
        })
    }
    .unwrap();
    let ids = [x.thread(), y.thread(), z.thread()].map(|t| t.ident().unwrap());
    let d = report_with(&ids);
    let l = |i: usize| LINES[i].load(Ordering::Relaxed);
    let t = |i: usize| TOOK[i].load(Ordering::Relaxed);
    let rows = from(rows(&d), "x");
    assert_eq!(rows.len(), 3, "{d}");
    assert_eq!(rows[0].0, "x");
    assert_eq!(rows[0].1.kind(), threadkit::ObjectKind::Thread);
    assert_eq!(
        (rows[0].2, rows[0].3, rows[0].4.as_deref()),
        (WaitKind::Join, l(0), Some("y"))
    );
    assert_eq!(
        rows[1..],
        [
            (
                "y".into(),
                n.id(),
                WaitKind::Lock,
                l(1),
                Some("z".into()),
                Some(t(1))
            ),
            (
                "z".into(),
                r.id(),
                WaitKind::RLock,
                l(2),
                Some("x".into()),
                Some(t(0))
            ),
        ]
    );
    assert_eq!(rows[2].1.name(), Some("r"));
}

#[test]
fn a_wait_with_a_timeout_is_never_reported() {
    let a = Arc::new(Lock::named("ta"));
    let b = Arc::new(Lock::named("tb"));
    let both = Arc::new(Barrier::new(2).unwrap());
    let t1 = {
        let (a, b, both) = (a.clone(), b.clone(), both.clone());
        Thread::builder()
            .name("patient")
            .daemon(true)
            .spawn(move || {
                let _a = a.guard();
                let _ = both.wait();
                b.acquire_timeout(Duration::from_millis(800)) // gives up: the cycle resolves
            })
    }
    .unwrap();
    let t2 = {
        let (a, b, both) = (a.clone(), b.clone(), both.clone());
        Thread::builder()
            .name("stubborn")
            .daemon(true)
            .spawn(move || {
                let _b = b.guard();
                let _ = both.wait();
                let _a = a.guard();
            })
    }
    .unwrap();
    let ids = [t1.thread().ident().unwrap(), t2.thread().ident().unwrap()];
    // Both blocked on each other's lock, one with a timeout.
    while !(t1
        .thread()
        .waiting()
        .is_some_and(|w| w.kind() == WaitKind::Lock)
        && t2
            .thread()
            .waiting()
            .is_some_and(|w| w.kind() == WaitKind::Lock))
    {
        std::thread::yield_now();
    }
    let dump = observe::dump();
    assert!(dump.thread(ids[0]).unwrap().wait().unwrap().timed());
    assert!(!dump.thread(ids[1]).unwrap().wait().unwrap().timed());
    let found = observe::deadlocks();
    assert!(
        !found
            .iter()
            .any(|d| d.steps().iter().any(|s| ids.contains(&s.ident()))),
        "{found:?}"
    );
    assert!(!t1.join().unwrap(), "the timed acquire gave up");
    t2.join().unwrap();
}

#[test]
fn the_example_reports_both_threads_both_locks_and_all_four_lines_then_exits() {
    let exe = common::example_path("deadlock");
    let out = Command::new(exe).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let src = include_str!("../examples/deadlock.rs");
    let line = |marker: &str| {
        src.lines()
            .position(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("{marker}"))
            + 1
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(lines[0], "deadlock: 2 threads wait on each other");
    let f = "examples/deadlock.rs";
    let alice = lines
        .iter()
        .position(|l| l.contains("thread \"alice\""))
        .unwrap();
    let bob = lines
        .iter()
        .position(|l| l.contains("thread \"bob\""))
        .unwrap();
    let wait = |l: &str, who: &str, lock: &str, at: usize| {
        l.starts_with(&format!(
            "  thread \"{who}\" waits for Lock \"{lock}\" at 0x"
        )) && l.ends_with(&format!(
            " (lock) at {f}:{at}:{}",
            &l[l.rfind(':').unwrap() + 1..]
        )) && l.contains(&format!("{f}:{at}:"))
    };
    assert!(
        wait(
            lines[alice],
            "alice",
            "ledger",
            line("alice waits for ledger")
        ),
        "{text}"
    );
    assert!(
        wait(
            lines[bob],
            "bob",
            "accounts",
            line("bob waits for accounts")
        ),
        "{text}"
    );
    let held = |l: &str, who: &str, at: usize| {
        l.starts_with(&format!("    held by \"{who}\" (ident "))
            && l.contains(&format!("), taken at {f}:{at}:"))
    };
    assert!(
        held(lines[alice + 1], "bob", line("bob takes ledger")),
        "{text}"
    );
    assert!(
        held(lines[bob + 1], "alice", line("alice takes accounts")),
        "{text}"
    );
    assert_eq!(
        lines[5],
        "exiting: alice and bob stay blocked (daemon threads)"
    );
}

#[cfg(unix)]
#[test]
fn the_watchdog_aborts_when_every_non_daemon_thread_waits_on_a_condition() {
    use std::os::unix::process::ExitStatusExt;
    let exe = common::example_path("deadlock");
    let out = Command::new(exe)
        .arg("--all-blocked")
        .env("THREADKIT_DEADLOCK", "abort:20")
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    let src = include_str!("../examples/deadlock.rs");
    let line = |marker: &str| src.lines().position(|l| l.contains(marker)).unwrap() + 1;
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0], "threadkit: deadlock: all 2 non-daemon threads are blocked with no timeout",
        "{err}"
    );
    for (i, who, marker) in [
        (1, "MainThread", "main waits for a job"),
        (2, "worker", "worker waits for a job"),
    ] {
        assert!(
            lines[i].starts_with(&format!(
                "  thread \"{who}\" waits for Condition \"jobs\" at 0x"
            )),
            "{err}"
        );
        assert!(
            lines[i].contains(&format!(
                " (condition) at examples/deadlock.rs:{}:",
                line(marker)
            )),
            "{err}"
        );
    }
    assert!(
        lines[3].starts_with("threadkit thread dump: 3 threads"),
        "{err}"
    );
    assert_eq!(
        *lines.last().unwrap(),
        "threadkit: aborting on deadlock (THREADKIT_DEADLOCK=abort)"
    );
}

#[cfg(unix)]
#[test]
fn a_one_worker_pool_whose_task_waits_for_a_task_queued_behind_it_is_reported() {
    use std::os::unix::process::ExitStatusExt;
    let exe = common::example_path("deadlock");
    let out = Command::new(exe)
        .arg("--future")
        .env("THREADKIT_DEADLOCK", "abort:20")
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    let src = include_str!("../examples/deadlock.rs");
    let line = |marker: &str| src.lines().position(|l| l.contains(marker)).unwrap() + 1;
    let lines: Vec<&str> = err.lines().collect();
    // Found as the pool's own deadlock (the worker waits for a task queued behind it), not
    // only as "every thread is blocked"; main, which waits for the worker's own task, is not
    // one of its steps.
    assert_eq!(
        lines[0],
        "threadkit: deadlock: pool \"solo\" can start no queued task: all 1 of its workers are \
         blocked for good",
        "{err}"
    );
    assert!(
        lines[1].starts_with("  thread \"solo_0\" waits for Future at 0x"),
        "{err}"
    );
    assert!(
        lines[1].contains(&format!(
            " (future) at examples/deadlock.rs:{}:",
            line("the worker waits for inner")
        )),
        "{err}"
    );
    assert_eq!(
        lines[2], "    queued in pool \"solo\", not started",
        "{err}"
    );
    assert!(
        lines[3].starts_with("threadkit thread dump: 3 threads"),
        "{err}"
    );
}

/// A pool of one worker whose task waits for a task queued behind it, named `prefix`; the
/// line of that wait is stored in `line`. The outer task's future answers whether the inner
/// task's result came (false once the inner task is cancelled).
fn one_worker_waiting_behind_itself(
    prefix: &str,
    line: &'static AtomicU32,
    timeout: Option<Duration>,
) -> (
    Arc<threadkit::ThreadPoolExecutor>,
    threadkit::TaskFuture<bool>,
) {
    let pool = Arc::new(
        threadkit::ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix(prefix)
            .build()
            .unwrap(),
    );
    let p = pool.clone();
    let outer = pool
        .submit(move || {
            let inner = p.submit(|| 42).unwrap();
            line.store(line!() + 2, Ordering::Relaxed);
            match timeout {
                None => inner.result().is_ok(),
                Some(t) => inner.result_timeout(t).is_ok(),
            }
        })
        .unwrap();
    (pool, outer)
}

/// Polls `deadlocks()` until a pool-starvation report names pool `name`.
fn starved(name: &str) -> Deadlock {
    let start = Instant::now();
    loop {
        if let Some(d) = observe::deadlocks()
            .into_iter()
            .find(|d| d.pool() == Some(name))
        {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "pool {name} never reported"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_worker_waiting_for_a_task_queued_behind_it_is_reported_while_main_runs() {
    static LINE: AtomicU32 = AtomicU32::new(0);
    let (pool, outer) = one_worker_waiting_behind_itself("starved", &LINE, None);
    // This thread keeps running (it polls): only the pool is stuck.
    let d = starved("starved");
    let Deadlock::PoolStarved {
        pool: name,
        workers,
        steps,
        ..
    } = &d
    else {
        panic!("{d}")
    };
    assert_eq!((name.as_str(), *workers), ("starved", 1));
    assert_eq!(steps.len(), 1, "{d}");
    let s = &steps[0];
    assert_eq!(s.thread(), "starved_0");
    assert_eq!(s.wait().kind(), WaitKind::Future);
    assert_eq!(s.wait().object().kind(), threadkit::ObjectKind::Future);
    assert_eq!(s.wait().owner_ident(), None, "queued: nobody runs it");
    assert_eq!(s.wait().location().line(), LINE.load(Ordering::Relaxed));
    assert_eq!(s.queued_in(), Some("starved"));
    let text = d.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "deadlock: pool \"starved\" can start no queued task: all 1 of its workers are blocked \
         for good",
        "{text}"
    );
    assert!(
        lines[1].starts_with("  thread \"starved_0\" waits for Future at 0x")
            && lines[1].ends_with(&format!(
                " (future) at {}:{}:{}",
                file!(),
                LINE.load(Ordering::Relaxed),
                s.wait().location().column()
            )),
        "{text}"
    );
    assert_eq!(
        lines[2], "    queued in pool \"starved\", not started",
        "{text}"
    );
    assert_eq!(lines.len(), 3, "{text}");
    // The way out: cancelling the queued task ends the worker's wait.
    pool.shutdown(true, true).unwrap();
    assert_eq!(outer.result().ok(), Some(&false));
    assert!(
        !observe::deadlocks()
            .iter()
            .any(|d| d.pool() == Some("starved"))
    );
}

/// Waits until the thread named `name` (found by a dump) shows a wait satisfying `pred`.
fn blocked(name: &str, pred: impl Fn(&threadkit::observe::WaitDump) -> bool) {
    common::dump_until(name, |d| {
        d.threads()
            .iter()
            .any(|t| t.name() == name && t.wait().is_some_and(&pred))
    });
}

/// No report names pool `name`, over a few searches (each reads every record twice).
fn never_starved(name: &str) {
    for _ in 0..20 {
        let found = observe::deadlocks();
        assert!(
            !found
                .iter()
                .any(|d| d.pool() == Some(name)
                    || d.steps().iter().any(|s| s.queued_in() == Some(name))),
            "{found:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_worker_waiting_with_a_timeout_for_a_task_queued_behind_it_is_not_reported() {
    static LINE: AtomicU32 = AtomicU32::new(0);
    let (pool, outer) =
        one_worker_waiting_behind_itself("patient-pool", &LINE, Some(Duration::from_secs(600)));
    blocked("patient-pool_0", |w| {
        w.kind() == WaitKind::Future && w.timed()
    });
    never_starved("patient-pool");
    pool.shutdown(true, true).unwrap();
    assert_eq!(outer.result().ok(), Some(&false));
}

#[test]
fn a_queued_task_behind_a_worker_that_a_running_thread_can_wake_is_not_reported() {
    // The only worker waits on an event (which this thread, running, may set); another
    // thread waits for a task queued behind it. Nothing is stuck for good.
    let go = Arc::new(threadkit::Event::named("go"));
    let pool = Arc::new(
        threadkit::ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("gated")
            .build()
            .unwrap(),
    );
    let g = go.clone();
    let first = pool.submit(move || g.wait()).unwrap();
    let queued = Arc::new(pool.submit(|| 7).unwrap());
    let q = queued.clone();
    let waiter = Thread::builder()
        .name("gated-waiter")
        .spawn(move || *q.result().unwrap())
        .unwrap();
    blocked("gated_0", |w| w.kind() == WaitKind::Event);
    blocked("gated-waiter", |w| {
        w.kind() == WaitKind::Future && w.owner_ident().is_none()
    });
    never_starved("gated");
    go.set();
    assert_eq!(waiter.join().unwrap(), 7);
    first.result().unwrap();
    pool.shutdown(true, false).unwrap();
}
