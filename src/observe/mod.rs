//! See inside a running program: the pieces of the observability layer that stand on their
//! own (issue 15).
//!
//! - [`graph`]: the pure graph algorithms: wait-for cycles (deadlocks that happened), the
//!   global all-blocked case, and the lock-order graph (deadlocks that could happen).
//! - [`timeline`]: an opt-in recorder of thread starts and ends and of every block and
//!   unblock, exported as Chrome trace-event JSON (with the `serde` feature) or as one
//!   self-contained HTML page.
//!
//! The collectors that read the wait records (dumps, deadlock reports, lock-order checking,
//! contention) feed these modules through the small input APIs each one documents.

pub mod contention;
pub mod graph;
pub mod lock_order;
pub mod timeline;

pub use contention::{ContentionProfile, ContentionRow, contention};
pub use graph::{
    Cycle, EdgeError, LockOrderGraph, NodeId, ThreadState, WaitForGraph, WaitNode, all_blocked,
};
pub use timeline::{Event, EventKind, Lane, Span, Timeline};
