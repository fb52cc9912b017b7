//! The pure graph algorithms under the deadlock reports and lock-order checking.
//!
//! Nothing here reads a wait record, a registry entry or a clock: the caller collects a
//! snapshot and hands it over as plain ids, so each algorithm is tested on its own against a
//! brute-force model (Abseil keeps its `graphcycles` apart from its mutex for the same
//! reason). Two graphs live here:
//!
//! - [`WaitForGraph`]: a snapshot of *actual* waits. Nodes are threads and objects (locks,
//!   joined threads, futures, ...); an edge thread -> object says "waits on", an edge
//!   object -> thread says "is held by". Every cycle is a deadlock: [`WaitForGraph::cycles`]
//!   finds each one exactly once. [`all_blocked`] is Go's other case, where no cycle exists
//!   but every thread that could wake the others is itself asleep for good.
//! - [`LockOrderGraph`]: the *potential* deadlocks. Nodes are locks, an edge A -> B says
//!   "B was taken while A was held". [`LockOrderGraph::insert_edge`] refuses the first edge
//!   that closes a cycle and returns both orders, long before the program actually deadlocks.
//!   It keeps a topological order of the nodes up to date (Pearce and Kelly's dynamic
//!   ordering, as in Abseil), so an edge that agrees with the order, or is already known, costs
//!   one or two hash lookups and no traversal.
//!
//! # Input API for the collectors
//!
//! A deadlock search builds one [`WaitForGraph`] per snapshot: for every blocked thread
//! `waits_on(thread_ident, object_id)`, for every object with a known owner
//! `held_by(object_id, owner_ident)` (an RLock, a Mutex, a joined thread: the thread itself; a
//! future: its worker), then `cycles()`. The global case takes the list of
//! [`ThreadState`]s. Lock-order checking keeps one [`LockOrderGraph`] for the process behind
//! a lock: `add_node()` when a lock is first seen, `insert_edge(held, taken)` for each lock
//! held while another is taken (only when the edge is not yet known to the thread: see
//! [`LockOrderGraph::has_edge`]), `remove_node(id)` when the lock is dropped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

// ------------------------------------------------------------------------------------------
// Wait-for graph
// ------------------------------------------------------------------------------------------

/// A node of a [`WaitForGraph`]: a thread (by its ident) or an object (by its id).
///
/// The order (every thread before every object, then by number) is the canonical order:
/// each cycle is reported starting from its smallest node, which is a thread whenever the
/// cycle has one.
///
/// # Examples
///
/// ```
/// use threadkit::observe::graph::WaitNode;
///
/// assert!(WaitNode::Thread(9) < WaitNode::Object(1));
/// assert_eq!(WaitNode::Object(7).to_string(), "object 7");
/// assert_eq!(WaitNode::Thread(3).to_string(), "thread 3");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WaitNode {
    /// A thread, by its ident ([`Thread::ident`](crate::Thread::ident)).
    Thread(u64),
    /// An object a thread can wait on, by its id.
    Object(u64),
}

impl fmt::Display for WaitNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitNode::Thread(t) => write!(f, "thread {t}"),
            WaitNode::Object(o) => write!(f, "object {o}"),
        }
    }
}

/// A snapshot of who waits on what and who holds what, searched for deadlock cycles.
///
/// Edges go thread -> object ([`waits_on`](Self::waits_on)) and object -> thread
/// ([`held_by`](Self::held_by)); adding an edge twice keeps one. The graph is plain data,
/// built by the caller from wait records, so a search never blocks and never touches a
/// running thread.
///
/// # Cost
///
/// [`cycles`](Self::cycles) first splits the graph into strongly connected components
/// (linear time), so threads outside any cycle cost one visit. A component in which every
/// node has one edge inside the component (every real wait-for cycle through locks: a thread
/// waits on one object, a lock has one holder) is one cycle, read off in linear time. Other
/// components go through Johnson's algorithm, O((nodes + edges) x (cycles + 1)); the number
/// of cycles there can grow exponentially, so [`cycles_limited`](Self::cycles_limited)
/// bounds the work.
///
/// # Examples
///
/// Two threads, two locks, opposite order:
///
/// ```
/// use threadkit::observe::graph::{WaitForGraph, WaitNode::{Object, Thread}};
///
/// let mut g = WaitForGraph::new();
/// g.waits_on(1, 100); // thread 1 waits on lock 100 ...
/// g.held_by(100, 2); //  ... which thread 2 holds,
/// g.waits_on(2, 200); // and thread 2 waits on lock 200 ...
/// g.held_by(200, 1); //  ... which thread 1 holds.
/// g.waits_on(3, 100); // thread 3 is stuck behind them, but not part of the cycle.
/// assert_eq!(
///     g.cycles(),
///     vec![vec![Thread(1), Object(100), Thread(2), Object(200)]]
/// );
/// ```
#[derive(Clone, Debug, Default)]
pub struct WaitForGraph {
    index: HashMap<WaitNode, usize, IdBuild>,
    nodes: Vec<WaitNode>,
    out: Vec<Vec<usize>>,
    edges: HashSet<(usize, usize), IdBuild>,
}

impl WaitForGraph {
    /// An empty graph.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::WaitForGraph;
    ///
    /// let g = WaitForGraph::new();
    /// assert_eq!((g.node_count(), g.edge_count()), (0, 0));
    /// assert!(g.cycles().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the edge `thread` -> `object`: the thread waits on the object.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::WaitForGraph;
    ///
    /// let mut g = WaitForGraph::new();
    /// g.waits_on(1, 10);
    /// g.waits_on(1, 10); // the same edge again: kept once
    /// assert_eq!((g.node_count(), g.edge_count()), (2, 1));
    /// ```
    pub fn waits_on(&mut self, thread: u64, object: u64) {
        self.add_edge(WaitNode::Thread(thread), WaitNode::Object(object));
    }

    /// Adds the edge `object` -> `thread`: the thread holds the object, so the object's
    /// waiters wait for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::{WaitForGraph, WaitNode::{Object, Thread}};
    ///
    /// let mut g = WaitForGraph::new();
    /// g.waits_on(1, 10);
    /// g.held_by(10, 1); // a thread waiting on a lock it holds itself
    /// assert_eq!(g.cycles(), vec![vec![Thread(1), Object(10)]]);
    /// ```
    pub fn held_by(&mut self, object: u64, thread: u64) {
        self.add_edge(WaitNode::Object(object), WaitNode::Thread(thread));
    }

    /// Adds a thread with no edges (so that it counts in [`node_count`](Self::node_count));
    /// adding one already present does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::WaitForGraph;
    ///
    /// let mut g = WaitForGraph::new();
    /// g.add_thread(5);
    /// g.add_thread(5);
    /// assert_eq!(g.node_count(), 1);
    /// ```
    pub fn add_thread(&mut self, thread: u64) {
        self.node(WaitNode::Thread(thread));
    }

    /// How many nodes (threads and objects) the graph has.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::WaitForGraph;
    ///
    /// let mut g = WaitForGraph::new();
    /// g.waits_on(1, 10);
    /// g.held_by(10, 2);
    /// assert_eq!(g.node_count(), 3);
    /// ```
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many distinct edges the graph has.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::WaitForGraph;
    ///
    /// let mut g = WaitForGraph::new();
    /// g.waits_on(1, 10);
    /// g.held_by(10, 2);
    /// assert_eq!(g.edge_count(), 2);
    /// ```
    #[must_use]
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Every elementary cycle, each exactly once, as its nodes in edge order starting from
    /// its smallest node (see [`WaitNode`]'s order); the list is sorted.
    ///
    /// # Examples
    ///
    /// A three-thread cycle through two locks and a join (thread 3 joins thread 1):
    ///
    /// ```
    /// use threadkit::observe::graph::{WaitForGraph, WaitNode::{Object, Thread}};
    ///
    /// let mut g = WaitForGraph::new();
    /// g.waits_on(2, 20);
    /// g.held_by(20, 3);
    /// g.waits_on(3, 1000); // the join object of thread 1 ...
    /// g.held_by(1000, 1); // ... is "held" by thread 1 until it ends
    /// g.waits_on(1, 10);
    /// g.held_by(10, 2);
    /// let cycles = g.cycles();
    /// assert_eq!(cycles.len(), 1);
    /// assert_eq!(
    ///     cycles[0],
    ///     [Thread(1), Object(10), Thread(2), Object(20), Thread(3), Object(1000)]
    /// );
    /// ```
    #[must_use]
    pub fn cycles(&self) -> Vec<Vec<WaitNode>> {
        self.cycles_limited(usize::MAX)
    }

    /// Like [`cycles`](Self::cycles), but stops once `limit` cycles are found, which bounds
    /// the work on graphs with very many cycles. Which cycles make the cut is unspecified;
    /// the result is sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::WaitForGraph;
    ///
    /// let mut g = WaitForGraph::new();
    /// for t in 0..4 {
    ///     g.waits_on(t, 100 + t);
    ///     g.held_by(100 + t, t); // four separate self-deadlocks
    /// }
    /// assert_eq!(g.cycles().len(), 4);
    /// assert_eq!(g.cycles_limited(2).len(), 2);
    /// assert!(g.cycles_limited(0).is_empty());
    /// ```
    #[must_use]
    pub fn cycles_limited(&self, limit: usize) -> Vec<Vec<WaitNode>> {
        // Renumber the nodes in canonical order so that index order is node order.
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_unstable_by_key(|&i| self.nodes[i]);
        let mut rank = vec![0; self.nodes.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r;
        }
        let mut adj = Csr {
            starts: Vec::with_capacity(order.len() + 1),
            targets: Vec::new(),
        };
        adj.targets.reserve(self.edges.len());
        for &i in &order {
            adj.starts.push(adj.targets.len());
            adj.targets.extend(self.out[i].iter().map(|&w| rank[w]));
        }
        adj.starts.push(adj.targets.len());
        let mut found = simple_cycles(&adj, limit);
        found.sort_unstable();
        found
            .into_iter()
            .map(|c| c.into_iter().map(|r| self.nodes[order[r]]).collect())
            .collect()
    }

    fn node(&mut self, n: WaitNode) -> usize {
        if let Some(&i) = self.index.get(&n) {
            return i;
        }
        let i = self.nodes.len();
        self.index.insert(n, i);
        self.nodes.push(n);
        self.out.push(Vec::new());
        i
    }

    fn add_edge(&mut self, from: WaitNode, to: WaitNode) {
        let a = self.node(from);
        let b = self.node(to);
        if self.edges.insert((a, b)) {
            self.out[a].push(b);
        }
    }
}

/// A directed graph on the nodes `0..node_count()`, as the cycle search reads it.
trait Adjacency {
    fn node_count(&self) -> usize;
    fn out(&self, v: usize) -> &[usize];
}

/// Adjacency lists, one per node (the tests' form).
impl Adjacency for Vec<Vec<usize>> {
    fn node_count(&self) -> usize {
        self.len()
    }
    fn out(&self, v: usize) -> &[usize] {
        &self[v]
    }
}

/// All edges in one array, node by node: no allocation per node.
struct Csr {
    /// Where each node's edges start in `targets`, plus the end.
    starts: Vec<usize>,
    targets: Vec<usize>,
}

impl Adjacency for Csr {
    fn node_count(&self) -> usize {
        self.starts.len() - 1
    }
    fn out(&self, v: usize) -> &[usize] {
        &self.targets[self.starts[v]..self.starts[v + 1]]
    }
}

/// Tarjan's strongly connected components without recursion, over a subset of the nodes,
/// with scratch space sized for the whole graph and reset after each run (so a run costs the
/// subset's size, not the graph's).
struct Tarjan {
    index: Vec<usize>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    calls: Vec<(usize, usize)>,
}

const UNSEEN: usize = usize::MAX;

impl Tarjan {
    fn new(n: usize) -> Self {
        Tarjan {
            index: vec![UNSEEN; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            calls: Vec::new(),
        }
    }

    /// The strongly connected components of the subgraph of the `nodes` that `inside`
    /// accepts (it must accept exactly those) that can hold a cycle (more than one node, or
    /// one with an edge to itself), each sorted.
    fn run(
        &mut self,
        adj: &impl Adjacency,
        nodes: &[usize],
        inside: impl Fn(usize) -> bool,
    ) -> Vec<Vec<usize>> {
        let mut found = Vec::new();
        let mut next_index = 0;
        for &root in nodes {
            if self.index[root] != UNSEEN {
                continue;
            }
            self.visit(root, &mut next_index);
            while let Some(&mut (v, ref mut edge)) = self.calls.last_mut() {
                if let Some(&w) = adj.out(v).get(*edge) {
                    *edge += 1;
                    if !inside(w) {
                        continue;
                    }
                    if self.index[w] == UNSEEN {
                        self.visit(w, &mut next_index);
                    } else if self.on_stack[w] {
                        self.low[v] = self.low[v].min(self.index[w]);
                    }
                    continue;
                }
                self.calls.pop();
                if self.low[v] == self.index[v] {
                    let at = self
                        .stack
                        .iter()
                        .rposition(|&w| w == v)
                        .expect("v is on the stack");
                    for &w in &self.stack[at..] {
                        self.on_stack[w] = false;
                    }
                    // Only a component that can hold a cycle is worth a list.
                    if self.stack.len() - at > 1 || adj.out(v).contains(&v) {
                        let mut component = self.stack[at..].to_vec();
                        component.sort_unstable();
                        found.push(component);
                    }
                    self.stack.truncate(at);
                }
                if let Some(&(parent, _)) = self.calls.last() {
                    self.low[parent] = self.low[parent].min(self.low[v]);
                }
            }
        }
        for &v in nodes {
            self.index[v] = UNSEEN;
        }
        found
    }

    fn visit(&mut self, v: usize, next_index: &mut usize) {
        self.index[v] = *next_index;
        self.low[v] = *next_index;
        *next_index += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        self.calls.push((v, 0));
    }
}

/// Every elementary cycle of `adj` (at most `limit`), each starting at its smallest index.
///
/// Johnson's outer loop: take a strongly connected component, find the cycles through its
/// smallest node, remove that node and go on with the components of what is left. A
/// component where every node has one edge inside is one cycle and is read off directly.
fn simple_cycles(adj: &impl Adjacency, limit: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    let n = adj.node_count();
    let mut tarjan = Tarjan::new(n);
    let mut search = Johnson {
        blocked: vec![false; n],
        blocked_by: vec![Vec::new(); n],
        touched: Vec::new(),
    };
    // The component being searched is the set of nodes carrying its tag.
    let mut tag = vec![0usize; n];
    let mut next_tag = 1;
    let all: Vec<usize> = (0..n).collect();
    let mut work: Vec<Vec<usize>> = tarjan.run(adj, &all, |_| true);
    while let Some(component) = work.pop() {
        next_tag += 1;
        let t = next_tag;
        for &v in &component {
            tag[v] = t;
        }
        let inside = |w: usize| tag[w] == t;
        let s = component[0];
        if component.len() == 1 {
            out.push(vec![s]);
        } else if component
            .iter()
            .all(|&v| adj.out(v).iter().filter(|&&w| inside(w)).count() == 1)
        {
            let mut cycle = vec![s];
            loop {
                let last = *cycle.last().expect("the cycle has its start");
                let next = *adj
                    .out(last)
                    .iter()
                    .find(|&&w| inside(w))
                    .expect("one edge inside");
                if next == s {
                    break;
                }
                cycle.push(next);
            }
            out.push(cycle);
        } else {
            if search.circuits(adj, s, inside, &mut out, limit) {
                return out;
            }
            tag[s] = 0;
            work.extend(tarjan.run(adj, &component[1..], |w| tag[w] == t));
        }
        if out.len() >= limit {
            return out;
        }
    }
    out
}

/// Johnson's circuit search ("Finding all the elementary circuits of a directed graph",
/// 1975), without recursion, with its scratch space kept between start nodes.
struct Johnson {
    blocked: Vec<bool>,
    /// Johnson's `B` lists: who to unblock when this node is unblocked.
    blocked_by: Vec<Vec<usize>>,
    touched: Vec<usize>,
}

impl Johnson {
    /// Pushes onto `out` every elementary cycle through `s` within the nodes `allowed`
    /// accepts; returns true once `out` holds `limit` cycles.
    fn circuits(
        &mut self,
        adj: &impl Adjacency,
        s: usize,
        allowed: impl Fn(usize) -> bool,
        out: &mut Vec<Vec<usize>>,
        limit: usize,
    ) -> bool {
        let mut path = vec![s];
        // Per path node: the next edge to try, and whether a cycle was found below it.
        let mut frames = vec![(0usize, false)];
        self.blocked[s] = true;
        self.touched.push(s);
        let mut full = false;
        while let Some(&v) = path.last() {
            let frame = frames.last_mut().expect("one frame per path node");
            if let Some(&w) = adj.out(v).get(frame.0) {
                frame.0 += 1;
                if !allowed(w) {
                    continue;
                }
                if w == s {
                    out.push(path.clone());
                    frame.1 = true;
                    if out.len() >= limit {
                        full = true;
                        break;
                    }
                } else if !self.blocked[w] {
                    self.blocked[w] = true;
                    self.touched.push(w);
                    path.push(w);
                    frames.push((0, false));
                }
                continue;
            }
            let (_, found) = frames.pop().expect("one frame per path node");
            path.pop();
            if found {
                self.unblock(v);
            } else {
                for &w in adj.out(v) {
                    if allowed(w) && !self.blocked_by[w].contains(&v) {
                        self.blocked_by[w].push(v);
                    }
                }
            }
            if let Some(parent) = frames.last_mut() {
                parent.1 |= found;
            }
        }
        // Every node whose state changed was visited (blocked), so resetting those resets all.
        for t in self.touched.drain(..) {
            self.blocked[t] = false;
            self.blocked_by[t].clear();
        }
        full
    }

    fn unblock(&mut self, u: usize) {
        self.blocked[u] = false;
        let mut stack = vec![u];
        while let Some(x) = stack.pop() {
            for w in std::mem::take(&mut self.blocked_by[x]) {
                if self.blocked[w] {
                    self.blocked[w] = false;
                    stack.push(w);
                }
            }
        }
    }
}

/// What the global check needs to know about one thread: see [`all_blocked`].
///
/// # Examples
///
/// ```
/// use threadkit::observe::graph::ThreadState;
///
/// let main = ThreadState { ident: 1, daemon: false, blocked_forever: true };
/// assert!(main.blocked_forever && !main.daemon);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThreadState {
    /// The thread's ident.
    pub ident: u64,
    /// Whether it is a daemon thread.
    pub daemon: bool,
    /// Whether it is blocked in a wait without a timeout (a timed wait ends on its own, a
    /// running thread may still wake the others).
    pub blocked_forever: bool,
}

/// Go's "all goroutines are asleep" case: true when there is at least one non-daemon thread
/// and every non-daemon thread is blocked without a timeout.
///
/// Such a program can only go on if a daemon thread wakes someone (the process waits for its
/// non-daemon threads, so it would otherwise hang at exit or forever); the report names the
/// waits, typically on a Condition, Semaphore, Event, Barrier or queue, which have no owner and
/// so never show up in a [`WaitForGraph`] cycle. Daemon threads are left out, as issue 15
/// specifies; a caller that wants the stricter rule (nothing at all can run) passes them with
/// `daemon: false`.
///
/// # Examples
///
/// ```
/// use threadkit::observe::graph::{ThreadState, all_blocked};
///
/// let main = ThreadState { ident: 1, daemon: false, blocked_forever: true };
/// let worker = ThreadState { ident: 2, daemon: false, blocked_forever: true };
/// let logger = ThreadState { ident: 3, daemon: true, blocked_forever: false };
/// assert!(all_blocked([main, worker, logger]));
///
/// // A worker in a timed wait will wake up by itself: no global deadlock.
/// let timed = ThreadState { blocked_forever: false, ..worker };
/// assert!(!all_blocked([main, timed, logger]));
/// // No non-daemon thread at all: nothing to report.
/// assert!(!all_blocked([logger]));
/// ```
#[must_use]
pub fn all_blocked(threads: impl IntoIterator<Item = ThreadState>) -> bool {
    let mut any = false;
    for t in threads {
        if t.daemon {
            continue;
        }
        if !t.blocked_forever {
            return false;
        }
        any = true;
    }
    any
}

/// The threads blocked for good, given what each thread blocked with no timeout needs in
/// order to go on: `needs[t]` lists threads of which *any one* going on may let `t` go on (a
/// lock's holder, a joined thread, a running future's worker: that one thread; a task queued
/// in a pool that can start no other worker: each of the pool's workers, since any of them
/// that frees up would start it). So `t` is stuck when every thread it needs is stuck, and the
/// answer is the largest set of listed threads each of which needs only threads of the set. A
/// thread that is not a key (it runs, waits with a timeout, or waits on something with no
/// owner, which a running thread may set) is never stuck, nor is a key whose list is empty.
///
/// Wait-for cycles are stuck sets of single needs; this also finds the stuck threads whose
/// waits go through a pool, which a [`WaitForGraph`] cannot express (a queued task has no one
/// owner). Linear in the number of needs: a worklist removes each thread that needs one not
/// in the set.
pub(crate) fn stuck(needs: &HashMap<u64, Vec<u64>>) -> HashSet<u64> {
    let mut set: HashSet<u64> = needs
        .iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(&t, _)| t)
        .collect();
    // Who needs whom, reversed: when a thread leaves the set, those that need it follow.
    let mut needed_by: HashMap<u64, Vec<u64>> = HashMap::new();
    for (&t, n) in needs {
        for &o in n {
            needed_by.entry(o).or_default().push(t);
        }
    }
    let mut out: Vec<u64> = needs
        .iter()
        .filter(|(t, n)| set.contains(t) && n.iter().any(|o| !set.contains(o)))
        .map(|(&t, _)| t)
        .collect();
    for &t in &out {
        set.remove(&t);
    }
    while let Some(gone) = out.pop() {
        for &t in needed_by.get(&gone).into_iter().flatten() {
            if set.remove(&t) {
                out.push(t);
            }
        }
    }
    set
}

// ------------------------------------------------------------------------------------------
// Lock-order graph
// ------------------------------------------------------------------------------------------

/// A hasher for integer keys (slot indices, thread idents, object ids, which may all share
/// their low bits): a folded 128-bit multiplication per word, no SipHash.
#[derive(Default)]
struct IdHasher(u64);

impl IdHasher {
    fn mix(&mut self, word: u64) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let m = u128::from(self.0 ^ word) * u128::from(K);
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.mix(i as u64);
    }
}

type IdBuild = BuildHasherDefault<IdHasher>;

type IdSet = HashSet<u32, IdBuild>;

/// A node of a [`LockOrderGraph`]: a slot index and the generation of that slot, so an id
/// kept after [`remove_node`](LockOrderGraph::remove_node) never names the node that reuses
/// the slot.
///
/// # Examples
///
/// ```
/// use threadkit::observe::graph::LockOrderGraph;
///
/// let mut g = LockOrderGraph::new();
/// let a = g.add_node();
/// assert!(g.remove_node(a));
/// let b = g.add_node(); // reuses a's slot ...
/// assert_eq!(a.index(), b.index());
/// assert_ne!(a, b); // ... under a new generation
/// assert!(!g.contains(a) && g.contains(b));
/// assert_eq!(b.to_string(), format!("#{}.{}", b.index(), b.generation()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    index: u32,
    generation: u32,
}

impl NodeId {
    /// The slot this node occupies (reused after the node is removed).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// assert_eq!(g.add_node().index(), 0);
    /// assert_eq!(g.add_node().index(), 1);
    /// ```
    #[must_use]
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many nodes occupied this slot before this one.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let a = g.add_node();
    /// assert_eq!(a.generation(), 0);
    /// g.remove_node(a);
    /// assert_eq!(g.add_node().generation(), 1);
    /// ```
    #[must_use]
    pub fn generation(self) -> u32 {
        self.generation
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.index, self.generation)
    }
}

/// The edge that would have closed a cycle, and the path that was already there.
///
/// The edge `from -> to` ("`to` taken while `from` held") was refused because the graph
/// already has a path `to -> ... -> from` ("`from` taken, directly or not, while `to` was
/// held"): the two orders that can deadlock each other.
///
/// # Examples
///
/// ```
/// use threadkit::observe::graph::LockOrderGraph;
///
/// let mut g = LockOrderGraph::new();
/// let (a, b, c) = (g.add_node(), g.add_node(), g.add_node());
/// g.insert_edge(a, b)?;
/// g.insert_edge(b, c)?;
/// let cycle = g.insert_edge(c, a).unwrap_err().into_cycle().unwrap();
/// assert_eq!(cycle.new_edge(), (c, a));
/// assert_eq!(cycle.existing_path(), [a, b, c]);
/// assert_eq!(cycle.nodes(), vec![c, a, b]);
/// assert!(!g.has_edge(c, a)); // refused: the graph stays acyclic
/// # Ok::<(), threadkit::observe::graph::EdgeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    from: NodeId,
    to: NodeId,
    path: Vec<NodeId>,
}

impl Cycle {
    /// The refused edge, `(from, to)`: `to` was being taken while `from` was held.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let (a, b) = (g.add_node(), g.add_node());
    /// g.insert_edge(a, b)?;
    /// let cycle = g.insert_edge(b, a).unwrap_err().into_cycle().unwrap();
    /// assert_eq!(cycle.new_edge(), (b, a));
    /// # Ok::<(), threadkit::observe::graph::EdgeError>(())
    /// ```
    #[must_use]
    pub fn new_edge(&self) -> (NodeId, NodeId) {
        (self.from, self.to)
    }

    /// The order already recorded, as a path of known edges from the new edge's `to` to its
    /// `from` (one node, `[from]`, when a node is taken while it is held).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let a = g.add_node();
    /// let cycle = g.insert_edge(a, a).unwrap_err().into_cycle().unwrap();
    /// assert_eq!(cycle.existing_path(), [a]);
    /// ```
    #[must_use]
    pub fn existing_path(&self) -> &[NodeId] {
        &self.path
    }

    /// The whole cycle, starting with the new edge: `from`, `to`, then the existing path up
    /// to (not repeating) `from`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let (a, b) = (g.add_node(), g.add_node());
    /// g.insert_edge(a, b)?;
    /// let cycle = g.insert_edge(b, a).unwrap_err().into_cycle().unwrap();
    /// assert_eq!(cycle.nodes(), vec![b, a]);
    /// # Ok::<(), threadkit::observe::graph::EdgeError>(())
    /// ```
    #[must_use]
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut nodes = vec![self.from];
        nodes.extend_from_slice(&self.path[..self.path.len() - 1]);
        nodes
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "taking {} while holding {} closes the cycle ",
            self.to, self.from
        )?;
        write!(f, "{}", self.from)?;
        for n in &self.path {
            write!(f, " -> {n}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Cycle {}

/// Why [`LockOrderGraph::insert_edge`] refused an edge.
///
/// # Examples
///
/// ```
/// use threadkit::observe::graph::{EdgeError, LockOrderGraph};
///
/// let mut g = LockOrderGraph::new();
/// let (a, b) = (g.add_node(), g.add_node());
/// g.remove_node(b);
/// assert_eq!(g.insert_edge(a, b), Err(EdgeError::Removed(b)));
/// assert_eq!(
///     EdgeError::Removed(b).to_string(),
///     format!("lock-order graph: node {b} was removed")
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeError {
    /// The edge would close a cycle; it was not added.
    Cycle(Cycle),
    /// One end was removed from the graph (or never belonged to it); nothing was added.
    Removed(NodeId),
}

impl EdgeError {
    /// The cycle, if that is why the edge was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::{EdgeError, LockOrderGraph};
    ///
    /// let mut g = LockOrderGraph::new();
    /// let a = g.add_node();
    /// assert!(g.insert_edge(a, a).unwrap_err().into_cycle().is_some());
    /// assert_eq!(EdgeError::Removed(a).into_cycle(), None);
    /// ```
    #[must_use]
    pub fn into_cycle(self) -> Option<Cycle> {
        match self {
            EdgeError::Cycle(c) => Some(c),
            EdgeError::Removed(_) => None,
        }
    }
}

impl fmt::Display for EdgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EdgeError::Cycle(c) => write!(f, "lock-order graph: {c}"),
            EdgeError::Removed(n) => write!(f, "lock-order graph: node {n} was removed"),
        }
    }
}

impl std::error::Error for EdgeError {}

#[derive(Clone, Debug, Default)]
struct Slot {
    generation: u32,
    live: bool,
    /// Position in the topological order: distinct over all slots, live or not, and
    /// `rank(x) < rank(y)` for every edge x -> y.
    rank: u32,
    /// Scratch mark of the searches in `insert_edge`; false between calls.
    visited: bool,
    out: IdSet,
    inc: IdSet,
}

/// The acquired-before graph of lock-order checking: an acyclic graph that refuses, and
/// reports, the first edge that would close a cycle.
///
/// An edge A -> B means "B was taken while A was held". If B -> ... -> A is known too, two
/// threads following the two orders can deadlock, even if they never have yet:
/// [`insert_edge`](Self::insert_edge) returns that [`Cycle`] instead of adding the edge.
///
/// # Cost
///
/// The graph keeps a topological order of its nodes (Pearce and Kelly's dynamic topological
/// sort, the algorithm of Abseil's `GraphCycles`). Inserting an edge that is already known is
/// one hash lookup; a new edge that agrees with the order is two hash inserts; only an edge
/// against the order searches, and only the nodes whose rank lies between its two ends.
/// Removing a node costs its degree. The graph is not synchronised: the caller keeps it
/// behind a lock and can skip that lock for the edges a thread already knows about.
///
/// # Examples
///
/// ```
/// use threadkit::observe::graph::LockOrderGraph;
///
/// let mut g = LockOrderGraph::new();
/// let db = g.add_node();
/// let cache = g.add_node();
/// g.insert_edge(db, cache)?; // cache taken while db held
/// g.insert_edge(db, cache)?; // known: one lookup
/// let err = g.insert_edge(cache, db).unwrap_err(); // the opposite order
/// let cycle = err.into_cycle().unwrap();
/// assert_eq!(cycle.new_edge(), (cache, db));
/// assert_eq!(cycle.existing_path(), [db, cache]);
/// g.check_invariants().unwrap();
/// # Ok::<(), threadkit::observe::graph::EdgeError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct LockOrderGraph {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    stack: Vec<u32>,
    delta_forward: Vec<u32>,
    delta_backward: Vec<u32>,
}

impl LockOrderGraph {
    /// An empty graph.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let g = LockOrderGraph::new();
    /// assert!(g.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node with no edges and returns its id.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let a = g.add_node();
    /// assert!(g.contains(a));
    /// assert_eq!(g.len(), 1);
    /// ```
    #[must_use = "the id is the only way to name the node"]
    pub fn add_node(&mut self) -> NodeId {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            // A freed slot keeps its rank: ranks stay distinct, and a node without edges
            // fits anywhere in the order.
            let slot = &mut self.slots[index as usize];
            slot.live = true;
            return NodeId {
                index,
                generation: slot.generation,
            };
        }
        let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 lock-order nodes");
        self.slots.push(Slot {
            live: true,
            rank: index,
            ..Slot::default()
        });
        NodeId {
            index,
            generation: 0,
        }
    }

    /// Removes a node and its edges; returns false (and changes nothing) if `id` was already
    /// removed. The slot is reused under a new generation, so `id` never names another node.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let (a, b) = (g.add_node(), g.add_node());
    /// g.insert_edge(a, b)?;
    /// assert!(g.remove_node(b));
    /// assert!(!g.remove_node(b));
    /// let c = g.add_node(); // b's slot, new generation, no edges
    /// assert!(!g.has_edge(a, c));
    /// g.insert_edge(c, a)?; // no cycle: b's edge went with it
    /// # Ok::<(), threadkit::observe::graph::EdgeError>(())
    /// ```
    pub fn remove_node(&mut self, id: NodeId) -> bool {
        if !self.contains(id) {
            return false;
        }
        let i = id.index;
        let slot = &mut self.slots[i as usize];
        let out = std::mem::take(&mut slot.out);
        let inc = std::mem::take(&mut slot.inc);
        slot.live = false;
        self.live -= 1;
        // A slot whose generation would wrap is retired instead of reused.
        if let Some(next) = slot.generation.checked_add(1) {
            slot.generation = next;
            self.free.push(i);
        }
        for o in out {
            self.slots[o as usize].inc.remove(&i);
        }
        for p in inc {
            self.slots[p as usize].out.remove(&i);
        }
        true
    }

    /// Whether `id` names a node of this graph (not removed since).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let a = g.add_node();
    /// assert!(g.contains(a));
    /// g.remove_node(a);
    /// assert!(!g.contains(a));
    /// ```
    #[must_use]
    pub fn contains(&self, id: NodeId) -> bool {
        self.slots
            .get(id.index as usize)
            .is_some_and(|s| s.live && s.generation == id.generation)
    }

    /// How many nodes the graph has.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let _a = g.add_node();
    /// let b = g.add_node();
    /// g.remove_node(b);
    /// assert_eq!(g.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the graph has no nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// assert!(g.is_empty());
    /// let a = g.add_node();
    /// assert!(!g.is_empty());
    /// g.remove_node(a);
    /// assert!(g.is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether the edge `from -> to` is known (false if either end was removed).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let (a, b) = (g.add_node(), g.add_node());
    /// g.insert_edge(a, b)?;
    /// assert!(g.has_edge(a, b));
    /// assert!(!g.has_edge(b, a));
    /// # Ok::<(), threadkit::observe::graph::EdgeError>(())
    /// ```
    #[must_use]
    pub fn has_edge(&self, from: NodeId, to: NodeId) -> bool {
        self.contains(from)
            && self.contains(to)
            && self.slots[from.index as usize].out.contains(&to.index)
    }

    /// Adds the edge `from -> to` ("`to` taken while `from` was held").
    ///
    /// A known edge returns `Ok` after one hash lookup. Taking a node while holding it
    /// (`from == to`) is a cycle of one node.
    ///
    /// # Errors
    ///
    /// - [`EdgeError::Cycle`] if the graph has a path `to -> ... -> from`: the edge is not
    ///   added, and the error carries both orders.
    /// - [`EdgeError::Removed`] if either end is no longer in the graph.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::{EdgeError, LockOrderGraph};
    ///
    /// let mut g = LockOrderGraph::new();
    /// let (a, b, c) = (g.add_node(), g.add_node(), g.add_node());
    /// g.insert_edge(c, b)?;
    /// g.insert_edge(b, a)?; // against the order the nodes were made in: reordered
    /// match g.insert_edge(a, c) {
    ///     Err(EdgeError::Cycle(cycle)) => assert_eq!(cycle.existing_path(), [c, b, a]),
    ///     other => panic!("expected a cycle, got {other:?}"),
    /// }
    /// g.check_invariants().unwrap();
    /// # Ok::<(), EdgeError>(())
    /// ```
    pub fn insert_edge(&mut self, from: NodeId, to: NodeId) -> Result<(), EdgeError> {
        for id in [from, to] {
            if !self.contains(id) {
                return Err(EdgeError::Removed(id));
            }
        }
        let (x, y) = (from.index, to.index);
        if x == y {
            return Err(EdgeError::Cycle(Cycle {
                from,
                to,
                path: vec![from],
            }));
        }
        if self.slots[x as usize].out.contains(&y) {
            return Ok(());
        }
        let (rank_x, rank_y) = (self.slots[x as usize].rank, self.slots[y as usize].rank);
        if rank_x > rank_y {
            // Against the current order: does `to` reach `from`? Only nodes ranked between
            // the two can lie on such a path.
            if self.forward_search(y, rank_x) {
                for &d in &self.delta_forward {
                    self.slots[d as usize].visited = false;
                }
                let path = self.find_path(to, from).expect("the search reached `from`");
                return Err(EdgeError::Cycle(Cycle { from, to, path }));
            }
            self.backward_search(x, rank_y);
            self.reorder();
        }
        self.slots[x as usize].out.insert(y);
        self.slots[y as usize].inc.insert(x);
        Ok(())
    }

    /// A shortest path of known edges from `from` to `to` (both ends included; `[from]` when
    /// they are the same node), or `None` if there is none or either end was removed.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let (a, b, c) = (g.add_node(), g.add_node(), g.add_node());
    /// g.insert_edge(a, b)?;
    /// g.insert_edge(b, c)?;
    /// assert_eq!(g.find_path(a, c), Some(vec![a, b, c]));
    /// assert_eq!(g.find_path(c, a), None);
    /// # Ok::<(), threadkit::observe::graph::EdgeError>(())
    /// ```
    #[must_use]
    pub fn find_path(&self, from: NodeId, to: NodeId) -> Option<Vec<NodeId>> {
        if !self.contains(from) || !self.contains(to) {
            return None;
        }
        let mut parent: HashMap<u32, u32, IdBuild> = HashMap::default();
        let mut queue = VecDeque::from([from.index]);
        parent.insert(from.index, from.index);
        while let Some(n) = queue.pop_front() {
            if n == to.index {
                let mut path = vec![n];
                let mut at = n;
                while at != from.index {
                    at = parent[&at];
                    path.push(at);
                }
                path.reverse();
                return Some(path.into_iter().map(|i| self.id(i)).collect());
            }
            for &w in &self.slots[n as usize].out {
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(w) {
                    e.insert(n);
                    queue.push_back(w);
                }
            }
        }
        None
    }

    /// Checks the graph's internal invariants: ranks are distinct and agree with every
    /// edge, edges are mirrored in both ends and join live nodes, the free list holds exactly
    /// the reusable dead slots, no search mark is left set. For tests; linear in the size.
    ///
    /// # Errors
    ///
    /// The first broken invariant, described.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::graph::LockOrderGraph;
    ///
    /// let mut g = LockOrderGraph::new();
    /// let ids: Vec<_> = (0..4).map(|_| g.add_node()).collect();
    /// g.insert_edge(ids[3], ids[0])?;
    /// g.remove_node(ids[1]);
    /// assert_eq!(g.check_invariants(), Ok(()));
    /// # Ok::<(), threadkit::observe::graph::EdgeError>(())
    /// ```
    pub fn check_invariants(&self) -> Result<(), String> {
        let n = self.slots.len();
        let mut seen_rank = vec![false; n];
        let mut live = 0;
        for (i, s) in self.slots.iter().enumerate() {
            let r = s.rank as usize;
            if r >= n || std::mem::replace(&mut seen_rank[r], true) {
                return Err(format!("slot {i}: rank {r} out of range or repeated"));
            }
            if s.visited {
                return Err(format!("slot {i}: search mark left set"));
            }
            if !s.live {
                if !s.out.is_empty() || !s.inc.is_empty() {
                    return Err(format!("slot {i}: removed but still has edges"));
                }
                continue;
            }
            live += 1;
            for &o in &s.out {
                let t = self
                    .slots
                    .get(o as usize)
                    .ok_or(format!("slot {i}: edge to {o}"))?;
                if !t.live {
                    return Err(format!("slot {i}: edge to removed slot {o}"));
                }
                if !t.inc.contains(&(i as u32)) {
                    return Err(format!("edge {i} -> {o} missing from {o}'s incoming set"));
                }
                if s.rank >= t.rank {
                    return Err(format!(
                        "edge {i} -> {o} against the order ({r} >= {})",
                        t.rank
                    ));
                }
            }
            for &p in &s.inc {
                let f = self
                    .slots
                    .get(p as usize)
                    .ok_or(format!("slot {i}: edge from {p}"))?;
                if !f.out.contains(&(i as u32)) {
                    return Err(format!("edge {p} -> {i} missing from {p}'s outgoing set"));
                }
            }
        }
        if live != self.live {
            return Err(format!("{live} live slots, count says {}", self.live));
        }
        let mut in_free = vec![false; n];
        for &f in &self.free {
            let s = &self.slots[f as usize];
            if s.live || std::mem::replace(&mut in_free[f as usize], true) {
                return Err(format!("free list: slot {f} live or listed twice"));
            }
        }
        for (i, s) in self.slots.iter().enumerate() {
            if !s.live && s.generation != u32::MAX && !in_free[i] {
                return Err(format!("slot {i}: removed but not on the free list"));
            }
        }
        Ok(())
    }

    fn id(&self, index: u32) -> NodeId {
        NodeId {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    /// Marks every node reachable from `start` through nodes ranked below `upper`, into
    /// `delta_forward`; true (stopping early) if it meets the node ranked `upper`.
    fn forward_search(&mut self, start: u32, upper: u32) -> bool {
        self.delta_forward.clear();
        self.stack.clear();
        self.stack.push(start);
        while let Some(n) = self.stack.pop() {
            let slot = &mut self.slots[n as usize];
            if slot.visited {
                continue;
            }
            slot.visited = true;
            self.delta_forward.push(n);
            for &w in &self.slots[n as usize].out {
                let next = &self.slots[w as usize];
                if next.rank == upper {
                    return true;
                }
                if !next.visited && next.rank < upper {
                    self.stack.push(w);
                }
            }
        }
        false
    }

    /// Marks every node that reaches `start` through nodes ranked above `lower`, into
    /// `delta_backward`.
    fn backward_search(&mut self, start: u32, lower: u32) {
        self.delta_backward.clear();
        self.stack.clear();
        self.stack.push(start);
        while let Some(n) = self.stack.pop() {
            let slot = &mut self.slots[n as usize];
            if slot.visited {
                continue;
            }
            slot.visited = true;
            self.delta_backward.push(n);
            for &w in &self.slots[n as usize].inc {
                let prev = &self.slots[w as usize];
                if !prev.visited && prev.rank > lower {
                    self.stack.push(w);
                }
            }
        }
    }

    /// Gives the nodes found by the two searches the same set of ranks they had, the
    /// backward ones (which must come first) before the forward ones, each group keeping its
    /// relative order.
    fn reorder(&mut self) {
        let slots = &mut self.slots;
        self.delta_backward
            .sort_unstable_by_key(|&n| slots[n as usize].rank);
        self.delta_forward
            .sort_unstable_by_key(|&n| slots[n as usize].rank);
        let mut ranks: Vec<u32> = self
            .delta_backward
            .iter()
            .chain(&self.delta_forward)
            .map(|&n| slots[n as usize].rank)
            .collect();
        ranks.sort_unstable();
        for (&n, r) in self
            .delta_backward
            .iter()
            .chain(&self.delta_forward)
            .zip(ranks)
        {
            let slot = &mut slots[n as usize];
            slot.rank = r;
            slot.visited = false;
        }
    }
}

#[cfg(test)]
mod tests;
