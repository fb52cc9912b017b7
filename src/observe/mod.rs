//! See inside a running program: the pieces of the observability layer that stand on their
//! own (issue 15).
//!
//! - [`graph`]: the pure graph algorithms: wait-for cycles (deadlocks that happened), the
//!   global all-blocked case, and the lock-order graph (deadlocks that could happen).
//! - [`timeline`]: an opt-in recorder of thread starts and ends and of every block and
//!   unblock, exported as Chrome trace-event JSON (with the `serde` feature) or as one
//!   self-contained HTML page.
//! - [`backtrace`]: a run-time switch that makes each wait capture a backtrace when it
//!   begins, which dumps show.
//!
//! The collectors that read the wait records (dumps, deadlock reports, lock-order checking,
//! contention) feed these modules through the small input APIs each one documents.

pub mod backtrace;
pub mod contention;
pub mod graph;
pub mod lock_order;
pub mod timeline;

pub use contention::{ContentionProfile, ContentionRow, contention};
pub use graph::{
    Cycle, EdgeError, LockOrderGraph, NodeId, ThreadState, WaitForGraph, WaitNode, all_blocked,
};
pub use timeline::{Event, EventKind, Lane, Span, Timeline};

pub mod deadlock;
pub mod dump;
pub mod watch;

pub use deadlock::{Deadlock, Step, deadlocks};
pub use dump::{Dump, HeldDump, ThreadDump, WaitDump, dump};
#[cfg(unix)]
pub use watch::dump_on_signal;
pub use watch::{
    DEFAULT_WATCH_INTERVAL, WatchAction, WatchEnvError, Watchdog, watch, watch_from_env,
};

/// Turns held-lock tracking on or off for every thread: while on, each thread keeps the list
/// of `Lock`s, `RLock`s, `Mutex`es and `RwLock`s it holds (with where it took them), which
/// dumps show and deadlock reports use for "where the owner took it". Costs one relaxed load
/// per acquire and release while off; while on, a few plain stores to the thread's own list
/// (dumps read it without blocking the thread). Locks taken while it was off are not listed.
///
/// # Examples
///
/// ```
/// use threadkit::{Lock, observe};
/// observe::set_held_tracking(true);
/// let lock = Lock::named("l");
/// let _g = lock.guard();
/// let dump = observe::dump();
/// assert!(dump.thread(threadkit::get_ident()).unwrap().holds().iter().any(|h| h.object() == lock.id()));
/// ```
pub fn set_held_tracking(on: bool) {
    crate::sync::held::set_tracking(on);
}
