//! A thread dump and a deadlock search over 1 000 real threads (issue 15: "measured, in the
//! low milliseconds").
//!
//! 1 000 threads form one chain: thread i holds lock i and waits for lock i + 1; the last
//! waits on an event. So every thread is blocked, 999 of them on a lock with a live owner:
//! the dump reads 1 000 records and resolves 999 owners; the search reads every record
//! twice and walks a 2 000-node graph (no cycle: the chain ends at the event). Held-lock
//! tracking is on, so the dump copies each thread's list too.
//!
//! Short run: `cargo bench --bench observe_dump -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use threadkit::{Event, Lock, Thread, observe};

const THREADS: usize = 1_000;

fn bench(c: &mut Criterion) {
    observe::set_held_tracking(true);
    let locks: Arc<Vec<Lock>> = Arc::new((0..THREADS).map(|_| Lock::named("link")).collect());
    let all_held = Arc::new(Event::named("all held"));
    let release = Arc::new(Event::named("release"));
    let held = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for i in 0..THREADS {
        let (locks, all_held, release, held) = (
            locks.clone(),
            all_held.clone(),
            release.clone(),
            held.clone(),
        );
        let t = Thread::builder()
            .name(format!("chain-{i}"))
            .daemon(true)
            .stack_size(64 * 1024)
            .spawn(move || {
                let _mine = locks[i].guard();
                if held.fetch_add(1, Ordering::SeqCst) + 1 == THREADS {
                    all_held.set();
                }
                all_held.wait();
                match locks.get(i + 1) {
                    Some(next) => drop(next.guard()),
                    None => release.wait(),
                }
            })
            .expect("thread starts");
        threads.push(t);
    }
    all_held.wait();
    // Every thread blocked (each re-checks until its record is there).
    loop {
        let d = observe::dump();
        let blocked = d
            .threads()
            .iter()
            .filter(|t| t.wait().is_some() && t.name().starts_with("chain-"))
            .count();
        if blocked == THREADS {
            break;
        }
        std::thread::yield_now();
    }
    let mut g = c.benchmark_group("observe_1000_threads");
    g.sample_size(20);
    g.bench_function("dump", |b| b.iter(|| black_box(observe::dump())));
    g.bench_function("dump_to_string", |b| {
        b.iter(|| black_box(observe::dump().to_string()))
    });
    g.bench_function("deadlocks", |b| {
        b.iter(|| {
            let found = observe::deadlocks();
            assert!(found.is_empty());
            black_box(found)
        })
    });
    g.finish();
    release.set();
    for t in threads {
        t.join().expect("chain unwinds");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
