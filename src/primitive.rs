//! The one switch between std and loom.
//!
//! Every atomic the crate's algorithms use is imported from here, so that building with
//! `RUSTFLAGS="--cfg loom"` swaps in loom's model-checked versions without touching the
//! algorithms. Registry bookkeeping that is not part of any algorithm under test uses std
//! directly.

#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(loom)]
#[allow(unused_imports)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
