//! Chaos mode (`RUSTFLAGS="--cfg threadkit_chaos"`, tests only): `park` misbehaves in every
//! way its contract allows, so that a primitive which forgets to re-check its condition fails
//! its tests instead of failing a user.
//!
//! Each call draws from a per-thread xorshift generator:
//!
//! - one call in two returns [`ParkResult::Invalid`] at once, without calling `validate`,
//!   queueing or sleeping: exactly what a `validate` that returned false would give. The caller
//!   must re-check its state and wait again. None of `validate`, `before_sleep` and
//!   `timed_out` ran: a caller that releases something in `before_sleep` (a lock, in a
//!   condition or a queue wait) must note whether it ran, and if not still holds it.
//! - one call in four first yields the processor, widening the window between the caller's
//!   last look at its state and the parking lot's `validate`.
//! - after a real park, one return in four yields before the caller sees the result, widening
//!   the window between being woken and re-checking.
//!
//! Chaos never returns `Unparked` or `TimedOut` by itself: parking_lot_core promises that
//! `Unparked` means an unparker took the thread out of the queue (and ran its callback), and
//! `TimedOut` that the deadline passed, and primitives may rely on both.
//!
//! The generators are seeded from the clock and the process id, so each run draws differently;
//! `THREADKIT_CHAOS_SEED` (a `u64`) fixes the seed instead (each thread mixes in its own
//! number; the thread schedule still varies between runs).

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ::parking_lot_core::{ParkResult, ParkToken};

/// What one draw decides.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chaos {
    Calm,
    Yield,
    Spurious,
}

std::thread_local! {
    /// The thread's xorshift state; 0 until first drawn.
    static STATE: Cell<u64> = const { Cell::new(0) };
}

fn base_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        std::env::var("THREADKIT_CHAOS_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                mix(nanos ^ u64::from(std::process::id()).rotate_left(32))
            })
    })
}

/// splitmix64: spreads consecutive thread numbers over the whole state space.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn next() -> u64 {
    static THREADS: AtomicU64 = AtomicU64::new(0);
    STATE
        .try_with(|s| {
            let mut x = s.get();
            if x == 0 {
                x = mix(base_seed() ^ mix(THREADS.fetch_add(1, Ordering::Relaxed))) | 1;
            }
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.set(x);
            x
        })
        // A thread tearing down its thread-locals: no chaos.
        .unwrap_or(u64::MAX)
}

fn draw() -> Chaos {
    match next() % 4 {
        0 | 1 => Chaos::Spurious,
        2 => Chaos::Yield,
        _ => Chaos::Calm,
    }
}

/// `parking_lot_core::park`, with chaos (see the module docs).
///
/// # Safety
///
/// As `parking_lot_core::park`.
pub(crate) unsafe fn park(
    key: usize,
    validate: impl FnOnce() -> bool,
    before_sleep: impl FnOnce(),
    timed_out: impl FnOnce(usize, bool),
    park_token: ParkToken,
    timeout: Option<Instant>,
) -> ParkResult {
    match draw() {
        Chaos::Spurious => return ParkResult::Invalid,
        Chaos::Yield => std::thread::yield_now(),
        Chaos::Calm => {}
    }
    // SAFETY: the caller's callbacks, under the caller's promise of the same contract.
    let result = unsafe {
        ::parking_lot_core::park(key, validate, before_sleep, timed_out, park_token, timeout)
    };
    if next().is_multiple_of(4) {
        std::thread::yield_now();
    }
    result
}

/// Chaos is really on, and keeps `park`'s contract. Run with
/// `RUSTFLAGS="--cfg threadkit_chaos" cargo test --target-dir target/chaos --lib chaos`.
#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn key_of<T>(x: &T) -> usize {
        std::ptr::from_ref(x).addr()
    }

    #[test]
    fn some_parks_return_invalid_without_asking_validate() {
        let anchor = 0u8;
        let key = key_of(&anchor);
        let mut asked = 0;
        let mut invalid = 0;
        for _ in 0..1000 {
            // SAFETY: the callbacks neither panic nor call into the parking lot.
            let r = unsafe {
                park(
                    key,
                    || {
                        asked += 1;
                        false
                    },
                    || {},
                    |_, _| {},
                    ::parking_lot_core::DEFAULT_PARK_TOKEN,
                    None,
                )
            };
            invalid += usize::from(r == ParkResult::Invalid);
        }
        assert_eq!(invalid, 1000, "validate said no every time");
        // One in two skips validate: 500 expected; far from both 0 and 1000.
        assert!(
            (300..700).contains(&(1000 - asked)),
            "skipped {}",
            1000 - asked
        );
    }

    #[test]
    fn a_timed_park_never_times_out_early_and_never_fakes_an_unpark() {
        let anchor = 0u8;
        let key = key_of(&anchor);
        let wait = Duration::from_millis(2);
        let mut timed_out = 0;
        for _ in 0..50 {
            let start = Instant::now();
            // SAFETY: the callbacks neither panic nor call into the parking lot.
            let r = unsafe {
                park(
                    key,
                    || true,
                    || {},
                    |_, last| assert!(last),
                    ::parking_lot_core::DEFAULT_PARK_TOKEN,
                    Some(start + wait),
                )
            };
            match r {
                ParkResult::TimedOut => {
                    assert!(start.elapsed() >= wait, "timed out early");
                    timed_out += 1;
                }
                ParkResult::Invalid => {}
                ParkResult::Unparked(_) => panic!("nobody unparks this key"),
            }
        }
        assert!(timed_out > 0);
    }
}
