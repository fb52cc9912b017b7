//! Python's `threading` module: threads, their registry, the excepthook and the exit-time
//! wait for non-daemon threads.

pub(crate) mod builder;
pub(crate) mod error;
pub(crate) mod excepthook;
pub(crate) mod lifecycle;
pub(crate) mod record;
pub(crate) mod registry;
pub(crate) mod scope;
pub(crate) mod shutdown;
pub(crate) mod spawn;
pub(crate) mod thread;

pub use builder::Builder;
pub use error::{JoinError, SetDaemonError, StartError, ThreadPanic};
pub use excepthook::{
    default_excepthook, panic_hook_enabled, reset_excepthook, set_excepthook,
    set_panic_hook_enabled,
};
pub use lifecycle::JoinStatus;
pub use record::{ObjectId, ObjectKind, WaitInfo, WaitKind};
pub use registry::{
    active_count, current_thread, enumerate, get_ident, get_native_id, main_thread,
};
pub use scope::{Scope, ScopedBuilder, ScopedJoinHandle, scope};
pub use shutdown::{join_at_exit, set_join_at_exit, shutdown};
pub use spawn::{JoinHandle, spawn};
pub use thread::{Run, Thread};
