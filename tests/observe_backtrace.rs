//! Wait backtraces (`observe::backtrace`): captured when a wait begins while the switch is
//! on, shown by dumps (text and JSON), absent while it is off. In a binary of its own: a
//! backtrace's first symbolization holds std's backtrace lock for a while, which would stall
//! the captures of other tests' waits.

use threadkit::observe;
use threadkit::{Lock, Thread};

mod common;
use common::dump_until;

/// Blocks on `lock` from a frame with a name a backtrace can show.
#[inline(never)]
fn waits_in_a_function_with_a_findable_name(lock: &'static Lock) {
    drop(std::hint::black_box(lock).guard());
}

#[test]
fn wait_backtraces_show_where_a_blocked_thread_was_called_from_only_while_on() {
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
