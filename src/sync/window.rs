//! How long an idle waiter keeps looking before it sleeps: a window that adapts to how long
//! its sleeps turn out to be, as a guest kernel's halt-polling governor adapts its polling.
//!
//! A thread that parks and is woken pays for the wake-up twice: the waker's system call, and
//! the time until the sleeper runs again, which is long when its core went idle (about 25 µs
//! on a 2-vCPU VM without guest halt-polling, against well under a microsecond for a look at
//! an atomic). Where one thread answers another (a submit after each result, a reply queue),
//! a sleeper makes its partner fall asleep too, and every exchange then costs two such
//! wake-ups. The fixed spins before a park (well under a microsecond of pauses and a few
//! yields) cannot outlast a wake-up, so once a pair has fallen into that, it stays there.
//!
//! A [`SpinWindow`] learns instead: a sleep that ended within [`MAX`] (a longer look would
//! have seen the work come, without the sleep and the wake-up) doubles the window, from
//! [`GROW_START`] up to `MAX`; a longer sleep halves it, to nothing below `GROW_START`. A
//! waiter that claims the window ([`SpinWindow::claim`]) yields and looks until it has passed;
//! at most one thread per window does at a time, so many idle waiters do not fill the cores.
//! Work that comes now and then keeps the window shut, and costs nothing over the fixed spins.
//!
//! Under loom the window stays shut: it depends on the clock, which a model must not.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The first window a short sleep opens.
const GROW_START: Duration = Duration::from_micros(8);
/// The widest window, and the longest sleep that still counts as short.
const MAX: Duration = Duration::from_micros(64);

/// A window adapted to the sleeps of the waiters that share it; see the module docs.
///
/// Std's atomics even under loom: nothing is ordered by them, and the model must not explore
/// them.
pub(crate) struct SpinWindow {
    /// The window, in nanoseconds.
    ns: AtomicU32,
    /// Set while a waiter looks within the window.
    busy: AtomicBool,
}

impl SpinWindow {
    /// A shut window.
    pub(crate) const fn new() -> Self {
        SpinWindow {
            ns: AtomicU32::new(0),
            busy: AtomicBool::new(false),
        }
    }

    /// The window now (zero while shut).
    pub(crate) fn get(&self) -> Duration {
        if cfg!(loom) {
            return Duration::ZERO;
        }
        Duration::from_nanos(u64::from(self.ns.load(Ordering::Relaxed)))
    }

    /// The window for the calling waiter, if it is open and nobody else looks within it;
    /// held until the claim is dropped. The look ends at the waiter's `deadline` if that
    /// comes first, so a short timeout is not overrun.
    pub(crate) fn claim(&self, deadline: Option<Instant>) -> Option<Claim<'_>> {
        let window = self.get();
        if window.is_zero() || self.busy.swap(true, Ordering::Relaxed) {
            return None;
        }
        let end = Instant::now() + window;
        Some(Claim {
            window: self,
            until: deadline.map_or(end, |d| d.min(end)),
        })
    }

    /// Runs `sleep` (a waiter's park, from its decision to park to its return) and adapts
    /// the window to how long it took, unless `woken` says of its result that it ended by
    /// its deadline rather than by new work.
    pub(crate) fn time_sleep<R>(
        &self,
        sleep: impl FnOnce() -> R,
        woken: impl FnOnce(&R) -> bool,
    ) -> R {
        if cfg!(loom) {
            return sleep();
        }
        let asleep = Instant::now();
        let result = sleep();
        if woken(&result) {
            self.adapt(asleep.elapsed());
        }
        result
    }

    /// After a waiter's sleep of `slept`: widens or narrows the window.
    fn adapt(&self, slept: Duration) {
        let now = self.ns.load(Ordering::Relaxed);
        let next = next_window(now, slept);
        if next != now {
            self.ns.store(next, Ordering::Relaxed);
        }
    }
}

/// A waiter's hold on a [`SpinWindow`]: it may look until [`open`](Claim::open) says no.
pub(crate) struct Claim<'a> {
    window: &'a SpinWindow,
    until: Instant,
}

impl Claim<'_> {
    /// Whether the window has not passed yet.
    pub(crate) fn open(&self) -> bool {
        Instant::now() < self.until
    }

    /// Yields and looks until `hint` says the wait may be over (true) or the window passed.
    pub(crate) fn yield_until(&self, hint: impl Fn() -> bool) -> bool {
        while self.open() {
            std::thread::yield_now();
            if hint() {
                return true;
            }
        }
        false
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.window.busy.store(false, Ordering::Relaxed);
    }
}

/// `d` in nanoseconds, as the window keeps it.
const fn nanos(d: Duration) -> u32 {
    d.as_nanos() as u32
}

/// The window (in nanoseconds) after one of `now` whose waiter then slept `slept`.
fn next_window(now: u32, slept: Duration) -> u32 {
    if slept <= MAX {
        now.saturating_mul(2).clamp(nanos(GROW_START), nanos(MAX))
    } else if now / 2 < nanos(GROW_START) {
        0
    } else {
        now / 2
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Short sleeps widen the window step by step up to `MAX`, long ones narrow it back to
    /// none.
    #[test]
    fn window_grows_after_short_sleeps_and_shrinks_after_long_ones() {
        let short = Duration::from_micros(20);
        let long = Duration::from_millis(1);
        let mut w = 0;
        let mut grown = Vec::new();
        for _ in 0..5 {
            w = next_window(w, short);
            grown.push(w);
        }
        assert_eq!(grown, [8_000, 16_000, 32_000, 64_000, 64_000]);
        // A sleep of exactly the widest window still counts as one a look could have spanned.
        assert_eq!(next_window(w, MAX), 64_000);
        let mut shrunk = Vec::new();
        for _ in 0..5 {
            w = next_window(w, long);
            shrunk.push(w);
        }
        assert_eq!(shrunk, [32_000, 16_000, 8_000, 0, 0]);
    }

    /// A shut window gives no claim; an open one gives one claim at a time, for as long as it
    /// lasts.
    #[test]
    fn one_claim_at_a_time_and_only_while_open() {
        let w = SpinWindow::new();
        assert!(w.claim(None).is_none(), "a shut window is claimed");
        w.adapt(Duration::from_micros(1));
        assert_eq!(w.get(), GROW_START);
        let t0 = Instant::now();
        let first = w.claim(None).expect("an open window gives a claim");
        assert!(w.claim(None).is_none(), "two waiters hold the window");
        assert!(!first.yield_until(|| false));
        // Never shorter than the window (the late side is the machine's business).
        assert!(t0.elapsed() >= GROW_START);
        drop(first);
        let again = w.claim(None).expect("a dropped claim frees the window");
        assert!(
            again.yield_until(|| true),
            "a hint that holds ends the look"
        );
        drop(again);
        // A deadline before the window's end ends the look there.
        let short = w.claim(Some(Instant::now())).expect("the window is free");
        assert!(!short.open());
    }
}
