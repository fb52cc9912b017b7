//! The one cold blocking path: record what the thread waits on, park, clear the record.
//!
//! Every primitive that blocks (locks, joins, sleeps, and every primitive built later) parks
//! through a [`Waiting`] (most through [`spin_mark_park`] or [`wait_while`]), so that a thread
//! dump can tell, for any blocked thread, what it waits on, who holds it, where in the user's
//! code the wait started and since when. Fast paths never come here: the record costs a clock
//! read and a few plain stores (a seqlock the thread alone writes, see
//! [`WaitSlot`](crate::threading::record::WaitSlot)), paid once per blocking operation by a
//! thread that is about to sleep anyway. The record itself lives in `threading/record.rs`.
//!
//! # Recording a wait (for a new primitive)
//!
//! ```text
//! // once, when the operation first has to sleep (not on its fast path, not while spinning):
//! let rec = Waiting::begin(Blocked::on(WaitKind::X, self.id(), location)
//!     .owned_by(Owner::LockWord(&raw_lock.state)));   // or Owner::Thread(ident), or nothing
//! // every park of the operation:
//! rec.park(key, deadline, validate, timed_out);        // or park_with / park_token
//! // the record is cleared when `rec` drops, when the operation returns
//! ```
//!
//! A primitive with a state word and a "parked" bit implements [`ParkWord`] and calls
//! [`spin_mark_park`] instead (it counts the contention, spins, marks, records and parks); a
//! wait for a condition that a waker announces with [`unpark_all`] calls [`wait_while`].
//!
//! # Timeouts
//!
//! One rule for the whole crate: a timeout is a [`Duration`]; zero polls once without
//! blocking; any duration is accepted, and one too large to add to [`Instant::now`] waits
//! forever instead of panicking. A timed wait never returns "timed out" early.

use std::cell::Cell;
use std::panic::Location;
use std::time::{Duration, Instant};

use crate::observe::{contention, timeline};
use crate::primitive::parking_lot_core::{
    self, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN, FilterOp, ParkResult, ParkToken, SpinWait,
    UnparkResult, UnparkToken,
};
use crate::threading::record::{self, WaitSlot};
pub(crate) use crate::threading::record::{Blocked, ObjectId, ObjectKind, Owner, WaitKind};
use crate::threading::registry;

use super::window::ThreadWindow;

/// A wait being recorded: the calling thread's record says what it waits on for as long as
/// this value lives, across every park of one blocking operation, and is cleared when it is
/// dropped (also while unwinding). Not `Send`: it is the calling thread's.
///
/// Made with [`Waiting::begin`] when an operation first has to sleep, so that fast paths and
/// waits that only spin record nothing; every park goes through [`Waiting::park`] or
/// [`Waiting::park_with`], so nobody parks unrecorded.
pub(crate) struct Waiting {
    /// The calling thread's slot; null for a thread without a registry entry (tearing down).
    slot: *const WaitSlot,
    /// True if an enclosing `Waiting` of this thread owns the record (this one retargeted
    /// it): then dropping this one leaves the record to the enclosing one.
    nested: bool,
    /// What the operation waits on (for the contention profile, when the wait ends).
    object: ObjectId,
}

impl Waiting {
    /// Records `on` as the calling thread's wait, starting now. Inside an enclosing recorded
    /// wait of the same thread (a `Condition` wait taking its lock back), switches that
    /// record to `on` but keeps its start: the wait began when the operation did.
    #[cold]
    #[inline(never)]
    pub(crate) fn begin(on: Blocked) -> Waiting {
        let slot = registry::current_ptr();
        // SAFETY: a non-null entry pointer stays valid for the calling thread's lifetime (see
        // `registry::current_handle`), which outlives this value (it is not `Send`).
        let Some(entry) = (unsafe { slot.as_ref() }) else {
            return Waiting {
                slot: std::ptr::null(),
                nested: false,
                object: on.object,
            };
        };
        let slot = &entry.wait;
        let nested = slot.is_live();
        slot.set(
            &on,
            nested.then(|| slot.since_raw()),
            entry.ident.load(std::sync::atomic::Ordering::Relaxed),
        );
        if !nested {
            crate::observe::backtrace::wait_began(slot, slot.since_raw());
        }
        if timeline::is_recording() {
            let id = on.object;
            let name = id.name();
            timeline::blocked(
                registry::current_ident(),
                on.kind.label(),
                id.addr() as u64,
                name,
                on.location,
            );
        }
        Waiting {
            slot,
            nested,
            object: on.object,
        }
    }

    /// Parks the calling thread on `key` until unparked, `deadline` passes, or `validate`
    /// (run under the parking lot's queue lock) says not to sleep.
    ///
    /// `timed_out(key, was_last_thread)` runs under the queue lock when the deadline passes.
    /// Neither callback may panic or call into the parking lot.
    #[inline]
    pub(crate) fn park(
        &self,
        key: usize,
        deadline: Option<Instant>,
        validate: impl FnOnce() -> bool,
        timed_out: impl FnOnce(usize, bool),
    ) -> ParkResult {
        self.park_with(key, deadline, validate, || {}, timed_out)
    }

    /// [`park`](Self::park) with a `before_sleep` callback: it runs once the thread is in the
    /// wait queue (so no wake-up sent from now on can be missed) and before it sleeps. It may
    /// call the parking lot's unpark functions (to release a lock that wakes someone) but must
    /// not park or panic.
    #[inline]
    pub(crate) fn park_with(
        &self,
        key: usize,
        deadline: Option<Instant>,
        validate: impl FnOnce() -> bool,
        before_sleep: impl FnOnce(),
        timed_out: impl FnOnce(usize, bool),
    ) -> ParkResult {
        self.park_token(
            key,
            DEFAULT_PARK_TOKEN,
            deadline,
            validate,
            before_sleep,
            timed_out,
        )
    }

    /// Parks with this thread's [`token`](Self::token), running `release` once queued and
    /// then [`spin_before_sleep`](Self::spin_before_sleep) (a notifier may take it out while
    /// it spins); the thread's window adapts to the park only if it really slept. The wait of
    /// a condition variable: `release` gives its lock up.
    pub(crate) fn park_spinning(
        &self,
        key: usize,
        deadline: Option<Instant>,
        validate: impl FnOnce() -> bool,
        release: impl FnOnce(),
        timed_out: impl FnOnce(usize, bool),
    ) -> ParkResult {
        let spun_into_notify = Cell::new(false);
        let before_sleep = || {
            release();
            spun_into_notify.set(self.spin_before_sleep(deadline));
        };
        ThreadWindow::time_sleep(
            || {
                self.park_token(
                    key,
                    self.token(),
                    deadline,
                    validate,
                    before_sleep,
                    timed_out,
                )
            },
            |r| matches!(r, ParkResult::Unparked(_)) && !spun_into_notify.get(),
        )
    }

    /// [`park_with`](Self::park_with), parked with `token` (see [`Waiting::token`]).
    pub(crate) fn park_token(
        &self,
        key: usize,
        token: ParkToken,
        deadline: Option<Instant>,
        validate: impl FnOnce() -> bool,
        before_sleep: impl FnOnce(),
        timed_out: impl FnOnce(usize, bool),
    ) -> ParkResult {
        if deadline.is_some() {
            // SAFETY: a non-null slot is the calling thread's, valid while `self` lives.
            if let Some(slot) = unsafe { self.slot.as_ref() } {
                slot.mark_timed();
            }
        }
        // SAFETY: the callbacks are the caller's, under the contract above, which is the one
        // parking_lot_core asks for.
        unsafe { parking_lot_core::park(key, validate, before_sleep, timed_out, token, deadline) }
    }

    /// Spins a little, as a waiter's `before_sleep` (queued, about to sleep), for a notifier
    /// that finds it still spinning and unparks it through [`unpark_spinning`]: its `park`
    /// then returns without the thread ever sleeping, and the notifier's wake-up is a cheap
    /// one (nobody is asleep on the futex). A round trip between two threads that wait for
    /// each other (a ping-pong over a condition) then costs no sleep and no wake-up from
    /// sleep: on a machine where a wake-up from sleep costs microseconds of the waker's CPU,
    /// that is most of its time. The spin is `SpinWait`'s (a few short spins, then a few
    /// yields), then, if the thread's own window is open ([`look_before_sleep`]), yields
    /// until the window or `deadline` passes; so a waiter that is not notified soon sleeps
    /// as before. True if it was notified while spinning (it never slept).
    ///
    /// The thread parks with [`token`](Self::token) ([`park_spinning`](Self::park_spinning)),
    /// so that a notifier finds its slot.
    #[inline]
    fn spin_before_sleep(&self, deadline: Option<Instant>) -> bool {
        // SAFETY: a non-null slot is the calling thread's, valid while `self` lives.
        let Some(slot) = (unsafe { self.slot.as_ref() }) else {
            return false;
        };
        #[cfg(loom)]
        if !crate::primitive::park_loom::spinning_waiters() {
            return false;
        }
        // A thread whose last few spins all ended asleep (a worker waiting for rare jobs)
        // spins one round only, until a spin catches a notification again.
        let misses = slot.spin_misses();
        let budget = if misses >= SPIN_MISSES_TO_SHORTEN {
            1
        } else {
            SPIN_BEFORE_SLEEP_ROUNDS
        };
        slot.spin_begin();
        let mut rounds = 0;
        let mut spin = SpinWait::new();
        while !slot.spin_woken() {
            if !spin.spin() {
                rounds += 1;
                if rounds >= budget {
                    look_before_sleep(deadline, || slot.spin_woken());
                    break;
                }
                spin.reset();
            }
        }
        let woken = slot.spin_woken();
        slot.set_spin_misses(if woken { 0 } else { misses.saturating_add(1) });
        slot.spin_end();
        woken
    }

    /// A park token naming this thread's slot, for a primitive that moves its parked threads
    /// to another queue (a `Condition`): whoever finds the token in a queue may pass it to
    /// [`mark_requeued`] while the thread is still in that queue. The default token (no slot)
    /// for a thread without an entry.
    pub(crate) fn token(&self) -> ParkToken {
        ParkToken(self.slot.addr())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        // SAFETY: as in `begin`: the slot belongs to the calling thread's entry.
        if let Some(slot) = unsafe { self.slot.as_ref() }
            && !self.nested
        {
            slot.clear();
            let (profile, timeline) = (contention::is_enabled(), timeline::is_recording());
            if profile || timeline {
                // One clock read for both.
                let now = Instant::now();
                if profile {
                    let wait = record::elapsed_since_raw(slot.since_raw(), now);
                    contention::waited(self.object, wait);
                }
                if timeline {
                    timeline::unblocked_at(registry::current_ident(), now);
                }
            }
        }
    }
}

/// Marks the thread whose [`Waiting::token`] is `token` as moved onto its wait's lock queue
/// (see `Blocked::requeue`). Only under the queue lock of the queue that thread is parked in.
pub(crate) fn mark_requeued(token: ParkToken) {
    let slot = token.0 as *const WaitSlot;
    // SAFETY: a non-default token is the address of a parked thread's slot (see
    // `Waiting::token`); the thread is in the queue whose lock the caller holds, so it has not
    // returned from `park`, and its entry (which owns the slot) is alive.
    if let Some(slot) = unsafe { slot.as_ref() } {
        slot.mark_requeued();
    }
}

/// After a requeue onto the lock whose parking key is `lock_key`: marks every thread parked
/// there with a waiter's token (see [`Waiting::token`]: only a requeue puts one in a lock's
/// queue) as waiting for the lock, so its record reads as such. Threads stay parked
/// (`FilterOp::Skip`); the lock's protocol does not change.
#[cold]
#[inline(never)]
pub(crate) fn mark_requeued_on(lock_key: usize) {
    let filter = |token| {
        if token != DEFAULT_PARK_TOKEN {
            mark_requeued(token);
        }
        FilterOp::Skip
    };
    // SAFETY: the filter only marks parked threads' slots (see `mark_requeued`); neither
    // callback panics nor calls into the parking lot, and no thread is woken.
    unsafe { parking_lot_core::unpark_filter(lock_key, filter, |_| DEFAULT_UNPARK_TOKEN) };
}

crate::primitive::thread_local! {
    /// How many slow paths the calling thread has entered (see [`contended`]).
    static CONTENDED: Cell<u64> = const { Cell::new(0) };
}

/// The one place where contention is counted: every slow path of an acquisition or a wait
/// calls it once on entry, before it spins, whether it ends up parking or not. It counts per
/// thread ([`contended_count`]) and, while the contention profile is on, per object
/// (`observe::contention`).
#[cold]
#[inline(never)]
pub(crate) fn contended(object: ObjectId) {
    CONTENDED.with(|c| c.set(c.get() + 1));
    if contention::is_enabled() {
        contention::count(object);
    }
}

/// How many slow paths the calling thread has entered so far.
#[allow(dead_code)]
pub(crate) fn contended_count() -> u64 {
    CONTENDED.with(Cell::get)
}

/// What a look at a state word decided, in [`spin_mark_park`].
pub(crate) enum Attempt<S> {
    /// The wait is over: the caller got what it waited for.
    Done,
    /// The word changed under a compare-exchange: look again at this state.
    Retry(S),
    /// Not yet: spin, mark, park.
    Wait,
}

/// A state word with a "parked" bit, as a `Lock`, an `Event` and a `Barrier` keep one: what
/// [`spin_mark_park`] needs to read and change it.
pub(crate) trait ParkWord {
    /// The word's value.
    type State: Copy + Eq;
    /// Whether a waiter looks within its thread's own window before it marks the word and
    /// parks ([`look_before_sleep`]): true for a wait that another thread answers (an event,
    /// a barrier), false for mutual exclusion, where a crowd of waiters must sleep.
    const LOOKS: bool;
    /// The parking key.
    fn key(&self) -> usize;
    /// The wait to record if the thread has to park.
    fn blocked(&self) -> Blocked;
    /// Loads the word.
    fn load(&self) -> Self::State;
    /// Decides, from state `s`, whether the wait is over (and may take what it waited for).
    fn attempt(&self, s: Self::State) -> Attempt<Self::State>;
    /// True if `s` has the parked bit.
    fn marked(s: Self::State) -> bool;
    /// Sets the parked bit, from `s`; the word's value if it was not `s`.
    fn mark(&self, s: Self::State) -> Result<(), Self::State>;
    /// Under the queue lock, just before sleeping: still not done and still marked.
    fn sleep_ok(&self) -> bool;
    /// Under the queue lock: the last parked thread timed out; clear the parked bit.
    fn unmark(&self);
    /// How many times `SpinWait`'s pauses the waiter makes between its first looks, before
    /// `SpinWait`'s yields (see [`EXCLUSION_PAUSES`]): 1 unless a lock says otherwise.
    fn pace(&self) -> u32 {
        1
    }
}

/// The [`ParkWord::pace`] of a thread that finds a [`Lock`](crate::Lock) held: 8, 16 and 32
/// pauses between its first looks, where `SpinWait` makes 2, 4 and 8 (then its yields, then
/// the park). A holder that keeps taking the lock back (a producer putting item after item)
/// then does a run of operations before a waiter takes the lock's cache line from it, where
/// the short spins took the line at every other operation, and fewer waiters end up yielding
/// or parking. A pause lasts 26 ns on AMD Zen 4 (~40 ns on Intel since Skylake): `SpinWait`'s
/// spins were tuned where it lasted a few.
///
/// Measured on the 2-vCPU Zen 4 VM, both paces in one process, alternating (the queue matrix,
/// 7 rounds; the others 10): `LifoQueue` and `PriorityQueue` at capacity 10 and 16 with 2x2
/// to 8x8 threads moved 2.3-8x the items, `LifoQueue` at capacity 64 with 4x4 and 8x8
/// 2.4-2.7x, both at 1x1 from capacity 10 to unbounded 1.1-1.4x, the unbounded `Queue` 1x1
/// and 2x2 1.2x (4x4 and 8x8 within noise); `PriorityQueue` 8x8 at capacity 1024 lost
/// (0.81x). A `Mutex` hammered by 2, 4 and 16 threads took 0.65-0.7x, 0.8x and 0.97x the
/// time per operation; a `Condition` and a `Condvar` ping-pong 0.68-0.84x. At capacity 1 and
/// 2, where every item is a hand-off, the queues moved 0.6-0.9x as many: such a queue keeps
/// `SpinWait`'s pace (`Lock::acquire_paced` with 1).
///
/// An `RwLock`'s readers and writers that find a writer inside pace the same way (not the
/// writer waiting for the readers to drain): 4 threads writing every other operation took
/// 0.70-0.71x the time per operation, 2 threads writing every 100th 0.38-0.76x, 16 threads
/// 0.82-1.11x (in-process A/B, 10 rounds each, three sittings).
pub(crate) const EXCLUSION_PAUSES: u32 = 4;

/// `SpinWait` at a [`ParkWord::pace`]: each of the wait's first three spins made `pace` times
/// as long (the pauses beyond `SpinWait::spin`'s own 2 << round), then its yields as they are.
pub(crate) struct PacedSpin {
    spin: SpinWait,
    round: u32,
    pace: u32,
}

impl PacedSpin {
    pub(crate) fn new(pace: u32) -> Self {
        PacedSpin {
            spin: SpinWait::new(),
            round: 0,
            pace,
        }
    }

    /// Spins (or yields) once and returns true, or returns false once it is time to park,
    /// as `SpinWait::spin`.
    pub(crate) fn spin(&mut self) -> bool {
        if !self.spin.spin() {
            return false;
        }
        let extra = if self.round < 3 {
            self.pace.saturating_sub(1) * (2u32 << self.round)
        } else {
            0
        };
        // Under loom a spin is one yield (the shim's `SpinWait`): no pauses to add.
        #[cfg(not(loom))]
        for _ in 0..extra {
            std::hint::spin_loop();
        }
        #[cfg(loom)]
        let _ = extra;
        self.round += 1;
        true
    }

    /// Starts `SpinWait` over (after a park); the pace stays spent: only the wait's first
    /// three spins are lengthened, as measured.
    pub(crate) fn reset(&mut self) {
        self.spin.reset();
    }
}

/// The slow path of a primitive with a [`ParkWord`]: counts the contention, spins a little
/// while nobody is parked (then, if [`ParkWord::LOOKS`], looks within the thread's window:
/// [`look_before_sleep`]), then sets the parked bit and parks (recording the wait once, for
/// the whole operation) until the wait is over or `deadline` passes. From state `s`; the
/// state when done (`Ok`) or when the time was up (`Err`). A deadline already past polls once.
#[inline]
pub(crate) fn spin_mark_park<W: ParkWord>(
    w: &W,
    mut s: W::State,
    deadline: Option<Instant>,
) -> Result<W::State, W::State> {
    contended(w.blocked().object);
    let mut spin = PacedSpin::new(w.pace());
    let mut waiting: Option<Waiting> = None;
    let mut looked = !W::LOOKS;
    loop {
        match w.attempt(s) {
            Attempt::Done => return Ok(s),
            Attempt::Retry(x) => {
                s = x;
                continue;
            }
            Attempt::Wait => {}
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return Err(s);
        }
        if !W::marked(s) {
            if spin.spin() {
                s = w.load();
                continue;
            }
            if !looked {
                looked = true;
                if look_before_sleep(deadline, || w.load() != s) {
                    s = w.load();
                    continue;
                }
            }
            if let Err(x) = w.mark(s) {
                s = x;
                continue;
            }
        }
        let rec = waiting.get_or_insert_with(|| Waiting::begin(w.blocked().timed_by(deadline)));
        let park = || {
            rec.park(
                w.key(),
                deadline,
                || w.sleep_ok(),
                |_, was_last_thread| {
                    if was_last_thread {
                        w.unmark();
                    }
                },
            )
        };
        let r = if W::LOOKS { adapting(park) } else { park() };
        s = w.load();
        // `TimedOut` means the deadline passed (parking_lot_core checks the clock): answer
        // now rather than reading the clock again, which is also what lets the loom models
        // (whose deadlines fire without the clock moving) see this path. The state may have
        // moved on meanwhile: then it is not a timeout.
        if r == ParkResult::TimedOut {
            return match w.attempt(s) {
                Attempt::Done => Ok(s),
                _ => Err(s),
            };
        }
        spin.reset();
    }
}

/// Before a wait's first park: if the calling thread's own window is open (its recent
/// sleeps were cut short: see [`ThreadWindow`]) and it may claim it, yields and looks until
/// `ready` holds or the window passes. Where a thread is answered within tens of
/// microseconds, that saves it a sleep and its waker a wake-up from sleep (about 25 µs on an
/// idle vCPU). True if it looked: the caller then checks its state again before it parks.
#[inline]
pub(crate) fn look_before_sleep(deadline: Option<Instant>, ready: impl Fn() -> bool) -> bool {
    match ThreadWindow::claim(deadline) {
        Some(look) => {
            look.yield_until(ready);
            true
        }
        None => false,
    }
}

/// Runs `park` (a park that [`look_before_sleep`] may precede) and adapts the calling
/// thread's window to how long it slept, if something woke it.
#[inline]
pub(crate) fn adapting(park: impl FnOnce() -> ParkResult) -> ParkResult {
    ThreadWindow::time_sleep(park, |r| matches!(r, ParkResult::Unparked(_)))
}

/// The deadline for a timeout that starts now; `None` means "wait forever".
#[inline]
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Wakes every thread parked on `key`.
#[inline]
pub(crate) fn unpark_all(key: usize) -> usize {
    // SAFETY: no callback runs; waking threads parked on any key is always sound.
    unsafe { parking_lot_core::unpark_all(key, parking_lot_core::DEFAULT_UNPARK_TOKEN) }
}

/// Wakes one thread parked on `key`, if any (true if one was woken), with `then` run under
/// the parking lot's queue lock before the thread wakes: it learns whether a thread is being
/// woken, and gives the token that thread's park returns. It must not park, panic or call
/// into the parking lot.
pub(crate) fn unpark_one_then(key: usize, then: impl FnOnce(bool) -> UnparkToken) -> bool {
    // SAFETY: the caller's callback does none of what parking_lot_core forbids (above);
    // waking a thread parked on any key is always sound.
    let r = unsafe { parking_lot_core::unpark_one(key, |r| then(r.unparked_threads != 0)) };
    r.unparked_threads != 0
}

/// How many rounds of `SpinWait` (each a few short spins, then a few yields: about 1.4 µs on
/// an idle core of the 2-core benchmark machine) a queued waiter spins before it sleeps, in
/// [`Waiting::spin_before_sleep`]. Measured on a `Condvar` ping-pong (20 000 round trips, 2
/// cores, one sitting): with 1 round, 40% of the waiters were notified while spinning and a
/// round trip took 28 µs; with 2, 60-80% and 11-20 µs; with 4, all but 0.3% and 1.7-2.8 µs,
/// against parking_lot's 20-40 µs.
#[cfg(not(loom))]
const SPIN_BEFORE_SLEEP_ROUNDS: u8 = 4;
/// Under loom, where a `SpinWait` round is one yield: one round.
#[cfg(loom)]
const SPIN_BEFORE_SLEEP_ROUNDS: u8 = 1;

/// After how many spins in a row that ended without a notification a thread's spin before
/// sleeping is cut to one round ([`Waiting::spin_before_sleep`]). One miss is not enough: in
/// a ping-pong a miss happens when the other thread was preempted, and a shorter next spin
/// makes the next miss likelier (measured: cutting the budget on every miss turned 2 µs
/// round trips into 7-27 µs).
const SPIN_MISSES_TO_SHORTEN: u8 = 8;

/// Under loom: how many threads [`unpark_spinning`] took out while they spun, so that a model
/// can check that it explored that path.
#[cfg(loom)]
pub(crate) static SPIN_UNPARKS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Unparks the first thread parked on `key` if it is still spinning before its sleep (see
/// [`Waiting::spin_before_sleep`]), and returns the parking lot's result. `then` runs under
/// the queue lock once a thread is taken out, with that result (more threads left or not),
/// before the thread wakes; it must not park, panic or call into the parking lot. A thread
/// that already sleeps is left where it is, as are the threads behind it (FIFO): the caller
/// moves it its own way (a requeue).
///
/// # Safety
///
/// Every thread parked on `key` parks with [`Waiting::token`] or the default token.
pub(crate) unsafe fn unpark_spinning(key: usize, then: impl FnOnce(UnparkResult)) -> UnparkResult {
    let mut first = true;
    let filter = |token: ParkToken| {
        if !std::mem::take(&mut first) || token == DEFAULT_PARK_TOKEN {
            return FilterOp::Stop;
        }
        let slot = token.0 as *const WaitSlot;
        // SAFETY: a non-default token on `key` is a parked thread's slot (the caller's
        // contract); the thread is in the queue whose lock we hold, so its entry is alive.
        if unsafe { &*slot }.wake_spinning() {
            #[cfg(loom)]
            SPIN_UNPARKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            FilterOp::Unpark
        } else {
            FilterOp::Stop
        }
    };
    let callback = |r: UnparkResult| {
        if r.unparked_threads != 0 {
            then(r);
        }
        DEFAULT_UNPARK_TOKEN
    };
    // SAFETY: the filter only reads and sets parked threads' slots, and `then` is the
    // caller's (above): nothing panics or calls into the parking lot.
    unsafe { parking_lot_core::unpark_filter(key, filter, callback) }
}

/// Sleeps the calling thread for `duration`, as Python's `time.sleep`, and shows up as a
/// [`WaitKind::Sleep`] wait in [`Thread::waiting`](crate::Thread::waiting) meanwhile.
///
/// Zero yields the processor once; a duration too large for the clock sleeps forever. Never
/// returns early.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// threadkit::sleep(Duration::from_millis(10));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
#[track_caller]
pub fn sleep(duration: Duration) {
    if duration.is_zero() {
        std::thread::yield_now();
        return;
    }
    let until = deadline(duration);
    let anchor = 0u8;
    let key = std::ptr::from_ref(&anchor).addr();
    let rec = Waiting::begin(
        Blocked::on(
            WaitKind::Sleep,
            ObjectId::new(ObjectKind::Sleep, key),
            Location::caller(),
        )
        .timed_by(until),
    );
    loop {
        rec.park(key, until, || true, |_, _| {});
        match until {
            Some(t) if Instant::now() >= t => return,
            _ => {}
        }
    }
}

/// Spins a little while `cond` holds (then looks within the thread's window:
/// [`look_before_sleep`]), then parks on `key` until it stops holding, recorded
/// as `on` from the first park to the end. The waker must change what `cond` reads before
/// calling [`unpark_all`] on `key`. Returns false if `deadline` passed first (a deadline
/// already past polls `cond` once).
pub(crate) fn wait_while(
    key: usize,
    on: Blocked,
    deadline: Option<Instant>,
    cond: impl Fn() -> bool,
) -> bool {
    wait_while_marking(key, on, deadline, cond, || {})
}

/// [`wait_while`], calling `mark` just before each park, under the parking lot's queue lock
/// and before `cond` is checked there a last time: a waker that changes what `cond` reads
/// and then looks at what `mark` wrote (both `SeqCst`) either sees the mark, and wakes the
/// queued waiter, or its change is seen by that last check. So a waker can skip the wake-up
/// call while nobody has got as far as parking (a spinning waiter needs none).
pub(crate) fn wait_while_marking(
    key: usize,
    on: Blocked,
    deadline: Option<Instant>,
    cond: impl Fn() -> bool,
    mark: impl Fn(),
) -> bool {
    let mut spin = SpinWait::new();
    let mut waiting: Option<Waiting> = None;
    let mut looked = false;
    let validate = || {
        mark();
        cond()
    };
    loop {
        if !cond() {
            return true;
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return false;
        }
        if spin.spin() {
            continue;
        }
        if !std::mem::replace(&mut looked, true) && look_before_sleep(deadline, || !cond()) {
            continue;
        }
        let rec = waiting.get_or_insert_with(|| Waiting::begin(on.timed_by(deadline)));
        adapting(|| rec.park(key, deadline, validate, |_, _| {}));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    use super::*;

    /// Parks the calling thread on `key` with its slot's token; `before_sleep` gets the slot.
    fn park_on(key: usize, before_sleep: impl FnOnce(&WaitSlot)) -> ParkResult {
        let id = ObjectId::new(ObjectKind::Condvar, key);
        let rec = Waiting::begin(Blocked::on(WaitKind::Condvar, id, Location::caller()));
        // SAFETY: a spawned test thread has a registry entry: the slot is its own.
        let slot = unsafe { &*rec.slot };
        rec.park_token(
            key,
            rec.token(),
            None,
            || true,
            || before_sleep(slot),
            |_, _| {},
        )
    }

    /// Joins a thread of `park_on`, asserting that its park returned unparked.
    fn assert_unparked(t: std::thread::ScopedJoinHandle<'_, ParkResult>) {
        assert_eq!(
            t.join().unwrap(),
            ParkResult::Unparked(DEFAULT_UNPARK_TOKEN)
        );
    }

    /// Spins until `flag` is set, failing after 10 s instead of hanging the test run.
    fn until(flag: impl Fn() -> bool) {
        let start = Instant::now();
        while !flag() {
            assert!(start.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::yield_now();
        }
    }

    #[test]
    fn unpark_spinning_takes_a_spinning_waiter_out_of_the_queue() {
        let key = Box::new(0u64);
        let key = std::ptr::from_ref(&*key).addr();
        let spinning = AtomicBool::new(false);
        let thens = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                park_on(key, |slot| {
                    slot.spin_begin();
                    spinning.store(true, SeqCst);
                    until(|| slot.spin_woken());
                    slot.spin_end();
                })
            });
            until(|| spinning.load(SeqCst));
            // SAFETY: the only thread parked on `key` parks with its token.
            let r = unsafe { unpark_spinning(key, |_| _ = thens.fetch_add(1, SeqCst)) };
            assert_eq!(r.unparked_threads, 1);
            assert!(!r.have_more_threads);
            assert_eq!(thens.load(SeqCst), 1);
            // Its park returns: it was taken out of the queue and unparked.
            assert_unparked(waiter);
        });
    }

    #[test]
    fn unpark_spinning_leaves_a_sleeping_first_waiter_and_those_behind_it() {
        let key = Box::new(0u64);
        let key = std::ptr::from_ref(&*key).addr();
        let (first_queued, second_spinning, release) = (
            AtomicBool::new(false),
            AtomicBool::new(false),
            AtomicBool::new(false),
        );
        std::thread::scope(|s| {
            // The first waiter does not spin: it reads as asleep.
            let first = s.spawn(|| park_on(key, |_| first_queued.store(true, SeqCst)));
            until(|| first_queued.load(SeqCst));
            let second = s.spawn(|| {
                park_on(key, |slot| {
                    slot.spin_begin();
                    second_spinning.store(true, SeqCst);
                    until(|| release.load(SeqCst));
                    slot.spin_end();
                })
            });
            until(|| second_spinning.load(SeqCst));
            let thens = AtomicUsize::new(0);
            // SAFETY: both threads parked on `key` park with their tokens.
            let r = unsafe { unpark_spinning(key, |_| _ = thens.fetch_add(1, SeqCst)) };
            assert_eq!(r.unparked_threads, 0);
            assert_eq!(
                thens.load(SeqCst),
                0,
                "`then` runs only when a thread is taken out"
            );
            release.store(true, SeqCst);
            // Both are still queued, in order: the first unpark wakes the first waiter.
            until(|| unpark_one_then(key, |_| DEFAULT_UNPARK_TOKEN));
            until(|| first.is_finished());
            until(|| unpark_one_then(key, |_| DEFAULT_UNPARK_TOKEN));
            assert_unparked(first);
            assert_unparked(second);
        });
    }

    #[test]
    fn unpark_spinning_takes_only_the_first_of_two_spinning_waiters() {
        let key = Box::new(0u64);
        let key = std::ptr::from_ref(&*key).addr();
        let spinning = [AtomicBool::new(false), AtomicBool::new(false)];
        let release = AtomicBool::new(false);
        let spin_then_park = |i: usize| {
            let (spinning, release) = (&spinning, &release);
            move || {
                park_on(key, |slot| {
                    slot.spin_begin();
                    spinning[i].store(true, SeqCst);
                    until(|| slot.spin_woken() || release.load(SeqCst));
                    slot.spin_end();
                })
            }
        };
        std::thread::scope(|s| {
            let first = s.spawn(spin_then_park(0));
            until(|| spinning[0].load(SeqCst));
            let second = s.spawn(spin_then_park(1));
            until(|| spinning[1].load(SeqCst));
            // SAFETY: both threads parked on `key` park with their tokens.
            let r = unsafe { unpark_spinning(key, |_| {}) };
            assert_eq!(r.unparked_threads, 1);
            assert!(r.have_more_threads);
            assert_unparked(first);
            release.store(true, SeqCst);
            until(|| unpark_one_then(key, |_| DEFAULT_UNPARK_TOKEN));
            assert_unparked(second);
        });
    }
}
