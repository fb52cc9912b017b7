//! An idle pool costs no CPU: 32 started, idle workers use under 1 ms of CPU time over one
//! second (getrusage of the whole process, which does nothing else meanwhile). Alone in its
//! file so that no other test's threads are counted.

#![cfg(unix)]

use std::sync::Arc;
use std::time::Duration;

use threadkit::{Barrier, ThreadPoolExecutor};

/// User + system CPU time of the whole process.
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut u), 0);
        u
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
fn thirty_two_idle_workers_use_under_1ms_cpu_per_second() {
    let pool = ThreadPoolExecutor::new(32).unwrap();
    // 32 tasks that meet at a barrier: all 32 workers must start.
    let all = Arc::new(Barrier::new(32).unwrap());
    let fs: Vec<_> = (0..32)
        .map(|_| {
            let b = all.clone();
            pool.submit(move || b.wait().map(|_| ())).unwrap()
        })
        .collect();
    for f in &fs {
        f.result().unwrap().as_ref().unwrap();
    }
    pool.wait_idle();
    assert_eq!(pool.threads().len(), 32);
    // Let the workers settle into their sleep (past any spinning), then measure.
    std::thread::sleep(Duration::from_millis(100));
    let before = process_cpu();
    std::thread::sleep(Duration::from_secs(1));
    let used = process_cpu() - before;
    println!("32 idle workers: {used:?} CPU over 1 s");
    assert!(
        used < Duration::from_millis(1),
        "{used:?} of CPU while idle"
    );
    assert!(pool.threads().iter().all(|t| {
        t.waiting()
            .is_some_and(|w| w.kind() == threadkit::WaitKind::QueueGet)
    }));
}
