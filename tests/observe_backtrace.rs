//! Wait backtraces (`observe::backtrace`): captured when a wait begins while the switch is
//! on, shown by dumps (text and JSON), absent while it is off. In a binary of its own: a
//! backtrace's first symbolization holds std's backtrace lock for a while, which would stall
//! the captures of other tests' waits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::observe::{self, Deadlock};
use threadkit::{Barrier, Lock, Thread};

mod common;
use common::dump_until;

/// The switch is process-wide: each test holds this while it depends on the switch's state.
static SWITCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn switch() -> std::sync::MutexGuard<'static, ()> {
    SWITCH.lock().unwrap_or_else(|e| e.into_inner())
}

/// Blocks on `lock` from a frame with a name a backtrace can show.
#[inline(never)]
fn waits_in_a_function_with_a_findable_name(lock: &'static Lock) {
    drop(std::hint::black_box(lock).guard());
}

#[test]
fn wait_backtraces_show_where_a_blocked_thread_was_called_from_only_while_on() {
    let _switch = switch();
    static GATE: Lock = Lock::named("backtrace-gate");
    let blocked_on = |on: bool| {
        observe::backtrace::set_wait_backtraces(on);
        let g = GATE.guard();
        let t = Thread::builder()
            .name("bt-waiter")
            .spawn(|| waits_in_a_function_with_a_findable_name(&GATE))
            .unwrap();
        let ident = t.thread().ident().unwrap();
        // The backtrace is captured just after the record is written: while on, a dump may
        // see the wait a moment before its backtrace.
        let d = dump_until("bt-waiter blocked", |d| {
            d.thread(ident)
                .and_then(|t| t.wait())
                .is_some_and(|w| !on || w.backtrace().is_some())
        });
        observe::backtrace::set_wait_backtraces(false);
        drop(g);
        t.join().unwrap();
        d.thread(ident).unwrap().wait().unwrap().clone()
    };
    let off = blocked_on(false);
    assert!(off.backtrace().is_none());
    assert!(!off.to_string().contains("backtrace:"));

    let on = blocked_on(true);
    let trace = on.backtrace().expect("captured while on").to_string();
    assert!(
        trace.contains("waits_in_a_function_with_a_findable_name"),
        "{trace}"
    );
    let text = on.to_string();
    assert!(text.contains("\n        backtrace:\n          "), "{text}");
    assert!(
        text.contains("waits_in_a_function_with_a_findable_name"),
        "{text}"
    );
    #[cfg(feature = "serde")]
    {
        let d = observe::dump();
        let v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
        // Nobody of this test is blocked any more: every wait's backtrace is text or null.
        for t in v["threads"].as_array().unwrap() {
            let bt = &t["wait"]["backtrace"];
            assert!(bt.is_null() || bt.is_string(), "{t}");
        }
    }
}

#[test]
fn a_two_lock_deadlock_report_shows_each_waits_backtrace() {
    let _switch = switch();
    observe::backtrace::set_wait_backtraces(true);
    let a = Arc::new(Lock::named("bt-a"));
    let b = Arc::new(Lock::named("bt-b"));
    let both = Arc::new(Barrier::new(2).unwrap());
    // Daemons: they stay blocked on each other until the test process exits.
    let spawn = |name: &str, first: Arc<Lock>, second: Arc<Lock>| {
        let both = both.clone();
        Thread::builder()
            .name(name)
            .daemon(true)
            .spawn(move || {
                let _first = first.guard();
                let _ = both.wait();
                let _second = second.guard();
            })
            .unwrap()
    };
    let one = spawn("bt-one", a.clone(), b.clone());
    let two = spawn("bt-two", b.clone(), a.clone());
    let ids = [one.thread(), two.thread()].map(|t| t.ident().unwrap());
    // The backtrace is captured just after the record is written: the cycle may be found a
    // moment before both captures are in.
    let start = Instant::now();
    let report = loop {
        let found = observe::deadlocks().into_iter().find(|d| {
            ids.iter().all(|i| {
                d.steps()
                    .iter()
                    .any(|s| s.ident() == *i && s.wait().backtrace().is_some())
            })
        });
        if let Some(d) = found {
            break d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no report with both backtraces: {:?}",
            observe::deadlocks()
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    observe::backtrace::set_wait_backtraces(false);
    assert!(matches!(report, Deadlock::Cycle(_)), "{report}");
    assert_eq!(report.steps().len(), 2, "{report}");
    // The frame of the thread's closure names this test in a debug build; an optimised
    // build inlines the closure into its shim, and the lock's slow path is what is left.
    let test_fn = if cfg!(debug_assertions) {
        "a_two_lock_deadlock_report_shows_each_waits_backtrace"
    } else {
        "Lock::acquire"
    };
    for step in report.steps() {
        let trace = step.wait().backtrace().unwrap().to_string();
        assert!(trace.contains(test_fn), "{}: {trace}", step.thread());
    }
    // The text: each step's lines, then its backtrace indented under it.
    let text = report.to_string();
    for (name, lock) in [("bt-one", &b), ("bt-two", &a)] {
        let at = text
            .find(&format!("thread \"{name}\" waits for {}", lock.id()))
            .unwrap_or_else(|| panic!("{name}: {text}"));
        let rest = &text[at..];
        let end = rest[1..].find("\n  thread ").map_or(rest.len(), |i| i + 1);
        let block = &rest[..end];
        assert!(block.contains("\n    backtrace:\n      "), "{block}");
        assert!(block.contains(test_fn), "{block}");
    }
    #[cfg(feature = "serde")]
    {
        let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(v["kind"], "cycle");
        let threads = v["threads"].as_array().unwrap();
        assert_eq!(threads.len(), 2);
        for t in threads {
            assert!(
                ["bt-one", "bt-two"].contains(&t["name"].as_str().unwrap()),
                "{t}"
            );
            let bt = t["wait"]["backtrace"].as_str().unwrap_or_default();
            assert!(bt.contains(test_fn), "{t}");
        }
        // Serialize writes the same JSON.
        assert_eq!(serde_json::to_string(&report).unwrap(), report.to_json());
    }
}
