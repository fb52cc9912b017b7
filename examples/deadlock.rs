//! Two threads take two named locks in opposite orders and deadlock; a watchdog finds the
//! cycle and the program prints its report, then exits on its own (the two threads are
//! daemons, left blocked).
//!
//! Run it: `cargo run --example deadlock`. The report names both threads, both locks, where
//! each thread waits and where the other took the lock it waits for.
//!
//! `cargo run --example deadlock -- --all-blocked` shows Go's global case instead: every
//! non-daemon thread (main and a worker) waits on a condition nobody will notify; run it with
//! `THREADKIT_DEADLOCK=abort:50` and the watchdog prints the report and a dump, then aborts.
//! `-- --future` does the same with a one-worker pool whose task waits for a task queued
//! behind it: main waits for the outer task, held by the worker, which waits for the inner
//! one that nobody is left to run.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use threadkit::observe::{self, WatchAction};
use threadkit::{Barrier, Lock, Thread};

static ACCOUNTS: Lock = Lock::named("accounts");
static LEDGER: Lock = Lock::named("ledger");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--all-blocked") {
        return all_blocked();
    }
    if std::env::args().any(|a| a == "--future") {
        return future_behind_itself();
    }
    // Held-lock tracking lets the report say where each owner took its lock.
    observe::set_held_tracking(true);
    let (tx, rx) = mpsc::channel();
    let dog = observe::watch(
        Duration::from_millis(20),
        WatchAction::Callback(Box::new(move |found| {
            let _ = tx.send(found.iter().map(|d| d.to_string()).collect::<Vec<_>>());
        })),
    )?;

    // Both take their first lock before either takes its second: a sure deadlock.
    let both_hold = Arc::new(Barrier::new(2)?.with_name("both hold"));
    let b = both_hold.clone();
    Thread::builder()
        .name("alice")
        .daemon(true)
        .spawn(move || {
            let _a = ACCOUNTS.guard(); // alice takes accounts
            let _ = b.wait();
            let _l = LEDGER.guard(); // alice waits for ledger
        })?;
    let b = both_hold.clone();
    Thread::builder().name("bob").daemon(true).spawn(move || {
        let _l = LEDGER.guard(); // bob takes ledger
        let _ = b.wait();
        let _a = ACCOUNTS.guard(); // bob waits for accounts
    })?;

    let reports = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "no deadlock found in 30 s")?;
    dog.stop();
    for report in reports {
        println!("{report}");
    }
    println!("exiting: alice and bob stay blocked (daemon threads)");
    Ok(())
}

/// Main and a worker wait on a condition nobody notifies: with `THREADKIT_DEADLOCK=abort` the
/// watchdog reports it and aborts the process.
fn all_blocked() -> Result<(), Box<dyn std::error::Error>> {
    let _dog = observe::watch_from_env()?;
    let jobs = Arc::new(threadkit::Condition::named("jobs"));
    let j = jobs.clone();
    let worker = Thread::builder().name("worker").spawn(move || {
        let _g = j.guard();
        let _ = j.wait(); // worker waits for a job
    })?;
    {
        let _g = jobs.guard();
        let _ = jobs.wait(); // main waits for a job
    }
    worker.join()?;
    Ok(())
}

/// A one-worker pool whose task waits for a task queued behind it, and main waits for the
/// first: with `THREADKIT_DEADLOCK=abort` the watchdog reports it and aborts the process.
fn future_behind_itself() -> Result<(), Box<dyn std::error::Error>> {
    let _dog = observe::watch_from_env()?;
    let pool = Arc::new(
        threadkit::ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("solo")
            .build()?,
    );
    let p = pool.clone();
    let outer = pool.submit(move || {
        let inner = p.submit(|| 42).map_err(|_| "submit refused")?;
        inner.result().copied().map_err(|e| e.to_string()) // the worker waits for inner
    })?;
    let _ = outer.result(); // main waits for outer
    Ok(())
}
