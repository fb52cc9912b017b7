//! Starting and finishing many short threads leaves the registry at its starting size.
//!
//! The only test in its binary, so the process-wide counts it compares belong to it alone.

use threadkit::{Thread, active_count, current_thread, enumerate};

#[test]
fn many_short_threads_leave_the_registry_as_it_was() {
    let before = active_count();
    let listed_before = enumerate();

    // 100 000 threadkit threads, from two spawners at a time.
    const PER_SPAWNER: usize = 50_000;
    let spawners: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..PER_SPAWNER {
                    let t = Thread::new(|| {});
                    t.start().unwrap();
                    t.join().unwrap();
                }
            })
        })
        .collect();
    for s in spawners {
        s.join().unwrap();
    }

    // 5 000 foreign threads that each get a dummy entry.
    for _ in 0..5_000 {
        std::thread::spawn(|| {
            let me = current_thread();
            assert!(enumerate().contains(&me));
        })
        .join()
        .unwrap();
    }

    // The two spawners became dummies while they lived; they are gone too.
    assert_eq!(active_count(), before);
    assert_eq!(enumerate(), listed_before);
}
