//! The timeline of a real run: `examples/timeline.rs` run as a process writes a page with a
//! lane for each of its five threads and waits of each primitive it blocks on; and, in
//! process, a recorded lock wait and thread start/end land on the right lanes.

mod common;

use std::process::Command;
use std::sync::Arc;

use threadkit::observe::timeline::{self, EventKind};
use threadkit::{Lock, Thread};

#[test]
fn the_example_writes_a_page_with_a_lane_per_thread() {
    let dir = std::env::temp_dir().join(format!("threadkit-timeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(common::example_path("timeline"))
        .arg(&dir)
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("24 items, ledger total 300"));
    let page_line = format!("wrote {} (5 lanes)", dir.join("timeline.html").display());
    assert_eq!(lines.next(), Some(page_line.as_str()));
    let page = std::fs::read_to_string(dir.join("timeline.html")).unwrap();
    assert_eq!(page.matches("<g class=\"lane\"").count(), 5);
    for name in ["MainThread", "producer", "worker-0", "worker-1", "worker-2"] {
        assert!(page.contains(name), "no lane for {name}");
    }
    // Main waits on joins; the workers on the queue (at least at the start, when it is
    // empty); the producer on its sleeps. Lock and full-queue waits depend on the timing.
    for kind in ["join", "queue get", "sleep"] {
        assert!(
            page.contains(&format!("data-kind=\"{kind}\"")),
            "no {kind} wait drawn"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_recorded_run_has_the_threads_and_their_lock_wait() {
    assert!(timeline::start());
    let lock = Arc::new(Lock::new());
    let guard = lock.guard();
    let l = lock.clone();
    let t = Thread::builder()
        .name("waiter")
        .target(move || drop(l.guard()));
    t.start().unwrap();
    while t.waiting().is_none() {
        std::thread::yield_now();
    }
    drop(guard);
    t.join().unwrap();
    assert!(timeline::stop());
    let recorded = timeline::snapshot();
    let ident = t.ident().expect("started");
    let mine: Vec<&EventKind> = recorded
        .events()
        .iter()
        .filter(|e| e.thread == ident)
        .map(|e| &e.kind)
        .collect();
    assert!(
        matches!(mine.first(), Some(EventKind::ThreadStart { name }) if name == "waiter"),
        "{mine:?}"
    );
    assert!(
        matches!(mine.last(), Some(EventKind::ThreadEnd)),
        "{mine:?}"
    );
    let lane = recorded
        .lanes()
        .into_iter()
        .find(|l| l.thread == ident)
        .expect("a lane for the waiter");
    let waits: Vec<_> = lane.spans.iter().filter(|s| s.kind == "lock").collect();
    assert_eq!(waits.len(), 1, "{:?}", lane.spans);
    assert_eq!(waits[0].object, lock.id().addr() as u64);
    assert!(waits[0].finished);
}
