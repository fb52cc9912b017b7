//! The live registry: one entry per thread that threadkit knows, found from the thread itself
//! through a thread-local pointer and from everywhere else through a global table.
//!
//! # Who has an entry
//!
//! | thread | entry created | visible in [`enumerate`] | leaves the table |
//! |---|---|---|---|
//! | started by [`Thread::start`] | by the parent, before `start` returns | yes | when the thread ends, after its thread-locals are dropped |
//! | started by `thread::start_new_thread` | by the parent | once it calls [`current_thread`] | when it ends |
//! | the main thread | on first use, from any thread | yes | never |
//! | any other thread | the first time it blocks, takes a lock or asks for [`current_thread`] | once it calls [`current_thread`] (named `Dummy-N`) | when it ends (a thread-local destructor) |
//!
//! # Numbers and idents
//!
//! Each entry has a number, unique among live threads and reused after a thread ends (oldest
//! freed first): its slot in the table, so that the table does not grow with every thread
//! ever started. What names a thread anywhere else (a [`Lock`](crate::Lock)'s state word, a
//! wait record's owner, a `ReentrantMutex`'s owner) is its [`ident`](Thread::ident), never
//! reused, so that nothing can mistake a later thread for one that ended. The calling
//! thread's ident is cached in a `const` thread-local: reading it is one TLS load.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::record::WaitInfo;
use super::thread::{Inner, Kind, Thread};
use crate::sys;

/// The number stored for a thread that can no longer get an entry (it is running its
/// thread-local destructors). Lock owners with this number are reported as unknown.
pub(crate) const ANONYMOUS: u32 = (1 << 30) - 1;

/// The global table: slot `n - 1` holds the entry of thread number `n`.
struct Table {
    slots: Vec<Option<Arc<Inner>>>,
    free: VecDeque<u32>,
    live: usize,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    slots: Vec::new(),
    free: VecDeque::new(),
    live: 0,
});

fn table() -> std::sync::MutexGuard<'static, Table> {
    // The table's invariants hold between statements, so a panic elsewhere cannot break them.
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Process-wide counter behind the default names `Thread-N` and `Dummy-N` (shared, as in
/// Python).
static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);
/// Source of idents: unique, non-zero, never reused.
static IDENT_COUNTER: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_name(prefix: &str) -> String {
    format!("{prefix}-{}", NAME_COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub(crate) fn next_ident() -> u64 {
    IDENT_COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Puts `inner` in the table and gives it a number.
pub(crate) fn insert(inner: &Arc<Inner>) -> u32 {
    let mut t = table();
    let number = match t.free.pop_front() {
        Some(n) => {
            t.slots[n as usize - 1] = Some(inner.clone());
            n
        }
        None => {
            t.slots.push(Some(inner.clone()));
            t.slots.len() as u32
        }
    };
    debug_assert!(
        number < ANONYMOUS,
        "more live threads than the lock word can name"
    );
    t.live += 1;
    inner.number.store(number, Ordering::Release);
    number
}

/// Takes `inner` out of the table and frees its number.
pub(crate) fn remove(inner: &Inner) {
    let number = inner.number.load(Ordering::Acquire);
    if number == 0 || number == ANONYMOUS {
        return;
    }
    let mut t = table();
    let slot = &mut t.slots[number as usize - 1];
    if slot.as_deref().is_some_and(|e| std::ptr::eq(e, inner)) {
        *slot = None;
        // Not under loom: loom cannot see this std mutex, the only happens-before edge from
        // the number's last owner (and its last release of every lock word naming it) to the
        // next; loom would let the next owner read such a word's stale value as its own.
        #[cfg(not(loom))]
        t.free.push_back(number);
        t.live -= 1;
    }
}

/// The entry of the live thread whose ident is `ident` (a scan of the table: for readers of
/// lock words and wait records, never on a fast path).
pub(crate) fn lookup_ident(ident: u64) -> Option<Thread> {
    if ident == 0 {
        return None;
    }
    let t = table();
    t.slots
        .iter()
        .flatten()
        .find(|inner| inner.ident.load(Ordering::Relaxed) == ident)
        .map(|inner| Thread::from_inner(inner.clone()))
}

/// Wakes every thread parked on a thread entry's state key (its joiners and its starter).
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn wake_joiners(key: usize) {
    // SAFETY: no callback runs; waking threads parked on any key is always sound.
    unsafe {
        crate::primitive::parking_lot_core::unpark_all(
            key,
            crate::primitive::parking_lot_core::DEFAULT_UNPARK_TOKEN,
        );
    }
}

impl WaitInfo {
    /// The thread that owns the object at the moment the snapshot was taken (a lock's holder
    /// then, not when the wait began; the thread being joined), if there is one and it is
    /// still alive. Found by ident, which is never reused: never a thread that came later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // the main thread holds the lock
    /// let l = lock.clone();
    /// let t = Thread::new(move || {
    ///     l.acquire();
    ///     l.release().unwrap();
    /// });
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.owner(), Some(threadkit::current_thread()));
    /// assert_eq!(info.owner(), lock.holder());
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owner(&self) -> Option<Thread> {
        lookup_ident(self.rec.owner)
    }
}

/// Every entry in the table, visible or not, for a dump that must never block: the table
/// lock is only tried, `tries` times with a short pause between; `None` if it stayed taken
/// (a thread stopped, or being debugged, while holding it).
pub(crate) fn try_entries(tries: u32) -> Option<Vec<Arc<Inner>>> {
    for i in 0..tries {
        let t = match TABLE.try_lock() {
            Ok(t) => t,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                if i < 16 {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                continue;
            }
        };
        return Some(t.slots.iter().flatten().cloned().collect());
    }
    None
}

/// Holds the table lock until the returned value is dropped: for tests of readers that
/// must not block on it (a thread stopped while holding it).
#[cfg(test)]
pub(crate) fn hold_table() -> Box<dyn std::any::Any> {
    Box::new(table())
}

/// Every entry in the table, visible or not (for dumps).
pub(crate) fn all() -> Vec<Thread> {
    let t = table();
    t.slots
        .iter()
        .flatten()
        .map(|inner| Thread::from_inner(inner.clone()))
        .collect()
}

crate::primitive::thread_local! {
    /// The calling thread's entry, borrowed from [`OWNER`] (or from [`MAIN`] on the main
    /// thread). Null until the thread first needs it, and again once [`OWNER`] is dropped.
    static CURRENT: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
    /// The calling thread's number, 0 when unknown.
    static NUMBER: Cell<u32> = const { Cell::new(0) };
    /// The calling thread's ident as lock words store it, 0 until first needed: the one TLS
    /// load a lock's fast path makes. No destructor, and never reset: it stays the thread's
    /// (and readable) while the thread's other thread-locals are being dropped.
    static IDENT: Cell<u64> = const { Cell::new(0) };
    /// [`CURRENT`] once the entry is visible in [`enumerate`], else null: what
    /// [`current_thread`]'s fast path reads, so it makes one TLS load and no other check.
    static SHOWN: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
    /// Owns the entry of a thread that is not the main thread; dropping it ends the thread's
    /// life in the registry.
    static OWNER: Owner = const { Owner(RefCell::new(None)) };
}

/// The thread-local owner of an entry. Its destructor runs when the thread exits: for threads
/// that threadkit starts it is registered before user code runs, so (destructors running in
/// reverse order of registration) the thread is marked finished only after the user's own
/// thread-locals have been dropped.
struct Owner(RefCell<Option<Arc<Inner>>>);

impl Drop for Owner {
    fn drop(&mut self) {
        // A failing loom model unwinds and drops its threads' locals outside the model, where
        // any loom thread-local access panics again and aborts the whole test binary (losing
        // every other model's result). The entry is of no use to anyone by then.
        #[cfg(loom)]
        if std::thread::panicking() {
            return;
        }
        if let Some(inner) = self.0.borrow_mut().take() {
            // `try_with`: std never fails here (both are `const` without destructors), but
            // under loom every thread-local of the thread is gone by now.
            let _ = CURRENT.try_with(|c| c.set(std::ptr::null()));
            let _ = SHOWN.try_with(|c| c.set(std::ptr::null()));
            let _ = NUMBER.try_with(|n| n.set(0));
            inner.finish();
        }
    }
}

static MAIN: OnceLock<Arc<Inner>> = OnceLock::new();

/// The main thread's entry, created on first use from whichever thread asks first.
pub(crate) fn main_inner() -> &'static Arc<Inner> {
    MAIN.get_or_init(|| {
        let inner = Arc::new(Inner::new_bound(Kind::Main, "MainThread".into(), false));
        inner.ident.store(next_ident(), Ordering::Relaxed);
        inner.native_id.store(main_native_id(), Ordering::Relaxed);
        insert(&inner);
        inner
    })
}

fn main_native_id() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        std::process::id() as u64
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        // Only exact when the first caller is the main thread itself; corrected below when the
        // main thread binds.
        sys::native_id()
    }
}

/// The calling thread's ident, for lock words: [`get_ident`]'s value, and for a thread too
/// far into its teardown to get an entry, an ident of its own all the same (never 0, never
/// reused, stable for the thread). One TLS load when known.
#[inline]
pub(crate) fn current_ident() -> u64 {
    let i = IDENT.with(Cell::get);
    if i != 0 { i } else { bind_ident() }
}

#[cold]
#[inline(never)]
fn bind_ident() -> u64 {
    let p = current_ptr();
    // SAFETY: as in `with_current`: a non-null entry outlives this call on this thread.
    let ident = unsafe { p.as_ref() }.map_or(0, |inner| inner.ident.load(Ordering::Acquire));
    let ident = if ident != 0 { ident } else { next_ident() };
    IDENT.with(|c| c.set(ident));
    ident
}

/// The calling thread's entry pointer, binding the thread first if needed. Null only for a
/// thread that is running its thread-local destructors.
#[inline]
pub(crate) fn current_ptr() -> *const Inner {
    let p = CURRENT.with(Cell::get);
    if !p.is_null() { p } else { bind_current().0 }
}

/// Binds a child thread that threadkit started to the entry its parent made.
pub(crate) fn bind_started(inner: Arc<Inner>) {
    let ptr = Arc::as_ptr(&inner);
    let number = inner.number.load(Ordering::Acquire);
    OWNER.with(|o| *o.0.borrow_mut() = Some(inner));
    CURRENT.with(|c| c.set(ptr));
    NUMBER.with(|n| n.set(number));
}

/// First contact of a thread threadkit did not start: the main thread binds to [`MAIN`]; any
/// other gets an invisible dummy entry owned by a thread-local.
#[cold]
#[inline(never)]
fn bind_current() -> (*const Inner, u32) {
    if sys::is_main_thread() {
        let main = main_inner();
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        main.native_id.store(sys::native_id(), Ordering::Relaxed);
        let number = main.number.load(Ordering::Acquire);
        CURRENT.with(|c| c.set(Arc::as_ptr(main)));
        NUMBER.with(|n| n.set(number));
        return (Arc::as_ptr(main), number);
    }
    let inner = Arc::new(Inner::new_bound(Kind::Dummy, next_name("Dummy"), true));
    inner.ident.store(next_ident(), Ordering::Relaxed);
    inner.native_id.store(sys::native_id(), Ordering::Relaxed);
    let ptr = Arc::as_ptr(&inner);
    let installed = OWNER
        .try_with(|o| {
            let mut slot = o.0.borrow_mut();
            if slot.is_none() {
                insert(&inner);
                *slot = Some(inner);
                true
            } else {
                false
            }
        })
        .unwrap_or(false);
    if !installed {
        // Too late in this thread's life for a destructor: no entry, an anonymous number.
        return (std::ptr::null(), ANONYMOUS);
    }
    let number = NUMBER.with(|n| {
        // SAFETY: `ptr` points into the Arc that OWNER now holds for this thread's lifetime.
        let number = unsafe { &*ptr }.number.load(Ordering::Acquire);
        n.set(number);
        number
    });
    CURRENT.with(|c| c.set(ptr));
    (ptr, number)
}

/// The calling thread's entry as a handle, or `None` while its thread-locals are being torn
/// down.
#[inline]
pub(crate) fn current_handle() -> Option<Thread> {
    let p = current_ptr();
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` came from `Arc::as_ptr` of an Arc kept alive by OWNER or MAIN for as long as
    // CURRENT holds it (OWNER's destructor nulls CURRENT before dropping its Arc), so bumping
    // the strong count and rebuilding an Arc from it is sound.
    let inner = unsafe {
        Arc::increment_strong_count(p);
        Arc::from_raw(p)
    };
    Some(Thread::from_inner(inner))
}

/// Runs `f` on the calling thread's entry without touching its reference count, if the
/// thread has one.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Inner) -> R) -> Option<R> {
    let p = current_ptr();
    if p.is_null() {
        return None;
    }
    // SAFETY: as in `current_handle`, the entry outlives this call on this thread.
    Some(f(unsafe { &*p }))
}

/// The calling thread, as Python's `threading.current_thread()`.
///
/// Costs a thread-local read and an `Arc` clone. A thread threadkit did not start gets a
/// dummy entry the first time it asks (named `Dummy-N`, daemon, not joinable), listed by
/// [`enumerate`] until it ends.
///
/// # Examples
///
/// ```
/// let me = threadkit::current_thread();
/// assert!(me.is_alive());
/// let t = threadkit::Thread::builder().name("child").target(|| {
///     assert_eq!(threadkit::current_thread().name(), "child");
/// });
/// t.start()?;
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[inline]
pub fn current_thread() -> Thread {
    let p = SHOWN.with(Cell::get);
    if p.is_null() {
        return current_thread_slow();
    }
    // SAFETY: SHOWN is CURRENT or null, and a non-null CURRENT points into an Arc kept alive
    // by OWNER or MAIN (see `current_handle`); OWNER's destructor nulls both before dropping
    // its Arc.
    let inner = unsafe {
        Arc::increment_strong_count(p);
        Arc::from_raw(p)
    };
    Thread::from_inner(inner)
}

/// [`current_thread`] for a thread not bound yet, or not visible yet, or tearing down.
#[cold]
#[inline(never)]
fn current_thread_slow() -> Thread {
    match current_handle() {
        Some(t) => {
            t.inner.visible.store(true, Ordering::Relaxed);
            SHOWN.with(|c| c.set(Arc::as_ptr(&t.inner)));
            t
        }
        // The thread is tearing down its thread-locals: hand out an unregistered dummy.
        None => Thread::from_inner(Arc::new(Inner::new_bound(
            Kind::Dummy,
            next_name("Dummy"),
            true,
        ))),
    }
}

/// The main thread (the one that runs `main`), as Python's `threading.main_thread()`.
///
/// # Examples
///
/// ```
/// let main = threadkit::main_thread();
/// assert_eq!(main.name(), "MainThread");
/// assert!(!main.is_daemon());
/// ```
pub fn main_thread() -> Thread {
    Thread::from_inner(main_inner().clone())
}

/// Every live thread that [`enumerate`] would list right now: those threadkit started, the
/// main thread, and other threads that have called [`current_thread`].
///
/// # Examples
///
/// ```
/// let t = threadkit::Thread::new(|| {});
/// t.start()?;
/// assert!(threadkit::enumerate().contains(&threadkit::main_thread()));
/// t.join()?;
/// assert!(!threadkit::enumerate().contains(&t));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn enumerate() -> Vec<Thread> {
    main_inner();
    let t = table();
    t.slots
        .iter()
        .flatten()
        .filter(|inner| inner.visible.load(Ordering::Relaxed))
        .map(|inner| Thread::from_inner(inner.clone()))
        .collect()
}

/// How many threads [`enumerate`] would list, as Python's `threading.active_count()`.
///
/// # Examples
///
/// ```
/// assert!(threadkit::active_count() >= 1); // at least the main thread
/// ```
pub fn active_count() -> usize {
    enumerate().len()
}

/// The calling thread's [`ident`](Thread::ident), as Python's `threading.get_ident()`:
/// unique in the process, never reused, never zero.
///
/// # Examples
///
/// ```
/// assert_eq!(Some(threadkit::get_ident()), threadkit::current_thread().ident());
/// ```
#[inline]
pub fn get_ident() -> u64 {
    with_current(|inner| inner.ident.load(Ordering::Relaxed)).unwrap_or(0)
}

/// The kernel's id for the calling thread, as Python's `threading.get_native_id()`.
///
/// # Examples
///
/// ```
/// assert_eq!(Some(threadkit::get_native_id()), threadkit::current_thread().native_id());
/// ```
pub fn get_native_id() -> u64 {
    sys::native_id()
}

/// The calling thread's entry pointer if it is bound, without binding it.
pub(crate) fn peek_current() -> *const Inner {
    CURRENT.with(Cell::get)
}

/// What the registry does for an entry and a handle.
impl Inner {
    /// Marks the thread finished: out of the table, joiners woken.
    pub(crate) fn finish(&self) {
        remove(self);
        self.state
            .store(super::thread::state::FINISHED, Ordering::Release);
        // Not under loom: there a thread's entry is finished from loom's thread-local
        // teardown, where the modelled parking lot may no longer be reached (loom panics),
        // and no model joins through the registry (loom threads are joined by their handles),
        // so nobody could be parked on this key.
        #[cfg(not(loom))]
        wake_joiners(self.state_key());
    }
}

impl Thread {
    /// True when this handle is the calling thread.
    pub(crate) fn is_current(&self) -> bool {
        std::ptr::eq(current_ptr(), Arc::as_ptr(&self.inner))
    }
}
