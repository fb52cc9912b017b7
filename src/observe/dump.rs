//! Thread dumps: every thread in the registry, what it waits on, who holds that, where and
//! since when, and the locks it holds; made without blocking, like the JVM's `jstack` or Go's
//! SIGQUIT dump.
//!
//! A dump reads each thread's wait record through its seqlock reader (never blocks, never
//! tears: a record being rewritten is read again) and takes the registry's table lock with a
//! bounded number of tries, so it works in a deadlocked program and from a panicking thread;
//! if the table stays locked (a thread stopped while holding it), the dump says it is partial
//! and lists the calling thread alone.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::threading::record::{HeldLock, ObjectId, WaitKind, WaitRecord};
use crate::threading::registry;
use crate::threading::thread::{Inner, Kind};

/// How many times a dump tries the registry's table lock before reporting a partial dump.
const TABLE_TRIES: u32 = 200;
/// How many rounds of reads a dump makes of one thread's held-lock list before leaving it out.
const HELD_TRIES: u32 = 100;

/// A snapshot of every thread: made by [`dump`], printed like `jstack` (`Display`), and, with
/// the `serde` feature, serialised to JSON (`Serialize`, `Dump::to_json`).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Lock, Thread, observe};
///
/// static DB: Lock = Lock::named("db");
/// let g = DB.guard();
/// let t = Thread::builder().name("client").spawn(|| drop(DB.guard()))?;
/// let ident = t.thread().ident().unwrap();
/// let dump = loop {
///     let dump = observe::dump();
///     if dump.thread(ident).is_some_and(|t| t.wait().is_some()) { break dump; }
///     std::thread::yield_now();
/// };
/// let client = dump.thread(ident).unwrap();
/// assert_eq!(client.name(), "client");
/// let wait = client.wait().unwrap();
/// assert_eq!(wait.object().name(), Some("db"));
/// assert_eq!(wait.owner_ident(), threadkit::current_thread().ident());
/// assert!(dump.to_string().contains("\"client\""));
/// drop(g);
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    threads: Vec<ThreadDump>,
    partial: bool,
}

/// One thread in a [`Dump`].
///
/// # Examples
///
/// ```
/// let dump = threadkit::observe::dump();
/// let me = dump.thread(threadkit::get_ident()).unwrap();
/// assert_eq!(me.name(), threadkit::current_thread().name());
/// assert!(me.wait().is_none()); // running: it is taking the dump
/// ```
#[derive(Clone, Debug)]
pub struct ThreadDump {
    name: String,
    ident: u64,
    native_id: u64,
    daemon: bool,
    main: bool,
    wait: Option<WaitDump>,
    holds: Vec<HeldDump>,
    holds_known: bool,
}

/// What a thread in a [`Dump`] is blocked on.
///
/// # Examples
///
/// ```
/// use threadkit::{Event, Thread, WaitKind, observe};
///
/// static GO: Event = Event::named("go");
/// let t = Thread::new(|| GO.wait());
/// t.start()?;
/// let ident = t.ident().unwrap();
/// let wait = loop {
///     if let Some(w) = observe::dump().thread(ident).and_then(|t| t.wait().cloned()) { break w; }
///     std::thread::yield_now();
/// };
/// assert_eq!(wait.kind(), WaitKind::Event);
/// assert_eq!(wait.object(), GO.id());
/// assert_eq!(wait.owner_ident(), None);
/// assert!(!wait.timed());
/// GO.set();
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct WaitDump {
    pub(crate) kind: WaitKind,
    pub(crate) object: ObjectId,
    pub(crate) owner: Option<u64>,
    pub(crate) owner_name: Option<String>,
    pub(crate) owner_depth: Option<usize>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) since: Instant,
    pub(crate) since_raw: u64,
    pub(crate) waited: Duration,
    pub(crate) timed: bool,
    pub(crate) backtrace: Option<Arc<std::backtrace::Backtrace>>,
    /// For a wait on a pool's future: the pool's id (`executor::future::pool_id`), else 0.
    pub(crate) pool: usize,
}

/// A lock a thread in a [`Dump`] holds (listed while held-lock tracking is on, see
/// [`set_held_tracking`](super::set_held_tracking)).
///
/// # Examples
///
/// ```
/// use threadkit::{Lock, observe};
///
/// observe::set_held_tracking(true);
/// static A: Lock = Lock::named("a");
/// let g = A.guard(); let line = line!();
/// let dump = observe::dump();
/// let me = dump.thread(threadkit::get_ident()).unwrap();
/// let held = me.holds().iter().find(|h| h.object() == A.id()).unwrap();
/// assert_eq!(held.location().line(), line);
/// drop(g);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldDump {
    object: ObjectId,
    location: &'static Location<'static>,
}

/// Takes a thread dump: every thread in the registry (threads threadkit started, the main
/// thread, foreign threads that registered, pool workers), running or blocked, with the locks
/// each holds where held-lock tracking knows them. Never blocks and never deadlocks; usable
/// from a panic hook or a `Drop` during unwinding.
///
/// # Examples
///
/// ```
/// let dump = threadkit::observe::dump();
/// assert!(!dump.is_partial());
/// assert!(dump.threads().iter().any(|t| t.is_main()));
/// assert!(dump.to_string().starts_with("threadkit thread dump: "));
/// ```
pub fn dump() -> Dump {
    let (entries, partial) = snapshot_entries();
    let names: HashMap<u64, String> = entries
        .iter()
        .map(|e| (e.ident.load(Ordering::Relaxed), e.name().to_string()))
        .collect();
    let now = Instant::now();
    let mut threads: Vec<ThreadDump> = entries
        .iter()
        .map(|e| thread_dump(e, &names, now))
        .collect();
    threads.sort_by_key(|t| t.ident);
    Dump { threads, partial }
}

/// The registry's entries (the main thread's included), or the calling thread's alone and
/// `true` when the table lock could not be had.
pub(crate) fn snapshot_entries() -> (Vec<Arc<Inner>>, bool) {
    registry::main_inner();
    match registry::try_entries(TABLE_TRIES) {
        Some(entries) => (entries, false),
        None => {
            // Only a thread already bound to its entry is listed: binding one would need
            // the table lock.
            let bound = !registry::peek_current().is_null();
            let me = bound.then(registry::current_handle).flatten();
            (me.map(|t| t.inner.clone()).into_iter().collect(), true)
        }
    }
}

fn thread_dump(e: &Inner, names: &HashMap<u64, String>, now: Instant) -> ThreadDump {
    let rec = e.wait_record();
    let (holds, holds_known) = held(e);
    ThreadDump {
        name: names
            .get(&e.ident.load(Ordering::Relaxed))
            .cloned()
            .unwrap_or_else(|| e.name().to_string()),
        ident: e.ident.load(Ordering::Relaxed),
        native_id: e.native_id.load(Ordering::Relaxed),
        daemon: e.daemon.load(Ordering::Relaxed),
        main: e.kind == Kind::Main,
        wait: rec.map(|r| with_backtrace(e, &r, names, now)),
        holds,
        holds_known,
    }
}

/// `r`, the record read from thread `e`, as a dump shows it, with the backtrace captured
/// for that wait (while wait backtraces are on) if one was: what dumps and deadlock reports
/// show for a blocked thread.
pub(crate) fn with_backtrace(
    e: &Inner,
    r: &WaitRecord,
    names: &HashMap<u64, String>,
    now: Instant,
) -> WaitDump {
    WaitDump {
        backtrace: super::backtrace::of_wait(&e.wait, r.since_raw),
        ..wait_dump(r, names, now)
    }
}

/// `r` as a dump shows it, without a backtrace.
pub(crate) fn wait_dump(r: &WaitRecord, names: &HashMap<u64, String>, now: Instant) -> WaitDump {
    let owner = (r.owner != 0).then_some(r.owner);
    WaitDump {
        kind: r.kind,
        object: r.object,
        owner,
        owner_name: owner.and_then(|o| names.get(&o).cloned()),
        owner_depth: (owner.is_some() && r.owner_depth != 0).then_some(r.owner_depth),
        location: r.location,
        since: r.since,
        since_raw: r.since_raw,
        waited: now.saturating_duration_since(r.since),
        timed: r.timed,
        backtrace: None,
        pool: r.pool,
    }
}

/// The thread's held-lock list, read without blocking it (a seqlock: a list being changed is
/// read again, a bounded number of times). `false` when it could not be read whole.
pub(crate) fn held(e: &Inner) -> (Vec<HeldDump>, bool) {
    for _ in 0..HELD_TRIES {
        if let Some(read) = crate::sync::held::read(e) {
            return (
                read.locks.iter().map(HeldDump::from).collect(),
                read.unread == 0,
            );
        }
        std::thread::yield_now();
    }
    (Vec::new(), false)
}

impl From<&HeldLock> for HeldDump {
    fn from(h: &HeldLock) -> Self {
        HeldDump {
            object: h.object,
            location: h.location,
        }
    }
}

impl Dump {
    /// Every thread, by ident (the order they were first seen by threadkit).
    ///
    /// # Examples
    ///
    /// ```
    /// let dump = threadkit::observe::dump();
    /// assert!(dump.threads().windows(2).all(|w| w[0].ident() < w[1].ident()));
    /// ```
    pub fn threads(&self) -> &[ThreadDump] {
        &self.threads
    }

    /// The thread whose ident is `ident`, if the dump has it.
    ///
    /// # Examples
    ///
    /// ```
    /// let dump = threadkit::observe::dump();
    /// assert!(dump.thread(threadkit::main_thread().ident().unwrap()).unwrap().is_main());
    /// assert!(dump.thread(0).is_none());
    /// ```
    pub fn thread(&self, ident: u64) -> Option<&ThreadDump> {
        self.threads.iter().find(|t| t.ident == ident)
    }

    /// True if the registry's table could not be read (a thread stopped while holding its
    /// lock): then the dump lists the calling thread alone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!threadkit::observe::dump().is_partial());
    /// ```
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The dump as JSON: `{"partial": false, "threads": [{"name", "ident", "native_id",
    /// "daemon", "main", "state" ("running" or "blocked"), "wait": {"kind", "object":
    /// {"kind", "name", "addr"}, "owner", "owner_name", "owner_depth" (an `RLock` holder's
    /// recursion depth, else null), "file", "line", "column",
    /// "waited_ms", "timed", "backtrace" (text, or null: see [`WaitDump::backtrace`])} or null, "holds": [{"object", "file", "line", "column"}]}]}`.
    ///
    /// # Examples
    ///
    /// ```
    /// let json = threadkit::observe::dump().to_json();
    /// let v: serde_json::Value = serde_json::from_str(&json)?;
    /// assert_eq!(v["partial"], false);
    /// assert!(v["threads"].as_array().unwrap().iter().any(|t| t["name"] == "MainThread"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_value()).unwrap_or_default()
    }

    #[cfg(feature = "serde")]
    fn to_value(&self) -> serde_json::Value {
        use serde_json::json;
        let threads: Vec<_> = self
            .threads
            .iter()
            .map(|t| {
                let wait = t.wait.as_ref().map(WaitDump::to_value);
                let holds: Vec<_> = t
                    .holds
                    .iter()
                    .map(|h| {
                        json!({"object": object_value(h.object), "file": h.location.file(),
                               "line": h.location.line(), "column": h.location.column()})
                    })
                    .collect();
                json!({
                    "name": t.name, "ident": t.ident, "native_id": t.native_id,
                    "daemon": t.daemon, "main": t.main,
                    "state": if t.wait.is_some() { "blocked" } else { "running" },
                    "wait": wait, "holds": holds,
                })
            })
            .collect();
        json!({"partial": self.partial, "threads": threads})
    }
}

/// An object as the JSON of dumps and deadlock reports shows it: `{"kind", "name", "addr"}`.
#[cfg(feature = "serde")]
pub(crate) fn object_value(o: ObjectId) -> serde_json::Value {
    serde_json::json!({"kind": o.kind().as_str(), "name": o.name(), "addr": o.addr()})
}

#[cfg(feature = "serde")]
impl WaitDump {
    /// The wait as JSON, the same in dumps and deadlock reports (see [`Dump::to_json`]).
    pub(crate) fn to_value(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind.to_string(),
            "object": object_value(self.object),
            "owner": self.owner,
            "owner_name": self.owner_name,
            "owner_depth": self.owner_depth,
            "file": self.location.file(),
            "line": self.location.line(),
            "column": self.location.column(),
            "waited_ms": self.waited.as_secs_f64() * 1e3,
            "timed": self.timed,
            "backtrace": self.backtrace.as_ref().map(|b| b.to_string()),
        })
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Dump {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl ThreadDump {
    /// The thread's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let dump = threadkit::observe::dump();
    /// let main = dump.threads().iter().find(|t| t.is_main()).unwrap();
    /// assert_eq!(main.name(), "MainThread");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The thread's [ident](crate::Thread::ident).
    ///
    /// # Examples
    ///
    /// ```
    /// let dump = threadkit::observe::dump();
    /// assert!(dump.thread(threadkit::get_ident()).is_some());
    /// ```
    pub fn ident(&self) -> u64 {
        self.ident
    }

    /// The kernel's id of the thread (0 where unknown).
    ///
    /// # Examples
    ///
    /// ```
    /// let dump = threadkit::observe::dump();
    /// let me = dump.thread(threadkit::get_ident()).unwrap();
    /// assert_eq!(me.native_id(), threadkit::get_native_id());
    /// ```
    pub fn native_id(&self) -> u64 {
        self.native_id
    }

    /// Whether it is a daemon thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let dump = threadkit::observe::dump();
    /// assert!(!dump.threads().iter().find(|t| t.is_main()).unwrap().is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.daemon
    }

    /// Whether it is the main thread.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadkit::observe::dump().threads().iter().filter(|t| t.is_main()).count(), 1);
    /// ```
    pub fn is_main(&self) -> bool {
        self.main
    }

    /// What it was blocked on, `None` if it was running.
    ///
    /// # Examples
    ///
    /// ```
    /// let dump = threadkit::observe::dump();
    /// assert!(dump.thread(threadkit::get_ident()).unwrap().wait().is_none());
    /// ```
    pub fn wait(&self) -> Option<&WaitDump> {
        self.wait.as_ref()
    }

    /// The locks it held, oldest first: those taken while held-lock tracking was on (empty
    /// while it is off).
    ///
    /// # Examples
    ///
    /// ```
    /// threadkit::observe::set_held_tracking(false);
    /// let lock = threadkit::Lock::new();
    /// let _g = lock.guard();
    /// let dump = threadkit::observe::dump();
    /// assert!(dump.thread(threadkit::get_ident()).unwrap().holds().is_empty());
    /// ```
    pub fn holds(&self) -> &[HeldDump] {
        &self.holds
    }
}

impl WaitDump {
    /// What kind of wait.
    ///
    /// # Examples
    ///
    /// See [`WaitDump`].
    ///
    /// ```
    /// assert_eq!(threadkit::WaitKind::Lock.to_string(), "lock");
    /// ```
    pub fn kind(&self) -> WaitKind {
        self.kind
    }

    /// The object waited on (kind, name, address).
    ///
    /// # Examples
    ///
    /// See [`WaitDump`].
    ///
    /// ```
    /// assert_eq!(threadkit::Lock::named("x").id().name(), Some("x"));
    /// ```
    pub fn object(&self) -> ObjectId {
        self.object
    }

    /// The ident of the thread holding the object when the dump read it (a lock's holder, a
    /// joined thread, a future's worker), `None` when none or unknown.
    ///
    /// # Examples
    ///
    /// See [`Dump`].
    ///
    /// ```
    /// assert!(threadkit::observe::dump().threads().iter().all(|t| t.wait().is_none_or(|w| w.owner_ident() != Some(0))));
    /// ```
    pub fn owner_ident(&self) -> Option<u64> {
        self.owner
    }

    /// The owner's name, if the owner was in the dump.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::dump().threads().iter().all(|t| t.wait().is_none_or(|w| w.owner_name().is_none() || w.owner_ident().is_some())));
    /// ```
    pub fn owner_name(&self) -> Option<&str> {
        self.owner_name.as_deref()
    }

    /// The owner's recursion depth when the dump read it: for a wait on an
    /// [`RLock`](crate::RLock) (also a `Condition` over one, taking it back), how many times
    /// its holder has taken it; `None` for objects without one, or when nobody holds it. (A
    /// [`ReentrantMutex`](crate::ReentrantMutex) keeps its count inside lock_api, out of
    /// reach: none.) A snapshot the holder writes: it may be a level behind.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{RLock, Thread, observe};
    ///
    /// static LOG: RLock = RLock::named("log");
    /// let (a, b) = (LOG.guard(), LOG.guard()); // depth 2
    /// let t = Thread::new(|| drop(LOG.guard()));
    /// t.start()?;
    /// let ident = t.ident().unwrap();
    /// let wait = loop {
    ///     if let Some(w) = observe::dump().thread(ident).and_then(|t| t.wait().cloned()) { break w; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(wait.owner_ident(), threadkit::current_thread().ident());
    /// assert_eq!(wait.owner_depth(), Some(2));
    /// assert!(wait.to_string().contains(", recursion depth 2"));
    /// drop((b, a));
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owner_depth(&self) -> Option<usize> {
        self.owner_depth
    }

    /// Where in the caller's code the wait was made.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::dump().threads().iter().all(|t| t.wait().is_none_or(|w| w.location().line() > 0)));
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// When the blocking operation began.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = std::time::Instant::now();
    /// assert!(threadkit::observe::dump().threads().iter().all(|t| t.wait().is_none_or(|w| w.since() <= now + std::time::Duration::from_secs(1))));
    /// ```
    pub fn since(&self) -> Instant {
        self.since
    }

    /// How long it had waited when the dump was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadkit::observe::dump().threads().iter().all(|t| t.wait().is_none_or(|w| w.waited() < std::time::Duration::from_secs(3600))));
    /// ```
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// Whether the wait has a deadline (so it ends on its own).
    ///
    /// # Examples
    ///
    /// See [`WaitDump`].
    ///
    /// ```
    /// assert!(threadkit::observe::dump().thread(threadkit::get_ident()).unwrap().wait().is_none());
    /// ```
    pub fn timed(&self) -> bool {
        self.timed
    }

    /// Where the wait was called from, captured when it began, while wait backtraces
    /// ([`set_wait_backtraces`](super::backtrace::set_wait_backtraces)) were on; `None`
    /// otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{Event, Thread, observe};
    ///
    /// static GO: Event = Event::named("bt-go");
    /// observe::backtrace::set_wait_backtraces(true);
    /// let t = Thread::new(|| GO.wait());
    /// t.start()?;
    /// let ident = t.ident().unwrap();
    /// // The backtrace is taken just after the wait is recorded: a dump may see the wait a
    /// // moment before its backtrace.
    /// let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    /// let wait = loop {
    ///     let w = observe::dump().thread(ident).and_then(|t| t.wait().cloned());
    ///     let seen = w.as_ref().is_some_and(|w| w.backtrace().is_some());
    ///     if seen || std::time::Instant::now() > deadline {
    ///         break w;
    ///     }
    ///     std::thread::yield_now();
    /// };
    /// observe::backtrace::set_wait_backtraces(false);
    /// GO.set(); // before asserting: a failed assert must not leave the thread waiting
    /// t.join()?;
    /// assert!(wait.is_some_and(|w| w.backtrace().is_some()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backtrace(&self) -> Option<&std::backtrace::Backtrace> {
        self.backtrace.as_deref()
    }
}

impl HeldDump {
    /// The lock held.
    ///
    /// # Examples
    ///
    /// See [`HeldDump`].
    ///
    /// ```
    /// threadkit::observe::set_held_tracking(true);
    /// let l = threadkit::Lock::named("l");
    /// let _g = l.guard();
    /// let d = threadkit::observe::dump();
    /// assert!(d.thread(threadkit::get_ident()).unwrap().holds().iter().any(|h| h.object() == l.id()));
    /// ```
    pub fn object(&self) -> ObjectId {
        self.object
    }

    /// Where it was taken.
    ///
    /// # Examples
    ///
    /// See [`HeldDump`].
    ///
    /// ```
    /// threadkit::observe::set_held_tracking(true);
    /// let l = threadkit::Lock::new();
    /// let _g = l.guard(); let line = line!();
    /// let d = threadkit::observe::dump();
    /// let h = d.thread(threadkit::get_ident()).unwrap().holds().iter().find(|h| h.object() == l.id()).copied().unwrap();
    /// assert_eq!(h.location().line(), line);
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

impl fmt::Display for WaitDump {
    /// `blocked on Lock "db" at 0x... (lock) for 1.250s` then the location and the owner on
    /// indented lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "blocked on {} ({}{}) for {:.3}s\n        at {}",
            self.object,
            self.kind,
            if self.timed { ", timed" } else { "" },
            self.waited.as_secs_f64(),
            self.location
        )?;
        if let Some(owner) = self.owner {
            let verb = owner_verb(self.kind);
            match &self.owner_name {
                Some(name) => write!(f, "\n        {verb} {name:?} ident={owner}")?,
                None => write!(f, "\n        {verb} ident={owner}")?,
            }
            if let Some(depth) = self.owner_depth {
                write!(f, ", recursion depth {depth}")?;
            }
        }
        if let Some(trace) = &self.backtrace {
            write_backtrace(f, trace, "        ")?;
        }
        Ok(())
    }
}

/// A wait's backtrace as dumps and deadlock reports print it: `backtrace:` on a line of its
/// own, indented by `indent`, then each line of the trace two spaces further in.
pub(crate) fn write_backtrace(
    f: &mut fmt::Formatter<'_>,
    trace: &std::backtrace::Backtrace,
    indent: &str,
) -> fmt::Result {
    write!(f, "\n{indent}backtrace:")?;
    for line in trace.to_string().lines() {
        write!(f, "\n{indent}  {line}")?;
    }
    Ok(())
}

/// How a report names a wait's owner: a lock's holder, a future's worker, a joined thread.
pub(crate) fn owner_verb(kind: WaitKind) -> &'static str {
    match kind {
        WaitKind::Future => "run by",
        WaitKind::Join | WaitKind::Start => "which is",
        _ => "held by",
    }
}

impl fmt::Display for ThreadDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} ident={} native_id={}",
            self.name, self.ident, self.native_id
        )?;
        if self.main {
            f.write_str(" main")?;
        }
        if self.daemon {
            f.write_str(" daemon")?;
        }
        match &self.wait {
            Some(w) => write!(f, "\n    {w}")?,
            None => f.write_str("\n    running")?,
        }
        for h in &self.holds {
            write!(f, "\n    holds {}, taken at {}", h.object, h.location)?;
        }
        if !self.holds_known {
            f.write_str("\n    holds: unknown (its list was busy)")?;
        }
        Ok(())
    }
}

impl fmt::Display for Dump {
    /// `threadkit thread dump: N threads` (`, partial: ...` when the registry could not be
    /// read), then each thread as a block, a blank line between.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "threadkit thread dump: {} threads", self.threads.len())?;
        if self.partial {
            f.write_str(" (partial: the registry was locked; the calling thread only)")?;
        }
        for t in &self.threads {
            write!(f, "\n\n{t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_while_the_registry_is_locked_is_partial_and_lists_the_caller() {
        let me = crate::current_thread();
        assert!(!dump().is_partial()); // the main entry exists, this thread is bound
        // Another thread holds the table lock, as one stopped in a debugger would.
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let guard = registry::hold_table();
            held_tx.send(()).unwrap();
            let _ = done_rx.recv();
            drop(guard);
        });
        held_rx.recv().unwrap();
        let d = dump();
        done_tx.send(()).unwrap();
        holder.join().unwrap();
        assert!(d.is_partial());
        assert_eq!(d.threads().len(), 1);
        assert_eq!(d.threads()[0].ident(), me.ident().unwrap());
        assert!(d.to_string().starts_with(
            "threadkit thread dump: 1 threads (partial: the registry was locked; the calling thread only)"
        ));
        assert!(!dump().is_partial());
    }
}
