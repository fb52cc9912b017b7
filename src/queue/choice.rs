//! A queue whose core is picked by its bound: the [`Core`] trait that the public API macros
//! call, each core's implementation of it, and [`Two`], which holds one of two cores and
//! passes every call to the one it holds.
//!
//! `Queue` keeps a bounded queue in the stamped ring ([`Array`]) and an unbounded one in the
//! two-lock core ([`Split`]); `PriorityQueue` keeps a small bounded queue behind one lock
//! ([`OneLock`]) and a large or unbounded one in the two-lock core. (`SimpleQueue` has one
//! core, the list of slot blocks, which it calls directly.) The queue-kind matrix in
//! BENCHMARKS.md shows why: which core is fastest depends on the bound.

use std::fmt;
use std::panic::Location;

use super::array::Array;
use super::common::{Refused, Source, Wait};
use super::error::{QueueId, TaskDoneError};
use super::onelock::{Buffer, OneLock};
use super::split::{Head, Split};

/// What the queues' public methods call on their core (see the module docs).
pub(crate) trait Core {
    type Item;

    fn put(
        &self,
        item: Self::Item,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (Self::Item, Refused)>;
    fn get(&self, wait: Wait, location: &'static Location<'static>) -> Result<Self::Item, Refused>;
    fn id(&self) -> QueueId;
    fn qsize(&self) -> usize;
    fn full(&self) -> bool;
    fn maxsize(&self) -> usize;
    fn shutdown(&self, immediate: bool) -> Vec<Self::Item>;
    fn is_shut_down(&self) -> bool;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn unfinished(&self) -> usize;
    fn join(&self, wait: Wait, location: &'static Location<'static>) -> bool;
    fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result;
}

/// Implements [`Core`] for a core type by calling its inherent methods of the same names.
macro_rules! core_by_inherent {
    ([$($generics:tt)*] $core:ty, $item:ty) => {
        impl<$($generics)*> Core for $core {
            type Item = $item;

            #[inline]
            fn put(
                &self,
                item: $item,
                wait: Wait,
                location: &'static Location<'static>,
            ) -> Result<(), ($item, Refused)> {
                Self::put(self, item, wait, location)
            }

            #[inline]
            fn get(&self, wait: Wait, location: &'static Location<'static>) -> Result<$item, Refused> {
                Self::get(self, wait, location)
            }

            fn id(&self) -> QueueId {
                Self::id(self)
            }

            #[inline]
            fn qsize(&self) -> usize {
                Self::qsize(self)
            }

            #[inline]
            fn full(&self) -> bool {
                Self::full(self)
            }

            fn maxsize(&self) -> usize {
                Self::maxsize(self)
            }

            fn shutdown(&self, immediate: bool) -> Vec<$item> {
                Self::shutdown(self, immediate)
            }

            fn is_shut_down(&self) -> bool {
                Self::is_shut_down(self)
            }

            fn task_done(&self) -> Result<(), TaskDoneError> {
                Self::task_done(self)
            }

            fn unfinished(&self) -> usize {
                Self::unfinished(self)
            }

            fn join(&self, wait: Wait, location: &'static Location<'static>) -> bool {
                Self::join(self, wait, location)
            }

            fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
                Self::debug_fields(self, f, name)
            }
        }
    };
}

core_by_inherent!([T] Array<T>, T);
core_by_inherent!([T, H: Head<Item = T>] Split<T, H>, T);
core_by_inherent!([B: Buffer] OneLock<B>, B::Item);

/// One of two cores, chosen when the queue is made (see the module docs).
#[allow(
    clippy::large_enum_variant,
    reason = "one per queue, behind its Arc: boxing would add a pointer hop to every put and get"
)]
pub(crate) enum Two<A, B> {
    A(A),
    B(B),
}

/// Calls `$call` on whichever core `$two` holds, bound to `$core`.
macro_rules! either {
    ($two:expr, $core:ident => $call:expr) => {
        match $two {
            Two::A($core) => $call,
            Two::B($core) => $call,
        }
    };
}

impl<A: Core, B: Core<Item = A::Item>> Core for Two<A, B> {
    type Item = A::Item;

    #[inline]
    fn put(
        &self,
        item: A::Item,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<(), (A::Item, Refused)> {
        either!(self, q => q.put(item, wait, location))
    }

    #[inline]
    fn get(&self, wait: Wait, location: &'static Location<'static>) -> Result<A::Item, Refused> {
        either!(self, q => q.get(wait, location))
    }

    fn id(&self) -> QueueId {
        either!(self, q => q.id())
    }

    #[inline]
    fn qsize(&self) -> usize {
        either!(self, q => q.qsize())
    }

    #[inline]
    fn full(&self) -> bool {
        either!(self, q => q.full())
    }

    fn maxsize(&self) -> usize {
        either!(self, q => q.maxsize())
    }

    fn shutdown(&self, immediate: bool) -> Vec<A::Item> {
        either!(self, q => q.shutdown(immediate))
    }

    fn is_shut_down(&self) -> bool {
        either!(self, q => q.is_shut_down())
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        either!(self, q => q.task_done())
    }

    fn unfinished(&self) -> usize {
        either!(self, q => q.unfinished())
    }

    fn join(&self, wait: Wait, location: &'static Location<'static>) -> bool {
        either!(self, q => q.join(wait, location))
    }

    fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        either!(self, q => q.debug_fields(f, name))
    }
}

impl<T, A: Source<T>, B: Source<T>> Source<T> for Two<A, B> {
    fn next_blocking(&self, location: &'static Location<'static>) -> Option<T> {
        either!(self, q => q.next_blocking(location))
    }

    fn next_now(&self, location: &'static Location<'static>) -> Option<T> {
        either!(self, q => q.next_now(location))
    }

    fn queue_id(&self) -> QueueId {
        either!(self, q => q.queue_id())
    }
}
