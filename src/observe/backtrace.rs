//! Wait backtraces: a run-time switch that makes every blocking operation capture where it
//! was called from when it starts to wait, for thread dumps to show.
//!
//! Off by default. While on, each wait that actually blocks (never a fast path, never a wait
//! that only spins) captures a backtrace when its record is written, so only waits pay, and
//! a capture costs microseconds to milliseconds: meant for debugging a hung program, not for
//! production throughput. A dump shows a blocked thread's backtrace
//! ([`WaitDump::backtrace`](super::WaitDump::backtrace)) when it was captured for the wait the
//! dump sees.
//!
//! Captures go through `std::backtrace`, which serialises captures and symbol resolution
//! behind one process-wide lock: while a backtrace is first printed (its symbols resolved,
//! which can take a while in a large binary), a wait that begins meanwhile waits for that
//! lock before it parks.

use std::backtrace::Backtrace;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::threading::record::WaitSlot;

static ON: AtomicBool = AtomicBool::new(false);

/// Turns wait backtraces on or off for every thread (see the [module](self)).
///
/// # Examples
///
/// ```
/// use threadkit::observe::backtrace;
/// backtrace::set_wait_backtraces(true);
/// assert!(backtrace::wait_backtraces());
/// backtrace::set_wait_backtraces(false);
/// assert!(!backtrace::wait_backtraces());
/// ```
pub fn set_wait_backtraces(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

/// True while wait backtraces are on.
///
/// # Examples
///
/// ```
/// assert!(!threadkit::observe::backtrace::wait_backtraces()); // off by default
/// ```
#[inline]
pub fn wait_backtraces() -> bool {
    ON.load(Ordering::Relaxed)
}

/// A wait of the calling thread, recorded in `slot` and started at `since` (the slot's raw
/// start), begins: while the switch is on, captures its backtrace. Called from the one wait
/// path (`Waiting::begin`), after the record is written.
#[inline]
pub(crate) fn wait_began(slot: &WaitSlot, since: u64) {
    if wait_backtraces() {
        capture(slot, since);
    }
}

#[cold]
#[inline(never)]
fn capture(slot: &WaitSlot, since: u64) {
    // Captured before the lock is taken: a dump only ever waits out a store.
    let trace = Arc::new(Backtrace::force_capture());
    let mut stored = slot.backtrace.lock().unwrap_or_else(|e| e.into_inner());
    *stored = Some((since, trace));
}

/// The backtrace captured for the wait of `slot` that started at `since`, if any; never
/// blocks (a slot being written is left out).
pub(crate) fn of_wait(slot: &WaitSlot, since: u64) -> Option<Arc<Backtrace>> {
    let stored = match slot.backtrace.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return None,
    };
    stored
        .as_ref()
        .filter(|(at, _)| *at == since)
        .map(|(_, t)| t.clone())
}
