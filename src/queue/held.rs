//! [`Held`]: the one guard of the lock-based queue cores. A core's lock and the state it
//! guards may sit apart in the core's layout (each placed for its cache line), so a core
//! says where they are by implementing [`Guarded`]; a `Held` of it then derefs to the state
//! while the lock is held and releases the lock on drop. The one-lock core guards its whole
//! state with it, the two-lock core each of its ends.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};

use crate::Lock;

/// A lock and the state it guards.
///
/// # Safety
///
/// [`state`](Guarded::state) is reached only through a [`Held`] of the same object (no other
/// code reads or writes the cell), and [`lock`](Guarded::lock) returns the same lock every
/// time: then a `Held` is the only way to the state and exists only while the lock is held.
pub(super) unsafe trait Guarded {
    /// What the lock guards.
    type State;

    /// The lock.
    fn lock(&self) -> &Lock;

    /// The state, to be reached only through a [`Held`].
    fn state(&self) -> &UnsafeCell<Self::State>;
}

/// `G`'s lock, held: derefs to the state it guards, releases the lock on drop.
pub(super) struct Held<'a, G: Guarded> {
    owner: &'a G,
}

impl<'a, G: Guarded> Held<'a, G> {
    /// Takes `owner`'s lock, a waiter spinning at `pace` (see `Lock::acquire_paced`; the
    /// queue cores' [`lock_pace`](super::common::lock_pace)).
    #[inline]
    #[track_caller]
    pub(super) fn acquire(owner: &'a G, pace: u32) -> Self {
        owner.lock().acquire_paced(pace);
        Held { owner }
    }

    /// Takes `owner`'s lock if it is free now.
    #[inline]
    #[track_caller]
    pub(super) fn try_acquire(owner: &'a G) -> Option<Self> {
        // `then`, not `then_some`: a `Held` built for a lock someone else holds would
        // release that lock when dropped.
        owner.lock().try_acquire().then(|| Held { owner })
    }

    /// The guard of `owner`'s lock, which the calling thread holds already (for example
    /// after a park that returned without releasing it).
    ///
    /// # Safety
    ///
    /// The calling thread holds `owner`'s lock, and no other guard of it exists: the new
    /// guard releases it when dropped.
    #[inline]
    pub(super) unsafe fn assume(owner: &'a G) -> Self {
        Held { owner }
    }

    /// The object whose lock this is (an associated function, so that it never hides a
    /// method of the state).
    #[inline]
    pub(super) fn owner(this: &Self) -> &'a G {
        this.owner
    }
}

impl<G: Guarded> Deref for Held<'_, G> {
    type Target = G::State;
    #[inline]
    fn deref(&self) -> &G::State {
        // SAFETY: a `Held` exists only while the lock is held by its creator, and the state is
        // reached only through it (`Guarded`'s contract).
        unsafe { &*self.owner.state().get() }
    }
}

impl<G: Guarded> DerefMut for Held<'_, G> {
    #[inline]
    fn deref_mut(&mut self) -> &mut G::State {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { &mut *self.owner.state().get() }
    }
}

impl<G: Guarded> Drop for Held<'_, G> {
    #[inline]
    fn drop(&mut self) {
        self.owner.lock().release_shared();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::UnsafeCell;

    use super::{Guarded, Held};
    use crate::Lock;
    use crate::sync::wait::EXCLUSION_PAUSES;

    struct Guard {
        lock: Lock,
        state: UnsafeCell<u32>,
    }

    // SAFETY: `lock` is the one lock, and `state` is reached only through `Held`.
    unsafe impl Guarded for Guard {
        type State = u32;
        fn lock(&self) -> &Lock {
            &self.lock
        }
        fn state(&self) -> &UnsafeCell<u32> {
            &self.state
        }
    }

    #[test]
    fn a_failed_try_acquire_leaves_the_holders_lock_held() {
        let g = Guard {
            lock: Lock::new(),
            state: UnsafeCell::new(0),
        };
        let held = Held::acquire(&g, EXCLUSION_PAUSES);
        assert!(Held::try_acquire(&g).is_none());
        // The failed attempt must not have released the holder's lock (a queue's `Debug`
        // uses it while other threads work on the queue).
        assert!(g.lock.locked());
        assert!(!g.lock.try_acquire());
        drop(held);
        assert!(!g.lock.locked());
        assert!(Held::try_acquire(&g).is_some());
        assert!(!g.lock.locked(), "the guard released it as it dropped");
    }
}
