//! What the loom model files share: the two ways to run a model, and a handle that lets a
//! model wait until a thread is inside the crate's wait path.

#![allow(dead_code)] // each loom file uses its own subset

use loom::thread;

/// A model explored exhaustively (two threads).
pub fn exhaustive(f: impl Fn() + Sync + Send + 'static) {
    loom::model::Builder::new().check(f);
}

/// A model with at most `bound` preemptions per execution, unless `LOOM_MAX_PREEMPTIONS`
/// says otherwise (three threads explored exhaustively take far too long).
pub fn bounded(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

/// A waiter thread's registry handle, published by the waiter so that the model can see when
/// it has reached the crate's wait path.
#[derive(Clone, Default)]
pub struct Handle(std::sync::Arc<std::sync::OnceLock<threadkit::Thread>>);

impl Handle {
    /// Called by the waiter before it blocks.
    pub fn publish(&self) {
        let _ = self.0.set(threadkit::current_thread());
    }

    /// Yields (to loom) until the waiter is recorded as waiting: it is then inside the wait
    /// path, about to park or parked. loom runs a thread that spins with `yield_now` (as the
    /// primitives' `SpinWait` does under loom) only when the others block or yield, so
    /// without this a releaser that never blocks would always act before the waiter parks,
    /// and the park/unpark path would go unexplored.
    pub fn until_waiting(&self) {
        loop {
            if self.0.get().is_some_and(|t| t.waiting().is_some()) {
                return;
            }
            thread::yield_now();
        }
    }
}
