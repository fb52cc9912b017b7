//! The [`Collector`] that [`wait`](super::wait) and [`as_completed`](super::as_completed)
//! register on every future they watch: each future tells it its index when it becomes done.
//! Its own file, so that futures (which call it) and the waiting functions (which read it)
//! do not import each other.

use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::sync::wait::{self, Blocked, ObjectId, ObjectKind};
use crate::{Lock, Mutex, WaitKind};

/// Told by each future it is registered on when that future becomes done.
pub(crate) struct Collector {
    /// Indices of the futures that became done, in that order.
    pub(crate) order: Mutex<Vec<usize>>,
    pub(crate) completed: AtomicUsize,
    pub(crate) failed: AtomicUsize,
}

impl Collector {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Collector {
            order: Mutex::from_raw(Lock::new(), Vec::new()),
            completed: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        })
    }

    fn key(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// The future at `index` became done (`failed`: with an exception).
    pub(crate) fn notify(&self, index: usize, failed: bool) {
        self.order.lock().push(index);
        if failed {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        self.completed.fetch_add(1, Ordering::SeqCst);
        wait::unpark_all(self.key());
    }

    /// Parks until `enough()` or the deadline; false on timeout.
    pub(crate) fn wait(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
        enough: impl Fn() -> bool,
    ) -> bool {
        wait::wait_while(self.key(), blocked(self.key(), location), deadline, || {
            !enough()
        })
    }
}

/// The wait record of a thread in `wait` or `as_completed`: several futures (the object is
/// the collector they report to), no one owner.
fn blocked(object: usize, location: &'static Location<'static>) -> Blocked {
    Blocked::on(
        WaitKind::Future,
        ObjectId::new(ObjectKind::Future, object),
        location,
    )
}
