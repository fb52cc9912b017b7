//! Deadlock reports: wait-for cycles through lock holders, joined threads and futures' workers,
//! pools whose queued tasks can never start (every worker blocked for good), and Go's global
//! case (every non-daemon thread blocked for good), read from the wait records and confirmed
//! by a second reading so that a wait that ended meanwhile is never reported.
//!
//! A pool's queued task has no owner thread, so it is no edge of the wait-for graph: a wait
//! for one records its pool's id (`Blocked::of_pool`), and the search asks the executor for
//! its live pools (`futures::live_pools`: each one's id, maximum and workers) to tell which
//! threads could start it.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::dump::{HeldDump, WaitDump, held, snapshot_entries, with_backtrace};
use super::graph::{ThreadState, WaitForGraph, WaitNode, all_blocked, stuck};
use crate::futures::PoolView;
use crate::threading::record::WaitKind;
use crate::threading::thread::Inner;

/// One deadlock: a wait-for cycle, a pool whose queued tasks can never start, or every
/// non-daemon thread blocked with nobody left to wake it. Returned by [`deadlocks`]; prints as a report naming each thread, the object it
/// waits on, where it waits and, where held-lock tracking knew it, where the owner took it,
/// and, while wait backtraces are on ([`set_wait_backtraces`](super::backtrace::set_wait_backtraces)),
/// each wait's backtrace, as dumps show it. With the `serde` feature it also serialises to
/// JSON (`Deadlock::to_json`).
///
/// # Examples
///
/// ```
/// use threadkit::observe::{self, Deadlock};
/// // A healthy program has none.
/// assert!(observe::deadlocks().is_empty());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Deadlock {
    /// Threads waiting on each other in a cycle, in edge order: each step's thread waits on
    /// an object the next step's thread owns (the last's, the first's).
    Cycle(Vec<Step>),
    /// Every non-daemon thread is blocked with no timeout, none of them on a thread (a lock's
    /// holder, a joined thread, a future's worker) that still runs: nobody is left to set the
    /// event, notify the condition, release the semaphore or fill the queue they wait on.
    AllBlocked(Vec<Step>),
    /// A pool's queued tasks can never start: threads wait on futures still queued in pool
    /// `pool`, which has started all the workers it may (`max_workers`), and every one of
    /// those workers is blocked for good (waiting with no timeout on a task queued behind it,
    /// or on a thread that is itself stuck so). Found while other threads still run (unless
    /// one of them cancels the queued futures or shuts the pool down with `cancel_futures`,
    /// nothing lets them go). A step waiting on a queued future says so
    /// ([`Step::queued_in`]).
    #[non_exhaustive]
    PoolStarved {
        /// The pool's name (its `thread_name_prefix`).
        pool: String,
        /// How many workers it has (its `max_workers`): the first steps.
        workers: usize,
        /// The pool's workers, by ident, then the other threads that wait on its queued
        /// futures, by ident.
        steps: Vec<Step>,
    },
}

/// One thread of a [`Deadlock`]: who it is, what it waits on and where (with the wait's
/// backtrace, [`WaitDump::backtrace`], when one was captured), and where its wait's owner took
/// the object (when held-lock tracking was on).
///
/// # Examples
///
/// ```
/// assert!(threadkit::observe::deadlocks().iter().all(|d| d.steps().iter().all(|s| s.wait().location().line() > 0)));
/// ```
#[derive(Clone, Debug)]
pub struct Step {
    thread: String,
    ident: u64,
    wait: WaitDump,
    owner_took: Option<&'static Location<'static>>,
    queued_in: Option<String>,
}

impl Deadlock {
    /// The threads involved, in cycle order (by ident for [`Deadlock::AllBlocked`]; the
    /// pool's workers first for [`Deadlock::PoolStarved`]).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::deadlocks().iter().all(|d| !d.steps().is_empty()));
    /// ```
    pub fn steps(&self) -> &[Step] {
        match self {
            Deadlock::Cycle(s)
            | Deadlock::AllBlocked(s)
            | Deadlock::PoolStarved { steps: s, .. } => s,
        }
    }

    /// The pool whose queued tasks can never start, for [`Deadlock::PoolStarved`]; `None`
    /// for the other reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{ThreadPoolExecutor, observe};
    ///
    /// let pool = Arc::new(ThreadPoolExecutor::builder().max_workers(1).thread_name_prefix("one").build()?);
    /// let p = pool.clone();
    /// // The only worker waits for a task queued behind it: it never starts.
    /// let outer = pool.submit(move || p.submit(|| 1).map(|inner| inner.result().is_ok()).ok())?;
    /// let report = loop {
    ///     if let Some(d) = observe::deadlocks().into_iter().find(|d| d.pool().is_some()) { break d; }
    ///     std::thread::sleep(std::time::Duration::from_millis(1));
    /// };
    /// assert_eq!(report.pool(), Some("one"));
    /// assert_eq!(report.steps()[0].thread(), "one_0");
    /// assert_eq!(report.steps()[0].queued_in(), Some("one"));
    /// // Cancelling the queued task lets the worker go (its wait ends in an error).
    /// pool.shutdown(true, true)?;
    /// assert_eq!(outer.result().ok(), Some(&Some(false)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pool(&self) -> Option<&str> {
        match self {
            Deadlock::PoolStarved { pool, .. } => Some(pool),
            Deadlock::Cycle(_) | Deadlock::AllBlocked(_) => None,
        }
    }

    /// The report as JSON: `{"kind": "cycle" or "all_blocked", "threads": [{"name", "ident",
    /// "wait": {...}, "owner_took": {"file", "line", "column"} or null}]}`, each `"wait"` as
    /// in [`Dump::to_json`](super::Dump::to_json) (its `"backtrace"` included).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Barrier, Lock, Thread, observe};
    ///
    /// let (a, b) = (Arc::new(Lock::named("json-a")), Arc::new(Lock::named("json-b")));
    /// let both = Arc::new(Barrier::new(2)?);
    /// for (first, second) in [(a.clone(), b.clone()), (b.clone(), a.clone())] {
    ///     let both = both.clone();
    ///     // Daemons: they stay blocked on each other until the program exits.
    ///     Thread::builder().daemon(true).spawn(move || {
    ///         let _f = first.guard();
    ///         let _ = both.wait();
    ///         let _s = second.guard();
    ///     })?;
    /// }
    /// let report = loop {
    ///     if let Some(d) = observe::deadlocks().pop() { break d; }
    ///     std::thread::sleep(std::time::Duration::from_millis(1));
    /// };
    /// let v: serde_json::Value = serde_json::from_str(&report.to_json())?;
    /// assert_eq!(v["kind"], "cycle");
    /// let threads = v["threads"].as_array().unwrap();
    /// assert_eq!(threads.len(), 2);
    /// assert!(threads.iter().all(|t| t["wait"]["object"]["name"].as_str().unwrap().starts_with("json-")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_value()).unwrap_or_default()
    }

    #[cfg(feature = "serde")]
    fn to_value(&self) -> serde_json::Value {
        use serde_json::json;
        let kind = match self {
            Deadlock::Cycle(_) => "cycle",
            Deadlock::AllBlocked(_) => "all_blocked",
            Deadlock::PoolStarved { .. } => "pool_starved",
        };
        let threads: Vec<_> = self
            .steps()
            .iter()
            .map(|s| {
                json!({
                    "name": s.thread,
                    "ident": s.ident,
                    "wait": s.wait.to_value(),
                    "owner_took": s.owner_took.map(|l| {
                        json!({"file": l.file(), "line": l.line(), "column": l.column()})
                    }),
                    "queued_in": s.queued_in,
                })
            })
            .collect();
        json!({"kind": kind, "pool": self.pool(), "threads": threads})
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Deadlock {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl Step {
    /// The thread's name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::deadlocks().iter().all(|d| d.steps().iter().all(|s| !s.thread().is_empty())));
    /// ```
    pub fn thread(&self) -> &str {
        &self.thread
    }

    /// The thread's ident.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::deadlocks().iter().all(|d| d.steps().iter().all(|s| s.ident() != 0)));
    /// ```
    pub fn ident(&self) -> u64 {
        self.ident
    }

    /// What it waits on, where, since when, and who owns it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::deadlocks().iter().all(|d| d.steps().iter().all(|s| !s.wait().timed())));
    /// ```
    pub fn wait(&self) -> &WaitDump {
        &self.wait
    }

    /// Where the owner took the object, if held-lock tracking was on when it did.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::deadlocks().iter().all(|d| d.steps().iter().all(|s| s.owner_took().is_none_or(|l| l.line() > 0))));
    /// ```
    pub fn owner_took(&self) -> Option<&'static Location<'static>> {
        self.owner_took
    }

    /// For a wait on a future whose task is still queued in a live pool (not started): the
    /// pool's name. See [`Deadlock::pool`] for an example.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::deadlocks().iter().all(|d| d.steps().iter().all(|s| s.queued_in().is_none() || s.wait().owner_ident().is_none())));
    /// ```
    pub fn queued_in(&self) -> Option<&str> {
        self.queued_in.as_deref()
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = &self.wait;
        write!(
            f,
            "  thread {:?} waits for {} ({}) at {}",
            self.thread, w.object, w.kind, w.location
        )?;
        if let Some(owner) = w.owner {
            let name = w.owner_name.as_deref().unwrap_or("?");
            let verb = super::dump::owner_verb(w.kind);
            write!(f, "\n    {verb} {name:?} (ident {owner}")?;
            if let Some(depth) = w.owner_depth {
                write!(f, ", recursion depth {depth}")?;
            }
            f.write_str(")")?;
            if let Some(took) = self.owner_took {
                write!(f, ", taken at {took}")?;
            }
        }
        if let Some(pool) = &self.queued_in {
            write!(f, "\n    queued in pool {pool:?}, not started")?;
        }
        if let Some(trace) = &w.backtrace {
            super::dump::write_backtrace(f, trace, "    ")?;
        }
        Ok(())
    }
}

impl fmt::Display for Deadlock {
    /// `deadlock: N threads wait on each other`, `deadlock: pool "P" can start no queued
    /// task: all N of its workers are blocked for good` or `deadlock: all N non-daemon
    /// threads are blocked with no timeout`, then one step per thread.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deadlock::Cycle(s) => write!(f, "deadlock: {} threads wait on each other", s.len())?,
            Deadlock::AllBlocked(s) => write!(
                f,
                "deadlock: all {} non-daemon threads are blocked with no timeout",
                s.len()
            )?,
            Deadlock::PoolStarved { pool, workers, .. } => {
                write!(
                    f,
                    "deadlock: pool {pool:?} can start no queued task: all {workers} of its \
                     workers are blocked for good"
                )?;
            }
        }
        for step in self.steps() {
            write!(f, "\n{step}")?;
        }
        Ok(())
    }
}

/// One reading of every record.
struct Snapshot {
    /// ident -> (name, daemon, record, held list).
    threads: HashMap<u64, Seen>,
}

struct Seen {
    name: String,
    daemon: bool,
    wait: Option<WaitDump>,
    holds: Vec<HeldDump>,
}

fn read(entries: &[Arc<Inner>]) -> Snapshot {
    let names: HashMap<u64, String> = entries
        .iter()
        .map(|e| (e.ident.load(Ordering::Relaxed), e.name().to_string()))
        .collect();
    let now = Instant::now();
    let threads = entries
        .iter()
        .map(|e| {
            let ident = e.ident.load(Ordering::Relaxed);
            let seen = Seen {
                name: names.get(&ident).cloned().unwrap_or_default(),
                daemon: e.daemon.load(Ordering::Relaxed),
                wait: e.wait_record().map(|r| with_backtrace(e, &r, &names, now)),
                holds: held(e).0,
            };
            (ident, seen)
        })
        .collect();
    Snapshot { threads }
}

/// The pools whose queued tasks can never start (see [`Deadlock::PoolStarved`]), among the
/// threads `idents`, given their waits that both readings agree on (`stable`).
///
/// What each blocked thread needs to go on: the owner of what it waits on (if any), or, for
/// a future queued in a pool that can start no other worker, any one of the pool's workers.
/// The threads stuck for good are those that need only stuck threads ([`stuck`]); a pool
/// whose every worker is stuck while some stuck thread waits on a future queued in it is
/// reported. A pool that can still start a worker, a worker that runs, waits with a
/// timeout, or waits on something with no owner (a running thread may set it) keeps the
/// pool out of the report.
fn starved_pools<'a>(
    idents: &[u64],
    pools: &'a [PoolView],
    stable: &dyn Fn(u64) -> Option<(&'a Seen, &'a WaitDump)>,
    queued_in: &dyn Fn(&WaitDump) -> Option<&'a PoolView>,
    step: &dyn Fn(u64) -> Option<Step>,
) -> Vec<Deadlock> {
    let full = |p: &PoolView| !p.workers.is_empty() && p.workers.len() >= p.max_workers;
    let mut needs: HashMap<u64, Vec<u64>> = HashMap::new();
    for &ident in idents {
        let Some((_, w)) = stable(ident) else {
            continue;
        };
        if let Some(owner) = w.owner {
            needs.insert(ident, vec![owner]);
        } else if let Some(p) = queued_in(w).filter(|p| full(p)) {
            needs.insert(ident, p.workers.clone());
        }
    }
    let stuck = stuck(&needs);
    let mut found = Vec::new();
    for p in pools.iter().filter(|p| full(p)) {
        if !p.workers.iter().all(|w| stuck.contains(w)) {
            continue;
        }
        let waiting: Vec<u64> = idents
            .iter()
            .copied()
            .filter(|&i| {
                stuck.contains(&i)
                    && stable(i).is_some_and(|(_, w)| queued_in(w).is_some_and(|q| q.id == p.id))
            })
            .collect();
        if waiting.is_empty() {
            continue;
        }
        let mut workers = p.workers.clone();
        workers.sort_unstable();
        let others = waiting.iter().copied().filter(|i| !workers.contains(i));
        let steps: Option<Vec<Step>> = workers.iter().copied().chain(others).map(step).collect();
        if let Some(steps) = steps {
            found.push(Deadlock::PoolStarved {
                pool: p.name.to_string(),
                workers: workers.len(),
                steps,
            });
        }
    }
    found
}

/// The same operation, waiting on the same object and owner, in both readings.
fn same(a: &WaitDump, b: &WaitDump) -> bool {
    a.since_raw == b.since_raw && a.object == b.object && a.owner == b.owner && a.kind == b.kind
}

/// Finds the deadlocks of the program as it is now: every wait-for cycle (thread -> object
/// -> owner thread -> ...) through `Lock`, `RLock`, `Mutex`, `ReentrantMutex`, `RwLock`
/// writers, joins and futures (their running worker), each once; every thread pool whose
/// queued tasks can never start, because each of its workers (as many as it may start) is
/// blocked for good while a thread waits on such a task ([`Deadlock::PoolStarved`]: a task
/// that waits for a task queued behind it in its own full pool); and, if there is neither,
/// Go's global case: every non-daemon thread blocked with no timeout, none of them on a
/// thread that still runs.
///
/// Waits with a timeout are left out (they end on their own). The records are read twice and
/// only what both readings show, in the same operations (same start), is reported, so a wait
/// that ended, or a cycle that resolved, while the records were read is never reported. Never
/// blocks.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Lock, Thread, observe};
///
/// let (a, b) = (Arc::new(Lock::named("a")), Arc::new(Lock::named("b")));
/// let ga = a.guard();
/// let t = Thread::builder().name("other").daemon(true).spawn({
///     let (a, b) = (a.clone(), b.clone());
///     move || { let _gb = b.guard(); let _ga = a.guard(); }
/// })?;
/// // "other" holds b and waits for a: no cycle while this thread runs.
/// while t.thread().waiting().is_none() { std::thread::yield_now(); }
/// assert!(observe::deadlocks().is_empty());
/// drop(ga);
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn deadlocks() -> Vec<Deadlock> {
    let (entries, partial) = snapshot_entries();
    let first = read(&entries);
    let second = read(&entries);
    // After both readings: a worker started meanwhile is in neither, so its pool is not
    // taken for one whose every worker is blocked. Not from a partial snapshot: the pools'
    // try-locks bind the calling thread to the registry, which takes the table lock that
    // was found held.
    let pools = if partial {
        Vec::new()
    } else {
        crate::futures::live_pools()
    };
    find(&first, &second, &pools)
}

/// The deadlocks that both readings show in the same operations.
fn find(first: &Snapshot, second: &Snapshot, pools: &[PoolView]) -> Vec<Deadlock> {
    // What both readings agree on, timed waits left out.
    let stable = |ident: u64| -> Option<(&Seen, &WaitDump)> {
        let a = first.threads.get(&ident)?.wait.as_ref()?;
        let s = second.threads.get(&ident)?;
        let b = s.wait.as_ref()?;
        (same(a, b) && !a.timed && !b.timed).then_some((s, b))
    };
    let mut idents: Vec<u64> = second.threads.keys().copied().collect();
    idents.sort_unstable();
    // The live pool a wait is for, while its future is queued (no worker runs it yet).
    let queued_in = |w: &WaitDump| -> Option<&PoolView> {
        if w.kind != WaitKind::Future || w.owner.is_some() || w.pool == 0 {
            return None;
        }
        pools.iter().find(|p| p.id == w.pool)
    };

    let mut graph = WaitForGraph::new();
    for &ident in &idents {
        graph.add_thread(ident);
        if let Some((_, w)) = stable(ident) {
            let object = w.object.addr() as u64;
            graph.waits_on(ident, object);
            if let Some(owner) = w.owner.filter(|&o| o != ident && stable(o).is_some()) {
                graph.held_by(object, owner);
            }
        }
    }
    let step = |ident: u64| -> Option<Step> {
        let (seen, w) = stable(ident)?;
        let owner_took = w.owner.and_then(|o| {
            second
                .threads
                .get(&o)?
                .holds
                .iter()
                .find(|h| h.object() == w.object)
                .map(|h| h.location())
        });
        Some(Step {
            thread: seen.name.clone(),
            ident,
            wait: w.clone(),
            owner_took,
            queued_in: queued_in(w).map(|p| p.name.to_string()),
        })
    };
    let mut found: Vec<Deadlock> = graph
        .cycles()
        .into_iter()
        .filter_map(|cycle| {
            let steps: Option<Vec<Step>> = cycle
                .into_iter()
                .filter_map(|n| match n {
                    WaitNode::Thread(t) => Some(t),
                    WaitNode::Object(_) => None,
                })
                .map(step)
                .collect();
            steps.map(Deadlock::Cycle)
        })
        .collect();
    found.extend(starved_pools(&idents, pools, &stable, &queued_in, &step));
    // A thread blocked for good: its wait is untimed in both readings, and the thread it
    // waits on (a lock's holder, a joined thread, a future's worker), if any, is itself
    // blocked for good: one that still runs (a daemon thread too) may yet let it go.
    let forever = |ident: u64| {
        stable(ident).is_some_and(|(_, w)| {
            w.owner
                .is_none_or(|o| !second.threads.contains_key(&o) || stable(o).is_some())
        })
    };
    if found.is_empty() {
        let states = idents.iter().map(|&ident| ThreadState {
            ident,
            daemon: second.threads[&ident].daemon,
            blocked_forever: forever(ident),
        });
        if all_blocked(states) {
            let steps: Vec<Step> = idents
                .iter()
                .filter(|&&i| !second.threads[&i].daemon)
                .filter_map(|&i| step(i))
                .collect();
            found.push(Deadlock::AllBlocked(steps));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threading::record::{ObjectKind, WaitKind};

    fn wait(object: usize, owner: u64, since: u64, timed: bool) -> WaitDump {
        WaitDump {
            kind: WaitKind::Lock,
            object: crate::threading::record::ObjectId::new(ObjectKind::Lock, object),
            owner: (owner != 0).then_some(owner),
            owner_name: None,
            owner_depth: None,
            location: Location::caller(),
            since: Instant::now(),
            since_raw: since,
            waited: std::time::Duration::ZERO,
            timed,
            backtrace: None,
            pool: 0,
        }
    }

    /// A wait on a future of pool `pool` (0: a hand-made one), run by `worker` (0: queued).
    fn future(pool: usize, worker: u64, since: u64, timed: bool) -> WaitDump {
        WaitDump {
            kind: WaitKind::Future,
            object: crate::threading::record::ObjectId::new(
                ObjectKind::Future,
                0x900 + since as usize,
            ),
            pool,
            ..wait(0, worker, since, timed)
        }
    }

    fn pool(id: usize, max_workers: usize, workers: &[u64]) -> PoolView {
        PoolView {
            id,
            name: format!("p{id}").into(),
            max_workers,
            workers: workers.to_vec(),
        }
    }

    fn snap(threads: &[(u64, bool, Option<WaitDump>)]) -> Snapshot {
        Snapshot {
            threads: threads
                .iter()
                .map(|(i, daemon, w)| {
                    let seen = Seen {
                        name: format!("t{i}"),
                        daemon: *daemon,
                        wait: w.clone(),
                        holds: Vec::new(),
                    };
                    (*i, seen)
                })
                .collect(),
        }
    }

    /// Threads 1 and 2 wait on each other's lock; thread 3 (non-daemon) runs.
    fn cycle(since2: u64, timed2: bool) -> Snapshot {
        snap(&[
            (1, true, Some(wait(0x10, 2, 5, false))),
            (2, true, Some(wait(0x20, 1, since2, timed2))),
            (3, false, None),
        ])
    }

    #[test]
    fn a_cycle_seen_twice_in_the_same_operations_is_reported_once() {
        let found = find(&cycle(7, false), &cycle(7, false), &[]);
        assert_eq!(found.len(), 1);
        let Deadlock::Cycle(steps) = &found[0] else {
            panic!("{found:?}")
        };
        let who: Vec<_> = steps
            .iter()
            .map(|s| (s.thread(), s.wait().object().addr()))
            .collect();
        assert_eq!(who, [("t1", 0x10), ("t2", 0x20)]);
    }

    #[test]
    fn a_cycle_whose_wait_changed_between_the_readings_is_not_reported() {
        // Thread 2 started another wait (a new start) between the readings: the first
        // reading's cycle may have resolved.
        assert!(find(&cycle(7, false), &cycle(8, false), &[]).is_empty());
        // Or it was not waiting at all in the second one.
        let gone = snap(&[
            (1, true, Some(wait(0x10, 2, 5, false))),
            (2, true, None),
            (3, false, None),
        ]);
        assert!(find(&cycle(7, false), &gone, &[]).is_empty());
    }

    #[test]
    fn a_timed_wait_breaks_the_cycle() {
        assert!(find(&cycle(7, true), &cycle(7, true), &[]).is_empty());
    }

    #[test]
    fn a_thread_waiting_on_a_running_thread_is_not_the_global_case() {
        // The only non-daemon thread joins (or waits for a lock held by) a daemon thread that
        // still runs: that thread may end or let go, so nothing is reported.
        let joining = snap(&[(1, false, Some(wait(0x10, 3, 5, false))), (3, true, None)]);
        assert!(find(&joining, &joining, &[]).is_empty());
    }

    #[test]
    fn every_non_daemon_thread_blocked_untimed_is_the_global_case() {
        let all = snap(&[
            (1, false, Some(wait(0x10, 0, 5, false))),
            (2, false, Some(wait(0x30, 0, 6, false))),
            (3, true, None),
        ]);
        let found = find(&all, &all, &[]);
        let [Deadlock::AllBlocked(steps)] = found.as_slice() else {
            panic!("{found:?}")
        };
        assert_eq!(steps.iter().map(Step::ident).collect::<Vec<_>>(), [1, 2]);
        // One of them timed: it will wake, no report.
        let timed = snap(&[
            (1, false, Some(wait(0x10, 0, 5, false))),
            (2, false, Some(wait(0x30, 0, 6, true))),
        ]);
        assert!(find(&timed, &timed, &[]).is_empty());
    }

    #[test]
    fn a_full_pool_whose_workers_wait_on_tasks_queued_behind_them_is_starved() {
        // Worker 1 (pool 7, one worker at most) waits for a task queued in its own pool; main
        // (3) runs.
        let one = snap(&[(1, false, Some(future(7, 0, 5, false))), (3, false, None)]);
        let found = find(&one, &one, &[pool(7, 1, &[1])]);
        let [
            Deadlock::PoolStarved {
                pool: name,
                workers: 1,
                steps,
            },
        ] = found.as_slice()
        else {
            panic!("{found:?}")
        };
        assert_eq!(name, "p7");
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].ident(), 1);
        assert_eq!(steps[0].queued_in(), Some("p7"));
        let text = found[0].to_string();
        assert!(
            text.starts_with(
                "deadlock: pool \"p7\" can start no queued task: all 1 of its workers are \
                 blocked for good\n  thread \"t1\" waits for Future at 0x"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("\n    queued in pool \"p7\", not started"),
            "{text}"
        );

        // Two workers: one waits on a queued task, the other on the first's running task;
        // main (3) waits on a queued task too: it is listed after the workers.
        let two = snap(&[
            (1, false, Some(future(7, 0, 5, false))),
            (2, false, Some(future(7, 1, 6, false))),
            (3, false, Some(future(7, 0, 8, false))),
            (4, false, None),
        ]);
        let found = find(&two, &two, &[pool(7, 2, &[2, 1])]);
        let [
            Deadlock::PoolStarved {
                workers: 2, steps, ..
            },
        ] = found.as_slice()
        else {
            panic!("{found:?}")
        };
        assert_eq!(steps.iter().map(Step::ident).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(steps[1].queued_in(), None, "its future runs");
    }

    #[test]
    fn a_pool_that_can_still_run_the_task_is_not_starved() {
        let waiting = |w2: Option<WaitDump>| {
            snap(&[
                (1, false, Some(future(7, 0, 5, false))),
                (2, false, w2),
                (3, false, None),
            ])
        };
        let none = |s: &Snapshot, pools: &[PoolView]| {
            let found = find(s, s, pools);
            assert!(found.is_empty(), "{found:?}");
        };
        // A second worker runs (or is idle: its queue get has no owner).
        none(&waiting(None), &[pool(7, 2, &[1, 2])]);
        let mut idle = wait(0x40, 0, 6, false);
        idle.kind = WaitKind::QueueGet;
        none(&waiting(Some(idle)), &[pool(7, 2, &[1, 2])]);
        // The second worker waits with a timeout.
        none(
            &waiting(Some(future(7, 0, 6, true))),
            &[pool(7, 2, &[1, 2])],
        );
        // It waits on a lock held by main, which runs.
        none(
            &waiting(Some(wait(0x50, 3, 6, false))),
            &[pool(7, 2, &[1, 2])],
        );
        // The pool may start another worker.
        none(&waiting(None), &[pool(7, 2, &[1])]);
        // The task waited for is of another pool, or hand-made, or the pool is gone.
        let other = snap(&[(1, false, Some(future(8, 0, 5, false))), (3, false, None)]);
        none(&other, &[pool(7, 1, &[1]), pool(8, 1, &[9])]);
        let hand_made = snap(&[(1, false, Some(future(0, 0, 5, false))), (3, false, None)]);
        none(&hand_made, &[pool(7, 1, &[1])]);
        none(&waiting(None), &[]);
        // The worker's wait changed between the readings.
        let later = snap(&[(1, false, Some(future(7, 0, 6, false))), (3, false, None)]);
        let found = find(
            &snap(&[(1, false, Some(future(7, 0, 5, false))), (3, false, None)]),
            &later,
            &[pool(7, 1, &[1])],
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
