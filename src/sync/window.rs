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
//! A primitive too small to carry a window of its own (a `Semaphore`, an `Event`, a
//! `Condition`, a future), and a producer waiting for room in a queue (whose window is its
//! getters'), use the waiting thread's own [`ThreadWindow`] instead, adapted the
//! same way to that thread's sleeps: a thread that is answered soon after it waits (a
//! request and its reply over two semaphores, a worker and its events) learns to look, one
//! that waits for rare work does not. At most [`ThreadWindow::lookers`] threads (half the
//! CPUs, at least one) look within their own windows at once, so a crowd of waiters does not
//! fill the cores with yields.
//!
//! Under loom the window stays shut: it depends on the clock, which a model must not.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

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
    /// 1 while a waiter looks within the window.
    busy: AtomicU32,
}

impl SpinWindow {
    /// A shut window.
    pub(crate) const fn new() -> Self {
        SpinWindow {
            ns: AtomicU32::new(0),
            busy: AtomicU32::new(0),
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
        Claim::enter(self.get(), &self.busy, 1, deadline)
    }

    /// Runs `sleep` (a waiter's park, from its decision to park to its return) and adapts
    /// the window to how long it took, unless `woken` says of its result that it ended by
    /// its deadline rather than by new work.
    pub(crate) fn time_sleep<R>(
        &self,
        sleep: impl FnOnce() -> R,
        woken: impl FnOnce(&R) -> bool,
    ) -> R {
        timed(sleep, woken, |slept| self.adapt(slept))
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

/// The calling thread's own window, for the waits on primitives without a [`SpinWindow`]:
/// see the module docs.
pub(crate) struct ThreadWindow;

thread_local! {
    /// The calling thread's window, in nanoseconds.
    static OWN: Cell<u32> = const { Cell::new(0) };
}

/// How many threads look within their own windows now.
static LOOKING: CachePadded<AtomicU32> = CachePadded::new(AtomicU32::new(0));

impl ThreadWindow {
    /// The calling thread's window now (zero while shut).
    pub(crate) fn get() -> Duration {
        if cfg!(loom) {
            return Duration::ZERO;
        }
        Duration::from_nanos(u64::from(OWN.with(Cell::get)))
    }

    /// The calling thread's window, if it is open and fewer than [`lookers`](Self::lookers)
    /// threads look within theirs; held until the claim is dropped. The look ends at
    /// `deadline` if that comes first.
    pub(crate) fn claim(deadline: Option<Instant>) -> Option<Claim<'static>> {
        let window = Self::get();
        if window.is_zero() {
            return None;
        }
        Claim::enter(window, &LOOKING, Self::lookers(), deadline)
    }

    /// How many threads may look within their own windows at once: half the CPUs, at least
    /// one.
    pub(crate) fn lookers() -> u32 {
        static LIMIT: OnceLock<u32> = OnceLock::new();
        *LIMIT.get_or_init(|| {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            u32::try_from(cpus / 2).unwrap_or(u32::MAX).max(1)
        })
    }

    /// Runs `sleep` (the thread's park) and adapts the thread's window to how long it took,
    /// unless `woken` says it ended by its deadline rather than by what it waited for.
    pub(crate) fn time_sleep<R>(sleep: impl FnOnce() -> R, woken: impl FnOnce(&R) -> bool) -> R {
        timed(sleep, woken, Self::adapt)
    }

    /// After the thread's sleep of `slept`: widens or narrows its window.
    fn adapt(slept: Duration) {
        OWN.with(|w| w.set(next_window(w.get(), slept)));
    }
}

/// Runs `sleep`, timing it; then `adapt` with the time it took, unless `woken` says it ended
/// by its deadline. Under loom it only runs `sleep`.
fn timed<R>(
    sleep: impl FnOnce() -> R,
    woken: impl FnOnce(&R) -> bool,
    adapt: impl FnOnce(Duration),
) -> R {
    if cfg!(loom) {
        return sleep();
    }
    let asleep = Instant::now();
    let result = sleep();
    if woken(&result) {
        adapt(asleep.elapsed());
    }
    result
}

/// A waiter's hold on a window: it may look until [`open`](Claim::open) says no.
pub(crate) struct Claim<'a> {
    /// The count of those looking within this window (or these windows), which this claim
    /// is one of.
    looking: &'a AtomicU32,
    until: Instant,
}

impl<'a> Claim<'a> {
    /// A claim on a window of `window` (none if it is shut) if fewer than `limit` waiters
    /// look within it (counted in `looking`), ending at `deadline` if that comes first.
    fn enter(
        window: Duration,
        looking: &'a AtomicU32,
        limit: u32,
        deadline: Option<Instant>,
    ) -> Option<Self> {
        if window.is_zero() {
            return None;
        }
        looking
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()?;
        let end = Instant::now() + window;
        Some(Claim {
            looking,
            until: deadline.map_or(end, |d| d.min(end)),
        })
    }

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
        self.looking.fetch_sub(1, Ordering::Relaxed);
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

    /// At most `limit` claims at once on one count of lookers, and none on a shut window.
    #[test]
    fn claims_stop_at_the_limit_of_lookers() {
        let looking = AtomicU32::new(0);
        let open = Duration::from_micros(8);
        assert!(Claim::enter(Duration::ZERO, &looking, 3, None).is_none());
        let held: Vec<_> = (0..3)
            .map(|_| Claim::enter(open, &looking, 3, None).expect("under the limit"))
            .collect();
        assert!(Claim::enter(open, &looking, 3, None).is_none());
        drop(held);
        assert_eq!(looking.load(Ordering::Relaxed), 0);
        assert!(Claim::enter(open, &looking, 3, None).is_some());
    }

    /// Opens the calling thread's window as wide as it goes.
    fn open_own_window() {
        for _ in 0..4 {
            ThreadWindow::time_sleep(|| (), |()| true);
        }
        assert_eq!(ThreadWindow::get(), MAX);
    }

    /// With the thread's window open, the waits that look before they park still time out
    /// no earlier than their timeout, and still see what another thread gives them.
    #[test]
    fn waits_that_look_time_out_late_and_see_the_answer() {
        let timeout = Duration::from_millis(30);
        let late = |wait: &dyn Fn() -> bool, what: &str| {
            open_own_window();
            let t0 = Instant::now();
            assert!(!wait(), "{what}: got what nobody gave");
            assert!(t0.elapsed() >= timeout, "{what}: timed out early");
        };
        let sem = crate::Semaphore::new(0);
        late(&|| sem.acquire_timeout(timeout), "Semaphore");
        let event = crate::Event::new();
        late(&|| event.wait_timeout(timeout), "Event");
        let barrier = crate::Barrier::new(2).unwrap();
        late(&|| barrier.wait_timeout(timeout).is_ok(), "Barrier");
        let (m, cv) = (crate::Mutex::new(()), crate::Condvar::new());
        late(
            &|| !cv.wait_timeout(&mut m.lock(), timeout).unwrap().timed_out(),
            "Condvar",
        );
        open_own_window();
        std::thread::scope(|s| {
            s.spawn(|| {
                sem.release(1).unwrap();
                event.set();
            });
            sem.acquire();
            event.wait();
        });
        assert_eq!(sem.value(), 0);
    }

    /// A thread's window grows from that thread's short sleeps only; another thread's stays
    /// shut, and a sleep that ended by its deadline changes nothing.
    #[test]
    fn a_thread_window_is_the_threads_own() {
        // On a thread of its own: the test harness may run tests one after another on one.
        std::thread::spawn(|| {
            assert!(ThreadWindow::lookers() >= 1);
            assert_eq!(ThreadWindow::get(), Duration::ZERO);
            ThreadWindow::time_sleep(|| (), |()| false);
            assert_eq!(
                ThreadWindow::get(),
                Duration::ZERO,
                "a timed-out sleep adapted it"
            );
            ThreadWindow::time_sleep(|| (), |()| true);
            ThreadWindow::time_sleep(|| (), |()| true);
            assert_eq!(ThreadWindow::get(), GROW_START * 2);
            std::thread::spawn(|| assert_eq!(ThreadWindow::get(), Duration::ZERO))
                .join()
                .unwrap();
            ThreadWindow::adapt(Duration::from_millis(1));
            assert_eq!(ThreadWindow::get(), GROW_START);
        })
        .join()
        .unwrap();
    }
}
