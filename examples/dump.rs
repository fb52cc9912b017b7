//! A thread dump of a program at work: a pool of two workers waiting for jobs on a queue, a
//! thread waiting on a condition, and the main thread holding a lock while it takes the dump.
//!
//! Run it: `cargo run --example dump` (or send SIGQUIT, Ctrl-\, to any program that called
//! `observe::dump_on_signal()`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use threadkit::observe;
use threadkit::queue::Queue;
use threadkit::{Condition, Lock, Thread, ThreadPoolExecutor, WaitKind};

static CONFIG: Lock = Lock::named("config");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Held-lock tracking lets the dump list the locks each thread holds.
    observe::set_held_tracking(true);
    let jobs: Queue<Option<u64>> = Queue::named(0, "jobs");
    let ready = Arc::new(Condition::named("ready"));
    let go = Arc::new(AtomicBool::new(false));

    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .thread_name_prefix("crunch")
        .build()?;
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let jobs = jobs.clone();
        tasks.push(pool.submit(move || {
            let mut sum = 0;
            while let Ok(Some(n)) = jobs.get() {
                // (the line above: a worker waits for a job)
                sum += n;
            }
            sum
        })?);
    }
    let (r, g) = (ready.clone(), go.clone());
    let waiter = Thread::builder().name("waiter").spawn(move || {
        let _l = r.guard();
        let _ = r.wait_for(|| g.load(Ordering::Relaxed)); // the waiter waits to be told
    })?;

    // Take the dump once all three are asleep (a dump never blocks: poll it).
    let _config = CONFIG.guard(); // main holds config
    let dump = loop {
        let dump = observe::dump();
        let asleep = dump
            .threads()
            .iter()
            .filter(|t| {
                t.wait().is_some_and(|w| {
                    matches!(w.kind(), WaitKind::QueueGet | WaitKind::Condition)
                        && w.object().name().is_some()
                })
            })
            .count();
        if asleep == 3 {
            break dump;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    println!("{dump}");

    // Let everyone finish.
    for n in 1..=10 {
        jobs.put(Some(n))?;
    }
    jobs.put(None)?;
    jobs.put(None)?;
    let mut total = 0;
    for t in tasks {
        total += *t.result()?;
    }
    {
        let _l = ready.guard();
        go.store(true, Ordering::Relaxed);
        ready.notify_all()?;
    }
    waiter.join()?;
    pool.shutdown(true, false)?;
    println!();
    println!("total: {total}");
    Ok(())
}
