//! Platforms without a dedicated implementation: portable answers from std.

use std::sync::atomic::{AtomicU64, Ordering};

/// A per-thread number standing in for the kernel's id.
pub(crate) fn native_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static ID: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
    ID.with(|id| *id)
}

/// True on the thread std calls "main".
pub(crate) fn is_main_thread() -> bool {
    std::thread::current().name() == Some("main")
}

/// No portable way to rename the running thread: a no-op.
pub(crate) fn set_current_name(_name: &str) {}

/// No portable exit hook: the caller must use `threadkit::shutdown()` explicitly.
pub(crate) fn at_exit(_f: extern "C" fn()) -> bool {
    false
}
