//! The timeline: an opt-in recorder of thread starts and ends and of every block and
//! unblock, switched on and off at run time, and its two exports: Chrome trace-event JSON
//! (opens in Perfetto and `chrome://tracing`; with the `serde` feature) and one
//! self-contained HTML page with a lane per thread.
//!
//! # Recording
//!
//! [`start`] begins a new recording (dropping the previous one), [`stop`] ends it,
//! [`snapshot`] reads what was recorded so far into a [`Timeline`], while recording or after.
//! While the recorder is off, every recording call costs one relaxed atomic load. While it is
//! on, a thread appends to its own buffer (an uncontended lock that only a snapshot shares),
//! so threads never wait for each other to record. A recording grows until it is stopped and
//! a new one started.
//!
//! # Input API for the wait path
//!
//! The crate's wait path and thread lifecycle call these crate-private functions; each is
//! `#[inline]` and returns at once when the recorder is off:
//!
//! - `thread_started(ident, name)` on the new thread, before it runs its target;
//! - `thread_ended(ident)` on the thread, as its last act (it may run during thread-local
//!   destruction; the event is kept);
//! - `blocked(ident, kind, object, name, location)` just before a thread parks: `kind` is
//!   the primitive as a short word (`WaitKind`'s `Display`: "lock", "condition", ...),
//!   `object` its id, `name` its name if it has one, `location` the user's line;
//! - `unblocked(ident)` when it wakes for good.
//!
//! A thread blocks on one thing at a time, so an unblock closes the thread's open block.
//!
//! # Examples
//!
//! ```
//! use threadkit::observe::timeline;
//!
//! timeline::start();
//! timeline::mark("checkpoint");
//! timeline::stop();
//! let t = timeline::snapshot();
//! let me = threadkit::get_ident();
//! let lane = t.lanes().into_iter().find(|l| l.thread == me).unwrap();
//! assert_eq!(lane.marks[0].1, "checkpoint");
//! let page = t.to_html();
//! assert!(page.contains(&format!("data-thread=\"{me}\"")));
//! ```

use std::cell::OnceCell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

#[cfg(feature = "serde")]
mod chrome;
mod html;

/// Whether the recorder is on: the only thing a recording call reads while it is off.
static RECORDING: AtomicBool = AtomicBool::new(false);

/// The recorder's shared state: touched by start, stop and snapshot, and once per thread per
/// process when the thread first records (never on the recording path itself).
static STATE: Mutex<State> = Mutex::new(State {
    epoch: None,
    stopped_at: None,
    buffers: Vec::new(),
    orphans: Vec::new(),
});

struct State {
    /// When the current (or last) recording started; `None` before the first.
    epoch: Option<Instant>,
    /// When it stopped; `None` while it runs.
    stopped_at: Option<Instant>,
    /// Every thread's buffer; a buffer whose thread ended (only this list holds it) is
    /// dropped by the next `start`.
    buffers: Vec<Arc<Buffer>>,
    /// Events of threads whose thread-local buffer was already destroyed.
    orphans: Vec<Raw>,
}

/// One thread's events, appended by that thread only.
struct Buffer {
    events: Mutex<Vec<Raw>>,
}

/// An event as recorded, timed by the clock.
struct Raw {
    at: Instant,
    thread: u64,
    kind: EventKind,
}

thread_local! {
    static LOCAL: OnceCell<Arc<Buffer>> = const { OnceCell::new() };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while appending leaves a valid Vec: keep recording.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts a new recording, dropping the events of the previous one; returns false (and
/// changes nothing) if a recording is already running.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline;
///
/// assert!(timeline::start());
/// assert!(!timeline::start()); // already recording
/// assert!(timeline::is_recording());
/// assert!(timeline::stop());
/// ```
pub fn start() -> bool {
    let mut state = lock(&STATE);
    if RECORDING.load(Ordering::Relaxed) {
        return false;
    }
    state.buffers.retain(|b| Arc::strong_count(b) > 1);
    for b in &state.buffers {
        lock(&b.events).clear();
    }
    state.orphans.clear();
    state.epoch = Some(Instant::now());
    state.stopped_at = None;
    RECORDING.store(true, Ordering::Relaxed);
    true
}

/// Stops the recording; its events stay readable through [`snapshot`] until the next
/// [`start`]. Returns false (and changes nothing) if no recording was running.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline;
///
/// timeline::start();
/// assert!(timeline::stop());
/// assert!(!timeline::stop());
/// assert!(!timeline::is_recording());
/// ```
pub fn stop() -> bool {
    let mut state = lock(&STATE);
    if !RECORDING.load(Ordering::Relaxed) {
        return false;
    }
    RECORDING.store(false, Ordering::Relaxed);
    state.stopped_at = Some(Instant::now());
    true
}

/// Whether a recording is running.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline;
///
/// timeline::start();
/// assert!(timeline::is_recording());
/// timeline::stop();
/// assert!(!timeline::is_recording());
/// ```
#[must_use]
pub fn is_recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

/// The events of the current recording so far, or of the last one if it has stopped (an
/// empty timeline before the first).
///
/// The timeline ends now, or when the recording stopped; a wait still open then is shown
/// as unfinished. A thread that started before the recording gets its name from the
/// thread registry, as a [`EventKind::ThreadName`] at time 0.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline::{self, EventKind};
///
/// timeline::start();
/// timeline::mark("one");
/// timeline::mark("two");
/// timeline::stop();
/// let me = threadkit::get_ident();
/// let recorded = timeline::snapshot();
/// let marks: Vec<&EventKind> = recorded
///     .events()
///     .iter()
///     .filter(|e| e.thread == me && matches!(e.kind, EventKind::Mark { .. }))
///     .map(|e| &e.kind)
///     .collect();
/// assert_eq!(
///     marks,
///     [&EventKind::Mark { name: "one".into() }, &EventKind::Mark { name: "two".into() }]
/// );
/// ```
#[must_use]
pub fn snapshot() -> Timeline {
    let (epoch, end, mut raw) = {
        let state = lock(&STATE);
        let Some(epoch) = state.epoch else {
            return Timeline::from_events(Vec::new(), 0);
        };
        let end = state.stopped_at.unwrap_or_else(Instant::now);
        let mut raw: Vec<(Instant, u64, EventKind)> = Vec::new();
        let keep = |r: &Raw| r.at >= epoch && r.at <= end;
        for b in &state.buffers {
            let events = lock(&b.events);
            raw.extend(
                events
                    .iter()
                    .filter(|r| keep(r))
                    .map(|r| (r.at, r.thread, r.kind.clone())),
            );
        }
        let orphans = state.orphans.iter().filter(|r| keep(r));
        raw.extend(orphans.map(|r| (r.at, r.thread, r.kind.clone())));
        (epoch, end, raw)
    };
    // Each buffer is in time order; merge them (stable, so one thread's events keep their
    // order even under equal times).
    raw.sort_by_key(|&(at, _, _)| at);
    let ns = |at: Instant| u64::try_from((at - epoch).as_nanos()).unwrap_or(u64::MAX);
    let mut named: HashMap<u64, bool> = HashMap::new();
    for (_, thread, kind) in &raw {
        let has_name = matches!(kind, EventKind::ThreadStart { .. });
        *named.entry(*thread).or_default() |= has_name;
    }
    let mut events: Vec<Event> = Vec::with_capacity(raw.len());
    for t in crate::enumerate() {
        if let Some(ident) = t.ident()
            && named.get(&ident) == Some(&false)
        {
            events.push(Event {
                thread: ident,
                at_ns: 0,
                kind: EventKind::ThreadName { name: t.name() },
            });
        }
    }
    events.extend(raw.into_iter().map(|(at, thread, kind)| Event {
        thread,
        at_ns: ns(at),
        kind,
    }));
    Timeline::from_events(events, ns(end))
}

/// Records an instant event named `name` on the calling thread's lane, if the recorder is
/// on.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline;
///
/// timeline::start();
/// timeline::mark(format!("batch {}", 7));
/// timeline::stop();
/// let me = threadkit::get_ident();
/// let lanes = timeline::snapshot().lanes();
/// let lane = lanes.iter().find(|l| l.thread == me).unwrap();
/// assert_eq!(lane.marks.len(), 1);
/// assert_eq!(lane.marks[0].1, "batch 7");
/// ```
#[inline]
pub fn mark(name: impl Into<String>) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    record(crate::get_ident(), EventKind::Mark { name: name.into() });
}

/// A thread starts running its target (called on that thread).
#[inline]
pub(crate) fn thread_started(ident: u64, name: &str) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    record(
        ident,
        EventKind::ThreadStart {
            name: name.to_owned(),
        },
    );
}

/// A thread ends (called on that thread, as its last act).
#[inline]
pub(crate) fn thread_ended(ident: u64) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    record(ident, EventKind::ThreadEnd);
}

/// A thread is about to park on `object` (called on that thread).
#[inline]
pub(crate) fn blocked(
    ident: u64,
    kind: &'static str,
    object: u64,
    name: Option<&str>,
    location: &'static Location<'static>,
) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    let name = name.map(str::to_owned);
    record(
        ident,
        EventKind::Blocked {
            kind,
            object,
            name,
            location,
        },
    );
}

/// A thread's wait ended at `at` (called on that thread, with the clock it read anyway).
#[inline]
pub(crate) fn unblocked_at(ident: u64, at: Instant) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    record_at(ident, EventKind::Unblocked, at);
}

/// A thread's wait is over (called on that thread).
#[inline]
#[allow(dead_code)]
pub(crate) fn unblocked(ident: u64) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    record(ident, EventKind::Unblocked);
}

#[cold]
fn record(thread: u64, kind: EventKind) {
    record_at(thread, kind, Instant::now());
}

/// [`record`] at a time the caller has read already.
#[cold]
fn record_at(thread: u64, kind: EventKind, at: Instant) {
    let event = Raw { at, thread, kind };
    let mut event = Some(event);
    let _ = LOCAL.try_with(|cell| {
        let buffer = cell.get_or_init(|| {
            let buffer = Arc::new(Buffer {
                events: Mutex::new(Vec::new()),
            });
            lock(&STATE).buffers.push(buffer.clone());
            buffer
        });
        lock(&buffer.events).extend(event.take());
    });
    // The thread-local buffer is gone (the thread is being torn down): keep the event.
    if let Some(event) = event {
        lock(&STATE).orphans.push(event);
    }
}

/// One recorded event: which thread, when (nanoseconds since the recording started), what.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline::{Event, EventKind};
///
/// let e = Event { thread: 1, at_ns: 1_500, kind: EventKind::ThreadEnd };
/// assert_eq!(e.at_ns, 1_500);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The thread's ident.
    pub thread: u64,
    /// Nanoseconds since the recording started.
    pub at_ns: u64,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] records.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline::EventKind;
///
/// let here = std::panic::Location::caller();
/// let b = EventKind::Blocked { kind: "lock", object: 7, name: Some("db".into()), location: here };
/// assert!(matches!(b, EventKind::Blocked { object: 7, .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// The thread started.
    ThreadStart {
        /// Its name.
        name: String,
    },
    /// The thread's name, for a thread that started before the recording.
    ThreadName {
        /// Its name.
        name: String,
    },
    /// The thread ended.
    ThreadEnd,
    /// The thread parked on an object.
    Blocked {
        /// The kind of primitive, as a short word: "lock", "condition", "queue get", ...
        kind: &'static str,
        /// The object's id.
        object: u64,
        /// The object's name, if it has one.
        name: Option<String>,
        /// Where the user's code waits.
        location: &'static Location<'static>,
    },
    /// The thread's wait (its last `Blocked`) is over.
    Unblocked,
    /// A point in time the program marked ([`mark`]).
    Mark {
        /// The mark's name.
        name: String,
    },
}

/// A recorded timeline: events in time order, up to an end time.
///
/// [`snapshot`] makes one from the recorder; [`from_events`](Self::from_events) from any
/// list of events (to render a recording kept elsewhere, or in tests). [`lanes`](Self::lanes)
/// gives one lane per thread with its waits as spans; [`to_html`](Self::to_html) and
/// `to_chrome_json` (with the `serde` feature) export it.
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline::{Event, EventKind, Timeline};
///
/// let here = std::panic::Location::caller();
/// let t = Timeline::from_events(
///     vec![
///         Event { thread: 1, at_ns: 0, kind: EventKind::ThreadStart { name: "main".into() } },
///         Event {
///             thread: 1,
///             at_ns: 1_000,
///             kind: EventKind::Blocked { kind: "lock", object: 7, name: None, location: here },
///         },
///         Event { thread: 1, at_ns: 4_000, kind: EventKind::Unblocked },
///     ],
///     10_000,
/// );
/// let lanes = t.lanes();
/// assert_eq!(lanes[0].name.as_deref(), Some("main"));
/// assert_eq!((lanes[0].spans[0].start_ns, lanes[0].spans[0].end_ns), (1_000, 4_000));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    events: Vec<Event>,
    end_ns: u64,
}

impl Timeline {
    /// A timeline of `events` (put in time order, stably) ending at `end_ns`, which is raised
    /// to the last event's time if that is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::timeline::{Event, EventKind, Timeline};
    ///
    /// let t = Timeline::from_events(
    ///     vec![
    ///         Event { thread: 2, at_ns: 50, kind: EventKind::ThreadEnd },
    ///         Event { thread: 2, at_ns: 10, kind: EventKind::Mark { name: "m".into() } },
    ///     ],
    ///     20,
    /// );
    /// assert_eq!(t.events()[0].at_ns, 10);
    /// assert_eq!(t.end_ns(), 50);
    /// ```
    #[must_use]
    pub fn from_events(mut events: Vec<Event>, end_ns: u64) -> Self {
        events.sort_by_key(|e| e.at_ns);
        let last = events.last().map_or(0, |e| e.at_ns);
        Timeline {
            events,
            end_ns: end_ns.max(last),
        }
    }

    /// The events, in time order.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::timeline::Timeline;
    ///
    /// assert!(Timeline::from_events(Vec::new(), 0).events().is_empty());
    /// ```
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// When the timeline ends, in nanoseconds since it started.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::timeline::Timeline;
    ///
    /// assert_eq!(Timeline::from_events(Vec::new(), 42).end_ns(), 42);
    /// ```
    #[must_use]
    pub fn end_ns(&self) -> u64 {
        self.end_ns
    }

    /// One lane per thread that has an event, in order of each thread's first event (then
    /// by ident), with its waits paired into spans.
    ///
    /// A `Blocked` opens a span and the thread's next `Unblocked` closes it; a span still
    /// open at the end (or when the thread blocks again or ends) is closed there and marked
    /// unfinished. An `Unblocked` with no open span (a wait that began before the recording)
    /// is left out: what it waited on is unknown.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::timeline::{Event, EventKind, Timeline};
    ///
    /// let here = std::panic::Location::caller();
    /// let wait = EventKind::Blocked { kind: "event", object: 3, name: None, location: here };
    /// let t = Timeline::from_events(vec![Event { thread: 9, at_ns: 5, kind: wait }], 100);
    /// let lanes = t.lanes();
    /// assert_eq!(lanes.len(), 1);
    /// assert_eq!(lanes[0].thread, 9);
    /// assert_eq!(lanes[0].spans[0].end_ns, 100);
    /// assert!(!lanes[0].spans[0].finished);
    /// ```
    #[must_use]
    pub fn lanes(&self) -> Vec<Lane> {
        let mut lanes: Vec<Lane> = Vec::new();
        let mut at: HashMap<u64, usize> = HashMap::new();
        // Per lane: the open span, if any.
        let mut open: Vec<Option<Span>> = Vec::new();
        for e in &self.events {
            let i = *at.entry(e.thread).or_insert_with(|| {
                lanes.push(Lane {
                    thread: e.thread,
                    name: None,
                    start_ns: None,
                    end_ns: None,
                    spans: Vec::new(),
                    marks: Vec::new(),
                });
                open.push(None);
                lanes.len() - 1
            });
            let lane = &mut lanes[i];
            match &e.kind {
                EventKind::ThreadStart { name } => {
                    lane.name = Some(name.clone());
                    lane.start_ns = Some(e.at_ns);
                }
                EventKind::ThreadName { name } => {
                    lane.name.get_or_insert_with(|| name.clone());
                }
                EventKind::ThreadEnd => {
                    lane.end_ns = Some(e.at_ns);
                    if let Some(span) = open[i].take() {
                        lane.spans.push(Span {
                            end_ns: e.at_ns,
                            ..span
                        });
                    }
                }
                EventKind::Blocked {
                    kind,
                    object,
                    name,
                    location,
                } => {
                    if let Some(span) = open[i].take() {
                        lane.spans.push(Span {
                            end_ns: e.at_ns,
                            ..span
                        });
                    }
                    open[i] = Some(Span {
                        kind,
                        object: *object,
                        name: name.clone(),
                        location,
                        start_ns: e.at_ns,
                        end_ns: e.at_ns,
                        finished: false,
                    });
                }
                EventKind::Unblocked => {
                    if let Some(span) = open[i].take() {
                        lane.spans.push(Span {
                            end_ns: e.at_ns,
                            finished: true,
                            ..span
                        });
                    }
                }
                EventKind::Mark { name } => lane.marks.push((e.at_ns, name.clone())),
            }
        }
        for (lane, span) in lanes.iter_mut().zip(open) {
            if let Some(span) = span {
                lane.spans.push(Span {
                    end_ns: self.end_ns,
                    ..span
                });
            }
        }
        lanes
    }

    /// The timeline as one self-contained HTML page (inline CSS, SVG and a little script;
    /// nothing loaded from the network): a lane per thread with its life as a grey bar,
    /// its waits as spans coloured by primitive kind, a legend, and a title on every span
    /// (kind, object, name, source line, duration) shown on hover.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::timeline::{Event, EventKind, Timeline};
    ///
    /// let here = std::panic::Location::caller();
    /// let events = vec![
    ///     Event { thread: 1, at_ns: 0, kind: EventKind::ThreadStart { name: "a<b>".into() } },
    ///     Event {
    ///         thread: 1,
    ///         at_ns: 10,
    ///         kind: EventKind::Blocked { kind: "lock", object: 7, name: None, location: here },
    ///     },
    /// ];
    /// let page = Timeline::from_events(events, 100).to_html();
    /// assert!(page.starts_with("<!DOCTYPE html>"));
    /// assert!(page.contains("a&lt;b&gt;")); // names are escaped
    /// assert!(page.contains("data-kind=\"lock\""));
    /// assert!(!page.contains("http://") && !page.contains("https://"));
    /// ```
    #[must_use]
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// The timeline as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
    /// `chrome://tracing` open: a `thread_name` metadata event per lane, each wait an `X`
    /// (complete) event named by its kind and object name (or `#id`), with the object id, the
    /// source line and whether it finished in `args`; thread starts, ends and marks are
    /// thread-scoped instant events. Times are microseconds since the recording started.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::observe::timeline::{Event, EventKind, Timeline};
    ///
    /// let here = std::panic::Location::caller();
    /// let events = vec![
    ///     Event { thread: 1, at_ns: 0, kind: EventKind::ThreadStart { name: "main".into() } },
    ///     Event {
    ///         thread: 1,
    ///         at_ns: 1_000,
    ///         kind: EventKind::Blocked { kind: "lock", object: 7, name: Some("db".into()), location: here },
    ///     },
    ///     Event { thread: 1, at_ns: 3_500, kind: EventKind::Unblocked },
    /// ];
    /// let json = Timeline::from_events(events, 5_000).to_chrome_json();
    /// let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    /// let wait = &v["traceEvents"][4];
    /// assert_eq!(wait["ph"], "X");
    /// assert_eq!(wait["name"], "lock db");
    /// assert_eq!((wait["ts"].as_f64(), wait["dur"].as_f64()), (Some(1.0), Some(2.5)));
    /// ```
    #[cfg(feature = "serde")]
    #[must_use]
    pub fn to_chrome_json(&self) -> String {
        chrome::render(self)
    }
}

/// One thread's row of a [`Timeline`]: see [`Timeline::lanes`].
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline::{Event, EventKind, Timeline};
///
/// let t = Timeline::from_events(
///     vec![
///         Event { thread: 4, at_ns: 1, kind: EventKind::ThreadStart { name: "w".into() } },
///         Event { thread: 4, at_ns: 9, kind: EventKind::ThreadEnd },
///     ],
///     10,
/// );
/// let lane = &t.lanes()[0];
/// assert_eq!((lane.start_ns, lane.end_ns), (Some(1), Some(9)));
/// assert!(lane.spans.is_empty() && lane.marks.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The thread's ident.
    pub thread: u64,
    /// Its name, if the timeline has it.
    pub name: Option<String>,
    /// When it started, if that is in the timeline.
    pub start_ns: Option<u64>,
    /// When it ended, if that is in the timeline.
    pub end_ns: Option<u64>,
    /// Its waits, in time order.
    pub spans: Vec<Span>,
    /// Its marks: time and name.
    pub marks: Vec<(u64, String)>,
}

/// One wait in a [`Lane`].
///
/// # Examples
///
/// ```
/// use threadkit::observe::timeline::{Event, EventKind, Timeline};
///
/// let here = std::panic::Location::caller();
/// let t = Timeline::from_events(
///     vec![
///         Event {
///             thread: 1,
///             at_ns: 2,
///             kind: EventKind::Blocked { kind: "rlock", object: 5, name: Some("r".into()), location: here },
///         },
///         Event { thread: 1, at_ns: 8, kind: EventKind::Unblocked },
///     ],
///     10,
/// );
/// let span = &t.lanes()[0].spans[0];
/// assert_eq!((span.kind, span.object, span.name.as_deref()), ("rlock", 5, Some("r")));
/// assert_eq!((span.start_ns, span.end_ns, span.finished), (2, 8, true));
/// assert_eq!(span.location.line(), here.line());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The kind of primitive ("lock", "condition", ...).
    pub kind: &'static str,
    /// The object's id.
    pub object: u64,
    /// The object's name, if it has one.
    pub name: Option<String>,
    /// Where the user's code waited.
    pub location: &'static Location<'static>,
    /// When the wait began.
    pub start_ns: u64,
    /// When it ended, or the end of the timeline (or of the thread) if it had not.
    pub end_ns: u64,
    /// Whether the wait's end was recorded.
    pub finished: bool,
}

#[cfg(test)]
mod tests;
