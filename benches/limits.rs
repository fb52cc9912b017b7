//! The hardware and kernel floors under every primitive: what the machine allows at best, so
//! the report can say how close each threadkit operation comes to it.
//!
//! - `limit_uncontended_cas_store`: one compare-exchange (acquire) and one store (release) on
//!   an atomic no other thread touches — the least an uncontended lock pair can cost.
//! - `limit_cache_line_round_trip`: two threads take turns writing one atomic; one iteration
//!   is the cache line going there and back — the least a hand-off between two awake threads
//!   can cost. The waiting side spins briefly and then yields, so on a host that time-slices
//!   both threads onto one core this measures the cheapest switch instead of a spin that
//!   burns the whole time slice.
//! - `limit_futex_wake_round_trip`: the same turn-taking, but each side sleeps until woken
//!   instead of spinning: through raw Linux futex calls (`FUTEX_WAIT`/`FUTEX_WAKE`, every turn
//!   one wake call), and through `parking_lot_core::park`/`unpark_one`, the layer every
//!   threadkit blocking call uses. The least a hand-off to a sleeping thread can cost.
//!
//! Run with `cargo bench --bench limits -- --warm-up-time 1 --measurement-time 2`.
//! `python3 benches/report.py` runs it with the other benches and puts each floor under its
//! family in `BENCHMARKS.md`.

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/mod.rs"]
mod support;

/// Runs `iters` round trips: this thread takes the even turns `main_turn(i)` and a helper
/// thread the odd ones `helper_turn(i)`; returns the time from when both are ready until the
/// last round trip is back. (Thread start-up is not timed.)
fn round_trips(
    iters: u64,
    helper_turn: &(dyn Fn(u64) + Sync),
    main_turn: &dyn Fn(u64),
) -> Duration {
    let ready = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            ready.wait();
            for i in 0..iters {
                helper_turn(i);
            }
        });
        ready.wait();
        let t0 = Instant::now();
        for i in 0..iters {
            main_turn(i);
        }
        t0.elapsed()
    })
}

/// Waits until `word` holds `want`: spins a little, then yields the CPU between looks.
fn spin_until(word: &AtomicU64, want: u64) {
    let mut spins = 0u32;
    while word.load(Ordering::Acquire) != want {
        if spins < 50 {
            spins += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// One compare-exchange and one store on an atomic only this thread uses.
fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("limit_uncontended_cas_store");
    g.bench_function("atomic_cas_store", |b| {
        let word = AtomicU32::new(0);
        b.iter(|| {
            let word = black_box(&word);
            let ok = word
                .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok();
            word.store(0, Ordering::Release);
            black_box(ok)
        });
    });
    g.finish();
}

/// Two threads taking turns on one atomic, spinning (then yielding) while they wait.
fn cache_line(c: &mut Criterion) {
    eprintln!("limits: the machine looks like {}", support::cpu_mode());
    let mut g = c.benchmark_group("limit_cache_line_round_trip");
    g.bench_function("atomic_ping_pong", |b| {
        b.iter_custom(|iters| {
            let turn = AtomicU64::new(0);
            round_trips(
                iters,
                &|i| {
                    spin_until(&turn, 2 * i + 1);
                    turn.store(2 * i + 2, Ordering::Release);
                },
                &|i| {
                    turn.store(2 * i + 1, Ordering::Release);
                    spin_until(&turn, 2 * i + 2);
                },
            )
        });
    });
    g.finish();
}

/// Raw Linux futex calls on a 32-bit turn counter.
#[cfg(target_os = "linux")]
mod futex {
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Sleeps while `word` still holds `seen` (returns at once if it does not).
    pub fn wait(word: &AtomicU32, seen: u32) {
        // SAFETY: FUTEX_WAIT reads the u32 at `word`, a live, aligned atomic for the whole
        // call; the null timeout means no timeout; the unused arguments are ignored.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                seen,
                std::ptr::null::<libc::timespec>(),
            );
        }
    }

    /// Wakes one thread sleeping on `word`, if any (a system call either way).
    pub fn wake(word: &AtomicU32) {
        // SAFETY: FUTEX_WAKE only uses `word`'s address as a key; it stays live for the call.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                1,
            );
        }
    }

    /// Takes turn `mine` (stores it, wakes the other side), then sleeps until the counter
    /// reaches `next`.
    pub fn turn(word: &AtomicU32, mine: u32, next: u32) {
        word.store(mine, Ordering::Release);
        wake(word);
        loop {
            let now = word.load(Ordering::Acquire);
            if now == next {
                return;
            }
            wait(word, now);
        }
    }
}

/// Sleeps (through parking_lot_core) until `word` holds `want`.
fn park_until(word: &AtomicU32, want: u32) {
    let key = word.as_ptr() as usize;
    while word.load(Ordering::Acquire) != want {
        // SAFETY: `validate` and the other callbacks only load an atomic: they neither panic
        // nor call into parking_lot_core, and `key` is an address this bench owns.
        unsafe {
            parking_lot_core::park(
                key,
                || word.load(Ordering::Acquire) != want,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                None,
            );
        }
    }
}

/// Stores `value` and unparks the other side if it is parked.
fn store_unpark(word: &AtomicU32, value: u32) {
    word.store(value, Ordering::Release);
    // SAFETY: the callback neither panics nor calls into parking_lot_core; the key is the
    // same address `park_until` parks on.
    unsafe {
        parking_lot_core::unpark_one(word.as_ptr() as usize, |_| {
            parking_lot_core::DEFAULT_UNPARK_TOKEN
        });
    }
}

/// Two threads taking turns on one counter, sleeping until woken while they wait.
fn futex_wake(c: &mut Criterion) {
    let mut g = c.benchmark_group("limit_futex_wake_round_trip");
    #[cfg(target_os = "linux")]
    g.bench_function("libc_futex", |b| {
        b.iter_custom(|iters| {
            let turn = AtomicU32::new(0);
            round_trips(
                iters,
                &|i| {
                    let i = i as u32;
                    // Wait for the main thread's turn, then take ours.
                    loop {
                        let now = turn.load(Ordering::Acquire);
                        if now == i.wrapping_mul(2).wrapping_add(1) {
                            break;
                        }
                        futex::wait(&turn, now);
                    }
                    turn.store(i.wrapping_mul(2).wrapping_add(2), Ordering::Release);
                    futex::wake(&turn);
                },
                &|i| {
                    let i = i as u32;
                    futex::turn(
                        &turn,
                        i.wrapping_mul(2).wrapping_add(1),
                        i.wrapping_mul(2).wrapping_add(2),
                    );
                },
            )
        });
    });
    g.bench_function("parking_lot_core_park_unpark", |b| {
        b.iter_custom(|iters| {
            let turn = AtomicU32::new(0);
            round_trips(
                iters,
                &|i| {
                    let i = i as u32;
                    park_until(&turn, i.wrapping_mul(2).wrapping_add(1));
                    store_unpark(&turn, i.wrapping_mul(2).wrapping_add(2));
                },
                &|i| {
                    let i = i as u32;
                    store_unpark(&turn, i.wrapping_mul(2).wrapping_add(1));
                    park_until(&turn, i.wrapping_mul(2).wrapping_add(2));
                },
            )
        });
    });
    g.finish();
}

criterion_group!(benches, uncontended, cache_line, futex_wake);
criterion_main!(benches);
