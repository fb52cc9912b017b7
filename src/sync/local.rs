//! [`Local`]: one value per thread, as Python's `threading.local`.
//!
//! # How it works
//!
//! Each thread has one thread-local map from a `Local`'s id (unique, never reused) to that
//! thread's slot for it. The slot is shared with the `Local`, which keeps a list of every
//! thread's slot. Whoever comes first drops the value: the thread's end (the map's destructor)
//! or the `Local`'s drop; a flag in the slot makes sure only one of them does.
//!
//! A value is only ever referenced by its own thread, inside [`Local::with`]; the `Local`'s
//! drop, which may run on another thread, can only run once no `with` is running (it needs the
//! `Local` by value), and a thread's end only once that thread runs no more code. That is what
//! makes the `unsafe` accesses below sound, and why `T` needs to be `Send` (its drop may
//! happen elsewhere) but not `Sync` (no other thread ever sees it).
//!
//! # The fast path
//!
//! Each thread also keeps a small direct-mapped cache, `(id, slot address)` at `id % WAYS`, in
//! a thread-local without a destructor (so reading it is one TLS access, with no
//! registration check). A `with` whose id is in the cache uses the slot at once: no map, no
//! reference count, no type check. That is sound because:
//! - ids are never reused, so a cached id that matches is the calling `Local`'s, which is alive
//!   (`with` borrows it), and the slot is of its type `T`;
//! - while a `Local` and a thread both live, that thread's slot for it stays in the thread's
//!   map (entries leave the map only when their `Local` is dropped or the thread ends), so the
//!   address stays valid;
//! - the thread's end (the map's destructor) empties the cache before it drops any value.
//!
//! Measured (`cargo bench --bench primitives -- local_with`, a read and a write of a
//! `Cell<u64>`, on a loaded two-core machine): the cached path is about 8x faster than the
//! map path alone, within 2x of `std::thread_local!` and about half the time of the
//! `thread_local` crate's `ThreadLocal::get_or`. That crate would not do here anyway: it keeps
//! a thread's value until the `ThreadLocal` is dropped, and hands it to a later thread that
//! reuses the ended one's id, where `threading.local` gives each thread a fresh value and
//! drops it when the thread ends.

use std::any::Any;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::ManuallyDrop;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::lock::Lock;
use super::mutex::Mutex;

/// Source of `Local` ids: unique in the process, never reused.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Maps (the per-thread one, and a `Local`'s list) are pruned of dead entries when they reach
/// this size, then again when they double.
const PRUNE_START: usize = 8;

/// Entries in each thread's cache of recently used slots.
const WAYS: usize = 8;

thread_local! {
    /// This thread's slots, by `Local` id.
    static SLOTS: ThreadSlots = ThreadSlots {
        map: RefCell::new(HashMap::default()),
        prune_at: Cell::new(PRUNE_START),
    };

    /// This thread's cache of slots (see the module docs): `(id, address of a Slot<T>)` at
    /// `id % WAYS`; id 0 (never given out) marks an empty entry. No destructor: it stays
    /// readable while other thread-locals are destroyed, and [`ThreadSlots`]'s drop empties it.
    static CACHE: [Cell<(u64, *const ())>; WAYS] =
        const { [const { Cell::new((0, ptr::null())) }; WAYS] };
}

/// A value per thread, as Python's `threading.local`: each thread that calls
/// [`with`](Local::with) gets its own value, made by the `init` closure the first time that
/// thread asks, and dropped when that thread ends.
///
/// A `Local` is an ordinary value: it can be a field of a struct shared between threads
/// (`Local<T>` is `Send` and `Sync` whenever `T` is `Send`), held in an `Arc`, or dropped early.
///
/// # When values are dropped
///
/// Each thread's value is dropped at the first of:
/// - the end of its thread (for a thread started by threadkit, before
///   [`Thread::join`](crate::Thread::join) returns; for other threads, during their
///   thread-local destructors; the main thread's value, like every thread-local of the main
///   thread, may never be dropped when the process exits);
/// - the drop of the `Local`, which drops the values of every thread, on the thread that drops
///   the `Local`.
///
/// # Changing the value
///
/// [`with`](Local::with) lends the value as `&T`, as `std::thread_local!` does: to change it,
/// put it in a [`Cell`] or a [`RefCell`] (no `Sync` needed: no other thread ever sees it).
/// A `with_mut(&mut T)` is not offered, since a nested `with` on the same `Local` inside it
/// could then only fail or alias.
///
/// # Differences from Python
///
/// - A `Local<T>` holds one value of one type, made by `init`, instead of arbitrary
///   attributes: use a struct for several.
/// - Python drops a thread's attributes when the thread ends or the `local` object is
///   collected; so does `Local`, deterministically (see above).
/// - From inside a thread-local destructor that runs after this thread's `Local` storage is
///   gone, [`with`](Local::with) lends a fresh value from `init` that is dropped right after
///   (Python has no such moment).
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::sync::Arc;
/// use threadkit::{Local, Thread};
///
/// let counter = Arc::new(Local::new(|| Cell::new(0)));
/// counter.with(|c| c.set(c.get() + 10));
/// let c = counter.clone();
/// let t = Thread::new(move || {
///     c.with(|c| c.set(c.get() + 1));
///     assert_eq!(c.with(|c| c.get()), 1); // its own value, not the main thread's
/// });
/// t.start()?;
/// t.join()?;
/// assert_eq!(counter.with(|c| c.get()), 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Local<T: Send + 'static> {
    id: u64,
    init: Box<dyn Fn() -> T + Send + Sync>,
    /// Every thread's slot, to drop their values when the `Local` goes; slots whose value is
    /// gone (their thread ended) are pruned as the list grows.
    slots: Mutex<SlotList<T>>,
}

struct SlotList<T> {
    slots: Vec<Arc<Slot<T>>>,
    prune_at: usize,
}

impl<T: Send + 'static> Local<T> {
    /// A `Local` whose value, in each thread, is made by `init` on that thread's first
    /// [`with`](Local::with).
    ///
    /// # Examples
    ///
    /// ```
    /// let name = threadkit::Local::new(|| threadkit::current_thread().name());
    /// assert_eq!(name.with(|n| n.clone()), "MainThread");
    /// ```
    pub fn new<F>(init: F) -> Local<T>
    where
        F: Fn() -> T + Send + Sync + 'static,
    {
        Local {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            init: Box::new(init),
            // `from_raw`, not `Mutex::new`: the latter names `Lock::INIT`, which a loom build
            // cannot have (loom atomics are not `const`), and fails to compile under loom.
            slots: Mutex::from_raw(
                Lock::new(),
                SlotList {
                    slots: Vec::new(),
                    prune_at: PRUNE_START,
                },
            ),
        }
    }

    /// Calls `f` with the calling thread's value, made by `init` first if this thread has
    /// none yet. `with` may be nested, on the same `Local` or others, and `init` may use other
    /// `Local`s (not the one it initialises: that recursion would never end).
    ///
    /// # Panics
    ///
    /// Only if `init` or `f` panics (the panic passes through; no value is stored when `init`
    /// panics).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// let log = threadkit::Local::new(|| RefCell::new(Vec::new()));
    /// log.with(|l| l.borrow_mut().push("a"));
    /// log.with(|l| l.borrow_mut().push("b"));
    /// assert_eq!(log.with(|l| l.borrow().len()), 2);
    /// ```
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let way = self.id as usize % WAYS;
        let (id, cached) = CACHE.with(|c| c[way].get());
        if id == self.id {
            // SAFETY: the cache holds `(self.id, p)` only where `p` is the address of this
            // thread's `Slot<T>` for this `Local` (ids are never reused), set below from a
            // slot in this thread's map. That slot stays in the map, and its value stays
            // undropped, while `self` lives (it is borrowed here) and this thread runs (its
            // map's destructor empties the cache before dropping values): see the module docs.
            let slot = unsafe { &*cached.cast::<Slot<T>>() };
            // SAFETY: as in `with_slow`: only this thread reads the value, and neither of the
            // two drops can happen while `f` runs.
            return f(unsafe { slot.get() });
        }
        self.with_slow(way, f)
    }

    /// [`with`](Local::with) through the thread's map, filling the cache on the way.
    #[inline(never)]
    fn with_slow<R>(&self, way: usize, f: impl FnOnce(&T) -> R) -> R {
        match self.slot() {
            Some(entry) => {
                let slot = entry
                    .as_any()
                    .downcast_ref::<Slot<T>>()
                    .expect("a Local's id maps to slots of its own type");
                let address = ptr::from_ref(slot).cast::<()>();
                CACHE.with(|c| c[way].set((self.id, address)));
                // SAFETY: this slot belongs to the calling thread and its value is only
                // dropped (1) by this thread's end, which cannot come while this thread runs
                // `f`, or (2) by the `Local`'s drop, which cannot run while `self` is borrowed
                // here. No `&mut` to the value exists outside those two drops.
                f(unsafe { slot.get() })
            }
            // This thread's slot map is gone (we run in a thread-local destructor).
            None => f(&(self.init)()),
        }
    }

    /// A clone of the calling thread's value.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = threadkit::Local::new(|| 7);
    /// assert_eq!(l.get(), 7);
    /// ```
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// The calling thread's slot, made now if it has none; `None` if the thread's map is gone.
    fn slot(&self) -> Option<Rc<Entry>> {
        let found = SLOTS
            .try_with(|s| s.map.borrow().get(&self.id).cloned())
            .ok()?;
        match found {
            Some(entry) => Some(entry),
            None => self.make_slot(),
        }
    }

    #[cold]
    #[inline(never)]
    fn make_slot(&self) -> Option<Rc<Entry>> {
        // No borrow is held while `init` runs: it may use other Locals, or this one.
        let slot = Arc::new(Slot::new((self.init)()));
        let entry: Rc<Entry> = Rc::new(slot.clone());
        let (entry, inserted, pruned) = SLOTS.try_with(|s| s.insert(self.id, entry)).ok()?;
        // Dropped outside the map's borrow: dead slots hold no value, but keep it simple.
        drop(pruned);
        if inserted {
            let mut list = self.slots.lock();
            if list.slots.len() >= list.prune_at {
                list.slots.retain(|s| !s.is_taken());
                list.prune_at = (list.slots.len() * 2).max(PRUNE_START);
            }
            list.slots.push(slot);
        }
        // Else `init` used this Local and made the thread's slot first: ours is dropped here.
        Some(entry)
    }

    /// How many threads hold a value right now (a snapshot, for diagnostics; `None` if the
    /// list is being changed by another thread).
    fn live_threads(&self) -> Option<usize> {
        let list = self.slots.try_lock()?;
        Some(list.slots.iter().filter(|s| !s.is_taken()).count())
    }
}

impl<T: Send + Default + 'static> Default for Local<T> {
    /// A `Local` whose value starts as `T::default()` in each thread.
    fn default() -> Self {
        Local::new(T::default)
    }
}

impl<T: Send + 'static> Drop for Local<T> {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.slots.get_mut().slots);
        for slot in &slots {
            // SAFETY: `self` is being dropped, so no `with` on it runs on any thread: no
            // reference to any of its values is live.
            unsafe { slot.release() };
        }
        // Our entry in this thread's map is dead now; remove it (others are pruned later).
        let entry = SLOTS
            .try_with(|s| s.map.try_borrow_mut().ok()?.remove(&self.id))
            .ok()
            .flatten();
        drop(entry);
    }
}

impl<T: Send + 'static> fmt::Debug for Local<T> {
    /// `Local { threads: Some(3) }`: never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local")
            .field("threads", &self.live_threads())
            .finish_non_exhaustive()
    }
}

/// One thread's value of one `Local`, shared by that thread's map and the `Local`'s list.
struct Slot<T> {
    value: UnsafeCell<ManuallyDrop<T>>,
    /// Set by whoever drops the value: the thread's end or the `Local`'s drop.
    taken: AtomicBool,
}

// SAFETY: a `Slot` is shared between its thread and the `Local`. Only its own thread reads
// the value (`Local::with`); the only other access is `release`, which drops it, runs at most
// once (the `taken` flag), and is called only when no reference to the value is live. So the
// value is never accessed from two threads at once; it may be dropped on another thread than
// the one that made it, which `T: Send` allows.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Slot<T> {
    fn new(value: T) -> Self {
        Slot {
            value: UnsafeCell::new(ManuallyDrop::new(value)),
            taken: AtomicBool::new(false),
        }
    }

    /// The value.
    ///
    /// # Safety
    ///
    /// Only on the slot's own thread, and the value must not be released while the returned
    /// reference lives.
    unsafe fn get(&self) -> &T {
        // SAFETY: per the contract, nothing drops or mutates the value meanwhile.
        unsafe { &*self.value.get() }
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        if !*self.taken.get_mut() {
            // SAFETY: not taken, so the value is still there, and `&mut self` is exclusive.
            unsafe { ManuallyDrop::drop(self.value.get_mut()) };
        }
    }
}

/// What a thread's map holds: a slot of any `Local`'s type.
type Entry = Arc<dyn ErasedSlot>;

trait ErasedSlot {
    fn as_any(&self) -> &dyn Any;
    /// True once the value is dropped.
    fn is_taken(&self) -> bool;
    /// Drops the value unless that was done already.
    ///
    /// # Safety
    ///
    /// No reference to the value (from [`Slot::get`]) may be live.
    unsafe fn release(&self);
}

impl<T: Send + 'static> ErasedSlot for Slot<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn is_taken(&self) -> bool {
        self.taken.load(Ordering::Acquire)
    }

    unsafe fn release(&self) {
        if !self.taken.swap(true, Ordering::AcqRel) {
            // SAFETY: the swap makes us the only one to drop it; per the contract nobody
            // references it.
            unsafe { ManuallyDrop::drop(&mut *self.value.get()) };
        }
    }
}

/// One thread's map of slots, by `Local` id. Dropped at the thread's end, dropping every value
/// still in it.
struct ThreadSlots {
    map: RefCell<HashMap<u64, Rc<Entry>, BuildHasherDefault<IdHasher>>>,
    prune_at: Cell<usize>,
}

impl ThreadSlots {
    /// Inserts `entry` for `id` unless one is there (made by a nested first use during
    /// `init`). Returns the entry in the map, whether it is ours, and the dead entries pruned
    /// on the way (to drop once the map is no longer borrowed).
    fn insert(&self, id: u64, entry: Rc<Entry>) -> (Rc<Entry>, bool, Vec<Rc<Entry>>) {
        let mut map = self.map.borrow_mut();
        if let Some(existing) = map.get(&id) {
            return (existing.clone(), false, Vec::new());
        }
        let mut pruned = Vec::new();
        if map.len() >= self.prune_at.get() {
            // Entries of dropped Locals: their values are gone already.
            let dead: Vec<u64> = map
                .iter()
                .filter(|(_, e)| e.is_taken())
                .map(|(&k, _)| k)
                .collect();
            pruned.extend(dead.iter().filter_map(|k| map.remove(k)));
            self.prune_at.set((map.len() * 2).max(PRUNE_START));
        }
        map.insert(id, entry.clone());
        (entry, true, pruned)
    }
}

impl Drop for ThreadSlots {
    fn drop(&mut self) {
        // First, so that no `with` (from a value's drop below, or a later thread-local
        // destructor) finds a slot whose value is gone.
        CACHE.with(|c| c.iter().for_each(|e| e.set((0, ptr::null()))));
        let map = std::mem::take(self.map.get_mut());
        for entry in map.values() {
            // SAFETY: the thread is ending: none of its `with` calls runs any more, and a
            // `with` started from a value's drop here cannot reach this map (it is being
            // destroyed, so `with` falls back to a temporary value).
            unsafe { entry.release() };
        }
    }
}

/// A hasher for `Local` ids (small, sequential integers): one multiplication spreads them.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn locals_sharing_a_cache_entry_keep_their_own_values() {
        // Three times as many Locals as cache entries: each entry is shared, and a `with`
        // alternates between them, so every lookup after the first may find another's id.
        let locals: Vec<Local<Cell<usize>>> =
            (0..3 * WAYS).map(|_| Local::new(|| Cell::new(0))).collect();
        for round in 1..=3 {
            for (i, l) in locals.iter().enumerate() {
                l.with(|v| v.set(v.get() + i + 1));
                assert_eq!(l.with(Cell::get), round * (i + 1));
            }
        }
    }

    #[test]
    fn a_new_local_in_a_dropped_ones_cache_entry_starts_from_init() {
        let old = Local::new(|| Cell::new(0u32));
        old.with(|v| v.set(7));
        let way = old.id as usize % WAYS;
        drop(old);
        // Ids are shared with other tests' Locals: make new ones until one lands on `way`.
        let new = std::iter::repeat_with(|| Local::new(|| Cell::new(0u32)))
            .find(|l| l.id as usize % WAYS == way)
            .expect("ids keep coming");
        assert_eq!(
            new.with(Cell::get),
            0,
            "the dropped Local's value leaked into a new one"
        );
    }

    #[test]
    fn each_thread_reads_its_own_slot_through_its_own_cache() {
        let l = std::sync::Arc::new(Local::new(|| Cell::new(0u64)));
        l.with(|v| v.set(1));
        let handles: Vec<_> = (2..6u64)
            .map(|n| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        l.with(|v| v.set(v.get() + n));
                    }
                    l.with(Cell::get)
                })
            })
            .collect();
        let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(sums, [200, 300, 400, 500]);
        assert_eq!(l.with(Cell::get), 1);
    }
}
