//! The low-level module, as Python's `_thread`: start a bare thread, make a lock, end the
//! calling thread, read and set the default stack size.
//!
//! | Python `_thread` | threadkit |
//! |---|---|
//! | `start_new_thread(f, args)` | [`start_new_thread`]`(move \|\| f(args))` |
//! | `allocate_lock()`, `LockType` | [`allocate_lock`], [`LockType`] |
//! | `exit()` | [`exit`] |
//! | `get_ident()`, `get_native_id()` | [`get_ident`], [`get_native_id`] |
//! | `stack_size([size])` | [`stack_size`]`(None)` / [`stack_size`]`(Some(size))` |
//! | `TIMEOUT_MAX` | [`TIMEOUT_MAX`] |

mod lowlevel;

pub use crate::threading::registry::{get_ident, get_native_id};
pub(crate) use lowlevel::default_stack_size;
pub use lowlevel::{
    LockType, StackSizeError, TIMEOUT_MAX, allocate_lock, exit, stack_size, start_new_thread,
};
