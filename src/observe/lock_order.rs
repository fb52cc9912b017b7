//! Lock-order checking, switched on and off at run time: deadlocks that *could* happen,
//! reported before they do (Abseil's deadlock detection mode, `tracing-mutex`'s check).
//!
//! While it is on ([`enable`]), every thread keeps the list of the locks it holds, and each
//! blocking acquisition of a [`Lock`](crate::Lock), an [`RLock`](crate::RLock) (its first
//! level), a [`Mutex`](crate::Mutex), a [`ReentrantMutex`](crate::ReentrantMutex) (first
//! level), an [`RwLock`](crate::RwLock) (for reading, writing or an upgradable read: a writer
//! waiting behind a reader can close a cycle as surely as two writers) or a
//! [`Condition`](crate::Condition)'s lock (taken with `acquire` or `guard`) adds, for each
//! lock `A` the thread holds, the edge "`A` held while taking `B`" to one global
//! [`LockOrderGraph`]. The first acquisition whose edge closes a cycle (somewhere, some thread
//! took `B` (perhaps through other locks) and then `A`) is reported with both orders and the
//! source lines of all four acquisitions, before the lock is taken: a program that only *could*
//! deadlock (the two orders never overlapped in time) is caught too. [`OnCycle`] says what
//! happens then: a report on stderr, a panic in the acquiring thread (nothing is taken: the
//! lock stays usable), or a callback.
//!
//! # Cost
//!
//! Off, every acquisition pays one relaxed load of a static byte and a branch not taken
//! (the same one that held-lock tracking already paid). On, each acquisition and release
//! writes the thread's own held-lock list with plain stores (a seqlock that dumps read without
//! blocking it: no lock, no read-modify-write), and an acquisition whose edges are all known
//! costs a walk over that list and one lookup per held lock in a thread-local cache: no global
//! lock, nothing shared written. Only a new pair of locks takes the global graph's lock.
//!
//! # A lock dropped and another made at the same address
//!
//! Locks are known by address. A `Lock` or `RLock` dropped while checking is on takes its node
//! out of the graph (a drop hook, one relaxed load while off), so a new lock at the same
//! address starts with no order. A lock dropped while checking was off leaves nothing behind:
//! [`enable`] starts from an empty graph. The limit: a lock that is forgotten
//! (`std::mem::forget`) inside memory that is then reused keeps its node.
//!
//! Also not checked: a `Condition` wait taking its lock back (the thread took it, checked,
//! before the wait, and a panic there would leave the caller's guard releasing a lock it does
//! not hold; it is listed as held again); timed and non-blocking acquisitions (they cannot deadlock forever; a
//! try-lock in the "wrong" order is a common way to avoid a deadlock), though the locks they
//! take count as held; an `RwLock` upgrade (the lock is already held); a thread taking a `Lock` it already holds
//! (the deadlock report sees that one: a `Lock` may be released by another thread, so the held
//! list cannot tell).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::observe::graph::{EdgeError, LockOrderGraph, NodeId};
use crate::sync::held;
use crate::threading::record::{HeldList, HeldLock, ObjectId};

/// What happens when an acquisition would close a cycle in the lock order.
///
/// # Examples
///
/// ```
/// use threadkit::observe::lock_order::OnCycle;
///
/// let hook = OnCycle::callback(|v| eprintln!("{v}"));
/// assert!(matches!(hook, OnCycle::Callback(_)));
/// assert!(matches!(OnCycle::default(), OnCycle::Report));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum OnCycle {
    /// Print the report to stderr, once per pair of locks, and go on.
    #[default]
    Report,
    /// Panic in the acquiring thread with the report as the message, before taking the lock
    /// (which stays usable). Every such acquisition panics.
    Panic,
    /// Call this function with the report, once per pair of locks, on the acquiring thread,
    /// before it takes the lock. It may take locks itself.
    Callback(Arc<dyn Fn(&LockOrderViolation) + Send + Sync>),
}

impl OnCycle {
    /// A [`Callback`](OnCycle::Callback) from a closure.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::lock_order::OnCycle;
    /// assert!(matches!(OnCycle::callback(|_| {}), OnCycle::Callback(_)));
    /// ```
    pub fn callback(f: impl Fn(&LockOrderViolation) + Send + Sync + 'static) -> Self {
        OnCycle::Callback(Arc::new(f))
    }
}

impl fmt::Debug for OnCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnCycle::Report => f.write_str("Report"),
            OnCycle::Panic => f.write_str("Panic"),
            OnCycle::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

/// One observed order: a thread took `taken` at `taken_at` while it held `held`, which it had
/// taken at `held_at`.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use threadkit::Lock;
/// use threadkit::observe::lock_order::{self, OnCycle};
///
/// let seen = Arc::new(Mutex::new(None));
/// let s = seen.clone();
/// lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
/// let (a, b) = (Lock::new(), Lock::new());
/// { let _a = a.guard(); let _b = b.guard(); }
/// { let _b = b.guard(); let _a = a.guard(); }
/// lock_order::disable();
/// let v = seen.lock().unwrap().take().expect("reported");
/// let edge = v.now();
/// assert_eq!((edge.held(), edge.taken()), (b.id(), a.id()));
/// assert_eq!(edge.thread(), "MainThread");
/// assert!(edge.held_at().column() < edge.taken_at().column()); // the same line
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEdge {
    held: ObjectId,
    held_at: &'static Location<'static>,
    taken: ObjectId,
    taken_at: &'static Location<'static>,
    thread: String,
}

impl OrderEdge {
    /// The lock that was held.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use threadkit::Lock;
    /// # use threadkit::observe::lock_order::{self, OnCycle};
    /// # let seen = Arc::new(Mutex::new(None));
    /// # let s = seen.clone();
    /// # lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
    /// let (a, b) = (Lock::new(), Lock::new());
    /// { let _a = a.guard(); let _b = b.guard(); }
    /// { let _b = b.guard(); let _a = a.guard(); }
    /// # lock_order::disable();
    /// let v = seen.lock().unwrap().take().unwrap();
    /// assert_eq!(v.now().held(), b.id());
    /// ```
    pub fn held(&self) -> ObjectId {
        self.held
    }

    /// Where the held lock had been taken.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use threadkit::Lock;
    /// # use threadkit::observe::lock_order::{self, OnCycle};
    /// # let seen = Arc::new(Mutex::new(None));
    /// # let s = seen.clone();
    /// # lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
    /// let (a, b) = (Lock::new(), Lock::new());
    /// { let _a = a.guard(); let _b = b.guard(); }
    /// { let _b = b.guard(); let _a = a.guard(); }
    /// # lock_order::disable();
    /// let v = seen.lock().unwrap().take().unwrap();
    /// assert!(v.now().held_at().column() < v.now().taken_at().column());
    /// ```
    pub fn held_at(&self) -> &'static Location<'static> {
        self.held_at
    }

    /// The lock taken while [`held`](Self::held) was held.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use threadkit::Lock;
    /// # use threadkit::observe::lock_order::{self, OnCycle};
    /// # let seen = Arc::new(Mutex::new(None));
    /// # let s = seen.clone();
    /// # lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
    /// let (a, b) = (Lock::new(), Lock::new());
    /// { let _a = a.guard(); let _b = b.guard(); }
    /// { let _b = b.guard(); let _a = a.guard(); }
    /// # lock_order::disable();
    /// let v = seen.lock().unwrap().take().unwrap();
    /// assert_eq!(v.now().taken(), a.id());
    /// ```
    pub fn taken(&self) -> ObjectId {
        self.taken
    }

    /// Where it was taken.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use threadkit::Lock;
    /// # use threadkit::observe::lock_order::{self, OnCycle};
    /// # let seen = Arc::new(Mutex::new(None));
    /// # let s = seen.clone();
    /// # lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
    /// let (a, b) = (Lock::new(), Lock::new());
    /// { let _a = a.guard(); let _b = b.guard(); }
    /// { let _b = b.guard(); let _a = a.guard(); }
    /// # lock_order::disable();
    /// let v = seen.lock().unwrap().take().unwrap();
    /// assert_eq!(v.now().taken_at().line(), v.now().held_at().line());
    /// ```
    pub fn taken_at(&self) -> &'static Location<'static> {
        self.taken_at
    }

    /// The name of the thread that did it (at the time).
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use threadkit::Lock;
    /// # use threadkit::observe::lock_order::{self, OnCycle};
    /// # let seen = Arc::new(Mutex::new(None));
    /// # let s = seen.clone();
    /// # lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
    /// let (a, b) = (Lock::new(), Lock::new());
    /// { let _a = a.guard(); let _b = b.guard(); }
    /// { let _b = b.guard(); let _a = a.guard(); }
    /// # lock_order::disable();
    /// let v = seen.lock().unwrap().take().unwrap();
    /// assert_eq!(v.now().thread(), threadkit::current_thread().name());
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }
}

impl fmt::Display for OrderEdge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "thread {:?} took {} at {} while holding {} (taken at {})",
            self.thread, self.taken, self.taken_at, self.held, self.held_at
        )
    }
}

/// A lock-order violation: an acquisition ([`now`](Self::now)) that takes a lock while
/// holding another one that was taken, earlier, the other way round
/// ([`earlier`](Self::earlier), perhaps through other locks). Two threads running these
/// orders at the same time can deadlock.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use threadkit::Lock;
/// use threadkit::observe::lock_order::{self, OnCycle};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// lock_order::enable(OnCycle::callback(move |v| s.lock().unwrap().push(v.clone())));
/// let (a, b) = (Lock::new(), Lock::new());
/// { let _a = a.guard(); let _b = b.guard(); }
/// { let _b = b.guard(); let _a = a.guard(); }
/// lock_order::disable();
/// let seen = seen.lock().unwrap();
/// assert_eq!(seen.len(), 1);
/// assert!(seen[0].to_string().contains("\n  but earlier: thread "));
/// ```
///
/// Printed, a violation reads:
///
/// ```text
/// lock-order violation: thread "t2" took Lock at 0x7ffd6a80 at src/main.rs:21:17 while holding Lock at 0x7ffd6a88 (taken at src/main.rs:20:17)
///   but earlier: thread "t1" took Lock at 0x7ffd6a88 at src/main.rs:12:17 while holding Lock at 0x7ffd6a80 (taken at src/main.rs:11:17)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockOrderViolation {
    now: OrderEdge,
    earlier: Vec<OrderEdge>,
}

impl LockOrderViolation {
    /// The acquisition that closes the cycle. It has not taken its lock (yet).
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use threadkit::Lock;
    /// # use threadkit::observe::lock_order::{self, OnCycle};
    /// # let seen = Arc::new(Mutex::new(None));
    /// # let s = seen.clone();
    /// # lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
    /// let (a, b) = (Lock::new(), Lock::new());
    /// { let _a = a.guard(); let _b = b.guard(); }
    /// { let _b = b.guard(); let _a = a.guard(); }
    /// # lock_order::disable();
    /// let v = seen.lock().unwrap().take().unwrap();
    /// assert_eq!((v.now().held(), v.now().taken()), (b.id(), a.id()));
    /// ```
    pub fn now(&self) -> &OrderEdge {
        &self.now
    }

    /// The order seen before, from the lock being taken now to the lock held now: one edge
    /// for two locks, more when the order went through other locks.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use threadkit::Lock;
    /// # use threadkit::observe::lock_order::{self, OnCycle};
    /// # let seen = Arc::new(Mutex::new(None));
    /// # let s = seen.clone();
    /// # lock_order::enable(OnCycle::callback(move |v| *s.lock().unwrap() = Some(v.clone())));
    /// let (a, b) = (Lock::new(), Lock::new());
    /// { let _a = a.guard(); let _b = b.guard(); }
    /// { let _b = b.guard(); let _a = a.guard(); }
    /// # lock_order::disable();
    /// let v = seen.lock().unwrap().take().unwrap();
    /// assert_eq!(v.earlier().len(), 1);
    /// assert_eq!((v.earlier()[0].held(), v.earlier()[0].taken()), (a.id(), b.id()));
    /// ```
    pub fn earlier(&self) -> &[OrderEdge] {
        &self.earlier
    }
}

impl fmt::Display for LockOrderViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lock-order violation: {}", self.now)?;
        for (i, e) in self.earlier.iter().enumerate() {
            let lead = if i == 0 { "but earlier" } else { "then" };
            write!(f, "\n  {lead}: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LockOrderViolation {}

/// The global order, while checking is on.
struct State {
    graph: LockOrderGraph,
    /// Each known lock's node, by address.
    nodes: HashMap<usize, NodeId>,
    /// The first acquisition seen for each edge, by its `from` node. Entries whose `to` node
    /// was removed stay until `from` goes (a removed id never matches a new one).
    edges: HashMap<NodeId, Vec<(NodeId, OrderEdge)>>,
    /// Refused edges already reported (not for `OnCycle::Panic`).
    reported: HashSet<(NodeId, NodeId)>,
    on_cycle: OnCycle,
}

impl State {
    fn node(&mut self, addr: usize) -> NodeId {
        *self
            .nodes
            .entry(addr)
            .or_insert_with(|| self.graph.add_node())
    }

    fn edge(&self, from: NodeId, to: NodeId) -> Option<&OrderEdge> {
        self.edges
            .get(&from)?
            .iter()
            .find_map(|(t, e)| (*t == to).then_some(e))
    }
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Bumped whenever a node leaves the graph (or the graph is replaced): every thread's cache of
/// known pairs is then emptied before its next use.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// The size of [`Cache::recent`].
const RECENT: usize = 32;

/// Where `pair` goes in [`Cache::recent`].
#[inline]
fn recent_slot(pair: (usize, usize)) -> usize {
    let h = (pair.0 ^ pair.1.rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize);
    h >> (usize::BITS - RECENT.trailing_zeros())
}

/// The pairs of addresses `(held, taken)` this thread knows to be in the graph (or already
/// reported), valid for one epoch. The locks this thread holds are its own held-lock list
/// (`sync::held`), which it reads without any lock.
///
/// Two thread-locals: the pairs found last ([`Recent`], `RECENT_PAIRS`, no destructor, so reaching it costs no
/// registration check), where most checks end, and all the pairs known ([`Pairs`]).
struct Recent {
    /// By [`recent_slot`].
    recent: [(usize, usize); RECENT],
    epoch: u64,
}

/// See [`Recent`].
struct Pairs {
    epoch: u64,
    pairs: HashSet<(usize, usize), BuildHasherDefault<PairHasher>>,
}

impl Pairs {
    /// The set, emptied first if it belongs to an earlier epoch.
    fn at(&mut self, epoch: u64) -> &mut HashSet<(usize, usize), BuildHasherDefault<PairHasher>> {
        if self.epoch != epoch {
            self.pairs.clear();
            self.epoch = epoch;
        }
        &mut self.pairs
    }
}

/// True if this thread knows `pair` to be in the graph of epoch `epoch`.
fn known_pair(pair: (usize, usize), epoch: u64) -> bool {
    PAIRS
        .try_with(|p| p.borrow_mut().at(epoch).contains(&pair))
        .unwrap_or(false)
}

/// A multiply-fold hasher for address pairs (SipHash would cost more than the rest of a
/// cached check).
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        let m = u128::from(self.0 ^ n) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

crate::primitive::thread_local! {
    static RECENT_PAIRS: RefCell<Recent> = const {
        RefCell::new(Recent {
            recent: [(0, 0); RECENT],
            epoch: u64::MAX,
        })
    };
    static PAIRS: RefCell<Pairs> = const {
        RefCell::new(Pairs {
            epoch: u64::MAX,
            pairs: HashSet::with_hasher(BuildHasherDefault::new()),
        })
    };
}

fn state() -> MutexGuard<'static, Option<State>> {
    // Nothing panics while the state is borrowed: it is always whole.
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Turns lock-order checking on for every thread, starting from an empty order, with
/// `on_cycle` as the hook; if it was on, only changes the hook (the order seen so far is kept).
/// Locks held when it is turned on are not known to be held, unless held-lock tracking
/// ([`set_held_tracking`](crate::observe::set_held_tracking)) was on when they were taken.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use threadkit::Lock;
/// use threadkit::observe::lock_order::{self, OnCycle};
///
/// let reports = Arc::new(Mutex::new(Vec::new()));
/// let r = reports.clone();
/// lock_order::enable(OnCycle::callback(move |v| r.lock().unwrap().push(v.to_string())));
/// let (a, b) = (Lock::new(), Lock::new());
/// {
///     let _a = a.guard();
///     let _b = b.guard(); // a before b
/// }
/// {
///     let _b = b.guard();
///     let _a = a.guard(); // b before a: could deadlock against the first order
/// }
/// lock_order::disable();
/// let reports = reports.lock().unwrap();
/// assert_eq!(reports.len(), 1);
/// assert!(reports[0].starts_with("lock-order violation: thread \"MainThread\""));
/// ```
pub fn enable(on_cycle: OnCycle) {
    let mut st = state();
    let old = match st.as_mut() {
        Some(s) => Some(std::mem::replace(&mut s.on_cycle, on_cycle)),
        None => {
            *st = Some(State {
                graph: LockOrderGraph::new(),
                nodes: HashMap::new(),
                edges: HashMap::new(),
                reported: HashSet::new(),
                on_cycle,
            });
            EPOCH.fetch_add(1, Ordering::SeqCst);
            None
        }
    };
    held::install_order_hooks(held::OrderHooks { check, forget });
    held::set_order(true);
    // The hook replaced (a callback may own locks, whose drop takes the state) goes only
    // once the state is free.
    drop(st);
    drop(old);
}

/// Turns lock-order checking off and forgets the order seen. Costs nothing afterwards.
///
/// # Examples
///
/// ```
/// use threadkit::observe::lock_order::{self, OnCycle};
///
/// lock_order::enable(OnCycle::Report);
/// assert!(lock_order::is_enabled());
/// lock_order::disable();
/// assert!(!lock_order::is_enabled());
/// ```
pub fn disable() {
    let mut st = state();
    held::set_order(false);
    let old = st.take();
    EPOCH.fetch_add(1, Ordering::SeqCst);
    // Dropped once the state is free (a callback may own locks, whose drop takes it).
    drop(st);
    drop(old);
}

/// True while lock-order checking is on.
///
/// # Examples
///
/// ```
/// use threadkit::observe::lock_order::{self, OnCycle};
///
/// lock_order::enable(OnCycle::Panic);
/// assert!(lock_order::is_enabled());
/// lock_order::disable();
/// ```
pub fn is_enabled() -> bool {
    held::ordering()
}

/// The calling thread is about to take `taking` at `at` (see `held::acquiring`); `held` is
/// its own held-lock list, of generation `generation`. An acquisition whose pairs are all
/// known touches only this thread's data and one relaxed load of [`EPOCH`]: no global lock.
#[inline(never)]
pub(crate) fn check(
    held: &HeldList,
    generation: u32,
    taking: ObjectId,
    at: &'static Location<'static>,
) {
    if held.own_is_empty(generation) {
        return; // the first lock a thread takes: nothing to order
    }
    let epoch = EPOCH.load(Ordering::Acquire);
    let to = taking.addr();
    let all_known = RECENT_PAIRS
        .try_with(|r| {
            let mut r = r.borrow_mut();
            if r.epoch != epoch {
                r.recent = [(0, 0); RECENT];
                r.epoch = epoch;
            }
            let mut all_known = true;
            held.each_own_addr(generation, |from| {
                let pair = (from, to);
                if from == to {
                    return true;
                }
                let slot = recent_slot(pair);
                if r.recent[slot] == pair {
                    return true;
                }
                if known_pair(pair, epoch) {
                    r.recent[slot] = pair;
                    return true;
                }
                all_known = false;
                false
            });
            all_known
        })
        // In the thread's teardown (no cache left): check every pair against the graph.
        .unwrap_or(false);
    if !all_known {
        let missing: Vec<HeldLock> = held
            .own(generation)
            .into_iter()
            .filter(|h| h.object.addr() != to && !known_pair((h.object.addr(), to), epoch))
            .collect();
        if !missing.is_empty() {
            check_slow(&missing, taking, at, epoch);
        }
    }
}

#[cold]
#[inline(never)]
fn check_slow(missing: &[HeldLock], taking: ObjectId, at: &'static Location<'static>, epoch: u64) {
    let thread = crate::sync::error::current_name();
    let mut known = Vec::new();
    let mut found: Option<LockOrderViolation> = None;
    let hook;
    {
        let mut guard = state();
        let Some(st) = guard.as_mut() else {
            return; // turned off meanwhile
        };
        hook = st.on_cycle.clone();
        let to = st.node(taking.addr());
        for h in missing {
            let from = st.node(h.object.addr());
            let this = OrderEdge {
                held: h.object,
                held_at: h.location,
                taken: taking,
                taken_at: at,
                thread: thread.clone(),
            };
            match st.graph.insert_edge(from, to) {
                Ok(()) => {
                    if st.edge(from, to).is_none() {
                        st.edges.entry(from).or_default().push((to, this));
                    }
                    known.push((h.object.addr(), taking.addr()));
                }
                Err(EdgeError::Cycle(cycle)) => {
                    let panic = matches!(hook, OnCycle::Panic);
                    if !panic {
                        known.push((h.object.addr(), taking.addr()));
                    }
                    if found.is_none() && (panic || st.reported.insert((from, to))) {
                        let path = cycle.existing_path();
                        let earlier = path
                            .windows(2)
                            .filter_map(|w| st.edge(w[0], w[1]).cloned())
                            .collect();
                        found = Some(LockOrderViolation { now: this, earlier });
                    }
                }
                // Not reachable (both nodes were just looked up under the lock); nothing to
                // check then.
                Err(EdgeError::Removed(_)) => {}
            }
        }
    }
    let _ = PAIRS.try_with(|p| p.borrow_mut().at(epoch).extend(known));
    if let Some(v) = found {
        match hook {
            OnCycle::Report => eprintln!("threadkit: {v}"),
            OnCycle::Panic => panic!("{v}"),
            OnCycle::Callback(f) => f(&v),
        }
    }
}

/// The lock at `addr` is being dropped: its node leaves the graph.
#[cold]
#[inline(never)]
pub(crate) fn forget(addr: usize) {
    let mut guard = state();
    let Some(st) = guard.as_mut() else { return };
    if let Some(node) = st.nodes.remove(&addr) {
        st.graph.remove_node(node);
        st.edges.remove(&node);
        st.reported.retain(|&(a, b)| a != node && b != node);
        EPOCH.fetch_add(1, Ordering::SeqCst);
    }
}
