//! The recorder: global state, so these tests take `SERIAL` and use idents no real thread
//! has (any other test that blocks while one of these records shows up under its own ident).

use std::panic::Location;
use std::sync::Mutex;

use super::*;

static SERIAL: Mutex<()> = Mutex::new(());

/// Idents far from any real thread's.
const BASE: u64 = 0xABCD_0000_0000_0000;

fn serial() -> MutexGuard<'static, ()> {
    lock(&SERIAL)
}

fn own_events(t: &Timeline, thread: u64) -> Vec<EventKind> {
    t.events()
        .iter()
        .filter(|e| e.thread == thread)
        .map(|e| e.kind.clone())
        .collect()
}

#[test]
fn each_threads_events_come_back_in_order_and_pair_into_spans() {
    let _s = serial();
    let here = Location::caller();
    assert!(start());
    std::thread::scope(|s| {
        for i in 0..4 {
            s.spawn(move || {
                let me = BASE + i;
                thread_started(me, &format!("worker-{i}"));
                blocked(me, "lock", 100 + i, Some("db"), here);
                unblocked(me);
                blocked(me, "condition", 200, None, here);
                unblocked(me);
                thread_ended(me);
            });
        }
    });
    assert!(stop());
    let t = snapshot();
    for i in 0..4 {
        let me = BASE + i;
        assert_eq!(
            own_events(&t, me),
            [
                EventKind::ThreadStart {
                    name: format!("worker-{i}")
                },
                EventKind::Blocked {
                    kind: "lock",
                    object: 100 + i,
                    name: Some("db".into()),
                    location: here
                },
                EventKind::Unblocked,
                EventKind::Blocked {
                    kind: "condition",
                    object: 200,
                    name: None,
                    location: here
                },
                EventKind::Unblocked,
                EventKind::ThreadEnd,
            ]
        );
        let lanes = t.lanes();
        let lane = lanes.iter().find(|l| l.thread == me).unwrap();
        assert_eq!(lane.name.as_deref(), Some(format!("worker-{i}").as_str()));
        let spans: Vec<(&str, u64, bool)> = lane
            .spans
            .iter()
            .map(|s| (s.kind, s.object, s.finished))
            .collect();
        assert_eq!(spans, [("lock", 100 + i, true), ("condition", 200, true)]);
        let (start_ns, end_ns) = (lane.start_ns.unwrap(), lane.end_ns.unwrap());
        assert!(start_ns <= lane.spans[0].start_ns && lane.spans[1].end_ns <= end_ns);
        assert!(end_ns <= t.end_ns());
    }
}

#[test]
fn nothing_is_recorded_while_off_and_start_drops_the_last_recording() {
    let _s = serial();
    let here = Location::caller();
    let me = BASE + 10;
    start();
    blocked(me, "event", 1, None, here);
    stop();
    blocked(me, "event", 2, None, here); // off: dropped
    unblocked(me);
    let kept = own_events(&snapshot(), me);
    assert_eq!(
        kept,
        [EventKind::Blocked {
            kind: "event",
            object: 1,
            name: None,
            location: here
        }]
    );
    // The stopped recording still reads the same, and its wait is unfinished.
    let lanes = snapshot().lanes();
    let lane = lanes.iter().find(|l| l.thread == me).unwrap();
    assert!(!lane.spans[0].finished);
    assert!(start());
    assert!(
        own_events(&snapshot(), me).is_empty(),
        "a new recording starts empty"
    );
    stop();
}

#[test]
fn a_wait_still_open_is_shown_until_the_snapshot() {
    let _s = serial();
    let me = BASE + 20;
    start();
    blocked(me, "barrier", 5, Some("b"), Location::caller());
    let first = snapshot();
    let second = snapshot();
    stop();
    let span = |t: &Timeline| {
        t.lanes()
            .into_iter()
            .find(|l| l.thread == me)
            .unwrap()
            .spans[0]
            .clone()
    };
    assert!(!span(&first).finished);
    assert_eq!(span(&first).end_ns, first.end_ns());
    assert!(span(&second).end_ns >= span(&first).end_ns);
}

#[test]
fn a_thread_that_started_before_the_recording_is_named_from_the_registry() {
    let _s = serial();
    let me = crate::get_ident();
    let name = crate::current_thread().name();
    start();
    blocked(me, "sleep", 0, None, Location::caller());
    unblocked(me);
    stop();
    let t = snapshot();
    assert_eq!(
        own_events(&t, me)[0],
        EventKind::ThreadName { name: name.clone() }
    );
    let lanes = t.lanes();
    let lane = lanes.iter().find(|l| l.thread == me).unwrap();
    assert_eq!(lane.name.as_deref(), Some(name.as_str()));
    assert_eq!(lane.start_ns, None);
}

#[test]
fn an_event_recorded_while_the_thread_is_torn_down_is_kept() {
    struct EndsOnDrop(u64);
    impl Drop for EndsOnDrop {
        fn drop(&mut self) {
            thread_ended(self.0);
        }
    }
    thread_local! {
        static GUARD: std::cell::RefCell<Option<EndsOnDrop>> = const { std::cell::RefCell::new(None) };
    }
    let _s = serial();
    let me = BASE + 30;
    start();
    std::thread::spawn(move || {
        // The guard's slot is registered before the recorder's buffer, so (on platforms
        // that destroy thread-locals in reverse order) the buffer is gone when it drops.
        GUARD.with(|g| *g.borrow_mut() = Some(EndsOnDrop(me)));
        thread_started(me, "short");
    })
    .join()
    .unwrap();
    stop();
    if cfg!(target_os = "linux") {
        // glibc destroys thread-locals in reverse order: the orphan path was taken.
        assert!(lock(&STATE).orphans.iter().any(|r| r.thread == me));
    }
    assert_eq!(
        own_events(&snapshot(), me),
        [
            EventKind::ThreadStart {
                name: "short".into()
            },
            EventKind::ThreadEnd
        ]
    );
}

#[test]
fn snapshots_taken_while_threads_record_lose_and_reorder_nothing() {
    let _s = serial();
    let here = Location::caller();
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 2_000;
    start();
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..THREADS)
            .map(|i| {
                s.spawn(move || {
                    for r in 0..ROUNDS {
                        blocked(BASE + 40 + i, "lock", r, None, here);
                        unblocked(BASE + 40 + i);
                    }
                })
            })
            .collect();
        // Snapshots while they write: each sees a prefix of every thread's events.
        while !writers.iter().all(|w| w.is_finished()) {
            let t = snapshot();
            for i in 0..THREADS {
                let events = own_events(&t, BASE + 40 + i);
                for (n, e) in events.iter().enumerate() {
                    match e {
                        EventKind::Blocked { object, .. } => assert_eq!(*object, n as u64 / 2),
                        EventKind::Unblocked => assert_eq!(n % 2, 1),
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
        }
    });
    stop();
    let t = snapshot();
    for i in 0..THREADS {
        let lanes = t.lanes();
        let lane = lanes.iter().find(|l| l.thread == BASE + 40 + i).unwrap();
        let objects: Vec<u64> = lane.spans.iter().map(|s| s.object).collect();
        assert_eq!(objects, (0..ROUNDS).collect::<Vec<_>>());
        assert!(
            lane.spans
                .iter()
                .all(|s| s.finished && s.start_ns <= s.end_ns)
        );
    }
}
