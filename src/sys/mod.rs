//! Operating-system facts about threads, behind one switch.
//!
//! Public modules never test `target_os`: they call these functions, and this file picks the
//! implementation for the platform.

#[cfg(unix)]
#[path = "unix.rs"]
mod imp;

#[cfg(not(unix))]
#[path = "other.rs"]
mod imp;

pub(crate) use imp::{at_exit, is_main_thread, native_id, set_current_name};
