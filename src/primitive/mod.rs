//! The one switch between std and loom (and, for tests, chaos).
//!
//! Every atomic, thread-local and parking call that belongs to an algorithm under test is
//! imported from here, so that building with `RUSTFLAGS="--cfg loom"` swaps in loom's
//! model-checked versions without touching the algorithms. Registry bookkeeping that is not
//! part of any algorithm under test uses std directly.
//!
//! | item | normal build | `--cfg loom` | `--cfg threadkit_chaos` |
//! |---|---|---|---|
//! | atomics, [`Ordering`] | `std::sync::atomic` | `loom::sync::atomic` | std |
//! | [`parking_lot_core`] | the `parking_lot_core` crate, re-exported | a small parking lot on loom's primitives (`park_loom.rs`) | the crate, but `park` sometimes returns [`Invalid`](parking_lot_core::ParkResult::Invalid) at once or yields first (`chaos.rs`) |
//! | [`thread_local!`](crate::primitive::thread_local) | `std::thread_local!` | `loom::thread_local!` | std |
//!
//! Code adopts the shim by changing imports only: `use parking_lot_core::{..}` becomes
//! `use crate::primitive::parking_lot_core::{..}` (add `self` to the list where the code
//! writes paths such as `parking_lot_core::unpark_one`).
//!
//! # Under loom
//!
//! - A `const` constructor cannot build a loom atomic: such constructors need a
//!   `#[cfg(loom)]` twin that is not `const` (see [`Lock::new`](crate::Lock::new)).
//! - A deadline passed to `park` never fires: loom does not model time, so a timed wait
//!   waits until it is woken. Timeouts are checked by real-time tests and by chaos mode. (The
//!   crate's own loom tests can make deadlines fire at any point, see
//!   `park_loom::with_firing_deadlines`.)
//! - `SpinWait` gives up after one spin, and that spin is a `loom::thread::yield_now`.
//! - A `Condvar` or `Condition` waiter does not spin between queueing and sleeping, except
//!   inside `park_loom::with_spinning_waiters` (one yield then): the spin's yield multiplies
//!   the interleavings of every model with a condition in it.

#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(loom)]
#[allow(unused_imports)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(all(threadkit_chaos, not(loom)))]
pub(crate) mod chaos;
#[cfg(loom)]
pub(crate) mod park_loom;

/// parking_lot_core's API: the crate itself, loom's model of it, or the crate with chaos.
pub(crate) mod parking_lot_core {
    #[cfg(not(loom))]
    #[allow(unused_imports)]
    pub(crate) use ::parking_lot_core::{
        DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN, FilterOp, ParkResult, ParkToken, RequeueOp,
        SpinWait, UnparkResult, UnparkToken, unpark_all, unpark_filter, unpark_one, unpark_requeue,
    };

    #[cfg(not(any(loom, threadkit_chaos)))]
    pub(crate) use ::parking_lot_core::park;

    #[cfg(all(threadkit_chaos, not(loom)))]
    pub(crate) use super::chaos::park;

    #[cfg(loom)]
    #[allow(unused_imports)]
    pub(crate) use super::park_loom::{
        DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN, FilterOp, ParkResult, ParkToken, RequeueOp,
        SpinWait, UnparkResult, UnparkToken, park, unpark_all, unpark_filter, unpark_one,
        unpark_requeue,
    };
}

/// `std::thread_local!`, or `loom::thread_local!` under loom, for declarations whose
/// initialiser is a `const { .. }` block (loom's macro takes a plain expression: the `const`
/// is dropped there).
///
/// Under loom a thread-local's destructor may find the others already gone: use `try_with`
/// in destructors.
macro_rules! shim_thread_local {
    ($($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };)*) => {
        #[cfg(not(loom))]
        std::thread_local! {
            $($(#[$attr])* $vis static $name: $t = const { $init };)*
        }
        #[cfg(loom)]
        loom::thread_local! {
            $($(#[$attr])* $vis static $name: $t = $init;)*
        }
    };
}
pub(crate) use shim_thread_local as thread_local;
