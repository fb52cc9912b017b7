//! What the benches share: a probe of the machine's mode (two parallel cores, or one
//! time-sliced core), printed beside contended results so a reader knows which one they saw.
//!
//! Include with `#[path = "support/mod.rs"] mod support;`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Ping-pong on an atomic for 20 ms between two spinning threads: thousands of round trips
/// mean two truly parallel cores, a handful mean one time-sliced core.
pub fn cpu_mode() -> &'static str {
    let turn = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let trips = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let t = turn.load(Ordering::Acquire);
                if !t.is_multiple_of(2) {
                    turn.store(t + 1, Ordering::Release);
                }
            }
        });
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(20) {
            let t = turn.load(Ordering::Acquire);
            if t.is_multiple_of(2) {
                turn.store(t + 1, Ordering::Release);
            }
        }
        stop.store(true, Ordering::Relaxed);
        turn.load(Ordering::Relaxed) / 2
    });
    if trips > 1000 {
        "two parallel cores"
    } else {
        "one time-sliced core"
    }
}
